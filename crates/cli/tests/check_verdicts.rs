//! `rdbscope check` against real verdicts.
//!
//! Acceptance criterion: every valid corpus RDB passes; every file under
//! `broken/rdb/` gets the OK/problem verdict that the newest checker in its
//! `verdicts.json` (`redis-check-rdb 7.4.1`) recorded, with a problem report
//! that points at the same key (or an offset within the record the real
//! checker failed in); third-party files that are broken on purpose (see
//! `third_party/SOURCES.md`) are reported as problems.
//!
//! Besides that criterion the file pins what `check` says about the few
//! third-party files that have genuine problems without being broken on
//! purpose (duplicate keys, padding after the checksum, ...), requires every
//! other third-party RDB to pass, and covers the command-line contract:
//! several inputs checked in parallel but reported whole and in argument
//! order, `-` for stdin, `--ignore-checksum`, and exit codes 0/1/2.
//!
//! Corpus location: `$RDBSCOPE_CORPUS`, else `shared/corpus` beside the
//! workspace. Without it the corpus tests print a notice and pass, unless
//! `REQUIRE_CORPUS=1`, which makes that a failure. The command-line tests
//! build their own tiny RDB files and always run.
//!
//! Every test collects all its failures and reports them together.

use rdbscope_rdb::{Rdb, Record};
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rdbscope");

/// Files per `check` invocation when checking the corpus in batches: enough
/// that several are in flight at once with `-j N > 1`.
const BATCH: usize = 16;

/// Third-party files that their authors made broken on purpose (from the
/// "exercises" column of `third_party/SOURCES.md`), with the stage `check`
/// must name (the kind of damage decides where it can be seen) and, where
/// the damage has exactly one reading, the problem kind; then the id of the
/// rule broken (docs/check-rules.md).
const BROKEN_ON_PURPOSE: &[(&str, &str, Option<&str>, &str)] = &[
    // "corrupt_ziplist": a hash ziplist too short to be one.
    (
        "redis-redis/corrupt_ziplist.rdb",
        "read-object-value",
        Some("invalid"),
        "ziplist-size",
    ),
    // "deliberately wrong CRC64".
    (
        "redis-librdb/invalid_chksum_v8.rdb",
        "check-sum",
        Some("checksum"),
        "checksum",
    ),
    // "header REDIS0099 (future version; tests version rejection)".
    (
        "redis-librdb/future_v19.rdb",
        "start",
        Some("unsupported"),
        "header-version",
    ),
    // "Redis Enterprise-only opcode/type byte (107) before a key; OSS
    // servers reject it": unknown to us too, so the type byte is the problem.
    (
        "redis-librdb/redis_ent_opcode_ram_lru.rdb",
        "read-type",
        None,
        "type-byte",
    ),
    // "empty RDB 10 with wrong CRC".
    (
        "upstash-rdb/bad-crc.rdb",
        "check-sum",
        Some("checksum"),
        "checksum",
    ),
    // "9-byte file UPSTASH42 (bad magic)".
    (
        "upstash-rdb/bad-header.rdb",
        "start",
        Some("invalid"),
        "header-signature",
    ),
    // "header REDIS0042 (future version)".
    (
        "upstash-rdb/from-future.rdb",
        "start",
        Some("unsupported"),
        "header-version",
    ),
];

/// What `check` reports today for third-party files that are not broken on
/// purpose but do hold something a server would not accept as is. Pinned so
/// that any change is a conscious one.
struct Finding {
    file: &'static str,
    kind: &'static str,
    /// The id of the rule broken (docs/check-rules.md).
    rule: &'static str,
    stage: &'static str,
    /// The key the problem names (`None`: no key).
    key: Option<&'static str>,
    /// The checksum word of the JSON report: the rest of the file is intact.
    checksum: &'static str,
    why: &'static str,
}

const KNOWN_FINDINGS: &[Finding] = &[
    Finding {
        file: "leonchen83-redis-rdb-cli/89.rdb",
        kind: "duplicate-key",
        rule: "duplicate-key",
        stage: "read-key",
        key: Some("my"),
        checksum: "ok",
        why: "merged by hand from several dumps: key \"my\" appears twice in db 0",
    },
    Finding {
        file: "leonchen83-redis-rdb-cli/all.rdb",
        kind: "duplicate-key",
        rule: "duplicate-key",
        stage: "read-key",
        key: Some("key1"),
        checksum: "ok",
        why: "merged by hand from several dumps: key \"key1\" appears twice in db 0",
    },
    Finding {
        file: "upstash-rdb/with-padding.rdb",
        kind: "trailing-data",
        rule: "trailing-data",
        stage: "trailer",
        key: None,
        checksum: "disabled",
        why: "8 bytes \"upstash\\n\" after the checksum",
    },
    Finding {
        file: "leonchen83-redis-replicator/module.rdb",
        kind: "unsupported",
        rule: "module-pre-ga",
        stage: "read-object-value",
        key: Some("key"),
        checksum: "not-reached",
        why: "a type 6 (pre-GA module) value cannot be skipped without its module; \
              Redis refuses the file for the same reason",
    },
];

/// An AOF with an RDB preamble (its `aof-preamble` AUX field is 1): checked
/// as an AOF, the RDB part as an RDB and the commands after its checksum
/// as commands, not as trailing data.
const PREAMBLE_AOF: &str = "redis-redis/rdb-preamble.aof";

/// Third-party files a real server refused for an integrity reason although
/// nobody broke them on purpose. `check` applies the rules Redis applies, so
/// it must refuse them too.
const REJECTED_BY_REDIS: &[(&str, &str)] = &[(
    "HDT3213-rdb/zipmap_big_len.rdb",
    "redis-server 7.0.15: \"Zipmap integrity check failed\": the zipmap's count byte is 255, \
     which is neither the pair count (2) nor ZIPMAP_BIGLEN (254) (zipmapValidateIntegrity)",
)];

// ===========================================================================
// The corpus
// ===========================================================================

/// All valid RDBs pass, checked in batches (in parallel within a batch) and
/// once more all together, largest first, to make out-of-order completion
/// likely: the reports must still come out whole and in argument order.
#[test]
fn valid_corpus_rdbs_pass() {
    let Some(corpus) = locate_corpus("valid_corpus_rdbs_pass") else {
        return;
    };
    let files = valid_files(&corpus);
    let mut failures = Vec::new();
    // The corpus has 8 servers x 5 cases plus ~100 loadable third-party files.
    if files.len() < 100 {
        failures.push(format!(
            "only {} valid RDBs found under {}: is the corpus complete?",
            files.len(),
            corpus.display()
        ));
    }

    for (i, batch) in files.chunks(BATCH).enumerate() {
        let jobs = ["1", "2", "3", "8"][i % 4];
        let run = check_json(&corpus, &["-j", jobs], batch);
        judge_all_ok(
            &run,
            batch,
            &format!("batch {i} (-j {jobs})"),
            &mut failures,
        );
    }

    let mut by_size = files.clone();
    by_size.sort_by_key(|f| std::cmp::Reverse(file_len(&corpus.join(f))));
    let run = check_json(&corpus, &["-j", "4"], &by_size);
    judge_all_ok(
        &run,
        &by_size,
        "all files, largest first (-j 4)",
        &mut failures,
    );

    eprintln!("valid_corpus_rdbs_pass: {} files checked", files.len());
    report(failures);
}

/// Every corrupted file under `broken/rdb/` gets redis-check-rdb's verdict,
/// and the problem is located where redis-check-rdb located it.
///
/// Where redis-check-rdb names a key (`Reading key '...'`), ours must name
/// the same key. Where it does not, it failed between records (type byte,
/// header, checksum) and reported its offset *after* what it read. Ours must
/// then lie in the record redis-check-rdb failed in: no earlier than the
/// start of the first record that cannot be read (found by walking the
/// broken file with the `rdbscope_rdb` record iterator) and no later than
/// redis-check-rdb's offset.
#[test]
fn broken_rdbs_get_the_verdict_of_redis_check_rdb() {
    let Some(corpus) = locate_corpus("broken_rdbs_get_the_verdict_of_redis_check_rdb") else {
        return;
    };
    let dir = corpus.join("broken/rdb");
    let verdicts: Value = read_json(&dir.join("verdicts.json"));
    let Some(cases) = verdicts.as_object() else {
        panic!("broken/rdb/verdicts.json is not an object");
    };
    let mut failures = Vec::new();
    let mut checkers_used = BTreeSet::new();
    let (mut ok_cases, mut problem_cases) = (0, 0);

    for (name, case) in cases {
        let path = PathBuf::from(name);
        let Some((checker, theirs)) = newest_redis_check_rdb(case) else {
            failures.push(format!(
                "{name}: no redis-check-rdb verdict in verdicts.json"
            ));
            continue;
        };
        checkers_used.insert(checker.clone());
        let ctx = format!("{name} (expected verdict of {checker})");

        let run = check_json(&dir, &[], std::slice::from_ref(&path));
        let Some(ours) = single_report(&run, name, &ctx, &mut failures) else {
            continue;
        };
        if run.code != Some(theirs.exit_code) {
            failures.push(format!(
                "{ctx}: exit code {:?}, {checker} exited {}\n  ours: {}",
                run.code,
                theirs.exit_code,
                one_line(&ours)
            ));
            continue;
        }

        if theirs.exit_code == 0 {
            ok_cases += 1;
            // "Checksum OK" or "saved with checksum disabled": say the same.
            let want = if theirs.output.contains("checksum disabled") {
                "disabled"
            } else {
                "ok"
            };
            expect_eq(&mut failures, &ctx, "checksum", &ours["checksum"], want);
            expect_eq(&mut failures, &ctx, "verdict", &ours["verdict"], "ok");
            continue;
        }

        problem_cases += 1;
        expect_eq(&mut failures, &ctx, "verdict", &ours["verdict"], "problem");
        let err = &ours["error"];
        let Some(our_offset) = err["offset"].as_u64() else {
            failures.push(format!("{ctx}: no error.offset in {}", one_line(&ours)));
            continue;
        };
        match (&theirs.key, theirs.offset) {
            (Some(key), _) => {
                // The same key, in JSON and in the text report.
                if err["key"].as_str() != Some(key.as_str()) {
                    failures.push(format!(
                        "{ctx}: {checker} failed reading key '{key}', ours names key {} \
                         (error {})",
                        err["key"],
                        one_line(err)
                    ));
                }
                if let Some(rec) = err["record_offset"].as_u64() {
                    if our_offset < rec {
                        failures.push(format!(
                            "{ctx}: error offset {our_offset} is before its record at {rec}"
                        ));
                    }
                } else {
                    failures.push(format!(
                        "{ctx}: a key's problem without record_offset: {err}"
                    ));
                }
                let text = run_rdbscope(&dir, &["check".into(), name.into()], None);
                let line = format!("[additional info] Reading key '{key}'");
                if !text.stdout.lines().any(|l| l == line) {
                    failures.push(format!(
                        "{ctx}: the text report lacks the line {line:?}:\n{}",
                        indent(&text.stdout)
                    ));
                }
            }
            (None, Some(their_offset)) => {
                let bytes = read(&dir.join(name));
                let Some(start) = first_unreadable_record(&bytes) else {
                    failures.push(format!(
                        "{ctx}: the rdbscope_rdb record iterator reads the whole file \
                         without error, so there is no failing record to compare with"
                    ));
                    continue;
                };
                if !(start <= our_offset && our_offset <= their_offset) {
                    failures.push(format!(
                        "{ctx}: error offset {our_offset} is outside the failing record: \
                         it starts at {start} and {checker} stopped at offset {their_offset} \
                         ({:?})\n  ours: {}",
                        theirs.message,
                        one_line(err)
                    ));
                }
                if their_offset < start {
                    failures.push(format!(
                        "{ctx}: {checker} failed at {their_offset}, before the first record \
                         the rdbscope_rdb iterator cannot read ({start})"
                    ));
                }
            }
            (None, None) => failures.push(format!(
                "{ctx}: cannot find the error offset in the output of {checker}:\n{}",
                indent(&theirs.output)
            )),
        }
    }

    // Both verdicts must be represented, or the test proves little.
    if ok_cases == 0 || problem_cases < 5 {
        failures.push(format!(
            "broken/rdb has {ok_cases} OK and {problem_cases} problem verdicts: is it complete?"
        ));
    }

    // A wrong checksum is the only problem of bad-checksum.rdb: without the
    // comparison the file is fine.
    let run = check_json(
        &dir,
        &["--ignore-checksum"],
        &[PathBuf::from("bad-checksum.rdb")],
    );
    if let Some(r) = single_report(&run, "bad-checksum.rdb", "--ignore-checksum", &mut failures) {
        let ctx = "--ignore-checksum bad-checksum.rdb";
        expect_code(&mut failures, ctx, &run, 0);
        expect_eq(&mut failures, ctx, "verdict", &r["verdict"], "ok");
        expect_eq(
            &mut failures,
            ctx,
            "checksum",
            &r["checksum"],
            "not-verified",
        );
    }

    eprintln!(
        "broken_rdbs: {ok_cases} OK + {problem_cases} problem verdicts matched, checker(s): {}",
        checkers_used.into_iter().collect::<Vec<_>>().join(", ")
    );
    report(failures);
}

/// Files broken on purpose by their authors are problems, each alone (exit
/// code 1) and all together (one report each, in order).
#[test]
fn third_party_files_broken_on_purpose_are_problems() {
    let Some(corpus) = locate_corpus("third_party_files_broken_on_purpose_are_problems") else {
        return;
    };
    let dir = corpus.join("third_party");
    let mut failures = Vec::new();
    for &(file, stage, kind, rule) in BROKEN_ON_PURPOSE {
        let run = check_json(&dir, &[], &[PathBuf::from(file)]);
        let Some(r) = single_report(&run, file, file, &mut failures) else {
            continue;
        };
        expect_code(&mut failures, file, &run, 1);
        expect_eq(&mut failures, file, "verdict", &r["verdict"], "problem");
        let err = &r["error"];
        match err["offset"].as_u64() {
            Some(off) if off <= file_len(&dir.join(file)) => {}
            _ => failures.push(format!(
                "{file}: error must carry an offset inside the file: {}",
                one_line(&r)
            )),
        }
        expect_eq(&mut failures, file, "error.stage", &err["stage"], stage);
        expect_eq(&mut failures, file, "error.rule", &err["rule"], rule);
        if let Some(kind) = kind {
            expect_eq(&mut failures, file, "error.kind", &err["kind"], kind);
        }
        if kind == Some("checksum") {
            expect_eq(&mut failures, file, "checksum", &r["checksum"], "mismatch");
        }
        if stage == "read-object-value" && !err["key"].is_string() {
            failures.push(format!(
                "{file}: a value's problem must name its key: {err}"
            ));
        }
    }

    let all: Vec<PathBuf> = BROKEN_ON_PURPOSE
        .iter()
        .map(|b| PathBuf::from(b.0))
        .collect();
    let run = check_json(&dir, &["-j", "3"], &all);
    expect_code(
        &mut failures,
        "all broken-on-purpose files at once",
        &run,
        1,
    );
    if let Some(reports) = reports_in_order(&run, &all, "all at once", &mut failures) {
        for r in reports {
            expect_eq(
                &mut failures,
                "all at once",
                "verdict",
                &r["verdict"],
                "problem",
            );
        }
    }
    report(failures);
}

/// What `check` says about third-party files with genuine problems that are
/// not broken on purpose; and that every other third-party RDB passes.
#[test]
fn third_party_findings_are_exactly_the_known_ones() {
    let Some(corpus) = locate_corpus("third_party_findings_are_exactly_the_known_ones") else {
        return;
    };
    let dir = corpus.join("third_party");
    let mut failures = Vec::new();

    for f in KNOWN_FINDINGS {
        let ctx = format!("{} ({})", f.file, f.why);
        let run = check_json(&dir, &[], &[PathBuf::from(f.file)]);
        let Some(r) = single_report(&run, f.file, &ctx, &mut failures) else {
            continue;
        };
        expect_code(&mut failures, &ctx, &run, 1);
        let err = &r["error"];
        expect_eq(&mut failures, &ctx, "verdict", &r["verdict"], "problem");
        expect_eq(&mut failures, &ctx, "error.kind", &err["kind"], f.kind);
        expect_eq(&mut failures, &ctx, "error.rule", &err["rule"], f.rule);
        expect_eq(&mut failures, &ctx, "error.stage", &err["stage"], f.stage);
        expect_eq(&mut failures, &ctx, "checksum", &r["checksum"], f.checksum);
        match f.key {
            Some(k) => expect_eq(&mut failures, &ctx, "error.key", &err["key"], k),
            None if !err["key"].is_null() => {
                failures.push(format!("{ctx}: error names a key: {err}"))
            }
            None => {}
        }
        if f.kind == "duplicate-key" && err["offset"] != err["record_offset"] {
            failures.push(format!(
                "{ctx}: a duplicate key is reported at the start of its second record: {err}"
            ));
        }
    }

    // with-padding.rdb: the 8 bytes after the checksum, exactly.
    let padded = read(&dir.join("upstash-rdb/with-padding.rdb"));
    let run = check_json(&dir, &[], &[PathBuf::from("upstash-rdb/with-padding.rdb")]);
    if let Some(r) = single_report(
        &run,
        "upstash-rdb/with-padding.rdb",
        "padding",
        &mut failures,
    ) {
        let at = padded.len() as u64 - 8;
        if !padded.ends_with(b"upstash\n") || r["error"]["offset"].as_u64() != Some(at) {
            failures.push(format!(
                "upstash-rdb/with-padding.rdb: expected trailing data at offset {at} \
                 (\"upstash\\n\"), got {}",
                one_line(&r["error"])
            ));
        }
        let msg = r["error"]["message"].as_str().unwrap_or("");
        if !msg.starts_with("8 bytes") {
            failures.push(format!(
                "with-padding.rdb: message should count 8 bytes: {msg:?}"
            ));
        }
    }

    // redis_40_with_module.rdb ends with the 40 hex characters of a diskless
    // replication EOF mark: not data, not a problem, but worth a note.
    let name = "redis-rdb-tools/redis_40_with_module.rdb";
    let bytes = read(&dir.join(name));
    let tail = &bytes[bytes.len().saturating_sub(40)..];
    if !tail.iter().all(u8::is_ascii_hexdigit) {
        failures.push(format!("{name}: expected 40 hex characters at the end"));
    }
    let run = check_json(&dir, &[], &[PathBuf::from(name)]);
    if let Some(r) = single_report(&run, name, name, &mut failures) {
        expect_code(&mut failures, name, &run, 0);
        expect_eq(&mut failures, name, "verdict", &r["verdict"], "ok");
    }
    let text = run_rdbscope(&dir, &["check".into(), name.into()], None);
    if text.code != Some(0) || !text.stdout.contains("diskless-replication EOF mark") {
        failures.push(format!(
            "{name}: the text report should pass and note the EOF mark:\n{}",
            indent(&text.stdout)
        ));
    }

    let run = check_json(&dir, &[], &[PathBuf::from(PREAMBLE_AOF)]);
    if let Some(r) = single_report(&run, PREAMBLE_AOF, PREAMBLE_AOF, &mut failures) {
        expect_code(&mut failures, PREAMBLE_AOF, &run, 0);
        expect_eq(&mut failures, PREAMBLE_AOF, "format", &r["format"], "aof");
        expect_eq(
            &mut failures,
            PREAMBLE_AOF,
            "aof_verdict",
            &r["aof_verdict"],
            "valid",
        );
        let file = &r["files"][0];
        expect_eq(
            &mut failures,
            PREAMBLE_AOF,
            "rdb.checksum",
            &file["rdb"]["checksum"],
            "ok",
        );
        if file["commands"] != 2
            || file["resp_start"] != file["rdb"]["size_bytes"].as_u64().unwrap_or(0) - 52
        {
            failures.push(format!(
                "{PREAMBLE_AOF}: expected 2 commands in the last 52 bytes: {}",
                one_line(file)
            ));
        }
    }

    // Everything else with RDB magic passes, with or without truth.
    let mut expected_problems: BTreeSet<&str> = BROKEN_ON_PURPOSE.iter().map(|b| b.0).collect();
    expected_problems.insert(PREAMBLE_AOF);
    expected_problems.extend(KNOWN_FINDINGS.iter().map(|f| f.file));
    expected_problems.extend(REJECTED_BY_REDIS.iter().map(|r| r.0));
    let rest: Vec<PathBuf> = rdb_files_under(&dir)
        .into_iter()
        .filter(|p| !expected_problems.contains(p.to_str().unwrap_or("")))
        .collect();
    let run = check_json(&dir, &["-j", "2"], &rest);
    judge_all_ok(&run, &rest, "other third-party RDBs", &mut failures);
    eprintln!(
        "third_party: {} known findings pinned, {} other files pass",
        KNOWN_FINDINGS.len(),
        rest.len()
    );
    report(failures);
}

/// Files a real Redis refused for an integrity reason must be problems.
#[test]
fn third_party_files_redis_rejects_as_corrupt_are_problems() {
    let Some(corpus) = locate_corpus("third_party_files_redis_rejects_as_corrupt_are_problems")
    else {
        return;
    };
    let dir = corpus.join("third_party");
    let mut failures = Vec::new();
    for &(file, why) in REJECTED_BY_REDIS {
        let run = check_json(&dir, &[], &[PathBuf::from(file)]);
        if let Some(r) = single_report(&run, file, file, &mut failures) {
            if run.code != Some(1) || r["verdict"] != "problem" {
                failures.push(format!(
                    "{file}: must be a problem ({why}); check exited {:?}: {}",
                    run.code,
                    one_line(&r)
                ));
            }
        }
    }
    report(failures);
}

// ===========================================================================
// The command line, on tiny files made here
// ===========================================================================

/// `REDIS0011`, SELECTDB 0, RESIZEDB 1 0, "k" = "v", EOF, CRC-64 (the
/// example of the `rdbscope_rdb::records` docs).
const TINY: &[u8] =
    b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x01k\x01v\xff\x82\x0b\x95\x88\x5e\x25\x63\x13";

#[test]
fn command_line_contract() {
    let tmp = TempDir::new("cli");
    let mut failures = Vec::new();
    let good = tmp.path.join("good.rdb");
    let bad_crc = tmp.path.join("bad-crc.rdb");
    let cut = tmp.path.join("cut.rdb");
    let missing = tmp.path.join("missing.rdb");
    std::fs::write(&good, TINY).unwrap();
    let mut b = TINY.to_vec();
    *b.last_mut().unwrap() ^= 0x01;
    std::fs::write(&bad_crc, &b).unwrap();
    std::fs::write(&cut, &TINY[..18]).unwrap(); // key read, its value cut
    let rel = |p: &Path| PathBuf::from(p.file_name().unwrap());

    // Text report of a good file, in redis-check-rdb's grammar.
    let t = run_rdbscope(&tmp.path, &["check".into(), "good.rdb".into()], None);
    let first = t.stdout.lines().next().unwrap_or("");
    if t.code != Some(0)
        || first != "[offset 0] Checking RDB file good.rdb"
        || !t.stdout.contains("\\o/ RDB looks OK! \\o/")
        || !t.stdout.contains("[info] 1 keys read")
        || t.stdout.contains("RDB ERROR DETECTED")
    {
        failures.push(format!(
            "text report of a good file (exit {:?}):\n{}",
            t.code,
            indent(&t.stdout)
        ));
    }

    // Text report of a truncated file: the error block names the key.
    let t = run_rdbscope(&tmp.path, &["check".into(), "cut.rdb".into()], None);
    if t.code != Some(1)
        || !t.stdout.contains("--- RDB ERROR DETECTED ---")
        || !t.stdout.contains("[additional info] Reading key 'k'")
        || t.stdout.contains("RDB looks OK")
    {
        failures.push(format!(
            "text report of a cut file (exit {:?}):\n{}",
            t.code,
            indent(&t.stdout)
        ));
    }

    // Mixed inputs, both orders: exit 1, both reports, in argument order.
    for order in [[&good, &bad_crc], [&bad_crc, &good]] {
        let files: Vec<PathBuf> = order.iter().map(|p| rel(p)).collect();
        let run = check_json(&tmp.path, &[], &files);
        let ctx = format!("mixed {files:?}");
        expect_code(&mut failures, &ctx, &run, 1);
        if let Some(r) = reports_in_order(&run, &files, &ctx, &mut failures) {
            for (rep, f) in r.iter().zip(&files) {
                let want = if f == &rel(&good) { "ok" } else { "problem" };
                expect_eq(&mut failures, &ctx, "verdict", &rep["verdict"], want);
            }
        }
    }

    // A missing file is an I/O error: exit 2, named on stderr and in a JSON
    // object of its own (so that `select(.verdict != "ok")` sees it), and
    // the other inputs are still checked and reported.
    let run = check_json(&tmp.path, &[], &[rel(&missing)]);
    let unreadable = |l: &str| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|v| v["file"] == "missing.rdb" && v["verdict"] == "unreadable")
    };
    if run.code != Some(2)
        || run.stdout.lines().count() != 1
        || !unreadable(run.stdout.trim())
        || !run.stderr.contains("missing.rdb")
    {
        failures.push(format!("missing file: {}", run.describe()));
    }
    let files = [rel(&good), rel(&missing), rel(&bad_crc)];
    let run = check_json(&tmp.path, &[], &files);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if run.code != Some(2)
        || lines.len() != 3
        || lines[0]["file"] != "good.rdb"
        || lines[1]["verdict"] != "unreadable"
        || lines[2]["file"] != "bad-crc.rdb"
    {
        failures.push(format!("good + missing + bad: {}", run.describe()));
    }

    // `-` reads standard input, alone or among files.
    let run = run_rdbscope(
        &tmp.path,
        &args(&["check", "--format", "json", "-"]),
        Some(TINY),
    );
    match parse_lines(&run.stdout).as_deref() {
        Ok([r]) if run.code == Some(0) && r["file"] == "<stdin>" && r["keys"] == 1 => {}
        _ => failures.push(format!("good file on stdin: {}", run.describe())),
    }
    let run = run_rdbscope(
        &tmp.path,
        &args(&["check", "--format", "json", "good.rdb", "-"]),
        Some(&b),
    );
    match parse_lines(&run.stdout).as_deref() {
        Ok([g, s])
            if run.code == Some(1)
                && g["file"] == "good.rdb"
                && g["verdict"] == "ok"
                && s["file"] == "<stdin>"
                && s["checksum"] == "mismatch" => {}
        _ => failures.push(format!("good file + bad file on stdin: {}", run.describe())),
    }

    // --ignore-checksum: a wrong CRC is no longer a problem, and says so.
    let run = check_json(&tmp.path, &["--ignore-checksum"], &[rel(&bad_crc)]);
    match parse_lines(&run.stdout).as_deref() {
        Ok([r])
            if run.code == Some(0) && r["verdict"] == "ok" && r["checksum"] == "not-verified" => {}
        _ => failures.push(format!("--ignore-checksum: {}", run.describe())),
    }
    let run = check_json(&tmp.path, &[], &[rel(&bad_crc)]);
    match parse_lines(&run.stdout).as_deref() {
        Ok([r])
            if run.code == Some(1)
                && r["checksum"] == "mismatch"
                && r["error"]["kind"] == "checksum" => {}
        _ => failures.push(format!(
            "bad CRC without --ignore-checksum: {}",
            run.describe()
        )),
    }

    // Usage errors are exit 2 as well.
    for bad_args in [
        &["check"][..],
        &["check", "--format", "yaml", "good.rdb"][..],
    ] {
        let run = run_rdbscope(&tmp.path, &args(bad_args), None);
        if run.code != Some(2) {
            failures.push(format!("usage error {bad_args:?}: {}", run.describe()));
        }
    }

    // Many copies of the same inputs, interleaved, with more jobs than
    // files: order and completeness still hold.
    let mut many = Vec::new();
    for i in 0..40 {
        many.push(rel(if i % 3 == 0 { &bad_crc } else { &good }));
    }
    for jobs in ["1", "2", "64"] {
        let run = check_json(&tmp.path, &["-j", jobs], &many);
        let ctx = format!("40 inputs, -j {jobs}");
        expect_code(&mut failures, &ctx, &run, 1);
        reports_in_order(&run, &many, &ctx, &mut failures);
    }
    report(failures);
}

// ===========================================================================
// Finding files
// ===========================================================================

fn locate_corpus(test: &str) -> Option<PathBuf> {
    rdbscope_testkit::corpus(test)
}

/// The files that must pass, relative to the corpus: every file with RDB
/// magic under `rdb/`, and every third-party `.rdb` a real server loaded
/// (those have a `.truth.jsonl`). `rdb-preamble.aof` has truth too, but it
/// is an AOF (see `PREAMBLE_AOF`).
fn valid_files(corpus: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = rdb_files_under(&corpus.join("rdb"))
        .into_iter()
        .map(|p| Path::new("rdb").join(p))
        .collect();
    for p in rdb_files_under(&corpus.join("third_party")) {
        let full = corpus.join("third_party").join(&p);
        let is_rdb = p.extension().is_some_and(|e| e == "rdb");
        if is_rdb && sidecar(&full, ".truth.jsonl").is_file() {
            out.push(Path::new("third_party").join(p));
        }
    }
    out.sort();
    out
}

/// Every file below `dir` that starts with `REDIS` or `VALKEY`, relative to
/// `dir`, sorted.
fn rdb_files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    walk(dir, &mut all);
    let mut out: Vec<PathBuf> = all
        .into_iter()
        .filter(|p| {
            let head = read_head(p, 6);
            head.starts_with(b"REDIS") || head.starts_with(b"VALKEY")
        })
        .filter_map(|p| p.strip_prefix(dir).ok().map(Path::to_path_buf))
        .collect();
    out.sort();
    out
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn read_head(path: &Path, n: u64) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    let _ = std::fs::File::open(path).and_then(|f| f.take(n).read_to_end(&mut head));
    head
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

// ===========================================================================
// redis-check-rdb's verdicts
// ===========================================================================

/// What redis-check-rdb said about one file.
struct Theirs {
    exit_code: i32,
    output: String,
    /// `[offset N]` of the line after `--- RDB ERROR DETECTED ---`.
    offset: Option<u64>,
    message: String,
    /// `[additional info] Reading key '<key>'`.
    key: Option<String>,
}

/// The verdict of the newest `redis-check-rdb` in a `verdicts.json` entry
/// (by version number; `valkey-check-rdb` is a different program).
fn newest_redis_check_rdb(case: &Value) -> Option<(String, Theirs)> {
    let checkers = case["checkers"].as_object()?;
    let version = |name: &str| -> Option<Vec<u32>> {
        let v = name.strip_prefix("redis-check-rdb ")?.split(' ').next()?;
        v.split('.').map(|n| n.parse().ok()).collect()
    };
    let (name, c) = checkers
        .iter()
        .filter(|(name, _)| version(name).is_some())
        .max_by_key(|(name, _)| version(name))?;
    let output = c["output"].as_str()?.to_string();
    let mut lines = output
        .lines()
        .skip_while(|l| *l != "--- RDB ERROR DETECTED ---")
        .skip(1);
    let (offset, message) = match lines.next().and_then(|l| l.strip_prefix("[offset ")) {
        Some(rest) => {
            let (n, msg) = rest.split_once("] ").unwrap_or((rest, ""));
            (n.parse().ok(), msg.to_string())
        }
        None => (None, String::new()),
    };
    let key = output.lines().find_map(|l| {
        let q = l.strip_prefix("[additional info] Reading key '")?;
        Some(q.strip_suffix('\'').unwrap_or(q).to_string())
    });
    let exit_code = i32::try_from(c["exit_code"].as_i64()?).ok()?;
    Some((
        name.clone(),
        Theirs {
            exit_code,
            output,
            offset,
            message,
            key,
        },
    ))
}

/// Start of the first record the `rdbscope_rdb` iterator cannot read (0 for
/// a bad header), or `None` if it reads the whole file.
fn first_unreadable_record(bytes: &[u8]) -> Option<u64> {
    let Ok(rdb) = Rdb::new(bytes) else {
        return Some(0);
    };
    let mut records = rdb.records();
    loop {
        let start = records.offset();
        match records.next() {
            None | Some(Ok(Record::Eof(_))) => return None,
            Some(Ok(_)) => {}
            Some(Err(_)) => return Some(start),
        }
    }
}

// ===========================================================================
// Running rdbscope
// ===========================================================================

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit {:?}\n  stdout:\n{}\n  stderr:\n{}",
            self.code,
            indent(&self.stdout),
            indent(&self.stderr)
        )
    }
}

fn args(a: &[&str]) -> Vec<OsString> {
    a.iter().map(OsString::from).collect()
}

fn run_rdbscope(cwd: &Path, args: &[OsString], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
    if let Some(data) = stdin {
        let mut w = child.stdin.take().unwrap();
        let data = data.to_vec();
        // Write from a thread so a large input cannot deadlock against a
        // full stdout pipe.
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let out = child.wait_with_output().expect("wait for rdbscope");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rdbscope check --format json <extra> <files>` in `cwd`.
fn check_json(cwd: &Path, extra: &[&str], files: &[PathBuf]) -> Run {
    let mut a = args(&["check", "--format", "json"]);
    a.extend(extra.iter().map(OsString::from));
    a.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    run_rdbscope(cwd, &a, None)
}

fn parse_lines(stdout: &str) -> Result<Vec<Value>, String> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{e} in line {l:?}")))
        .collect()
}

/// One JSON report per input, whole (each line parses on its own) and in
/// argument order.
fn reports_in_order(
    run: &Run,
    files: &[PathBuf],
    ctx: &str,
    failures: &mut Vec<String>,
) -> Option<Vec<Value>> {
    let reports = match parse_lines(&run.stdout) {
        Ok(r) => r,
        Err(e) => {
            failures.push(format!("{ctx}: a report line is not JSON: {e}"));
            return None;
        }
    };
    let got: Vec<&str> = reports
        .iter()
        .map(|r| r["file"].as_str().unwrap_or("?"))
        .collect();
    let want: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    if got != want {
        failures.push(format!(
            "{ctx}: reports are not one per input in argument order\n  want: {want:?}\n  got:  {got:?}\n  stderr: {}",
            run.stderr.trim()
        ));
        return None;
    }
    Some(reports)
}

fn single_report(run: &Run, file: &str, ctx: &str, failures: &mut Vec<String>) -> Option<Value> {
    let r = reports_in_order(run, &[PathBuf::from(file)], ctx, failures)?;
    r.into_iter().next()
}

/// Every input has a report saying ok, with no error, and exit code 0.
fn judge_all_ok(run: &Run, files: &[PathBuf], ctx: &str, failures: &mut Vec<String>) {
    if run.code != Some(0) {
        let bad: Vec<String> = run
            .stdout
            .lines()
            .filter(|l| !l.contains("\"verdict\":\"ok\""))
            .map(str::to_string)
            .collect();
        failures.push(format!(
            "{ctx}: exit {:?}; reports that are not ok:\n{}\n  stderr: {}",
            run.code,
            indent(&bad.join("\n")),
            run.stderr.trim()
        ));
    }
    let Some(reports) = reports_in_order(run, files, ctx, failures) else {
        return;
    };
    for r in &reports {
        let checksum = r["checksum"].as_str().unwrap_or("");
        let bad = r["verdict"] != "ok"
            || !r["error"].is_null()
            || r["problems"] != 0
            || !["ok", "disabled", "absent"].contains(&checksum);
        if bad && run.code == Some(0) {
            failures.push(format!(
                "{ctx}: exit 0 but the report is not clean: {}",
                one_line(r)
            ));
        }
    }
}

// ===========================================================================
// Small helpers
// ===========================================================================

fn expect_code(failures: &mut Vec<String>, ctx: &str, run: &Run, want: i32) {
    if run.code != Some(want) {
        failures.push(format!("{ctx}: expected exit {want}, {}", run.describe()));
    }
}

fn expect_eq(failures: &mut Vec<String>, ctx: &str, what: &str, got: &Value, want: &str) {
    if got.as_str() != Some(want) {
        failures.push(format!("{ctx}: {what} is {got}, expected {want:?}"));
    }
}

fn one_line(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 600 {
        format!("{}...", &s[..s.floor_char_boundary_compat(600)])
    } else {
        s
    }
}

/// `str::floor_char_boundary` is not stable on the minimum toolchain.
trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn report(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
