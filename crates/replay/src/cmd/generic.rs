//! Keyspace commands (`db.c`, `expire.c`, `cluster.c`'s RESTORE).

use crate::args::{int, is, uint};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{Ctx, Entry};
use crate::value::Val;

/// A command that changes nothing.
pub(crate) fn nothing(_: &mut Ctx<'_>, _: &[&[u8]]) -> CmdResult {
    Ok(())
}

/// `DEL`/`UNLINK key ...`.
pub(crate) fn del(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    for k in &a[1..] {
        ctx.remove(k);
    }
    Ok(())
}

/// The flags of `EXPIRE` and kin (7.0+): NX, XX, GT, LT.
fn expire_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], base_ms: i64, unit_ms: i64) -> CmdResult {
    let n = int(a[2])?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for o in &a[3..] {
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "gt") {
            gt = true;
        } else if is(o, "lt") {
            lt = true;
        } else {
            return Err(CmdError::refused(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(o)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::refused(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::refused(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let invalid = || {
        CmdError::refused(format!(
            "ERR invalid expire time in '{}' command",
            String::from_utf8_lossy(a[0]).to_ascii_lowercase()
        ))
    };
    let when = n
        .checked_mul(unit_ms)
        .and_then(|w| w.checked_add(base_ms))
        .ok_or_else(invalid)?;
    let Some(e) = ctx.get(a[1]) else {
        return Ok(());
    };
    if crate::args::expire_allowed(e.expire_at_ms, when, nx, xx, gt, lt) {
        // While loading, a time in the past still becomes the key's expire
        // (`checkAlreadyExpired` is false during loading); the key goes
        // when the loaded server first looks at it.
        e.expire_at_ms = Some(when);
    }
    Ok(())
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`.
pub(crate) fn expire(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    expire_generic(ctx, a, now, 1000)
}

/// `PEXPIRE key ms [NX|XX|GT|LT]`.
pub(crate) fn pexpire(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    expire_generic(ctx, a, now, 1)
}

/// `EXPIREAT key unix-seconds [NX|XX|GT|LT]`.
pub(crate) fn expireat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, a, 0, 1000)
}

/// `PEXPIREAT key unix-ms [NX|XX|GT|LT]`.
pub(crate) fn pexpireat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, a, 0, 1)
}

/// `PERSIST key`.
pub(crate) fn persist(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if let Some(e) = ctx.get(a[1]) {
        e.expire_at_ms = None;
    }
    Ok(())
}

fn rename_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], nx: bool) -> CmdResult {
    let (src, dst) = (a[1], a[2]);
    if !ctx.exists(src) {
        return Err(CmdError::refused("ERR no such key"));
    }
    if src == dst {
        return Ok(());
    }
    if nx && ctx.exists(dst) {
        return Ok(());
    }
    let e = ctx.remove(src).expect("exists");
    ctx.put(dst, e.value, e.expire_at_ms);
    Ok(())
}

/// `RENAME src dst`.
pub(crate) fn rename(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, a, false)
}

/// `RENAMENX src dst`.
pub(crate) fn renamenx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, a, true)
}

fn db_index(b: &[u8]) -> Result<u64, CmdError> {
    let v = int(b).map_err(|_| CmdError::refused("ERR value is not an integer or out of range"))?;
    u64::try_from(v).map_err(|_| CmdError::refused("ERR DB index is out of range"))
}

/// `MOVE key db`.
pub(crate) fn move_(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let to = db_index(a[2])?;
    if to == ctx.db {
        return Err(CmdError::refused(
            "ERR source and destination objects are the same",
        ));
    }
    if !ctx.exists(a[1]) || ctx.ds.dbs.get(&to).is_some_and(|d| d.contains_key(a[1])) {
        return Ok(());
    }
    let e = ctx.remove(a[1]).expect("exists");
    ctx.ds.db(to).insert(a[1], e);
    Ok(())
}

/// `COPY src dst [DB n] [REPLACE]`.
pub(crate) fn copy(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (src, dst) = (a[1], a[2]);
    let mut to = ctx.db;
    let mut replace = false;
    let mut i = 3;
    while i < a.len() {
        if is(a[i], "replace") {
            replace = true;
        } else if is(a[i], "db") && i + 1 < a.len() {
            to = db_index(a[i + 1])?;
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if src == dst && to == ctx.db {
        return Err(CmdError::refused(
            "ERR source and destination objects are the same",
        ));
    }
    let Some(e) = ctx.get(src).cloned() else {
        return Ok(());
    };
    let target = ctx.ds.db(to);
    if target.contains_key(dst) && !replace {
        return Ok(());
    }
    target.insert(dst, e);
    Ok(())
}

/// `SWAPDB a b`.
pub(crate) fn swapdb(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let x = db_index(a[1]).map_err(|_| CmdError::refused("ERR invalid first DB index."))?;
    let y = db_index(a[2]).map_err(|_| CmdError::refused("ERR invalid second DB index."))?;
    if x != y {
        let dx = ctx.ds.dbs.remove(&x).unwrap_or_default();
        let dy = ctx.ds.dbs.remove(&y).unwrap_or_default();
        ctx.ds.dbs.insert(x, dy);
        ctx.ds.dbs.insert(y, dx);
    }
    Ok(())
}

fn flush_flags(a: &[&[u8]]) -> CmdResult {
    match a.len() {
        1 => Ok(()),
        2 if is(a[1], "async") || is(a[1], "sync") => Ok(()),
        _ => Err(CmdError::syntax()),
    }
}

/// `FLUSHDB [ASYNC|SYNC]`.
pub(crate) fn flushdb(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    flush_flags(a)?;
    ctx.ds.dbs.remove(&ctx.db);
    Ok(())
}

/// `FLUSHALL [ASYNC|SYNC]`.
pub(crate) fn flushall(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    flush_flags(a)?;
    ctx.ds.flush_all();
    Ok(())
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`: the
/// payload decoded by the RDB reader (any version it reads, checksum
/// verified as the server does).
pub(crate) fn restore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (key, ttl, payload) = (a[1], int(a[2])?, a[3]);
    let (mut replace, mut absttl) = (false, false);
    let mut i = 4;
    while i < a.len() {
        if is(a[i], "replace") {
            replace = true;
        } else if is(a[i], "absttl") {
            absttl = true;
        } else if (is(a[i], "idletime") || is(a[i], "freq")) && i + 1 < a.len() {
            uint(a[i + 1])?;
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if ttl < 0 {
        return Err(CmdError::refused("ERR Invalid TTL value, must be >= 0"));
    }
    if !replace && ctx.exists(key) {
        return Err(CmdError::refused("BUSYKEY Target key name already exists."));
    }
    let bad = |e: rdbscope_rdb::Error| CmdError::refused(format!("ERR Bad data format ({e})"));
    let p = rdbscope_rdb::payload::parse(payload, true).map_err(bad)?;
    let mut scratch = rdbscope_rdb::Scratch::new();
    let owned = p.value.to_owned(&mut scratch).map_err(bad)?;
    let value = Val::from_owned(owned);
    let expire = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(ctx.now_ms.saturating_add(t)),
    };
    if value.is_empty_collection() {
        return Err(CmdError::refused("ERR Bad data format"));
    }
    ctx.remove(key);
    ctx.keys().insert(
        key,
        Entry {
            value,
            expire_at_ms: expire,
        },
    );
    Ok(())
}
