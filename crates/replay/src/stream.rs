//! A stream as replay holds it: the owned form, plus tombstones.
//!
//! A server deletes stream entries by flagging them inside their listpack
//! node (`XDEL`, and `XTRIM`/`XADD MAXLEN` within a node) and frees a node
//! once all its entries are gone. Replay does the same with a flag per
//! entry: deleting is O(1) after the lookup, and the flagged entries are
//! dropped in one pass (`compact`) once they outnumber the live ones, so
//! an AOF of `XADD … MAXLEN = n` (one trimmed entry per command) stays
//! linear. Nothing outside this module sees a tombstone: every accessor
//! and the owned form it hands out count live entries only.

use rdbscope_rdb::owned::{OwnedEntry, OwnedGroup, OwnedStream, Packed};
use rdbscope_rdb::StreamId;

/// The smallest ID (`0-0`).
pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
/// The largest ID.
pub const MAX: StreamId = StreamId {
    ms: u64::MAX,
    seq: u64::MAX,
};

/// A stream with its deleted entries still in place.
#[derive(Debug, Clone)]
pub struct XStream {
    /// Entries and fields, flagged ones included; the metadata counts the
    /// live ones. `first_id`, `max_deleted_id` and `entries_added` are
    /// always `Some` here (a server always has them; see `from_owned`).
    s: OwnedStream,
    /// Per entry of `s.entries`: deleted.
    dead: Vec<bool>,
    /// Flagged entries.
    ndead: usize,
    /// Entries before this index are all flagged (trims start here).
    head: usize,
}

impl Default for XStream {
    fn default() -> Self {
        XStream::new()
    }
}

impl XStream {
    /// An empty stream, as `XADD` or `XGROUP CREATE … MKSTREAM` makes one.
    pub fn new() -> XStream {
        XStream {
            s: OwnedStream {
                first_id: Some(ZERO),
                max_deleted_id: Some(ZERO),
                entries_added: Some(0),
                ..OwnedStream::default()
            },
            dead: Vec::new(),
            ndead: 0,
            head: 0,
        }
    }

    /// From the owned form (an RDB base, a `RESTORE` payload). Metadata an
    /// older RDB lacks is derived as the server derives it at load: the
    /// first entry's ID, no deleted ID, every live entry counted as added.
    pub fn from_owned(mut s: OwnedStream) -> XStream {
        let first = s.entries.first().map_or(ZERO, |e| e.id);
        s.first_id.get_or_insert(first);
        s.max_deleted_id.get_or_insert(ZERO);
        let len = s.length;
        s.entries_added.get_or_insert(len);
        XStream {
            dead: vec![false; s.entries.len()],
            s,
            ndead: 0,
            head: 0,
        }
    }

    /// The owned form with live entries only. Metadata the loading server
    /// `version` does not have (7.0's first/max-deleted ID, entries added
    /// and read; 7.2's consumer active time) is left out, as such a server
    /// would report none.
    pub fn into_owned(mut self, version: Option<(u32, u32)>) -> Box<OwnedStream> {
        self.compact();
        let mut s = self.s;
        if version.is_some_and(|v| v < (7, 0)) {
            s.first_id = None;
            s.max_deleted_id = None;
            s.entries_added = None;
            for g in &mut s.groups {
                g.entries_read = None;
            }
        }
        if version.is_some_and(|v| v < (7, 2)) {
            for c in s.groups.iter_mut().flat_map(|g| g.consumers.iter_mut()) {
                c.active_time_ms = None;
            }
        }
        Box::new(s)
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.s.length
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.s.length == 0
    }

    /// The last ID generated or set.
    pub fn last_id(&self) -> StreamId {
        self.s.last_id
    }

    /// Sets the last ID (`XSETID`).
    pub fn set_last_id(&mut self, id: StreamId) {
        self.s.last_id = id;
    }

    /// The largest ID deleted so far.
    pub fn max_deleted_id(&self) -> StreamId {
        self.s.max_deleted_id.unwrap_or(ZERO)
    }

    /// Sets the largest deleted ID (`XSETID … MAXDELETEDID`).
    pub fn set_max_deleted_id(&mut self, id: StreamId) {
        self.s.max_deleted_id = Some(id);
    }

    /// Sets the count of entries ever added (`XSETID … ENTRIESADDED`).
    pub fn set_entries_added(&mut self, n: u64) {
        self.s.entries_added = Some(n);
    }

    /// Consumer groups, in creation order.
    pub fn groups(&mut self) -> &mut Vec<OwnedGroup> {
        &mut self.s.groups
    }

    /// Appends an entry (its ID already checked to be above the last):
    /// `fields` alternate field and value.
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]]) {
        for f in fields {
            self.s.fields.push(f);
        }
        self.s.entries.push(OwnedEntry {
            id,
            fields: (fields.len() / 2) as u32,
        });
        self.dead.push(false);
        self.s.length += 1;
        self.s.entries_added = Some(self.s.entries_added.unwrap_or(0) + 1);
        self.s.last_id = id;
        if self.s.length == 1 {
            self.s.first_id = Some(id);
        }
    }

    /// The index of a live entry with this ID.
    fn find(&self, id: StreamId) -> Option<usize> {
        let i = self.s.entries.binary_search_by(|e| e.id.cmp(&id)).ok()?;
        (!self.dead[i]).then_some(i)
    }

    /// Whether a live entry has this ID.
    pub fn contains(&self, id: StreamId) -> bool {
        self.find(id).is_some()
    }

    /// The smallest live ID, `None` when empty.
    pub fn first_live(&self) -> Option<StreamId> {
        self.s.entries[self.head..]
            .iter()
            .zip(&self.dead[self.head..])
            .find(|(_, &d)| !d)
            .map(|(e, _)| e.id)
    }

    /// The largest live ID, `None` when empty.
    pub fn last_live(&self) -> Option<StreamId> {
        self.s
            .entries
            .iter()
            .zip(&self.dead)
            .rev()
            .find(|(_, &d)| !d)
            .map(|(e, _)| e.id)
    }

    fn kill(&mut self, i: usize) {
        self.dead[i] = true;
        self.ndead += 1;
        self.s.length -= 1;
    }

    /// Deletes the entry with this ID (`XDEL`): whether there was one.
    /// The caller updates the first and max-deleted IDs, as `XDEL` does
    /// once for all its IDs.
    pub fn delete(&mut self, id: StreamId) -> bool {
        match self.find(id) {
            Some(i) => {
                self.kill(i);
                true
            }
            None => false,
        }
    }

    /// After deletions: the first ID as the server recomputes it
    /// (`0-0` once empty, else the first live entry's).
    pub fn refresh_first_id(&mut self) {
        self.s.first_id = Some(self.first_live().unwrap_or(ZERO));
        self.maybe_compact();
    }

    /// Deletes from the head while `more(live, id)` says so (`XTRIM`):
    /// returns how many. The first ID follows, as `streamTrim` sets it.
    pub fn trim_while(&mut self, mut more: impl FnMut(u64, StreamId) -> bool) -> u64 {
        let mut deleted = 0;
        let mut i = self.head;
        while i < self.s.entries.len() {
            if !self.dead[i] {
                if !more(self.s.length, self.s.entries[i].id) {
                    break;
                }
                self.kill(i);
                deleted += 1;
            }
            i += 1;
            if self.dead[i - 1] && self.head == i - 1 {
                self.head = i;
            }
        }
        if self.s.length == 0 {
            self.s.first_id = Some(ZERO);
        } else if deleted > 0 {
            self.s.first_id = self.first_live();
        }
        self.maybe_compact();
        deleted
    }

    /// Drops the flagged entries once they outnumber the live ones, so the
    /// cost of a pass is paid for by the deletions before it.
    fn maybe_compact(&mut self) {
        if self.ndead > 64 && self.ndead as u64 > self.s.length {
            self.compact();
        }
    }

    /// Drops the flagged entries and their fields.
    fn compact(&mut self) {
        if self.ndead == 0 {
            return;
        }
        let mut fields = Packed::new();
        let mut entries = Vec::with_capacity(self.s.length as usize);
        {
            let mut c = self.s.fields.cursor();
            for (e, &dead) in self.s.entries.iter().zip(&self.dead) {
                for _ in 0..e.fields * 2 {
                    let f = c.next().unwrap_or_default();
                    if !dead {
                        fields.push(f);
                    }
                }
                if !dead {
                    entries.push(*e);
                }
            }
        }
        fields.shrink_to_fit();
        self.s.fields = fields;
        self.s.entries = entries;
        self.dead = vec![false; self.s.entries.len()];
        self.ndead = 0;
        self.head = 0;
    }

    /// Gives back capacity the entry vectors kept after growing.
    pub fn trim(&mut self) {
        self.s.fields.trim();
        let len = self.s.entries.len();
        if self.s.entries.capacity() > len + len / 4 + 16 {
            self.s.entries.shrink_to_fit();
            self.dead.shrink_to_fit();
        }
    }
}

/// The successor of an ID (`streamIncrID`): `None` past the largest.
pub fn incr(id: StreamId) -> Option<StreamId> {
    if id.seq == u64::MAX {
        if id.ms == u64::MAX {
            None
        } else {
            Some(StreamId {
                ms: id.ms + 1,
                seq: 0,
            })
        }
    } else {
        Some(StreamId {
            ms: id.ms,
            seq: id.seq + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId { ms, seq: 0 }
    }

    fn live(s: &XStream) -> Vec<u64> {
        s.clone()
            .into_owned(None)
            .entries
            .iter()
            .map(|e| e.id.ms)
            .collect()
    }

    #[test]
    fn trims_and_deletes_keep_fields_with_their_entries() {
        let mut s = XStream::new();
        for ms in 1..=300 {
            let v = ms.to_string();
            s.append(id(ms), &[b"f", v.as_bytes()]);
        }
        assert_eq!(s.trim_while(|len, _| len > 100), 200);
        assert_eq!(s.len(), 100);
        assert!(s.delete(id(250)));
        assert!(!s.delete(id(250)));
        assert!(!s.delete(id(5)));
        s.refresh_first_id();
        assert_eq!(s.first_live(), Some(id(201)));
        let owned = s.clone().into_owned(None);
        assert_eq!(owned.length, 99);
        assert_eq!(owned.entries.len(), 99);
        let mut c = owned.fields.cursor();
        for e in &owned.entries {
            assert_eq!(c.next(), Some(&b"f"[..]));
            assert_eq!(c.next(), Some(e.id.ms.to_string().as_bytes()));
        }
        assert_eq!(live(&s).first(), Some(&201));
        assert_eq!(owned.entries_added, Some(300));
        assert_eq!(owned.first_id, Some(id(201)));
        assert_eq!(s.trim_while(|_, i| i < id(1000)), 99);
        assert!(s.is_empty());
        assert_eq!(s.clone().into_owned(None).first_id, Some(ZERO));
        assert_eq!(s.last_id(), id(300));
    }

    #[test]
    fn ids_wrap_only_at_the_top() {
        assert_eq!(incr(id(1)), Some(StreamId { ms: 1, seq: 1 }));
        assert_eq!(
            incr(StreamId {
                ms: 1,
                seq: u64::MAX
            }),
            Some(id(2))
        );
        assert_eq!(incr(MAX), None);
    }
}
