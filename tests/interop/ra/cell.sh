#!/bin/bash
# One remote-access (XAUTH + Mode-Config) interop cell, on this machine's
# kernel (no guest, no kernel ESP: every party does ESP in user space, in
# UDP 4500):   cell.sh ID      (ID: a line of lib/cells.sh)
#
#  [ns ID-c] client                 [ns ID-s] server                      [ns ID-l] LAN host
#  veth0 192.0.2.2 =============== veth0 192.0.2.1   veth1 10.0.0.254 ===== veth0 10.0.0.1
#  TUN: vpn0 (vpnc), ipsec0          TUN: ipsec0 (charon), rai0 (us)        default via 10.0.0.254
#       (charon), rai0 (us)          tcpdump on veth0 -> wire.pcap
#  libreswan (lsw): kernel ESP (XFRM) in its namespace, lease on lo
#
# Cells with libreswan need a kernel with ESP: inside the QEMU guest of
# tests/interop (matrix-guest.sh runs them, RA_WIRE=defer leaves the tshark
# step to the host: wire-cell.sh) or on a host whose kernel has esp4.
#
# Steps: namespaces, capture, server, client; then with the good password:
# the client got an address from the pool (recorded in assigned.txt), ping
# client (from that address) -> 10.0.0.1 and 10.0.0.1 -> client, the server
# sees the client; with the bad password: the client reports the refusal,
# the server logs the XAUTH failure, nothing is established, no ESP. Then
# the client and server stop, and tshark checks the capture (Transaction
# exchanges, ESP in UDP 4500) and decodes what it can (wire-facts.txt).
# Bounded: every wait has a limit, and a watchdog ends the cell after
# CELL_BUDGET_S (55) seconds; the EXIT trap stops every process the cell
# started (by PID) and deletes its namespaces.
# Writes CELL_OUT (RA_OUT/cells/ID): result ("PASS" or "FAIL: reason"),
# cell.log, timings.txt, wire.pcap, wire-check.txt, wire-facts.txt,
# assigned.txt, client/ and server/ (configurations, logs, our events).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/ra.sh"
source "$HERE/lib/ezvpn.sh"
source "$HERE/lib/wire.sh"
source "$HERE/lib/cells.sh"
source "$HERE/lib/lsw.sh"

[ $# -eq 1 ] || { echo "usage: cell.sh ID   (IDs: $(cells_list | awk '{print $1}' | paste -sd' ' -))" >&2; exit 2; }
CELL_ID=$1
SPEC=$(cell_lookup "$CELL_ID") || { echo "cell.sh: unknown cell $CELL_ID" >&2; exit 2; }
read -r CLIENT SERVER MODE PW <<< "$SPEC"
case $CELL_ID in *-push) export RA_LSW_MODECFGPULL=no ;; esac
[ "$(id -u)" -eq 0 ] || { echo "cell.sh: must run as root (network namespaces)" >&2; exit 2; }
CELL_OUT=${CELL_OUT:-$RA_OUT/cells/$CELL_ID}
CELL_BUDGET_S=${CELL_BUDGET_S:-55}
ESTABLISH_WAIT_S=${ESTABLISH_WAIT_S:-20}
NSC=$CELL_ID-c NSS=$CELL_ID-s NSL=$CELL_ID-l
CD=$CELL_OUT/client SD=$CELL_OUT/server
PASSWORD=$RA_PASSWORD; [ "$PW" = bad ] && PASSWORD=$RA_BAD_PASSWORD

rm -rf "$CELL_OUT"; mkdir -p "$CD" "$SD"
RUNBASE=$(mktemp -d "/tmp/ra-$CELL_ID.XXXXXX")
export RA_TMP=$RUNBASE
printf 'CELL_ID=%s CLIENT=%s SERVER=%s MODE=%s PASSWORD=%s\n' "$CELL_ID" "$CLIENT" "$SERVER" "$MODE" "$PW" > "$CELL_OUT/cell.env"
# the log's tee ignores INT and TERM (they go to the whole process group
# under `timeout` or ^C): it must outlive the cleanup that logs the result
exec > >(trap '' INT TERM; exec tee -a "$CELL_OUT/cell.log") 2>&1

RESULT= WATCHDOG= CAP_PIDFILE=$RUNBASE/tcpdump.pid
DAEMONS=()        # "PIDFILE NAME GRACE" of every daemon started, stopped in reverse
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%d' $(( d / 1000 )) $(( d % 1000 / 100 )); }
T_START=$(now_ms)
timing() { echo "$1 $2" >> "$CELL_OUT/timings.txt"; }
fail() { log "FAIL: $*"; [ -n "$RESULT" ] || RESULT="FAIL: $*"; }
# stop_daemon PIDFILE NAME GRACE : TERM (then KILL) the PID in PIDFILE, if alive
stop_daemon() {
    local pid; pid=$(ra_pid "$1")
    [ -n "$pid" ] && pid_alive "$pid" && stop_pid "$pid" "$2" "$3"
    return 0
}
cleanup() {
    local rc=$? i
    set +e
    trap '' PIPE        # should the log's reader be gone, finish the cleanup anyway
    [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
    for (( i = ${#DAEMONS[@]} - 1; i >= 0; i-- )); do
        read -r pf name grace <<< "${DAEMONS[$i]}"
        stop_daemon "$pf" "$name" "${CLEANUP_GRACE:-$grace}"
    done
    stop_daemon "$CAP_PIDFILE" tcpdump 3
    ra_netns_down "$CELL_ID"
    rm -rf "$RUNBASE"
    [ -n "$RESULT" ] || [ "$rc" -eq 0 ] || RESULT="FAIL: the cell script stopped (status $rc; see cell.log)"
    [ -n "$RESULT" ] || RESULT=PASS
    echo "$RESULT" > "$CELL_OUT/result"
    timing total "$(since "$T_START")"
    log "cell $CELL_ID: $RESULT ($(since "$T_START") s)"
}
trap cleanup EXIT
# INT and TERM override a failure the signal itself may have caused
# meanwhile (a daemon killed by the same signal); the watchdog keeps the
# first reason found before it, if any. Either way the cleanup no longer
# waits for graceful exits (the cell is over its time).
trap 'log "FAIL: cell budget of $CELL_BUDGET_S s exceeded"
      if [ -n "$RESULT" ]; then RESULT="$RESULT (then the cell budget of $CELL_BUDGET_S s ran out)"
      else RESULT="FAIL: cell budget of $CELL_BUDGET_S s exceeded"; fi
      CLEANUP_GRACE=2; exit 1' USR1
trap 'RESULT="FAIL: interrupted"; log "$RESULT"; CLEANUP_GRACE=2; exit 1' INT TERM
( trap 'kill "$s" 2>/dev/null; exit 0' TERM
  sleep "$CELL_BUDGET_S" & s=$!; wait "$s"; kill -USR1 $$ ) 2>/dev/null &
WATCHDOG=$!
log "cell $CELL_ID: client=$CLIENT server=$SERVER mode=$MODE password=$PW"

# ---------------------------------------------------------------- our side
if [ "$CLIENT" = us ] || [ "$SERVER" = us ]; then
    [ -n "${IKEV1_PEER:-}" ] || { fail "this cell needs our peer: set IKEV1_PEER"; exit 1; }
    IKEV1_PEER=$(readlink -f "$IKEV1_PEER")
    log "our side: $IKEV1_PEER"
    # (RA_PREFLIGHT_DONE=1: the caller checked the binary already; in the
    # emulated guest every process start counts)
    [ "${RA_PREFLIGHT_DONE:-0}" = 1 ] || for role in client server; do
        if [ "$( [ $role = client ] && echo "$CLIENT" || echo "$SERVER")" = us ]; then
            msg=$(ra_us_check_binary $role 2>&1) || { fail "${msg#!!! RA INTEROP: }"; exit 1; }
        fi
    done
fi

# ------------------------------------------------------------- topology
t0=$(now_ms)
ra_netns_up "$CELL_ID" || { fail "could not create the namespaces"; exit 1; }
ra_spawn "$NSS" - "$CAP_PIDFILE" "$CELL_OUT/tcpdump.log" tcpdump -n -i veth0 -U --immediate-mode -s 0 -w "$CELL_OUT/wire.pcap"
WAIT_S=10 WAIT_STEP=0.1 wait_for test -s "$CELL_OUT/wire.pcap" || { fail "tcpdump did not start"; exit 1; }

# a libreswan client's pluto starts now, alongside the server (in the
# emulated guest each takes seconds); it initiates once the server is up
if [ "$CLIENT" = lsw ]; then
    ra_lsw_write_conf "$CD" "$RUNBASE/cli" client "$MODE" "$PASSWORD" > "$CD/write-conf.log" 2>&1 \
        || { fail "libreswan (client): could not write its configuration ($(tail -n 1 "$CD/write-conf.log"))"; exit 1; }
    DAEMONS+=("$RUNBASE/cli/pluto.spawn.pid pluto-client 10")
    ra_lsw_spawn "$NSC" "$CD" "$RUNBASE/cli"
fi

# ---------------------------------------------------------------- server
case "$SERVER" in
ss)
    ra_ss_write_conf "$SD" "$RUNBASE/srv" server "$MODE" ""
    ra_ss_start "$NSS" "$SD" "$RUNBASE/srv" || { fail "charon (server) did not start: $(tail -n 3 "$SD/charon.stdout" "$SD/swanctl-load.txt" 2>/dev/null | tr '\n' ' ' | cut -c1-200)"; exit 1; }
    DAEMONS+=("$SS_PIDFILE charon-server 5")
    log "server: strongSwan $(/usr/lib/ipsec/charon --version 2>/dev/null | awk '{print $NF}') (kernel-libipsec), pid $(ra_pid "$SS_PIDFILE")" ;;
us)
    # a libreswan client cannot offer group 2 (MODP-1024): add a group 14 policy
    RA_US_GROUP14=$([ "$CLIENT" = lsw ] && echo yes || echo no) ra_us_write_server_cfg "$SD/server.cfg" "$MODE" "$CELL_ID"
    ra_us_write_users "$SD/users" "$RA_USER" "$RA_PASSWORD" || { fail "could not write the users file with '$IKEV1_PEER hash-password'"; exit 1; }
    SRV_ARGS=(--config "$SD/server.cfg" --ike "$RA_SRV_IP" --tun rai0 --tun-create --nat-t force
              --users "$SD/users" --out "$SD" --control "$RUNBASE/srv.ctl")
    printf '%q ' "$IKEV1_PEER" "${SRV_ARGS[@]}" > "$SD/command.txt"; echo >> "$SD/command.txt"
    ra_spawn "$NSS" - "$RUNBASE/us-srv.pid" "$SD/stdout.log" "$IKEV1_PEER" "${SRV_ARGS[@]}"
    DAEMONS+=("$RUNBASE/us-srv.pid ikev1-peer-server 10")
    up_or_gone() { ev_has "$SD/events.jsonl" "$RA_EV_READY" || ! kill -0 "$RA_SPAWNED" 2>/dev/null; }
    WAIT_S=${DAEMON_WAIT_S:-15} WAIT_STEP=0.1 wait_for up_or_gone || true
    ev_has "$SD/events.jsonl" "$RA_EV_READY" \
        || { fail "our server: no ready event (exited? last output: $(tail -n 2 "$SD/stdout.log" | tr '\n' ' ' | cut -c1-200))"; exit 1; }
    log "server: ikev1-peer, pid $(ra_pid "$RUNBASE/us-srv.pid")" ;;
lsw)
    ra_lsw_write_conf "$SD" "$RUNBASE/srv" server "$MODE" "" > "$SD/write-conf.log" 2>&1 \
        || { fail "libreswan (server): could not write its configuration ($(tail -n 1 "$SD/write-conf.log"))"; exit 1; }
    DAEMONS+=("$RUNBASE/srv/pluto.spawn.pid pluto-server 10")
    ra_lsw_start "$NSS" "$SD" "$RUNBASE/srv" \
        || { fail "pluto (server) did not start: $(tail -n 2 "$SD/pluto.stdout" "$SD/addconn.txt" "$SD/pluto.log" 2>/dev/null | tr '\n' ' ' | cut -c1-240)"; exit 1; }
    log "server: libreswan $(cat "$IKEINT_CACHE/opt/libreswan.version" 2>/dev/null) (kernel ESP), pid $(ra_pid "$RUNBASE/srv/pluto.spawn.pid")" ;;
esac
timing setup "$(since "$t0")"

# What is left of the cell's budget bounds the wait for the tunnel, so that
# a client that never gets there is reported as such, with time left for
# the checks and the teardown (RA_TEARDOWN_RESERVE_S, 15 s), rather than
# cut short by the watchdog.
left=$(( CELL_BUDGET_S - ($(now_ms) - T_START) / 1000 - ${RA_TEARDOWN_RESERVE_S:-15} ))
if [ "$left" -lt "$ESTABLISH_WAIT_S" ]; then
    ESTABLISH_WAIT_S=$(( left < 5 ? 5 : left ))
    log "establish wait cut to $ESTABLISH_WAIT_S s (cell budget $CELL_BUDGET_S s)"
fi

# ---------------------------------------------------------------- client
t0=$(now_ms)
CLIENT_RC= ASSIGNED=
case "$CLIENT" in
vpnc)
    ra_vpnc_write_conf "$CD/vpnc.conf" "$PASSWORD"
    export RA_VPNC_RECORD=$CD/vpnc-script.txt
    : > "$RA_VPNC_RECORD"
    VPNC_ARGS=(--no-detach --non-inter --natt-mode force-natt --script "$HERE/lib/vpnc-script"
               --pid-file "$RUNBASE/vpnc.pidfile" --ifname vpn0 --debug "${VPNC_DEBUG:-1}" "$CD/vpnc.conf")
    printf '%q ' vpnc "${VPNC_ARGS[@]}" > "$CD/command.txt"; echo >> "$CD/command.txt"
    # stdbuf: vpnc's own messages line by line, as they come
    ra_spawn "$NSC" - "$RUNBASE/vpnc.pid" "$CD/vpnc.log" stdbuf -oL vpnc "${VPNC_ARGS[@]}"
    VPNC_JOB=$RA_SPAWNED
    DAEMONS+=("$RUNBASE/vpnc.pid vpnc 5")
    vpnc_done() { grep -q '^configured=connect$' "$RA_VPNC_RECORD" || ! kill -0 "$VPNC_JOB" 2>/dev/null; }
    WAIT_S=$ESTABLISH_WAIT_S WAIT_STEP=0.1 wait_for vpnc_done || true
    if ! kill -0 "$VPNC_JOB" 2>/dev/null; then
        CLIENT_RC=0; wait "$VPNC_JOB" || CLIENT_RC=$?
        log "vpnc exited with status $CLIENT_RC: $(grep -v '^$' "$CD/vpnc.log" | tail -n 1)"
    fi
    ASSIGNED=$(ra_vpnc_record_get "$RA_VPNC_RECORD" INTERNAL_IP4_ADDRESS) ;;
ss)
    ra_ss_write_conf "$CD" "$RUNBASE/cli" client "$MODE" "$PASSWORD"
    ra_ss_start "$NSC" "$CD" "$RUNBASE/cli" || { fail "charon (client) did not start"; exit 1; }
    DAEMONS+=("$SS_PIDFILE charon-client 5")
    CLIENT_RC=0
    ra_swanctl "$CD" --initiate --child ra --timeout "$ESTABLISH_WAIT_S" > "$CD/initiate.txt" 2>&1 || CLIENT_RC=$?
    log "strongSwan client: swanctl --initiate status $CLIENT_RC ($(tail -n 1 "$CD/initiate.txt"))"
    ra_swanctl "$CD" --list-sas > "$CD/list-sas.txt" 2>&1 || true
    # the virtual IP: "local  'ragroup' @ 192.0.2.2[4500] [10.99.0.10]"
    ASSIGNED=$(sed -n 's/^ *local .*\] \[\([0-9.]*\)\]$/\1/p' "$CD/list-sas.txt" | head -n 1) ;;
us)
    ip -n "$NSC" tuntap add dev rai0 mode tun && ip -n "$NSC" link set rai0 up \
        || { fail "could not create the client's TUN device rai0"; exit 1; }
    ra_us_write_secret "$RUNBASE/group.key" "$RA_GROUP_KEY"
    ra_us_write_secret "$RUNBASE/password" "$PASSWORD"
    CLI_ARGS=(client --gateway "$RA_SRV_IP" --group "$RA_GROUP" --group-key-file "$RUNBASE/group.key"
              --user "$RA_USER" --password-file "$RUNBASE/password")
    [ "$MODE" = main ] && CLI_ARGS+=(--main-mode)
    # (libreswan 4.10 from Debian has no MODP-1024: group 14 against it)
    cli_ike=$RA_CLI_IKE; [ "$SERVER" = lsw ] && cli_ike=$RA_LSW_CLI_IKE
    [ -n "${RA_US_IKE-$cli_ike}" ] && CLI_ARGS+=(--ike "${RA_US_IKE-$cli_ike}")
    [ -n "${RA_US_ESP-$RA_CLI_ESP}" ] && CLI_ARGS+=(--esp "${RA_US_ESP-$RA_CLI_ESP}")
    CLI_ARGS+=(--tun rai0 --nat-t force --out "$CD" --control "$RUNBASE/cli.ctl")
    printf '%q ' "$IKEV1_PEER" "${CLI_ARGS[@]}" > "$CD/command.txt"; echo >> "$CD/command.txt"
    ra_spawn "$NSC" - "$RUNBASE/us-cli.pid" "$CD/stdout.log" "$IKEV1_PEER" "${CLI_ARGS[@]}"
    US_CLI_JOB=$RA_SPAWNED
    DAEMONS+=("$RUNBASE/us-cli.pid ikev1-peer-client 10")
    us_cli_done() { ev_has "$CD/events.jsonl" "$RA_EV_UP|$RA_EV_AUTH_FAIL" || ! kill -0 "$US_CLI_JOB" 2>/dev/null; }
    WAIT_S=$ESTABLISH_WAIT_S WAIT_STEP=0.1 wait_for us_cli_done || true
    # a refusal may come a moment before the process ends: give it a second
    if ev_has "$CD/events.jsonl" "$RA_EV_AUTH_FAIL"; then WAIT_S=3 wait_for sh -c "! kill -0 $US_CLI_JOB" || true; fi
    if ! kill -0 "$US_CLI_JOB" 2>/dev/null; then
        CLIENT_RC=0; wait "$US_CLI_JOB" || CLIENT_RC=$?
        log "our client exited with status $CLIENT_RC: $(tail -n 1 "$CD/stdout.log")"
    fi
    CFG_EV=$(ev_grep "$CD/events.jsonl" "$RA_EV_CFG" | tail -n 1 || true)
    [ -n "$CFG_EV" ] && jget ASSIGNED address "$CFG_EV" ;;
lsw)
    # (started before the server, above)
    ra_lsw_ready "$NSC" "$CD" "$RUNBASE/cli" \
        || { fail "pluto (client) did not start: $(tail -n 2 "$CD/pluto.stdout" "$CD/addconn.txt" "$CD/pluto.log" 2>/dev/null | tr '\n' ' ' | cut -c1-240)"; exit 1; }
    # the user name is in the connection, the password in ipsec.secrets:
    # whack does not prompt, and returns when the IPsec SA is up or failed
    CLIENT_RC=0
    printf '%q ' "$LSW_BIN/whack" --ctlsocket "$RUNBASE/cli/pluto.ctl" --name ra --initiate > "$CD/command.txt"; echo >> "$CD/command.txt"
    RA_WHACK_TIMEOUT=$ESTABLISH_WAIT_S ra_lsw_whack "$RUNBASE/cli" --name ra --initiate > "$CD/initiate.txt" 2>&1 || CLIENT_RC=$?
    log "libreswan client: whack --initiate status $CLIENT_RC ($(grep -v '^$' "$CD/initiate.txt" | tail -n 1 | cut -c1-160))"
    # its updown hook (lib/lsw-updown) puts the lease on lo and routes the
    # LAN from it; it runs as the SA is installed, around whack's return
    if [ "$CLIENT_RC" = 0 ]; then WAIT_S=5 WAIT_STEP=0.1 wait_for grep -q '^configured=' "$CD/updown.txt" || true; fi
    ASSIGNED=$(ra_lsw_record_get "$CD/updown.txt" up-client PLUTO_MY_SOURCEIP) ;;
esac
timing establish "$(since "$t0")"

# ------------------------------------------------- the assignment, recorded
{
    echo "# what the client was assigned (cell $CELL_ID; client $CLIENT, server $SERVER)"
    case "$CLIENT" in
    vpnc)
        echo "source=vpnc-script environment (client/vpnc-script.txt)"
        for v in INTERNAL_IP4_ADDRESS INTERNAL_IP4_NETMASK INTERNAL_IP4_DNS INTERNAL_IP4_NBNS CISCO_DEF_DOMAIN CISCO_BANNER CISCO_SPLIT_DNS CISCO_SPLIT_INC; do
            echo "$v=$(ra_vpnc_record_get "$RA_VPNC_RECORD" "$v")"
        done
        n=$(ra_vpnc_record_get "$RA_VPNC_RECORD" CISCO_SPLIT_INC); i=0
        while [ "$i" -lt "${n:-0}" ]; do
            echo "CISCO_SPLIT_INC_${i}=$(ra_vpnc_record_get "$RA_VPNC_RECORD" "CISCO_SPLIT_INC_${i}_ADDR")/$(ra_vpnc_record_get "$RA_VPNC_RECORD" "CISCO_SPLIT_INC_${i}_MASKLEN")"
            i=$((i + 1))
        done ;;
    ss)
        echo "source=swanctl --list-sas (client/list-sas.txt) and charon's log (client/charon.log)"
        echo "virtual_ip=$ASSIGNED"
        grep -o 'parsed TRANSACTION response [0-9]* \[ HASH CPRP([^)]*) \]' "$CD/charon.log" 2>/dev/null | sed 's/^/reply: /' || true
        grep -oE "(installing new virtual IP|handling [A-Z0-9_]+ attribute( failed)?|received [A-Z0-9_]+: ).*" "$CD/charon.log" 2>/dev/null | sort -u || true ;;
    us)
        echo "source=our client's $RA_EV_CFG event (client/events.jsonl)"
        echo "event=${CFG_EV:-none}" ;;
    lsw)
        echo "source=the variables pluto gave its updown hook at up-client (client/updown.txt) and pluto's log (client/pluto.log)"
        for v in PLUTO_MY_SOURCEIP PLUTO_MY_CLIENT PLUTO_PEER_CLIENT PLUTO_PEER_DNS_INFO PLUTO_PEER_DOMAIN_INFO PLUTO_PEER_BANNER PLUTO_CFG_CLIENT PLUTO_CFG_SERVER PLUTO_IS_PEER_CISCO PLUTO_USERNAME; do
            echo "$v=$(ra_lsw_record_get "$CD/updown.txt" up-client "$v")"
        done
        grep -oE '(Received|received) [^"]*(address|DNS|[Dd]omain|[Bb]anner|[Ss]ubnet|XAUTH)[^"]*$' "$CD/pluto.log" 2>/dev/null | sed 's/^/log: /' || true ;;
    esac
} > "$CELL_OUT/assigned.txt"
log "assigned: $(grep -v '^#\|^source' "$CELL_OUT/assigned.txt" | paste -sd' ' - | cut -c1-300)"

# ----------------------------------------------------------------- checks
t0=$(now_ms)
into_tunnel() { # NS DEST [from SRC]: the route goes out by a device that is not the outside veth
    local ns=$1 r; shift
    r=$(ip -n "$ns" route get "$@" 2>/dev/null | head -n 1)
    [[ $r == *" dev "* && $r != *" dev veth"* ]]
}
server_saw_xauth_fail() {
    case "$SERVER" in
    ss) grep -q "XAuth authentication of '$RA_USER' failed" "$SD/charon.log" ;;
    us) ev_has "$SD/events.jsonl" "$RA_EV_AUTH_FAIL" ;;
    lsw) grep -q "XAUTH: User $RA_USER: Authentication Failed" "$SD/pluto.log" ;;
    esac
}
if [ "$PW" = good ]; then
    # -- the client: tunnel up, an address from the pool
    case "$CLIENT" in
    vpnc) grep -q '^configured=connect$' "$RA_VPNC_RECORD" || fail "vpnc did not connect ($(grep -v '^$' "$CD/vpnc.log" | tail -n 1))" ;;
    ss)   [ "$CLIENT_RC" = 0 ] || fail "strongSwan client: initiate failed ($(tail -n 1 "$CD/initiate.txt"))" ;;
    us)   ev_has "$CD/events.jsonl" "$RA_EV_UP" || fail "our client: no tunnel-up event ($RA_EV_UP)"
          [ -n "$CFG_EV" ] || fail "our client: no Mode-Config event ($RA_EV_CFG)" ;;
    lsw)  [ "$CLIENT_RC" = 0 ] || fail "libreswan client: whack --initiate failed, status $CLIENT_RC ($(grep -v '^$' "$CD/initiate.txt" | tail -n 1 | cut -c1-160))"
          grep -q '^configured=' "$CD/updown.txt" || fail "libreswan client: its updown hook never ran up-client with a lease (client/updown.txt)" ;;
    esac
    if [ -z "$ASSIGNED" ]; then fail "the client got no address"
    elif ! in_pool "$ASSIGNED"; then fail "the client got $ASSIGNED, outside the pool $RA_POOL_FIRST-$RA_POOL_LAST"
    else log "client assigned $ASSIGNED (inside the pool $RA_POOL_FIRST-$RA_POOL_LAST)"; fi
    # -- what a full Cisco-style pull brings (vpnc and our client ask for it)
    check_attr() { # NAME GOT WANT
        if [ "$2" = "$3" ]; then log "  $1: $2"; else fail "$1 is '$2', expected '$3'"; fi
    }
    case "$CLIENT" in
    lsw)
        # what pluto handed its updown hook (remote-peer-type=cisco): the DNS
        # server always, the domain and banner when strict
        check_attr DNS "$(ra_lsw_record_get "$CD/updown.txt" up-client PLUTO_PEER_DNS_INFO)" "$RA_DNS"
        if [ "${RA_STRICT_UNITY:-1}" = 1 ]; then
            check_attr domain "$(ra_lsw_record_get "$CD/updown.txt" up-client PLUTO_PEER_DOMAIN_INFO)" "$RA_DOMAIN"
            check_attr banner "$(ra_lsw_record_get "$CD/updown.txt" up-client PLUTO_PEER_BANNER)" "$RA_BANNER"
        fi ;;
    vpnc)
        check_attr DNS "$(ra_vpnc_record_get "$RA_VPNC_RECORD" INTERNAL_IP4_DNS)" "$RA_DNS"
        check_attr domain "$(ra_vpnc_record_get "$RA_VPNC_RECORD" CISCO_DEF_DOMAIN)" "$RA_DOMAIN"
        check_attr banner "$(ra_vpnc_record_get "$RA_VPNC_RECORD" CISCO_BANNER)" "$RA_BANNER"
        check_attr "split include" "$(ra_vpnc_record_get "$RA_VPNC_RECORD" CISCO_SPLIT_INC_0_ADDR)/$(ra_vpnc_record_get "$RA_VPNC_RECORD" CISCO_SPLIT_INC_0_MASKLEN)" "$RA_LAN_NET" ;;
    us)
        if [ -n "$CFG_EV" ]; then
            jlist got dns "$CFG_EV"; check_attr DNS "$got" "$RA_DNS"
            jlist got split_include "$CFG_EV"; check_attr "split include" "$got" "$RA_LAN_NET"
            if [ "${RA_STRICT_UNITY:-1}" = 1 ]; then
                jget got domain "$CFG_EV"; check_attr domain "$got" "$RA_DOMAIN"
                jget got banner "$CFG_EV"; check_attr banner "$got" "$RA_BANNER"
            fi
        fi
        # the harness, like vpnc's script, puts the address and the route on
        # the TUN device when our client has not (RA_US_CLIENT_CONFIGURES_TUN=1:
        # our client must have done it). "Done" means: the address is local
        # somewhere in the namespace, the LAN is routed from it through a
        # device other than the outside veth.
        if [ -n "$ASSIGNED" ] && ! ip -n "$NSC" -4 -o addr show | grep -q " inet $ASSIGNED/"; then
            if [ "${RA_US_CLIENT_CONFIGURES_TUN:-0}" = 1 ]; then fail "our client did not configure $ASSIGNED"
            else log "harness: $ASSIGNED/32 onto rai0 (our client did not configure it)"
                 ip -n "$NSC" addr add "$ASSIGNED/32" dev rai0 || true; fi
        fi
        if [ -n "$ASSIGNED" ] && ! into_tunnel "$NSC" "$RA_LAN_HOST" from "$ASSIGNED"; then
            if [ "${RA_US_CLIENT_CONFIGURES_TUN:-0}" = 1 ]; then fail "our client routed nothing to $RA_LAN_NET into its tunnel"
            else log "harness: route $RA_LAN_NET into rai0 (our client did not)"
                 ip -n "$NSC" route replace "$RA_LAN_NET" dev rai0 src "$ASSIGNED" || true; fi
        fi ;;
    esac
    # -- the server sees the client
    case "$SERVER" in
    ss) ra_swanctl "$SD" --list-sas > "$SD/list-sas.txt" 2>&1 || true
        grep -q "XAuth authentication of '$RA_USER' successful" "$SD/charon.log" || fail "strongSwan server: no successful XAUTH of $RA_USER in its log"
        grep -qE "remote .*\[$ASSIGNED\]" "$SD/list-sas.txt" || fail "strongSwan server: no IKE SA with the client's virtual IP $ASSIGNED (server/list-sas.txt)"
        grep -q 'INSTALLED, TUNNEL-in-UDP' "$SD/list-sas.txt" || fail "strongSwan server: no CHILD_SA in UDP encapsulation" ;;
    us) ev_has "$SD/events.jsonl" "$RA_EV_UP" || fail "our server: no tunnel-up event ($RA_EV_UP)"
        # a route to the client into the tunnel: our server's (reverse-route),
        # or else the harness's into rai0
        if [ -n "$ASSIGNED" ] && ! into_tunnel "$NSS" "$ASSIGNED"; then
            log "harness: route $ASSIGNED/32 into rai0 (our server had none)"
            ip -n "$NSS" route replace "$ASSIGNED/32" dev rai0 || true
        fi ;;
    lsw) grep -q "XAUTH: User $RA_USER: Authentication Successful" "$SD/pluto.log" \
            || fail "libreswan server: no 'XAUTH: User $RA_USER: Authentication Successful' in its log"
        ra_lsw_whack "$RUNBASE/srv" --trafficstatus > "$SD/trafficstatus.txt" 2>&1 || true
        grep -q "username=$RA_USER" "$SD/trafficstatus.txt" && grep -q "lease=$ASSIGNED/32" "$SD/trafficstatus.txt" \
            || fail "libreswan server: no IPsec SA of user $RA_USER with lease $ASSIGNED/32 (server/trafficstatus.txt)"
        ip -n "$NSS" xfrm state > "$SD/xfrm-state.txt" 2>&1 || true
        [ "$(grep -c 'encap type espinudp ' "$SD/xfrm-state.txt")" -ge 2 ] \
            || fail "libreswan server: its kernel's ESP SAs are not UDP-encapsulated (server/xfrm-state.txt)" ;;
    esac
    # -- ping both ways through the tunnel, from and to the assigned address
    if [ -n "$ASSIGNED" ]; then
        ip netns exec "$NSC" ping -n -c 3 -i 0.3 -W 2 -w 10 -I "$ASSIGNED" "$RA_LAN_HOST" > "$CELL_OUT/ping-client-to-lan.txt" 2>&1 \
            || fail "ping $ASSIGNED -> $RA_LAN_HOST: $(grep -o '[0-9]* received' "$CELL_OUT/ping-client-to-lan.txt" || echo none)/3"
        ip netns exec "$NSL" ping -n -c 3 -i 0.3 -W 2 -w 10 "$ASSIGNED" > "$CELL_OUT/ping-lan-to-client.txt" 2>&1 \
            || fail "ping $RA_LAN_HOST -> $ASSIGNED: $(grep -o '[0-9]* received' "$CELL_OUT/ping-lan-to-client.txt" || echo none)/3"
        log "ping: client -> LAN $(grep -o '[0-9]* received' "$CELL_OUT/ping-client-to-lan.txt" || true), LAN -> client $(grep -o '[0-9]* received' "$CELL_OUT/ping-lan-to-client.txt" || true)"
    fi
else
    # -- the client must report the refusal
    case "$CLIENT" in
    vpnc)
        if grep -q '^reason=connect$' "$RA_VPNC_RECORD"; then fail "vpnc connected with a wrong password"; fi
        [ -n "$CLIENT_RC" ] && [ "$CLIENT_RC" != 0 ] || fail "vpnc did not exit with an error within $ESTABLISH_WAIT_S s (status '${CLIENT_RC:-still running}')"
        # a server that asks again after a wrong password (IOS, ours: 3
        # attempts) meets vpnc without a terminal, which cannot ask its user
        # twice: it gives up with "can't reuse password" instead
        grep -qE "$RA_VPNC_REFUSED" "$CD/vpnc.log" || fail "vpnc did not say 'authentication unsuccessful' or that it cannot reuse the password" ;;
    ss)
        [ "$CLIENT_RC" != 0 ] || fail "strongSwan client: initiate succeeded with a wrong password"
        grep -q "XAuth authentication of '$RA_USER' (myself) failed" "$CD/charon.log" \
            || fail "strongSwan client: no \"XAuth authentication of '$RA_USER' (myself) failed\" in its log" ;;
    us)
        ev_has "$CD/events.jsonl" "$RA_EV_AUTH_FAIL" || fail "our client: no XAUTH failure event ($RA_EV_AUTH_FAIL)"
        if ev_has "$CD/events.jsonl" "$RA_EV_UP"; then fail "our client: tunnel up with a wrong password"; fi
        if ev_has "$CD/events.jsonl" "$RA_EV_CFG"; then fail "our client: got a Mode-Config assignment with a wrong password"; fi ;;
    lsw)
        [ "$CLIENT_RC" != 0 ] || fail "libreswan client: whack --initiate succeeded with a wrong password"
        grep -q 'Received Cisco XAUTH status: FAIL' "$CD/pluto.log" \
            || fail "libreswan client: no 'Received Cisco XAUTH status: FAIL' in its log"
        if grep -q '^configured=' "$CD/updown.txt"; then fail "libreswan client: its updown hook configured a lease with a wrong password"; fi
        log "refused (libreswan client): $(grep -hoE "Received Cisco XAUTH status: FAIL|XAUTH: aborting entire IKE Exchange" "$CD/pluto.log" 2>/dev/null | sort -u | paste -sd';' - || true)" ;;
    esac
    [ -z "$ASSIGNED" ] || fail "the client holds an address ($ASSIGNED) after a wrong password"
    # -- the server must log it and keep nothing
    WAIT_S=5 WAIT_STEP=0.2 wait_for server_saw_xauth_fail || true
    case "$SERVER" in
    ss) server_saw_xauth_fail || fail "strongSwan server: no \"XAuth authentication of '$RA_USER' failed\" in its log"
        ra_swanctl "$SD" --list-sas > "$SD/list-sas.txt" 2>&1 || true
        if grep -qE 'ESTABLISHED|INSTALLED' "$SD/list-sas.txt"; then fail "strongSwan server: an SA exists after a wrong password (server/list-sas.txt)"; fi ;;
    us) server_saw_xauth_fail || fail "our server: no XAUTH failure event ($RA_EV_AUTH_FAIL)"
        if ev_has "$SD/events.jsonl" "$RA_EV_UP"; then fail "our server: tunnel up with a wrong password"; fi ;;
    lsw) server_saw_xauth_fail || fail "libreswan server: no 'XAUTH: User $RA_USER: Authentication Failed' in its log"
        ra_lsw_whack "$RUNBASE/srv" --trafficstatus > "$SD/trafficstatus.txt" 2>&1 || true
        if grep -q 'type=ESP' "$SD/trafficstatus.txt"; then fail "libreswan server: an IPsec SA exists after a wrong password (server/trafficstatus.txt)"; fi
        ip -n "$NSS" xfrm state > "$SD/xfrm-state.txt" 2>&1 || true
        if grep -q '^src' "$SD/xfrm-state.txt"; then fail "libreswan server: its kernel holds ESP SAs after a wrong password (server/xfrm-state.txt)"; fi
        log "refused (libreswan server): $(grep -hoE "XAUTH: User $RA_USER: Authentication Failed[^\"]*" "$SD/pluto.log" 2>/dev/null | sort -u | paste -sd';' - || true)" ;;
    esac
    log "refused: $(grep -hoE "XAuth authentication of '$RA_USER'[^,]* failed|$RA_VPNC_REFUSED" "$SD/charon.log" "$CD/charon.log" "$CD/vpnc.log" 2>/dev/null | sort -u | paste -sd';' - || true)"
fi
timing checks "$(since "$t0")"

# --------------------------------------------------------------- teardown
# client first (vpnc and charon send their Deletes), then the server, then
# the capture: the pcap is complete before tshark reads it
t0=$(now_ms)
if [ "$CLIENT" = ss ]; then ra_swanctl "$CD" --terminate --ike ra --timeout 5 > "$CD/terminate.txt" 2>&1 || true; fi
if [ "$CLIENT" = lsw ]; then RA_WHACK_TIMEOUT=10 ra_lsw_whack "$RUNBASE/cli" --name ra --terminate > "$CD/terminate.txt" 2>&1 || true; fi
for side in cli srv; do   # libreswan's view before it stops
    d=$CD; [ $side = srv ] && d=$SD
    if [ -S "$RUNBASE/$side/pluto.ctl" ]; then RA_WHACK_TIMEOUT=10 ra_lsw_whack "$RUNBASE/$side" --status > "$d/status.txt" 2>&1 || true; fi
done
for (( i = ${#DAEMONS[@]} - 1; i >= 0; i-- )); do
    read -r pf name grace <<< "${DAEMONS[$i]}"
    stop_daemon "$pf" "$name" "$grace"
done
DAEMONS=()
nap 0.3
stop_daemon "$CAP_PIDFILE" tcpdump 3
timing teardown "$(since "$t0")"

# ------------------------------------------------------------ wire checks
# RA_WIRE=defer (the guest): tshark runs later on the host (wire-cell.sh),
# which turns a PASS into a FAIL when the capture says so
if [ "${RA_WIRE:-inline}" = defer ]; then
    echo "$PW" > "$CELL_OUT/wire.pending"
    log "wire: deferred to the host (wire-cell.sh)"
    exit 0
fi
t0=$(now_ms)
msg=$(ra_cell_wire "$CELL_OUT" "$PW") || fail "wire: $msg"
log "wire: $(tail -n 1 "$CELL_OUT/wire-check.txt")"
timing wire "$(since "$t0")"
exit 0
