#!/usr/bin/env bash
# Makes the certificates and keys ike-sm's certificate tests use
# (tests/certificates.rs): a CA, a second unrelated CA, and for two peers
# "alice" (the initiator, with SAN alice.example and 10.0.0.1) and "bob"
# (SAN bob.example, 10.0.0.2) an RSA-2048, an ECDSA P-256 and an ECDSA
# P-384 certificate; bob also gets an expired one and one from the other
# CA; and a stray RSA-3072 key. Run it in this directory; the outputs are committed (openssl 3).
set -euo pipefail
cd "$(dirname "$0")"
days=36500
ca() { # name subject
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" \
    -subj "$2" -days "$days" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # name keyspec ca subject san [extra x509 args...]
  local name=$1 keyspec=$2 issuer=$3 subj=$4 san=$5; shift 5
  openssl req -new -newkey "$keyspec" -nodes -keyout "$name.key" -out "$name.csr" \
    -subj "$subj" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=%s\n' \
    "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$name.ext" -sha256 "$@" \
    -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
ca ca "/C=CH/O=ikev1-ted tests/CN=Test CA"
ca other-ca "/C=CH/O=Elsewhere/CN=Other CA"
leaf alice-rsa rsa:2048 ca "/C=CH/O=ikev1-ted tests/CN=alice.example" \
  "DNS:alice.example,IP:10.0.0.1" -days "$days"
leaf bob-rsa rsa:2048 ca "/C=CH/O=ikev1-ted tests/CN=bob.example" \
  "DNS:bob.example,IP:10.0.0.2" -days "$days"
leaf alice-p256 ec:<(openssl ecparam -name prime256v1) ca \
  "/C=CH/O=ikev1-ted tests/CN=alice.example" "DNS:alice.example,IP:10.0.0.1" -days "$days"
leaf bob-p256 ec:<(openssl ecparam -name prime256v1) ca \
  "/C=CH/O=ikev1-ted tests/CN=bob.example" "DNS:bob.example,IP:10.0.0.2" -days "$days"
leaf alice-p384 ec:<(openssl ecparam -name secp384r1) ca \
  "/C=CH/O=ikev1-ted tests/CN=alice.example" "DNS:alice.example,IP:10.0.0.1" -days "$days"
leaf bob-p384 ec:<(openssl ecparam -name secp384r1) ca \
  "/C=CH/O=ikev1-ted tests/CN=bob.example" "DNS:bob.example,IP:10.0.0.2" -days "$days"
leaf bob-other rsa:2048 other-ca "/C=CH/O=ikev1-ted tests/CN=bob.example" \
  "DNS:bob.example,IP:10.0.0.2" -days "$days"
# A key that belongs to no certificate: signing with it under bob's
# certificate makes a signature of the wrong length.
openssl genrsa -out stray-rsa3072.key 3072 2>/dev/null
# Valid from 2001-01-01 to 2002-01-01: openssl 3.0's x509 cannot set
# past dates, its ca command can.
openssl req -new -newkey rsa:2048 -nodes -keyout bob-expired.key -out bob-expired.csr \
  -subj "/C=CH/O=ikev1-ted tests/CN=bob.example" 2>/dev/null
tmp=$(mktemp -d)
touch "$tmp/index.txt"
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = any
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:bob.example,IP:10.0.0.2
CNF
openssl rand -hex 8 > "$tmp/serial"
openssl ca -batch -config "$tmp/ca.cnf" -cert ca.pem -keyfile ca.key -preserveDN \
  -startdate 20010101000000Z -enddate 20020101000000Z -notext \
  -in bob-expired.csr -out bob-expired.pem 2>/dev/null
rm -rf "$tmp" bob-expired.csr bob-expired.ext ./*.srl
