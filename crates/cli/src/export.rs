//! `export`: one Parquet row per key, from one or many RDBs, into one file.
//! The rows of a chunk are gathered on its worker thread (the keys in one
//! buffer, no allocation per row) and written on the calling thread, in
//! file order, by the one `ParquetExport`.

use crate::inspect::{prepare, run};
use crate::inspect_args::{ExportArgs, ParquetCompression};
use crate::report::Outcome;
use rdbscope_engine::Flow;
use rdbscope_export::{server_from_aux, Codec, ExportOptions, ParquetExport};
use rdbscope_inspect::walk::RowSink;
use rdbscope_inspect::KeyRow;
use std::ops::Range;

/// A chunk's rows: their keys back to back in `keys`, each row with the
/// range of its key (the row's own `key` field is left empty).
#[derive(Default)]
struct Rows {
    keys: Vec<u8>,
    rows: Vec<(KeyRow<'static>, Range<usize>)>,
}

impl RowSink for Rows {
    type Chunk = Rows;

    fn row(&mut self, r: &KeyRow<'_>) {
        let start = self.keys.len();
        self.keys.extend_from_slice(r.key);
        let row = r.with_key(&[]);
        self.rows.push((row, start..self.keys.len()));
    }

    fn end(&mut self) -> Rows {
        std::mem::take(self)
    }
}

/// What the walk hands to the writer thread.
enum Msg {
    /// The rows of the next input file start: its name, server, vendor.
    Source(String, Option<String>, Option<String>),
    /// A chunk of rows.
    Rows(Rows),
}

pub fn run_export(a: &ExportArgs) -> Outcome {
    if let Err(outcome) = crate::options::stdin_once("export", &a.inputs) {
        return outcome;
    }
    let inputs: Vec<&std::path::Path> = a.inputs.iter().map(|p| p.as_path()).collect();
    if a.shared.output.output.is_none() {
        eprintln!("rdbscope: export writes a Parquet file: give -o FILE.parquet (or -o - for standard output)");
        return Outcome::Failure;
    }
    let out = match crate::options::open_output(&a.shared.output, &inputs) {
        Ok(o) => o,
        Err(o) => return o,
    };
    let codec = match a.compression {
        ParquetCompression::Lz4 => Codec::Lz4,
        ParquetCompression::Zstd => Codec::Zstd(1),
        ParquetCompression::None => Codec::Uncompressed,
    };
    let opts = ExportOptions {
        codec,
        ..ExportOptions::default()
    };
    let writer = match ParquetExport::new(out, opts) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("rdbscope: export: {e}");
            return Outcome::Failure;
        }
    };
    // The Parquet writer (column encoding, compression) runs on its own
    // thread, so that the walk's threads never wait for a row group to be
    // flushed; a few chunks in flight bound the memory.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(4);
    let written = std::thread::spawn(move || {
        let mut writer = writer;
        for msg in rx {
            match msg {
                Msg::Source(name, server, vendor) => {
                    writer.source(&name, server.as_deref(), vendor.as_deref())
                }
                Msg::Rows(c) => {
                    for (row, range) in &c.rows {
                        writer.push(&row.with_key(&c.keys[range.clone()]))?;
                    }
                }
            }
        }
        writer.finish()
    });
    let mut outcome = Outcome::Ok;
    for path in &a.inputs {
        let mut p = match prepare(path, &a.shared) {
            Ok(p) => p,
            Err(o) => {
                outcome = outcome.max(o);
                continue;
            }
        };
        let (server, vendor) = server_from_aux(p.redis_ver.as_deref(), p.valkey_ver.as_deref());
        let msg = Msg::Source(
            p.name.clone(),
            server.map(String::from),
            vendor.map(String::from),
        );
        if tx.send(msg).is_err() {
            break; // the writer failed: its error is reported below
        }
        let walked = run(&mut p, &a.shared, Rows::default, &mut |c: Rows| match tx
            .send(Msg::Rows(c))
        {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        });
        if walked.problem {
            outcome = outcome.max(Outcome::Problem);
        }
    }
    drop(tx);
    let (out, summary) = match written.join() {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            eprintln!("rdbscope: export: {e}");
            return Outcome::Failure;
        }
        Err(_) => {
            eprintln!("rdbscope: export: the writer thread failed");
            return Outcome::Failure;
        }
    };
    if !crate::options::quiet() {
        eprintln!(
            "rdbscope: {} rows from {} inputs in {} row groups, {} bytes",
            summary.rows, summary.sources, summary.row_groups, summary.bytes
        );
    }
    // A damaged input: its rows up to the damage are in the file, and the
    // exit code says so.
    crate::options::finish_output(out, outcome, true)
}
