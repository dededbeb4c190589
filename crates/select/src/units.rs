//! Command-line values with units: byte sizes (`64K`, `512MB`) and points
//! in time (`1700000000`, `1700000000123ms`, `2024-06-01T12:00:00Z`).

/// Parses a byte size: a number with an optional unit `K`, `M`, `G`, `T`,
/// also written `KB`/`KiB` and so on, in any case. Every unit is a power
/// of 1024 (`1K` = `1KB` = `1KiB` = 1024 bytes); unlike `redis.conf`, `k`
/// is not 1000, so that one size means the same everywhere in rdbscope.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "invalid size {s:?}: expected a number with an optional unit K, M, G or T (powers of 1024)"
            ))
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| format!("invalid size {s:?}"))
}

/// Parses a point in time into Unix milliseconds: Unix seconds (`1700000000`),
/// Unix milliseconds with an `ms` suffix (`1700000000123ms`), or a UTC date
/// and time `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339 in UTC, optionally with a
/// fraction of a second: `2024-06-01T12:00:00.250Z`).
pub fn parse_time_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "invalid time {s:?}: expected Unix seconds (1700000000), Unix milliseconds \
             (1700000000000ms) or YYYY-MM-DDTHH:MM:SSZ"
        )
    };
    if let Some(ms) = t.strip_suffix("ms") {
        return ms.parse::<i64>().map_err(|_| bad());
    }
    if !t.contains('T') && !t.contains('t') {
        return t
            .parse::<i64>()
            .ok()
            .and_then(|secs| secs.checked_mul(1000))
            .ok_or_else(bad);
    }
    rfc3339_utc_ms(t).ok_or_else(bad)
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` to Unix milliseconds.
fn rfc3339_utc_ms(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20 || !matches!(b[b.len() - 1], b'Z' | b'z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = t.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = &t[19..t.len() - 1];
    let millis = match frac.strip_prefix('.') {
        None if frac.is_empty() => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => {
            // Milliseconds: the first three digits, padded.
            let mut ms = 0;
            for i in 0..3 {
                ms = ms * 10 + f.as_bytes().get(i).map_or(0, |c| i64::from(c - b'0'));
            }
            ms
        }
        _ => return None,
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || min > 59
        || sec > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date: count whole years
/// from a March-based year (so that the leap day is the year's last day).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let march_month = (month + 9) % 12; // March = 0 .. February = 11
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day count since
/// 1970-01-01: the inverse of `days_from_civil`, by the same March-based
/// eras of 400 years.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// Writes Unix time `ms` as `YYYY-MM-DDTHH:MM:SSZ`, or with `.mmm` before
/// the `Z` when `millis`: the form `--now` reads back.
pub fn write_utc<W: std::io::Write>(o: &mut W, ms: i64, millis: bool) -> std::io::Result<()> {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    write!(
        o,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )?;
    if millis {
        write!(o, ".{:03}", ms.rem_euclid(1000))?;
    }
    o.write_all(b"Z")
}

/// [`write_utc`] of Unix seconds, as a string.
pub fn utc_seconds(t: i64) -> String {
    let mut v = Vec::with_capacity(20);
    // Writing into a Vec cannot fail.
    let _ = write_utc(&mut v, t.saturating_mul(1000), false);
    String::from_utf8(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_round_trips() {
        for ms in [
            0i64,
            -1,
            1_700_000_000_123,
            951_782_400_000,
            -62_135_596_800_000,
        ] {
            let mut v = Vec::new();
            write_utc(&mut v, ms, true).unwrap();
            let text = String::from_utf8(v).unwrap();
            assert_eq!(parse_time_ms(&text), Ok(ms), "{text}");
        }
        assert_eq!(utc_seconds(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn sizes() {
        let cases = [
            ("10", Some(10)),
            ("0", Some(0)),
            ("4G", Some(4 << 30)),
            ("512m", Some(512 << 20)),
            ("1K", Some(1024)),
            ("1kb", Some(1024)),
            ("2KiB", Some(2048)),
            ("3 MB", Some(3 << 20)),
            ("7b", Some(7)),
            ("1T", Some(1 << 40)),
            ("x", None),
            ("", None),
            ("1Q", None),
            ("-1", None),
            ("1.5K", None),
            ("99999999999999999999", None),
            ("20000000T", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_size(s).ok(), want, "{s}");
        }
    }

    #[test]
    fn times() {
        let cases = [
            ("0", Some(0)),
            ("1700000000", Some(1_700_000_000_000)),
            ("1700000000123ms", Some(1_700_000_000_123)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2000-03-01T00:00:00Z", Some(951_868_800_000)),
            ("2024-02-29T12:34:56Z", Some(1_709_210_096_000)),
            ("2100-01-01T00:00:00Z", Some(4_102_444_800_000)),
            ("2024-06-01T00:00:00.25Z", Some(1_717_200_000_250)),
            ("1969-12-31T23:59:59Z", Some(-1000)),
            ("2023-02-29T00:00:00Z", None),
            ("2024-06-01T00:00:00", None),
            ("2024-06-01T00:00:00+02:00", None),
            ("2024-13-01T00:00:00Z", None),
            ("yesterday", None),
            ("12ms3", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_time_ms(s).ok(), want, "{s}");
        }
    }
}
