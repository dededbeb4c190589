//! The raw side of an input: the bytes as the file, pipe or caller hands
//! them over, before any decompression.
//!
//! [`RawReader`] is the one buffered reader over those bytes. It does three
//! jobs that must sit at exactly this layer:
//!
//! * **Peeking without loss.** Detecting a compression format means looking
//!   at the first bytes of a stream that cannot be rewound (a pipe). The
//!   peeked bytes stay in the buffer and are handed out again by the next
//!   read, so nothing is lost and nothing is read twice.
//! * **Counting.** Every byte handed on to the layer above (a decoder, or
//!   the stream itself when the input is not compressed) is counted into a
//!   shared [`Progress`]. Decoders that take a `BufRead` report what they
//!   actually used through `consume`, so the count is the position in the
//!   compressed input the decoder has reached: error messages quote it as
//!   the compressed offset, and progress lines show it as bytes read.
//! * **Telling source errors from decoder errors.** An I/O error of the
//!   underlying reader is recorded, so the decoding layer passes it on
//!   as it is rather than blaming the compressed data.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Size of the raw buffer: large enough that a decoder's input calls are
/// few, small enough to be irrelevant to memory. Also the limit of how far
/// [`RawReader::peek`] looks ahead.
pub(crate) const RAW_BUFFER: usize = 64 << 10;

/// How far an input has been read, shared between the reading thread and
/// whoever shows progress. Cheap to clone (one `Arc`), and reading it
/// never blocks the reader.
///
/// For a compressed input, [`bytes_read`](Progress::bytes_read) counts
/// compressed bytes, so that it can be compared with
/// [`total`](Progress::total), the size of the compressed file. For an
/// uncompressed stream it counts the bytes read; for a mapped file it is
/// the offset last passed to
/// [`Mapped::release_before`](crate::Mapped::release_before).
#[derive(Clone, Debug)]
pub struct Progress {
    state: Arc<RawState>,
    total: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct RawState {
    consumed: AtomicU64,
    /// Bytes read from the source and shown to the decoder through
    /// `fill_buf`, but not consumed yet.
    pending: AtomicU64,
    /// The underlying reader returned an error (not the decoder).
    failed: AtomicBool,
}

impl Progress {
    pub(crate) fn new(total: Option<u64>) -> Progress {
        Progress {
            state: Arc::default(),
            total,
        }
    }

    /// Raw (compressed, where the input is compressed) bytes consumed so
    /// far.
    pub fn bytes_read(&self) -> u64 {
        self.state.consumed.load(Ordering::Relaxed)
    }

    /// The raw size of the input when it is known in advance: the size of
    /// a regular file (compressed or not) or of an in-memory buffer. `None`
    /// for pipes, standard input and devices.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// [`bytes_read`](Progress::bytes_read) as a fraction of
    /// [`total`](Progress::total), between 0.0 and 1.0, when the total is
    /// known and not zero.
    pub fn fraction(&self) -> Option<f64> {
        match self.total {
            Some(total) if total > 0 => Some((self.bytes_read() as f64 / total as f64).min(1.0)),
            _ => None,
        }
    }

    pub(crate) fn set(&self, offset: u64) {
        self.state.consumed.store(offset, Ordering::Relaxed);
    }

    fn add(&self, n: usize) {
        self.state.consumed.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// How far the decoder has looked: consumed plus shown-but-pending
    /// bytes. A decoder cannot fail on bytes it was never shown, so an
    /// error lies before this offset.
    pub(crate) fn bytes_seen(&self) -> u64 {
        self.bytes_read() + self.state.pending.load(Ordering::Relaxed)
    }

    fn set_pending(&self, n: usize) {
        self.state.pending.store(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn source_failed(&self) -> bool {
        self.state.failed.load(Ordering::Relaxed)
    }

    fn mark_failed(&self) {
        self.state.failed.store(true, Ordering::Relaxed);
    }
}

/// A buffered, counting reader over the raw bytes; see the module docs.
pub(crate) struct RawReader {
    inner: Box<dyn Read + Send>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    progress: Progress,
}

impl RawReader {
    pub(crate) fn new(inner: Box<dyn Read + Send>, total: Option<u64>) -> RawReader {
        RawReader {
            inner,
            buf: vec![0; RAW_BUFFER].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            progress: Progress::new(total),
        }
    }

    pub(crate) fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The next bytes without consuming them: at least `n` of them unless
    /// the input ends first (then all that is left). `n` is capped at the
    /// buffer size.
    pub(crate) fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(self.buf.len());
        if self.end - self.pos < n {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n && !self.eof {
                self.fill_more()?;
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// One read from the source into the free end of the buffer.
    fn fill_more(&mut self) -> io::Result<()> {
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.progress.mark_failed();
                    return Err(e);
                }
            }
        }
    }
}

impl Read for RawReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A large read with nothing buffered goes straight to the source:
        // no copy through the buffer for uncompressed streams.
        if self.pos == self.end && out.len() >= self.buf.len() && !self.eof {
            let n = loop {
                match self.inner.read(out) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.progress.mark_failed();
                        return Err(e);
                    }
                }
            };
            if n == 0 {
                self.eof = true;
            }
            self.progress.add(n);
            return Ok(n);
        }
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for RawReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end && !self.eof {
            self.pos = 0;
            self.end = 0;
            self.fill_more()?;
        }
        self.progress.set_pending(self.end - self.pos);
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.pos);
        self.pos += amt;
        self.progress.add(amt);
        self.progress.set_pending(self.end - self.pos);
    }
}
