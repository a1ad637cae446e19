# Paths shared by every script of the interop suite (sourced).
#   INTEROP     this folder (tests/interop)
#   IKEINT_CACHE  installed/unpacked pieces and the guest's initramfs
#                 (default INTEROP/.cache, git-ignored; .ci/run may point it
#                 at a persistent place)
#   IKEINT_OUT  results (default INTEROP/out, git-ignored); shared writable
#               with the guest
INTEROP=${INTEROP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
IKEINT_CACHE=${IKEINT_CACHE:-$INTEROP/.cache}
IKEINT_OUT=${IKEINT_OUT:-$INTEROP/out}
LSW_BIN="$IKEINT_CACHE/opt/libreswan/usr/libexec/ipsec"
export INTEROP IKEINT_CACHE IKEINT_OUT
kernel_version() { ls "$IKEINT_CACHE/opt/kernel/lib/modules" 2>/dev/null | head -n1; }
kernel_image() { echo "$IKEINT_CACHE/opt/kernel/boot/vmlinuz-$(kernel_version)"; }
