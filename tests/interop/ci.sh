#!/bin/bash
# The interop suite as .ci/run calls it (as root, on this kind of machine):
#   1. setup.sh: Debian packages + unpacked libreswan/kernel/busybox + initramfs
#      (cached in $IKEINT_CACHE; a warm cache makes no network access)
#   2. build the guest probe (a small Rust binary, tests/interop/probe)
#   3. guest check: boot the guest once and check ESP states, TUN and raw
#      protocol-50 sockets there. A machine where the guest cannot start or
#      cannot do these FAILS LOUDLY here; it never passes silently.
#   4. run-all.sh: the matrix (CI's subset, MATRIX_CI_CELLS in lib/matrix.sh,
#      unless CELLS is set; CELLS=. for all, with the remote-access cells
#      against libreswan, ra-lsw-*), then tshark's check of our keys
#      (IKEINT_GUEST_CHECK=0 skips 2 and 3)
# The whole run is bounded by IKEINT_CI_BUDGET_S (default 1680 s = 28 min).
# Our side: IKEV1_PEER (path of the ikev1-peer binary); unset = the stand-in.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/paths.sh"
source "$HERE/lib/guest.sh"
BUDGET=${IKEINT_CI_BUDGET_S:-1680}
T0=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
step() { printf '\n== interop: %s (%s, %d s left of %d)\n' "$*" "$(date -u +%H:%M:%S)" "$(left)" "$BUDGET"; }
loud() {
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!!! INTEROP: %s\n' "$@"
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
}

step "setup (cache $IKEINT_CACHE)"
timeout "$(left)" "$HERE/setup.sh" || { loud "setup.sh failed: packages or guest build missing"; exit 1; }
echo "setup: $(( $(date +%s) - T0 )) s"

if [ "${IKEINT_GUEST_CHECK:-1}" = 0 ]; then
    # (saves the probe build and a guest boot; a guest that cannot run still
    # fails loudly: run-all.sh reports "THE GUEST DID NOT RUN" and every cell fails)
    step "guest check skipped (IKEINT_GUEST_CHECK=0)"
else
    step "guest probe build"
    t=$(date +%s)
    CARGO_TARGET_DIR="$IKEINT_CACHE/probe-target" timeout "$(left)" nice -n 10 \
        cargo build --release --quiet --manifest-path "$HERE/probe/Cargo.toml" \
        || { loud "cannot build tests/interop/probe"; exit 1; }
    echo "probe: $(( $(date +%s) - t )) s"

    step "guest check"
    t=$(date +%s)
    mkdir -p "$IKEINT_OUT"
    CHK="$IKEINT_OUT/guest-check"
    if [ "${IKEINT_FORCE_VM:-0}" != 1 ] && kernel_has_esp 'cbc(des)' 'hmac(md5)'; then
        echo "this kernel ($(uname -r)) has ESP and DES: no guest needed"
        IKEINT_OUT="$CHK" INTEROP="$HERE" timeout 240 "$HERE/vm/guest-check.sh"; rc=$?
    else
        IKEINT_OUT="$CHK" timeout 300 "$HERE/vm/run-vm.sh" "$HERE/vm/guest-check.sh" 240; rc=$?
    fi
    cat "$CHK/guest-check.txt" 2>/dev/null
    if [ $rc -ne 0 ]; then
        case $rc in
        98) loud "THE GUEST DID NOT START (exit 98): the matrix cannot run on this machine" \
                 "console: $CHK/vm-console.log, qemu: $CHK/qemu.log";;
        124) loud "THE GUEST TIMED OUT during its self-check: the matrix cannot run on this machine";;
        *) loud "THE GUEST STARTED BUT FAILED ITS SELF-CHECK (exit $rc): see $CHK/guest-check.txt";;
        esac
        tail -n 20 "$CHK/vm-console.log" 2>/dev/null
        echo "interop: 0 passed, 1 failed"
        exit 1
    fi
    echo "guest check: $(( $(date +%s) - t )) s"
fi

step "matrix"
[ -n "${IKEV1_PEER:-}" ] || loud "IKEV1_PEER is not set: our side is the STAND-IN (strongSwan), not ikev1-peer"
# CI runs the subset of lib/matrix.sh (MATRIX_CI_CELLS) unless told: CELLS=.
# runs all 27 site-to-site cells, the 21 certificate cells and the 7
# remote-access cells with libreswan (about three times as long).
source "$HERE/lib/matrix.sh"
source "$HERE/ra/lib/cells.sh"
export CELLS=${CELLS:-$MATRIX_CI_CELLS}
# (the remote-access cells with libreswan run in the same guest boot: ra/lib/cells.sh)
n_ra() { cells_list | awk -v f="$1" -v skip="${CELLS_SKIP:-}" '($2 == "lsw" || $3 == "lsw") && $1 ~ f && (skip == "" || $1 !~ skip)' | wc -l; }
echo "cells: $CELLS ($(matrix_cells "$CELLS" | wc -l) of $(matrix_cells . | wc -l) site-to-site, $(n_ra "$CELLS") of $(n_ra .) remote-access)"
budget=$(( $(left) - 120 ))    # keep time for tshark and the report
[ $budget -gt 300 ] || { loud "no time left for the matrix"; exit 1; }
MATRIX_TIMEOUT_S=$(( budget - 60 )) timeout "$budget" "$HERE/run-all.sh"; rc=$?
echo "interop total: $(( $(date +%s) - T0 )) s (budget $BUDGET s)"
exit $rc
