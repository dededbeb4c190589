//! The oracle for `dump --format resp`: a real redis-server. For every
//! corpus RDB the local server can read (RDB version <= its own), one server
//! loads the original file at start-up, another gets our RESTORE stream
//! through `redis-cli --pipe`; both run with the same configuration, and
//! their `DEBUG DIGEST`s must be equal. (The digest depends on in-memory
//! encodings, which follow the configuration, so the digests recorded in the
//! corpus from differently configured servers are not the comparison.)

use rdbscope_testkit::redis::{redis_server, RedisServer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rdbscope");

fn corpus() -> Option<PathBuf> {
    rdbscope_testkit::corpus("resp_roundtrip")
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A redis-server on a loopback port (killed on drop), driven with
/// `redis-cli`.
struct Server {
    redis: RedisServer,
}

impl Server {
    /// Starts a server in `dir`, loading `dir/dump.rdb` if it is there.
    fn start(bin: &Path, dir: &Path) -> Server {
        Server {
            redis: RedisServer::start(bin, Some(dir), &[]),
        }
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.redis.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn version(&self) -> u32 {
        // rdb_version of the server: from INFO's redis_version major.minor.
        let info = self.cli(&["info", "server"]).unwrap_or_default();
        let v = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("0.0")
            .to_string();
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        match (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) {
            (7, 0) => 10,
            (7, 2) => 11,
            (7, 4) | (8, _) => 12,
            (m, _) if m < 7 => 9,
            _ => 10,
        }
    }
}

fn rdb_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rdb_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rdb") {
            out.push(p);
        }
    }
}

/// The RDB version in the header, for `REDIS` files.
fn redis_version(data: &[u8]) -> Option<u32> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return None;
    }
    std::str::from_utf8(&data[5..9]).ok()?.parse().ok()
}

#[test]
fn restore_stream_rebuilds_the_same_dataset() {
    let Some(bin) = redis_server("resp_roundtrip") else {
        return;
    };
    if !have("redis-cli") {
        assert!(
            std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
            "REQUIRE_REDIS=1 but redis-cli is missing"
        );
        rdbscope_testkit::skipped("resp_roundtrip: no redis-cli");
        return;
    }
    let Some(corpus) = corpus() else { return };
    let work = std::env::temp_dir().join(format!("rdbscope-resp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("target")).expect("temp dir");
    let target = Server::start(&bin, &work.join("target"));
    let server_rdb = target.version();
    let mut files = Vec::new();
    rdb_files(&corpus.join("rdb"), &mut files);
    rdb_files(&corpus.join("third_party"), &mut files);
    files.sort();
    let (mut compared, mut failures) = (0, Vec::new());
    for f in &files {
        let data = std::fs::read(f).expect("read");
        // Files the server loads: readable version, and known good (a truth
        // file means a server of this corpus loaded it).
        let loadable = redis_version(&data).is_some_and(|v| v <= server_rdb)
            && f.with_extension("rdb.truth.jsonl").exists();
        if !loadable {
            continue;
        }
        let name = f.strip_prefix(&corpus).unwrap_or(f).display().to_string();
        // The original, loaded by a server at start-up.
        let src = work.join("source");
        let _ = std::fs::remove_dir_all(&src);
        std::fs::create_dir_all(&src).expect("temp dir");
        std::fs::copy(f, src.join("dump.rdb")).expect("copy");
        let source = Server::start(&bin, &src);
        let want = source.cli(&["debug", "digest"]).unwrap_or_default();
        drop(source);
        // Our RESTORE stream, piped into a clean server.
        target.cli(&["flushall"]);
        target.cli(&["function", "flush"]);
        let dump = Command::new(BIN)
            .args(["dump", "--format", "resp"])
            .arg(f)
            .output()
            .expect("run rdbscope");
        assert!(
            dump.status.success(),
            "{name}: dump failed: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
        let mut pipe = Command::new("redis-cli")
            .args(["-p", &target.redis.port.to_string(), "--pipe"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-cli --pipe");
        {
            use std::io::Write;
            let mut stdin = pipe.stdin.take().expect("stdin");
            stdin.write_all(&dump.stdout).expect("feed redis-cli");
        }
        let piped = pipe.wait_with_output().expect("redis-cli --pipe");
        let report = String::from_utf8_lossy(&piped.stdout).to_string();
        if !report.contains("errors: 0") {
            failures.push(format!(
                "{name}: redis-cli --pipe reported errors: {}",
                report.trim()
            ));
            continue;
        }
        let got = target.cli(&["debug", "digest"]).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{name}: DEBUG DIGEST after RESTORE stream {got}, original file {want}"
            ));
        }
        compared += 1;
    }
    drop(target);
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("{compared} files rebuilt through RESTORE and compared by DEBUG DIGEST");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared >= 50, "only {compared} files compared");
}
