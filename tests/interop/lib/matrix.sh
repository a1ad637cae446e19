# The interop matrix (sourced): one cell a line.
#   id  suite  mode  pfs  them  our-role  rekey  teardown  [nat]  [auth]
# suite     seed | 3des | aes128 (lib/suites.sh)
# mode      main | aggressive  (phase 1)
# pfs       yes | no           (Quick Mode with a KE payload)
# them      strongswan | libreswan (the counterpart, kernel ESP)
# our-role  initiator | responder  (who starts phase 1)
# rekey     -      no rekey
#           ours   our phase-2 lifetime is short: we rekey, with a ping running
#           theirs their phase-2 lifetime is short: they rekey
# teardown  ours   we delete (clear crypto sa; clear crypto isakmp): their SAs must go
#           theirs they delete: ours must go (phase2_down/phase1_down peer_delete)
#           refused our configuration says `crypto isakmp aggressive-mode
#                  disable` (issue 19): they initiate Aggressive Mode, we
#                  answer with AUTHENTICATION-FAILED only, nothing comes up
#                  (aggressive mode, our side responder)
# nat       -      no NAT (the default when the field is absent)
#           us     our side behind a masquerading NAT (nftables, namespace
#                  ikeint-ID-nat); when we are the responder the NAT forwards
#                  UDP 500 and 4500 to us, as a home router's port forward does
#           them   the counterpart behind it, likewise
# auth      psk    pre-shared key (the default when the field is absent)
#           KEY,ID[,EXTRA]  certificates (pki/make-ca.sh; README, "Certificate
#                  cells"): KEY rsa | ec256 | ec384 (both sides' key type),
#                  ID dn | fqdn | addr (the identities both sides send; ours
#                  `crypto isakmp identity dn | hostname | address`), EXTRA
#                  frag     fragmentation forced by the counterpart, 600-byte
#                           fragments on both sides
#                  them-X   (teardown refused) the counterpart presents its
#                           X certificate (expired, otherca, wrongid,
#                           revoked): we must refuse it
#                  us-X     (teardown refused) we present ours (expired,
#                           otherca, wrongid): they must refuse it
#           refused (teardown) with a certificate auth: nothing may come up,
#                  the side given the bad certificate says why
# Libreswan refuses DES and MODP-768/1024 (README), so the seed suite runs
# against strongSwan only; Aggressive Mode runs against strongSwan only.
MATRIX_CELLS='
seed-mm-ss-i     seed   main        no  strongswan initiator -      ours
seed-mm-ss-r     seed   main        no  strongswan responder -      theirs
seed-am-ss-i     seed   aggressive  no  strongswan initiator -      theirs
seed-am-ss-r     seed   aggressive  no  strongswan responder -      ours
3des-mm-ss-i     3des   main        no  strongswan initiator -      theirs
3des-mm-ss-r     3des   main        no  strongswan responder -      ours
3des-mm-lsw-i    3des   main        no  libreswan  initiator -      ours
3des-mm-lsw-r    3des   main        no  libreswan  responder -      theirs
aes-mm-ss-i      aes128 main        no  strongswan initiator -      ours
aes-mm-ss-r      aes128 main        no  strongswan responder -      theirs
aes-mm-lsw-i     aes128 main        no  libreswan  initiator -      theirs
aes-mm-lsw-r     aes128 main        no  libreswan  responder -      ours
aes-am-ss-i      aes128 aggressive  no  strongswan initiator -      ours
aes-am-ss-r      aes128 aggressive  no  strongswan responder -      theirs
aes-pfs-rk-ss-i  aes128 main        yes strongswan initiator ours   ours
3des-pfs-rk-ss-r 3des   main        yes strongswan responder theirs theirs
3des-pfs-rk-lsw-i 3des  main        yes libreswan  initiator ours   theirs
aes-pfs-rk-lsw-r aes128 main        yes libreswan  responder theirs ours
nat-them-mm-ss-i      aes128 main       no  strongswan initiator -      ours   them
nat-them-mm-ss-r      3des   main       no  strongswan responder -      theirs them
nat-us-pfs-rk-ss-i    aes128 main       yes strongswan initiator ours   ours   us
nat-us-am-ss-r        aes128 aggressive no  strongswan responder -      theirs us
nat-us-am-ss-i        seed   aggressive no  strongswan initiator -      ours   us
nat-them-mm-lsw-i     3des   main       no  libreswan  initiator -      theirs them
nat-us-mm-lsw-r       aes128 main       no  libreswan  responder -      ours   us
nat-them-pfs-rk-lsw-r 3des   main       yes libreswan  responder theirs ours   them
am-refused-ss-r       aes128 aggressive no  strongswan responder -      refused
cert-rsa-mm-ss-i      aes128 main       no  strongswan initiator -      ours    - rsa,dn
cert-rsa-mm-ss-r      aes128 main       no  strongswan responder -      theirs  - rsa,fqdn
cert-ec256-mm-ss-i    aes128 main       no  strongswan initiator -      theirs  - ec256,dn
cert-ec256-mm-ss-r    aes128 main       no  strongswan responder -      ours    - ec256,fqdn
cert-ec384-mm-ss-r    aes128 main       no  strongswan responder -      theirs  - ec384,dn
cert-rsa-am-ss-i      aes128 aggressive no  strongswan initiator -      ours    - rsa,fqdn
cert-rsa-am-ss-r      aes128 aggressive no  strongswan responder -      theirs  - rsa,dn
cert-ec256-am-ss-i    aes128 aggressive no  strongswan initiator -      theirs  - ec256,dn
cert-rsa-frag-ss-i    aes128 main       no  strongswan initiator -      ours    - rsa,dn,frag
cert-rsa-mm-lsw-i     aes128 main       no  libreswan  initiator -      theirs  - rsa,dn
cert-rsa-mm-lsw-r     aes128 main       no  libreswan  responder -      ours    - rsa,fqdn
cert-rsa-am-lsw-r     aes128 aggressive no  libreswan  responder -      theirs  - rsa,dn
cert-rsa-frag-lsw-r   aes128 main       no  libreswan  responder -      ours    - rsa,dn,frag
cert-bad-them-expired-ss-r  aes128 main no  strongswan responder -      refused - rsa,dn,them-expired
cert-bad-them-otherca-ss-i  aes128 main no  strongswan initiator -      refused - rsa,dn,them-otherca
cert-bad-them-revoked-ss-i  aes128 main no  strongswan initiator -      refused - rsa,dn,them-revoked
cert-bad-us-expired-ss-i    aes128 main no  strongswan initiator -      refused - rsa,dn,us-expired
cert-bad-us-otherca-ss-i    aes128 main no  strongswan initiator -      refused - rsa,dn,us-otherca
cert-bad-us-wrongid-ss-i    aes128 main no  strongswan initiator -      refused - rsa,dn,us-wrongid
cert-bad-them-otherca-lsw-r aes128 main no  libreswan  responder -      refused - rsa,dn,them-otherca
cert-bad-us-expired-lsw-i   aes128 main no  libreswan  initiator -      refused - rsa,dn,us-expired
'
# The cells ci.sh (and so .ci/run) runs unless CELLS says otherwise: a third of
# the matrix that still has each suite, each counterpart in each role, both
# phase-1 modes, both PFS groups, rekeying by us with each counterpart and by
# them, and a Delete from each side with each counterpart; and two NAT
# cells, each side behind the NAT once, each counterpart once; and two
# remote-access cells against libreswan (ra/lib/cells.sh), our client and
# our server once each; and two certificate cells, ECDSA with strongSwan and
# RSA with forced fragmentation with libreswan.
MATRIX_CI_CELLS='^(seed-mm-ss-i|aes-am-ss-r|3des-mm-lsw-r|aes-pfs-rk-ss-i|3des-pfs-rk-lsw-i|aes-pfs-rk-lsw-r|nat-us-am-ss-r|nat-them-pfs-rk-lsw-r|ra-lsw-srv-us-mm|ra-lsw-cli-us-mm|cert-ec256-mm-ss-i|cert-rsa-frag-lsw-r)$'
# matrix_cells [FILTER]: the cell lines whose id matches the extended regex
# (and not CELLS_SKIP's, when set: CELLS_SKIP='^nat-' leaves the NAT cells
# out), always with the nat and auth fields (10 fields)
matrix_cells() {
    echo "$MATRIX_CELLS" | awk -v f="${1:-.}" -v skip="${CELLS_SKIP:-}" \
        '(NF >= 8 && NF <= 10) && $1 ~ f && (skip == "" || $1 !~ skip) { if (NF == 8) $9 = "-"; if (NF <= 9) $10 = "psk"; print }'
}
# matrix_has_cert_cells FILTER : 0 when a chosen cell uses certificates
matrix_has_cert_cells() { matrix_cells "${1:-.}" | awk '$10 != "psk" { f = 1 } END { exit !f }'; }
