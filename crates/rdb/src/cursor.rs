//! A bounds-checked reader over a byte slice, with the RDB primitive
//! encodings (lengths, strings, doubles, little/big-endian integers).
//!
//! The primitives are `nom` parsers over `&[u8]` (see [`parse`]); the cursor
//! adds what `nom` leaves to its caller: the absolute file offset of every
//! failure and the number of bytes that were missing. Every read checks the
//! remaining length first, so no input can make it index out of bounds.

use crate::error::{Error, Result};
use crate::rdb_string::RdbString;
use crate::rule::Rule;

/// An RDB length (`rdbLoadLen`): a number, or the marker of a special string
/// encoding (`11xxxxxx`), which is only valid where a string is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// A plain length.
    Num(u64),
    /// A special string encoding: the low 6 bits of the `11xxxxxx` byte
    /// (0-2 integers, 3 LZF).
    Special(u8),
}

/// `nom` parsers for the primitive encodings. They return `nom` errors; the
/// [`Cursor`] turns those into located [`Error`]s.
pub mod parse {
    use super::Len;
    use nom::number::complete::{be_u32, be_u64, be_u8};
    use nom::IResult;

    /// RDB length encoding (docs/format.md#length-encoding). `Err(Failure)` marks the invalid
    /// first bytes 0x82..=0xBF; `Err(Error)` a short input.
    pub fn length(i: &[u8]) -> IResult<&[u8], Len> {
        let (rest, b0) = be_u8(i)?;
        match b0 >> 6 {
            0 => Ok((rest, Len::Num(u64::from(b0 & 0x3f)))),
            1 => {
                let (rest, b1) = be_u8(rest)?;
                Ok((rest, Len::Num((u64::from(b0 & 0x3f) << 8) | u64::from(b1))))
            }
            2 => match b0 {
                0x80 => {
                    let (rest, v) = be_u32(rest)?;
                    Ok((rest, Len::Num(u64::from(v))))
                }
                0x81 => {
                    let (rest, v) = be_u64(rest)?;
                    Ok((rest, Len::Num(v)))
                }
                _ => Err(nom::Err::Failure(nom::error::Error::new(
                    i,
                    nom::error::ErrorKind::Tag,
                ))),
            },
            _ => Ok((rest, Len::Special(b0 & 0x3f))),
        }
    }
}

/// Reads primitives from `data`, reporting offsets as `base + position`.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

/// `RDB_LENERR`: what Redis's `rdbLoadLen` returns when it cannot read a
/// length, so the loader refuses a length that decodes to it wherever it
/// compares with it ([`Cursor::length`]).
pub const LENERR: u64 = u64::MAX;

impl<'a> Cursor<'a> {
    /// A cursor over `data`, whose first byte is at file offset `base`.
    pub fn new(data: &'a [u8], base: usize) -> Cursor<'a> {
        Cursor { data, pos: 0, base }
    }

    /// Current absolute offset.
    #[inline]
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Current position relative to the start of `data`.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    /// Moves to `pos` (relative to the start of `data`), clamped to its end.
    pub fn set_pos(&mut self, pos: usize) {
        debug_assert!(pos <= self.data.len());
        self.pos = pos.min(self.data.len());
    }

    #[inline]
    /// Bytes left after the current position.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    #[inline]
    /// Whether no bytes are left.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The whole underlying slice.
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The unread rest.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// The file offset of `data[0]`.
    #[inline]
    pub fn base(&self) -> usize {
        self.base
    }

    #[inline]
    fn need(&self, n: usize, what: &'static str) -> Result<()> {
        if self.remaining() < n {
            Err(Error::truncated(
                self.offset(),
                (n - self.remaining()) as u64,
                what,
            ))
        } else {
            Ok(())
        }
    }

    #[inline]
    /// Reads one byte; `what` names it in the error if the input ends.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        self.need(1, what)?;
        let b = self.data[self.pos];
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    /// The next byte without consuming it, or `None` at the end.
    pub fn peek_u8(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Takes `n` bytes, where `n` came from the input: checked against what
    /// remains before anything else is done with it.
    #[inline]
    pub fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(Error::truncated(
                self.offset(),
                n - self.remaining() as u64,
                what,
            ));
        }
        let n = n as usize;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    /// Reads exactly `N` bytes into an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    #[inline]
    /// Reads a little-endian `u64`.
    pub fn u64_le(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    #[inline]
    /// Reads a little-endian `i64` (expiry times, stream times).
    pub fn i64_le(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    #[inline]
    /// Reads a big-endian `u64` (the halves of a 16-byte stream ID).
    pub fn u64_be(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// An RDB length or special-encoding marker.
    #[inline]
    pub fn len_or_special(&mut self, what: &'static str) -> Result<Len> {
        // Fast path: the 6-bit and 14-bit forms are almost every length in
        // a real file; everything else goes through the full parser.
        if let Some(&b0) = self.data.get(self.pos) {
            match b0 >> 6 {
                0 => {
                    self.pos += 1;
                    return Ok(Len::Num(u64::from(b0)));
                }
                3 => {
                    self.pos += 1;
                    return Ok(Len::Special(b0 & 0x3f));
                }
                1 => {
                    if let Some(&b1) = self.data.get(self.pos + 1) {
                        self.pos += 2;
                        return Ok(Len::Num((u64::from(b0 & 0x3f) << 8) | u64::from(b1)));
                    }
                }
                _ if b0 == 0x80 => {
                    if let Some(b) = self.data.get(self.pos + 1..self.pos + 5) {
                        self.pos += 5;
                        return Ok(Len::Num(u64::from(u32::from_be_bytes([
                            b[0], b[1], b[2], b[3],
                        ]))));
                    }
                }
                _ if b0 == 0x81 => {
                    if let Some(b) = self.data.get(self.pos + 1..self.pos + 9) {
                        self.pos += 9;
                        let mut a = [0u8; 8];
                        a.copy_from_slice(b);
                        return Ok(Len::Num(u64::from_be_bytes(a)));
                    }
                }
                _ => {}
            }
        }
        // Short input and invalid forms: the `nom` parser, the reference
        // definition of the encoding, says what went wrong.
        self.len_or_special_slow(what)
    }

    #[cold]
    fn len_or_special_slow(&mut self, what: &'static str) -> Result<Len> {
        let start = self.offset();
        match parse::length(self.rest()) {
            Ok((rest, len)) => {
                self.pos = self.data.len() - rest.len();
                Ok(len)
            }
            Err(nom::Err::Failure(_)) => Err(Error::invalid(
                Rule::LengthEncoding,
                start,
                format!(
                    "unknown length encoding 0x{:02x} for {what}",
                    self.data[self.pos]
                ),
            )),
            Err(_) => {
                // Short input: say how many bytes the length form wanted.
                let want = match self.peek_u8() {
                    None => 1,
                    Some(b) => match b >> 6 {
                        1 => 2,
                        2 if b == 0x80 => 5,
                        2 => 9,
                        _ => 1,
                    },
                };
                Err(Error::truncated(
                    start,
                    (want - self.remaining()) as u64,
                    what,
                ))
            }
        }
    }

    /// An RDB length. A special-encoding marker (`11xxxxxx`) where a plain
    /// length is expected reads as its low 6 bits, as `rdbLoadLen` does
    /// when not asked about encodings: Redis accepts such files, so we do.
    #[inline]
    pub fn len(&mut self, what: &'static str) -> Result<u64> {
        match self.len_or_special(what)? {
            Len::Num(n) => Ok(n),
            Len::Special(k) => Ok(u64::from(k)),
        }
    }

    /// A length the loader compares with `RDB_LENERR` ([`LENERR`]): every
    /// string length and count, and the numbers of the SELECTDB,
    /// RESIZEDB, IDLE, SLOT_INFO and MODULE_AUX opcodes. 2^64-1 there is
    /// the loader's read-error value, so the server refuses the file.
    #[inline]
    pub fn length(&mut self, what: &'static str) -> Result<u64> {
        let start = self.offset();
        let n = self.len(what)?;
        if n == LENERR {
            return Err(Error::invalid(
                Rule::LengthError,
                start,
                format!("{what} is 2^64-1, the loader's read-error value (RDB_LENERR): the server refuses it"),
            ));
        }
        Ok(n)
    }

    /// A length used as a count of items that each take at least
    /// `min_item_bytes` bytes: rejected at once if the rest of the input
    /// cannot hold that many, so no count can make a loop outlive its input.
    #[inline]
    pub fn count(&mut self, min_item_bytes: u64, what: &'static str) -> Result<u64> {
        let start = self.offset();
        let n = self.length(what)?;
        if n.saturating_mul(min_item_bytes) > self.remaining() as u64 {
            return Err(Error::truncated(
                start,
                n.saturating_mul(min_item_bytes) - self.remaining() as u64,
                what,
            ));
        }
        Ok(n)
    }

    /// An RDB string (plain, integer or LZF), left undecoded.
    #[inline]
    pub fn rdb_string(&mut self, what: &'static str) -> Result<RdbString<'a>> {
        let start = self.offset();
        match self.len_or_special(what)? {
            Len::Num(LENERR) => Err(Error::invalid(
                Rule::LengthError,
                start,
                format!("the length of {what} is 2^64-1, the loader's read-error value (RDB_LENERR): the server refuses it"),
            )),
            Len::Num(n) => {
                let data_start = self.offset();
                Ok(RdbString::raw(self.take(n, what)?, start, data_start))
            }
            Len::Special(0) => Ok(RdbString::int(i64::from(self.u8(what)? as i8), start, 2)),
            Len::Special(1) => Ok(RdbString::int(
                i64::from(i16::from_le_bytes(self.array(what)?)),
                start,
                3,
            )),
            Len::Special(2) => Ok(RdbString::int(
                i64::from(i32::from_le_bytes(self.array(what)?)),
                start,
                5,
            )),
            Len::Special(3) => {
                let clen = self.length("LZF compressed length")?;
                let len = self.length("LZF uncompressed length")?;
                let data_start = self.offset();
                let data = self.take(clen, "LZF compressed data")?;
                RdbString::lzf(data, len, start, data_start)
            }
            Len::Special(k) => Err(Error::invalid(
                Rule::StringEncoding,
                start,
                format!("unknown string encoding 0x{:02x} for {what}", 0xc0 | k),
            )),
        }
    }

    /// Old-style ASCII double (ZSET type 3): length byte, text; 253/254/255
    /// mean NaN, +inf, -inf.
    pub fn ascii_double(&mut self, what: &'static str) -> Result<f64> {
        let start = self.offset();
        let n = self.u8(what)?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let text = self.take(u64::from(n), what)?;
                parse_double_text(text).ok_or_else(|| {
                    Error::invalid(
                        Rule::NumberText,
                        start,
                        format!(
                            "{what}: {:?} is not a number",
                            String::from_utf8_lossy(text)
                        ),
                    )
                })
            }
        }
    }

    /// Binary IEEE-754 double, little-endian.
    #[inline]
    pub fn binary_double(&mut self, what: &'static str) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }
}

/// Parses a double as `strtod` would for the texts Redis writes: decimal and
/// exponent forms, `inf`/`-inf`/`nan` in any case. No allocation: this runs
/// for every score of every listpack zset.
pub fn parse_double_text(text: &[u8]) -> Option<f64> {
    let (neg, unsigned) = split_sign(text);
    if unsigned.first()?.is_ascii_alphabetic() {
        return special_word(neg, unsigned);
    }
    if let Some(v) = short_decimal(text) {
        return Some(v);
    }
    // Rust's parser takes exactly the decimal and exponent forms (no
    // whitespace), which is what Redis writes.
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// Whether `text` reads as a double for [`parse_double_text`] (the same
/// verdict, without computing the value): `[+-]` then `inf`, `infinity` or
/// `nan` in any case, or digits with at most one dot (at least one digit)
/// and an optional exponent `e[+-]digits`.
pub fn is_double_text(text: &[u8]) -> bool {
    let (neg, unsigned) = split_sign(text);
    if unsigned.first().is_some_and(u8::is_ascii_alphabetic) {
        return special_word(neg, unsigned).is_some();
    }
    let mut i = 0;
    let mut digits = 0;
    while i < unsigned.len() && unsigned[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < unsigned.len() && unsigned[i] == b'.' {
        i += 1;
        while i < unsigned.len() && unsigned[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return false;
    }
    if i < unsigned.len() && (unsigned[i] | 0x20) == b'e' {
        i += 1;
        if i < unsigned.len() && matches!(unsigned[i], b'+' | b'-') {
            i += 1;
        }
        let start = i;
        while i < unsigned.len() && unsigned[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == unsigned.len()
}

/// Whether `text` (accepted by [`is_double_text`]) reads as NaN: only the
/// word `nan` does; decimal text never overflows to NaN.
pub fn is_nan_text(text: &[u8]) -> bool {
    let (neg, unsigned) = split_sign(text);
    special_word(neg, unsigned).is_some_and(f64::is_nan)
}

/// A number's sign (`true`: negative) and the text after it.
#[inline]
fn split_sign(text: &[u8]) -> (bool, &[u8]) {
    match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// The words `strtod` reads (any case): `inf`, `infinity`, `nan`.
fn special_word(neg: bool, word: &[u8]) -> Option<f64> {
    let is = |w: &[u8]| word.eq_ignore_ascii_case(w);
    if is(b"inf") || is(b"infinity") {
        Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        })
    } else if is(b"nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// Powers of ten that are exact doubles.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common score shapes (`[+-]digits[.digits]`, at most 2^53 as an
/// integer of all its digits, at most 22 after the dot) without the general
/// parser: the digits form an exact double and so does the power of ten, so
/// one IEEE division is correctly rounded (Clinger's fast path) and the
/// result equals the general parser's. Anything else returns `None`.
#[inline]
fn short_decimal(text: &[u8]) -> Option<f64> {
    let (neg, digits) = split_sign(text);
    if digits.len() > 24 {
        return None;
    }
    let mut m = 0u64;
    let mut n = 0usize;
    let mut dot: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                n += 1;
                if n > 19 {
                    return None;
                }
                m = m * 10 + u64::from(b - b'0');
            }
            b'.' if dot.is_none() => dot = Some(i),
            _ => return None,
        }
    }
    if n == 0 || m > 1 << 53 {
        return None;
    }
    let frac = dot.map_or(0, |d| digits.len() - d - 1);
    let v = m as f64 / EXACT_POW10[frac];
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_of(bytes: &[u8]) -> u64 {
        Cursor::new(bytes, 0).len("test").unwrap()
    }

    /// xorshift64: reproducible pseudo-random test inputs.
    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// The short-decimal fast path gives exactly what the general parser
    /// gives, on every shape it accepts and refuses.
    #[test]
    fn short_decimals_equal_the_general_parser() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || xorshift(&mut seed);
        for _ in 0..200_000 {
            let r = next();
            let len = (r % 26) as usize;
            let mut t = Vec::with_capacity(len + 1);
            if r & (1 << 40) != 0 {
                t.push(if r & (1 << 41) != 0 { b'-' } else { b'+' });
            }
            for k in 0..len {
                let d = next();
                t.push(if d % 13 == 0 && k > 0 {
                    b'.'
                } else {
                    b'0' + (d % 10) as u8
                });
            }
            let general = std::str::from_utf8(&t).unwrap().parse::<f64>().ok();
            let fast = short_decimal(&t);
            if let Some(f) = fast {
                assert_eq!(
                    Some(f.to_bits()),
                    general.map(f64::to_bits),
                    "{:?}",
                    String::from_utf8_lossy(&t)
                );
            }
            assert_eq!(
                parse_double_text(&t).map(f64::to_bits),
                general.map(f64::to_bits),
                "{:?}",
                String::from_utf8_lossy(&t)
            );
        }
    }

    /// `is_double_text` gives `parse_double_text`'s verdict, and
    /// `is_nan_text` its NaN, on strings of number-like characters.
    #[test]
    fn double_text_verdicts_equal_the_parser() {
        let alphabet = b"0123456789.eE+-naiNfI x";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..300_000 {
            xorshift(&mut seed);
            let len = (seed % 9) as usize;
            let t: Vec<u8> = (0..len)
                .map(|k| alphabet[((seed >> (8 + 5 * k)) % alphabet.len() as u64) as usize])
                .collect();
            let parsed = parse_double_text(&t);
            assert_eq!(
                is_double_text(&t),
                parsed.is_some(),
                "{:?}",
                String::from_utf8_lossy(&t)
            );
            if let Some(v) = parsed {
                assert_eq!(
                    is_nan_text(&t),
                    v.is_nan(),
                    "{:?}",
                    String::from_utf8_lossy(&t)
                );
            }
        }
        for w in [
            &b"nan"[..],
            b"-NaN",
            b"+inf",
            b"Infinity",
            b"1e5",
            b"-.5",
            b"5.",
            b"1E+07",
        ] {
            assert!(is_double_text(w), "{:?}", String::from_utf8_lossy(w));
        }
        for w in [
            &b""[..],
            b"-",
            b".",
            b"e5",
            b"1e",
            b"1e+",
            b"nanx",
            b"1.2.3",
            b" 1",
        ] {
            assert!(!is_double_text(w), "{:?}", String::from_utf8_lossy(w));
        }
    }

    #[test]
    fn length_vectors_from_format_md() {
        assert_eq!(len_of(&[0x0a]), 10);
        assert_eq!(len_of(&[0x3f]), 63);
        assert_eq!(len_of(&[0x40, 0x40]), 64);
        assert_eq!(len_of(&[0x42, 0xbc]), 700);
        assert_eq!(len_of(&[0x7f, 0xff]), 16383);
        assert_eq!(len_of(&[0x80, 0, 0, 0x40, 0]), 16384);
        assert_eq!(len_of(&[0x81, 0, 0, 0, 1, 0, 0, 0, 0]), 1 << 32);
    }

    #[test]
    fn bad_and_short_lengths_are_located_errors() {
        let e = Cursor::new(&[0x90], 100).len("x").unwrap_err();
        assert_eq!(e.offset, 100);
        assert!(e.message().contains("unknown length encoding 0x90"));
        let e = Cursor::new(&[0x81, 0, 0], 7).len("x").unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(matches!(
            e.kind,
            crate::ErrorKind::Truncated { needed: 6, .. }
        ));
    }

    /// The fast path must agree with the `nom` parser, the reference, on
    /// every first byte, whole or cut short.
    #[test]
    fn fast_path_agrees_with_the_nom_parser() {
        let tails: [&[u8]; 3] = [
            &[],
            &[0x12],
            &[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11],
        ];
        for b0 in 0..=255u8 {
            for tail in tails {
                for cut in 0..=tail.len() {
                    let mut input = vec![b0];
                    input.extend_from_slice(&tail[..cut]);
                    let ours = Cursor::new(&input, 0)
                        .len_or_special("t")
                        .map_err(|e| e.kind);
                    let reference = match parse::length(&input) {
                        Ok((_, len)) => Ok(len),
                        Err(_) => Err(()),
                    };
                    assert_eq!(ours.is_ok(), reference.is_ok(), "{input:02x?}");
                    if let (Ok(a), Ok(b)) = (ours, reference) {
                        assert_eq!(a, b, "{input:02x?}");
                    }
                }
            }
        }
    }

    #[test]
    fn count_rejects_counts_the_input_cannot_hold() {
        // 2^32 items of at least one byte each, with 3 bytes left.
        let e = Cursor::new(&[0x81, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3], 0)
            .count(1, "items")
            .unwrap_err();
        assert!(matches!(e.kind, crate::ErrorKind::Truncated { .. }));
    }

    #[test]
    fn string_vectors_from_format_md() {
        let mut buf = Vec::new();
        let check = |bytes: &[u8], want: &[u8], buf: &mut Vec<u8>| {
            let s = Cursor::new(bytes, 0).rdb_string("t").unwrap();
            assert_eq!(s.bytes(buf).unwrap(), want);
        };
        check(&[0xc0, 0x0c], b"12", &mut buf);
        check(&[0xc0, 0xfe], b"-2", &mut buf);
        check(&[0xc1, 0x39, 0x30], b"12345", &mut buf);
        check(&[0xc2, 0xa0, 0x86, 0x01, 0x00], b"100000", &mut buf);
        check(&[0x03, b'a', b'b', b'c'], b"abc", &mut buf);
        let hundred_a = vec![b'a'; 100];
        check(
            &[
                0xc3, 0x09, 0x40, 0x64, 0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61,
            ],
            &hundred_a,
            &mut buf,
        );
    }

    #[test]
    fn ascii_doubles() {
        let d = |b: &[u8]| Cursor::new(b, 0).ascii_double("s").unwrap();
        assert_eq!(d(&[254]), f64::INFINITY);
        assert_eq!(d(&[255]), f64::NEG_INFINITY);
        assert!(d(&[253]).is_nan());
        assert_eq!(d(b"\x031.5"), 1.5);
        assert_eq!(d(b"\x0a-1.25e+300"), -1.25e300);
        assert!(Cursor::new(b"\x02zz", 0).ascii_double("s").is_err());
        assert_eq!(parse_double_text(b"-INF"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double_text(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_double_text(b"Infinity"), Some(f64::INFINITY));
        assert!(parse_double_text(b"nan").unwrap().is_nan());
        assert_eq!(parse_double_text(b" 1"), None);
        assert_eq!(parse_double_text(b""), None);
        assert_eq!(parse_double_text(b"-"), None);
        assert_eq!(parse_double_text(b"."), None);
        assert_eq!(parse_double_text(b"1.2.3"), None);
        assert_eq!(
            parse_double_text(b"-0.0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(parse_double_text(b"1e-5"), Some(1e-5));
    }
}
