//! CRC-64/REDIS ("CRC-64/Jones": reflected, poly 0xad93d23594c935a9, init 0,
//! xorout 0), the checksum of RDB files and DUMP payloads (FORMAT.md 6).
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
    pub fn new() -> Crc64 {
        Crc64(Digest::new(CrcAlgorithm::Crc64Redis))
    }

    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn value(&self) -> u64 {
        self.0.finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
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
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut c = Crc64::new();
        for chunk in data.chunks(777) {
            c.update(chunk);
        }
        assert_eq!(c.value(), crc64(&data));
    }
}
