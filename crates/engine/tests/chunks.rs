//! Chunk-parallel walking gives what one serial walk gives, whatever the
//! threads and chunk sizes, also when bytes inside a value look like
//! records right where a chunk is cut.

use rdbscope_engine::{walk, At, Collector, Flow, Options, Sink, Source, WalkError};
use rdbscope_rdb::{Header, Record};

/// Lists every record as (offset, end, db, key or kind).
struct List(Vec<String>);

impl Sink for List {
    type Chunk = Vec<String>;

    fn record(&mut self, r: &Record<'_>, at: &At) -> Flow {
        let what = match r {
            Record::Key(k) => format!(
                "key {}",
                String::from_utf8_lossy(&k.key.to_vec().unwrap_or_default())
            ),
            Record::Eof(e) => format!("eof {:?}", e),
            Record::SelectDb { db } => format!("select {db}"),
            other => format!("{:?}", std::mem::discriminant(other)),
        };
        self.0
            .push(format!("{} {} {} {what}", at.offset, at.end, at.db));
        Flow::Continue
    }

    fn end(&mut self) -> Vec<String> {
        std::mem::take(&mut self.0)
    }
}

struct All(Vec<String>);

impl Collector<Vec<String>> for All {
    fn collect(&mut self, c: Vec<String>) -> Flow {
        self.0.extend(c);
        Flow::Continue
    }
}

/// Every record and how the walk ended, as text.
fn listing(bytes: &[u8], threads: usize, chunk_size: usize, stream: bool) -> (String, u64) {
    let opts = Options {
        threads,
        chunk_size,
        verify_checksum: true,
        // Small, so that the stream's window is refilled many times.
        window: 97,
        stop_at_eof: false,
    };
    let source = if stream {
        Source::stream(std::io::Cursor::new(bytes.to_vec()))
    } else {
        Source::slice(bytes)
    };
    let mut all = All(Vec::new());
    let w = walk(
        source,
        &opts,
        &mut |_| {},
        |_: &Header| List(Vec::new()),
        &mut all,
    );
    let end = match &w.error {
        Some(WalkError::Decode(e)) => format!("error {e}"),
        Some(WalkError::Io(e)) => format!("io {e}"),
        None => format!("end {} {:?}", w.end, w.eof),
    };
    (format!("{}\n{end}", all.0.join("\n")), w.fallbacks)
}

/// A string key record.
fn string_record(key: &[u8], value: &[u8], out: &mut Vec<u8>) {
    out.push(0);
    push_len(key.len(), out);
    out.extend_from_slice(key);
    push_len(value.len(), out);
    out.extend_from_slice(value);
}

fn push_len(n: usize, out: &mut Vec<u8>) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn finish(mut body: Vec<u8>) -> Vec<u8> {
    body.push(0xff);
    let crc = rdbscope_rdb::crc::crc64(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// A file whose values hold runs of bytes that decode as string records.
fn crafted() -> Vec<u8> {
    let mut fake = Vec::new();
    for i in 0..200 {
        string_record(format!("fake{i}").as_bytes(), b"xy", &mut fake);
    }
    let mut f = b"REDIS0011\xfe\x00".to_vec();
    for i in 0..40 {
        string_record(format!("real{i}").as_bytes(), &fake, &mut f);
        f.push(0xfe);
        f.push((i % 3) as u8);
    }
    finish(f)
}

#[test]
fn fake_records_at_chunk_boundaries_only_force_the_fallback() {
    let file = crafted();
    let (serial, _) = listing(&file, 1, usize::MAX, false);
    assert!(serial.contains("real39"));
    assert!(!serial.contains("fake"), "{serial}");
    let mut fallbacks = 0;
    for chunk in [100, 997, 3000, 20_000] {
        for threads in [2, 3, 7] {
            let (chunked, f) = listing(&file, threads, chunk, false);
            assert_eq!(chunked, serial, "threads {threads}, chunk {chunk}");
            fallbacks += f;
        }
    }
    assert!(fallbacks > 0, "the crafted bytes never fooled a guess");
    for threads in [1, 2, 7] {
        assert_eq!(listing(&file, threads, 1000, true).0, serial, "stream");
    }
}

#[test]
fn breaks_anywhere_give_the_serial_error() {
    let file = crafted();
    for at in (10..file.len()).step_by(file.len() / 37) {
        let mut bad = file.clone();
        bad[at] ^= 0xa5;
        let (serial, _) = listing(&bad, 1, usize::MAX, false);
        for threads in [2, 7] {
            assert_eq!(listing(&bad, threads, 500, false).0, serial, "flip at {at}");
        }
        assert_eq!(
            listing(&bad, 1, 500, true).0,
            serial,
            "stream, flip at {at}"
        );
        let cut = &file[..at];
        let (serial, _) = listing(cut, 1, usize::MAX, false);
        assert_eq!(listing(cut, 2, 500, false).0, serial, "cut at {at}");
        for threads in [1, 3] {
            assert_eq!(
                listing(cut, threads, 500, true).0,
                serial,
                "stream, cut at {at}"
            );
        }
    }
}

#[test]
fn stream_window_grows_for_a_record_larger_than_it() {
    let mut f = b"REDIS0011\xfe\x00".to_vec();
    let big = vec![b'v'; rdbscope_engine::WINDOW * 2 + 12345];
    string_record(b"small", b"1", &mut f);
    string_record(b"big", &big, &mut f);
    string_record(b"after", b"2", &mut f);
    let file = finish(f);
    let (serial, _) = listing(&file, 1, usize::MAX, false);
    assert!(serial.contains("after") && serial.contains("eof"));
    assert_eq!(listing(&file, 1, 1 << 20, true).0, serial);
    assert_eq!(listing(&file, 2, 1 << 20, true).0, serial);
    // A count larger than the window (its check underestimates what the
    // record needs): the window still grows to hold it.
    let mut f = b"REDIS0011\xfe\x00".to_vec();
    let n = rdbscope_engine::WINDOW + 1000;
    f.extend_from_slice(b"\x01\x04list");
    f.push(0x80);
    f.extend_from_slice(&(n as u32).to_be_bytes());
    f.extend(std::iter::repeat_n(0u8, n));
    string_record(b"after", b"2", &mut f);
    let file = finish(f);
    let (serial, _) = listing(&file, 1, usize::MAX, false);
    assert!(
        serial.contains("after") && serial.contains("eof"),
        "{serial}"
    );
    assert_eq!(listing(&file, 1, 1 << 20, true).0, serial);
    // A length that claims far more than arrives: the truncation, at once.
    let mut lie = b"REDIS0011\xfe\x00\x00\x01k\x80".to_vec();
    lie.extend_from_slice(&u32::MAX.to_be_bytes());
    lie.extend_from_slice(b"short");
    let (s, _) = listing(&lie, 1, 1 << 20, true);
    assert!(s.contains("error") && s.contains("end of input"), "{s}");
}

/// Panics at the record of key `real7`.
struct Panicky;

impl Sink for Panicky {
    type Chunk = ();

    fn record(&mut self, r: &Record<'_>, _: &At) -> Flow {
        if let Record::Key(k) = r {
            assert_ne!(
                k.key.to_vec().unwrap_or_default(),
                b"real7",
                "planted panic"
            );
        }
        Flow::Continue
    }

    fn end(&mut self) {}
}

struct Nothing;

impl Collector<()> for Nothing {
    fn collect(&mut self, _: ()) -> Flow {
        Flow::Continue
    }
}

/// A sink that panics on a worker thread makes the walk panic on the
/// calling thread, instead of waiting forever for the lost chunk.
fn panicking_walk(stream: bool) {
    let file = crafted();
    let opts = Options {
        threads: 2,
        chunk_size: 500,
        ..Options::default()
    };
    let source = if stream {
        Source::stream(std::io::Cursor::new(file))
    } else {
        Source::slice(&file)
    };
    walk(
        source,
        &opts,
        &mut |_| {},
        |_: &Header| Panicky,
        &mut Nothing,
    );
}

#[test]
#[should_panic(expected = "planted panic")]
fn a_panic_on_a_worker_reaches_the_caller_mapped() {
    panicking_walk(false);
}

#[test]
#[should_panic(expected = "planted panic")]
fn a_panic_on_a_worker_reaches_the_caller_streamed() {
    panicking_walk(true);
}

/// An AOF's RDB preamble on a stream: the walk ends at the checksum, the
/// window's bytes after it come back, and the stream goes on from there,
/// so the two together are exactly the commands; with any threads and
/// windows, also when only the checksum is wrong.
#[test]
fn stop_at_eof_hands_back_the_bytes_after_the_checksum() {
    let rdb = crafted();
    let mut tail = Vec::new();
    for i in 0..2000 {
        tail.extend_from_slice(format!("*1\r\n$4\r\nPING\r\n#{i}\r\n").as_bytes());
    }
    for bad_crc in [false, true] {
        let mut file = rdb.clone();
        if bad_crc {
            *file.last_mut().unwrap() ^= 1;
        }
        file.extend_from_slice(&tail);
        for (threads, window) in [(1, 97), (2, 97), (7, 5000), (1, 1 << 20)] {
            let opts = Options {
                threads,
                chunk_size: 300,
                verify_checksum: true,
                window,
                stop_at_eof: true,
            };
            let mut reader = std::io::Cursor::new(file.clone());
            let mut all = All(Vec::new());
            let w = walk(
                Source::Stream(Box::new(&mut reader)),
                &opts,
                &mut |_| {},
                |_: &Header| List(Vec::new()),
                &mut all,
            );
            let how = format!("threads {threads}, window {window}, bad crc {bad_crc}");
            assert_eq!(w.end, rdb.len() as u64, "{how}");
            match (&w.error, bad_crc) {
                (None, false) => {
                    let eof = w.eof.expect("the EOF record");
                    assert_eq!(eof.trailing, None, "{how}");
                    assert!(all.0.last().unwrap().contains("trailing: None"), "{how}");
                }
                (Some(WalkError::Decode(e)), true) => {
                    assert!(e.to_string().contains("checksum"), "{how}: {e}")
                }
                (e, _) => panic!("{how}: {e:?}"),
            }
            let mut rest = w.rest.clone();
            std::io::Read::read_to_end(&mut reader, &mut rest).unwrap();
            assert_eq!(rest, tail, "{how}");
        }
    }
}
