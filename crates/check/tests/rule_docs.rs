//! The rules of `rdbscope_rdb::Rule`, the table of docs/check-rules.md and
//! the tests of `rules.rs` stay in step: every rule has a row and every
//! row a rule; every test a row names asserts that rule's id; every rule is
//! asserted by some test, or is in [`NOT_PRODUCED`] with the reason.

use rdbscope_rdb::Rule;
use std::collections::{BTreeMap, BTreeSet};

const DOC: &str = include_str!("../../../docs/check-rules.md");
const TESTS: &str = include_str!("rules.rs");

/// Rules that no test of `rules.rs` produces, with the reason.
const NOT_PRODUCED: &[(&str, &str)] = &[
    (
        "input-read",
        "made by the input layer (a corrupt or truncated compressed input), \
         which rules.rs does not build: crates/cli/tests/input_kinds.rs",
    ),
    (
        "payload-checksum",
        "DUMP payloads only, which check does not read: asserted by \
         payload::tests::string_payload in crates/rdb",
    ),
    (
        "value-trailing-bytes",
        "DUMP payloads only, which check does not read: asserted by \
         payload::tests::string_payload in crates/rdb",
    ),
    (
        "other",
        "not a rule of the format: only a misuse of the API or an internal \
         failure makes it",
    ),
];

/// id -> (description, tests cell) for each row of the rules table.
fn doc_rows() -> BTreeMap<String, (String, String)> {
    let mut rows = BTreeMap::new();
    // The AOF rules' rows are kept by crates/aof/tests/rules.rs.
    for line in DOC
        .lines()
        .filter(|l| l.starts_with("| `") && !l.starts_with("| `aof-"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 4, "a row has 4 cells: {line}");
        let id = cells[0].trim().trim_matches('`').to_string();
        let row = (cells[1].trim().to_string(), cells[3].trim().to_string());
        assert!(rows.insert(id.clone(), row).is_none(), "{id} has two rows");
    }
    rows
}

/// test name -> the rule ids it asserts with `rule_is`.
fn asserted_by_tests() -> BTreeMap<String, BTreeSet<String>> {
    let mut by_test = BTreeMap::new();
    for part in TESTS.split("#[test]\n").skip(1) {
        let Some(name) = part.split("fn ").nth(1).and_then(|s| s.split('(').next()) else {
            continue;
        };
        let body = part.split("\n}\n").next().unwrap_or("");
        let ids: BTreeSet<String> = body
            .split("rule_is(\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_string)
            .collect();
        by_test.insert(name.trim().to_string(), ids);
    }
    by_test
}

#[test]
fn every_rule_has_a_row_and_every_row_a_rule() {
    let rows = doc_rows();
    let ids: BTreeSet<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
    let documented: BTreeSet<&str> = rows.keys().map(String::as_str).collect();
    let undocumented: Vec<_> = ids.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&ids).collect();
    assert!(
        undocumented.is_empty(),
        "rules without a row in docs/check-rules.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "rows of docs/check-rules.md that are no Rule: {unknown:?}"
    );
    for r in Rule::ALL {
        assert_eq!(
            rows[r.id()].0,
            r.description(),
            "the row of {} says what Rule::description says",
            r.id()
        );
    }
}

#[test]
fn tests_named_in_the_table_assert_their_rule() {
    let by_test = asserted_by_tests();
    for (id, (_, tests)) in doc_rows() {
        if tests.starts_with("not produced") {
            assert!(
                NOT_PRODUCED.iter().any(|(n, _)| *n == id),
                "{id} is documented as not produced but is not in NOT_PRODUCED"
            );
            continue;
        }
        for name in tests.split(", ") {
            let name = name.trim_matches('`');
            let ids = by_test
                .get(name)
                .unwrap_or_else(|| panic!("{id}: no test {name} in rules.rs"));
            assert!(
                ids.contains(&id),
                "{id}: test {name} does not assert it (it asserts {ids:?})"
            );
        }
    }
}

#[test]
fn every_rule_is_produced_by_a_test_or_allowlisted() {
    let asserted: BTreeSet<String> = asserted_by_tests().into_values().flatten().collect();
    for r in Rule::ALL {
        let allowed = NOT_PRODUCED.iter().find(|(n, _)| *n == r.id());
        match (asserted.contains(r.id()), allowed) {
            (false, None) => panic!(
                "no test of rules.rs asserts rule {}: add one, or add it to NOT_PRODUCED with the reason",
                r.id()
            ),
            (true, Some(_)) => panic!(
                "rule {} is asserted by a test: take it out of NOT_PRODUCED",
                r.id()
            ),
            _ => {}
        }
    }
    for (id, reason) in NOT_PRODUCED {
        assert!(
            Rule::from_id(id).is_some(),
            "NOT_PRODUCED names no rule: {id}"
        );
        assert!(!reason.is_empty());
    }
}

fn rdb_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read corpus dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rdb_files(&p, out);
        } else if std::fs::read(&p)
            .is_ok_and(|d| d.starts_with(b"REDIS") || d.starts_with(b"VALKEY"))
        {
            out.push(p);
        }
    }
}

/// `Rule::Other` is for misuse and internal failures only: no corpus file,
/// and no corruption of one (a flipped byte, a cut), makes `check` report
/// it. Every problem found this way names a real rule.
#[test]
fn no_input_breaks_rule_other() {
    let Some(dir) = rdbscope_testkit::corpus("no_input_breaks_rule_other") else {
        return;
    };
    let mut files = Vec::new();
    rdb_files(&dir, &mut files);
    files.sort();
    let opts = rdbscope_check::Options {
        now_ms: 0,
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    for f in &files {
        let data = std::fs::read(f).expect("read");
        let mut variants = vec![data.clone()];
        let n = data.len();
        for k in 1..8 {
            let at = n * k / 8;
            let mut flipped = data.clone();
            flipped[at] ^= 0x5a;
            variants.push(flipped);
            variants.push(data[..at].to_vec());
        }
        for v in &variants {
            let r = rdbscope_check::check(v, "x.rdb", &opts, |_| {});
            if let Some(p) = &r.first_problem {
                assert_ne!(p.rule, Rule::Other, "{}: {p}", f.display());
                seen.insert(p.rule.id());
            }
        }
    }
    assert!(
        !files.is_empty() && seen.len() > 5,
        "the corruptions hit too few rules: {seen:?}"
    );
}
