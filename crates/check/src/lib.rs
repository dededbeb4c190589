//! Integrity checking of RDB files: every value decoded completely and held
//! to the rules Redis applies with `sanitize-dump-payload yes` (see
//! docs/format.md#validation-rules), plus the CRC-64 trailer and what follows it.
//!
//! The checker is a consumer of the decoder's record stream, like the JSON
//! printer. Structural rules (bounds, header counts, `prevlen`, `backlen`,
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

use keyprints::{key_print, KeyPrints};
use rdbscope_rdb::{Error, KeyRecord, Rdb, Record, Scratch, Stage};
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
    /// Threads that check values. 1: everything on the calling thread.
    /// More: the calling thread walks records and computes the CRC while
    /// the others decode and check values.
    pub threads: usize,
    /// Key fingerprints held in memory before they are spilled to a
    /// temporary file (8 bytes each).
    pub key_print_budget: usize,
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
        }
    }
}

/// Checks one file held in `bytes`. `on_progress` is called after each
/// record with the offset before which the walk will not read again (to
/// release mapped pages, show progress). When duplicate keys are suspected,
/// a second walk confirms them, and the offsets start again from 0.
pub fn check(bytes: &[u8], name: &str, opts: &Options, mut on_progress: impl FnMut(u64)) -> Report {
    let mut report = Report::new(name, bytes.len() as u64);
    let rdb = match Rdb::new(bytes) {
        Ok(r) => r.verify_checksum(!opts.ignore_checksum),
        Err(e) => {
            report.fail(Problem::from_error(&e));
            return report;
        }
    };
    report.header = Some(rdb.header());
    let key_prints = if opts.threads <= 1 {
        let mut tally = Tally::new(opts);
        let prints = walk(&rdb, bytes, opts, &mut report, &mut on_progress, |k| {
            tally.check(k)
        });
        tally.into_report(&mut report);
        prints
    } else {
        check_in_parallel(&rdb, bytes, opts, &mut report, &mut on_progress)
    };
    if report.problems == 0 || !report.structural_failure {
        find_duplicate_keys(&rdb, key_prints, &mut report, &mut on_progress);
    }
    report
}

/// Sorts the key fingerprints; equal neighbours are suspects, confirmed by
/// a second walk that compares the suspects' real bytes.
fn find_duplicate_keys(
    rdb: &Rdb<'_>,
    prints: KeyPrints,
    report: &mut Report,
    on_progress: &mut impl FnMut(u64),
) {
    if let Some(why) = prints.spill_failure() {
        report.notes.push(format!(
            "key fingerprints could not be spilled to a temporary file ({why}); they were held in memory"
        ));
    }
    let suspects = match prints.repeated() {
        Ok(s) => s,
        Err(e) => {
            report.notes.push(format!(
                "duplicate keys were not looked for: reading back spilled key fingerprints failed ({e})"
            ));
            return;
        }
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
        on_progress(records.settled_offset());
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

/// Value checking on one thread: the results of every value it was given.
struct Tally {
    checker: ValueChecker,
    scratch: Scratch,
    subexpires: u64,
    empty_keys: u64,
    problems: Vec<Problem>,
}

impl Tally {
    fn new(opts: &Options) -> Tally {
        Tally {
            checker: ValueChecker::default(),
            scratch: Scratch::with_limit(opts.max_decompressed),
            subexpires: 0,
            empty_keys: 0,
            problems: Vec::new(),
        }
    }

    fn check(&mut self, k: &KeyRecord<'_>) {
        match self.checker.check_value(&k.value, &mut self.scratch) {
            Ok(st) => {
                self.subexpires += st.subexpires;
                self.empty_keys += u64::from(st.empty);
            }
            Err(e) => self.problems.push(Problem::from_error(&k.annotate(e))),
        }
    }

    fn into_report(self, report: &mut Report) {
        report.subexpires += self.subexpires;
        report.empty_keys += self.empty_keys;
        for p in self.problems {
            report.fail(p);
        }
    }
}

/// Key records travel to the checking threads in batches of about this
/// many value bytes, so the hand-over costs little per record.
const BATCH_BYTES: usize = 256 << 10;

/// The calling thread walks the records (skim, CRC, counts, key
/// fingerprints); `opts.threads` others check the values. Results do not
/// depend on who checked what: each thread keeps its own tally, and the
/// report takes the earliest problem by offset.
fn check_in_parallel<'a>(
    rdb: &Rdb<'a>,
    bytes: &'a [u8],
    opts: &Options,
    report: &mut Report,
    on_progress: impl FnMut(u64),
) -> KeyPrints {
    use std::sync::{mpsc, Mutex};
    let (tx, rx) = mpsc::sync_channel::<Vec<KeyRecord<'a>>>(opts.threads * 2);
    let rx = Mutex::new(rx);
    // Checked batches come back to be filled again: a fresh batch vector
    // (hundreds of KB) is a fresh mapping, faulted in and zeroed page by
    // page, every time.
    let (back_tx, back_rx) = mpsc::channel::<Vec<KeyRecord<'a>>>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..opts.threads)
            .map(|_| {
                let rx = &rx;
                let back_tx = back_tx.clone();
                scope.spawn(move || {
                    let mut tally = Tally::new(opts);
                    loop {
                        // The lock is held only to take one batch.
                        let batch = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => break,
                        };
                        let Ok(mut batch) = batch else { break };
                        for k in &batch {
                            tally.check(k);
                        }
                        batch.clear();
                        let _ = back_tx.send(batch);
                    }
                    tally
                })
            })
            .collect();
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        let mut prints = walk(rdb, bytes, opts, report, on_progress, |k| {
            batch_bytes += k.value.raw().len() + 64;
            batch.push(*k);
            if batch_bytes >= BATCH_BYTES {
                batch_bytes = 0;
                // A send fails only if every worker is gone, which cannot
                // happen before the channel closes.
                let next = back_rx.try_recv().unwrap_or_default();
                let _ = tx.send(std::mem::replace(&mut batch, next));
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        // While the workers finish the last batches.
        prints.sort_held();
        for w in workers {
            match w.join() {
                Ok(tally) => tally.into_report(report),
                Err(_) => report.fail(Problem::new(
                    Error::invalid(
                        rdbscope_rdb::Rule::Other,
                        0,
                        "internal error: a checking thread panicked",
                    ),
                    "internal",
                )),
            }
        }
        prints
    })
}

/// Walks every record of `rdb`: counts, AUX and SELECTDB lines, key
/// fingerprints, EOF and trailer; hands each key record to `value` and
/// returns the key fingerprints per database.
fn walk<'a>(
    rdb: &Rdb<'a>,
    bytes: &[u8],
    opts: &Options,
    report: &mut Report,
    mut on_progress: impl FnMut(u64),
    mut value: impl FnMut(&KeyRecord<'a>),
) -> KeyPrints {
    let mut key_prints = KeyPrints::new(opts.key_print_budget);
    let mut key_buf = Vec::new();
    let mut records = rdb.records();
    while let Some(r) = records.next() {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                if let rdbscope_rdb::ErrorKind::ChecksumMismatch { .. } = e.kind {
                    report.checksum_mismatch = true;
                }
                report.fail(Problem::from_error(&e));
                break;
            }
        };
        let end = records.offset();
        match &r {
            // Strings outside key records are decoded too: an AUX value or
            // a function's code can be LZF-compressed, and broken.
            Record::Aux { name, value } => match (name.to_vec(), value.to_vec()) {
                (Ok(n), Ok(v)) => report.aux.push((end, n, v)),
                (Err(e), _) | (_, Err(e)) => {
                    report.fail(Problem::from_error(&e.with_stage(Stage::ReadAux)))
                }
            },
            Record::Function { code } => {
                if let Err(e) = code.bytes(&mut key_buf) {
                    report.fail(Problem::from_error(&e.with_stage(Stage::ReadFunction)));
                }
            }
            Record::FunctionPreGa(f) => {
                let fields = [Some(f.name), Some(f.engine), f.description, Some(f.code)];
                if let Some(e) = fields.iter().flatten().find_map(|s| s.to_vec().err()) {
                    report.fail(Problem::from_error(&e.with_stage(Stage::ReadFunction)));
                }
            }
            Record::SlotImport { job, .. } => {
                if let Err(e) = job.bytes(&mut key_buf) {
                    report.fail(Problem::from_error(&e.with_stage(Stage::ReadOpcode)));
                }
            }
            Record::SelectDb { db } => {
                report.selects.push((end, *db));
                report.keyspace.db(*db);
            }
            Record::ResizeDb { keys, expires } => {
                report.keyspace.db(records.db()).resize_hint = Some((*keys, *expires));
                // Size the fingerprint list once instead of doubling it (up
                // to twice the memory); a lying hint can ask for no more
                // than the rest of the file could hold (3+ bytes per key).
                let left = (bytes.len() as u64).saturating_sub(end) / 3;
                key_prints.expect((*keys).min(left));
            }
            Record::Key(k) => {
                report.count_key(k, opts.now_ms);
                match k.key.bytes(&mut key_buf) {
                    Ok(key) => key_prints.push(key_print(k.db, key)),
                    Err(e) => report.fail(Problem::from_error(&k.annotate(e))),
                }
                value(k);
            }
            Record::Eof(eof) => {
                report.checksum = Some(eof.checksum);
                report.end_offset = Some(end);
                let tail = &bytes[(end as usize).min(bytes.len())..];
                if is_diskless_eof_mark(tail) {
                    // A file captured from a diskless replication stream
                    // (`$EOF:<mark>` ... RDB ... `<mark>`): the mark is not data.
                    report.notes.push(format!(
                        "the {} bytes after the checksum are a diskless-replication EOF mark",
                        tail.len()
                    ));
                } else if eof.trailing > 0 {
                    let e = Error::invalid(
                        rdbscope_rdb::Rule::TrailingData,
                        end as usize,
                        format!(
                            "{} bytes of trailing data after the checksum (expected the end of the file)",
                            eof.trailing
                        ),
                    );
                    report.fail(Problem::new(e.with_stage(Stage::Trailer), "trailing-data"));
                }
            }
            _ => {}
        }
        // Report how far the walk will never read again (not `end`: the
        // CRC still has to read up to a chunk behind it).
        on_progress(records.settled_offset());
    }
    key_prints
}

/// The 40 random hex characters that end an RDB sent by diskless
/// replication (`rdbSaveRioWithEOFMark`).
fn is_diskless_eof_mark(tail: &[u8]) -> bool {
    tail.len() == 40 && tail.iter().all(u8::is_ascii_hexdigit)
}
