//! Listpack entries whose back length sits on a 7-bit boundary (an entry
//! of exactly 2^14-1 or 2^21-1 bytes), written by real servers: Redis 7.0
//! stores such a backlen in one byte more than it needs, Valkey 9.1 in the
//! minimal size (docs/format.md#listpack). Both must read back exactly and
//! check clean.
//!
//! Values of lengths around each boundary go into a listpack-encoded hash,
//! list and zset; the server saves; `rdbscope dump` must give every value
//! back byte for byte and `rdbscope check` must pass.

use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// Data lengths whose entries (a 5-byte 32-bit string header plus the
/// data) straddle the 16383- and 2097151-byte boundaries.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (16_375..16_385).collect();
    v.extend(2_097_143..2_097_149);
    v
}

/// Distinct bytes per value, so a walk that lands a byte off shows.
fn value(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + ((i + n) % 26) as u8).collect()
}

fn command(conn: &mut BufReader<TcpStream>, args: &[&[u8]]) -> String {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n", a.len()).as_bytes());
        out.extend(*a);
        out.extend(b"\r\n");
    }
    conn.get_mut().write_all(&out).unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    if let Some(n) = line.strip_prefix('$') {
        let n: i64 = n.trim().parse().unwrap();
        if n >= 0 {
            let mut body = vec![0; n as usize + 2];
            conn.read_exact(&mut body).unwrap();
            return String::from_utf8_lossy(&body[..n as usize]).into_owned();
        }
    }
    assert!(!line.starts_with('-'), "{args:?}: {line}");
    line.trim().to_string()
}

fn run(oracle: Oracle) {
    let test = "listpack_backlen_boundaries";
    let Some(bin) = oracle.server(test) else {
        return;
    };
    let server = RedisServer::start(
        &bin,
        None,
        &[
            ("hash-max-listpack-value", "4000000"),
            ("zset-max-listpack-value", "4000000"),
            ("list-max-listpack-size", "-5"),
        ],
    );
    let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", server.port)).unwrap());
    for n in lengths() {
        let v = value(n);
        let name = n.to_string();
        command(&mut conn, &[b"HSET", format!("h:{n}").as_bytes(), b"f", &v]);
        command(
            &mut conn,
            &[b"RPUSH", format!("l:{n}").as_bytes(), &v, b"next"],
        );
        command(
            &mut conn,
            &[b"ZADD", format!("z:{n}").as_bytes(), name.as_bytes(), &v],
        );
        assert_eq!(
            command(
                &mut conn,
                &[b"OBJECT", b"ENCODING", format!("h:{n}").as_bytes()]
            ),
            "listpack",
            "{oracle:?}"
        );
    }
    command(&mut conn, &[b"SAVE"]);
    let rdb = server.dir().join("dump.rdb");

    let exe = env!("CARGO_BIN_EXE_rdbscope");
    let check = Command::new(exe).arg("check").arg(&rdb).output().unwrap();
    assert!(
        check.status.success(),
        "{oracle:?}: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let dump = Command::new(exe).arg("dump").arg(&rdb).output().unwrap();
    assert!(
        dump.status.success(),
        "{oracle:?}: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let mut seen = 0;
    for line in dump.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let rec: serde_json::Value = serde_json::from_slice(line).unwrap();
        let Some(key) = rec.get("key").and_then(|k| k.as_str()) else {
            continue;
        };
        let (kind, n) = key.split_once(':').unwrap();
        let n: usize = n.parse().unwrap();
        let want = String::from_utf8(value(n)).unwrap();
        let got = match kind {
            "h" => &rec["value"][0][1],
            "l" => &rec["value"][0],
            "z" => &rec["value"][0][0],
            _ => unreachable!(),
        };
        assert_eq!(got.as_str(), Some(want.as_str()), "{oracle:?}: {key}");
        seen += 1;
    }
    assert_eq!(seen, 3 * lengths().len(), "{oracle:?}");
}

#[test]
fn redis_7_0_listpack_backlen_boundaries() {
    run(Oracle::Redis70);
}

#[test]
fn valkey_9_1_listpack_backlen_boundaries() {
    run(Oracle::Valkey91);
}
