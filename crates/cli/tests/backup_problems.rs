//! Problems that independent testing found in `check`, `dump` and `info`,
//! each pinned by a test that failed before its fix:
//! * `check --format json` wrote nothing for an input it could not open,
//!   so `jq 'select(.verdict != "ok")'` missed it;
//! * `dump` exited 0 on an AOF with a nested MULTI, which `check` and the
//!   server reject;
//! * `dump --keys-only` still printed every value.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/example.rdb")
        .display()
        .to_string()
}

#[test]
fn check_json_has_an_object_for_every_input_even_unopenable_ones() {
    let tmp = rdbscope_testkit::TempDir::new("check-json-inputs");
    let json = tmp.path.join("d.jsonl");
    let d = rdbscope(&["dump", "-o", json.to_str().unwrap(), &example()]);
    assert_eq!(d.status.code(), Some(0));
    let missing = tmp.path.join("missing.rdb");
    let dir_no_aof = tmp.path.join("empty-dir");
    std::fs::create_dir(&dir_no_aof).unwrap();
    let args = [
        "check",
        "--format",
        "json",
        &example(),
        missing.to_str().unwrap(),
        json.to_str().unwrap(),
        dir_no_aof.to_str().unwrap(),
    ];
    let out = rdbscope(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let reports: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 4, "{}", text(&out.stdout));
    assert_eq!(reports[0]["verdict"], "ok");
    for (r, name) in reports[1..].iter().zip([&missing, &json, &dir_no_aof]) {
        assert_eq!(r["file"], name.to_str().unwrap());
        assert_eq!(r["verdict"], "unreadable", "{r}");
        assert!(r["error"]["message"].as_str().unwrap().len() > 5, "{r}");
    }
    // What the README promises: every input that is not fine is selected.
    let bad: Vec<&Value> = reports.iter().filter(|r| r["verdict"] != "ok").collect();
    assert_eq!(bad.len(), 3);
}

/// A RESP command.
fn cmd(args: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    rdbscope_aof::resp::write_command(&mut v, &args);
    v
}

#[test]
fn dump_refuses_an_aof_that_breaks_the_transaction_rules() {
    let tmp = rdbscope_testkit::TempDir::new("dump-nested-multi");
    // Big enough for the parallel JSON walk too.
    let mut head = Vec::new();
    for i in 0..60_000 {
        head.extend(cmd(&["SET", &format!("k{i}"), "some value of a few bytes"]));
    }
    let multi = cmd(&["MULTI"]);
    let set = cmd(&["SET", "a", "b"]);
    let exec = cmd(&["EXEC"]);
    let cases: [(&str, Vec<u8>, &str, usize); 3] = [
        (
            "nested",
            [&head[..], &multi, &set, &multi, &set, &exec].concat(),
            "unexpected MULTI inside the transaction",
            head.len() + multi.len() + set.len(),
        ),
        (
            "exec-without-multi",
            [&head[..], &set, &exec].concat(),
            "unexpected EXEC without MULTI",
            head.len() + set.len(),
        ),
        (
            "multi-without-exec",
            [&head[..], &multi, &set].concat(),
            "the file ends inside the transaction",
            head.len() + multi.len() + set.len(),
        ),
    ];
    for (name, bytes, message, offset) in cases {
        let path = tmp.path.join(format!("{name}.aof"));
        std::fs::write(&path, &bytes).unwrap();
        let p = path.to_str().unwrap();
        let check = rdbscope(&["check", p]);
        assert_eq!(check.status.code(), Some(1), "{name}");
        let mut outputs = Vec::new();
        for format in ["jsonl", "resp"] {
            for j in ["-j1", "-j2", "-j7"] {
                let out = rdbscope(&["dump", "--format", format, j, p]);
                let err = text(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{name} {format} {j}: {err}");
                assert!(err.contains(message), "{name}: {err}");
                assert!(err.contains(&format!("offset {offset}")), "{name}: {err}");
                outputs.push((format, out.stdout));
            }
        }
        // What comes before the break is printed, the same with any
        // number of threads.
        for w in outputs.windows(2) {
            if w[0].0 == w[1].0 {
                assert!(
                    w[0].1 == w[1].1,
                    "{name} {}: output differs by threads",
                    w[0].0
                );
            }
        }
        assert!(text(&outputs[0].1).lines().count() > 60_000);
    }
}

#[test]
fn keys_only_prints_key_records_without_values() {
    let Some(corpus) = rdbscope_testkit::corpus("keys_only_prints_key_records_without_values")
    else {
        return;
    };
    let mut files = 0;
    // Bytes of keys-only and of full dumps over the corpus.
    let mut total = (0usize, 0usize);
    for server in std::fs::read_dir(corpus.join("rdb")).unwrap() {
        for f in std::fs::read_dir(server.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_none_or(|x| x != "rdb") {
                continue;
            }
            let p = f.to_str().unwrap();
            let full = rdbscope(&["dump", p]);
            if full.status.code() != Some(0) {
                continue;
            }
            let only = rdbscope(&["dump", "--keys-only", p]);
            assert_eq!(only.status.code(), Some(0), "{p}: {}", text(&only.stderr));
            let keys: Vec<Value> = text(&full.stdout)
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .filter(|v| v.get("record").is_none())
                .collect();
            let short: Vec<Value> = text(&only.stdout)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(keys.len(), short.len(), "{p}");
            for (k, s) in keys.iter().zip(&short) {
                assert!(s.get("value").is_none() && s.get("record").is_none(), "{s}");
                for field in ["db", "key", "type", "encoding", "expire_at_ms"] {
                    assert_eq!(k[field], s[field], "{p}: {field}");
                }
                let v = &k["value"];
                match k["type"].as_str().unwrap() {
                    "string" => {
                        let len = match v {
                            Value::String(t) => t.len(),
                            other => {
                                // Base64: 3 bytes per 4 characters, less padding.
                                let b = other["base64"].as_str().unwrap();
                                b.len() / 4 * 3 - b.bytes().rev().take_while(|&c| c == b'=').count()
                            }
                        };
                        assert_eq!(s["length"], len, "{p}: {}", k["key"]);
                    }
                    "list" | "set" | "zset" | "hash" => {
                        assert_eq!(
                            s["elements"],
                            v.as_array().unwrap().len(),
                            "{p}: {}",
                            k["key"]
                        );
                    }
                    "stream" => assert_eq!(s["elements"], v["length"], "{p}"),
                    _ => {}
                }
            }
            // Smaller than the full dump, file by file.
            assert!(only.stdout.len() < full.stdout.len(), "{p}");
            total.0 += only.stdout.len();
            total.1 += full.stdout.len();
            files += 1;
        }
    }
    assert!(files >= 10, "{files} files");
    // The bug: keys-only was 99.9999% of the full dump.
    assert!(
        total.0 * 4 < total.1,
        "keys-only {} bytes of {}",
        total.0,
        total.1
    );
    // JSON input too, and RESP is refused.
    let tmp = rdbscope_testkit::TempDir::new("keys-only-json");
    let json = tmp.path.join("d.jsonl");
    rdbscope(&["dump", "-o", json.to_str().unwrap(), &example()]);
    let a = rdbscope(&["dump", "--keys-only", &example()]);
    let b = rdbscope(&["dump", "--keys-only", json.to_str().unwrap()]);
    assert_eq!(text(&a.stdout), text(&b.stdout));
    let r = rdbscope(&["dump", "--keys-only", "--format", "resp", &example()]);
    assert_eq!(r.status.code(), Some(2));
}
