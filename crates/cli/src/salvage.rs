//! `--salvage` of `dump` and `convert`: a damaged RDB read record by record
//! (`rdbscope_rdb::salvage`), every record the damage did not touch given
//! on, every skipped byte range reported (on stderr, and in JSON output as
//! `{"record":"skipped",...}` lines) with the keys before and after it.

use crate::report::Outcome;
use rdbscope_input::display_name;
use rdbscope_json::write::write_bytes;
use rdbscope_rdb::salvage::{salvage_checked, Skipped};
use rdbscope_rdb::OwnedRecord;
use std::io::Write;
use std::path::Path;

/// Records that must decode in a row from a place for it to count as a
/// record boundary after damage.
pub const CONFIRM: usize = 3;

fn key_text(k: &Option<(u64, Vec<u8>)>) -> String {
    match k {
        None => "none".into(),
        Some((db, key)) => {
            let mut v = Vec::new();
            let _ = write_bytes(&mut v, key);
            format!("{} (db {db})", String::from_utf8_lossy(&v))
        }
    }
}

/// The JSON line of a skipped range.
pub fn skipped_json(s: &Skipped, out: &mut Vec<u8>) {
    let key = |o: &mut Vec<u8>, k: &Option<(u64, Vec<u8>)>| match k {
        None => o.extend_from_slice(b"null"),
        Some((db, key)) => {
            let _ = write!(o, "{{\"db\":{db},\"key\":");
            let _ = write_bytes(o, key);
            o.push(b'}');
        }
    };
    let _ = write!(
        out,
        "{{\"record\":\"skipped\",\"from\":{},\"to\":{},\"bytes\":{},\"error\":",
        s.from,
        s.to,
        s.to - s.from
    );
    let _ = rdbscope_json::write::write_json_str(out, &s.error);
    out.extend_from_slice(b",\"key_before\":");
    key(out, &s.key_before);
    out.extend_from_slice(b",\"key_after\":");
    key(out, &s.key_after);
    out.extend_from_slice(b"}\n");
}

/// Reads `path` whole and salvages it, giving each record to `on_record`;
/// reports the skipped ranges on stderr. The outcome: OK when nothing was
/// skipped, a problem when something was (or the header is unreadable).
pub fn run(
    path: &Path,
    max_decompressed: u64,
    on_record: &mut dyn FnMut(OwnedRecord) -> Result<(), String>,
) -> (Outcome, Vec<Skipped>) {
    let name = display_name(path);
    let input = match rdbscope_input::open_whole(path) {
        Ok(i) => i,
        Err(e) => return (crate::report::print_open_error(&name, &e), Vec::new()),
    };
    // What a server checks when it loads a value (deep sanitization), so
    // that what is given back loads.
    let mut checker = rdbscope_check::ValueChecker::default();
    let mut rules = |k: &rdbscope_rdb::KeyRecord<'_>, s: &mut rdbscope_rdb::Scratch| {
        checker.check_value(&k.value, s).map(drop)
    };
    match salvage_checked(
        input.bytes(),
        CONFIRM,
        max_decompressed,
        &mut rules,
        on_record,
    ) {
        Err(e) => {
            eprintln!("rdbscope: {name}: {e}");
            (Outcome::Problem, Vec::new())
        }
        Ok((_, Err(e))) => {
            eprintln!("rdbscope: {name}: {e}");
            (Outcome::Failure, Vec::new())
        }
        Ok((found, Ok(()))) => {
            for s in &found.skipped {
                eprintln!(
                    "rdbscope: {name}: skipped bytes {}..{} ({} bytes): {}; last key before: {}; first key after: {}",
                    s.from,
                    s.to,
                    s.to - s.from,
                    s.error,
                    key_text(&s.key_before),
                    key_text(&s.key_after)
                );
            }
            if !crate::options::quiet() {
                eprintln!(
                    "rdbscope: {name}: salvaged {} keys ({} records); {} damaged ranges skipped",
                    found.keys,
                    found.records,
                    found.skipped.len()
                );
            }
            if found.checksum_mismatch {
                eprintln!(
                    "rdbscope: {name}: every record decoded, but the CRC-64 does not match: some value's content changed in a way that still decodes (salvage cannot tell which)"
                );
            }
            let outcome = if found.skipped.is_empty() && !found.checksum_mismatch {
                Outcome::Ok
            } else {
                Outcome::Problem
            };
            (outcome, found.skipped)
        }
    }
}
