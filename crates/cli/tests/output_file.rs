//! `-o/--output`: never over an input (by path, symlink, hard link, inside
//! an input directory, or standard input's file), an existing file only
//! with `--force`, written whole or not at all: a failed run and a run
//! killed by SIGINT or SIGTERM leave neither the target nor a temporary
//! file behind.

#![cfg(unix)]

use rdbscope_testkit::{corpus, TempDir};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rdbscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

/// A path as an argument (the temporary directories are UTF-8).
fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn no_temp_files(dir: &Path) {
    let temps: Vec<String> = names(dir)
        .into_iter()
        .filter(|n| n.contains(".rdbscope-tmp-"))
        .collect();
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
}

struct Fixture {
    tmp: TempDir,
    rdb: PathBuf,
    original: Vec<u8>,
    aof_dir: PathBuf,
}

fn fixture(test: &str) -> Option<Fixture> {
    let dir = corpus(test)?;
    let tmp = TempDir::new(test);
    let rdb = tmp.path.join("dump.rdb");
    let original = fs::read(dir.join("rdb/redis-7.2.6/all-types.rdb")).unwrap();
    fs::write(&rdb, &original).unwrap();
    let aof_dir = tmp.path.join("appendonlydir");
    fs::create_dir(&aof_dir).unwrap();
    let src = dir.join("aof/redis-7.4.1/preamble-yes-rewritten/appendonlydir");
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), aof_dir.join(e.file_name())).unwrap();
    }
    Some(Fixture {
        tmp,
        rdb,
        original,
        aof_dir,
    })
}

#[test]
fn refuses_to_write_over_an_input() {
    let Some(f) = fixture("refuses_to_write_over_an_input") else {
        return;
    };
    let dir = &f.tmp.path;
    let symlink = dir.join("link.rdb");
    std::os::unix::fs::symlink(&f.rdb, &symlink).unwrap();
    let hardlink = dir.join("hard.rdb");
    fs::hard_link(&f.rdb, &hardlink).unwrap();
    let dotted = dir.join("sub/../dump.rdb");
    fs::create_dir(dir.join("sub")).unwrap();
    let manifest = f.aof_dir.join("appendonly.aof.manifest");
    let base = f.aof_dir.join("appendonly.aof.2.base.rdb");
    let (rdb, aof) = (s(&f.rdb), s(&f.aof_dir));
    let new_in_aof = f.aof_dir.join("new.jsonl");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("same path", vec!["dump", rdb, "-o", rdb]),
        (
            "same path, --force",
            vec!["dump", rdb, "-o", rdb, "--force"],
        ),
        ("symlink", vec!["dump", rdb, "-o", s(&symlink), "--force"]),
        (
            "hard link",
            vec!["dump", rdb, "-o", s(&hardlink), "--force"],
        ),
        (
            "dotted path",
            vec!["dump", rdb, "-o", s(&dotted), "--force"],
        ),
        ("info", vec!["info", rdb, "-o", rdb, "--force"]),
        (
            "check, 2nd input",
            vec!["check", s(&base), rdb, "-o", s(&hardlink), "--force"],
        ),
        (
            "inside an appendonlydir",
            vec!["dump", aof, "-o", s(&new_in_aof)],
        ),
        (
            "check, a file a manifest lists",
            vec!["check", s(&manifest), "-o", s(&base), "--force"],
        ),
        (
            "a file a manifest lists",
            vec!["dump", s(&manifest), "-o", s(&base), "--force"],
        ),
    ];
    for (name, args) in cases {
        let before = names(dir);
        let out = rdbscope(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("refusing to write"), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(
            fs::read(&f.rdb).unwrap(),
            f.original,
            "{name}: input changed"
        );
        assert_eq!(names(dir), before, "{name}");
        no_temp_files(&f.aof_dir);
    }

    // Standard input's file, when it is one.
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["dump", "-", "-o", s(&hardlink), "--force"])
        .stdin(fs::File::open(&f.rdb).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "stdin's file");
    assert_eq!(fs::read(&f.rdb).unwrap(), f.original);
}

#[test]
fn existing_files_need_force_and_outputs_appear_whole() {
    let Some(f) = fixture("existing_files_need_force_and_outputs_appear_whole") else {
        return;
    };
    let dir = &f.tmp.path;
    let rdb = s(&f.rdb);
    let want = rdbscope(&["dump", rdb]).stdout;
    assert!(want.len() > 100_000);

    let target = dir.join("out.jsonl");
    fs::write(&target, b"precious").unwrap();
    let out = rdbscope(&["dump", rdb, "-o", s(&target)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(fs::read(&target).unwrap(), b"precious");

    let out = rdbscope(&["dump", rdb, "-o", s(&target), "--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read(&target).unwrap(), want);
    no_temp_files(dir);

    // A new file, a relative path, each command; `-` is standard output.
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .current_dir(dir)
        .args(["dump", "dump.rdb", "-o", "new.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(fs::read(dir.join("new.jsonl")).unwrap(), want);
    let out = rdbscope(&["dump", rdb, "-o", "-"]);
    assert_eq!(out.stdout, want);
    for cmd in ["info", "check"] {
        let stdout = rdbscope(&[cmd, rdb]).stdout;
        let target = dir.join(format!("{cmd}.txt"));
        let out = rdbscope(&[cmd, rdb, "-o", s(&target)]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            String::from_utf8(stdout).unwrap()
        );
    }
    let aof_out = dir.join("aof.jsonl");
    let out = rdbscope(&["dump", s(&f.aof_dir), "-o", s(&aof_out)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        fs::read(&aof_out).unwrap(),
        rdbscope(&["dump", s(&f.aof_dir)]).stdout
    );
    no_temp_files(dir);

    // A corrupt input: dump fails, and neither the old file is touched nor
    // a partial one written.
    let bad = dir.join("bad.rdb");
    let mut bytes = f.original.clone();
    bytes.truncate(bytes.len() * 2 / 3);
    fs::write(&bad, &bytes).unwrap();
    let out = rdbscope(&["dump", s(&bad), "-o", s(&target), "--force"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read(&target).unwrap(), want);
    let fresh = dir.join("fresh.jsonl");
    let out = rdbscope(&["dump", s(&bad), "-o", s(&fresh), "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!fresh.exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("note:"), "--quiet: {stderr}");
    // check keeps a report of problems: it is the whole report.
    let report = dir.join("report.txt");
    let out = rdbscope(&["check", s(&bad), "-o", s(&report)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(fs::read_to_string(&report)
        .unwrap()
        .contains("RDB ERROR DETECTED"));
    no_temp_files(dir);
}

/// Starts `dump - -o out.jsonl`, feeds it part of an RDB through a pipe
/// and keeps the pipe open, waits for the temporary file, and sends
/// `signal`: the process dies of it and leaves no file.
fn interrupted(test: &str, signal: &str, code: i32) {
    let Some(f) = fixture(test) else { return };
    let dir = f.tmp.path.join("out");
    fs::create_dir(&dir).unwrap();
    let target = dir.join("out.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["dump", "-", "-o", s(&target)])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&f.original[..f.original.len() / 2])
        .unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    while names(&dir).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no temporary file appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        names(&dir)[0].starts_with(".out.jsonl.rdbscope-tmp-"),
        "{:?}",
        names(&dir)
    );
    // Give the handler thread time to be in place (it is installed before
    // the output is opened, so this is only belt and braces).
    std::thread::sleep(Duration::from_millis(50));
    let kill = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    drop(stdin);
    use std::os::unix::process::ExitStatusExt;
    // Dies of the signal itself (a shell shows 128+N), or exits 128+N.
    assert!(
        status.signal() == Some(code - 128) || status.code() == Some(code),
        "{status:?}"
    );
    assert_eq!(names(&dir), Vec::<String>::new(), "files left behind");
}

#[test]
fn sigterm_leaves_no_file() {
    interrupted("sigterm_leaves_no_file", "TERM", 143);
}

#[test]
fn sigint_leaves_no_file() {
    interrupted("sigint_leaves_no_file", "INT", 130);
}
