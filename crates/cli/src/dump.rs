//! `rdbscope dump`: records to JSON.

use crate::args::{DumpArgs, DumpFormat};
use crate::progress::Progress;
use crate::report::{print_error, print_open_error, Outcome};
use rdbscope_printer::{JsonPrinter, Layout, PrintError, RespPrinter};
use rdbscope_rdb::glob::Glob;
use rdbscope_rdb::input::{display_name, Input};
use rdbscope_rdb::{KeyRecord, Rdb, Record, Scratch};
use std::io::{self, Write};

/// Which keys to print.
struct Filter {
    dbs: Vec<u64>,
    types: Vec<rdbscope_rdb::KeyType>,
    key: Option<Glob>,
    /// The pattern has no glob characters: one key per db at most.
    exact: bool,
    key_buf: Vec<u8>,
}

impl Filter {
    fn new(a: &DumpArgs) -> Filter {
        let exact = a
            .key
            .as_deref()
            .is_some_and(|k| !k.contains(['*', '?', '[', '\\']));
        Filter {
            dbs: a.dbs.clone(),
            types: a.types.clone(),
            key: a.key.as_ref().map(|k| Glob::new(k.as_bytes())),
            exact,
            key_buf: Vec::new(),
        }
    }

    fn any(&self) -> bool {
        !self.dbs.is_empty() || !self.types.is_empty() || self.key.is_some()
    }

    /// Cheapest tests first: db and type need no decoding.
    fn accepts(&mut self, k: &KeyRecord<'_>) -> rdbscope_rdb::Result<bool> {
        if !self.dbs.is_empty() && !self.dbs.contains(&k.db) {
            return Ok(false);
        }
        if !self.types.is_empty() && !self.types.contains(&k.value.key_type()) {
            return Ok(false);
        }
        match &self.key {
            None => Ok(true),
            Some(g) => Ok(g.matches(k.key.bytes(&mut self.key_buf)?)),
        }
    }

    /// After a match, whether no later key can match: an exact key in the
    /// only selected db.
    fn done_after_match(&self) -> bool {
        self.exact && self.dbs.len() == 1
    }
}

pub fn run(a: &DumpArgs) -> Outcome {
    let name = display_name(&a.input);
    let input = match Input::open(&a.input) {
        Ok(i) => i,
        Err(e) => return print_open_error(&name, &e),
    };
    // The printer buffers and writes whole blocks itself.
    match dump(&input, a, io::stdout().lock()) {
        Ok(()) => Outcome::Ok,
        Err(e) => print_error(&name, &e),
    }
}

/// Where records go: JSON or RESP.
enum Printer<W: Write> {
    Json(JsonPrinter<W>),
    Resp(RespPrinter<W>),
}

impl<W: Write> Printer<W> {
    fn key(&mut self, k: &KeyRecord<'_>) -> Result<(), PrintError> {
        match self {
            Printer::Json(p) => p.key(k),
            Printer::Resp(p) => p.key(k),
        }
    }

    fn record(&mut self, r: &Record<'_>) -> Result<(), PrintError> {
        match self {
            Printer::Json(p) => p.record(r),
            Printer::Resp(p) => p.record(r),
        }
    }

    fn flush(&mut self) -> Result<(), PrintError> {
        match self {
            Printer::Json(p) => p.flush(),
            Printer::Resp(p) => p.flush(),
        }
    }

    fn finish(self) -> Result<(), PrintError> {
        match self {
            Printer::Json(p) => p.finish().map(drop),
            Printer::Resp(p) => {
                let skipped = p.skipped_empty();
                p.finish()?;
                if skipped > 0 {
                    eprintln!(
                        "rdbscope: note: {skipped} empty collection(s) left out (Redis skips them on load, RESTORE refuses them)"
                    );
                }
                Ok(())
            }
        }
    }
}

fn dump<W: Write>(input: &Input, a: &DumpArgs, out: W) -> Result<(), PrintError> {
    let rdb = Rdb::new(input.bytes())?.verify_checksum(!a.common.ignore_checksum);
    let filter = Filter::new(a);
    let records_too = !a.keys_only && !filter.any();
    let mut printer = match a.format {
        DumpFormat::Resp => Printer::Resp(RespPrinter::new(out, &rdb.header())),
        DumpFormat::Jsonl | DumpFormat::Json => {
            let layout = if a.format == DumpFormat::Json {
                Layout::Document
            } else {
                Layout::Lines
            };
            let scratch = Scratch::with_limit(a.common.max_value_size);
            let mut p = JsonPrinter::new(out, layout, scratch);
            if records_too {
                p.header(&rdb.header())?;
            }
            Printer::Json(p)
        }
    };
    match walk(input, &rdb, filter, records_too, &mut printer) {
        Ok(()) => printer.finish(),
        Err(e) => {
            // Keep every complete record read before the problem; then
            // report it. (A `--format json` document stays unterminated, so
            // no reader mistakes it for a whole file.)
            if let Err(PrintError::Io(io)) = printer.flush() {
                return Err(PrintError::Io(io));
            }
            Err(e)
        }
    }
}

fn walk<W: Write>(
    input: &Input,
    rdb: &Rdb<'_>,
    mut filter: Filter,
    records_too: bool,
    printer: &mut Printer<W>,
) -> Result<(), PrintError> {
    let mut records = rdb.records();
    let mut progress = Progress::new(input.name(), input.bytes().len() as u64);
    while let Some(r) = records.next() {
        let r = r?;
        match &r {
            Record::Key(k) if filter.accepts(k)? => {
                printer.key(k)?;
                if filter.done_after_match() {
                    break;
                }
            }
            Record::Key(_) => {}
            _ if records_too => printer.record(&r)?,
            _ => {}
        }
        // Pages behind the walk are not needed again: keep memory flat.
        input.release_before(records.offset());
        progress.at(records.offset());
    }
    Ok(())
}
