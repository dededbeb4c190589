//! What a command supplies: a [`Sink`] that does the per-record work of
//! one chunk of the input, and a [`Collector`] that receives the chunks'
//! results in file order.
//!
//! The split is what lets the engine choose the threads: a sink sees a
//! contiguous run of records (a chunk) and turns it into one value (the
//! rendered bytes, a partial report); the collector, always on the calling
//! thread, puts those values together in the order of the file. With one
//! thread the same two pieces run one after the other, so a command's
//! output cannot depend on how many threads ran it.

use rdbscope_rdb::{Header, Record};

/// Whether to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next record (or chunk).
    Continue,
    /// Stop the walk: nothing after this record (or chunk) is looked at.
    Stop,
}

/// Where a record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// Absolute offset of the record's first byte.
    pub offset: u64,
    /// Absolute offset just past the record.
    pub end: u64,
    /// The database selected when the record was read (for a `SelectDb`
    /// record: the one it selects).
    pub db: u64,
}

/// The per-record work of a command, applied to one chunk of records at a
/// time.
///
/// Contract:
/// * A chunk is a run of consecutive records. The engine calls
///   [`Sink::begin`], then [`Sink::record`] for each record of the chunk in
///   file order, then [`Sink::end`], whose value goes to the
///   [`Collector`]. A sink is used for many chunks, one after the other,
///   and must not carry anything from one chunk into the next that changes
///   what the next chunk's value is: chunk boundaries depend on the number
///   of threads, the results must not.
/// * Sinks run on worker threads (one sink per thread, made by the
///   command's factory) or on the calling thread. The `EOF` record is
///   always given to a sink on the calling thread, after every other
///   record has been collected, with its checksum verified over the whole
///   input and `trailing` counting every byte after the checksum.
/// * Returning [`Flow::Stop`] from `record` ends the chunk there; its value
///   is still collected (so a sink keeps whatever it wants reported, an
///   error of its own say, in its chunk value), and nothing after it is
///   walked or collected.
/// * Decoding errors never reach a sink: a chunk ends before the broken
///   record, is collected, and the walk returns the error (see
///   [`crate::Walked::error`]). The error reported is always the earliest
///   in the file, whatever the threads.
pub trait Sink: Send {
    /// What one chunk of records comes to.
    type Chunk: Send;

    /// A chunk starts at absolute offset `offset`, with database `db`
    /// selected (settled: it is the database a walk of the whole file has
    /// selected there).
    fn begin(&mut self, offset: u64, db: u64) {
        let _ = (offset, db);
    }

    /// One record of the chunk.
    fn record(&mut self, record: &Record<'_>, at: &At) -> Flow;

    /// The chunk is over: its value, for the collector.
    fn end(&mut self) -> Self::Chunk;
}

/// Puts the chunks' values together, on the calling thread, in file order.
pub trait Collector<C> {
    /// The file's header, before any chunk.
    fn header(&mut self, header: &Header) -> Flow {
        let _ = header;
        Flow::Continue
    }

    /// The next chunk's value. [`Flow::Stop`] ends the walk (a closed
    /// output, say).
    fn collect(&mut self, chunk: C) -> Flow;
}
