//! `rdbscope check`: verify files, several at once: RDB files with
//! `rdbscope_check`, AOFs (a file, a manifest or an `appendonlydir`) with
//! `rdbscope_aof`; which is which is decided by content.

use crate::args::{CheckArgs, InfoFormat};
use crate::options;
use crate::progress::Progress;
use crate::report::Outcome;
use crate::source::{Kind, Streamed};
use rdbscope_aof::report::ReportWriter;
use rdbscope_aof::Aof;
use rdbscope_check::{check_source, Options};
use rdbscope_input::display_name;
use rdbscope_select::Output;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// One input's finished report, rendered.
struct Done {
    index: usize,
    text: Vec<u8>,
    outcome: Outcome,
}

pub fn run(a: &CheckArgs) -> Outcome {
    if let Err(outcome) = options::stdin_once("check", &a.inputs) {
        return outcome;
    }
    // `-j N` is the number of threads in all: files are checked N at a
    // time, and threads left over check the values of the files in hand.
    // `-j1` runs everything on one thread.
    let threads = crate::options::threads(a.jobs);
    let jobs = threads.min(a.inputs.len().max(1));
    let opts = Options {
        ignore_checksum: a.common.ignore_checksum,
        max_decompressed: a.common.max_value_size,
        threads: threads / jobs,
        ..Options::default()
    };
    // Check verifies every key: it takes no key filters.
    // The files an AOF lists matter only to refuse `-o` over one of them
    // (listing them costs memory per file of a manifest).
    let to_file = a
        .output
        .output
        .as_ref()
        .is_some_and(|p| p.as_os_str() != "-");
    let inputs = if to_file {
        options::with_aof_parts(&a.inputs)
    } else {
        a.inputs.clone()
    };
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let mut out = match options::open_output(&a.output, &inputs) {
        Ok(out) => out,
        Err(outcome) => return outcome,
    };
    let worst = check_all(a, jobs, &opts, &mut out);
    // A report of problems is a complete report: it is kept.
    options::finish_output(out, worst, true)
}

fn check_all(a: &CheckArgs, jobs: usize, opts: &Options, out: &mut Output) -> Outcome {
    let mut worst = Outcome::Ok;
    if jobs == 1 {
        // On the calling thread: one job needs no other (and a thread of
        // its own would reserve a malloc arena, which counts against a
        // `ulimit -v` the caller may run us under).
        for path in &a.inputs {
            // An AOF's report goes out file by file (a manifest may list
            // 100,000 files: no report is held whole).
            let (text, outcome) = check_one(path, opts, a.format, Some(&mut *out));
            worst = worst.max(outcome);
            if let Err(failed) = print_report(out, &text) {
                return worst.max(failed);
            }
        }
        return worst;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, inputs, format) = (&next, &a.inputs, a.format);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = inputs.get(index) else { break };
                let (text, outcome) = check_one(path, opts, format, None);
                if tx
                    .send(Done {
                        index,
                        text,
                        outcome,
                    })
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(tx);
        // Print in argument order as soon as each report is complete.
        let mut pending = BTreeMap::new();
        let mut printed = 0;
        for done in rx {
            pending.insert(done.index, done);
            while let Some(d) = pending.remove(&printed) {
                worst = worst.max(d.outcome);
                if let Err(failed) = print_report(out, &d.text) {
                    worst = worst.max(failed);
                    return;
                }
                printed += 1;
            }
        }
    });
    worst
}

/// Writes one input's report; on failure, the outcome it makes (a closed
/// pipe is the reader's choice, not an error).
fn print_report(out: &mut impl Write, text: &[u8]) -> Result<(), Outcome> {
    match out.write_all(text).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Outcome::Ok),
        Err(e) => {
            eprintln!("rdbscope: write error: {e}");
            Err(Outcome::Failure)
        }
    }
}

/// One input's report: returned, or for an AOF with `direct`, written
/// there as it is made.
fn check_one(
    path: &Path,
    opts: &Options,
    format: InfoFormat,
    direct: Option<&mut Output>,
) -> (Vec<u8>, Outcome) {
    let name = display_name(path);
    let opened = match crate::source::open_streaming(path) {
        Ok(Streamed::Aof(s)) => return check_aof_stream(s, &name, opts, format),
        Ok(Streamed::Other(kind)) => Ok(kind),
        Err(e) => Err(e),
    };
    let input = match opened {
        Ok(Kind::Rdb(i)) => i,
        Ok(Kind::Aof(aof)) => return check_aof(&aof, &name, opts, format, direct),
        Ok(Kind::Json(_)) => {
            let why = "a JSON dump: `check` reads RDB and AOF files (`dump` reads JSON back)";
            eprintln!("rdbscope: {name}: {why}");
            return (
                unreadable_json(&name, format, "usage", why),
                Outcome::Failure,
            );
        }
        Err(e) => {
            let outcome = e.report(&name);
            let (kind, why) = match &e {
                crate::source::OpenError::Io(e) => ("io", e.to_string()),
                crate::source::OpenError::Content(e) => ("read", e.to_string()),
            };
            return (unreadable_json(&name, format, kind, &why), outcome);
        }
    };
    let mut progress = Progress::for_input(&name, input.size(), input.progress());
    let report = input.with_source(|s| check_source(s, &name, opts, &mut |o| progress.at(o)));
    drop(progress);
    let mut text = Vec::new();
    let _ = match format {
        InfoFormat::Text => report.write_text(&mut text),
        InfoFormat::Json => report.write_json(&mut text),
    };
    let outcome = if report.is_ok() {
        Outcome::Ok
    } else {
        // The report on stdout has the details; stderr gets the one line a
        // script or a log collector needs.
        match &report.first_problem {
            Some(p) if report.problems > 1 => {
                eprintln!(
                    "rdbscope: {name}: {p} (and {} more problems)",
                    report.problems - 1
                )
            }
            Some(p) => eprintln!("rdbscope: {name}: {p}"),
            None => eprintln!(
                "rdbscope: {name}: offset {}: the file ends before its EOF record",
                report.size
            ),
        }
        Outcome::Problem
    };
    (text, outcome)
}

/// The JSON report of an input that could not be read at all, so that a
/// script filtering `.verdict` sees every argument: `"unreadable"` with
/// the error (the line on stderr says the same). Nothing in text mode:
/// stderr has it.
fn unreadable_json(name: &str, format: InfoFormat, kind: &str, why: &str) -> Vec<u8> {
    if format != InfoFormat::Json {
        return Vec::new();
    }
    let mut o = Vec::new();
    o.extend_from_slice(b"{\"file\":");
    let _ = rdbscope_json::write::write_bytes(&mut o, name.as_bytes());
    o.extend_from_slice(b",\"verdict\":\"unreadable\",\"error\":{\"kind\":");
    let _ = rdbscope_json::write::write_bytes(&mut o, kind.as_bytes());
    o.extend_from_slice(b",\"message\":");
    let _ = rdbscope_json::write::write_bytes(&mut o, why.as_bytes());
    o.extend_from_slice(b"}}\n");
    o
}

/// The AOF checker's options: the threads cut the command files; an RDB
/// base or preamble is checked on one.
fn aof_options(opts: &Options) -> rdbscope_aof::Options {
    rdbscope_aof::Options {
        rdb: Options {
            threads: 1,
            ..*opts
        },
        threads: opts.threads,
    }
}

/// An AOF: every file of it, with `redis-check-aof`'s verdicts.
fn check_aof(
    aof: &Aof,
    name: &str,
    opts: &Options,
    format: InfoFormat,
    direct: Option<&mut Output>,
) -> (Vec<u8>, Outcome) {
    let aof_opts = aof_options(opts);
    let mut text = Vec::new();
    let mut failed = None;
    let report = {
        let mut o: &mut dyn Write = match direct {
            Some(out) => out,
            None => &mut text,
        };
        let mut w = match format {
            InfoFormat::Text => ReportWriter::text(),
            InfoFormat::Json => ReportWriter::json(),
        };
        let manifest = rdbscope_aof::check::manifest_path(aof);
        let mut note = |r: io::Result<()>| {
            if let Err(e) = r {
                failed.get_or_insert(e);
            }
        };
        note(w.head(&mut o, name, aof.is_multi_part(), manifest.as_deref()));
        let ticker = crate::progress::Ticker::for_aof(name, aof);
        let report = rdbscope_aof::check::check_each(aof, name, &aof_opts, &mut |f| {
            note(w.file(&mut o, &f))
        });
        drop(ticker);
        note(w.tail(&mut o, &report));
        report
    };
    aof_outcome(&report, name, text, failed)
}

/// A single-file AOF arriving as a stream: read once, in bounded memory
/// (`rdbscope_aof::check::check_stream`); its report, written once it is
/// complete, is the one the same bytes give as a file. A stream that
/// breaks (a corrupt compressed input) is reported as an input that cannot
/// be read, as when it breaks within its first bytes.
fn check_aof_stream(
    mut s: crate::source::AofStream,
    name: &str,
    opts: &Options,
    format: InfoFormat,
) -> (Vec<u8>, Outcome) {
    let aof_opts = aof_options(opts);
    let mut files = Vec::new();
    let ticker = crate::progress::Ticker::for_stream(name, &s);
    let checked =
        rdbscope_aof::check::check_stream(&mut s.stream, &s.part, name, &aof_opts, &mut |f| {
            files.push(f)
        });
    drop(ticker);
    let mut report = match checked {
        Ok(r) => r,
        Err(e) => {
            let why = e.to_string();
            let outcome = crate::source::OpenError::Content(e).report(name);
            return (unreadable_json(name, format, "read", &why), outcome);
        }
    };
    report.files = files;
    let mut text = Vec::new();
    let written = match format {
        InfoFormat::Text => report.write_text(&mut text),
        InfoFormat::Json => report.write_json(&mut text),
    };
    aof_outcome(&report, name, text, written.err())
}

/// How an AOF's check ends, once its report is written (or writing it
/// `failed`): the one line on stderr for a problem.
fn aof_outcome(
    report: &rdbscope_aof::Report,
    name: &str,
    text: Vec<u8>,
    failed: Option<io::Error>,
) -> (Vec<u8>, Outcome) {
    if let Some(e) = failed {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return (text, Outcome::Ok);
        }
        eprintln!("rdbscope: write error: {e}");
        return (text, Outcome::Failure);
    }
    if report.is_ok() {
        return (text, Outcome::Ok);
    }
    match (&report.manifest_error, report.first_bad()) {
        (Some(e), _) => eprintln!("rdbscope: {name}: {e}"),
        (None, Some(f)) => {
            let what = f.problem.as_ref().map_or(String::new(), |p| {
                format!("offset {}: {}", p.offset, p.message)
            });
            // A single file is named once (a path, or `<stdin>` for `-`).
            if f.part.path.as_os_str() == name || &*f.part.name == name {
                eprintln!("rdbscope: {name}: {what}");
            } else {
                eprintln!("rdbscope: {name}: {}: {what}", f.part.name);
            }
        }
        (None, None) => {}
    }
    (text, Outcome::Problem)
}
