//! Ziplists (`ziplist.c`, docs/format.md#ziplist): the compact encoding of lists,
//! hashes and zsets before Redis 7, and of quicklist v1 nodes.
//!
//! [`Ziplist::new`] applies the shallow checks (size, `zlbytes`, `zltail`
//! bound, terminator). Iteration walks each entry with bounds checks,
//! verifies every `prevlen` against the real size of the previous entry, and
//! at the end that `zltail` points at the last entry and the count matches
//! `zllen` (`ziplistValidateIntegrity` with `deep` set).

use crate::elem::{BlobLoc, Elem};
use crate::error::Result;

/// Bytes of the header: `zlbytes`, `zltail`, `zllen`.
pub const HEADER_SIZE: usize = 10;
/// The end marker.
pub const END: u8 = 0xff;
/// `zllen` value meaning "count unknown".
pub const COUNT_UNKNOWN: u16 = u16::MAX;

#[derive(Debug, Clone, Copy)]
/// A ziplist whose header passed the shallow checks; entries are
/// checked as they are walked.
pub struct Ziplist<'b> {
    data: &'b [u8],
    loc: BlobLoc,
}

impl<'b> Ziplist<'b> {
    /// Applies the shallow checks: at least 11 bytes, `zlbytes` equal to the
    /// string length, `zltail` inside it, and the end marker last.
    pub fn new(data: &'b [u8], loc: BlobLoc) -> Result<Ziplist<'b>> {
        if data.len() < HEADER_SIZE + 1 {
            return Err(loc.invalid(
                0,
                format!(
                    "ziplist of {} bytes is shorter than the minimum of 11",
                    data.len()
                ),
            ));
        }
        let zlbytes = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if zlbytes != data.len() {
            return Err(loc.invalid(
                0,
                format!(
                    "ziplist zlbytes says {zlbytes}, but the string holds {} bytes",
                    data.len()
                ),
            ));
        }
        let zltail = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
        if zltail > data.len() - 1 {
            return Err(loc.invalid(
                4,
                format!(
                    "ziplist zltail {zltail} points past the end ({} bytes)",
                    data.len()
                ),
            ));
        }
        if data[data.len() - 1] != END {
            return Err(loc.invalid(data.len() - 1, "ziplist does not end with 0xff"));
        }
        Ok(Ziplist { data, loc })
    }

    /// `zllen` from the header (65535 = unknown).
    pub fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.data[8], self.data[9]])
    }

    /// Where the ziplist is, for error messages.
    pub fn loc(&self) -> BlobLoc {
        self.loc
    }

    /// Walks the entries from the first.
    pub fn iter(&self) -> ZiplistIter<'b> {
        ZiplistIter {
            data: self.data,
            pos: HEADER_SIZE,
            prev_size: 0,
            last_entry: None,
            seen: 0,
            loc: self.loc,
            done: false,
        }
    }
}

#[derive(Debug, Clone)]
/// Walks a ziplist's entries, checking each `prevlen`, and at the end
/// `zltail` and `zllen`. Yields `Err` once and then stops.
pub struct ZiplistIter<'b> {
    data: &'b [u8],
    pos: usize,
    prev_size: usize,
    last_entry: Option<usize>,
    seen: u64,
    loc: BlobLoc,
    done: bool,
}

impl<'b> ZiplistIter<'b> {
    /// The same walk position over `data`, which must hold the bytes this
    /// walk was made over: lets a cursor keep a walk's position while the
    /// bytes live in a buffer the cursor also owns (see `crate::view`).
    pub(crate) fn rebind<'c>(&self, data: &'c [u8]) -> ZiplistIter<'c> {
        ZiplistIter {
            data,
            pos: self.pos,
            prev_size: self.prev_size,
            last_entry: self.last_entry,
            seen: self.seen,
            loc: self.loc,
            done: self.done,
        }
    }

    /// Number of entries yielded so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    fn finish(&mut self) -> Option<Result<Elem<'b>>> {
        self.done = true;
        let d = self.data;
        if self.pos != d.len() - 1 {
            return Some(Err(self.loc.invalid(
                self.pos,
                "ziplist end marker 0xff found before the end of the ziplist",
            )));
        }
        let zltail = u32::from_le_bytes([d[4], d[5], d[6], d[7]]) as usize;
        let expected_tail = self.last_entry.unwrap_or(HEADER_SIZE);
        if zltail != expected_tail {
            return Some(Err(self.loc.invalid(
                4,
                format!("ziplist zltail is {zltail}, but the last entry is at {expected_tail}"),
            )));
        }
        let count = u16::from_le_bytes([d[8], d[9]]);
        if count != COUNT_UNKNOWN && u64::from(count) != self.seen {
            return Some(Err(self.loc.invalid(
                8,
                format!(
                    "ziplist zllen says {count} entries, but it holds {}",
                    self.seen
                ),
            )));
        }
        None
    }

    fn entry(&self) -> Result<(Elem<'b>, usize)> {
        let d = self.data;
        let p = self.pos;
        let end = d.len() - 1;
        let need = |at: usize, n: usize, what: &'static str| -> Result<()> {
            if at + n > end {
                Err(self.loc.truncated(at, (at + n - end) as u64, what))
            } else {
                Ok(())
            }
        };
        // prevlen
        let (prevlen, plen) = if d[p] < 0xfe {
            (d[p] as usize, 1)
        } else if d[p] == 0xfe {
            need(p, 5, "ziplist prevlen")?;
            (
                u32::from_le_bytes([d[p + 1], d[p + 2], d[p + 3], d[p + 4]]) as usize,
                5,
            )
        } else {
            unreachable!("0xff is handled by the caller")
        };
        if prevlen != self.prev_size {
            return Err(self.loc.invalid(
                p,
                format!(
                    "ziplist entry prevlen is {prevlen}, but the previous entry is {} bytes",
                    self.prev_size
                ),
            ));
        }
        let q = p + plen;
        need(q, 1, "ziplist entry encoding")?;
        let b = d[q];
        let (elem, hdr, data_len) = match b >> 6 {
            0 => {
                let n = (b & 0x3f) as usize;
                need(q + 1, n, "ziplist string")?;
                (Elem::Str(&d[q + 1..q + 1 + n]), 1, n)
            }
            1 => {
                need(q, 2, "ziplist string length")?;
                let n = (((b & 0x3f) as usize) << 8) | d[q + 1] as usize;
                need(q + 2, n, "ziplist string")?;
                (Elem::Str(&d[q + 2..q + 2 + n]), 2, n)
            }
            2 => {
                need(q, 5, "ziplist string length")?;
                let n = u32::from_be_bytes([d[q + 1], d[q + 2], d[q + 3], d[q + 4]]) as usize;
                need(q + 5, n, "ziplist string")?;
                (Elem::Str(&d[q + 5..q + 5 + n]), 5, n)
            }
            _ => {
                let (n, what) = match b {
                    0xc0 => (2, "ziplist int16"),
                    0xd0 => (4, "ziplist int32"),
                    0xe0 => (8, "ziplist int64"),
                    0xf0 => (3, "ziplist int24"),
                    0xfe => (1, "ziplist int8"),
                    0xf1..=0xfd => (0, "ziplist immediate"),
                    _ => {
                        return Err(self
                            .loc
                            .invalid(q, format!("invalid ziplist entry encoding byte 0x{b:02x}")))
                    }
                };
                need(q + 1, n, what)?;
                let x = &d[q + 1..q + 1 + n];
                let v = match b {
                    0xc0 => i64::from(i16::from_le_bytes([x[0], x[1]])),
                    0xd0 => i64::from(i32::from_le_bytes([x[0], x[1], x[2], x[3]])),
                    0xe0 => i64::from_le_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]),
                    0xf0 => i64::from(i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8),
                    0xfe => i64::from(x[0] as i8),
                    _ => i64::from(b & 0x0f) - 1,
                };
                (Elem::Int(v), 1, n)
            }
        };
        Ok((elem, plen + hdr + data_len))
    }
}

impl<'b> Iterator for ZiplistIter<'b> {
    type Item = Result<Elem<'b>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.data[self.pos] == END {
            return self.finish();
        }
        match self.entry() {
            Ok((elem, size)) => {
                self.last_entry = Some(self.pos);
                self.prev_size = size;
                self.pos += size;
                self.seen += 1;
                Some(Ok(elem))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elems(data: &[u8]) -> Result<Vec<Elem<'_>>> {
        Ziplist::new(data, BlobLoc::raw(0))?.iter().collect()
    }

    #[test]
    fn format_md_vector() {
        let zl = [
            0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
        ];
        assert_eq!(elems(&zl).unwrap(), vec![Elem::Int(2), Elem::Int(5)]);
    }

    #[test]
    fn prevlen_zltail_and_count_are_checked() {
        let good = [
            0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
        ];
        let mut zl = good;
        zl[12] = 0x03;
        assert!(elems(&zl).unwrap_err().message().contains("prevlen"));
        let mut zl = good;
        zl[4] = 0x0a;
        assert!(elems(&zl).unwrap_err().message().contains("zltail"));
        let mut zl = good;
        zl[8] = 0x03;
        assert!(elems(&zl).unwrap_err().message().contains("zllen"));
        let mut zl = good;
        zl[11] = 0xc1;
        assert!(elems(&zl).is_err());
    }
}
