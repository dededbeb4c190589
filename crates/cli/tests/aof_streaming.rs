//! A single-file AOF that arrives as a stream is read in bounded memory: a
//! generator behind a pipe writes about 1 GiB of small valid commands into
//! `rdbscope check -`, `dump -` and `info -`, plain and gzip'd, then cuts
//! the stream in the middle of a command. The report must name the
//! truncation at its offset, as for the same bytes in a file, and the
//! process's peak resident set (from `wait4`'s rusage) must stay at most
//! 64 MB: reading the stream whole first, as rdbscope once did, costs more
//! than the stream's size.
//!
//! An AOF with an RDB preamble is streamed too: the engine walks the
//! preamble from the window and stops at its checksum, and the commands are
//! read from the bytes it leaves (half a GiB of keys, then half of
//! commands).
//!
//! `RDBSCOPE_STREAM_TEST_MB` changes the size (1024 MiB by default; a few
//! seconds per command for the debug binary).

use std::io::Write;
use std::process::{Command, Stdio};

const PEAK_LIMIT_KB: i64 = 64 * 1024;

fn stream_mb() -> u64 {
    rdbscope_testkit::child::stream_mb(1024)
}

/// `SET key:<i> <100 bytes>`, with a SELECT, an annotation and a
/// transaction now and then: 73 bytes of command for 100 of value.
fn commands(i: u64, out: &mut Vec<u8>) {
    if i % 10_000 == 0 {
        let db = (i / 10_000 % 4).to_string();
        out.extend_from_slice(format!("*2\r\n$6\r\nSELECT\r\n$1\r\n{db}\r\n").as_bytes());
        out.extend_from_slice(format!("#TS:{}\r\n", 1_700_000_000 + i / 10_000).as_bytes());
    }
    if i % 1000 == 1 {
        out.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
    }
    out.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n$16\r\nkey:{i:012}\r\n$100\r\n").as_bytes());
    out.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, 100));
    out.extend_from_slice(b"\r\n");
    if i % 1000 == 3 {
        out.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
    }
}

/// The cut command: a whole argument count and name, then half a key.
const CUT: &[u8] = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:0000";

/// What a run gave: stdout's tail, stderr, exit code, peak RSS in KiB,
/// the offset of the cut command, and where the commands start (after a
/// preamble's checksum; 0 without one).
struct Run {
    out: String,
    err: String,
    code: i32,
    peak_kb: i64,
    cut_at: u64,
    resp_start: u64,
}

/// Keys of the preamble: string records of 16-byte keys and 1000-byte
/// values, `aof-preamble` set, a real CRC-64.
fn write_preamble(sink: &mut dyn Write, bytes: u64) -> std::io::Result<(u64, u64)> {
    use rdbscope_rdb::write::{rdb_string, records::Writer};
    let fail = |e: rdbscope_rdb::write::Error| std::io::Error::other(e.to_string());
    let mut w = Writer::redis(std::io::BufWriter::new(sink), 9).map_err(fail)?;
    w.aux(b"redis-ver", b"6.2.14").map_err(fail)?;
    w.aux(b"aof-preamble", b"1").map_err(fail)?;
    w.select_db(0).map_err(fail)?;
    let (mut keys, mut value) = (0u64, Vec::new());
    while w.position() < bytes {
        value.clear();
        let fill = b'a' + (keys % 26) as u8;
        rdb_string::string(&mut value, &[fill; 1000]);
        w.key(0, format!("pre:{keys:012}").as_bytes(), &value)
            .map_err(fail)?;
        keys += 1;
    }
    // EOF and checksum: 9 bytes after the position.
    let end = w.position() + 9;
    w.finish().map_err(fail)?.flush()?;
    Ok((end, keys))
}

/// Runs `rdbscope <args> -` with the generated commands (then the cut one)
/// written into its stdin by a thread, gzip'd when asked; after an RDB
/// preamble of half the size when asked.
fn run_streamed(args: &[&str], gzip: bool, preamble: bool, mb: u64) -> Run {
    let total = mb << 20;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
    cmd.args(args)
        .arg("-")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let r = rdbscope_testkit::child::run_fed(cmd, move |stdin| {
        let mut sink = rdbscope_testkit::child::stdin_sink(stdin, gzip);
        let (mut sent, mut i, mut buf) = (0u64, 0u64, Vec::new());
        if preamble {
            match write_preamble(&mut sink, total / 2) {
                Ok((end, _)) => sent = end,
                Err(_) => return (sent, 0),
            }
        }
        let resp_start = sent;
        while sent < total {
            while buf.len() < 1 << 20 {
                commands(i, &mut buf);
                i += 1;
            }
            if sink.write_all(&buf).is_err() {
                return (sent, resp_start);
            }
            sent += buf.len() as u64;
            buf.clear();
        }
        // Close the transaction the last commands may have opened.
        while matches!((i + 999) % 1000, 1 | 2) {
            commands(i, &mut buf);
            i += 1;
        }
        if sink.write_all(&buf).is_err() {
            return (sent, resp_start);
        }
        sent += buf.len() as u64;
        let _ = sink.write_all(CUT);
        let _ = sink.flush();
        drop(sink);
        (sent, resp_start)
    });
    Run {
        out: r.out,
        err: r.err,
        code: r.code,
        peak_kb: r.peak_kb,
        cut_at: r.fed.0,
        resp_start: r.fed.1,
    }
}

fn long_stream_cut_mid_command(gzip: bool, preamble: bool) {
    let how = match (gzip, preamble) {
        (false, false) => "plain",
        (true, false) => "through gzip",
        (false, true) => "with a preamble",
        (true, true) => "with a preamble through gzip",
    };
    for args in [
        &["check", "--format", "json"][..],
        &["dump"][..],
        &["dump", "--format", "resp"][..],
        &["info", "--format", "json"][..],
    ] {
        let r = run_streamed(args, gzip, preamble, stream_mb());
        assert_eq!(r.code, 1, "{args:?} {how}: {}", r.err);
        // The cut key's bytes start at the cut command's offset + 18, and
        // 8 of its 16 arrived.
        let at = r.cut_at + 18;
        let why =
            format!("bulk length 16 (argument 2 at offset {at}) exceeds the remaining 8 bytes");
        assert!(r.err.contains(&why), "{args:?} {how}: {}", r.err);
        match args[0] {
            "check" => {
                assert!(r.out.contains("\"aof_verdict\":\"truncated\""), "{}", r.out);
                let ok = format!("\"ok_up_to\":{},", r.cut_at);
                assert!(r.out.contains(&ok), "{ok}: {}", r.out);
                let size = format!("\"size_bytes\":{},", r.cut_at + CUT.len() as u64);
                assert!(r.out.contains(&size), "{size}: {}", r.out);
                let start = format!("\"resp_start\":{},", r.resp_start);
                assert!(r.out.contains(&start), "{start}: {}", r.out);
                if preamble {
                    // The preamble checks whole, checksum and all.
                    assert!(r.out.contains("\"checksum\":\"ok\""), "{}", r.out);
                    assert!(r.out.contains("\"format\":\"rdb\""), "{}", r.out);
                }
            }
            "info" => {
                assert!(r.out.contains(&why), "{}", r.out);
                if preamble {
                    let base = format!("\"base_size\":{},", r.resp_start);
                    assert!(r.out.contains(&base), "{base}: {}", r.out);
                }
            }
            _ => {}
        }
        assert!(
            r.peak_kb <= PEAK_LIMIT_KB,
            "{args:?} {how}: peak RSS {} KiB after {} bytes",
            r.peak_kb,
            r.cut_at
        );
        eprintln!(
            "{args:?} {how}: {} bytes streamed, peak RSS {} KiB",
            r.cut_at, r.peak_kb
        );
    }
}

#[test]
fn a_long_aof_stream_cut_mid_command_stays_small() {
    long_stream_cut_mid_command(false, false);
}

#[test]
fn a_long_gzipped_aof_stream_cut_mid_command_stays_small() {
    long_stream_cut_mid_command(true, false);
}

#[test]
fn a_long_preamble_aof_stream_cut_mid_command_stays_small() {
    long_stream_cut_mid_command(false, true);
}

#[test]
fn a_long_gzipped_preamble_aof_stream_cut_mid_command_stays_small() {
    long_stream_cut_mid_command(true, true);
}

/// `fix` of a stream (a gzip'd AOF with a preamble, cut mid-command, on
/// stdin) copies it to a scratch file beside the repair as it arrives
/// instead of reading it into memory (it held the whole stream), and
/// writes the repair up to the last whole command; the scratch file is
/// gone afterwards. A quarter of the other streams' size: it is written to
/// disk twice.
#[test]
fn fix_of_a_long_gzipped_stream_stays_small() {
    let tmp = rdbscope_testkit::TempDir::new("aof-streaming-fix");
    let out = tmp.path.join("fixed.aof");
    let r = run_streamed(
        &["fix", "-o", out.to_str().unwrap()],
        true,
        true,
        (stream_mb() / 4).max(64),
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let at = r.cut_at + 18;
    let why = format!("bulk length 16 (argument 2 at offset {at}) exceeds the remaining 8 bytes");
    assert!(r.out.contains(&why), "{}", r.out);
    assert!(
        r.out.contains(&format!("cut at offset {}", r.cut_at)),
        "{}",
        r.out
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), r.cut_at);
    let left: Vec<_> = std::fs::read_dir(&tmp.path)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "fixed.aof")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(
        r.peak_kb <= PEAK_LIMIT_KB,
        "peak RSS {} KiB after {} bytes",
        r.peak_kb,
        r.cut_at
    );
    eprintln!(
        "fix of a gzip'd preamble AOF: {} bytes streamed, peak RSS {} KiB",
        r.cut_at, r.peak_kb
    );
}

/// A bulk length that claims 4 GiB costs only the bytes that arrive, and
/// garbage gives the file's error, at its offset.
#[test]
fn hostile_streams_give_the_files_errors() {
    let tmp = rdbscope_testkit::TempDir::new("aof-streaming-hostile");
    let mut cases: Vec<Vec<u8>> = Vec::new();
    let mut big = b"*2\r\n$3\r\nGET\r\n$4294967296\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    cases.push(big);
    let mut garbage = Vec::new();
    // Small: the test process's own peak would count as the child's (a
    // child's ru_maxrss starts from its parent's image before exec), and
    // the long-stream tests run beside this one.
    for i in 0..5_000 {
        commands(i, &mut garbage);
    }
    let mid = garbage.len() - 1000;
    garbage.insert(mid, b'G');
    cases.push(garbage);
    cases.push(b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPINGx\r\n".to_vec());
    // RDB preambles: whole, cut inside the RDB part, a value's length
    // broken, the checksum wrong, and the commands after it broken.
    let mut preamble = Vec::new();
    let (end, _) = write_preamble(&mut preamble, 40_000).unwrap();
    let end = end as usize;
    for i in 0..50 {
        commands(i, &mut preamble);
    }
    cases.push(preamble.clone());
    cases.push(preamble[..end / 2].to_vec());
    let mut broken = preamble.clone();
    // The 1000-byte length of a value in the middle, made 0x7fff.
    let at = (end / 2..end)
        .find(|&i| broken[i..].starts_with(&[0x43, 0xe8]))
        .unwrap();
    broken[at..at + 2].copy_from_slice(&[0x7f, 0xff]);
    cases.push(broken);
    let mut crc = preamble.clone();
    crc[end - 1] ^= 1;
    cases.push(crc);
    let mut tail = preamble.clone();
    tail.insert(end + 100, b'G');
    cases.push(tail);
    for (i, case) in cases.iter().enumerate() {
        let path = tmp.path.join(format!("{i}.aof"));
        std::fs::write(&path, case).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            &["check", "--format", "json"][..],
            &["dump"],
            &["info"],
            // Replayed as they arrive: the same verdicts as the file's.
            &["digest"],
            &["dump", "--format", "commands"],
        ] {
            let run = |input: &str, stdin: Option<&[u8]>| {
                let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
                    .args(args)
                    .arg(input)
                    .stdin(if stdin.is_some() {
                        Stdio::piped()
                    } else {
                        Stdio::null()
                    })
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let writer = stdin.map(|b| {
                    let b = b.to_vec();
                    let mut pipe = child.stdin.take().unwrap();
                    std::thread::spawn(move || {
                        let _ = pipe.write_all(&b);
                    })
                });
                let out = child.wait_with_output().unwrap();
                if let Some(w) = writer {
                    w.join().unwrap();
                }
                let norm = |b: &[u8]| {
                    String::from_utf8_lossy(b)
                        .replace(path, "INPUT")
                        .replace("<stdin>", "INPUT")
                        .replace("\"-\"", "\"INPUT\"")
                        .replace("rdbscope: -:", "rdbscope: INPUT:")
                        .replace("\"size_bytes\":null}", "SIZE}")
                        .replace("\"trailing_bytes\":null}", "TRAILING}")
                        .replace(
                            &format!("\"trailing_bytes\":{}}}", case.len().saturating_sub(end)),
                            "TRAILING}",
                        )
                        .replace(&format!("\"size_bytes\":{}}}", case.len()), "SIZE}")
                        .replace("INPUT: INPUT:", "INPUT:")
                };
                (norm(&out.stdout), norm(&out.stderr), out.status.code())
            };
            let want = run(path, None);
            let got = run("-", Some(case));
            assert_eq!(got, want, "case {i}: {args:?}");
        }
    }
}

/// Runs `rdbscope <args> <path>`; exit code, stderr and peak RSS in KiB.
fn run_file(args: &[&str], path: &std::path::Path) -> (i32, String, i64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rdbscope");
    let outputs = rdbscope_testkit::child::drain(&mut child);
    let (code, peak_kb) = rdbscope_testkit::child::wait_peak(child);
    (code, outputs.join().1, peak_kb)
}

/// A big single-file AOF given by name is mapped, and every command
/// releases the pages behind its walk: `check` and `info` once held the
/// whole file (970 MB for a 1 GB AOF), while a manifest's files were
/// released.
#[test]
fn a_big_mapped_aof_file_stays_small() {
    let dir = rdbscope_testkit::TempDir::new("big-aof");
    let path = dir.path.join("big.aof");
    let total = (stream_mb() / 3).max(64) << 20;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let (mut written, mut i, mut buf) = (0u64, 0u64, Vec::new());
        while written < total || matches!((i + 999) % 1000, 1 | 2) {
            commands(i, &mut buf);
            i += 1;
            if buf.len() >= 1 << 20 {
                f.write_all(&buf).expect("write");
                written += buf.len() as u64;
                buf.clear();
            }
        }
        f.write_all(&buf).expect("write");
        f.flush().expect("flush");
    }
    let fixed = dir.path.join("fixed.aof");
    let fixed_arg = fixed.to_str().unwrap();
    for args in [
        &["check"][..],
        &["check", "-j1"][..],
        &["info"][..],
        &["dump"][..],
        // The repaired copy (here the whole file) is written from the map
        // with the pages behind released (it held the whole file).
        &["fix", "--force", "-o", fixed_arg][..],
    ] {
        let (code, err, peak_kb) = run_file(args, &path);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(
            peak_kb <= PEAK_LIMIT_KB,
            "{args:?}: peak RSS {peak_kb} KiB for a {total}-byte file"
        );
        eprintln!("{args:?} of a {total}-byte AOF file: peak RSS {peak_kb} KiB");
    }
    // Compared a MiB at a time: this process's own size is where every
    // later child's peak RSS starts (see run_file), so it reads no file whole.
    let (mut a, mut b) = (
        std::fs::File::open(&path).unwrap(),
        std::fs::File::open(&fixed).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = read_full(&mut a, &mut x);
        let m = read_full(&mut b, &mut y);
        assert!(x[..n] == y[..m], "fix of a whole AOF changed it");
        if n == 0 {
            break;
        }
    }
}

/// Reads until `buf` is full or the file ends; how many bytes.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match std::io::Read::read(f, &mut buf[n..]).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    n
}

/// A broken single-file AOF is named once on stderr by `check` and `info`,
/// from standard input as from a file.
#[test]
fn a_broken_stdin_aof_is_named_once() {
    let tmp = rdbscope_testkit::TempDir::new("aof-streaming-named-once");
    let broken = b"*2\r\n$3\r\nGET\r\n$1\r\nx";
    let path = tmp.path.join("broken.aof");
    std::fs::write(&path, broken).unwrap();
    let path = path.to_str().unwrap();
    for command in ["check", "info"] {
        for input in ["-", path] {
            let stdin = if input == "-" {
                Stdio::piped()
            } else {
                // A file: nothing on stdin (a write would meet a closed
                // pipe once the command is done).
                Stdio::null()
            };
            let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
                .args([command, input])
                .stdin(stdin)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn rdbscope");
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(broken);
            }
            let out = child.wait_with_output().expect("wait");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{command} {input}: {err}");
            let name = if input == "-" { "<stdin>" } else { path };
            let want = format!(
                "rdbscope: {name}: offset 18: expected '\\r\\n' after the 1-byte argument 2"
            );
            assert!(err.contains(&want), "{command} {input}: {err}");
            assert!(
                !err.contains(&format!("{name}: {name}")),
                "{command} {input}: {err}"
            );
        }
    }
}

/// A corrupt gzip'd AOF with an RDB preamble: the gzip error, once, and
/// exit 1, whether the break comes while the preamble is walked or in the
/// commands after it, as for an AOF of commands.
#[test]
fn a_corrupt_gzipped_preamble_aof_is_a_read_error() {
    let tmp = rdbscope_testkit::TempDir::new("aof-streaming-corrupt-gz");
    let mut aof = Vec::new();
    // More than the engine's 4 MiB window, so that a break near the end
    // is met after the preamble.
    let (end, _) = write_preamble(&mut aof, 6 << 20).unwrap();
    for i in 0..20_000 {
        commands(i, &mut aof);
    }
    let gz = rdbscope_testkit::gzip(&aof);
    for (what, at) in [
        ("in the preamble", gz.len() / 10),
        ("in the commands", gz.len() - 2000),
    ] {
        // 16 bytes changed: the deflate stream breaks there (one changed
        // byte may only decode to other bytes, which the CRC-32 at the
        // member's end finds after the walk has met them).
        let mut broken = gz.clone();
        for b in &mut broken[at..at + 16] {
            *b ^= 0x5a;
        }
        let path = tmp.path.join(format!("{}.aof.gz", what.replace(' ', "-")));
        std::fs::write(&path, &broken).unwrap();
        for args in [
            &["check"][..],
            &["check", "--format", "json"],
            &["dump"],
            &["info"],
        ] {
            let (code, err, _) = run_file(args, &path);
            assert_eq!(code, 1, "{what}: {args:?}: {err}");
            let want = format!("rdbscope: {}: read error: gzip: ", path.display());
            assert!(err.contains(&want), "{what}: {args:?}: {err}");
            assert_eq!(
                err.matches("read error").count(),
                1,
                "{what}: {args:?}: {err}"
            );
        }
    }
    assert!(end > 4 << 20);
}

/// The commands that replay an AOF (`digest`, `dump --format commands`,
/// `convert`, `merge`, `diff`) replay a single-file AOF arriving as a stream as it
/// arrives: the same output as for the file, and memory that holds the
/// dataset, not the stream. Here 256 MiB of commands (a preamble, then
/// SETs that overwrite 5,000 keys) through gzip on stdin.
#[test]
fn replaying_commands_read_a_stream_as_it_arrives() {
    let tmp = rdbscope_testkit::TempDir::new("aof-streaming-replay");
    let total: u64 = (stream_mb() / 4).max(16) << 20;
    let path = tmp.path.join("big.aof");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        write_preamble(&mut f, 1 << 20).unwrap();
        let mut written = 0u64;
        let mut i = 0u64;
        let value = [b'v'; 100];
        while written < total {
            let key = format!("key:{:06}", i % 5000);
            let mut c =
                format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$100\r\n", key.len()).into_bytes();
            c.extend_from_slice(&value);
            c.extend_from_slice(b"\r\n");
            f.write_all(&c).unwrap();
            written += c.len() as u64;
            i += 1;
        }
        f.flush().unwrap();
    }
    let p = path.to_str().unwrap();
    for args in [
        &["digest"][..],
        &["dump", "--format", "commands", "--target", "redis-7.0"],
        // The file against itself on stdin (which diff keeps on disk, as
        // it came, to read it more than once).
        &["diff", p],
    ] {
        let file = std::process::Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .args(args)
            .arg(p)
            .output()
            .unwrap();
        assert!(
            file.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&file.stderr)
        );
        let out_path = tmp.path.join("out");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdbscope"));
        cmd.args(args)
            .arg("-")
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::piped());
        // Compressed as it is written: the test process holds no copy (a
        // child's peak RSS starts from its parent's image before exec).
        let from = path.clone();
        let r = rdbscope_testkit::child::run_fed(cmd, move |stdin| {
            let mut gz = flate2::write::GzEncoder::new(stdin, flate2::Compression::fast());
            let mut f = std::fs::File::open(from).unwrap();
            let _ = std::io::copy(&mut f, &mut gz).and_then(|_| gz.finish());
        });
        let (code, peak_kb, err) = (r.code, r.peak_kb, r.err);
        assert_eq!(code, 0, "{args:?}: {err}");
        let out = std::fs::read(&out_path).unwrap();
        assert!(
            out == file.stdout,
            "{args:?}: the stream's output differs from the file's"
        );
        assert!(
            peak_kb <= PEAK_LIMIT_KB,
            "{args:?}: peak RSS {peak_kb} KiB for a {total}-byte stream"
        );
        eprintln!("{args:?} of a {total}-byte gzip'd AOF on stdin: peak RSS {peak_kb} KiB");
    }
}

/// `info` of a compressed single-file AOF gives the compressed file's
/// modification time (when the backup was written); standard input has
/// none.
#[test]
fn info_of_a_compressed_aof_gives_the_files_time() {
    let tmp = rdbscope_testkit::TempDir::new("aof-streaming-mtime");
    let mut aof = Vec::new();
    for i in 0..100 {
        commands(i, &mut aof);
    }
    let gz = rdbscope_testkit::gzip(&aof);
    let path = tmp.path.join("backup.aof.gz");
    std::fs::write(&path, &gz).unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_323_045);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["info", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"modified\":1767323045,"), "{text}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["info", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"modified\":null,"), "{text}");
}
