//! What each layer of `check` and `dump` costs on one thread, measured
//! standalone on a real file, and the two-core floor that follows:
//!
//! ```sh
//! cargo bench -p rdbscope-harness --bench layers -- /tmp/rdbscope-bench-mixed-256M.rdb
//! ```
//!
//! Each layer is a whole pass over the file that does everything the
//! layer above it does plus one more thing, so the differences are the
//! cost of that one thing:
//!
//! 1. `walk`: the record walk alone (headers, lengths, skimming values),
//!    no CRC;
//! 2. `walk+crc`: the same with the CRC-64 (what `info` does);
//! 3. `+elements`: every value decoded element by element (LZF
//!    decompression, listpack/ziplist/intset/zipmap walks, stream entries),
//!    nothing done with the elements;
//! 4. `+fingerprints`: a fingerprint of every element, as duplicate
//!    detection takes them;
//! 5. `check values`: every value through the checker's rules (what
//!    `check` does per value, without key prints and the report);
//! 6. `+key prints`: the same with each key's fingerprint kept, as duplicate
//!    key detection takes them (what `check` does per key record);
//! 7. `json render`: every record rendered to JSON Lines in memory (what
//!    `dump` does, without the write and the CRC);
//! 8. `resp render`: every record rendered as RESP in memory.
//! 9. `commands render`: every record rendered as the plain commands of a
//!    Redis 7.0 AOF rewrite in memory (what `convert --to aof` does,
//!    without the write).
//!
//! The pages of the file are in the page cache (a warm-up pass runs
//! first); each figure is the median of RUNS (default 3) passes. The floor
//! on N cores is the CPU of the whole work divided by N, when every layer
//! runs in parallel over chunks of the file. Layers 5 and 6 include the
//! record walk and the CRC (each worker walks its own chunks); the
//! renders walk the records without the CRC, so its cost (layer 2 minus
//! layer 1) is added to theirs.

use rdbscope_check::dups::elem_fingerprint;
use rdbscope_check::keyprints::key_print;
use rdbscope_check::rules::ValueChecker;
use rdbscope_printer::json::{JsonPrinter, Layout};
use rdbscope_printer::resp::RespPrinter;
use rdbscope_rdb::{Error, KeyType, Rdb, Record, Scratch, Value};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: cargo bench -p rdbscope-harness --bench layers -- FILE.rdb");
        return;
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let file = std::fs::File::open(&path).expect("open the file");
    // SAFETY: read-only private mapping of a file nobody writes meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.expect("map the file");
    let bytes: &[u8] = &map;
    let mb = bytes.len() as f64 / 1e6;
    println!("{path}: {mb:.1} MB, {runs} runs each, one thread, medians");

    type Layer = fn(&[u8]) -> u64;
    let layers: [(&str, Layer); 9] = [
        ("walk", |b| walk(b, false, |_, _| 0)),
        ("walk+crc", |b| walk(b, true, |_, _| 0)),
        ("+elements", |b| walk(b, true, |v, s| elements(v, s, false))),
        ("+fingerprints", |b| {
            walk(b, true, |v, s| elements(v, s, true))
        }),
        ("check values", check_values),
        ("+key prints", check_keys),
        ("json render", json_render),
        ("resp render", resp_render),
        ("commands render", commands_render),
    ];
    let _ = walk(bytes, true, |_, _| 0); // warm the page cache
    let mut times = Vec::new();
    println!(
        "{:<16} {:>9} {:>10} {:>10}",
        "layer", "seconds", "MB/s", "delta s"
    );
    for (name, f) in layers {
        let mut t: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(f(bytes));
                start.elapsed().as_secs_f64()
            })
            .collect();
        t.sort_by(f64::total_cmp);
        let med = t[t.len() / 2];
        let delta = match name {
            "walk" | "check values" | "json render" | "resp render" | "commands render" => med,
            _ => med - times.last().copied().unwrap_or(0.0),
        };
        times.push(med);
        println!("{name:<16} {med:>9.3} {:>10.0} {delta:>10.3}", mb / med);
    }
    // check = the walk with the CRC, every value's rules and every key's
    // print (layer 6; the duplicate-key sort at the end is left out);
    // dump = rendering (which walks the records itself) plus the CRC.
    let crc = (times[1] - times[0]).max(0.0);
    let check = times[5];
    let dump = times[6] + crc;
    let resp = times[7] + crc;
    let commands = times[8] + crc;
    for (what, cpu) in [
        ("check", check),
        ("dump jsonl", dump),
        ("dump resp", resp),
        ("to aof", commands),
    ] {
        println!(
            "{what:<12} one-thread CPU {cpu:.3} s; two-core floor {:.3} s = {:.0} MB/s",
            cpu / 2.0,
            mb / (cpu / 2.0)
        );
    }
}

/// Walks every record, calling `per_value` on each key's value; returns
/// a number that depends on everything walked, so nothing is optimised
/// away.
fn walk(
    bytes: &[u8],
    crc: bool,
    mut per_value: impl FnMut(&Value<'_>, &mut Scratch) -> u64,
) -> u64 {
    let rdb = Rdb::new(bytes).expect("an RDB").verify_checksum(crc);
    let mut scratch = Scratch::new();
    let mut acc = 0u64;
    for r in rdb.records() {
        match r.expect("a valid file") {
            Record::Key(k) => acc = acc.wrapping_add(per_value(&k.value, &mut scratch)),
            Record::Eof(e) => assert!(e.checksum.is_ok() || !crc),
            _ => {}
        }
    }
    acc
}

/// Decodes every element of `v`; with `prints`, fingerprints each too.
fn elements(v: &Value<'_>, s: &mut Scratch, prints: bool) -> u64 {
    let mut acc = 0u64;
    let mut take = |e: rdbscope_rdb::Elem<'_>| {
        acc = acc.wrapping_add(if prints { elem_fingerprint(e) } else { 1 });
    };
    let r: Result<(), Error> = match v.key_type() {
        KeyType::String => v.string().and_then(|st| st.validate(s.limit())),
        KeyType::Module => v.module().map(drop),
        KeyType::List | KeyType::Set => v.for_each_member(s, |e| {
            take(e);
            Ok(())
        }),
        KeyType::ZSet => v.for_each_scored(s, |e, _| {
            take(e);
            Ok(())
        }),
        KeyType::Hash => v.for_each_field(s, |f, val, _| {
            take(f);
            take(val);
            Ok(())
        }),
        KeyType::Stream => v.stream().and_then(|st| {
            st.for_each_entry(s, |entry| {
                for (f, val) in entry.fields().flatten() {
                    take(f);
                    take(val);
                }
                Ok(())
            })
        }),
    };
    r.expect("a valid value");
    acc
}

fn check_values(bytes: &[u8]) -> u64 {
    let mut checker = ValueChecker::default();
    walk(bytes, true, |v, s| {
        checker.check_value(v, s).expect("a valid value").elements
    })
}

/// [`check_values`] with each key's print pushed, as `check`'s chunks keep
/// them (the list is cleared now and then, as chunks hand theirs over).
fn check_keys(bytes: &[u8]) -> u64 {
    let mut checker = ValueChecker::default();
    let rdb = Rdb::new(bytes).expect("an RDB").verify_checksum(true);
    let (mut scratch, mut key_buf) = (Scratch::new(), Vec::new());
    let mut prints: Vec<u64> = Vec::with_capacity(1 << 16);
    let mut acc = 0u64;
    for r in rdb.records() {
        if let Record::Key(k) = r.expect("a valid file") {
            let key = k
                .key
                .bytes_limited(&mut key_buf, scratch.limit())
                .expect("a key");
            prints.push(key_print(k.db, key));
            if prints.len() == 1 << 16 {
                acc = acc.wrapping_add(prints.iter().fold(0, |a, p| a ^ p));
                prints.clear();
            }
            acc = acc.wrapping_add(
                checker
                    .check_value(&k.value, &mut scratch)
                    .expect("a valid value")
                    .elements,
            );
        }
    }
    acc.wrapping_add(prints.len() as u64)
}

fn json_render(bytes: &[u8]) -> u64 {
    let rdb = Rdb::new(bytes).expect("an RDB");
    let mut p = JsonPrinter::in_memory(Vec::with_capacity(1 << 20), Layout::Lines, Scratch::new());
    let (mut written, mut n) = (0, 0u64);
    for r in rdb.records() {
        p.record(&r.expect("a valid file")).expect("renders");
        n += 1;
        // Hand the buffer over now and then, as the writer thread does.
        if n % 256 == 0 {
            let (buf, s) = p.into_buffer().expect("renders");
            written += buf.len() as u64;
            p = JsonPrinter::in_memory(reuse(buf), Layout::Lines, s);
        }
    }
    written
}

fn resp_render(bytes: &[u8]) -> u64 {
    let rdb = Rdb::new(bytes).expect("an RDB");
    let header = rdb.header();
    let mut p = RespPrinter::in_memory(Vec::with_capacity(1 << 20), &header);
    let (mut written, mut n) = (0, 0u64);
    for r in rdb.records() {
        p.record(&r.expect("a valid file")).expect("renders");
        n += 1;
        if n % 256 == 0 {
            let buf = p.into_buffer();
            written += buf.len() as u64;
            p = RespPrinter::in_memory(reuse(buf), &header);
        }
    }
    written
}

fn commands_render(bytes: &[u8]) -> u64 {
    let rdb = Rdb::new(bytes).expect("an RDB");
    let header = rdb.header();
    let restore = || rdbscope_printer::resp::Restore {
        target: None,
        drop_field_ttl: false,
        drop_functions: false,
        replace: false,
        commands: Some(rdbscope_printer::commands::Dialect::redis(7, 0)),
    };
    let mut p =
        RespPrinter::in_memory(Vec::with_capacity(1 << 20), &header).with_restore(restore());
    let (mut written, mut n) = (0, 0u64);
    for r in rdb.records() {
        p.record(&r.expect("a valid file")).expect("renders");
        n += 1;
        if n % 256 == 0 {
            let buf = p.into_buffer();
            written += buf.len() as u64;
            p = RespPrinter::in_memory(reuse(buf), &header).with_restore(restore());
        }
    }
    written
}

/// An emptied buffer to render into again.
fn reuse(mut buf: Vec<u8>) -> Vec<u8> {
    buf.clear();
    buf
}
