//! Checking an AOF the way `redis-check-aof` does (FORMAT.md 7.5), with
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
use crate::resp::{Item, Kind, Reader};
use crate::source::{starts_with_rdb_magic, Aof, Part};
use rdbscope_rdb::input::Input;
use std::collections::BTreeMap;

/// What to check, and how.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// For the RDB base or preamble.
    pub rdb: rdbscope_check::Options,
    /// Threads for all the files of one AOF (files are checked at the same
    /// time when there are several).
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
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Empty => "empty",
            Verdict::Truncated => "truncated",
            Verdict::FormatError => "format-error",
            Verdict::MissingFile => "missing-file",
        }
    }

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
    pub message: String,
}

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Resp,
    /// An RDB, then (maybe) commands.
    Rdb,
    Empty,
    /// Could not be opened.
    Missing,
}

impl Format {
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
    pub part: Part,
    pub size: u64,
    pub format: Format,
    /// The RDB part's report, when the file starts with one.
    pub rdb: Option<rdbscope_check::Report>,
    /// Where the commands start (after the RDB part).
    pub resp_start: u64,
    pub commands: u64,
    pub annotations: u64,
    /// Complete MULTI ... EXEC blocks.
    pub transactions: u64,
    /// Commands per database.
    pub dbs: BTreeMap<u64, u64>,
    /// `#TS:` annotations: the first and the last time.
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    /// Everything before this offset is whole (`redis-check-aof`'s
    /// `ok_up_to`); the file size when the file is valid.
    pub ok_up_to: u64,
    /// Lines read in this file as `redis-check-aof` counts them.
    pub lines: u64,
    /// `redis-check-aof`'s `ok_up_to_line`: its line counter runs on
    /// through all the files of a manifest.
    pub ok_up_to_line: u64,
    pub verdict: Verdict,
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
    pub multi_part: bool,
    pub manifest_path: Option<String>,
    pub manifest_error: Option<ManifestError>,
    pub files: Vec<FileReport>,
    pub verdict: Verdict,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.verdict.is_ok()
    }

    /// The first file with a problem, in load order.
    pub fn first_bad(&self) -> Option<&FileReport> {
        self.files.iter().find(|f| !f.verdict.is_ok())
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

    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn commands(&self) -> u64 {
        self.files.iter().map(|f| f.commands).sum()
    }
}

/// Checks every file of `aof`, several at a time when `opts.threads > 1`.
pub fn check(aof: &Aof, name: &str, opts: &Options) -> Report {
    let mut report = Report {
        name: name.to_string(),
        multi_part: aof.is_multi_part(),
        manifest_path: None,
        manifest_error: None,
        files: Vec::new(),
        verdict: Verdict::Valid,
    };
    match aof {
        Aof::BadManifest {
            manifest_path,
            error,
        } => {
            report.manifest_path = Some(manifest_path.display().to_string());
            report.manifest_error = Some(error.clone());
            report.verdict = Verdict::FormatError;
            return report;
        }
        Aof::Single { input, part } => {
            report
                .files
                .push(check_file(input.bytes(), part, &opts.rdb));
        }
        Aof::MultiPart {
            manifest_path,
            parts,
            ..
        } => {
            report.manifest_path = Some(manifest_path.display().to_string());
            report.files = check_parts(parts, opts);
        }
    }
    // `redis-check-aof`'s line counter runs on from file to file.
    let mut lines = 0;
    for f in &mut report.files {
        lines += f.lines;
        f.ok_up_to_line = lines + 1;
    }
    for f in &mut report.files {
        if f.verdict == Verdict::Truncated && !f.part.last {
            if let Some(p) = &mut f.problem {
                p.message.push_str(
                    "; only the last file of an AOF may be truncated: the server refuses to load this one",
                );
                p.kind = "truncated-not-last";
            }
        }
    }
    report.verdict = match report.first_bad() {
        Some(f) => f.verdict,
        None if report.size() == 0 => Verdict::Empty,
        None => Verdict::Valid,
    };
    report
}

/// The files of a manifest, on up to `opts.threads` threads; the report
/// lists them in load order whoever finished first.
fn check_parts(parts: &[Part], opts: &Options) -> Vec<FileReport> {
    let threads = opts.threads.clamp(1, parts.len().max(1));
    // Threads left over go to the RDB checker of the files in hand.
    let rdb = rdbscope_check::Options {
        threads: (opts.threads / threads).max(1),
        ..opts.rdb
    };
    if threads == 1 {
        return parts.iter().map(|p| open_and_check(p, &rdb)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, FileReport)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(p) = parts.get(i) else { break };
                        mine.push((i, open_and_check(p, &rdb)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

fn open_and_check(part: &Part, rdb: &rdbscope_check::Options) -> FileReport {
    match Input::open(&part.path) {
        Ok(input) => check_file(input.bytes(), part, rdb),
        Err(e) => {
            let mut r = FileReport::new(part);
            r.format = Format::Missing;
            r.fail(
                Verdict::MissingFile,
                Problem {
                    offset: 0,
                    kind: "missing-file",
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

/// Checks one file held in `bytes`.
pub fn check_file(bytes: &[u8], part: &Part, rdb_opts: &rdbscope_check::Options) -> FileReport {
    let mut r = FileReport::new(part);
    r.size = bytes.len() as u64;
    if bytes.is_empty() {
        r.verdict = Verdict::Empty;
        return r;
    }
    let mut start = 0;
    // The server loads a file that starts with `REDIS` as an RDB and reads
    // commands after its checksum (FORMAT.md 7.2).
    if starts_with_rdb_magic(bytes) {
        r.format = Format::Rdb;
        let rdb = rdb_part(bytes, &part.name, rdb_opts);
        match (&rdb.first_problem, rdb.end_offset) {
            (None, Some(end)) => start = end as usize,
            (first, _) => {
                let (offset, message) = match first {
                    // The RDB checker's line: offset, stage, key, type, message.
                    Some(p) => (p.offset, p.to_string()),
                    None => (
                        r.size,
                        "the RDB part ends before its EOF record".to_string(),
                    ),
                };
                r.fail(
                    Verdict::FormatError,
                    Problem {
                        offset,
                        kind: "rdb",
                        message: format!(
                            "the RDB {} is not sane: {message}",
                            if part.file_type == Some(FileType::Base) {
                                "base"
                            } else {
                                "preamble"
                            }
                        ),
                    },
                );
                r.rdb = Some(rdb);
                return r;
            }
        }
        r.rdb = Some(rdb);
    } else {
        r.format = Format::Resp;
    }
    r.resp_start = start as u64;
    check_resp(bytes, start, &mut r);
    r
}

/// Checks the RDB at the start of `bytes` with every rule of
/// `rdbscope_check`; what follows its checksum is the command tail, not
/// the trailing data the RDB checker would otherwise report.
fn rdb_part(bytes: &[u8], name: &str, opts: &rdbscope_check::Options) -> rdbscope_check::Report {
    let mut rdb = rdbscope_check::check(bytes, name, opts, |_| {});
    if rdb
        .first_problem
        .as_ref()
        .is_some_and(|p| p.kind == "trailing-data")
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

/// Walks the commands from `start`; fills counts, `ok_up_to`, the
/// verdict.
fn check_resp(bytes: &[u8], start: usize, r: &mut FileReport) {
    let mut reader = Reader::new(bytes, start);
    let mut multi: Option<u64> = None;
    let mut ok_up_to = start as u64;
    let mut per_db = [0u64; FAST_DBS];
    let mut problem: Option<(Verdict, Problem)> = None;
    while let Some(item) = reader.read() {
        match item {
            Ok(Item::Command(c)) => {
                r.commands += 1;
                match per_db.get_mut(c.db as usize) {
                    Some(n) => *n += 1,
                    None => *r.dbs.entry(c.db).or_default() += 1,
                }
                match c.kind {
                    Kind::Other | Kind::Select => {}
                    Kind::Multi => {
                        if let Some(open) = multi {
                            problem = Some((
                                Verdict::FormatError,
                                Problem {
                                    offset: c.offset,
                                    kind: "transaction",
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
                            problem = Some((
                                Verdict::FormatError,
                                Problem {
                                    offset: c.offset,
                                    kind: "transaction",
                                    message: "unexpected EXEC without MULTI".to_string(),
                                },
                            ));
                            break;
                        }
                        r.transactions += 1;
                    }
                }
                if multi.is_none() {
                    ok_up_to = c.end();
                }
            }
            Ok(Item::Annotation(a)) => {
                r.annotations += 1;
                if let Some(ts) = a.timestamp() {
                    r.first_timestamp.get_or_insert(ts);
                    r.last_timestamp = Some(ts);
                }
                if multi.is_none() {
                    ok_up_to = a.offset + a.len as u64;
                }
            }
            Err(e) => {
                problem = Some(problem_of(&e, multi));
                break;
            }
        }
    }
    if problem.is_none() {
        if let Some(open) = multi {
            problem = Some((
                Verdict::Truncated,
                Problem {
                    offset: r.size,
                    kind: "truncated",
                    message: format!(
                        "the file ends inside the transaction opened at offset {open} (MULTI without EXEC)"
                    ),
                },
            ));
        }
    }
    for (db, n) in per_db.iter().enumerate() {
        if *n > 0 {
            r.dbs.insert(db as u64, *n);
        }
    }
    r.lines = reader.lines();
    r.ok_up_to = ok_up_to;
    if let Some((v, p)) = problem {
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
                message,
            },
        )
    } else {
        (
            Verdict::FormatError,
            Problem {
                offset: e.offset,
                kind: "format",
                message,
            },
        )
    }
}
