//! Ziplists, the write side of [`crate::ziplist`]
//! (`docs/format.md#ziplist`): a 10-byte header (`zlbytes` u32le,
//! `zltail` u32le, the offset of the last entry, `zllen` u16le), the
//! entries, and the `0xFF` end byte. Each entry starts with `prevlen`, the
//! size of the entry before it (one byte below 254, else `0xFE` and a
//! u32le), then its encoding and data.
//!
//! Redis no longer writes ziplists (7.0 converts them to listpacks on
//! load) but reads them from older files; this writer makes such files.

use super::{atomically, fits_u32, Result};
use crate::ziplist::{COUNT_UNKNOWN, END, HEADER_SIZE};
use crate::Elem;

/// `prevlen` values from this one on take 5 bytes.
const BIG_PREVLEN: usize = 254;

/// Appends a `prevlen` field for a previous entry of `prev` bytes.
pub fn prevlen(out: &mut Vec<u8>, prev: u32) {
    if (prev as usize) < BIG_PREVLEN {
        out.push(prev as u8);
    } else {
        out.push(BIG_PREVLEN as u8);
        out.extend_from_slice(&prev.to_le_bytes());
    }
}

/// Appends the encoding and data of `e` (an entry without its `prevlen`),
/// as `ziplistPush` chooses them, and returns how many bytes that took.
/// Fails only for a string of 4 GiB or more.
pub fn element(out: &mut Vec<u8>, e: Elem<'_>) -> Result<usize> {
    let start = out.len();
    match e {
        Elem::Int(v) => {
            if (0..=12).contains(&v) {
                // 1111xxxx: 0 to 12 in the encoding byte itself (xxxx - 1).
                out.push(0xf1 + v as u8);
            } else if let Ok(x) = i8::try_from(v) {
                out.push(0xfe);
                out.extend_from_slice(&x.to_le_bytes());
            } else if let Ok(x) = i16::try_from(v) {
                out.push(0xc0);
                out.extend_from_slice(&x.to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                let b = (v as i32).to_le_bytes();
                out.extend_from_slice(&[0xf0, b[0], b[1], b[2]]);
            } else if let Ok(x) = i32::try_from(v) {
                out.push(0xd0);
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.push(0xe0);
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Elem::Str(b) => {
            let l = b.len();
            if l < 1 << 6 {
                out.push(l as u8);
            } else if l < 1 << 14 {
                // 01pppppp qqqqqqqq: 14-bit length, big-endian.
                out.extend_from_slice(&[0x40 | (l >> 8) as u8, l as u8]);
            } else {
                // 10000000 and a 32-bit big-endian length.
                let l = fits_u32("ziplist string", l as u64)?;
                out.push(0x80);
                out.extend_from_slice(&l.to_be_bytes());
            }
            out.extend_from_slice(b);
        }
    }
    Ok(out.len() - start)
}

/// Writes one ziplist into a buffer, entry by entry, as
/// [`super::listpack::Writer`] does for listpacks.
#[derive(Debug)]
pub struct Writer<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    count: u64,
    /// Size of the last entry (its `prevlen` for the next one).
    prev: u64,
    /// Offset of the last entry.
    tail: u64,
}

impl<'o> Writer<'o> {
    /// Starts a ziplist at the end of `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Writer<'o> {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_SIZE]);
        Writer {
            out,
            start,
            count: 0,
            prev: 0,
            tail: HEADER_SIZE as u64,
        }
    }

    /// Appends the entry for `e` and returns its offset from the start of
    /// the ziplist.
    pub fn push(&mut self, e: Elem<'_>) -> Result<usize> {
        let at = self.out.len() - self.start;
        let prev = fits_u32("ziplist entry", self.prev)?;
        atomically(self.out, |out| {
            prevlen(out, prev);
            element(out, e)
        })?;
        self.prev = (self.out.len() - self.start - at) as u64;
        self.tail = at as u64;
        self.count += 1;
        Ok(at)
    }

    /// The number of entries pushed so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes written so far, header included, terminator not yet.
    pub fn size(&self) -> usize {
        self.out.len() - self.start
    }

    /// Writes the end byte and the header (the count is 65535, "unknown",
    /// from 65535 entries on). A ziplist of 4 GiB or more cannot be
    /// described; it is removed from the buffer and an error returned.
    pub fn finish(self) -> Result<()> {
        self.out.push(END);
        let total = match fits_u32("ziplist", (self.out.len() - self.start) as u64) {
            Ok(t) => t,
            Err(e) => {
                self.out.truncate(self.start);
                return Err(e);
            }
        };
        // The tail is below the total, so it fits too.
        let tail = self.tail as u32;
        // COUNT_UNKNOWN is u16::MAX: a count of exactly 65535 is stored
        // as "unknown" too.
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        let header = &mut self.out[self.start..self.start + HEADER_SIZE];
        header[..4].copy_from_slice(&total.to_le_bytes());
        header[4..8].copy_from_slice(&tail.to_le_bytes());
        header[8..].copy_from_slice(&count.to_le_bytes());
        Ok(())
    }
}

/// Appends a ziplist of `elems`; on error `out` is left as it was.
pub fn ziplist<'e>(out: &mut Vec<u8>, elems: impl IntoIterator<Item = Elem<'e>>) -> Result<()> {
    atomically(out, |out| {
        let mut w = Writer::new(out);
        for e in elems {
            w.push(e)?;
        }
        w.finish()
    })
}

/// [`ziplist`] into a new buffer.
pub fn to_vec<'e>(elems: impl IntoIterator<Item = Elem<'e>>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ziplist(&mut out, elems)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elem::BlobLoc;
    use crate::ziplist::Ziplist;

    #[test]
    fn every_encoding_reads_back() {
        let long = vec![b'x'; 20_000];
        let mid = vec![b'y'; 300];
        let elems = [
            Elem::Int(0),
            Elem::Int(12),
            Elem::Int(13),
            Elem::Int(-1),
            Elem::Int(-128),
            Elem::Int(128),
            Elem::Int(-32768),
            Elem::Int(40000),
            Elem::Int(-(1 << 23)),
            Elem::Int(1 << 23),
            Elem::Int(i64::from(i32::MIN)),
            Elem::Int(i64::MIN),
            Elem::Int(i64::MAX),
            Elem::Str(b""),
            Elem::Str(b"abc"),
            Elem::Str(&mid),
            Elem::Str(&long),
            Elem::Str(b"after a big entry"),
        ];
        let zl = to_vec(elems).unwrap();
        let r = Ziplist::new(&zl, BlobLoc::raw(0)).unwrap();
        assert_eq!(r.header_count() as usize, elems.len());
        let back: Vec<Elem> = r.iter().collect::<crate::Result<_>>().unwrap();
        assert_eq!(back, elems);
    }

    #[test]
    fn format_vector() {
        assert_eq!(
            to_vec([Elem::Int(2), Elem::Int(5)]).unwrap(),
            [0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 2, 0, 0, 0xf3, 2, 0xf6, 0xff]
        );
        assert_eq!(to_vec([]).unwrap(), [11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xff]);
    }
}
