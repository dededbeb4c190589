//! A streaming reader of what `dump` writes: JSON Lines (one record per
//! line) or one JSON array of records, into owned records
//! ([`OwnedRecord`]). The schema is docs/json-format.md.
//!
//! One record is parsed at a time (a line, or one element of the array),
//! so memory holds the largest record, never the document. Errors name the
//! line and column where the record starts or where parsing failed, the
//! record's key when it got that far, and what was expected.

use rdbscope_rdb::owned::{
    OwnedConsumer, OwnedEntry, OwnedGroup, OwnedHash, OwnedIdmp, OwnedModule, OwnedPending,
    OwnedStream, OwnedZset, Packed,
};
use rdbscope_rdb::stream::StreamId;
use rdbscope_rdb::{Elem, OwnedKey, OwnedRecord, OwnedValue};
use serde_json::{Map, Value as J};
use std::fmt;
use std::io::{self, BufRead};

/// The two layouts `dump` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonLayout {
    /// One record per line.
    Lines,
    /// One array of records.
    Document,
}

/// What the first non-space byte of an input says it is: `{` JSON Lines,
/// `[` a JSON document, anything else not JSON. A function of its own so
/// that input sniffing elsewhere can take its place.
pub fn sniff(first_bytes: &[u8]) -> Option<JsonLayout> {
    match first_bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(JsonLayout::Lines),
        Some(b'[') => Some(JsonLayout::Document),
        _ => None,
    }
}

/// Why a record could not be read.
#[derive(Debug)]
pub struct ReadError {
    /// 1-based line.
    pub line: u64,
    /// 1-based column (bytes).
    pub column: u64,
    /// 1-based record number.
    pub record: u64,
    /// The record's key, when it was read before the problem.
    pub key: Option<Vec<u8>>,
    /// What was wrong or expected.
    pub message: String,
    /// The underlying I/O error, if that was the problem.
    pub io: Option<io::Error>,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JSON input line {}, column {} (record {})",
            self.line, self.column, self.record
        )?;
        if let Some(k) = &self.key {
            write!(f, ", key \"{}\"", rdbscope_rdb::error::escape_key(k))?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ReadError {}

/// The input, with the position (line, column) of what was consumed.
struct Counting<R> {
    inner: R,
    /// Bytes consumed.
    offset: u64,
    /// 1-based line of `offset`.
    line: u64,
    /// Offset where that line starts.
    line_start: u64,
}

impl<R: BufRead> Counting<R> {
    fn column(&self) -> u64 {
        self.offset - self.line_start + 1
    }

    /// Consumes `n` bytes of the buffer, counting lines.
    fn consume(&mut self, n: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            for i in memchr::memchr_iter(b'\n', &buf[..n]) {
                self.line += 1;
                self.line_start = self.offset + i as u64 + 1;
            }
        }
        self.inner.consume(n);
        self.offset += n as u64;
    }

    /// Skips whitespace; returns the next byte without consuming it.
    fn peek_nonspace(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let n = buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(buf.len());
            let found = buf.get(n).copied();
            self.consume(n);
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// Appends one JSON object or array, from its opening bracket (the
    /// next byte) through the matching closing one, to `out`, following
    /// strings and nesting without parsing anything else; `false` if the
    /// input ends first. Memory: the value itself.
    fn take_value(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        // The object ends at the brace that brings the brace depth back to
        // 0 outside strings (brackets need no count: the value is an
        // object). The scan jumps from one interesting byte to the next.
        let (mut depth, mut in_str, mut esc) = (0u64, false, false);
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(false);
            }
            let mut i = 0;
            let mut end = None;
            if esc && !buf.is_empty() {
                // A backslash ended the previous block: skip what it escapes.
                esc = false;
                i = 1;
            }
            while i < buf.len() {
                if in_str {
                    match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                        None => i = buf.len(),
                        Some(p) => {
                            let c = buf[i + p];
                            i += p + 1;
                            if c == b'\\' {
                                if i < buf.len() {
                                    i += 1;
                                } else {
                                    esc = true;
                                }
                            } else {
                                in_str = false;
                            }
                        }
                    }
                } else {
                    match memchr::memchr3(b'"', b'{', b'}', &buf[i..]) {
                        None => i = buf.len(),
                        Some(p) => {
                            let c = buf[i + p];
                            i += p + 1;
                            match c {
                                b'"' => in_str = true,
                                b'{' => depth += 1,
                                _ => {
                                    depth = depth.saturating_sub(1);
                                    if depth == 0 {
                                        end = Some(i);
                                        break;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let n = end.unwrap_or(buf.len());
            out.extend_from_slice(&buf[..n]);
            self.consume(n);
            if end.is_some() {
                return Ok(true);
            }
        }
    }
}

/// Reads owned records from `dump` output, one at a time.
pub struct JsonReader<R> {
    r: Counting<R>,
    layout: JsonLayout,
    started: bool,
    done: bool,
    records: u64,
    /// The record being read, as text.
    buf: Vec<u8>,
}

impl<R: BufRead> JsonReader<R> {
    /// A reader of `layout` (see [`sniff`]) over `r`.
    pub fn new(r: R, layout: JsonLayout) -> JsonReader<R> {
        JsonReader {
            r: Counting {
                inner: r,
                offset: 0,
                line: 1,
                line_start: 0,
            },
            buf: Vec::new(),
            layout,
            started: false,
            done: false,
            records: 0,
        }
    }

    fn err(
        &self,
        line: u64,
        column: u64,
        key: Option<Vec<u8>>,
        msg: impl Into<String>,
    ) -> ReadError {
        ReadError {
            line,
            column,
            record: self.records,
            key,
            message: msg.into(),
            io: None,
        }
    }

    fn io_err(&self, e: io::Error) -> ReadError {
        let mut r = self.err(
            self.r.line,
            self.r.column(),
            None,
            format!("read error: {e}"),
        );
        r.io = Some(e);
        r
    }

    /// Bytes of the input read so far.
    pub fn offset(&self) -> u64 {
        self.r.offset
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Result<Option<OwnedRecord>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let r = self.next_inner();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    fn next_inner(&mut self) -> Result<Option<OwnedRecord>, ReadError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let r = match self.next_text_inner(&mut buf) {
            Ok(Some(at)) => parse_record(&buf, at).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        self.buf = buf;
        r
    }

    /// Appends the next record's text (one JSON object, not parsed yet) to
    /// `out` (on an error, maybe part of it), and says where in the input
    /// it starts; `None` at the end of the input. The
    /// framing is checked as [`JsonReader::next_record`] checks it;
    /// [`parse_record`] reads the text, on any thread.
    pub fn next_text(&mut self, out: &mut Vec<u8>) -> Result<Option<RecordAt>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let r = self.next_text_inner(out);
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        r
    }

    fn next_text_inner(&mut self, buf: &mut Vec<u8>) -> Result<Option<RecordAt>, ReadError> {
        let next = self.r.peek_nonspace().map_err(|e| self.io_err(e))?;
        if self.layout == JsonLayout::Document {
            if !self.started {
                if next != Some(b'[') {
                    return Err(self.err(
                        self.r.line,
                        self.r.column(),
                        None,
                        "expected '[' to open the document",
                    ));
                }
                self.r.consume(1);
                self.started = true;
                let n = self.r.peek_nonspace().map_err(|e| self.io_err(e))?;
                if n == Some(b']') {
                    self.r.consume(1);
                    self.expect_end()?;
                    return Ok(None);
                }
            } else {
                match next {
                    Some(b',') => self.r.consume(1),
                    Some(b']') => {
                        self.r.consume(1);
                        self.expect_end()?;
                        return Ok(None);
                    }
                    Some(c) => {
                        return Err(self.err(
                            self.r.line,
                            self.r.column(),
                            None,
                            format!("expected ',' or ']' after a record, found {:?}", c as char),
                        ))
                    }
                    None => {
                        return Err(self.err(
                            self.r.line,
                            self.r.column(),
                            None,
                            "the document ends without its closing ']' (truncated?)",
                        ))
                    }
                }
            }
        } else if next.is_none() {
            return Ok(None);
        }
        self.started = true;
        self.records += 1;
        let next = self.r.peek_nonspace().map_err(|e| self.io_err(e))?;
        let (line, column) = (self.r.line, self.r.column());
        if next.is_none() {
            return Err(self.err(
                line,
                column,
                None,
                "the document ends where a record was expected (truncated?)",
            ));
        }
        if next != Some(b'{') {
            return Err(self.err(line, column, None, "expected a JSON object (one record)"));
        }
        let at = RecordAt {
            line,
            column,
            record: self.records,
        };
        match self.r.take_value(buf) {
            Ok(true) => Ok(Some(at)),
            Ok(false) => Err(self.err(
                self.r.line,
                self.r.column(),
                None,
                "the record is cut short (truncated input?)",
            )),
            Err(e) => Err(self.io_err(e)),
        }
    }

    fn expect_end(&mut self) -> Result<(), ReadError> {
        match self.r.peek_nonspace().map_err(|e| self.io_err(e))? {
            None => Ok(()),
            Some(c) => Err(self.err(
                self.r.line,
                self.r.column(),
                None,
                format!(
                    "unexpected {:?} after the document's closing ']'",
                    c as char
                ),
            )),
        }
    }
}

impl<R: BufRead> Iterator for JsonReader<R> {
    type Item = Result<OwnedRecord, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Where a record's text starts in the input, for its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordAt {
    /// 1-based line.
    pub line: u64,
    /// 1-based column (bytes).
    pub column: u64,
    /// 1-based record number.
    pub record: u64,
}

/// Reads one record from its text (see [`JsonReader::next_text`]): errors
/// name the line and column in the input, counted from `at`.
pub fn parse_record(text: &[u8], at: RecordAt) -> Result<OwnedRecord, ReadError> {
    let err = |line, column, key, message: String| ReadError {
        line,
        column,
        record: at.record,
        key,
        message,
        io: None,
    };
    let value = serde_json::from_slice::<J>(text).map_err(|e| {
        let (l, c) = (e.line() as u64, e.column() as u64);
        let (al, ac) = if l <= 1 {
            (at.line, at.column + c.saturating_sub(1))
        } else {
            (at.line + l - 1, c)
        };
        err(al, ac, None, format!("not valid JSON: {e}"))
    })?;
    let J::Object(obj) = value else {
        return Err(err(
            at.line,
            at.column,
            None,
            "expected a JSON object (one record)".into(),
        ));
    };
    record(&obj).map_err(|(key, msg)| err(at.line, at.column, key, msg))
}

type Conv<T> = Result<T, (Option<Vec<u8>>, String)>;

fn bad<T>(msg: impl Into<String>) -> Conv<T> {
    Err((None, msg.into()))
}

fn field<'j>(o: &'j Map<String, J>, name: &str) -> Conv<&'j J> {
    match o.get(name) {
        Some(v) => Ok(v),
        None => bad(format!("expected a \"{name}\" field")),
    }
}

fn u64_of(v: &J, what: &str) -> Conv<u64> {
    match v.as_u64() {
        Some(n) => Ok(n),
        None => bad(format!(
            "{what}: expected a non-negative integer, found {}",
            short(v)
        )),
    }
}

fn i64_of(v: &J, what: &str) -> Conv<i64> {
    match v.as_i64() {
        Some(n) => Ok(n),
        None => bad(format!("{what}: expected an integer, found {}", short(v))),
    }
}

fn opt<T>(v: &J, f: impl FnOnce(&J) -> Conv<T>) -> Conv<Option<T>> {
    if v.is_null() {
        Ok(None)
    } else {
        f(v).map(Some)
    }
}

fn str_of<'j>(v: &'j J, what: &str) -> Conv<&'j str> {
    match v.as_str() {
        Some(s) => Ok(s),
        None => bad(format!("{what}: expected a string, found {}", short(v))),
    }
}

fn array_of<'j>(v: &'j J, what: &str) -> Conv<&'j Vec<J>> {
    match v.as_array() {
        Some(a) => Ok(a),
        None => bad(format!("{what}: expected an array, found {}", short(v))),
    }
}

/// A few characters of a value, for messages.
fn short(v: &J) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        let mut end = 40;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s
    }
}

/// A binary-safe string: a JSON string, or `{"base64": "..."}`.
fn bytes_of(v: &J, what: &str) -> Conv<Vec<u8>> {
    match v {
        J::String(s) => Ok(s.as_bytes().to_vec()),
        J::Object(o) if o.len() == 1 => match o.get("base64").and_then(J::as_str) {
            Some(b) => decode_base64(b).ok_or_else(|| (None, format!("{what}: invalid base64"))),
            None => bad(format!("{what}: expected a string or {{\"base64\": ...}}")),
        },
        _ => bad(format!(
            "{what}: expected a string or {{\"base64\": ...}}, found {}",
            short(v)
        )),
    }
}

/// Standard base64 with padding, as [`crate::write::write_base64`] writes.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (i, q) in b.chunks(4).enumerate() {
        let last = i + 1 == b.len() / 4;
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut v = 0u32;
        for &c in &q[..4 - pad] {
            v = (v << 6) | val(c)?;
        }
        v <<= 6 * pad as u32;
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

fn id_of(v: &J, what: &str) -> Conv<StreamId> {
    let s = str_of(v, what)?;
    let parsed = s.split_once('-').and_then(|(a, b)| {
        Some(StreamId {
            ms: a.parse().ok()?,
            seq: b.parse().ok()?,
        })
    });
    match parsed {
        Some(id) => Ok(id),
        None => bad(format!(
            "{what}: expected a stream ID \"ms-seq\", found {s:?}"
        )),
    }
}

fn score_of(v: &J) -> Conv<f64> {
    match v {
        J::Number(n) => n
            .as_f64()
            .ok_or_else(|| (None, "zset score out of range".to_string())),
        J::String(s) if s == "inf" => Ok(f64::INFINITY),
        J::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        J::String(s) if s == "nan" => Ok(f64::NAN),
        _ => bad(format!(
            "zset score: expected a number, \"inf\", \"-inf\" or \"nan\", found {}",
            short(v)
        )),
    }
}

/// `[a, b]` of exactly `n` items.
fn tuple<'j>(v: &'j J, n: usize, what: &str) -> Conv<&'j [J]> {
    let a = array_of(v, what)?;
    if a.len() != n {
        return bad(format!("{what}: expected {n} items, found {}", a.len()));
    }
    Ok(a)
}

fn record(o: &Map<String, J>) -> Conv<OwnedRecord> {
    let Some(kind) = o.get("record") else {
        return key_record(o).map(OwnedRecord::Key);
    };
    let kind = str_of(kind, "record")?;
    Ok(match kind {
        "header" => OwnedRecord::Header {
            magic: str_of(field(o, "magic")?, "magic")?.to_string(),
            version: u32::try_from(u64_of(field(o, "version")?, "version")?)
                .map_err(|_| (None, "version: too large".to_string()))?,
        },
        "aux" => OwnedRecord::Aux {
            name: bytes_of(field(o, "name")?, "aux name")?,
            value: bytes_of(field(o, "value")?, "aux value")?,
        },
        "selectdb" => OwnedRecord::SelectDb {
            db: u64_of(field(o, "db")?, "db")?,
        },
        "resizedb" => OwnedRecord::ResizeDb {
            keys: u64_of(field(o, "keys")?, "keys")?,
            expires: u64_of(field(o, "expires")?, "expires")?,
        },
        "slot_info" => OwnedRecord::SlotInfo {
            slot: u64_of(field(o, "slot")?, "slot")?,
            size: u64_of(field(o, "size")?, "size")?,
            expires_size: u64_of(field(o, "expires_size")?, "expires_size")?,
        },
        "function" => OwnedRecord::Function {
            code: bytes_of(field(o, "code")?, "function code")?,
        },
        "function_pre_ga" => OwnedRecord::FunctionPreGa {
            name: bytes_of(field(o, "name")?, "function name")?,
            engine: bytes_of(field(o, "engine")?, "function engine")?,
            description: opt(field(o, "description")?, |v| {
                bytes_of(v, "function description")
            })?,
            code: bytes_of(field(o, "code")?, "function code")?,
        },
        "module_aux" => OwnedRecord::ModuleAux {
            module: module_of(o)?,
            when: u64_of(field(o, "when")?, "when")?,
        },
        "slot_import" => {
            let mut ranges = Vec::new();
            for r in array_of(field(o, "ranges")?, "ranges")? {
                let p = tuple(r, 2, "slot range")?;
                ranges.push((u64_of(&p[0], "slot")?, u64_of(&p[1], "slot")?));
            }
            OwnedRecord::SlotImport {
                job: bytes_of(field(o, "job")?, "job")?,
                ranges,
            }
        }
        "eof" => OwnedRecord::Eof {
            checksum: str_of(field(o, "checksum")?, "checksum")?.to_string(),
            trailing_bytes: match field(o, "trailing_bytes")? {
                J::Null => None,
                n => Some(u64_of(n, "trailing_bytes")?),
            },
        },
        other => return bad(format!("unknown record kind {other:?}")),
    })
}

fn module_of(o: &Map<String, J>) -> Conv<OwnedModule> {
    Ok(OwnedModule {
        name: str_of(field(o, "module")?, "module")?.to_string(),
        encver: u32::try_from(u64_of(field(o, "encver")?, "encver")?)
            .map_err(|_| (None, "encver: too large".to_string()))?,
        raw: bytes_of(field(o, "raw")?, "module raw")?,
    })
}

fn key_record(o: &Map<String, J>) -> Conv<OwnedKey> {
    let key = bytes_of(field(o, "key")?, "key")?;
    let with_key = |e: (Option<Vec<u8>>, String)| (Some(key.clone()), e.1);
    key_body(o, &key).map_err(with_key)
}

fn key_body(o: &Map<String, J>, key: &[u8]) -> Conv<OwnedKey> {
    let db = u64_of(field(o, "db")?, "db")?;
    let ty = str_of(field(o, "type")?, "type")?;
    let name = str_of(field(o, "encoding")?, "encoding")?;
    let Some(encoding) = rdbscope_rdb::owned::encoding_name(name) else {
        return bad(format!(
            "encoding: unknown name {name:?} (expected one of {})",
            rdbscope_rdb::owned::ENCODING_NAMES.join(", ")
        ));
    };
    let expire_at_ms = opt(field(o, "expire_at_ms")?, |v| i64_of(v, "expire_at_ms"))?;
    let v = field(o, "value")?;
    let value = match ty {
        "string" => OwnedValue::String(bytes_of(v, "string value")?.into()),
        "list" | "set" => {
            let mut p = Packed::new();
            for e in array_of(v, "value")? {
                p.push(&bytes_of(e, "element")?);
            }
            p.shrink_to_fit();
            if ty == "list" {
                OwnedValue::List(p)
            } else {
                OwnedValue::Set(p)
            }
        }
        "zset" => {
            let mut z = OwnedZset::default();
            for e in array_of(v, "value")? {
                let p = tuple(e, 2, "zset entry [member, score]")?;
                z.push(
                    Elem::Str(&bytes_of(&p[0], "zset member")?),
                    score_of(&p[1])?,
                );
            }
            z.shrink_to_fit();
            OwnedValue::Zset(z)
        }
        "hash" => {
            let mut h = OwnedHash::default();
            let mut names: Vec<Vec<u8>> = Vec::new();
            let ttls = o.get("field_expire_at_ms");
            for e in array_of(v, "value")? {
                let p = tuple(e, 2, "hash entry [field, value]")?;
                let f = bytes_of(&p[0], "hash field")?;
                h.push(
                    Elem::Str(&f),
                    Elem::Str(&bytes_of(&p[1], "hash value")?),
                    None,
                );
                if ttls.is_some() {
                    names.push(f);
                }
            }
            if let Some(t) = ttls {
                // Fields in order, so a forward scan finds each.
                let mut at = 0usize;
                for e in array_of(t, "field_expire_at_ms")? {
                    let p = tuple(e, 2, "field TTL [field, ms]")?;
                    let f = bytes_of(&p[0], "field TTL field")?;
                    let ms = i64_of(&p[1], "field TTL")?;
                    let Some(i) = names[at..].iter().position(|n| *n == f) else {
                        return bad(format!(
                            "field_expire_at_ms names field \"{}\", which the hash does not have (or not in this order)",
                            rdbscope_rdb::error::escape_key(&f)
                        ));
                    };
                    h.set_expire(at + i, ms);
                    at += i + 1;
                }
            }
            h.shrink_to_fit();
            OwnedValue::Hash(h)
        }
        "stream" => OwnedValue::Stream(Box::new(stream_of(v)?)),
        "module" => match v {
            J::Object(m) => OwnedValue::Module(Box::new(module_of(m)?)),
            _ => return bad("module value: expected an object"),
        },
        other => return bad(format!("unknown type {other:?}")),
    };
    let idle_s = match o.get("idle_s") {
        Some(v) => Some(u64_of(v, "idle_s")?),
        None => None,
    };
    let freq = match o.get("freq") {
        Some(v) => Some(
            u8::try_from(u64_of(v, "freq")?)
                .map_err(|_| (None, "freq: expected 0..=255".to_string()))?,
        ),
        None => None,
    };
    let key_meta = match o.get("key_meta_raw") {
        Some(v) => Some(bytes_of(v, "key_meta_raw")?.into()),
        None => None,
    };
    Ok(OwnedKey {
        db,
        key: key.into(),
        expire_at_ms,
        idle_s,
        freq,
        key_meta,
        encoding,
        value,
    })
}

fn stream_of(v: &J) -> Conv<OwnedStream> {
    let J::Object(o) = v else {
        return bad("stream value: expected an object");
    };
    let mut st = OwnedStream::default();
    for e in array_of(field(o, "entries")?, "entries")? {
        let p = tuple(e, 2, "stream entry [id, fields]")?;
        let id = id_of(&p[0], "entry ID")?;
        let fields = array_of(&p[1], "entry fields")?;
        for f in fields {
            let fv = tuple(f, 2, "entry field [field, value]")?;
            st.fields.push(&bytes_of(&fv[0], "entry field")?);
            st.fields.push(&bytes_of(&fv[1], "entry value")?);
        }
        st.entries.push(OwnedEntry {
            id,
            fields: u32::try_from(fields.len())
                .map_err(|_| (None, "too many fields".to_string()))?,
        });
    }
    st.length = u64_of(field(o, "length")?, "length")?;
    st.last_id = id_of(field(o, "last_id")?, "last_id")?;
    st.first_id = opt(field(o, "first_id")?, |v| id_of(v, "first_id"))?;
    st.max_deleted_id = opt(field(o, "max_deleted_id")?, |v| id_of(v, "max_deleted_id"))?;
    st.entries_added = opt(field(o, "entries_added")?, |v| u64_of(v, "entries_added"))?;
    for g in array_of(field(o, "groups")?, "groups")? {
        let J::Object(g) = g else {
            return bad("consumer group: expected an object");
        };
        let mut pending = Vec::new();
        for p in array_of(field(g, "pending")?, "group pending")? {
            let p = tuple(
                p,
                4,
                "pending entry [id, consumer, delivery_time_ms, delivery_count]",
            )?;
            pending.push(OwnedPending {
                id: id_of(&p[0], "pending ID")?,
                consumer: opt(&p[1], |v| bytes_of(v, "pending consumer"))?,
                delivery_time_ms: i64_of(&p[2], "delivery_time_ms")?,
                delivery_count: u64_of(&p[3], "delivery_count")?,
            });
        }
        let mut consumers = Vec::new();
        for c in array_of(field(g, "consumers")?, "consumers")? {
            let J::Object(c) = c else {
                return bad("consumer: expected an object");
            };
            let mut ids = Vec::new();
            for id in array_of(field(c, "pending")?, "consumer pending")? {
                ids.push(id_of(id, "consumer pending ID")?);
            }
            consumers.push(OwnedConsumer {
                name: bytes_of(field(c, "name")?, "consumer name")?,
                seen_time_ms: i64_of(field(c, "seen_time_ms")?, "seen_time_ms")?,
                active_time_ms: opt(field(c, "active_time_ms")?, |v| i64_of(v, "active_time_ms"))?,
                pending: ids,
            });
        }
        st.groups.push(OwnedGroup {
            name: bytes_of(field(g, "name")?, "group name")?,
            last_delivered_id: id_of(field(g, "last_delivered_id")?, "last_delivered_id")?,
            entries_read: opt(field(g, "entries_read")?, |v| u64_of(v, "entries_read"))?,
            pending,
            consumers,
        });
    }
    st.idmp = match field(o, "idmp")? {
        J::Null => None,
        J::Object(m) => {
            let mut producers = Vec::new();
            for p in array_of(field(m, "producers")?, "producers")? {
                let J::Object(p) = p else {
                    return bad("producer: expected an object");
                };
                let mut iids = Vec::new();
                for i in array_of(field(p, "iids")?, "iids")? {
                    let i = tuple(i, 2, "iid [iid, id]")?;
                    iids.push((bytes_of(&i[0], "iid")?, id_of(&i[1], "iid entry ID")?));
                }
                producers.push((bytes_of(field(p, "pid")?, "pid")?, iids));
            }
            Some(OwnedIdmp {
                duration_s: u64_of(field(m, "duration_s")?, "duration_s")?,
                maxsize: u64_of(field(m, "maxsize")?, "maxsize")?,
                producers,
                iids_added: u64_of(field(m, "iids_added")?, "iids_added")?,
                iids_duplicates: u64_of(field(m, "iids_duplicates")?, "iids_duplicates")?,
            })
        }
        other => {
            return bad(format!(
                "idmp: expected null or an object, found {}",
                short(other)
            ))
        }
    };
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records whose strings hold braces, quotes and backslashes read the
    /// same whatever the read buffer's size (the scan for a record's end
    /// crosses block boundaries anywhere, an escape included).
    #[test]
    fn record_ends_found_across_any_block_boundary() {
        let text = concat!(
            r#"{"db":0,"key":"a{b}\"c\\","type":"string","encoding":"raw","expire_at_ms":null,"value":"}{\\\"x"}"#,
            "\n",
            r#"{"db":1,"key":"k","type":"hash","encoding":"listpack","expire_at_ms":null,"value":[["f{","\\"],["}","\"\""]]}"#,
            "\n"
        );
        let read = |cap: usize| {
            let r = io::BufReader::with_capacity(cap, text.as_bytes());
            let mut j = JsonReader::new(r, JsonLayout::Lines);
            let mut out = Vec::new();
            while let Some(rec) = j.next_record().unwrap() {
                out.push(rec);
            }
            out
        };
        let want = read(1 << 16);
        assert_eq!(want.len(), 2);
        for cap in 1..40 {
            assert_eq!(read(cap), want, "buffer of {cap}");
        }
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..40usize {
            let b: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            let mut enc = Vec::new();
            crate::write::write_base64(&mut enc, &b).unwrap();
            assert_eq!(
                decode_base64(std::str::from_utf8(&enc).unwrap()).unwrap(),
                b
            );
        }
        assert!(decode_base64("A===").is_none());
        assert!(decode_base64("Zg==Zg==").is_none());
        assert!(decode_base64("Z!==").is_none());
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"  \n{\"a\":1}"), Some(JsonLayout::Lines));
        assert_eq!(sniff(b"[\n"), Some(JsonLayout::Document));
        assert_eq!(sniff(b"REDIS0011"), None);
    }
}
