//! What changed in one key, from its two owned values: the JSON record a
//! diff prints for it (`docs/json-format.md`, "diff"). Values are compared
//! in full here, so this is also the confirmation of what the prints said
//! differed: a pair that turns out equal gives no record.

use rdbscope_rdb::owned::{OwnedGroup, OwnedStream};
use rdbscope_rdb::{OwnedKey, OwnedValue, StreamId};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// A byte string as `dump` writes one: a JSON string when it is UTF-8,
/// else `{"base64": ...}`.
pub fn bin(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => {
            let mut out = Vec::new();
            let _ = rdbscope_json::write::write_base64(&mut out, b);
            json!({ "base64": String::from_utf8_lossy(&out) })
        }
    }
}

/// A score as `dump` writes it.
pub fn score(v: f64) -> Value {
    if v.is_nan() {
        json!("nan")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        json!(v)
    }
}

fn id(i: StreamId) -> Value {
    json!(format!("{}-{}", i.ms, i.seq))
}

/// The type name of a value.
pub fn type_name(v: &OwnedValue) -> &'static str {
    v.key_type().as_str()
}

/// A value's size: a string's bytes, a collection's elements, a stream's
/// entries.
pub fn size(v: &OwnedValue) -> u64 {
    match v {
        OwnedValue::String(b) => b.len() as u64,
        OwnedValue::List(p) | OwnedValue::Set(p) => p.len(),
        OwnedValue::Zset(z) => z.len(),
        OwnedValue::Hash(h) => h.len(),
        OwnedValue::Stream(s) => s.entries.len() as u64,
        OwnedValue::Module(m) => m.raw.len() as u64,
    }
}

/// The record of a key only one side has (`added` or `removed`).
pub fn one_sided(change: &str, k: &OwnedKey) -> Value {
    json!({
        "db": k.db,
        "key": bin(&k.key),
        "change": change,
        "type": type_name(&k.value),
        "expire_at_ms": k.expire_at_ms,
        "size": size(&k.value),
    })
}

/// The record of a key renamed or moved (`--detect-renames`).
pub fn renamed(a: &OwnedKey, b: &OwnedKey) -> Value {
    json!({
        "db": b.db,
        "key": bin(&b.key),
        "change": "renamed",
        "from": { "db": a.db, "key": bin(&a.key) },
        "type": type_name(&b.value),
    })
}

/// The record of a key in both, or `None` when the values are the same.
/// `keys_only`: only that it changed (and its type).
pub fn changed(a: &OwnedKey, b: &OwnedKey, ignore_ttl: bool, keys_only: bool) -> Option<Value> {
    let mut m = Map::new();
    m.insert("db".into(), json!(b.db));
    m.insert("key".into(), bin(&b.key));
    m.insert("change".into(), json!("changed"));
    m.insert("type".into(), json!(type_name(&b.value)));
    let mut any = false;
    if !ignore_ttl && a.expire_at_ms != b.expire_at_ms {
        m.insert(
            "expire_at_ms".into(),
            json!({ "from": a.expire_at_ms, "to": b.expire_at_ms }),
        );
        any = true;
    }
    let (ta, tb) = (type_name(&a.value), type_name(&b.value));
    if ta != tb {
        m.insert("type_from".into(), json!(ta));
        any = true;
    } else if let Some((name, d)) = value_change(&a.value, &b.value, ignore_ttl) {
        m.insert(name.into(), d);
        any = true;
    }
    if !any {
        return None;
    }
    if keys_only {
        for k in [
            "expire_at_ms",
            "value",
            "list",
            "members",
            "zset",
            "fields",
            "stream",
            "module",
        ] {
            m.remove(k);
        }
    }
    Some(Value::Object(m))
}

fn strings(p: &rdbscope_rdb::owned::Packed) -> Vec<&[u8]> {
    let mut c = p.cursor();
    let mut out = Vec::with_capacity(p.len() as usize);
    while let Some(e) = c.next() {
        out.push(e);
    }
    out
}

fn value_change(a: &OwnedValue, b: &OwnedValue, ignore_ttl: bool) -> Option<(&'static str, Value)> {
    match (a, b) {
        (OwnedValue::String(x), OwnedValue::String(y)) => {
            (x != y).then(|| ("value", json!({ "from": bin(x), "to": bin(y) })))
        }
        (OwnedValue::List(x), OwnedValue::List(y)) => {
            let (x, y) = (strings(x), strings(y));
            let hx: Vec<u64> = x
                .iter()
                .map(|e| twox_hash::XxHash3_64::oneshot(e))
                .collect();
            let hy: Vec<u64> = y
                .iter()
                .map(|e| twox_hash::XxHash3_64::oneshot(e))
                .collect();
            let hunks = crate::seq::diff(&hx, &hy);
            // Hashes equal but bytes not (a collision): confirm on bytes.
            let hunks = if hunks.is_empty() && x != y {
                vec![crate::seq::Hunk {
                    a_at: 0,
                    removed: x.len(),
                    b_at: 0,
                    inserted: y.len(),
                }]
            } else {
                hunks
            };
            (!hunks.is_empty()).then(|| {
                let v: Vec<Value> = hunks
                    .iter()
                    .map(|h| {
                        json!({
                            "at": h.a_at,
                            "to": h.b_at,
                            "removed": x[h.a_at..h.a_at + h.removed].iter().map(|e| bin(e)).collect::<Vec<_>>(),
                            "inserted": y[h.b_at..h.b_at + h.inserted].iter().map(|e| bin(e)).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                ("list", Value::Array(v))
            })
        }
        (OwnedValue::Set(x), OwnedValue::Set(y)) => {
            let (x, y) = (strings(x), strings(y));
            let sx: std::collections::HashSet<&[u8]> = x.iter().copied().collect();
            let sy: std::collections::HashSet<&[u8]> = y.iter().copied().collect();
            let mut added: Vec<&[u8]> = y.iter().copied().filter(|e| !sx.contains(e)).collect();
            let mut removed: Vec<&[u8]> = x.iter().copied().filter(|e| !sy.contains(e)).collect();
            added.sort_unstable();
            removed.sort_unstable();
            (!added.is_empty() || !removed.is_empty()).then(|| {
                (
                    "members",
                    json!({
                        "added": added.iter().map(|e| bin(e)).collect::<Vec<_>>(),
                        "removed": removed.iter().map(|e| bin(e)).collect::<Vec<_>>(),
                    }),
                )
            })
        }
        (OwnedValue::Zset(x), OwnedValue::Zset(y)) => {
            let scored = |z: &rdbscope_rdb::owned::OwnedZset| -> BTreeMap<Vec<u8>, f64> {
                use rdbscope_rdb::owned::Scored;
                let mut c = z.cursor();
                let mut m = BTreeMap::new();
                while let Ok(Some((e, s))) = c.next_scored() {
                    m.insert(e.to_vec(), s.value());
                }
                m
            };
            let (mx, my) = (scored(x), scored(y));
            let mut added = Vec::new();
            let mut removed = Vec::new();
            let mut rescored = Vec::new();
            for (k, &s) in &my {
                match mx.get(k) {
                    None => added.push(json!([bin(k), score(s)])),
                    Some(&old) if old.to_bits() != s.to_bits() => {
                        rescored.push(json!([bin(k), score(old), score(s)]))
                    }
                    _ => {}
                }
            }
            for (k, &s) in &mx {
                if !my.contains_key(k) {
                    removed.push(json!([bin(k), score(s)]));
                }
            }
            (!added.is_empty() || !removed.is_empty() || !rescored.is_empty()).then(|| {
                (
                    "zset",
                    json!({ "added": added, "removed": removed, "rescored": rescored }),
                )
            })
        }
        (OwnedValue::Hash(x), OwnedValue::Hash(y)) => {
            let fields =
                |h: &rdbscope_rdb::owned::OwnedHash| -> BTreeMap<Vec<u8>, (Vec<u8>, Option<i64>)> {
                    use rdbscope_rdb::owned::Fields;
                    let mut c = h.cursor();
                    let mut m = BTreeMap::new();
                    while let Ok(Some((f, v, t))) = c.next_field() {
                        m.insert(f.to_vec(), (v.to_vec(), t));
                    }
                    m
                };
            let (mx, my) = (fields(x), fields(y));
            let (mut added, mut removed, mut changed, mut ttl) = (vec![], vec![], vec![], vec![]);
            for (f, (v, t)) in &my {
                match mx.get(f) {
                    None => added.push(json!([bin(f), bin(v)])),
                    Some((old, old_t)) => {
                        if old != v {
                            changed.push(json!([bin(f), bin(old), bin(v)]));
                        }
                        if !ignore_ttl && old_t != t {
                            ttl.push(json!([bin(f), old_t, t]));
                        }
                    }
                }
            }
            for (f, (v, _)) in &mx {
                if !my.contains_key(f) {
                    removed.push(json!([bin(f), bin(v)]));
                }
            }
            let any =
                !(added.is_empty() && removed.is_empty() && changed.is_empty() && ttl.is_empty());
            any.then(|| {
                (
                    "fields",
                    json!({ "added": added, "removed": removed, "changed": changed, "ttl": ttl }),
                )
            })
        }
        (OwnedValue::Stream(x), OwnedValue::Stream(y)) => {
            stream_change(x, y).map(|v| ("stream", v))
        }
        (OwnedValue::Module(x), OwnedValue::Module(y)) => (x != y).then(|| {
            (
                "module",
                json!({
                    "from": { "module": x.name, "encver": x.encver, "bytes": x.raw.len() },
                    "to": { "module": y.name, "encver": y.encver, "bytes": y.raw.len() },
                }),
            )
        }),
        _ => None,
    }
}

/// A stream's entries: ID -> fields and values.
fn entries(s: &OwnedStream) -> BTreeMap<StreamId, Vec<&[u8]>> {
    let mut c = s.fields.cursor();
    let mut m = BTreeMap::new();
    for e in &s.entries {
        let f: Vec<&[u8]> = (0..e.fields * 2).filter_map(|_| c.next()).collect();
        m.insert(e.id, f);
    }
    m
}

fn from_to<T: PartialEq + serde::Serialize>(m: &mut Map<String, Value>, name: &str, a: T, b: T) {
    if a != b {
        m.insert(name.into(), json!({ "from": a, "to": b }));
    }
}

/// Both known and different (what only some RDB versions record is not a
/// change when one side lacks it).
fn from_to_known<T: PartialEq + serde::Serialize>(
    m: &mut Map<String, Value>,
    name: &str,
    a: Option<T>,
    b: Option<T>,
) {
    if let (Some(a), Some(b)) = (a, b) {
        from_to(m, name, a, b);
    }
}

fn stream_change(x: &OwnedStream, y: &OwnedStream) -> Option<Value> {
    let mut m = Map::new();
    let (ex, ey) = (entries(x), entries(y));
    let added: Vec<Value> = ey
        .iter()
        .filter(|(i, _)| !ex.contains_key(i))
        .map(|(i, f)| {
            json!([
                id(*i),
                f.chunks(2)
                    .map(|p| json!([bin(p[0]), bin(p.get(1).copied().unwrap_or_default())]))
                    .collect::<Vec<_>>()
            ])
        })
        .collect();
    let removed: Vec<Value> = ex
        .keys()
        .filter(|i| !ey.contains_key(i))
        .map(|i| id(*i))
        .collect();
    let changed: Vec<Value> = ey
        .iter()
        .filter(|(i, f)| ex.get(i).is_some_and(|g| g != *f))
        .map(|(i, _)| id(*i))
        .collect();
    if !added.is_empty() {
        m.insert("entries_added".into(), Value::Array(added));
    }
    if !removed.is_empty() {
        m.insert("entries_removed".into(), Value::Array(removed));
    }
    if !changed.is_empty() {
        m.insert("entries_changed".into(), Value::Array(changed));
    }
    let sid = |i: StreamId| format!("{}-{}", i.ms, i.seq);
    from_to(&mut m, "last_id", sid(x.last_id), sid(y.last_id));
    from_to_known(
        &mut m,
        "max_deleted_id",
        x.max_deleted_id.map(sid),
        y.max_deleted_id.map(sid),
    );
    from_to_known(
        &mut m,
        "entries_added_counter",
        x.entries_added,
        y.entries_added,
    );
    let gx: HashMap<&[u8], &OwnedGroup> = x.groups.iter().map(|g| (g.name.as_slice(), g)).collect();
    let gy: HashMap<&[u8], &OwnedGroup> = y.groups.iter().map(|g| (g.name.as_slice(), g)).collect();
    let mut g_added: Vec<Value> = Vec::new();
    let mut g_changed: Vec<Value> = Vec::new();
    for g in &y.groups {
        match gx.get(g.name.as_slice()) {
            None => g_added.push(bin(&g.name)),
            Some(old) => {
                if let Some(c) = group_change(old, g) {
                    g_changed.push(c);
                }
            }
        }
    }
    let g_removed: Vec<Value> = x
        .groups
        .iter()
        .filter(|g| !gy.contains_key(g.name.as_slice()))
        .map(|g| bin(&g.name))
        .collect();
    if !(g_added.is_empty() && g_removed.is_empty() && g_changed.is_empty()) {
        m.insert(
            "groups".into(),
            json!({ "added": g_added, "removed": g_removed, "changed": g_changed }),
        );
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn group_change(a: &OwnedGroup, b: &OwnedGroup) -> Option<Value> {
    let mut m = Map::new();
    let sid = |i: StreamId| format!("{}-{}", i.ms, i.seq);
    from_to(
        &mut m,
        "last_delivered_id",
        sid(a.last_delivered_id),
        sid(b.last_delivered_id),
    );
    from_to_known(&mut m, "entries_read", a.entries_read, b.entries_read);
    let pa: BTreeMap<StreamId, _> = a.pending.iter().map(|p| (p.id, p)).collect();
    let pb: BTreeMap<StreamId, _> = b.pending.iter().map(|p| (p.id, p)).collect();
    let list = |v: Vec<StreamId>| v.into_iter().map(id).collect::<Vec<_>>();
    let added: Vec<StreamId> = pb.keys().filter(|i| !pa.contains_key(i)).copied().collect();
    let removed: Vec<StreamId> = pa.keys().filter(|i| !pb.contains_key(i)).copied().collect();
    let changed: Vec<StreamId> = pb
        .iter()
        .filter(|(i, p)| pa.get(i).is_some_and(|q| q != *p))
        .map(|(i, _)| *i)
        .collect();
    if !added.is_empty() {
        m.insert("pel_added".into(), json!(list(added)));
    }
    if !removed.is_empty() {
        m.insert("pel_removed".into(), json!(list(removed)));
    }
    if !changed.is_empty() {
        m.insert("pel_changed".into(), json!(list(changed)));
    }
    let ca: HashMap<&[u8], _> = a.consumers.iter().map(|c| (c.name.as_slice(), c)).collect();
    let cb: HashMap<&[u8], _> = b.consumers.iter().map(|c| (c.name.as_slice(), c)).collect();
    let c_added: Vec<Value> = b
        .consumers
        .iter()
        .filter(|c| !ca.contains_key(c.name.as_slice()))
        .map(|c| bin(&c.name))
        .collect();
    let c_removed: Vec<Value> = a
        .consumers
        .iter()
        .filter(|c| !cb.contains_key(c.name.as_slice()))
        .map(|c| bin(&c.name))
        .collect();
    let c_changed: Vec<Value> = b
        .consumers
        .iter()
        .filter(|c| {
            ca.get(c.name.as_slice()).is_some_and(|o| {
                o.seen_time_ms != c.seen_time_ms
                    || o.pending != c.pending
                    || matches!((o.active_time_ms, c.active_time_ms), (Some(x), Some(y)) if x != y)
            })
        })
        .map(|c| bin(&c.name))
        .collect();
    if !c_added.is_empty() {
        m.insert("consumers_added".into(), Value::Array(c_added));
    }
    if !c_removed.is_empty() {
        m.insert("consumers_removed".into(), Value::Array(c_removed));
    }
    if !c_changed.is_empty() {
        m.insert("consumers_changed".into(), Value::Array(c_changed));
    }
    if m.is_empty() {
        return None;
    }
    m.insert("name".into(), bin(&a.name));
    Some(Value::Object(m))
}
