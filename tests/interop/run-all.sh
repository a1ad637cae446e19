#!/bin/bash
# The interop matrix: every cell of lib/matrix.sh, our side (IKEV1_PEER)
# against strongSwan and libreswan, then tshark's third-party check of our
# keys. Prints one line per cell and exits 0 only if every cell passes.
#
#   IKEV1_PEER=path   our side (default: the stand-in, strongSwan playing us;
#                     set it to target/release/ikev1-peer when that exists)
#   CELLS=regex       a subset of the cells (default: all)
#   CELLS_SKIP=regex  cells to leave out (default: none; '^nat-': the NAT cells)
#   PARALLEL=N        cells at once inside the guest (default 2)
#   IKEINT_OUT=dir    results (default tests/interop/out); each cell keeps its
#                     logs, our events and key tables, and the pcaps
#   MATRIX_TIMEOUT_S  bound on the guest run (default 1500)
#   DECRYPT_JOBS=N    tshark checks at once on the host (default: the cores)
# On a kernel without ESP (this kind of machine) the cells run in one boot of
# a throw-away QEMU guest (vm/run-vm.sh); on a kernel with esp4 and DES, or
# with IKEINT_NO_VM=1, they run directly.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/matrix.sh"
source "$HERE/lib/guest.sh"
T0=$(date +%s)
"$HERE/setup.sh" --check || { echo "run-all: missing pieces: run $HERE/setup.sh first" >&2; exit 2; }
IKEV1_PEER=$(realpath "${IKEV1_PEER:-$HERE/stand-in/ikev1-peer-standin}")
[ -x "$IKEV1_PEER" ] || { echo "run-all: IKEV1_PEER=$IKEV1_PEER is not executable" >&2; exit 2; }
case "$IKEV1_PEER" in */stand-in/*) SIDE="STAND-IN (strongSwan plays our side; not ikev1-peer)";; *) SIDE="$IKEV1_PEER";; esac
mkdir -p "$IKEINT_OUT"; IKEINT_OUT=$(cd "$IKEINT_OUT" && pwd); rm -rf "$IKEINT_OUT/cells"
PARAMS=(IKEV1_PEER="$IKEV1_PEER" CELLS="${CELLS:-.}" CELLS_SKIP="${CELLS_SKIP:-}" PARALLEL="${PARALLEL:-2}"
        CELL_TIMEOUT_S="${CELL_TIMEOUT_S:-600}" REKEY_LIFE="${REKEY_LIFE:-60}")
[ -n "${STANDIN_BREAK:-}" ] && PARAMS+=(STANDIN_BREAK="$STANDIN_BREAK")   # harness self-test
echo "== interop matrix: our side = $SIDE"
if [ "${IKEINT_NO_VM:-0}" = 1 ] || { [ "${IKEINT_FORCE_VM:-0}" != 1 ] && kernel_has_esp 'cbc(des)' 'hmac(md5)'; }; then
    WHERE="this kernel ($(uname -r))"
    echo "== running on $WHERE"
    env "${PARAMS[@]}" IKEINT_OUT="$IKEINT_OUT" timeout "${MATRIX_TIMEOUT_S:-1500}" "$HERE/matrix-guest.sh" \
        > "$IKEINT_OUT/guest-run.log" 2>&1
    GRC=$?
else
    WHERE="QEMU guest (Debian kernel $(kernel_version), TCG; host kernel $(uname -r) has no ESP)"
    echo "== running in one boot of a $WHERE"
    IKEINT_OUT="$IKEINT_OUT" "$HERE/vm/run-vm.sh" "$HERE/matrix-guest.sh" "${MATRIX_TIMEOUT_S:-1500}" "${PARAMS[@]}"
    GRC=$?
    [ $GRC -eq 98 ] && { echo "run-all: THE GUEST DID NOT RUN the matrix; console:" >&2; tail -n 30 "$IKEINT_OUT/vm-console.log" >&2; }
fi
T_GUEST=$(( $(date +%s) - T0 ))
echo "== cells done in ${T_GUEST} s (guest exit $GRC); decrypting with tshark on the host"

# tshark's check of each cell's keys (decrypt.sh starts tshark about twenty
# times a cell): as many cells at once as the host has cores.
T1=$(date +%s)
while read -r id _; do
    C="$IKEINT_OUT/cells/$id"
    rm -f "$C/decrypt.rc"
    [ -f "$C/cell.env" ] && [ -f "$C/wire-us.pcap" ] && printf '%s\0' "$C"
done < <(matrix_cells "${CELLS:-.}") |
    xargs -0 -r -n 1 -P "${DECRYPT_JOBS:-$(nproc)}" \
        sh -c '"$0" "$1" > /dev/null 2>&1; echo $? > "$1/decrypt.rc"' "$HERE/decrypt.sh"
echo "== tshark checks done in $(( $(date +%s) - T1 )) s"

FAILED=0; TOTAL=0
MATRIX="$IKEINT_OUT/matrix.txt"
printf '%-21s %-7s %-10s %-4s %-10s %-9s %-6s %-8s %-4s %6s  %s\n' cell suite mode pfs them we rekey delete nat time result > "$MATRIX"
while read -r id suite mode pfs them role rekey teardown nat; do
    TOTAL=$((TOTAL+1))
    C="$IKEINT_OUT/cells/$id"
    res=$(head -n1 "$C/result" 2>/dev/null || echo "FAIL: cell did not run (see $IKEINT_OUT/guest-run.log)")
    if [ -f "$C/cell.env" ] && [ -f "$C/wire-us.pcap" ]; then
        drc=$(cat "$C/decrypt.rc" 2>/dev/null || echo missing)
        if [ "$res" = PASS ] && [ "$drc" != 0 ]; then res="FAIL: tshark: $(tail -n1 "$C/decrypt.txt" 2>/dev/null | sed 's/^DECRYPT: FAIL: //')"; fi
    fi
    [ "$res" = PASS ] || FAILED=$((FAILED+1))
    t=$(awk '$1=="total"{print $2}' "$C/timings.txt" 2>/dev/null)
    printf '%-21s %-7s %-10s %-4s %-10s %-9s %-6s %-8s %-4s %6s  %s\n' "$id" "$suite" "$mode" "$pfs" "$them" "$role" "$rekey" "$teardown" "$nat" "${t:-?}s" "$res" >> "$MATRIX"
done < <(matrix_cells "${CELLS:-.}")
cat "$MATRIX"
T_ALL=$(( $(date +%s) - T0 ))
echo "== $((TOTAL-FAILED)) passed, $FAILED failed ($TOTAL cells; our side: $SIDE; $WHERE; ${T_ALL} s)"
echo "== results: $IKEINT_OUT/cells/<cell>/ (cell.log, result, timings.txt, us/, them/, wire-*.pcap, decrypt.txt)"
echo "interop: $((TOTAL-FAILED)) passed, $FAILED failed"
[ $FAILED -eq 0 ] && [ $TOTAL -gt 0 ] && [ $GRC -eq 0 ]
