//! The inspection commands' shared part: open an RDB, settle the server
//! and allocator the memory estimate is for, build the key selection, and
//! walk the file once on the engine with a command's [`RowSink`]. The
//! commands themselves (`memory`, `stats`, `bigkeys`, `prefixes`,
//! `report`, `export`) are consumers in `inspect_cmds.rs`.

use crate::inspect_args::{AllocatorArg, Shared, SizeBy};
use crate::progress::Progress;
use crate::report::Outcome;
use crate::source::{open, Kind, RdbInput};
use rdbscope_digest::{writer_aux, writer_from, RulesFrom, ServerVersion, WriterAux};
use rdbscope_engine::Flow;
use rdbscope_inspect::walk::{walk, RowSink, Selection};
use rdbscope_inspect::{Allocator, Estimator};
use rdbscope_rdb::{Flavor, Header};
use rdbscope_select::Output;
use std::path::Path;

/// An opened RDB and everything its walk needs.
pub(crate) struct Prepared {
    pub name: String,
    /// Taken by [`run`].
    pub input: Option<RdbInput>,
    pub sel: Selection,
    pub server: ServerVersion,
    /// Why that server (the aux field that named it, or `--server-version`).
    pub server_from: String,
    /// `--now`, else the file's ctime, else now.
    pub now_ms: i64,
    /// The file's `redis-ver` and `valkey-ver` aux values.
    pub redis_ver: Option<String>,
    pub valkey_ver: Option<String>,
}

impl Prepared {
    /// The estimate's description: `redis-7.0`.
    pub fn estimated_for(&self) -> String {
        self.server.to_string()
    }

    /// `jemalloc` or `libc`.
    pub fn allocator_name(&self) -> &'static str {
        match self.sel.estimator.allocator() {
            Allocator::Jemalloc => "jemalloc",
            Allocator::Libc => "libc",
        }
    }
}

/// Opens `path` as an RDB and settles the selection. AOF and JSON inputs
/// are refused with the way round.
pub(crate) fn prepare(path: &Path, shared: &Shared) -> Result<Prepared, Outcome> {
    let (est, common) = (&shared.estimate, &shared.common);
    let name = rdbscope_input::display_name(path);
    let mut keys = shared.keys.clone();
    let memory_range = match est.size_by {
        SizeBy::Stored => None,
        SizeBy::Memory => {
            let r = (
                keys.min_size.take().unwrap_or(0),
                keys.max_size.take().unwrap_or(u64::MAX),
            );
            Some(r)
        }
    };
    let filter = crate::options::key_filter(&keys)?;
    let input = match open(path) {
        Ok(Kind::Rdb(i)) => i,
        Ok(Kind::Aof(_)) => {
            eprintln!(
                "rdbscope: {name}: is an AOF; the inspection commands read RDB files: \
                 `rdbscope convert {name} dataset.rdb` first (it replays the AOF)"
            );
            return Err(Outcome::Failure);
        }
        Ok(Kind::Json(_)) => {
            eprintln!(
                "rdbscope: {name}: is a JSON dump; the memory estimate needs the stored \
                 encodings of an RDB: `rdbscope convert {name} dataset.rdb` first"
            );
            return Err(Outcome::Failure);
        }
        Err(e) => return Err(e.report(&name)),
    };
    let filter = crate::options::settle_file_time(filter, input.head());
    let now_ms = filter.now_ms();
    // The AUX fields that name the writer come first; a file too broken to
    // have them is reported by the walk.
    let w = writer_aux(input.head()).unwrap_or(WriterAux {
        header: Header {
            flavor: Flavor::Redis,
            version: 0,
        },
        redis_ver: None,
        valkey_ver: None,
    });
    let (written_by, from) = writer_from(w.header, w.redis_ver.as_deref(), w.valkey_ver.as_deref());
    let text = |v: Option<Vec<u8>>| v.map(|v| String::from_utf8_lossy(&v).into_owned());
    let (redis_ver, valkey_ver) = (text(w.redis_ver), text(w.valkey_ver));
    let (server, server_from) = match est.server_version {
        Some(v) => (v, "--server-version".to_string()),
        None => (
            written_by,
            match from {
                RulesFrom::Aux(s) => s,
                RulesFrom::RdbVersion(v) => format!("RDB version {v}, no redis-ver aux field"),
                RulesFrom::Given => "--server-version".into(),
                RulesFrom::Guessed(s) => s,
            },
        ),
    };
    let allocator = match est.allocator {
        AllocatorArg::Jemalloc => Allocator::Jemalloc,
        AllocatorArg::Libc => Allocator::Libc,
    };
    Ok(Prepared {
        name,
        input: Some(input),
        sel: Selection {
            filter,
            memory_range,
            estimator: Estimator::new(server, allocator),
            max_value_size: common.max_value_size,
        },
        server,
        server_from,
        now_ms,
        redis_ver,
        valkey_ver,
    })
}

/// [`prepare`], then the command's output (never over the input).
pub(crate) fn start(input: &Path, shared: &Shared) -> Result<(Prepared, Output), Outcome> {
    let p = prepare(input, shared)?;
    let out = crate::options::open_output(&shared.output, &[input])?;
    Ok((p, out))
}

/// How a walk went, for the command to report.
pub(crate) struct Walked {
    pub header: Option<Header>,
    pub size: u64,
    /// The file's problem, already printed (exit 1), if any.
    pub problem: bool,
}

/// Walks a prepared input with the sinks `make` makes, giving chunk
/// results to `collect` in file order. A decoding error is printed (the
/// caller still reports what was gathered before it).
pub(crate) fn run<R, M, C>(p: &mut Prepared, shared: &Shared, make: M, collect: &mut C) -> Walked
where
    R: RowSink,
    M: Fn() -> R + Sync,
    C: FnMut(R::Chunk) -> Flow,
{
    let engine = crate::options::engine(shared.estimate.jobs, &shared.common);
    let input = p.input.take().expect("an input walked once");
    let mut progress = Progress::for_input(&p.name, input.size(), input.progress());
    let sel = &p.sel;
    let ended =
        input.with_source(|s| walk(s, &engine, &mut |o| progress.at(o), sel, make, collect));
    drop(progress);
    let mut problem = false;
    if let Some(e) = ended.error {
        eprintln!("rdbscope: {}: {e}", p.name);
        problem = true;
    } else if let Some(e) = &ended.walked.error {
        eprintln!("rdbscope: {}: {e}", p.name);
        problem = true;
    }
    Walked {
        header: ended.walked.header,
        size: ended.walked.size,
        problem,
    }
}
