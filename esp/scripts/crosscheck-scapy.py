#!/usr/bin/env python3
"""Cross-check esp-tool against scapy's independent ESP implementation
(scapy.layers.ipsec, which uses pyca/cryptography).

1. scapy encrypts ICMP packets for every suite and mode -> pcap ->
   `esp-tool decap` must verify every ICV and return the original packets.
2. `esp-tool encap` encrypts -> scapy decrypts and verifies every packet.

Needs: python3, scapy (pip install scapy), cryptography. Run from the
workspace root: python3 esp/scripts/crosscheck-scapy.py
"""
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import IP, ICMP, Raw, wrpcap, rdpcap
from scapy.layers.ipsec import SecurityAssociation, ESP

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
subprocess.run(["cargo", "build", "-q", "--release", "-p", "esp", "--example", "esp-tool"], cwd=ROOT, check=True)
TOOL = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "release/examples/esp-tool")

K = bytes(range(80))
SUITES = [
    # name, scapy crypt, key len, scapy auth, auth key len, xfrm enc, xfrm auth
    ("des-md5", "DES", 8, "HMAC-MD5-96", 16, "cbc(des)", "hmac(md5)"),
    ("3des-sha1", "3DES", 24, "HMAC-SHA1-96", 20, "cbc(des3_ede)", "hmac(sha1)"),
    ("aes128-sha1", "AES-CBC", 16, "HMAC-SHA1-96", 20, "cbc(aes)", "hmac(sha1)"),
    ("aes256-sha256", "AES-CBC", 32, "SHA2-256-128", 32, "cbc(aes)", "hmac(sha256)"),
    ("aes192-sha384", "AES-CBC", 24, "SHA2-384-192", 48, "cbc(aes)", "hmac(sha384)"),
    ("aes128-sha512", "AES-CBC", 16, "SHA2-512-256", 64, "cbc(aes)", "hmac(sha512)"),
    ("null-sha1", "NULL", 0, "HMAC-SHA1-96", 20, "ecb(cipher_null)", "hmac(sha1)"),
    ("gcm128", "AES-GCM", 20, "NULL", 0, "rfc4106(gcm(aes))", None),
    ("gcm256", "AES-GCM", 36, "NULL", 0, "rfc4106(gcm(aes))", None),
]
# DES keys must not be weak; 3DES subkeys distinct: bytes(range()) is fine.
SPI = 0xA4790FA0
SRC, DST = "11.11.11.1", "11.11.11.2"


def inner_packets():
    return [IP(src="13.13.13.14", dst="12.12.12.13", id=300 + i) / ICMP(id=9, seq=i) / Raw(bytes(range(i * 13 % 70)))
            for i in range(8)]


def sa(s, mode, esn):
    name, crypt, klen, auth, alen, _, _ = s
    kw = dict(spi=SPI, crypt_algo=crypt, crypt_key=K[:klen] if klen else None,
              auth_algo=auth, auth_key=K[8:8 + alen] if alen else None, esn_en=esn)
    if mode == "tunnel":
        kw["tunnel_header"] = IP(src=SRC, dst=DST)
    return SecurityAssociation(ESP, **kw)


def tool_args(s, mode, esn):
    name, crypt, klen, auth, alen, xenc, xauth = s
    a = ["--spi", hex(SPI), "--enc", xenc, "--enc-key", "0x" + K[:klen].hex(), "--mode", mode,
         "--src", SRC, "--dst", DST, "--json", "--seed", "5"]
    if xauth:
        a += ["--auth", xauth, "--auth-key", "0x" + K[8:8 + alen].hex()]
    if esn:
        a += ["--esn"]
    return a


ok = fail = 0
with tempfile.TemporaryDirectory() as d:
    for s in SUITES:
        for mode in ("tunnel", "transport"):
            for esn in (False, True):
                tag = f"{s[0]} {mode}{' esn' if esn else ''}"
                # 1. scapy -> esp-tool decap
                a = sa(s, mode, esn)
                inner = inner_packets()
                enc = [a.encrypt(p, seq_num=i + 1) for i, p in enumerate(inner)]
                path = os.path.join(d, "scapy.pcap")
                wrpcap(path, enc)
                r = subprocess.run([TOOL, "decap", path] + tool_args(s, mode, esn), capture_output=True, text=True)
                objs = [json.loads(l) for l in r.stdout.splitlines()]
                good = all(o["ok"] for o in objs) and len(objs) == len(inner)
                if good:
                    for o, p in zip(objs, inner):
                        got = bytes.fromhex(o["inner_hex"])
                        if mode == "tunnel":
                            good &= got == bytes(p)
                        else:
                            good &= got[20:] == bytes(p)[20:]
                # 2. esp-tool encap -> scapy decrypt
                ipath = os.path.join(d, "inner.pcap")
                wrpcap(ipath, inner)
                opath = os.path.join(d, "ours.pcap")
                r2 = subprocess.run([TOOL, "encap", ipath, "--out", opath] + tool_args(s, mode, esn),
                                    capture_output=True, text=True)
                back_ok = r2.returncode == 0
                if back_ok:
                    b = sa(s, mode, esn)
                    for pkt, orig in zip(rdpcap(opath), inner):
                        try:
                            dec = b.decrypt(IP(bytes(pkt)))
                            back_ok &= bytes(dec[ICMP]) == bytes(orig[ICMP])
                        except Exception as e:  # ICV failure or bad padding
                            print("   scapy:", e)
                            back_ok = False
                if good and back_ok:
                    ok += 1
                    print(f"ok   {tag}: scapy->esp-tool {len(objs)}/8 verified, esp-tool->scapy 8/8 verified")
                else:
                    fail += 1
                    print(f"FAIL {tag}: scapy->esp-tool {good} {r.stderr.strip()[:200]}, esp-tool->scapy {back_ok}")
print(f"{ok}/{ok + fail} suite/mode/ESN combinations verified against scapy")
sys.exit(1 if fail else 0)
