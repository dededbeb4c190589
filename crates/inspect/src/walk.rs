//! The one walk every inspection command makes: the engine's records,
//! filtered by the shared key filters, turned into [`KeyRow`]s on the
//! engine's worker threads, each command supplying only what it does with
//! a row ([`RowSink`]) and how chunk results add up (its collector).

use crate::memory::Estimator;
use crate::row::{Inspector, KeyRow};
use rdbscope_engine::{At, Collector, Flow, Sink, Source, Walked};
use rdbscope_rdb::value::Scratch;
use rdbscope_rdb::{Header, Record};
use rdbscope_select::KeyFilter;

/// What a command does with the rows of one chunk.
pub trait RowSink: Send {
    /// What a chunk comes to.
    type Chunk: Send;
    /// One selected key.
    fn row(&mut self, row: &KeyRow<'_>);
    /// A record that is not a key (aux fields, functions, ...); `db` is
    /// the database selected there.
    fn other(&mut self, record: &Record<'_>, db: u64) {
        let _ = (record, db);
    }
    /// The chunk is over.
    fn end(&mut self) -> Self::Chunk;
}

/// How rows are chosen and estimated.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The shared key filters (with their `--min-size`/`--max-size` on the
    /// stored size, unless `memory_range` is given).
    pub filter: KeyFilter,
    /// `--size-by memory`: keep keys whose estimated memory is in this
    /// inclusive range.
    pub memory_range: Option<(u64, u64)>,
    /// The estimator (cloned per thread).
    pub estimator: Estimator,
    /// Cap on decompressed keys and values.
    pub max_value_size: u64,
}

struct Adapter<R> {
    sink: R,
    filter: KeyFilter,
    memory_range: Option<(u64, u64)>,
    inspector: Inspector,
    error: Option<rdbscope_rdb::Error>,
}

impl<R: RowSink> Sink for Adapter<R> {
    type Chunk = (R::Chunk, Option<rdbscope_rdb::Error>);

    fn record(&mut self, r: &Record<'_>, at: &At) -> Flow {
        let k = match r {
            Record::Key(k) => k,
            other => {
                self.sink.other(other, at.db);
                return Flow::Continue;
            }
        };
        // The cheap facts first; the key's bytes, when a filter needs
        // them, are decoded once, by the inspector, for both.
        let f = &self.filter;
        if !f.matches_meta(
            k.db,
            k.value.key_type(),
            k.expire_at_ms,
            k.value.raw().len() as u64,
        ) {
            return Flow::Continue;
        }
        let needs_key = f.needs_key();
        match self
            .inspector
            .row_if(k, |key| !needs_key || f.matches_key(key))
        {
            Ok(Some(row)) => {
                if let Some((lo, hi)) = self.memory_range {
                    if row.memory < lo || row.memory > hi {
                        return Flow::Continue;
                    }
                }
                self.sink.row(&row);
                Flow::Continue
            }
            Ok(None) => Flow::Continue,
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    fn end(&mut self) -> Self::Chunk {
        (self.sink.end(), self.error.take())
    }
}

struct Collect<'c, C> {
    collect: &'c mut C,
    header: Option<Header>,
    error: Option<rdbscope_rdb::Error>,
}

impl<T, C: FnMut(T) -> Flow> Collector<(T, Option<rdbscope_rdb::Error>)> for Collect<'_, C> {
    fn header(&mut self, header: &Header) -> Flow {
        self.header = Some(*header);
        Flow::Continue
    }

    fn collect(&mut self, (chunk, error): (T, Option<rdbscope_rdb::Error>)) -> Flow {
        let flow = (self.collect)(chunk);
        if error.is_some() {
            self.error = error;
            return Flow::Stop;
        }
        flow
    }
}

/// How a walk ended.
#[derive(Debug)]
pub struct Ended {
    /// The engine's account (header, EOF, size, read or decode error).
    pub walked: Walked,
    /// An error met while estimating a selected key (the engine's own
    /// decode errors are in `walked.error`); the earliest in the file.
    pub error: Option<rdbscope_rdb::Error>,
}

/// Walks `source`: every selected key becomes a row for a sink made by
/// `make` (one per thread), and each chunk's result goes to `collect` in
/// file order, on the calling thread.
pub fn walk<R, M, C>(
    source: Source<'_>,
    opts: &rdbscope_engine::Options,
    on_progress: &mut dyn FnMut(u64),
    sel: &Selection,
    make: M,
    collect: &mut C,
) -> Ended
where
    R: RowSink,
    M: Fn() -> R + Sync,
    C: FnMut(R::Chunk) -> Flow,
{
    let mut collector = Collect {
        collect,
        header: None,
        error: None,
    };
    let walked = rdbscope_engine::walk(
        source,
        opts,
        on_progress,
        |_h: &Header| Adapter {
            sink: make(),
            filter: sel.filter.clone(),
            memory_range: sel.memory_range,
            inspector: Inspector::new(
                sel.estimator.clone(),
                Scratch::with_limit(sel.max_value_size),
                sel.max_value_size,
            ),
            error: None,
        },
        &mut collector,
    );
    Ended {
        walked,
        error: collector.error,
    }
}
