#!/bin/bash
# Runs the matrix cells on this kernel (inside the guest: vm/run-vm.sh boots
# it once for the whole matrix). CELLS (regex on the cell id, default all),
# CELL_TIMEOUT_S (default 600), PARALLEL (cells at once, default 1; cells
# have their own namespaces and do not share addresses or ports).
# Writes $IKEINT_OUT/cells/<id>/ and $IKEINT_OUT/guest-matrix.log.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/matrix.sh"
source "$HERE/lib/guest.sh"
log "matrix on $(uname -r), $(nproc) CPUs; our side: ${IKEV1_PEER:-stand-in}"
# warm the kernel's crypto self-tests once, outside any cell's timing
for e in 'cbc(des)' 'cbc(des3_ede)' 'cbc(aes)'; do kernel_has_esp "$e" 'hmac(md5)'; done
mapfile -t LINES < <(matrix_cells "${CELLS:-.}")
PAR=${PARALLEL:-1}
running=()
for line in "${LINES[@]}"; do
    set -- $line
    while [ "$(jobs -rp | wc -l)" -ge "$PAR" ]; do sleep 0.5; done
    log "cell $1 starting"
    ( timeout -k 10 "${CELL_TIMEOUT_S:-600}" "$HERE/cell.sh" "$@" > /dev/null 2>&1
      rc=$?; [ $rc -eq 124 ] && echo "FAIL: cell timed out after ${CELL_TIMEOUT_S:-600} s" > "$IKEINT_OUT/cells/$1/result"
      log "cell $1 done: $(head -n1 "$IKEINT_OUT/cells/$1/result" 2>/dev/null)" ) &
    [ "$PAR" -gt 1 ] && sleep "${PARALLEL_STAGGER_S:-3}"
done
wait
log "matrix done"
