//! The key index of one input: (key print, value print, locator) per key,
//! held in memory up to a budget and partitioned by key print into
//! temporary files beyond it; and the merge of two indexes, partition by
//! partition, into what was added, removed or changed.
//!
//! Cost: 24 bytes per key per input while indexing (and the same again
//! while a partition is sorted); beyond `--memory` / 2 per input, entries
//! go to 64 partition files (sequential writes, one read back each), so a
//! partition needs about 1/64 of the index in memory. The result holds 8
//! bytes per removed or added key and 16 per changed key.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// One key of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// [`crate::print::key_print`] of its database and name.
    pub key: u64,
    /// [`crate::print::record_print`] of its value and TTL.
    pub value: u64,
    /// Where it is in its input (an RDB record's offset, a JSON key's
    /// ordinal), for fetching it again.
    pub loc: u64,
}

const ENTRY_BYTES: usize = 24;
/// Partitions once an index spills (by the key print's top 6 bits).
const PART_BITS: u32 = 6;
const PARTS: usize = 1 << PART_BITS;

impl Entry {
    fn to_bytes(self) -> [u8; ENTRY_BYTES] {
        let mut b = [0; ENTRY_BYTES];
        b[..8].copy_from_slice(&self.key.to_le_bytes());
        b[8..16].copy_from_slice(&self.value.to_le_bytes());
        b[16..].copy_from_slice(&self.loc.to_le_bytes());
        b
    }
    fn from_bytes(b: &[u8]) -> Entry {
        let w = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        Entry {
            key: w(0),
            value: w(8),
            loc: w(16),
        }
    }
    fn part(&self) -> usize {
        (self.key >> (64 - PART_BITS)) as usize
    }
}

/// A temporary directory, removed on drop.
#[derive(Debug)]
pub struct SpillDir(PathBuf);

impl SpillDir {
    /// A new directory under `parent`.
    pub fn new(parent: &Path) -> io::Result<SpillDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p = parent.join(format!(".rdbscope-diff-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(SpillDir(p))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The index of one input.
pub struct Index {
    mem: Vec<Entry>,
    max_mem: usize,
    files: Vec<BufWriter<File>>,
    paths: Vec<PathBuf>,
    keys: u64,
}

impl Index {
    /// An index that holds up to `budget` bytes in memory, then spills
    /// into `dir` (files named after `side`).
    pub fn new(budget: usize, dir: &SpillDir, side: &str) -> Index {
        Index {
            mem: Vec::new(),
            max_mem: (budget / ENTRY_BYTES).max(1),
            files: Vec::new(),
            paths: (0..PARTS)
                .map(|p| dir.path().join(format!("{side}.{p:02}")))
                .collect(),
            keys: 0,
        }
    }

    /// Keys indexed.
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// Whether the index went to disk.
    pub fn spilled(&self) -> bool {
        !self.files.is_empty()
    }

    /// Adds one key.
    pub fn push(&mut self, e: Entry) -> io::Result<()> {
        self.keys += 1;
        if self.files.is_empty() {
            self.mem.push(e);
            if self.mem.len() >= self.max_mem {
                self.spill()?;
            }
            Ok(())
        } else {
            self.files[e.part()].write_all(&e.to_bytes())
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        for p in &self.paths {
            self.files
                .push(BufWriter::with_capacity(64 << 10, File::create(p)?));
        }
        for e in std::mem::take(&mut self.mem) {
            self.files[e.part()].write_all(&e.to_bytes())?;
        }
        Ok(())
    }

    /// The entries of partition `p` (all of them in memory when not
    /// spilled, as partition 0 of 1).
    fn part(&mut self, p: usize) -> io::Result<Vec<Entry>> {
        if self.files.is_empty() {
            return Ok(if p == 0 {
                std::mem::take(&mut self.mem)
            } else {
                Vec::new()
            });
        }
        let mut r = BufReader::with_capacity(64 << 10, File::open(&self.paths[p])?);
        let mut out = Vec::new();
        let mut b = [0u8; ENTRY_BYTES];
        loop {
            match r.read_exact(&mut b) {
                Ok(()) => out.push(Entry::from_bytes(&b)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
        }
        let _ = std::fs::remove_file(&self.paths[p]);
        Ok(out)
    }

    fn finish_writes(&mut self) -> io::Result<()> {
        for f in &mut self.files {
            f.flush()?;
        }
        Ok(())
    }
}

/// What the indexes say differs, by locator, each list in its input's
/// order.
#[derive(Debug, Default)]
pub struct Differences {
    /// Keys only in A: (locator in A, value print).
    pub removed: Vec<(u64, u64)>,
    /// Keys only in B: (locator in B, value print).
    pub added: Vec<(u64, u64)>,
    /// Keys in both whose prints differ: (locator in A, locator in B).
    pub changed: Vec<(u64, u64)>,
    /// Keys in both with equal prints.
    pub same: u64,
}

/// Merges the two indexes, partition by partition.
pub fn merge(mut a: Index, mut b: Index) -> io::Result<Differences> {
    a.finish_writes()?;
    b.finish_writes()?;
    let parts = if a.spilled() || b.spilled() { PARTS } else { 1 };
    if parts > 1 {
        // A side that stayed in memory goes to files too, so that
        // partitions line up.
        if !a.spilled() {
            a.spill()?;
            a.finish_writes()?;
        }
        if !b.spilled() {
            b.spill()?;
            b.finish_writes()?;
        }
    }
    let mut d = Differences::default();
    for p in 0..parts {
        let mut x = a.part(p)?;
        let mut y = b.part(p)?;
        // By key print, then value print: two keys that share a key print
        // (a 64-bit collision, or a duplicate key in a broken file) line
        // up with their own values when those did not change; a pair that
        // still mismatches is caught in pass 2, where names are compared.
        x.sort_unstable_by_key(|e| (e.key, e.value));
        y.sort_unstable_by_key(|e| (e.key, e.value));
        let (mut i, mut j) = (0, 0);
        while i < x.len() || j < y.len() {
            match (x.get(i), y.get(j)) {
                (Some(ea), Some(eb)) if ea.key == eb.key => {
                    if ea.value == eb.value {
                        d.same += 1;
                    } else {
                        d.changed.push((ea.loc, eb.loc));
                    }
                    i += 1;
                    j += 1;
                }
                (Some(ea), Some(eb)) if ea.key < eb.key => {
                    d.removed.push((ea.loc, ea.value));
                    i += 1;
                }
                (Some(ea), None) => {
                    d.removed.push((ea.loc, ea.value));
                    i += 1;
                }
                (_, Some(eb)) => {
                    d.added.push((eb.loc, eb.value));
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
    d.removed.sort_unstable();
    d.added.sort_unstable();
    d.changed.sort_unstable();
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(key: u64, value: u64, loc: u64) -> Entry {
        Entry { key, value, loc }
    }

    fn run(budget: usize, a: &[Entry], b: &[Entry]) -> Differences {
        let dir = SpillDir::new(&std::env::temp_dir()).unwrap();
        let mut x = Index::new(budget, &dir, "a");
        let mut y = Index::new(budget, &dir, "b");
        for &v in a {
            x.push(v).unwrap();
        }
        for &v in b {
            y.push(v).unwrap();
        }
        merge(x, y).unwrap()
    }

    #[test]
    fn in_memory_and_spilled_agree() {
        let a: Vec<Entry> = (0..5000u64)
            .map(|i| e(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i, i * 10))
            .collect();
        let mut b = a.clone();
        b.retain(|x| x.loc % 70 != 0); // removed
        for x in b.iter_mut().filter(|x| x.loc % 90 == 0) {
            x.value ^= 1; // changed
        }
        b.push(e(12345, 1, 99999)); // added
        for budget in [1 << 30, 24 * 100] {
            let d = run(budget, &a, &b);
            let removed: Vec<(u64, u64)> = a
                .iter()
                .filter(|x| x.loc % 70 == 0)
                .map(|x| (x.loc, x.value))
                .collect();
            let changed: Vec<(u64, u64)> = a
                .iter()
                .filter(|x| x.loc % 70 != 0 && x.loc % 90 == 0)
                .map(|x| (x.loc, x.loc))
                .collect();
            assert_eq!(d.removed, removed, "{budget}");
            assert_eq!(d.added, vec![(99999, 1)]);
            assert_eq!(d.changed, changed);
            assert_eq!(d.same as usize + d.changed.len() + d.removed.len(), a.len());
        }
    }
}
