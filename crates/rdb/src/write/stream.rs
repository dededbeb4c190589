//! Stream values, the write side of [`crate::stream`]
//! (`docs/format.md#streams`): the node listpacks that hold the entries,
//! and the value layout around them (metadata, consumer groups, and in
//! layout 4 the idempotent-producer state).
//!
//! A node is a listpack keyed by its master ID, the ID of its first entry.
//! It starts with the master entry: the live and deleted entry counts, the
//! master fields (the first entry's field names) and a 0. Each entry
//! follows as its flags, its ID as a difference from the master ID, its
//! values alone when its fields are the master fields (flag SAMEFIELDS),
//! else its field count and field, value pairs, and last its `lp-count`,
//! the number of listpack elements it took before that one, which lets the
//! node be walked backwards.

use super::cursor::length;
use super::listpack::{stored_form, Writer as ListpackWriter};
use super::rdb_string::{encoded, Strings};
use super::value::blob;
use super::{atomically, Error, Result};
use crate::stream::PelEntry;
use crate::{Elem, StreamId};

/// Entry flag: deleted (still in the node, not counted as live).
pub const FLAG_DELETED: i64 = 1;
/// Entry flag: the entry's fields are the master fields, only its values
/// are stored.
pub const FLAG_SAMEFIELDS: i64 = 2;

/// One entry to put in a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its ID; entries of a node are in ascending ID order, none below the
    /// master ID.
    pub id: StreamId,
    /// Its (field, value) pairs, at least one for XADD to have made it.
    pub fields: Vec<(&'a [u8], &'a [u8])>,
    /// Whether XDEL removed it (it stays in the node, flagged).
    pub deleted: bool,
}

/// Appends a stream ID in the 16-byte big-endian form of master IDs and
/// pending entries lists.
pub fn id16(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.ms.to_be_bytes());
    out.extend_from_slice(&id.seq.to_be_bytes());
}

/// Appends the node listpack of `entries` under `master_id` (normally the
/// first entry's ID), as `streamAppendItem` lays it out: master fields are
/// the first entry's field names, fields and values are stored as
/// `lpAppend` stores them, ID parts as differences from the master ID.
pub fn node_listpack(out: &mut Vec<u8>, master_id: StreamId, entries: &[Entry<'_>]) -> Result<()> {
    let master_fields: &[(&[u8], &[u8])] = entries.first().map_or(&[], |e| &e.fields);
    let deleted = entries.iter().filter(|e| e.deleted).count() as u64;
    let live = entries.len() as u64 - deleted;
    atomically(out, |out| {
        let mut w = ListpackWriter::new(out);
        w.push(Elem::Int(live as i64))?;
        w.push(Elem::Int(deleted as i64))?;
        master_elems(master_fields, |e| w.push(e).map(drop))?;
        for e in entries {
            entry_elems(e, master_id, master_fields, |e| w.push(e).map(drop))?;
        }
        w.finish()
    })
}

/// The master entry after its two counts: the master field count, the
/// field names and the closing 0.
fn master_elems(
    master_fields: &[(&[u8], &[u8])],
    mut push: impl FnMut(Elem<'_>) -> Result<()>,
) -> Result<()> {
    push(Elem::Int(master_fields.len() as i64))?;
    for (f, _) in master_fields {
        push(stored_form(f))?;
    }
    push(Elem::Int(0))
}

/// The listpack elements of one entry in a node under `master_id` whose
/// master fields are `master_fields`.
fn entry_elems(
    e: &Entry<'_>,
    master_id: StreamId,
    master_fields: &[(&[u8], &[u8])],
    mut push: impl FnMut(Elem<'_>) -> Result<()>,
) -> Result<()> {
    let same = e.fields.len() == master_fields.len()
        && e.fields.iter().zip(master_fields).all(|(a, b)| a.0 == b.0);
    let mut flags = 0;
    if e.deleted {
        flags |= FLAG_DELETED;
    }
    if same {
        flags |= FLAG_SAMEFIELDS;
    }
    push(Elem::Int(flags))?;
    // The differences are stored as signed 64-bit integers.
    push(Elem::Int(e.id.ms.wrapping_sub(master_id.ms) as i64))?;
    push(Elem::Int(e.id.seq.wrapping_sub(master_id.seq) as i64))?;
    let taken = if same {
        for (_, v) in &e.fields {
            push(stored_form(v))?;
        }
        3 + e.fields.len()
    } else {
        push(Elem::Int(e.fields.len() as i64))?;
        for (f, v) in &e.fields {
            push(stored_form(f))?;
            push(stored_form(v))?;
        }
        4 + 2 * e.fields.len()
    };
    push(Elem::Int(taken as i64))
}

/// The size in bytes of a node listpack as entries are added to it, without
/// building it: what XADD compares with `stream-node-max-bytes` before it
/// appends to the tail node. Each entry's elements depend only on itself,
/// the master ID and the master fields, so the size grows by their sizes
/// plus the change in the live count's own size.
#[derive(Debug, Clone)]
pub struct NodeSize<'e> {
    master_id: StreamId,
    master_fields: &'e [(&'e [u8], &'e [u8])],
    live: i64,
    deleted: i64,
    /// Everything but the two counts.
    rest: usize,
}

impl<'e> NodeSize<'e> {
    /// An empty node that `first` (its first entry) will open.
    pub fn new(first: &'e Entry<'e>) -> Result<NodeSize<'e>> {
        let mut rest = crate::listpack::HEADER_SIZE + 1;
        master_elems(&first.fields, |e| {
            rest += super::listpack::entry_size(e);
            Ok(())
        })?;
        Ok(NodeSize {
            master_id: first.id,
            master_fields: &first.fields,
            live: 0,
            deleted: 0,
            rest,
        })
    }

    /// Adds an entry.
    pub fn push(&mut self, e: &Entry<'_>) -> Result<()> {
        let mut rest = self.rest;
        entry_elems(e, self.master_id, self.master_fields, |el| {
            rest += super::listpack::entry_size(el);
            Ok(())
        })?;
        self.rest = rest;
        if e.deleted {
            self.deleted += 1;
        } else {
            self.live += 1;
        }
        Ok(())
    }

    /// The node listpack's size now.
    pub fn bytes(&self) -> usize {
        self.rest
            + super::listpack::entry_size(Elem::Int(self.live))
            + super::listpack::entry_size(Elem::Int(self.deleted))
    }
}

/// One node of a stream value: its master ID and its listpack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's key, the ID its entries' IDs are relative to.
    pub master_id: StreamId,
    /// The node listpack (see [`node_listpack`]).
    pub listpack: Vec<u8>,
}

impl Node {
    /// The node holding `entries`, keyed by the first entry's ID.
    pub fn of(entries: &[Entry<'_>]) -> Result<Node> {
        let master_id = entries.first().map_or(StreamId::default(), |e| e.id);
        let mut listpack = Vec::new();
        node_listpack(&mut listpack, master_id, entries)?;
        Ok(Node {
            master_id,
            listpack,
        })
    }
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Its name.
    pub name: Vec<u8>,
    /// When it was last seen, in ms.
    pub seen_time_ms: i64,
    /// When it last read or claimed successfully, in ms (layout 3+).
    pub active_time_ms: i64,
    /// The IDs of the pending entries it owns, each also in the group's
    /// PEL.
    pub pel: Vec<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// Its name.
    pub name: Vec<u8>,
    /// The last ID delivered to it.
    pub last_id: StreamId,
    /// How many entries it has read (layout 2+;
    /// [`crate::stream::ENTRIES_READ_UNKNOWN`] when unknown).
    pub entries_read: u64,
    /// Its pending entries list, in ascending ID order.
    pub pel: Vec<PelEntry>,
    /// Its consumers.
    pub consumers: Vec<Consumer>,
}

/// One idempotent producer (layout 4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Producer {
    /// The producer id.
    pub name: Vec<u8>,
    /// (idempotency id, entry ID) pairs it has recorded.
    pub iids: Vec<(Vec<u8>, StreamId)>,
}

/// The idempotent-producer state of layout 4 (type 26, Redis 8.2+).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Idmp {
    /// How long idempotency ids are kept, in seconds.
    pub duration_s: u64,
    /// How many are kept per producer.
    pub maxsize: u64,
    /// The producers.
    pub producers: Vec<Producer>,
    /// Idempotency ids added so far.
    pub iids_added: u64,
    /// Duplicates refused so far.
    pub duplicates: u64,
}

/// A whole stream value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Its nodes, in ascending master ID order.
    pub nodes: Vec<Node>,
    /// The number of live entries.
    pub length: u64,
    /// The highest ID ever added.
    pub last_id: StreamId,
    /// The first live entry's ID (layout 2+).
    pub first_id: StreamId,
    /// The highest ID deleted (layout 2+).
    pub max_deleted_id: StreamId,
    /// Entries ever added (layout 2+).
    pub entries_added: u64,
    /// Its consumer groups.
    pub groups: Vec<Group>,
    /// Idempotent-producer state; layout 4 only, must be empty for others.
    pub idmp: Idmp,
}

/// The type byte of each stream layout version (1 to 4).
pub fn type_byte(version: u8) -> Option<u8> {
    use crate::types::rdb_type::*;
    Some(match version {
        1 => STREAM_LISTPACKS,
        2 => STREAM_LISTPACKS_2,
        3 => STREAM_LISTPACKS_3,
        4 => STREAM_LISTPACKS_4,
        _ => return None,
    })
}

fn id_lengths(out: &mut Vec<u8>, id: StreamId) {
    length(out, id.ms);
    length(out, id.seq);
}

/// Appends `s` in layout `version` (1: type 15, 2: 19, 3: 21, 4: 26): the
/// nodes, the length and last ID, from layout 2 the first and max deleted
/// IDs and the entries added, the groups (from layout 2 with their
/// entries read, from 3 with consumer active times), and in layout 4 the
/// idempotent-producer state. Fields a layout lacks are not written; an
/// unknown version, or producer state for a layout without it, is an
/// error.
pub fn stream(out: &mut Vec<u8>, version: u8, s: &Stream, how: Strings) -> Result<()> {
    if type_byte(version).is_none() {
        return Err(Error::Invalid(format!(
            "stream layout version {version} is not 1 to 4"
        )));
    }
    if version < 4 && s.idmp != Idmp::default() {
        return Err(Error::Invalid(format!(
            "stream layout {version} has no place for idempotent-producer state"
        )));
    }
    length(out, s.nodes.len() as u64);
    for node in &s.nodes {
        let mut key = Vec::with_capacity(16);
        id16(&mut key, node.master_id);
        super::rdb_string::string(out, &key);
        blob(out, &node.listpack, how);
    }
    length(out, s.length);
    id_lengths(out, s.last_id);
    if version >= 2 {
        id_lengths(out, s.first_id);
        id_lengths(out, s.max_deleted_id);
        length(out, s.entries_added);
    }
    length(out, s.groups.len() as u64);
    for g in &s.groups {
        encoded(out, &g.name, how);
        id_lengths(out, g.last_id);
        if version >= 2 {
            length(out, g.entries_read);
        }
        length(out, g.pel.len() as u64);
        for p in &g.pel {
            id16(out, p.id);
            out.extend_from_slice(&p.delivery_time_ms.to_le_bytes());
            length(out, p.delivery_count);
        }
        length(out, g.consumers.len() as u64);
        for c in &g.consumers {
            encoded(out, &c.name, how);
            out.extend_from_slice(&c.seen_time_ms.to_le_bytes());
            if version >= 3 {
                out.extend_from_slice(&c.active_time_ms.to_le_bytes());
            }
            length(out, c.pel.len() as u64);
            for &id in &c.pel {
                id16(out, id);
            }
        }
    }
    if version >= 4 {
        let i = &s.idmp;
        length(out, i.duration_s);
        length(out, i.maxsize);
        length(out, i.producers.len() as u64);
        for p in &i.producers {
            encoded(out, &p.name, how);
            length(out, p.iids.len() as u64);
            for (iid, id) in &p.iids {
                encoded(out, iid, how);
                id_lengths(out, *id);
            }
        }
        length(out, i.iids_added);
        length(out, i.duplicates);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Scratch;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn node_size_is_the_built_size() {
        let long = vec![b'v'; 5000];
        let mut entries = Vec::new();
        for i in 0..300u64 {
            let fields: Vec<(&[u8], &[u8])> = match i % 4 {
                0 => vec![(b"a", b"1"), (b"b", b"x")],
                1 => vec![(b"a", b"-70000"), (b"b", &long[..(i as usize * 17) % 5000])],
                2 => vec![(b"c", b"12345678901")],
                _ => vec![(b"a", b"y"), (b"b", b"-1")],
            };
            entries.push(Entry {
                id: id(1000 + i * 1000, i % 3),
                fields,
                deleted: i % 7 == 3,
            });
        }
        let mut size = NodeSize::new(&entries[0]).unwrap();
        let mut lp = Vec::new();
        for i in 0..entries.len() {
            size.push(&entries[i]).unwrap();
            lp.clear();
            node_listpack(&mut lp, entries[0].id, &entries[..=i]).unwrap();
            assert_eq!(size.bytes(), lp.len(), "after {} entries", i + 1);
        }
    }

    /// The node of `docs/format.md#streams`: `XADD s 1-1 a 1 b x`,
    /// `XADD s 1-2 a 2 b y`, `XADD s 5-0 c z`.
    #[test]
    #[rustfmt::skip]
    fn format_example_node() {
        let entries = [
            Entry {
                id: id(1, 1),
                fields: vec![(b"a", b"1"), (b"b", b"x")],
                deleted: false,
            },
            Entry {
                id: id(1, 2),
                fields: vec![(b"a", b"2"), (b"b", b"y")],
                deleted: false,
            },
            Entry {
                id: id(5, 0),
                fields: vec![(b"c", b"z")],
                deleted: false,
            },
        ];
        let node = Node::of(&entries).unwrap();
        use Elem::{Int as N, Str as S};
        let want = super::super::listpack::to_vec([
            N(3), N(0), N(2), S(b"a"), S(b"b"), N(0),
            N(2), N(0), N(0), N(1), S(b"x"), N(5),
            N(2), N(0), N(1), N(2), S(b"y"), N(5),
            N(0), N(4), N(-1), N(1), S(b"c"), S(b"z"), N(6),
        ])
        .unwrap();
        assert_eq!(node.listpack, want);
        for version in 1..=4 {
            let s = Stream {
                nodes: vec![node.clone()],
                length: 3,
                last_id: id(5, 0),
                first_id: id(1, 1),
                entries_added: 3,
                groups: vec![Group {
                    name: b"g".to_vec(),
                    last_id: id(1, 1),
                    entries_read: 1,
                    pel: vec![PelEntry {
                        id: id(1, 1),
                        delivery_time_ms: 5,
                        delivery_count: 1,
                    }],
                    consumers: vec![Consumer {
                        name: b"alice".to_vec(),
                        pel: vec![id(1, 1)],
                        ..Consumer::default()
                    }],
                }],
                ..Stream::default()
            };
            let mut out = Vec::new();
            stream(&mut out, version, &s, Strings::PLAIN).unwrap();
            let st = crate::stream::Stream::parse(&out, 0, version).unwrap();
            assert_eq!(st.meta().length, 3);
            let mut seen = Vec::new();
            st.for_each_entry(&mut Scratch::default(), |e| {
                seen.push(e.id);
                Ok::<_, crate::Error>(())
            })
            .unwrap();
            assert_eq!(seen, [id(1, 1), id(1, 2), id(5, 0)]);
        }
        assert!(stream(&mut Vec::new(), 5, &Stream::default(), Strings::PLAIN).is_err());
    }
}
