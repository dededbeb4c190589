//! `rdbscope dump` of an AOF: every file in load order; an RDB base or
//! preamble exactly as `dump` prints an RDB, then the commands
//! (`rdbscope_aof::render`), as JSON Lines or passed through as RESP.

use crate::args::{DumpArgs, DumpFormat};
use crate::dump::dump;
use crate::report::{print_error, Outcome};
use crate::source::AofStream;
use rdbscope_aof::render::{
    print_commands, print_stream_commands, Format, Options, RenderError, Select,
};
use rdbscope_aof::resp::Command;
use rdbscope_aof::source::{rdb_end, starts_with_rdb_magic};
use rdbscope_aof::stream::StreamReader;
use rdbscope_aof::{Aof, Part};
use rdbscope_engine::WINDOW;
use rdbscope_input::Mapped;
use rdbscope_printer::json::write_bytes;
use rdbscope_select::{KeyFilter, Output};
use std::io::{self, Write};
use std::path::Path;

/// Key filters select keys of an RDB base or preamble as for an RDB, and
/// commands by the keys they write ([`command_selector`]).
pub fn run(aof: &Aof, a: &DumpArgs, filter: &KeyFilter, name: &str, out: &mut Output) -> Outcome {
    let parts: Vec<&Path> = aof.parts().iter().map(|p| &*p.path).collect();
    if let Err(outcome) = usable(&parts, filter, name, out) {
        return outcome;
    }
    let _ticker = match a.format {
        // Replayed: `replay::into` shows it.
        DumpFormat::Commands => None,
        _ => Some(crate::progress::Ticker::for_aof(name, aof)),
    };
    if a.format == DumpFormat::Json {
        return as_json_array(a, name, out, |jsonl, array| {
            run_parts(aof, jsonl, filter, name, array)
        });
    }
    run_parts(aof, a, filter, name, out)
}

/// `--format json`: one JSON array whose elements are the JSON Lines that
/// `dump` (given `--format jsonl` args) writes into it.
fn as_json_array(
    a: &DumpArgs,
    name: &str,
    out: &mut Output,
    dump: impl FnOnce(&DumpArgs, &mut JsonArray<&mut Output>) -> Outcome,
) -> Outcome {
    let mut array = JsonArray::new(&mut *out);
    let jsonl = DumpArgs {
        format: DumpFormat::Jsonl,
        ..a.clone()
    };
    let outcome = dump(&jsonl, &mut array);
    match array.finish() {
        Ok(()) => outcome,
        Err(e) => outcome.max(write_error(name, e)),
    }
}

/// [`run`] for a single-file AOF arriving as a stream, read once as it
/// arrives ([`rdbscope_aof::stream::StreamReader`]), in bounded memory;
/// for `--format commands`, replayed as it arrives (only the dataset is
/// held).
pub fn run_stream(
    s: AofStream,
    a: &DumpArgs,
    filter: &KeyFilter,
    name: &str,
    out: &mut Output,
) -> Outcome {
    if let Err(outcome) = usable(&[&*s.part.path], filter, name, out) {
        return outcome;
    }
    if a.format == DumpFormat::Commands {
        let replayed = crate::replay::run_stream(s, name, &a.replay, &a.common, a.target.as_ref());
        return commands(replayed, a, filter, name, out);
    }
    let _ticker = crate::progress::Ticker::for_stream(name, &s);
    if a.format == DumpFormat::Json {
        return as_json_array(a, name, out, |jsonl, array| {
            dump_stream(s, jsonl, filter, array)
        });
    }
    dump_stream(s, a, filter, out)
}

/// The output may not overwrite an input, and filters need what an AOF
/// has.
fn usable(parts: &[&Path], filter: &KeyFilter, name: &str, out: &Output) -> Result<(), Outcome> {
    if let Err(e) = out.check_inputs(parts) {
        eprintln!("rdbscope: {e}");
        return Err(Outcome::Failure);
    }
    if filter.uses_value_facts() {
        eprintln!(
            "rdbscope: {name}: --expiry, --expired, --min-size and --max-size need an RDB key record's expire time and stored size: an AOF's commands have neither"
        );
        return Err(Outcome::Failure);
    }
    Ok(())
}

/// The commands a rewrite would write: the AOF's dataset, replayed.
fn commands<W: Write + Send>(
    replayed: Result<crate::replay::Replayed, Outcome>,
    a: &DumpArgs,
    filter: &KeyFilter,
    name: &str,
    out: &mut W,
) -> Outcome {
    let restore = match crate::dump::restore_or_usage(a) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    let replayed = match replayed {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    crate::replay::report(name, &replayed, false);
    let mut it = replayed.records();
    crate::dump_json::records_to(
        &mut || Ok(it.next()),
        a.format,
        false,
        &restore,
        filter,
        name,
        &mut *out,
    )
}

/// The options of the commands' rendering (not for `--format commands`).
fn render_options(a: &DumpArgs, filter: &KeyFilter) -> (Options, bool) {
    let threads = crate::options::threads(a.jobs);
    let records_too = !a.keys_only && !filter.is_active() && a.since.is_none() && a.until.is_none();
    let opts = Options {
        format: match a.format {
            DumpFormat::Resp => Format::Resp,
            _ => Format::JsonLines,
        },
        dbs: filter.dbs().to_vec(),
        annotations: records_too,
        threads,
        select: command_selector(filter, a.since, a.until),
        start_ts: None,
    };
    (opts, records_too)
}

/// The one file of a streamed AOF: its `aof-file` record (its size is not
/// known yet: `null`), then its commands as they arrive.
fn dump_stream<W: Write>(
    mut s: AofStream,
    a: &DumpArgs,
    filter: &KeyFilter,
    out: &mut W,
) -> Outcome {
    let part = &s.part;
    let path = part.path.display().to_string();
    let file = path.as_str();
    let (opts, records_too) = render_options(a, filter);
    let empty = match s.stream.peek(1) {
        Ok(b) => b.is_empty(),
        Err(e) => return crate::source::OpenError::Content(e).report(file),
    };
    let rdb = match s.stream.peek(6) {
        Ok(b) => starts_with_rdb_magic(b),
        Err(e) => return crate::source::OpenError::Content(e).report(file),
    };
    if records_too && opts.format == Format::JsonLines {
        let size = if empty { Some(0) } else { None };
        if let Err(e) = file_record(out, part, size, rdb) {
            return write_error(file, e);
        }
    }
    let (mut start, mut head) = (0, Vec::new());
    if rdb {
        // The preamble as `dump` prints an RDB, up to its checksum; the
        // commands start right after it.
        match crate::dump::dump_preamble(&mut s.stream, a, filter, &mut *out) {
            Ok((end, rest)) => (start, head) = (end, rest),
            // The stream itself broke (a corrupt compressed input): told
            // as for an AOF of commands.
            Err(rdbscope_printer::PrintError::Rdb(e))
                if e.rule == rdbscope_rdb::Rule::InputRead =>
            {
                eprintln!("rdbscope: {file}: {}", e.message());
                return Outcome::Problem;
            }
            Err(e) => return print_error(file, &e),
        }
    }
    let mut reader = StreamReader::new(Box::new(&mut s.stream), start, head, WINDOW);
    let printed = print_stream_commands(&mut reader, &part.name, &opts, out);
    commands_printed(printed, part, file, out).map_or_else(|o| o, |_| Outcome::Ok)
}

/// Every file of the AOF, in load order.
fn run_parts<W: Write + Send>(
    aof: &Aof,
    a: &DumpArgs,
    filter: &KeyFilter,
    name: &str,
    out: &mut W,
) -> Outcome {
    if let Aof::BadManifest { error, .. } = aof {
        eprintln!("rdbscope: {name}: {error}");
        return Outcome::Problem;
    }
    if a.format == DumpFormat::Commands {
        let replayed = crate::replay::run(aof, name, &a.replay, &a.common, a.target.as_ref());
        return commands(replayed, a, filter, name, out);
    }
    let (mut opts, records_too) = render_options(a, filter);
    for part in aof.parts() {
        let opened;
        let input = match aof {
            Aof::Single { input, .. } => input,
            _ => match rdbscope_input::open_whole(&part.path) {
                Ok(i) => {
                    opened = i;
                    &opened
                }
                Err(e) => {
                    eprintln!(
                        "rdbscope: {name}: cannot open {}, listed in the manifest: {e}",
                        part.path.display()
                    );
                    return Outcome::Problem;
                }
            },
        };
        match dump_part(input, part, a, filter, &opts, records_too, &mut *out) {
            Ok(last_ts) => opts.start_ts = last_ts,
            Err(outcome) => return outcome,
        }
    }
    Outcome::Ok
}

/// The commands the key filters and `--since`/`--until` select (`--db`
/// goes through `Options::dbs`): one of the keys a command writes matches
/// (`rdbscope_aof::keys`), its data type is selected (a command of any
/// type, such as DEL, only without `--type`), and its time is in range.
fn command_selector(filter: &KeyFilter, since: Option<i64>, until: Option<i64>) -> Option<Select> {
    let by_key = filter.selects_within_db();
    if !by_key && since.is_none() && until.is_none() {
        return None;
    }
    let f = filter.clone();
    Some(std::sync::Arc::new(
        move |c: &Command<'_>, ts: Option<i64>| {
            if since.is_some() || until.is_some() {
                let Some(ms) = ts.and_then(|t| t.checked_mul(1000)) else {
                    return false;
                };
                if since.is_some_and(|s| ms < s) || until.is_some_and(|u| ms > u) {
                    return false;
                }
            }
            if !by_key {
                return true;
            }
            let Some((key_type, mut keys)) = rdbscope_aof::keys::keys(c) else {
                return false;
            };
            match key_type {
                Some(t) if !f.matches_meta(c.db, t, None, 0) => return false,
                None if f.selects_type() => return false,
                _ => {}
            }
            keys.any(|k| f.matches_key(k))
        },
    ))
}

/// Turns JSON Lines into one JSON array, whatever the blocks written.
struct JsonArray<W: Write> {
    out: W,
    lines: u64,
    at_line_start: bool,
}

impl<W: Write> JsonArray<W> {
    fn new(out: W) -> JsonArray<W> {
        JsonArray {
            out,
            lines: 0,
            at_line_start: true,
        }
    }

    fn finish(mut self) -> io::Result<()> {
        self.out
            .write_all(if self.lines == 0 { b"[]\n" } else { b"]\n" })?;
        self.out.flush()
    }
}

impl<W: Write> Write for JsonArray<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            if self.at_line_start {
                self.out
                    .write_all(if self.lines == 0 { b"[" } else { b"," })?;
                self.lines += 1;
                self.at_line_start = false;
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.out.write_all(&rest[..=i])?;
                    self.at_line_start = true;
                    rest = &rest[i + 1..];
                }
                None => {
                    self.out.write_all(rest)?;
                    rest = &[];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One file: its `aof-file` record, its RDB part, its commands.
fn dump_part(
    input: &Mapped,
    part: &Part,
    a: &DumpArgs,
    filter: &KeyFilter,
    opts: &Options,
    records_too: bool,
    out: &mut (impl Write + Send),
) -> Result<Option<i64>, Outcome> {
    // Messages name the path; records name the file as the AOF does (the
    // manifest's entry, or the argument of a single file): every command
    // line carries it, so it is kept short.
    let path = part.path.display().to_string();
    let file = path.as_str();
    let bytes = input.bytes();
    let rdb = starts_with_rdb_magic(bytes);
    if records_too && opts.format == Format::JsonLines {
        if let Err(e) = file_record(out, part, Some(bytes.len() as u64), rdb) {
            return Err(write_error(file, e));
        }
    }
    let mut start = 0;
    if rdb {
        if let Err(e) = dump(input, a, a.format, filter, &mut *out) {
            return Err(print_error(file, &e));
        }
        start = match rdb_end(bytes) {
            Ok(end) => end as usize,
            Err(e) => return Err(print_error(file, &e.into())),
        };
    }
    let released = |offset: u64| input.release_before(offset);
    let mut released = released;
    let printed = print_commands(bytes, start, &part.name, opts, out, &mut released);
    commands_printed(printed, part, file, out)
}

/// How printing a file's commands ended: the last `#TS` time, or the
/// outcome of an error (reported here).
fn commands_printed<W: Write>(
    printed: Result<rdbscope_aof::render::Stats, RenderError>,
    part: &Part,
    file: &str,
    out: &mut W,
) -> Result<Option<i64>, Outcome> {
    match printed {
        Ok(stats) => Ok(stats.last_ts),
        Err(RenderError::Io(e)) => Err(write_error(file, e)),
        Err(RenderError::Aof(e)) if e.is_read_error() => {
            let _ = out.flush();
            let e = io::Error::other(e.message().to_string());
            Err(crate::source::OpenError::Content(e).report(file))
        }
        Err(RenderError::Aof(e)) => {
            let _ = out.flush();
            let note = if e.is_truncation() && part.last {
                " (the file is truncated; the server would drop this last command and load the rest)"
            } else {
                ""
            };
            eprintln!("rdbscope: {file}: {e}{note}");
            Err(Outcome::Problem)
        }
    }
}

/// `{"record":"aof-file","file":F,"path":P,"type":T,"seq":S,"format":"rdb"|"resp"|"empty","size_bytes":N}`;
/// `size` is `None` for a stream, whose size is known only once it is
/// read (`"size_bytes":null`).
fn file_record<W: Write>(out: &mut W, part: &Part, size: Option<u64>, rdb: bool) -> io::Result<()> {
    let mut line = b"{\"record\":\"aof-file\",\"file\":".to_vec();
    write_bytes(&mut line, part.name.as_bytes())?;
    line.extend(b",\"path\":");
    write_bytes(&mut line, part.path.display().to_string().as_bytes())?;
    match part.file_type {
        Some(t) => write!(line, ",\"type\":\"{}\"", t.as_str())?,
        None => line.extend(b",\"type\":null"),
    }
    match part.seq {
        Some(s) => write!(line, ",\"seq\":{s}")?,
        None => line.extend(b",\"seq\":null"),
    }
    let format = match (size, rdb) {
        (Some(0), _) => "empty",
        (_, true) => "rdb",
        _ => "resp",
    };
    match size {
        Some(size) => writeln!(line, ",\"format\":\"{format}\",\"size_bytes\":{size}}}")?,
        None => writeln!(line, ",\"format\":\"{format}\",\"size_bytes\":null}}")?,
    }
    out.write_all(&line)
}

fn write_error(file: &str, e: io::Error) -> Outcome {
    print_error(file, &rdbscope_printer::PrintError::Io(e))
}
