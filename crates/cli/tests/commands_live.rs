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
            let mut out = rdbscope(&base);
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr).to_string();
                assert_eq!(out.status.code(), Some(1), "{what}: {err}");
                assert!(
                    err.contains("field TTL") || err.contains("function"),
                    "{what}: {err}"
                );
                refused += 1;
                let mut args = base.to_vec();
                args.extend(["--drop", "field-ttl,functions"]);
                out = rdbscope(&args);
                assert!(
                    out.status.success(),
                    "{what}: {err} / {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            c.cmd(&["FLUSHALL"]);
            if o != Oracle::Redis62 {
                c.cmd(&["FUNCTION", "FLUSH"]);
            }
            let now = now_ms();
            let errors = c.pipe(&out.stdout);
            assert!(errors.is_empty(), "{what}: {errors:?}");
            c.cmd(&["SELECT", "0"]);
            let got = c.cmd(&["DEBUG", "DIGEST"]).text();
            let at = format!("--as-loaded={now}ms");
            let want = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, s]);
            let mut want = String::from_utf8_lossy(&want.stdout).trim().to_string();
            if o != Oracle::Redis62 {
                // From Redis 7.0 (and in Valkey) ZADD stores an integral
                // score of a compact zset as an integer (`zzlInsertAt`,
                // `double2ll`), so a score of -0 becomes 0 when commands
                // rebuild it, as when a server replays its own rewrite;
                // loading the RDB keeps the stored "-0". The corpus holds
                // -0 only in small zsets.
                let json = rdbscope(&["dump", s]);
                let text = String::from_utf8_lossy(&json.stdout);
                if text.contains(",-0.0]") {
                    let normal = tmp.path.join("normal.jsonl");
                    std::fs::write(&normal, text.replace(",-0.0]", ",0.0]")).unwrap();
                    let n = normal.to_str().unwrap();
                    let w = rdbscope(&["digest", "-q", "--server-version", o.name(), &at, n]);
                    want = String::from_utf8_lossy(&w.stdout).trim().to_string();
                    normalized += 1;
                }
            }
            assert_eq!(got, want, "{what}");
            loaded += 1;
        }
    }
    eprintln!(
        "commands_live: {loaded} corpus files piped as commands with equal digests ({refused} refused by name first; {normalized} with a -0 zset score the server stores as 0)"
    );
}
