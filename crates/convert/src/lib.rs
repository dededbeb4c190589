//! `convert`: any dataset the readers give (an RDB through the engine, a
//! JSON dump through its reader) written as an RDB file of a chosen
//! version, key by key, in flat memory.
//!
//! * [`Converter`] takes owned records in file order and writes them with
//!   [`rdbscope_rdb::write::records::Writer`]: database selection when it
//!   changes, expires, LRU/LFU hints, functions, module AUX, and each value
//!   encoded by [`rdbscope_rdb::write::encode`] as the target's server
//!   would save it.
//! * Data the target cannot hold ([`Missing`]: hash field TTLs, streams,
//!   module values, functions) stops the conversion, naming the first key
//!   and counting them all, unless the user dropped exactly that
//!   ([`Drops`]). Metadata it cannot hold (consumer active times, stream
//!   counters, slot info, key metadata, LRU/LFU below RDB 9) is dropped and
//!   counted as a warning.
//! * [`convert_rdb`] runs it on the engine: chunks of records are turned
//!   into encoded key records on every thread, written in file order.

#![warn(missing_docs)]

use rdbscope_engine::json::{walk_json, JsonWalked, RecordSink};
use rdbscope_engine::{At, Collector, Flow, Sink, Source, Walked};
use rdbscope_rdb::write::encode::{self, Dropped, Missing, Target};
use rdbscope_rdb::write::records::Writer;
use rdbscope_rdb::{Header, KeyRecord, OwnedKey, OwnedRecord, Record, Scratch};
use rdbscope_select::KeyFilter;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

/// What the user allows to be left out, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// `--drop field-ttl`: keep the fields, remove their TTLs.
    pub field_ttl: bool,
    /// `--drop streams`.
    pub streams: bool,
    /// `--drop functions`.
    pub functions: bool,
    /// `--drop modules`: module values and module AUX records.
    pub modules: bool,
}

impl Drops {
    /// Parses a comma-separated list of `field-ttl`, `streams`,
    /// `functions`, `modules`.
    pub fn add(&mut self, what: &str) -> Result<(), String> {
        for w in what.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match w {
                "field-ttl" | "field-ttls" => self.field_ttl = true,
                "streams" | "stream" => self.streams = true,
                "functions" | "function" => self.functions = true,
                "modules" | "module" => self.modules = true,
                _ => {
                    return Err(format!(
                        "--drop {w}: expected field-ttl, streams, functions or modules"
                    ))
                }
            }
        }
        Ok(())
    }
}

/// What to write.
#[derive(Debug, Clone)]
pub struct Options {
    /// The file's version and the loading server's thresholds.
    pub target: Target,
    /// What may be left out.
    pub drops: Drops,
    /// The keys to write.
    pub filter: KeyFilter,
    /// Largest decompressed string.
    pub max_decompressed: u64,
}

/// What a conversion left out or could not write.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Keys written.
    pub keys: u64,
    /// Keys left out by `--drop` (`streams`, `modules`), by what they held.
    pub dropped_keys: BTreeMap<&'static str, u64>,
    /// Field TTLs removed by `--drop field-ttl`.
    pub dropped_field_ttls: u64,
    /// Hashes that lost field TTLs.
    pub hashes_without_ttls: u64,
    /// Records left out by `--drop` (`functions`, `module-aux`).
    pub dropped_records: BTreeMap<&'static str, u64>,
    /// Metadata the target has no place for, dropped with a warning.
    pub warnings: BTreeMap<&'static str, u64>,
    /// Data the target cannot hold and the user did not drop, by what it
    /// is: the conversion fails.
    pub refused: BTreeMap<&'static str, u64>,
    /// The first refused key or record, named.
    pub first_refused: Option<String>,
    /// Keys of the first few dropped (for the report).
    pub dropped_examples: Vec<String>,
}

impl Report {
    /// Whether the output is complete.
    pub fn ok(&self) -> bool {
        self.refused.is_empty()
    }

    fn merge(&mut self, o: Report) {
        self.keys += o.keys;
        for (k, v) in o.dropped_keys {
            *self.dropped_keys.entry(k).or_default() += v;
        }
        self.dropped_field_ttls += o.dropped_field_ttls;
        self.hashes_without_ttls += o.hashes_without_ttls;
        for (k, v) in o.dropped_records {
            *self.dropped_records.entry(k).or_default() += v;
        }
        for (k, v) in o.warnings {
            *self.warnings.entry(k).or_default() += v;
        }
        for (k, v) in o.refused {
            *self.refused.entry(k).or_default() += v;
        }
        if self.first_refused.is_none() {
            self.first_refused = o.first_refused;
        }
        for e in o.dropped_examples {
            if self.dropped_examples.len() < 10 {
                self.dropped_examples.push(e);
            }
        }
    }
}

fn name(db: u64, key: &[u8]) -> String {
    let mut v = Vec::new();
    let _ = rdbscope_json::write::write_bytes(&mut v, key);
    format!("key {} (db {db})", String::from_utf8_lossy(&v))
}

/// Records ready to be written, in order, their bytes in one buffer: a
/// chunk's worth is encoded on one thread and written on another, and one
/// buffer per chunk (rather than two allocations per key, each freed on
/// another thread than made it) keeps that hand-over cheap.
#[derive(Debug, Default)]
pub struct Items {
    bytes: Vec<u8>,
    list: Vec<Item>,
}

/// One record of [`Items`].
#[derive(Debug)]
enum Item {
    /// A key record, encoded: its key and value are ranges of the bytes.
    Key {
        db: u64,
        expire_at_ms: Option<i64>,
        /// LRU idle seconds (when the target holds it).
        idle_s: Option<u64>,
        /// LFU counter (when the target holds it).
        freq: Option<u8>,
        type_byte: u8,
        key: std::ops::Range<usize>,
        value: std::ops::Range<usize>,
    },
    /// Any other record, to be written as the target allows.
    Other(OwnedRecord),
}

/// Written [`Items`] handed back from the writing thread to the encoding
/// ones: a chunk's buffer is megabytes, and a fresh one per chunk costs
/// the kernel's zeroing of new pages every time.
#[derive(Debug, Default, Clone)]
struct Spare(Arc<std::sync::Mutex<Vec<Items>>>);

impl Spare {
    /// A cleared buffer, or a new one.
    fn take(&self) -> Items {
        self.0
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default()
    }

    /// Keeps `items` for a later chunk (a few at most).
    fn give(&self, mut items: Items) {
        items.clear();
        if let Ok(mut v) = self.0.lock() {
            if v.len() < 8 {
                v.push(items);
            }
        }
    }
}

impl Items {
    /// No items.
    pub fn new() -> Items {
        Items::default()
    }

    /// Adds a record other than a key, to be written as the target allows.
    pub fn push_other(&mut self, r: OwnedRecord) {
        self.list.push(Item::Other(r));
    }

    /// Empties it, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.list.clear();
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// What a key record carries besides its name and value.
struct Meta {
    db: u64,
    expire_at_ms: Option<i64>,
    idle_s: Option<u64>,
    freq: Option<u8>,
    key_meta: bool,
}

impl Meta {
    fn of_owned(k: &OwnedKey) -> Meta {
        Meta {
            db: k.db,
            expire_at_ms: k.expire_at_ms,
            idle_s: k.idle_s,
            freq: k.freq,
            key_meta: k.key_meta.is_some(),
        }
    }
}

/// Turns records into [`Items`]; one per thread.
pub struct Encoder {
    opts: Arc<Options>,
    arena: encode::Arena,
    key: Vec<u8>,
    /// What was left out so far.
    pub report: Report,
}

impl Encoder {
    /// An encoder for `opts`.
    pub fn new(opts: Arc<Options>) -> Encoder {
        Encoder {
            opts,
            arena: encode::Arena::default(),
            key: Vec::new(),
            report: Report::default(),
        }
    }

    fn refuse(&mut self, what: &'static str, who: String) {
        *self.report.refused.entry(what).or_default() += 1;
        if self.report.first_refused.is_none() {
            self.report.first_refused = Some(format!("{who} holds {what}"));
        }
    }

    fn dropped_key(&mut self, what: &'static str, who: String) {
        *self.report.dropped_keys.entry(what).or_default() += 1;
        if self.report.dropped_examples.len() < 10 {
            self.report.dropped_examples.push(who);
        }
    }

    /// Whether the filter selects `k`.
    pub fn selects(&self, k: &OwnedKey) -> bool {
        self.opts.filter.matches_owned(k)
    }

    /// Adds the item for a selected key to `out`; `false` when it is left
    /// out (dropped or refused; the report says which). An encoding error
    /// is returned.
    pub fn key(&mut self, k: &OwnedKey, out: &mut Items) -> Result<bool, String> {
        let t = self.opts.target;
        let drops = self.opts.drops;
        let plain_order = k.encoding == "skiplist";
        self.encode_key(
            out,
            Meta::of_owned(k),
            &k.key,
            k.value.key_type(),
            |out, dropped, _| {
                encode::value(out, &k.value, &t, drops.field_ttl, plain_order, dropped)
            },
        )
    }

    /// Adds the item for a key read from a file to `out`, encoded straight
    /// from its bytes (no owned copy); `false` when it is not selected,
    /// dropped or refused (the report says which).
    pub fn record(
        &mut self,
        k: &KeyRecord<'_>,
        scratch: &mut Scratch,
        out: &mut Items,
    ) -> Result<bool, String> {
        let max = self.opts.max_decompressed;
        if !self
            .opts
            .filter
            .matches_record(k, &mut self.key, max)
            .map_err(|e| e.to_string())?
        {
            return Ok(false);
        }
        let mut key = std::mem::take(&mut self.key);
        let r = self.record_as(k, scratch, out, &mut key);
        self.key = key;
        r
    }

    fn record_as(
        &mut self,
        k: &KeyRecord<'_>,
        scratch: &mut Scratch,
        out: &mut Items,
        key_buf: &mut Vec<u8>,
    ) -> Result<bool, String> {
        let max = self.opts.max_decompressed;
        let key = k
            .key
            .bytes_limited(key_buf, max)
            .map_err(|e| k.annotate(e).to_string())?;
        let t = self.opts.target;
        let drop_ttls = self.opts.drops.field_ttl;
        let meta = Meta {
            db: k.db,
            expire_at_ms: k.expire_at_ms,
            idle_s: k.idle_s,
            freq: k.freq,
            key_meta: k.key_meta.is_some(),
        };
        self.encode_key(out, meta, key, k.value.key_type(), |out, dropped, arena| {
            encode::record_value(out, k, &t, drop_ttls, dropped, arena, scratch)
        })
    }

    /// What both paths share: streams and module values the target cannot
    /// hold left out (dropped by name, or refused), the value encoded by
    /// `encode`, what it could not hold refused, what it dropped counted.
    fn encode_key(
        &mut self,
        out: &mut Items,
        m: Meta,
        key: &[u8],
        key_type: rdbscope_rdb::KeyType,
        encode: impl FnOnce(
            &mut Vec<u8>,
            &mut Dropped,
            &mut encode::Arena,
        ) -> rdbscope_rdb::write::Result<u8>,
    ) -> Result<bool, String> {
        let t = self.opts.target;
        let drops = self.opts.drops;
        if let Some(missing) = t.missing_type(key_type) {
            let (what, kind, dropped) = match missing {
                Missing::Stream => ("a stream", "streams", drops.streams),
                _ => ("a module value", "modules", drops.modules),
            };
            if dropped {
                self.dropped_key(kind, name(m.db, key));
            } else {
                self.refuse(what, name(m.db, key));
            }
            return Ok(false);
        }
        let mut dropped = Dropped::default();
        let start = out.bytes.len();
        out.bytes.extend_from_slice(key);
        let key_end = out.bytes.len();
        let type_byte = match encode(&mut out.bytes, &mut dropped, &mut self.arena) {
            Ok(b) => b,
            Err(e) => {
                out.bytes.truncate(start);
                if let rdbscope_rdb::write::Error::Missing(_) = e {
                    self.refuse("hash field TTLs", name(m.db, key));
                    return Ok(false);
                }
                return Err(format!("{}: {e}", name(m.db, key)));
            }
        };
        self.note(
            &dropped,
            m.db,
            key,
            m.idle_s.is_some() || m.freq.is_some(),
            m.key_meta,
        );
        let hints = t.redis_version() >= 9;
        self.report.keys += 1;
        out.list.push(Item::Key {
            db: m.db,
            expire_at_ms: m.expire_at_ms,
            idle_s: m.idle_s.filter(|_| hints),
            freq: m.freq.filter(|_| hints),
            type_byte,
            key: start..key_end,
            value: key_end..out.bytes.len(),
        });
        Ok(true)
    }

    /// Counts what encoding one key dropped.
    fn note(&mut self, dropped: &Dropped, db: u64, key: &[u8], has_hints: bool, has_meta: bool) {
        if dropped.field_ttls > 0 {
            self.report.dropped_field_ttls += dropped.field_ttls;
            self.report.hashes_without_ttls += 1;
            if self.report.dropped_examples.len() < 10 {
                self.report.dropped_examples.push(name(db, key));
            }
        }
        if dropped.stream_metadata > 0 {
            *self
                .report
                .warnings
                .entry("stream metadata (counters, entries read, consumer active times, producer state)")
                .or_default() += dropped.stream_metadata;
        }
        if self.opts.target.redis_version() < 9 && has_hints {
            *self
                .report
                .warnings
                .entry("LRU/LFU hints (RDB 9+)")
                .or_default() += 1;
        }
        if has_meta {
            *self
                .report
                .warnings
                .entry("key metadata (Redis 8.6 KEY_META)")
                .or_default() += 1;
        }
    }
}

/// Writes [`Items`] in order into one RDB file.
pub struct Converter<W: Write> {
    writer: Option<Writer<W>>,
    opts: Arc<Options>,
    db: Option<u64>,
    halted: bool,
    /// What was left out (records; keys are counted by the encoders and
    /// merged in).
    pub report: Report,
}

impl<W: Write> Converter<W> {
    /// Starts the file on `out`.
    pub fn new(out: W, opts: Arc<Options>) -> Result<Converter<W>, String> {
        let writer = Writer::new(out, opts.target.header)
            .map_err(|e| e.to_string())?
            .with_strings(opts.target.strings);
        Ok(Converter {
            writer: Some(writer),
            opts,
            db: None,
            halted: false,
            report: Report::default(),
        })
    }

    /// Stops writing (something was refused): later items are only
    /// counted.
    pub fn halt(&mut self) {
        self.halted = true;
    }

    /// Writes `items` in order. Once something was refused, nothing more
    /// is written (the rest is only counted).
    pub fn write(&mut self, items: &Items) -> Result<(), String> {
        for item in &items.list {
            self.item(item, &items.bytes)?;
        }
        Ok(())
    }

    fn item(&mut self, item: &Item, bytes: &[u8]) -> Result<(), String> {
        let io = |e: rdbscope_rdb::write::Error| e.to_string();
        if self.halted || !self.report.refused.is_empty() {
            if let Item::Other(r) = item {
                self.other(r, false)?;
            }
            return Ok(());
        }
        match item {
            Item::Key {
                db,
                expire_at_ms,
                idle_s,
                freq,
                key,
                type_byte,
                value,
            } => {
                let w = self.writer.as_mut().ok_or("finished")?;
                if self.db != Some(*db) {
                    w.select_db(*db).map_err(io)?;
                    self.db = Some(*db);
                }
                if let Some(t) = *expire_at_ms {
                    w.expire_ms(t).map_err(io)?;
                }
                if let Some(s) = *idle_s {
                    w.idle(s).map_err(io)?;
                }
                if let Some(f) = *freq {
                    w.freq(f).map_err(io)?;
                }
                w.key(*type_byte, &bytes[key.clone()], &bytes[value.clone()])
                    .map_err(io)
            }
            Item::Other(r) => self.other(r, true),
        }
    }

    fn warn(&mut self, what: &'static str) {
        *self.report.warnings.entry(what).or_default() += 1;
    }

    fn other(&mut self, r: &OwnedRecord, write: bool) -> Result<(), String> {
        let t = self.opts.target;
        let v = t.redis_version();
        let drops = self.opts.drops;
        let io = |e: rdbscope_rdb::write::Error| e.to_string();
        match r {
            OwnedRecord::Aux { name, value } if write => {
                let w = self.writer.as_mut().ok_or("finished")?;
                w.aux(name, value).map_err(io)?;
            }
            OwnedRecord::Function { code } => {
                if v >= 10 {
                    if write {
                        let w = self.writer.as_mut().ok_or("finished")?;
                        w.function(code).map_err(io)?;
                    }
                } else if drops.functions {
                    *self.report.dropped_records.entry("functions").or_default() += 1;
                } else {
                    self.refuse_record("a function library (FUNCTION2 needs RDB 10+)", "functions");
                }
            }
            OwnedRecord::FunctionPreGa { .. } => {
                if drops.functions {
                    *self.report.dropped_records.entry("functions").or_default() += 1;
                } else {
                    self.refuse_record(
                        "a Redis 7.0 release-candidate function (no later server loads that form)",
                        "functions",
                    );
                }
            }
            OwnedRecord::ModuleAux { module, when } => {
                if drops.modules {
                    *self.report.dropped_records.entry("module-aux").or_default() += 1;
                } else if v < 9 {
                    self.refuse_record("module AUX data (RDB 9+)", "modules");
                } else if write {
                    let id = rdbscope_rdb::write::module::module_id(&module.name, module.encver)
                        .map_err(|e| e.to_string())?;
                    let w = self.writer.as_mut().ok_or("finished")?;
                    w.module_aux(id, *when, &module.raw).map_err(io)?;
                }
            }
            OwnedRecord::SlotInfo {
                slot,
                size,
                expires_size,
            } => {
                if v >= 12 && t.header.flavor == rdbscope_rdb::Flavor::Redis {
                    if write {
                        let w = self.writer.as_mut().ok_or("finished")?;
                        w.slot_info(*slot, *size, *expires_size).map_err(io)?;
                    }
                } else {
                    self.warn("slot-info records (Redis RDB 12+)");
                }
            }
            OwnedRecord::SlotImport { .. } => self.warn("slot-import records (Valkey 9)"),
            // Unfiltered, the source's database selection and sizing hints
            // are kept where they stand; filtered, a database is selected
            // at its first key and the hints (which would be wrong) left out.
            OwnedRecord::SelectDb { db } if write && !self.opts.filter.is_active() => {
                if self.db != Some(*db) {
                    let w = self.writer.as_mut().ok_or("finished")?;
                    w.select_db(*db).map_err(io)?;
                    self.db = Some(*db);
                }
            }
            OwnedRecord::ResizeDb { keys, expires } if write && !self.opts.filter.is_active() => {
                let w = self.writer.as_mut().ok_or("finished")?;
                w.resize_db(*keys, *expires).map_err(io)?;
            }
            OwnedRecord::Header { .. }
            | OwnedRecord::SelectDb { .. }
            | OwnedRecord::ResizeDb { .. }
            | OwnedRecord::Eof { .. }
            | OwnedRecord::Aux { .. }
            | OwnedRecord::Key(_) => {}
        }
        Ok(())
    }

    fn refuse_record(&mut self, what: &'static str, kind: &'static str) {
        *self.report.refused.entry(kind).or_default() += 1;
        if self.report.first_refused.is_none() {
            self.report.first_refused = Some(format!("the file holds {what}"));
        }
    }

    /// Ends the file (EOF and checksum) and gives the output back, with
    /// the report: `Ok(None)` when something was refused (the file is not
    /// complete and must not be kept), `Err` when writing failed.
    pub fn finish(mut self, keys: Report) -> (Report, Result<Option<W>, String>) {
        self.report.merge(keys);
        if !self.report.ok() {
            return (self.report, Ok(None));
        }
        let w = self.writer.take().expect("not finished");
        let r = if self.opts.target.checksum {
            w.finish()
        } else {
            w.finish_unchecked()
        };
        let r = r.map(Some).map_err(|e| e.to_string());
        (self.report, r)
    }
}

/// What both sinks keep for a chunk: its encoded items, the encoder's
/// report, and the error that stopped it.
struct Batch {
    enc: Encoder,
    items: Items,
    spare: Spare,
    error: Option<String>,
}

/// The value of one chunk for the collector.
type ChunkValue = (Items, Report, Option<String>);

impl Batch {
    fn new(opts: &Arc<Options>, spare: &Spare) -> Batch {
        Batch {
            enc: Encoder::new(opts.clone()),
            items: Items::new(),
            spare: spare.clone(),
            error: None,
        }
    }

    /// Keeps `r`'s error, if any; whether to go on.
    fn flow<T>(&mut self, r: Result<T, String>) -> Flow {
        match r {
            Ok(_) => Flow::Continue,
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    fn end(&mut self) -> ChunkValue {
        let next = self.spare.take();
        (
            std::mem::replace(&mut self.items, next),
            std::mem::take(&mut self.enc.report),
            self.error.take(),
        )
    }
}

/// The engine sink: one chunk of records to items.
struct ConvertSink {
    batch: Batch,
    scratch: Scratch,
}

impl Sink for ConvertSink {
    type Chunk = ChunkValue;

    fn record(&mut self, r: &Record<'_>, _at: &At) -> Flow {
        let b = &mut self.batch;
        let r = match r {
            Record::Key(k) => b.enc.record(k, &mut self.scratch, &mut b.items).map(drop),
            r => r
                .to_owned(&mut self.scratch)
                .map(|other| b.items.push_other(other))
                .map_err(|e| e.to_string()),
        };
        b.flow(r)
    }

    fn end(&mut self) -> Self::Chunk {
        self.batch.end()
    }
}

struct ConvertCollector<'c, W: Write> {
    conv: &'c mut Converter<W>,
    keys: Report,
    spare: Spare,
    error: Option<String>,
}

impl<'c, W: Write> ConvertCollector<'c, W> {
    fn new(conv: &'c mut Converter<W>, spare: &Spare) -> Self {
        ConvertCollector {
            conv,
            keys: Report::default(),
            spare: spare.clone(),
            error: None,
        }
    }

    /// The keys' report and how the walk went, or the encoding or write
    /// error that stopped it.
    fn result<T>(self, walked: T) -> Result<(Report, T), String> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.keys, walked)),
        }
    }
}

impl<W: Write> Collector<ChunkValue> for ConvertCollector<'_, W> {
    fn collect(&mut self, (items, report, error): ChunkValue) -> Flow {
        self.keys.merge(report);
        let written = self.conv.write(&items);
        self.spare.give(items);
        if let Err(e) = written {
            self.error = Some(e);
            return Flow::Stop;
        }
        if let Some(e) = error {
            self.error = Some(e);
            return Flow::Stop;
        }
        // Once a key is refused, only counting goes on.
        if !self.keys.refused.is_empty() {
            self.conv.halt();
        }
        Flow::Continue
    }
}

/// Converts the RDB in `source` into `conv`; returns the keys' report and
/// how the walk went. A decoding error is in `Walked::error`; an encoding
/// or write error is the `Err`.
pub fn convert_rdb<W: Write>(
    source: Source<'_>,
    opts: &Arc<Options>,
    engine: &rdbscope_engine::Options,
    on_progress: &mut dyn FnMut(u64),
    conv: &mut Converter<W>,
) -> Result<(Report, Walked), String> {
    let spare = Spare::default();
    let mut c = ConvertCollector::new(conv, &spare);
    let walked = rdbscope_engine::walk(
        source,
        engine,
        on_progress,
        |_: &Header| ConvertSink {
            batch: Batch::new(opts, &spare),
            scratch: Scratch::with_limit(opts.max_decompressed),
        },
        &mut c,
    );
    c.result(walked)
}

/// The sink of the walks over owned records (parsed from JSON, or held
/// in memory): one batch of them to items.
struct JsonSink(Batch);

impl RecordSink for JsonSink {
    type Chunk = ChunkValue;

    fn record(&mut self, r: OwnedRecord) -> Flow {
        let b = &mut self.0;
        let r = match r {
            OwnedRecord::Key(k) if b.enc.selects(&k) => b.enc.key(&k, &mut b.items).map(drop),
            OwnedRecord::Key(_) => Ok(()),
            other => {
                b.items.push_other(other);
                Ok(())
            }
        };
        b.flow(r)
    }

    fn end(&mut self) -> Self::Chunk {
        self.0.end()
    }
}

/// Converts the records of a JSON dump (`reader`) into `conv`, parsing
/// and encoding on `threads` threads; returns the keys' report and how the
/// walk went. A JSON error is in `JsonWalked::error`; an encoding or write
/// error is the `Err`.
pub fn convert_json<R: std::io::BufRead, W: Write>(
    reader: &mut rdbscope_json::JsonReader<R>,
    opts: &Arc<Options>,
    threads: usize,
    on_progress: &mut dyn FnMut(u64),
    conv: &mut Converter<W>,
) -> Result<(Report, JsonWalked), String> {
    let spare = Spare::default();
    let mut c = ConvertCollector::new(conv, &spare);
    let walked = walk_json(
        reader,
        threads,
        on_progress,
        || JsonSink(Batch::new(opts, &spare)),
        &mut c,
    );
    c.result(walked)
}

/// Converts records already in memory (a replayed AOF's dataset) into
/// `conv`, encoding on `threads` threads; returns the keys' report, or the
/// encoding or write error that stopped it.
pub fn convert_owned<W: Write>(
    records: &mut dyn Iterator<Item = OwnedRecord>,
    opts: &Arc<Options>,
    threads: usize,
    conv: &mut Converter<W>,
) -> Result<Report, String> {
    let spare = Spare::default();
    let mut c = ConvertCollector::new(conv, &spare);
    let walked = rdbscope_engine::owned::walk_owned(
        records,
        threads,
        || JsonSink(Batch::new(opts, &spare)),
        &mut c,
    );
    c.result(walked).map(|(report, _)| report)
}

/// Sets one of the loading server's settings on `t`, by its `redis.conf`
/// name (the `listpack` and the older `ziplist` names alike):
/// `hash-max-listpack-entries`, `hash-max-listpack-value`,
/// `zset-max-listpack-entries`, `zset-max-listpack-value`,
/// `set-max-intset-entries`, `set-max-listpack-entries`,
/// `set-max-listpack-value`, `list-max-listpack-size`,
/// `stream-node-max-entries`, `stream-node-max-bytes`, `rdbcompression`,
/// `rdbchecksum`,
/// and `quicklist-packed-threshold` (the `DEBUG` setting).
pub fn set_config(t: &mut Target, name: &str, value: &str) -> Result<(), String> {
    let bad = || format!("--config {name}={value}: not a valid value");
    let n = || value.trim().parse::<usize>().map_err(|_| bad());
    let c = &mut t.config;
    match name.trim().to_ascii_lowercase().replace("ziplist", "listpack").as_str() {
        "hash-max-listpack-entries" => c.hash_max_listpack_entries = n()?,
        "hash-max-listpack-value" => c.hash_max_listpack_value = n()?,
        "zset-max-listpack-entries" => c.zset_max_listpack_entries = n()?,
        "zset-max-listpack-value" => c.zset_max_listpack_value = n()?,
        "set-max-intset-entries" => c.set_max_intset_entries = n()?,
        "set-max-listpack-entries" => c.set_max_listpack_entries = n()?,
        "set-max-listpack-value" => c.set_max_listpack_value = n()?,
        "list-max-listpack-size" => {
            c.list_max_listpack_size = value.trim().parse::<i32>().map_err(|_| bad())?
        }
        "quicklist-packed-threshold" => c.list_packed_threshold = n()?,
        "stream-node-max-entries" => t.stream_node_max_entries = n()?,
        "stream-node-max-bytes" => t.stream_node_max_bytes = n()?,
        "rdbchecksum" => {
            t.checksum = match value.trim() {
                "yes" => true,
                "no" => false,
                _ => return Err(bad()),
            }
        }
        "rdbcompression" => {
            t.strings.compress = match value.trim() {
                "yes" => true,
                "no" => false,
                _ => return Err(bad()),
            }
        }
        _ => {
            return Err(format!(
                "--config {name}: not a setting convert uses (hash-, zset-, set-, list- thresholds, stream-node-max-*, rdbcompression)"
            ))
        }
    }
    Ok(())
}
