//! The registry of temporary files that a signal handler empties (its own
//! test binary: the cleanup removes every temporary output of the process).

use rdbscope_select::output::remove_temp_files;
use rdbscope_select::{Output, OutputArgs};
use rdbscope_testkit::TempDir;
use std::fs;
use std::path::Path;

fn args(path: &Path) -> OutputArgs {
    OutputArgs {
        output: Some(path.to_path_buf()),
        ..OutputArgs::default()
    }
}

fn names(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn signal_cleanup_empties_the_registry() {
    let tmp = TempDir::new("select-output-registry");
    let a = Output::open(&args(&tmp.path.join("a")), &[]).unwrap();
    let b = Output::open(&args(&tmp.path.join("b")), &[]).unwrap();
    assert_eq!(names(&tmp.path).len(), 2);
    let held = remove_temp_files();
    assert!(held.is_empty());
    drop(held);
    assert!(names(&tmp.path).is_empty());
    // After the cleanup, finishing fails rather than creating anything.
    assert!(a.finish().is_err());
    drop(b);
    assert!(names(&tmp.path).is_empty());
}
