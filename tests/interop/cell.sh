#!/bin/bash
# One cell of the interop matrix, on a kernel with ESP (inside the guest, or
# directly on a machine whose kernel has esp4 + DES):
#   cell.sh ID SUITE MODE PFS THEM OUR_ROLE REKEY TEARDOWN [NAT [AUTH]]   (a line of lib/matrix.sh)
# Our side is the program named by IKEV1_PEER (the real ikev1-peer, or the
# stand-in); the counterpart is strongSwan or libreswan with kernel ESP.
# Topology (two namespaces of this cell, nothing else on the link):
#
#  [ns ikeint-ID-us]                                      [ns ikeint-ID-them]
#  host0 198.51.100.1/24 (dummy)                           sub0 203.0.113.1/24 (dummy)
#  ikp0 (TUN, route 203.0.113.0/24)  veth0 192.0.2.1 ==== veth0 192.0.2.2
#
# NAT cells (NAT=us or NAT=them) put a third namespace, ikeint-ID-nat, between
# the two: a masquerading NAT made with nftables (README, "NAT cells"). The
# side behind it gets a private address (10.1.0.2 us, 10.2.0.2 them) and the
# NAT takes the address that side has in the plain cells on the shared link,
# so that the other side's view is unchanged:
#
#  NAT=us:   [us] veth0 10.1.0.2 == veth1 10.1.0.1 [nat] veth0 192.0.2.1 == veth0 192.0.2.2 [them]
#  NAT=them: [us] veth0 192.0.2.1 == veth0 192.0.2.2 [nat] veth1 10.2.0.1 == veth0 10.2.0.2 [them]
#
# Steps: start captures, counterpart, our side (wait for its "ready" event);
# establish (we ping to trigger as initiator; they initiate otherwise); check
# both sides agree on the SPIs; ping each way (all replies, their kernel's ESP
# counters move); optional rekey with a ping running; NAT cells: their kernel's
# SAs are UDP-encapsulated, the side behind the NAT sends keepalives (counted
# on the wire) and the NAT translated; Delete from one side and
# check the other removed its SAs; SIGTERM our side. Writes CELL_OUT/result
# ("PASS" or "FAIL: reason"), timings, logs, pcaps, our events and key tables.
# Decryption with tshark is a separate step (decrypt.sh), run on the host.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/suites.sh"
source "$HERE/lib/ioscfg.sh"
[ $# -ge 8 ] && [ $# -le 10 ] || { echo "usage: cell.sh ID SUITE MODE PFS THEM OUR_ROLE REKEY TEARDOWN [NAT [AUTH]]" >&2; exit 2; }
CELL_ID=$1 SUITE=$2 MODE=$3 PFS=$4 THEM=$5 OUR_ROLE=$6 REKEY=$7 TEARDOWN=$8 NAT=${9:--} AUTH=${10:-psk}
case "$NAT" in -|us|them) ;; *) echo "NAT must be -, us or them" >&2; exit 2;; esac
# certificate cells (README, "Certificate cells"): AUTH is KEY,ID[,EXTRA]
CERT_KEY= CERT_ID= CERT_EXTRA= CERT_BAD=
if [ "$AUTH" != psk ]; then
    IFS=, read -r CERT_KEY CERT_ID CERT_EXTRA <<< "$AUTH"
    case "$CERT_KEY" in rsa) IOS_AUTH=rsa-sig ;; ec256|ec384) IOS_AUTH=ecdsa-sig ;;
        *) echo "auth: unknown key type $CERT_KEY" >&2; exit 2 ;; esac
    case "$CERT_ID" in dn) IOS_IDENTITY=dn ;; fqdn) IOS_IDENTITY=hostname ;; addr) IOS_IDENTITY=address ;;
        *) echo "auth: unknown identity $CERT_ID" >&2; exit 2 ;; esac
    case "$CERT_EXTRA" in ""|frag) ;; them-*|us-*) CERT_BAD=$CERT_EXTRA ;;
        *) echo "auth: unknown extra $CERT_EXTRA" >&2; exit 2 ;; esac
    [ -z "$CERT_BAD" ] || [ "$TEARDOWN" = refused ] || { echo "a bad certificate needs teardown refused" >&2; exit 2; }
    [ "$NAT" = - ] || { echo "no certificate cell behind a NAT" >&2; exit 2; }
    CERT_PKI=${CERT_PKI:-$IKEINT_OUT/pki}
    [ -f "$CERT_PKI/ids.env" ] || { echo "no certificates in $CERT_PKI: run pki/make-ca.sh $CERT_PKI" >&2; exit 2; }
    source "$CERT_PKI/ids.env"
    # the 600-byte fragments of the fragmentation cells (both sides)
    CERT_FRAGMENT_SIZE=${CERT_FRAGMENT_SIZE:-600}
elif [ "$TEARDOWN" = refused ]; then
    # a refused cell: our configuration refuses Aggressive Mode, they initiate it
    [ "$MODE" = aggressive ] && [ "$OUR_ROLE" = responder ] \
        || { echo "a refused cell is an aggressive-mode cell with our side responding" >&2; exit 2; }
    IOS_AGGRESSIVE_DISABLE=yes
fi
suite_load "$SUITE" || { echo "unknown suite $SUITE" >&2; exit 2; }
IKEV1_PEER=${IKEV1_PEER:-$HERE/stand-in/ikev1-peer-standin}
CELL_OUT=${CELL_OUT:-$IKEINT_OUT/cells/$CELL_ID}
REKEY_LIFE=${REKEY_LIFE:-60}           # short phase-2 lifetime of the rekeying side (s)
NSU=ikeint-$CELL_ID-us NST=ikeint-$CELL_ID-them NSN=ikeint-$CELL_ID-nat
OUR_IP=192.0.2.1 OUR_HOST=198.51.100.1 OUR_NET=198.51.100.0/24 OUR_NET_IOS="198.51.100.0 0.0.0.255"
THEIR_IP=192.0.2.2 THEIR_HOST=203.0.113.1 THEIR_NET=203.0.113.0/24 THEIR_NET_IOS="203.0.113.0 0.0.0.255"
# Each side's own address (OUR_IP, THEIR_IP), how the other side sees it
# (OUR_PUBLIC, THEIR_PUBLIC), and its next hop towards the other (OUR_GW,
# THEIR_GW). Identities are the own addresses, except that a counterpart
# behind the NAT is known by its public one (like a server behind a port
# forward); we are known by our own address (IOS's `identity address`).
OUR_PUBLIC=$OUR_IP THEIR_PUBLIC=$THEIR_IP OUR_GW=$THEIR_IP THEIR_GW=$OUR_IP
NAT_INSIDE= NAT_OUTSIDE= NAT_HOST= NAT_FORWARD=no KA_PCAP=
case "$NAT" in
us)   OUR_IP=10.1.0.2 NAT_INSIDE=10.1.0.1 NAT_OUTSIDE=$OUR_PUBLIC NAT_HOST=10.1.0.2
      OUR_GW=$NAT_INSIDE KA_PCAP=wire-us.pcap
      [ "$OUR_ROLE" = responder ] && NAT_FORWARD=yes ;;
them) THEIR_IP=10.2.0.2 NAT_INSIDE=10.2.0.1 NAT_OUTSIDE=$THEIR_PUBLIC NAT_HOST=10.2.0.2
      THEIR_GW=$NAT_INSIDE KA_PCAP=wire-them.pcap
      [ "$OUR_ROLE" = initiator ] && NAT_FORWARD=yes ;;
esac
# the side behind the NAT sends its keepalives this often (s): the
# counterpart by its configuration, we by `crypto isakmp nat keepalive N` in
# ours (IOS_NAT_KEEPALIVE, NAT cells only; set it empty to leave the command
# out and keep our side's default, 20 s)
NAT_KEEPALIVE_S=${NAT_KEEPALIVE_S:-5}
[ "$NAT" != - ] && IOS_NAT_KEEPALIVE=${IOS_NAT_KEEPALIVE-$NAT_KEEPALIVE_S}
RUNBASE=$(mktemp -d /tmp/ikeint-$CELL_ID.XXXXXX)
US="$CELL_OUT/us" THEMD="$CELL_OUT/them"
EV="$US/events.jsonl" CTL="$RUNBASE/us.ctl"
rm -rf "$CELL_OUT"; mkdir -p "$US" "$THEMD"
printf 'CELL_ID=%s SUITE=%s MODE=%s PFS=%s THEM=%s OUR_ROLE=%s REKEY=%s TEARDOWN=%s NAT=%s AUTH=%s\n' \
    "$CELL_ID" "$SUITE" "$MODE" "$PFS" "$THEM" "$OUR_ROLE" "$REKEY" "$TEARDOWN" "$NAT" "$AUTH" > "$CELL_OUT/cell.env"
exec > >(tee -a "$CELL_OUT/cell.log") 2>&1
RESULT= US_PID= CAPS=()
fail() { log "FAIL: $*"; [ -n "$RESULT" ] || RESULT="FAIL: $*"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%d' $(( d / 1000 )) $(( d % 1000 / 100 )); }
T_START=$(now_ms)
timing() { echo "$1 $2" >> "$CELL_OUT/timings.txt"; }
ctl() { timeout 60 "$IKEV1_PEER" ctl --control "$CTL" -- "$@"; }
events() { grep "\"event\":\"$1\"" "$EV" 2>/dev/null; }   # compact JSON (README)
# jget VAR FIELD JSON: VAR = the field's value (string or number), no process
jget() { local re="\"$2\":(\"([^\"]*)\"|([^,}]*))"; if [[ $3 =~ $re ]]; then printf -v "$1" '%s' "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"; else printf -v "$1" ''; fi; }
ev_count_ge() { [ "$(grep -c "\"event\":\"$1\"" "$EV")" -ge "$2" ]; }
ev_match() { # ev_match EVENT KEY=VALUE... : a line of that event with these string fields
    local line kv ok ev=$1; shift
    while IFS= read -r line; do
        [[ $line == *"\"event\":\"$ev\""* ]] || continue
        ok=1; for kv in "$@"; do [[ $line == *"\"${kv%%=*}\":\"${kv#*=}\""* ]] || ok=0; done
        [ $ok = 1 ] && return 0
    done < "$EV"
    return 1
}
their_spis_gone() { ! ip -n "$NST" xfrm state 2>/dev/null | grep -qE "spi ($1|$2) "; }

cleanup() {
    local p
    [ -n "$US_PID" ] && stop_pid "$US_PID" "our side" 20
    for p in "${PIDS[@]}"; do stop_pid "$p" daemon; done
    sleep 0.5
    for p in "${CAPS[@]}"; do stop_pid "$p" capture; done
    [ "$NAT" != - ] && ip netns exec "$NSN" nft list ruleset > "$CELL_OUT/nat-ruleset.txt" 2>&1
    ip netns del "$NSU" 2>/dev/null; ip netns del "$NST" 2>/dev/null; ip netns del "$NSN" 2>/dev/null
    cp "$RUNBASE/them/charon.log" "$THEMD/" 2>/dev/null
    rm -rf "$RUNBASE"
    [ -n "$RESULT" ] || RESULT=PASS
    echo "$RESULT" > "$CELL_OUT/result"
    timing total "$(since "$T_START")"
    log "cell $CELL_ID: $RESULT ($(since "$T_START") s)"
}
trap cleanup EXIT
log "cell $CELL_ID: suite=$SUITE mode=$MODE pfs=$PFS them=$THEM our_role=$OUR_ROLE rekey=$REKEY teardown=$TEARDOWN nat=$NAT auth=$AUTH"
log "our side: $IKEV1_PEER"

# ------------------------------------------------------------------ topology
t0=$(now_ms)
ip netns add "$NSU" && ip netns add "$NST" || { fail "netns add"; exit 1; }
NSS=("$NSU" "$NST")
if [ "$NAT" = - ]; then
    ip link add veth0 netns "$NSU" type veth peer name veth0 netns "$NST"
else
    ip netns add "$NSN" || { fail "netns add (nat)"; exit 1; }
    NSS+=("$NSN")
    # the NAT's veth0 is its outside (the shared link), veth1 its inside
    if [ "$NAT" = us ]; then
        ip link add veth0 netns "$NSU" type veth peer name veth1 netns "$NSN"
        ip link add veth0 netns "$NSN" type veth peer name veth0 netns "$NST"
    else
        ip link add veth0 netns "$NSU" type veth peer name veth0 netns "$NSN"
        ip link add veth1 netns "$NSN" type veth peer name veth0 netns "$NST"
    fi
fi
for ns in "${NSS[@]}"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
done
ip -n "$NSU" addr add $OUR_IP/24 dev veth0;   ip -n "$NSU" link set veth0 up
ip -n "$NST" addr add $THEIR_IP/24 dev veth0; ip -n "$NST" link set veth0 up
if [ "$NAT" != - ]; then
    ip -n "$NSN" addr add $NAT_OUTSIDE/24 dev veth0; ip -n "$NSN" link set veth0 up
    ip -n "$NSN" addr add $NAT_INSIDE/24 dev veth1;  ip -n "$NSN" link set veth1 up
    [ "$NAT" = us ] && ip -n "$NSU" route add default via $NAT_INSIDE
    [ "$NAT" = them ] && ip -n "$NST" route add default via $NAT_INSIDE
    # A home router: masquerade what leaves by the outside, let replies and
    # (for a responder behind it) IKE's two ports in, drop anything else
    # that comes from outside. Counters show what crossed.
    {
        echo "table ip ikeint_nat {"
        echo "  chain prerouting {"
        echo "    type nat hook prerouting priority dstnat; policy accept;"
        [ "$NAT_FORWARD" = yes ] && echo "    iifname \"veth0\" udp dport { 500, 4500 } counter dnat to $NAT_HOST"
        echo "  }"
        echo "  chain postrouting {"
        echo "    type nat hook postrouting priority srcnat; policy accept;"
        echo "    oifname \"veth0\" counter masquerade"
        echo "  }"
        echo "  chain forward {"
        echo "    type filter hook forward priority filter; policy accept;"
        echo "    ct state established,related counter accept"
        echo "    iifname \"veth1\" oifname \"veth0\" counter accept"
        echo "    ct status dnat counter accept"
        echo "    counter drop"
        echo "  }"
        echo "}"
    } > "$CELL_OUT/nat.nft"
    ip netns exec "$NSN" nft -f "$CELL_OUT/nat.nft" || { fail "nft (the NAT's ruleset)"; exit 1; }
fi
ip -n "$NSU" link add host0 type dummy; ip -n "$NSU" addr add $OUR_HOST/24 dev host0; ip -n "$NSU" link set host0 up
ip -n "$NST" link add sub0 type dummy;  ip -n "$NST" addr add $THEIR_HOST/24 dev sub0; ip -n "$NST" link set sub0 up
# our plaintext path: a TUN device (our peer attaches to it) carrying the remote proxy
ip -n "$NSU" tuntap add dev ikp0 mode tun && ip -n "$NSU" link set ikp0 up \
    && ip -n "$NSU" route add $THEIR_NET dev ikp0 src $OUR_HOST || { fail "TUN device ikp0"; exit 1; }
# theirs: the kernel's IPsec policies catch this route's traffic once installed;
# before that it would leave in clear text (the leak check would see it)
ip -n "$NST" route add $OUR_NET via $THEIR_GW dev veth0 src $THEIR_HOST
for side in us them; do
    ns=$NSU; [ $side = them ] && ns=$NST
    ( exec ip netns exec "$ns" tcpdump -n -i veth0 -U -s 0 -w "$CELL_OUT/wire-$side.pcap" ) > "$CELL_OUT/capture-$side.log" 2>&1 &
    CAPS+=($!)
done
WAIT_S=30 wait_for test -s "$CELL_OUT/wire-us.pcap" || fail "capture did not start"
WAIT_S=30 wait_for test -s "$CELL_OUT/wire-them.pcap" || fail "capture did not start"

# phase-2 lifetimes: short on the side that must rekey. Ours is IOS syntax,
# whose range is 120-86400 s (ted's IOS import refuses less, as IOS does), so
# our short lifetime is at least 120 s; REKEY_WAIT_LIFE is the rekeying side's.
IOS_MIN_SA_LIFE=120
THEIR_LIFE=3600 OUR_SA_LIFE=3600 REKEY_WAIT_LIFE=$REKEY_LIFE
[ "$REKEY" = theirs ] && THEIR_LIFE=$REKEY_LIFE
if [ "$REKEY" = ours ]; then
    OUR_SA_LIFE=$(( REKEY_LIFE < IOS_MIN_SA_LIFE ? IOS_MIN_SA_LIFE : REKEY_LIFE ))
    REKEY_WAIT_LIFE=$OUR_SA_LIFE
fi
# ----------------------------------------------------------------- our side
# started first, so that its start overlaps the counterpart's (it does nothing
# until traffic or the counterpart arrives)
ios_write_conf "$US/ikev1-peer.cfg"
OUR_ARGS=(--config "$US/ikev1-peer.cfg" --ike "$OUR_IP:500" --esp "$OUR_IP" --tun ikp0 --out "$US" --control "$CTL")
[ "$MODE" = aggressive ] && OUR_ARGS+=(--aggressive)
# NAT cells: anything else our side needs for NAT-T (default none: it binds
# UDP 4500 on the --ike address itself)
[ "$NAT" != - ] && [ -n "${IKEV1_PEER_NAT_ARGS:-}" ] && OUR_ARGS+=($IKEV1_PEER_NAT_ARGS)
# certificate cells: our certificate and key, the trust anchor, the CA's CRL
# (always: it revokes only the -revoked certificates), and the fragment size
if [ "$AUTH" != psk ]; then
    US_CERT_NAME=us-$CERT_KEY THEM_CERT_NAME=them-$CERT_KEY
    case "$CERT_BAD" in us-*) US_CERT_NAME=$CERT_BAD ;; them-*) THEM_CERT_NAME=$CERT_BAD ;; esac
    OUR_ARGS+=(--cert "$CERT_PKI/$US_CERT_NAME.pem" --private-key "$CERT_PKI/$US_CERT_NAME.key"
               --ca "$CERT_PKI/ca.pem" --crl "$CERT_PKI/crl.pem")
    [ "$CERT_EXTRA" = frag ] && OUR_ARGS+=(--fragment-size "$CERT_FRAGMENT_SIZE")
    # the identities: ours as the counterpart must see it, theirs as it sends it
    case "$CERT_ID" in
    dn)   ID_US=$PKI_US_DN ID_THEM=$PKI_THEM_DN ;;
    fqdn) ID_US=$PKI_US_FQDN ID_THEM=$PKI_THEM_FQDN ;;
    addr) ID_US=$OUR_IP ID_THEM=$THEIR_PUBLIC ;;
    esac
    log "certificates: ours $US_CERT_NAME, theirs $THEM_CERT_NAME; identities $CERT_ID: us '$ID_US', them '$ID_THEM'"
fi
printf '%q ' "$IKEV1_PEER" "${OUR_ARGS[@]}" > "$US/command.txt"; echo >> "$US/command.txt"
( exec ip netns exec "$NSU" "$IKEV1_PEER" "${OUR_ARGS[@]}" ) > "$US/stdout.log" 2>&1 &
US_PID=$!
# ------------------------------------------------------------- counterpart
case "$THEM" in
strongswan)
    esp=$SUITE_ESP_SS; [ "$PFS" = yes ] && esp="$esp-$SUITE_PFS_SS"
    aggr=no; [ "$MODE" = aggressive ] && aggr=yes
    ss_cert_env=(SS_LOCAL_ID=$THEIR_PUBLIC SS_REMOTE_ID=$OUR_IP)
    if [ "$AUTH" != psk ]; then
        # swanctl's layout next to them/swanctl.conf (x509, x509ca, x509crl, rsa/ecdsa/pkcs8)
        ss_cert=$(ss_install_creds "$THEMD" "$CERT_PKI/$THEM_CERT_NAME.pem" "$CERT_PKI/$THEM_CERT_NAME.key" \
            "$CERT_PKI/ca.pem" -- "$CERT_PKI/crl.pem")
        # (with dn, the subject DN is theirs by default; them-wrongid: charon
        # sends only an identity its certificate holds, so there it is the
        # certificate's own, other.example's, from 192.0.2.2)
        lid=$ID_THEM; [ "$CERT_ID" = dn ] && lid=
        ss_cert_env=(SS_AUTH=pubkey "SS_CERT=$ss_cert" "SS_LOCAL_ID=$lid" "SS_REMOTE_ID=$ID_US")
        [ "$CERT_EXTRA" = frag ] && ss_cert_env+=(SS_FRAGMENTATION=force "SS_FRAGMENT_SIZE=$CERT_FRAGMENT_SIZE")
    fi
    ( export "${ss_cert_env[@]}"
    SS_AGGRESSIVE=$aggr SS_CHILD_LIFE=$THEIR_LIFE SS_CHILD_REKEY=$(( THEIR_LIFE * 3 / 4 )) \
    SS_RETRANSMIT_TIMEOUT=${SS_RETRANSMIT_TIMEOUT:-10.0} SS_LOG="$RUNBASE/them/charon.log" SS_LOG_IKE=2 \
    SS_KEEPALIVE=${NAT_KEEPALIVE_S}s \
        ss_write_conf "$THEMD" "$RUNBASE/them" ikeint $THEIR_IP $OUR_PUBLIC $THEIR_NET $OUR_NET "$SUITE_IKE_SS" "$esp" )
    ss_start "$NST" "$THEMD" "$RUNBASE/them" || { fail "charon (them) did not start"; exit 1; }
    swanctl_ "$THEMD" --load-all --file "$THEMD/swanctl.conf" > "$THEMD/swanctl-load.txt" 2>&1 \
        || { fail "swanctl --load-all (them)"; exit 1; }
    log "them: charon pid $SS_PID ($(/usr/lib/ipsec/charon --version 2>/dev/null | head -n1))" ;;
libreswan)
    [ -n "$SUITE_IKE_LSW" ] || { fail "libreswan has no $SUITE suite"; exit 1; }
    [ "$MODE" = main ] || [ "$AUTH" != psk ] || { fail "aggressive mode (PSK) is not in the libreswan matrix"; exit 1; }
    esp=$SUITE_ESP_LSW; [ "$PFS" = yes ] && esp="$esp-$SUITE_PFS_LSW"
    lsw_cert_env=(LSW_LEFTID=$THEIR_PUBLIC LSW_RIGHTID=$OUR_IP)
    if [ "$AUTH" != psk ]; then
        # the NSS database pki/make-ca.sh made for this certificate
        [ -f "$CERT_PKI/nss-$THEM_CERT_NAME/cert9.db" ] || { fail "no NSS database nss-$THEM_CERT_NAME in $CERT_PKI"; exit 1; }
        mkdir -p "$THEMD/nss"; cp -r "$CERT_PKI/nss-$THEM_CERT_NAME/." "$THEMD/nss/"
        case "$CERT_ID" in
        dn)   lsw_cert_env=(LSW_LEFTID=%fromcert LSW_RIGHTID="\"$ID_US\"") ;;
        fqdn) lsw_cert_env=("LSW_LEFTID=@$ID_THEM" "LSW_RIGHTID=@$ID_US") ;;
        addr) lsw_cert_env=("LSW_LEFTID=$ID_THEM" "LSW_RIGHTID=$ID_US") ;;
        esac
        lsw_cert_env+=(LSW_AUTH=rsasig "LSW_CERT=$THEM_CERT_NAME")
        [ "$MODE" = aggressive ] && lsw_cert_env+=(LSW_AGGRESSIVE=yes)
        [ "$CERT_EXTRA" = frag ] && lsw_cert_env+=(LSW_FRAGMENTATION=force)
    fi
    ( export "${lsw_cert_env[@]}"
    LSW_PFS=$PFS LSW_SALIFETIME=$THEIR_LIFE LSW_REKEYMARGIN=$(( THEIR_LIFE / 4 )) \
    LSW_RETRANSMIT_MS=${LSW_RETRANSMIT_MS:-10000} \
    LSW_KEEPALIVE=$NAT_KEEPALIVE_S \
    LSW_ENCAPSULATION=$([ "$NAT" = - ] && echo no || echo auto) \
        lsw_write_conf "$THEMD" "$RUNBASE/them" ikeint $THEIR_IP $OUR_PUBLIC $THEIR_NET $OUR_NET "$SUITE_IKE_LSW" "$esp" )
    lsw_start "$NST" "$THEMD" "$RUNBASE/them" || { fail "pluto (them) did not start"; exit 1; }
    "$LSW_BIN/addconn" --config "$THEMD/ipsec.conf" --ctlsocket "$RUNBASE/them/pluto.ctl" ikeint \
        > "$THEMD/addconn.txt" 2>&1 || { fail "addconn (them): $(tail -n1 "$THEMD/addconn.txt")"; exit 1; }
    whack_ "$RUNBASE/them" --listen >> "$THEMD/addconn.txt" 2>&1
    log "them: pluto pid $LSW_PID ($("$LSW_BIN/pluto" --version 2>&1 | head -n1))" ;;
*) fail "unknown counterpart $THEM"; exit 1 ;;
esac

ready_or_gone() { grep -q '"event":"ready"' "$EV" || ! kill -0 "$US_PID"; }
WAIT_S=${READY_WAIT_S:-180} wait_for ready_or_gone
if ! grep -q '"event":"ready"' "$EV"; then
    if kill -0 "$US_PID" 2>/dev/null; then fail "our side: no ready event in ${READY_WAIT_S:-180} s"
    else wait "$US_PID"; rc=$?; US_PID=
        fail "our side exited with $rc before its ready event: $(tail -n1 "$US/stdout.log" | cut -c1-200)"; fi
    exit 1
fi
timing setup "$(since "$t0")"
log "our side ready (pid $US_PID) after $(since "$t0") s of setup"

# ------------------------------------------------ refused certificates
# (certificate cells with a bad certificate: README, "Certificate cells")
# The initiator starts phase 1; the side given the bad certificate must
# refuse it and say so: we with a certificate_refused event and the reason
# expected; they in their log. Nothing may come up: no phase1_up on our
# side (we initiate when ours is the bad one, so that the refusal comes
# before we could count phase 1 as up), no phase2_up, no SA in their kernel.
their_log() { case "$THEM" in strongswan) echo "$RUNBASE/them/charon.log";; libreswan) echo "$THEMD/pluto.log";; esac; }
# (pluto's lines about the connection only: its other lines name files,
# whose paths hold the cell's name)
their_log_lines() { case "$THEM" in strongswan) cat "$(their_log)";; libreswan) grep -F '"ikeint"' "$(their_log)";; esac 2>/dev/null; }
their_log_has() { their_log_lines | grep -qE "$1"; }
if [ -n "$CERT_BAD" ]; then
    t0=$(now_ms)
    REFUSE_WAIT_S=${REFUSE_WAIT_S:-45}
    case "$CERT_BAD" in
    them-expired) want=expired ;; them-otherca) want=unknown-issuer ;;
    them-wrongid) want=identity-mismatch ;; them-revoked) want=revoked ;;
    them-*) fail "unknown bad certificate $CERT_BAD"; exit 1 ;;
    esac
    # what their log says when they refuse ours (strongSwan 5.9.8, libreswan 4.10)
    case "$THEM:$CERT_BAD" in
    strongswan:us-expired) want_log='subject certificate invalid \(valid from' ;;
    strongswan:us-otherca) want_log='no issuer certificate found for' ;;
    strongswan:us-wrongid) want_log="no trusted [A-Z]+ public key found for|no peer config found|looking for peer configs matching .* failed" ;;
    libreswan:us-expired)  want_log='EXPIRED_CERTIFICATE|[Cc]ertificate (has )?expired' ;;
    libreswan:us-otherca)  want_log='UNKNOWN_ISSUER|[Ii]ssuer' ;;
    libreswan:us-wrongid)  want_log='no suitable connection|peer ID .* mismatch|ID_DER_ASN1_DN .* not match|switched' ;;
    esac
    refusal_seen() {
        case "$CERT_BAD" in
        them-*) ev_match certificate_refused reason="$want" ;;
        us-*)   their_log_has "$want_log" ;;
        esac
    }
    if [ "$OUR_ROLE" = initiator ]; then
        end=$(( EPOCHSECONDS + REFUSE_WAIT_S ))
        while ! refusal_seen && ! grep -q '"event":"phase2_up"' "$EV" && [ "$EPOCHSECONDS" -lt $end ]; do
            ip netns exec "$NSU" ping -c 1 -W 2 -I $OUR_HOST $THEIR_HOST > /dev/null 2>&1
        done
    else
        # (their initiate waits for retransmissions that never come: bounded,
        # in the background, stopped at the end of the cell)
        case "$THEM" in
        strongswan) ( exec timeout $(( REFUSE_WAIT_S + 5 )) env STRONGSWAN_CONF="$THEMD/strongswan.conf" \
                        swanctl --initiate --child ikeint --timeout "$REFUSE_WAIT_S" ) > "$THEMD/initiate.txt" 2>&1 & ;;
        libreswan)  ( exec timeout $(( REFUSE_WAIT_S + 5 )) "$LSW_BIN/whack" --ctlsocket "$RUNBASE/them/pluto.ctl" --initiate --name ikeint ) \
                        > "$THEMD/initiate.txt" 2>&1 & ;;
        esac
        PIDS+=($!)
        WAIT_S=$REFUSE_WAIT_S wait_for refusal_seen
    fi
    nap 2    # anything that would still come up after the refusal
    timing establish "$(since "$t0")"
    log "our events: $(grep -oE '"event":"[a-z0-9_]+"' "$EV" | cut -d'"' -f4 | paste -sd' ')"
    case "$CERT_BAD" in
    them-*)
        if ev_match certificate_refused reason="$want"; then
            log "we refused their $CERT_BAD certificate: $(events certificate_refused | head -n1)"
        else
            got=$(events certificate_refused | head -n1)
            fail "we did not refuse their $CERT_BAD certificate with reason $want (${got:-no certificate_refused event}; errors: $(events error | head -n2 | cut -c1-160 | paste -sd';'))"
        fi ;;
    us-*)
        if their_log_has "$want_log"; then
            log "they refused our $CERT_BAD certificate: $(their_log_lines | grep -m1 -E "$want_log")"
        else
            fail "their log shows no refusal of our $CERT_BAD certificate (/$want_log/)"
        fi
        events error | head -n1 | sed 's/^/our side: /' ;;
    esac
    [ -z "$(events phase1_up)" ] || fail "phase 1 came up on our side: $(events phase1_up | head -n1)"
    [ -z "$(events phase2_up)" ] || fail "phase 2 came up on our side"
    if ip -n "$NST" xfrm state | grep -q '^src'; then fail "their kernel has SAs"; fi
    ip -n "$NST" xfrm state > "$CELL_OUT/xfrm-them.txt" 2>&1
    ctl show crypto isakmp sa > "$US/show-isakmp-sa.txt" 2>&1
    [ -z "$RESULT" ] && log "refused as it must be: no SA anywhere"
    exit 0
fi

# ---------------------------------------------------------------- establish
t0=$(now_ms)
if [ "$OUR_ROLE" = initiator ]; then
    # like IOS: the first packet matching the crypto ACL starts the exchange
    end=$(( $(date +%s) + ${ESTABLISH_WAIT_S:-180} ))
    while ! grep -q '"event":"phase2_up"' "$EV" && [ "$(date +%s)" -lt $end ]; do
        ip netns exec "$NSU" ping -c 1 -W 2 -I $OUR_HOST $THEIR_HOST > /dev/null 2>&1
    done
else
    case "$THEM" in
    strongswan) swanctl_ "$THEMD" --initiate --child ikeint --timeout 80 > "$THEMD/initiate.txt" 2>&1 ;;
    libreswan)  timeout 90 "$LSW_BIN/whack" --ctlsocket "$RUNBASE/them/pluto.ctl" --initiate --name ikeint \
                    > "$THEMD/initiate.txt" 2>&1 ;;
    esac
    log "them: initiate rc=$?"
    if [ "$TEARDOWN" = refused ]; then
        # issue 19: they must hear AUTHENTICATION-FAILED and nothing else
        # come up; we must say why, as a counted drop
        timing establish "$(since "$t0")"
        grep -q 'received AUTHENTICATION_FAILED error notify' "$THEMD/initiate.txt" "$RUNBASE/them/charon.log" 2>/dev/null \
            || fail "they did not receive AUTHENTICATION_FAILED"
        ev_match input_dropped reason='Policy(AggressiveModeRefused)' \
            || fail "our side did not report the refusal (input_dropped Policy(AggressiveModeRefused))"
        [ -z "$(events phase1_up)" ] || fail "phase 1 came up on our side"
        if ip -n "$NST" xfrm state | grep -q '^src'; then fail "their kernel has SAs"; fi
        ctl show crypto isakmp sa > "$US/show-isakmp-sa.txt" 2>&1
        [ -z "$RESULT" ] && log "refused as configured: AUTHENTICATION_FAILED at their end, our drop counted, no SA anywhere"
        exit 0
    fi
    WAIT_S=60 wait_for grep -q '"event":"phase2_up"' "$EV"
fi
P1=$(events phase1_up | head -n1) P2=$(events phase2_up | head -n1)
timing establish "$(since "$t0")"
if [ -z "$P2" ]; then
    fail "no phase2_up event (phase 1: ${P1:-none}; errors: $(events error | head -n2 | cut -c1-160 | paste -sd';'))"
    exit 1
fi
log "established in $(since "$t0") s: $P1"
log "  $P2"
jget m mode "$P1"; jget r role "$P1"; jget SPI_IN spi_in "$P2"; jget SPI_OUT spi_out "$P2"
[ "$m" = "$MODE" ] || fail "phase 1 mode is '$m', expected $MODE"
[ "$r" = "$OUR_ROLE" ] || fail "phase 1 role is '$r', expected $OUR_ROLE"
# In IKEv1 the Quick Mode initiator cannot know when the responder has
# installed its SAs (no acknowledgement of QM3 without the commit bit): when we
# initiate, our phase2_up comes as QM3 leaves, and their outbound SA follows
# once they have processed it. Give them a bounded moment.
their_sas_match() {
    ip -n "$NST" -s xfrm state > "$CELL_OUT/xfrm-them.txt" 2>&1
    grep -A1 "^src $OUR_PUBLIC dst $THEIR_IP" "$CELL_OUT/xfrm-them.txt" | grep -qE "spi $SPI_OUT[( ]" \
    && grep -A1 "^src $THEIR_IP dst $OUR_PUBLIC" "$CELL_OUT/xfrm-them.txt" | grep -qE "spi $SPI_IN[( ]"
}
WAIT_S=20 wait_for their_sas_match
grep -A1 "^src $OUR_PUBLIC dst $THEIR_IP" "$CELL_OUT/xfrm-them.txt" | grep -qE "spi $SPI_OUT[( ]" \
    || fail "their kernel has no inbound SA with our outbound SPI $SPI_OUT"
grep -A1 "^src $THEIR_IP dst $OUR_PUBLIC" "$CELL_OUT/xfrm-them.txt" | grep -qE "spi $SPI_IN[( ]" \
    || fail "their kernel has no outbound SA with our inbound SPI $SPI_IN"
[ -z "$RESULT" ] && log "SPIs agree with their kernel: in $SPI_IN, out $SPI_OUT"
if [ "$AUTH" != psk ]; then
    # certificate cells: we saw their certificate, they authenticated us
    pc=$(events peer_certificate | head -n1)
    jget pcs subject "$pc"
    log "their certificate as we report it: ${pcs:-none}"
    [[ $pcs == *"them.example"* ]] || fail "no peer_certificate event naming them.example (got '${pcs:-none}')"
    case "$THEM" in
    strongswan) au_re="authentication of '[^']*us\.example[^']*' with [A-Z_0-9-]+ successful|authentication of '[^']*us\.example[^']*' .*successful" ;;
    libreswan)  au_re="[Pp]eer ID is [A-Z_0-9]+: '[^']*us\.example" ;;
    esac
    if grep -qE "$au_re" "$RUNBASE/them/charon.log" "$THEMD/pluto.log" 2>/dev/null; then
        log "they authenticated us: $(grep -hm1 -E "$au_re" "$RUNBASE/them/charon.log" "$THEMD/pluto.log" 2>/dev/null)"
    else
        fail "their log does not show our certificate identity authenticated (/$au_re/)"
    fi
fi
if [ "$NAT" != - ]; then
    # NAT-T: both of their kernel's SAs carry ESP in UDP (RFC 3948)
    n_encap=$(grep -c 'encap type espinudp ' "$CELL_OUT/xfrm-them.txt")
    log "NAT-T: their kernel's SAs: $(grep -o 'encap type espinudp sport [0-9]* dport [0-9]*' "$CELL_OUT/xfrm-them.txt" | sort -u | paste -sd';')"
    [ "$n_encap" -ge 2 ] || fail "NAT cell, but $n_encap of their kernel's SAs are UDP-encapsulated (2 expected)"
fi

# ------------------------------------------------------------- ping each way
esp_packets() { # SPI -> packets counted by their kernel for that SA
    ip -n "$NST" -s xfrm state | awk -v spi="$1" '$0 ~ "spi "spi"[( ]" {f=1} f && /lifetime current:/ {getline; gsub(/\(packets\)/,""); split($0,a,","); print a[2]+0; exit}'
}
t0=$(now_ms)
ip netns exec "$NSU" ping -c 3 -i 0.3 -W 3 -w 20 -I $OUR_HOST $THEIR_HOST > "$CELL_OUT/ping-us-to-them.txt" 2>&1 \
    || fail "ping $OUR_HOST -> $THEIR_HOST: $(grep -o '[0-9]* received' "$CELL_OUT/ping-us-to-them.txt")/3"
ip netns exec "$NST" ping -c 3 -i 0.3 -W 3 -w 20 -I $THEIR_HOST $OUR_HOST > "$CELL_OUT/ping-them-to-us.txt" 2>&1 \
    || fail "ping $THEIR_HOST -> $OUR_HOST: $(grep -o '[0-9]* received' "$CELL_OUT/ping-them-to-us.txt")/3"
timing ping "$(since "$t0")"
n_in=$(esp_packets "$SPI_OUT") n_out=$(esp_packets "$SPI_IN") want=6
if [ -z "$n_in$n_out" ] && [ "$REKEY" != - ]; then
    # a short-lifetime cell on a slow host may have rekeyed already: the newest
    # SA must then have carried part of the pings
    P2N=$(events phase2_up | tail -n1); jget s_in spi_in "$P2N"; jget s_out spi_out "$P2N"
    n_in=$(esp_packets "$s_out") n_out=$(esp_packets "$s_in") want=1
    log "rekeyed before the counters were read; newest SA $s_in/$s_out"
fi
log "ping each way: $(grep -o '[0-9]* received' "$CELL_OUT/ping-us-to-them.txt"), $(grep -o '[0-9]* received' "$CELL_OUT/ping-them-to-us.txt"); their kernel ESP packets: in ${n_in:-?} out ${n_out:-?}"
[ "${n_in:-0}" -ge $want ] && [ "${n_out:-0}" -ge $want ] || fail "their kernel's ESP counters did not move (in ${n_in:-?}, out ${n_out:-?}; $want each expected)"
ctl show crypto isakmp sa > "$US/show-isakmp-sa.txt" 2>&1
ctl show crypto ipsec sa > "$US/show-ipsec-sa.txt" 2>&1 || fail "control command 'show crypto ipsec sa' failed"

# -------------------------------------------------------------------- rekey
if [ "$REKEY" != - ] && [ -z "$RESULT" ]; then
    t0=$(now_ms)
    ip netns exec "$NSU" ping -i 0.5 -W 2 -w $(( REKEY_WAIT_LIFE + 60 )) -I $OUR_HOST $THEIR_HOST > "$CELL_OUT/ping-rekey.txt" 2>&1 &
    PING_PID=$!
    WAIT_S=$(( REKEY_WAIT_LIFE + 40 )) WAIT_STEP=1 wait_for ev_count_ge phase2_up 2
    P2B=$(events phase2_up | sed -n 2p)
    if [ -z "$P2B" ]; then
        fail "no rekey within $(( REKEY_WAIT_LIFE + 40 )) s ($REKEY side lifetime $REKEY_WAIT_LIFE s)"
    else
        jget SPI_IN2 spi_in "$P2B"; jget SPI_OUT2 spi_out "$P2B"; jget PG pfs_group "$P2B"
        log "rekeyed after $(since "$t0") s: new SPIs in $SPI_IN2 out $SPI_OUT2"
        [ "$SPI_IN2" != "$SPI_IN" ] && [ "$SPI_OUT2" != "$SPI_OUT" ] || fail "rekey kept the old SPIs"
        [ -n "$PG" ] && [ "$PG" != null ] || fail "rekeyed SA has no PFS group"
        nap 6    # traffic on the new SA
        kill -INT $PING_PID 2>/dev/null; wait $PING_PID
        tx=$(grep -oE '[0-9]+ packets transmitted' "$CELL_OUT/ping-rekey.txt" | cut -d' ' -f1)
        rx=$(grep -oE '[0-9]+ received' "$CELL_OUT/ping-rekey.txt" | cut -d' ' -f1)
        # the short lifetime may have rekeyed again meanwhile: look at the newest SA
        P2N=$(events phase2_up | tail -n1)
        jget SPI_IN spi_in "$P2N"; jget SPI_OUT spi_out "$P2N"
        n_new=$(esp_packets "$SPI_OUT")
        log "ping across the rekey: $rx/$tx replies; $(events phase2_up | wc -l) SAs so far; newest $SPI_IN/$SPI_OUT carried ${n_new:-0} packets into their kernel"
        echo "rekey_ping $rx/$tx" >> "$CELL_OUT/timings.txt"
        [ "${n_new:-0}" -gt 0 ] || fail "no traffic on the newest SA ($SPI_OUT) in their kernel"
        [ "${tx:-0}" -gt 0 ] && [ $(( ${tx:-0} - ${rx:-0} )) -le ${REKEY_MAX_LOSS:-2} ] \
            || fail "ping across the rekey lost $(( ${tx:-0} - ${rx:-0} )) of ${tx:-0} (max ${REKEY_MAX_LOSS:-2})"
    fi
    kill -INT $PING_PID 2>/dev/null; wait $PING_PID 2>/dev/null
    timing rekey "$(since "$t0")"
fi

# --------------------------------------------------------------- NAT checks
# The side behind the NAT sends NAT-T keepalives (RFC 3948 s.2.3: a UDP 4500
# datagram of one byte, 0xFF) when it has sent nothing else for a while; they
# are counted on its own link. The NAT's counters show it translated.
ka_count() { # PCAP -> keepalives in it (the capture is still being written)
    tcpdump -n -r "$CELL_OUT/$1" 'udp port 4500 and udp[4:2] = 9 and udp[8] = 0xff' 2>/dev/null | grep -c .
}
ka_seen() { [ "$(ka_count "$KA_PCAP")" -ge 1 ]; }
if [ "$NAT" != - ] && [ -n "$P2" ]; then
    t0=$(now_ms)
    WAIT_S=${KEEPALIVE_WAIT_S:-45} WAIT_STEP=2 wait_for ka_seen
    ka=$(ka_count "$KA_PCAP") ka_other=$(ka_count "$([ "$KA_PCAP" = wire-us.pcap ] && echo wire-them.pcap || echo wire-us.pcap)")
    log "NAT-T keepalives from the side behind the NAT ($NAT): $ka on its link, $ka_other across the NAT, after $(since "$t0") s of waiting"
    echo "keepalives $ka" >> "$CELL_OUT/timings.txt"
    [ "${ka:-0}" -ge 1 ] || fail "no NAT-T keepalive from the side behind the NAT ($NAT) within ${KEEPALIVE_WAIT_S:-45} s"
    ip netns exec "$NSN" nft list table ip ikeint_nat > "$CELL_OUT/nat-ruleset.before-delete.txt" 2>&1
    masq=$(grep -o 'counter packets [0-9]* bytes [0-9]* masquerade' "$CELL_OUT/nat-ruleset.before-delete.txt" | cut -d' ' -f3)
    fwd=$(grep -o 'counter packets [0-9]* bytes [0-9]* dnat' "$CELL_OUT/nat-ruleset.before-delete.txt" | cut -d' ' -f3)
    log "the NAT masqueraded ${masq:-?} connection(s), forwarded ${fwd:-0} (nat.nft)"
    [ $(( ${masq:-0} + ${fwd:-0} )) -ge 1 ] || fail "the NAT translated nothing"
    timing keepalive "$(since "$t0")"
fi

# ------------------------------------------------------------------- delete
t0=$(now_ms)
if [ -z "$RESULT" ] || [ -n "$P2" ]; then
    n_down_before=$(events phase2_down | wc -l)
    P2N=$(events phase2_up | tail -n1)      # the SA in use now (rekey cells rekey every 30 s)
    jget SPI_IN spi_in "$P2N"; jget SPI_OUT spi_out "$P2N"
    if [ "$TEARDOWN" = ours ]; then
        ctl clear crypto sa > "$US/clear-crypto-sa.txt" 2>&1 || fail "control 'clear crypto sa' failed"
        ctl clear crypto isakmp > "$US/clear-crypto-isakmp.txt" 2>&1 || fail "control 'clear crypto isakmp' failed"
        # the SAs we deleted must be gone (libreswan, as the original initiator,
        # then revives the connection with new SAs: that is its policy, not ours)
        WAIT_S=30 wait_for their_spis_gone "$SPI_IN" "$SPI_OUT" \
            || fail "after our Delete, their kernel still has our SA $SPI_IN/$SPI_OUT"
        jget ICK icookie "$P1"
        case "$THEM" in
        strongswan) WAIT_S=30 wait_for sh -c "! STRONGSWAN_CONF='$THEMD/strongswan.conf' swanctl --list-sas --noblock | grep -q '${ICK:-none}_i'" \
                        || fail "after our Delete, their IKE SA $ICK is still there" ;;
        # (pluto as responder deletes its ISAKMP SA itself once the last IPsec SA is gone)
        libreswan)  WAIT_S=30 wait_for grep -qE 'received Delete SA payload: (self-deleting|deleting) ISAKMP State|deleting state \(STATE_(MAIN|AGGR)_' "$THEMD/pluto.log" \
                        || fail "after our Delete, pluto did not delete its ISAKMP SA" ;;
        esac
        events phase2_down | tail -n +$(( n_down_before + 1 )) | grep -q '"reason":"local_delete"' \
            || fail "no phase2_down event with reason local_delete"
    else
        case "$THEM" in
        strongswan) swanctl_ "$THEMD" --terminate --ike ikeint --timeout 20 > "$THEMD/terminate.txt" 2>&1 ;;
        libreswan)  whack_ "$RUNBASE/them" --name ikeint --terminate > "$THEMD/terminate.txt" 2>&1 ;;
        esac
        WAIT_S=30 wait_for ev_match phase2_down spi_in="$SPI_IN" reason=peer_delete \
            || fail "after their Delete, no phase2_down (peer_delete) for our SA $SPI_IN"
        WAIT_S=30 wait_for ev_match phase1_down reason=peer_delete \
            || fail "after their Delete, no phase1_down (peer_delete)"
    fi
    ctl show crypto ipsec sa > "$US/show-ipsec-sa.after-delete.txt" 2>&1
    ip -n "$NST" -s xfrm state > "$CELL_OUT/xfrm-them.after-delete.txt" 2>&1
fi
timing delete "$(since "$t0")"

# ------------------------------------------------------------------ shutdown
t0=$(now_ms)
kill -TERM "$US_PID" 2>/dev/null
i=0; while kill -0 "$US_PID" 2>/dev/null && [ $i -lt 100 ]; do nap 0.2; i=$((i+1)); done
if kill -0 "$US_PID" 2>/dev/null; then fail "our side did not exit within 20 s of SIGTERM"
else wait "$US_PID"; rc=$?; [ $rc -eq 0 ] || fail "our side exited with $rc after SIGTERM"; US_PID=; fi
timing shutdown "$(since "$t0")"
jq -s . "$EV" > /dev/null 2>&1 || fail "events.jsonl is not valid JSON lines"
case "$THEM" in
strongswan) swanctl_ "$THEMD" --list-sas > "$THEMD/list-sas.txt" 2>&1 ;;
libreswan)  whack_ "$RUNBASE/them" --status > "$THEMD/status.txt" 2>&1 ;;
esac
exit 0
