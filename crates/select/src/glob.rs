//! Redis glob patterns (`stringmatchlen` in `util.c`), as `KEYS` and
//! `SCAN MATCH` use them: `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes.
//! Byte-wise, binary-safe, no recursion: `*` is handled by remembering the
//! last star and backtracking to it, which is linear per star.

/// A compiled-once pattern (just the bytes; matching needs no preparation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: Vec<u8>,
}

impl Glob {
    /// A pattern from its bytes (any bytes: keys are binary).
    pub fn new(pattern: impl Into<Vec<u8>>) -> Glob {
        Glob {
            pattern: pattern.into(),
        }
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &[u8] {
        &self.pattern
    }

    /// Whether `s` matches the whole pattern.
    #[inline]
    pub fn matches(&self, s: &[u8]) -> bool {
        glob_match(&self.pattern, s, false)
    }

    /// The pattern has no special character (`*`, `?`, `[`, `\\`), so it
    /// matches exactly one key: itself.
    pub fn is_literal(&self) -> bool {
        !self
            .pattern
            .iter()
            .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
    }
}

/// Matches one non-star pattern item at `p` against byte `c`; returns the
/// pattern position after the item, or None when it does not match.
fn match_one(pat: &[u8], mut p: usize, c: u8, nocase: bool) -> Option<usize> {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    match pat[p] {
        b'?' => Some(p + 1),
        b'[' => {
            p += 1;
            let not = pat.get(p) == Some(&b'^');
            if not {
                p += 1;
            }
            let mut hit = false;
            loop {
                match pat.get(p) {
                    None => {
                        // Unterminated class: Redis stops at the end.
                        break;
                    }
                    Some(b'\\') if p + 1 < pat.len() => {
                        p += 1;
                        if eq(pat[p], c) {
                            hit = true;
                        }
                        p += 1;
                    }
                    Some(b']') => {
                        p += 1;
                        break;
                    }
                    Some(_) if pat.get(p + 1) == Some(&b'-') && p + 2 < pat.len() => {
                        let (mut lo, mut hi) = (pat[p], pat[p + 2]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let (cc, lo, hi) = if nocase {
                            (
                                c.to_ascii_lowercase(),
                                lo.to_ascii_lowercase(),
                                hi.to_ascii_lowercase(),
                            )
                        } else {
                            (c, lo, hi)
                        };
                        if cc >= lo && cc <= hi {
                            hit = true;
                        }
                        p += 3;
                    }
                    Some(&x) => {
                        if eq(x, c) {
                            hit = true;
                        }
                        p += 1;
                    }
                }
            }
            (hit != not).then_some(p)
        }
        b'\\' if p + 1 < pat.len() => eq(pat[p + 1], c).then_some(p + 2),
        x => eq(x, c).then_some(p + 1),
    }
}

/// Whether `s` matches `pat` (ASCII case-insensitively when `nocase`).
pub fn glob_match(pat: &[u8], s: &[u8], nocase: bool) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern pos after it, string pos).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pat.len() && pat[p] == b'*' {
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
            if p == pat.len() {
                return true;
            }
            star = Some((p, i));
            continue;
        }
        if i == s.len() {
            return p == pat.len();
        }
        if p < pat.len() {
            if let Some(np) = match_one(pat, p, s[i], nocase) {
                p = np;
                i += 1;
                continue;
            }
        }
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn redis_glob_semantics() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("user:*:name", "user:42:name"));
        assert!(!m("user:*:name", "user:42:email"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("s:*", "s:"));
        assert!(!m("", "x"));
        assert!(m("", ""));
    }

    #[test]
    fn no_blowup_on_many_stars() {
        let pat = "*a".repeat(30) + "b";
        let s = "a".repeat(5000);
        assert!(!m(&pat, &s));
    }
}
