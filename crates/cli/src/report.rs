//! How a command ends: the exit code contract and the error lines on
//! stderr.
//!
//! * 0: every input was read and is fine;
//! * 1: an input has a problem (corrupt, truncated, unsupported);
//! * 2: usage or I/O error (missing file, unwritable output).
//!
//! A closed stdout (`rdbscope dump x.rdb | head`) is not an error: the
//! reader went away on purpose, so we stop quietly with 0.

use rdbscope_printer::PrintError;
use std::io;
use std::process::ExitCode;

/// Ordered from best to worst, so several inputs combine with `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    Problem,
    Failure,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Ok => 0,
            Outcome::Problem => 1,
            Outcome::Failure => 2,
        })
    }
}

/// Reports an error that stopped work on `name`.
pub fn print_error(name: &str, e: &PrintError) -> Outcome {
    match e {
        PrintError::Io(io) if io.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
        PrintError::Io(io) => {
            eprintln!("rdbscope: {name}: write error: {io}");
            Outcome::Failure
        }
        PrintError::Rdb(e) => {
            eprintln!("rdbscope: {name}: {e}");
            Outcome::Problem
        }
    }
}

/// Reports a failure to open or read an input.
pub fn print_open_error(name: &str, e: &io::Error) -> Outcome {
    eprintln!("rdbscope: {name}: {e}");
    Outcome::Failure
}
