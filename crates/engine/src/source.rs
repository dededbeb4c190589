//! Where the bytes come from: a slice already in memory (a mapped file),
//! or a stream read as it arrives.

use std::io::Read;

/// The input of one walk.
pub enum Source<'a> {
    /// The whole input in memory, usually a memory map.
    Mapped {
        /// Every byte of the input.
        bytes: &'a [u8],
        /// Called on the calling thread with an offset before which no
        /// thread will read again, so the pages behind it can be given
        /// back (`Input::release_before`). Called often; cheap calls are
        /// the callee's job.
        release: Option<&'a dyn Fn(u64)>,
    },
    /// Bytes read as they arrive: standard input, a pipe, a FIFO, a
    /// device, a decompressor. Only a window around the record being
    /// decoded is held (see the crate docs).
    Stream(Box<dyn Read + Send + 'a>),
}

impl<'a> Source<'a> {
    /// A slice, with nothing to release.
    pub fn slice(bytes: &'a [u8]) -> Source<'a> {
        Source::Mapped {
            bytes,
            release: None,
        }
    }

    /// A reader.
    pub fn stream(r: impl Read + Send + 'a) -> Source<'a> {
        Source::Stream(Box::new(r))
    }

    /// The input's size, when known before reading it.
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::Mapped { bytes, .. } => Some(bytes.len() as u64),
            Source::Stream(_) => None,
        }
    }
}
