//! Set commands (`t_set.c`). `SPOP` reaches an AOF as `SREM` (or `DEL`/
//! `UNLINK` when it took everything), `SRANDMEMBER` not at all.

use crate::error::CmdResult;
use crate::keyspace::Ctx;
use crate::value::{Set, Val};

/// `SADD key member ...`.
pub(crate) fn sadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    ctx.set_or_new(a[1])?.add_all(&a[2..]);
    ctx.trim(a[1]);
    Ok(())
}

/// `SREM key member ...`.
pub(crate) fn srem(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if let Some(s) = ctx.set_value(a[1])? {
        s.remove_all(&a[2..]);
        ctx.drop_if_empty(a[1]);
    }
    Ok(())
}

/// `SMOVE src dst member`.
pub(crate) fn smove(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (src, dst, m) = (a[1], a[2], a[3]);
    if ctx.set_value(src)?.is_none() {
        ctx.set_value(dst)?;
        return Ok(());
    }
    ctx.set_value(dst)?;
    if src == dst {
        return Ok(());
    }
    let s = ctx.set_value(src)?.expect("checked");
    if s.remove_all(&[m]) == 0 {
        return Ok(());
    }
    ctx.drop_if_empty(src);
    ctx.set_or_new(dst)?.add_all(&[m]);
    Ok(())
}

/// The members of the sets at `keys` (a missing key is an empty set).
fn sources(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
) -> Result<Vec<Option<Vec<Vec<u8>>>>, crate::error::CmdError> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(
            ctx.set_value(k)?
                .map(|s| s.items().into_iter().map(<[u8]>::to_vec).collect()),
        );
    }
    Ok(out)
}

fn store(ctx: &mut Ctx<'_>, dst: &[u8], members: Vec<Vec<u8>>) {
    if members.is_empty() {
        ctx.remove(dst);
        return;
    }
    let mut s = Set::default();
    let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
    s.add_all(&refs);
    ctx.set(dst, Val::Set(s));
}

/// `SINTERSTORE dst key ...`.
pub(crate) fn sinterstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let srcs = sources(ctx, &a[2..])?;
    let mut out = Vec::new();
    if srcs.iter().all(Option::is_some) {
        let sets: Vec<Vec<Vec<u8>>> = srcs.into_iter().flatten().collect();
        let others: Vec<std::collections::HashSet<&[u8]>> = sets[1..]
            .iter()
            .map(|s| s.iter().map(Vec::as_slice).collect())
            .collect();
        for m in &sets[0] {
            if others.iter().all(|o| o.contains(m.as_slice())) {
                out.push(m.clone());
            }
        }
    }
    store(ctx, a[1], out);
    Ok(())
}

/// `SUNIONSTORE dst key ...`.
pub(crate) fn sunionstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let srcs = sources(ctx, &a[2..])?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for m in srcs.into_iter().flatten().flatten() {
        if seen.insert(m.clone()) {
            out.push(m);
        }
    }
    store(ctx, a[1], out);
    Ok(())
}

/// `SDIFFSTORE dst key ...`.
pub(crate) fn sdiffstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let srcs = sources(ctx, &a[2..])?;
    let mut it = srcs.into_iter();
    let first = it.next().flatten().unwrap_or_default();
    let minus: std::collections::HashSet<Vec<u8>> = it.flatten().flatten().collect();
    let out = first.into_iter().filter(|m| !minus.contains(m)).collect();
    store(ctx, a[1], out);
    Ok(())
}
