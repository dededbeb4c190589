#!/usr/bin/env bash
# Runs every fuzz target for a while, PARALLEL at a time, seeded from the
# shared corpus; logs to fuzz/logs/<target>.log and prints a summary line
# per target (runs, execs/s, crashes).
#
#   fuzz/run-all.sh [SECONDS_PER_TARGET] [PARALLEL]     (default 1200, 2)
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-1200}
PAR=${2:-2}
CORPUS=${RDBSCOPE_CORPUS:-../../shared/corpus}
TARGETS=$(cargo +nightly fuzz list)
mkdir -p logs corpus
(cd .. && cargo run -q --release -p rdbscope-harness --example write-seeds -- "${CORPUS#../}" fuzz/corpus) || \
  cargo run -q --release --manifest-path ../Cargo.toml -p rdbscope-harness --example write-seeds -- "$CORPUS" corpus
cargo +nightly fuzz build
run() {
  local t=$1
  # -timeout=1: an input taking over a second is a hang.
  # -rss_limit_mb=2048: more than 2 GB resident is an out-of-memory bug.
  cargo +nightly fuzz run "$t" -- -max_total_time="$SECS" -timeout=1 \
    -rss_limit_mb=2048 -print_final_stats=1 > "logs/$t.log" 2>&1 || true
  local runs execs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo 0)
  execs=$(grep -o 'exec/s: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  printf '%-16s %6ss %12s runs %8s exec/s  artifacts: %s\n' "$t" "$SECS" "$runs" "$execs" \
    "$(ls "artifacts/$t" 2>/dev/null | wc -l)"
}
export -f run; export SECS
printf '%s\n' $TARGETS | xargs -P "$PAR" -I{} bash -c 'run {}'
