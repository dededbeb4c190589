//! Plain commands that rebuild a key, as a server's own AOF rewrite emits
//! them (`aof.c`: `rewriteAppendOnlyFileRio` and the `rewrite*Object`
//! functions; `docs/format.md#aof-rewrite-commands`), for `dump --format
//! commands` and the AOF writer. Unlike RESTORE payloads, they load into
//! any server version that knows the commands, whatever RDB version it
//! reads.
//!
//! Per key, as the rewrite writes it:
//! * a string: `SET key value`;
//! * a list, set or sorted set: `RPUSH` / `SADD` / `ZADD` with at most 64
//!   items each (`AOF_REWRITE_ITEMS_PER_CMD`), zset scores as the server's
//!   `rioWriteBulkDouble` formats them (`%.17g` up to Redis 7.0,
//!   `fpconv_dtoa` from 7.2 and in Valkey);
//! * a hash: `HMSET` with at most 64 fields each; with field TTLs, Redis
//!   7.4 writes one `HMSET key f v` per field followed, for a field with a
//!   TTL, by `HPEXPIREAT key ms FIELDS 1 f`; Valkey 9 writes
//!   `HSETEX key PXAT ms FIELDS 1 f v` per field with a TTL and batches
//!   the others in `HMSET`;
//! * a stream: `XADD key id f v ...` per entry (an empty stream as
//!   `XADD key MAXLEN 0 0-1 x y`), then `XSETID key last-id` (Redis 7.0+:
//!   `ENTRIESADDED n MAXDELETEDID id`), then per group `XGROUP CREATE key
//!   group last-id` (7.0+: `ENTRIESREAD n`), per consumer with pending
//!   entries one `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n
//!   JUSTID FORCE` per entry, and `XGROUP CREATECONSUMER` for a consumer
//!   without any;
//! * then `PEXPIREAT key ms` when the key expires.
//!
//! `SELECT` and `FUNCTION LOAD` are the caller's (they are not per key).
//!
//! What commands cannot carry exactly, on the server as in its own
//! rewrite: from Redis 7.0 (and in Valkey) ZADD stores an integral score
//! of a compact zset as an integer (`zzlInsertAt`, `double2ll`), so a score
//! of -0 comes back as 0; loading an RDB keeps the stored `-0`.

use crate::out::OutBuf;
use rdbscope_rdb::owned::{OwnedHash, OwnedStream};
use rdbscope_rdb::rdb_string::{int_text, uint_text};
use rdbscope_rdb::write::score_text::ScoreText;
use rdbscope_rdb::{OwnedKey, OwnedValue, StreamId};

/// At most this many items per command (`AOF_REWRITE_ITEMS_PER_CMD`).
pub const ITEMS_PER_COMMAND: usize = 64;

/// How hash field TTLs are written, if the server has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldTtls {
    /// No form (before Redis 7.4 and Valkey 9.0).
    None,
    /// Redis 7.4+: `HMSET` per field, `HPEXPIREAT ... FIELDS 1 f`.
    HpexpireAt,
    /// Valkey 9+: `HSETEX key PXAT ms FIELDS 1 f v`.
    HsetEx,
}

/// The commands one server version knows, and how it formats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// How zset scores are written.
    pub score: ScoreText,
    /// `FUNCTION LOAD` (Redis 7.0+, Valkey).
    pub functions: bool,
    /// Streams (Redis 5.0+).
    pub streams: bool,
    /// `XSETID ... ENTRIESADDED ... MAXDELETEDID` and `XGROUP CREATE ...
    /// ENTRIESREAD` (Redis 7.0+, Valkey).
    pub stream_counters: bool,
    /// Hash field TTLs.
    pub field_ttls: FieldTtls,
}

impl Dialect {
    /// The dialect of Redis `major.minor`.
    pub fn redis(major: u32, minor: u32) -> Dialect {
        let v = (major, minor);
        Dialect {
            score: if v >= (7, 2) {
                ScoreText::Fpconv
            } else {
                ScoreText::Printf17g
            },
            functions: v >= (7, 0),
            streams: v >= (5, 0),
            stream_counters: v >= (7, 0),
            field_ttls: if v >= (7, 4) {
                FieldTtls::HpexpireAt
            } else {
                FieldTtls::None
            },
        }
    }

    /// The dialect of Valkey `major.minor` (Valkey 7.2 and 8 speak Redis
    /// 7.2's; 9.0 adds `HSETEX` and field TTLs).
    pub fn valkey(major: u32, _minor: u32) -> Dialect {
        Dialect {
            field_ttls: if major >= 9 {
                FieldTtls::HsetEx
            } else {
                FieldTtls::None
            },
            ..Dialect::redis(7, 2)
        }
    }
}

/// What a key holds that the dialect has no command for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Hash field TTLs.
    FieldTtls,
    /// A stream.
    Stream,
    /// A module value (its module's own rewrite is not known here).
    Module,
}

impl Missing {
    /// What it is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            Missing::FieldTtls => "hash field TTLs",
            Missing::Stream => "a stream",
            Missing::Module => "a module value",
        }
    }
}

/// What writing a key left out, by the caller's leave.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    /// Field TTLs not written (`drop_field_ttls`).
    pub field_ttls: u64,
    /// Stream counters and group entries-read the dialect has no place for.
    pub stream_counters: u64,
}

/// Appends a RESP array header.
pub fn array(out: &mut OutBuf, n: usize) {
    let mut tmp = [0u8; 20];
    out.push(b'*');
    out.put(int_text(n as i64, &mut tmp));
    out.put(b"\r\n");
}

/// Appends the header of a RESP bulk string of `len` bytes (the bytes and
/// their CRLF follow).
pub fn bulk_header(out: &mut OutBuf, len: usize) {
    let mut tmp = [0u8; 20];
    out.push(b'$');
    out.put(int_text(len as i64, &mut tmp));
    out.put(b"\r\n");
}

/// Appends a RESP bulk string.
pub fn bulk(out: &mut OutBuf, b: &[u8]) {
    out.put_bulk(b);
}

/// Appends an integer as a bulk string.
pub fn bulk_int(out: &mut OutBuf, v: i64) {
    let mut tmp = [0u8; 20];
    bulk(out, int_text(v, &mut tmp));
}

/// Appends a stream ID as `ms-seq`.
fn bulk_id(out: &mut OutBuf, id: StreamId) {
    let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
    let ms = uint_text(id.ms, &mut a);
    let seq = uint_text(id.seq, &mut b);
    bulk_header(out, ms.len() + 1 + seq.len());
    out.put(ms);
    out.push(b'-');
    out.put(seq);
    out.put(b"\r\n");
}

/// What in `k` the dialect has no command for (`drop_field_ttls`: hash
/// field TTLs are left out rather than missing).
pub fn missing(k: &OwnedKey, d: &Dialect, drop_field_ttls: bool) -> Option<Missing> {
    match &k.value {
        OwnedValue::Stream(_) if !d.streams => Some(Missing::Stream),
        OwnedValue::Module(_) => Some(Missing::Module),
        OwnedValue::Hash(h)
            if h.has_ttls() && d.field_ttls == FieldTtls::None && !drop_field_ttls =>
        {
            Some(Missing::FieldTtls)
        }
        _ => None,
    }
}

/// Appends the commands that rebuild `k` (without SELECT). With
/// `replace`, a `DEL key` comes first. What the dialect cannot hold is
/// `Err` (nothing written), unless it is field TTLs and
/// `drop_field_ttls`, which writes the fields without them.
pub fn key(
    out: &mut OutBuf,
    k: &OwnedKey,
    d: &Dialect,
    replace: bool,
    drop_field_ttls: bool,
    left: &mut Left,
) -> Result<(), Missing> {
    let key = &k.key[..];
    if let Some(m) = missing(k, d, drop_field_ttls) {
        return Err(m);
    }
    if replace {
        array(out, 2);
        bulk(out, b"DEL");
        bulk(out, key);
    }
    match &k.value {
        OwnedValue::String(s) => {
            array(out, 3);
            bulk(out, b"SET");
            bulk(out, key);
            bulk(out, s);
        }
        OwnedValue::List(items) | OwnedValue::Set(items) => {
            let cmd: &[u8] = if matches!(k.value, OwnedValue::List(_)) {
                b"RPUSH"
            } else {
                b"SADD"
            };
            let mut c = items.cursor();
            let args = std::iter::from_fn(move || c.next());
            batches(out, cmd, key, args, items.len() as usize, 1);
        }
        OwnedValue::Zset(z) => {
            // The scores' texts in one buffer, not one allocation each.
            let mut text = Vec::new();
            let mut ends = Vec::with_capacity(z.len() as usize);
            for (_, score) in z.iter() {
                d.score.write(score, &mut text);
                ends.push(text.len());
            }
            let flat = z.iter().enumerate().flat_map(|(i, (m, _))| {
                let from = if i == 0 { 0 } else { ends[i - 1] };
                [&text[from..ends[i]], m]
            });
            batches(out, b"ZADD", key, flat, ends.len(), 2);
        }
        OwnedValue::Hash(h) => hash(out, key, h, d, drop_field_ttls, left),
        OwnedValue::Stream(s) => stream(out, key, s, d, left),
        OwnedValue::Module(_) => unreachable!("refused above"),
    }
    if let Some(t) = k.expire_at_ms {
        array(out, 3);
        bulk(out, b"PEXPIREAT");
        bulk(out, key);
        bulk_int(out, t);
    }
    Ok(())
}

/// Reusable buffers for [`record`]: a value's elements, copied in once
/// (decompressed, integers as text), and zset scores as text.
#[derive(Debug, Default)]
pub struct Elems {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
    buf: Vec<u8>,
    /// Zsets: where each score's text ends in `buf`, and the members'
    /// spans.
    ends: Vec<usize>,
    members: Vec<(usize, usize)>,
}

impl Elems {
    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    fn push(&mut self, e: rdbscope_rdb::Elem<'_>) {
        let start = self.bytes.len();
        e.append_to(&mut self.bytes);
        self.spans.push((start, self.bytes.len()));
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.spans.iter().map(|&(a, b)| &self.bytes[a..b])
    }
}

/// [`key`] for a key read from a file, straight from its bytes, for
/// strings, lists, sets, zsets and hashes without field TTLs: `Ok(false)`
/// (nothing written) for the rest, which go through their owned form.
/// Byte for byte what [`key`] writes for the same key.
#[allow(clippy::too_many_arguments)]
pub fn record(
    out: &mut OutBuf,
    k: &rdbscope_rdb::KeyRecord<'_>,
    d: &Dialect,
    source: ScoreText,
    replace: bool,
    elems: &mut Elems,
    scratch: &mut rdbscope_rdb::Scratch,
) -> rdbscope_rdb::Result<bool> {
    use rdbscope_rdb::{Error, KeyType, Typed};
    let key_type = k.value.key_type();
    if !matches!(
        key_type,
        KeyType::String | KeyType::List | KeyType::Set | KeyType::ZSet | KeyType::Hash
    ) {
        return Ok(false);
    }
    elems.clear();
    // The key's name (decompressed if need be), before its elements.
    let name = {
        let k_bytes = k.key.bytes(&mut elems.buf)?;
        elems.bytes.extend_from_slice(k_bytes);
        elems.bytes.len()
    };
    let start = out.len();
    let header = |out: &mut OutBuf, key: &[u8]| {
        if replace {
            array(out, 2);
            bulk(out, b"DEL");
            bulk(out, key);
        }
    };
    match k.value.typed() {
        Typed::String(v) => {
            let s = v.string()?;
            let value = s.bytes(&mut elems.buf)?;
            let key = &elems.bytes[..name];
            header(out, key);
            array(out, 3);
            bulk(out, b"SET");
            bulk(out, key);
            bulk(out, value);
        }
        Typed::List(_) | Typed::Set(_) => {
            k.value.for_each_member(scratch, |e| {
                elems.push(e);
                Ok::<_, Error>(())
            })?;
            let cmd: &[u8] = if key_type == KeyType::List {
                b"RPUSH"
            } else {
                b"SADD"
            };
            let key = &elems.bytes[..name];
            header(out, key);
            let n = elems.spans.len();
            batches(out, cmd, key, elems.iter(), n, 1);
        }
        Typed::Zset(_) => {
            elems.buf.clear();
            elems.ends.clear();
            let Elems {
                bytes,
                spans,
                buf,
                ends,
                members,
            } = &mut *elems;
            k.value.for_each_scored(scratch, |e, sc| {
                let start = bytes.len();
                e.append_to(bytes);
                spans.push((start, bytes.len()));
                score_text(d, source, sc, buf);
                ends.push(buf.len());
                Ok::<_, Error>(())
            })?;
            // Score, member pairs.
            members.clear();
            members.append(spans);
            for (i, &(a, b)) in members.iter().enumerate() {
                let from = if i == 0 { 0 } else { ends[i - 1] };
                let s = bytes.len();
                bytes.extend_from_slice(&buf[from..ends[i]]);
                spans.push((s, bytes.len()));
                spans.push((a, b));
            }
            let n = members.len();
            let key = &elems.bytes[..name];
            header(out, key);
            batches(out, b"ZADD", key, elems.iter(), n, 2);
        }
        Typed::Hash(_) => {
            let mut ttl = false;
            k.value.for_each_field(scratch, |f, v, t| {
                ttl |= t.is_some();
                elems.push(f);
                elems.push(v);
                Ok::<_, Error>(())
            })?;
            if ttl {
                out.truncate(start);
                return Ok(false);
            }
            let key = &elems.bytes[..name];
            header(out, key);
            let n = elems.spans.len() / 2;
            batches(out, b"HMSET", key, elems.iter(), n, 2);
        }
        Typed::Stream(_) | Typed::Module(_) => return Ok(false),
    }
    if let Some(t) = k.expire_at_ms {
        array(out, 3);
        bulk(out, b"PEXPIREAT");
        bulk(out, &elems.bytes[..name]);
        bulk_int(out, t);
    }
    Ok(true)
}

/// Appends a zset score as the dialect writes it. A score a compact zset
/// stores as text was written by the file's server's `d2string`
/// (`source`): when that is the dialect's formatter too, the text is what
/// it writes, and is copied instead of parsed and formatted again (most of
/// the cost of a zset) — except an integral value of 18 digits or more,
/// which `d2string` writes as an integer and `%.17g` in exponent form. An
/// integer entry below 10^17 is its own `%.17g` text.
fn score_text(d: &Dialect, source: ScoreText, sc: rdbscope_rdb::Score<'_>, out: &mut Vec<u8>) {
    match sc {
        rdbscope_rdb::Score::Text(t)
            if source == d.score
                && !(t.len() >= 18 && t.iter().all(|c| c.is_ascii_digit() || *c == b'-')) =>
        {
            out.extend_from_slice(t)
        }
        rdbscope_rdb::Score::Double(v)
            if d.score == ScoreText::Printf17g
                && v.fract() == 0.0
                && v.abs() < 1e17
                && v != 0.0 =>
        {
            let mut tmp = [0u8; 20];
            out.extend_from_slice(int_text(v as i64, &mut tmp));
        }
        _ => d.score.write(sc.value(), out),
    }
}

/// `CMD key item...` in commands of at most [`ITEMS_PER_COMMAND`] items,
/// an item being `width` arguments; `n` items in all.
fn batches<'a>(
    out: &mut OutBuf,
    cmd: &[u8],
    key: &[u8],
    mut args: impl Iterator<Item = &'a [u8]>,
    n: usize,
    width: usize,
) {
    let mut left = n;
    while left > 0 {
        let take = left.min(ITEMS_PER_COMMAND);
        array(out, 2 + take * width);
        bulk(out, cmd);
        bulk(out, key);
        for _ in 0..take * width {
            if let Some(a) = args.next() {
                bulk(out, a);
            }
        }
        left -= take;
    }
}

fn hash(
    out: &mut OutBuf,
    key: &[u8],
    h: &OwnedHash,
    d: &Dialect,
    drop_ttls: bool,
    left: &mut Left,
) {
    let fields: Vec<(&[u8], &[u8], Option<i64>)> = h.iter().collect();
    let with_ttl = fields.iter().filter(|f| f.2.is_some()).count();
    if with_ttl == 0 || d.field_ttls == FieldTtls::None || drop_ttls {
        left.field_ttls += with_ttl as u64;
        let n = fields.len();
        let flat = fields.iter().flat_map(|(f, v, _)| [*f, *v]);
        batches(out, b"HMSET", key, flat, n, 2);
        return;
    }
    match d.field_ttls {
        FieldTtls::HpexpireAt => {
            for (f, v, ttl) in &fields {
                array(out, 4);
                bulk(out, b"HMSET");
                bulk(out, key);
                bulk(out, f);
                bulk(out, v);
                if let Some(t) = ttl {
                    array(out, 6);
                    bulk(out, b"HPEXPIREAT");
                    bulk(out, key);
                    bulk_int(out, *t);
                    bulk(out, b"FIELDS");
                    bulk(out, b"1");
                    bulk(out, f);
                }
            }
        }
        FieldTtls::HsetEx => {
            for (f, v, ttl) in &fields {
                if let Some(t) = ttl {
                    array(out, 8);
                    bulk(out, b"HSETEX");
                    bulk(out, key);
                    bulk(out, b"PXAT");
                    bulk_int(out, *t);
                    bulk(out, b"FIELDS");
                    bulk(out, b"1");
                    bulk(out, f);
                    bulk(out, v);
                }
            }
            let rest: Vec<&(&[u8], &[u8], Option<i64>)> =
                fields.iter().filter(|f| f.2.is_none()).collect();
            let n = rest.len();
            let flat = rest.iter().flat_map(|(f, v, _)| [*f, *v]);
            batches(out, b"HMSET", key, flat, n, 2);
        }
        FieldTtls::None => unreachable!("handled above"),
    }
}

fn stream(out: &mut OutBuf, key: &[u8], s: &OwnedStream, d: &Dialect, left: &mut Left) {
    let zero = StreamId::default();
    let mut fields = s.fields.cursor();
    if s.entries.is_empty() {
        // The rewrite's trick for an empty stream: add an entry and trim it.
        array(out, 7);
        bulk(out, b"XADD");
        bulk(out, key);
        bulk(out, b"MAXLEN");
        bulk(out, b"0");
        bulk_id(out, StreamId { ms: 0, seq: 1 });
        bulk(out, b"x");
        bulk(out, b"y");
    }
    for e in &s.entries {
        array(out, 3 + 2 * e.fields as usize);
        bulk(out, b"XADD");
        bulk(out, key);
        bulk_id(out, e.id);
        for _ in 0..2 * e.fields {
            bulk(out, fields.next().unwrap_or_default());
        }
    }
    if d.stream_counters {
        array(out, 7);
        bulk(out, b"XSETID");
        bulk(out, key);
        bulk_id(out, s.last_id);
        bulk(out, b"ENTRIESADDED");
        bulk_int(out, s.entries_added.unwrap_or(s.length) as i64);
        bulk(out, b"MAXDELETEDID");
        bulk_id(out, s.max_deleted_id.unwrap_or(zero));
    } else {
        array(out, 3);
        bulk(out, b"XSETID");
        bulk(out, key);
        bulk_id(out, s.last_id);
        left.stream_counters += u64::from(s.entries_added.is_some_and(|n| n != s.length))
            + u64::from(s.max_deleted_id.is_some_and(|m| m != zero));
    }
    for g in &s.groups {
        if d.stream_counters {
            array(out, 7);
        } else {
            array(out, 5);
            left.stream_counters += u64::from(g.entries_read.is_some());
        }
        bulk(out, b"XGROUP");
        bulk(out, b"CREATE");
        bulk(out, key);
        bulk(out, &g.name);
        bulk_id(out, g.last_delivered_id);
        if d.stream_counters {
            bulk(out, b"ENTRIESREAD");
            // -1: not known (SCG_INVALID_ENTRIES_READ).
            bulk_int(out, g.entries_read.map_or(-1, |n| n as i64));
        }
        for c in &g.consumers {
            if c.pending.is_empty() {
                array(out, 5);
                bulk(out, b"XGROUP");
                bulk(out, b"CREATECONSUMER");
                bulk(out, key);
                bulk(out, &g.name);
                bulk(out, &c.name);
                continue;
            }
            for id in &c.pending {
                let Some(p) = g.pending.iter().find(|p| p.id == *id) else {
                    continue;
                };
                array(out, 12);
                bulk(out, b"XCLAIM");
                bulk(out, key);
                bulk(out, &g.name);
                bulk(out, &c.name);
                bulk(out, b"0");
                bulk_id(out, *id);
                bulk(out, b"TIME");
                bulk_int(out, p.delivery_time_ms);
                bulk(out, b"RETRYCOUNT");
                bulk_int(out, p.delivery_count.min(i64::MAX as u64) as i64);
                bulk(out, b"JUSTID");
                bulk(out, b"FORCE");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdbscope_rdb::owned::{OwnedHash, OwnedZset, Packed};
    use rdbscope_rdb::Elem;

    /// The commands of `out`, each as its arguments (parsed back from RESP).
    fn parse(out: &OutBuf) -> Vec<Vec<String>> {
        let text = String::from_utf8_lossy(out.as_slice()).to_string();
        let mut lines = text.split("\r\n");
        let mut cmds = Vec::new();
        while let Some(l) = lines.next() {
            let Some(n) = l.strip_prefix('*') else { break };
            let n: usize = n.parse().unwrap();
            let mut c = Vec::new();
            for _ in 0..n {
                lines.next();
                c.push(lines.next().unwrap().to_string());
            }
            cmds.push(c);
        }
        cmds
    }

    fn owned(value: OwnedValue, expire: Option<i64>) -> OwnedKey {
        OwnedKey {
            db: 0,
            key: b"k".to_vec().into(),
            expire_at_ms: expire,
            idle_s: None,
            freq: None,
            key_meta: None,
            encoding: "raw",
            value,
        }
    }

    #[test]
    fn lists_go_in_commands_of_64_and_expires_last() {
        let mut p = Packed::new();
        for i in 0..130 {
            p.push(i.to_string().as_bytes());
        }
        let mut out = OutBuf::with_capacity(64);
        let d = Dialect::redis(7, 0);
        key(
            &mut out,
            &owned(OwnedValue::List(p), Some(42)),
            &d,
            true,
            false,
            &mut Left::default(),
        )
        .unwrap();
        let c = parse(&out);
        let shape: Vec<(String, usize)> = c.iter().map(|c| (c[0].clone(), c.len())).collect();
        assert_eq!(
            shape,
            [
                ("DEL".into(), 2),
                ("RPUSH".into(), 66),
                ("RPUSH".into(), 66),
                ("RPUSH".into(), 4),
                ("PEXPIREAT".into(), 3)
            ]
        );
        assert_eq!(c[3][3], "129");
        assert_eq!(c[4][2], "42");
    }

    #[test]
    fn zset_scores_as_each_server_formats_them() {
        let mut z = OwnedZset::default();
        z.push(Elem::Str(b"a"), 0.1);
        z.push(Elem::Str(b"b"), f64::INFINITY);
        let v = OwnedValue::Zset(z);
        for (d, tenth) in [
            (Dialect::redis(6, 2), "0.10000000000000001"),
            (Dialect::redis(7, 2), "0.1"),
            (Dialect::valkey(9, 1), "0.1"),
        ] {
            let mut out = OutBuf::with_capacity(64);
            key(
                &mut out,
                &owned(v.clone(), None),
                &d,
                false,
                false,
                &mut Left::default(),
            )
            .unwrap();
            assert_eq!(parse(&out), [["ZADD", "k", tenth, "a", "inf", "b"]]);
        }
    }

    #[test]
    fn field_ttls_in_each_servers_form() {
        let mut h = OwnedHash::default();
        h.push(Elem::Str(b"f"), Elem::Str(b"v"), Some(4102444800123));
        h.push(Elem::Str(b"g"), Elem::Str(b"w"), None);
        let v = OwnedValue::Hash(h);
        let k = owned(v, None);
        let mut out = OutBuf::with_capacity(64);
        let r = key_of(&mut out, &k, Dialect::redis(7, 4), false);
        assert_eq!(
            r,
            [
                vec!["HMSET", "k", "f", "v"],
                vec!["HPEXPIREAT", "k", "4102444800123", "FIELDS", "1", "f"],
                vec!["HMSET", "k", "g", "w"],
            ]
        );
        let r = key_of(&mut out, &k, Dialect::valkey(9, 1), false);
        assert_eq!(
            r,
            [
                vec![
                    "HSETEX",
                    "k",
                    "PXAT",
                    "4102444800123",
                    "FIELDS",
                    "1",
                    "f",
                    "v"
                ],
                vec!["HMSET", "k", "g", "w"],
            ]
        );
        let mut left = Left::default();
        assert_eq!(
            key(
                &mut OutBuf::with_capacity(64),
                &k,
                &Dialect::redis(7, 0),
                false,
                false,
                &mut left
            ),
            Err(Missing::FieldTtls)
        );
        let r = key_of(&mut out, &k, Dialect::redis(7, 0), true);
        assert_eq!(r, [["HMSET", "k", "f", "v", "g", "w"]]);
    }

    fn key_of(out: &mut OutBuf, k: &OwnedKey, d: Dialect, drop: bool) -> Vec<Vec<String>> {
        out.clear();
        key(out, k, &d, false, drop, &mut Left::default()).unwrap();
        parse(out)
    }

    #[test]
    fn a_servers_own_score_text_is_what_its_formatter_writes() {
        // What Redis 7.0 stores in a listpack (d2string) and what its
        // rewrite writes (%.17g), for the copy in `score_text`.
        let d = Dialect::redis(7, 0);
        for x in [
            0.1,
            -2.5,
            123.456,
            1e16 + 1.0,
            12_345_678_901_234_567.0,
            1e17,
            -1e18,
            4.6e18,
            2.5e-300,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let mut stored = Vec::new();
            rdbscope_rdb::write::score_text::d2string(10, x, &mut stored);
            let mut copied = Vec::new();
            score_text(
                &d,
                ScoreText::Printf17g,
                rdbscope_rdb::Score::Text(&stored),
                &mut copied,
            );
            let mut formatted = Vec::new();
            ScoreText::Printf17g.write(x, &mut formatted);
            assert_eq!(copied, formatted, "{x}");
            // An integer entry (how listpacks hold integral scores).
            if x.fract() == 0.0 && x.abs() < 9e18 {
                let mut from_int = Vec::new();
                score_text(
                    &d,
                    ScoreText::Printf17g,
                    rdbscope_rdb::Score::Double(x),
                    &mut from_int,
                );
                assert_eq!(from_int, formatted, "{x}");
            }
        }
    }

    #[test]
    fn stream_ids_in_full() {
        let mut out = OutBuf::with_capacity(64);
        bulk_id(
            &mut out,
            StreamId {
                ms: u64::MAX,
                seq: 0,
            },
        );
        bulk_id(&mut out, StreamId { ms: 0, seq: 10 });
        assert_eq!(
            out.as_slice(),
            b"$22\r\n18446744073709551615-0\r\n$4\r\n0-10\r\n"
        );
    }

    #[test]
    fn an_empty_stream_as_the_rewrite_writes_it() {
        let s = OwnedStream {
            last_id: StreamId { ms: 5, seq: 1 },
            ..OwnedStream::default()
        };
        let k = owned(OwnedValue::Stream(Box::new(s)), None);
        let r = key_of(
            &mut OutBuf::with_capacity(64),
            &k,
            Dialect::redis(7, 0),
            false,
        );
        assert_eq!(
            r,
            [
                vec!["XADD", "k", "MAXLEN", "0", "0-1", "x", "y"],
                vec![
                    "XSETID",
                    "k",
                    "5-1",
                    "ENTRIESADDED",
                    "0",
                    "MAXDELETEDID",
                    "0-0"
                ],
            ]
        );
        let r = key_of(
            &mut OutBuf::with_capacity(64),
            &k,
            Dialect::redis(6, 2),
            false,
        );
        assert_eq!(r[1], ["XSETID", "k", "5-1"]);
        assert_eq!(
            key(
                &mut OutBuf::with_capacity(64),
                &k,
                &Dialect::redis(4, 0),
                false,
                false,
                &mut Left::default()
            ),
            Err(Missing::Stream)
        );
    }
}
