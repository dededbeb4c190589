//! `rdbscope dump`: records to JSON. AOF inputs go to `dump_aof`, JSON
//! inputs to `dump_json`.

use crate::args::{DumpArgs, DumpFormat};
use crate::options;
use crate::progress::Progress;
use crate::report::{print_error, Outcome};
use crate::source::{Kind, Streamed};
use rdbscope_engine::Source;
use rdbscope_input::{display_name, Mapped};
use rdbscope_printer::dump::{Format, KeyFilter as KeySelect, Options};
use rdbscope_printer::PrintError;
use rdbscope_rdb::KeyRecord;
use rdbscope_select::KeyFilter;
use std::io::Write;

/// The shared key filters as the printer asks them, one per thread.
pub(crate) struct Selected {
    filter: KeyFilter,
    key_buf: Vec<u8>,
    max_key_size: u64,
}

impl Selected {
    /// `filter` (with the file's time settled), decoding compressed keys
    /// of at most `max_key_size` bytes.
    pub(crate) fn new(filter: &KeyFilter, max_key_size: u64) -> Selected {
        Selected {
            filter: filter.clone(),
            key_buf: Vec::new(),
            max_key_size,
        }
    }
}

impl KeySelect for Selected {
    fn accepts(&mut self, k: &KeyRecord<'_>) -> rdbscope_rdb::Result<bool> {
        self.filter
            .matches_record(k, &mut self.key_buf, self.max_key_size)
    }

    fn done_after_match(&self) -> bool {
        self.filter.stops_after_match()
    }
}

pub fn run(a: &DumpArgs) -> Outcome {
    let name = display_name(&a.input);
    let restore_flags =
        a.rdb_version.is_some() || a.target.is_some() || a.replace || !a.drop.is_empty();
    let commands = a.format == DumpFormat::Commands;
    if restore_flags && a.format != DumpFormat::Resp && !commands {
        eprintln!("rdbscope: --rdb-version, --target, --drop and --replace shape RESTORE commands: they need --format resp (or commands)");
        return Outcome::Failure;
    }
    if commands && a.rdb_version.is_some() {
        eprintln!("rdbscope: --format commands writes commands, not RDB payloads: give --target SERVER instead of --rdb-version");
        return Outcome::Failure;
    }
    if let Err(outcome) = restore_or_usage(a) {
        return outcome;
    }
    if a.keys_only && matches!(a.format, DumpFormat::Resp | DumpFormat::Commands) {
        eprintln!("rdbscope: --keys-only prints key records without values, as JSON: --format resp needs the values (RESTORE payloads)");
        return Outcome::Failure;
    }
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&a.output, &[&a.input])?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    if a.salvage {
        let outcome = salvage_dump(a, &filter, &mut out);
        return options::finish_output(out, outcome, true);
    }
    // A single-file AOF arriving as a stream is read as it arrives (for
    // `--format commands`, replayed as it arrives).
    let opened = match crate::source::open_streaming(&a.input) {
        Ok(Streamed::Aof(s)) => {
            let outcome = crate::dump_aof::run_stream(s, a, &filter, &name, &mut out);
            return options::finish_output(out, outcome, false);
        }
        Ok(Streamed::Other(kind)) => Ok(kind),
        Err(e) => Err(e),
    };
    if (a.since.is_some() || a.until.is_some()) && !matches!(opened, Ok(Kind::Aof(_)) | Err(_)) {
        eprintln!("rdbscope: {name}: --since/--until select AOF commands by their #TS time: this input is not an AOF");
        return options::finish_output(out, Outcome::Failure, false);
    }
    let input = match opened {
        Ok(Kind::Rdb(i)) => i,
        Ok(Kind::Aof(aof)) => {
            let outcome = crate::dump_aof::run(&aof, a, &filter, &name, &mut out);
            return options::finish_output(out, outcome, false);
        }
        Ok(Kind::Json(input)) => {
            let outcome = crate::dump_json::run(input, a, &filter, &name, &mut out);
            return options::finish_output(out, outcome, false);
        }
        Err(e) => {
            let outcome = e.report(&name);
            return options::finish_output(out, outcome, false);
        }
    };
    let filter = options::settle_file_time(filter, input.head());
    let mut progress = Progress::for_input(&name, input.size(), input.progress());
    // The printer buffers and writes whole blocks itself.
    let result = input.with_source(|s| {
        dump_source(
            s,
            a,
            a.format,
            &filter,
            &mut |o| progress.at(o),
            &mut out,
            false,
        )
    });
    drop(progress);
    let outcome = match result {
        Ok(_) => Outcome::Ok,
        Err(e) => print_error(&name, &e),
    };
    options::finish_output(out, outcome, false)
}

/// Dumps the RDB in `input` (for an RDB-preamble AOF: its RDB part, whose
/// eof record counts the command tail as trailing bytes).
pub(crate) fn dump<W: Write + Send>(
    input: &Mapped,
    a: &DumpArgs,
    format: DumpFormat,
    filter: &KeyFilter,
    out: W,
) -> Result<(), PrintError> {
    let filter = options::settle_file_time(filter.clone(), input.bytes());
    let release = |offset: u64| input.release_before(offset);
    let source = Source::Mapped {
        bytes: input.bytes(),
        release: Some(&release),
    };
    dump_source(source, a, format, &filter, &mut |_| {}, out, false).map(drop)
}

/// Dumps the RDB preamble of an AOF arriving as `stream`, up to its
/// checksum; the EOF record's `trailing_bytes` is `null` (the commands
/// that follow are not counted first). Returns the offset past the
/// checksum and the bytes after it read from the stream already.
pub(crate) fn dump_preamble<W: Write>(
    stream: &mut rdbscope_input::Stream,
    a: &DumpArgs,
    filter: &KeyFilter,
    out: W,
) -> Result<(u64, Vec<u8>), PrintError> {
    // A stream that breaks within its first bytes breaks again in the
    // walk, which names the place.
    let head = crate::source::head_of(stream).unwrap_or_default();
    let filter = options::settle_file_time(filter.clone(), head);
    let source = Source::Stream(Box::new(stream));
    let stats = dump_source(source, a, a.format, &filter, &mut |_| {}, out, true)?;
    Ok((stats.end, stats.rest))
}

fn dump_source<W: Write>(
    source: Source<'_>,
    a: &DumpArgs,
    format: DumpFormat,
    filter: &KeyFilter,
    on_progress: &mut dyn FnMut(u64),
    out: W,
    stop_at_eof: bool,
) -> Result<rdbscope_printer::dump::Stats, PrintError> {
    let threads = crate::options::threads(a.jobs);
    let opts = Options {
        format: match format {
            DumpFormat::Jsonl => Format::JsonLines,
            DumpFormat::Json => Format::Json,
            DumpFormat::Resp | DumpFormat::Commands => Format::Resp,
        },
        // When any filter is given, only keys are printed.
        records_too: !a.keys_only && !filter.is_active(),
        values: !a.keys_only,
        max_decompressed: a.common.max_value_size,
        engine: rdbscope_engine::Options {
            threads,
            verify_checksum: !a.common.ignore_checksum,
            stop_at_eof,
            ..rdbscope_engine::Options::default()
        },
        restore: restore(a).map_err(|e| {
            PrintError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
        })?,
    };
    let max = a.common.max_value_size;
    let stats = rdbscope_printer::dump::dump(
        source,
        &opts,
        || Selected::new(filter, max),
        on_progress,
        out,
    )?;
    note_skipped(stats.skipped_empty);
    Ok(stats)
}

/// [`restore`], its error told as a usage error (exit 2).
pub(crate) fn restore_or_usage(a: &DumpArgs) -> Result<rdbscope_printer::resp::Restore, Outcome> {
    restore(a).map_err(|e| {
        eprintln!("rdbscope: {e}");
        Outcome::Failure
    })
}

/// How RESTORE commands are made: re-encoded for `--rdb-version` /
/// `--target`, with `--replace`.
pub(crate) fn restore(a: &DumpArgs) -> Result<rdbscope_printer::resp::Restore, String> {
    let (mut drop_field_ttl, mut drop_functions) = (false, false);
    for d in &a.drop {
        for w in d.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match w {
                "field-ttl" | "field-ttls" => drop_field_ttl = true,
                "functions" | "function" => drop_functions = true,
                _ => {
                    return Err(format!(
                        "--drop {w}: dump --format resp drops field-ttl or functions"
                    ))
                }
            }
        }
    }
    if a.format == DumpFormat::Commands {
        return Ok(rdbscope_printer::resp::Restore {
            target: None,
            drop_field_ttl,
            drop_functions,
            replace: a.replace,
            commands: Some(dialect(a.target.as_ref())),
        });
    }
    let target = if a.rdb_version.is_some() || a.target.is_some() {
        let (h, _) = crate::convert::target_header(a.rdb_version, a.target.as_ref())?;
        Some(rdbscope_rdb::write::encode::Target::new(h))
    } else {
        None
    };
    Ok(rdbscope_printer::resp::Restore {
        target,
        drop_field_ttl,
        drop_functions,
        replace: a.replace,
        commands: None,
    })
}

/// The commands `target` knows (Redis 7.4's when none is given).
pub(crate) fn dialect(
    target: Option<&rdbscope_digest::ServerVersion>,
) -> rdbscope_printer::commands::Dialect {
    use rdbscope_digest::Vendor;
    use rdbscope_printer::commands::Dialect;
    match target {
        None => Dialect::redis(7, 4),
        Some(t) => match t.vendor {
            Vendor::Redis => Dialect::redis(t.major, t.minor),
            Vendor::Valkey => Dialect::valkey(t.major, t.minor),
        },
    }
}

/// `dump --salvage`: the records of a damaged RDB the damage did not touch,
/// as JSON, with `{"record":"skipped"}` lines where bytes were skipped.
fn salvage_dump(a: &DumpArgs, filter: &KeyFilter, out: &mut rdbscope_select::Output) -> Outcome {
    if matches!(a.format, DumpFormat::Resp | DumpFormat::Commands) {
        eprintln!(
            "rdbscope: --salvage writes JSON (or, with convert --salvage, a new RDB): not RESP"
        );
        return Outcome::Failure;
    }
    let layout = if a.format == DumpFormat::Json {
        rdbscope_printer::Layout::Document
    } else {
        rdbscope_printer::Layout::Lines
    };
    let mut filter = filter.clone();
    let records_too = !a.keys_only && !filter.is_active();
    let mut p = rdbscope_printer::JsonPrinter::new(&mut *out, layout, rdbscope_rdb::Scratch::new());
    if a.keys_only {
        p = p.without_values();
    }
    let (outcome, skipped) = crate::salvage::run(&a.input, a.common.max_value_size, &mut |r| {
        let keep = match &r {
            rdbscope_rdb::OwnedRecord::Key(k) => filter.matches_owned(k),
            rdbscope_rdb::OwnedRecord::Aux { name, value } => {
                if name == b"ctime" {
                    if let Some(t) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                        filter.set_file_time(t);
                    }
                }
                records_too
            }
            _ => records_too,
        };
        if keep {
            p.owned_record(&r).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let finished = p.finish();
    match finished {
        Ok(w) => {
            if records_too && a.format == DumpFormat::Jsonl {
                let mut lines = Vec::new();
                for s in &skipped {
                    crate::salvage::skipped_json(s, &mut lines);
                }
                if let Err(e) = w.write_all(&lines) {
                    eprintln!("rdbscope: write error: {e}");
                    return Outcome::Failure;
                }
            }
            outcome
        }
        Err(e) => print_error(&display_name(&a.input), &e),
    }
}

fn note_skipped(skipped: u64) {
    if skipped > 0 && !options::quiet() {
        eprintln!(
            "rdbscope: note: {skipped} empty collection(s) left out (Redis skips them on load, RESTORE refuses them)"
        );
    }
}
