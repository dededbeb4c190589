//! What can go wrong applying one command.

use std::fmt;

/// Why a command was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// The replay engine does not implement this command (or this form of
    /// it): the server would have applied it, we cannot.
    Unsupported(String),
    /// The server would have answered with an error and changed nothing
    /// (wrong type, bad argument, ...). A server loading an AOF ignores such
    /// replies; the replay counts them.
    Refused(String),
}

impl CmdError {
    /// A refusal with the server's own words where we know them.
    pub fn refused(s: impl Into<String>) -> CmdError {
        CmdError::Refused(s.into())
    }

    /// `WRONGTYPE`.
    pub fn wrong_type() -> CmdError {
        CmdError::Refused(
            "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
        )
    }

    /// `ERR syntax error`.
    pub fn syntax() -> CmdError {
        CmdError::Refused("ERR syntax error".into())
    }

    /// Wrong number of arguments for `name`.
    pub fn arity(name: &[u8]) -> CmdError {
        CmdError::Refused(format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(name).to_ascii_lowercase()
        ))
    }

    /// `ERR value is not an integer or out of range`.
    pub fn not_integer() -> CmdError {
        CmdError::Refused("ERR value is not an integer or out of range".into())
    }

    /// `ERR value is not a valid float`.
    pub fn not_float() -> CmdError {
        CmdError::Refused("ERR value is not a valid float".into())
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Unsupported(s) => write!(f, "not supported by the replay engine: {s}"),
            CmdError::Refused(s) => write!(f, "{s}"),
        }
    }
}

impl std::error::Error for CmdError {}

/// Short for a command's result.
pub type CmdResult = Result<(), CmdError>;
