//! Every deep-sanitization rule of docs/format.md, each with a
//! hand-built minimal file that breaks exactly that rule.
//!
//! The pattern of each test: build a minimal *valid* file and check that
//! it passes (this proves the builder, and that the test can fail), then
//! change one parameter or one byte so that exactly one rule is broken and
//! check that `check` reports one problem whose message names the rule and
//! whose offset lies inside the broken record.
//!
//! Rules Redis applies that the checker does not catch are kept as
//! `#[ignore = "checker misses: ..."]` tests, with the reason.
//!
//! Layout: helpers; the builder checked against docs/format.md#worked-examples; then
//! the rules grouped by encoding (header, primitives, LZF, ziplist,
//! listpack, intset, zipmap, duplicates, tuple multiples, NaN scores, hash
//! field TTLs, quicklist, streams, file level, modules, opcodes).

#[macro_use]
mod builder;

use builder::*;
use rdbscope_check::{check, Options, Problem, Report};
use rdbscope_rdb::crc::crc64;
use rdbscope_rdb::types::rdb_type::*;
use rdbscope_rdb::{Checksum, Stage};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn run(bytes: &[u8]) -> Report {
    let opts = Options {
        now_ms: 0,
        ..Options::default()
    };
    check(bytes, "test.rdb", &opts, |_| {})
}

/// The file must pass.
#[track_caller]
fn ok(f: &Built) -> Report {
    let r = run(&f.bytes);
    assert!(
        r.is_ok(),
        "expected the file to pass, got {} problem(s), first: {:?}\nfile: {}",
        r.problems,
        r.first_problem,
        hex(&f.bytes)
    );
    r
}

/// The file must fail with exactly one problem, whose message contains
/// `word` (case-insensitive) and whose offset is inside `span`.
#[track_caller]
fn broken_at(f: &Built, word: &str, span: Span) -> Problem {
    let r = run(&f.bytes);
    let p = r.first_problem.clone().unwrap_or_else(|| {
        panic!(
            "expected a problem mentioning {word:?}, but the file passed\nfile: {}",
            hex(&f.bytes)
        )
    });
    assert!(!r.is_ok());
    assert_eq!(
        r.problems, 1,
        "expected exactly one problem, got {} (first: {p:?})",
        r.problems
    );
    assert!(
        p.message()
            .to_ascii_lowercase()
            .contains(&word.to_ascii_lowercase()),
        "message {:?} does not mention {word:?}\nproblem: {p:?}\nfile: {}",
        p.message(),
        hex(&f.bytes)
    );
    assert!(
        span.contains(p.offset),
        "offset {} is outside the broken record {}..{}\nproblem: {p:?}\nfile: {}",
        p.offset,
        span.start,
        span.end,
        hex(&f.bytes)
    );
    if span.key {
        assert_eq!(
            p.record_offset,
            Some(span.start as u64),
            "problem does not name its record: {p:?}"
        );
    }
    p
}

/// The rule a problem names, checked by its stable id (the `rule` of the
/// JSON report, docs/check-rules.md).
trait RuleIs {
    /// Asserts that the problem broke the rule with this id.
    fn rule_is(self, id: &str) -> Problem;
}

impl RuleIs for Problem {
    #[track_caller]
    fn rule_is(self, id: &str) -> Problem {
        assert_eq!(
            self.rule.id(),
            id,
            "the problem names rule {} instead of {id}: {self:?}",
            self.rule.id()
        );
        self
    }
}

/// As [`broken_at`], in the last record written.
#[track_caller]
fn broken(f: &Built, word: &str) -> Problem {
    broken_at(f, word, f.last())
}

/// As [`broken`], for problems found before the key is known (the type
/// byte, a KEY_META prefix): the offset is checked, the problem is not
/// expected to name its record.
#[track_caller]
fn broken_before_key(f: &Built, word: &str) -> Problem {
    let span = Span {
        key: false,
        ..f.last()
    };
    broken_at(f, word, span)
}

/// As [`broken`], allowing the offset to be the first byte after the
/// record: where a value is found to be missing its last part (an empty
/// blob, a missing terminator), the decoder names the position where that
/// part should have been.
#[track_caller]
fn broken_at_end(f: &Built, word: &str) -> Problem {
    let span = Span {
        end: f.last().end + 1,
        ..f.last()
    };
    broken_at(f, word, span)
}

/// `good` passes; `bad` breaks one rule, reported with `word`.
#[track_caller]
fn rule(good: &Built, bad: &Built, word: &str) -> Problem {
    ok(good);
    broken(bad, word)
}

/// [`rule`] for two values of type `t` in the usual one-key file.
#[track_caller]
fn value_rule(t: u8, good: &[u8], bad: &[u8], word: &str) -> Problem {
    rule(&file(t, good), &file(t, bad), word)
}

/// [`value_rule`] for a blob type (ziplist, listpack, intset, zipmap
/// stored as one plain RDB string).
#[track_caller]
fn blob_rule(t: u8, good: &[u8], bad: &[u8], word: &str) -> Problem {
    value_rule(t, &string(good), &string(bad), word)
}

/// The 9 header bytes.
const HEADER: Span = Span {
    start: 0,
    end: 9,
    key: false,
};

/// Stream layout versions for the type bytes used here.
const STREAM_V3: u8 = 3;

fn stream_file(st: &Stream) -> Built {
    file(STREAM_LISTPACKS_3, &st.encode(STREAM_V3))
}

#[track_caller]
fn stream_rule(good: &Stream, bad: &Stream, word: &str) -> Problem {
    rule(&stream_file(good), &stream_file(bad), word)
}

// ---------------------------------------------------------------------------
// The builder reproduces the byte-exact vectors of docs/format.md#worked-examples
// ---------------------------------------------------------------------------

#[test]
fn builder_primitives_match_format_md() {
    assert_eq!(len(10), unhex("0A"));
    assert_eq!(len(63), unhex("3F"));
    assert_eq!(len(64), unhex("40 40"));
    assert_eq!(len(700), unhex("42 BC"));
    assert_eq!(len(16383), unhex("7F FF"));
    assert_eq!(len(16384), unhex("80 00 00 40 00"));
    assert_eq!(len(1 << 32), unhex("81 00 00 00 01 00 00 00 00"));
    assert_eq!(int_string(12), unhex("C0 0C"));
    assert_eq!(int_string(-2), unhex("C0 FE"));
    assert_eq!(int_string(12345), unhex("C1 39 30"));
    assert_eq!(int_string(100000), unhex("C2 A0 86 01 00"));
    assert_eq!(string("abc"), unhex("03 61 62 63"));
    assert_eq!(
        lzf_string(&LZF_100A, 100),
        unhex("C3 09 40 64 01 61 61 E0 57 00 01 61 61")
    );
    assert_eq!(crc64(b"123456789"), 0xE9C6_D914_C4B8_D9CA);
    assert_eq!(module_id("AAAAAAAAB", 0), 1024);
    assert_eq!(len(1024), unhex("44 00"));
}

#[test]
fn builder_minimal_files_match_format_md() {
    // DB 0, key "k" = "v", with CRC.
    let f = RdbFile::redis(11)
        .select_db(0)
        .resize_db(1, 0)
        .key(STRING, b"k", &string("v"))
        .finish();
    assert_eq!(
        f.bytes,
        cat![
            b"REDIS0011",
            unhex("FE 00 FB 01 00 00 01 6B 01 76 FF 82 0B 95 88 5E 25 63 13")
        ]
    );
    ok(&f);
    // Expire + int-encoded value, checksum disabled.
    let f = RdbFile::redis(11)
        .select_db(0)
        .resize_db(1, 1)
        .key_expiring(1_700_000_000_000, STRING, b"n", &int_string(12345))
        .finish_unchecked();
    assert_eq!(
        f.bytes,
        cat![
            b"REDIS0011",
            unhex("FE 00 FB 01 01 FC 00 68 E5 CF 8B 01 00 00 00 01 6E C1 39 30 FF"),
            [0u8; 8]
        ]
    );
    let r = ok(&f);
    assert_eq!(r.checksum, Some(Checksum::Disabled));
    assert_eq!(r.expires, 1);
}

#[test]
fn builder_blobs_match_format_md() {
    assert_eq!(
        ziplist(&[n(2), n(5)]),
        unhex("0F 00 00 00 0C 00 00 00 02 00 00 F3 02 F6 FF")
    );
    assert_eq!(
        listpack(&[s("a"), n(1)]),
        unhex("0C 00 00 00 02 00 81 61 02 01 01 FF")
    );
    assert_eq!(
        intset(2, &[1, 2]),
        unhex("02 00 00 00 02 00 00 00 01 00 02 00")
    );
    ok(&file(SET_LISTPACK, &string(listpack(&[s("a"), n(1)]))));
    ok(&file(LIST_ZIPLIST, &string(ziplist(&[n(2), n(5)]))));
    ok(&file(SET_INTSET, &string(intset(2, &[1, 2]))));
    // The raw intset mutation agrees with the writer on canonical input.
    assert_eq!(intset_of(&[2, 1]), intset(2, &[1, 2]));
    assert_eq!(intset_of(&[70000, -70000]), intset(4, &[-70000, 70000]));
    assert_eq!(intset_of(&[1 << 40]), intset(8, &[1 << 40]));
}

#[test]
fn builder_stream_node_matches_format_md() {
    use rdbscope_rdb::write::stream::{Entry, Node};
    let entry = |ms, seq, fields: &[(&'static [u8], &'static [u8])]| Entry {
        id: id(ms, seq),
        fields: fields.to_vec(),
        deleted: false,
    };
    let node = Node::of(&[
        entry(1, 1, &[(b"a", b"1"), (b"b", b"x")]),
        entry(1, 2, &[(b"a", b"2"), (b"b", b"y")]),
        entry(5, 0, &[(b"c", b"z")]),
    ])
    .unwrap();
    assert_eq!(node, example_stream().nodes[0]);
}

/// The hash field TTL vectors' expiry time in docs/format.md#worked-examples (2100-01-01).
const T: i64 = 4_102_444_800_000;
/// `EB_EXPIRE_TIME_MAX`.
const MAX_TTL: i64 = (1 << 48) - 1;

#[test]
fn builder_hash_ttl_types_match_format_md() {
    let lpex = cat![
        [HASH_LISTPACK_EX],
        string("h"),
        hash_listpack_ex(T, &[(b"f1", b"v1", T), (b"f2", b"v2", 0)])
    ];
    assert_eq!(
        lpex,
        unhex(
            "19 01 68 00 D8 C3 2C BB 03 00 00 23
             23 00 00 00 06 00 82 66 31 03 82 76 31 03 F4 00 D8 C3 2C BB 03 00 00 09
             82 66 32 03 82 76 32 03 00 01 FF"
        )
    );
    let meta = cat![
        [HASH_METADATA],
        string("h"),
        hash_metadata(T, &[(1, b"f1", b"v1"), (0, b"f2", b"v2")])
    ];
    assert_eq!(
        meta,
        unhex("18 01 68 00D8C32CBB030000 02 01 02 66 31 02 76 31 00 02 66 32 02 76 32")
    );
    // Valkey HASH_2, from the HDT3213 sample file.
    let hash2 = cat![
        [22u8],
        string("hash2-hfe"),
        valkey_hash2(&[
            (b"F1", b"V1", 2_715_785_640_000),
            (b"F2", b"V2", 2_400_425_640_000),
            (b"F3", b"V3", -1)
        ])
    ];
    assert_eq!(
        hash2,
        cat![
            [0x16, 0x09],
            b"hash2-hfe",
            unhex("03 02 4631 02 5631 40 38 70 51 78 02 00 00"),
            unhex("02 4632 02 5632 40 80 84 E4 2E 02 00 00"),
            unhex("02 4633 02 5633 FF FF FF FF FF FF FF FF")
        ]
    );
    let r = ok(&file(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f1", b"v1", T), (b"f2", b"v2", 0)]),
    ));
    assert_eq!(r.subexpires, 1);
    ok(&file(
        HASH_METADATA,
        &hash_metadata(T, &[(1, b"f1", b"v1"), (0, b"f2", b"v2")]),
    ));
    // Type byte, key length, 9-byte key: the value starts at 11.
    ok(&valkey_file(22, &hash2[11..]));
}

#[test]
fn builder_stream_matches_format_md() {
    assert_eq!(
        listpack(&example_stream_elems()),
        unhex(
            "40000000 1900
             03 01 00 01 02 01 81 61 02 81 62 02 00 01
             02 01 00 01 00 01 01 01 81 78 02 05 01
             02 01 00 01 01 01 02 01 81 79 02 05 01
             00 01 04 01 DF FF 02 01 01 81 63 02 81 7A 02 06 01
             FF"
        )
    );
    let t0 = T0.to_le_bytes();
    let value = example_stream().encode(STREAM_V3);
    assert_eq!(
        value,
        cat![
            unhex("01 10"),
            id16(1, 1),
            unhex("40 40"),
            listpack(&example_stream_elems()),
            unhex("03 05 00 01 01 00 00 03"),
            unhex("01 01 67 01 01 01"),
            unhex("01"),
            id16(1, 1),
            t0,
            unhex("01"),
            unhex("01 05"),
            b"alice",
            t0,
            t0,
            unhex("01"),
            id16(1, 1)
        ]
    );
    ok(&file(STREAM_LISTPACKS_3, &value));
    // The same data in the older layouts (types 15 and 19).
    ok(&file(STREAM_LISTPACKS, &example_stream().encode(1)));
    ok(&file(STREAM_LISTPACKS_2, &example_stream().encode(2)));
}

/// Every value builder, in one valid file.
#[test]
fn builder_every_type_passes() {
    let f = RdbFile::redis(12)
        .aux("redis-ver", "7.4.0")
        .select_db(0)
        .key(STRING, b"str", &string("v"))
        .key(STRING, b"int", &int_string(-70000))
        .key(STRING, b"lzf", &lzf_of(&[b'x'; 100]))
        .key(LIST, b"list", &strings(&[s("a"), s("a"), n(3)]))
        .key(SET, b"set", &strings(&[s("a"), n(5)]))
        .key(
            ZSET,
            b"zset",
            &zset_ascii(&[(b"a", Some("1.5")), (b"b", Some("-inf"))]),
        )
        .key(HASH, b"hash", &hash_pairs(&[(b"f", b"1"), (b"g", b"2")]))
        .key(
            ZSET_2,
            b"zset2",
            &zset_binary(&[(b"a", 1.5), (b"b", f64::INFINITY)]),
        )
        .key(
            HASH_ZIPMAP,
            b"zipmap",
            &string(zipmap(&[(b"a", b"1"), (&[b'k'; 300], b"v")])),
        )
        .key(
            LIST_ZIPLIST,
            b"zl",
            &string(ziplist(&[
                s("x"),
                s([b'y'; 300]),
                n(0),
                n(12),
                n(-1),
                n(300),
                n(100_000),
                n(1 << 30),
                n(1 << 40),
            ])),
        )
        .key(SET_INTSET, b"is4", &string(intset(4, &[-70000, 70000])))
        .key(
            SET_INTSET,
            b"is8",
            &string(intset(8, &[-(1 << 40), 1 << 40])),
        )
        .key(
            ZSET_ZIPLIST,
            b"zzl",
            &string(ziplist(&[s("a"), n(1), s("b"), s("2.5")])),
        )
        .key(
            HASH_ZIPLIST,
            b"hzl",
            &string(ziplist(&[s("f"), s("v"), n(1), n(2)])),
        )
        .key(
            LIST_QUICKLIST,
            b"ql1",
            &cat![
                len(2),
                string(ziplist(&[s("a")])),
                lzf_of(&ziplist(&[n(7)]))
            ],
        )
        .key(
            HASH_LISTPACK,
            b"hlp",
            &string(listpack(&[s("f"), s("v"), n(1), n(2)])),
        )
        .key(
            ZSET_LISTPACK,
            b"zlp",
            &string(listpack(&[s("a"), n(1), s("b"), s("2.5")])),
        )
        .key(
            LIST_QUICKLIST_2,
            b"ql2",
            &quicklist2(&[
                (
                    2,
                    string(listpack(&[
                        s("a"),
                        n(-5000),
                        n(1 << 20),
                        n(1 << 31),
                        s([b'z'; 5000]),
                    ])),
                ),
                (1, string("plain")),
            ]),
        )
        .key(SET_LISTPACK, b"slp", &lzf_of(&listpack(&[s("a"), n(1)])))
        .key(
            STREAM_LISTPACKS_3,
            b"stream",
            &example_stream().encode(STREAM_V3),
        )
        .key(
            22,
            b"h22",
            &hash_metadata_pre_ga(&[(T as u64, b"f", b"v"), (0, b"g", b"w")]),
        )
        .key(
            23,
            b"h23",
            &string(listpack(&[s("f"), s("v"), n(T), s("g"), s("w"), n(0)])),
        )
        .key(
            HASH_METADATA,
            b"h24",
            &hash_metadata(T, &[(1, b"f", b"v"), (0, b"g", b"w")]),
        )
        .key(
            HASH_LISTPACK_EX,
            b"h25",
            &hash_listpack_ex(0, &[(b"f", b"v", 0)]),
        )
        .key(MODULE_2, b"mod", &module_value(2))
        .finish();
    let r = ok(&f);
    assert_eq!(r.keys, 25);
    assert_eq!(r.empty_keys, 0);
}

// ---------------------------------------------------------------------------
// Header (docs/format.md#header-and-versions, #redis-and-valkey-numbering)
// ---------------------------------------------------------------------------

fn header_only(header: &[u8], version: u32) -> Built {
    RdbFile::with_header(header, version).finish()
}

#[test]
fn header_bad_magic() {
    ok(&header_only(b"REDIS0011", 11));
    for bad in [
        &b"REDIX0011"[..],
        b"redis0011",
        b"\0\0\0\0\0\0\0\0\0",
        b"VALKEX080",
    ] {
        broken_at(&header_only(bad, 11), "signature", HEADER).rule_is("header-signature");
    }
}

#[test]
fn header_version_not_a_number() {
    broken_at(&header_only(b"REDIS00x1", 11), "not a number", HEADER).rule_is("header-version");
}

#[test]
fn header_version_zero_or_too_new() {
    for v in 1..=13 {
        ok(&header_only(format!("REDIS{v:04}").as_bytes(), v));
    }
    // 0 is below the first version; 14 is newer than any Redis this
    // decoder knows; REDIS magic never carries Valkey's 80+ numbers.
    for v in [0, 14, 80, 9999] {
        broken_at(
            &header_only(format!("REDIS{v:04}").as_bytes(), v),
            "version",
            HEADER,
        )
        .rule_is("header-version");
    }
}

#[test]
fn header_valkey_magic_needs_version_80_or_more() {
    ok(&header_only(b"VALKEY080", 80));
    ok(&header_only(b"VALKEY081", 81));
    for v in [0, 11, 12, 79, 82] {
        broken_at(
            &header_only(format!("VALKEY{v:03}").as_bytes(), v),
            "version",
            HEADER,
        )
        .rule_is("header-version");
    }
}

#[test]
fn header_truncated() {
    for cut in 0..9 {
        let f = Built {
            bytes: b"REDIS0011"[..cut].to_vec(),
            spans: vec![],
        };
        let r = run(&f.bytes);
        let p = r.first_problem.expect("a truncated header is a problem");
        assert_eq!(p.kind, "truncated", "{p:?}");
        p.clone().rule_is("truncated");
        assert_eq!(p.stage, Stage::Header);
    }
}

// ---------------------------------------------------------------------------
// Primitive encodings (docs/format.md#length-encoding, #string-encoding) and type bytes
// ---------------------------------------------------------------------------

#[test]
fn length_encoding_0x82_to_0xbf_is_invalid() {
    let member = string("m");
    // The 32-bit (0x80) and 64-bit (0x81) forms are valid even when not
    // minimal.
    ok(&file(SET, &cat![len32(1), member]));
    ok(&file(SET, &cat![[0x81], 1u64.to_be_bytes(), member]));
    for b in 0x82..=0xbf_u8 {
        broken(
            &file(SET, &cat![[b, 0, 0, 0, 1], member]),
            &format!("unknown length encoding 0x{b:02x}"),
        )
        .rule_is("length-encoding");
    }
    // The same in an opcode (SELECTDB).
    let good = RdbFile::redis(12).raw(&[0xfe, 0x80, 0, 0, 0, 0]).finish();
    let bad = RdbFile::redis(12).raw(&[0xfe, 0x82, 0, 0, 0, 0]).finish();
    rule(&good, &bad, "length encoding").rule_is("length-encoding");
}

#[test]
fn length_error_value_is_refused_where_redis_refuses_it() {
    // 2^64-1 in the 64-bit form: RDB_LENERR. As a set's size ...
    let lenerr = cat![[0x81], u64::MAX.to_be_bytes()];
    broken(&file(SET, &lenerr), "read-error value").rule_is("length-error-value");
    // ... and in SELECTDB and RESIZEDB, which read no bytes by it.
    let good = RdbFile::redis(12).raw(&[0xfe, 0x00]).finish();
    let bad = RdbFile::redis(12).raw(&cat![[0xfe], lenerr]).finish();
    rule(&good, &bad, "SELECTDB").rule_is("length-error-value");
    let good = RdbFile::redis(12)
        .raw(&[0xfe, 0x00, 0xfb, 0x00, 0x00])
        .finish();
    let bad = RdbFile::redis(12)
        .raw(&cat![[0xfe, 0x00, 0xfb], lenerr, [0x00]])
        .finish();
    rule(&good, &bad, "RESIZEDB").rule_is("length-error-value");
    // One less is only a big number.
    let big = RdbFile::redis(12)
        .raw(&cat![
            [0xfe, 0x00, 0xfb],
            [0x81],
            (u64::MAX - 1).to_be_bytes(),
            [0x00]
        ])
        .finish();
    ok(&big);
}

#[test]
fn string_encoding_0xc4_and_up_is_invalid() {
    // In a value ...
    ok(&file(STRING, &[0xc0, 0x05]));
    for b in 0xc4..=0xff_u8 {
        broken(
            &file(STRING, &[b, 0x05]),
            &format!("string encoding 0x{b:02x}"),
        )
        .rule_is("string-encoding");
    }
    // ... and in a key.
    let with_key = |k: &[u8]| {
        RdbFile::redis(12)
            .select_db(0)
            .record(&[], STRING, k, &string("v"))
            .finish()
    };
    ok(&with_key(&[0xc0, 0x05]));
    for b in 0xc4..=0xff_u8 {
        broken(&with_key(&[b, 0x05]), "string encoding").rule_is("string-encoding");
    }
}

#[test]
fn type_8_is_invalid() {
    // Never assigned in any RDB version.
    ok(&file(STRING, &string("v")));
    broken_before_key(&file(8, &string("v")), "unknown object type byte 8").rule_is("type-byte");
}

#[test]
fn unknown_type_byte() {
    ok(&file(STRING, &string("v")));
    // Never assigned (34..=241), or RDB 14 types this decoder does not
    // read (27..=33).
    for t in [27u8, 33, 34, 100, 200, 241] {
        broken_before_key(&file(t, &string("v")), "type byte").rule_is("type-byte");
    }
    // Redis-only types in a Valkey file (Valkey 80 knows 0-22 only).
    for t in [23u8, 24, 25, 26] {
        broken_before_key(&valkey_file(t, &string("v")), "type byte").rule_is("type-byte");
    }
}

// ---------------------------------------------------------------------------
// LZF strings (docs/format.md#lzf)
// ---------------------------------------------------------------------------

/// Redis's `lzf_compress` output for 100 x "a".
const LZF_100A: [u8; 9] = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];

#[test]
fn lzf_output_size_differs_from_declared() {
    let good = file(STRING, &lzf_string(&LZF_100A, 100));
    ok(&good);
    broken(&file(STRING, &lzf_string(&LZF_100A, 101)), "declared").rule_is("lzf-length");
    broken(&file(STRING, &lzf_string(&LZF_100A, 99)), "declared").rule_is("lzf-length");
}

#[test]
fn lzf_back_reference_before_start() {
    // The back reference's low offset byte 0 copies from 1 byte back; 2
    // reaches 3 bytes back when only 2 have been written.
    let mut bad = LZF_100A;
    bad[5] = 0x02;
    value_rule(
        STRING,
        &lzf_string(&LZF_100A, 100),
        &lzf_string(&bad, 100),
        "before the start",
    )
    .rule_is("lzf-data");
}

#[test]
fn lzf_declared_size_impossible() {
    // 9 compressed bytes cannot expand to 2^40 bytes: rejected when the
    // record is read, before any allocation.
    value_rule(
        STRING,
        &lzf_string(&LZF_100A, 100),
        &lzf_string(&LZF_100A, 1 << 40),
        "claims",
    )
    .rule_is("lzf-length");
}

#[test]
fn lzf_literal_run_past_input() {
    value_rule(
        STRING,
        &lzf_string(&[0x01, 0x61, 0x61], 2),
        &lzf_string(&[0x02, 0x61, 0x61], 3),
        "past the end",
    )
    .rule_is("lzf-data");
}

#[test]
fn errors_inside_compressed_blobs_carry_an_inner_offset() {
    let zl = ziplist(&[s("a"), n(2)]);
    let mut bad = zl.clone();
    put_u16(&mut bad, 8, 3); // zllen
    let f = file(LIST_ZIPLIST, &lzf_of(&bad));
    ok(&file(LIST_ZIPLIST, &lzf_of(&zl)));
    let p = broken(&f, "zllen").rule_is("ziplist-zllen");
    // The offset is the compressed string's first byte (its 0xC3 marker).
    assert_eq!(f.bytes[p.offset as usize], 0xc3);
    assert_eq!(p.inner_offset, Some(8));
}

// ---------------------------------------------------------------------------
// Ziplist (docs/format.md#ziplist)
// ---------------------------------------------------------------------------

/// A string, a 4-bit immediate and an int16: entries at 10, 14, 16.
fn zl_elems() -> Vec<El> {
    vec![s("ab"), n(7), n(300)]
}

#[track_caller]
fn zl_rule(patch: impl FnOnce(&mut Vec<u8>, &[usize]), word: &str) -> Problem {
    let (good, offsets) = ziplist_layout(&zl_elems());
    let mut bad = good.clone();
    patch(&mut bad, &offsets);
    blob_rule(LIST_ZIPLIST, &good, &bad, word)
}

#[test]
fn ziplist_zlbytes_differs_from_string_length() {
    zl_rule(|z, _| put_own_len(z, 0, 1), "zlbytes").rule_is("ziplist-zlbytes");
    zl_rule(|z, _| put_own_len(z, 0, -1), "zlbytes").rule_is("ziplist-zlbytes");
}

#[test]
fn ziplist_zltail_beyond_end() {
    zl_rule(|z, _| put_own_len(z, 4, 0), "past the end").rule_is("ziplist-zltail");
}

#[test]
fn ziplist_zltail_not_at_last_entry() {
    zl_rule(|z, o| put_u32(z, 4, o[1] as u32), "last entry").rule_is("ziplist-zltail");
    zl_rule(|z, o| put_u32(z, 4, o[0] as u32), "last entry").rule_is("ziplist-zltail");
}

#[test]
fn ziplist_zllen_differs_from_entry_count() {
    zl_rule(|z, _| put_u16(z, 8, 4), "zllen").rule_is("ziplist-zllen");
    zl_rule(|z, _| put_u16(z, 8, 2), "zllen").rule_is("ziplist-zllen");
    // 65535 means "unknown, count them".
    let mut unknown = ziplist(&zl_elems());
    put_u16(&mut unknown, 8, u16::MAX);
    ok(&file(LIST_ZIPLIST, &string(unknown)));
}

#[test]
fn ziplist_wrong_prevlen() {
    // Second entry: the first is 4 bytes long, not 5.
    zl_rule(|z, o| z[o[1]] = 5, "prevlen").rule_is("ziplist-prevlen");
    // The first entry's prevlen must be 0.
    zl_rule(|z, o| z[o[0]] = 1, "prevlen").rule_is("ziplist-prevlen");
}

#[test]
fn ziplist_missing_end_marker() {
    zl_rule(
        |z, _| {
            let last = z.len() - 1;
            z[last] = 0x00;
        },
        "end with 0xff",
    )
    .rule_is("ziplist-terminator");
}

#[test]
fn ziplist_end_marker_before_the_end() {
    // One more 0xFF before the real one, zlbytes adjusted.
    zl_rule(
        |z, _| {
            let last = z.len() - 1;
            z.insert(last, 0xff);
            put_own_len(z, 0, 0);
        },
        "before the end",
    )
    .rule_is("ziplist-terminator");
}

#[test]
fn ziplist_invalid_encoding_byte() {
    let (good, o) = ziplist_layout(&zl_elems());
    ok(&file(LIST_ZIPLIST, &string(&good)));
    // From 0xC0 up, only C0, D0, E0, F0-FE are encodings.
    let invalid = (0xc1..=0xcf).chain(0xd1..=0xdf).chain(0xe1..=0xef);
    for b in invalid {
        let mut bad = good.clone();
        bad[o[1] + 1] = b; // the immediate's encoding byte
        broken(
            &file(LIST_ZIPLIST, &string(bad)),
            &format!("encoding byte 0x{b:02x}"),
        )
        .rule_is("ziplist-encoding");
    }
}

#[test]
fn ziplist_entry_runs_past_end() {
    // The 2-byte string claims 63 bytes.
    zl_rule(|z, o| z[o[0] + 1] = 0x3f, "ziplist string").rule_is("truncated");
    // The int16 of the last entry loses a byte (zlbytes/zltail kept right).
    zl_rule(
        |z, o| {
            z.remove(o[2] + 3);
            put_own_len(z, 0, 0);
        },
        "ziplist int16",
    )
    .rule_is("truncated");
}

#[test]
fn ziplist_shorter_than_header() {
    blob_rule(
        LIST_ZIPLIST,
        &ziplist(&[]),
        &unhex("0A 00 00 00 0A 00 00 00 00 00"),
        "minimum",
    )
    .rule_is("ziplist-size");
}

#[test]
fn quicklist_v1_nodes_are_checked_as_ziplists() {
    let node = ziplist(&[s("a"), n(1)]);
    let mut bad_node = node.clone();
    put_u16(&mut bad_node, 8, 3);
    value_rule(
        LIST_QUICKLIST,
        &quicklist(&[&node, &node]),
        &quicklist(&[&node, &bad_node]),
        "zllen",
    )
    .rule_is("ziplist-zllen");
    // A zero-length node is not a ziplist.
    ok(&file(LIST_QUICKLIST, &quicklist(&[&node])));
    broken_at_end(&file(LIST_QUICKLIST, &quicklist(&[b""])), "minimum").rule_is("ziplist-size");
}

// ---------------------------------------------------------------------------
// Listpack (docs/format.md#listpack)
// ---------------------------------------------------------------------------

/// Every listpack encoding, all distinct (a set): 6-bit string, 7-bit uint,
/// 13-bit int, int24, int64, and a 12-bit string with a 2-byte backlen.
fn lp_elems() -> Vec<El> {
    vec![
        s("a"),
        n(1),
        n(-300),
        n(100_000),
        n(1 << 40),
        s([b'x'; 200]),
    ]
}

#[track_caller]
fn lp_rule(patch: impl FnOnce(&mut Vec<u8>, &[usize]), word: &str) -> Problem {
    let good = listpack(&lp_elems());
    let offsets = listpack_offsets(&lp_elems());
    let mut bad = good.clone();
    patch(&mut bad, &offsets);
    blob_rule(SET_LISTPACK, &good, &bad, word)
}

#[test]
fn listpack_total_bytes_differs_from_string_length() {
    lp_rule(|l, _| put_own_len(l, 0, 1), "total bytes").rule_is("listpack-total-bytes");
    lp_rule(|l, _| put_own_len(l, 0, -1), "total bytes").rule_is("listpack-total-bytes");
}

#[test]
fn listpack_num_elements_differs_from_count() {
    lp_rule(|l, _| put_u16(l, 4, 7), "header says 7 elements").rule_is("listpack-count");
    lp_rule(|l, _| put_u16(l, 4, 5), "header says 5 elements").rule_is("listpack-count");
    // 65535 means "unknown, count them".
    let mut unknown = listpack(&lp_elems());
    put_u16(&mut unknown, 4, u16::MAX);
    ok(&file(SET_LISTPACK, &string(unknown)));
}

#[test]
fn listpack_wrong_backlen() {
    // "a": encoding + data is 2 bytes.
    lp_rule(|l, o| l[o[0] + 2] = 3, "backlen").rule_is("listpack-backlen");
    // The 200-byte string: 202 = 0x01 0xCA as a 2-byte backlen.
    lp_rule(
        |l, o| {
            assert_eq!(&l[o[5] + 202..o[5] + 204], &[0x01, 0xca]);
            l[o[5] + 203] = 0xcb;
        },
        "backlen",
    )
    .rule_is("listpack-backlen");
}

#[test]
fn listpack_invalid_encoding_byte() {
    let good = listpack(&lp_elems());
    let o = listpack_offsets(&lp_elems());
    ok(&file(SET_LISTPACK, &string(&good)));
    for b in 0xf5..=0xfe_u8 {
        let mut bad = good.clone();
        bad[o[1]] = b; // the 7-bit uint 1
        broken(
            &file(SET_LISTPACK, &string(bad)),
            &format!("encoding byte 0x{b:02x}"),
        )
        .rule_is("listpack-encoding");
    }
}

#[test]
fn listpack_entry_runs_past_end() {
    // "a" claims 63 bytes: far fewer are left before the terminator.
    let good = listpack(&[s("a"), n(1)]);
    let mut bad = good.clone();
    bad[6] = 0xbf;
    blob_rule(SET_LISTPACK, &good, &bad, "listpack string").rule_is("truncated");
    // An int64 cut short.
    let good = listpack(&[n(1 << 40)]);
    let mut bad = good.clone();
    bad.drain(6 + 5..6 + 9);
    put_own_len(&mut bad, 0, 0);
    blob_rule(SET_LISTPACK, &good, &bad, "listpack int64").rule_is("truncated");
}

#[test]
fn listpack_terminator_missing() {
    lp_rule(
        |l, _| {
            let last = l.len() - 1;
            l[last] = 0xfe;
        },
        "end with 0xff",
    )
    .rule_is("listpack-terminator");
}

#[test]
fn listpack_terminator_before_the_end() {
    lp_rule(
        |l, o| {
            l.insert(o[1], 0xff);
            put_own_len(l, 0, 0);
        },
        "before the end",
    )
    .rule_is("listpack-terminator");
}

#[test]
fn listpack_shorter_than_header() {
    blob_rule(
        SET_LISTPACK,
        &listpack(&[s("a")]),
        &unhex("06 00 00 00 00 00"),
        "minimum",
    )
    .rule_is("listpack-size");
}

// ---------------------------------------------------------------------------
// Intset (docs/format.md#intset)
// ---------------------------------------------------------------------------

#[test]
fn intset_encoding_not_2_4_8() {
    ok(&file(SET_INTSET, &string(intset(4, &[-70000, 70000]))));
    ok(&file(
        SET_INTSET,
        &string(intset(8, &[-(1 << 40), 1 << 40])),
    ));
    for width in [0u32, 1, 3, 5, 16] {
        blob_rule(
            SET_INTSET,
            &intset(2, &[1, 2]),
            &intset(width, &[1, 2]),
            &format!("encoding {width} "),
        )
        .rule_is("intset-encoding");
    }
}

#[test]
fn intset_size_differs_from_header() {
    let good = intset(2, &[1, 2]);
    let mut count = good.clone();
    put_u32(&mut count, 4, 3);
    blob_rule(SET_INTSET, &good, &count, "should be").rule_is("intset-length");
    let extra = cat![good, [0u8]];
    blob_rule(SET_INTSET, &good, &extra, "should be").rule_is("intset-length");
}

#[test]
fn intset_empty() {
    blob_rule(SET_INTSET, &intset(2, &[1]), &intset(2, &[]), "empty").rule_is("intset-empty");
}

#[test]
fn intset_not_ascending() {
    blob_rule(
        SET_INTSET,
        &intset(2, &[1, 2]),
        &intset(2, &[2, 1]),
        "ascending",
    )
    .rule_is("intset-order");
}

#[test]
fn intset_duplicate_member() {
    blob_rule(
        SET_INTSET,
        &intset(2, &[1, 2]),
        &intset(2, &[1, 1]),
        "1 after 1",
    )
    .rule_is("intset-order");
}

// ---------------------------------------------------------------------------
// Zipmap (docs/format.md#zipmap)
// ---------------------------------------------------------------------------

const ZM_PAIRS: [(&[u8], &[u8]); 2] = [(b"a", b"1"), (b"bc", b"22")];

#[test]
fn zipmap_count_byte_differs_from_pairs() {
    let good = zipmap(&ZM_PAIRS);
    let mut bad = good.clone();
    bad[0] = 3;
    blob_rule(HASH_ZIPMAP, &good, &bad, "says 3 pairs").rule_is("zipmap-count");
    // 254 means "unknown, count them".
    let mut unknown = good.clone();
    unknown[0] = 254;
    ok(&file(HASH_ZIPMAP, &string(unknown)));
}

#[test]
fn zipmap_missing_end() {
    let good = zipmap(&ZM_PAIRS);
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] = 0x00;
    blob_rule(HASH_ZIPMAP, &good, &bad, "end with 0xff").rule_is("zipmap-terminator");
}

#[test]
fn zipmap_ends_between_key_and_value() {
    blob_rule(
        HASH_ZIPMAP,
        &zipmap(&[(b"a", b"1")]),
        &unhex("01 01 61 FF"),
        "between a key and its value",
    )
    .rule_is("zipmap-pairs");
}

/// `zipmapValidateIntegrity` (redis src/zipmap.c): "check that the zipmap
/// is not empty. if (count == 0) return 0;" and RDB_TYPE_HASH_ZIPMAP is
/// always validated deep, so `00 FF` fails the load with "Zipmap integrity
/// check failed" (seen with redis-check-rdb 7.0.15). The checker treats it
/// as an empty key instead.
#[test]

fn zipmap_empty() {
    blob_rule(
        HASH_ZIPMAP,
        &zipmap(&[(b"a", b"1")]),
        &unhex("00 FF"),
        "empty",
    )
    .rule_is("zipmap-count");
}

/// `zipmapValidateIntegrity`: `if (zm[0] != ZIPMAP_BIGLEN && zm[0] !=
/// count) return 0;` - only 254 means "unknown" (redis-check-rdb 7.0.15
/// rejects 255). The checker also lets 255 through (`count < BIGLEN` in
/// zipmap.rs).
#[test]

fn zipmap_count_byte_255() {
    let good = zipmap(&ZM_PAIRS);
    let mut bad = good.clone();
    bad[0] = 255;
    blob_rule(HASH_ZIPMAP, &good, &bad, "pairs").rule_is("zipmap-count");
}

// ---------------------------------------------------------------------------
// Duplicate members and fields (docs/format.md#plain-collections, #validation-rules)
// ---------------------------------------------------------------------------

#[test]
fn duplicate_set_member_plain() {
    value_rule(
        SET,
        &strings(&[s("a"), s("b")]),
        &strings(&[s("a"), s("a")]),
        "duplicate set member",
    )
    .rule_is("set-duplicate-member");
    // An int-encoded 5 and the text "5" are the same member.
    value_rule(
        SET,
        &strings(&[n(5), s("6")]),
        &strings(&[n(5), s("5")]),
        "duplicate set member",
    )
    .rule_is("set-duplicate-member");
}

#[test]
fn duplicate_set_member_listpack() {
    blob_rule(
        SET_LISTPACK,
        &listpack(&[s("a"), s("b")]),
        &listpack(&[s("a"), s("a")]),
        "duplicate set member",
    )
    .rule_is("set-duplicate-member");
    // "5" stored as a string and 5 stored as an integer.
    blob_rule(
        SET_LISTPACK,
        &listpack(&[s("5"), n(6)]),
        &listpack(&[s("5"), n(5)]),
        "duplicate set member \"5\"",
    )
    .rule_is("set-duplicate-member");
}

#[test]
fn duplicate_hash_field_plain() {
    value_rule(
        HASH,
        &hash_pairs(&[(b"f", b"1"), (b"g", b"2")]),
        &hash_pairs(&[(b"f", b"1"), (b"f", b"2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
}

#[test]
fn duplicate_hash_field_ziplist() {
    blob_rule(
        HASH_ZIPLIST,
        &ziplist(&[s("f"), s("1"), s("g"), s("2")]),
        &ziplist(&[s("f"), s("1"), s("f"), s("2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
    // Int and string forms of the same field.
    blob_rule(
        HASH_ZIPLIST,
        &ziplist(&[n(7), s("1"), s("8"), s("2")]),
        &ziplist(&[n(7), s("1"), s("7"), s("2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
}

#[test]
fn duplicate_hash_field_listpack() {
    blob_rule(
        HASH_LISTPACK,
        &listpack(&[s("f"), s("1"), s("g"), s("2")]),
        &listpack(&[s("f"), s("1"), s("f"), s("2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
    blob_rule(
        HASH_LISTPACK,
        &listpack(&[s("5"), s("1"), n(6), s("2")]),
        &listpack(&[s("5"), s("1"), n(5), s("2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
}

#[test]
fn duplicate_hash_field_zipmap() {
    blob_rule(
        HASH_ZIPMAP,
        &zipmap(&[(b"f", b"1"), (b"g", b"2")]),
        &zipmap(&[(b"f", b"1"), (b"f", b"2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
}

#[test]
fn duplicate_hash_field_with_ttls() {
    value_rule(
        HASH_METADATA,
        &hash_metadata(T, &[(1, b"f", b"1"), (0, b"g", b"2")]),
        &hash_metadata(T, &[(1, b"f", b"1"), (0, b"f", b"2")]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
    value_rule(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f", b"1", T), (b"g", b"2", 0)]),
        &hash_listpack_ex(T, &[(b"f", b"1", T), (b"f", b"2", 0)]),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
    rule(
        &valkey_file(22, &valkey_hash2(&[(b"f", b"1", T), (b"g", b"2", -1)])),
        &valkey_file(22, &valkey_hash2(&[(b"f", b"1", T), (b"f", b"2", -1)])),
        "duplicate hash field",
    )
    .rule_is("hash-duplicate-field");
}

#[test]
fn duplicate_zset_member_type_3() {
    value_rule(
        ZSET,
        &zset_ascii(&[(b"a", Some("1")), (b"b", Some("2"))]),
        &zset_ascii(&[(b"a", Some("1")), (b"a", Some("2"))]),
        "duplicate zset member",
    )
    .rule_is("zset-duplicate-member");
}

#[test]
fn duplicate_zset_member_type_5() {
    value_rule(
        ZSET_2,
        &zset_binary(&[(b"a", 1.0), (b"b", 2.0)]),
        &zset_binary(&[(b"a", 1.0), (b"a", 2.0)]),
        "duplicate zset member",
    )
    .rule_is("zset-duplicate-member");
}

#[test]
fn duplicate_zset_member_listpack() {
    blob_rule(
        ZSET_LISTPACK,
        &listpack(&[s("a"), n(1), s("b"), n(2)]),
        &listpack(&[s("a"), n(1), s("a"), n(2)]),
        "duplicate zset member",
    )
    .rule_is("zset-duplicate-member");
    blob_rule(
        ZSET_LISTPACK,
        &listpack(&[s("5"), n(1), n(6), n(2)]),
        &listpack(&[s("5"), n(1), n(5), n(2)]),
        "duplicate zset member",
    )
    .rule_is("zset-duplicate-member");
}

#[test]
fn duplicate_zset_member_ziplist() {
    blob_rule(
        ZSET_ZIPLIST,
        &ziplist(&[s("a"), n(1), s("b"), n(2)]),
        &ziplist(&[s("a"), n(1), s("a"), n(2)]),
        "duplicate zset member",
    )
    .rule_is("zset-duplicate-member");
}

// ---------------------------------------------------------------------------
// Tuple multiples (docs/format.md#validation-rules)
// ---------------------------------------------------------------------------

#[test]
fn hash_listpack_odd_element_count() {
    blob_rule(
        HASH_LISTPACK,
        &listpack(&[s("f"), s("1"), s("g"), s("2")]),
        &listpack(&[s("f"), s("1"), s("g")]),
        "odd number",
    )
    .rule_is("pair-count");
}

#[test]
fn hash_ziplist_odd_element_count() {
    blob_rule(
        HASH_ZIPLIST,
        &ziplist(&[s("f"), s("1"), s("g"), s("2")]),
        &ziplist(&[s("f"), s("1"), s("g")]),
        "odd number",
    )
    .rule_is("pair-count");
}

#[test]
fn zset_listpack_odd_element_count() {
    blob_rule(
        ZSET_LISTPACK,
        &listpack(&[s("a"), n(1), s("b"), n(2)]),
        &listpack(&[s("a"), n(1), s("b")]),
        "odd number",
    )
    .rule_is("pair-count");
}

#[test]
fn zset_ziplist_odd_element_count() {
    blob_rule(
        ZSET_ZIPLIST,
        &ziplist(&[s("a"), n(1), s("b"), n(2)]),
        &ziplist(&[s("a"), n(1), s("b")]),
        "odd number",
    )
    .rule_is("pair-count");
}

#[test]
fn zset_ziplist_score_not_a_number() {
    blob_rule(
        ZSET_ZIPLIST,
        &ziplist(&[s("a"), n(1)]),
        &ziplist(&[s("a"), s("x")]),
        "score is not a number",
    )
    .rule_is("zset-score");
}

#[test]
fn zset_ascii_score_not_a_number() {
    value_rule(
        ZSET,
        &zset_ascii(&[(b"a", Some("1.5"))]),
        &zset_ascii(&[(b"a", Some("x"))]),
        "not a number",
    )
    .rule_is("number-text");
}

#[test]
fn intset_shorter_than_its_header() {
    blob_rule(
        SET_INTSET,
        &intset(2, &[1, 2]),
        &[2, 0, 0, 0],
        "shorter than its header",
    )
    .rule_is("intset-header");
}

#[test]
fn zipmap_shorter_than_2_bytes() {
    blob_rule(
        HASH_ZIPMAP,
        &zipmap(&[(b"a", b"1")]),
        &[0xff],
        "shorter than 2 bytes",
    )
    .rule_is("zipmap-size");
}

#[test]
fn hash_listpack_ex_not_a_multiple_of_3() {
    let lpex = |elems: &[El]| hash_listpack_ex_of(T, elems);
    let good = lpex(&[s("f1"), s("v1"), n(T), s("f2"), s("v2"), n(0)]);
    // One and two elements short of the second triplet.
    for cut in [4, 5] {
        let elems = [s("f1"), s("v1"), n(T), s("f2"), s("v2"), n(0)];
        value_rule(
            HASH_LISTPACK_EX,
            &good,
            &lpex(&elems[..cut]),
            "listpack ended",
        )
        .rule_is("listpack-elements");
    }
}

// ---------------------------------------------------------------------------
// NaN scores (docs/format.md#sorted-set-scores)
// ---------------------------------------------------------------------------

#[test]
fn nan_score_type_3() {
    // 253 is the ASCII-double marker for NaN.
    value_rule(
        ZSET,
        &zset_ascii(&[(b"a", Some("1")), (b"b", Some("inf"))]),
        &zset_ascii(&[(b"a", Some("1")), (b"b", None)]),
        "NaN score",
    )
    .rule_is("zset-nan-score");
    // "nan" as text (Redis reads it with %lg).
    value_rule(
        ZSET,
        &zset_ascii(&[(b"a", Some("1"))]),
        &zset_ascii(&[(b"a", Some("nan"))]),
        "NaN score",
    )
    .rule_is("zset-nan-score");
}

#[test]
fn nan_score_type_5() {
    value_rule(
        ZSET_2,
        &zset_binary(&[(b"a", 1.0), (b"b", f64::NEG_INFINITY)]),
        &zset_binary(&[(b"a", 1.0), (b"b", f64::NAN)]),
        "NaN score",
    )
    .rule_is("zset-nan-score");
}

/// Redis 7.0-7.4 do not check listpack scores for NaN (redis-check-rdb
/// 7.0.15 passes this file); Valkey does, and so does the checker.
#[test]
fn nan_score_listpack() {
    blob_rule(
        ZSET_LISTPACK,
        &listpack(&[s("a"), s("1.5"), s("b"), s("inf")]),
        &listpack(&[s("a"), s("1.5"), s("b"), s("nan")]),
        "NaN score",
    )
    .rule_is("zset-nan-score");
}

// ---------------------------------------------------------------------------
// Hash field TTLs (docs/format.md#hash-field-ttls)
// ---------------------------------------------------------------------------

#[test]
fn hash_listpack_ex_ttl_above_max() {
    value_rule(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f", b"v", MAX_TTL)]),
        &hash_listpack_ex(T, &[(b"f", b"v", MAX_TTL + 1)]),
        "invalid expire time",
    )
    .rule_is("hash-field-ttl-range");
}

#[test]
fn hash_listpack_ex_negative_ttl() {
    value_rule(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f", b"v", 1)]),
        &hash_listpack_ex(T, &[(b"f", b"v", -1)]),
        "invalid expire time",
    )
    .rule_is("hash-field-ttl-range");
}

#[test]
fn hash_listpack_ex_ttl_not_an_integer() {
    let lpex = |ttl: El| hash_listpack_ex_of(T, &[s("f"), s("v"), ttl]);
    value_rule(
        HASH_LISTPACK_EX,
        &lpex(n(T)),
        &lpex(s("soon")),
        "not an integer",
    )
    .rule_is("hash-field-ttl-integer");
}

#[test]
fn hash_listpack_ex_ttl_less_field_before_ttl_field() {
    // The vector of docs/format.md#worked-examples with the two triplets swapped.
    value_rule(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f1", b"v1", T), (b"f2", b"v2", 0)]),
        &hash_listpack_ex(T, &[(b"f2", b"v2", 0), (b"f1", b"v1", T)]),
        "after fields without TTL",
    )
    .rule_is("hash-field-ttl-order");
}

#[test]
fn hash_listpack_ex_ttls_not_ascending() {
    // Equal TTLs are fine (non-decreasing).
    ok(&file(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f1", b"v1", T), (b"f2", b"v2", T)]),
    ));
    value_rule(
        HASH_LISTPACK_EX,
        &hash_listpack_ex(T, &[(b"f1", b"v1", T), (b"f2", b"v2", T + 1)]),
        &hash_listpack_ex(T, &[(b"f1", b"v1", T + 1), (b"f2", b"v2", T)]),
        "not ascending",
    )
    .rule_is("hash-field-ttl-order");
}

#[test]
fn hash_metadata_expire_above_max() {
    // expireAt = minExpire + ttl - 1: MAX_TTL passes, MAX_TTL + 1 fails.
    value_rule(
        HASH_METADATA,
        &hash_metadata(MAX_TTL - 1, &[(2, b"f", b"v")]),
        &hash_metadata(MAX_TTL - 1, &[(3, b"f", b"v")]),
        "invalid expire time",
    )
    .rule_is("hash-field-ttl-range");
}

#[test]
fn hash_metadata_pre_ga_expire_above_max() {
    // Redis type 22 (7.4 RCs): absolute expireAt.
    value_rule(
        22,
        &hash_metadata_pre_ga(&[(MAX_TTL as u64, b"f", b"v")]),
        &hash_metadata_pre_ga(&[(MAX_TTL as u64 + 1, b"f", b"v")]),
        "invalid expire time",
    )
    .rule_is("hash-field-ttl-range");
}

/// redis src/rdb.c (RDB_TYPE_HASH_METADATA): `if (minExpire >
/// EB_EXPIRE_TIME_INVALID) rdbReportCorruptRDB("Hash read invalid minExpire
/// value");` - fatal when loading a file. With only TTL-less fields (ttl 0)
/// the checker never looks at minExpire.
#[test]

fn hash_metadata_min_expire_above_invalid() {
    value_rule(
        HASH_METADATA,
        &hash_metadata(T, &[(0, b"f", b"v")]),
        &hash_metadata((1 << 48) + 1, &[(0, b"f", b"v")]),
        "expire",
    )
    .rule_is("hash-min-expire-range");
}

#[test]
fn valkey_hash2_expire_below_minus_one() {
    // -1 is "no TTL".
    rule(
        &valkey_file(22, &valkey_hash2(&[(b"f1", b"v1", T), (b"f2", b"v2", -1)])),
        &valkey_file(22, &valkey_hash2(&[(b"f1", b"v1", T), (b"f2", b"v2", -2)])),
        "invalid expire time",
    )
    .rule_is("hash-field-ttl-range");
}

// ---------------------------------------------------------------------------
// Quicklist (docs/format.md#quicklist)
// ---------------------------------------------------------------------------

fn ql_packed() -> Vec<u8> {
    string(listpack(&[s("a"), n(1)]))
}

#[test]
fn quicklist_v2_container_not_1_or_2() {
    let good = quicklist2(&[(2, ql_packed()), (1, string("plain"))]);
    for container in [0, 3, 64] {
        let bad = quicklist2(&[(container, ql_packed()), (1, string("plain"))]);
        value_rule(
            LIST_QUICKLIST_2,
            &good,
            &bad,
            "neither 1 (plain) nor 2 (packed)",
        )
        .rule_is("quicklist-container");
    }
}

#[test]
fn quicklist_v2_packed_nodes_are_checked_as_listpacks() {
    let mut bad_lp = listpack(&[s("a"), n(1)]);
    put_u16(&mut bad_lp, 4, 3);
    value_rule(
        LIST_QUICKLIST_2,
        &quicklist2(&[(1, string("plain")), (2, ql_packed())]),
        &quicklist2(&[(1, string("plain")), (2, string(bad_lp))]),
        "header says 3 elements",
    )
    .rule_is("listpack-count");
    // A zero-length node is refused whatever its container.
    ok(&file(LIST_QUICKLIST_2, &quicklist2(&[(2, ql_packed())])));
    broken_at_end(
        &file(LIST_QUICKLIST_2, &quicklist2(&[(2, string(""))])),
        "empty",
    )
    .rule_is("quicklist-empty-node");
}

/// redis src/rdb.c (quicklist branch): `if (data == NULL || (encoded_len ==
/// 0)) { ... return NULL; }` runs before the container check, so a
/// zero-length PLAIN node fails the load too (redis-check-rdb 7.0.15 stops
/// there).
#[test]

fn quicklist_v2_zero_length_plain_node() {
    value_rule(
        LIST_QUICKLIST_2,
        &quicklist2(&[(1, string("x"))]),
        &quicklist2(&[(1, string(""))]),
        "empty",
    )
    .rule_is("quicklist-empty-node");
}

// ---------------------------------------------------------------------------
// Streams (docs/format.md#streams, #stream-entries)
// ---------------------------------------------------------------------------

fn stream_elems_with(i: usize, e: El) -> Stream {
    let mut elems = example_stream_elems();
    elems[i] = e;
    stream_with_elems(elems)
}

#[test]
fn stream_lp_count_wrong() {
    stream_rule(
        &example_stream(),
        &stream_elems_with(ex::E1_LP_COUNT, n(6)),
        "lp-count",
    )
    .rule_is("stream-lp-count");
}

#[test]
fn stream_entry_field_count_negative() {
    stream_rule(
        &example_stream(),
        &stream_elems_with(ex::E3_FLAGS + 3, n(-1)),
        "field count is negative",
    )
    .rule_is("stream-entry-fields");
}

#[test]
fn stream_entry_flags_not_an_integer() {
    stream_rule(
        &example_stream(),
        &stream_elems_with(ex::E3_FLAGS, s("x")),
        "expected an integer",
    )
    .rule_is("listpack-integer");
}

#[test]
fn stream_master_entry_not_terminated_by_0() {
    stream_rule(
        &example_stream(),
        &stream_elems_with(ex::MASTER_TERMINATOR, n(1)),
        "does not end with 0",
    )
    .rule_is("stream-master-entry");
}

#[test]
fn stream_entry_count_more_than_present() {
    // count + deleted = 4, 3 entries present.
    stream_rule(
        &example_stream(),
        &stream_elems_with(ex::COUNT, n(4)),
        "listpack ended",
    )
    .rule_is("listpack-elements");
}

#[test]
fn stream_entry_count_fewer_than_present() {
    // count + deleted = 2: the third entry is left over.
    stream_rule(
        &example_stream(),
        &stream_elems_with(ex::COUNT, n(2)),
        "after its last entry",
    )
    .rule_is("stream-trailing-elements");
}

/// count = 2, deleted = 1 with the third entry flagged deleted is right;
/// clearing its DELETED flag leaves 3 live entries for a count of 2.
/// Stricter than Redis: `streamValidateListpackIntegrity` only compares
/// count + deleted with the entries present (redis-check-rdb 7.0.15 passes
/// such a file), but a master count that disagrees with the flags makes
/// XDEL free the node while live entries remain in it.
#[test]
fn stream_entry_count_differs_from_live_entries() {
    let with_flags = |flags: i64| {
        let mut elems = example_stream_elems();
        elems[ex::COUNT] = n(2);
        elems[ex::DELETED] = n(1);
        elems[ex::E3_FLAGS] = n(flags);
        let mut st = stream_with_elems(elems);
        st.length = 2;
        st.max_deleted_id = id(5, 0);
        st
    };
    stream_rule(&with_flags(1), &with_flags(0), "live entries").rule_is("stream-live-count");
}

#[test]
fn stream_extra_elements_after_last_entry() {
    let mut elems = example_stream_elems();
    elems.push(n(0));
    stream_rule(
        &example_stream(),
        &stream_with_elems(elems),
        "after its last entry",
    )
    .rule_is("stream-trailing-elements");
}

#[test]
fn stream_empty_listpack() {
    let mut empty_string = example_stream();
    empty_string.nodes[0].listpack = Vec::new();
    stream_rule(&example_stream(), &empty_string, "empty").rule_is("stream-empty-listpack");
    // A well-formed listpack with no elements at all.
    let mut no_elements = example_stream();
    no_elements.nodes[0].listpack = listpack(&[]);
    stream_rule(&example_stream(), &no_elements, "listpack ended").rule_is("listpack-elements");
}

#[test]
fn stream_master_id_not_16_bytes() {
    for size in [0, 15, 17] {
        let key = &cat![id16(1, 1), [0u8]][..size];
        let bad = with_master_key(&example_stream(), STREAM_V3, key);
        rule(
            &stream_file(&example_stream()),
            &file(STREAM_LISTPACKS_3, &bad),
            &format!("is {size} bytes"),
        )
        .rule_is("stream-master-id");
    }
}

/// Two nodes: 1-1 (entries 1-1, 1-2) and 5-0 (entry 5-0).
#[rustfmt::skip]
fn two_node_stream(second_master: (u64, u64)) -> Stream {
    let a = [
        n(2),
        n(0),
        n(2),
        s("a"),
        s("b"),
        n(0),
        n(2),
        n(0),
        n(0),
        n(1),
        s("x"),
        n(5),
        n(2),
        n(0),
        n(1),
        n(2),
        s("y"),
        n(5),
    ];
    let b = [
        n(1),
        n(0),
        n(1),
        s("c"),
        n(0),
        n(2),
        n(0),
        n(0),
        s("z"),
        n(4),
    ];
    let mut st = example_stream();
    st.nodes = vec![
        Node {
            master_id: id(1, 1),
            listpack: listpack(&a),
        },
        Node {
            master_id: id(second_master.0, second_master.1),
            listpack: listpack(&b),
        },
    ];
    st
}

#[test]
fn stream_duplicate_master_id() {
    stream_rule(
        &two_node_stream((5, 0)),
        &two_node_stream((1, 1)),
        "appears twice",
    )
    .rule_is("stream-master-id-duplicate");
}

#[test]
fn stream_length_without_listpacks() {
    let empty = |length: u64| Stream {
        length,
        ..Stream::default()
    };
    stream_rule(&empty(0), &empty(1), "no listpacks").rule_is("stream-length");
}

fn stream_with_groups(groups: Vec<Group>) -> Stream {
    let mut st = example_stream();
    st.groups = groups;
    st
}

#[test]
fn stream_group_pel_entry_without_consumer() {
    stream_rule(
        &example_stream(),
        &stream_with_groups(vec![group("g", &[(1, 1)], vec![consumer("alice", &[])])]),
        "has no consumer",
    )
    .rule_is("stream-pel-owner");
}

#[test]
fn stream_consumer_pel_entry_not_in_group_pel() {
    stream_rule(
        &example_stream(),
        &stream_with_groups(vec![group("g", &[], vec![consumer("alice", &[(1, 1)])])]),
        "not in the group PEL",
    )
    .rule_is("stream-consumer-pel-unknown");
}

#[test]
fn stream_duplicate_group_name() {
    let groups = |second: &str| {
        stream_with_groups(vec![
            group("g", &[(1, 1)], vec![consumer("alice", &[(1, 1)])]),
            group(second, &[], vec![]),
        ])
    };
    stream_rule(&groups("h"), &groups("g"), "duplicate consumer group name")
        .rule_is("stream-group-duplicate");
}

#[test]
fn stream_duplicate_consumer_name() {
    let consumers = |second: &str| {
        stream_with_groups(vec![group(
            "g",
            &[(1, 1)],
            vec![consumer("alice", &[(1, 1)]), consumer(second, &[])],
        )])
    };
    stream_rule(
        &consumers("bob"),
        &consumers("alice"),
        "duplicate consumer name",
    )
    .rule_is("stream-consumer-duplicate");
}

#[test]
fn stream_duplicate_group_pel_entry() {
    let pel = |second: (u64, u64)| {
        stream_with_groups(vec![group(
            "g",
            &[(1, 1), second],
            vec![consumer("alice", &[(1, 1), (1, 2)])],
        )])
    };
    stream_rule(&pel((1, 2)), &pel((1, 1)), "duplicate PEL entry").rule_is("stream-pel-duplicate");
}

#[test]
fn stream_pel_entry_owned_by_two_consumers() {
    // redis-check-rdb 7.0.15: "Stream consumer PEL entry already has a
    // consumer assigned".
    let owners = |bob: &[(u64, u64)]| {
        stream_with_groups(vec![group(
            "g",
            &[(1, 1)],
            vec![consumer("alice", &[(1, 1)]), consumer("bob", bob)],
        )])
    };
    stream_rule(&owners(&[]), &owners(&[(1, 1)]), "owned twice").rule_is("stream-pel-owned-twice");
}

#[test]
fn stream_duplicate_consumer_pel_entry() {
    // Redis: "Duplicated consumer PEL entry loading a stream consumer group".
    stream_rule(
        &example_stream(),
        &stream_with_groups(vec![group(
            "g",
            &[(1, 1)],
            vec![consumer("alice", &[(1, 1), (1, 1)])],
        )]),
        "owned twice",
    )
    .rule_is("stream-pel-owned-twice");
}

// ---------------------------------------------------------------------------
// File level (docs/format.md#file-layout, #crc-64-trailer)
// ---------------------------------------------------------------------------

fn two_keys(db_a: u64, a: &[u8], db_b: u64, b: &[u8]) -> Built {
    let mut f = RdbFile::redis(12)
        .select_db(db_a)
        .key(STRING, a, &string("1"));
    if db_b != db_a {
        f = f.select_db(db_b);
    }
    f.key(STRING, b, &string("2")).finish()
}

#[test]
fn duplicate_key_in_one_db() {
    ok(&two_keys(0, b"j", 0, b"k"));
    // Reported at the second occurrence.
    let bad = two_keys(0, b"k", 0, b"k");
    let p = broken_at(&bad, "duplicate key", bad.spans[1]).rule_is("duplicate-key");
    assert_eq!(p.kind, "duplicate-key");
    // The same key in two databases is fine.
    ok(&two_keys(0, b"k", 1, b"k"));
    // Leaving a database and coming back is still the same database.
    let back = RdbFile::redis(12)
        .select_db(0)
        .key(STRING, b"k", &string("1"))
        .select_db(1)
        .key(STRING, b"k", &string("2"))
        .select_db(0)
        .key(STRING, b"k", &string("3"))
        .finish();
    broken_at(&back, "database 0", back.spans[2]).rule_is("duplicate-key");
}

/// Past the fingerprint budget, prints are spilled to temporary files and
/// merged: the same duplicates are found as when all are held in memory.
#[test]
fn duplicate_keys_found_across_spilled_runs() {
    let mut f = RdbFile::redis(12);
    for db in 0..3u64 {
        f = f.select_db(db);
        for i in 0..400u32 {
            f = f.key(STRING, format!("key:{i}").as_bytes(), &string("v"));
        }
        // Repeats far apart, so they land in different runs.
        f = f.key(
            STRING,
            format!("key:{}", 7 + db).as_bytes(),
            &string("again"),
        );
    }
    let bad = f.finish();
    let problems = |budget: usize| {
        let opts = Options {
            now_ms: 0,
            key_print_budget: budget,
            ..Options::default()
        };
        let r = check(&bad.bytes, "test.rdb", &opts, |_| {});
        let first = r.first_problem.as_ref().expect("a problem");
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        first.clone().rule_is("duplicate-key");
        (r.problems, first.kind, first.error.to_string())
    };
    let in_memory = problems(1 << 20);
    assert_eq!(in_memory.0, 3, "{in_memory:?}");
    assert_eq!(in_memory.1, "duplicate-key");
    assert!(in_memory.2.contains("key:7"), "{in_memory:?}");
    for budget in [16, 333] {
        assert_eq!(problems(budget), in_memory, "budget {budget}");
    }
}

fn one_string_file() -> Built {
    file(STRING, &string("v"))
}

#[test]
fn trailing_garbage_after_checksum() {
    let good = one_string_file();
    let end = good.bytes.len();
    let tail = Span {
        start: end,
        end: end + 1,
        key: false,
    };
    ok(&good);
    for junk in [&b"x"[..], b"\0", b"*1\r\n$4\r\nPING\r\n"] {
        let bad = Built {
            bytes: cat![good.bytes, junk],
            spans: vec![],
        };
        let p = broken_at(&bad, "trailing", tail).rule_is("trailing-data");
        assert_eq!(p.kind, "trailing-data");
    }
    // Not quite a diskless EOF mark: 39 hex digits, or 40 with a non-hex.
    let mark = "0123456789abcdef0123456789ABCDEF01234567";
    for not_mark in [&mark[..39], &mark.replace('7', "g")[..]] {
        let bad = Built {
            bytes: cat![good.bytes, not_mark.as_bytes()],
            spans: vec![],
        };
        broken_at(&bad, "trailing", tail).rule_is("trailing-data");
    }
}

#[test]
fn diskless_eof_mark_after_checksum_is_fine() {
    let good = one_string_file();
    let f = Built {
        bytes: cat![good.bytes, b"0123456789abcdef0123456789ABCDEF01234567"],
        spans: vec![],
    };
    let r = ok(&f);
    assert!(
        r.notes.iter().any(|n| n.contains("EOF mark")),
        "{:?}",
        r.notes
    );
}

#[test]
fn crc_mismatch() {
    let good = one_string_file();
    let crc_at = good.bytes.len() - 8;
    let crc = Span {
        start: crc_at,
        end: good.bytes.len(),
        key: false,
    };
    ok(&good);
    // A data byte changed ("v" -> "w"), the stored CRC kept.
    let mut data = good.clone();
    let v = data.bytes.iter().rposition(|&b| b == b'v').unwrap();
    data.bytes[v] = b'w';
    let p = broken_at(&data, "checksum", crc).rule_is("checksum");
    assert_eq!((p.kind, p.stage), ("checksum", Stage::CheckSum));
    let r = run(&data.bytes);
    assert!(r.checksum_mismatch);
    // The stored CRC changed.
    let mut stored = good.clone();
    stored.bytes[crc_at] ^= 1;
    broken_at(&stored, "checksum", crc).rule_is("checksum");
    // `ignore_checksum` turns the comparison off.
    let opts = Options {
        ignore_checksum: true,
        now_ms: 0,
        ..Options::default()
    };
    let r = check(&data.bytes, "x", &opts, |_| {});
    assert!(r.is_ok(), "{:?}", r.first_problem);
}

#[test]
fn checksum_zero_means_disabled() {
    let f = RdbFile::redis(12)
        .select_db(0)
        .key(STRING, b"k", &string("v"))
        .finish_unchecked();
    let r = ok(&f);
    assert_eq!(r.checksum, Some(Checksum::Disabled));
    // Nothing to verify: a changed byte goes unnoticed, as in Redis.
    let mut changed = f.clone();
    let v = changed.bytes.iter().rposition(|&b| b == b'v').unwrap();
    changed.bytes[v] = b'w';
    ok(&changed);
}

#[test]
fn rdb_before_version_5_has_no_checksum() {
    let f = RdbFile::redis(4)
        .select_db(0)
        .key(STRING, b"k", &string("v"))
        .finish();
    assert_eq!(*f.bytes.last().unwrap(), 0xff);
    let r = ok(&f);
    assert_eq!(r.checksum, Some(Checksum::Absent));
}

#[test]
fn truncated_file() {
    let f = RdbFile::redis(12)
        .aux("redis-ver", "7.4.0")
        .select_db(0)
        .resize_db(3, 1)
        .key(SET_LISTPACK, b"set", &string(listpack(&[s("a"), n(1)])))
        .key_expiring(T, STRING, b"str", &lzf_string(&LZF_100A, 100))
        .key(
            STREAM_LISTPACKS_3,
            b"stream",
            &example_stream().encode(STREAM_V3),
        )
        .finish();
    ok(&f);
    for cut in 0..f.bytes.len() {
        let r = run(&f.bytes[..cut]);
        let p = r
            .first_problem
            .as_ref()
            .unwrap_or_else(|| panic!("a file cut at {cut} bytes passed"));
        assert!(!r.is_ok());
        assert_eq!(p.kind, "truncated", "cut at {cut}: {p:?}");
        p.clone().rule_is("truncated");
        assert!(p.offset <= cut as u64, "cut at {cut}: {p:?}");
    }
}

#[test]
fn lzf_string_over_the_decompressed_size_limit() {
    let f = file(STRING, &lzf_string(&LZF_100A, 100));
    ok(&f);
    let opts = Options {
        now_ms: 0,
        max_decompressed: 50,
        ..Options::default()
    };
    let r = check(&f.bytes, "test.rdb", &opts, |_| {});
    let p = r
        .first_problem
        .expect("a value over the limit is a problem");
    assert_eq!(p.kind, "limit", "{p:?}");
    assert!(p.message().contains("limit"), "{p:?}");
    p.rule_is("size-limit");
}

// ---------------------------------------------------------------------------
// Modules (docs/format.md#modules)
// ---------------------------------------------------------------------------

/// A module value with every opcode; `op` replaces the first opcode (UINT).
fn module_value(op: u8) -> Vec<u8> {
    module_value_with_id(module_id("hellotype", 3), op)
}

fn module_value_with_id(id: u64, op: u8) -> Vec<u8> {
    use rdbscope_rdb::write::module;
    // The first item is UINT 5 when `op` is 2, else an opcode under test;
    // the rest comes from the writer: SINT 7, FLOAT, DOUBLE, STRING, EOF.
    let mut v = cat![len(id), [op], len(5)];
    module::sint(&mut v, 7);
    module::float(&mut v, 1.5);
    module::double(&mut v, 1.5);
    module::string(&mut v, b"x");
    module::eof(&mut v);
    v
}

#[test]
fn module_unknown_opcode() {
    for op in [6u8, 7, 10, 63] {
        value_rule(
            MODULE_2,
            &module_value(2),
            &module_value(op),
            &format!("unknown module opcode {op}"),
        )
        .rule_is("module-opcode");
    }
}

#[test]
fn module_id_0() {
    value_rule(
        MODULE_2,
        &module_value(2),
        &module_value_with_id(0, 2),
        "module id 0",
    )
    .rule_is("module-id");
}

#[test]
fn module_value_without_eof() {
    // Without its final 0 the opcode stream runs into the EOF byte.
    let good = module_value(2);
    ok(&file(MODULE_2, &good));
    broken_at_end(&file(MODULE_2, &good[..good.len() - 1]), "module opcode")
        .rule_is("module-opcode");
}

#[test]
fn module_pre_ga_type_6() {
    // Redis 4.0 release candidates' format, without opcodes: unreadable
    // without the module, refused by Redis >= 4.0 GA.
    ok(&file(MODULE_2, &module_value(2)));
    let p = broken(&file(MODULE_PRE_GA, &module_value(2)), "pre-GA").rule_is("module-pre-ga");
    assert_eq!(p.kind, "unsupported");
}

#[test]
fn module_aux_record() {
    let id = module_id("hellotype", 3);
    let aux = |when_opcode: u8, op: u8| {
        RdbFile::redis(12)
            .raw(&cat![
                [0xf7],
                len(id),
                [when_opcode],
                [1],
                [op],
                len(5),
                [0]
            ])
            .finish()
    };
    rule(&aux(2, 2), &aux(1, 2), "when").rule_is("module-aux-when");
    rule(&aux(2, 2), &aux(2, 9), "unknown module opcode 9").rule_is("module-opcode");
    let zero = RdbFile::redis(12)
        .raw(&cat![[0xf7], len(0), [2], [1], [0]])
        .finish();
    broken(&zero, "module id 0").rule_is("module-id");
}

// ---------------------------------------------------------------------------
// Other opcodes (docs/format.md#opcodes)
// ---------------------------------------------------------------------------

#[test]
fn valkey_slot_import_job_name_not_40_bytes() {
    let import = |job: &[u8]| {
        RdbFile::valkey(80)
            .raw(&cat![[0xf3], string(job), [1], len(16383), len(16383)])
            .finish()
    };
    rule(
        &import(b"f7acd40f147a6f3d4a2123d48c25d72ede295b98"),
        &import(b"f"),
        "40",
    )
    .rule_is("slot-import-job-name");
}

#[test]
fn key_meta_more_than_7_classes() {
    let class = cat![*b"ABCD", [2], len(5), [0]];
    let with_classes = |k: usize| {
        let meta = cat![[0xf3], len(k as u64), class.repeat(k)];
        RdbFile::redis(13)
            .select_db(0)
            .record(&meta, STRING, &string("k"), &string("v"))
            .finish()
    };
    ok(&with_classes(7));
    broken_before_key(&with_classes(8), "at most 7").rule_is("key-meta-classes");
}

// ---------------------------------------------------------------------------
// Empty collections are skipped by Redis, not errors (docs/format.md#object-types)
// ---------------------------------------------------------------------------

#[test]
fn empty_collections_are_not_problems() {
    let f = RdbFile::redis(12)
        .select_db(0)
        .key(SET, b"a", &len(0))
        .key(HASH, b"b", &len(0))
        .key(ZSET_2, b"c", &len(0))
        .key(LIST_ZIPLIST, b"d", &string(ziplist(&[])))
        .key(SET_LISTPACK, b"e", &string(listpack(&[])))
        .key(LIST_QUICKLIST_2, b"f", &len(0))
        .finish();
    let r = ok(&f);
    assert_eq!(r.empty_keys, 6);
}
