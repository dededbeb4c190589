//! A small RDB writer for tests: every encoding of docs/format.md,
//! built from parts, with correct headers, counts, `prevlen`s, `backlen`s,
//! `zltail` and CRC-64 by default. Tests break one rule by changing one
//! parameter or patching one byte of what these functions return.
//!
//! Nothing here knows about the checker; `tests/rules.rs` checks that the
//! output matches the byte-exact vectors of docs/format.md#worked-examples before
//! relying on it.

#![allow(dead_code)]

use rdbscope_rdb::crc::crc64;

/// Concatenates byte slices, arrays and vectors.
macro_rules! cat {
    ($($part:expr),* $(,)?) => {{
        let mut v: Vec<u8> = Vec::new();
        $( v.extend_from_slice(AsRef::<[u8]>::as_ref(&$part)); )*
        v
    }};
}

// ---------------------------------------------------------------------------
// Primitive encodings (docs/format.md#length-encoding, #string-encoding)
// ---------------------------------------------------------------------------

/// RDB length, shortest form.
pub fn len(n: u64) -> Vec<u8> {
    if n < 64 {
        vec![n as u8]
    } else if n < 16384 {
        vec![0x40 | (n >> 8) as u8, n as u8]
    } else if n <= u64::from(u32::MAX) {
        cat![[0x80], (n as u32).to_be_bytes()]
    } else {
        cat![[0x81], n.to_be_bytes()]
    }
}

/// RDB length in the 5-byte 32-bit form, whatever its size (Redis reads
/// non-minimal forms).
pub fn len32(n: u32) -> Vec<u8> {
    cat![[0x80], n.to_be_bytes()]
}

/// Plain RDB string: length, bytes.
pub fn string(b: impl AsRef<[u8]>) -> Vec<u8> {
    let b = b.as_ref();
    cat![len(b.len() as u64), b]
}

/// Integer-encoded RDB string (0xC0 / 0xC1 / 0xC2), smallest that fits.
pub fn int_string(v: i64) -> Vec<u8> {
    if let Ok(x) = i8::try_from(v) {
        cat![[0xc0], x.to_le_bytes()]
    } else if let Ok(x) = i16::try_from(v) {
        cat![[0xc1], x.to_le_bytes()]
    } else {
        let x = i32::try_from(v).expect("int_string: value does not fit in 32 bits");
        cat![[0xc2], x.to_le_bytes()]
    }
}

/// LZF-encoded RDB string: marker, compressed length, declared length,
/// compressed bytes.
pub fn lzf_string(compressed: &[u8], declared_len: u64) -> Vec<u8> {
    cat![
        [0xc3],
        len(compressed.len() as u64),
        len(declared_len),
        compressed
    ]
}

/// A valid LZF stream for `data` using literal runs only (what `lzf_d.c`
/// reads just as well as real compression output).
pub fn lzf_literal(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(32) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
    out
}

/// `data` as an LZF-compressed RDB string (literal runs).
pub fn lzf_of(data: &[u8]) -> Vec<u8> {
    lzf_string(&lzf_literal(data), data.len() as u64)
}

/// Old-style ASCII double (type 3 scores): length byte and text.
pub fn ascii_double(text: &str) -> Vec<u8> {
    cat![[text.len() as u8], text.as_bytes()]
}

/// The ASCII-double length byte meaning NaN (no text follows).
pub const ASCII_NAN: u8 = 253;

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

/// One element of a listpack or ziplist: stored as a string or as an
/// integer encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum El {
    Str(Vec<u8>),
    Int(i64),
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

/// Encoding + data of one listpack element, smallest encoding (as
/// `lpAppend` picks it), without the backlen.
pub fn lp_enc(e: &El) -> Vec<u8> {
    match e {
        El::Int(v) => {
            let v = *v;
            if (0..=127).contains(&v) {
                vec![v as u8]
            } else if (-4096..=4095).contains(&v) {
                let u = (v as u16) & 0x1fff;
                vec![0xc0 | (u >> 8) as u8, u as u8]
            } else if let Ok(x) = i16::try_from(v) {
                cat![[0xf1], x.to_le_bytes()]
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                let b = (v as i32).to_le_bytes();
                vec![0xf2, b[0], b[1], b[2]]
            } else if let Ok(x) = i32::try_from(v) {
                cat![[0xf3], x.to_le_bytes()]
            } else {
                cat![[0xf4], v.to_le_bytes()]
            }
        }
        El::Str(b) => {
            let l = b.len();
            if l < 64 {
                cat![[0x80 | l as u8], b]
            } else if l < 4096 {
                cat![[0xe0 | (l >> 8) as u8, l as u8], b]
            } else {
                cat![[0xf0], (l as u32).to_le_bytes(), b]
            }
        }
    }
}

/// The backlen of an entry whose encoding + data is `l` bytes
/// (`lpEncodeBacklen`: most significant 7-bit group first, bit 7 set on
/// every byte but the first).
pub fn backlen(l: usize) -> Vec<u8> {
    let size = if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    };
    (0..size)
        .map(|i| {
            let group = ((l >> (7 * (size - 1 - i))) & 0x7f) as u8;
            if i == 0 {
                group
            } else {
                group | 0x80
            }
        })
        .collect()
}

/// One complete listpack entry: encoding, data, backlen.
pub fn lp_entry(e: &El) -> Vec<u8> {
    let enc = lp_enc(e);
    let bl = backlen(enc.len());
    cat![enc, bl]
}

/// A listpack around already-encoded entries; header count as given.
pub fn listpack_raw(entries: &[Vec<u8>], count: u16) -> Vec<u8> {
    let body: Vec<u8> = entries.concat();
    let total = (6 + body.len() + 1) as u32;
    cat![total.to_le_bytes(), count.to_le_bytes(), body, [0xff]]
}

/// A correct listpack of `elems`.
pub fn listpack(elems: &[El]) -> Vec<u8> {
    let entries: Vec<Vec<u8>> = elems.iter().map(lp_entry).collect();
    listpack_raw(&entries, elems.len() as u16)
}

/// File offsets (inside the listpack) of each entry.
pub fn listpack_offsets(elems: &[El]) -> Vec<usize> {
    let mut at = 6;
    elems
        .iter()
        .map(|e| {
            let here = at;
            at += lp_entry(e).len();
            here
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Ziplist (docs/format.md#ziplist)
// ---------------------------------------------------------------------------

/// Encoding + data of one ziplist entry, as `ziplistPush` picks it.
pub fn zl_enc(e: &El) -> Vec<u8> {
    match e {
        El::Int(v) => {
            let v = *v;
            if (0..=12).contains(&v) {
                vec![0xf1 + v as u8]
            } else if let Ok(x) = i8::try_from(v) {
                cat![[0xfe], x.to_le_bytes()]
            } else if let Ok(x) = i16::try_from(v) {
                cat![[0xc0], x.to_le_bytes()]
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                let b = (v as i32).to_le_bytes();
                vec![0xf0, b[0], b[1], b[2]]
            } else if let Ok(x) = i32::try_from(v) {
                cat![[0xd0], x.to_le_bytes()]
            } else {
                cat![[0xe0], v.to_le_bytes()]
            }
        }
        El::Str(b) => {
            let l = b.len();
            if l <= 63 {
                cat![[l as u8], b]
            } else if l <= 16383 {
                cat![[0x40 | (l >> 8) as u8, l as u8], b]
            } else {
                cat![[0x80], (l as u32).to_be_bytes(), b]
            }
        }
    }
}

/// A ziplist `prevlen` field.
pub fn zl_prevlen(prev: usize) -> Vec<u8> {
    if prev < 254 {
        vec![prev as u8]
    } else {
        cat![[0xfe], (prev as u32).to_le_bytes()]
    }
}

/// A correct ziplist of `elems` and the offset of each entry in it.
pub fn ziplist_layout(elems: &[El]) -> (Vec<u8>, Vec<usize>) {
    let mut body = Vec::new();
    let mut offsets = Vec::new();
    let mut prev = 0;
    for e in elems {
        let entry = cat![zl_prevlen(prev), zl_enc(e)];
        offsets.push(10 + body.len());
        prev = entry.len();
        body.extend(entry);
    }
    let zlbytes = (10 + body.len() + 1) as u32;
    let zltail = *offsets.last().unwrap_or(&10) as u32;
    let zl = cat![
        zlbytes.to_le_bytes(),
        zltail.to_le_bytes(),
        (elems.len() as u16).to_le_bytes(),
        body,
        [0xff]
    ];
    (zl, offsets)
}

/// A correct ziplist of `elems`.
pub fn ziplist(elems: &[El]) -> Vec<u8> {
    ziplist_layout(elems).0
}

// ---------------------------------------------------------------------------
// Intset (docs/format.md#intset) and zipmap (#zipmap)
// ---------------------------------------------------------------------------

/// An intset of `width`-byte integers (header as given: tests pass bad
/// widths and orders on purpose).
pub fn intset(width: u32, vals: &[i64]) -> Vec<u8> {
    let mut v = cat![width.to_le_bytes(), (vals.len() as u32).to_le_bytes()];
    for x in vals {
        v.extend_from_slice(&x.to_le_bytes()[..width.clamp(1, 8) as usize]);
    }
    v
}

/// A zipmap length: one byte below 254, else 0xFE + u32le.
pub fn zm_len(l: usize) -> Vec<u8> {
    if l < 254 {
        vec![l as u8]
    } else {
        cat![[0xfe], (l as u32).to_le_bytes()]
    }
}

/// A correct zipmap (no free space) of `pairs`.
pub fn zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v = vec![pairs.len().min(254) as u8];
    for (k, val) in pairs {
        v.extend(zm_len(k.len()));
        v.extend_from_slice(k);
        v.extend(zm_len(val.len()));
        v.push(0); // free
        v.extend_from_slice(val);
    }
    v.push(0xff);
    v
}

// ---------------------------------------------------------------------------
// Plain values (docs/format.md#plain-collections)
// ---------------------------------------------------------------------------

/// `n` then `n` RDB strings (types 1, 2): each element as an int-encoded
/// string when it is `El::Int`.
pub fn strings(elems: &[El]) -> Vec<u8> {
    let mut v = len(elems.len() as u64);
    for e in elems {
        v.extend(match e {
            El::Str(b) => string(b),
            El::Int(x) => int_string(*x),
        });
    }
    v
}

/// Type 4: `n` (field, value) pairs.
pub fn hash_pairs(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v = len(pairs.len() as u64);
    for (f, val) in pairs {
        v.extend(string(f));
        v.extend(string(val));
    }
    v
}

/// Type 3: `n` (member, ASCII double). A score of `None` is NaN (253).
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
    let mut v = len(members.len() as u64);
    for (m, score) in members {
        v.extend(string(m));
        v.extend(score.to_le_bytes());
    }
    v
}

/// Type 24 HASH_METADATA: minExpire, then (ttl, field, value); `ttl` is
/// the stored relative value (0 = none, else expireAt - minExpire + 1).
pub fn hash_metadata(min_expire: i64, fields: &[(u64, &[u8], &[u8])]) -> Vec<u8> {
    let mut v = cat![min_expire.to_le_bytes(), len(fields.len() as u64)];
    for (ttl, f, val) in fields {
        v.extend(len(*ttl));
        v.extend(string(f));
        v.extend(string(val));
    }
    v
}

/// Redis type 22 (7.4 RCs): (absolute expireAt, field, value).
pub fn hash_metadata_pre_ga(fields: &[(u64, &[u8], &[u8])]) -> Vec<u8> {
    let mut v = len(fields.len() as u64);
    for (at, f, val) in fields {
        v.extend(len(*at));
        v.extend(string(f));
        v.extend(string(val));
    }
    v
}

/// Type 25 HASH_LISTPACK_EX: minExpire, then a listpack of
/// (field, value, expireAt) triplets (expireAt 0 = no TTL).
pub fn hash_listpack_ex(min_expire: i64, triplets: &[(&[u8], &[u8], i64)]) -> Vec<u8> {
    let elems: Vec<El> = triplets
        .iter()
        .flat_map(|(f, v, t)| [s(f), s(v), n(*t)])
        .collect();
    cat![min_expire.to_le_bytes(), string(listpack(&elems))]
}

/// Valkey type 22 HASH_2 (RDB 80): (field, value, expire i64le; -1 = none).
pub fn valkey_hash2(fields: &[(&[u8], &[u8], i64)]) -> Vec<u8> {
    let mut v = len(fields.len() as u64);
    for (f, val, exp) in fields {
        v.extend(string(f));
        v.extend(string(val));
        v.extend(exp.to_le_bytes());
    }
    v
}

/// Type 18 quicklist v2: (container, node string) pairs.
pub fn quicklist2(nodes: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut v = len(nodes.len() as u64);
    for (container, node) in nodes {
        v.extend(len(*container));
        v.extend(node);
    }
    v
}

/// Module type id for a 9-character name (`moduleTypeEncodeId`).
pub fn module_id(name: &str, encver: u64) -> u64 {
    const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_eq!(name.len(), 9);
    let mut id = 0u64;
    for ch in name.bytes() {
        id = (id << 6) | CHARSET.iter().position(|&c| c == ch).unwrap() as u64;
    }
    (id << 10) | encver
}

// ---------------------------------------------------------------------------
// Streams (docs/format.md#streams)
// ---------------------------------------------------------------------------

/// A stream ID in the 16-byte big-endian form (master IDs, PELs).
pub fn id16(ms: u64, seq: u64) -> Vec<u8> {
    cat![ms.to_be_bytes(), seq.to_be_bytes()]
}

#[derive(Debug, Clone)]
pub struct Consumer {
    pub name: Vec<u8>,
    pub seen_ms: i64,
    pub active_ms: i64,
    pub pel: Vec<(u64, u64)>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: Vec<u8>,
    pub last_id: (u64, u64),
    pub entries_read: u64,
    /// (id, delivery time ms, delivery count).
    pub pel: Vec<((u64, u64), i64, u64)>,
    pub consumers: Vec<Consumer>,
}

/// A stream value. Nodes hold the raw master-ID string bytes (normally
/// 16) and the listpack as RDB-string payload bytes.
#[derive(Debug, Clone)]
pub struct Stream {
    pub nodes: Vec<(Vec<u8>, Vec<u8>)>,
    pub length: u64,
    pub last_id: (u64, u64),
    pub first_id: (u64, u64),
    pub max_deleted: (u64, u64),
    pub entries_added: u64,
    pub groups: Vec<Group>,
}

impl Stream {
    /// The value in the layout of `version` (1 = type 15, 2 = 19, 3 = 21).
    pub fn encode(&self, version: u8) -> Vec<u8> {
        let mut v = len(self.nodes.len() as u64);
        for (master, lp) in &self.nodes {
            v.extend(string(master));
            v.extend(string(lp));
        }
        v.extend(len(self.length));
        v.extend(len(self.last_id.0));
        v.extend(len(self.last_id.1));
        if version >= 2 {
            v.extend(len(self.first_id.0));
            v.extend(len(self.first_id.1));
            v.extend(len(self.max_deleted.0));
            v.extend(len(self.max_deleted.1));
            v.extend(len(self.entries_added));
        }
        v.extend(len(self.groups.len() as u64));
        for g in &self.groups {
            v.extend(string(&g.name));
            v.extend(len(g.last_id.0));
            v.extend(len(g.last_id.1));
            if version >= 2 {
                v.extend(len(g.entries_read));
            }
            v.extend(len(g.pel.len() as u64));
            for ((ms, seq), time, count) in &g.pel {
                v.extend(id16(*ms, *seq));
                v.extend(time.to_le_bytes());
                v.extend(len(*count));
            }
            v.extend(len(g.consumers.len() as u64));
            for c in &g.consumers {
                v.extend(string(&c.name));
                v.extend(c.seen_ms.to_le_bytes());
                if version >= 3 {
                    v.extend(c.active_ms.to_le_bytes());
                }
                v.extend(len(c.pel.len() as u64));
                for (ms, seq) in &c.pel {
                    v.extend(id16(*ms, *seq));
                }
            }
        }
        v
    }
}

pub const T0: i64 = 1_700_000_000_000;

pub fn consumer(name: &str, pel: &[(u64, u64)]) -> Consumer {
    Consumer {
        name: name.as_bytes().to_vec(),
        seen_ms: T0,
        active_ms: T0,
        pel: pel.to_vec(),
    }
}

pub fn group(name: &str, pel: &[(u64, u64)], consumers: Vec<Consumer>) -> Group {
    Group {
        name: name.as_bytes().to_vec(),
        last_id: (1, 1),
        entries_read: 1,
        pel: pel.iter().map(|id| (*id, T0, 1)).collect(),
        consumers,
    }
}

/// The stream listpack elements of docs/format.md#worked-examples: `XADD s 1-1 a 1
/// b x`, `XADD s 1-2 a 2 b y`, `XADD s 5-0 c z`, master ID 1-1.
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

/// The whole stream of docs/format.md#worked-examples, with its group "g" whose
/// consumer "alice" owns the pending entry 1-1.
pub fn example_stream() -> Stream {
    stream_with_elems(example_stream_elems())
}

/// The example stream with its listpack built from `elems`.
pub fn stream_with_elems(elems: Vec<El>) -> Stream {
    Stream {
        nodes: vec![(id16(1, 1), listpack(&elems))],
        length: 3,
        last_id: (5, 0),
        first_id: (1, 1),
        max_deleted: (0, 0),
        entries_added: 3,
        groups: vec![group("g", &[(1, 1)], vec![consumer("alice", &[(1, 1)])])],
    }
}

// ---------------------------------------------------------------------------
// Files
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

/// An RDB file being written, record by record.
#[derive(Debug, Clone)]
pub struct RdbFile {
    bytes: Vec<u8>,
    version: u32,
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
        RdbFile::with_header(format!("REDIS{version:04}").as_bytes(), version)
    }

    /// `VALKEY` + 3 digits.
    pub fn valkey(version: u32) -> RdbFile {
        RdbFile::with_header(format!("VALKEY{version:03}").as_bytes(), version)
    }

    /// Any 9 header bytes; `version` decides whether a CRC is written.
    pub fn with_header(header: &[u8], version: u32) -> RdbFile {
        RdbFile {
            bytes: header.to_vec(),
            version,
            spans: Vec::new(),
        }
    }

    pub fn select_db(mut self, db: u64) -> RdbFile {
        self.bytes.push(0xfe);
        self.bytes.extend(len(db));
        self
    }

    pub fn resize_db(mut self, keys: u64, expires: u64) -> RdbFile {
        self.bytes.push(0xfb);
        self.bytes.extend(len(keys));
        self.bytes.extend(len(expires));
        self
    }

    pub fn aux(mut self, k: &str, v: &str) -> RdbFile {
        self.bytes.push(0xfa);
        self.bytes.extend(string(k));
        self.bytes.extend(string(v));
        self
    }

    /// Arbitrary bytes, recorded as a (non-key) span.
    pub fn raw(mut self, b: &[u8]) -> RdbFile {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(b);
        self.spans.push(Span {
            start,
            end: self.bytes.len(),
            key: false,
        });
        self
    }

    /// A key record: type byte, key (an already encoded RDB string), value.
    pub fn record(mut self, prefix: &[u8], t: u8, encoded_key: &[u8], value: &[u8]) -> RdbFile {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(prefix);
        self.bytes.push(t);
        self.bytes.extend_from_slice(encoded_key);
        self.bytes.extend_from_slice(value);
        self.spans.push(Span {
            start,
            end: self.bytes.len(),
            key: true,
        });
        self
    }

    /// A key record with a plain string key.
    pub fn key(self, t: u8, key: &[u8], value: &[u8]) -> RdbFile {
        self.record(&[], t, &string(key), value)
    }

    /// A key record prefixed by EXPIRETIME_MS.
    pub fn key_expiring(self, at_ms: i64, t: u8, key: &[u8], value: &[u8]) -> RdbFile {
        self.record(&cat![[0xfc], at_ms.to_le_bytes()], t, &string(key), value)
    }

    fn eof(mut self, crc: bool) -> Built {
        self.bytes.push(0xff);
        if self.version >= 5 {
            let c = if crc { crc64(&self.bytes) } else { 0 };
            self.bytes.extend(c.to_le_bytes());
        }
        Built {
            bytes: self.bytes,
            spans: self.spans,
        }
    }

    /// EOF and the CRC-64 trailer (RDB >= 5).
    pub fn finish(self) -> Built {
        self.eof(true)
    }

    /// EOF and 8 zero bytes: checksum disabled (`rdbchecksum no`).
    pub fn finish_unchecked(self) -> Built {
        self.eof(false)
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
