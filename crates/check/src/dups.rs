//! Duplicate detection with memory proportional to the number of items, not
//! their size: each item is remembered as a 64-bit fingerprint, and a
//! repeated fingerprint is only a *suspect* that the caller confirms by
//! comparing real bytes (see `Value` walks in `rules`). The fingerprints are
//! not cryptographic; hostile input can make them collide, which costs a
//! confirmation walk, never a false report.

use rdbscope_rdb::Elem;

/// 64-bit fingerprint of a byte string (FNV-1a over 8-byte words, then a
/// final avalanche): fast, and good enough to make accidental collisions
/// vanishingly rare.
pub fn fingerprint(b: &[u8]) -> u64 {
    const P: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(P).rotate_left(29);
    }
    // The last 1-7 bytes as one word, read with two overlapping loads (the
    // length is already in `h`, so the word determines the bytes).
    let r = chunks.remainder();
    let n = r.len();
    if n > 0 {
        let w = if n >= 4 {
            let lo = u32::from_le_bytes([r[0], r[1], r[2], r[3]]);
            let hi = u32::from_le_bytes([r[n - 4], r[n - 3], r[n - 2], r[n - 1]]);
            u64::from(lo) | (u64::from(hi) << 32)
        } else {
            u64::from(r[0]) | (u64::from(r[n / 2]) << 8) | (u64::from(r[n - 1]) << 16)
        };
        h = (h ^ w).wrapping_mul(P).rotate_left(29);
    }
    // murmur3 finalizer
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Fingerprint of an element as a member: `Int(5)` and `Str("5")` are the
/// same member, as they are to Redis, so an integer and a string that is
/// an integer's canonical decimal text (`canonical_int`) are both
/// fingerprinted by value (`int_fingerprint`, without formatting the
/// integer as text); any other string by its bytes. Most strings are
/// ruled out as integers by their first byte.
#[inline]
pub fn elem_fingerprint(e: Elem<'_>) -> u64 {
    match e {
        Elem::Str(s) => match canonical_int(s) {
            Some(v) => int_fingerprint(v),
            None => fingerprint(s),
        },
        Elem::Int(v) => int_fingerprint(v),
    }
}

/// Fingerprint of an integer member (see [`elem_fingerprint`]): the
/// value, offset so that small integers do not map near 0, through the
/// murmur3 finalizer (a bijection, so distinct integers never collide).
#[inline]
fn int_fingerprint(v: i64) -> u64 {
    let mut h = (v as u64) ^ 0x9e37_79b9_7f4a_7c15;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The integer whose canonical decimal text (what `int_text` writes: no
/// `+`, no leading zeros, no `-0`) is exactly `s`, if there is one.
#[inline]
fn canonical_int(s: &[u8]) -> Option<i64> {
    let (&first, _) = s.split_first()?;
    if first != b'-' && !first.is_ascii_digit() || s.len() > 20 {
        return None;
    }
    let neg = first == b'-';
    let digits = if neg { &s[1..] } else { s };
    match digits {
        [] => return None,
        [b'0', ..] if neg || digits.len() > 1 => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    if neg {
        // Down to i64::MIN, whose magnitude is 2^63.
        (v <= 1 << 63).then_some(0i64.wrapping_sub_unsigned(v))
    } else {
        i64::try_from(v).ok()
    }
}

/// The fingerprints of one collection, gathered during a walk; reused
/// across keys. Repeats are found with an open-addressing table of twice
/// the collection's size, also reused: one probe per element, where
/// sorting cost n log n comparisons (most of the time spent on the few big
/// collections).
#[derive(Default)]
pub struct Seen {
    prints: Vec<u64>,
    table: Vec<u64>,
}

impl Seen {
    /// Forgets the fingerprints, ready for the next collection.
    pub fn clear(&mut self) {
        // Keep the allocations for ordinary collections; drop them after a
        // huge one so one big value does not pin memory for the whole run.
        if self.prints.capacity() > 1 << 20 {
            self.prints = Vec::new();
            self.table = Vec::new();
        } else {
            self.prints.clear();
        }
    }

    #[inline]
    /// Adds one element's fingerprint.
    pub fn push(&mut self, fp: u64) {
        self.prints.push(fp);
    }

    /// The fingerprints that occur more than once (sorted, deduplicated):
    /// suspects, to be confirmed against real bytes.
    pub fn repeated(&mut self) -> Vec<u64> {
        let n = self.prints.len();
        if n < 2 {
            return Vec::new();
        }
        let size = (2 * n).next_power_of_two();
        let mask = size - 1;
        self.table.clear();
        // 0 marks a free slot, so a print that is 0 is counted aside.
        self.table.resize(size, 0);
        let mut out = Vec::new();
        let mut zero_seen = false;
        for &fp in &self.prints {
            if fp == 0 {
                if std::mem::replace(&mut zero_seen, true) {
                    out.push(0);
                }
                continue;
            }
            // The prints are already well mixed: the top bits index.
            let mut i = (fp >> 40) as usize & mask;
            loop {
                let slot = self.table[i];
                if slot == 0 {
                    self.table[i] = fp;
                    break;
                }
                if slot == fp {
                    out.push(fp);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdbscope_rdb::rdb_string::int_text;

    #[test]
    fn int_and_text_forms_agree() {
        assert_eq!(
            elem_fingerprint(Elem::Int(-12)),
            elem_fingerprint(Elem::Str(b"-12"))
        );
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
        assert_ne!(fingerprint(b""), fingerprint(b"\0"));
        assert_ne!(fingerprint(b"abcdefgh1"), fingerprint(b"abcdefgh2"));
        // Every tail length, every byte position matters.
        for n in 1..=23usize {
            let base: Vec<u8> = (0..n as u8).collect();
            for i in 0..n {
                let mut other = base.clone();
                other[i] ^= 0x40;
                assert_ne!(fingerprint(&base), fingerprint(&other), "len {n} byte {i}");
            }
        }
    }

    #[test]
    fn integers_and_their_text_agree_and_nothing_else_does() {
        let mut ints = vec![0, 1, -1, 9, 10, -10, i64::MAX, i64::MIN, i64::MIN + 1];
        let mut seed = 0x5851_f42d_4c95_7f2d_u64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ints.push(seed as i64 >> (seed % 64));
        }
        for v in ints {
            let mut tmp = [0u8; 20];
            let text = int_text(v, &mut tmp);
            assert_eq!(canonical_int(text), Some(v));
            assert_eq!(
                elem_fingerprint(Elem::Int(v)),
                elem_fingerprint(Elem::Str(text))
            );
        }
        for text in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"--1",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"-99999999999999999999",
            b"123456789012345678901",
            b"1.0",
            b"0x1",
        ] {
            assert_eq!(
                canonical_int(text),
                None,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn repeated_fingerprints() {
        let mut s = Seen::default();
        for fp in [5, 1, 5, 9, 1, 5] {
            s.push(fp);
        }
        assert_eq!(s.repeated(), vec![1, 5]);
        s.clear();
        s.push(3);
        assert!(s.repeated().is_empty());
        // 0, the table's free-slot mark, is a print like any other.
        for (prints, want) in [(vec![0, 1, 0], vec![0]), (vec![0, 1, 1], vec![1])] {
            s.clear();
            prints.iter().for_each(|&p| s.push(p));
            assert_eq!(s.repeated(), want);
        }
        // The same answer as sorting, on collections big and small, with
        // the table reused.
        let mut seed = 0x0123_4567_89ab_cdef_u64;
        for n in [2usize, 3, 17, 100, 1000, 5000] {
            s.clear();
            let mut all = Vec::new();
            for _ in 0..n {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let fp = ((seed % (2 * n as u64)) << 40) | (seed % 3);
                s.push(fp);
                all.push(fp);
            }
            all.sort_unstable();
            let mut want: Vec<u64> = all
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            want.dedup();
            assert_eq!(s.repeated(), want, "n {n}");
        }
    }
}
