//! Writers of the JSON schema's scalars (docs/json-format.md): binary-safe
//! strings (a JSON string for UTF-8, `{"base64":...}` otherwise), integers
//! that stand for strings (`"42"`), zset scores, stream IDs. Every JSON
//! producer of the workspace (the dump printer, the check and AOF reports,
//! the AOF renderer) writes through these, so a value reads the same
//! wherever it came from.

use crate::error::WriteError;
use rdbscope_rdb::stream::StreamId;
use rdbscope_rdb::{Elem, FunctionLibrary, RdbString};
use std::io::Write;

pub use crate::score::write_stored_score;

/// A stream ID as `"ms-seq"`.
pub fn write_id<W: Write>(o: &mut W, id: StreamId) -> std::io::Result<()> {
    let mut text = [0u8; 43];
    text[0] = b'"';
    let n = id_text(id, (&mut text[1..42]).try_into().expect("41 bytes")).len();
    text[n + 1] = b'"';
    o.write_all(&text[..n + 2])
}

/// A stream ID's text, `ms-seq`, written into `out` (the longest is 41
/// bytes).
pub fn id_text(id: StreamId, out: &mut [u8; 41]) -> &[u8] {
    let mut digits = [0u8; 20];
    let ms = rdbscope_rdb::rdb_string::uint_text(id.ms, &mut digits);
    let n = ms.len();
    out[..n].copy_from_slice(ms);
    out[n] = b'-';
    let seq = rdbscope_rdb::rdb_string::uint_text(id.seq, &mut digits);
    out[n + 1..n + 1 + seq.len()].copy_from_slice(seq);
    &out[..n + 1 + seq.len()]
}

/// A stream ID, or `null`.
pub fn write_opt_id<W: Write>(o: &mut W, id: Option<StreamId>) -> std::io::Result<()> {
    match id {
        Some(id) => write_id(o, id),
        None => o.write_all(b"null"),
    }
}

/// A number, or `null`.
pub fn write_opt_u64<W: Write>(o: &mut W, v: Option<u64>) -> std::io::Result<()> {
    match v {
        Some(v) => write_u64(o, v),
        None => o.write_all(b"null"),
    }
}

/// A zset score: a JSON number, or a string for values JSON cannot hold.
pub fn write_score<W: Write>(o: &mut W, score: f64) -> std::io::Result<()> {
    if score.is_nan() {
        o.write_all(b"\"nan\"")
    } else if score == f64::INFINITY {
        o.write_all(b"\"inf\"")
    } else if score == f64::NEG_INFINITY {
        o.write_all(b"\"-inf\"")
    } else {
        // serde_json prints the shortest text that reads back to the same
        // double, e.g. 0.1, 1e+300, 5e-324, -0.0.
        serde_json::to_writer(&mut *o, &score).map_err(std::io::Error::other)
    }
}

/// A writer that takes a short JSON piece (brackets, a quoted string,
/// commas) in one write. A dump writes tens of millions of elements, and
/// each separate write is a bounds check and a flush check of its own.
pub trait Pieces: Write {
    /// Writes `before`, `b` between double quotes, then `after`; `b` needs
    /// no escaping (checked by the caller).
    fn quoted_between(&mut self, before: &[u8], b: &[u8], after: &[u8]) -> std::io::Result<()>;
}

impl Pieces for crate::out::OutBuf {
    #[inline(always)]
    fn quoted_between(&mut self, before: &[u8], b: &[u8], after: &[u8]) -> std::io::Result<()> {
        self.put_quoted_between(before, b, after);
        Ok(())
    }
}

/// `before`, the element as a binary-safe JSON string, `after`: in one
/// piece for the usual element (plain ASCII, or an integer).
#[inline]
pub fn write_elem_between<W: Pieces>(
    o: &mut W,
    before: &[u8],
    e: Elem<'_>,
    after: &[u8],
) -> std::io::Result<()> {
    match e {
        Elem::Str(s) if is_plain_ascii(s) => o.quoted_between(before, s, after),
        Elem::Int(v) => {
            let mut digits = [0u8; 20];
            let text = rdbscope_rdb::rdb_string::int_text(v, &mut digits);
            o.quoted_between(before, text, after)
        }
        Elem::Str(s) => {
            o.write_all(before)?;
            write_bytes(o, s)?;
            o.write_all(after)
        }
    }
}

/// An element as a binary-safe JSON string.
#[inline]
pub fn write_elem<W: Write>(o: &mut W, e: Elem<'_>) -> std::io::Result<()> {
    match e {
        Elem::Str(s) => write_bytes(o, s),
        Elem::Int(v) => write_quoted_int(o, v),
    }
}

/// A JSON number from a signed integer, without `fmt`.
#[inline]
pub fn write_i64<W: Write>(o: &mut W, v: i64) -> std::io::Result<()> {
    let mut digits = [0u8; 20];
    o.write_all(rdbscope_rdb::rdb_string::int_text(v, &mut digits))
}

/// A JSON number from an unsigned integer, without `fmt`.
#[inline]
pub fn write_u64<W: Write>(o: &mut W, v: u64) -> std::io::Result<()> {
    if let Ok(v) = i64::try_from(v) {
        return write_i64(o, v);
    }
    write!(o, "{v}")
}

/// `"123"`: an integer that stands for a string.
#[inline]
pub fn write_quoted_int<W: Write>(o: &mut W, v: i64) -> std::io::Result<()> {
    let mut tmp = [0u8; 22];
    let mut digits = [0u8; 20];
    let text = rdbscope_rdb::rdb_string::int_text(v, &mut digits);
    tmp[0] = b'"';
    tmp[1..=text.len()].copy_from_slice(text);
    tmp[text.len() + 1] = b'"';
    o.write_all(&tmp[..text.len() + 2])
}

/// `before`, an RDB string as [`write_rdb_string`] writes it, `after`: in
/// one piece for the usual string (see [`write_elem_between`]). Nothing is
/// written when the string cannot be decoded.
pub fn write_rdb_string_between<W: Pieces>(
    o: &mut W,
    before: &[u8],
    s: &RdbString<'_>,
    buf: &mut Vec<u8>,
    limit: u64,
    after: &[u8],
) -> Result<(), WriteError> {
    let e = match s.as_int() {
        Some(v) => Elem::Int(v),
        None => Elem::Str(s.bytes_limited(buf, limit)?),
    };
    write_elem_between(o, before, e, after)?;
    Ok(())
}

/// An RDB string as a binary-safe JSON string (decoding LZF into `buf`,
/// refusing to decompress more than `limit` bytes: the reader's
/// `--max-value-size`, so that `dump` prints what `check` accepts).
pub fn write_rdb_string<W: Write>(
    o: &mut W,
    s: &RdbString<'_>,
    buf: &mut Vec<u8>,
    limit: u64,
) -> Result<(), WriteError> {
    if let Some(v) = s.as_int() {
        write_quoted_int(o, v)?;
        return Ok(());
    }
    let b = s.bytes_limited(buf, limit)?;
    write_bytes(o, b)?;
    Ok(())
}

/// Bytes as a JSON string when they are UTF-8, else `{"base64":"..."}`.
#[inline]
pub fn write_bytes<W: Write>(o: &mut W, b: &[u8]) -> std::io::Result<()> {
    // Most keys and values are plain ASCII with nothing to escape: one scan
    // proves it and the bytes go out as they are.
    if is_plain_ascii(b) {
        o.write_all(b"\"")?;
        o.write_all(b)?;
        return o.write_all(b"\"");
    }
    match std::str::from_utf8(b) {
        Ok(s) => write_json_str(o, s),
        Err(_) => {
            o.write_all(b"{\"base64\":\"")?;
            write_base64(o, b)?;
            o.write_all(b"\"}")
        }
    }
}

/// Bytes that a JSON string cannot hold as they are (controls, `"`, `\\`),
/// or that need a UTF-8 check (>= 0x80).
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize;
        i += 1;
    }
    t
};

/// Whether `b` is ASCII without control characters, `"` or `\\`: eight
/// bytes at a time, the last word overlapping the one before it (strings
/// of 4-7 bytes are two overlapping 4-byte reads), by table below 4.
#[inline]
fn is_plain_ascii(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 16 {
        // Sixteen bytes at a time, the last block overlapping the one
        // before it: a fixed-size branchless test that the compiler turns
        // into a few vector compares.
        let mut i = 0;
        while i + 16 <= n {
            if block_special(&b[i..i + 16]) {
                return false;
            }
            i += 16;
        }
        i == n || !block_special(&b[n - 16..])
    } else if n >= 8 {
        let mut i = 0;
        while i + 8 <= n {
            if special_bytes(word8(b, i)) != 0 {
                return false;
            }
            i += 8;
        }
        i == n || special_bytes(word8(b, n - 8)) == 0
    } else if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        special_bytes(u64::from(lo) | (u64::from(hi) << 32)) == 0
    } else {
        !b.iter().any(|&c| SPECIAL[c as usize])
    }
}

/// Whether any of 16 bytes is special (see [`SPECIAL`]).
#[inline(always)]
fn block_special(b: &[u8]) -> bool {
    let b: &[u8; 16] = b.try_into().expect("16 bytes");
    let mut any = 0u8;
    for &c in b {
        any |=
            u8::from(c < 0x20) | u8::from(c >= 0x80) | u8::from(c == b'"') | u8::from(c == b'\\');
    }
    any != 0
}

#[inline(always)]
fn word8(b: &[u8], at: usize) -> u64 {
    let c = &b[at..at + 8];
    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

/// Non-zero when a byte of `w` is special (see [`SPECIAL`]).
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    #[inline(always)]
    fn has_zero_byte(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    // A byte < 0x20 (with bit 7 clear) makes `w - 0x20..` borrow into its
    // bit 7; bytes >= 0x80 are caught by `w & HIGH` either way.
    (w & HIGH)
        | (w.wrapping_sub(0x2020_2020_2020_2020) & !w & HIGH)
        | has_zero_byte(w ^ (ONES * u64::from(b'"')))
        | has_zero_byte(w ^ (ONES * u64::from(b'\\')))
}

/// A JSON string literal, escaping only what JSON requires.
pub fn write_json_str<W: Write>(o: &mut W, s: &str) -> std::io::Result<()> {
    let b = s.as_bytes();
    o.write_all(b"\"")?;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                o.write_all(&b[start..i])?;
                write!(o, "\\u{c:04x}")?;
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        o.write_all(&b[start..i])?;
        o.write_all(esc)?;
        start = i + 1;
    }
    o.write_all(&b[start..])?;
    o.write_all(b"\"")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn write_base64<W: Write>(o: &mut W, b: &[u8]) -> std::io::Result<()> {
    let mut out = [0u8; 4 * 256];
    for chunk in b.chunks(3 * 256) {
        let mut n = 0;
        for t in chunk.chunks(3) {
            let v = (u32::from(t[0]) << 16)
                | (u32::from(*t.get(1).unwrap_or(&0)) << 8)
                | u32::from(*t.get(2).unwrap_or(&0));
            out[n] = B64[(v >> 18) as usize & 63];
            out[n + 1] = B64[(v >> 12) as usize & 63];
            out[n + 2] = if t.len() > 1 {
                B64[(v >> 6) as usize & 63]
            } else {
                b'='
            };
            out[n + 3] = if t.len() > 2 {
                B64[v as usize & 63]
            } else {
                b'='
            };
            n += 4;
        }
        o.write_all(&out[..n])?;
    }
    Ok(())
}

/// A file's AUX fields as one JSON object, `{name: value, ...}` in file
/// order (names as text, values binary-safe), as `info` and `stats` print
/// them.
pub fn write_aux_object<W: Write>(o: &mut W, aux: &[(Vec<u8>, Vec<u8>)]) -> std::io::Result<()> {
    o.write_all(b"{")?;
    for (i, (name, value)) in aux.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        write_json_str(o, &String::from_utf8_lossy(name))?;
        o.write_all(b":")?;
        write_bytes(o, value)?;
    }
    o.write_all(b"}")
}

/// Function libraries as a JSON array of `{"name", "engine", "code_bytes"}`.
pub fn write_functions<W: Write>(o: &mut W, libs: &[FunctionLibrary]) -> std::io::Result<()> {
    o.write_all(b"[")?;
    for (i, f) in libs.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"{\"name\":")?;
        write_bytes(o, &f.name)?;
        o.write_all(b",\"engine\":")?;
        write_bytes(o, &f.engine)?;
        write!(o, ",\"code_bytes\":{}}}", f.code_bytes)?;
    }
    o.write_all(b"]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
        let mut v = Vec::new();
        f(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_escape_and_base64() {
        assert_eq!(
            s(|o| write_bytes(o, b"a\"b\\c\n\x01")),
            r#""a\"b\\c\n\u0001""#
        );
        assert_eq!(
            s(|o| write_bytes(o, b"\x00bin\xffkey\x80")),
            r#"{"base64":"AGJpbv9rZXmA"}"#
        );
        assert_eq!(s(|o| write_base64(o, b"")), "");
        assert_eq!(s(|o| write_base64(o, b"f")), "Zg==");
        assert_eq!(s(|o| write_base64(o, b"fo")), "Zm8=");
        assert_eq!(s(|o| write_base64(o, b"foo")), "Zm9v");
        let big: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let enc = s(|o| write_base64(o, &big));
        assert_eq!(enc.len(), 2000_usize.div_ceil(3) * 4);
    }

    #[test]
    fn plain_ascii_scan_agrees_with_bytewise() {
        let bytewise = |b: &[u8]| {
            b.iter()
                .all(|&c| (0x20..0x80).contains(&c) && c != b'"' && c != b'\\')
        };
        let samples: [&[u8]; 9] = [
            b"",
            b"plain text here!",
            b"0123456789abcdef0",
            b"with \"quote\" ok",
            b"back\\slash12345",
            b"tab\there 12345",
            b"\x7f del ok 1234",
            "ümlaut 12345678".as_bytes(),
            b"\x1f",
        ];
        for s in samples {
            assert_eq!(is_plain_ascii(s), bytewise(s), "{s:?}");
        }
        // Every length around the word and half-word paths, every position.
        for len in 1..=40 {
            for c in 0u8..=255 {
                for pos in 0..len {
                    let mut v = vec![b'a'; len];
                    v[pos] = c;
                    assert_eq!(
                        is_plain_ascii(&v),
                        bytewise(&v),
                        "byte {c:#x} at {pos} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn stream_ids() {
        let id = |ms, seq| s(|o| write_id(o, StreamId { ms, seq }));
        assert_eq!(id(0, 0), "\"0-0\"");
        assert_eq!(id(1_700_000_000_123, 7), "\"1700000000123-7\"");
        assert_eq!(
            id(u64::MAX, u64::MAX),
            format!("\"{}-{}\"", u64::MAX, u64::MAX)
        );
    }

    #[test]
    fn scores() {
        assert_eq!(s(|o| write_score(o, f64::INFINITY)), "\"inf\"");
        assert_eq!(s(|o| write_score(o, f64::NEG_INFINITY)), "\"-inf\"");
        assert_eq!(s(|o| write_score(o, 0.1)), "0.1");
        assert_eq!(s(|o| write_score(o, 3.0)), "3.0");
        // Shortest round-trip text, valid JSON, exact when read back.
        for v in [0.1, 1e300, 5e-324, -0.0, 3.0, -7.25, 0.1 + 0.2, f64::MAX] {
            let text = s(|o| write_score(o, v));
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{text}");
        }
    }
}
