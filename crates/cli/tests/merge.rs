//! `rdbscope merge` as a user runs it, checked against the servers' own
//! digests in the corpus: shards cut from a corpus RDB by key filters merge
//! back to the `debug_digest` the server that wrote the file computed; an
//! RDB shard given on standard input, plain or gzip'd, merges as the file
//! does (it was read again from its path, so standard input failed); a key
//! held by two shards is an error unless `--on-conflict` says which; and a
//! usage error is told before any input is read.

use rdbscope_testkit::{gzip, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rdbscope(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    cmd.args(args);
    rdbscope_testkit::child::output_fed(cmd, stdin)
}

fn ok(args: &[&str], stdin: &[u8]) -> String {
    let out = rdbscope(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The corpus's `all-types.rdb` of every server `convert` can write for,
/// with the `--target` that names that server and its `debug_digest`.
fn cases(corpus: &Path) -> Vec<(PathBuf, String, String)> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(corpus.join("rdb")).unwrap() {
        let path = dir.unwrap().path().join("all-types.rdb");
        let Ok(meta) = std::fs::read_to_string(format!("{}.meta.json", path.display())) else {
            continue;
        };
        let meta: Value = serde_json::from_str(&meta).unwrap();
        let name = meta["server"]["name"].as_str().unwrap();
        let version: Vec<u32> = meta["server"]["version"]
            .as_str()
            .unwrap()
            .split('.')
            .map(|n| n.parse().unwrap())
            .collect();
        // Targets start at Redis 6.2 and Valkey 8.0.
        if name == "redis" && (version[0], version[1]) < (6, 2) {
            continue;
        }
        let target = format!("{name}-{}.{}", version[0], version[1]);
        let digest = meta["debug_digest"].as_str().unwrap().to_string();
        out.push((path, target, digest));
    }
    out.sort();
    assert!(out.len() >= 7, "corpus all-types files: {out:?}");
    out
}

#[test]
fn shards_cut_by_key_merge_back_to_the_servers_digest() {
    let Some(corpus) = rdbscope_testkit::corpus("merge shards") else {
        return;
    };
    let tmp = TempDir::new("merge-shards");
    for (path, target, want) in cases(&corpus) {
        let (a, b, out) = (
            tmp.path.join("a.rdb"),
            tmp.path.join("b.rdb"),
            tmp.path.join("merged.rdb"),
        );
        let p = s(&path);
        let t = target.as_str();
        let cut = |to: &Path, filter: &str| {
            ok(
                &[
                    "convert",
                    "-q",
                    "--force",
                    p,
                    s(to),
                    "--target",
                    t,
                    filter,
                    "[a-m]*",
                ],
                b"",
            )
        };
        cut(&a, "--key");
        cut(&b, "--not-key");
        ok(
            &[
                "merge",
                "-q",
                "--force",
                s(&a),
                s(&b),
                "-o",
                s(&out),
                "--target",
                t,
            ],
            b"",
        );
        let digest = |f: &Path| {
            ok(&["digest", "-q", "--server-version", t, s(f)], b"")
                .trim()
                .to_string()
        };
        assert_eq!(digest(&out), want, "{p}: the two shards merged");
        // Each shard alone is part of the file, not all of it.
        assert_ne!(digest(&a), want, "{p}: shard a holds every key");
        assert_ne!(digest(&b), want, "{p}: shard b holds every key");
    }
}

#[test]
fn an_rdb_shard_on_standard_input_merges_as_its_file_does() {
    let Some(corpus) = rdbscope_testkit::corpus("merge stdin") else {
        return;
    };
    let tmp = TempDir::new("merge-stdin");
    for (path, target, want) in cases(&corpus) {
        let (a, b) = (tmp.path.join("a.rdb"), tmp.path.join("b.rdb"));
        let p = s(&path);
        let t = target.as_str();
        ok(
            &[
                "convert",
                "-q",
                "--force",
                p,
                s(&a),
                "--target",
                t,
                "--key",
                "[a-m]*",
            ],
            b"",
        );
        ok(
            &[
                "convert",
                "-q",
                "--force",
                p,
                s(&b),
                "--target",
                t,
                "--not-key",
                "[a-m]*",
            ],
            b"",
        );
        let shard = std::fs::read(&a).unwrap();
        let merged = tmp.path.join("merged.rdb");
        let digest = || {
            ok(&["digest", "-q", "--server-version", t, s(&merged)], b"")
                .trim()
                .to_string()
        };
        for (what, stdin) in [("plain", shard.clone()), ("gzip'd", gzip(&shard))] {
            // Standard input first and last among the inputs.
            for args in [["-", s(&b)], [s(&b), "-"]] {
                let _ = std::fs::remove_file(&merged);
                ok(
                    &[
                        "merge",
                        "-q",
                        args[0],
                        args[1],
                        "-o",
                        s(&merged),
                        "--target",
                        t,
                    ],
                    &stdin,
                );
                assert_eq!(digest(), want, "{p}: shard a on stdin {what}, {args:?}");
            }
        }
        // Cut short on standard input: a problem naming where, and no output.
        let _ = std::fs::remove_file(&merged);
        let out = rdbscope(
            &["merge", "-q", "-", s(&b), "-o", s(&merged), "--target", t],
            &shard[..shard.len() * 2 / 3],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{p}: {err}");
        assert!(err.contains("<stdin>: offset "), "{p}: {err}");
        assert!(!merged.exists(), "{p}: an output was left");
    }
}

#[test]
fn a_key_held_twice_is_an_error_unless_a_policy_chooses() {
    let Some(corpus) = rdbscope_testkit::corpus("merge conflict") else {
        return;
    };
    let tmp = TempDir::new("merge-conflict");
    let (path, target, want) = cases(&corpus).pop().unwrap();
    let (p, t) = (s(&path), target.as_str());
    let merged = tmp.path.join("merged.rdb");
    let out = rdbscope(&["merge", "-q", p, p, "-o", s(&merged), "--target", t], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("held by two inputs"), "{err}");
    assert!(!merged.exists());
    for policy in ["first", "last"] {
        let _ = std::fs::remove_file(&merged);
        let err = String::from_utf8(
            rdbscope(
                &[
                    "merge",
                    p,
                    p,
                    "-o",
                    s(&merged),
                    "--target",
                    t,
                    "--on-conflict",
                    policy,
                ],
                b"",
            )
            .stderr,
        )
        .unwrap();
        assert!(
            err.contains("held by more than one input kept from the"),
            "{err}"
        );
        let digest = ok(&["digest", "-q", "--server-version", t, s(&merged)], b"");
        assert_eq!(digest.trim(), want, "--on-conflict {policy}");
    }
}

#[test]
fn a_usage_error_is_told_before_any_input_is_read() {
    let tmp = TempDir::new("merge-usage");
    let missing = tmp.path.join("missing.rdb");
    let merged = tmp.path.join("merged.rdb");
    // No --target or --rdb-version for an RDB output: exit 2 at once, not
    // after reading the inputs (which here do not exist, so reading them
    // first would say so instead).
    let out = rdbscope(&["merge", s(&missing), s(&missing), "-o", s(&merged)], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("give --rdb-version N or --target SERVER"),
        "{err}"
    );
    assert!(!err.contains("No such file"), "{err}");
    // Standard input twice: it can be read once.
    let out = rdbscope(
        &["merge", "-", "-", "-o", s(&merged), "--target", "redis-7.0"],
        b"",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("only one input can be standard input"),
        "{err}"
    );
    // The same for an output that cannot hold a directory.
    let out = rdbscope(
        &[
            "merge",
            s(&missing),
            s(&missing),
            "-o",
            "-",
            "--to",
            "aof-dir",
        ],
        b"",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not standard output"), "{err}");
}
