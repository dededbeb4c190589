//! List commands (`t_list.c`). Blocking pops reach an AOF as the plain
//! pops they performed, so only those are here.

use crate::args::{int, is};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;
use crate::value::Bytes;

fn push(ctx: &mut Ctx<'_>, a: &[&[u8]], head: bool, only_existing: bool) -> CmdResult {
    let key = a[1];
    let l = match ctx.list(key)? {
        Some(l) => l,
        None if only_existing => return Ok(()),
        None => ctx.list_or_new(key)?,
    };
    for v in &a[2..] {
        if head {
            l.push_front(v);
        } else {
            l.push_back(v);
        }
    }
    ctx.trim(key);
    Ok(())
}

/// `RPUSH key v ...`.
pub(crate) fn rpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push(ctx, a, false, false)
}

/// `LPUSH key v ...`.
pub(crate) fn lpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        // Many heads at once: one rebuild instead of one per element.
        let key = a[1];
        let l = ctx.list_or_new(key)?;
        l.edit(|d| {
            for v in &a[2..] {
                d.push_front(Bytes::from(*v));
            }
        });
        return Ok(());
    }
    push(ctx, a, true, false)
}

/// `RPUSHX key v ...`.
pub(crate) fn rpushx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push(ctx, a, false, true)
}

/// `LPUSHX key v ...`.
pub(crate) fn lpushx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    push(ctx, a, true, true)
}

fn pop(ctx: &mut Ctx<'_>, a: &[&[u8]], head: bool) -> CmdResult {
    let count = match a.len() {
        2 => 1,
        3 => {
            let c = int(a[2])?;
            if c < 0 {
                return Err(CmdError::refused(
                    "ERR value is out of range, must be positive",
                ));
            }
            c as usize
        }
        _ => return Err(CmdError::syntax()),
    };
    let Some(l) = ctx.list(a[1])? else {
        return Ok(());
    };
    if count == 1 {
        if head {
            l.pop_front();
        } else {
            l.pop_back();
        }
    } else {
        l.edit(|d| {
            for _ in 0..count.min(d.len()) {
                if head {
                    d.pop_front();
                } else {
                    d.pop_back();
                }
            }
        });
    }
    ctx.drop_if_empty(a[1]);
    Ok(())
}

/// `LPOP key [count]`.
pub(crate) fn lpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    pop(ctx, a, true)
}

/// `RPOP key [count]`.
pub(crate) fn rpop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    pop(ctx, a, false)
}

/// `LINSERT key BEFORE|AFTER pivot element`.
pub(crate) fn linsert(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let after = if is(a[2], "after") {
        true
    } else if is(a[2], "before") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let (pivot, v) = (a[3], a[4]);
    let Some(l) = ctx.list(a[1])? else {
        return Ok(());
    };
    l.edit(|d| {
        if let Some(i) = d.iter().position(|e| &e[..] == pivot) {
            d.insert(if after { i + 1 } else { i }, Bytes::from(v));
        }
    });
    Ok(())
}

/// A list index as the server reads it: negative from the tail.
fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// `LSET key index element`.
pub(crate) fn lset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let i = int(a[2])?;
    let Some(l) = ctx.list(a[1])? else {
        return Err(CmdError::refused("ERR no such key"));
    };
    let Some(at) = index(i, l.len()) else {
        return Err(CmdError::refused("ERR index out of range"));
    };
    l.edit(|d| d[at] = Bytes::from(a[3]));
    Ok(())
}

/// `LREM key count element`.
pub(crate) fn lrem(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let count = int(a[2])?;
    let v = a[3];
    let Some(l) = ctx.list(a[1])? else {
        return Ok(());
    };
    l.edit(|d| {
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < d.len() && removed < limit {
                if &d[i][..] == v {
                    d.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = d.len();
            while i > 0 && removed < limit {
                i -= 1;
                if &d[i][..] == v {
                    d.remove(i);
                    removed += 1;
                }
            }
        }
    });
    ctx.drop_if_empty(a[1]);
    Ok(())
}

/// `LTRIM key start stop`.
pub(crate) fn ltrim(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (start, stop) = (int(a[2])?, int(a[3])?);
    let Some(l) = ctx.list(a[1])? else {
        return Ok(());
    };
    let len = l.len() as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if stop < 0 { len + stop } else { stop };
    if s < 0 {
        s = 0;
    }
    l.edit(|d| {
        if s > e || s >= len {
            d.clear();
        } else {
            if e >= len {
                e = len - 1;
            }
            d.truncate((e + 1) as usize);
            d.drain(..s as usize);
        }
    });
    ctx.drop_if_empty(a[1]);
    Ok(())
}

/// Moves one element from `src`'s `from_head` end to `dst`'s `to_head` end.
fn move_one(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from_head: bool,
    to_head: bool,
) -> CmdResult {
    if ctx.list(src)?.is_none() {
        return Ok(());
    }
    // The destination's type is checked before anything moves.
    ctx.list(dst)?;
    let l = ctx.list(src)?.expect("checked");
    let v = if from_head {
        l.pop_front()
    } else {
        l.pop_back()
    };
    let Some(v) = v else {
        return Ok(());
    };
    // The server pushes before it deletes an emptied source
    // (`lmoveGenericCommand`): a one-element list rotated onto itself
    // stays, with its TTL.
    if src != dst {
        ctx.drop_if_empty(src);
    }
    let d = ctx.list_or_new(dst)?;
    if to_head {
        d.push_front(&v);
    } else {
        d.push_back(&v);
    }
    Ok(())
}

/// `RPOPLPUSH src dst`.
pub(crate) fn rpoplpush(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    move_one(ctx, a[1], a[2], false, true)
}

fn side(b: &[u8]) -> Result<bool, CmdError> {
    if is(b, "left") {
        Ok(true)
    } else if is(b, "right") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// `LMOVE src dst LEFT|RIGHT LEFT|RIGHT`.
pub(crate) fn lmove(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (from, to) = (side(a[3])?, side(a[4])?);
    move_one(ctx, a[1], a[2], from, to)
}
