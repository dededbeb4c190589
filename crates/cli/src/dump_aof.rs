//! `rdbscope dump` of an AOF: every file in load order; an RDB base or
//! preamble exactly as `dump` prints an RDB, then the commands
//! (`rdbscope_aof::render`), as JSON Lines or passed through as RESP.

use crate::args::{DumpArgs, DumpFormat};
use crate::dump::dump;
use crate::report::{print_error, Outcome};
use rdbscope_aof::render::{print_commands, Format, Options, RenderError};
use rdbscope_aof::source::{rdb_end, starts_with_rdb_magic};
use rdbscope_aof::{Aof, Part};
use rdbscope_input::Mapped;
use rdbscope_printer::json::write_bytes;
use rdbscope_select::{KeyFilter, Output};
use std::io::{self, Write};
use std::path::Path;

/// Key filters other than `--db` select keys of an RDB base or preamble;
/// commands are selected by `--db` alone.
pub fn run(aof: &Aof, a: &DumpArgs, filter: &KeyFilter, name: &str, out: &mut Output) -> Outcome {
    let parts: Vec<&Path> = aof.parts().iter().map(|p| p.path.as_path()).collect();
    if let Err(e) = out.check_inputs(&parts) {
        eprintln!("rdbscope: {e}");
        return Outcome::Failure;
    }
    if a.format == DumpFormat::Json {
        eprintln!(
            "rdbscope: {name}: --format json (one document) is for RDB files; an AOF dumps as JSON Lines (the default) or RESP"
        );
        return Outcome::Failure;
    }
    if let Aof::BadManifest { error, .. } = aof {
        eprintln!("rdbscope: {name}: {error}");
        return Outcome::Problem;
    }
    let threads = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let records_too = !a.keys_only && !filter.is_active();
    let opts = Options {
        format: match a.format {
            DumpFormat::Resp => Format::Resp,
            _ => Format::JsonLines,
        },
        dbs: filter.dbs().to_vec(),
        annotations: records_too,
        threads,
    };
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
        let outcome = dump_part(input, part, a, filter, &opts, records_too, out);
        if outcome != Outcome::Ok {
            return outcome;
        }
    }
    Outcome::Ok
}

/// One file: its `aof-file` record, its RDB part, its commands.
fn dump_part(
    input: &Mapped,
    part: &Part,
    a: &DumpArgs,
    filter: &KeyFilter,
    opts: &Options,
    records_too: bool,
    out: &mut Output,
) -> Outcome {
    // Messages name the path; records name the file as the AOF does (the
    // manifest's entry, or the argument of a single file): every command
    // line carries it, so it is kept short.
    let path = part.path.display().to_string();
    let file = path.as_str();
    let bytes = input.bytes();
    let rdb = starts_with_rdb_magic(bytes);
    if records_too && opts.format == Format::JsonLines {
        if let Err(e) = file_record(out, part, bytes.len(), rdb) {
            return write_error(file, e);
        }
    }
    let mut start = 0;
    if rdb {
        if let Err(e) = dump(input, a, filter, &mut *out) {
            return print_error(file, &e);
        }
        start = match rdb_end(bytes) {
            Ok(end) => end as usize,
            Err(e) => return print_error(file, &e.into()),
        };
    }
    let released = |offset: u64| input.release_before(offset);
    let mut released = released;
    match print_commands(bytes, start, &part.name, opts, out, &mut released) {
        Ok(_) => Outcome::Ok,
        Err(RenderError::Io(e)) => write_error(file, e),
        Err(RenderError::Aof(e)) => {
            let _ = out.flush();
            let note = if e.is_truncation() && part.last {
                " (the file is truncated; the server would drop this last command and load the rest)"
            } else {
                ""
            };
            eprintln!("rdbscope: {file}: {e}{note}");
            Outcome::Problem
        }
    }
}

/// `{"record":"aof-file","file":F,"path":P,"type":T,"seq":S,"format":"rdb"|"resp"|"empty","size_bytes":N}`
fn file_record<W: Write>(out: &mut W, part: &Part, size: usize, rdb: bool) -> io::Result<()> {
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
        (0, _) => "empty",
        (_, true) => "rdb",
        _ => "resp",
    };
    writeln!(line, ",\"format\":\"{format}\",\"size_bytes\":{size}}}")?;
    out.write_all(&line)
}

fn write_error(file: &str, e: io::Error) -> Outcome {
    print_error(file, &rdbscope_printer::PrintError::Io(e))
}
