//! What an input is, and which files make it up: the one place that
//! decides "RDB or AOF, one file or a manifest", by content as
//! `redis-check-aof` does (docs/format.md#redis-check-aof), so nothing above it guesses.
//!
//! * a directory: the AOF whose manifest (`*.manifest`) it holds;
//! * a file whose first non-comment line starts with `file`: a manifest;
//! * a file starting with `REDIS`/`VALKEY`: an RDB, unless its
//!   `aof-preamble` AUX field says it is the preamble of an AOF (Redis 4.0+
//!   writes that field into every RDB it saves);
//! * a file starting with `*` or `#`: a single-file AOF of commands;
//! * anything else (empty, or neither): decided by the name (`*.aof`,
//!   `*.manifest` are AOF), since the content cannot tell.

use crate::manifest::{self, FileType, Manifest, ManifestError};
use rdbscope_input::{display_name, Mapped};
use rdbscope_rdb::{Rdb, Record};
use std::io;
use std::path::{Path, PathBuf};

/// What the bytes of one file hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// An RDB file (not an AOF).
    Rdb,
    /// An RDB followed by commands: an old-style preamble AOF, or a 7.0+
    /// `.base.rdb` (whose command tail is empty).
    RdbPreamble,
    /// Commands only.
    Resp,
    /// A manifest of a multi-part AOF.
    Manifest,
    /// No bytes.
    Empty,
}

/// Whether `bytes` (of a file named `name`) is an RDB, an AOF or a manifest.
pub fn detect(bytes: &[u8], name: &str) -> Content {
    if bytes.is_empty() {
        return Content::Empty;
    }
    if starts_with_rdb_magic(bytes) {
        return if has_aof_preamble_flag(bytes) {
            Content::RdbPreamble
        } else {
            Content::Rdb
        };
    }
    if manifest::looks_like_manifest(bytes) {
        return Content::Manifest;
    }
    if matches!(bytes[0], b'*' | b'#') || name_says_aof(name) {
        return Content::Resp;
    }
    Content::Rdb
}

/// Whether a name is an AOF's (`appendonly.aof`, `x.incr.aof`,
/// `appendonly.aof.manifest`).
pub fn name_says_aof(name: &str) -> bool {
    name.ends_with(".aof") || name.ends_with(".manifest")
}

/// `REDIS` (what the server's loader tests) or `VALKEY`.
pub fn starts_with_rdb_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(b"REDIS") || bytes.starts_with(b"VALKEY")
}

/// The AUX fields come first in an RDB: read them until the first other
/// record and look for `aof-preamble` = 1.
fn has_aof_preamble_flag(bytes: &[u8]) -> bool {
    let Ok(rdb) = Rdb::new(bytes) else {
        return false;
    };
    for r in rdb.verify_checksum(false).records() {
        match r {
            Ok(Record::Aux { name, value }) => {
                if name.to_vec().is_ok_and(|n| n == b"aof-preamble") {
                    return value.to_vec().is_ok_and(|v| v == b"1");
                }
            }
            _ => return false,
        }
    }
    false
}

/// One file of an AOF.
#[derive(Debug, Clone)]
pub struct Part {
    /// Where the file is (boxed, exact size: a manifest may list 100,000
    /// files).
    pub path: Box<Path>,
    /// The name as `redis-check-aof` prints it: the manifest's entry, or
    /// the path given.
    pub name: Box<str>,
    /// `None` for a single-file AOF.
    pub file_type: Option<FileType>,
    /// The manifest's `seq`; `None` for a single-file AOF.
    pub seq: Option<i64>,
    /// The last file loaded: the only one that may be truncated.
    pub last: bool,
}

/// An AOF input.
pub enum Aof {
    /// One file: commands, or an RDB preamble and commands, or nothing.
    Single {
        /// The file's bytes.
        input: Mapped,
        /// The file's place in the AOF (the only one, and the last).
        part: Part,
    },
    /// A manifest and the files it lists.
    MultiPart {
        /// The manifest file.
        manifest_path: PathBuf,
        /// The files it lists that the server loads (the base, then every
        /// incr file), in load order.
        parts: Vec<Part>,
    },
    /// A manifest the server would refuse to load.
    BadManifest {
        /// The manifest file.
        manifest_path: PathBuf,
        /// Why it was refused.
        error: ManifestError,
    },
}

impl Aof {
    /// The files to read, in load order.
    pub fn parts(&self) -> &[Part] {
        match self {
            Aof::Single { part, .. } => std::slice::from_ref(part),
            Aof::MultiPart { parts, .. } => parts,
            Aof::BadManifest { .. } => &[],
        }
    }

    /// Whether the input came from a manifest (even a refused one).
    pub fn is_multi_part(&self) -> bool {
        !matches!(self, Aof::Single { .. })
    }
}

/// What an argument turned out to be.
pub enum Opened {
    /// An RDB file: the caller's RDB path takes it (the input is open).
    Rdb(Mapped),
    /// An AOF, one file or many.
    Aof(Aof),
}

/// Opens `path` (`-` is standard input) and decides what it is.
pub fn open(path: &Path) -> io::Result<Opened> {
    if path.as_os_str() != "-" && path.is_dir() {
        let manifest_path = find_manifest(path)?;
        let bytes = std::fs::read(&manifest_path)?;
        let parsed = manifest::parse(&bytes);
        // The text goes before the parts are made.
        drop(bytes);
        return Ok(Opened::Aof(from_manifest(manifest_path, parsed)));
    }
    Ok(classify(rdbscope_input::open_whole(path)?, path))
}

/// Decides what the bytes of `input`, opened from `path`, are.
pub fn classify(input: Mapped, path: &Path) -> Opened {
    let name = display_name(path);
    match detect(input.bytes(), &name) {
        Content::Rdb => Opened::Rdb(input),
        Content::Manifest => {
            let aof = from_manifest(path.to_path_buf(), manifest::parse(input.bytes()));
            Opened::Aof(aof)
        }
        Content::Empty if !name_says_aof(&name) => Opened::Rdb(input),
        Content::RdbPreamble | Content::Resp | Content::Empty => Opened::Aof(Aof::Single {
            input,
            part: Part::single(path),
        }),
    }
}

impl Part {
    /// The one part of a single-file AOF opened from `path` (`-` is
    /// standard input).
    pub fn single(path: &Path) -> Part {
        Part {
            path: path.into(),
            name: display_name(path).into(),
            file_type: None,
            seq: None,
            last: true,
        }
    }
}

fn from_manifest(manifest_path: PathBuf, parsed: Result<Manifest, ManifestError>) -> Aof {
    let manifest = match parsed {
        Ok(m) => m,
        Err(error) => {
            return Aof::BadManifest {
                manifest_path,
                error,
            }
        }
    };
    let dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // The manifest's entries become the parts, moved rather than copied,
    // and the entries' vector shrinks as the parts' grows: a manifest may
    // list 100,000 files, and both at full size would double the memory.
    let Manifest {
        base, mut incrs, ..
    } = manifest;
    let part = |e: manifest::Entry| {
        let path = dir.join(bytes_to_path(&e.name)).into_boxed_path();
        let name = String::from_utf8(e.name)
            .unwrap_or_else(|b| String::from_utf8_lossy(b.as_bytes()).into_owned())
            .into_boxed_str();
        Part {
            path,
            name,
            file_type: Some(e.file_type),
            seq: Some(e.seq),
            last: false,
        }
    };
    let mut parts = Vec::with_capacity(usize::from(base.is_some()) + incrs.len());
    while let Some(e) = incrs.pop() {
        parts.push(part(e));
        if incrs.len() % 8192 == 0 {
            incrs.shrink_to_fit();
        }
    }
    parts.extend(base.map(part));
    parts.reverse();
    if let Some(p) = parts.last_mut() {
        p.last = true;
    }
    Aof::MultiPart {
        manifest_path,
        parts,
    }
}

#[cfg(unix)]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// The manifest in an `appendonlydir`: its one `*.manifest` file (temp
/// files left by a crash, `temp-*`, are not it); with several, the
/// default name `appendonly.aof.manifest`.
pub fn find_manifest(dir: &Path) -> io::Result<PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".manifest") && !name.starts_with("temp-") && e.path().is_file() {
            found.push(e.path());
        }
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no AOF manifest (*.manifest) in directory {}",
                dir.display()
            ),
        )),
        _ => {
            let default = dir.join("appendonly.aof.manifest");
            if found.contains(&default) {
                return Ok(default);
            }
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "several manifests in {}; name the one to read: {}",
                    dir.display(),
                    found
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

/// Where the RDB at the start of `bytes` ends (just past its checksum),
/// read without decoding values or computing the CRC: for the dump of an
/// RDB-preamble AOF, whose commands start there.
pub fn rdb_end(bytes: &[u8]) -> rdbscope_rdb::Result<u64> {
    let rdb = Rdb::new(bytes)?.verify_checksum(false);
    let mut records = rdb.records();
    while let Some(r) = records.next() {
        if let Record::Eof(_) = r? {
            return Ok(records.offset());
        }
    }
    Ok(bytes.len() as u64)
}
