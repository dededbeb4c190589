//! `dump` on the walking engine: each chunk of records is rendered into a
//! buffer of its own (on whichever thread walks it), and the buffers are
//! written in file order.
//!
//! The output is byte for byte what one printer over the whole file would
//! write, whatever the chunks:
//! * JSON Lines: every line stands alone.
//! * JSON document: every chunk's printer separates its records as if
//!   records came before it (`,\n`); the writer turns the very first
//!   separator into the opening `[\n` and closes the array at the end.
//! * RESP: a chunk's printer does not know which database the output has
//!   selected when it starts, so it emits a SELECT before its first key;
//!   the writer, which does know, leaves that SELECT out when it selects
//!   the database already selected.
//!
//! Errors keep their one-printer meaning: everything before the first
//! broken record is written (in whole records for JSON), then the error is
//! returned.

use crate::error::PrintError;
use crate::json::{JsonPrinter, Layout};
use crate::resp::RespPrinter;
use rdbscope_engine::{At, Collector, Flow, Sink, Source, WalkError};
use rdbscope_rdb::{Header, KeyRecord, Record, Scratch};
use std::io::Write;
use std::sync::Mutex;

/// Written buffers kept for rendering again (a fresh buffer of megabytes
/// is a fresh mapping, faulted in page by page).
type Pool = Mutex<Vec<Vec<u8>>>;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// One JSON array.
    Json,
    /// RESTORE commands.
    Resp,
}

/// Which key records to write; one per thread (it may keep buffers).
pub trait KeyFilter: Send {
    /// Whether `k` is written.
    fn accepts(&mut self, k: &KeyRecord<'_>) -> rdbscope_rdb::Result<bool>;

    /// After a match, whether no later key can match (the walk stops).
    fn done_after_match(&self) -> bool {
        false
    }
}

/// How to dump.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The output format.
    pub format: Format,
    /// Write non-key records (header, AUX, ...) too (JSON); when keys are
    /// filtered, only key records are written.
    pub records_too: bool,
    /// Key records carry their values (JSON); without, their size
    /// (`--keys-only`, [`JsonPrinter::without_values`]).
    pub values: bool,
    /// Largest decompressed LZF string accepted.
    pub max_decompressed: u64,
    /// Threads, chunk size, checksum.
    pub engine: rdbscope_engine::Options,
    /// RESP: how RESTORE commands are made (re-encoded for a target
    /// version, REPLACE).
    pub restore: crate::resp::Restore,
}

/// What a dump counted.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Empty collections left out of RESP output.
    pub skipped_empty: u64,
    /// Offset just past the last record written (past the checksum when
    /// the EOF record was reached).
    pub end: u64,
    /// With the engine's `stop_at_eof` (an AOF preamble from a stream):
    /// the bytes after the checksum read already, where the commands
    /// begin.
    pub rest: Vec<u8>,
}

/// Dumps `source` to `out`. Filters are made by `make_filter`, one per
/// thread.
pub fn dump<W, F>(
    source: Source<'_>,
    opts: &Options,
    make_filter: impl Fn() -> F + Sync,
    on_progress: &mut dyn FnMut(u64),
    out: W,
) -> Result<Stats, PrintError>
where
    W: Write,
    F: KeyFilter,
{
    let engine = opts.engine;
    let pool: Pool = Mutex::new(Vec::new());
    let mut w = Writer {
        pool: &pool,
        keep: engine.threads + 3,
        out,
        format: opts.format,
        records_too: opts.records_too,
        started: false,
        selected: None,
        skipped_empty: 0,
        error: None,
    };
    let mut walked = rdbscope_engine::walk(
        source,
        &engine,
        on_progress,
        |h: &Header| ChunkRender {
            pool: &pool,
            header: *h,
            format: opts.format,
            records_too: opts.records_too,
            values: opts.values,
            filter: make_filter(),
            limit: opts.max_decompressed,
            scratch: Some(Scratch::with_limit(opts.max_decompressed)),
            json: None,
            resp: None,
            restore: opts.restore,
            // An AOF preamble's walk must reach its end: the commands
            // follow it in the stream.
            stop_after_match: !engine.stop_at_eof,
            spare: Vec::new(),
            chunk: Rendered::default(),
        },
        &mut w,
    );
    let stats = Stats {
        skipped_empty: w.skipped_empty,
        end: walked.end,
        rest: std::mem::take(&mut walked.rest),
    };
    if let Some(e) = w.error.take() {
        // Whatever was written stays written; a document stays open.
        let _ = w.out.flush();
        return Err(e);
    }
    match walked.error {
        Some(WalkError::Decode(e)) => {
            w.out.flush()?;
            return Err(e.into());
        }
        Some(WalkError::Io(e)) => {
            w.out.flush()?;
            return Err(read_error(walked.size, &e));
        }
        None => {}
    }
    if opts.format == Format::Json {
        w.out
            .write_all(if w.started { b"\n]\n" } else { b"[]\n" })?;
    }
    w.out.flush()?;
    Ok(stats)
}

/// A failure to read the input (a broken compressed stream, a device
/// error) at content offset `offset`: a problem with the input, reported as
/// decoding errors are, not as a failure to write.
pub fn read_error(offset: u64, e: &std::io::Error) -> PrintError {
    PrintError::Rdb(
        rdbscope_rdb::Error::invalid(
            rdbscope_rdb::Rule::InputRead,
            usize::try_from(offset).unwrap_or(usize::MAX),
            format!("read error: {e}"),
        )
        .with_stage(rdbscope_rdb::Stage::ReadType),
    )
}

/// One chunk, rendered.
#[derive(Default)]
struct Rendered {
    bytes: Vec<u8>,
    error: Option<PrintError>,
    skipped_empty: u64,
    /// RESP: the SELECT before the chunk's first key: (db, offset in
    /// `bytes`).
    first_select: Option<(u64, usize)>,
    /// RESP: the database selected at the end of the chunk.
    selected: Option<u64>,
}

/// The per-record work of `dump` on one chunk.
struct ChunkRender<'p, F> {
    pool: &'p Pool,
    header: Header,
    format: Format,
    records_too: bool,
    values: bool,
    filter: F,
    /// Largest decompressed LZF string accepted.
    limit: u64,
    /// Decompression buffers, kept from chunk to chunk.
    scratch: Option<Scratch>,
    json: Option<JsonPrinter<std::io::Sink>>,
    resp: Option<RespPrinter<std::io::Sink>>,
    restore: crate::resp::Restore,
    /// Whether a key filter's `done_after_match` may end the walk.
    stop_after_match: bool,
    /// A written buffer to render into again.
    spare: Vec<u8>,
    chunk: Rendered,
}

impl<F: KeyFilter> ChunkRender<'_, F> {
    fn print(&mut self, r: &Record<'_>) -> Result<(), PrintError> {
        if self.json.is_none() && self.resp.is_none() && self.spare.capacity() == 0 {
            if let Some(b) = self.pool.lock().ok().and_then(|mut p| p.pop()) {
                self.spare = b;
            }
        }
        match self.format {
            Format::Resp => {
                let (spare, header, restore) = (&mut self.spare, &self.header, self.restore);
                let p = self.resp.get_or_insert_with(|| {
                    RespPrinter::in_memory(std::mem::take(spare), header).with_restore(restore)
                });
                let (before, at) = (p.selected(), p.buffered());
                let r = p.record(r);
                if before.is_none() && self.chunk.first_select.is_none() {
                    if let Some(db) = p.selected() {
                        self.chunk.first_select = Some((db, at));
                    }
                }
                r
            }
            Format::JsonLines | Format::Json => {
                let layout = if self.format == Format::Json {
                    Layout::Document
                } else {
                    Layout::Lines
                };
                let (spare, scratch, limit) = (&mut self.spare, &mut self.scratch, self.limit);
                let values = self.values;
                let p = self.json.get_or_insert_with(|| {
                    let scratch = scratch.take().unwrap_or_else(|| Scratch::with_limit(limit));
                    let p = JsonPrinter::in_memory(std::mem::take(spare), layout, scratch)
                        .after_records(1);
                    if values {
                        p
                    } else {
                        p.without_values()
                    }
                });
                p.record(r)
            }
        }
    }
}

/// The SELECT command a RESP printer writes for `db`.
fn select_command(db: u64) -> Vec<u8> {
    let t = (db as i64).to_string();
    format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{t}\r\n", t.len()).into_bytes()
}

impl<F: KeyFilter> Sink for ChunkRender<'_, F> {
    type Chunk = Rendered;

    fn record(&mut self, r: &Record<'_>, _at: &At) -> Flow {
        let mut stop = false;
        let print = match r {
            Record::Key(k) => match self.filter.accepts(k) {
                Ok(yes) => {
                    stop = yes && self.stop_after_match && self.filter.done_after_match();
                    yes
                }
                Err(e) => {
                    self.chunk.error = Some(e.into());
                    return Flow::Stop;
                }
            },
            _ => self.records_too,
        };
        if print {
            if let Err(e) = self.print(r) {
                self.chunk.error = Some(e);
                return Flow::Stop;
            }
        }
        if stop {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    fn end(&mut self) -> Rendered {
        let mut chunk = std::mem::take(&mut self.chunk);
        if let Some(p) = self.json.take() {
            let (bytes, scratch) = p.into_parts();
            chunk.bytes = bytes;
            self.scratch = Some(scratch);
        }
        if let Some(p) = self.resp.take() {
            chunk.skipped_empty = p.skipped_empty();
            chunk.selected = p.selected();
            chunk.bytes = p.into_buffer();
        }
        chunk
    }
}

/// Writes the rendered chunks in order.
struct Writer<'p, W> {
    pool: &'p Pool,
    /// Buffers kept in the pool at most.
    keep: usize,
    out: W,
    format: Format,
    records_too: bool,
    /// JSON document: the opening bracket is written.
    started: bool,
    /// RESP: the database the output has selected.
    selected: Option<u64>,
    skipped_empty: u64,
    error: Option<PrintError>,
}

impl<W: Write> Writer<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.format == Format::Json && !self.started && !bytes.is_empty() {
            // The first record's ",\n" (see the module docs) opens the array.
            self.started = true;
            self.out.write_all(b"[\n")?;
            return self.out.write_all(&bytes[2.min(bytes.len())..]);
        }
        self.out.write_all(bytes)
    }
}

impl<W: Write> Collector<Rendered> for Writer<'_, W> {
    fn header(&mut self, h: &Header) -> Flow {
        if !self.records_too || self.format == Format::Resp {
            return Flow::Continue;
        }
        let layout = match self.format {
            Format::Json => Layout::Document,
            _ => Layout::Lines,
        };
        let mut p = JsonPrinter::in_memory(Vec::new(), layout, Scratch::new()).after_records(1);
        let written = p
            .header(h)
            .map(|()| p.into_parts().0)
            .and_then(|b| Ok(self.write(&b)?));
        if let Err(e) = written {
            self.error = Some(e);
            return Flow::Stop;
        }
        Flow::Continue
    }

    fn collect(&mut self, c: Rendered) -> Flow {
        self.skipped_empty += c.skipped_empty;
        let mut bytes = &c.bytes[..];
        let written = match c.first_select {
            Some((db, at)) if self.selected == Some(db) => {
                let select = select_command(db);
                let (head, rest) = bytes.split_at(at.min(bytes.len()));
                match rest.strip_prefix(&select[..]) {
                    Some(rest) => {
                        bytes = rest;
                        self.write(head).and_then(|()| self.write(bytes))
                    }
                    None => self.write(bytes),
                }
            }
            _ => self.write(bytes),
        };
        if c.selected.is_some() {
            self.selected = c.selected;
        }
        let buf = c.bytes;
        // (A buffer grown by one huge record is let go, not kept.)
        if buf.capacity() <= 64 << 20 {
            if let Ok(mut p) = self.pool.lock() {
                // Not cleared: its bytes are initialized, so the next
                // printer need not zero them again (`OutBuf::from_vec`).
                if p.len() < self.keep {
                    p.push(buf);
                }
            }
        }
        if let Err(e) = written {
            self.error = Some(PrintError::Io(e));
            return Flow::Stop;
        }
        if let Some(e) = c.error {
            self.error = Some(e);
            return Flow::Stop;
        }
        Flow::Continue
    }
}
