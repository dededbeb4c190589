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

/// The hash table slot of the 3 bytes at `at` (`at + 2 < data.len()`) in
/// a table of `1 << bits` slots.
#[inline]
fn slot(data: &[u8], at: usize, bits: u32) -> usize {
    let v = u32::from(data[at]) << 16 | u32::from(data[at + 1]) << 8 | u32::from(data[at + 2]);
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

/// Appends the LZF compression of `input` to `out` and returns the number
/// of bytes appended (0 for empty input). The output decompresses to
/// exactly `input`; for data that does not compress it is at most
/// [`max_compressed_len`] bytes.
pub fn compress(input: &[u8], out: &mut Vec<u8>) -> usize {
    let start = out.len();
    let n = input.len();
    // The most recent position + 1 of each 3-byte hash (0: none yet). The
    // table grows with the input up to 16384 slots: a short string (most
    // values) does not pay for clearing a table it cannot fill.
    let bits = (usize::BITS - n.leading_zeros()).clamp(MIN_HASH_BITS, MAX_HASH_BITS);
    let mut table = vec![0usize; 1 << bits];
    let mut literal_from = 0;
    let mut at = 0;
    while at + MIN_MATCH <= n {
        let h = slot(input, at, bits);
        let candidate = table[h];
        table[h] = at + 1;
        if candidate > 0 {
            let from = candidate - 1;
            let distance = at - from;
            if distance <= MAX_DISTANCE
                && input[from..from + MIN_MATCH] == input[at..at + MIN_MATCH]
            {
                let most = (n - at).min(MAX_MATCH);
                let mut len = MIN_MATCH;
                while len < most && input[from + len] == input[at + len] {
                    len += 1;
                }
                literals(out, &input[literal_from..at]);
                back_reference(out, len, distance);
                // Remember the positions inside the match too, so that
                // repeats of them are found later.
                let end = at + len;
                for p in at + 1..end.min(n.saturating_sub(MIN_MATCH - 1)) {
                    table[slot(input, p, bits)] = p + 1;
                }
                at = end;
                literal_from = at;
                continue;
            }
        }
        at += 1;
    }
    literals(out, &input[literal_from..]);
    out.len() - start
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
