//! `dump --format commands --target SERVER`: every corpus RDB as the plain
//! commands that server's AOF rewrite writes, piped into a real Redis 6.2,
//! Redis 7.0 and Valkey 9.1. No command fails, and the server then holds
//! the digest `rdbscope digest --as-loaded --server-version SERVER` gives
//! for the source. What a server has no command for (field TTLs before
//! Redis 7.4 and Valkey 9, functions before 7.0) is refused by name first,
//! then left out with `--drop`.

use rdbscope_testkit::client::Conn;
use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use std::process::{Command, Output};

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .unwrap()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The digest `o` holds once the commands of `src` are replayed at `now`
/// (ms), and whether a -0 score had to be taken as 0 for it.
fn expected(src: &str, o: Oracle, now: i64, tmp: &std::path::Path) -> (String, bool) {
    let at = format!("--as-loaded={now}ms");
    let want = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, src]);
    let want = String::from_utf8_lossy(&want.stdout).trim().to_string();
    if o == Oracle::Redis62 {
        return (want, false);
    }
    // From Redis 7.0 (and in Valkey) ZADD stores an integral score of a
    // compact zset as an integer (`zzlInsertAt`, `double2ll`), so a score
    // of -0 becomes 0 when commands rebuild it, as when a server replays
    // its own rewrite; loading the RDB keeps the stored "-0". The corpus
    // holds -0 only in small zsets.
    let json = rdbscope(&["dump", src]);
    let text = String::from_utf8_lossy(&json.stdout);
    if !text.contains(",-0.0]") {
        return (want, false);
    }
    let normal = tmp.join("normal.jsonl");
    std::fs::write(&normal, text.replace(",-0.0]", ",0.0]")).unwrap();
    let n = normal.to_str().unwrap();
    let w = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, n]);
    (String::from_utf8_lossy(&w.stdout).trim().to_string(), true)
}

/// `args`, or when refused by name (exit 1) `args` with `--drop
/// field-ttl,functions`; and whether it was refused first.
fn run_or_drop(args: &[&str], what: &str) -> (Output, bool) {
    let out = rdbscope(args);
    if out.status.success() {
        return (out, false);
    }
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(
        err.contains("field TTL") || err.contains("function"),
        "{what}: {err}"
    );
    let mut again = args.to_vec();
    again.extend(["--drop", "field-ttl,functions"]);
    let out = rdbscope(&again);
    assert!(
        out.status.success(),
        "{what}: {err} / {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, true)
}

/// `convert --to aof --target SERVER` of every corpus RDB, as commands
/// and as an RDB-preamble AOF, loaded by that server as its append-only
/// file (`appendonly yes`; Redis 7 and Valkey take a single
/// `appendonly.aof` and make an `appendonlydir` of it): the digest of the
/// source, as in the pipe test.
#[test]
fn corpus_as_an_aof_file_loads_into_every_server() {
    let Some(corpus) = rdbscope_testkit::corpus("commands_live aof") else {
        return;
    };
    let mut loaded = 0;
    for o in Oracle::ALL {
        let Some(bin) = o.server("commands_live aof") else {
            continue;
        };
        for (src, preamble) in rdbscope_testkit::corpus_rdbs(&corpus)
            .into_iter()
            .flat_map(|s| [(s.clone(), false), (s, true)])
        {
            let s = src.to_str().unwrap();
            let what = format!("{s} as an AOF (RDB preamble: {preamble}) for {}", o.name());
            let dir = rdbscope_testkit::TempDir::new("commands-aof");
            let aof = dir.path.join("appendonly.aof");
            let a = aof.to_str().unwrap();
            let base = if preamble { "rdb" } else { "aof" };
            let args = [
                "convert",
                "-q",
                s,
                a,
                "--aof-base",
                base,
                "--target",
                o.name(),
            ];
            run_or_drop(&args, &what);
            let now = now_ms();
            let server = RedisServer::start(
                &bin,
                Some(&dir.path),
                &[("appendonly", "yes"), ("appendfilename", "appendonly.aof")],
            );
            let mut c = Conn::new(server.port);
            // While loading, a server sets past expire times without
            // deleting the keys (`checkAlreadyExpired`); a full SCAN
            // deletes them, as loading an RDB leaves them out.
            c.keys();
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let want = if preamble {
                // An RDB preamble keeps a -0 score; commands do not.
                let at = format!("--as-loaded={now}ms");
                let w = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, s]);
                String::from_utf8_lossy(&w.stdout).trim().to_string()
            } else {
                expected(s, o, now, &dir.path).0
            };
            assert_eq!(got, want, "{what}: {}", server.log());
            loaded += 1;
        }
    }
    eprintln!(
        "commands_live: {loaded} AOF files (commands, and RDB preamble) loaded with equal digests"
    );
}

/// `convert --to aof-dir` (BASE an RDB, and commands with `--aof-base
/// aof`) of every corpus RDB, loaded by Redis 7.0 and Valkey 9.1 from
/// the `appendonlydir` it makes: the digest of the source.
#[test]
fn corpus_as_an_aof_dir_loads_into_redis_7_and_valkey() {
    let Some(corpus) = rdbscope_testkit::corpus("commands_live aof-dir") else {
        return;
    };
    let mut loaded = 0;
    for o in [Oracle::Redis70, Oracle::Valkey91] {
        let Some(bin) = o.server("commands_live aof-dir") else {
            continue;
        };
        for src in rdbscope_testkit::corpus_rdbs(&corpus) {
            for base in ["rdb", "aof"] {
                let s = src.to_str().unwrap();
                let what = format!("{s} as an appendonlydir (base {base}) for {}", o.name());
                let dir = rdbscope_testkit::TempDir::new("commands-aof-dir");
                let out = dir.path.join("appendonlydir");
                let d = out.to_str().unwrap();
                let args = [
                    "convert",
                    "-q",
                    s,
                    d,
                    "--to",
                    "aof-dir",
                    "--aof-base",
                    base,
                    "--target",
                    o.name(),
                ];
                run_or_drop(&args, &what);
                let now = now_ms();
                let server = RedisServer::start(&bin, Some(&dir.path), &[("appendonly", "yes")]);
                let mut c = Conn::new(server.port);
                c.keys();
                let got = c.cmd(&["DEBUG", "DIGEST"]).text();
                // An RDB base keeps a -0 score; commands do not.
                let (want, _) = if base == "rdb" {
                    let at = format!("--as-loaded={now}ms");
                    let w = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, s]);
                    (String::from_utf8_lossy(&w.stdout).trim().to_string(), false)
                } else {
                    expected(s, o, now, &dir.path)
                };
                assert_eq!(got, want, "{what}: {}", server.log());
                loaded += 1;
            }
        }
    }
    eprintln!("commands_live: {loaded} appendonlydirs loaded with equal digests");
}

#[test]
fn corpus_as_commands_loads_into_every_server_with_the_same_digest() {
    let Some(corpus) = rdbscope_testkit::corpus("commands_live") else {
        return;
    };
    let tmp = rdbscope_testkit::TempDir::new("commands-live");
    let (mut loaded, mut refused, mut normalized) = (0, 0, 0);
    for o in Oracle::ALL {
        let Some(bin) = o.server("commands_live") else {
            continue;
        };
        let server = RedisServer::start(&bin, None, &[]);
        let mut c = Conn::new(server.port);
        for src in rdbscope_testkit::corpus_rdbs(&corpus) {
            let s = src.to_str().unwrap();
            let what = format!("{s} as commands for {}", o.name());
            let base = ["dump", "--format", "commands", "--target", o.name(), s];
            let (out, was_refused) = run_or_drop(&base, &what);
            refused += usize::from(was_refused);
            // The same commands from the file's JSON dump.
            let json = tmp.path.join("src.jsonl");
            let j = json.to_str().unwrap();
            assert!(rdbscope(&["dump", s, "-o", j, "--force"]).status.success());
            let mut args = vec!["dump", "--format", "commands", "--target", o.name(), j];
            if was_refused {
                args.extend(["--drop", "field-ttl,functions"]);
            }
            let from_json = rdbscope(&args);
            assert!(
                from_json.stdout == out.stdout,
                "{what}: the JSON dump's commands differ ({})",
                String::from_utf8_lossy(&from_json.stderr)
            );
            c.cmd(&["FLUSHALL"]);
            if o != Oracle::Redis62 {
                c.cmd(&["FUNCTION", "FLUSH"]);
            }
            let now = now_ms();
            let errors = c.pipe(&out.stdout);
            assert!(errors.is_empty(), "{what}: {errors:?}");
            c.cmd(&["SELECT", "0"]);
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let (want, normal) = expected(s, o, now, &tmp.path);
            normalized += usize::from(normal);
            assert_eq!(got, want, "{what}");
            loaded += 1;
        }
    }
    eprintln!(
        "commands_live: {loaded} corpus files piped as commands with equal digests ({refused} refused by name first; {normalized} with a -0 zset score the server stores as 0)"
    );
}

/// Every corpus AOF case (Redis 3.2 to 7.4, Valkey 8.0 and 9.1; plain,
/// RDB-preamble and multi-part), replayed and written for each server at
/// hand: as an RDB, as an `appendonlydir` (Redis 7.0, Valkey 9.1) or one
/// append-only file (Redis 6.2), and as the commands piped in. Each loads
/// with the digest `rdbscope digest --server-version SERVER` gives for the
/// AOF itself (issue 13, acceptance 4).
#[test]
fn corpus_aofs_replayed_load_into_every_server_with_the_same_digest() {
    let Some(corpus) = rdbscope_testkit::corpus("commands_live aof inputs") else {
        return;
    };
    let mut cases = Vec::new();
    for server in std::fs::read_dir(corpus.join("aof")).unwrap() {
        let server = server.unwrap().path();
        for case in std::fs::read_dir(&server).into_iter().flatten() {
            let case = case.unwrap().path();
            if case.join("appendonlydir").is_dir() {
                cases.push(case.join("appendonlydir"));
            } else if case.join("appendonly.aof").is_file() {
                cases.push(case.join("appendonly.aof"));
            }
        }
    }
    cases.sort();
    assert!(cases.len() >= 30, "corpus AOF cases: {}", cases.len());
    let mut loaded = 0;
    for o in Oracle::ALL {
        let Some(bin) = o.server("commands_live aof inputs") else {
            continue;
        };
        let piped = RedisServer::start(&bin, None, &[]);
        let mut c = Conn::new(piped.port);
        for src in &cases {
            let s = src.to_str().unwrap();
            let what = |form: &str| format!("{s} as {form} for {}", o.name());
            let dir = rdbscope_testkit::TempDir::new("aof-replayed");
            let digest_at = |now: i64| {
                let at = format!("--as-loaded={now}ms");
                let w = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, s]);
                assert!(
                    w.status.success(),
                    "{s}: {}",
                    String::from_utf8_lossy(&w.stderr)
                );
                String::from_utf8_lossy(&w.stdout).trim().to_string()
            };
            // As an RDB.
            let rdb = dir.path.join("dump.rdb");
            let r = rdb.to_str().unwrap();
            run_or_drop(
                &["convert", "-q", s, r, "--target", o.name()],
                &what("an RDB"),
            );
            let server = RedisServer::start(&bin, Some(&dir.path), &[("dbfilename", "dump.rdb")]);
            let now = now_ms();
            let got = Conn::new(server.port).cmd(&["DEBUG", "DIGEST"]).text();
            assert_eq!(got, digest_at(now), "{}: {}", what("an RDB"), server.log());
            drop(server);
            loaded += 1;
            // As the server's own AOF form.
            let aof_dir = rdbscope_testkit::TempDir::new("aof-replayed-aof");
            let (form, out, config): (&str, _, Vec<(&str, &str)>) = if o == Oracle::Redis62 {
                (
                    "aof",
                    aof_dir.path.join("appendonly.aof"),
                    vec![("appendonly", "yes"), ("appendfilename", "appendonly.aof")],
                )
            } else {
                (
                    "aof-dir",
                    aof_dir.path.join("appendonlydir"),
                    vec![("appendonly", "yes")],
                )
            };
            let t = out.to_str().unwrap();
            run_or_drop(
                &["convert", "-q", s, t, "--to", form, "--target", o.name()],
                &what(form),
            );
            let server = RedisServer::start(&bin, Some(&aof_dir.path), &config);
            let mut sc = Conn::new(server.port);
            let now = now_ms();
            // Past expire times are kept while loading; a SCAN drops them.
            sc.keys();
            let got = sc.cmd(&["DEBUG", "DIGEST"]).text();
            assert_eq!(got, digest_at(now), "{}: {}", what(form), server.log());
            drop(server);
            loaded += 1;
            // As commands piped into a running server.
            let (cmds, _) = run_or_drop(
                &["dump", "--format", "commands", "--target", o.name(), s],
                &what("commands"),
            );
            c.cmd(&["FLUSHALL"]);
            if o != Oracle::Redis62 {
                c.cmd(&["FUNCTION", "FLUSH"]);
            }
            let now = now_ms();
            let errors = c.pipe(&cmds.stdout);
            assert!(errors.is_empty(), "{}: {errors:?}", what("commands"));
            c.cmd(&["SELECT", "0"]);
            c.keys();
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            // A -0 score an RDB part kept is 0 once ZADD rebuilds it (7.0+,
            // Valkey; see `expected`).
            let mut want = digest_at(now);
            if o != Oracle::Redis62 {
                let json = rdbscope(&["convert", "-q", s, "-", "--to", "jsonl"]);
                let text = String::from_utf8_lossy(&json.stdout);
                if text.contains(",-0.0]") {
                    let normal = dir.path.join("normal.jsonl");
                    std::fs::write(&normal, text.replace(",-0.0]", ",0.0]")).unwrap();
                    let at = format!("--as-loaded={now}ms");
                    let n = normal.to_str().unwrap();
                    let w = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, n]);
                    want = String::from_utf8_lossy(&w.stdout).trim().to_string();
                }
            }
            assert_eq!(got, want, "{}", what("commands"));
            loaded += 1;
        }
    }
    eprintln!("commands_live: {loaded} replayed corpus AOFs loaded with equal digests");
}

/// `--until-file BASE` replays what a server loads from the same
/// directory with its manifest cut after that file (Redis 7.0 and Valkey
/// 9.1 on every corpus directory of theirs with an incr file).
#[test]
fn until_file_is_a_manifest_cut_after_that_file() {
    let Some(corpus) = rdbscope_testkit::corpus("commands_live until-file") else {
        return;
    };
    let mut checked = 0;
    for (o, server_dir) in [
        (Oracle::Redis70, "redis-7.0.15-debian"),
        (Oracle::Valkey91, "valkey-9.1.2"),
    ] {
        let Some(bin) = o.server("commands_live until-file") else {
            continue;
        };
        for case in std::fs::read_dir(corpus.join("aof").join(server_dir)).unwrap() {
            let src = case.unwrap().path().join("appendonlydir");
            let Ok(manifest) = std::fs::read_to_string(src.join("appendonly.aof.manifest")) else {
                continue;
            };
            let base = manifest
                .lines()
                .find(|l| l.ends_with("type b"))
                .and_then(|l| l.split(' ').nth(1));
            let (Some(base), true) = (base, manifest.contains("type i")) else {
                continue;
            };
            let dir = rdbscope_testkit::TempDir::new("until-file");
            let copy = dir.path.join("appendonlydir");
            std::fs::create_dir_all(&copy).unwrap();
            std::fs::copy(src.join(base), copy.join(base)).unwrap();
            let cut: String = manifest
                .lines()
                .filter(|l| !l.ends_with("type i"))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(copy.join("appendonly.aof.manifest"), cut).unwrap();
            let server = RedisServer::start(&bin, Some(&dir.path), &[("appendonly", "yes")]);
            let mut c = Conn::new(server.port);
            let now = now_ms();
            c.keys();
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let at = format!("--as-loaded={now}ms");
            let s = src.to_str().unwrap();
            let ours = rdbscope(&[
                "digest",
                "-q",
                "--server-version",
                o.name(),
                &at,
                "--until-file",
                base,
                s,
            ]);
            assert!(
                ours.status.success(),
                "{s}: {}",
                String::from_utf8_lossy(&ours.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&ours.stdout).trim(),
                got,
                "{s} --until-file {base}"
            );
            checked += 1;
        }
    }
    eprintln!("commands_live: --until-file checked on {checked} directories");
    // A name the manifest does not list is a usage error (exit 2), named
    // with the files it does list, for every command that replays.
    let dir = corpus.join("aof/redis-7.0.15-debian/no-rewrite/appendonlydir");
    let dir = dir.to_str().unwrap();
    let out_dir = rdbscope_testkit::TempDir::new("until-file-unknown");
    let out = out_dir.path.join("out.rdb");
    for args in [
        &["digest", "--until-file", "nosuch", dir][..],
        &[
            "dump",
            "--format",
            "commands",
            "--until-file",
            "nosuch",
            dir,
        ],
        &[
            "convert",
            "--target",
            "redis-7.0",
            "--until-file",
            "nosuch",
            dir,
            out.to_str().unwrap(),
        ],
    ] {
        let r = rdbscope(args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("--until-file nosuch: not a file of this AOF (its manifest names appendonly.aof.1.base.rdb, appendonly.aof.1.incr.aof)"),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "{args:?} wrote its output");
    }
}
