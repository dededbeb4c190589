//! A real `redis-server` for tests: finding the binary (and whether its
//! absence fails the test or skips it), and a server process on a free
//! loopback port in a directory of its own, killed when dropped.
//!
//! The tests talk to it with clients of their own (each needs different
//! replies); this module only runs the process.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `$env` if set (and only it, so that setting it to a missing path
/// exercises the skip and `REQUIRE_REDIS` paths), else `bin` on `$PATH`,
/// else the usual system directories.
pub fn find_bin(bin: &str, env: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(bin)).collect())
        .unwrap_or_default();
    candidates.extend(["/usr/bin", "/usr/local/bin", "/usr/sbin"].map(|d| Path::new(d).join(bin)));
    candidates.into_iter().find(|p| p.is_file())
}

/// The `redis-server` binary (see [`find_bin`]; `$REDIS_SERVER`). When
/// there is none, `test` fails if `REQUIRE_REDIS=1` (as CI sets) and is
/// skipped otherwise, with a notice on stderr.
pub fn redis_server(test: &str) -> Option<PathBuf> {
    let found = find_bin("redis-server", "REDIS_SERVER");
    if found.is_none() {
        assert!(
            std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
            "{test}: REQUIRE_REDIS=1 but no redis-server was found ($PATH, /usr/bin, /usr/local/bin, $REDIS_SERVER)"
        );
        crate::skipped(&format!(
            "{test}: no redis-server (set REDIS_SERVER; REQUIRE_REDIS=1 makes this an error)"
        ));
    }
    found
}

/// A `redis-server` child. Dropping it (also while unwinding from a failed
/// assertion) kills the server, and removes its directory if it made one.
pub struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    /// The directory made for it, if any: removed after the server is
    /// killed (fields drop after `Drop::drop`).
    _made: Option<crate::TempDir>,
    log: PathBuf,
    /// The loopback port it listens on.
    pub port: u16,
    /// Whether `--enable-debug-command yes` was given (servers before 7.0
    /// do not know the option, and allow DEBUG anyway).
    pub debug_command: bool,
}

impl RedisServer {
    /// Starts `bin` on a free loopback port, with `--dir dir` (a new
    /// temporary directory when `None`), `dump.rdb` as its file (loaded
    /// when it is there), no saving, no AOF, then `config` as `--name
    /// value` pairs (later options win, so these can override), and waits
    /// until it answers PING. A port taken between choosing and binding it
    /// means another try on another port.
    pub fn start(bin: &Path, dir: Option<&Path>, config: &[(&str, &str)]) -> RedisServer {
        let made = dir.is_none().then(|| crate::TempDir::new("redis-server"));
        let dir = dir.map_or_else(|| made.as_ref().unwrap().path.clone(), Path::to_path_buf);
        let mut server = RedisServer {
            child: None,
            log: dir.join("redis-server.log"),
            dir,
            _made: made,
            port: 0,
            debug_command: true,
        };
        let mut failures = String::new();
        for attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("find a free port")
                .port();
            let log = File::create(&server.log).expect("create the server log");
            let mut cmd = Command::new(bin);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .arg("--dir")
                .arg(&server.dir)
                .args([
                    "--dbfilename",
                    "dump.rdb",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--daemonize", "no", "--logfile", ""]);
            if server.debug_command {
                cmd.args(["--enable-debug-command", "yes"]);
            }
            for (k, v) in config {
                cmd.arg(format!("--{k}")).arg(v);
            }
            cmd.stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone().expect("log handle")))
                .stderr(Stdio::from(log));
            server.child = Some(
                cmd.spawn()
                    .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display())),
            );
            server.port = port;
            if server.wait_ready(Duration::from_secs(30)) {
                return server;
            }
            if let Some(mut c) = server.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            let text = server.log();
            failures.push_str(&format!("attempt {attempt} on port {port}:\n{text}\n"));
            if server.debug_command && text.contains("enable-debug-command") {
                server.debug_command = false;
            }
        }
        panic!("redis-server did not start:\n{failures}");
    }

    /// The server's directory (its `dump.rdb`, `appendonlydir`, ...).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Until it answers PING with PONG (not while it is still loading its
    /// file) or it exits.
    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                return false;
            }
            // A PONG proves a server is ready on the port, not that it is
            // ours: another test's server can hold a port this one chose
            // and then failed to bind (it exits, but maybe not before the
            // PING). Its `process_id` must be our child's.
            let pid = self.child.as_ref().map(Child::id);
            if ping(self.port) && pid.is_some() && process_id(self.port) == pid {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

/// One inline PING on a new connection.
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).is_ok() && line.starts_with("+PONG")
}

/// The `process_id` that `INFO server` reports on `port`.
fn process_id(port: u16) -> Option<u32> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n").ok()?;
    let mut r = BufReader::new(s);
    let mut header = String::new();
    r.read_line(&mut header).ok()?;
    let len: usize = header.strip_prefix('$')?.trim().parse().ok()?;
    let mut body = vec![0u8; len + 2];
    std::io::Read::read_exact(&mut r, &mut body).ok()?;
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|v| v.trim().parse().ok())
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
