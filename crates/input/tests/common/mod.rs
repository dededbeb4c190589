//! What the input tests share: encoders for every format (the same crates'
//! encoders as the decoders), a corpus sample, and readers that behave like
//! pipes.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::path::PathBuf;

/// A format to test, with how to make it. `GzipTwoMembers` is the gzip
/// `cat a.gz b.gz` gives; `Zstd` writes a content checksum, `Lz4` both
/// block and content checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Gzip,
    GzipTwoMembers,
    Bzip2,
    Zstd,
    Lz4,
}

pub const VARIANTS: [Variant; 5] = [
    Variant::Gzip,
    Variant::GzipTwoMembers,
    Variant::Bzip2,
    Variant::Zstd,
    Variant::Lz4,
];

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Gzip | Variant::GzipTwoMembers => "gzip",
            Variant::Bzip2 => "bzip2",
            Variant::Zstd => "zstd",
            Variant::Lz4 => "lz4",
        }
    }

    pub fn compress(self, plain: &[u8]) -> Vec<u8> {
        match self {
            Variant::Gzip => gzip(plain),
            Variant::GzipTwoMembers => {
                let half = plain.len() / 2;
                let mut out = gzip(&plain[..half]);
                out.extend_from_slice(&gzip(&plain[half..]));
                out
            }
            Variant::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(plain).unwrap();
                e.finish().unwrap()
            }
            Variant::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
                e.include_checksum(true).unwrap();
                e.write_all(plain).unwrap();
                e.finish().unwrap()
            }
            Variant::Lz4 => {
                let info = lz4_flex::frame::FrameInfo::new()
                    .content_checksum(true)
                    .block_checksums(true);
                let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
                e.write_all(plain).unwrap();
                e.finish().unwrap()
            }
        }
    }
}

pub fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

/// About 20 corpus RDB files across every server directory (every
/// `step`-th of the sorted list), or `None` when there is no corpus.
pub fn corpus_sample(test: &str) -> Option<Vec<PathBuf>> {
    let corpus = rdbscope_testkit::corpus(test)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("rdb"))
        .unwrap()
        .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdb"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .rdb files in the corpus");
    let step = (files.len() / 20).max(1);
    Some(files.into_iter().step_by(step).collect())
}

/// A reader that hands out at most `chunk` bytes per read, cycling
/// through sizes 1..=chunk, and cannot seek: what a slow pipe does.
pub struct Trickle {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    next: usize,
}

impl Trickle {
    pub fn new(data: Vec<u8>, chunk: usize) -> Trickle {
        Trickle {
            data,
            pos: 0,
            chunk,
            next: 1,
        }
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.next.min(buf.len()).min(self.data.len() - self.pos);
        self.next = self.next % self.chunk + 1;
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads a whole [`rdbscope_input::Input`], mapped or streamed.
pub fn read_all(input: rdbscope_input::Input) -> io::Result<Vec<u8>> {
    match input.into_source() {
        rdbscope_input::Source::Mapped(m) => Ok(m.bytes().to_vec()),
        rdbscope_input::Source::Stream(mut s) => {
            let mut out = Vec::new();
            s.read_to_end(&mut out)?;
            Ok(out)
        }
    }
}
