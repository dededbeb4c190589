//! Values of key records: located when the record is read, decoded only
//! when asked.
//!
//! Reading a record only *skims* its value: it follows lengths to find where
//! the value ends (and so checks that it does end inside the file), without
//! decompressing or interpreting anything. The [`Value`] it yields is a view
//! of those bytes. Its walks (`for_each_*`) decode elements straight out of
//! the file, or out of one reusable buffer for LZF-compressed blobs, and hand
//! each to a callback: no per-element allocation, no collection built.
//!
//! The walks push elements to a closure rather than returning an iterator
//! because an element may borrow from a decompressed buffer that the walk
//! reuses for the next quicklist node or stream listpack: a closure can
//! borrow it for exactly one call, an `Iterator` item cannot. The closure
//! returns `Result<(), E>`; an `Err` stops the walk and is returned as is,
//! so a consumer's own errors (a closed pipe, say) pass through untouched,
//! and decoding errors become `E` through `From<Error>`. Use a sentinel
//! error of your own to stop early.

use crate::cursor::Cursor;
use crate::elem::{BlobLoc, Elem, Score};
use crate::error::{Error, Result};
use crate::intset::Intset;
use crate::listpack::Listpack;
use crate::module::{read_module_value, ModuleValue};
use crate::rdb_string::RdbString;
use crate::rule::Rule;
use crate::stream::{skim_stream, Stream};
use crate::types::{Encoding, KeyType};
use crate::ziplist::Ziplist;
use crate::zipmap::Zipmap;

/// The encodings of each type, as patterns. Matches on [`Encoding`] in this
/// crate name every encoding through these (never `_`), so that a new
/// encoding is a compile error in each match until it is placed.
macro_rules! encodings {
    (string) => {
        Encoding::String
    };
    (list) => {
        Encoding::List | Encoding::ListZiplist | Encoding::ListQuicklist | Encoding::ListQuicklist2
    };
    (set) => {
        Encoding::Set | Encoding::SetIntset | Encoding::SetListpack
    };
    (zset) => {
        Encoding::ZSet | Encoding::ZSet2 | Encoding::ZSetZiplist | Encoding::ZSetListpack
    };
    (hash) => {
        Encoding::Hash
            | Encoding::HashZipmap
            | Encoding::HashZiplist
            | Encoding::HashListpack
            | Encoding::HashMetadataPreGa
            | Encoding::HashMetadata
            | Encoding::HashListpackExPreGa
            | Encoding::HashListpackEx
            | Encoding::ValkeyHash2
    };
    (stream) => {
        Encoding::Stream(_)
    };
    (module) => {
        Encoding::Module2 | Encoding::ModulePreGa
    };
}
pub(crate) use encodings;

/// Reusable buffers for decoding values. Keep one per thread and pass it to
/// every walk: it grows to the largest compressed blob and stays there.
#[derive(Debug, Default)]
pub struct Scratch {
    /// A decompressed blob (listpack, ziplist, intset, zipmap, node).
    pub(crate) blob: Vec<u8>,
    /// First element string of a plain encoding (member, field).
    pub(crate) a: Vec<u8>,
    /// Second element string of a plain encoding (value).
    pub(crate) b: Vec<u8>,
    /// Decompressed-size cap, see [`crate::Limits`].
    pub(crate) max_decompressed: u64,
}

impl Scratch {
    /// Empty buffers with the default decompressed-size cap.
    pub fn new() -> Scratch {
        Scratch::with_limit(crate::rdb_string::DEFAULT_MAX_DECOMPRESSED)
    }

    /// The decompressed-size cap.
    pub fn limit(&self) -> u64 {
        self.max_decompressed
    }

    /// Buffers that refuse to decompress a string larger than `limit` bytes.
    pub fn with_limit(limit: u64) -> Scratch {
        Scratch {
            blob: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
            max_decompressed: limit,
        }
    }
}

/// An undecoded value.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    encoding: Encoding,
    type_byte: u8,
    /// The value's bytes, from just after the key to the end of the value.
    body: &'a [u8],
    /// File offset of `body`.
    offset: usize,
}

/// A string as an element: integers stay integers, raw bytes are borrowed,
/// LZF is decompressed into `buf`.
#[inline]
fn string_elem<'s>(s: &RdbString<'s>, buf: &'s mut Vec<u8>, limit: u64) -> Result<Elem<'s>> {
    if let Some(v) = s.as_int() {
        return Ok(Elem::Int(v));
    }
    Ok(Elem::Str(s.bytes_limited(buf, limit)?))
}

/// The bytes of a blob-holding string: borrowed, or decompressed into `buf`.
#[inline]
fn blob_bytes<'s>(s: &RdbString<'s>, buf: &'s mut Vec<u8>, limit: u64) -> Result<&'s [u8]> {
    s.bytes_limited(buf, limit)
}

impl<'a> Value<'a> {
    /// Reads past one value of type `encoding` at the cursor and returns a
    /// view of it.
    pub(crate) fn skim(c: &mut Cursor<'a>, encoding: Encoding, type_byte: u8) -> Result<Value<'a>> {
        let start = c.pos();
        let offset = c.offset();
        skim_body(c, encoding)?;
        Ok(Value {
            encoding,
            type_byte,
            body: &c.data()[start..c.pos()],
            offset,
        })
    }

    /// A view of `body` (a value without its type and key), as found in a
    /// DUMP payload, say. The whole of `body` must be the value.
    pub fn from_body(
        body: &'a [u8],
        offset: usize,
        encoding: Encoding,
        type_byte: u8,
    ) -> Result<Value<'a>> {
        let mut c = Cursor::new(body, offset);
        let v = Value::skim(&mut c, encoding, type_byte)?;
        if !c.is_empty() {
            return Err(Error::invalid(
                Rule::ValueTrailingBytes,
                c.offset(),
                format!("{} trailing bytes after the value", c.remaining()),
            ));
        }
        Ok(v)
    }

    /// How the value is stored (its RDB type, resolved by flavour).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The Redis type (`TYPE`).
    pub fn key_type(&self) -> KeyType {
        self.encoding.key_type()
    }

    /// The object type byte as stored.
    pub fn type_byte(&self) -> u8 {
        self.type_byte
    }

    /// The stored bytes of the value.
    pub fn raw(&self) -> &'a [u8] {
        self.body
    }

    /// File offset of the value's first byte.
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn cursor(&self) -> Cursor<'a> {
        Cursor::new(self.body, self.offset)
    }

    /// The string of a string value.
    pub fn string(&self) -> Result<RdbString<'a>> {
        match self.encoding {
            Encoding::String => self.cursor().rdb_string("string value"),
            encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(hash)
            | encodings!(stream)
            | encodings!(module) => Err(self.wrong_type("a string")),
        }
    }

    /// A module value's id and raw bytes.
    pub fn module(&self) -> Result<ModuleValue<'a>> {
        match self.encoding {
            Encoding::Module2 => read_module_value(&mut self.cursor()),
            // Refused when the record is read; never a view.
            Encoding::ModulePreGa => Err(self.wrong_type("a module value of the GA format")),
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(hash)
            | encodings!(stream) => Err(self.wrong_type("a module value")),
        }
    }

    /// A stream value's view.
    pub fn stream(&self) -> Result<Stream<'a>> {
        match self.encoding {
            Encoding::Stream(v) => Stream::parse(self.body, self.offset, v),
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(hash)
            | encodings!(module) => Err(self.wrong_type("a stream")),
        }
    }

    fn wrong_type(&self, wanted: &str) -> Error {
        Error::invalid(
            Rule::Other,
            self.offset,
            format!(
                "value of type {} is not {wanted}",
                self.encoding.key_type().as_str()
            ),
        )
    }

    /// Calls `f` with each element of a list (head to tail) or each member
    /// of a set (in stored order).
    pub fn for_each_member<E, F>(&self, s: &mut Scratch, mut f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>) -> Result<(), E>,
    {
        let limit = s.max_decompressed;
        let mut c = self.cursor();
        match self.encoding {
            Encoding::List | Encoding::Set => {
                let n = c.length("element count")?;
                for _ in 0..n {
                    let e = c.rdb_string("element")?;
                    f(string_elem(&e, &mut s.a, limit)?)?;
                }
            }
            Encoding::ListZiplist => {
                let blob = c.rdb_string("ziplist")?;
                let zl = Ziplist::new(blob_bytes(&blob, &mut s.blob, limit)?, blob.blob_loc())?;
                for e in zl.iter() {
                    f(e?)?;
                }
            }
            Encoding::SetIntset => {
                let blob = c.rdb_string("intset")?;
                let is = Intset::new(blob_bytes(&blob, &mut s.blob, limit)?, blob.blob_loc())?;
                for v in is.iter() {
                    f(Elem::Int(v))?;
                }
            }
            Encoding::SetListpack => {
                let blob = c.rdb_string("listpack")?;
                let lp = Listpack::new(blob_bytes(&blob, &mut s.blob, limit)?, blob.blob_loc())?;
                for e in lp.iter() {
                    f(e?)?;
                }
            }
            Encoding::ListQuicklist => {
                let n = c.length("quicklist node count")?;
                for _ in 0..n {
                    let blob = c.rdb_string("quicklist node")?;
                    let zl = Ziplist::new(blob_bytes(&blob, &mut s.blob, limit)?, blob.blob_loc())?;
                    for e in zl.iter() {
                        f(e?)?;
                    }
                }
            }
            Encoding::ListQuicklist2 => {
                let n = c.length("quicklist node count")?;
                for _ in 0..n {
                    let container = c.length("quicklist container")?;
                    let blob = c.rdb_string("quicklist node")?;
                    match container {
                        QUICKLIST_PLAIN => f(string_elem(&blob, &mut s.blob, limit)?)?,
                        _ => {
                            let lp = Listpack::new(
                                blob_bytes(&blob, &mut s.blob, limit)?,
                                blob.blob_loc(),
                            )?;
                            for e in lp.iter() {
                                f(e?)?;
                            }
                        }
                    }
                }
            }
            encodings!(string)
            | encodings!(zset)
            | encodings!(hash)
            | encodings!(stream)
            | encodings!(module) => return Err(self.wrong_type("a list or set").into()),
        }
        Ok(())
    }

    /// Calls `f` with each (member, score) of a zset, in stored order (a
    /// text score is parsed only if asked for, see [`Score`]).
    pub fn for_each_scored<E, F>(&self, s: &mut Scratch, mut f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Score<'_>) -> Result<(), E>,
    {
        let limit = s.max_decompressed;
        let mut c = self.cursor();
        match self.encoding {
            Encoding::ZSet | Encoding::ZSet2 => {
                let n = c.length("zset size")?;
                for _ in 0..n {
                    let m = c.rdb_string("zset member")?;
                    let score = if self.encoding == Encoding::ZSet {
                        c.ascii_double("zset score")?
                    } else {
                        c.binary_double("zset score")?
                    };
                    f(string_elem(&m, &mut s.a, limit)?, Score::Double(score))?;
                }
            }
            Encoding::ZSetZiplist | Encoding::ZSetListpack => {
                let blob = c.rdb_string("zset blob")?;
                let loc = blob.blob_loc();
                let bytes = blob_bytes(&blob, &mut s.blob, limit)?;
                if self.encoding == Encoding::ZSetZiplist {
                    let zl = Ziplist::new(bytes, loc)?;
                    scored_pairs(zl.iter(), loc, &mut f)?;
                } else {
                    let lp = Listpack::new(bytes, loc)?;
                    scored_pairs(lp.iter(), loc, &mut f)?;
                }
            }
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(hash)
            | encodings!(stream)
            | encodings!(module) => return Err(self.wrong_type("a zset").into()),
        }
        Ok(())
    }

    /// Calls `f` with each (field, value, field expire time in Unix ms) of
    /// a hash, in stored order. The expire is `None` for fields without a
    /// TTL and for encodings that have none.
    pub fn for_each_field<E, F>(&self, s: &mut Scratch, mut f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Elem<'_>, Option<i64>) -> Result<(), E>,
    {
        let limit = s.max_decompressed;
        let mut c = self.cursor();
        match self.encoding {
            Encoding::Hash => {
                let n = c.length("hash size")?;
                for _ in 0..n {
                    let k = c.rdb_string("hash field")?;
                    let v = c.rdb_string("hash value")?;
                    f(
                        string_elem(&k, &mut s.a, limit)?,
                        string_elem(&v, &mut s.b, limit)?,
                        None,
                    )?;
                }
            }
            Encoding::HashMetadata | Encoding::HashMetadataPreGa => {
                let min_expire = if self.encoding == Encoding::HashMetadata {
                    Some(c.i64_le("hash minimum expire time")?)
                } else {
                    None
                };
                let n = c.length("hash size")?;
                for _ in 0..n {
                    let at = c.offset();
                    let ttl = c.len("hash field TTL")?;
                    let k = c.rdb_string("hash field")?;
                    let v = c.rdb_string("hash value")?;
                    let expire = match (ttl, min_expire) {
                        (0, _) => None,
                        // 24: stored relative to the minimum, plus one.
                        (t, Some(min)) => Some(
                            min.checked_add(t as i64 - 1)
                                .filter(|_| t <= i64::MAX as u64)
                                .ok_or_else(|| {
                                    Error::invalid(
                                        Rule::HashFieldTtlRange,
                                        at,
                                        format!("hash field TTL {t} overflows"),
                                    )
                                })?,
                        ),
                        // 22 (7.4 RCs): absolute.
                        (t, None) => Some(t.min(i64::MAX as u64) as i64),
                    };
                    f(
                        string_elem(&k, &mut s.a, limit)?,
                        string_elem(&v, &mut s.b, limit)?,
                        expire,
                    )?;
                }
            }
            Encoding::ValkeyHash2 => {
                let n = c.length("hash size")?;
                for _ in 0..n {
                    let k = c.rdb_string("hash field")?;
                    let v = c.rdb_string("hash value")?;
                    let expire = c.i64_le("hash field expire time")?;
                    f(
                        string_elem(&k, &mut s.a, limit)?,
                        string_elem(&v, &mut s.b, limit)?,
                        (expire != -1).then_some(expire),
                    )?;
                }
            }
            Encoding::HashZipmap => {
                let blob = c.rdb_string("zipmap")?;
                let zm = Zipmap::new(blob_bytes(&blob, &mut s.blob, limit)?, blob.blob_loc())?;
                for p in zm.iter() {
                    let (k, v) = p?;
                    f(Elem::Str(k), Elem::Str(v), None)?;
                }
            }
            Encoding::HashZiplist | Encoding::HashListpack => {
                let blob = c.rdb_string("hash blob")?;
                let loc = blob.blob_loc();
                let bytes = blob_bytes(&blob, &mut s.blob, limit)?;
                if self.encoding == Encoding::HashZiplist {
                    field_pairs(Ziplist::new(bytes, loc)?.iter(), loc, &mut f)?;
                } else {
                    field_pairs(Listpack::new(bytes, loc)?.iter(), loc, &mut f)?;
                }
            }
            Encoding::HashListpackEx | Encoding::HashListpackExPreGa => {
                if self.encoding == Encoding::HashListpackEx {
                    c.i64_le("hash minimum expire time")?;
                }
                let blob = c.rdb_string("hash listpack")?;
                let loc = blob.blob_loc();
                let lp = Listpack::new(blob_bytes(&blob, &mut s.blob, limit)?, loc)?;
                let mut it = lp.iter();
                while let Some(k) = it.next() {
                    let k = k?;
                    let v = it.expect("hash value")?;
                    let at = it.pos();
                    let ttl = match it.expect("hash field expire time")? {
                        Elem::Int(t) => t,
                        Elem::Str(_) => {
                            return Err(loc
                                .invalid(
                                    Rule::HashFieldTtlInteger,
                                    at,
                                    "hash field expire time is not an integer",
                                )
                                .into())
                        }
                    };
                    f(k, v, (ttl != 0).then_some(ttl))?;
                }
            }
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(stream)
            | encodings!(module) => return Err(self.wrong_type("a hash").into()),
        }
        Ok(())
    }

    /// The minimum field expire time stored before a type 24 or 25 hash
    /// (Unix ms; 0 in a type 25 hash without TTLs).
    pub fn hash_min_expire(&self) -> Option<i64> {
        match self.encoding {
            Encoding::HashMetadata | Encoding::HashListpackEx => {
                self.cursor().i64_le("hash minimum expire time").ok()
            }
            Encoding::Hash
            | Encoding::HashZipmap
            | Encoding::HashZiplist
            | Encoding::HashListpack
            | Encoding::HashMetadataPreGa
            | Encoding::HashListpackExPreGa
            | Encoding::ValkeyHash2
            | encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(stream)
            | encodings!(module) => None,
        }
    }

    /// Whether this is a collection with no elements, which Redis skips
    /// when loading ("empty keys") and refuses in RESTORE. Cheap: a count
    /// prefix, or a blob no longer than an empty one of its kind; only such
    /// small blobs and quicklists are walked, and only to their first
    /// element.
    pub fn is_empty_collection(&self, s: &mut Scratch) -> Result<bool> {
        use Encoding::*;
        let mut c = self.cursor();
        match self.encoding {
            String | Module2 | ModulePreGa | Stream(_) => return Ok(false),
            List | Set | ZSet | ZSet2 | Hash | ValkeyHash2 | HashMetadataPreGa => {
                return Ok(c.len("count")? == 0)
            }
            HashMetadata => {
                c.take(8, "hash minimum expire time")?;
                return Ok(c.len("count")? == 0);
            }
            HashListpackEx => {
                c.take(8, "hash minimum expire time")?;
                // An empty listpack is 7 bytes; anything longer holds an
                // element (or is corrupt, which RESTORE will say).
                if c.rdb_string("hash listpack")?.len() > 7 {
                    return Ok(false);
                }
            }
            HashZipmap | ListZiplist | SetIntset | ZSetZiplist | HashZiplist | HashListpack
            | ZSetListpack | SetListpack | HashListpackExPreGa => {
                // Empty forms: zipmap 2, listpack 7, intset 8, ziplist 11.
                if c.rdb_string("blob")?.len() > 11 {
                    return Ok(false);
                }
            }
            ListQuicklist | ListQuicklist2 => {
                // No nodes: empty. A first node longer than an empty
                // ziplist/listpack, or a PLAIN node (a single element),
                // holds an element: not empty, without decompressing it.
                if c.length("quicklist node count")? == 0 {
                    return Ok(true);
                }
                let plain = self.encoding == ListQuicklist2
                    && c.length("quicklist container")? == QUICKLIST_PLAIN;
                if plain || c.rdb_string("quicklist node")?.len() > 11 {
                    return Ok(false);
                }
            }
        }
        // Pull the first element; a decoding error also counts as "not
        // empty" (RESTORE will judge the payload).
        use crate::view::Typed;
        let empty = match self.typed() {
            Typed::List(l) => l.cursor(s).and_then(|mut c| c.next().map(|e| e.is_none())),
            Typed::Set(l) => l.cursor(s).and_then(|mut c| c.next().map(|e| e.is_none())),
            Typed::Zset(z) => z.cursor(s).and_then(|mut c| c.next().map(|e| e.is_none())),
            Typed::Hash(h) => h.cursor(s).and_then(|mut c| c.next().map(|e| e.is_none())),
            Typed::String(_) | Typed::Stream(_) | Typed::Module(_) => Ok(false),
        };
        Ok(empty.unwrap_or(false))
    }
}

/// Quicklist v2 container kinds (`quicklist.h`): a node holding one
/// element as a plain string.
pub const QUICKLIST_PLAIN: u64 = 1;
/// Quicklist v2 node holding a listpack of elements.
pub const QUICKLIST_PACKED: u64 = 2;

/// Walks a blob's elements two at a time (member and score, field and
/// value); `odd` says what is missing when the count is odd.
fn pairs<'b, E>(
    mut it: impl Iterator<Item = Result<Elem<'b>>>,
    loc: BlobLoc,
    odd: &'static str,
    mut f: impl FnMut(Elem<'b>, Elem<'b>) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<Error>,
{
    while let Some(a) = it.next() {
        let a = a?;
        let b = match it.next() {
            Some(b) => b?,
            None => return Err(loc.invalid(Rule::PairCount, 0, odd).into()),
        };
        f(a, b)?;
    }
    Ok(())
}

fn scored_pairs<'b, E, F>(
    it: impl Iterator<Item = Result<Elem<'b>>>,
    loc: BlobLoc,
    f: &mut F,
) -> Result<(), E>
where
    E: From<Error>,
    F: FnMut(Elem<'_>, Score<'_>) -> Result<(), E>,
{
    let mut i = 0u64;
    let odd = "zset blob has an odd number of elements (member without score)";
    pairs(it, loc, odd, |m, sc| {
        let score = sc.as_score().ok_or_else(|| {
            loc.invalid(
                Rule::ZsetScore,
                0,
                format!("zset blob entry {i}: score is not a number"),
            )
        })?;
        i += 1;
        f(m, score)
    })
}

fn field_pairs<'b, E, F>(
    it: impl Iterator<Item = Result<Elem<'b>>>,
    loc: BlobLoc,
    f: &mut F,
) -> Result<(), E>
where
    E: From<Error>,
    F: FnMut(Elem<'_>, Elem<'_>, Option<i64>) -> Result<(), E>,
{
    let odd = "hash blob has an odd number of elements (field without value)";
    pairs(it, loc, odd, |k, v| f(k, v, None))
}

/// Follows the lengths of one value to its end. Counts are checked against
/// the bytes left (each item takes at least one byte), so a huge count ends
/// at once in a truncation error instead of a long loop.
fn skim_body(c: &mut Cursor<'_>, encoding: Encoding) -> Result<()> {
    use Encoding::*;
    match encoding {
        String | HashZipmap | ListZiplist | SetIntset | ZSetZiplist | HashZiplist
        | HashListpack | ZSetListpack | SetListpack | HashListpackExPreGa => {
            c.rdb_string("value")?;
        }
        List | Set | ListQuicklist => {
            let n = c.count(1, "element count")?;
            for _ in 0..n {
                c.rdb_string("element")?;
            }
        }
        ZSet => {
            let n = c.count(2, "zset size")?;
            for _ in 0..n {
                c.rdb_string("zset member")?;
                // ASCII double: a length byte (253..=255 are NaN/inf/-inf
                // with no text), then the text.
                let len = c.u8("zset score")?;
                if len < 253 {
                    c.take(u64::from(len), "zset score")?;
                }
            }
        }
        ZSet2 => {
            let n = c.count(9, "zset size")?;
            for _ in 0..n {
                c.rdb_string("zset member")?;
                c.take(8, "zset score")?;
            }
        }
        Hash => {
            let n = c.count(2, "hash size")?;
            for _ in 0..n {
                c.rdb_string("hash field")?;
                c.rdb_string("hash value")?;
            }
        }
        ListQuicklist2 => {
            let n = c.count(2, "quicklist node count")?;
            for _ in 0..n {
                let at = c.offset();
                let container = c.length("quicklist container")?;
                if container != QUICKLIST_PLAIN && container != QUICKLIST_PACKED {
                    return Err(Error::invalid(
                        Rule::QuicklistContainer,
                        at,
                        format!(
                            "quicklist container {container} is neither 1 (plain) nor 2 (packed)"
                        ),
                    ));
                }
                let at = c.offset();
                if c.rdb_string("quicklist node")?.is_empty() {
                    // Redis refuses a zero-length node whatever its container.
                    return Err(Error::invalid(
                        Rule::QuicklistEmptyNode,
                        at,
                        "quicklist node is empty (zero-length string)",
                    ));
                }
            }
        }
        HashMetadataPreGa | HashMetadata => {
            if encoding == HashMetadata {
                c.take(8, "hash minimum expire time")?;
            }
            let n = c.count(3, "hash size")?;
            for _ in 0..n {
                c.len("hash field TTL")?;
                c.rdb_string("hash field")?;
                c.rdb_string("hash value")?;
            }
        }
        HashListpackEx => {
            c.take(8, "hash minimum expire time")?;
            c.rdb_string("hash listpack")?;
        }
        ValkeyHash2 => {
            let n = c.count(10, "hash size")?;
            for _ in 0..n {
                c.rdb_string("hash field")?;
                c.rdb_string("hash value")?;
                c.take(8, "hash field expire time")?;
            }
        }
        Module2 => {
            read_module_value(c)?;
        }
        ModulePreGa => {
            return Err(Error::unsupported(
                Rule::ModulePreGa,
                c.offset(),
                "module value of the pre-GA format (type 6) cannot be read without its module",
            ))
        }
        Stream(v) => skim_stream(c, v)?,
    }
    Ok(())
}
