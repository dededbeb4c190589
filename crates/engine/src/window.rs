//! Walking a stream through a refilling window (see the crate docs).

use crate::segment::{segment, SegEnd};
use crate::sink::{At, Collector, Flow, Sink};
use crate::{
    finish_eof, guarded, raise, receive, Options, Panic, WalkError, Walked, TRAILING_HEAD,
};
use rdbscope_rdb::{Header, Rdb, Record, Resume};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::{mpsc, Mutex};

/// The bytes of a stream from absolute offset `base` on, as far as read:
/// the refilling buffer a streamed input is decoded from (an RDB here, an
/// AOF's commands in `rdbscope-aof`). It holds at least the record being
/// decoded: [`consume_to`](Window::consume_to) drops what the walk is past,
/// [`fill`](Window::fill) reads more into the room left, and
/// [`grow_for`](Window::grow_for) enlarges it, only once it is full of
/// bytes that actually arrived, for a record larger than it. After such a
/// record it shrinks back to its usual size.
pub struct Window<'r> {
    reader: Box<dyn Read + Send + 'r>,
    /// Storage; `buf[..len]` holds data.
    buf: Vec<u8>,
    len: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// The stream has ended.
    eof: bool,
    /// The window's usual size.
    size: usize,
}

impl<'r> Window<'r> {
    /// An empty window of `size` bytes (at least 64) over `reader`, whose
    /// first byte is at absolute offset 0.
    pub fn new(reader: Box<dyn Read + Send + 'r>, size: usize) -> Window<'r> {
        Window::resume(reader, size, 0, Vec::new())
    }

    /// A window over `reader` whose first bytes, at absolute offset
    /// `base`, were read already: `head` (what an earlier walk left over),
    /// followed by what `reader` gives.
    pub fn resume(
        reader: Box<dyn Read + Send + 'r>,
        size: usize,
        base: u64,
        mut head: Vec<u8>,
    ) -> Window<'r> {
        let size = size.max(64);
        let len = head.len();
        head.resize(len.max(size), 0);
        Window {
            reader,
            buf: head,
            len,
            base,
            eof: false,
            size,
        }
    }

    /// The bytes held, from [`base`](Window::base) on.
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes held from absolute `offset` on (none when it is past
    /// them; all when it is before [`base`](Window::base)).
    pub fn from(&self, offset: u64) -> &[u8] {
        &self.data()[self.index(offset)..]
    }

    /// Where absolute `offset` is in [`data`](Window::data), clamped to
    /// it.
    fn index(&self, offset: u64) -> usize {
        (offset.saturating_sub(self.base) as usize).min(self.len)
    }

    /// Absolute offset of the first byte held.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Absolute offset just past the last byte held.
    pub fn end(&self) -> u64 {
        self.base + self.len as u64
    }

    /// Whether the stream has ended (every byte it had is in the window or
    /// was consumed).
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Reads until the window is full or the stream ends.
    pub fn fill(&mut self) -> io::Result<()> {
        while self.len < self.buf.len() && !self.eof {
            match self.reader.read(&mut self.buf[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Drops the bytes before absolute offset `offset` (moving the rest to
    /// the front), and gives back the room a large record needed once the
    /// window holds little again.
    pub fn consume_to(&mut self, offset: u64) {
        let k = self.index(offset);
        if k == 0 {
            return;
        }
        self.buf.copy_within(k..self.len, 0);
        self.len -= k;
        self.base += k as u64;
        if self.buf.len() > 2 * self.size && self.len <= self.size {
            self.buf.truncate(self.size);
            self.buf.shrink_to_fit();
        }
    }

    /// Makes room for a record that needs `need` bytes from `base` (a
    /// hint: a count's check may say less than the record needs). Only a
    /// full window grows, so growth follows bytes that arrived: to what
    /// the record needs, at most twice the window per step; twice the
    /// window when the hint says no more than the window holds.
    pub fn grow_for(&mut self, need: u64) {
        let cap = self.buf.len() as u64;
        if self.len == self.buf.len() {
            let twice = cap.saturating_mul(2);
            let new = if need > cap { need.min(twice) } else { twice };
            self.buf.resize(new as usize, 0);
        }
    }

    /// Reads past the window (whose bytes stay as they are) straight from
    /// the stream into `out`: 0 at its end. For a walk that only counts
    /// what is left.
    pub fn read_past(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        loop {
            match self.reader.read(out) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Walks a stream: records are decoded on the calling thread as the
/// window fills. With one thread the command's sink runs there too; with
/// more, the calling thread only skims (finding record boundaries and
/// computing the CRC) and hands each stretch of proven records, copied out
/// of the window, to worker threads that run the sinks; their values are
/// collected in file order, a bounded number in flight.
pub(crate) fn walk<'r, S, C, F>(
    reader: Box<dyn Read + Send + 'r>,
    opts: &Options,
    on_progress: &mut dyn FnMut(u64),
    make_sink: &F,
    collector: &mut C,
) -> Walked
where
    S: Sink,
    C: Collector<S::Chunk>,
    F: Fn(&Header) -> S + Sync,
{
    let mut walked = Walked::default();
    let mut w = Window::new(reader, opts.window);
    // The whole first window before the header: a wrong signature is
    // reported as soon as the first bytes are in.
    if let Err(e) = w.fill() {
        walked.error = Some(WalkError::Io(e));
        return walked;
    }
    walked.size = w.len as u64;
    let rdb = match Rdb::new(w.data()) {
        Ok(r) => r.verify_checksum(opts.verify_checksum),
        Err(e) => {
            walked.error = Some(WalkError::Decode(e));
            return walked;
        }
    };
    let header = rdb.header();
    let state = rdb.resume_state();
    walked.header = Some(header);
    if collector.header(&header) == Flow::Stop {
        walked.stopped = true;
        return walked;
    }
    if opts.threads <= 1 {
        let mut stage = Serial {
            sink: make_sink(&header),
        };
        run(
            &mut w,
            state,
            opts,
            &mut stage,
            on_progress,
            collector,
            &mut walked,
        );
    } else {
        let threads = opts.threads;
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done<S::Chunk>>();
        let job_rx = Mutex::new(job_rx);
        let panicked = Panic::default();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let (job_rx, done_tx, panicked) = (&job_rx, done_tx.clone(), &panicked);
                scope.spawn(move || {
                    guarded(panicked, || {
                        let mut sink = make_sink(&header);
                        loop {
                            let job = match job_rx.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => break,
                            };
                            let Ok(job) = job else { break };
                            sink.begin(job.start.offset, job.start.db);
                            let end = job.start.offset + job.bytes.len() as u64;
                            let (_, how) = segment(&job.bytes, &job.start, end, &mut sink);
                            let done = Done {
                                index: job.index,
                                value: sink.end(),
                                stopped: matches!(how, SegEnd::Stopped),
                                bytes: job.bytes,
                            };
                            if done_tx.send(done).is_err() {
                                break;
                            }
                        }
                    })
                });
            }
            drop(done_tx);
            let mut stage = Parallel {
                panicked: &panicked,
                header,
                make_sink,
                last: None,
                job_tx: Some(job_tx),
                done_rx,
                pending: BTreeMap::new(),
                sent: 0,
                next: 0,
                // Twice the workers, and a few more: the skim and the
                // decompressor share the cores with the workers, so the
                // workers need a lead that outlasts a scheduler slice of
                // theirs (0.60 -> 0.54 s for `check F.zst` on the 256 MB
                // file with 2 threads, 4 -> 8 chunks with 16 blocks ahead).
                ahead: 2 * threads as u64 + 4,
                spare: Vec::new(),
                skim: Skim,
            };
            run(
                &mut w,
                state,
                opts,
                &mut stage,
                on_progress,
                collector,
                &mut walked,
            );
            // Workers end when the jobs channel closes.
            stage.job_tx = None;
        });
        raise(panicked);
    }
    if walked.eof.is_none() {
        walked.size = w.base + w.len as u64;
    }
    walked
}

/// What the walk does with each stretch of records it decodes.
trait Stage<C> {
    /// The sink the calling thread's walk feeds.
    type Walker: Sink;
    /// The command's sink type.
    type Real: Sink;
    /// A stretch starts at `at`.
    fn begin(&mut self, at: &Resume);
    fn walker(&mut self) -> &mut Self::Walker;
    /// The stretch that began at `start` ends; `bytes` are its bytes.
    fn done(&mut self, start: &Resume, bytes: &[u8], collector: &mut C) -> Flow;
    /// Everything handed out is collected (or the walk stopped).
    fn finish(&mut self, collector: &mut C) -> Flow;
    /// The sink for the EOF record, on this thread, its chunk begun.
    fn last(&mut self, at: &Resume) -> &mut Self::Real;
}

/// One thread: the command's sink walks the records itself.
struct Serial<S> {
    sink: S,
}

impl<S: Sink, C: Collector<S::Chunk>> Stage<C> for Serial<S> {
    type Walker = S;
    type Real = S;

    fn begin(&mut self, at: &Resume) {
        self.sink.begin(at.offset, at.db);
    }

    fn walker(&mut self) -> &mut S {
        &mut self.sink
    }

    fn done(&mut self, _: &Resume, _: &[u8], collector: &mut C) -> Flow {
        collector.collect(self.sink.end())
    }

    fn finish(&mut self, _: &mut C) -> Flow {
        Flow::Continue
    }

    fn last(&mut self, at: &Resume) -> &mut S {
        self.sink.begin(at.offset, at.db);
        &mut self.sink
    }
}

/// A stretch of proven records for a worker.
struct Job {
    index: u64,
    start: Resume,
    bytes: Vec<u8>,
}

/// A worker's result.
struct Done<T> {
    index: u64,
    value: T,
    stopped: bool,
    /// The job's buffer, to copy the next stretch into.
    bytes: Vec<u8>,
}

/// The calling thread skims; workers run the command's sinks.
struct Parallel<'f, S: Sink, F> {
    panicked: &'f Panic,
    header: Header,
    make_sink: &'f F,
    /// The calling thread's own sink, for the EOF record.
    last: Option<S>,
    job_tx: Option<mpsc::Sender<Job>>,
    done_rx: mpsc::Receiver<Done<S::Chunk>>,
    pending: BTreeMap<u64, Done<S::Chunk>>,
    sent: u64,
    next: u64,
    /// At most this many stretches handed out and not yet collected.
    ahead: u64,
    spare: Vec<Vec<u8>>,
    skim: Skim,
}

/// Skims: the records are decoded (bounds, lengths, CRC) and dropped.
struct Skim;

impl Sink for Skim {
    type Chunk = ();

    fn record(&mut self, _: &Record<'_>, _: &At) -> Flow {
        Flow::Continue
    }

    fn end(&mut self) {}
}

impl<S, F> Parallel<'_, S, F>
where
    S: Sink,
    F: Fn(&Header) -> S + Sync,
{
    /// Waits for the next stretch's value and collects it.
    fn collect_next<C: Collector<S::Chunk>>(&mut self, collector: &mut C) -> Flow {
        let d = loop {
            if let Some(d) = self.pending.remove(&self.next) {
                break d;
            }
            match receive(&self.done_rx, self.panicked) {
                Some(d) => {
                    self.pending.insert(d.index, d);
                }
                // A worker panicked: raised again once the workers are done.
                None => return Flow::Stop,
            }
        };
        self.next += 1;
        let flow = collector.collect(d.value);
        if self.spare.len() < self.ahead as usize {
            self.spare.push(d.bytes);
        }
        if d.stopped {
            Flow::Stop
        } else {
            flow
        }
    }
}

impl<S, C, F> Stage<C> for Parallel<'_, S, F>
where
    S: Sink,
    C: Collector<S::Chunk>,
    F: Fn(&Header) -> S + Sync,
{
    type Walker = Skim;
    type Real = S;

    fn begin(&mut self, _: &Resume) {}

    fn walker(&mut self) -> &mut Skim {
        &mut self.skim
    }

    fn done(&mut self, start: &Resume, bytes: &[u8], collector: &mut C) -> Flow {
        if bytes.is_empty() {
            return Flow::Continue;
        }
        while self.sent - self.next >= self.ahead {
            if self.collect_next(collector) == Flow::Stop {
                return Flow::Stop;
            }
        }
        let mut copy = self.spare.pop().unwrap_or_default();
        copy.clear();
        copy.extend_from_slice(bytes);
        let job = Job {
            index: self.sent,
            start: Resume {
                crc: None,
                ..*start
            },
            bytes: copy,
        };
        let Some(tx) = &self.job_tx else {
            return Flow::Stop;
        };
        if tx.send(job).is_err() {
            return Flow::Stop;
        }
        self.sent += 1;
        Flow::Continue
    }

    fn finish(&mut self, collector: &mut C) -> Flow {
        while self.next < self.sent {
            if self.collect_next(collector) == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    fn last(&mut self, at: &Resume) -> &mut S {
        let sink = self
            .last
            .get_or_insert_with(|| (self.make_sink)(&self.header));
        sink.begin(at.offset, at.db);
        sink
    }
}

/// The bytes of the stretch begun at `start` and walked up to `state`.
fn stretch<'w>(w: &'w Window<'_>, start: &Resume, state: &Resume) -> &'w [u8] {
    &w.data()[w.index(start.offset)..w.index(state.offset)]
}

/// The walk over the window, stretch by stretch.
fn run<C, G: Stage<C>>(
    w: &mut Window<'_>,
    mut state: Resume,
    opts: &Options,
    stage: &mut G,
    on_progress: &mut dyn FnMut(u64),
    collector: &mut C,
    walked: &mut Walked,
) where
    G::Real: Sink,
    C: Collector<<G::Real as Sink>::Chunk>,
{
    let chunk = opts.chunk_size.max(1) as u64;
    let mut start = state;
    stage.begin(&start);
    let mut limit = state.offset + chunk;
    loop {
        // The window's bytes move to the front only when it is refilled.
        let (next, how) = segment(w.from(state.offset), &state, limit, stage.walker());
        state = next;
        walked.end = state.offset;
        match how {
            SegEnd::Limit => {
                if stage.done(&start, stretch(w, &start, &state), collector) == Flow::Stop {
                    walked.stopped = true;
                    break;
                }
                on_progress(state.offset);
                start = state;
                stage.begin(&start);
                limit = state.offset + chunk;
            }
            SegEnd::Error(e) if e.is_truncation() && !w.eof => {
                // The record runs past the window: the stretch so far is
                // done (its bytes are about to leave the window), then
                // more bytes, and this record again.
                if stage.done(&start, stretch(w, &start, &state), collector) == Flow::Stop {
                    walked.stopped = true;
                    break;
                }
                start = state;
                stage.begin(&start);
                w.consume_to(state.offset);
                let need = e.needed_end().unwrap_or(0).saturating_sub(w.base);
                w.grow_for(need);
                if let Err(e) = w.fill() {
                    stage.finish(collector);
                    walked.error = Some(WalkError::Io(e));
                    break;
                }
            }
            SegEnd::Error(e) => {
                if opts.stop_at_eof {
                    if let rdbscope_rdb::ErrorKind::ChecksumMismatch { .. } = e.kind {
                        // The preamble ends where it should, only its
                        // checksum is wrong: the commands after it can
                        // still be read.
                        let end = e.offset + 8;
                        walked.rest = w.from(end).to_vec();
                        walked.end = end;
                    }
                }
                if stage.done(&start, stretch(w, &start, &state), collector) == Flow::Continue
                    && stage.finish(collector) == Flow::Continue
                {
                    walked.error = Some(WalkError::Decode(e));
                } else {
                    walked.stopped = true;
                }
                break;
            }
            SegEnd::Stopped => {
                stage.done(&start, stretch(w, &start, &state), collector);
                stage.finish(collector);
                walked.stopped = true;
                break;
            }
            SegEnd::Eof(mut eof, at) => {
                // Everything before the EOF record is collected first.
                if stage.done(&start, stretch(w, &start, &state), collector) == Flow::Stop
                    || stage.finish(collector) == Flow::Stop
                {
                    walked.stopped = true;
                    break;
                }
                let rest = w.from(at.end);
                if opts.stop_at_eof {
                    // An AOF preamble: what follows is the AOF's commands,
                    // for the caller to read from here on.
                    walked.rest = rest.to_vec();
                    eof.trailing = None;
                    walked.size = at.end;
                    finish_eof(eof, at, stage.last(&state), collector, walked);
                    on_progress(at.end);
                    break;
                }
                // Count (and keep the start of) everything after the
                // checksum, to the end of the stream.
                walked.trailing_head = rest[..rest.len().min(TRAILING_HEAD)].to_vec();
                let mut trailing = rest.len() as u64;
                let mut buf = [0u8; 1 << 16];
                loop {
                    match w.read_past(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let want = TRAILING_HEAD.saturating_sub(walked.trailing_head.len());
                            walked.trailing_head.extend_from_slice(&buf[..n.min(want)]);
                            trailing += n as u64;
                        }
                        Err(e) => {
                            walked.error = Some(WalkError::Io(e));
                            break;
                        }
                    }
                }
                eof.trailing = Some(trailing);
                walked.size = at.end + trailing;
                finish_eof(eof, at, stage.last(&state), collector, walked);
                on_progress(walked.size);
                break;
            }
        }
    }
}
