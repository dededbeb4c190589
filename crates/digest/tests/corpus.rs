//! `DEBUG DIGEST` and `DEBUG DIGEST-VALUE` of every corpus RDB, computed
//! from the file by the writing server's rules, against what that live
//! server returned (`meta.json` `debug_digest`, the truth records'
//! `digest`), with 1 and 3 threads and small chunks.

use rdbscope_digest::{digest_rdb, hex, writer_of, Options};
use rdbscope_engine::Source;
use serde_json::Value;
use std::collections::BTreeMap;

fn key_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) => {
            rdbscope_json::read::decode_base64(o["base64"].as_str().unwrap()).unwrap()
        }
        _ => panic!("key {v}"),
    }
}

fn run(bytes: &[u8], opts: &Options, threads: usize) -> (String, Vec<u8>) {
    let engine = rdbscope_engine::Options {
        threads,
        chunk_size: if threads > 1 { 4096 } else { 1 << 20 },
        ..rdbscope_engine::Options::default()
    };
    let mut lines = Vec::new();
    let (d, walked, _) = digest_rdb(
        Source::Mapped {
            bytes,
            release: None,
        },
        opts,
        &engine,
        &mut |_| {},
        &mut |l: &[u8]| {
            lines.extend_from_slice(l);
            Ok(())
        },
    );
    assert!(walked.error.is_none(), "{:?}", walked.error);
    assert_eq!(d.error, None);
    (hex(&d.dataset.digest()), lines)
}

#[test]
fn every_corpus_rdb_digest_matches_its_server() {
    let Some(corpus) = rdbscope_testkit::corpus("digest corpus") else {
        return;
    };
    let (mut files, mut keys) = (0, 0);
    for path in rdbscope_testkit::corpus_rdbs(&corpus) {
        let meta: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.meta.json", path.display())).unwrap(),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (server, _) = writer_of(&bytes).unwrap();
        let opts = Options {
            rules: server.rules(),
            per_key: false,
            as_loaded: None,
            max_decompressed: 1 << 32,
        };
        let want = meta["debug_digest"].as_str().unwrap();
        for threads in [1, 3] {
            let (got, _) = run(&bytes, &opts, threads);
            assert_eq!(
                got,
                want,
                "{} ({server}, {threads} threads)",
                path.display()
            );
        }
        files += 1;

        // Per key, against DEBUG DIGEST-VALUE (null before 4.0).
        let truth = std::fs::read_to_string(format!("{}.truth.jsonl", path.display())).unwrap();
        let mut want = BTreeMap::new();
        for line in truth.lines() {
            let t: Value = serde_json::from_str(line).unwrap();
            if let Some(d) = t["digest"].as_str() {
                want.insert(
                    (t["db"].as_u64().unwrap(), key_bytes(&t["key"])),
                    d.to_string(),
                );
            }
        }
        if want.is_empty() {
            continue;
        }
        let per_key = Options {
            per_key: true,
            ..opts
        };
        let (_, lines) = run(&bytes, &per_key, 3);
        let mut got = BTreeMap::new();
        for line in std::str::from_utf8(&lines).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            got.insert(
                (v["db"].as_u64().unwrap(), key_bytes(&v["key"])),
                v["digest"].as_str().unwrap().to_string(),
            );
        }
        assert_eq!(got.len(), want.len(), "{}", path.display());
        for (k, d) in &want {
            assert_eq!(got.get(k), Some(d), "{} key {:?}", path.display(), k);
        }
        keys += want.len();
    }
    assert!(files >= 50, "only {files} corpus RDBs");
    eprintln!("digest: {files} corpus RDBs, {keys} keys match their servers");
}
