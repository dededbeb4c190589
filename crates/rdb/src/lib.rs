//! Zero-copy reading of Redis and Valkey RDB files.
//!
//! The decoder works over a byte slice (a memory map for files, or a
//! window of a stream; how bytes arrive is `rdbscope-input`'s and the
//! engine's job) and yields one [`Record`] at a time; values are views into the
//! input, decoded on demand. Nothing here prints or exits; consumers (the
//! JSON printer, the checker, the CLI) sit on top.
//!
//! Layout, one concept per module:
//! * [`records`]: header, opcodes, the record iterator, checksum.
//! * [`value`]: lazy values and their element walks.
//! * [`owned`]: owned, compact values and records (built by readers and
//!   replay, held by writers and diff).
//! * [`view`]: typed views of values and pull cursors over their elements.
//! * [`stream`]: stream values.
//! * [`listpack`], [`ziplist`], [`intset`], [`zipmap`], [`lzf`]: the
//!   compact encodings, each with its own bounds-checked walker.
//! * [`cursor`]: the primitive encodings (lengths, strings, doubles).
//! * [`module`]: module values and ids.
//! * [`payload`]: DUMP/RESTORE payloads.
//! * [`crc`]: the CRC-64/REDIS checksum.
//! * [`rule`]: the rules of the format, each with a stable id that every
//!   [`Error`] names.
//! * [`write`](mod@write): the write side, one module per encoding beside its
//!   reader: building values, DUMP payloads and whole files.
//!
//! Every failure is an [`Error`] that names the byte offset, the stage and,
//! when known, the key and type. No input makes this crate panic, allocate
//! more than the input can justify, or recurse.

#![warn(missing_docs)]

pub mod crc;
pub mod cursor;
pub mod elem;
pub mod error;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod module;
pub mod owned;
pub mod payload;
pub mod rdb_string;
pub mod records;
pub mod rule;
pub mod salvage;
pub mod stream;
pub mod types;
pub mod value;
pub mod view;
pub mod write;
pub mod ziplist;
pub mod zipmap;

pub use elem::{Elem, Score};
pub use error::{Error, ErrorKind, Result, Stage};
pub use module::{ModuleId, ModuleValue};
pub use owned::{OwnedKey, OwnedRecord, OwnedValue};
pub use rdb_string::RdbString;
pub use records::{
    Checksum, Eof, FunctionLibrary, Header, KeyRecord, Limits, Rdb, Record, Records, Resume,
};
pub use rule::Rule;
pub use stream::{Stream, StreamId};
pub use types::{Encoding, Flavor, KeyType};
pub use value::{Scratch, Value};
pub use view::{
    Field, FieldCursor, FieldWalk, HashView, ListView, MemberCursor, MemberWalk, ModuleView,
    ScoredCursor, ScoredWalk, SetView, StreamView, StringView, Typed, ZsetView,
};
