//! Inputs that are read front to back: standard input, pipes, FIFOs,
//! devices, and every compressed input (as its decompressed bytes).

use std::fmt;
use std::io::{self, BufRead, Read};

use crate::compression::Compression;
use crate::raw::Progress;

/// Size of the content buffer. Reads at least this large bypass it.
const STREAM_BUFFER: usize = 256 << 10;

/// The bytes of an input that cannot be mapped, in order, decompressed
/// where the input was compressed. Read it with [`Read`] or [`BufRead`];
/// [`peek`](Stream::peek) looks ahead without consuming.
///
/// Memory is bounded: the stream holds a 256 KiB content buffer, a 64 KiB
/// raw buffer and the decoder's state (at most the compression window:
/// 32 KiB for gzip, about 3.6 MiB for bzip2 -9, the frame's window for
/// zstd (8 MiB at `zstd -19`; frames that need over 128 MiB, made with
/// `--long=28` or more, are refused by the decoder), 4 MiB blocks for lz4).
///
/// Errors of the compression layer name the format and the compressed
/// offset (`gzip: corrupt deflate stream at compressed offset 81920`), or
/// the truncation (`truncated zstd stream (ended after 1048576 compressed
/// bytes)`, with [`io::ErrorKind::UnexpectedEof`]). An error is final: the
/// same error is returned by every later read.
pub struct Stream {
    inner: Box<dyn Read + Send>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Content bytes handed out by `read`/`consume` so far.
    position: u64,
    name: String,
    compression: Option<Compression>,
    progress: Progress,
}

impl Stream {
    pub(crate) fn new(
        inner: Box<dyn Read + Send>,
        name: String,
        compression: Option<Compression>,
        progress: Progress,
    ) -> Stream {
        Stream {
            inner,
            buf: vec![0; STREAM_BUFFER].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            position: 0,
            name,
            compression,
            progress,
        }
    }

    /// The name to show in messages: the path, or `<stdin>`, or the name
    /// given to [`Input::from_reader`](crate::Input::from_reader).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compression being decoded, if any.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// A handle on the raw bytes read so far; see [`Progress`].
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Content bytes consumed so far: the offset, in the (decompressed)
    /// content, of the next byte a read returns. This is the offset error
    /// messages about the content quote.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next content bytes without consuming them: at least `n` of them
    /// unless the content ends first (then all that is left). `n` is capped
    /// at 256 KiB.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
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
                Err(e) => return Err(e),
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end && out.len() >= self.buf.len() && !self.eof {
            let n = loop {
                match self.inner.read(out) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                self.eof = true;
            }
            self.position += n as u64;
            return Ok(n);
        }
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Stream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end && !self.eof {
            self.pos = 0;
            self.end = 0;
            self.fill_more()?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.pos);
        self.pos += amt;
        self.position += amt as u64;
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("name", &self.name)
            .field("compression", &self.compression)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}
