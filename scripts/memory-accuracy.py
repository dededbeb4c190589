#!/usr/bin/env python3
"""Compare `rdbscope memory` with a real server's `MEMORY USAGE key SAMPLES 0`.

    scripts/memory-accuracy.py [--rdbscope BIN] [--server redis-server]
        [--server-version redis-7.0] [--allocator jemalloc] FILE.rdb

Starts the server on a copy of FILE (so the file is never touched), asks
MEMORY USAGE for every key of every database (pipelined), runs
`rdbscope memory --format jsonl` for the same server and allocator, and
prints per type and encoding the share of keys within 10%, the error
quantiles, and the total's error, then checks issue 14's thresholds
(95% of keys within 10%, total within 3%, every type with at least 20
keys at 85% or more). Exit 1 when a threshold is missed.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict


class Resp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb", buffering=1 << 20)

    def send(self, cmds):
        out = bytearray()
        for c in cmds:
            out += b"*%d\r\n" % len(c)
            for a in c:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t in (b"+",):
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            d = self.f.read(n + 2)
            return d[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def call(self, *a):
        self.send([a])
        return self.read()


def server_usage(server, rdb, port):
    d = tempfile.mkdtemp(prefix="rdbscope-memacc-")
    try:
        shutil.copy(rdb, os.path.join(d, "dump.rdb"))
        p = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                              "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
                              "--logfile", os.path.join(d, "log")])
        deadline = time.time() + 600
        while True:
            try:
                c = Resp(port)
                if c.call("PING") == b"PONG":
                    break
            except (OSError, RuntimeError):
                pass
            if time.time() > deadline or p.poll() is not None:
                sys.exit("server did not start: " + open(os.path.join(d, "log")).read()[-2000:])
            time.sleep(0.1)
        info = c.call("INFO", "memory").decode()
        alloc = [l for l in info.splitlines() if l.startswith("mem_allocator:")]
        usage = {}
        keyspace = c.call("INFO", "keyspace").decode()
        dbs = [int(l.split(":")[0][2:]) for l in keyspace.splitlines() if l.startswith("db")]
        for db in dbs:
            c.call("SELECT", db)
            cursor = b"0"
            while True:
                cursor, keys = c.call("SCAN", cursor, "COUNT", 1000)
                c.send([["MEMORY", "USAGE", k, "SAMPLES", "0"] for k in keys])
                for k in keys:
                    usage[(db, k)] = c.read()
                if cursor == b"0":
                    break
        p.terminate()
        p.wait()
        return usage, (alloc[0] if alloc else "?")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rdbscope", default="target/release/rdbscope")
    ap.add_argument("--server", default="redis-server")
    ap.add_argument("--server-version", default="redis-7.0")
    ap.add_argument("--allocator", default="jemalloc")
    ap.add_argument("--port", type=int, default=27790)
    ap.add_argument("file")
    a = ap.parse_args()
    usage, alloc = server_usage(a.server, a.file, a.port)
    out = subprocess.run([a.rdbscope, "memory", "--format", "jsonl", "--server-version",
                          a.server_version, "--allocator", a.allocator, "--now", "0", a.file],
                         check=True, stdout=subprocess.PIPE).stdout
    groups = defaultdict(list)
    total_est = total_srv = 0
    missing = 0
    for line in out.splitlines():
        r = json.loads(line)
        k = r["key"]
        k = base64.b64decode(k["base64"]) if isinstance(k, dict) else k.encode()
        srv = usage.get((r["database"], k))
        if srv is None:
            missing += 1
            continue
        est = r["size_in_bytes"]
        total_est += est
        total_srv += srv
        groups[(r["type"], r["encoding"])].append((est - srv) / srv)
        if os.environ.get("MEMACC_KEYS"):
            print("KEY", r["type"], r["encoding"], len(k), r["num_elements"], r["len_largest_element"],
                  "exp" if r["expiry"] else "-", "est", est, "srv", srv, srv - est, k[:40])
    print("%s: %d keys, server %s, %s" % (a.file, len(usage), a.server_version, alloc))
    print("| type | encoding | keys | within 10% | median err | p99 abs err |")
    print("|---|---|---|---|---|---|")
    all_errs = []
    by_type = defaultdict(list)
    for (t, e), errs in sorted(groups.items()):
        all_errs += errs
        by_type[t] += errs
        within = sum(abs(x) <= 0.10 for x in errs) / len(errs)
        s = sorted(errs)
        absd = sorted(abs(x) for x in errs)
        print("| %s | %s | %d | %.1f%% | %+.2f%% | %.2f%% |" % (
            t, e, len(errs), within * 100, s[len(s) // 2] * 100, absd[min(len(absd) - 1, int(len(absd) * 0.99))] * 100))
    within = sum(abs(x) <= 0.10 for x in all_errs) / max(1, len(all_errs))
    terr = (total_est - total_srv) / max(1, total_srv)
    print("all: %.2f%% of keys within 10%%; total %d estimated vs %d (%+.2f%%); %d keys not in the server" % (
        within * 100, total_est, total_srv, terr * 100, missing))
    bad = within < 0.95 or abs(terr) > 0.03
    for t, errs in by_type.items():
        w = sum(abs(x) <= 0.10 for x in errs) / len(errs)
        if len(errs) >= 20 and w < 0.85:
            print("type %s: only %.1f%% within 10%%" % (t, w * 100))
            bad = True
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
