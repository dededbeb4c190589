//! DUMP payloads, the write side of [`crate::payload`]
//! (`docs/format.md#dump-and-restore-payloads`): what `DUMP` returns and `RESTORE`
//! takes.

use crate::crc::crc64;

/// Appends the DUMP payload of a value: its type byte, its encoded value
/// (see [`super::value`]), the RDB version as u16le, and the CRC-64 of all
/// that as u64le. A server restores it if it reads that version.
pub fn payload(out: &mut Vec<u8>, type_byte: u8, value: &[u8], rdb_version: u16) {
    let start = out.len();
    out.push(type_byte);
    out.extend_from_slice(value);
    out.extend_from_slice(&rdb_version.to_le_bytes());
    let crc = crc64(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::rdb_type;

    #[test]
    fn reads_back() {
        let mut value = Vec::new();
        super::super::rdb_string::string(&mut value, b"hello");
        let mut p = Vec::new();
        payload(&mut p, rdb_type::STRING, &value, 10);
        let got = crate::payload::parse(&p, true).unwrap();
        assert_eq!(got.rdb_version, 10);
        assert_eq!(got.value.string().unwrap().to_vec().unwrap(), b"hello");
    }
}
