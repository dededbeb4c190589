#!/usr/bin/env bash
# make-diff-pair.sh A.rdb B.rdb
#
# Writes B.rdb: the dataset of A.rdb with about 1% of its keys changed, by
# a real redis-server (Debian's 7.0 by default). A key is picked when the
# first two hex digits of SHA1(key) are below 03 (3/256 = 1.2% of keys,
# the same keys on every run); a picked key is changed by its type: a
# string appended to, a hash field set, a list element pushed, a set member
# added, a zset member rescored, a stream entry added; one picked key in 8
# is deleted instead, and as many new keys are added. For the diff
# benchmark (scripts/bench.sh SIZE diff).
#
# Environment: PORT (default 27778), REDIS_SERVER, REDIS_CLI.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 A.rdb B.rdb" >&2; exit 2; }
A=$(realpath "$1")
B=$2
PORT=${PORT:-27778}
SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
CLI=${REDIS_CLI:-/usr/bin/redis-cli}
DIR=$(mktemp -d)
trap '"$CLI" -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
cp "$A" "$DIR/dump.rdb"
"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --dbfilename dump.rdb \
  --save '' --appendonly no --daemonize yes --logfile "$DIR/log" >/dev/null
until [ "$("$CLI" -p "$PORT" ping 2>/dev/null)" = PONG ]; do sleep 0.2; done
# One Lua call per SCAN page: the changes are a function of the key names
# only, whatever order SCAN visits them in.
cursor=0
changed=0
while :; do
  out=$("$CLI" -p "$PORT" --raw eval '
    local r = redis.call("SCAN", ARGV[1], "COUNT", 5000)
    local n = 0
    for _, k in ipairs(r[2]) do
      local h = redis.sha1hex(k)
      if tonumber(string.sub(h, 1, 2), 16) < 3 and string.sub(k, 1, 4) ~= "new:" then
        n = n + 1
        if string.sub(h, 3, 3) == "0" then
          redis.call("DEL", k)
          redis.call("SET", "new:" .. k, h)
        else
          local t = redis.call("TYPE", k)["ok"]
          if t == "string" then redis.call("APPEND", k, "+changed")
          elseif t == "hash" then redis.call("HSET", k, "changed", h)
          elseif t == "list" then redis.call("RPUSH", k, h)
          elseif t == "set" then redis.call("SADD", k, h)
          elseif t == "zset" then redis.call("ZINCRBY", k, 1.5, redis.call("ZRANGE", k, 0, 0)[1] or h)
          elseif t == "stream" then redis.call("XADD", k, "*", "changed", h)
          end
        end
      end
    end
    return {r[1], n}' 0 "$cursor")
  cursor=$(echo "$out" | sed -n 1p)
  changed=$((changed + $(echo "$out" | sed -n 2p)))
  [ "$cursor" = 0 ] && break
done
"$CLI" -p "$PORT" save >/dev/null
cp "$DIR/dump.rdb" "$B"
echo "$B: $changed keys of $(realpath "$A") changed" >&2
