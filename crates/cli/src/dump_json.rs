//! `rdbscope dump` of a JSON input: what `dump` itself wrote (JSON Lines or
//! one JSON document), read back record by record into owned records and
//! printed again, so that a dump can be filtered or re-laid-out without the
//! RDB it came from.

use crate::args::{DumpArgs, DumpFormat};
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_printer::{JsonPrinter, Layout, PrintError};
use rdbscope_rdb::glob::Glob;
use rdbscope_rdb::{KeyType, OwnedRecord, OwnedValue, Scratch};
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use crate::report::Outcome;

/// The JSON layout of the file at `path`, if its first non-space byte
/// says it is JSON. Standard input is left to the RDB/AOF path.
pub fn sniff_file(path: &Path) -> Option<JsonLayout> {
    if path.as_os_str() == "-" {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = [0u8; 256];
    let n = f.read(&mut head).ok()?;
    sniff(&head[..n])
}

fn type_of(v: &OwnedValue) -> KeyType {
    match v {
        OwnedValue::String(_) => KeyType::String,
        OwnedValue::List(_) => KeyType::List,
        OwnedValue::Set(_) => KeyType::Set,
        OwnedValue::Zset(_) => KeyType::ZSet,
        OwnedValue::Hash(_) => KeyType::Hash,
        OwnedValue::Stream(_) => KeyType::Stream,
        OwnedValue::Module(_) => KeyType::Module,
    }
}

/// Dumps the JSON input at `path` as `a` asks (JSON Lines or JSON).
pub fn run(path: &Path, layout: JsonLayout, a: &DumpArgs, name: &str) -> Outcome {
    if a.format == DumpFormat::Resp {
        eprintln!("rdbscope: {name}: --format resp needs an RDB or AOF input, not JSON (there is no RDB payload to RESTORE)");
        return Outcome::Failure;
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return crate::report::print_open_error(name, &e),
    };
    let out_layout = if a.format == DumpFormat::Json {
        Layout::Document
    } else {
        Layout::Lines
    };
    let mut p = JsonPrinter::new(io::stdout(), out_layout, Scratch::new());
    let glob = a.key.as_ref().map(|k| Glob::new(k.as_bytes()));
    let filtered = !a.dbs.is_empty() || !a.types.is_empty() || glob.is_some();
    let records_too = !a.keys_only && !filtered;
    let mut reader = JsonReader::new(BufReader::with_capacity(1 << 16, file), layout);
    let result = (|| -> Result<(), String> {
        while let Some(r) = reader.next_record().map_err(|e| e.to_string())? {
            let keep = match &r {
                OwnedRecord::Key(k) => {
                    (a.dbs.is_empty() || a.dbs.contains(&k.db))
                        && (a.types.is_empty() || a.types.contains(&type_of(&k.value)))
                        && glob.as_ref().is_none_or(|g| g.matches(&k.key))
                }
                _ => records_too,
            };
            if keep {
                p.owned_record(&r).map_err(|e| match e {
                    PrintError::Io(e) => format!("write error: {e}"),
                    PrintError::Rdb(e) => e.to_string(),
                })?;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => match p.finish().map(|mut w| w.flush()) {
            Ok(_) => Outcome::Ok,
            Err(PrintError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
            Err(e) => {
                eprintln!("rdbscope: {name}: write error: {e}");
                Outcome::Failure
            }
        },
        Err(msg) => {
            let _ = p.flush();
            eprintln!("rdbscope: {name}: {msg}");
            Outcome::Problem
        }
    }
}
