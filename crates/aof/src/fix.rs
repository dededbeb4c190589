//! Where to cut a damaged AOF so that the server loads it, decided the way
//! `redis-check-aof --fix` and `--truncate-to-timestamp` of Redis 7.0 decide
//! (docs/format.md#redis-check-aof), as a [`Plan`]: nothing here writes a
//! file. The command line turns a plan into a repaired copy.
//!
//! The rules, all from the checker's [`Report`]:
//! * the good position moves on only while no MULTI is open, so an
//!   unfinished transaction is dropped whole, a nested MULTI is cut at the
//!   outer MULTI and an EXEC without MULTI at that EXEC (`ok_up_to`);
//! * only the last file of a manifest may be cut: the server refuses a
//!   truncated base or incr file that others follow;
//! * a broken RDB preamble or base cannot be cut into shape, nor can a
//!   refused manifest or a missing file: those are refusals.
//!
//! With a timestamp, the cut is at the first `#TS:` annotation later than
//! it, with the checker's refusals: nothing before it in its file, not the
//! last file, a malformed annotation, or a file that is broken before it.

use crate::check::{Format, Report, Verdict};
use crate::resp::{Item, Kind, Reader};
use crate::source::Aof;
use std::path::PathBuf;

/// What to repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Cut off the broken tail (`--fix`).
    Fix,
    /// Cut at the first `#TS:` annotation later than this Unix time
    /// (`--truncate-to-timestamp`). As in `redis-check-aof`, 0 means no
    /// timestamp: nothing is cut for time, and a broken file is refused.
    ToTimestamp(i64),
}

/// Where a file is cut.
#[derive(Debug, Clone)]
pub struct Cut {
    /// Index of the file in load order (`Aof::parts`, `Report::files`).
    pub file: usize,
    /// The file's path.
    pub path: PathBuf,
    /// The file's name as the checker prints it.
    pub name: String,
    /// Its size now.
    pub size: u64,
    /// The offset everything from which is removed: the file's new size.
    pub at: u64,
    /// Why: the problem found there, or the annotation cut at.
    pub reason: String,
}

impl Cut {
    /// Bytes removed.
    pub fn removed(&self) -> u64 {
        self.size - self.at
    }
}

/// What a repair does.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Nothing to cut: every file is whole (or nothing is later than the
    /// timestamp). The string says which.
    Nothing(String),
    /// One file (the last) is cut.
    Cut(Cut),
}

/// Why an AOF cannot be repaired by cutting it.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The file concerned, when there is one.
    pub file: Option<String>,
    /// Where in it.
    pub offset: Option<u64>,
    /// What is wrong, and what the user can do.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.offset) {
            (Some(file), Some(o)) => write!(f, "{file}: offset {o}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

fn refuse(file: Option<&str>, offset: Option<u64>, message: String) -> Refusal {
    Refusal {
        file: file.map(str::to_string),
        offset,
        message,
    }
}

/// Decides the repair of `aof`, given its check `report` (from
/// [`crate::check()`], which must be of this `aof`).
pub fn plan(aof: &Aof, report: &Report, mode: Mode) -> Result<Plan, Refusal> {
    if let Some(e) = &report.manifest_error {
        return Err(refuse(
            report.manifest_path.as_deref(),
            None,
            format!("the server refuses this manifest ({e}); cutting files cannot repair it"),
        ));
    }
    match mode {
        Mode::Fix => plan_fix(report),
        Mode::ToTimestamp(t) => plan_timestamp(aof, report, t),
    }
}

/// The refusals every mode shares for a file that is not whole.
fn unfixable(f: &crate::check::FileReport) -> Option<Refusal> {
    let p = f.problem.as_ref();
    let offset = p.map(|p| p.offset);
    if f.verdict == Verdict::MissingFile {
        let why = p.map_or("missing".to_string(), |p| p.message.clone());
        return Some(refuse(Some(&f.part.name), None, why));
    }
    if f.format == Format::Rdb && p.is_some_and(|p| p.kind == "rdb") {
        return Some(refuse(
            Some(&f.part.name),
            offset,
            format!(
                "{}; a broken RDB {} cannot be repaired by cutting the file (redis-check-aof: \"RDB preamble of AOF file is not sane, aborting.\")",
                p.map_or("", |p| p.message.as_str()),
                if f.part.file_type.is_some() { "base" } else { "preamble" }
            ),
        ));
    }
    None
}

fn plan_fix(report: &Report) -> Result<Plan, Refusal> {
    let Some((i, f)) = report
        .files
        .iter()
        .enumerate()
        .find(|(_, f)| !f.verdict.is_ok())
    else {
        return Ok(Plan::Nothing(if report.size() == 0 {
            "the AOF is empty".to_string()
        } else {
            "the AOF is valid".to_string()
        }));
    };
    if let Some(r) = unfixable(f) {
        return Err(r);
    }
    if !f.part.last {
        return Err(refuse(
            Some(&f.part.name),
            Some(f.ok_up_to),
            format!(
                "broken at offset {} ({}), but it is not the last file of the AOF: the server loads only a cut last file (redis-check-aof: \"Failed to truncate AOF {} because it is not the last file\")",
                f.ok_up_to,
                f.problem.as_ref().map_or("", |p| p.message.as_str()),
                f.part.name
            ),
        ));
    }
    Ok(Plan::Cut(Cut {
        file: i,
        path: f.part.path.to_path_buf(),
        name: f.part.name.to_string(),
        size: f.size,
        at: f.ok_up_to,
        reason: f.problem.as_ref().map_or_else(String::new, |p| {
            format!("offset {}: {}", p.offset, p.message)
        }),
    }))
}

fn plan_timestamp(aof: &Aof, report: &Report, t: i64) -> Result<Plan, Refusal> {
    for (i, (f, part)) in report.files.iter().zip(aof.parts()).enumerate() {
        if let Some(r) = unfixable(f) {
            return Err(r);
        }
        if f.verdict == Verdict::Empty {
            continue;
        }
        if t != 0 {
            let opened;
            let bytes = match aof {
                Aof::Single { input, .. } => input.bytes(),
                _ => {
                    opened = rdbscope_input::open_whole(&part.path)
                        .map_err(|e| refuse(Some(&part.name), None, format!("cannot open: {e}")))?;
                    opened.bytes()
                }
            };
            if let Some(at) = first_later(bytes, f.resp_start as usize, t)
                .map_err(|o| refuse(Some(&part.name), Some(o), "invalid timestamp annotation (redis-check-aof: \"Invalid timestamp annotation\")".to_string()))?
            {
                if at == 0 {
                    return Err(refuse(
                        Some(&part.name),
                        Some(0),
                        format!("nothing before timestamp {t}: the file starts with a later #TS annotation (redis-check-aof: \"AOF {} has nothing before timestamp {t}, aborting...\")", part.name),
                    ));
                }
                if !part.last {
                    return Err(refuse(
                        Some(&part.name),
                        Some(at),
                        format!("the first #TS annotation later than {t} is at offset {at}, but this is not the last file of the AOF; delete the files after it from the directory and the manifest by hand, then repair again (as redis-check-aof says)"),
                    ));
                }
                return Ok(Plan::Cut(Cut {
                    file: i,
                    path: part.path.to_path_buf(),
                    name: part.name.to_string(),
                    size: f.size,
                    at,
                    reason: format!("offset {at}: the first #TS annotation later than {t}"),
                }));
            }
        }
        if !f.verdict.is_ok() {
            return Err(refuse(
                Some(&part.name),
                f.problem.as_ref().map(|p| p.offset),
                format!(
                    "the file is not valid ({}); repair it with `rdbscope fix` without --truncate-to-timestamp first (redis-check-aof: \"AOF {} is not valid. Use the --fix option to try fixing it.\")",
                    f.problem.as_ref().map_or("", |p| p.message.as_str()),
                    part.name
                ),
            ));
        }
    }
    Ok(Plan::Nothing(format!(
        "nothing in the AOF is later than timestamp {t}"
    )))
}

/// The offset of the first `#TS:` annotation later than `t` in the
/// command part of `bytes` (from `start`), read in the checker's order:
/// annotations are seen until the first broken command, nested MULTI or
/// EXEC without MULTI. `Err(offset)` for a malformed `#TS:` annotation.
fn first_later(bytes: &[u8], start: usize, t: i64) -> Result<Option<u64>, u64> {
    let mut reader = Reader::new(bytes, start);
    let mut multi = false;
    while let Some(item) = reader.read() {
        match item {
            Err(_) => break,
            Ok(Item::Command(c)) => match c.kind {
                Kind::Multi if multi => break,
                Kind::Multi => multi = true,
                Kind::Exec if !multi => break,
                Kind::Exec => multi = false,
                Kind::Other | Kind::Select => {}
            },
            Ok(Item::Annotation(a)) => {
                if !a.text.starts_with(b"TS:") {
                    continue;
                }
                let line = &bytes[a.offset as usize..a.offset as usize + a.len];
                match parse_ts(&line[4..]) {
                    Some(ts) if ts <= t => {}
                    Some(_) => return Ok(Some(a.offset)),
                    None => return Err(a.offset),
                }
            }
        }
    }
    Ok(None)
}

/// A `#TS:` annotation's time as the checker reads it: C's `strtol` in
/// base 10 (leading white space, a sign, digits, no overflow), which must
/// stop at a `\r`.
fn parse_ts(s: &[u8]) -> Option<i64> {
    let mut i = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(s.len());
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i.min(s.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        // No number: strtol stops where it started, at the first byte.
        return (s.first() == Some(&b'\r')).then_some(0);
    }
    let mut v: i64 = 0;
    for &d in &s[i..i + digits] {
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    (s.get(i + digits) == Some(&b'\r')).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_strtol_does() {
        assert_eq!(parse_ts(b"1700000000\r\n"), Some(1700000000));
        assert_eq!(parse_ts(b" +12\r\n"), Some(12));
        assert_eq!(parse_ts(b"-3\r\n"), Some(-3));
        assert_eq!(parse_ts(b"\r\n"), Some(0));
        assert_eq!(parse_ts(b"12\n"), None);
        assert_eq!(parse_ts(b"12x\r\n"), None);
        assert_eq!(parse_ts(b"x\r\n"), None);
        assert_eq!(parse_ts(b"99999999999999999999\r\n"), None);
    }

    #[test]
    fn the_first_later_annotation_is_found_in_order() {
        let aof = b"#TS:10\r\n*1\r\n$5\r\nMULTI\r\n#TS:20\r\n*1\r\n$4\r\nEXEC\r\n#TS:30\r\n";
        assert_eq!(first_later(aof, 0, 5), Ok(Some(0)));
        assert_eq!(first_later(aof, 0, 10), Ok(Some(23)));
        assert_eq!(first_later(aof, 0, 20), Ok(Some(45)));
        assert_eq!(first_later(aof, 0, 30), Ok(None));
        // After a nested MULTI the checker stops reading.
        let nested = b"*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n#TS:20\r\n";
        assert_eq!(first_later(nested, 0, 1), Ok(None));
        assert_eq!(first_later(b"#TS:1x\r\n", 0, 0), Err(0));
    }
}
