//! Streamed input in bounded memory: a generator behind a pipe writes a
//! valid header and then hundreds of megabytes of small valid key records
//! into `rdbscope check -` and `rdbscope dump -`, then cuts the stream in
//! the middle of a record. The report must name the truncation, and the
//! process's peak resident set (from `wait4`'s rusage) must stay at most
//! 64 MB, however much was streamed.
//!
//! The same through gzip: decompressed as it arrives, in the same memory.
//!
//! The stream is 2 GiB by default (a few seconds per command for the debug
//! binary: string values cost little to check);
//! `RDBSCOPE_STREAM_TEST_MB` changes it.

use std::io::Write;
use std::process::{Command, Stdio};

const PEAK_LIMIT_KB: i64 = 64 * 1024;

/// One string key record: type 0, a 16-byte key, a 1000-byte value.
fn record(i: u64, out: &mut Vec<u8>) {
    out.push(0);
    out.push(16);
    out.extend_from_slice(format!("key:{i:012}").as_bytes());
    out.extend_from_slice(&[0x40 | (1000 >> 8) as u8, (1000 & 0xff) as u8]);
    let fill = b'a' + (i % 26) as u8;
    out.extend(std::iter::repeat_n(fill, 1000));
}

/// Runs `rdbscope <args> -` with the generated stream on stdin (a header,
/// `RDBSCOPE_STREAM_TEST_MB` MiB of key records, then half a record),
/// gzip'd when asked (the gzip stream itself whole); `fed` is the number
/// of bytes streamed.
fn run_streamed(args: &[&str], gzip: bool) -> rdbscope_testkit::child::Fed<u64> {
    let total = rdbscope_testkit::child::stream_mb(2048) << 20;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    cmd.args(args)
        .arg("-")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    rdbscope_testkit::child::run_fed(cmd, move |stdin| {
        let mut sink = rdbscope_testkit::child::stdin_sink(stdin, gzip);
        let mut buf = b"REDIS0011\xfe\x00".to_vec();
        let (mut sent, mut i) = (0u64, 0u64);
        while sent < total {
            while buf.len() < 1 << 20 {
                record(i, &mut buf);
                i += 1;
            }
            if sink.write_all(&buf).is_err() {
                return sent;
            }
            sent += buf.len() as u64;
            buf.clear();
        }
        // Cut mid-record: a type byte, a key length, half the key.
        let _ = sink.write_all(b"\x00\x10key:0000");
        let _ = sink.flush();
        sent + 9
    })
}

#[test]
fn check_of_a_long_stream_cut_mid_record_stays_small() {
    let r = run_streamed(&["check", "--format", "json"], false);
    let (out, err, code, peak_kb, sent) = (r.out, r.err, r.code, r.peak_kb, r.fed);
    assert_eq!(code, 1, "stderr: {err}");
    assert!(out.contains("\"truncated\""), "report: {out}");
    assert!(
        err.contains("end of") || err.contains("truncat"),
        "stderr: {err}"
    );
    assert!(
        peak_kb <= PEAK_LIMIT_KB,
        "peak RSS {peak_kb} KiB after streaming {sent} bytes"
    );
    eprintln!("check: {sent} bytes streamed, peak RSS {peak_kb} KiB");
}

#[test]
fn dump_of_a_long_stream_cut_mid_record_stays_small() {
    let r = run_streamed(&["dump"], false);
    let (err, code, peak_kb, sent) = (r.err, r.code, r.peak_kb, r.fed);
    assert_eq!(code, 1, "stderr: {err}");
    assert!(
        err.contains("end of") || err.contains("truncat"),
        "stderr: {err}"
    );
    assert!(
        peak_kb <= PEAK_LIMIT_KB,
        "peak RSS {peak_kb} KiB after streaming {sent} bytes"
    );
    eprintln!("dump: {sent} bytes streamed, peak RSS {peak_kb} KiB");
}

#[test]
fn a_long_gzipped_stream_cut_mid_record_stays_small() {
    for args in [&["check", "--format", "json"][..], &["dump"][..]] {
        let r = run_streamed(args, true);
        let (out, err, code, peak_kb) = (r.out, r.err, r.code, r.peak_kb);
        assert_eq!(code, 1, "{args:?}: {err}");
        if args[0] == "check" {
            assert!(out.contains("\"truncated\""), "report: {out}");
        }
        assert!(
            err.contains("end of") || err.contains("truncat"),
            "{args:?}: {err}"
        );
        assert!(peak_kb <= PEAK_LIMIT_KB, "{args:?}: peak RSS {peak_kb} KiB");
        eprintln!("{args:?} through gzip: peak RSS {peak_kb} KiB");
    }
}

#[test]
fn dev_zero_on_stdin_is_refused_at_once() {
    let start = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["check", "-"])
        .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong signature"), "{err}");
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    for cmd in ["dump", "info"] {
        let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .args([cmd, "-"])
            .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero"))
            .output()
            .expect("run");
        assert_ne!(out.status.code(), Some(0), "{cmd}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("wrong signature"));
    }
}
