//! Decompression on a thread of its own, a few blocks ahead of the reader.
//!
//! Decompressing is as much work as checking what comes out (zstd about
//! 0.37 s for the 256 MB benchmark file, the whole `check -j1` 0.56 s). On
//! the reader's thread the two run one after the other; here the decoder
//! fills blocks on its own thread while the consumer works on the ones
//! before, so they overlap. At most [`AHEAD`] blocks of [`BLOCK`] bytes
//! wait, so memory stays at about four megabytes. With two cores shared by
//! the decoder, the walk and the workers, the scheduler runs each for
//! milliseconds at a time; a lead of a few milliseconds of decoding keeps
//! the others busy while the decoder waits for its turn (on the 256 MB
//! benchmark file, 16 blocks took `check F.zst` from 0.60 to 0.56 s
//! against 4, medians of 7 alternating rounds).
//!
//! Errors arrive in order, after every byte decoded before them, and are
//! repeated to every later read, as the decoder itself does.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes per block handed over.
pub const BLOCK: usize = 256 << 10;

/// Blocks decoded ahead of the consumer, at most.
pub const AHEAD: usize = 16;

/// A reader fed by a thread that reads `inner`.
pub struct ReadAhead {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// Emptied blocks go back to be filled again.
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    failed: Option<(io::ErrorKind, String)>,
    done: bool,
}

impl ReadAhead {
    /// Starts the thread that reads `inner` to its end (or to its first
    /// error, or until this reader is dropped).
    pub fn new(mut inner: Box<dyn Read + Send>) -> io::Result<ReadAhead> {
        let (tx, blocks) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        let (spare, spare_rx) = sync_channel::<Vec<u8>>(AHEAD + 2);
        std::thread::Builder::new()
            .name("rdbscope-decompress".into())
            .spawn(move || loop {
                let mut block = spare_rx.try_recv().unwrap_or_default();
                block.resize(BLOCK, 0);
                let mut filled = 0;
                let result = loop {
                    match inner.read(&mut block[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == block.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                block.truncate(filled);
                let end = filled < BLOCK;
                // Bytes before an error go first; a closed channel means
                // the reader is gone, and so is the reason to go on.
                if filled > 0 && tx.send(Ok(block)).is_err() {
                    return;
                }
                if let Err(e) = result {
                    let _ = tx.send(Err(e));
                    return;
                }
                if end {
                    return; // dropping `tx` is the end of the input
                }
            })?;
        Ok(ReadAhead {
            blocks,
            spare,
            current: Vec::new(),
            pos: 0,
            failed: None,
            done: false,
        })
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.current.len() {
                let n = buf.len().min(self.current.len() - self.pos);
                buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if let Some((kind, msg)) = &self.failed {
                return Err(io::Error::new(*kind, msg.clone()));
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    let used = std::mem::replace(&mut self.current, block);
                    self.pos = 0;
                    let _ = self.spare.try_send(used);
                }
                Ok(Err(e)) => self.failed = Some((e.kind(), e.to_string())),
                Err(_) => self.done = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` a few bytes at a time, then fails if asked to.
    struct Dribble {
        data: Vec<u8>,
        at: usize,
        fail: bool,
    }

    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return if self.fail {
                    Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "broken at the end",
                    ))
                } else {
                    Ok(0)
                };
            }
            let n = buf.len().min(7).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn every_byte_in_order_then_the_end() {
        for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17] {
            let d = data(n);
            let src = Dribble {
                data: d.clone(),
                at: 0,
                fail: false,
            };
            let mut r = ReadAhead::new(Box::new(src)).unwrap();
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, d, "{n} bytes");
            assert_eq!(r.read(&mut [0; 8]).unwrap(), 0);
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it_and_stays() {
        let d = data(BLOCK + 100);
        let src = Dribble {
            data: d.clone(),
            at: 0,
            fail: true,
        };
        let mut r = ReadAhead::new(Box::new(src)).unwrap();
        let mut out = vec![0; d.len()];
        r.read_exact(&mut out).unwrap();
        assert_eq!(out, d);
        for _ in 0..2 {
            let e = r.read(&mut [0; 8]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            assert!(e.to_string().contains("broken at the end"));
        }
    }

    #[test]
    fn dropping_the_reader_early_ends_the_thread() {
        let src = Dribble {
            data: data(20 * BLOCK),
            at: 0,
            fail: false,
        };
        let mut r = ReadAhead::new(Box::new(src)).unwrap();
        let mut first = [0u8; 10];
        r.read_exact(&mut first).unwrap();
        drop(r); // the thread's next send fails and it returns
    }
}
