//! The semantic rules of deep sanitization, per value type (docs/format.md
//! #validation-rules; Redis `rdbLoadObject` with `deep_integrity_validation`, and the
//! `*ValidateIntegrity` functions of `listpack.c`, `ziplist.c`, `intset.c`,
//! `t_stream.c`). Walking a value with the decoder already enforces the
//! structural rules; what is added here is what the bytes mean.

use crate::dups::{elem_fingerprint, Seen};
use rdbscope_rdb::cursor::Cursor;
use rdbscope_rdb::rdb_string::int_text;
use rdbscope_rdb::stream::{Stream, StreamId};
use rdbscope_rdb::zipmap::Zipmap;
use rdbscope_rdb::{Elem, Encoding, Error, KeyType, Result, Scratch, Typed, Value};
use std::collections::{HashMap, HashSet};

/// Hash field TTLs above this are invalid (`EB_EXPIRE_TIME_MAX`, 2^48 - 1).
pub const EXPIRE_TIME_MAX: i64 = (1 << 48) - 1;

/// What checking a value counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct ValueStats {
    /// Elements (1 for strings and module values).
    pub elements: u64,
    /// Hash fields with a TTL.
    pub subexpires: u64,
    /// An empty collection: Redis skips such keys on load (not an error).
    pub empty: bool,
}

/// Reusable state for checking values one after another.
#[derive(Default)]
pub struct ValueChecker {
    seen: Seen,
    buf: Vec<u8>,
}

/// Settles suspected duplicates (fingerprints seen more than once) with
/// one more walk over the value's members (set, zset) or fields (hash) that
/// counts the real bytes of the suspects' elements, in a map keyed by the
/// bytes themselves: crafted fingerprint collisions cost one linear pass,
/// never a false report. `what` names the element in the message.
fn no_duplicates(seen: &mut Seen, v: &Value<'_>, s: &mut Scratch, what: &str) -> Result<()> {
    let suspects = seen.repeated();
    if suspects.is_empty() {
        return Ok(());
    }
    let mut counts: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut found = None;
    let mut tmp = [0u8; 20];
    let mut count = |e: Elem<'_>| {
        if found.is_some() || suspects.binary_search(&elem_fingerprint(e)).is_err() {
            return Ok::<_, Error>(());
        }
        let bytes: &[u8] = match e {
            Elem::Str(s) => s,
            Elem::Int(v) => int_text(v, &mut tmp),
        };
        let c = counts.entry(bytes.to_vec()).or_insert(0);
        *c += 1;
        if *c == 2 {
            found = Some(bytes.to_vec());
        }
        Ok(())
    };
    match v.typed() {
        Typed::Zset(z) => z.for_each(s, |m, _| count(m))?,
        Typed::Hash(h) => h.for_each(s, |f, _, _| count(f))?,
        Typed::Set(m) => m.for_each(s, &mut count)?,
        Typed::List(m) => m.for_each(s, &mut count)?,
        Typed::String(_) | Typed::Stream(_) | Typed::Module(_) => {}
    }
    match found {
        Some(m) => Err(problem(
            v.offset(),
            format!("duplicate {what} \"{}\"", show(&m)),
        )),
        None => Ok(()),
    }
}

fn problem(at: usize, msg: String) -> Error {
    Error::invalid(at, msg)
}

fn show(b: &[u8]) -> String {
    rdbscope_rdb::error::escape_key(b)
}

impl ValueChecker {
    /// Decodes `v` completely and applies the rules of its type.
    pub fn check_value(&mut self, v: &Value<'_>, s: &mut Scratch) -> Result<ValueStats> {
        let at = v.offset();
        self.seen.clear();
        let mut st = ValueStats::default();
        match v.typed() {
            Typed::String(string) => {
                // A string's bytes have no rules: proving that it decodes
                // is the whole check.
                string.string()?.validate(s.limit())?;
                st.elements = 1;
            }
            Typed::Module(m) => {
                m.module()?;
                st.elements = 1;
            }
            Typed::List(list) => {
                list.for_each(s, |_| {
                    st.elements += 1;
                    Ok::<_, Error>(())
                })?;
            }
            Typed::Set(set) => {
                let intset = set.encoding() == Encoding::SetIntset;
                let mut prev: Option<i64> = None;
                let seen = &mut self.seen;
                set.for_each(s, |e| {
                    st.elements += 1;
                    if intset {
                        // Strictly ascending also rules out duplicates.
                        if let (Elem::Int(x), Some(p)) = (e, prev) {
                            if x <= p {
                                return Err(problem(
                                    at,
                                    format!("intset is not strictly ascending: {x} after {p}"),
                                ));
                            }
                        }
                        prev = e.as_i64();
                    } else {
                        seen.push(elem_fingerprint(e));
                    }
                    Ok(())
                })?;
                no_duplicates(&mut self.seen, v, s, "set member")?;
            }
            Typed::Zset(zset) => {
                let seen = &mut self.seen;
                zset.for_each(s, |m, score| {
                    st.elements += 1;
                    if score.is_nan() {
                        return Err(problem(
                            at,
                            format!("zset member \"{}\" has a NaN score", show(&m.to_vec())),
                        ));
                    }
                    seen.push(elem_fingerprint(m));
                    Ok(())
                })?;
                no_duplicates(&mut self.seen, v, s, "zset member")?;
            }
            Typed::Hash(_) => self.check_hash(v, s, &mut st)?,
            Typed::Stream(stream) => check_stream(v, &stream.stream()?, s, &mut st)?,
        }
        st.empty = st.elements == 0 && !matches!(v.key_type(), KeyType::Stream);
        Ok(st)
    }

    fn check_hash(&mut self, v: &Value<'_>, s: &mut Scratch, st: &mut ValueStats) -> Result<()> {
        let at = v.offset();
        let enc = v.encoding();
        if enc == Encoding::HashZipmap {
            let blob = Cursor::new(v.raw(), at).rdb_string("zipmap")?;
            let loc = blob.blob_loc();
            let zm = Zipmap::new(blob.bytes_limited(&mut self.buf, s.limit())?, loc)?;
            let mut pairs = 0u64;
            for p in zm.iter() {
                p?;
                pairs += 1;
            }
            if let Some(msg) = zm.count_problem(pairs) {
                return Err(loc.locate(Error::invalid(0, msg)));
            }
        }
        if enc == Encoding::HashMetadata {
            // `rdbLoadObject`: "Hash read invalid minExpire value".
            if let Some(min) = v
                .hash_min_expire()
                .filter(|m| !(0..=EXPIRE_TIME_MAX).contains(m))
            {
                return Err(problem(
                    at,
                    format!("hash minimum expire time {min} is out of range (expected 0..={EXPIRE_TIME_MAX})"),
                ));
            }
        }
        let listpack_ex = matches!(
            enc,
            Encoding::HashListpackEx | Encoding::HashListpackExPreGa
        );
        let valkey = enc == Encoding::ValkeyHash2;
        let mut last_ttl: Option<i64> = None;
        let mut saw_no_ttl = false;
        let seen = &mut self.seen;
        v.for_each_field(s, |f, _, ttl| {
            st.elements += 1;
            if let Some(t) = ttl {
                st.subexpires += 1;
                // Valkey: -1 means none (already mapped to None); anything
                // else negative is corrupt. Redis: 0..=2^48-1.
                if t < 0 || (!valkey && t > EXPIRE_TIME_MAX) {
                    return Err(problem(
                        at,
                        format!(
                            "hash field \"{}\" has an invalid expire time {t} (expected 0..={EXPIRE_TIME_MAX})",
                            show(&f.to_vec())
                        ),
                    ));
                }
            }
            if listpack_ex {
                // Written as: fields with TTL in ascending TTL order, then
                // fields without (`listpackExAddInternal`).
                match ttl {
                    Some(t) if saw_no_ttl => {
                        return Err(problem(
                            at,
                            format!("hash listpack field \"{}\" has TTL {t} after fields without TTL", show(&f.to_vec())),
                        ))
                    }
                    Some(t) if last_ttl.is_some_and(|l| t < l) => {
                        return Err(problem(
                            at,
                            format!(
                                "hash listpack TTLs are not ascending: {t} after {}",
                                last_ttl.unwrap_or_default()
                            ),
                        ))
                    }
                    Some(t) => last_ttl = Some(t),
                    None => saw_no_ttl = true,
                }
            }
            seen.push(elem_fingerprint(f));
            Ok(())
        })?;
        no_duplicates(&mut self.seen, v, s, "hash field")?;
        Ok(())
    }
}

/// Streams: every entry walked (layout and `lp_count` are checked by the
/// walk), master IDs unique, group and consumer names unique, and the PELs
/// consistent: no duplicate group PEL entry, every consumer PEL entry in the
/// group PEL and owned once, every group PEL entry owned by a consumer.
fn check_stream(
    v: &Value<'_>,
    stream: &Stream<'_>,
    s: &mut Scratch,
    st: &mut ValueStats,
) -> Result<()> {
    let at = v.offset();
    let mut masters: HashSet<(u64, u64)> = HashSet::new();
    let mut buf = Vec::new();
    stream.for_each_node(|master, _| {
        let b = master.bytes(&mut buf)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        let id = StreamId::from_be_bytes(&a);
        if !masters.insert((id.ms, id.seq)) {
            return Err(problem(
                at,
                format!("stream listpack master ID {id} appears twice"),
            ));
        }
        Ok::<_, Error>(())
    })?;
    let mut live = 0u64;
    stream.for_each_entry(s, |e| {
        live += 1;
        for f in e.fields() {
            f?;
        }
        Ok::<_, Error>(())
    })?;
    st.elements = live;
    let mut group_names: HashSet<Vec<u8>> = HashSet::new();
    for g in stream.groups() {
        let g = g?;
        let name = g.name.to_vec()?;
        if !group_names.insert(name.clone()) {
            return Err(problem(
                at,
                format!("duplicate consumer group name \"{}\"", show(&name)),
            ));
        }
        // Group PEL: id -> owned yet?
        let mut pel: HashMap<StreamId, bool> = HashMap::new();
        for p in g.pel() {
            let p = p?;
            if pel.insert(p.id, false).is_some() {
                return Err(problem(
                    at,
                    format!("group \"{}\": duplicate PEL entry {}", show(&name), p.id),
                ));
            }
        }
        let mut consumer_names: HashSet<Vec<u8>> = HashSet::new();
        for c in g.consumers() {
            let c = c?;
            let cname = c.name.to_vec()?;
            if !consumer_names.insert(cname.clone()) {
                return Err(problem(
                    at,
                    format!(
                        "group \"{}\": duplicate consumer name \"{}\"",
                        show(&name),
                        show(&cname)
                    ),
                ));
            }
            for id in c.pel() {
                match pel.get_mut(&id) {
                    None => {
                        return Err(problem(
                            c.pel_offset(),
                            format!(
                                "group \"{}\", consumer \"{}\": PEL entry {id} is not in the group PEL",
                                show(&name),
                                show(&cname)
                            ),
                        ))
                    }
                    Some(owned) if *owned => {
                        return Err(problem(
                            c.pel_offset(),
                            format!(
                                "group \"{}\": PEL entry {id} is owned twice (again by consumer \"{}\")",
                                show(&name),
                                show(&cname)
                            ),
                        ))
                    }
                    Some(owned) => *owned = true,
                }
            }
        }
        if let Some((id, _)) = pel.iter().filter(|(_, &o)| !o).min_by_key(|(id, _)| **id) {
            return Err(problem(
                at,
                format!("group \"{}\": PEL entry {id} has no consumer", show(&name)),
            ));
        }
    }
    if let Some(idmp) = stream.idmp() {
        for p in idmp.producers() {
            for iid in p?.iids() {
                iid?;
            }
        }
        idmp.counters()?;
    }
    Ok(())
}
