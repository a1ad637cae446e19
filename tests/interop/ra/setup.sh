#!/bin/bash
# Install what the remote-access interop cells need (Debian 12, as root).
# Idempotent: when everything is installed it only asks dpkg (well under a
# second) and touches neither the network nor apt's lists.
#
#   vpnc                      the Cisco-style client (user-space ESP on a TUN)
#   strongswan-charon, strongswan-swanctl, libstrongswan-standard-plugins
#                             charon and swanctl
#   libcharon-extra-plugins   kernel-libipsec (ESP in user space on a TUN)
#   libcharon-extauth-plugins xauth-generic (XAUTH from swanctl's secrets);
#                             NOT in libcharon-extra-plugins on Debian 12
#   tcpdump, tshark           the capture and its checks
#   iproute2, iputils-ping    namespaces, veths, TUN devices, pings
#
# Usage: setup.sh            install what is missing
#        setup.sh --check    exit 0 if everything is in place (no changes)
#        setup.sh --versions print the versions in use
set -euo pipefail

APT_PKGS=(vpnc vpnc-scripts strongswan-charon strongswan-swanctl
    libstrongswan-standard-plugins libcharon-extra-plugins libcharon-extauth-plugins
    tcpdump tshark iproute2 iputils-ping coreutils)
# files the cells use directly: a package can be "installed" with a plugin
# missing (a split package, a partial upgrade), so look at them too
FILES=(/usr/sbin/vpnc /usr/lib/ipsec/charon /usr/sbin/swanctl
    /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so
    /usr/lib/ipsec/plugins/libstrongswan-xauth-generic.so
    /usr/lib/ipsec/plugins/libstrongswan-unity.so
    /usr/lib/ipsec/plugins/libstrongswan-vici.so
    /usr/bin/tshark /usr/bin/tcpdump /dev/net/tun)

missing_pkgs() {
    local p
    for p in "${APT_PKGS[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}
missing_files() {
    local f
    for f in "${FILES[@]}"; do [ -e "$f" ] || echo "$f"; done
}
check() { [ -z "$(missing_pkgs)" ] && [ -z "$(missing_files)" ]; }
versions() {
    local p
    for p in vpnc strongswan-charon libcharon-extra-plugins libcharon-extauth-plugins tshark tcpdump; do
        printf '%-26s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"
    done
}

case "${1:-}" in
--check) check; exit $? ;;
--versions) versions; exit 0 ;;
"") ;;
*) echo "usage: setup.sh [--check|--versions]" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "setup.sh: must run as root (apt-get, network namespaces)" >&2; exit 1; }
mapfile -t todo < <(missing_pkgs)
if [ "${#todo[@]}" -gt 0 ]; then
    echo "setup.sh: installing ${todo[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture: answer no, quietly
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt_install() { apt-get install -y -q --no-install-recommends "${todo[@]}"; }
    if ! apt_install > /tmp/ra-setup-apt.log 2>&1; then
        # an old package list is the usual reason: refresh it once and retry
        timeout 300 apt-get update -q >> /tmp/ra-setup-apt.log 2>&1 || true
        apt_install >> /tmp/ra-setup-apt.log 2>&1 \
            || { tail -n 20 /tmp/ra-setup-apt.log >&2; echo "setup.sh: apt-get install failed (log: /tmp/ra-setup-apt.log)" >&2; exit 1; }
    fi
fi
if ! check; then
    echo "setup.sh: still missing after the install: $(missing_pkgs) $(missing_files)" >&2
    exit 1
fi
echo "setup.sh: ready ($(versions | tr -s ' ' | paste -sd';' -))"
