//! `diff`: which keys two inputs (RDB files or JSON dumps, in any
//! combination) hold differently, and exactly how.
//!
//! Two passes over each input, so the memory does not grow with the
//! values:
//!
//! 1. **Index** ([`walk::index_rdb`], [`walk::index_json`]): every selected
//!    key's name print, value print ([`mod@print`]) and locator, into an
//!    [`index::Index`] (24 bytes a key; partitioned into temporary files
//!    beyond the memory budget). The indexes are merged: keys only in A
//!    (removed), only in B (added), in both with different prints
//!    (changed).
//! 2. **Details** ([`walk::fetch_rdb`], [`walk::fetch_json`]): the keys
//!    that differ are read again in full, A's values of changed keys held
//!    (in batches that fit the budget) until B's arrive, and compared
//!    ([`detail`]); a pair whose values turn out equal is dropped.
//!
//! An [`Input`] is anything that can be walked twice (the command line
//! reopens a file; standard input is first saved to a temporary file).

#![warn(missing_docs)]

pub mod detail;
pub mod index;
pub mod print;
pub mod seq;
pub mod text;
pub mod walk;

use index::{Index, SpillDir};
use rdbscope_rdb::OwnedKey;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::PathBuf;
pub use walk::{PassError, PassOptions};

/// An input that can be walked any number of times.
pub trait Input {
    /// Pass 1: index the selected keys.
    fn index(&mut self, opts: &PassOptions, index: &mut Index) -> Result<(), PassError>;
    /// Pass 2: the keys at `wanted` (sorted locators), in input order;
    /// `f` returns false to stop.
    fn fetch(
        &mut self,
        opts: &PassOptions,
        wanted: Vec<u64>,
        f: &mut dyn FnMut(u64, OwnedKey) -> bool,
    ) -> Result<(), PassError>;
}

/// What to compare and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Filters, prints, decoding limits, threads.
    pub pass: PassOptions,
    /// Only which keys changed, not how.
    pub keys_only: bool,
    /// Pair a removed key with an added key of the same value (a rename or
    /// a move between databases).
    pub detect_renames: bool,
    /// Bytes for the key indexes (both inputs) and for the values held
    /// while comparing.
    pub memory: usize,
    /// Where the indexes spill.
    pub temp_dir: PathBuf,
}

/// Why a diff could not be completed.
#[derive(Debug)]
pub enum DiffError {
    /// Input A or B (0 or 1) failed.
    Input(usize, PassError),
    /// Writing a record failed.
    Write(io::Error),
}

/// Counts per database and type.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// (db, type) -> [added, removed, changed, renamed].
    pub counts: BTreeMap<(u64, &'static str), [u64; 4]>,
    /// Keys equal on both sides.
    pub same: u64,
    /// Keys indexed in A and in B.
    pub keys: [u64; 2],
    /// Whether an index spilled to temporary files.
    pub spilled: bool,
    /// Rounds of pass 2 (more than one when the changed values did not fit
    /// the budget together).
    pub rounds: u64,
}

impl Summary {
    /// Whether the inputs differ in any selected key.
    pub fn differs(&self) -> bool {
        self.counts.values().any(|c| c.iter().any(|&n| n > 0))
    }

    fn count(&mut self, k: &OwnedKey, i: usize) {
        self.counts
            .entry((k.db, detail::type_name(&k.value)))
            .or_default()[i] += 1;
    }

    /// The summary as one JSON record (`"record": "summary"`).
    pub fn to_json(&self) -> Value {
        let mut dbs = serde_json::Map::new();
        for ((db, t), c) in &self.counts {
            let e = dbs
                .entry(db.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
            e[t] = serde_json::json!({ "added": c[0], "removed": c[1], "changed": c[2], "renamed": c[3] });
        }
        let total = |i: usize| self.counts.values().map(|c| c[i]).sum::<u64>();
        serde_json::json!({
            "record": "summary",
            "identical": !self.differs(),
            "keys_a": self.keys[0],
            "keys_b": self.keys[1],
            "same": self.same,
            "added": total(0),
            "removed": total(1),
            "changed": total(2),
            "renamed": total(3),
            "dbs": dbs,
        })
    }
}

/// Compares `a` with `b`, giving each key record to `out` (removed keys
/// in A's order, then added and changed keys in B's order).
pub fn diff(
    a: &mut dyn Input,
    b: &mut dyn Input,
    opts: &Options,
    out: &mut dyn FnMut(&Value) -> io::Result<()>,
) -> Result<Summary, DiffError> {
    let dir = SpillDir::new(&opts.temp_dir).map_err(|e| DiffError::Input(0, PassError::Io(e)))?;
    let mut ia = Index::new(opts.memory / 2, &dir, "a");
    a.index(&opts.pass, &mut ia)
        .map_err(|e| DiffError::Input(0, e))?;
    let mut ib = Index::new(opts.memory / 2, &dir, "b");
    b.index(&opts.pass, &mut ib)
        .map_err(|e| DiffError::Input(1, e))?;
    let mut summary = Summary {
        keys: [ia.keys(), ib.keys()],
        spilled: ia.spilled() || ib.spilled(),
        ..Summary::default()
    };
    let d = index::merge(ia, ib).map_err(|e| DiffError::Input(0, PassError::Io(e)))?;
    summary.same = d.same;

    // Renames: a removed and an added key with the same value print.
    let mut pairs: Vec<(u64, u64, bool)> = d.changed.iter().map(|&(x, y)| (x, y, false)).collect();
    let (mut removed, mut added): (Vec<u64>, Vec<u64>) = (Vec::new(), Vec::new());
    if opts.detect_renames {
        let mut by_value: HashMap<u64, Vec<u64>> = HashMap::new();
        for &(loc, v) in &d.removed {
            by_value.entry(v).or_default().push(loc);
        }
        for &(loc, v) in &d.added {
            match by_value.get_mut(&v).and_then(Vec::pop) {
                Some(from) => pairs.push((from, loc, true)),
                None => added.push(loc),
            }
        }
        removed = by_value.into_values().flatten().collect();
        removed.sort_unstable();
        pairs.sort_unstable();
    } else {
        removed.extend(d.removed.iter().map(|&(l, _)| l));
        added.extend(d.added.iter().map(|&(l, _)| l));
    }
    drop(d);

    let mut write_error = None;
    let mut emit = |v: &Value, werr: &mut Option<io::Error>| {
        if werr.is_none() {
            if let Err(e) = out(v) {
                *werr = Some(e);
            }
        }
        werr.is_none()
    };

    // Pass 2, in rounds: A's values of as many pairs as fit the budget
    // are held, then B is read and each pair compared. Removed and added
    // keys are printed in the first round.
    let budget = opts.memory.max(1 << 20);
    let mut pending = pairs;
    let mut first = true;
    while first || !pending.is_empty() {
        summary.rounds += 1;
        let in_pending: HashMap<u64, (u64, bool)> =
            pending.iter().map(|&(x, y, r)| (x, (y, r))).collect();
        let mut wanted_a: Vec<u64> = pending.iter().map(|p| p.0).collect();
        if first {
            wanted_a.extend(&removed);
        }
        wanted_a.sort_unstable();
        wanted_a.dedup();
        let mut held: HashMap<u64, OwnedKey> = HashMap::new();
        let mut held_bytes = 0usize;
        a.fetch(&opts.pass, wanted_a, &mut |loc, k| {
            if first && removed.binary_search(&loc).is_ok() {
                summary.count(&k, 1);
                return emit(&detail::one_sided("removed", &k), &mut write_error);
            }
            // The first value is always held, so every round advances.
            if in_pending.contains_key(&loc) && (held.is_empty() || held_bytes <= budget) {
                held_bytes += k.heap_bytes();
                held.insert(loc, k);
            }
            true
        })
        .map_err(|e| DiffError::Input(0, e))?;
        if let Some(e) = write_error.take() {
            return Err(DiffError::Write(e));
        }
        let b_of: HashMap<u64, (u64, bool)> = held
            .keys()
            .map(|&x| {
                let (y, r) = in_pending[&x];
                (y, (x, r))
            })
            .collect();
        let mut wanted_b: Vec<u64> = b_of.keys().copied().collect();
        if first {
            wanted_b.extend(&added);
        }
        wanted_b.sort_unstable();
        wanted_b.dedup();
        pending.retain(|p| !held.contains_key(&p.0));
        b.fetch(&opts.pass, wanted_b, &mut |loc, k| {
            if first && added.binary_search(&loc).is_ok() {
                summary.count(&k, 0);
                return emit(&detail::one_sided("added", &k), &mut write_error);
            }
            let Some(&(from, rename)) = b_of.get(&loc) else {
                return true;
            };
            let Some(old) = held.remove(&from) else {
                return true;
            };
            // A rename is confirmed on the values (and TTLs) themselves.
            let same_value = detail::changed(&old, &k, opts.pass.print.ignore_ttl, false).is_none();
            if rename && same_value {
                summary.count(&k, 3);
                return emit(&detail::renamed(&old, &k), &mut write_error);
            }
            if rename || old.key != k.key || old.db != k.db {
                // Two names with one print: not the same key after all.
                summary.count(&old, 1);
                summary.count(&k, 0);
                return emit(&detail::one_sided("removed", &old), &mut write_error)
                    && emit(&detail::one_sided("added", &k), &mut write_error);
            }
            match detail::changed(&old, &k, opts.pass.print.ignore_ttl, opts.keys_only) {
                Some(v) => {
                    summary.count(&k, 2);
                    emit(&v, &mut write_error)
                }
                // The prints differed but the values do not (what prints
                // cover and details do not, e.g. a collision): no change.
                None => {
                    summary.same += 1;
                    true
                }
            }
        })
        .map_err(|e| DiffError::Input(1, e))?;
        if let Some(e) = write_error.take() {
            return Err(DiffError::Write(e));
        }
        first = false;
    }
    Ok(summary)
}
