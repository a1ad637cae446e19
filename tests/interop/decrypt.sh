#!/bin/bash
# The third-party check of one cell's keys (runs on the host, after the
# guest): tshark decrypts the wire capture with the Wireshark key tables that
# OUR side exported (CELL/us/ikev1_decryption_table and CELL/us/esp_sa, in
# Wireshark's own UAT file format), and must see:
#   - phase 1: Main Mode 5/6 decrypted to ID + HASH payloads (Main Mode cells)
#   - Quick Mode decrypted to Nonce + ID payloads; with PFS a KE payload, and
#     without PFS none; two Quick Modes or more in rekey cells
#   - the teardown's Informational exchange decrypted to a Delete payload
#   - every ESP packet decrypted to ICMP with a correct ICV
#   - no clear-text ICMP between the protected subnets on the wire
#   - NAT cells (RFC 3947/3948 through a NAT): every ESP packet inside UDP
#     port 4500 and none bare, every Quick Mode (and Main Mode 5/6, or
#     Aggressive Mode 3) on port 4500 behind the non-ESP marker, decrypted
# A control run without the key tables must see none of the decrypted
# payloads (so the check cannot pass vacuously).
# If our side also wrote its own capture (CELL/us/ikev1-peer.pcap), the ESP
# and Quick Mode checks are repeated on it.
# Usage: decrypt.sh CELL_DIR   -> CELL_DIR/decrypt.txt; exit 0 = all good
set -uo pipefail
C=$(cd "${1:?usage: decrypt.sh CELL_DIR}" && pwd)
source "$C/cell.env"    # CELL_ID SUITE MODE PFS THEM OUR_ROLE REKEY TEARDOWN NAT AUTH
NAT=${NAT:--} AUTH=${AUTH:-psk}
# certificate cells with forced fragmentation (AUTH KEY,ID,frag): the IKE
# fragment payload (132, Cisco/strongSwan IKEv1 fragmentation) must be on
# the wire, from them and (FRAG_REQUIRE=both, the default) from us too;
# tshark 4.0 puts the fragments together, so Main Mode 5/6 are decrypted too
FRAG=no; [[ $AUTH == *,frag ]] && FRAG=yes
REPORT="$C/decrypt.txt"; : > "$REPORT"
WS="$C/.wireshark"; rm -rf "$WS"; mkdir -p "$WS/keys/.config/wireshark" "$WS/nokeys/.config/wireshark"
FAILS=()
say() { echo "$*" >> "$REPORT"; }
bad() { FAILS+=("$*"); say "FAIL: $*"; }
for t in ikev1_decryption_table esp_sa; do
    # (a refused cell has no SA, so no keys)
    [ -s "$C/us/$t" ] || [ "$TEARDOWN" = refused ] || bad "our side wrote no $t"
    cp "$C/us/$t" "$WS/keys/.config/wireshark/$t" 2>/dev/null
done
ts() { # keys|nokeys PCAP tshark-args... (prints frames)
    local home=$1 pcap=$2; shift 2
    HOME="$WS/$home" tshark -n -r "$pcap" -o esp.enable_encryption_decode:TRUE \
        -o esp.enable_authentication_check:TRUE "$@" 2>>"$WS/tshark.err"
}
count() { ts "$@" | wc -l; }
msgids() { ts "$1" "$2" -Y "$3" -T fields -e isakmp.messageid | sort -u | grep -c .; }

check_pcap() { # PCAP LABEL FULL(1: all checks, 0: QM + ESP only)
    local p=$1 label=$2 full=$3
    [ -s "$p" ] || { bad "$label: no capture $p"; return; }
    local qm_k qm_n ke esp esp_icmp icv_ok mm_id mm_id_n del leak
    qm_k=$(msgids keys "$p" 'isakmp.exchangetype == 32 && isakmp.typepayload == 10')
    qm_n=$(msgids nokeys "$p" 'isakmp.exchangetype == 32 && isakmp.typepayload == 10')
    ke=$(count keys "$p" -Y 'isakmp.exchangetype == 32 && isakmp.typepayload == 4')
    esp=$(count keys "$p" -Y esp)
    esp_icmp=$(count keys "$p" -Y 'esp && icmp')
    icv_ok=$(count keys "$p" -Y 'esp.icv_good == 1')
    say "$label: Quick Modes decrypted (distinct message IDs with a Nonce): $qm_k (without keys: $qm_n);" \
        "QM frames with KE: $ke; ESP packets: $esp, decrypted to ICMP: $esp_icmp, ICV correct: $icv_ok" \
        "(without keys: $(count nokeys "$p" -Y 'esp && icmp'))"
    local want_qm=1; [ "$REKEY" != - ] && want_qm=2
    [ "$qm_k" -ge $want_qm ] || bad "$label: $qm_k Quick Mode exchange(s) decrypted, $want_qm expected"
    [ "$qm_n" -eq 0 ] || bad "$label: Quick Mode payloads visible without keys (not encrypted?)"
    if [ "$PFS" = yes ]; then [ "$ke" -ge 2 ] || bad "$label: PFS cell but no KE payload in Quick Mode"
    else [ "$ke" -eq 0 ] || bad "$label: KE payload in Quick Mode of a cell without PFS"; fi
    [ "$esp" -gt 0 ] || bad "$label: no ESP packets"
    [ "$esp_icmp" -eq "$esp" ] || bad "$label: only $esp_icmp of $esp ESP packets decrypted to ICMP"
    [ "$icv_ok" -eq "$esp" ] || bad "$label: ICV correct on $icv_ok of $esp ESP packets"
    if [ "$NAT" != - ]; then
        # Wireshark hands UDP 4500 to its "udpencap" dissector: a one-byte
        # 0xFF is a keepalive, four zero bytes the non-ESP marker before IKE,
        # anything else ESP
        local esp_udp esp_bare qm4500 ka
        esp_udp=$(count keys "$p" -Y 'esp && udp.port == 4500')
        esp_bare=$(count keys "$p" -Y 'esp && !udp')
        qm4500=$(msgids keys "$p" 'udp.port == 4500 && isakmp.exchangetype == 32 && isakmp.typepayload == 10')
        ka=$(count keys "$p" -Y 'udp.port == 4500 && udp.length == 9')
        say "$label: NAT-T: ESP packets in UDP 4500: $esp_udp, bare ESP: $esp_bare; Quick Modes decrypted on port 4500: $qm4500; keepalives: $ka"
        [ "$esp_bare" -eq 0 ] || bad "$label: NAT cell, but $esp_bare ESP packets are not UDP-encapsulated"
        [ "$esp_udp" -eq "$esp" ] || bad "$label: only $esp_udp of $esp ESP packets in UDP 4500"
        [ "$qm4500" -ge $want_qm ] || bad "$label: $qm4500 Quick Mode exchange(s) decrypted on port 4500, $want_qm expected"
    fi
    [ "$full" = 1 ] || return 0
    if [ "$MODE" = main ] && [ "$FRAG" = yes ]; then
        local fu ft
        fu=$(count nokeys "$p" -Y 'ip.src == 192.0.2.1 && (isakmp.nextpayload == 132 || isakmp.typepayload == 132)')
        ft=$(count nokeys "$p" -Y 'ip.src == 192.0.2.2 && (isakmp.nextpayload == 132 || isakmp.typepayload == 132)')
        say "$label: IKE fragments (payload 132): from us $fu, from them $ft;" \
            "Main Mode frames with an ID payload decrypted: $(count keys "$p" -Y 'isakmp.exchangetype == 2 && isakmp.flag_e == 1 && isakmp.typepayload == 5')"
        [ "$ft" -ge 2 ] || bad "$label: fragmentation cell, but $ft IKE fragments from them"
        [ "${FRAG_REQUIRE:-both}" != both ] || [ "$fu" -ge 2 ] || bad "$label: fragmentation cell, but $fu IKE fragments from us"
        [ "$(count keys "$p" -Y 'isakmp.exchangetype == 2 && isakmp.flag_e == 1 && isakmp.typepayload == 5')" -ge 2 ] \
            || bad "$label: Main Mode 5/6 not decrypted (from their fragments)"
    elif [ "$MODE" = main ]; then
        mm_id=$(count keys "$p" -Y 'isakmp.exchangetype == 2 && isakmp.flag_e == 1 && isakmp.typepayload == 5')
        mm_id_n=$(count nokeys "$p" -Y 'isakmp.exchangetype == 2 && isakmp.flag_e == 1 && isakmp.typepayload == 5')
        say "$label: Main Mode encrypted frames with an ID payload: $mm_id (without keys: $mm_id_n)"
        [ "$mm_id" -ge 2 ] || bad "$label: Main Mode 5/6 not decrypted"
        if [ "$NAT" != - ]; then
            local mm4500
            mm4500=$(count keys "$p" -Y 'udp.port == 4500 && isakmp.exchangetype == 2 && isakmp.flag_e == 1 && isakmp.typepayload == 5')
            say "$label: NAT-T: Main Mode 5/6 decrypted on port 4500: $mm4500"
            [ "$mm4500" -ge 2 ] || bad "$label: Main Mode 5/6 not on port 4500 (no float to 4500)"
        fi
    else
        say "$label: Aggressive Mode frames: $(count keys "$p" -Y 'isakmp.exchangetype == 4')"
        if [ "$NAT" != - ]; then
            local am4500
            am4500=$(count keys "$p" -Y 'udp.port == 4500 && isakmp.exchangetype == 4')
            say "$label: NAT-T: Aggressive Mode frames on port 4500: $am4500"
            [ "$am4500" -ge 1 ] || bad "$label: Aggressive Mode 3 not on port 4500 (no float to 4500)"
        fi
    fi
    del=$(count keys "$p" -Y 'isakmp.exchangetype == 5 && isakmp.typepayload == 12')
    say "$label: Informational frames with a Delete payload: $del"
    [ "$del" -ge 1 ] || bad "$label: no Delete decrypted"
}
if [ "$TEARDOWN" = refused ] && [ "$AUTH" != psk ]; then
    # a refused certificate: no Quick Mode, no ESP on the wire
    p="$C/wire-us.pcap"
    ike=$(count nokeys "$p" -Y isakmp) qm=$(count nokeys "$p" -Y 'isakmp.exchangetype == 32') esp=$(count nokeys "$p" -Y esp)
    say "refused certificate: ISAKMP frames $ike, Quick Mode frames $qm, ESP $esp"
    [ "$ike" -ge 1 ] || bad "no ISAKMP frame on the wire"
    [ "$qm" -eq 0 ] || bad "$qm Quick Mode frames on the wire"
    [ "$esp" -eq 0 ] || bad "$esp ESP packets on the wire"
    if [ ${#FAILS[@]} -eq 0 ]; then say "DECRYPT: PASS"; exit 0; fi
    say "DECRYPT: FAIL: ${FAILS[0]}"; exit 1
fi
if [ "$TEARDOWN" = refused ]; then
    # issue 19: our replies to their Aggressive Mode are unprotected
    # Informationals with AUTHENTICATION-FAILED (24) and no HASH_R leaves
    # our side: no ISAKMP frame from us carries a HASH (8) or a KE (4)
    p="$C/wire-us.pcap"
    af=$(count nokeys "$p" -Y "ip.src == 192.0.2.1 && isakmp.exchangetype == 5 && isakmp.notify.msgtype == 24")
    hash=$(count nokeys "$p" -Y "ip.src == 192.0.2.1 && isakmp && (isakmp.typepayload == 8 || isakmp.typepayload == 4)")
    am=$(count nokeys "$p" -Y "ip.dst == 192.0.2.1 && isakmp.exchangetype == 4")
    say "refused Aggressive Mode: their AM1s $am, our AUTHENTICATION-FAILED notifies $af, our frames with a HASH or KE $hash"
    [ "$am" -ge 1 ] || bad "no Aggressive Mode message from them on the wire"
    [ "$af" -ge 1 ] || bad "no AUTHENTICATION-FAILED from us on the wire"
    [ "$hash" -eq 0 ] || bad "$hash frames from us carry a HASH or KE payload"
    if [ ${#FAILS[@]} -eq 0 ]; then say "DECRYPT: PASS"; exit 0; fi
    say "DECRYPT: FAIL: ${FAILS[0]}"; exit 1
fi
check_pcap "$C/wire-us.pcap" wire 1
leak_us=$(HOME="$WS/nokeys" tshark -n -r "$C/wire-us.pcap" -Y 'icmp && !esp && ip.src == 198.51.100.0/24' 2>/dev/null | wc -l)
leak_them=$(HOME="$WS/nokeys" tshark -n -r "$C/wire-them.pcap" -Y 'icmp && !esp && ip.src == 203.0.113.0/24' 2>/dev/null | wc -l)
say "clear-text ICMP on the wire: from our subnet $leak_us, from theirs $leak_them"
[ "$leak_us" -eq 0 ] && [ "$leak_them" -eq 0 ] || bad "clear-text traffic between the protected subnets"
[ -s "$C/us/ikev1-peer.pcap" ] && check_pcap "$C/us/ikev1-peer.pcap" "our own pcap" 0
grep -v '^Running as user' "$WS/tshark.err" | sort -u | head -5 | sed 's/^/tshark: /' >> "$REPORT"
if [ ${#FAILS[@]} -eq 0 ]; then say "DECRYPT: PASS"; exit 0; fi
say "DECRYPT: FAIL: ${FAILS[0]}"; exit 1
