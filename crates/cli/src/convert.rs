//! `rdbscope convert INPUT OUTPUT`: an RDB or JSON dump written as an RDB
//! of a chosen version (`rdbscope_convert`, on the engine) or as JSON /
//! JSON Lines (the `dump` printers); an output named `*.gz`, `*.zst`,
//! `*.bz2` or `*.lz4` is compressed on the way. This file picks the
//! target, opens the input and output, and reports.

use crate::args::{ConvertArgs, ConvertTo, DumpFormat};
use crate::options;
use crate::progress::Progress;
use crate::report::Outcome;
use crate::source::{open_streaming, Kind, Streamed};
use rdbscope_convert::{Converter, Drops, Encoder, Items, Options, Report};
use rdbscope_digest::ServerVersion;
use rdbscope_input::display_name;
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_rdb::write::encode::Target;
use rdbscope_rdb::{Flavor, Header, OwnedRecord};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

fn header_of(a: &ConvertArgs) -> Result<(Header, String), String> {
    target_header(a.rdb_version, a.target.as_ref())
}

/// The header `--rdb-version` and `--target` ask for (both: they must
/// agree), and how to name it.
pub(crate) fn target_header(
    rdb_version: Option<u32>,
    target: Option<&ServerVersion>,
) -> Result<(Header, String), String> {
    let given = match rdb_version {
        None => None,
        Some(80) => Some(Header {
            flavor: Flavor::Valkey,
            version: 80,
        }),
        Some(v @ 6..=13) => Some(Header {
            flavor: Flavor::Redis,
            version: v,
        }),
        Some(v) => {
            return Err(format!(
                "--rdb-version {v}: rdbscope writes RDB 6 to 13 (REDIS) and 80 (VALKEY080)"
            ))
        }
    };
    match (target, given) {
        (None, None) => {
            Err("give --rdb-version N or --target SERVER (e.g. redis-7.0, valkey-9.1)".into())
        }
        (None, Some(h)) => Ok((h, h.to_string())),
        (Some(t), None) => t.writes().map(|h| (h, format!("{t}"))).ok_or_else(|| {
            format!("--target {t}: not a server version rdbscope knows the RDB version of")
        }),
        (Some(t), Some(h)) if t.reads(h) => Ok((h, format!("{t}"))),
        (Some(t), Some(h)) => Err(format!(
            "{t} cannot load {h}: it reads up to {}",
            t.writes().map_or("nothing known".into(), |n| n.to_string())
        )),
    }
}

/// The target with the loading server's settings.
fn target_of(a: &ConvertArgs, header: Header) -> Result<Target, String> {
    let mut t = Target::new(header);
    if a.no_compression {
        t.strings.compress = false;
    }
    for c in &a.config {
        let (n, v) = c
            .split_once('=')
            .ok_or_else(|| format!("--config {c}: expected NAME=VALUE"))?;
        rdbscope_convert::set_config(&mut t, n, v)?;
    }
    Ok(t)
}

/// What the output's name says: the format, and its compression.
fn by_name(path: &Path) -> (Option<ConvertTo>, Option<&'static str>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut stem = name.as_str();
    let mut comp = None;
    for (ext, c) in [
        (".gz", "gzip"),
        (".zst", "zstd"),
        (".bz2", "bzip2"),
        (".lz4", "lz4"),
    ] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
            comp = Some(c);
            break;
        }
    }
    let to = if stem.ends_with(".rdb") {
        Some(ConvertTo::Rdb)
    } else if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
        Some(ConvertTo::Jsonl)
    } else if stem.ends_with(".json") {
        Some(ConvertTo::Json)
    } else if stem.ends_with(".aof") {
        Some(ConvertTo::Aof)
    } else {
        None
    };
    (to, comp)
}

/// A compressing writer over the output.
fn compressed<'o>(
    out: &'o mut rdbscope_select::Output,
    how: Option<&str>,
) -> io::Result<Box<dyn Finish + 'o>> {
    Ok(match how {
        None => Box::new(Plain(out)),
        Some("gzip") => Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::default(),
        )),
        Some("zstd") => Box::new(zstd::Encoder::new(out, 3)?),
        Some("bzip2") => Box::new(bzip2::write::BzEncoder::new(
            out,
            bzip2::Compression::default(),
        )),
        Some(_) => Box::new(lz4_flex::frame::FrameEncoder::new(out)),
    })
}

/// A writer that has a last step (a compressor's trailer).
trait Finish: Write + Send {
    fn done(self: Box<Self>) -> io::Result<()>;
}

struct Plain<'o>(&'o mut rdbscope_select::Output);

impl Write for Plain<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.write(b)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Finish for Plain<'_> {
    fn done(self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

impl Finish for flate2::write::GzEncoder<&mut rdbscope_select::Output> {
    fn done(self: Box<Self>) -> io::Result<()> {
        self.finish()?.flush()
    }
}

impl Finish for zstd::Encoder<'_, &mut rdbscope_select::Output> {
    fn done(self: Box<Self>) -> io::Result<()> {
        self.finish()?.flush()
    }
}

impl Finish for bzip2::write::BzEncoder<&mut rdbscope_select::Output> {
    fn done(self: Box<Self>) -> io::Result<()> {
        self.finish()?.flush()
    }
}

impl Finish for lz4_flex::frame::FrameEncoder<&mut rdbscope_select::Output> {
    fn done(self: Box<Self>) -> io::Result<()> {
        self.finish().map_err(io::Error::other)?.flush()
    }
}

pub fn run(a: &ConvertArgs) -> Outcome {
    run_from(a, None, &[&a.input])
}

/// What a conversion reads: an input to open, or a dataset already made
/// (`merge`).
pub(crate) enum In {
    /// An opened input.
    Kind(Kind),
    /// A single-file AOF arriving as a stream, replayed as it arrives.
    AofStream(crate::source::AofStream),
    /// A dataset in memory.
    Replayed(Box<rdbscope_replay::Replayed>),
}

/// What the arguments alone settle, before any input is read.
pub(crate) struct Settled {
    /// The output's format.
    to: ConvertTo,
    /// The output's compression, by its name.
    compression: Option<&'static str>,
    /// What `--drop` leaves out.
    drops: Drops,
    /// For an RDB: the target and how to name it.
    target: Option<(Target, String)>,
}

/// Settles the output from the arguments, or says what is wrong with them
/// (a usage error, exit 2). `merge` asks before it reads its inputs, so
/// that a missing `--target` is told at once, not after the merge.
pub(crate) fn settle(a: &ConvertArgs) -> Result<Settled, String> {
    let (to_by_name, compression) = by_name(&a.output);
    let mut to = a.to.or(to_by_name).unwrap_or(ConvertTo::Rdb);
    if to == ConvertTo::Aof && a.aof_base == Some(crate::args::AofBase::Rdb) {
        // An AOF with an RDB preamble and no commands after it is the RDB
        // the target's server reads.
        to = ConvertTo::Rdb;
    }
    let mut drops = Drops::default();
    for d in &a.drop {
        drops.add(d)?;
    }
    let mut target = None;
    if to == ConvertTo::AofDir {
        if a.output.as_os_str() == "-" {
            return Err("convert --to aof-dir writes a directory, not standard output".into());
        }
        if a.target
            .as_ref()
            .is_some_and(|t| t.vendor == rdbscope_digest::Vendor::Redis && t.major < 7)
        {
            return Err("convert --to aof-dir: servers before Redis 7.0 read one append-only file: --to aof".into());
        }
    } else if a.salvage && to != ConvertTo::Rdb {
        return Err("convert --salvage writes a new RDB (dump --salvage writes JSON)".into());
    } else if to == ConvertTo::Rdb {
        let (h, what) = header_of(a).map_err(|e| format!("convert: {e}"))?;
        target = Some((target_of(a, h).map_err(|e| format!("convert: {e}"))?, what));
    }
    Ok(Settled {
        to,
        compression,
        drops,
        target,
    })
}

/// [`run`] from a dataset already made when `pre` is given (`merge`);
/// `inputs` are never written over.
pub(crate) fn run_from(
    a: &ConvertArgs,
    pre: Option<rdbscope_replay::Replayed>,
    inputs: &[&Path],
) -> Outcome {
    let name = display_name(&a.input);
    let Settled {
        to,
        compression,
        drops,
        target,
    } = match settle(a) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rdbscope: {e}");
            return Outcome::Failure;
        }
    };
    if to == ConvertTo::AofDir {
        return to_aof_dir(a, pre, inputs);
    }
    let output_args = rdbscope_select::OutputArgs {
        output: Some(a.output.clone()),
        force: a.force,
        quiet: a.quiet,
    };
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&output_args, inputs)?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let opened = match pre {
        Some(r) => Ok(In::Replayed(Box::new(r))),
        None => match open_streaming(&a.input) {
            Ok(Streamed::Aof(s)) => Ok(In::AofStream(s)),
            Ok(Streamed::Other(k)) => Ok(In::Kind(k)),
            Err(e) => Err(e),
        },
    };
    let mut salvaged = false;
    let mut w = match compressed(&mut out, compression) {
        Ok(w) => w,
        Err(e) => {
            // The unfinished output is removed when dropped.
            eprintln!("rdbscope: {}: {e}", a.output.display());
            return Outcome::Failure;
        }
    };
    let outcome = match (opened, target) {
        (Err(e), _) => e.report(&name),
        (Ok(kind), None) => to_dump(a, kind, to, drops, &filter, &name, &mut *w),
        (Ok(kind), Some((t, what))) => {
            let opts = Arc::new(Options {
                target: t,
                drops,
                filter: filter.clone(),
                max_decompressed: a.common.max_value_size,
            });
            let (o, whole) = to_rdb(a, kind, &opts, &what, &name, &mut *w);
            // A salvaged file is whole even when something was skipped
            // (a problem with the input, exit 1): it is kept.
            salvaged = whole && o == Outcome::Problem && a.salvage;
            o
        }
    };
    let outcome = if outcome == Outcome::Ok || salvaged {
        match w.done().map(|()| outcome) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("rdbscope: {}: write error: {e}", a.output.display());
                Outcome::Failure
            }
        }
    } else {
        drop(w);
        outcome
    };
    options::finish_output(out, outcome, salvaged)
}

/// The keys' report of a conversion walk, or `None` after reporting what
/// stopped it: an encoding or write error, or the input's first broken
/// record.
fn walked_keys<E: std::fmt::Display>(
    name: &str,
    r: Result<(Report, Option<E>), String>,
) -> Option<Report> {
    match r {
        Ok((keys, None)) => Some(keys),
        Ok((_, Some(e))) => {
            eprintln!("rdbscope: {name}: {e}");
            None
        }
        Err(e) => {
            eprintln!("rdbscope: {name}: {e}");
            None
        }
    }
}

/// `--to aof-dir`: a Redis 7 append-only directory, made beside its final
/// place and renamed into it when whole (never over an existing one): the
/// BASE written by this same command (`--to rdb` or `--to aof`), an empty
/// INCR, and the manifest, named as a server with the default
/// `appendfilename` names them.
fn to_aof_dir(
    a: &ConvertArgs,
    pre: Option<rdbscope_replay::Replayed>,
    inputs: &[&Path],
) -> Outcome {
    use crate::args::AofBase;
    if a.output.exists() {
        eprintln!(
            "rdbscope: {}: exists; an append-only directory is never written over",
            a.output.display()
        );
        return Outcome::Failure;
    }
    let (Some(parent), Some(dir_name)) = (a.output.parent(), a.output.file_name()) else {
        eprintln!("rdbscope: {}: not a directory name", a.output.display());
        return Outcome::Failure;
    };
    let parent = if parent.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        parent
    };
    let tmp = parent.join(format!(
        ".{}.rdbscope-{}",
        dir_name.to_string_lossy(),
        std::process::id()
    ));
    if let Err(e) = std::fs::create_dir(&tmp) {
        eprintln!("rdbscope: {}: {e}", tmp.display());
        return Outcome::Failure;
    }
    let (base, to) = match a.aof_base.unwrap_or(AofBase::Rdb) {
        AofBase::Rdb => ("appendonly.aof.1.base.rdb", ConvertTo::Rdb),
        AofBase::Aof => ("appendonly.aof.1.base.aof", ConvertTo::Aof),
    };
    let incr = "appendonly.aof.1.incr.aof";
    let mut inner = a.clone();
    inner.output = tmp.join(base);
    inner.to = Some(to);
    inner.aof_base = None;
    inner.force = false;
    let mut outcome = run_from(&inner, pre, inputs);
    if outcome == Outcome::Ok {
        let manifest = format!("file {base} seq 1 type b\nfile {incr} seq 1 type i\n");
        let written = std::fs::write(tmp.join(incr), b"")
            .and_then(|()| std::fs::write(tmp.join("appendonly.aof.manifest"), manifest))
            .and_then(|()| std::fs::rename(&tmp, &a.output));
        match written {
            Err(e) => {
                eprintln!("rdbscope: {}: {e}", a.output.display());
                outcome = Outcome::Failure;
            }
            Ok(()) if !a.quiet => eprintln!(
                "rdbscope: {}: append-only directory with {base} (BASE), {incr} (INCR, empty) and appendonly.aof.manifest",
                a.output.display()
            ),
            Ok(()) => {}
        }
    }
    if outcome != Outcome::Ok {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    outcome
}

/// An AOF input replayed into a dataset (the other inputs as they are).
fn replayed(a: &ConvertArgs, kind: In, name: &str) -> Result<In, Outcome> {
    match kind {
        In::Kind(Kind::Aof(aof)) => {
            let r = crate::replay::run(&aof, name, &a.replay, &a.common, a.target.as_ref())?;
            crate::replay::report(name, &r, a.quiet);
            Ok(In::Replayed(Box::new(r)))
        }
        In::AofStream(s) => {
            let r = crate::replay::run_stream(s, name, &a.replay, &a.common, a.target.as_ref())?;
            crate::replay::report(name, &r, a.quiet);
            Ok(In::Replayed(Box::new(r)))
        }
        other => Ok(other),
    }
}

/// JSON, JSON Lines or an AOF: what `dump` writes in those formats.
fn to_dump(
    a: &ConvertArgs,
    kind: In,
    to: ConvertTo,
    drops: Drops,
    filter: &rdbscope_select::KeyFilter,
    name: &str,
    w: &mut dyn Finish,
) -> Outcome {
    let format = match to {
        ConvertTo::Json => DumpFormat::Json,
        ConvertTo::Aof => DumpFormat::Commands,
        _ => DumpFormat::Jsonl,
    };
    let mut restore = rdbscope_printer::resp::Restore::default();
    if to == ConvertTo::Aof {
        if drops.streams || drops.modules {
            eprintln!("rdbscope: convert --to aof: --drop takes field-ttl and functions (streams and module values are refused by name)");
            return Outcome::Failure;
        }
        if a.rdb_version.is_some() {
            eprintln!(
                "rdbscope: convert --to aof: give --target SERVER (an AOF has no RDB version)"
            );
            return Outcome::Failure;
        }
        restore.drop_field_ttl = drops.field_ttl;
        restore.drop_functions = drops.functions;
        restore.commands = Some(crate::dump::dialect(a.target.as_ref()));
    }
    let kind = match replayed(a, kind, name) {
        Ok(k) => k,
        Err(outcome) => return outcome,
    };
    match kind {
        In::Kind(Kind::Json(input)) => {
            crate::dump_json::run_to(input, format, false, &restore, filter, name, w)
        }
        In::Kind(Kind::Rdb(input)) => {
            let filter = options::settle_file_time(filter.clone(), input.head());
            let max = a.common.max_value_size;
            let opts = rdbscope_printer::dump::Options {
                format: match to {
                    ConvertTo::Json => rdbscope_printer::dump::Format::Json,
                    ConvertTo::Aof => rdbscope_printer::dump::Format::Resp,
                    _ => rdbscope_printer::dump::Format::JsonLines,
                },
                records_too: !filter.is_active(),
                values: true,
                max_decompressed: max,
                engine: crate::options::engine(a.jobs, &a.common),
                restore,
            };
            let mut progress = Progress::for_input(name, input.size(), input.progress());
            let r = input.with_source(|s| {
                rdbscope_printer::dump::dump(
                    s,
                    &opts,
                    || crate::dump::Selected::new(&filter, max),
                    &mut |o| progress.at(o),
                    &mut *w,
                )
            });
            match r {
                Ok(_) => Outcome::Ok,
                Err(e) => crate::report::print_error(name, &e),
            }
        }
        // Replayed above.
        In::Kind(Kind::Aof(_)) | In::AofStream(_) => Outcome::Failure,
        In::Replayed(replayed) => {
            let mut it = replayed.records();
            crate::dump_json::records_to(
                &mut || Ok(it.next()),
                format,
                false,
                &restore,
                filter,
                name,
                w,
            )
        }
    }
}

fn to_rdb(
    a: &ConvertArgs,
    kind: In,
    opts: &Arc<Options>,
    what: &str,
    name: &str,
    w: &mut dyn Finish,
) -> (Outcome, bool) {
    // With --salvage: a problem (exit 1) when something was skipped, though
    // the file written is whole.
    let mut salvage_outcome = Outcome::Ok;
    let mut conv = match Converter::new(&mut *w, opts.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rdbscope: convert: {e}");
            return (Outcome::Failure, false);
        }
    };
    let kind = match replayed(a, kind, name) {
        Ok(k) => k,
        Err(outcome) => return (outcome, false),
    };
    let keys = match kind {
        In::Kind(Kind::Rdb(_)) if a.salvage => {
            let mut enc = Encoder::new(opts.clone());
            let mut failed = None;
            let mut items = Items::new();
            let (outcome, _) = crate::salvage::run(&a.input, a.common.max_value_size, &mut |r| {
                items.clear();
                match r {
                    OwnedRecord::Key(k) => {
                        if !enc.selects(&k) {
                            return Ok(());
                        }
                        if !enc.key(&k, &mut items)? {
                            if !enc.report.refused.is_empty() {
                                conv.halt();
                            }
                            return Ok(());
                        }
                    }
                    // A salvaged file's own trailer is not copied: the new
                    // one gets a correct checksum.
                    OwnedRecord::Eof { .. } => return Ok(()),
                    other => items.push_other(other),
                };
                conv.write(&items).inspect_err(|e| failed = Some(e.clone()))
            });
            if outcome == Outcome::Failure || failed.is_some() {
                return (Outcome::Failure, false);
            }
            salvage_outcome = outcome;
            std::mem::take(&mut enc.report)
        }
        In::Kind(Kind::Rdb(input)) => {
            let mut progress = Progress::for_input(name, input.size(), input.progress());
            let r = input.with_source(|s| {
                rdbscope_convert::convert_rdb(
                    s,
                    opts,
                    &crate::options::engine(a.jobs, &a.common),
                    &mut |o| progress.at(o),
                    &mut conv,
                )
            });
            drop(progress);
            match walked_keys(name, r.map(|(keys, w)| (keys, w.error))) {
                Some(keys) => keys,
                None => return (Outcome::Problem, false),
            }
        }
        In::Kind(Kind::Json(mut input)) => {
            let layout = match input.head() {
                Ok(h) => sniff(h).unwrap_or(JsonLayout::Lines),
                Err(e) => {
                    eprintln!("rdbscope: {name}: read error: {e}");
                    return (Outcome::Problem, false);
                }
            };
            // A mapped file's size is the content's; a stream's progress is
            // its raw bytes read.
            let size = match input.source() {
                rdbscope_input::Source::Mapped(m) => Some(m.bytes().len() as u64),
                rdbscope_input::Source::Stream(_) => None,
            };
            let mut progress = Progress::for_input(name, size, input.progress());
            let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
            let threads = crate::options::threads(a.jobs);
            let r = rdbscope_convert::convert_json(
                &mut reader,
                opts,
                threads,
                &mut |o| progress.at(o),
                &mut conv,
            );
            drop(progress);
            match walked_keys(name, r.map(|(keys, w)| (keys, w.error))) {
                Some(keys) => keys,
                None => return (Outcome::Problem, false),
            }
        }
        // Replayed above.
        In::Kind(Kind::Aof(_)) | In::AofStream(_) => return (Outcome::Failure, false),
        In::Replayed(replayed) => {
            // One thread unless asked: the dataset was allocated by this
            // thread, and freeing it on workers (glibc's arenas) cost more
            // than encoding on two cores saved (412 MB bench AOF: 4.6 s
            // with -j1, 5.4 s with -j2; docs/benchmarks.md).
            let threads = a.jobs.unwrap_or(1);
            let r =
                rdbscope_convert::convert_owned(&mut replayed.records(), opts, threads, &mut conv);
            match r {
                Ok(keys) => keys,
                Err(e) => {
                    eprintln!("rdbscope: {name}: {e}");
                    return (Outcome::Failure, false);
                }
            }
        }
    };
    match conv.finish(keys) {
        (report, Ok(Some(_))) => {
            if !a.quiet {
                print_report(&report, what, &a.output, false);
            }
            (salvage_outcome, true)
        }
        (report, Ok(None)) => {
            print_report(&report, what, &a.output, true);
            (Outcome::Problem, false)
        }
        (_, Err(e)) => {
            eprintln!("rdbscope: {}: write error: {e}", a.output.display());
            (Outcome::Failure, false)
        }
    }
}

fn print_report(r: &Report, what: &str, output: &Path, refused: bool) {
    let e = |s: String| eprintln!("rdbscope: {s}");
    if refused {
        let counts: Vec<String> = r
            .refused
            .iter()
            .map(|(k, n)| format!("{n} x {k}"))
            .collect();
        e(format!(
            "cannot convert to {what}: {}; in all {}. Nothing was written. \
             --drop field-ttl|streams|functions|modules writes the file without exactly that.",
            r.first_refused
                .as_deref()
                .unwrap_or("data the target cannot hold"),
            counts.join(", ")
        ));
        return;
    }
    e(format!(
        "wrote {} keys as {what} to {}",
        r.keys,
        output.display()
    ));
    for (k, n) in &r.dropped_keys {
        e(format!("dropped {n} keys holding {k} (--drop)"));
    }
    if r.dropped_field_ttls > 0 {
        e(format!(
            "dropped {} field TTLs from {} hashes, the fields kept (--drop field-ttl)",
            r.dropped_field_ttls, r.hashes_without_ttls
        ));
    }
    for (k, n) in &r.dropped_records {
        e(format!("dropped {n} {k} records (--drop)"));
    }
    if !r.dropped_examples.is_empty() {
        e(format!("  e.g. {}", r.dropped_examples.join(", ")));
    }
    for (k, n) in &r.warnings {
        e(format!(
            "warning: {n} x {k} have no place in {what}: left out"
        ));
    }
}
