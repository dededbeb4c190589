//! Fingerprints of our own, for `diff`: 64 bits per key name and 64 bits
//! per value, so that two inputs can be compared by index first and only
//! the keys whose prints differ are decoded again and compared in full.
//!
//! Redis's digest is not enough for this: it ignores TTL values, field TTL
//! values and stream groups, which a diff must report. A value print
//! covers: the type; the expire time (unless TTLs are ignored); a string's
//! bytes; a list's elements in order; a set's members, a zset's (member,
//! score) pairs and a hash's (field, value, field TTL) triples in any
//! order; a stream's entries, last ID and groups (last delivered ID, PEL
//! with owner, delivery time and count, consumers with seen time and
//! owned IDs); a module value's type and bytes. It does not cover the
//! encoding (a change of encoding alone is no change), LRU/LFU hints, or
//! what only some RDB versions record (a stream's first ID, max deleted
//! ID and entries-added counter, a group's entries-read, a consumer's
//! active time): those are compared, when both sides have them, only for
//! keys whose prints differ. Elements are hashed in their string form, so
//! an integer-encoded `5` and the string `"5"` are the same.
//!
//! The hash is XXH3-64; set-like collections sum the mixed hashes of their
//! elements (order-free), sequences chain them (order-bound).

use rdbscope_rdb::owned::{Fields, Members, Scored};
use rdbscope_rdb::rdb_string::int_text;
use rdbscope_rdb::view::Typed;
use rdbscope_rdb::{Elem, KeyRecord, OwnedKey, OwnedValue, Scratch};
use twox_hash::XxHash3_64;

/// What a print covers beyond the data.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrintOptions {
    /// Leave key and field TTLs out.
    pub ignore_ttl: bool,
}

/// splitmix64's finalizer: a strong 64-bit mix.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn h(b: &[u8]) -> u64 {
    XxHash3_64::oneshot(b)
}

#[inline]
fn h_elem(e: &Elem<'_>) -> u64 {
    match *e {
        Elem::Str(s) => h(s),
        Elem::Int(v) => h(int_text(v, &mut [0u8; 20])),
    }
}

/// An order-bound chain.
#[derive(Clone, Copy)]
struct Seq(u64);

impl Seq {
    fn new(tag: u64) -> Seq {
        Seq(mix(tag))
    }
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = mix(self.0.rotate_left(23) ^ x);
    }
}

/// The print of a key's name in its database.
pub fn key_print(db: u64, key: &[u8]) -> u64 {
    mix(XxHash3_64::oneshot_with_seed(db, key) ^ db.rotate_left(40))
}

/// Type tags, so that equal contents of different types differ.
mod tag {
    pub const STRING: u64 = 1;
    pub const LIST: u64 = 2;
    pub const SET: u64 = 3;
    pub const ZSET: u64 = 4;
    pub const HASH: u64 = 5;
    pub const STREAM: u64 = 6;
    pub const MODULE: u64 = 7;
}

fn list<M: Members>(m: &mut M) -> rdbscope_rdb::Result<u64> {
    let mut s = Seq::new(tag::LIST);
    while let Some(e) = m.next_member()? {
        s.add(h_elem(&e));
    }
    Ok(s.0)
}

fn set<M: Members>(m: &mut M) -> rdbscope_rdb::Result<u64> {
    let (mut sum, mut n) = (0u64, 0u64);
    while let Some(e) = m.next_member()? {
        sum = sum.wrapping_add(mix(h_elem(&e) ^ 0x5e7));
        n += 1;
    }
    Ok(mix(sum ^ mix(n ^ tag::SET)))
}

fn zset<S: Scored>(m: &mut S) -> rdbscope_rdb::Result<u64> {
    let (mut sum, mut n) = (0u64, 0u64);
    while let Some((e, score)) = m.next_scored()? {
        let bits = score.value().to_bits();
        sum = sum.wrapping_add(mix(h_elem(&e) ^ mix(bits ^ 0x2e7)));
        n += 1;
    }
    Ok(mix(sum ^ mix(n ^ tag::ZSET)))
}

fn hash<F: Fields>(m: &mut F, opts: &PrintOptions) -> rdbscope_rdb::Result<u64> {
    let (mut sum, mut n) = (0u64, 0u64);
    while let Some((f, v, ttl)) = m.next_field()? {
        let ttl = if opts.ignore_ttl { None } else { ttl };
        let t = ttl.map_or(0x7711, |t| mix(t as u64 ^ 0x77));
        sum = sum.wrapping_add(mix(h_elem(&f) ^ mix(h_elem(&v) ^ t).rotate_left(17)));
        n += 1;
    }
    Ok(mix(sum ^ mix(n ^ tag::HASH)))
}

fn id(s: &mut Seq, id: rdbscope_rdb::StreamId) {
    s.add(mix(id.ms ^ 0x1d));
    s.add(mix(id.seq ^ 0x2d));
}

fn stream(st: &rdbscope_rdb::owned::OwnedStream) -> u64 {
    let mut s = Seq::new(tag::STREAM);
    let mut fields = st.fields.cursor();
    for e in &st.entries {
        id(&mut s, e.id);
        s.add(u64::from(e.fields));
        for _ in 0..e.fields * 2 {
            s.add(fields.next().map_or(0, h));
        }
    }
    id(&mut s, st.last_id);
    s.add(st.groups.len() as u64);
    for g in &st.groups {
        s.add(h(&g.name));
        id(&mut s, g.last_delivered_id);
        s.add(g.pending.len() as u64);
        for p in &g.pending {
            id(&mut s, p.id);
            s.add(p.consumer.as_deref().map_or(1, h));
            s.add(p.delivery_time_ms as u64);
            s.add(p.delivery_count);
        }
        s.add(g.consumers.len() as u64);
        for c in &g.consumers {
            s.add(h(&c.name));
            s.add(c.seen_time_ms as u64);
            s.add(c.pending.len() as u64);
            for p in &c.pending {
                id(&mut s, *p);
            }
        }
    }
    s.0
}

fn owned_value(v: &OwnedValue, opts: &PrintOptions) -> rdbscope_rdb::Result<u64> {
    Ok(match v {
        OwnedValue::String(b) => mix(h(b) ^ tag::STRING),
        OwnedValue::List(p) => list(&mut p.cursor())?,
        OwnedValue::Set(p) => set(&mut p.cursor())?,
        OwnedValue::Zset(z) => zset(&mut z.cursor())?,
        OwnedValue::Hash(hh) => hash(&mut hh.cursor(), opts)?,
        OwnedValue::Stream(st) => stream(st),
        OwnedValue::Module(m) => {
            let mut s = Seq::new(tag::MODULE);
            s.add(h(m.name.as_bytes()));
            s.add(u64::from(m.encver));
            s.add(h(&m.raw));
            s.0
        }
    })
}

fn with_expire(v: u64, expire: Option<i64>, opts: &PrintOptions) -> u64 {
    match expire {
        Some(t) if !opts.ignore_ttl => mix(v ^ mix(t as u64 ^ 0xe1)),
        _ => v,
    }
}

/// The print of an owned key's value (and expire).
pub fn owned_print(k: &OwnedKey, opts: &PrintOptions) -> rdbscope_rdb::Result<u64> {
    Ok(with_expire(
        owned_value(&k.value, opts)?,
        k.expire_at_ms,
        opts,
    ))
}

/// The print of a key read from a file: the same number as
/// [`owned_print`] gives for its owned form, computed on the encoded
/// value without building it (streams and modules excepted).
pub fn record_print(
    k: &KeyRecord<'_>,
    s: &mut Scratch,
    buf: &mut Vec<u8>,
    opts: &PrintOptions,
) -> rdbscope_rdb::Result<u64> {
    let v = match k.value.typed() {
        Typed::String(v) => mix(h(v.string()?.bytes(buf)?) ^ tag::STRING),
        Typed::List(v) => list(&mut v.cursor(s)?)?,
        Typed::Set(v) => set(&mut v.cursor(s)?)?,
        Typed::Zset(v) => zset(&mut v.cursor(s)?)?,
        Typed::Hash(v) => hash(&mut v.cursor(s)?, opts)?,
        Typed::Stream(_) | Typed::Module(_) => owned_value(&k.value.to_owned(s)?, opts)?,
    };
    Ok(with_expire(v, k.expire_at_ms, opts))
}
