//! How fast the Parquet export writes, and in how much memory:
//!
//! ```sh
//! cargo run --release -p rdbscope-export --example export_speed -- [FILE.rdb] [OUT.parquet]
//! ```
//!
//! 1. `push`: ROWS (default 4,000,000) synthetic rows (keys like
//!    `user:123456:session`, varied counts, a third with an expire time)
//!    through the writer into a sink: the writer alone.
//! 2. With FILE: every key of the RDB through the record walk and
//!    `Inspector::row` alone, then the same with every row pushed to OUT
//!    (default a sink): what the writer adds to a whole export, on one
//!    thread.
//!
//! Peak RSS (VmHWM) is printed at the end; the RDB is read into memory,
//! so with FILE it includes the file's size.

use rdbscope_export::{ExportOptions, ParquetExport};
use rdbscope_inspect::{Allocator, Estimator, Inspector, KeyRow};
use rdbscope_rdb::types::KeyType;
use rdbscope_rdb::{Rdb, Record, Scratch};
use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(4_000_000);
    synthetic(rows);
    println!("peak RSS after push: {} MB", peak_rss_mb());
    if let Some(file) = args.first() {
        let out: Box<dyn Write + Send> = match args.get(1) {
            Some(p) => Box::new(std::fs::File::create(p).expect("create OUT")),
            None => Box::new(std::io::sink()),
        };
        rdb(file, out);
        println!(
            "peak RSS (includes the file read into memory): {} MB",
            peak_rss_mb()
        );
    }
}

fn synthetic(rows: u64) {
    let types = [
        (KeyType::String, "embstr"),
        (KeyType::Hash, "listpack"),
        (KeyType::Set, "intset"),
        (KeyType::ZSet, "skiplist"),
        (KeyType::List, "quicklist"),
    ];
    let mut out = ParquetExport::new(std::io::sink(), ExportOptions::default()).unwrap();
    let mut key = Vec::with_capacity(64);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let start = Instant::now();
    for i in 0..rows {
        if i % 1_000_000 == 0 {
            out.source(
                &format!("dump-{}.rdb", i / 1_000_000),
                Some("7.2.4"),
                Some("redis"),
            );
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        key.clear();
        write!(key, "user:{}:session", x % 10_000_000).unwrap();
        let (key_type, encoding) = types[(x % 5) as usize];
        out.push(&KeyRow {
            db: x % 3,
            key: &key,
            key_type,
            encoding,
            expire_at_ms: (x % 3 == 0).then_some(1_800_000_000_000 + (x % 86_400_000) as i64),
            idle_s: Some(x % 100_000),
            freq: None,
            memory: 56 + x % 4096,
            key_overhead: 56,
            elements: 1 + x % 200,
            largest: x % 1000,
            stored_size: x % 3000,
            offset: i * 60,
        })
        .unwrap();
    }
    let (_, s) = out.finish().unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "push: {} rows in {secs:.2} s: {:.2} M rows/s ({} row groups, {:.1} MB of Parquet)",
        s.rows,
        s.rows as f64 / secs / 1e6,
        s.row_groups,
        s.bytes as f64 / 1e6
    );
}

fn rdb(path: &str, out: Box<dyn Write + Send>) {
    let data = std::fs::read(path).expect("read FILE");
    let mb = data.len() as f64 / 1e6;
    let file = Rdb::new(&data).expect("an RDB");
    let version = rdbscope_digest::ServerVersion::from_header(&file.header());
    let mut inspector = Inspector::new(
        Estimator::new(version, Allocator::Jemalloc),
        Scratch::new(),
        u64::MAX,
    );

    let start = Instant::now();
    let mut keys = 0u64;
    for rec in file.records() {
        if let Record::Key(k) = rec.expect("a record") {
            std::hint::black_box(inspector.row(&k).expect("a row"));
            keys += 1;
        }
    }
    let walk = start.elapsed().as_secs_f64();
    println!(
        "{path}: {mb:.0} MB, {keys} keys; walk+row: {walk:.2} s ({:.0} MB/s)",
        mb / walk
    );

    let start = Instant::now();
    let mut export = ParquetExport::new(out, ExportOptions::default()).unwrap();
    export.source(path, None, None);
    for rec in file.records() {
        if let Record::Key(k) = rec.expect("a record") {
            export.push(&inspector.row(&k).expect("a row")).unwrap();
        }
    }
    let (_, s) = export.finish().unwrap();
    let all = start.elapsed().as_secs_f64();
    println!(
        "walk+row+push: {all:.2} s ({:.0} MB/s); the writer: {:.2} s, {:.2} M rows/s; {:.1} MB of Parquet",
        mb / all,
        all - walk,
        s.rows as f64 / (all - walk) / 1e6,
        s.bytes as f64 / 1e6
    );
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}
