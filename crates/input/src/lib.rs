//! How bytes arrive: the one place that decides how an input is read, so
//! nothing above it knows or cares whether the bytes came from a mapped
//! file, a pipe or a gzip'd backup.
//!
//! [`Input::open`] looks at what it was given and picks one of two shapes:
//!
//! * [`Source::Mapped`]: a regular, uncompressed file is memory-mapped
//!   (`memmap2`). No copy; the walker addresses the whole file as one
//!   slice and releases pages behind itself with
//!   [`Mapped::release_before`], so the resident set stays flat.
//! * [`Source::Stream`]: everything that cannot be mapped is read front to
//!   back through a bounded buffer: standard input, pipes, FIFOs, character
//!   devices, and every compressed input, which is decompressed while it
//!   is read (no temporary copy on disk or in memory). Memory stays at a
//!   few hundred KiB plus the decoder's window, whatever the input's size.
//!
//! Compression is detected by magic number, never by file name, so a
//! `.gz` that is not gzip is read as what it is, and `zcat`-less pipes
//! work: gzip (`1f 8b`, multi-member), bzip2 (`BZh1`..`BZh9`, multi-stream),
//! zstd (`28 b5 2f fd`, multi-frame, skippable frames) and the lz4 frame
//! format (`04 22 4d 18`). A skippable frame (`5x 2a 4d 18`), which zstd and
//! lz4 share, is told apart by the frame after it. Peeking at the magic of a
//! pipe loses nothing: the peeked bytes are replayed.
//!
//! Each compression's own integrity check is verified while decoding, and
//! errors say which layer failed and where; see [`Stream`].
//!
//! # Why these decoders
//!
//! All four are maintained crates, pure Rust where that is as fast.
//! Measured on the 256 MB mixed RDB that `scripts/bench.sh` makes (it
//! compresses poorly, as real data with
//! LZF'd values does: gzip -6 leaves 74%), each compressed with its tool's
//! default level (bzip2 -9), decoded to nothing on one thread of this
//! project's 2-core machine, release build; CPU seconds (user + sys), best
//! of 3, as MB/s of decompressed output:
//!
//! | format | chosen | MB/s | alternatives | MB/s |
//! |---|---|---|---|---|
//! | gzip | flate2 + zlib-rs (Rust) | 282 | flate2 + miniz_oxide (Rust); `gzip -dc` | 246; 126 |
//! | bzip2 | bzip2 + libbz2-rs-sys (Rust) | 19.2 | bzip2 + libbz2 (C); `bzip2 -dc` | 17.2; 14.2 |
//! | zstd | zstd + libzstd (C) | 766 | zstd + libzstd-rs-sys (Rust); ruzstd (Rust); `zstd -dc` | 706; 194; 725 |
//! | lz4 | lz4_flex, safe decoder (Rust) | 1577 | `lz4 -dc` | 1219 |
//!
//! * gzip: zlib-rs is pure Rust like miniz_oxide, one flate2 feature away,
//!   and 15% faster here; flate2's `MultiGzDecoder` reads concatenated
//!   members (`cat a.gz b.gz`, pigz's output) as one stream.
//! * bzip2: the `bzip2` crate's default backend is the pure-Rust port of
//!   libbz2, here 10% faster than the C library it replaces. bzip2 is
//!   slow by design (about 20 MB/s): a `.bz2` backup is read at that
//!   speed whatever reads it.
//! * zstd: the C library stays, built from source with the system's C
//!   compiler: ruzstd, the mature pure-Rust decoder, is 4x slower, and the
//!   Rust port behind the `zstd` crate's `rust-backend` feature is nearly
//!   as fast but still a pre-release (0.0.1-prerelease); switching to it
//!   later is a one-feature change in the workspace manifest.
//! * lz4: lz4_flex's safe decoder is faster than the C tool; its frame
//!   decoder also reads the legacy format (`lz4 -l`).
//!
//! Through the whole input layer (`Input::open`, then reading the
//! `Stream` in 1 MiB reads; the `decompress` example), same file and
//! machine, one run each, CPU seconds and peak resident set:
//!
//! | input | CPU s | MB/s of content | peak RSS |
//! |---|---|---|---|
//! | plain file, mapped, pages released behind the walk | 0.02 | — | 10 MB |
//! | plain, through a pipe (`cat big.rdb \| ... -`) | 0.02 | — | 2.2 MB |
//! | `.gz` | 1.07 | 251 | 2.3 MB |
//! | `.bz2` | 14.35 | 18.7 | 6.6 MB |
//! | `.zst` | 0.36 | 745 | 4.8 MB |
//! | `.lz4` | 0.15 | 1790 | 11 MB |
//!
//! Reproduce the chosen stack with
//! `cargo run --release -p rdbscope-input --example decompress -- FILE.gz FILE.bz2 ...`.
//!
//! # Example
//!
//! ```no_run
//! use std::io::Read;
//! use rdbscope_input::{Input, Source};
//!
//! let input = Input::open("dump.rdb.gz".as_ref())?;
//! println!("{} ({:?})", input.name(), input.compression());
//! match input.into_source() {
//!     Source::Mapped(mapped) => { let _whole: &[u8] = mapped.bytes(); }
//!     Source::Stream(mut stream) => {
//!         let mut buf = vec![0; 1 << 20];
//!         while stream.read(&mut buf)? > 0 {}
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

mod ahead;
mod compression;
mod mapped;
mod raw;
mod signature;
mod stream;

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use compression::{decoder, detect, sniff, Sniff};
use raw::RawReader;

pub use compression::Compression;
pub use mapped::{Mapped, WORKER_LAG};
pub use raw::Progress;
pub use signature::{classify_content, describe_signature, ContentKind, SIGNATURE_BYTES};
pub use stream::Stream;

/// One input, opened and classified; see the crate docs.
#[derive(Debug)]
pub struct Input {
    source: Source,
}

/// The two ways an input's bytes can be had.
#[derive(Debug)]
pub enum Source {
    /// All the bytes at once: a mapped regular file or an in-memory buffer.
    Mapped(Mapped),
    /// The bytes in order, through a bounded buffer: pipes, standard input,
    /// devices, and every compressed input (decompressed).
    Stream(Stream),
}

impl Input {
    /// Opens `path`; `-` is standard input. Regular uncompressed files are
    /// mapped; compressed files, pipes, FIFOs and devices are streamed.
    /// Standard input redirected from a regular file is treated as that
    /// file (mapped, or streamed with a known size if compressed).
    pub fn open(path: &Path) -> io::Result<Input> {
        if path.as_os_str() == "-" {
            return Input::stdin();
        }
        let file = File::open(path)?;
        Input::from_file(file, display_name(path))
    }

    fn stdin() -> io::Result<Input> {
        let name = "<stdin>".to_string();
        #[cfg(unix)]
        {
            use std::io::Seek;
            use std::os::fd::AsFd;
            // Read the descriptor directly (no lock, no second buffer), and
            // give `rdbscope check - < dump.rdb` the file itself: mapped
            // when it is read from its start.
            if let Ok(fd) = io::stdin().as_fd().try_clone_to_owned() {
                let mut file = File::from(fd);
                let is_file = file.metadata().is_ok_and(|m| m.is_file());
                if is_file && file.stream_position().ok() != Some(0) {
                    // Positioned inside the file by whoever handed it over:
                    // read on from there.
                    return Input::from_raw(RawReader::new(Box::new(file), None), name);
                }
                return Input::from_file(file, name);
            }
        }
        Input::from_raw(RawReader::new(Box::new(io::stdin()), None), name)
    }

    fn from_file(file: File, name: String) -> io::Result<Input> {
        let meta = file.metadata()?;
        if !(meta.is_file() && meta.len() > 0) {
            // FIFOs, devices, sockets; also empty regular files, which
            // includes files like those of /proc that report no size.
            return Input::from_raw(RawReader::new(Box::new(file), None), name);
        }
        let mut raw = RawReader::new(Box::new(file.try_clone()?), Some(meta.len()));
        match detect(&mut raw)? {
            Some(compression) => Input::decoding(compression, raw, name),
            None => Ok(Input {
                source: Source::Mapped(Mapped::map(&file, name)?),
            }),
        }
    }

    /// Reads from any reader, such as a network stream or a child process's
    /// output: its compression is detected and decoded as for a file, and
    /// the result is always a [`Source::Stream`]. `name` is what messages
    /// call it.
    pub fn from_reader(
        reader: impl Read + Send + 'static,
        name: impl Into<String>,
    ) -> io::Result<Input> {
        Input::from_raw(RawReader::new(Box::new(reader), None), name.into())
    }

    /// Wraps bytes already in memory. Compressed bytes are decoded (as a
    /// [`Source::Stream`]); others become a [`Source::Mapped`] over the
    /// buffer itself.
    pub fn from_vec(bytes: Vec<u8>, name: impl Into<String>) -> Input {
        let name = name.into();
        let compression = match sniff(&bytes) {
            Sniff::Known(found) => found,
            // The buffer is all there is, so a lookahead past its end
            // decides as at the end of a stream.
            Sniff::NeedMore(_) => compression::sniff_final(&bytes),
        };
        match compression {
            None => Input {
                source: Source::Mapped(Mapped::owned(bytes, name)),
            },
            Some(compression) => {
                let total = bytes.len() as u64;
                let raw = RawReader::new(Box::new(Cursor::new(bytes)), Some(total));
                // Setting up a decoder over memory cannot fail for lack of
                // input; should it fail at all, the first read reports it.
                Input::decoding(compression, raw, name.clone()).unwrap_or_else(|e| Input {
                    source: Source::Stream(Stream::new(
                        Box::new(Failed(Some(e))),
                        name,
                        Some(compression),
                        Progress::new(Some(total)),
                    )),
                })
            }
        }
    }

    fn from_raw(mut raw: RawReader, name: String) -> io::Result<Input> {
        match detect(&mut raw)? {
            Some(compression) => Input::decoding(compression, raw, name),
            None => {
                let progress = raw.progress().clone();
                Ok(Input {
                    source: Source::Stream(Stream::new(Box::new(raw), name, None, progress)),
                })
            }
        }
    }

    fn decoding(compression: Compression, raw: RawReader, name: String) -> io::Result<Input> {
        let progress = raw.progress().clone();
        // Decoding runs a few blocks ahead on a thread of its own, so it
        // overlaps with whatever reads the bytes (docs/inputs.md).
        let inner: Box<dyn std::io::Read + Send> =
            Box::new(ahead::ReadAhead::new(decoder(compression, raw)?)?);
        Ok(Input {
            source: Source::Stream(Stream::new(inner, name, Some(compression), progress)),
        })
    }

    /// The name to show in messages: the path as given, `<stdin>`, or the
    /// name passed to [`from_reader`](Input::from_reader) or
    /// [`from_vec`](Input::from_vec).
    pub fn name(&self) -> &str {
        match &self.source {
            Source::Mapped(m) => m.name(),
            Source::Stream(s) => s.name(),
        }
    }

    /// The compression being decoded, if any.
    pub fn compression(&self) -> Option<Compression> {
        match &self.source {
            Source::Mapped(_) => None,
            Source::Stream(s) => s.compression(),
        }
    }

    /// A handle on how much of the raw input has been consumed, for
    /// progress lines; see [`Progress`].
    pub fn progress(&self) -> Progress {
        match &self.source {
            Source::Mapped(m) => m.progress(),
            Source::Stream(s) => s.progress(),
        }
    }

    /// The first bytes of the content (decompressed), up to
    /// [`SIGNATURE_BYTES`], without consuming them.
    pub fn head(&mut self) -> io::Result<&[u8]> {
        match &mut self.source {
            Source::Mapped(m) => Ok(&m.bytes()[..m.bytes().len().min(SIGNATURE_BYTES)]),
            Source::Stream(s) => {
                let head = s.peek(SIGNATURE_BYTES)?;
                Ok(&head[..head.len().min(SIGNATURE_BYTES)])
            }
        }
    }

    /// What the content is (RDB, AOF, manifest, JSON, or what else it looks
    /// like), from its first bytes; nothing is consumed. A compressed input
    /// that is corrupt from the start fails here with the decoder's error.
    pub fn content_kind(&mut self) -> io::Result<ContentKind> {
        Ok(classify_content(self.head()?))
    }

    /// The source, to read from.
    pub fn source(&mut self) -> &mut Source {
        &mut self.source
    }

    /// The source, by value.
    pub fn into_source(self) -> Source {
        self.source
    }

    /// The whole content as one slice: a mapped file as it is; a stream
    /// (decompressed) read to its end into memory. For readers that still
    /// need the whole input at once (a single-file AOF arriving through a
    /// pipe or compressed, for now): memory then grows with the input.
    pub fn into_mapped(self) -> io::Result<Mapped> {
        match self.source {
            Source::Mapped(m) => Ok(m),
            Source::Stream(mut s) => {
                let name = s.name().to_string();
                let mut bytes = Vec::new();
                s.read_to_end(&mut bytes)?;
                Ok(Mapped::owned(bytes, name))
            }
        }
    }
}

/// A reader that fails once with a stored error, then reports the end.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Opens `path` (`-` is standard input) as one slice: see
/// [`Input::into_mapped`].
pub fn open_whole(path: &Path) -> io::Result<Mapped> {
    Input::open(path)?.into_mapped()
}

/// The display name for a path argument: `<stdin>` for `-`, else the path.
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        PathBuf::from(path).display().to_string()
    }
}
