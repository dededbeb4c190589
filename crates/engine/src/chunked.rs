//! Chunk-parallel walking of a mapped input (see the crate docs).

use crate::sink::{Collector, Sink};
use crate::{mapped_serial, Options, Walked};
use rdbscope_rdb::{Header, Rdb};

/// Walks `bytes` with `opts.threads` threads.
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk<S, C, F>(
    bytes: &[u8],
    rdb: &Rdb<'_>,
    opts: &Options,
    release: &dyn Fn(u64),
    on_progress: &mut dyn FnMut(u64),
    make_sink: &F,
    collector: &mut C,
    walked: &mut Walked,
) where
    S: Sink,
    C: Collector<S::Chunk>,
    F: Fn(&Header) -> S + Sync,
{
    let mut sink = make_sink(&rdb.header());
    mapped_serial(
        bytes,
        rdb.resume_state(),
        u64::MAX,
        opts.chunk_size.max(1) as u64,
        release,
        on_progress,
        &mut sink,
        collector,
        walked,
    );
}
