//! What an allocation of `n` bytes really takes (`zmalloc_size`): the
//! allocator's size class.

use super::Allocator;

/// jemalloc 5 on x86-64 (4 KiB pages, 16-byte quantum): 8, then steps of
/// 16 up to 128, then four classes per doubling (160, 192, 224, 256, 320,
/// ...), the same spacing for large sizes.
pub fn jemalloc(n: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return (n + 15) & !15;
    }
    let lg = 63 - (n - 1).leading_zeros() as u64; // floor(log2(n - 1))
    let delta = 1u64 << (lg - 2);
    n.div_ceil(delta).saturating_mul(delta)
}

/// glibc's `malloc_usable_size`: chunks are the request plus an 8-byte
/// header rounded up to 16 (at least 32), and the usable part is the chunk
/// less its header; requests from 128 KiB on are mmapped (whole pages,
/// less a 16-byte header).
pub fn libc(n: u64) -> u64 {
    if n >= 128 * 1024 {
        return n.saturating_add(16).div_ceil(4096).saturating_mul(4096) - 16;
    }
    let chunk = (n.saturating_add(8 + 15) & !15).max(32);
    chunk - 8
}

impl Allocator {
    /// The usable size of an `n`-byte allocation.
    pub fn size(self, n: u64) -> u64 {
        match self {
            Allocator::Jemalloc => jemalloc(n),
            Allocator::Libc => libc(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let j: Vec<u64> = [
            1, 8, 9, 16, 17, 100, 128, 129, 160, 161, 257, 536, 4097, 16385,
        ]
        .iter()
        .map(|&n| jemalloc(n))
        .collect();
        assert_eq!(
            j,
            [8, 8, 16, 16, 32, 112, 128, 160, 160, 192, 320, 640, 5120, 20480]
        );
        let l: Vec<u64> = [1, 24, 25, 40, 41, 536].iter().map(|&n| libc(n)).collect();
        assert_eq!(l, [24, 24, 40, 40, 56, 536]);
    }
}
