//! Micro-benchmarks of the hot paths, one number each, so that a regression
//! shows up per component: `cargo bench -p rdbscope-harness`.
//!
//! A tiny harness instead of a framework: each case runs until it has taken
//! at least 200 ms, five times, and the median throughput is printed (MB/s
//! of input, or of output for LZF). Inputs are built here, deterministic.

use rdbscope_json::write::write_bytes;
use rdbscope_rdb::cursor::Cursor;
use rdbscope_rdb::elem::BlobLoc;
use rdbscope_rdb::listpack::Listpack;
use rdbscope_rdb::ziplist::Ziplist;
use rdbscope_rdb::{Encoding, Scratch, Typed, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn bench(name: &str, bytes_per_iter: usize, mut f: impl FnMut()) {
    let mut rates = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut iters = 0u64;
        while start.elapsed() < Duration::from_millis(200) {
            f();
            iters += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        rates.push(bytes_per_iter as f64 * iters as f64 / secs / 1e6);
    }
    rates.sort_by(f64::total_cmp);
    println!("{name:<34} {:>10.0} MB/s", rates[2]);
}

/// Deterministic pseudo-random bytes.
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// RDB lengths of every size class, one after another.
fn lengths() -> Vec<u8> {
    let mut v = Vec::new();
    let mut s = 7;
    for _ in 0..100_000 {
        match rng(&mut s) % 4 {
            0 => v.push((rng(&mut s) % 64) as u8),
            1 => v.extend([0x40 | (rng(&mut s) % 64) as u8, rng(&mut s) as u8]),
            2 => {
                v.push(0x80);
                v.extend((rng(&mut s) as u32).to_be_bytes());
            }
            _ => {
                v.push(0x81);
                v.extend(rng(&mut s).to_be_bytes());
            }
        }
    }
    v
}

/// RDB strings: raw (short and long) and integer-encoded.
fn strings() -> Vec<u8> {
    let mut v = Vec::new();
    let mut s = 11;
    for i in 0..50_000 {
        match i % 3 {
            0 => {
                let n = (rng(&mut s) % 40) as usize;
                v.push(n as u8);
                v.extend(std::iter::repeat_n(b'x', n));
            }
            1 => {
                v.extend([0x41, 0x00]);
                v.extend(std::iter::repeat_n(b'y', 256));
            }
            _ => v.extend([0xc1, 0x39, 0x30]),
        }
    }
    v
}

/// A listpack of mixed entries, as Redis encodes them.
fn listpack() -> Vec<u8> {
    let mut body = Vec::new();
    let mut s = 3;
    let mut count = 0u16;
    while body.len() < 60_000 {
        let (enc, len): (Vec<u8>, usize) = match rng(&mut s) % 4 {
            0 => (vec![(rng(&mut s) % 128) as u8], 1),
            1 => {
                let n = (rng(&mut s) % 40) as usize;
                let mut e = vec![0x80 | n as u8];
                e.extend(std::iter::repeat_n(b'f', n));
                (e, 1 + n)
            }
            2 => (vec![0xf1, 0x34, 0x12], 3),
            _ => {
                let n = 100;
                let mut e = vec![0xe0 | (n >> 8) as u8, n as u8];
                e.extend(std::iter::repeat_n(b'v', n));
                (e, 2 + n)
            }
        };
        body.extend(enc);
        body.push(len as u8); // all entries here are < 128 bytes
        count += 1;
    }
    let mut lp = ((body.len() + 7) as u32).to_le_bytes().to_vec();
    lp.extend(count.to_le_bytes());
    lp.extend(body);
    lp.push(0xff);
    lp
}

/// A ziplist of short strings and small integers.
fn ziplist() -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut last = 10usize;
    let mut count = 0u16;
    let mut s = 5;
    while body.len() < 60_000 {
        last = 10 + body.len();
        let entry: Vec<u8> = if rng(&mut s) % 2 == 0 {
            let n = (rng(&mut s) % 40) as usize;
            let mut e = vec![prev as u8, n as u8];
            e.extend(std::iter::repeat_n(b'z', n));
            e
        } else {
            vec![prev as u8, 0xf1 + (rng(&mut s) % 12) as u8]
        };
        prev = entry.len();
        body.extend(entry);
        count += 1;
    }
    let mut zl = ((body.len() + 11) as u32).to_le_bytes().to_vec();
    zl.extend((last as u32).to_le_bytes());
    zl.extend(count.to_le_bytes());
    zl.extend(body);
    zl.push(0xff);
    zl
}

/// An AOF as a rewrite without preamble writes it (FORMAT.md 7.1): SELECT,
/// then SET / RPUSH / HMSET / ZADD batches and PEXPIREATs, with
/// short keys and word-like values, plus some live-traffic MULTI/EXEC.
fn aof() -> Vec<u8> {
    use rdbscope_aof::resp::write_command;
    let mut v = Vec::new();
    let mut s = 13;
    write_command(&mut v, &[b"SELECT", b"0"]);
    let mut u = 0;
    while v.len() < 16 << 20 {
        u += 1;
        let key = format!("key:{u}");
        let word = |s: &mut u64| {
            let n = 4 + (rng(s) % 60) as usize;
            (0..n)
                .map(|i| b'a' + ((i as u64 + *s) % 26) as u8)
                .collect::<Vec<u8>>()
        };
        match u % 5 {
            0 | 1 => {
                let val = word(&mut s);
                write_command(&mut v, &[b"SET", key.as_bytes(), &val]);
            }
            2 => {
                let items: Vec<Vec<u8>> = (0..1 + rng(&mut s) % 64).map(|_| word(&mut s)).collect();
                let mut args: Vec<&[u8]> = vec![b"RPUSH", key.as_bytes()];
                args.extend(items.iter().map(Vec::as_slice));
                write_command(&mut v, &args);
            }
            3 => {
                let items: Vec<Vec<u8>> = (0..2 * (1 + rng(&mut s) % 20))
                    .map(|i| {
                        if i % 2 == 0 {
                            format!("f{i}").into_bytes()
                        } else {
                            word(&mut s)
                        }
                    })
                    .collect();
                let mut args: Vec<&[u8]> = vec![b"HMSET", key.as_bytes()];
                args.extend(items.iter().map(Vec::as_slice));
                write_command(&mut v, &args);
            }
            _ => {
                write_command(&mut v, &[b"MULTI"]);
                write_command(
                    &mut v,
                    &[
                        b"ZADD",
                        key.as_bytes(),
                        b"1.5",
                        b"member:1",
                        b"2",
                        b"member:2",
                    ],
                );
                write_command(&mut v, &[b"PEXPIREAT", key.as_bytes(), b"4102444800000"]);
                write_command(&mut v, &[b"EXEC"]);
            }
        }
    }
    v
}

fn main() {
    let lens = lengths();
    bench("rdb length decoding", lens.len(), || {
        let mut c = Cursor::new(&lens, 0);
        while !c.is_empty() {
            black_box(c.len("len").unwrap());
        }
    });

    let strs = strings();
    bench("rdb string decoding", strs.len(), || {
        let mut c = Cursor::new(&strs, 0);
        while !c.is_empty() {
            black_box(c.rdb_string("s").unwrap());
        }
    });

    let lp = listpack();
    bench("listpack walk", lp.len(), || {
        for e in Listpack::new(&lp, BlobLoc::raw(0)).unwrap().iter() {
            black_box(e.unwrap());
        }
    });

    let zl = ziplist();
    bench("ziplist walk", zl.len(), || {
        for e in Ziplist::new(&zl, BlobLoc::raw(0)).unwrap().iter() {
            black_box(e.unwrap());
        }
    });

    // The listpack as a set value (RDB string with a 32-bit length): the
    // push walk against the pull cursor over the same elements.
    let mut body = vec![0x80];
    body.extend((lp.len() as u32).to_be_bytes());
    body.extend(&lp);
    let v = Value::from_body(&body, 0, Encoding::SetListpack, 20).unwrap();
    let mut s = Scratch::new();
    bench("set value walk, push", lp.len(), || {
        v.for_each_member(&mut s, |e| {
            black_box(e);
            Ok::<_, rdbscope_rdb::Error>(())
        })
        .unwrap();
    });
    bench("set value walk, cursor", lp.len(), || {
        let Typed::Set(set) = v.typed() else {
            return;
        };
        let mut c = set.cursor(&mut s).unwrap();
        while let Some(e) = c.next().unwrap() {
            black_box(e);
        }
    });

    // Text that compresses like typical values (words, repeats).
    let mut text = Vec::new();
    let mut s = 9;
    while text.len() < 1 << 20 {
        let w = [
            "redis",
            "value",
            "user:",
            "1234",
            "session",
            " ",
            "{\"a\":1}",
        ];
        text.extend(w[(rng(&mut s) % 7) as usize].as_bytes());
    }
    let packed = lzf::compress(&text).expect("compressible");
    let mut out = Vec::new();
    bench("lzf decompress (output)", text.len(), || {
        let got =
            rdbscope_rdb::lzf::decompress_into(&packed, text.len() as u64, &mut out, 0, u64::MAX)
                .unwrap();
        black_box(got);
    });
    bench("lzf validate (output)", text.len(), || {
        rdbscope_rdb::lzf::validate(&packed, text.len() as u64, 0, u64::MAX).unwrap();
    });

    let big: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    bench("crc-64/redis", big.len(), || {
        black_box(rdbscope_rdb::crc::crc64(&big));
    });

    let keys: Vec<Vec<u8>> = (0..10_000)
        .map(|i| format!("user:{i}:session-token").into_bytes())
        .collect();
    let total: usize = keys.iter().map(Vec::len).sum();
    let mut sink = Vec::with_capacity(1 << 20);
    bench("json strings, plain ascii", total, || {
        sink.clear();
        for k in &keys {
            write_bytes(&mut sink, k).unwrap();
        }
        black_box(&sink);
    });

    let utf8: Vec<Vec<u8>> = (0..10_000)
        .map(|i| format!("clé-{i} \"quoted\" 日本\n").into_bytes())
        .collect();
    let total: usize = utf8.iter().map(Vec::len).sum();
    bench("json strings, utf-8 with escapes", total, || {
        sink.clear();
        for k in &utf8 {
            write_bytes(&mut sink, k).unwrap();
        }
        black_box(&sink);
    });

    let aof = aof();
    bench("aof resp read (commands)", aof.len(), || {
        let mut n = 0u64;
        for item in rdbscope_aof::Reader::new(&aof, 0) {
            if let rdbscope_aof::Item::Command(c) = item.unwrap() {
                n += c.argc as u64;
            }
        }
        black_box(n);
    });
    bench("aof resp read + every argument", aof.len(), || {
        let mut n = 0usize;
        for item in rdbscope_aof::Reader::new(&aof, 0) {
            if let rdbscope_aof::Item::Command(c) = item.unwrap() {
                n += c.args().map(<[u8]>::len).sum::<usize>();
            }
        }
        black_box(n);
    });
    let part = rdbscope_aof::Part {
        path: "bench.aof".into(),
        name: "bench.aof".into(),
        file_type: None,
        seq: None,
        last: true,
    };
    let rdb_opts = rdbscope_check::Options::default();
    bench("aof check (one file)", aof.len(), || {
        let r = rdbscope_aof::check::check_file(&aof, &part, &rdb_opts);
        assert!(r.verdict.is_ok());
        black_box(r);
    });
    let json = rdbscope_aof::render::JsonLines::new("bench.aof", &[], true);
    let mut out = rdbscope_json::out::OutBuf::with_capacity(64 << 20);
    bench("aof json lines render (input)", aof.len(), || {
        out.clear();
        for item in rdbscope_aof::Reader::new(&aof, 0) {
            json.item(&mut out, &item.unwrap());
        }
        black_box(out.as_slice());
    });
}
