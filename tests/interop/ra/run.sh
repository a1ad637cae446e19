#!/bin/bash
# The remote-access (XAUTH + Mode-Config) interop cells, on the host:
#
#   tests/interop/ra/run.sh [CELLS_REGEX]
#
# IKEV1_PEER unset: the harness's self-test, counterpart against counterpart
# (vpnc and strongSwan clients against a strongSwan server). IKEV1_PEER set
# (a path to ikev1-peer): the cells with our peer as client or server.
# CELLS_REGEX (or CELLS) narrows the chosen cells by ID, CELLS_SKIP leaves
# some out. PARALLEL (default 2) cells run at once: each has its own
# namespaces (named after the cell), so they share nothing. Every cell is
# bounded (CELL_BUDGET_S, 55 s, inside; RA_CELL_TIMEOUT, 70 s, outside).
# Results in RA_OUT (default tests/interop/out/ra): cells/ID/..., and
# summary.txt (one line a cell: ID, result, seconds). Prints one line a
# cell, then "interop-ra: N passed, N failed"; exit 0 only if all passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/ra.sh"
source "$HERE/lib/cells.sh"

CELLS=${1:-${CELLS:-.}}
PARALLEL=${PARALLEL:-2}
RA_CELL_TIMEOUT=${RA_CELL_TIMEOUT:-70}
export RA_OUT CELL_BUDGET_S="${CELL_BUDGET_S:-55}"
[ "$(id -u)" -eq 0 ] || { echo "run.sh: must run as root (network namespaces)" >&2; exit 2; }
"$HERE/setup.sh" --check || { echo "!!! RA INTEROP: tools missing: run tests/interop/ra/setup.sh first" >&2; exit 1; }

if [ -n "${IKEV1_PEER:-}" ]; then
    IKEV1_PEER=$(readlink -f "$IKEV1_PEER"); export IKEV1_PEER
    want() { [[ " $2 $3 " == *" us "* ]]; }
    echo "interop-ra: our side is $IKEV1_PEER"
else
    want() { [[ " $2 $3 " != *" us "* ]]; }
    echo "interop-ra: IKEV1_PEER unset: the harness self-test (counterparts only)"
fi
# libreswan's cells need kernel ESP: on a kernel without it (this kind of
# machine) they run in the guest of tests/interop (run-all.sh, CELLS='^ra-lsw-')
source "$HERE/../lib/guest.sh"       # kernel_has_esp
KERNEL_ESP=no
kernel_has_esp 'cbc(aes)' 'hmac(sha1)' && KERNEL_ESP=yes
SELECTED=() GUEST_ONLY=()
while read -r id cl sv mode pw; do
    want "$id" "$cl" "$sv" || continue
    [[ $id =~ $CELLS ]] || continue
    [ -n "${CELLS_SKIP:-}" ] && [[ $id =~ $CELLS_SKIP ]] && continue
    if cell_needs_kernel_esp "$cl" "$sv" && [ "$KERNEL_ESP" = no ]; then GUEST_ONLY+=("$id"); continue; fi
    SELECTED+=("$id")
done < <(cells_list)
[ "${#GUEST_ONLY[@]}" -eq 0 ] || echo "interop-ra: left out (libreswan needs kernel ESP, this kernel has none; they run in the guest: CELLS='^ra-lsw-' tests/interop/run-all.sh): ${GUEST_ONLY[*]}"
[ "${#SELECTED[@]}" -gt 0 ] || { echo "interop-ra: no cell matches '$CELLS'" >&2; echo "interop-ra: 0 passed, 1 failed"; exit 1; }

# our binary, once, loudly: a build without the remote-access modes fails
# every cell that needs them, with the reason
PREFLIGHT=
if [ -n "${IKEV1_PEER:-}" ]; then
    need=()
    for id in "${SELECTED[@]}"; do
        read -r cl sv _ _ <<< "$(cell_lookup "$id")"
        [ "$cl" = us ] && need+=(client)
        [ "$sv" = us ] && need+=(server)
    done
    for role in $(printf '%s\n' "${need[@]}" | sort -u); do
        if ! msg=$(ra_us_check_binary "$role" 2>&1); then
            echo "$msg" >&2
            PREFLIGHT+="$role "
        fi
    done
fi

mkdir -p "$RA_OUT/cells"
SUMMARY=$RA_OUT/summary.txt
: > "$SUMMARY.tmp"
T0=$EPOCHSECONDS
RUNDIR=$(mktemp -d /tmp/ra-run.XXXXXX)
# `timeout` puts each cell in its own process group: on INT or TERM, pass
# TERM to every running cell's timeout (which hands it to cell.sh, whose
# trap stops its daemons and deletes its namespaces), then wait for them
stop_cells() {
    local f
    trap - INT TERM
    echo "interop-ra: interrupted, stopping the running cells" >&2
    for f in "$RUNDIR"/*.pid; do [ -e "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; done
    wait
    rm -rf "$RUNDIR"
    exit 130
}
trap stop_cells INT TERM
line() { # ID RESULT SECONDS
    if [ "$2" = PASS ]; then printf '%-24s PASS %4ss\n' "$1" "$3"
    else printf '%-24s FAIL %4ss  %s\n' "$1" "$3" "${2#FAIL: }"; fi
}
run_cell() { # ID -> one summary line
    local id=$1 t0=$EPOCHSECONDS rc=0 res pid
    timeout -k 10 "$RA_CELL_TIMEOUT" "$HERE/cell.sh" "$id" > "$RA_OUT/cells/$id.out" 2>&1 &
    pid=$!; echo "$pid" > "$RUNDIR/$id.pid"
    wait "$pid" || rc=$?
    rm -f "$RUNDIR/$id.pid"
    res=$(cat "$RA_OUT/cells/$id/result" 2>/dev/null || echo "FAIL: no result (cell.sh status $rc)")
    [ "$rc" -eq 124 ] && res="FAIL: killed after $RA_CELL_TIMEOUT s ($res)"
    [ "$rc" -ne 0 ] && [ "$res" = PASS ] && res="FAIL: cell.sh status $rc"
    line "$id" "$res" "$(( EPOCHSECONDS - t0 ))"
}
running=0
for id in "${SELECTED[@]}"; do
    read -r cl sv _ _ <<< "$(cell_lookup "$id")"
    if [ -n "$PREFLIGHT" ] && { { [ "$cl" = us ] && [[ $PREFLIGHT == *client* ]]; } || { [ "$sv" = us ] && [[ $PREFLIGHT == *server* ]]; }; }; then
        line "$id" "FAIL: $IKEV1_PEER lacks the remote-access $( [ "$cl" = us ] && echo client || echo server) mode (see above)" 0 | tee -a "$SUMMARY.tmp"
        continue
    fi
    if [ "$running" -ge "$PARALLEL" ]; then wait -n || true; running=$((running - 1)); fi
    ( run_cell "$id" | tee -a "$SUMMARY.tmp" ) &
    running=$((running + 1))
done
wait || true
rm -rf "$RUNDIR"

# the summary in the table's order
{
    echo "# remote-access interop, $(date -u +%Y-%m-%dT%H:%M:%SZ), our side: ${IKEV1_PEER:-none (self-test)}, $(( EPOCHSECONDS - T0 )) s"
    for id in "${SELECTED[@]}"; do grep -E "^$id " "$SUMMARY.tmp" || line "$id" "FAIL: no result" 0; done
} > "$SUMMARY"
rm -f "$SUMMARY.tmp"
pass=$(grep -c ' PASS ' "$SUMMARY" || true)
failn=$(( ${#SELECTED[@]} - pass ))
echo "interop-ra: ${#SELECTED[@]} cells in $(( EPOCHSECONDS - T0 )) s, summary in $SUMMARY"
[ -n "$PREFLIGHT" ] && echo "!!! RA INTEROP: $IKEV1_PEER lacks the remote-access mode(s): $PREFLIGHT" >&2
echo "interop-ra: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
