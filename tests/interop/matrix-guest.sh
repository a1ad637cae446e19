#!/bin/bash
# Runs the matrix cells on this kernel (inside the guest: vm/run-vm.sh boots
# it once for the whole matrix). CELLS (regex on the cell id, default all),
# CELL_TIMEOUT_S (default 600), PARALLEL (cells at once, default 1; cells
# have their own namespaces and do not share addresses or ports).
# Writes $IKEINT_OUT/cells/<id>/ and $IKEINT_OUT/guest-matrix.log.
# RA_GUEST_CELLS (space-separated IDs, chosen by run-all.sh) adds the
# remote-access cells that need kernel ESP (libreswan, ra/lib/cells.sh):
# ra/cell.sh, our side IKEV1_PEER_RA, each bounded by RA_CELL_BUDGET_S
# inside (55) and RA_CELL_TIMEOUT_S outside (70), results in the same
# cells/ folder; their tshark step is left to the host (RA_WIRE=defer).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/matrix.sh"
source "$HERE/lib/guest.sh"
log "matrix on $(uname -r), $(nproc) CPUs; our side: ${IKEV1_PEER:-stand-in}"
# warm the kernel's crypto self-tests once, outside any cell's timing
for e in 'cbc(des)' 'cbc(des3_ede)' 'cbc(aes)'; do kernel_has_esp "$e" 'hmac(md5)'; done
mapfile -t LINES < <(matrix_cells "${CELLS:-.}")
for id in ${RA_GUEST_CELLS:-}; do LINES+=("ra $id"); done
PAR=${PARALLEL:-1}
running=()
T_RA=0
for line in "${LINES[@]}"; do
    set -- $line
    while [ "$(jobs -rp | wc -l)" -ge "$PAR" ]; do sleep 0.5; done
    if [ "$1" = ra ]; then
        # a remote-access cell (ra/cell.sh): our side as client or server,
        # libreswan with kernel ESP as the other
        id=$2
        [ "$T_RA" = 0 ] && T_RA=$EPOCHSECONDS
        log "cell $id starting (remote access)"
        ( mkdir -p "$IKEINT_OUT/cells/$id"
          CELL_OUT="$IKEINT_OUT/cells/$id" RA_WIRE=defer RA_PREFLIGHT_DONE=1 IKEV1_PEER="${IKEV1_PEER_RA:-}" \
          CELL_BUDGET_S="${RA_CELL_BUDGET_S:-55}" ESTABLISH_WAIT_S="${RA_ESTABLISH_WAIT_S:-30}" DAEMON_WAIT_S="${RA_DAEMON_WAIT_S:-30}" \
              timeout -k 10 "${RA_CELL_TIMEOUT_S:-70}" "$HERE/ra/cell.sh" "$id" > "$IKEINT_OUT/cells/$id.out" 2>&1
          rc=$?; [ $rc -eq 124 ] && echo "FAIL: cell timed out after ${RA_CELL_TIMEOUT_S:-70} s" > "$IKEINT_OUT/cells/$id/result"
          log "cell $id done: $(head -n1 "$IKEINT_OUT/cells/$id/result" 2>/dev/null)" ) &
    else
        log "cell $1 starting"
        # (certificate cells have a bound of their own: CERT_CELL_TIMEOUT_S, 240)
        lim=${CELL_TIMEOUT_S:-600}; [ "${10:-psk}" != psk ] && lim=${CERT_CELL_TIMEOUT_S:-240}
        ( timeout -k 10 "$lim" "$HERE/cell.sh" "$@" > /dev/null 2>&1
          rc=$?; [ $rc -eq 124 ] && echo "FAIL: cell timed out after $lim s" > "$IKEINT_OUT/cells/$1/result"
          log "cell $1 done: $(head -n1 "$IKEINT_OUT/cells/$1/result" 2>/dev/null)" ) &
    fi
    [ "$PAR" -gt 1 ] && sleep "${PARALLEL_STAGGER_S:-3}"
done
wait
[ "$T_RA" = 0 ] || log "remote-access cells: $(( EPOCHSECONDS - T_RA )) s from the first one's start to the end"
log "matrix done"
