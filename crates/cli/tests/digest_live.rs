//! `rdbscope digest` against the servers' own `DEBUG DIGEST` and `DEBUG
//! DIGEST-VALUE`: Redis 6.2, Redis 7.0 and Valkey 9.1 each take a seeded
//! random workload of every type (binary keys and values, integers, long
//! and short elements, scores from every corner of the double range, key
//! TTLs, stream groups and pending entries; hash field TTLs on Valkey), in
//! two configurations (default and tiny encoding thresholds), then SAVE:
//!
//! * the file's digest equals the server's `DEBUG DIGEST`, and `--per-key`
//!   equals `DEBUG DIGEST-VALUE` of every key (also through the file's
//!   JSON dump);
//! * the same after `DEBUG RELOAD`;
//! * a file written by one server, loaded into another that can read it
//!   (`DEBUG RELOAD NOSAVE`), gives that server's digest under
//!   `--server-version` of that server;
//! * `--as-loaded` equals what a server holds after loading a file whose
//!   key TTLs (and Valkey field TTLs) have passed.
//!
//! The seed is printed; `RDBSCOPE_DIGEST_SEED` changes it. Skipped without
//! the servers (said so), failed under `REQUIRE_REDIS=1`.

use rdbscope_testkit::client::{Conn, Reply};
use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use rdbscope_testkit::workload::{workload, Rng};
use rdbscope_testkit::TempDir;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const DEFAULT_SEED: u64 = 0xD16E_57D1_6E57_0001;

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

fn ok_stdout(args: &[&str]) -> String {
    let out = rdbscope(args);
    assert!(
        out.status.success(),
        "rdbscope {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What these tests ask beyond the plain client.
trait Digests {
    fn value_digests(&mut self) -> BTreeMap<(u64, Vec<u8>), String>;
    fn digest(&mut self) -> String;
}

impl Digests for Conn {
    /// `DEBUG DIGEST-VALUE` of every key: (db, key) -> hex.
    fn value_digests(&mut self) -> BTreeMap<(u64, Vec<u8>), String> {
        let mut out = BTreeMap::new();
        for (db, keys) in self.keys() {
            self.cmd(&["SELECT", &db.to_string()]);
            for chunk in keys.chunks(200) {
                let mut args: Vec<&[u8]> = vec![b"DEBUG", b"DIGEST-VALUE"];
                args.extend(chunk.iter().map(Vec::as_slice));
                let Reply::Array(r) = self.call(&args) else {
                    panic!("DIGEST-VALUE")
                };
                for (k, d) in chunk.iter().zip(r) {
                    out.insert((db, k.clone()), d.text());
                }
            }
        }
        self.cmd(&["SELECT", "0"]);
        out
    }

    fn digest(&mut self) -> String {
        self.cmd(&["DEBUG", "DIGEST"]).text()
    }
}

/// (db, key) -> digest, from `--per-key` output.
fn per_key(out: &str) -> BTreeMap<(u64, Vec<u8>), String> {
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let key = match &v["key"] {
                serde_json::Value::String(s) => s.as_bytes().to_vec(),
                o => rdbscope_json::read::decode_base64(o["base64"].as_str().unwrap()).unwrap(),
            };
            (
                (v["db"].as_u64().unwrap(), key),
                v["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Which RDB versions a server loads.
fn loads(o: Oracle, rdb: &Path) -> bool {
    let head = std::fs::read(rdb).unwrap();
    let (valkey, version) = if head.starts_with(b"VALKEY") {
        (
            true,
            std::str::from_utf8(&head[6..9])
                .unwrap()
                .parse::<u32>()
                .unwrap(),
        )
    } else {
        (
            false,
            std::str::from_utf8(&head[5..9])
                .unwrap()
                .parse::<u32>()
                .unwrap(),
        )
    };
    match o {
        Oracle::Redis62 => !valkey && version <= 9,
        Oracle::Redis70 => !valkey && version <= 10,
        Oracle::Valkey91 => valkey || version <= 11,
    }
}

#[test]
fn digest_equals_debug_digest_on_every_server() {
    let seed = std::env::var("RDBSCOPE_DIGEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    eprintln!("digest_live seed: {seed} (RDBSCOPE_DIGEST_SEED)");
    let servers: Vec<(Oracle, std::path::PathBuf)> = Oracle::ALL
        .iter()
        .filter_map(|&o| o.server("digest_live").map(|b| (o, b)))
        .collect();
    let tmp = TempDir::new("digest-live");
    let mut written = Vec::new();
    for (o, bin) in &servers {
        for (round, small) in [(0u64, false), (1, true)] {
            let mut config: Vec<(&str, &str)> = Vec::new();
            if small {
                config.extend([
                    ("hash-max-ziplist-entries", "4"),
                    ("zset-max-ziplist-entries", "4"),
                    ("set-max-intset-entries", "4"),
                    ("list-max-ziplist-size", "4"),
                    ("stream-node-max-entries", "3"),
                ]);
            }
            let server = RedisServer::start(bin, None, &config);
            let mut c = Conn::new(server.port);
            let mut rng = Rng(seed ^ (round + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let keys = workload(&mut c, &mut rng, *o == Oracle::Valkey91);
            let what = format!("{} round {round}", o.name());
            c.cmd(&["SAVE"]);
            let file = tmp.path.join(format!("{}-{round}.rdb", o.name()));
            std::fs::copy(server.dir().join("dump.rdb"), &file).unwrap();
            let f = file.to_str().unwrap();
            let want = c.digest();
            let want_values = c.value_digests();
            assert_eq!(want_values.len(), keys, "{what}");

            assert_eq!(
                ok_stdout(&["digest", "-q", f]).trim(),
                want,
                "{what}: digest"
            );
            assert_eq!(
                ok_stdout(&["digest", "-q", "-j1", f]).trim(),
                want,
                "{what}: -j1"
            );
            let got = per_key(&ok_stdout(&["digest", "-q", "--per-key", f]));
            assert_eq!(got.len(), want_values.len(), "{what}: per-key count");
            for (k, d) in &want_values {
                assert_eq!(got.get(k), Some(d), "{what}: DIGEST-VALUE of {k:?}");
            }
            // Through the file's JSON dump.
            let json = tmp.path.join(format!("{}-{round}.jsonl", o.name()));
            ok_stdout(&["dump", f, "-o", json.to_str().unwrap()]);
            assert_eq!(
                ok_stdout(&["digest", "-q", json.to_str().unwrap()]).trim(),
                want,
                "{what}: JSON dump"
            );

            // After DEBUG RELOAD (saves, then loads): the same.
            c.cmd(&["DEBUG", "RELOAD"]);
            assert_eq!(
                c.digest(),
                want,
                "{what}: the server's own digest after reload"
            );
            let reloaded = tmp.path.join(format!("{}-{round}-reloaded.rdb", o.name()));
            std::fs::copy(server.dir().join("dump.rdb"), &reloaded).unwrap();
            assert_eq!(
                ok_stdout(&["digest", "-q", reloaded.to_str().unwrap()]).trim(),
                want,
                "{what}: after DEBUG RELOAD"
            );
            written.push((*o, file));
            eprintln!("digest_live: {what}: {keys} keys, digest {want} matches");
        }
    }

    // Across servers: each file into every other server that reads it.
    let mut crossed = 0;
    for (reader, bin) in &servers {
        let server = RedisServer::start(bin, None, &[]);
        let mut c = Conn::new(server.port);
        for (writer, file) in &written {
            if writer == reader || !loads(*reader, file) {
                continue;
            }
            std::fs::copy(file, server.dir().join("dump.rdb")).unwrap();
            c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]);
            let want = c.digest();
            let got = ok_stdout(&[
                "digest",
                "-q",
                "--server-version",
                reader.name(),
                file.to_str().unwrap(),
            ]);
            assert_eq!(
                got.trim(),
                want,
                "{} file in {}",
                writer.name(),
                reader.name()
            );
            crossed += 1;
        }
    }
    if servers.len() == 3 {
        // 6.2's RDB 9 into 7.0 and Valkey; 7.0's RDB 10 into Valkey (two
        // rounds each).
        assert_eq!(crossed, 6, "cross-server loads");
    }
    eprintln!("digest_live: {crossed} files digested as another server loads them");
}

#[test]
fn as_loaded_equals_what_a_server_holds_after_loading() {
    for o in Oracle::ALL {
        let Some(bin) = o.server("digest_live as_loaded") else {
            continue;
        };
        let server = RedisServer::start(&bin, None, &[]);
        let mut c = Conn::new(server.port);
        let now_ms = |c: &mut Conn| -> i64 {
            let Reply::Array(t) = c.cmd(&["TIME"]) else {
                panic!("TIME")
            };
            t[0].text().parse::<i64>().unwrap() * 1000 + t[1].text().parse::<i64>().unwrap() / 1000
        };
        let soon = (now_ms(&mut c) + 1500).to_string();
        for i in 0..50 {
            let k = format!("k{i}");
            c.cmd(&["SET", &k, "v"]);
            c.cmd(&["HSET", &format!("h{i}"), "a", "1", "b", "2"]);
            if i % 2 == 0 {
                c.cmd(&["PEXPIREAT", &k, &soon]);
            }
            if o == Oracle::Valkey91 && i % 3 == 0 {
                c.cmd(&["HPEXPIREAT", &format!("h{i}"), &soon, "FIELDS", "1", "a"]);
            }
            if o == Oracle::Valkey91 && i % 5 == 0 {
                c.cmd(&[
                    "HPEXPIREAT",
                    &format!("h{i}"),
                    &soon,
                    "FIELDS",
                    "2",
                    "a",
                    "b",
                ]);
            }
        }
        c.cmd(&["SAVE"]);
        let tmp = TempDir::new("digest-as-loaded");
        let file = tmp.path.join("dump.rdb");
        std::fs::copy(server.dir().join("dump.rdb"), &file).unwrap();
        std::thread::sleep(Duration::from_millis(2000));
        // Loaded with active expiry off, so only what loading drops is gone.
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]);
        let want = c.digest();
        let at = format!("--as-loaded={}ms", now_ms(&mut c));
        let out = rdbscope(&["digest", &at, "--format", "json", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["digest"].as_str().unwrap(), want, "{}: {v}", o.name());
        assert_eq!(v["as_loaded"]["dropped_keys"], 25, "{v}");
        let Reply::Int(held) = c.cmd(&["DBSIZE"]) else {
            panic!("DBSIZE")
        };
        assert_eq!(
            v["keys"].as_i64(),
            Some(held),
            "{}: keys held after loading",
            o.name()
        );
        // Without --as-loaded the file's digest is another.
        assert_ne!(
            ok_stdout(&["digest", "-q", file.to_str().unwrap()]).trim(),
            want
        );
        eprintln!("digest_live: {} as loaded: {v}", o.name());
    }
}
