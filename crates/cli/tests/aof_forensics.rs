//! AOF forensics in `dump`: key filters, `--type`, `--since`/`--until`
//! and `--format json` on AOF input, and each command's `ts` (the last #TS
//! annotation before it, across files) and `multi`. The expected output is
//! computed here from the commands the test wrote, and must be the same
//! with 1, 2 and 7 threads (the file is big enough for the parallel walk).

use serde_json::Value;
use std::process::Command;

fn resp(args: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    rdbscope_aof::resp::write_command(&mut v, &a);
    v
}

/// One command the test wrote, with what `dump` must say of it.
struct Sent {
    args: Vec<String>,
    db: u64,
    ts: Option<i64>,
    multi: bool,
}

fn build() -> (Vec<u8>, Vec<Sent>) {
    let mut bytes = Vec::new();
    let mut sent = Vec::new();
    let mut ts = None;
    let mut db = 0;
    let mut push =
        |bytes: &mut Vec<u8>, args: Vec<String>, db: u64, ts: Option<i64>, multi: bool| {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            bytes.extend(resp(&a));
            sent.push(Sent {
                args,
                db,
                ts,
                multi,
            });
        };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    for i in 0..120_000u64 {
        if i % 15000 == 100 {
            let t = 1_700_000_000 + i as i64;
            bytes.extend(format!("#TS:{t}\r\n").bytes());
            ts = Some(t);
        }
        if i % 21000 == 3 {
            db = (i / 21000) % 3;
            push(&mut bytes, s(&["SELECT", &db.to_string()]), db, ts, false);
        }
        let k = format!("user:{}", i % 97);
        match i % 6 {
            0 => push(&mut bytes, s(&["SET", &k, "some value"]), db, ts, false),
            1 => push(
                &mut bytes,
                s(&["HSET", &format!("h:{k}"), "f", "v"]),
                db,
                ts,
                false,
            ),
            2 => push(&mut bytes, s(&["DEL", "other", &k]), db, ts, false),
            3 => {
                push(&mut bytes, s(&["MULTI"]), db, ts, true);
                push(
                    &mut bytes,
                    s(&["RPUSH", &format!("l:{k}"), "a", "b"]),
                    db,
                    ts,
                    true,
                );
                push(&mut bytes, s(&["SADD", "set:x", "m"]), db, ts, true);
                push(&mut bytes, s(&["EXEC"]), db, ts, true);
            }
            4 => push(&mut bytes, s(&["MSET", "a", "1", &k, "2"]), db, ts, false),
            _ => push(&mut bytes, s(&["EXPIRE", &k, "100"]), db, ts, false),
        }
    }
    (bytes, sent)
}

fn dump(args: &[&str], path: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .arg("dump")
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn filters_times_and_transactions_on_aof_commands() {
    let tmp = rdbscope_testkit::TempDir::new("aof-forensics");
    let (bytes, sent) = build();
    assert!(bytes.len() > 3 << 20);
    let path = tmp.path.join("appendonly.aof");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();
    let glob = |k: &str| k.starts_with("user:1");
    let writes_type = |a: &[String]| match a[0].as_str() {
        "SET" | "MSET" => Some("string"),
        "HSET" => Some("hash"),
        "RPUSH" => Some("list"),
        "SADD" => Some("set"),
        _ => None,
    };
    let keys = |a: &[String]| -> Vec<String> {
        match a[0].as_str() {
            "SELECT" | "MULTI" | "EXEC" => vec![],
            "DEL" => a[1..].to_vec(),
            "MSET" => a[1..].iter().step_by(2).cloned().collect(),
            _ => vec![a[1].clone()],
        }
    };
    type Pick<'a> = Box<dyn Fn(&Sent) -> bool + 'a>;
    let cases: Vec<(Vec<&str>, Pick)> = vec![
        (vec![], Box::new(|_| true)),
        (
            vec!["--key", "user:1*"],
            Box::new(|s| keys(&s.args).iter().any(|k| glob(k))),
        ),
        (
            vec!["--type", "hash"],
            Box::new(|s| writes_type(&s.args) == Some("hash")),
        ),
        (
            vec!["--type", "string", "--key", "user:1*"],
            Box::new(|s| {
                writes_type(&s.args) == Some("string") && keys(&s.args).iter().any(|k| glob(k))
            }),
        ),
        (vec!["--db", "1"], Box::new(|s| s.db == 1)),
        (
            vec!["--since", "1700030000", "--until", "1700075100"],
            Box::new(|s| {
                s.ts.is_some_and(|t| (1_700_030_000..=1_700_075_100).contains(&t))
            }),
        ),
        (
            vec!["--since", "2023-11-14T22:30:00Z"],
            Box::new(|s| s.ts.is_some_and(|t| t >= 1_700_001_000)),
        ),
    ];
    for (args, pick) in &cases {
        let mut outs = Vec::new();
        for j in ["-j1", "-j2", "-j7"] {
            let mut a = args.clone();
            a.push(j);
            let (code, out) = dump(&a, p);
            assert_eq!(code, Some(0), "{a:?}: {}", &out[..out.len().min(500)]);
            outs.push(out);
        }
        assert!(
            outs[0] == outs[1] && outs[1] == outs[2],
            "{args:?}: output differs by threads"
        );
        let lines: Vec<Value> = outs[0]
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v.get("record").is_none())
            .collect();
        let want: Vec<&Sent> = sent.iter().filter(|s| pick(s)).collect();
        assert_eq!(lines.len(), want.len(), "{args:?}");
        for (got, w) in lines.iter().zip(&want) {
            let cmd: Vec<&str> = got["command"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            assert_eq!(cmd, w.args, "{args:?}");
            assert_eq!(got["db"], w.db, "{args:?} {cmd:?}");
            assert_eq!(got["ts"].as_i64(), w.ts, "{args:?} {cmd:?}");
            assert_eq!(got["multi"], w.multi, "{args:?} {cmd:?}");
        }
    }
    // One JSON document, the same records.
    let (code, doc) = dump(&["--format", "json", "--key", "user:1*"], p);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&doc).unwrap();
    let (_, lines) = dump(&["--key", "user:1*"], p);
    assert_eq!(v.as_array().unwrap().len(), lines.lines().count());
    // RESP: the selected commands, SELECTs kept.
    let (code, r) = dump(&["--format", "resp", "--type", "hash"], p);
    assert_eq!(code, Some(0));
    let hsets = sent.iter().filter(|s| s.args[0] == "HSET").count();
    assert_eq!(r.matches("HSET").count(), hsets);
    assert!(!r.contains("RPUSH"));
    // Facts only an RDB has are refused; so are times on an RDB.
    assert_eq!(dump(&["--expiry"], p).0, Some(2));
    let rdb = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/example.rdb");
    assert_eq!(dump(&["--since", "1"], rdb.to_str().unwrap()).0, Some(2));
}

#[test]
fn times_carry_from_file_to_file() {
    let Some(corpus) = rdbscope_testkit::corpus("times_carry_from_file_to_file") else {
        return;
    };
    let dir = corpus.join("aof/redis-7.0.15-debian/timestamps/appendonlydir");
    let (code, out) = dump(&[], dir.to_str().unwrap());
    assert_eq!(code, Some(0));
    // Every command's ts is the last #TS annotation before it in load order.
    let mut last = None;
    let mut commands = 0;
    for l in out.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        match v["record"].as_str() {
            Some("annotation") => last = v["timestamp"].as_i64().or(last),
            Some(_) => {}
            None => {
                assert_eq!(v["ts"].as_i64(), last, "{l}");
                commands += 1;
            }
        }
    }
    assert!(commands > 100 && last.is_some());
}
