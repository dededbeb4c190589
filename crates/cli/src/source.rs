//! Opening an input, the one place that does it for every command: through
//! `rdbscope_input::Input::open`, which maps a plain regular file and
//! streams everything else (standard input, pipes, FIFOs, devices, and
//! every compressed file or stream, decompressed as it is read).
//!
//! What the input is comes from its (decompressed) content, never its
//! name: an RDB is walked by the engine from the map or from the stream;
//! an AOF (commands, or an RDB with the `aof-preamble` aux field) or a
//! manifest goes to the AOF commands; a JSON dump to `dump_json`.
//!
//! A single-file AOF (commands, or an RDB preamble and commands) that
//! arrives as a stream comes back unread from [`open_streaming`]: `check`,
//! `dump` and `info` read it as it arrives, in bounded memory
//! (`rdbscope_aof::stream`), and `digest`, `dump --format commands`,
//! `convert`, `merge` and `diff` replay it as it arrives
//! (`rdbscope_replay::replay_stream_into`). [`open`] reads it into memory
//! first, for `fix` and `rewrite`; so is a manifest on standard input
//! (docs/limits.md).

use rdbscope_aof::source::{detect, Content};
use rdbscope_aof::{Aof, Opened, Part};
use rdbscope_engine::Source;
use rdbscope_input::{display_name, ContentKind, Input, Mapped, Stream};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// How much of a stream is looked at to decide what it is: the AUX fields
/// that say "AOF preamble" come first and are small.
const PEEK: usize = 64 << 10;

/// An RDB input, ready to walk.
pub enum RdbInput {
    /// A plain file, mapped.
    Mapped(Mapped),
    /// Anything else, read as it arrives; and a copy of its first bytes
    /// (still to be read from the stream).
    Stream(Stream, Vec<u8>),
}

/// A single-file AOF that arrives as a stream, not read yet.
pub struct AofStream {
    /// Its bytes, from the first (only peeked at so far).
    pub stream: Stream,
    /// Its place: the one file of the AOF.
    pub part: Part,
}

/// What an argument turned out to be.
pub enum Kind {
    Rdb(RdbInput),
    Aof(Aof),
    /// One of our own JSON dumps (JSON Lines or one document).
    Json(Input),
}

/// Why an input could not be opened.
pub enum OpenError {
    /// It cannot be opened or read at all (missing, unreadable): exit 2.
    Io(io::Error),
    /// Its bytes are broken below the content (a corrupt or truncated
    /// compressed stream): a problem with the input, exit 1.
    Content(io::Error),
}

impl OpenError {
    /// Prints the error and says how the command ends.
    pub fn report(&self, name: &str) -> crate::report::Outcome {
        match self {
            OpenError::Io(e) => crate::report::print_open_error(name, e),
            OpenError::Content(e) => {
                eprintln!("rdbscope: {name}: read error: {e}");
                crate::report::Outcome::Problem
            }
        }
    }
}

/// Opens `path` (`-` is standard input) and decides what it is; a
/// single-file AOF arriving as a stream is read into memory
/// ([`Kind::Aof`]), for the commands that need it whole.
pub fn open(path: &Path) -> Result<Kind, OpenError> {
    match open_with(path, false)? {
        Streamed::Other(k) => Ok(k),
        // Not asked for: a stream is read whole then.
        Streamed::Aof(s) => Err(OpenError::Io(io::Error::other(format!(
            "{}: internal error: an AOF stream was not read whole",
            s.part.name
        )))),
    }
}

/// What [`open_streaming`] found.
pub enum Streamed {
    /// A single-file AOF arriving as a stream, unread.
    Aof(AofStream),
    /// Anything else, as [`open`] gives it.
    Other(Kind),
}

/// [`open`], but a single-file AOF arriving as a stream comes back unread
/// (read or replayed as it arrives, in bounded memory).
pub fn open_streaming(path: &Path) -> Result<Streamed, OpenError> {
    open_with(path, true)
}

fn open_with(path: &Path, stream_aof: bool) -> Result<Streamed, OpenError> {
    let other = |k| Ok(Streamed::Other(k));
    if path.as_os_str() != "-" && path.is_dir() {
        return match rdbscope_aof::open(path).map_err(OpenError::Io)? {
            Opened::Rdb(i) => other(Kind::Rdb(RdbInput::Mapped(i))),
            Opened::Aof(a) => other(Kind::Aof(a)),
        };
    }
    let mut input = Input::open(path).map_err(OpenError::Io)?;
    let kind = input.content_kind().map_err(OpenError::Content)?;
    let name = display_name(path);
    if kind == ContentKind::Json {
        return other(Kind::Json(input));
    }
    if let ContentKind::Unknown(what) = &kind {
        // The RDB reader reports the wrong signature; say first what the
        // bytes look like.
        let rdb = detect(input.head().unwrap_or_default(), &name) == Content::Rdb;
        if rdb && !crate::options::quiet() {
            eprintln!("rdbscope: {name}: not an RDB, AOF or JSON dump; it looks like {what}");
        }
    }
    let content = match input.source() {
        rdbscope_input::Source::Mapped(m) => detect(m.bytes(), &name),
        rdbscope_input::Source::Stream(s) => head_of(s)
            .map(|head| detect(head, &name))
            .map_err(OpenError::Content)?,
    };
    if content == Content::Rdb {
        return other(Kind::Rdb(match input.into_source() {
            rdbscope_input::Source::Mapped(m) => RdbInput::Mapped(m),
            rdbscope_input::Source::Stream(mut s) => {
                let head = head_of(&mut s).map_err(OpenError::Content)?.to_vec();
                RdbInput::Stream(s, head)
            }
        }));
    }
    let streamed = matches!(input.source(), rdbscope_input::Source::Stream(_));
    if stream_aof && streamed && matches!(content, Content::Resp | Content::RdbPreamble) {
        let rdbscope_input::Source::Stream(stream) = input.into_source() else {
            unreachable!("matched as a stream just above")
        };
        return Ok(Streamed::Aof(AofStream {
            stream,
            part: Part::single(path),
        }));
    }
    // AOF single files and manifests are read as one slice.
    let whole = input.into_mapped().map_err(OpenError::Content)?;
    other(match rdbscope_aof::source::classify(whole, path) {
        Opened::Rdb(i) => Kind::Rdb(RdbInput::Mapped(i)),
        Opened::Aof(a) => Kind::Aof(a),
    })
}

/// The first bytes of a stream, up to [`PEEK`]. When the stream breaks
/// within them (a corrupt compressed input), the bytes that did arrive:
/// the broken stream then goes on to the reader, whose report says where
/// it broke, as it would for a break further on.
pub(crate) fn head_of(s: &mut Stream) -> io::Result<&[u8]> {
    if s.peek(PEEK).is_err() {
        return s.peek(rdbscope_input::SIGNATURE_BYTES);
    }
    s.peek(PEEK)
}

/// A JSON input as a buffered reader, whatever its source.
pub fn json_reader(input: Input) -> Box<dyn BufRead + Send> {
    match input.into_source() {
        rdbscope_input::Source::Mapped(m) => Box::new(BufReader::with_capacity(
            1 << 16,
            MappedReader { m, pos: 0 },
        )),
        rdbscope_input::Source::Stream(s) => Box::new(s),
    }
}

/// Reads a mapped input front to back.
struct MappedReader {
    m: Mapped,
    pos: usize,
}

impl Read for MappedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let rest = &self.m.bytes()[self.pos..];
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        self.m.release_before(self.pos as u64);
        Ok(n)
    }
}

impl RdbInput {
    /// The size when known (of the content, not of a compressed file).
    pub fn size(&self) -> Option<u64> {
        match self {
            RdbInput::Mapped(i) => Some(i.bytes().len() as u64),
            RdbInput::Stream(..) => None,
        }
    }

    /// The input's first bytes (all of a mapped input).
    pub fn head(&self) -> &[u8] {
        match self {
            RdbInput::Mapped(i) => i.bytes(),
            RdbInput::Stream(_, head) => head,
        }
    }

    /// How far the raw input has been read, for progress lines.
    pub fn progress(&self) -> rdbscope_input::Progress {
        match self {
            RdbInput::Mapped(i) => i.progress(),
            RdbInput::Stream(s, _) => s.progress(),
        }
    }

    /// Runs `f` on this input as an engine source: a mapped input releases
    /// its pages behind the walk; a stream is read as it arrives.
    pub fn with_source<T>(self, f: impl FnOnce(Source<'_>) -> T) -> T {
        match self {
            RdbInput::Mapped(input) => {
                let release = |offset: u64| input.release_before(offset);
                f(Source::Mapped {
                    bytes: input.bytes(),
                    release: Some(&release),
                })
            }
            RdbInput::Stream(s, _) => f(Source::Stream(Box::new(s))),
        }
    }
}
