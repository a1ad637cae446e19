#!/bin/bash
# Boot a throw-away guest with Debian's stock kernel, the host's root file
# system shared read-only over virtio-9p and $IKEINT_OUT shared writable (same
# paths inside), run SCRIPT in it as root, wait at most TIMEOUT_S seconds.
# The guest has NO network device: all its traffic stays inside its kernel.
#
# Usage: vm/run-vm.sh SCRIPT TIMEOUT_S [KEY=VALUE ...]
#   KEY=VALUE pairs are exported to SCRIPT inside the guest (via vm-env).
#   IKEINT_KEEP="dir ..." host folders to keep visible when they live under
#     /tmp, /run, /var/... (the guest mounts scratch tmpfs there); the suite,
#     its cache and $CARGO_TARGET_DIR are kept anyway.
#   IKEINT_KVM=1 tries KVM instead of TCG (KVM on these machines is kvm-pvm,
#     which cannot boot a stock kernel, so TCG emulation is the default).
#   IKEINT_VM_CPUS (2), IKEINT_VM_MEM_MB (1536).
# Exit: SCRIPT's exit code; 124 on timeout; 98 if the guest never ran SCRIPT.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib/paths.sh"
SCRIPT=$(realpath "$1"); TIMEOUT=${2:-150}; shift 2 || shift $#
KERNEL=$(kernel_image)
INITRD="$IKEINT_CACHE/vm/initramfs.cpio.gz"
[ -f "$KERNEL" ] && [ -f "$INITRD" ] || { echo "run-vm: no guest kernel/initramfs: run setup.sh first" >&2; exit 98; }
mkdir -p "$IKEINT_OUT"
OUTDIR=$(cd "$IKEINT_OUT" && pwd)
rm -f "$OUTDIR/guest.rc" "$OUTDIR/guest-run.log" "$OUTDIR/guest-boot.log" "$OUTDIR/vm-console.log"
{
    printf 'export IKEINT_CACHE=%q INTEROP=%q\n' "$IKEINT_CACHE" "$INTEROP"
    for kv in "$@"; do
        case "$kv" in [A-Za-z_]*=*) printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}";; esac
    done
} > "$OUTDIR/vm-env"
KEEP="$(cd "$INTEROP/../.." && pwd) $IKEINT_CACHE ${CARGO_TARGET_DIR:-} ${IKEINT_KEEP:-}"
KEEPARGS=
for k in $KEEP; do KEEPARGS="$KEEPARGS ikeint.keep=$(realpath -m "$k")"; done
ACCEL=(-accel tcg -cpu max)
if [ "${IKEINT_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
    ACCEL=(-accel kvm -cpu "${IKEINT_KVM_CPU:-host}")
fi
nice -n "${IKEINT_NICE:-10}" qemu-system-x86_64 "${ACCEL[@]}" -m "${IKEINT_VM_MEM_MB:-1536}" \
    -smp "${IKEINT_VM_CPUS:-2}" -nodefaults -no-user-config \
    -display none -no-reboot -nic none \
    -serial "file:$OUTDIR/vm-console.log" \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 ${IKEINT_KCMD:-quiet loglevel=4} panic=-1 ikeint.init=$HERE/guest-init.sh ikeint.run=$SCRIPT ikeint.out=$OUTDIR$KEEPARGS" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$OUTDIR,mount_tag=ikeout,security_model=none,multidevs=remap" \
    > "$OUTDIR/qemu.log" 2>&1 &
QPID=$!
# never leave the guest behind (Ctrl-C, kill of this script): stop it by PID
trap 'kill "$QPID" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
i=0
while kill -0 "$QPID" 2>/dev/null && [ $i -lt $((TIMEOUT * 5)) ]; do sleep 0.2; i=$((i+1)); done
if kill -0 "$QPID" 2>/dev/null; then
    echo "run-vm: guest timeout after ${TIMEOUT}s, killing qemu pid $QPID" >&2
    kill "$QPID" 2>/dev/null; sleep 1; kill -9 "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
    exit 124
fi
wait "$QPID" 2>/dev/null
[ -f "$OUTDIR/guest.rc" ] || { echo "run-vm: the guest ended without a result; see $OUTDIR/vm-console.log $OUTDIR/qemu.log" >&2; exit 98; }
exit "$(cat "$OUTDIR/guest.rc")"
