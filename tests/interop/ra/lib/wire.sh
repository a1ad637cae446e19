# shellcheck shell=bash
# tshark's view of a cell's capture (sourced). The capture is taken on the
# outside link, in the server's namespace. tshark's private configuration
# (the key table) lives in a temporary folder under RA_TMP (/tmp; cell.sh
# points it at the cell's own, removed by its cleanup).
#
# ra_wire_check PCAP good|bad REPORT
#   Counts, from the ISAKMP and ESP headers only (no keys needed): ISAKMP
#   Transaction exchanges (exchange type 6: XAUTH and Mode-Config), Quick
#   Mode messages (32), ESP inside UDP 4500 (RFC 3948) and bare ESP
#   (protocol 50). good: at least 6 Transaction messages (XAUTH request,
#   reply, set, ack; Mode-Config request and reply, or set and ack), all on
#   UDP 4500 (NAT-T is forced, so IKE floats before them); at least one
#   Quick Mode message; at least 12 ESP packets in UDP 4500 (3 pings each
#   way, request and reply); no bare ESP. bad: at least 2 Transaction
#   messages (the XAUTH request and the wrong reply), no Quick Mode, no ESP.
#   Either way: no ICMP echo in clear on the outside link (the pings must
#   all have gone through the tunnel).
#   Prints the reason and returns 1 when a condition fails; REPORT gets the
#   per-frame table and the counts.
# ra_wire_facts PCAP KEYS REPORT
#   A readable decode for people (no verdict): every ISAKMP message as a
#   ladder (lib/isakmp-ladder.awk): proposals with their attributes
#   (authentication method, group, lifetime), identities, vendor IDs,
#   notifications, and the configuration attributes of every Transaction
#   message, decrypted with KEYS (Wireshark's ikev1_decryption_table:
#   "ICOOKIE,KEY" lines, from charon's ike=4 log or our peer's --out).
#   XAUTH passwords are masked.

# ra_cell_wire CELL_OUT good|bad
#   Both of the above for a cell's folder: the keys from the charon logs
#   (ike=4) and our decryption tables found in CELL_OUT/server and
#   CELL_OUT/client. Prints the reason and returns 1 when ra_wire_check
#   fails. cell.sh calls it at the end of a cell; wire-cell.sh calls it on
#   the host for the cells that ran in the guest.

ra_tshark() { # HOME PCAP args... : tshark with a private configuration
    local home=$1 pcap=$2; shift 2
    HOME=$home XDG_CONFIG_HOME=$home/.config timeout 60 tshark -n -r "$pcap" "$@" 2>>"$home/tshark.err"
}

ra_wire_check() {
    local pcap=$1 pw=$2 report=$3 home rows
    home=$(mktemp -d "${RA_TMP:-/tmp}/ra-wire.XXXXXX"); mkdir -p "$home/.config/wireshark"
    rows=$(ra_tshark "$home" "$pcap" -Y 'isakmp || esp || icmp.type == 0 || icmp.type == 8' -T fields -E separator='|' \
        -e frame.number -e ip.src -e ip.dst -e udp.srcport -e udp.dstport -e isakmp.exchangetype -e esp.spi -e icmp.type \
        -e frame.time_epoch)
    local err; err=$(grep -v 'Running as user "root"' "$home/tshark.err" || true); rm -rf "$home"
    {
        echo "# frame|src|dst|sport|dport|exchange type|ESP SPI|ICMP type|time (the ISAKMP, ESP and clear ICMP echo frames of wire.pcap)"
        printf '%s\n' "$rows"
        [ -z "$err" ] || echo "# tshark: $err"
    } > "$report"
    # A kernel that decrypts ESP (libreswan's) hands the inner packet back
    # to the interface it came in on, where the capture sees it again, in
    # clear, with the ESP frame's own timestamp: such a copy is counted as
    # "decrypted copies", any other clear echo as a leak.
    local counts tx tx4500 qm espudp espbare icmp copies
    counts=$(printf '%s\n' "$rows" | awk -F'|' '
        NF < 7 { next }
        { sp = $4; dp = $5; et = $6; spi = $7; on4500 = (sp == 4500 || dp == 4500) }
        et == 6 { tx++; if (on4500) tx4500++ }
        et == 32 { qm++ }
        spi != "" { espt[$9] = 1; if (on4500) espudp++; else if (sp == "") espbare++ }
        spi == "" && et == "" && $8 != "" { if ($9 in espt) copies++; else icmp++ }
        END { printf "%d %d %d %d %d %d %d\n", tx, tx4500, qm, espudp, espbare, icmp, copies }')
    read -r tx tx4500 qm espudp espbare icmp copies <<< "$counts"
    local line="Transaction messages: $tx (on UDP 4500: $tx4500); Quick Mode messages: $qm; ESP in UDP 4500: $espudp; bare ESP: $espbare; clear ICMP echo: $icmp (decrypted copies of inbound ESP: $copies)"
    echo "$line" >> "$report"
    local why=
    if [ "$pw" = good ]; then
        [ "$tx" -ge 6 ] || why+="only $tx Transaction messages (6 expected); "
        [ "$tx4500" -eq "$tx" ] || why+="$((tx - tx4500)) Transaction messages not on UDP 4500; "
        [ "$qm" -ge 1 ] || why+="no Quick Mode; "
        [ "$espudp" -ge 12 ] || why+="only $espudp ESP packets in UDP 4500 (12 expected); "
    else
        [ "$tx" -ge 2 ] || why+="only $tx Transaction messages (the XAUTH request and reply expected); "
        [ "$qm" -eq 0 ] || why+="$qm Quick Mode messages after a wrong password; "
        [ "$espudp" -eq 0 ] || why+="$espudp ESP packets after a wrong password; "
    fi
    [ "$espbare" -eq 0 ] || why+="$espbare bare ESP packets (NAT-T is forced); "
    [ "$icmp" -eq 0 ] || why+="$icmp ICMP echo packets in clear on the outside link; "
    [ -z "$why" ] || { echo "${why%; }" >> "$report"; echo "${why%; } ($line)"; return 1; }
    return 0
}

ra_wire_facts() {
    local pcap=$1 keys=$2 report=$3 home rc=0 nk=0 err
    home=$(mktemp -d "${RA_TMP:-/tmp}/ra-wire.XXXXXX"); mkdir -p "$home/.config/wireshark"
    if [ -s "$keys" ]; then cp "$keys" "$home/.config/wireshark/ikev1_decryption_table"; nk=$(grep -c . "$keys"); fi
    {
        echo "# tshark $(tshark --version 2>/dev/null | head -n 1 | awk '{print $3}'): every ISAKMP message of wire.pcap, in order"
        echo "# (decrypted with the IKE keys of $nk IKE SA(s), from charon's log or our --out; XAUTH passwords masked)"
        echo "# #frame src:port -> dst:port  exchange  message ID  [payloads]; then transforms, identities, vendor IDs, notifications, attributes"
        ra_tshark "$home" "$pcap" -Y isakmp -O isakmp -V | awk -f "$RA_LIB/isakmp-ladder.awk"
    } > "$report"
    err=$(grep -v 'Running as user "root"' "$home/tshark.err" | sort -u || true)
    if [ -n "$err" ]; then printf '\n# tshark said:\n%s\n' "$err" >> "$report"; rc=1; fi
    if grep -q '(encrypted, no key)$' "$report"; then
        echo "# some encrypted messages could not be decrypted (no key for their IKE SA)" >> "$report"
    fi
    rm -rf "$home"
    return $rc
}

ra_cell_wire() {
    local c=$1 pw=$2 keys f msg rc=0
    keys=$(mktemp "${RA_TMP:-/tmp}/ra-keys.XXXXXX")
    for f in "$c/server/charon.log" "$c/client/charon.log"; do [ -s "$f" ] && ra_ss_keys "$f" >> "$keys"; done
    for f in "$c/server/ikev1_decryption_table" "$c/client/ikev1_decryption_table"; do [ -s "$f" ] && cat "$f" >> "$keys"; done
    sort -u -o "$keys" "$keys"
    msg=$(ra_wire_check "$c/wire.pcap" "$pw" "$c/wire-check.txt") || rc=1
    ra_wire_facts "$c/wire.pcap" "$keys" "$c/wire-facts.txt" || true
    rm -f "$keys"
    [ $rc -eq 0 ] || { echo "$msg"; return 1; }
}
