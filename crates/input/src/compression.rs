//! Compression formats: detection by magic number, and the decoders that
//! turn a compressed raw stream back into the file's bytes.
//!
//! Every decoder here verifies the format's own integrity check as it goes,
//! so a damaged backup is reported by the compression layer before the
//! content is even looked at: gzip's CRC-32 and ISIZE trailer of every
//! member, bzip2's per-block and per-stream CRCs, zstd's content checksum
//! (when the frame has one; `zstd` writes it by default), and lz4's block
//! and content checksums (when the frame has them).
//!
//! Errors are rewritten to say which layer failed and where: a corrupt
//! stream gives `gzip: corrupt deflate stream at compressed offset N`, a
//! cut-off one `truncated gzip stream (ended after N compressed bytes)`.
//! The offset is the number of compressed bytes the decoder had used when
//! it failed (see [`raw`](crate::raw)): exact to the decoder's step, which
//! is the byte for the stream formats and the block for lz4 and bzip2.

use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::raw::{Progress, RawReader, RAW_BUFFER};

/// A compression format the input layer decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// gzip (RFC 1952), any number of concatenated members.
    Gzip,
    /// bzip2, any number of concatenated streams.
    Bzip2,
    /// Zstandard, any number of frames, skippable frames included.
    Zstd,
    /// The LZ4 frame format (what the `lz4` tool writes by default).
    Lz4,
}

impl Compression {
    /// Every format, in the order detection tries them.
    pub const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Bzip2,
        Compression::Zstd,
        Compression::Lz4,
    ];

    /// The format's usual name, as in messages: `gzip`, `bzip2`, `zstd`,
    /// `lz4`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
        }
    }

    /// The usual file name extension, without the dot: `gz`, `bz2`,
    /// `zst`, `lz4`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Gzip => "gz",
            Compression::Bzip2 => "bz2",
            Compression::Zstd => "zst",
            Compression::Lz4 => "lz4",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BZIP2_MAGIC: [u8; 3] = *b"BZh";
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
/// The lz4 tool's older format (`lz4 -l`), which lz4_flex also decodes.
const LZ4_LEGACY_MAGIC: [u8; 4] = [0x02, 0x21, 0x4c, 0x18];

/// Bytes to peek before [`sniff`] can decide in the common case.
pub(crate) const SNIFF_BYTES: usize = 4;

/// What the first bytes say.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// Decided: compressed in this format, or not compressed.
    Known(Option<Compression>),
    /// Show me at least this many bytes (fewer means the input ends there).
    NeedMore(usize),
}

/// Detects the compression of an input from its first bytes. `head` holds
/// the first bytes, or the whole input if it is shorter than asked for.
pub(crate) fn sniff(head: &[u8]) -> Sniff {
    if head.starts_with(&GZIP_MAGIC) {
        return Sniff::Known(Some(Compression::Gzip));
    }
    // "BZh" then the block size digit '1'..'9'.
    if head.len() >= 4 && head.starts_with(&BZIP2_MAGIC) && (b'1'..=b'9').contains(&head[3]) {
        return Sniff::Known(Some(Compression::Bzip2));
    }
    if head.starts_with(&ZSTD_MAGIC) {
        return Sniff::Known(Some(Compression::Zstd));
    }
    if head.starts_with(&LZ4_MAGIC) || head.starts_with(&LZ4_LEGACY_MAGIC) {
        return Sniff::Known(Some(Compression::Lz4));
    }
    if head.len() < SNIFF_BYTES {
        // Too short to be anything but a prefix of a magic number: only
        // ask again while the input may still have more.
        return Sniff::NeedMore(SNIFF_BYTES);
    }
    if is_skippable(head) {
        // Magic 0x184D2A50..5F, then a 4-byte length: a skippable frame,
        // which zstd and lz4 share. The frame after it tells them apart.
        if head.len() < 8 {
            return Sniff::NeedMore(8);
        }
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let next = 8usize.saturating_add(len);
        if next.saturating_add(4) <= RAW_BUFFER {
            if head.len() < next + 4 {
                return Sniff::NeedMore(next + 4);
            }
            if head[next..].starts_with(&LZ4_MAGIC) {
                return Sniff::Known(Some(Compression::Lz4));
            }
        }
        // zstd is by far the more common user of skippable frames (seekable
        // archives, pzstd); a longer skippable frame is assumed to be zstd.
        return Sniff::Known(Some(Compression::Zstd));
    }
    Sniff::Known(None)
}

fn is_skippable(head: &[u8]) -> bool {
    head.len() >= 4 && (head[0] & 0xf0) == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

/// Peeks at `raw` until [`sniff`] decides. Nothing is consumed.
pub(crate) fn detect(raw: &mut RawReader) -> io::Result<Option<Compression>> {
    let mut want = SNIFF_BYTES;
    loop {
        let head = raw.peek(want)?;
        match sniff(head) {
            Sniff::Known(found) => return Ok(found),
            Sniff::NeedMore(n) => {
                let next = n.min(RAW_BUFFER);
                // Fewer bytes than asked for means the input ends there.
                if head.len() < want || next <= want {
                    return Ok(sniff_final(head));
                }
                want = next;
            }
        }
    }
}

/// The decision once no more bytes can be had.
pub(crate) fn sniff_final(head: &[u8]) -> Option<Compression> {
    if is_skippable(head) {
        Some(Compression::Zstd)
    } else {
        None
    }
}

/// A decoder of `compression` over `raw`, with its errors rewritten to
/// name the format and the compressed offset.
pub(crate) fn decoder(
    compression: Compression,
    raw: RawReader,
) -> io::Result<Box<dyn Read + Send>> {
    let progress = raw.progress().clone();
    let ended_after_magic = Arc::new(AtomicBool::new(false));
    let at_frame_start = Arc::new(AtomicBool::new(true));
    let inner: Box<dyn Read + Send> = match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(raw)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(raw)?),
        Compression::Lz4 => {
            let tail = Lz4Tail {
                inner: raw,
                last: [0; 4],
                at_frame_start: at_frame_start.clone(),
                ended_after_magic: ended_after_magic.clone(),
            };
            Box::new(lz4_flex::frame::FrameDecoder::new(tail))
        }
    };
    Ok(Box::new(Decoded {
        inner,
        compression,
        progress,
        ended_after_magic,
        at_frame_start,
        failed: None,
    }))
}

/// A decoder whose errors say which format failed, and where.
struct Decoded {
    inner: Box<dyn Read + Send>,
    compression: Compression,
    progress: Progress,
    /// Set by [`Lz4Tail`]: the input ended right after a frame's magic.
    ended_after_magic: Arc<AtomicBool>,
    /// Tells [`Lz4Tail`] that an lz4 frame has just ended.
    at_frame_start: Arc<AtomicBool>,
    /// The first error, repeated to every later read: a decoder is not
    /// asked to carry on after it failed.
    failed: Option<(io::ErrorKind, String)>,
}

impl Read for Decoded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, msg)) = &self.failed {
            return Err(io::Error::new(*kind, msg.clone()));
        }
        let result = match self.compression {
            Compression::Lz4 => self.read_lz4(buf),
            _ => self.inner.read(buf),
        };
        match result {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            // The source itself failed (a disk or pipe error): that is not
            // the compressed data's fault, so it goes up unchanged.
            Err(e) if self.progress.source_failed() => Err(e),
            Err(e) => {
                let name = self.compression.name();
                let at = match self.compression {
                    // These consume what they decoded before reporting an
                    // error, so the count is where decoding stopped.
                    Compression::Gzip | Compression::Bzip2 | Compression::Lz4 => {
                        self.progress.bytes_read()
                    }
                    // zstd's reader does not consume the input it failed
                    // on: count it, as the error lies before its end.
                    Compression::Zstd => self.progress.bytes_seen(),
                };
                let (kind, msg) = if e.kind() == io::ErrorKind::UnexpectedEof {
                    (
                        io::ErrorKind::UnexpectedEof,
                        format!("truncated {name} stream (ended after {at} compressed bytes)"),
                    )
                } else {
                    (
                        io::ErrorKind::InvalidData,
                        format!(
                            "{name}: {} at compressed offset {at}",
                            describe_error(&e, name)
                        ),
                    )
                };
                self.failed = Some((kind, msg.clone()));
                Err(io::Error::new(kind, msg))
            }
        }
    }
}

/// Watches the raw bytes going into lz4_flex's decoder for one case it
/// takes for a clean end: the input stopping right after a frame's magic
/// number (it treats a missing frame header like a missing frame). The last
/// four bytes before the end are then a magic number. A complete stream
/// ends with an end mark (four zero bytes) or a content checksum, which
/// equals a magic number once in 2^32 frames.
///
/// It also skips skippable frames before each frame, which the lz4 tool
/// reads past but lz4_flex reports as an error.
struct Lz4Tail {
    inner: RawReader,
    last: [u8; 4],
    /// Set at the start and by [`Decoded::read_lz4`] after each frame.
    at_frame_start: Arc<AtomicBool>,
    ended_after_magic: Arc<AtomicBool>,
}

impl Lz4Tail {
    fn skip_skippable_frames(&mut self) -> io::Result<()> {
        loop {
            let head = self.inner.peek(8)?;
            if !is_skippable(head) {
                return Ok(());
            }
            if head.len() < 8 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let skip = 8 + u64::from(len);
            let skipped = io::copy(&mut (&mut self.inner).take(skip), &mut io::sink())?;
            if skipped < skip {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

impl Read for Lz4Tail {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at_frame_start.swap(false, Ordering::Relaxed) {
            self.skip_skippable_frames()?;
        }
        let n = self.inner.read(buf)?;
        if n >= 4 {
            self.last.copy_from_slice(&buf[n - 4..n]);
        } else if n > 0 {
            self.last.copy_within(n.., 0);
            self.last[4 - n..].copy_from_slice(&buf[..n]);
        } else if !buf.is_empty() && (self.last == LZ4_MAGIC || self.last == LZ4_LEGACY_MAGIC) {
            self.ended_after_magic.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl Decoded {
    /// lz4_flex's decoder returns 0 at the end of each frame, and starts
    /// the next frame if read again: the stream ends only when a read
    /// returns 0 without consuming any input.
    fn read_lz4(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let before = self.progress.bytes_read();
            let n = self.inner.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if self.ended_after_magic.load(Ordering::Relaxed) {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if self.progress.bytes_read() == before {
                return Ok(0);
            }
            self.at_frame_start.store(true, Ordering::Relaxed);
        }
    }
}

/// The decoder's own words for what went wrong, its first letter
/// lower-cased (unless it starts an acronym) to read well after `gzip: `.
fn describe_error(e: &io::Error, name: &str) -> String {
    if let Some(lz4) = e
        .get_ref()
        .and_then(|e| e.downcast_ref::<lz4_flex::frame::Error>())
    {
        return describe_lz4_error(lz4);
    }
    let text = e.to_string();
    if text == "corrupt gzip stream does not have a matching checksum" {
        // flate2's words for a failed trailer check.
        return "checksum mismatch (the member's CRC-32 or size trailer does not match its data)"
            .to_string();
    }
    // Some decoders name themselves already ("bzip2: invalid data").
    let text = match text.strip_prefix(name).and_then(|t| t.strip_prefix(": ")) {
        Some(rest) => rest.to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), second)
            if first.is_uppercase() && !second.is_some_and(char::is_uppercase) =>
        {
            first.to_lowercase().chain(text.chars().skip(1)).collect()
        }
        _ => text,
    }
}

/// lz4_flex's errors display as their variant names; say them in words.
fn describe_lz4_error(e: &lz4_flex::frame::Error) -> String {
    use lz4_flex::frame::Error as E;
    match e {
        E::CompressionError(_) | E::DecompressionError(_) => "corrupt block data".into(),
        E::IoError(e) => e.to_string(),
        E::UnsupportedBlocksize(b) => format!("unsupported block size code {b}"),
        E::UnsupportedVersion(v) => format!("unsupported frame version {v}"),
        E::WrongMagicNumber => "not an lz4 frame (wrong magic number)".into(),
        E::ReservedBitsSet => "reserved bits set in the frame header".into(),
        E::InvalidBlockInfo => "invalid block header".into(),
        E::BlockTooBig => "block larger than the frame's block size".into(),
        E::HeaderChecksumError => "frame header checksum mismatch".into(),
        E::BlockChecksumError => "block checksum mismatch".into(),
        E::ContentChecksumError => "content checksum mismatch".into(),
        E::SkippableFrame(len) => {
            format!("a skippable frame ({len} bytes) after the first frame is not supported")
        }
        E::DictionaryNotSupported => "frames that need a dictionary are not supported".into(),
        E::ContentLengthError { expected, actual } => {
            format!("content size {actual} differs from the frame header's {expected}")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_magic() {
        assert_eq!(
            sniff(&[0x1f, 0x8b, 8, 0]),
            Sniff::Known(Some(Compression::Gzip))
        );
        assert_eq!(sniff(b"BZh9"), Sniff::Known(Some(Compression::Bzip2)));
        assert_eq!(sniff(b"BZh0"), Sniff::Known(None));
        assert_eq!(
            sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Sniff::Known(Some(Compression::Zstd))
        );
        assert_eq!(
            sniff(&[0x04, 0x22, 0x4d, 0x18]),
            Sniff::Known(Some(Compression::Lz4))
        );
        assert_eq!(sniff(b"REDIS0011"), Sniff::Known(None));
        assert_eq!(sniff(b"RE"), Sniff::NeedMore(4));
    }

    #[test]
    fn skippable_frame_is_told_apart_by_the_next_frame() {
        let mut lz4 = vec![0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9];
        assert_eq!(sniff(&lz4), Sniff::NeedMore(14));
        lz4.extend_from_slice(&LZ4_MAGIC);
        assert_eq!(sniff(&lz4), Sniff::Known(Some(Compression::Lz4)));
        let mut zstd = lz4[..10].to_vec();
        zstd.extend_from_slice(&ZSTD_MAGIC);
        assert_eq!(sniff(&zstd), Sniff::Known(Some(Compression::Zstd)));
    }

    #[test]
    fn error_text_reads_after_a_prefix() {
        let e = io::Error::other("Unknown frame descriptor");
        assert_eq!(describe_error(&e, "zstd"), "unknown frame descriptor");
        let e = io::Error::other("CRC mismatch");
        assert_eq!(describe_error(&e, "lz4"), "CRC mismatch");
        let e = io::Error::other("bzip2: invalid data");
        assert_eq!(describe_error(&e, "bzip2"), "invalid data");
    }
}
