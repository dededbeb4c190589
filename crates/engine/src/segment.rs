//! One run of records fed to a sink: the step every walk is made of.

use crate::sink::{At, Flow, Sink};
use rdbscope_rdb::{Eof, Error, Record, Records, Resume};

/// Why a segment ended.
pub(crate) enum SegEnd {
    /// The next record starts at or past the limit.
    Limit,
    /// The sink said stop.
    Stopped,
    /// The next record is broken (or, over a window, runs past its end).
    Error(Error),
    /// The next record is the EOF record (not given to the sink).
    Eof(Eof, At),
}

/// Walks records from `state` over `data` (whose first byte is at
/// `state.offset`) while they start before `limit`, giving each to `sink`.
/// Returns the state at the first record not given to the sink.
pub(crate) fn segment<S: Sink>(
    data: &[u8],
    state: &Resume,
    limit: u64,
    sink: &mut S,
) -> (Resume, SegEnd) {
    let mut recs = Records::resume(data, state);
    loop {
        let at = recs.offset();
        if at >= limit {
            return (recs.suspend(at), SegEnd::Limit);
        }
        match recs.next() {
            None => return (recs.suspend(at), SegEnd::Limit),
            Some(Err(e)) => return (recs.suspend(at), SegEnd::Error(e)),
            Some(Ok(Record::Eof(eof))) => {
                let where_ = At {
                    offset: at,
                    end: recs.offset(),
                    db: recs.db(),
                };
                return (recs.suspend(at), SegEnd::Eof(eof, where_));
            }
            Some(Ok(r)) => {
                let where_ = At {
                    offset: at,
                    end: recs.offset(),
                    db: recs.db(),
                };
                if sink.record(&r, &where_) == Flow::Stop {
                    return (recs.suspend(where_.end), SegEnd::Stopped);
                }
            }
        }
    }
}
