//! `dump` of a `dump`: every corpus RDB dumped as JSON Lines and as one
//! JSON document, each read back by `dump`, gives the same bytes (key
//! records and file records); filters apply to JSON input; a broken JSON
//! input is a located error with exit code 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .unwrap()
}

fn corpus_rdbs() -> Vec<PathBuf> {
    let Some(dir) = rdbscope_testkit::corpus("json_input") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir.join("rdb")).unwrap() {
        let d = d.unwrap().path();
        if d.is_dir() {
            for f in std::fs::read_dir(&d).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "rdb") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn dump_of_a_dump_is_the_same_for_every_corpus_rdb() {
    let tmp = rdbscope_testkit::TempDir::new("json-input");
    let mut files = 0;
    for f in corpus_rdbs() {
        let f = f.to_str().unwrap();
        for fmt in ["jsonl", "json"] {
            let first = rdbscope(&["dump", "--format", fmt, f]);
            let path = write(&tmp.path, &format!("d.{fmt}"), &first.stdout);
            let again = rdbscope(&["dump", "--format", fmt, &path]);
            assert!(
                first.stdout == again.stdout,
                "{f} ({fmt}): dump of the dump differs; stderr: {}",
                String::from_utf8_lossy(&again.stderr)
            );
            // A file that broke halfway leaves a complete prefix of lines
            // (and an unterminated document): the JSON Lines prefix reads
            // back whole; the document is reported as cut short.
            if first.status.code() == Some(0) || fmt == "jsonl" {
                assert_eq!(again.status.code(), Some(0), "{f} ({fmt})");
            }
        }
        files += 1;
    }
    eprintln!("{files} files");
}

#[test]
fn filters_and_errors_on_json_input() {
    let Some(f) = corpus_rdbs()
        .into_iter()
        .find(|f| f.ends_with("redis-7.4.1/all-types.rdb"))
    else {
        return;
    };
    let f = f.to_str().unwrap();
    let tmp = rdbscope_testkit::TempDir::new("json-input-filters");
    let all = rdbscope(&["dump", f]).stdout;
    let path = write(&tmp.path, "all.jsonl", &all);
    for args in [
        &["--type", "hash"][..],
        &["--key", "*a*"],
        &["--db", "0", "--keys-only"],
    ] {
        let want = rdbscope(&[&["dump"], args, &[f]].concat()).stdout;
        let got = rdbscope(&[&["dump"], args, &[path.as_str()]].concat()).stdout;
        assert!(want == got, "{args:?}");
    }
    // Cut mid-record: the records before are printed, the error names the
    // line, exit 1.
    let cut = &all[..all.len() / 2];
    let path = write(&tmp.path, "cut.jsonl", cut);
    let out = rdbscope(&["dump", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line ") && err.contains("cut short"), "{err}");
    let whole_lines = cut.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(
        out.stdout.iter().filter(|&&b| b == b'\n').count(),
        whole_lines
    );
    // RESP needs an RDB.
    let path = write(&tmp.path, "ok.jsonl", &all);
    assert_eq!(
        rdbscope(&["dump", "--format", "resp", &path]).status.code(),
        Some(2)
    );
}
