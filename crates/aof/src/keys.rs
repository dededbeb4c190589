//! Which keys a command writes to, and the data type it acts on: what the
//! key filters of `dump` select AOF commands by. The positions follow the
//! key specifications of Redis's command table (`src/commands/*.json`) for
//! the write commands an AOF holds; a command not listed touches no key as
//! far as the filters go (SELECT, MULTI, EXEC, FLUSHALL, FUNCTION, ...).

use crate::resp::Command;
use rdbscope_rdb::KeyType;

/// Where a command's keys are among its arguments (the name is argument 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// Argument 1 only.
    First,
    /// Arguments 1 and 2 (RENAME, SMOVE, LMOVE, COPY, ...).
    FirstTwo,
    /// Every argument from 1 (DEL, UNLINK, PFMERGE, ...).
    All,
    /// Every other argument from 1 (MSET, MSETNX).
    Pairs,
    /// Argument 1, then `numkeys` at 2 and that many keys (ZUNIONSTORE, ...).
    DestNumkeys,
    /// Arguments from 2 (BITOP op dest key...).
    FromSecond,
    /// The key after a subcommand (XGROUP CREATE key ...).
    Second,
}

/// The data type and key positions of a write command, by name (any case).
fn spec(name: &[u8]) -> Option<(Option<KeyType>, Spec)> {
    use KeyType::*;
    use Spec::*;
    let mut upper = [0u8; 24];
    if name.len() > upper.len() {
        return None;
    }
    for (u, b) in upper.iter_mut().zip(name) {
        *u = b.to_ascii_uppercase();
    }
    let n = &upper[..name.len()];
    Some(match n {
        b"SET" | b"SETEX" | b"PSETEX" | b"SETNX" | b"APPEND" | b"INCR" | b"INCRBY"
        | b"INCRBYFLOAT" | b"DECR" | b"DECRBY" | b"SETRANGE" | b"GETSET" | b"GETDEL" | b"GETEX"
        | b"SETBIT" | b"BITFIELD" | b"PFADD" | b"LCS" => (Some(String), First),
        b"MSET" | b"MSETNX" => (Some(String), Pairs),
        b"BITOP" => (Some(String), FromSecond),
        b"PFMERGE" => (Some(String), All),
        b"LPUSH" | b"RPUSH" | b"LPUSHX" | b"RPUSHX" | b"LINSERT" | b"LSET" | b"LREM" | b"LTRIM"
        | b"LPOP" | b"RPOP" => (Some(List), First),
        b"RPOPLPUSH" | b"LMOVE" | b"BLMOVE" | b"BRPOPLPUSH" => (Some(List), FirstTwo),
        b"SADD" | b"SREM" | b"SPOP" => (Some(Set), First),
        b"SMOVE" => (Some(Set), FirstTwo),
        b"SINTERSTORE" | b"SUNIONSTORE" | b"SDIFFSTORE" => (Some(Set), All),
        b"ZADD" | b"ZINCRBY" | b"ZREM" | b"ZREMRANGEBYSCORE" | b"ZREMRANGEBYRANK"
        | b"ZREMRANGEBYLEX" | b"ZPOPMIN" | b"ZPOPMAX" | b"GEOADD" => (Some(ZSet), First),
        b"ZUNIONSTORE" | b"ZINTERSTORE" | b"ZDIFFSTORE" => (Some(ZSet), DestNumkeys),
        b"ZRANGESTORE" | b"GEOSEARCHSTORE" => (Some(ZSet), FirstTwo),
        b"HSET" | b"HSETNX" | b"HMSET" | b"HDEL" | b"HINCRBY" | b"HINCRBYFLOAT" | b"HEXPIRE"
        | b"HPEXPIRE" | b"HEXPIREAT" | b"HPEXPIREAT" | b"HPERSIST" | b"HSETEX" | b"HGETDEL"
        | b"HGETEX" => (Some(Hash), First),
        b"XADD" | b"XDEL" | b"XTRIM" | b"XSETID" | b"XACK" | b"XCLAIM" | b"XAUTOCLAIM" => {
            (Some(Stream), First)
        }
        b"XGROUP" => (Some(Stream), Second),
        b"DEL" | b"UNLINK" => (None, All),
        b"EXPIRE" | b"PEXPIRE" | b"EXPIREAT" | b"PEXPIREAT" | b"PERSIST" | b"MOVE" | b"RESTORE"
        | b"RESTORE-ASKING" | b"SORT" => (None, First),
        b"RENAME" | b"RENAMENX" | b"COPY" => (None, FirstTwo),
        _ => return None,
    })
}

/// The keys `c` writes to and the type it acts on (`None`: any type, as
/// DEL or EXPIRE). `None` for a command that names no key.
pub fn keys<'a>(c: &Command<'a>) -> Option<(Option<KeyType>, Keys<'a>)> {
    let (t, s) = spec(c.name)?;
    Some((
        t,
        Keys {
            args: c.args().skip(1),
            spec: s,
            index: 1,
            last: None,
        },
    ))
}

/// The key arguments of one command, in order.
pub struct Keys<'a> {
    args: std::iter::Skip<crate::resp::Args<'a>>,
    spec: Spec,
    /// The position of the next argument.
    index: usize,
    /// DestNumkeys: the last key position.
    last: Option<usize>,
}

impl<'a> Iterator for Keys<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let arg = self.args.next()?;
            let i = self.index;
            self.index += 1;
            let take = match self.spec {
                Spec::First => {
                    if i > 1 {
                        return None;
                    }
                    true
                }
                Spec::FirstTwo => {
                    if i > 2 {
                        return None;
                    }
                    true
                }
                Spec::All => true,
                Spec::Pairs => i % 2 == 1,
                Spec::FromSecond => i >= 2,
                Spec::Second => {
                    if i > 2 {
                        return None;
                    }
                    i == 2
                }
                Spec::DestNumkeys => match i {
                    1 => true,
                    2 => {
                        let n: usize = std::str::from_utf8(arg).ok()?.parse().ok()?;
                        self.last = Some(2 + n);
                        false
                    }
                    _ => {
                        if self.last.is_some_and(|l| i > l) {
                            return None;
                        }
                        true
                    }
                },
            };
            if take {
                return Some(arg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::{Item, Reader};

    fn keys_of(args: &[&[u8]]) -> Option<(Option<KeyType>, Vec<Vec<u8>>)> {
        let mut b = Vec::new();
        crate::resp::write_command(&mut b, args);
        let Some(Ok(Item::Command(c))) = Reader::new(&b, 0).read() else {
            panic!()
        };
        keys(&c).map(|(t, k)| (t, k.map(<[u8]>::to_vec).collect()))
    }

    #[test]
    fn key_positions() {
        let v = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            keys_of(&[b"set", b"k", b"v"]),
            Some((Some(KeyType::String), v(&["k"])))
        );
        assert_eq!(
            keys_of(&[b"MSET", b"a", b"1", b"b", b"2"]).unwrap().1,
            v(&["a", "b"])
        );
        assert_eq!(keys_of(&[b"DEL", b"a", b"b"]), Some((None, v(&["a", "b"]))));
        assert_eq!(keys_of(&[b"RENAME", b"a", b"b"]).unwrap().1, v(&["a", "b"]));
        assert_eq!(
            keys_of(&[
                b"ZUNIONSTORE",
                b"d",
                b"2",
                b"x",
                b"y",
                b"WEIGHTS",
                b"1",
                b"2"
            ])
            .unwrap()
            .1,
            v(&["d", "x", "y"])
        );
        assert_eq!(
            keys_of(&[b"XGROUP", b"CREATE", b"s", b"g", b"$"])
                .unwrap()
                .1,
            v(&["s"])
        );
        assert_eq!(
            keys_of(&[b"BITOP", b"AND", b"d", b"a", b"b"]).unwrap().1,
            v(&["d", "a", "b"])
        );
        assert_eq!(keys_of(&[b"SELECT", b"1"]), None);
        assert_eq!(keys_of(&[b"MULTI"]), None);
    }
}
