//! How a server writes a zset score as text: into a listpack or ziplist
//! zset (`d2string`, `zzlInsertAt`) and into `DEBUG DIGEST`. Up to Redis
//! 7.0 it is `snprintf("%.17g")`; from Redis 7.2, and in every Valkey, it
//! is `fpconv_dtoa` ([`super::fpconv`]). The two disagree on almost every
//! score (`0.10000000000000001` against `0.1`), so both a file's bytes and
//! its digest depend on the server.

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
            ScoreText::Fpconv => super::fpconv::write(score, out),
        }
    }
}

impl ScoreText {
    /// The formatter a server writing RDB `version` (its Redis-equivalent
    /// version; `VALKEY080` is 11) uses.
    pub fn of_rdb_version(version: u32) -> ScoreText {
        if version >= 11 {
            ScoreText::Fpconv
        } else {
            ScoreText::Printf17g
        }
    }
}

/// `d2string` (util.c), how a compact zset stores a score as text:
/// `nan`, `inf`, `-inf`, `-0`, `0`; an integral value in the server's
/// safe range as an integer (Redis 6.2 and before: |v| < 2^52; 7.0 on,
/// `double2ll`: |v| <= LLONG_MAX/2); else the version's formatter.
pub fn d2string(version: u32, v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
    } else if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else {
        let integral = if version >= 10 {
            let half = (i64::MAX / 2) as f64;
            !(v < -half || v > half) && (v as i64) as f64 == v
        } else {
            v > -4503599627370495.0 && v < 4503599627370496.0 && (v as i64) as f64 == v
        };
        if integral {
            crate::rdb_string::write_int(out, v as i64);
        } else {
            ScoreText::of_rdb_version(version).write(v, out);
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
    // glibc's default rounding): "d.dddddddddddddddde<X>". Written into a
    // stack buffer: this runs once per compact zset score.
    let mut buf = [0u8; 40];
    let n = {
        use std::io::Write;
        let mut w = &mut buf[..];
        let _ = write!(w, "{:.16e}", d.abs());
        40 - w.len()
    };
    let e_form = std::str::from_utf8(&buf[..n]).unwrap_or("0e0");
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut all = [0u8; 17];
    let mut k = 0;
    for c in mantissa.bytes().filter(u8::is_ascii_digit).take(17) {
        all[k] = c;
        k += 1;
    }
    // Significant digits without trailing zeros (at least one).
    let sig = all[..k]
        .iter()
        .rposition(|&c| c != b'0')
        .map_or(1, |i| i + 1);
    let digits = &all[..sig];
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
        if a >= 100 {
            out.push(b'0' + (a / 100) as u8);
        }
        if a >= 10 {
            out.push(b'0' + (a / 10 % 10) as u8);
        }
        out.push(b'0' + (a % 10) as u8);
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
