//! Zset scores stored as decimal text, written as the JSON number of the
//! double they stand for, without parsing and reformatting when the answer
//! can be read off the text.
//!
//! Listpack and ziplist zsets store a non-integer score as text: Redis
//! before 7.2 with `%.17g` (`67.453000000000003`), 7.2 and Valkey with the
//! shortest text (`67.453`). `dump` must print the shortest text that reads
//! back to the same double (what [`write_score`] prints), and parsing 17
//! digits then searching for the shortest form was a sixth of `dump`'s
//! time on a file of listpack zsets.
//!
//! Why the fast path is exact. Two different decimals of at most 15
//! significant digits never read as the same double (`DBL_DIG` is 15), so
//! when a ≤ 15-digit decimal reads as the score's double, it is the
//! shortest text of that double, whatever algorithm searches for it.
//! - Text of at most 15 digits: it is that decimal (trailing zeros aside).
//! - Text of 16 to 19 digits: if the shortest text has at most 15 digits,
//!   it is the text rounded to 15 digits (the text is within half a unit of
//!   its 17th digit of the double, the shortest text within half an ulp,
//!   both far closer than half a unit of the 15th digit). So round to 15
//!   digits, compute that decimal's double exactly (at most 15 digits and
//!   a power of ten up to 10^22: one correctly rounded division), and prove
//!   with integer arithmetic that the original text lies strictly inside
//!   that double's rounding interval, so that it reads as the same double.
//!   When it does not (the shortest text needs 16 or 17 digits), or on a
//!   tie, the general path runs.
//!
//! Only plain decimals that [`write_score`] prints in positional notation
//! with a fraction take the fast path: 1e-5 <= |score| < 1e15, not an
//! integer. Everything else (exponents, integers, `inf`, `nan`, `-0`)
//! parses and formats as before. `tests::agrees_with_parse_and_format`
//! compares the two paths on millions of texts.

use rdbscope_rdb::Score;
use std::io::Write;

use crate::write::write_score;

/// 10^0 ..= 10^22, exactly representable as doubles.
const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// 10^0 ..= 10^38, the powers of ten a `u128` holds.
const POW10_U128: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// A zset score as stored: a double is formatted, text is written as the
/// double it reads as (see the module docs).
#[inline]
pub fn write_stored_score<W: Write>(o: &mut W, score: Score<'_>) -> std::io::Result<()> {
    match score {
        Score::Double(v) => write_score(o, v),
        Score::Text(t) => {
            let mut buf = [0u8; 48];
            match shortest_from_text(t, &mut buf) {
                Some(n) => o.write_all(&buf[..n]),
                None => write_score(o, score.value()),
            }
        }
    }
}

/// The shortest round-trip text of the double that `text` reads as,
/// written into `out` in [`write_score`]'s notation, when it has at most
/// 15 significant digits and a fraction and 1e-5 <= |value| < 1e15;
/// otherwise `None`. Returns the length written.
fn shortest_from_text(text: &[u8], out: &mut [u8; 48]) -> Option<usize> {
    let (neg, rest) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // m: the significant digits (leading zeros skipped); f: digits after
    // the dot. The text's value is m / 10^f.
    let mut m = 0u64;
    let mut n = 0u32;
    let mut f = 0i32;
    let mut dot = false;
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                f += i32::from(dot);
                if m == 0 && b == b'0' {
                    continue;
                }
                n += 1;
                if n > 19 {
                    return None;
                }
                m = m * 10 + u64::from(b - b'0');
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if m == 0 || f == 0 {
        return None;
    }
    // The candidate: m rounded to 15 digits.
    let (mut s, mut sf) = if n > 15 {
        // Constant divisors for the usual 16 and 17 digits (a multiply,
        // not a division).
        let (q, r, p) = match n - 15 {
            1 => (m / 10, m % 10, 10),
            2 => (m / 100, m % 100, 100),
            d => {
                let p = 10u64.pow(d);
                (m / p, m % p, p)
            }
        };
        if r == p / 2 {
            return None; // a tie: leave it to the general path
        }
        (q + u64::from(r > p / 2), f - (n - 15) as i32)
    } else {
        (m, f)
    };
    if s >= 1_000_000_000_000_000 {
        return None; // rounding carried into a 16th digit
    }
    while s % 1000 == 0 {
        s /= 1000;
        sf -= 3;
    }
    while s % 10 == 0 {
        s /= 10;
        sf -= 1;
    }
    let k = s.ilog10() as i32 + 1;
    // Positional notation with a fraction: an integer has none, and
    // write_score switches to exponents below 1e-5.
    if sf <= 0 || k - 1 - sf < -5 || sf > 22 {
        return None;
    }
    if n > 15 && !reads_as(m, f, s, sf) {
        return None;
    }
    Some(place(neg, s, k, sf, out))
}

/// Whether the decimal `m / 10^f` reads as the same double as
/// `s / 10^sf` (`s` < 10^15, `sf` <= 22): computes that double exactly,
/// then checks that `m / 10^f` lies strictly inside its rounding interval.
fn reads_as(m: u64, f: i32, s: u64, sf: i32) -> bool {
    // Exact: s < 2^53 and 10^sf are both doubles, and one division rounds
    // correctly.
    let d = s as f64 / POW10_F64[sf as usize];
    let bits = d.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    if exp == 0 || frac == 0 {
        // Subnormal, or a power of two (its interval is lopsided): rare,
        // left to the general path.
        return false;
    }
    // d = M * 2^e with e < 0 here (|d| < 1e15 < 2^53).
    let big_m = u128::from(frac | 1 << 52);
    let e = exp - 1075;
    let k = 1 - e; // >= 2
    if f > 38 || k > 126 || (128 - u128::from(m).leading_zeros()) as i32 + k > 127 {
        return false;
    }
    // |m/10^f - M*2^e| < 2^(e-1)  <=>  |m*2^(1-e) - 2*M*10^f| < 10^f
    let ten_f = POW10_U128[f as usize];
    let a = u128::from(m) << k;
    let Some(b) = big_m.checked_mul(2).and_then(|x| x.checked_mul(ten_f)) else {
        return false;
    };
    a.abs_diff(b) < ten_f
}

/// Writes `s / 10^sf` (`s` has `k` digits, `sf` >= 1) positionally:
/// `[-]int.frac`, with `0.` and zeros in front when below 1.
fn place(neg: bool, s: u64, k: i32, sf: i32, out: &mut [u8; 48]) -> usize {
    let mut digits = [0u8; 20];
    let text = rdbscope_rdb::rdb_string::uint_text(s, &mut digits);
    let mut n = 0;
    let mut put = |b: u8| {
        out[n] = b;
        n += 1;
    };
    if neg {
        put(b'-');
    }
    let int_len = k - sf;
    if int_len >= 1 {
        for &c in &text[..int_len as usize] {
            put(c);
        }
        put(b'.');
        for &c in &text[int_len as usize..] {
            put(c);
        }
    } else {
        put(b'0');
        put(b'.');
        for _ in 0..-int_len {
            put(b'0');
        }
        for &c in text {
            put(c);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general path writes for `text`.
    fn general(text: &[u8]) -> String {
        let v = rdbscope_rdb::cursor::parse_double_text(text).unwrap();
        let mut o = Vec::new();
        write_score(&mut o, v).unwrap();
        String::from_utf8(o).unwrap()
    }

    fn fast(text: &[u8]) -> String {
        let mut o = Vec::new();
        write_stored_score(&mut o, Score::Text(text)).unwrap();
        String::from_utf8(o).unwrap()
    }

    /// `%.17g` as C writes it: 17 significant digits, positional for
    /// exponents -5 ..= 16, trailing zeros (and a bare dot) removed.
    fn g17(v: f64) -> String {
        let e = format!("{:.16e}", v);
        let (mant, exp) = e.split_once('e').unwrap();
        let exp: i32 = exp.parse().unwrap();
        let neg = mant.starts_with('-');
        let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        if (-5..17).contains(&exp) {
            if exp >= 0 {
                let (i, f) = digits.split_at(exp as usize + 1);
                s.push_str(i);
                s.push('.');
                s.push_str(f);
            } else {
                s.push_str("0.");
                for _ in 0..(-exp - 1) {
                    s.push('0');
                }
                s.push_str(&digits);
            }
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        } else {
            s = format!("{v:.16e}");
        }
        s
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn agrees_with_parse_and_format() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        // (short decimals with a fraction, fast path taken)
        let mut short = (0u32, 0u32);
        for i in 0..1_500_000u32 {
            let r = xorshift(&mut seed);
            // Doubles of every kind: short decimals (as scores usually
            // are), random bit patterns, values near powers of ten.
            let v = match i % 4 {
                0 => (r % 10_000_000) as f64 / 1000.0,
                1 => f64::from_bits(r) % 1e16,
                2 => (r % 1_000_000_000_000) as f64 / 10f64.powi((r >> 60) as i32 + 2),
                _ => {
                    let e = (r % 40) as i32 - 12;
                    10f64.powi(e) * (1.0 + (r >> 40) as f64 / 2f64.powi(30))
                }
            };
            if !v.is_finite() {
                continue;
            }
            let v = if r & 1 << 39 != 0 { -v } else { v };
            for text in [g17(v), format!("{v}")] {
                let t = text.as_bytes();
                let want = general(t);
                assert_eq!(fast(t), want, "{text}");
                let mut buf = [0u8; 48];
                if i % 4 == 0 && v.fract() != 0.0 && v.abs() >= 1e-5 {
                    short.0 += 1;
                    short.1 += u32::from(shortest_from_text(t, &mut buf).is_some());
                }
            }
        }
        // Scores as people write them (a few decimals), stored by `%.17g`
        // or as the shortest text, all take the fast path.
        assert_eq!(
            short.0, short.1,
            "fast path taken {} of {} times",
            short.1, short.0
        );
    }

    #[test]
    fn odd_texts() {
        for t in [
            "67.453000000000003",
            "0.10000000000000001",
            "+.5",
            "007.50",
            "-0.0",
            "0.0",
            "5",
            "5.",
            "1e5",
            "1.5e-07",
            "0.00001",
            "0.0000099999999999999991",
            "999999999999999.9",
            "999999999999999.95",
            "99999999999999.99",
            "0.30000000000000004",
            "123456789012345678",
            "1234567890.1234567890123",
            "inf",
            "-nan",
            "2.5000000000000000",
            "0.50000000000000000000000000001",
        ] {
            assert_eq!(fast(t.as_bytes()), general(t.as_bytes()), "{t}");
        }
    }
}
