//! Redis's logical fingerprint of a dataset, computed from a file: what
//! `DEBUG DIGEST` returns on a server holding the data (`digest`), and
//! what `DEBUG DIGEST-VALUE` returns for each key (`--per-key`).
//!
//! * [`value`]: one value's digest (`xorObjectDigest`), borrowed from a
//!   file or owned (from a JSON dump).
//! * [`Dataset`]: the keys' digests put together per database
//!   (`computeDatasetDigest`).
//! * [`server`]: which server's rules apply; [`score`] and [`fpconv`] (in
//!   the RDB writer, which stores scores the same way): the two ways
//!   servers write a zset score into the digest.
//! * [`DigestSink`]: the engine consumer that digests an RDB's chunks on
//!   every thread.
//!
//! docs/format.md, "Digests", says how the servers compute it.

#![warn(missing_docs)]

pub use rdbscope_rdb::write::fpconv;
pub use rdbscope_rdb::write::score_text as score;
pub mod server;
pub mod value;

pub use server::{Rules, ServerVersion, Vendor};
pub use value::{hex, Digest, DigestError, Digester, ZERO};

use rdbscope_engine::{At, Collector, Flow, Sink};
use rdbscope_rdb::{Header, KeyRecord, Rdb, Record};
use std::collections::BTreeMap;
use value::{mix_in, xor_in};

/// The keys' digests of a dataset, per database. Keys are xored in, so
/// their order does not matter and chunks can be digested apart and put
/// together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dataset {
    /// Per database: the xor of SHA1 of each key's digest.
    dbs: BTreeMap<u64, Digest>,
    keys: u64,
}

impl Dataset {
    /// Adds a key's digest ([`Digester::key`]) in database `db`.
    pub fn add(&mut self, db: u64, key_digest: &Digest) {
        xor_in(self.dbs.entry(db).or_insert(ZERO), key_digest);
        self.keys += 1;
    }

    /// Adds another part of the same dataset.
    pub fn merge(&mut self, other: Dataset) {
        for (db, x) in other.dbs {
            let d = self.dbs.entry(db).or_insert(ZERO);
            for (a, b) in d.iter_mut().zip(x) {
                *a ^= b;
            }
        }
        self.keys += other.keys;
    }

    /// Keys added.
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// `DEBUG DIGEST`: from 20 zero bytes, for each non-empty database in
    /// order, its number mixed in (4 bytes, big-endian), then its keys'
    /// part xored in. An empty dataset gives 20 zero bytes.
    pub fn digest(&self) -> Digest {
        let mut out = ZERO;
        for (&db, x) in &self.dbs {
            mix_in(&mut out, &(db as u32).to_be_bytes());
            for (a, b) in out.iter_mut().zip(x) {
                *a ^= b;
            }
        }
        out
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whose rules.
    pub rules: Rules,
    /// Each key's `DEBUG DIGEST-VALUE` as a JSON line, instead of the
    /// dataset's digest.
    pub per_key: bool,
    /// The digest of what a server loading the file at this time (Unix
    /// ms) would hold: keys whose expire is before it are left out, and
    /// hash fields too where the server drops them on load.
    pub as_loaded: Option<i64>,
    /// Largest decompressed string (`--max-value-size`).
    pub max_decompressed: u64,
}

impl Options {
    /// Whether a key with this expire time is dropped on load (rdb.c:
    /// `expiretime < now`).
    pub fn drops_key(&self, expire_at_ms: Option<i64>) -> bool {
        matches!((self.as_loaded, expire_at_ms), (Some(now), Some(t)) if t < now)
    }

    /// The time before which hash fields are dropped, if they are.
    pub fn field_cutoff(&self) -> Option<i64> {
        self.as_loaded.filter(|_| self.rules.drops_expired_fields)
    }
}

/// What a walk (or a part of it) found.
#[derive(Debug, Default)]
pub struct Digested {
    /// The dataset's keys.
    pub dataset: Dataset,
    /// `--per-key` lines, JSON Lines.
    pub lines: Vec<u8>,
    /// Keys left out because their expire had passed (`as_loaded`).
    pub dropped_keys: u64,
    /// Hash fields left out because their TTL had passed.
    pub dropped_fields: u64,
    /// Hashes left out because every field had expired.
    pub emptied_hashes: u64,
    /// The first key without a digest (a module value, a broken value):
    /// the walk stops there.
    pub error: Option<String>,
}

impl Digested {
    /// Adds the next part (in file order).
    pub fn merge(&mut self, other: Digested) {
        self.dataset.merge(other.dataset);
        self.lines.extend_from_slice(&other.lines);
        self.dropped_keys += other.dropped_keys;
        self.dropped_fields += other.dropped_fields;
        self.emptied_hashes += other.emptied_hashes;
        if self.error.is_none() {
            self.error = other.error;
        }
    }

    /// Digests one key: `key` is its name, `digest` computes what it adds
    /// (or its `DEBUG DIGEST-VALUE` in per-key mode). Returns false when
    /// it failed (the error is kept).
    pub fn key(
        &mut self,
        opts: &Options,
        db: u64,
        key: &[u8],
        digest: Result<Option<Digest>, DigestError>,
        at: Option<u64>,
    ) -> bool {
        match digest {
            Ok(Some(d)) => {
                if opts.per_key {
                    self.lines.extend_from_slice(b"{\"db\":");
                    let _ = rdbscope_json::write::write_u64(&mut self.lines, db);
                    self.lines.extend_from_slice(b",\"key\":");
                    let _ = rdbscope_json::write::write_bytes(&mut self.lines, key);
                    self.lines.extend_from_slice(b",\"digest\":\"");
                    value::hex_into(&d, &mut self.lines);
                    self.lines.extend_from_slice(b"\"}\n");
                } else {
                    self.dataset.add(db, &d);
                }
                true
            }
            Ok(None) => {
                self.emptied_hashes += 1;
                true
            }
            Err(e) => {
                let mut name = Vec::new();
                let _ = rdbscope_json::write::write_bytes(&mut name, key);
                let name = String::from_utf8_lossy(&name);
                self.error = Some(match at {
                    Some(offset) => format!("key {name} (db {db}, offset {offset}): {e}"),
                    None => format!("key {name} (db {db}): {e}"),
                });
                false
            }
        }
    }
}

/// The engine sink: digests the keys of one chunk.
pub struct DigestSink {
    opts: Options,
    digester: Digester,
    key: Vec<u8>,
    part: Digested,
}

impl DigestSink {
    /// A sink for one thread.
    pub fn new(opts: Options) -> DigestSink {
        DigestSink {
            digester: Digester::new(opts.rules, opts.max_decompressed),
            opts,
            key: Vec::new(),
            part: Digested::default(),
        }
    }

    fn one(&mut self, k: &KeyRecord<'_>, offset: u64) -> Flow {
        if self.opts.drops_key(k.expire_at_ms) {
            self.part.dropped_keys += 1;
            return Flow::Continue;
        }
        let cutoff = self.opts.field_cutoff();
        // The key's bytes borrow this sink's buffer, taken out for the
        // call so that nothing is copied per key.
        let mut buf = std::mem::take(&mut self.key);
        let flow = match k.key.bytes(&mut buf) {
            Err(e) => {
                self.part.error = Some(e.to_string());
                Flow::Stop
            }
            Ok(key) => {
                let before = self.digester.dropped_fields;
                let d = if self.opts.per_key {
                    self.digester.value(k, cutoff)
                } else {
                    self.digester.key(key, k, cutoff)
                };
                self.part.dropped_fields += self.digester.dropped_fields - before;
                if self.part.key(&self.opts, k.db, key, d, Some(offset)) {
                    Flow::Continue
                } else {
                    Flow::Stop
                }
            }
        };
        self.key = buf;
        flow
    }
}

impl Sink for DigestSink {
    type Chunk = Digested;

    fn record(&mut self, record: &Record<'_>, at: &At) -> Flow {
        match record {
            Record::Key(k) => self.one(k, at.offset),
            _ => Flow::Continue,
        }
    }

    fn end(&mut self) -> Digested {
        std::mem::take(&mut self.part)
    }
}

/// Puts the chunks together; `on_lines` gets each chunk's `--per-key`
/// lines, in file order. The walk stops at the first key without a digest.
pub struct DigestCollector<'w> {
    /// Everything so far (its `lines` stay empty: they went to `on_lines`).
    pub total: Digested,
    on_lines: &'w mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    /// The first write error.
    pub write_error: Option<std::io::Error>,
}

impl<'w> DigestCollector<'w> {
    /// A collector writing per-key lines to `on_lines`.
    pub fn new(on_lines: &'w mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> DigestCollector<'w> {
        DigestCollector {
            total: Digested::default(),
            on_lines,
            write_error: None,
        }
    }
}

impl Collector<Digested> for DigestCollector<'_> {
    fn collect(&mut self, mut chunk: Digested) -> Flow {
        let lines = std::mem::take(&mut chunk.lines);
        if !lines.is_empty() && self.write_error.is_none() {
            if let Err(e) = (self.on_lines)(&lines) {
                self.write_error = Some(e);
            }
        }
        let failed = chunk.error.is_some();
        self.total.merge(chunk);
        if failed || self.write_error.is_some() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

/// Where the rules of a digest came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesFrom {
    /// Given by the user.
    Given,
    /// The file's `redis-ver` or `valkey-ver` AUX field (its value).
    Aux(String),
    /// Guessed from the RDB version, the file naming no server.
    RdbVersion(u32),
    /// Guessed from the input's kind (an AOF with no RDB part): why.
    Guessed(String),
}

/// The server that wrote an RDB, from the AUX fields at its start (`head`:
/// the first bytes of the file; AUX fields come before any key).
pub fn writer_of(head: &[u8]) -> Option<(ServerVersion, RulesFrom)> {
    let w = writer_aux(head)?;
    Some(writer_from(
        w.header,
        w.redis_ver.as_deref(),
        w.valkey_ver.as_deref(),
    ))
}

/// What the start of an RDB says about its writer.
#[derive(Debug, Clone)]
pub struct WriterAux {
    /// The magic and version.
    pub header: Header,
    /// The `redis-ver` AUX value.
    pub redis_ver: Option<Vec<u8>>,
    /// The `valkey-ver` AUX value.
    pub valkey_ver: Option<Vec<u8>>,
}

/// The header of an RDB and its `redis-ver` and `valkey-ver` AUX values,
/// from its first bytes (AUX fields come before any key).
pub fn writer_aux(head: &[u8]) -> Option<WriterAux> {
    let rdb = Rdb::new(head).ok()?;
    let header = rdb.header();
    let (mut redis, mut valkey) = (None, None);
    for r in rdb.records() {
        match r {
            Ok(Record::Aux { name, value }) => {
                let (Ok(n), Ok(v)) = (name.to_vec(), value.to_vec()) else {
                    break;
                };
                match n.as_slice() {
                    b"redis-ver" => redis = Some(v),
                    b"valkey-ver" => valkey = Some(v),
                    _ => {}
                }
            }
            Ok(Record::Key(_)) | Ok(Record::Eof(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Some(WriterAux {
        header,
        redis_ver: redis,
        valkey_ver: valkey,
    })
}

/// The server named by `redis-ver`/`valkey-ver`, else the guess from the
/// header.
pub fn writer_from(
    header: Header,
    redis: Option<&[u8]>,
    valkey: Option<&[u8]>,
) -> (ServerVersion, RulesFrom) {
    match ServerVersion::from_aux(redis, valkey) {
        Some(v) => {
            let raw = valkey.or(redis).unwrap_or_default();
            let field = if valkey.is_some() {
                "valkey-ver"
            } else {
                "redis-ver"
            };
            (
                v,
                RulesFrom::Aux(format!("{field} {}", String::from_utf8_lossy(raw))),
            )
        }
        None => (
            ServerVersion::from_header(&header),
            RulesFrom::RdbVersion(header.version),
        ),
    }
}

/// Digests the RDB in `source` on the engine: the whole walk's
/// [`Digested`] (its `lines` already given to `on_lines`, in file order)
/// and how the walk went (a decoding error is in `Walked::error`).
pub fn digest_rdb(
    source: rdbscope_engine::Source<'_>,
    opts: &Options,
    engine: &rdbscope_engine::Options,
    on_progress: &mut dyn FnMut(u64),
    on_lines: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> (Digested, rdbscope_engine::Walked, Option<std::io::Error>) {
    let mut collector = DigestCollector::new(on_lines);
    let walked = rdbscope_engine::walk(
        source,
        engine,
        on_progress,
        |_: &Header| DigestSink::new(*opts),
        &mut collector,
    );
    (collector.total, walked, collector.write_error)
}
