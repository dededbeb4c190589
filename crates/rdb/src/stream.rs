//! Streams (types 15, 19, 21, 26; docs/format.md#streams): a list of
//! (master ID, stream listpack) nodes, then metadata, consumer groups with
//! their PELs and consumers, and for type 26 the IDMP block.
//!
//! The layout is checked once when the record is read (`skim_stream`);
//! [`Stream`] then gives lazy views: entries are decoded node by node when
//! walked, groups and consumers are parsed as they are iterated.

use crate::cursor::Cursor;
use crate::elem::Elem;
use crate::error::{Error, Result};
use crate::listpack::{Listpack, ListpackIter};
use crate::rdb_string::RdbString;
use crate::rule::Rule;
use crate::value::Scratch;
use std::fmt;

/// Entry flag bits (`t_stream.c`).
pub const FLAG_DELETED: i64 = 1;
/// Entry flag: the entry has the master entry's fields (values only).
pub const FLAG_SAMEFIELDS: i64 = 2;

/// `SCG_INVALID_ENTRIES_READ`: a group's `entries_read` is unknown.
pub const ENTRIES_READ_UNKNOWN: u64 = u64::MAX;

/// A stream entry ID: milliseconds and sequence number (`ms-seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// Reads the 16-byte big-endian form used for master IDs and PELs.
    pub fn from_be_bytes(b: &[u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId {
            ms: u64::from_be_bytes(ms),
            seq: u64::from_be_bytes(seq),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Stream-level metadata. Fields a layout version lacks are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamMeta {
    /// Number of live entries.
    pub length: u64,
    /// The last ID generated (`XADD *` continues after it).
    pub last_id: StreamId,
    /// v2+.
    pub first_id: Option<StreamId>,
    /// v2+.
    pub max_deleted_id: Option<StreamId>,
    /// v2+.
    pub entries_added: Option<u64>,
}

/// A view of one stream value.
#[derive(Debug, Clone, Copy)]
pub struct Stream<'a> {
    version: u8,
    nodes: Cursor<'a>,
    node_count: u64,
    meta: StreamMeta,
    groups: Cursor<'a>,
    group_count: u64,
    idmp: Option<(Cursor<'a>, IdmpHead)>,
}

#[derive(Debug, Clone, Copy)]
struct IdmpHead {
    duration_s: u64,
    maxsize: u64,
    producer_count: u64,
}

fn read_id(c: &mut Cursor<'_>, what: &'static str) -> Result<StreamId> {
    Ok(StreamId {
        ms: c.len(what)?,
        seq: c.len(what)?,
    })
}

fn read_raw_id(c: &mut Cursor<'_>) -> Result<StreamId> {
    Ok(StreamId::from_be_bytes(&c.array::<16>("stream ID")?))
}

/// Checks the node list, metadata and groups of one stream value, leaving
/// the cursor after it.
pub(crate) fn skim_stream(c: &mut Cursor<'_>, version: u8) -> Result<()> {
    parse_layout(c, version).map(|_| ())
}

fn parse_layout<'a>(c: &mut Cursor<'a>, version: u8) -> Result<Stream<'a>> {
    let nodes_start = c.pos();
    let node_count = c.count(2, "stream listpack count")?;
    for _ in 0..node_count {
        let at = c.offset();
        let master = c.rdb_string("stream master ID")?;
        if master.len() != 16 {
            return Err(Error::invalid(
                Rule::StreamMasterId,
                at,
                format!("stream master ID is {} bytes, expected 16", master.len()),
            ));
        }
        let at = c.offset();
        let lp = c.rdb_string("stream listpack")?;
        if lp.is_empty() {
            return Err(Error::invalid(
                Rule::StreamEmptyListpack,
                at,
                "stream listpack is empty",
            ));
        }
    }
    let nodes = Cursor::new(&c.data()[nodes_start..c.pos()], c.base() + nodes_start);
    let at = c.offset();
    let length = c.len("stream length")?;
    if length > 0 && node_count == 0 {
        return Err(Error::invalid(
            Rule::StreamLength,
            at,
            format!("stream length is {length}, but it has no listpacks"),
        ));
    }
    let last_id = read_id(c, "stream last ID")?;
    let (first_id, max_deleted_id, entries_added) = if version >= 2 {
        (
            Some(read_id(c, "stream first ID")?),
            Some(read_id(c, "stream max deleted ID")?),
            Some(c.len("stream entries added")?),
        )
    } else {
        (None, None, None)
    };
    let meta = StreamMeta {
        length,
        last_id,
        first_id,
        max_deleted_id,
        entries_added,
    };
    let groups_start = c.pos();
    let group_count = c.count(3, "stream consumer group count")?;
    for _ in 0..group_count {
        skim_group(c, version)?;
    }
    let groups = Cursor::new(&c.data()[groups_start..c.pos()], c.base() + groups_start);
    let idmp = if version >= 4 {
        let head = IdmpHead {
            duration_s: c.len("stream IDMP duration")?,
            maxsize: c.len("stream IDMP maxsize")?,
            producer_count: c.count(2, "stream IDMP producer count")?,
        };
        let prod_start = c.pos();
        for _ in 0..head.producer_count {
            c.rdb_string("stream IDMP producer id")?;
            let n = c.count(3, "stream IDMP IID count")?;
            for _ in 0..n {
                c.rdb_string("stream IDMP IID")?;
                read_id(c, "stream IDMP entry ID")?;
            }
        }
        c.len("stream IDMP IIDs added")?;
        c.len("stream IDMP duplicates")?;
        Some((
            Cursor::new(&c.data()[prod_start..c.pos()], c.base() + prod_start),
            head,
        ))
    } else {
        None
    };
    Ok(Stream {
        version,
        nodes,
        node_count,
        meta,
        groups,
        group_count,
        idmp,
    })
}

fn skim_group(c: &mut Cursor<'_>, version: u8) -> Result<()> {
    c.rdb_string("consumer group name")?;
    read_id(c, "consumer group last ID")?;
    if version >= 2 {
        c.len("consumer group entries read")?;
    }
    let pel = c.count(25, "consumer group PEL size")?;
    for _ in 0..pel {
        c.take(16, "PEL entry ID")?;
        c.take(8, "PEL delivery time")?;
        c.len("PEL delivery count")?;
    }
    let consumers = c.count(10, "consumer count")?;
    for _ in 0..consumers {
        c.rdb_string("consumer name")?;
        c.take(8, "consumer seen time")?;
        if version >= 3 {
            c.take(8, "consumer active time")?;
        }
        let n = c.count(16, "consumer PEL size")?;
        c.take(n * 16, "consumer PEL")?;
    }
    Ok(())
}

impl<'a> Stream<'a> {
    pub(crate) fn parse(body: &'a [u8], offset: usize, version: u8) -> Result<Stream<'a>> {
        parse_layout(&mut Cursor::new(body, offset), version)
    }

    /// Layout version: 1 (type 15), 2 (19), 3 (21), 4 (26).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Length, last ID and, from v2, first ID, max deleted ID, entries added.
    pub fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    /// Number of (master ID, listpack) nodes.
    pub fn node_count(&self) -> u64 {
        self.node_count
    }

    /// Number of consumer groups.
    pub fn group_count(&self) -> u64 {
        self.group_count
    }

    /// Calls `f` for every node's master ID and raw listpack string.
    pub fn for_each_node<E, F>(&self, mut f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(RdbString<'a>, RdbString<'a>) -> Result<(), E>,
    {
        let mut c = self.nodes;
        c.length("stream listpack count")?;
        for _ in 0..self.node_count {
            let master = c.rdb_string("stream master ID")?;
            let lp = c.rdb_string("stream listpack")?;
            f(master, lp)?;
        }
        Ok(())
    }

    /// Calls `f` with every live entry, in stored (ID) order. Deleted
    /// entries are walked and checked but not passed on.
    pub fn for_each_entry<E, F>(&self, s: &mut Scratch, mut f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(StreamEntry<'_>) -> Result<(), E>,
    {
        let limit = s.max_decompressed;
        let Scratch { blob, a, .. } = s;
        self.for_each_node(|master, lp| {
            let master_id = {
                let b = master.bytes_limited(a, limit)?;
                let mut arr = [0u8; 16];
                arr.copy_from_slice(b);
                StreamId::from_be_bytes(&arr)
            };
            let loc = lp.blob_loc();
            let bytes = lp.bytes_limited(blob, limit)?;
            walk_node(Listpack::new(bytes, loc)?, master_id, &mut f)
        })
    }

    /// A cursor over the live entries, in stored (ID) order: the pull form
    /// of [`Stream::for_each_entry`], with the same checks. Each entry
    /// borrows the cursor (its node may be decompressed into `s`).
    pub fn entries<'s>(&self, s: &'s mut Scratch) -> Result<EntryCursor<'a, 's>> {
        let mut nodes = self.nodes;
        nodes.length("stream listpack count")?;
        Ok(EntryCursor {
            nodes,
            nodes_left: self.node_count,
            s,
            blob: NodeBlob::File(&[]),
            node: None,
        })
    }

    /// The consumer groups, in stored order.
    pub fn groups(&self) -> GroupIter<'a> {
        let mut c = self.groups;
        // Validated when the record was read.
        let _ = c.length("stream consumer group count");
        GroupIter {
            c,
            left: self.group_count,
            version: self.version,
        }
    }

    /// The idempotent-producer state of a type-26 stream.
    pub fn idmp(&self) -> Option<Idmp<'a>> {
        self.idmp.map(|(c, head)| Idmp {
            duration_s: head.duration_s,
            maxsize: head.maxsize,
            producer_count: head.producer_count,
            c,
        })
    }
}

/// Walks one stream listpack (master entry, then `count + deleted`
/// entries), checking its layout and calling `f` with every live entry.
pub fn walk_node<E, F>(lp: Listpack<'_>, master_id: StreamId, f: &mut F) -> Result<(), E>
where
    E: From<Error>,
    F: FnMut(StreamEntry<'_>) -> Result<(), E>,
{
    let loc = lp.loc();
    let mut it = lp.iter();
    let count = it.expect_int("master entry count")?;
    let deleted = it.expect_int("master entry deleted count")?;
    let at = it.pos();
    let master_fields = it.expect_int("master entry field count")?;
    if count < 0 || deleted < 0 || master_fields < 0 {
        return Err(loc
            .invalid(
                Rule::StreamMasterEntry,
                at,
                "stream master entry has a negative count",
            )
            .into());
    }
    let master_field_iter = it.clone();
    for _ in 0..master_fields {
        it.expect("master entry field")?;
    }
    let at = it.pos();
    if it.expect_int("master entry terminator")? != 0 {
        return Err(loc
            .invalid(
                Rule::StreamMasterEntry,
                at,
                "stream master entry does not end with 0",
            )
            .into());
    }
    let total = count
        .checked_add(deleted)
        .ok_or_else(|| loc.invalid(Rule::StreamMasterEntry, 0, "stream entry count overflows"))?;
    let mut live = 0i64;
    for _ in 0..total {
        let flags = it.expect_int("entry flags")?;
        let ms_diff = it.expect_int("entry ID ms delta")?;
        let seq_diff = it.expect_int("entry ID seq delta")?;
        let (fields, kind, extra) = if flags & FLAG_SAMEFIELDS != 0 {
            (
                master_fields,
                Fields::Same(master_field_iter.clone(), it.clone()),
                3,
            )
        } else {
            let at = it.pos();
            let n = it.expect_int("entry field count")?;
            if n < 0 {
                return Err(loc
                    .invalid(
                        Rule::StreamEntryFields,
                        at,
                        "stream entry field count is negative",
                    )
                    .into());
            }
            (n, Fields::Own(it.clone()), n + 4)
        };
        let items = match kind {
            Fields::Same(..) => fields,
            Fields::Own(_) => fields.saturating_mul(2),
        };
        for _ in 0..items {
            it.expect("entry field or value")?;
        }
        let at = it.pos();
        let lp_count = it.expect_int("entry lp-count")?;
        if lp_count != fields.saturating_add(extra) {
            return Err(loc
                .invalid(
                    Rule::StreamLpCount,
                    at,
                    format!(
                        "stream entry lp-count is {lp_count}, expected {}",
                        fields.saturating_add(extra)
                    ),
                )
                .into());
        }
        if flags & FLAG_DELETED == 0 {
            live += 1;
            let id = StreamId {
                ms: master_id.ms.wrapping_add(ms_diff as u64),
                seq: master_id.seq.wrapping_add(seq_diff as u64),
            };
            f(StreamEntry {
                id,
                fields: FieldIter {
                    kind,
                    left: fields as u64,
                },
            })?;
        }
    }
    let at = it.pos();
    if let Some(extra) = it.next() {
        extra?;
        return Err(loc
            .invalid(
                Rule::StreamTrailingElements,
                at,
                "stream listpack has elements after its last entry",
            )
            .into());
    }
    if live != count {
        return Err(loc
            .invalid(
                Rule::StreamLiveCount,
                0,
                format!("stream master entry counts {count} live entries, found {live}"),
            )
            .into());
    }
    Ok(())
}

/// Where the current node's listpack is.
#[derive(Debug, Clone, Copy)]
enum NodeBlob<'a> {
    File(&'a [u8]),
    /// The first `n` bytes of the scratch blob buffer.
    Scratch(usize),
}

/// The walk through one node, its listpack's bytes detached (see
/// `crate::view` for why).
#[derive(Debug)]
struct NodeWalk {
    loc: crate::elem::BlobLoc,
    master_id: StreamId,
    it: ListpackIter<'static>,
    master_field_iter: ListpackIter<'static>,
    master_fields: i64,
    count: i64,
    /// Entries (live and deleted) still to read.
    left: i64,
    live: i64,
}

/// A cursor over the live entries of a stream (see [`Stream::entries`]).
pub struct EntryCursor<'a, 's> {
    nodes: Cursor<'a>,
    nodes_left: u64,
    s: &'s mut Scratch,
    blob: NodeBlob<'a>,
    node: Option<NodeWalk>,
}

/// What `EntryCursor` found, before it lends it out.
enum Found {
    Same(ListpackIter<'static>, ListpackIter<'static>),
    Own(ListpackIter<'static>),
}

impl<'a> EntryCursor<'a, '_> {
    fn bytes(&self) -> &[u8] {
        match self.blob {
            NodeBlob::File(b) => b,
            NodeBlob::Scratch(n) => &self.s.blob[..n],
        }
    }

    /// The next live entry, or `None` after the last. After an error the
    /// cursor yields `None`.
    // Not `Iterator::next`: the entry borrows the cursor (it lends).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<StreamEntry<'_>>> {
        let (id, found, fields) = match self.advance() {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.nodes_left = 0;
                self.node = None;
                return Err(e);
            }
        };
        let bytes = self.bytes();
        let kind = match found {
            Found::Same(n, v) => Fields::Same(n.rebind(bytes), v.rebind(bytes)),
            Found::Own(it) => Fields::Own(it.rebind(bytes)),
        };
        Ok(Some(StreamEntry {
            id,
            fields: FieldIter {
                kind,
                left: fields as u64,
            },
        }))
    }

    fn open_node(&mut self) -> Result<()> {
        let limit = self.s.max_decompressed;
        let master = self.nodes.rdb_string("stream master ID")?;
        let master_id = {
            let b = master.bytes_limited(&mut self.s.a, limit)?;
            let mut arr = [0u8; 16];
            arr.copy_from_slice(b);
            StreamId::from_be_bytes(&arr)
        };
        let lp = self.nodes.rdb_string("stream listpack")?;
        let loc = lp.blob_loc();
        self.blob = match lp.as_raw() {
            Some(b) => NodeBlob::File(b),
            None => NodeBlob::Scratch(lp.bytes_limited(&mut self.s.blob, limit)?.len()),
        };
        let lp = Listpack::new(self.bytes(), loc)?;
        let mut it = lp.iter();
        let count = it.expect_int("master entry count")?;
        let deleted = it.expect_int("master entry deleted count")?;
        let at = it.pos();
        let master_fields = it.expect_int("master entry field count")?;
        if count < 0 || deleted < 0 || master_fields < 0 {
            return Err(loc.invalid(
                Rule::StreamMasterEntry,
                at,
                "stream master entry has a negative count",
            ));
        }
        let master_field_iter = it.rebind(&[]);
        for _ in 0..master_fields {
            it.expect("master entry field")?;
        }
        let at = it.pos();
        if it.expect_int("master entry terminator")? != 0 {
            return Err(loc.invalid(
                Rule::StreamMasterEntry,
                at,
                "stream master entry does not end with 0",
            ));
        }
        let total = count.checked_add(deleted).ok_or_else(|| {
            loc.invalid(Rule::StreamMasterEntry, 0, "stream entry count overflows")
        })?;
        self.node = Some(NodeWalk {
            loc,
            master_id,
            it: it.rebind(&[]),
            master_field_iter,
            master_fields,
            count,
            left: total,
            live: 0,
        });
        Ok(())
    }

    fn advance(&mut self) -> Result<Option<(StreamId, Found, i64)>> {
        loop {
            if self.node.is_none() {
                if self.nodes_left == 0 {
                    return Ok(None);
                }
                self.nodes_left -= 1;
                self.open_node()?;
            }
            let bytes = match self.blob {
                NodeBlob::File(b) => b,
                NodeBlob::Scratch(n) => &self.s.blob[..n],
            };
            let Some(n) = self.node.as_mut() else {
                continue;
            };
            let loc = n.loc;
            let mut it = n.it.rebind(bytes);
            if n.left == 0 {
                let at = it.pos();
                if let Some(extra) = it.next() {
                    extra?;
                    return Err(loc.invalid(
                        Rule::StreamTrailingElements,
                        at,
                        "stream listpack has elements after its last entry",
                    ));
                }
                if n.live != n.count {
                    return Err(loc.invalid(
                        Rule::StreamLiveCount,
                        0,
                        format!(
                            "stream master entry counts {} live entries, found {}",
                            n.count, n.live
                        ),
                    ));
                }
                self.node = None;
                continue;
            }
            n.left -= 1;
            let flags = it.expect_int("entry flags")?;
            let ms_diff = it.expect_int("entry ID ms delta")?;
            let seq_diff = it.expect_int("entry ID seq delta")?;
            let (fields, found, extra) = if flags & FLAG_SAMEFIELDS != 0 {
                (
                    n.master_fields,
                    Found::Same(n.master_field_iter.clone(), it.rebind(&[])),
                    3,
                )
            } else {
                let at = it.pos();
                let k = it.expect_int("entry field count")?;
                if k < 0 {
                    return Err(loc.invalid(
                        Rule::StreamEntryFields,
                        at,
                        "stream entry field count is negative",
                    ));
                }
                (k, Found::Own(it.rebind(&[])), k + 4)
            };
            let items = match found {
                Found::Same(..) => fields,
                Found::Own(_) => fields.saturating_mul(2),
            };
            for _ in 0..items {
                it.expect("entry field or value")?;
            }
            let at = it.pos();
            let lp_count = it.expect_int("entry lp-count")?;
            if lp_count != fields.saturating_add(extra) {
                return Err(loc.invalid(
                    Rule::StreamLpCount,
                    at,
                    format!(
                        "stream entry lp-count is {lp_count}, expected {}",
                        fields.saturating_add(extra)
                    ),
                ));
            }
            n.it = it.rebind(&[]);
            if flags & FLAG_DELETED == 0 {
                n.live += 1;
                let id = StreamId {
                    ms: n.master_id.ms.wrapping_add(ms_diff as u64),
                    seq: n.master_id.seq.wrapping_add(seq_diff as u64),
                };
                return Ok(Some((id, found, fields)));
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Fields<'b> {
    /// SAMEFIELDS: names from the master entry, values from the entry.
    Same(ListpackIter<'b>, ListpackIter<'b>),
    /// Own (field, value) pairs.
    Own(ListpackIter<'b>),
}

/// One live stream entry.
#[derive(Debug, Clone)]
pub struct StreamEntry<'b> {
    /// The entry ID.
    pub id: StreamId,
    fields: FieldIter<'b>,
}

impl<'b> StreamEntry<'b> {
    /// The entry's (field, value) pairs.
    pub fn fields(&self) -> FieldIter<'b> {
        self.fields.clone()
    }
}

/// The (field, value) pairs of a stream entry.
#[derive(Debug, Clone)]
pub struct FieldIter<'b> {
    kind: Fields<'b>,
    left: u64,
}

impl<'b> FieldIter<'b> {
    /// (field, value) pairs not yet yielded.
    pub fn len(&self) -> u64 {
        self.left
    }

    /// Whether all pairs were yielded.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

impl<'b> Iterator for FieldIter<'b> {
    type Item = Result<(Elem<'b>, Elem<'b>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = match &mut self.kind {
            Fields::Same(names, values) => names
                .expect("master field")
                .and_then(|n| Ok((n, values.expect("entry value")?))),
            Fields::Own(it) => it
                .expect("entry field")
                .and_then(|n| Ok((n, it.expect("entry value")?))),
        };
        if r.is_err() {
            self.left = 0;
        }
        Some(r)
    }
}

/// One consumer group.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// Group name.
    pub name: RdbString<'a>,
    /// Last delivered ID.
    pub last_id: StreamId,
    /// v2+; [`ENTRIES_READ_UNKNOWN`] when the server did not know it.
    pub entries_read: Option<u64>,
    pel: Cursor<'a>,
    pel_count: u64,
    consumers: Cursor<'a>,
    consumer_count: u64,
    version: u8,
}

/// One entry of a group's pending entries list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PelEntry {
    /// The pending entry's ID.
    pub id: StreamId,
    /// Last delivery, Unix ms.
    pub delivery_time_ms: i64,
    /// Times delivered.
    pub delivery_count: u64,
}

impl<'a> Group<'a> {
    /// Entries in the group PEL.
    pub fn pel_count(&self) -> u64 {
        self.pel_count
    }

    /// Number of consumers.
    pub fn consumer_count(&self) -> u64 {
        self.consumer_count
    }

    /// The group's pending entries, in stored (ID) order.
    pub fn pel(&self) -> impl Iterator<Item = Result<PelEntry>> + 'a {
        let mut c = self.pel;
        (0..self.pel_count).map(move |_| {
            Ok(PelEntry {
                id: read_raw_id(&mut c)?,
                delivery_time_ms: c.i64_le("PEL delivery time")?,
                delivery_count: c.len("PEL delivery count")?,
            })
        })
    }

    /// The group's consumers, in stored order.
    pub fn consumers(&self) -> impl Iterator<Item = Result<Consumer<'a>>> + 'a {
        let mut c = self.consumers;
        let version = self.version;
        (0..self.consumer_count).map(move |_| {
            let name = c.rdb_string("consumer name")?;
            let seen_time_ms = c.i64_le("consumer seen time")?;
            let active_time_ms = if version >= 3 {
                Some(c.i64_le("consumer active time")?)
            } else {
                None
            };
            let n = c.length("consumer PEL size")?;
            let pel_offset = c.offset();
            let pel = c.take(n.saturating_mul(16), "consumer PEL")?;
            Ok(Consumer {
                name,
                seen_time_ms,
                active_time_ms,
                pel,
                pel_offset,
            })
        })
    }
}

/// One consumer of a group.
#[derive(Debug, Clone, Copy)]
pub struct Consumer<'a> {
    /// Consumer name.
    pub name: RdbString<'a>,
    /// Last seen, Unix ms.
    pub seen_time_ms: i64,
    /// v3+.
    pub active_time_ms: Option<i64>,
    pel: &'a [u8],
    pel_offset: usize,
}

impl<'a> Consumer<'a> {
    /// Entries this consumer owns.
    pub fn pel_count(&self) -> u64 {
        (self.pel.len() / 16) as u64
    }

    /// File offset of the consumer's PEL.
    pub fn pel_offset(&self) -> usize {
        self.pel_offset
    }

    /// IDs of the entries this consumer owns, in stored order.
    pub fn pel(&self) -> impl Iterator<Item = StreamId> + 'a {
        self.pel.chunks_exact(16).map(|c| {
            let mut a = [0u8; 16];
            a.copy_from_slice(c);
            StreamId::from_be_bytes(&a)
        })
    }
}

/// The consumer groups of a stream, parsed as iterated.
pub struct GroupIter<'a> {
    c: Cursor<'a>,
    left: u64,
    version: u8,
}

impl<'a> GroupIter<'a> {
    fn group(&mut self) -> Result<Group<'a>> {
        let c = &mut self.c;
        let name = c.rdb_string("consumer group name")?;
        let last_id = read_id(c, "consumer group last ID")?;
        let entries_read = if self.version >= 2 {
            Some(c.len("consumer group entries read")?)
        } else {
            None
        };
        let pel_count = c.length("consumer group PEL size")?;
        let pel_start = c.pos();
        for _ in 0..pel_count {
            c.take(24, "PEL entry")?;
            c.len("PEL delivery count")?;
        }
        let pel = Cursor::new(&c.data()[pel_start..c.pos()], c.base() + pel_start);
        let consumer_count = c.length("consumer count")?;
        let cons_start = c.pos();
        for _ in 0..consumer_count {
            c.rdb_string("consumer name")?;
            c.take(if self.version >= 3 { 16 } else { 8 }, "consumer times")?;
            let n = c.length("consumer PEL size")?;
            c.take(n.saturating_mul(16), "consumer PEL")?;
        }
        let consumers = Cursor::new(&c.data()[cons_start..c.pos()], c.base() + cons_start);
        Ok(Group {
            name,
            last_id,
            entries_read,
            pel,
            pel_count,
            consumers,
            consumer_count,
            version: self.version,
        })
    }
}

impl<'a> Iterator for GroupIter<'a> {
    type Item = Result<Group<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = self.group();
        if r.is_err() {
            self.left = 0;
        }
        Some(r)
    }
}

/// Idempotent-producer state of a type-26 stream (Redis 8.6).
#[derive(Debug, Clone)]
pub struct Idmp<'a> {
    /// IID retention in seconds.
    pub duration_s: u64,
    /// IIDs kept per producer.
    pub maxsize: u64,
    /// Number of producers.
    pub producer_count: u64,
    c: Cursor<'a>,
}

/// One producer's IIDs.
#[derive(Debug, Clone)]
pub struct Producer<'a> {
    /// Producer id.
    pub pid: RdbString<'a>,
    iids: Cursor<'a>,
    iid_count: u64,
}

impl<'a> Producer<'a> {
    /// Number of IIDs.
    pub fn iid_count(&self) -> u64 {
        self.iid_count
    }

    /// (IID, the entry ID it produced) pairs, in stored order.
    pub fn iids(&self) -> impl Iterator<Item = Result<(RdbString<'a>, StreamId)>> + 'a {
        let mut c = self.iids;
        (0..self.iid_count).map(move |_| {
            let iid = c.rdb_string("stream IDMP IID")?;
            Ok((iid, read_id(&mut c, "stream IDMP entry ID")?))
        })
    }
}

impl<'a> Idmp<'a> {
    /// The producers, in stored order.
    pub fn producers(&self) -> impl Iterator<Item = Result<Producer<'a>>> + 'a {
        let mut c = self.c;
        (0..self.producer_count).map(move |_| {
            let pid = c.rdb_string("stream IDMP producer id")?;
            let iid_count = c.len("stream IDMP IID count")?;
            let start = c.pos();
            for _ in 0..iid_count {
                c.rdb_string("stream IDMP IID")?;
                read_id(&mut c, "stream IDMP entry ID")?;
            }
            Ok(Producer {
                pid,
                iids: Cursor::new(&c.data()[start..c.pos()], c.base() + start),
                iid_count,
            })
        })
    }

    /// (iids_added, iids_duplicates) counters stored after the producers.
    pub fn counters(&self) -> Result<(u64, u64)> {
        let mut c = self.c;
        for p in self.producers() {
            let p = p?;
            // Skip to the end of the last producer.
            let end = p.iids.base() + p.iids.data().len();
            c.set_pos(end - c.base());
        }
        Ok((
            c.len("stream IDMP IIDs added")?,
            c.len("stream IDMP duplicates")?,
        ))
    }
}
