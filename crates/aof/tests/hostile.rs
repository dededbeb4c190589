//! Hostile inputs: every truncation and every single-bit flip of small
//! AOFs (synthetic, and the smallest corpus files when the corpus is
//! there) and of a manifest. Nothing may panic; a truncated valid file is
//! valid or truncated, never a format error, with `ok_up_to` on a record
//! boundary; every problem names an offset inside the file; and no
//! allocation is sized by a length the input declares (a counting global
//! allocator watches the largest single request).

use rdbscope_aof::check::{check_file, FileReport, Verdict};
use rdbscope_aof::render::JsonLines;
use rdbscope_aof::resp::write_command;
use rdbscope_aof::{manifest, Item, Part, Reader};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, remembering the largest single request.
struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LARGEST.fetch_max(new, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A small AOF with every kind of record.
fn synthetic() -> Vec<u8> {
    let mut v = b"#TS:1700000000\r\n".to_vec();
    write_command(&mut v, &[b"SELECT", b"0"]);
    write_command(&mut v, &[b"SET", b"k", b"v"]);
    write_command(&mut v, &[b"MULTI"]);
    write_command(&mut v, &[b"SELECT", b"12"]);
    write_command(&mut v, &[b"RPUSH", b"l", b"\x00\xff\r\n", b""]);
    write_command(&mut v, &[b"EXEC"]);
    v.extend(b"#TS:1700000001\r\n");
    write_command(&mut v, &[b"HSET", b"h", b"f", &[b'x'; 150]]);
    v
}

fn part() -> Part {
    Part {
        path: std::path::Path::new("hostile.aof").into(),
        name: "hostile.aof".into(),
        file_type: None,
        seq: None,
        last: true,
    }
}

fn check(bytes: &[u8]) -> FileReport {
    let r = check_file(bytes, &part(), &rdbscope_check::Options::default());
    // Every problem is inside the file, and nothing after ok_up_to counts.
    if let Some(p) = &r.problem {
        assert!(p.offset <= bytes.len() as u64, "{p:?}");
        assert!(r.ok_up_to <= p.offset.max(r.ok_up_to), "{p:?}");
    }
    assert!(r.ok_up_to <= bytes.len() as u64);
    // Rendering what is there never panics either.
    let json = JsonLines::new("hostile.aof", &[], true);
    let mut out = rdbscope_json::out::OutBuf::with_capacity(0);
    let mut cx = rdbscope_aof::render::Context::default();
    for item in Reader::new(bytes, r.resp_start as usize).map_while(Result::ok) {
        json.item(&mut out, &item, &mut cx);
    }
    r
}

/// Record boundaries of a valid file.
fn boundaries(bytes: &[u8]) -> Vec<u64> {
    let mut b = vec![0];
    for item in Reader::new(bytes, 0) {
        b.push(match item.unwrap() {
            Item::Command(c) => c.end(),
            Item::Annotation(a) => a.offset + a.len as u64,
        });
    }
    b
}

fn truncations_and_flips(name: &str, bytes: &[u8]) {
    assert_eq!(check(bytes).verdict, Verdict::Valid, "{name}");
    let starts = boundaries(bytes);
    for cut in 0..bytes.len() {
        let r = check(&bytes[..cut]);
        assert!(
            matches!(
                r.verdict,
                Verdict::Valid | Verdict::Truncated | Verdict::Empty
            ),
            "{name} cut at {cut}: {:?}",
            r.problem
        );
        // (A cut inside an annotation line leaves a shorter, whole line.)
        assert!(
            starts.contains(&r.ok_up_to) || r.ok_up_to == cut as u64,
            "{name} cut at {cut}: ok_up_to {}",
            r.ok_up_to
        );
    }
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut v = bytes.to_vec();
            v[i] ^= 1 << bit;
            let r = check(&v);
            if !r.verdict.is_ok() {
                assert!(r.problem.is_some(), "{name} flip {i}.{bit}");
            }
        }
    }
}

#[test]
fn synthetic_truncations_and_bit_flips() {
    LARGEST.store(0, Ordering::Relaxed);
    truncations_and_flips("synthetic", &synthetic());
}

#[test]
fn corpus_truncations_and_bit_flips() {
    let Some(corpus) = rdbscope_testkit::corpus("corpus_truncations_and_bit_flips") else {
        return;
    };
    for f in [
        "aof/redis-7.0.15-debian/timestamps/appendonlydir/appendonly.aof.2.incr.aof",
        "aof/redis-7.4.1/preamble-yes-rewritten/appendonlydir/appendonly.aof.2.incr.aof",
        "aof/valkey-8.0.1/no-rewrite/appendonlydir/appendonly.aof.1.base.rdb",
    ] {
        let bytes = std::fs::read(corpus.join(f)).unwrap();
        if bytes.starts_with(b"REDIS") || bytes.starts_with(b"VALKEY") {
            // An RDB base: truncations and flips reach the RDB checker.
            for cut in 0..bytes.len() {
                let r = check(&bytes[..cut]);
                assert!(cut == 0 || !r.verdict.is_ok(), "{f} cut at {cut}");
            }
            continue;
        }
        truncations_and_flips(f, &bytes);
    }
}

#[test]
fn declared_lengths_allocate_nothing() {
    let huge: &[&[u8]] = &[
        b"*1\r\n$4294967295\r\nab",
        b"*1\r\n$18446744073709551615\r\nab",
        b"*1\r\n$99999999999999999999999\r\n",
        b"*4294967295\r\n$1\r\na\r\n",
        b"*2147483647\r\n",
        b"*9223372036854775807\r\n$3\r\nSET\r\n",
    ];
    for h in huge {
        LARGEST.store(0, Ordering::Relaxed);
        let r = check(h);
        assert!(!r.verdict.is_ok(), "{:?}", String::from_utf8_lossy(h));
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(
            largest < 64 << 10,
            "{:?}: an allocation of {largest} bytes",
            String::from_utf8_lossy(h)
        );
    }
    let r = check(b"*1\r\n$4294967295\r\nab");
    assert_eq!(r.verdict, Verdict::Truncated);
    assert!(r
        .problem
        .unwrap()
        .message
        .contains("exceeds the remaining 2 bytes"));
}

#[test]
fn manifests_never_panic() {
    let m = b"# comment\nfile appendonly.aof.1.base.rdb seq 1 type b\nfile \"a b\\x41\" seq 2 type h\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
    assert!(manifest::parse(m).is_ok());
    for cut in 0..m.len() {
        let _ = manifest::parse(&m[..cut]);
        let _ = manifest::looks_like_manifest(&m[..cut]);
    }
    for i in 0..m.len() {
        for bit in 0..8 {
            let mut v = m.to_vec();
            v[i] ^= 1 << bit;
            if let Ok(parsed) = manifest::parse(&v) {
                // What is accepted is what the grammar allows.
                assert!(parsed
                    .load_order()
                    .all(|e| !e.name.contains(&b'/') && e.seq != 0));
            }
        }
    }
}
