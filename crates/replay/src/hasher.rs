//! A fast hasher for the keyspace and big collections. Keys come from the
//! file being replayed, so a hostile file could aim at collisions; the
//! seed is random per process, which is what `RandomState` buys, at a
//! fraction of SipHash's cost on short keys.

use std::hash::{BuildHasher, Hasher};

/// Builds [`FoldHasher`]s with one per-process random seed.
#[derive(Clone, Copy)]
pub struct Build(u64);

impl Default for Build {
    fn default() -> Build {
        use std::sync::OnceLock;
        static SEED: OnceLock<u64> = OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            // RandomState is seeded from the OS; take 64 bits of it.
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5eed);
            h.finish() | 1
        });
        Build(seed)
    }
}

impl BuildHasher for Build {
    type Hasher = FoldHasher;
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher(self.0)
    }
}

/// Multiply-fold over 8 bytes at a time.
pub struct FoldHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = fold(h ^ v, K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            h = fold(h ^ u64::from_le_bytes(buf), K);
        }
        self.0 = fold(h ^ bytes.len() as u64, K.rotate_left(17));
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = fold(self.0 ^ v, K);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with this hasher.
pub type Map<K, V> = std::collections::HashMap<K, V, Build>;
/// A `HashSet` with this hasher.
pub type Set<K> = std::collections::HashSet<K, Build>;
