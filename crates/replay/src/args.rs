//! Reading numbers and options from command arguments as the server does:
//! `string2ll` for integers (no sign but `-`, no leading zeros, no spaces),
//! `strtod` for doubles (no leading space, the whole argument, no NaN).

use crate::error::CmdError;

/// An integer as `string2ll` reads it.
pub fn int(b: &[u8]) -> Result<i64, CmdError> {
    parse_int(b).ok_or_else(CmdError::not_integer)
}

/// `string2ll`: `0`, or an optional `-` and digits without a leading zero,
/// within `i64`.
pub fn parse_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// A non-negative integer.
pub fn uint(b: &[u8]) -> Result<u64, CmdError> {
    match parse_int(b) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::refused(
            "ERR value is out of range, must be positive",
        )),
    }
}

/// A double as `getDoubleFromObject` reads it (`strtod`, the whole text,
/// no leading space, no NaN).
pub fn float(b: &[u8]) -> Result<f64, CmdError> {
    parse_float(b).ok_or_else(CmdError::not_float)
}

/// See [`float`].
pub fn parse_float(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.strip_prefix('+').unwrap_or(&lower);
    let t = t.strip_prefix('-').unwrap_or(t);
    // strtod reads "inf"/"infinity" and rejects nothing Rust reads but NaN.
    if t.starts_with("nan") {
        return None;
    }
    let v: f64 = lower.parse().ok()?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Whether an expire time `when` replaces `cur` under the NX/XX/GT/LT
/// flags of `EXPIRE` and `HEXPIRE` (`expireGenericCommand`): no expire
/// counts as infinite, so GT never passes on it and LT always does.
#[allow(clippy::nonminimal_bool)]
pub fn expire_allowed(cur: Option<i64>, when: i64, nx: bool, xx: bool, gt: bool, lt: bool) -> bool {
    match cur {
        Some(c) => !nx && !(gt && when <= c) && !(lt && when >= c),
        None => !xx && !gt,
    }
}

/// Case-insensitive match of an option name.
#[inline]
pub fn is(a: &[u8], name: &str) -> bool {
    a.eq_ignore_ascii_case(name.as_bytes())
}

/// The decimal text of an integer.
pub fn int_text(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_string2ll() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"01"), None);
        assert_eq!(parse_int(b"-0"), None);
        assert_eq!(parse_int(b"+1"), None);
        assert_eq!(parse_int(b" 1"), None);
        assert_eq!(parse_int(b""), None);
    }

    #[test]
    fn floats_as_strtod() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_float(b"nan"), None);
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
    }
}
