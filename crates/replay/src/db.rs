//! One database's keys, laid out for a dataset of millions of small keys.
//!
//! A `HashMap<Box<[u8]>, Entry>` costs, per key, a table slot of the
//! whole (key, entry) pair (times the table's slack, up to 2.3x right
//! after it doubles) plus one allocation for the key. Here the table holds
//! only 8 bytes per slot (where the pair is, and 32 bits of its hash, so
//! growing the table never reads a key), the pairs sit in fixed-size
//! chunks that never move (no doubling copy of the whole keyspace), and a
//! key of up to 22 bytes is stored inline. That is what keeps replay's peak
//! memory near the server's own on a keyspace of small strings.

use crate::keyspace::Entry;
use std::hash::BuildHasher;

/// A key: inline when short (most keys are), else on the heap.
#[derive(Clone)]
pub enum Key {
    /// Up to [`INLINE`] bytes: (length, bytes).
    Inline(u8, [u8; INLINE]),
    /// Longer keys.
    Heap(Box<[u8]>),
}

/// The longest key kept inline (the enum stays 24 bytes).
pub const INLINE: usize = 22;

impl Key {
    /// A key holding `b`.
    pub fn new(b: &[u8]) -> Key {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            Key::Inline(b.len() as u8, buf)
        } else {
            Key::Heap(b.into())
        }
    }

    /// The key's bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match self {
            Key::Inline(n, b) => &b[..*n as usize],
            Key::Heap(b) => b,
        }
    }

    /// The key's bytes, owned.
    pub fn into_boxed(self) -> Box<[u8]> {
        match self {
            Key::Inline(n, b) => b[..n as usize].into(),
            Key::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.bytes()))
    }
}

/// Where a pair is and part of its hash.
#[derive(Clone, Copy)]
struct Slot {
    at: u32,
    hash: u32,
}

/// Pairs per chunk.
const CHUNK: usize = 1 << 14;

/// A database: keys and their entries.
#[derive(Clone, Default)]
pub struct Db {
    table: hashbrown::HashTable<Slot>,
    chunks: Vec<Vec<(Key, Entry)>>,
    len: usize,
    hasher: crate::hasher::Build,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({} keys)", self.len)
    }
}

/// The table's 64-bit hash from the 32 bits kept: a multiply spreads them
/// over the high bits (the table's tag) and the low ones (its bucket).
#[inline]
fn widen(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(h)
}

impl Db {
    #[inline]
    fn hash(&self, key: &[u8]) -> u32 {
        let h = self.hasher.hash_one(key);
        (h ^ (h >> 32)) as u32
    }

    #[inline]
    fn pair(&self, at: u32) -> &(Key, Entry) {
        let at = at as usize;
        &self.chunks[at / CHUNK][at % CHUNK]
    }

    #[inline]
    fn pair_mut(&mut self, at: u32) -> &mut (Key, Entry) {
        let at = at as usize;
        &mut self.chunks[at / CHUNK][at % CHUNK]
    }

    fn find(&self, key: &[u8]) -> Option<u32> {
        let h = self.hash(key);
        let chunks = &self.chunks;
        self.table
            .find(widen(h), |s| {
                let at = s.at as usize;
                s.hash == h && chunks[at / CHUNK][at % CHUNK].0.bytes() == key
            })
            .map(|s| s.at)
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `key` is held.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.find(key).is_some()
    }

    /// The entry at `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.find(key).map(|at| &self.pair(at).1)
    }

    /// The entry at `key`, to change.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.find(key).map(|at| &mut self.pair_mut(at).1)
    }

    /// Sets `key` to `e`; returns the entry it replaced.
    pub fn insert(&mut self, key: &[u8], e: Entry) -> Option<Entry> {
        if let Some(at) = self.find(key) {
            return Some(std::mem::replace(&mut self.pair_mut(at).1, e));
        }
        let h = self.hash(key);
        let at = self.len;
        if at / CHUNK == self.chunks.len() {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks[at / CHUNK].push((Key::new(key), e));
        self.len += 1;
        self.table.insert_unique(
            widen(h),
            Slot {
                at: at as u32,
                hash: h,
            },
            |s| widen(s.hash),
        );
        None
    }

    /// Removes `key`; returns its entry. The last pair moves into its place.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = self.hash(key);
        let chunks = &self.chunks;
        let found = self.table.find_entry(widen(h), |s| {
            let at = s.at as usize;
            s.hash == h && chunks[at / CHUNK][at % CHUNK].0.bytes() == key
        });
        let at = found.ok()?.remove().0.at as usize;
        let last = self.len - 1;
        let moved = self.chunks[last / CHUNK]
            .pop()
            .expect("len counts the pairs");
        if self.chunks[last / CHUNK].is_empty() {
            self.chunks.pop();
        }
        self.len -= 1;
        if at == last {
            return Some(moved.1);
        }
        // Point the moved pair's slot at its new place.
        let mh = self.hash(moved.0.bytes());
        if let Some(s) = self.table.find_mut(widen(mh), |s| s.at as usize == last) {
            s.at = at as u32;
        }
        Some(std::mem::replace(&mut self.chunks[at / CHUNK][at % CHUNK], moved).1)
    }

    /// Every (key, entry), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.chunks.iter().flatten().map(|(k, e)| (k.bytes(), e))
    }

    /// Every (key, entry), taken out; each chunk is freed once read.
    pub fn drain(self) -> impl Iterator<Item = (Key, Entry)> {
        self.chunks.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Val;

    fn e(n: i64) -> Entry {
        Entry {
            value: Val::Str(n.to_string().into_bytes()),
            expire_at_ms: None,
        }
    }

    fn n(e: &Entry) -> i64 {
        match &e.value {
            Val::Str(s) => std::str::from_utf8(s).unwrap().parse().unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn inserts_removes_and_moves_keep_every_key_findable() {
        let mut db = Db::default();
        let key = |i: i64| format!("key:{i}:{}", "x".repeat((i % 40) as usize)).into_bytes();
        for i in 0..40_000 {
            assert!(db.insert(&key(i), e(i)).is_none());
        }
        assert_eq!(n(&db.insert(&key(7), e(-7)).unwrap()), 7);
        for i in (0..40_000).step_by(3) {
            assert_eq!(n(&db.remove(&key(i)).unwrap()), if i == 7 { -7 } else { i });
            assert!(db.remove(&key(i)).is_none());
        }
        for i in 0..40_000 {
            let got = db.get(&key(i)).map(n);
            if i % 3 == 0 {
                assert_eq!(got, None);
            } else {
                assert_eq!(got, Some(if i == 7 { -7 } else { i }));
            }
        }
        assert_eq!(db.len(), db.iter().count());
        assert_eq!(db.clone().drain().count(), db.len());
        assert!(std::mem::size_of::<Key>() <= 24);
    }
}
