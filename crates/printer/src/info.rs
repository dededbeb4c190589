//! `info`: a summary of a file gathered from its records without decoding
//! values (types and counts come from the record headers).

use crate::dump::KeyFilter;
use crate::error::PrintError;
use crate::json::write_json_str;
use crate::keyspace::Keyspace;
use rdbscope_engine::{At, Collector, Flow, Sink, Source};
use rdbscope_json::write::{write_aux_object, write_functions};
use rdbscope_rdb::{Checksum, Header, Record};
use std::io::Write;

/// A function library (kept under its old name for the crate's users).
pub use rdbscope_rdb::FunctionLibrary as FunctionSummary;

#[derive(Debug, Clone)]
/// What `info` reports about one file.
pub struct Summary {
    /// The magic and version.
    pub header: Header,
    /// The input's size in bytes.
    pub file_size: u64,
    /// AUX fields (name, value), in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Function libraries, in file order.
    pub functions: Vec<FunctionSummary>,
    /// (module name, encoding version, when, raw bytes).
    pub module_aux: Vec<(String, u32, u64, u64)>,
    /// Number of SLOT_INFO records.
    pub slot_info_records: u64,
    /// Number of Valkey SLOT_IMPORT records.
    pub slot_imports: u64,
    /// Key counts per database.
    pub keyspace: Keyspace,
    /// What the CRC-64 trailer held, once reached.
    pub checksum: Option<Checksum>,
    /// Bytes after the trailer.
    pub trailing_bytes: u64,
    /// Why the walk ended before the end of the file, when it did: the
    /// summary then holds everything read before (see
    /// [`summarize_partial`]).
    pub error: Option<String>,
}

impl Summary {
    /// An empty summary, to be fed records.
    pub fn new(header: Header, file_size: u64) -> Summary {
        Summary {
            header,
            file_size,
            aux: Vec::new(),
            functions: Vec::new(),
            module_aux: Vec::new(),
            slot_info_records: 0,
            slot_imports: 0,
            keyspace: Keyspace::default(),
            checksum: None,
            trailing_bytes: 0,
            error: None,
        }
    }

    /// Adds one record. `db` is the database selected when it was read.
    pub fn add(&mut self, r: &Record<'_>, db: u64) -> Result<(), PrintError> {
        match r {
            Record::Aux { name, value } => self.aux.push((name.to_vec()?, value.to_vec()?)),
            Record::SelectDb { db } => {
                self.keyspace.db(*db);
            }
            Record::ResizeDb { keys, expires } => {
                self.keyspace.db(db).resize_hint = Some((*keys, *expires));
            }
            Record::SlotInfo { .. } => self.slot_info_records += 1,
            Record::Function { .. } | Record::FunctionPreGa(_) => {
                if let Some(f) = FunctionSummary::of(r) {
                    self.functions.push(f?);
                }
            }
            Record::ModuleAux { module, when } => self.module_aux.push((
                module.id.name(),
                module.id.encver(),
                *when,
                module.raw.len() as u64,
            )),
            Record::SlotImport { .. } => self.slot_imports += 1,
            Record::Key(k) => self.keyspace.add_key(k),
            Record::Eof(eof) => {
                self.checksum = Some(eof.checksum);
                self.trailing_bytes = eof.trailing.unwrap_or(0);
            }
        }
        Ok(())
    }

    /// Adds what `other` gathered over a later part of the same file.
    pub fn merge(&mut self, other: Summary) {
        self.aux.extend(other.aux);
        self.functions.extend(other.functions);
        self.module_aux.extend(other.module_aux);
        self.slot_info_records += other.slot_info_records;
        self.slot_imports += other.slot_imports;
        self.keyspace.merge(other.keyspace);
        if other.checksum.is_some() {
            self.checksum = other.checksum;
            self.trailing_bytes = other.trailing_bytes;
        }
    }

    /// Keys in every database.
    pub fn total_keys(&self) -> u64 {
        self.keyspace.keys()
    }

    /// Human-readable text.
    pub fn write_text<W: Write>(&self, o: &mut W, name: &str) -> std::io::Result<()> {
        writeln!(o, "file:      {name}")?;
        writeln!(o, "size:      {} bytes", self.file_size)?;
        writeln!(
            o,
            "format:    {} version {} ({})",
            self.header.magic(),
            self.header.version,
            self.header
        )?;
        let checksum = match self.checksum {
            None => "not reached".to_string(),
            Some(Checksum::Absent) => "absent (RDB version < 5)".to_string(),
            Some(Checksum::Disabled) => "disabled (stored as zero)".to_string(),
            Some(Checksum::Ok(v)) => format!("ok ({v:016x})"),
            Some(Checksum::NotVerified(v)) => format!("present, not verified ({v:016x})"),
        };
        writeln!(o, "checksum:  {checksum}")?;
        if self.trailing_bytes > 0 {
            writeln!(
                o,
                "trailing:  {} bytes after the checksum",
                self.trailing_bytes
            )?;
        }
        if !self.aux.is_empty() {
            writeln!(o, "aux:")?;
            for (k, v) in &self.aux {
                writeln!(
                    o,
                    "  {} = {}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )?;
            }
        }
        if !self.functions.is_empty() {
            writeln!(o, "functions:")?;
            for f in &self.functions {
                writeln!(
                    o,
                    "  {} (engine {}, {} bytes of code)",
                    String::from_utf8_lossy(&f.name),
                    String::from_utf8_lossy(&f.engine),
                    f.code_bytes
                )?;
            }
        }
        if !self.module_aux.is_empty() {
            writeln!(o, "module aux:")?;
            for (name, ver, when, len) in &self.module_aux {
                let when = match when {
                    1 => "before keyspace",
                    2 => "after keyspace",
                    _ => "unknown position",
                };
                writeln!(o, "  {name} v{ver} ({when}, {len} bytes)")?;
            }
        }
        if self.slot_info_records > 0 {
            writeln!(o, "slot info: {} records", self.slot_info_records)?;
        }
        if self.slot_imports > 0 {
            writeln!(o, "slot imports: {}", self.slot_imports)?;
        }
        writeln!(o, "keys:      {} total", self.total_keys())?;
        for (db, d) in &self.keyspace.dbs {
            write!(o, "  db{db}: keys={} expires={}", d.keys, d.expires)?;
            for (t, n) in d.types() {
                write!(o, " {t}={n}")?;
            }
            if let Some((k, e)) = d.resize_hint {
                write!(o, " (resizedb hint keys={k} expires={e})")?;
            }
            writeln!(o)?;
        }
        if let Some(e) = &self.error {
            writeln!(o, "error:     {e}")?;
            writeln!(
                o,
                "(the summary above holds what was read before the error)"
            )?;
        }
        Ok(())
    }

    /// One JSON object, on a line of its own.
    pub fn write_json<W: Write>(&self, o: &mut W, name: &str) -> std::io::Result<()> {
        self.write_json_object(o, name)?;
        o.write_all(b"\n")
    }

    /// One JSON object, to embed in another document.
    pub fn write_json_object<W: Write>(&self, o: &mut W, name: &str) -> std::io::Result<()> {
        o.write_all(b"{\"file\":")?;
        write_json_str(o, name)?;
        write!(
            o,
            ",\"size_bytes\":{},\"magic\":\"{}\",\"version\":{},\"checksum\":",
            self.file_size,
            self.header.magic(),
            self.header.version
        )?;
        match self.checksum {
            None => o.write_all(b"null")?,
            Some(c) => write!(o, "\"{}\"", c.as_str())?,
        }
        write!(o, ",\"trailing_bytes\":{},\"aux\":", self.trailing_bytes)?;
        write_aux_object(o, &self.aux)?;
        o.write_all(b",\"functions\":")?;
        write_functions(o, &self.functions)?;
        o.write_all(b",\"module_aux\":[")?;
        for (i, (name, ver, when, len)) in self.module_aux.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(
                o,
                "{{\"module\":\"{name}\",\"encver\":{ver},\"when\":{when},\"raw_bytes\":{len}}}"
            )?;
        }
        write!(
            o,
            "],\"slot_info_records\":{},\"slot_imports\":{},\"keys\":{},\"dbs\":",
            self.slot_info_records,
            self.slot_imports,
            self.total_keys()
        )?;
        self.keyspace.write_json(o)?;
        o.write_all(b",\"error\":")?;
        match &self.error {
            Some(e) => write_json_str(o, e)?,
            None => o.write_all(b"null")?,
        }
        o.write_all(b"}")
    }
}

/// Summarizes `source` with the walking engine (`opts.threads` threads).
/// `on_progress` gets the offset reached, on the calling thread.
pub fn summarize<F: KeyFilter>(
    source: Source<'_>,
    opts: &rdbscope_engine::Options,
    make_filter: impl Fn() -> F + Sync,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Summary, PrintError> {
    match summarize_partial(source, opts, make_filter, on_progress) {
        (Some(s), None) => Ok(s),
        (_, Some(e)) => Err(e),
        (None, None) => Err(PrintError::Io(std::io::Error::other("no header read"))),
    }
}

/// [`summarize`], keeping what was read when the walk ends early: the
/// summary of every record before the error (when the header was read,
/// with [`Summary::error`] set), and the error.
pub fn summarize_partial<F: KeyFilter>(
    source: Source<'_>,
    opts: &rdbscope_engine::Options,
    make_filter: impl Fn() -> F + Sync,
    on_progress: &mut dyn FnMut(u64),
) -> (Option<Summary>, Option<PrintError>) {
    let (summary, error, _, _) = summarize_walk(source, opts, make_filter, on_progress);
    (summary, error)
}

/// What [`summarize_preamble`] found.
pub struct Preamble {
    /// As [`summarize_partial`] gives them.
    pub summary: Option<Summary>,
    /// Why the walk ended before the checksum, or that the checksum is
    /// wrong.
    pub error: Option<PrintError>,
    /// Where the commands begin: past the checksum (when it was reached).
    pub end: u64,
    /// The bytes from `end` on read from the stream already.
    pub rest: Vec<u8>,
    /// Reading the stream failed (a corrupt compressed input); `error`
    /// says so too, with the offset.
    pub read_error: Option<std::io::Error>,
}

/// [`summarize_partial`] of the RDB preamble of an AOF arriving as a
/// stream: the walk ends at the checksum (the summary's `file_size` is the
/// offset past it) and the bytes after it read already come back with the
/// summary: the AOF's commands begin there. So they do when only the
/// checksum is wrong.
pub fn summarize_preamble<F: KeyFilter>(
    reader: Box<dyn std::io::Read + Send + '_>,
    opts: &rdbscope_engine::Options,
    make_filter: impl Fn() -> F + Sync,
) -> Preamble {
    let opts = rdbscope_engine::Options {
        stop_at_eof: true,
        ..*opts
    };
    let (summary, error, read_error, walked) =
        summarize_walk(Source::Stream(reader), &opts, make_filter, &mut |_| {});
    Preamble {
        summary,
        error,
        end: walked.end,
        rest: walked.rest,
        read_error,
    }
}

fn summarize_walk<F: KeyFilter>(
    source: Source<'_>,
    opts: &rdbscope_engine::Options,
    make_filter: impl Fn() -> F + Sync,
    on_progress: &mut dyn FnMut(u64),
) -> (
    Option<Summary>,
    Option<PrintError>,
    Option<std::io::Error>,
    rdbscope_engine::Walked,
) {
    let mut collector = SummaryCollector {
        summary: None,
        error: None,
    };
    let mut walked = rdbscope_engine::walk(
        source,
        opts,
        on_progress,
        |h: &Header| SummarySink {
            part: Summary::new(*h, 0),
            filter: make_filter(),
            error: None,
        },
        &mut collector,
    );
    // A stream that broke is also handed back as what it was.
    let (walk_error, read_error) = match walked.error.take() {
        Some(rdbscope_engine::WalkError::Decode(e)) => (Some(e.into()), None),
        Some(rdbscope_engine::WalkError::Io(e)) => {
            (Some(crate::dump::read_error(walked.size, &e)), Some(e))
        }
        None => (None, None),
    };
    let error = collector.error.or(walk_error);
    let summary = collector
        .summary
        .or_else(|| walked.header.map(|h| Summary::new(h, 0)))
        .map(|mut s| {
            s.file_size = walked.size;
            s.error = error.as_ref().map(|e| e.to_string());
            s
        });
    (summary, error, read_error, walked)
}

/// `info`'s per-record work: a partial summary per chunk.
struct SummarySink<F> {
    part: Summary,
    /// Which keys count (every other record always does).
    filter: F,
    error: Option<PrintError>,
}

impl<F: KeyFilter> Sink for SummarySink<F> {
    type Chunk = (Summary, Option<PrintError>);

    fn record(&mut self, r: &Record<'_>, at: &At) -> Flow {
        if let Record::Key(k) = r {
            match self.filter.accepts(k) {
                Ok(true) => {}
                Ok(false) => return Flow::Continue,
                Err(e) => {
                    self.error = Some(e.into());
                    return Flow::Stop;
                }
            }
        }
        match self.part.add(r, at.db) {
            Ok(()) => Flow::Continue,
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    fn end(&mut self) -> Self::Chunk {
        let fresh = Summary::new(self.part.header, 0);
        (std::mem::replace(&mut self.part, fresh), self.error.take())
    }
}

struct SummaryCollector {
    summary: Option<Summary>,
    error: Option<PrintError>,
}

impl Collector<(Summary, Option<PrintError>)> for SummaryCollector {
    fn collect(&mut self, (part, error): (Summary, Option<PrintError>)) -> Flow {
        match &mut self.summary {
            Some(s) => s.merge(part),
            None => self.summary = Some(part),
        }
        if error.is_some() {
            self.error = error;
            return Flow::Stop;
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shebang_names() {
        assert_eq!(
            rdbscope_rdb::records::shebang(b"#!lua name=corpuslib\nlocal x"),
            (b"lua".to_vec(), b"corpuslib".to_vec())
        );
        assert_eq!(
            rdbscope_rdb::records::shebang(b"no shebang"),
            (vec![], vec![])
        );
    }
}
