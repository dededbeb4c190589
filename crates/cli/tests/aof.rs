//! `rdbscope check` and `rdbscope dump` on AOF inputs, through the binary:
//! exit codes, what the reports and dumps hold, hostile inputs, and a live
//! `redis-server` writing an AOF that `redis-check-aof` and we judge side
//! by side.
//!
//! The live test finds `redis-server` as `live_redis.rs` does
//! (`$REDIS_SERVER`, else `PATH`, else the usual places) and is skipped
//! without one unless `REQUIRE_REDIS=1`; `redis-check-aof` is used when it
//! is there (it comes with the server).

use rdbscope_testkit::redis::{find_bin, redis_server, RedisServer};
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn corpus_path(test: &str, rel: &str) -> Option<PathBuf> {
    rdbscope_testkit::corpus(test).map(|c| c.join(rel))
}

/// RESP commands back out of bytes (what `dump --format resp` writes).
fn parse_resp(mut b: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn line<'a>(b: &mut &'a [u8]) -> &'a [u8] {
        let i = b.windows(2).position(|w| w == b"\r\n").expect("CRLF");
        let l = &b[..i];
        *b = &b[i + 2..];
        l
    }
    let num = |l: &[u8]| -> usize { std::str::from_utf8(&l[1..]).unwrap().parse().unwrap() };
    let mut out = Vec::new();
    while !b.is_empty() {
        let n = num(line(&mut b));
        let mut args = Vec::new();
        for _ in 0..n {
            let len = num(line(&mut b));
            args.push(b[..len].to_vec());
            assert_eq!(&b[len..len + 2], b"\r\n");
            b = &b[len + 2..];
        }
        out.push(args);
    }
    out
}

/// `(db, args)` of every command but SELECT, the db tracked from SELECTs.
fn without_selects(cmds: Vec<Vec<Vec<u8>>>) -> Vec<(u64, Vec<Vec<u8>>)> {
    let mut db = 0;
    let mut out = Vec::new();
    for c in cmds {
        if c[0].eq_ignore_ascii_case(b"SELECT") {
            db = text(&c[1]).parse().unwrap();
        } else {
            out.push((db, c));
        }
    }
    out
}

#[test]
fn check_reports_and_exit_codes() {
    let Some(dir) = corpus_path("check_reports_and_exit_codes", "aof/redis-7.4.1/timestamps")
    else {
        return;
    };
    let aof_dir = dir.join("appendonlydir");
    let manifest = aof_dir.join("appendonly.aof.manifest");
    for input in [&aof_dir, &manifest] {
        let out = rdbscope(&["check", input.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with("Start checking Multi Part AOF\n"),
            "{stdout}"
        );
        assert!(stdout.contains(
            "AOF analyzed: filename=appendonly.aof.2.base.aof, size=67004, ok_up_to=67004,"
        ));
        assert!(stdout.contains("All AOF files and manifest are valid"));
        assert!(stdout.contains("[info] timestamp annotations from "));
    }
    let out = rdbscope(&["check", "--format", "json", aof_dir.to_str().unwrap()]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["verdict"], "ok");
    assert_eq!(r["aof_verdict"], "valid");
    assert_eq!(r["server_loads"], true);
    assert_eq!(r["files"].as_array().unwrap().len(), 2);
    assert!(r["annotations"].as_u64().unwrap() > 0);

    // A truncated copy: exit 1, ok_up_to, and the server would still load it.
    let tmp = TempDir::new("aof-check");
    let copy = tmp.path.join("appendonlydir");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&aof_dir).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    let incr = copy.join("appendonly.aof.2.incr.aof");
    let mut bytes = std::fs::read(&incr).unwrap();
    bytes.truncate(bytes.len() - 5);
    std::fs::write(&incr, &bytes).unwrap();
    let out = rdbscope(&["check", "--format", "json", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["aof_verdict"], "truncated");
    assert_eq!(r["server_loads"], true);
    assert!(r["error"]["ok_up_to"].as_u64().unwrap() < bytes.len() as u64);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("appendonly.aof.2.incr.aof: offset "),
        "{stderr}"
    );

    // Usage and I/O errors: 2.
    let out = rdbscope(&["check", tmp.path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a directory without a manifest");
    let out = rdbscope(&["dump", "--slot", "16384", copy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "--slot out of range");
    // One JSON document of an AOF is an array of the JSON Lines records.
    let out = rdbscope(&["dump", "--format", "json", copy.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(2), "--format json on an AOF");
    assert!(out.stdout.starts_with(b"["), "{}", text(&out.stdout));
}

#[test]
fn dump_of_an_aof() {
    let Some(dir) = corpus_path(
        "dump_of_an_aof",
        "aof/redis-7.4.1/preamble-yes-rewritten/appendonlydir",
    ) else {
        return;
    };
    let out = rdbscope(&["dump", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let json: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    // The base RDB: exactly the lines `rdbscope dump` writes for it alone.
    let base = dir.join("appendonly.aof.2.base.rdb");
    let alone = rdbscope(&["dump", base.to_str().unwrap()]);
    assert_eq!(alone.status.code(), Some(0));
    let files: Vec<usize> = (0..json.len())
        .filter(|&i| json[i]["record"] == "aof-file")
        .collect();
    assert_eq!(files.len(), 2);
    let base_lines: Vec<u8> = lines[files[0] + 1..files[1]]
        .iter()
        .flat_map(|l| [*l, b"\n"].concat())
        .collect();
    assert_eq!(text(&base_lines), text(&alone.stdout));
    // Then one line per command, schema as documented.
    let cmds: Vec<&Value> = json[files[1] + 1..].iter().collect();
    assert!(!cmds.is_empty());
    for c in &cmds {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["command", "db", "file", "multi", "offset", "ts"],
            "{c}"
        );
        assert!(c["file"]
            .as_str()
            .unwrap()
            .ends_with("appendonly.aof.2.incr.aof"));
    }
    assert_eq!(cmds[0]["command"], serde_json::json!(["MULTI"]));
    assert!(cmds.iter().any(|c| c["db"] == 3));

    // RESP: SELECT 0, then every command byte for byte.
    let out = rdbscope(&[
        "dump",
        "--format",
        "resp",
        dir.join("appendonly.aof.manifest").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let incr = std::fs::read(dir.join("appendonly.aof.2.incr.aof")).unwrap();
    assert!(out
        .stdout
        .ends_with(&[b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n".as_slice(), &incr].concat()));
    // --db picks commands of one database (and no file records).
    let out = rdbscope(&["dump", "--db", "3", dir.to_str().unwrap()]);
    for l in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(l).unwrap();
        assert_eq!(v["db"], 3, "{v}");
    }
}

#[test]
fn hostile_aofs_exit_1_with_an_offset() {
    let Some(incr) = corpus_path(
        "hostile_aofs_exit_1_with_an_offset",
        "aof/redis-7.0.15-debian/preamble-no-rewritten/appendonlydir/appendonly.aof.2.incr.aof",
    ) else {
        return;
    };
    let bytes = std::fs::read(incr).unwrap();
    let tmp = TempDir::in_memory("aof-hostile");
    let f = tmp.path.join("x.aof");
    let mut variants: Vec<Vec<u8>> = (1..bytes.len())
        .step_by(7)
        .map(|n| bytes[..n].to_vec())
        .collect();
    for i in (0..bytes.len()).step_by(5) {
        let mut v = bytes.clone();
        v[i] ^= 1 << (i % 8);
        variants.push(v);
    }
    variants.push(b"*1\r\n$4294967295\r\nPING\r\n".to_vec());
    variants.push(b"*4294967295\r\n$4\r\nPING\r\n".to_vec());
    for v in &variants {
        std::fs::write(&f, v).unwrap();
        for cmd in ["check", "dump"] {
            // Under a small address-space limit: an allocation sized by a
            // declared length would abort instead of exiting 1.
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "ulimit -v 1048576; exec \"$0\" {cmd} -j2 \"$1\" > /dev/null"
                ))
                .arg(env!("CARGO_BIN_EXE_rdbscope"))
                .arg(&f)
                .output()
                .unwrap();
            let code = out.status.code();
            let stderr = text(&out.stderr);
            assert!(
                matches!(code, Some(0 | 1)),
                "{cmd} {:?}: {code:?} {stderr}",
                text(v)
            );
            if code == Some(1) {
                assert!(stderr.contains("offset "), "{cmd}: {stderr}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// A live redis-server
// ---------------------------------------------------------------------------

struct Conn(BufReader<TcpStream>);

impl Conn {
    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut req = Vec::new();
        rdbscope_aof::resp::write_command(&mut req, args);
        self.0.get_mut().write_all(&req).unwrap();
        self.reply()
    }

    /// One reply, returned as its first line (bulk: the bytes).
    fn reply(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.0.read_until(b'\n', &mut line).unwrap();
        line.truncate(line.len() - 2);
        match line[0] {
            b'$' => {
                let n: i64 = text(&line[1..]).parse().unwrap();
                if n < 0 {
                    return b"(nil)".to_vec();
                }
                let mut b = vec![0; n as usize + 2];
                self.0.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                b
            }
            b'*' => {
                let n: i64 = text(&line[1..]).parse().unwrap();
                for _ in 0..n.max(0) {
                    self.reply();
                }
                line
            }
            b'-' => panic!("redis error: {}", text(&line)),
            _ => line,
        }
    }
}

#[test]
fn live_redis_aof_matches_what_was_sent() {
    let Some(server) = redis_server("live_redis_aof_matches_what_was_sent") else {
        return;
    };
    let tmp = TempDir::new("aof-live");
    let (_server, mut conn) = start(&server, &tmp.path);

    let binary: &[u8] = b"\x00\xff\r\nbin\"\\";
    let sent: Vec<(u64, Vec<&[u8]>)> = vec![
        (0, vec![b"SET", b"a", b"1"]),
        (3, vec![b"SET", b"b", binary]),
        (3, vec![b"RPUSH", b"l", b"x", b"", b"z"]),
        (3, vec![b"MULTI"]),
        (3, vec![b"SET", b"c", b"1"]),
        (3, vec![b"INCR", b"c"]),
        (3, vec![b"HSET", b"h", b"f\r\n", binary]),
        (3, vec![b"EXEC"]),
        (0, vec![b"APPEND", b"s", "żółw 🐢".as_bytes()]),
        (15, vec![b"SADD", b"set", b"m1", b"m2"]),
        (0, vec![b"DEL", b"a"]),
        (0, vec![b"MULTI"]),
        (0, vec![b"SET", &[b'v'; 70000], &[b'w'; 100]]),
        // (A transaction with one write is propagated without MULTI/EXEC.)
        (0, vec![b"SET", b"after", b"big"]),
        (0, vec![b"EXEC"]),
    ];
    let mut db = 0;
    for (want_db, args) in &sent {
        if *want_db != db {
            conn.call(&[b"SELECT", want_db.to_string().as_bytes()]);
            db = *want_db;
        }
        conn.call(args);
    }
    let aof_dir = tmp.path.join("appendonlydir");

    // Our command stream is what was sent (the server adds its own SELECTs).
    let out = rdbscope(&["dump", "--format", "resp", aof_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = without_selects(parse_resp(&out.stdout));
    let want: Vec<(u64, Vec<Vec<u8>>)> = sent
        .iter()
        .map(|(db, a)| (*db, a.iter().map(|x| x.to_vec()).collect()))
        .collect();
    let short = |c: &(u64, Vec<Vec<u8>>)| {
        let args: Vec<String> = c.1.iter().map(|a| text(&a[..a.len().min(20)])).collect();
        format!("db {} {args:?}", c.0)
    };
    let got_s: Vec<String> = got.iter().map(short).collect();
    let want_s: Vec<String> = want.iter().map(short).collect();
    for (i, (g, w)) in got_s.iter().zip(&want_s).enumerate() {
        assert_eq!(g, w, "command {i}");
    }
    assert_eq!(got_s.len(), want_s.len(), "{got_s:?}");
    assert!(got == want, "arguments differ beyond their first 20 bytes");
    // The JSON dump says the same, with binary values in base64.
    let out = rdbscope(&["dump", "--keys-only", aof_dir.to_str().unwrap()]);
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let set_b = lines.iter().find(|l| l["command"][1] == "b").unwrap();
    assert_eq!(set_b["db"], 3);
    assert!(set_b["command"][2]["base64"].is_string(), "{set_b}");

    // Valid, and then truncated copies: redis-check-aof and we agree.
    let checker = find_bin("redis-check-aof", "REDIS_CHECK_AOF");
    judge_alike(&aof_dir, checker.as_deref(), 0);
    let incr = std::fs::read_dir(&aof_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .unwrap();
    let bytes = std::fs::read(&incr).unwrap();
    let exec = bytes
        .windows(14)
        .rposition(|w| w == b"*1\r\n$4\r\nEXEC\r\n")
        .unwrap();
    for cut in [bytes.len() - 5, exec + 3, exec] {
        std::fs::write(&incr, &bytes[..cut]).unwrap();
        judge_alike(&aof_dir, checker.as_deref(), 1);
    }
}

/// Both checkers on the manifest: the same exit code and, for a problem,
/// the same ok_up_to.
fn judge_alike(dir: &Path, checker: Option<&Path>, want: i32) {
    let manifest = dir.join("appendonly.aof.manifest");
    let ours = rdbscope(&["check", "--format", "json", manifest.to_str().unwrap()]);
    assert_eq!(ours.status.code(), Some(want), "{}", text(&ours.stderr));
    let r: Value = serde_json::from_slice(&ours.stdout).unwrap();
    let Some(checker) = checker else { return };
    let theirs = Command::new(checker).arg(&manifest).output().unwrap();
    let out = text(&theirs.stdout);
    assert_eq!(theirs.status.code(), Some(want), "{out}");
    let last = out
        .lines()
        .rev()
        .find(|l| l.starts_with("AOF analyzed:"))
        .unwrap();
    let last_file = r["files"].as_array().unwrap().last().unwrap();
    let ours_line = format!(
        "AOF analyzed: filename={}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
        last_file["name"].as_str().unwrap(),
        last_file["size_bytes"],
        last_file["ok_up_to"],
        last_file["ok_up_to_line"],
        last_file["diff"]
    );
    assert_eq!(ours_line, last, "{out}");
}

/// A server writing a plain multi-part AOF (no RDB preamble) into `dir`,
/// fsyncing every command, and a connection to it.
fn start(bin: &Path, dir: &Path) -> (RedisServer, Conn) {
    let server = RedisServer::start(
        bin,
        Some(dir),
        &[
            ("appendonly", "yes"),
            ("appendfsync", "always"),
            ("aof-use-rdb-preamble", "no"),
        ],
    );
    let s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect to redis-server");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    (server, Conn(BufReader::new(s)))
}
