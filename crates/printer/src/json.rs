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
pub use rdbscope_json::write::{
    write_base64, write_bytes, write_elem, write_json_str, write_rdb_string, write_score, write_u64,
};
use rdbscope_json::write::{
    write_elem_between, write_i64, write_id, write_opt_id, write_opt_u64, write_rdb_string_between,
    write_stored_score, Pieces,
};
use rdbscope_rdb::owned::OwnedStream;
use rdbscope_rdb::stream::{Stream, StreamId, ENTRIES_READ_UNKNOWN};
use rdbscope_rdb::{
    FieldWalk, Header, KeyRecord, MemberWalk, OwnedKey, OwnedRecord, OwnedValue, RdbString, Record,
    ScoredWalk, Scratch, Stage, Typed,
};
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
        self.spill_check()
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

impl<W: Write> Pieces for Out<W> {
    #[inline(always)]
    fn quoted_between(&mut self, before: &[u8], b: &[u8], after: &[u8]) -> std::io::Result<()> {
        self.buf.put_quoted_between(before, b, after);
        self.spill_check()
    }
}

impl<W: Write> Out<W> {
    /// Hands the buffer to the sink when it has grown past `SPILL_AT`.
    #[inline(always)]
    fn spill_check(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= SPILL_AT {
            if let Some(sink) = &mut self.sink {
                sink.write_all(self.buf.as_slice())?;
                self.buf.clear();
                self.spilled = true;
            }
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
    /// Whether key records carry their value (else a size: `--keys-only`).
    values: bool,
}

impl<W: Write> JsonPrinter<W> {
    /// A printer writing `layout` to `out`, decoding values with `scratch`.
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

    /// Key records without their value: db, key, type, encoding, expiry,
    /// and the value's size instead (`"elements"` of a collection or a
    /// stream's entries, `"length"` of a string in bytes), for `dump
    /// --keys-only`. Elements are counted by walking them, never printed.
    pub fn without_values(mut self) -> Self {
        self.values = false;
        self
    }

    fn with_out(out: Out<W>, layout: Layout, scratch: Scratch) -> JsonPrinter<W> {
        JsonPrinter {
            out,
            layout,
            scratch,
            key_buf: Vec::new(),
            val_buf: Vec::new(),
            written: 0,
            values: true,
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
        let limit = self.scratch.limit();
        let o = &mut self.out;
        let buf = &mut self.val_buf;
        match r {
            Record::Aux { name, value } => {
                o.write_all(b"{\"record\":\"aux\",\"name\":")?;
                write_rdb_string(o, name, buf, limit)?;
                o.write_all(b",\"value\":")?;
                write_rdb_string(o, value, buf, limit)?;
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
                write_rdb_string(o, code, buf, limit)?;
                o.write_all(b"}")?;
            }
            Record::FunctionPreGa(f) => {
                o.write_all(b"{\"record\":\"function_pre_ga\",\"name\":")?;
                write_rdb_string(o, &f.name, buf, limit)?;
                o.write_all(b",\"engine\":")?;
                write_rdb_string(o, &f.engine, buf, limit)?;
                o.write_all(b",\"description\":")?;
                match &f.description {
                    Some(d) => write_rdb_string(o, d, buf, limit)?,
                    None => o.write_all(b"null")?,
                }
                o.write_all(b",\"code\":")?;
                write_rdb_string(o, &f.code, buf, limit)?;
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
                write_rdb_string(o, job, buf, limit)?;
                o.write_all(b",\"ranges\":[")?;
                for (i, (a, b)) in Record::slot_ranges(ranges).enumerate() {
                    if i > 0 {
                        o.write_all(b",")?;
                    }
                    write!(o, "[{a},{b}]")?;
                }
                o.write_all(b"]}")?;
            }
            Record::Eof(eof) => {
                write!(
                    o,
                    "{{\"record\":\"eof\",\"checksum\":\"{}\",\"trailing_bytes\":",
                    eof.checksum.as_str()
                )?;
                write_trailing(o, eof.trailing)?;
            }
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
        let v = &k.value;
        let typed = v.typed();
        // A string is parsed once, here: its form names the encoding.
        let (encoding, string) = match typed {
            Typed::String(st) => {
                let st = st.string()?;
                (if st.as_int().is_some() { "int" } else { "raw" }, Some(st))
            }
            Typed::List(_)
            | Typed::Set(_)
            | Typed::Zset(_)
            | Typed::Hash(_)
            | Typed::Stream(_)
            | Typed::Module(_) => (v.encoding().name(), None),
        };
        // The record's head, `{"db":N,"key":K,"type":"T","encoding":"E",
        // "expire_at_ms":`, in three writes.
        let limit = self.scratch.limit();
        let before: &[u8] = if k.db == 0 {
            b"{\"db\":0,\"key\":"
        } else {
            o.write_all(b"{\"db\":")?;
            write_u64(o, k.db)?;
            b",\"key\":"
        };
        write_rdb_string_between(o, before, &k.key, &mut self.key_buf, limit, b",\"type\":")?;
        o.quoted_between(b"", v.key_type().as_str().as_bytes(), b",\"encoding\":")?;
        o.quoted_between(b"", encoding.as_bytes(), b",\"expire_at_ms\":")?;
        let simple_tail = k.idle_s.is_none() && k.freq.is_none() && k.key_meta.is_none();
        match k.expire_at_ms {
            Some(ms) => write_i64(o, ms)?,
            None if self.values => {
                o.write_all(b"null,\"value\":")?;
                // A plain string's value and the record's end in one piece.
                if let (Typed::String(_), Some(st), true) = (&typed, &string, simple_tail) {
                    write_rdb_string_between(o, b"", st, &mut self.val_buf, limit, b"}")?;
                    return self.end();
                }
            }
            None => o.write_all(b"null")?,
        }
        if !self.values {
            let s = &mut self.scratch;
            match typed {
                Typed::String(_) => {
                    if let Some(st) = &string {
                        write!(o, ",\"length\":{}", st.len())?;
                    }
                }
                Typed::List(l) => {
                    let mut n = 0u64;
                    l.for_each(s, |_| -> Result<(), rdbscope_rdb::Error> {
                        n += 1;
                        Ok(())
                    })?;
                    write!(o, ",\"elements\":{n}")?
                }
                Typed::Set(l) => {
                    let mut n = 0u64;
                    l.for_each(s, |_| -> Result<(), rdbscope_rdb::Error> {
                        n += 1;
                        Ok(())
                    })?;
                    write!(o, ",\"elements\":{n}")?
                }
                Typed::Zset(z) => {
                    let mut n = 0u64;
                    z.for_each(s, |_, _| -> Result<(), rdbscope_rdb::Error> {
                        n += 1;
                        Ok(())
                    })?;
                    write!(o, ",\"elements\":{n}")?
                }
                Typed::Hash(h) => {
                    let mut n = 0u64;
                    h.for_each(s, |_, _, _| -> Result<(), rdbscope_rdb::Error> {
                        n += 1;
                        Ok(())
                    })?;
                    write!(o, ",\"elements\":{n}")?
                }
                Typed::Stream(st) => write!(o, ",\"elements\":{}", st.stream()?.meta().length)?,
                Typed::Module(_) => {}
            }
        } else if k.expire_at_ms.is_some() {
            o.write_all(b",\"value\":")?;
        }
        let s = &mut self.scratch;
        match typed {
            _ if !self.values => {}
            Typed::String(_) => {
                if let Some(st) = &string {
                    write_rdb_string(o, st, &mut self.val_buf, s.limit())?;
                }
            }
            Typed::List(l) => write_members(o, &l, s)?,
            Typed::Set(l) => write_members(o, &l, s)?,
            Typed::Zset(z) => write_zset(o, &z, s)?,
            Typed::Hash(h) => write_hash(o, &h, s)?,
            Typed::Stream(st) => write_stream(o, &st.stream()?, s, &mut self.val_buf)?,
            Typed::Module(m) => {
                let m = m.module()?;
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

/// Owned records ([`OwnedRecord`]), as the JSON reader and replay produce
/// them: the same layout, through the same element writers
/// (`write_members`, `write_zset`, `write_hash`, generic over the walk
/// traits that borrowed views and owned values both implement).
impl<W: Write> JsonPrinter<W> {
    /// Any owned record. On error nothing of it stays in the output.
    pub fn owned_record(&mut self, r: &OwnedRecord) -> Result<(), PrintError> {
        let written = self.written;
        self.out.start_record();
        self.owned_inner(r).inspect_err(|_| {
            self.out.abort_record();
            self.written = written;
        })
    }

    fn owned_inner(&mut self, r: &OwnedRecord) -> Result<(), PrintError> {
        self.begin()?;
        let o = &mut self.out;
        match r {
            OwnedRecord::Header { magic, version } => {
                o.write_all(b"{\"record\":\"header\",\"magic\":")?;
                write_json_str(o, magic)?;
                write!(o, ",\"version\":{version}}}")?;
            }
            OwnedRecord::Aux { name, value } => {
                o.write_all(b"{\"record\":\"aux\",\"name\":")?;
                write_bytes(o, name)?;
                o.write_all(b",\"value\":")?;
                write_bytes(o, value)?;
                o.write_all(b"}")?;
            }
            OwnedRecord::SelectDb { db } => write!(o, "{{\"record\":\"selectdb\",\"db\":{db}}}")?,
            OwnedRecord::ResizeDb { keys, expires } => write!(
                o,
                "{{\"record\":\"resizedb\",\"keys\":{keys},\"expires\":{expires}}}"
            )?,
            OwnedRecord::SlotInfo {
                slot,
                size,
                expires_size,
            } => write!(
                o,
                "{{\"record\":\"slot_info\",\"slot\":{slot},\"size\":{size},\"expires_size\":{expires_size}}}"
            )?,
            OwnedRecord::Function { code } => {
                o.write_all(b"{\"record\":\"function\",\"code\":")?;
                write_bytes(o, code)?;
                o.write_all(b"}")?;
            }
            OwnedRecord::FunctionPreGa {
                name,
                engine,
                description,
                code,
            } => {
                o.write_all(b"{\"record\":\"function_pre_ga\",\"name\":")?;
                write_bytes(o, name)?;
                o.write_all(b",\"engine\":")?;
                write_bytes(o, engine)?;
                o.write_all(b",\"description\":")?;
                match description {
                    Some(d) => write_bytes(o, d)?,
                    None => o.write_all(b"null")?,
                }
                o.write_all(b",\"code\":")?;
                write_bytes(o, code)?;
                o.write_all(b"}")?;
            }
            OwnedRecord::ModuleAux { module, when } => {
                o.write_all(b"{\"record\":\"module_aux\",\"module\":")?;
                write_json_str(o, &module.name)?;
                write!(o, ",\"encver\":{},\"when\":{when},\"raw\":", module.encver)?;
                write_bytes(o, &module.raw)?;
                o.write_all(b"}")?;
            }
            OwnedRecord::SlotImport { job, ranges } => {
                o.write_all(b"{\"record\":\"slot_import\",\"job\":")?;
                write_bytes(o, job)?;
                o.write_all(b",\"ranges\":[")?;
                for (i, (a, b)) in ranges.iter().enumerate() {
                    if i > 0 {
                        o.write_all(b",")?;
                    }
                    write!(o, "[{a},{b}]")?;
                }
                o.write_all(b"]}")?;
            }
            OwnedRecord::Eof {
                checksum,
                trailing_bytes,
            } => {
                o.write_all(b"{\"record\":\"eof\",\"checksum\":")?;
                write_json_str(o, checksum)?;
                o.write_all(b",\"trailing_bytes\":")?;
                write_trailing(o, *trailing_bytes)?;
            }
            OwnedRecord::Key(k) => write_owned_key(o, k, &mut self.scratch, self.values)?,
        }
        self.end()
    }
}

fn write_owned_key<W: Pieces>(
    o: &mut W,
    k: &OwnedKey,
    s: &mut Scratch,
    values: bool,
) -> Result<(), PrintError> {
    o.write_all(b"{\"db\":")?;
    write_u64(o, k.db)?;
    o.write_all(b",\"key\":")?;
    write_bytes(o, &k.key)?;
    let v = &k.value;
    let type_name = v.key_type().as_str();
    o.write_all(b",\"type\":\"")?;
    o.write_all(type_name.as_bytes())?;
    o.write_all(b"\",\"encoding\":")?;
    write_json_str(o, k.encoding)?;
    o.write_all(b",\"expire_at_ms\":")?;
    match k.expire_at_ms {
        Some(ms) => write_i64(o, ms)?,
        None => o.write_all(b"null")?,
    }
    if !values {
        match v {
            OwnedValue::String(b) => write!(o, ",\"length\":{}", b.len())?,
            OwnedValue::List(p) | OwnedValue::Set(p) => write!(o, ",\"elements\":{}", p.len())?,
            OwnedValue::Zset(z) => write!(o, ",\"elements\":{}", z.len())?,
            OwnedValue::Hash(h) => write!(o, ",\"elements\":{}", h.len())?,
            OwnedValue::Stream(st) => write!(o, ",\"elements\":{}", st.length)?,
            OwnedValue::Module(_) => {}
        }
    } else {
        o.write_all(b",\"value\":")?;
    }
    match v {
        _ if !values => {}
        OwnedValue::String(b) => write_bytes(o, b)?,
        OwnedValue::List(p) | OwnedValue::Set(p) => write_members(o, p, s)?,
        OwnedValue::Zset(z) => write_zset(o, z, s)?,
        OwnedValue::Hash(h) => write_hash(o, h, s)?,
        OwnedValue::Stream(st) => write_owned_stream(o, st)?,
        OwnedValue::Module(m) => {
            o.write_all(b"{\"module\":")?;
            write_json_str(o, &m.name)?;
            write!(o, ",\"encver\":{},\"raw\":", m.encver)?;
            write_bytes(o, &m.raw)?;
            o.write_all(b"}")?;
        }
    }
    if let Some(idle) = k.idle_s {
        write!(o, ",\"idle_s\":{idle}")?;
    }
    if let Some(freq) = k.freq {
        write!(o, ",\"freq\":{freq}")?;
    }
    if let Some(meta) = &k.key_meta {
        o.write_all(b",\"key_meta_raw\":")?;
        write_bytes(o, meta)?;
    }
    o.write_all(b"}")?;
    Ok(())
}

fn write_owned_stream<W: Write>(o: &mut W, st: &OwnedStream) -> Result<(), PrintError> {
    o.write_all(b"{\"entries\":[")?;
    let mut fields = st.fields.cursor();
    for (i, e) in st.entries.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"[")?;
        write_id(o, e.id)?;
        o.write_all(b",[")?;
        for j in 0..e.fields {
            let (Some(f), Some(v)) = (fields.next(), fields.next()) else {
                break;
            };
            if j > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"[")?;
            write_bytes(o, f)?;
            o.write_all(b",")?;
            write_bytes(o, v)?;
            o.write_all(b"]")?;
        }
        o.write_all(b"]]")?;
    }
    write!(o, "],\"length\":{},\"last_id\":", st.length)?;
    write_id(o, st.last_id)?;
    o.write_all(b",\"first_id\":")?;
    write_opt_id(o, st.first_id)?;
    o.write_all(b",\"max_deleted_id\":")?;
    write_opt_id(o, st.max_deleted_id)?;
    o.write_all(b",\"entries_added\":")?;
    write_opt_u64(o, st.entries_added)?;
    o.write_all(b",\"groups\":[")?;
    for (gi, g) in st.groups.iter().enumerate() {
        if gi > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"{\"name\":")?;
        write_bytes(o, &g.name)?;
        o.write_all(b",\"last_delivered_id\":")?;
        write_id(o, g.last_delivered_id)?;
        o.write_all(b",\"entries_read\":")?;
        write_opt_u64(o, g.entries_read)?;
        o.write_all(b",\"pending\":[")?;
        for (i, p) in g.pending.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"[")?;
            write_id(o, p.id)?;
            o.write_all(b",")?;
            match &p.consumer {
                Some(c) => write_bytes(o, c)?,
                None => o.write_all(b"null")?,
            }
            o.write_all(b",")?;
            write_i64(o, p.delivery_time_ms)?;
            o.write_all(b",")?;
            write_u64(o, p.delivery_count)?;
            o.write_all(b"]")?;
        }
        o.write_all(b"],\"consumers\":[")?;
        for (ci, c) in g.consumers.iter().enumerate() {
            if ci > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"{\"name\":")?;
            write_bytes(o, &c.name)?;
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
            for (i, id) in c.pending.iter().enumerate() {
                if i > 0 {
                    o.write_all(b",")?;
                }
                write_id(o, *id)?;
            }
            o.write_all(b"]}")?;
        }
        o.write_all(b"]}")?;
    }
    o.write_all(b"],\"idmp\":")?;
    match &st.idmp {
        None => o.write_all(b"null")?,
        Some(idmp) => {
            write!(
                o,
                "{{\"duration_s\":{},\"maxsize\":{},\"producers\":[",
                idmp.duration_s, idmp.maxsize
            )?;
            for (i, (pid, iids)) in idmp.producers.iter().enumerate() {
                if i > 0 {
                    o.write_all(b",")?;
                }
                o.write_all(b"{\"pid\":")?;
                write_bytes(o, pid)?;
                o.write_all(b",\"iids\":[")?;
                for (j, (iid, id)) in iids.iter().enumerate() {
                    if j > 0 {
                        o.write_all(b",")?;
                    }
                    o.write_all(b"[")?;
                    write_bytes(o, iid)?;
                    o.write_all(b",")?;
                    write_id(o, *id)?;
                    o.write_all(b"]")?;
                }
                o.write_all(b"]}")?;
            }
            write!(
                o,
                "],\"iids_added\":{},\"iids_duplicates\":{}}}",
                idmp.iids_added, idmp.iids_duplicates
            )?;
        }
    }
    o.write_all(b"}")?;
    Ok(())
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

/// `[S, ...]`: the elements of a list or the members of a set, borrowed
/// or owned.
fn write_members<W: Pieces, V: MemberWalk>(
    o: &mut W,
    v: &V,
    s: &mut Scratch,
) -> Result<(), PrintError> {
    let mut before: &[u8] = b"[";
    v.walk_members(s, |e| {
        write_elem_between(o, before, e, b"")?;
        before = b",";
        Ok::<_, PrintError>(())
    })?;
    // `before` is still "[" when there was no element.
    o.write_all(if before == b"[" { b"[]" } else { b"]" })?;
    Ok(())
}

/// `[[S, score], ...]`: a sorted set, borrowed or owned.
fn write_zset<W: Pieces, V: ScoredWalk>(
    o: &mut W,
    v: &V,
    s: &mut Scratch,
) -> Result<(), PrintError> {
    // Each pair's closing bracket goes out with the next pair's opening.
    let mut before: &[u8] = b"[[";
    v.walk_scored(s, |m, score| {
        write_elem_between(o, before, m, b",")?;
        write_stored_score(o, score)?;
        before = b"],[";
        Ok::<_, PrintError>(())
    })?;
    o.write_all(if before == b"[[" { b"[]" } else { b"]]" })?;
    Ok(())
}

/// `[[S, S], ...]` and, when a field has a TTL,
/// `,"field_expire_at_ms":[[S, ms], ...]`: a hash, borrowed or owned.
fn write_hash<W: Pieces, V: FieldWalk>(
    o: &mut W,
    v: &V,
    s: &mut Scratch,
) -> Result<(), PrintError> {
    let mut before: &[u8] = b"[[";
    let mut any_ttl = false;
    v.walk_fields(s, |f, val, ttl| {
        any_ttl |= ttl.is_some();
        write_elem_between(o, before, f, b",")?;
        write_elem_between(o, b"", val, b"]")?;
        before = b",[";
        Ok::<_, PrintError>(())
    })?;
    o.write_all(if before == b"[[" { b"[]" } else { b"]" })?;
    if any_ttl {
        // A second walk rather than remembering fields: only hashes with
        // field TTLs pay for it, and nothing grows.
        o.write_all(b",\"field_expire_at_ms\":[")?;
        let mut first = true;
        v.walk_fields(s, |f, _, ttl| {
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
    Ok(())
}

fn write_stream<W: Pieces>(
    o: &mut W,
    st: &Stream<'_>,
    s: &mut Scratch,
    buf: &mut Vec<u8>,
) -> Result<(), PrintError> {
    let limit = s.limit();
    o.write_all(b"{\"entries\":[")?;
    let mut first = true;
    st.for_each_entry(s, |entry| {
        // `,["ms-seq",[` in one piece.
        let before: &[u8] = if std::mem::take(&mut first) {
            b"["
        } else {
            b",["
        };
        let mut text = [0u8; 41];
        o.quoted_between(
            before,
            rdbscope_json::write::id_text(entry.id, &mut text),
            b",[",
        )?;
        for (i, pair) in entry.fields().enumerate() {
            let (f, v) = pair?;
            let before: &[u8] = if i > 0 { b",[" } else { b"[" };
            write_elem_between(o, before, f, b",")?;
            write_elem_between(o, b"", v, b"]")?;
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
    write_groups(o, st, buf, limit)?;
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
                write_rdb_string(o, &p.pid, buf, limit)?;
                o.write_all(b",\"iids\":[")?;
                for (j, iid) in p.iids().enumerate() {
                    let (iid, id) = iid?;
                    if j > 0 {
                        o.write_all(b",")?;
                    }
                    o.write_all(b"[")?;
                    write_rdb_string(o, &iid, buf, limit)?;
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
fn write_groups<W: Write>(
    o: &mut W,
    st: &Stream<'_>,
    buf: &mut Vec<u8>,
    limit: u64,
) -> Result<(), PrintError> {
    o.write_all(b"[")?;
    let mut owners: Vec<(StreamId, usize)> = Vec::new();
    let mut names: Vec<RdbString<'_>> = Vec::new();
    for (gi, g) in st.groups().enumerate() {
        let g = g?;
        if gi > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"{\"name\":")?;
        write_rdb_string(o, &g.name, buf, limit)?;
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
                Some(ci) => write_rdb_string(o, &names[ci], buf, limit)?,
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
            write_rdb_string(o, &c.name, buf, limit)?;
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

/// The end of an `eof` record: the count of bytes after the checksum, or
/// `null` when they were not counted (an AOF preamble read from a stream,
/// whose commands come next).
fn write_trailing(o: &mut impl Write, trailing: Option<u64>) -> std::io::Result<()> {
    match trailing {
        Some(n) => write!(o, "{n}}}"),
        None => o.write_all(b"null}"),
    }
}
