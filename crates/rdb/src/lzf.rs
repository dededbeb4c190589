//! LZF decompression (the format of `lzf_d.c`, docs/format.md#lzf), into a
//! caller-owned buffer so that decoding a file allocates once for its largest
//! compressed string, not once per string.
//!
//! The declared output size is never trusted for allocation: LZF cannot
//! expand one input byte into more than [`MAX_EXPANSION`] output bytes, so a
//! declared size above that bound is rejected before any work, and the buffer
//! grows with what the data really produces.
//!
//! Speed: the output buffer keeps `SLACK` (32) spare bytes past the write
//! position, so that short literal runs and back references are copied in
//! whole 32- and 16-byte blocks (a few vector moves) instead of a `memcpy`
//! call per token; the bytes copied past a token's end are overwritten by
//! the next token or cut off at the end.

use crate::error::{Error, ErrorKind, Result};
use crate::rule::Rule;

/// The most output one byte of LZF input can produce: a 3-byte back
/// reference copies at most 264 bytes.
pub const MAX_EXPANSION: u64 = 88;

/// Spare bytes kept past the write position for block copies.
const SLACK: usize = 32;

/// Checks `expected_len` against what `input` can produce and `limit`.
fn check_claim(input: &[u8], expected_len: u64, offset: usize, limit: u64) -> Result<usize> {
    let bound = (input.len() as u64).saturating_mul(MAX_EXPANSION) + 264;
    if expected_len > bound {
        return Err(Error::invalid(Rule::LzfLength,
            offset,
            format!(
                "LZF string claims {expected_len} bytes from {} compressed bytes (at most {bound} possible)",
                input.len()
            ),
        ));
    }
    if expected_len > limit {
        return Err(Error::new(
            offset,
            ErrorKind::Limit(format!(
                "LZF string of {expected_len} bytes is over the decompressed-size limit of {limit} bytes"
            )),
        ));
    }
    Ok(expected_len as usize)
}

/// One token of an LZF stream.
enum Token {
    /// Copy `len` bytes of input starting at `from`.
    Literal { from: usize, len: usize },
    /// Copy `len` bytes of output starting `back` bytes behind.
    Backref { back: usize, len: usize },
}

/// What [`token`] says when the output would outgrow its declared size:
/// that breaks `lzf-length`, every other token error `lzf-data`.
const LONGER: &str = "output longer than declared";

/// Reads the token at `input[*i]` (`*i < input.len()`), advancing `*i`
/// past it, and checks it against the output produced so far (`op`) and
/// the declared size: what both the decompressor and the validator need.
#[inline(always)]
fn token(
    input: &[u8],
    i: &mut usize,
    op: usize,
    expected: usize,
) -> Result<Token, (usize, &'static str)> {
    let ctrl = input[*i] as usize;
    *i += 1;
    if ctrl < 32 {
        let len = ctrl + 1;
        let from = *i;
        if input.len() - from < len {
            return Err((from, "literal run past the end of input"));
        }
        if expected - op < len {
            return Err((from, LONGER));
        }
        *i += len;
        Ok(Token::Literal { from, len })
    } else {
        let mut len = ctrl >> 5;
        if len == 7 {
            len += *input
                .get(*i)
                .ok_or((*i, "back reference past the end of input"))? as usize;
            *i += 1;
        }
        len += 2;
        let lo = *input
            .get(*i)
            .ok_or((*i, "back reference past the end of input"))? as usize;
        *i += 1;
        let back = ((ctrl & 0x1f) << 8) + lo + 1;
        if back > op {
            return Err((*i, "back reference before the start of output"));
        }
        if expected - op < len {
            return Err((*i, LONGER));
        }
        Ok(Token::Backref { back, len })
    }
}

fn bad(rule: Rule, offset: usize, expected_len: u64, at: usize, what: &str) -> Error {
    Error::invalid(
        rule,
        offset + at,
        format!("invalid LZF data: {what} (expected {expected_len} bytes out)"),
    )
}

/// Decompresses `input`, which must come to exactly `expected_len` bytes,
/// and returns them. `out` is scratch space: it only grows (its bytes are
/// initialized once, not per string) and holds the result at its start.
/// `offset` is the file offset of `input`, for errors; `limit` caps
/// `expected_len` (see [`crate::Limits`]).
pub fn decompress_into<'o>(
    input: &[u8],
    expected_len: u64,
    out: &'o mut Vec<u8>,
    offset: usize,
    limit: u64,
) -> Result<&'o [u8]> {
    let expected = check_claim(input, expected_len, offset, limit)?;
    // The buffer grows with what the data really produces, never with what
    // the header claims: a broken stream that claims 4 GiB fails after the
    // bytes it actually decodes, having grown the buffer to at most twice
    // that.
    let cap = expected + SLACK;
    grow(out, expected.min(64 << 10) + SLACK, cap);
    follow_tokens(input, expected_len, expected, offset, |t, op| match t {
        Token::Literal { from, len } => {
            grow(out, op + len + SLACK, cap);
            if input.len() - from >= 32 {
                out[op..op + 32].copy_from_slice(&input[from..from + 32]);
            } else {
                out[op..op + len].copy_from_slice(&input[from..from + len]);
            }
        }
        Token::Backref { back, len } => {
            grow(out, op + len + SLACK, cap);
            copy_back(out, op, back, len);
        }
    })?;
    Ok(&out[..expected])
}

/// Checks that `input` is a well-formed LZF stream that comes to exactly
/// `expected_len` bytes, without writing them: every token is followed and
/// every back reference bounded, which is all that decompressing proves
/// about bytes whose content has no further rules (a string value).
pub fn validate(input: &[u8], expected_len: u64, offset: usize, limit: u64) -> Result<()> {
    let expected = check_claim(input, expected_len, offset, limit)?;
    follow_tokens(input, expected_len, expected, offset, |_, _| {})
}

/// The one walk over the tokens that [`decompress_into`] and [`validate`]
/// share: each token is checked, then handed to `each` with the output
/// position it starts at; the output must come to exactly `expected`.
#[inline(always)]
fn follow_tokens(
    input: &[u8],
    expected_len: u64,
    expected: usize,
    offset: usize,
    mut each: impl FnMut(Token, usize),
) -> Result<()> {
    let mut op = 0usize;
    let mut i = 0usize;
    while i < input.len() {
        match token(input, &mut i, op, expected) {
            Err((at, what)) => {
                let rule = if what == LONGER {
                    Rule::LzfLength
                } else {
                    Rule::LzfData
                };
                return Err(bad(rule, offset, expected_len, at, what));
            }
            Ok(t) => {
                let len = match t {
                    Token::Literal { len, .. } | Token::Backref { len, .. } => len,
                };
                each(t, op);
                op += len;
            }
        }
    }
    if op != expected {
        return Err(bad(
            Rule::LzfLength,
            offset,
            expected_len,
            input.len(),
            &format!("output is {op} bytes, shorter than declared"),
        ));
    }
    Ok(())
}

/// Makes `out` at least `need` bytes long (at most `cap`), doubling so that
/// growing with the output costs amortized O(1) per byte.
#[inline(always)]
fn grow(out: &mut Vec<u8>, need: usize, cap: usize) {
    if out.len() < need {
        let to = need.max(out.len().saturating_mul(2).min(cap));
        out.resize(to, 0);
    }
}

/// Copies `len` bytes from `back` bytes behind `op` to `op`. The source may
/// overlap the destination (then the last `back` bytes repeat): copying in
/// blocks no longer than `back`, in order, reads only bytes already final.
/// `out` has `SLACK` bytes past `op + len`, so blocks may run over the end.
#[inline(always)]
fn copy_back(out: &mut [u8], op: usize, back: usize, len: usize) {
    let from = op - back;
    if back >= 16 {
        let mut k = 0;
        while k < len {
            out.copy_within(from + k..from + k + 16, op + k);
            k += 16;
        }
    } else if back == 1 {
        let b = out[from];
        out[op..op + len].fill(b);
    } else if back >= 8 {
        let mut k = 0;
        while k < len {
            out.copy_within(from + k..from + k + 8, op + k);
            k += 8;
        }
    } else {
        for k in 0..len {
            out[op + k] = out[from + k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decompresses, and checks that validating alone gives the same verdict.
    fn d(input: &[u8], len: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let got = decompress_into(input, len, &mut out, 0, u64::MAX).map(|b| b.to_vec());
        let valid = validate(input, len, 0, u64::MAX);
        assert_eq!(
            got.is_ok(),
            valid.is_ok(),
            "validate disagrees on {input:?}"
        );
        if let (Err(a), Err(b)) = (&got, &valid) {
            assert_eq!(a.to_string(), b.to_string());
        }
        got
    }

    /// A plain reference decoder: one byte at a time, no slack, no blocks.
    fn reference(input: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < input.len() {
            let ctrl = input[i] as usize;
            i += 1;
            if ctrl < 32 {
                out.extend_from_slice(input.get(i..i + ctrl + 1)?);
                i += ctrl + 1;
            } else {
                let mut len = ctrl >> 5;
                if len == 7 {
                    len += *input.get(i)? as usize;
                    i += 1;
                }
                let back = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
                i += 1;
                let from = out.len().checked_sub(back)?;
                for k in 0..len + 2 {
                    out.push(out[from + k]);
                }
            }
        }
        Some(out)
    }

    #[test]
    fn block_copies_agree_with_byte_copies() {
        // Hand-built streams: every back distance 1..=40 and lengths that
        // are and are not multiples of the block sizes, with one reused
        // buffer that holds leftovers of longer earlier outputs.
        let mut out = Vec::new();
        for back in 1..=40usize {
            for len in [3usize, 7, 8, 9, 15, 16, 17, 31, 33, 100, 264] {
                let mut s = vec![31u8];
                s.extend((0..32u8).map(|b| b.wrapping_mul(37)));
                s.push(31);
                s.extend((0..32u8).map(|b| b.wrapping_mul(11)));
                let l = len - 2;
                let b = back - 1;
                if l < 7 {
                    s.push(((l << 5) | (b >> 8)) as u8);
                } else {
                    s.push(((7 << 5) | (b >> 8)) as u8);
                    s.push((l - 7) as u8);
                }
                s.push(b as u8);
                s.extend([2u8, 1, 2, 3]);
                let want = reference(&s).unwrap();
                let got = decompress_into(&s, want.len() as u64, &mut out, 0, u64::MAX).unwrap();
                assert_eq!(got, &want[..], "back {back} len {len}");
                assert!(validate(&s, want.len() as u64, 0, u64::MAX).is_ok());
            }
        }
    }

    #[test]
    fn redis_vectors() {
        assert_eq!(
            d(&[0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61], 100).unwrap(),
            vec![b'a'; 100]
        );
        assert_eq!(
            d(
                &[0x03, 0x61, 0x62, 0x63, 0x61, 0xe0, 0x0f, 0x02, 0x01, 0x62, 0x63],
                30
            )
            .unwrap(),
            b"abc".repeat(10)
        );
    }

    #[test]
    fn agrees_with_the_lzf_crate_compressor() {
        let mut seed = 0x1234_5678_u64;
        let mut reused = Vec::new();
        for round in 0..200 {
            let n = (round * 37) % 3000 + 30;
            let mut data = Vec::with_capacity(n);
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Small alphabet so that back references happen.
                data.push(b"abcab  \x00\xff"[(seed >> 59) as usize % 9]);
            }
            if let Ok(c) = lzf::compress(&data) {
                assert_eq!(d(&c, n as u64).unwrap(), data);
                let got = decompress_into(&c, n as u64, &mut reused, 0, u64::MAX).unwrap();
                assert_eq!(got, &data[..]);
            }
        }
    }

    /// Long broken streams (a byte changed, cut short, a wrong declared
    /// size) fail alike when decompressed and when only validated, and
    /// streams that decode give the reference decoder's bytes.
    #[test]
    fn mutants_fail_alike_on_both_paths() {
        let mut seed = 0x9e37_79b9_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut reused = Vec::new();
        let mut failures = 0;
        for round in 0..3000 {
            let n = 300 + (next() % 20_000) as usize;
            let data: Vec<u8> = (0..n)
                .map(|k| match round % 3 {
                    0 => b"member:abc:12 "[(next() % 14) as usize],
                    1 => (k % 251) as u8 ^ (next() % 2) as u8,
                    _ => b"aaaaaaab"[(next() % 8) as usize],
                })
                .collect();
            let mut packed = Vec::new();
            if crate::write::lzf::compress(&data, &mut packed) == 0 {
                continue;
            }
            let mut claim = n as u64;
            match next() % 4 {
                0 => {
                    let at = (next() as usize) % packed.len();
                    packed[at] = next() as u8;
                }
                1 => packed.truncate((next() as usize) % packed.len()),
                2 => claim = claim.saturating_add_signed((next() % 600) as i64 - 300),
                _ => {}
            }
            let fast =
                decompress_into(&packed, claim, &mut reused, 7, u64::MAX).map(|b| b.to_vec());
            let careful = validate(&packed, claim, 7, u64::MAX);
            match (&fast, &careful) {
                (Ok(got), Ok(())) => assert_eq!(Some(got.clone()), reference(&packed)),
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    failures += 1;
                }
                _ => panic!("round {round}: {fast:?} vs {careful:?}"),
            }
        }
        assert!(failures > 1000, "{failures} broken streams");
    }

    #[test]
    fn rejects_lies() {
        // Claims far more than 9 bytes can expand to.
        assert!(d(
            &[0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61],
            1 << 32
        )
        .is_err());
        // Shorter and longer than declared.
        assert!(d(&[0x01, 0x61, 0x61], 3).is_err());
        assert!(d(&[0x01, 0x61, 0x61], 1).is_err());
        // Back reference before the start.
        assert!(d(&[0x20, 0x00], 3).is_err());
        // Truncated literal.
        assert!(d(&[0x05, 0x61], 6).is_err());
    }
}
