//! Listpacks, the write side of [`crate::listpack`]
//! (`docs/format.md#listpack`): a 6-byte header (total bytes as u32le,
//! element count as u16le), the entries, and the `0xFF` terminator. Each
//! entry is an encoding byte with its data, then its `backlen`, the size
//! of encoding + data stored so that the list can be walked backwards.
//!
//! Integers take the smallest integer encoding that holds them and strings
//! the smallest length field, as `lpAppend` chooses; whether a value is
//! stored as an integer or a string is the caller's choice of [`Elem`]
//! ([`stored_form`] makes the choice Redis makes for a string).

use super::{atomically, fits_u32, Error, Result};
use crate::listpack::{COUNT_UNKNOWN, EOF_BYTE, HEADER_SIZE};
use crate::Elem;

/// `0xF0`: a string with a 32-bit length.
const STR_32: u8 = 0xf0;
/// `0xF1`..`0xF4`: 16, 24, 32 and 64-bit integers.
const INT_16: u8 = 0xf1;
const INT_24: u8 = 0xf2;
const INT_32: u8 = 0xf3;
const INT_64: u8 = 0xf4;
/// Strings longer than this (`lpStringToInt64` looks at no more) are never
/// stored as integers.
const MAX_INT_TEXT: usize = 20;

/// The element Redis stores for the string `bytes`: an integer when it is
/// the canonical decimal text of one (`lpStringToInt64`), else the string.
pub fn stored_form(bytes: &[u8]) -> Elem<'_> {
    if bytes.len() <= MAX_INT_TEXT {
        if let Some(v) = super::rdb_string::canonical_int(bytes) {
            return Elem::Int(v);
        }
    }
    Elem::Str(bytes)
}

/// Appends the encoding and data of `e` (an entry without its backlen) and
/// returns how many bytes that took. Fails only for a string of 4 GiB or
/// more, which no listpack holds.
pub fn element(out: &mut Vec<u8>, e: Elem<'_>) -> Result<usize> {
    let start = out.len();
    match e {
        Elem::Int(v) => {
            if (0..=127).contains(&v) {
                // 0xxxxxxx: 7-bit unsigned.
                out.push(v as u8);
            } else if (-4096..=4095).contains(&v) {
                // 110xxxxx yyyyyyyy: 13-bit signed, big-endian in the two
                // bytes.
                let u = (v as u16) & 0x1fff;
                out.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
            } else if let Ok(x) = i16::try_from(v) {
                out.push(INT_16);
                out.extend_from_slice(&x.to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                let b = (v as i32).to_le_bytes();
                out.extend_from_slice(&[INT_24, b[0], b[1], b[2]]);
            } else if let Ok(x) = i32::try_from(v) {
                out.push(INT_32);
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.push(INT_64);
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Elem::Str(b) => {
            let l = b.len();
            if l < 64 {
                // 10xxxxxx: 6-bit length.
                out.push(0x80 | l as u8);
            } else if l < 4096 {
                // 1110xxxx yyyyyyyy: 12-bit length, big-endian.
                out.extend_from_slice(&[0xe0 | (l >> 8) as u8, l as u8]);
            } else {
                let l = fits_u32("listpack string", l as u64)?;
                out.push(STR_32);
                out.extend_from_slice(&l.to_le_bytes());
            }
            out.extend_from_slice(b);
        }
    }
    Ok(out.len() - start)
}

/// The number of bytes [`entry`] writes for `e`: encoding, data and
/// backlen, without writing them.
pub fn entry_size(e: Elem<'_>) -> usize {
    let n = match e {
        Elem::Int(v) => match v {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8_388_608..=8_388_607 => 4,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        },
        Elem::Str(b) => {
            let l = b.len();
            l + if l < 64 {
                1
            } else if l < 4096 {
                2
            } else {
                5
            }
        }
    };
    n + backlen_size(n as u64)
}

/// The number of bytes [`backlen`] writes for an entry of `len` bytes
/// (`lpEncodeBacklen`).
pub fn backlen_size(len: u64) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Appends the backlen of an entry whose encoding + data is `len` bytes:
/// 7 bits per byte, the most significant group first, bit 7 set on every
/// byte but the first, so that reading right to left finds the end.
pub fn backlen(out: &mut Vec<u8>, len: u64) {
    let size = backlen_size(len);
    for i in 0..size {
        let group = ((len >> (7 * (size - 1 - i))) & 0x7f) as u8;
        out.push(if i == 0 { group } else { group | 0x80 });
    }
}

/// Appends one whole entry: encoding, data and backlen.
pub fn entry(out: &mut Vec<u8>, e: Elem<'_>) -> Result<()> {
    atomically(out, |out| {
        let n = element(out, e)?;
        backlen(out, n as u64);
        Ok(())
    })
}

/// Writes one listpack into a buffer, entry by entry: [`Writer::new`]
/// reserves the header, [`Writer::push`] appends entries, and
/// [`Writer::finish`] writes the terminator and fills the header in. A
/// writer dropped before `finish` leaves an unfinished listpack in the
/// buffer.
#[derive(Debug)]
pub struct Writer<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    count: u64,
}

impl<'o> Writer<'o> {
    /// Starts a listpack at the end of `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Writer<'o> {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_SIZE]);
        Writer {
            out,
            start,
            count: 0,
        }
    }

    /// Appends the entry for `e` and returns its offset from the start of
    /// the listpack.
    pub fn push(&mut self, e: Elem<'_>) -> Result<usize> {
        let at = self.out.len() - self.start;
        entry(self.out, e)?;
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

    /// Writes the terminator and the header: the total size, and the count,
    /// or 65535 ("unknown, walk to count") when there are 65535 or more
    /// entries, as Redis does. A listpack of 4 GiB or more cannot be
    /// described; it is removed from the buffer and an error returned.
    pub fn finish(self) -> Result<()> {
        self.out.push(EOF_BYTE);
        let total = match fits_u32("listpack", (self.out.len() - self.start) as u64) {
            Ok(t) => t,
            Err(e) => {
                self.out.truncate(self.start);
                return Err(e);
            }
        };
        // COUNT_UNKNOWN is u16::MAX: a count of exactly 65535 is stored
        // as "unknown" too.
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        let header = &mut self.out[self.start..self.start + HEADER_SIZE];
        header[..4].copy_from_slice(&total.to_le_bytes());
        header[4..].copy_from_slice(&count.to_le_bytes());
        Ok(())
    }
}

/// Appends a listpack of `elems`. On error (an element or the whole over
/// the format's limits) `out` is left as it was.
pub fn listpack<'e>(out: &mut Vec<u8>, elems: impl IntoIterator<Item = Elem<'e>>) -> Result<()> {
    atomically(out, |out| {
        let mut w = Writer::new(out);
        for e in elems {
            w.push(e)?;
        }
        w.finish()
    })
}

/// [`listpack`] into a new buffer.
pub fn to_vec<'e>(elems: impl IntoIterator<Item = Elem<'e>>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    listpack(&mut out, elems)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elem::BlobLoc;
    use crate::listpack::Listpack;

    #[test]
    fn entry_size_is_what_entry_writes() {
        let long = vec![b'x'; 70_000];
        let mut ints = vec![i64::MIN, i64::MAX];
        for b in [7, 12, 13, 16, 24, 32] {
            ints.extend([
                (1i64 << (b - 1)) - 1,
                1i64 << (b - 1),
                -(1i64 << (b - 1)),
                -(1i64 << (b - 1)) - 1,
            ]);
        }
        ints.extend([0, 127, 128, -1]);
        let strs = [0, 1, 63, 64, 127, 128, 4095, 4096, 16_382, 16_383, 70_000];
        let elems = ints
            .iter()
            .map(|&v| Elem::Int(v))
            .chain(strs.iter().map(|&n| Elem::Str(&long[..n])));
        for e in elems {
            let mut out = Vec::new();
            entry(&mut out, e).unwrap();
            assert_eq!(entry_size(e), out.len(), "{e:?}");
        }
    }

    #[test]
    fn every_encoding_reads_back() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let elems = [
            Elem::Int(0),
            Elem::Int(127),
            Elem::Int(128),
            Elem::Int(-1),
            Elem::Int(-4096),
            Elem::Int(4095),
            Elem::Int(4096),
            Elem::Int(-32768),
            Elem::Int(40000),
            Elem::Int(-(1 << 23)),
            Elem::Int((1 << 23) - 1),
            Elem::Int(1 << 23),
            Elem::Int(i64::from(i32::MIN)),
            Elem::Int(i64::from(i32::MAX) + 1),
            Elem::Int(i64::MIN),
            Elem::Int(i64::MAX),
            Elem::Str(b""),
            Elem::Str(b"abc"),
            Elem::Str(&mid),
            Elem::Str(&long),
        ];
        let lp = to_vec(elems).unwrap();
        let r = Listpack::new(&lp, BlobLoc::raw(0)).unwrap();
        assert_eq!(r.header_count() as usize, elems.len());
        let back: Vec<Elem> = r.iter().collect::<crate::Result<_>>().unwrap();
        assert_eq!(back, elems);
    }

    #[test]
    fn format_vectors() {
        assert_eq!(
            to_vec([Elem::Str(b"a"), Elem::Int(1)]).unwrap(),
            [0x0c, 0, 0, 0, 2, 0, 0x81, 0x61, 2, 1, 1, 0xff]
        );
        for (len, bytes) in [
            (1u64, &[1u8][..]),
            (127, &[127]),
            (128, &[1, 0x80]),
            (16382, &[127, 0xfe]),
            (16383, &[0, 0xff, 0xff]),
        ] {
            let mut out = Vec::new();
            backlen(&mut out, len);
            assert_eq!(out, bytes, "{len}");
        }
    }

    #[test]
    fn many_entries_mean_an_unknown_count() {
        let lp = to_vec((0..70_000).map(|_| Elem::Int(1))).unwrap();
        let r = Listpack::new(&lp, BlobLoc::raw(0)).unwrap();
        assert_eq!(r.header_count(), COUNT_UNKNOWN);
        assert_eq!(r.iter().count(), 70_000);
    }

    #[test]
    fn stored_form_is_lp_append_s() {
        assert_eq!(stored_form(b"12"), Elem::Int(12));
        assert_eq!(stored_form(b"-9223372036854775808"), Elem::Int(i64::MIN));
        assert_eq!(stored_form(b"012"), Elem::Str(b"012"));
        assert_eq!(stored_form(b"1.5"), Elem::Str(b"1.5"));
    }
}
