//! An LZF compressor, the write side of [`crate::lzf`]
//! (`docs/format.md#lzf`).
//!
//! The format has two tokens. A control byte below 32 starts a literal run
//! of `ctrl + 1` bytes (1 to 32) copied from the input. Any other control
//! byte is a back reference: its top 3 bits are the length minus 2 (7
//! means "plus the next byte", for lengths 9 to 264), its low 5 bits and
//! the byte after the length are the distance minus 1 (up to 8192) back
//! into the output already produced. A reference may overlap the bytes it
//! produces (distance 1, length 100 repeats one byte).
//!
//! This compressor keeps a hash table of the most recent position of each
//! 3-byte sequence. At each position it looks the next 3 bytes up; when the
//! earlier position is within reach and really holds the same bytes, it
//! extends the match as far as it goes (up to 264 bytes) and emits a back
//! reference, else the byte joins the pending literal run. Greedy matching
//! with one candidate per position is what Redis's own compressor does in
//! its fast mode, so ratios are of the same order; what matters more here
//! is that every stream it writes is valid for any LZF decompressor.

/// Longest literal run one control byte can announce.
const MAX_LITERAL: usize = 32;
/// Longest back reference: 7 + 255 in the length fields, plus 2.
const MAX_MATCH: usize = 264;
/// Shortest back reference worth writing (and the shortest the format has).
const MIN_MATCH: usize = 3;
/// Farthest back a reference can reach: 13 bits of distance minus 1.
const MAX_DISTANCE: usize = 8192;
/// log2 of the hash table's largest size (16384 slots).
const MAX_HASH_BITS: u32 = 14;
/// log2 of its smallest size.
const MIN_HASH_BITS: u32 = 6;

/// The 3 bytes at `at` (`at + 2 < data.len()`) as one number.
#[inline]
fn triple(data: &[u8], at: usize) -> u32 {
    let t = &data[at..at + 3];
    u32::from(t[0]) << 16 | u32::from(t[1]) << 8 | u32::from(t[2])
}

/// The hash table slot of the 3 bytes `v` in a table of `1 << bits`
/// slots.
#[inline]
fn slot(v: u32, bits: u32) -> usize {
    (v.wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize
}

/// Appends `literal` as literal runs of at most 32 bytes.
fn literals(out: &mut Vec<u8>, literal: &[u8]) {
    for run in literal.chunks(MAX_LITERAL) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
}

/// Appends a back reference of `len` bytes (3..=264) from `distance`
/// (1..=8192) bytes back.
fn back_reference(out: &mut Vec<u8>, len: usize, distance: usize) {
    let l = len - 2;
    let off = distance - 1;
    if l < 7 {
        out.push(((l << 5) | (off >> 8)) as u8);
    } else {
        out.push(((7 << 5) | (off >> 8)) as u8);
        out.push((l - 7) as u8);
    }
    out.push(off as u8);
}

/// How far the bytes at `from` and at `at` (`from < at`) agree, from
/// [`MIN_MATCH`] (known to agree) up to `most`: 8 bytes per step, then the
/// first differing byte from the XOR of the two words.
#[inline]
fn match_len(input: &[u8], from: usize, at: usize, most: usize) -> usize {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&input[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let mut len = MIN_MATCH;
    while len + 8 <= most {
        let diff = word(from + len) ^ word(at + len);
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < most && input[from + len] == input[at + len] {
        len += 1;
    }
    len
}

/// Appends the LZF compression of `input` to `out` and returns the number
/// of bytes appended (0 for empty input). The output decompresses to
/// exactly `input`; for data that does not compress it is at most
/// [`max_compressed_len`] bytes.
pub fn compress(input: &[u8], out: &mut Vec<u8>) -> usize {
    let mut table = Vec::new();
    compress_within(input, out, usize::MAX, &mut table).unwrap_or(0)
}

/// [`compress`], giving up (`None`, `out` as it was) as soon as the
/// compressed form would be longer than `most` bytes: Redis asks for at
/// least 4 bytes saved and stops its own compressor the same way, so data
/// that does not compress costs less than a full pass. `table` is the
/// hash table's storage, reused between calls (a short string should not
/// pay for allocating and clearing one).
pub fn compress_within(
    input: &[u8],
    out: &mut Vec<u8>,
    most: usize,
    table: &mut Vec<u32>,
) -> Option<usize> {
    let start = out.len();
    let n = input.len();
    // The most recent position of each 3-byte hash, in 32 bits (half the
    // cache of full positions): only positions within 8192 bytes are of
    // use, and those are recovered exactly from the low 32 bits. A slot
    // that was never set (0), or that holds a position from 4 GiB back,
    // only names some earlier position whose bytes are then compared, and
    // any earlier position holding the same bytes is a valid reference.
    // The table grows with the input up to 16384 slots.
    let bits = (usize::BITS - n.leading_zeros()).clamp(MIN_HASH_BITS, MAX_HASH_BITS);
    table.clear();
    table.resize(1 << bits, 0);
    let table = &mut table[..];
    let mut literal_from = 0;
    let mut at = 0;
    // Past this many bytes written (counting pending literals) the budget
    // is spent.
    let limit = start.saturating_add(most);
    while at + MIN_MATCH <= n {
        let v = triple(input, at);
        let h = slot(v, bits);
        let distance = (at as u32).wrapping_sub(table[h]) as usize;
        table[h] = at as u32;
        if (1..=MAX_DISTANCE.min(at)).contains(&distance) {
            let from = at - distance;
            if triple(input, from) == v {
                let len = match_len(input, from, at, (n - at).min(MAX_MATCH));
                literals(out, &input[literal_from..at]);
                back_reference(out, len, distance);
                if out.len() > limit {
                    out.truncate(start);
                    return None;
                }
                // Remember the last two positions inside the match, as
                // Redis's compressor does in its default (VERY_FAST) mode:
                // every position would find a few more matches in long
                // runs at a cost per byte that does not pay.
                let end = at + len;
                for p in (end - 2).max(at + 1)..end.min(n.saturating_sub(MIN_MATCH - 1)) {
                    table[slot(triple(input, p), bits)] = p as u32;
                }
                at = end;
                literal_from = at;
                continue;
            }
        }
        at += 1;
        // Pending literals cost at least their own length.
        if out.len() + (at - literal_from) > limit {
            out.truncate(start);
            return None;
        }
    }
    literals(out, &input[literal_from..]);
    if out.len() - start > most {
        out.truncate(start);
        return None;
    }
    Some(out.len() - start)
}

/// The most bytes [`compress`] can write for `len` input bytes: every byte
/// a literal, plus one control byte per 32.
pub fn max_compressed_len(len: usize) -> usize {
    len + len.div_ceil(MAX_LITERAL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lzf::{decompress_into, validate};

    fn roundtrip(data: &[u8]) -> Vec<u8> {
        let mut c = Vec::new();
        let n = compress(data, &mut c);
        assert_eq!(n, c.len());
        assert!(c.len() <= max_compressed_len(data.len()));
        let mut out = Vec::new();
        let got = decompress_into(&c, data.len() as u64, &mut out, 0, u64::MAX).unwrap();
        assert_eq!(got, data);
        assert!(validate(&c, data.len() as u64, 0, u64::MAX).is_ok());
        // An independent decompressor reads it too.
        if !data.is_empty() {
            assert_eq!(lzf::decompress(&c, data.len()).unwrap(), data);
        }
        c
    }

    #[test]
    fn edges() {
        assert!(roundtrip(b"").is_empty());
        roundtrip(b"a");
        roundtrip(b"ab");
        roundtrip(b"abc");
        roundtrip(b"aaaa");
        // 100 'a': one literal, then one overlapping reference.
        assert_eq!(roundtrip(&[b'a'; 100]), [0x00, 0x61, 0xe0, 0x5a, 0x00]);
        // The longest reference and the farthest distance.
        roundtrip(&[b'z'; 10_000]);
        let mut far: Vec<u8> = (0..8192u32).map(|i| (i * 7919 % 251) as u8).collect();
        let head = far[..300].to_vec();
        far.extend_from_slice(&head);
        roundtrip(&far);
        far.insert(8192, 0);
        roundtrip(&far);
    }

    /// `cargo test --release -p rdbscope-rdb --lib lzf_speed -- --ignored
    /// --nocapture`: this compressor's speed and ratio beside the `lzf`
    /// crate's on word-like text.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn lzf_speed() {
        let words = [
            "redis",
            "value",
            "user:",
            "1234",
            "session",
            " ",
            "{\"a\":1}",
        ];
        let mut seed = 9u64;
        let mut text = Vec::new();
        while text.len() < 1 << 20 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.extend(words[(seed % 7) as usize].as_bytes());
        }
        let time = |f: &mut dyn FnMut() -> usize| {
            let start = std::time::Instant::now();
            let mut n = 0;
            let mut size = 0;
            while start.elapsed().as_millis() < 500 {
                size = f();
                n += 1;
            }
            (
                n as f64 * text.len() as f64 / start.elapsed().as_secs_f64() / 1e6,
                size,
            )
        };
        let mut out = Vec::new();
        let ours = time(&mut || {
            out.clear();
            compress(&text, &mut out)
        });
        let theirs = time(&mut || lzf::compress(&text).map_or(0, |c| c.len()));
        println!("write::lzf {:.0} MB/s, {} bytes", ours.0, ours.1);
        println!("lzf crate  {:.0} MB/s, {} bytes", theirs.0, theirs.1);
    }

    #[test]
    fn a_bound_gives_up_without_writing() {
        let mut table = Vec::new();
        let text = b"the quick brown fox jumps over the lazy dog; ".repeat(20);
        let full = roundtrip(&text);
        // Exactly the bound it needs, then one byte less.
        let mut out = vec![7];
        assert_eq!(
            compress_within(&text, &mut out, full.len(), &mut table),
            Some(full.len())
        );
        assert_eq!(&out[1..], &full[..]);
        let mut out = vec![7];
        assert_eq!(
            compress_within(&text, &mut out, full.len() - 1, &mut table),
            None
        );
        assert_eq!(out, [7]);
        // Noise never saves 4 bytes; a table left from other input is fine.
        let mut seed = 1u32;
        let noise: Vec<u8> = (0..3000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let mut out = Vec::new();
        assert_eq!(
            compress_within(&noise, &mut out, noise.len() - 4, &mut table),
            None
        );
        assert!(out.is_empty());
        assert!(compress_within(&text, &mut out, usize::MAX, &mut table).is_some());
        assert_eq!(out, full);
    }

    #[test]
    fn random_and_repetitive_data() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..300 {
            let n = (round * 53) % 5000;
            let alphabet = 1 + round % 40;
            let data: Vec<u8> = (0..n)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 33) as usize % alphabet) as u8
                })
                .collect();
            roundtrip(&data);
        }
        let text = b"the quick brown fox jumps over the lazy dog; ".repeat(200);
        let c = roundtrip(&text);
        assert!(c.len() * 10 < text.len(), "{} of {}", c.len(), text.len());
    }
}
