//! Hash commands (`t_hash.c`), field TTLs included: Redis 7.4's
//! `HEXPIRE` family and `HPERSIST`, and `HSETEX` as Valkey 9 and Redis 8
//! write it.

use crate::args::{float, int, is, parse_float, parse_int};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;
use crate::value::HOp;

/// The largest field expire time a server takes (`EB_EXPIRE_TIME_MAX`, 2^48 - 1 ms).
const FIELD_EXPIRE_MAX: i64 = (1 << 48) - 1;

/// `HSET`/`HMSET key field value ...`: a rewritten field loses its TTL.
pub(crate) fn hset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 != 0 {
        return Err(CmdError::arity(a[0]));
    }
    let ops: Vec<(&[u8], HOp<'_>)> = a[2..]
        .chunks(2)
        .map(|p| (p[0], HOp::Set(p[1], false)))
        .collect();
    ctx.hash_or_new(a[1])?.apply(&ops);
    ctx.trim(a[1]);
    Ok(())
}

/// `HSETNX key field value`.
pub(crate) fn hsetnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if let Some(h) = ctx.hash(a[1])? {
        if h.get(a[2]).is_some() {
            return Ok(());
        }
    }
    ctx.hash_or_new(a[1])?
        .apply(&[(a[2], HOp::Set(a[3], false))]);
    Ok(())
}

/// `HDEL key field ...`.
pub(crate) fn hdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if let Some(h) = ctx.hash(a[1])? {
        let ops: Vec<(&[u8], HOp<'_>)> = a[2..].iter().map(|f| (*f, HOp::Del)).collect();
        h.apply(&ops);
        ctx.drop_if_empty(a[1]);
    }
    Ok(())
}

/// `HINCRBY key field n`: the field keeps its TTL.
pub(crate) fn hincrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let by = int(a[3])?;
    let old = match ctx.hash(a[1])?.and_then(|h| h.get(a[2])) {
        Some((v, _)) => {
            parse_int(v).ok_or_else(|| CmdError::refused("ERR hash value is not an integer"))?
        }
        None => 0,
    };
    let n = old
        .checked_add(by)
        .ok_or_else(|| CmdError::refused("ERR increment or decrement would overflow"))?;
    let text = n.to_string();
    ctx.hash_or_new(a[1])?
        .apply(&[(a[2], HOp::Set(text.as_bytes(), true))]);
    Ok(())
}

/// `HINCRBYFLOAT key field n`: a server propagates it as `HSET`, so an AOF
/// never holds it; see `INCRBYFLOAT` for the precision used.
pub(crate) fn hincrbyfloat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let by = float(a[3])?;
    let old = match ctx.hash(a[1])?.and_then(|h| h.get(a[2])) {
        Some((v, _)) => {
            parse_float(v).ok_or_else(|| CmdError::refused("ERR hash value is not a float"))?
        }
        None => 0.0,
    };
    let v = old + by;
    if !v.is_finite() {
        return Err(CmdError::refused(
            "ERR increment would produce NaN or Infinity",
        ));
    }
    let text = super::strings::human_double(v);
    ctx.hash_or_new(a[1])?
        .apply(&[(a[2], HOp::Set(text.as_bytes(), true))]);
    Ok(())
}

/// `FIELDS numfields field ...` at `a[i..]`: the fields.
fn fields<'a>(a: &[&'a [u8]], i: usize) -> Result<Vec<&'a [u8]>, CmdError> {
    if i >= a.len() || !is(a[i], "fields") {
        return Err(CmdError::refused(
            "ERR Mandatory argument FIELDS is missing or not at the right position",
        ));
    }
    let n = a
        .get(i + 1)
        .and_then(|b| parse_int(b))
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::refused("ERR Parameter `numFields` should be greater than 0"))?
        as usize;
    if a.len() - i - 2 != n {
        return Err(CmdError::refused(
            "ERR The `numfields` parameter must match the number of arguments",
        ));
    }
    Ok(a[i + 2..].to_vec())
}

/// The `HEXPIRE` family: `key time [NX|XX|GT|LT] FIELDS n field ...`.
fn hexpire_generic(ctx: &mut Ctx<'_>, a: &[&[u8]], base: i64, unit: i64) -> CmdResult {
    let t = int(a[2])?;
    let mut i = 3;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    if i < a.len() && !is(a[i], "fields") {
        let o = a[i];
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "gt") {
            gt = true;
        } else if is(o, "lt") {
            lt = true;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let fs = fields(a, i)?;
    let when = t
        .checked_mul(unit)
        .and_then(|w| w.checked_add(base))
        .filter(|&w| (0..=FIELD_EXPIRE_MAX).contains(&w))
        .ok_or_else(|| {
            CmdError::refused("ERR invalid expire time, must be >= 0 and <= 281474976710655")
        })?;
    let Some(h) = ctx.hash(a[1])? else {
        return Ok(());
    };
    let mut ops = Vec::new();
    for f in fs {
        let Some((_, cur)) = h.get(f) else { continue };
        if crate::args::expire_allowed(cur, when, nx, xx, gt, lt) {
            ops.push((f, HOp::Ttl(Some(when))));
        }
    }
    // While loading, a time in the past is kept as the field's TTL
    // (`checkAlreadyExpired` is false then); the field goes later.
    h.apply(&ops);
    Ok(())
}

/// `HPEXPIREAT key unix-ms [NX|XX|GT|LT] FIELDS n field ...`.
pub(crate) fn hpexpireat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    hexpire_generic(ctx, a, 0, 1)
}

/// `HEXPIREAT key unix-s ...`.
pub(crate) fn hexpireat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    hexpire_generic(ctx, a, 0, 1000)
}

/// `HPEXPIRE key ms ...`.
pub(crate) fn hpexpire(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    hexpire_generic(ctx, a, now, 1)
}

/// `HEXPIRE key s ...`.
pub(crate) fn hexpire(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    hexpire_generic(ctx, a, now, 1000)
}

/// `HPERSIST key FIELDS n field ...`.
pub(crate) fn hpersist(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let fs = fields(a, 2)?;
    if let Some(h) = ctx.hash(a[1])? {
        let ops: Vec<(&[u8], HOp<'_>)> = fs.into_iter().map(|f| (f, HOp::Ttl(None))).collect();
        h.apply(&ops);
    }
    Ok(())
}

/// `HSETEX key [NX|XX] [FNX|FXX] [EX|PX|EXAT|PXAT t|KEEPTTL] FIELDS n field value ...`
/// (Valkey 9; Redis 8 has the same without NX/XX).
pub(crate) fn hsetex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut nx, mut xx, mut fnx, mut fxx, mut keep) = (false, false, false, false, false);
    let mut ttl: Option<i64> = None;
    let mut i = 2;
    while i < a.len() && !is(a[i], "fields") {
        let o = a[i];
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "fnx") {
            fnx = true;
        } else if is(o, "fxx") {
            fxx = true;
        } else if is(o, "keepttl") {
            keep = true;
        } else if ["ex", "px", "exat", "pxat"].iter().any(|u| is(o, u)) && i + 1 < a.len() {
            let v = int(a[i + 1])?;
            if v <= 0 {
                return Err(CmdError::refused("ERR invalid expire time"));
            }
            let ms = if is(o, "ex") || is(o, "exat") {
                v.checked_mul(1000)
            } else {
                Some(v)
            };
            let base = if is(o, "ex") || is(o, "px") {
                ctx.now_ms
            } else {
                0
            };
            ttl = Some(
                ms.and_then(|m| m.checked_add(base))
                    .filter(|&w| w <= FIELD_EXPIRE_MAX)
                    .ok_or_else(|| CmdError::refused("ERR invalid expire time"))?,
            );
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if (nx && xx) || (fnx && fxx) || (keep && ttl.is_some()) {
        return Err(CmdError::syntax());
    }
    // FIELDS n then n (field, value) pairs.
    if i >= a.len() {
        return Err(CmdError::syntax());
    }
    let n = a
        .get(i + 1)
        .and_then(|b| parse_int(b))
        .filter(|&n| n > 0)
        .ok_or_else(CmdError::syntax)? as usize;
    let pairs = &a[i + 2..];
    if pairs.len() != 2 * n {
        return Err(CmdError::syntax());
    }
    let exists = ctx.hash(a[1])?.is_some();
    if (nx && exists) || (xx && !exists) {
        return Ok(());
    }
    if let Some(h) = ctx.hash(a[1])? {
        let present = pairs.chunks(2).filter(|p| h.get(p[0]).is_some()).count();
        if (fnx && present > 0) || (fxx && present < n) {
            return Ok(());
        }
    } else if fxx {
        return Ok(());
    }
    let mut ops: Vec<(&[u8], HOp<'_>)> = Vec::with_capacity(2 * n);
    for p in pairs.chunks(2) {
        ops.push((p[0], HOp::Set(p[1], keep)));
        if !keep {
            ops.push((p[0], HOp::Ttl(ttl)));
        }
    }
    ctx.hash_or_new(a[1])?.apply(&ops);
    Ok(())
}
