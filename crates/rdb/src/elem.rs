//! One element of a compact encoding (listpack, ziplist, intset): a byte
//! string borrowed from the blob, or an integer that Redis stored as one.
//! Both stand for the same thing, a Redis string; `Int(5)` is the string "5".

use crate::error::Error;
use crate::rdb_string::write_int;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// An element: bytes as stored, or an integer that stands for its decimal
/// text.
pub enum Elem<'b> {
    /// A string element, borrowed from the blob.
    Str(&'b [u8]),
    /// An integer element (the string of its decimal digits).
    Int(i64),
}

impl<'b> Elem<'b> {
    /// Appends the element's string form to `buf`.
    pub fn append_to(&self, buf: &mut Vec<u8>) {
        match *self {
            Elem::Str(s) => buf.extend_from_slice(s),
            Elem::Int(v) => write_int(buf, v),
        }
    }

    /// The element's string form as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.append_to(&mut v);
        v
    }

    /// The integer value, for an integer element or a string that is one.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => std::str::from_utf8(s).ok()?.parse().ok(),
        }
    }

    /// The element read as a zset score (`zzlGetScore`: integers, or text
    /// that reads as a double), or `None` when it is not a number. The text
    /// is only checked here; its value is computed when asked for.
    pub fn as_score(&self) -> Option<Score<'b>> {
        match *self {
            Elem::Int(v) => Some(Score::Double(v as f64)),
            Elem::Str(s) => crate::cursor::is_double_text(s).then_some(Score::Text(s)),
        }
    }
}

/// A zset score as stored: a double (binary, or an integer listpack entry)
/// or decimal text (listpack and ziplist entries, e.g. what `%.17g` wrote)
/// already known to read as a double. Parsing text to a double is the
/// costly part of walking a zset, and checking a file needs only to know
/// whether it is NaN; so the text is parsed only by [`Score::value`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Score<'b> {
    /// A number already in binary form.
    Double(f64),
    /// Decimal text, known to read as a double.
    Text(&'b [u8]),
}

impl Score<'_> {
    /// The score as a double.
    pub fn value(&self) -> f64 {
        match *self {
            Score::Double(v) => v,
            // Text is only built from what `is_double_text` accepts, which
            // always parses.
            Score::Text(t) => crate::cursor::parse_double_text(t).unwrap_or(f64::NAN),
        }
    }

    /// Whether the score is NaN, without parsing decimal text.
    pub fn is_nan(&self) -> bool {
        match *self {
            Score::Double(v) => v.is_nan(),
            Score::Text(t) => crate::cursor::is_nan_text(t),
        }
    }
}

/// Where a blob's bytes are, for error messages: either at a file offset
/// (stored raw), or inside the decompressed form of the RDB string at a file
/// offset (then errors carry an inner offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobLoc {
    file_offset: usize,
    decompressed: bool,
}

impl BlobLoc {
    /// A blob stored uncompressed, starting at `file_offset`.
    pub fn raw(file_offset: usize) -> BlobLoc {
        BlobLoc {
            file_offset,
            decompressed: false,
        }
    }

    /// A blob inside the decompressed form of the LZF string at
    /// `string_offset`.
    pub fn decompressed(string_offset: usize) -> BlobLoc {
        BlobLoc {
            file_offset: string_offset,
            decompressed: true,
        }
    }

    /// Locates an error found at `at` within the blob.
    pub fn locate(&self, e: Error) -> Error {
        if self.decompressed {
            e.in_blob(self.file_offset)
        } else {
            e.shifted(self.file_offset)
        }
    }

    pub(crate) fn invalid(&self, at: usize, msg: impl Into<String>) -> Error {
        self.locate(Error::invalid(at, msg))
    }

    pub(crate) fn truncated(&self, at: usize, needed: u64, what: &'static str) -> Error {
        self.locate(Error::truncated(at, needed, what))
    }
}
