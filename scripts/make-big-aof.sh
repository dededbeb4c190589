#!/usr/bin/env bash
# A big, realistic multi-part AOF written by a real redis-server, for
# benchmarks.
#
#   scripts/make-big-aof.sh OUTDIR SIZE      (SIZE: e.g. 400M, 1G)
#
# 1. ../shared/bench/make-big-rdb.sh makes a mixed-type RDB (strings,
#    hashes, lists, sets, zsets, streams, expires) sized so that its AOF
#    rewrite lands near SIZE (an AOF of commands takes about RATIO times the
#    bytes of the compact RDB; override with RATIO=...).
# 2. A redis-server loads it (appendonly no), then CONFIG SET appendonly yes
#    with aof-use-rdb-preamble no rewrites the dataset as commands into
#    OUTDIR/appendonlydir/appendonly.aof.N.base.aof; we wait for the rewrite.
# 3. Live traffic (about 1/16 of SIZE: SET, HSET, INCR, RPUSH, DEL, SELECT,
#    MULTI/EXEC, binary values) goes through redis-cli --pipe into the
#    .incr.aof, with appendfsync no.
# The result is OUTDIR/appendonlydir (manifest, base, incr).
#
# Environment: PORT (default 27778), REDIS_SERVER, REDIS_CLI, BENCH_DIR.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OUTDIR SIZE(e.g. 400M, 1G)" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
TARGET=$(numfmt --from=iec "$2")
PORT=${PORT:-27778}
SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
CLI=${REDIS_CLI:-/usr/bin/redis-cli}
BENCH_DIR=${BENCH_DIR:-../shared/bench}
RATIO=${RATIO:-1.8}

if [ -e "$OUT/appendonlydir" ]; then
  echo "$OUT/appendonlydir exists; remove it first" >&2
  exit 2
fi
WORK=$(mktemp -d -t make-big-aof.XXXXXX)
cleanup() {
  "$CLI" -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

RDB_SIZE=$(awk -v t="$TARGET" -v r="$RATIO" 'BEGIN { printf "%d", t * 15 / 16 / r }')
echo "making a $RDB_SIZE-byte RDB ..." >&2
"$BENCH_DIR/make-big-rdb.sh" "$WORK/big.rdb" "$RDB_SIZE" >&2
mv "$WORK/big.rdb" "$OUT/big.rdb"

"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$OUT" --dbfilename big.rdb \
  --save "" --appendonly no --aof-use-rdb-preamble no --appendfsync no \
  --daemonize yes --logfile "$WORK/server.log" --pidfile "$WORK/server.pid" >/dev/null
for _ in $(seq 1 600); do
  [ "$("$CLI" -p "$PORT" ping 2>/dev/null)" = PONG ] && break
  sleep 0.2
done
r() { "$CLI" -p "$PORT" "$@"; }
until r info persistence | grep -q '^loading:0'; do sleep 0.2; done

echo "rewriting the dataset as commands (CONFIG SET appendonly yes) ..." >&2
r config set appendonly yes >/dev/null
sleep 1
until r info persistence | grep -q '^aof_rewrite_in_progress:0' &&
      r info persistence | grep -q '^aof_rewrite_scheduled:0' &&
      r info persistence | grep -q '^aof_enabled:1'; do
  sleep 0.5
done

echo "appending live traffic ..." >&2
TRAFFIC=$(( TARGET / 16 ))
awk -v target="$TRAFFIC" 'function cmd(n, a,   i, s) {
    s = "*" n "\r\n"
    for (i = 1; i <= n; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
    printf "%s", s
    return length(s)
  }
  BEGIN {
    srand(20240601); bytes = 0; i = 0
    while (bytes < target) {
      i++
      db = i % 4
      if (i % 97 == 0) { a[1] = "MULTI"; bytes += cmd(1, a) }
      a[1] = "SELECT"; a[2] = db; bytes += cmd(2, a)
      a[1] = "SET"; a[2] = "live:" i; a[3] = "value-" i "-" sprintf("%08x", int(rand() * 4294967295)); bytes += cmd(3, a)
      a[1] = "HSET"; a[2] = "live:h:" (i % 5000); a[3] = "f" (i % 17); a[4] = "v\001\002" i; bytes += cmd(4, a)
      a[1] = "INCR"; a[2] = "live:counter:" (i % 100); bytes += cmd(2, a)
      a[1] = "RPUSH"; a[2] = "live:l:" (i % 300); a[3] = "x" i; a[4] = "y" i; bytes += cmd(4, a)
      if (i % 11 == 0) { a[1] = "DEL"; a[2] = "live:" (i - 5); bytes += cmd(2, a) }
      if (i % 97 == 0) { a[1] = "EXEC"; bytes += cmd(1, a) }
    }
  }' > "$WORK/traffic.resp"
"$CLI" -p "$PORT" --pipe < "$WORK/traffic.resp" >&2
r shutdown nosave >/dev/null 2>&1 || true
rm -f "$OUT/big.rdb"
ls -l "$OUT/appendonlydir" >&2
du -sb "$OUT/appendonlydir" >&2
