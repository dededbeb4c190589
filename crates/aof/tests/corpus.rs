//! Every AOF of the shared corpus (every server, every case), read through
//! and checked, and its commands held against the truth files: the state
//! a fresh server reached by replaying that AOF (corpus README).
//!
//! What the truth lets us check, per key in it:
//! * it is in its database somewhere: an argument of a command that runs
//!   in that database, or a key of the RDB base/preamble in that database
//!   (catches lost commands and wrong SELECT tracking);
//! * a string mentioned by exactly one command, a SET, has the value that
//!   SET carries; a list mentioned only by RPUSHes holds exactly their
//!   elements in order (catches wrong argument bytes or boundaries);
//! * a key no command mentions comes from the RDB part, so there must be
//!   one.

use rdbscope_aof::check::Verdict;
use rdbscope_aof::resp::Kind;
use rdbscope_aof::source::{rdb_end, starts_with_rdb_magic};
use rdbscope_aof::{Aof, Item, Opened, Reader};
use rdbscope_rdb::{Rdb, Record};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Key = (u64, Vec<u8>);

/// What one AOF holds, in load order.
#[derive(Default)]
struct Contents {
    commands: Vec<(u64, Vec<Vec<u8>>)>,
    rdb_keys: BTreeSet<Key>,
    files: usize,
}

fn read_all(aof: &Aof) -> Contents {
    let mut c = Contents::default();
    for part in aof.parts() {
        c.files += 1;
        let opened;
        let input = match aof {
            Aof::Single { input, .. } => input,
            _ => {
                opened = rdbscope_input::open_whole(&part.path).unwrap();
                &opened
            }
        };
        let bytes = input.bytes();
        let mut start = 0;
        if starts_with_rdb_magic(bytes) {
            for r in Rdb::new(bytes).unwrap().records() {
                if let Record::Key(k) = r.unwrap() {
                    c.rdb_keys.insert((k.db, k.key.to_vec().unwrap()));
                }
            }
            start = rdb_end(bytes).unwrap() as usize;
        }
        let mut n = 0;
        for item in Reader::new(bytes, start) {
            match item.unwrap_or_else(|e| panic!("{}: {e}", part.path.display())) {
                Item::Command(cmd) => {
                    n += 1;
                    let args: Vec<Vec<u8>> = cmd.args().map(<[u8]>::to_vec).collect();
                    assert_eq!(args.len(), cmd.argc);
                    assert_eq!(Kind::of(&args[0]), cmd.kind);
                    c.commands.push((cmd.db, args));
                }
                Item::Annotation(a) => assert!(a.text.starts_with(b"TS:"), "{a:?}"),
            }
        }
        // A base or incr file a server wrote has commands in it, unless it
        // is an RDB base of a server that got none after it.
        assert!(
            n > 0 || start == bytes.len(),
            "{}: no commands",
            part.path.display()
        );
    }
    c
}

fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(val(c)) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend(&bytes[1..chunk.len()]);
    }
    out
}

/// A truth `S`: a string, or `{"base64": ...}`.
fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) => b64(o["base64"].as_str().unwrap()),
        other => panic!("not a truth string: {other}"),
    }
}

/// Every `<server>/<case>` AOF and its truth file.
fn cases(corpus: &Path) -> Vec<(PathBuf, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut servers: Vec<_> = std::fs::read_dir(corpus.join("aof"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    servers.sort();
    for server in servers {
        let mut cases: Vec<_> = std::fs::read_dir(&server)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        for case in cases {
            let input = if case.join("appendonlydir").is_dir() {
                case.join("appendonlydir")
            } else {
                case.join("appendonly.aof")
            };
            let truth = case.with_extension("truth.jsonl");
            let meta = case.with_extension("meta.json");
            out.push((input, truth, meta));
        }
    }
    out
}

#[test]
fn every_corpus_aof_is_read_whole_and_matches_its_truth() {
    let Some(corpus) =
        rdbscope_testkit::corpus("every_corpus_aof_is_read_whole_and_matches_its_truth")
    else {
        return;
    };
    let cases = cases(&corpus);
    assert!(cases.len() >= 26, "only {} AOF cases found", cases.len());
    let (mut values_checked, mut rdb_checked) = (0, 0);
    let mut servers = BTreeSet::new();
    for (input, truth, meta) in &cases {
        let what = input.display().to_string();
        servers.insert(input.parent().unwrap().parent().unwrap().to_path_buf());
        let Ok(Opened::Aof(aof)) = rdbscope_aof::open(input) else {
            panic!("{what}: not taken for an AOF");
        };
        // The checker: valid, every byte of every file read.
        let opts = rdbscope_aof::Options::default();
        let report = rdbscope_aof::check(&aof, &what, &opts);
        assert_eq!(
            report.verdict,
            Verdict::Valid,
            "{what}: {:?}",
            report.first_bad()
        );
        for f in &report.files {
            assert_eq!(f.ok_up_to, f.size, "{what}: {}", f.part.name);
        }
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(meta).unwrap()).unwrap();
        if let Some(files) = meta["files"].as_object() {
            let listed = files.keys().filter(|k| !k.ends_with(".manifest")).count();
            assert_eq!(report.files.len(), listed, "{what}: files in meta");
            for f in &report.files {
                let name = f.part.path.file_name().unwrap().to_string_lossy();
                let key = files
                    .keys()
                    .find(|k| k.ends_with(&*name))
                    .unwrap_or_else(|| panic!("{what}: {name} not in meta"));
                assert_eq!(f.size, files[key]["size_bytes"].as_u64().unwrap(), "{what}");
            }
        }

        let contents = read_all(&aof);
        assert_eq!(contents.commands.len() as u64, report.commands(), "{what}");
        // Every argument after the name, per database, and how often.
        let mut mentions: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
        for (i, (db, args)) in contents.commands.iter().enumerate() {
            if matches!(Kind::of(&args[0]), Kind::Select) {
                continue;
            }
            for a in &args[1..] {
                mentions.entry((*db, a.clone())).or_default().push(i);
            }
        }
        let truth = std::fs::read_to_string(truth).unwrap();
        let mut keys = 0;
        for line in truth.lines() {
            let t: Value = serde_json::from_str(line).unwrap();
            let db = t["db"].as_u64().unwrap();
            let key = (db, bytes_of(&t["key"]));
            keys += 1;
            let shown = format!("{what}: db {db} key {:?}", String::from_utf8_lossy(&key.1));
            let Some(cmds) = mentions.get(&key) else {
                assert!(
                    contents.rdb_keys.contains(&key),
                    "{shown}: in no command of its db and not in an RDB part"
                );
                rdb_checked += 1;
                continue;
            };
            let cmds: Vec<&Vec<Vec<u8>>> = cmds.iter().map(|&i| &contents.commands[i].1).collect();
            match t["type"].as_str().unwrap() {
                "string"
                    if cmds.len() == 1
                        && cmds[0][0].eq_ignore_ascii_case(b"SET")
                        && cmds[0][1] == key.1 =>
                {
                    assert_eq!(cmds[0][2], bytes_of(&t["value"]), "{shown}");
                    values_checked += 1;
                }
                "list"
                    if !contents.rdb_keys.contains(&key)
                        && cmds
                            .iter()
                            .all(|c| c[0].eq_ignore_ascii_case(b"RPUSH") && c[1] == key.1) =>
                {
                    let got: Vec<&Vec<u8>> = cmds.iter().flat_map(|c| &c[2..]).collect();
                    let want: Vec<Vec<u8>> = t["value"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(bytes_of)
                        .collect();
                    assert_eq!(got, want.iter().collect::<Vec<_>>(), "{shown}");
                    values_checked += 1;
                }
                _ => {}
            }
        }
        assert_eq!(
            keys,
            meta["total_keys"].as_u64().unwrap(),
            "{what}: truth lines"
        );
    }
    // Every server directory of the corpus contributed cases (10 servers
    // today; the corpus grows as servers are added).
    let listed = std::fs::read_dir(corpus.join("aof"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(servers.len(), listed, "servers: {servers:?}");
    assert!(listed >= 8, "only {listed} AOF server directories");
    // The checks above must have had something to check.
    assert!(
        values_checked > 500,
        "only {values_checked} values compared"
    );
    assert!(
        rdb_checked > 500,
        "only {rdb_checked} keys found in RDB parts"
    );
}
