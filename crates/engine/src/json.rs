//! JSON inputs (what `dump` writes, JSON Lines or one document) walked
//! the way RDB inputs are: the work per record is a [`RecordSink`] on any
//! thread, the results come together in input order in a [`Collector`]
//! on the calling thread.
//!
//! The calling thread only frames the input: it cuts it into records'
//! texts ([`JsonReader::next_text`]: brackets and strings followed, nothing
//! parsed) and hands batches of about [`crate::Options::chunk_size`] bytes (the
//! default chunk, [`crate::default_chunk_size`]) to the workers. A
//! worker parses each text into an owned record ([`parse_record`]) and
//! gives it to its sink, so a record is made, used and freed on one
//! thread (handing records themselves across threads made this slower
//! than one thread). Batch values are collected in input order through a
//! bounded window (at most two batches per worker in flight), so memory
//! is a few batches whatever the input's size. With one thread, the same
//! sink runs on the calling thread.
//!
//! Errors: the walk ends at the first record, in input order, that cannot
//! be framed or parsed; every batch before it is collected, and the
//! records of its own batch before it went to the sink.

use crate::sink::{Collector, Flow};
use crate::{guarded, raise, receive, Panic};
use rdbscope_json::{parse_record, JsonReader, ReadError, RecordAt};
use rdbscope_rdb::OwnedRecord;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::ops::Range;
use std::sync::{mpsc, Mutex};

/// The per-record work of a command on owned records, one batch at a
/// time; the same contract as [`crate::Sink`]: a batch's value must not
/// depend on earlier batches.
pub trait RecordSink: Send {
    /// What one batch of records comes to.
    type Chunk: Send;

    /// One record of the batch.
    fn record(&mut self, record: OwnedRecord) -> Flow;

    /// The batch is over: its value, for the collector.
    fn end(&mut self) -> Self::Chunk;
}

/// How a JSON walk ended.
#[derive(Debug, Default)]
pub struct JsonWalked {
    /// Records parsed and given to a sink.
    pub records: u64,
    /// A sink or the collector said stop.
    pub stopped: bool,
    /// The first record that could not be read.
    pub error: Option<ReadError>,
}

/// Records' texts, one buffer for the batch.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    records: Vec<(Range<usize>, RecordAt)>,
}

/// What a worker made of one batch.
struct Done<T> {
    index: usize,
    value: T,
    records: u64,
    stopped: bool,
    error: Option<ReadError>,
    /// The batch's buffers, back to the calling thread for the next one.
    batch: Batch,
}

/// Fills `batch` with the next records' texts; `Err` is a framing error
/// (the records before it are in the batch), `Ok(false)` the input's end.
fn fill<R: BufRead>(
    reader: &mut JsonReader<R>,
    batch: &mut Batch,
    bytes: usize,
) -> Result<bool, ReadError> {
    batch.text.clear();
    batch.records.clear();
    while batch.text.len() < bytes {
        // Each record's text goes straight into the batch's buffer.
        let start = batch.text.len();
        match reader.next_text(&mut batch.text)? {
            None => return Ok(false),
            Some(at) => batch.records.push((start..batch.text.len(), at)),
        }
    }
    Ok(true)
}

/// Parses and feeds one batch to `sink`.
fn run<S: RecordSink>(sink: &mut S, batch: Batch, index: usize) -> Done<S::Chunk> {
    let mut records = 0;
    let mut stopped = false;
    let mut error = None;
    for (range, at) in &batch.records {
        match parse_record(&batch.text[range.clone()], *at) {
            Ok(r) => {
                records += 1;
                if sink.record(r) == Flow::Stop {
                    stopped = true;
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    Done {
        index,
        value: sink.end(),
        records,
        stopped,
        error,
        batch,
    }
}

/// Walks the records `reader` gives with `threads` threads (see the
/// module docs); `on_progress` hears the input offset framed so far.
pub fn walk_json<R, S, C, F>(
    reader: &mut JsonReader<R>,
    threads: usize,
    on_progress: &mut dyn FnMut(u64),
    make_sink: F,
    collector: &mut C,
) -> JsonWalked
where
    R: BufRead,
    S: RecordSink,
    C: Collector<S::Chunk>,
    F: Fn() -> S + Sync,
{
    let mut walked = JsonWalked::default();
    let bytes = crate::default_chunk_size();
    // Takes one batch's result; false once the walk is over.
    let mut settle = |done: Done<S::Chunk>, walked: &mut JsonWalked| -> bool {
        walked.records += done.records;
        let flow = collector.collect(done.value);
        if let Some(e) = done.error {
            walked.error = Some(e);
            return false;
        }
        if done.stopped || flow == Flow::Stop {
            walked.stopped = true;
            return false;
        }
        true
    };
    if threads <= 1 {
        let mut sink = make_sink();
        let mut batch = Batch::default();
        loop {
            let framed = fill(reader, &mut batch, bytes);
            on_progress(reader.offset());
            let more = matches!(framed, Ok(true));
            let mut done = run(&mut sink, std::mem::take(&mut batch), 0);
            batch = std::mem::take(&mut done.batch);
            if !settle(done, &mut walked) {
                return walked;
            }
            if let Err(e) = framed {
                walked.error = Some(e);
                return walked;
            }
            if !more {
                return walked;
            }
        }
    }
    let panicked: Panic = Mutex::new(None);
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Batch)>(threads);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done<S::Chunk>>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (work_rx, done_tx, panicked, make_sink) =
                (&work_rx, done_tx.clone(), &panicked, &make_sink);
            scope.spawn(move || {
                guarded(panicked, || {
                    let mut sink = make_sink();
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok((index, batch)) = next else { return };
                        if done_tx.send(run(&mut sink, batch, index)).is_err() {
                            return;
                        }
                    }
                })
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<usize, Done<S::Chunk>> = BTreeMap::new();
        let mut spare: Vec<Batch> = Vec::new();
        let (mut sent, mut next) = (0usize, 0usize);
        let mut framing_error = None;
        let mut over = false;
        let mut input_left = true;
        // Collects what has arrived, in order; waits for one result when
        // `wait` (or when the window is full).
        let mut take = |wait: bool,
                        pending: &mut BTreeMap<usize, Done<S::Chunk>>,
                        spare: &mut Vec<Batch>,
                        next: &mut usize,
                        walked: &mut JsonWalked|
         -> Option<bool> {
            let first = if wait {
                Some(receive(&done_rx, &panicked)?)
            } else {
                done_rx.try_recv().ok()
            };
            for d in first
                .into_iter()
                .chain(std::iter::from_fn(|| done_rx.try_recv().ok()))
            {
                pending.insert(d.index, d);
            }
            while let Some(mut d) = pending.remove(next) {
                *next += 1;
                spare.push(std::mem::take(&mut d.batch));
                if !settle(d, walked) {
                    return Some(false);
                }
            }
            Some(true)
        };
        while input_left && !over {
            let mut batch = spare.pop().unwrap_or_default();
            let framed = fill(reader, &mut batch, bytes);
            on_progress(reader.offset());
            input_left = matches!(framed, Ok(true));
            if let Err(e) = framed {
                framing_error = Some(e);
            }
            if !batch.records.is_empty() {
                if work_tx.send((sent, batch)).is_err() {
                    break;
                }
                sent += 1;
            }
            // Keep at most two batches per worker in flight.
            while sent - next >= 2 * threads && !over {
                match take(true, &mut pending, &mut spare, &mut next, &mut walked) {
                    Some(true) => {}
                    _ => over = true,
                }
            }
            if !over && take(false, &mut pending, &mut spare, &mut next, &mut walked) != Some(true)
            {
                over = true;
            }
        }
        drop(work_tx);
        while !over && next < sent {
            match take(true, &mut pending, &mut spare, &mut next, &mut walked) {
                Some(true) => {}
                _ => over = true,
            }
        }
        if !over && walked.error.is_none() && !walked.stopped {
            walked.error = framing_error;
        }
    });
    raise(panicked);
    walked
}
