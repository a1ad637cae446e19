#!/usr/bin/env python3
"""Seeds for the `esp_udp` fuzz target (esp::fuzzing::udp), built here
with struct, hmac and an RFC 1071 checksum, independently of esp's encoder.

Input layout: byte 0 = suite (low 3 bits) | 0x40 bare ESP bytes | 0x80
flipped mode; then the packet (raw mode) or payload + mask (flipped mode).
Suite 2 is NULL encryption + HMAC-SHA-256-128, transport mode, no ESN,
SPI 0x01020304, integrity key byte i = ((i % 251) * 31 % 256) ^ 0xa5.

Usage: esp/scripts/udp-fuzz-seeds.py fuzz/corpus/esp_udp
"""
import hashlib
import hmac
import os
import struct
import sys

SPI = 0x01020304
SRC = bytes([11, 11, 11, 1])
DST = bytes([11, 11, 11, 2])


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto: int, payload: bytes, src=SRC, dst=DST, flags=0) -> bytes:
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, flags, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(payload: bytes, sport=31000, dport=4500, length=None) -> bytes:
    if length is None:
        length = 8 + len(payload)
    return struct.pack("!HHHH", sport, dport, length, 0) + payload


def integ_key() -> bytes:
    return bytes((((i % 251) * 31) % 256) ^ 0xA5 for i in range(32))


def null_sha256_esp(seq: int, inner_payload: bytes, next_header: int) -> bytes:
    """NULL + HMAC-SHA-256-128 ESP (RFC 4303, RFC 4868), 4-byte aligned."""
    pad = (4 - (len(inner_payload) + 2) % 4) % 4
    body = inner_payload + bytes(range(1, pad + 1)) + bytes([pad, next_header])
    esp = struct.pack("!II", SPI, seq) + body
    icv = hmac.new(integ_key(), esp, hashlib.sha256).digest()[:16]
    return esp + icv


def inner_udp_segment() -> bytes:
    data = b"hello through a NAT"
    seg = struct.pack("!HHHH", 5000, 53, 8 + len(data), 0) + data
    pseudo = SRC + DST + struct.pack("!BBH", 0, 17, len(seg))
    c = csum(pseudo + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def seeds():
    good_esp = null_sha256_esp(1, inner_udp_segment(), 17)
    raw, bare, flip = 0x02, 0x42, 0x82
    yield "seed_valid_transport_whole", bytes([raw]) + ipv4(17, udp(good_esp))
    yield "seed_valid_transport_bare", bytes([bare]) + good_esp
    yield "seed_dummy_bare", bytes([bare]) + null_sha256_esp(2, b"\0" * 4, 59)
    yield "seed_keepalive_whole", bytes([raw]) + ipv4(17, udp(b"\xff"))
    yield "seed_keepalive_bare", bytes([bare]) + b"\xff"
    yield "seed_marker_ike_whole", bytes([raw]) + ipv4(17, udp(b"\0\0\0\0" + b"\x11" * 28))
    yield "seed_marker_only_bare", bytes([bare]) + b"\0\0\0\0"
    for n in (1, 2, 3):
        yield f"seed_truncated_marker_{n}", bytes([raw]) + ipv4(17, udp(b"\0" * n))
    yield "seed_truncated_esp_bare", bytes([bare]) + good_esp[:7]
    yield "seed_udp_length_long", bytes([raw]) + ipv4(17, udp(good_esp, length=8 + len(good_esp) + 1))
    yield "seed_udp_length_short", bytes([raw]) + ipv4(17, udp(good_esp, length=8 + len(good_esp) - 1))
    yield "seed_udp_length_7", bytes([raw]) + ipv4(17, udp(good_esp, length=7))
    yield "seed_udp_header_cut", bytes([raw]) + ipv4(17, b"\x79\x18\x11\x94\x00")
    yield "seed_port_500", bytes([raw]) + ipv4(17, udp(good_esp, dport=500))
    yield "seed_fragment", bytes([raw]) + ipv4(17, udp(good_esp), flags=0x2000)
    yield "seed_plain_esp", bytes([raw]) + ipv4(50, good_esp)
    bad = bytearray(good_esp)
    bad[-1] ^= 1
    yield "seed_bad_icv_bare", bytes([bare]) + bytes(bad)
    # Flipped mode: payload then mask, split in the middle; a zero mask is
    # the valid packet, which must be accepted.
    for suite in range(5):
        for entry in (0x80, 0xC0):
            yield f"seed_flip_zero_{suite}_{entry:02x}", bytes([entry | suite]) + b"\x41" * 24 + b"\0" * 24
    yield "seed_flip_one_bit", bytes([0xC1]) + b"\x42" * 30 + b"\0" * 9 + b"\x01" + b"\0" * 20


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
