//! The write side: the RDB encodings, one module per encoding, named as
//! the reader's modules are (`write::listpack` beside [`crate::listpack`],
//! `write::ziplist` beside [`crate::ziplist`], ...), as `object` keeps its
//! `read` and `write` halves side by side.
//!
//! Every function appends to a caller-owned `Vec<u8>`, so a value is built
//! in one buffer without intermediate copies; [`records::Writer`] puts
//! whole files on any [`std::io::Write`] with the CRC-64 computed on the
//! way. What these functions write is what Redis writes for the same
//! choice of encoding (smallest integer forms, shortest lengths), so the
//! reader, `redis-check-rdb` and a real server all load it. The test suite
//! proves this against Redis 6.2, Redis 7.0 and Valkey 9.1
//! (`tests/write_live.rs`), value by value, and byte for byte where the
//! server's own choices are deterministic.
//!
//! Nothing here panics or allocates more than its output, whatever the
//! input values: where an encoding cannot hold a value (a listpack over
//! 4 GiB, a zipmap string over 4 GiB, a stream layout version we do not
//! know) the function returns an [`Error`] and leaves the buffer as it
//! was.
//!
//! A file with a string and a small set:
//!
//! ```
//! use rdbscope_rdb::types::rdb_type;
//! use rdbscope_rdb::write::rdb_string::{self, Strings};
//! use rdbscope_rdb::write::{listpack, records::Writer, value};
//! use rdbscope_rdb::{Elem, Rdb, Record};
//!
//! let mut w = Writer::redis(Vec::new(), 11)?;
//! w.select_db(0)?;
//! w.resize_db(2, 0)?;
//! let mut v = Vec::new();
//! rdb_string::string(&mut v, b"hello");
//! w.key(rdb_type::STRING, b"greeting", &v)?;
//! let lp = listpack::to_vec([Elem::Str(b"a"), Elem::Int(7)])?;
//! let mut v = Vec::new();
//! value::blob(&mut v, &lp, Strings::REDIS);
//! w.key(rdb_type::SET_LISTPACK, b"members", &v)?;
//! let file = w.finish()?;
//!
//! let rdb = Rdb::new(&file)?;
//! let keys = rdb.records().filter(|r| matches!(r, Ok(Record::Key(_)))).count();
//! assert_eq!(keys, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layout, one encoding per module:
//! * [`cursor`]: lengths, doubles (`docs/format.md#length-encoding`).
//! * [`rdb_string`]: plain, integer and LZF strings
//!   (`docs/format.md#string-encoding`).
//! * [`lzf`]: an LZF compressor (`docs/format.md#lzf`).
//! * [`listpack`], [`ziplist`], [`intset`], [`zipmap`]: the compact
//!   encodings.
//! * [`value`]: the value layouts of each object type byte.
//! * [`object`]: collections in the encoding a server would give them.
//! * [`stream`]: stream values and their node listpacks.
//! * [`module`]: module type ids and module opcode streams.
//! * [`payload`]: DUMP payloads.
//! * [`records`]: header, opcodes, key records, EOF and checksum.

#![warn(missing_docs)]

pub mod cursor;
pub mod encode;
pub mod fpconv;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod module;
pub mod object;
pub mod payload;
pub mod rdb_string;
pub mod records;
pub mod score_text;
pub mod stream;
pub mod value;
pub mod ziplist;
pub mod zipmap;

use std::fmt;

/// Why a value could not be written.
#[derive(Debug)]
pub enum Error {
    /// The value is larger than its encoding can describe (for example a
    /// listpack's 32-bit `total_bytes`).
    TooLarge {
        /// What could not hold it.
        what: &'static str,
        /// The size asked for.
        size: u64,
        /// The most the encoding holds.
        max: u64,
    },
    /// The input cannot be encoded at all (a module name with a character
    /// outside the module charset, an unknown layout version, ...).
    Invalid(String),
    /// Writing to the output failed.
    Io(std::io::Error),
    /// The value holds what the target version has no form for.
    Missing(encode::Missing),
}

/// `Result` with the writer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge { what, size, max } => {
                write!(
                    f,
                    "{what} of {size} bytes is over the format's limit of {max}"
                )
            }
            Error::Invalid(m) => f.write_str(m),
            Error::Io(e) => write!(f, "write failed: {e}"),
            Error::Missing(m) => write!(f, "{} has no form in the target version", m.what()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}

/// `size` as a `u32` field, or [`Error::TooLarge`].
pub(crate) fn fits_u32(what: &'static str, size: u64) -> Result<u32> {
    u32::try_from(size).map_err(|_| Error::TooLarge {
        what,
        size,
        max: u64::from(u32::MAX),
    })
}

/// Runs `f` on `out`; on error, cuts `out` back to its length before, so a
/// failed write leaves no partial value behind.
pub(crate) fn atomically<T>(
    out: &mut Vec<u8>,
    f: impl FnOnce(&mut Vec<u8>) -> Result<T>,
) -> Result<T> {
    let start = out.len();
    let r = f(out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

#[cfg(test)]
mod tests {
    //! Random values through each writer and back through the reader.

    use crate::cursor::Cursor;
    use crate::elem::BlobLoc;
    use crate::Elem;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A length from every size class the encodings distinguish.
        fn len(&mut self) -> usize {
            const CLASSES: [usize; 8] = [0, 1, 63, 64, 253, 254, 4095, 20_000];
            let base = CLASSES[(self.next() % 8) as usize];
            base + (self.next() % 3) as usize
        }

        fn int(&mut self) -> i64 {
            let bits = self.next() % 64;
            let v = (self.next() >> (63 - bits)) as i64;
            if self.next() % 2 == 0 {
                v
            } else {
                v.wrapping_neg()
            }
        }
    }

    /// Empty and extreme inputs to every writer: errors where the format
    /// cannot hold them, never a panic, and nothing left behind on error.
    #[test]
    fn empty_and_extreme_inputs() {
        use super::rdb_string::Strings;
        use super::*;
        let how = Strings::REDIS;
        let mut out = Vec::new();
        cursor::length(&mut out, u64::MAX);
        for v in [f64::NAN, f64::INFINITY, -0.0, f64::MIN, f64::EPSILON] {
            cursor::ascii_double(&mut out, v);
            cursor::binary_double(&mut out, v);
            assert!(cursor::double_text(v).len() <= 24);
        }
        rdb_string::encoded(&mut out, b"", how);
        rdb_string::compressed(&mut out, b"");
        rdb_string::elem(&mut out, Elem::Int(i64::MIN), how);
        listpack::listpack(&mut out, []).unwrap();
        ziplist::ziplist(&mut out, []).unwrap();
        let before = out.len();
        assert!(intset::intset(&mut out, &[]).is_err());
        assert!(zipmap::zipmap(&mut out, []).is_err());
        assert_eq!(out.len(), before);
        intset::intset(&mut out, &[i64::MIN, i64::MAX, i64::MIN]).unwrap();
        value::strings(&mut out, &[], how);
        value::hash(&mut out, &[], how);
        value::zset(&mut out, &[(b"m", f64::NAN)], how);
        value::zset_ascii(&mut out, &[(b"m", f64::NEG_INFINITY)], how);
        value::quicklist(&mut out, &[], how);
        value::quicklist2(&mut out, &[value::QuicklistNode::Plain(b"")], how);
        assert_eq!(value::hash_metadata_ttl(u64::MAX, Some(0)), 1);
        assert_eq!(value::hash_metadata_ttl(0, Some(u64::MAX)), u64::MAX);
        value::hash_metadata(&mut out, u64::MAX, &[(u64::MAX, b"", b"")], how);
        value::hash_metadata_pre_ga(&mut out, &[(0, b"f", b"v")], how);
        value::hash_listpack_ex(&mut out, 0, &[(b"", b"", i64::MIN)], how).unwrap();
        value::valkey_hash2(&mut out, &[(b"f", b"v", i64::MIN)], how);
        let st = stream::Stream::default();
        for version in 0..=255u8 {
            let r = stream::stream(&mut out, version, &st, how);
            assert_eq!(r.is_ok(), (1..=4).contains(&version));
        }
        let far = crate::StreamId {
            ms: u64::MAX,
            seq: 0,
        };
        let e = stream::Entry {
            id: crate::StreamId::default(),
            fields: vec![],
            deleted: true,
        };
        stream::node_listpack(&mut out, far, &[e.clone(), e]).unwrap();
        stream::Node::of(&[]).unwrap();
        module::sint(&mut out, i64::MIN);
        module::float(&mut out, f32::NAN);
        payload::payload(&mut out, 255, &[], u16::MAX);
        assert!(fits_u32("x", u64::from(u32::MAX)).is_ok());
        let e = fits_u32("listpack", 1 << 32).unwrap_err();
        assert!(
            e.to_string().contains("listpack of 4294967296 bytes"),
            "{e}"
        );
        let mut w = records::Writer::without_header(Vec::new(), false);
        w.raw(&[]).unwrap();
        w.key(0, b"", b"").unwrap();
        w.expire_s(i32::MIN).unwrap();
        assert_eq!(w.finish().unwrap(), [0, 0, 253, 0, 0, 0, 0x80, 255]);
    }

    #[test]
    fn random_elements_read_back() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let pool: Vec<u8> = (0..30_000).map(|_| rng.next() as u8).collect();
        for round in 0..60 {
            let n = 1 + (rng.next() % 40) as usize;
            let elems: Vec<Elem> = (0..n)
                .map(|_| {
                    if rng.next() % 2 == 0 {
                        Elem::Int(rng.int())
                    } else {
                        let l = rng.len();
                        let at = (rng.next() as usize) % (pool.len() - l);
                        Elem::Str(&pool[at..at + l])
                    }
                })
                .collect();
            let lp = super::listpack::to_vec(elems.iter().copied()).unwrap();
            let r = crate::listpack::Listpack::new(&lp, BlobLoc::raw(0)).unwrap();
            let back: Vec<Elem> = r.iter().collect::<crate::Result<_>>().unwrap();
            assert_eq!(back, elems, "listpack, round {round}");
            let zl = super::ziplist::to_vec(elems.iter().copied()).unwrap();
            let r = crate::ziplist::Ziplist::new(&zl, BlobLoc::raw(0)).unwrap();
            let back: Vec<Elem> = r.iter().collect::<crate::Result<_>>().unwrap();
            assert_eq!(back, elems, "ziplist, round {round}");
            // Each element as an RDB string, every storage choice.
            for how in [
                super::rdb_string::Strings::PLAIN,
                super::rdb_string::Strings::REDIS,
            ] {
                let mut out = Vec::new();
                for &e in &elems {
                    super::rdb_string::elem(&mut out, e, how);
                }
                let mut c = Cursor::new(&out, 0);
                for &e in &elems {
                    let s = c.rdb_string("s").unwrap().to_vec().unwrap();
                    assert_eq!(s, e.to_vec(), "string, round {round}");
                }
                assert!(c.is_empty());
            }
        }
    }
}
