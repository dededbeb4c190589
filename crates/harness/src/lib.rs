//! The bodies of the fuzz targets, as library functions: `fuzz/` calls them
//! under libFuzzer, and the test suite (`tests/replay.rs`) calls them on
//! seeds derived from the corpus and on every crash artifact kept under
//! `testdata/fuzz/<target>/`, so CI replays them without a fuzzer.
//!
//! Each function takes arbitrary bytes and must return normally: a panic,
//! an abort, a hang or an allocation beyond the limits is a bug. Where two
//! paths must agree, the function asserts it (a differential check):
//! `check` accepting a file implies `dump` reading it; our LZF decoder
//! agreeing with the `lzf` crate's; an AOF the checker calls valid reading
//! to its end.

#![warn(missing_docs)]

use rdbscope_check::{check, Options, ValueChecker};
use rdbscope_printer::{JsonPrinter, Layout, PrintError};
use rdbscope_rdb::elem::BlobLoc;
use rdbscope_rdb::intset::Intset;
use rdbscope_rdb::listpack::Listpack;
use rdbscope_rdb::stream::{walk_node, StreamId};
use rdbscope_rdb::ziplist::Ziplist;
use rdbscope_rdb::zipmap::Zipmap;
use rdbscope_rdb::{payload, Rdb, Scratch};

pub mod seeds;

/// Decompressed-size cap under fuzzing: large enough for any seed, small
/// enough that libFuzzer's 2 GB RSS limit is never the finding.
pub const FUZZ_MAX_DECOMPRESSED: u64 = 64 << 20;

/// A fuzz target: its name (the directory under `fuzz/corpus` and
/// `testdata/fuzz`) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("rdb_file", rdb_file),
    ("dump_payload", dump_payload),
    ("ziplist", ziplist),
    ("listpack", listpack),
    ("intset", intset),
    ("zipmap", zipmap),
    ("lzf", lzf),
    ("stream_listpack", stream_listpack),
    ("aof_file", aof_file),
    ("aof_manifest", aof_manifest),
    ("json_dump", json_dump),
    ("value_cursors", value_cursors),
];

fn dump_all(data: &[u8]) -> Result<(), PrintError> {
    let rdb = Rdb::new(data)?;
    let scratch = Scratch::with_limit(FUZZ_MAX_DECOMPRESSED);
    let mut p = JsonPrinter::new(std::io::sink(), Layout::Lines, scratch);
    p.header(&rdb.header())?;
    for r in rdb.records() {
        p.record(&r?)?;
    }
    p.finish()?;
    Ok(())
}

/// A whole RDB file through `dump` and `check`.
pub fn rdb_file(data: &[u8]) {
    let dumped = dump_all(data);
    let opts = Options {
        max_decompressed: FUZZ_MAX_DECOMPRESSED,
        now_ms: 0,
        ..Options::default()
    };
    let report = check(data, "fuzz", &opts, |_| {});
    if report.is_ok() {
        if let Err(e) = dumped {
            panic!("check accepts the file but dump fails: {e}");
        }
    }
    let mut out = Vec::new();
    report.write_text(&mut out).expect("writing to a Vec");
    report.write_json(&mut out).expect("writing to a Vec");
}

/// A DUMP/RESTORE payload, with and without its CRC verified.
pub fn dump_payload(data: &[u8]) {
    for verify in [true, false] {
        if let Ok(p) = payload::parse(data, verify) {
            let mut s = Scratch::with_limit(FUZZ_MAX_DECOMPRESSED);
            let _ = ValueChecker::default().check_value(&p.value, &mut s);
        }
    }
}

fn loc() -> BlobLoc {
    BlobLoc::raw(0)
}

/// Fuzz target: walks a ziplist blob to its end, and checks that a walk that succeeds
/// agreed with `zllen`. Any input may fail; only a panic is a bug.
pub fn ziplist(data: &[u8]) {
    if let Ok(zl) = Ziplist::new(data, loc()) {
        let mut n = 0u64;
        for e in zl.iter() {
            if e.is_err() {
                return;
            }
            n += 1;
        }
        let count = zl.header_count();
        assert!(
            count == u16::MAX || u64::from(count) == n,
            "zllen not enforced"
        );
    }
}

/// Fuzz target: walks a listpack blob to its end, and checks that a walk that succeeds
/// agreed with `num_elements`. Any input may fail; only a panic is a bug.
pub fn listpack(data: &[u8]) {
    if let Ok(lp) = Listpack::new(data, loc()) {
        let mut n = 0u64;
        for e in lp.iter() {
            if e.is_err() {
                return;
            }
            n += 1;
        }
        let count = lp.header_count();
        assert!(
            count == u16::MAX || u64::from(count) == n,
            "num_elements not enforced"
        );
    }
}

/// Fuzz target: walks an intset blob, and checks that it yields `len()` elements. Any input may fail; only a panic is a bug.
pub fn intset(data: &[u8]) {
    if let Ok(is) = Intset::new(data, loc()) {
        assert_eq!(is.iter().count(), is.len());
    }
}

/// Fuzz target: walks a zipmap blob to its end. Any input may fail; only a panic is a bug.
pub fn zipmap(data: &[u8]) {
    if let Ok(zm) = Zipmap::new(data, loc()) {
        for p in zm.iter() {
            if p.is_err() {
                return;
            }
        }
    }
}

/// Input: 4 bytes of declared length (LE), then LZF data. Our decoder and
/// the `lzf` crate's must agree on every input both accept.
pub fn lzf(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let len = u64::from(u32::from_le_bytes([data[0], data[1], data[2], data[3]]) % (1 << 20));
    let input = &data[4..];
    let mut out = Vec::new();
    let ours = rdbscope_rdb::lzf::decompress_into(input, len, &mut out, 0, FUZZ_MAX_DECOMPRESSED)
        .map(|b| b.to_vec());
    let valid = rdbscope_rdb::lzf::validate(input, len, 0, FUZZ_MAX_DECOMPRESSED);
    assert_eq!(
        ours.is_ok(),
        valid.is_ok(),
        "LZF validate and decompress disagree"
    );
    if len == 0 {
        return;
    }
    let theirs = ::lzf::decompress(input, len as usize);
    if let (Ok(o), Ok(t)) = (&ours, &theirs) {
        assert_eq!(o, t, "LZF decoders disagree");
    }
    if ours.is_ok() && theirs.is_err() {
        // The lzf crate fails where the output would overflow its buffer;
        // ours requires an exact size. Both agree that exact-size output
        // is valid, so this would be a bug in one of them.
        panic!("our LZF decoder accepts what the lzf crate rejects: {theirs:?}");
    }
}

/// A stream node's listpack, under master ID 0-0.
pub fn stream_listpack(data: &[u8]) {
    if let Ok(lp) = Listpack::new(data, loc()) {
        let _ = walk_node(
            lp,
            StreamId::default(),
            &mut |e: rdbscope_rdb::stream::StreamEntry<'_>| {
                for f in e.fields() {
                    f?;
                }
                Ok::<_, rdbscope_rdb::Error>(())
            },
        );
    }
}

/// A single-file AOF (commands, after an RDB preamble or not) through the
/// checker and the JSON renderer. Differential: a file the checker calls
/// valid reads to its end without an error, as many commands as counted.
pub fn aof_file(data: &[u8]) {
    let part = rdbscope_aof::Part {
        path: std::path::Path::new("fuzz.aof").into(),
        name: "fuzz.aof".into(),
        file_type: None,
        seq: None,
        last: true,
    };
    let opts = Options {
        max_decompressed: FUZZ_MAX_DECOMPRESSED,
        now_ms: 0,
        ..Options::default()
    };
    let r = rdbscope_aof::check::check_file(data, &part, &opts);
    assert!(r.ok_up_to <= data.len() as u64, "ok_up_to past the end");
    let start = (r.resp_start as usize).min(data.len());
    let json = rdbscope_aof::render::JsonLines::new("fuzz.aof", &[], true);
    let mut cx = rdbscope_aof::render::Context::default();
    let mut out = rdbscope_json::out::OutBuf::with_capacity(0);
    let mut commands = 0u64;
    let mut failed = None;
    for item in rdbscope_aof::Reader::new(data, start) {
        match item {
            Ok(item) => {
                commands += u64::from(matches!(item, rdbscope_aof::Item::Command(_)));
                json.item(&mut out, &item, &mut cx);
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if r.verdict == rdbscope_aof::Verdict::Valid {
        if let Some(e) = failed {
            panic!("check calls the AOF valid but reading it fails: {e}");
        }
        assert_eq!(commands, r.commands, "commands read vs counted by check");
    }
}

/// An AOF manifest through the parser, and each of its lines through the
/// shell-like splitter on its own.
pub fn aof_manifest(data: &[u8]) {
    if let Ok(m) = rdbscope_aof::manifest::parse(data) {
        for e in m.load_order() {
            let _ = e.name_str();
        }
    }
    for line in data.split(|&b| b == b'\n') {
        let _ = rdbscope_aof::manifest::split_args(line);
    }
}

/// What `dump` writes, read back (both layouts): any bytes give records or
/// a located error. Differential: what was read whole prints the same
/// when read a second time.
pub fn json_dump(data: &[u8]) {
    use rdbscope_json::read::{JsonLayout, JsonReader};
    let reprint = |input: &[u8], layout: JsonLayout| -> Option<Vec<u8>> {
        let mut p = JsonPrinter::new(Vec::new(), Layout::Lines, Scratch::new());
        for r in JsonReader::new(input, layout) {
            let r = r.ok()?;
            p.owned_record(&r)
                .expect("printing an owned record to a Vec");
        }
        Some(p.finish().expect("writing to a Vec"))
    };
    for layout in [JsonLayout::Lines, JsonLayout::Document] {
        if let Some(once) = reprint(data, layout) {
            let twice = reprint(&once, JsonLayout::Lines);
            assert!(
                twice.as_deref() == Some(&once[..]),
                "a dump read back does not print the same the second time"
            );
        }
    }
}

/// Every value of an RDB walked by pull cursor and by push walk:
/// the same elements, and the same verdict on whether it is broken.
pub fn value_cursors(data: &[u8]) {
    use rdbscope_rdb::{Elem, Record, Typed};
    type Seq = Vec<(Vec<u8>, Vec<u8>, u64)>;
    fn pushed(v: &rdbscope_rdb::Value<'_>, s: &mut Scratch) -> rdbscope_rdb::Result<Seq> {
        let mut out = Vec::new();
        match v.typed() {
            Typed::List(l) => l.for_each(s, |e: Elem<'_>| {
                out.push((e.to_vec(), Vec::new(), 0));
                Ok::<_, rdbscope_rdb::Error>(())
            })?,
            Typed::Set(l) => l.for_each(s, |e: Elem<'_>| {
                out.push((e.to_vec(), Vec::new(), 0));
                Ok::<_, rdbscope_rdb::Error>(())
            })?,
            Typed::Zset(z) => z.for_each(s, |m: Elem<'_>, sc| {
                out.push((m.to_vec(), Vec::new(), sc.value().to_bits()));
                Ok::<_, rdbscope_rdb::Error>(())
            })?,
            Typed::Hash(h) => h.for_each(s, |f: Elem<'_>, v: Elem<'_>, t| {
                out.push((f.to_vec(), v.to_vec(), t.unwrap_or(-7) as u64));
                Ok::<_, rdbscope_rdb::Error>(())
            })?,
            Typed::Stream(st) => st.stream()?.for_each_entry(s, |e| {
                out.push((e.id.to_string().into_bytes(), Vec::new(), e.fields().len()));
                Ok::<_, rdbscope_rdb::Error>(())
            })?,
            Typed::String(_) | Typed::Module(_) => {}
        }
        Ok(out)
    }
    fn pulled(v: &rdbscope_rdb::Value<'_>, s: &mut Scratch) -> rdbscope_rdb::Result<Seq> {
        let mut out = Vec::new();
        match v.typed() {
            Typed::List(l) => {
                let mut c = l.cursor(s)?;
                while let Some(e) = c.next()? {
                    out.push((e.to_vec(), Vec::new(), 0));
                }
            }
            Typed::Set(l) => {
                let mut c = l.cursor(s)?;
                while let Some(e) = c.next()? {
                    out.push((e.to_vec(), Vec::new(), 0));
                }
            }
            Typed::Zset(z) => {
                let mut c = z.cursor(s)?;
                while let Some((m, sc)) = c.next()? {
                    out.push((m.to_vec(), Vec::new(), sc.value().to_bits()));
                }
            }
            Typed::Hash(h) => {
                let mut c = h.cursor(s)?;
                while let Some((f, v, t)) = c.next()? {
                    out.push((f.to_vec(), v.to_vec(), t.unwrap_or(-7) as u64));
                }
            }
            Typed::Stream(st) => {
                let st = st.stream()?;
                let mut c = st.entries(s)?;
                while let Some(e) = c.next()? {
                    out.push((e.id.to_string().into_bytes(), Vec::new(), e.fields().len()));
                }
            }
            Typed::String(_) | Typed::Module(_) => {}
        }
        Ok(out)
    }
    let Ok(rdb) = Rdb::new(data) else { return };
    let mut s1 = Scratch::with_limit(FUZZ_MAX_DECOMPRESSED);
    let mut s2 = Scratch::with_limit(FUZZ_MAX_DECOMPRESSED);
    for r in rdb.verify_checksum(false).records() {
        let k = match r {
            Ok(Record::Key(k)) => k,
            Ok(_) => continue,
            Err(_) => break,
        };
        match (pushed(&k.value, &mut s1), pulled(&k.value, &mut s2)) {
            (Ok(a), Ok(b)) => assert!(a == b, "cursor and push walk disagree"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("push walk {:?}, cursor {:?}", a.is_ok(), b.is_ok()),
        }
    }
}
