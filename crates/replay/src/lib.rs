//! AOF replay: the commands of an append-only file applied to an
//! in-memory dataset with the server's semantics, as a server loading it
//! would (`loadAppendOnlyFiles` in `aof.c`), without a server.
//!
//! * [`Replayer`] holds the dataset ([`keyspace::Dataset`]: databases of
//!   [`value::Val`]s, compact while small) and takes RDB bases and
//!   preambles ([`Replayer::rdb`]) and command streams
//!   ([`Replayer::commands`]), file after file as the manifest lists them.
//! * [`replay`] does that for an [`Aof`] input (one file, an RDB-preamble
//!   file, or a manifest and its files), with `--until-timestamp` and
//!   `--until-offset` stops.
//! * [`Replayed::records`] hands the result out as owned records, which
//!   every writer (RDB, JSON, AOF) and the digest take.
//!
//! What the server's loader does, we do: each file starts in database 0;
//! a transaction's commands apply at its `EXEC`, and one left open where
//! the last file ends is dropped (`aof-load-truncated`); a command the
//! server would refuse changes nothing and is counted; a command we do not
//! implement stops the replay with its name, file and offset (or is
//! counted and skipped with [`Options::skip_unsupported`]). The supported
//! commands and their forms are listed in `docs/aof-replay.md`.

#![warn(missing_docs)]

pub mod args;
mod cmd;
pub mod db;
pub mod error;
pub mod hasher;
pub mod keyspace;
pub mod stream;
pub mod value;

pub use error::{CmdError, CmdResult};
pub use keyspace::{Ctx, Dataset, Entry};
pub use value::Val;

use rdbscope_aof::resp::{Command, Item, Kind, OwnedCommand, Reader, Records};
use rdbscope_aof::source::{Aof, Part};
use rdbscope_rdb::{OwnedKey, OwnedRecord, Record, Scratch};
use std::collections::BTreeMap;
use std::fmt;

/// Where a replay stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Until {
    /// At the end of the last file.
    #[default]
    End,
    /// Before the first `#TS:` annotation later than this Unix time (s),
    /// as `redis-check-aof --truncate-to-timestamp` cuts.
    Timestamp(i64),
    /// At this byte offset of the named file (a manifest's file name, or
    /// the path of a single file); `None` names the last file.
    Offset(Option<String>, u64),
    /// After the whole of the named file (a manifest's file name).
    File(String),
}

/// How to replay.
#[derive(Debug, Clone)]
pub struct Options {
    /// The time relative expires count from (Unix ms): a server loading the
    /// file uses its clock; forms a server writes are absolute.
    pub now_ms: i64,
    /// Count and skip commands the engine does not implement.
    pub skip_unsupported: bool,
    /// Where to stop.
    pub until: Until,
    /// Largest decompressed value in an RDB base or RESTORE payload.
    pub max_decompressed: u64,
    /// The loading server's version (major, minor), for the few rules that
    /// changed between versions; an RDB base or preamble naming its writer
    /// sets it when this is `None`.
    pub version: Option<(u32, u32)>,
    /// The loading server is Valkey (a few rules differ from the Redis
    /// 7.2 it forked from); set by the caller, or by a `valkey-ver` AUX
    /// field when the caller named no version.
    pub valkey: bool,
    /// The caller named the loading server (`version`, `valkey`): the
    /// AOF's own AUX fields do not change them.
    pub version_given: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            skip_unsupported: false,
            until: Until::End,
            max_decompressed: u64::MAX,
            version: None,
            valkey: false,
            version_given: false,
        }
    }
}

/// Why a replay stopped short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    /// The file.
    pub file: String,
    /// Byte offset in it.
    pub offset: u64,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: offset {}: {}", self.file, self.offset, self.message)
    }
}

impl std::error::Error for ReplayError {}

/// An AUX field's name and value.
pub type AuxField = (Vec<u8>, Vec<u8>);

/// What a replay did besides building the dataset.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Commands applied (those inside transactions included; SELECT,
    /// MULTI and EXEC not).
    pub commands: u64,
    /// Commands the server would have refused (and so changed nothing).
    pub refused: u64,
    /// The first of them: file, offset, command, error.
    pub first_refused: Option<String>,
    /// Commands skipped as unsupported (`--skip-unsupported`), by name.
    pub unsupported: BTreeMap<String, u64>,
    /// The first skipped one: file, offset, command.
    pub first_unsupported: Option<String>,
    /// Keys read from RDB bases and preambles.
    pub rdb_keys: u64,
    /// Transactions dropped because a file ended inside them.
    pub open_transactions_dropped: u64,
    /// A truncated last file: where its whole commands end, and why.
    pub truncated: Option<String>,
    /// Where the replay stopped before the end (`--until-*`): file, offset.
    pub stopped_at: Option<(String, u64)>,
    /// The last `#TS:` annotation applied.
    pub last_timestamp: Option<i64>,
    /// Bytes of the files read.
    pub bytes: u64,
    /// The last RDB base or preamble's header and the AUX fields that name
    /// its writer (`redis-ver`, `valkey-ver`): which server wrote the AOF.
    pub writer: Option<(rdbscope_rdb::Header, Vec<AuxField>)>,
    /// The loading server's version the replay followed (`Options::version`,
    /// or what an RDB base named).
    pub version: Option<(u32, u32)>,
}

/// The replay of one AOF: the dataset and what happened.
#[derive(Debug, Default)]
pub struct Replayed {
    /// The data.
    pub dataset: Dataset,
    /// What happened.
    pub stats: Stats,
}

/// Applies files to a dataset, in load order.
pub struct Replayer {
    ds: Dataset,
    opts: Options,
    stats: Stats,
    stopped: bool,
}

/// What `merge` does with a key that an earlier input already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Stop with an error naming the key.
    #[default]
    Error,
    /// Keep the earlier input's.
    First,
    /// Take the later input's.
    Last,
}

/// How often (in bytes) a walk reports its offset.
const REPORT_STEP: u64 = 4 << 20;

/// The records of a chunk of an RDB loaded into the dataset, made owned.
struct ToOwned {
    scratch: Scratch,
    out: Vec<OwnedRecord>,
    error: Option<rdbscope_rdb::Error>,
}

impl rdbscope_engine::Sink for ToOwned {
    type Chunk = (Vec<OwnedRecord>, Option<rdbscope_rdb::Error>);

    fn record(&mut self, r: &Record<'_>, _: &rdbscope_engine::At) -> rdbscope_engine::Flow {
        match r.to_owned(&mut self.scratch) {
            Ok(o) => self.out.push(o),
            // A key that cannot be read stops the replay; any other
            // record (an AUX field, a function that will not decode) is
            // left out.
            Err(e) if matches!(r, Record::Key(_)) => {
                self.error = Some(e);
                return rdbscope_engine::Flow::Stop;
            }
            Err(_) => {}
        }
        rdbscope_engine::Flow::Continue
    }

    fn end(&mut self) -> Self::Chunk {
        (std::mem::take(&mut self.out), self.error.take())
    }
}

/// What an RDB walked by the engine adds to the dataset.
#[derive(Clone, Copy)]
enum Load {
    /// A base or preamble: its keys as they are, its AUX fields naming
    /// the writer ([`Stats::writer`]).
    Base,
    /// A merge's shard: each key under the conflict policy; its AUX fields
    /// are left out (a shard is data, not the base the RDB is written
    /// from).
    Shard(OnConflict),
}

/// Puts the owned records of an RDB walked by the engine into the replay,
/// in file order, as `load` says.
struct LoadOwned<'r> {
    r: &'r mut Replayer,
    load: Load,
    writer: Option<Writer>,
    /// Keys of a shard an earlier input held already.
    conflicts: u64,
    error: Option<LoadError>,
}

/// Why a walk of an RDB into the dataset stopped short.
enum LoadError {
    /// A record that cannot be read.
    Decode(rdbscope_rdb::Error),
    /// A key held by two inputs under [`OnConflict::Error`].
    Conflict(String),
    /// The input itself failed after `at` bytes.
    Read { at: u64, error: std::io::Error },
    /// It ended at `at` before its EOF record.
    NoEof { at: u64 },
}

/// The header and the version AUX fields of the RDB part: what the RDB
/// written from a replay says of its writer ([`Stats::writer`]).
type Writer = (rdbscope_rdb::Header, Vec<(Vec<u8>, Vec<u8>)>);

impl rdbscope_engine::Collector<(Vec<OwnedRecord>, Option<rdbscope_rdb::Error>)> for LoadOwned<'_> {
    fn header(&mut self, h: &rdbscope_rdb::Header) -> rdbscope_engine::Flow {
        self.writer = Some((*h, Vec::new()));
        rdbscope_engine::Flow::Continue
    }

    fn collect(
        &mut self,
        (records, error): (Vec<OwnedRecord>, Option<rdbscope_rdb::Error>),
    ) -> rdbscope_engine::Flow {
        for rec in records {
            match (rec, self.load) {
                (OwnedRecord::Key(k), Load::Base) => {
                    self.r.put_owned(k);
                    self.r.stats.rdb_keys += 1;
                }
                (OwnedRecord::Key(k), Load::Shard(policy)) => match self.r.merge_key(k, policy) {
                    Ok(held) => self.conflicts += u64::from(held),
                    Err(e) => {
                        self.error = Some(LoadError::Conflict(e));
                        return rdbscope_engine::Flow::Stop;
                    }
                },
                (OwnedRecord::Aux { name, value }, Load::Base) => {
                    if let Some((_, aux)) = &mut self.writer {
                        self.r.aux(name, value, aux);
                    }
                }
                (OwnedRecord::Function { code }, _) => self.r.put_function(code),
                (OwnedRecord::Eof { .. }, Load::Base) => {
                    self.r.stats.writer = self.writer.take();
                }
                _ => {}
            }
        }
        if let Some(e) = error {
            self.error = Some(LoadError::Decode(e));
            return rdbscope_engine::Flow::Stop;
        }
        rdbscope_engine::Flow::Continue
    }
}

/// An emptied argument list, its allocation kept, for arguments of another
/// lifetime (the standard library collects in place when the element
/// layout is the same).
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| &[][..]).collect()
}

impl Replayer {
    /// An empty dataset.
    pub fn new(opts: Options) -> Replayer {
        Replayer {
            ds: Dataset::default(),
            opts,
            stats: Stats::default(),
            stopped: false,
        }
    }

    /// Starts from an existing dataset (`merge`: an AOF on top of an RDB).
    pub fn with_dataset(ds: Dataset, opts: Options) -> Replayer {
        let mut r = Replayer::new(opts);
        r.ds = ds;
        r
    }

    /// Whether a `--until` stop was reached.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Loads the RDB at the start of `bytes` (a BASE file or a preamble),
    /// walked by the engine with the pages behind the walk given back
    /// through `release` (a mapped file's); returns where it ends, past its
    /// checksum.
    pub fn rdb(
        &mut self,
        bytes: &[u8],
        release: Option<&dyn Fn(u64)>,
        file: &str,
    ) -> Result<u64, ReplayError> {
        let source = rdbscope_engine::Source::Mapped { bytes, release };
        let walked = self.load_base(source, &rdbscope_engine::Options::default(), file)?;
        Ok(walked.end)
    }

    /// An AUX field of an RDB base or preamble: the writer's version says
    /// which rules apply (unless given), and goes into the RDB written
    /// from the replay.
    fn aux(&mut self, n: Vec<u8>, v: Vec<u8>, writer_aux: &mut Vec<(Vec<u8>, Vec<u8>)>) {
        if n == b"redis-ver" || n == b"valkey-ver" {
            if self.opts.version.is_none() && n == b"redis-ver" {
                self.opts.version = version_of(&v);
            }
            if n == b"valkey-ver" && !self.opts.version_given {
                self.opts.valkey = true;
            }
            writer_aux.push((n, v));
        }
    }

    /// Loads the RDB preamble of a single-file AOF arriving as `stream`,
    /// walked by the engine up to its checksum; returns where the commands
    /// begin and the bytes from there read already.
    fn rdb_stream(
        &mut self,
        stream: &mut rdbscope_input::Stream,
        file: &str,
    ) -> Result<(u64, Vec<u8>), ReplayError> {
        let opts = rdbscope_engine::Options {
            stop_at_eof: true,
            ..rdbscope_engine::Options::default()
        };
        let source = rdbscope_engine::Source::Stream(Box::new(stream));
        let walked = self.load_base(source, &opts, file)?;
        self.stats.bytes += walked.end;
        Ok((walked.end, walked.rest))
    }

    /// An RDB base or preamble into the dataset ([`Load::Base`]), its
    /// stops told as a replay's errors in `file`.
    fn load_base(
        &mut self,
        source: rdbscope_engine::Source<'_>,
        opts: &rdbscope_engine::Options,
        file: &str,
    ) -> Result<rdbscope_engine::Walked, ReplayError> {
        let err = |offset: u64, message: String| ReplayError {
            file: file.to_string(),
            offset,
            message,
        };
        match self.load_rdb(source, opts, &mut |_| {}, Load::Base) {
            Ok((walked, _)) => Ok(walked),
            Err(LoadError::Decode(e)) => Err(err(e.offset, e.to_string())),
            Err(LoadError::Read { at, error }) => Err(err(at, format!("read error: {error}"))),
            Err(LoadError::NoEof { at }) => {
                Err(err(at, "the RDB part ends before its EOF record".into()))
            }
            Err(LoadError::Conflict(_)) => unreachable!("a base has no conflicts"),
        }
    }

    /// Adds a key of another shard: `Ok(true)` when an earlier input held
    /// it already and `policy` settled which value stays (the earlier one
    /// for [`OnConflict::First`], this one for [`OnConflict::Last`]); an
    /// error names the key when the policy is [`OnConflict::Error`].
    pub fn merge_key(&mut self, k: OwnedKey, policy: OnConflict) -> Result<bool, String> {
        let db = self.ds.db(k.db);
        let held = db.contains_key(&k.key);
        if held {
            match policy {
                OnConflict::Error => {
                    return Err(format!(
                        "db {} key {:?}: held by two inputs (--on-conflict first|last chooses)",
                        k.db,
                        String::from_utf8_lossy(&k.key)
                    ))
                }
                OnConflict::First => return Ok(true),
                OnConflict::Last => {}
            }
        }
        self.put_owned(k);
        Ok(held)
    }

    /// Adds the keys and function libraries of an RDB shard (`merge`),
    /// each key under `policy` as [`Replayer::merge_key`] adds it, walked
    /// by the engine as it arrives: a mapped file with its pages released
    /// behind the walk, or a stream (standard input, a pipe, a compressed
    /// file) never held whole. Its AUX fields are left out: a shard is
    /// data, not the base a replay writes its RDB from. On the calling
    /// thread (`engine.threads` is not used; see `load_rdb`).
    /// Returns how many of its keys an earlier input held (the policy kept
    /// one of the two values); an error (a broken record, a key held twice
    /// under [`OnConflict::Error`], the stream failing) names its offset
    /// when it has one.
    pub fn merge_rdb(
        &mut self,
        source: rdbscope_engine::Source<'_>,
        engine: &rdbscope_engine::Options,
        on_progress: &mut dyn FnMut(u64),
        policy: OnConflict,
    ) -> Result<u64, String> {
        match self.load_rdb(source, engine, on_progress, Load::Shard(policy)) {
            Ok((_, conflicts)) => Ok(conflicts),
            Err(LoadError::Decode(e)) => Err(e.to_string()),
            Err(LoadError::Conflict(e)) => Err(e),
            Err(LoadError::Read { at, error }) => Err(format!("offset {at}: read error: {error}")),
            Err(LoadError::NoEof { at }) => {
                Err(format!("offset {at}: the RDB ends before its EOF record"))
            }
        }
    }

    /// Walks the RDB in `source` by the engine, on the calling thread (the
    /// values are made where they are kept: made on other threads and
    /// freed here they cost more than they save, glibc's arenas), into the
    /// dataset as `load` says; the walk and the keys of a shard that an
    /// earlier input held.
    fn load_rdb(
        &mut self,
        source: rdbscope_engine::Source<'_>,
        engine: &rdbscope_engine::Options,
        on_progress: &mut dyn FnMut(u64),
        load: Load,
    ) -> Result<(rdbscope_engine::Walked, u64), LoadError> {
        let opts = rdbscope_engine::Options {
            threads: 1,
            ..*engine
        };
        let limit = self.opts.max_decompressed;
        let mut into = LoadOwned {
            r: self,
            load,
            writer: None,
            conflicts: 0,
            error: None,
        };
        let walked = rdbscope_engine::walk(
            source,
            &opts,
            on_progress,
            |_: &rdbscope_rdb::Header| ToOwned {
                scratch: Scratch::with_limit(limit),
                out: Vec::new(),
                error: None,
            },
            &mut into,
        );
        if let Some(e) = into.error {
            return Err(e);
        }
        let conflicts = into.conflicts;
        match walked.error {
            Some(rdbscope_engine::WalkError::Decode(e)) => Err(LoadError::Decode(e)),
            Some(rdbscope_engine::WalkError::Io(error)) => Err(LoadError::Read {
                at: walked.size,
                error,
            }),
            None if walked.eof.is_none() => Err(LoadError::NoEof { at: walked.end }),
            None => Ok((walked, conflicts)),
        }
    }

    /// Adds a function library (from another input).
    pub fn put_function(&mut self, code: Vec<u8>) {
        if let Ok(name) = cmd::functions::library_name(&code) {
            self.ds.functions.insert(name, code);
        }
    }

    /// Adds a key (from an RDB, a dump) to the dataset.
    pub fn put_owned(&mut self, k: OwnedKey) {
        self.ds.db(k.db).insert(
            &k.key,
            Entry {
                value: Val::from_owned(k.value),
                expire_at_ms: k.expire_at_ms,
            },
        );
    }

    /// Applies one command in database `db`.
    pub fn apply(&mut self, db: u64, args: &[&[u8]]) -> CmdResult {
        let Some((arity, handler)) = cmd::lookup(args[0]) else {
            return Err(CmdError::Unsupported(
                String::from_utf8_lossy(args[0]).to_ascii_uppercase(),
            ));
        };
        cmd::check_arity(arity, args)?;
        let mut ctx = Ctx {
            ds: &mut self.ds,
            db,
            now_ms: self.opts.now_ms,
            version: self.opts.version,
            valkey: self.opts.valkey,
        };
        handler(&mut ctx, args)
    }

    fn run<'a>(
        &mut self,
        c: &Command<'a>,
        file: &str,
        args: &mut Vec<&'a [u8]>,
    ) -> Result<(), ReplayError> {
        args.clear();
        args.extend(c.args());
        self.stats.commands += 1;
        match self.apply(c.db, args) {
            Ok(()) => Ok(()),
            Err(CmdError::Refused(m)) => {
                self.stats.refused += 1;
                if self.stats.first_refused.is_none() {
                    self.stats.first_refused = Some(format!(
                        "{file}: offset {}: {}: {m}",
                        c.offset,
                        String::from_utf8_lossy(c.name).to_ascii_uppercase()
                    ));
                }
                Ok(())
            }
            Err(CmdError::Unsupported(what)) => {
                if !self.opts.skip_unsupported {
                    return Err(ReplayError {
                        file: file.to_string(),
                        offset: c.offset,
                        message: format!(
                            "{what}: a command the replay engine does not support (docs/aof-replay.md; --skip-unsupported goes on without it)"
                        ),
                    });
                }
                self.stats.commands -= 1;
                *self.stats.unsupported.entry(what.clone()).or_default() += 1;
                if self.stats.first_unsupported.is_none() {
                    self.stats.first_unsupported =
                        Some(format!("{file}: offset {}: {what}", c.offset));
                }
                Ok(())
            }
        }
    }

    /// Applies the commands of `bytes` from `start` (0, or where a
    /// preamble ends). `last` says this is the last file, whose truncation
    /// the server forgives. Returns `false` when a `--until` stop was
    /// reached (nothing after it is to be read).
    pub fn commands(
        &mut self,
        bytes: &[u8],
        start: u64,
        file: &str,
        last: bool,
    ) -> Result<bool, ReplayError> {
        self.commands_with(bytes, start, file, last, &mut |_| {})
    }

    /// [`Self::commands`], telling `on_offset` every few MiB how far the
    /// walk has come (progress, and releasing the pages behind it).
    pub fn commands_with(
        &mut self,
        bytes: &[u8],
        start: u64,
        file: &str,
        last: bool,
        on_offset: &mut dyn FnMut(u64),
    ) -> Result<bool, ReplayError> {
        self.stats.bytes += bytes.len() as u64;
        let mut reader = Reader::new(bytes, start as usize);
        self.commands_from(&mut reader, start, file, last, on_offset)
    }

    /// [`Self::commands_with`] over any reader of commands: a file's
    /// ([`Reader`]) or a stream's ([`rdbscope_aof::stream::StreamReader`]),
    /// from file offset `start`. The caller counts the bytes
    /// ([`Stats::bytes`]).
    pub fn commands_from<R: Records>(
        &mut self,
        reader: &mut R,
        start: u64,
        file: &str,
        last: bool,
        on_offset: &mut dyn FnMut(u64),
    ) -> Result<bool, ReplayError> {
        let mut next_report = start + REPORT_STEP;
        // A transaction's commands are copied: a stream's window moves on
        // before its EXEC.
        let mut queue: Option<(u64, Vec<OwnedCommand>)> = None;
        let mut spare_args: Vec<&[u8]> = Vec::with_capacity(16);
        let stop_offset = match &self.opts.until {
            Until::Offset(name, off) => match name {
                Some(n) if n == file => Some(*off),
                None if last => Some(*off),
                _ => None,
            },
            _ => None,
        };
        let until_ts = match self.opts.until {
            Until::Timestamp(t) => Some(t),
            _ => None,
        };
        while let Some(item) = reader.read_item() {
            // One argument list for every command, whatever the
            // lifetime of each command's bytes.
            let mut args = recycle(std::mem::take(&mut spare_args));
            let item = match item {
                Ok(i) => i,
                Err(e) if last && e.is_truncation() => {
                    self.stats.truncated = Some(format!(
                        "{file}: offset {}: {} (the commands before it are loaded, as a server with aof-load-truncated yes does)",
                        e.record_offset,
                        e.message()
                    ));
                    break;
                }
                Err(e) => {
                    return Err(ReplayError {
                        file: file.to_string(),
                        offset: e.offset,
                        message: e.message().to_string(),
                    })
                }
            };
            if item.offset() >= next_report {
                // An open transaction's commands are still to be read from
                // behind this point; released pages fault back in.
                on_offset(item.offset());
                next_report = item.offset() + REPORT_STEP;
            }
            if let Some(off) = stop_offset {
                if item.offset() >= off {
                    self.stop(file, item.offset());
                    break;
                }
            }
            let c = match item {
                Item::Annotation(a) => {
                    if let Some(ts) = a.timestamp() {
                        if let Some(t) = until_ts.filter(|&t| ts > t) {
                            // `redis-check-aof --truncate-to-timestamp`
                            // refuses these two cuts; so does the replay.
                            let refuse = if a.offset == 0 {
                                Some(format!(
                                    "nothing before timestamp {t} (the file starts with #TS:{ts})"
                                ))
                            } else if !last {
                                Some(format!("the cut before #TS:{ts} is not in the last file (redis-check-aof refuses to truncate there; remove the files after it from the manifest to go on)"))
                            } else {
                                None
                            };
                            if let Some(message) = refuse {
                                return Err(ReplayError {
                                    file: file.to_string(),
                                    offset: a.offset,
                                    message,
                                });
                            }
                            self.stop(file, a.offset);
                            break;
                        }
                        self.stats.last_timestamp = Some(ts);
                    }
                    continue;
                }
                Item::Command(c) => c,
            };
            match c.kind {
                Kind::Select => {}
                Kind::Multi => {
                    if queue.is_some() {
                        return Err(ReplayError {
                            file: file.to_string(),
                            offset: c.offset,
                            message: "MULTI inside a transaction (MULTI calls can not be nested)"
                                .into(),
                        });
                    }
                    queue = Some((c.offset, Vec::new()));
                }
                Kind::Exec => match queue.take() {
                    Some((_, q)) => {
                        let mut queued = recycle(std::mem::take(&mut args));
                        for cmd in &q {
                            self.run(&cmd.command(), file, &mut queued)?;
                        }
                        args = recycle(queued);
                    }
                    None => {
                        return Err(ReplayError {
                            file: file.to_string(),
                            offset: c.offset,
                            message: "EXEC without MULTI".into(),
                        })
                    }
                },
                Kind::Other => match &mut queue {
                    Some((_, q)) => q.push(c.to_owned_command()),
                    None => self.run(&c, file, &mut args)?,
                },
            }
            spare_args = recycle(args);
        }
        if let Some((open, _)) = queue {
            // The loader reverts a transaction the file ends inside
            // (`valid_before_multi`): its commands never apply.
            self.stats.open_transactions_dropped += 1;
            if !last && !self.stopped {
                return Err(ReplayError {
                    file: file.to_string(),
                    offset: open,
                    message: "the file ends inside the transaction opened here (MULTI without EXEC), and it is not the last file".into(),
                });
            }
        }
        Ok(!self.stopped)
    }

    fn stop(&mut self, file: &str, offset: u64) {
        self.stopped = true;
        self.stats.stopped_at = Some((file.to_string(), offset));
    }

    /// The dataset and what happened.
    pub fn finish(mut self) -> Replayed {
        self.stats.version = self.opts.version;
        Replayed {
            dataset: self.ds,
            stats: self.stats,
        }
    }
}

/// (major, minor) of a `redis-ver` such as `7.0.15` (Valkey writes
/// `7.2.4` there, the Redis it forked from).
fn version_of(v: &[u8]) -> Option<(u32, u32)> {
    let s = std::str::from_utf8(v).ok()?;
    let mut it = s.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??))
}

/// Replays an AOF input: its files in load order, each RDB base or
/// preamble loaded, then its commands.
pub fn replay(aof: &Aof, opts: Options) -> Result<Replayed, ReplayError> {
    let mut r = Replayer::new(opts);
    replay_into(&mut r, aof)?;
    Ok(r.finish())
}

/// Replays an AOF input onto what `r` already holds.
pub fn replay_into(r: &mut Replayer, aof: &Aof) -> Result<(), ReplayError> {
    match aof {
        Aof::Single { input, part } => {
            replay_file(r, input, part)?;
        }
        Aof::MultiPart { parts, .. } => {
            let last_file = match &r.opts.until {
                Until::File(name) => {
                    if !parts.iter().any(|p| *p.name == **name) {
                        let names: Vec<&str> = parts.iter().map(|p| &*p.name).collect();
                        return Err(ReplayError {
                            file: name.clone(),
                            offset: 0,
                            message: format!(
                                "--until-file: not a file of this AOF (its manifest names {})",
                                names.join(", ")
                            ),
                        });
                    }
                    Some(name.clone())
                }
                _ => None,
            };
            for part in parts {
                let input = rdbscope_input::open_whole(&part.path).map_err(|e| ReplayError {
                    file: part.name.to_string(),
                    offset: 0,
                    message: format!("cannot read: {e}"),
                })?;
                if !replay_file(r, &input, part)? {
                    break;
                }
                if last_file.as_deref() == Some(&*part.name) {
                    r.stop(&part.name, input.bytes().len() as u64);
                    break;
                }
            }
        }
        Aof::BadManifest {
            manifest_path,
            error,
        } => {
            return Err(ReplayError {
                file: manifest_path.display().to_string(),
                offset: 0,
                message: format!("the server would refuse this manifest: {error}"),
            })
        }
    }
    Ok(())
}

/// Replays a single-file AOF arriving as `stream` (`part` names it) onto
/// what `r` holds, in bounded memory beyond the dataset: an RDB preamble is
/// walked by the engine as it arrives, then the commands are read through a refilling window
/// ([`rdbscope_aof::stream::StreamReader`]). Stops, truncation and errors
/// are those of the same bytes in a file.
pub fn replay_stream_into(
    r: &mut Replayer,
    stream: &mut rdbscope_input::Stream,
    part: &Part,
) -> Result<(), ReplayError> {
    let read_error = |e: std::io::Error| ReplayError {
        file: part.name.to_string(),
        offset: 0,
        message: format!("read error: {e}"),
    };
    let head = stream.peek(6).map_err(read_error)?;
    let (start, rest) = if rdbscope_aof::source::starts_with_rdb_magic(head) {
        r.rdb_stream(stream, &part.name)?
    } else {
        (0, Vec::new())
    };
    let mut reader = rdbscope_aof::stream::StreamReader::new(
        Box::new(&mut *stream),
        start,
        rest,
        rdbscope_engine::WINDOW,
    );
    r.commands_from(&mut reader, start, &part.name, part.last, &mut |_| {})?;
    let end = if r.stopped {
        Records::offset(&reader)
    } else {
        reader.read_to_end().map_err(read_error)?
    };
    r.stats.bytes += end.saturating_sub(start);
    Ok(())
}

/// One mapped file of the AOF, its pages given back behind the walks.
fn replay_file(
    r: &mut Replayer,
    input: &rdbscope_input::Mapped,
    part: &Part,
) -> Result<bool, ReplayError> {
    let bytes = input.bytes();
    let release = |o: u64| input.release_before(o);
    let start = if rdbscope_aof::source::starts_with_rdb_magic(bytes) {
        r.rdb(bytes, Some(&release), &part.name)?
    } else {
        0
    };
    r.commands_with(bytes, start, &part.name, part.last, &mut |o| release(o))
}

impl Replayed {
    /// The dataset as owned records: functions, then each database's keys
    /// (in no particular order, as a server's hash table has none). Each
    /// key is made as it is taken and the dataset shrinks as it goes.
    pub fn records(self) -> impl Iterator<Item = OwnedRecord> {
        let Dataset { dbs, functions } = self.dataset;
        let version = self.stats.version;
        let head: Vec<OwnedRecord> = match self.stats.writer {
            Some((h, aux)) => std::iter::once(OwnedRecord::Header {
                magic: match h.flavor {
                    rdbscope_rdb::Flavor::Valkey => "VALKEY".into(),
                    rdbscope_rdb::Flavor::Redis => "REDIS".into(),
                },
                version: h.version,
            })
            .chain(
                aux.into_iter()
                    .map(|(name, value)| OwnedRecord::Aux { name, value }),
            )
            .collect(),
            None => Vec::new(),
        };
        let funcs = functions
            .into_values()
            .map(|code| OwnedRecord::Function { code });
        let keys = dbs.into_iter().flat_map(move |(db, keys)| {
            keys.drain().map(move |(key, e)| {
                OwnedRecord::Key(OwnedKey {
                    db,
                    encoding: e.value.encoding_hint(),
                    value: e.value.into_owned_value(version),
                    key: key.into_boxed(),
                    expire_at_ms: e.expire_at_ms,
                    idle_s: None,
                    freq: None,
                    key_meta: None,
                })
            })
        });
        head.into_iter().chain(funcs).chain(keys)
    }
}

#[cfg(test)]
mod tests {
    /// The argument list keeps its allocation from command to command.
    #[test]
    fn recycle_keeps_the_allocation() {
        let a = vec![1u8, 2, 3];
        let mut v: Vec<&[u8]> = Vec::with_capacity(16);
        v.push(&a);
        let p = v.as_ptr() as usize;
        let w = super::recycle(v);
        assert!(w.is_empty());
        assert_eq!(w.capacity(), 16);
        assert_eq!(w.as_ptr() as usize, p);
    }
}
