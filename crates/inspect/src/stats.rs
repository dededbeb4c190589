//! `stats`: per database and type, how many keys, with an expiry, already
//! expired, in which encodings, and the distributions (min, mean, p50,
//! p90, p99, max) of element counts, stored value sizes and estimated
//! memory, in bounded memory ([`crate::sketch`]). Also the file's aux
//! fields, functions and format version.

use crate::row::KeyRow;
use crate::sketch::Sketch;
use crate::walk::RowSink;
use rdbscope_json::write::{write_aux_object, write_functions, write_json_str};
use rdbscope_rdb::types::KeyType;
use rdbscope_rdb::{FunctionLibrary, Header, Record};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The statistics of one database and type (or of a total).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Keys.
    pub keys: u64,
    /// Keys with an expire time.
    pub expires: u64,
    /// Keys whose expire time is before `now`.
    pub expired: u64,
    /// Keys per in-memory encoding.
    pub encodings: BTreeMap<&'static str, u64>,
    /// Elements per key.
    pub elements: Sketch,
    /// Bytes of the value in the file.
    pub stored: Sketch,
    /// Estimated memory per key.
    pub memory: Sketch,
    /// Keys per time left to live at `now`, by [`TTL_BUCKETS`].
    pub ttl: [u64; TTL_BUCKETS.len()],
}

/// The expiry buckets: keys with no expire time, already expired, then by
/// time left to live (each bucket below its bound, in ms).
pub const TTL_BUCKETS: [(&str, i64); 7] = [
    ("no expiry", -1),
    ("expired", 0),
    ("< 1 hour", 3_600_000),
    ("< 1 day", 86_400_000),
    ("< 7 days", 7 * 86_400_000),
    ("< 30 days", 30 * 86_400_000),
    (">= 30 days", i64::MAX),
];

fn ttl_bucket(expire_at_ms: Option<i64>, now_ms: i64) -> usize {
    let Some(t) = expire_at_ms else { return 0 };
    let left = t.saturating_sub(now_ms);
    if left < 0 {
        return 1;
    }
    TTL_BUCKETS[2..]
        .iter()
        .position(|&(_, bound)| left < bound)
        .map_or(TTL_BUCKETS.len() - 1, |i| i + 2)
}

impl Cell {
    fn add(&mut self, r: &KeyRow<'_>, now_ms: i64) {
        self.keys += 1;
        if let Some(t) = r.expire_at_ms {
            self.expires += 1;
            if t < now_ms {
                self.expired += 1;
            }
        }
        *self.encodings.entry(r.encoding).or_insert(0) += 1;
        self.ttl[ttl_bucket(r.expire_at_ms, now_ms)] += 1;
        self.elements.add(r.elements);
        self.stored.add(r.stored_size);
        self.memory.add(r.memory);
    }

    /// Adds another cell's counts.
    pub fn merge(&mut self, o: &Cell) {
        self.keys += o.keys;
        self.expires += o.expires;
        self.expired += o.expired;
        for (a, b) in self.ttl.iter_mut().zip(o.ttl) {
            *a += b;
        }
        for (e, n) in &o.encodings {
            *self.encodings.entry(e).or_insert(0) += n;
        }
        self.elements.merge(&o.elements);
        self.stored.merge(&o.stored);
        self.memory.merge(&o.memory);
    }
}

/// Everything `stats` gathers over a file, or over a part of it.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// The file's header, once known.
    pub header: Option<Header>,
    /// AUX fields in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Function libraries in file order.
    pub functions: Vec<FunctionLibrary>,
    /// Per (database, type).
    pub cells: BTreeMap<(u64, KeyType), Cell>,
    now_ms: i64,
}

impl Stats {
    /// Empty statistics; keys expiring before `now_ms` count as expired.
    pub fn new(now_ms: i64) -> Stats {
        Stats {
            now_ms,
            ..Stats::default()
        }
    }

    /// The time "expired" is measured against.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Adds one key.
    pub fn add_row(&mut self, r: &KeyRow<'_>) {
        let now = self.now_ms;
        self.cells
            .entry((r.db, r.key_type))
            .or_default()
            .add(r, now);
    }

    /// Adds a record that is not a key.
    pub fn add_other(&mut self, r: &Record<'_>) {
        match r {
            Record::Aux { name, value } => {
                if let (Ok(n), Ok(v)) = (name.to_vec(), value.to_vec()) {
                    self.aux.push((n, v));
                }
            }
            Record::Function { .. } | Record::FunctionPreGa(_) => {
                if let Some(Ok(f)) = FunctionLibrary::of(r) {
                    self.functions.push(f);
                }
            }
            _ => {}
        }
    }

    /// Adds what `o` gathered over a later part of the file.
    pub fn merge(&mut self, o: Stats) {
        self.aux.extend(o.aux);
        self.functions.extend(o.functions);
        for (k, c) in o.cells {
            self.cells.entry(k).or_default().merge(&c);
        }
    }

    /// The totals of every cell.
    pub fn total(&self) -> Cell {
        let mut t = Cell::default();
        for c in self.cells.values() {
            t.merge(c);
        }
        t
    }

    /// Totals per type over every database.
    pub fn by_type(&self) -> BTreeMap<KeyType, Cell> {
        let mut m: BTreeMap<KeyType, Cell> = BTreeMap::new();
        for ((_, t), c) in &self.cells {
            m.entry(*t).or_default().merge(c);
        }
        m
    }

    /// Totals per database.
    pub fn by_db(&self) -> BTreeMap<u64, Cell> {
        let mut m: BTreeMap<u64, Cell> = BTreeMap::new();
        for ((db, _), c) in &self.cells {
            m.entry(*db).or_default().merge(c);
        }
        m
    }

    /// An AUX field's value.
    pub fn aux(&self, name: &[u8]) -> Option<&[u8]> {
        self.aux
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// `stats`' sink: a partial [`Stats`] per chunk.
#[derive(Debug)]
pub struct StatsSink {
    part: Stats,
}

impl StatsSink {
    /// Counts keys expiring before `now_ms` as expired.
    pub fn new(now_ms: i64) -> StatsSink {
        StatsSink {
            part: Stats::new(now_ms),
        }
    }
}

impl RowSink for StatsSink {
    type Chunk = Stats;

    fn row(&mut self, row: &KeyRow<'_>) {
        self.part.add_row(row);
    }

    fn other(&mut self, record: &Record<'_>, _db: u64) {
        self.part.add_other(record);
    }

    fn end(&mut self) -> Stats {
        let now = self.part.now_ms;
        std::mem::replace(&mut self.part, Stats::new(now))
    }
}

/// What the printed statistics say about where they come from.
#[derive(Debug, Clone)]
pub struct About<'a> {
    /// The input's display name.
    pub file: &'a str,
    /// Its size in bytes.
    pub size: u64,
    /// The server the memory estimate is for (`redis-7.0`).
    pub estimated_for: String,
    /// `jemalloc` or `libc`.
    pub allocator: &'static str,
}

/// The quantiles printed for each distribution.
pub const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)];

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Human-readable sizes: bytes under 10 KiB, else KiB/MiB/GiB with one
/// decimal.
pub fn human(n: u128) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 10 * 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

impl Stats {
    /// A table for people.
    pub fn write_table<W: Write>(&self, o: &mut W, about: &About<'_>) -> io::Result<()> {
        writeln!(o, "file:       {} ({} bytes)", about.file, about.size)?;
        if let Some(h) = &self.header {
            let ver = self
                .aux(b"valkey-ver")
                .map(|v| format!(", valkey-ver {}", lossy(v)))
                .or_else(|| {
                    self.aux(b"redis-ver")
                        .map(|v| format!(", redis-ver {}", lossy(v)))
                })
                .unwrap_or_default();
            writeln!(o, "format:     {} version {}{ver}", h.magic(), h.version)?;
        }
        if let Some(ct) = self.aux(b"ctime") {
            writeln!(o, "ctime:      {}", lossy(ct))?;
        }
        writeln!(
            o,
            "memory for: {} ({}), expired as of {} ms",
            about.estimated_for, about.allocator, self.now_ms
        )?;
        let t = self.total();
        writeln!(
            o,
            "keys:       {} ({} with an expiry, {} expired), {} estimated",
            t.keys,
            t.expires,
            t.expired,
            human(t.memory.sum())
        )?;
        if !self.functions.is_empty() {
            let names: Vec<String> = self
                .functions
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}, {} B)",
                        lossy(&f.name),
                        lossy(&f.engine),
                        f.code_bytes
                    )
                })
                .collect();
            writeln!(o, "functions:  {}", names.join(", "))?;
        }
        writeln!(o)?;
        writeln!(
            o,
            "{:>4}  {:<7} {:>10} {:>9} {:>9} {:>12}  encodings",
            "db", "type", "keys", "expires", "expired", "memory"
        )?;
        for ((db, ty), c) in &self.cells {
            let enc: Vec<String> = c
                .encodings
                .iter()
                .map(|(e, n)| format!("{e}:{n}"))
                .collect();
            writeln!(
                o,
                "{:>4}  {:<7} {:>10} {:>9} {:>9} {:>12}  {}",
                db,
                ty.as_str(),
                c.keys,
                c.expires,
                c.expired,
                human(c.memory.sum()),
                enc.join(" ")
            )?;
        }
        writeln!(o)?;
        writeln!(
            o,
            "{:>4}  {:<7} {:<9} {:>10} {:>12} {:>10} {:>10} {:>10} {:>12}",
            "db", "type", "per key", "min", "avg", "p50", "p90", "p99", "max"
        )?;
        for ((db, ty), c) in &self.cells {
            for (what, s) in [
                ("elements", &c.elements),
                ("stored", &c.stored),
                ("memory", &c.memory),
            ] {
                writeln!(
                    o,
                    "{:>4}  {:<7} {:<9} {:>10} {:>12.1} {:>10} {:>10} {:>10} {:>12}",
                    db,
                    ty.as_str(),
                    what,
                    s.min(),
                    s.mean(),
                    s.quantile(0.5),
                    s.quantile(0.9),
                    s.quantile(0.99),
                    s.max()
                )?;
            }
        }
        Ok(())
    }

    /// One JSON document (see docs/inspect.md for its fields).
    pub fn write_json<W: Write>(&self, o: &mut W, about: &About<'_>) -> io::Result<()> {
        o.write_all(b"{\"file\":")?;
        write_json_str(o, about.file)?;
        write!(o, ",\"size\":{}", about.size)?;
        if let Some(h) = &self.header {
            o.write_all(b",\"magic\":")?;
            write_json_str(o, h.magic())?;
            write!(o, ",\"rdb_version\":{}", h.version)?;
        }
        o.write_all(b",\"estimated_for\":")?;
        write_json_str(o, &about.estimated_for)?;
        o.write_all(b",\"allocator\":")?;
        write_json_str(o, about.allocator)?;
        write!(o, ",\"now_ms\":{}", self.now_ms)?;
        o.write_all(b",\"aux\":")?;
        write_aux_object(o, &self.aux)?;
        o.write_all(b",\"functions\":")?;
        write_functions(o, &self.functions)?;
        o.write_all(b",\"total\":")?;
        write_cell(o, &self.total())?;
        o.write_all(b",\"types\":{")?;
        for (i, (t, c)) in self.by_type().iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(o, "\"{}\":", t.as_str())?;
            write_cell(o, c)?;
        }
        o.write_all(b"},\"dbs\":[")?;
        for (i, (db, c)) in self.by_db().iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(o, "{{\"db\":{db},\"total\":")?;
            write_cell(o, c)?;
            o.write_all(b",\"types\":{")?;
            for (j, ((_, t), c)) in self
                .cells
                .range((*db, KeyType::String)..)
                .take_while(|((d, _), _)| d == db)
                .enumerate()
            {
                if j > 0 {
                    o.write_all(b",")?;
                }
                write!(o, "\"{}\":", t.as_str())?;
                write_cell(o, c)?;
            }
            o.write_all(b"}}")?;
        }
        o.write_all(b"]}\n")
    }

    /// One CSV row per database and type, then a total row (`db` empty).
    pub fn write_csv<W: Write>(&self, o: &mut W) -> io::Result<()> {
        o.write_all(b"db,type,keys,expires,expired,encodings")?;
        for what in ["elements", "stored", "memory"] {
            for q in ["min", "avg", "p50", "p90", "p99", "max", "sum"] {
                write!(o, ",{what}_{q}")?;
            }
        }
        o.write_all(b"\n")?;
        let total = self.total();
        let rows = self
            .cells
            .iter()
            .map(|((db, t), c)| (db.to_string(), t.as_str(), c))
            .chain(std::iter::once((String::new(), "all", &total)));
        for (db, t, c) in rows {
            let enc: Vec<String> = c
                .encodings
                .iter()
                .map(|(e, n)| format!("{e}:{n}"))
                .collect();
            write!(
                o,
                "{db},{t},{},{},{},{}",
                c.keys,
                c.expires,
                c.expired,
                enc.join(" ")
            )?;
            for s in [&c.elements, &c.stored, &c.memory] {
                write!(
                    o,
                    ",{},{:.1},{},{},{},{},{}",
                    s.min(),
                    s.mean(),
                    s.quantile(0.5),
                    s.quantile(0.9),
                    s.quantile(0.99),
                    s.max(),
                    s.sum()
                )?;
            }
            o.write_all(b"\n")?;
        }
        Ok(())
    }
}

fn write_dist<W: Write>(o: &mut W, s: &Sketch) -> io::Result<()> {
    write!(
        o,
        "{{\"min\":{},\"avg\":{:.1},\"p50\":{},\"p90\":{},\"p99\":{},\"max\":{},\"sum\":{}}}",
        s.min(),
        s.mean(),
        s.quantile(0.5),
        s.quantile(0.9),
        s.quantile(0.99),
        s.max(),
        s.sum()
    )
}

fn write_cell<W: Write>(o: &mut W, c: &Cell) -> io::Result<()> {
    write!(
        o,
        "{{\"keys\":{},\"expires\":{},\"expired\":{},\"memory\":{},\"encodings\":{{",
        c.keys,
        c.expires,
        c.expired,
        c.memory.sum()
    )?;
    for (i, (e, n)) in c.encodings.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        write!(o, "\"{e}\":{n}")?;
    }
    o.write_all(b"},\"ttl\":{")?;
    for (i, ((name, _), n)) in TTL_BUCKETS.iter().zip(c.ttl).enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        write!(o, "\"{name}\":{n}")?;
    }
    o.write_all(b"},\"elements\":")?;
    write_dist(o, &c.elements)?;
    o.write_all(b",\"stored\":")?;
    write_dist(o, &c.stored)?;
    o.write_all(b",\"memory_per_key\":")?;
    write_dist(o, &c.memory)?;
    o.write_all(b"}")
}
