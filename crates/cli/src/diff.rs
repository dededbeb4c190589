//! `rdbscope diff A B`: the keys two inputs hold differently. The passes,
//! prints and comparisons are `rdbscope_diff`'s; this file opens the inputs
//! (again for each pass: an RDB through the engine, a JSON dump through its
//! reader; standard input saved to a temporary file first, since it can
//! be read only once) and prints.

use crate::args::{DiffArgs, DiffFormat};
use crate::options;
use crate::progress::Progress;
use crate::report::Outcome;
use crate::source::{open_streaming, Kind, Streamed};
use rdbscope_diff::index::Index;
use rdbscope_diff::print::PrintOptions;
use rdbscope_diff::{DiffError, Input, PassError, PassOptions};
use rdbscope_input::display_name;
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_rdb::OwnedKey;
use rdbscope_select::ScratchFile;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An input path, opened anew for each pass.
struct PathInput {
    path: PathBuf,
    /// Standard input saved in the scratch file `path` names, held for as
    /// long as the input (removed on drop, or by a signal).
    _saved: Option<ScratchFile>,
    /// How an AOF is replayed.
    replay: crate::args::ReplayArgs,
    common: Option<crate::args::CommonArgs>,
    /// An AOF's keys, replayed once for both passes.
    replayed: Option<Vec<rdbscope_rdb::OwnedRecord>>,
}

impl PathInput {
    fn new(path: &Path, temp_dir: &Path) -> io::Result<PathInput> {
        if path.as_os_str() != "-" {
            return Ok(PathInput {
                path: path.to_path_buf(),
                _saved: None,
                replay: Default::default(),
                common: None,
                replayed: None,
            });
        }
        let mut saved = ScratchFile::create(temp_dir, "diff-stdin")?;
        io::copy(&mut io::stdin().lock(), saved.file())?;
        Ok(PathInput {
            path: saved.path().to_path_buf(),
            _saved: Some(saved),
            replay: Default::default(),
            common: None,
            replayed: None,
        })
    }

    /// Opens the input and gives `f` its RDB source or its JSON reader.
    fn with<T>(
        &mut self,
        opts: &PassOptions,
        rdb: impl FnOnce(
            rdbscope_engine::Source<'_>,
            &PassOptions,
            &mut Progress,
        ) -> Result<T, PassError>,
        json: impl FnOnce(&mut JsonReader<Box<dyn io::BufRead + Send>>) -> Result<T, PassError>,
        owned: impl FnOnce(
            &mut dyn FnMut() -> Result<Option<rdbscope_rdb::OwnedRecord>, String>,
        ) -> Result<T, PassError>,
    ) -> Result<T, PassError> {
        let name = display_name(&self.path);
        if let Some(records) = &self.replayed {
            let mut it = records.iter().cloned();
            return owned(&mut || Ok(it.next()));
        }
        match open_streaming(&self.path) {
            Ok(Streamed::Other(Kind::Rdb(input))) => {
                let mut o = opts.clone();
                o.filter = options::settle_file_time(o.filter, input.head());
                let mut progress = Progress::for_input(&name, input.size(), input.progress());
                input.with_source(|s| rdb(s, &o, &mut progress))
            }
            Ok(Streamed::Other(Kind::Json(mut input))) => {
                let layout = match input.head() {
                    Ok(h) => sniff(h).unwrap_or(JsonLayout::Lines),
                    Err(e) => return Err(PassError::Input(format!("read error: {e}"))),
                };
                let mut r = JsonReader::new(crate::source::json_reader(input), layout);
                json(&mut r)
            }
            // Replayed once (a single file arriving compressed: as it
            // arrives), its key records kept for the later passes.
            Ok(Streamed::Other(Kind::Aof(aof))) => {
                let common = self.common.as_ref().expect("set before the passes");
                let replayed = crate::replay::run(&aof, &name, &self.replay, common, None);
                self.keep_replayed(replayed, &name, owned)
            }
            Ok(Streamed::Aof(s)) => {
                let common = self.common.as_ref().expect("set before the passes");
                let replayed = crate::replay::run_stream(s, &name, &self.replay, common, None);
                self.keep_replayed(replayed, &name, owned)
            }
            Err(crate::source::OpenError::Io(e)) | Err(crate::source::OpenError::Content(e)) => {
                Err(PassError::Input(e.to_string()))
            }
        }
    }

    /// Keeps a replayed AOF's key records for every pass, and gives them
    /// to `owned` for this one.
    fn keep_replayed<T>(
        &mut self,
        replayed: Result<crate::replay::Replayed, crate::report::Outcome>,
        name: &str,
        owned: impl FnOnce(
            &mut dyn FnMut() -> Result<Option<rdbscope_rdb::OwnedRecord>, String>,
        ) -> Result<T, PassError>,
    ) -> Result<T, PassError> {
        let replayed =
            replayed.map_err(|_| PassError::Input(format!("{name}: the replay failed")))?;
        crate::replay::report(name, &replayed, true);
        let records = self.replayed.insert(
            replayed
                .records()
                .filter(|r| matches!(r, rdbscope_rdb::OwnedRecord::Key(_)))
                .collect(),
        );
        let mut it = records.iter().cloned();
        owned(&mut || Ok(it.next()))
    }
}

impl Input for PathInput {
    fn index(&mut self, opts: &PassOptions, index: &mut Index) -> Result<(), PassError> {
        // Both closures need the index; only one runs.
        let index = std::cell::RefCell::new(index);
        self.with(
            opts,
            |s, o, p| {
                rdbscope_diff::walk::index_rdb(s, o, &mut index.borrow_mut(), &mut |at| p.at(at))
            },
            |r| rdbscope_diff::walk::index_json(r, opts, &mut index.borrow_mut()),
            |next| rdbscope_diff::walk::index_records(next, opts, &mut index.borrow_mut()),
        )
    }

    fn fetch(
        &mut self,
        opts: &PassOptions,
        wanted: Vec<u64>,
        f: &mut dyn FnMut(u64, OwnedKey) -> bool,
    ) -> Result<(), PassError> {
        if wanted.is_empty() {
            return Ok(());
        }
        let f = std::cell::RefCell::new(f);
        let w2 = wanted.clone();
        let w3 = wanted.clone();
        self.with(
            opts,
            |s, o, _| rdbscope_diff::walk::fetch_rdb(s, o, wanted, &mut **f.borrow_mut()),
            |r| rdbscope_diff::walk::fetch_json(r, opts, &w2, &mut **f.borrow_mut()),
            |next| rdbscope_diff::walk::fetch_records(next, opts, &w3, &mut **f.borrow_mut()),
        )
    }
}

pub fn run(a: &DiffArgs) -> Outcome {
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&a.output, &[&a.a, &a.b])?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    if a.a.as_os_str() == "-" && a.b.as_os_str() == "-" {
        eprintln!("rdbscope: diff: only one input can be standard input");
        return options::finish_output(out, Outcome::Failure, false);
    }
    if filter.uses_stored_size() {
        // Stored sizes exist in an RDB only; a JSON side would select
        // differently and report every key.
        eprintln!("rdbscope: diff: --min-size/--max-size compare stored sizes, which a JSON dump does not have; not supported by diff");
        return options::finish_output(out, Outcome::Failure, false);
    }
    let temp_dir = std::env::temp_dir();
    let inputs =
        PathInput::new(&a.a, &temp_dir).and_then(|x| Ok((x, PathInput::new(&a.b, &temp_dir)?)));
    let (mut ia, mut ib) = match inputs {
        Ok((mut x, mut y)) => {
            for i in [&mut x, &mut y] {
                i.replay = a.replay.clone();
                i.common = Some(a.common.clone());
            }
            (x, y)
        }
        Err(e) => {
            eprintln!("rdbscope: diff: saving standard input: {e}");
            return options::finish_output(out, Outcome::Failure, false);
        }
    };
    let opts = rdbscope_diff::Options {
        pass: PassOptions {
            filter,
            print: PrintOptions {
                ignore_ttl: a.ignore_ttl,
            },
            max_decompressed: a.common.max_value_size,
            engine: crate::options::engine(a.jobs, &a.common),
        },
        keys_only: a.keys_only,
        detect_renames: a.detect_renames,
        memory: a.memory as usize,
        temp_dir,
    };
    let mut w = io::BufWriter::with_capacity(1 << 16, &mut out);
    let format = a.format;
    let result = rdbscope_diff::diff(&mut ia, &mut ib, &opts, &mut |r| match format {
        DiffFormat::Jsonl => {
            serde_json::to_writer(&mut w, r).map_err(io::Error::other)?;
            w.write_all(b"\n")
        }
        DiffFormat::Text => rdbscope_diff::text::write_record(&mut w, r),
    });
    let outcome = match result {
        Ok(summary) => {
            let s = summary.to_json();
            let written = match format {
                DiffFormat::Jsonl => serde_json::to_writer(&mut w, &s)
                    .map_err(io::Error::other)
                    .and_then(|()| w.write_all(b"\n")),
                DiffFormat::Text => rdbscope_diff::text::write_summary(&mut w, &s),
            }
            .and_then(|()| w.flush());
            match written {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
                Err(e) => {
                    eprintln!("rdbscope: diff: write error: {e}");
                    Outcome::Failure
                }
                Ok(()) if summary.differs() => Outcome::Problem,
                Ok(()) => Outcome::Ok,
            }
        }
        Err(DiffError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
        Err(DiffError::Write(e)) => {
            eprintln!("rdbscope: diff: write error: {e}");
            Outcome::Failure
        }
        Err(DiffError::Input(i, e)) => {
            let name = display_name(if i == 0 { &a.a } else { &a.b });
            eprintln!("rdbscope: {name}: {e}");
            Outcome::Failure
        }
    };
    let _ = w.flush();
    drop(w);
    options::finish_output(out, outcome, outcome == Outcome::Problem)
}
