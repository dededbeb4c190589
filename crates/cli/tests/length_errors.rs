//! 2^64-1 is what Redis's `rdbLoadLen` returns when it cannot read a
//! length (`RDB_LENERR`), so the loader refuses a length that decodes to it
//! wherever it compares with it, and takes it as a plain number where it
//! does not (stream IDs and counters). `check` once said OK on such files
//! (RESIZEDB, SELECTDB, IDLE). Here 2^64-1 is put in every place Redis
//! reads a length, and our verdict must be the real checkers' verdict,
//! site by site: Redis 6.2's, Redis 7.0's and Valkey 9.1's
//! `*-check-rdb`. Skipped without them (said so), failed under
//! `REQUIRE_REDIS=1`.

use rdbscope_rdb::write::records::Writer;
use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::TempDir;
use std::process::Command;

/// The 64-bit length form holding 2^64-1.
const LENERR: [u8; 9] = [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

fn s(b: &[u8]) -> Vec<u8> {
    let mut v = vec![b.len() as u8];
    v.extend_from_slice(b);
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A whole RDB 9 file: `body` after the header (raw bytes: opcodes and
/// key records), then one good key, the EOF and a correct checksum.
fn file(body: &[u8]) -> Vec<u8> {
    let mut w = Writer::redis(Vec::new(), 9).unwrap();
    w.raw(body).unwrap();
    w.raw(&cat(&[&[0x00], &s(b"after"), &s(b"ok")])).unwrap();
    w.finish().unwrap()
}

/// Each place, with whether Redis reads it as a length (refused) or as a
/// number (accepted), as the loader's source says; the checkers decide.
fn cases() -> Vec<(&'static str, Vec<u8>, bool)> {
    let set_key = |v: &[u8]| cat(&[&[0xfe, 0x00], &[0x00], &s(b"k"), v]);
    vec![
        ("good file", file(&[0xfe, 0x00]), false),
        (
            "RESIZEDB keys",
            file(&cat(&[&[0xfe, 0x00, 0xfb], &LENERR, &[0x00]])),
            true,
        ),
        (
            "RESIZEDB expires",
            file(&cat(&[&[0xfe, 0x00, 0xfb, 0x01], &LENERR])),
            true,
        ),
        ("SELECTDB", file(&cat(&[&[0xfe], &LENERR])), true),
        (
            "IDLE",
            file(&cat(&[
                &[0xfe, 0x00, 0xf8],
                &LENERR,
                &[0x00],
                &s(b"k"),
                &s(b"v"),
            ])),
            true,
        ),
        (
            "aux value length",
            file(&cat(&[&[0xfa], &s(b"x"), &LENERR])),
            true,
        ),
        (
            "key length",
            file(&cat(&[&[0xfe, 0x00, 0x00], &LENERR])),
            true,
        ),
        ("string value length", file(&set_key(&LENERR)), true),
        (
            "LZF compressed length",
            file(&set_key(&cat(&[&[0xc3], &LENERR, &[0x01, 0x00, b'a']]))),
            true,
        ),
        (
            "LZF uncompressed length",
            file(&set_key(&cat(&[&[0xc3, 0x02], &LENERR, &[0x00, b'a']]))),
            true,
        ),
        (
            "list (linked) length",
            file(&cat(&[&[0xfe, 0x00, 0x01], &s(b"l"), &LENERR])),
            true,
        ),
        (
            "set size",
            file(&cat(&[&[0xfe, 0x00, 0x02], &s(b"s"), &LENERR])),
            true,
        ),
        (
            "zset size",
            file(&cat(&[&[0xfe, 0x00, 0x05], &s(b"z"), &LENERR])),
            true,
        ),
        (
            "hash size",
            file(&cat(&[&[0xfe, 0x00, 0x04], &s(b"h"), &LENERR])),
            true,
        ),
        (
            "quicklist node count",
            file(&cat(&[&[0xfe, 0x00, 0x0e], &s(b"q"), &LENERR])),
            true,
        ),
        (
            "stream node count",
            file(&cat(&[&[0xfe, 0x00, 0x0f], &s(b"x"), &LENERR])),
            true,
        ),
        (
            // No nodes, length 0, last ID 2^64-1 - 0, no groups: an empty
            // stream whose last ID is a plain number to the loader.
            "stream last ID ms",
            file(&cat(&[
                &[0xfe, 0x00, 0x0f],
                &s(b"x"),
                &[0x00, 0x00],
                &LENERR,
                &[0x00, 0x00],
            ])),
            false,
        ),
        (
            "stream group count",
            file(&cat(&[
                &[0xfe, 0x00, 0x0f],
                &s(b"x"),
                &[0x00, 0x00, 0x00, 0x00],
                &LENERR,
            ])),
            true,
        ),
        (
            "module AUX module id",
            file(&cat(&[&[0xf7], &LENERR, &[0x02, 0x02, 0x00]])),
            true,
        ),
    ]
}

#[test]
fn length_error_value_verdicts_agree_with_the_real_checkers() {
    let test = "length_error_value_verdicts_agree_with_the_real_checkers";
    let checkers: Vec<_> = Oracle::ALL
        .iter()
        .filter_map(|o| o.check_rdb(test).map(|p| (*o, p)))
        .collect();
    let tmp = TempDir::new("length-errors");
    for (i, (site, bytes, refused)) in cases().into_iter().enumerate() {
        let path = tmp.path.join(format!("case-{i}.rdb"));
        std::fs::write(&path, &bytes).unwrap();
        let ours = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .args(["check", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&ours.stdout);
        let ours_ok = ours.status.code() == Some(0);
        assert_eq!(!ours_ok, refused, "{site}: rdbscope said {report}");
        if refused && site.starts_with("RESIZEDB") || site == "SELECTDB" || site == "IDLE" {
            assert!(report.contains("length-error-value"), "{site}: {report}");
        }
        for (oracle, checker) in &checkers {
            let theirs = Command::new(checker).arg(&path).output().unwrap();
            let out = String::from_utf8_lossy(&theirs.stdout);
            assert_eq!(
                theirs.status.code() == Some(0),
                ours_ok,
                "{site}: {oracle:?} {}:\n{out}\nrdbscope: {report}",
                checker.display()
            );
        }
    }
}
