//! `prefixes`: key count and estimated memory per key prefix, at each
//! level 1..=depth (level `d` is the key up to and including its `d`-th
//! separator; a key with fewer separators counts at its deepest prefix,
//! `""` when it has none), so that every level adds up to the file's
//! totals.
//!
//! Memory is bounded by a weighted Misra–Gries summary per level, weighted
//! by memory: the table holds up to `2 × capacity` prefixes; when it is
//! full, the `(capacity+1)`-th largest memory `c` is taken off every entry
//! (entries at or below `c` leave the table), and what is taken off goes
//! to the level's "other" bucket, so totals stay exact. A listed prefix's
//! memory is then low by at most the sum of those `c`s
//! ([`Level::max_error`]), which is at most `total memory / (capacity+1)`;
//! its key count is reduced in proportion. With fewer distinct prefixes
//! than the table holds nothing is ever taken off: the result is exact
//! (and [`Level::max_error`] is 0).

use crate::row::KeyRow;
use crate::walk::RowSink;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast hasher for prefix bytes (FNV-1a over 8-byte words); the
/// table is not exposed to keys chosen to collide with anything but our
/// own counting, and a collision only costs time.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(23);
        }
        for &b in chunks.remainder() {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h ^ (h >> 29);
    }
}

type Table = HashMap<Box<[u8]>, Entry, BuildHasherDefault<WordHasher>>;

/// One prefix's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry {
    /// Keys under the prefix.
    pub keys: u64,
    /// Their estimated memory.
    pub memory: u128,
}

/// One level's summary.
#[derive(Debug, Clone, Default)]
pub struct Level {
    table: Table,
    /// Keys and memory not attributed to a listed prefix.
    pub other: Entry,
    /// How much a listed prefix's memory may be below its true value.
    pub max_error: u128,
}

impl Level {
    /// The listed prefixes, by memory descending (then prefix).
    pub fn sorted(&self) -> Vec<(&[u8], Entry)> {
        let mut v: Vec<(&[u8], Entry)> = self.table.iter().map(|(k, e)| (&k[..], *e)).collect();
        v.sort_by(|a, b| b.1.memory.cmp(&a.1.memory).then_with(|| a.0.cmp(b.0)));
        v
    }

    /// Whether every count is exact (nothing was ever taken off).
    pub fn exact(&self) -> bool {
        self.max_error == 0 && self.other == Entry::default()
    }

    fn add(&mut self, prefix: &[u8], memory: u64, capacity: usize) {
        if let Some(e) = self.table.get_mut(prefix) {
            e.keys += 1;
            e.memory += memory as u128;
            return;
        }
        self.table.insert(
            prefix.into(),
            Entry {
                keys: 1,
                memory: memory as u128,
            },
        );
        if self.table.len() > 2 * capacity {
            self.prune(capacity);
        }
    }

    fn merge(&mut self, o: Level, capacity: usize) {
        self.other.keys += o.other.keys;
        self.other.memory += o.other.memory;
        self.max_error += o.max_error;
        for (k, e) in o.table {
            let d = self.table.entry(k).or_default();
            d.keys += e.keys;
            d.memory += e.memory;
        }
        if self.table.len() > 2 * capacity {
            self.prune(capacity);
        }
    }

    /// Brings the table down to at most `capacity` entries (the
    /// Misra–Gries step, see the module docs).
    fn prune(&mut self, capacity: usize) {
        let mut weights: Vec<u128> = self.table.values().map(|e| e.memory).collect();
        let cut_at = capacity.min(weights.len().saturating_sub(1));
        // The (capacity+1)-th largest: everything at or below it leaves.
        let (_, c, _) = weights.select_nth_unstable_by(cut_at, |a, b| b.cmp(a));
        let c = *c;
        let other = &mut self.other;
        self.table.retain(|_, e| {
            if e.memory <= c {
                other.keys += e.keys;
                other.memory += e.memory;
                return false;
            }
            let moved_keys = ((e.keys as u128 * c) / e.memory) as u64;
            e.memory -= c;
            e.keys -= moved_keys;
            other.memory += c;
            other.keys += moved_keys;
            true
        });
        self.max_error += c;
        // Ties at `c` may leave fewer than `capacity`; never more.
        debug_assert!(self.table.len() <= capacity);
    }
}

/// Prefix counts at every level.
#[derive(Debug, Clone)]
pub struct Prefixes {
    separator: Vec<u8>,
    capacity: usize,
    /// Index `d - 1` holds level `d`.
    pub levels: Vec<Level>,
    /// Keys seen.
    pub keys: u64,
    /// Their memory.
    pub memory: u128,
}

impl Prefixes {
    /// Prefixes ending at `separator`, up to `depth` levels, each level's
    /// table listing up to `capacity` prefixes (at least 1).
    pub fn new(separator: &[u8], depth: usize, capacity: usize) -> Prefixes {
        Prefixes {
            separator: separator.to_vec(),
            capacity: capacity.max(1),
            levels: (0..depth.max(1)).map(|_| Level::default()).collect(),
            keys: 0,
            memory: 0,
        }
    }

    /// The separator.
    pub fn separator(&self) -> &[u8] {
        &self.separator
    }

    /// Counts one key.
    pub fn add(&mut self, key: &[u8], memory: u64) {
        self.keys += 1;
        self.memory += memory as u128;
        let sep = &self.separator[..];
        let mut end = 0usize; // the current prefix is key[..end]
        let mut from = 0usize;
        for level in self.levels.iter_mut() {
            if !sep.is_empty() {
                if let Some(i) = find(&key[from..], sep) {
                    end = from + i + sep.len();
                    from = end;
                }
            }
            level.add(&key[..end], memory, self.capacity);
        }
    }

    /// Adds the counts of another part of the file.
    pub fn merge(&mut self, o: Prefixes) {
        self.keys += o.keys;
        self.memory += o.memory;
        for (a, b) in self.levels.iter_mut().zip(o.levels) {
            a.merge(b, self.capacity);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `prefixes`' sink.
#[derive(Debug)]
pub struct PrefixesSink {
    empty: Prefixes,
    part: Prefixes,
}

impl PrefixesSink {
    /// Counts into a copy of `empty` per chunk.
    pub fn new(empty: Prefixes) -> PrefixesSink {
        PrefixesSink {
            part: empty.clone(),
            empty,
        }
    }
}

impl RowSink for PrefixesSink {
    type Chunk = Prefixes;

    fn row(&mut self, row: &KeyRow<'_>) {
        self.part.add(row.key, row.memory);
    }

    fn end(&mut self) -> Prefixes {
        std::mem::replace(&mut self.part, self.empty.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_add_up_and_are_exact_when_small() {
        let mut p = Prefixes::new(b":", 3, 100);
        for (k, m) in [
            (&b"user:1:name"[..], 10),
            (b"user:2:name", 20),
            (b"user:2", 5),
            (b"plain", 7),
            (b"a:b:c:d", 1),
        ] {
            p.add(k, m);
        }
        for l in &p.levels {
            let s: u64 = l.sorted().iter().map(|(_, e)| e.keys).sum();
            let m: u128 = l.sorted().iter().map(|(_, e)| e.memory).sum();
            assert_eq!(s, 5);
            assert_eq!(m, 43);
            assert!(l.exact());
        }
        let l1 = p.levels[0].sorted();
        assert_eq!(
            l1[0],
            (
                &b"user:"[..],
                Entry {
                    keys: 3,
                    memory: 35
                }
            )
        );
        let l2: Vec<_> = p.levels[1].sorted();
        assert!(l2.contains(&(
            &b"user:2:"[..],
            Entry {
                keys: 1,
                memory: 20
            }
        )));
        assert!(l2.contains(&(&b"user:"[..], Entry { keys: 1, memory: 5 })));
        assert!(l2.contains(&(&b""[..], Entry { keys: 1, memory: 7 })));
    }

    #[test]
    fn bounded_with_exact_totals_and_error_bound() {
        let cap = 50;
        let mut p = Prefixes::new(b":", 1, cap);
        let mut truth: HashMap<Vec<u8>, u128> = HashMap::new();
        let mut total = 0u128;
        for i in 0..20_000u64 {
            // A few heavy prefixes and a long tail of singletons.
            let (k, m) = if i % 3 == 0 {
                (format!("heavy{}:{i}", i % 7), 1000)
            } else {
                (format!("tail{i}:x"), 10 + i % 13)
            };
            let pre = k.as_bytes()[..k.find(':').unwrap() + 1].to_vec();
            *truth.entry(pre).or_default() += m as u128;
            total += m as u128;
            p.add(k.as_bytes(), m);
        }
        let l = &p.levels[0];
        assert!(l.table.len() <= 2 * cap);
        let listed: u128 = l.sorted().iter().map(|(_, e)| e.memory).sum();
        assert_eq!(listed + l.other.memory, total);
        assert!(l.max_error <= total / (cap as u128 + 1));
        for (k, e) in l.sorted() {
            let t = truth[k];
            assert!(e.memory <= t && t - e.memory <= l.max_error);
        }
        for h in 0..7 {
            assert!(l.table.contains_key(format!("heavy{h}:").as_bytes()));
        }
    }
}
