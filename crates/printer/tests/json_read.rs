//! The JSON reader against the printer, over every corpus RDB: dump ->
//! read -> dump again gives the same bytes in both layouts; the owned form
//! built from the decoder (`Record::to_owned`) prints as the borrowed
//! record does; and mutated or truncated dumps give errors, never panics.

use rdbscope_json::read::{JsonLayout, JsonReader};
use rdbscope_printer::{JsonPrinter, Layout};
use rdbscope_rdb::{Rdb, Scratch};
use std::path::PathBuf;

fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = rdbscope_testkit::corpus("json_read") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir.join("rdb")).unwrap() {
        let d = d.unwrap().path();
        if !d.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&d).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "rdb") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// The dump of `data` (records up to the first error), and the same
/// records printed from their owned form.
fn dump_both(data: &[u8], layout: Layout) -> (Vec<u8>, Vec<u8>) {
    let mut direct = JsonPrinter::new(Vec::new(), layout, Scratch::new());
    let mut owned = JsonPrinter::new(Vec::new(), layout, Scratch::new());
    let mut s = Scratch::new();
    if let Ok(rdb) = Rdb::new(data) {
        direct.header(&rdb.header()).unwrap();
        let h = rdb.header();
        owned
            .owned_record(&rdbscope_rdb::OwnedRecord::Header {
                magic: h.magic().to_string(),
                version: h.version,
            })
            .unwrap();
        for r in rdb.records() {
            let Ok(r) = r else { break };
            if direct.record(&r).is_err() {
                break;
            }
            owned.owned_record(&r.to_owned(&mut s).unwrap()).unwrap();
        }
    }
    (direct.finish().unwrap(), owned.finish().unwrap())
}

fn reprint(json: &[u8], layout: JsonLayout, out: Layout) -> Result<Vec<u8>, String> {
    let mut p = JsonPrinter::new(Vec::new(), out, Scratch::new());
    for r in JsonReader::new(json, layout) {
        p.owned_record(&r.map_err(|e| e.to_string())?).unwrap();
    }
    Ok(p.finish().unwrap())
}

#[test]
fn dump_of_a_dump_gives_the_same_records_for_every_corpus_file() {
    let mut files = 0;
    for f in corpus_files() {
        let data = std::fs::read(&f).unwrap();
        for (layout, jl) in [
            (Layout::Lines, JsonLayout::Lines),
            (Layout::Document, JsonLayout::Document),
        ] {
            let (direct, owned) = dump_both(&data, layout);
            assert!(
                direct == owned,
                "{}: owned form prints differently",
                f.display()
            );
            let again =
                reprint(&direct, jl, layout).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert!(
                direct == again,
                "{}: {:?} round trip differs",
                f.display(),
                layout
            );
        }
        files += 1;
    }
    eprintln!("{files} files round-tripped");
}

/// Every truncation and a few thousand byte mutations of a dump with every
/// type: each gives records or a located error, never a panic.
#[test]
fn mutated_dumps_give_errors_not_panics() {
    let Some(f) = corpus_files()
        .into_iter()
        .find(|f| f.ends_with("redis-7.4.1/all-types.rdb"))
    else {
        return;
    };
    let data = std::fs::read(&f).unwrap();
    let (lines, _) = dump_both(&data, Layout::Lines);
    let (doc, _) = dump_both(&data, Layout::Document);
    // Keep it small: the first records (every type appears early).
    let cut = |b: &[u8], n: usize| b[..b.len().min(n)].to_vec();
    let lines = cut(&lines, 6000);
    let doc = cut(&doc, 6000);
    let mut errors = 0;
    for (input, layout) in [(&lines, JsonLayout::Lines), (&doc, JsonLayout::Document)] {
        for n in (0..input.len()).step_by(7) {
            if reprint(&input[..n], layout, Layout::Lines).is_err() {
                errors += 1;
            }
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut m = input.clone();
            let at = (x % m.len() as u64) as usize;
            let bytes = [
                b'"', b'{', b'}', b'[', b']', b',', b':', b'1', b'-', b'x', 0xff, b'\\',
            ];
            m[at] = bytes[(x >> 32) as usize % bytes.len()];
            if let Err(e) = reprint(&m, layout, Layout::Lines) {
                assert!(e.contains("line "), "{e}");
                errors += 1;
            }
        }
    }
    assert!(errors > 1000, "only {errors} errors");
}

#[test]
fn errors_name_line_column_key_and_what_was_expected() {
    let bad = b"{\"record\":\"header\",\"magic\":\"REDIS\",\"version\":11}\n\
{\"db\":0,\"key\":\"k\",\"type\":\"zset\",\"encoding\":\"listpack\",\"expire_at_ms\":null,\"value\":[[\"a\",\"x\"]]}\n";
    let e = reprint(bad, JsonLayout::Lines, Layout::Lines).unwrap_err();
    assert!(
        e.contains("line 2") && e.contains("key \"k\"") && e.contains("zset score"),
        "{e}"
    );
    let cut =
        b"{\"record\":\"header\",\"magic\":\"REDIS\",\"version\":11}\n{\"db\":0,\"key\":\"k\",\"ty";
    let e = reprint(cut, JsonLayout::Lines, Layout::Lines).unwrap_err();
    assert!(e.contains("line 2") && e.contains("cut short"), "{e}");
    let e = reprint(
        b"[{\"record\":\"selectdb\",\"db\":0}",
        JsonLayout::Document,
        Layout::Lines,
    )
    .unwrap_err();
    assert!(e.contains("closing ']'"), "{e}");
}

/// The document need not be laid out as `dump` lays it out: a
/// pretty-printed copy (as jq writes) reads back to the same records.
#[test]
fn a_reformatted_document_reads_the_same() {
    let Some(f) = corpus_files()
        .into_iter()
        .find(|f| f.ends_with("redis-7.4.1/all-types.rdb"))
    else {
        return;
    };
    let data = std::fs::read(&f).unwrap();
    let (doc, _) = dump_both(&data, Layout::Document);
    let v: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    let again = reprint(&pretty, JsonLayout::Document, Layout::Document).unwrap();
    assert!(again == doc);
    assert_eq!(
        reprint(b" [ ] ", JsonLayout::Document, Layout::Lines).unwrap(),
        b""
    );
}
