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
use rdbscope_rdb::write;
use rdbscope_rdb::ziplist::Ziplist;
use rdbscope_rdb::{Elem, Encoding, Scratch, Typed, Value};
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
        let n = match rng(&mut s) % 4 {
            0 => rng(&mut s) % 64,
            1 => (rng(&mut s) % 64) << 8 | (rng(&mut s) & 0xff),
            2 => u64::from(rng(&mut s) as u32),
            _ => rng(&mut s),
        };
        write::cursor::length(&mut v, n);
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
                write::rdb_string::string(&mut v, &vec![b'x'; n]);
            }
            1 => write::rdb_string::string(&mut v, &[b'y'; 256]),
            _ => write::rdb_string::int(&mut v, 12345),
        }
    }
    v
}

/// A listpack of mixed entries, as Redis encodes them.
fn listpack() -> Vec<u8> {
    let mut lp = Vec::new();
    let mut w = write::listpack::Writer::new(&mut lp);
    let mut s = 3;
    let (f, v) = ([b'f'; 40], [b'v'; 100]);
    let mut size = 0;
    while size < 60_000 {
        let e = match rng(&mut s) % 4 {
            0 => Elem::Int((rng(&mut s) % 128) as i64),
            1 => Elem::Str(&f[..(rng(&mut s) % 40) as usize]),
            2 => Elem::Int(0x1234),
            _ => Elem::Str(&v),
        };
        w.push(e).unwrap();
        size = w.size() - 6;
    }
    w.finish().unwrap();
    lp
}

/// A ziplist of short strings and small integers.
fn ziplist() -> Vec<u8> {
    let mut zl = Vec::new();
    let mut w = write::ziplist::Writer::new(&mut zl);
    let mut s = 5;
    let z = [b'z'; 40];
    let mut size = 0;
    while size < 60_000 {
        let e = if rng(&mut s) % 2 == 0 {
            Elem::Str(&z[..(rng(&mut s) % 40) as usize])
        } else {
            Elem::Int((rng(&mut s) % 12) as i64)
        };
        w.push(e).unwrap();
        size = w.size() - 10;
    }
    w.finish().unwrap();
    zl
}

/// An AOF as a rewrite without preamble writes it (docs/format.md#aof-command-stream): SELECT,
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

    let elems: Vec<Elem> = Listpack::new(&lp, BlobLoc::raw(0))
        .unwrap()
        .iter()
        .map(Result::unwrap)
        .collect();
    let mut written = Vec::with_capacity(lp.len());
    bench("listpack write (output)", lp.len(), || {
        written.clear();
        write::listpack::listpack(&mut written, elems.iter().copied()).unwrap();
        black_box(&written);
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
    let mut packed_here = Vec::new();
    bench("lzf compress, write side (input)", text.len(), || {
        packed_here.clear();
        black_box(write::lzf::compress(&text, &mut packed_here));
    });
    println!(
        "  (write::lzf: {} bytes from {}; the lzf crate: {})",
        packed_here.len(),
        text.len(),
        packed.len()
    );

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
        path: std::path::Path::new("bench.aof").into(),
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
        let mut cx = rdbscope_aof::render::Context::default();
        for item in rdbscope_aof::Reader::new(&aof, 0) {
            json.item(&mut out, &item.unwrap(), &mut cx);
        }
        black_box(out.as_slice());
    });
}
