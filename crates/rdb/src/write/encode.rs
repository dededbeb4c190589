//! Any value, in the form a given server version saves it: the encoder of
//! `convert`. [`Target`] is an RDB version (and flavour) with the
//! encoding thresholds of the server that will load the file; [`value`]
//! writes an [`OwnedValue`] as that server would (through
//! [`super::object`] for collections) and says what the target cannot
//! hold.
//!
//! What each RDB version can hold (`docs/format.md#object-types`):
//! quicklists from 7, binary zset scores (type 5) from 8, streams and
//! module values (type 7) from 9, listpacks and stream layout 2 from 10,
//! set listpacks and stream layout 3 from 11, hash field TTLs from 12
//! (types 24 and 25) in Redis and in `VALKEY080` (type 22, `HASH_2`), which
//! otherwise holds what RDB 11 holds.

use super::object::{self, Config};
use super::rdb_string::{encoded, Strings};
use super::stream::{self as wstream, Entry};
use super::{value as wvalue, Error, Result};
use crate::owned::{OwnedHash, OwnedStream, OwnedValue};
use crate::stream::{PelEntry, ENTRIES_READ_UNKNOWN};
use crate::types::rdb_type::*;
use crate::{Elem, Flavor, Header, StreamId};

/// The file to write: its header, and the thresholds of the server that
/// will load it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Magic and version.
    pub header: Header,
    /// Encoding thresholds (the server's `*-max-listpack-*` settings).
    pub config: Config,
    /// How strings are stored (`rdbcompression`).
    pub strings: Strings,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: usize,
    /// `rdbchecksum`: a CRC-64 trailer, or zeros.
    pub checksum: bool,
}

/// Something a value holds that the target version has no form for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Missing {
    /// Hash field TTLs (Redis RDB 12+, `VALKEY080`).
    FieldTtl,
    /// Streams (RDB 9+).
    Stream,
    /// Module values (type 7, RDB 9+).
    Module,
}

impl Missing {
    /// What it is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Missing::FieldTtl => "hash field TTLs",
            Missing::Stream => "a stream",
            Missing::Module => "a module value",
        }
    }
}

/// What the target dropped from a value, by the caller's leave or because
/// it is metadata the version has no place for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Field TTLs removed (the fields kept), `--drop field-ttl`.
    pub field_ttls: u64,
    /// Stream metadata the layout lacks (first/max-deleted ID, entries
    /// added, entries read below layout 2; consumer active times below 3;
    /// idempotent-producer state below 4).
    pub stream_metadata: u64,
}

impl Target {
    /// A target with Redis's default thresholds and compression.
    pub fn new(header: Header) -> Target {
        Target {
            header,
            config: Config::default(),
            strings: Strings::REDIS,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
            checksum: true,
        }
    }

    /// The Redis RDB version whose encodings this target uses (`VALKEY080`
    /// is RDB 11's plus `HASH_2`).
    pub fn redis_version(&self) -> u32 {
        match self.header.flavor {
            Flavor::Redis => self.header.version,
            Flavor::Valkey => 11,
        }
    }

    /// Whether the target holds hash field TTLs.
    pub fn has_field_ttls(&self) -> bool {
        match self.header.flavor {
            Flavor::Redis => self.header.version >= 12,
            Flavor::Valkey => self.header.version >= 80,
        }
    }

    /// The stream layout this target writes (0: none).
    pub fn stream_layout(&self, s: &OwnedStream) -> u8 {
        match self.redis_version() {
            0..=8 => 0,
            9 => 1,
            10 => 2,
            11 | 12 => 3,
            _ if s.idmp.is_some() => 4,
            _ => 3,
        }
    }

    /// What in `v` this target cannot hold at all (data, not metadata).
    pub fn missing(&self, v: &OwnedValue) -> Option<Missing> {
        match v {
            OwnedValue::Hash(h) if h.has_ttls() && !self.has_field_ttls() => {
                Some(Missing::FieldTtl)
            }
            _ => self.missing_type(v.key_type()),
        }
    }
}

/// Writes `v` as the target's server saves it and returns its type byte.
/// What the target cannot hold is `Err(Error::Missing(_))` (hash field
/// TTLs only unless `drop_field_ttls`; the caller leaves out streams and
/// module values it is asked to drop), as [`record_value`] reports it. `plain_order`: the value was read
/// from a plain (skiplist) zset, whose member order a plain zset written
/// again keeps (Redis before 4.0 saved it in dict order).
pub fn value(
    out: &mut Vec<u8>,
    v: &OwnedValue,
    t: &Target,
    drop_field_ttls: bool,
    plain_order: bool,
    dropped: &mut Dropped,
) -> Result<u8> {
    let version = t.redis_version();
    let how = t.strings;
    if let Some(m) = t.missing(v) {
        if !(m == Missing::FieldTtl && drop_field_ttls) {
            return Err(Error::Missing(m));
        }
    }
    match v {
        OwnedValue::String(b) => {
            encoded(out, b, how);
            Ok(STRING)
        }
        OwnedValue::List(p) => {
            let items = strings(p);
            object::list(out, version, &items, &t.config, how)
        }
        OwnedValue::Set(p) => {
            let members = strings(p);
            object::set(out, version, &members, &t.config, how)
        }
        OwnedValue::Zset(z) => {
            let members: Vec<(&[u8], f64)> = z.iter().collect();
            object::zset_ordered(out, version, &members, &t.config, how, plain_order)
        }
        OwnedValue::Hash(h) => hash(out, h, t, drop_field_ttls, dropped),
        OwnedValue::Stream(s) => stream(out, s, t, dropped),
        OwnedValue::Module(m) => {
            let id = super::module::module_id(&m.name, m.encver)?;
            super::module::id(out, id);
            out.extend_from_slice(&m.raw);
            Ok(MODULE_2)
        }
    }
}

fn strings(p: &crate::owned::Packed) -> Vec<&[u8]> {
    let mut c = p.cursor();
    let mut out = Vec::with_capacity(p.len() as usize);
    while let Some(e) = c.next() {
        out.push(e);
    }
    out
}

fn hash(
    out: &mut Vec<u8>,
    h: &OwnedHash,
    t: &Target,
    drop_ttls: bool,
    dropped: &mut Dropped,
) -> Result<u8> {
    let mut fields: Vec<(&[u8], &[u8], Option<i64>)> = h.iter().collect();
    hash_fields(out, &mut fields, t, drop_ttls, dropped)
}

/// A hash from its (field, value, TTL) triples in stored order.
fn hash_fields(
    out: &mut Vec<u8>,
    fields: &mut [(&[u8], &[u8], Option<i64>)],
    t: &Target,
    drop_ttls: bool,
    dropped: &mut Dropped,
) -> Result<u8> {
    let with_ttl = fields.iter().filter(|f| f.2.is_some()).count() as u64;
    if with_ttl == 0 || !t.has_field_ttls() {
        // Only reached with TTLs when the caller asked them dropped.
        debug_assert!(with_ttl == 0 || drop_ttls);
        dropped.field_ttls += with_ttl;
        let pairs: Vec<(&[u8], &[u8])> = fields.iter().map(|&(f, v, _)| (f, v)).collect();
        return object::hash(out, t.redis_version(), &pairs, &t.config, t.strings);
    }
    match t.header.flavor {
        Flavor::Valkey => {
            let triples: Vec<(&[u8], &[u8], i64)> = fields
                .iter()
                .map(|&(f, v, ttl)| (f, v, ttl.unwrap_or(-1)))
                .collect();
            wvalue::valkey_hash2(out, &triples, t.strings);
            Ok(HASH_22)
        }
        Flavor::Redis => {
            let min = fields.iter().filter_map(|f| f.2).min().unwrap_or(0).max(0) as u64;
            let cfg = &t.config;
            let small = fields.len() <= cfg.hash_max_listpack_entries
                && fields
                    .iter()
                    .all(|(f, v, _)| f.len().max(v.len()) <= cfg.hash_max_listpack_value);
            if small {
                // A listpackEx keeps fields in TTL order, those without
                // one last (t_hash.c); the metadata form (type 24) of a
                // large hash keeps the order they came in.
                fields.sort_by_key(|f| (f.2.is_none(), f.2.unwrap_or(0)));
                let triplets: Vec<(&[u8], &[u8], i64)> = fields
                    .iter()
                    .map(|&(f, v, ttl)| (f, v, ttl.unwrap_or(0)))
                    .collect();
                wvalue::hash_listpack_ex(out, min, &triplets, t.strings)?;
                Ok(HASH_LISTPACK_EX)
            } else {
                let stored: Vec<(u64, &[u8], &[u8])> = fields
                    .iter()
                    .map(|&(f, v, ttl)| {
                        (
                            wvalue::hash_metadata_ttl(min, ttl.map(|x| x.max(0) as u64)),
                            f,
                            v,
                        )
                    })
                    .collect();
                wvalue::hash_metadata(out, min, &stored, t.strings);
                Ok(HASH_METADATA)
            }
        }
    }
}

fn stream(out: &mut Vec<u8>, s: &OwnedStream, t: &Target, dropped: &mut Dropped) -> Result<u8> {
    let layout = t.stream_layout(s);
    let Some(type_byte) = wstream::type_byte(layout) else {
        return Err(Error::Invalid("a stream has no form before RDB 9".into()));
    };
    // Entries, cut into nodes where XADD would start a new one.
    let mut fields = s.fields.cursor();
    let mut entries: Vec<Entry<'_>> = Vec::with_capacity(s.entries.len());
    for e in &s.entries {
        let mut f = Vec::with_capacity(e.fields as usize);
        for _ in 0..e.fields {
            match (fields.next(), fields.next()) {
                (Some(a), Some(b)) => f.push((a, b)),
                _ => return Err(Error::Invalid("stream entry fields cut short".into())),
            }
        }
        entries.push(Entry {
            id: e.id,
            fields: f,
            deleted: false,
        });
    }
    // XADD (t_stream.c, streamAppendItem) starts a new node when the tail
    // node's listpack bytes plus the new entry's field and value bytes
    // reach stream-node-max-bytes, or when it holds stream-node-max-entries
    // entries. The tail node's real size is kept as entries join it.
    let max_bytes = match t.stream_node_max_bytes {
        0 => usize::MAX,
        b => b,
    };
    let mut nodes = Vec::new();
    let mut start = 0;
    let mut tail: Option<wstream::NodeSize> = None;
    for (i, e) in entries.iter().enumerate() {
        let size: usize = e.fields.iter().map(|(a, b)| a.len() + b.len()).sum();
        let lp_bytes = tail.as_ref().map_or(0, |n| n.bytes());
        if i > start
            && (lp_bytes + size >= max_bytes
                || (t.stream_node_max_entries > 0 && i - start >= t.stream_node_max_entries))
        {
            nodes.push(wstream::Node::of(&entries[start..i])?);
            start = i;
            tail = None;
        }
        let node = match tail.as_mut() {
            Some(n) => n,
            None => tail.insert(wstream::NodeSize::new(&entries[start])?),
        };
        node.push(e)?;
    }
    if start < entries.len() {
        nodes.push(wstream::Node::of(&entries[start..])?);
    }
    let zero = StreamId::default();
    // Counters a layout 1 source lacks are what a server computes when it
    // loads one (rdb.c): the first entry, no deletion, every entry added.
    let first_id = s
        .first_id
        .unwrap_or_else(|| s.entries.first().map_or(zero, |e| e.id));
    let mut lost = 0;
    if layout < 2 {
        lost += u64::from(s.max_deleted_id.is_some_and(|m| m != zero))
            + u64::from(s.entries_added.is_some_and(|n| n != s.length))
            + s.groups.iter().filter(|g| g.entries_read.is_some()).count() as u64;
    }
    let groups = s
        .groups
        .iter()
        .map(|g| {
            wstream::Group {
                name: g.name.clone(),
                last_id: g.last_delivered_id,
                entries_read: g.entries_read.unwrap_or(ENTRIES_READ_UNKNOWN),
                pel: g
                    .pending
                    .iter()
                    .map(|p| PelEntry {
                        id: p.id,
                        delivery_time_ms: p.delivery_time_ms,
                        delivery_count: p.delivery_count,
                    })
                    .collect(),
                consumers: g
                    .consumers
                    .iter()
                    .map(|c| {
                        if layout < 3 && c.active_time_ms.is_some_and(|a| a != c.seen_time_ms) {
                            lost += 1;
                        }
                        wstream::Consumer {
                            name: c.name.clone(),
                            seen_time_ms: c.seen_time_ms,
                            // What a server loading an older layout sets.
                            active_time_ms: c.active_time_ms.unwrap_or(c.seen_time_ms),
                            pel: c.pending.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let idmp = match (&s.idmp, layout) {
        (Some(i), 4) => wstream::Idmp {
            duration_s: i.duration_s,
            maxsize: i.maxsize,
            producers: i
                .producers
                .iter()
                .map(|(name, iids)| wstream::Producer {
                    name: name.clone(),
                    iids: iids.clone(),
                })
                .collect(),
            iids_added: i.iids_added,
            duplicates: i.iids_duplicates,
        },
        (Some(_), _) => {
            lost += 1;
            wstream::Idmp::default()
        }
        (None, _) => wstream::Idmp::default(),
    };
    dropped.stream_metadata += lost;
    let w = wstream::Stream {
        nodes,
        length: s.length,
        last_id: s.last_id,
        first_id,
        max_deleted_id: s.max_deleted_id.unwrap_or(zero),
        entries_added: s.entries_added.unwrap_or(s.length),
        groups,
        idmp,
    };
    wstream::stream(out, layout, &w, t.strings)?;
    Ok(type_byte)
}

/// Reusable element buffers for [`record_value`], one per thread: a
/// value's elements are copied in once (decompressed, integers as text)
/// and written out, with nothing allocated per key once they have grown.
#[derive(Debug, Default)]
pub struct Arena {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
    scores: Vec<f64>,
    ttls: Vec<Option<i64>>,
    buf: Vec<u8>,
    /// A compact value written uncompressed, before its blobs are.
    plain: Vec<u8>,
}

impl Arena {
    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
        self.scores.clear();
        self.ttls.clear();
    }
}

fn slices<'a>(bytes: &'a [u8], spans: &[(usize, usize)]) -> Vec<&'a [u8]> {
    spans.iter().map(|&(a, b)| &bytes[a..b]).collect()
}

/// [`value`] for a key read from a file, without building its owned form
/// (streams and module values excepted, which are rare and built). A hash
/// field TTL the target cannot hold, not dropped, is
/// `Err(Error::Missing(Missing::FieldTtl))`; check
/// [`Target::missing_type`] first for the rest.
pub fn record_value(
    out: &mut Vec<u8>,
    k: &crate::KeyRecord<'_>,
    t: &Target,
    drop_field_ttls: bool,
    dropped: &mut Dropped,
    arena: &mut Arena,
    scratch: &mut crate::Scratch,
) -> Result<u8> {
    // Only a compact value in an encoding the target's server writes can
    // come out with the same blobs.
    let same_form =
        k.value.encoding().blob_layout().is_some() && k.value.encoding().written_by(t.header);
    if !(t.strings.compress && same_form) {
        return record_value_as(out, k, t, drop_field_ttls, dropped, arena, scratch);
    }
    // A compact value: encode it uncompressed, then compress each blob,
    // or keep the source's own compressed blob where it holds the same
    // bytes (LZF is most of the cost of writing, and a file converted to
    // its own version holds mostly unchanged blobs).
    let before = dropped.clone();
    let plain = Target {
        strings: Strings {
            compress: false,
            ..t.strings
        },
        ..*t
    };
    let mut ours = std::mem::take(&mut arena.plain);
    ours.clear();
    let written = record_value_as(
        &mut ours,
        k,
        &plain,
        drop_field_ttls,
        dropped,
        arena,
        scratch,
    );
    let result = match written {
        Ok(type_byte) => {
            let start = out.len();
            match compress_blobs(out, &ours, type_byte, t.header.flavor, k, &mut arena.buf) {
                Ok(true) => Ok(type_byte),
                // Not blobs after all (other thresholds): write it again,
                // compressed as it goes.
                Ok(false) => {
                    out.truncate(start);
                    *dropped = before;
                    record_value_as(out, k, t, drop_field_ttls, dropped, arena, scratch)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    arena.plain = ours;
    result
}

/// Writes `plain` (a value of `type_byte` encoded with compression off)
/// with its blobs compressed as Redis compresses them, taking the source
/// key's compressed blob instead wherever it decompresses to the same
/// bytes (the file's own server compressed those very bytes). `false`
/// (nothing written) when `type_byte` is not made of blobs.
fn compress_blobs(
    out: &mut Vec<u8>,
    plain: &[u8],
    type_byte: u8,
    flavor: Flavor,
    k: &crate::KeyRecord<'_>,
    buf: &mut Vec<u8>,
) -> Result<bool> {
    use crate::cursor::Cursor;
    let layout =
        crate::Encoding::from_type_byte(type_byte, flavor).and_then(crate::Encoding::blob_layout);
    let Some(crate::types::BlobLayout {
        counted,
        containers,
        ..
    }) = layout
    else {
        return Ok(false);
    };
    let bad = |e: crate::Error| Error::Invalid(e.to_string());
    let mut ours = Cursor::new(plain, 0);
    // The source's blobs, walked beside ours while the two have the same
    // shape (same type, same node count and containers).
    let mut theirs =
        (k.value.type_byte() == type_byte).then(|| Cursor::new(k.value.raw(), k.value.offset()));
    let nodes = if counted {
        let n = ours.length("node count").map_err(bad)?;
        super::cursor::length(out, n);
        if let Some(c) = theirs.as_mut() {
            if c.length("node count").ok() != Some(n) {
                theirs = None;
            }
        }
        n
    } else {
        1
    };
    for _ in 0..nodes {
        if containers {
            let container = ours.length("container").map_err(bad)?;
            super::cursor::length(out, container);
            if let Some(c) = theirs.as_mut() {
                if c.length("container").ok() != Some(container) {
                    theirs = None;
                }
            }
        }
        let blob = ours.rdb_string("blob").map_err(bad)?;
        let bytes = blob.as_raw().unwrap_or_default();
        let source = theirs.as_mut().and_then(|c| c.rdb_string("blob").ok());
        let start = source.map_or(0, |s| s.offset() - k.value.offset());
        let same = source.is_some_and(|s| {
            s.lzf_parts()
                .is_some_and(|(c, len)| super::rdb_string::keeps_lzf(c.len(), len))
                && s.len() == bytes.len() as u64
                && s.bytes(buf).is_ok_and(|b| b == bytes)
        });
        if let (true, Some(c)) = (same, theirs.as_ref()) {
            let end = c.offset() - k.value.offset();
            out.extend_from_slice(&k.value.raw()[start..end]);
        } else {
            super::rdb_string::plain_or_lzf(out, bytes, true);
        }
    }
    Ok(true)
}

/// [`record_value`] for the target `t` as it is, every string written in
/// its final form.
#[allow(clippy::too_many_arguments)]
fn record_value_as(
    out: &mut Vec<u8>,
    k: &crate::KeyRecord<'_>,
    t: &Target,
    drop_field_ttls: bool,
    dropped: &mut Dropped,
    arena: &mut Arena,
    scratch: &mut crate::Scratch,
) -> Result<u8> {
    use crate::view::Typed;
    use crate::Encoding;
    let version = t.redis_version();
    let how = t.strings;
    let read = |e: crate::Error| Error::Invalid(k.annotate(e).to_string());
    arena.clear();
    let Arena {
        bytes,
        spans,
        scores,
        ttls,
        buf,
        ..
    } = arena;
    let push = |e: Elem<'_>, bytes: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>| {
        let start = bytes.len();
        e.append_to(bytes);
        spans.push((start, bytes.len()));
    };
    match k.value.typed() {
        Typed::String(v) => {
            let s = v.string().map_err(read)?;
            // An LZF string Redis would have written as it is: keep it
            // (checked to decompress), rather than compress it again.
            if let Some((c, len)) = s.lzf_parts() {
                if how.compress && super::rdb_string::keeps_lzf(c.len(), len) {
                    s.validate(scratch.limit()).map_err(read)?;
                    super::rdb_string::lzf(out, c, len);
                    return Ok(STRING);
                }
            }
            let b = s.bytes(buf).map_err(read)?;
            encoded(out, b, how);
            Ok(STRING)
        }
        Typed::List(_) | Typed::Set(_) => {
            k.value
                .for_each_member(scratch, |e| {
                    push(e, bytes, spans);
                    Ok::<_, crate::Error>(())
                })
                .map_err(read)?;
            let items = slices(bytes, spans);
            if k.value.key_type() == crate::KeyType::List {
                object::list(out, version, &items, &t.config, how)
            } else {
                object::set(out, version, &items, &t.config, how)
            }
        }
        Typed::Zset(_) => {
            let plain = matches!(k.value.encoding(), Encoding::ZSet | Encoding::ZSet2);
            k.value
                .for_each_scored(scratch, |e, sc| {
                    push(e, bytes, spans);
                    scores.push(sc.value());
                    Ok::<_, crate::Error>(())
                })
                .map_err(read)?;
            let members: Vec<(&[u8], f64)> = slices(bytes, spans)
                .into_iter()
                .zip(scores.iter().copied())
                .collect();
            object::zset_ordered(out, version, &members, &t.config, how, plain)
        }
        Typed::Hash(_) => {
            k.value
                .for_each_field(scratch, |f, v, ttl| {
                    push(f, bytes, spans);
                    push(v, bytes, spans);
                    ttls.push(ttl);
                    Ok::<_, crate::Error>(())
                })
                .map_err(read)?;
            if ttls.iter().any(Option::is_some) && !t.has_field_ttls() && !drop_field_ttls {
                return Err(Error::Missing(Missing::FieldTtl));
            }
            let s = slices(bytes, spans);
            let mut fields: Vec<(&[u8], &[u8], Option<i64>)> = s
                .chunks_exact(2)
                .zip(ttls.iter().copied())
                .map(|(p, ttl)| (p[0], p[1], ttl))
                .collect();
            hash_fields(out, &mut fields, t, drop_field_ttls, dropped)
        }
        Typed::Stream(_) | Typed::Module(_) => {
            let owned = k.value.to_owned(scratch).map_err(read)?;
            value(out, &owned, t, drop_field_ttls, false, dropped)
        }
    }
}

impl Target {
    /// What a value of `key_type` cannot be in this target at all (streams
    /// and module values before RDB 9); hash field TTLs are found while the
    /// hash is read ([`record_value`]).
    pub fn missing_type(&self, key_type: crate::KeyType) -> Option<Missing> {
        match key_type {
            crate::KeyType::Stream if self.redis_version() < 9 => Some(Missing::Stream),
            crate::KeyType::Module if self.redis_version() < 9 => Some(Missing::Module),
            _ => None,
        }
    }
}
