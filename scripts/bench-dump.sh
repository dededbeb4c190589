#!/usr/bin/env bash
# Dump throughput and peak memory on a big, realistic RDB.
#
#   scripts/bench-dump.sh [SIZE]        (default 256M)
#
# Makes the file once with ../shared/bench/make-big-rdb.sh (a real
# redis-server; cached as $BIG_RDB or /tmp/rdbscope-bench-SIZE.rdb), builds
# the release binary, then runs, alternating, RUNS times each (default 5):
#   rdbscope dump FILE > /dev/null      (JSON Lines of every key and record)
#   redis-check-rdb FILE                (Redis's own reader, as an anchor)
# and prints median wall time, MB/s of input and peak RSS (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256M}
RUNS=${RUNS:-5}
FILE=${BIG_RDB:-/tmp/rdbscope-bench-$SIZE.rdb}
BENCH_DIR=${BENCH_DIR:-../shared/bench}

if [ ! -s "$FILE" ]; then
  echo "making $FILE ($SIZE) with $BENCH_DIR/make-big-rdb.sh ..." >&2
  "$BENCH_DIR/make-big-rdb.sh" "$FILE" "$SIZE" >&2
fi
cargo build --release -q -p rdbscope-cli
BIN=target/release/rdbscope
CHECK=$(command -v redis-check-rdb || true)
BYTES=$(stat -c %s "$FILE")
cat "$FILE" > /dev/null   # page cache warm for everyone

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
measure() { # name cmd...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" > /dev/null 2> "$TMP/err" || {
    echo "$name failed:" >&2; cat "$TMP/err" >&2; exit 1; }
  cat "$TMP/t" >> "$TMP/$name"
}
for _ in $(seq "$RUNS"); do
  measure dump "$BIN" dump "$FILE"
  [ -n "$CHECK" ] && measure check-rdb "$CHECK" "$FILE"
done

summary() { # name -> "median_s mbps max_rss_mb"
  sort -n "$TMP/$1" | awk -v bytes="$BYTES" '
    { t[NR]=$1; if ($2>rss) rss=$2 }
    END { m = (NR%2) ? t[(NR+1)/2] : (t[NR/2]+t[NR/2+1])/2;
          printf "%.3f %.0f %.1f", m, bytes/1e6/m, rss/1024 }'
}
echo "file: $FILE ($BYTES bytes), $RUNS runs each, $(nproc) cores, $(uname -m)"
printf "%-28s %10s %10s %12s\n" command "median s" "MB/s" "peak RSS MB"
read -r t mb rss <<< "$(summary dump)"
printf "%-28s %10s %10s %12s\n" "rdbscope dump > /dev/null" "$t" "$mb" "$rss"
if [ -n "$CHECK" ]; then
  read -r t2 mb2 rss2 <<< "$(summary check-rdb)"
  printf "%-28s %10s %10s %12s\n" "redis-check-rdb" "$t2" "$mb2" "$rss2"
  awk -v a="$t2" -v b="$t" 'BEGIN { printf "dump is %.2fx the speed of redis-check-rdb\n", a/b }'
fi
