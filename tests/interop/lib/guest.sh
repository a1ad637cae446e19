# kernel_has_esp ENC AUTH : 0 if this kernel can hold an ESP SA with these
# algorithms. Probed in a throw-away namespace, never in the root namespace.
kernel_has_esp() {
    local enc=${1:-cbc(des)} auth=${2:-hmac(md5)} ns=ikeint-espprobe-$$ rc
    local ekey=0x0123456789abcdef akey=0x00112233445566778899aabbccddeeff
    ip netns add "$ns" 2>/dev/null || return 1
    ip -n "$ns" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 mode tunnel \
        enc "$enc" "$ekey" auth "$auth" "$akey" 2>/dev/null
    rc=$?
    ip netns del "$ns"
    return $rc
}
