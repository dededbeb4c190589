//! The inspection commands as a user runs them, on every corpus RDB,
//! against the files' ground truth (the live server's keys, types,
//! encodings and expires, read with ordinary commands):
//! * `stats` counts keys per database and type, expires and element
//!   totals exactly as the truth files and `meta.json` do, and names the
//!   encodings the writing server reported;
//! * `bigkeys --by elements` is exact, and always gives N rows;
//! * `prefixes` adds up to `stats` at every level and is exact;
//! * `memory` gives one row per key, and `--largest`/`--bytes` select as
//!   rdbtools does;
//! * every result is the same with one thread and with two on small
//!   chunks;
//! * completions and the man page come from the same definitions.
//!
//! Memory estimates against live servers: crates/inspect/tests/memory_live.rs.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Output};

fn rdbscope(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run rdbscope")
}

fn ok(args: &[&str]) -> Vec<u8> {
    let out = rdbscope(args, &[]);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

use rdbscope_testkit::truth::bytes as bytes_of;

/// Per db and type: keys, expires, elements, encodings.
type Facts = (u64, u64, u64, BTreeMap<String, u64>);

struct TruthKey {
    db: u64,
    key: Vec<u8>,
    ty: String,
    encoding: String,
    expires: bool,
    elements: u64,
}

fn truth(rdb: &Path) -> Vec<TruthKey> {
    let text = std::fs::read_to_string(format!("{}.truth.jsonl", rdb.display())).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let ty = v["type"].as_str().unwrap().to_string();
            let elements = match ty.as_str() {
                "string" => 1,
                "stream" => v["value"]["length"].as_u64().unwrap(),
                _ => v["value"].as_array().unwrap().len() as u64,
            };
            let mut encoding = v["encoding"].as_str().unwrap_or("").to_string();
            // A string the live server modified in place (APPEND,
            // SETRANGE) is raw there; loaded from the file, a short one is
            // embstr again.
            if ty == "string" && encoding == "raw" && bytes_of(&v["value"]).len() <= 44 {
                encoding = "embstr".into();
            }
            TruthKey {
                db: v["db"].as_u64().unwrap(),
                key: bytes_of(&v["key"]),
                encoding,
                ty,
                expires: !v["expire_at_ms"].is_null(),
                elements,
            }
        })
        .collect()
}

/// The corpus RDBs that have truth files (the module-typed third-party
/// files have none).
fn cases(corpus: &Path) -> Vec<std::path::PathBuf> {
    rdbscope_testkit::corpus_rdbs(corpus)
        .into_iter()
        .filter(|p| Path::new(&format!("{}.truth.jsonl", p.display())).exists())
        .collect()
}

#[test]
fn stats_equal_truth_and_meta() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect stats") else {
        return;
    };
    let files = cases(&corpus);
    assert!(files.len() >= 40, "{} corpus files", files.len());
    for rdb in &files {
        let f = rdb.to_str().unwrap();
        let s: Value = serde_json::from_slice(&ok(&["stats", "--format", "json", f])).unwrap();
        let keys = truth(rdb);
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{f}.meta.json")).unwrap())
                .unwrap();
        assert_eq!(s["total"]["keys"], meta["total_keys"], "{f}: total keys");
        for db in s["dbs"].as_array().unwrap() {
            let n = db["db"].as_u64().unwrap().to_string();
            assert_eq!(db["total"]["keys"], meta["keys_per_db"][&n], "{f}: db {n}");
        }
        let mut want: BTreeMap<(u64, String), Facts> = BTreeMap::new();
        for k in &keys {
            let e = want.entry((k.db, k.ty.clone())).or_default();
            e.0 += 1;
            e.1 += k.expires as u64;
            e.2 += k.elements;
            *e.3.entry(k.encoding.clone()).or_default() += 1;
        }
        let mut got = BTreeMap::new();
        for db in s["dbs"].as_array().unwrap() {
            for (ty, c) in db["types"].as_object().unwrap() {
                let encodings: BTreeMap<String, u64> = c["encodings"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(e, n)| (e.clone(), n.as_u64().unwrap()))
                    .collect();
                got.insert(
                    (db["db"].as_u64().unwrap(), ty.clone()),
                    (
                        c["keys"].as_u64().unwrap(),
                        c["expires"].as_u64().unwrap(),
                        c["elements"]["sum"].as_u64().unwrap(),
                        encodings,
                    ),
                );
            }
        }
        // `small-thresholds` was written with non-default thresholds: the
        // writer's encodings are not what a default server loads.
        if f.contains("small-thresholds") {
            for w in want.values_mut() {
                w.3.clear();
            }
            for g in got.values_mut() {
                g.3.clear();
            }
        }
        // Redis 5.0's OBJECT ENCODING says "unknown" for a stream.
        for ((_, ty), w) in want.iter_mut() {
            if ty == "stream" && w.3.contains_key("unknown") {
                w.3 = BTreeMap::from([("stream".to_string(), w.0)]);
            }
        }
        assert_eq!(
            got, want,
            "{f}: (keys, expires, elements, encodings) per db/type"
        );
        // Nothing in a freshly saved file is expired at its own ctime.
        assert_eq!(s["total"]["expired"], 0, "{f}");
    }
}

#[test]
fn bigkeys_by_elements_is_exact_and_always_n_rows() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect bigkeys") else {
        return;
    };
    for rdb in cases(&corpus) {
        let f = rdb.to_str().unwrap();
        let keys = truth(&rdb);
        for n in [1usize, 5, 20, 1000] {
            let out: Value = serde_json::from_slice(&ok(&[
                "bigkeys",
                "--by",
                "elements",
                "--top",
                &n.to_string(),
                "--format",
                "json",
                f,
            ]))
            .unwrap();
            let list = out["lists"][0]["keys"].as_array().unwrap();
            assert_eq!(list.len(), n.min(keys.len()), "{f}: --top {n}");
            let mut want: Vec<u64> = keys.iter().map(|k| k.elements).collect();
            want.sort_unstable_by(|a, b| b.cmp(a));
            want.truncate(n);
            let got: Vec<u64> = list
                .iter()
                .map(|e| e["elements"].as_u64().unwrap())
                .collect();
            assert_eq!(got, want, "{f}: --top {n} element counts");
            // Each listed key really has that many elements.
            for e in list {
                let key = bytes_of(&e["key"]);
                let db = e["db"].as_u64().unwrap();
                let t = keys.iter().find(|k| k.key == key && k.db == db).unwrap();
                assert_eq!(t.elements, e["elements"].as_u64().unwrap(), "{f}");
            }
        }
    }
}

#[test]
fn prefixes_add_up_to_stats_and_are_exact() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect prefixes") else {
        return;
    };
    for rdb in cases(&corpus) {
        let f = rdb.to_str().unwrap();
        let keys = truth(&rdb);
        let s: Value = serde_json::from_slice(&ok(&["stats", "--format", "json", f])).unwrap();
        let p: Value =
            serde_json::from_slice(&ok(&["prefixes", "--depth", "3", "--format", "json", f]))
                .unwrap();
        assert_eq!(p["keys"], s["total"]["keys"], "{f}");
        assert_eq!(p["memory"], s["total"]["memory"], "{f}");
        for level in p["levels"].as_array().unwrap() {
            let d = level["level"].as_u64().unwrap() as usize;
            assert_eq!(level["exact"], true, "{f}");
            let rows = level["prefixes"].as_array().unwrap();
            let keys_sum: u64 = rows.iter().map(|r| r["keys"].as_u64().unwrap()).sum();
            let mem_sum: u64 = rows.iter().map(|r| r["memory"].as_u64().unwrap()).sum();
            assert_eq!(
                keys_sum,
                s["total"]["keys"].as_u64().unwrap(),
                "{f} level {d}"
            );
            assert_eq!(
                mem_sum,
                s["total"]["memory"].as_u64().unwrap(),
                "{f} level {d}"
            );
            // Exact: the key count of each prefix, from the truth's keys.
            let mut want: HashMap<Vec<u8>, u64> = HashMap::new();
            for k in &keys {
                let mut end = 0;
                let mut seen = 0;
                for (i, &b) in k.key.iter().enumerate() {
                    if b == b':' && seen < d {
                        seen += 1;
                        end = i + 1;
                    }
                }
                *want.entry(k.key[..end].to_vec()).or_default() += 1;
            }
            let got: HashMap<Vec<u8>, u64> = rows
                .iter()
                .map(|r| (bytes_of(&r["prefix"]), r["keys"].as_u64().unwrap()))
                .collect();
            assert_eq!(got, want, "{f} level {d}");
        }
    }
}

#[test]
fn memory_rows_and_rdbtools_selections() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect memory") else {
        return;
    };
    let rdb = corpus.join("rdb/redis-7.0.15-debian/all-types.rdb");
    let f = rdb.to_str().unwrap();
    let keys = truth(&rdb);
    let csv = String::from_utf8_lossy(&ok(&["memory", f])).into_owned();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry,db_key_overhead,idle,freq"
    );
    let jsonl = ok(&["memory", "--format", "jsonl", f]);
    let rows: Vec<Value> = jsonl
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(rows.len(), keys.len());
    let mut sizes: Vec<u64> = Vec::new();
    for r in &rows {
        let key = bytes_of(&r["key"]);
        let db = r["database"].as_u64().unwrap();
        let t = keys
            .iter()
            .find(|k| k.key == key && k.db == db)
            .expect("key in truth");
        assert_eq!(r["type"], t.ty.as_str());
        assert_eq!(r["num_elements"].as_u64().unwrap(), t.elements);
        assert_eq!(r["expiry"].is_null(), !t.expires);
        assert!(r["size_in_bytes"].as_u64().unwrap() > r["db_key_overhead"].as_u64().unwrap());
        sizes.push(r["size_in_bytes"].as_u64().unwrap());
    }
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    // --largest N: the N biggest, biggest first.
    let top = ok(&["memory", "--largest", "7", "--format", "jsonl", f]);
    let top: Vec<u64> = top
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_slice::<Value>(l).unwrap()["size_in_bytes"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(top, sizes[..7]);
    // --bytes N: every key with at least N bytes.
    let cut = sizes[10];
    let big = ok(&[
        "memory",
        "--bytes",
        &cut.to_string(),
        "--format",
        "jsonl",
        f,
    ]);
    let n = big.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
    assert_eq!(n, sizes.iter().filter(|&&s| s >= cut).count());
    // CSV holds the same keys, binary ones byte for byte.
    assert!(csv.lines().count() > keys.len());
}

#[test]
fn same_results_with_any_threads() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect threads") else {
        return;
    };
    for rdb in cases(&corpus) {
        let f = rdb.to_str().unwrap();
        for args in [
            &["stats", "--format", "json"][..],
            &["bigkeys", "--per-type", "--top", "3", "--format", "json"],
            &["prefixes", "--format", "json"],
            &["memory"],
        ] {
            let run = |j: &str, chunk: &str| {
                let mut a: Vec<&str> = args.to_vec();
                a.extend(["-j", j, f]);
                let out = rdbscope(&a, &[("RDBSCOPE_TEST_CHUNK_SIZE", chunk)]);
                assert!(out.status.success(), "{a:?}");
                out.stdout
            };
            assert_eq!(run("1", "1048576"), run("2", "997"), "{f} {args:?}");
        }
    }
}

#[test]
fn refusals_and_generated_docs() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect refusals") else {
        return;
    };
    let aof = corpus.join("aof/redis-7.0.15-debian/no-rewrite/appendonlydir");
    let out = rdbscope(&["stats", aof.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rdbscope convert"));
    let out = rdbscope(&["prefixes", "--separator", "", "x.rdb"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let bash = String::from_utf8(ok(&["completions", "bash"])).unwrap();
    for cmd in ["memory", "stats", "bigkeys", "prefixes", "report", "export"] {
        assert!(bash.contains(cmd), "bash completion lacks {cmd}");
    }
    assert!(String::from_utf8(ok(&["completions", "zsh"]))
        .unwrap()
        .contains("#compdef rdbscope"));
    assert!(String::from_utf8(ok(&["completions", "fish"]))
        .unwrap()
        .contains("complete -c rdbscope"));
    let man = String::from_utf8(ok(&["man"])).unwrap();
    assert!(
        man.contains(".TH rdbscope"),
        "{}",
        &man[..200.min(man.len())]
    );
    let dir = rdbscope_testkit::TempDir::new("man pages");
    ok(&["man", "--dir", dir.path.to_str().unwrap()]);
    let page = std::fs::read_to_string(dir.path.join("rdbscope-memory.1")).unwrap();
    assert!(
        page.contains("size_in_bytes"),
        "memory page documents its columns"
    );
}

/// `export` of several corpus files into one Parquet file, read by DuckDB
/// (from the oracle virtualenv): row count, per-source and per-type counts
/// and memory sums equal `stats` of each file.
#[test]
fn export_read_by_duckdb_equals_stats() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect export") else {
        return;
    };
    let py = rdbscope_testkit::oracle::oracle_dir().join("venv/bin/python");
    let has_duckdb = Command::new(&py)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_duckdb {
        assert!(
            std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
            "REQUIRE_REDIS=1 but {} cannot import duckdb (run scripts/oracles.sh)",
            py.display()
        );
        rdbscope_testkit::skipped("inspect export: no duckdb (run scripts/oracles.sh)");
        return;
    }
    let files: Vec<String> = cases(&corpus)
        .into_iter()
        .filter(|p| {
            p.to_str().unwrap().contains("all-types.rdb")
                || p.to_str().unwrap().contains("thresholds")
        })
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    assert!(files.len() >= 15);
    let dir = rdbscope_testkit::TempDir::new("inspect export");
    let out = dir.path.join("keys.parquet");
    let mut args = vec!["export", "-q", "-o", out.to_str().unwrap()];
    args.extend(files.iter().map(|s| s.as_str()));
    ok(&args);
    let q = Command::new(&py)
        .args([
            "-c",
            "import duckdb, json, sys\n\
             rows = duckdb.sql(f\"select source, type, count(*), sum(memory), sum(elements), \
             count(expire_at) from '{sys.argv[1]}' group by all\").fetchall()\n\
             print(json.dumps([[str(c) for c in r] for r in rows]))",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    let got: Vec<Vec<String>> = serde_json::from_slice(&q.stdout).unwrap();
    let got: BTreeMap<(String, String), Vec<String>> = got
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2..].to_vec()))
        .collect();
    let mut want = BTreeMap::new();
    for f in &files {
        let s: Value = serde_json::from_slice(&ok(&["stats", "--format", "json", f])).unwrap();
        for (ty, c) in s["types"].as_object().unwrap() {
            want.insert(
                (f.clone(), ty.clone()),
                vec![
                    c["keys"].to_string(),
                    c["memory"].to_string(),
                    c["elements"]["sum"].to_string(),
                    c["expires"].to_string(),
                ],
            );
        }
    }
    assert_eq!(got, want);
}

/// The shared key filters on the inspection commands, and `--size-by
/// memory` moving the size filters onto the estimate.
#[test]
fn filters_and_size_by_memory() {
    let Some(corpus) = rdbscope_testkit::corpus("inspect filters") else {
        return;
    };
    let rdb = corpus.join("rdb/redis-7.0.15-debian/all-types.rdb");
    let f = rdb.to_str().unwrap();
    let rows = |args: &[&str]| -> Vec<Value> {
        let mut a = vec!["memory", "--format", "jsonl"];
        a.extend_from_slice(args);
        a.push(f);
        ok(&a)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    };
    let all = rows(&[]);
    let big = rows(&["--size-by", "memory", "--min-size", "1K"]);
    assert_eq!(
        big.len(),
        all.iter()
            .filter(|r| r["size_in_bytes"].as_u64().unwrap() >= 1024)
            .count()
    );
    assert!(!big.is_empty() && big.len() < all.len());
    let hashes = rows(&["--type", "hash", "--db", "0"]);
    assert!(hashes
        .iter()
        .all(|r| r["type"] == "hash" && r["database"] == 0));
    assert_eq!(
        hashes.len(),
        all.iter()
            .filter(|r| r["type"] == "hash" && r["database"] == 0)
            .count()
    );
    let users = rows(&["--key-regex", "^s:int", "--not-key", "*neg*"]);
    assert!(users.iter().all(|r| {
        let k = r["key"].as_str().unwrap();
        k.starts_with("s:int") && !k.contains("neg")
    }));
    // The same filters on stats.
    let s: Value =
        serde_json::from_slice(&ok(&["stats", "--format", "json", "--type", "hash", f])).unwrap();
    assert_eq!(
        s["total"]["keys"].as_u64().unwrap(),
        all.iter().filter(|r| r["type"] == "hash").count() as u64
    );
}

/// A gzip'd backup through a pipe gives the same statistics and rows as
/// the file itself.
#[test]
fn compressed_stdin_equals_the_file() {
    use std::io::Write;
    let Some(corpus) = rdbscope_testkit::corpus("inspect stdin") else {
        return;
    };
    let rdb = corpus.join("rdb/valkey-9.1.2/all-types.rdb");
    let f = rdb.to_str().unwrap();
    let gz = rdbscope_testkit::gzip(&std::fs::read(&rdb).unwrap());
    let piped = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let data = gz.clone();
        let w = std::thread::spawn(move || stdin.write_all(&data));
        let out = child.wait_with_output().unwrap();
        w.join().unwrap().unwrap();
        assert!(out.status.success(), "{args:?}");
        out.stdout
    };
    assert_eq!(piped(&["memory", "-"]), ok(&["memory", f]));
    let a: Value = serde_json::from_slice(&piped(&["stats", "--format", "json", "-"])).unwrap();
    let b: Value = serde_json::from_slice(&ok(&["stats", "--format", "json", f])).unwrap();
    assert_eq!(a["total"], b["total"]);
    assert_eq!(a["dbs"], b["dbs"]);
}
