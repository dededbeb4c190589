//! Key counts per database, as `info` and `check` report them, and their
//! JSON form. They live beside the JSON writers, not in the printer, so that
//! `check` (and anything else that reports a keyspace) shares one schema
//! without depending on the dump printer.

use rdbscope_rdb::{Encoding, KeyRecord, KeyType};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Counts for one database.
#[derive(Debug, Default, Clone)]
pub struct DbCounts {
    /// Keys.
    pub keys: u64,
    /// Keys with an expire time.
    pub expires: u64,
    /// Keys per type, indexed by [`KeyType::index`] (an array, not a map:
    /// this is updated for every key).
    pub by_type: [u64; 7],
    /// Keys per stored encoding.
    pub by_encoding: BTreeMap<Encoding, u64>,
    /// The RESIZEDB hint (keys, expires), if the file has one.
    pub resize_hint: Option<(u64, u64)>,
}

impl DbCounts {
    /// (type name, keys) for the types present, in `TYPE` order.
    pub fn types(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        KeyType::ALL
            .iter()
            .map(|t| (t.as_str(), self.by_type[t.index()]))
            .filter(|(_, n)| *n > 0)
    }

    /// (encoding name, keys), several type bytes sharing a name summed.
    pub fn encodings(&self) -> BTreeMap<&'static str, u64> {
        let mut out = BTreeMap::new();
        for (e, n) in &self.by_encoding {
            *out.entry(e.name()).or_default() += n;
        }
        out
    }
}

/// Counts for every database that has keys or was selected.
#[derive(Debug, Default, Clone)]
pub struct Keyspace {
    /// Counts by database number.
    pub dbs: BTreeMap<u64, DbCounts>,
}

impl Keyspace {
    /// Counts one key record.
    pub fn add_key(&mut self, k: &KeyRecord<'_>) {
        let d = self.dbs.entry(k.db).or_default();
        d.keys += 1;
        d.expires += u64::from(k.expire_at_ms.is_some());
        d.by_type[k.value.key_type().index()] += 1;
        *d.by_encoding.entry(k.value.encoding()).or_default() += 1;
    }

    /// Adds the counts of `other`, gathered over a later part of the same
    /// file (a later RESIZEDB hint replaces an earlier one, as in one walk).
    pub fn merge(&mut self, other: Keyspace) {
        for (db, d) in other.dbs {
            let m = self.dbs.entry(db).or_default();
            m.keys += d.keys;
            m.expires += d.expires;
            for (a, b) in m.by_type.iter_mut().zip(d.by_type) {
                *a += b;
            }
            for (e, n) in d.by_encoding {
                *m.by_encoding.entry(e).or_default() += n;
            }
            if d.resize_hint.is_some() {
                m.resize_hint = d.resize_hint;
            }
        }
    }

    /// The counts of database `db`, created empty when new.
    pub fn db(&mut self, db: u64) -> &mut DbCounts {
        self.dbs.entry(db).or_default()
    }

    /// Keys in all databases.
    pub fn keys(&self) -> u64 {
        self.dbs.values().map(|d| d.keys).sum()
    }

    /// Keys with an expire time in all databases.
    pub fn expires(&self) -> u64 {
        self.dbs.values().map(|d| d.expires).sum()
    }

    /// `{"0":{"keys":n,"expires":n,"types":{..},"encodings":{..},"resizedb":..},...}`
    pub fn write_json<W: Write>(&self, o: &mut W) -> io::Result<()> {
        o.write_all(b"{")?;
        for (i, (db, d)) in self.dbs.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(
                o,
                "\"{db}\":{{\"keys\":{},\"expires\":{},\"types\":{{",
                d.keys, d.expires
            )?;
            for (j, (t, n)) in d.types().enumerate() {
                if j > 0 {
                    o.write_all(b",")?;
                }
                write!(o, "\"{t}\":{n}")?;
            }
            o.write_all(b"},\"encodings\":{")?;
            for (j, (e, n)) in d.encodings().iter().enumerate() {
                if j > 0 {
                    o.write_all(b",")?;
                }
                write!(o, "\"{e}\":{n}")?;
            }
            o.write_all(b"},\"resizedb\":")?;
            match d.resize_hint {
                Some((k, e)) => write!(o, "{{\"keys\":{k},\"expires\":{e}}}")?,
                None => o.write_all(b"null")?,
            }
            o.write_all(b"}")?;
        }
        o.write_all(b"}")
    }
}
