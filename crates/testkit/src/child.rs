//! A child process run for its peak memory (the streaming tests): its
//! outputs drained on threads while it runs, so that a full pipe never
//! blocks it, and its peak resident set from `wait4`'s resource usage.

use std::io::Read;
use std::process::Child;
use std::thread::JoinHandle;

/// The threads draining a child's stdout and stderr.
pub struct Outputs {
    out: JoinHandle<String>,
    err: JoinHandle<String>,
}

impl Outputs {
    /// The last 64 KiB or so of stdout (a dump writes gigabytes) and all
    /// of stderr, once the child has closed them.
    pub fn join(self) -> (String, String) {
        (
            self.out.join().expect("stdout reader"),
            self.err.join().expect("stderr reader"),
        )
    }
}

/// Starts draining `child`'s piped stdout and stderr (either may be
/// absent: then it reads as empty).
pub fn drain(child: &mut Child) -> Outputs {
    let out = child.stdout.take();
    let err = child.stderr.take();
    Outputs {
        out: std::thread::spawn(move || {
            let Some(mut out) = out else {
                return String::new();
            };
            let (mut tail, mut buf) = (Vec::new(), vec![0u8; 1 << 16]);
            while let Ok(n @ 1..) = out.read(&mut buf) {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 1 << 17 {
                    tail.drain(..tail.len() - (1 << 16));
                }
            }
            String::from_utf8_lossy(&tail).into_owned()
        }),
        err: std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut err) = err {
                let _ = err.read_to_string(&mut s);
            }
            s
        }),
    }
}

/// Waits for `child` with `wait4`: its exit code (-1 when a signal ended
/// it) and its peak resident set in KiB.
pub fn wait_peak(child: Child) -> (i32, i64) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: plain wait4 on our own child, with valid out-pointers; the
    // `Child` is not waited on afterwards.
    let (status, usage) = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        let r = libc::wait4(pid, &mut status, 0, &mut usage);
        assert_eq!(r, pid, "wait4");
        (status, usage)
    };
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

/// MiB of generated input for the long-stream tests: the
/// `RDBSCOPE_STREAM_TEST_MB` environment variable, or `default`.
pub fn stream_mb(default: u64) -> u64 {
    std::env::var("RDBSCOPE_STREAM_TEST_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a child fed on its standard input gave.
pub struct Fed<T> {
    /// What the feeding thread returned.
    pub fed: T,
    /// Exit code (-1 when a signal ended it).
    pub code: i32,
    /// Peak resident set, KiB.
    pub peak_kb: i64,
    /// The tail of stdout (empty when not piped).
    pub out: String,
    /// All of stderr (empty when not piped).
    pub err: String,
}

/// Runs `cmd` (its stdout and stderr as the caller set them) with its
/// stdin written by `feed` on a thread of its own, while its piped
/// outputs are drained ([`drain`]); then its exit code and peak resident
/// set ([`wait_peak`]). A feeder should stop quietly when a write fails:
/// the child may stop reading early.
pub fn run_fed<T: Send + 'static>(
    mut cmd: std::process::Command,
    feed: impl FnOnce(std::process::ChildStdin) -> T + Send + 'static,
) -> Fed<T> {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the command");
    let stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || feed(stdin));
    let outputs = drain(&mut child);
    let fed = writer.join().expect("the feeding thread");
    let (code, peak_kb) = wait_peak(child);
    let (out, err) = outputs.join();
    Fed {
        fed,
        code,
        peak_kb,
        out,
        err,
    }
}

/// Runs `cmd` with `stdin` written into its standard input on a thread of
/// its own (a write error is ignored: a command given a file, or one that
/// fails early, stops reading), and its stdout and stderr collected whole.
pub fn output_fed(mut cmd: std::process::Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the command");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for the command");
    writer.join().expect("the feeding thread");
    out
}

/// A fed child's standard input, gzip'd on the way when `gzip` (the gzip
/// stream is finished when the writer is dropped).
pub fn stdin_sink(stdin: std::process::ChildStdin, gzip: bool) -> Box<dyn std::io::Write> {
    if gzip {
        Box::new(flate2::write::GzEncoder::new(
            stdin,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(stdin)
    }
}
