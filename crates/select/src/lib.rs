//! What a command works on and where its results go, defined once for
//! every command of rdbscope:
//!
//! * [`filter`]: key selection (`--db`, `--type`, `--key`, `--key-regex`,
//!   `--not-key`, `--expiry`, `--expired`, `--min-size`, `--slot`, ...),
//!   as clap options ([`KeyFilterArgs`]) and a compiled [`KeyFilter`] over
//!   the plain facts of a key ([`KeyFacts`]), whichever reader produced it;
//! * [`rdb`]: the same over `rdbscope_rdb` records ([`RecordFilter`]);
//! * [`output`]: `-o/--output` written atomically (temporary file and
//!   rename), never over an input, `--force`, `--quiet` ([`OutputArgs`],
//!   [`Output`]);
//! * [`glob`]: Redis glob patterns; [`slot`]: Redis Cluster hash slots;
//!   [`units`]: sizes and times as options spell them.
//!
//! The glob matcher lives here rather than in the decoder: matching key
//! names is selection, not decoding, and the decoder needs none of it.
//!
//! Nothing here prints or exits.

#![warn(missing_docs)]

pub mod filter;
pub mod glob;
pub mod output;
pub mod rdb;
pub mod slot;
pub mod units;

pub use filter::{KeyFacts, KeyFilter, KeyFilterArgs};
pub use output::{Output, OutputArgs, OutputError, ScratchFile};
pub use rdb::RecordFilter;
