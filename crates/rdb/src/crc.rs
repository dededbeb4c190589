//! CRC-64/REDIS ("CRC-64/Jones": reflected, poly 0xad93d23594c935a9, init 0,
//! xorout 0), the checksum of RDB files and DUMP payloads (docs/format.md#crc-64-trailer).
//!
//! Computed by `crc-fast`, which carries these parameters as
//! `CrcAlgorithm::Crc64Redis` and uses carry-less multiplication (PCLMULQDQ,
//! PMULL) where the CPU has it. Note that `crc64fast` computes CRC-64/XZ, a
//! different checksum.

use crc_fast::{CrcAlgorithm, Digest};

/// Incremental CRC-64/REDIS.
#[derive(Clone)]
pub struct Crc64(Digest);

impl Crc64 {
    /// A checksum over no bytes yet.
    pub fn new() -> Crc64 {
        Crc64(Digest::new(CrcAlgorithm::Crc64Redis))
    }

    #[inline]
    /// Feeds the next bytes of the input.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The CRC of everything fed so far.
    pub fn value(&self) -> u64 {
        self.0.finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}

impl Crc64 {
    /// Continues a CRC whose value so far is `crc` (CRC-64/REDIS has no
    /// final xor, so the running register is the value).
    pub fn resume(crc: u64) -> Crc64 {
        Crc64(Digest::new_with_init_state(CrcAlgorithm::Crc64Redis, crc))
    }
}

/// Table of the reflected polynomial, for a few bytes at a time where the
/// SIMD path's setup would cost more than the bytes themselves.
static TABLE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x95ac_9329_ac4b_c9b5
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Extends CRC value `crc` over `bytes`, byte by byte: for a handful of
/// bytes (a type byte, a version), not for bulk data.
#[inline]
pub fn crc64_small(mut crc: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        crc = TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// One-shot CRC-64/REDIS of `data`.
pub fn crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Redis, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values_from_redis() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        // crc64.c's own test: the Lorem ipsum text including its NUL.
        let li = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do \
eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, \
quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis \
aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla \
pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia \
deserunt mollit anim id est laborum.";
        let mut data = li.as_bytes().to_vec();
        data.push(0);
        assert_eq!(data.len(), 446);
        assert_eq!(crc64(&data), 0xc7794709e69683b3);
    }

    #[test]
    fn small_and_resumed_crcs_agree_with_one_shot() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 253) as u8).collect();
        assert_eq!(crc64_small(0, b"123456789"), 0xe9c6d914c4b8d9ca);
        for split in [0, 1, 2, 100, 4999, 5000] {
            let head = crc64_small(0, &data[..split.min(3)]);
            let mut c = Crc64::resume(head);
            c.update(&data[split.min(3)..split]);
            let tail = crc64_small(c.value(), &data[split..]);
            assert_eq!(tail, crc64(&data), "split {split}");
        }
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut c = Crc64::new();
        for chunk in data.chunks(777) {
            c.update(chunk);
        }
        assert_eq!(c.value(), crc64(&data));
    }
}
