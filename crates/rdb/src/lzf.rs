//! LZF decompression (the format of `lzf_d.c`, FORMAT.md 4.2), into a
//! caller-owned buffer so that decoding a file allocates once for its largest
//! compressed string, not once per string.
//!
//! The declared output size is never trusted for allocation: LZF cannot
//! expand one input byte into more than [`MAX_EXPANSION`] output bytes, so a
//! declared size above that bound is rejected before any work, and the buffer
//! grows with what the data really produces.

use crate::error::{Error, ErrorKind, Result};

/// The most output one byte of LZF input can produce: a 3-byte back
/// reference copies at most 264 bytes.
pub const MAX_EXPANSION: u64 = 88;

/// Decompresses `input` into `out` (cleared first), which must come to
/// exactly `expected_len` bytes. `offset` is the file offset of `input`, for
/// errors; `limit` caps `expected_len` (see [`crate::Limits`]).
pub fn decompress_into(
    input: &[u8],
    expected_len: u64,
    out: &mut Vec<u8>,
    offset: usize,
    limit: u64,
) -> Result<()> {
    let bound = (input.len() as u64).saturating_mul(MAX_EXPANSION) + 264;
    if expected_len > bound {
        return Err(Error::invalid(
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
    let expected = expected_len as usize;
    // The buffer grows with what the data really produces, never with what
    // the header claims: a broken stream that claims 4 GiB fails after the
    // bytes it actually decodes. (The buffer is reused across strings, so
    // honest streams pay for the doublings once, for the largest string.)
    out.clear();
    out.reserve(expected.min(64 << 10));
    let bad = |at: usize, what: &str| {
        Error::invalid(
            offset + at,
            format!("invalid LZF data: {what} (expected {expected_len} bytes out)"),
        )
    };
    let mut i = 0usize;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input
                .get(i..i + run)
                .ok_or_else(|| bad(i, "literal run past the end of input"))?;
            if out.len() + run > expected {
                return Err(bad(i, "output longer than declared"));
            }
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input
                    .get(i)
                    .ok_or_else(|| bad(i, "back reference past the end of input"))?
                    as usize;
                i += 1;
            }
            len += 2;
            let lo = *input
                .get(i)
                .ok_or_else(|| bad(i, "back reference past the end of input"))?
                as usize;
            i += 1;
            let back = ((ctrl & 0x1f) << 8) + lo + 1;
            let op = out.len();
            if back > op {
                return Err(bad(i, "back reference before the start of output"));
            }
            if op + len > expected {
                return Err(bad(i, "output longer than declared"));
            }
            let from = op - back;
            if back >= len {
                out.extend_from_within(from..from + len);
            } else {
                // Overlapping copy: the last `back` bytes repeat. Copy them
                // period by period; each copy reads only bytes already there.
                let mut left = len;
                while left > 0 {
                    let n = back.min(left);
                    out.extend_from_within(from..from + n);
                    left -= n;
                }
            }
        }
    }
    if out.len() != expected {
        return Err(bad(
            input.len(),
            &format!("output is {} bytes, shorter than declared", out.len()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(input: &[u8], len: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        decompress_into(input, len, &mut out, 0, u64::MAX).map(|_| out)
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
            }
        }
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
