//! Rendering of decoded RDB records: JSON and RESP (RESTORE commands) for
//! `dump`, summaries for `info`.
//!
//! The printer never reads files; it is handed records by the caller, as
//! ripgrep's printer is handed matches by its searcher.

pub mod dump;
pub mod error;
pub mod info;
pub mod json;
pub mod keyspace;
pub mod out;
pub mod resp;

pub use error::PrintError;
pub use json::{JsonPrinter, Layout};
pub use resp::RespPrinter;
