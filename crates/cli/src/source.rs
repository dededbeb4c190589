//! Opening an input as the engine reads it: regular files mapped, anything
//! else (standard input, pipes, FIFOs, devices) streamed.
//!
//! A stream is looked at before it is read: its first bytes (at most
//! [`PEEK`]) decide, as for a file, whether it is an RDB or an AOF. An RDB
//! stream is then walked as it arrives; an AOF stream is, for now, read
//! into memory as before.

use rdbscope_aof::{Aof, Opened};
use rdbscope_engine::Source;
use rdbscope_rdb::input::{display_name, Input};
use std::io::{self, Read};
use std::path::Path;

/// How much of a stream is read to decide what it is: the AUX fields that
/// say "AOF preamble" come first and are small.
const PEEK: usize = 64 << 10;

/// An RDB input, ready to walk.
pub enum RdbInput {
    Mapped(Input),
    /// A stream, and a copy of its first bytes (already in the reader).
    Stream(Box<dyn Read + Send>, Vec<u8>),
}

/// What an argument turned out to be.
pub enum Kind {
    Rdb(RdbInput),
    Aof(Aof),
}

fn is_stream(path: &Path) -> bool {
    path.as_os_str() == "-" || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

fn open_reader(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        Ok(Box::new(std::fs::File::open(path)?))
    }
}

/// Reads up to `n` bytes (fewer only at the end of the stream).
fn peek(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Opens an RDB (`info`): no AOF detection.
pub fn open_rdb(path: &Path) -> io::Result<RdbInput> {
    if is_stream(path) {
        let mut r = open_reader(path)?;
        let head = peek(&mut r, PEEK)?;
        let copy = head.clone();
        return Ok(RdbInput::Stream(
            Box::new(io::Cursor::new(head).chain(r)),
            copy,
        ));
    }
    Ok(RdbInput::Mapped(Input::open(path)?))
}

/// Opens an RDB or an AOF, deciding by content.
pub fn open(path: &Path) -> io::Result<Kind> {
    if !is_stream(path) {
        return Ok(match rdbscope_aof::open(path)? {
            Opened::Rdb(i) => Kind::Rdb(RdbInput::Mapped(i)),
            Opened::Aof(a) => Kind::Aof(a),
        });
    }
    let mut r = open_reader(path)?;
    let head = peek(&mut r, PEEK)?;
    let name = display_name(path);
    match rdbscope_aof::source::detect(&head, &name) {
        rdbscope_aof::source::Content::Rdb if !head.is_empty() => {
            let copy = head.clone();
            Ok(Kind::Rdb(RdbInput::Stream(
                Box::new(io::Cursor::new(head).chain(r)),
                copy,
            )))
        }
        _ => {
            let mut all = head;
            r.read_to_end(&mut all)?;
            let input = Input::from_vec(all, name);
            Ok(match rdbscope_aof::source::classify(input, path) {
                Opened::Rdb(i) => Kind::Rdb(RdbInput::Mapped(i)),
                Opened::Aof(a) => Kind::Aof(a),
            })
        }
    }
}

impl RdbInput {
    /// The size when known.
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

    /// Runs `f` on this input as an engine source.
    pub fn with_source<T>(self, f: impl FnOnce(Source<'_>) -> T) -> T {
        match self {
            RdbInput::Mapped(input) => {
                let release = |offset: u64| input.release_before(offset);
                f(Source::Mapped {
                    bytes: input.bytes(),
                    release: Some(&release),
                })
            }
            RdbInput::Stream(r, _) => f(Source::Stream(r)),
        }
    }
}
