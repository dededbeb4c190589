//! Replays every fuzz target over seeds cut from the real-file corpus and
//! over every crash artifact kept under `testdata/fuzz/<target>/` (each one
//! a minimised input that once crashed, hung or misbehaved; it must now
//! return normally). CI runs this; no fuzzer needed.

use rdbscope_harness::{seeds, TARGETS};
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    rdbscope_testkit::corpus("replay")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn target(name: &str) -> fn(&[u8]) {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no target {name}"))
        .1
}

#[test]
fn crash_artifacts_are_fixed() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/fuzz"));
    let mut n = 0;
    for (name, body) in TARGETS {
        let mut files = Vec::new();
        files_under(&root.join(name), &mut files);
        files.sort();
        for f in files {
            let data = std::fs::read(&f).expect("read artifact");
            eprintln!("replaying {}", f.display());
            body(&data);
            n += 1;
        }
    }
    eprintln!("{n} crash artifacts replayed");
}

#[test]
fn corpus_seeds_and_their_truncations() {
    let Some(dir) = corpus() else { return };
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    files.sort();
    let mut per_target = std::collections::BTreeMap::<&str, usize>::new();
    for f in files {
        let data = std::fs::read(&f).expect("read corpus file");
        let file_name = f
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        for (name, seed) in seeds::from_file(&file_name, &data) {
            let body = target(name);
            body(&seed);
            // A few cuts of each seed as well: the shapes fuzzers start from.
            for cut in [seed.len() / 2, seed.len().saturating_sub(1)] {
                body(&seed[..cut]);
            }
            *per_target.entry(name).or_default() += 1;
        }
    }
    eprintln!("seeds replayed per target: {per_target:?}");
    for (name, _) in TARGETS {
        assert!(
            per_target.get(name).copied().unwrap_or(0) > 0,
            "no seed reached target {name}"
        );
    }
}
