//! `rdbscope dump`: records to JSON.

use crate::args::{DumpArgs, DumpFormat};
use crate::report::{print_error, print_open_error, Outcome};
use rdbscope_printer::{JsonPrinter, Layout, PrintError};
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

fn dump<W: Write>(input: &Input, a: &DumpArgs, out: W) -> Result<(), PrintError> {
    let layout = match a.format {
        DumpFormat::Jsonl => Layout::Lines,
        DumpFormat::Json => Layout::Document,
    };
    let scratch = Scratch::with_limit(a.common.max_value_size);
    let mut printer = JsonPrinter::new(out, layout, scratch);
    match walk(input, a, &mut printer) {
        Ok(()) => {
            printer.finish()?;
            Ok(())
        }
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
    a: &DumpArgs,
    printer: &mut JsonPrinter<W>,
) -> Result<(), PrintError> {
    let mut filter = Filter::new(a);
    let records_too = !a.keys_only && !filter.any();
    let rdb = Rdb::new(input.bytes())?.verify_checksum(!a.common.ignore_checksum);
    if records_too {
        printer.header(&rdb.header())?;
    }
    let mut records = rdb.records();
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
    }
    Ok(())
}
