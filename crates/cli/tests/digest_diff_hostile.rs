//! Hostile input for `digest` and `diff`: every corpus RDB, cut short and
//! with bytes flipped (deterministic mutants), given to `digest`,
//! `digest --per-key` and `diff` against the intact file. No run panics or
//! dies by a signal; `digest` exits 0 or 1 and `diff` 0, 1 or 2, and a
//! reported problem names the input and what was wrong (an offset for a
//! decoding error). (`hostile_inputs.rs` does the same, at length, for
//! `check` and `dump`, which share the decoder.)

use rdbscope_testkit::workload::Rng;
use std::process::Command;

fn mutants(bytes: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let n = bytes.len() as u64;
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(bytes[..(9 + rng.next() % (n - 9)) as usize].to_vec());
    }
    for _ in 0..4 {
        let mut m = bytes.to_vec();
        for _ in 0..1 + rng.next() % 3 {
            let i = (9 + rng.next() % (n - 9)) as usize;
            m[i] ^= 1 << (rng.next() % 8);
        }
        out.push(m);
    }
    out
}

#[test]
fn mutated_corpus_files_give_clean_errors() {
    let Some(corpus) = rdbscope_testkit::corpus("digest/diff hostile") else {
        return;
    };
    let tmp = rdbscope_testkit::TempDir::new("digest-diff-hostile");
    let mut rng = Rng(0x6057_11E5_D16E_5700);
    let (mut runs, mut problems) = (0, 0);
    for path in rdbscope_testkit::corpus_rdbs(&corpus) {
        let bytes = std::fs::read(&path).unwrap();
        for (i, m) in mutants(&bytes, &mut rng).into_iter().enumerate() {
            let f = tmp.path.join(format!("m{i}.rdb"));
            std::fs::write(&f, &m).unwrap();
            let f = f.to_str().unwrap();
            let p = path.to_str().unwrap();
            for args in [
                vec!["digest", "-q", f],
                vec!["digest", "-q", "--per-key", "-j1", f],
                vec!["diff", "--format", "jsonl", p, f],
            ] {
                let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
                    .args(&args)
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&out.stderr);
                let code = out.status.code();
                let what = format!("{args:?} (mutant {i} of {p}): {code:?} {err}");
                assert!(!err.contains("panicked"), "{what}");
                let allowed: &[i32] = if args[0] == "diff" {
                    &[0, 1, 2]
                } else {
                    &[0, 1]
                };
                assert!(code.is_some_and(|c| allowed.contains(&c)), "{what}");
                let failed = if args[0] == "diff" {
                    code == Some(2)
                } else {
                    code == Some(1)
                };
                if failed {
                    problems += 1;
                    assert!(err.contains(f), "names the input: {what}");
                    assert!(
                        err.contains("offset")
                            || err.contains("checksum")
                            || err.contains("module value"),
                        "says where or what: {what}"
                    );
                }
                runs += 1;
            }
        }
    }
    eprintln!("digest/diff hostile: {runs} runs, {problems} reported a broken input cleanly");
    assert!(problems > runs / 4);
}
