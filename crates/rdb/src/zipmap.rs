//! Zipmaps (`zipmap.c`, docs/format.md#zipmap): the small-hash encoding of RDB 2-3.

use crate::elem::BlobLoc;
use crate::error::Result;

/// The end marker.
pub const END: u8 = 0xff;
const BIGLEN: u8 = 254;

#[derive(Debug, Clone, Copy)]
/// A zipmap that passed the shallow checks; pairs are checked as they
/// are walked.
pub struct Zipmap<'b> {
    data: &'b [u8],
    loc: BlobLoc,
}

impl<'b> Zipmap<'b> {
    /// Checks the size and the end marker.
    pub fn new(data: &'b [u8], loc: BlobLoc) -> Result<Zipmap<'b>> {
        if data.len() < 2 {
            return Err(loc.invalid(0, "zipmap is shorter than 2 bytes"));
        }
        if data[data.len() - 1] != END {
            return Err(loc.invalid(data.len() - 1, "zipmap does not end with 0xff"));
        }
        Ok(Zipmap { data, loc })
    }

    /// The count byte (254 and up: unknown).
    pub fn header_count(&self) -> u8 {
        self.data[0]
    }

    /// Where the zipmap is, for error messages.
    pub fn loc(&self) -> BlobLoc {
        self.loc
    }

    /// What `zipmapValidateIntegrity` says of a map with `pairs` pairs: it
    /// must have at least one, and the count byte must equal their number
    /// unless it is exactly 254 ("unknown").
    pub fn count_problem(&self, pairs: u64) -> Option<String> {
        let count = self.header_count();
        if pairs == 0 {
            Some("zipmap is empty (no pairs)".to_string())
        } else if count != BIGLEN && u64::from(count) != pairs {
            Some(format!("zipmap says {count} pairs, but it holds {pairs}"))
        } else {
            None
        }
    }

    /// Walks the (key, value) pairs.
    pub fn iter(&self) -> ZipmapIter<'b> {
        ZipmapIter {
            data: self.data,
            pos: 1,
            seen: 0,
            loc: self.loc,
            done: false,
        }
    }
}

#[derive(Debug, Clone)]
/// Walks a zipmap's pairs. Yields `Err` once and then stops.
pub struct ZipmapIter<'b> {
    data: &'b [u8],
    pos: usize,
    seen: u64,
    loc: BlobLoc,
    done: bool,
}

impl<'b> ZipmapIter<'b> {
    /// The same walk position over `data`, which must hold the bytes this
    /// walk was made over: lets a cursor keep a walk's position while the
    /// bytes live in a buffer the cursor also owns (see `crate::view`).
    pub(crate) fn rebind<'c>(&self, data: &'c [u8]) -> ZipmapIter<'c> {
        ZipmapIter {
            data,
            pos: self.pos,
            seen: self.seen,
            loc: self.loc,
            done: self.done,
        }
    }
    /// Reads a zipmap length at `pos`; `None` for the end marker.
    fn length(&mut self, what: &'static str) -> Result<Option<usize>> {
        let d = self.data;
        let end = d.len() - 1;
        let b = d[self.pos];
        if b == END {
            return Ok(None);
        }
        if b < BIGLEN {
            self.pos += 1;
            return Ok(Some(b as usize));
        }
        if self.pos + 5 > end {
            return Err(self
                .loc
                .truncated(self.pos, (self.pos + 5 - end) as u64, what));
        }
        let p = self.pos;
        self.pos += 5;
        Ok(Some(
            u32::from_le_bytes([d[p + 1], d[p + 2], d[p + 3], d[p + 4]]) as usize,
        ))
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'b [u8]> {
        let end = self.data.len() - 1;
        if n > end - self.pos {
            return Err(self
                .loc
                .truncated(self.pos, (n - (end - self.pos)) as u64, what));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn pair(&mut self) -> Result<Option<(&'b [u8], &'b [u8])>> {
        let Some(klen) = self.length("zipmap key length")? else {
            return Ok(None);
        };
        let key = self.take(klen, "zipmap key")?;
        let at = self.pos;
        let Some(vlen) = self.length("zipmap value length")? else {
            return Err(self
                .loc
                .invalid(at, "zipmap ends between a key and its value"));
        };
        let free = self.take(1, "zipmap free byte")?[0] as usize;
        let value = self.take(vlen, "zipmap value")?;
        self.take(free, "zipmap free space")?;
        Ok(Some((key, value)))
    }
}

impl<'b> Iterator for ZipmapIter<'b> {
    type Item = Result<(&'b [u8], &'b [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.pair() {
            Ok(Some(p)) => {
                self.seen += 1;
                Some(Ok(p))
            }
            Ok(None) => {
                self.done = true;
                if self.pos != self.data.len() - 1 {
                    return Some(Err(self.loc.invalid(
                        self.pos,
                        "zipmap end marker before the end of the zipmap",
                    )));
                }
                // The count byte is only a hint for readers (HDT3213 and
                // others decode such maps); Redis's integrity rules about it
                // are the checker's (`Zipmap::count_problem`).
                None
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

    #[test]
    fn pairs_and_free_space() {
        // 2 pairs: "a"->"bc" (1 free byte), "k"->"v"
        let zm = [2, 1, b'a', 2, 1, b'b', b'c', 0, 1, b'k', 1, 0, b'v', 0xff];
        let pairs: Vec<_> = Zipmap::new(&zm, BlobLoc::raw(0))
            .unwrap()
            .iter()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(pairs, vec![(&b"a"[..], &b"bc"[..]), (&b"k"[..], &b"v"[..])]);
        let mut bad = zm;
        bad[0] = 3;
        let m = Zipmap::new(&bad, BlobLoc::raw(0)).unwrap();
        assert!(m.iter().all(|r| r.is_ok()), "readers may ignore the count");
        assert!(m.count_problem(2).is_some());
        bad[0] = 254;
        assert!(Zipmap::new(&bad, BlobLoc::raw(0))
            .unwrap()
            .count_problem(2)
            .is_none());
        bad[0] = 255;
        assert!(Zipmap::new(&bad, BlobLoc::raw(0))
            .unwrap()
            .count_problem(2)
            .is_some());
    }
}
