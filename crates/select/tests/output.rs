//! `Output`: the temporary file beside the target, rename on `finish`,
//! removal on drop, and the refusals (an input, by any name; an existing file without `--force`).

use rdbscope_select::{Output, OutputArgs, OutputError};
use rdbscope_testkit::TempDir;
use std::fs;
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

fn args(path: &Path, force: bool) -> OutputArgs {
    OutputArgs {
        output: Some(path.to_path_buf()),
        force,
        quiet: false,
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn finish_renames_and_drop_removes() {
    let tmp = TempDir::new("select-output-finish");
    let target = tmp.path.join("out.jsonl");
    let mut out = Output::open(&args(&target, false), &[]).unwrap();
    assert!(out.is_file());
    out.write_all(b"hello\n").unwrap();
    let temp = names(&tmp.path);
    assert_eq!(temp.len(), 1);
    let want = format!(".out.jsonl.rdbscope-tmp-{}-", std::process::id());
    assert!(temp[0].starts_with(&want), "{temp:?}");
    assert!(!target.exists(), "nothing at the target before finish");
    out.finish().unwrap();
    assert_eq!(names(&tmp.path), ["out.jsonl"]);
    assert_eq!(fs::read(&target).unwrap(), b"hello\n");

    // Unfinished: the temporary file goes, the old file stays.
    let mut out = Output::open(&args(&target, true), &[]).unwrap();
    out.write_all(&vec![b'x'; 1 << 20]).unwrap();
    assert_eq!(names(&tmp.path).len(), 2);
    drop(out);
    assert_eq!(names(&tmp.path), ["out.jsonl"]);
    assert_eq!(fs::read(&target).unwrap(), b"hello\n");
}

#[test]
fn stdout_forms() {
    for a in [
        OutputArgs::default(),
        OutputArgs {
            output: Some(PathBuf::from("-")),
            ..OutputArgs::default()
        },
    ] {
        let out = Output::open(&a, &[Path::new("-")]).unwrap();
        assert!(!out.is_file());
    }
}

#[test]
fn refusals() {
    let tmp = TempDir::new("select-output-refusals");
    let dir = &tmp.path;
    let input = dir.join("in.rdb");
    fs::write(&input, b"REDIS0011").unwrap();
    fs::hard_link(&input, dir.join("hard")).unwrap();
    std::os::unix::fs::symlink(&input, dir.join("soft")).unwrap();
    fs::create_dir(dir.join("aofdir")).unwrap();
    fs::write(dir.join("other"), b"x").unwrap();
    let inputs = [input.as_path(), &dir.join("aofdir")];
    let is_input = |target: PathBuf, force: bool| {
        matches!(
            Output::open(&args(&target, force), &inputs),
            Err(OutputError::IsInput { .. })
        )
    };
    assert!(is_input(input.clone(), true));
    assert!(is_input(dir.join("hard"), true));
    assert!(is_input(dir.join("soft"), true));
    assert!(is_input(dir.join("aofdir/../in.rdb"), false));
    assert!(is_input(dir.join("aofdir/new"), false));
    assert!(is_input(dir.join("aofdir"), true));
    assert!(matches!(
        Output::open(&args(&dir.join("other"), false), &inputs),
        Err(OutputError::Exists(_))
    ));
    let ok = Output::open(&args(&dir.join("other"), true), &inputs).unwrap();
    // Inputs learnt later (the files a manifest lists).
    assert!(ok.check_inputs(&[&input]).is_ok());
    assert!(ok.check_inputs(&[&dir.join("other")]).is_err());
    assert!(ok.check_inputs(&[Path::new("/nonexistent/x")]).is_ok());
    let late = Output::open(&args(&dir.join("new"), false), &[]).unwrap();
    assert!(
        late.check_inputs(&[&dir.join("new")]).is_ok(),
        "does not exist yet"
    );
    drop((ok, late));
    assert!(!names(dir).iter().any(|n| n.contains("rdbscope-tmp")));
    // A directory that does not exist: an I/O error naming the target.
    let e = Output::open(&args(&dir.join("missing/out"), false), &[]).unwrap_err();
    assert!(matches!(e, OutputError::Io(..)), "{e}");
    assert!(e.to_string().contains("missing/out"), "{e}");
}

#[test]
fn devices_directories_and_links() {
    let tmp = TempDir::new("select-output-special");
    let dir = &tmp.path;
    // A device is written directly, without --force and without a
    // temporary file; it is still not replaced.
    let mut out = Output::open(&args(Path::new("/dev/null"), false), &[]).unwrap();
    assert!(!out.is_file());
    out.write_all(b"gone").unwrap();
    out.finish().unwrap();
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // A directory is an error at once, even with --force.
    let e = Output::open(&args(dir, true), &[]).unwrap_err();
    assert!(e.to_string().contains("directory"), "{e}");
    // Through a symbolic link the file it points to is replaced; the link
    // stays.
    fs::write(dir.join("real"), b"old").unwrap();
    std::os::unix::fs::symlink("real", dir.join("link")).unwrap();
    let mut out = Output::open(&args(&dir.join("link"), true), &[]).unwrap();
    out.write_all(b"new").unwrap();
    out.finish().unwrap();
    assert!(fs::symlink_metadata(dir.join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(dir.join("real")).unwrap(), b"new");
    assert_eq!(names(dir), ["link", "real"]);
}
