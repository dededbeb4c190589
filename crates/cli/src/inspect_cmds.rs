//! `memory`, `stats`, `bigkeys` and `prefixes`: one walk each (see
//! `inspect.rs`), a sink from `rdbscope-inspect`, and its printer.

use crate::inspect::{run, start};
use crate::inspect_args::{
    BigkeysArgs, MemoryArgs, MemoryFormat, PrefixesArgs, RankBy, ReportArgs, StatsArgs, TableFormat,
};
use crate::report::Outcome;
use rdbscope_engine::Flow;
use rdbscope_inspect::bigkeys::{BigKeys, BigKeysSink, Top};
use rdbscope_inspect::csv::{write_memory_csv, write_memory_jsonl, MEMORY_COLUMNS};
use rdbscope_inspect::prefixes::{Prefixes, PrefixesSink};
use rdbscope_inspect::print::BigKeysView;
use rdbscope_inspect::stats::{About, Stats, StatsSink};
use rdbscope_inspect::walk::RowSink;
use rdbscope_inspect::KeyRow;
use std::io::{self, Write};

/// Ends a command: a write error is a failure (exit 2, nothing kept), a
/// damaged input a problem (exit 1, what was read kept).
fn finish(out: rdbscope_select::Output, written: io::Result<()>, problem: bool) -> Outcome {
    let outcome = match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
        Err(e) => {
            eprintln!("rdbscope: write error: {e}");
            Outcome::Failure
        }
        Ok(()) if problem => Outcome::Problem,
        Ok(()) => Outcome::Ok,
    };
    crate::options::finish_output(out, outcome, true)
}

/// `memory`'s sink: each chunk's rows rendered on its worker thread.
struct MemoryRows {
    jsonl: bool,
    buf: Vec<u8>,
}

impl RowSink for MemoryRows {
    type Chunk = Vec<u8>;

    fn row(&mut self, r: &KeyRow<'_>) {
        // Writing into a Vec cannot fail.
        let _ = if self.jsonl {
            write_memory_jsonl(&mut self.buf, r)
        } else {
            write_memory_csv(&mut self.buf, r)
        };
    }

    fn end(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// `memory --largest N`: the N biggest, by memory.
struct Largest(Top, usize);

impl RowSink for Largest {
    type Chunk = Top;

    fn row(&mut self, r: &KeyRow<'_>) {
        self.0.offer_row(r.memory, r);
    }

    fn end(&mut self) -> Top {
        std::mem::replace(&mut self.0, Top::new(self.1))
    }
}

pub fn memory(a: &MemoryArgs) -> Outcome {
    let (mut p, mut out) = match start(&a.input, &a.shared) {
        Ok(x) => x,
        Err(o) => return o,
    };
    if let Some(b) = a.bytes {
        let (lo, hi) = p.sel.memory_range.unwrap_or((0, u64::MAX));
        p.sel.memory_range = Some((lo.max(b), hi));
    }
    let jsonl = a.format == MemoryFormat::Jsonl;
    let mut written: io::Result<()> = if jsonl {
        Ok(())
    } else {
        writeln!(out, "{MEMORY_COLUMNS}")
    };
    let walked = match a.largest {
        None => run(
            &mut p,
            &a.shared,
            || MemoryRows {
                jsonl,
                buf: Vec::with_capacity(1 << 16),
            },
            &mut |chunk: Vec<u8>| {
                if written.is_ok() {
                    written = out.write_all(&chunk);
                }
                if written.is_ok() {
                    Flow::Continue
                } else {
                    Flow::Stop
                }
            },
        ),
        Some(n) => {
            let mut top = Top::new(n);
            let w = run(
                &mut p,
                &a.shared,
                || Largest(Top::new(n), n),
                &mut |t: Top| {
                    top.merge(t);
                    Flow::Continue
                },
            );
            for e in top.sorted() {
                if written.is_err() {
                    break;
                }
                let row = e.as_row();
                written = if jsonl {
                    write_memory_jsonl(&mut out, &row)
                } else {
                    write_memory_csv(&mut out, &row)
                };
            }
            w
        }
    };
    finish(out, written, walked.problem)
}

pub fn stats(a: &StatsArgs) -> Outcome {
    let (mut p, mut out) = match start(&a.input, &a.shared) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let now = p.now_ms;
    let mut stats = Stats::new(now);
    let walked = run(
        &mut p,
        &a.shared,
        || StatsSink::new(now),
        &mut |s: Stats| {
            stats.merge(s);
            Flow::Continue
        },
    );
    stats.header = walked.header;
    let estimated_for = p.estimated_for();
    let about = About {
        file: &p.name,
        size: walked.size,
        estimated_for,
        allocator: p.allocator_name(),
    };
    let written = match a.format {
        TableFormat::Table => stats.write_table(&mut out, &about),
        TableFormat::Json => stats.write_json(&mut out, &about),
        TableFormat::Csv => stats.write_csv(&mut out),
    };
    finish(out, written, walked.problem)
}

pub fn bigkeys(a: &BigkeysArgs) -> Outcome {
    let (mut p, mut out) = match start(&a.input, &a.shared) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let n = a.top;
    let mut all = BigKeys::new(n);
    let walked = run(
        &mut p,
        &a.shared,
        || BigKeysSink::new(n),
        &mut |b: BigKeys| {
            all.merge(b);
            Flow::Continue
        },
    );
    let view = BigKeysView {
        by_memory: a.by != RankBy::Elements,
        by_elements: a.by != RankBy::Memory,
        per_type: a.per_type,
    };
    if a.format == TableFormat::Table && !crate::options::quiet() {
        eprintln!(
            "rdbscope: memory estimated for {} ({}), from {}",
            p.estimated_for(),
            p.allocator_name(),
            p.server_from
        );
    }
    let written = match a.format {
        TableFormat::Table => all.write_table(&mut out, view),
        TableFormat::Json => all.write_json(&mut out, view),
        TableFormat::Csv => all.write_csv(&mut out, view),
    };
    finish(out, written, walked.problem)
}

pub fn prefixes(a: &PrefixesArgs) -> Outcome {
    if a.prefix.separator.is_empty() {
        eprintln!("rdbscope: --separator must not be empty");
        return Outcome::Failure;
    }
    if a.prefix.depth == 0 {
        eprintln!("rdbscope: --depth must be at least 1");
        return Outcome::Failure;
    }
    let (mut p, mut out) = match start(&a.input, &a.shared) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let empty = Prefixes::new(
        a.prefix.separator.as_bytes(),
        a.prefix.depth,
        a.prefix.max_prefixes,
    );
    let mut all = empty.clone();
    let walked = run(
        &mut p,
        &a.shared,
        || PrefixesSink::new(empty.clone()),
        &mut |part: Prefixes| {
            all.merge(part);
            Flow::Continue
        },
    );
    let written = match a.format {
        TableFormat::Table => all.write_table(&mut out, a.top),
        TableFormat::Json => all.write_json(&mut out, a.top),
        TableFormat::Csv => all.write_csv(&mut out, a.top),
    };
    finish(out, written, walked.problem)
}

/// `report`'s sink: the three aggregates of the page, in one walk.
struct Everything {
    stats: StatsSink,
    big: BigKeysSink,
    prefixes: PrefixesSink,
}

impl RowSink for Everything {
    type Chunk = (Stats, BigKeys, Prefixes);

    fn row(&mut self, r: &KeyRow<'_>) {
        self.stats.row(r);
        self.big.row(r);
        self.prefixes.row(r);
    }

    fn other(&mut self, record: &rdbscope_rdb::Record<'_>, db: u64) {
        self.stats.other(record, db);
    }

    fn end(&mut self) -> Self::Chunk {
        (self.stats.end(), self.big.end(), self.prefixes.end())
    }
}

pub fn report(a: &ReportArgs) -> Outcome {
    if a.prefix.separator.is_empty() || a.prefix.depth == 0 {
        eprintln!("rdbscope: --separator must not be empty and --depth at least 1");
        return Outcome::Failure;
    }
    if a.shared.output.output.is_none() {
        eprintln!(
            "rdbscope: report writes an HTML page: give -o FILE.html (or -o - for standard output)"
        );
        return Outcome::Failure;
    }
    let (mut p, mut out) = match start(&a.input, &a.shared) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let now = p.now_ms;
    let n = a.top;
    let empty = Prefixes::new(
        a.prefix.separator.as_bytes(),
        a.prefix.depth,
        a.prefix.max_prefixes,
    );
    let mut stats = Stats::new(now);
    let mut big = BigKeys::new(n);
    let mut prefixes = empty.clone();
    let walked = run(
        &mut p,
        &a.shared,
        || Everything {
            stats: StatsSink::new(now),
            big: BigKeysSink::new(n),
            prefixes: PrefixesSink::new(empty.clone()),
        },
        &mut |(s, b, pre): (Stats, BigKeys, Prefixes)| {
            stats.merge(s);
            big.merge(b);
            prefixes.merge(pre);
            Flow::Continue
        },
    );
    stats.header = walked.header;
    let about = About {
        file: &p.name,
        size: walked.size,
        estimated_for: p.estimated_for(),
        allocator: p.allocator_name(),
    };
    let generated_at = {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut v = Vec::new();
        let _ = rdbscope_inspect::csv::write_utc_ms(&mut v, ms);
        String::from_utf8_lossy(&v).into_owned()
    };
    let page = rdbscope_inspect::html::Report {
        about: &about,
        stats: &stats,
        bigkeys: &big,
        prefixes: &prefixes,
        generated_at,
    };
    let written = rdbscope_inspect::html::write_report(&mut out, &page);
    finish(out, written, walked.problem)
}

pub fn export(a: &crate::inspect_args::ExportArgs) -> Outcome {
    crate::export::run_export(a)
}
