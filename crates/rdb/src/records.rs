//! The record stream of an RDB file: header, then one [`Record`] at a time
//! until EOF and the checksum.
//!
//! ```
//! use rdbscope_rdb::{Rdb, Record, Scratch};
//!
//! // REDIS0011, SELECTDB 0, RESIZEDB 1 0, "k" = "v", EOF, CRC-64.
//! let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x01k\x01v\xff\x82\x0b\x95\x88\x5e\x25\x63\x13";
//! let rdb = Rdb::new(file).unwrap();
//! assert_eq!(rdb.header().version, 11);
//! let mut scratch = Scratch::new();
//! for record in rdb.records() {
//!     match record.unwrap() {
//!         Record::Key(k) => {
//!             let key = k.key.to_vec().unwrap();
//!             let value = k.value.string().unwrap();
//!             assert_eq!((key.as_slice(), value.bytes(&mut Vec::new()).unwrap()), (&b"k"[..], &b"v"[..]));
//!         }
//!         Record::Eof(eof) => assert!(eof.checksum.is_ok()),
//!         _ => {}
//!     }
//! }
//! # let _ = &mut scratch;
//! ```
//!
//! The iterator is lazy in the gimli sense: each step reads one record and
//! only skims its value (see [`crate::value`]); a consumer that stops early
//! (a `--key` filter that found its key) simply stops iterating. After an
//! `Err` the iterator is finished: RDB has no resynchronisation points, so
//! nothing after a broken record can be trusted.

use crate::crc::Crc64;
use crate::cursor::Cursor;
use crate::error::{Error, ErrorKind, Result, Stage};
use crate::module::{ModuleId, ModuleValue};
use crate::rdb_string::RdbString;
use crate::types::{opcode, Encoding, Flavor};
use crate::value::Value;

/// Highest `REDIS` version this decoder reads.
pub const MAX_REDIS_VERSION: u32 = 13;
/// Highest `VALKEY` version this decoder reads.
pub const MAX_VALKEY_VERSION: u32 = 81;

/// The 9-byte magic and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Whose numbering of contested type bytes applies.
    pub flavor: Flavor,
    /// The RDB version from the magic (1-13 for `REDIS`, 80+ for `VALKEY`).
    pub version: u32,
}

/// The header as a file spells it: `REDIS0011`, `VALKEY080`.
impl std::fmt::Display for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.flavor {
            Flavor::Redis => write!(f, "REDIS{:04}", self.version),
            Flavor::Valkey => write!(f, "VALKEY{:03}", self.version),
        }
    }
}

impl Header {
    /// The magic without the digits: `"REDIS"` or `"VALKEY"`.
    pub fn magic(&self) -> &'static str {
        match self.flavor {
            Flavor::Redis => "REDIS",
            Flavor::Valkey => "VALKEY",
        }
    }

    /// Whether the file ends with a CRC-64 trailer (RDB 5 and later).
    pub fn has_checksum(&self) -> bool {
        self.version >= 5
    }

    /// Parses the first 9 bytes.
    pub fn parse(data: &[u8]) -> Result<Header> {
        let err = |rule, msg: String| Error::invalid(rule, 0, msg).with_stage(Stage::Header);
        if data.len() < 9 {
            return Err(
                Error::truncated(data.len(), (9 - data.len()) as u64, "RDB header")
                    .with_stage(Stage::Header),
            );
        }
        let (flavor, digits) = if &data[..5] == b"REDIS" {
            (Flavor::Redis, &data[5..9])
        } else if &data[..6] == b"VALKEY" {
            (Flavor::Valkey, &data[6..9])
        } else {
            return Err(err(
                crate::Rule::HeaderSignature,
                format!(
                    "wrong signature: expected \"REDIS\" or \"VALKEY\", found {}",
                    hex_ascii(&data[..data.len().min(16)])
                ),
            ));
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(err(
                crate::Rule::HeaderVersion,
                format!(
                    "RDB version is not a number: {:?}",
                    String::from_utf8_lossy(digits)
                ),
            ));
        }
        let version: u32 = std::str::from_utf8(digits)
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        let ok = match flavor {
            Flavor::Redis => (1..=MAX_REDIS_VERSION).contains(&version),
            Flavor::Valkey => (80..=MAX_VALKEY_VERSION).contains(&version),
        };
        if !ok {
            let supported = match flavor {
                Flavor::Redis => format!("REDIS versions 1 to {MAX_REDIS_VERSION}"),
                Flavor::Valkey => format!("VALKEY versions 80 to {MAX_VALKEY_VERSION}"),
            };
            return Err(Error::unsupported(
                crate::Rule::HeaderVersion,
                5,
                format!("can't handle RDB format version {version} ({supported} are supported)"),
            )
            .with_stage(Stage::Header));
        }
        Ok(Header { flavor, version })
    }
}

/// What the checksum trailer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// RDB version < 5: no trailer.
    Absent,
    /// Stored as zero: the writer had `rdbchecksum no`.
    Disabled,
    /// Stored value matches.
    Ok(u64),
    /// Verification was turned off; the stored value.
    NotVerified(u64),
}

impl Checksum {
    /// False only when the checksum was not verified.
    pub fn is_ok(&self) -> bool {
        !matches!(self, Checksum::NotVerified(_))
    }

    /// A word for reports: `absent`, `disabled`, `ok` or `not-verified`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Checksum::Absent => "absent",
            Checksum::Disabled => "disabled",
            Checksum::Ok(_) => "ok",
            Checksum::NotVerified(_) => "not-verified",
        }
    }
}

/// The end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eof {
    /// Offset of the EOF opcode.
    pub offset: u64,
    /// What the trailer held and whether it matched.
    pub checksum: Checksum,
    /// Bytes after the trailer (an old-style AOF's commands, or garbage).
    /// `None` when they were not counted: an AOF's RDB preamble walked
    /// from a stream stops at its checksum, and its commands are read
    /// after it.
    pub trailing: Option<u64>,
}

/// One key and its value, with the opcodes that prefixed it.
#[derive(Debug, Clone, Copy)]
pub struct KeyRecord<'a> {
    /// The database the key is in (from the last SELECTDB, 0 before any).
    pub db: u64,
    /// The key name.
    pub key: RdbString<'a>,
    /// Absolute Unix time in ms (EXPIRETIME seconds are converted).
    pub expire_at_ms: Option<i64>,
    /// LRU idle time in seconds (IDLE opcode).
    pub idle_s: Option<u64>,
    /// LFU frequency counter (FREQ opcode).
    pub freq: Option<u8>,
    /// Redis 8.6 per-key module metadata (KEY_META), raw.
    pub key_meta: Option<&'a [u8]>,
    /// The value, decoded on demand.
    pub value: Value<'a>,
    /// File offset of the record's first byte (its first prefix opcode, or
    /// its type byte).
    pub offset: u64,
    /// File offset just past the record.
    pub end: u64,
}

impl<'a> KeyRecord<'a> {
    /// Adds this record's key, type and offset to an error found while
    /// walking its value, so that every error names its key.
    pub fn annotate(&self, mut e: Error) -> Error {
        if e.key.is_none() {
            e.key = self.key.to_vec().ok();
        }
        if e.rdb_type.is_none() {
            e.rdb_type = Some(self.value.type_byte());
        }
        if e.record_offset.is_none() {
            e.record_offset = Some(self.offset);
        }
        e.stage = Stage::ReadValue;
        e
    }
}

/// A function library as a summary names it: its name and engine (from
/// the `#!<engine> name=<lib>` first line of a FUNCTION2 record's code, or
/// the fields of a 7.0 RC record) and the size of its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionLibrary {
    /// Library name (the function name for a 7.0 RC record).
    pub name: Vec<u8>,
    /// Engine name (e.g. `LUA`).
    pub engine: Vec<u8>,
    /// Bytes of source code.
    pub code_bytes: u64,
}

impl FunctionLibrary {
    /// The library of a function record; `None` for any other record.
    pub fn of(r: &Record<'_>) -> Option<Result<FunctionLibrary>> {
        match r {
            Record::Function { code } => Some(code.to_vec().map(|code| {
                let (engine, name) = shebang(&code);
                FunctionLibrary {
                    name,
                    engine,
                    code_bytes: code.len() as u64,
                }
            })),
            Record::FunctionPreGa(f) => Some((|| {
                Ok(FunctionLibrary {
                    name: f.name.to_vec()?,
                    engine: f.engine.to_vec()?,
                    code_bytes: f.code.len(),
                })
            })()),
            _ => None,
        }
    }
}

/// Splits a library's first line `#!lua name=mylib ...` into (engine,
/// name); empty when the code has no such line.
pub fn shebang(code: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let line = code.split(|&b| b == b'\n').next().unwrap_or(b"");
    let Some(rest) = line.strip_prefix(b"#!") else {
        return (Vec::new(), Vec::new());
    };
    let mut parts = rest.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or(b"").to_vec();
    let name = parts
        .find_map(|p| p.strip_prefix(b"name="))
        .unwrap_or(b"")
        .to_vec();
    (engine, name)
}

/// A Redis 7.0 RC function (FUNCTION_PRE_GA).
#[derive(Debug, Clone, Copy)]
pub struct FunctionPreGa<'a> {
    /// Function name.
    pub name: RdbString<'a>,
    /// Engine name (e.g. `LUA`).
    pub engine: RdbString<'a>,
    /// Description, when the record has one.
    pub description: Option<RdbString<'a>>,
    /// The library's source code.
    pub code: RdbString<'a>,
}

/// One record of the file.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// AUX field.
    Aux {
        /// Field name.
        name: RdbString<'a>,
        /// Field value.
        value: RdbString<'a>,
    },
    /// SELECTDB: the keys that follow are in database `db`.
    SelectDb {
        /// Database number.
        db: u64,
    },
    /// RESIZEDB: a sizing hint for the current database.
    ResizeDb {
        /// Keys in the database.
        keys: u64,
        /// Keys with an expiry.
        expires: u64,
    },
    /// Redis 7.4 cluster slot info.
    SlotInfo {
        /// Cluster slot number.
        slot: u64,
        /// Keys in the slot.
        size: u64,
        /// Keys with an expiry in the slot.
        expires_size: u64,
    },
    /// A function library (FUNCTION2): its full source.
    Function {
        /// The library source, starting with its `#!` line.
        code: RdbString<'a>,
    },
    /// A function from a Redis 7.0 release candidate (FUNCTION_PRE_GA).
    FunctionPreGa(FunctionPreGa<'a>),
    /// Module AUX data; `when` is 1 (before the keyspace) or 2 (after).
    ModuleAux {
        /// The module id and its tagged data.
        module: ModuleValue<'a>,
        /// 1: load before the keyspace; 2: after.
        when: u64,
    },
    /// Valkey 9 slot import job.
    SlotImport {
        /// The import job's name (40 hex characters).
        job: RdbString<'a>,
        /// (start, end) slot ranges.
        ranges: &'a [u8],
        /// Number of ranges in `ranges`.
        range_count: u64,
    },
    /// A key and its value.
    Key(KeyRecord<'a>),
    /// The EOF opcode and the checksum trailer; always the last record.
    Eof(Eof),
}

impl<'a> Record<'a> {
    /// Decodes the slot ranges of a `SlotImport` record.
    pub fn slot_ranges(ranges: &'a [u8]) -> impl Iterator<Item = (u64, u64)> + 'a {
        let mut c = Cursor::new(ranges, 0);
        std::iter::from_fn(move || {
            if c.is_empty() {
                return None;
            }
            Some((c.len("slot").ok()?, c.len("slot").ok()?))
        })
    }
}

/// Decoding options.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest decompressed LZF string accepted (bytes).
    pub max_decompressed: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_decompressed: crate::rdb_string::DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

/// An RDB file in memory.
#[derive(Debug, Clone, Copy)]
pub struct Rdb<'a> {
    data: &'a [u8],
    header: Header,
    verify_checksum: bool,
}

impl<'a> Rdb<'a> {
    /// Checks the header of `data`.
    pub fn new(data: &'a [u8]) -> Result<Rdb<'a>> {
        Ok(Rdb {
            data,
            header: Header::parse(data)?,
            verify_checksum: true,
        })
    }

    /// Whether to compute and compare the CRC-64 (default yes).
    pub fn verify_checksum(mut self, yes: bool) -> Rdb<'a> {
        self.verify_checksum = yes;
        self
    }

    /// The parsed magic and version.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The whole input.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// An iterator over the records from the first after the header.
    pub fn records(&self) -> Records<'a> {
        let mut c = Cursor::new(self.data, 0);
        c.set_pos(9.min(self.data.len()));
        Records {
            c,
            header: self.header,
            db: 0,
            crc: self
                .verify_checksum
                .then(Crc64::new)
                .filter(|_| self.header.has_checksum()),
            crc_pos: 0,
            prefetched: 0,
            done: false,
        }
    }

    /// Where a walk of this file stands just after its header: to walk it
    /// over other bytes than one slice of the whole (see [`Resume`]).
    pub fn resume_state(&self) -> Resume {
        let crc = (self.verify_checksum && self.header.has_checksum())
            .then(|| crate::crc::crc64(&self.data[..9]));
        Resume {
            header: self.header,
            offset: 9,
            db: 0,
            crc,
        }
    }
}

/// Where a walk stands between two records, so that it can go on over
/// other bytes: a refilled window of a stream, or a chunk of a file
/// walked by another thread. A walk resumed from a `Resume` yields the
/// same records, errors (at the same absolute offsets) and checksum as
/// one walk of the whole input would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The file's header (version and flavor decide the encodings).
    pub header: Header,
    /// Absolute offset of the next record.
    pub offset: u64,
    /// The database selected at `offset`.
    pub db: u64,
    /// CRC-64 of every byte before `offset`; `None` when the checksum is
    /// not verified (or this walk is a chunk whose bytes another thread
    /// feeds to the checksum).
    pub crc: Option<u64>,
}

impl Resume {
    /// A walk from a record boundary at `offset` with `db` selected, not
    /// computing the checksum.
    pub fn at(header: Header, offset: u64, db: u64) -> Resume {
        Resume {
            header,
            offset,
            db,
            crc: None,
        }
    }
}

/// Iterator over the records after the header. See the module docs.
pub struct Records<'a> {
    c: Cursor<'a>,
    header: Header,
    db: u64,
    crc: Option<Crc64>,
    /// Bytes before this offset have been fed to `crc`.
    crc_pos: usize,
    /// Cache lines before this offset have been asked for (see `prefetch`).
    prefetched: usize,
    done: bool,
}

/// How far ahead of the walk the input is requested into the CPU cache.
const PREFETCH_AHEAD: usize = 2048;

/// The CRC is fed in chunks of this size as the walk passes them, so the
/// bytes are still in cache and the work is spread over the walk.
const CRC_CHUNK: usize = 1 << 20;

impl<'a> Records<'a> {
    /// Goes on with a walk at `state.offset`, over `data`, whose first byte
    /// is the one at `state.offset`. Error offsets stay absolute. `data`
    /// may end anywhere: a record that runs past its end fails with
    /// [`ErrorKind::Truncated`], which a caller with more bytes to come
    /// retries from the record's start with more data (every read of the
    /// record iterator is bounded by the end of `data`, not by a length
    /// found inside it, so a truncation here always means "the bytes ran
    /// out"; [`Error::needed_end`] hints how far they must reach).
    pub fn resume(data: &'a [u8], state: &Resume) -> Records<'a> {
        Records {
            c: Cursor::new(data, state.offset as usize),
            header: state.header,
            db: state.db,
            crc: state.crc.map(Crc64::resume),
            crc_pos: 0,
            prefetched: 0,
            done: false,
        }
    }

    /// The state of this walk at `offset`, the start of a record it has
    /// not yielded yet, or of one whose decoding failed (the state is the
    /// one before that record): the checksum is brought up to `offset`.
    /// `offset` must lie between the end of the last record yielded and
    /// the end of the data.
    pub fn suspend(&mut self, offset: u64) -> Resume {
        let rel = (offset as usize)
            .saturating_sub(self.c.base())
            .min(self.c.data().len());
        self.feed_crc(rel);
        Resume {
            header: self.header,
            offset,
            db: self.db,
            crc: self.crc.as_ref().map(Crc64::value),
        }
    }

    /// Offset of the next record.
    pub fn offset(&self) -> u64 {
        self.c.offset() as u64
    }

    /// Offset before which this iterator will not read again: the walk's
    /// position, less what the CRC has yet to cover. Release input pages
    /// only up to here (see `Input::release_before`), or the CRC would
    /// fault released pages back in.
    pub fn settled_offset(&self) -> u64 {
        let pos = self.c.pos();
        let settled = match self.crc {
            Some(_) => pos.min(self.crc_pos),
            None => pos,
        };
        (self.c.base() + settled) as u64
    }

    /// The currently selected database.
    pub fn db(&self) -> u64 {
        self.db
    }

    fn feed_crc(&mut self, upto: usize) {
        if let Some(crc) = &mut self.crc {
            if upto > self.crc_pos {
                crc.update(&self.c.data()[self.crc_pos..upto]);
                self.crc_pos = upto;
            }
        }
    }

    fn record(&mut self) -> Result<Record<'a>> {
        let flavor = self.header.flavor;
        let version = self.header.version;
        let c = &mut self.c;
        let record_start = c.offset();
        let mut expire_at_ms = None;
        let mut idle_s = None;
        let mut freq = None;
        let mut key_meta = None;
        loop {
            let type_at = c.offset();
            let t = c
                .u8("type or opcode")
                .map_err(|e| e.with_stage(Stage::ReadType))?;
            let stage_err = |stage: Stage| move |e: Error| e.with_stage(stage);
            match t {
                opcode::EXPIRETIME => {
                    let s = i32::from_le_bytes(
                        c.array("EXPIRETIME")
                            .map_err(stage_err(Stage::ReadExpire))?,
                    );
                    expire_at_ms = Some(i64::from(s) * 1000);
                }
                opcode::EXPIRETIME_MS => {
                    expire_at_ms = Some(
                        c.i64_le("EXPIRETIME_MS")
                            .map_err(stage_err(Stage::ReadExpire))?,
                    );
                }
                opcode::IDLE => {
                    idle_s = Some(c.length("IDLE").map_err(stage_err(Stage::ReadOpcode))?);
                }
                opcode::FREQ => {
                    freq = Some(c.u8("FREQ").map_err(stage_err(Stage::ReadOpcode))?);
                }
                opcode::KEY_META_OR_SLOT_IMPORT if flavor == Flavor::Redis && version >= 13 => {
                    let start = c.pos();
                    read_key_meta(c).map_err(stage_err(Stage::ReadOpcode))?;
                    key_meta = Some(&c.data()[start..c.pos()]);
                }
                _ if expire_at_ms.is_some()
                    || idle_s.is_some()
                    || freq.is_some()
                    || key_meta.is_some() =>
                {
                    // After a key prefix only an object type may follow.
                    return self.key(
                        t,
                        type_at,
                        record_start,
                        expire_at_ms,
                        idle_s,
                        freq,
                        key_meta,
                    );
                }
                opcode::EOF => return self.eof(type_at),
                opcode::SELECTDB => {
                    let db = c.length("SELECTDB").map_err(stage_err(Stage::ReadOpcode))?;
                    self.db = db;
                    return Ok(Record::SelectDb { db });
                }
                opcode::RESIZEDB => {
                    let keys = c.length("RESIZEDB").map_err(stage_err(Stage::ReadOpcode))?;
                    let expires = c.length("RESIZEDB").map_err(stage_err(Stage::ReadOpcode))?;
                    return Ok(Record::ResizeDb { keys, expires });
                }
                opcode::AUX => {
                    let name = c
                        .rdb_string("AUX name")
                        .map_err(stage_err(Stage::ReadAux))?;
                    let value = c
                        .rdb_string("AUX value")
                        .map_err(stage_err(Stage::ReadAux))?;
                    return Ok(Record::Aux { name, value });
                }
                opcode::SLOT_INFO => {
                    let e = stage_err(Stage::ReadOpcode);
                    let slot = c.length("SLOT_INFO slot").map_err(e)?;
                    let size = c.length("SLOT_INFO size").map_err(e)?;
                    let expires_size = c.length("SLOT_INFO expires size").map_err(e)?;
                    return Ok(Record::SlotInfo {
                        slot,
                        size,
                        expires_size,
                    });
                }
                opcode::FUNCTION2 => {
                    let code = c
                        .rdb_string("function library code")
                        .map_err(stage_err(Stage::ReadFunction))?;
                    return Ok(Record::Function { code });
                }
                opcode::FUNCTION_PRE_GA => {
                    let e = stage_err(Stage::ReadFunction);
                    let name = c.rdb_string("function name").map_err(e)?;
                    let engine = c.rdb_string("function engine").map_err(e)?;
                    let has_desc = c.len("function description flag").map_err(e)?;
                    let description = if has_desc != 0 {
                        Some(c.rdb_string("function description").map_err(e)?)
                    } else {
                        None
                    };
                    let code = c.rdb_string("function code").map_err(e)?;
                    return Ok(Record::FunctionPreGa(FunctionPreGa {
                        name,
                        engine,
                        description,
                        code,
                    }));
                }
                opcode::MODULE_AUX => {
                    let e = stage_err(Stage::ReadModuleAux);
                    let at = c.offset();
                    let id = c.length("module id").map_err(e)?;
                    let when_at = c.offset();
                    let when_opcode = c.length("module AUX when opcode").map_err(e)?;
                    if when_opcode != crate::module::module_opcode::UINT {
                        return Err(Error::invalid(
                            crate::Rule::ModuleAuxWhen,
                            when_at,
                            format!("module AUX 'when' opcode is {when_opcode}, expected 2 (UINT)"),
                        )
                        .with_stage(Stage::ReadModuleAux));
                    }
                    let when = c.length("module AUX when").map_err(e)?;
                    let raw_offset = c.offset();
                    let start = c.pos();
                    crate::module::skip_opcode_stream(c).map_err(e)?;
                    if id >> 10 == 0 {
                        return Err(Error::invalid(
                            crate::Rule::ModuleId,
                            at,
                            "module id 0 is reserved",
                        )
                        .with_stage(Stage::ReadModuleAux));
                    }
                    return Ok(Record::ModuleAux {
                        module: ModuleValue {
                            id: ModuleId(id),
                            raw: &c.data()[start..c.pos()],
                            raw_offset,
                        },
                        when,
                    });
                }
                opcode::KEY_META_OR_SLOT_IMPORT if flavor == Flavor::Valkey => {
                    let e = stage_err(Stage::ReadOpcode);
                    let at = c.offset();
                    let job = c.rdb_string("SLOT_IMPORT job name").map_err(e)?;
                    if job.len() != 40 {
                        return Err(Error::invalid(
                            crate::Rule::SlotImportJobName,
                            at,
                            format!("SLOT_IMPORT job name is {} bytes, expected 40", job.len()),
                        )
                        .with_stage(Stage::ReadOpcode));
                    }
                    let range_count = c.count(2, "SLOT_IMPORT range count").map_err(e)?;
                    let start = c.pos();
                    for _ in 0..range_count {
                        c.len("SLOT_IMPORT start slot").map_err(e)?;
                        c.len("SLOT_IMPORT end slot").map_err(e)?;
                    }
                    return Ok(Record::SlotImport {
                        job,
                        ranges: &c.data()[start..c.pos()],
                        range_count,
                    });
                }
                _ => return self.key(t, type_at, record_start, None, None, None, None),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn key(
        &mut self,
        t: u8,
        type_at: usize,
        record_start: usize,
        expire_at_ms: Option<i64>,
        idle_s: Option<u64>,
        freq: Option<u8>,
        key_meta: Option<&'a [u8]>,
    ) -> Result<Record<'a>> {
        let c = &mut self.c;
        let Some(encoding) = Encoding::from_type_byte(t, self.header.flavor) else {
            let what = if t >= 242 { "opcode" } else { "object type" };
            let hint = match (t, self.header.flavor) {
                (27..=33, Flavor::Redis) => {
                    " (types 27+ belong to RDB 14 / Redis 8.8, which this decoder does not read)"
                }
                (243, Flavor::Redis) => " (KEY_META exists only in RDB 13 and later)",
                (242, Flavor::Valkey) => " (Valkey's UPDATE opcode is not supported)",
                (23, Flavor::Valkey) => " (Valkey's PATH_HASH type is not supported)",
                _ => "",
            };
            let e = if (242..=255).contains(&t) || (27..=33).contains(&t) || t == 23 {
                Error::unsupported(
                    crate::Rule::TypeByte,
                    type_at,
                    format!(
                        "{what} byte {t} (0x{t:02x}) in a {} version {} file{hint}",
                        self.header.magic(),
                        self.header.version
                    ),
                )
            } else {
                Error::invalid(
                    crate::Rule::TypeByte,
                    type_at,
                    format!(
                        "unknown {what} byte {t} (0x{t:02x}) in a {} version {} file{hint}",
                        self.header.magic(),
                        self.header.version
                    ),
                )
            };
            let mut e = e.with_stage(Stage::ReadType);
            e.record_offset = Some(record_start as u64);
            return Err(e);
        };
        let key = c.rdb_string("key").map_err(|e| {
            let mut e = e.with_stage(Stage::ReadKey);
            e.rdb_type = Some(t);
            e.record_offset = Some(record_start as u64);
            e
        })?;
        let value_at = c.offset() as u64;
        let value = Value::skim(c, encoding, t).map_err(|e| {
            let mut e = e.with_stage(Stage::ReadValue);
            e.key = key.to_vec().ok();
            e.rdb_type = Some(t);
            e.record_offset = Some(record_start as u64);
            e.value_offset = Some(value_at);
            e
        })?;
        Ok(Record::Key(KeyRecord {
            db: self.db,
            key,
            expire_at_ms,
            idle_s,
            freq,
            key_meta,
            value,
            offset: record_start as u64,
            end: c.offset() as u64,
        }))
    }

    fn eof(&mut self, eof_at: usize) -> Result<Record<'a>> {
        let after_eof = self.c.pos();
        let after_eof_at = self.c.offset();
        if !self.header.has_checksum() {
            return Ok(Record::Eof(Eof {
                offset: eof_at as u64,
                checksum: Checksum::Absent,
                trailing: Some(self.c.remaining() as u64),
            }));
        }
        let stored = self
            .c
            .u64_le("CRC-64 checksum")
            .map_err(|e| e.with_stage(Stage::CheckSum))?;
        self.feed_crc(after_eof);
        let checksum = match (&self.crc, stored) {
            (_, 0) => Checksum::Disabled,
            (None, s) => Checksum::NotVerified(s),
            (Some(crc), s) => {
                let computed = crc.value();
                if computed != s {
                    return Err(Error::new(
                        after_eof_at,
                        ErrorKind::ChecksumMismatch {
                            stored: s,
                            computed,
                        },
                    )
                    .with_stage(Stage::CheckSum));
                }
                Checksum::Ok(s)
            }
        };
        Ok(Record::Eof(Eof {
            offset: eof_at as u64,
            checksum,
            trailing: Some(self.c.remaining() as u64),
        }))
    }
}

/// KEY_META (RDB 13): class count, then per class a 4-byte spec and a
/// module opcode stream.
pub(crate) fn read_key_meta(c: &mut Cursor<'_>) -> Result<()> {
    let at = c.offset();
    let n = c.length("KEY_META class count")?;
    if n > 7 {
        return Err(Error::invalid(
            crate::Rule::KeyMetaClasses,
            at,
            format!("KEY_META has {n} classes, at most 7 are allowed"),
        ));
    }
    for _ in 0..n {
        c.take(4, "KEY_META class spec")?;
        crate::module::skip_opcode_stream(c)?;
    }
    Ok(())
}

impl Records<'_> {
    /// Asks the CPU for the input up to `PREFETCH_AHEAD` bytes past `pos`:
    /// the walk reads each record's first bytes as soon as it knows where
    /// it starts, and after a skipped value that is a cache miss the
    /// hardware prefetcher did not see coming.
    #[inline(always)]
    fn prefetch(&mut self, pos: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            let data = self.c.data();
            let end = (pos + PREFETCH_AHEAD).min(data.len());
            let mut at = self.prefetched.max(pos);
            while at < end {
                // SAFETY: a prefetch is a hint that never faults, and `at`
                // is inside `data` anyway.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        data.as_ptr().add(at).cast(),
                    );
                }
                at += 64;
            }
            self.prefetched = at;
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = pos;
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.record();
        match &r {
            Ok(Record::Eof(_)) | Err(_) => self.done = true,
            Ok(_) => {
                let pos = self.c.pos();
                if pos - self.crc_pos >= CRC_CHUNK {
                    self.feed_crc(pos);
                }
                self.prefetch(pos);
            }
        }
        Some(r)
    }
}

/// Bytes as hex and printable ASCII (`1f 8b 08 00 |....|`): what an
/// unexpected signature is shown as, never the raw bytes.
fn hex_ascii(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{} |{ascii}|", hex.join(" "))
}
