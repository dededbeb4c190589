//! Each AOF rule, broken alone in a minimal file (or set of files), is
//! reported with its stable id (`rdbscope_aof::Rule`, docs/check-rules.md),
//! in the problem and in the JSON report.

use rdbscope_aof::{Opened, Rule};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for one case, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "rdbscope-aof-rules-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks the AOF at `path`; returns the first problem's rule id as the
/// problem and as the JSON report say it.
fn rule_of(path: &Path) -> (Option<&'static str>, String) {
    let aof = match rdbscope_aof::open(path) {
        Ok(Opened::Aof(aof)) => aof,
        Ok(Opened::Rdb(_)) => panic!("{}: taken for an RDB", path.display()),
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let report = rdbscope_aof::check(&aof, &path.display().to_string(), &Default::default());
    let from_problem = report
        .first_bad()
        .and_then(|f| f.problem.as_ref())
        .map(|p| p.rule.id());
    let mut json = Vec::new();
    report.write_json(&mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let from_json = v["error"]["rule"].as_str().unwrap_or("").to_string();
    (from_problem, from_json)
}

/// A single-file AOF holding `bytes` breaks exactly rule `id`.
#[track_caller]
fn single(bytes: &[u8], id: &str) {
    assert!(Rule::from_id(id).is_some(), "{id} is no AOF rule");
    let d = Dir::new();
    let p = d.write("t.aof", bytes);
    let (problem, json) = rule_of(&p);
    assert_eq!(problem, Some(id), "{:?}", String::from_utf8_lossy(bytes));
    assert_eq!(json, id, "{:?}", String::from_utf8_lossy(bytes));
}

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

#[test]
fn a_valid_file_names_no_rule() {
    let d = Dir::new();
    let p = d.write("t.aof", &[PING, MULTI, PING, EXEC].concat());
    assert_eq!(rule_of(&p), (None, String::new()));
}

#[test]
fn resp_rules() {
    single(&[PING, b"*1\r\n$4\r\nPI"].concat(), "aof-truncated");
    single(&[PING, b"X"].concat(), "aof-command-start");
    single(&[PING, b"*0\r\n"].concat(), "aof-empty-command");
    single(&[PING, b"*1\r\nX"].concat(), "aof-argument-start");
    single(&[PING, b"*1\r\n$x\r\n"].concat(), "aof-length-line");
    single(&[PING, b"*x\r\n"].concat(), "aof-length-line");
    single(&[PING, b"*1\r\n$4\r\nPINGxy"].concat(), "aof-argument-end");
}

#[test]
fn transaction_rules() {
    single(&[MULTI, PING, MULTI, EXEC].concat(), "aof-multi-nested");
    single(&[PING, EXEC].concat(), "aof-exec-without-multi");
    single(&[MULTI, PING].concat(), "aof-multi-without-exec");
}

/// A multi-part AOF: base `appendonly.aof.1.base.aof` and the increments
/// given, under a manifest that lists `listed` increments.
fn multi_part(incrs: &[&[u8]], listed: usize) -> (Dir, PathBuf) {
    let d = Dir::new();
    d.write("appendonly.aof.1.base.aof", PING);
    let mut manifest = String::from("file appendonly.aof.1.base.aof seq 1 type b\n");
    for i in 0..listed {
        let name = format!("appendonly.aof.{}.incr.aof", i + 1);
        if let Some(b) = incrs.get(i) {
            d.write(&name, b);
        }
        manifest.push_str(&format!("file {name} seq {} type i\n", i + 1));
    }
    let m = d.write("appendonly.aof.manifest", manifest.as_bytes());
    (d, m)
}

#[test]
fn multi_part_rules() {
    let (_d, m) = multi_part(&[PING, PING], 2);
    assert_eq!(rule_of(&m), (None, String::new()));
    let (_d, m) = multi_part(&[&PING[..9], PING], 2);
    assert_eq!(
        rule_of(&m),
        (
            Some("aof-truncated-not-last"),
            "aof-truncated-not-last".into()
        )
    );
    let (_d, m) = multi_part(&[PING], 2);
    assert_eq!(
        rule_of(&m),
        (Some("aof-missing-file"), "aof-missing-file".into())
    );
}

#[test]
fn manifest_rule() {
    let d = Dir::new();
    d.write("appendonly.aof.1.base.aof", PING);
    let m = d.write(
        "appendonly.aof.manifest",
        b"file appendonly.aof.1.base.aof seq 1 type b\nfile x seq 1 type q\n",
    );
    assert_eq!(rule_of(&m).1, "aof-manifest");
}

#[test]
fn ids_are_unique_and_prefixed() {
    let mut seen = std::collections::HashSet::new();
    for r in Rule::ALL {
        assert!(seen.insert(r.id()), "{} twice", r.id());
        assert!(r.id().starts_with("aof-"), "{}", r.id());
        assert!(rdbscope_rdb::Rule::from_id(r.id()).is_none());
    }
}

#[test]
fn rdb_base_rule() {
    let d = Dir::new();
    // The magic, then an opcode no RDB version defines.
    d.write("appendonly.aof.1.base.rdb", b"REDIS0011\xf0");
    d.write("appendonly.aof.1.incr.aof", PING);
    let m = d.write(
        "appendonly.aof.manifest",
        b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    );
    assert_eq!(rule_of(&m), (Some("aof-rdb-part"), "aof-rdb-part".into()));
}

const DOC: &str = include_str!("../../../docs/check-rules.md");
const TESTS: &str = include_str!("rules.rs");

/// Every AOF rule has a row of docs/check-rules.md that says what its
/// description says and names a test of this file that asserts its id;
/// every `aof-` row is a rule.
#[test]
fn docs_list_every_rule() {
    let mut documented = std::collections::BTreeSet::new();
    for line in DOC.lines().filter(|l| l.starts_with("| `aof-")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 4, "a row has 4 cells: {line}");
        let id = cells[0].trim().trim_matches('`');
        let rule = Rule::from_id(id).unwrap_or_else(|| panic!("row {id} is no Rule"));
        assert_eq!(cells[1].trim(), rule.description(), "the row of {id}");
        for test in cells[3].trim().split(", ") {
            let test = test.trim_matches('`');
            let start = TESTS
                .find(&format!("fn {test}("))
                .unwrap_or_else(|| panic!("{id}: no test {test}"));
            let body = TESTS[start..].split("\n}\n").next().unwrap_or("");
            assert!(
                body.contains(&format!("\"{id}\"")),
                "{id}: test {test} does not assert it"
            );
        }
        documented.insert(id.to_string());
    }
    for r in Rule::ALL {
        assert!(
            documented.contains(r.id()),
            "{} has no row in docs/check-rules.md",
            r.id()
        );
    }
}
