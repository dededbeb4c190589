//! DUMP / RESTORE payloads (docs/format.md#dump-and-restore-payloads): one value, no key or file
//! framing, as `DUMP key` returns it and `RESTORE` accepts it:
//!
//! ```text
//! [KEY_META (RDB 13+)] type:u8  value  rdb_version:u16le  crc64:u64le
//! ```
//!
//! The CRC-64/REDIS covers everything before it. There is no magic, so the
//! flavour of contested type bytes is taken from the version (80 and up:
//! Valkey).

use crate::crc::crc64;
use crate::cursor::Cursor;
use crate::error::{Error, ErrorKind, Result, Stage};
use crate::types::{opcode, Encoding, Flavor};
use crate::value::Value;

/// A parsed payload.
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a> {
    /// The RDB version of the server that produced it.
    pub rdb_version: u16,
    /// The value, as in a file.
    pub value: Value<'a>,
    /// Redis 8.6 per-key metadata, raw.
    pub key_meta: Option<&'a [u8]>,
    /// The CRC-64 stored in the footer.
    pub crc: u64,
}

/// Parses a payload; with `verify`, a CRC mismatch is an error.
pub fn parse(data: &[u8], verify: bool) -> Result<Payload<'_>> {
    if data.len() < 11 {
        return Err(Error::truncated(
            data.len(),
            (11 - data.len()) as u64,
            "DUMP payload (type, value, 10-byte footer)",
        ));
    }
    let body_end = data.len() - 10;
    let rdb_version = u16::from_le_bytes([data[body_end], data[body_end + 1]]);
    let crc = u64::from_le_bytes(data[body_end + 2..].try_into().unwrap_or_default());
    if verify {
        let computed = crc64(&data[..body_end + 2]);
        if computed != crc {
            return Err(Error::new(
                body_end + 2,
                ErrorKind::ChecksumMismatch {
                    stored: crc,
                    computed,
                },
            )
            .with_stage(Stage::CheckSum));
        }
    }
    let flavor = if rdb_version >= 80 {
        Flavor::Valkey
    } else {
        Flavor::Redis
    };
    let mut c = Cursor::new(&data[..body_end], 0);
    let mut key_meta = None;
    let mut t = c.u8("type")?;
    if t == opcode::KEY_META_OR_SLOT_IMPORT && flavor == Flavor::Redis && rdb_version >= 13 {
        let start = c.pos();
        crate::records::read_key_meta(&mut c)?;
        key_meta = Some(&data[start..c.pos()]);
        t = c.u8("type")?;
    }
    let encoding = Encoding::from_type_byte(t, flavor).ok_or_else(|| {
        Error::invalid(
            c.offset() - 1,
            format!("unknown object type byte {t} in a DUMP payload of RDB version {rdb_version}"),
        )
        .with_stage(Stage::ReadType)
    })?;
    let start = c.pos();
    let value = Value::from_body(&data[start..body_end], start, encoding, t)?;
    Ok(Payload {
        rdb_version,
        value,
        key_meta,
        crc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(body: &[u8], version: u16) -> Vec<u8> {
        let mut v = body.to_vec();
        v.extend(version.to_le_bytes());
        let crc = crc64(&v);
        v.extend(crc.to_le_bytes());
        v
    }

    #[test]
    fn string_payload() {
        let p = payload(&[0, 3, b'a', b'b', b'c'], 11);
        let parsed = parse(&p, true).unwrap();
        assert_eq!(parsed.rdb_version, 11);
        assert_eq!(parsed.value.string().unwrap().to_vec().unwrap(), b"abc");
        let mut bad = p.clone();
        bad[3] ^= 1;
        assert!(parse(&bad, true).is_err());
        assert!(parse(&bad, false).is_ok());
        // Trailing bytes inside the value span are an error.
        assert!(parse(&payload(&[0, 1, b'a', b'x'], 11), true).is_err());
    }
}
