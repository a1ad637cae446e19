# Turns `tshark -O isakmp -V` output into a ladder: one header line a frame
# (number, addresses and ports, exchange, message ID, payloads), then one
# line a proposal transform, vendor ID, identity, notification, and a line
# with the configuration attributes (and their values) of an Attributes
# payload. Values of XAUTH_USER_PASSWORD are masked.
# Used by lib/wire.sh (ra_wire_facts). Plain POSIX awk (Debian's mawk).
function flush_tr() { if (tr != "") { add("      " tr); tr = "" } }
function flush_cfg() { if (cfg != "") { add("      " cfg); cfg = "" } }
function flush_id() { if (idl != "") { add("      " idl); idl = "" } }
function flush_frame() {
    flush_tr(); flush_cfg(); flush_id()
    if (frame != "") {
        printf "#%-4s %s:%s -> %s:%s  %s msgid %s  [%s]%s\n", frame, src, sport, dst, dport, exch, msgid, pl, (enc ? (dec ? " (decrypted)" : " (encrypted, no key)") : "")
        for (i = 1; i <= nbody; i++) print body[i]
    }
    frame = ""; pl = ""; nbody = 0; exch = ""; msgid = ""; enc = 0; dec = 0; depth0 = -1
}
function add(s) { nbody++; body[nbody] = s }
function hexbyte(h) { return (index("0123456789abcdef", substr(h, 1, 1)) - 1) * 16 + index("0123456789abcdef", substr(h, 2, 1)) - 1 }
function indent(s) { match(s, /^ */); return RLENGTH }
function strip(s) { sub(/^ +/, "", s); return s }
/^Frame [0-9]+:/ { flush_frame(); frame = $2; sub(/:$/, "", frame); next }
/^Internet Protocol Version 4, Src: / { split($0, a, /Src: |, Dst: /); src = a[2]; dst = a[3]; next }
/^User Datagram Protocol, Src Port: / { split($0, a, /Src Port: |, Dst Port: /); sport = a[2]; dport = a[3]; next }
frame == "" { next }
/^    Exchange type: / && exch == "" { s = strip($0); sub(/^Exchange type: /, "", s); sub(/ \([0-9]+\)$/, "", s); exch = s; next }
/^    Message ID: / && msgid == "" { msgid = strip($0); sub(/^Message ID: /, "", msgid); next }
/Encrypted Data \(/ { enc = 1; next }
/Payload: / {
    s = strip($0); sub(/^Payload: /, "", s)
    if (s ~ /^(Proposal|Transform) /) {
        flush_tr()
        if (s ~ /^Transform/) { tr = "transform" ; trd = indent($0) }
        else { pr = s; sub(/ \(2\)/, "", pr) }
        next
    }
    flush_tr(); flush_cfg(); flush_id()
    if (enc) dec = 1
    if (depth0 < 0) depth0 = indent($0)
    if (indent($0) == depth0) { n = s; sub(/ \([0-9]+\).*$/, "", n); pl = pl (pl == "" ? "" : ", ") n }
    next
}
/Transform number: / { next }
/Transform ID: / { s = strip($0); sub(/^Transform ID: /, "", s); tr = pr " transform " s ":"; next }
/(IKE|IPsec) Attribute \(t=/ { s = strip($0); sub(/^[A-Za-z]+ Attribute \(t=[0-9]+,l=[0-9]+\): /, "", s); tr = tr " " s ";"; next }
/^ +Vendor ID: / {
    # two lines a vendor ID: the bytes, then (when known) the name
    s = strip($0); sub(/^Vendor ID: /, "", s)
    if (s ~ /^[0-9a-f]+$/) { vidhex = s; next }
    add("      vendor ID: " s " (" vidhex ")"); next
}
/^ +ID type: / { flush_id(); s = strip($0); sub(/^ID type: /, "", s); idl = "identity: " s; next }
/^ +Protocol ID: / && idl != "" { s = strip($0); idl = idl ", protocol " substr(s, 14); next }
/^ +Port: / && idl != "" { s = strip($0); idl = idl ", port " substr(s, 7); next }
/^ +ID_[A-Z0-9_]+: / && idl != "" {
    s = strip($0)
    if (s ~ /^ID_KEY_ID: /) { hex = substr(s, 12); txt = ""
        for (k = 1; k < length(hex); k += 2) txt = txt sprintf("%c", hexbyte(substr(hex, k, 2)))
        s = s " (\"" txt "\")" }
    idl = idl (idl ~ /: ID_/ ? " " : ": ") s; next
}
/^ +Notify Message Type: / { s = strip($0); add("      notify: " substr(s, 22)); next }
/^ +Type: ISAKMP_CFG_/ { s = strip($0); sub(/^Type: ISAKMP_/, "", s); sub(/ \([0-9]+\)$/, "", s); cfg = s; next }
/^ +Identifier: / && cfg != "" { s = strip($0); cfg = cfg " (identifier " substr(s, 13) "):"; next }
/^ +Config Attribute \(t=/ {
    s = strip($0); sub(/^Config Attribute /, "", s)
    if (s ~ /XAUTH_USER_PASSWORD: /) sub(/XAUTH_USER_PASSWORD: .*/, "XAUTH_USER_PASSWORD: <masked>", s)
    # no decoded value on the line, but a length: the raw value follows
    rawnext = (s !~ /\): [A-Z0-9_]+: / && s !~ /,l=0\)/)
    cfg = cfg " " s ";"; next
}
/^ +Value: / && rawnext && cfg != "" { s = strip($0); sub(/;$/, " = 0x" substr(s, 8) ";", cfg); rawnext = 0; next }
END { flush_frame() }
