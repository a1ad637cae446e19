#!/bin/bash
# The interop matrix: every cell of lib/matrix.sh, our side (IKEV1_PEER)
# against strongSwan and libreswan, then tshark's third-party check of our
# keys. Prints one line per cell and exits 0 only if every cell passes.
#
#   IKEV1_PEER=path   our side (default: the stand-in, strongSwan playing us;
#                     set it to target/release/ikev1-peer when that exists)
#   CELLS=regex       a subset of the cells (default: all, with the remote-access
#                     cells that need the guest: ra-lsw-*, from ra/lib/cells.sh)
#   CELLS_SKIP=regex  cells to leave out (default: none; '^nat-': the NAT cells,
#                     '^cert-': the certificate cells)
#   PARALLEL=N        cells at once inside the guest (default 2)
#   IKEINT_OUT=dir    results (default tests/interop/out); each cell keeps its
#                     logs, our events and key tables, and the pcaps
#   MATRIX_TIMEOUT_S  bound on the guest run (default 1500)
#   DECRYPT_JOBS=N    tshark checks at once on the host (default: the cores)
#   IKEV1_PEER_RA     our side in the remote-access cells (default IKEV1_PEER;
#                     the remote-access stand-in when IKEV1_PEER is unset or
#                     the site-to-site stand-in)
#   RA_STRICT_UNITY   0: our client need not report the domain and banner
#                     (default 0 with the stand-in, which cannot, else 1)
#   RA_LSW_IKEPAD     no: libreswan servers without their padded Mode-Config
#                     attributes (default no with the stand-in, else unset)
# On a kernel without ESP (this kind of machine) the cells run in one boot of
# a throw-away QEMU guest (vm/run-vm.sh); on a kernel with esp4 and DES, or
# with IKEINT_NO_VM=1, they run directly.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/matrix.sh"
source "$HERE/lib/guest.sh"
source "$HERE/ra/lib/ra.sh"      # ra_us_check_binary
source "$HERE/ra/lib/cells.sh"   # the remote-access cells
T0=$(date +%s)
"$HERE/setup.sh" --check || { echo "run-all: missing pieces: run $HERE/setup.sh first" >&2; exit 2; }
IKEV1_PEER=$(realpath "${IKEV1_PEER:-$HERE/stand-in/ikev1-peer-standin}")
[ -x "$IKEV1_PEER" ] || { echo "run-all: IKEV1_PEER=$IKEV1_PEER is not executable" >&2; exit 2; }
case "$IKEV1_PEER" in */stand-in/*) SIDE="STAND-IN (strongSwan plays our side; not ikev1-peer)";; *) SIDE="$IKEV1_PEER";; esac
mkdir -p "$IKEINT_OUT"; IKEINT_OUT=$(cd "$IKEINT_OUT" && pwd); rm -rf "$IKEINT_OUT/cells"

# The remote-access cells with libreswan (kernel ESP: the guest). Our side
# there is IKEV1_PEER_RA; a binary without the remote-access modes fails
# those cells here, loudly, without spending guest time on them.
case "$IKEV1_PEER" in */stand-in/ikev1-peer-standin) IKEV1_PEER_RA_DEFAULT=$HERE/ra/stand-in/ikev1-peer-ra-standin;;
                      *) IKEV1_PEER_RA_DEFAULT=$IKEV1_PEER;; esac
IKEV1_PEER_RA=$(realpath "${IKEV1_PEER_RA:-$IKEV1_PEER_RA_DEFAULT}")
# the stand-in (strongSwan) cannot report the domain and banner, and cannot
# parse libreswan 4.10's padded Mode-Config reply (ra/lib/lsw.sh, ikepad)
case "$IKEV1_PEER_RA" in
*/stand-in/*) RA_STRICT_UNITY=${RA_STRICT_UNITY:-0}; RA_LSW_IKEPAD=${RA_LSW_IKEPAD-no} ;;
*)            RA_STRICT_UNITY=${RA_STRICT_UNITY:-1} ;;
esac
# ra_cells_chosen: the IDs of the chosen remote-access guest cells
ra_cells_chosen() {
    local id cl sv mode pw
    while read -r id cl sv mode pw; do
        cell_needs_kernel_esp "$cl" "$sv" || continue
        [[ $id =~ ${CELLS:-.} ]] || continue
        [ -n "${CELLS_SKIP:-}" ] && [[ $id =~ $CELLS_SKIP ]] && continue
        echo "$id"
    done < <(cells_list)
}
mapfile -t RA_CHOSEN < <(ra_cells_chosen)
RA_RUN=() RA_PREFLIGHT=()
if [ "${#RA_CHOSEN[@]}" -gt 0 ]; then
    declare -A RA_LACKS=() RA_NEEDS=()
    for id in "${RA_CHOSEN[@]}"; do
        read -r cl sv _ _ <<< "$(cell_lookup "$id")"
        [ "$cl" = us ] && RA_NEEDS[client]=1
        [ "$sv" = us ] && RA_NEEDS[server]=1
    done
    for role in "${!RA_NEEDS[@]}"; do
        msg=$(IKEV1_PEER=$IKEV1_PEER_RA ra_us_check_binary "$role" 2>&1) || RA_LACKS[$role]=${msg#!!! RA INTEROP: }
    done
    for id in "${RA_CHOSEN[@]}"; do
        read -r cl sv _ _ <<< "$(cell_lookup "$id")"
        role=client; [ "$sv" = us ] && role=server
        if [ -n "${RA_LACKS[$role]:-}" ]; then RA_PREFLIGHT+=("$id"); else RA_RUN+=("$id"); fi
    done
    for role in "${!RA_LACKS[@]}"; do echo "!!! INTEROP (remote access): ${RA_LACKS[$role]}" >&2; done
    echo "== remote-access cells (guest): ${#RA_CHOSEN[@]} chosen, our side $IKEV1_PEER_RA"
fi
PARAMS=(IKEV1_PEER="$IKEV1_PEER" CELLS="${CELLS:-.}" CELLS_SKIP="${CELLS_SKIP:-}" PARALLEL="${PARALLEL:-2}"
        CELL_TIMEOUT_S="${CELL_TIMEOUT_S:-600}" REKEY_LIFE="${REKEY_LIFE:-60}"
        RA_GUEST_CELLS="${RA_RUN[*]}" IKEV1_PEER_RA="$IKEV1_PEER_RA" RA_STRICT_UNITY="$RA_STRICT_UNITY")
if [ "${#RA_RUN[@]}" -gt 0 ]; then
    # libreswan's empty NSS database, made once here (seconds in the guest)
    rm -rf "$IKEINT_OUT/ra-nss-template"; mkdir -p "$IKEINT_OUT/ra-nss-template"
    certutil -N -d "sql:$IKEINT_OUT/ra-nss-template" --empty-password \
        && PARAMS+=(RA_LSW_NSS_TEMPLATE="$IKEINT_OUT/ra-nss-template")
fi
for v in RA_CELL_BUDGET_S RA_CELL_TIMEOUT_S RA_ESTABLISH_WAIT_S RA_DAEMON_WAIT_S RA_LSW_DEBUG RA_LSW_MODECFGPULL RA_LSW_IKEPAD RA_US_IKE RA_US_ESP RA_US_CLIENT_CONFIGURES_TUN; do
    [ -n "${!v+x}" ] && PARAMS+=("$v=${!v}")
done
[ -n "${STANDIN_BREAK:-}" ] && PARAMS+=(STANDIN_BREAK="$STANDIN_BREAK")   # harness self-test
# the certificate cells' PKI (pki/make-ca.sh: a few seconds here, made anew
# each run; the guest reads it from the shared results folder)
if matrix_has_cert_cells "${CELLS:-.}"; then
    "$HERE/pki/make-ca.sh" "$IKEINT_OUT/pki" || { echo "run-all: pki/make-ca.sh failed" >&2; exit 2; }
    PARAMS+=(CERT_PKI="$IKEINT_OUT/pki")
fi
for v in CERT_FRAGMENT_SIZE REFUSE_WAIT_S CERT_CELL_TIMEOUT_S FRAG_REQUIRE; do [ -n "${!v+x}" ] && PARAMS+=("$v=${!v}"); done
echo "== interop matrix: our side = $SIDE"
if [ -z "$(matrix_cells "${CELLS:-.}")" ] && [ "${#RA_RUN[@]}" -eq 0 ]; then
    WHERE="nowhere (no cell to run)"; GRC=0
elif [ "${IKEINT_NO_VM:-0}" = 1 ] || { [ "${IKEINT_FORCE_VM:-0}" != 1 ] && kernel_has_esp 'cbc(des)' 'hmac(md5)'; }; then
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
# the remote-access cells' tshark step (ra/wire-cell.sh), likewise
for id in "${RA_RUN[@]}"; do printf '%s\0' "$IKEINT_OUT/cells/$id"; done |
    xargs -0 -r -n 1 -P "${DECRYPT_JOBS:-$(nproc)}" "$HERE/ra/wire-cell.sh" > /dev/null 2>&1
echo "== tshark checks done in $(( $(date +%s) - T1 )) s"

FAILED=0; TOTAL=0
MATRIX="$IKEINT_OUT/matrix.txt"
printf '%-27s %-7s %-10s %-4s %-10s %-9s %-6s %-8s %-4s %-18s %6s  %s\n' cell suite mode pfs them we rekey delete nat auth time result > "$MATRIX"
while read -r id suite mode pfs them role rekey teardown nat auth; do
    TOTAL=$((TOTAL+1))
    C="$IKEINT_OUT/cells/$id"
    res=$(head -n1 "$C/result" 2>/dev/null || echo "FAIL: cell did not run (see $IKEINT_OUT/guest-run.log)")
    if [ -f "$C/cell.env" ] && [ -f "$C/wire-us.pcap" ]; then
        drc=$(cat "$C/decrypt.rc" 2>/dev/null || echo missing)
        if [ "$res" = PASS ] && [ "$drc" != 0 ]; then res="FAIL: tshark: $(tail -n1 "$C/decrypt.txt" 2>/dev/null | sed 's/^DECRYPT: FAIL: //')"; fi
    fi
    [ "$res" = PASS ] || FAILED=$((FAILED+1))
    t=$(awk '$1=="total"{print $2}' "$C/timings.txt" 2>/dev/null)
    printf '%-27s %-7s %-10s %-4s %-10s %-9s %-6s %-8s %-4s %-18s %6s  %s\n' "$id" "$suite" "$mode" "$pfs" "$them" "$role" "$rekey" "$teardown" "$nat" "$auth" "${t:-?}s" "$res" >> "$MATRIX"
done < <(matrix_cells "${CELLS:-.}")
# the remote-access cells: suite "ra" (XAUTH + Mode-Config), NAT-T forced;
# "we" is our role, client or server
for id in "${RA_CHOSEN[@]}"; do
    TOTAL=$((TOTAL+1))
    C="$IKEINT_OUT/cells/$id"
    read -r cl sv mode pw <<< "$(cell_lookup "$id")"
    them=libreswan; role=client; [ "$sv" = us ] && role=server
    if [[ " ${RA_PREFLIGHT[*]} " == *" $id "* ]]; then
        res="FAIL: $IKEV1_PEER_RA lacks the remote-access $role mode (see above)"
    else
        res=$(head -n1 "$C/result" 2>/dev/null || echo "FAIL: cell did not run (see $IKEINT_OUT/guest-run.log)")
    fi
    [ "$res" = PASS ] || FAILED=$((FAILED+1))
    t=$(awk '$1=="total"{print $2}' "$C/timings.txt" 2>/dev/null)
    [[ " ${RA_PREFLIGHT[*]} " == *" $id "* ]] && t=0
    assigned=
    [ "$res" = PASS ] && [ "$pw" = good ] && assigned=" (client assigned $(ra_assigned_summary "$C"))"
    printf '%-27s %-7s %-10s %-4s %-10s %-9s %-6s %-8s %-4s %-18s %6s  %s\n' "$id" "ra-$pw" "$mode" no "$them" "$role" - - natt psk+xauth "${t:-?}s" "$res$assigned" >> "$MATRIX"
done
cat "$MATRIX"
T_ALL=$(( $(date +%s) - T0 ))
echo "== $((TOTAL-FAILED)) passed, $FAILED failed ($TOTAL cells; our side: $SIDE; $WHERE; ${T_ALL} s)"
echo "== results: $IKEINT_OUT/cells/<cell>/ (cell.log, result, timings.txt, us/, them/, wire-*.pcap, decrypt.txt)"
echo "interop: $((TOTAL-FAILED)) passed, $FAILED failed"
[ $FAILED -eq 0 ] && [ $TOTAL -gt 0 ] && [ $GRC -eq 0 ]
