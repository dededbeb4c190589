//! RDB files for the rule tests, built with the library's writer
//! (`rdbscope_rdb::write`), plus what the writer deliberately cannot do:
//! the malformed forms the rules are about (a listpack with a given
//! header count, an intset of any width and order, an empty zipmap, a
//! non-minimal length, a score as arbitrary text, a stream master key of
//! any size) and byte patches. Correct encodings come from the library
//! only; this file holds no second copy of one.
//!
//! Nothing here knows about the checker; `tests/rules.rs` checks that the
//! output matches the byte-exact vectors of `docs/format.md` before relying
//! on it.

#![allow(dead_code)]

use rdbscope_rdb::write::{self, rdb_string::Strings};
use rdbscope_rdb::{Elem, StreamId};

pub use rdbscope_rdb::stream::PelEntry;
pub use rdbscope_rdb::write::stream::{Consumer, Group, Node, Stream};

/// Concatenates byte slices, arrays and vectors.
macro_rules! cat {
    ($($part:expr),* $(,)?) => {{
        let mut v: Vec<u8> = Vec::new();
        $( v.extend_from_slice(AsRef::<[u8]>::as_ref(&$part)); )*
        v
    }};
}

/// Runs an appending writer function into a new buffer.
fn build(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    f(&mut v);
    v
}

// ---------------------------------------------------------------------------
// Primitive encodings (docs/format.md#length-encoding, #string-encoding)
// ---------------------------------------------------------------------------

/// RDB length, shortest form.
pub fn len(n: u64) -> Vec<u8> {
    build(|v| write::cursor::length(v, n))
}

/// Mutation: an RDB length in the 5-byte 32-bit form whatever its size
/// (Redis reads non-minimal forms; the writer never makes them).
pub fn len32(n: u32) -> Vec<u8> {
    cat![[0x80], n.to_be_bytes()]
}

/// Plain RDB string: length, bytes.
pub fn string(b: impl AsRef<[u8]>) -> Vec<u8> {
    build(|v| write::rdb_string::string(v, b.as_ref()))
}

/// Integer-encoded RDB string, smallest width that fits.
pub fn int_string(v: i64) -> Vec<u8> {
    let v = i32::try_from(v).expect("int_string: value does not fit in 32 bits");
    build(|out| write::rdb_string::int(out, v))
}

/// LZF-encoded RDB string around `compressed`, declaring `declared_len`
/// bytes out (tests pass lies on purpose).
pub fn lzf_string(compressed: &[u8], declared_len: u64) -> Vec<u8> {
    build(|v| write::rdb_string::lzf(v, compressed, declared_len))
}

/// `data` compressed by the library's LZF compressor, as an LZF string.
pub fn lzf_of(data: &[u8]) -> Vec<u8> {
    build(|v| write::rdb_string::compressed(v, data))
}

/// Mutation: an old-style (type 3) score as arbitrary text after its
/// length byte (the writer only writes the text of a real double).
pub fn ascii_double(text: &str) -> Vec<u8> {
    cat![[text.len() as u8], text.as_bytes()]
}

/// The ASCII-double length byte meaning NaN (no text follows).
pub const ASCII_NAN: u8 = write::cursor::ASCII_DOUBLE_NAN;

pub fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Writes the blob's own length plus `delta` as a u32le at `at` (zlbytes,
/// listpack total_bytes, zltail at the terminator).
pub fn put_own_len(b: &mut [u8], at: usize, delta: i64) {
    let v = (b.len() as i64 + delta) as u32;
    put_u32(b, at, v);
}

pub fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses "0F 00 ff" style hex (whitespace and `|` ignored).
pub fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits in {s:?}");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------
// Elements of the compact encodings
// ---------------------------------------------------------------------------

/// One element of a listpack or ziplist, owned (tests build them from
/// temporaries): stored as a string or as an integer encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum El {
    Str(Vec<u8>),
    Int(i64),
}

impl El {
    /// The library's borrowed form.
    pub fn elem(&self) -> Elem<'_> {
        match self {
            El::Str(b) => Elem::Str(b),
            El::Int(v) => Elem::Int(*v),
        }
    }
}

/// A string element.
pub fn s(b: impl AsRef<[u8]>) -> El {
    El::Str(b.as_ref().to_vec())
}

/// An integer element.
pub fn n(v: i64) -> El {
    El::Int(v)
}

// ---------------------------------------------------------------------------
// Listpack (docs/format.md#listpack)
// ---------------------------------------------------------------------------

/// Encoding + data of one listpack element, without the backlen.
pub fn lp_enc(e: &El) -> Vec<u8> {
    build(|v| {
        write::listpack::element(v, e.elem()).unwrap();
    })
}

/// The backlen of an entry whose encoding + data is `l` bytes.
pub fn backlen(l: usize) -> Vec<u8> {
    build(|v| write::listpack::backlen(v, l as u64))
}

/// One complete listpack entry: encoding, data, backlen.
pub fn lp_entry(e: &El) -> Vec<u8> {
    build(|v| write::listpack::entry(v, e.elem()).unwrap())
}

/// Mutation: a listpack around already-encoded (possibly broken) entries
/// whose header says `count` elements. The library's empty listpack with
/// the entries put before its terminator and its header patched.
pub fn listpack_raw(entries: &[Vec<u8>], count: u16) -> Vec<u8> {
    let mut lp = listpack(&[]);
    let end = lp.len() - 1;
    lp.splice(end..end, entries.concat());
    put_own_len(&mut lp, 0, 0);
    put_u16(&mut lp, 4, count);
    lp
}

/// A correct listpack of `elems`.
pub fn listpack(elems: &[El]) -> Vec<u8> {
    write::listpack::to_vec(elems.iter().map(El::elem)).unwrap()
}

/// Offsets (inside the listpack) of each entry.
pub fn listpack_offsets(elems: &[El]) -> Vec<usize> {
    let mut lp = Vec::new();
    let mut w = write::listpack::Writer::new(&mut lp);
    elems.iter().map(|e| w.push(e.elem()).unwrap()).collect()
}

// ---------------------------------------------------------------------------
// Ziplist (docs/format.md#ziplist)
// ---------------------------------------------------------------------------

/// Encoding + data of one ziplist entry.
pub fn zl_enc(e: &El) -> Vec<u8> {
    build(|v| {
        write::ziplist::element(v, e.elem()).unwrap();
    })
}

/// A ziplist `prevlen` field.
pub fn zl_prevlen(prev: usize) -> Vec<u8> {
    build(|v| write::ziplist::prevlen(v, prev as u32))
}

/// A correct ziplist of `elems` and the offset of each entry in it.
pub fn ziplist_layout(elems: &[El]) -> (Vec<u8>, Vec<usize>) {
    let mut zl = Vec::new();
    let mut w = write::ziplist::Writer::new(&mut zl);
    let offsets = elems.iter().map(|e| w.push(e.elem()).unwrap()).collect();
    w.finish().unwrap();
    (zl, offsets)
}

/// A correct ziplist of `elems`.
pub fn ziplist(elems: &[El]) -> Vec<u8> {
    write::ziplist::to_vec(elems.iter().map(El::elem)).unwrap()
}

// ---------------------------------------------------------------------------
// Intset (docs/format.md#intset) and zipmap (#zipmap)
// ---------------------------------------------------------------------------

/// Mutation: an intset with the header and order as given (tests pass bad
/// widths, orders, duplicates and empty sets on purpose; the writer sorts,
/// picks the width and refuses empty sets). Checked against the writer in
/// `builder_blobs_match_format_md` where the input is canonical.
pub fn intset(width: u32, vals: &[i64]) -> Vec<u8> {
    let mut v = cat![width.to_le_bytes(), (vals.len() as u32).to_le_bytes()];
    for x in vals {
        v.extend_from_slice(&x.to_le_bytes()[..width.clamp(1, 8) as usize]);
    }
    v
}

/// The library's intset of `vals`.
pub fn intset_of(vals: &[i64]) -> Vec<u8> {
    build(|v| write::intset::intset(v, vals).unwrap())
}

/// A zipmap length: one byte below 254, else 0xFE + u32le.
pub fn zm_len(l: usize) -> Vec<u8> {
    build(|v| write::zipmap::length(v, l as u32))
}

/// A correct zipmap (no free space) of `pairs`.
pub fn zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    build(|v| write::zipmap::zipmap(v, pairs.iter().copied()).unwrap())
}

// ---------------------------------------------------------------------------
// Plain values (docs/format.md#plain-collections)
// ---------------------------------------------------------------------------

/// Types 1, 2: `n` strings, each `El::Int` as an int-encoded string.
pub fn strings(elems: &[El]) -> Vec<u8> {
    let elems: Vec<Elem> = elems.iter().map(El::elem).collect();
    build(|v| write::value::strings(v, &elems, Strings::PLAIN))
}

/// Type 4: `n` (field, value) pairs.
pub fn hash_pairs(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    build(|v| write::value::hash(v, pairs, Strings::PLAIN))
}

/// Type 3: `n` (member, ASCII double) with each score as the text given;
/// a score of `None` is NaN (253). A layout of library pieces around the
/// mutation [`ascii_double`].
pub fn zset_ascii(members: &[(&[u8], Option<&str>)]) -> Vec<u8> {
    let mut v = len(members.len() as u64);
    for (m, score) in members {
        v.extend(string(m));
        match score {
            Some(t) => v.extend(ascii_double(t)),
            None => v.push(ASCII_NAN),
        }
    }
    v
}

/// Type 5: `n` (member, binary double).
pub fn zset_binary(members: &[(&[u8], f64)]) -> Vec<u8> {
    build(|v| write::value::zset(v, members, Strings::PLAIN))
}

/// Type 24 HASH_METADATA: minExpire, then (stored ttl, field, value).
pub fn hash_metadata(min_expire: i64, fields: &[(u64, &[u8], &[u8])]) -> Vec<u8> {
    build(|v| write::value::hash_metadata(v, min_expire as u64, fields, Strings::PLAIN))
}

/// Redis type 22 (7.4 RCs): (absolute expireAt, field, value).
pub fn hash_metadata_pre_ga(fields: &[(u64, &[u8], &[u8])]) -> Vec<u8> {
    build(|v| write::value::hash_metadata_pre_ga(v, fields, Strings::PLAIN))
}

/// Type 25 HASH_LISTPACK_EX: minExpire, then a listpack of
/// (field, value, expireAt) triplets (expireAt 0 = no TTL).
pub fn hash_listpack_ex(min_expire: i64, triplets: &[(&[u8], &[u8], i64)]) -> Vec<u8> {
    build(|v| {
        write::value::hash_listpack_ex(v, min_expire as u64, triplets, Strings::PLAIN).unwrap()
    })
}

/// Type 25 around a listpack given as elements (tests pass triplets cut
/// short and TTLs that are not integers).
pub fn hash_listpack_ex_of(min_expire: i64, elems: &[El]) -> Vec<u8> {
    build(|v| {
        write::value::hash_listpack_ex_blob(v, min_expire as u64, &listpack(elems), Strings::PLAIN)
    })
}

/// Type 14 quicklist of the given (possibly broken) ziplist nodes.
pub fn quicklist(nodes: &[&[u8]]) -> Vec<u8> {
    build(|v| write::value::quicklist(v, nodes, Strings::PLAIN))
}

/// Valkey type 22 HASH_2 (RDB 80): (field, value, expire i64le; -1 = none).
pub fn valkey_hash2(fields: &[(&[u8], &[u8], i64)]) -> Vec<u8> {
    build(|v| write::value::valkey_hash2(v, fields, Strings::PLAIN))
}

/// Type 18 quicklist v2 of (container, node) pairs, each node an already
/// encoded RDB string (tests pass empty and broken nodes and any container
/// number): library lengths around the given nodes.
pub fn quicklist2(nodes: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut v = len(nodes.len() as u64);
    for (container, node) in nodes {
        v.extend(len(*container));
        v.extend(node);
    }
    v
}

/// Module type id for a 9-character name.
pub fn module_id(name: &str, encver: u64) -> u64 {
    write::module::module_id(name, encver as u32).unwrap().0
}

// ---------------------------------------------------------------------------
// Streams (docs/format.md#streams)
// ---------------------------------------------------------------------------

/// A stream ID.
pub fn id(ms: u64, seq: u64) -> StreamId {
    StreamId { ms, seq }
}

/// A stream ID in the 16-byte big-endian form (master IDs, PELs).
pub fn id16(ms: u64, seq: u64) -> Vec<u8> {
    build(|v| write::stream::id16(v, id(ms, seq)))
}

/// Encoding a stream value with plain strings.
pub trait Encode {
    /// The value in the layout of `version` (1 = type 15, 2 = 19, 3 = 21,
    /// 4 = 26).
    fn encode(&self, version: u8) -> Vec<u8>;
}

impl Encode for Stream {
    fn encode(&self, version: u8) -> Vec<u8> {
        build(|v| write::stream::stream(v, version, self, Strings::PLAIN).unwrap())
    }
}

/// Mutation: `st` in layout `version` with its first node's master key
/// replaced by `key` (the writer only writes 16-byte IDs).
pub fn with_master_key(st: &Stream, version: u8, key: &[u8]) -> Vec<u8> {
    let mut v = st.encode(version);
    // The node count (one byte for few nodes), then the 16-byte key as a
    // plain string: a length byte of 16 and the ID.
    assert_eq!(&v[1..2], len(16), "first node's master key");
    v.splice(1..18, string(key));
    v
}

pub const T0: i64 = 1_700_000_000_000;

pub fn consumer(name: &str, pel: &[(u64, u64)]) -> Consumer {
    Consumer {
        name: name.as_bytes().to_vec(),
        seen_time_ms: T0,
        active_time_ms: T0,
        pel: pel.iter().map(|&(ms, seq)| id(ms, seq)).collect(),
    }
}

pub fn group(name: &str, pel: &[(u64, u64)], consumers: Vec<Consumer>) -> Group {
    Group {
        name: name.as_bytes().to_vec(),
        last_id: id(1, 1),
        entries_read: 1,
        pel: pel
            .iter()
            .map(|&(ms, seq)| PelEntry {
                id: id(ms, seq),
                delivery_time_ms: T0,
                delivery_count: 1,
            })
            .collect(),
        consumers,
    }
}

/// The stream listpack elements of the format example: `XADD s 1-1 a 1
/// b x`, `XADD s 1-2 a 2 b y`, `XADD s 5-0 c z`, master ID 1-1, laid out
/// by hand so that tests can change one element (the library's
/// `write::stream::node_listpack` writes the same bytes; see
/// `builder_stream_node_matches_format_md`).
pub fn example_stream_elems() -> Vec<El> {
    vec![
        // master entry: count, deleted, 2 fields "a" "b", terminator 0
        n(3),
        n(0),
        n(2),
        s("a"),
        s("b"),
        n(0),
        // 1-1: SAMEFIELDS, +0 ms, +0 seq, values 1 "x", lp_count 2 + 3
        n(2),
        n(0),
        n(0),
        n(1),
        s("x"),
        n(5),
        // 1-2
        n(2),
        n(0),
        n(1),
        n(2),
        s("y"),
        n(5),
        // 5-0: own fields, +4 ms, -1 seq, 1 field c=z, lp_count 2*1 + 4
        n(0),
        n(4),
        n(-1),
        n(1),
        s("c"),
        s("z"),
        n(6),
    ]
}

/// Indexes into [`example_stream_elems`].
pub mod ex {
    pub const COUNT: usize = 0;
    pub const DELETED: usize = 1;
    pub const MASTER_TERMINATOR: usize = 5;
    pub const E1_LP_COUNT: usize = 11;
    pub const E3_FLAGS: usize = 18;
}

/// The whole example stream, with its group "g" whose consumer "alice"
/// owns the pending entry 1-1.
pub fn example_stream() -> Stream {
    stream_with_elems(example_stream_elems())
}

/// The example stream with its listpack built from `elems`.
pub fn stream_with_elems(elems: Vec<El>) -> Stream {
    Stream {
        nodes: vec![Node {
            master_id: id(1, 1),
            listpack: listpack(&elems),
        }],
        length: 3,
        last_id: id(5, 0),
        first_id: id(1, 1),
        max_deleted_id: id(0, 0),
        entries_added: 3,
        groups: vec![group("g", &[(1, 1)], vec![consumer("alice", &[(1, 1)])])],
        ..Stream::default()
    }
}

// ---------------------------------------------------------------------------
// Files (docs/format.md#header-and-versions, #opcodes, #crc-64)
// ---------------------------------------------------------------------------

/// A byte range of a built file: a key record, or another record the test
/// wrote (`key` says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub key: bool,
}

impl Span {
    pub fn contains(&self, offset: u64) -> bool {
        (self.start as u64) <= offset && offset < self.end as u64
    }
}

/// An RDB file being written, record by record, by the library's
/// [`write::records::Writer`], remembering where each record is.
pub struct RdbFile {
    w: write::records::Writer<Vec<u8>>,
    spans: Vec<Span>,
}

/// A finished file, with the spans of the records the test wrote.
#[derive(Debug, Clone)]
pub struct Built {
    pub bytes: Vec<u8>,
    pub spans: Vec<Span>,
}

impl Built {
    /// The last key record (or raw record) written.
    pub fn last(&self) -> Span {
        *self.spans.last().expect("no record written")
    }
}

impl RdbFile {
    /// `REDIS` + 4 digits.
    pub fn redis(version: u32) -> RdbFile {
        RdbFile {
            w: write::records::Writer::redis(Vec::new(), version).unwrap(),
            spans: Vec::new(),
        }
    }

    /// `VALKEY` + 3 digits.
    pub fn valkey(version: u32) -> RdbFile {
        RdbFile {
            w: write::records::Writer::valkey(Vec::new(), version).unwrap(),
            spans: Vec::new(),
        }
    }

    /// Mutation: any 9 header bytes; `version` decides whether a CRC is
    /// written.
    pub fn with_header(header: &[u8], version: u32) -> RdbFile {
        let mut w = write::records::Writer::without_header(Vec::new(), version >= 5);
        w.raw(header).unwrap();
        RdbFile {
            w,
            spans: Vec::new(),
        }
    }

    fn pos(&self) -> usize {
        self.w.position() as usize
    }

    pub fn select_db(mut self, db: u64) -> RdbFile {
        self.w.select_db(db).unwrap();
        self
    }

    pub fn resize_db(mut self, keys: u64, expires: u64) -> RdbFile {
        self.w.resize_db(keys, expires).unwrap();
        self
    }

    pub fn aux(mut self, k: &str, v: &str) -> RdbFile {
        self.w.aux(k.as_bytes(), v.as_bytes()).unwrap();
        self
    }

    /// Arbitrary bytes, recorded as a (non-key) span.
    pub fn raw(mut self, b: &[u8]) -> RdbFile {
        let start = self.pos();
        self.w.raw(b).unwrap();
        self.spans.push(Span {
            start,
            end: self.pos(),
            key: false,
        });
        self
    }

    /// A key record: `prefix` (opcodes before the key, as bytes), type
    /// byte, key (an already encoded RDB string), value.
    pub fn record(mut self, prefix: &[u8], t: u8, encoded_key: &[u8], value: &[u8]) -> RdbFile {
        let start = self.pos();
        self.w.raw(&cat![prefix, [t], encoded_key, value]).unwrap();
        self.spans.push(Span {
            start,
            end: self.pos(),
            key: true,
        });
        self
    }

    /// A key record with a plain string key.
    pub fn key(mut self, t: u8, key: &[u8], value: &[u8]) -> RdbFile {
        let start = self.pos();
        self.w.key(t, key, value).unwrap();
        self.spans.push(Span {
            start,
            end: self.pos(),
            key: true,
        });
        self
    }

    /// A key record prefixed by EXPIRETIME_MS.
    pub fn key_expiring(mut self, at_ms: i64, t: u8, key: &[u8], value: &[u8]) -> RdbFile {
        let start = self.pos();
        self.w.expire_ms(at_ms).unwrap();
        self.w.key(t, key, value).unwrap();
        self.spans.push(Span {
            start,
            end: self.pos(),
            key: true,
        });
        self
    }

    /// EOF and the CRC-64 trailer (RDB >= 5).
    pub fn finish(self) -> Built {
        Built {
            bytes: self.w.finish().unwrap(),
            spans: self.spans,
        }
    }

    /// EOF and 8 zero bytes: checksum disabled (`rdbchecksum no`).
    pub fn finish_unchecked(self) -> Built {
        Built {
            bytes: self.w.finish_unchecked().unwrap(),
            spans: self.spans,
        }
    }
}

/// The usual file around one key "k": `REDIS0012` (every Redis type byte
/// up to 25 is known), SELECTDB 0, RESIZEDB 1 0, the key, EOF, CRC.
pub fn file(t: u8, value: &[u8]) -> Built {
    RdbFile::redis(12)
        .select_db(0)
        .resize_db(1, 0)
        .key(t, b"k", value)
        .finish()
}

/// The same in a `VALKEY080` file (Valkey's numbering of type 22).
pub fn valkey_file(t: u8, value: &[u8]) -> Built {
    RdbFile::valkey(80)
        .select_db(0)
        .resize_db(1, 0)
        .key(t, b"k", value)
        .finish()
}
