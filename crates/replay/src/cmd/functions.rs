//! `FUNCTION LOAD/DELETE/FLUSH/RESTORE` (`functions.c`): libraries by name, with
//! their source, which is all an RDB or an AOF rewrite keeps of them.

use crate::args::is;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;

/// The library name from the source's first line: `#!<engine> name=<name>`
/// (`functionExtractLibMetaData`).
pub fn library_name(code: &[u8]) -> Result<Vec<u8>, CmdError> {
    let line = code.split(|&b| b == b'\n').next().unwrap_or_default();
    let Some(rest) = line.strip_prefix(b"#!") else {
        return Err(CmdError::refused("ERR Missing library metadata"));
    };
    let mut parts = rest.split(|&b| b == b' ').filter(|p| !p.is_empty());
    parts.next(); // the engine
    if let Some(p) = parts.next() {
        if let Some(name) = p.strip_prefix(b"name=") {
            if name.is_empty() || !name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_') {
                return Err(CmdError::refused(
                    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
                ));
            }
            return Ok(name.to_vec());
        }
        return Err(CmdError::refused(format!(
            "ERR Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        )));
    }
    Err(CmdError::refused("ERR Library name was not given"))
}

/// `RDB_OPCODE_FUNCTION2`: one library's source follows.
const OPCODE_FUNCTION2: u8 = 245;

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`: the payload is what
/// `FUNCTION DUMP` gives, a `FUNCTION2` opcode and source string per
/// library, then the RDB version (2 bytes) and a CRC-64 (8 bytes).
/// All or nothing, as the server applies it.
fn restore(ctx: &mut Ctx<'_>, payload: &[u8], policy: Option<&[u8]>) -> CmdResult {
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy = match policy {
        None => Policy::Append,
        Some(p) if is(p, "append") => Policy::Append,
        Some(p) if is(p, "flush") => Policy::Flush,
        Some(p) if is(p, "replace") => Policy::Replace,
        Some(_) => return Err(CmdError::syntax()),
    };
    let bad = || CmdError::refused("ERR payload version or checksum are wrong");
    if payload.len() < 10 {
        return Err(bad());
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let stored = u64::from_le_bytes(crc.try_into().map_err(|_| bad())?);
    if rdbscope_rdb::crc::crc64(body) != stored {
        return Err(bad());
    }
    let body = &body[..body.len() - 2];
    let mut c = rdbscope_rdb::cursor::Cursor::new(body, 0);
    let mut buf = Vec::new();
    let mut libs = Vec::new();
    while !c.is_empty() {
        let op = c.u8("opcode").map_err(|_| bad())?;
        if op != OPCODE_FUNCTION2 {
            return Err(CmdError::refused("ERR given type is not a function"));
        }
        let code = c
            .rdb_string("library source")
            .and_then(|s| {
                s.bytes_limited(&mut buf, body.len() as u64 * 64)
                    .map(<[u8]>::to_vec)
            })
            .map_err(|e| CmdError::refused(format!("ERR payload: {e}")))?;
        libs.push((library_name(&code)?, code));
    }
    let functions = &mut ctx.ds.functions;
    match policy {
        Policy::Flush => functions.clear(),
        Policy::Append => {
            if let Some((name, _)) = libs.iter().find(|(n, _)| functions.contains_key(n)) {
                return Err(CmdError::refused(format!(
                    "ERR Library {} already exists",
                    String::from_utf8_lossy(name)
                )));
            }
        }
        Policy::Replace => {}
    }
    functions.extend(libs);
    Ok(())
}

/// `FUNCTION <subcommand> ...`.
pub(crate) fn function(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let sub = a[1];
    if is(sub, "load") {
        let (replace, code) = match a.len() {
            3 => (false, a[2]),
            4 if is(a[2], "replace") => (true, a[3]),
            _ => return Err(CmdError::syntax()),
        };
        let name = library_name(code)?;
        if !replace && ctx.ds.functions.contains_key(&name) {
            return Err(CmdError::refused(format!(
                "ERR Library '{}' already exists",
                String::from_utf8_lossy(&name)
            )));
        }
        ctx.ds.functions.insert(name, code.to_vec());
        Ok(())
    } else if is(sub, "delete") && a.len() == 3 {
        match ctx.ds.functions.remove(a[2]) {
            Some(_) => Ok(()),
            None => Err(CmdError::refused("ERR Library not found")),
        }
    } else if is(sub, "flush") && a.len() <= 3 {
        ctx.ds.functions.clear();
        Ok(())
    } else if is(sub, "restore") && (3..=4).contains(&a.len()) {
        restore(ctx, a[2], a.get(3).copied())
    } else {
        Err(CmdError::Unsupported(format!(
            "FUNCTION {}",
            String::from_utf8_lossy(sub).to_ascii_uppercase()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Dataset;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `FUNCTION DUMP` of one library, from a live Redis 7.0.15 (its
    /// source LZF-compressed).
    const DUMP: &str = "f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e6374696f6e28276d79400b02272c2040066012116b6579732c2061726773292072657475726e600c075b315d20656e64290a008d5936adc6e707da";

    #[test]
    fn restore_takes_a_live_servers_dump_all_or_nothing() {
        let mut ds = Dataset::default();
        let mut ctx = Ctx {
            ds: &mut ds,
            db: 0,
            now_ms: 0,
            version: None,
            valkey: false,
        };
        let payload = hex(DUMP);
        function(&mut ctx, &[b"FUNCTION", b"RESTORE", &payload]).unwrap();
        let code = ctx.ds.functions.get(&b"mylib"[..]).unwrap().clone();
        assert!(code.starts_with(b"#!lua name=mylib\nredis.register_function('myfunc'"));
        // APPEND (the default) refuses a library that exists; REPLACE takes it.
        assert!(function(&mut ctx, &[b"FUNCTION", b"RESTORE", &payload]).is_err());
        function(&mut ctx, &[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"]).unwrap();
        let mut bad = payload.clone();
        bad[5] ^= 1;
        assert!(function(&mut ctx, &[b"FUNCTION", b"RESTORE", &bad, b"FLUSH"]).is_err());
        assert_eq!(ctx.ds.functions.len(), 1);
    }
}
