//! Integrity checking of RDB files: every value decoded completely and held
//! to the rules Redis applies with `sanitize-dump-payload yes` (see
//! docs/format.md#validation-rules), plus the CRC-64 trailer and what follows it.
//!
//! The checker is a consumer of the walking engine (`rdbscope-engine`),
//! like the JSON printer: a [`Sink`] checks the records of one chunk into
//! a partial report, and the reports are put together in file order. Structural rules (bounds, header counts, `prevlen`, `backlen`,
//! `zltail`, terminators, stream listpack layout, `lp_count`) are enforced
//! by the decoder's walkers themselves; this crate adds the semantic rules
//! (duplicates, order, NaN, TTL ranges, PEL ownership, duplicate keys,
//! trailing bytes) and turns everything into a [`Report`].
//!
//! Memory: values are walked, not loaded. What grows is bounded by the
//! largest single value (duplicate detection keeps 8 bytes per element of
//! the value being checked); the key fingerprints for duplicate keys are
//! held up to a budget and spilled to temporary files beyond it (see
//! [`keyprints`]).

#![warn(missing_docs)]

pub mod dups;
pub mod keyprints;
pub mod report;
pub mod rules;

pub use report::{Problem, Report};
pub use rules::{ValueChecker, ValueStats};

use keyprints::{key_print, print_offset, wide_key_print, KeyPrints, Print};
use rdbscope_engine::{At, Collector, Flow, Sink, Source, WalkError};
use rdbscope_rdb::{Error, Header, KeyRecord, Rdb, Record, Rule, Scratch, Stage};
use std::cell::RefCell;
use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

/// What to check.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Skip the CRC-64 comparison (as librdb's `--ignore-checksum`).
    pub ignore_checksum: bool,
    /// Largest decompressed LZF string accepted.
    pub max_decompressed: u64,
    /// "Now", for counting already-expired keys (Unix ms).
    pub now_ms: i64,
    /// Threads that walk and check chunks of a mapped file (see
    /// `rdbscope-engine`). 1: everything on the calling thread.
    pub threads: usize,
    /// Key fingerprints held in memory before they are spilled to a
    /// temporary file (16 bytes each).
    pub key_print_budget: usize,
    /// Bytes per chunk of the walk (tests make it small).
    pub chunk_size: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            ignore_checksum: false,
            max_decompressed: rdbscope_rdb::rdb_string::DEFAULT_MAX_DECOMPRESSED,
            now_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            threads: 1,
            key_print_budget: keyprints::DEFAULT_BUDGET,
            chunk_size: rdbscope_engine::default_chunk_size(),
        }
    }
}

/// Checks one file held in `bytes`. `release` is called on the calling
/// thread with offsets before which no thread will read again (to release
/// mapped pages). When duplicate keys are suspected, a second walk
/// confirms them, and the offsets start again from 0.
pub fn check(bytes: &[u8], name: &str, opts: &Options, release: impl FnMut(u64)) -> Report {
    let release = RefCell::new(release);
    let release = |offset: u64| (release.borrow_mut())(offset);
    check_source(
        Source::Mapped {
            bytes,
            release: Some(&release),
        },
        name,
        opts,
        &mut |_| {},
    )
}

/// Checks one input, mapped or streamed. `on_progress` gets the offset
/// reached, on the calling thread.
///
/// Duplicate keys: a mapped file's suspects (equal 48-bit fingerprints)
/// are confirmed by a second walk that compares the keys' bytes. A stream
/// cannot be walked twice: its fingerprints are wider (see [`keyprints`])
/// and equal ones are reported as duplicates at the offset of the later
/// record, without the key's name.
pub fn check_source(
    source: Source<'_>,
    name: &str,
    opts: &Options,
    on_progress: &mut dyn FnMut(u64),
) -> Report {
    check_walk(source, name, opts, on_progress, false).0
}

/// What [`check_preamble_stream`] found.
pub struct Preamble {
    /// The preamble's report (as [`check_source`] gives it for a stream,
    /// without trailing data).
    pub report: Report,
    /// The bytes after the checksum read from the stream already: the
    /// commands begin with them.
    pub rest: Vec<u8>,
}

/// Checks the RDB preamble of an AOF that arrives as a stream, as
/// [`check_source`] checks a stream, but ends at the checksum: the bytes
/// after it are the AOF's commands, not trailing data (they go on in
/// `reader` after [`Preamble::rest`]). `Err` when reading the stream
/// failed (a corrupt compressed input), which is no verdict on the AOF.
pub fn check_preamble_stream(
    reader: Box<dyn std::io::Read + Send + '_>,
    name: &str,
    opts: &Options,
    on_progress: &mut dyn FnMut(u64),
) -> std::io::Result<Preamble> {
    let (report, rest, read_error) =
        check_walk(Source::Stream(reader), name, opts, on_progress, true);
    match read_error {
        Some(e) => Err(e),
        None => Ok(Preamble { report, rest }),
    }
}

fn check_walk(
    source: Source<'_>,
    name: &str,
    opts: &Options,
    on_progress: &mut dyn FnMut(u64),
    stop_at_eof: bool,
) -> (Report, Vec<u8>, Option<std::io::Error>) {
    let mapped = match &source {
        Source::Mapped { bytes, release } => Some((*bytes, *release)),
        Source::Stream(_) => None,
    };
    let size = source.size();
    let engine_opts = rdbscope_engine::Options {
        threads: opts.threads.max(1),
        chunk_size: opts.chunk_size,
        verify_checksum: !opts.ignore_checksum,
        stop_at_eof,
        ..rdbscope_engine::Options::default()
    };
    let mut collector = Merge {
        report: Report::new(name, size.unwrap_or(0)),
        prints: KeyPrints::new(opts.key_print_budget),
        wide: KeyPrints::new((opts.key_print_budget / 2).max(1)),
        size,
    };
    let wide = mapped.is_none();
    let mut read_error = None;
    let walked = rdbscope_engine::walk(
        source,
        &engine_opts,
        on_progress,
        |_: &Header| ChunkCheck::new(opts, wide),
        &mut collector,
    );
    let Merge {
        mut report,
        prints,
        wide: wide_prints,
        ..
    } = collector;
    report.size = walked.size;
    report.header = walked.header;
    match walked.error {
        Some(WalkError::Decode(e)) => {
            if let rdbscope_rdb::ErrorKind::ChecksumMismatch { .. } = e.kind {
                report.checksum_mismatch = true;
            }
            report.fail(Problem::from_error(&e));
        }
        Some(WalkError::Io(e)) => {
            let problem = Error::invalid(
                Rule::InputRead,
                walked.size as usize,
                format!("read error: {e}"),
            )
            .with_stage(Stage::ReadType);
            report.fail(Problem::new(problem, "io"));
            read_error = Some(e);
        }
        None => {}
    }
    if let Some(eof) = walked.eof {
        report.checksum = Some(eof.checksum);
        report.end_offset = Some(walked.end);
        // Not counted: an AOF preamble's commands follow (stop_at_eof).
        let trailing = eof.trailing.unwrap_or(0);
        if is_diskless_eof_mark(&walked.trailing_head, trailing) {
            // A file captured from a diskless replication stream
            // (`$EOF:<mark>` ... RDB ... `<mark>`): the mark is not data.
            report.notes.push(format!(
                "the {trailing} bytes after the checksum are a diskless-replication EOF mark"
            ));
        } else if trailing > 0 {
            let e = Error::invalid(
                Rule::TrailingData,
                walked.end as usize,
                format!(
                    "{trailing} bytes of trailing data after the checksum (expected the end of the file)"
                ),
            );
            report.fail(Problem::new(e.with_stage(Stage::Trailer), "trailing-data"));
        }
    }
    if report.header.is_some() && (report.problems == 0 || !report.structural_failure) {
        match mapped {
            Some((bytes, release)) => {
                if let Ok(rdb) = Rdb::new(bytes) {
                    let release = |o: u64| {
                        if let Some(r) = release {
                            r(o)
                        }
                    };
                    find_duplicate_keys(&rdb, prints, &mut report, &release);
                }
            }
            None => report_wide_duplicates(wide_prints, &mut report),
        }
    }
    (report, walked.rest, read_error)
}

/// Notes why duplicate keys could not be looked for, or the suspects.
fn suspects<P: Print>(prints: KeyPrints<P>, report: &mut Report) -> Option<HashSet<P>> {
    if let Some(why) = prints.spill_failure() {
        report.notes.push(format!(
            "key fingerprints could not be spilled to a temporary file ({why}); they were held in memory"
        ));
    }
    match prints.repeated() {
        Ok(s) => Some(s),
        Err(e) => {
            report.notes.push(format!(
                "duplicate keys were not looked for: reading back spilled key fingerprints failed ({e})"
            ));
            None
        }
    }
}

/// Sorts the key fingerprints; equal neighbours are suspects, confirmed by
/// a second walk that compares the suspects' real bytes.
fn find_duplicate_keys(
    rdb: &Rdb<'_>,
    prints: KeyPrints,
    report: &mut Report,
    release: &dyn Fn(u64),
) {
    let Some(suspects) = suspects(prints, report) else {
        return;
    };
    if suspects.is_empty() {
        return;
    }
    let mut seen: HashSet<(u64, Vec<u8>)> = HashSet::new();
    let mut buf = Vec::new();
    let mut records = rdb.records();
    while let Some(r) = records.next() {
        // Release pages behind this walk too: a 48-bit collision among
        // millions of keys is enough to make it happen.
        release(records.settled_offset());
        let Ok(Record::Key(k)) = r else {
            if r.is_err() {
                break;
            }
            continue;
        };
        let Ok(key) = k.key.bytes(&mut buf) else {
            continue;
        };
        if !suspects.contains(&key_print(k.db, key)) {
            continue;
        }
        if !seen.insert((k.db, key.to_vec())) {
            let e = Error::invalid(
                rdbscope_rdb::Rule::DuplicateKey,
                k.offset as usize,
                format!(
                    "duplicate key in database {} (a key may appear once per database)",
                    k.db
                ),
            );
            // `annotate` adds the key and type, and says read-object-value.
            let e = k.annotate(e).with_stage(Stage::ReadKey);
            report.fail(Problem::new(e, "duplicate-key"));
        }
    }
}

/// A stream's duplicates: every print but the first of a group of equal
/// wide prints is a key seen before.
fn report_wide_duplicates(prints: KeyPrints<u128>, report: &mut Report) {
    let Some(suspects) = suspects(prints, report) else {
        return;
    };
    let mut all: Vec<u128> = suspects.into_iter().collect();
    all.sort_unstable();
    for w in all.windows(2) {
        if u128::same(w[0], w[1]) {
            let db = (w[1] >> 112) as u64;
            let e = Error::invalid(
                Rule::DuplicateKey,
                print_offset(w[1]) as usize,
                format!(
                    "duplicate key in database {db} (a key may appear once per database): the key \
                     of the record at offset {} appears again here (a streamed input is not read \
                     twice, so the key is named by its 72-bit fingerprint only)",
                    print_offset(w[0])
                ),
            );
            let mut e = e.with_stage(Stage::ReadKey);
            e.record_offset = Some(print_offset(w[1]));
            report.fail(Problem::new(e, "duplicate-key"));
        }
    }
}

/// What one chunk's check comes to.
struct Checked {
    part: Report,
    problems: Vec<Problem>,
    prints: Vec<u64>,
    wide: Vec<u128>,
    /// The last RESIZEDB's key count and the offset after it.
    resize: Option<(u64, u64)>,
}

/// The per-record work of `check`, on one chunk.
struct ChunkCheck {
    checker: ValueChecker,
    scratch: Scratch,
    now_ms: i64,
    wide: bool,
    key_buf: Vec<u8>,
    out: Checked,
}

impl ChunkCheck {
    fn new(opts: &Options, wide: bool) -> ChunkCheck {
        ChunkCheck {
            checker: ValueChecker::default(),
            scratch: Scratch::with_limit(opts.max_decompressed),
            now_ms: opts.now_ms,
            wide,
            key_buf: Vec::new(),
            out: Checked::new(),
        }
    }

    fn key(&mut self, k: &KeyRecord<'_>) {
        let out = &mut self.out;
        out.part.count_key(k, self.now_ms);
        match k.key.bytes_limited(&mut self.key_buf, self.scratch.limit()) {
            Ok(key) if self.wide => out.wide.push(wide_key_print(k.db, key, k.offset)),
            Ok(key) => out.prints.push(key_print(k.db, key)),
            Err(e) => out.problems.push(Problem::from_error(&k.annotate(e))),
        }
        match self.checker.check_value(&k.value, &mut self.scratch) {
            Ok(st) => {
                out.part.subexpires += st.subexpires;
                out.part.empty_keys += u64::from(st.empty);
            }
            Err(e) => out.problems.push(Problem::from_error(&k.annotate(e))),
        }
    }
}

impl Checked {
    fn new() -> Checked {
        Checked {
            part: Report::new("", 0),
            problems: Vec::new(),
            prints: Vec::new(),
            wide: Vec::new(),
            resize: None,
        }
    }
}

impl Sink for ChunkCheck {
    type Chunk = Checked;

    fn record(&mut self, r: &Record<'_>, at: &At) -> Flow {
        let out = &mut self.out;
        let fail = |out: &mut Checked, e: Error| out.problems.push(Problem::from_error(&e));
        // Every string is decoded under the same --max-value-size as
        // values, as `dump` decodes them.
        let limit = self.scratch.limit();
        let owned = |s: &rdbscope_rdb::RdbString<'_>| {
            let mut v = Vec::new();
            s.bytes_limited(&mut v, limit).map(<[u8]>::to_vec)
        };
        match r {
            // Strings outside key records are decoded too: an AUX value or
            // a function's code can be LZF-compressed, and broken.
            Record::Aux { name, value } => match (owned(name), owned(value)) {
                (Ok(n), Ok(v)) => out.part.aux.push((at.end, n, v)),
                (Err(e), _) | (_, Err(e)) => fail(out, e.with_stage(Stage::ReadAux)),
            },
            Record::Function { code } => {
                if let Err(e) = code.bytes_limited(&mut self.key_buf, limit) {
                    fail(out, e.with_stage(Stage::ReadFunction));
                }
            }
            Record::FunctionPreGa(f) => {
                let fields = [Some(f.name), Some(f.engine), f.description, Some(f.code)];
                if let Some(e) = fields.iter().flatten().find_map(|s| owned(s).err()) {
                    fail(out, e.with_stage(Stage::ReadFunction));
                }
            }
            Record::SlotImport { job, .. } => {
                if let Err(e) = job.bytes_limited(&mut self.key_buf, limit) {
                    fail(out, e.with_stage(Stage::ReadOpcode));
                }
            }
            Record::SelectDb { db } => {
                out.part.selects.push((at.end, *db));
                out.part.keyspace.db(*db);
            }
            Record::ResizeDb { keys, expires } => {
                out.part.keyspace.db(at.db).resize_hint = Some((*keys, *expires));
                out.resize = Some((*keys, at.end));
            }
            Record::Key(k) => self.key(k),
            // The EOF record is the engine's to verify; the caller reads
            // it from the walk's result.
            _ => {}
        }
        Flow::Continue
    }

    fn end(&mut self) -> Checked {
        std::mem::replace(&mut self.out, Checked::new())
    }
}

/// Puts the chunks' partial reports together, in file order.
struct Merge {
    report: Report,
    prints: KeyPrints<u64>,
    wide: KeyPrints<u128>,
    size: Option<u64>,
}

impl Collector<Checked> for Merge {
    fn collect(&mut self, c: Checked) -> Flow {
        let r = &mut self.report;
        if let Some((keys, end)) = c.resize {
            // Size the fingerprint list once instead of doubling it (up to
            // twice the memory); a lying hint can ask for no more than the
            // rest of the file could hold (3+ bytes per key).
            let left = self.size.map_or(u64::MAX, |s| s.saturating_sub(end) / 3);
            if c.wide.is_empty() {
                self.prints.expect(keys.min(left));
            } else {
                self.wide.expect(keys.min(left));
            }
        }
        for p in c.prints {
            self.prints.push(p);
        }
        for p in c.wide {
            self.wide.push(p);
        }
        r.absorb(c.part);
        for p in c.problems {
            r.fail(p);
        }
        Flow::Continue
    }
}

/// The 40 random hex characters that end an RDB sent by diskless
/// replication (`rdbSaveRioWithEOFMark`).
fn is_diskless_eof_mark(head: &[u8], trailing: u64) -> bool {
    trailing == 40 && head.len() == 40 && head.iter().all(u8::is_ascii_hexdigit)
}
