#!/usr/bin/env bash
# Cross-check esp-tool's encapsulation against Wireshark's ESP dissector:
# for every suite and mode, encapsulate a capture of ICMP/UDP packets with
# esp-tool, then have tshark decrypt it with the same keys
# (esp.enable_encryption_decode, esp.enable_authentication_check) and check
# that every frame's ICV is "[correct]" and the decrypted inner packet is
# the original one. Needs tshark (apt-get install tshark) and python3 with
# scapy (pip install scapy) to write the input capture.
# Usage: esp/scripts/crosscheck-tshark.sh   (from the workspace root)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p esp --example esp-tool
T=${CARGO_TARGET_DIR:-target}/release/examples/esp-tool
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 - "$W/inner.pcap" <<'PY'
import sys
from scapy.all import IP, ICMP, UDP, Raw, Ether, wrpcap
pk = []
for i in range(6):
    pk.append(Ether()/IP(src="13.13.13.14", dst="12.12.12.13", id=100+i)/ICMP(id=7, seq=i)/Raw(bytes(range((i*23) % 90 + 1))))
    pk.append(Ether()/IP(src="13.13.13.14", dst="12.12.12.13", id=200+i)/UDP(sport=1000+i, dport=40000)/Raw(b"q"*(i*7)))
wrpcap(sys.argv[1], pk)
PY
N=$(tshark -r "$W/inner.pcap" | wc -l)
SRC=11.11.11.1; DST=11.11.11.2; SPI=0xa4790fa0
fail=0; total=0
check() { # name enc enc_key ws_enc auth auth_key ws_auth mode
  local name=$1 enc=$2 ek=$3 wse=$4 auth=$5 ak=$6 wsa=$7 mode=$8
  local args=(--spi $SPI --enc "$enc" --enc-key "$ek" --mode "$mode" --src $SRC --dst $DST --seed 7 --out "$W/$name.pcap")
  if [ "$auth" != "-" ]; then args+=(--auth "$auth" --auth-key "$ak"); fi
  "$T" encap "$W/inner.pcap" "${args[@]}" > /dev/null
  local src=$SRC dst=$DST
  if [ "$mode" = transport ]; then src=13.13.13.14; dst=12.12.12.13; fi
  local uat="\"IPv4\",\"$src\",\"$dst\",\"$SPI\",\"$wse\",\"$ek\",\"$wsa\",\"${ak:-0x}\""
  local out
  out=$(tshark -r "$W/$name.pcap" -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
        -o "uat:esp_sa:$uat" -V 2>&1)
  local good inner
  good=$(grep -c "ESP ICV: .*\[correct\]" <<<"$out" || true)
  inner=$(grep -c -E "^(Internet Control Message Protocol|User Datagram Protocol)" <<<"$out" || true)
  total=$((total+1))
  if [ "$good" -eq "$N" ] && [ "$inner" -eq "$N" ]; then
    echo "ok   $name ($mode): $good/$N ICVs correct, $inner/$N inner packets dissected"
  else
    echo "FAIL $name ($mode): $good/$N ICVs correct, $inner/$N inner packets dissected"; fail=$((fail+1))
  fi
}
K8=0x1357924680acebdf
K24=0x0123456789abcdef23456789abcdef01456789abcdef0123
K16=0x000102030405060708090a0b0c0d0e0f
K24A=0x000102030405060708090a0b0c0d0e0f1011121314151617
K32=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
A16=0x00112233445566778899aabbccddeeff
A20=0x00112233445566778899aabbccddeeff00112233
A32=0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
A48=${A32}00112233445566778899aabbccddeeff
A64=${A32}${A32#0x}
for mode in tunnel transport; do
  check des-md5      'cbc(des)'      $K8   "DES-CBC [RFC2405]"        'hmac(md5)'    $A16 "HMAC-MD5-96 [RFC2403]" $mode
  check 3des-sha1    'cbc(des3_ede)' $K24  "TripleDES-CBC [RFC2451]"  'hmac(sha1)'   $A20 "HMAC-SHA-1-96 [RFC2404]" $mode
  check aes128-sha1  'cbc(aes)'      $K16  "AES-CBC [RFC3602]"        'hmac(sha1)'   $A20 "HMAC-SHA-1-96 [RFC2404]" $mode
  check aes192-sha256 'cbc(aes)'     $K24A "AES-CBC [RFC3602]"        'hmac(sha256)' $A32 "HMAC-SHA-256-128 [RFC4868]" $mode
  check aes256-sha384 'cbc(aes)'     $K32  "AES-CBC [RFC3602]"        'hmac(sha384)' $A48 "HMAC-SHA-384-192 [RFC4868]" $mode
  check aes256-sha512 'cbc(aes)'     $K32  "AES-CBC [RFC3602]"        'hmac(sha512)' $A64 "HMAC-SHA-512-256 [RFC4868]" $mode
  check null-sha256  'ecb(cipher_null)' 0x "NULL"                     'hmac(sha256)' $A32 "HMAC-SHA-256-128 [RFC4868]" $mode
  check gcm128       'rfc4106(gcm(aes))' ${K16}01020304  "AES-GCM with 16 octet ICV [RFC4106]" - "" "NULL" $mode
  check gcm192       'rfc4106(gcm(aes))' ${K24A}01020304 "AES-GCM with 16 octet ICV [RFC4106]" - "" "NULL" $mode
  check gcm256       'rfc4106(gcm(aes))' ${K32}01020304  "AES-GCM with 16 octet ICV [RFC4106]" - "" "NULL" $mode
done
echo "$((total-fail))/$total suite/mode combinations verified by tshark $(tshark --version | head -1 | awk '{print $3}')"
[ "$fail" -eq 0 ]
