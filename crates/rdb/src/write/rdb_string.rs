//! RDB strings, the write side of [`crate::rdb_string`]
//! (`docs/format.md#string-encoding`): plain (a length and the bytes),
//! integer-encoded (`0xC0`..`0xC2`) and LZF-compressed (`0xC3`).

use super::cursor::length;
use crate::Elem;

/// The first byte of an 8-bit integer string (`RDB_ENC_INT8`).
const ENC_INT8: u8 = 0xc0;
/// The first byte of a 16-bit integer string (`RDB_ENC_INT16`).
const ENC_INT16: u8 = 0xc1;
/// The first byte of a 32-bit integer string (`RDB_ENC_INT32`).
const ENC_INT32: u8 = 0xc2;
/// The first byte of an LZF string (`RDB_ENC_LZF`).
const ENC_LZF: u8 = 0xc3;

/// Strings up to this long are tried as integers (`rdbTryIntegerEncoding`
/// only looks at strings of at most 11 bytes: "-2147483648").
const MAX_INT_TEXT: usize = 11;
/// Redis compresses only strings longer than this (`rdbSaveRawString`).
pub const MIN_COMPRESS_LEN: usize = 20;

/// Appends `bytes` as a plain RDB string: its length, then the bytes.
pub fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    length(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends `v` as an integer-encoded string in the smallest of the three
/// widths (1, 2 or 4 bytes, little-endian), as `rdbEncodeInteger` does.
/// It reads back as `v`'s decimal text.
pub fn int(out: &mut Vec<u8>, v: i32) {
    if let Ok(x) = i8::try_from(v) {
        out.push(ENC_INT8);
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = i16::try_from(v) {
        out.push(ENC_INT16);
        out.extend_from_slice(&x.to_le_bytes());
    } else {
        out.push(ENC_INT32);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends an LZF string around an already compressed stream: the marker,
/// the compressed length, the uncompressed length, the compressed bytes
/// (`docs/format.md#lzf`). `original_len` must be what `compressed`
/// decompresses to for the string to load.
pub fn lzf(out: &mut Vec<u8>, compressed: &[u8], original_len: u64) {
    out.push(ENC_LZF);
    length(out, compressed.len() as u64);
    length(out, original_len);
    out.extend_from_slice(compressed);
}

/// Appends `data` compressed with [`super::lzf::compress`] as an LZF
/// string, whether or not that saves space (Redis would store a string
/// that does not shrink plainly; see [`encoded`]).
pub fn compressed(out: &mut Vec<u8>, data: &[u8]) {
    let mut c = Vec::new();
    super::lzf::compress(data, &mut c);
    lzf(out, &c, data.len() as u64);
}

/// The integer whose canonical decimal text `bytes` is (`string2ll` and
/// the round trip `rdbTryIntegerEncoding` asks for: no sign but `-`, no
/// leading zeros, no `-0`), if it is one.
pub fn canonical_int(bytes: &[u8]) -> Option<i64> {
    // Every element of every compact value passes through here, so this
    // is one pass over the bytes, not a UTF-8 check and a library parse.
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    match digits {
        [] => return None,
        [b'0'] => return (!negative).then_some(0),
        [b'0', ..] => return None,
        _ if digits.len() > 19 => return None,
        _ => {}
    }
    // 19 digits stay below 10^19 < 2^64: no overflow before the range check.
    let mut v: u64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    if negative {
        // -2^63 is the one magnitude that i64 holds only negated.
        (v <= 1 << 63).then(|| (v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Appends `bytes` as plain or, when `compress` is set, as LZF if that is
/// worth it: Redis compresses strings longer than [`MIN_COMPRESS_LEN`] and
/// keeps the result when it saves at least 4 bytes (`rdbSaveLzfStringObject`).
pub fn plain_or_lzf(out: &mut Vec<u8>, bytes: &[u8], compress: bool) {
    if compress && bytes.len() > MIN_COMPRESS_LEN {
        // Per-thread buffers: most values are short strings, and two
        // allocations per string were a visible share of `convert`.
        thread_local! {
            static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u32>)> =
                const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
        }
        let done = BUFFERS.with_borrow_mut(|(c, table)| {
            c.clear();
            let most = bytes.len() - 4;
            if super::lzf::compress_within(bytes, c, most, table).is_some() {
                lzf(out, c, bytes.len() as u64);
                true
            } else {
                false
            }
        });
        if done {
            return;
        }
    }
    string(out, bytes);
}

/// Whether an LZF string of `compressed` bytes standing for `len` bytes is
/// one Redis would have written itself when it compresses: longer than
/// [`MIN_COMPRESS_LEN`] and saving at least 4 bytes. Such a string, read
/// from a file, can be written again as it is (see
/// [`super::encode::record_value`]).
pub fn keeps_lzf(compressed: usize, len: u64) -> bool {
    len > MIN_COMPRESS_LEN as u64 && (compressed as u64).saturating_add(4) <= len
}

/// How the strings inside a value are stored: the choices `rdbSaveRawString`
/// makes, each of which can be turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strings {
    /// Store the canonical decimal text of a 32-bit integer as an integer.
    pub integers: bool,
    /// Store strings longer than [`MIN_COMPRESS_LEN`] as LZF when that saves
    /// at least 4 bytes (`rdbcompression yes`).
    pub compress: bool,
}

impl Strings {
    /// Every string plain: the bytes as given, nothing recognised.
    pub const PLAIN: Strings = Strings {
        integers: false,
        compress: false,
    };
    /// What Redis writes with its default `rdbcompression yes`.
    pub const REDIS: Strings = Strings {
        integers: true,
        compress: true,
    };
}

/// Appends `bytes` as an RDB string in the form `how` allows, the way Redis
/// chooses (`rdbSaveRawString`): an integer when it is the canonical text
/// of one that fits 32 bits, else LZF when that is worth it, else plain.
pub fn encoded(out: &mut Vec<u8>, bytes: &[u8], how: Strings) {
    if how.integers && bytes.len() <= MAX_INT_TEXT {
        if let Some(v) = canonical_int(bytes).and_then(|v| i32::try_from(v).ok()) {
            int(out, v);
            return;
        }
    }
    plain_or_lzf(out, bytes, how.compress);
}

/// Appends one element as an RDB string: an [`Elem::Int`] integer-encoded
/// (as its decimal text when it does not fit 32 bits), an [`Elem::Str`] as
/// [`encoded`] stores it.
pub fn elem(out: &mut Vec<u8>, e: Elem<'_>, how: Strings) {
    match e {
        Elem::Int(v) => match i32::try_from(v) {
            Ok(v) => int(out, v),
            Err(_) => string(out, v.to_string().as_bytes()),
        },
        Elem::Str(b) => encoded(out, b, how),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::Cursor;

    fn back(out: &[u8]) -> Vec<u8> {
        Cursor::new(out, 0)
            .rdb_string("s")
            .unwrap()
            .to_vec()
            .unwrap()
    }

    #[test]
    fn every_form_reads_back() {
        for v in [0, -1, 127, -128, 128, 32767, -32769, i32::MAX, i32::MIN] {
            let mut out = Vec::new();
            int(&mut out, v);
            assert_eq!(back(&out), v.to_string().into_bytes());
        }
        let long = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabc".repeat(5);
        for how in [Strings::PLAIN, Strings::REDIS] {
            for s in [&b""[..], b"x", b"12", b"-0", b"007", b"2147483648", &long] {
                let mut out = Vec::new();
                encoded(&mut out, s, how);
                assert_eq!(back(&out), s, "{s:?}");
            }
        }
        let mut out = Vec::new();
        encoded(&mut out, &long, Strings::REDIS);
        assert_eq!(out[0], ENC_LZF);
        let mut out = Vec::new();
        encoded(&mut out, b"-123", Strings::REDIS);
        assert_eq!(out, [ENC_INT8, 0x85]);
        let mut out = Vec::new();
        compressed(&mut out, b"xy");
        assert_eq!(back(&out), b"xy");
    }

    #[test]
    fn only_canonical_integers_are_integers() {
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"-12"), Some(-12));
        assert_eq!(canonical_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(canonical_int(b"-9223372036854775808"), Some(i64::MIN));
        for s in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"1a",
            b"--1",
        ] {
            assert_eq!(canonical_int(s), None, "{s:?}");
        }
    }
}
