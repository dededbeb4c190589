//! Owned values and records: what the writers, AOF replay and diff build
//! and hold, and what the JSON reader produces.
//!
//! Compact by design, since replay holds a whole dataset: the elements of
//! a collection live in one [`Packed`] buffer, each as a LEB128 length and
//! its bytes, back to back (like a listpack, without the back-lengths).
//! Memory per element: its bytes plus 1 length byte up to 127 bytes (2 up
//! to 16 KiB, 3 up to 2 MiB); per collection, one `Vec` (24 bytes) and a
//! count. Zset scores add 9 bytes per member (packed after it); hash field
//! TTLs 8 bytes per field, only in hashes that have any. A key record is
//! 136 bytes plus its key, its value's buffers and allocator overhead: on a
//! 65 MB mixed file of 417k keys written by Redis 7.0, all records held at
//! once count 137 MB of heap against the server's `used-mem` of 146 MB
//! (about 152 MB resident with the allocator's overhead; see the
//! `owned_memory` test). Integers are held as their decimal
//! text, which is what they stand for.
//!
//! Owned values hand out the same cursor shapes as the borrowed views
//! ([`crate::view`]): `next() -> Result<Option<Elem<'_>>>` and its zset and
//! hash forms, through the [`Members`], [`Scored`] and [`Fields`] traits
//! that both implement, so a consumer renders either through one path.

use crate::elem::{Elem, Score};
use crate::error::{Error, Result};
use crate::records::{KeyRecord, Record};
use crate::stream::{Stream, StreamId, ENTRIES_READ_UNKNOWN};
use crate::types::KeyType;
use crate::value::{Scratch, Value};
use crate::view::{FieldCursor, MemberCursor, ScoredCursor, Typed};

/// Byte strings packed back to back: LEB128 length, then the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Vec<u8>,
    len: u64,
}

impl Packed {
    /// An empty buffer.
    pub fn new() -> Packed {
        Packed::default()
    }

    /// Appends one string.
    pub fn push(&mut self, b: &[u8]) {
        let mut n = b.len() as u64;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.buf.push(byte);
                break;
            }
            self.buf.push(byte | 0x80);
        }
        self.buf.extend_from_slice(b);
        self.len += 1;
    }

    /// Appends one element in its string form.
    pub fn push_elem(&mut self, e: Elem<'_>) {
        match e {
            Elem::Str(s) => self.push(s),
            Elem::Int(v) => {
                let mut tmp = [0u8; 20];
                self.push(crate::rdb_string::int_text(v, &mut tmp));
            }
        }
    }

    /// Number of strings.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held (lengths included), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives back unused capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Gives back capacity beyond a quarter of what is held: a buffer that
    /// grew by doubling (appends) otherwise keeps up to as much again.
    pub fn trim(&mut self) {
        let len = self.buf.len();
        if self.buf.capacity() > len + len / 4 + 16 {
            self.buf.shrink_to_fit();
        }
    }

    /// A cursor over the strings, in order.
    pub fn cursor(&self) -> PackedCursor<'_> {
        PackedCursor {
            buf: &self.buf,
            pos: 0,
        }
    }
}

/// A cursor over a [`Packed`] buffer.
#[derive(Debug, Clone)]
pub struct PackedCursor<'o> {
    buf: &'o [u8],
    pos: usize,
}

impl<'o> PackedCursor<'o> {
    /// The next string, `None` after the last.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'o [u8]> {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let end = self.pos + n as usize;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

/// Cursors that hand out list elements or set members one at a time.
pub trait Members {
    /// The next element, `None` after the last.
    fn next_member(&mut self) -> Result<Option<Elem<'_>>>;
}

/// Cursors that hand out (member, score) pairs of a sorted set.
pub trait Scored {
    /// The next pair, `None` after the last.
    fn next_scored(&mut self) -> Result<Option<(Elem<'_>, Score<'_>)>>;
}

/// Cursors that hand out (field, value, expire) of a hash.
pub trait Fields {
    /// The next field, `None` after the last.
    fn next_field(&mut self) -> Result<Option<crate::view::Field<'_>>>;
}

impl Members for MemberCursor<'_, '_> {
    #[inline]
    fn next_member(&mut self) -> Result<Option<Elem<'_>>> {
        self.next()
    }
}

impl Scored for ScoredCursor<'_, '_> {
    #[inline]
    fn next_scored(&mut self) -> Result<Option<(Elem<'_>, Score<'_>)>> {
        self.next()
    }
}

impl Fields for FieldCursor<'_, '_> {
    #[inline]
    fn next_field(&mut self) -> Result<Option<crate::view::Field<'_>>> {
        self.next()
    }
}

impl Members for PackedCursor<'_> {
    #[inline]
    fn next_member(&mut self) -> Result<Option<Elem<'_>>> {
        Ok(self.next().map(Elem::Str))
    }
}

impl crate::view::MemberWalk for Packed {
    fn walk_members<E, F>(&self, _: &mut Scratch, mut f: F) -> std::result::Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>) -> std::result::Result<(), E>,
    {
        let mut c = self.cursor();
        while let Some(e) = c.next() {
            f(Elem::Str(e))?;
        }
        Ok(())
    }
}

impl crate::view::ScoredWalk for OwnedZset {
    fn walk_scored<E, F>(&self, _: &mut Scratch, mut f: F) -> std::result::Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Score<'_>) -> std::result::Result<(), E>,
    {
        let mut c = self.cursor();
        while let Some((m, score)) = c.next_scored()? {
            f(m, score)?;
        }
        Ok(())
    }
}

impl crate::view::FieldWalk for OwnedHash {
    fn walk_fields<E, F>(&self, _: &mut Scratch, mut f: F) -> std::result::Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Elem<'_>, Option<i64>) -> std::result::Result<(), E>,
    {
        let mut c = self.cursor();
        while let Some((k, v, t)) = c.next_field()? {
            f(k, v, t)?;
        }
        Ok(())
    }
}

/// A cursor over an owned zset.
pub struct OwnedScoredCursor<'o> {
    items: PackedCursor<'o>,
}

impl Scored for OwnedScoredCursor<'_> {
    fn next_scored(&mut self) -> Result<Option<(Elem<'_>, Score<'_>)>> {
        match (self.items.next(), self.items.next()) {
            (Some(m), Some(s)) => {
                let bits: [u8; 8] = s.try_into().unwrap_or([0xff; 8]);
                Ok(Some((
                    Elem::Str(m),
                    Score::Double(f64::from_le_bytes(bits)),
                )))
            }
            _ => Ok(None),
        }
    }
}

/// A cursor over an owned hash.
pub struct OwnedFieldCursor<'o> {
    pairs: PackedCursor<'o>,
    expires: Option<std::slice::Iter<'o, i64>>,
}

impl Fields for OwnedFieldCursor<'_> {
    fn next_field(&mut self) -> Result<Option<crate::view::Field<'_>>> {
        let (Some(f), Some(v)) = (self.pairs.next(), self.pairs.next()) else {
            return Ok(None);
        };
        let t = match &mut self.expires {
            Some(it) => it.next().copied().filter(|&t| t != NO_TTL),
            None => None,
        };
        Ok(Some((Elem::Str(f), Elem::Str(v), t)))
    }
}

/// The field TTL slot of a field without one.
const NO_TTL: i64 = i64::MIN;

/// A sorted set: each member followed by its score (8 bytes,
/// little-endian IEEE 754) in one packed buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedZset {
    items: Packed,
}

impl OwnedZset {
    /// Appends a member.
    pub fn push(&mut self, member: Elem<'_>, score: f64) {
        self.items.push_elem(member);
        self.items.push(&score.to_le_bytes());
    }

    /// Number of members.
    pub fn len(&self) -> u64 {
        self.items.len() / 2
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.items.heap_bytes()
    }

    /// Gives back unused capacity.
    pub fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
    }

    /// See [`Packed::trim`].
    pub fn trim(&mut self) {
        self.items.trim();
    }

    /// A cursor over (member, score).
    pub fn cursor(&self) -> OwnedScoredCursor<'_> {
        OwnedScoredCursor {
            items: self.items.cursor(),
        }
    }

    /// The (member, score) pairs, borrowed from the zset (so they can be
    /// collected, unlike a cursor's).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let mut c = self.items.cursor();
        std::iter::from_fn(move || {
            let (m, s) = (c.next()?, c.next()?);
            Some((m, f64::from_le_bytes(s.try_into().unwrap_or([0xff; 8]))))
        })
    }
}

/// A hash: field and value packed alternately, TTLs only when any field
/// has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedHash {
    pairs: Packed,
    /// One slot per field (`i64::MIN` for none), or `None` when no field
    /// has a TTL.
    // Boxed on purpose: 8 bytes in every hash instead of 24, for the
    // rare hashes with TTLs to pay one allocation more.
    #[allow(clippy::box_collection)]
    expires: Option<Box<Vec<i64>>>,
}

impl OwnedHash {
    /// Appends a field.
    pub fn push(&mut self, field: Elem<'_>, value: Elem<'_>, expire_at_ms: Option<i64>) {
        let i = self.len() as usize;
        self.pairs.push_elem(field);
        self.pairs.push_elem(value);
        if let Some(t) = expire_at_ms {
            let ex = self
                .expires
                .get_or_insert_with(|| Box::new(vec![NO_TTL; i]));
            ex.push(t);
        } else if let Some(ex) = &mut self.expires {
            ex.push(NO_TTL);
        }
    }

    /// Number of fields.
    pub fn len(&self) -> u64 {
        self.pairs.len() / 2
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.pairs.heap_bytes() + self.expires.as_ref().map_or(0, |e| 24 + e.capacity() * 8)
    }

    /// Gives back unused capacity.
    pub fn shrink_to_fit(&mut self) {
        self.pairs.shrink_to_fit();
        if let Some(e) = &mut self.expires {
            e.shrink_to_fit();
        }
    }

    /// See [`Packed::trim`].
    pub fn trim(&mut self) {
        self.pairs.trim();
    }

    /// Whether a field has a TTL.
    pub fn has_ttls(&self) -> bool {
        self.expires.is_some()
    }

    /// Sets the TTL of the field at `index` (for readers that learn TTLs
    /// after the fields, as the JSON layout gives them).
    pub fn set_expire(&mut self, index: usize, expire_at_ms: i64) {
        let n = self.len() as usize;
        let ex = self
            .expires
            .get_or_insert_with(|| Box::new(vec![NO_TTL; n]));
        if let Some(slot) = ex.get_mut(index) {
            *slot = expire_at_ms;
        }
    }

    /// A cursor over (field, value, expire).
    pub fn cursor(&self) -> OwnedFieldCursor<'_> {
        OwnedFieldCursor {
            pairs: self.pairs.cursor(),
            expires: self.expires.as_ref().map(|e| e.iter()),
        }
    }

    /// The (field, value, expire) triples, borrowed from the hash.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8], Option<i64>)> + '_ {
        let mut c = self.pairs.cursor();
        let mut ex = self.expires.as_ref().map(|e| e.iter());
        std::iter::from_fn(move || {
            let (f, v) = (c.next()?, c.next()?);
            let t = match &mut ex {
                Some(it) => it.next().copied().filter(|&t| t != NO_TTL),
                None => None,
            };
            Some((f, v, t))
        })
    }
}

/// One stream entry: its ID and how many (field, value) pairs it has in
/// [`OwnedStream::fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnedEntry {
    /// The entry ID.
    pub id: StreamId,
    /// Number of (field, value) pairs.
    pub fields: u32,
}

/// A stream, owned: live entries with their fields packed in one buffer,
/// then metadata, groups and the IDMP state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedStream {
    /// Live entries, in ID order.
    pub entries: Vec<OwnedEntry>,
    /// Every entry's fields and values, alternating, entry after entry.
    pub fields: Packed,
    /// Live entries as stored.
    pub length: u64,
    /// Last generated ID.
    pub last_id: StreamId,
    /// RDB 10+.
    pub first_id: Option<StreamId>,
    /// RDB 10+.
    pub max_deleted_id: Option<StreamId>,
    /// RDB 10+.
    pub entries_added: Option<u64>,
    /// Consumer groups.
    pub groups: Vec<OwnedGroup>,
    /// Type 26 idempotent-producer state.
    pub idmp: Option<OwnedIdmp>,
}

/// One pending entry of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPending {
    /// Entry ID.
    pub id: StreamId,
    /// The owning consumer's name (`None` when none owns it).
    pub consumer: Option<Vec<u8>>,
    /// Last delivery, Unix ms.
    pub delivery_time_ms: i64,
    /// Deliveries.
    pub delivery_count: u64,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedGroup {
    /// Group name.
    pub name: Vec<u8>,
    /// Last delivered ID.
    pub last_delivered_id: StreamId,
    /// RDB 10+, `None` when unknown.
    pub entries_read: Option<u64>,
    /// The group PEL.
    pub pending: Vec<OwnedPending>,
    /// Consumers.
    pub consumers: Vec<OwnedConsumer>,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedConsumer {
    /// Consumer name.
    pub name: Vec<u8>,
    /// Last seen, Unix ms.
    pub seen_time_ms: i64,
    /// Last active, Unix ms (RDB 11+).
    pub active_time_ms: Option<i64>,
    /// IDs this consumer owns.
    pub pending: Vec<StreamId>,
}

/// One producer's IIDs: (producer id, [(iid, entry id)]).
pub type OwnedProducer = (Vec<u8>, Vec<(Vec<u8>, StreamId)>);

/// Idempotent-producer state (Redis 8.6, type 26).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedIdmp {
    /// IID retention in seconds.
    pub duration_s: u64,
    /// IIDs kept per producer.
    pub maxsize: u64,
    /// (producer id, [(iid, entry id)]).
    pub producers: Vec<OwnedProducer>,
    /// IIDs added.
    pub iids_added: u64,
    /// Duplicates seen.
    pub iids_duplicates: u64,
}

/// A module value: its id and opaque bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedModule {
    /// Module type name (9 characters).
    pub name: String,
    /// Encoding version.
    pub encver: u32,
    /// The opcode stream after the module id.
    pub raw: Vec<u8>,
}

/// An owned value, one variant per Redis type (as [`Typed`]).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    /// A string.
    String(Box<[u8]>),
    /// A list, head to tail.
    List(Packed),
    /// A set.
    Set(Packed),
    /// A sorted set.
    Zset(OwnedZset),
    /// A hash.
    Hash(OwnedHash),
    /// A stream.
    Stream(Box<OwnedStream>),
    /// A module value (boxed: rare, and the largest variant otherwise).
    Module(Box<OwnedModule>),
}

/// Every encoding name a key record can carry (`dump`'s `encoding`).
pub const ENCODING_NAMES: &[&str] = &[
    "int",
    "raw",
    "string",
    "linkedlist",
    "hashtable",
    "skiplist",
    "module",
    "zipmap",
    "ziplist",
    "intset",
    "quicklist",
    "listpack",
    "stream",
    "listpackex",
];

/// The static form of an encoding name, if it is one of [`ENCODING_NAMES`].
pub fn encoding_name(name: &str) -> Option<&'static str> {
    ENCODING_NAMES.iter().copied().find(|&n| n == name)
}

/// A key record, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedKey {
    /// Database number.
    pub db: u64,
    /// The key.
    pub key: Box<[u8]>,
    /// Absolute expire time, Unix ms.
    pub expire_at_ms: Option<i64>,
    /// LRU idle seconds.
    pub idle_s: Option<u64>,
    /// LFU counter.
    pub freq: Option<u8>,
    /// Redis 8.6 KEY_META bytes.
    pub key_meta: Option<Box<[u8]>>,
    /// The encoding the value had where it was read (`OBJECT ENCODING`
    /// terms, `int`/`raw` for strings, one of [`ENCODING_NAMES`]); a writer
    /// may choose another.
    pub encoding: &'static str,
    /// The value.
    pub value: OwnedValue,
}

/// Any record, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedRecord {
    /// The file header.
    Header {
        /// `REDIS` or `VALKEY`.
        magic: String,
        /// RDB version.
        version: u32,
    },
    /// An AUX field.
    Aux {
        /// Name.
        name: Vec<u8>,
        /// Value.
        value: Vec<u8>,
    },
    /// SELECTDB.
    SelectDb {
        /// Database number.
        db: u64,
    },
    /// RESIZEDB.
    ResizeDb {
        /// Keys hint.
        keys: u64,
        /// Expires hint.
        expires: u64,
    },
    /// Redis 7.4 slot info.
    SlotInfo {
        /// Slot.
        slot: u64,
        /// Keys.
        size: u64,
        /// Keys with expires.
        expires_size: u64,
    },
    /// A function library.
    Function {
        /// Its source.
        code: Vec<u8>,
    },
    /// A Redis 7.0 RC function.
    FunctionPreGa {
        /// Name.
        name: Vec<u8>,
        /// Engine.
        engine: Vec<u8>,
        /// Description.
        description: Option<Vec<u8>>,
        /// Source.
        code: Vec<u8>,
    },
    /// Module AUX data.
    ModuleAux {
        /// The module and its bytes.
        module: OwnedModule,
        /// 1 before the keyspace, 2 after.
        when: u64,
    },
    /// A Valkey 9 slot import job.
    SlotImport {
        /// Job name.
        job: Vec<u8>,
        /// Slot ranges.
        ranges: Vec<(u64, u64)>,
    },
    /// The end of the file.
    Eof {
        /// Checksum verdict, as `dump` names it.
        checksum: String,
        /// Bytes after the trailer (`None`: not counted, see
        /// [`crate::Eof::trailing`]).
        trailing_bytes: Option<u64>,
    },
    /// A key.
    Key(OwnedKey),
}

impl OwnedValue {
    /// Whether this is a collection with no elements, which a server
    /// leaves out (streams excepted: an empty stream is a value).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            OwnedValue::List(p) | OwnedValue::Set(p) => p.is_empty(),
            OwnedValue::Zset(z) => z.is_empty(),
            OwnedValue::Hash(h) => h.is_empty(),
            OwnedValue::String(_) | OwnedValue::Stream(_) | OwnedValue::Module(_) => false,
        }
    }

    /// The value's data type.
    pub fn key_type(&self) -> KeyType {
        match self {
            OwnedValue::String(_) => KeyType::String,
            OwnedValue::List(_) => KeyType::List,
            OwnedValue::Set(_) => KeyType::Set,
            OwnedValue::Zset(_) => KeyType::ZSet,
            OwnedValue::Hash(_) => KeyType::Hash,
            OwnedValue::Stream(_) => KeyType::Stream,
            OwnedValue::Module(_) => KeyType::Module,
        }
    }

    /// Heap bytes held (capacities, not lengths), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        match self {
            OwnedValue::String(b) => b.len(),
            OwnedValue::List(p) | OwnedValue::Set(p) => p.heap_bytes(),
            OwnedValue::Zset(z) => z.heap_bytes(),
            OwnedValue::Hash(h) => h.heap_bytes(),
            OwnedValue::Stream(st) => {
                let groups: usize = st
                    .groups
                    .iter()
                    .map(|g| {
                        std::mem::size_of::<OwnedGroup>()
                            + g.name.capacity()
                            + g.pending.capacity() * std::mem::size_of::<OwnedPending>()
                            + g.pending
                                .iter()
                                .map(|p| p.consumer.as_ref().map_or(0, Vec::capacity))
                                .sum::<usize>()
                            + g.consumers
                                .iter()
                                .map(|c| {
                                    std::mem::size_of::<OwnedConsumer>()
                                        + c.name.capacity()
                                        + c.pending.capacity() * 16
                                })
                                .sum::<usize>()
                    })
                    .sum();
                std::mem::size_of::<OwnedStream>()
                    + st.entries.capacity() * std::mem::size_of::<OwnedEntry>()
                    + st.fields.heap_bytes()
                    + groups
            }
            OwnedValue::Module(m) => {
                std::mem::size_of::<OwnedModule>() + m.raw.capacity() + m.name.capacity()
            }
        }
    }
}

impl OwnedKey {
    /// Heap bytes held by the record, its own size included.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<OwnedKey>()
            + self.key.len()
            + self.key_meta.as_ref().map_or(0, |m| m.len())
            + self.value.heap_bytes()
    }
}

impl Value<'_> {
    /// The value, decoded in full into its owned form.
    pub fn to_owned(&self, s: &mut Scratch) -> Result<OwnedValue> {
        Ok(match self.typed() {
            Typed::String(st) => OwnedValue::String(
                st.string()?
                    .bytes_limited(&mut s.a, s.max_decompressed)?
                    .into(),
            ),
            Typed::List(l) => OwnedValue::List(pack(&mut l.cursor(s)?)?),
            Typed::Set(l) => OwnedValue::Set(pack(&mut l.cursor(s)?)?),
            Typed::Zset(z) => {
                let mut out = OwnedZset::default();
                let mut c = z.cursor(s)?;
                while let Some((m, sc)) = c.next()? {
                    out.push(m, sc.value());
                }
                out.shrink_to_fit();
                OwnedValue::Zset(out)
            }
            Typed::Hash(h) => {
                let mut out = OwnedHash::default();
                let mut c = h.cursor(s)?;
                while let Some((f, v, t)) = c.next()? {
                    out.push(f, v, t);
                }
                out.shrink_to_fit();
                OwnedValue::Hash(out)
            }
            Typed::Stream(st) => OwnedValue::Stream(Box::new(own_stream(&st.stream()?, s)?)),
            Typed::Module(m) => {
                let m = m.module()?;
                OwnedValue::Module(Box::new(OwnedModule {
                    name: m.id.name(),
                    encver: m.id.encver(),
                    raw: m.raw.to_vec(),
                }))
            }
        })
    }

    /// The encoding name `dump` gives this value (`int`/`raw` for strings).
    pub fn encoding_name(&self) -> Result<&'static str> {
        Ok(match self.typed() {
            Typed::String(st) => match st.string()?.as_int() {
                Some(_) => "int",
                None => "raw",
            },
            Typed::List(_)
            | Typed::Set(_)
            | Typed::Zset(_)
            | Typed::Hash(_)
            | Typed::Stream(_)
            | Typed::Module(_) => self.encoding().name(),
        })
    }
}

fn pack(c: &mut MemberCursor<'_, '_>) -> Result<Packed> {
    let mut out = Packed::new();
    while let Some(e) = c.next()? {
        out.push_elem(e);
    }
    out.shrink_to_fit();
    Ok(out)
}

fn own_stream(st: &Stream<'_>, s: &mut Scratch) -> Result<OwnedStream> {
    let mut out = OwnedStream::default();
    st.for_each_entry(s, |e| {
        let mut n = 0u32;
        for p in e.fields() {
            let (f, v) = p?;
            out.fields.push_elem(f);
            out.fields.push_elem(v);
            n += 1;
        }
        out.entries.push(OwnedEntry {
            id: e.id,
            fields: n,
        });
        Ok::<_, Error>(())
    })?;
    let m = st.meta();
    out.length = m.length;
    out.last_id = m.last_id;
    out.first_id = m.first_id;
    out.max_deleted_id = m.max_deleted_id;
    out.entries_added = m.entries_added;
    for g in st.groups() {
        let g = g?;
        let mut owners: Vec<(StreamId, usize)> = Vec::new();
        let mut consumers = Vec::new();
        for (ci, c) in g.consumers().enumerate() {
            let c = c?;
            owners.extend(c.pel().map(|id| (id, ci)));
            consumers.push(OwnedConsumer {
                name: c.name.to_vec()?,
                seen_time_ms: c.seen_time_ms,
                active_time_ms: c.active_time_ms,
                pending: c.pel().collect(),
            });
        }
        owners.sort_unstable();
        let mut pending = Vec::new();
        for p in g.pel() {
            let p = p?;
            let owner = owners
                .binary_search_by(|(id, _)| id.cmp(&p.id))
                .ok()
                .map(|i| consumers[owners[i].1].name.clone());
            pending.push(OwnedPending {
                id: p.id,
                consumer: owner,
                delivery_time_ms: p.delivery_time_ms,
                delivery_count: p.delivery_count,
            });
        }
        out.groups.push(OwnedGroup {
            name: g.name.to_vec()?,
            last_delivered_id: g.last_id,
            entries_read: g.entries_read.filter(|&v| v != ENTRIES_READ_UNKNOWN),
            pending,
            consumers,
        });
    }
    if let Some(idmp) = st.idmp() {
        let mut producers = Vec::new();
        for p in idmp.producers() {
            let p = p?;
            let mut iids = Vec::new();
            for iid in p.iids() {
                let (iid, id) = iid?;
                iids.push((iid.to_vec()?, id));
            }
            producers.push((p.pid.to_vec()?, iids));
        }
        let (added, dups) = idmp.counters()?;
        out.idmp = Some(OwnedIdmp {
            duration_s: idmp.duration_s,
            maxsize: idmp.maxsize,
            producers,
            iids_added: added,
            iids_duplicates: dups,
        });
    }
    Ok(out)
}

impl KeyRecord<'_> {
    /// The record, decoded in full into its owned form.
    pub fn to_owned(&self, s: &mut Scratch) -> Result<OwnedKey> {
        let r = (|| {
            Ok(OwnedKey {
                db: self.db,
                key: self.key.to_vec()?.into(),
                expire_at_ms: self.expire_at_ms,
                idle_s: self.idle_s,
                freq: self.freq,
                key_meta: self.key_meta.map(Box::from),
                encoding: self.value.encoding_name()?,
                value: self.value.to_owned(s)?,
            })
        })();
        r.map_err(|e| self.annotate(e))
    }
}

impl Record<'_> {
    /// The record in its owned form.
    pub fn to_owned(&self, s: &mut Scratch) -> Result<OwnedRecord> {
        Ok(match self {
            Record::Key(k) => OwnedRecord::Key(k.to_owned(s)?),
            Record::Aux { name, value } => OwnedRecord::Aux {
                name: name.to_vec()?,
                value: value.to_vec()?,
            },
            Record::SelectDb { db } => OwnedRecord::SelectDb { db: *db },
            Record::ResizeDb { keys, expires } => OwnedRecord::ResizeDb {
                keys: *keys,
                expires: *expires,
            },
            Record::SlotInfo {
                slot,
                size,
                expires_size,
            } => OwnedRecord::SlotInfo {
                slot: *slot,
                size: *size,
                expires_size: *expires_size,
            },
            Record::Function { code } => OwnedRecord::Function {
                code: code.to_vec()?,
            },
            Record::FunctionPreGa(f) => OwnedRecord::FunctionPreGa {
                name: f.name.to_vec()?,
                engine: f.engine.to_vec()?,
                description: f.description.map(|d| d.to_vec()).transpose()?,
                code: f.code.to_vec()?,
            },
            Record::ModuleAux { module, when } => OwnedRecord::ModuleAux {
                module: OwnedModule {
                    name: module.id.name(),
                    encver: module.id.encver(),
                    raw: module.raw.to_vec(),
                },
                when: *when,
            },
            Record::SlotImport { job, ranges, .. } => OwnedRecord::SlotImport {
                job: job.to_vec()?,
                ranges: Record::slot_ranges(ranges).collect(),
            },
            Record::Eof(eof) => OwnedRecord::Eof {
                checksum: eof.checksum.as_str().to_string(),
                trailing_bytes: eof.trailing,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{FieldWalk, MemberWalk};

    #[test]
    fn packed_lengths_round_trip_at_every_varint_width() {
        let lens = [0usize, 1, 127, 128, 129, 300, 16383, 16384, 70000];
        let mut p = Packed::new();
        for &n in &lens {
            p.push(&vec![b'x'; n]);
        }
        assert_eq!(p.len(), lens.len() as u64);
        let mut c = p.cursor();
        for &n in &lens {
            assert_eq!(c.next().map(<[u8]>::len), Some(n));
        }
        assert_eq!(c.next(), None);
    }

    /// The documented cost: bytes plus one length byte per element up to
    /// 127 bytes, in one buffer.
    #[test]
    fn a_small_collection_costs_its_bytes_plus_one_per_element() {
        let mut p = Packed::new();
        for i in 0..1000u32 {
            p.push(format!("member:{i:04}").as_bytes());
        }
        p.shrink_to_fit();
        assert_eq!(p.heap_bytes(), 1000 * (11 + 1));
        let mut n = 0;
        p.walk_members(&mut Scratch::new(), |e| {
            assert!(matches!(e, Elem::Str(s) if s.starts_with(b"member:")));
            n += 1;
            Ok::<_, Error>(())
        })
        .unwrap();
        assert_eq!(n, 1000);
    }

    #[test]
    fn hash_ttls_only_when_a_field_has_one() {
        let mut h = OwnedHash::default();
        h.push(Elem::Str(b"a"), Elem::Int(1), None);
        assert!(!h.has_ttls());
        h.push(Elem::Str(b"b"), Elem::Str(b"2"), Some(5));
        h.push(Elem::Str(b"c"), Elem::Str(b"3"), None);
        h.set_expire(0, 9);
        let mut got = Vec::new();
        h.walk_fields(&mut Scratch::new(), |f, v, t| {
            got.push((f.to_vec(), v.to_vec(), t));
            Ok::<_, Error>(())
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                (b"a".to_vec(), b"1".to_vec(), Some(9)),
                (b"b".to_vec(), b"2".to_vec(), Some(5)),
                (b"c".to_vec(), b"3".to_vec(), None),
            ]
        );
    }
}
#[cfg(test)]
mod size_probe {
    /// The sizes the module documentation promises.
    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<super::OwnedKey>(), 136);
        assert_eq!(std::mem::size_of::<super::OwnedValue>(), 40);
        assert_eq!(std::mem::size_of::<super::OwnedZset>(), 32);
    }
}
