//! Module values (type 7), module AUX records and the tagged opcode stream
//! they share (docs/format.md#modules). Without the module we cannot interpret the
//! payload, but the tags let us find its end and keep its bytes verbatim.

use crate::cursor::Cursor;
use crate::error::{Error, Result};

const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Module opcodes inside a module value.
pub mod module_opcode {
    /// End of the value.
    pub const EOF: u64 = 0;
    /// A signed integer, stored as a length.
    pub const SINT: u64 = 1;
    /// An unsigned integer, stored as a length.
    pub const UINT: u64 = 2;
    /// A 4-byte little-endian float.
    pub const FLOAT: u64 = 3;
    /// An 8-byte little-endian double.
    pub const DOUBLE: u64 = 4;
    /// An RDB string.
    pub const STRING: u64 = 5;
}

/// A 64-bit module type id: a 9-character name and a 10-bit encoding
/// version (`moduleTypeEncodeId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleId(pub u64);

impl ModuleId {
    /// The 9-character module type name.
    pub fn name(&self) -> String {
        (0..9)
            .map(|i| CHARSET[((self.0 >> (64 - 6 * (i + 1))) & 63) as usize] as char)
            .collect()
    }

    /// The encoding version (low 10 bits), which the module's loader is
    /// given.
    pub fn encver(&self) -> u32 {
        (self.0 & 1023) as u32
    }
}

/// One module value or module AUX payload: the id and the raw tagged
/// opcode stream, ending with (and including) the final `0` opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleValue<'a> {
    /// The module type that wrote the value.
    pub id: ModuleId,
    /// The opcode stream after the id, as stored; writing these bytes back
    /// after the id reproduces the value exactly.
    pub raw: &'a [u8],
    /// File offset of `raw`.
    pub raw_offset: usize,
}

/// Walks a tagged opcode stream up to and including its `0` opcode.
pub(crate) fn skip_opcode_stream(c: &mut Cursor<'_>) -> Result<()> {
    loop {
        let at = c.offset();
        let op = c.len("module opcode")?;
        match op {
            module_opcode::EOF => return Ok(()),
            module_opcode::SINT | module_opcode::UINT => {
                c.len("module integer")?;
            }
            module_opcode::FLOAT => {
                c.take(4, "module float")?;
            }
            module_opcode::DOUBLE => {
                c.take(8, "module double")?;
            }
            module_opcode::STRING => {
                c.rdb_string("module string")?;
            }
            _ => {
                return Err(Error::invalid(
                    at,
                    format!("unknown module opcode {op} (expected 0..=5)"),
                ))
            }
        }
    }
}

/// Reads a module id and its tagged value.
pub(crate) fn read_module_value<'a>(c: &mut Cursor<'a>) -> Result<ModuleValue<'a>> {
    let at = c.offset();
    let id = ModuleId(c.len("module id")?);
    if id.0 >> 10 == 0 {
        return Err(Error::invalid(
            at,
            "module id 0 is reserved (no module name)",
        ));
    }
    let start = c.pos();
    let raw_offset = c.offset();
    skip_opcode_stream(c)?;
    Ok(ModuleValue {
        id,
        raw: &c.data()[start..c.pos()],
        raw_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_ids() {
        // docs/format.md#worked-examples: "AAAAAAAAB" version 0 = 1 << 10.
        assert_eq!(ModuleId(1 << 10).name(), "AAAAAAAAB");
        assert_eq!(ModuleId(1 << 10).encver(), 0);
        // Encode "hellotype" v0 by hand and read it back.
        let mut id = 0u64;
        for ch in b"hellotype" {
            id = (id << 6) | CHARSET.iter().position(|c| c == ch).unwrap() as u64;
        }
        let m = ModuleId((id << 10) | 7);
        assert_eq!(m.name(), "hellotype");
        assert_eq!(m.encver(), 7);
    }
}
