//! `rdbscope fix` against `redis-check-aof` of Redis 7.0, the reference:
//! for every broken AOF in the corpus, and for a real AOF that a live
//! `redis-server` wrote (a base, incr files, several databases, MULTI/EXEC,
//! `#TS` annotations) cut at hundreds of offsets across every file, our
//! `--output` has exactly the bytes `redis-check-aof --fix` leaves in a
//! copy, `--truncate-to-timestamp` those of its `--truncate-to-timestamp`,
//! both refuse the same cases, the input is never touched, and every
//! repaired AOF loads into a real `redis-server`.
//!
//! Needs the corpus and Redis 7.0's `redis-server` and `redis-check-aof`:
//! skipped (and said so) without them, failed under `REQUIRE_CORPUS=1` /
//! `REQUIRE_REDIS=1`.

use rdbscope_testkit::redis::{find_bin, redis_server, RedisServer};
use rdbscope_testkit::TempDir;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

fn rdbscope(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rdbscope")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn checker(test: &str) -> Option<PathBuf> {
    let found = find_bin("redis-check-aof", "REDIS_CHECK_AOF");
    if found.is_none() {
        if std::env::var("REQUIRE_REDIS").is_ok_and(|v| v == "1") {
            panic!("{test}: redis-check-aof not found and REQUIRE_REDIS=1");
        }
        rdbscope_testkit::skipped(&format!("{test}: no redis-check-aof"));
    }
    found
}

/// Every file under `dir` (or `dir` itself when it is a file), by path
/// relative to it: bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut all = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = fs::metadata(&p).unwrap();
        if m.is_dir() {
            for e in fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else {
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            all.insert(rel, (fs::read(&p).unwrap(), m.modified().unwrap()));
        }
    }
    all
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        fs::copy(from, to).unwrap();
    }
}

/// How one repair came out.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Both repaired (or found nothing to cut): the repaired files.
    Repaired(BTreeMap<PathBuf, Vec<u8>>),
    /// Both refused.
    Refused,
}

/// Runs `redis-check-aof` (answering `y`) on a copy of `src` and `rdbscope
/// fix -o` on another; asserts they agree and that our input is untouched.
/// `arg` is the argument under `src` ("" for `src` itself).
fn compare(checker: &Path, src: &Path, arg: &str, ts: Option<i64>, tmp: &Path) -> Outcome {
    let _ = fs::remove_dir_all(tmp);
    fs::create_dir_all(tmp).unwrap();
    let (theirs, ours, out) = (tmp.join("theirs"), tmp.join("ours"), tmp.join("out"));
    copy_tree(src, &theirs);
    copy_tree(src, &ours);
    let join = |base: &Path| {
        if arg.is_empty() {
            base.to_path_buf()
        } else {
            base.join(arg)
        }
    };
    let mut cmd = Command::new(checker);
    match ts {
        Some(t) => cmd.args(["--truncate-to-timestamp", &t.to_string()]),
        None => cmd.arg("--fix"),
    };
    let mut child = cmd
        .arg(join(&theirs))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let theirs_out = child.wait_with_output().unwrap();
    let before = snapshot(&ours);
    let mut args: Vec<std::ffi::OsString> = vec!["fix".into()];
    if let Some(t) = ts {
        args.push("--truncate-to-timestamp".into());
        args.push(t.to_string().into());
    }
    args.extend(["-o".into(), out.clone().into(), join(&ours).into()]);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let ours_out = rdbscope(&args);
    assert_eq!(before, snapshot(&ours), "the input changed");
    let context = || {
        format!(
            "{} {arg} ts={ts:?}\nredis-check-aof ({:?}):\n{}\nrdbscope ({:?}):\n{}{}",
            src.display(),
            theirs_out.status.code(),
            text(&theirs_out.stdout),
            ours_out.status.code(),
            text(&ours_out.stdout),
            text(&ours_out.stderr)
        )
    };
    if text(&theirs_out.stdout).contains("Can't handle RDB format version") {
        // Redis 7.0's checker cannot read a newer server's RDB base: the
        // reference has no verdict; ours must still read and copy it.
        assert_eq!(ours_out.status.code(), Some(0), "{}", context());
        return Outcome::Repaired(BTreeMap::new());
    }
    match theirs_out.status.code() {
        Some(0) => {
            assert_eq!(ours_out.status.code(), Some(0), "{}", context());
            // What redis-check-aof left: the argument's directory (a
            // manifest's files) or the one file.
            let theirs_arg = join(&theirs);
            let repaired = if out.is_dir() {
                let dir = theirs_arg.parent().unwrap();
                let want = snapshot(dir);
                let got = snapshot(&out);
                let strip =
                    |m: BTreeMap<PathBuf, (Vec<u8>, SystemTime)>| -> BTreeMap<PathBuf, Vec<u8>> {
                        m.into_iter().map(|(k, (b, _))| (k, b)).collect()
                    };
                let (want, got) = (strip(want), strip(got));
                // Our copy holds the manifest and the files it lists.
                for (name, bytes) in &got {
                    assert!(
                        want.get(name) == Some(bytes),
                        "{} differs\n{}",
                        name.display(),
                        context()
                    );
                }
                got
            } else {
                let want = fs::read(&theirs_arg).unwrap();
                let got = fs::read(&out).unwrap();
                assert!(
                    want == got,
                    "repaired bytes differ ({} vs {})\n{}",
                    want.len(),
                    got.len(),
                    context()
                );
                BTreeMap::from([(PathBuf::from("file"), got)])
            };
            Outcome::Repaired(repaired)
        }
        _ => {
            assert_eq!(ours_out.status.code(), Some(1), "{}", context());
            assert!(!out.exists(), "a refused repair wrote {}", out.display());
            Outcome::Refused
        }
    }
}

#[test]
fn corpus_broken_aofs_are_repaired_as_redis_check_aof_does() {
    let test = "corpus_broken_aofs_are_repaired_as_redis_check_aof_does";
    let (Some(corpus), Some(checker)) = (rdbscope_testkit::corpus(test), checker(test)) else {
        return;
    };
    let tmp = TempDir::new("fix-corpus");
    let mut cases = 0;
    for e in fs::read_dir(corpus.join("broken/aof")).unwrap() {
        let dir = e.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        compare(
            &checker,
            &dir,
            "appendonlydir/appendonly.aof.manifest",
            None,
            &tmp.path.join("w"),
        );
        compare(
            &checker,
            &dir.join("appendonlydir"),
            "appendonly.aof.manifest",
            Some(1),
            &tmp.path.join("w"),
        );
        cases += 1;
    }
    for e in fs::read_dir(corpus.join("broken/aof-single-file")).unwrap() {
        let file = e.unwrap().path();
        if file.extension().is_some_and(|x| x == "aof") {
            compare(&checker, &file, "", None, &tmp.path.join("w"));
            cases += 1;
        }
    }
    // Valid AOFs of every server: nothing to cut, a copy of the same bytes.
    for e in fs::read_dir(corpus.join("aof")).unwrap() {
        let server = e.unwrap().path();
        for c in fs::read_dir(&server).into_iter().flatten() {
            let case = c.unwrap().path();
            let arg = if case.join("appendonlydir").is_dir() {
                "appendonlydir/appendonly.aof.manifest"
            } else if case.join("appendonly.aof").is_file() {
                "appendonly.aof"
            } else {
                continue;
            };
            if !case.join(arg).exists() {
                continue;
            }
            if server
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("valkey")
            {
                // Redis's checker takes a VALKEY base for commands: no
                // reference. Ours finds nothing to cut and copies it.
                let out = tmp.path.join("valkey-out");
                let _ = fs::remove_dir_all(&out);
                let _ = fs::remove_file(&out);
                let r = rdbscope(&[
                    os("fix"),
                    os("-o"),
                    out.as_os_str(),
                    case.join(arg).as_os_str(),
                ]);
                assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
                let src = if out.is_dir() {
                    case.join(arg).parent().unwrap().to_path_buf()
                } else {
                    case.join(arg)
                };
                let strip = |m: BTreeMap<PathBuf, (Vec<u8>, SystemTime)>| -> Vec<Vec<u8>> {
                    m.into_values().map(|(b, _)| b).collect()
                };
                assert_eq!(strip(snapshot(&out)), strip(snapshot(&src)));
                cases += 1;
                continue;
            }
            let r = compare(&checker, &case, arg, None, &tmp.path.join("w"));
            assert!(matches!(r, Outcome::Repaired(_)), "{}", case.display());
            cases += 1;
        }
    }
    assert!(cases >= 20, "only {cases} cases");
}

// ---------------------------------------------------------------------------
// A live redis-server's AOF, cut everywhere
// ---------------------------------------------------------------------------

struct Conn(BufReader<TcpStream>);

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis-server");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Conn(BufReader::new(s))
    }

    fn call(&mut self, args: &[&str]) -> String {
        let mut req = Vec::new();
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        rdbscope_aof::resp::write_command(&mut req, &args);
        self.0.get_mut().write_all(&req).unwrap();
        self.reply()
    }

    fn reply(&mut self) -> String {
        let mut line = Vec::new();
        self.0.read_until(b'\n', &mut line).unwrap();
        line.truncate(line.len().saturating_sub(2));
        match line.first() {
            Some(b'$') => {
                let n: i64 = text(&line[1..]).parse().unwrap();
                if n < 0 {
                    return "(nil)".into();
                }
                let mut b = vec![0; n as usize + 2];
                self.0.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                text(&b)
            }
            Some(b'*') => {
                let n: i64 = text(&line[1..]).parse().unwrap();
                for _ in 0..n.max(0) {
                    self.reply();
                }
                text(&line)
            }
            Some(b'-') => panic!("redis error: {}", text(&line)),
            _ => text(&line),
        }
    }
}

/// A multi-part AOF written by a real server: an RDB base from a rewrite,
/// then an incr file with commands in several databases, transactions and
/// `#TS` annotations over a few seconds.
fn live_aof(server: &Path, dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let srv = RedisServer::start(
        server,
        Some(dir),
        &[
            ("appendonly", "yes"),
            ("appendfsync", "always"),
            ("aof-use-rdb-preamble", "yes"),
            ("aof-timestamp-enabled", "yes"),
        ],
    );
    let mut c = Conn::new(srv.port);
    for i in 0..30 {
        c.call(&["SELECT", &(i % 3).to_string()]);
        c.call(&["SET", &format!("base:{i}"), &"v".repeat(i * 7)]);
        c.call(&["RPUSH", &format!("list:{i}"), "a", "b", "c"]);
    }
    c.call(&["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = c.call(&["INFO", "persistence"]);
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            break;
        }
        assert!(Instant::now() < deadline, "the rewrite did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
    for phase in 0..3 {
        // A new second, so the server writes a new #TS annotation.
        std::thread::sleep(Duration::from_millis(1100));
        for i in 0..6 {
            let db = (phase + i) % 4;
            c.call(&["SELECT", &db.to_string()]);
            c.call(&[
                "SET",
                &format!("p{phase}:k{i}"),
                &format!("value {phase} {i}"),
            ]);
            c.call(&["MULTI"]);
            c.call(&["INCR", &format!("p{phase}:n")]);
            c.call(&["HSET", &format!("p{phase}:h"), "f", &"x".repeat(i * 11)]);
            c.call(&["SADD", &format!("p{phase}:s{i}"), "m1", "m2"]);
            c.call(&["EXEC"]);
            c.call(&["DEL", &format!("base:{i}")]);
        }
    }
    drop(c);
    drop(srv);
    dir.join("appendonlydir")
}

/// The `#TS` times in `bytes`, in order.
fn timestamps(bytes: &[u8]) -> Vec<i64> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| l.strip_prefix(b"#TS:"))
        .filter_map(|t| text(t).trim_end().parse().ok())
        .collect()
}

/// `DEBUG DIGEST` of a server that loaded the AOF directory `aofdir`.
fn digest_of(server: &Path, aofdir: &Path, tmp: &Path) -> String {
    let _ = fs::remove_dir_all(tmp);
    fs::create_dir_all(tmp).unwrap();
    copy_tree(aofdir, &tmp.join("appendonlydir"));
    fs::create_dir_all(tmp).unwrap();
    let srv = RedisServer::start(server, Some(tmp), &[("appendonly", "yes")]);
    let d = Conn::new(srv.port)
        .call(&["DEBUG", "DIGEST"])
        .trim_start_matches('+')
        .to_string();
    drop(srv);
    d
}

#[test]
fn a_live_aof_cut_everywhere_is_repaired_as_redis_check_aof_does() {
    let test = "a_live_aof_cut_everywhere_is_repaired_as_redis_check_aof_does";
    let (Some(server), Some(checker)) = (redis_server(test), checker(test)) else {
        return;
    };
    let tmp = TempDir::new("fix-live");
    let aofdir = live_aof(&server, &tmp.path.join("server"));
    let manifest = fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    let names: Vec<String> = fs::read_dir(&aofdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| manifest.contains(n.as_str()))
        .collect();
    let base = names
        .iter()
        .find(|n| n.contains(".base."))
        .expect("a base")
        .clone();
    let incr = names
        .iter()
        .find(|n| n.contains(".incr."))
        .expect("an incr file")
        .clone();
    let incr_bytes = fs::read(aofdir.join(&incr)).unwrap();
    let ts = timestamps(&incr_bytes);
    assert!(ts.len() >= 3, "the server wrote {ts:?}");
    assert!(incr_bytes.windows(5).any(|w| w == b"MULTI"));

    let work = tmp.path.join("work");
    let variant = tmp.path.join("variant");
    let mut repaired: HashMap<Vec<u8>, PathBuf> = HashMap::new();
    let (mut cuts, mut refused) = (0, 0);
    let mut cut_file = |file: &str, at: usize, ts: Option<i64>| {
        let _ = fs::remove_dir_all(&variant);
        copy_tree(&aofdir, &variant);
        let bytes = fs::read(aofdir.join(file)).unwrap();
        fs::write(variant.join(file), &bytes[..at]).unwrap();
        let r = compare(&checker, &variant, "appendonly.aof.manifest", ts, &work);
        cuts += 1;
        match r {
            Outcome::Refused => refused += 1,
            Outcome::Repaired(files) => {
                let key: Vec<u8> = files.values().flat_map(|b| b.iter().copied()).collect();
                if !repaired.contains_key(&key) {
                    let keep = tmp.path.join(format!("repaired-{}", repaired.len()));
                    copy_tree(&work.join("out"), &keep);
                    repaired.insert(key, keep);
                }
            }
        }
    };
    // The base: every cut is a broken RDB, which neither can repair.
    let base_len = fs::metadata(aofdir.join(&base)).unwrap().len() as usize;
    for k in 0..40 {
        cut_file(&base, 1 + k * (base_len - 2) / 40, None);
    }
    // The incr file: cuts spread over every byte range, plus every command
    // boundary's neighbours.
    let n = incr_bytes.len();
    for k in 0..150 {
        cut_file(&incr, 1 + k * (n - 2) / 150, None);
    }
    for (i, _) in incr_bytes
        .windows(3)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n*")
        .step_by(4)
    {
        for at in [i, i + 2, i + 3] {
            cut_file(&incr, at, None);
        }
    }
    // By time: before the first annotation (nothing before it), between
    // each, after the last; also on cut copies.
    let mut times = vec![ts[0] - 1, 0];
    for t in &ts {
        times.extend([*t - 1, *t, *t + 1]);
    }
    for t in times {
        cut_file(&incr, n, Some(t));
        cut_file(&incr, n - 3, Some(t));
        cut_file(&incr, n / 2, Some(t));
    }
    assert!(cuts >= 200, "{cuts} cuts");
    assert!(refused >= 40, "{refused} refusals of {cuts}");
    assert!(repaired.len() >= 10, "{} distinct repairs", repaired.len());

    // A repair that is not the last file: the incr split in two.
    let split = incr_bytes
        .windows(3)
        .position(|w| w == b"\r\n*")
        .map(|i| {
            incr_bytes[i + 2..]
                .windows(3)
                .position(|w| w == b"\r\n*")
                .unwrap()
                + i
                + 4
        })
        .unwrap();
    let two = tmp.path.join("two");
    copy_tree(&aofdir, &two);
    let seq: i64 = incr.split('.').nth(2).unwrap().parse().unwrap();
    let next = incr.replace(&format!(".{seq}.incr"), &format!(".{}.incr", seq + 1));
    fs::write(two.join(&incr), &incr_bytes[..split - 3]).unwrap();
    fs::write(two.join(&next), &incr_bytes[split..]).unwrap();
    let mut m = manifest.clone();
    m.push_str(&format!("file {next} seq {} type i\n", seq + 1));
    fs::write(two.join("appendonly.aof.manifest"), m).unwrap();
    assert!(matches!(
        compare(&checker, &two, "appendonly.aof.manifest", None, &work),
        Outcome::Refused
    ));

    // Every distinct repair loads into a real server: its digest is the
    // digest of a server that loaded redis-check-aof's repair, which has
    // the same bytes (asserted above); the unrepaired AOF loads too.
    let full = digest_of(&server, &aofdir, &tmp.path.join("load"));
    assert_ne!(full, "(nil)");
    let mut digests = std::collections::HashSet::new();
    for dir in repaired.values() {
        let d = digest_of(&server, dir, &tmp.path.join("load"));
        assert_eq!(d.len(), 40, "{d}");
        digests.insert(d);
    }
    assert!(digests.len() >= 5, "{} digests", digests.len());
}

// ---------------------------------------------------------------------------
// Modes, refusals and atomic writes
// ---------------------------------------------------------------------------

/// A small single-file AOF whose last transaction is cut.
fn broken_aof(path: &Path) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..2000 {
        rdbscope_aof::resp::write_command(
            &mut b,
            &[b"SET", format!("k{i}").as_bytes(), &[b'v'; 100]],
        );
    }
    rdbscope_aof::resp::write_command(&mut b, &[b"MULTI"]);
    rdbscope_aof::resp::write_command(&mut b, &[b"SET", b"x", b"y"]);
    fs::write(path, &b).unwrap();
    b
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn a_mode_must_be_chosen_and_in_place_needs_yes() {
    let tmp = TempDir::new("fix-usage");
    let aof = tmp.path.join("a.aof");
    let bytes = broken_aof(&aof);
    let none = rdbscope(&[os("fix"), aof.as_os_str()]);
    assert_eq!(none.status.code(), Some(2));
    let err = text(&none.stderr);
    assert!(
        err.contains("--output") && err.contains("--in-place") && err.contains("--dry-run"),
        "{err}"
    );
    let no_yes = rdbscope(&[os("fix"), os("--in-place"), aof.as_os_str()]);
    assert_eq!(no_yes.status.code(), Some(2));
    assert!(text(&no_yes.stderr).contains("--yes"));
    let both = rdbscope(&[
        os("fix"),
        os("--dry-run"),
        os("-o"),
        os("x"),
        aof.as_os_str(),
    ]);
    assert_eq!(both.status.code(), Some(2));
    // An existing output is refused without --force; never the input.
    let exists = tmp.path.join("exists.aof");
    fs::write(&exists, b"keep").unwrap();
    let r = rdbscope(&[os("fix"), os("-o"), exists.as_os_str(), aof.as_os_str()]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
    assert_eq!(fs::read(&exists).unwrap(), b"keep");
    let r = rdbscope(&[
        os("fix"),
        os("-o"),
        aof.as_os_str(),
        os("--force"),
        aof.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
    let r = rdbscope(&[
        os("fix"),
        os("-o"),
        exists.as_os_str(),
        os("--force"),
        aof.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(fs::read(&exists).unwrap().len(), bytes.len() - 42);
    // A dry run prints the removed commands and exits 1; writes nothing.
    let before = snapshot(&tmp.path);
    let r = rdbscope(&[os("fix"), os("--dry-run"), aof.as_os_str()]);
    assert_eq!(r.status.code(), Some(1));
    let out = text(&r.stdout);
    assert!(
        out.contains("MULTI") && out.contains("SET \"x\" \"y\""),
        "{out}"
    );
    assert!(
        out.contains(&format!("bytes {}..{}", bytes.len() - 42, bytes.len())),
        "{out}"
    );
    assert_eq!(before, snapshot(&tmp.path));
    // JSON for scripts.
    let r = rdbscope(&[
        os("fix"),
        os("--dry-run"),
        os("--format"),
        os("json"),
        aof.as_os_str(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["action"], "cut");
    assert_eq!(v["removed_commands"], 2);
    assert_eq!(v["commands"][1]["command"][2], "y");
}

#[test]
fn in_place_keeps_a_backup_and_is_atomic() {
    let tmp = TempDir::new("fix-in-place");
    let aof = tmp.path.join("a.aof");
    let bytes = broken_aof(&aof);
    let r = rdbscope(&[os("fix"), os("--in-place"), os("--yes"), aof.as_os_str()]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(fs::read(tmp.path.join("a.aof.bak")).unwrap(), bytes);
    assert_eq!(fs::read(&aof).unwrap(), &bytes[..bytes.len() - 42]);
    // A second run finds nothing to cut, and writes nothing.
    let r = rdbscope(&[os("fix"), os("--in-place"), os("--yes"), aof.as_os_str()]);
    assert_eq!(r.status.code(), Some(0));
    assert!(text(&r.stdout).contains("nothing to cut"));

    // Killed in the middle of writing: the original is whole, no backup
    // was made yet, the target of --output never appears.
    for signal in ["KILL", "TERM"] {
        for in_place in [true, false] {
            let aof = tmp.path.join(format!("k-{signal}-{in_place}.aof"));
            let bytes = broken_aof(&aof);
            let out = tmp.path.join(format!("k-{signal}-{in_place}.out"));
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
            cmd.arg("fix").env("RDBSCOPE_TEST_FIX_PAUSE_AFTER", "4096");
            if in_place {
                cmd.args(["--in-place", "--yes"]);
            } else {
                cmd.arg("-o").arg(&out);
            }
            let mut child = cmd.arg(&aof).stdout(Stdio::null()).spawn().unwrap();
            // Until the temporary file holds the first bytes.
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let partial = fs::read_dir(&tmp.path).unwrap().any(|e| {
                    let e = e.unwrap();
                    e.file_name().to_string_lossy().contains("rdbscope-tmp")
                        && e.metadata().unwrap().len() >= 4096
                });
                if partial {
                    break;
                }
                assert!(Instant::now() < deadline, "no temporary file appeared");
                std::thread::sleep(Duration::from_millis(10));
            }
            Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .unwrap();
            let _ = child.wait();
            assert_eq!(
                fs::read(&aof).unwrap(),
                bytes,
                "{signal} in_place={in_place}"
            );
            assert!(!out.exists());
            let bak = PathBuf::from(format!("{}.bak", aof.display()));
            assert!(!bak.exists(), "{signal}: a backup before the rename");
            if signal == "TERM" {
                let left = fs::read_dir(&tmp.path)
                    .unwrap()
                    .filter(|e| {
                        e.as_ref()
                            .unwrap()
                            .file_name()
                            .to_string_lossy()
                            .contains("rdbscope-tmp")
                    })
                    .count();
                assert_eq!(left, 0, "SIGTERM leaves no temporary file");
            } else {
                for e in fs::read_dir(&tmp.path).unwrap() {
                    let p = e.unwrap().path();
                    if p.to_string_lossy().contains("rdbscope-tmp") {
                        fs::remove_file(p).unwrap();
                    }
                }
            }
        }
    }
}
