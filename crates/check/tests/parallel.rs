//! Checking values on worker threads must not change any report: every
//! corpus file (valid and broken, and a few corruptions of each) gives the
//! same verdict, counts and first problem with 1 thread and with several.

use rdbscope_check::{check, Options, Report};
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

#[test]
fn threads_do_not_change_reports() {
    let Some(dir) = corpus() else { return };
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
            let many = Options { threads: 3, ..one };
            let name = f.display().to_string();
            let a = summary(&check(v, &name, &one, |_| {}));
            let b = summary(&check(v, &name, &many, |_| {}));
            assert_eq!(a, b, "{name}: reports differ between 1 and 3 threads");
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} files compared");
}
