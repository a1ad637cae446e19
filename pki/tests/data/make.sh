#!/bin/sh
# Generates the test PKI of ike-pki's tests with the OpenSSL command line:
# keys in every format the crate reads, certificates, a CRL, and signatures
# made by OpenSSL that the tests check our verification against.
#
#   cd pki/tests/data && ./make.sh
#
# The committed files were made by this script with OpenSSL 3.0 (see
# openssl-version.txt). Keys are random: re-running it replaces every file,
# and the tests read what they need from the files (serials, subjects, the
# expected signatures), so they pass with any run. It also writes the named
# seeds of the pki_cert fuzz target (fuzz/corpus/pki_cert/seed_*).
#
# Validity: 2020-01-01 to 2099-12-31 unless a file's name says otherwise.
set -eu
cd "$(dirname "$0")"
rm -rf work && mkdir work
rm -f ./*.pem ./*.der ./*.key ./*.bin ./*.txt
openssl version > openssl-version.txt

START=20200101000000Z
END=20991231235959Z

cat > work/ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
database = $ENV::CADB/index.txt
serial = $ENV::CADB/serial
crlnumber = $ENV::CADB/crlnumber
new_certs_dir = $ENV::CADB
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
default_crl_days = 30000
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_ca_pathlen0 ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
[ v3_ee ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = $ENV::SAN
[ v3_ee_nosan ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
[ v3_ee_no_ds ]
basicConstraints = CA:FALSE
keyUsage = critical, keyEncipherment
subjectAltName = $ENV::SAN
[ v3_not_ca ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyCertSign
CNF
CNF=work/ca.cnf
export SAN=DNS:unused.example CADB=work/ca

# newdb NAME: an openssl-ca database for the issuer NAME.
newdb() {
    mkdir -p "work/$1"
    : > "work/$1/index.txt"
    echo "$2" > "work/$1/serial"
    echo 01 > "work/$1/crlnumber"
}

# issue ISSUER NAME SUBJECT EXTENSIONS [START END]: certificate NAME.pem
# (and .der) for the key NAME.key, signed by ISSUER's key.
issue() {
    openssl req -new -key "$2.key" -subj "$3" -config $CNF -out "work/$2.csr"
    CADB="work/$1" openssl ca -batch -config $CNF -notext -in "work/$2.csr" \
        -cert "$1.pem" -keyfile "$1.key" -extensions "$4" \
        -startdate "${5:-$START}" -enddate "${6:-$END}" -out "$2.pem" 2>/dev/null
    openssl x509 -in "$2.pem" -outform DER -out "$2.der"
}

# selfsigned NAME SUBJECT: a root CA.
selfsigned() {
    openssl req -new -key "$1.key" -subj "$2" -config $CNF -out "work/$1.csr"
    CADB="work/$1" openssl ca -batch -config $CNF -notext -selfsign \
        -in "work/$1.csr" -keyfile "$1.key" -extensions v3_ca \
        -startdate $START -enddate $END -out "$1.pem" 2>/dev/null
    openssl x509 -in "$1.pem" -outform DER -out "$1.der"
}

rsa_key() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1.key" 2>/dev/null; }
ec_key() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -pkeyopt ec_param_enc:named_curve -out "$1.key"; }

# The CA (RSA 2048) and an intermediate (ECDSA P-384) under it.
newdb ca 1000
rsa_key ca 2048
selfsigned ca "/C=CH/O=ike-pki test/CN=Test Root CA"
newdb int 2000
ec_key int P-384
issue ca int "/C=CH/O=ike-pki test/CN=Test Intermediate CA" v3_ca

# End entities. Keys: PKCS#8 PEM (.key) from genpkey, plus the formats below.
rsa_key ee-rsa2048 2048
SAN="DNS:rsa2048.example,DNS:vpn.rsa2048.example,email:rsa2048@example.org,IP:192.0.2.1,IP:2001:db8::1" \
    issue ca ee-rsa2048 "/C=CH/O=ike-pki test/CN=rsa2048.example/emailAddress=legacy-rsa2048@example.org" v3_ee
rsa_key ee-rsa3072 3072
SAN="DNS:rsa3072.example,email:rsa3072@example.org,IP:192.0.2.2" \
    issue int ee-rsa3072 "/C=CH/O=ike-pki test/CN=rsa3072.example" v3_ee
rsa_key ee-rsa4096 4096
SAN="DNS:rsa4096.example,IP:192.0.2.3" \
    issue ca ee-rsa4096 "/C=CH/O=ike-pki test/CN=rsa4096.example" v3_ee
ec_key ee-p256 P-256
SAN="DNS:p256.example,email:p256@example.org,IP:192.0.2.4" \
    issue ca ee-p256 "/C=CH/O=ike-pki test/CN=p256.example" v3_ee
ec_key ee-p384 P-384
SAN="DNS:p384.example,IP:192.0.2.5" \
    issue int ee-p384 "/C=CH/O=ike-pki test/CN=p384.example" v3_ee
ec_key ee-p521 P-521
SAN="DNS:p521.example,IP:192.0.2.6" \
    issue ca ee-p521 "/C=CH/O=ike-pki test/CN=p521.example" v3_ee
# No subjectAltName at all: an FQDN identity matches the CN.
ec_key ee-nosan P-256
issue ca ee-nosan "/C=CH/O=ike-pki test/CN=nosan.example" v3_ee_nosan

# The other key formats.
openssl rsa -in ee-rsa2048.key -traditional -out ee-rsa2048.pkcs1.pem 2>/dev/null
openssl rsa -in ee-rsa2048.key -traditional -outform DER -out ee-rsa2048.pkcs1.der 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in ee-rsa3072.key -outform DER -out ee-rsa3072.pkcs8.der
openssl rsa -in ee-rsa4096.key -traditional -outform DER -out ee-rsa4096.pkcs1.der 2>/dev/null
# SEC1 as `openssl ecparam -genkey` writes it: EC PARAMETERS, then EC PRIVATE KEY.
{ openssl ecparam -name prime256v1; openssl ec -in ee-p256.key 2>/dev/null; } > ee-p256.sec1.pem
openssl ec -in ee-p256.key -outform DER -out ee-p256.sec1.der 2>/dev/null
openssl ec -in ee-p384.key -out ee-p384.sec1.pem 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in ee-p521.key -outform DER -out ee-p521.pkcs8.der
openssl ec -in ee-p521.key -outform DER -out ee-p521.sec1.der 2>/dev/null
for k in ee-rsa2048 ee-rsa3072 ee-rsa4096 ee-p256 ee-p384 ee-p521; do
    openssl pkey -in $k.key -pubout -outform DER -out $k.pub.der
done
# An Ed25519 key: well formed, not an IKEv1 signature key here.
openssl genpkey -algorithm ED25519 -out ed25519.key

# Validation cases (all end entities P-256, signed by the CA unless said).
SAN="DNS:expired.example" ec_key expired P-256
SAN="DNS:expired.example" issue ca expired "/C=CH/O=ike-pki test/CN=expired.example" v3_ee 20200101000000Z 20210101000000Z
ec_key notyet P-256
SAN="DNS:notyet.example" issue ca notyet "/C=CH/O=ike-pki test/CN=notyet.example" v3_ee 20900101000000Z $END
ec_key revoked P-256
SAN="DNS:revoked.example" issue ca revoked "/C=CH/O=ike-pki test/CN=revoked.example" v3_ee
ec_key no-ds P-256
SAN="DNS:no-ds.example" issue ca no-ds "/C=CH/O=ike-pki test/CN=no-ds.example" v3_ee_no_ds
# Another CA (another name), and an impostor with our CA's name but its own key.
newdb other-ca 3000
rsa_key other-ca 2048
selfsigned other-ca "/C=CH/O=ike-pki test/CN=Other Root CA"
ec_key ee-other P-256
SAN="DNS:other.example" issue other-ca ee-other "/C=CH/O=ike-pki test/CN=other.example" v3_ee
newdb impostor 4000
rsa_key impostor 2048
selfsigned impostor "/C=CH/O=ike-pki test/CN=Test Root CA"
ec_key ee-impostor P-256
SAN="DNS:impostor.example" issue impostor ee-impostor "/C=CH/O=ike-pki test/CN=impostor.example" v3_ee
# A CA-less chain: an issuer with CA:FALSE (keyUsage allows keyCertSign).
newdb not-ca 5000
ec_key not-ca P-256
issue ca not-ca "/C=CH/O=ike-pki test/CN=Not A CA" v3_not_ca
ec_key ee-under-not-ca P-256
SAN="DNS:under-not-ca.example" issue not-ca ee-under-not-ca "/C=CH/O=ike-pki test/CN=under-not-ca.example" v3_ee
# pathLenConstraint 0 with a second CA below it.
newdb pl0 6000
ec_key pl0 P-256
issue ca pl0 "/C=CH/O=ike-pki test/CN=PathLen0 CA" v3_ca_pathlen0
newdb pl0-sub 6100
ec_key pl0-sub P-256
issue pl0 pl0-sub "/C=CH/O=ike-pki test/CN=Below PathLen0 CA" v3_ca
ec_key ee-pl P-256
SAN="DNS:pathlen.example" issue pl0-sub ee-pl "/C=CH/O=ike-pki test/CN=pathlen.example" v3_ee
# A chain of 10 certificates: the CA, 8 intermediates long1..long8, the end entity.
prev=ca
for i in 1 2 3 4 5 6 7 8; do
    newdb long$i $((7000 + i * 10))
    ec_key long$i P-256
    issue $prev long$i "/C=CH/O=ike-pki test/CN=Long $i" v3_ca
    prev=long$i
done
ec_key ee-long P-256
SAN="DNS:long.example" issue long8 ee-long "/C=CH/O=ike-pki test/CN=long.example" v3_ee
cat long1.pem long2.pem long3.pem long4.pem long5.pem long6.pem long7.pem long8.pem > long-chain.pem
# A loop: loop-a issued by loop-b and loop-b by loop-a; the end entity under loop-a.
newdb loop-a 8000
newdb loop-b 8100
ec_key loop-a P-256
ec_key loop-b P-256
openssl req -new -x509 -key loop-b.key -subj "/C=CH/O=ike-pki test/CN=Loop B" -days 1 -out work/loop-b-seed.pem
cp work/loop-b-seed.pem loop-b.pem
issue loop-b loop-a "/C=CH/O=ike-pki test/CN=Loop A" v3_ca
issue loop-a loop-b "/C=CH/O=ike-pki test/CN=Loop B" v3_ca
ec_key ee-loop P-256
SAN="DNS:loop.example" issue loop-a ee-loop "/C=CH/O=ike-pki test/CN=loop.example" v3_ee

# The CRL of the CA, revoking `revoked`; an expired one; one from the impostor.
CADB=work/ca openssl ca -config $CNF -revoke revoked.pem -keyfile ca.key -cert ca.pem 2>/dev/null
CADB=work/ca openssl ca -config $CNF -gencrl -keyfile ca.key -cert ca.pem \
    -crl_lastupdate $START -crl_nextupdate $END -out crl.pem 2>/dev/null
openssl crl -in crl.pem -outform DER -out crl.der
CADB=work/ca openssl ca -config $CNF -gencrl -keyfile ca.key -cert ca.pem \
    -crl_lastupdate $START -crl_nextupdate 20210101000000Z -out crl-expired.pem 2>/dev/null
CADB=work/impostor openssl ca -config $CNF -gencrl -keyfile impostor.key -cert impostor.pem \
    -crl_lastupdate $START -crl_nextupdate $END -out crl-impostor.pem 2>/dev/null

# Facts as OpenSSL prints them, for the tests to compare with.
for c in ca int ee-rsa2048 ee-p256 revoked; do
    printf '%s %s\n' "$c" "$(openssl x509 -in $c.pem -noout -serial | cut -d= -f2)"
done > serials.txt
for c in ca int ee-rsa2048 ee-p256; do
    printf '%s\t%s\n' "$c" "$(openssl x509 -in $c.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
done > subjects.txt

# Signatures by OpenSSL over a 20-byte (SHA-1 prf) and a 32-byte hash.
printf 'IKEv1 HASH_I test' | openssl dgst -sha1 -binary > hash20.bin
printf 'IKEv1 HASH_R test' | openssl dgst -sha256 -binary > hash32.bin
for k in ee-rsa2048 ee-rsa3072 ee-rsa4096; do
    for h in hash20 hash32; do
        # pkeyutl without a digest: PKCS#1 v1.5 type 1 padding of the raw
        # input, no DigestInfo (RFC 2409 s.5.1 as implemented).
        openssl pkeyutl -sign -inkey $k.key -pkeyopt rsa_padding_mode:pkcs1 \
            -in $h.bin -out sig-$k-$h.bin
    done
done
# ECDSA: pkeyutl signs its input as the digest, not hashed again, as
# strongSwan's IKEv1 does (SIGN_ECDSA_WITH_NULL); DER-encoded.
openssl pkeyutl -sign -inkey ee-p256.key -in hash32.bin -out sig-ee-p256-hash32.der
openssl pkeyutl -sign -inkey ee-p384.key -in hash32.bin -out sig-ee-p384-hash32.der
openssl pkeyutl -sign -inkey ee-p521.key -in hash20.bin -out sig-ee-p521-hash20.der
for k in ee-rsa2048 ee-rsa3072 ee-rsa4096 ee-p256 ee-p384 ee-p521; do
    openssl pkey -in $k.key -pubout -out $k.pub.pem
done

rm -rf work
# The fuzz target's named seeds (see pki/src/fuzzing.rs for the layout).
python3 - <<'PY'
import os, struct
def rd(p): return open(p, 'rb').read()
def seed(name, cert, chain, hash_, sig):
    out = struct.pack('>H', len(cert)) + cert + bytes([len(chain)])
    for c in chain:
        out += struct.pack('>H', len(c)) + c
    out += bytes([len(hash_)]) + hash_ + sig
    d = '../../../fuzz/corpus/pki_cert'
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'seed_' + name), 'wb').write(out)
seed('rsa2048_direct', rd('ee-rsa2048.der'), [], rd('hash20.bin'), rd('sig-ee-rsa2048-hash20.bin'))
seed('rsa3072_via_int', rd('ee-rsa3072.der'), [rd('int.der')], rd('hash32.bin'), rd('sig-ee-rsa3072-hash32.bin'))
seed('p256_direct', rd('ee-p256.der'), [], rd('hash32.bin'), b'\x00' * 64)
seed('long_chain', rd('ee-long.der'), [rd('long%d.der' % i) for i in range(1, 9)], b'', b'')
seed('loop', rd('ee-loop.der'), [rd('loop-a.der'), rd('loop-b.der')], b'', b'')
PY
