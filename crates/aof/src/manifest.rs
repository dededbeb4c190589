//! The manifest of a multi-part AOF (Redis 7.0+, Valkey; docs/format.md#aof-manifest):
//! which files make up the AOF, of which type, in which order.
//!
//! The rules are the server's (`aofLoadManifestFromFile`), applied the way
//! it applies them, so that a manifest we accept is one the server
//! accepts: lines are read as `fgets` reads them (at most 1024 bytes at a
//! time), `#` lines are comments, a line without its `\n` or an empty one
//! is an error, each line is split like `sdssplitargs` splits it, keys are
//! case-insensitive and unknown keys are ignored.

use std::fmt;

/// The longest manifest line (`MANIFEST_MAX_LINE`).
pub const MAX_LINE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The `type` of a manifest entry.
pub enum FileType {
    /// `b`: the base file, an RDB or commands from the last rewrite.
    Base,
    /// `h`: an old file waiting to be deleted; not loaded.
    History,
    /// `i`: commands since the base, loaded in manifest order.
    Incr,
}

impl FileType {
    /// The type's word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Base => "base",
            FileType::History => "history",
            FileType::Incr => "incr",
        }
    }
}

/// One line of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A bare file name, relative to the manifest's directory.
    pub name: Vec<u8>,
    /// The `seq` number (non-zero).
    pub seq: i64,
    /// The `type`.
    pub file_type: FileType,
    /// 1-based line number.
    pub line: usize,
}

impl Entry {
    /// The name for messages and paths (lossy for non-UTF-8 names).
    pub fn name_str(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<Entry>,
    /// HISTORY files, in manifest order.
    pub history: Vec<Entry>,
    /// In manifest order (strictly increasing `seq`).
    pub incrs: Vec<Entry>,
}

impl Manifest {
    /// The files the server loads, in the order it loads them: the base,
    /// then every INCR file. HISTORY files are not loaded.
    pub fn load_order(&self) -> impl Iterator<Item = &Entry> {
        self.base.iter().chain(self.incrs.iter())
    }
}

/// Why a manifest was refused: the line, its text, the server's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line number; 0 for the whole file (an empty manifest).
    pub line: usize,
    /// The line as read, when there is one.
    pub text: Option<String>,
    /// What the server would say.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.text {
            Some(t) if self.line > 0 => {
                write!(
                    f,
                    "manifest line {}: {} (>>> '{}')",
                    self.line, self.message, t
                )
            }
            _ => write!(f, "manifest: {}", self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

/// Whether `data` looks like a manifest, by `redis-check-aof`'s rule: the
/// first line that is not a `#` comment starts with `file`.
pub fn looks_like_manifest(data: &[u8]) -> bool {
    for line in Lines::new(data) {
        if line.first() == Some(&b'#') {
            continue;
        }
        return line.starts_with(b"file");
    }
    false
}

/// Parses a manifest.
pub fn parse(data: &[u8]) -> Result<Manifest, ManifestError> {
    let mut m = Manifest::default();
    let mut max_incr_seq = 0i64;
    let mut linenum = 0;
    for raw in Lines::new(data) {
        linenum += 1;
        if raw.first() == Some(&b'#') {
            continue;
        }
        // The server works on C strings: a NUL ends the line early.
        let upto_nul = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        let text = || {
            Some(
                String::from_utf8_lossy(&raw[..upto_nul])
                    .trim_end()
                    .to_string(),
            )
        };
        let err = |message: &str| ManifestError {
            line: linenum,
            text: text(),
            message: message.to_string(),
        };
        // `strchr(buf, '\n')`: it stops at a NUL too.
        if !raw[..upto_nul].contains(&b'\n') {
            return Err(err(if upto_nul < raw.len() {
                "a NUL byte in the line"
            } else if raw.len() >= MAX_LINE {
                "the line is longer than 1024 bytes"
            } else {
                "the last line has no line end ('\\n')"
            }));
        }
        let line = trim(&raw[..upto_nul]);
        if line.is_empty() {
            return Err(err("empty line (the server refuses empty or blank lines)"));
        }
        let Some(tokens) = split_args(line) else {
            return Err(err(
                "unbalanced quotes, or a closing quote not followed by a space",
            ));
        };
        if tokens.len() < 6 || tokens.len() % 2 != 0 {
            return Err(err(&format!(
                "expected key/value pairs 'file <name> seq <n> type <b|h|i>', found {} token(s)",
                tokens.len()
            )));
        }
        let (mut name, mut seq, mut file_type) = (None, 0i64, 0u8);
        for kv in tokens.chunks(2) {
            let (k, v) = (&kv[0], &kv[1]);
            if k.eq_ignore_ascii_case(b"file") {
                if v.contains(&b'/') || v.contains(&b'\\') {
                    return Err(err("the file must be a bare file name, not a path"));
                }
                name = Some(v.clone());
            } else if k.eq_ignore_ascii_case(b"seq") {
                seq = atoll(v);
            } else if k.eq_ignore_ascii_case(b"type") {
                file_type = v.first().copied().unwrap_or(0);
            }
            // Other keys: ignored, for forward compatibility.
        }
        let Some(name) = name else {
            return Err(err("no 'file' key"));
        };
        if seq == 0 {
            return Err(err("missing or zero 'seq'"));
        }
        let file_type = match file_type {
            b'b' => FileType::Base,
            b'h' => FileType::History,
            b'i' => FileType::Incr,
            0 => return Err(err("missing 'type'")),
            _ => return Err(err("unknown file type (expected b, h or i)")),
        };
        let entry = Entry {
            name,
            seq,
            file_type,
            line: linenum,
        };
        match file_type {
            FileType::Base if m.base.is_some() => {
                return Err(err("a second base file (there can be one at most)"))
            }
            FileType::Base => m.base = Some(entry),
            FileType::History => m.history.push(entry),
            FileType::Incr => {
                if seq <= max_incr_seq {
                    return Err(err(
                        "incr sequence numbers must increase strictly from line to line",
                    ));
                }
                max_incr_seq = seq;
                m.incrs.push(entry);
            }
        }
    }
    if linenum == 0 {
        return Err(ManifestError {
            line: 0,
            text: None,
            message: "the manifest is empty (the server refuses to start)".into(),
        });
    }
    Ok(m)
}

/// Lines as `fgets(buf, MAX_LINE + 1)` returns them: through the next
/// `\n`, or `MAX_LINE` bytes, or to the end.
struct Lines<'a> {
    data: &'a [u8],
}

impl<'a> Lines<'a> {
    fn new(data: &'a [u8]) -> Lines<'a> {
        Lines { data }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.data.is_empty() {
            return None;
        }
        let window = &self.data[..self.data.len().min(MAX_LINE)];
        let len = window
            .iter()
            .position(|&b| b == b'\n')
            .map_or(window.len(), |i| i + 1);
        let (line, rest) = self.data.split_at(len);
        self.data = rest;
        Some(line)
    }
}

/// `sdstrim(line, " \t\r\n")`.
fn trim(mut s: &[u8]) -> &[u8] {
    let strip = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    while s.first().is_some_and(strip) {
        s = &s[1..];
    }
    while s.last().is_some_and(strip) {
        s = &s[..s.len() - 1];
    }
    s
}

/// C's `isspace` in the "C" locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits a line as `sdssplitargs` does: blanks separate tokens; `"..."`
/// understands `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<any>`; `'...'`
/// understands only `\'`; a closing quote must be followed by a blank or
/// the end. `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut p = 0;
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == b'\\' && at(p + 1) == b'x' && is_hex(at(p + 2)) && is_hex(at(p + 3)) {
                    cur.push(hex(at(p + 2)) * 16 + hex(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        out.push(cur);
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// C's `atoll`: blanks, a sign, digits; stops at anything else; 0 if none.
fn atoll(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
        i += 1;
    }
    if neg {
        n.saturating_neg()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_redis_writes() {
        let m = parse(
            b"file appendonly.aof.2.base.rdb seq 2 type b\n\
              file appendonly.aof.1.incr.aof seq 1 type h\n\
              file appendonly.aof.2.incr.aof seq 2 type i\n\
              file appendonly.aof.3.incr.aof seq 3 type i\n",
        )
        .unwrap();
        let order: Vec<String> = m.load_order().map(Entry::name_str).collect();
        assert_eq!(
            order,
            [
                "appendonly.aof.2.base.rdb",
                "appendonly.aof.2.incr.aof",
                "appendonly.aof.3.incr.aof"
            ]
        );
        assert_eq!(m.history.len(), 1);
    }

    #[test]
    fn quoting_comments_and_unknown_keys() {
        let m = parse(
            b"# a comment\nfile \"my file\\x41.aof\" seq 1 type i future 'x y'\nFILE b seq 5 TYPE incr\n",
        )
        .unwrap();
        assert_eq!(m.incrs[0].name, b"my fileA.aof");
        assert_eq!(m.incrs[1].seq, 5);
        assert_eq!(m.incrs[1].line, 3);
    }

    #[test]
    fn the_servers_errors() {
        let bad: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"file a seq 1 type i", "no line end"),
            (b"file a seq 1 type i\n\n", "empty line"),
            (b"file a seq 1 type i\n   \n", "empty line"),
            (b"file a seq 1\n", "token"),
            (b"file a seq 1 type i x\n", "token"),
            (b"file a/b seq 1 type i\n", "path"),
            (b"file a seq 0 type i\n", "zero"),
            (b"file a seq x type i\n", "zero"),
            (b"file a seq 1 type z\n", "unknown file type"),
            (b"file a seq 1 type b\nfile b seq 2 type b\n", "second base"),
            (b"file a seq 2 type i\nfile b seq 2 type i\n", "increase"),
            (b"file a seq -1 type i\n", "increase"),
            (b"file \"a seq 1 type i\n", "quotes"),
            (b"file \"a\"b seq 1 type i\n", "quotes"),
            (b"seq 1 type i x y\n", "no 'file'"),
        ];
        for (text, want) in bad {
            let e = parse(text).unwrap_err();
            assert!(
                e.message.contains(want),
                "{:?}: {e}",
                String::from_utf8_lossy(text)
            );
        }
        let long = [b"file a seq 1 type i ".as_slice(), &[b'x'; 1100], b"\n"].concat();
        assert!(parse(&long).unwrap_err().message.contains("longer"));
        // A negative base seq is accepted (atoll, non-zero).
        assert!(parse(b"file a seq -3 type b\n").is_ok());
        // Comments only: accepted, no files.
        assert_eq!(parse(b"# nothing\n").unwrap(), Manifest::default());
    }

    #[test]
    fn detection() {
        assert!(looks_like_manifest(b"# c\nfile x seq 1 type i\n"));
        assert!(!looks_like_manifest(b"this is not a manifest line\n"));
        assert!(!looks_like_manifest(b"*1\r\n$4\r\nPING\r\n"));
        assert!(!looks_like_manifest(b""));
    }
}
