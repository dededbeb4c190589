//! A manifest with 100,000 entries (every file there) is checked in under
//! 32 MB of peak resident memory: the report goes out file by file and the
//! manifest's entries become the parts without copies. It once took 162 MB
//! (about 1.6 KB per entry). Peak RSS from `wait4`'s rusage.

use std::process::{Command, Stdio};

const ENTRIES: usize = 100_000;
/// 32 MB (10^6 bytes each) in KiB.
const LIMIT_KB: i64 = 31_250;

/// Runs `rdbscope args` in `cwd`, output discarded; (exit code, peak RSS
/// in KiB).
fn peak(cwd: &std::path::Path, args: &[&str]) -> (i32, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .current_dir(cwd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    rdbscope_testkit::child::wait_peak(child)
}

#[test]
fn a_manifest_of_100000_files_is_checked_in_bounded_memory() {
    let tmp = rdbscope_testkit::TempDir::new("manifest-memory");
    let dir = tmp.path.join("appendonlydir");
    std::fs::create_dir(&dir).unwrap();
    let mut manifest = String::from("file appendonly.aof.1.base.aof seq 1 type b\n");
    std::fs::write(
        dir.join("appendonly.aof.1.base.aof"),
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n",
    )
    .unwrap();
    for i in 1..ENTRIES {
        let name = format!("appendonly.aof.{i}.incr.aof");
        manifest.push_str(&format!("file {name} seq {i} type i\n"));
        std::fs::File::create(dir.join(&name)).unwrap();
    }
    std::fs::write(dir.join("appendonly.aof.manifest"), manifest).unwrap();
    // As a user runs it, from the directory that holds it. Each file's
    // path is kept once (for messages and to open it), so a longer
    // directory name costs its length per file: shown, not limited.
    for args in [
        vec!["check", "appendonlydir"],
        vec!["check", "--format", "json", "appendonlydir"],
    ] {
        let (code, kb) = peak(&tmp.path, &args);
        assert_eq!(code, 0, "{args:?}");
        eprintln!("{args:?}: peak RSS {kb} KiB for {ENTRIES} manifest entries");
        assert!(kb < LIMIT_KB, "{args:?}: peak RSS {kb} KiB");
    }
    let d = dir.to_str().unwrap();
    let (code, kb) = peak(&tmp.path, &["check", d]);
    assert_eq!(code, 0);
    eprintln!(
        "check {d} ({} bytes of path per file): peak RSS {kb} KiB",
        d.len() + 30
    );
    // The report still names every file, and the totals count them.
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["check", "--format", "json", d])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), ENTRIES);
    assert_eq!(v["verdict"], "ok");
}
