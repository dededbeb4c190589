//! The value layouts of the object type bytes, the write side of
//! [`crate::value`]: what follows the key in a key record (and what a
//! DUMP payload carries). Which type byte goes with which layout is in
//! [`crate::types::rdb_type`]; each function names its types.
//!
//! The compact encodings (zipmap, ziplist, intset, listpack) are stored as
//! one RDB string holding the blob ([`blob`]); the others are counts
//! followed by RDB strings, written in the form [`Strings`] allows.

use super::cursor::{ascii_double, binary_double, length, millis};
use super::rdb_string::{elem, encoded, Strings};
use super::Result;
use crate::Elem;

/// Types 1 (list) and 2 (set): the count, then each element as an RDB
/// string.
pub fn strings(out: &mut Vec<u8>, elems: &[Elem<'_>], how: Strings) {
    length(out, elems.len() as u64);
    for &e in elems {
        elem(out, e, how);
    }
}

/// Type 4 (hash): the count, then each field and value.
pub fn hash(out: &mut Vec<u8>, pairs: &[(&[u8], &[u8])], how: Strings) {
    length(out, pairs.len() as u64);
    for (f, v) in pairs {
        encoded(out, f, how);
        encoded(out, v, how);
    }
}

/// Type 5 (zset v2): the count, then each member and its score as a
/// binary double. Redis writes members from the highest score down, so
/// that loading appends to the skiplist; any order loads. Scores are
/// written as given: Redis refuses to load a NaN score.
pub fn zset(out: &mut Vec<u8>, members: &[(&[u8], f64)], how: Strings) {
    length(out, members.len() as u64);
    for (m, score) in members {
        encoded(out, m, how);
        binary_double(out, *score);
    }
}

/// Type 3 (zset, before RDB 8): as [`zset`] with scores as old-style text
/// doubles (`docs/format.md#sorted-set-scores`).
pub fn zset_ascii(out: &mut Vec<u8>, members: &[(&[u8], f64)], how: Strings) {
    length(out, members.len() as u64);
    for (m, score) in members {
        encoded(out, m, how);
        ascii_double(out, *score);
    }
}

/// Types 9 to 13, 16, 17 and 20: one compact blob (zipmap, ziplist,
/// intset or listpack) stored as one RDB string, compressed when `how`
/// says so and it pays (Redis compresses these like any string).
pub fn blob(out: &mut Vec<u8>, blob: &[u8], how: Strings) {
    super::rdb_string::plain_or_lzf(out, blob, how.compress);
}

/// Type 14 (quicklist, RDB 7 to 9): the node count, then each node, a
/// ziplist, as an RDB string (`docs/format.md#quicklist`).
pub fn quicklist(out: &mut Vec<u8>, ziplists: &[&[u8]], how: Strings) {
    length(out, ziplists.len() as u64);
    for zl in ziplists {
        blob(out, zl, how);
    }
}

/// A node of a type 18 quicklist (`docs/format.md#quicklist`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuicklistNode<'a> {
    /// Container 1 (`QUICKLIST_NODE_CONTAINER_PLAIN`): one large element,
    /// stored as itself.
    Plain(&'a [u8]),
    /// Container 2 (`QUICKLIST_NODE_CONTAINER_PACKED`): a listpack of
    /// elements.
    Packed(&'a [u8]),
}

/// The container number of a PLAIN quicklist node.
pub const CONTAINER_PLAIN: u64 = 1;
/// The container number of a PACKED (listpack) quicklist node.
pub const CONTAINER_PACKED: u64 = 2;

/// Type 18 (quicklist v2, RDB 10+): the node count, then each node's
/// container number and its bytes as an RDB string. Redis refuses empty
/// nodes; the caller gives none.
pub fn quicklist2(out: &mut Vec<u8>, nodes: &[QuicklistNode<'_>], how: Strings) {
    length(out, nodes.len() as u64);
    for node in nodes {
        let (container, bytes) = match *node {
            QuicklistNode::Plain(b) => (CONTAINER_PLAIN, b),
            QuicklistNode::Packed(b) => (CONTAINER_PACKED, b),
        };
        length(out, container);
        blob(out, bytes, how);
    }
}

/// The stored TTL field of a type 24 hash field: 0 for no expiry, else
/// `expire_at - min_expire + 1` (`expire_at` must not be below
/// `min_expire`, the smallest expiry of the hash).
pub fn hash_metadata_ttl(min_expire: u64, expire_at: Option<u64>) -> u64 {
    match expire_at {
        None => 0,
        Some(t) => t.saturating_sub(min_expire).saturating_add(1),
    }
}

/// Type 24 (HASH_METADATA, Redis 7.4+; hashes with field expiries): the
/// smallest expiry as u64le, the count, then each field's stored TTL (see
/// [`hash_metadata_ttl`]) as a length, its name and its value.
pub fn hash_metadata(
    out: &mut Vec<u8>,
    min_expire: u64,
    fields: &[(u64, &[u8], &[u8])],
    how: Strings,
) {
    out.extend_from_slice(&min_expire.to_le_bytes());
    length(out, fields.len() as u64);
    for (ttl, f, v) in fields {
        length(out, *ttl);
        encoded(out, f, how);
        encoded(out, v, how);
    }
}

/// Redis type 22 (HASH_METADATA_PRE_GA, 7.4 release candidates): the
/// count, then each field's absolute expiry (0 = none) as a length, its
/// name and its value.
pub fn hash_metadata_pre_ga(out: &mut Vec<u8>, fields: &[(u64, &[u8], &[u8])], how: Strings) {
    length(out, fields.len() as u64);
    for (at, f, v) in fields {
        length(out, *at);
        encoded(out, f, how);
        encoded(out, v, how);
    }
}

/// Type 25 (HASH_LISTPACK_EX, Redis 7.4+): the smallest expiry as u64le,
/// then a listpack of (field, value, expiry) triplets, expiry 0 meaning
/// none, as an RDB string. Fields and values are stored as `lpAppend`
/// stores them ([`super::listpack::stored_form`]).
pub fn hash_listpack_ex(
    out: &mut Vec<u8>,
    min_expire: u64,
    triplets: &[(&[u8], &[u8], i64)],
    how: Strings,
) -> Result<()> {
    use super::listpack::stored_form;
    let lp = super::listpack::to_vec(
        triplets
            .iter()
            .flat_map(|&(f, v, t)| [stored_form(f), stored_form(v), Elem::Int(t)]),
    )?;
    hash_listpack_ex_blob(out, min_expire, &lp, how);
    Ok(())
}

/// Type 25 around a listpack the caller built: the smallest expiry as
/// u64le, then the listpack as an RDB string.
pub fn hash_listpack_ex_blob(out: &mut Vec<u8>, min_expire: u64, listpack: &[u8], how: Strings) {
    out.extend_from_slice(&min_expire.to_le_bytes());
    blob(out, listpack, how);
}

/// Valkey type 22 (HASH_2, `VALKEY080` files): the count, then each
/// field, value, and expiry as i64le (-1 = none).
pub fn valkey_hash2(out: &mut Vec<u8>, fields: &[(&[u8], &[u8], i64)], how: Strings) {
    length(out, fields.len() as u64);
    for (f, v, at) in fields {
        encoded(out, f, how);
        encoded(out, v, how);
        millis(out, *at);
    }
}
