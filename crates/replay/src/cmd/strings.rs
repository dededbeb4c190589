//! String commands (`t_string.c`, `bitops.c`).

use crate::args::{float, int, is, parse_int};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;
use crate::value::Val;

/// `proto-max-bulk-len`'s default: the longest string a command may make.
const MAX_STRING: u64 = 512 * 1024 * 1024;

/// An expire given as EX/PX/EXAT/PXAT, to absolute ms (`getExpireMillisecondsOrReply`).
fn expire_ms(ctx: &Ctx<'_>, unit: &[u8], n: &[u8]) -> Result<i64, CmdError> {
    let v = int(n)?;
    let invalid = || {
        CmdError::refused(format!(
            "ERR invalid expire time in '{}' command",
            String::from_utf8_lossy(unit).to_ascii_lowercase()
        ))
    };
    if v <= 0 {
        return Err(invalid());
    }
    let (ms, relative) = if is(unit, "ex") {
        (v.checked_mul(1000).ok_or_else(invalid)?, true)
    } else if is(unit, "px") {
        (v, true)
    } else if is(unit, "exat") {
        (v.checked_mul(1000).ok_or_else(invalid)?, false)
    } else {
        (v, false)
    };
    if relative {
        ms.checked_add(ctx.now_ms).ok_or_else(invalid)
    } else {
        Ok(ms)
    }
}

/// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]`.
pub(crate) fn set(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (key, value) = (a[1], a[2]);
    let (mut nx, mut xx, mut get, mut keep) = (false, false, false, false);
    let mut expire = None;
    let mut i = 3;
    while i < a.len() {
        let o = a[i];
        if is(o, "nx") && !xx {
            nx = true;
        } else if is(o, "xx") && !nx {
            xx = true;
        } else if is(o, "get") {
            get = true;
        } else if is(o, "keepttl") && expire.is_none() {
            keep = true;
        } else if (is(o, "ex") || is(o, "px") || is(o, "exat") || is(o, "pxat"))
            && !keep
            && expire.is_none()
            && i + 1 < a.len()
        {
            expire = Some(expire_ms(ctx, o, a[i + 1])?);
            i += 1;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if get {
        ctx.string(key)?;
    }
    let exists = ctx.exists(key);
    if (nx && exists) || (xx && !exists) {
        return Ok(());
    }
    let old_ttl = if keep {
        ctx.get(key).and_then(|e| e.expire_at_ms)
    } else {
        None
    };
    ctx.put(key, Val::string(value), expire.or(old_ttl));
    Ok(())
}

/// `SETNX key value`.
pub(crate) fn setnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if !ctx.exists(a[1]) {
        ctx.set(a[1], Val::string(a[2]));
    }
    Ok(())
}

/// `SETEX key seconds value`.
pub(crate) fn setex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let at = expire_ms(ctx, b"ex", a[2])?;
    ctx.put(a[1], Val::string(a[3]), Some(at));
    Ok(())
}

/// `PSETEX key ms value`.
pub(crate) fn psetex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let at = expire_ms(ctx, b"px", a[2])?;
    ctx.put(a[1], Val::string(a[3]), Some(at));
    Ok(())
}

/// `GETSET key value`.
pub(crate) fn getset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    ctx.string(a[1])?;
    ctx.set(a[1], Val::string(a[2]));
    Ok(())
}

/// `GETDEL key`.
pub(crate) fn getdel(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if ctx.string(a[1])?.is_some() {
        ctx.remove(a[1]);
    }
    Ok(())
}

/// `GETEX key [EX|PX|EXAT|PXAT n|PERSIST]`.
pub(crate) fn getex(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut change: Option<Option<i64>> = None;
    match a.len() {
        2 => {}
        3 if is(a[2], "persist") => change = Some(None),
        4 if ["ex", "px", "exat", "pxat"].iter().any(|u| is(a[2], u)) => {
            change = Some(Some(expire_ms(ctx, a[2], a[3])?))
        }
        _ => return Err(CmdError::syntax()),
    }
    if ctx.string(a[1])?.is_none() {
        return Ok(());
    }
    if let (Some(t), Some(e)) = (change, ctx.get(a[1])) {
        e.expire_at_ms = t;
    }
    Ok(())
}

/// `MSET key value ...`.
pub(crate) fn mset(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 == 0 {
        return Err(CmdError::arity(a[0]));
    }
    for kv in a[1..].chunks(2) {
        ctx.set(kv[0], Val::string(kv[1]));
    }
    Ok(())
}

/// `MSETNX key value ...`: all or nothing.
pub(crate) fn msetnx(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 == 0 {
        return Err(CmdError::arity(a[0]));
    }
    if a[1..].chunks(2).any(|kv| ctx.exists(kv[0])) {
        return Ok(());
    }
    mset(ctx, a)
}

fn check_size(n: u64) -> CmdResult {
    if n > MAX_STRING {
        Err(CmdError::refused(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ))
    } else {
        Ok(())
    }
}

/// `APPEND key value`.
pub(crate) fn append(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match ctx.string(a[1])? {
        Some(s) => {
            check_size(s.len() as u64 + a[2].len() as u64)?;
            s.extend_from_slice(a[2]);
        }
        None => ctx.set(a[1], Val::string(a[2])),
    }
    Ok(())
}

/// `SETRANGE key offset value`.
pub(crate) fn setrange(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let off = int(a[2])?;
    if off < 0 {
        return Err(CmdError::refused("ERR offset is out of range"));
    }
    let (off, v) = (off as u64, a[3]);
    match ctx.string(a[1])? {
        None => {
            if v.is_empty() {
                return Ok(());
            }
            check_size(off + v.len() as u64)?;
            let mut s = vec![0u8; off as usize];
            s.extend_from_slice(v);
            ctx.set(a[1], Val::from_vec(s));
        }
        Some(s) => {
            if v.is_empty() {
                return Ok(());
            }
            check_size(off + v.len() as u64)?;
            let end = off as usize + v.len();
            if s.len() < end {
                s.resize(end, 0);
            }
            s[off as usize..end].copy_from_slice(v);
        }
    }
    Ok(())
}

/// Adds `by` to the integer at `key` (`incrDecrCommand`): the expire stays.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    match ctx.string(key)? {
        Some(s) => {
            let v = parse_int(s).ok_or_else(CmdError::not_integer)?;
            let n = v
                .checked_add(by)
                .ok_or_else(|| CmdError::refused("ERR increment or decrement would overflow"))?;
            *s = n.to_string().into_bytes();
        }
        None => ctx.set(key, Val::from_vec(by.to_string().into_bytes())),
    }
    Ok(())
}

/// `INCR key`.
pub(crate) fn incr(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    incr_by(ctx, a[1], 1)
}

/// `DECR key`.
pub(crate) fn decr(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    incr_by(ctx, a[1], -1)
}

/// `INCRBY key n`.
pub(crate) fn incrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    incr_by(ctx, a[1], int(a[2])?)
}

/// `DECRBY key n`.
pub(crate) fn decrby(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = int(a[2])?;
    if n == i64::MIN {
        return Err(CmdError::refused("ERR decrement would overflow"));
    }
    incr_by(ctx, a[1], -n)
}

/// `INCRBYFLOAT key n`. A server propagates it as `SET … KEEPTTL` (since
/// 2.6), so an AOF a server wrote never holds it; the sum here is a
/// double where the server uses a `long double`, and the text is the
/// shortest that reads back as that double rather than `%.17Lg`.
pub(crate) fn incrbyfloat(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let by = float(a[2])?;
    let old = match ctx.string(a[1])? {
        Some(s) => crate::args::parse_float(s).ok_or_else(CmdError::not_float)?,
        None => 0.0,
    };
    let v = old + by;
    if !v.is_finite() {
        return Err(CmdError::refused(
            "ERR increment would produce NaN or Infinity",
        ));
    }
    let text = human_double(v).into_bytes();
    match ctx.string(a[1])? {
        Some(s) => *s = text,
        None => ctx.set(a[1], Val::from_vec(text)),
    }
    Ok(())
}

/// A double as decimal text without exponent or trailing zeros (what
/// `ld2string(…, LD_STR_HUMAN)` gives for values a double holds exactly).
pub(crate) fn human_double(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e17 {
        return format!("{}", v as i64);
    }
    let s = format!("{v}");
    if s.contains('e') {
        format!("{v:.17}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        s
    }
}

/// `SETBIT key offset 0|1`.
pub(crate) fn setbit(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let off = bit_offset(a[2], false, 1)?;
    let on = match a[3] {
        b"1" => true,
        b"0" => false,
        _ => {
            return Err(CmdError::refused(
                "ERR bit is not an integer or out of range",
            ))
        }
    };
    let s = match ctx.string(a[1])? {
        Some(s) => s,
        None => {
            ctx.set(a[1], Val::Str(Vec::new()));
            ctx.string(a[1])?.expect("just set")
        }
    };
    let byte = (off >> 3) as usize;
    if s.len() <= byte {
        s.resize(byte + 1, 0);
    }
    let mask = 1u8 << (7 - (off & 7));
    if on {
        s[byte] |= mask;
    } else {
        s[byte] &= !mask;
    }
    Ok(())
}

/// A bit offset (`getBitOffsetFromArgument`): `#n` multiplies by the field
/// width when `hash` is allowed; at most 512 MB worth of bits.
fn bit_offset(arg: &[u8], hash: bool, bits: u64) -> Result<u64, CmdError> {
    let bad = || CmdError::refused("ERR bit offset is not an integer or out of range");
    let (mul, digits) = match arg.strip_prefix(b"#") {
        Some(d) if hash => (bits, d),
        _ => (1, arg),
    };
    let v = parse_int(digits).ok_or_else(bad)?;
    if v < 0 {
        return Err(bad());
    }
    let v = (v as u64).checked_mul(mul).ok_or_else(bad)?;
    if (v >> 3) >= MAX_STRING {
        return Err(bad());
    }
    Ok(v)
}

/// `BITOP AND|OR|XOR|NOT dest key ...`.
pub(crate) fn bitop(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let op = a[1];
    let (dest, srcs) = (a[2], &a[3..]);
    let not = is(op, "not");
    if !(not || is(op, "and") || is(op, "or") || is(op, "xor")) {
        return Err(CmdError::syntax());
    }
    if not && srcs.len() != 1 {
        return Err(CmdError::refused(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let mut inputs: Vec<Vec<u8>> = Vec::with_capacity(srcs.len());
    for k in srcs {
        inputs.push(ctx.string(k)?.cloned().unwrap_or_default());
    }
    let len = inputs.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![0u8; len];
    for (j, o) in out.iter_mut().enumerate() {
        let byte = |i: usize| inputs[i].get(j).copied().unwrap_or(0);
        *o = if not {
            !byte(0)
        } else {
            let mut v = byte(0);
            for i in 1..inputs.len() {
                let b = byte(i);
                if is(op, "and") {
                    v &= b;
                } else if is(op, "or") {
                    v |= b;
                } else {
                    v ^= b;
                }
            }
            v
        };
    }
    if out.is_empty() {
        ctx.remove(dest);
    } else {
        ctx.set(dest, Val::from_vec(out));
    }
    Ok(())
}

/// A bitfield type: `i<bits>` (1–64) or `u<bits>` (1–63).
fn field_type(t: &[u8]) -> Result<(bool, u32), CmdError> {
    let bad = || {
        CmdError::refused(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match t.first().map(u8::to_ascii_lowercase) {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(bad()),
    };
    let bits = parse_int(&t[1..]).ok_or_else(bad)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(bad());
    }
    Ok((signed, bits as u32))
}

fn get_bits(s: &[u8], off: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..u64::from(bits) {
        let bit = off + j;
        let byte = s.get((bit >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - (bit & 7))) & 1);
    }
    v
}

fn set_bits(s: &mut Vec<u8>, off: u64, bits: u32, v: u64) {
    let end = ((off + u64::from(bits) + 7) >> 3) as usize;
    if s.len() < end {
        s.resize(end, 0);
    }
    for j in 0..u64::from(bits) {
        let bit = off + j;
        let on = (v >> (u64::from(bits) - 1 - j)) & 1 == 1;
        let mask = 1u8 << (7 - (bit & 7));
        if on {
            s[(bit >> 3) as usize] |= mask;
        } else {
            s[(bit >> 3) as usize] &= !mask;
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Adds `incr` to `old` in a field of `bits` bits (`checkSignedBitfieldOverflow`
/// and its unsigned twin); `None` when FAIL refuses.
fn field_add(old: u64, incr: i64, signed: bool, bits: u32, ov: Overflow) -> Option<u64> {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    if signed {
        let max: i128 = (1i128 << (bits - 1)) - 1;
        let min: i128 = -(1i128 << (bits - 1));
        // Sign-extend the stored bits.
        let o = if bits < 64 && old & (1 << (bits - 1)) != 0 {
            (old | !mask) as i64
        } else {
            old as i64
        };
        let sum = i128::from(o) + i128::from(incr);
        let v = if sum > max || sum < min {
            match ov {
                Overflow::Fail => return None,
                Overflow::Sat => {
                    if sum > max {
                        max
                    } else {
                        min
                    }
                }
                Overflow::Wrap => sum,
            }
        } else {
            sum
        };
        Some((v as i64 as u64) & mask)
    } else {
        let max: i128 = mask as i128;
        let sum = old as i128 + i128::from(incr);
        let v = if sum > max || sum < 0 {
            match ov {
                Overflow::Fail => return None,
                Overflow::Sat => {
                    if sum > max {
                        max
                    } else {
                        0
                    }
                }
                Overflow::Wrap => sum,
            }
        } else {
            sum
        };
        Some((v as u64) & mask)
    }
}

/// `BITFIELD key [GET t off] [SET t off v] [INCRBY t off n] [OVERFLOW WRAP|SAT|FAIL] ...`.
pub(crate) fn bitfield(ctx: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    // Parse everything first: a syntax error changes nothing.
    enum Op {
        Set(bool, u32, u64, i64),
        Incr(bool, u32, u64, i64),
    }
    let mut ops: Vec<(Op, Overflow)> = Vec::new();
    let mut ov = Overflow::Wrap;
    let mut i = 2;
    while i < a.len() {
        let o = a[i];
        let left = a.len() - i - 1;
        if is(o, "get") && left >= 2 {
            let (_, bits) = field_type(a[i + 1])?;
            bit_offset(a[i + 2], true, u64::from(bits))?;
            i += 3;
        } else if (is(o, "set") || is(o, "incrby")) && left >= 3 {
            let (signed, bits) = field_type(a[i + 1])?;
            let off = bit_offset(a[i + 2], true, u64::from(bits))?;
            let v = int(a[i + 3])?;
            ops.push((
                if is(o, "set") {
                    Op::Set(signed, bits, off, v)
                } else {
                    Op::Incr(signed, bits, off, v)
                },
                ov,
            ));
            i += 4;
        } else if is(o, "overflow") && left >= 1 {
            let w = a[i + 1];
            ov = if is(w, "wrap") {
                Overflow::Wrap
            } else if is(w, "sat") {
                Overflow::Sat
            } else if is(w, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::refused("ERR Invalid OVERFLOW type specified"));
            };
            i += 2;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if ops.is_empty() {
        ctx.string(a[1])?;
        return Ok(());
    }
    if ctx.string(a[1])?.is_none() {
        ctx.set(a[1], Val::Str(Vec::new()));
    }
    let s = ctx.string(a[1])?.expect("made above");
    for (op, ov) in ops {
        match op {
            Op::Set(signed, bits, off, v) => {
                let mask = if bits == 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                let raw = v as u64;
                // SET under FAIL/SAT checks the value fits the field.
                let fits = if signed {
                    bits == 64 || {
                        let min = -(1i64 << (bits - 1));
                        let max = (1i64 << (bits - 1)) - 1;
                        (min..=max).contains(&v)
                    }
                } else {
                    v >= 0 && (v as u64) <= mask
                };
                let stored = if fits || ov == Overflow::Wrap {
                    Some(raw & mask)
                } else if ov == Overflow::Sat {
                    if signed {
                        field_add(0, v, signed, bits, Overflow::Sat)
                    } else {
                        // The value is read as unsigned 64 bits
                        // (`checkUnsignedBitfieldOverflow`): a negative
                        // one is huge and saturates at the top.
                        Some(mask)
                    }
                } else {
                    None
                };
                if let Some(x) = stored {
                    set_bits(s, off, bits, x);
                } else {
                    // FAIL leaves the field, but the string was still made
                    // long enough to hold it (the server grows it first).
                    let end = ((off + u64::from(bits) + 7) >> 3) as usize;
                    if s.len() < end {
                        s.resize(end, 0);
                    }
                }
            }
            Op::Incr(signed, bits, off, by) => {
                let old = get_bits(s, off, bits);
                match field_add(old, by, signed, bits, ov) {
                    Some(x) => set_bits(s, off, bits, x),
                    None => {
                        let end = ((off + u64::from(bits) + 7) >> 3) as usize;
                        if s.len() < end {
                            s.resize(end, 0);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfield_arithmetic() {
        assert_eq!(field_add(255, 1, false, 8, Overflow::Wrap), Some(0));
        assert_eq!(field_add(255, 1, false, 8, Overflow::Sat), Some(255));
        assert_eq!(field_add(255, 1, false, 8, Overflow::Fail), None);
        assert_eq!(field_add(127, 1, true, 8, Overflow::Wrap), Some(0x80));
        assert_eq!(field_add(0x80, -1, true, 8, Overflow::Sat), Some(0x80));
        let mut s = Vec::new();
        set_bits(&mut s, 5, 8, 0xff);
        assert_eq!(s, vec![0x07, 0xf8]);
        assert_eq!(get_bits(&s, 5, 8), 0xff);
    }

    #[test]
    fn human_doubles() {
        assert_eq!(human_double(3.0), "3");
        assert_eq!(human_double(10.5), "10.5");
        assert_eq!(human_double(-0.1), "-0.1");
    }
}
