#!/bin/bash
# The tshark step of a remote-access cell that ran with RA_WIRE=defer (in
# the QEMU guest, where tshark would cost the emulated guest many seconds):
#
#   wire-cell.sh CELL_OUT
#
# Runs on the host after the guest: ra_cell_wire (lib/wire.sh) on the
# cell's capture and logs, appends its verdict to cell.log and
# timings.txt, and turns the cell's PASS into "FAIL: wire: ..." when the
# capture disagrees. Does nothing (status 0) when the cell left no
# wire.pending (it stopped before its teardown, or ran its wire step
# itself). Exit status: 0 when the wire check passed or was not due.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/ra.sh"
source "$HERE/lib/wire.sh"
C=${1:?usage: wire-cell.sh CELL_OUT}
[ -f "$C/wire.pending" ] || exit 0
PW=$(cat "$C/wire.pending")
RA_TMP=$(mktemp -d /tmp/ra-wire-cell.XXXXXX)
export RA_TMP
trap 'rm -rf "$RA_TMP"' EXIT
t0=$EPOCHREALTIME
rc=0
msg=$(ra_cell_wire "$C" "$PW") || rc=$?
t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "wire $t (on the host)" >> "$C/timings.txt"
if [ $rc -eq 0 ]; then
    log "wire (host): $(tail -n 1 "$C/wire-check.txt")" >> "$C/cell.log"
else
    log "wire (host): FAIL: $msg" >> "$C/cell.log"
    [ "$(head -n 1 "$C/result" 2>/dev/null)" = PASS ] && echo "FAIL: wire: $msg" > "$C/result"
fi

exit $rc
