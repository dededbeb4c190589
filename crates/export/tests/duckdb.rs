//! The Parquet export read back by a real reader: DuckDB (the `duckdb`
//! package of the oracle virtualenv, `scripts/oracles.sh`), and the slot
//! column compared with a real Redis Cluster node's `CLUSTER KEYSLOT`.
//!
//! Without DuckDB (or redis-server) a test is skipped with a `SKIPPED` line
//! on stderr; under `REQUIRE_REDIS=1` (as CI sets) it fails instead.

use rdbscope_digest::ServerVersion;
use rdbscope_export::{server_from_aux, ExportOptions, ParquetExport, Summary};
use rdbscope_inspect::{Allocator, Estimator, Inspector, KeyRow};
use rdbscope_rdb::types::KeyType;
use rdbscope_rdb::{Rdb, Record, Scratch};
use rdbscope_testkit::client::{Conn, Reply};
use rdbscope_testkit::redis::{redis_server, RedisServer};
use rdbscope_testkit::workload::Rng;
use rdbscope_testkit::TempDir;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs SQL over the file as view `keys`; prints one JSON array of rows
/// (each a list; values JSON can't hold as text).
const QUERY: &str = r#"
import duckdb, json, sys
con = duckdb.connect()
path = sys.argv[1].replace("'", "''")
con.execute(f"CREATE VIEW keys AS SELECT * FROM read_parquet('{path}')")
out = []
for sql in sys.argv[2:]:
    out.append([list(r) for r in con.execute(sql.replace("$FILE", f"'{path}'")).fetchall()])
print(json.dumps(out, default=str))
"#;

/// The oracle virtualenv's python when it has duckdb; else skip (or fail
/// under `REQUIRE_REDIS=1`).
fn duckdb(test: &str) -> Option<PathBuf> {
    let py = rdbscope_testkit::oracle::oracle_dir().join("venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    assert!(
        std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
        "{test}: REQUIRE_REDIS=1 but {} cannot import duckdb (run scripts/oracles.sh)",
        py.display()
    );
    rdbscope_testkit::skipped(&format!(
        "{test}: no duckdb in {} (run scripts/oracles.sh; REQUIRE_REDIS=1 makes this an error)",
        py.display()
    ));
    None
}

/// Each query's rows, as DuckDB returns them.
fn query(py: &Path, file: &Path, sqls: &[&str]) -> Vec<Vec<Value>> {
    let out = Command::new(py)
        .args(["-c", QUERY])
        .arg(file)
        .args(sqls)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "duckdb failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json from duckdb");
    v.as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_array().unwrap().clone())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// A row as the full-table query below returns it from DuckDB.
fn expected(source: &str, server: Option<&str>, vendor: Option<&str>, r: &KeyRow<'_>) -> Value {
    json!([
        source,
        server,
        vendor,
        r.db,
        hex(r.key),
        r.key_type.as_str(),
        r.encoding,
        r.expire_at_ms,
        r.memory,
        r.key_overhead,
        r.elements,
        r.largest,
        r.stored_size,
        r.idle_s,
        r.freq,
        rdbscope_select::slot::key_hash_slot(r.key),
    ])
}

const ALL_ROWS: &str = "SELECT source, server_version, vendor, db, hex(key), type, encoding, \
     epoch_ms(expire_at), memory, key_overhead, elements, largest_element, stored_size, \
     idle_seconds, freq, slot FROM keys";

/// What the test pushed, to compare with what DuckDB reads.
#[derive(Default)]
struct Pushed {
    rows: Vec<Value>,
    per_type: BTreeMap<String, u64>,
    per_source: BTreeMap<String, u64>,
    memory: u64,
    expires: u64,
}

impl Pushed {
    fn push(&mut self, source: &str, server: Option<&str>, vendor: Option<&str>, r: &KeyRow<'_>) {
        self.rows.push(expected(source, server, vendor, r));
        *self.per_type.entry(r.key_type.as_str().into()).or_default() += 1;
        *self.per_source.entry(source.into()).or_default() += 1;
        self.memory += r.memory;
        self.expires += u64::from(r.expire_at_ms.is_some());
    }
}

/// Exports every key of `rdb` as source `name`.
fn export_rdb<W: std::io::Write + Send>(
    out: &mut ParquetExport<W>,
    pushed: &mut Pushed,
    name: &str,
    rdb: &Path,
) {
    let data = std::fs::read(rdb).unwrap();
    let file = Rdb::new(&data).unwrap();
    let (mut redis_ver, mut valkey_ver) = (None, None);
    // AUX fields come before the keyspace.
    for rec in file.records() {
        match rec.unwrap() {
            Record::Aux { name, value } => {
                let v = String::from_utf8(value.to_vec().unwrap()).ok();
                match &name.to_vec().unwrap()[..] {
                    b"redis-ver" => redis_ver = v,
                    b"valkey-ver" => valkey_ver = v,
                    _ => {}
                }
            }
            Record::Key(_) | Record::Eof(_) => break,
            _ => {}
        }
    }
    let (server, vendor) = server_from_aux(redis_ver.as_deref(), valkey_ver.as_deref());
    out.source(name, server, vendor);
    let version = ServerVersion::from_aux(
        redis_ver.as_deref().map(str::as_bytes),
        valkey_ver.as_deref().map(str::as_bytes),
    )
    .unwrap_or_else(|| ServerVersion::from_header(&file.header()));
    let mut inspector = Inspector::new(
        Estimator::new(version, Allocator::Libc),
        Scratch::new(),
        u64::MAX,
    );
    for rec in file.records() {
        if let Record::Key(k) = rec.unwrap() {
            let row = inspector.row(&k).unwrap();
            pushed.push(name, server, vendor, &row);
            out.push(&row).unwrap();
        }
    }
}

/// Synthetic rows for what the corpus lacks: an empty key, a key longer
/// than the statistics' truncation, every byte value, counts past i32, an
/// expire time before 1970, no server version.
fn export_synthetic<W: std::io::Write + Send>(out: &mut ParquetExport<W>, pushed: &mut Pushed) {
    out.source("synthetic", None, None);
    let all_bytes: Vec<u8> = (0..=255).collect();
    let long = vec![0xffu8; 100_000];
    let keys: [&[u8]; 4] = [b"", &all_bytes, &long, b"{tag}x\x00\r\n"];
    for (i, key) in keys.into_iter().enumerate() {
        let row = KeyRow {
            db: 15 + i as u64,
            key,
            key_type: [
                KeyType::String,
                KeyType::Module,
                KeyType::ZSet,
                KeyType::Stream,
            ][i],
            encoding: ["embstr", "module", "skiplist", "stream"][i],
            expire_at_ms: [None, Some(-1), Some(0), Some(253_402_300_799_999)][i],
            idle_s: [None, Some(0), Some(1 << 40), None][i],
            freq: [None, Some(0), Some(255), Some(7)][i],
            memory: 1 << (30 + i),
            key_overhead: 56,
            elements: 3_000_000_000,
            largest: 0,
            stored_size: 1 << 33,
            offset: 0,
        };
        pushed.push("synthetic", None, None, &row);
        out.push(&row).unwrap();
    }
}

#[test]
fn corpus_files_read_back_by_duckdb() {
    let test = "corpus_files_read_back_by_duckdb";
    let Some(corpus) = rdbscope_testkit::corpus(test) else {
        return;
    };
    let Some(py) = duckdb(test) else {
        return;
    };
    // Every server's all-types file (binary keys, expires in several DBs,
    // every type), small files of two servers, and an empty one.
    let rdbs: Vec<PathBuf> = rdbscope_testkit::corpus_rdbs(&corpus)
        .into_iter()
        .filter(|p| {
            let f = p.file_name().unwrap().to_str().unwrap();
            let dir = p.parent().unwrap().file_name().unwrap().to_str().unwrap();
            f == "all-types.rdb"
                || (f == "small-thresholds.rdb"
                    && (dir.starts_with("valkey-9") || dir == "redis-3.2.13"))
                || (f == "empty.rdb" && dir.starts_with("redis-7.4"))
        })
        .collect();
    assert!(rdbs.len() >= 8, "corpus files: {rdbs:?}");
    let dir = TempDir::new("export-duckdb");
    let path = dir.path.join("keys.parquet");
    // Small row groups, so that rows cross several (and sources share one).
    let opts = ExportOptions {
        row_group_rows: 100,
        ..ExportOptions::default()
    };
    let mut out = ParquetExport::new(File::create(&path).unwrap(), opts).unwrap();
    let mut pushed = Pushed::default();
    for rdb in &rdbs {
        let name = rdb
            .strip_prefix(&corpus)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        export_rdb(&mut out, &mut pushed, &name, rdb);
    }
    export_synthetic(&mut out, &mut pushed);
    assert_eq!(out.rows(), pushed.rows.len() as u64);
    let (_, summary) = out.finish().unwrap();
    assert_eq!(
        pushed.per_type.len(),
        7,
        "every type: {:?}",
        pushed.per_type
    );
    let n = pushed.rows.len() as u64;
    assert_eq!(
        summary,
        Summary {
            rows: n,
            row_groups: n.div_ceil(100),
            sources: rdbs.len() as u64 + 1,
            bytes: std::fs::metadata(&path).unwrap().len(),
        }
    );

    let r = query(
        &py,
        &path,
        &[
            ALL_ROWS,
            "SELECT count(*), sum(memory), count(expire_at) FROM keys",
            "SELECT type, count(*) FROM keys GROUP BY type ORDER BY type",
            "SELECT source, count(*) FROM keys GROUP BY source ORDER BY source",
            "SELECT column_name, column_type, \"null\" FROM (DESCRIBE keys)",
            "SELECT count(DISTINCT row_group_id) FROM parquet_metadata($FILE)",
            "SELECT DISTINCT path_in_schema, compression, encodings FROM parquet_metadata($FILE) \
             WHERE path_in_schema IN ('source', 'type', 'encoding', 'key') ORDER BY 1, 3",
        ],
    );
    // Every value of every row, in order.
    assert_eq!(r[0].len(), pushed.rows.len());
    for (i, (got, want)) in r[0].iter().zip(&pushed.rows).enumerate() {
        assert_eq!(got, want, "row {i}");
    }
    assert_eq!(r[1], vec![json!([n, pushed.memory, pushed.expires])]);
    let per_type: Vec<Value> = pushed.per_type.iter().map(|(t, c)| json!([t, c])).collect();
    assert_eq!(r[2], per_type);
    let per_source: Vec<Value> = pushed
        .per_source
        .iter()
        .map(|(s, c)| json!([s, c]))
        .collect();
    assert_eq!(r[3], per_source);
    let schema: Vec<Value> = [
        ("source", "VARCHAR"),
        ("server_version", "VARCHAR"),
        ("vendor", "VARCHAR"),
        ("db", "BIGINT"),
        ("key", "BLOB"),
        ("type", "VARCHAR"),
        ("encoding", "VARCHAR"),
        ("expire_at", "TIMESTAMP WITH TIME ZONE"),
        ("memory", "BIGINT"),
        ("key_overhead", "BIGINT"),
        ("elements", "BIGINT"),
        ("largest_element", "BIGINT"),
        ("stored_size", "BIGINT"),
        ("idle_seconds", "BIGINT"),
        ("freq", "INTEGER"),
        ("slot", "INTEGER"),
    ]
    .iter()
    .map(|(c, t)| json!([c, t, "YES"]))
    .collect();
    assert_eq!(r[4], schema);
    assert_eq!(r[5], vec![json!([n.div_ceil(100)])]);
    // Dictionary pages for the strings, plain keys, zstd throughout.
    for row in &r[6] {
        let (col, codec, enc) = (&row[0], &row[1], row[2].to_string());
        assert_eq!(codec, "ZSTD", "{row:?}");
        let dict = enc.contains("DICTIONARY");
        assert_eq!(dict, col != "key", "{row:?}");
    }
    // Sanity of the corpus part: the vendors and versions it names.
    assert!(pushed
        .rows
        .iter()
        .any(|r| r[2] == "valkey" && r[1].as_str().is_some_and(|v| v.starts_with("9.1"))));
    assert!(pushed
        .rows
        .iter()
        .any(|r| r[2] == "redis" && r[1] == "7.0.15"));
}

/// Keys whose hash tags are every corner of `keyHashSlot`.
fn slot_keys(n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5107_5107);
    let fixed: [&[u8]; 16] = [
        b"",
        b"{",
        b"}",
        b"{}",
        b"{}{a}",
        b"a{}b",
        b"abc{def",
        b"x}y{z}",
        b"{{a}}",
        b"{a}{b}",
        b"}{",
        b"{\x00}",
        b"foo",
        b"{user1000}.following",
        b"\xff{\xfe}\xfd",
        b"{}}",
    ];
    let mut keys: Vec<Vec<u8>> = fixed.iter().map(|k| k.to_vec()).collect();
    while keys.len() < n {
        let mut k = rng.bytes();
        match rng.below(5) {
            // Braces at random places of a random key.
            0 | 1 => {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(k.len() as u64 + 1) as usize;
                    k.insert(at, if rng.below(2) == 0 { b'{' } else { b'}' });
                }
            }
            // A well-formed tag around random bytes.
            2 => {
                let tag: Vec<u8> = (0..rng.below(6)).map(|_| rng.next() as u8).collect();
                let at = rng.below(k.len() as u64 + 1) as usize;
                let mut t = vec![b'{'];
                t.extend(tag);
                t.push(b'}');
                k.splice(at..at, t);
            }
            _ => {}
        }
        keys.push(k);
    }
    keys
}

#[test]
fn slot_column_equals_cluster_keyslot() {
    let test = "slot_column_equals_cluster_keyslot";
    let Some(py) = duckdb(test) else {
        return;
    };
    let Some(bin) = redis_server(test) else {
        return;
    };
    let server = RedisServer::start(
        &bin,
        None,
        &[
            ("cluster-enabled", "yes"),
            ("cluster-config-file", "nodes.conf"),
        ],
    );
    let mut conn = Conn::new(server.port);
    let keys = slot_keys(1000);
    let slots: Vec<i64> = keys
        .iter()
        .map(|k| match conn.call(&[b"CLUSTER", b"KEYSLOT", k]) {
            Reply::Int(s) => s,
            other => panic!("CLUSTER KEYSLOT: {other:?}"),
        })
        .collect();

    let dir = TempDir::new("export-slots");
    let path = dir.path.join("slots.parquet");
    let mut out =
        ParquetExport::new(File::create(&path).unwrap(), ExportOptions::default()).unwrap();
    out.source("slots", Some("7.0.15"), Some("redis"));
    for k in &keys {
        out.push(&KeyRow {
            db: 0,
            key: k,
            key_type: KeyType::String,
            encoding: "raw",
            expire_at_ms: None,
            idle_s: None,
            freq: None,
            memory: 0,
            key_overhead: 0,
            elements: 1,
            largest: 0,
            stored_size: 0,
            offset: 0,
        })
        .unwrap();
    }
    out.finish().unwrap();
    let r = query(&py, &path, &["SELECT hex(key), slot FROM keys"]);
    assert_eq!(r[0].len(), keys.len());
    for ((k, want), got) in keys.iter().zip(&slots).zip(&r[0]) {
        assert_eq!(
            got,
            &json!([hex(k), want]),
            "key {:?}",
            String::from_utf8_lossy(k)
        );
    }
}
