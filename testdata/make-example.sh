#!/usr/bin/env bash
# Regenerates testdata/example.rdb with a real redis-server: a few keys of
# every type, an expire, a stream with a consumer group, two databases.
# Usage: testdata/make-example.sh [OUT]   (default: testdata/example.rdb)
set -euo pipefail
OUT=${1:-$(dirname "$0")/example.rdb}
SERVER=${REDIS_SERVER:-redis-server}
CLI=${REDIS_CLI:-redis-cli}
PORT=${PORT:-27999}
DIR=$(mktemp -d)
trap '"$CLI" -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --save "" --appendonly no \
  --daemonize yes --logfile "$DIR/log" >/dev/null
for _ in $(seq 50); do "$CLI" -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
r() { "$CLI" -p "$PORT" "$@" >/dev/null; }
r set greeting "hello, world"
r set counter 42
r set session:1 "expires in 2100" pxat 4102444800000
r rpush queue job:1 job:2 job:3
r sadd tags red green blue
r sadd ids 1 2 3 1000000
r zadd leaderboard 100 alice 85.5 bob -inf nobody
r hset user:1 name Ada lang Rust
r xadd events 1700000000000-0 type login user ada
r xadd events 1700000000001-0 type logout user ada
r xgroup create events audit 0
r xreadgroup group audit worker-1 count 1 streams events '>'
"$CLI" -p "$PORT" -n 1 set other-db yes >/dev/null
r save
cp "$DIR/dump.rdb" "$OUT"
echo "wrote $OUT"
