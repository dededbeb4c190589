//! The filters over records of `rdbscope_rdb`: the facts of a
//! [`KeyRecord`], and [`RecordFilter`], which a command's walk calls once
//! per record to learn whether to keep it.

use crate::filter::{KeyFacts, KeyFilter};
use rdbscope_rdb::{KeyRecord, Record, Result};

impl KeyFilter {
    /// Whether the key record is selected. The key is decoded (into
    /// `key_buf`, reused) only when a filter needs its bytes and the cheap
    /// filters passed.
    pub fn matches_record(
        &self,
        k: &KeyRecord<'_>,
        key_buf: &mut Vec<u8>,
        max_key_size: u64,
    ) -> Result<bool> {
        let size = k.value.raw().len() as u64;
        if !self.matches_meta(k.db, k.value.key_type(), k.expire_at_ms, size) {
            return Ok(false);
        }
        if !self.needs_key() {
            return Ok(true);
        }
        let key = k
            .key
            .bytes_limited(key_buf, max_key_size)
            .map_err(|e| k.annotate(e))?;
        Ok(self.matches_key(key))
    }
}

impl KeyFilter {
    /// Whether an owned key (read from a JSON dump, built by a reader) is
    /// selected. It has no stored size: callers refuse size filters
    /// first ([`KeyFilter::uses_stored_size`]).
    pub fn matches_owned(&self, k: &rdbscope_rdb::OwnedKey) -> bool {
        self.matches(&KeyFacts {
            db: k.db,
            key: &k.key,
            key_type: k.value.key_type(),
            expire_at_ms: k.expire_at_ms,
            stored_size: 0,
        })
    }
}

/// The facts of a key record whose key bytes the caller has decoded.
pub fn facts<'k>(k: &KeyRecord<'_>, key: &'k [u8]) -> KeyFacts<'k> {
    KeyFacts {
        db: k.db,
        key,
        key_type: k.value.key_type(),
        expire_at_ms: k.expire_at_ms,
        stored_size: k.value.raw().len() as u64,
    }
}

/// Which records of an RDB a command keeps: the selected keys, and the
/// other records (header, aux, functions, ...) when asked to. It also picks
/// the file's `ctime` aux field up as the default `--now`.
#[derive(Debug, Clone)]
pub struct RecordFilter {
    filter: KeyFilter,
    others: bool,
    key_buf: Vec<u8>,
    max_key_size: u64,
    done: bool,
}

impl RecordFilter {
    /// Keeps the keys `filter` selects, and the other records when
    /// `others` is true.
    pub fn new(filter: KeyFilter, others: bool) -> RecordFilter {
        RecordFilter {
            filter,
            others,
            key_buf: Vec::new(),
            max_key_size: u64::MAX,
            done: false,
        }
    }

    /// Caps the size of a compressed key decoded for matching (as
    /// `--max-value-size` caps every decompressed string).
    pub fn with_max_key_size(mut self, limit: u64) -> RecordFilter {
        self.max_key_size = limit;
        self
    }

    /// The key filter.
    pub fn key_filter(&self) -> &KeyFilter {
        &self.filter
    }

    /// Whether to keep `r`. An error is the key's decoding error.
    #[inline]
    pub fn keep(&mut self, r: &Record<'_>) -> Result<bool> {
        match r {
            Record::Key(k) => {
                let keep = self
                    .filter
                    .matches_record(k, &mut self.key_buf, self.max_key_size)?;
                if keep && self.filter.stops_after_match() {
                    self.done = true;
                }
                Ok(keep)
            }
            Record::Aux { name, value } => {
                if name.len() == 5 && name.bytes(&mut self.key_buf)? == b"ctime" {
                    if let Some(secs) = aux_int(value) {
                        self.filter.set_file_time(secs);
                    }
                }
                Ok(self.others)
            }
            _ => Ok(self.others),
        }
    }

    /// Whether no later key can be kept (see
    /// [`KeyFilter::stops_after_match`]): a walk that only wants keys may
    /// stop.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// An aux value as an integer (Redis stores `ctime` integer-encoded; a
/// textual one is parsed too).
fn aux_int(value: &rdbscope_rdb::RdbString<'_>) -> Option<i64> {
    if let Some(v) = value.as_int() {
        return Some(v);
    }
    if value.len() > 20 {
        return None;
    }
    let mut buf = Vec::new();
    let bytes = value.bytes(&mut buf).ok()?;
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}
