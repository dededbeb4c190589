//! `bigkeys`: the N biggest keys by estimated memory and by element
//! count, over all keys and per type. Each list is a bounded heap of N
//! entries ordered by (size descending, file offset ascending), so ties
//! break the same way however the file was split between threads, and a
//! file with at least N keys always yields N rows.

use crate::row::KeyRow;
use crate::walk::RowSink;
use rdbscope_rdb::types::KeyType;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One key in a top list: its row, kept past its record with the key
/// bytes beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigKey {
    /// What the list ranks by (memory bytes or elements).
    pub size: u64,
    /// The key.
    pub key: Vec<u8>,
    /// The rest of its row (`row.key` is empty: see [`BigKey::as_row`]).
    pub row: KeyRow<'static>,
}

impl BigKey {
    /// The whole row again, key included.
    pub fn as_row(&self) -> KeyRow<'_> {
        self.row.with_key(&self.key)
    }
}

/// Heap order: the "least big" entry is the heap's greatest element, so
/// `BinaryHeap::peek` is the one to evict.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ranked(BigKey);

impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (Reverse(self.0.size), self.0.row.offset).cmp(&(Reverse(o.0.size), o.0.row.offset))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The N biggest by one measure.
#[derive(Debug, Clone, Default)]
pub struct Top {
    n: usize,
    heap: BinaryHeap<Ranked>,
}

impl Top {
    /// Keeps `n` entries.
    pub fn new(n: usize) -> Top {
        Top {
            n,
            heap: BinaryHeap::with_capacity(n.min(1 << 16) + 1),
        }
    }

    /// Whether an entry of this size and offset would make the list:
    /// checked before building one (most keys do not).
    fn admits(&self, size: u64, offset: u64) -> bool {
        if self.n == 0 {
            return false;
        }
        if self.heap.len() < self.n {
            return true;
        }
        let worst = &self.heap.peek().expect("full heap").0;
        (Reverse(size), offset) < (Reverse(worst.size), worst.row.offset)
    }

    fn push(&mut self, e: BigKey) {
        if !self.admits(e.size, e.row.offset) {
            return;
        }
        self.heap.push(Ranked(e));
        if self.heap.len() > self.n {
            self.heap.pop();
        }
    }

    /// Offers one key, ranked by `size`.
    pub fn offer_row(&mut self, size: u64, r: &KeyRow<'_>) {
        self.offer(size, r)
    }

    fn offer(&mut self, size: u64, r: &KeyRow<'_>) {
        if self.admits(size, r.offset) {
            self.push(BigKey {
                size,
                key: r.key.to_vec(),
                row: r.with_key(&[]),
            });
        }
    }

    /// Adds another list's entries.
    pub fn merge(&mut self, o: Top) {
        for e in o.heap {
            self.push(e.0);
        }
    }

    /// The entries, biggest first.
    pub fn sorted(&self) -> Vec<BigKey> {
        let mut v: Vec<Ranked> = self.heap.clone().into_vec();
        v.sort();
        v.into_iter().map(|r| r.0).collect()
    }
}

/// The top lists: over all keys and per type, by memory and by elements.
#[derive(Debug, Clone)]
pub struct BigKeys {
    /// All keys, by memory.
    pub by_memory: Top,
    /// All keys, by elements.
    pub by_elements: Top,
    /// Per type (index [`KeyType::index`]), by memory.
    pub type_by_memory: Vec<Top>,
    /// Per type, by elements.
    pub type_by_elements: Vec<Top>,
    /// Keys seen.
    pub keys: u64,
}

impl BigKeys {
    /// Lists of `n` entries.
    pub fn new(n: usize) -> BigKeys {
        BigKeys {
            by_memory: Top::new(n),
            by_elements: Top::new(n),
            type_by_memory: KeyType::ALL.iter().map(|_| Top::new(n)).collect(),
            type_by_elements: KeyType::ALL.iter().map(|_| Top::new(n)).collect(),
            keys: 0,
        }
    }

    /// Offers one key to every list it belongs to.
    pub fn add(&mut self, r: &KeyRow<'_>) {
        self.keys += 1;
        let t = r.key_type.index();
        self.by_memory.offer(r.memory, r);
        self.by_elements.offer(r.elements, r);
        self.type_by_memory[t].offer(r.memory, r);
        self.type_by_elements[t].offer(r.elements, r);
    }

    /// Adds the lists of another part of the file.
    pub fn merge(&mut self, o: BigKeys) {
        self.keys += o.keys;
        self.by_memory.merge(o.by_memory);
        self.by_elements.merge(o.by_elements);
        for (a, b) in self.type_by_memory.iter_mut().zip(o.type_by_memory) {
            a.merge(b);
        }
        for (a, b) in self.type_by_elements.iter_mut().zip(o.type_by_elements) {
            a.merge(b);
        }
    }
}

/// `bigkeys`' sink.
#[derive(Debug)]
pub struct BigKeysSink {
    n: usize,
    part: BigKeys,
}

impl BigKeysSink {
    /// Top `n` lists.
    pub fn new(n: usize) -> BigKeysSink {
        BigKeysSink {
            n,
            part: BigKeys::new(n),
        }
    }
}

impl RowSink for BigKeysSink {
    type Chunk = BigKeys;

    fn row(&mut self, row: &KeyRow<'_>) {
        self.part.add(row);
    }

    fn end(&mut self) -> BigKeys {
        std::mem::replace(&mut self.part, BigKeys::new(self.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(offset: u64, memory: u64, key: &[u8]) -> KeyRow<'_> {
        KeyRow {
            db: 0,
            key,
            key_type: KeyType::String,
            encoding: "raw",
            expire_at_ms: None,
            idle_s: None,
            freq: None,
            memory,
            key_overhead: 0,
            elements: 1,
            largest: 0,
            stored_size: 0,
            offset,
        }
    }

    #[test]
    fn always_n_rows_and_split_independent() {
        let sizes: Vec<u64> = (0..200u64).map(|i| (i * 37) % 11).collect();
        let mut whole = BigKeys::new(10);
        for (i, &s) in sizes.iter().enumerate() {
            whole.add(&row(i as u64, s, b"k"));
        }
        let mut a = BigKeys::new(10);
        let mut b = BigKeys::new(10);
        for (i, &s) in sizes.iter().enumerate() {
            let part = if i < 77 { &mut a } else { &mut b };
            part.add(&row(i as u64, s, b"k"));
        }
        a.merge(b);
        let w = whole.by_memory.sorted();
        assert_eq!(w.len(), 10);
        assert_eq!(w, a.by_memory.sorted());
        assert!(w.windows(2).all(|p| p[0].size >= p[1].size));
        // Every size-10 key (the most), earliest first.
        assert!(w.iter().all(|e| e.size == 10));
        assert!(w.windows(2).all(|p| p[0].row.offset < p[1].row.offset));
    }
}
