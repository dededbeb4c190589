//! The command table: each command the replay applies, its arity (as the
//! server's command table gives it: `n` exactly, `-n` at least) and its
//! implementation, one module per family.

use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;

pub(crate) mod functions;
pub(crate) mod generic;
pub(crate) mod hashes;
pub(crate) mod lists;
pub(crate) mod sets;
pub(crate) mod streams;
pub(crate) mod strings;
pub(crate) mod zsets;

/// A command's implementation: the context and every argument, the name
/// first.
pub(crate) type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> CmdResult;

/// Finds a command by name (case-insensitive): its arity and handler.
/// The table is indexed once by name.
pub(crate) fn lookup(name: &[u8]) -> Option<(i32, Handler)> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static INDEX: OnceLock<HashMap<&'static [u8], (i32, Handler)>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        TABLE
            .iter()
            .map(|&(n, arity, h)| (n.as_bytes(), (arity, h)))
            .collect()
    });
    let mut low = [0u8; 24];
    if name.len() > low.len() {
        return None;
    }
    for (d, s) in low.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    index.get(&low[..name.len()]).copied()
}

/// Checks `args` against `arity`.
pub(crate) fn check_arity(arity: i32, args: &[&[u8]]) -> CmdResult {
    let n = args.len() as i32;
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        return Err(CmdError::arity(args[0]));
    }
    Ok(())
}

/// Every command the replay knows, by lower-case name.
pub(crate) const TABLE: &[(&str, i32, Handler)] = &[
    // Strings.
    ("set", -3, strings::set),
    ("setnx", 3, strings::setnx),
    ("setex", 4, strings::setex),
    ("psetex", 4, strings::psetex),
    ("getset", 3, strings::getset),
    ("getdel", 2, strings::getdel),
    ("getex", -2, strings::getex),
    ("mset", -3, strings::mset),
    ("msetnx", -3, strings::msetnx),
    ("append", 3, strings::append),
    ("setrange", 4, strings::setrange),
    ("incr", 2, strings::incr),
    ("decr", 2, strings::decr),
    ("incrby", 3, strings::incrby),
    ("decrby", 3, strings::decrby),
    ("incrbyfloat", 3, strings::incrbyfloat),
    ("setbit", 4, strings::setbit),
    ("bitop", -4, strings::bitop),
    ("bitfield", -2, strings::bitfield),
    // Keys.
    ("del", -2, generic::del),
    ("unlink", -2, generic::del),
    ("expire", -3, generic::expire),
    ("pexpire", -3, generic::pexpire),
    ("expireat", -3, generic::expireat),
    ("pexpireat", -3, generic::pexpireat),
    ("persist", 2, generic::persist),
    ("rename", 3, generic::rename),
    ("renamenx", 3, generic::renamenx),
    ("move", 3, generic::move_),
    ("copy", -3, generic::copy),
    ("swapdb", 3, generic::swapdb),
    ("flushdb", -1, generic::flushdb),
    ("flushall", -1, generic::flushall),
    ("restore", -4, generic::restore),
    ("ping", -1, generic::nothing),
    // Redis 6.2 and older write SCRIPT LOAD/FLUSH for the script cache;
    // it holds no data.
    ("script", -2, generic::nothing),
    // Lists.
    ("rpush", -3, lists::rpush),
    ("lpush", -3, lists::lpush),
    ("rpushx", -3, lists::rpushx),
    ("lpushx", -3, lists::lpushx),
    ("lpop", -2, lists::lpop),
    ("rpop", -2, lists::rpop),
    ("linsert", 5, lists::linsert),
    ("lset", 4, lists::lset),
    ("lrem", 4, lists::lrem),
    ("ltrim", 4, lists::ltrim),
    ("rpoplpush", 3, lists::rpoplpush),
    ("lmove", 5, lists::lmove),
    // Sets.
    ("sadd", -3, sets::sadd),
    ("srem", -3, sets::srem),
    ("smove", 4, sets::smove),
    ("sinterstore", -3, sets::sinterstore),
    ("sunionstore", -3, sets::sunionstore),
    ("sdiffstore", -3, sets::sdiffstore),
    // Sorted sets.
    ("zadd", -4, zsets::zadd),
    ("zincrby", 4, zsets::zincrby),
    ("zrem", -3, zsets::zrem),
    ("zremrangebyscore", 4, zsets::zremrangebyscore),
    ("zremrangebyrank", 4, zsets::zremrangebyrank),
    ("zremrangebylex", 4, zsets::zremrangebylex),
    ("zpopmin", -2, zsets::zpopmin),
    ("zpopmax", -2, zsets::zpopmax),
    ("zunionstore", -4, zsets::zunionstore),
    ("zinterstore", -4, zsets::zinterstore),
    ("zdiffstore", -4, zsets::zdiffstore),
    ("zrangestore", -5, zsets::zrangestore),
    // Hashes.
    ("hset", -4, hashes::hset),
    ("hmset", -4, hashes::hset),
    ("hsetnx", 4, hashes::hsetnx),
    ("hdel", -3, hashes::hdel),
    ("hincrby", 4, hashes::hincrby),
    ("hincrbyfloat", 4, hashes::hincrbyfloat),
    ("hpexpireat", -6, hashes::hpexpireat),
    ("hexpireat", -6, hashes::hexpireat),
    ("hpexpire", -6, hashes::hpexpire),
    ("hexpire", -6, hashes::hexpire),
    ("hpersist", -5, hashes::hpersist),
    ("hsetex", -6, hashes::hsetex),
    // Streams.
    ("xadd", -5, streams::xadd),
    ("xtrim", -4, streams::xtrim),
    ("xdel", -3, streams::xdel),
    ("xack", -4, streams::xack),
    ("xsetid", -3, streams::xsetid),
    ("xgroup", -2, streams::xgroup),
    ("xclaim", -6, streams::xclaim),
    // Functions.
    ("function", -2, functions::function),
];
