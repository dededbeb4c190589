//! Checking an AOF the way `redis-check-aof` does (docs/format.md#redis-check-aof), with
//! the same verdicts and `ok_up_to` offsets, plus what it leaves out:
//! whole RDB validation of a base or preamble (`rdbscope_check`, every
//! deep-sanitization rule), the manifest rules the server applies, and
//! whether the server would load the result.
//!
//! Per file, the walk is the RESP [`Reader`] plus the transaction rules:
//! a MULTI inside a MULTI, an EXEC without one, or the end of the file
//! inside one are errors; `ok_up_to` is the start of the first broken
//! record, or of the transaction it is in. Only the last file of a
//! manifest may be truncated (the server refuses the rest).

use crate::error::Error;
use crate::manifest::{FileType, ManifestError};
use crate::resp::{Item, Kind, Reader, Records};
use crate::rule::Rule;
use crate::source::{starts_with_rdb_magic, Aof, Part};
use crate::stream::StreamReader;
use rdbscope_engine::WINDOW;
use rdbscope_input::{Mapped, Stream, WORKER_LAG};
use std::collections::BTreeMap;
use std::io;

/// What to check, and how.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// For the RDB base or preamble.
    pub rdb: rdbscope_check::Options,
    /// Threads per file: big files are cut into chunks checked side by
    /// side; an RDB part has its values checked on them.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rdb: rdbscope_check::Options::default(),
            threads: 1,
        }
    }
}

/// How a file (or a whole AOF) fared. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Whole: every command complete, every transaction closed.
    Valid,
    /// Nothing in it (the server starts with an empty dataset).
    Empty,
    /// It ends inside a command or a transaction.
    Truncated,
    /// A byte the format does not allow, a broken transaction, a broken
    /// RDB part or a manifest the server refuses.
    FormatError,
    /// The manifest lists a file that cannot be opened.
    MissingFile,
}

impl Verdict {
    /// The verdict's word in reports (`valid`, `format-error`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Empty => "empty",
            Verdict::Truncated => "truncated",
            Verdict::FormatError => "format-error",
            Verdict::MissingFile => "missing-file",
        }
    }

    /// Whether the server would load it as it is (valid or empty).
    pub fn is_ok(self) -> bool {
        matches!(self, Verdict::Valid | Verdict::Empty)
    }
}

/// A problem in one file.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Offset in the file where it was found.
    pub offset: u64,
    /// A short class: `truncated`, `format`, `transaction`, `rdb`,
    /// `manifest`, `missing-file`, `truncated-not-last`.
    pub kind: &'static str,
    /// The rule broken (its stable id goes into the JSON report).
    pub rule: Rule,
    /// What was expected and what was found.
    pub message: String,
}

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Commands only.
    Resp,
    /// An RDB, then (maybe) commands.
    Rdb,
    /// Nothing in it.
    Empty,
    /// Could not be opened.
    Missing,
}

impl Format {
    /// The format's word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Resp => "resp",
            Format::Rdb => "rdb",
            Format::Empty => "empty",
            Format::Missing => "missing",
        }
    }
}

/// Everything learned about one file of an AOF.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// Which file of the AOF this is.
    pub part: Part,
    /// Its size in bytes.
    pub size: u64,
    /// What it holds.
    pub format: Format,
    /// The RDB part's report, when the file starts with one.
    pub rdb: Option<rdbscope_check::Report>,
    /// Where the commands start (after the RDB part).
    pub resp_start: u64,
    /// Commands read.
    pub commands: u64,
    /// Annotation lines read (`#TS:` and others).
    pub annotations: u64,
    /// Complete MULTI ... EXEC blocks.
    pub transactions: u64,
    /// Commands per database.
    pub dbs: BTreeMap<u64, u64>,
    /// `#TS:` annotations: the first and the last time.
    pub first_timestamp: Option<i64>,
    /// The last `#TS:` time.
    pub last_timestamp: Option<i64>,
    /// Everything before this offset is whole (`redis-check-aof`'s
    /// `ok_up_to`); the file size when the file is valid.
    pub ok_up_to: u64,
    /// Lines read in this file as `redis-check-aof` counts them.
    pub lines: u64,
    /// `redis-check-aof`'s `ok_up_to_line`: its line counter runs on
    /// through all the files of a manifest.
    pub ok_up_to_line: u64,
    /// How the file fared.
    pub verdict: Verdict,
    /// The first problem, when it has one.
    pub problem: Option<Problem>,
    /// Remarks that are not problems.
    pub notes: Vec<String>,
}

impl FileReport {
    fn new(part: &Part) -> FileReport {
        FileReport {
            part: part.clone(),
            size: 0,
            format: Format::Empty,
            rdb: None,
            resp_start: 0,
            commands: 0,
            annotations: 0,
            transactions: 0,
            dbs: BTreeMap::new(),
            first_timestamp: None,
            last_timestamp: None,
            ok_up_to: 0,
            lines: 0,
            ok_up_to_line: 0,
            verdict: Verdict::Valid,
            problem: None,
            notes: Vec::new(),
        }
    }

    /// Bytes after `ok_up_to` (`redis-check-aof`'s `diff`).
    pub fn diff(&self) -> u64 {
        self.size.saturating_sub(self.ok_up_to)
    }

    fn fail(&mut self, verdict: Verdict, p: Problem) {
        self.verdict = verdict;
        self.problem = Some(p);
    }
}

/// The report on a whole AOF input.
#[derive(Debug, Clone)]
pub struct Report {
    /// The argument as given.
    pub name: String,
    /// Whether the input is a manifest and its files.
    pub multi_part: bool,
    /// The manifest's path, for a multi-part AOF.
    pub manifest_path: Option<String>,
    /// Why the manifest was refused, when it was.
    pub manifest_error: Option<ManifestError>,
    /// One report per file, in load order ([`check`]); empty after
    /// [`check_each`], which hands them out instead.
    pub files: Vec<FileReport>,
    /// What every file adds up to.
    pub totals: Totals,
    /// The worst verdict of any file (or of the manifest).
    pub verdict: Verdict,
}

/// The sums over the files of an AOF, and its first broken file: what the
/// end of a report needs, kept while the files themselves are not (a
/// manifest may list 100,000 of them).
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Files checked.
    pub files: u64,
    /// Bytes in every file.
    pub size: u64,
    /// Commands.
    pub commands: u64,
    /// Annotations.
    pub annotations: u64,
    /// Closed transactions.
    pub transactions: u64,
    /// Keys of the RDB parts.
    pub keys: u64,
    /// Commands per database.
    pub dbs: BTreeMap<u64, u64>,
    /// Files with a problem.
    pub problems: u64,
    /// The earliest `#TS:` time.
    pub first_timestamp: Option<i64>,
    /// The latest `#TS:` time.
    pub last_timestamp: Option<i64>,
    /// The first file with a problem, in load order.
    pub first_bad: Option<Box<FileReport>>,
}

impl Totals {
    fn add(&mut self, f: &FileReport) {
        self.files += 1;
        self.size += f.size;
        self.commands += f.commands;
        self.annotations += f.annotations;
        self.transactions += f.transactions;
        self.keys += f.rdb.as_ref().map_or(0, |r| r.keys);
        for (db, n) in &f.dbs {
            *self.dbs.entry(*db).or_default() += n;
        }
        self.problems += u64::from(f.problem.is_some());
        for t in [f.first_timestamp, f.last_timestamp].into_iter().flatten() {
            self.first_timestamp = Some(self.first_timestamp.map_or(t, |m| m.min(t)));
            self.last_timestamp = Some(self.last_timestamp.map_or(t, |m| m.max(t)));
        }
        if self.first_bad.is_none() && !f.verdict.is_ok() {
            self.first_bad = Some(Box::new(f.clone()));
        }
    }
}

impl Report {
    /// Whether every file is valid or empty.
    pub fn is_ok(&self) -> bool {
        self.verdict.is_ok()
    }

    /// The first file with a problem, in load order.
    pub fn first_bad(&self) -> Option<&FileReport> {
        self.totals.first_bad.as_deref()
    }

    /// Whether the server would load this AOF, as far as the format goes
    /// (it also refuses unknown commands, which a file cannot show): yes
    /// when valid, and when only the last file is truncated (with
    /// `aof-load-truncated yes`, the default, dropping the partial tail).
    pub fn server_loads(&self) -> bool {
        match self.first_bad() {
            None => self.manifest_error.is_none(),
            Some(f) => {
                f.verdict == Verdict::Truncated
                    && f.part.last
                    && f.problem
                        .as_ref()
                        .is_none_or(|p| p.kind != "truncated-not-last")
            }
        }
    }

    /// Bytes in every file.
    pub fn size(&self) -> u64 {
        self.totals.size
    }

    /// Commands in every file.
    pub fn commands(&self) -> u64 {
        self.totals.commands
    }
}

/// The manifest's path of a multi-part AOF, as reports print it.
pub fn manifest_path(aof: &Aof) -> Option<String> {
    match aof {
        Aof::MultiPart { manifest_path, .. } | Aof::BadManifest { manifest_path, .. } => {
            Some(manifest_path.display().to_string())
        }
        Aof::Single { .. } => None,
    }
}

/// Checks every file of `aof` and keeps their reports in `files`.
pub fn check(aof: &Aof, name: &str, opts: &Options) -> Report {
    let mut files = Vec::new();
    let mut report = check_each(aof, name, opts, &mut |f| files.push(f));
    report.files = files;
    report
}

/// Checks the files of `aof` one after the other, handing each file's
/// report to `on_file` as soon as it is complete, in load order, and
/// keeping only the [`Totals`]: memory does not grow with the number of
/// files. Each big file is cut into chunks checked on all `opts.threads`
/// threads, which pays more than checking files side by side (a base is
/// usually far bigger than the incr files after it).
pub fn check_each(
    aof: &Aof,
    name: &str,
    opts: &Options,
    on_file: &mut dyn FnMut(FileReport),
) -> Report {
    let mut report = Report::start(name, aof.is_multi_part(), manifest_path(aof));
    // `redis-check-aof`'s line counter runs on from file to file.
    let mut lines = 0;
    let mut each = |f: FileReport, totals: &mut Totals| file_done(f, &mut lines, totals, on_file);
    match aof {
        Aof::BadManifest { error, .. } => {
            report.manifest_error = Some(error.clone());
            report.verdict = Verdict::FormatError;
            return report;
        }
        Aof::Single { input, part } => {
            // Like a manifest's files: on every thread, pages released
            // behind the walk (a 1 GB file was held whole: 970 MB).
            each(check_input(input, part, opts), &mut report.totals);
        }
        Aof::MultiPart { parts, .. } => {
            for p in parts {
                each(open_and_check(p, opts), &mut report.totals);
            }
        }
    }
    report.finish();
    report
}

impl Report {
    fn start(name: &str, multi_part: bool, manifest_path: Option<String>) -> Report {
        Report {
            name: name.to_string(),
            multi_part,
            manifest_path,
            manifest_error: None,
            files: Vec::new(),
            totals: Totals::default(),
            verdict: Verdict::Valid,
        }
    }

    /// The verdict, once every file is in the totals.
    fn finish(&mut self) {
        self.verdict = match self.first_bad() {
            Some(f) => f.verdict,
            None if self.size() == 0 => Verdict::Empty,
            None => Verdict::Valid,
        };
    }
}

/// One file's report is complete: `redis-check-aof`'s line counter (run on
/// from file to file in `lines`), the rule that only the last file may be
/// truncated, the totals; then it goes to `on_file`.
fn file_done(
    mut f: FileReport,
    lines: &mut u64,
    totals: &mut Totals,
    on_file: &mut dyn FnMut(FileReport),
) {
    *lines += f.lines;
    f.ok_up_to_line = *lines + 1;
    if f.verdict == Verdict::Truncated && !f.part.last {
        if let Some(p) = &mut f.problem {
            p.message.push_str(
                "; only the last file of an AOF may be truncated: the server refuses to load this one",
            );
            p.kind = "truncated-not-last";
            p.rule = Rule::TruncatedNotLast;
        }
    }
    totals.add(&f);
    on_file(f);
}

/// Checks a single-file AOF that arrives as a stream (`part` names it),
/// handing its report to `on_file` as [`check_each`] does, in bounded
/// memory: its commands are read through a refilling window
/// ([`StreamReader`]), on the calling thread, and the rest of the stream
/// after a broken record is read only to count its size. The report is the
/// one the same bytes give as a file. An error reading the stream (a
/// corrupt compressed input) is returned instead of a report.
pub fn check_stream(
    stream: &mut Stream,
    part: &Part,
    name: &str,
    opts: &Options,
    on_file: &mut dyn FnMut(FileReport),
) -> io::Result<Report> {
    let f = check_stream_file(stream, part, opts)?;
    let mut report = Report::start(name, false, None);
    file_done(f, &mut 0, &mut report.totals, on_file);
    report.finish();
    Ok(report)
}

fn check_stream_file(stream: &mut Stream, part: &Part, opts: &Options) -> io::Result<FileReport> {
    if stream.peek(1)?.is_empty() {
        return Ok(empty_file(part));
    }
    let mut r = FileReport::new(part);
    r.format = Format::Resp;
    let (mut start, mut head) = (0, Vec::new());
    if starts_with_rdb_magic(stream.peek(6)?) {
        // The preamble is walked by the engine, which stops at its
        // checksum and hands back the commands' first bytes.
        r.format = Format::Rdb;
        let rdb_opts = rdbscope_check::Options {
            threads: opts.threads.max(1),
            ..opts.rdb
        };
        // `Err`: the stream itself broke (a corrupt compressed input).
        let rdbscope_check::Preamble {
            report: mut rdb,
            rest,
        } = rdbscope_check::check_preamble_stream(
            Box::new(&mut *stream),
            &part.name,
            &rdb_opts,
            &mut |_| {},
        )?;
        match (&rdb.first_problem, rdb.end_offset) {
            (None, Some(end)) => {
                start = end;
                head = rest;
            }
            (first, _) => {
                // What the walk read, then the rest of the stream counted.
                r.size = rdb.size + io::copy(stream, &mut io::sink())?;
                rdb.size = r.size;
                rdb_failed(&mut r, first.as_ref());
                r.rdb = Some(rdb);
                return Ok(r);
            }
        }
        r.rdb = Some(rdb);
    }
    r.resp_start = start;
    let mut reader = StreamReader::new(Box::new(&mut *stream), start, head, WINDOW);
    let mut seg = Segment::new(start as usize, 0);
    seg.walk_records(&mut reader, u64::MAX, &mut |_| {});
    if let Some(e) = seg.read_error.take() {
        return Err(io::Error::other(e.message().to_string()));
    }
    r.size = reader.read_to_end()?;
    if let Some(rdb) = &mut r.rdb {
        // A file's RDB report gives the whole file's size.
        rdb.size = r.size;
    }
    resp_done(seg, &mut r);
    Ok(r)
}

/// The report of an empty file.
fn empty_file(part: &Part) -> FileReport {
    let mut r = FileReport::new(part);
    r.verdict = Verdict::Empty;
    if part.file_type.is_none() && part.name.ends_with(".manifest") {
        // By content an empty AOF (so says redis-check-aof too), but
        // by its name a manifest, which the server does not take.
        r.notes.push(
            "an empty file named like a manifest: a server given it as its manifest refuses to start (\"Found an empty AOF manifest\")"
                .to_string(),
        );
    }
    r
}

fn open_and_check(part: &Part, opts: &Options) -> FileReport {
    match rdbscope_input::open_whole(&part.path) {
        Ok(input) => check_input(&input, part, opts),
        Err(e) => {
            let mut r = FileReport::new(part);
            r.format = Format::Missing;
            r.fail(
                Verdict::MissingFile,
                Problem {
                    offset: 0,
                    kind: "missing-file",
                    rule: Rule::MissingFile,
                    message: format!(
                        "cannot open {}, listed in the manifest: {e} (the server refuses to start)",
                        part.path.display()
                    ),
                },
            );
            r
        }
    }
}

/// Checks one file held in `bytes`, on the calling thread.
pub fn check_file(bytes: &[u8], part: &Part, rdb_opts: &rdbscope_check::Options) -> FileReport {
    check_bytes(bytes, part, rdb_opts, 1, &mut |_| {}, &|| None)
}

/// Checks one opened file with `opts.threads` threads, releasing its
/// mapped pages behind the walk (memory stays flat however big the file).
pub fn check_input(input: &Mapped, part: &Part, opts: &Options) -> FileReport {
    let mapped = input.is_mapped();
    let reopen = move || {
        if mapped {
            rdbscope_input::open_whole(&part.path).ok()
        } else {
            None
        }
    };
    let rdb_opts = rdbscope_check::Options {
        threads: opts.threads.max(1),
        ..opts.rdb
    };
    check_bytes(
        input.bytes(),
        part,
        &rdb_opts,
        opts.threads.max(1),
        &mut |offset| input.release_before(offset),
        &reopen,
    )
}

fn check_bytes(
    bytes: &[u8],
    part: &Part,
    rdb_opts: &rdbscope_check::Options,
    threads: usize,
    release: &mut dyn FnMut(u64),
    reopen: &(dyn Fn() -> Option<Mapped> + Sync),
) -> FileReport {
    if bytes.is_empty() {
        return empty_file(part);
    }
    let mut r = FileReport::new(part);
    r.size = bytes.len() as u64;
    let mut start = 0;
    // The server loads a file that starts with `REDIS` as an RDB and reads
    // commands after its checksum (docs/format.md#rdb-preamble).
    if starts_with_rdb_magic(bytes) {
        r.format = Format::Rdb;
        // Value-checking threads read behind the RDB walk: keep their
        // pages mapped.
        let lag = if rdb_opts.threads > 1 { WORKER_LAG } else { 0 };
        let rdb = rdb_part(bytes, &part.name, rdb_opts, &mut |o| {
            release(o.saturating_sub(lag))
        });
        match (&rdb.first_problem, rdb.end_offset) {
            (None, Some(end)) => start = end as usize,
            (first, _) => {
                rdb_failed(&mut r, first.as_ref());
                r.rdb = Some(rdb);
                return r;
            }
        }
        r.rdb = Some(rdb);
    } else {
        r.format = Format::Resp;
    }
    r.resp_start = start as u64;
    check_resp(bytes, start, &mut r, threads, release, reopen);
    r
}

/// The file fails because its RDB part does (`first` is the RDB check's
/// first problem; none when the part ends before its EOF record).
fn rdb_failed(r: &mut FileReport, first: Option<&rdbscope_check::Problem>) {
    let (offset, message) = match first {
        // The RDB checker's line: offset, stage, key, type, message.
        Some(p) => (p.offset, p.to_string()),
        None => (
            r.size,
            "the RDB part ends before its EOF record".to_string(),
        ),
    };
    let what = if r.part.file_type == Some(FileType::Base) {
        "base"
    } else {
        "preamble"
    };
    r.fail(
        Verdict::FormatError,
        Problem {
            offset,
            kind: "rdb",
            rule: Rule::RdbPart,
            message: format!("the RDB {what} is not sane: {message}"),
        },
    );
}

/// Checks the RDB at the start of `bytes` with every rule of
/// `rdbscope_check`; what follows its checksum is the command tail, not
/// the trailing data the RDB checker would otherwise report.
fn rdb_part(
    bytes: &[u8],
    name: &str,
    opts: &rdbscope_check::Options,
    release: &mut dyn FnMut(u64),
) -> rdbscope_check::Report {
    let mut rdb = rdbscope_check::check(bytes, name, opts, release);
    if rdb
        .first_problem
        .as_ref()
        .is_some_and(|p| p.rule == rdbscope_rdb::Rule::TrailingData)
    {
        // A trailing-data problem sits at the very end of the RDB, so it
        // is the first problem only when it is the only one.
        rdb.first_problem = None;
        rdb.problems -= 1;
    } else if rdb.end_offset.is_some_and(|e| e < bytes.len() as u64) && rdb.problems > 0 {
        rdb.problems -= 1;
    }
    rdb
}

/// Small databases are counted in an array, the rest in the map.
const FAST_DBS: usize = 16;

/// The database of commands before the first SELECT of a chunk that
/// does not start at the beginning of the file: not known until the chunk
/// before it is done.
const UNKNOWN_DB: u64 = u64::MAX;

/// Files with at least this many bytes of commands are cut into chunks
/// checked on several threads (small in tests, so that they cut often).
#[cfg(not(test))]
const PARALLEL_MIN: usize = 32 << 20;
#[cfg(test)]
const PARALLEL_MIN: usize = 4 << 10;

/// Release mapped pages behind the walk every this many bytes.
const RELEASE_EVERY: usize = 8 << 20;

/// What the walk over a stretch of commands found; stretches walked on
/// different threads are joined with [`Segment::join`].
#[derive(Debug, Clone)]
struct Segment {
    commands: u64,
    annotations: u64,
    transactions: u64,
    dbs: BTreeMap<u64, u64>,
    first_timestamp: Option<i64>,
    last_timestamp: Option<i64>,
    lines: u64,
    ok_up_to: u64,
    /// Where the walk stopped: the first record boundary at or after its
    /// limit, the end of the file, or a broken record.
    stop: u64,
    /// The transaction open where the walk stopped.
    multi: Option<u64>,
    db: u64,
    problem: Option<(Verdict, Problem)>,
    /// Reading a stream failed (not a problem of the file's bytes).
    read_error: Option<Error>,
}

impl Segment {
    fn new(start: usize, db: u64) -> Segment {
        Segment {
            commands: 0,
            annotations: 0,
            transactions: 0,
            dbs: BTreeMap::new(),
            first_timestamp: None,
            last_timestamp: None,
            lines: 0,
            ok_up_to: start as u64,
            stop: start as u64,
            multi: None,
            db,
            problem: None,
            read_error: None,
        }
    }

    /// Whether a segment walked on another thread from `next_start`
    /// carries on from here: it starts where this one stopped, outside a
    /// transaction, and this one found nothing wrong.
    fn continues_into(&self, next_start: u64) -> bool {
        self.problem.is_none() && self.multi.is_none() && self.stop == next_start
    }

    fn join(&mut self, next: Segment) {
        self.commands += next.commands;
        self.annotations += next.annotations;
        self.transactions += next.transactions;
        for (db, n) in next.dbs {
            let db = if db == UNKNOWN_DB { self.db } else { db };
            *self.dbs.entry(db).or_default() += n;
        }
        if self.first_timestamp.is_none() {
            self.first_timestamp = next.first_timestamp;
        }
        if next.last_timestamp.is_some() {
            self.last_timestamp = next.last_timestamp;
        }
        self.lines += next.lines;
        self.ok_up_to = next.ok_up_to;
        self.stop = next.stop;
        self.multi = next.multi;
        if next.db != UNKNOWN_DB {
            self.db = next.db;
        }
        self.problem = next.problem;
    }

    /// Walks on from `self.stop` until the first record boundary at or
    /// after `limit` (or the end, or a problem), applying the transaction
    /// rules. `release(offset)`: the walk will not read before `offset`
    /// again.
    fn walk(&mut self, bytes: &[u8], limit: usize, release: &mut dyn FnMut(u64)) {
        let mut reader = Reader::resume(bytes, self.stop as usize, self.db);
        self.walk_records(&mut reader, limit as u64, release);
    }

    /// [`Segment::walk`] over any records, read on from `self.stop`.
    fn walk_records<R: Records>(
        &mut self,
        reader: &mut R,
        limit: u64,
        release: &mut dyn FnMut(u64),
    ) {
        let mut per_db = [0u64; FAST_DBS];
        let mut next_release = self.stop + RELEASE_EVERY as u64;
        let mut multi = self.multi;
        let mut ok_up_to = self.ok_up_to;
        while reader.offset() < limit {
            let Some(item) = reader.read_item() else {
                break;
            };
            match item {
                Ok(Item::Command(c)) => {
                    self.commands += 1;
                    match per_db.get_mut(c.db as usize) {
                        Some(n) => *n += 1,
                        None => *self.dbs.entry(c.db).or_default() += 1,
                    }
                    match c.kind {
                        Kind::Other | Kind::Select => {}
                        Kind::Multi => {
                            if let Some(open) = multi {
                                self.problem = Some((
                                    Verdict::FormatError,
                                    Problem {
                                        offset: c.offset,
                                        kind: "transaction",
                                        rule: Rule::MultiNested,
                                        message: format!(
                                            "unexpected MULTI inside the transaction opened at offset {open} (MULTI calls can not be nested)"
                                        ),
                                    },
                                ));
                                break;
                            }
                            multi = Some(c.offset);
                        }
                        Kind::Exec => {
                            if multi.take().is_none() {
                                ok_up_to = c.offset;
                                self.problem = Some((
                                    Verdict::FormatError,
                                    Problem {
                                        offset: c.offset,
                                        kind: "transaction",
                                        rule: Rule::ExecWithoutMulti,
                                        message: "unexpected EXEC without MULTI".to_string(),
                                    },
                                ));
                                break;
                            }
                            self.transactions += 1;
                        }
                    }
                    if multi.is_none() {
                        ok_up_to = c.end();
                    }
                    if c.end() >= next_release {
                        next_release = c.end() + RELEASE_EVERY as u64;
                        release(c.offset);
                    }
                }
                Ok(Item::Annotation(a)) => {
                    self.annotations += 1;
                    if let Some(ts) = a.timestamp() {
                        self.first_timestamp.get_or_insert(ts);
                        self.last_timestamp = Some(ts);
                    }
                    if multi.is_none() {
                        ok_up_to = a.offset + a.len as u64;
                    }
                }
                Err(e) if e.is_read_error() => {
                    self.read_error = Some(e);
                    break;
                }
                Err(e) => {
                    self.problem = Some(problem_of(&e, multi));
                    break;
                }
            }
        }
        for (db, n) in per_db.iter().enumerate() {
            if *n > 0 {
                *self.dbs.entry(db as u64).or_default() += n;
            }
        }
        self.lines += reader.lines();
        self.stop = reader.offset();
        self.db = reader.db();
        self.multi = multi;
        self.ok_up_to = ok_up_to;
    }
}

/// The first place at or after `from` that looks like the start of a
/// command (`\r\n*<digits>\r\n$`): where a chunk checked on another
/// thread starts. A guess: it is used only if the walk of the chunk before
/// lands exactly there.
fn sync_point(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from.max(2);
    while i < bytes.len() {
        let star = i + bytes[i..].iter().position(|&b| b == b'*')?;
        i = star + 1;
        if &bytes[star - 2..star] != b"\r\n" {
            continue;
        }
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && bytes[i + digits..].starts_with(b"\r\n$") {
            return Some(star);
        }
    }
    None
}

/// Walks the commands from `start`; fills counts, `ok_up_to`, the
/// verdict. With `threads > 1` and a big file, the file is cut into
/// chunks at guessed command starts; each chunk is walked on its own
/// thread (reading its own mapping of the file, from `reopen`, so that each
/// releases its own pages), and the chunks are joined in order where each
/// walk landed exactly on the next one's start. Where one did not (a guess
/// inside a value, or a cut inside a transaction), the walk goes on from
/// there on the calling thread: the result never depends on the guesses.
fn check_resp(
    bytes: &[u8],
    start: usize,
    r: &mut FileReport,
    threads: usize,
    release: &mut dyn FnMut(u64),
    reopen: &(dyn Fn() -> Option<Mapped> + Sync),
) {
    let len = bytes.len();
    let mut cuts = vec![start];
    if threads > 1 && len - start >= PARALLEL_MIN {
        for k in 1..threads {
            let guess = start + (len - start) / threads * k;
            match sync_point(bytes, guess) {
                Some(p) if p > *cuts.last().unwrap_or(&0) => cuts.push(p),
                _ => break,
            }
        }
    }
    cuts.push(len);
    let mut seg = Segment::new(start, 0);
    if cuts.len() == 2 {
        seg.walk(bytes, len, release);
    } else {
        let later: Vec<(u64, Segment)> = std::thread::scope(|s| {
            let workers: Vec<_> = cuts
                .windows(2)
                .skip(1)
                .map(|w| {
                    let (from, to) = (w[0], w[1]);
                    s.spawn(move || {
                        // The same file mapped again (same path, same size).
                        let own = reopen().filter(|i| i.bytes().len() == bytes.len());
                        let mut seg = Segment::new(from, UNKNOWN_DB);
                        match &own {
                            Some(input) => {
                                seg.walk(input.bytes(), to, &mut |o| input.release_before(o))
                            }
                            None => seg.walk(bytes, to, &mut |_| {}),
                        }
                        (from as u64, seg)
                    })
                })
                .collect();
            seg.walk(bytes, cuts[1], release);
            workers.into_iter().filter_map(|w| w.join().ok()).collect()
        });
        for (from, next) in later {
            if !seg.continues_into(from) {
                break;
            }
            seg.join(next);
        }
        if seg.problem.is_none() && (seg.stop as usize) < len {
            // A guess did not hold: on from here, on this thread.
            seg.walk(bytes, len, release);
        }
    }
    resp_done(seg, r);
}

/// The walk of a file's commands is over: a transaction still open is a
/// truncation, and the counts go into the report (whose size is known).
fn resp_done(mut seg: Segment, r: &mut FileReport) {
    if seg.problem.is_none() {
        if let Some(open) = seg.multi {
            seg.problem = Some((
                Verdict::Truncated,
                Problem {
                    offset: r.size,
                    kind: "truncated",
                    rule: Rule::MultiWithoutExec,
                    message: format!(
                        "the file ends inside the transaction opened at offset {open} (MULTI without EXEC)"
                    ),
                },
            ));
        }
    }
    r.commands = seg.commands;
    r.annotations = seg.annotations;
    r.transactions = seg.transactions;
    r.dbs = seg.dbs;
    r.first_timestamp = seg.first_timestamp;
    r.last_timestamp = seg.last_timestamp;
    r.lines = seg.lines;
    r.ok_up_to = seg.ok_up_to;
    if let Some((v, p)) = seg.problem {
        r.fail(v, p);
    }
}

fn problem_of(e: &Error, multi: Option<u64>) -> (Verdict, Problem) {
    let mut message = e.message().to_string();
    if let Some(open) = multi {
        message.push_str(&format!(
            " (inside the transaction opened at offset {open})"
        ));
    }
    if e.is_truncation() {
        (
            Verdict::Truncated,
            Problem {
                offset: e.offset,
                kind: "truncated",
                rule: e.rule,
                message,
            },
        )
    } else {
        (
            Verdict::FormatError,
            Problem {
                offset: e.offset,
                kind: "format",
                rule: e.rule,
                message,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::write_command;

    /// Transactions, SELECTs, annotations, and values that look like the
    /// start of a command (false sync points).
    fn aof() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..3000u32 {
            let key = format!("k{i}");
            match i % 9 {
                0 => write_command(&mut v, &[b"SELECT", (i % 4).to_string().as_bytes()]),
                1 => v.extend(format!("#TS:{}\r\n", 1700000000 + i).bytes()),
                2 => {
                    write_command(&mut v, &[b"MULTI"]);
                    write_command(&mut v, &[b"SET", key.as_bytes(), b"1"]);
                    write_command(&mut v, &[b"SELECT", b"7"]);
                    write_command(&mut v, &[b"INCR", key.as_bytes()]);
                    write_command(&mut v, &[b"EXEC"]);
                }
                3 => write_command(
                    &mut v,
                    &[b"SET", key.as_bytes(), b"x\r\n*3\r\n$3\r\nSET\r\n"],
                ),
                _ => write_command(&mut v, &[b"RPUSH", key.as_bytes(), b"a", b"bb", b"ccc"]),
            }
        }
        v
    }

    fn summary(r: &FileReport) -> String {
        format!(
            "{:?} {} {} {} {} {:?} {:?} {:?} {} {} {:?}",
            r.verdict,
            r.commands,
            r.annotations,
            r.transactions,
            r.lines,
            r.dbs,
            r.first_timestamp,
            r.last_timestamp,
            r.ok_up_to,
            r.size,
            r.problem
                .as_ref()
                .map(|p| (p.offset, p.kind, p.rule, &p.message))
        )
    }

    fn run(bytes: &[u8], threads: usize) -> FileReport {
        let part = Part {
            path: std::path::Path::new("t.aof").into(),
            name: "t.aof".into(),
            file_type: None,
            seq: None,
            last: true,
        };
        let opts = rdbscope_check::Options::default();
        check_bytes(bytes, &part, &opts, threads, &mut |_| {}, &|| None)
    }

    #[test]
    fn chunks_on_threads_give_the_one_thread_report() {
        let f = aof();
        assert!(f.len() > 16 * PARALLEL_MIN);
        let mut variants = vec![f.clone()];
        for cut in (1..f.len()).step_by(f.len() / 23) {
            variants.push(f[..cut].to_vec());
            let mut g = f.clone();
            g.insert(cut, b'G');
            variants.push(g);
            let mut m = f.clone();
            m.splice(cut..cut, b"*1\r\n$5\r\nMULTI\r\n".iter().copied());
            variants.push(m);
        }
        for v in &variants {
            let one = summary(&run(v, 1));
            for threads in 2..6 {
                assert_eq!(
                    summary(&run(v, threads)),
                    one,
                    "{threads} threads, {} bytes",
                    v.len()
                );
            }
        }
        assert_eq!(run(&f, 3).verdict, Verdict::Valid);
    }
}
