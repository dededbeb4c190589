//! `rdbscope check` must notice damage, on files a real server writes now.
//!
//! Acceptance criterion: a test takes real files written by `redis-server`
//! at test time, flips one byte at each of many positions (with checksum on)
//! and asserts every change is detected; with `rdbchecksum no` files, it
//! asserts the structural checks alone catch changes inside listpack/ziplist
//! headers and lengths.
//!
//! * `checksummed_file_every_byte_flip_is_detected`: file A is written with
//!   `rdbchecksum yes`. One byte is xor-ed with one of several masks at every
//!   position (or, for a large file, at a deterministic spread of positions
//!   covering header, aux fields, every record boundary, values, EOF and
//!   CRC). The CRC-64 alone guarantees that each such file is corrupt, so
//!   `check` must say "problem" for every one.
//! * `unchecksummed_file_structural_damage_is_detected`: file B is written
//!   with `rdbchecksum no` and `rdbcompression no`, so every listpack and
//!   intset is stored raw in the file. Their header fields and every
//!   entry's length/encoding and backlen bytes are mutated one at a time.
//!   Header damage must always be caught. Entry damage must be caught when
//!   Redis's own deep validation (`lpValidateIntegrity`,
//!   `ziplistValidateIntegrity`, `intsetValidateIntegrity`, ported below as
//!   a reference) rejects the mutated blob: a changed length can, by chance,
//!   still describe a well-formed blob (an entry `0x00` turned into the empty
//!   string `0x80`, say), and then only the content changed, which nothing
//!   but a checksum can see.
//! * `corpus_ziplists_structural_damage_is_detected`: Redis 7 writes no
//!   ziplists, so the same mutations are applied to the real files of older
//!   servers in the shared corpus (`nochecksum.rdb`, `small-thresholds.rdb`,
//!   checked with `--ignore-checksum`).
//!
//! Mutated files are written to a scratch directory and checked by the real
//! binary, a few hundred per invocation (`--format json`, one report per
//! line, in argument order), which keeps thousands of checks to seconds.
//!
//! `redis-server` is `$REDIS_SERVER` if set, else found in `$PATH` or the
//! usual places; without it the live tests print a notice and pass, unless
//! `REQUIRE_REDIS=1`. The corpus is `$RDBSCOPE_CORPUS`, else `shared/corpus`
//! beside the workspace; `REQUIRE_CORPUS=1` makes its absence a failure.

use rdbscope_rdb::cursor::Cursor;
use rdbscope_rdb::rdb_string::StringEncoding;
use rdbscope_rdb::value::QUICKLIST_PACKED;
use rdbscope_rdb::{Encoding, Rdb, RdbString, Record};
use rdbscope_testkit::redis::{redis_server, RedisServer};
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rdbscope");

/// Mutated files per `check` invocation.
const BATCH: usize = 250;
/// Masks xor-ed into file A. Each position gets `MASKS_PER_POSITION` of
/// them, rotating, so every mask meets every kind of byte.
const MASKS: [u8; 10] = [0x01, 0x80, 0xff, 0x02, 0x10, 0x40, 0x04, 0x20, 0x08, 0x55];
const MASKS_PER_POSITION: usize = 3;
/// Up to this many mutated files, file A is flipped at every position.
const EVERY_POSITION_BUDGET: usize = 40_000;
/// Otherwise at least this many positions are flipped.
const MIN_POSITIONS: usize = 2_500;
/// The slow-to-grow parts of file B that must be present, or the test
/// would prove little (see `live_data`).
const MIN_LISTPACKS: usize = 30;
const MIN_INTSETS: usize = 3;

// ===========================================================================
// The tests
// ===========================================================================

#[test]
fn checksummed_file_every_byte_flip_is_detected() {
    let Some(bin) = redis_server("checksummed_file_every_byte_flip_is_detected") else {
        return;
    };
    let file = live_rdb(&bin, &[]);
    let tmp = TempDir::in_memory("crc");
    let mut failures = Vec::new();

    // The unmodified file must pass, with a verified checksum.
    let base = check_files(
        &tmp.path,
        &[],
        &[("original.rdb".to_string(), file.clone())],
    );
    if base[0].verdict() != Some("ok") || base[0].report["checksum"] != "ok" {
        panic!(
            "the unmodified file A does not pass: {}",
            base[0].describe()
        );
    }

    let spans = record_spans(&file);
    let positions = flip_positions(&file, &spans);
    let mut mutations = Vec::new();
    for (i, &pos) in positions.iter().enumerate() {
        for k in 0..MASKS_PER_POSITION {
            let mask = MASKS[(i + k * 3) % MASKS.len()];
            mutations.push(Mutation {
                patch: vec![(pos, file[pos] ^ mask)],
                label: format!(
                    "offset {pos} ({}): 0x{:02x} ^ 0x{mask:02x}",
                    where_is(&spans, pos),
                    file[pos]
                ),
                must_detect: true,
            });
        }
    }
    let started = Instant::now();
    let stats = run_mutations(&file, &mutations, &[], &tmp.path, &mut failures);
    eprintln!(
        "file A ({} bytes, rdbchecksum yes): {} positions{}, {} mutations, {} detected, in {:.1?}",
        file.len(),
        positions.len(),
        if positions.len() == file.len() {
            " (all)"
        } else {
            ""
        },
        stats.tried,
        stats.detected,
        started.elapsed()
    );
    report(failures);
}

#[test]
fn unchecksummed_file_structural_damage_is_detected() {
    let Some(bin) = redis_server("unchecksummed_file_structural_damage_is_detected") else {
        return;
    };
    let file = live_rdb(&bin, &[("rdbchecksum", "no"), ("rdbcompression", "no")]);
    let tmp = TempDir::in_memory("struct");
    let mut failures = Vec::new();

    let base = check_files(
        &tmp.path,
        &[],
        &[("original.rdb".to_string(), file.clone())],
    );
    if base[0].verdict() != Some("ok") || base[0].report["checksum"] != "disabled" {
        panic!(
            "the unmodified file B does not pass with checksum \"disabled\": {}",
            base[0].describe()
        );
    }

    let blobs = raw_blobs(&file);
    let count = |k: BlobKind| blobs.iter().filter(|b| b.kind == k).count();
    if count(BlobKind::Listpack) < MIN_LISTPACKS || count(BlobKind::Intset) < MIN_INTSETS {
        failures.push(format!(
            "file B holds {} raw listpacks and {} raw intsets; the workload should give at least \
             {MIN_LISTPACKS} and {MIN_INTSETS}: did the server's encodings change?",
            count(BlobKind::Listpack),
            count(BlobKind::Intset)
        ));
    }
    let mutations = blob_mutations(&file, &blobs, &mut failures);
    let stats = run_mutations(&file, &mutations, &[], &tmp.path, &mut failures);
    eprintln!(
        "file B ({} bytes, rdbchecksum no, rdbcompression no): {} listpacks, {} intsets; {}",
        file.len(),
        count(BlobKind::Listpack),
        count(BlobKind::Intset),
        stats
    );
    report(failures);
}

#[test]
fn corpus_ziplists_structural_damage_is_detected() {
    let Some(corpus) = locate_corpus("corpus_ziplists_structural_damage_is_detected") else {
        return;
    };
    let tmp = TempDir::in_memory("corpus");
    let mut failures = Vec::new();
    let mut ziplists = 0;
    let mut servers: Vec<PathBuf> = std::fs::read_dir(corpus.join("rdb"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    servers.sort();
    for dir in servers {
        for case in ["nochecksum.rdb", "small-thresholds.rdb"] {
            let path = dir.join(case);
            let Ok(file) = std::fs::read(&path) else {
                continue;
            };
            let name = format!("{}/{case}", dir.file_name().unwrap().to_string_lossy());
            let blobs = raw_blobs(&file);
            ziplists += blobs.iter().filter(|b| b.kind == BlobKind::Ziplist).count();
            let mut local = Vec::new();
            let mutations = blob_mutations(&file, &blobs, &mut local);
            let stats = run_mutations(
                &file,
                &mutations,
                &["--ignore-checksum"],
                &tmp.path,
                &mut local,
            );
            let kinds = [BlobKind::Ziplist, BlobKind::Listpack, BlobKind::Intset]
                .map(|k| blobs.iter().filter(|b| b.kind == k).count());
            eprintln!(
                "{name}: {} ziplists, {} listpacks, {} intsets; {stats}",
                kinds[0], kinds[1], kinds[2]
            );
            failures.extend(local.into_iter().map(|f| format!("{name}: {f}")));
        }
    }
    if ziplists < 10 {
        failures.push(format!(
            "only {ziplists} raw ziplists found in the corpus's nochecksum/small-thresholds files"
        ));
    }
    report(failures);
}

// ===========================================================================
// Mutations and running them
// ===========================================================================

/// One damaged copy of a file.
struct Mutation {
    /// (file offset, new byte value).
    patch: Vec<(usize, u8)>,
    label: String,
    /// Whether `check` must report a problem (else the outcome is only
    /// counted).
    must_detect: bool,
}

#[derive(Default)]
struct Stats {
    tried: usize,
    detected: usize,
    /// Mutations that had to be detected.
    required: usize,
    /// Of those not required, how many were detected anyway.
    optional_detected: usize,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} mutations tried, {} detected; {} had to be (header fields, or rejected by Redis's \
             deep validation), the other {} leave a well-formed blob (only content changed), \
             {} of those detected anyway",
            self.tried,
            self.detected,
            self.required,
            self.tried - self.required,
            self.optional_detected
        )
    }
}

/// One report of `check --format json`.
struct Checked {
    code: Option<i32>,
    report: Value,
    stderr: String,
}

impl Checked {
    fn verdict(&self) -> Option<&str> {
        self.report["verdict"].as_str()
    }

    fn describe(&self) -> String {
        let mut s = format!("exit {:?}: {}", self.code, self.report);
        if !self.stderr.trim().is_empty() {
            let _ = write!(s, "\n  stderr: {}", self.stderr.trim());
        }
        s
    }
}

/// Writes each mutated copy of `file`, checks them in batches, and records
/// a failure for every required mutation that passed (and for crashes).
fn run_mutations(
    file: &[u8],
    mutations: &[Mutation],
    extra_args: &[&str],
    tmp: &Path,
    failures: &mut Vec<String>,
) -> Stats {
    let mut stats = Stats::default();
    let mut missed = Vec::new();
    for chunk in mutations.chunks(BATCH) {
        let files: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut bytes = file.to_vec();
                for &(at, b) in &m.patch {
                    bytes[at] = b;
                }
                (format!("m{i:04}.rdb"), bytes)
            })
            .collect();
        let results = check_files(tmp, extra_args, &files);
        for (m, r) in chunk.iter().zip(results) {
            stats.tried += 1;
            stats.required += usize::from(m.must_detect);
            // 0 or 1 only: 2 would be an I/O error, anything else a crash.
            if !matches!(r.code, Some(0 | 1)) || r.verdict().is_none() {
                failures.push(format!(
                    "{}: check did not report properly: {}",
                    m.label,
                    r.describe()
                ));
                continue;
            }
            let detected = r.verdict() == Some("problem");
            stats.detected += usize::from(detected);
            if detected && !m.must_detect {
                stats.optional_detected += 1;
            }
            if m.must_detect && !detected {
                missed.push(format!("{}: NOT detected: {}", m.label, r.describe()));
            }
        }
    }
    if !missed.is_empty() {
        const SHOWN: usize = 100;
        let more = missed.len().saturating_sub(SHOWN);
        failures.push(format!(
            "{} of {} required mutations were not detected:\n  {}{}",
            missed.len(),
            stats.required,
            missed[..missed.len().min(SHOWN)].join("\n  "),
            if more > 0 {
                format!("\n  ... and {more} more")
            } else {
                String::new()
            }
        ));
    }
    stats
}

/// Runs `check --format json` on the given (name, bytes) files, written
/// into `dir`, and returns one result per file, in order. The process's exit
/// code applies to the batch: a file's own code is 0 for "ok", 1 for
/// "problem", unless the batch exited with something else.
fn check_files(dir: &Path, extra_args: &[&str], files: &[(String, Vec<u8>)]) -> Vec<Checked> {
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write mutated file");
    }
    let out = Command::new(BIN)
        .args(["check", "--format", "json"])
        .args(extra_args)
        .args(files.iter().map(|f| &f.0))
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut reports: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let in_order = reports.len() == files.len()
        && reports
            .iter()
            .zip(files)
            .all(|(r, f)| r["file"] == f.0.as_str());
    if !in_order {
        // Leave nothing unexplained: every file gets this batch's output.
        reports = vec![Value::String(format!("bad batch output:\n{stdout}")); files.len()];
    }
    for (name, _) in files {
        let _ = std::fs::remove_file(dir.join(name));
    }
    reports
        .into_iter()
        .map(|report| {
            let code = match (out.status.code(), report["verdict"].as_str()) {
                (Some(0 | 1), Some("ok")) => Some(0),
                (Some(0 | 1), Some("problem")) => Some(1),
                (c, _) => c,
            };
            Checked {
                code,
                report,
                stderr: stderr.clone(),
            }
        })
        .collect()
}

/// Positions for file A: every position if that stays within budget, else
/// the header and aux fields, every record boundary and its neighbours, the
/// end (last record, EOF, CRC), and an even spread over the rest.
fn flip_positions(file: &[u8], spans: &[(usize, String)]) -> Vec<usize> {
    let n = file.len();
    if n * MASKS_PER_POSITION <= EVERY_POSITION_BUDGET {
        return (0..n).collect();
    }
    let mut set = std::collections::BTreeSet::new();
    set.extend(0..256.min(n));
    set.extend(n.saturating_sub(64)..n);
    for &(start, _) in spans {
        for p in start.saturating_sub(1)..(start + 4).min(n) {
            set.insert(p);
        }
    }
    let stride = (n / MIN_POSITIONS).max(1);
    // An odd offset so the spread does not keep hitting the same byte of
    // repeating structures.
    set.extend((stride / 2..n).step_by(stride));
    set.into_iter().collect()
}

/// (start, key) of every record of an intact file; the key is empty for
/// records that are not keys.
fn record_spans(file: &[u8]) -> Vec<(usize, String)> {
    let rdb = Rdb::new(file).expect("intact file");
    let mut records = rdb.records();
    let mut out = Vec::new();
    loop {
        let start = records.offset() as usize;
        match records.next() {
            Some(Ok(Record::Key(k))) => {
                let key = String::from_utf8_lossy(&k.key.to_vec().unwrap_or_default()).into_owned();
                out.push((start, key));
            }
            Some(Ok(Record::Eof(_))) => {
                out.push((start, "<EOF and CRC>".to_string()));
                return out;
            }
            Some(Ok(_)) => out.push((start, String::new())),
            Some(Err(e)) => panic!("the intact file does not read: {e:?}"),
            None => return out,
        }
    }
}

/// A short description of what is at `pos`, from `record_spans`.
fn where_is(spans: &[(usize, String)], pos: usize) -> String {
    if pos < 9 {
        return "header".to_string();
    }
    match spans.iter().rev().find(|(s, _)| *s <= pos) {
        Some((s, k)) if k.is_empty() => format!("record at {s}"),
        Some((s, k)) => format!("record of {k:?} at {s}"),
        None => "?".to_string(),
    }
}

// ===========================================================================
// Blobs: listpacks, ziplists, intsets stored raw in a file
// ===========================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlobKind {
    Listpack,
    Ziplist,
    Intset,
}

struct Blob {
    kind: BlobKind,
    /// File offset of the blob's first byte.
    start: usize,
    len: usize,
    key: String,
}

impl Blob {
    fn bytes<'f>(&self, file: &'f [u8]) -> &'f [u8] {
        &file[self.start..self.start + self.len]
    }
}

/// Every listpack, ziplist and intset that is stored uncompressed in an
/// intact file, found with the `rdbscope_rdb` record iterator: the value's
/// RDB strings are read with a `Cursor`, whose offsets are file offsets.
fn raw_blobs(file: &[u8]) -> Vec<Blob> {
    let rdb = Rdb::new(file).expect("intact file");
    let mut out = Vec::new();
    for r in rdb.verify_checksum(false).records() {
        let Record::Key(k) = r.expect("intact file") else {
            continue;
        };
        let key = String::from_utf8_lossy(&k.key.to_vec().unwrap_or_default()).into_owned();
        let v = k.value;
        let mut c = Cursor::new(v.raw(), v.offset());
        let mut push = |kind: BlobKind, s: RdbString<'_>| {
            if s.encoding() == StringEncoding::Raw {
                out.push(Blob {
                    kind,
                    start: s.data_offset(),
                    len: s.len() as usize,
                    key: key.clone(),
                });
            }
        };
        match v.encoding() {
            Encoding::HashListpack
            | Encoding::ZSetListpack
            | Encoding::SetListpack
            | Encoding::HashListpackExPreGa => push(BlobKind::Listpack, next_string(&mut c)),
            Encoding::HashListpackEx => {
                c.take(8, "minimum expire").expect("intact file");
                push(BlobKind::Listpack, next_string(&mut c));
            }
            Encoding::ListZiplist | Encoding::ZSetZiplist | Encoding::HashZiplist => {
                push(BlobKind::Ziplist, next_string(&mut c))
            }
            Encoding::SetIntset => push(BlobKind::Intset, next_string(&mut c)),
            Encoding::ListQuicklist => {
                for _ in 0..next_len(&mut c) {
                    push(BlobKind::Ziplist, next_string(&mut c));
                }
            }
            Encoding::ListQuicklist2 => {
                for _ in 0..next_len(&mut c) {
                    let container = next_len(&mut c);
                    let node = next_string(&mut c);
                    if container == QUICKLIST_PACKED {
                        push(BlobKind::Listpack, node);
                    }
                }
            }
            Encoding::Stream(_) => {
                let stream = v.stream().expect("intact file");
                stream
                    .for_each_node(|_master, lp| {
                        push(BlobKind::Listpack, lp);
                        Ok::<_, rdbscope_rdb::Error>(())
                    })
                    .expect("intact file");
            }
            _ => {}
        }
    }
    out
}

/// The next RDB string of an intact value.
fn next_string<'a>(c: &mut Cursor<'a>) -> RdbString<'a> {
    c.rdb_string("blob").expect("intact file")
}

/// The next RDB length of an intact value.
fn next_len(c: &mut Cursor<'_>) -> u64 {
    c.len("count").expect("intact file")
}

/// The mutations of every blob: header fields (must be detected) and the
/// length-bearing bytes of every entry (must be detected when Redis's deep
/// validation rejects the result).
fn blob_mutations(file: &[u8], blobs: &[Blob], failures: &mut Vec<String>) -> Vec<Mutation> {
    let mut out = Vec::new();
    for blob in blobs {
        let bytes = blob.bytes(file);
        let ok = match blob.kind {
            BlobKind::Listpack => redis_rules::listpack_ok(bytes),
            BlobKind::Ziplist => redis_rules::ziplist_ok(bytes),
            BlobKind::Intset => redis_rules::intset_ok(bytes),
        };
        if !ok {
            failures.push(format!(
                "test bug: the reference validator rejects the intact {:?} of key {:?} at {}",
                blob.kind, blob.key, blob.start
            ));
            continue;
        }
        let edits = match blob.kind {
            BlobKind::Listpack => listpack_edits(bytes),
            BlobKind::Ziplist => ziplist_edits(bytes),
            BlobKind::Intset => intset_edits(bytes),
        };
        for e in edits {
            let mut mutated = bytes.to_vec();
            for &(at, b) in &e.patch {
                mutated[at] = b;
            }
            if mutated == bytes {
                continue;
            }
            let rejected_by_redis = !match blob.kind {
                BlobKind::Listpack => redis_rules::listpack_ok(&mutated),
                BlobKind::Ziplist => redis_rules::ziplist_ok(&mutated),
                BlobKind::Intset => redis_rules::intset_ok(&mutated),
            };
            let old: Vec<String> = e
                .patch
                .iter()
                .map(|&(at, _)| format!("{:02x}", bytes[at]))
                .collect();
            let new: Vec<String> = e.patch.iter().map(|&(_, b)| format!("{b:02x}")).collect();
            out.push(Mutation {
                patch: e.patch.iter().map(|&(at, b)| (blob.start + at, b)).collect(),
                label: format!(
                    "{:?} of key {:?} at offset {}, {} at blob byte {} (file offset {}): {} -> {}{}",
                    blob.kind,
                    blob.key,
                    blob.start,
                    e.what,
                    e.patch[0].0,
                    blob.start + e.patch[0].0,
                    old.join(" "),
                    new.join(" "),
                    if rejected_by_redis { " (Redis rejects it)" } else { "" }
                ),
                must_detect: e.header || rejected_by_redis,
            });
        }
    }
    out
}

/// A change inside one blob: (offset in the blob, new byte).
struct Edit {
    patch: Vec<(usize, u8)>,
    what: String,
    /// A header field: always detectable.
    header: bool,
}

/// Writes `value` little-endian over `width` bytes at `at`, as an edit.
fn set_le(at: usize, width: usize, value: u64, what: String) -> Edit {
    Edit {
        patch: (0..width)
            .map(|i| (at + i, (value >> (8 * i)) as u8))
            .collect(),
        what,
        header: true,
    }
}

fn xor(at: usize, old: u8, mask: u8, what: String, header: bool) -> Edit {
    Edit {
        patch: vec![(at, old ^ mask)],
        what,
        header,
    }
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |v, &x| (v << 8) | u64::from(x))
}

/// Header values to try instead of `v` for a count field: one more, one
/// less, 256 more (the next byte), zero. `forbidden` (65535 "unknown" for
/// listpack and ziplist counts, which is legitimately accepted) is skipped.
fn count_values(v: u64, max: u64, forbidden: Option<u64>) -> Vec<u64> {
    let mut out = vec![v + 1, v.wrapping_sub(1), v ^ 0x100, 0];
    out.retain(|&x| x != v && x <= max && Some(x) != forbidden);
    out.sort_unstable();
    out.dedup();
    out
}

/// Listpack: total_bytes (u32) and num_elements (u16), then every entry's
/// encoding byte (type bits, and the string length) and backlen bytes.
fn listpack_edits(lp: &[u8]) -> Vec<Edit> {
    let mut out = Vec::new();
    for (i, &b) in lp[..4].iter().enumerate() {
        for mask in [0x01, 0x80] {
            out.push(xor(
                i,
                b,
                mask,
                format!("total_bytes byte {i} ^ 0x{mask:02x}"),
                true,
            ));
        }
    }
    let count = le(&lp[4..6]);
    for v in count_values(count, 0xffff, Some(0xffff)) {
        out.push(set_le(4, 2, v, format!("num_elements {count} -> {v}")));
    }
    for e in redis_rules::listpack_entries(lp) {
        let b = lp[e.at];
        for mask in [0x80, 0x40, 0x20, 0x10, 0x01] {
            out.push(xor(
                e.at,
                b,
                mask,
                format!("entry encoding byte ^ 0x{mask:02x}"),
                false,
            ));
        }
        // The length of a string entry, one more and one less: in the
        // encoding byte (6-bit) or the next byte (12-bit, 32-bit lengths).
        let len_byte = match b {
            0x80..=0xbf => Some((e.at, 0x3f)),
            // 12-bit (0xe0..=0xef) and 32-bit (0xf0) string lengths.
            0xe0..=0xf0 => Some((e.at + 1, 0xff)),
            _ => None,
        };
        if let Some((at, mask)) = len_byte {
            let low = lp[at] & mask;
            for new_low in [low.wrapping_add(1) & mask, low.wrapping_sub(1) & mask] {
                out.push(Edit {
                    patch: vec![(at, (lp[at] & !mask) | new_low)],
                    what: format!("string length low bits {low} -> {new_low}"),
                    header: false,
                });
            }
        }
        for i in 0..e.backlen_size {
            let at = e.at + e.len + i;
            for mask in [0x01, 0x80] {
                out.push(xor(
                    at,
                    lp[at],
                    mask,
                    format!("backlen byte {i} ^ 0x{mask:02x}"),
                    false,
                ));
            }
        }
    }
    out
}

/// Ziplist: zlbytes, zltail (u32) and zllen (u16), then every entry's
/// prevlen and encoding bytes.
fn ziplist_edits(zl: &[u8]) -> Vec<Edit> {
    let mut out = Vec::new();
    for (i, &b) in zl[..4].iter().enumerate() {
        for mask in [0x01, 0x80] {
            out.push(xor(
                i,
                b,
                mask,
                format!("zlbytes byte {i} ^ 0x{mask:02x}"),
                true,
            ));
        }
    }
    let tail = le(&zl[4..8]);
    for v in count_values(tail, 0xffff_ffff, None) {
        out.push(set_le(4, 4, v, format!("zltail {tail} -> {v}")));
    }
    let count = le(&zl[8..10]);
    for v in count_values(count, 0xffff, Some(0xffff)) {
        out.push(set_le(8, 2, v, format!("zllen {count} -> {v}")));
    }
    for e in redis_rules::ziplist_entries(zl) {
        // prevlen: its only byte, or the first byte of the 4-byte value.
        let p = if e.prevlen_size == 1 { e.at } else { e.at + 1 };
        for mask in [0x01, 0x80] {
            out.push(xor(
                p,
                zl[p],
                mask,
                format!("prevlen ^ 0x{mask:02x}"),
                false,
            ));
        }
        let q = e.at + e.prevlen_size;
        for mask in [0x80, 0x40, 0x20, 0x10, 0x01] {
            out.push(xor(
                q,
                zl[q],
                mask,
                format!("entry encoding byte ^ 0x{mask:02x}"),
                false,
            ));
        }
        // 14-bit string length: its low byte, one more and one less.
        if zl[q] >> 6 == 1 {
            for d in [1u8, 0xff] {
                out.push(Edit {
                    patch: vec![(q + 1, zl[q + 1].wrapping_add(d))],
                    what: "14-bit string length low byte +/- 1".to_string(),
                    header: false,
                });
            }
        }
    }
    out
}

/// Intset: encoding (u32: 2, 4 or 8) and length (u32).
fn intset_edits(is: &[u8]) -> Vec<Edit> {
    let mut out = Vec::new();
    let enc = le(&is[0..4]);
    for v in [2, 4, 8, 3, enc ^ 0x100] {
        if v != enc {
            out.push(set_le(0, 4, v, format!("encoding {enc} -> {v}")));
        }
    }
    let n = le(&is[4..8]);
    for v in count_values(n, 0xffff_ffff, None) {
        out.push(set_le(4, 4, v, format!("length {n} -> {v}")));
    }
    out
}

/// Redis's deep validation of the compact encodings, ported from
/// `listpack.c` (`lpValidateIntegrity`, `lpValidateNext`), `ziplist.c`
/// (`ziplistValidateIntegrity`, `zipEntrySafe`) and `intset.c`
/// (`intsetValidateIntegrity`) of Redis 7.0, structure only (no callbacks).
/// It decides which entry mutations must be caught; it is deliberately an
/// independent port, not a call into the crate under test.
mod redis_rules {
    pub struct LpEntry {
        pub at: usize,
        /// Encoding plus data bytes (what the backlen counts).
        pub len: usize,
        pub backlen_size: usize,
    }

    /// `lpEncodeBacklen(NULL, l)`.
    fn backlen_size(l: usize) -> usize {
        match l {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2_097_150 => 3,
            2_097_151..=268_435_454 => 4,
            _ => 5,
        }
    }

    /// `lpCurrentEncodedSizeBytes` and `lpCurrentEncodedSizeUnsafe`:
    /// (bytes holding the length, encoding + data length); `None` for an
    /// invalid first byte. `p` must be readable for the length bytes.
    fn lp_sizes(lp: &[u8], p: usize) -> Option<(usize, Option<usize>)> {
        let b = lp[p];
        let get = |i: usize| lp.get(p + i).map(|&x| x as usize);
        Some(match b {
            0x00..=0x7f => (1, Some(1)),
            0x80..=0xbf => (1, Some(1 + (b & 0x3f) as usize)),
            0xc0..=0xdf => (1, Some(2)),
            0xf1 => (1, Some(3)),
            0xf2 => (1, Some(4)),
            0xf3 => (1, Some(5)),
            0xf4 => (1, Some(9)),
            0xe0..=0xef => (2, get(1).map(|lo| 2 + (((b & 0x0f) as usize) << 8 | lo))),
            0xf0 => (
                5,
                (1..5)
                    .map(get)
                    .collect::<Option<Vec<_>>>()
                    .map(|v| 5 + (v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24)),
            ),
            _ => return None,
        })
    }

    /// `lpDecodeBacklen`, reading leftwards from the backlen's last byte.
    fn decode_backlen(lp: &[u8], mut p: usize) -> Option<u64> {
        let mut val = 0u64;
        let mut shift = 0;
        loop {
            val |= u64::from(lp[p] & 127) << shift;
            if lp[p] & 128 == 0 {
                return Some(val);
            }
            shift += 7;
            if shift > 28 || p == 0 {
                return None;
            }
            p -= 1;
        }
    }

    /// The entries of a listpack, or `None` where `lpValidateIntegrity`
    /// (deep) would return 0.
    fn lp_walk(lp: &[u8]) -> Option<Vec<LpEntry>> {
        let size = lp.len();
        if size < 7 || super::le(&lp[0..4]) != size as u64 || lp[size - 1] != 0xff {
            return None;
        }
        // OUT_OF_RANGE(p): p < header or p > the terminator.
        let in_range = |p: usize| (6..size).contains(&p);
        let mut entries = Vec::new();
        let mut p = 6;
        while lp[p] != 0xff {
            let (lenbytes, len) = lp_sizes(lp, p)?;
            if !in_range(p + lenbytes) {
                return None;
            }
            let len = len?;
            let bl = backlen_size(len);
            let next = p.checked_add(len + bl)?;
            if !in_range(next) {
                return None;
            }
            if decode_backlen(lp, next - 1)? + bl as u64 != (len + bl) as u64 {
                return None;
            }
            entries.push(LpEntry {
                at: p,
                len,
                backlen_size: bl,
            });
            p = next;
        }
        let count = super::le(&lp[4..6]);
        (p == size - 1 && (count == 0xffff || count == entries.len() as u64)).then_some(entries)
    }

    pub fn listpack_ok(lp: &[u8]) -> bool {
        lp_walk(lp).is_some()
    }

    pub fn listpack_entries(lp: &[u8]) -> Vec<LpEntry> {
        lp_walk(lp).unwrap_or_default()
    }

    pub struct ZlEntry {
        pub at: usize,
        pub prevlen_size: usize,
    }

    /// The entries of a ziplist, or `None` where `ziplistValidateIntegrity`
    /// (deep) would return 0.
    fn zl_walk(zl: &[u8]) -> Option<Vec<ZlEntry>> {
        let size = zl.len();
        if size < 11 || super::le(&zl[0..4]) != size as u64 || zl[size - 1] != 0xff {
            return None;
        }
        let tail = super::le(&zl[4..8]) as usize;
        if tail > size - 1 {
            return None;
        }
        // OUT_OF_RANGE(p): p < first entry or p > the end marker.
        let last = size - 1;
        let in_range = |p: usize| (10..=last).contains(&p);
        let mut entries = Vec::new();
        let mut p = 10;
        let mut prev_raw = 0usize;
        let mut prev_at = None;
        while zl[p] != 0xff {
            let plen = if zl[p] < 0xfe { 1 } else { 5 };
            if !in_range(p + plen) {
                return None;
            }
            let prevlen = if plen == 1 {
                zl[p] as usize
            } else {
                super::le(&zl[p + 1..p + 5]) as usize
            };
            let q = p + plen;
            let enc = zl[q];
            let (lensize, len) = match enc >> 6 {
                0 => (1, (enc & 0x3f) as usize),
                1 => {
                    if !in_range(q + 2) {
                        return None;
                    }
                    (2, ((enc & 0x3f) as usize) << 8 | zl[q + 1] as usize)
                }
                2 => {
                    if !in_range(q + 5) {
                        return None;
                    }
                    (5, super::be32(&zl[q + 1..q + 5]))
                }
                _ => match enc {
                    0xc0 => (1, 2),
                    0xd0 => (1, 4),
                    0xe0 => (1, 8),
                    0xf0 => (1, 3),
                    0xfe => (1, 1),
                    0xf1..=0xfd => (1, 0),
                    _ => return None,
                },
            };
            let end = q.checked_add(lensize)?.checked_add(len)?;
            if !in_range(end) || prevlen > p - 10 || prevlen != prev_raw {
                return None;
            }
            entries.push(ZlEntry {
                at: p,
                prevlen_size: plen,
            });
            prev_raw = end - p;
            prev_at = Some(p);
            p = end;
        }
        let count = super::le(&zl[8..10]);
        let tail_ok = prev_at.is_none_or(|at| at == tail);
        (p == last && tail_ok && (count == 0xffff || count == entries.len() as u64))
            .then_some(entries)
    }

    pub fn ziplist_ok(zl: &[u8]) -> bool {
        zl_walk(zl).is_some()
    }

    pub fn ziplist_entries(zl: &[u8]) -> Vec<ZlEntry> {
        zl_walk(zl).unwrap_or_default()
    }

    pub fn intset_ok(is: &[u8]) -> bool {
        if is.len() < 8 {
            return false;
        }
        let enc = super::le(&is[0..4]) as usize;
        if !matches!(enc, 2 | 4 | 8) {
            return false;
        }
        let count = super::le(&is[4..8]) as usize;
        if 8 + count * enc != is.len() || count == 0 {
            return false;
        }
        let get = |i: usize| {
            let b = &is[8 + i * enc..8 + (i + 1) * enc];
            // Sign-extend the little-endian integer of `enc` bytes.
            let shift = 64 - 8 * enc as u32;
            ((super::le(b) << shift) as i64) >> shift
        };
        (1..count).all(|i| get(i) > get(i - 1))
    }
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

// ===========================================================================
// The live server and its data
// ===========================================================================

/// Configuration of both servers: small compact-encoding limits, so the
/// workload leaves many small listpacks (and so many headers) in the file.
const SMALL_LIMITS: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "8"),
    ("zset-max-listpack-entries", "8"),
    ("list-max-listpack-size", "8"),
    ("list-compress-depth", "0"),
    ("stream-node-max-entries", "4"),
];

/// Starts a server with `config` (on top of `SMALL_LIMITS`), writes the
/// workload, SAVEs, and returns the file's bytes. The server is gone on
/// return (and on panic).
fn live_rdb(bin: &Path, config: &[(&str, &str)]) -> Vec<u8> {
    let mut all: Vec<(&str, &str)> = SMALL_LIMITS.to_vec();
    all.extend_from_slice(config);
    let server = RedisServer::start(bin, None, &all);
    let mut conn = Conn::connect(server.port).expect("connect to redis-server");
    let commands = live_data();
    let replies = conn.pipeline(&commands).expect("send the workload");
    for (cmd, reply) in commands.iter().zip(&replies) {
        if let Resp::Error(e) = reply {
            panic!("{}: {e}", String::from_utf8_lossy(&cmd.join(&b' ')));
        }
    }
    match conn.call(&[b"SAVE".to_vec()]) {
        Ok(Resp::Simple(s)) if s == "OK" => {}
        other => panic!("SAVE: {other:?}"),
    }
    std::fs::read(server.dir().join("dump.rdb")).expect("read dump.rdb")
}

/// The workload: the same commands for both files, no randomness and no
/// time-dependent data inside the compact encodings (explicit stream IDs),
/// so the blobs are the same from run to run.
fn live_data() -> Vec<Vec<Vec<u8>>> {
    let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut cmd = |parts: Vec<Vec<u8>>| cmds.push(parts);
    let s = |x: &str| x.as_bytes().to_vec();
    let c = |parts: &[&str]| {
        parts
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };

    cmd(c(&["FLUSHALL"]));
    // Strings: int, short, compressible (LZF in file A), binary, empty.
    cmd(c(&["SET", "s:int", "12345"]));
    cmd(c(&["SET", "s:i64", "-9223372036854775808"]));
    cmd(c(&["SET", "s:short", "hello world"]));
    cmd(vec![
        s("SET"),
        s("s:lzf"),
        "abcdefgh".repeat(100).into_bytes(),
    ]);
    cmd(vec![s("SET"), s("s:bin"), (0..=255u8).collect()]);
    cmd(c(&["SET", "s:empty", ""]));

    // Lists: every listpack integer width, every string length encoding
    // (6-bit, 12-bit, 32-bit), one- and two-byte backlens, many nodes.
    let ints = [
        "0",
        "1",
        "127",
        "128",
        "-1",
        "-4096",
        "4095",
        "4096",
        "-32768",
        "32767",
        "70000",
        "-8388608",
        "8388607",
        "2147483647",
        "-2147483648",
        "9223372036854775807",
        "-9223372036854775808",
    ];
    let mut l = c(&["RPUSH", "l:ints"]);
    l.extend(ints.iter().map(|x| s(x)));
    cmd(l);
    cmd(vec![
        s("RPUSH"),
        s("l:strs"),
        s("x"),
        "y".repeat(63).into_bytes(),
        "z".repeat(64).into_bytes(),
        "w".repeat(200).into_bytes(),
        "v".repeat(4100).into_bytes(),
        Vec::new(),
    ]);
    cmd(c(&["RPUSH", "l:small", "a", "b", "c"]));
    let mut l = c(&["RPUSH", "l:big"]);
    for i in 0..100 {
        l.push(
            if i % 3 == 0 {
                (i * 1000).to_string()
            } else {
                format!("item:{i}")
            }
            .into_bytes(),
        );
    }
    cmd(l);

    // Sets: intsets of each width, and a hashtable set.
    cmd(c(&[
        "SADD", "set:i16", "1", "2", "3", "-5", "300", "32767", "-32768",
    ]));
    cmd(c(&[
        "SADD",
        "set:i32",
        "1",
        "100000",
        "-100000",
        "2147483647",
    ]));
    cmd(c(&[
        "SADD",
        "set:i64",
        "1",
        "4294967296",
        "-9223372036854775808",
        "9223372036854775807",
    ]));
    cmd(c(&["SADD", "set:one", "7"]));
    cmd(c(&["SADD", "set:str", "a", "b", "c"]));

    // Zsets: listpacks with int, fractional and infinite scores; a skiplist.
    cmd(c(&[
        "ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e",
    ]));
    cmd(c(&[
        "ZADD",
        "z:ints",
        "100",
        "m1",
        "-70000",
        "m2",
        "5000000000",
        "m3",
    ]));
    let mut z = c(&["ZADD", "z:big"]);
    for i in 0..20 {
        z.push(format!("{}", i * 7).into_bytes());
        z.push(format!("member:{i}").into_bytes());
    }
    cmd(z);

    // Hashes: many small listpacks of 1..8 fields; a hashtable.
    for h in 0..12 {
        let mut x = vec![s("HSET"), format!("h:{h}").into_bytes()];
        for f in 0..=(h % 8) {
            x.push(format!("field{f}").into_bytes());
            x.push(
                match f % 4 {
                    0 => format!("{}", h * 1000 + f),
                    1 => "v".repeat(f * 9),
                    2 => format!("-{}", 1u64 << (f * 4)),
                    _ => format!("value-{h}-{f}"),
                }
                .into_bytes(),
            );
        }
        cmd(x);
    }
    let mut x = c(&["HSET", "h:big"]);
    for f in 0..20 {
        x.push(format!("f{f}").into_bytes());
        x.push(format!("{f}").into_bytes());
    }
    cmd(x);

    // Streams: explicit IDs; same fields (SAMEFIELDS entries), deleted
    // entries, mixed field sets, a group with a PEL; 4 entries per node.
    for i in 1..=14 {
        cmd(c(&[
            "XADD",
            "st:a",
            &format!("1000-{i}"),
            "type",
            "event",
            "n",
            &i.to_string(),
        ]));
    }
    cmd(c(&["XDEL", "st:a", "1000-5", "1000-9"]));
    cmd(c(&["XGROUP", "CREATE", "st:a", "g1", "0"]));
    cmd(c(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c1",
        "COUNT",
        "3",
        "STREAMS",
        "st:a",
        ">",
    ]));
    cmd(c(&["XADD", "st:b", "5-1", "a", "1"]));
    cmd(c(&["XADD", "st:b", "5-2", "a", "1", "b", "2"]));
    cmd(c(&["XADD", "st:b", "6-0", "c", "3"]));

    // Expires far in the future (2100), on compact-encoded values too.
    for k in ["s:short", "h:1", "z:small", "l:small", "set:i16"] {
        cmd(c(&["PEXPIREAT", k, "4102444800000"]));
    }

    // A second database.
    cmd(c(&["SELECT", "3"]));
    cmd(c(&["SET", "x", "1"]));
    cmd(c(&["RPUSH", "l", "a", "b", "1"]));
    cmd(c(&["HSET", "h", "f", "v"]));
    cmd(c(&["SADD", "set", "10", "20"]));
    cmd(c(&["SELECT", "0"]));
    cmds
}

fn locate_corpus(test: &str) -> Option<PathBuf> {
    rdbscope_testkit::corpus(test)
}

// ===========================================================================
// A minimal RESP2 client
// ===========================================================================

#[derive(Debug)]
enum Resp {
    Simple(String),
    Error(String),
    Int(#[allow(dead_code)] i64),
    Bulk(#[allow(dead_code)] Option<Vec<u8>>),
    Array(#[allow(dead_code)] Option<Vec<Resp>>),
}

struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn call(&mut self, args: &[Vec<u8>]) -> std::io::Result<Resp> {
        let mut r = self.pipeline(&[args.to_vec()])?;
        Ok(r.remove(0))
    }

    /// Sends all commands, then reads all replies (the server answers in
    /// order).
    fn pipeline(&mut self, cmds: &[Vec<Vec<u8>>]) -> std::io::Result<Vec<Resp>> {
        let mut buf = Vec::new();
        for args in cmds {
            buf.extend(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                buf.extend(format!("${}\r\n", a.len()).as_bytes());
                buf.extend(a);
                buf.extend(b"\r\n");
            }
        }
        self.writer.write_all(&buf)?;
        cmds.iter().map(|_| self.read()).collect()
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        if !line.ends_with("\r\n") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "short RESP line",
            ));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn read(&mut self) -> std::io::Result<Resp> {
        let line = self.line()?;
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad RESP line {line:?}"),
            )
        };
        let (kind, rest) = line.split_at(1.min(line.len()));
        let num = || rest.parse::<i64>().map_err(|_| bad());
        Ok(match kind {
            "+" => Resp::Simple(rest.to_string()),
            "-" => Resp::Error(rest.to_string()),
            ":" => Resp::Int(num()?),
            "$" => match num()? {
                n if n < 0 => Resp::Bulk(None),
                n => {
                    let mut data = vec![0; n as usize + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(n as usize);
                    Resp::Bulk(Some(data))
                }
            },
            "*" => match num()? {
                n if n < 0 => Resp::Array(None),
                n => Resp::Array(Some((0..n).map(|_| self.read()).collect::<Result<_, _>>()?)),
            },
            _ => return Err(bad()),
        })
    }
}

// ===========================================================================
// Small helpers
// ===========================================================================

/// Fails once, with every failure (long lists clipped).
fn report(failures: Vec<String>) {
    const MAX_CHARS: usize = 60_000;
    let mut text = failures.join("\n\n");
    if text.len() > MAX_CHARS {
        let mut cut = MAX_CHARS;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n... (clipped)");
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{text}",
        failures.len()
    );
}
