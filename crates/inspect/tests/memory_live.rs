//! The memory estimate against real servers: each server at hand loads
//! every corpus RDB it can read, and files it wrote itself from a seeded
//! workload (saved, then loaded again, so that every value is as loading
//! makes it); `MEMORY USAGE key SAMPLES 0` of every key is compared with
//! the estimate for that server and its allocator (Redis 7.0 from Debian:
//! jemalloc; Redis 6.2 and Valkey 9.1 from PyPI: libc). Per server: at
//! least 95% of keys within 10%, the total within 3%, and every type with
//! 20 keys or more at 85% or better. The error distribution per type and
//! encoding goes to stderr (shown by `cargo test`). And the 20 biggest
//! keys by the estimate (what `bigkeys --top 20` lists) are, for at least
//! 18 of them, among the server's 20 biggest by `MEMORY USAGE`.

use rdbscope_digest::ServerVersion;
use rdbscope_inspect::{Allocator, Estimator, Inspector};
use rdbscope_rdb::value::Scratch;
use rdbscope_rdb::{Flavor, Rdb, Record};
use rdbscope_testkit::client::{Conn, Reply};
use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use rdbscope_testkit::workload::{workload, Rng};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

/// Errors per (type, encoding): (estimate - server) / server.
#[derive(Default)]
struct Tally {
    errors: BTreeMap<(String, String), Vec<f64>>,
    estimated: u128,
    server: u128,
}

fn within(v: &[f64]) -> f64 {
    v.iter().filter(|e| e.abs() <= 0.10).count() as f64 / v.len().max(1) as f64
}

impl Tally {
    fn add(&mut self, ty: &str, enc: &str, est: u64, srv: u64) {
        self.estimated += est as u128;
        self.server += srv as u128;
        let e = (est as f64 - srv as f64) / srv.max(1) as f64;
        self.errors
            .entry((ty.into(), enc.into()))
            .or_default()
            .push(e);
    }

    /// Prints the distribution; returns the thresholds missed.
    fn report(&self, name: &str) -> Vec<String> {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "memory estimate vs {name}: type, encoding, keys, within 10%, median error, p99 |error|"
        );
        let mut all = Vec::new();
        let mut by_type: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for ((ty, enc), v) in &self.errors {
            let mut s = v.clone();
            s.sort_by(|a, b| a.total_cmp(b));
            let mut abs: Vec<f64> = v.iter().map(|e| e.abs()).collect();
            abs.sort_by(|a, b| a.total_cmp(b));
            let _ = writeln!(
                err,
                "  {ty:<7} {enc:<10} {:>6} {:>6.1}% {:>+7.2}% {:>6.2}%",
                v.len(),
                within(v) * 100.0,
                s[s.len() / 2] * 100.0,
                abs[(abs.len() * 99 / 100).min(abs.len() - 1)] * 100.0
            );
            all.extend_from_slice(v);
            by_type.entry(ty).or_default().extend_from_slice(v);
        }
        let total = (self.estimated as f64 - self.server as f64) / self.server.max(1) as f64;
        let _ = writeln!(
            err,
            "  all: {} keys, {:.2}% within 10%, total {} estimated vs {} ({:+.2}%)",
            all.len(),
            within(&all) * 100.0,
            self.estimated,
            self.server,
            total * 100.0
        );
        let mut fails = Vec::new();
        if within(&all) < 0.95 {
            fails.push(format!(
                "{name}: {:.2}% of keys within 10%",
                within(&all) * 100.0
            ));
        }
        if total.abs() > 0.03 {
            fails.push(format!("{name}: total off by {:+.2}%", total * 100.0));
        }
        for (ty, v) in by_type {
            if v.len() >= 20 && within(&v) < 0.85 {
                fails.push(format!(
                    "{name}: {ty}: {:.1}% within 10%",
                    within(&v) * 100.0
                ));
            }
        }
        fails
    }
}

/// Whether the oracle loads an RDB with this header.
fn loads(o: Oracle, head: &[u8]) -> bool {
    let Ok(rdb) = Rdb::new(head) else {
        return false;
    };
    let h = rdb.header();
    match (o, h.flavor) {
        (Oracle::Redis62, Flavor::Redis) => h.version <= 9,
        (Oracle::Redis70, Flavor::Redis) => h.version <= 10,
        (Oracle::Valkey91, Flavor::Redis) => h.version <= 11,
        (Oracle::Valkey91, _) => true,
        _ => false,
    }
}

/// `MEMORY USAGE key SAMPLES 0` of every key: (db, key) -> bytes.
fn usage(c: &mut Conn) -> HashMap<(u64, Vec<u8>), u64> {
    let mut out = HashMap::new();
    for (db, keys) in c.keys() {
        c.cmd(&["SELECT", &db.to_string()]);
        for k in keys {
            if let Reply::Int(n) = c.call(&[b"MEMORY", b"USAGE", &k, b"SAMPLES", b"0"]) {
                out.insert((db, k), n as u64);
            }
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

/// Loads `file` into `bin`, and compares the estimate of every key with
/// what the server reports. Returns how many of the 20 biggest keys by
/// the estimate are among the 20 biggest by `MEMORY USAGE` (a key tied
/// with the server's 20th counts), and how many keys there were.
fn load_and_compare(bin: &Path, file: &Path, est: &Estimator, tally: &mut Tally) -> (usize, usize) {
    let dir = rdbscope_testkit::TempDir::new("memory-live");
    std::fs::copy(file, dir.path.join("dump.rdb")).unwrap();
    let srv = {
        let server = RedisServer::start(bin, Some(&dir.path), &[]);
        let mut c = Conn::new(server.port);
        usage(&mut c)
    };
    let bytes = std::fs::read(file).unwrap();
    let rdb = Rdb::new(&bytes).expect("header");
    let mut inspector = Inspector::new(est.clone(), Scratch::new(), 1 << 30);
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for r in rdb.records() {
        let Record::Key(k) = r.expect("record") else {
            continue;
        };
        let row = inspector.row(&k).expect("row");
        // Keys already expired are not loaded.
        let Some(&s) = srv.get(&(row.db, row.key.to_vec())) else {
            continue;
        };
        if std::env::var_os("MEMORY_LIVE_VERBOSE").is_some()
            && (row.memory as f64 - s as f64).abs() > 0.1 * s as f64
        {
            eprintln!(
                "  off: {} {} {} key={:?} elements={} largest={} est={} server={}",
                file.display(),
                row.key_type.as_str(),
                row.encoding,
                String::from_utf8_lossy(row.key),
                row.elements,
                row.largest,
                row.memory,
                s
            );
        }
        tally.add(row.key_type.as_str(), row.encoding, row.memory, s);
        pairs.push((row.memory, s));
    }
    let mut by_server: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    by_server.sort_unstable_by(|a, b| b.cmp(a));
    let n = pairs.len();
    if n < 20 {
        return (20, n);
    }
    let cut = by_server[19];
    pairs.sort_by_key(|p| std::cmp::Reverse(p.0));
    let shared = pairs[..20].iter().filter(|p| p.1 >= cut).count();
    (shared, n)
}

#[test]
fn estimates_match_memory_usage_on_every_server() {
    let Some(corpus) = rdbscope_testkit::corpus("memory live") else {
        return;
    };
    let mut fails = Vec::new();
    for o in Oracle::ALL {
        let Some(bin) = o.server("memory live") else {
            continue;
        };
        let v = ServerVersion::parse(o.name()).unwrap();
        let a = match o {
            Oracle::Redis70 => Allocator::Jemalloc,
            _ => Allocator::Libc,
        };
        let est = Estimator::new(v, a);
        let mut tally = Tally::default();
        let mut files = 0;
        for f in rdbscope_testkit::corpus_rdbs(&corpus) {
            let head = std::fs::read(&f).unwrap();
            if !loads(o, &head) {
                continue;
            }
            let (shared, n) = load_and_compare(&bin, &f, &est, &mut tally);
            assert!(
                shared >= 18,
                "{}: {}: top 20 by memory shares {shared} keys with the server's",
                o.name(),
                f.display()
            );
            let _ = n;
            files += 1;
        }
        // Files the server writes itself from seeded workloads, loaded
        // again from disk.
        for seed in [11u64, 12, 13] {
            let dir = rdbscope_testkit::TempDir::new("memory-live-gen");
            {
                let server = RedisServer::start(&bin, Some(&dir.path), &[]);
                let mut c = Conn::new(server.port);
                workload(&mut c, &mut Rng(seed), false);
                c.cmd(&["SAVE"]);
            }
            let (shared, n) = load_and_compare(&bin, &dir.path.join("dump.rdb"), &est, &mut tally);
            assert!(n >= 500, "seeded workload of {n} keys");
            assert!(
                shared >= 18,
                "{}: seed {seed}: top 20 by memory shares {shared} keys with the server's",
                o.name()
            );
            files += 1;
        }
        assert!(files >= 10, "{}: only {files} files", o.name());
        fails.extend(tally.report(&format!("{} ({files} files)", o.name())));
    }
    assert!(fails.is_empty(), "{fails:#?}");
}
