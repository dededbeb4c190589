//! The key filters, end to end: `rdbscope dump <filters>` over corpus
//! files, compared with what each filter means, computed here from the
//! reference facts of every key (db, key, type, expire time) with
//! predicates written by hand: no glob or filter code of ours is involved.
//!
//! The table is two-dimensional: filter cases × sources. A source says
//! where its reference facts come from:
//! * an RDB: its `*.truth.jsonl`, read from the live server;
//! * an AOF with an RDB base or preamble: the keys of its unfiltered dump
//!   (the truth describes the state after replaying the commands, not the
//!   preamble). Commands must come out selected by `--db` alone.
//!
//! A JSON-dump source (our own `dump` output read back) becomes one more
//! `Source` variant with the truth of the RDB it was dumped from.

use rdbscope_testkit::corpus;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the reference knows about one key.
#[derive(Debug, Clone)]
struct Fact {
    db: u64,
    key: Vec<u8>,
    ty: String,
    expire_at_ms: Option<i64>,
    /// The value of a string key (for the size rule).
    string: Option<Vec<u8>>,
}

/// One filter case: the options, and the keys they mean.
struct Case {
    name: &'static str,
    args: Vec<String>,
    want: Box<dyn Fn(&Fact) -> bool>,
}

fn case(name: &'static str, args: &[&str], want: impl Fn(&Fact) -> bool + 'static) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        want: Box::new(want),
    }
}

enum Source {
    /// `rdb/<server>/<case>.rdb` and its truth file.
    Rdb {
        server: &'static str,
        case: &'static str,
    },
    /// An AOF (dir or file) under `aof/`, with an RDB base or preamble.
    AofPreamble { path: &'static str },
}

const SERVERS: &[&str] = &[
    "redis-3.2.13",
    "redis-5.0.14",
    "redis-6.2.16",
    "redis-7.0.15-debian",
    "redis-7.4.1",
    "valkey-8.0.1",
    "valkey-9.1.2",
];

const AOFS: &[&str] = &[
    "aof/redis-7.4.1/preamble-yes-rewritten/appendonlydir",
    "aof/redis-7.0.15-debian/preamble-yes-rewritten/appendonlydir",
    "aof/redis-6.2.14/rewritten-preamble/appendonly.aof",
    "aof/redis-4.0.14/rewritten-preamble/appendonly.aof",
];

fn rdbscope(args: &[String], input: &Path) -> (i32, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .arg(input)
        .output()
        .expect("run rdbscope");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

use rdbscope_testkit::truth::bytes;

fn fact(v: &Value) -> Fact {
    Fact {
        db: v["db"].as_u64().unwrap(),
        key: bytes(&v["key"]),
        ty: v["type"].as_str().unwrap().to_string(),
        expire_at_ms: v["expire_at_ms"].as_i64(),
        string: (v["type"] == "string").then(|| bytes(&v["value"])),
    }
}

fn lines(out: &[u8]) -> Vec<Value> {
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a JSON line"))
        .collect()
}

fn is_key(v: &Value) -> bool {
    v.get("record").is_none() && v.get("command").is_none()
}

type KeySet = BTreeSet<(u64, Vec<u8>)>;

/// Reference facts, the file's `ctime` (the default `--now`, in seconds),
/// and the command lines of an AOF.
/// A source's input path, reference facts, `ctime` and AOF commands.
type Reference = (PathBuf, Vec<Fact>, Option<i64>, Vec<Value>);

fn reference(dir: &Path, source: &Source) -> Option<Reference> {
    let (path, truth) = match source {
        Source::Rdb { server, case } => {
            let p = dir.join(format!("rdb/{server}/{case}.rdb"));
            let t = dir.join(format!("rdb/{server}/{case}.rdb.truth.jsonl"));
            (p, Some(t))
        }
        Source::AofPreamble { path } => (dir.join(path), None),
    };
    if !path.exists() {
        eprintln!("SKIPPED {}: not in this corpus", path.display());
        return None;
    }
    let (code, out, err) = rdbscope(&["dump".into()], &path);
    assert_eq!(code, 0, "{}: {err}", path.display());
    let all = lines(&out);
    let ctime = all
        .iter()
        .find(|v| v["record"] == "aux" && v["name"] == "ctime")
        .map(|v| v["value"].as_str().unwrap().parse::<i64>().unwrap());
    let commands: Vec<Value> = all
        .iter()
        .filter(|v| v.get("command").is_some())
        .cloned()
        .collect();
    let facts: Vec<Fact> = match truth {
        Some(t) => {
            let facts: Vec<Fact> = std::fs::read_to_string(t)
                .unwrap()
                .lines()
                .map(|l| fact(&serde_json::from_str(l).unwrap()))
                .collect();
            // The unfiltered dump has exactly the truth's keys.
            let dumped: KeySet = all
                .iter()
                .filter(|v| is_key(v))
                .map(|v| (v["db"].as_u64().unwrap(), bytes(&v["key"])))
                .collect();
            let truth_keys: KeySet = facts.iter().map(|f| (f.db, f.key.clone())).collect();
            assert_eq!(dumped, truth_keys, "{}", path.display());
            facts
        }
        None => all.iter().filter(|v| is_key(v)).map(fact).collect(),
    };
    Some((path, facts, ctime, commands))
}

/// Redis Cluster's slot of a key, written out bit by bit from its
/// definition (CRC16/XMODEM of the key or its non-empty `{tag}`).
fn slot_of(key: &[u8]) -> u16 {
    let mut k = key;
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                k = &key[open + 1..open + 1 + len];
            }
        }
    }
    let mut crc: u16 = 0;
    for &b in k {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

/// The filter cases that hold for every file. `ctime`: the file's.
fn cases(ctime: Option<i64>) -> Vec<Case> {
    // 2100-06-01T00:00:00Z: between the corpus's EXPIREAT year 2100 and
    // 2101 keys, and after every relative expire.
    const T: i64 = 4_115_404_800_000;
    let mut v = vec![
        case("db 0", &["--db", "0"], |f| f.db == 0),
        case("db 1 or 15", &["--db", "1", "--db", "15"], |f| {
            f.db == 1 || f.db == 15
        }),
        case("db absent", &["--db", "7"], |_| false),
        case("type hash", &["--type", "hash"], |f| f.ty == "hash"),
        case(
            "type list or set",
            &["--type", "list", "--type", "SET"],
            |f| f.ty == "list" || f.ty == "set",
        ),
        case("key prefix", &["--key", "s:*"], |f| {
            f.key.starts_with(b"s:")
        }),
        case("keys any of", &["--key", "l:*", "--key", "z*"], |f| {
            f.key.starts_with(b"l:") || f.key.starts_with(b"z")
        }),
        case("key literal", &["--key", "shared-name"], |f| {
            f.key == b"shared-name"
        }),
        case(
            "key literal one db",
            &["--key", "shared-name", "--db", "5"],
            |f| f.key == b"shared-name" && f.db == 5,
        ),
        case("key class", &["--key", "[hz]:*"], |f| {
            f.key.len() >= 2 && (f.key[0] == b'h' || f.key[0] == b'z') && f.key[1] == b':'
        }),
        case("key ?", &["--key", "?:int*"], |f| {
            f.key.len() >= 5 && &f.key[1..5] == b":int"
        }),
        case("empty key", &["--key", ""], |f| f.key.is_empty()),
        case("regex", &["--key-regex", "^l:.*s$"], |f| {
            f.key.starts_with(b"l:") && f.key.ends_with(b"s")
        }),
        case("regex unanchored", &["--key-regex", "ttl"], |f| {
            f.key.windows(3).any(|w| w == b"ttl")
        }),
        case("regex bytes", &["--key-regex", r"(?-u)\xff"], |f| {
            f.key.contains(&0xff)
        }),
        case(
            "regex or glob",
            &["--key-regex", "^z:", "--key", "h:*"],
            |f| f.key.starts_with(b"z:") || f.key.starts_with(b"h:"),
        ),
        case("not-key", &["--not-key", "s:*", "--not-key", "*e*"], |f| {
            !f.key.starts_with(b"s:") && !f.key.contains(&b'e')
        }),
        case(
            "key and not-key",
            &["--key", "l:*", "--not-key", "l:huge*"],
            |f| f.key.starts_with(b"l:") && !f.key.starts_with(b"l:huge"),
        ),
        case("expiry", &["--expiry"], |f| f.expire_at_ms.is_some()),
        case("no-expiry", &["--no-expiry"], |f| f.expire_at_ms.is_none()),
        case(
            "expired, seconds",
            &["--expired", "--now", "4115404800"],
            |f| f.expire_at_ms.is_some_and(|t| t < T),
        ),
        case(
            "expired, ms",
            &["--expired", "--now", "4115404800000ms"],
            |f| f.expire_at_ms.is_some_and(|t| t < T),
        ),
        case(
            "expired, rfc3339",
            &["--expired", "--now", "2100-06-01T00:00:00Z"],
            |f| f.expire_at_ms.is_some_and(|t| t < T),
        ),
        case(
            "not-expired",
            &["--not-expired", "--now", "2100-06-01T00:00:00Z"],
            |f| f.expire_at_ms.is_none_or(|t| t >= T),
        ),
        case("slot", &["--slot", "0-8191"], |f| slot_of(&f.key) < 8192),
        case("slots", &["--slot", "100", "--slot", "9000-16383"], |f| {
            let s = slot_of(&f.key);
            s == 100 || s >= 9000
        }),
        case(
            "all together",
            &[
                "--db",
                "0",
                "--type",
                "string",
                "--key",
                "s:*",
                "--not-key",
                "s:int*",
                "--no-expiry",
                "--slot",
                "0-12000",
            ],
            |f| {
                f.db == 0
                    && f.ty == "string"
                    && f.key.starts_with(b"s:")
                    && !f.key.starts_with(b"s:int")
                    && f.expire_at_ms.is_none()
                    && slot_of(&f.key) <= 12000
            },
        ),
    ];
    // The default --now is the file's ctime.
    if let Some(secs) = ctime {
        let now = secs * 1000;
        v.push(case("expired at ctime", &["--expired"], move |f| {
            f.expire_at_ms.is_some_and(|t| t < now)
        }));
        v.push(case("not expired at ctime", &["--not-expired"], move |f| {
            f.expire_at_ms.is_none_or(|t| t >= now)
        }));
    }
    v
}

fn selected(out: &[u8]) -> (KeySet, Vec<Value>) {
    let all = lines(out);
    assert!(
        all.iter().all(|v| v.get("record").is_none()),
        "with a filter only keys (and AOF commands) are printed"
    );
    let keys = all
        .iter()
        .filter(|v| is_key(v))
        .map(|v| (v["db"].as_u64().unwrap(), bytes(&v["key"])))
        .collect();
    let commands = all
        .into_iter()
        .filter(|v| v.get("command").is_some())
        .collect();
    (keys, commands)
}

fn run_table(test: &str, sources: &[Source], extra: impl Fn(&[Fact]) -> Vec<Case>) {
    let Some(dir) = corpus(test) else { return };
    let mut failures = Vec::new();
    let mut runs = 0;
    // Keys each case selects over all sources: a case that never selects
    // anything (nor leaves anything out) proves little.
    let mut hits = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    for source in sources {
        let Some((path, facts, ctime, commands)) = reference(&dir, source) else {
            continue;
        };
        let mut all = cases(ctime);
        all.extend(extra(&facts));
        let is_aof = path.is_dir() || path.extension().is_some_and(|x| x == "aof");
        for c in all {
            let mut args = vec!["dump".to_string()];
            args.extend(c.args.iter().cloned());
            let (code, out, err) = rdbscope(&args, &path);
            runs += 1;
            // Expire times and stored sizes are facts of RDB key records:
            // refused for an AOF, whose commands have neither.
            let value_facts = c.args.iter().any(|a| {
                matches!(
                    a.as_str(),
                    "--expiry"
                        | "--no-expiry"
                        | "--expired"
                        | "--not-expired"
                        | "--min-size"
                        | "--max-size"
                )
            });
            if is_aof && value_facts {
                if code != 2 {
                    failures.push(format!(
                        "{} {:?}: exit {code}, want 2",
                        path.display(),
                        c.args
                    ));
                }
                continue;
            }
            if code != 0 {
                failures.push(format!(
                    "{} {:?}: exit {code}: {err}",
                    path.display(),
                    c.args
                ));
                continue;
            }
            let (got, got_commands) = selected(&out);
            let want: KeySet = facts
                .iter()
                .filter(|f| (c.want)(f))
                .map(|f| (f.db, f.key.clone()))
                .collect();
            let h = hits.entry(c.name).or_default();
            h.0 += want.len();
            h.1 += facts.len() - want.len();
            if got != want {
                let missing: Vec<_> = want.difference(&got).collect();
                let extra: Vec<_> = got.difference(&want).collect();
                failures.push(format!(
                    "{} {} {:?}: missing {missing:?}, extra {extra:?}",
                    path.display(),
                    c.name,
                    c.args
                ));
            }
            // AOF commands: by --db, and by the keys they write (each taken
            // as a key of the command's type, none for a command of any
            // type) under the case's other filters.
            let dbs: Vec<u64> = c
                .args
                .windows(2)
                .filter(|w| w[0] == "--db")
                .map(|w| w[1].parse().unwrap())
                .collect();
            let by_key = c.args.iter().any(|a| a.starts_with("--") && a != "--db");
            let want_commands: Vec<&Value> = commands
                .iter()
                .filter(|v| {
                    let db = v["db"].as_u64().unwrap();
                    if !(dbs.is_empty() || dbs.contains(&db)) {
                        return false;
                    }
                    if !by_key {
                        return true;
                    }
                    let args: Vec<Vec<u8>> =
                        v["command"].as_array().unwrap().iter().map(bytes).collect();
                    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                    let mut raw = Vec::new();
                    rdbscope_aof::resp::write_command(&mut raw, &refs);
                    let Some(Ok(rdbscope_aof::Item::Command(cmd))) =
                        rdbscope_aof::Reader::new(&raw, 0).read()
                    else {
                        return false;
                    };
                    let Some((ty, mut keys)) = rdbscope_aof::keys::keys(&cmd) else {
                        return false;
                    };
                    keys.any(|k| {
                        (c.want)(&Fact {
                            db,
                            key: k.to_vec(),
                            ty: ty.map_or(String::new(), |t| t.as_str().to_string()),
                            expire_at_ms: None,
                            string: None,
                        })
                    })
                })
                .collect();
            let got_commands: Vec<&Value> = got_commands.iter().collect();
            if got_commands != want_commands {
                failures.push(format!(
                    "{} {}: {} commands, want {}",
                    path.display(),
                    c.name,
                    got_commands.len(),
                    want_commands.len()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (name, (selected, left_out)) in hits {
        // Nothing in these files is expired at the time they were saved.
        let may_be_empty = ["db absent", "expired at ctime"].contains(&name);
        assert!(
            selected > 0 || may_be_empty,
            "case {name:?} never selects a key"
        );
        assert!(
            left_out > 0 || name == "not expired at ctime",
            "case {name:?} never leaves a key out"
        );
    }
    eprintln!("{test}: {runs} runs");
}

#[test]
fn key_filters_over_rdb_truth() {
    let sources: Vec<Source> = SERVERS
        .iter()
        .map(|&server| Source::Rdb {
            server,
            case: "all-types",
        })
        .collect();
    run_table("key_filters_over_rdb_truth", &sources, |_| Vec::new());
}

#[test]
fn key_filters_over_aof_preambles() {
    let sources: Vec<Source> = AOFS
        .iter()
        .map(|&path| Source::AofPreamble { path })
        .collect();
    run_table("key_filters_over_aof_preambles", &sources, |_| Vec::new());
}

/// The bytes Redis stores for a string value without compression
/// (`rdbSaveRawString` with `rdbcompression no`): an integer that
/// round-trips as text and fits in 32 bits takes a 1-byte tag and 1, 2 or
/// 4 bytes; anything else its length (1, 2 or 5 bytes) and its bytes.
fn stored_string_size(v: &[u8]) -> u64 {
    if let Some(n) = std::str::from_utf8(v)
        .ok()
        .filter(|s| s.len() <= 11)
        .and_then(|s| s.parse::<i64>().ok().filter(|n| n.to_string() == s))
    {
        if (-128..=127).contains(&n) {
            return 2;
        }
        if (-32768..=32767).contains(&n) {
            return 3;
        }
        if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&n) {
            return 5;
        }
    }
    let len = v.len() as u64;
    let prefix = match len {
        0..64 => 1,
        64..16384 => 2,
        _ => 5,
    };
    prefix + len
}

#[test]
fn size_filters_over_uncompressed_strings() {
    let sources: Vec<Source> = SERVERS
        .iter()
        .map(|&server| Source::Rdb {
            server,
            case: "all-types-nocompress",
        })
        .collect();
    let size = |f: &Fact| f.string.as_deref().map(stored_string_size);
    run_table(
        "size_filters_over_uncompressed_strings",
        &sources,
        move |facts| {
            // Sanity: the rule sees a spread of sizes in this file.
            let sizes: BTreeSet<u64> = facts.iter().filter_map(size).collect();
            assert!(sizes.len() > 10, "{sizes:?}");
            vec![
                case(
                    "max 5",
                    &["--type", "string", "--max-size", "5"],
                    move |f| size(f).is_some_and(|s| s <= 5),
                ),
                case(
                    "min 2 max 20",
                    &["--type", "string", "--min-size", "2", "--max-size", "20"],
                    move |f| size(f).is_some_and(|s| (2..=20).contains(&s)),
                ),
                case(
                    "min 1K",
                    &["--type", "string", "--min-size", "1K"],
                    move |f| size(f).is_some_and(|s| s >= 1024),
                ),
                case(
                    "min 4KiB max 1MB",
                    &[
                        "--type",
                        "string",
                        "--min-size",
                        "4KiB",
                        "--max-size",
                        "1MB",
                    ],
                    move |f| size(f).is_some_and(|s| (4096..=1 << 20).contains(&s)),
                ),
                case(
                    "min 1M",
                    &["--type", "string", "--min-size", "1m"],
                    move |f| size(f).is_some_and(|s| s >= 1 << 20),
                ),
            ]
        },
    );
}

/// A literal `--key` in one `--db` stops the walk at the key: a file cut
/// short after it dumps fine, while without `--db` the walk goes on and
/// finds the cut.
#[test]
fn a_literal_key_in_one_db_stops_the_walk() {
    let Some(dir) = corpus("a_literal_key_in_one_db_stops_the_walk") else {
        return;
    };
    let tmp = rdbscope_testkit::TempDir::new("literal-key-stop");
    for server in SERVERS {
        let path = dir.join(format!("rdb/{server}/all-types.rdb"));
        let (code, out, err) = rdbscope(&["dump".into(), "--key".into(), "*".into()], &path);
        assert_eq!(code, 0, "{err}");
        let first = lines(&out).into_iter().next().unwrap();
        let (db, key) = (
            first["db"].as_u64().unwrap(),
            first["key"].as_str().unwrap().to_string(),
        );
        assert!(!key.contains(['*', '?', '[', '\\']), "{key}");
        let bytes = std::fs::read(&path).unwrap();
        let cut = tmp.path.join(format!("{server}.rdb"));
        std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
        let args = |with_db: bool| {
            let mut a = vec!["dump".to_string(), "--key".into(), key.clone()];
            if with_db {
                a.extend(["--db".into(), db.to_string()]);
            }
            a
        };
        let (code, out, err) = rdbscope(&args(true), &cut);
        assert_eq!(code, 0, "{server}: {err}");
        assert_eq!(lines(&out), std::slice::from_ref(&first), "{server}");
        let (code, _, _) = rdbscope(&args(false), &cut);
        assert_eq!(code, 1, "{server}: without --db the walk reads on");
    }
}

/// `info` takes the same filters and counts only the selected keys, per
/// database and in all.
#[test]
fn info_counts_only_selected_keys() {
    let Some(dir) = corpus("info_counts_only_selected_keys") else {
        return;
    };
    for server in SERVERS {
        let source = Source::Rdb {
            server,
            case: "all-types",
        };
        let Some((path, facts, ctime, _)) = reference(&dir, &source) else {
            continue;
        };
        for c in cases(ctime) {
            let mut args = vec!["info".to_string(), "--format".into(), "json".into()];
            args.extend(c.args.iter().cloned());
            let (code, out, err) = rdbscope(&args, &path);
            assert_eq!(code, 0, "{server} {}: {err}", c.name);
            let info: Value = serde_json::from_slice(&out).unwrap();
            let want: Vec<&Fact> = facts.iter().filter(|f| (c.want)(f)).collect();
            assert_eq!(info["keys"], want.len(), "{server} {}", c.name);
            for (db, v) in info["dbs"].as_object().unwrap() {
                let db: u64 = db.parse().unwrap();
                let n = want.iter().filter(|f| f.db == db).count();
                assert_eq!(v["keys"], n, "{server} {} db {db}", c.name);
            }
        }
    }
}
