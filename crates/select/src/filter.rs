//! Key selection: the `--db`, `--type`, `--key`, `--key-regex`,
//! `--not-key`, `--expiry`, `--expired`, `--min-size`, `--slot` family,
//! parsed once ([`KeyFilterArgs`]) and applied to the plain facts of a key
//! ([`KeyFacts`]), whatever it was read from: an RDB key record, a record
//! of a JSON dump, the RDB part of an AOF.
//!
//! A key is selected when every given filter selects it; within one
//! repeatable filter, any value selects it (`--db 0 --db 3`: database 0 or
//! 3). `--key` and `--key-regex` together are one list of patterns: the key
//! must match one of them.

use crate::glob::Glob;
use crate::slot::{key_hash_slot, SLOTS};
use crate::units::{parse_size, parse_time_ms};
use clap::Args;
use rdbscope_rdb::KeyType;
use regex::bytes::Regex;
use std::ffi::OsString;
use std::ops::RangeInclusive;

/// The key filters as command-line options; a command takes them with
/// `#[command(flatten)]`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Key selection")]
pub struct KeyFilterArgs {
    /// Only keys in database N (repeatable: any of them).
    #[arg(long = "db", value_name = "N")]
    pub dbs: Vec<u64>,
    /// Only keys of this type: string, list, set, zset, hash, stream,
    /// module (repeatable).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub types: Vec<KeyType>,
    /// Only keys matching this Redis glob pattern (`*`, `?`, `[a-z]`, `\x`,
    /// as KEYS and SCAN MATCH use them; repeatable: any of them).
    #[arg(long = "key", value_name = "GLOB")]
    pub keys: Vec<OsString>,
    /// Only keys matching this regular expression, searched anywhere in the
    /// key unless anchored with `^...$` (Rust `regex` syntax on the key's
    /// bytes; `(?-u)` to match arbitrary bytes with `\xNN`; repeatable).
    /// Together with --key: the key must match one of all the patterns.
    #[arg(long = "key-regex", value_name = "RE", value_parser = parse_regex)]
    pub key_regexes: Vec<Regex>,
    /// Leave out keys matching this glob pattern (repeatable).
    #[arg(long = "not-key", value_name = "GLOB")]
    pub not_keys: Vec<OsString>,
    /// Only keys that have an expire time.
    #[arg(long, conflicts_with = "no_expiry")]
    pub expiry: bool,
    /// Only keys without an expire time.
    #[arg(long)]
    pub no_expiry: bool,
    /// Only keys whose expire time is before --now (the server would drop
    /// them on load).
    #[arg(long, group = "expired_at")]
    pub expired: bool,
    /// Only keys that are not expired at --now (including keys without an
    /// expire time).
    #[arg(long, group = "expired_at")]
    pub not_expired: bool,
    /// The time --expired and --not-expired compare with: Unix seconds
    /// (1700000000), Unix milliseconds (1700000000000ms) or
    /// YYYY-MM-DDTHH:MM:SSZ. Default: the time the file was written (its
    /// `ctime` aux field), else the current time. The inspection commands
    /// also count expired keys and expiry buckets against it.
    #[arg(long, value_name = "TIME", value_parser = parse_time_ms)]
    pub now: Option<i64>,
    /// Only keys whose value takes at least SIZE bytes in the file (the
    /// value's stored bytes, as compressed and encoded; units K, M, G, T
    /// are powers of 1024: 1K = 1KB = 1024).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub min_size: Option<u64>,
    /// Only keys whose value takes at most SIZE bytes in the file.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,
    /// Only keys in this Redis Cluster hash slot, or range of slots A-B
    /// (inclusive; CRC16 of the key or of its {hash tag}, as CLUSTER
    /// KEYSLOT; repeatable).
    #[arg(long = "slot", value_name = "N|A-B", value_parser = parse_slots)]
    pub slots: Vec<RangeInclusive<u16>>,
}

/// The plain facts about one key that the filters look at.
#[derive(Debug, Clone, Copy)]
pub struct KeyFacts<'k> {
    /// Database number.
    pub db: u64,
    /// The key's bytes (decompressed).
    pub key: &'k [u8],
    /// The data type.
    pub key_type: KeyType,
    /// Absolute expire time in Unix milliseconds, if the key has one.
    pub expire_at_ms: Option<i64>,
    /// Bytes the value takes in the file (its stored encoding). Readers
    /// that do not know it (JSON) pass 0 and refuse size filters (see
    /// [`KeyFilter::uses_stored_size`]).
    pub stored_size: u64,
}

/// A compiled key filter. Matching takes `&self`, allocates nothing, and
/// checks the cheap facts (database, type, expire, size) before the key's
/// bytes, so that a caller can skip decoding a compressed key
/// ([`KeyFilter::matches_meta`] then [`KeyFilter::matches_key`]).
#[derive(Debug, Clone)]
pub struct KeyFilter {
    dbs: Vec<u64>,
    /// Bit `KeyType::index()` set for each selected type; 0: all.
    types: u32,
    keys: Vec<Glob>,
    regexes: Vec<Regex>,
    not_keys: Vec<Glob>,
    /// Some(true): must have an expire; Some(false): must not.
    expiry: Option<bool>,
    /// Some(true): must be expired at `now`; Some(false): must not.
    expired: Option<bool>,
    now_given: Option<i64>,
    now_file: Option<i64>,
    now_clock: i64,
    min_size: u64,
    max_size: u64,
    slots: Vec<RangeInclusive<u16>>,
}

impl Default for KeyFilter {
    fn default() -> Self {
        KeyFilter::all()
    }
}

impl KeyFilter {
    /// A filter that selects every key.
    pub fn all() -> KeyFilter {
        KeyFilter {
            dbs: Vec::new(),
            types: 0,
            keys: Vec::new(),
            regexes: Vec::new(),
            not_keys: Vec::new(),
            expiry: None,
            expired: None,
            now_given: None,
            now_file: None,
            now_clock: clock_ms(),
            min_size: 0,
            max_size: u64::MAX,
            slots: Vec::new(),
        }
    }

    /// The filter the options describe. Fails (a usage error) when they
    /// contradict each other so that no key could be selected.
    pub fn new(a: &KeyFilterArgs) -> Result<KeyFilter, String> {
        let min_size = a.min_size.unwrap_or(0);
        let max_size = a.max_size.unwrap_or(u64::MAX);
        if min_size > max_size {
            return Err(format!(
                "--min-size {min_size} is larger than --max-size {max_size}: no key can match"
            ));
        }
        let flag = |yes: bool, no: bool| match (yes, no) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        let globs = |v: &[OsString]| v.iter().map(|p| Glob::new(os_bytes(p))).collect();
        Ok(KeyFilter {
            dbs: a.dbs.clone(),
            types: a.types.iter().fold(0, |m, t| m | 1 << t.index()),
            keys: globs(&a.keys),
            regexes: a.key_regexes.clone(),
            not_keys: globs(&a.not_keys),
            expiry: flag(a.expiry, a.no_expiry),
            expired: flag(a.expired, a.not_expired),
            now_given: a.now,
            min_size,
            max_size,
            slots: a.slots.clone(),
            ..KeyFilter::all()
        })
    }

    /// Whether any filter is given (else every key is selected, and
    /// commands print the file's other records too).
    pub fn is_active(&self) -> bool {
        !self.dbs.is_empty() || self.selects_within_db()
    }

    /// Whether a filter other than `--db` is given: one that looks at the
    /// key itself. (AOF commands are selected by database only.)
    pub fn selects_within_db(&self) -> bool {
        self.types != 0
            || self.needs_key()
            || self.expiry.is_some()
            || self.expired.is_some()
            || self.uses_stored_size()
    }

    /// Whether `--type` is given.
    pub fn selects_type(&self) -> bool {
        self.types != 0
    }

    /// Whether a filter on expire times or stored sizes is given: facts
    /// that only an RDB's key records carry.
    pub fn uses_value_facts(&self) -> bool {
        self.expiry.is_some() || self.expired.is_some() || self.uses_stored_size()
    }

    /// The selected databases; empty: all.
    pub fn dbs(&self) -> &[u64] {
        &self.dbs
    }

    /// Whether database `db` is selected.
    #[inline]
    pub fn selects_db(&self, db: u64) -> bool {
        self.dbs.is_empty() || self.dbs.contains(&db)
    }

    /// Whether matching needs the key's bytes (else
    /// [`KeyFilter::matches_meta`] decides alone).
    pub fn needs_key(&self) -> bool {
        !self.keys.is_empty()
            || !self.regexes.is_empty()
            || !self.not_keys.is_empty()
            || !self.slots.is_empty()
    }

    /// Whether `--min-size` or `--max-size` is given: they need the
    /// value's stored size, which an input that does not hold the RDB
    /// encoding (a JSON dump) cannot tell; such a reader refuses them.
    pub fn uses_stored_size(&self) -> bool {
        self.min_size > 0 || self.max_size < u64::MAX
    }

    /// Records the time the file was written (its `ctime` aux field, in
    /// Unix seconds), the default for `--now`.
    pub fn set_file_time(&mut self, unix_seconds: i64) {
        self.now_file = unix_seconds.checked_mul(1000);
    }

    /// The time `--expired` compares with, in Unix milliseconds: `--now`,
    /// else the file's `ctime`, else the time this filter was made.
    pub fn now_ms(&self) -> i64 {
        self.now_given.or(self.now_file).unwrap_or(self.now_clock)
    }

    /// Whether the key is selected.
    #[inline]
    pub fn matches(&self, k: &KeyFacts<'_>) -> bool {
        self.matches_meta(k.db, k.key_type, k.expire_at_ms, k.stored_size)
            && self.matches_key(k.key)
    }

    /// The filters that need no key bytes: database, type, expire, size.
    #[inline]
    pub fn matches_meta(
        &self,
        db: u64,
        key_type: KeyType,
        expire_at_ms: Option<i64>,
        stored_size: u64,
    ) -> bool {
        if !self.selects_db(db) {
            return false;
        }
        if self.types != 0 && self.types & (1 << key_type.index()) == 0 {
            return false;
        }
        if let Some(want) = self.expiry {
            if expire_at_ms.is_some() != want {
                return false;
            }
        }
        if let Some(want) = self.expired {
            // As Redis on load: expired when the expire time is before now.
            let expired = expire_at_ms.is_some_and(|t| t < self.now_ms());
            if expired != want {
                return false;
            }
        }
        (self.min_size..=self.max_size).contains(&stored_size)
    }

    /// The filters on the key's bytes: patterns, exclusions, slots.
    #[inline]
    pub fn matches_key(&self, key: &[u8]) -> bool {
        if (!self.keys.is_empty() || !self.regexes.is_empty())
            && !self.keys.iter().any(|g| g.matches(key))
            && !self.regexes.iter().any(|r| r.is_match(key))
        {
            return false;
        }
        if self.not_keys.iter().any(|g| g.matches(key)) {
            return false;
        }
        if !self.slots.is_empty() {
            let slot = key_hash_slot(key);
            if !self.slots.iter().any(|r| r.contains(&slot)) {
                return false;
            }
        }
        true
    }

    /// Whether, once a key was selected, no later key can be: the filter
    /// names one literal key (`--key` without glob characters) in one
    /// database, and a database holds each key once. A walk may stop there.
    pub fn stops_after_match(&self) -> bool {
        self.dbs.len() == 1 && self.keys.len() == 1 && self.keys[0].is_literal()
    }
}

/// A pattern's bytes as given on the command line (any bytes on Unix,
/// where keys that are not UTF-8 can be typed).
fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        s.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned().into_bytes()
    }
}

fn clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn parse_type(s: &str) -> Result<KeyType, String> {
    KeyType::from_name(s).ok_or_else(|| {
        format!("unknown type {s:?}; expected string, list, set, zset, hash, stream or module")
    })
}

fn parse_regex(s: &str) -> Result<Regex, String> {
    Regex::new(s).map_err(|e| e.to_string())
}

/// `N` or `A-B`, within `0..16384`.
fn parse_slots(s: &str) -> Result<RangeInclusive<u16>, String> {
    let slot = |t: &str| {
        t.trim()
            .parse::<u16>()
            .ok()
            .filter(|&n| n < SLOTS)
            .ok_or_else(|| format!("invalid slot {t:?}: expected a number from 0 to 16383"))
    };
    match s.split_once('-') {
        None => slot(s).map(|n| n..=n),
        Some((a, b)) => {
            let (a, b) = (slot(a)?, slot(b)?);
            if a > b {
                return Err(format!("invalid slot range {s:?}: {a} is larger than {b}"));
            }
            Ok(a..=b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ranges() {
        assert_eq!(parse_slots("0"), Ok(0..=0));
        assert_eq!(parse_slots("16383"), Ok(16383..=16383));
        assert_eq!(parse_slots("100-200"), Ok(100..=200));
        assert!(parse_slots("16384").is_err());
        assert!(parse_slots("5-1").is_err());
        assert!(parse_slots("a-b").is_err());
        assert!(parse_slots("-1").is_err());
    }
}
