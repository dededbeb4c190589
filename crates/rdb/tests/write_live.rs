//! The write side against the real thing: RDB files made by
//! `rdbscope_rdb::write` with every type and encoding a server of that
//! version loads, loaded by real servers (Redis 7.0 for RDB 9 and 10,
//! Redis 6.2 for RDB 9, Valkey 9.1 for RDB 11 and `VALKEY080`), and every
//! value the server reports compared with what was written: strings, list
//! items in order, set members, zset members and scores, hash fields,
//! stream entries, consumer groups and their pending entries, expiry
//! times, and the number of keys per database. Each server's own
//! `*-check-rdb` must also find the file OK.
//!
//! Where the server's choices are deterministic (integer and plain
//! strings, intsets, listpacks and ziplists in insertion or score order,
//! quicklist nodes, stream nodes with a deleted entry), the value a server
//! saves after the same commands is compared with what we write, byte for
//! byte: Redis 7.0 (RDB 10 encodings) and Redis 6.2 (RDB 9 encodings).
//! The same goes for `write::object`'s choice of encodings and quicklist
//! node cuts, for collections pushed into those servers.
//!
//! A server that refuses the file does not start (`RedisServer::start`
//! panics with its log). When a server is missing the test is skipped
//! with a notice, or fails under `REQUIRE_REDIS=1`.

use rdbscope_rdb::stream::PelEntry;
use rdbscope_rdb::types::rdb_type::*;
use rdbscope_rdb::write::cursor::double_text;
use rdbscope_rdb::write::listpack::stored_form;
use rdbscope_rdb::write::rdb_string::{self, Strings};
use rdbscope_rdb::write::records::Writer;
use rdbscope_rdb::write::stream::{Consumer, Entry, Group, Node, Stream};
use rdbscope_rdb::write::value::{self, QuicklistNode};
use rdbscope_rdb::write::{intset, listpack, stream, ziplist, zipmap};
use rdbscope_rdb::{Checksum, Elem, Rdb, Record, StreamId};
use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::{redis_server, RedisServer};
use rdbscope_testkit::TempDir;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// 2100-01-01: far enough that nothing expires while the test runs.
const FAR_FUTURE_MS: i64 = 4_102_444_800_000;

// ===========================================================================
// What was written
// ===========================================================================

/// A key's value as the server should report it.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    /// In ascending score order (ties by member).
    ZSet(Vec<(Vec<u8>, f64)>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Stream(WantStream),
}

/// A stream entry's (field, value) pairs.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Clone, PartialEq, Default)]
struct WantStream {
    /// Live entries: ID, fields.
    entries: Vec<(String, Fields)>,
    /// Name, last delivered ID, pending (ID, consumer, delivery count),
    /// consumers (name, pending count).
    groups: Vec<WantGroup>,
    /// Layout 2+: entries added, max deleted ID.
    meta: Option<(u64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
struct WantGroup {
    name: Vec<u8>,
    last_id: String,
    pending: Vec<(String, Vec<u8>, u64)>,
    consumers: Vec<(Vec<u8>, u64)>,
}

impl Want {
    fn type_name(&self) -> &'static str {
        match self {
            Want::String(_) => "string",
            Want::List(_) => "list",
            Want::Set(_) => "set",
            Want::ZSet(_) => "zset",
            Want::Hash(_) => "hash",
            Want::Stream(_) => "stream",
        }
    }
}

#[derive(Debug)]
struct Key {
    db: u64,
    name: Vec<u8>,
    want: Want,
    expire_ms: Option<i64>,
    /// Hash field expiry times (Unix ms; -1 = none), where written.
    field_expires: Vec<(Vec<u8>, i64)>,
    /// What it exercises, for messages.
    what: &'static str,
}

/// An RDB file being written, and the model of what it holds.
struct Dataset {
    w: Writer<Vec<u8>>,
    version: u32,
    db: u64,
    keys: Vec<Key>,
}

/// Which servers will load the file: decides the types written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// RDB 9: Redis 6.2 and 7.0.
    Rdb9,
    /// RDB 10: Redis 7.0.
    Rdb10,
    /// RDB 11: Valkey 9.1 (types 20 and 21).
    Rdb11,
}

impl Dataset {
    fn new(version: u32) -> Dataset {
        let w = if version >= 80 {
            Writer::valkey(Vec::new(), version)
        } else {
            Writer::redis(Vec::new(), version)
        };
        let mut w = w.unwrap().with_strings(Strings::REDIS);
        w.aux(b"redis-ver", b"7.0.0").unwrap();
        w.aux(b"redis-bits", b"64").unwrap();
        w.aux(b"ctime", b"1700000000").unwrap();
        Dataset {
            w,
            version,
            db: 0,
            keys: Vec::new(),
        }
    }

    fn select(&mut self, db: u64, keys: u64, expires: u64) {
        self.w.select_db(db).unwrap();
        self.w.resize_db(keys, expires).unwrap();
        self.db = db;
    }

    fn key(&mut self, what: &'static str, name: &[u8], t: u8, value: &[u8], want: Want) {
        self.w.key(t, name, value).unwrap();
        self.keys.push(Key {
            db: self.db,
            name: name.to_vec(),
            want,
            expire_ms: None,
            field_expires: Vec::new(),
            what,
        });
    }

    fn expiring(&mut self, at: i64, name: &[u8], t: u8, value: &[u8], want: Want) {
        self.w.expire_ms(at).unwrap();
        self.key("expiring string", name, t, value, want);
        self.keys.last_mut().unwrap().expire_ms = Some(at);
    }

    fn finish(self) -> (Vec<u8>, Vec<Key>) {
        let bytes = self.w.finish().unwrap();
        (bytes, self.keys)
    }
}

// ===========================================================================
// Data
// ===========================================================================

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Text that compresses: words from a small vocabulary.
    fn words(&mut self, n: usize) -> Vec<u8> {
        const W: [&str; 8] = [
            "redis ",
            "value ",
            "user:",
            "1234",
            "session ",
            "{\"a\":1}",
            "lorem ",
            "ipsum ",
        ];
        let mut v = Vec::new();
        while v.len() < n {
            v.extend_from_slice(W[(self.next() % 8) as usize].as_bytes());
        }
        v.truncate(n);
        v
    }
}

fn build(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    f(&mut v);
    v
}

/// The string an element stands for.
fn text(e: Elem<'_>) -> Vec<u8> {
    match e {
        Elem::Str(b) => b.to_vec(),
        Elem::Int(v) => v.to_string().into_bytes(),
    }
}

/// Integers of every width the compact encodings have.
const INTS: [i64; 16] = [
    0,
    7,
    12,
    13,
    127,
    128,
    -1,
    -128,
    -4096,
    4095,
    40_000,
    -32_769,
    1 << 23,
    -(1 << 23) - 1,
    i64::MAX,
    i64::MIN,
];

fn sid(ms: u64, seq: u64) -> StreamId {
    StreamId { ms, seq }
}

/// Every string form: plain, each integer width, LZF (compressible,
/// long-distance repeats, forced on random bytes), empty, binary, long.
fn strings(d: &mut Dataset, rng: &mut Rng) {
    let put = |d: &mut Dataset, what, name: &[u8], value: &[u8], want: &[u8]| {
        d.key(what, name, STRING, value, Want::String(want.to_vec()));
    };
    let plain = |b: &[u8]| build(|v| rdb_string::string(v, b));
    put(
        d,
        "plain string",
        b"s:plain",
        &plain(b"hello world"),
        b"hello world",
    );
    put(d, "empty string", b"s:empty", &plain(b""), b"");
    let binary: Vec<u8> = (0..=255).collect();
    put(d, "binary string", b"s:binary", &plain(&binary), &binary);
    let long = rng.bytes(20_000);
    put(d, "32-bit length", b"s:long", &plain(&long), &long);
    for v in [0, -1, 127, -128, 300, -40_000, i32::MAX, i32::MIN] {
        let name = format!("s:int:{v}");
        let value = build(|o| rdb_string::int(o, v));
        put(
            d,
            "int string",
            name.as_bytes(),
            &value,
            v.to_string().as_bytes(),
        );
    }
    // Too big for an integer string: stays text.
    let big = b"9223372036854775807";
    let value = build(|o| rdb_string::encoded(o, big, Strings::REDIS));
    assert_eq!(value[0] as usize, big.len());
    put(d, "int text over 32 bits", b"s:bigint", &value, big);
    // LZF: compressible text.
    let t = rng.words(5000);
    let value = build(|o| rdb_string::encoded(o, &t, Strings::REDIS));
    assert_eq!(value[0], 0xc3, "compressible text is stored as LZF");
    put(d, "LZF text", b"s:lzf:text", &value, &t);
    // LZF: a random block repeated at distances near the 8192 limit, and
    // long runs (references of 264 bytes).
    let block = rng.bytes(8000);
    let mut far = Vec::new();
    for i in 0..6 {
        far.extend_from_slice(&block);
        far.extend(std::iter::repeat_n(i as u8, 1000 + 97 * i));
        far.extend_from_slice(&block[..190]);
    }
    let value = build(|o| rdb_string::encoded(o, &far, Strings::REDIS));
    assert_eq!(value[0], 0xc3);
    put(d, "LZF far references", b"s:lzf:far", &value, &far);
    // LZF of bytes that do not compress (larger than the input): loads all
    // the same.
    let noise = rng.bytes(3000);
    let value = build(|o| rdb_string::compressed(o, &noise));
    put(d, "LZF of noise", b"s:lzf:noise", &value, &noise);
    // LZF of short strings around the literal-run limit.
    for n in [1usize, 31, 32, 33, 64, 65] {
        let s = rng.words(n);
        let name = format!("s:lzf:{n}");
        let value = build(|o| rdb_string::compressed(o, &s));
        put(d, "short LZF", name.as_bytes(), &value, &s);
    }
    // An integer-encoded key.
    put(d, "int key", b"12345", &plain(b"int key"), b"int key");
    d.expiring(
        FAR_FUTURE_MS,
        b"s:expiring",
        STRING,
        &plain(b"later"),
        Want::String(b"later".to_vec()),
    );
}

/// Elements for lists: every integer width and string length class.
fn list_elems(rng: &mut Rng, big: &[u8]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = INTS.iter().map(|i| i.to_string().into_bytes()).collect();
    v.push(Vec::new());
    v.push(b"abc".to_vec());
    v.push(rng.words(63));
    v.push(rng.words(64));
    v.push(rng.words(300));
    v.push(rng.words(5000));
    v.push(big.to_vec());
    v.push(b"007".to_vec());
    v.push(b"-0".to_vec());
    v
}

fn lists(d: &mut Dataset, rng: &mut Rng, target: Target) {
    let big = rng.bytes(20_000);
    let items = list_elems(rng, &big);
    let elems: Vec<Elem> = items.iter().map(|b| stored_form(b)).collect();
    let want = Want::List(items.clone());

    let v = build(|o| value::strings(o, &elems, Strings::REDIS));
    d.key("list (type 1)", b"l:plain", LIST, &v, want.clone());

    let zl = ziplist::to_vec(elems.iter().copied()).unwrap();
    let v = build(|o| value::blob(o, &zl, Strings::REDIS));
    d.key("list ziplist", b"l:ziplist", LIST_ZIPLIST, &v, want.clone());

    // Quicklist v1: the same items over three ziplist nodes.
    let nodes: Vec<Vec<u8>> = elems
        .chunks(10)
        .map(|c| ziplist::to_vec(c.iter().copied()).unwrap())
        .collect();
    let refs: Vec<&[u8]> = nodes.iter().map(Vec::as_slice).collect();
    let v = build(|o| value::quicklist(o, &refs, Strings::REDIS));
    d.key(
        "quicklist",
        b"l:quicklist",
        LIST_QUICKLIST,
        &v,
        want.clone(),
    );

    if target != Target::Rdb9 {
        // Quicklist v2: packed nodes around a plain one.
        let (head, tail) = elems.split_at(12);
        let a = listpack::to_vec(head.iter().copied()).unwrap();
        let b = listpack::to_vec(tail.iter().copied()).unwrap();
        let plain = rng.bytes(9000);
        let nodes = [
            QuicklistNode::Packed(&a),
            QuicklistNode::Plain(&plain),
            QuicklistNode::Packed(&b),
        ];
        let v = build(|o| value::quicklist2(o, &nodes, Strings::REDIS));
        let mut want_items: Vec<Vec<u8>> = head.iter().map(|&e| text(e)).collect();
        want_items.push(plain.clone());
        want_items.extend(tail.iter().map(|&e| text(e)));
        d.key(
            "quicklist v2",
            b"l:quicklist2",
            LIST_QUICKLIST_2,
            &v,
            Want::List(want_items),
        );
    }
}

fn sets(d: &mut Dataset, rng: &mut Rng, target: Target) {
    let members: Vec<Vec<u8>> = (0..40)
        .map(|i| match i % 3 {
            0 => (i * 1000 - 7).to_string().into_bytes(),
            1 => rng.words(10 + i as usize),
            _ => format!("member:{i}").into_bytes(),
        })
        .collect();
    let elems: Vec<Elem> = members.iter().map(|b| stored_form(b)).collect();
    let want = Want::Set(members.iter().cloned().collect());
    let v = build(|o| value::strings(o, &elems, Strings::REDIS));
    d.key("set (type 2)", b"set:plain", SET, &v, want.clone());

    for (name, vals) in [
        (&b"set:intset16"[..], &[5i64, -3, 0, 32767, -32768][..]),
        (b"set:intset32", &[1, 70_000, -70_000, 3]),
        (
            b"set:intset64",
            &[1 << 40, -(1 << 40), 9, i64::MIN, i64::MAX],
        ),
    ] {
        let is = build(|o| intset::intset(o, vals).unwrap());
        let v = build(|o| value::blob(o, &is, Strings::REDIS));
        let want = vals.iter().map(|i| i.to_string().into_bytes()).collect();
        d.key("intset", name, SET_INTSET, &v, Want::Set(want));
    }

    if target == Target::Rdb11 {
        let lp = listpack::to_vec(elems.iter().copied()).unwrap();
        let v = build(|o| value::blob(o, &lp, Strings::REDIS));
        d.key("set listpack", b"set:listpack", SET_LISTPACK, &v, want);
    }
}

fn zsets(d: &mut Dataset, rng: &mut Rng, target: Target) {
    let scores = [
        f64::NEG_INFINITY,
        -1e300,
        -5.0,
        -0.5,
        0.0,
        0.1,
        1.0,
        1.5,
        3.0,
        1234.5678,
        1e20,
        f64::INFINITY,
    ];
    let members: Vec<(Vec<u8>, f64)> = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let m = if i % 4 == 0 {
                (i * 11).to_string().into_bytes()
            } else {
                rng.words(5 + i)
            };
            (m, s)
        })
        .collect();
    let refs: Vec<(&[u8], f64)> = members.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
    let want = Want::ZSet(members.clone());

    let v = build(|o| value::zset_ascii(o, &refs, Strings::REDIS));
    d.key("zset (type 3)", b"z:ascii", ZSET, &v, want.clone());
    let v = build(|o| value::zset(o, &refs, Strings::REDIS));
    d.key("zset (type 5)", b"z:binary", ZSET_2, &v, want.clone());

    // Compact zsets hold finite scores as text or integers.
    let finite: Vec<(Vec<u8>, f64)> = members
        .iter()
        .filter(|(_, s)| s.is_finite())
        .cloned()
        .collect();
    // Scores as text (stored as integers where the text is one, as
    // `lpAppend` does).
    let score_text: Vec<Vec<u8>> = finite
        .iter()
        .map(|(_, s)| double_text(*s).into_bytes())
        .collect();
    let elems: Vec<Elem> = finite
        .iter()
        .zip(&score_text)
        .flat_map(|((m, _), s)| [stored_form(m), stored_form(s)])
        .collect();
    let want = Want::ZSet(finite.clone());
    let zl = ziplist::to_vec(elems.iter().copied()).unwrap();
    let v = build(|o| value::blob(o, &zl, Strings::REDIS));
    d.key("zset ziplist", b"z:ziplist", ZSET_ZIPLIST, &v, want.clone());
    if target != Target::Rdb9 {
        let lp = listpack::to_vec(elems.iter().copied()).unwrap();
        let v = build(|o| value::blob(o, &lp, Strings::REDIS));
        d.key("zset listpack", b"z:listpack", ZSET_LISTPACK, &v, want);
    }
}

fn hashes(d: &mut Dataset, rng: &mut Rng, target: Target) {
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..30)
        .map(|i| {
            let f = if i % 5 == 0 {
                i.to_string().into_bytes()
            } else {
                format!("field:{i}").into_bytes()
            };
            let v = match i % 4 {
                0 => (i as i64 * 123_457 - 100).to_string().into_bytes(),
                1 => rng.words(i * 13),
                2 => Vec::new(),
                _ => rng.bytes(300),
            };
            (f, v)
        })
        .collect();
    let refs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(f, v)| (f.as_slice(), v.as_slice()))
        .collect();
    let want = Want::Hash(pairs.iter().cloned().collect());

    let v = build(|o| value::hash(o, &refs, Strings::REDIS));
    d.key("hash (type 4)", b"h:plain", HASH, &v, want.clone());

    let zm = build(|o| zipmap::zipmap(o, refs.iter().copied()).unwrap());
    let v = build(|o| value::blob(o, &zm, Strings::REDIS));
    d.key("hash zipmap", b"h:zipmap", HASH_ZIPMAP, &v, want.clone());

    let elems: Vec<Elem> = refs
        .iter()
        .flat_map(|(f, v)| [stored_form(f), stored_form(v)])
        .collect();
    let zl = ziplist::to_vec(elems.iter().copied()).unwrap();
    let v = build(|o| value::blob(o, &zl, Strings::REDIS));
    d.key("hash ziplist", b"h:ziplist", HASH_ZIPLIST, &v, want.clone());
    if target != Target::Rdb9 {
        let lp = listpack::to_vec(elems.iter().copied()).unwrap();
        let v = build(|o| value::blob(o, &lp, Strings::REDIS));
        d.key("hash listpack", b"h:listpack", HASH_LISTPACK, &v, want);
    }
}

/// A stream of two nodes, a deleted entry, entries with and without the
/// master fields, integer-looking values, and two groups with pending
/// entries owned by consumers.
fn streams(d: &mut Dataset, rng: &mut Rng, target: Target) {
    let version = match target {
        Target::Rdb9 => 1,
        Target::Rdb10 => 2,
        Target::Rdb11 => 3,
    };
    let big = rng.words(500);
    let vals: Vec<Vec<u8>> = (0..8).map(|i| rng.words(3 + i * 7)).collect();
    let f = |i: usize| -> (&[u8], &[u8]) {
        match i % 3 {
            0 => (b"name", &vals[i]),
            1 => (b"count", b"-42"),
            _ => (b"blob", &big),
        }
    };
    // Node 1: 1000-0 .. 1000-3 (1000-2 deleted); node 2: 2000-5, 2500-0.
    let n1: Vec<Entry> = vec![
        Entry {
            id: sid(1000, 0),
            fields: vec![f(0), f(1)],
            deleted: false,
        },
        Entry {
            id: sid(1000, 1),
            fields: vec![(b"name", &vals[1]), (b"count", b"7")],
            deleted: false,
        },
        Entry {
            id: sid(1000, 2),
            fields: vec![(b"name", &vals[2]), (b"count", b"8")],
            deleted: true,
        },
        Entry {
            id: sid(1000, 3),
            fields: vec![f(2), (b"extra", b"12345678901")],
            deleted: false,
        },
    ];
    let n2: Vec<Entry> = vec![
        Entry {
            id: sid(2000, 5),
            fields: vec![(b"x", b"1"), (b"y", &vals[4])],
            deleted: false,
        },
        Entry {
            id: sid(2500, 0),
            fields: vec![(b"x", b"2"), (b"y", &vals[5])],
            deleted: false,
        },
    ];
    let nodes = vec![Node::of(&n1).unwrap(), Node::of(&n2).unwrap()];
    let live: Vec<&Entry> = n1.iter().chain(&n2).filter(|e| !e.deleted).collect();
    let id_text = |id: StreamId| format!("{}-{}", id.ms, id.seq);
    let pel = |ids: &[StreamId], count: u64| -> Vec<PelEntry> {
        ids.iter()
            .map(|&id| PelEntry {
                id,
                delivery_time_ms: 1_700_000_000_000,
                delivery_count: count,
            })
            .collect()
    };
    let g1 = Group {
        name: b"readers".to_vec(),
        last_id: sid(2000, 5),
        entries_read: 4,
        pel: pel(&[sid(1000, 0), sid(1000, 3), sid(2000, 5)], 2),
        consumers: vec![
            Consumer {
                name: b"alice".to_vec(),
                seen_time_ms: 1_700_000_000_500,
                active_time_ms: 1_700_000_000_400,
                pel: vec![sid(1000, 0), sid(2000, 5)],
            },
            Consumer {
                name: b"bob".to_vec(),
                seen_time_ms: 1_700_000_000_600,
                active_time_ms: 1_700_000_000_600,
                pel: vec![sid(1000, 3)],
            },
            Consumer {
                name: b"idle".to_vec(),
                seen_time_ms: 1_700_000_000_000,
                active_time_ms: -1,
                pel: vec![],
            },
        ],
    };
    let g2 = Group {
        name: b"42".to_vec(),
        last_id: sid(0, 0),
        entries_read: 0,
        pel: vec![],
        consumers: vec![],
    };
    let s = Stream {
        nodes,
        length: live.len() as u64,
        last_id: sid(2500, 0),
        first_id: sid(1000, 0),
        max_deleted_id: sid(1000, 2),
        entries_added: 6,
        groups: vec![g1.clone(), g2.clone()],
        ..Stream::default()
    };
    let v = build(|o| stream::stream(o, version, &s, Strings::REDIS).unwrap());
    let want = WantStream {
        entries: live
            .iter()
            .map(|e| {
                (
                    id_text(e.id),
                    e.fields
                        .iter()
                        .map(|(f, v)| (f.to_vec(), v.to_vec()))
                        .collect(),
                )
            })
            .collect(),
        // XINFO GROUPS lists groups in name order.
        groups: [g2, g1]
            .iter()
            .map(|g| WantGroup {
                name: g.name.clone(),
                last_id: id_text(g.last_id),
                pending: g
                    .pel
                    .iter()
                    .map(|p| {
                        let owner = g
                            .consumers
                            .iter()
                            .find(|c| c.pel.contains(&p.id))
                            .expect("every pending entry has an owner");
                        (id_text(p.id), owner.name.clone(), p.delivery_count)
                    })
                    .collect(),
                consumers: g
                    .consumers
                    .iter()
                    .map(|c| (c.name.clone(), c.pel.len() as u64))
                    .collect(),
            })
            .collect(),
        meta: (version >= 2).then(|| (6, "1000-2".to_string())),
    };
    let t = stream::type_byte(version).unwrap();
    d.key("stream", b"st:1", t, &v, Want::Stream(want));
}

/// A function library (RDB 10+), checked with `FCALL`.
const LIBRARY: &[u8] =
    b"#!lua name=writerlib\nredis.register_function('answer', function() return 42 end)";

/// The whole dataset for `target`, in two databases, with a function
/// library from RDB 10 on.
fn dataset(target: Target) -> (Vec<u8>, Vec<Key>) {
    let version = match target {
        Target::Rdb9 => 9,
        Target::Rdb10 => 10,
        Target::Rdb11 => 11,
    };
    let mut d = Dataset::new(version);
    if target != Target::Rdb9 {
        d.w.function(LIBRARY).unwrap();
    }
    let mut rng = Rng(0x5eed_feed_2026);
    d.select(0, 64, 1);
    strings(&mut d, &mut rng);
    lists(&mut d, &mut rng, target);
    d.select(3, 64, 0);
    sets(&mut d, &mut rng, target);
    zsets(&mut d, &mut rng, target);
    hashes(&mut d, &mut rng, target);
    streams(&mut d, &mut rng, target);
    assert_eq!(d.version, version);
    d.finish()
}

// ===========================================================================
// A minimal RESP2 client
// ===========================================================================

#[derive(Debug, Clone, PartialEq)]
enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Resp::Bulk(Some(b)) => b.clone(),
            Resp::Simple(s) => s.as_bytes().to_vec(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    fn int(&self) -> i64 {
        match self {
            Resp::Int(i) => *i,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    fn array(&self) -> &[Resp] {
        match self {
            Resp::Array(Some(a)) => a,
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// A flat [name, value, ...] array as a map.
    fn map(&self) -> BTreeMap<String, Resp> {
        self.array()
            .chunks(2)
            .map(|p| (p[0].text(), p[1].clone()))
            .collect()
    }
}

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }

    fn cmd(&mut self, args: &[&[u8]]) -> Resp {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend(b"\r\n");
        }
        self.w.write_all(&out).expect("send");
        let reply = self.read();
        if let Resp::Error(e) = &reply {
            panic!(
                "{:?}: {e}",
                args.iter()
                    .map(|a| String::from_utf8_lossy(a))
                    .collect::<Vec<_>>()
            );
        }
        reply
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("read");
        assert!(l.ends_with("\r\n"), "bad RESP line {l:?}");
        l.truncate(l.len() - 2);
        l
    }

    fn read(&mut self) -> Resp {
        let l = self.line();
        let (kind, rest) = l.split_at(1);
        match kind {
            "+" => Resp::Simple(rest.to_string()),
            "-" => Resp::Error(rest.to_string()),
            ":" => Resp::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.r.read_exact(&mut b).expect("bulk");
                b.truncate(n as usize);
                Resp::Bulk(Some(b))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Array(None);
                }
                Resp::Array(Some((0..n).map(|_| self.read()).collect()))
            }
            _ => panic!("unknown RESP reply {l:?}"),
        }
    }
}

// ===========================================================================
// Comparing
// ===========================================================================

/// Every key of `keys` as the server at `port` reports it, compared with
/// the model; returns the failures.
fn compare(port: u16, keys: &[Key], failures: &mut Vec<String>, server: &str) {
    let mut c = Client::connect(port);
    let mut per_db: BTreeMap<u64, u64> = BTreeMap::new();
    for k in keys {
        *per_db.entry(k.db).or_default() += 1;
    }
    for (&db, &n) in &per_db {
        c.cmd(&[b"SELECT", db.to_string().as_bytes()]);
        let got = c.cmd(&[b"DBSIZE"]).int();
        if got != n as i64 {
            failures.push(format!("{server}: db {db} holds {got} keys, wrote {n}"));
        }
    }
    for k in keys {
        c.cmd(&[b"SELECT", k.db.to_string().as_bytes()]);
        let name = k.name.as_slice();
        let label = format!(
            "{server}: db {} key {:?} ({})",
            k.db,
            String::from_utf8_lossy(name),
            k.what
        );
        let t = c.cmd(&[b"TYPE", name]).text();
        if t != k.want.type_name() {
            failures.push(format!("{label}: TYPE {t}, wrote {}", k.want.type_name()));
            continue;
        }
        let got = read_value(&mut c, name, &k.want);
        if got != k.want {
            failures.push(format!(
                "{label}: differs\n  server: {got:?}\n  wrote:  {:?}",
                k.want
            ));
        }
        if !k.field_expires.is_empty() {
            let n = k.field_expires.len().to_string();
            let mut args: Vec<&[u8]> = vec![b"HPEXPIRETIME", name, b"FIELDS", n.as_bytes()];
            args.extend(k.field_expires.iter().map(|(f, _)| f.as_slice()));
            let got: Vec<i64> = c.cmd(&args).array().iter().map(Resp::int).collect();
            let want: Vec<i64> = k.field_expires.iter().map(|(_, t)| *t).collect();
            if got != want {
                failures.push(format!("{label}: field expiries {got:?}, wrote {want:?}"));
            }
        }
        let pttl = c.cmd(&[b"PTTL", name]).int();
        match k.expire_ms {
            None if pttl != -1 => failures.push(format!("{label}: PTTL {pttl}, wrote no expiry")),
            Some(at) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as i64;
                if (pttl - (at - now)).abs() > 60_000 {
                    failures.push(format!("{label}: PTTL {pttl}, wrote expiry at {at}"));
                }
            }
            _ => {}
        }
    }
}

/// The value of `key` read in the shape of `like`.
fn read_value(c: &mut Client, key: &[u8], like: &Want) -> Want {
    match like {
        Want::String(_) => Want::String(c.cmd(&[b"GET", key]).bytes()),
        Want::List(_) => Want::List(
            c.cmd(&[b"LRANGE", key, b"0", b"-1"])
                .array()
                .iter()
                .map(Resp::bytes)
                .collect(),
        ),
        Want::Set(_) => Want::Set(
            c.cmd(&[b"SMEMBERS", key])
                .array()
                .iter()
                .map(Resp::bytes)
                .collect(),
        ),
        Want::ZSet(_) => Want::ZSet(
            c.cmd(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])
                .array()
                .chunks(2)
                .map(|p| (p[0].bytes(), parse_score(&p[1].text())))
                .collect(),
        ),
        Want::Hash(_) => Want::Hash(
            c.cmd(&[b"HGETALL", key])
                .array()
                .chunks(2)
                .map(|p| (p[0].bytes(), p[1].bytes()))
                .collect(),
        ),
        Want::Stream(like) => {
            let entries = c
                .cmd(&[b"XRANGE", key, b"-", b"+"])
                .array()
                .iter()
                .map(|e| {
                    let e = e.array();
                    let fields = e[1]
                        .array()
                        .chunks(2)
                        .map(|p| (p[0].bytes(), p[1].bytes()))
                        .collect();
                    (e[0].text(), fields)
                })
                .collect();
            let mut groups = Vec::new();
            for g in c.cmd(&[b"XINFO", b"GROUPS", key]).array() {
                let g = g.map();
                let name = g["name"].bytes();
                let pending = c
                    .cmd(&[b"XPENDING", key, &name, b"-", b"+", b"1000"])
                    .array()
                    .iter()
                    .map(|p| {
                        let p = p.array();
                        (p[0].text(), p[1].bytes(), p[3].int() as u64)
                    })
                    .collect();
                let consumers = c
                    .cmd(&[b"XINFO", b"CONSUMERS", key, &name])
                    .array()
                    .iter()
                    .map(|x| {
                        let x = x.map();
                        (x["name"].bytes(), x["pending"].int() as u64)
                    })
                    .collect();
                groups.push(WantGroup {
                    name,
                    last_id: g["last-delivered-id"].text(),
                    pending,
                    consumers,
                });
            }
            let meta = like.meta.as_ref().map(|_| {
                let info = c.cmd(&[b"XINFO", b"STREAM", key]).map();
                (
                    info["entries-added"].int() as u64,
                    info["max-deleted-entry-id"].text(),
                )
            });
            Want::Stream(WantStream {
                entries,
                groups,
                meta,
            })
        }
    }
}

fn parse_score(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("score {s:?} is not a number"))
}

/// Our own reader walks the file to its end with a good checksum and finds
/// every key.
fn our_reader_agrees(bytes: &[u8], keys: &[Key]) {
    let rdb = Rdb::new(bytes).expect("header");
    let mut n = 0;
    let mut checksum = None;
    for r in rdb.records() {
        match r.expect("record") {
            Record::Key(_) => n += 1,
            Record::Eof(e) => checksum = Some(e.checksum),
            _ => {}
        }
    }
    assert_eq!(n, keys.len());
    assert!(
        matches!(checksum, Some(Checksum::Ok(_))),
        "checksum {checksum:?}"
    );
}

/// Loads `bytes` as `dump.rdb` into `bin` and compares every key.
fn load_and_compare(bin: &Path, server: &str, bytes: &[u8], keys: &[Key]) {
    let dir = TempDir::new("write-live");
    std::fs::write(dir.path.join("dump.rdb"), bytes).unwrap();
    let s = RedisServer::start(bin, Some(&dir.path), &[]);
    let mut failures = Vec::new();
    compare(s.port, keys, &mut failures, server);
    if bytes.windows(LIBRARY.len()).any(|w| w == LIBRARY) {
        let got = Client::connect(s.port).cmd(&[b"FCALL", b"answer", b"0"]);
        if got != Resp::Int(42) {
            failures.push(format!("{server}: FCALL answer gave {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} keys differ:\n{}\nserver log:\n{}",
        failures.len(),
        keys.len(),
        failures.join("\n"),
        s.log()
    );
}

/// `*-check-rdb` of `oracle` finds nothing wrong with `bytes`.
fn checker_accepts(oracle: Oracle, test: &str, bytes: &[u8]) {
    let Some(bin) = oracle.check_rdb(test) else {
        return;
    };
    let dir = TempDir::new("write-live-check");
    let path = dir.path.join("written.rdb");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new(&bin)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "{} rejects the file ({}):\n{text}{}",
        bin.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ===========================================================================
// The tests
// ===========================================================================

#[test]
fn redis_7_0_loads_what_we_write() {
    for target in [Target::Rdb9, Target::Rdb10] {
        let (bytes, keys) = dataset(target);
        our_reader_agrees(&bytes, &keys);
        checker_accepts(Oracle::Redis70, "redis_7_0_loads_what_we_write", &bytes);
        let Some(bin) = redis_server("redis_7_0_loads_what_we_write") else {
            return;
        };
        load_and_compare(&bin, &format!("redis 7.0, {target:?}"), &bytes, &keys);
    }
}

#[test]
fn redis_6_2_loads_what_we_write() {
    let (bytes, keys) = dataset(Target::Rdb9);
    our_reader_agrees(&bytes, &keys);
    checker_accepts(Oracle::Redis62, "redis_6_2_loads_what_we_write", &bytes);
    let Some(bin) = Oracle::Redis62.server("redis_6_2_loads_what_we_write") else {
        return;
    };
    load_and_compare(&bin, "redis 6.2, RDB 9", &bytes, &keys);
}

/// A `VALKEY080` file: Valkey's numbering of type 22 (hashes with field
/// expiry times), beside a few types the Valkey header changes nothing
/// about.
fn valkey_dataset() -> (Vec<u8>, Vec<Key>) {
    let mut d = Dataset::new(80);
    let mut rng = Rng(0x7a1c_e700);
    d.select(0, 64, 1);
    strings(&mut d, &mut rng);
    sets(&mut d, &mut rng, Target::Rdb11);
    let later = FAR_FUTURE_MS + 1234;
    let fields: Vec<(Vec<u8>, Vec<u8>, i64)> = (0..20)
        .map(|i| {
            let at = match i % 3 {
                0 => -1,
                1 => FAR_FUTURE_MS,
                _ => later + i,
            };
            (format!("f{i}").into_bytes(), rng.words(i as usize * 9), at)
        })
        .collect();
    let refs: Vec<(&[u8], &[u8], i64)> = fields
        .iter()
        .map(|(f, v, t)| (f.as_slice(), v.as_slice(), *t))
        .collect();
    let v = build(|o| value::valkey_hash2(o, &refs, Strings::REDIS));
    let want = Want::Hash(
        fields
            .iter()
            .map(|(f, v, _)| (f.clone(), v.clone()))
            .collect(),
    );
    d.key(
        "valkey hash with field expiries",
        b"h:ttl",
        HASH_22,
        &v,
        want,
    );
    d.keys.last_mut().unwrap().field_expires =
        fields.iter().map(|(f, _, t)| (f.clone(), *t)).collect();
    d.finish()
}

#[test]
fn valkey_9_1_loads_our_valkey_files() {
    let (bytes, keys) = valkey_dataset();
    assert_eq!(&bytes[..9], b"VALKEY080");
    our_reader_agrees(&bytes, &keys);
    checker_accepts(
        Oracle::Valkey91,
        "valkey_9_1_loads_our_valkey_files",
        &bytes,
    );
    let Some(bin) = Oracle::Valkey91.server("valkey_9_1_loads_our_valkey_files") else {
        return;
    };
    load_and_compare(&bin, "valkey 9.1, VALKEY080", &bytes, &keys);
}

#[test]
fn valkey_9_1_loads_what_we_write() {
    let (bytes, keys) = dataset(Target::Rdb11);
    our_reader_agrees(&bytes, &keys);
    checker_accepts(Oracle::Valkey91, "valkey_9_1_loads_what_we_write", &bytes);
    let Some(bin) = Oracle::Valkey91.server("valkey_9_1_loads_what_we_write") else {
        return;
    };
    load_and_compare(&bin, "valkey 9.1, RDB 11", &bytes, &keys);
}

// ===========================================================================
// Byte for byte: what a server saves is what we write
// ===========================================================================

/// Runs `commands` on a fresh `bin` (no RDB compression, so that blobs are
/// stored plainly), saves, and returns each key's type byte and value
/// bytes as the server wrote them.
fn saved_by(bin: &Path, commands: &[Vec<&[u8]>]) -> BTreeMap<Vec<u8>, (u8, Vec<u8>)> {
    let s = RedisServer::start(bin, None, &[("rdbcompression", "no")]);
    let mut c = Client::connect(s.port);
    for cmd in commands {
        c.cmd(cmd);
    }
    c.cmd(&[b"SAVE"]);
    let bytes = std::fs::read(s.dir().join("dump.rdb")).expect("dump.rdb");
    let rdb = Rdb::new(&bytes).expect("header");
    let mut out = BTreeMap::new();
    for r in rdb.records() {
        if let Record::Key(k) = r.expect("record") {
            let v = k.value;
            out.insert(k.key.to_vec().unwrap(), (v.type_byte(), v.raw().to_vec()));
        }
    }
    out
}

/// The data both sides make, as commands and as what we write; scores
/// are exact binary fractions and values short, so that neither the
/// server's `%.17g` nor its encoding thresholds come into play.
/// Commands, and (key, type byte, value bytes) as we write them.
type Cases = (Vec<Vec<&'static [u8]>>, Vec<(&'static [u8], u8, Vec<u8>)>);

fn byte_exact_cases(rdb9: bool) -> Cases {
    let plain = Strings {
        integers: true,
        compress: false,
    };
    let long: &'static [u8] =
        b"abababababababababababababababababababababababababababababababababababababab";
    let commands: Vec<Vec<&'static [u8]>> = vec![
        vec![b"SET", b"s:int", b"12345"],
        vec![b"SET", b"s:neg", b"-7"],
        vec![b"SET", b"s:wide", b"4294967296"],
        vec![b"SET", b"s:text", b"hello world"],
        vec![b"SET", b"s:long", long],
        vec![
            b"RPUSH",
            b"l",
            b"a",
            b"1",
            b"-2",
            b"300",
            b"70000",
            b"5000000000",
            long,
        ],
        vec![b"SADD", b"si", b"5", b"-3", b"70000", b"5"],
        vec![
            b"HSET",
            b"h",
            b"f1",
            b"v1",
            b"f2",
            b"2",
            b"n",
            b"123456789012",
        ],
        vec![
            b"ZADD", b"z", b"1.5", b"a", b"2", b"b", b"-3", b"c", b"0.25", b"d", b"1024", b"e",
        ],
        vec![b"XADD", b"st", b"1-1", b"a", b"1", b"b", b"x"],
        vec![b"XADD", b"st", b"1-2", b"a", b"2", b"b", b"y"],
        vec![b"XADD", b"st", b"5-0", b"c", b"z"],
        vec![b"XDEL", b"st", b"1-2"],
    ];
    let s = |b: &[u8]| build(|o| rdb_string::encoded(o, b, plain));
    let list_items: [&[u8]; 7] = [b"a", b"1", b"-2", b"300", b"70000", b"5000000000", long];
    let list_elems: Vec<Elem> = list_items.iter().map(|b| stored_form(b)).collect();
    let hash: [&[u8]; 6] = [b"f1", b"v1", b"f2", b"2", b"n", b"123456789012"];
    let hash_elems: Vec<Elem> = hash.iter().map(|b| stored_form(b)).collect();
    let zset: [&[u8]; 10] = [
        b"c", b"-3", b"d", b"0.25", b"a", b"1.5", b"b", b"2", b"e", b"1024",
    ];
    let zset_elems: Vec<Elem> = zset.iter().map(|b| stored_form(b)).collect();
    let blob = |b: &[u8]| build(|o| value::blob(o, b, plain));
    let (list, hash, zset) = if rdb9 {
        let zl = ziplist::to_vec(list_elems.iter().copied()).unwrap();
        (
            (
                LIST_QUICKLIST,
                build(|o| value::quicklist(o, &[&zl], plain)),
            ),
            (
                HASH_ZIPLIST,
                blob(&ziplist::to_vec(hash_elems.iter().copied()).unwrap()),
            ),
            (
                ZSET_ZIPLIST,
                blob(&ziplist::to_vec(zset_elems.iter().copied()).unwrap()),
            ),
        )
    } else {
        let lp = listpack::to_vec(list_elems.iter().copied()).unwrap();
        (
            (
                LIST_QUICKLIST_2,
                build(|o| value::quicklist2(o, &[QuicklistNode::Packed(&lp)], plain)),
            ),
            (
                HASH_LISTPACK,
                blob(&listpack::to_vec(hash_elems.iter().copied()).unwrap()),
            ),
            (
                ZSET_LISTPACK,
                blob(&listpack::to_vec(zset_elems.iter().copied()).unwrap()),
            ),
        )
    };
    let entries = [
        Entry {
            id: sid(1, 1),
            fields: vec![(b"a", b"1"), (b"b", b"x")],
            deleted: false,
        },
        Entry {
            id: sid(1, 2),
            fields: vec![(b"a", b"2"), (b"b", b"y")],
            deleted: true,
        },
        Entry {
            id: sid(5, 0),
            fields: vec![(b"c", b"z")],
            deleted: false,
        },
    ];
    let st = Stream {
        nodes: vec![Node::of(&entries).unwrap()],
        length: 2,
        last_id: sid(5, 0),
        first_id: sid(1, 1),
        max_deleted_id: sid(1, 2),
        entries_added: 3,
        ..Stream::default()
    };
    let version = if rdb9 { 1 } else { 2 };
    let want = vec![
        (&b"s:int"[..], STRING, s(b"12345")),
        (b"s:neg", STRING, s(b"-7")),
        (b"s:wide", STRING, s(b"4294967296")),
        (b"s:text", STRING, s(b"hello world")),
        (b"s:long", STRING, s(long)),
        (b"l", list.0, list.1),
        (
            b"si",
            SET_INTSET,
            blob(&build(|o| intset::intset(o, &[5, -3, 70_000]).unwrap())),
        ),
        (b"h", hash.0, hash.1),
        (b"z", zset.0, zset.1),
        (
            b"st",
            stream::type_byte(version).unwrap(),
            build(|o| stream::stream(o, version, &st, plain).unwrap()),
        ),
    ];
    (commands, want)
}

fn assert_saved_as_written(bin: &Path, server: &str, rdb9: bool) {
    let (commands, want) = byte_exact_cases(rdb9);
    let saved = saved_by(bin, &commands);
    let mut failures = Vec::new();
    for (key, t, bytes) in &want {
        let name = String::from_utf8_lossy(key);
        match saved.get(*key) {
            None => failures.push(format!("{server}: {name} not saved")),
            Some((st, sb)) if (st, sb) != (t, bytes) => failures.push(format!(
                "{server}: {name}\n  saved:   type {st} {sb:02x?}\n  written: type {t} {bytes:02x?}"
            )),
            Some(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn redis_7_0_saves_what_we_write_byte_for_byte() {
    let Some(bin) = redis_server("redis_7_0_saves_what_we_write_byte_for_byte") else {
        return;
    };
    assert_saved_as_written(&bin, "redis 7.0", false);
}

#[test]
fn redis_6_2_saves_what_we_write_byte_for_byte() {
    let Some(bin) = Oracle::Redis62.server("redis_6_2_saves_what_we_write_byte_for_byte") else {
        return;
    };
    assert_saved_as_written(&bin, "redis 6.2", true);
}

/// `write::object` picks the encodings and quicklist node cuts the server
/// does: the same collections pushed into Redis 7.0 (RDB 10) and 6.2
/// (RDB 9) and saved come out as the writer writes them, byte for byte
/// where the server's order is deterministic, else by type byte.
fn assert_objects_saved_as_written(bin: &Path, server: &str, version: u32) {
    use rdbscope_rdb::write::object::{self, Config};
    let cfg = Config::default();
    let plain = Strings {
        integers: true,
        compress: false,
    };
    let mut rng = Rng(0x0b1e_c7ed);
    // A long list of mixed sizes: many quicklist nodes.
    let list: Vec<Vec<u8>> = (0..3000)
        .map(|i| match rng.next() % 5 {
            0 => (rng.next() % 100_000).to_string().into_bytes(),
            1 => {
                let n = (rng.next() % 300) as usize;
                rng.words(n)
            }
            2 => {
                let n = 1 + (rng.next() % 10) as usize;
                rng.words(n)
            }
            3 => format!("item:{i}").into_bytes(),
            _ => {
                let n = 60 + (rng.next() % 10) as usize;
                rng.words(n)
            }
        })
        .collect();
    let small_set: Vec<Vec<u8>> = [3i64, -1, 40_000, 1 << 40]
        .iter()
        .map(|v| v.to_string().into_bytes())
        .collect();
    let big_ints: Vec<Vec<u8>> = (0..600).map(|i| (i * 7).to_string().into_bytes()).collect();
    let words: Vec<Vec<u8>> = (0..20).map(|i| format!("w{i}").into_bytes()).collect();
    let hash_small: Vec<(Vec<u8>, Vec<u8>)> = (0..20)
        .map(|i| (format!("f{i}").into_bytes(), rng.words(i * 3)))
        .collect();
    let hash_long: Vec<(Vec<u8>, Vec<u8>)> = vec![(b"f".to_vec(), rng.words(65))];
    let zset_small: Vec<(Vec<u8>, f64)> = (0..30)
        .map(|i| {
            (
                format!("m{}", i % 7).into_bytes(),
                f64::from(i % 5) * 0.5 - 1.0,
            )
        })
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let zset_big: Vec<(Vec<u8>, f64)> = (0..200)
        .map(|i| (format!("member-{i}").into_bytes(), f64::from(i % 17) * 0.25))
        .collect();

    let mut commands: Vec<Vec<Vec<u8>>> = Vec::new();
    let cmd = |name: &str, key: &str, args: Vec<Vec<u8>>| {
        let mut c = vec![name.as_bytes().to_vec(), key.as_bytes().to_vec()];
        c.extend(args);
        c
    };
    // RPUSH one at a time, as the node cuts assume.
    for item in &list {
        commands.push(cmd("RPUSH", "list", vec![item.clone()]));
    }
    commands.push(cmd("SADD", "set:small", small_set.clone()));
    commands.push(cmd("SADD", "set:big", big_ints.clone()));
    commands.push(cmd("SADD", "set:words", words.clone()));
    let flat = |pairs: &[(Vec<u8>, Vec<u8>)]| -> Vec<Vec<u8>> {
        pairs
            .iter()
            .flat_map(|(f, v)| [f.clone(), v.clone()])
            .collect()
    };
    commands.push(cmd("HSET", "hash:small", flat(&hash_small)));
    commands.push(cmd("HSET", "hash:long", flat(&hash_long)));
    let zflat = |m: &[(Vec<u8>, f64)]| -> Vec<Vec<u8>> {
        m.iter()
            .flat_map(|(m, s)| [format!("{s}").into_bytes(), m.clone()])
            .collect()
    };
    commands.push(cmd("ZADD", "zset:small", zflat(&zset_small)));
    commands.push(cmd("ZADD", "zset:big", zflat(&zset_big)));
    let as_refs: Vec<Vec<&[u8]>> = commands
        .iter()
        .map(|c| c.iter().map(Vec::as_slice).collect())
        .collect();
    let saved = saved_by(bin, &as_refs);

    let mut ours: Vec<(&str, u8, Vec<u8>, bool)> = Vec::new();
    let mut put = |key, f: &mut dyn FnMut(&mut Vec<u8>) -> u8, exact| {
        let mut v = Vec::new();
        let t = f(&mut v);
        ours.push((key, t, v, exact));
    };
    put(
        "list",
        &mut |o| object::list(o, version, &refs(&list), &cfg, plain).unwrap(),
        true,
    );
    put(
        "set:small",
        &mut |o| object::set(o, version, &refs(&small_set), &cfg, plain).unwrap(),
        true,
    );
    put(
        "set:big",
        &mut |o| object::set(o, version, &refs(&big_ints), &cfg, plain).unwrap(),
        false,
    );
    put(
        "set:words",
        &mut |o| object::set(o, version, &refs(&words), &cfg, plain).unwrap(),
        false,
    );
    put(
        "hash:small",
        &mut |o| object::hash(o, version, &pair_refs(&hash_small), &cfg, plain).unwrap(),
        true,
    );
    put(
        "hash:long",
        &mut |o| object::hash(o, version, &pair_refs(&hash_long), &cfg, plain).unwrap(),
        false,
    );
    put(
        "zset:small",
        &mut |o| object::zset(o, version, &zrefs(&zset_small), &cfg, plain).unwrap(),
        true,
    );
    put(
        "zset:big",
        &mut |o| object::zset(o, version, &zrefs(&zset_big), &cfg, plain).unwrap(),
        true,
    );

    let mut failures = Vec::new();
    for (key, t, bytes, exact) in &ours {
        let Some((st, sb)) = saved.get(key.as_bytes()) else {
            failures.push(format!("{server}: {key} not saved"));
            continue;
        };
        if st != t {
            failures.push(format!(
                "{server}: {key}: saved as type {st}, written as {t}"
            ));
        } else if *exact && sb != bytes {
            let at = sb.iter().zip(bytes).position(|(a, b)| a != b);
            failures.push(format!(
                "{server}: {key}: {} bytes saved, {} written, first difference at {at:?}",
                sb.len(),
                bytes.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn redis_7_0_gives_collections_the_encodings_we_pick() {
    let Some(bin) = redis_server("redis_7_0_gives_collections_the_encodings_we_pick") else {
        return;
    };
    assert_objects_saved_as_written(&bin, "redis 7.0", 10);
}

#[test]
fn redis_6_2_gives_collections_the_encodings_we_pick() {
    let Some(bin) = Oracle::Redis62.server("redis_6_2_gives_collections_the_encodings_we_pick")
    else {
        return;
    };
    assert_objects_saved_as_written(&bin, "redis 6.2", 9);
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

fn pair_refs(v: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
    v.iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect()
}

fn zrefs(v: &[(Vec<u8>, f64)]) -> Vec<(&[u8], f64)> {
    v.iter().map(|(a, b)| (a.as_slice(), *b)).collect()
}

#[test]
fn valkey_9_1_gives_collections_the_encodings_we_pick() {
    let Some(bin) = Oracle::Valkey91.server("valkey_9_1_gives_collections_the_encodings_we_pick")
    else {
        return;
    };
    assert_objects_saved_as_written(&bin, "valkey 9.1", 11);
}
