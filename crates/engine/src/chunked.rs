//! Chunk-parallel walking of a mapped input (see the crate docs).
//!
//! The file after the header is cut at nominal offsets `9 + j * chunk`.
//! Chunk `j` starts near the first *plausible* record start at or after
//! its nominal offset (a position from which [`PLAUSIBLE_RECORDS`] records
//! decode without error, or a few and then the EOF record), searched for
//! in a bounded stretch: at the record the walk from there reached after
//! [`SETTLE_AFTER`] records, since bytes that mimic one record seldom
//! mimic several. A chunk whose stretch holds none is empty and the next
//! chunk's start is used. A worker walks chunk `j` from its start
//! until the first record at or past chunk `j + 1`'s start, assuming the
//! database selected there is the one the calling thread last settled.
//!
//! On the calling thread, chunks are settled in order. The walk so far has
//! reached `pos` with database `db` selected (both proven: a serial walk
//! from the header reaches the same). Chunk `j` is accepted only when it
//! starts at `pos` and assumed `db`; then its value is collected, the
//! CRC-64 is extended over its bytes, and `pos` becomes its end. Otherwise
//! its value is dropped and the calling thread walks from `pos` to the
//! next chunk's start itself. Whatever bytes made a start look plausible,
//! only walks that begin at a proven position are ever collected.

use crate::segment::{segment, SegEnd};
use crate::sink::{Collector, Flow, Sink};
use crate::{
    finish_eof, guarded, mapped_serial, raise, receive, Options, Panic, SerialEnd, WalkError,
    Walked, TRAILING_HEAD,
};
use rdbscope_rdb::crc::Crc64;
use rdbscope_rdb::{Header, Rdb, Record, Records, Resume};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};

/// Records that must decode from a position for it to count as a
/// plausible record start.
const PLAUSIBLE_RECORDS: usize = 16;

/// A plausible walk offers the start of its record after this many.
const SETTLE_AFTER: usize = 4;

/// At most this many bytes after a chunk's nominal start are searched for
/// a plausible record start (past it, the chunk is left to its neighbour).
const SEARCH: u64 = 128 << 10;

/// Bytes from a candidate start that [`Starts::plausible`] looks at, so
/// that ruling a candidate out costs little whatever the bytes claim.
const LOOKAHEAD: u64 = 64 << 10;

/// What a worker reports for one chunk.
struct Walked1<T> {
    index: usize,
    /// Where the walk started, and the database it assumed there.
    start: u64,
    assumed_db: u64,
    /// The state at the first record not walked.
    end: Resume,
    how: How,
    value: T,
}

enum How {
    /// Reached the next chunk's start.
    Limit,
    /// The sink said stop.
    Stopped,
    /// A broken record at `end`.
    Error(rdbscope_rdb::Error),
    /// The EOF record is at `end`.
    Eof,
}

/// The chunk starts, found once each (by whichever thread needs one
/// first).
struct Starts<'a> {
    bytes: &'a [u8],
    header: Header,
    chunk: u64,
    count: usize,
    found: Vec<OnceLock<u64>>,
    /// The bytes a record can start with: an object type of this file's
    /// flavor, or an opcode.
    first_byte: [bool; 256],
}

impl Starts<'_> {
    fn nominal(&self, j: usize) -> u64 {
        9 + j as u64 * self.chunk
    }

    /// The start of chunk `j` (chunk 0 starts after the header; `count`
    /// is the end of the file).
    fn start(&self, j: usize) -> u64 {
        if j == 0 {
            return 9;
        }
        if j >= self.count {
            return self.bytes.len() as u64;
        }
        // A chunk without a plausible start in its stretch is empty: it
        // starts where the next one does.
        let mut k = j;
        let start = loop {
            if k >= self.count {
                break self.bytes.len() as u64;
            }
            if let Some(&p) = self.found[k].get() {
                break p;
            }
            let from = self.nominal(k);
            let to = self
                .nominal(k + 1)
                .min(from + SEARCH)
                .min(self.bytes.len() as u64);
            if let Some(p) = (from..to).find_map(|p| self.plausible(p)) {
                break *self.found[k].get_or_init(|| p);
            }
            k += 1;
        };
        for cell in &self.found[j..k.min(self.count)] {
            let _ = cell.set(start);
        }
        start
    }

    /// Whether records decode from `p` on: [`PLAUSIBLE_RECORDS`] of them,
    /// or a few and then the EOF record, or a few and then past the
    /// [`LOOKAHEAD`] (a large value ahead is no reason for doubt).
    fn plausible(&self, p: u64) -> Option<u64> {
        // Most bytes are ruled out by what a record may start with.
        if !self.first_byte[usize::from(self.bytes[p as usize])] {
            return None;
        }
        let state = Resume::at(self.header, p, 0);
        let end = (p + LOOKAHEAD).min(self.bytes.len() as u64);
        let mut recs = Records::resume(&self.bytes[p as usize..end as usize], &state);
        // Bytes that mimic a record (inside LZF data, say) seldom mimic
        // many: a walk from a false start that goes on decoding has most
        // likely fallen into step with the real records. So the start
        // offered is where the walk stands after a few records.
        let mut settled = p;
        for n in 0..PLAUSIBLE_RECORDS {
            if n == SETTLE_AFTER {
                settled = recs.offset();
            }
            match recs.next() {
                // A lone 0xff (a listpack's end byte, say) with 8 bytes
                // after it reads as an EOF record: only the file's real
                // end, or an EOF after other records, counts.
                Some(Ok(Record::Eof(e))) => {
                    let real_end = e.trailing == Some(0) && end == self.bytes.len() as u64;
                    return (n >= 2 || real_end).then_some(settled);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let ahead = n >= 4 && e.is_truncation() && end < self.bytes.len() as u64;
                    return ahead.then_some(settled);
                }
                None => return None,
            }
        }
        Some(settled)
    }
}

/// Walks `bytes` with `opts.threads` worker threads.
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk<S, C, F>(
    bytes: &[u8],
    rdb: &Rdb<'_>,
    opts: &Options,
    release: &dyn Fn(u64),
    on_progress: &mut dyn FnMut(u64),
    make_sink: &F,
    collector: &mut C,
    walked: &mut Walked,
) where
    S: Sink,
    C: Collector<S::Chunk>,
    F: Fn(&Header) -> S + Sync,
{
    let header = rdb.header();
    let chunk = opts.chunk_size.max(1) as u64;
    // Pages are released only forward (a fallback walk may report a
    // position past the settled chunks' lag).
    let high = std::cell::Cell::new(0u64);
    let release = |offset: u64| {
        if offset > high.get() {
            high.set(offset);
            release(offset);
        }
    };
    let release: &dyn Fn(u64) = &release;
    let count = ((bytes.len() as u64 - 9).div_ceil(chunk)) as usize;
    let starts = Starts {
        bytes,
        header,
        chunk,
        count,
        found: (0..count).map(|_| OnceLock::new()).collect(),
        first_byte: std::array::from_fn(|b| {
            let b = b as u8;
            b >= rdbscope_rdb::types::opcode::KEY_META_OR_SLOT_IMPORT
                || rdbscope_rdb::Encoding::from_type_byte(b, header.flavor).is_some()
        }),
    };
    let threads = opts.threads.max(1);
    // Chunks handed out ahead of the one being settled: enough to keep
    // every worker busy while one chunk waits, few enough to bound the
    // memory their values hold.
    let ahead = threads + 2;
    // The database the calling thread settled last: workers assume it.
    let settled_db = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (job_tx, job_rx) = mpsc::channel::<usize>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<Walked1<S::Chunk>>();
    let panicked = Panic::default();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            let (starts, settled_db, stop) = (&starts, &settled_db, &stop);
            let panicked = &panicked;
            scope.spawn(move || {
                guarded(panicked, || {
                    let mut sink = make_sink(&header);
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok(index) = job else { break };
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let start = starts.start(index);
                        let limit = starts.start(index + 1);
                        let assumed_db = settled_db.load(Ordering::Relaxed);
                        let state = Resume::at(header, start, assumed_db);
                        sink.begin(start, assumed_db);
                        let (end, how) =
                            segment(&bytes[start as usize..], &state, limit, &mut sink);
                        let how = match how {
                            SegEnd::Limit => How::Limit,
                            SegEnd::Stopped => How::Stopped,
                            SegEnd::Error(e) => How::Error(e),
                            SegEnd::Eof(..) => How::Eof,
                        };
                        let value = sink.end();
                        let report = Walked1 {
                            index,
                            start,
                            assumed_db,
                            end,
                            how,
                            value,
                        };
                        if done_tx.send(report).is_err() {
                            break;
                        }
                    }
                })
            });
        }
        drop(done_tx);
        settle(
            bytes,
            rdb,
            &starts,
            chunk,
            ahead,
            &job_tx,
            &done_rx,
            &panicked,
            &settled_db,
            release,
            on_progress,
            make_sink,
            collector,
            walked,
        );
        stop.store(true, Ordering::Relaxed);
        drop(job_tx);
    });
    raise(panicked);
}

/// The calling thread's part: hands out chunks, settles them in order,
/// walks what could not be proven, reads the EOF record.
#[allow(clippy::too_many_arguments)]
fn settle<S, C, F>(
    bytes: &[u8],
    rdb: &Rdb<'_>,
    starts: &Starts<'_>,
    chunk: u64,
    ahead: usize,
    job_tx: &mpsc::Sender<usize>,
    done_rx: &mpsc::Receiver<Walked1<S::Chunk>>,
    panicked: &Panic,
    settled_db: &AtomicU64,
    release: &dyn Fn(u64),
    on_progress: &mut dyn FnMut(u64),
    make_sink: &F,
    collector: &mut C,
    walked: &mut Walked,
) where
    S: Sink,
    C: Collector<S::Chunk>,
    F: Fn(&Header) -> S + Sync,
{
    // The proven walk: position, database, CRC-64 of the bytes before.
    let mut state = rdb.resume_state();
    let mut own_sink: Option<S> = None;
    let mut pending: BTreeMap<usize, Walked1<S::Chunk>> = BTreeMap::new();
    let mut sent = 0;
    let mut next = 0;
    let extend_crc = |crc: Option<u64>, from: u64, to: u64| {
        crc.map(|c| {
            let mut d = Crc64::resume(c);
            d.update(&bytes[from as usize..to as usize]);
            d.value()
        })
    };
    loop {
        if next >= starts.count {
            // Everything up to the end is walked, yet no EOF record: a
            // serial walk from here finds the truncation.
            let sink = own_sink.get_or_insert_with(|| make_sink(&rdb.header()));
            if let SerialEnd::Until(_) = mapped_serial(
                bytes,
                state,
                u64::MAX,
                chunk,
                release,
                on_progress,
                sink,
                collector,
                walked,
            ) {
                unreachable_end(walked);
            }
            return;
        }
        while sent < starts.count && sent < next + ahead {
            if job_tx.send(sent).is_err() {
                break;
            }
            sent += 1;
        }
        let r = loop {
            if let Some(r) = pending.remove(&next) {
                break Some(r);
            }
            match receive(done_rx, panicked) {
                Some(r) => {
                    pending.insert(r.index, r);
                }
                None => break None,
            }
        };
        // No result: a worker panicked; the panic is raised again when
        // the workers are done.
        let Some(r) = r else {
            walked.stopped = true;
            return;
        };
        next += 1;
        if r.start != state.offset || r.assumed_db != state.db {
            // Not proven: walk from where the proven walk is, up to the
            // next chunk's start, here.
            drop(r);
            walked.fallbacks += 1;
            let until = starts.start(next);
            if until <= state.offset {
                continue;
            }
            let sink = own_sink.get_or_insert_with(|| make_sink(&rdb.header()));
            match mapped_serial(
                bytes,
                state,
                until,
                chunk,
                release,
                on_progress,
                sink,
                collector,
                walked,
            ) {
                SerialEnd::Until(s) => {
                    state = s;
                    settled_db.store(state.db, Ordering::Relaxed);
                    continue;
                }
                SerialEnd::Over => return,
            }
        }
        let flow = collector.collect(r.value);
        let crc = extend_crc(state.crc, state.offset, r.end.offset);
        walked.end = r.end.offset;
        match r.how {
            How::Limit => {
                state = Resume { crc, ..r.end };
                settled_db.store(state.db, Ordering::Relaxed);
                release(state.offset.saturating_sub(chunk));
                on_progress(state.offset);
                if flow == Flow::Stop {
                    walked.stopped = true;
                    return;
                }
            }
            How::Stopped => {
                walked.stopped = true;
                return;
            }
            How::Error(e) => {
                walked.error = Some(WalkError::Decode(e));
                return;
            }
            How::Eof => {
                if flow == Flow::Stop {
                    walked.stopped = true;
                    return;
                }
                // The EOF record, with the checksum of every byte before.
                let at = r.end.offset;
                let state = Resume { crc, ..r.end };
                let mut recs = Records::resume(&bytes[at as usize..], &state);
                match recs.next() {
                    Some(Ok(Record::Eof(eof))) => {
                        let end = recs.offset();
                        let rest = &bytes[(end as usize).min(bytes.len())..];
                        walked.trailing_head = rest[..rest.len().min(TRAILING_HEAD)].to_vec();
                        let sink = own_sink.get_or_insert_with(|| make_sink(&rdb.header()));
                        sink.begin(at, state.db);
                        let where_ = crate::At {
                            offset: at,
                            end,
                            db: state.db,
                        };
                        finish_eof(eof, where_, sink, collector, walked);
                        on_progress(bytes.len() as u64);
                    }
                    Some(Err(e)) => walked.error = Some(WalkError::Decode(e)),
                    _ => {}
                }
                return;
            }
        }
    }
}

/// A serial walk to the end of the input always ends in EOF, an error or
/// a stop; this records the impossible other case as a stop.
fn unreachable_end(walked: &mut Walked) {
    walked.stopped = true;
}
