//! `rdbscope digest` as a user runs it, without a server: every corpus RDB
//! through the command line equals its server's `debug_digest`, read as a
//! file, through standard input gzip'd, and from its own JSON Lines and
//! JSON dumps; what has no digest (a module value, an AOF) is refused with
//! exit 1 or 2 and a message that names it. (Live servers:
//! `digest_live.rs`.)

use serde_json::Value;
use std::process::{Command, Output};

fn rdbscope(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    cmd.args(args);
    rdbscope_testkit::child::output_fed(cmd, stdin.unwrap_or_default())
}

fn stdout_of(args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = rdbscope(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_corpus_rdb_as_file_gzip_stdin_and_json_dump() {
    let Some(corpus) = rdbscope_testkit::corpus("digest cli") else {
        return;
    };
    for path in rdbscope_testkit::corpus_rdbs(&corpus) {
        let meta: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.meta.json", path.display())).unwrap(),
        )
        .unwrap();
        let want = meta["debug_digest"].as_str().unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(stdout_of(&["digest", "-q", p], None).trim(), want, "{p}");

        let bytes = std::fs::read(&path).unwrap();
        let gz = rdbscope_testkit::gzip(&bytes);
        assert_eq!(
            stdout_of(&["digest", "-q", "-"], Some(&gz)).trim(),
            want,
            "{p} gzip'd"
        );

        for format in ["jsonl", "json"] {
            let dump = stdout_of(&["dump", "--format", format, p], None);
            assert_eq!(
                stdout_of(&["digest", "-q", "-"], Some(dump.as_bytes())).trim(),
                want,
                "{p} as {format}"
            );
        }
        // The JSON summary says which rules were used.
        let j: Value =
            serde_json::from_str(&stdout_of(&["digest", "--format", "json", p], None)).unwrap();
        assert_eq!(j["digest"], want);
        assert_eq!(j["keys"], meta["total_keys"], "{p}");
        let ver = meta["server"]["version"].as_str().unwrap();
        assert!(
            j["rules_from"].as_str().unwrap().ends_with(ver),
            "{p}: {j} vs {ver}"
        );
    }
}

#[test]
fn what_has_no_digest_is_refused_by_name() {
    let Some(corpus) = rdbscope_testkit::corpus("digest refusals") else {
        return;
    };
    let module = corpus.join("third_party/redis-librdb/module.rdb");
    let out = rdbscope(&["digest", module.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("key \"key1\"") && err.contains("module value (type test__rdb)"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "no digest printed for a module value"
    );

    // An AOF is replayed (docs/aof-replay.md): the digest of what a
    // server holds after loading it, the live server's.
    let aof = corpus.join("aof/redis-7.0.15-debian/no-rewrite/appendonlydir");
    let out = rdbscope(&["digest", "-q", aof.to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::read_to_string(corpus.join("aof/redis-7.0.15-debian/no-rewrite.meta.json"))
        .unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        meta["debug_digest"].as_str().unwrap()
    );

    let out = rdbscope(&["digest", "--server-version", "redis-x", "x.rdb"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid server version"));

    // A broken file: the decoder's error, exit 1.
    let rdb = corpus.join("rdb/redis-7.0.15-debian/all-types.rdb");
    let mut bytes = std::fs::read(&rdb).unwrap();
    bytes.truncate(bytes.len() / 2);
    let out = rdbscope(&["digest", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn server_version_changes_only_what_it_should() {
    let Some(corpus) = rdbscope_testkit::corpus("digest server-version") else {
        return;
    };
    // 7.4's file: its zsets hash differently under 7.0's %.17g, and its
    // field TTLs differently under Valkey (no !!hexpire!!).
    let f = corpus.join("rdb/redis-7.4.1/all-types.rdb");
    let f = f.to_str().unwrap();
    let own = stdout_of(&["digest", "-q", f], None);
    let as70 = stdout_of(&["digest", "-q", "--server-version", "redis-7.0", f], None);
    let as72 = stdout_of(&["digest", "-q", "--server-version", "redis-7.2", f], None);
    let valkey = stdout_of(&["digest", "-q", "--server-version", "valkey-9.1", f], None);
    assert_ne!(own, as70);
    assert_ne!(own, as72);
    assert_ne!(own, valkey);
    assert_eq!(
        as72, valkey,
        "7.2 and Valkey share the score text and have no field mark"
    );
}
