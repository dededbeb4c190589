//! The two passes over an input: indexing every selected key (its prints
//! and locator), and fetching the keys at given locators in full. An RDB
//! is walked by the engine (chunks on every thread, results in file
//! order); a JSON dump by its reader, in order.

use crate::index::{Entry, Index};
use crate::print::{key_print, owned_print, record_print, PrintOptions};
use rdbscope_engine::{At, Collector, Flow, Sink, Source, Walked};
use rdbscope_json::read::JsonReader;
use rdbscope_rdb::{Header, KeyRecord, OwnedKey, OwnedRecord, Record, Scratch};
use rdbscope_select::KeyFilter;
use std::io::{self, BufRead};
use std::sync::Arc;

/// Why a pass stopped.
#[derive(Debug)]
pub enum PassError {
    /// The input is broken (with the offset or line and, when known, the
    /// key).
    Input(String),
    /// A temporary file could not be written or read.
    Io(io::Error),
}

impl std::fmt::Display for PassError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassError::Input(s) => f.write_str(s),
            PassError::Io(e) => write!(f, "temporary file: {e}"),
        }
    }
}

/// What every pass needs.
#[derive(Debug, Clone)]
pub struct PassOptions {
    /// Keys to compare.
    pub filter: KeyFilter,
    /// What prints cover.
    pub print: PrintOptions,
    /// Largest decompressed string.
    pub max_decompressed: u64,
    /// The engine's settings (threads, checksum).
    pub engine: rdbscope_engine::Options,
}

struct PrintSink {
    opts: Arc<PassOptions>,
    scratch: Scratch,
    key: Vec<u8>,
    buf: Vec<u8>,
    out: Vec<Entry>,
    error: Option<String>,
}

impl PrintSink {
    fn one(&mut self, k: &KeyRecord<'_>, offset: u64) -> rdbscope_rdb::Result<()> {
        if !self
            .opts
            .filter
            .matches_record(k, &mut self.key, self.opts.max_decompressed)?
        {
            return Ok(());
        }
        let key = k
            .key
            .bytes_limited(&mut self.key, self.opts.max_decompressed)
            .map_err(|e| k.annotate(e))?;
        let kp = key_print(k.db, key);
        let vp = record_print(k, &mut self.scratch, &mut self.buf, &self.opts.print)
            .map_err(|e| k.annotate(e))?;
        self.out.push(Entry {
            key: kp,
            value: vp,
            loc: offset,
        });
        Ok(())
    }
}

impl Sink for PrintSink {
    type Chunk = (Vec<Entry>, Option<String>);

    fn record(&mut self, r: &Record<'_>, at: &At) -> Flow {
        if let Record::Key(k) = r {
            if let Err(e) = self.one(k, at.offset) {
                self.error = Some(e.to_string());
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn end(&mut self) -> Self::Chunk {
        (std::mem::take(&mut self.out), self.error.take())
    }
}

struct IndexCollector<'i> {
    index: &'i mut Index,
    error: Option<PassError>,
}

impl Collector<(Vec<Entry>, Option<String>)> for IndexCollector<'_> {
    fn collect(&mut self, (entries, error): (Vec<Entry>, Option<String>)) -> Flow {
        for e in entries {
            if let Err(e) = self.index.push(e) {
                self.error = Some(PassError::Io(e));
                return Flow::Stop;
            }
        }
        if let Some(e) = error {
            self.error = Some(PassError::Input(e));
            return Flow::Stop;
        }
        Flow::Continue
    }
}

fn walk_error(w: &Walked) -> Option<PassError> {
    w.error.as_ref().map(|e| PassError::Input(e.to_string()))
}

/// Indexes the selected keys of an RDB.
pub fn index_rdb(
    source: Source<'_>,
    opts: &PassOptions,
    index: &mut Index,
    on_progress: &mut dyn FnMut(u64),
) -> Result<(), PassError> {
    let shared = Arc::new(opts.clone());
    let mut c = IndexCollector { index, error: None };
    let walked = rdbscope_engine::walk(
        source,
        &opts.engine,
        on_progress,
        |_: &Header| PrintSink {
            opts: shared.clone(),
            scratch: Scratch::with_limit(opts.max_decompressed),
            key: Vec::new(),
            buf: Vec::new(),
            out: Vec::new(),
            error: None,
        },
        &mut c,
    );
    match c.error.or_else(|| walk_error(&walked)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The selected keys of owned records (a JSON dump's, a replayed AOF's),
/// each with its locator: its place among the keys.
fn record_keys(
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
    filter: &mut KeyFilter,
    mut f: impl FnMut(u64, OwnedKey) -> Result<bool, PassError>,
) -> Result<(), PassError> {
    let mut n = 0u64;
    loop {
        match next() {
            Ok(Some(OwnedRecord::Key(k))) => {
                let loc = n;
                n += 1;
                if filter.matches_owned(&k) && !f(loc, k)? {
                    return Ok(());
                }
            }
            Ok(Some(OwnedRecord::Aux { name, value })) if name == b"ctime" => {
                if let Some(t) = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                {
                    filter.set_file_time(t);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) => return Err(PassError::Input(e)),
        }
    }
}

/// Indexes the selected keys of a JSON dump.
pub fn index_json<R: BufRead>(
    reader: &mut JsonReader<R>,
    opts: &PassOptions,
    index: &mut Index,
) -> Result<(), PassError> {
    index_records(
        &mut || reader.next_record().map_err(|e| e.to_string()),
        opts,
        index,
    )
}

/// Indexes the selected keys of owned records (a replayed AOF's).
pub fn index_records(
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
    opts: &PassOptions,
    index: &mut Index,
) -> Result<(), PassError> {
    let mut filter = opts.filter.clone();
    record_keys(next, &mut filter, |loc, k| {
        let vp = owned_print(&k, &opts.print).map_err(|e| PassError::Input(e.to_string()))?;
        index
            .push(Entry {
                key: key_print(k.db, &k.key),
                value: vp,
                loc,
            })
            .map_err(PassError::Io)?;
        Ok(true)
    })
}

struct FetchSink {
    wanted: Arc<Vec<u64>>,
    scratch: Scratch,
    out: Vec<(u64, OwnedKey)>,
    error: Option<String>,
}

impl Sink for FetchSink {
    type Chunk = (Vec<(u64, OwnedKey)>, Option<String>);

    fn record(&mut self, r: &Record<'_>, at: &At) -> Flow {
        if let Record::Key(k) = r {
            if self.wanted.binary_search(&at.offset).is_ok() {
                match k.to_owned(&mut self.scratch) {
                    Ok(o) => self.out.push((at.offset, o)),
                    Err(e) => {
                        self.error = Some(e.to_string());
                        return Flow::Stop;
                    }
                }
            }
        }
        Flow::Continue
    }

    fn end(&mut self) -> Self::Chunk {
        (std::mem::take(&mut self.out), self.error.take())
    }
}

struct FetchCollector<'f> {
    f: &'f mut dyn FnMut(u64, OwnedKey) -> bool,
    error: Option<PassError>,
}

impl Collector<(Vec<(u64, OwnedKey)>, Option<String>)> for FetchCollector<'_> {
    fn collect(&mut self, (keys, error): (Vec<(u64, OwnedKey)>, Option<String>)) -> Flow {
        for (loc, k) in keys {
            if !(self.f)(loc, k) {
                return Flow::Stop;
            }
        }
        if let Some(e) = error {
            self.error = Some(PassError::Input(e));
            return Flow::Stop;
        }
        Flow::Continue
    }
}

/// Gives `f` the keys of an RDB at the `wanted` locators (sorted), in
/// file order; `f` returns false to stop.
pub fn fetch_rdb(
    source: Source<'_>,
    opts: &PassOptions,
    wanted: Vec<u64>,
    f: &mut dyn FnMut(u64, OwnedKey) -> bool,
) -> Result<(), PassError> {
    let wanted = Arc::new(wanted);
    let mut c = FetchCollector { f, error: None };
    // The checksum was verified by the index pass.
    let engine = rdbscope_engine::Options {
        verify_checksum: false,
        ..opts.engine
    };
    let walked = rdbscope_engine::walk(
        source,
        &engine,
        &mut |_| {},
        |_: &Header| FetchSink {
            wanted: wanted.clone(),
            scratch: Scratch::with_limit(opts.max_decompressed),
            out: Vec::new(),
            error: None,
        },
        &mut c,
    );
    if walked.stopped && c.error.is_none() {
        return Ok(());
    }
    match c.error.or_else(|| walk_error(&walked)) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// As [`fetch_rdb`], for a JSON dump.
pub fn fetch_json<R: BufRead>(
    reader: &mut JsonReader<R>,
    opts: &PassOptions,
    wanted: &[u64],
    f: &mut dyn FnMut(u64, OwnedKey) -> bool,
) -> Result<(), PassError> {
    fetch_records(
        &mut || reader.next_record().map_err(|e| e.to_string()),
        opts,
        wanted,
        f,
    )
}

/// As [`fetch_rdb`], for owned records (a replayed AOF's).
pub fn fetch_records(
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
    opts: &PassOptions,
    wanted: &[u64],
    f: &mut dyn FnMut(u64, OwnedKey) -> bool,
) -> Result<(), PassError> {
    let mut filter = opts.filter.clone();
    record_keys(next, &mut filter, |loc, k| {
        Ok(if wanted.binary_search(&loc).is_ok() {
            f(loc, k)
        } else {
            true
        })
    })
}
