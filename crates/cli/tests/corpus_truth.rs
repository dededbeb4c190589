//! Acceptance criterion 1: every RDB in the shared corpus that has live-server
//! ground truth (`<file>.truth.jsonl`) is dumped with `rdbscope dump --key '*'` (key records with their values)
//! and compared key by key with that truth.
//!
//! The truth was read from a live Redis/Valkey server with ordinary commands
//! (corpus README, "Ground-truth format"), so it describes the server's memory
//! after loading, not the file. The comparison therefore ignores what only the
//! server decides (encodings, digests, the order of keys, set members and hash
//! fields) and tolerates what a server drops at load (already-expired keys and
//! hash fields, empty collections). Everything else must be equal.
//!
//! One corpus file is an AOF with an RDB preamble (`rdb-preamble.aof`): its
//! truth is the state after replaying the commands that follow the RDB, so
//! the keys those commands name are not judged (see `aof_tail_keys`).
//!
//! Corpus location: `$RDBSCOPE_CORPUS`, else `shared/corpus` beside the
//! workspace. When it is missing the test is skipped with a notice on stderr,
//! unless `REQUIRE_CORPUS=1`, which turns that into a failure.
//!
//! All mismatches of all files are collected and reported together at the end.
//!
//! The AOF cases (`aof/<server>/<case>/`, plain, RDB-preamble and
//! multi-part) are replayed (`rdbscope convert CASE - --to jsonl`) and
//! compared with their truth the same way, replayed at the instant the
//! truth's server loaded them (its consumers' seen time); `rdbscope digest`
//! of each, leaving out keys that had expired by then, must equal the
//! `debug_digest` of its meta (issue 13, acceptance 1).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Raw bytes of a binary-safe string (key, value, member, field, name).
type Bytes = Vec<u8>;
/// How keys are matched between truth and dump: (db, raw key bytes).
type KeyId = (i64, Bytes);

/// Longest rendering of one expected or got value in a report line.
const CLIP: usize = 200;
/// Longest stderr excerpt shown when `rdbscope dump` fails.
const CLIP_STDERR: usize = 2000;
/// How many individual items (members, fields, ...) one difference lists.
const MAX_ITEMS: usize = 5;

/// Marker put in front of numbers that `protect_numbers` turned into strings.
const NUM_TAG: &str = "\u{0}num:";
/// The same marker as JSON source text.
const NUM_TAG_JSON: &str = "\\u0000num:";

#[test]
fn corpus_dumps_match_live_server_truth() {
    let Some(corpus) = locate_corpus() else {
        return;
    };
    let files = truth_files(&corpus);
    assert!(
        !files.is_empty(),
        "the corpus exists at {} but no RDB with a .truth.jsonl was found under rdb/ or third_party/",
        corpus.display()
    );

    let now = now_ms();
    let mut totals = Totals::default();
    let mut mismatches = Vec::new();
    for rdb in &files {
        let name = rdb
            .strip_prefix(&corpus)
            .unwrap_or(rdb)
            .display()
            .to_string();
        check_file(rdb, &name, now, &mut totals, &mut mismatches);
    }

    let summary = format!(
        "corpus_truth: {} files dumped, {} keys compared, {} dump-only keys accepted as dropped at load \
         (expired or empty), {} expired hash fields accepted as dropped at load, \
         {} keys named by an AOF tail not judged, corpus {}",
        totals.files,
        totals.keys,
        totals.dropped,
        totals.dropped_fields,
        totals.aof_tail,
        corpus.display()
    );
    eprintln!("{summary}");
    if !mismatches.is_empty() {
        panic!(
            "{} mismatch(es) against the live-server truth:\n{}\n{summary}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
}

#[test]
fn corpus_aofs_replayed_match_live_server_truth() {
    let Some(corpus) = locate_corpus() else {
        return;
    };
    let mut cases = Vec::new();
    for server in std::fs::read_dir(corpus.join("aof")).expect("corpus aof/") {
        let server = server.expect("corpus entry").path();
        let Ok(entries) = std::fs::read_dir(&server) else {
            continue;
        };
        for case in entries {
            let case = case.expect("corpus entry").path();
            if case.is_dir() && sidecar(&case, ".truth.jsonl").is_file() {
                cases.push(case);
            }
        }
    }
    cases.sort();
    assert!(
        cases.len() >= 30,
        "expected the corpus AOF cases, found {}",
        cases.len()
    );
    let now = now_ms();
    let mut totals = Totals::default();
    let mut mismatches = Vec::new();
    for case in &cases {
        let name = case
            .strip_prefix(&corpus)
            .unwrap_or(case)
            .display()
            .to_string();
        let input = if case.join("appendonlydir").is_dir() {
            case.join("appendonlydir")
        } else {
            case.join("appendonly.aof")
        };
        // Consumer seen and active times are the loading server's clock:
        // replay at the instant the truth's server loaded the file.
        let mut args = vec!["convert", "-q", "--to", "jsonl"];
        let loaded_at = load_instant(&sidecar(case, ".truth.jsonl")).map(|ms| format!("{ms}ms"));
        if let Some(at) = &loaded_at {
            args.extend(["--replay-now", at]);
        }
        check_file_from(
            case,
            &input,
            &args,
            &name,
            now,
            &mut totals,
            &mut mismatches,
        );
        // The digest a server computes over the replayed state: without the
        // keys the truth's server had already seen expire (a key that
        // expired since is still in the truth's digest).
        let meta: Value = serde_json::from_str(
            &std::fs::read_to_string(sidecar(case, ".meta.json")).expect("meta.json"),
        )
        .expect("meta.json parses");
        let server = &meta["server"];
        let version = server["version"].as_str().expect("server.version");
        let minor: Vec<&str> = version.split('.').take(2).collect();
        let server_version = format!(
            "{}-{}",
            server["name"].as_str().expect("server.name"),
            minor.join(".")
        );
        let expected = meta["debug_digest"].as_str().expect("debug_digest");
        let mut digest = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
        digest.args(["digest", "--server-version", &server_version]);
        if let Some(at) = totals.last_dropped_expire {
            digest.arg(format!("--as-loaded={}ms", at + 1));
        }
        let out = digest.arg(&input).output().expect("run rdbscope digest");
        let got = String::from_utf8_lossy(&out.stdout);
        if got.trim() != expected {
            mismatches.push(format!(
                "{name}: digest --server-version {server_version}: expected {expected}, got {} ({})",
                got.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let summary = format!(
        "corpus_truth (AOF replay): {} cases replayed, {} keys compared, {} replayed keys accepted as expired",
        totals.files, totals.keys, totals.dropped
    );
    eprintln!("{summary}");
    if !mismatches.is_empty() {
        panic!(
            "{} mismatch(es) against the live-server truth:\n{}\n{summary}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Finding the files
// ---------------------------------------------------------------------------

/// When the server that made a truth file loaded its AOF: the seen time
/// of stream consumers it created then (the latest, since a consumer seen
/// later moved on with the workload's clock).
fn load_instant(truth: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(truth).ok()?;
    let mut latest = None;
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(groups) = v
            .pointer("/value/xinfo_full/groups")
            .and_then(Value::as_array)
        else {
            continue;
        };
        for c in groups
            .iter()
            .filter_map(|g| g.get("consumers").and_then(Value::as_array))
            .flatten()
        {
            latest = latest.max(c.get("seen-time").and_then(Value::as_i64));
        }
    }
    latest
}

fn locate_corpus() -> Option<PathBuf> {
    rdbscope_testkit::corpus("corpus_truth")
}

/// Every RDB under `rdb/` and `third_party/` that has a truth file beside it,
/// in a stable order. The extension does not matter (`rdb-preamble.aof` is an
/// RDB followed by AOF commands); the magic does, so plain AOFs with truth
/// are left out.
fn truth_files(corpus: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for sub in ["rdb", "third_party"] {
        walk(&corpus.join(sub), &mut all);
    }
    all.sort();
    all.into_iter()
        .filter(|path| {
            let name = path.to_string_lossy();
            if name.ends_with(".truth.jsonl") || name.ends_with(".meta.json") {
                return false;
            }
            if !sidecar(path, ".truth.jsonl").is_file() {
                return false;
            }
            if has_rdb_magic(path) {
                return true;
            }
            eprintln!("corpus_truth: not an RDB, not compared: {}", path.display());
            false
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return; // a missing subtree is caught by the "no files found" check
    };
    for entry in entries {
        let path = entry.expect("reading a corpus directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `<path><suffix>`, e.g. `x.rdb` -> `x.rdb.truth.jsonl`.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn has_rdb_magic(path: &Path) -> bool {
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(6).read_to_end(&mut head));
    read.is_ok() && (head.starts_with(b"REDIS") || head.starts_with(b"VALKEY"))
}

fn now_ms() -> i128 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before 1970");
    since_epoch.as_millis() as i128
}

// ---------------------------------------------------------------------------
// One file
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Totals {
    files: usize,
    keys: usize,
    dropped: usize,
    dropped_fields: usize,
    aof_tail: usize,
    /// The latest expire time among the keys of the last file checked that
    /// the truth lacks as expired at load.
    last_dropped_expire: Option<i128>,
}

/// One key, from either side, with the parts that are compared.
struct KeyRec {
    db: i64,
    key: Bytes,
    kind: String,
    expire_at_ms: Option<i128>,
    value: Value,
    /// Field -> absolute ms; empty when no field has a TTL (or the field is absent).
    field_ttls: BTreeMap<Bytes, i128>,
}

fn check_file(rdb: &Path, name: &str, now: i128, totals: &mut Totals, out: &mut Vec<String>) {
    check_file_from(rdb, rdb, &["dump", "--key", "*"], name, now, totals, out)
}

/// Compares `rdbscope ARGS INPUT` with the truth beside `case`.
fn check_file_from(
    case: &Path,
    input: &Path,
    args: &[&str],
    name: &str,
    now: i128,
    totals: &mut Totals,
    out: &mut Vec<String>,
) {
    let rdb = case;
    let truth = match load_truth(&sidecar(rdb, ".truth.jsonl")) {
        Ok(truth) => truth,
        Err(e) => return out.push(format!("{name}: unusable truth file: {e}")),
    };
    let ours = match dump(args, input) {
        Ok(dumped) => dumped,
        Err(e) => return out.push(format!("{name}: {e}")),
    };
    let aof_tail = match aof_tail_keys(rdb) {
        Ok(keys) => keys,
        Err(e) => {
            out.push(format!("{name}: cannot read the AOF tail: {e}"));
            BTreeSet::new()
        }
    };
    totals.files += 1;
    totals.last_dropped_expire = None;
    out.extend(ours.problems.iter().map(|p| format!("{name}: {p}")));

    // Keys per db as the server had them: what the dump has, minus what the
    // server drops at load, with keys named by an AOF tail as the truth has them.
    let mut kept: BTreeMap<i64, i128> = BTreeMap::new();
    for (id, t) in &truth {
        if aof_tail.contains(id) {
            totals.aof_tail += 1;
            *kept.entry(id.0).or_default() += 1;
            continue;
        }
        match ours.keys.get(id) {
            None => out.push(key_line(name, id, "in truth but missing from the dump")),
            Some(o) => {
                totals.keys += 1;
                let diffs = compare_key(t, o, now);
                totals.dropped_fields += diffs.dropped_fields;
                if !diffs.items.is_empty() {
                    out.push(key_line(name, id, &diffs.items.join("; ")));
                }
            }
        }
    }

    for (id, o) in &ours.keys {
        if aof_tail.contains(id) {
            continue;
        }
        if !truth.contains_key(id) {
            if let Some(reason) = dropped_at_load(o, now) {
                eprintln!(
                    "corpus_truth: accepted as dropped at load ({reason}): {}",
                    key_line(name, id, &o.kind)
                );
                totals.dropped += 1;
                if let Some(at) = o.expire_at_ms {
                    totals.last_dropped_expire = totals.last_dropped_expire.max(Some(at));
                }
                continue;
            }
            out.push(key_line(
                name,
                id,
                &format!(
                    "in the dump ({}, expire_at_ms {}) but not in truth, and neither expired nor empty",
                    o.kind,
                    opt(o.expire_at_ms)
                ),
            ));
        }
        *kept.entry(id.0).or_default() += 1;
    }
    check_meta(&sidecar(rdb, ".meta.json"), name, &kept, out);
}

fn key_line(file: &str, (db, key): &KeyId, what: &str) -> String {
    format!("{file} db={db} key={}: {what}", clip(&show(key)))
}

/// Whether a key that the dump has and the truth lacks is one the server
/// legitimately dropped while loading: Redis skips keys whose TTL has passed,
/// empty collections (e.g. `corrupt_empty_keys.rdb`), and (7.4+) hash fields
/// whose own TTL has passed, deleting a hash left empty by that.
fn dropped_at_load(o: &KeyRec, now: i128) -> Option<&'static str> {
    if o.expire_at_ms.is_some_and(|at| at < now) {
        return Some("expired");
    }
    let items = o.value.as_array()?;
    match o.kind.as_str() {
        "list" | "set" | "zset" | "hash" if items.is_empty() => Some("empty"),
        "hash" if items.len() == o.field_ttls.values().filter(|&&at| at < now).count() => {
            Some("all fields expired")
        }
        _ => None,
    }
}

/// `total_keys` / `keys_per_db` of `<file>.meta.json`, when it exists.
fn check_meta(path: &Path, name: &str, kept: &BTreeMap<i64, i128>, out: &mut Vec<String>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let meta: Value = match serde_json::from_str(&text) {
        Ok(meta) => meta,
        Err(e) => return out.push(format!("{name}: unparsable {}: {e}", path.display())),
    };
    let ours_total: i128 = kept.values().sum();
    if let Some(total) = meta.get("total_keys").and_then(num) {
        if total != ours_total {
            out.push(format!(
                "{name}: meta total_keys: expected {total} got {ours_total}"
            ));
        }
    }
    if let Some(per_db) = meta.get("keys_per_db").and_then(Value::as_object) {
        let expected: BTreeMap<i64, i128> = per_db
            .iter()
            .filter_map(|(db, n)| Some((db.parse().ok()?, num(n)?)))
            .collect();
        if expected.len() != per_db.len() {
            out.push(format!(
                "{name}: meta keys_per_db is malformed: {}",
                clip(&per_db_text(per_db))
            ));
        } else if &expected != kept {
            out.push(format!(
                "{name}: meta keys_per_db: expected {expected:?} got {kept:?}"
            ));
        }
    }
}

fn per_db_text(per_db: &serde_json::Map<String, Value>) -> String {
    Value::Object(per_db.clone()).to_string()
}

// ---------------------------------------------------------------------------
// Reading truth and dump
// ---------------------------------------------------------------------------

fn load_truth(path: &Path) -> Result<BTreeMap<KeyId, KeyRec>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut keys = BTreeMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        let rec = KeyRec::parse(value, Side::Truth).map_err(|e| format!("line {}: {e}", n + 1))?;
        keys.insert((rec.db, rec.key.clone()), rec);
    }
    Ok(keys)
}

struct Dumped {
    keys: BTreeMap<KeyId, KeyRec>,
    /// Unparsable lines and duplicate keys; reported, and the rest still compared.
    problems: Vec<String>,
}

/// Runs `rdbscope ARGS FILE` and returns its stdout; any non-zero exit is an error.
fn run_rdbscope(args: &[&str], file: &Path) -> Result<String, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run rdbscope: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`rdbscope {}` failed ({}); stderr: {}",
            args.join(" "),
            output.status,
            clip_to(stderr.trim(), CLIP_STDERR)
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|e| format!("`rdbscope {}` output is not UTF-8: {e}", args.join(" ")))
}

/// The keys of `rdbscope dump --key '*' FILE` (with their values).
fn dump(args: &[&str], input: &Path) -> Result<Dumped, String> {
    let text = if args[0] == "convert" {
        // `convert INPUT - ...`: the input comes before the output.
        let output = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .arg("convert")
            .arg(input)
            .arg("-")
            .args(&args[1..])
            .output()
            .map_err(|e| format!("cannot run rdbscope: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`rdbscope convert {} -` failed ({}); stderr: {}",
                input.display(),
                output.status,
                clip_to(String::from_utf8_lossy(&output.stderr).trim(), CLIP_STDERR)
            ));
        }
        String::from_utf8(output.stdout).map_err(|e| format!("output is not UTF-8: {e}"))?
    } else {
        run_rdbscope(args, input)?
    };

    let mut dumped = Dumped {
        keys: BTreeMap::new(),
        problems: Vec::new(),
    };
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parsed = serde_json::from_str::<Value>(&protect_numbers(line))
            .map_err(|e| e.to_string())
            .and_then(|value| match (value.get("record"), value.get("command")) {
                (Some(_), _) => Ok(None), // header/aux/selectdb/...: not a key
                // A command of an AOF tail (see `aof_tail_keys`).
                (None, Some(_)) => Ok(None),
                (None, None) => KeyRec::parse(value, Side::Dump).map(Some),
            });
        match parsed {
            Ok(None) => {}
            Ok(Some(rec)) => {
                let id = (rec.db, rec.key.clone());
                if dumped.keys.insert(id.clone(), rec).is_some() {
                    dumped.problems.push(format!(
                        "dump line {}: duplicate key db={} key={}",
                        n + 1,
                        id.0,
                        show(&id.1)
                    ));
                }
            }
            Err(e) => dumped
                .problems
                .push(format!("dump line {}: {e}: {}", n + 1, clip(line))),
        }
    }
    Ok(dumped)
}

/// An RDB-magic file not named `.rdb` is an AOF with an RDB preamble
/// (`aof-use-rdb-preamble`): RESP commands follow the RDB, and its truth is
/// the state after replaying them, which no RDB reader can show. The keys
/// those commands name are returned so that they are not judged; every other
/// key of the preamble still is.
fn aof_tail_keys(file: &Path) -> Result<BTreeSet<KeyId>, String> {
    if file.is_dir() || file.extension().is_some_and(|ext| ext == "rdb") {
        return Ok(BTreeSet::new());
    }
    // The full dump's `eof` record says how many bytes follow the RDB.
    let full = run_rdbscope(&["dump"], file)?;
    let trailing = full
        .lines()
        .filter(|line| line.contains("\"eof\""))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|rec| rec.get("record").and_then(Value::as_str) == Some("eof"))
        .and_then(|eof| eof.get("trailing_bytes").and_then(num))
        .ok_or("no eof record with trailing_bytes")?;
    let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let start = usize::try_from(trailing)
        .ok()
        .and_then(|n| data.len().checked_sub(n))
        .ok_or("bad trailing_bytes")?;
    resp_keys(&data[start..])
}

/// The (db, key) pairs that a sequence of RESP commands writes or deletes.
fn resp_keys(tail: &[u8]) -> Result<BTreeSet<KeyId>, String> {
    let mut keys = BTreeSet::new();
    let mut db = 0;
    let mut pos = 0;
    while pos < tail.len() {
        let line = resp_line(tail, &mut pos)?;
        if line.starts_with(b"#") {
            continue; // `#TS:` annotation (aof-timestamp-enabled)
        }
        let argc: usize = resp_number(line.strip_prefix(b"*").ok_or("expected *<argc>")?)?;
        let mut args = Vec::with_capacity(argc.min(64));
        for _ in 0..argc {
            let len: usize = resp_number(
                resp_line(tail, &mut pos)?
                    .strip_prefix(b"$")
                    .ok_or("expected $<len>")?,
            )?;
            let arg = tail.get(pos..pos + len).ok_or("truncated argument")?;
            args.push(arg.to_vec());
            pos += len;
            if resp_line(tail, &mut pos)? != b"" {
                return Err("argument not followed by CRLF".into());
            }
        }
        let command = args
            .first()
            .map(|c| c.to_ascii_lowercase())
            .unwrap_or_default();
        let named: Vec<&Bytes> = match command.as_slice() {
            b"select" => {
                db = resp_number(args.get(1).ok_or("SELECT without a db")?)?;
                continue;
            }
            b"multi" | b"exec" => continue,
            b"del" | b"unlink" => args[1..].iter().collect(),
            b"mset" | b"msetnx" => args[1..].iter().step_by(2).collect(),
            _ => args.get(1).into_iter().collect(),
        };
        keys.extend(named.into_iter().map(|key| (db, key.clone())));
    }
    Ok(keys)
}

/// The bytes up to the next CRLF, moving `pos` past it.
fn resp_line<'a>(data: &'a [u8], pos: &mut usize) -> Result<&'a [u8], String> {
    let rest = &data[*pos..];
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or("line without CRLF")?;
    *pos += end + 2;
    Ok(&rest[..end])
}

fn resp_number<T: std::str::FromStr>(digits: &[u8]) -> Result<T, String> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad number {:?}", String::from_utf8_lossy(digits)))
}

/// serde_json's default float parsing may be one ULP off, and it turns
/// integers wider than 64 bits into floats, while zset scores must compare
/// exactly. So every number in a dump line that is not a plain integer of at
/// most 18 digits becomes a string tagged with `NUM_TAG`, which `num` and
/// `score` parse with Rust's correctly rounded parsers.
fn protect_numbers(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1, // skip the escaped character
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
        } else if c == b'"' {
            in_string = true;
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let number = &line[start..i];
            let digits = number.trim_start_matches('-');
            let plain_int = digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit());
            if !plain_int {
                out.push_str(&line[copied..start]);
                out.push('"');
                out.push_str(NUM_TAG_JSON);
                out.push_str(number);
                out.push('"');
                copied = i;
            }
        } else {
            i += 1;
        }
    }
    out.push_str(&line[copied..]);
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Truth,
    Dump,
}

impl KeyRec {
    fn parse(value: Value, side: Side) -> Result<KeyRec, String> {
        let Value::Object(mut obj) = value else {
            return Err("not a JSON object".into());
        };
        let db = obj.get("db").and_then(num).ok_or("no integer \"db\"")?;
        let key = bytes(obj.get("key").ok_or("no \"key\"")?)?;
        let kind = text(obj.get("type").ok_or("no \"type\"")?)?.to_string();
        let expire_at_ms = match obj.get("expire_at_ms") {
            None => return Err("no \"expire_at_ms\"".into()),
            Some(Value::Null) => None,
            Some(v) => Some(num(v).ok_or_else(|| format!("bad expire_at_ms {v}"))?),
        };
        let field_ttls = match obj.get("field_expire_at_ms") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(v) if side == Side::Truth => truth_field_ttls(v)?,
            Some(v) => dump_field_ttls(v)?,
        };
        let value = obj.remove("value").ok_or("no \"value\"")?;
        Ok(KeyRec {
            db: i64::try_from(db).map_err(|_| format!("db {db} out of range"))?,
            key,
            kind,
            expire_at_ms,
            value,
            field_ttls,
        })
    }
}

/// Truth: `{field: ms}`, a non-UTF-8 field written as `"base64:<b64>"`.
fn truth_field_ttls(v: &Value) -> Result<BTreeMap<Bytes, i128>, String> {
    let obj = v.as_object().ok_or("field_expire_at_ms is not an object")?;
    let mut ttls = BTreeMap::new();
    for (field, at) in obj {
        let field = match field.strip_prefix("base64:") {
            Some(b64) => base64_decode(b64)?,
            None => field.as_bytes().to_vec(),
        };
        ttls.insert(field, num(at).ok_or_else(|| format!("bad field TTL {at}"))?);
    }
    Ok(ttls)
}

/// Dump: `[[field S, ms], ...]`.
fn dump_field_ttls(v: &Value) -> Result<BTreeMap<Bytes, i128>, String> {
    let mut ttls = BTreeMap::new();
    for pair in array(v)? {
        let [field, at] = pair_of(pair)?;
        let field = bytes(field)?;
        let at = num(at).ok_or_else(|| format!("bad field TTL {at}"))?;
        if ttls.insert(field.clone(), at).is_some() {
            return Err(format!("field {} has two TTLs", show(&field)));
        }
    }
    Ok(ttls)
}

// ---------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------

/// A binary-safe string: a JSON string, or `{"base64": "..."}`.
fn bytes(v: &Value) -> Result<Bytes, String> {
    match v {
        Value::String(s) if !s.starts_with(NUM_TAG) => Ok(s.as_bytes().to_vec()),
        Value::Object(obj) if obj.len() == 1 => match obj.get("base64") {
            Some(Value::String(b64)) => base64_decode(b64),
            _ => Err(format!("expected a string, got {}", clip(&v.to_string()))),
        },
        _ => Err(format!("expected a string, got {}", clip(&v.to_string()))),
    }
}

/// An integer, also one that `protect_numbers` turned into a tagged string.
fn num(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Value::String(s) => s.strip_prefix(NUM_TAG)?.parse().ok(),
        _ => None,
    }
}

/// A zset score: a number, or a string (`inf`, `-inf`, `nan`, or the decimal
/// text the server replied with, e.g. `0.10000000000000001`, `-0`).
fn score(v: &Value) -> Result<f64, String> {
    let parsed = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.strip_prefix(NUM_TAG).unwrap_or(s).parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| format!("bad score {v}"))
}

fn text(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("expected a string, got {}", clip(&v.to_string())))
}

fn array(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("expected an array, got {}", clip(&v.to_string())))
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name)
        .ok_or_else(|| format!("no \"{name}\" in {}", clip(&v.to_string())))
}

fn pair_of(v: &Value) -> Result<[&Value; 2], String> {
    match array(v)?.as_slice() {
        [a, b] => Ok([a, b]),
        _ => Err(format!("expected a pair, got {}", clip(&v.to_string()))),
    }
}

/// A scalar (id string, integer or null) in one comparable form, so that
/// `5` and a tagged `"5"` or an id compare by meaning.
fn scalar(v: &Value) -> String {
    match num(v) {
        Some(n) => n.to_string(),
        None => match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    }
}

fn base64_decode(b64: &str) -> Result<Bytes, String> {
    let mut out = Vec::with_capacity(b64.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in b64.bytes().filter(|&c| c != b'=') {
        let sextet = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("invalid base64 {b64:?}")),
        };
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Rendering differences
// ---------------------------------------------------------------------------

/// Readable form of raw bytes: a quoted string if UTF-8, else escaped bytes.
fn show(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("b\"{}\"", b.escape_ascii()),
    }
}

fn show_items<T>(items: impl IntoIterator<Item = T>, render: impl Fn(T) -> String) -> String {
    let mut rendered = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            rendered.push_str(", ");
        }
        rendered.push_str(&render(item));
        if rendered.len() > CLIP {
            break; // clip() cuts it anyway; don't render 3000 elements first
        }
    }
    rendered.push(']');
    rendered
}

fn opt(v: Option<i128>) -> String {
    v.map_or_else(|| "null".to_string(), |n| n.to_string())
}

fn clip(s: &str) -> String {
    clip_to(s, CLIP)
}

fn clip_to(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

/// The differences found in one key, each naming what differs.
#[derive(Default)]
struct Diffs {
    items: Vec<String>,
    /// Hash fields of the dump accepted as dropped at load (their TTL passed).
    dropped_fields: usize,
}

impl Diffs {
    fn add(&mut self, what: impl Display, expected: impl Display, got: impl Display) {
        self.items.push(format!(
            "{what}: expected {} got {}",
            clip(&expected.to_string()),
            clip(&got.to_string())
        ));
    }

    fn eq<T: PartialEq + Display>(&mut self, what: impl Display, expected: T, got: T) {
        if expected != got {
            self.add(what, expected, got);
        }
    }

    fn note(&mut self, msg: impl Display) {
        self.items.push(clip(&msg.to_string()));
    }
}

/// Sequences whose order matters: reports the lengths and the first difference.
fn diff_sequence<T: PartialEq>(
    d: &mut Diffs,
    what: &str,
    expected: &[T],
    got: &[T],
    render: impl Fn(&T) -> String,
) {
    if expected == got {
        return;
    }
    if expected.len() != got.len() {
        d.add(format!("{what} length"), expected.len(), got.len());
    }
    if let Some(i) = expected.iter().zip(got).position(|(e, g)| e != g) {
        d.add(
            format!("{what}[{i}]"),
            render(&expected[i]),
            render(&got[i]),
        );
    }
}

/// Maps keyed by raw bytes (hash fields, zset members, names, ...): reports
/// keys missing from the dump, unexpected keys and differing values.
fn diff_maps<V>(
    d: &mut Diffs,
    what: &str,
    expected: &BTreeMap<Bytes, V>,
    got: &BTreeMap<Bytes, V>,
    same: impl Fn(&V, &V) -> bool,
    render: impl Fn(&V) -> String,
) {
    let missing: Vec<&Bytes> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&Bytes> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    let differing: Vec<(&Bytes, &V, &V)> = expected
        .iter()
        .filter_map(|(k, e)| got.get(k).filter(|g| !same(e, g)).map(|g| (k, e, g)))
        .collect();
    if !missing.is_empty() {
        let shown = show_items(missing.iter().take(MAX_ITEMS), |k| show(k));
        d.note(format!(
            "{what}: {} missing from the dump: {shown}",
            missing.len()
        ));
    }
    if !extra.is_empty() {
        let shown = show_items(extra.iter().take(MAX_ITEMS), |k| show(k));
        d.note(format!("{what}: {} not in truth: {shown}", extra.len()));
    }
    if !differing.is_empty() {
        d.note(format!("{what}: {} differ", differing.len()));
        for (k, e, g) in differing.into_iter().take(MAX_ITEMS) {
            d.add(format!("{what} {}", clip(&show(k))), render(e), render(g));
        }
    }
}

// ---------------------------------------------------------------------------
// Comparing one key
// ---------------------------------------------------------------------------

fn compare_key(t: &KeyRec, o: &KeyRec, now: i128) -> Diffs {
    let mut d = Diffs::default();
    if t.kind != o.kind {
        d.add("type", &t.kind, &o.kind);
        return d; // the values are not comparable
    }
    d.eq("expire_at_ms", opt(t.expire_at_ms), opt(o.expire_at_ms));
    let compared = match t.kind.as_str() {
        "string" => compare_string(&mut d, &t.value, &o.value),
        "list" => compare_list(&mut d, &t.value, &o.value),
        "set" => compare_set(&mut d, &t.value, &o.value),
        "zset" => compare_zset(&mut d, &t.value, &o.value),
        "hash" => compare_hash(&mut d, t, o, now),
        "stream" => compare_stream(&mut d, &t.value, &o.value),
        other => Err(format!("the test cannot compare type {other:?}")),
    };
    if let Err(e) = compared {
        d.note(format!("malformed value: {e}"));
    }
    d
}

fn compare_string(d: &mut Diffs, t: &Value, o: &Value) -> Result<(), String> {
    let (t, o) = (bytes(t)?, bytes(o)?);
    if t != o {
        d.add(
            format!("value ({} vs {} bytes)", t.len(), o.len()),
            show(&t),
            show(&o),
        );
    }
    Ok(())
}

fn byte_list(v: &Value) -> Result<Vec<Bytes>, String> {
    array(v)?.iter().map(bytes).collect()
}

fn compare_list(d: &mut Diffs, t: &Value, o: &Value) -> Result<(), String> {
    let (t, o) = (byte_list(t)?, byte_list(o)?);
    diff_sequence(d, "list", &t, &o, |b| show(b));
    Ok(())
}

/// Members as a multiset, so a duplicated member in the dump is caught too.
fn compare_set(d: &mut Diffs, t: &Value, o: &Value) -> Result<(), String> {
    let count = |members: Vec<Bytes>| {
        let mut counts: BTreeMap<Bytes, usize> = BTreeMap::new();
        for m in members {
            *counts.entry(m).or_default() += 1;
        }
        counts
    };
    let (t, o) = (count(byte_list(t)?), count(byte_list(o)?));
    diff_maps(
        d,
        "set members",
        &t,
        &o,
        |a, b| a == b,
        |n| format!("{n} time(s)"),
    );
    Ok(())
}

/// Pairs `[[S, x], ...]` as a map; a repeated name in the dump is reported.
fn pair_map<V>(
    d: &mut Diffs,
    what: &str,
    v: &Value,
    second: impl Fn(&Value) -> Result<V, String>,
) -> Result<BTreeMap<Bytes, V>, String> {
    let mut map = BTreeMap::new();
    for pair in array(v)? {
        let [name, x] = pair_of(pair)?;
        let name = bytes(name)?;
        if map.insert(name.clone(), second(x)?).is_some() {
            d.note(format!("{what} {} appears twice", show(&name)));
        }
    }
    Ok(map)
}

fn compare_zset(d: &mut Diffs, t: &Value, o: &Value) -> Result<(), String> {
    let mut ignore = Diffs::default(); // the truth comes from ZRANGE: no duplicates
    let t = pair_map(&mut ignore, "member", t, score)?;
    let o = pair_map(d, "member", o, score)?;
    // `==` makes -0 equal 0, as the server does; NaN only equals NaN.
    let same = |a: &f64, b: &f64| a == b || (a.is_nan() && b.is_nan());
    diff_maps(d, "zset scores", &t, &o, same, |s| format!("{s:?}"));
    Ok(())
}

fn compare_hash(d: &mut Diffs, t: &KeyRec, o: &KeyRec, now: i128) -> Result<(), String> {
    let mut ignore = Diffs::default(); // the truth comes from HGETALL: no duplicates
    let t_fields = pair_map(&mut ignore, "field", &t.value, bytes)?;
    let mut o_fields = pair_map(d, "field", &o.value, bytes)?;
    let mut o_ttls = o.field_ttls.clone();

    // Fields whose own TTL had passed were dropped by the server at load.
    let dropped: Vec<Bytes> = o_ttls
        .iter()
        .filter(|(f, at)| **at < now && !t_fields.contains_key(*f))
        .map(|(f, _)| f.clone())
        .collect();
    for f in &dropped {
        o_fields.remove(f);
        o_ttls.remove(f);
    }
    d.dropped_fields += dropped.len();

    diff_maps(
        d,
        "hash fields",
        &t_fields,
        &o_fields,
        |a, b| a == b,
        |v| show(v),
    );
    diff_maps(
        d,
        "field_expire_at_ms",
        &t.field_ttls,
        &o_ttls,
        |a, b| a == b,
        |at| at.to_string(),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------

type Entry = (String, Vec<(Bytes, Bytes)>);

fn stream_entries(v: &Value) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for entry in array(v)? {
        let [id, fields] = pair_of(entry)?;
        let fields = array(fields)?
            .iter()
            .map(|pair| {
                let [f, v] = pair_of(pair)?;
                Ok((bytes(f)?, bytes(v)?))
            })
            .collect::<Result<_, String>>()?;
        entries.push((text(id)?.to_string(), fields));
    }
    Ok(entries)
}

fn show_entry((id, fields): &Entry) -> String {
    format!(
        "{id} {}",
        show_items(fields, |(f, v)| format!("{}={}", show(f), show(v)))
    )
}

fn compare_stream(d: &mut Diffs, t: &Value, o: &Value) -> Result<(), String> {
    let (t_entries, o_entries) = (
        stream_entries(field(t, "entries")?)?,
        stream_entries(field(o, "entries")?)?,
    );
    diff_sequence(d, "entries", &t_entries, &o_entries, show_entry);
    d.eq(
        "length",
        scalar(field(t, "length")?),
        scalar(field(o, "length")?),
    );
    d.eq(
        "last_id",
        scalar(field(t, "last_id")?),
        scalar(field(o, "last_id")?),
    );

    match t.get("xinfo_full") {
        Some(full) if !full.is_null() => compare_xinfo_full(d, full, o),
        // Redis 5.0 has no XINFO STREAM FULL; the truth has XINFO GROUPS etc. instead.
        _ => compare_xinfo_groups(d, field(t, "xinfo_groups")?, o),
    }
}

/// Objects of a JSON list keyed by their (binary-safe) `name`.
fn by_name<'a>(
    d: &mut Diffs,
    what: &str,
    list: &'a Value,
) -> Result<BTreeMap<Bytes, &'a Value>, String> {
    let mut map = BTreeMap::new();
    for item in array(list)? {
        let name = bytes(field(item, "name")?)?;
        if map.insert(name.clone(), item).is_some() {
            d.note(format!("{what} {} appears twice", show(&name)));
        }
    }
    Ok(map)
}

/// Pairs up truth and dump objects by name, reporting names only one side has.
fn match_by_name<'a>(
    d: &mut Diffs,
    what: &str,
    truth: &'a Value,
    ours: &'a Value,
) -> Result<Vec<(Bytes, &'a Value, &'a Value)>, String> {
    let mut ignore = Diffs::default();
    let t = by_name(&mut ignore, what, truth)?;
    let o = by_name(d, what, ours)?;
    let presence = |m: &BTreeMap<Bytes, &Value>| {
        m.keys()
            .map(|k| (k.clone(), ()))
            .collect::<BTreeMap<_, _>>()
    };
    diff_maps(
        d,
        what,
        &presence(&t),
        &presence(&o),
        |_, _| true,
        |_| String::new(),
    );
    Ok(t.iter()
        .filter_map(|(name, tv)| o.get(name).map(|ov| (name.clone(), *tv, *ov)))
        .collect())
}

fn null_or_absent(v: Option<&Value>) -> bool {
    v.is_none_or(Value::is_null)
}

/// A group PEL entry `[id, consumer, delivery_ms, delivery_count]` as text.
fn group_pel(v: &Value) -> Result<String, String> {
    match array(v)?.as_slice() {
        [id, consumer, ms, count] => Ok(format!(
            "{} consumer={} delivery_ms={} count={}",
            scalar(id),
            show(&bytes(consumer)?),
            scalar(ms),
            scalar(count)
        )),
        _ => Err(format!("bad PEL entry {}", clip(&v.to_string()))),
    }
}

/// The first element of each array in a list (the id of PEL entries).
fn first_of_each(v: &Value) -> Result<Vec<String>, String> {
    array(v)?
        .iter()
        .map(|item| match item {
            Value::Array(parts) if !parts.is_empty() => Ok(scalar(&parts[0])),
            Value::String(_) => Ok(scalar(item)), // ours: a consumer's PEL is bare ids
            _ => Err(format!("bad PEL entry {}", clip(&item.to_string()))),
        })
        .collect()
}

/// XINFO STREAM FULL lists at most COUNT (default 10) PEL entries, with the
/// full count in `pel-count`: compare the count, and the listed prefix.
fn compare_pel(
    d: &mut Diffs,
    what: &str,
    pel_count: Option<&Value>,
    expected: &[String],
    got: &[String],
) {
    let total = pel_count
        .and_then(num)
        .map_or(expected.len(), |n| n as usize);
    d.eq(format!("{what} count"), total, got.len());
    let got_prefix = &got[..expected.len().min(got.len())];
    diff_sequence(d, what, expected, got_prefix, |s| s.clone());
}

fn compare_xinfo_full(d: &mut Diffs, full: &Value, o: &Value) -> Result<(), String> {
    // 7.0+ metadata. Ours is null when the file's stream version lacks the
    // field; the server then derived its own value, which is not comparable.
    for (theirs, ours) in [
        ("max-deleted-entry-id", "max_deleted_id"),
        ("entries-added", "entries_added"),
        ("recorded-first-entry-id", "first_id"),
    ] {
        let Some(ov) = o.get(ours).filter(|v| !v.is_null()) else {
            continue;
        };
        match full.get(theirs) {
            Some(tv) => d.eq(ours, scalar(tv), scalar(ov)),
            None => d.add(ours, "(absent: the server predates it)", scalar(ov)),
        }
    }

    let groups = match_by_name(d, "groups", field(full, "groups")?, field(o, "groups")?)?;
    for (name, tg, og) in groups {
        let g = format!("group {}", show(&name));
        d.eq(
            format!("{g} last_delivered_id"),
            scalar(field(tg, "last-delivered-id")?),
            scalar(field(og, "last_delivered_id")?),
        );
        if let Some(read) = og.get("entries_read").filter(|v| !v.is_null()) {
            let theirs = tg
                .get("entries-read")
                .map_or("(absent)".to_string(), scalar);
            d.eq(format!("{g} entries_read"), theirs, scalar(read));
        }
        let expected = array(field(tg, "pending")?)?
            .iter()
            .map(group_pel)
            .collect::<Result<Vec<_>, _>>()?;
        let got = array(field(og, "pending")?)?
            .iter()
            .map(group_pel)
            .collect::<Result<Vec<_>, _>>()?;
        compare_pel(
            d,
            &format!("{g} pending"),
            tg.get("pel-count"),
            &expected,
            &got,
        );

        let consumers = match_by_name(
            d,
            &format!("{g} consumers"),
            field(tg, "consumers")?,
            field(og, "consumers")?,
        )?;
        for (cname, tc, oc) in consumers {
            let c = format!("{g} consumer {}", show(&cname));
            d.eq(
                format!("{c} seen_time_ms"),
                scalar(field(tc, "seen-time")?),
                scalar(field(oc, "seen_time_ms")?),
            );
            // Only 7.2+ servers have it (a replay cannot tell 7.0 from 7.2).
            if let (Some(theirs), false) = (
                tc.get("active-time"),
                null_or_absent(oc.get("active_time_ms")),
            ) {
                let theirs = scalar(theirs);
                d.eq(
                    format!("{c} active_time_ms"),
                    theirs,
                    scalar(field(oc, "active_time_ms")?),
                );
            }
            let expected = first_of_each(field(tc, "pending")?)?;
            let got = first_of_each(field(oc, "pending")?)?;
            compare_pel(
                d,
                &format!("{c} pending"),
                tc.get("pel-count"),
                &expected,
                &got,
            );
        }
    }
    Ok(())
}

/// Redis 5.0 truth: XINFO GROUPS, each with `consumers_info` (XINFO CONSUMERS)
/// and `pending_detail` (XPENDING - + n: `[id, consumer, idle_ms, count]`).
/// Idle times are relative to the read, so only ids, owners and counts compare.
fn compare_xinfo_groups(d: &mut Diffs, groups: &Value, o: &Value) -> Result<(), String> {
    let pel_without_time = |v: &Value| -> Result<String, String> {
        match array(v)?.as_slice() {
            [id, consumer, _, count] => Ok(format!(
                "{} consumer={} count={}",
                scalar(id),
                show(&bytes(consumer)?),
                scalar(count)
            )),
            _ => Err(format!("bad PEL entry {}", clip(&v.to_string()))),
        }
    };
    for (name, tg, og) in match_by_name(d, "groups", groups, field(o, "groups")?)? {
        let g = format!("group {}", show(&name));
        d.eq(
            format!("{g} last_delivered_id"),
            scalar(field(tg, "last-delivered-id")?),
            scalar(field(og, "last_delivered_id")?),
        );
        let o_pending = array(field(og, "pending")?)?;
        let o_consumers = array(field(og, "consumers")?)?;
        d.eq(
            format!("{g} pending count"),
            scalar(field(tg, "pending")?),
            o_pending.len().to_string(),
        );
        d.eq(
            format!("{g} consumer count"),
            scalar(field(tg, "consumers")?),
            o_consumers.len().to_string(),
        );

        let expected = array(field(tg, "pending_detail")?)?
            .iter()
            .map(pel_without_time)
            .collect::<Result<Vec<_>, _>>()?;
        let got = o_pending
            .iter()
            .map(pel_without_time)
            .collect::<Result<Vec<_>, _>>()?;
        diff_sequence(d, &format!("{g} pending"), &expected, &got, |s| s.clone());

        for (cname, tc, oc) in match_by_name(
            d,
            &format!("{g} consumers"),
            field(tg, "consumers_info")?,
            field(og, "consumers")?,
        )? {
            let pending = array(field(oc, "pending")?)?.len().to_string();
            d.eq(
                format!("{g} consumer {} pending count", show(&cname)),
                scalar(field(tc, "pending")?),
                pending,
            );
        }
    }
    Ok(())
}
