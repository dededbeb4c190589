//! Errors of writing JSON from decoded input: the decoder's, or the writer's.

use std::fmt;
use std::io;

/// Why rendering a record failed.
#[derive(Debug)]
pub enum WriteError {
    /// The input is broken.
    Rdb(rdbscope_rdb::Error),
    /// The output failed (a closed pipe, a full disk).
    Io(io::Error),
}

impl From<rdbscope_rdb::Error> for WriteError {
    fn from(e: rdbscope_rdb::Error) -> Self {
        WriteError::Rdb(e)
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Rdb(e) => e.fmt(f),
            WriteError::Io(e) => write!(f, "write error: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}
