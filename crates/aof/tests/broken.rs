//! The broken AOFs of the corpus get the verdict `redis-check-aof` gave
//! them (`verdicts.json`, every checker version recorded), with the same
//! `ok_up_to` and `ok_up_to_line` where it printed them.
//!
//! `redis-check-aof` prints no verdict word, so its class is read from
//! its output: exit 0 is valid (or empty, when it says so); "Cannot open
//! file" is a missing file; a short read ("Expected to read N bytes, got
//! M"), the end inside a transaction, or a line cut by the end of the file
//! ("Expected \r\n, got: XX00": `fgets` stopped at EOF, as the pre-7.0
//! checkers report a truncated length line) is a truncation; anything else
//! that stops it is a format error.

use rdbscope_aof::check::Verdict;
use rdbscope_aof::Opened;
use serde_json::Value;
use std::path::Path;

fn class_of(exit_code: i64, output: &str) -> Verdict {
    if exit_code == 0 {
        return if output.contains(" is empty") {
            Verdict::Empty
        } else {
            Verdict::Valid
        };
    }
    if output.contains("Cannot open file") {
        return Verdict::MissingFile;
    }
    let eof_line = output
        .lines()
        .any(|l| l.contains("Expected \\r\\n, got: ") && l.ends_with("00"));
    if output.contains("Expected to read")
        || output.contains("Reached EOF before reading EXEC")
        || eof_line
    {
        return Verdict::Truncated;
    }
    Verdict::FormatError
}

/// `ok_up_to=N` and `ok_up_to_line=N` of the last `AOF analyzed` line.
fn ok_up_to(output: &str) -> (Option<u64>, Option<u64>) {
    let Some(line) = output
        .lines()
        .rev()
        .find(|l| l.starts_with("AOF analyzed:"))
    else {
        return (None, None);
    };
    let field = |name: &str| {
        line.split([' ', ','])
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
    };
    (field("ok_up_to="), field("ok_up_to_line="))
}

fn check_dir(dir: &Path) -> usize {
    let verdicts: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("verdicts.json")).unwrap()).unwrap();
    let mut compared = 0;
    for (case, v) in verdicts.as_object().unwrap() {
        for (checker, run) in v["checkers"].as_object().unwrap() {
            let args = run["args"].as_array().unwrap();
            let arg = args.last().unwrap().as_str().unwrap();
            // The checker ran inside the case's directory (multi-part) or
            // next to the file (single-file).
            let path = if dir.join(case).is_dir() {
                dir.join(case).join(arg)
            } else {
                dir.join(arg)
            };
            let output = run["output"].as_str().unwrap();
            let want = class_of(run["exit_code"].as_i64().unwrap(), output);
            let what = format!("{case} ({checker})");
            let aof = match rdbscope_aof::open(&path) {
                Ok(Opened::Aof(aof)) => aof,
                Ok(Opened::Rdb(_)) => panic!("{what}: taken for an RDB"),
                Err(e) => panic!("{what}: {e}"),
            };
            let report =
                rdbscope_aof::check(&aof, &path.display().to_string(), &Default::default());
            assert_eq!(
                report.verdict,
                want,
                "{what}: {:?}\n{output}",
                report.first_bad()
            );
            let (up_to, line) = ok_up_to(output);
            if !want.is_ok() && want != Verdict::MissingFile {
                let f = report.first_bad().unwrap();
                if let Some(n) = up_to {
                    assert_eq!(f.ok_up_to, n, "{what}: ok_up_to\n{output}");
                }
                if let Some(n) = line {
                    assert_eq!(f.ok_up_to_line, n, "{what}: ok_up_to_line\n{output}");
                }
            }
            compared += 1;
        }
    }
    compared
}

#[test]
fn broken_aofs_get_redis_check_aofs_verdicts() {
    let Some(corpus) = rdbscope_testkit::corpus("broken_aofs_get_redis_check_aofs_verdicts") else {
        return;
    };
    let multi = check_dir(&corpus.join("broken/aof"));
    let single = check_dir(&corpus.join("broken/aof-single-file"));
    assert!(multi >= 20 && single >= 6, "compared {multi} + {single}");
}

#[test]
fn verdict_classes_read_from_checker_output() {
    assert_eq!(class_of(0, "AOF x is empty\n"), Verdict::Empty);
    assert_eq!(
        class_of(1, "0x  2a8: Expected to read 20 bytes, got 13 bytes\n"),
        Verdict::Truncated
    );
    assert_eq!(
        class_of(1, "0x 3ea2: Expected \\r\\n, got: 0d00\n"),
        Verdict::Truncated
    );
    assert_eq!(
        class_of(1, "0x 3ea2: Expected \\r\\n, got: 0d41\n"),
        Verdict::FormatError
    );
    assert_eq!(class_of(1, "AOF x format error\n"), Verdict::FormatError);
    assert_eq!(
        ok_up_to(
            "AOF analyzed: filename=a, size=718, ok_up_to=354, ok_up_to_line=2889, diff=364\n"
        ),
        (Some(354), Some(2889))
    );
    assert_eq!(
        ok_up_to("AOF analyzed: size=16053, ok_up_to=8740, diff=7313\n"),
        (Some(8740), None)
    );
}
