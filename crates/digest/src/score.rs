//! How a server writes a zset score into a digest. Up to Redis 7.0 it is
//! `snprintf("%.17g")`; from Redis 7.2, and in every Valkey, it is
//! `fpconv_dtoa` ([`crate::fpconv`]). The two disagree on almost every
//! score (`0.10000000000000001` against `0.1`), so the digest of a file
//! with a zset depends on which server computes it.

/// A server's score formatter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreText {
    /// `%.17g`: 17 significant digits, trailing zeros dropped.
    Printf17g,
    /// `fpconv_dtoa`.
    Fpconv,
}

impl ScoreText {
    /// Appends `score` as this formatter writes it.
    pub fn write(self, score: f64, out: &mut Vec<u8>) {
        match self {
            ScoreText::Printf17g => write_17g(score, out),
            ScoreText::Fpconv => crate::fpconv::write(score, out),
        }
    }
}

/// `%.17g` as glibc prints it: the value correctly rounded to 17
/// significant digits; fixed notation when the decimal exponent X is in
/// -4 ≤ X < 17, else `d.ddde±XX` (at least two exponent digits); trailing
/// zeros and a bare point dropped; `inf`, `-inf`, `nan`, `-nan`.
fn write_17g(d: f64, out: &mut Vec<u8>) {
    if d.is_sign_negative() {
        out.push(b'-');
    }
    if d.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(b"inf");
        return;
    }
    // Rust's `{:.16e}` is exact (correctly rounded, ties to even like
    // glibc's default rounding): "d.dddddddddddddddde<X>".
    let e_form = format!("{:.16e}", d.abs());
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // Significant digits without trailing zeros (at least one).
    let sig = digits.iter().rposition(|&c| c != b'0').map_or(1, |i| i + 1);
    let digits = &digits[..sig];
    if (-4..17).contains(&exp) {
        if exp < 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-exp - 1) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits);
                out.resize(out.len() + int_len - digits.len(), b'0');
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(a.to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::ScoreText;

    fn g(d: f64) -> String {
        let mut v = Vec::new();
        ScoreText::Printf17g.write(d, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn printf_17g() {
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1.0000000000000001e-05");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(1e300), "1.0000000000000001e+300");
        assert_eq!(g(123.456), "123.456");
        assert_eq!(g(5e-324), "4.9406564584124654e-324");
    }
}
