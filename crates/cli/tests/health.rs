//! `rdbscope info DIR` (the health report) against what the servers
//! themselves say: Redis 6.2, Redis 7.0 and Valkey 9.1 each write a data
//! directory (dump.rdb after a final SAVE, and an AOF: 6.2's single
//! appendonly.aof, the others' appendonlydir), and the report agrees with
//! their `INFO keyspace` and `INFO persistence`: keys and expires per
//! database, the last save time within 2 seconds, the AOF's current and base
//! sizes exactly. `--max-age` and `--min-keys` exit 1 exactly when they
//! should. Also `info` of an AOF file, a manifest and damaged inputs.
//!
//! Skipped without the servers (said so), failed under `REQUIRE_REDIS=1`.

use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct Conn(BufReader<TcpStream>);

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
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
                    return String::new();
                }
                let mut b = vec![0; n as usize + 2];
                self.0.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                text(&b)
            }
            Some(b'-') => panic!("server error: {}", text(&line)),
            _ => text(&line[1..]),
        }
    }
}

/// `INFO section` as name -> value.
fn info(c: &mut Conn, section: &str) -> BTreeMap<String, String> {
    c.call(&["INFO", section])
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn wait_rewrite(c: &mut Conn) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = info(c, "persistence");
        if p.get("aof_rewrite_in_progress").map(String::as_str) == Some("0")
            && p.get("aof_rewrite_scheduled").map(String::as_str) == Some("0")
        {
            return;
        }
        assert!(Instant::now() < deadline, "the rewrite did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

#[test]
fn a_data_directory_reports_what_the_server_said() {
    let test = "a_data_directory_reports_what_the_server_said";
    for oracle in Oracle::ALL {
        let Some(bin) = oracle.server(test) else {
            continue;
        };
        let tmp = TempDir::new("health");
        let dir = tmp.path.join("data");
        std::fs::create_dir(&dir).unwrap();
        let srv = RedisServer::start(
            &bin,
            Some(&dir),
            &[
                ("appendonly", "yes"),
                ("appendfsync", "always"),
                ("aof-use-rdb-preamble", "yes"),
            ],
        );
        let mut c = Conn::new(srv.port);
        for db in [0, 2, 5] {
            c.call(&["SELECT", &db.to_string()]);
            for i in 0..20 + db * 7 {
                c.call(&["SET", &format!("k{i}"), &"v".repeat(i)]);
                if i % 3 == 0 {
                    c.call(&["EXPIRE", &format!("k{i}"), "3600"]);
                }
            }
            c.call(&["RPUSH", "list", "a", "b"]);
        }
        c.call(&["BGREWRITEAOF"]);
        wait_rewrite(&mut c);
        c.call(&["SELECT", "2"]);
        for i in 0..15 {
            c.call(&["HSET", "h", &format!("f{i}"), "x"]);
        }
        c.call(&["SAVE"]);
        let persistence = info(&mut c, "persistence");
        let keyspace = info(&mut c, "keyspace");
        drop(c);
        drop(srv);

        let out = rdbscope(&["info", "--format", "json", dir.to_str().unwrap()]);
        let what = format!("{oracle:?}: {}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{what}");
        let r = json(&out);
        let rdb = &r["rdbs"][0];
        assert!(
            rdb["file"].as_str().unwrap().ends_with("dump.rdb"),
            "{what}"
        );
        // Keys and expires per database, as INFO keyspace said.
        for (name, line) in &keyspace {
            let db = name.trim_start_matches("db");
            let fields: BTreeMap<&str, u64> = line
                .split(',')
                .filter_map(|f| f.split_once('='))
                .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
                .collect();
            let ours = &rdb["summary"]["dbs"][db];
            assert_eq!(ours["keys"], fields["keys"], "{oracle:?} db{db}: {what}");
            assert_eq!(ours["expires"], fields["expires"], "{oracle:?} db{db}");
        }
        let dbs = rdb["summary"]["dbs"].as_object().unwrap().len();
        assert_eq!(dbs, keyspace.len(), "{what}");
        // The last save time.
        let saved: i64 = persistence["rdb_last_save_time"].parse().unwrap();
        let ours = rdb["last_save_time"].as_i64().unwrap();
        assert!((ours - saved).abs() <= 2, "{oracle:?}: {ours} vs {saved}");
        assert_eq!(rdb["loads"], true);
        // The AOF's sizes, exactly.
        let aof = &r["aofs"][0];
        let current: u64 = persistence["aof_current_size"].parse().unwrap();
        let base: u64 = persistence["aof_base_size"].parse().unwrap();
        assert_eq!(aof["current_size"], current, "{oracle:?}: {what}");
        assert_eq!(aof["base_size"], base, "{oracle:?}: {what}");
        assert_eq!(aof["loads"], true);
        assert_eq!(r["ok"], true);

        // --max-age and --min-keys, on a backup folder holding only the
        // snapshot (its age is that of its save).
        let backup = tmp.path.join("backup");
        std::fs::create_dir(&backup).unwrap();
        std::fs::copy(dir.join("dump.rdb"), backup.join("dump.rdb")).unwrap();
        std::thread::sleep(Duration::from_millis(2100));
        let b = backup.to_str().unwrap();
        let keys: u64 = rdb["keys"].as_u64().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let age = now - ours;
        assert!(age >= 2);
        for (args, want) in [
            (vec!["--max-age", &format!("{}s", age + 30)], 0),
            (vec!["--max-age", &format!("{}", age - 2)], 1),
            (vec!["--max-age", "1h"], 0),
            (vec!["--min-keys", &keys.to_string()], 0),
            (vec!["--min-keys", &(keys + 1).to_string()], 1),
            (vec!["--min-keys", "1", "--max-age", "1d"], 0),
            (vec!["--deep"], 0),
        ] {
            let mut a: Vec<&str> = vec!["info"];
            a.extend(args.iter().copied());
            a.push(b);
            let out = rdbscope(&a);
            assert_eq!(
                out.status.code(),
                Some(want),
                "{oracle:?} {a:?}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn info_reads_aofs_and_damaged_files() {
    let Some(corpus) = rdbscope_testkit::corpus("info_reads_aofs_and_damaged_files") else {
        return;
    };
    // A multi-part AOF, by directory and by manifest; a single file.
    let case = corpus.join("aof/redis-7.0.15-debian/timestamps/appendonlydir");
    let manifest = case.join("appendonly.aof.manifest");
    let out = rdbscope(&["info", "--format", "json", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["layout"], "multi-part");
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert!(v["commands"].as_u64().unwrap() > 100);
    assert!(v["first_timestamp"].as_i64().unwrap() > 1_700_000_000);
    let text_out = rdbscope(&["info", case.to_str().unwrap()]);
    assert_eq!(text_out.status.code(), Some(0));
    assert!(text(&text_out.stdout).contains("incr seq"));
    let single = corpus.join("aof/redis-6.2.14/rewritten-preamble/appendonly.aof");
    let out = rdbscope(&["info", "--format", "json", single.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["layout"], "single-file");
    assert_eq!(v["files"][0]["format"], "rdb");
    assert!(v["base"]["keys"].as_u64().unwrap() > 0, "{v}");

    // Damaged: what was read, then the error, exit 1.
    let tmp = TempDir::new("info-damaged");
    let rdb =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/example.rdb"))
            .unwrap();
    let cut = tmp.path.join("cut.rdb");
    std::fs::write(&cut, &rdb[..300]).unwrap();
    let out = rdbscope(&["info", "--format", "json", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert!(v["keys"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["error"].as_str().unwrap().contains("offset"), "{v}");
    let out = rdbscope(&["info", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("keys:") && text(&out.stdout).contains("error:"));
    let broken = corpus.join("broken/aof-single-file/redis-6.2.16-truncated.aof");
    let out = rdbscope(&["info", "--format", "json", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert!(v["commands"].as_u64().unwrap() > 100);
    assert!(v["error"].as_str().unwrap().contains("28974"), "{v}");
}

#[test]
fn info_of_a_json_dump_counts_what_info_of_the_rdb_counts() {
    let Some(corpus) =
        rdbscope_testkit::corpus("info_of_a_json_dump_counts_what_info_of_the_rdb_counts")
    else {
        return;
    };
    let tmp = TempDir::new("info-json");
    let mut files = 0;
    for server in std::fs::read_dir(corpus.join("rdb")).unwrap() {
        for f in std::fs::read_dir(server.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_none_or(|x| x != "rdb") {
                continue;
            }
            let p = f.to_str().unwrap();
            let rdb = rdbscope(&["info", "--format", "json", p]);
            if rdb.status.code() != Some(0) {
                continue;
            }
            let dump = tmp.path.join("d.jsonl");
            let d = rdbscope(&["dump", "--force", "-o", dump.to_str().unwrap(), p]);
            assert_eq!(d.status.code(), Some(0));
            let out = rdbscope(&["info", "--format", "json", dump.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(0), "{p}: {}", text(&out.stderr));
            let (r, j) = (json(&rdb), json(&out));
            assert_eq!(r["keys"], j["keys"], "{p}");
            assert_eq!(r["aux"], j["aux"], "{p}");
            for (db, counts) in r["dbs"].as_object().unwrap() {
                for field in ["keys", "expires", "types"] {
                    assert_eq!(counts[field], j["dbs"][db][field], "{p} db{db} {field}");
                }
            }
            files += 1;
        }
    }
    assert!(files >= 10, "{files}");
}
