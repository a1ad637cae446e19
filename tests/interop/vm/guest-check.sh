#!/bin/bash
# Guest self-check (runs inside the guest as root): can this guest run the
# interop matrix at all? Checks, with timings:
#   1. kernel ESP states for every suite's algorithms (des/3des/aes, md5/sha1)
#   2. TUN: /dev/net/tun, `ip tuntap`, and a ping answered through a TUN
#      device by a Rust binary built on the host (ikeint-probe tun-echo)
#   3. raw IP protocol-50 sockets between two namespaces (ikeint-probe
#      esp-send / esp-recv), with the esp4 module loaded
# Output: $IKEINT_OUT/guest-check.txt; exit 0 only if everything works.
set -uo pipefail
source "$INTEROP/lib/common.sh"
PROBE=${IKEINT_PROBE:-$IKEINT_CACHE/probe-target/release/ikeint-probe}
REPORT="$IKEINT_OUT/guest-check.txt"
FAILS=0
: > "$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }
ok() { say "ok   $*"; }
bad() { say "FAIL $*"; FAILS=$((FAILS+1)); }
t() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$(t)" 'BEGIN{printf "%.2f s", b-a}'; }
NSA=ikeint-chk-a NSB=ikeint-chk-b
cleanup() { ip netns del $NSA 2>/dev/null; ip netns del $NSB 2>/dev/null; }
trap cleanup EXIT

say "guest: $(uname -r) $(uname -m), $(nproc) CPUs, uptime $(cut -d' ' -f1 /proc/uptime) s"
say "modules: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"

# 1. ESP states (first use of each cipher runs the kernel's self-tests: slow under TCG)
ip netns add $NSA
for a in "cbc(des) 0x0123456789abcdef hmac(md5) 0x00112233445566778899aabbccddeeff" \
         "cbc(des3_ede) 0x0123456789abcdeffedcba98765432100123456789abcdef hmac(md5) 0x00112233445566778899aabbccddeeff" \
         "cbc(aes) 0x00112233445566778899aabbccddeeff hmac(sha1) 0x00112233445566778899aabbccddeeff00112233"; do
    set -- $a; t0=$(t)
    if ip -n $NSA xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x$RANDOM mode tunnel \
        enc "$1" "$2" auth-trunc "$3" "$4" 96 2>>"$REPORT"; then ok "ESP state $1/$3 ($(dt $t0))"
    else bad "ESP state $1/$3"; fi
done
ip netns del $NSA

# 2. TUN
if [ -c /dev/net/tun ]; then ok "/dev/net/tun exists ($(ls -l /dev/net/tun | cut -c1-40))"
else bad "/dev/net/tun missing"; fi
grep -q '^tun ' /proc/modules && ok "module tun loaded" || say "note: tun not a loaded module (built in?)"
if [ -x "$PROBE" ]; then
    ok "host-built Rust binary visible in the guest: $PROBE ($(stat -c %s "$PROBE") bytes)"
    ip netns add $NSA
    ip -n $NSA link set lo up
    ip -n $NSA link add host0 type dummy && ip -n $NSA addr add 198.51.100.1/24 dev host0 && ip -n $NSA link set host0 up
    if ip -n $NSA tuntap add dev ikp0 mode tun && ip -n $NSA link set ikp0 up \
        && ip -n $NSA route add 203.0.113.0/24 dev ikp0 src 198.51.100.1; then
        ok "ip tuntap add dev ikp0 mode tun + route 203.0.113.0/24 dev ikp0"
        t0=$(t)
        ip netns exec $NSA "$PROBE" tun-echo ikp0 3 20 > "$IKEINT_OUT/guest-check-tun.txt" 2>&1 &
        PP=$!
        sleep 1
        ip netns exec $NSA ping -c 3 -i 0.3 -W 3 -w 15 -I 198.51.100.1 203.0.113.1 >> "$IKEINT_OUT/guest-check-ping.txt" 2>&1
        prc=$?; wait $PP; trc=$?
        cat "$IKEINT_OUT/guest-check-tun.txt" >> "$REPORT"
        grep -E 'received' "$IKEINT_OUT/guest-check-ping.txt" >> "$REPORT"
        if [ $prc -eq 0 ] && [ $trc -eq 0 ]; then ok "ping through TUN answered by the Rust probe ($(dt $t0))"
        else bad "ping through TUN (ping rc $prc, probe rc $trc)"; fi
    else bad "ip tuntap / route"; fi
    ip netns del $NSA

    # 3. raw ESP between two namespaces over a veth pair
    ip netns add $NSA; ip netns add $NSB
    ip link add veth0 netns $NSA type veth peer name veth0 netns $NSB
    ip -n $NSA addr add 192.0.2.1/24 dev veth0; ip -n $NSB addr add 192.0.2.2/24 dev veth0
    ip -n $NSA link set veth0 up; ip -n $NSB link set veth0 up
    ip -n $NSA link set lo up; ip -n $NSB link set lo up
    t0=$(t)
    ip netns exec $NSB "$PROBE" esp-recv 192.0.2.2 3 20 > "$IKEINT_OUT/guest-check-esp.txt" 2>&1 &
    PR=$!
    sleep 1
    ip netns exec $NSA "$PROBE" esp-send 192.0.2.1 192.0.2.2 0xf800d61f 3 > "$IKEINT_OUT/guest-check-esp-send.txt" 2>&1
    src=$?; wait $PR; rrc=$?
    cat "$IKEINT_OUT/guest-check-esp-send.txt" "$IKEINT_OUT/guest-check-esp.txt" >> "$REPORT"
    if [ $src -eq 0 ] && [ $rrc -eq 0 ]; then ok "raw IPPROTO_ESP socket: 3/3 sent and received between namespaces, esp4 loaded ($(dt $t0))"
    else bad "raw ESP (send rc $src, recv rc $rrc)"; fi
    say "xfrm stats in receiver ns (ESP with no SA is counted, not an error): $(ip netns exec $NSB grep -E 'XfrmInNoStates' /proc/net/xfrm_stat | tr -s ' ')"
else
    bad "probe binary $PROBE not found (build it: see ci.sh)"
fi
say "guest check: $FAILS failure(s)"
exit $(( FAILS > 0 ))
