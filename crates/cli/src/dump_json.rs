//! `rdbscope dump` of a JSON input: what `dump` itself wrote (JSON Lines or
//! one JSON document), read back record by record into owned records and
//! printed again, so that a dump can be filtered or re-laid-out without the
//! RDB it came from.

use crate::args::{DumpArgs, DumpFormat};
use rdbscope_input::Input;
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_printer::{JsonPrinter, Layout, PrintError};
use rdbscope_rdb::{OwnedRecord, Scratch};
use rdbscope_select::{KeyFilter, Output};
use std::io::{self, Write};

use crate::report::Outcome;

/// Dumps the JSON input (a file, standard input, compressed or not) as
/// `a` asks (JSON Lines or JSON), the keys `filter` selects, to `out`.
pub fn run(
    input: Input,
    a: &DumpArgs,
    filter: &KeyFilter,
    name: &str,
    out: &mut Output,
) -> Outcome {
    let restore = match crate::dump::restore(a) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rdbscope: {e}");
            return Outcome::Failure;
        }
    };
    run_to(input, a.format, a.keys_only, &restore, filter, name, out)
}

/// [`run`] onto any writer, with the two choices it takes from `dump`'s
/// arguments (`convert` writes JSON through it too).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_to<W: Write>(
    mut input: Input,
    format: DumpFormat,
    keys_only: bool,
    restore: &rdbscope_printer::resp::Restore,
    filter: &KeyFilter,
    name: &str,
    out: W,
) -> Outcome {
    if format == DumpFormat::Resp {
        eprintln!("rdbscope: {name}: --format resp needs an RDB or AOF input, not JSON (there is no RDB payload to RESTORE)");
        return Outcome::Failure;
    }
    if filter.uses_stored_size() {
        eprintln!("rdbscope: {name}: --min-size/--max-size need an RDB or AOF input: a JSON dump does not hold the values' stored sizes");
        return Outcome::Failure;
    }
    // The input's content said JSON, so its first bytes do.
    let layout = match input.head() {
        Ok(head) => sniff(head).unwrap_or(JsonLayout::Lines),
        Err(e) => {
            eprintln!("rdbscope: {name}: read error: {e}");
            return Outcome::Problem;
        }
    };
    if format == DumpFormat::Commands {
        return commands(input, layout, restore, filter, name, out);
    }
    let out_layout = if format == DumpFormat::Json {
        Layout::Document
    } else {
        Layout::Lines
    };
    let mut filter = filter.clone();
    let mut p = JsonPrinter::new(out, out_layout, Scratch::new());
    if keys_only {
        p = p.without_values();
    }
    let records_too = !keys_only && !filter.is_active();
    let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
    let result = (|| -> Result<(), String> {
        while let Some(r) = reader.next_record().map_err(|e| e.to_string())? {
            let keep = match &r {
                OwnedRecord::Key(k) => filter.matches_owned(k),
                OwnedRecord::Aux { name, value } => {
                    // The file's time, the default `--now` (as for an RDB).
                    if name == b"ctime" {
                        if let Some(t) =
                            std::str::from_utf8(value).ok().and_then(|v| v.parse().ok())
                        {
                            filter.set_file_time(t);
                        }
                    }
                    records_too
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

/// The JSON input's keys as the plain commands of a server's AOF rewrite
/// (`--format commands`, `convert --to aof`), with its function libraries.
fn commands<W: Write>(
    input: Input,
    layout: JsonLayout,
    restore: &rdbscope_printer::resp::Restore,
    filter: &KeyFilter,
    name: &str,
    out: W,
) -> Outcome {
    let header = rdbscope_rdb::Header {
        flavor: rdbscope_rdb::Flavor::Redis,
        version: 0,
    };
    let mut p = rdbscope_printer::RespPrinter::new(out, &header).with_restore(*restore);
    let mut filter = filter.clone();
    let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
    let result = (|| -> Result<(), String> {
        while let Some(r) = reader.next_record().map_err(|e| e.to_string())? {
            let keep = match &r {
                OwnedRecord::Key(k) => filter.matches_owned(k),
                OwnedRecord::Aux { name, value } => {
                    if name == b"ctime" {
                        if let Some(t) =
                            std::str::from_utf8(value).ok().and_then(|v| v.parse().ok())
                        {
                            filter.set_file_time(t);
                        }
                    }
                    false
                }
                // Functions when the whole dataset is written.
                OwnedRecord::Function { .. } => !filter.is_active(),
                _ => false,
            };
            if keep {
                p.owned_record(&r).map_err(|e| match e {
                    PrintError::Io(e) if e.kind() == io::ErrorKind::InvalidInput => e.to_string(),
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
