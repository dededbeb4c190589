//! Checking chunks on worker threads must not change any report: every
//! corpus file (valid and broken, and three corruptions of each) gives the
//! same report with 1, 2 and 7 threads, with chunks small enough that the
//! corpus's files are cut into many; and streamed, the same report as
//! mapped.

use rdbscope_check::{check, check_source, Options, Report};
use rdbscope_engine::Source;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    rdbscope_testkit::corpus("parallel")
}

fn rdb_files(dir: &Path, out: &mut Vec<PathBuf>) {
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

/// Everything a report says, as one comparable string.
fn summary(r: &Report) -> String {
    let mut text = Vec::new();
    r.write_json(&mut text).expect("write to Vec");
    String::from_utf8(text).expect("JSON is UTF-8")
}

/// A report without its `size_bytes`: a stream that breaks is not read
/// to its end, so its report counts the bytes read.
fn without_size(report: &str) -> String {
    let Some(at) = report.find("\"size_bytes\":") else {
        return report.to_string();
    };
    let rest = &report[at + 13..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    format!("{}{}", &report[..at], &rest[digits..])
}

#[test]
fn threads_do_not_change_reports() {
    let Some(dir) = corpus() else { return };
    // Streams below are read through a small window, refilled many times
    // (the only test in this file: nothing else sees the variable).
    std::env::set_var(rdbscope_engine::WINDOW_ENV, "200");
    let mut files = Vec::new();
    rdb_files(&dir, &mut files);
    files.sort();
    let mut compared = 0;
    for f in &files {
        let data = std::fs::read(f).expect("read");
        // The file, and corruptions that break values in different places
        // (so that problems are found by different threads).
        let mut variants = vec![data.clone()];
        for k in 1..4 {
            let mut m = data.clone();
            let at = data.len() * k / 4;
            if at > 9 {
                m[at] ^= 0x5a;
                variants.push(m);
            }
        }
        for v in &variants {
            let one = Options {
                now_ms: 0,
                threads: 1,
                ..Options::default()
            };
            let name = f.display().to_string();
            let want = summary(&check(v, &name, &one, |_| {}));
            for chunk_size in [257, 4096] {
                for threads in [1, 2, 7] {
                    let opts = Options {
                        threads,
                        chunk_size,
                        ..one
                    };
                    let got = summary(&check(v, &name, &opts, |_| {}));
                    assert_eq!(
                        got, want,
                        "{name}: report with {threads} threads, chunks of {chunk_size} bytes"
                    );
                }
            }
            // A stream names duplicate keys differently (it cannot read
            // them twice); every other report is the same.
            for threads in [1, 2] {
                let streamed = summary(&check_source(
                    Source::stream(std::io::Cursor::new(v.clone())),
                    &name,
                    &Options {
                        chunk_size: 1000,
                        threads,
                        ..one
                    },
                    &mut |_| {},
                ));
                if !want.contains("duplicate-key") {
                    assert_eq!(
                        without_size(&streamed),
                        without_size(&want),
                        "{name}: streamed, {threads} threads"
                    );
                }
            }
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} files compared");
}
