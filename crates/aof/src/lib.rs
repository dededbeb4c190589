//! Zero-copy reading and checking of Redis and Valkey AOF files.
//!
//! An AOF is a stream of commands in RESP (docs/format.md#aof-command-stream),
//! maybe after an RDB preamble (#rdb-preamble), and since Redis 7.0 a set of
//! files named by a manifest (#aof-manifest). Everything here works over
//! the bytes of a file as they are mapped (`rdbscope_input`): commands
//! and their arguments are views into the input, read without copying or
//! allocating.
//!
//! One concept per module:
//! * [`resp`]: the command reader (commands, annotations, SELECT).
//! * [`manifest`]: the manifest grammar and its rules.
//! * [`source`]: what an input is (RDB, AOF file, manifest, directory) and
//!   which files make it up.
//! * [`stream`]: the commands of a single-file AOF that arrives as a
//!   stream (standard input, a pipe, a compressed file), read through a
//!   refilling window in bounded memory, with the offsets, errors and
//!   verdicts of the whole file.
//! * [`mod@check`]: `redis-check-aof`'s verdicts and more; [`report`] renders
//!   them.
//! * [`render`]: commands as JSON Lines or RESP, on several threads.
//! * [`info`]: counts of an AOF file's commands, for `info` and health reports.
//! * [`keys`]: which keys a command writes, for the key filters of `dump`.
//! * [`fix`]: where to cut a damaged AOF, as `redis-check-aof --fix` does.
//! * [`rule`]: the rules of the format, each with a stable id.
//!
//! Nothing here prints to the terminal or exits; no input makes it panic
//! or allocate by a length the input declares.

#![warn(missing_docs)]

pub mod check;
pub mod error;
pub mod fix;
pub mod info;
pub mod keys;
pub mod manifest;
pub mod render;
pub mod report;
pub mod resp;
pub mod rule;
pub mod source;
pub mod stream;

pub use check::{check, Options, Report, Verdict};
pub use error::{Error, ErrorKind};
pub use resp::{Annotation, Args, Command, Item, Reader, Records};
pub use rule::Rule;
pub use source::{open, Aof, Opened, Part};
