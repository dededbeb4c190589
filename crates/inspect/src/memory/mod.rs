//! What a key costs in a running server, counted as `MEMORY USAGE key
//! SAMPLES 0` counts it (`objectComputeSize` plus the key's own entry in
//! `memoryCommand`, `object.c`), for the encoding the server holds the
//! value in after loading the file (`rdbLoadObject` converts by the
//! server's own thresholds, the defaults here), with the allocator's size
//! classes. The model, version by version, and how close it comes to live
//! servers: docs/memory.md.

mod alloc;
mod rax;

use rdbscope_digest::{ServerVersion, Vendor};
use rdbscope_rdb::elem::Score;
use rdbscope_rdb::types::{Encoding, KeyType};
use rdbscope_rdb::value::Scratch;
use rdbscope_rdb::write::listpack::{entry_size as lp_entry_size, stored_form};
use rdbscope_rdb::write::score_text::d2string;
use rdbscope_rdb::{Elem, Error, KeyRecord, Result};

/// The allocator the server was built with: its size classes decide what
/// each allocation really takes (`zmalloc_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// jemalloc (Redis's default build, Debian's redis-server).
    Jemalloc,
    /// glibc malloc (`make MALLOC=libc`, the PyPI wheels).
    Libc,
}

/// One key's memory, and the element facts found on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMemory {
    /// Bytes, as `MEMORY USAGE key SAMPLES 0` reports them.
    pub bytes: u64,
    /// The part of `bytes` that is the key's own cost in the keyspace.
    pub key_overhead: u64,
    /// The in-memory encoding, as `OBJECT ENCODING` names it.
    pub encoding: &'static str,
    /// Number of elements (1 for a string, entries for a stream).
    pub elements: u64,
    /// Bytes of the largest element.
    pub largest: u64,
}

/// The struct sizes and rules of one server version (64-bit builds).
#[derive(Debug, Clone, Copy)]
struct Profile {
    /// Compact collections are ziplists (Redis <= 6.2) or listpacks.
    ziplist: bool,
    /// Redis <= 6.2 counts compact blobs by their length
    /// (`ziplistBlobLen`, `intsetBlobLen`), embstr as `len + 2 + 16`;
    /// later versions by their allocation (`zmalloc_size`).
    exact_blobs: bool,
    /// `sizeof(quicklistNode)`: 32, 40 from 7.0 (`sz` became `size_t`).
    ql_node: u64,
    /// `sizeof(dict)`: 96 up to 6.2, 56 from 7.0.
    dict: u64,
    /// 7.2+: a list of one node is a listpack.
    list_listpack: bool,
    /// 7.2+: small sets of strings are listpacks.
    set_listpack: bool,
    /// `sizeof(stream)`, `sizeof(streamCG)`, `sizeof(streamConsumer)`.
    stream: u64,
    cgroup: u64,
    consumer: u64,
    /// `sdsReqType` leaves room for the header (7.0+).
    sds_fit_header: bool,
    /// Valkey 8.1+: the key lives inside the value's object and the keyspace
    /// is a `hashtable` of pointers.
    embedded_key: bool,
    /// The RDB version whose score text compact zsets hold (`d2string`).
    score_version: u32,
}

impl Profile {
    fn of(v: ServerVersion) -> Profile {
        let (major, minor) = v.redis_equivalent();
        let r70 = (major, minor) >= (7, 0);
        let r72 = (major, minor) >= (7, 2);
        let valkey8 = v.vendor == Vendor::Valkey && (v.major, v.minor) >= (8, 1);
        Profile {
            ziplist: !r70,
            exact_blobs: !r70,
            ql_node: if r70 { 40 } else { 32 },
            dict: if r70 { 56 } else { 96 },
            list_listpack: r72,
            set_listpack: r72,
            stream: if r70 { 80 } else { 40 },
            cgroup: if r70 { 40 } else { 32 },
            consumer: if r72 { 32 } else { 24 },
            sds_fit_header: r70,
            embedded_key: valkey8,
            score_version: if r72 { 11 } else { 10 },
        }
    }
}

/// The server's default encoding thresholds.
const LISTPACK_ENTRIES: u64 = 128;
const LISTPACK_VALUE: u64 = 64;
const INTSET_ENTRIES: u64 = 512;
/// `list-max-listpack-size -2`: 8 KiB per quicklist node.
const LIST_NODE_BYTES: u64 = 8192;
/// `sizeof(robj)`, `sizeof(dictEntry)`, `sizeof(quicklist)`.
const ROBJ: u64 = 16;
const DICT_ENTRY: u64 = 24;
const QUICKLIST: u64 = 40;

/// Estimates key memory for one server version and allocator.
#[derive(Debug, Clone)]
pub struct Estimator {
    server: ServerVersion,
    allocator: Allocator,
    p: Profile,
    /// Reused buffers: score text, rax keys, a decompressed blob.
    text: Vec<u8>,
    keys: Vec<[u8; 16]>,
    blob: Vec<u8>,
    /// Expected skiplist node allocations by fixed size (see
    /// `expected_zsl_node`).
    zsl_cache: Vec<u64>,
}

/// Fixed node sizes whose expectation is kept.
const ZSL_CACHE: usize = 512;

/// Sizes of one collection's elements, gathered in one walk.
#[derive(Default)]
struct Acc {
    n: u64,
    largest: u64,
    /// Longest element string (hash: field or value; zset: member).
    maxlen: u64,
    /// Listpack (or ziplist) bytes of all entries (hash: fields and
    /// values; zset: members and scores).
    packed: u64,
    /// What the elements cost held one by one (hash table entries, their
    /// strings, skiplist nodes), by the server's layout.
    table: u64,
    /// Every member a canonical integer, and the intset width they need.
    all_int: bool,
    int_width: u64,
    /// The previous ziplist entry's size (its next entry's prevlen).
    prev: u64,
}

fn text_len(e: Elem<'_>) -> u64 {
    match e {
        Elem::Str(s) => s.len() as u64,
        Elem::Int(v) => {
            let mut n = if v < 0 { 2 } else { 1 };
            let mut x = v.unsigned_abs();
            while x >= 10 {
                x /= 10;
                n += 1;
            }
            n
        }
    }
}

/// An element as the server stores it in a compact encoding: an integer
/// when it is the canonical text of one.
fn canonical(e: Elem<'_>) -> Elem<'_> {
    match e {
        Elem::Str(s) => stored_form(s),
        i => i,
    }
}

/// A ziplist entry's size after a previous entry of `prev` bytes.
fn zl_entry_size(e: Elem<'_>, prev: u64) -> u64 {
    let prevlen = if prev < 254 { 1 } else { 5 };
    let body = match e {
        Elem::Int(v) => match v {
            0..=12 => 1,
            -128..=127 => 2,
            -32768..=32767 => 3,
            -8_388_608..=8_388_607 => 4,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        },
        Elem::Str(s) => {
            let l = s.len() as u64;
            l + if l <= 63 {
                1
            } else if l <= 16383 {
                2
            } else {
                5
            }
        }
    };
    prevlen + body
}

impl Acc {
    fn new() -> Acc {
        Acc {
            all_int: true,
            ..Acc::default()
        }
    }

    /// Adds one string element to the compact size.
    /// Adds one element to the compact size. Past the compact encoding's
    /// entry limit nothing will be packed, so nothing is counted (the
    /// quicklist paths keep `n` at 0: their nodes have no entry limit).
    fn pack(&mut self, p: &Profile, e: Elem<'_>) {
        if self.n > LISTPACK_ENTRIES {
            return;
        }
        let e = canonical(e);
        if p.ziplist {
            let s = zl_entry_size(e, self.prev);
            self.prev = s;
            self.packed += s;
        } else {
            self.packed += lp_entry_size(e) as u64;
        }
    }

    fn packed_bytes(&self, p: &Profile) -> u64 {
        // Header and end byte: ziplist 10 + 1, listpack 6 + 1.
        self.packed + if p.ziplist { 11 } else { 7 }
    }
}

impl Estimator {
    /// An estimator for `server` built with `allocator`.
    pub fn new(server: ServerVersion, allocator: Allocator) -> Estimator {
        let mut e = Estimator {
            server,
            allocator,
            p: Profile::of(server),
            text: Vec::new(),
            keys: Vec::new(),
            blob: Vec::new(),
            zsl_cache: Vec::new(),
        };
        e.zsl_cache = (0..ZSL_CACHE as u64)
            .map(|f| e.expected_zsl_node_uncached(f))
            .collect();
        e
    }

    /// The server whose rules this follows.
    pub fn server(&self) -> ServerVersion {
        self.server
    }

    /// The allocator whose size classes this follows.
    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    fn a(&self, n: u64) -> u64 {
        self.allocator.size(n)
    }

    /// The header of an sds holding `len` bytes (`sdsReqType`).
    fn sds_header(&self, len: u64) -> u64 {
        let fit = |hdr: u64| if self.p.sds_fit_header { hdr + 1 } else { 0 };
        if len < 32 {
            1
        } else if len < 256 - fit(3) {
            3
        } else if len < 65536 - fit(5) {
            5
        } else if len < (1 << 32) - fit(9) {
            9
        } else {
            17
        }
    }

    /// `sdsZmallocSize` of an sds of `len` bytes made with `sdsnewlen`.
    fn sds(&self, len: u64) -> u64 {
        // An empty sds is never type 5.
        let hdr = if len == 0 { 3 } else { self.sds_header(len) };
        self.a(len.saturating_add(hdr + 1))
    }

    /// A compact blob of `n` bytes as `objectComputeSize` counts it.
    fn blob(&self, n: u64) -> u64 {
        if self.p.exact_blobs {
            n
        } else {
            self.a(n)
        }
    }

    /// The bucket array of a dict holding `n` entries after loading
    /// (`dictTryExpand(len)`: the next power of two, at least 4).
    fn dict_slots(n: u64) -> u64 {
        n.max(4).next_power_of_two()
    }

    /// The key's own cost: `sdsZmallocSize(key) + sizeof(dictEntry)`.
    fn key_cost(&self, key: &[u8]) -> u64 {
        self.sds(key.len() as u64) + DICT_ENTRY
    }

    /// Bytes of an sds of `len` embedded in another allocation (header,
    /// bytes, terminator).
    fn embedded_sds(&self, len: u64) -> u64 {
        self.sds_header(len) + len + 1
    }

    /// Valkey 8.1+ strings: the object holds the key, the expire, and the
    /// value itself when all fit in two cache lines (an `embstr`); an
    /// integer needs no more; a longer value is its own sds.
    fn valkey_string(
        &mut self,
        s: rdbscope_rdb::RdbString<'_>,
        key: &[u8],
        expires: bool,
        scratch: &mut Scratch,
    ) -> Result<KeyMemory> {
        let len = s.len();
        // The object, a byte for the key's header size, the key's sds,
        // the expire.
        let base = 17 + self.embedded_sds(key.len() as u64) + if expires { 8 } else { 0 };
        let head = self.a(base);
        let int = match s.as_int() {
            Some(_) => true,
            None if len <= 20 => {
                let b = s.bytes_limited(&mut self.blob, scratch.limit())?;
                matches!(stored_form(b), Elem::Int(_))
            }
            None => false,
        };
        let (bytes, encoding) = if int {
            (head, "int")
        } else if len == 0 {
            (head, "embstr")
        } else if base - 8 + self.embedded_sds(len) <= 128 {
            (self.a(base - 8 + self.embedded_sds(len)), "embstr")
        } else if len <= 44 {
            (head + self.a(ROBJ + 3 + len + 1), "embstr")
        } else {
            (head.saturating_add(self.sds(len)), "raw")
        };
        Ok(KeyMemory {
            bytes,
            key_overhead: head,
            encoding,
            elements: 1,
            largest: len,
        })
    }

    /// Valkey 8.1+ `hashtable`: 64-byte buckets of 7 entries, a power of
    /// two of them, about a tenth more for the child buckets that overflow
    /// chains, and the table itself (calibrated on Valkey 9.1).
    fn valkey_table(n: u64) -> u64 {
        let buckets = n.div_ceil(7).max(1).next_power_of_two();
        // The table's own struct, then the buckets.
        64 + buckets * 64 * 11 / 10
    }

    /// The memory of key record `k`, whose key bytes are `key`.
    pub fn key(
        &mut self,
        k: &KeyRecord<'_>,
        key: &[u8],
        scratch: &mut Scratch,
    ) -> Result<KeyMemory> {
        let v = &k.value;
        let expires = k.expire_at_ms.is_some();
        if self.p.embedded_key && v.key_type() == KeyType::String {
            return self.valkey_string(v.string()?, key, expires, scratch);
        }
        let (value, encoding, elements, largest) = match v.key_type() {
            KeyType::String => self.string(v.string()?, scratch)?,
            KeyType::List => self.list(v, scratch)?,
            KeyType::Set => self.set(v, scratch)?,
            KeyType::ZSet => self.zset(v, scratch)?,
            KeyType::Hash => self.hash(v, scratch)?,
            KeyType::Stream => self.stream(v)?,
            KeyType::Module => (ROBJ + v.raw().len() as u64, "module", 1, 0),
        };
        let (key_overhead, bytes) = if self.p.embedded_key {
            // Valkey 8.1+: the object holds the key's sds (and the expire);
            // that allocation replaces the 16-byte object counted above.
            let head =
                self.a(17 + self.embedded_sds(key.len() as u64) + if expires { 8 } else { 0 });
            (head, value.saturating_sub(ROBJ).saturating_add(head))
        } else {
            let cost = self.key_cost(key);
            (cost, value.saturating_add(cost))
        };
        Ok(KeyMemory {
            bytes,
            key_overhead,
            encoding,
            elements,
            largest,
        })
    }

    fn string(
        &mut self,
        s: rdbscope_rdb::RdbString<'_>,
        scratch: &mut Scratch,
    ) -> Result<(u64, &'static str, u64, u64)> {
        let len = s.len();
        if let Some(v) = s.as_int() {
            let _ = v;
            return Ok((ROBJ, "int", 1, len_of_int(s.as_int())));
        }
        if len <= 20 {
            // A string that is the canonical text of an integer becomes
            // an `int` object (tryObjectEncoding).
            let b = s.bytes_limited(&mut self.blob, scratch.limit())?;
            if matches!(stored_form(b), Elem::Int(_)) {
                return Ok((ROBJ, "int", 1, len));
            }
        }
        if len <= 44 {
            let size = if self.p.exact_blobs {
                len + 2 + ROBJ
            } else {
                self.a(len.saturating_add(ROBJ + 4))
            };
            return Ok((size, "embstr", 1, len));
        }
        Ok((ROBJ.saturating_add(self.sds(len)), "raw", 1, len))
    }

    fn list(
        &mut self,
        v: &rdbscope_rdb::value::Value<'_>,
        scratch: &mut Scratch,
    ) -> Result<(u64, &'static str, u64, u64)> {
        let p = self.p;
        // Quicklist nodes as the server holds them: (entry bytes, plain).
        let mut nodes: Vec<(u64, bool)> = Vec::new();
        let mut n = 0u64;
        let mut largest = 0u64;
        match v.encoding() {
            Encoding::ListQuicklist2 if !p.ziplist => {
                // Nodes are kept as stored: PACKED listpacks, PLAIN
                // elements.
                let mut c = rdbscope_rdb::cursor::Cursor::new(v.raw(), v.offset());
                let count = c.length("quicklist node count")?;
                for _ in 0..count {
                    let container = c.length("quicklist container")?;
                    let blob = c.rdb_string("quicklist node")?;
                    nodes.push((blob.len(), container == 1));
                }
                v.for_each_member::<Error, _>(scratch, |e| {
                    n += 1;
                    largest = largest.max(text_len(e));
                    Ok(())
                })?;
            }
            Encoding::ListQuicklist if !p.ziplist => {
                // RDB 9 ziplist nodes become listpacks on 7.0+, node for
                // node (`lpNew` then appended, shrunk to fit).
                let mut c = rdbscope_rdb::cursor::Cursor::new(v.raw(), v.offset());
                let count = c.length("quicklist node count")?;
                let mut buf = std::mem::take(&mut self.blob);
                for _ in 0..count {
                    let blob = c.rdb_string("quicklist node")?;
                    let loc = blob.blob_loc();
                    let bytes = blob.bytes_limited(&mut buf, scratch.limit())?;
                    let zl = rdbscope_rdb::ziplist::Ziplist::new(bytes, loc)?;
                    let mut acc = Acc::new();
                    for e in zl.iter() {
                        let e = e?;
                        n += 1;
                        largest = largest.max(text_len(e));
                        acc.pack(&p, e);
                    }
                    nodes.push((acc.packed_bytes(&p), false));
                }
                self.blob = buf;
            }
            Encoding::ListQuicklist if p.ziplist => {
                let mut c = rdbscope_rdb::cursor::Cursor::new(v.raw(), v.offset());
                let count = c.length("quicklist node count")?;
                for _ in 0..count {
                    let blob = c.rdb_string("quicklist node")?;
                    nodes.push((blob.len(), false));
                }
                v.for_each_member::<Error, _>(scratch, |e| {
                    n += 1;
                    largest = largest.max(text_len(e));
                    Ok(())
                })?;
            }
            _ => {
                // Anything else is rebuilt element by element into nodes of
                // up to 8 KiB (a ziplist quicklist node from RDB 9 becomes a
                // listpack on 7.0+, node for node; approximated the same
                // way).
                let mut acc = Acc::new();
                let limit = LIST_NODE_BYTES;
                v.for_each_member::<Error, _>(scratch, |e| {
                    n += 1;
                    largest = largest.max(text_len(e));
                    let before = acc.packed;
                    acc.pack(&p, e);
                    let entry = acc.packed - before;
                    if acc.packed_bytes(&p) > limit && before > 0 {
                        nodes.push((before + acc.packed_bytes(&p) - acc.packed, false));
                        acc = Acc::new();
                        acc.pack(&p, e);
                    }
                    let _ = entry;
                    Ok(())
                })?;
                if acc.packed > 0 {
                    nodes.push((acc.packed_bytes(&p), false));
                }
            }
        }
        if nodes.len() == 1 && p.list_listpack && !nodes[0].1 {
            return Ok((ROBJ + self.a(nodes[0].0), "listpack", n, largest));
        }
        let mut size = ROBJ + QUICKLIST;
        for (bytes, plain) in &nodes {
            let entry = if *plain || !p.exact_blobs {
                self.a(*bytes)
            } else {
                *bytes
            };
            size += p.ql_node + entry;
        }
        Ok((size, "quicklist", n, largest))
    }

    /// A set or hash held as a hash table of `n` entries that cost
    /// `entries` together: Redis's `dict` (struct, a bucket pointer per
    /// slot) or Valkey's `hashtable`.
    fn hashtable(&self, n: u64, entries: u64) -> u64 {
        let table = if self.p.embedded_key {
            Self::valkey_table(n)
        } else {
            self.p.dict + 8 * Self::dict_slots(n)
        };
        ROBJ + table + entries
    }

    fn set(
        &mut self,
        v: &rdbscope_rdb::value::Value<'_>,
        scratch: &mut Scratch,
    ) -> Result<(u64, &'static str, u64, u64)> {
        let p = self.p;
        let mut acc = Acc::new();
        let this = &*self;
        // Redis: a dict entry per member; Valkey: the member is the entry.
        let entry = if p.embedded_key { 0 } else { DICT_ENTRY };
        v.for_each_member::<Error, _>(scratch, |e| {
            acc.n += 1;
            let len = text_len(e);
            acc.largest = acc.largest.max(len);
            acc.maxlen = acc.maxlen.max(len);
            match canonical(e) {
                Elem::Int(i) => {
                    let w = if i16::try_from(i).is_ok() {
                        2
                    } else if i32::try_from(i).is_ok() {
                        4
                    } else {
                        8
                    };
                    acc.int_width = acc.int_width.max(w);
                }
                Elem::Str(_) => acc.all_int = false,
            }
            if p.set_listpack {
                acc.pack(&p, e);
            }
            acc.table += entry + this.sds(len);
            Ok(())
        })?;
        let n = acc.n;
        if acc.all_int && n <= INTSET_ENTRIES && n > 0 {
            let bytes = 8 + acc.int_width * n;
            return Ok((ROBJ + self.blob(bytes), "intset", n, acc.largest));
        }
        if p.set_listpack && n <= LISTPACK_ENTRIES && acc.maxlen <= LISTPACK_VALUE {
            let size = ROBJ + self.a(acc.packed_bytes(&p));
            return Ok((size, "listpack", n, acc.largest));
        }
        Ok((self.hashtable(n, acc.table), "hashtable", n, acc.largest))
    }

    fn zset(
        &mut self,
        v: &rdbscope_rdb::value::Value<'_>,
        scratch: &mut Scratch,
    ) -> Result<(u64, &'static str, u64, u64)> {
        let p = self.p;
        let mut acc = Acc::new();
        let mut text = std::mem::take(&mut self.text);
        let compact_source = matches!(v.encoding(), Encoding::ZSetZiplist | Encoding::ZSetListpack);
        let this = &*self;
        v.for_each_scored::<Error, _>(scratch, |m, score| {
            acc.n += 1;
            let len = text_len(m);
            acc.largest = acc.largest.max(len);
            acc.maxlen = acc.maxlen.max(len);
            // Scores matter only while the zset may still be a listpack:
            // a big zset's are never formatted.
            if acc.n <= LISTPACK_ENTRIES {
                acc.pack(&p, m);
                match score {
                    // A compact zset in the file keeps its score entries as
                    // they are when loaded (a ziplist's are copied into the
                    // listpack entry by entry): text stays text, integers
                    // stay integers.
                    Score::Text(t) => acc.pack(&p, Elem::Str(t)),
                    Score::Double(d) if compact_source && d.fract() == 0.0 && d.abs() < 9.0e15 => {
                        acc.pack(&p, Elem::Int(d as i64))
                    }
                    // A skiplist loaded into a listpack: the server writes
                    // each score with `d2string`.
                    Score::Double(d) => {
                        text.clear();
                        d2string(p.score_version, d, &mut text);
                        acc.pack(&p, Elem::Str(&text));
                    }
                }
            }
            // Skiplist: the member's node, whose level is random (P = 1/4
            // per level), at its expected allocation; Redis adds the
            // member's sds and its dict entry, Valkey keeps the member in
            // the node.
            acc.table += if p.embedded_key {
                this.expected_zsl_node(16 + this.embedded_sds(len))
            } else {
                this.sds(len) + DICT_ENTRY + this.expected_zsl_node(24)
            };
            Ok(())
        })?;
        self.text = text;
        let n = acc.n;
        if n <= LISTPACK_ENTRIES && acc.maxlen <= LISTPACK_VALUE {
            let enc = if p.ziplist { "ziplist" } else { "listpack" };
            return Ok((ROBJ + self.blob(acc.packed_bytes(&p)), enc, n, acc.largest));
        }
        // The 32-level header node, and (Redis) the zset and zskiplist
        // structs, then the member table.
        let skiplist = if p.embedded_key {
            self.a(16 + 32 * 16 + 4)
        } else {
            16 + 32 + self.a(24 + 32 * 16)
        };
        let size = self.hashtable(n, acc.table) + skiplist;
        Ok((size, "skiplist", n, acc.largest))
    }

    /// The expected allocation of a skiplist node (`fixed` bytes and 16
    /// per level, levels 1..32 with probability 3/4 × (1/4)^(l-1)).
    fn expected_zsl_node(&self, fixed: u64) -> u64 {
        // The expectation depends only on `fixed`: computed once per size.
        match self.zsl_cache.get(fixed as usize) {
            Some(&v) => v,
            None => self.expected_zsl_node_uncached(fixed),
        }
    }

    fn expected_zsl_node_uncached(&self, fixed: u64) -> u64 {
        let mut e = 0.0f64;
        let mut pr = 0.75f64;
        for l in 1..=32u64 {
            e += pr * self.a(fixed + 16 * l) as f64;
            pr *= 0.25;
        }
        e.round() as u64
    }

    fn hash(
        &mut self,
        v: &rdbscope_rdb::value::Value<'_>,
        scratch: &mut Scratch,
    ) -> Result<(u64, &'static str, u64, u64)> {
        let p = self.p;
        let mut acc = Acc::new();
        let this = &*self;
        let mut volatile = false;
        let mut ttls = 0u64;
        v.for_each_field::<Error, _>(scratch, |f, val, ttl| {
            acc.n += 1;
            volatile |= ttl.is_some();
            let (fl, vl) = (text_len(f), text_len(val));
            acc.largest = acc.largest.max(fl).max(vl);
            acc.maxlen = acc.maxlen.max(fl).max(vl);
            acc.pack(&p, f);
            acc.pack(&p, val);
            // Redis 7.4's listpackex holds a TTL (0: none) per field.
            ttls += lp_entry_size(Elem::Int(ttl.unwrap_or(0))) as u64;
            acc.table += if p.embedded_key {
                // Valkey: field and value (and a TTL) in one allocation.
                let ttl_slot = if ttl.is_some() { 8 } else { 0 };
                this.a(1 + this.embedded_sds(fl) + this.embedded_sds(vl) + ttl_slot)
            } else {
                this.sds(fl) + this.sds(vl) + DICT_ENTRY
            };
            Ok(())
        })?;
        let n = acc.n;
        // Valkey keeps hashes with field TTLs as hash tables.
        let compact =
            n <= LISTPACK_ENTRIES && acc.maxlen <= LISTPACK_VALUE && !(volatile && p.embedded_key);
        if compact && volatile {
            // Redis 7.4+: a listpack of (field, value, TTL) in a small
            // struct that links it into the database's TTL index (not
            // checked against a live server: none is at hand).
            let lp = acc.packed_bytes(&p) + ttls;
            return Ok((ROBJ + self.a(32) + self.a(lp), "listpackex", n, acc.largest));
        }
        if compact {
            let enc = if p.ziplist { "ziplist" } else { "listpack" };
            return Ok((ROBJ + self.blob(acc.packed_bytes(&p)), enc, n, acc.largest));
        }
        Ok((self.hashtable(n, acc.table), "hashtable", n, acc.largest))
    }

    fn stream(
        &mut self,
        v: &rdbscope_rdb::value::Value<'_>,
    ) -> Result<(u64, &'static str, u64, u64)> {
        let p = self.p;
        let s = v.stream()?;
        let mut keys = std::mem::take(&mut self.keys);
        keys.clear();
        let mut lists = 0u64;
        let this = &*self;
        s.for_each_node::<Error, _>(|master, lp| {
            let mut k = [0u8; 16];
            if let Some(raw) = master.as_raw() {
                if raw.len() == 16 {
                    k.copy_from_slice(raw);
                }
            }
            keys.push(k);
            lists += this.a(lp.len());
            Ok(())
        })?;
        let size = if p.embedded_key {
            // Valkey 8.1+ counts a stream's trees by their real
            // allocations, which the file does not fix; a model calibrated
            // on 168 streams loaded into Valkey 9.1 (docs/memory.md): a
            // base, the listpacks' allocations, and a cost per listpack
            // node, group, pending entry (in the group and in its consumer)
            // and consumer.
            let (mut g, mut pel, mut cons, mut cpel) = (0u64, 0u64, 0u64, 0u64);
            for gr in s.groups() {
                let gr = gr?;
                g += 1;
                pel += gr.pel_count();
                for c in gr.consumers() {
                    cons += 1;
                    cpel += c?.pel_count();
                }
            }
            ROBJ + 117 + lists + 62 * s.node_count() + 132 * g + 63 * (pel + cpel) + 105 * cons
        } else {
            // Redis: the trees by `streamRadixTreeMemoryUsage`, over
            // their exact node counts.
            let tree = |keys: &mut Vec<[u8; 16]>| {
                keys.sort_unstable();
                rax_usage(keys.len() as u64, rax::nodes(keys))
            };
            let mut size = ROBJ + p.stream + lists + tree(&mut keys);
            for g in s.groups() {
                let g = g?;
                keys.clear();
                for e in g.pel() {
                    keys.push(id_key(e?.id));
                }
                size += p.cgroup + 24 * keys.len() as u64 + tree(&mut keys);
                for c in g.consumers() {
                    let c = c?;
                    keys.clear();
                    keys.extend(c.pel().map(id_key));
                    size += p.consumer + c.name.len() + tree(&mut keys);
                }
            }
            size
        };
        self.keys = keys;
        Ok((size, "stream", s.meta().length, 0))
    }
}

fn len_of_int(v: Option<i64>) -> u64 {
    v.map_or(0, |v| text_len(Elem::Int(v)))
}

fn id_key(id: rdbscope_rdb::stream::StreamId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.ms.to_be_bytes());
    k[8..].copy_from_slice(&id.seq.to_be_bytes());
    k
}

/// `streamRadixTreeMemoryUsage`: 16 bytes per element, and per node
/// `sizeof(raxNode)` (4) plus a flat 30 words.
fn rax_usage(elements: u64, nodes: u64) -> u64 {
    elements * 16 + nodes * (4 + 8 * 30)
}
