//! What the first bytes of an input say it is.
//!
//! Two questions, two functions. [`classify_content`] answers the one the
//! engine asks of every (decompressed) input: is this an RDB file, an AOF,
//! an AOF manifest or our own JSON dump? [`describe_signature`] answers the
//! one a user asks when the answer was "none of those": then what is it?
//! It names the common formats people mistake for a backup (an archive, an
//! image, a compressor we do not decode, text) and shows the first bytes in
//! hex and ASCII, never raw.

use std::fmt::Write as _;

/// How many leading bytes to pass to [`describe_signature`] and
/// [`classify_content`] for every detection to work (tar's mark sits at
/// offset 257).
pub const SIGNATURE_BYTES: usize = 512;

/// What kind of content an input holds, from its first bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentKind {
    /// An RDB file: starts with `REDIS` or `VALKEY` (an AOF with an RDB
    /// preamble, and a multi-part AOF's base file, look the same).
    Rdb,
    /// An append-only file: starts with a RESP array (`*` and a digit).
    Aof,
    /// A multi-part AOF manifest: starts with a `file ` line.
    AofManifest,
    /// JSON or JSON Lines: `{` or `[` after optional whitespace.
    Json,
    /// No bytes at all.
    Empty,
    /// None of the above; the text is [`describe_signature`]'s.
    Unknown(String),
}

/// Classifies the first bytes of the content (after decompression). Pass
/// up to [`SIGNATURE_BYTES`] bytes, or all there are.
pub fn classify_content(head: &[u8]) -> ContentKind {
    if head.is_empty() {
        ContentKind::Empty
    } else if head.starts_with(b"REDIS") || head.starts_with(b"VALKEY") {
        ContentKind::Rdb
    } else if head.len() >= 2 && head[0] == b'*' && head[1].is_ascii_digit() {
        ContentKind::Aof
    } else if head.starts_with(b"file ") {
        ContentKind::AofManifest
    } else if starts_json(head) {
        ContentKind::Json
    } else {
        ContentKind::Unknown(describe_signature(head))
    }
}

fn starts_json(head: &[u8]) -> bool {
    matches!(
        head.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Says what a file that starts with `head` looks like, for an error
/// message about an unexpected signature: the kind of file it seems to be,
/// then its first 16 bytes in hex and ASCII, as in
/// `a PNG image (89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52 |.PNG........IHDR|)`.
/// Pass up to [`SIGNATURE_BYTES`] bytes, or all there are.
pub fn describe_signature(head: &[u8]) -> String {
    if head.is_empty() {
        return "empty (no bytes at all)".to_string();
    }
    format!(
        "{} ({})",
        looks_like(head),
        hex_ascii(&head[..head.len().min(16)])
    )
}

/// The kind of file `head` seems to start.
fn looks_like(head: &[u8]) -> &'static str {
    const TABLE: &[(&[u8], &str)] = &[
        (&[0x1f, 0x8b], "gzip-compressed data"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd-compressed data"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4-compressed data"),
        (
            &[0x02, 0x21, 0x4c, 0x18],
            "lz4 legacy-format data (not decoded: write it with lz4's default frame format)",
        ),
        (
            &[0xfd, b'7', b'z', b'X', b'Z', 0x00],
            "xz-compressed data (not decoded: pipe it through `xz -dc`)",
        ),
        (b"PK\x03\x04", "a zip archive"),
        (b"PK\x05\x06", "an empty zip archive"),
        (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "a 7z archive"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (&[0xff, 0xd8, 0xff], "a JPEG image"),
        (b"%PDF-", "a PDF document"),
        (b"\x7fELF", "an ELF executable or library"),
        (b"REDIS", "an RDB file"),
        (b"VALKEY", "an RDB file (Valkey)"),
    ];
    if let Some((_, what)) = TABLE.iter().find(|(magic, _)| head.starts_with(magic)) {
        return what;
    }
    if head.len() >= 4 && head[..3] == *b"BZh" && (b'1'..=b'9').contains(&head[3]) {
        return "bzip2-compressed data";
    }
    if head.len() >= 4 && (head[0] & 0xf0) == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18] {
        return "zstd or lz4 data (starts with a skippable frame)";
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return "a tar archive";
    }
    if head.iter().all(|&b| b == 0) {
        return "all zero bytes";
    }
    if head.len() >= 2 && head[0] == b'*' && head[1].is_ascii_digit() {
        return "an AOF (RESP commands)";
    }
    if head.starts_with(b"file ") {
        return "an AOF manifest";
    }
    if starts_json(head) {
        return "JSON";
    }
    if is_text(head) {
        return "text";
    }
    "unknown binary data"
}

/// Printable UTF-8 (tabs and line ends allowed). A character cut off at
/// the end of `head` does not count against it.
fn is_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            // Only an incomplete character at the very end.
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// `bytes` as lower-case hex pairs, then `|ASCII|` with `.` for anything
/// not printable ASCII.
fn hex_ascii(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 + 2);
    for b in bytes {
        let _ = write!(out, "{b:02x} ");
    }
    out.push('|');
    out.extend(bytes.iter().map(|&b| {
        if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        }
    }));
    out.push('|');
    out
}
