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
    let restore = match crate::dump::restore_or_usage(a) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    run_to(input, a.format, a.keys_only, &restore, filter, name, out)
}

/// [`run`] onto any writer, with the two choices it takes from `dump`'s
/// arguments (`convert` writes JSON through it too).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_to<W: Write>(
    input: Input,
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
    let mut input = input;
    let layout = match input.head() {
        Ok(head) => sniff(head).unwrap_or(JsonLayout::Lines),
        Err(e) => {
            eprintln!("rdbscope: {name}: read error: {e}");
            return Outcome::Problem;
        }
    };
    let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
    let mut next = || reader.next_record().map_err(|e| e.to_string());
    records_to(&mut next, format, keys_only, restore, filter, name, out)
}

/// Owned records (a JSON dump's, a replayed AOF's) printed as `dump`
/// prints them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn records_to<W: Write>(
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
    format: DumpFormat,
    keys_only: bool,
    restore: &rdbscope_printer::resp::Restore,
    filter: &KeyFilter,
    name: &str,
    out: W,
) -> Outcome {
    if format == DumpFormat::Commands {
        return commands(next, restore, filter, name, out);
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
    let result = each_record(next, &mut filter, |_| records_too, |r| p.owned_record(r));
    // On a problem, what was read before it is still written.
    let finished = match result {
        Ok(()) => Some(p.finish().and_then(|mut w| Ok(w.flush()?))),
        Err(_) => p.flush().err().map(Err),
    };
    outcome(name, result, finished)
}

/// Reads every record of `reader`, giving `print` the keys `filter`
/// selects and the other records `other` keeps; the file's `ctime` AUX
/// field becomes the filter's time (the default `--now`, as for an RDB).
fn each_record(
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
    filter: &mut KeyFilter,
    other: impl Fn(&OwnedRecord) -> bool,
    mut print: impl FnMut(&OwnedRecord) -> Result<(), PrintError>,
) -> Result<(), String> {
    while let Some(r) = next()? {
        if let OwnedRecord::Aux { name, value } = &r {
            if name == b"ctime" {
                if let Some(t) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    filter.set_file_time(t);
                }
            }
        }
        let keep = match &r {
            OwnedRecord::Key(k) => filter.matches_owned(k),
            r => other(r),
        };
        if keep {
            print(&r).map_err(|e| match e {
                // What a target cannot hold, named by key (no offset).
                PrintError::Io(e) if e.kind() == io::ErrorKind::InvalidInput => e.to_string(),
                PrintError::Io(e) => format!("write error: {e}"),
                PrintError::Rdb(e) => e.to_string(),
            })?;
        }
    }
    Ok(())
}

/// The outcome of a dump: the reading `result`, and when it went well
/// how the output was `finished` (a closed pipe is fine).
fn outcome(
    name: &str,
    result: Result<(), String>,
    finished: Option<Result<(), PrintError>>,
) -> Outcome {
    match (result, finished) {
        (Ok(()), Some(Ok(()))) | (Ok(()), None) => Outcome::Ok,
        (Ok(()), Some(Err(PrintError::Io(e)))) if e.kind() == io::ErrorKind::BrokenPipe => {
            Outcome::Ok
        }
        (Ok(()), Some(Err(e))) => {
            eprintln!("rdbscope: {name}: write error: {e}");
            Outcome::Failure
        }
        (Err(msg), _) => {
            eprintln!("rdbscope: {name}: {msg}");
            Outcome::Problem
        }
    }
}

/// The JSON input's keys as the plain commands of a server's AOF rewrite
/// (`--format commands`, `convert --to aof`), with its function libraries.
fn commands<W: Write>(
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
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
    // Functions when the whole dataset is written; no other record has a
    // command.
    let whole = !filter.is_active();
    let result = each_record(
        next,
        &mut filter,
        |r| whole && matches!(r, OwnedRecord::Function { .. }),
        |r| p.owned_record(r),
    );
    // On a problem, what was read before it is still written.
    let finished = match result {
        Ok(()) => Some(p.finish().and_then(|mut w| Ok(w.flush()?))),
        Err(_) => p.flush().err().map(Err),
    };
    outcome(name, result, finished)
}
