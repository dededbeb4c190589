//! Errors of the decoder.
//!
//! Every error names where it happened: the byte offset in the input, the
//! decoding stage (the same vocabulary as `redis-check-rdb`), and, once the
//! record iterator knows it, the key and the type byte of the record. Errors
//! found inside a decompressed blob (an LZF-compressed listpack, say) carry
//! the file offset of the blob plus the offset inside its decompressed bytes.

use crate::rule::Rule;
use std::fmt;

/// The decoding stage an error happened in. Names follow `redis-check-rdb`'s
/// `rdb_check_doing_string` so existing runbooks keep their meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the 9-byte magic and version.
    Header,
    /// Reading an opcode or object type byte.
    ReadType,
    /// Reading the expire time that prefixes a key.
    ReadExpire,
    /// Reading a key name.
    ReadKey,
    /// Reading a key's value.
    ReadValue,
    /// Reading an AUX field.
    ReadAux,
    /// Reading a module AUX record.
    ReadModuleAux,
    /// Reading a function library.
    ReadFunction,
    /// Reading another opcode's payload (SELECTDB, RESIZEDB, SLOT_INFO, ...).
    ReadOpcode,
    /// Verifying the CRC-64 trailer.
    CheckSum,
    /// After the end: trailing bytes.
    Trailer,
}

impl Stage {
    /// The `redis-check-rdb` spelling of this stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Header => "start",
            Stage::ReadType => "read-type",
            Stage::ReadExpire => "read-expire",
            Stage::ReadKey => "read-key",
            Stage::ReadValue => "read-object-value",
            Stage::ReadAux => "read-aux",
            Stage::ReadModuleAux => "read-module-aux",
            Stage::ReadFunction => "read-functions",
            Stage::ReadOpcode => "read-opcode",
            Stage::CheckSum => "check-sum",
            Stage::Trailer => "trailer",
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ended while more bytes were expected.
    Truncated {
        /// How many more bytes the item needed.
        needed: u64,
        /// What was being read.
        what: &'static str,
    },
    /// A structural rule of the format was broken; the text says what was
    /// expected and what was found.
    Invalid(String),
    /// The input is well-formed but uses a feature this decoder does not
    /// support (a future type, a pre-GA module value, ...).
    Unsupported(String),
    /// A declared size is above a configured limit (see [`crate::Limits`]).
    Limit(String),
    /// The CRC-64 trailer does not match the data.
    ChecksumMismatch {
        /// The value in the trailer.
        stored: u64,
        /// The value computed over the file.
        computed: u64,
    },
}

/// A decoding error with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the input where the problem was found.
    pub offset: u64,
    /// Offset inside a decompressed blob, when the problem is in one.
    pub inner_offset: Option<u64>,
    /// What the decoder was doing.
    pub stage: Stage,
    /// The key of the record, when known.
    pub key: Option<Vec<u8>>,
    /// The object type byte of the record, when known.
    pub rdb_type: Option<u8>,
    /// Offset of the record's first byte, when inside a key record.
    pub record_offset: Option<u64>,
    /// Offset of the value's first byte, when the value is what did not
    /// read (salvage reads what its structure still says from there).
    pub value_offset: Option<u64>,
    /// What went wrong.
    pub kind: ErrorKind,
    /// The rule of the format the input broke (its stable id goes into
    /// reports; see [`Rule`]).
    pub rule: Rule,
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error at `offset` (stage `read-object-value` until told otherwise).
    /// Its rule follows from `kind` where the kind says it all (truncated,
    /// checksum, limit) and is [`Rule::Other`] otherwise: an invalid or
    /// unsupported input is made with [`Error::invalid`] (or the crate's
    /// own constructor for unsupported input), which names the rule, or
    /// given one with [`Error::with_rule`].
    pub fn new(offset: usize, kind: ErrorKind) -> Error {
        let rule = match kind {
            ErrorKind::Truncated { .. } => Rule::Truncated,
            ErrorKind::ChecksumMismatch { .. } => Rule::Checksum,
            ErrorKind::Limit(_) => Rule::SizeLimit,
            ErrorKind::Invalid(_) | ErrorKind::Unsupported(_) => Rule::Other,
        };
        Error {
            rule,
            offset: offset as u64,
            inner_offset: None,
            stage: Stage::ReadValue,
            key: None,
            rdb_type: None,
            record_offset: None,
            value_offset: None,
            kind,
        }
    }

    /// For a truncation: the absolute offset the input would have had to
    /// reach (the failed read's offset plus the bytes it was missing).
    pub fn needed_end(&self) -> Option<u64> {
        match self.kind {
            ErrorKind::Truncated { needed, .. } if self.inner_offset.is_none() => {
                Some(self.offset.saturating_add(needed))
            }
            _ => None,
        }
    }

    /// Whether the input ran out (as opposed to breaking a rule).
    pub fn is_truncation(&self) -> bool {
        matches!(self.kind, ErrorKind::Truncated { .. })
    }

    /// A broken `rule` of the format at `offset`; `msg` says what was
    /// expected and what was found.
    pub fn invalid(rule: Rule, offset: usize, msg: impl Into<String>) -> Error {
        Error::new(offset, ErrorKind::Invalid(msg.into())).with_rule(rule)
    }

    /// Names the rule the input broke.
    pub fn with_rule(mut self, rule: Rule) -> Error {
        self.rule = rule;
        self
    }

    pub(crate) fn truncated(offset: usize, needed: u64, what: &'static str) -> Error {
        Error::new(offset, ErrorKind::Truncated { needed, what })
    }

    pub(crate) fn unsupported(rule: Rule, offset: usize, msg: impl Into<String>) -> Error {
        Error::new(offset, ErrorKind::Unsupported(msg.into())).with_rule(rule)
    }

    /// Sets what the decoder was doing when the error happened.
    pub fn with_stage(mut self, stage: Stage) -> Error {
        self.stage = stage;
        self
    }

    /// Re-bases an error found inside a decompressed buffer onto the file:
    /// `blob_offset` is where the blob's RDB string starts in the file.
    pub(crate) fn in_blob(mut self, blob_offset: usize) -> Error {
        if self.inner_offset.is_none() {
            self.inner_offset = Some(self.offset);
            self.offset = blob_offset as u64;
        }
        self
    }

    /// Shifts the offset of an error found in a sub-slice that starts at
    /// `base` in the file.
    pub(crate) fn shifted(mut self, base: usize) -> Error {
        if self.inner_offset.is_none() {
            self.offset += base as u64;
        }
        self
    }

    /// A human name for the type byte, if any.
    pub fn type_name(&self) -> Option<&'static str> {
        self.rdb_type.map(crate::types::type_byte_name)
    }

    /// The message without location, e.g. "unexpected end of input ...".
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Truncated { needed, what } => {
                format!("unexpected end of input: expected {needed} more byte(s) of {what}")
            }
            ErrorKind::Invalid(m) => m.clone(),
            ErrorKind::Unsupported(m) => format!("unsupported: {m}"),
            ErrorKind::Limit(m) => format!("limit exceeded: {m}"),
            ErrorKind::ChecksumMismatch { stored, computed } => {
                format!("wrong RDB checksum: expected {computed:016x}, file has {stored:016x}")
            }
        }
    }
}

/// Writes a key for humans: printable ASCII as is, the rest as `\xNN`.
pub fn escape_key(key: &[u8]) -> String {
    let mut s = String::with_capacity(key.len());
    for &b in key {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}", self.offset)?;
        if let Some(inner) = self.inner_offset {
            write!(f, " (+{inner} in decompressed blob)")?;
        }
        write!(f, " ({})", self.stage.as_str())?;
        if let Some(key) = &self.key {
            write!(f, ", key \"{}\"", escape_key(key))?;
        }
        if let Some(t) = self.rdb_type {
            write!(f, ", type {t} ({})", crate::types::type_byte_name(t))?;
        }
        write!(f, ": {}", self.message())
    }
}

impl std::error::Error for Error {}
