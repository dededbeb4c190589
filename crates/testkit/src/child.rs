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
