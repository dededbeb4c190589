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

/// An order-free collection: the sum of its elements' mixed hashes, and
/// their count.
#[derive(Clone, Copy, Default)]
struct Bag {
    sum: u64,
    n: u64,
}

impl Bag {
    #[inline]
    fn add(&mut self, x: u64) {
        self.sum = self.sum.wrapping_add(mix(x));
        self.n += 1;
    }
    fn finish(self, tag: u64) -> u64 {
        mix(self.sum ^ mix(self.n ^ tag))
    }
}

#[inline]
fn member(e: &Elem<'_>) -> u64 {
    h_elem(e) ^ 0x5e7
}

#[inline]
fn scored(e: &Elem<'_>, score: f64) -> u64 {
    h_elem(e) ^ mix(score.to_bits() ^ 0x2e7)
}

#[inline]
fn field(f: &Elem<'_>, v: &Elem<'_>, ttl: Option<i64>, opts: &PrintOptions) -> u64 {
    let ttl = if opts.ignore_ttl { None } else { ttl };
    let t = ttl.map_or(0x7711, |t| mix(t as u64 ^ 0x77));
    h_elem(f) ^ mix(h_elem(v) ^ t).rotate_left(17)
}

fn list<M: Members>(m: &mut M) -> rdbscope_rdb::Result<u64> {
    let mut s = Seq::new(tag::LIST);
    while let Some(e) = m.next_member()? {
        s.add(h_elem(&e));
    }
    Ok(s.0)
}

fn set<M: Members>(m: &mut M) -> rdbscope_rdb::Result<u64> {
    let mut b = Bag::default();
    while let Some(e) = m.next_member()? {
        b.add(member(&e));
    }
    Ok(b.finish(tag::SET))
}

fn zset<S: Scored>(m: &mut S) -> rdbscope_rdb::Result<u64> {
    let mut b = Bag::default();
    while let Some((e, score)) = m.next_scored()? {
        b.add(scored(&e, score.value()));
    }
    Ok(b.finish(tag::ZSET))
}

fn hash<F: Fields>(m: &mut F, opts: &PrintOptions) -> rdbscope_rdb::Result<u64> {
    let mut b = Bag::default();
    while let Some((f, v, ttl)) = m.next_field()? {
        b.add(field(&f, &v, ttl, opts));
    }
    Ok(b.finish(tag::HASH))
}

fn id(s: &mut Seq, id: rdbscope_rdb::StreamId) {
    s.add(mix(id.ms ^ 0x1d));
    s.add(mix(id.seq ^ 0x2d));
}

/// A stream's print. A PEL entry's owner is not hashed with the entry: the
/// consumers' own pending lists, hashed after, say who owns what.
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

/// [`stream`] over a stream read from a file, without building it.
fn record_stream(
    st: &rdbscope_rdb::Stream<'_>,
    sc: &mut Scratch,
    buf: &mut Vec<u8>,
) -> rdbscope_rdb::Result<u64> {
    let mut s = Seq::new(tag::STREAM);
    st.for_each_entry(sc, |e| {
        id(&mut s, e.id);
        let fields = e.fields();
        s.add(fields.len());
        for p in fields {
            let (f, v) = p?;
            s.add(h_elem(&f));
            s.add(h_elem(&v));
        }
        Ok::<_, rdbscope_rdb::Error>(())
    })?;
    id(&mut s, st.meta().last_id);
    s.add(st.group_count());
    for g in st.groups() {
        let g = g?;
        s.add(h(g.name.bytes(buf)?));
        id(&mut s, g.last_id);
        s.add(g.pel_count());
        for p in g.pel() {
            let p = p?;
            id(&mut s, p.id);
            s.add(p.delivery_time_ms as u64);
            s.add(p.delivery_count);
        }
        s.add(g.consumer_count());
        for c in g.consumers() {
            let c = c?;
            s.add(h(c.name.bytes(buf)?));
            s.add(c.seen_time_ms as u64);
            s.add(c.pel_count());
            for p in c.pel() {
                id(&mut s, p);
            }
        }
    }
    Ok(s.0)
}

fn owned_value(v: &OwnedValue, opts: &PrintOptions) -> rdbscope_rdb::Result<u64> {
    Ok(match v {
        OwnedValue::String(b) => mix(h(b) ^ tag::STRING),
        OwnedValue::List(p) => list(&mut p.cursor())?,
        OwnedValue::Set(p) => set(&mut p.cursor())?,
        OwnedValue::Zset(z) => zset(&mut z.cursor())?,
        OwnedValue::Hash(hh) => hash(&mut hh.cursor(), opts)?,
        OwnedValue::Stream(st) => stream(st),
        OwnedValue::Module(m) => module(m.name.as_bytes(), m.encver, &m.raw),
    })
}

fn module(name: &[u8], encver: u32, raw: &[u8]) -> u64 {
    let mut s = Seq::new(tag::MODULE);
    s.add(h(name));
    s.add(u64::from(encver));
    s.add(h(raw));
    s.0
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
/// [`owned_print`] gives for its owned form, computed on the encoded value
/// with the decoder's tuned push walks, without building it.
pub fn record_print(
    k: &KeyRecord<'_>,
    s: &mut Scratch,
    buf: &mut Vec<u8>,
    opts: &PrintOptions,
) -> rdbscope_rdb::Result<u64> {
    let v = match k.value.typed() {
        Typed::String(v) => mix(h(v.string()?.bytes(buf)?) ^ tag::STRING),
        Typed::List(_) => {
            let mut q = Seq::new(tag::LIST);
            k.value.for_each_member(s, |e| {
                q.add(h_elem(&e));
                Ok::<_, rdbscope_rdb::Error>(())
            })?;
            q.0
        }
        Typed::Set(_) => {
            let mut b = Bag::default();
            k.value.for_each_member(s, |e| {
                b.add(member(&e));
                Ok::<_, rdbscope_rdb::Error>(())
            })?;
            b.finish(tag::SET)
        }
        Typed::Zset(_) => {
            let mut b = Bag::default();
            k.value.for_each_scored(s, |e, score| {
                b.add(scored(&e, score.value()));
                Ok::<_, rdbscope_rdb::Error>(())
            })?;
            b.finish(tag::ZSET)
        }
        Typed::Hash(_) => {
            let mut b = Bag::default();
            k.value.for_each_field(s, |f, v, ttl| {
                b.add(field(&f, &v, ttl, opts));
                Ok::<_, rdbscope_rdb::Error>(())
            })?;
            b.finish(tag::HASH)
        }
        Typed::Stream(v) => record_stream(&v.stream()?, s, buf)?,
        Typed::Module(v) => {
            let m = v.module()?;
            module(m.id.name().as_bytes(), m.id.encver(), m.raw)
        }
    };
    Ok(with_expire(v, k.expire_at_ms, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The borrowed and the owned prints agree on every corpus value.
    #[test]
    fn record_and_owned_prints_agree() {
        let Some(corpus) = std::env::var_os("RDBSCOPE_CORPUS")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                Some(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
                )
            })
            .filter(|p| p.join("rdb").is_dir())
        else {
            return;
        };
        let mut n = 0;
        for server in std::fs::read_dir(corpus.join("rdb")).unwrap() {
            for f in std::fs::read_dir(server.unwrap().path()).unwrap() {
                let p = f.unwrap().path();
                if p.extension().is_none_or(|e| e != "rdb") {
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap();
                let rdb = rdbscope_rdb::Rdb::new(&bytes).unwrap();
                let (mut s, mut buf) = (Scratch::new(), Vec::new());
                for r in rdb.records() {
                    if let rdbscope_rdb::Record::Key(k) = r.unwrap() {
                        for opts in [
                            PrintOptions { ignore_ttl: false },
                            PrintOptions { ignore_ttl: true },
                        ] {
                            let a = record_print(&k, &mut s, &mut buf, &opts).unwrap();
                            let o = k.to_owned(&mut s).unwrap();
                            assert_eq!(
                                a,
                                owned_print(&o, &opts).unwrap(),
                                "{} {:?}",
                                p.display(),
                                o.key
                            );
                        }
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 2000);
    }
}
