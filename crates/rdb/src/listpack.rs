//! Listpacks (`listpack.c`, docs/format.md#listpack): the compact encoding of small
//! hashes, sets, zsets, quicklist v2 nodes and stream nodes.
//!
//! [`Listpack::new`] applies Redis's shallow checks (header size, total
//! bytes, terminator); iteration walks each entry with bounds checks and
//! verifies its `backlen`, and the end checks that the last entry ends
//! exactly at the terminator and that the element count matches the header.
//! That is the walk of `lpValidateIntegrity` with `deep` set; rules about
//! what the elements mean (duplicates, order) are the caller's.

use crate::elem::{BlobLoc, Elem};
use crate::error::{Error, Result};

/// Bytes of the header: `total_bytes:u32le` and `num_elements:u16le`.
pub const HEADER_SIZE: usize = 6;
/// The terminator byte.
pub const EOF_BYTE: u8 = 0xff;
/// `num_elements` value meaning "count unknown, walk to find out".
pub const COUNT_UNKNOWN: u16 = u16::MAX;

/// A validated listpack header over its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Listpack<'b> {
    data: &'b [u8],
    loc: BlobLoc,
}

impl<'b> Listpack<'b> {
    /// Checks the header and terminator of `data` (shallow validation).
    pub fn new(data: &'b [u8], loc: BlobLoc) -> Result<Listpack<'b>> {
        if data.len() < HEADER_SIZE + 1 {
            return Err(loc.invalid(
                0,
                format!(
                    "listpack of {} bytes is shorter than the minimum of 7",
                    data.len()
                ),
            ));
        }
        let total = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if total != data.len() {
            return Err(loc.invalid(
                0,
                format!(
                    "listpack header says {total} total bytes, but the string holds {}",
                    data.len()
                ),
            ));
        }
        if data[data.len() - 1] != EOF_BYTE {
            return Err(loc.invalid(
                data.len() - 1,
                format!(
                    "listpack does not end with 0xff (found 0x{:02x})",
                    data[data.len() - 1]
                ),
            ));
        }
        Ok(Listpack { data, loc })
    }

    /// `num_elements` from the header (65535 = unknown).
    pub fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.data[4], self.data[5]])
    }

    /// The whole listpack, header to terminator.
    pub fn bytes(&self) -> &'b [u8] {
        self.data
    }

    /// Where the listpack is, for error messages.
    pub fn loc(&self) -> BlobLoc {
        self.loc
    }

    /// Walks the entries from the first.
    pub fn iter(&self) -> ListpackIter<'b> {
        ListpackIter {
            data: self.data,
            pos: HEADER_SIZE,
            seen: 0,
            loc: self.loc,
            done: false,
        }
    }
}

/// Walks the entries of a listpack. Yields `Err` once and then stops.
#[derive(Debug, Clone)]
pub struct ListpackIter<'b> {
    data: &'b [u8],
    pos: usize,
    seen: u64,
    loc: BlobLoc,
    done: bool,
}

impl<'b> ListpackIter<'b> {
    /// The same walk position over `data`, which must hold the bytes this
    /// walk was made over: lets a cursor keep a walk's position while the
    /// bytes live in a buffer the cursor also owns (see `crate::view`).
    pub(crate) fn rebind<'c>(&self, data: &'c [u8]) -> ListpackIter<'c> {
        ListpackIter {
            data,
            pos: self.pos,
            seen: self.seen,
            loc: self.loc,
            done: self.done,
        }
    }
    /// Offset of the next entry inside the listpack.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Number of entries yielded so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Where the listpack is, for error messages.
    pub fn loc(&self) -> BlobLoc {
        self.loc
    }

    /// The next element, failing at the end of the listpack: for fixed
    /// layouts (stream entries) where an element must follow.
    #[inline]
    pub fn expect(&mut self, what: &'static str) -> Result<Elem<'b>> {
        let at = self.pos;
        match self.next() {
            Some(r) => r,
            None => Err(self
                .loc
                .invalid(at, format!("listpack ended where {what} was expected"))),
        }
    }

    /// The next element, which must be an integer.
    #[inline]
    pub fn expect_int(&mut self, what: &'static str) -> Result<i64> {
        let at = self.pos;
        match self.expect(what)? {
            Elem::Int(v) => Ok(v),
            Elem::Str(s) => match std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()) {
                // Redis's lpGetInteger accepts strings that parse as integers.
                Some(v) => Ok(v),
                None => Err(self.loc.invalid(
                    at,
                    format!("listpack {what}: expected an integer, found a string"),
                )),
            },
        }
    }

    fn fail(&mut self, e: Error) -> Option<Result<Elem<'b>>> {
        self.done = true;
        Some(Err(e))
    }

    #[inline]
    fn entry(&self) -> Result<(Elem<'b>, usize)> {
        let d = self.data;
        let p = self.pos;
        // The terminator is the last byte, so the entry's bytes end before it.
        let end = d.len() - 1;
        let avail = end - p;
        let b = d[p];
        let need = |n: usize, what: &'static str| -> Result<()> {
            if n > avail {
                Err(self.loc.truncated(p, (n - avail) as u64, what))
            } else {
                Ok(())
            }
        };
        let (elem, len) = if b & 0x80 == 0 {
            (Elem::Int(i64::from(b & 0x7f)), 1)
        } else if b & 0xc0 == 0x80 {
            let n = (b & 0x3f) as usize;
            need(1 + n, "listpack string")?;
            (Elem::Str(&d[p + 1..p + 1 + n]), 1 + n)
        } else if b & 0xe0 == 0xc0 {
            need(2, "listpack int13")?;
            let u = (u16::from(b & 0x1f) << 8) | u16::from(d[p + 1]);
            // 13-bit two's complement.
            let v = if u >= 1 << 12 {
                i64::from(u) - (1 << 13)
            } else {
                i64::from(u)
            };
            (Elem::Int(v), 2)
        } else if b & 0xf0 == 0xe0 {
            need(2, "listpack string length")?;
            let n = ((usize::from(b & 0x0f)) << 8) | usize::from(d[p + 1]);
            need(2 + n, "listpack string")?;
            (Elem::Str(&d[p + 2..p + 2 + n]), 2 + n)
        } else {
            match b {
                0xf0 => {
                    need(5, "listpack string length")?;
                    let n = u32::from_le_bytes([d[p + 1], d[p + 2], d[p + 3], d[p + 4]]) as usize;
                    need(5usize.saturating_add(n), "listpack string")?;
                    (Elem::Str(&d[p + 5..p + 5 + n]), 5 + n)
                }
                0xf1 => {
                    need(3, "listpack int16")?;
                    (
                        Elem::Int(i64::from(i16::from_le_bytes([d[p + 1], d[p + 2]]))),
                        3,
                    )
                }
                0xf2 => {
                    need(4, "listpack int24")?;
                    let v = i32::from_le_bytes([0, d[p + 1], d[p + 2], d[p + 3]]) >> 8;
                    (Elem::Int(i64::from(v)), 4)
                }
                0xf3 => {
                    need(5, "listpack int32")?;
                    (
                        Elem::Int(i64::from(i32::from_le_bytes([
                            d[p + 1],
                            d[p + 2],
                            d[p + 3],
                            d[p + 4],
                        ]))),
                        5,
                    )
                }
                0xf4 => {
                    need(9, "listpack int64")?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(&d[p + 1..p + 9]);
                    (Elem::Int(i64::from_le_bytes(a)), 9)
                }
                _ => {
                    return Err(self
                        .loc
                        .invalid(p, format!("invalid listpack entry encoding byte 0x{b:02x}")))
                }
            }
        };
        // backlen: the entry's encoding+data length, 1..5 bytes, readable
        // right to left.
        let mut blen = backlen_size(len);
        if is_backlen_boundary(len) {
            // Valkey 9 stores a backlen of exactly 2^14-1, 2^21-1 or 2^28-1
            // in the fewest bytes that hold it, one byte fewer than Redis
            // does (docs/format.md#listpack). Both walk back to the same
            // entry start, so both are the same listpack. The backlen's
            // first (most significant) byte tells them apart: Redis's extra
            // byte holds 0, the minimal form's first byte 127.
            need(len + blen - 1, "listpack backlen")?;
            if d[p + len] != 0 {
                blen -= 1;
            }
        }
        need(len + blen, "listpack backlen")?;
        let stored = decode_backlen(&d[p + len..p + len + blen]);
        if stored != Some(len as u64) {
            return Err(self.loc.invalid(
                p + len,
                format!(
                    "listpack entry backlen does not match: entry is {len} bytes, backlen says {}",
                    stored.map_or_else(|| "garbage".to_string(), |v| v.to_string())
                ),
            ));
        }
        Ok((elem, len + blen))
    }
}

impl<'b> Iterator for ListpackIter<'b> {
    type Item = Result<Elem<'b>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.data[self.pos] == EOF_BYTE {
            self.done = true;
            if self.pos != self.data.len() - 1 {
                return Some(Err(self.loc.invalid(
                    self.pos,
                    "listpack terminator 0xff found before the end of the listpack",
                )));
            }
            let count = u16::from_le_bytes([self.data[4], self.data[5]]);
            if count != COUNT_UNKNOWN && u64::from(count) != self.seen {
                return Some(Err(self.loc.invalid(
                    4,
                    format!(
                        "listpack header says {count} elements, but it holds {}",
                        self.seen
                    ),
                )));
            }
            return None;
        }
        // Fast path for the commonest entries, a 7-bit integer or a string
        // of up to 63 bytes, whose backlen is one byte equal to their size.
        let (d, p) = (self.data, self.pos);
        let b = d[p];
        let small = if b & 0x80 == 0 {
            Some((Elem::Int(i64::from(b)), 1))
        } else if b & 0xc0 == 0x80 {
            let n = usize::from(b & 0x3f);
            // `p + 1 + n` is the backlen byte; it must be before the 0xff.
            (p + 1 + n < d.len() - 1).then(|| (Elem::Str(&d[p + 1..p + 1 + n]), 1 + n))
        } else {
            None
        };
        if let Some((elem, len)) = small {
            if d[p + len] as usize == len {
                self.pos += len + 1;
                self.seen += 1;
                return Some(Ok(elem));
            }
        }
        match self.entry() {
            Ok((elem, size)) => {
                self.pos += size;
                self.seen += 1;
                Some(Ok(elem))
            }
            Err(e) => self.fail(e),
        }
    }
}

/// Bytes Redis uses to store a backlen of `len` (`lpEncodeBacklen`).
pub fn backlen_size(len: usize) -> usize {
    if len <= 127 {
        1
    } else if len < 16383 {
        2
    } else if len < 2_097_151 {
        3
    } else if len < 268_435_455 {
        4
    } else {
        5
    }
}

/// Whether an entry of `len` bytes has a backlen that Redis stores in one
/// byte more than its value needs (`lpEncodeBacklen` compares with `<`
/// where seven bits a byte would allow `<=`), and that Valkey 9 stores in
/// the minimal size.
fn is_backlen_boundary(len: usize) -> bool {
    matches!(len, 16_383 | 2_097_151 | 268_435_455)
}

/// Decodes a backlen stored in exactly `bytes` (read right to left: every
/// byte but the leftmost has bit 7 set). `None` when the bytes do not form
/// one backlen of exactly that size.
fn decode_backlen(bytes: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    for (i, &b) in bytes.iter().rev().enumerate() {
        v |= u64::from(b & 0x7f) << shift;
        shift += 7;
        let last = i == bytes.len() - 1;
        if (b & 0x80 == 0) != last {
            return None;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elems(data: &[u8]) -> Result<Vec<Elem<'_>>> {
        Listpack::new(data, BlobLoc::raw(0))?.iter().collect()
    }

    #[test]
    fn format_md_vector() {
        let lp = [0x0c, 0, 0, 0, 0x02, 0, 0x81, 0x61, 0x02, 0x01, 0x01, 0xff];
        assert_eq!(elems(&lp).unwrap(), vec![Elem::Str(b"a"), Elem::Int(1)]);
    }

    #[test]
    fn bad_backlen_count_and_terminator() {
        let mut lp = vec![0x0c, 0, 0, 0, 0x02, 0, 0x81, 0x61, 0x02, 0x01, 0x01, 0xff];
        lp[8] = 0x03;
        assert!(elems(&lp).unwrap_err().message().contains("backlen"));
        let mut lp = vec![0x0c, 0, 0, 0, 0x03, 0, 0x81, 0x61, 0x02, 0x01, 0x01, 0xff];
        assert!(elems(&lp).unwrap_err().message().contains("3 elements"));
        lp[4] = 0xff;
        lp[5] = 0xff;
        assert_eq!(elems(&lp).unwrap().len(), 2);
        let lp = [0x0c, 0, 0, 0, 0x02, 0, 0x81, 0x61, 0x02, 0x01, 0x01, 0xfe];
        assert!(elems(&lp).is_err());
        // A string claiming more bytes than the listpack has.
        let lp = [0x0a, 0, 0, 0, 0x01, 0, 0xbf, 0x61, 0x02, 0xff];
        assert!(elems(&lp).is_err());
    }

    #[test]
    fn integer_encodings() {
        // int13 -1, int16 -300, int24 100000, int32 -2^31, int64 2^40
        let mut body = vec![0xdf, 0xff, 0x02];
        body.extend([0xf1, 0xd4, 0xfe, 0x03]);
        body.extend([0xf2, 0xa0, 0x86, 0x01, 0x04]);
        body.extend([0xf3, 0, 0, 0, 0x80, 0x05]);
        body.extend([0xf4, 0, 0, 0, 0, 0, 1, 0, 0, 0x09]);
        let mut lp = Vec::new();
        lp.extend(((HEADER_SIZE + body.len() + 1) as u32).to_le_bytes());
        lp.extend(5u16.to_le_bytes());
        lp.extend(&body);
        lp.push(0xff);
        assert_eq!(
            elems(&lp).unwrap(),
            vec![
                Elem::Int(-1),
                Elem::Int(-300),
                Elem::Int(100000),
                Elem::Int(i64::from(i32::MIN)),
                Elem::Int(1 << 40)
            ]
        );
    }

    #[test]
    fn minimal_backlen_at_redis_boundaries_is_read_as_valkey_9_writes_it() {
        // One entry of 16383 bytes: a 32-bit string header (5 bytes) and
        // 16378 bytes of data, then its backlen in 2 bytes (Valkey 9) or
        // 3 (Redis); both must read back the same element.
        for redis_form in [false, true] {
            let len = 16_383usize;
            let mut lp = vec![0u8; 6];
            lp.push(0xf0);
            lp.extend_from_slice(&16_378u32.to_le_bytes());
            lp.extend(std::iter::repeat_n(b'x', 16_378));
            if redis_form {
                lp.extend_from_slice(&[0x00, 0xff, 0xff]);
            } else {
                lp.extend_from_slice(&[(len >> 7) as u8, (len & 0x7f) as u8 | 0x80]);
            }
            lp.push(0xff);
            let total = lp.len() as u32;
            lp[..4].copy_from_slice(&total.to_le_bytes());
            lp[4..6].copy_from_slice(&1u16.to_le_bytes());
            let got = elems(&lp).unwrap();
            assert_eq!(got.len(), 1, "redis form: {redis_form}");
            assert!(matches!(got[0], Elem::Str(s) if s.len() == 16_378));
        }
    }

    #[test]
    fn backlen_sizes_round_trip() {
        for len in [
            1usize,
            127,
            128,
            16382,
            16383,
            2_097_150,
            2_097_151,
            300_000_000,
        ] {
            let n = backlen_size(len);
            // Encode as Redis does: high groups first, bit 7 on all but the first.
            let mut out = vec![0u8; n];
            for (i, slot) in out.iter_mut().enumerate() {
                let shift = 7 * (n - 1 - i);
                *slot = ((len >> shift) & 0x7f) as u8 | if i == 0 { 0 } else { 0x80 };
            }
            assert_eq!(decode_backlen(&out), Some(len as u64), "len {len}");
        }
    }
}
