//! Zipmaps, the write side of [`crate::zipmap`] (`docs/format.md#zipmap`),
//! the small-hash encoding of RDB versions 2 and 3: a count byte, then per
//! pair the key's length and bytes, the value's length, a "free" byte and
//! the value's bytes, then `0xFF`.

use super::{atomically, fits_u32, Error, Result};
use crate::zipmap::END;

/// Lengths from this one on take 5 bytes; as a count it means "unknown"
/// (`ZIPMAP_BIGLEN`).
const BIGLEN: u8 = 254;

/// Appends a zipmap length: one byte below 254, else 254 and a u32le.
pub fn length(out: &mut Vec<u8>, len: u32) {
    if len < u32::from(BIGLEN) {
        out.push(len as u8);
    } else {
        out.push(BIGLEN);
        out.extend_from_slice(&len.to_le_bytes());
    }
}

/// Appends the zipmap of `pairs` (field, value), with no free space after
/// the values. The count byte is the number of pairs, or 254 ("unknown")
/// from 254 pairs on. An empty map is an error (Redis refuses to load
/// one), as is a string of 4 GiB or more; `out` is then left as it was.
pub fn zipmap<'p>(
    out: &mut Vec<u8>,
    pairs: impl IntoIterator<Item = (&'p [u8], &'p [u8])>,
) -> Result<()> {
    atomically(out, |out| {
        let start = out.len();
        out.push(0);
        let mut count = 0u64;
        for (field, value) in pairs {
            length(out, fits_u32("zipmap field", field.len() as u64)?);
            out.extend_from_slice(field);
            length(out, fits_u32("zipmap value", value.len() as u64)?);
            out.push(0); // free bytes after the value
            out.extend_from_slice(value);
            count += 1;
        }
        if count == 0 {
            return Err(Error::Invalid("a zipmap needs at least one pair".into()));
        }
        out.push(END);
        out[start] = u8::try_from(count).unwrap_or(BIGLEN).min(BIGLEN);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elem::BlobLoc;
    use crate::zipmap::Zipmap;

    #[test]
    fn reads_back() {
        let big = vec![b'v'; 300];
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"bb", &big), (b"", b"")];
        let mut out = Vec::new();
        zipmap(&mut out, pairs.iter().copied()).unwrap();
        let r = Zipmap::new(&out, BlobLoc::raw(0)).unwrap();
        assert_eq!(r.header_count(), 3);
        assert_eq!(r.count_problem(3), None);
        let before = out.len();
        assert!(zipmap(&mut out, []).is_err());
        assert_eq!(out.len(), before);
    }
}
