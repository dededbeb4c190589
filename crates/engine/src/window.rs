//! Walking a stream through a refilling window (see the crate docs).

use crate::segment::{segment, SegEnd};
use crate::sink::{Collector, Flow, Sink};
use crate::{finish_eof, Options, WalkError, Walked, TRAILING_HEAD, WINDOW};
use rdbscope_rdb::{Header, Rdb};
use std::io::{self, Read};

/// The bytes of a stream from absolute offset `base` on, as far as read.
struct Window<'r> {
    reader: Box<dyn Read + Send + 'r>,
    /// Storage; `buf[..len]` holds data.
    buf: Vec<u8>,
    len: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// The stream has ended.
    eof: bool,
}

impl Window<'_> {
    fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Reads until the window is full or the stream ends.
    fn fill(&mut self) -> io::Result<()> {
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
    fn consume_to(&mut self, offset: u64) {
        let k = ((offset - self.base) as usize).min(self.len);
        if k == 0 {
            return;
        }
        self.buf.copy_within(k..self.len, 0);
        self.len -= k;
        self.base += k as u64;
        if self.buf.len() > 2 * WINDOW && self.len <= WINDOW {
            self.buf.truncate(WINDOW);
            self.buf.shrink_to_fit();
        }
    }

    /// Makes room for a record that needs `need` bytes from `base` (a
    /// hint: a count's check may say less than the record needs). Only a
    /// full window grows, so growth follows bytes that arrived: to what
    /// the record needs, at most twice the window per step; twice the
    /// window when the hint says no more than the window holds.
    fn grow_for(&mut self, need: u64) {
        let cap = self.buf.len() as u64;
        if self.len == self.buf.len() {
            let twice = cap.saturating_mul(2);
            let new = if need > cap { need.min(twice) } else { twice };
            self.buf.resize(new as usize, 0);
        }
    }
}

/// Walks a stream on the calling thread.
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
    let mut w = Window {
        reader,
        buf: vec![0; WINDOW],
        len: 0,
        base: 0,
        eof: false,
    };
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
    let mut state = rdb.resume_state();
    walked.header = Some(header);
    if collector.header(&header) == Flow::Stop {
        walked.stopped = true;
        return walked;
    }
    let mut sink = make_sink(&header);
    let chunk = opts.chunk_size.max(1) as u64;
    sink.begin(state.offset, state.db);
    let mut limit = state.offset + chunk;
    loop {
        // The window's bytes move to the front only when it is refilled.
        let rel = ((state.offset - w.base) as usize).min(w.len);
        let (next, how) = segment(&w.data()[rel..], &state, limit, &mut sink);
        state = next;
        walked.end = state.offset;
        match how {
            SegEnd::Limit => {
                if collector.collect(sink.end()) == Flow::Stop {
                    walked.stopped = true;
                    break;
                }
                on_progress(state.offset);
                sink.begin(state.offset, state.db);
                limit = state.offset + chunk;
            }
            SegEnd::Error(e) if e.is_truncation() && !w.eof => {
                // The record runs past the window: more bytes, then again.
                w.consume_to(state.offset);
                let need = e.needed_end().unwrap_or(0).saturating_sub(w.base);
                w.grow_for(need);
                if let Err(e) = w.fill() {
                    collector.collect(sink.end());
                    walked.error = Some(WalkError::Io(e));
                    break;
                }
            }
            SegEnd::Error(e) => {
                collector.collect(sink.end());
                walked.error = Some(WalkError::Decode(e));
                break;
            }
            SegEnd::Stopped => {
                collector.collect(sink.end());
                walked.stopped = true;
                break;
            }
            SegEnd::Eof(mut eof, at) => {
                // Count (and keep the start of) everything after the
                // checksum, to the end of the stream.
                let rest = &w.data()[((at.end - w.base) as usize).min(w.len)..];
                walked.trailing_head = rest[..rest.len().min(TRAILING_HEAD)].to_vec();
                let mut trailing = rest.len() as u64;
                let mut buf = [0u8; 1 << 16];
                loop {
                    match w.reader.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let want = TRAILING_HEAD.saturating_sub(walked.trailing_head.len());
                            walked.trailing_head.extend_from_slice(&buf[..n.min(want)]);
                            trailing += n as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            walked.error = Some(WalkError::Io(e));
                            break;
                        }
                    }
                }
                eof.trailing = trailing;
                walked.size = at.end + trailing;
                finish_eof(eof, at, &mut sink, collector, &mut walked);
                on_progress(walked.size);
                break;
            }
        }
    }
    if walked.eof.is_none() {
        walked.size = w.base + w.len as u64;
    }
    walked
}
