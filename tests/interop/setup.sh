#!/bin/bash
# Install and unpack everything the interop suite needs (Debian 12, as root).
# Idempotent: a second run with everything in place makes no network access.
#
#   apt (installed):  strongSwan 5.9 (charon + swanctl + plugins; xauth-generic
#                     from libcharon-extauth-plugins for the remote-access
#                     stand-in), openssl (crypt(3) hashes for libreswan's
#                     XAUTH password file), tshark,
#                     nftables (the NAT cells' masquerading NAT, run in the guest),
#                     tcpdump, qemu-system-x86, iproute2, ping, jq, NSS tools,
#                     libreswan's shared-library dependencies
#   unpacked (dpkg -x, never installed) under $IKEINT_CACHE/opt/:
#     libreswan 4.10   it conflicts with strongSwan in Debian
#     linux-image      Debian's stock kernel for the throw-away guest (this
#                      machine's kernel has no ESP, no DES, no dummy driver)
#     busybox-static   the guest's initramfs
#   built: $IKEINT_CACHE/vm/initramfs.cpio.gz
#
# Usage: setup.sh           install what is missing, unpack, build the initramfs
#        setup.sh --check   exit 0 if everything is in place (no changes)
#        setup.sh --versions  print the versions in use
# Cache: IKEINT_CACHE (default tests/interop/.cache, git-ignored).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/paths.sh"

APT_PKGS=(strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
    libstrongswan-extra-plugins libcharon-extra-plugins libcharon-extauth-plugins openssl
    tshark tcpdump iputils-ping iproute2 kmod cpio qemu-system-x86 jq nftables
    libnss3-tools libcurl3-nss libevent-core-2.1-7 libevent-pthreads-2.1-7 libldns3
    libunbound8 libcap-ng0 libaudit1 libldap-2.5-0 libnspr4 libnss3 libpam0g libselinux1
    dns-root-data)
UNPACKED=(libreswan busybox-static)     # + the kernel image package, resolved below

apt_ok() {
    local p
    for p in "${APT_PKGS[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}
unpacked_ok() {
    [ -x "$LSW_BIN/pluto" ] && [ -x "$IKEINT_CACHE/opt/busybox/bin/busybox" ] \
    && [ -n "$(kernel_version)" ] && [ -f "$(kernel_image)" ] \
    && [ -f "$IKEINT_CACHE/vm/initramfs.cpio.gz" ] \
    && [ "$IKEINT_CACHE/vm/initramfs.cpio.gz" -nt "$HERE/vm/initramfs-init.sh" ]
}
check() { apt_ok && unpacked_ok; }
versions() {
    echo "strongSwan $(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null)"
    echo "libreswan  $(cat "$IKEINT_CACHE/opt/libreswan.version" 2>/dev/null) (unpacked)"
    echo "tshark     $(dpkg-query -W -f='${Version}' tshark 2>/dev/null)"
    echo "tcpdump    $(dpkg-query -W -f='${Version}' tcpdump 2>/dev/null)"
    echo "qemu       $(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null)"
    echo "guest      linux $(kernel_version) ($(cat "$IKEINT_CACHE/opt/kernel.version" 2>/dev/null))"
    echo "busybox    $(cat "$IKEINT_CACHE/opt/busybox.version" 2>/dev/null) (unpacked)"
}
case "${1:-}" in
    --check) check; exit $? ;;
    --versions) versions; exit 0 ;;
esac

export DEBIAN_FRONTEND=noninteractive
if ! apt_ok; then
    apt-get update -q
    # tshark's debconf question (non-root capture) takes its default (no)
    apt-get install -y -q --no-install-recommends "${APT_PKGS[@]}"
fi

if ! unpacked_ok; then
    mkdir -p "$IKEINT_CACHE/debs" "$IKEINT_CACHE/opt"
    cd "$IKEINT_CACHE/debs"
    KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    if [ -z "$KPKG" ]; then apt-get update -q
        KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); fi
    [ -n "$KPKG" ] || { echo "setup: cannot resolve the Debian kernel package" >&2; exit 1; }
    for p in "${UNPACKED[@]}" "$KPKG"; do
        # (as root into a root-owned folder: no _apt sandbox, no warning)
        ls ./"${p}"_*.deb >/dev/null 2>&1 || apt-get -o APT::Sandbox::User=root download "$p" \
            || { apt-get update -q && apt-get -o APT::Sandbox::User=root download "$p"; }
    done
    rm -rf "$IKEINT_CACHE/opt/libreswan" "$IKEINT_CACHE/opt/kernel" "$IKEINT_CACHE/opt/busybox"
    dpkg -x libreswan_*.deb "$IKEINT_CACHE/opt/libreswan"
    dpkg -x busybox-static_*.deb "$IKEINT_CACHE/opt/busybox"
    dpkg -x "${KPKG}"_*.deb "$IKEINT_CACHE/opt/kernel"
    dpkg-deb -f libreswan_*.deb Version > "$IKEINT_CACHE/opt/libreswan.version"
    dpkg-deb -f busybox-static_*.deb Version > "$IKEINT_CACHE/opt/busybox.version"
    echo "$(dpkg-deb -f "${KPKG}"_*.deb Package) $(dpkg-deb -f "${KPKG}"_*.deb Version)" > "$IKEINT_CACHE/opt/kernel.version"
    KVER=$(kernel_version)
    # keep only what the guest can need (networking, crypto, virtio, 9p, tun):
    # ~400 MB -> ~60 MB
    K="$IKEINT_CACHE/opt/kernel/lib/modules/$KVER/kernel"
    rm -rf "$K/sound" "$K/block" "$K/mm" "$K/virt" "$IKEINT_CACHE/opt/kernel/usr/share/doc"
    find "$K/fs" -mindepth 1 -maxdepth 1 ! -name 9p ! -name netfs ! -name fscache -exec rm -rf {} +
    find "$K/drivers" -mindepth 1 -maxdepth 1 ! -name net ! -name virtio ! -name char -exec rm -rf {} +
    # drivers/net: keep the virtual devices (veth, dummy, tun), drop the NIC drivers
    find "$K/drivers/net" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
    depmod -b "$IKEINT_CACHE/opt/kernel" "$KVER"
    "$HERE/vm/build-initramfs.sh"
fi
check || { echo "setup: something is still missing" >&2; exit 1; }
echo "setup complete (cache $IKEINT_CACHE):"
versions | sed 's/^/  /'
