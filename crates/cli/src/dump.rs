//! `rdbscope dump`: records to JSON. AOF inputs go to `dump_aof`.

use crate::args::{DumpArgs, DumpFormat};
use crate::progress::Progress;
use crate::report::{print_error, print_open_error, Outcome};
use rdbscope_aof::Opened;
use rdbscope_printer::parallel::{print_parallel, Format};
use rdbscope_printer::{JsonPrinter, Layout, PrintError, RespPrinter};
use rdbscope_rdb::glob::Glob;
use rdbscope_rdb::input::{display_name, Input, WORKER_LAG};
use rdbscope_rdb::{KeyRecord, Rdb, Record, Records, Scratch};
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
    if let Some(layout) = crate::dump_json::sniff_file(&a.input) {
        return crate::dump_json::run(&a.input, layout, a, &name);
    }
    let input = match rdbscope_aof::open(&a.input) {
        Ok(Opened::Rdb(i)) => i,
        Ok(Opened::Aof(aof)) => return crate::dump_aof::run(&aof, a, &name),
        Err(e) => return print_open_error(&name, &e),
    };
    // The printer buffers and writes whole blocks itself.
    match dump(&input, a, io::stdout()) {
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
                note_skipped(skipped);
                Ok(())
            }
        }
    }
}

/// Dumps the RDB in `input` (for an RDB-preamble AOF: its RDB part, whose
/// eof record counts the command tail as trailing bytes).
pub(crate) fn dump<W: Write + Send>(
    input: &Input,
    a: &DumpArgs,
    mut out: W,
) -> Result<(), PrintError> {
    let rdb = Rdb::new(input.bytes())?.verify_checksum(!a.common.ignore_checksum);
    let filter = Filter::new(a);
    let records_too = !a.keys_only && !filter.any();
    let threads = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let parallel = threads > 1 && a.format != DumpFormat::Json;
    let walk = Walk::new(input, &rdb, filter, records_too, parallel);
    if parallel {
        let format = match a.format {
            DumpFormat::Resp => Format::Resp(rdb.header()),
            _ => {
                if records_too {
                    let mut p = JsonPrinter::new(&mut out, Layout::Lines, Scratch::new());
                    p.header(&rdb.header())?;
                    p.finish()?;
                }
                Format::JsonLines
            }
        };
        let stats = print_parallel(walk, format, threads, a.common.max_value_size, out)?;
        note_skipped(stats.skipped_empty);
        return Ok(());
    }
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
    let mut result = Ok(());
    for r in walk {
        if let Err(e) = r.and_then(|r| printer.record(&r)) {
            result = Err(e);
            break;
        }
    }
    match result {
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

fn note_skipped(skipped: u64) {
    if skipped > 0 {
        eprintln!(
            "rdbscope: note: {skipped} empty collection(s) left out (Redis skips them on load, RESTORE refuses them)"
        );
    }
}

/// The records to print, in file order: filtered, with pages behind the
/// walk released and progress shown as it goes.
struct Walk<'i, 'a> {
    input: &'i Input,
    records: Records<'a>,
    filter: Filter,
    records_too: bool,
    /// Bytes behind the walk kept mapped, for records still being
    /// rendered on other threads.
    lag: u64,
    progress: Progress,
    done: bool,
}

impl<'i, 'a> Walk<'i, 'a> {
    fn new(
        input: &'i Input,
        rdb: &Rdb<'a>,
        filter: Filter,
        records_too: bool,
        parallel: bool,
    ) -> Self {
        Walk {
            input,
            records: rdb.records(),
            filter,
            records_too,
            lag: if parallel { WORKER_LAG } else { 0 },
            progress: Progress::new(input.name(), input.bytes().len() as u64),
            done: false,
        }
    }
}

impl<'a> Iterator for Walk<'_, 'a> {
    type Item = Result<Record<'a>, PrintError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let r = match self.records.next()? {
                Ok(r) => r,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            };
            // Pages behind the walk are not needed again: keep memory flat.
            let settled = self.records.settled_offset();
            self.input.release_before(settled.saturating_sub(self.lag));
            self.progress.at(self.records.offset());
            match &r {
                Record::Key(k) => match self.filter.accepts(k) {
                    Ok(true) => {
                        self.done = self.filter.done_after_match();
                        return Some(Ok(r));
                    }
                    Ok(false) => {}
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e.into()));
                    }
                },
                _ if self.records_too => return Some(Ok(r)),
                _ => {}
            }
        }
        None
    }
}
