//! Module type ids and the tagged opcode stream of module values, the
//! write side of [`crate::module`] (`docs/format.md#modules`).
//!
//! A module value (type 7) is the module id as a length, then what the
//! module's `rdb_save` wrote through the module API: each item tagged by an
//! opcode, ending with opcode 0 ([`eof`]).

use super::cursor::length;
use super::{Error, Result};
use crate::module::module_opcode;
use crate::ModuleId;

/// The 64 characters of module type names, in id order.
const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The id of module type `name` (9 characters of `A-Z a-z 0-9 - _`) at
/// encoding version `encver` (0 to 1023), as `moduleTypeEncodeId` packs
/// them: 6 bits per character, then 10 bits of version.
pub fn module_id(name: &str, encver: u32) -> Result<ModuleId> {
    if name.len() != 9 {
        return Err(Error::Invalid(format!(
            "module type name {name:?} is not 9 characters"
        )));
    }
    if encver > 1023 {
        return Err(Error::Invalid(format!(
            "module encoding version {encver} is over 1023"
        )));
    }
    let mut id = 0u64;
    for ch in name.bytes() {
        let Some(v) = CHARSET.iter().position(|&c| c == ch) else {
            return Err(Error::Invalid(format!(
                "module type name {name:?} has a character outside A-Z a-z 0-9 - _"
            )));
        };
        id = (id << 6) | v as u64;
    }
    Ok(ModuleId((id << 10) | u64::from(encver)))
}

/// Appends a module id (the start of a type 7 value or a MODULE_AUX
/// record's payload).
pub fn id(out: &mut Vec<u8>, id: ModuleId) {
    length(out, id.0);
}

/// Appends a signed integer item (`RedisModule_SaveSigned`).
pub fn sint(out: &mut Vec<u8>, v: i64) {
    length(out, module_opcode::SINT);
    length(out, v as u64);
}

/// Appends an unsigned integer item (`RedisModule_SaveUnsigned`).
pub fn uint(out: &mut Vec<u8>, v: u64) {
    length(out, module_opcode::UINT);
    length(out, v);
}

/// Appends a float item (`RedisModule_SaveFloat`): 4 bytes, little-endian.
pub fn float(out: &mut Vec<u8>, v: f32) {
    length(out, module_opcode::FLOAT);
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a double item (`RedisModule_SaveDouble`): 8 bytes,
/// little-endian.
pub fn double(out: &mut Vec<u8>, v: f64) {
    length(out, module_opcode::DOUBLE);
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a string item (`RedisModule_SaveStringBuffer`): a plain RDB
/// string.
pub fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    length(out, module_opcode::STRING);
    super::rdb_string::string(out, bytes);
}

/// Appends the end of the opcode stream.
pub fn eof(out: &mut Vec<u8>) {
    length(out, module_opcode::EOF);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back() {
        assert_eq!(module_id("AAAAAAAAB", 0).unwrap().0, 1024);
        let id = module_id("hellotype", 7).unwrap();
        assert_eq!(id.name(), "hellotype");
        assert_eq!(id.encver(), 7);
        assert!(module_id("short", 0).is_err());
        assert!(module_id("hello typ", 0).is_err());
        assert!(module_id("hellotype", 1024).is_err());
        assert!(module_id("héllotyp", 0).is_err());
    }
}
