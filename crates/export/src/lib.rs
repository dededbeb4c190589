//! One row per key in a Parquet file (`rdbscope export INPUT... -o
//! keys.parquet`), for DuckDB, Spark, Trino and ClickHouse.
//!
//! [`ParquetExport`] takes [`KeyRow`]s (what `rdbscope-inspect` knows of a
//! key) from any number of input files, each started with
//! [`ParquetExport::source`], and writes them to one file. Rows are held
//! column by column in compact buffers (integers, offsets into one key
//! buffer, indexes into small string tables) and written as a row group
//! when [`ExportOptions::row_group_rows`] rows or
//! [`ExportOptions::row_group_key_bytes`] key bytes are held, so memory
//! stays flat however many keys there are, and `push` allocates nothing
//! but the growth of those buffers.
//!
//! # Columns
//!
//! | column | Parquet type | null | what |
//! | --- | --- | --- | --- |
//! | `source` | BINARY (STRING), dictionary | no | the input file's display name |
//! | `server_version` | BINARY (STRING), dictionary | yes | its `valkey-ver` or `redis-ver` AUX value |
//! | `vendor` | BINARY (STRING), dictionary | yes | `redis` or `valkey`: whose AUX field that is |
//! | `db` | INT64 | no | database number |
//! | `key` | BINARY, plain | no | the key's bytes, binary-safe |
//! | `type` | BINARY (STRING), dictionary | no | `string`, `list`, `set`, `zset`, `hash`, `stream`, `module` |
//! | `encoding` | BINARY (STRING), dictionary | no | the encoding in a server after loading, as `OBJECT ENCODING` names it |
//! | `expire_at` | INT64 (TIMESTAMP millis, UTC) | yes | absolute expire time |
//! | `memory` | INT64 | no | estimated bytes in the server, key and value (`MEMORY USAGE`) |
//! | `key_overhead` | INT64 | no | the part of `memory` that is the key's own cost |
//! | `elements` | INT64 | no | elements (1 for a string; entries for a stream) |
//! | `largest_element` | INT64 | no | bytes of the largest element |
//! | `stored_size` | INT64 | no | bytes the value takes in the file |
//! | `idle_seconds` | INT64 | yes | LRU idle time, when the file records it |
//! | `freq` | INT32 | yes | LFU counter, when the file records it |
//! | `slot` | INT32 | no | Redis Cluster hash slot: CRC16 of the key (or its `{hash tag}`) mod 16384 |
//!
//! Unsigned counts are written as INT64 (every engine reads signed 64-bit
//! integers; no count comes near 2^63, and a larger one is clamped).
//! docs/export.md tells the same for users, with queries.
//!
//! # Choices
//!
//! * The `parquet` crate's low-level column API, without arrow: the rows
//!   are already typed, arrow would only add a copy and a long build.
//! * zstd (level 1 by default; the workspace already builds zstd), data
//!   pages v1 and parquet-rs's own `created_by`, which readers that work
//!   around old writers' bugs recognise: the widest compatibility.
//! * Dictionary encoding for the low-cardinality strings; `key` is plain
//!   (unique per row), with page statistics truncated to 64 bytes.

#![warn(missing_docs)]

use bytes::Bytes;
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DataType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use rdbscope_inspect::KeyRow;
use rdbscope_select::slot::key_hash_slot;
use std::io::Write;
use std::sync::Arc;

pub use parquet::errors::ParquetError as Error;

/// What every fallible call here returns.
pub type Result<T> = std::result::Result<T, Error>;

/// The file's schema, in Parquet's message syntax. The column order and
/// names are the contract documented above and in docs/export.md.
pub const SCHEMA: &str = "
message rdbscope_keys {
  required binary source (STRING);
  optional binary server_version (STRING);
  optional binary vendor (STRING);
  required int64 db;
  required binary key;
  required binary type (STRING);
  required binary encoding (STRING);
  optional int64 expire_at (TIMESTAMP(MILLIS,true));
  required int64 memory;
  required int64 key_overhead;
  required int64 elements;
  required int64 largest_element;
  required int64 stored_size;
  optional int64 idle_seconds;
  optional int32 freq;
  required int32 slot;
}";

/// The compression of every column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// zstd at this level (1 is fast and still small).
    Zstd(i32),
    /// LZ4 (`LZ4_RAW`): about as fast as none, about half the size.
    Lz4,
    /// None.
    Uncompressed,
}

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Rows per row group, at most.
    pub row_group_rows: usize,
    /// Key bytes per row group, at most (a group ends early when its keys
    /// reach this): with `row_group_rows`, the bound on buffered memory.
    pub row_group_key_bytes: usize,
    /// The compression of every column.
    pub codec: Codec,
}

impl Default for ExportOptions {
    /// 128 Ki rows (about 12 MB of buffers besides the keys), 16 MiB of
    /// keys, zstd level 1.
    fn default() -> ExportOptions {
        ExportOptions {
            row_group_rows: 128 * 1024,
            row_group_key_bytes: 16 << 20,
            codec: Codec::Zstd(1),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Rows (keys).
    pub rows: u64,
    /// Row groups.
    pub row_groups: u64,
    /// Sources started with [`ParquetExport::source`].
    pub sources: u64,
    /// Bytes of the file.
    pub bytes: u64,
}

/// The server version and vendor of a file, from its AUX fields:
/// `valkey-ver` when there is one (Valkey 7.2 also writes a `redis-ver`,
/// the Redis version it is compatible with), else `redis-ver`.
pub fn server_from_aux<'a>(
    redis_ver: Option<&'a str>,
    valkey_ver: Option<&'a str>,
) -> (Option<&'a str>, Option<&'static str>) {
    match (valkey_ver, redis_ver) {
        (Some(v), _) => (Some(v), Some("valkey")),
        (None, Some(r)) => (Some(r), Some("redis")),
        (None, None) => (None, None),
    }
}

/// One input file's strings, shared by all its rows.
struct Source {
    name: ByteArray,
    server: Option<ByteArray>,
    vendor: Option<ByteArray>,
}

/// The rows of the current row group, column by column. Nullable columns
/// hold their definition levels and only their non-null values.
#[derive(Default)]
struct Rows {
    len: usize,
    source: Vec<u32>,
    db: Vec<i64>,
    /// All keys, back to back; `key_end[i]` is where row i's key ends.
    keys: Vec<u8>,
    key_end: Vec<usize>,
    key_type: Vec<u8>,
    encoding: Vec<u16>,
    expire_def: Vec<i16>,
    expire: Vec<i64>,
    memory: Vec<i64>,
    key_overhead: Vec<i64>,
    elements: Vec<i64>,
    largest: Vec<i64>,
    stored_size: Vec<i64>,
    idle_def: Vec<i16>,
    idle: Vec<i64>,
    freq_def: Vec<i16>,
    freq: Vec<i32>,
    slot: Vec<i32>,
}

impl Rows {
    fn clear(&mut self) {
        self.len = 0;
        self.source.clear();
        self.db.clear();
        self.key_end.clear();
        self.key_type.clear();
        self.encoding.clear();
        self.expire_def.clear();
        self.expire.clear();
        self.memory.clear();
        self.key_overhead.clear();
        self.elements.clear();
        self.largest.clear();
        self.stored_size.clear();
        self.idle_def.clear();
        self.idle.clear();
        self.freq_def.clear();
        self.freq.clear();
        self.slot.clear();
    }
}

/// `&'static str`s (types, encodings) as small indexes, and back as
/// [`ByteArray`]s that share the static bytes.
#[derive(Default)]
struct Interner {
    names: Vec<(&'static str, ByteArray)>,
    last: usize,
}

impl Interner {
    fn index(&mut self, s: &'static str) -> usize {
        if let Some((n, _)) = self.names.get(self.last) {
            if std::ptr::eq(*n, s) || *n == s {
                return self.last;
            }
        }
        let i = match self.names.iter().position(|(n, _)| *n == s) {
            Some(i) => i,
            None => {
                let b = ByteArray::from(Bytes::from_static(s.as_bytes()));
                self.names.push((s, b));
                self.names.len() - 1
            }
        };
        self.last = i;
        i
    }

    fn get(&self, i: usize) -> &ByteArray {
        &self.names[i].1
    }
}

/// Values handed to the column writer per call.
const BATCH: usize = 4096;

/// A streaming Parquet writer of key rows; see the crate docs.
pub struct ParquetExport<W: Write + Send> {
    writer: SerializedFileWriter<Counted<W>>,
    opts: ExportOptions,
    sources: Vec<Source>,
    types: Interner,
    encodings: Interner,
    rows: Rows,
    /// Capacity to give the next row group's key buffer (the last one's
    /// size, as its buffer went to the column writer).
    key_capacity: usize,
    summary: Summary,
    /// Reused per batch of a string column.
    scratch: Vec<ByteArray>,
    def_scratch: Vec<i16>,
}

/// The output, counting what reaches it (the file writer's own count
/// stops before the footer it writes when giving the output back).
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn general(msg: &str) -> Error {
    Error::General(msg.to_string())
}

impl<W: Write + Send> ParquetExport<W> {
    /// Starts a file on `out` (written through a buffer of its own; `out`
    /// need not be buffered).
    pub fn new(out: W, opts: ExportOptions) -> Result<ParquetExport<W>> {
        if opts.row_group_rows == 0 {
            return Err(general("row_group_rows must be at least 1"));
        }
        let schema = Arc::new(parse_message_type(SCHEMA)?);
        let compression = match opts.codec {
            Codec::Zstd(level) => Compression::ZSTD(ZstdLevel::try_new(level)?),
            Codec::Lz4 => Compression::LZ4_RAW,
            Codec::Uncompressed => Compression::UNCOMPRESSED,
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(opts.row_group_rows))
            .set_column_dictionary_enabled(ColumnPath::from("key"), false)
            .set_statistics_truncate_length(Some(64))
            .set_column_index_truncate_length(Some(64))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "rdbscope.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]))
            .build();
        let out = Counted {
            inner: out,
            bytes: 0,
        };
        let writer = SerializedFileWriter::new(out, schema, Arc::new(props))?;
        Ok(ParquetExport {
            writer,
            opts,
            sources: Vec::new(),
            types: Interner::default(),
            encodings: Interner::default(),
            rows: Rows::default(),
            key_capacity: 0,
            summary: Summary::default(),
            scratch: Vec::with_capacity(BATCH),
            def_scratch: Vec::with_capacity(BATCH),
        })
    }

    /// Starts the rows of one input file: its display name, its server
    /// version (the `valkey-ver` or `redis-ver` AUX value; None when the
    /// file has neither) and its vendor (`redis`, `valkey`); see
    /// [`server_from_aux`]. Rows pushed until the next call belong to it.
    pub fn source(&mut self, file: &str, server: Option<&str>, vendor: Option<&str>) {
        let b = |s: &str| ByteArray::from(Bytes::copy_from_slice(s.as_bytes()));
        self.sources.push(Source {
            name: b(file),
            server: server.map(b),
            vendor: vendor.map(b),
        });
        self.summary.sources += 1;
    }

    /// Adds one key's row, to the source last started. Writes a row group
    /// when one is full.
    pub fn push(&mut self, row: &KeyRow<'_>) -> Result<()> {
        let Some(source) = self.sources.len().checked_sub(1) else {
            return Err(general("ParquetExport::push before any source()"));
        };
        let r = &mut self.rows;
        if r.len == 0 && r.keys.capacity() == 0 {
            r.keys.reserve(self.key_capacity);
        }
        r.len += 1;
        r.source.push(source as u32);
        r.db.push(clamp(row.db));
        r.keys.extend_from_slice(row.key);
        r.key_end.push(r.keys.len());
        r.key_type
            .push(self.types.index(row.key_type.as_str()) as u8);
        r.encoding.push(self.encodings.index(row.encoding) as u16);
        match row.expire_at_ms {
            Some(t) => {
                r.expire_def.push(1);
                r.expire.push(t);
            }
            None => r.expire_def.push(0),
        }
        r.memory.push(clamp(row.memory));
        r.key_overhead.push(clamp(row.key_overhead));
        r.elements.push(clamp(row.elements));
        r.largest.push(clamp(row.largest));
        r.stored_size.push(clamp(row.stored_size));
        match row.idle_s {
            Some(t) => {
                r.idle_def.push(1);
                r.idle.push(clamp(t));
            }
            None => r.idle_def.push(0),
        }
        match row.freq {
            Some(f) => {
                r.freq_def.push(1);
                r.freq.push(i32::from(f));
            }
            None => r.freq_def.push(0),
        }
        r.slot.push(i32::from(key_hash_slot(row.key)));
        if r.len >= self.opts.row_group_rows || r.keys.len() >= self.opts.row_group_key_bytes {
            self.flush()?;
        }
        Ok(())
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.summary.rows + self.rows.len as u64
    }

    /// Writes the last row group and the footer; returns the output and
    /// what was written.
    pub fn finish(mut self) -> Result<(W, Summary)> {
        self.flush()?;
        let mut summary = self.summary;
        let mut out = self.writer.into_inner()?;
        out.flush()?;
        summary.bytes = out.bytes;
        Ok((out.inner, summary))
    }

    /// Writes the held rows as one row group.
    fn flush(&mut self) -> Result<()> {
        let n = self.rows.len;
        if n == 0 {
            return Ok(());
        }
        self.key_capacity = self.rows.keys.len();
        let keys = Bytes::from(std::mem::take(&mut self.rows.keys));
        let Self {
            writer,
            sources,
            types,
            encodings,
            rows: r,
            scratch,
            def_scratch,
            ..
        } = self;
        let mut rg = writer.next_row_group()?;
        let mut strings = Strings {
            scratch,
            def: def_scratch,
        };
        strings.write(&mut rg, n, |i| {
            Some(sources[r.source[i] as usize].name.clone())
        })?;
        strings.write(&mut rg, n, |i| sources[r.source[i] as usize].server.clone())?;
        strings.write(&mut rg, n, |i| sources[r.source[i] as usize].vendor.clone())?;
        column::<_, Int64Type>(&mut rg, &r.db, None)?;
        strings.write(&mut rg, n, |i| {
            let start = if i == 0 { 0 } else { r.key_end[i - 1] };
            Some(ByteArray::from(keys.slice(start..r.key_end[i])))
        })?;
        strings.write(&mut rg, n, |i| {
            Some(types.get(usize::from(r.key_type[i])).clone())
        })?;
        strings.write(&mut rg, n, |i| {
            Some(encodings.get(usize::from(r.encoding[i])).clone())
        })?;
        column::<_, Int64Type>(&mut rg, &r.expire, Some(&r.expire_def))?;
        column::<_, Int64Type>(&mut rg, &r.memory, None)?;
        column::<_, Int64Type>(&mut rg, &r.key_overhead, None)?;
        column::<_, Int64Type>(&mut rg, &r.elements, None)?;
        column::<_, Int64Type>(&mut rg, &r.largest, None)?;
        column::<_, Int64Type>(&mut rg, &r.stored_size, None)?;
        column::<_, Int64Type>(&mut rg, &r.idle, Some(&r.idle_def))?;
        column::<_, Int32Type>(&mut rg, &r.freq, Some(&r.freq_def))?;
        column::<_, Int32Type>(&mut rg, &r.slot, None)?;
        if rg.next_column()?.is_some() {
            return Err(general("schema has more columns than the writer"));
        }
        rg.close()?;
        drop(keys);
        self.summary.rows += n as u64;
        self.summary.row_groups += 1;
        self.rows.clear();
        Ok(())
    }
}

/// Writes a whole numeric column: `values` are the non-null values,
/// `def` the definition levels of a nullable column.
fn column<W: Write + Send, T: DataType>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    values: &[T::T],
    def: Option<&[i16]>,
) -> Result<()> {
    let mut c = rg
        .next_column()?
        .ok_or_else(|| general("schema has fewer columns than the writer"))?;
    c.typed::<T>().write_batch(values, def, None)?;
    c.close()
}

/// Writes string and binary columns in batches of [`BATCH`] values built
/// from the row buffers (so that a row group never holds a `ByteArray` per
/// row).
struct Strings<'s> {
    scratch: &'s mut Vec<ByteArray>,
    def: &'s mut Vec<i16>,
}

impl Strings<'_> {
    /// Column of `n` rows, row i's value `value(i)` (None: null; the
    /// column must then be optional).
    fn write<W: Write + Send>(
        &mut self,
        rg: &mut SerializedRowGroupWriter<'_, W>,
        n: usize,
        mut value: impl FnMut(usize) -> Option<ByteArray>,
    ) -> Result<()> {
        let mut c = rg
            .next_column()?
            .ok_or_else(|| general("schema has fewer columns than the writer"))?;
        let optional = c.typed::<ByteArrayType>().get_descriptor().max_def_level() > 0;
        let mut start = 0;
        while start < n {
            let end = n.min(start + BATCH);
            self.scratch.clear();
            self.def.clear();
            for i in start..end {
                match value(i) {
                    Some(v) => {
                        self.scratch.push(v);
                        self.def.push(1);
                    }
                    None => self.def.push(0),
                }
            }
            let def = optional.then_some(&self.def[..]);
            c.typed::<ByteArrayType>()
                .write_batch(self.scratch, def, None)?;
            start = end;
        }
        self.scratch.clear();
        c.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use rdbscope_rdb::types::KeyType;

    fn row(key: &[u8]) -> KeyRow<'_> {
        KeyRow {
            db: 0,
            key,
            key_type: KeyType::String,
            encoding: "raw",
            expire_at_ms: None,
            idle_s: None,
            freq: None,
            memory: 0,
            key_overhead: 0,
            elements: 1,
            largest: key.len() as u64,
            stored_size: 0,
            offset: 0,
        }
    }

    #[test]
    fn push_needs_a_source() {
        let mut out = ParquetExport::new(Vec::new(), ExportOptions::default()).unwrap();
        assert!(out.push(&row(b"k")).is_err());
        out.source("a.rdb", None, None);
        out.push(&row(b"k")).unwrap();
        assert_eq!(out.rows(), 1);
    }

    #[test]
    fn row_groups_end_at_either_bound() {
        let opts = ExportOptions {
            row_group_rows: 7,
            row_group_key_bytes: 4096,
            codec: Codec::Uncompressed,
        };
        let mut out = ParquetExport::new(Vec::new(), opts).unwrap();
        out.source("a.rdb", Some("7.0.15"), Some("redis"));
        // 20 small keys: groups of 7 and 7, and 6 that the next source's
        // first row completes (sources share row groups).
        for i in 0..20u8 {
            out.push(&row(&[i])).unwrap();
        }
        // 1000-byte keys: the next group ends at the fifth (5000 >= 4096
        // bytes), the last holds the rest.
        out.source("b.rdb", None, None);
        let big = vec![b'x'; 1000];
        for _ in 0..10 {
            out.push(&row(&big)).unwrap();
        }
        let (file, s) = out.finish().unwrap();
        assert_eq!((s.rows, s.row_groups, s.sources), (30, 5, 2));
        assert_eq!(s.bytes, file.len() as u64);
        let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
        let meta = reader.metadata();
        let sizes: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(sizes, [7, 7, 7, 5, 4]);
        let columns: Vec<&str> = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name())
            .collect();
        assert_eq!(
            columns[..5],
            ["source", "server_version", "vendor", "db", "key"]
        );
        assert_eq!(columns.len(), 16);
    }

    #[test]
    fn bad_options_are_errors() {
        let zero = ExportOptions {
            row_group_rows: 0,
            ..ExportOptions::default()
        };
        assert!(ParquetExport::new(Vec::new(), zero).is_err());
        let level = ExportOptions {
            codec: Codec::Zstd(99),
            ..ExportOptions::default()
        };
        assert!(ParquetExport::new(Vec::new(), level).is_err());
    }

    #[test]
    fn server_and_vendor_from_aux() {
        assert_eq!(server_from_aux(None, None), (None, None));
        assert_eq!(
            server_from_aux(Some("7.0.15"), None),
            (Some("7.0.15"), Some("redis"))
        );
        // Valkey 7.2 writes both; Valkey 8 only valkey-ver.
        assert_eq!(
            server_from_aux(Some("7.2.4"), Some("7.2.5")),
            (Some("7.2.5"), Some("valkey"))
        );
        assert_eq!(
            server_from_aux(None, Some("9.1.2")),
            (Some("9.1.2"), Some("valkey"))
        );
    }
}
