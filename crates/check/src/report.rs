//! The result of checking one file, and its two renderings: the
//! `redis-check-rdb` text grammar (so runbooks and grep patterns keep
//! working) and a JSON object for pipelines.

use rdbscope_json::keyspace::Keyspace;
use rdbscope_json::write::{write_bytes, write_json_str as json_str};
use rdbscope_rdb::error::escape_key;
use rdbscope_rdb::{
    types::type_byte_name, Checksum, Error, ErrorKind, Header, KeyRecord, Rule, Stage,
};
use std::io::{self, Write};

/// One problem found: the decoder's error (offset, stage, key, type, the
/// [`Rule`] broken and what was expected), with a class for the JSON
/// report. It derefs to the [`Error`], so `p.offset`, `p.key`, `p.rule`,
/// `p.message()` read as on an error.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The decoder's error.
    pub error: Error,
    /// A short machine-readable class: `truncated`, `invalid`,
    /// `unsupported`, `limit`, `checksum`, `duplicate-key`, `trailing-data`.
    pub kind: &'static str,
}

impl Problem {
    /// A problem of class `kind` that the checker found itself.
    pub fn new(error: Error, kind: &'static str) -> Problem {
        Problem { error, kind }
    }

    /// A decoding error, classed by its kind.
    pub fn from_error(e: &Error) -> Problem {
        let kind = match e.kind {
            ErrorKind::Truncated { .. } => "truncated",
            ErrorKind::Invalid(_) => "invalid",
            ErrorKind::Unsupported(_) => "unsupported",
            ErrorKind::Limit(_) => "limit",
            ErrorKind::ChecksumMismatch { .. } => "checksum",
        };
        Problem::new(e.clone(), kind)
    }
}

impl std::ops::Deref for Problem {
    type Target = Error;

    fn deref(&self) -> &Error {
        &self.error
    }
}

impl std::fmt::Display for Problem {
    /// One line, as the decoder's errors read: offset, stage, key, type,
    /// message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// Everything learned about one file.
#[derive(Debug, Clone)]
pub struct Report {
    /// The input's name, for messages.
    pub name: String,
    /// The input's size in bytes.
    pub size: u64,
    /// The magic and version, once read.
    pub header: Option<Header>,
    /// (offset after the record, name, value), for the text grammar.
    pub aux: Vec<(u64, Vec<u8>, Vec<u8>)>,
    /// (offset after the record, db).
    pub selects: Vec<(u64, u64)>,
    /// Keys per database, type and encoding.
    pub keyspace: Keyspace,
    /// Key records read.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
    /// Keys whose expiry is before the check's reference time.
    pub already_expired: u64,
    /// Hash fields with a TTL.
    pub subexpires: u64,
    /// Empty collections (Redis skips them on load; not a problem).
    pub empty_keys: u64,
    /// What the CRC-64 trailer held, once reached.
    pub checksum: Option<Checksum>,
    /// Whether the trailer disagreed with the computed CRC.
    pub checksum_mismatch: bool,
    /// Offset just past the checksum, when reached.
    pub end_offset: Option<u64>,
    /// The earliest problem in the file.
    pub first_problem: Option<Problem>,
    /// How many problems were found.
    pub problems: u64,
    /// The walk could not go on (the rest of the file is unread).
    pub structural_failure: bool,
    /// Remarks that are not problems.
    pub notes: Vec<String>,
}

impl Report {
    /// An empty report for the input `name` of `size` bytes.
    pub fn new(name: &str, size: u64) -> Report {
        Report {
            name: name.to_string(),
            size,
            header: None,
            aux: Vec::new(),
            selects: Vec::new(),
            keyspace: Keyspace::default(),
            keys: 0,
            expires: 0,
            already_expired: 0,
            subexpires: 0,
            empty_keys: 0,
            checksum: None,
            checksum_mismatch: false,
            end_offset: None,
            first_problem: None,
            problems: 0,
            structural_failure: false,
            notes: Vec::new(),
        }
    }

    /// Whether the file was read to its end with no problem.
    pub fn is_ok(&self) -> bool {
        self.problems == 0 && self.end_offset.is_some()
    }

    pub(crate) fn fail(&mut self, p: Problem) {
        self.problems += 1;
        if matches!(
            p.stage,
            Stage::Header
                | Stage::ReadType
                | Stage::ReadKey
                | Stage::CheckSum
                | Stage::ReadExpire
                | Stage::ReadAux
                | Stage::ReadOpcode
                | Stage::ReadModuleAux
                | Stage::ReadFunction
        ) && p.rule != Rule::DuplicateKey
        {
            self.structural_failure = true;
        }
        // The earliest problem in the file, whoever found it first (values
        // may be checked on other threads, out of order).
        if self
            .first_problem
            .as_ref()
            .is_none_or(|f| p.offset < f.offset)
        {
            self.first_problem = Some(p);
        }
    }

    /// Adds the counts and lines of `part`, which covers a later stretch
    /// of the same file (its problems are added one by one with `fail`).
    pub(crate) fn absorb(&mut self, part: Report) {
        self.aux.extend(part.aux);
        self.selects.extend(part.selects);
        self.keyspace.merge(part.keyspace);
        self.keys += part.keys;
        self.expires += part.expires;
        self.already_expired += part.already_expired;
        self.subexpires += part.subexpires;
        self.empty_keys += part.empty_keys;
    }

    pub(crate) fn count_key(&mut self, k: &KeyRecord<'_>, now_ms: i64) {
        self.keys += 1;
        self.keyspace.add_key(k);
        if let Some(t) = k.expire_at_ms {
            self.expires += 1;
            if t < now_ms {
                self.already_expired += 1;
            }
        }
    }

    fn checksum_word(&self) -> &'static str {
        if self.checksum_mismatch {
            return "mismatch";
        }
        match self.checksum {
            None => "not-reached",
            Some(c) => c.as_str(),
        }
    }

    /// The `redis-check-rdb` grammar.
    pub fn write_text<W: Write>(&self, o: &mut W) -> io::Result<()> {
        writeln!(o, "[offset 0] Checking RDB file {}", self.name)?;
        if let Some(h) = self.header {
            writeln!(
                o,
                "[offset 9] {}{:04} (RDB version {})",
                h.magic(),
                h.version,
                h.version
            )?;
        }
        for (off, k, v) in &self.aux {
            writeln!(
                o,
                "[offset {off}] AUX FIELD {} = '{}'",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            )?;
        }
        for (off, db) in &self.selects {
            writeln!(o, "[offset {off}] Selecting DB ID {db}")?;
        }
        match &self.first_problem {
            Some(p) => {
                writeln!(o, "--- RDB ERROR DETECTED ---")?;
                match p.inner_offset {
                    Some(inner) => writeln!(
                        o,
                        "[offset {}] {} (at byte {inner} of the decompressed string)",
                        p.offset,
                        p.message()
                    )?,
                    None => writeln!(o, "[offset {}] {}", p.offset, p.message())?,
                }
                writeln!(o, "[additional info] While doing: {}", p.stage.as_str())?;
                if let Some(key) = &p.key {
                    writeln!(o, "[additional info] Reading key '{}'", escape_key(key))?;
                }
                if let Some(t) = p.rdb_type {
                    writeln!(
                        o,
                        "[additional info] Reading type {t} ({})",
                        type_byte_name(t)
                    )?;
                }
                if let Some(r) = p.record_offset {
                    writeln!(o, "[additional info] Key record starts at offset {r}")?;
                }
                if self.problems > 1 {
                    writeln!(
                        o,
                        "[additional info] {} problems found in all",
                        self.problems
                    )?;
                }
            }
            None => {
                let end = self.end_offset.unwrap_or(self.size);
                match self.checksum {
                    Some(Checksum::Ok(_)) => writeln!(o, "[offset {end}] Checksum OK")?,
                    Some(Checksum::Disabled) => writeln!(
                        o,
                        "[offset {end}] RDB file was saved with checksum disabled: no check performed."
                    )?,
                    Some(Checksum::NotVerified(_)) => {
                        writeln!(o, "[offset {end}] Checksum not verified (--ignore-checksum)")?
                    }
                    Some(Checksum::Absent) => {
                        writeln!(o, "[offset {end}] RDB version has no checksum")?
                    }
                    None => {}
                }
                writeln!(o, "[offset {end}] \\o/ RDB looks OK! \\o/")?;
            }
        }
        writeln!(o, "[info] {} keys read", self.keys)?;
        writeln!(o, "[info] {} expires", self.expires)?;
        writeln!(o, "[info] {} already expired", self.already_expired)?;
        writeln!(o, "[info] {} subexpires", self.subexpires)?;
        if self.empty_keys > 0 {
            writeln!(
                o,
                "[info] {} empty keys (skipped by Redis on load)",
                self.empty_keys
            )?;
        }
        for n in &self.notes {
            writeln!(o, "[info] {n}")?;
        }
        Ok(())
    }

    /// One JSON object (one line).
    pub fn write_json<W: Write>(&self, o: &mut W) -> io::Result<()> {
        o.write_all(b"{\"file\":")?;
        json_str(o, &self.name)?;
        write!(
            o,
            ",\"verdict\":\"{}\",\"size_bytes\":{}",
            if self.is_ok() { "ok" } else { "problem" },
            self.size
        )?;
        match self.header {
            Some(h) => write!(o, ",\"magic\":\"{}\",\"version\":{}", h.magic(), h.version)?,
            None => o.write_all(b",\"magic\":null,\"version\":null")?,
        }
        write!(
            o,
            ",\"checksum\":\"{}\",\"keys\":{},\"expires\":{},\"already_expired\":{},\"subexpires\":{},\"empty_keys\":{},\"dbs\":",
            self.checksum_word(),
            self.keys,
            self.expires,
            self.already_expired,
            self.subexpires,
            self.empty_keys
        )?;
        self.keyspace.write_json(o)?;
        write!(o, ",\"problems\":{},\"error\":", self.problems)?;
        match &self.first_problem {
            None => o.write_all(b"null")?,
            Some(p) => {
                write!(o, "{{\"offset\":{},\"inner_offset\":", p.offset)?;
                opt(o, p.inner_offset)?;
                write!(
                    o,
                    ",\"stage\":\"{}\",\"kind\":\"{}\",\"rule\":\"{}\",\"key\":",
                    p.stage.as_str(),
                    p.kind,
                    p.rule.id()
                )?;
                match &p.key {
                    Some(k) => write_bytes(o, k)?,
                    None => o.write_all(b"null")?,
                }
                o.write_all(b",\"type\":")?;
                opt(o, p.rdb_type.map(u64::from))?;
                o.write_all(b",\"type_name\":")?;
                match p.rdb_type {
                    Some(t) => json_str(o, type_byte_name(t))?,
                    None => o.write_all(b"null")?,
                }
                o.write_all(b",\"record_offset\":")?;
                opt(o, p.record_offset)?;
                o.write_all(b",\"message\":")?;
                json_str(o, &p.message())?;
                o.write_all(b"}")?;
            }
        }
        o.write_all(b"}\n")
    }
}

fn opt<W: Write>(o: &mut W, v: Option<u64>) -> io::Result<()> {
    match v {
        Some(v) => write!(o, "{v}"),
        None => o.write_all(b"null"),
    }
}
