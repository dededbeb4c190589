//! JSON rendering of RDB records: JSON Lines (one record per line) or one
//! JSON array. The schema is documented in `docs/json-format.md`.
//!
//! Values are rendered while they are walked, element by element, into the
//! printer's own output buffer, which goes to the caller's writer in large
//! blocks and only at record boundaries. If a value turns out to be broken
//! halfway, the buffer is cut back to the start of that record: the output
//! never holds half a record, so every line a JSON Lines reader sees is
//! whole. The buffer holds at most one record beyond the flush threshold
//! (a record over 64 MiB is streamed instead; see `SPILL_AT`).

use crate::error::PrintError;
use crate::out::OutBuf;
use rdbscope_rdb::stream::{Stream, StreamId, ENTRIES_READ_UNKNOWN};
use rdbscope_rdb::{Elem, Header, KeyRecord, KeyType, RdbString, Record, Scratch, Stage};
use std::io::Write;

/// Output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One JSON object per line.
    Lines,
    /// One JSON array holding every record.
    Document,
}

/// Hand output to the sink in blocks of about this size.
const FLUSH_AT: usize = 256 << 10;

/// A single record bigger than this (a huge hash, say) is streamed to the
/// sink as it is rendered instead of held whole: memory stays bounded, at
/// the price that such a record, if its value breaks halfway, is left
/// incomplete in the output (the error still goes to stderr, exit code 1).
const SPILL_AT: usize = 64 << 20;

/// The printer's output: a buffer in front of the sink that hands over
/// whole records (see [`SPILL_AT`] for the one exception). Without a sink
/// (see [`JsonPrinter::into_buffer`]) everything stays in the buffer.
struct Out<W: Write> {
    buf: OutBuf,
    sink: Option<W>,
    /// Where the record being rendered starts in `buf`.
    mark: usize,
    /// Part of the current record already went to the sink.
    spilled: bool,
}

impl<W: Write> Out<W> {
    fn start_record(&mut self) {
        self.mark = self.buf.len();
        self.spilled = false;
    }

    /// Takes the current record back out, if it is still all in the buffer.
    fn abort_record(&mut self) {
        if !self.spilled {
            self.buf.truncate(self.mark);
        }
    }

    fn end_record(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            if let Some(sink) = &mut self.sink {
                sink.write_all(self.buf.as_slice())?;
                self.buf.clear();
            }
        }
        Ok(())
    }
}

impl<W: Write> Write for Out<W> {
    #[inline]
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.write_all(b)?;
        Ok(b.len())
    }

    #[inline(always)]
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.buf.put(b);
        if self.buf.len() >= SPILL_AT {
            if let Some(sink) = &mut self.sink {
                sink.write_all(self.buf.as_slice())?;
                self.buf.clear();
                self.spilled = true;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(sink) = &mut self.sink {
            sink.write_all(self.buf.as_slice())?;
            self.buf.clear();
            sink.flush()?;
        }
        Ok(())
    }
}

/// Writes records as JSON.
pub struct JsonPrinter<W: Write> {
    out: Out<W>,
    layout: Layout,
    scratch: Scratch,
    key_buf: Vec<u8>,
    val_buf: Vec<u8>,
    written: u64,
}

impl<W: Write> JsonPrinter<W> {
    pub fn new(out: W, layout: Layout, scratch: Scratch) -> JsonPrinter<W> {
        JsonPrinter::with_out(
            Out {
                buf: OutBuf::with_capacity(FLUSH_AT + (FLUSH_AT >> 2)),
                sink: Some(out),
                mark: 0,
                spilled: false,
            },
            layout,
            scratch,
        )
    }

    fn with_out(out: Out<W>, layout: Layout, scratch: Scratch) -> JsonPrinter<W> {
        JsonPrinter {
            out,
            layout,
            scratch,
            key_buf: Vec::new(),
            val_buf: Vec::new(),
            written: 0,
        }
    }

    /// Ends the array of the one-document layout.
    fn close_document(&mut self) -> Result<(), PrintError> {
        if self.layout == Layout::Document {
            self.out
                .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        Ok(())
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    fn begin(&mut self) -> Result<(), PrintError> {
        if self.layout == Layout::Document {
            self.out
                .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
        }
        self.written += 1;
        Ok(())
    }

    fn end(&mut self) -> Result<(), PrintError> {
        if self.layout == Layout::Lines {
            self.out.write_all(b"\n")?;
        }
        self.out.end_record()?;
        Ok(())
    }

    /// `{"record":"header",...}`
    pub fn header(&mut self, h: &Header) -> Result<(), PrintError> {
        self.begin()?;
        write!(
            self.out,
            "{{\"record\":\"header\",\"magic\":\"{}\",\"version\":{}}}",
            h.magic(),
            h.version
        )?;
        self.end()
    }

    /// Any record; key records go to [`JsonPrinter::key`].
    pub fn record(&mut self, r: &Record<'_>) -> Result<(), PrintError> {
        if let Record::Key(k) = r {
            return self.key(k);
        }
        let written = self.written;
        self.out.start_record();
        self.other_record(r).map_err(|e| {
            self.out.abort_record();
            self.written = written;
            // A string that fails to decode here belongs to this record.
            match e {
                PrintError::Rdb(e) => PrintError::Rdb(e.with_stage(match r {
                    Record::Aux { .. } => Stage::ReadAux,
                    Record::Function { .. } | Record::FunctionPreGa(_) => Stage::ReadFunction,
                    _ => Stage::ReadOpcode,
                })),
                io => io,
            }
        })
    }

    fn other_record(&mut self, r: &Record<'_>) -> Result<(), PrintError> {
        self.begin()?;
        let o = &mut self.out;
        let buf = &mut self.val_buf;
        match r {
            Record::Aux { name, value } => {
                o.write_all(b"{\"record\":\"aux\",\"name\":")?;
                write_rdb_string(o, name, buf)?;
                o.write_all(b",\"value\":")?;
                write_rdb_string(o, value, buf)?;
                o.write_all(b"}")?;
            }
            Record::SelectDb { db } => write!(o, "{{\"record\":\"selectdb\",\"db\":{db}}}")?,
            Record::ResizeDb { keys, expires } => write!(
                o,
                "{{\"record\":\"resizedb\",\"keys\":{keys},\"expires\":{expires}}}"
            )?,
            Record::SlotInfo {
                slot,
                size,
                expires_size,
            } => write!(
                o,
                "{{\"record\":\"slot_info\",\"slot\":{slot},\"size\":{size},\"expires_size\":{expires_size}}}"
            )?,
            Record::Function { code } => {
                o.write_all(b"{\"record\":\"function\",\"code\":")?;
                write_rdb_string(o, code, buf)?;
                o.write_all(b"}")?;
            }
            Record::FunctionPreGa(f) => {
                o.write_all(b"{\"record\":\"function_pre_ga\",\"name\":")?;
                write_rdb_string(o, &f.name, buf)?;
                o.write_all(b",\"engine\":")?;
                write_rdb_string(o, &f.engine, buf)?;
                o.write_all(b",\"description\":")?;
                match &f.description {
                    Some(d) => write_rdb_string(o, d, buf)?,
                    None => o.write_all(b"null")?,
                }
                o.write_all(b",\"code\":")?;
                write_rdb_string(o, &f.code, buf)?;
                o.write_all(b"}")?;
            }
            Record::ModuleAux { module, when } => {
                write!(
                    o,
                    "{{\"record\":\"module_aux\",\"module\":\"{}\",\"encver\":{},\"when\":{when},\"raw\":",
                    module.id.name(),
                    module.id.encver()
                )?;
                write_bytes(o, module.raw)?;
                o.write_all(b"}")?;
            }
            Record::SlotImport { job, ranges, .. } => {
                o.write_all(b"{\"record\":\"slot_import\",\"job\":")?;
                write_rdb_string(o, job, buf)?;
                o.write_all(b",\"ranges\":[")?;
                for (i, (a, b)) in Record::slot_ranges(ranges).enumerate() {
                    if i > 0 {
                        o.write_all(b",")?;
                    }
                    write!(o, "[{a},{b}]")?;
                }
                o.write_all(b"]}")?;
            }
            Record::Eof(eof) => write!(
                o,
                "{{\"record\":\"eof\",\"checksum\":\"{}\",\"trailing_bytes\":{}}}",
                eof.checksum.as_str(),
                eof.trailing
            )?,
            Record::Key(_) => unreachable!("handled above"),
        }
        self.end()
    }

    /// One key record. On error nothing of it stays in the output.
    pub fn key(&mut self, k: &KeyRecord<'_>) -> Result<(), PrintError> {
        let written = self.written;
        self.out.start_record();
        self.key_inner(k).map_err(|e| {
            self.out.abort_record();
            self.written = written;
            match e {
                PrintError::Rdb(e) => PrintError::Rdb(k.annotate(e)),
                io => io,
            }
        })
    }

    fn key_inner(&mut self, k: &KeyRecord<'_>) -> Result<(), PrintError> {
        self.begin()?;
        let o = &mut self.out;
        o.write_all(b"{\"db\":")?;
        write_u64(o, k.db)?;
        o.write_all(b",\"key\":")?;
        write_rdb_string(o, &k.key, &mut self.key_buf)?;
        let v = &k.value;
        let encoding = match v.key_type() {
            KeyType::String => match v.string()?.as_int() {
                Some(_) => "int",
                None => "raw",
            },
            _ => v.encoding().name(),
        };
        o.write_all(b",\"type\":\"")?;
        o.write_all(v.key_type().as_str().as_bytes())?;
        o.write_all(b"\",\"encoding\":\"")?;
        o.write_all(encoding.as_bytes())?;
        o.write_all(b"\",\"expire_at_ms\":")?;
        match k.expire_at_ms {
            Some(ms) => write_i64(o, ms)?,
            None => o.write_all(b"null")?,
        }
        o.write_all(b",\"value\":")?;
        let s = &mut self.scratch;
        match v.key_type() {
            KeyType::String => write_rdb_string(o, &v.string()?, &mut self.val_buf)?,
            KeyType::List | KeyType::Set => {
                o.write_all(b"[")?;
                let mut first = true;
                v.for_each_member(s, |e| {
                    if !std::mem::take(&mut first) {
                        o.write_all(b",")?;
                    }
                    write_elem(o, e)?;
                    Ok::<_, PrintError>(())
                })?;
                o.write_all(b"]")?;
            }
            KeyType::ZSet => {
                o.write_all(b"[")?;
                let mut first = true;
                v.for_each_scored(s, |m, score| {
                    if !std::mem::take(&mut first) {
                        o.write_all(b",")?;
                    }
                    o.write_all(b"[")?;
                    write_elem(o, m)?;
                    o.write_all(b",")?;
                    write_score(o, score.value())?;
                    o.write_all(b"]")?;
                    Ok::<_, PrintError>(())
                })?;
                o.write_all(b"]")?;
            }
            KeyType::Hash => {
                o.write_all(b"[")?;
                let mut first = true;
                let mut any_ttl = false;
                v.for_each_field(s, |f, val, ttl| {
                    if !std::mem::take(&mut first) {
                        o.write_all(b",")?;
                    }
                    any_ttl |= ttl.is_some();
                    o.write_all(b"[")?;
                    write_elem(o, f)?;
                    o.write_all(b",")?;
                    write_elem(o, val)?;
                    o.write_all(b"]")?;
                    Ok::<_, PrintError>(())
                })?;
                o.write_all(b"]")?;
                if any_ttl {
                    // A second walk rather than remembering fields: only
                    // hashes with field TTLs pay for it, and nothing grows.
                    o.write_all(b",\"field_expire_at_ms\":[")?;
                    let mut first = true;
                    v.for_each_field(s, |f, _, ttl| {
                        if let Some(ms) = ttl {
                            if !std::mem::take(&mut first) {
                                o.write_all(b",")?;
                            }
                            o.write_all(b"[")?;
                            write_elem(o, f)?;
                            o.write_all(b",")?;
                            write_i64(o, ms)?;
                            o.write_all(b"]")?;
                        }
                        Ok::<_, PrintError>(())
                    })?;
                    o.write_all(b"]")?;
                }
            }
            KeyType::Stream => write_stream(o, &v.stream()?, s, &mut self.val_buf)?,
            KeyType::Module => {
                let m = v.module()?;
                write!(
                    o,
                    "{{\"module\":\"{}\",\"encver\":{},\"raw\":",
                    m.id.name(),
                    m.id.encver()
                )?;
                write_bytes(o, m.raw)?;
                o.write_all(b"}")?;
            }
        }
        if let Some(idle) = k.idle_s {
            write!(o, ",\"idle_s\":{idle}")?;
        }
        if let Some(freq) = k.freq {
            write!(o, ",\"freq\":{freq}")?;
        }
        if let Some(meta) = k.key_meta {
            o.write_all(b",\"key_meta_raw\":")?;
            write_bytes(o, meta)?;
        }
        o.write_all(b"}")?;
        self.end()
    }

    /// Hands every complete record to the sink (call before reporting an
    /// error, so that what was read is written).
    pub fn flush(&mut self) -> Result<(), PrintError> {
        self.out.flush()?;
        Ok(())
    }

    /// Closes the document (for [`Layout::Document`]) and flushes.
    pub fn finish(mut self) -> Result<W, PrintError> {
        self.close_document()?;
        self.flush()?;
        Ok(self.out.sink.expect("finish is for printers with a writer"))
    }
}

impl JsonPrinter<std::io::Sink> {
    /// A printer that keeps all its output in memory, in `buf` (emptied
    /// first, its allocation reused), for [`JsonPrinter::into_buffer`]:
    /// for rendering a batch of records on a worker thread.
    pub fn in_memory(buf: Vec<u8>, layout: Layout, scratch: Scratch) -> Self {
        let out = Out {
            buf: OutBuf::from_vec(buf),
            sink: None,
            mark: 0,
            spilled: false,
        };
        JsonPrinter::with_out(out, layout, scratch)
    }

    /// Makes this printer write as if `n` records had been written before
    /// it (so that a [`Layout::Document`] printer for a later chunk of a
    /// file separates its first record with a comma).
    pub fn after_records(mut self, n: u64) -> Self {
        self.written = n;
        self
    }

    /// The output of an [`JsonPrinter::in_memory`] printer (whole
    /// records), without closing a document, and its scratch space.
    pub fn into_parts(self) -> (Vec<u8>, Scratch) {
        (self.out.buf.into_vec(), self.scratch)
    }

    /// The output of an [`JsonPrinter::in_memory`] printer (whole
    /// records), and its scratch space for the next printer.
    pub fn into_buffer(mut self) -> Result<(Vec<u8>, Scratch), PrintError> {
        self.close_document()?;
        Ok((self.out.buf.into_vec(), self.scratch))
    }
}

fn write_id<W: Write>(o: &mut W, id: StreamId) -> std::io::Result<()> {
    o.write_all(b"\"")?;
    write_u64(o, id.ms)?;
    o.write_all(b"-")?;
    write_u64(o, id.seq)?;
    o.write_all(b"\"")
}

fn write_opt_id<W: Write>(o: &mut W, id: Option<StreamId>) -> std::io::Result<()> {
    match id {
        Some(id) => write_id(o, id),
        None => o.write_all(b"null"),
    }
}

fn write_opt_u64<W: Write>(o: &mut W, v: Option<u64>) -> std::io::Result<()> {
    match v {
        Some(v) => write_u64(o, v),
        None => o.write_all(b"null"),
    }
}

fn write_stream<W: Write>(
    o: &mut W,
    st: &Stream<'_>,
    s: &mut Scratch,
    buf: &mut Vec<u8>,
) -> Result<(), PrintError> {
    o.write_all(b"{\"entries\":[")?;
    let mut first = true;
    st.for_each_entry(s, |entry| {
        if !std::mem::take(&mut first) {
            o.write_all(b",")?;
        }
        o.write_all(b"[")?;
        write_id(o, entry.id)?;
        o.write_all(b",[")?;
        for (i, pair) in entry.fields().enumerate() {
            let (f, v) = pair?;
            if i > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"[")?;
            write_elem(o, f)?;
            o.write_all(b",")?;
            write_elem(o, v)?;
            o.write_all(b"]")?;
        }
        o.write_all(b"]]")?;
        Ok::<_, PrintError>(())
    })?;
    let m = st.meta();
    write!(o, "],\"length\":{},\"last_id\":", m.length)?;
    write_id(o, m.last_id)?;
    o.write_all(b",\"first_id\":")?;
    write_opt_id(o, m.first_id)?;
    o.write_all(b",\"max_deleted_id\":")?;
    write_opt_id(o, m.max_deleted_id)?;
    o.write_all(b",\"entries_added\":")?;
    write_opt_u64(o, m.entries_added)?;
    o.write_all(b",\"groups\":")?;
    write_groups(o, st, buf)?;
    o.write_all(b",\"idmp\":")?;
    match st.idmp() {
        None => o.write_all(b"null")?,
        Some(idmp) => {
            write!(
                o,
                "{{\"duration_s\":{},\"maxsize\":{},\"producers\":[",
                idmp.duration_s, idmp.maxsize
            )?;
            for (i, p) in idmp.producers().enumerate() {
                let p = p?;
                if i > 0 {
                    o.write_all(b",")?;
                }
                o.write_all(b"{\"pid\":")?;
                write_rdb_string(o, &p.pid, buf)?;
                o.write_all(b",\"iids\":[")?;
                for (j, iid) in p.iids().enumerate() {
                    let (iid, id) = iid?;
                    if j > 0 {
                        o.write_all(b",")?;
                    }
                    o.write_all(b"[")?;
                    write_rdb_string(o, &iid, buf)?;
                    o.write_all(b",")?;
                    write_id(o, id)?;
                    o.write_all(b"]")?;
                }
                o.write_all(b"]}")?;
            }
            let (added, dups) = idmp.counters()?;
            write!(o, "],\"iids_added\":{added},\"iids_duplicates\":{dups}}}")?;
        }
    }
    o.write_all(b"}")?;
    Ok(())
}

/// Consumer groups. A group PEL entry's owner is stored only in the
/// consumers that follow the PEL, so the owners are gathered first: one
/// (id, consumer) pair per pending entry of this group, sorted for lookup.
/// That is memory proportional to the group's PEL, which the value itself
/// already takes in the file.
fn write_groups<W: Write>(o: &mut W, st: &Stream<'_>, buf: &mut Vec<u8>) -> Result<(), PrintError> {
    o.write_all(b"[")?;
    let mut owners: Vec<(StreamId, usize)> = Vec::new();
    let mut names: Vec<RdbString<'_>> = Vec::new();
    for (gi, g) in st.groups().enumerate() {
        let g = g?;
        if gi > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"{\"name\":")?;
        write_rdb_string(o, &g.name, buf)?;
        o.write_all(b",\"last_delivered_id\":")?;
        write_id(o, g.last_id)?;
        o.write_all(b",\"entries_read\":")?;
        write_opt_u64(o, g.entries_read.filter(|&v| v != ENTRIES_READ_UNKNOWN))?;
        owners.clear();
        names.clear();
        for (ci, c) in g.consumers().enumerate() {
            let c = c?;
            names.push(c.name);
            owners.extend(c.pel().map(|id| (id, ci)));
        }
        owners.sort_unstable();
        o.write_all(b",\"pending\":[")?;
        for (i, p) in g.pel().enumerate() {
            let p = p?;
            if i > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"[")?;
            write_id(o, p.id)?;
            o.write_all(b",")?;
            let owner = owners
                .binary_search_by(|(id, _)| id.cmp(&p.id))
                .ok()
                .map(|i| owners[i].1);
            match owner {
                Some(ci) => write_rdb_string(o, &names[ci], buf)?,
                None => o.write_all(b"null")?,
            }
            o.write_all(b",")?;
            write_i64(o, p.delivery_time_ms)?;
            o.write_all(b",")?;
            write_u64(o, p.delivery_count)?;
            o.write_all(b"]")?;
        }
        o.write_all(b"],\"consumers\":[")?;
        for (ci, c) in g.consumers().enumerate() {
            let c = c?;
            if ci > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"{\"name\":")?;
            write_rdb_string(o, &c.name, buf)?;
            write!(
                o,
                ",\"seen_time_ms\":{},\"active_time_ms\":",
                c.seen_time_ms
            )?;
            match c.active_time_ms {
                Some(t) => write!(o, "{t}")?,
                None => o.write_all(b"null")?,
            }
            o.write_all(b",\"pending\":[")?;
            for (i, id) in c.pel().enumerate() {
                if i > 0 {
                    o.write_all(b",")?;
                }
                write_id(o, id)?;
            }
            o.write_all(b"]}")?;
        }
        o.write_all(b"]}")?;
    }
    o.write_all(b"]")?;
    Ok(())
}

/// A zset score: a JSON number, or a string for values JSON cannot hold.
pub fn write_score<W: Write>(o: &mut W, score: f64) -> std::io::Result<()> {
    if score.is_nan() {
        o.write_all(b"\"nan\"")
    } else if score == f64::INFINITY {
        o.write_all(b"\"inf\"")
    } else if score == f64::NEG_INFINITY {
        o.write_all(b"\"-inf\"")
    } else {
        // serde_json prints the shortest text that reads back to the same
        // double, e.g. 0.1, 1e+300, 5e-324, -0.0.
        serde_json::to_writer(&mut *o, &score).map_err(std::io::Error::other)
    }
}

/// An element as a binary-safe JSON string.
#[inline]
pub fn write_elem<W: Write>(o: &mut W, e: Elem<'_>) -> std::io::Result<()> {
    match e {
        Elem::Str(s) => write_bytes(o, s),
        Elem::Int(v) => write_quoted_int(o, v),
    }
}

/// A JSON number from a signed integer, without `fmt`.
#[inline]
fn write_i64<W: Write>(o: &mut W, v: i64) -> std::io::Result<()> {
    let mut digits = [0u8; 20];
    o.write_all(rdbscope_rdb::rdb_string::int_text(v, &mut digits))
}

/// A JSON number from an unsigned integer, without `fmt`.
#[inline]
pub fn write_u64<W: Write>(o: &mut W, v: u64) -> std::io::Result<()> {
    if let Ok(v) = i64::try_from(v) {
        return write_i64(o, v);
    }
    write!(o, "{v}")
}

/// `"123"`: an integer that stands for a string.
#[inline]
fn write_quoted_int<W: Write>(o: &mut W, v: i64) -> std::io::Result<()> {
    let mut tmp = [0u8; 22];
    let mut digits = [0u8; 20];
    let text = rdbscope_rdb::rdb_string::int_text(v, &mut digits);
    tmp[0] = b'"';
    tmp[1..=text.len()].copy_from_slice(text);
    tmp[text.len() + 1] = b'"';
    o.write_all(&tmp[..text.len() + 2])
}

/// An RDB string as a binary-safe JSON string (decoding LZF into `buf`).
pub fn write_rdb_string<W: Write>(
    o: &mut W,
    s: &RdbString<'_>,
    buf: &mut Vec<u8>,
) -> Result<(), PrintError> {
    if let Some(v) = s.as_int() {
        write_quoted_int(o, v)?;
        return Ok(());
    }
    let b = s.bytes(buf)?;
    write_bytes(o, b)?;
    Ok(())
}

/// Bytes as a JSON string when they are UTF-8, else `{"base64":"..."}`.
#[inline]
pub fn write_bytes<W: Write>(o: &mut W, b: &[u8]) -> std::io::Result<()> {
    // Most keys and values are plain ASCII with nothing to escape: one scan
    // proves it and the bytes go out as they are.
    if is_plain_ascii(b) {
        o.write_all(b"\"")?;
        o.write_all(b)?;
        return o.write_all(b"\"");
    }
    match std::str::from_utf8(b) {
        Ok(s) => write_json_str(o, s),
        Err(_) => {
            o.write_all(b"{\"base64\":\"")?;
            write_base64(o, b)?;
            o.write_all(b"\"}")
        }
    }
}

/// Bytes that a JSON string cannot hold as they are (controls, `"`, `\\`),
/// or that need a UTF-8 check (>= 0x80).
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize;
        i += 1;
    }
    t
};

/// Whether `b` is ASCII without control characters, `"` or `\\`: eight
/// bytes at a time, the last word overlapping the one before it (strings
/// of 4-7 bytes are two overlapping 4-byte reads), by table below 4.
#[inline]
fn is_plain_ascii(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 8 {
        let mut i = 0;
        while i + 8 <= n {
            if special_bytes(word8(b, i)) != 0 {
                return false;
            }
            i += 8;
        }
        i == n || special_bytes(word8(b, n - 8)) == 0
    } else if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        special_bytes(u64::from(lo) | (u64::from(hi) << 32)) == 0
    } else {
        !b.iter().any(|&c| SPECIAL[c as usize])
    }
}

#[inline(always)]
fn word8(b: &[u8], at: usize) -> u64 {
    let c = &b[at..at + 8];
    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

/// Non-zero when a byte of `w` is special (see [`SPECIAL`]).
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    #[inline(always)]
    fn has_zero_byte(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    // A byte < 0x20 (with bit 7 clear) makes `w - 0x20..` borrow into its
    // bit 7; bytes >= 0x80 are caught by `w & HIGH` either way.
    (w & HIGH)
        | (w.wrapping_sub(0x2020_2020_2020_2020) & !w & HIGH)
        | has_zero_byte(w ^ (ONES * u64::from(b'"')))
        | has_zero_byte(w ^ (ONES * u64::from(b'\\')))
}

/// A JSON string literal, escaping only what JSON requires.
pub fn write_json_str<W: Write>(o: &mut W, s: &str) -> std::io::Result<()> {
    let b = s.as_bytes();
    o.write_all(b"\"")?;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                o.write_all(&b[start..i])?;
                write!(o, "\\u{c:04x}")?;
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        o.write_all(&b[start..i])?;
        o.write_all(esc)?;
        start = i + 1;
    }
    o.write_all(&b[start..])?;
    o.write_all(b"\"")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn write_base64<W: Write>(o: &mut W, b: &[u8]) -> std::io::Result<()> {
    let mut out = [0u8; 4 * 256];
    for chunk in b.chunks(3 * 256) {
        let mut n = 0;
        for t in chunk.chunks(3) {
            let v = (u32::from(t[0]) << 16)
                | (u32::from(*t.get(1).unwrap_or(&0)) << 8)
                | u32::from(*t.get(2).unwrap_or(&0));
            out[n] = B64[(v >> 18) as usize & 63];
            out[n + 1] = B64[(v >> 12) as usize & 63];
            out[n + 2] = if t.len() > 1 {
                B64[(v >> 6) as usize & 63]
            } else {
                b'='
            };
            out[n + 3] = if t.len() > 2 {
                B64[v as usize & 63]
            } else {
                b'='
            };
            n += 4;
        }
        o.write_all(&out[..n])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
        let mut v = Vec::new();
        f(&mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_escape_and_base64() {
        assert_eq!(
            s(|o| write_bytes(o, b"a\"b\\c\n\x01")),
            r#""a\"b\\c\n\u0001""#
        );
        assert_eq!(
            s(|o| write_bytes(o, b"\x00bin\xffkey\x80")),
            r#"{"base64":"AGJpbv9rZXmA"}"#
        );
        assert_eq!(s(|o| write_base64(o, b"")), "");
        assert_eq!(s(|o| write_base64(o, b"f")), "Zg==");
        assert_eq!(s(|o| write_base64(o, b"fo")), "Zm8=");
        assert_eq!(s(|o| write_base64(o, b"foo")), "Zm9v");
        let big: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let enc = s(|o| write_base64(o, &big));
        assert_eq!(enc.len(), 2000_usize.div_ceil(3) * 4);
    }

    #[test]
    fn plain_ascii_scan_agrees_with_bytewise() {
        let bytewise = |b: &[u8]| {
            b.iter()
                .all(|&c| (0x20..0x80).contains(&c) && c != b'"' && c != b'\\')
        };
        let samples: [&[u8]; 9] = [
            b"",
            b"plain text here!",
            b"0123456789abcdef0",
            b"with \"quote\" ok",
            b"back\\slash12345",
            b"tab\there 12345",
            b"\x7f del ok 1234",
            "ümlaut 12345678".as_bytes(),
            b"\x1f",
        ];
        for s in samples {
            assert_eq!(is_plain_ascii(s), bytewise(s), "{s:?}");
        }
        // Every length around the word and half-word paths, every position.
        for len in 1..=25 {
            for c in 0u8..=255 {
                for pos in 0..len {
                    let mut v = vec![b'a'; len];
                    v[pos] = c;
                    assert_eq!(
                        is_plain_ascii(&v),
                        bytewise(&v),
                        "byte {c:#x} at {pos} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn scores() {
        assert_eq!(s(|o| write_score(o, f64::INFINITY)), "\"inf\"");
        assert_eq!(s(|o| write_score(o, f64::NEG_INFINITY)), "\"-inf\"");
        assert_eq!(s(|o| write_score(o, 0.1)), "0.1");
        assert_eq!(s(|o| write_score(o, 3.0)), "3.0");
        // Shortest round-trip text, valid JSON, exact when read back.
        for v in [0.1, 1e300, 5e-324, -0.0, 3.0, -7.25, 0.1 + 0.2, f64::MAX] {
            let text = s(|o| write_score(o, v));
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{text}");
        }
    }
}
