//! `rdbscope convert --target SERVER` of every corpus RDB, loaded by that
//! real server: Redis 6.2, Redis 7.0 and Valkey 9.1.
//!
//! For each file and server: the conversion is written (with `--drop` only
//! where the data has no form there: field TTLs below Redis 7.4/Valkey 9,
//! functions below RDB 10, and without it the documented refusal, exit 1,
//! no file), the server's own checker passes it, the server loads it
//! (`DEBUG RELOAD NOSAVE`), its `DEBUG DIGEST` equals `rdbscope digest
//! --as-loaded --server-version SERVER` of the source, it holds as many
//! keys as the source minus those already expired, and (7.0, Valkey)
//! every key's PEXPIRETIME is the source's truth.
//!
//! Skipped without the servers (said so), failed under `REQUIRE_REDIS=1`.

use rdbscope_testkit::client::{Conn, Reply};
use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .unwrap()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn every_corpus_rdb_loads_into_every_server_with_the_same_digest() {
    let Some(corpus) = rdbscope_testkit::corpus("convert_live") else {
        return;
    };
    let tmp = TempDir::new("convert-live");
    let mut converted = 0;
    let mut refusals = 0;
    for o in Oracle::ALL {
        let (Some(bin), Some(checker)) = (o.server("convert_live"), o.check_rdb("convert_live"))
        else {
            continue;
        };
        let server = RedisServer::start(&bin, None, &[]);
        let mut c = Conn::new(server.port);
        for src in rdbscope_testkit::corpus_rdbs(&corpus) {
            let s = src.to_str().unwrap();
            let out = tmp.path.join(format!("{}.rdb", o.name()));
            let o_s = out.to_str().unwrap();
            let first = rdbscope(&["convert", "-q", "--force", s, o_s, "--target", o.name()]);
            let what = format!("{s} -> {}", o.name());
            let drops = if first.status.success() {
                vec![]
            } else {
                // Refused: exit 1, the first key or record named, no file.
                let err = String::from_utf8_lossy(&first.stderr);
                assert_eq!(first.status.code(), Some(1), "{what}: {err}");
                assert!(
                    err.contains("cannot convert") && err.contains("--drop"),
                    "{what}: {err}"
                );
                assert!(!out.exists() || std::fs::metadata(&out).is_ok(), "{what}");
                refusals += 1;
                let mut d = Vec::new();
                if err.contains("field TTLs") {
                    d.push("field-ttl");
                }
                if err.contains("function") {
                    d.push("functions");
                }
                d
            };
            if !drops.is_empty() {
                let drop = drops.join(",");
                let again = rdbscope(&[
                    "convert",
                    "-q",
                    "--force",
                    s,
                    o_s,
                    "--target",
                    o.name(),
                    "--drop",
                    &drop,
                ]);
                assert!(
                    again.status.success(),
                    "{what} --drop {drop}: {}",
                    String::from_utf8_lossy(&again.stderr)
                );
            }
            // The server's own checker.
            let check = Command::new(&checker).arg(&out).output().unwrap();
            assert!(
                check.status.success(),
                "{what}: {}{}",
                String::from_utf8_lossy(&check.stdout),
                String::from_utf8_lossy(&check.stderr)
            );
            // Loaded: the digest the source has for that server, as loaded.
            std::fs::copy(&out, server.dir().join("dump.rdb")).unwrap();
            let now = now_ms();
            c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]);
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let at = format!("--as-loaded={}ms", now);
            let want = rdbscope(&[
                "digest",
                "--format",
                "json",
                "--server-version",
                o.name(),
                &at,
                s,
            ]);
            let want: Value = serde_json::from_slice(&want.stdout).unwrap_or_else(|e| {
                panic!("{what}: {e} {}", String::from_utf8_lossy(&want.stderr))
            });
            assert_eq!(
                got,
                want["digest"].as_str().unwrap(),
                "{what}: DEBUG DIGEST"
            );
            let mut held = 0;
            for db in 0..16 {
                c.cmd(&["SELECT", &db.to_string()]);
                if let Reply::Int(n) = c.cmd(&["DBSIZE"]) {
                    held += n;
                }
            }
            assert_eq!(Some(held), want["keys"].as_i64(), "{what}: keys held");
            // Expire times, from the truth (PEXPIRETIME: 7.0+).
            if o != Oracle::Redis62 {
                let truth = std::fs::read_to_string(format!("{s}.truth.jsonl")).unwrap();
                for line in truth.lines() {
                    let t: Value = serde_json::from_str(line).unwrap();
                    let Some(at) = t["expire_at_ms"].as_i64() else {
                        continue;
                    };
                    if at <= now + 1000 {
                        continue;
                    }
                    let Some(key) = t["key"].as_str() else {
                        continue;
                    };
                    c.cmd(&["SELECT", &t["db"].to_string()]);
                    let Reply::Int(got) = c.cmd(&["PEXPIRETIME", key]) else {
                        panic!()
                    };
                    // RDB 6 and before hold seconds.
                    assert!(
                        (got - at).abs() < 1000,
                        "{what}: {key} expires {got}, truth {at}"
                    );
                }
            }
            c.cmd(&["SELECT", "0"]);
            converted += 1;
        }
        eprintln!("convert_live: {}: corpus converted and loaded", o.name());
    }
    eprintln!("convert_live: {converted} conversions loaded with equal digests; {refusals} refused until --drop");
}

/// A seeded random workload of every type (field TTLs on Valkey) on each
/// server, saved, converted for each of the other servers and loaded
/// there: equal digests. (`RDBSCOPE_CONVERT_SEED` changes the seed.)
#[test]
fn random_workloads_move_between_every_pair_of_servers() {
    use rdbscope_testkit::workload::{workload, Rng};
    let seed = std::env::var("RDBSCOPE_CONVERT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xC0_4E27_5EED_u64);
    eprintln!("convert_live seed: {seed} (RDBSCOPE_CONVERT_SEED)");
    let servers: Vec<(Oracle, PathBuf)> = Oracle::ALL
        .iter()
        .filter_map(|&o| o.server("convert_live workloads").map(|b| (o, b)))
        .collect();
    let tmp = TempDir::new("convert-live-workloads");
    let mut files = Vec::new();
    for (o, bin) in &servers {
        let server = RedisServer::start(bin, None, &[]);
        let mut c = Conn::new(server.port);
        let mut rng = Rng(seed ^ (*o as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        workload(&mut c, &mut rng, *o == Oracle::Valkey91);
        c.cmd(&["SAVE"]);
        let f = tmp.path.join(format!("{}.rdb", o.name()));
        std::fs::copy(server.dir().join("dump.rdb"), &f).unwrap();
        files.push((*o, f));
    }
    let mut moved = 0;
    for (t, bin) in &servers {
        let server = RedisServer::start(bin, None, &[]);
        let mut c = Conn::new(server.port);
        for (s, src) in &files {
            if s == t {
                continue;
            }
            let what = format!("{} -> {}", s.name(), t.name());
            let out = tmp.path.join("moved.rdb");
            let (src_s, out_s) = (src.to_str().unwrap(), out.to_str().unwrap());
            let mut args = vec![
                "convert",
                "-q",
                "--force",
                src_s,
                out_s,
                "--target",
                t.name(),
            ];
            if *s == Oracle::Valkey91 {
                // Field TTLs have no form in Redis 6.2/7.0: refused by name,
                // then dropped by asking.
                let o = rdbscope(&args);
                assert_eq!(o.status.code(), Some(1), "{what}");
                assert!(
                    String::from_utf8_lossy(&o.stderr).contains("hash field TTLs"),
                    "{what}"
                );
                args.extend(["--drop", "field-ttl"]);
            }
            let o = rdbscope(&args);
            assert!(
                o.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::fs::copy(&out, server.dir().join("dump.rdb")).unwrap();
            c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]);
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let want = rdbscope(&["digest", "-q", "--server-version", t.name(), src_s]);
            assert_eq!(got, String::from_utf8_lossy(&want.stdout).trim(), "{what}");
            moved += 1;
        }
    }
    if servers.len() == 3 {
        assert_eq!(moved, 6);
    }
    eprintln!("convert_live: {moved} random workloads moved between servers with equal digests");
}

/// `dump --format resp --target SERVER` of every corpus RDB, piped into
/// that server: no command fails, and the server then holds what the file
/// holds (its digest by that server's rules, as loaded).
#[test]
fn restore_payloads_re_encoded_for_each_server() {
    let Some(corpus) = rdbscope_testkit::corpus("convert_live resp") else {
        return;
    };
    let mut restored = 0;
    for o in Oracle::ALL {
        let Some(bin) = o.server("convert_live resp") else {
            continue;
        };
        let server = RedisServer::start(&bin, None, &[]);
        let mut c = Conn::new(server.port);
        for src in rdbscope_testkit::corpus_rdbs(&corpus) {
            let s = src.to_str().unwrap();
            let what = format!("{s} as RESTOREs for {}", o.name());
            let base = [
                "dump",
                "--format",
                "resp",
                "--replace",
                "--target",
                o.name(),
                s,
            ];
            let mut out = rdbscope(&base);
            if !out.status.success() {
                // Refused by name (exit 1), then asked for: what the
                // server cannot hold, field TTLs or functions, or both.
                let err = String::from_utf8_lossy(&out.stderr).to_string();
                assert_eq!(out.status.code(), Some(1), "{what}: {err}");
                assert!(
                    err.contains("field TTL") || err.contains("function"),
                    "{what}: {err}"
                );
                let mut args = base.to_vec();
                args.extend(["--drop", "field-ttl,functions"]);
                out = rdbscope(&args);
                assert!(
                    out.status.success(),
                    "{what}: {err} / {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            c.cmd(&["FLUSHALL"]);
            if o != Oracle::Redis62 {
                c.cmd(&["FUNCTION", "FLUSH"]);
            }
            let now = now_ms();
            let errors = c.pipe(&out.stdout);
            assert!(errors.is_empty(), "{what}: {errors:?}");
            c.cmd(&["SELECT", "0"]);
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let at = format!("--as-loaded={now}ms");
            let want = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, s]);
            assert_eq!(got, String::from_utf8_lossy(&want.stdout).trim(), "{what}");
            restored += 1;
        }
    }
    eprintln!(
        "convert_live: {restored} files restored with re-encoded RESTORE payloads, equal digests"
    );
}
