//! A damaged compressed input fails in the compression layer, with an
//! error that names the format and the compressed offset, or says it was
//! truncated and where; each format's own checksum is verified.

mod common;

use std::io::{self, Read};

use common::{Trickle, Variant, VARIANTS};
use rdbscope_input::{Input, Source};

/// Some content that compresses, large enough for several lz4 and bzip2
/// blocks with `fast` settings.
fn content() -> Vec<u8> {
    let mut out = b"REDIS0011".to_vec();
    let mut x = 12345u32;
    while out.len() < 1_500_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.extend_from_slice(format!("key:{} value:{}\n", x % 5000, x >> 8).as_bytes());
    }
    out
}

/// Reads `packed` whole, from memory and through a pipe-like reader, and
/// returns the error (the same both ways).
fn error_of(packed: &[u8]) -> io::Error {
    let mut errors = Vec::new();
    for input in [
        Input::from_vec(packed.to_vec(), "<memory>"),
        Input::from_reader(Trickle::new(packed.to_vec(), 5000), "<pipe>").unwrap(),
    ] {
        let Source::Stream(mut stream) = input.into_source() else {
            panic!("compressed input is a stream");
        };
        let mut sink = Vec::new();
        let e = stream
            .read_to_end(&mut sink)
            .expect_err("damaged input must fail");
        // Every later read repeats the error.
        let again = stream.read(&mut [0u8; 16]).expect_err("error is final");
        assert_eq!(again.to_string(), e.to_string());
        errors.push(e);
    }
    // The same error either way; the offset may differ by what each
    // decoder had buffered when it failed.
    let what = |e: &io::Error| {
        e.to_string()
            .split(" at compressed offset")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(what(&errors[0]), what(&errors[1]));
    errors.remove(0)
}

/// The offset quoted in "... at compressed offset N".
fn offset_in(message: &str) -> u64 {
    let (_, n) = message
        .rsplit_once("at compressed offset ")
        .unwrap_or_else(|| panic!("no offset in {message:?}"));
    n.parse()
        .unwrap_or_else(|_| panic!("bad offset in {message:?}"))
}

#[test]
fn truncated_streams_say_so_and_where_they_ended() {
    let plain = content();
    for variant in VARIANTS {
        let packed = variant.compress(&plain);
        for cut in [
            4,
            20,
            packed.len() / 3,
            packed.len() / 2 + 1,
            packed.len() - 1,
        ] {
            let e = error_of(&packed[..cut]);
            assert_eq!(
                e.kind(),
                io::ErrorKind::UnexpectedEof,
                "{variant:?} cut at {cut}: {e}"
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "truncated {} stream (ended after {cut} compressed bytes)",
                    variant.name()
                ),
                "{variant:?} cut at {cut}"
            );
        }
    }
}

#[test]
fn a_corrupt_header_names_the_format_and_offset() {
    let plain = content();
    for variant in VARIANTS {
        let mut packed = variant.compress(&plain);
        // Byte 4: gzip's flags/mtime (flags with reserved bits set is
        // refused), bzip2's first block magic, zstd's frame descriptor,
        // lz4's FLG byte.
        let at = match variant {
            Variant::Gzip | Variant::GzipTwoMembers => 3,
            _ => 4,
        };
        packed[at] ^= 0xe0;
        let e = error_of(&packed);
        let msg = e.to_string();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{variant:?}: {msg}");
        assert!(
            msg.starts_with(&format!("{}: ", variant.name())),
            "{variant:?}: {msg}"
        );
        assert!(offset_in(&msg) <= packed.len() as u64, "{variant:?}: {msg}");
    }
}

#[test]
fn garbage_after_the_first_gzip_member_is_caught_at_its_offset() {
    let plain = content();
    let first = common::gzip(&plain);
    let mut packed = first.clone();
    packed.extend_from_slice(b"this is no gzip member");
    let msg = error_of(&packed).to_string();
    assert!(msg.starts_with("gzip: "), "{msg}");
    let at = offset_in(&msg);
    assert!(
        at >= first.len() as u64 && at <= packed.len() as u64,
        "{msg}: member ends at {}",
        first.len()
    );
}

#[test]
fn corruption_in_the_middle_is_caught() {
    let plain = content();
    for variant in VARIANTS {
        let packed = variant.compress(&plain);
        for at in [packed.len() / 3, packed.len() / 2, packed.len() * 3 / 4] {
            let mut bad = packed.clone();
            bad[at] ^= 0x55;
            let msg = error_of(&bad).to_string();
            assert!(
                msg.starts_with(&format!("{}: ", variant.name())),
                "{variant:?} flip at {at}: {msg}"
            );
            assert!(msg.contains(" at compressed offset "), "{msg}");
        }
    }
}

#[test]
fn each_formats_trailer_checksum_is_verified() {
    let plain = content();
    // (variant, offsets from the end of the stream to flip, what is hit)
    let cases: [(Variant, &[usize]); 5] = [
        // gzip: CRC-32 then ISIZE, 4 bytes each.
        (Variant::Gzip, &[8, 5, 4, 1]),
        (Variant::GzipTwoMembers, &[8, 1]),
        // bzip2: the stream's combined CRC ends in the last byte (before
        // at most 7 padding bits).
        (Variant::Bzip2, &[1, 2]),
        // zstd and lz4: the 4-byte content checksum ends the frame.
        (Variant::Zstd, &[4, 1]),
        (Variant::Lz4, &[4, 1]),
    ];
    for (variant, from_end) in cases {
        let packed = variant.compress(&plain);
        for &back in from_end {
            let mut bad = packed.clone();
            let at = bad.len() - back;
            bad[at] ^= 0xff;
            let msg = error_of(&bad).to_string();
            assert!(
                msg.starts_with(&format!("{}: ", variant.name())),
                "{variant:?} flip at end-{back}: {msg}"
            );
            let said = match variant {
                Variant::Gzip | Variant::GzipTwoMembers => "checksum mismatch",
                Variant::Bzip2 => "",
                Variant::Zstd => "checksum",
                Variant::Lz4 => "content checksum mismatch",
            };
            assert!(msg.contains(said), "{variant:?} flip at end-{back}: {msg}");
        }
    }
}

#[test]
fn bzip2_block_crc_is_verified() {
    let plain = content();
    let mut packed = Variant::Bzip2.compress(&plain);
    // "BZh1", then the first block: 6-byte magic 31 41 59 26 53 59 and its
    // 4-byte CRC at offsets 10..14.
    assert_eq!(packed[4..10], [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);
    packed[12] ^= 0x01;
    let msg = error_of(&packed).to_string();
    assert!(msg.starts_with("bzip2: "), "{msg}");
}

#[test]
fn lz4_block_checksum_is_verified() {
    let plain = content();
    let packed = Variant::Lz4.compress(&plain);
    // Header: magic, FLG, BD, HC (7 bytes); then the first block's size
    // (4 bytes), data and its 4-byte checksum.
    let size = u32::from_le_bytes(packed[7..11].try_into().unwrap()) & 0x7fff_ffff;
    let checksum_at = 11 + size as usize;
    let mut bad = packed.clone();
    bad[checksum_at] ^= 0x01;
    let msg = error_of(&bad).to_string();
    assert!(msg.starts_with("lz4: "), "{msg}");
    assert!(offset_in(&msg) <= checksum_at as u64 + 4, "{msg}");
}
