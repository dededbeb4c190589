//! Whole RDB files, the write side of [`crate::records`]: the header
//! (`docs/format.md#header-and-versions`), the opcodes between key records
//! (`docs/format.md#opcodes`), key records, and the EOF opcode with the
//! CRC-64 trailer (`docs/format.md#crc-64-trailer`).
//!
//! [`Writer`] puts a file on any [`Write`], computing the checksum over
//! every byte on the way, so a file of any size is written in one pass
//! without being held in memory. Each call writes a few small pieces:
//! give it a `Vec<u8>` or a [`std::io::BufWriter`], not a bare file.

use std::io::Write;

use super::cursor::length;
use super::rdb_string::{encoded, string, Strings};
use super::{Error, Result};
use crate::crc::Crc64;
use crate::types::opcode;
use crate::{Flavor, Header};

/// Writes one RDB file, record by record. Dropping it before
/// [`Writer::finish`] leaves a file without its EOF, which readers report
/// as truncated.
pub struct Writer<W: Write> {
    out: W,
    crc: Crc64,
    position: u64,
    /// Whether the file ends with a checksum (RDB 5 and later).
    trailer: bool,
    strings: Strings,
}

impl<W: Write> Writer<W> {
    /// Starts a file with `header`: `REDIS` and the version in 4 digits,
    /// or `VALKEY` and the version in 3. A version the magic has no room
    /// for is an error.
    pub fn new(out: W, header: Header) -> Result<Writer<W>> {
        let magic = match header.flavor {
            Flavor::Redis if header.version <= 9999 => header.to_string(),
            Flavor::Valkey if header.version <= 999 => header.to_string(),
            _ => {
                return Err(Error::Invalid(format!(
                    "{} version {} does not fit the header",
                    header.magic(),
                    header.version
                )))
            }
        };
        let mut w = Writer::without_header(out, header.has_checksum());
        w.raw(magic.as_bytes())?;
        Ok(w)
    }

    /// A `REDIS` file of `version`.
    pub fn redis(out: W, version: u32) -> Result<Writer<W>> {
        Writer::new(
            out,
            Header {
                flavor: Flavor::Redis,
                version,
            },
        )
    }

    /// A `VALKEY` file of `version` (80 and up).
    pub fn valkey(out: W, version: u32) -> Result<Writer<W>> {
        Writer::new(
            out,
            Header {
                flavor: Flavor::Valkey,
                version,
            },
        )
    }

    /// A writer that has written nothing yet, not even a header (the
    /// caller writes one with [`Writer::raw`]); `checksum` says whether
    /// [`Writer::finish`] appends the CRC-64 trailer.
    pub fn without_header(out: W, checksum: bool) -> Writer<W> {
        Writer {
            out,
            crc: Crc64::new(),
            position: 0,
            trailer: checksum,
            strings: Strings::PLAIN,
        }
    }

    /// Sets how keys are stored (plain by default; Redis stores keys with
    /// [`Strings::REDIS`]). Values are encoded by the caller.
    pub fn with_strings(mut self, how: Strings) -> Writer<W> {
        self.strings = how;
        self
    }

    /// Bytes written so far: the offset at which the next record starts.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Writes `bytes` as they are, through the checksum: for records this
    /// writer has no method for, encoded by the caller.
    pub fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        self.position += bytes.len() as u64;
        Ok(())
    }

    /// An opcode and the bytes encoded after it.
    fn op(&mut self, op: u8, body: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let mut b = vec![op];
        body(&mut b);
        self.raw(&b)
    }

    /// AUX: a name and a value, both plain strings (`redis-ver`,
    /// `redis-bits`, `ctime`, `used-mem`, ...).
    pub fn aux(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        self.op(opcode::AUX, |b| {
            string(b, name);
            string(b, value);
        })
    }

    /// SELECTDB: the keys that follow belong to database `db`.
    pub fn select_db(&mut self, db: u64) -> Result<()> {
        self.op(opcode::SELECTDB, |b| length(b, db))
    }

    /// RESIZEDB: the sizes of the current database's key and expire
    /// tables, a hint for loading.
    pub fn resize_db(&mut self, keys: u64, expires: u64) -> Result<()> {
        self.op(opcode::RESIZEDB, |b| {
            length(b, keys);
            length(b, expires);
        })
    }

    /// EXPIRETIME_MS: the next key expires at `at_ms` (Unix ms).
    pub fn expire_ms(&mut self, at_ms: i64) -> Result<()> {
        self.op(opcode::EXPIRETIME_MS, |b| {
            b.extend_from_slice(&at_ms.to_le_bytes())
        })
    }

    /// EXPIRETIME: the next key expires at `at_s` (Unix seconds; files
    /// before RDB 3).
    pub fn expire_s(&mut self, at_s: i32) -> Result<()> {
        self.op(opcode::EXPIRETIME, |b| {
            b.extend_from_slice(&at_s.to_le_bytes())
        })
    }

    /// IDLE: the next key's LRU idle time in seconds.
    pub fn idle(&mut self, seconds: u64) -> Result<()> {
        self.op(opcode::IDLE, |b| length(b, seconds))
    }

    /// FREQ: the next key's LFU counter.
    pub fn freq(&mut self, counter: u8) -> Result<()> {
        self.op(opcode::FREQ, |b| b.push(counter))
    }

    /// FUNCTION2 (RDB 10+): a function library, its whole source (for
    /// Lua, starting `#!lua name=<library>`), loaded as `FUNCTION LOAD`
    /// would.
    pub fn function(&mut self, code: &[u8]) -> Result<()> {
        self.op(opcode::FUNCTION2, |b| string(b, code))
    }

    /// MODULE_AUX: data a module saves outside its keys; `when` is 1
    /// (before the keyspace) or 2 (after it), and `body` the module's
    /// opcode stream up to and including its end (see [`super::module`]).
    pub fn module_aux(&mut self, id: crate::ModuleId, when: u64, body: &[u8]) -> Result<()> {
        self.op(opcode::MODULE_AUX, |b| {
            super::module::id(b, id);
            super::module::uint(b, when);
            b.extend_from_slice(body);
        })
    }

    /// SLOT_INFO (Redis 7.4+ cluster files): the sizes of hash slot
    /// `slot`'s key and expire tables, a hint for loading.
    pub fn slot_info(&mut self, slot: u64, keys: u64, expires: u64) -> Result<()> {
        self.op(opcode::SLOT_INFO, |b| {
            length(b, slot);
            length(b, keys);
            length(b, expires);
        })
    }

    /// A key record: the type byte, the key, and the value encoded by the
    /// caller (see [`super::value`]) in the layout `type_byte` names.
    pub fn key(&mut self, type_byte: u8, key: &[u8], value: &[u8]) -> Result<()> {
        let how = self.strings;
        self.op(type_byte, |b| encoded(b, key, how))?;
        self.raw(value)
    }

    /// EOF, then the CRC-64 of everything before it (RDB 5 and later);
    /// returns the output.
    pub fn finish(self) -> Result<W> {
        self.end(true)
    }

    /// EOF, then 8 zero bytes where the checksum goes: what Redis writes
    /// with `rdbchecksum no`, and what readers take as "not checked".
    pub fn finish_unchecked(self) -> Result<W> {
        self.end(false)
    }

    fn end(mut self, checksum: bool) -> Result<W> {
        self.raw(&[opcode::EOF])?;
        if self.trailer {
            let crc = if checksum { self.crc.value() } else { 0 };
            self.out.write_all(&crc.to_le_bytes())?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Checksum, Rdb, Record};

    #[test]
    fn format_example_file() {
        let mut w = Writer::redis(Vec::new(), 11).unwrap();
        w.select_db(0).unwrap();
        w.resize_db(1, 0).unwrap();
        w.key(0, b"k", b"\x01v").unwrap();
        let f = w.finish().unwrap();
        assert_eq!(
            f,
            b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x01k\x01v\xff\x82\x0b\x95\x88\x5e\x25\x63\x13"
        );
        let rdb = Rdb::new(&f).unwrap();
        let n = rdb
            .records()
            .filter(|r| matches!(r, Ok(Record::Key(_))))
            .count();
        assert_eq!(n, 1);
    }

    #[test]
    fn other_records_read_back() {
        let id = super::super::module::module_id("hellotype", 3).unwrap();
        let mut body = Vec::new();
        super::super::module::sint(&mut body, -5);
        super::super::module::string(&mut body, b"payload");
        super::super::module::eof(&mut body);
        let mut w = Writer::redis(Vec::new(), 11).unwrap();
        w.function(b"#!lua name=lib\nreturn 1").unwrap();
        w.module_aux(id, 2, &body).unwrap();
        let f = w.finish().unwrap();
        let rdb = Rdb::new(&f).unwrap();
        let records: Vec<Record> = rdb.records().map(|r| r.unwrap()).collect();
        assert!(matches!(records[0], Record::Function { .. }));
        match records[1] {
            Record::ModuleAux { module, when } => {
                assert_eq!(when, 2);
                assert_eq!(module.id, id);
                assert_eq!(module.raw, &body[..]);
            }
            other => panic!("{other:?}"),
        }
        let mut w = Writer::redis(Vec::new(), 12).unwrap();
        w.slot_info(7, 100, 3).unwrap();
        let f = w.finish().unwrap();
        let rdb = Rdb::new(&f).unwrap();
        assert!(matches!(
            rdb.records().next(),
            Some(Ok(Record::SlotInfo {
                slot: 7,
                size: 100,
                expires_size: 3
            }))
        ));
    }

    #[test]
    fn headers_and_trailers() {
        let f = Writer::valkey(Vec::new(), 80).unwrap().finish().unwrap();
        assert_eq!(&f[..9], b"VALKEY080");
        assert_eq!(f.len(), 9 + 1 + 8);
        let f = Writer::redis(Vec::new(), 4).unwrap().finish().unwrap();
        assert_eq!(f, b"REDIS0004\xff");
        let f = Writer::redis(Vec::new(), 9)
            .unwrap()
            .finish_unchecked()
            .unwrap();
        assert_eq!(&f[10..], [0; 8]);
        assert!(Writer::redis(Vec::new(), 10_000).is_err());
        assert!(Writer::valkey(Vec::new(), 1000).is_err());
        let _ = Checksum::Disabled;
    }
}
