//! What an unexpected file is said to look like, and how content is
//! classified.

use rdbscope_input::{classify_content, describe_signature, ContentKind};

#[test]
fn each_kind_of_file_is_named_with_its_bytes_in_hex_and_ascii() {
    let mut tar = vec![0u8; 512];
    tar[..8].copy_from_slice(b"dump.rdb");
    tar[257..263].copy_from_slice(b"ustar\0");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0], "gzip-compressed data"),
        (b"BZh91AY&SY".to_vec(), "bzip2-compressed data"),
        (vec![0x28, 0xb5, 0x2f, 0xfd, 0x24], "zstd-compressed data"),
        (vec![0x04, 0x22, 0x4d, 0x18, 0x64], "lz4-compressed data"),
        (
            vec![0x5e, 0x2a, 0x4d, 0x18, 0, 0, 0, 0],
            "zstd or lz4 data (starts with a skippable frame)",
        ),
        (
            b"\xfd7zXZ\0\0\x04".to_vec(),
            "xz-compressed data (not decoded: pipe it through `xz -dc`)",
        ),
        (b"PK\x03\x04\x14\0\0\0".to_vec(), "a zip archive"),
        (tar, "a tar archive"),
        (b"7z\xbc\xaf\x27\x1c\0\x04".to_vec(), "a 7z archive"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "a PNG image"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF".to_vec(), "a JPEG image"),
        (b"%PDF-1.7\n".to_vec(), "a PDF document"),
        (
            b"\x7fELF\x02\x01\x01\0".to_vec(),
            "an ELF executable or library",
        ),
        (b"  \n {\"key\": 1}".to_vec(), "JSON"),
        (b"[1, 2]".to_vec(), "JSON"),
        (b"hello, world\nline two \xc3\xa9\n".to_vec(), "text"),
        (vec![0; 100], "all zero bytes"),
        (vec![0x00, 0x01, 0xfe, 0xff, 0x80], "unknown binary data"),
        (b"REDIS0011\xfa".to_vec(), "an RDB file"),
        (b"*2\r\n$6\r\nSELECT\r\n".to_vec(), "an AOF (RESP commands)"),
    ];
    for (bytes, what) in cases {
        let said = describe_signature(&bytes);
        assert!(
            said.starts_with(&format!("{what} (")),
            "{bytes:02x?}: {said}"
        );
    }
}

#[test]
fn the_first_sixteen_bytes_are_shown_in_hex_and_ascii() {
    assert_eq!(
        describe_signature(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0"),
        "a PNG image (89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52 |.PNG........IHDR|)"
    );
    assert_eq!(describe_signature(b"hi"), "text (68 69 |hi|)");
    assert_eq!(describe_signature(b""), "empty (no bytes at all)");
    // A UTF-8 character cut off by the end of the sample is still text.
    assert!(describe_signature("abc é".as_bytes().split_last().unwrap().1).starts_with("text"));
    // Control characters are not text.
    assert!(describe_signature(b"abc\x01def").starts_with("unknown binary data"));
}

#[test]
fn content_is_classified_for_the_engine() {
    assert_eq!(
        classify_content(b"REDIS0011\xfa\x09redis-ver"),
        ContentKind::Rdb
    );
    assert_eq!(classify_content(b"VALKEY080\xfa"), ContentKind::Rdb);
    assert_eq!(classify_content(b"*3\r\n$3\r\nSET\r\n"), ContentKind::Aof);
    assert_eq!(
        classify_content(b"file appendonly.aof.1.base.rdb seq 1 type b\n"),
        ContentKind::AofManifest
    );
    assert_eq!(
        classify_content(b"{\"db\":0,\"key\":\"a\"}\n"),
        ContentKind::Json
    );
    assert_eq!(classify_content(b"\n  [\n"), ContentKind::Json);
    assert_eq!(classify_content(b""), ContentKind::Empty);
    assert_eq!(
        classify_content(&[0x1f, 0x8b, 8, 0]),
        ContentKind::Unknown("gzip-compressed data (1f 8b 08 00 |....|)".into())
    );
    assert_eq!(
        classify_content(b"*x"),
        ContentKind::Unknown("text (2a 78 |*x|)".into())
    );
}
