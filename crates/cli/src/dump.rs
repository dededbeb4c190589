//! `rdbscope dump`: records to JSON. AOF inputs go to `dump_aof`.

use crate::args::{DumpArgs, DumpFormat};
use crate::progress::Progress;
use crate::report::{print_error, print_open_error, Outcome};
use crate::source::Kind;
use rdbscope_engine::Source;
use rdbscope_printer::dump::{Format, KeyFilter, Options};
use rdbscope_printer::PrintError;
use rdbscope_rdb::glob::Glob;
use rdbscope_rdb::input::{display_name, Input};
use rdbscope_rdb::KeyRecord;
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

    fn any(a: &DumpArgs) -> bool {
        !a.dbs.is_empty() || !a.types.is_empty() || a.key.is_some()
    }
}

impl KeyFilter for Filter {
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
    let input = match crate::source::open(&a.input) {
        Ok(Kind::Rdb(i)) => i,
        Ok(Kind::Aof(aof)) => return crate::dump_aof::run(&aof, a, &name),
        Err(e) => return print_open_error(&name, &e),
    };
    let mut progress = Progress::new(&name, input.size().unwrap_or(0));
    // The printer buffers and writes whole blocks itself.
    let result = input.with_source(|s| dump_source(s, a, &mut |o| progress.at(o), io::stdout()));
    drop(progress);
    match result {
        Ok(()) => Outcome::Ok,
        Err(e) => print_error(&name, &e),
    }
}

/// Dumps the RDB in `input` (for an RDB-preamble AOF: its RDB part, whose
/// eof record counts the command tail as trailing bytes).
pub(crate) fn dump<W: Write + Send>(input: &Input, a: &DumpArgs, out: W) -> Result<(), PrintError> {
    let release = |offset: u64| input.release_before(offset);
    let source = Source::Mapped {
        bytes: input.bytes(),
        release: Some(&release),
    };
    dump_source(source, a, &mut |_| {}, out)
}

fn dump_source<W: Write>(
    source: Source<'_>,
    a: &DumpArgs,
    on_progress: &mut dyn FnMut(u64),
    out: W,
) -> Result<(), PrintError> {
    let threads = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let opts = Options {
        format: match a.format {
            DumpFormat::Jsonl => Format::JsonLines,
            DumpFormat::Json => Format::Json,
            DumpFormat::Resp => Format::Resp,
        },
        records_too: !a.keys_only && !Filter::any(a),
        max_decompressed: a.common.max_value_size,
        engine: rdbscope_engine::Options {
            threads,
            verify_checksum: !a.common.ignore_checksum,
            ..rdbscope_engine::Options::default()
        },
    };
    let stats = rdbscope_printer::dump::dump(source, &opts, || Filter::new(a), on_progress, out)?;
    note_skipped(stats.skipped_empty);
    Ok(())
}

fn note_skipped(skipped: u64) {
    if skipped > 0 {
        eprintln!(
            "rdbscope: note: {skipped} empty collection(s) left out (Redis skips them on load, RESTORE refuses them)"
        );
    }
}
