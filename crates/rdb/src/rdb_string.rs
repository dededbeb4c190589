//! RDB strings (docs/format.md#string-encoding), kept undecoded until asked.

use crate::error::{Error, Result};
use crate::lzf;
use crate::rule::Rule;

/// Largest decompressed string decoded by default (see [`crate::Limits`]).
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 4 << 30;

/// One RDB string as it is stored: borrowed bytes, an integer, or LZF data.
/// Nothing is decoded until [`RdbString::bytes`] is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdbString<'a> {
    repr: Repr<'a>,
    offset: usize,
    /// Bytes between `offset` and the payload (length prefix and markers).
    prefix: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr<'a> {
    Raw(&'a [u8]),
    Int(i64),
    Lzf { data: &'a [u8], len: u64 },
}

/// How a string is stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringEncoding {
    /// Length-prefixed bytes.
    Raw,
    /// An 8, 16 or 32-bit integer standing for its decimal text.
    Int,
    /// LZF-compressed bytes.
    Lzf,
}

impl<'a> RdbString<'a> {
    pub(crate) fn raw(bytes: &'a [u8], offset: usize, data_offset: usize) -> Self {
        RdbString {
            repr: Repr::Raw(bytes),
            offset,
            prefix: (data_offset - offset) as u8,
        }
    }

    /// `stored` is the whole stored size: marker byte plus 1, 2 or 4 bytes.
    pub(crate) fn int(v: i64, offset: usize, stored: u8) -> Self {
        RdbString {
            repr: Repr::Int(v),
            offset,
            prefix: stored,
        }
    }

    pub(crate) fn lzf(data: &'a [u8], len: u64, offset: usize, data_offset: usize) -> Result<Self> {
        // Cheap plausibility check now; the full decode happens on demand.
        let bound = (data.len() as u64).saturating_mul(lzf::MAX_EXPANSION) + 264;
        if len > bound {
            return Err(Error::invalid(Rule::LzfLength,
                offset,
                format!(
                    "LZF string claims {len} bytes from {} compressed bytes (at most {bound} possible)",
                    data.len()
                ),
            ));
        }
        Ok(RdbString {
            repr: Repr::Lzf { data, len },
            offset,
            prefix: (data_offset - offset) as u8,
        })
    }

    /// File offset of the string's first byte (its length prefix).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// File offset of the stored payload (after the length prefix).
    pub fn data_offset(&self) -> usize {
        self.offset + self.prefix as usize
    }

    /// Where errors inside this string's payload are reported: the file
    /// offset of its bytes when stored raw, else the string itself plus an
    /// offset inside the decompressed bytes.
    pub fn blob_loc(&self) -> crate::elem::BlobLoc {
        match self.repr {
            Repr::Raw(_) => crate::elem::BlobLoc::raw(self.data_offset()),
            _ => crate::elem::BlobLoc::decompressed(self.offset),
        }
    }

    /// How the string is stored.
    pub fn encoding(&self) -> StringEncoding {
        match self.repr {
            Repr::Raw(_) => StringEncoding::Raw,
            Repr::Int(_) => StringEncoding::Int,
            Repr::Lzf { .. } => StringEncoding::Lzf,
        }
    }

    /// Length of the logical (decoded) string in bytes.
    pub fn len(&self) -> u64 {
        match self.repr {
            Repr::Raw(b) => b.len() as u64,
            Repr::Int(v) => itoa_len(v) as u64,
            Repr::Lzf { len, .. } => len,
        }
    }

    /// Whether the decoded string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The compressed bytes and declared length, for an LZF string.
    pub fn lzf_parts(&self) -> Option<(&'a [u8], u64)> {
        match self.repr {
            Repr::Lzf { data, len } => Some((data, len)),
            _ => None,
        }
    }

    /// The stored bytes, for a string stored raw (neither an integer nor
    /// LZF): borrowed from the input for as long as the input lives.
    pub fn as_raw(&self) -> Option<&'a [u8]> {
        match self.repr {
            Repr::Raw(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, for an integer-encoded string.
    pub fn as_int(&self) -> Option<i64> {
        match self.repr {
            Repr::Int(v) => Some(v),
            _ => None,
        }
    }

    /// The string's bytes: borrowed from the input when stored raw, else
    /// decoded into `buf` (which is reused, never shrunk).
    pub fn bytes<'s>(&self, buf: &'s mut Vec<u8>) -> Result<&'s [u8]>
    where
        'a: 's,
    {
        self.bytes_limited(buf, DEFAULT_MAX_DECOMPRESSED)
    }

    /// As [`RdbString::bytes`], with an explicit cap on decompressed size.
    pub fn bytes_limited<'s>(&self, buf: &'s mut Vec<u8>, limit: u64) -> Result<&'s [u8]>
    where
        'a: 's,
    {
        match self.repr {
            Repr::Raw(b) => Ok(b),
            Repr::Int(v) => {
                buf.clear();
                write_int(buf, v);
                Ok(&buf[..])
            }
            Repr::Lzf { data, len } => {
                // The compressed bytes start after the marker and two lengths;
                // errors name the string's own offset.
                lzf::decompress_into(data, len, buf, self.offset, limit)
            }
        }
    }

    /// Checks that the string decodes (an LZF string comes to exactly its
    /// declared length, at most `limit`) without producing its bytes: for
    /// values whose content has no rules of its own.
    pub fn validate(&self, limit: u64) -> Result<()> {
        match self.repr {
            Repr::Raw(_) | Repr::Int(_) => Ok(()),
            Repr::Lzf { data, len } => lzf::validate(data, len, self.offset, limit),
        }
    }

    /// Copies the decoded bytes into a new vector (for error paths and tests).
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        let b = self.bytes(&mut buf)?;
        Ok(b.to_vec())
    }
}

/// Appends the decimal text of `v`.
pub fn write_int(buf: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    buf.extend_from_slice(int_text(v, &mut tmp));
}

/// "00" to "99", for writing two digits per division.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The decimal text of `v`, formatted into `tmp` (no allocation). Runs for
/// every integer element and every length in the output, so it writes two
/// digits per division.
#[inline]
pub fn int_text(v: i64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = digits(v.unsigned_abs(), tmp);
    if v < 0 {
        // 19 digits at most for |i64::MIN|, so index 0 is free.
        i -= 1;
        tmp[i] = b'-';
    }
    &tmp[i..]
}

/// [`int_text`] for the whole `u64` range (stream ID parts, 20 digits at
/// most).
#[inline]
pub fn uint_text(n: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let i = digits(n, tmp);
    &tmp[i..]
}

/// Writes the digits of `n` at the end of `tmp`; where they start.
#[inline]
fn digits(mut n: u64, tmp: &mut [u8; 20]) -> usize {
    let mut i = tmp.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        tmp[i] = b'0' + n as u8;
    }
    i
}

fn itoa_len(v: i64) -> usize {
    let mut n = v.unsigned_abs();
    let mut len = usize::from(v < 0);
    loop {
        len += 1;
        n /= 10;
        if n == 0 {
            return len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_text_matches_std_everywhere() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut tmp = [0u8; 20];
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // All magnitudes: shift a random value by a random amount.
            let v = (x as i64) >> (x % 64);
            assert_eq!(super::int_text(v, &mut tmp), v.to_string().as_bytes());
        }
    }

    #[test]
    fn int_text() {
        for v in [
            0i64,
            7,
            -7,
            10,
            99,
            -100,
            100,
            999,
            1000,
            -10,
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ] {
            let mut b = Vec::new();
            write_int(&mut b, v);
            assert_eq!(b, v.to_string().as_bytes());
            assert_eq!(itoa_len(v), b.len());
        }
    }
}
