//! Stream commands (`t_stream.c`) in the forms servers propagate them:
//! `XADD` with the ID it generated and an exact trim (`~` is rewritten to
//! `=` with the length or first ID it reached), `XTRIM`, `XDEL`, `XSETID`,
//! `XGROUP`, `XACK`, and the `XCLAIM … FORCE JUSTID LASTID` that stands
//! for every delivery by `XREADGROUP`, `XCLAIM` and `XAUTOCLAIM`.
//!
//! Times a server takes from its own clock while loading (a consumer's
//! seen and active time, a delivery without `TIME`) come from the
//! replay's clock (`--replay-now`).

use crate::args::{int, is, parse_int};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;
use crate::stream::{incr, XStream, MAX, ZERO};
use rdbscope_rdb::owned::{OwnedConsumer, OwnedGroup, OwnedPending};
use rdbscope_rdb::StreamId;

fn invalid_id() -> CmdError {
    CmdError::refused("ERR Invalid stream ID specified as stream command argument")
}

/// `string2ull`.
fn parse_u64(b: &[u8]) -> Option<u64> {
    if let Some(v) = parse_int(b) {
        return u64::try_from(v).ok();
    }
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// An ID as `streamGenericParseIDOrReply` reads it: `ms-seq`, or `ms`
/// (sequence `missing_seq`); `-`/`+` unless `strict`. With `auto_seq`,
/// `ms-*` is taken and the result says the sequence was not given.
fn parse_id(
    b: &[u8],
    missing_seq: u64,
    strict: bool,
    auto_seq: bool,
) -> Result<(StreamId, bool), CmdError> {
    if b.len() > 127 {
        return Err(invalid_id());
    }
    match b {
        b"-" | b"+" if strict => return Err(invalid_id()),
        b"-" => return Ok((ZERO, true)),
        b"+" => return Ok((MAX, true)),
        _ => {}
    }
    let (ms, seq) = match b.iter().position(|&c| c == b'-') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let ms = parse_u64(ms).ok_or_else(invalid_id)?;
    match seq {
        Some(b"*") if auto_seq => Ok((StreamId { ms, seq: 0 }, false)),
        Some(s) => Ok((
            StreamId {
                ms,
                seq: parse_u64(s).ok_or_else(invalid_id)?,
            },
            true,
        )),
        None => Ok((
            StreamId {
                ms,
                seq: missing_seq,
            },
            true,
        )),
    }
}

fn strict_id(b: &[u8]) -> Result<StreamId, CmdError> {
    parse_id(b, 0, true, false).map(|(id, _)| id)
}

/// A trim as `XADD` and `XTRIM` take it.
enum Trim {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// What `streamParseAddOrTrimArgsOrReply` reads: the trim, `NOMKSTREAM`,
/// and for `XADD` the position of the ID. `LIMIT` is parsed and, as for
/// any command from an AOF, not enforced.
struct TrimArgs {
    trim: Trim,
    no_mkstream: bool,
    id_pos: usize,
}

fn trim_args(a: &[&[u8]], xadd: bool) -> Result<TrimArgs, CmdError> {
    let mut t = TrimArgs {
        trim: Trim::None,
        no_mkstream: false,
        id_pos: a.len(),
    };
    let mut limit = 0;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = a[i];
        if xadd && opt == b"*" {
            t.id_pos = i;
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if !matches!(t.trim, Trim::None) {
                return Err(CmdError::refused(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            if more >= 2 && (a[i + 1] == b"~" || a[i + 1] == b"=") {
                i += 1;
            }
            let arg = a[i + 1];
            t.trim = if is(opt, "maxlen") {
                let n = int(arg)?;
                if n < 0 {
                    return Err(CmdError::refused("ERR The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(strict_id(arg)?)
            };
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            limit = int(a[i + 1])?;
            if limit < 0 {
                return Err(CmdError::refused("ERR The LIMIT argument must be >= 0."));
            }
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            t.no_mkstream = true;
        } else if xadd {
            t.id_pos = i;
            break;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if limit != 0 && matches!(t.trim, Trim::None) {
        return Err(CmdError::refused(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && matches!(t.trim, Trim::None) {
        return Err(CmdError::refused(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    Ok(t)
}

fn apply_trim(s: &mut XStream, trim: &Trim) -> u64 {
    match *trim {
        Trim::None => 0,
        Trim::MaxLen(n) => s.trim_while(|len, _| len > n),
        Trim::MinId(min) => s.trim_while(|_, id| id < min),
    }
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] n [LIMIT n]] id|* field value ...`.
pub(crate) fn xadd(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let t = trim_args(a, true)?;
    let fields = a.get(t.id_pos + 1..).unwrap_or_default();
    if t.id_pos >= a.len() || fields.is_empty() || fields.len() % 2 == 1 {
        return Err(CmdError::arity(a[0]));
    }
    let (given, seq_given) = if a[t.id_pos] == b"*" {
        (None, false)
    } else {
        let (id, seq_given) = parse_id(a[t.id_pos], 0, true, true)?;
        (Some(id), seq_given)
    };
    if seq_given && given == Some(ZERO) {
        return Err(CmdError::refused(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    let now = ctx.now_ms;
    let s = match ctx.stream(a[1])? {
        Some(s) => s,
        None if t.no_mkstream => return Ok(()),
        None => ctx.stream_or_new(a[1])?,
    };
    let last = s.last_id();
    if last == MAX {
        return Err(CmdError::refused(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let id = match given {
        Some(id) if seq_given => Some(id),
        Some(id) if id.ms == last.ms => incr(last).filter(|n| n.ms == last.ms),
        Some(id) => Some(id),
        // `streamNextID`: the clock, or one past the last ID.
        None if (now.max(0) as u64) > last.ms => Some(StreamId {
            ms: now as u64,
            seq: 0,
        }),
        None => incr(last),
    };
    let Some(id) = id.filter(|&id| id > last) else {
        return Err(CmdError::refused(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        ));
    };
    s.append(id, fields);
    apply_trim(s, &t.trim);
    s.trim();
    Ok(())
}

/// `XTRIM key MAXLEN|MINID [=|~] n [LIMIT n]`.
pub(crate) fn xtrim(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let t = trim_args(a, false)?;
    if let Some(s) = ctx.stream(a[1])? {
        apply_trim(s, &t.trim);
    }
    Ok(())
}

/// `XDEL key id ...`: the first and largest deleted IDs follow.
pub(crate) fn xdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(s) = ctx.stream(a[1])? else {
        return Ok(());
    };
    let ids = a[2..]
        .iter()
        .map(|b| strict_id(b))
        .collect::<Result<Vec<_>, _>>()?;
    let mut deleted = 0;
    for id in ids {
        if s.delete(id) {
            if id > s.max_deleted_id() {
                s.set_max_deleted_id(id);
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        s.refresh_first_id();
    }
    Ok(())
}

/// `XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]`.
pub(crate) fn xsetid(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let id = strict_id(a[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = ZERO;
    let mut i = 3;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(a[i], "entriesadded") && more > 0 {
            let n = int(a[i + 1])?;
            if n < 0 {
                return Err(CmdError::refused("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if is(a[i], "maxdeletedid") && more > 0 {
            max_deleted = strict_id(a[i + 1])?;
            if id < max_deleted {
                return Err(CmdError::refused(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    let Some(s) = ctx.stream(a[1])? else {
        return Err(CmdError::refused("ERR no such key"));
    };
    if id < s.max_deleted_id() {
        return Err(CmdError::refused(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
        ));
    }
    if let Some(top) = s.last_live() {
        if id < top {
            return Err(CmdError::refused(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| s.len() > n) {
            return Err(CmdError::refused(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.set_last_id(id);
    if let Some(n) = entries_added {
        s.set_entries_added(n);
    }
    if max_deleted != ZERO {
        s.set_max_deleted_id(max_deleted);
    }
    Ok(())
}

fn group<'s>(s: &'s mut XStream, name: &[u8]) -> Option<&'s mut OwnedGroup> {
    s.groups().iter_mut().find(|g| g.name == name)
}

fn no_group(key: &[u8], name: &[u8]) -> CmdError {
    CmdError::refused(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(name),
        String::from_utf8_lossy(key)
    ))
}

/// `streamCreateConsumer`: a new consumer, seen now, never active.
fn create_consumer(g: &mut OwnedGroup, name: &[u8], now: i64) -> usize {
    match g.consumers.iter().position(|c| c.name == name) {
        Some(i) => i,
        None => {
            g.consumers.push(OwnedConsumer {
                name: name.to_vec(),
                seen_time_ms: now,
                active_time_ms: Some(-1),
                pending: Vec::new(),
            });
            g.consumers.len() - 1
        }
    }
}

/// `XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER key group ...`.
pub(crate) fn xgroup(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let sub = a[1];
    if a.len() < 4 {
        return Err(CmdError::refused(
            "ERR unknown subcommand or wrong number of arguments",
        ));
    }
    let (create, setid) = (is(sub, "create"), is(sub, "setid"));
    let mut mkstream = false;
    let mut entries_read: Option<u64> = None;
    let mut i = 5;
    while i < a.len() {
        if create && is(a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(a[i], "entriesread") && i + 1 < a.len() {
            let n = int(a[i + 1])?;
            if n < 0 && n != -1 {
                return Err(CmdError::refused(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            entries_read = u64::try_from(n).ok();
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let (key, name) = (a[2], a[3]);
    let now = ctx.now_ms;
    if ctx.stream(key)?.is_none() && !mkstream {
        return Err(CmdError::refused(
            "ERR The XGROUP subcommand requires the key to exist",
        ));
    }
    let needs_group = setid || is(sub, "createconsumer") || is(sub, "delconsumer");
    if let Some(s) = ctx.stream(key)? {
        if needs_group && group(s, name).is_none() {
            return Err(no_group(key, name));
        }
    }
    if create && (5..=8).contains(&a.len()) {
        let last = ctx.stream(key)?.map(|s| s.last_id());
        let id = if a[4] == b"$" {
            last.unwrap_or(ZERO)
        } else {
            strict_id(a[4])?
        };
        let s = ctx.stream_or_new(key)?;
        if group(s, name).is_some() {
            return Err(CmdError::refused(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
        s.groups().push(OwnedGroup {
            name: name.to_vec(),
            last_delivered_id: id,
            entries_read,
            pending: Vec::new(),
            consumers: Vec::new(),
        });
        return Ok(());
    }
    let s = ctx.stream(key)?.expect("checked above");
    if setid && (a.len() == 5 || a.len() == 7) {
        let id = if a[4] == b"$" {
            s.last_id()
        } else {
            parse_id(a[4], 0, false, false)?.0
        };
        let g = group(s, name).expect("checked above");
        g.last_delivered_id = id;
        g.entries_read = entries_read;
    } else if is(sub, "destroy") && a.len() == 4 {
        s.groups().retain(|g| g.name != name);
    } else if is(sub, "createconsumer") && a.len() == 5 {
        create_consumer(group(s, name).expect("checked above"), a[4], now);
    } else if is(sub, "delconsumer") && a.len() == 5 {
        let g = group(s, name).expect("checked above");
        if let Some(c) = g.consumers.iter().position(|c| c.name == a[4]) {
            let c = g.consumers.remove(c);
            g.pending
                .retain(|p| c.pending.binary_search(&p.id).is_err());
        }
    } else {
        return Err(CmdError::refused(
            "ERR unknown subcommand or wrong number of arguments",
        ));
    }
    Ok(())
}

/// Removes `id` from the PEL of its owner in `g`.
fn disown(g: &mut OwnedGroup, owner: Option<&[u8]>, id: StreamId) {
    if let Some(c) = owner.and_then(|o| g.consumers.iter_mut().find(|c| c.name == o)) {
        if let Ok(i) = c.pending.binary_search(&id) {
            c.pending.remove(i);
        }
    }
}

/// `XACK key group id ...`.
pub(crate) fn xack(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some(s) = ctx.stream(a[1])? else {
        return Ok(());
    };
    let Some(g) = group(s, a[2]) else {
        return Ok(());
    };
    let ids = a[3..]
        .iter()
        .map(|b| strict_id(b))
        .collect::<Result<Vec<_>, _>>()?;
    for id in ids {
        if let Ok(i) = g.pending.binary_search_by(|p| p.id.cmp(&id)) {
            let p = g.pending.remove(i);
            disown(g, p.consumer.as_deref(), id);
        }
    }
    Ok(())
}

/// `XCLAIM key group consumer min-idle id ... [IDLE ms] [TIME ms]
/// [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]`.
pub(crate) fn xclaim(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let (key, gname, cname) = (a[1], a[2], a[3]);
    let Some(s) = ctx.stream(key)? else {
        return Err(no_group(key, gname));
    };
    if group(s, gname).is_none() {
        return Err(no_group(key, gname));
    }
    let min_idle = int(a[4])
        .map_err(|_| CmdError::refused("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < a.len() {
        match strict_id(a[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = ZERO;
    while j < a.len() {
        let more = a.len() - 1 - j;
        let opt = a[j];
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            let v = int(a[j])
                .map_err(|_| CmdError::refused("ERR Invalid IDLE option argument for XCLAIM"))?;
            delivery = Some(now.wrapping_sub(v));
        } else if is(opt, "time") && more > 0 {
            j += 1;
            delivery =
                Some(int(a[j]).map_err(|_| {
                    CmdError::refused("ERR Invalid TIME option argument for XCLAIM")
                })?);
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            retry = Some(int(a[j]).map_err(|_| {
                CmdError::refused("ERR Invalid RETRYCOUNT option argument for XCLAIM")
            })?);
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(a[j])?;
        } else {
            return Err(CmdError::refused(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let exists: Vec<bool> = ids.iter().map(|&id| s.contains(id)).collect();
    // Before 7.2 the consumer is made only when it claims something;
    // before 7.0 a pending entry whose stream entry is gone is claimed
    // like any other (7.0 drops it).
    let lazy_consumer = !ctx.at_least(7, 2);
    let keep_deleted = !ctx.at_least(7, 0);
    let s = ctx.stream(key)?.expect("checked above");
    let g = group(s, gname).expect("checked above");
    if last_id > g.last_delivered_id {
        g.last_delivered_id = last_id;
    }
    let mut me = None;
    if !lazy_consumer {
        let i = create_consumer(g, cname, now);
        g.consumers[i].seen_time_ms = now;
        me = Some(i);
    }
    for (&id, exists) in ids.iter().zip(exists) {
        let at = g.pending.binary_search_by(|p| p.id.cmp(&id));
        if !exists {
            if keep_deleted {
                // FORCE makes a pending entry only for an entry that exists.
                if at.is_err() {
                    continue;
                }
            } else {
                // The entry is gone: its PEL entry goes too.
                if let Ok(i) = at {
                    let p = g.pending.remove(i);
                    disown(g, p.consumer.as_deref(), id);
                }
                continue;
            }
        }
        let i = match at {
            Ok(i) => i,
            Err(i) if force => {
                g.pending.insert(
                    i,
                    OwnedPending {
                        id,
                        consumer: None,
                        delivery_time_ms: now,
                        delivery_count: 1,
                    },
                );
                i
            }
            Err(_) => continue,
        };
        let owner = g.pending[i].consumer.clone();
        if owner.is_some() && min_idle > 0 && now - g.pending[i].delivery_time_ms < min_idle {
            continue;
        }
        let me = *me.get_or_insert_with(|| {
            let c = create_consumer(g, cname, now);
            g.consumers[c].seen_time_ms = now;
            c
        });
        let mine = owner.as_deref() == Some(cname);
        if !mine {
            disown(g, owner.as_deref(), id);
        }
        let p = &mut g.pending[i];
        p.delivery_time_ms = delivery;
        match retry {
            Some(n) if n >= 0 => p.delivery_count = n as u64,
            _ if !justid => p.delivery_count += 1,
            _ => {}
        }
        if !mine {
            p.consumer = Some(cname.to_vec());
            let c = &mut g.consumers[me];
            if let Err(k) = c.pending.binary_search(&id) {
                c.pending.insert(k, id);
            }
        }
        g.consumers[me].active_time_ms = Some(now);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_the_server_reads_them() {
        assert_eq!(
            parse_id(b"5-3", 0, true, false).unwrap(),
            (StreamId { ms: 5, seq: 3 }, true)
        );
        assert_eq!(
            parse_id(b"5", 7, true, false).unwrap().0,
            StreamId { ms: 5, seq: 7 }
        );
        assert_eq!(
            parse_id(b"5-*", 0, true, true).unwrap(),
            (StreamId { ms: 5, seq: 0 }, false)
        );
        assert!(parse_id(b"5-*", 0, true, false).is_err());
        assert!(parse_id(b"-", 0, true, false).is_err());
        assert_eq!(parse_id(b"+", 0, false, false).unwrap().0, MAX);
        assert!(parse_id(b"x-1", 0, true, false).is_err());
        assert_eq!(
            parse_id(b"18446744073709551615-0", 0, true, false)
                .unwrap()
                .0,
            StreamId {
                ms: u64::MAX,
                seq: 0
            }
        );
    }
}
