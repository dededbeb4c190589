//! Errors of printing: the decoder's, or the writer's.

use std::fmt;
use std::io;

#[derive(Debug)]
/// Why printing stopped.
pub enum PrintError {
    /// The input is broken.
    Rdb(rdbscope_rdb::Error),
    /// The output failed (a closed pipe, a full disk).
    Io(io::Error),
}

impl From<rdbscope_rdb::Error> for PrintError {
    fn from(e: rdbscope_rdb::Error) -> Self {
        PrintError::Rdb(e)
    }
}

impl From<io::Error> for PrintError {
    fn from(e: io::Error) -> Self {
        PrintError::Io(e)
    }
}

impl fmt::Display for PrintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrintError::Rdb(e) => e.fmt(f),
            PrintError::Io(e) => write!(f, "write error: {e}"),
        }
    }
}

impl std::error::Error for PrintError {}
