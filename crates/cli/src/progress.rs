//! Progress on stderr for long jobs: only when stderr is a terminal (never
//! in pipes, logs or CI), only for inputs big enough to take a while, and
//! updated by whole percents so the walk pays next to nothing for it.

use std::io::{IsTerminal, Write};

/// Inputs smaller than this finish too fast to need a progress line.
const MIN_SIZE: u64 = 64 << 20;

pub struct Progress {
    name: String,
    total: u64,
    /// Offset at which the next update is due (u64::MAX: disabled).
    next: u64,
    shown: bool,
}

impl Progress {
    pub fn new(name: &str, total: u64) -> Progress {
        let on = !crate::options::quiet() && total >= MIN_SIZE && std::io::stderr().is_terminal();
        Progress {
            name: name.to_string(),
            total,
            next: if on { 0 } else { u64::MAX },
            shown: false,
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
