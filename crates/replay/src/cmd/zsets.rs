//! Sorted set commands (`t_zset.c`). Blocking and multi-key pops reach an
//! AOF as `ZPOPMIN`/`ZPOPMAX` with a count.

use crate::args::{float, int, is, parse_float};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;
use crate::value::{Val, Zset, SMALL_MAX, ZSET_SMALL_VALUE};

fn nan() -> CmdError {
    CmdError::refused("ERR resulting score is not a number (NaN)")
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...` (`zaddGenericCommand`).
pub(crate) fn zadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt, mut incr) = (false, false, false, false, false);
    let mut i = 2;
    while i < a.len() {
        let o = a[i];
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "gt") {
            gt = true;
        } else if is(o, "lt") {
            lt = true;
        } else if is(o, "ch") {
        } else if is(o, "incr") {
            incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &a[i..];
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(CmdError::syntax());
    }
    if nx && xx {
        return Err(CmdError::refused(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CmdError::refused(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && pairs.len() > 2 {
        return Err(CmdError::refused(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(pairs.len() / 2);
    for p in pairs.chunks(2) {
        scores.push(float(p[0])?);
    }
    apply_adds(ctx, a[1], pairs, &scores, nx, xx, gt, lt, incr)
}

#[allow(clippy::too_many_arguments)]
fn apply_adds(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    pairs: &[&[u8]],
    scores: &[f64],
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
) -> CmdResult {
    if xx && ctx.zset(key)?.is_none() {
        return Ok(());
    }
    // Redis 7.0+ and Valkey store a -0 score as 0 in a listpack (the
    // corpus truth of every 7.x and Valkey server shows it); 6.2 and older
    // keep "-0" in a ziplist. A skiplist keeps the double as given.
    let zero_sign = ctx.at_least(7, 0);
    let (at_72, valkey) = (ctx.at_least(7, 2), ctx.valkey);
    let fresh = ctx.zset(key)?.is_none();
    let z = ctx.zset_or_new(key)?;
    // Whether the server's encoding is a listpack as each member goes in:
    // a new key is made a skiplist at once when the command's members are
    // too many or one too long (`zsetTypeCreate`); a listpack turns into
    // one before the member that would break a limit (`zsetAdd`).
    let n = pairs.len() / 2;
    let longest = pairs.chunks(2).map(|p| p[1].len()).max().unwrap_or(0);
    let first = pairs.get(1).map_or(0, |m| m.len());
    let mut compact = if fresh {
        // 7.0: by the first member's length; 7.2: and the command's size;
        // Valkey: its longest member's length.
        (!at_72 || n <= SMALL_MAX)
            && if valkey {
                longest <= ZSET_SMALL_VALUE
            } else {
                first <= ZSET_SMALL_VALUE
            }
    } else {
        // 7.2+ converts a listpack at once for a command of more members
        // than it holds (`zsetTypeMaybeConvert`); Valkey also for a long one.
        matches!(z, Zset::Small(_))
            && !(at_72 && n > SMALL_MAX)
            && !(valkey && longest > ZSET_SMALL_VALUE)
    };
    let mut count = z.len();
    let mut ops: Vec<(&[u8], Option<f64>)> = Vec::with_capacity(scores.len());
    let mut result = Ok(());
    for (p, &s) in pairs.chunks(2).zip(scores) {
        let m = p[1];
        // A member may appear twice in one ZADD: the later sees the earlier.
        let cur = ops
            .iter()
            .rev()
            .find(|(e, _)| *e == m)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| z.score(m));
        match cur {
            Some(c) => {
                if nx {
                    continue;
                }
                let mut new = if incr { c + s } else { s };
                if zero_sign && compact && new == 0.0 {
                    new = 0.0;
                }
                if new.is_nan() {
                    result = Err(nan());
                    break;
                }
                if (gt && new <= c) || (lt && new >= c) {
                    continue;
                }
                if new != c {
                    ops.push((m, Some(new)));
                }
            }
            None => {
                if xx {
                    continue;
                }
                if count + 1 > SMALL_MAX || m.len() > ZSET_SMALL_VALUE {
                    compact = false;
                }
                count += 1;
                let s = if zero_sign && compact && s == 0.0 {
                    0.0
                } else {
                    s
                };
                ops.push((m, Some(s)));
            }
        }
    }
    z.update(&ops);
    if !compact {
        z.make_big();
    }
    ctx.drop_if_empty(key);
    ctx.trim(key);
    result
}

/// `ZINCRBY key increment member`.
pub(crate) fn zincrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let s = float(a[2])?;
    apply_adds(
        ctx,
        a[1],
        &[a[2], a[3]],
        &[s],
        false,
        false,
        false,
        false,
        true,
    )
}

/// `ZREM key member ...`.
pub(crate) fn zrem(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if let Some(z) = ctx.zset(a[1])? {
        let ops: Vec<(&[u8], Option<f64>)> = a[2..].iter().map(|m| (*m, None)).collect();
        z.update(&ops);
        ctx.drop_if_empty(a[1]);
    }
    Ok(())
}

/// A score bound: `(x` exclusive, `-inf`/`+inf`.
#[derive(Clone, Copy)]
struct Bound {
    v: f64,
    open: bool,
}

fn score_bound(b: &[u8]) -> Result<Bound, CmdError> {
    let bad = || CmdError::refused("ERR min or max is not a float");
    match b.strip_prefix(b"(") {
        Some(rest) => Ok(Bound {
            v: parse_float(rest).ok_or_else(bad)?,
            open: true,
        }),
        None => Ok(Bound {
            v: parse_float(b).ok_or_else(bad)?,
            open: false,
        }),
    }
}

fn above(s: f64, min: Bound) -> bool {
    if min.open {
        s > min.v
    } else {
        s >= min.v
    }
}

fn below(s: f64, max: Bound) -> bool {
    if max.open {
        s < max.v
    } else {
        s <= max.v
    }
}

/// A lex bound: `[x`, `(x`, `-`, `+`.
#[derive(Clone)]
enum Lex {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn lex_bound(b: &[u8]) -> Result<Lex, CmdError> {
    match b.first() {
        Some(b'-') if b.len() == 1 => Ok(Lex::Min),
        Some(b'+') if b.len() == 1 => Ok(Lex::Max),
        Some(b'[') => Ok(Lex::Incl(b[1..].to_vec())),
        Some(b'(') => Ok(Lex::Excl(b[1..].to_vec())),
        _ => Err(CmdError::refused(
            "ERR min or max not valid string range item",
        )),
    }
}

fn lex_above(m: &[u8], min: &Lex) -> bool {
    match min {
        Lex::Min => true,
        Lex::Max => false,
        Lex::Incl(v) => m >= &v[..],
        Lex::Excl(v) => m > &v[..],
    }
}

fn lex_below(m: &[u8], max: &Lex) -> bool {
    match max {
        Lex::Min => false,
        Lex::Max => true,
        Lex::Incl(v) => m <= &v[..],
        Lex::Excl(v) => m < &v[..],
    }
}

/// Removes the members `pick` selects from the ordered items.
fn remove_where(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    pick: impl Fn(usize, &[u8], f64) -> bool,
) -> CmdResult {
    let Some(z) = ctx.zset(key)? else {
        return Ok(());
    };
    let gone: Vec<Vec<u8>> = z
        .items()
        .into_iter()
        .enumerate()
        .filter(|(i, (m, s))| pick(*i, m, *s))
        .map(|(_, (m, _))| m.to_vec())
        .collect();
    let ops: Vec<(&[u8], Option<f64>)> = gone.iter().map(|m| (&m[..], None)).collect();
    z.update(&ops);
    ctx.drop_if_empty(key);
    Ok(())
}

/// `ZREMRANGEBYSCORE key min max`.
pub(crate) fn zremrangebyscore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (min, max) = (score_bound(a[2])?, score_bound(a[3])?);
    remove_where(ctx, a[1], |_, _, s| above(s, min) && below(s, max))
}

/// `ZREMRANGEBYLEX key min max`.
pub(crate) fn zremrangebylex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (min, max) = (lex_bound(a[2])?, lex_bound(a[3])?);
    remove_where(ctx, a[1], |_, m, _| {
        lex_above(m, &min) && lex_below(m, &max)
    })
}

/// Normalizes a rank range over `len` items (`ZREMRANGEBYRANK`, `ZRANGE`).
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    if e < 0 {
        return None;
    }
    Some((s as usize, e as usize))
}

/// `ZREMRANGEBYRANK key start stop`.
pub(crate) fn zremrangebyrank(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (start, stop) = (int(a[2])?, int(a[3])?);
    let len = match ctx.zset(a[1])? {
        Some(z) => z.len(),
        None => return Ok(()),
    };
    let Some((s, e)) = rank_range(start, stop, len) else {
        return Ok(());
    };
    remove_where(ctx, a[1], |i, _, _| i >= s && i <= e)
}

fn zpop(ctx: &mut Ctx<'_>, a: &[&[u8]], max: bool) -> CmdResult {
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
    let len = match ctx.zset(a[1])? {
        Some(z) => z.len(),
        None => return Ok(()),
    };
    let n = count.min(len);
    if max {
        remove_where(ctx, a[1], |i, _, _| i >= len - n)
    } else {
        remove_where(ctx, a[1], |i, _, _| i < n)
    }
}

/// `ZPOPMIN key [count]`.
pub(crate) fn zpopmin(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zpop(ctx, a, false)
}

/// `ZPOPMAX key [count]`.
pub(crate) fn zpopmax(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    zpop(ctx, a, true)
}

/// The (member, score) pairs of a set or sorted set at `key` (a set's
/// members score 1), `None` when missing.
/// Owned (member, score) pairs.
type Scored = Vec<(Vec<u8>, f64)>;

fn scored_source(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Scored>, CmdError> {
    match ctx.get(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Val::Zset(z)) => Ok(Some(
            z.items()
                .into_iter()
                .map(|(m, s)| (m.to_vec(), s))
                .collect(),
        )),
        Some(Val::Set(s)) => Ok(Some(
            s.items().into_iter().map(|m| (m.to_vec(), 1.0)).collect(),
        )),
        Some(_) => Err(CmdError::wrong_type()),
    }
}

fn store(ctx: &mut Ctx<'_>, dst: &[u8], items: Vec<(Vec<u8>, f64)>) {
    if items.is_empty() {
        ctx.remove(dst);
        return;
    }
    let mut z = Zset::default();
    let ops: Vec<(&[u8], Option<f64>)> = items.iter().map(|(m, s)| (&m[..], Some(*s))).collect();
    z.update(&ops);
    // The result is made a listpack when small enough
    // (`zsetConvertToListpackIfNeeded`), which stores a -0 as 0 (7.0+).
    if ctx.at_least(7, 0) {
        if let Zset::Small(small) = &z {
            if small.iter().any(|(_, s)| s == 0.0 && s.is_sign_negative()) {
                let ops: Vec<(&[u8], Option<f64>)> = small
                    .iter()
                    .filter(|(_, s)| *s == 0.0 && s.is_sign_negative())
                    .map(|(m, _)| (m, Some(0.0)))
                    .collect();
                let mut fixed = z.clone();
                fixed.update(&ops);
                z = fixed;
            }
        }
    }
    ctx.set(dst, Val::Zset(z));
}

#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// `zunionInterAggregate`: a sum of infinities of opposite signs is 0.
fn aggregate(acc: f64, v: f64, agg: Agg) -> f64 {
    match agg {
        Agg::Sum => {
            let s = acc + v;
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        Agg::Min => acc.min(v),
        Agg::Max => acc.max(v),
    }
}

#[derive(PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

fn store_op(ctx: &mut Ctx<'_>, a: &[&[u8]], op: SetOp) -> CmdResult {
    let dst = a[1];
    let n = int(a[2])?;
    if n < 1 {
        return Err(CmdError::refused(format!(
            "ERR at least 1 input key is needed for '{}' command",
            String::from_utf8_lossy(a[0]).to_ascii_lowercase()
        )));
    }
    let n = n as usize;
    if a.len() < 3 + n {
        return Err(CmdError::syntax());
    }
    let keys = &a[3..3 + n];
    let mut weights = vec![1.0f64; n];
    let mut agg = Agg::Sum;
    let mut i = 3 + n;
    while i < a.len() {
        if op != SetOp::Diff && is(a[i], "weights") && i + n < a.len() {
            for (j, w) in weights.iter_mut().enumerate() {
                *w = parse_float(a[i + 1 + j])
                    .ok_or_else(|| CmdError::refused("ERR weight value is not a float"))?;
            }
            i += n + 1;
        } else if op != SetOp::Diff && is(a[i], "aggregate") && i + 1 < a.len() {
            agg = if is(a[i + 1], "sum") {
                Agg::Sum
            } else if is(a[i + 1], "min") {
                Agg::Min
            } else if is(a[i + 1], "max") {
                Agg::Max
            } else {
                return Err(CmdError::syntax());
            };
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let mut srcs = Vec::with_capacity(n);
    for k in keys {
        srcs.push(scored_source(ctx, k)?);
    }
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let out: Vec<(Vec<u8>, f64)> = match op {
        SetOp::Union => {
            let mut order: Vec<Vec<u8>> = Vec::new();
            let mut acc: std::collections::HashMap<Vec<u8>, f64> = Default::default();
            for (src, &w) in srcs.iter().zip(&weights) {
                for (m, s) in src.iter().flatten() {
                    let v = weighted(*s, w);
                    match acc.get_mut(m) {
                        Some(x) => *x = aggregate(*x, v, agg),
                        None => {
                            acc.insert(m.clone(), v);
                            order.push(m.clone());
                        }
                    }
                }
            }
            order
                .into_iter()
                .map(|m| {
                    let s = acc[&m];
                    (m, s)
                })
                .collect()
        }
        SetOp::Inter => {
            if srcs.iter().any(Option::is_none) {
                Vec::new()
            } else {
                let maps: Vec<std::collections::HashMap<&[u8], f64>> = srcs
                    .iter()
                    .flatten()
                    .map(|v| v.iter().map(|(m, s)| (&m[..], *s)).collect())
                    .collect();
                let first = srcs[0].as_ref().expect("all present");
                first
                    .iter()
                    .filter_map(|(m, s)| {
                        let mut acc = weighted(*s, weights[0]);
                        for (j, map) in maps.iter().enumerate().skip(1) {
                            let o = map.get(&m[..])?;
                            acc = aggregate(acc, weighted(*o, weights[j]), agg);
                        }
                        Some((m.clone(), acc))
                    })
                    .collect()
            }
        }
        SetOp::Diff => {
            let mut it = srcs.into_iter();
            let first = it.next().flatten().unwrap_or_default();
            let minus: std::collections::HashSet<Vec<u8>> =
                it.flatten().flatten().map(|(m, _)| m).collect();
            first
                .into_iter()
                .filter(|(m, _)| !minus.contains(m))
                .collect()
        }
    };
    store(ctx, dst, out);
    Ok(())
}

/// `ZUNIONSTORE dst numkeys key ... [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`.
pub(crate) fn zunionstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    store_op(ctx, a, SetOp::Union)
}

/// `ZINTERSTORE dst numkeys key ... [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`.
pub(crate) fn zinterstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    store_op(ctx, a, SetOp::Inter)
}

/// `ZDIFFSTORE dst numkeys key ...`.
pub(crate) fn zdiffstore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    store_op(ctx, a, SetOp::Diff)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`.
pub(crate) fn zrangestore(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (dst, src) = (a[1], a[2]);
    let (mut byscore, mut bylex, mut rev) = (false, false, false);
    let mut limit: Option<(i64, i64)> = None;
    let mut i = 5;
    while i < a.len() {
        if is(a[i], "byscore") {
            byscore = true;
        } else if is(a[i], "bylex") {
            bylex = true;
        } else if is(a[i], "rev") {
            rev = true;
        } else if is(a[i], "limit") && i + 2 < a.len() {
            limit = Some((int(a[i + 1])?, int(a[i + 2])?));
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if byscore && bylex {
        return Err(CmdError::syntax());
    }
    if limit.is_some() && !byscore && !bylex {
        return Err(CmdError::refused(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    // With REV the bounds come max first.
    let (lo, hi) = if rev && (byscore || bylex) {
        (a[4], a[3])
    } else {
        (a[3], a[4])
    };
    let items: Vec<(Vec<u8>, f64)> = match ctx.get(src).map(|e| &e.value) {
        None => Vec::new(),
        Some(Val::Zset(z)) => z
            .items()
            .into_iter()
            .map(|(m, s)| (m.to_vec(), s))
            .collect(),
        Some(_) => return Err(CmdError::wrong_type()),
    };
    let mut ordered = items;
    if rev {
        ordered.reverse();
    }
    let picked: Vec<(Vec<u8>, f64)> = if byscore {
        let (min, max) = (score_bound(lo)?, score_bound(hi)?);
        let (off, count) = limit.unwrap_or((0, -1));
        if off < 0 {
            Vec::new()
        } else {
            let it = ordered
                .into_iter()
                .filter(|(_, s)| above(*s, min) && below(*s, max))
                .skip(off as usize);
            if count < 0 {
                it.collect()
            } else {
                it.take(count as usize).collect()
            }
        }
    } else if bylex {
        let (min, max) = (lex_bound(lo)?, lex_bound(hi)?);
        let (off, count) = limit.unwrap_or((0, -1));
        if off < 0 {
            Vec::new()
        } else {
            let it = ordered
                .into_iter()
                .filter(|(m, _)| lex_above(m, &min) && lex_below(m, &max))
                .skip(off as usize);
            if count < 0 {
                it.collect()
            } else {
                it.take(count as usize).collect()
            }
        }
    } else {
        let (start, stop) = (int(lo)?, int(hi)?);
        match rank_range(start, stop, ordered.len()) {
            Some((s, e)) => ordered[s..=e].to_vec(),
            None => Vec::new(),
        }
    };
    store(ctx, dst, picked);
    Ok(())
}
