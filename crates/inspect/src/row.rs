//! One key's facts, as every inspection command sees them.

use crate::memory::{Estimator, KeyMemory};
use rdbscope_rdb::types::KeyType;
use rdbscope_rdb::value::Scratch;
use rdbscope_rdb::{KeyRecord, Result};

/// What inspection knows about one key: where it is, what it is, and what
/// it costs in a server (`memory`, as `MEMORY USAGE key SAMPLES 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRow<'a> {
    /// Database number.
    pub db: u64,
    /// The key's bytes.
    pub key: &'a [u8],
    /// The data type.
    pub key_type: KeyType,
    /// The encoding the server holds the value in after loading it, as
    /// `OBJECT ENCODING` names it (`listpack`, `hashtable`, ...).
    pub encoding: &'static str,
    /// Absolute expire time in Unix milliseconds.
    pub expire_at_ms: Option<i64>,
    /// LRU idle seconds, when the file records them.
    pub idle_s: Option<u64>,
    /// LFU counter, when the file records it.
    pub freq: Option<u8>,
    /// Estimated bytes the key uses in the server, key and value.
    pub memory: u64,
    /// The part of `memory` that is the key's own cost in the keyspace
    /// (its name and dictionary entry), whatever the value.
    pub key_overhead: u64,
    /// Elements (1 for a string; entries for a stream).
    pub elements: u64,
    /// Bytes of the largest element (a string's length; a hash's largest
    /// field or value; 0 for a stream or module).
    pub largest: u64,
    /// Bytes the value takes in the file.
    pub stored_size: u64,
    /// File offset of the record.
    pub offset: u64,
}

impl KeyRow<'_> {
    /// The same row with another key (for rows kept past their record).
    pub fn with_key<'b>(&self, key: &'b [u8]) -> KeyRow<'b> {
        KeyRow {
            db: self.db,
            key,
            key_type: self.key_type,
            encoding: self.encoding,
            expire_at_ms: self.expire_at_ms,
            idle_s: self.idle_s,
            freq: self.freq,
            memory: self.memory,
            key_overhead: self.key_overhead,
            elements: self.elements,
            largest: self.largest,
            stored_size: self.stored_size,
            offset: self.offset,
        }
    }
}

/// Turns key records into [`KeyRow`]s; one per thread.
#[derive(Debug)]
pub struct Inspector {
    estimator: Estimator,
    scratch: Scratch,
    key_buf: Vec<u8>,
    max_key_size: u64,
}

impl Inspector {
    /// Estimates with `estimator`; values are decoded with `scratch`
    /// (whose limit caps decompressed sizes), keys of at most
    /// `max_key_size` bytes.
    pub fn new(estimator: Estimator, scratch: Scratch, max_key_size: u64) -> Inspector {
        Inspector {
            estimator,
            scratch,
            key_buf: Vec::new(),
            max_key_size,
        }
    }

    /// The row of one key record. Errors name the key.
    pub fn row<'s>(&'s mut self, k: &'s KeyRecord<'_>) -> Result<KeyRow<'s>> {
        Ok(self.row_if(k, |_| true)?.expect("every key accepted"))
    }

    /// The row of one key record if `accept` takes its key bytes (decoded
    /// once, for the filter and the row), else `None` with no value
    /// decoded. Errors name the key.
    pub fn row_if<'s>(
        &'s mut self,
        k: &'s KeyRecord<'_>,
        accept: impl FnOnce(&[u8]) -> bool,
    ) -> Result<Option<KeyRow<'s>>> {
        let key = k
            .key
            .bytes_limited(&mut self.key_buf, self.max_key_size)
            .map_err(|e| k.annotate(e))?;
        if !accept(key) {
            return Ok(None);
        }
        let m: KeyMemory = self
            .estimator
            .key(k, key, &mut self.scratch)
            .map_err(|e| k.annotate(e))?;
        Ok(Some(KeyRow {
            db: k.db,
            key,
            key_type: k.value.key_type(),
            encoding: m.encoding,
            expire_at_ms: k.expire_at_ms,
            idle_s: k.idle_s,
            freq: k.freq,
            memory: m.bytes,
            key_overhead: m.key_overhead,
            elements: m.elements,
            largest: m.largest,
            stored_size: k.value.raw().len() as u64,
            offset: k.offset,
        }))
    }
}
