//! RDB -> JSON -> RDB -> JSON gives identical JSON for every corpus RDB:
//! `dump` of the file, `convert` of that dump back to an RDB of the file's
//! own version with the writing server's settings (its `meta.json`
//! config), and `dump` of the result, byte for byte (every record: header,
//! aux fields, database selection and sizing hints, functions, keys with
//! their encodings, expires and values in stored order, and the checksum
//! verdict). A JSON dump with an error at a known line is refused with
//! that line, column and key, and nothing is written.

use std::process::Command;

fn rdbscope(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .unwrap()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn rdb_json_rdb_json_is_identical_for_every_corpus_file() {
    let Some(corpus) = rdbscope_testkit::corpus("convert roundtrip") else {
        return;
    };
    let tmp = rdbscope_testkit::TempDir::new("convert-roundtrip");
    let mut n = 0;
    for src in rdbscope_testkit::corpus_rdbs(&corpus) {
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.meta.json", src.display())).unwrap(),
        )
        .unwrap();
        let head = std::fs::read(&src).unwrap();
        let version = if head.starts_with(b"VALKEY") {
            s("80")
        } else {
            String::from_utf8_lossy(&head[5..9])
                .trim_start_matches('0')
                .to_string()
        };
        let j1 = tmp.path.join("1.jsonl");
        let r2 = tmp.path.join("2.rdb");
        let j2 = tmp.path.join("2.jsonl");
        let (j1s, r2s, j2s) = (
            j1.display().to_string(),
            r2.display().to_string(),
            j2.display().to_string(),
        );
        let o = rdbscope(&[
            s("dump"),
            src.display().to_string(),
            s("-o"),
            j1s.clone(),
            s("--force"),
        ]);
        assert!(o.status.success());
        let mut args = vec![
            s("convert"),
            s("-q"),
            s("--force"),
            j1s.clone(),
            r2s.clone(),
            s("--rdb-version"),
            version,
        ];
        for (k, v) in meta["config"].as_object().unwrap() {
            let relevant = k.contains("-max-ziplist-")
                || k.contains("-max-listpack-")
                || k.contains("-max-intset-")
                || k.starts_with("stream-node-max-")
                || k == "rdbcompression"
                || k == "rdbchecksum";
            if relevant {
                args.push(format!("--config={k}={}", v.as_str().unwrap()));
            }
        }
        // The corpus generator's DEBUG QUICKLIST-PACKED-THRESHOLD (README).
        args.push(s("--config=quicklist-packed-threshold=4096"));
        let o = rdbscope(&args);
        assert!(
            o.status.success(),
            "{}: {}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        // One thread, and two threads with the JSON cut into batches of a
        // few records: the same file, byte for byte.
        let written = std::fs::read(&r2).unwrap();
        for (jobs, batch) in [("-j1", None), ("-j2", Some("300"))] {
            let r3 = tmp.path.join("3.rdb");
            let mut again = args.clone();
            again[4] = r3.display().to_string();
            again.push(s(jobs));
            let mut c = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
            c.args(&again);
            if let Some(b) = batch {
                c.env("RDBSCOPE_TEST_CHUNK_SIZE", b);
            }
            let o = c.output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(
                std::fs::read(&r3).unwrap() == written,
                "{}: {jobs} {batch:?} writes another file",
                src.display()
            );
        }
        let o = rdbscope(&[s("dump"), r2s, s("-o"), j2s, s("--force")]);
        assert!(o.status.success());
        let (a, b) = (
            std::fs::read_to_string(&j1).unwrap(),
            std::fs::read_to_string(&j2).unwrap(),
        );
        if a != b {
            let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            panic!(
                "{}: JSON differs after the round trip: {first:?}",
                src.display()
            );
        }
        n += 1;
    }
    assert!(n >= 50);
    eprintln!("convert roundtrip: {n} corpus files, identical JSON");
}

#[test]
fn a_json_error_names_line_column_and_key() {
    let tmp = rdbscope_testkit::TempDir::new("convert-json-error");
    let input = tmp.path.join("bad.jsonl");
    std::fs::write(
        &input,
        "{\"db\":0,\"key\":\"ok\",\"type\":\"string\",\"encoding\":\"raw\",\"expire_at_ms\":null,\"value\":\"v\"}\n\
         {\"db\":0,\"key\":\"broken\",\"type\":\"list\",\"encoding\":\"quicklist\",\"expire_at_ms\":null,\"value\":[\"a\",7]}\n",
    )
    .unwrap();
    let out = tmp.path.join("out.rdb");
    let o = rdbscope(&[
        s("convert"),
        input.display().to_string(),
        out.display().to_string(),
        s("--target"),
        s("redis-7.0"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 2") && err.contains("column") && err.contains("broken"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");

    // The same far into the input, read in many small batches on two
    // threads: the error is still the first one, with its own line.
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "{{\"db\":0,\"key\":\"k{i}\",\"type\":\"string\",\"encoding\":\"raw\",\"expire_at_ms\":null,\"value\":\"v\"}}\n"
        ));
        if i == 1500 {
            text.push_str("{\"db\":0,\"key\":\"late\",\"type\":\"set\",\"encoding\":\"hashtable\",\"expire_at_ms\":null,\"value\":[1]}\n");
        }
    }
    std::fs::write(&input, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["convert", "-j2", "--target", "redis-7.0"])
        .arg(&input)
        .arg(&out)
        .env("RDBSCOPE_TEST_CHUNK_SIZE", "500")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 1502,") && err.contains("record 1502") && err.contains("late"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}
