//! `dump` writes the same bytes whatever the threads and chunks: every
//! corpus RDB file and three corruptions of each, as JSON Lines, one JSON
//! document and RESP, with 1, 2 and 7 threads and chunks small enough to
//! cut the corpus's files into many; streamed, the same as mapped.

use rdbscope_engine::Source;
use rdbscope_printer::dump::{dump, Format, KeyFilter, Options};
use rdbscope_rdb::KeyRecord;
use std::path::{Path, PathBuf};

struct Everything;

impl KeyFilter for Everything {
    fn accepts(&mut self, _: &KeyRecord<'_>) -> rdbscope_rdb::Result<bool> {
        Ok(true)
    }
}

/// Keys of database 0 only (a filter that drops some keys).
struct Db0;

impl KeyFilter for Db0 {
    fn accepts(&mut self, k: &KeyRecord<'_>) -> rdbscope_rdb::Result<bool> {
        Ok(k.db == 0)
    }
}

fn rdb_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read corpus dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rdb_files(&p, out);
        } else if std::fs::read(&p)
            .is_ok_and(|d| d.starts_with(b"REDIS") || d.starts_with(b"VALKEY"))
        {
            out.push(p);
        }
    }
}

/// The output and the error, if any.
fn render(bytes: &[u8], opts: &Options, db0: bool, stream: bool) -> (Vec<u8>, String) {
    let source = if stream {
        Source::stream(std::io::Cursor::new(bytes.to_vec()))
    } else {
        Source::slice(bytes)
    };
    let mut out = Vec::new();
    let r = if db0 {
        dump(source, opts, || Db0, &mut |_| {}, &mut out)
    } else {
        dump(source, opts, || Everything, &mut |_| {}, &mut out)
    };
    (out, r.err().map(|e| e.to_string()).unwrap_or_default())
}

#[test]
fn threads_and_chunks_do_not_change_output() {
    let Some(dir) = rdbscope_testkit::corpus("dump parallel") else {
        return;
    };
    let mut files = Vec::new();
    rdb_files(&dir, &mut files);
    files.sort();
    let mut compared = 0;
    for f in &files {
        let data = std::fs::read(f).expect("read");
        let mut variants = vec![data.clone()];
        for k in 1..4 {
            let mut m = data.clone();
            let at = data.len() * k / 4;
            if at > 9 {
                m[at] ^= 0x5a;
                variants.push(m);
            }
        }
        for v in &variants {
            for format in [Format::JsonLines, Format::Json, Format::Resp] {
                for (records_too, db0) in [(true, false), (false, true)] {
                    let one = Options {
                        format,
                        records_too,
                        values: true,
                        max_decompressed: 1 << 30,
                        engine: rdbscope_engine::Options {
                            threads: 1,
                            chunk_size: usize::MAX,
                            verify_checksum: true,
                            // Small, so that streams refill it often.
                            window: 300,
                            stop_at_eof: false,
                        },
                        restore: Default::default(),
                    };
                    let want = render(v, &one, db0, false);
                    for threads in [1, 2, 7] {
                        let mut opts = one;
                        opts.engine.threads = threads;
                        opts.engine.chunk_size = 300;
                        let got = render(v, &opts, db0, false);
                        assert!(
                            got == want,
                            "{}: {format:?} differs with {threads} threads",
                            f.display()
                        );
                    }
                    for threads in [1, 3] {
                        let mut opts = one;
                        opts.engine.chunk_size = 1000;
                        opts.engine.threads = threads;
                        assert!(
                            render(v, &opts, db0, true) == want,
                            "{}: {format:?} differs streamed, {threads} threads",
                            f.display()
                        );
                    }
                }
            }
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} files compared");
}
