#!/usr/bin/env bash
# One fuzzing campaign: run TARGET for SECONDS, minimize its corpus, report.
#
#   fuzz/campaign.sh TARGET SECONDS
#
# Runs from anywhere; works in the repository the script belongs to. The
# target is built with cargo-fuzz's defaults (optimised, debug assertions and
# overflow checks on, AddressSanitizer with LeakSanitizer), so an arithmetic
# overflow, an out-of-bounds access, a leak, an input slower than 10 s
# (-timeout) or one needing more than 2 GiB (-rss_limit_mb) is a finding.
# libFuzzer stops at the first finding and writes the input to
# fuzz/artifacts/TARGET/; this script then exits non-zero after printing it.
#
# After a clean run the corpus (fuzz/corpus/TARGET, which the run grew) is
# minimized, and re-measured with -runs=0 so that the edges the committed
# corpus reaches are known. Minimizing is what `cargo fuzz cmin` does
# (libFuzzer merge) with three differences:
# - the committed (git-tracked) seeds all stay, and only grown inputs that
#   reach edges beyond them are added: the seeds are curated (real
#   captures, named cases), the corpus replay tests under `cargo test` rely
#   on them, and a plain cmin would drop or rename them;
# - features are edges only (-use_counters=0): hit-count buckets would keep
#   ten times the inputs (2346 files, 1.5 MB for ted_ios_roundtrip after ten
#   minutes) for the same edges, and the corpus lives in the repository.
#   A later run regrows the counter diversity in seconds;
# - -set_cover_merge=1 (greedy set cover) instead of -merge=1 (first input
#   in size order that adds a feature): about 30% fewer inputs for the
#   same edges.
#
#   fuzz/campaign.sh --minimize TARGET
#
# runs only that minimization step (e.g. after copying inputs in by hand).
#
# The last lines are machine-readable:
#   campaign: target=T seconds=S execs=N edges=E corpus_before=F/B
#             corpus_after=F/B corpus_edges=E findings=K
# (edges: libFuzzer's "cov:" figure, coverage points reached, from the
# final "DONE" stats line; F/B: files/bytes.)
#
# Needs cargo-fuzz (0.13.2 was used) and RUSTC_BOOTSTRAP=1 on stable, which
# the script sets. Everything runs under `nice -n 10`: the machine is shared.
set -euo pipefail

minimize_only=false
if [ $# -eq 2 ] && [ "$1" = --minimize ]; then
  minimize_only=true
  target=$2
  seconds=0
elif [ $# -eq 2 ]; then
  target=$1
  seconds=$2
else
  echo "usage: $0 TARGET SECONDS | $0 --minimize TARGET" >&2
  exit 2
fi
case $seconds in
  '' | *[!0-9]*) echo "SECONDS must be a whole number" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

corpus=fuzz/corpus/$target
artifacts=fuzz/artifacts/$target
logdir=${CAMPAIGN_LOG_DIR:-fuzz/target/campaign}
mkdir -p "$corpus" "$logdir"
log=$logdir/$target.run.log

corpus_size() {
  local files bytes
  files=$(find "$1" -type f | wc -l)
  bytes=$(find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  echo "$files/$bytes"
}

count_artifacts() {
  if [ -d "$artifacts" ]; then
    find "$artifacts" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' \
      -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l
  else
    echo 0
  fi
}

libfuzzer_flags=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1)

nice -n 10 cargo fuzz build "$target" >"$logdir/$target.build.log" 2>&1 \
  || { tail -30 "$logdir/$target.build.log"; echo "build of $target failed" >&2; exit 1; }

# Seeds (tracked) plus the grown inputs that add features beyond them.
minimize() {
  local grown
  grown=$(mktemp -d "${TMPDIR:-/tmp}/campaign-$target.XXXXXX")
  find "$corpus" -maxdepth 1 -type f -exec mv -t "$grown" {} +
  git checkout -- "$corpus" 2>/dev/null || true
  nice -n 10 cargo fuzz run "$target" "$corpus" "$grown" -- -set_cover_merge=1 -use_counters=0 "${libfuzzer_flags[@]}" \
    >"$logdir/$target.merge.log" 2>&1 \
    || { tail -30 "$logdir/$target.merge.log"; echo "merge of $target failed; grown corpus kept in $grown" >&2; exit 1; }
  rm -rf "$grown"
}

measure() {
  nice -n 10 cargo fuzz run "$target" "$corpus" -- -runs=0 "${libfuzzer_flags[@]}" \
    >"$logdir/$target.replay.log" 2>&1 \
    || { tail -30 "$logdir/$target.replay.log"; echo "replay of the minimized $target corpus failed" >&2; exit 1; }
  grep -E 'INITED|DONE' "$logdir/$target.replay.log" | tail -1 | sed -nE 's/.* cov: ([0-9]+).*/\1/p'
}

if $minimize_only; then
  before=$(corpus_size "$corpus")
  minimize
  after=$(corpus_size "$corpus")
  echo "minimize: target=$target corpus_before=$before corpus_after=$after corpus_edges=$(measure)"
  exit 0
fi

before=$(corpus_size "$corpus")
found_before=$(count_artifacts)
echo "== $target: fuzzing for ${seconds}s (corpus $before files/bytes), log $log"
set +e
nice -n 10 cargo fuzz run "$target" -- -max_total_time="$seconds" "${libfuzzer_flags[@]}" \
  >"$log" 2>&1
rc=$?
set -e

execs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')
edges=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
if [ -z "$edges" ]; then
  # A run that stopped on a finding has no DONE line: take the last status.
  edges=$(grep -E ' cov: [0-9]+' "$log" | tail -1 | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
fi
findings=$(( $(count_artifacts) - found_before ))

if [ "$rc" -ne 0 ] || [ "$findings" -gt 0 ]; then
  echo "== $target: libFuzzer stopped with status $rc; the report:"
  grep -nE 'ERROR: libFuzzer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|panicked at|SUMMARY|Test unit written|==[0-9]+== ERROR' "$log" | head -20 || true
  echo "campaign: target=$target seconds=$seconds execs=${execs:-?} edges=${edges:-?}" \
    "corpus_before=$before corpus_after=- corpus_edges=- findings=$findings status=$rc"
  exit 1
fi

echo "== $target: minimizing the corpus"
minimize
after=$(corpus_size "$corpus")
corpus_edges=$(measure)

echo "campaign: target=$target seconds=$seconds execs=${execs:-?} edges=${edges:-?}" \
  "corpus_before=$before corpus_after=$after corpus_edges=${corpus_edges:-?} findings=$findings"
