//! `--max-value-size` is a property of the reader: `dump` refuses exactly
//! what `check` refuses. (Before, `dump --max-value-size 100` printed a
//! 793-byte LZF string that `check` with the same limit reported.)
//!
//! For every corpus RDB and a few limits: `check --format json` finds a
//! size-limit problem exactly when `dump` fails, and `dump`'s error names
//! the offset of check's first problem.

use std::process::Command;

fn rdbscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

#[test]
fn dump_and_check_refuse_the_same_values() {
    let Some(corpus) = rdbscope_testkit::corpus("dump_and_check_refuse_the_same_values") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(corpus.join("rdb"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdb"))
        .collect();
    files.sort();
    let (mut refused, mut passed) = (0, 0);
    for file in &files {
        let path = file.to_str().unwrap();
        let plain: serde_json::Value =
            serde_json::from_slice(&rdbscope(&["check", "--format", "json", path]).stdout).unwrap();
        if plain["verdict"] != "ok" {
            continue; // files broken on purpose say nothing about limits
        }
        for limit in ["100", "1000", "8K"] {
            let check = rdbscope(&["check", "--max-value-size", limit, "--format", "json", path]);
            let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
            let dump = rdbscope(&["dump", "--max-value-size", limit, path]);
            let what = format!("{path} --max-value-size {limit}");
            if report["verdict"] == "ok" {
                assert!(dump.status.success(), "{what}: check passed, dump failed");
                passed += 1;
                continue;
            }
            refused += 1;
            let first = &report["error"];
            assert_eq!(first["rule"], "size-limit", "{what}: {first}");
            assert_eq!(
                dump.status.code(),
                Some(1),
                "{what}: check refused, dump did not"
            );
            let stderr = String::from_utf8_lossy(&dump.stderr);
            let offset = format!("offset {} ", first["offset"]);
            assert!(
                stderr.contains(&offset) && stderr.contains("limit exceeded"),
                "{what}: check's first problem is at {offset}, dump said: {stderr}"
            );
        }
    }
    // The limits must have bitten somewhere, and not everywhere.
    assert!(
        refused > 50 && passed > 50,
        "refused {refused}, passed {passed}"
    );
}
