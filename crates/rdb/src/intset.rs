//! Intsets (`intset.c`, docs/format.md#intset): sorted arrays of 16, 32 or 64-bit
//! integers, the compact encoding of small integer sets.

use crate::elem::BlobLoc;
use crate::error::Result;

#[derive(Debug, Clone, Copy)]
/// A validated intset header over its bytes; the elements are read on
/// demand.
pub struct Intset<'b> {
    body: &'b [u8],
    width: usize,
    loc: BlobLoc,
}

impl<'b> Intset<'b> {
    /// Checks the header: width 2, 4 or 8, size `8 + len * width`, and at
    /// least one element (`intsetValidateIntegrity`).
    pub fn new(data: &'b [u8], loc: BlobLoc) -> Result<Intset<'b>> {
        if data.len() < 8 {
            return Err(loc.invalid(
                0,
                format!("intset of {} bytes is shorter than its header", data.len()),
            ));
        }
        let width = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        if !matches!(width, 2 | 4 | 8) {
            return Err(loc.invalid(0, format!("intset encoding {width} is not 2, 4 or 8")));
        }
        let count = u64::from(u32::from_le_bytes([data[4], data[5], data[6], data[7]]));
        let want = 8 + count * u64::from(width);
        if want != data.len() as u64 {
            return Err(loc.invalid(
                4,
                format!(
                    "intset of {count} x {width}-byte integers should be {want} bytes, the string holds {}",
                    data.len()
                ),
            ));
        }
        if count == 0 {
            return Err(loc.invalid(4, "intset is empty"));
        }
        Ok(Intset {
            body: &data[8..],
            width: width as usize,
            loc,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.body.len() / self.width
    }

    /// Whether the intset has no elements (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Bytes per element: 2, 4 or 8.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Where the intset is, for error messages.
    pub fn loc(&self) -> BlobLoc {
        self.loc
    }

    /// The `i`th integer, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<i64> {
        let w = self.width;
        let c = self.body.get(i.checked_mul(w)?..(i + 1).checked_mul(w)?)?;
        Some(match w {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
    }

    /// The elements in stored order (ascending when the intset is valid).
    pub fn iter(&self) -> impl Iterator<Item = i64> + 'b {
        let width = self.width;
        self.body.chunks_exact(width).map(move |c| match width {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_md_vector() {
        let is = [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0];
        let s = Intset::new(&is, BlobLoc::raw(0)).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2]);
        assert!(Intset::new(&is[..11], BlobLoc::raw(0)).is_err());
        assert!(Intset::new(&[3, 0, 0, 0, 0, 0, 0, 0], BlobLoc::raw(0)).is_err());
        assert!(Intset::new(&[2, 0, 0, 0, 0, 0, 0, 0], BlobLoc::raw(0)).is_err());
    }
}
