#!/usr/bin/env bash
# make-strings-rdb.sh OUTPUT.rdb SIZE
#
# A large string-heavy RDB written by a real redis-server (the anchor
# binary, /usr/bin/redis-server unless REDIS_SERVER is set), for the
# "string-heavy" benchmark target. Deterministic for a given SIZE (only the
# aux fields ctime/used-mem differ between runs):
#   keys  s:<n>       string values of 16..4096 bytes of word-like text
#                     (LZF-compressible, as most real values are),
#   every 8th key     random bytes instead (incompressible),
#   every 16th key    an integer,
#   every 10th key    an expire far in the future.
# The number of batches is calibrated from one measured batch.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 OUTPUT.rdb SIZE" >&2; exit 2; fi
OUT=$1
TARGET=$(numfmt --from=iec "$2")
PORT=${PORT:-27780}
SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
CLI=${REDIS_CLI:-/usr/bin/redis-cli}
PER_BATCH=20000
WORK=$(mktemp -d -t make-strings-rdb.XXXXXX)
cleanup() { "$CLI" -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --dbfilename s.rdb --save "" \
  --appendonly no --daemonize yes --logfile "$WORK/log" --busy-reply-threshold 600000 >/dev/null
for _ in $(seq 100); do "$CLI" -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
SCRIPT='
local first, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local seed = first * 2654435761 % 2147483647 + 1
local function rnd(n) seed = seed * 16807 % 2147483647; return seed % n end
local words = {"redis","user","session","token","value","cache","order","item","price",
  "2026","id","name","email","status","active","payload","json","{","}",":",","," "}
for i = first, first + count - 1 do
  local key = "s:" .. i
  if i % 16 == 0 then
    redis.call("SET", key, tostring(rnd(2147483647) - 1073741824))
  else
    local len = 16 + rnd(4080)
    local parts = {}
    local n = 0
    if i % 8 == 0 then
      while n < len do local c = string.char(rnd(256)); parts[#parts+1] = c; n = n + 1 end
    else
      while n < len do local w = words[1 + rnd(#words)]; parts[#parts+1] = w; n = n + #w end
    end
    redis.call("SET", key, table.concat(parts))
  end
  if i % 10 == 0 then redis.call("PEXPIREAT", key, 4102444800000 + i) end
end
return count'
batch() { "$CLI" -p "$PORT" eval "$SCRIPT" 0 "$1" "$PER_BATCH" >/dev/null; }
batch 0
"$CLI" -p "$PORT" save >/dev/null
ONE=$(stat -c %s "$WORK/s.rdb")
BATCHES=$(( (TARGET + ONE - 1) / ONE ))
for b in $(seq 1 $((BATCHES - 1))); do batch $((b * PER_BATCH)); done
"$CLI" -p "$PORT" save >/dev/null
cp "$WORK/s.rdb" "$OUT"
echo "wrote $OUT: $(stat -c %s "$OUT") bytes, $BATCHES batches x $PER_BATCH keys"
