//! Rendering on several threads, written in file order.
//!
//! The calling thread walks the records (that part is sequential by
//! nature: each record's start is the previous one's end) and hands them
//! out in batches; worker threads render each batch into a buffer of their
//! own; a writer thread puts the buffers out in batch order. The output is
//! byte for byte what one thread would write, with one exception for RESP:
//! every batch starts with a SELECT, since a worker does not know which
//! database the previous batch left selected (an extra SELECT changes
//! nothing on the server).
//!
//! Errors keep their single-thread meaning: everything before the first
//! broken record is written, in whole records, then the error is returned.

use crate::error::PrintError;
use crate::json::{JsonPrinter, Layout};
use crate::resp::RespPrinter;
use rdbscope_rdb::{Header, Record, Scratch};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// What to render.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    /// JSON Lines (the one-document layout is sequential only).
    JsonLines,
    /// RESTORE commands; the header gives the payloads' RDB version.
    Resp(Header),
}

/// Hand records to workers in batches of about this many value bytes.
const BATCH_BYTES: usize = 512 << 10;

/// What the workers counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Empty collections left out of RESP output.
    pub skipped_empty: u64,
}

struct Done {
    index: u64,
    bytes: Vec<u8>,
    error: Option<PrintError>,
}

/// Renders `records` (already filtered) to `sink` with `threads` workers.
/// `records` is consumed on the calling thread; an `Err` from it ends the
/// output after everything before it. `threads` is the CPUs to use.
pub fn print_parallel<'a, W, I>(
    records: I,
    format: Format,
    threads: usize,
    max_decompressed: u64,
    mut sink: W,
) -> Result<Stats, PrintError>
where
    W: Write + Send,
    I: Iterator<Item = Result<Record<'a>, PrintError>>,
{
    // Rendering JSON costs several times the walk: a worker per CPU, the
    // walk squeezed in between. A RESTORE command costs about what walking
    // to it costs (a copy and a CRC), so with a worker per CPU the workers
    // would only take CPU time from the walk, which sets the pace: half.
    let threads = match format {
        Format::JsonLines => threads,
        Format::Resp(_) => threads / 2,
    }
    .max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Vec<Record<'a>>)>(threads * 2);
    let (done_tx, done_rx) = mpsc::sync_channel::<Done>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    // Rendered batches come back to be filled again (a fresh vector of
    // records is a fresh mapping, faulted in page by page).
    let (back_tx, back_rx) = mpsc::channel::<Vec<Record<'a>>>();
    // Set when a worker or the writer failed: stop walking.
    let stop = AtomicBool::new(false);
    // Written buffers, for the workers to render into again.
    let spare = Mutex::new(Vec::new());
    let keep = threads * 2 + 2;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (work_rx, done_tx, stop, spare) = (&work_rx, done_tx.clone(), &stop, &spare);
                let back = back_tx.clone();
                scope.spawn(move || {
                    render_batches(
                        work_rx,
                        done_tx,
                        back,
                        stop,
                        spare,
                        format,
                        max_decompressed,
                    )
                })
            })
            .collect();
        drop(done_tx);
        let writer = scope.spawn(|| write_in_order(done_rx, &mut sink, &stop, &spare, keep));

        let mut walk_error = None;
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        let mut index = 0u64;
        for r in records {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            match r {
                Ok(r) => {
                    if let Record::Key(k) = &r {
                        batch_bytes += k.value.raw().len() + 64;
                    }
                    batch.push(r);
                    if batch_bytes >= BATCH_BYTES {
                        batch_bytes = 0;
                        let next = back_rx.try_recv().unwrap_or_default();
                        if work_tx
                            .send((index, std::mem::replace(&mut batch, next)))
                            .is_err()
                        {
                            break;
                        }
                        index += 1;
                    }
                }
                Err(e) => {
                    walk_error = Some(e);
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let _ = work_tx.send((index, batch));
        }
        drop(work_tx);
        let mut stats = Stats::default();
        for w in workers {
            let s = w.join().expect("a rendering thread panicked");
            stats.skipped_empty += s.skipped_empty;
        }
        // The writer's error (a broken value, a closed pipe) comes first in
        // the file; the walk's comes after everything that was rendered.
        writer.join().expect("the writing thread panicked")?;
        match walk_error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    })
}

fn render_batches<'a>(
    work: &Mutex<mpsc::Receiver<(u64, Vec<Record<'a>>)>>,
    done: mpsc::SyncSender<Done>,
    back: mpsc::Sender<Vec<Record<'a>>>,
    stop: &AtomicBool,
    spare: &Mutex<Vec<Vec<u8>>>,
    format: Format,
    max_decompressed: u64,
) -> Stats {
    let mut stats = Stats::default();
    // Decompression buffers, kept from batch to batch.
    let mut scratch = None;
    loop {
        let job = match work.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => break,
        };
        let Ok((index, mut records)) = job else { break };
        if stop.load(Ordering::Relaxed) {
            continue;
        }
        // A buffer the writer is done with, if any: its memory is mapped
        // and initialized already.
        let reused = spare
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES * 2));
        let (bytes, error) = match format {
            Format::JsonLines => {
                let s = scratch
                    .take()
                    .unwrap_or_else(|| Scratch::with_limit(max_decompressed));
                let mut p = JsonPrinter::in_memory(reused, Layout::Lines, s);
                let r = records.iter().try_for_each(|r| p.record(r));
                // Whole records only: a failed record was already cut out.
                match p.into_buffer() {
                    Ok((bytes, s)) => {
                        scratch = Some(s);
                        (bytes, r.err())
                    }
                    Err(e) => (Vec::new(), Some(e)),
                }
            }
            Format::Resp(header) => {
                let mut p = RespPrinter::in_memory(reused, &header);
                let r = records.iter().try_for_each(|r| p.record(r));
                stats.skipped_empty += p.skipped_empty();
                (p.into_buffer(), r.err())
            }
        };
        records.clear();
        let _ = back.send(records);
        if done
            .send(Done {
                index,
                bytes,
                error,
            })
            .is_err()
        {
            break;
        }
    }
    stats
}

/// Writes batches in index order; stops at the first batch with an error
/// (after writing its whole records) or at a write failure. Written
/// buffers go back to `spare` (up to `keep` of them).
fn write_in_order<W: Write>(
    done: mpsc::Receiver<Done>,
    sink: &mut W,
    stop: &AtomicBool,
    spare: &Mutex<Vec<Vec<u8>>>,
    keep: usize,
) -> Result<(), PrintError> {
    let mut pending = BTreeMap::new();
    let mut next = 0u64;
    let mut result = Ok(());
    for d in done {
        if result.is_err() {
            continue; // drain, so workers never block on a full channel
        }
        pending.insert(d.index, d);
        while let Some(d) = pending.remove(&next) {
            next += 1;
            let written = sink.write_all(&d.bytes).map_err(PrintError::Io);
            // (A buffer grown by one huge record is let go, not kept.)
            if let Ok(mut s) = spare.lock() {
                if s.len() < keep && d.bytes.capacity() <= 4 * BATCH_BYTES {
                    s.push(d.bytes);
                }
            }
            if let Err(e) = written.and(d.error.map_or(Ok(()), Err)) {
                stop.store(true, Ordering::Relaxed);
                result = Err(e);
                break;
            }
        }
    }
    if result.is_ok() {
        sink.flush()?;
    }
    result
}
