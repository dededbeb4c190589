//! The values replay holds: compact while small, indexed once big.
//!
//! Replay is the one command that holds a whole dataset, so its values
//! must stay about as small as the server's own. A small collection is the
//! owned form's packed buffer ([`Packed`], [`OwnedZset`], [`OwnedHash`]):
//! its bytes plus a length byte per element, close to a server listpack.
//! An operation on it rebuilds the buffer, which is linear in its size,
//! as the server's listpack operations are. Past [`SMALL_MAX`] elements a
//! collection moves to an indexed form (hash set, hash map, score-ordered
//! tree), so a long AOF of `SADD`s into one big set stays linear overall.
//! It never moves back: which form holds a value changes nothing a
//! command or an output can see (`OBJECT ENCODING` is the writer's to
//! choose, from the target server's thresholds).

use crate::hasher::{Map, Set as HSet};
use crate::stream::XStream;
use rdbscope_rdb::owned::{OwnedHash, OwnedModule, OwnedZset, Packed};
use rdbscope_rdb::{Elem, OwnedValue};
use std::collections::{BTreeSet, VecDeque};

/// Elements a collection holds in its packed form (a sorted set: as the
/// server's listpack, `zset-max-listpack-entries`).
pub const SMALL_MAX: usize = 128;

/// The longest member a sorted set keeps packed (`zset-max-listpack-value`):
/// a longer one turns it into the indexed form, as it turns the server's
/// listpack into a skiplist.
pub const ZSET_SMALL_VALUE: usize = 64;

/// Bytes, owned and exactly sized.
pub type Bytes = Box<[u8]>;

/// Bytes a short string keeps inline ([`Val::Short`]).
pub const SHORT: usize = 46;

/// A value of the replayed dataset.
#[derive(Debug, Clone)]
pub enum Val {
    /// A string.
    Str(Vec<u8>),
    /// A string of up to [`SHORT`] bytes, inline: (length, bytes). Most
    /// values of a keyspace of strings are this short; keeping them in the
    /// entry spares an allocation each. Commands that change a string in
    /// place make it a [`Val::Str`] first (`Ctx::string`).
    Short(u8, [u8; SHORT]),
    /// A list.
    List(List),
    /// A set.
    Set(Set),
    /// A sorted set.
    Zset(Zset),
    /// A hash.
    Hash(Hash),
    /// A stream.
    Stream(Box<XStream>),
    /// A module value, carried as its payload.
    Module(Box<OwnedModule>),
}

impl Val {
    /// A string value holding `b`: inline when short.
    pub fn string(b: &[u8]) -> Val {
        if b.len() <= SHORT {
            let mut buf = [0u8; SHORT];
            buf[..b.len()].copy_from_slice(b);
            Val::Short(b.len() as u8, buf)
        } else {
            Val::Str(b.to_vec())
        }
    }

    /// A string value of `v`'s bytes.
    pub fn from_vec(v: Vec<u8>) -> Val {
        if v.len() <= SHORT {
            Val::string(&v)
        } else {
            Val::Str(v)
        }
    }

    /// The type's name as `TYPE` gives it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) | Val::Short(..) => "string",
            Val::List(_) => "list",
            Val::Set(_) => "set",
            Val::Zset(_) => "zset",
            Val::Hash(_) => "hash",
            Val::Stream(_) => "stream",
            Val::Module(_) => "module",
        }
    }

    /// Whether this is a collection left with no element (the server
    /// deletes such keys; a stream stays).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Val::List(l) => l.is_empty(),
            Val::Set(s) => s.is_empty(),
            Val::Zset(z) => z.is_empty(),
            Val::Hash(h) => h.is_empty(),
            Val::Str(_) | Val::Short(..) | Val::Stream(_) | Val::Module(_) => false,
        }
    }

    /// From the owned form (an RDB base or preamble, a RESTORE payload).
    pub fn from_owned(v: OwnedValue) -> Val {
        match v {
            OwnedValue::String(s) => Val::from_vec(s.into_vec()),
            OwnedValue::List(p) => {
                let mut l = List::default();
                let mut c = p.cursor();
                while let Some(e) = c.next() {
                    l.push_back(e);
                }
                l
            }
            .into(),
            OwnedValue::Set(p) => {
                let mut s = Set::default();
                let mut c = p.cursor();
                let mut items = Vec::new();
                while let Some(e) = c.next() {
                    items.push(e);
                }
                s.add_all(&items);
                Val::Set(s)
            }
            OwnedValue::Zset(z) => {
                let mut out = Zset::default();
                for (m, score) in z.iter() {
                    out.insert(m, score);
                }
                Val::Zset(out)
            }
            OwnedValue::Hash(h) => {
                let mut out = Hash::default();
                for (f, v, t) in h.iter() {
                    out.set(f, v, t);
                }
                Val::Hash(out)
            }
            OwnedValue::Stream(s) => Val::Stream(Box::new(XStream::from_owned(*s))),
            OwnedValue::Module(m) => Val::Module(m),
        }
    }

    /// To the owned form, for the writers and the digest, as a server of
    /// `version` holds it (see `XStream::into_owned`).
    pub fn to_owned_value(&self, version: Option<(u32, u32)>) -> OwnedValue {
        match self {
            Val::Str(s) => OwnedValue::String(s.clone().into_boxed_slice()),
            Val::Short(n, b) => OwnedValue::String(b[..*n as usize].into()),
            Val::List(l) => OwnedValue::List(l.packed()),
            Val::Set(s) => OwnedValue::Set(s.packed()),
            Val::Zset(z) => OwnedValue::Zset(z.owned()),
            Val::Hash(h) => OwnedValue::Hash(h.owned()),
            Val::Stream(s) => OwnedValue::Stream(s.as_ref().clone().into_owned(version)),
            Val::Module(m) => OwnedValue::Module(m.clone()),
        }
    }

    /// Gives back the slack a packed buffer keeps after growing by
    /// appends (see `Packed::trim`); called after the commands that build
    /// collections up, so a dataset costs about its bytes.
    pub fn trim(&mut self) {
        match self {
            Val::List(List::Small(p)) | Val::Set(Set::Small(p)) => p.trim(),
            Val::Zset(Zset::Small(z)) => z.trim(),
            Val::Hash(Hash::Small(h)) => h.trim(),
            Val::Stream(s) => s.trim(),
            _ => {}
        }
    }

    /// To the owned form, consuming the value (no copy of what is already
    /// in that form).
    pub fn into_owned_value(self, version: Option<(u32, u32)>) -> OwnedValue {
        match self {
            Val::Str(s) => OwnedValue::String(s.into_boxed_slice()),
            Val::Short(n, b) => OwnedValue::String(b[..n as usize].into()),
            Val::List(List::Small(p)) => OwnedValue::List(p),
            Val::Set(Set::Small(p)) => OwnedValue::Set(p),
            Val::Zset(Zset::Small(z)) => OwnedValue::Zset(z),
            Val::Hash(Hash::Small(h)) => OwnedValue::Hash(h),
            Val::Stream(s) => OwnedValue::Stream(s.into_owned(version)),
            Val::Module(m) => OwnedValue::Module(m),
            other => other.to_owned_value(version),
        }
    }

    /// An `OBJECT ENCODING` name for the owned record (writers choose their
    /// own from the target's thresholds; this is a hint).
    pub fn encoding_hint(&self) -> &'static str {
        match self {
            Val::Str(_) => "raw",
            Val::Short(n, b) => {
                // The names a dump uses (an RDB has no embstr).
                if crate::args::parse_int(&b[..*n as usize]).is_some() {
                    "int"
                } else {
                    "raw"
                }
            }
            Val::List(_) => "quicklist",
            Val::Set(Set::Small(_)) => "listpack",
            Val::Set(Set::Big(_)) => "hashtable",
            Val::Zset(Zset::Small(_)) => "listpack",
            Val::Zset(Zset::Big(_)) => "skiplist",
            Val::Hash(Hash::Small(_)) => "listpack",
            Val::Hash(Hash::Big(_)) => "hashtable",
            Val::Stream(_) => "stream",
            Val::Module(_) => "module",
        }
    }
}

impl From<List> for Val {
    fn from(l: List) -> Val {
        Val::List(l)
    }
}

fn packed_items(p: &Packed) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(p.len() as usize);
    let mut c = p.cursor();
    while let Some(e) = c.next() {
        out.push(e);
    }
    out
}

fn pack<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Packed {
    let mut p = Packed::new();
    for i in items {
        p.push(i);
    }
    p
}

/// A list, head first.
#[derive(Debug, Clone)]
pub enum List {
    /// Packed.
    Small(Packed),
    /// A deque of owned elements (boxed: a small value's size is what
    /// every key slot pays).
    Big(Box<VecDeque<Bytes>>),
}

impl Default for List {
    fn default() -> List {
        List::Small(Packed::new())
    }
}

impl List {
    /// Elements.
    pub fn len(&self) -> usize {
        match self {
            List::Small(p) => p.len() as usize,
            List::Big(d) => d.len(),
        }
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn grow(&mut self) {
        if let List::Small(p) = self {
            if p.len() as usize >= SMALL_MAX {
                let d = packed_items(p).into_iter().map(Bytes::from).collect();
                *self = List::Big(Box::new(d));
            }
        }
    }

    /// RPUSH one.
    pub fn push_back(&mut self, v: &[u8]) {
        self.grow();
        match self {
            List::Small(p) => p.push(v),
            List::Big(d) => d.push_back(v.into()),
        }
    }

    /// LPUSH one.
    pub fn push_front(&mut self, v: &[u8]) {
        self.grow();
        match self {
            List::Small(p) => {
                let old = std::mem::take(p);
                let mut n = Packed::new();
                n.push(v);
                let mut c = old.cursor();
                while let Some(e) = c.next() {
                    n.push(e);
                }
                *p = n;
            }
            List::Big(d) => d.push_front(v.into()),
        }
    }

    /// The elements, head first, owned (for operations that rearrange).
    pub fn to_vec(&self) -> Vec<Bytes> {
        match self {
            List::Small(p) => packed_items(p).into_iter().map(Bytes::from).collect(),
            List::Big(d) => d.iter().cloned().collect(),
        }
    }

    /// Borrowed elements, head first.
    pub fn items(&self) -> Vec<&[u8]> {
        match self {
            List::Small(p) => packed_items(p),
            List::Big(d) => d.iter().map(|b| &b[..]).collect(),
        }
    }

    /// The element at `i` (0-based from the head).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            List::Small(p) => {
                let mut c = p.cursor();
                for _ in 0..i {
                    c.next()?;
                }
                c.next()
            }
            List::Big(d) => d.get(i).map(|b| &b[..]),
        }
    }

    /// Applies `f` to the elements as a deque and keeps the result in the
    /// form its size calls for.
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut VecDeque<Bytes>) -> R) -> R {
        let mut d: VecDeque<Bytes> = match std::mem::take(self) {
            List::Small(p) => packed_items(&p).into_iter().map(Bytes::from).collect(),
            List::Big(d) => *d,
        };
        let r = f(&mut d);
        *self = if d.len() <= SMALL_MAX {
            List::Small(pack(d.iter().map(|b| &b[..])))
        } else {
            List::Big(Box::new(d))
        };
        r
    }

    /// Removes and returns the head.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        match self {
            List::Big(d) => d.pop_front(),
            List::Small(_) => self.edit(|d| d.pop_front()),
        }
    }

    /// Removes and returns the tail.
    pub fn pop_back(&mut self) -> Option<Bytes> {
        match self {
            List::Big(d) => d.pop_back(),
            List::Small(_) => self.edit(|d| d.pop_back()),
        }
    }

    fn packed(&self) -> Packed {
        match self {
            List::Small(p) => p.clone(),
            List::Big(d) => pack(d.iter().map(|b| &b[..])),
        }
    }
}

/// A set.
#[derive(Debug, Clone)]
pub enum Set {
    /// Packed, in insertion order.
    Small(Packed),
    /// Hashed (boxed, as a big list).
    Big(Box<HSet<Bytes>>),
}

impl Default for Set {
    fn default() -> Set {
        Set::Small(Packed::new())
    }
}

impl Set {
    /// Members.
    pub fn len(&self) -> usize {
        match self {
            Set::Small(p) => p.len() as usize,
            Set::Big(s) => s.len(),
        }
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Small(p) => {
                let mut c = p.cursor();
                while let Some(e) = c.next() {
                    if e == m {
                        return true;
                    }
                }
                false
            }
            Set::Big(s) => s.contains(m),
        }
    }

    /// Adds members; returns how many were new.
    pub fn add_all(&mut self, members: &[&[u8]]) -> usize {
        let mut added = 0;
        for m in members {
            if let Set::Small(p) = self {
                if p.len() as usize >= SMALL_MAX {
                    let s = packed_items(p).into_iter().map(Bytes::from).collect();
                    *self = Set::Big(Box::new(s));
                }
            }
            match self {
                Set::Small(_) => {
                    if !self.contains(m) {
                        if let Set::Small(p) = self {
                            p.push(m);
                        }
                        added += 1;
                    }
                }
                Set::Big(s) => {
                    if !s.contains(*m) {
                        s.insert(Bytes::from(*m));
                        added += 1;
                    }
                }
            }
        }
        added
    }

    /// Removes members; returns how many were there.
    pub fn remove_all(&mut self, members: &[&[u8]]) -> usize {
        match self {
            Set::Small(p) => {
                let old = std::mem::take(p);
                let items = packed_items(&old);
                let keep: Vec<&[u8]> = items
                    .iter()
                    .copied()
                    .filter(|e| !members.contains(e))
                    .collect();
                let removed = items.len() - keep.len();
                *p = pack(keep);
                removed
            }
            Set::Big(s) => members.iter().filter(|m| s.remove(**m)).count(),
        }
    }

    /// The members, borrowed.
    pub fn items(&self) -> Vec<&[u8]> {
        match self {
            Set::Small(p) => packed_items(p),
            Set::Big(s) => s.iter().map(|b| &b[..]).collect(),
        }
    }

    fn packed(&self) -> Packed {
        match self {
            Set::Small(p) => p.clone(),
            Set::Big(s) => pack(s.iter().map(|b| &b[..])),
        }
    }
}

/// A score with the total order the server's skiplist uses for equal
/// members (`-0` and `0` compare equal there; scores are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Score) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Score {
    fn cmp(&self, o: &Score) -> std::cmp::Ordering {
        self.0
            .partial_cmp(&o.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

/// A sorted set, in (score, member) order.
#[derive(Debug, Clone)]
pub enum Zset {
    /// Packed, kept in order.
    Small(OwnedZset),
    /// A member index and an ordered set (boxed, as a big list).
    Big(Box<BigZset>),
}

/// A big sorted set: what the server's skiplist and dict do.
#[derive(Debug, Clone, Default)]
pub struct BigZset {
    /// Member to score.
    pub dict: Map<Bytes, f64>,
    /// (score, member), in order.
    pub order: BTreeSet<(Score, Bytes)>,
}

impl Default for Zset {
    fn default() -> Zset {
        Zset::Small(OwnedZset::default())
    }
}

impl Zset {
    /// Members.
    pub fn len(&self) -> usize {
        match self {
            Zset::Small(z) => z.len() as usize,
            Zset::Big(b) => b.dict.len(),
        }
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Zset::Small(z) => z.iter().find(|(e, _)| *e == m).map(|(_, s)| s),
            Zset::Big(b) => b.dict.get(m).copied(),
        }
    }

    /// Moves to the indexed form (where the server's listpack became a
    /// skiplist, which it stays).
    pub fn make_big(&mut self) {
        if let Zset::Small(z) = self {
            let mut dict = Map::default();
            let mut order = BTreeSet::new();
            for (m, s) in z.iter() {
                dict.insert(Bytes::from(m), s);
                order.insert((Score(s), Bytes::from(m)));
            }
            *self = Zset::Big(Box::new(BigZset { dict, order }));
        }
    }

    /// Sets `m`'s score (adding it when new); returns whether it was new.
    pub fn insert(&mut self, m: &[u8], score: f64) -> bool {
        self.update(&[(m, Some(score))])[0]
    }

    /// Applies (member, Some(score)) as sets and (member, None) as
    /// removals, in order; returns for each whether the member was there
    /// before (for a set: whether it was new).
    pub fn update(&mut self, ops: &[(&[u8], Option<f64>)]) -> Vec<bool> {
        match self {
            Zset::Small(z) => {
                let old = std::mem::take(z);
                let mut items: Vec<(&[u8], f64)> = old.iter().collect();
                let mut out = Vec::with_capacity(ops.len());
                let mut done = ops.len();
                for (k, (m, s)) in ops.iter().enumerate() {
                    let at = items.iter().position(|(e, _)| e == m);
                    match (at, s) {
                        (Some(i), Some(s)) => {
                            items[i].1 = *s;
                            out.push(false);
                        }
                        (None, Some(s)) => {
                            items.push((m, *s));
                            out.push(true);
                        }
                        (Some(i), None) => {
                            items.remove(i);
                            out.push(true);
                        }
                        (None, None) => out.push(false),
                    }
                    if items.len() > SMALL_MAX {
                        // Past the limit: the rest goes to the indexed form.
                        done = k + 1;
                        break;
                    }
                }
                if done < ops.len() {
                    let mut dict = Map::default();
                    let mut order = BTreeSet::new();
                    for (m, s) in items {
                        dict.insert(Bytes::from(m), s);
                        order.insert((Score(s), Bytes::from(m)));
                    }
                    *self = Zset::Big(Box::new(BigZset { dict, order }));
                    out.extend(self.update(&ops[done..]));
                    return out;
                }
                items.sort_by(|a, b| Score(a.1).cmp(&Score(b.1)).then_with(|| a.0.cmp(b.0)));
                if items.len() > SMALL_MAX || items.iter().any(|(m, _)| m.len() > ZSET_SMALL_VALUE)
                {
                    // Where the server's listpack becomes a skiplist, for
                    // good (`zsetTypeMaybeConvert`): the -0 rule tells them apart.
                    let mut dict = Map::default();
                    let mut order = BTreeSet::new();
                    for (m, s) in items {
                        dict.insert(Bytes::from(m), s);
                        order.insert((Score(s), Bytes::from(m)));
                    }
                    *self = Zset::Big(Box::new(BigZset { dict, order }));
                    return out;
                }
                let mut n = OwnedZset::default();
                for (m, s) in items {
                    n.push(Elem::Str(m), s);
                }
                *z = n;
                out
            }
            Zset::Big(b) => {
                let BigZset { dict, order } = &mut **b;
                ops.iter()
                    .map(|(m, s)| match (dict.get_mut(*m), s) {
                        (Some(old), Some(s)) => {
                            let b = Bytes::from(*m);
                            order.remove(&(Score(*old), b.clone()));
                            *old = *s;
                            order.insert((Score(*s), b));
                            false
                        }
                        (None, Some(s)) => {
                            dict.insert(Bytes::from(*m), *s);
                            order.insert((Score(*s), Bytes::from(*m)));
                            true
                        }
                        (Some(old), None) => {
                            let old = *old;
                            let (k, _) = dict.remove_entry(*m).expect("present");
                            order.remove(&(Score(old), k));
                            true
                        }
                        (None, None) => false,
                    })
                    .collect()
            }
        }
    }

    /// (member, score) in order, borrowed.
    pub fn items(&self) -> Vec<(&[u8], f64)> {
        match self {
            Zset::Small(z) => z.iter().collect(),
            Zset::Big(b) => b.order.iter().map(|(s, m)| (&m[..], s.0)).collect(),
        }
    }

    fn owned(&self) -> OwnedZset {
        match self {
            Zset::Small(z) => z.clone(),
            Zset::Big(b) => {
                let mut z = OwnedZset::default();
                for (s, m) in &b.order {
                    z.push(Elem::Str(m), s.0);
                }
                z
            }
        }
    }
}

/// A hash field's value and TTL.
#[derive(Debug, Clone)]
pub struct HVal {
    /// The value.
    pub value: Bytes,
    /// Absolute expire time, Unix ms.
    pub ttl: Option<i64>,
}

/// A hash.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Packed, in insertion order.
    Small(OwnedHash),
    /// Hashed (boxed, as a big list).
    Big(Box<Map<Bytes, HVal>>),
}

impl Default for Hash {
    fn default() -> Hash {
        Hash::Small(OwnedHash::default())
    }
}

/// One change to a hash field.
pub enum HOp<'a> {
    /// Set the value; `keep_ttl` keeps the field's TTL (`HSET` clears it).
    Set(&'a [u8], bool),
    /// Set the TTL (None: persist).
    Ttl(Option<i64>),
    /// Delete the field.
    Del,
}

impl Hash {
    /// Fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Small(h) => h.len() as usize,
            Hash::Big(m) => m.len(),
        }
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A field's value and TTL.
    pub fn get(&self, f: &[u8]) -> Option<(&[u8], Option<i64>)> {
        match self {
            Hash::Small(h) => h.iter().find(|(k, _, _)| *k == f).map(|(_, v, t)| (v, t)),
            Hash::Big(m) => m.get(f).map(|v| (&v.value[..], v.ttl)),
        }
    }

    /// Sets one field (clearing its TTL).
    pub fn set(&mut self, f: &[u8], v: &[u8], ttl: Option<i64>) {
        self.apply(&[(f, HOp::Set(v, false))]);
        if ttl.is_some() {
            self.apply(&[(f, HOp::Ttl(ttl))]);
        }
    }

    /// Applies changes in order; returns for each whether the field existed
    /// before it.
    pub fn apply(&mut self, ops: &[(&[u8], HOp<'_>)]) -> Vec<bool> {
        if let Hash::Small(h) = self {
            if h.len() as usize + ops.len() > SMALL_MAX {
                let m = h
                    .iter()
                    .map(|(f, v, t)| {
                        (
                            Bytes::from(f),
                            HVal {
                                value: v.into(),
                                ttl: t,
                            },
                        )
                    })
                    .collect();
                *self = Hash::Big(Box::new(m));
            }
        }
        match self {
            Hash::Small(h) => {
                let old = std::mem::take(h);
                let mut items: Vec<(&[u8], &[u8], Option<i64>)> = old.iter().collect();
                let mut out = Vec::with_capacity(ops.len());
                for (f, op) in ops {
                    let at = items.iter().position(|(k, _, _)| k == f);
                    out.push(at.is_some());
                    match (at, op) {
                        (Some(i), HOp::Set(v, keep)) => {
                            items[i].1 = v;
                            if !keep {
                                items[i].2 = None;
                            }
                        }
                        (None, HOp::Set(v, _)) => items.push((f, v, None)),
                        (Some(i), HOp::Ttl(t)) => items[i].2 = *t,
                        (Some(i), HOp::Del) => {
                            items.remove(i);
                        }
                        (None, _) => {}
                    }
                }
                let mut n = OwnedHash::default();
                for (f, v, t) in items {
                    n.push(Elem::Str(f), Elem::Str(v), t);
                }
                *h = n;
                out
            }
            Hash::Big(m) => ops
                .iter()
                .map(|(f, op)| match (m.get_mut(*f), op) {
                    (Some(e), HOp::Set(v, keep)) => {
                        e.value = Bytes::from(*v);
                        if !keep {
                            e.ttl = None;
                        }
                        true
                    }
                    (None, HOp::Set(v, _)) => {
                        m.insert(
                            Bytes::from(*f),
                            HVal {
                                value: Bytes::from(*v),
                                ttl: None,
                            },
                        );
                        false
                    }
                    (Some(e), HOp::Ttl(t)) => {
                        e.ttl = *t;
                        true
                    }
                    (Some(_), HOp::Del) => {
                        m.remove(*f);
                        true
                    }
                    (None, _) => false,
                })
                .collect(),
        }
    }

    /// (field, value, ttl), borrowed.
    pub fn items(&self) -> Vec<(&[u8], &[u8], Option<i64>)> {
        match self {
            Hash::Small(h) => h.iter().collect(),
            Hash::Big(m) => m
                .iter()
                .map(|(f, v)| (&f[..], &v.value[..], v.ttl))
                .collect(),
        }
    }

    fn owned(&self) -> OwnedHash {
        match self {
            Hash::Small(h) => h.clone(),
            Hash::Big(m) => {
                let mut h = OwnedHash::default();
                for (f, v) in m.iter() {
                    h.push(Elem::Str(f), Elem::Str(&v.value), v.ttl);
                }
                h
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key slot of the keyspace pays a value's inline size: big
    /// forms are boxed to keep it at a small collection's.
    #[test]
    fn values_stay_small() {
        assert!(
            std::mem::size_of::<Val>() <= 48,
            "{}",
            std::mem::size_of::<Val>()
        );
    }
}
