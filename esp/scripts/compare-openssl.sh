#!/usr/bin/env bash
# Runs the esp criterion benchmark and `openssl speed` on the same machine in
# the same run, and prints our throughput over OpenSSL's, pair by pair.
#
# For cipher + HMAC suites OpenSSL measures the two primitives separately;
# their combined rate is 1/(1/cipher + 1/hmac) (the time per byte adds up,
# as in ESP's encrypt-then-MAC). AES-128-GCM is one AEAD pass. Encapsulation
# is compared with `openssl speed -evp` (encrypt), decapsulation with
# `openssl speed -decrypt -evp`; the HMAC rate is the same both ways.
# Sizes are inner packet bytes; our figure includes the ESP work around them
# (outer header, ESP header, IV, padding, trailer, ICV, one memcpy), so a
# ratio of 1.0 means the whole ESP packet costs what OpenSSL's bare
# primitives cost on the same number of payload bytes.
#
# Usage (workspace root): esp/scripts/compare-openssl.sh
# Env: SECONDS_PER_RUN (openssl, default 1), SKIP_BENCH=1 to reuse results.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECONDS_PER_RUN:-1}
SIZES="64 512 1400"

if [ "${SKIP_BENCH:-0}" != 1 ]; then
  cargo bench -q -p esp --bench esp -- --noplot > /dev/null
fi

ossl() { # ossl SIZE [extra args...] -> bytes per second
  local size=$1; shift
  openssl speed -seconds "$SECS" -bytes "$size" -mr "$@" 2>/dev/null | awk -F: '/^\+F:/ {print $4}' | tail -1
}
ours() { # ours GROUP SIZE -> bytes per second from criterion's mean
  local f="target/criterion/$1/$2/new/estimates.json"
  python3 -c "import json,sys; m=json.load(open('$f'))['mean']['point_estimate']; print($2/m*1e9)"
}
mbs() { python3 -c "print(f'{$1/1e6:9.1f}')"; }

LEGACY=(-provider legacy -provider default)
printf '%-26s %-6s %5s %12s %12s %7s   %s\n' suite op bytes "ours MB/s" "openssl MB/s" ratio "openssl basis"
for size in $SIZES; do
  des=$(ossl "$size" "${LEGACY[@]}" -evp des-cbc)
  des_d=$(ossl "$size" "${LEGACY[@]}" -decrypt -evp des-cbc)
  tdes=$(ossl "$size" -evp des-ede3-cbc)
  tdes_d=$(ossl "$size" -decrypt -evp des-ede3-cbc)
  aes=$(ossl "$size" -evp aes-128-cbc)
  aes_d=$(ossl "$size" -decrypt -evp aes-128-cbc)
  gcm=$(ossl "$size" -evp aes-128-gcm)
  gcm_d=$(ossl "$size" -decrypt -evp aes-128-gcm)
  md5=$(ossl "$size" -hmac md5)
  sha1=$(ossl "$size" -hmac sha1)
  comb() { python3 -c "print(1/(1/$1+1/$2))"; }
  while read -r name group cipher cipher_d mac basis; do
    for op in encap decap; do
      if [ "$op" = encap ]; then c=$cipher; else c=$cipher_d; fi
      if [ "$mac" = "-" ]; then ref=$c; else ref=$(comb "$c" "$mac"); fi
      us=$(ours "${op}_${group}" "$size")
      ratio=$(python3 -c "print(f'{$us/$ref:7.2f}')")
      printf '%-26s %-6s %5s %12s %12s %7s   %s\n' "$name" "$op" "$size" "$(mbs "$us")" "$(mbs "$ref")" "$ratio" "$basis"
    done
  done <<ROWS
des-cbc+hmac-md5-96 des-cbc+hmac-md5-96 $des $des_d $md5 des-cbc,hmac-md5
3des-cbc+hmac-sha1-96 3des-cbc+hmac-sha1-96 $tdes $tdes_d $sha1 des-ede3-cbc,hmac-sha1
aes-128-cbc+hmac-sha1-96 aes-128-cbc+hmac-sha1-96 $aes $aes_d $sha1 aes-128-cbc,hmac-sha1
aes-128-gcm-16 aes-128-gcm-16 $gcm $gcm_d - aes-128-gcm
ROWS
done
echo "openssl: $(openssl version); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
