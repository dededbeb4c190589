//! Progress on stderr for long jobs: only when stderr is a terminal (never
//! in pipes, logs or CI) and not with `--quiet`.
//!
//! * A mapped file: for inputs big enough to take a while, updated by whole
//!   percents so the walk pays next to nothing for it.
//! * A stream (standard input, a pipe, a compressed file): the raw bytes
//!   read so far and the rate, and where the raw size is known (a
//!   compressed file) a percentage and the time left; updated a few times
//!   a second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Inputs smaller than this finish too fast to need a progress line.
const MIN_SIZE: u64 = 64 << 20;

/// How often a stream's line is redrawn.
const EVERY: Duration = Duration::from_millis(250);

pub struct Progress {
    name: String,
    total: u64,
    /// Offset at which the next update is due (u64::MAX: disabled).
    next: u64,
    shown: bool,
    /// A stream's raw-byte counter; `None` for a mapped file.
    stream: Option<rdbscope_input::Progress>,
    start: Instant,
    last: Instant,
}

fn enabled() -> bool {
    !crate::options::quiet() && std::io::stderr().is_terminal()
}

impl Progress {
    /// Progress through a mapped input of `total` bytes.
    pub fn new(name: &str, total: u64) -> Progress {
        let on = total >= MIN_SIZE && enabled();
        Progress {
            name: name.to_string(),
            total,
            next: if on { 0 } else { u64::MAX },
            shown: false,
            stream: None,
            start: Instant::now(),
            last: Instant::now(),
        }
    }

    /// Progress of an input: by offset for a mapped one (`size`), by raw
    /// bytes read for a stream.
    pub fn for_input(name: &str, size: Option<u64>, raw: rdbscope_input::Progress) -> Progress {
        match size {
            Some(total) => Progress::new(name, total),
            None => {
                let on = enabled() && raw.total().is_none_or(|t| t >= MIN_SIZE / 4);
                Progress {
                    name: name.to_string(),
                    total: 0,
                    next: if on { 0 } else { u64::MAX },
                    shown: false,
                    stream: Some(raw),
                    start: Instant::now(),
                    last: Instant::now(),
                }
            }
        }
    }

    /// Reports that the walk reached `offset`.
    #[inline]
    pub fn at(&mut self, offset: u64) {
        if offset >= self.next {
            self.update(offset);
        }
    }

    #[cold]
    fn update(&mut self, offset: u64) {
        if let Some(raw) = &self.stream {
            let now = Instant::now();
            if self.shown && now.duration_since(self.last) < EVERY {
                return;
            }
            self.last = now;
            let read = raw.bytes_read();
            let secs = now.duration_since(self.start).as_secs_f64().max(1e-3);
            let rate = read as f64 / secs;
            let mut line = format!(
                "\r{}: {} MB read, {:.0} MB/s",
                self.name,
                read >> 20,
                rate / 1e6
            );
            if let (Some(f), Some(total)) = (raw.fraction(), raw.total()) {
                let left = total.saturating_sub(read) as f64 / rate.max(1.0);
                line += &format!(
                    ", {:>3.0}% of {} MB, {:.0} s left",
                    f * 100.0,
                    total >> 20,
                    left
                );
            }
            eprint!("{line}   ");
            let _ = std::io::stderr().flush();
            self.shown = true;
            return;
        }
        let pct = offset.saturating_mul(100) / self.total.max(1);
        eprint!(
            "\r{}: {pct:>3}% ({} of {} MB)",
            self.name,
            offset >> 20,
            self.total >> 20
        );
        let _ = std::io::stderr().flush();
        self.shown = true;
        self.next = (pct + 1) * self.total / 100;
    }
}

impl Drop for Progress {
    /// Clears the line so that messages after it start clean.
    fn drop(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}

/// A progress line kept up by a thread of its own, for walks that report
/// no offsets (the AOF commands): a few times a second it reads the input's
/// own counter, the offset released behind the walk for a mapped file or
/// the raw bytes read for a stream. Nothing runs unless the line is shown
/// (stderr a terminal, no `--quiet`, a big enough input). Dropping it ends
/// the thread and clears the line.
pub struct Ticker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    /// Starts showing the progress of an input of `size` bytes (`None`: a
    /// stream) whose counter is `raw`.
    pub fn start(name: &str, size: Option<u64>, raw: rdbscope_input::Progress) -> Ticker {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let mut p = Progress::for_input(name, size, raw.clone());
        let thread = (p.next != u64::MAX).then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    p.at(raw.bytes_read());
                    std::thread::park_timeout(EVERY);
                }
            })
        });
        Ticker { stop, thread }
    }

    /// For an AOF opened already: a single file's progress. A manifest's
    /// files are opened one by one where they are read, and show none.
    pub fn for_aof(name: &str, aof: &rdbscope_aof::Aof) -> Ticker {
        match aof {
            rdbscope_aof::Aof::Single { input, .. } => {
                Ticker::start(name, Some(input.bytes().len() as u64), input.progress())
            }
            _ => Ticker {
                stop: Default::default(),
                thread: None,
            },
        }
    }

    /// For a single-file AOF arriving as a stream: the raw bytes read.
    pub fn for_stream(name: &str, s: &crate::source::AofStream) -> Ticker {
        Ticker::start(name, None, s.stream.progress())
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
