//! Errors of the RESP command reader.
//!
//! Two kinds, because Redis treats them differently when it loads an AOF
//! (docs/format.md#aof-loading-and-truncation): a file that simply *ends* inside a command is
//! *truncated* (the server drops the partial command and loads the rest,
//! if it is the last file and `aof-load-truncated yes`), while a byte that
//! cannot be there is a *format error* (the server refuses to start).

use crate::rule::Rule;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
/// What kind of problem an [`Error`] is.
pub enum ErrorKind {
    /// The input ended inside a command; the text says what was expected.
    Truncated(String),
    /// A byte that the format does not allow; the text says what was
    /// expected and what was found.
    Format(String),
    /// Reading a streamed input failed (a corrupt compressed stream, a
    /// failing device): nothing is known about the bytes from here on.
    /// Callers report it as a problem with the input, not as a rule of
    /// the format.
    Read(String),
}

/// A reading error with its location in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the file where the problem was found.
    pub offset: u64,
    /// Offset of the first byte of the record (command or annotation) that
    /// holds the problem: everything before it is whole.
    pub record_offset: u64,
    /// What went wrong.
    pub kind: ErrorKind,
    /// The rule of the format the input broke.
    pub rule: Rule,
}

impl Error {
    pub(crate) fn truncated(offset: usize, record: usize, msg: impl Into<String>) -> Error {
        Error {
            offset: offset as u64,
            record_offset: record as u64,
            kind: ErrorKind::Truncated(msg.into()),
            rule: Rule::Truncated,
        }
    }

    pub(crate) fn format(
        rule: Rule,
        offset: usize,
        record: usize,
        msg: impl Into<String>,
    ) -> Error {
        Error {
            offset: offset as u64,
            record_offset: record as u64,
            kind: ErrorKind::Format(msg.into()),
            rule,
        }
    }

    pub(crate) fn read(offset: u64, e: &std::io::Error) -> Error {
        Error {
            offset,
            record_offset: offset,
            kind: ErrorKind::Read(e.to_string()),
            rule: Rule::Truncated,
        }
    }

    /// Whether reading the input failed ([`ErrorKind::Read`]).
    pub fn is_read_error(&self) -> bool {
        matches!(self.kind, ErrorKind::Read(_))
    }

    /// Whether the file simply ends inside a command (which the server
    /// forgives in the last file) rather than holding a bad byte.
    pub fn is_truncation(&self) -> bool {
        matches!(self.kind, ErrorKind::Truncated(_))
    }

    /// The message without the offset.
    pub fn message(&self) -> &str {
        match &self.kind {
            ErrorKind::Truncated(m) | ErrorKind::Format(m) | ErrorKind::Read(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.message())
    }
}

impl std::error::Error for Error {}

/// A byte for a message: printable ASCII as a quoted character, the rest
/// in hex.
pub(crate) fn show_byte(b: u8) -> String {
    match b {
        b'\r' => "'\\r'".to_string(),
        b'\n' => "'\\n'".to_string(),
        0x21..=0x7e => format!("'{}'", b as char),
        _ => format!("byte 0x{b:02x}"),
    }
}
