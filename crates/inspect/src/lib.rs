//! Inspection of an RDB's keys: what each key costs in a running server
//! ([`memory`]), and the aggregates built from those per-key facts
//! ([`row::KeyRow`]): statistics, the biggest keys, prefixes.
//!
//! Everything here is a consumer of the engine's record stream: a
//! per-thread [`Inspector`] turns a [`rdbscope_rdb::KeyRecord`] into a
//! [`KeyRow`], and each aggregate is built per chunk and merged in file
//! order, so results do not depend on the number of threads. Nothing here
//! prints or opens files.

pub mod memory;
pub mod row;

pub use memory::{Allocator, Estimator, KeyMemory};
pub use row::{Inspector, KeyRow};
pub mod bigkeys;
pub mod csv;
pub mod html;
pub mod prefixes;
pub mod print;
pub mod sketch;
pub mod stats;
pub mod walk;
