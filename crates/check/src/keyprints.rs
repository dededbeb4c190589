//! Duplicate-key detection in bounded memory.
//!
//! A key may appear once per database. Finding repeats among millions of
//! keys without holding the keys means remembering a fingerprint of each
//! (8 bytes for a file, [`key_print`]; 16 for a stream, [`wide_key_print`])
//! and sorting them: equal prints (for wide ones: equal in their top
//! [`MATCH_BITS`] bits) are suspects.
//!
//! * For a mapped file a print is the database and 48 bits of the key's
//!   hash, and a second walk confirms the suspects by comparing real bytes
//!   (`find_duplicate_keys` in the crate root), so a chance collision
//!   costs a comparison, never a false report.
//! * A stream cannot be walked twice. Its prints add 24 bits of a second,
//!   independent hash (72 bits of hash in all: a chance collision among
//!   10^8 keys of one database has a probability of about 10^-6, among
//!   10^7 about 10^-8) and the record's offset in the low 40 bits, so a
//!   duplicate is reported without a second walk, at the offset of its
//!   second occurrence, though without the key's bytes.
//!
//! The prints are the one thing in a check that grows with the file. So
//! that memory does not, at most [`KeyPrints::budget`] of them are held:
//! past that, the batch in hand is sorted and written to a temporary file
//! (a run), and at the end the runs are merged as streams. A 1 GB file of
//! 6.6 M keys spills about 50 MB of runs; the memory stays at the budget.

use std::collections::{BinaryHeap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

/// Prints held in memory before a run is spilled (16 MB of narrow prints;
/// wide ones are held half as many).
pub const DEFAULT_BUDGET: usize = 2 << 20;

/// Two prints are the same key when these top bits agree (the low bits of
/// a stream's print are the record's offset).
pub const MATCH_BITS: u32 = 88;

/// Low bits of a wide print that hold the record's offset.
const OFFSET_BITS: u32 = 128 - MATCH_BITS;

/// The database tag: the database in 16 bits. A database number too big
/// for 16 bits is folded into them: two databases that share a tag only
/// share suspects, which confirmation sorts out.
fn db_tag(db: u64) -> u128 {
    let tag = if db < 1 << 16 {
        db
    } else {
        crate::dups::fingerprint(&db.to_le_bytes()) >> 48
    };
    u128::from(tag) << 112
}

/// A key's print for a mapped file: database tag in the top 16 bits, 48
/// bits of the key's hash below.
pub fn key_print(db: u64, key: &[u8]) -> u64 {
    ((db_tag(db) >> 64) as u64) | (crate::dups::fingerprint(key) >> 16)
}

/// A key's print for a stream: [`key_print`] in the top 64 bits, then 24
/// bits of a second hash, then the record offset (saturated at 2^40 - 1).
pub fn wide_key_print(db: u64, key: &[u8], offset: u64) -> u128 {
    let second = u128::from(second_hash(key) >> 40) << OFFSET_BITS;
    let offset = u128::from(offset.min((1 << OFFSET_BITS) - 1));
    (u128::from(key_print(db, key)) << 64) | second | offset
}

/// A fingerprint as [`KeyPrints`] holds and spills it.
pub trait Print: Copy + Ord + std::hash::Hash + Send + 'static {
    /// Bytes in a spilled run.
    const BYTES: usize;
    /// Little-endian bytes (the first [`Print::BYTES`] of the array).
    fn to_bytes(self) -> [u8; 16];
    /// From the first [`Print::BYTES`] bytes.
    fn from_bytes(b: &[u8; 16]) -> Self;
    /// Whether two prints stand for the same key.
    fn same(a: Self, b: Self) -> bool;
    /// A number below `2^bits` from hash bits of the print, equal for
    /// prints that are [`Print::same`].
    fn bucket(self, bits: u32) -> usize;
    /// Hash bits of the print other than [`Print::bucket`]'s, equal for
    /// prints that are [`Print::same`].
    fn slot(self) -> usize;
}

impl Print for u64 {
    const BYTES: usize = 8;
    fn to_bytes(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.to_le_bytes());
        b
    }
    fn from_bytes(b: &[u8; 16]) -> Self {
        let mut w = [0; 8];
        w.copy_from_slice(&b[..8]);
        u64::from_le_bytes(w)
    }
    fn same(a: Self, b: Self) -> bool {
        a == b
    }
    fn bucket(self, bits: u32) -> usize {
        // The top 48 bits of the key's hash sit below the 16-bit database
        // tag.
        ((self << 16) >> (64 - bits)) as usize
    }
    fn slot(self) -> usize {
        self as usize
    }
}

/// A wide print: equal in the top [`MATCH_BITS`] bits is the same key.
impl Print for u128 {
    const BYTES: usize = 16;
    fn to_bytes(self) -> [u8; 16] {
        self.to_le_bytes()
    }
    fn from_bytes(b: &[u8; 16]) -> Self {
        u128::from_le_bytes(*b)
    }
    fn same(a: Self, b: Self) -> bool {
        a >> OFFSET_BITS == b >> OFFSET_BITS
    }
    fn bucket(self, bits: u32) -> usize {
        // The key's hash below the database tag, within the matched bits.
        ((self << 16) >> (128 - bits)) as usize
    }
    fn slot(self) -> usize {
        // The low bits of the matched ones: the second hash.
        (self >> OFFSET_BITS) as usize
    }
}

/// The 48 bits of the first hash and 24 of the second make 72 bits of
/// hash beside the tag in the match; [`second_hash`] is independent of
/// [`crate::dups::fingerprint`] (other constants and mixing).
fn second_hash(b: &[u8]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ (b.len() as u64).rotate_left(17);
    for c in b.chunks(8) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w))
            .wrapping_mul(0x2127_599b_f432_5c37)
            .rotate_left(31);
    }
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 32;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 29)
}

/// The offset held in a wide print.
pub fn print_offset(print: u128) -> u64 {
    (print & ((1 << OFFSET_BITS) - 1)) as u64
}

/// Key prints of one input, held up to a budget and spilled to sorted
/// temporary files beyond it; yields the prints that occur twice.
pub struct KeyPrints<P: Print = u64> {
    held: Vec<P>,
    budget: usize,
    runs: Vec<Run>,
    /// Why spilling stopped working (then everything stays in memory).
    spill_failed: Option<String>,
}

/// A sorted run in a temporary file, removed on drop.
struct Run {
    path: PathBuf,
    len: u64,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl<P: Print> KeyPrints<P> {
    /// Holds at most `budget` prints in memory (at least one).
    pub fn new(budget: usize) -> KeyPrints<P> {
        KeyPrints {
            held: Vec::new(),
            budget: budget.max(1),
            runs: Vec::new(),
            spill_failed: None,
        }
    }

    /// At most this many prints are held in memory.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// A hint of how many keys are coming (`RESIZEDB`), to size the buffer
    /// once; never beyond the budget.
    pub fn expect(&mut self, keys: u64) {
        let want = (keys as usize).min(self.budget);
        self.held.reserve(want.saturating_sub(self.held.len()));
    }

    #[inline]
    /// Adds one key's print, spilling a sorted run when the budget is full.
    pub fn push(&mut self, print: P) {
        self.held.push(print);
        if self.held.len() >= self.budget && self.spill_failed.is_none() {
            if let Err(e) = self.spill() {
                self.spill_failed = Some(e.to_string());
            }
        }
    }

    /// Runs written so far.
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// Why the prints could not be spilled, if they could not: memory then
    /// grew with the key count.
    pub fn spill_failure(&self) -> Option<&str> {
        self.spill_failed.as_deref()
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.held.sort_unstable();
        let path = temp_path(self.runs.len());
        let run = Run {
            path,
            len: self.held.len() as u64,
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&run.path)?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        for p in &self.held {
            w.write_all(&p.to_bytes()[..P::BYTES])?;
        }
        w.flush()?;
        self.runs.push(run);
        self.held.clear();
        Ok(())
    }

    /// Sorts the prints held, ahead of [`KeyPrints::repeated`]: for a
    /// caller with time to spare while other threads finish.
    pub fn sort_held(&mut self) {
        self.held.sort_unstable();
    }

    /// The prints that occur more than once: the suspects.
    pub fn repeated(mut self) -> std::io::Result<HashSet<P>> {
        let mut out = HashSet::new();
        let same = P::same;
        if self.runs.is_empty() {
            // Nothing to merge with, so no global order is needed: only
            // prints that are the same must end up side by side.
            group_repeats(&self.held, &mut out);
            return Ok(out);
        }
        self.held.sort_unstable();
        // Merge the runs and what is held, smallest first.
        let mut sources: Vec<Source<P>> = Vec::with_capacity(self.runs.len() + 1);
        for run in &self.runs {
            sources.push(Source::File {
                r: BufReader::with_capacity(1 << 16, File::open(&run.path)?),
                left: run.len,
            });
        }
        sources.push(Source::Held {
            v: std::mem::take(&mut self.held),
            at: 0,
        });
        let mut heap = BinaryHeap::new();
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(p) = s.next()? {
                heap.push(std::cmp::Reverse((p, i)));
            }
        }
        let mut last = None;
        while let Some(std::cmp::Reverse((p, i))) = heap.pop() {
            if let Some(l) = last.filter(|&l| same(l, p)) {
                out.insert(l);
                out.insert(p);
            }
            last = Some(p);
            if let Some(q) = sources[i].next()? {
                heap.push(std::cmp::Reverse((q, i)));
            }
        }
        Ok(out)
    }
}

/// Buckets [`group_repeats`] sorts the prints into.
const GROUP_BITS: u32 = 10;

/// Adds to `out` every print of `v` that is [`Print::same`] as another.
///
/// One pass copies each print into a bucket chosen by hash bits that same
/// prints share ([`Print::bucket`]); each bucket, small enough to stay in
/// cache, is then searched on its own. Sorting the whole vector instead
/// cost about a tenth of a check, all of it after the walk. (Moving the
/// prints in place instead is slower still: each move waits on the load
/// before it.) The copy is at most the print budget again.
fn group_repeats<P: Print>(v: &[P], out: &mut HashSet<P>) {
    let Some(&first) = v.first() else {
        return;
    };
    let buckets = 1usize << GROUP_BITS;
    let mut next = vec![0usize; buckets + 1];
    for &p in v {
        next[p.bucket(GROUP_BITS) + 1] += 1;
    }
    for b in 0..buckets {
        next[b + 1] += next[b];
    }
    // `bounds[b]..bounds[b + 1]` is bucket b; `next[b]` its next free slot.
    let bounds = next.clone();
    let mut grouped = vec![first; v.len()];
    for &p in v {
        let b = p.bucket(GROUP_BITS);
        grouped[next[b]] = p;
        next[b] += 1;
    }
    // Each bucket's prints go into an open-addressing table of twice its
    // size (reused): one probe per print finds an earlier same one.
    let mut table: Vec<Option<P>> = Vec::new();
    for b in 0..buckets {
        let group = &grouped[bounds[b]..bounds[b + 1]];
        if group.len() < 2 {
            continue;
        }
        let mask = (2 * group.len()).next_power_of_two() - 1;
        table.clear();
        table.resize(mask + 1, None);
        for &p in group {
            let mut i = p.slot() & mask;
            loop {
                match table[i] {
                    None => {
                        table[i] = Some(p);
                        break;
                    }
                    // A third same print meets the first: every print of a
                    // group is added.
                    Some(q) if P::same(p, q) => {
                        out.insert(q);
                        out.insert(p);
                        break;
                    }
                    Some(_) => i = (i + 1) & mask,
                }
            }
        }
    }
}

enum Source<P> {
    File { r: BufReader<File>, left: u64 },
    Held { v: Vec<P>, at: usize },
}

impl<P: Print> Source<P> {
    fn next(&mut self) -> std::io::Result<Option<P>> {
        match self {
            Source::File { r, left } => {
                if *left == 0 {
                    return Ok(None);
                }
                *left -= 1;
                let mut b = [0u8; 16];
                r.read_exact(&mut b[..P::BYTES])?;
                Ok(Some(P::from_bytes(&b)))
            }
            Source::Held { v, at } => {
                let p = v.get(*at).copied();
                *at += 1;
                Ok(p)
            }
        }
    }
}

fn temp_path(run: usize) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "rdbscope-keyprints-{}-{nanos}-{n}-{run}",
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suspects(budget: usize, prints: &[u64]) -> (Vec<u64>, usize) {
        let mut k = KeyPrints::new(budget);
        for &p in prints {
            k.push(p);
        }
        let runs = k.spilled_runs();
        let mut v: Vec<u64> = k.repeated().unwrap().into_iter().collect();
        v.sort_unstable();
        (v, runs)
    }

    #[test]
    fn spilled_runs_find_what_memory_finds() {
        let mut seed = 0x1234_5678_9abc_def0_u64;
        let mut prints = Vec::new();
        for i in 0..10_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            prints.push(seed % 50_000);
            if i % 997 == 0 {
                prints.push(prints[(seed % (i + 1)) as usize]);
            }
        }
        let (in_memory, runs) = suspects(usize::MAX, &prints);
        assert_eq!(runs, 0);
        assert!(!in_memory.is_empty());
        for budget in [100, 1000, 4096] {
            let (spilled, runs) = suspects(budget, &prints);
            assert!(runs > 0);
            assert_eq!(spilled, in_memory, "budget {budget}");
        }
    }

    /// Sorting everything and comparing neighbours: what grouping must
    /// find.
    fn by_sorting<P: Print>(mut v: Vec<P>) -> HashSet<P> {
        v.sort_unstable();
        let mut out = HashSet::new();
        for w in v.windows(2) {
            if P::same(w[0], w[1]) {
                out.insert(w[0]);
                out.insert(w[1]);
            }
        }
        out
    }

    #[test]
    fn grouping_finds_what_sorting_finds() {
        let mut seed = 0x0bad_5eed_1234_5678_u64;
        let mut narrow = Vec::new();
        let mut wide = Vec::new();
        for i in 0..20_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Spread over every bucket and a few databases.
            narrow.push(key_print(seed % 3, &seed.to_le_bytes()));
            wide.push(wide_key_print(seed % 3, &seed.to_le_bytes(), i));
            if i % 331 == 0 {
                let j = (seed % (i + 1)) as usize;
                narrow.push(narrow[j]);
                // The same key at another offset.
                wide.push(wide[j] ^ 1);
            }
        }
        let mut out = HashSet::new();
        group_repeats(&narrow, &mut out);
        assert!(!out.is_empty());
        assert_eq!(out, by_sorting(narrow));
        let mut out = HashSet::new();
        group_repeats(&wide, &mut out);
        assert!(!out.is_empty());
        assert_eq!(out, by_sorting(wide));
    }

    #[test]
    fn runs_are_removed() {
        let mut k = KeyPrints::new(2);
        for p in [3u64, 1, 3, 2, 9] {
            k.push(p);
        }
        let paths: Vec<PathBuf> = k.runs.iter().map(|r| r.path.clone()).collect();
        assert_eq!(paths.len(), 2);
        assert!(paths.iter().all(|p| p.exists()));
        assert_eq!(k.repeated().unwrap(), HashSet::from([3]));
        assert!(paths.iter().all(|p| !p.exists()));
    }

    #[test]
    fn databases_keep_keys_apart() {
        assert_ne!(key_print(0, b"k"), key_print(1, b"k"));
        assert_eq!(key_print(3, b"k") >> 48, 3);
        assert_eq!(key_print(5, b"same"), key_print(5, b"same"));
    }

    #[test]
    fn wide_prints_match_on_the_key_not_the_offset() {
        let a = wide_key_print(0, b"key", 100);
        let b = wide_key_print(0, b"key", 200);
        assert_ne!(a, b);
        assert_eq!(a >> OFFSET_BITS, b >> OFFSET_BITS);
        assert_eq!((print_offset(a), print_offset(b)), (100, 200));
        assert_ne!(
            a >> OFFSET_BITS,
            wide_key_print(0, b"kex", 100) >> OFFSET_BITS
        );
        let mut k = KeyPrints::<u128>::new(10);
        for p in [a, wide_key_print(0, b"other", 150), b] {
            k.push(p);
        }
        assert_eq!(k.repeated().unwrap(), HashSet::from([a, b]));
    }
}
