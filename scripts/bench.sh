#!/usr/bin/env bash
# Throughput and peak memory on a big, realistic RDB or AOF, against
# Redis's own checker in the same run.
#
#   scripts/bench.sh [SIZE] [mixed|strings|aof|replay|diff|convert|inspect]  (default 256M mixed)
#
# inspect: the mixed RDB, timed as
#   rdbscope info F                    the anchor: a walk without values
#   rdbscope memory F > /dev/null      per-key memory CSV (target 500 MB/s)
#   rdbscope stats F                   (target 400 MB/s, <= 64 MB)
#   rdbscope bigkeys F                 (the same)
#   rdbscope prefixes F                (the same, bounded table)
#   rdbscope export -o T.parquet F     (the same)
#   rdbscope report -o T.html F
# and, once (BASELINE=0 skips it), rdbtools' memory report (`rdb -c
# memory`, Python, from PyPI into ~/.cache/rdbscope/bench-venv) on an
# RDB 9 copy of F (rdbtools reads RDB <= 9), the per-key baseline users
# come from. MEMORY_CHECK=1 also loads F into a real redis-server 7.0 and
# compares `MEMORY USAGE key SAMPLES 0` of every key with `rdbscope
# memory` (scripts/memory-accuracy.py).
#
# replay: the same multi-part AOF as `aof`, replayed, timed as
#   redis-server: load the AOF dir     the anchor: a server starting on it
#                                       (until it answers PING)
#   rdbscope convert DIR OUT.rdb       replay, then the RDB a server would save
#   rdbscope digest DIR                replay, then DEBUG DIGEST
# with MB/s of the AOF's files, ratios to the server's load and peak RSS
# (the server's own included).
#
# convert: the mixed RDB (RDB 10, written by Redis 7.0) and its JSON Lines
# dump (made once, cached beside it), timed as
#   redis-server: load + SAVE          the anchor: a server rewriting it
#   rdbscope convert F --rdb-version 10  the same version
#   rdbscope convert F --target redis-6.2  another version (RDB 9)
#   rdbscope convert F.jsonl --rdb-version 10  JSON Lines back to RDB
#   rdbscope convert F - --to aof --target redis-7.0  the AOF commands
#   rdbscope dump F                     JSON Lines, the speed to match
# with ratios to the anchor and peak RSS.
#
# diff: the mixed RDB (A) and a copy with about 1% of its keys changed by a
# real redis-server (B, scripts/make-diff-pair.sh; cached as
# /tmp/rdbscope-bench-mixed-SIZE-b.rdb), timed as
#   rdbscope check A, rdbscope check B   the anchor: checking both files
#   rdbscope diff A B                    key index in memory
#   rdbscope diff --memory 32M A B       the index partitioned on disk
#   rdbscope digest A                    DEBUG DIGEST computed from the file
#   redis-server: load A + DEBUG DIGEST  what the server takes for the same
# with the ratio of diff to checking both files, and peak RSS.
#
# aof: a multi-part AOF written by a real redis-server
# (scripts/make-big-aof.sh: a mixed RDB rewritten as commands, plus live
# traffic; cached as $BIG_AOF or /tmp/rdbscope-bench-aof-SIZE), timed as
#   rdbscope check DIR                every command, transaction, manifest
#   redis-check-aof MANIFEST          Redis's own checker (the anchor)
#   rdbscope dump DIR > /dev/null     JSON Lines, one line per command
#   rdbscope dump --format resp DIR   the commands passed through
# with MB/s of the AOF's files (base + incr) and ratios to redis-check-aof.
#
# Makes the file once with a real redis-server: mixed types with
# ../shared/bench/make-big-rdb.sh, string-heavy with
# scripts/make-strings-rdb.sh (cached as $BIG_RDB or
# /tmp/rdbscope-bench-KIND-SIZE.rdb), builds
# the release binary, warms the page cache, then runs RUNS rounds (default
# 5), each round running every command once, in turn:
#   rdbscope check FILE               CRC + every deep-sanitization rule
#   rdbscope check -j1 FILE           the same on one thread
#   redis-check-rdb FILE              Redis's own checker (the anchor)
#   rdbscope dump FILE > /dev/null    JSON Lines of every key and record
#   rdbscope dump -j1 FILE            the same on one thread
#   rdbscope dump --format resp FILE  RESTORE commands for every key
#   rdbscope info FILE                summary, no value decoding
# and, with gzip and zstd installed (COMPRESSED=0 skips them), the backup
# as people keep it, each pair beside its halves measured alone:
#   zcat FILE.gz > /dev/null          the decompressor alone
#   zcat FILE.gz | rdbscope check -   a stream through a pipe
#   zstd -dc FILE.zst > /dev/null     the decompressor alone
#   rdbscope check FILE.zst           decompressed while it is checked
# and prints median wall time, MB/s of input, peak RSS (/usr/bin/time) and
# the ratios to redis-check-rdb.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256M}
KIND=${2:-mixed}
RUNS=${RUNS:-5}
FILE=${BIG_RDB:-/tmp/rdbscope-bench-$KIND-$SIZE.rdb}
BENCH_DIR=${BENCH_DIR:-../shared/bench}
if [ "$KIND" = convert ]; then
  FILE=${BIG_RDB:-/tmp/rdbscope-bench-mixed-$SIZE.rdb}
  [ -s "$FILE" ] || "$BENCH_DIR/make-big-rdb.sh" "$FILE" "$SIZE" >&2
  COMPRESSED=0
elif [ "$KIND" = diff ]; then
  FILE=${BIG_RDB:-/tmp/rdbscope-bench-mixed-$SIZE.rdb}
  [ -s "$FILE" ] || "$BENCH_DIR/make-big-rdb.sh" "$FILE" "$SIZE" >&2
  FILE_B=${FILE%.rdb}-b.rdb
  [ -s "$FILE_B" ] || scripts/make-diff-pair.sh "$FILE" "$FILE_B"
  COMPRESSED=0
elif [ "$KIND" = inspect ]; then
  FILE=${BIG_RDB:-/tmp/rdbscope-bench-mixed-$SIZE.rdb}
  [ -s "$FILE" ] || "$BENCH_DIR/make-big-rdb.sh" "$FILE" "$SIZE" >&2
  COMPRESSED=0
elif [ "$KIND" = aof ] || [ "$KIND" = replay ]; then
  FILE=${BIG_AOF:-/tmp/rdbscope-bench-aof-$SIZE}
  if [ ! -s "$FILE/appendonlydir/appendonly.aof.manifest" ]; then
    echo "making $FILE/appendonlydir ($SIZE) ..." >&2
    rm -rf "$FILE"
    BENCH_DIR=$BENCH_DIR scripts/make-big-aof.sh "$FILE" "$SIZE" >&2
  fi
  FILE=$FILE/appendonlydir
elif [ ! -s "$FILE" ]; then
  echo "making $FILE ($SIZE, $KIND) ..." >&2
  case $KIND in
    mixed) "$BENCH_DIR/make-big-rdb.sh" "$FILE" "$SIZE" >&2 ;;
    strings) scripts/make-strings-rdb.sh "$FILE" "$SIZE" >&2 ;;
    *) echo "kind must be mixed, strings, aof, replay, diff or convert" >&2; exit 2 ;;
  esac
fi
cargo build --release -q -p rdbscope-cli
BIN=target/release/rdbscope
CHECK=$(command -v redis-check-rdb || true)
if [ "$KIND" = aof ] || [ "$KIND" = replay ]; then
  CHECK=$(command -v redis-check-aof || true)
  BYTES=$(find "$FILE" -maxdepth 1 -type f \( -name '*.aof' -o -name '*.rdb' \) -printf '%s\n' |
    awk '{ s += $1 } END { print s }')
  cat "$FILE"/* > /dev/null
else
  BYTES=$(stat -Lc %s "$FILE")
  # Compressed copies, made once, for the rows that read a backup as
  # people keep it (COMPRESSED=0 leaves them out).
  if [ "${COMPRESSED:-1}" = 1 ] && command -v gzip >/dev/null && command -v zstd >/dev/null; then
    [ -s "$FILE.gz" ] || gzip -c "$FILE" > "$FILE.gz"
    [ -s "$FILE.zst" ] || zstd -q -c "$FILE" > "$FILE.zst"
    cat "$FILE.gz" "$FILE.zst" > /dev/null
  else
    COMPRESSED=0
  fi
  cat "$FILE" > /dev/null   # page cache warm for everyone
  [ "$KIND" = diff ] && cat "$FILE_B" > /dev/null
  if [ "$KIND" = convert ]; then
    [ -s "${FILE%.rdb}.jsonl" ] || "$BIN" dump "$FILE" -o "${FILE%.rdb}.jsonl" --force
    cat "${FILE%.rdb}.jsonl" > /dev/null
  fi
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
measure() { # name cmd...   appends "seconds peak-RSS-KB" to $TMP/name
  local name=$1; shift
  # Wall time in ns (/usr/bin/time's %e has 10 ms steps, too coarse for
  # runs of a tenth of a second); peak RSS from /usr/bin/time.
  local t0 t1
  t0=$(date +%s%N)
  local rc=0
  /usr/bin/time -f "%M" -o "$TMP/t" "$@" > /dev/null 2> "$TMP/err" || rc=$?
  # diff exits 1 when the files differ, as they do here.
  if [ $rc -ne 0 ] && ! { [ $rc -eq 1 ] && [ "${name#diff}" != "$name" ]; }; then
    echo "$name failed:" >&2; cat "$TMP/err" >&2; exit 1
  fi
  grep -v '^Command exited with non-zero status' "$TMP/t" | tail -1 > "$TMP/t2"; mv "$TMP/t2" "$TMP/t"
  t1=$(date +%s%N)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') $(cat "$TMP/t")" >> "$TMP/$name"
}
server_digest() { # FILE: a redis-server loads it, answers DEBUG DIGEST, stops
  local dir port=27779
  dir=$(mktemp -d)
  ln -s "$(realpath "$1")" "$dir/dump.rdb"
  redis-server --port $port --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb \
    --save '' --appendonly no --enable-debug-command yes --logfile "$dir/log" &
  local pid=$!
  until [ "$(redis-cli -p $port ping 2>/dev/null)" = PONG ]; do sleep 0.01; done
  redis-cli -p $port debug digest
  redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true
  wait $pid || true
  rm -rf "$dir"
}
export -f server_digest
server_save() { # FILE: a redis-server loads it, SAVEs it again, stops
  local dir port=27780
  dir=$(mktemp -d)
  cp "$1" "$dir/dump.rdb"
  redis-server --port $port --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb \
    --save '' --appendonly no --logfile "$dir/log" &
  local pid=$!
  until [ "$(redis-cli -p $port ping 2>/dev/null)" = PONG ]; do sleep 0.01; done
  redis-cli -p $port save >/dev/null
  redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true
  wait $pid || true
  rm -rf "$dir"
}
export -f server_save
server_load() { # DIR: a redis-server starts on the AOF dir, answers PING, stops
  local dir port=27781
  dir=$(mktemp -d)
  # The server only reads the files (it would append to the incr file, but
  # no command comes): a link spares copying the AOF each round.
  ln -s "$(realpath "$1")" "$dir/appendonlydir"
  redis-server --port $port --bind 127.0.0.1 --dir "$dir" --appendonly yes \
    --appenddirname appendonlydir --save '' --logfile "$dir/log" &
  local pid=$!
  until redis-cli -p $port ping 2>/dev/null | grep -q PONG; do sleep 0.05; done
  redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true
  wait $pid || true
  rm -rf "$dir"
}
export -f server_load
if [ "$KIND" = convert ]; then
  ANCHOR_NAME=server-save
  CHECK=server
  NAMES="server-save convert-same convert-other convert-json convert-aof dump"
  OUT=$TMP/out.rdb
  for _ in $(seq "$RUNS"); do
    measure server-save bash -c "server_save '$FILE'"
    measure convert-same "$BIN" convert -q --force "$FILE" "$OUT" --rdb-version 10
    measure convert-other "$BIN" convert -q --force "$FILE" "$OUT" --target redis-6.2
    measure convert-json "$BIN" convert -q --force "${FILE%.rdb}.jsonl" "$OUT" --rdb-version 10
    measure convert-aof "$BIN" convert -q "$FILE" - --to aof --target redis-7.0
    measure dump "$BIN" dump "$FILE"
  done
elif [ "$KIND" = inspect ]; then
  ANCHOR_NAME=info
  CHECK=rdbscope
  NAMES="info memory stats bigkeys prefixes export report"
  for _ in $(seq "$RUNS"); do
    measure info "$BIN" info "$FILE"
    measure memory "$BIN" memory "$FILE"
    measure stats "$BIN" stats "$FILE"
    measure bigkeys "$BIN" bigkeys "$FILE"
    measure prefixes "$BIN" prefixes "$FILE"
    measure export "$BIN" export -q --force -o "$TMP/keys.parquet" "$FILE"
    measure report "$BIN" report -q --force -o "$TMP/report.html" "$FILE"
  done
  if [ "${BASELINE:-1}" = 1 ]; then
    VENV=${RDBSCOPE_BENCH_VENV:-$HOME/.cache/rdbscope/bench-venv}
    if [ ! -x "$VENV/bin/rdb" ]; then
      python3 -m venv "$VENV" >&2
      "$VENV/bin/pip" install -q rdbtools==0.1.15 python-lzf >&2
    fi
    RDB9=${FILE%.rdb}-rdb9.rdb
    [ -s "$RDB9" ] || "$BIN" convert -q --force "$FILE" "$RDB9" --target redis-6.2
    cat "$RDB9" > /dev/null
    measure rdbtools-memory "$VENV/bin/rdb" -c memory "$RDB9"
    NAMES="$NAMES rdbtools-memory"
  fi
  # The report of the big file, opened in a real headless browser: every
  # section rendered without a script error, and how long it took.
  if command -v chromium >/dev/null; then
    "$BIN" report -q --force -o "$TMP/big-report.html" "$FILE"
    t0=$(date +%s%N)
    dom=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$TMP/chromium" --dump-dom --virtual-time-budget=5000 \
      "file://$TMP/big-report.html" 2>/dev/null | grep -o '<body[^>]*>' || true)
    t1=$(date +%s%N)
    echo "report: $(stat -c %s "$TMP/big-report.html") bytes, rendered by chromium in $(( (t1 - t0) / 1000000 )) ms: $dom" >&2
    case $dom in
      *'data-rendered="summary,stats,bigkeys,memory,prefixes,expiry"'*) ;;
      *) echo "report did not render every section" >&2; exit 1 ;;
    esac
  fi
  if [ "${MEMORY_CHECK:-0}" = 1 ]; then
    python3 scripts/memory-accuracy.py --rdbscope "$BIN" --server redis-server --server-version redis-7.0 --allocator jemalloc "$FILE"
  fi
elif [ "$KIND" = replay ]; then
  ANCHOR_NAME=server-load
  CHECK=server
  NAMES="server-load replay-rdb replay-digest"
  OUT=$TMP/out.rdb
  for _ in $(seq "$RUNS"); do
    measure server-load bash -c "server_load '$FILE'"
    measure replay-rdb "$BIN" convert -q --force "$FILE" "$OUT" --target redis-7.0
    measure replay-digest "$BIN" digest -q "$FILE"
  done
elif [ "$KIND" = diff ]; then
  ANCHOR_NAME=-
  CHECK=""
  NAMES="check-a check-b diff diff-32M digest server-digest"
  for _ in $(seq "$RUNS"); do
    measure check-a "$BIN" check "$FILE"
    measure check-b "$BIN" check "$FILE_B"
    measure diff "$BIN" diff --keys-only "$FILE" "$FILE_B"
    measure diff-32M "$BIN" diff --keys-only --memory 32M "$FILE" "$FILE_B"
    measure digest "$BIN" digest -q "$FILE"
    measure server-digest bash -c "server_digest '$FILE'"
  done
elif [ "$KIND" = aof ]; then
  ANCHOR_NAME=redis-check-aof
  NAMES="check check-j1 dump dump-resp"
  [ -n "$CHECK" ] && NAMES="check check-j1 redis-check-aof dump dump-resp"
  for _ in $(seq "$RUNS"); do
    measure check "$BIN" check "$FILE"
    measure check-j1 "$BIN" check -j1 "$FILE"
    [ -n "$CHECK" ] && measure redis-check-aof "$CHECK" "$FILE/appendonly.aof.manifest"
    measure dump "$BIN" dump "$FILE"
    measure dump-resp "$BIN" dump --format resp "$FILE"
  done
else
  ANCHOR_NAME=redis-check-rdb
  NAMES="check check-j1 dump dump-j1 dump-resp info"
  [ -n "$CHECK" ] && NAMES="check check-j1 redis-check-rdb dump dump-j1 dump-resp info"
  for _ in $(seq "$RUNS"); do
    measure check "$BIN" check "$FILE"
    measure check-j1 "$BIN" check -j1 "$FILE"
    [ -n "$CHECK" ] && measure redis-check-rdb "$CHECK" "$FILE"
    measure dump "$BIN" dump "$FILE"
    measure dump-j1 "$BIN" dump -j1 "$FILE"
    measure dump-resp "$BIN" dump --format resp "$FILE"
    measure info "$BIN" info "$FILE"
    if [ "${COMPRESSED:-1}" = 1 ]; then
      # Each half alone, then both: decompressing and checking overlap
      # when the pair takes about as long as the slower half.
      measure zcat sh -c "zcat '$FILE.gz' > /dev/null"
      measure check-gz-pipe sh -c "zcat '$FILE.gz' | '$BIN' check -"
      measure zstd-d sh -c "zstd -q -dc '$FILE.zst' > /dev/null"
      measure check-zst "$BIN" check "$FILE.zst"
    fi
  done
  [ "${COMPRESSED:-1}" = 1 ] && NAMES="$NAMES zcat check-gz-pipe zstd-d check-zst"
fi

median() { # name -> seconds
  sort -n "$TMP/$1" | awk '{ t[NR]=$1 } END { print (NR%2) ? t[(NR+1)/2] : (t[NR/2]+t[NR/2+1])/2 }'
}
maxrss() { awk '$2>m {m=$2} END {printf "%.1f", m/1024}' "$TMP/$1"; }

echo "file: $FILE ($BYTES bytes, $KIND), $RUNS rounds, $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
printf "| %-26s | %9s | %8s | %11s | %10s |\n" command "median s" "MB/s" "peak RSS MB" "vs ${ANCHOR_NAME#redis-}"
printf "|%s|%s|%s|%s|%s|\n" "----------------------------" "-----------" "----------" "-------------" "------------"
ANCHOR=""
[ -n "$CHECK" ] && ANCHOR=$(median "$ANCHOR_NAME")
[ "$KIND" = inspect ] && ANCHOR_NAME=rdbscope-info
for n in $NAMES; do
  t=$(median "$n")
  label=$n
  case $n in
    check|dump|info) label="rdbscope $n";;
    check-j1) label="rdbscope check -j1";;
    dump-j1) label="rdbscope dump -j1";;
    dump-resp) label="rdbscope dump --format resp";;
    zcat) label="zcat F.gz > /dev/null";;
    check-gz-pipe) label="zcat F.gz \\| rdbscope check -";;
    zstd-d) label="zstd -dc F.zst > /dev/null";;
    check-zst) label="rdbscope check F.zst";;
    check-a) label="rdbscope check A";;
    check-b) label="rdbscope check B";;
    diff) label="rdbscope diff A B";;
    diff-32M) label="rdbscope diff --memory 32M";;
    digest) label="rdbscope digest A";;
    server-digest) label="server load A + DEBUG DIGEST";;
    server-save) label="server load F + SAVE";;
    convert-same) label="rdbscope convert (RDB 10)";;
    convert-other) label="rdbscope convert (to RDB 9)";;
    convert-json) label="rdbscope convert F.jsonl";;
    convert-aof) label="rdbscope convert --to aof";;
    server-load) label="server load (AOF dir)";;
    replay-rdb) label="rdbscope convert DIR F.rdb";;
    replay-digest) label="rdbscope digest DIR";;
    memory|stats|bigkeys|prefixes) label="rdbscope $n";;
    export) label="rdbscope export (Parquet)";;
    report) label="rdbscope report (HTML)";;
    rdbtools-memory) label="rdbtools -c memory (RDB 9)";;
  esac
  ratio="-"
  [ -n "$ANCHOR" ] && ratio=$(awk -v a="$ANCHOR" -v b="$t" 'BEGIN { printf "%.2fx", a/b }')
  printf "| %-26s | %9s | %8.0f | %11s | %10s |\n" "$label" "$t" \
    "$(awk -v b="$BYTES" -v t="$t" 'BEGIN { print b/1e6/t }')" "$(maxrss "$n")" "$ratio"
done
if [ "$KIND" = diff ]; then
  both=$(awk -v a="$(median check-a)" -v b="$(median check-b)" 'BEGIN { print a + b }')
  for n in diff diff-32M; do
    awk -v d="$(median $n)" -v both="$both" -v n="$n" -v m="$(maxrss $n)" \
      'BEGIN { printf "%s: %.2fx the time of checking both files (%.3f s), peak RSS %s MB\n", n, d / both, both, m }'
  done
  awk -v d="$(median digest)" -v s="$(median server-digest)" \
    'BEGIN { printf "digest: %.2fx faster than a server loading the file and answering DEBUG DIGEST\n", s / d }'
fi
if [ "$KIND" != aof ] && [ "$KIND" != replay ] && [ "$KIND" != diff ] && [ "$KIND" != convert ] && [ "${COMPRESSED:-1}" = 1 ]; then
  # The overlap target: each pair within 1.25x of the slower of its halves.
  c=$(median check)
  for pair in "check-gz-pipe zcat" "check-zst zstd-d"; do
    set -- $pair
    awk -v both="$(median "$1")" -v half="$(median "$2")" -v c="$c" -v n="$1" \
      'BEGIN { s = (half > c) ? half : c; printf "%s: %.2fx the slower half (%.3f s)\n", n, both / s, s }'
  done
fi
