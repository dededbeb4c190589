//! `FUNCTION LOAD/DELETE/FLUSH` (`functions.c`): libraries by name, with
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
    } else if is(sub, "restore") {
        Err(CmdError::Unsupported("FUNCTION RESTORE".into()))
    } else {
        Err(CmdError::Unsupported(format!(
            "FUNCTION {}",
            String::from_utf8_lossy(sub).to_ascii_uppercase()
        )))
    }
}
