//! Every input kind gives the same answers: for each corpus RDB and each
//! single-file AOF of the servers that write one (up to 6.2), as a plain
//! file, as `.gz`, `.bz2`, `.zst` and `.lz4` files, and each of those
//! piped into standard input, `dump`, `check --format json` and
//! `info --format json` (and for an AOF `dump --format resp`) write
//! byte-identical output to the plain file's, once the input's name is
//! normalised (and what a stream cannot know of its file: an AOF's size in
//! the `aof-file` record written before its commands, and the file's
//! modification time). A single-file AOF of commands is read as it
//! arrives, in bounded memory (`aof_streaming.rs`). A JSON Lines dump, plain or
//! gzip'd, dumps back to the same records. Broken compression is reported
//! by the compression layer with where it broke; a stream of zeros is
//! refused at once (2 GiB of key records gzip'd into `check -`, in
//! bounded memory: `streaming.rs`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const KINDS: [&str; 5] = ["plain", "gz", "bz2", "zst", "lz4"];

fn compress(kind: &str, bytes: &[u8]) -> Vec<u8> {
    match kind {
        "plain" => bytes.to_vec(),
        "gz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::encode_all(bytes, 1).unwrap(),
        "lz4" => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        _ => unreachable!("{kind}"),
    }
}

/// Runs rdbscope; with `stdin`, those bytes are written into a pipe (not
/// a redirected file) by a thread while the child runs.
fn run(args: &[&str], stdin: Option<Vec<u8>>) -> (Vec<u8>, String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("spawn rdbscope");
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            // The child may stop reading early (an error): a broken pipe
            // is fine.
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = child.wait_with_output().expect("wait");
    if let Some(w) = writer {
        w.join().unwrap();
    }
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// The output with the input's name (as given, JSON-escaped or not) and
/// standard input's name replaced by `INPUT`.
fn normalise(out: &[u8], names: &[&str]) -> String {
    let mut s = String::from_utf8_lossy(out).into_owned();
    for name in names.iter().filter(|n| **n != "-") {
        s = s.replace(name, "INPUT");
    }
    let s = s
        .replace("<stdin>", "INPUT")
        .replace("\"path\":\"-\"", "\"path\":\"INPUT\"")
        .replace("\"file\":\"-\"", "\"file\":\"INPUT\"");
    // What a stream cannot know of its input: an AOF file's size before
    // its commands are dumped (`null`), the size of the commands after an
    // RDB preamble's checksum before they are dumped (`null`), its
    // modification time.
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        if line.starts_with("{\"record\":\"aof-file\"")
            || line.starts_with("[{\"record\":\"aof-file\"")
        {
            out.push_str(&strip_number(line, "\"size_bytes\":", "SIZE"));
        } else if line.starts_with("{\"record\":\"eof\"")
            || line.starts_with(",{\"record\":\"eof\"")
        {
            out.push_str(&strip_number(line, "\"trailing_bytes\":", "TRAILING"));
        } else {
            out.push_str(&strip_number(line, "\"modified\":", "MTIME"));
        }
    }
    out
}

/// `line` with the number or `null` after each `field` replaced by `with`.
fn strip_number(line: &str, field: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(field) {
        let (head, tail) = rest.split_at(i + field.len());
        out.push_str(head);
        out.push_str(with);
        let n = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(tail.len());
        rest = &tail[n..];
    }
    out.push_str(rest);
    out
}

fn corpus_files(sub: &str, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let Some(dir) = rdbscope_testkit::corpus("input_kinds") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut walk = vec![dir.join(sub)];
    while let Some(d) = walk.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs every command on every kind of `files`, comparing with the plain
/// file, on two threads.
fn same_for_every_kind(files: &[PathBuf], commands: &[&[&str]]) -> usize {
    let tmp = rdbscope_testkit::TempDir::new("input-kinds");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let runs = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { return };
                let plain = file.to_str().unwrap();
                let bytes = std::fs::read(file).unwrap();
                let mut inputs = Vec::new();
                for kind in KINDS {
                    let data = compress(kind, &bytes);
                    if kind != "plain" {
                        let p = tmp.path.join(format!("{i}.{kind}"));
                        std::fs::write(&p, &data).unwrap();
                        inputs.push((p.to_str().unwrap().to_string(), None));
                    }
                    inputs.push(("-".to_string(), Some(data)));
                }
                for args in commands {
                    let mut a = args.to_vec();
                    a.push(plain);
                    let (want, _, want_code) = run(&a, None);
                    let want = normalise(&want, &[plain]);
                    if args.len() <= 3 {
                        assert!(!want.is_empty(), "{plain}: {args:?} wrote nothing");
                    }
                    for (path, stdin) in &inputs {
                        let mut a = args.to_vec();
                        a.push(path);
                        let (got, err, code) = run(&a, stdin.clone());
                        let got = normalise(&got, &[path]);
                        let how = if stdin.is_some() { "stdin" } else { path };
                        assert_eq!(code, want_code, "{plain} as {how}: {args:?}: {err}");
                        assert!(
                            got == want,
                            "{plain} as {how}: {args:?} differs from the plain file's; stderr: {err}\n--- got\n{}\n--- want\n{}",
                            &got[..got.len().min(2000)],
                            &want[..want.len().min(2000)]
                        );
                        runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    runs.into_inner()
}

#[test]
fn every_corpus_rdb_reads_the_same_from_every_input_kind() {
    let files = corpus_files("rdb", |p| p.extension().is_some_and(|e| e == "rdb"));
    if files.is_empty() {
        return;
    }
    let runs = same_for_every_kind(
        &files,
        &[
            &["dump"],
            &["check", "--format", "json"],
            &["info", "--format", "json"],
            // Filters, with `--now` from the file's ctime aux field, which
            // a stream's walk settles from its first bytes.
            &[
                "dump",
                "--format",
                "resp",
                "--not-expired",
                "--type",
                "string",
            ],
            &["info", "--format", "json", "--expired", "--db", "0"],
        ],
    );
    assert_eq!(runs, files.len() * 5 * 9);
}

#[test]
fn every_single_file_aof_reads_the_same_from_every_input_kind() {
    // Servers up to 6.2 write one appendonly.aof; 7.0 and later a
    // directory with a manifest (read from files only).
    let files = corpus_files("aof", |p| {
        p.file_name().is_some_and(|n| n == "appendonly.aof")
            && ["redis-3.", "redis-4.", "redis-5.", "redis-6."]
                .iter()
                .any(|v| p.to_str().unwrap().contains(v))
    });
    if files.is_empty() {
        return;
    }
    assert!(files.len() >= 10, "{files:?}");
    let runs = same_for_every_kind(
        &files,
        &[
            &["dump"],
            &["check", "--format", "json"],
            &["info", "--format", "json"],
            &["dump", "--format", "resp"],
            // Replayed as they arrive.
            &["digest"],
            &["dump", "--format", "commands"],
        ],
    );
    assert_eq!(runs, files.len() * 6 * 9);
}

#[test]
fn a_json_lines_dump_dumps_back_to_the_same_records_plain_and_gzipped() {
    let files = corpus_files("rdb", |p| p.extension().is_some_and(|e| e == "rdb"));
    let tmp = rdbscope_testkit::TempDir::new("input-kinds-json");
    for (i, file) in files.iter().enumerate().step_by(3) {
        let (first, err, code) = run(&["dump", file.to_str().unwrap()], None);
        assert_eq!(code, Some(0), "{}: {err}", file.display());
        let plain = tmp.path.join(format!("{i}.jsonl"));
        let gz = tmp.path.join(format!("{i}.jsonl.gz"));
        std::fs::write(&plain, &first).unwrap();
        std::fs::write(&gz, compress("gz", &first)).unwrap();
        for (path, stdin) in [
            (plain.to_str().unwrap(), None),
            (gz.to_str().unwrap(), None),
            ("-", Some(compress("gz", &first))),
        ] {
            let (again, err, code) = run(&["dump", path], stdin);
            assert_eq!(code, Some(0), "{path}: {err}");
            assert!(first == again, "{}: dump of {path} differs", file.display());
        }
    }
}

/// The first corpus RDB of a good size, for the broken-compression tests.
fn sample_rdb() -> Option<Vec<u8>> {
    let files = corpus_files("rdb", |p| p.extension().is_some_and(|e| e == "rdb"));
    files
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .find(|b| b.len() > 64 << 10)
}

#[test]
fn a_corrupt_gz_is_a_gzip_error_with_an_offset() {
    let Some(rdb) = sample_rdb() else { return };
    let mut gz = compress("gz", &rdb);
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let tmp = rdbscope_testkit::TempDir::new("input-kinds-corrupt");
    let path = tmp.path.join("corrupt.rdb.gz");
    std::fs::write(&path, &gz).unwrap();
    let path = path.to_str().unwrap();
    for (args, stdin) in [
        (vec!["check", path], None),
        (vec!["check", "-"], Some(gz.clone())),
        (vec!["dump", path], None),
        (vec!["info", path], None),
    ] {
        let (out, err, code) = run(&args, stdin);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        let all = format!("{}{err}", String::from_utf8_lossy(&out));
        assert!(all.contains("gzip"), "{args:?}: {all}");
        assert!(all.contains("compressed offset"), "{args:?}: {all}");
    }
}

#[test]
fn a_truncated_zst_says_truncated() {
    let Some(rdb) = sample_rdb() else { return };
    let mut zst = compress("zst", &rdb);
    zst.truncate(zst.len() / 2);
    let tmp = rdbscope_testkit::TempDir::new("input-kinds-truncated");
    let path = tmp.path.join("cut.rdb.zst");
    std::fs::write(&path, &zst).unwrap();
    let path = path.to_str().unwrap();
    for (args, stdin) in [
        (vec!["check", "--format", "json", path], None),
        (vec!["check", "-"], Some(zst.clone())),
        (vec!["dump", path], None),
        (vec!["info", path], None),
    ] {
        let (out, err, code) = run(&args, stdin);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        let all = format!("{}{err}", String::from_utf8_lossy(&out));
        assert!(all.contains("truncated zstd"), "{args:?}: {all}");
    }
}

#[test]
fn zeros_through_a_pipe_are_refused_at_once() {
    for cmd in ["check", "dump", "info"] {
        let start = std::time::Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .args([cmd, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        // An endless stream, as `cat /dev/zero |`: only the child's exit
        // ends it.
        let writer = std::thread::spawn(move || {
            let zeros = vec![0u8; 1 << 16];
            while pipe.write_all(&zeros).is_ok() {}
        });
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        writer.join().unwrap();
        assert_eq!(status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("all zero bytes"), "{cmd}: {err}");
        assert!(err.contains("wrong signature"), "{cmd}: {err}");
        assert!(
            start.elapsed().as_secs() < 10,
            "{cmd}: {:?}",
            start.elapsed()
        );
    }
}

/// `--expired` is relative to the file's `ctime` aux field when `--now` is
/// not given, for a stream too (whose walk settles it from the first
/// bytes before any chunk is handed out): a key that expires after the
/// file was written but before today is not expired.
#[test]
fn expired_is_relative_to_the_files_ctime_from_every_input_kind() {
    let mut rdb = b"REDIS0009".to_vec();
    // AUX ctime = 1000000000 (2001), a 32-bit integer string.
    rdb.extend_from_slice(b"\xfa\x05ctime\xc2");
    rdb.extend_from_slice(&1_000_000_000u32.to_le_bytes());
    rdb.extend_from_slice(b"\xfe\x00");
    // "k1" expires in 2017: after ctime, before now.
    rdb.push(0xfc);
    rdb.extend_from_slice(&1_500_000_000_000u64.to_le_bytes());
    rdb.extend_from_slice(b"\x00\x02k1\x01v");
    rdb.extend_from_slice(b"\x00\x02k2\x01v");
    // EOF and a zero checksum (checksums disabled).
    rdb.extend_from_slice(&[0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
    let tmp = rdbscope_testkit::TempDir::new("input-kinds-ctime");
    for kind in KINDS {
        let data = compress(kind, &rdb);
        let path = tmp.path.join(format!("ctime.{kind}"));
        std::fs::write(&path, &data).unwrap();
        let path = path.to_str().unwrap();
        for (input, stdin) in [(path, None), ("-", Some(data))] {
            let (out, err, code) = run(&["dump", "--expired", input], stdin.clone());
            assert_eq!(code, Some(0), "{kind} {input}: {err}");
            assert!(
                out.is_empty(),
                "{kind} {input}: {}",
                String::from_utf8_lossy(&out)
            );
            let (out, err, code) = run(&["dump", "--not-expired", input], stdin.clone());
            assert_eq!(code, Some(0), "{kind} {input}: {err}");
            assert_eq!(
                out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(),
                2
            );
            let (out, _, _) = run(&["info", "--format", "json", "--expired", input], stdin);
            assert!(
                String::from_utf8_lossy(&out).contains("\"keys\":0"),
                "{kind} {input}: {}",
                String::from_utf8_lossy(&out)
            );
        }
    }
}

/// Standard input can be read once: a command given `-` twice refuses at
/// once (exit 2) instead of reading one stream with two readers (`check -
/// -` reported a sound file as broken: each reader got part of the bytes).
#[test]
fn standard_input_given_twice_is_a_usage_error() {
    let Some(corpus) = rdbscope_testkit::corpus("input kinds: stdin twice") else {
        return;
    };
    let rdb = std::fs::read(corpus.join("rdb/redis-7.2.6/all-types.rdb")).unwrap();
    let tmp = rdbscope_testkit::TempDir::new("stdin-twice");
    let out = tmp.path.join("out");
    let out = out.to_str().unwrap();
    for args in [
        &["check", "-", "-"][..],
        &["export", "-q", "-o", out, "-", "-"],
        &["merge", "-q", "-", "-", "-o", out, "--target", "redis-7.2"],
        &["diff", "-", "-"],
    ] {
        let (_, err, code) = run(args, Some(rdb.clone()));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(
            err.contains("only one input can be standard input"),
            "{args:?}: {err}"
        );
        assert!(!Path::new(out).exists(), "{args:?} wrote {out}");
    }
}
