//! The primitive encodings: lengths and doubles, the write side of
//! [`crate::cursor`] (`docs/format.md#length-encoding`).

/// The first byte of a 32-bit length (`RDB_32BITLEN`).
const LEN_32: u8 = 0x80;
/// The first byte of a 64-bit length (`RDB_64BITLEN`).
const LEN_64: u8 = 0x81;

/// Appends `n` as an RDB length in its shortest form, as `rdbSaveLen`
/// writes it: 6 bits in one byte (`00xxxxxx`), 14 bits in two (`01xxxxxx`
/// + one byte), 32 bits after `0x80`, or 64 bits after `0x81`, both
///   big-endian (`docs/format.md#length-encoding`).
pub fn length(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(LEN_32);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(LEN_64);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The number of bytes [`length`] writes for `n`.
pub fn length_size(n: u64) -> usize {
    if n < 1 << 6 {
        1
    } else if n < 1 << 14 {
        2
    } else if n <= u64::from(u32::MAX) {
        5
    } else {
        9
    }
}

/// The old-style score length byte meaning NaN (`docs/format.md#sorted-set-scores`).
pub const ASCII_DOUBLE_NAN: u8 = 253;
/// The old-style score length byte meaning +inf.
pub const ASCII_DOUBLE_POS_INF: u8 = 254;
/// The old-style score length byte meaning -inf.
pub const ASCII_DOUBLE_NEG_INF: u8 = 255;

/// Appends `v` as an old-style double (the scores of type 3 zsets,
/// `rdbSaveDoubleValue`): a length byte and decimal text, or one of the
/// three special length bytes for NaN and the infinities. The text is the
/// shortest that reads back as exactly `v` (Redis writes `%.17g`; both
/// read back the same), in plain or exponent notation, whichever is
/// shorter, so it always fits the length byte.
pub fn ascii_double(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.push(ASCII_DOUBLE_NAN);
    } else if v.is_infinite() {
        out.push(if v > 0.0 {
            ASCII_DOUBLE_POS_INF
        } else {
            ASCII_DOUBLE_NEG_INF
        });
    } else {
        let text = double_text(v);
        // At most 24 bytes ("-2.2250738585072014e-308"), always below 253.
        out.push(text.len() as u8);
        out.extend_from_slice(text.as_bytes());
    }
}

/// The shortest decimal text that reads back (with `strtod`) as exactly
/// `v`, in plain or exponent notation, whichever is shorter: at most 24
/// bytes. NaN and the infinities are `nan`, `inf` and `-inf`, as Redis
/// spells them. This is the text of old-style doubles and of zset scores in
/// listpacks and ziplists, where Redis reads at most 127 bytes of a score.
pub fn double_text(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let plain = format!("{v}");
    let exp = format!("{v:e}");
    if exp.len() < plain.len() {
        exp
    } else {
        plain
    }
}

/// Appends `v` as a binary double (type 5 scores, `rdbSaveBinaryDoubleValue`):
/// 8 bytes, little-endian IEEE 754.
pub fn binary_double(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a millisecond time (EXPIRETIME_MS, stream times): 8 bytes,
/// little-endian.
pub fn millis(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&ms.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::Cursor;

    #[test]
    fn lengths_read_back_in_their_shortest_form() {
        for (n, size) in [
            (0, 1),
            (63, 1),
            (64, 2),
            (16383, 2),
            (16384, 5),
            (u64::from(u32::MAX), 5),
            (1 << 32, 9),
            (u64::MAX, 9),
        ] {
            let mut out = Vec::new();
            length(&mut out, n);
            assert_eq!(out.len(), size, "{n}");
            assert_eq!(length_size(n), size, "{n}");
            assert_eq!(Cursor::new(&out, 0).len("n").unwrap(), n);
        }
    }

    #[test]
    fn ascii_doubles_read_back_exactly() {
        for v in [
            0.0,
            -0.0,
            1.5,
            -3.25,
            0.1,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            123456789.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let mut out = Vec::new();
            ascii_double(&mut out, v);
            let back = Cursor::new(&out, 0).ascii_double("v").unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}: {out:?}");
        }
        let mut out = Vec::new();
        ascii_double(&mut out, f64::NAN);
        assert!(Cursor::new(&out, 0).ascii_double("v").unwrap().is_nan());
    }
}
