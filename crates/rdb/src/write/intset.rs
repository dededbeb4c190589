//! Intsets, the write side of [`crate::intset`] (`docs/format.md#intset`):
//! the element width in bytes (2, 4 or 8) as u32le, the count as u32le,
//! then the integers in ascending order, each little-endian in that width.

use super::{fits_u32, Error, Result};

/// The narrowest intset width (2, 4 or 8 bytes) that holds `v`
/// (`_intsetValueEncoding`).
pub fn width_for(v: i64) -> u32 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Appends the intset of the distinct `values`, in any order: they are
/// sorted, duplicates dropped, and stored in the narrowest width that holds
/// them all, as Redis keeps them. An empty set is an error, since Redis
/// refuses to load an empty intset (`intsetValidateIntegrity`).
pub fn intset(out: &mut Vec<u8>, values: &[i64]) -> Result<()> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.is_empty() {
        return Err(Error::Invalid("an intset needs at least one member".into()));
    }
    let count = fits_u32("intset", sorted.len() as u64)?;
    let width = sorted.iter().map(|&v| width_for(v)).max().unwrap_or(2);
    out.reserve(8 + sorted.len() * width as usize);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elem::BlobLoc;
    use crate::intset::Intset;

    #[test]
    fn widths_and_order() {
        let mut out = Vec::new();
        intset(&mut out, &[2, 1, 2]).unwrap();
        assert_eq!(out, [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]);
        for (vals, width) in [
            (&[1, -32768, 32767][..], 2),
            (&[1, 32768][..], 4),
            (&[i64::from(i32::MIN), 0][..], 4),
            (&[i64::MAX, i64::MIN, 5][..], 8),
        ] {
            let mut out = Vec::new();
            intset(&mut out, vals).unwrap();
            let r = Intset::new(&out, BlobLoc::raw(0)).unwrap();
            assert_eq!(r.width(), width);
            let mut want = vals.to_vec();
            want.sort();
            assert_eq!(r.iter().collect::<Vec<_>>(), want);
        }
        assert!(intset(&mut out, &[]).is_err());
    }
}
