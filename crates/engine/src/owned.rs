//! Records already held in memory (a replayed AOF's dataset) walked the
//! way files are: the work per record is a [`RecordSink`] on any thread,
//! the results come together in input order in a [`Collector`] on the
//! calling thread.
//!
//! The calling thread takes records from the iterator into batches of
//! about [`crate::default_chunk_size`] bytes (by [`OwnedRecord`] heap
//! size) and hands them to the workers; batch values are collected in
//! order through a bounded window (at most two batches per worker in
//! flight), so what is in flight is a few batches whatever the dataset's
//! size. With one thread, the sink runs on the calling thread.

use crate::json::RecordSink;
use crate::sink::{Collector, Flow};
use crate::{guarded, raise, receive, Panic};
use rdbscope_rdb::OwnedRecord;
use std::collections::BTreeMap;
use std::sync::{mpsc, Mutex};

/// How a walk of owned records ended.
#[derive(Debug, Default)]
pub struct OwnedWalked {
    /// Records given to a sink.
    pub records: u64,
    /// A sink or the collector said stop.
    pub stopped: bool,
}

fn weight(r: &OwnedRecord) -> usize {
    match r {
        OwnedRecord::Key(k) => k.heap_bytes(),
        _ => 64,
    }
}

/// Fills `batch` with about `bytes` of records; false once `records` is over.
fn fill(
    records: &mut dyn Iterator<Item = OwnedRecord>,
    batch: &mut Vec<OwnedRecord>,
    bytes: usize,
) -> bool {
    let mut held = 0;
    while held < bytes {
        match records.next() {
            None => return false,
            Some(r) => {
                held += weight(&r);
                batch.push(r);
            }
        }
    }
    true
}

/// What a worker made of one batch.
struct Done<T> {
    index: usize,
    value: T,
    records: u64,
    stopped: bool,
    /// The batch's vector, emptied, back for the next one.
    batch: Vec<OwnedRecord>,
}

fn run<S: RecordSink>(sink: &mut S, mut batch: Vec<OwnedRecord>, index: usize) -> Done<S::Chunk> {
    let mut records = 0;
    let mut stopped = false;
    for r in batch.drain(..) {
        records += 1;
        if sink.record(r) == Flow::Stop {
            stopped = true;
            break;
        }
    }
    batch.clear();
    Done {
        index,
        value: sink.end(),
        records,
        stopped,
        batch,
    }
}

/// Walks `records` with `threads` threads (see the module docs).
pub fn walk_owned<S, C, F>(
    records: &mut dyn Iterator<Item = OwnedRecord>,
    threads: usize,
    make_sink: F,
    collector: &mut C,
) -> OwnedWalked
where
    S: RecordSink,
    C: Collector<S::Chunk>,
    F: Fn() -> S + Sync,
{
    let bytes = crate::default_chunk_size();
    let mut walked = OwnedWalked::default();
    let mut settle = |d: Done<S::Chunk>, walked: &mut OwnedWalked| -> bool {
        walked.records += d.records;
        let flow = collector.collect(d.value);
        if d.stopped || flow == Flow::Stop {
            walked.stopped = true;
            return false;
        }
        true
    };
    if threads <= 1 {
        let mut sink = make_sink();
        let mut batch = Vec::new();
        loop {
            let more = fill(records, &mut batch, bytes);
            let mut done = run(&mut sink, std::mem::take(&mut batch), 0);
            batch = std::mem::take(&mut done.batch);
            if !settle(done, &mut walked) || !more {
                return walked;
            }
        }
    }
    let panicked: Panic = Mutex::new(None);
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Vec<OwnedRecord>)>(threads);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done<S::Chunk>>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (work_rx, done_tx, panicked, make_sink) =
                (&work_rx, done_tx.clone(), &panicked, &make_sink);
            scope.spawn(move || {
                guarded(panicked, || {
                    let mut sink = make_sink();
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok((index, batch)) = next else { return };
                        if done_tx.send(run(&mut sink, batch, index)).is_err() {
                            return;
                        }
                    }
                })
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<usize, Done<S::Chunk>> = BTreeMap::new();
        let mut spare: Vec<Vec<OwnedRecord>> = Vec::new();
        let (mut sent, mut next) = (0usize, 0usize);
        let mut over = false;
        let mut left = true;
        // Collects what has arrived, in order; waits for one result when
        // `wait`. `None`: a worker panicked; `Some(false)`: stop.
        let mut take = |wait: bool,
                        pending: &mut BTreeMap<usize, Done<S::Chunk>>,
                        spare: &mut Vec<Vec<OwnedRecord>>,
                        next: &mut usize,
                        walked: &mut OwnedWalked|
         -> Option<bool> {
            let first = if wait {
                Some(receive(&done_rx, &panicked)?)
            } else {
                done_rx.try_recv().ok()
            };
            for d in first
                .into_iter()
                .chain(std::iter::from_fn(|| done_rx.try_recv().ok()))
            {
                pending.insert(d.index, d);
            }
            while let Some(mut d) = pending.remove(next) {
                *next += 1;
                spare.push(std::mem::take(&mut d.batch));
                if !settle(d, walked) {
                    return Some(false);
                }
            }
            Some(true)
        };
        while left && !over {
            let mut batch = spare.pop().unwrap_or_default();
            left = fill(records, &mut batch, bytes);
            if !batch.is_empty() {
                if work_tx.send((sent, batch)).is_err() {
                    break;
                }
                sent += 1;
            }
            while sent - next >= 2 * threads && !over {
                if take(true, &mut pending, &mut spare, &mut next, &mut walked) != Some(true) {
                    over = true;
                }
            }
            if !over && take(false, &mut pending, &mut spare, &mut next, &mut walked) != Some(true)
            {
                over = true;
            }
        }
        drop(work_tx);
        // The batches still out, in order.
        while !over && next < sent {
            if take(true, &mut pending, &mut spare, &mut next, &mut walked) != Some(true) {
                over = true;
            }
        }
    });
    raise(panicked);
    walked
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdbscope_rdb::{OwnedKey, OwnedValue};

    struct Count(Vec<u64>);
    impl RecordSink for Count {
        type Chunk = Vec<u64>;
        fn record(&mut self, r: OwnedRecord) -> Flow {
            if let OwnedRecord::Key(k) = r {
                self.0.push(k.db);
            }
            Flow::Continue
        }
        fn end(&mut self) -> Vec<u64> {
            std::mem::take(&mut self.0)
        }
    }
    struct All(Vec<u64>);
    impl Collector<Vec<u64>> for All {
        fn collect(&mut self, v: Vec<u64>) -> Flow {
            self.0.extend(v);
            Flow::Continue
        }
    }

    #[test]
    fn records_come_back_in_order_with_any_number_of_threads() {
        let make = |n: u64| {
            (0..n).map(|i| {
                OwnedRecord::Key(OwnedKey {
                    db: i,
                    key: vec![b'x'; 4096].into(),
                    expire_at_ms: None,
                    idle_s: None,
                    freq: None,
                    encoding: "raw",
                    key_meta: None,
                    value: OwnedValue::String(vec![0; 4096].into()),
                })
            })
        };
        for threads in [1, 2, 3] {
            let mut all = All(Vec::new());
            let w = walk_owned(&mut make(5000), threads, || Count(Vec::new()), &mut all);
            assert_eq!(w.records, 5000);
            assert_eq!(all.0, (0..5000).collect::<Vec<_>>());
        }
    }
}
