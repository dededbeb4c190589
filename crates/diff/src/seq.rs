//! A sequence diff for list values: the shortest edit script (Myers' O(ND)
//! algorithm) between two lists of element hashes, as hunks of removed and
//! inserted elements, so that an element inserted at the head shows as one
//! insertion, not as every position changed.
//!
//! Common heads and tails are trimmed first (appends, pops and edits at the
//! ends cost nothing more). Beyond [`MAX_EDITS`] edits the middle is
//! reported as one hunk that replaces it: the search would cost O(D²)
//! memory, and a list rewritten that much is better shown whole.

/// Edits searched for before the middle is reported as one replacement.
pub const MAX_EDITS: usize = 2000;

/// A run of removed elements of A and inserted elements of B at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// Index in A of the first removed element (where the insertion goes).
    pub a_at: usize,
    /// Elements of A removed.
    pub removed: usize,
    /// Index in B of the first inserted element.
    pub b_at: usize,
    /// Elements of B inserted.
    pub inserted: usize,
}

/// The hunks that turn `a` into `b`.
pub fn diff(a: &[u64], b: &[u64]) -> Vec<Hunk> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a2, b2) = (&a[head..], &b[head..]);
    let tail = a2
        .iter()
        .rev()
        .zip(b2.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a2, b2) = (&a2[..a2.len() - tail], &b2[..b2.len() - tail]);
    if a2.is_empty() && b2.is_empty() {
        return Vec::new();
    }
    let mut hunks = match myers(a2, b2) {
        Some(h) => h,
        None => vec![Hunk {
            a_at: 0,
            removed: a2.len(),
            b_at: 0,
            inserted: b2.len(),
        }],
    };
    for h in &mut hunks {
        h.a_at += head;
        h.b_at += head;
    }
    hunks
}

/// Myers' forward search with the furthest-reaching paths of every step
/// kept for the backtrack; `None` past [`MAX_EDITS`].
fn myers(a: &[u64], b: &[u64]) -> Option<Vec<Hunk>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let limit = max.min(MAX_EDITS);
    let off = limit as isize + 1;
    let mut v = vec![0isize; 2 * limit + 3];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    for d in 0..=limit as isize {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let i = (k + off) as usize;
            let mut x = if k == -d || (k != d && v[i - 1] < v[i + 1]) {
                v[i + 1]
            } else {
                v[i - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[i] = x;
            if x >= n && y >= m {
                return Some(backtrack(&trace, d, off, n, m));
            }
            k += 2;
        }
    }
    None
}

/// Walks the kept paths back from (n, m) and groups the single edits into
/// hunks.
fn backtrack(trace: &[Vec<isize>], d_end: isize, off: isize, n: isize, m: isize) -> Vec<Hunk> {
    // (is_insert, a index, b index) per edit, collected backwards.
    let mut edits: Vec<(bool, usize, usize)> = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..=d_end).rev() {
        // The paths as they stood before step d.
        let v = &trace[d as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && v[(k - 1 + off) as usize] < v[(k + 1 + off) as usize])
        {
            k + 1
        } else {
            k - 1
        };
        let prev_x = v[(prev_k + off) as usize];
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
        }
        if prev_k == k + 1 {
            // Down: an insertion of b[prev_y].
            edits.push((true, prev_x as usize, prev_y as usize));
        } else {
            // Right: a removal of a[prev_x].
            edits.push((false, prev_x as usize, prev_y as usize));
        }
        x = prev_x;
        y = prev_y;
    }
    edits.reverse();
    let mut hunks: Vec<Hunk> = Vec::new();
    for (insert, ax, by) in edits {
        if let Some(h) = hunks.last_mut() {
            if h.a_at + h.removed == ax && h.b_at + h.inserted == by {
                if insert {
                    h.inserted += 1;
                } else {
                    h.removed += 1;
                }
                continue;
            }
        }
        hunks.push(Hunk {
            a_at: ax,
            removed: usize::from(!insert),
            b_at: by,
            inserted: usize::from(insert),
        });
    }
    hunks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the hunks to `a` and checks the result is `b`.
    fn apply(a: &[u64], b: &[u64], hunks: &[Hunk]) -> Vec<u64> {
        let mut out = Vec::new();
        let mut i = 0;
        for h in hunks {
            out.extend_from_slice(&a[i..h.a_at]);
            out.extend_from_slice(&b[h.b_at..h.b_at + h.inserted]);
            i = h.a_at + h.removed;
        }
        out.extend_from_slice(&a[i..]);
        out
    }

    #[test]
    fn shortest_scripts() {
        let cases: &[(&[u64], &[u64], usize)] = &[
            (&[1, 2, 3], &[1, 2, 3], 0),
            (&[1, 2, 3], &[0, 1, 2, 3], 1),
            (&[1, 2, 3], &[1, 2], 1),
            (&[1, 2, 3, 4, 5], &[1, 9, 3, 4, 5], 2),
            (&[1, 2, 3, 4, 5, 6], &[2, 3, 7, 5, 6, 8], 4),
            (&[], &[1, 2], 2),
            (&[1, 2], &[], 2),
            (&[1, 2, 3, 1, 2, 3], &[3, 1, 2, 3, 1], 3),
        ];
        for (a, b, edits) in cases {
            let h = diff(a, b);
            assert_eq!(apply(a, b, &h), b.to_vec(), "{a:?} -> {b:?}: {h:?}");
            let n: usize = h.iter().map(|h| h.removed + h.inserted).sum();
            assert_eq!(n, *edits, "{a:?} -> {b:?}: {h:?}");
        }
    }

    #[test]
    fn random_lists_round_trip() {
        let mut s = 0x1234_5678_9abc_def1u64;
        let mut r = |n: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % n
        };
        for _ in 0..300 {
            let a: Vec<u64> = (0..r(60)).map(|_| r(5)).collect();
            let mut b = a.clone();
            for _ in 0..r(8) {
                match r(3) {
                    0 if !b.is_empty() => {
                        let i = r(b.len() as u64) as usize;
                        b.remove(i);
                    }
                    1 => {
                        let i = r(b.len() as u64 + 1) as usize;
                        b.insert(i, r(5));
                    }
                    _ if !b.is_empty() => {
                        let i = r(b.len() as u64) as usize;
                        b[i] = r(5);
                    }
                    _ => {}
                }
            }
            let h = diff(&a, &b);
            assert_eq!(apply(&a, &b, &h), b);
        }
    }

    #[test]
    fn past_the_limit_one_replacement() {
        let a: Vec<u64> = (0..5000).collect();
        let b: Vec<u64> = (10_000..15_000).collect();
        let h = diff(&a, &b);
        assert_eq!(h.len(), 1);
        assert_eq!(apply(&a, &b, &h), b);
    }
}
