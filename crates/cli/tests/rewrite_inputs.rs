//! `rdbscope rewrite` of a single-file AOF given every way a backup comes:
//! the file, the file gzip'd, and each of those on standard input. Every
//! way gives a rewrite with the file's digest, and the server is still found in an RDB preamble that
//! arrives on standard input (it was looked for again by the input's path,
//! so `rewrite -` said the AOF "names no server"). Loading the rewrites
//! into live servers is `replay_live.rs`'s job; this is about the inputs.

use rdbscope_testkit::{gzip, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rdbscope(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    cmd.args(args);
    rdbscope_testkit::child::output_fed(cmd, stdin)
}

fn ok(args: &[&str], stdin: &[u8]) -> (String, String) {
    let out = rdbscope(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The corpus's single-file AOFs.
fn single_files(corpus: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for server in std::fs::read_dir(corpus.join("aof")).unwrap() {
        for case in std::fs::read_dir(server.unwrap().path()).unwrap() {
            let f = case.unwrap().path().join("appendonly.aof");
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 10, "corpus single-file AOFs: {out:?}");
    out
}

/// The digest of what a rewrite wrote (one file, or a directory holding
/// an `appendonlydir`). Its bytes are not compared: keys come out in the
/// replayed dataset's order, which, as in a server's hash table, is not
/// the same from run to run.
fn written(out: &Path) -> String {
    let dir = out.join("appendonlydir");
    let target = if dir.is_dir() { dir } else { out.to_path_buf() };
    let (digest, _) = ok(&["digest", "-q", s(&target)], b"");
    digest.trim().to_string()
}

#[test]
fn every_input_kind_rewrites_as_the_file_does() {
    let Some(corpus) = rdbscope_testkit::corpus("rewrite inputs") else {
        return;
    };
    let tmp = TempDir::new("rewrite-inputs");
    let mut preambles = 0;
    for (i, file) in single_files(&corpus).into_iter().enumerate() {
        let bytes = std::fs::read(&file).unwrap();
        let preamble = bytes.starts_with(b"REDIS");
        preambles += usize::from(preamble);
        // An AOF of commands names no server: the newest that writes one
        // file is given. A preamble names its own.
        let target: &[&str] = if preamble {
            &[]
        } else {
            &["--target", "redis-6.2"]
        };
        let gz_path = tmp.path.join(format!("{i}.aof.gz"));
        let gz = gzip(&bytes);
        std::fs::write(&gz_path, &gz).unwrap();
        let mut got = Vec::new();
        for (how, input, stdin) in [
            ("file", s(&file), &[][..]),
            ("gzip'd file", s(&gz_path), &[][..]),
            ("stdin", "-", &bytes[..]),
            ("gzip'd stdin", "-", &gz[..]),
        ] {
            let out = tmp.path.join(format!("{i}-{}", got.len()));
            let mut args = vec!["rewrite", input, "--output", s(&out)];
            args.extend_from_slice(target);
            let (_, err) = ok(&args, stdin);
            assert!(err.contains("rewritten for"), "{file:?} {how}: {err}");
            // The size before is the AOF's own, however it came.
            assert!(
                err.contains(&format!(": {} bytes before", bytes.len())),
                "{file:?} {how}: {err}"
            );
            got.push((how, written(&out)));
        }
        // What each rewrite holds is what the AOF holds.
        let (want, _) = ok(&["digest", "-q", s(&file)], b"");
        for (how, got) in &got {
            assert_eq!(got, want.trim(), "{file:?}: {how}");
        }
    }
    assert!(preambles >= 3, "corpus preamble AOFs: {preambles}");
}
