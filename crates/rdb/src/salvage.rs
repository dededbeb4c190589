//! Salvage of a damaged RDB: every record the damage did not touch, for
//! forensics. Records are read in order and each is decoded in full; at
//! the first one that cannot be (a broken value, a broken record header,
//! bytes cut short), the walk looks for the next place it can prove to be
//! a record boundary, skips to it and goes on.
//!
//! A place is proven when `confirm` records in a row decode completely
//! from it (values included), or when the records from it decode up to a
//! proper end of file (the EOF opcode and its trailer, nothing after). The
//! search only tries bytes that can start a record (an opcode or a known
//! type byte). Bytes that happen to look like records inside the damage
//! could only be taken for a boundary if they decoded completely as
//! `confirm` records in a row. When nothing had to be skipped the CRC-64 is
//! still verified: a mismatch means damage that decodes (a changed byte in
//! a string), which salvage cannot locate.
//!
//! Memory: the walk holds one record at a time; the input is a slice of the
//! whole file (salvage needs to move backwards and forwards in it).

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

/// Walks `data` (a whole RDB file), giving every record that decodes in
/// full to `on_record` in file order and skipping what does not. Returns
/// an error only when the header itself is unreadable; `on_record`'s own
/// error stops the walk and is returned as `Ok(Err(e))`.
pub fn salvage<E>(
    data: &[u8],
    confirm: usize,
    max_decompressed: u64,
    mut on_record: impl FnMut(OwnedRecord) -> Result<(), E>,
) -> Result<(Salvaged, Result<(), E>), Error> {
    let rdb = Rdb::new(data)?;
    let header = rdb.header();
    let mut scratch = Scratch::with_limit(max_decompressed);
    let mut out = Salvaged::default();
    // The first stretch is checked against the CRC-64 (it is the whole file
    // when nothing is skipped); after a skip the checksum means nothing.
    let mut state = rdb.resume_state();
    let mut last_key: Option<(u64, Vec<u8>)> = None;
    let mut waiting_after: Option<usize> = None;
    // The last record read is held back until the next one reads too: when
    // the next one cannot, the held one may be the damaged one (a length
    // grown by damage swallows the records after it), and a boundary
    // inside it then proves it so.
    let mut held: Option<(u64, u64, OwnedRecord)> = None;
    // A key given once is not given again: a resync inside damaged bytes
    // can read a copy of a real key, and a file with a key twice does not
    // load. (Memory: every key's name, for the salvage of one file.)
    let mut seen: std::collections::HashSet<(u64, Box<[u8]>)> = std::collections::HashSet::new();
    let mut give = |r: OwnedRecord,
                    out: &mut Salvaged,
                    last_key: &mut Option<(u64, Vec<u8>)>,
                    waiting: &mut Option<usize>|
     -> Result<(), E> {
        if let OwnedRecord::Key(k) = &r {
            if !seen.insert((k.db, k.key.clone())) {
                out.duplicates += 1;
                return Ok(());
            }
            out.keys += 1;
            *last_key = Some((k.db, k.key.to_vec()));
            if let Some(i) = waiting.take() {
                out.skipped[i].key_after = last_key.clone();
            }
        }
        out.records += 1;
        on_record(r)
    };
    loop {
        let mut records = Records::resume(&data[state.offset as usize..], &state);
        let failed: Option<(u64, String, u64)> = loop {
            let start = records.offset();
            let db = records.db();
            match records.next() {
                None => break None,
                Some(Err(e)) if matches!(e.kind, crate::ErrorKind::ChecksumMismatch { .. }) => {
                    out.checksum_mismatch = true;
                    break None;
                }
                Some(Err(e)) => break Some((start, e.to_string(), db)),
                Some(Ok(r)) => match r.to_owned(&mut scratch) {
                    Err(e) => {
                        let e = match &r {
                            Record::Key(k) => k.annotate(e),
                            _ => e,
                        };
                        break Some((start, e.to_string(), db));
                    }
                    Ok(o) => {
                        let is_eof = matches!(o, OwnedRecord::Eof { .. });
                        if let Some((_, _, prev)) = held.replace((start, records.offset(), o)) {
                            if let Err(e) = give(prev, &mut out, &mut last_key, &mut waiting_after)
                            {
                                return Ok((out, Err(e)));
                            }
                        }
                        if is_eof {
                            break None;
                        }
                    }
                },
            }
        };
        let Some((from, error, db)) = failed else {
            if let Some((_, _, prev)) = held.take() {
                if let Err(e) = give(prev, &mut out, &mut last_key, &mut waiting_after) {
                    return Ok((out, Err(e)));
                }
            }
            return Ok((out, Ok(())));
        };
        // The next boundary after the failure; and, inside the held record,
        // a boundary whose records lead exactly onto it: then the held
        // record swallowed them (a length grown by damage) and is the one
        // dropped.
        let after = (from + 1..data.len() as u64)
            .find(|&p| {
                can_start(data[p as usize]) && proves(data, header, p, db, confirm, p, &mut scratch)
            })
            .unwrap_or(data.len() as u64);
        let inside = held.as_ref().and_then(|h| {
            (h.0 + 1..from).find(|&p| {
                can_start(data[p as usize]) && lands_on(data, header, p, db, after, &mut scratch)
            })
        });
        let to = match inside {
            Some(p) => p,
            None => refine(data, header, after, db, confirm, &mut scratch),
        };
        let mut skip_from = from;
        if let Some((h_start, _, prev)) = held.take() {
            if to < from {
                skip_from = h_start;
            } else if let Err(e) = give(prev, &mut out, &mut last_key, &mut waiting_after) {
                return Ok((out, Err(e)));
            }
        }
        out.skipped.push(Skipped {
            from: skip_from,
            to,
            error,
            key_before: last_key.clone(),
            key_after: None,
        });
        waiting_after = Some(out.skipped.len() - 1);
        if to >= data.len() as u64 {
            return Ok((out, Ok(())));
        }
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
            Some(Ok(Record::Eof(eof))) => return eof.trailing == 0,
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

/// Whether the records from `p` all decode and one of them ends exactly
/// at `target` (at least one key among them).
fn lands_on(data: &[u8], header: Header, p: u64, db: u64, target: u64, s: &mut Scratch) -> bool {
    if target >= data.len() as u64 {
        return false;
    }
    let mut records = Records::resume(&data[p as usize..], &Resume::at(header, p, db));
    let mut key = false;
    while records.offset() < target {
        match records.next() {
            Some(Ok(Record::Eof(_))) | None | Some(Err(_)) => return false,
            Some(Ok(r)) => match r.to_owned(s) {
                Ok(OwnedRecord::Key(_)) => key = true,
                Ok(_) => {}
                Err(_) => return false,
            },
        }
    }
    key && records.offset() == target
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
