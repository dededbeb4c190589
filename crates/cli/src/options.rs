//! The shared options' wiring (their meaning lives in `rdbscope-select`):
//! usage errors for filters and outputs, `--quiet`, and the signal handler
//! that removes temporary output files when the run is interrupted.

use crate::report::Outcome;
use rdbscope_aof::Opened;
use rdbscope_select::{KeyFilter, KeyFilterArgs, Output, OutputArgs};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet` was given: no progress, no notes.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Applies the process-wide parts of the output options: `--quiet`, and
/// for a file output, the handler that removes its temporary file on
/// SIGINT/SIGTERM.
pub fn setup(a: &OutputArgs) {
    QUIET.store(a.quiet, Ordering::Relaxed);
    if a.output.as_ref().is_some_and(|p| p.as_os_str() != "-") {
        remove_temp_files_on_signal();
    }
}

/// A thread waits for SIGINT or SIGTERM, removes every temporary output
/// file, and ends the process by the same signal (so the shell reports
/// 130 or 143, and a parent sees how the child died).
#[cfg(unix)]
fn remove_temp_files_on_signal() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            // Held until the process ends: nothing is renamed into place
            // after this.
            let _held = rdbscope_select::output::remove_temp_files();
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            std::process::exit(128 + sig);
        }
    });
}

/// Elsewhere, Ctrl-C ends the process without cleanup (a stray temporary
/// file may stay; the target is never partial).
#[cfg(not(unix))]
fn remove_temp_files_on_signal() {}

/// The key filter, or a usage error.
pub fn key_filter(a: &KeyFilterArgs) -> Result<KeyFilter, Outcome> {
    KeyFilter::new(a).map_err(|e| {
        eprintln!("rdbscope: {e}");
        Outcome::Failure
    })
}

/// Standard input can be read once: given as more than one of `inputs` it
/// is a usage error (exit 2), told before anything is read. (Read twice,
/// two readers took turns on the one stream, and `check - -` reported a
/// sound file as broken.)
pub fn stdin_once(command: &str, inputs: &[PathBuf]) -> Result<(), Outcome> {
    if inputs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        eprintln!("rdbscope: {command}: only one input can be standard input");
        return Err(Outcome::Failure);
    }
    Ok(())
}

/// The output, or a usage error (exit 2).
pub fn open_output(a: &OutputArgs, inputs: &[&Path]) -> Result<Output, Outcome> {
    Output::open(a, inputs).map_err(|e| {
        eprintln!("rdbscope: {e}");
        Outcome::Failure
    })
}

/// The inputs, and the files that the AOF manifests among them list (an
/// output must be none of them). Manifests are small files and
/// directories hold them; other inputs are not opened here.
pub fn with_aof_parts(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut all = inputs.to_vec();
    for path in inputs {
        let small_file = || {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.len() <= 1 << 20)
        };
        if path.as_os_str() == "-" || !(path.is_dir() || small_file()) {
            continue;
        }
        if let Ok(Opened::Aof(aof)) = rdbscope_aof::open(path) {
            all.extend(aof.parts().iter().map(|p| p.path.to_path_buf()));
        }
    }
    all
}

/// Moves a finished output into place when `outcome` says the run
/// produced it whole; else drops it (a file output is then removed).
pub fn finish_output(out: Output, outcome: Outcome, keep_on_problem: bool) -> Outcome {
    let keep = match outcome {
        Outcome::Ok => true,
        Outcome::Problem => keep_on_problem,
        Outcome::Failure => false,
    };
    if !keep {
        if out.is_file() && !quiet() {
            eprintln!("rdbscope: note: output file not written");
        }
        return outcome;
    }
    match out.finish() {
        Ok(()) => outcome,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => outcome,
        Err(e) => {
            eprintln!("rdbscope: write error: {e}");
            outcome.max(Outcome::Failure)
        }
    }
}

/// `filter` with the time the file was written (its `ctime` aux field) as
/// the default `--now`. The aux fields come first in an RDB, so `head` (the
/// input's first bytes) holds them; chunks walked on other threads never
/// see them, hence this is settled before the walk.
pub fn settle_file_time(filter: KeyFilter, head: &[u8]) -> KeyFilter {
    let Ok(rdb) = rdbscope_rdb::Rdb::new(head) else {
        return filter;
    };
    let mut select = rdbscope_select::RecordFilter::new(filter, true);
    let mut records = rdb.records();
    while let Some(Ok(r)) = records.next() {
        match r {
            rdbscope_rdb::Record::Aux { .. } => {
                let _ = select.keep(&r);
            }
            _ => break,
        }
    }
    select.key_filter().clone()
}

/// Threads for `-j N`: N, else the number of CPUs (at least 1).
pub fn threads(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// The engine's settings from `-j` and `--ignore-checksum`.
pub fn engine(jobs: Option<usize>, common: &crate::args::CommonArgs) -> rdbscope_engine::Options {
    rdbscope_engine::Options {
        threads: threads(jobs),
        verify_checksum: !common.ignore_checksum,
        ..rdbscope_engine::Options::default()
    }
}
