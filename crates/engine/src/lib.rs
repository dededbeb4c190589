//! The walking engine: how the records of an input (an RDB, or a JSON
//! dump) reach a command.
//!
//! Every command that reads records (`info`, `check`, `dump`, and the ones
//! to come) supplies only what it does per record, as a [`Sink`] (the work
//! on one chunk of records, on any thread) and a [`Collector`] (the chunks'
//! results put together in file order, on the calling thread). The engine
//! owns the rest: where the bytes come from, giving pages back, progress,
//! threads and the order of outputs. This is the shape of ripgrep's
//! searcher and its sink, with chunks as the unit of work.
//!
//! # Sources
//!
//! * [`Source::Mapped`]: the whole input as one slice (a memory map). Pages
//!   behind the walk are released through the source's callback, on the
//!   calling thread, only behind every thread's position and behind the
//!   checksum.
//! * [`Source::Stream`]: any `Read` (standard input, pipes, FIFOs, devices,
//!   decompressors). Records are decoded from a window buffer. When a
//!   record runs past the window's end and the stream has more, the
//!   unconsumed tail moves to the front, more is read, and the record is
//!   decoded again; the window grows only when one record is larger than
//!   it, to what that record needs but at most twice its size per step,
//!   and only once the window is full of bytes that actually arrived. So a
//!   length that claims 4 GB costs 4 GB only if 4 GB arrive. Memory: the
//!   window ([`WINDOW`] bytes, or about the largest record) plus what the
//!   consumer holds. The CRC-64 is computed over every byte, in order.
//!
//! # Threads and chunks
//!
//! With [`Options::threads`] above 1 and a mapped source, the file is cut
//! into chunks of about [`Options::chunk_size`] bytes. Each worker thread
//! finds a plausible record start near its chunk's nominal start, walks
//! from there to the next chunk's start and feeds its own sink. A chunk
//! counts only when it is *proven*: the walk of the chunk before it
//! (itself proven) ended exactly on its start, with the same database
//! selected as the worker assumed. Otherwise its result is thrown away and
//! the calling thread walks that stretch itself, from where the previous
//! chunk really ended. Bytes crafted to look like records can therefore
//! only cost time, never change a result. Chunk values are collected in
//! file order through a bounded window (at most a few chunks per thread
//! are in flight). The CRC-64 is computed on the calling thread over each
//! proven chunk as it is collected, and the EOF record is read there, so
//! the checksum is exactly a serial walk's.
//!
//! A stream is decoded on the calling thread as it arrives, so its chunks
//! are proven by construction: with one thread the command's sink runs
//! there too; with more, the calling thread only skims (boundaries, CRC)
//! and hands each chunk, copied out of the window, to worker threads, and
//! collects their values in order (at most 2 × threads + 4 in flight).
//!
//! # Contract
//!
//! * Order: [`Collector::collect`] receives chunk values in file order,
//!   each covering the records right after the previous one's. Together
//!   they cover every record from the header up to the first error, the
//!   first [`Flow::Stop`], or the EOF record, whatever the number of
//!   threads or the chunk size. A sink whose chunk value depends only on
//!   the chunk's records and its starting database gives the same
//!   collected result with any number of threads.
//! * Threads: sinks may run on worker threads (hence `Send`); the
//!   collector, the progress callback and the source's release callback
//!   run on the calling thread only.
//! * Early stop: a sink's [`Flow::Stop`] ends its chunk at that record; the
//!   chunk is collected and the walk ends. A collector's `Stop` ends the
//!   walk after that chunk. [`Walked::stopped`] says so.
//! * Errors: the walk ends at the earliest broken record in the file (the
//!   one a serial walk meets first). Everything before it is collected;
//!   then [`Walked::error`] holds the error, with absolute offsets. Errors
//!   a sink finds itself (a broken value) belong in its chunk value.
//! * The `EOF` record goes to a sink on the calling thread, last, with its
//!   checksum verified over the whole input and `trailing` counting every
//!   byte after the checksum (a stream is read to its end for this).

//!
//! # JSON dumps
//!
//! [`json::walk_json`] walks the records of a JSON dump (what `dump`
//! writes) the same way, to a [`json::RecordSink`] of owned records: the
//! calling thread frames records' texts, workers parse and use them, and
//! batch values are collected in input order.

#![warn(missing_docs)]

mod chunked;
pub mod json;
pub mod owned;
mod segment;
pub mod sink;
pub mod source;
mod window;

pub use sink::{At, Collector, Flow, Sink};
pub use source::Source;
pub use window::Window;

use rdbscope_rdb::{Eof, Header, Rdb};
use std::fmt;
use std::io;

/// The window a stream is read into (it grows only for a larger record).
pub const WINDOW: usize = 4 << 20;

/// The default chunk: large enough that the work to prove a chunk's
/// start is lost in the noise, small enough that a few per thread in
/// flight stay well inside the memory budget.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// Tests set this environment variable (a number of bytes) to cut the
/// corpus's small files into many chunks.
pub const CHUNK_SIZE_ENV: &str = "RDBSCOPE_TEST_CHUNK_SIZE";

/// Tests set this environment variable (a number of bytes) to make a
/// stream's window small, so that small files refill it many times.
pub const WINDOW_ENV: &str = "RDBSCOPE_TEST_WINDOW";

/// How to walk.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Threads that may run sinks. 1: everything on the calling thread.
    pub threads: usize,
    /// Bytes of input per chunk (a chunk ends at the first record boundary
    /// at or past it).
    pub chunk_size: usize,
    /// Compute and compare the CRC-64 (default yes).
    pub verify_checksum: bool,
    /// A stream's window, in bytes ([`WINDOW`]; tests make it small).
    pub window: usize,
    /// Walking the RDB preamble of an AOF that arrives as a stream: end
    /// the walk at the checksum, without reading further, and hand back
    /// the bytes after it that the window holds already
    /// ([`Walked::rest`]), where the AOF's commands begin. The EOF
    /// record's `trailing` is then `None`. A mapped walk ignores this: its
    /// caller slices the commands off the map itself.
    pub stop_at_eof: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threads: 1,
            chunk_size: default_chunk_size(),
            verify_checksum: true,
            window: std::env::var(WINDOW_ENV)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or(WINDOW),
            stop_at_eof: false,
        }
    }
}

/// [`DEFAULT_CHUNK_SIZE`], unless the test-only [`CHUNK_SIZE_ENV`]
/// variable says otherwise.
pub fn default_chunk_size() -> usize {
    std::env::var(CHUNK_SIZE_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_CHUNK_SIZE)
}

/// Why a walk ended early.
#[derive(Debug)]
pub enum WalkError {
    /// The input is broken (or truncated) at a record.
    Decode(rdbscope_rdb::Error),
    /// Reading the stream failed.
    Io(io::Error),
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::Decode(e) => e.fmt(f),
            WalkError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

impl std::error::Error for WalkError {}

/// How a walk went.
#[derive(Debug, Default)]
pub struct Walked {
    /// The header, once read.
    pub header: Option<Header>,
    /// The EOF record, when reached (its `trailing` counts every byte
    /// after the checksum).
    pub eof: Option<Eof>,
    /// Absolute offset just past the last record collected (past the
    /// checksum when the EOF record was reached).
    pub end: u64,
    /// Up to [`TRAILING_HEAD`] first bytes after the checksum.
    pub trailing_head: Vec<u8>,
    /// Bytes of input: the file size, or what a stream delivered (a
    /// stream whose walk ended early, at an error or a stop, is not read
    /// to its end: then the bytes read so far).
    pub size: u64,
    /// A sink or the collector said stop.
    pub stopped: bool,
    /// What ended the walk early, if anything did.
    pub error: Option<WalkError>,
    /// Chunks whose start could not be proven, so the calling thread
    /// walked their stretch itself (0 for a serial walk).
    pub fallbacks: u64,
    /// With [`Options::stop_at_eof`] and a stream: the bytes after the
    /// checksum read already (the stream goes on after them). Also when
    /// the checksum is wrong (then [`Walked::error`] says so and
    /// [`Walked::end`] is past the checksum).
    pub rest: Vec<u8>,
}

/// How many bytes after the checksum [`Walked::trailing_head`] keeps.
pub const TRAILING_HEAD: usize = 64;

/// Walks `source`, giving its records to sinks made by `make_sink` (one per
/// thread, given the file's header) and their chunk values to `collector`
/// in file order. `on_progress` is called on the calling thread with the
/// offset the walk has reached. See the crate docs for the contract.
pub fn walk<S, C, F>(
    source: Source<'_>,
    opts: &Options,
    on_progress: &mut dyn FnMut(u64),
    make_sink: F,
    collector: &mut C,
) -> Walked
where
    S: Sink,
    C: Collector<S::Chunk>,
    F: Fn(&Header) -> S + Sync,
{
    match source {
        Source::Mapped { bytes, release } => {
            let mut walked = Walked {
                size: bytes.len() as u64,
                ..Walked::default()
            };
            let rdb = match Rdb::new(bytes) {
                Ok(r) => r.verify_checksum(opts.verify_checksum),
                Err(e) => {
                    walked.error = Some(WalkError::Decode(e));
                    return walked;
                }
            };
            walked.header = Some(rdb.header());
            if collector.header(&rdb.header()) == Flow::Stop {
                walked.stopped = true;
                return walked;
            }
            let release = |offset: u64| {
                if let Some(r) = release {
                    r(offset)
                }
            };
            let chunk = opts.chunk_size.max(1) as u64;
            if opts.threads > 1 && bytes.len() as u64 > chunk {
                chunked::walk(
                    bytes,
                    &rdb,
                    opts,
                    &release,
                    on_progress,
                    &make_sink,
                    collector,
                    &mut walked,
                );
            } else {
                let mut sink = make_sink(&rdb.header());
                mapped_serial(
                    bytes,
                    rdb.resume_state(),
                    u64::MAX,
                    chunk,
                    &release,
                    on_progress,
                    &mut sink,
                    collector,
                    &mut walked,
                );
            }
            walked
        }
        Source::Stream(reader) => window::walk(reader, opts, on_progress, &make_sink, collector),
    }
}

/// A worker's panic, kept to be raised again on the calling thread.
pub(crate) type Panic = std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>;

/// Runs a worker's loop. A panic is kept in `panicked` (the calling thread
/// raises it again once the workers are done) so that the calling thread
/// stops waiting for a result that will never come, instead of hanging.
pub(crate) fn guarded(panicked: &Panic, work: impl FnOnce()) {
    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        if let Ok(mut kept) = panicked.lock() {
            kept.get_or_insert(p);
        }
    }
}

/// The next worker result; `None` once a worker panicked (or all are gone).
pub(crate) fn receive<T>(rx: &std::sync::mpsc::Receiver<T>, panicked: &Panic) -> Option<T> {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(t) => return Some(t),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => {
                if panicked.lock().map_or(true, |p| p.is_some()) {
                    return None;
                }
            }
        }
    }
}

/// Raises a worker's panic again, on the calling thread.
pub(crate) fn raise(panicked: Panic) {
    if let Some(p) = panicked.into_inner().ok().flatten() {
        std::panic::resume_unwind(p);
    }
}

/// What a serial stretch of a mapped walk came to.
pub(crate) enum SerialEnd {
    /// Reached `until` (a record boundary at or past it) with this state.
    Until(rdbscope_rdb::Resume),
    /// The walk is over (EOF, error or stop); `walked` says how.
    Over,
}

/// Walks `bytes` on the calling thread from `state` until the first record
/// at or past `until`, in chunks of `chunk` bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mapped_serial<S: Sink, C: Collector<S::Chunk>>(
    bytes: &[u8],
    mut state: rdbscope_rdb::Resume,
    until: u64,
    chunk: u64,
    release: &dyn Fn(u64),
    on_progress: &mut dyn FnMut(u64),
    sink: &mut S,
    collector: &mut C,
    walked: &mut Walked,
) -> SerialEnd {
    use segment::{segment, SegEnd};
    loop {
        let limit = state.offset.saturating_add(chunk).min(until);
        sink.begin(state.offset, state.db);
        let data = &bytes[(state.offset as usize).min(bytes.len())..];
        let (next, how) = segment(data, &state, limit, sink);
        walked.end = next.offset;
        match how {
            SegEnd::Limit => {
                if collector.collect(sink.end()) == Flow::Stop {
                    walked.stopped = true;
                    return SerialEnd::Over;
                }
                release(next.offset);
                on_progress(next.offset);
                state = next;
                if state.offset >= until {
                    return SerialEnd::Until(state);
                }
            }
            SegEnd::Stopped => {
                collector.collect(sink.end());
                walked.stopped = true;
                return SerialEnd::Over;
            }
            SegEnd::Error(e) => {
                collector.collect(sink.end());
                walked.error = Some(WalkError::Decode(e));
                return SerialEnd::Over;
            }
            SegEnd::Eof(eof, at) => {
                let rest = &bytes[(at.end as usize).min(bytes.len())..];
                walked.trailing_head = rest[..rest.len().min(TRAILING_HEAD)].to_vec();
                finish_eof(eof, at, sink, collector, walked);
                on_progress(bytes.len() as u64);
                return SerialEnd::Over;
            }
        }
    }
}

/// Gives the EOF record (with its final `trailing`) to `sink` and collects
/// the last chunk.
pub(crate) fn finish_eof<S: Sink, C: Collector<S::Chunk>>(
    eof: Eof,
    at: At,
    sink: &mut S,
    collector: &mut C,
    walked: &mut Walked,
) {
    walked.eof = Some(eof);
    walked.end = at.end;
    let flow = sink.record(&rdbscope_rdb::Record::Eof(eof), &at);
    if collector.collect(sink.end()) == Flow::Stop || flow == Flow::Stop {
        walked.stopped = true;
    }
}
