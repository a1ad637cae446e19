#!/bin/bash
# The certificates of the certificate cells (cert-*), made afresh with the
# host's openssl on every run (about a second): fixed names, fixed serial
# numbers, new keys.
#
#   pki/make-ca.sh DIR        -> DIR/... (see below), DIR/ids.env
#
# Two unrelated CAs (RSA 2048): "ikeint CA", which both sides trust, and
# "ikeint Other CA", which nobody trusts. For each side (us = 192.0.2.1,
# them = 192.0.2.2), issued by the first CA unless said otherwise:
#   SIDE-rsa      RSA 2048, key PKCS#1 ("BEGIN RSA PRIVATE KEY")
#   SIDE-ec256    ECDSA P-256, key SEC1 ("BEGIN EC PRIVATE KEY")
#   SIDE-ec384    ECDSA P-384, key PKCS#8 ("BEGIN PRIVATE KEY")
#   SIDE-expired  RSA, valid in 2020 only
#   SIDE-otherca  RSA, issued by the other CA (same names as SIDE-rsa)
#   SIDE-wrongid  RSA, names another host (CN=other.example, SAN
#                 other.example and 192.0.2.99)
#   SIDE-revoked  RSA, same names as SIDE-rsa, revoked in crl.pem / crl.der
#   SIDE-chain    RSA, issued by "ikeint Sub CA" (itself issued by the CA):
#                 SIDE-chain.pem holds the certificate, then the sub-CA's
# Names: subject "C=XX, O=ikeint interop, CN=SIDE.example", SAN dNSName
# SIDE.example and iPAddress of the side. Each as SIDE-X.pem (certificate)
# and SIDE-X.key; SIDE-X.p12 (password "ikeint") for libreswan's NSS.
# Also: ca.pem, other-ca.pem, sub-ca.pem, crl.pem and crl.der (the CA's CRL,
# revoking the two -revoked certificates), and NSS databases for libreswan
# (nss-them-X/, nss-us-X/: the CA trusted "CT,,", the certificate with its
# key under the nickname "SIDE-X") for the certificates the cells give it.
set -euo pipefail
OUT=${1:?usage: make-ca.sh DIR}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
W=$OUT/.work
rm -rf "$W" "$OUT"/*.pem "$OUT"/*.key "$OUT"/*.p12 "$OUT"/crl.* "$OUT"/nss-*
mkdir -p "$W"
umask 077
O="ikeint interop"
US_IP=192.0.2.1 THEM_IP=192.0.2.2 OTHER_IP=192.0.2.99
ts() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
NB=$(ts '-2 days') NA=$(ts '+730 days')

# ca_init NAME : an openssl-ca database for CA NAME
ca_init() {
    local d=$W/$1
    mkdir -p "$d/new"; : > "$d/index.txt"; echo 1000 > "$d/serial"; echo 1000 > "$d/crlnumber"
    cat > "$d/ca.cnf" <<EOT
[ ca ]
default_ca = this
[ this ]
dir = $d
database = $d/index.txt
new_certs_dir = $d/new
serial = $d/serial
crlnumber = $d/crlnumber
certificate = $OUT/$1.pem
private_key = $W/$1.key
default_md = sha256
default_crl_days = 365
crl_extensions = crl_ext
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
[ crl_ext ]
# (strongSwan finds a CRL by its issuer's key identifier)
authorityKeyIdentifier = keyid:always
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
}
# selfsigned NAME CN : a root CA (RSA 2048, 10 years)
selfsigned() {
    ca_init "$1"
    openssl genrsa -out "$W/$1.key" 2048 2>/dev/null
    openssl req -new -x509 -key "$W/$1.key" -sha256 -days 3650 -set_serial 1 \
        -subj "/C=XX/O=$O/CN=$2" -out "$OUT/$1.pem" \
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -addext 'subjectKeyIdentifier=hash' 2>/dev/null
}
# newkey TYPE FILE : rsa (PKCS#1), ec256 (SEC1), ec384 (PKCS#8)
newkey() {
    case $1 in
    rsa)   openssl genrsa -traditional -out "$2" 2048 2>/dev/null ;;
    ec256) openssl ecparam -name prime256v1 -genkey -noout -out "$2" ;;
    ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp384r1 -out "$2" ;;
    esac
}
# issue CA NAME KEYTYPE CN IP [START END] : $OUT/NAME.pem + NAME.key
issue() {
    local ca=$1 name=$2 kt=$3 cn=$4 ip=$5 start=${6:-$NB} end=${7:-$NA} ku
    newkey "$kt" "$OUT/$name.key"
    openssl req -new -key "$OUT/$name.key" -subj "/C=XX/O=$O/CN=$cn" -out "$W/$name.csr" 2>/dev/null
    ku="critical, digitalSignature"; [ "$kt" = rsa ] && ku="$ku, keyEncipherment"
    cat > "$W/$name.ext" <<EOT
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = $ku
subjectAltName = DNS:$cn, IP:$ip
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOT
    openssl ca -batch -notext -config "$W/$ca/ca.cnf" -in "$W/$name.csr" -out "$OUT/$name.pem" \
        -startdate "$start" -enddate "$end" -extfile "$W/$name.ext" -extensions leaf 2>"$W/$name.err" \
        || { cat "$W/$name.err" >&2; return 1; }
    openssl pkcs12 -export -name "$name" -inkey "$OUT/$name.key" -in "$OUT/$name.pem" \
        -passout pass:ikeint -out "$OUT/$name.p12"
}

selfsigned ca "ikeint CA"
selfsigned other-ca "ikeint Other CA"
# a sub-CA for the chain certificates
ca_init sub-ca
openssl genrsa -out "$W/sub-ca.key" 2048 2>/dev/null
openssl req -new -key "$W/sub-ca.key" -subj "/C=XX/O=$O/CN=ikeint Sub CA" -out "$W/sub-ca.csr" 2>/dev/null
openssl ca -batch -notext -config "$W/ca/ca.cnf" -in "$W/sub-ca.csr" -out "$OUT/sub-ca.pem" \
    -startdate "$NB" -enddate "$NA" -extfile "$W/ca/ca.cnf" -extensions ca_ext 2>/dev/null

for side in us them; do
    ip=$US_IP; [ $side = them ] && ip=$THEM_IP
    issue ca "$side-rsa" rsa "$side.example" "$ip"
    issue ca "$side-ec256" ec256 "$side.example" "$ip"
    issue ca "$side-ec384" ec384 "$side.example" "$ip"
    issue ca "$side-expired" rsa "$side.example" "$ip" 20200101000000Z 20201231235959Z
    issue other-ca "$side-otherca" rsa "$side.example" "$ip"
    issue ca "$side-wrongid" rsa other.example "$OTHER_IP"
    issue ca "$side-revoked" rsa "$side.example" "$ip"
    openssl ca -batch -config "$W/ca/ca.cnf" -revoke "$OUT/$side-revoked.pem" -crl_reason keyCompromise 2>/dev/null
    issue sub-ca "$side-chain" rsa "$side.example" "$ip"
    cat "$OUT/sub-ca.pem" >> "$OUT/$side-chain.pem"
done
openssl ca -batch -config "$W/ca/ca.cnf" -gencrl -out "$OUT/crl.pem" 2>/dev/null
openssl crl -in "$OUT/crl.pem" -outform DER -out "$OUT/crl.der"

# libreswan's NSS databases (made here: certutil costs seconds in the guest)
if command -v certutil > /dev/null && command -v pk12util > /dev/null; then
    for name in them-rsa them-otherca them-expired us-rsa; do
        d=$OUT/nss-$name; mkdir -p "$d"
        certutil -N -d "sql:$d" --empty-password
        certutil -A -d "sql:$d" -n ikeint-ca -t 'CT,,' -i "$OUT/ca.pem"
        pk12util -i "$OUT/$name.p12" -d "sql:$d" -W ikeint -K '' > /dev/null
    done
fi
chmod 644 "$OUT"/*.pem "$OUT"/crl.*
chmod 600 "$OUT"/*.key
dn() { echo "C=XX, O=$O, CN=$1"; }
{
    printf 'PKI_US_DN=%q\nPKI_THEM_DN=%q\nPKI_OTHER_DN=%q\n' "$(dn us.example)" "$(dn them.example)" "$(dn other.example)"
    printf 'PKI_US_FQDN=us.example\nPKI_THEM_FQDN=them.example\nPKI_OTHER_FQDN=other.example\n'
    printf 'PKI_MADE=%q\n' "$(date -u +%FT%TZ)"
} > "$OUT/ids.env"
chmod 644 "$OUT/ids.env"
rm -rf "$W"
echo "make-ca: $(ls "$OUT"/*.pem | wc -l) certificates in $OUT"
