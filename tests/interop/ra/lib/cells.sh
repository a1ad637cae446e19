# shellcheck shell=bash
# The remote-access cells (sourced). One line a cell:
#   ID  CLIENT  SERVER  MODE  PASSWORD
# CLIENT: vpnc | ss (strongSwan charon) | lsw (libreswan pluto) | us (ikev1-peer client)
# SERVER: ss (strongSwan charon) | lsw (libreswan pluto) | us (ikev1-peer --users ...)
# MODE:   aggressive | main (phase 1; vpnc only does Aggressive Mode)
# PASSWORD: good (the tunnel must come up) | bad (XAUTH must refuse it)
# An ID ending in -push has libreswan push Mode-Config (modecfgpull=no:
# its SET on the XAUTH status exchange's message ID) instead of answering
# the client's request.
# Cells without "us" are the harness's self-test (counterpart against
# counterpart); run.sh runs them when IKEV1_PEER is unset, and the cells
# with "us" when it is set.
# Cells with libreswan (lsw) need kernel ESP, which this machine's kernel
# lacks: they run in the QEMU guest of tests/interop, in the same boot as
# the site-to-site matrix (tests/interop/run-all.sh with CELLS matching
# ^ra-lsw-), and run.sh leaves them out unless the kernel has ESP.
RA_CELLS="
ra-vpnc-ss-am           vpnc ss aggressive good
ra-vpnc-ss-am-badpw     vpnc ss aggressive bad
ra-ss-ss-mm             ss   ss main       good
ra-ss-ss-mm-badpw       ss   ss main       bad
ra-ss-ss-am             ss   ss aggressive good
ra-ss-ss-am-badpw       ss   ss aggressive bad
ra-vpnc-us-am           vpnc us aggressive good
ra-vpnc-us-am-badpw     vpnc us aggressive bad
ra-ss-srv-us-am         us   ss aggressive good
ra-ss-srv-us-am-badpw   us   ss aggressive bad
ra-ss-srv-us-mm         us   ss main       good
ra-ss-srv-us-mm-badpw   us   ss main       bad
ra-ss-cli-us-mm         ss   us main       good
ra-ss-cli-us-mm-badpw   ss   us main       bad
ra-ss-cli-us-am         ss   us aggressive good
ra-ss-cli-us-am-badpw   ss   us aggressive bad
ra-lsw-srv-us-mm        us   lsw main      good
ra-lsw-srv-us-mm-badpw  us   lsw main      bad
ra-lsw-srv-us-mm-push   us   lsw main      good
ra-lsw-srv-us-am        us   lsw aggressive good
ra-lsw-srv-us-am-badpw  us   lsw aggressive bad
ra-lsw-cli-us-mm        lsw  us  main      good
ra-lsw-cli-us-mm-badpw  lsw  us  main      bad
"
# cells_list -> the lines above, without blanks
cells_list() { printf '%s\n' "$RA_CELLS" | awk 'NF == 5'; }
# cell_lookup ID -> "CLIENT SERVER MODE PASSWORD" (status 1 if unknown)
cell_lookup() { cells_list | awk -v id="$1" '$1 == id { print $2, $3, $4, $5; f = 1 } END { exit !f }'; }
# cell_needs_kernel_esp CLIENT SERVER -> 0 when a party does ESP in the kernel
cell_needs_kernel_esp() { [ "$1" = lsw ] || [ "$2" = lsw ]; }
