//! How many nodes a Redis radix tree (`rax.c`) has for a set of keys, as
//! `MEMORY USAGE` counts a stream's trees by node (`streamRadixTreeMemoryUsage`).
//!
//! A rax node stands at the root, at every key's end, and after every
//! branch; a run of single-child points that are not keys is one
//! compressed node. Insertion alone (as loading does) keeps that shape, so
//! the count follows from the sorted keys.

/// Nodes of the rax holding `keys` (sorted, distinct).
pub fn nodes(keys: &[[u8; 16]]) -> u64 {
    if keys.is_empty() {
        return 1;
    }
    count(keys, 0)
}

/// Nodes of the subtree at the point `depth` bytes into `keys`, which all
/// share their first `depth` bytes.
fn count(keys: &[[u8; 16]], depth: usize) -> u64 {
    // Keys are all 16 bytes: only a point at depth 16 is a key, and it
    // has no children.
    if depth >= 16 {
        return 1;
    }
    let first = keys[0][depth];
    if keys.iter().all(|k| k[depth] == first) {
        // One child: a compressed node, running while every key has the
        // same next byte; it ends at a branch or at the keys' end.
        let mut d = depth + 1;
        while d < 16 && keys.iter().all(|k| k[d] == keys[0][d]) {
            d += 1;
        }
        return 1 + count(keys, d);
    }
    // A branch: one child per distinct next byte.
    let mut total = 1;
    let mut start = 0;
    while start < keys.len() {
        let b = keys[start][depth];
        let end = start + keys[start..].iter().take_while(|k| k[depth] == b).count();
        total += count(&keys[start..end], depth + 1);
        start = end;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&ms.to_be_bytes());
        k[8..].copy_from_slice(&seq.to_be_bytes());
        k
    }

    #[test]
    fn shapes() {
        assert_eq!(nodes(&[]), 1);
        // Root compressed over all 16 bytes, then the key's node.
        assert_eq!(nodes(&[id(1, 0)]), 2);
        // Compressed to byte 15, a branch with two leaves.
        assert_eq!(nodes(&[id(1, 0), id(1, 1)]), 4);
    }
}
