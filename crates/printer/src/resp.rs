//! RESP output: the commands that rebuild the dataset on a server, for
//! `redis-cli --pipe` or any client that streams commands.
//!
//! Each key becomes `RESTORE key ttl payload ABSTTL [IDLETIME s] [FREQ f]`,
//! where the payload is the value's bytes exactly as the file stores them,
//! framed as a DUMP payload (type byte, value, RDB version, CRC-64). Nothing
//! is decoded or re-encoded: the output is exact for every type, modules
//! included, and costs a copy and a CRC per key. The server must read the
//! file's RDB version (RESTORE refuses newer payloads). Databases are
//! switched with SELECT; function libraries are sent as `FUNCTION LOAD`.
//! AUX fields and module AUX data have no command and are not written;
//! empty collections are left out, as Redis leaves them out when loading.
//! With [`Restore::commands`], each key is written instead as the plain
//! commands a server's AOF rewrite emits ([`crate::commands`]).

use crate::commands::{array, bulk, bulk_header};
use crate::error::PrintError;
use crate::out::OutBuf;
use rdbscope_rdb::crc::{crc64_small, Crc64};
use rdbscope_rdb::rdb_string::int_text;
use rdbscope_rdb::{Header, KeyRecord, Record};
use std::io::Write;

/// Hand output to the writer in blocks of about this size.
const FLUSH_AT: usize = 256 << 10;

/// Writes records as Redis commands (`SELECT`, `RESTORE`, `FUNCTION LOAD`).
pub struct RespPrinter<W: Write> {
    /// None: everything stays in `out` (see [`RespPrinter::in_memory`]).
    sink: Option<W>,
    out: OutBuf,
    /// The RDB version stamped into every payload.
    version: u16,
    /// The database the output has selected (None: not yet).
    selected: Option<u64>,
    buf: Vec<u8>,
    scratch: rdbscope_rdb::Scratch,
    skipped_empty: u64,
    restore: Restore,
    arena: rdbscope_rdb::write::encode::Arena,
    value: Vec<u8>,
    dropped_field_ttls: u64,
    lost_stream_counters: u64,
    elems: crate::commands::Elems,
    /// How the file's server wrote zset scores as text.
    source_scores: rdbscope_rdb::write::score_text::ScoreText,
}

/// How RESTORE commands are made.
#[derive(Debug, Clone, Copy, Default)]
pub struct Restore {
    /// Re-encode each value for this target (its RDB version goes into the
    /// payloads), as `convert` would write it; `None`: the file's bytes.
    pub target: Option<rdbscope_rdb::write::encode::Target>,
    /// With a target: write hashes without the field TTLs it cannot hold.
    pub drop_field_ttl: bool,
    /// Leave out `FUNCTION LOAD` (a target before RDB 10 has no functions:
    /// without this, a function library is an error there).
    pub drop_functions: bool,
    /// Add `REPLACE` (with `commands`: a `DEL` before each key).
    pub replace: bool,
    /// Write each key as the plain commands a server's AOF rewrite emits
    /// for this dialect ([`crate::commands`]) instead of `RESTORE`.
    pub commands: Option<crate::commands::Dialect>,
}

impl<W: Write> RespPrinter<W> {
    /// A printer writing to `sink` for a file with `header` (its RDB version goes
    /// into every payload).
    pub fn new(sink: W, header: &Header) -> RespPrinter<W> {
        RespPrinter::with_out(
            Some(sink),
            OutBuf::with_capacity(FLUSH_AT + (FLUSH_AT >> 2)),
            header,
        )
    }

    fn with_out(sink: Option<W>, out: OutBuf, header: &Header) -> RespPrinter<W> {
        RespPrinter {
            sink,
            out,
            version: header.version.min(u32::from(u16::MAX)) as u16,
            selected: None,
            buf: Vec::new(),
            scratch: rdbscope_rdb::Scratch::new(),
            skipped_empty: 0,
            restore: Restore::default(),
            arena: Default::default(),
            value: Vec::new(),
            dropped_field_ttls: 0,
            lost_stream_counters: 0,
            elems: Default::default(),
            source_scores: rdbscope_rdb::write::score_text::ScoreText::of_rdb_version(match header
                .flavor
            {
                rdbscope_rdb::Flavor::Redis => header.version,
                rdbscope_rdb::Flavor::Valkey => 11,
            }),
        }
    }

    /// Makes RESTORE commands as `r` says.
    pub fn with_restore(mut self, r: Restore) -> Self {
        if let Some(t) = r.target {
            self.version = t.header.version.min(u32::from(u16::MAX)) as u16;
        }
        self.restore = r;
        self
    }

    /// Empty collections left out (Redis skips them when loading a file,
    /// and RESTORE refuses them).
    pub fn skipped_empty(&self) -> u64 {
        self.skipped_empty
    }

    /// The database the output has selected (None: no SELECT yet).
    pub fn selected(&self) -> Option<u64> {
        self.selected
    }

    /// Bytes held in the buffer (all output, for an in-memory printer).
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    fn flush_if_full(&mut self) -> Result<(), PrintError> {
        if self.out.len() >= FLUSH_AT {
            if let Some(sink) = &mut self.sink {
                sink.write_all(self.out.as_slice())?;
                self.out.clear();
            }
        }
        Ok(())
    }

    /// A function library's `FUNCTION LOAD`, unless the caller dropped
    /// functions; an error for a target without them.
    fn function(&mut self, code: &[u8]) -> Result<(), PrintError> {
        if self.restore.drop_functions {
            return Ok(());
        }
        let old = self.restore.target.is_some_and(|t| t.redis_version() < 10)
            || self.restore.commands.is_some_and(|d| !d.functions);
        if old {
            return Err(PrintError::Rdb(rdbscope_rdb::Error::new(
                0,
                rdbscope_rdb::ErrorKind::Unsupported(
                    "the input holds function libraries, which servers before Redis 7.0 do not have: --drop functions leaves them out".into(),
                ),
            )));
        }
        array(&mut self.out, 3);
        bulk(&mut self.out, b"FUNCTION");
        bulk(&mut self.out, b"LOAD");
        bulk(&mut self.out, code);
        self.flush_if_full()
    }

    /// Non-key records: function libraries become `FUNCTION LOAD`.
    pub fn record(&mut self, r: &Record<'_>) -> Result<(), PrintError> {
        match r {
            Record::Key(k) => self.key(k),
            Record::Function { code } => {
                let code = code.bytes(&mut self.buf)?.to_vec();
                self.function(&code)
            }
            _ => Ok(()),
        }
    }

    /// `RESTORE key ttl payload ABSTTL ...` (or the key's plain commands),
    /// after a SELECT if needed.
    pub fn key(&mut self, k: &KeyRecord<'_>) -> Result<(), PrintError> {
        if k.value.is_empty_collection(&mut self.scratch)? {
            self.skipped_empty += 1;
            return Ok(());
        }
        if let Some(d) = self.restore.commands {
            return self.commands(k, &d);
        }
        let reencoded = match self.restore.target {
            None => None,
            Some(t) => {
                if let Some(m) = t.missing_type(k.value.key_type()) {
                    return Err(PrintError::Rdb(k.annotate(rdbscope_rdb::Error::new(
                        k.offset as usize,
                        rdbscope_rdb::ErrorKind::Unsupported(format!(
                            "{} has no form in {}: no RESTORE payload for it",
                            m.what(),
                            t.header
                        )),
                    ))));
                }
                self.value.clear();
                let mut dropped = rdbscope_rdb::write::encode::Dropped::default();
                let r = rdbscope_rdb::write::encode::record_value(
                    &mut self.value,
                    k,
                    &t,
                    self.restore.drop_field_ttl,
                    &mut dropped,
                    &mut self.arena,
                    &mut self.scratch,
                );
                match r {
                    Ok(type_byte) => Some(type_byte),
                    Err(e) => {
                        let hint = if matches!(e, rdbscope_rdb::write::Error::Missing(_)) {
                            " (--drop field-ttl restores the fields without them)"
                        } else {
                            ""
                        };
                        return Err(PrintError::Rdb(k.annotate(rdbscope_rdb::Error::new(
                            k.offset as usize,
                            rdbscope_rdb::ErrorKind::Unsupported(format!(
                                "{e} for {}{hint}",
                                t.header
                            )),
                        ))));
                    }
                }
            }
        };
        self.select(k.db);
        let o = &mut self.out;
        let mut n = 5 + usize::from(self.restore.replace);
        n += 2 * usize::from(k.idle_s.is_some()) + 2 * usize::from(k.freq.is_some());
        array(o, n);
        bulk(o, b"RESTORE");
        let key = k.key.bytes(&mut self.buf)?;
        bulk(o, key);
        let mut tmp = [0u8; 20];
        // 0 means "no TTL"; an expire time at or before 1970 (old files can
        // hold negative seconds) is long past: 1 ms makes RESTORE treat the
        // key as expired, as loading the file would, instead of refusing
        // the command.
        let ttl = k.expire_at_ms.map_or(0, |t| t.max(1));
        bulk(o, int_text(ttl, &mut tmp));
        // The payload: [KEY_META] type value version crc64 (re-encoded: no
        // key metadata, which only RDB 13 holds).
        let (type_byte, value, meta) = match reencoded {
            Some(t) => (t, self.value.as_slice(), None),
            None => (
                k.value.type_byte(),
                k.value.raw(),
                k.key_meta.map(|m| (m.len() + 1, m)),
            ),
        };
        let len = meta.map_or(0, |(n, _)| n) + 1 + value.len() + 10;
        bulk_header(o, len);
        // CRC of [meta] type value version: the few bytes around the value
        // by table, the value itself by the SIMD path, in one call.
        let mut head = 0;
        if let Some((_, m)) = meta {
            o.push(rdbscope_rdb::types::opcode::KEY_META_OR_SLOT_IMPORT);
            o.put(m);
            head = crc64_small(
                head,
                &[rdbscope_rdb::types::opcode::KEY_META_OR_SLOT_IMPORT],
            );
            head = crc64_small(head, m);
        }
        let t = [type_byte];
        o.put(&t);
        o.put(value);
        let version = self.version.to_le_bytes();
        o.put(&version);
        let mut crc = Crc64::resume(crc64_small(head, &t));
        crc.update(value);
        let crc = crc64_small(crc.value(), &version);
        o.put(&crc.to_le_bytes());
        o.put(b"\r\n");
        bulk(o, b"ABSTTL");
        if self.restore.replace {
            bulk(o, b"REPLACE");
        }
        if let Some(idle) = k.idle_s {
            bulk(o, b"IDLETIME");
            bulk(o, int_text(idle.min(i64::MAX as u64) as i64, &mut tmp));
        }
        if let Some(freq) = k.freq {
            bulk(o, b"FREQ");
            bulk(o, int_text(i64::from(freq), &mut tmp));
        }
        self.flush_if_full()
    }

    /// The key as plain commands ([`crate::commands`]), written straight
    /// into the output after a SELECT if needed.
    fn commands(
        &mut self,
        k: &KeyRecord<'_>,
        d: &crate::commands::Dialect,
    ) -> Result<(), PrintError> {
        // Most keys straight from their bytes; streams, module values and
        // hashes with field TTLs through their owned form.
        let (at, selected) = (self.out.len(), self.selected);
        self.select(k.db);
        let direct = crate::commands::record(
            &mut self.out,
            k,
            d,
            self.source_scores,
            self.restore.replace,
            &mut self.elems,
            &mut self.scratch,
        );
        let r = match direct {
            Ok(true) => return self.flush_if_full(),
            Ok(false) => match k.to_owned(&mut self.scratch) {
                Ok(owned) => self.owned_commands(&owned, d, Some(k)),
                Err(e) => Err(PrintError::Rdb(k.annotate(e))),
            },
            Err(e) => Err(PrintError::Rdb(k.annotate(e))),
        };
        if r.is_err() && self.out.len() >= at {
            // Nothing of a key that is not written, not even its SELECT.
            self.out.truncate(at);
            self.selected = selected;
        }
        r
    }

    /// `SELECT db` unless it is selected already.
    fn select(&mut self, db: u64) {
        if self.selected != Some(db) {
            let mut tmp = [0u8; 20];
            array(&mut self.out, 2);
            bulk(&mut self.out, b"SELECT");
            bulk(&mut self.out, int_text(db as i64, &mut tmp));
            self.selected = Some(db);
        }
    }

    /// An owned key as plain commands; `k`, when it was read from a file,
    /// names where in errors.
    fn owned_commands(
        &mut self,
        owned: &rdbscope_rdb::OwnedKey,
        d: &crate::commands::Dialect,
        k: Option<&KeyRecord<'_>>,
    ) -> Result<(), PrintError> {
        if let Some(m) = crate::commands::missing(owned, d, self.restore.drop_field_ttl) {
            let hint = match m {
                crate::commands::Missing::FieldTtls => {
                    " (--drop field-ttl writes the fields without them)"
                }
                _ => "",
            };
            let what = format!("{} has no command in the target server{hint}", m.what());
            return Err(match k {
                Some(k) => PrintError::Rdb(k.annotate(rdbscope_rdb::Error::new(
                    k.offset as usize,
                    rdbscope_rdb::ErrorKind::Unsupported(what),
                ))),
                // Read from JSON: no offset to name, the key and database.
                None => PrintError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "key \"{}\" (db {}): {what}",
                        rdbscope_rdb::error::escape_key(&owned.key),
                        owned.db
                    ),
                )),
            });
        }
        self.select(owned.db);
        let mut left = crate::commands::Left::default();
        let written = crate::commands::key(
            &mut self.out,
            owned,
            d,
            self.restore.replace,
            self.restore.drop_field_ttl,
            &mut left,
        );
        debug_assert!(written.is_ok(), "checked by `missing` above");
        self.dropped_field_ttls += left.field_ttls;
        self.lost_stream_counters += left.stream_counters;
        self.flush_if_full()
    }

    /// An owned record (read from a JSON dump) as plain commands: a key's
    /// commands, a function library's `FUNCTION LOAD`; other records have
    /// no command. Only for a printer making commands
    /// ([`Restore::commands`]): an owned record has no RDB payload.
    pub fn owned_record(&mut self, r: &rdbscope_rdb::OwnedRecord) -> Result<(), PrintError> {
        use rdbscope_rdb::OwnedRecord;
        let Some(d) = self.restore.commands else {
            return Err(PrintError::Rdb(rdbscope_rdb::Error::new(
                0,
                rdbscope_rdb::ErrorKind::Unsupported(
                    "RESTORE needs the value's RDB bytes: a JSON input has none".into(),
                ),
            )));
        };
        match r {
            OwnedRecord::Key(k) => {
                if k.value.is_empty_collection() {
                    // Servers leave empty collections out (a stream stays).
                    self.skipped_empty += 1;
                    return Ok(());
                }
                self.owned_commands(k, &d, None)
            }
            OwnedRecord::Function { code } => self.function(code),
            _ => Ok(()),
        }
    }

    /// Field TTLs left out of plain commands (`--drop field-ttl`).
    pub fn dropped_field_ttls(&self) -> u64 {
        self.dropped_field_ttls
    }

    /// Stream counters a target's commands had no place for.
    pub fn lost_stream_counters(&self) -> u64 {
        self.lost_stream_counters
    }

    /// Writes what is buffered and flushes the writer.
    pub fn finish(mut self) -> Result<W, PrintError> {
        self.flush()?;
        Ok(self.sink.expect("finish is for printers with a writer"))
    }

    /// Hands everything written so far to the sink.
    pub fn flush(&mut self) -> Result<(), PrintError> {
        if let Some(sink) = &mut self.sink {
            sink.write_all(self.out.as_slice())?;
            self.out.clear();
            sink.flush()?;
        }
        Ok(())
    }
}

impl RespPrinter<std::io::Sink> {
    /// A printer that keeps all its output in memory, in `buf` (emptied
    /// first, its allocation reused), for [`RespPrinter::into_buffer`].
    pub fn in_memory(buf: Vec<u8>, header: &Header) -> Self {
        RespPrinter::with_out(None, OutBuf::from_vec(buf), header)
    }

    /// The output of an [`RespPrinter::in_memory`] printer.
    pub fn into_buffer(self) -> Vec<u8> {
        self.out.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdbscope_rdb::Rdb;

    #[test]
    fn restore_command_for_the_minimal_file() {
        // the minimal RDB of docs/format.md#worked-examples: db 0, "k" = "v".
        let file =
            b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x01k\x01v\xff\x82\x0b\x95\x88\x5e\x25\x63\x13";
        let rdb = Rdb::new(file).unwrap();
        let mut p = RespPrinter::new(Vec::new(), &rdb.header());
        for r in rdb.records() {
            p.record(&r.unwrap()).unwrap();
        }
        let out = p.finish().unwrap();
        let mut payload = vec![0u8, 1, b'v', 11, 0];
        let crc = rdbscope_rdb::crc::crc64(&payload);
        payload.extend(crc.to_le_bytes());
        let mut want = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$7\r\nRESTORE\r\n$1\r\nk\r\n$1\r\n0\r\n$13\r\n".to_vec();
        want.extend(&payload);
        want.extend(b"\r\n$6\r\nABSTTL\r\n");
        assert_eq!(out, want);
        // The payload is one DUMP payload our own parser accepts.
        let p = rdbscope_rdb::payload::parse(&payload, true).unwrap();
        assert_eq!(p.value.string().unwrap().to_vec().unwrap(), b"v");
    }
}
