//! Values in the encoding a server would give them: given a collection's
//! elements and the RDB version to write, picks the type byte Redis would
//! save it with (compact listpack, ziplist or intset forms for small
//! collections, the plain layouts for large ones, quicklist nodes cut
//! where Redis cuts them) and writes it. What the `*-max-listpack-*`
//! settings decide in Redis (`t_hash.c`, `t_set.c`, `t_zset.c`,
//! `quicklist.c`) is [`Config`] here; the defaults are Redis's.
//!
//! Loading works whatever the encoding (a server converts on load by its
//! own settings); writing what the server would have saved makes files
//! that look like its own, byte for byte where its choices are
//! deterministic (the live tests compare with Redis 6.2 and 7.0 saves).
//! Layouts: `docs/format.md#listpack`, `#ziplist`, `#intset`,
//! `#quicklist`.

use super::listpack::stored_form;
use super::rdb_string::{canonical_int, Strings};
use super::value::{self, QuicklistNode};
use super::{atomically, Error, Result};
use crate::types::rdb_type::*;
use crate::Elem;

/// The encoding thresholds of a server (`redis.conf` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// `list-max-listpack-size`: below 0, a quicklist node's byte limit
    /// (-1: 4 KiB, -2: 8 KiB, ... -5: 64 KiB); above, its entry count.
    pub list_max_listpack_size: i32,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries` (RDB 11+).
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value` (RDB 11+).
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// The quicklist's packed threshold (`DEBUG QUICKLIST-PACKED-THRESHOLD`,
    /// 1 GiB unless changed): from RDB 10 an element at least this long is
    /// a PLAIN node of its own.
    pub list_packed_threshold: usize,
}

impl Default for Config {
    /// Redis's defaults.
    fn default() -> Config {
        Config {
            list_max_listpack_size: -2,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            // config.c: 512, though redis.conf's example says 128.
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            list_packed_threshold: 1 << 30,
        }
    }
}

/// Quicklist node limits in bytes for `list-max-listpack-size` -1 to -5.
const NODE_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// A node never grows past this when the limit is a count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// What Redis 7 adds to an element's length to estimate its listpack
/// entry.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// RDB versions that introduced the encodings chosen here.
const RDB_QUICKLIST: u32 = 7;
const RDB_LISTPACK: u32 = 10;
const RDB_SET_LISTPACK: u32 = 11;
const RDB_ZSET_2: u32 = 8;

/// Whether a quicklist node of `bytes` bytes and `count` entries may take
/// one more element of `len` bytes, as Redis of RDB `version` decides
/// (`_quicklistNodeAllowInsert`). The entry's size is estimated from the
/// element's length: up to Redis 6.2 (RDB 9) by the ziplist entry header
/// it would need, from 7.0 (RDB 10, listpack nodes) by a flat 8 bytes.
/// Both are checked against real saves in `tests/write_live.rs`.
fn node_takes(cfg: &Config, version: u32, bytes: usize, count: usize, len: usize) -> bool {
    let overhead = if version >= RDB_LISTPACK {
        SIZE_ESTIMATE_OVERHEAD
    } else {
        let prevlen = if len < 254 { 1 } else { 5 };
        let header = if len < 64 {
            1
        } else if len < 16384 {
            2
        } else {
            5
        };
        prevlen + header
    };
    let new = bytes + len + overhead;
    let fill = cfg.list_max_listpack_size;
    if fill < 0 {
        new <= NODE_BYTES[(fill.unsigned_abs() as usize).min(NODE_BYTES.len()) - 1]
    } else {
        new <= SIZE_SAFETY_LIMIT && count < fill as usize
    }
}

/// Writes a list of `items` (in order) as Redis of RDB `version` saves it
/// and returns the type byte: quicklist v2 (RDB 10+, listpack nodes),
/// quicklist (RDB 7-9, ziplist nodes) or the plain list. Nodes are cut
/// where pushing the items one by one at the tail cuts them; from RDB 10
/// an element of at least [`Config::list_packed_threshold`] bytes is a
/// PLAIN node.
pub fn list(
    out: &mut Vec<u8>,
    version: u32,
    items: &[&[u8]],
    cfg: &Config,
    how: Strings,
) -> Result<u8> {
    if version < RDB_QUICKLIST {
        let elems: Vec<Elem> = items.iter().map(|b| Elem::Str(b)).collect();
        value::strings(out, &elems, how);
        return Ok(LIST);
    }
    let packed = version >= RDB_LISTPACK;
    let blob = |from: &[&[u8]]| -> Result<Vec<u8>> {
        let elems = from.iter().map(|b| stored_form(b));
        if packed {
            super::listpack::to_vec(elems)
        } else {
            super::ziplist::to_vec(elems)
        }
    };
    // Cut the items into nodes, each as long as the server lets it grow,
    // tracking each node's real size (the estimate only decides).
    let empty = if packed {
        crate::listpack::HEADER_SIZE + 1
    } else {
        crate::ziplist::HEADER_SIZE + 1
    };
    // Elements at least the packed threshold long are PLAIN nodes (RDB
    // 10+): the packed node before one is closed, and the next element
    // starts a new one (a PLAIN tail takes no more, quicklist.c).
    enum Node<'i> {
        Packed(Vec<u8>),
        Plain(&'i [u8]),
    }
    let mut nodes: Vec<Node> = Vec::new();
    let (mut start, mut size, mut prev) = (0, empty, 0usize);
    let mut entry = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if packed && item.len() >= cfg.list_packed_threshold {
            if i > start {
                nodes.push(Node::Packed(blob(&items[start..i])?));
            }
            nodes.push(Node::Plain(item));
            (start, size, prev) = (i + 1, empty, 0);
            continue;
        }
        if i > start && !node_takes(cfg, version, size, i - start, item.len()) {
            nodes.push(Node::Packed(blob(&items[start..i])?));
            (start, size, prev) = (i, empty, 0);
        }
        entry.clear();
        if packed {
            super::listpack::entry(&mut entry, stored_form(item))?;
        } else {
            super::ziplist::prevlen(&mut entry, super::fits_u32("ziplist entry", prev as u64)?);
            super::ziplist::element(&mut entry, stored_form(item))?;
            prev = entry.len();
        }
        size += entry.len();
    }
    if start < items.len() {
        nodes.push(Node::Packed(blob(&items[start..])?));
    }
    if packed {
        let nodes: Vec<QuicklistNode> = nodes
            .iter()
            .map(|n| match n {
                Node::Packed(b) => QuicklistNode::Packed(b),
                Node::Plain(b) => QuicklistNode::Plain(b),
            })
            .collect();
        value::quicklist2(out, &nodes, how);
        Ok(LIST_QUICKLIST_2)
    } else {
        let refs: Vec<&[u8]> = nodes
            .iter()
            .map(|n| match n {
                Node::Packed(b) => b.as_slice(),
                Node::Plain(b) => b,
            })
            .collect();
        value::quicklist(out, &refs, how);
        Ok(LIST_QUICKLIST)
    }
}

/// Writes the set of distinct `members` (in insertion order) as Redis of
/// RDB `version` saves it and returns the type byte: an intset when every
/// member is an integer and there are few enough, a listpack (RDB 11+)
/// when they are few and short, else the plain set.
pub fn set(
    out: &mut Vec<u8>,
    version: u32,
    members: &[&[u8]],
    cfg: &Config,
    how: Strings,
) -> Result<u8> {
    if !members.is_empty() && members.len() <= cfg.set_max_intset_entries {
        let ints: Option<Vec<i64>> = members.iter().map(|m| canonical_int(m)).collect();
        if let Some(ints) = ints {
            let mut blob = Vec::new();
            super::intset::intset(&mut blob, &ints)?;
            value::blob(out, &blob, how);
            return Ok(SET_INTSET);
        }
    }
    if version >= RDB_SET_LISTPACK
        && members.len() <= cfg.set_max_listpack_entries
        && members
            .iter()
            .all(|m| m.len() <= cfg.set_max_listpack_value)
    {
        let lp = super::listpack::to_vec(members.iter().map(|m| stored_form(m)))?;
        value::blob(out, &lp, how);
        return Ok(SET_LISTPACK);
    }
    let elems: Vec<Elem> = members.iter().map(|b| Elem::Str(b)).collect();
    value::strings(out, &elems, how);
    Ok(SET)
}

/// Writes the zset of distinct `members` with their scores as Redis of
/// RDB `version` saves it and returns the type byte: a listpack (RDB 10+)
/// or ziplist of (member, score) in score order when few and short, else
/// type 5 (type 3 before RDB 8) from the highest score down. Compact
/// scores are what the version's `d2string` writes
/// ([`super::score_text::d2string`]), byte for byte as what
/// Redis writes. A NaN score is an error: Redis refuses it.
pub fn zset(
    out: &mut Vec<u8>,
    version: u32,
    members: &[(&[u8], f64)],
    cfg: &Config,
    how: Strings,
) -> Result<u8> {
    zset_ordered(out, version, members, cfg, how, false)
}

/// [`zset`], but a plain zset keeps the order of `members` when
/// `keep_plain_order` (a plain zset read from a file: Redis before 4.0
/// saved it in its dict's order, and readers take any order).
pub fn zset_ordered(
    out: &mut Vec<u8>,
    version: u32,
    members: &[(&[u8], f64)],
    cfg: &Config,
    how: Strings,
    keep_plain_order: bool,
) -> Result<u8> {
    if members.iter().any(|(_, s)| s.is_nan()) {
        return Err(Error::Invalid("a zset score is NaN".into()));
    }
    let mut sorted = members.to_vec();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    if members.len() <= cfg.zset_max_listpack_entries
        && members
            .iter()
            .all(|(m, _)| m.len() <= cfg.zset_max_listpack_value)
    {
        // The score as the server's `d2string` writes it (its version's
        // formatter), stored as `lpAppend` stores text.
        // One buffer for all the texts (this runs for every small zset).
        let mut text = Vec::with_capacity(sorted.len() * 8);
        let mut ends = Vec::with_capacity(sorted.len());
        for (_, s) in &sorted {
            super::score_text::d2string(version, *s, &mut text);
            ends.push(text.len());
        }
        let elems = sorted.iter().enumerate().flat_map(|(i, (m, _))| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            [stored_form(m), stored_form(&text[start..ends[i]])]
        });
        let (blob, t) = if version >= RDB_LISTPACK {
            (super::listpack::to_vec(elems)?, ZSET_LISTPACK)
        } else {
            (super::ziplist::to_vec(elems)?, ZSET_ZIPLIST)
        };
        value::blob(out, &blob, how);
        return Ok(t);
    }
    if keep_plain_order {
        sorted = members.to_vec();
    } else {
        sorted.reverse();
    }
    if version >= RDB_ZSET_2 {
        value::zset(out, &sorted, how);
        Ok(ZSET_2)
    } else {
        value::zset_ascii(out, &sorted, how);
        Ok(ZSET)
    }
}

/// Writes the hash of distinct fields `pairs` (in insertion order) as
/// Redis of RDB `version` saves it and returns the type byte: a listpack
/// (RDB 10+) or ziplist of field, value when few and short, else the plain
/// hash.
pub fn hash(
    out: &mut Vec<u8>,
    version: u32,
    pairs: &[(&[u8], &[u8])],
    cfg: &Config,
    how: Strings,
) -> Result<u8> {
    atomically(out, |out| {
        if pairs.len() <= cfg.hash_max_listpack_entries
            && pairs
                .iter()
                .all(|(f, v)| f.len().max(v.len()) <= cfg.hash_max_listpack_value)
        {
            let elems = pairs
                .iter()
                .flat_map(|(f, v)| [stored_form(f), stored_form(v)]);
            let (blob, t) = if version >= RDB_LISTPACK {
                (super::listpack::to_vec(elems)?, HASH_LISTPACK)
            } else {
                (super::ziplist::to_vec(elems)?, HASH_ZIPLIST)
            };
            value::blob(out, &blob, how);
            return Ok(t);
        }
        value::hash(out, pairs, how);
        Ok(HASH)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_follow_the_thresholds() {
        let cfg = Config::default();
        let how = Strings::PLAIN;
        let mut out = Vec::new();
        let ints: Vec<Vec<u8>> = (0..600).map(|i| i.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = ints.iter().map(Vec::as_slice).collect();
        assert_eq!(
            set(&mut out, 10, &refs[..512], &cfg, how).unwrap(),
            SET_INTSET
        );
        assert_eq!(set(&mut out, 10, &refs, &cfg, how).unwrap(), SET);
        assert_eq!(set(&mut out, 11, &[b"a"], &cfg, how).unwrap(), SET_LISTPACK);
        assert_eq!(set(&mut out, 10, &[b"a"], &cfg, how).unwrap(), SET);
        assert_eq!(set(&mut out, 10, &[], &cfg, how).unwrap(), SET);
        let long = [b'x'; 65];
        assert_eq!(
            hash(&mut out, 10, &[(b"f", b"v")], &cfg, how).unwrap(),
            HASH_LISTPACK
        );
        assert_eq!(
            hash(&mut out, 9, &[(b"f", b"v")], &cfg, how).unwrap(),
            HASH_ZIPLIST
        );
        assert_eq!(
            hash(&mut out, 10, &[(b"f", &long)], &cfg, how).unwrap(),
            HASH
        );
        assert_eq!(
            zset(&mut out, 10, &[(b"m", 1.0)], &cfg, how).unwrap(),
            ZSET_LISTPACK
        );
        assert_eq!(
            zset(&mut out, 9, &[(&long, 1.0)], &cfg, how).unwrap(),
            ZSET_2
        );
        assert_eq!(zset(&mut out, 7, &[(&long, 1.0)], &cfg, how).unwrap(), ZSET);
        assert!(zset(&mut out, 10, &[(b"m", f64::NAN)], &cfg, how).is_err());
        assert_eq!(
            list(&mut out, 10, &[], &cfg, how).unwrap(),
            LIST_QUICKLIST_2
        );
        assert_eq!(
            list(&mut out, 9, &[b"a"], &cfg, how).unwrap(),
            LIST_QUICKLIST
        );
        assert_eq!(list(&mut out, 6, &[b"a"], &cfg, how).unwrap(), LIST);
        // A count limit: 3 entries per node.
        let count = Config {
            list_max_listpack_size: 3,
            ..cfg
        };
        let mut out = Vec::new();
        list(&mut out, 10, &refs[..7], &count, how).unwrap();
        assert_eq!(out[0], 3, "7 items in nodes of 3: 3 nodes");
        // Any setting is taken without a panic: 0 means a node per item.
        for fill in [i32::MIN, -6, 0, i32::MAX] {
            let odd = Config {
                list_max_listpack_size: fill,
                ..cfg
            };
            let mut out = Vec::new();
            list(&mut out, 10, &refs[..5], &odd, how).unwrap();
            list(&mut out, 9, &refs[..5], &odd, how).unwrap();
        }
    }
}
