//! Rendering of decoded RDB records: JSON and RESP (RESTORE commands) for
//! `dump`, summaries for `info`.
//!
//! The printer never reads files; it is handed records by the caller, as
//! ripgrep's printer is handed matches by its searcher.

#![warn(missing_docs)]

pub mod commands;
pub mod dump;
pub mod info;
pub mod json;
pub mod resp;

pub use rdbscope_json::WriteError as PrintError;
/// The JSON crate's output buffer, error type and key counts, under the
/// names the printer's users know.
pub use rdbscope_json::{keyspace, out};
/// Errors of printing, see [`PrintError`].
pub mod error {
    pub use rdbscope_json::WriteError as PrintError;
}
pub use json::{JsonPrinter, Layout};
pub use resp::RespPrinter;
