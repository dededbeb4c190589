//! The command part of an AOF that arrives as a stream (standard input, a
//! pipe, a compressed file), read in bounded memory.
//!
//! [`StreamReader`] reads the same records as [`Reader`], with the same
//! file offsets, errors and line counts, through the engine's refilling
//! [`Window`]: each record is read by a [`Reader`] over the window's
//! bytes. When a record runs past the window's end and the stream has more,
//! the window drops what is behind the record, reads more, and the record
//! is read again; the window grows only when the record alone fills it,
//! at most doubling per step and only with bytes that arrived, so a bulk
//! length claiming 4 GB costs 4 GB only if 4 GB arrive. It shrinks back
//! after. Memory: the window (4 MiB, or about the largest command).
//!
//! A record is lent out only once it is settled: complete, or broken in a
//! way that more bytes cannot change (the stream ended, or the bad byte
//! is not at the window's end). So the verdicts and messages are those of
//! the whole file read at once.

use crate::error::Error;
use crate::resp::{Item, Place, Reader, Records, ANNOTATION_MAX};
use rdbscope_engine::Window;
use std::io::{self, Read};

/// A record is read only with at least this many bytes after its start in
/// the window (or the stream's end): an annotation is read up to
/// [`ANNOTATION_MAX`] bytes without an error for a short line.
const AHEAD: usize = ANNOTATION_MAX + 1;

/// The smallest window (tests may ask for tiny ones).
const MIN_WINDOW: usize = 4 * AHEAD;

/// The records of a streamed AOF, from a file offset on; see the module
/// docs. Not an [`Iterator`]: each item borrows the window, which moves on
/// at the next read.
pub struct StreamReader<'r> {
    window: Window<'r>,
    pos: u64,
    db: u64,
    lines: u64,
    done: bool,
}

impl<'r> StreamReader<'r> {
    /// Reads the commands of `reader`, whose first byte is at file offset
    /// `base`, after `head`: bytes at `base` read from the stream already
    /// (what an RDB preamble's walk left over). `window` is the usual size
    /// of the window (`rdbscope_engine::WINDOW`).
    pub fn new(
        reader: Box<dyn Read + Send + 'r>,
        base: u64,
        head: Vec<u8>,
        window: usize,
    ) -> StreamReader<'r> {
        StreamReader {
            window: Window::resume(reader, window.max(MIN_WINDOW), base, head),
            pos: base,
            db: 0,
            lines: 0,
            done: false,
        }
    }

    /// Reads one record; `None` at the end of the stream or after an error
    /// (a read error of the stream is an [`Error`] too, see
    /// [`Error::is_read_error`]).
    pub fn read(&mut self) -> Option<Result<Item<'_>, Error>> {
        if self.done {
            return None;
        }
        let place = loop {
            if let Err(e) = self.ensure_ahead() {
                return Some(Err(self.fail_read(&e)));
            }
            let w = &self.window;
            let rel = (self.pos - w.base()) as usize;
            let mut r = Reader::in_window(w.data(), w.base(), rel, self.db);
            let more = match r.read() {
                None if w.is_eof() => {
                    self.done = true;
                    return None;
                }
                None => true,
                Some(Ok(item)) => {
                    let place = Place::of(w.data(), &item);
                    self.pos = r.offset();
                    self.db = r.db();
                    self.lines += r.lines();
                    break place;
                }
                Some(Err(e)) => {
                    // A truncation, or a bad byte that may only be the
                    // window's end (a CRLF cut in two), may read otherwise
                    // with more bytes.
                    if !w.is_eof() && (e.is_truncation() || e.offset + 2 >= w.end()) {
                        true
                    } else {
                        self.lines += r.lines();
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            };
            if more {
                if let Err(e) = self.more() {
                    return Some(Err(self.fail_read(&e)));
                }
            }
        };
        Some(Ok(place.item(self.window.data())))
    }

    /// Reads the rest of the stream without looking at it, for its size.
    /// Returns the file offset of the stream's end (its size, counted from
    /// offset 0).
    pub fn read_to_end(&mut self) -> io::Result<u64> {
        let mut end = self.window.end();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = self.window.read_past(&mut buf)?;
            if n == 0 {
                return Ok(end);
            }
            end += n as u64;
        }
    }

    /// Makes sure the window holds [`AHEAD`] bytes from the next record on,
    /// or everything up to the stream's end.
    fn ensure_ahead(&mut self) -> io::Result<()> {
        let w = &mut self.window;
        if w.end() - self.pos < AHEAD as u64 && !w.is_eof() {
            w.consume_to(self.pos);
            w.fill()?;
        }
        Ok(())
    }

    /// More bytes for the record at `pos`: what is behind it goes, the
    /// window grows if the record alone fills it, and is filled.
    fn more(&mut self) -> io::Result<()> {
        let w = &mut self.window;
        w.consume_to(self.pos);
        w.grow_for(0);
        w.fill()
    }

    #[cold]
    fn fail_read(&mut self, e: &io::Error) -> Error {
        self.done = true;
        Error::read(self.window.end(), e)
    }
}

impl Records for StreamReader<'_> {
    #[inline]
    fn read_item(&mut self) -> Option<Result<Item<'_>, Error>> {
        self.read()
    }

    fn offset(&self) -> u64 {
        self.pos
    }

    fn db(&self) -> u64 {
        self.db
    }

    fn lines(&self) -> u64 {
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::write_command;

    /// Hands out its bytes a few at a time, as a pipe may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(self.1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn summary<R: Records>(r: &mut R) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(item) = r.read_item() {
            out.push(match item {
                Ok(Item::Command(c)) => format!(
                    "{} {} {:?} {:?}",
                    c.offset,
                    c.db,
                    c.args().collect::<Vec<_>>(),
                    c.raw().len()
                ),
                Ok(Item::Annotation(a)) => format!("# {} {:?} {}", a.offset, a.text, a.len),
                Err(e) => format!("error {e:?}"),
            });
        }
        out.push(format!("end {} {} {}", r.offset(), r.db(), r.lines()));
        out
    }

    fn file() -> Vec<u8> {
        let mut f = Vec::new();
        for i in 0..300u32 {
            match i % 7 {
                0 => write_command(&mut f, &[b"SELECT", (i % 5).to_string().as_bytes()]),
                1 => f.extend(format!("#TS:{}\r\n", 1_700_000_000 + i).bytes()),
                2 => f.extend(vec![b'#'; 1500].iter().chain(b"\r\n")),
                3 => write_command(&mut f, &[b"SET", b"big", &vec![b'x'; 5000 + i as usize]]),
                _ => write_command(&mut f, &[b"RPUSH", format!("k{i}").as_bytes(), b"a", b""]),
            }
        }
        f
    }

    #[test]
    fn a_stream_reads_as_the_whole_file_whatever_the_cuts() {
        let f = file();
        let mut cuts: Vec<usize> = (0..f.len()).step_by(f.len() / 50 + 1).collect();
        // Around a big value and its CRLF, and inside a long annotation.
        cuts.extend([3, 11, 4000, 4001, 4002]);
        cuts.push(f.len());
        for cut in cuts {
            let mut broken = f[..cut].to_vec();
            let whole = summary(&mut Reader::new(&broken, 0));
            for (window, chunk) in [(1, 1 << 20), (64, 7), (8192, 3), (1 << 20, 1000)] {
                let mut s =
                    StreamReader::new(Box::new(Trickle(&broken, chunk)), 0, Vec::new(), window);
                assert_eq!(
                    summary(&mut s),
                    whole,
                    "cut {cut}, window {window}, reads of {chunk}"
                );
            }
            // A bad byte where a CRLF should be.
            if cut > 10 && cut < f.len() {
                broken.push(b'x');
                broken.extend_from_slice(&f[cut..]);
                let whole = summary(&mut Reader::new(&broken, 0));
                let mut s = StreamReader::new(Box::new(Trickle(&broken, 5)), 0, Vec::new(), 1);
                assert_eq!(summary(&mut s), whole, "bad byte at {cut}");
            }
        }
    }

    #[test]
    fn offsets_go_on_after_a_head_and_a_base() {
        let f = file();
        let mut padded = vec![b'R'; 1000];
        padded.extend_from_slice(&f);
        let mut whole = Reader::new(&padded, 1000);
        let want = summary(&mut whole);
        let (head, rest) = f.split_at(333);
        let mut s = StreamReader::new(Box::new(Trickle(rest, 100)), 1000, head.to_vec(), 1);
        assert_eq!(summary(&mut s), want);
    }

    #[test]
    fn a_claimed_length_costs_only_what_arrives() {
        let f = b"*2\r\n$3\r\nGET\r\n$4294967295\r\nabc".to_vec();
        let mut s = StreamReader::new(Box::new(Trickle(&f, 4)), 0, Vec::new(), 1);
        let e = s.read().unwrap().unwrap_err();
        assert!(e.is_truncation(), "{e}");
        assert!(s.window.data().len() < 1 << 20);
    }

    #[test]
    fn a_read_error_ends_the_walk() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("gzip: corrupt deflate stream"));
                }
                let mut one = Vec::new();
                write_command(&mut one, &[b"PING"]);
                let n = one.len().min(out.len());
                out[..n].copy_from_slice(&one[..n]);
                self.0 -= 1;
                Ok(n)
            }
        }
        let mut s = StreamReader::new(Box::new(Broken(3)), 0, Vec::new(), 1);
        let mut n = 0;
        let e = loop {
            match s.read() {
                Some(Ok(_)) => n += 1,
                Some(Err(e)) => break e,
                None => panic!("no error"),
            }
        };
        assert!(e.is_read_error(), "{e}");
        assert!(e.message().contains("gzip"), "{e}");
        assert!(n <= 3);
        assert!(s.read().is_none());
    }
}
