//! `rdbscope dump`: records to JSON. AOF inputs go to `dump_aof`.

use crate::args::{DumpArgs, DumpFormat};
use crate::options;
use crate::progress::Progress;
use crate::report::{print_error, print_open_error, Outcome};
use rdbscope_aof::Opened;
use rdbscope_printer::parallel::{print_parallel, Format};
use rdbscope_printer::{JsonPrinter, Layout, PrintError, RespPrinter};
use rdbscope_rdb::input::{display_name, Input, WORKER_LAG};
use rdbscope_rdb::{Rdb, Record, Records, Scratch};
use rdbscope_select::{KeyFilter, RecordFilter};
use std::io::Write;

pub fn run(a: &DumpArgs) -> Outcome {
    let name = display_name(&a.input);
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&a.output, &[&a.input])?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    if let Some(layout) = crate::dump_json::sniff_file(&a.input) {
        let outcome = crate::dump_json::run(&a.input, layout, a, &filter, &name, &mut out);
        return options::finish_output(out, outcome, false);
    }
    let input = match rdbscope_aof::open(&a.input) {
        Ok(Opened::Rdb(i)) => i,
        Ok(Opened::Aof(aof)) => {
            let outcome = crate::dump_aof::run(&aof, a, &filter, &name, &mut out);
            return options::finish_output(out, outcome, false);
        }
        Err(e) => return print_open_error(&name, &e),
    };
    let outcome = match dump(&input, a, &filter, &mut out) {
        Ok(()) => Outcome::Ok,
        Err(e) => print_error(&name, &e),
    };
    options::finish_output(out, outcome, false)
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
    filter: &KeyFilter,
    mut out: W,
) -> Result<(), PrintError> {
    let rdb = Rdb::new(input.bytes())?.verify_checksum(!a.common.ignore_checksum);
    // When any filter is given, only keys are printed.
    let records_too = !a.keys_only && !filter.is_active();
    let filter =
        RecordFilter::new(filter.clone(), records_too).with_max_key_size(a.common.max_value_size);
    let threads = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let parallel = threads > 1 && a.format != DumpFormat::Json;
    let walk = Walk::new(input, &rdb, filter, parallel);
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
    if skipped > 0 && !options::quiet() {
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
    filter: RecordFilter,
    /// Bytes behind the walk kept mapped, for records still being
    /// rendered on other threads.
    lag: u64,
    progress: Progress,
    done: bool,
}

impl<'i, 'a> Walk<'i, 'a> {
    fn new(input: &'i Input, rdb: &Rdb<'a>, filter: RecordFilter, parallel: bool) -> Self {
        Walk {
            input,
            records: rdb.records(),
            filter,
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
            match self.filter.keep(&r) {
                Ok(true) => {
                    self.done = self.filter.is_done();
                    return Some(Ok(r));
                }
                Ok(false) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            }
        }
        None
    }
}
