//! Salvage of a damaged RDB: every record the damage did not touch, for
//! forensics. Records are read in order and each is decoded in full; at
//! the first one that cannot be (a broken value, a broken record header,
//! bytes cut short), the walk looks for the next place it can prove to be
//! a record boundary, skips to it and goes on.
//!
//! A place is proven when `confirm` records in a row decode completely
//! from it (values included), or when the records from it decode up to a
//! proper end of file (the EOF opcode and its trailer, nothing after).
//! While proving, a key must be in an encoding the file's server version
//! writes and not an empty collection: bytes inside a damaged value often
//! decode as a record or two (a plain list in an RDB 10 file, an empty
//! hash) before they join the real ones, and no server wrote those.
//!
//! Where to resume, in order of preference:
//! 1. where the failed record ends by its own lengths, when only its value
//!    was broken and the records from there prove; or, when what broke is
//!    the length prefix of a compact blob, where the record ends by the
//!    size the blob declares for itself (listpacks and ziplists start with
//!    it), and never inside the bytes the blob must still take;
//! 2. a boundary inside the record before it whose records join the
//!    proven ones (that record's length grew with the damage and swallowed
//!    the records after it; it is the one dropped);
//! 3. the first place after the failure that proves.
//!
//! Bytes of the damage can still decode as a few records that lead onto
//! real ones. Two checks catch the copies of real keys among them: a key
//! met twice within the first `confirm` records after a resync drops the
//! first copy and what came before it, and a first walk over the whole
//! file finds keys read just after a resync that turn up again later in
//! the file, which the second walk (the one that gives records) leaves
//! out. When nothing had to be skipped the CRC-64 is still verified: a
//! mismatch means damage that decodes (a changed byte in a string), which
//! salvage cannot locate.
//!
//! A key that decodes but breaks the caller's rules ([`salvage_checked`]:
//! the CLI gives it the checks a server's deep sanitization makes) counts
//! as damaged too, so that a salvaged file loads.
//!
//! Memory: the walk holds one record at a time (a few after a resync);
//! the input is a slice of the whole file (salvage needs to move backwards
//! and forwards in it).

use crate::types::BlobKind;
use crate::{Error, Header, OwnedRecord, Rdb, Record, Records, Resume, Scratch};

/// A stretch of the file that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Offset of the first byte skipped (the start of the record that
    /// failed).
    pub from: u64,
    /// Offset of the next proven record (the end of the file when none was
    /// found).
    pub to: u64,
    /// Why the record at `from` could not be read.
    pub error: String,
    /// The last key read before the damage, with its database.
    pub key_before: Option<(u64, Vec<u8>)>,
    /// The first key read after it.
    pub key_after: Option<(u64, Vec<u8>)>,
}

/// Whether a byte can start a record: an opcode or an object type.
fn can_start(b: u8) -> bool {
    b >= 0xF2 || b <= 26
}

/// Whether a record read while proving a boundary is one this file can
/// hold: a key's encoding is one its server writes, and a collection is not
/// empty (servers delete empty collections; only streams stay).
fn plausible(header: Header, r: &Record<'_>, s: &mut Scratch) -> bool {
    match r {
        Record::Key(k) => {
            k.value.encoding().written_by(header)
                && k.value.is_empty_collection(s).ok() == Some(false)
        }
        _ => true,
    }
}

/// What the structure of a failed key record's value still says when the
/// string of one of its compact blobs or quicklist nodes does not read
/// (the damage hit its length prefix): the least the record can end at
/// (that prefix and the smallest blob of its kind are still ahead, so a
/// place inside those bytes is not the next boundary, however well the
/// bytes there decode), and where the record ends if the blob's own size
/// field is intact (a listpack and a ziplist start with their total
/// size as 4 bytes, an intset with its width and count), tried for each
/// size the damaged prefix may have had (1, 2 or 5 bytes).
/// `value` is where the failed key's value starts and its type byte, as
/// the record walk found them (the error carries them).
fn damaged_blob(data: &[u8], value: Option<(u64, u8)>, header: Header) -> (Option<u64>, Vec<u64>) {
    let none = (None, Vec::new());
    let Some((value_at, type_byte)) = value else {
        return none;
    };
    let layout = crate::Encoding::from_type_byte(type_byte, header.flavor)
        .and_then(crate::Encoding::blob_layout);
    let (Some(layout), Some(d)) = (layout, data.get(value_at as usize..)) else {
        return none;
    };
    let mut c = crate::cursor::Cursor::new(d, value_at as usize);
    let (kind, containers) = (layout.kind, layout.containers);
    let nodes = if layout.counted {
        match c.len("count") {
            Ok(n) => n,
            Err(_) => return none,
        }
    } else {
        1
    };
    for i in 0..nodes {
        let mut min = kind.min_size();
        if containers {
            match c.len("container") {
                // A PLAIN node (1) holds one element, which may be short.
                Ok(1) => min = 1,
                Ok(_) => {}
                Err(_) => return none,
            }
        }
        let at = c.offset() as u64;
        if c.rdb_string("blob").is_ok() {
            continue;
        }
        let mut ends = Vec::new();
        for prefix in [1u64, 2, 5] {
            let start = at + prefix;
            let Some(size) = declared_size(kind, data, start) else {
                continue;
            };
            let Some(end) = start.checked_add(size).filter(|&e| e <= data.len() as u64) else {
                continue;
            };
            // The nodes after this one must read from there.
            let mut rest = crate::cursor::Cursor::new(&data[end as usize..], end as usize);
            let fine = (i + 1..nodes).all(|_| {
                (!containers || rest.len("container").is_ok()) && rest.rdb_string("blob").is_ok()
            });
            if fine {
                ends.push(rest.offset() as u64);
            }
        }
        return (Some(at + 1 + min), ends);
    }
    none
}

/// The size a blob of `kind` starting at `at` declares for itself (a
/// listpack and a ziplist start with their total size, an intset with its
/// width and count; a zipmap says nothing).
fn declared_size(kind: BlobKind, data: &[u8], at: u64) -> Option<u64> {
    let word = |o: u64| -> Option<u64> {
        let b = data.get((at + o) as usize..(at + o + 4) as usize)?;
        Some(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    let size = match kind {
        BlobKind::Zipmap => return None,
        BlobKind::Ziplist | BlobKind::Listpack => word(0)?,
        BlobKind::Intset => {
            let width = word(0)?;
            if ![2, 4, 8].contains(&width) {
                return None;
            }
            8 + width * word(4)?
        }
    };
    (size >= kind.min_size()).then_some(size)
}

/// What a salvage found.
#[derive(Debug, Default)]
pub struct Salvaged {
    /// Records given to the caller.
    pub records: u64,
    /// Key records among them.
    pub keys: u64,
    /// The stretches skipped, in file order (their `key_after` filled in).
    pub skipped: Vec<Skipped>,
    /// Key records left out because the same key was already given.
    pub duplicates: u64,
    /// The file decoded from start to end, but its CRC-64 does not match:
    /// something changed that still decodes (a value's content).
    pub checksum_mismatch: bool,
}

/// What the walk gives, and the bookkeeping of giving it.
struct Giver<'f, E> {
    out: Salvaged,
    on_record: &'f mut dyn FnMut(OwnedRecord) -> Result<(), E>,
    last_key: Option<(u64, Vec<u8>)>,
    /// The skipped stretch whose `key_after` is the next key given.
    waiting_after: Option<usize>,
    /// A key given once is not given again: a resync inside damaged bytes
    /// can read a copy of a real key, and a file with a key twice does not
    /// load. Memory: 16 bytes per key (a 128-bit print of its database and
    /// name, two keyed SipHashes: a false "seen" needs a 2^-128 collision),
    /// not the names themselves.
    seen: std::collections::HashSet<u128>,
    prints: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
    /// The first records after a resync, held back (start, end, record):
    /// when one of them has the key of a later one among them, it and the
    /// records before it were bytes of the damage that decoded (a real
    /// file has each key once), and the skipped stretch grows over them.
    provisional: Vec<(u64, u64, OwnedRecord)>,
    /// Records still to hold back after the last resync.
    window: usize,
    /// Keys given from a window after a resync.
    from_window: std::collections::HashSet<(u64, Box<[u8]>)>,
    /// Keys given from a window and met again later in the file: the first
    /// was bytes of the damage. Found by a first walk, used by the second.
    strays: std::collections::HashSet<(u64, Box<[u8]>)>,
}

impl<E> Giver<'_, E> {
    fn give(&mut self, r: OwnedRecord) -> Result<(), E> {
        if let OwnedRecord::Key(k) = &r {
            use std::hash::BuildHasher;
            let print = (u128::from(self.prints.0.hash_one((k.db, &k.key))) << 64)
                | u128::from(self.prints.1.hash_one((k.db, &k.key)));
            if !self.seen.insert(print) {
                let id = (k.db, k.key.clone());
                if self.from_window.contains(&id) {
                    self.strays.insert(id);
                }
                self.out.duplicates += 1;
                return Ok(());
            }
            self.out.keys += 1;
            self.last_key = Some((k.db, k.key.to_vec()));
            if let Some(i) = self.waiting_after.take() {
                self.out.skipped[i].key_after = self.last_key.clone();
            }
        }
        self.out.records += 1;
        (self.on_record)(r)
    }

    /// Gives `r` (read from `start` to `end`), or holds it back while the
    /// window after a resync is open.
    fn offer(&mut self, start: u64, end: u64, r: OwnedRecord) -> Result<(), E> {
        if self.window == 0 {
            return self.give(r);
        }
        if let OwnedRecord::Key(k) = &r {
            if self.strays.contains(&(k.db, k.key.clone())) {
                // This copy is the stray one: it and what came before it
                // since the resync were damaged bytes.
                self.provisional.clear();
                self.grow_skip(end);
                self.window -= 1;
                return Ok(());
            }
            let twin = self.provisional.iter().rposition(
                |(_, _, p)| matches!(p, OwnedRecord::Key(pk) if pk.db == k.db && pk.key == k.key),
            );
            if let Some(i) = twin {
                let stray_end = self.provisional[i].1;
                self.provisional.drain(..=i);
                self.grow_skip(stray_end);
            }
        }
        self.provisional.push((start, end, r));
        self.window -= 1;
        if self.window == 0 {
            self.flush()?;
        }
        Ok(())
    }

    /// The last skipped stretch now reaches `to` at least.
    fn grow_skip(&mut self, to: u64) {
        if let Some(last) = self.out.skipped.last_mut() {
            last.to = last.to.max(to);
        }
    }

    /// Gives what is held back.
    fn flush(&mut self) -> Result<(), E> {
        self.window = 0;
        for (_, _, r) in std::mem::take(&mut self.provisional) {
            let id = match &r {
                OwnedRecord::Key(k) => Some((k.db, k.key.clone())),
                _ => None,
            };
            let before = self.out.keys;
            self.give(r)?;
            if let Some(id) = id.filter(|_| self.out.keys > before) {
                self.from_window.insert(id);
            }
        }
        Ok(())
    }
}

/// Walks `data` (a whole RDB file), giving every record that decodes in
/// full to `on_record` in file order and skipping what does not. Returns
/// an error only when the header itself is unreadable; `on_record`'s own
/// error stops the walk and is returned as `Ok(Err(e))`.
pub fn salvage<E>(
    data: &[u8],
    confirm: usize,
    max_decompressed: u64,
    on_record: impl FnMut(OwnedRecord) -> Result<(), E>,
) -> Result<(Salvaged, Result<(), E>), Error> {
    salvage_checked(
        data,
        confirm,
        max_decompressed,
        &mut |_, _| Ok(()),
        on_record,
    )
}

/// The rules a salvaged key must pass besides decoding (the caller's:
/// what a server's deep sanitization checks, such as a consumer's pending
/// entry being in its group's).
pub type KeyRules<'r> = dyn FnMut(&crate::KeyRecord<'_>, &mut Scratch) -> crate::Result<()> + 'r;

/// [`salvage`], with a key that decodes but breaks `rules` treated as
/// damaged: skipped (to its own end, when the records from there prove)
/// and reported, so that what is given back loads into a server that
/// checks those rules.
pub fn salvage_checked<E>(
    data: &[u8],
    confirm: usize,
    max_decompressed: u64,
    rules: &mut KeyRules<'_>,
    mut on_record: impl FnMut(OwnedRecord) -> Result<(), E>,
) -> Result<(Salvaged, Result<(), E>), Error> {
    let rdb = Rdb::new(data)?;
    let header = rdb.header();
    let mut scratch = Scratch::with_limit(max_decompressed);
    // A first walk gives nothing and only learns which keys read just after
    // a resync turn up again later (strays); the second gives the records
    // without those copies. Salvage is for forensics: twice the decoding
    // buys not losing a real key to a stray copy read before it.
    let mut ignore = |_: OwnedRecord| Ok::<(), E>(());
    let mut first = Giver::new(&mut ignore, Default::default());
    let _ = walk(
        data,
        header,
        confirm,
        &mut scratch,
        rules,
        rdb.resume_state(),
        &mut first,
    )
    .and_then(|()| first.flush());
    let strays = first.strays;
    let mut g = Giver::new(&mut on_record, strays);
    let result = walk(
        data,
        header,
        confirm,
        &mut scratch,
        rules,
        rdb.resume_state(),
        &mut g,
    );
    let result = result.and_then(|()| g.flush());
    Ok((g.out, result))
}

impl<'f, E> Giver<'f, E> {
    fn new(
        on_record: &'f mut dyn FnMut(OwnedRecord) -> Result<(), E>,
        strays: std::collections::HashSet<(u64, Box<[u8]>)>,
    ) -> Giver<'f, E> {
        Giver {
            out: Salvaged::default(),
            on_record,
            last_key: None,
            waiting_after: None,
            seen: std::collections::HashSet::new(),
            prints: Default::default(),
            provisional: Vec::new(),
            window: 0,
            from_window: std::collections::HashSet::new(),
            strays,
        }
    }
}

const JOIN_KEYS: usize = 3;

/// A record that could not be read.
struct Failed {
    /// Where it starts.
    from: u64,
    /// Why.
    error: String,
    /// The database selected there.
    db: u64,
    /// Where it ends by its own lengths, when only its value failed to
    /// decode in full.
    framed_end: Option<u64>,
    /// Where its value starts and its type byte, when the value's own
    /// framing is what failed.
    value: Option<(u64, u8)>,
}

fn walk<E>(
    data: &[u8],
    header: Header,
    confirm: usize,
    scratch: &mut Scratch,
    rules: &mut KeyRules<'_>,
    mut state: Resume,
    g: &mut Giver<'_, E>,
) -> Result<(), E> {
    // The last record read is held back until the next one reads too: when
    // the next one cannot, the held one may be the damaged one (a length
    // grown by damage swallows the records after it), and a boundary
    // inside it then proves it so.
    let mut held: Option<(u64, u64, OwnedRecord)> = None;
    loop {
        let mut records = Records::resume(&data[state.offset as usize..], &state);
        let failed: Option<Failed> = loop {
            let start = records.offset();
            let db = records.db();
            match records.next() {
                None => break None,
                Some(Err(e)) if matches!(e.kind, crate::ErrorKind::ChecksumMismatch { .. }) => {
                    g.out.checksum_mismatch = true;
                    break None;
                }
                Some(Err(e)) => {
                    break Some(Failed {
                        from: start,
                        value: e.value_offset.zip(e.rdb_type),
                        error: e.to_string(),
                        db,
                        framed_end: None,
                    });
                }
                Some(Ok(r)) => match r.to_owned(scratch).and_then(|o| match &r {
                    Record::Key(k) => rules(k, scratch).map(|()| o),
                    _ => Ok(o),
                }) {
                    Err(e) => {
                        let e = match &r {
                            Record::Key(k) => k.annotate(e),
                            _ => e,
                        };
                        break Some(Failed {
                            from: start,
                            error: e.to_string(),
                            db,
                            framed_end: Some(records.offset()),
                            value: None,
                        });
                    }
                    Ok(o) => {
                        let is_eof = matches!(o, OwnedRecord::Eof { .. });
                        if let Some((s, e, prev)) = held.replace((start, records.offset(), o)) {
                            g.offer(s, e, prev)?;
                        }
                        if is_eof {
                            break None;
                        }
                    }
                },
            }
        };
        let Some(Failed {
            from,
            error,
            db,
            framed_end,
            value,
        }) = failed
        else {
            if let Some((s, e, prev)) = held.take() {
                g.offer(s, e, prev)?;
            }
            return Ok(());
        };
        // What was held back after an earlier resync is proven by now.
        g.flush()?;
        // The next boundary after the failure: where the failed record
        // ends by its own lengths, when the damage is inside its value and
        // the records from there prove (bytes inside the damage that look
        // like records are then never read); else the first place after it
        // that proves. And, inside the held record, a boundary whose
        // records join the ones from there: then the held record swallowed
        // them (a length grown by damage) and is the one dropped.
        // A blob whose length prefix was damaged may still say its own
        // size: where the record would end then is tried like its own end.
        let (least, blob_ends) = damaged_blob(data, value, header);
        let framed = framed_end
            .into_iter()
            .chain(blob_ends)
            .find(|&e| e > from && proves(data, header, e, db, confirm, e, scratch));
        // Not inside what the failed record must still hold.
        let first = least.map_or(from + 1, |m| m.max(from + 1));
        let after = framed
            .or_else(|| {
                (first..data.len() as u64).find(|&p| {
                    can_start(data[p as usize]) && proves(data, header, p, db, confirm, p, scratch)
                })
            })
            .unwrap_or(data.len() as u64);
        let inside = held.as_ref().and_then(|h| {
            (h.0 + 1..from)
                .find(|&p| {
                    can_start(data[p as usize])
                        && meets(data, header, p, db, after, scratch, 1, true)
                })
                .or_else(|| {
                    (h.0 + 1..from).find(|&p| {
                        can_start(data[p as usize])
                            && meets(data, header, p, db, after, scratch, JOIN_KEYS, false)
                    })
                })
        });
        let to = match (inside, framed) {
            (Some(p), _) => p,
            // The record's own end needs no refining.
            (None, Some(end)) => end,
            (None, None) => refine(data, header, after, db, confirm, scratch),
        };
        let mut skip_from = from;
        if let Some((h_start, _, prev)) = held.take() {
            if to < from {
                skip_from = h_start;
            } else {
                g.give(prev)?;
            }
        }
        g.out.skipped.push(Skipped {
            from: skip_from,
            to,
            error,
            key_before: g.last_key.clone(),
            key_after: None,
        });
        g.waiting_after = Some(g.out.skipped.len() - 1);
        if to >= data.len() as u64 {
            return Ok(());
        }
        // The first records from here are held back for a while (see
        // `Giver::provisional`).
        g.window = confirm.max(1);
        state = Resume::at(header, to, db);
    }
}

/// Whether `p` is a record boundary: the records from it decode in full
/// (values included) until at least `confirm` of them have and the walk has
/// passed `past`, among them a key and no key twice (runs of zero bytes
/// decode as empty strings under empty keys, which a real file never
/// repeats), or they reach a proper end of file.
fn proves(
    data: &[u8],
    header: Header,
    p: u64,
    db: u64,
    confirm: usize,
    past: u64,
    s: &mut Scratch,
) -> bool {
    let state = Resume::at(header, p, db);
    let mut records = Records::resume(&data[p as usize..], &state);
    let mut keys: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut n = 0;
    while n < confirm.max(1) || records.offset() <= past {
        match records.next() {
            Some(Ok(Record::Eof(eof))) => return eof.trailing == Some(0),
            Some(Ok(r)) if !plausible(header, &r, s) => return false,
            Some(Ok(r)) => match r.to_owned(s) {
                Ok(OwnedRecord::Key(k)) => {
                    let id = (k.db, k.key.to_vec());
                    if keys.contains(&id) {
                        return false;
                    }
                    keys.push(id);
                }
                Ok(_) => {}
                Err(_) => return false,
            },
            _ => return false,
        }
        n += 1;
        if n > 10_000 {
            break;
        }
    }
    !keys.is_empty()
}

/// Whether the records from `p` (at least one key among them) all decode
/// until they reach a boundary at or past `target` that the records from
/// `target` reach too: the two walks join. `target` itself may be a place
/// inside a real record that merely proves (bytes of a value that read as
/// records, joining the real ones a few records on); the walk from a real
/// boundary before it still joins that chain.
#[allow(clippy::too_many_arguments)]
fn meets(
    data: &[u8],
    header: Header,
    p: u64,
    db: u64,
    target: u64,
    s: &mut Scratch,
    min_keys: usize,
    exact: bool,
) -> bool {
    if target >= data.len() as u64 {
        return false;
    }
    let mut from_p = Records::resume(&data[p as usize..], &Resume::at(header, p, db));
    let mut from_t = Records::resume(&data[target as usize..], &Resume::at(header, target, db));
    let (mut at_p, mut at_t) = (p, target);
    let mut keys = 0;
    // Each step moves the walk that is behind; both only move forwards.
    for _ in 0..100_000 {
        if at_p == at_t {
            return keys >= min_keys;
        }
        if exact && at_p > target {
            return false;
        }
        let behind_is_p = at_p < at_t;
        let (walk, at) = if behind_is_p {
            (&mut from_p, &mut at_p)
        } else {
            (&mut from_t, &mut at_t)
        };
        match walk.next() {
            Some(Ok(Record::Eof(_))) | None | Some(Err(_)) => return false,
            Some(Ok(r)) if !plausible(header, &r, s) => return false,
            Some(Ok(r)) => match r.to_owned(s) {
                Ok(OwnedRecord::Key(_)) if behind_is_p => keys += 1,
                Ok(_) => {}
                Err(_) => return false,
            },
        }
        *at = walk.offset();
    }
    false
}

/// A boundary found inside damaged bytes can be the middle of a real key
/// record: its key (type byte onwards) after the expire or LFU opcodes
/// that begin the record. When one of the first records proven from `at`
/// has such opcodes just before it, and the chain proves from there too,
/// the records before are bytes of the damage and the walk resumes at the
/// real record start.
fn refine(data: &[u8], header: Header, at: u64, db: u64, confirm: usize, s: &mut Scratch) -> u64 {
    if at >= data.len() as u64 {
        return at;
    }
    let mut records = Records::resume(&data[at as usize..], &Resume::at(header, at, db));
    for _ in 0..confirm.max(1) {
        let b = records.offset();
        let is_key = matches!(records.next(), Some(Ok(Record::Key(_))));
        if !is_key {
            break;
        }
        // [FC ms:8] type, [F9 freq:1] type, [FC ms:8][F9 freq:1] type.
        for prefix in [11u64, 9, 2] {
            let Some(q) = b.checked_sub(prefix) else {
                continue;
            };
            if q <= at {
                continue;
            }
            let looks = match prefix {
                11 => data[q as usize] == 0xFC && data[(b - 2) as usize] == 0xF9,
                9 => data[q as usize] == 0xFC,
                _ => data[q as usize] == 0xF9,
            };
            if looks && proves(data, header, q, db, confirm, q, s) {
                return q;
            }
        }
    }
    at
}
