//! The dataset a replay builds: databases of keys, each with its value and
//! expire time, and the function libraries.

use crate::error::CmdError;
use crate::stream::XStream;
use crate::value::{Hash, List, Set, Val, Zset};
use std::collections::BTreeMap;

/// A key's value and expire time.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Val,
    /// Absolute expire time, Unix ms.
    pub expire_at_ms: Option<i64>,
}

pub use crate::db::Db;

/// Everything a replay holds.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Databases by number; absent ones are empty.
    pub dbs: BTreeMap<u64, Db>,
    /// Function libraries by name: their source, as `FUNCTION LOAD` took it.
    pub functions: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Dataset {
    /// Keys in all databases.
    pub fn keys(&self) -> u64 {
        self.dbs.values().map(|d| d.len() as u64).sum()
    }

    /// Database `db`, created when missing.
    pub fn db(&mut self, db: u64) -> &mut Db {
        self.dbs.entry(db).or_default()
    }

    /// Empties every database (`FLUSHALL`); functions stay.
    pub fn flush_all(&mut self) {
        self.dbs.clear();
    }
}

/// The database a command applies to, and the replay's clock.
pub struct Ctx<'d> {
    /// The whole dataset (`MOVE`, `COPY … DB`, `SWAPDB`, functions).
    pub ds: &'d mut Dataset,
    /// The selected database.
    pub db: u64,
    /// The time commands with relative times count from, Unix ms.
    pub now_ms: i64,
    /// The server version the AOF's writer was, when known (major, minor):
    /// a few commands changed behaviour between versions.
    pub version: Option<(u32, u32)>,
    /// The loading server is Valkey.
    pub valkey: bool,
}

impl Ctx<'_> {
    /// Whether the loading server is at least `major.minor` (unknown: the
    /// newest behaviour).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version.is_none_or(|v| v >= (major, minor))
    }

    /// The selected database.
    pub fn keys(&mut self) -> &mut Db {
        self.ds.dbs.entry(self.db).or_default()
    }

    /// The entry at `key`.
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.ds.dbs.get_mut(&self.db)?.get_mut(key)
    }

    /// Whether `key` exists.
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.ds
            .dbs
            .get(&self.db)
            .is_some_and(|d| d.contains_key(key))
    }

    /// Removes `key`; returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.ds.dbs.get_mut(&self.db)?.remove(key)
    }

    /// Sets `key` to a new value with no expire (what `SET` does).
    pub fn set(&mut self, key: &[u8], value: Val) {
        self.put(key, value, None);
    }

    /// Sets `key` to a value and expire.
    pub fn put(&mut self, key: &[u8], value: Val, expire_at_ms: Option<i64>) {
        let e = Entry {
            value,
            expire_at_ms,
        };
        self.keys().insert(key, e);
    }

    /// Trims the packed buffer of the value at `key` (after a command that
    /// grew it).
    pub fn trim(&mut self, key: &[u8]) {
        if let Some(e) = self.get(key) {
            e.value.trim();
        }
    }

    /// Deletes `key` when its value is a collection left empty.
    pub fn drop_if_empty(&mut self, key: &[u8]) {
        if self.get(key).is_some_and(|e| e.value.is_empty_collection()) {
            self.remove(key);
        }
    }

    /// The string at `key`: `Ok(None)` when there is none, `WRONGTYPE`
    /// when another type is there.
    pub fn string(&mut self, key: &[u8]) -> Result<Option<&mut Vec<u8>>, CmdError> {
        match self.get(key) {
            None => Ok(None),
            Some(e) => {
                if let Val::Short(n, b) = &e.value {
                    e.value = Val::Str(b[..*n as usize].to_vec());
                }
                match &mut e.value {
                    Val::Str(s) => Ok(Some(s)),
                    _ => Err(CmdError::wrong_type()),
                }
            }
        }
    }
}

/// Typed access to a collection at a key, created on demand.
macro_rules! typed {
    ($get:ident, $make:ident, $variant:ident, $ty:ty) => {
        impl Ctx<'_> {
            /// The value at `key` if it has this type; `WRONGTYPE` if another.
            pub fn $get(&mut self, key: &[u8]) -> Result<Option<&mut $ty>, CmdError> {
                match self.get(key) {
                    None => Ok(None),
                    Some(Entry {
                        value: Val::$variant(v),
                        ..
                    }) => Ok(Some(v)),
                    Some(_) => Err(CmdError::wrong_type()),
                }
            }

            /// The value at `key`, created empty when missing; `WRONGTYPE`
            /// if another type is there.
            pub fn $make(&mut self, key: &[u8]) -> Result<&mut $ty, CmdError> {
                if !self.exists(key) {
                    self.set(key, Val::$variant(Default::default()));
                }
                Ok(self.$get(key)?.expect("just made"))
            }
        }
    };
}

typed!(list, list_or_new, List, List);
typed!(set_value, set_or_new, Set, Set);
typed!(zset, zset_or_new, Zset, Zset);
typed!(hash, hash_or_new, Hash, Hash);
typed!(stream, stream_or_new, Stream, Box<XStream>);
