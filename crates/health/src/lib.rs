//! A health report for a Redis or Valkey data directory, read from its
//! files alone: what `INFO persistence` and `INFO keyspace` would say about
//! the snapshot and the AOF there, without the server (which may be down,
//! or elsewhere: a backup folder holds only files).
//!
//! [`inspect`] finds the data in a directory (`dump.rdb` or any RDB,
//! compressed or not; `appendonlydir/` with its manifest; a single-file
//! `appendonly.aof`), and reads each the fast way: record headers only,
//! values skipped, the CRC-64 verified (`--deep` adds the full `check`).
//! The command line renders the [`Report`] and decides the exit code from
//! [`Report::problems`]. Nothing here prints.

#![warn(missing_docs)]

use rdbscope_aof::info::Commands;
use rdbscope_aof::source::{rdb_end, starts_with_rdb_magic};
use rdbscope_aof::{Aof, Opened, Part};
use rdbscope_engine::Source;
use rdbscope_input::{ContentKind, Input};
use rdbscope_printer::info::{summarize_partial, Summary};
use rdbscope_rdb::{Checksum, KeyRecord};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// How to read, and what counts as healthy.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run the full `check` on every file too (decodes every value).
    pub deep: bool,
    /// The current time, Unix seconds (ages are counted to it).
    pub now: i64,
    /// A backup older than this (seconds) is a problem.
    pub max_age: Option<i64>,
    /// A backup with fewer keys is a problem.
    pub min_keys: Option<u64>,
    /// `auto-aof-rewrite-percentage` (the server's default: 100).
    pub rewrite_percentage: u64,
    /// `auto-aof-rewrite-min-size` (the server's default: 64 MB).
    pub rewrite_min_size: u64,
    /// Threads for the walks.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            deep: false,
            now: 0,
            max_age: None,
            min_keys: None,
            rewrite_percentage: 100,
            rewrite_min_size: 64 << 20,
            threads: 1,
        }
    }
}

/// One RDB file.
#[derive(Debug)]
pub struct RdbHealth {
    /// Where it is.
    pub path: PathBuf,
    /// Its size on disk.
    pub size: u64,
    /// Its modification time, Unix seconds.
    pub modified: Option<i64>,
    /// What was read: header, aux fields, keys per database, checksum; and
    /// the error that ended the walk, if one did.
    pub summary: Option<Summary>,
    /// Why it could not be read at all.
    pub error: Option<String>,
    /// With `--deep`: the first problem the full check found, or `None`
    /// for a clean check (not run: `deep` is false).
    pub deep: Option<Option<String>>,
}

/// One file of an AOF.
#[derive(Debug)]
pub struct AofFile {
    /// The manifest's entry (or the single file's path).
    pub part: Part,
    /// Its size on disk.
    pub size: u64,
    /// Its modification time, Unix seconds.
    pub modified: Option<i64>,
    /// `rdb` (an RDB base or preamble first), `resp`, `empty` or `missing`.
    pub format: &'static str,
    /// Its commands (after the RDB part).
    pub commands: Option<Commands>,
    /// Why it could not be read.
    pub error: Option<String>,
}

/// An AOF: a multi-part AOF's directory, or a single file.
#[derive(Debug)]
pub struct AofHealth {
    /// The directory or file.
    pub path: PathBuf,
    /// The manifest, for a multi-part AOF.
    pub manifest: Option<PathBuf>,
    /// Its files in load order.
    pub files: Vec<AofFile>,
    /// The RDB base's (or preamble's) summary.
    pub base: Option<Summary>,
    /// A manifest the server refuses.
    pub error: Option<String>,
    /// With `--deep`: the check's first problem, `Some(None)` when clean.
    pub deep: Option<Option<String>>,
}

/// What a directory holds.
#[derive(Debug)]
pub struct Report {
    /// The directory (or file) inspected.
    pub dir: PathBuf,
    /// RDB files, by name.
    pub rdbs: Vec<RdbHealth>,
    /// AOFs.
    pub aofs: Vec<AofHealth>,
    /// Files that are neither (with what they look like).
    pub others: Vec<(PathBuf, String)>,
    /// The options the report was made with.
    pub options: Options,
}

fn mtime(m: &fs::Metadata) -> Option<i64> {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
}

/// Accepts every key (health counts them all).
struct Every;

impl rdbscope_printer::dump::KeyFilter for Every {
    fn accepts(&mut self, _: &KeyRecord<'_>) -> rdbscope_rdb::Result<bool> {
        Ok(true)
    }
}

fn engine_options(o: &Options) -> rdbscope_engine::Options {
    rdbscope_engine::Options {
        threads: o.threads.max(1),
        ..rdbscope_engine::Options::default()
    }
}

/// Reads `dir` (a data directory or backup folder; also a single file or
/// an `appendonlydir`). `Err` only when the directory cannot be listed.
pub fn inspect(dir: &Path, options: &Options) -> io::Result<Report> {
    let mut report = Report {
        dir: dir.to_path_buf(),
        rdbs: Vec::new(),
        aofs: Vec::new(),
        others: Vec::new(),
        options: options.clone(),
    };
    if !dir.is_dir() {
        add_path(&mut report, dir);
        return Ok(report);
    }
    // A directory with a manifest is itself an AOF.
    if rdbscope_aof::source::find_manifest(dir).is_ok() {
        report.aofs.push(aof_health(dir, options));
        return Ok(report);
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        add_path(&mut report, &path);
    }
    Ok(report)
}

fn add_path(report: &mut Report, path: &Path) {
    let options = report.options.clone();
    if path.is_dir() {
        if rdbscope_aof::source::find_manifest(path).is_ok() {
            report.aofs.push(aof_health(path, &options));
        }
        return;
    }
    let Ok(meta) = fs::metadata(path) else { return };
    if !meta.is_file() || meta.len() == 0 {
        return;
    }
    let mut input = match Input::open(path) {
        Ok(i) => i,
        Err(e) => {
            report.others.push((path.to_path_buf(), e.to_string()));
            return;
        }
    };
    let kind = match input.content_kind() {
        Ok(k) => k,
        Err(e) => {
            report
                .others
                .push((path.to_path_buf(), format!("read error: {e}")));
            return;
        }
    };
    match kind {
        ContentKind::Rdb => {
            // An RDB-preamble AOF looks the same: its aux fields say.
            let head = input.head().map(<[u8]>::to_vec).unwrap_or_default();
            let name = path.display().to_string();
            if rdbscope_aof::source::detect(&head, &name) != rdbscope_aof::source::Content::Rdb {
                report.aofs.push(aof_health(path, &options));
            } else {
                report.rdbs.push(rdb_health(path, input, &meta, &options));
            }
        }
        ContentKind::Aof => report.aofs.push(aof_health(path, &options)),
        ContentKind::AofManifest => {} // read with its directory
        ContentKind::Json | ContentKind::Empty => {}
        ContentKind::Unknown(what) => report.others.push((path.to_path_buf(), what)),
    }
}

fn rdb_health(path: &Path, input: Input, meta: &fs::Metadata, o: &Options) -> RdbHealth {
    let mut h = RdbHealth {
        path: path.to_path_buf(),
        size: meta.len(),
        modified: mtime(meta),
        summary: None,
        error: None,
        deep: None,
    };
    let walk =
        |source: Source<'_>| summarize_partial(source, &engine_options(o), || Every, &mut |_| {});
    let (summary, error) = match input.into_source() {
        rdbscope_input::Source::Mapped(m) => {
            let release = |offset: u64| m.release_before(offset);
            walk(Source::Mapped {
                bytes: m.bytes(),
                release: Some(&release),
            })
        }
        rdbscope_input::Source::Stream(s) => walk(Source::Stream(Box::new(s))),
    };
    if summary.is_none() {
        h.error = error.map(|e| e.to_string());
    }
    h.summary = summary;
    if o.deep {
        h.deep = Some(deep_rdb(path, o));
    }
    h
}

fn deep_rdb(path: &Path, o: &Options) -> Option<String> {
    let opts = rdbscope_check::Options {
        threads: o.threads.max(1),
        ..rdbscope_check::Options::default()
    };
    let name = path.display().to_string();
    let report = match Input::open(path) {
        Err(e) => return Some(e.to_string()),
        Ok(i) => match i.into_source() {
            rdbscope_input::Source::Mapped(m) => {
                let release = |offset: u64| m.release_before(offset);
                rdbscope_check::check_source(
                    Source::Mapped {
                        bytes: m.bytes(),
                        release: Some(&release),
                    },
                    &name,
                    &opts,
                    &mut |_| {},
                )
            }
            rdbscope_input::Source::Stream(s) => {
                rdbscope_check::check_source(Source::Stream(Box::new(s)), &name, &opts, &mut |_| {})
            }
        },
    };
    if report.is_ok() {
        None
    } else {
        Some(report.first_problem.as_ref().map_or_else(
            || "the file ends before its EOF record".to_string(),
            |p| p.to_string(),
        ))
    }
}

/// Reads the AOF at `path` (a file, a manifest or an `appendonlydir`): its
/// files, their commands and the RDB base's summary.
pub fn aof_health(path: &Path, o: &Options) -> AofHealth {
    let mut h = AofHealth::new(path);
    let aof = match rdbscope_aof::open(path) {
        Ok(Opened::Aof(aof)) => aof,
        Ok(Opened::Rdb(_)) => {
            h.error = Some("an RDB file, not an AOF".to_string());
            return h;
        }
        Err(e) => {
            h.error = Some(e.to_string());
            return h;
        }
    };
    aof_health_of(path, &aof, o)
}

/// [`aof_health`] of an AOF opened already (from `path`): a single file
/// read from standard input or decompressed cannot be opened again. A
/// single file's size is that of its content.
pub fn aof_health_of(path: &Path, aof: &Aof, o: &Options) -> AofHealth {
    let mut h = AofHealth::new(path);
    match aof {
        Aof::BadManifest {
            manifest_path,
            error,
        } => {
            h.manifest = Some(manifest_path.clone());
            h.error = Some(format!("the server refuses the manifest: {error}"));
            return h;
        }
        Aof::MultiPart { manifest_path, .. } => h.manifest = Some(manifest_path.clone()),
        Aof::Single { .. } => {}
    }
    for part in aof.parts() {
        let meta = fs::metadata(&part.path).ok();
        let size = match aof {
            Aof::Single { input, .. } => Some(input.bytes().len() as u64),
            _ => meta.as_ref().map(|m| m.len()),
        };
        let mut f = AofFile {
            part: part.clone(),
            size: size.unwrap_or(0),
            modified: meta.as_ref().and_then(mtime),
            format: "missing",
            commands: None,
            error: None,
        };
        let opened;
        let mapped = match aof {
            Aof::Single { input, .. } => input,
            _ => match rdbscope_input::open_whole(&part.path) {
                Ok(m) => {
                    opened = m;
                    &opened
                }
                Err(e) => {
                    f.error = Some(e.to_string());
                    h.files.push(f);
                    continue;
                }
            },
        };
        let bytes = mapped.bytes();
        let release = |offset: u64| mapped.release_before(offset);
        f.format = if bytes.is_empty() { "empty" } else { "resp" };
        let mut start = 0;
        if starts_with_rdb_magic(bytes) {
            f.format = "rdb";
            match rdb_end(bytes) {
                Ok(end) => {
                    start = end as usize;
                    let (summary, _) = summarize_partial(
                        Source::Mapped {
                            bytes: &bytes[..start],
                            release: Some(&release),
                        },
                        &engine_options(o),
                        || Every,
                        &mut |_| {},
                    );
                    if h.base.is_none() {
                        h.base = summary;
                    }
                }
                Err(e) => {
                    let (summary, _) = summarize_partial(
                        Source::Mapped {
                            bytes,
                            release: None,
                        },
                        &engine_options(o),
                        || Every,
                        &mut |_| {},
                    );
                    if h.base.is_none() {
                        h.base = summary;
                    }
                    f.error = Some(format!("the RDB part is broken: {e}"));
                    h.files.push(f);
                    continue;
                }
            }
        }
        let c = rdbscope_aof::info::commands_releasing(bytes, start, &release);
        if let Some(e) = &c.error {
            f.error = Some(e.to_string());
        }
        f.commands = Some(c);
        h.files.push(f);
    }
    if o.deep {
        let opts = rdbscope_aof::Options {
            threads: o.threads.max(1),
            ..rdbscope_aof::Options::default()
        };
        let r = rdbscope_aof::check(aof, &path.display().to_string(), &opts);
        h.deep = Some(match r.first_bad() {
            None if r.manifest_error.is_none() => None,
            None => r.manifest_error.as_ref().map(|e| e.to_string()),
            Some(f) => Some(format!(
                "{}: {}",
                f.part.name,
                f.problem.as_ref().map_or("", |p| p.message.as_str())
            )),
        });
    }
    h
}

/// [`aof_health`] of a single-file AOF that arrives as a stream (standard
/// input, a pipe, a compressed file; `part` names it), read once, through
/// a refilling window, in bounded memory. The file's size is that of its
/// (decompressed) content; its modification time is the named file's (a
/// compressed file's), none for standard input or a pipe. An RDB
/// preamble is summarized as it arrives, and the commands read from where
/// it ends. `Err` when reading the stream fails (a corrupt compressed
/// input).
pub fn aof_stream_health(
    path: &Path,
    stream: &mut rdbscope_input::Stream,
    part: &Part,
    o: &Options,
) -> io::Result<AofHealth> {
    let mut f = AofFile {
        part: part.clone(),
        size: 0,
        modified: fs::metadata(&part.path)
            .ok()
            .filter(fs::Metadata::is_file)
            .as_ref()
            .and_then(mtime),
        format: "empty",
        commands: None,
        error: None,
    };
    let mut h = AofHealth::new(path);
    let (mut start, mut head) = (0, Vec::new());
    if starts_with_rdb_magic(stream.peek(6)?) {
        f.format = "rdb";
        let p = rdbscope_printer::info::summarize_preamble(
            Box::new(&mut *stream),
            &engine_options(o),
            || Every,
        );
        if let Some(e) = p.read_error {
            // The stream itself broke (a corrupt compressed input).
            return Err(e);
        }
        match (p.summary, p.error) {
            // Whole, or whole with a wrong checksum (which the summary
            // says): the commands begin after the checksum.
            (Some(s), error)
                if error.is_none()
                    || matches!(&error, Some(rdbscope_printer::PrintError::Rdb(e))
                        if matches!(e.kind, rdbscope_rdb::ErrorKind::ChecksumMismatch { .. })) =>
            {
                (start, head) = (p.end, p.rest);
                h.base = Some(Summary {
                    file_size: p.end,
                    ..s
                });
            }
            (summary, error) => {
                // What the walk read, then the rest of the stream counted:
                // the file's size, as its summary gives it.
                let read = summary.as_ref().map_or(0, |s| s.file_size);
                f.size = read + io::copy(stream, &mut io::sink())?;
                h.base = summary.map(|s| Summary {
                    file_size: f.size,
                    ..s
                });
                let e = error.map_or_else(
                    || "the RDB part ends before its EOF record".to_string(),
                    |e| e.to_string(),
                );
                f.error = Some(format!("the RDB part is broken: {e}"));
                h.files.push(f);
                return Ok(h);
            }
        }
    } else if !stream.peek(1)?.is_empty() {
        f.format = "resp";
    }
    if f.format != "empty" {
        let mut reader = rdbscope_aof::stream::StreamReader::new(
            Box::new(&mut *stream),
            start,
            head,
            rdbscope_engine::WINDOW,
        );
        let c = rdbscope_aof::info::count(&mut reader);
        if let Some(e) = &c.error {
            if e.is_read_error() {
                return Err(io::Error::other(e.message().to_string()));
            }
            f.error = Some(e.to_string());
        }
        f.size = reader.read_to_end()?;
        f.commands = Some(c);
    }
    h.files.push(f);
    Ok(h)
}

/// The servers that read an RDB of this magic and version.
pub fn readable_by(valkey_magic: bool, version: u32) -> &'static str {
    if valkey_magic {
        return match version {
            80 => "Valkey >= 9.0, not Redis",
            _ => "no released server (a Valkey development format)",
        };
    }
    match version {
        1..=6 => "Redis >= 2.6 (any release since) and Valkey",
        7 => "Redis >= 3.2 and Valkey",
        8 => "Redis >= 4.0 and Valkey",
        9 => "Redis >= 5.0 and Valkey",
        10 => "Redis >= 7.0 and Valkey",
        11 => "Redis >= 7.2 and Valkey >= 7.2",
        12 => "Redis >= 7.4, not Valkey (refused as a foreign version)",
        13 => "Redis >= 8.6, not Valkey (refused as a foreign version)",
        _ => "no server known to rdbscope",
    }
}

impl RdbHealth {
    fn aux(&self, name: &[u8]) -> Option<String> {
        let s = self.summary.as_ref()?;
        s.aux
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// When the save started (the `ctime` aux field), Unix seconds.
    pub fn saved_at(&self) -> Option<i64> {
        self.aux(b"ctime")?.parse().ok()
    }

    /// The writer's version (`redis-ver` or `valkey-ver`).
    pub fn server_version(&self) -> Option<String> {
        self.aux(b"valkey-ver").or_else(|| self.aux(b"redis-ver"))
    }

    /// Keys read.
    pub fn keys(&self) -> u64 {
        self.summary.as_ref().map_or(0, |s| s.total_keys())
    }

    /// Whether the file was read to its end with its checksum right (and,
    /// with `--deep`, checked clean): what a server needs to load it.
    pub fn loads(&self) -> bool {
        let whole = self.summary.as_ref().is_some_and(|s| {
            s.error.is_none() && !matches!(s.checksum, None | Some(Checksum::NotVerified(_)))
        });
        whole && self.error.is_none() && !matches!(self.deep, Some(Some(_)))
    }

    /// The servers that read it.
    pub fn readable_by(&self) -> &'static str {
        match &self.summary {
            Some(s) => readable_by(s.header.magic() == "VALKEY", s.header.version),
            None => "unknown (unreadable)",
        }
    }
}

impl AofHealth {
    /// Nothing read yet of the AOF at `path`.
    fn new(path: &Path) -> AofHealth {
        AofHealth {
            path: path.to_path_buf(),
            manifest: None,
            files: Vec::new(),
            base: None,
            error: None,
            deep: None,
        }
    }

    /// The base file's size (for a single file: its RDB preamble's, when
    /// it has one). The server's `aof_base_size` is this right after a
    /// rewrite or a restart.
    pub fn base_size(&self) -> Option<u64> {
        match &self.manifest {
            Some(_) => self
                .files
                .iter()
                .find(|f| f.part.file_type == Some(rdbscope_aof::manifest::FileType::Base))
                .map(|f| f.size),
            None => self
                .files
                .first()
                .filter(|f| f.format == "rdb")
                .and_then(|f| f.commands.as_ref().map(|c| c.start)),
        }
    }

    /// The base and every incr file: the server's `aof_current_size`.
    pub fn current_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Growth since the last rewrite, in percent of the base.
    pub fn growth_percent(&self) -> Option<u64> {
        let base = self.base_size()?;
        (base > 0).then(|| (self.current_size().saturating_sub(base)) * 100 / base)
    }

    /// Whether the server would start a rewrite now (its `auto-aof-rewrite`
    /// rule: at least the minimum size, and grown by the percentage).
    pub fn rewrite_due(&self, o: &Options) -> bool {
        o.rewrite_percentage > 0
            && self.current_size() >= o.rewrite_min_size
            && self
                .growth_percent()
                .is_some_and(|g| g >= o.rewrite_percentage)
    }

    /// When a file of it was last written, Unix seconds.
    pub fn last_write(&self) -> Option<i64> {
        self.files.iter().filter_map(|f| f.modified).max()
    }

    /// Keys of the base or preamble (commands of the incr files are not
    /// replayed, so not counted).
    pub fn base_keys(&self) -> u64 {
        self.base.as_ref().map_or(0, |s| s.total_keys())
    }

    /// Whether the server would load it: a valid manifest, every file
    /// there, whole commands, a whole RDB part; a truncated last file is
    /// loaded (`aof-load-truncated yes`).
    pub fn loads(&self) -> bool {
        if self.error.is_some() || matches!(self.deep, Some(Some(_))) {
            return false;
        }
        let n = self.files.len();
        self.files.iter().enumerate().all(|(i, f)| match &f.error {
            None => true,
            Some(_) => {
                i + 1 == n
                    && f.commands
                        .as_ref()
                        .is_some_and(|c| c.error.as_ref().is_some_and(|e| e.is_truncation()))
            }
        }) && self.base.as_ref().is_none_or(|b| b.error.is_none())
    }
}

impl Report {
    /// The newest data here: its age in seconds and which file.
    pub fn newest(&self) -> Option<(i64, PathBuf)> {
        let rdbs = self
            .rdbs
            .iter()
            .filter_map(|r| r.saved_at().or(r.modified).map(|t| (t, r.path.clone())));
        let aofs = self
            .aofs
            .iter()
            .filter_map(|a| a.last_write().map(|t| (t, a.path.clone())));
        rdbs.chain(aofs)
            .max_by_key(|(t, _)| *t)
            .map(|(t, p)| (self.options.now - t, p))
    }

    /// The snapshot whose keys `--min-keys` checks: the newest RDB file,
    /// else the RDB base of the newest AOF.
    pub fn newest_keys(&self) -> Option<(u64, PathBuf)> {
        if let Some(r) = self
            .rdbs
            .iter()
            .max_by_key(|r| r.saved_at().or(r.modified).unwrap_or(0))
        {
            return Some((r.keys(), r.path.clone()));
        }
        self.aofs
            .iter()
            .max_by_key(|a| a.last_write().unwrap_or(0))
            .map(|a| (a.base_keys(), a.path.clone()))
    }

    /// Every reason for exit 1: a file the server would not load, no data
    /// at all, a backup older than `--max-age`, fewer keys than
    /// `--min-keys`.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.rdbs.is_empty() && self.aofs.is_empty() {
            p.push(format!("no RDB or AOF file in {}", self.dir.display()));
        }
        for r in &self.rdbs {
            if !r.loads() {
                p.push(format!(
                    "{}: the server would not load it",
                    r.path.display()
                ));
            }
        }
        for a in &self.aofs {
            if !a.loads() {
                p.push(format!(
                    "{}: the server would not load it",
                    a.path.display()
                ));
            }
        }
        if let (Some(max), Some((age, path))) = (self.options.max_age, self.newest()) {
            if age > max {
                p.push(format!(
                    "stale: the newest data ({}) is {age} s old, more than --max-age {max} s",
                    path.display()
                ));
            }
        }
        if let (Some(min), Some((keys, path))) = (self.options.min_keys, self.newest_keys()) {
            if keys < min {
                p.push(format!(
                    "{} holds {keys} keys, fewer than --min-keys {min}",
                    path.display()
                ));
            }
        }
        p
    }
}
