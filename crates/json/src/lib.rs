//! The JSON side of rdbscope, in one place: the schema's writers
//! ([`write`](mod@write)), the output buffer they write into ([`out`]), per-database
//! key counts with their JSON form ([`keyspace`]), and a streaming reader
//! of what `dump` writes ([`read`]), beside each other as object's `read/`
//! and `write/` are. The schema is documented in `docs/json-format.md`.
//!
//! The dump printer, the check report and the AOF renderer all depend on
//! this crate rather than on each other.

#![warn(missing_docs)]

pub mod error;
pub mod keyspace;
pub mod out;
pub mod read;
pub mod score;
pub mod write;

pub use error::WriteError;
pub use out::OutBuf;
pub use read::{parse_record, sniff, JsonLayout, JsonReader, ReadError, RecordAt};
