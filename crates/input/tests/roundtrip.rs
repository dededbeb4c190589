//! Every corpus sample, in every compression, read back through every way
//! in (a file, a pipe-like reader, a real pipe, memory) gives exactly the
//! plain file's bytes.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{corpus_sample, read_all, Trickle, VARIANTS};
use rdbscope_input::{Compression, ContentKind, Input, Source};
use rdbscope_testkit::TempDir;

fn compression_of(variant: common::Variant) -> Compression {
    Compression::ALL
        .into_iter()
        .find(|c| c.name() == variant.name())
        .unwrap()
}

#[test]
fn plain_files_are_mapped_and_compressed_ones_streamed_with_the_same_bytes() {
    let Some(files) = corpus_sample("input_roundtrip") else {
        return;
    };
    let tmp = TempDir::in_memory("input-roundtrip");
    for path in &files {
        let plain = std::fs::read(path).unwrap();

        let mut input = Input::open(path).unwrap();
        assert_eq!(input.compression(), None);
        assert_eq!(
            input.content_kind().unwrap(),
            ContentKind::Rdb,
            "{}",
            path.display()
        );
        match input.into_source() {
            Source::Mapped(m) => {
                assert!(m.is_mapped());
                assert_eq!(m.bytes(), &plain[..]);
            }
            Source::Stream(_) => panic!("{}: a plain regular file is mapped", path.display()),
        }

        for variant in VARIANTS {
            let packed = variant.compress(&plain);
            let what = format!("{} as {variant:?}", path.display());
            let file = tmp.path.join(format!("x.rdb.{}", variant.name()));
            std::fs::write(&file, &packed).unwrap();

            let mut input = Input::open(&file).unwrap();
            assert_eq!(input.compression(), Some(compression_of(variant)), "{what}");
            assert_eq!(input.name(), file.display().to_string());
            assert_eq!(
                input.progress().total(),
                Some(packed.len() as u64),
                "{what}"
            );
            assert_eq!(input.content_kind().unwrap(), ContentKind::Rdb, "{what}");
            let progress = input.progress();
            assert!(matches!(input.source(), Source::Stream(_)), "{what}");
            assert_eq!(read_all(input).unwrap(), plain, "{what}: from a file");
            assert_eq!(progress.bytes_read(), packed.len() as u64, "{what}");
            assert_eq!(progress.fraction(), Some(1.0), "{what}");

            let input = Input::from_reader(Trickle::new(packed.clone(), 4099), "<pipe>").unwrap();
            assert_eq!(input.compression(), Some(compression_of(variant)), "{what}");
            assert_eq!(input.progress().total(), None, "{what}");
            assert_eq!(
                read_all(input).unwrap(),
                plain,
                "{what}: from a pipe-like reader"
            );

            let input = Input::from_vec(packed, "<memory>");
            assert_eq!(read_all(input).unwrap(), plain, "{what}: from memory");
        }
    }
}

/// A real OS pipe (a child's stdout), which cannot seek or be mapped.
fn through_cat(path: &Path) -> Input {
    let mut child = Command::new("cat")
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run cat");
    let out = child.stdout.take().unwrap();
    let input = Input::from_reader(out, "<cat>").unwrap();
    // The pipe stays open until read to its end; reap the child later.
    std::thread::spawn(move || child.wait());
    input
}

#[test]
fn a_real_pipe_and_a_fifo_are_streamed_and_decoded() {
    let Some(files) = corpus_sample("input_pipe") else {
        return;
    };
    let tmp = TempDir::new("input-pipe");
    let plain = std::fs::read(&files[files.len() / 2]).unwrap();
    for variant in VARIANTS {
        let file = tmp.path.join("in");
        std::fs::write(&file, variant.compress(&plain)).unwrap();
        assert_eq!(read_all(through_cat(&file)).unwrap(), plain, "{variant:?}");
    }
    let file = tmp.path.join("plain");
    std::fs::write(&file, &plain).unwrap();
    let input = through_cat(&file);
    assert_eq!(input.compression(), None);
    assert_eq!(read_all(input).unwrap(), plain);

    // A FIFO opened by path: streamed, not mapped.
    let fifo = tmp.path.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED fifo part: mkfifo failed");
        return;
    }
    let packed = common::Variant::Zstd.compress(&plain);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, packed).unwrap())
    };
    let input = Input::open(&fifo).unwrap();
    assert_eq!(input.compression(), Some(Compression::Zstd));
    assert_eq!(input.progress().total(), None);
    assert_eq!(read_all(input).unwrap(), plain);
    writer.join().unwrap();
}

#[test]
fn peeking_at_a_stream_loses_no_bytes() {
    // Content of every length around the sniffing window, handed over one
    // to three bytes at a time.
    for len in [
        0usize, 1, 2, 3, 4, 5, 7, 8, 9, 100, 511, 512, 513, 70_000, 300_000,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let mut input = Input::from_reader(Trickle::new(data.clone(), 3), "<pipe>").unwrap();
        assert_eq!(input.compression(), None);
        let head = input.head().unwrap().to_vec();
        assert_eq!(head, data[..len.min(512)], "len {len}");
        let progress = input.progress();
        assert_eq!(read_all(input).unwrap(), data, "len {len}");
        assert_eq!(progress.bytes_read(), len as u64);
    }
    // Prefixes of every magic number that stop short are plain content.
    for data in [
        &[0x1f][..],
        b"BZ",
        b"BZh",
        &[0x28, 0xb5, 0x2f],
        &[0x04, 0x22],
        &[0x50, 0x2a, 0x4d],
    ] {
        let input = Input::from_reader(Trickle::new(data.to_vec(), 1), "<pipe>").unwrap();
        assert_eq!(input.compression(), None, "{data:02x?}");
        assert_eq!(read_all(input).unwrap(), data);
    }
}

#[test]
fn peeking_decompressed_content_loses_no_bytes() {
    let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    for variant in VARIANTS {
        let packed = variant.compress(&data);
        let mut input = Input::from_reader(Trickle::new(packed, 7), "<pipe>").unwrap();
        let Source::Stream(stream) = input.source() else {
            panic!("compressed input is a stream")
        };
        let head = stream.peek(1000).unwrap();
        assert!(head.len() >= 1000);
        assert_eq!(head, &data[..head.len()]);
        assert_eq!(stream.position(), 0);
        let mut first = [0u8; 10];
        std::io::Read::read_exact(stream, &mut first).unwrap();
        assert_eq!(first, data[..10]);
        assert_eq!(stream.position(), 10);
        assert_eq!(&stream.peek(5).unwrap()[..5], &data[10..15]);
        let mut rest = Vec::new();
        std::io::Read::read_to_end(stream, &mut rest).unwrap();
        assert_eq!(rest, data[10..], "{variant:?}");
    }
}

#[test]
fn skippable_frames_before_zstd_and_lz4_are_read_past() {
    let data = b"REDIS0011 and then some bytes".repeat(100);
    let skippable = |n: u8| {
        let mut frame = vec![0x50 | n, 0x2a, 0x4d, 0x18, 3, 0, 0, 0];
        frame.extend_from_slice(b"abc");
        frame
    };
    for (variant, compression) in [
        (common::Variant::Zstd, Compression::Zstd),
        (common::Variant::Lz4, Compression::Lz4),
    ] {
        let mut packed = skippable(2);
        packed.extend_from_slice(&variant.compress(&data));
        // Also between frames, and at the end.
        packed.extend_from_slice(&skippable(15));
        packed.extend_from_slice(&variant.compress(&data));
        packed.extend_from_slice(&skippable(0));
        let data = [data.clone(), data.clone()].concat();
        let input = Input::from_reader(Trickle::new(packed.clone(), 2), "<pipe>").unwrap();
        assert_eq!(input.compression(), Some(compression));
        assert_eq!(read_all(input).unwrap(), data, "{variant:?}");
        let input = Input::from_vec(packed, "<memory>");
        assert_eq!(input.compression(), Some(compression));
        assert_eq!(read_all(input).unwrap(), data, "{variant:?}");
    }
}

#[test]
fn empty_and_tiny_inputs() {
    let tmp = TempDir::new("input-empty");
    let empty = tmp.path.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let mut input = Input::open(&empty).unwrap();
    assert_eq!(input.content_kind().unwrap(), ContentKind::Empty);
    assert_eq!(read_all(input).unwrap(), b"");

    let mut input = Input::from_vec(Vec::new(), "<memory>");
    assert_eq!(input.content_kind().unwrap(), ContentKind::Empty);
    // A compressed empty file is empty content.
    for variant in VARIANTS {
        let mut input = Input::from_vec(variant.compress(b""), "<memory>");
        assert_eq!(
            input.content_kind().unwrap(),
            ContentKind::Empty,
            "{variant:?}"
        );
        assert_eq!(read_all(input).unwrap(), b"");
    }
}

#[test]
fn stdin_is_dash() {
    assert_eq!(rdbscope_input::display_name(Path::new("-")), "<stdin>");
    assert_eq!(
        rdbscope_input::display_name(Path::new("a/b.rdb")),
        "a/b.rdb"
    );
}

#[test]
fn files_from_the_command_line_tools_are_read() {
    // What people actually have: files written by gzip, bzip2, zstd and
    // lz4 (frame and legacy format). Skipped where a tool is missing.
    let Some(files) = corpus_sample("input_tools") else {
        return;
    };
    let tmp = TempDir::new("input-tools");
    let path = &files[files.len() - 1];
    let plain = std::fs::read(path).unwrap();
    for (tool, args, compression) in [
        ("gzip", &["-c"][..], Compression::Gzip),
        ("bzip2", &["-c"][..], Compression::Bzip2),
        ("zstd", &["-q", "-c"][..], Compression::Zstd),
        ("lz4", &["-q", "-c"][..], Compression::Lz4),
        ("lz4", &["-q", "-l", "-c"][..], Compression::Lz4),
    ] {
        let Ok(out) = Command::new(tool).args(args).arg(path).output() else {
            eprintln!("SKIPPED {tool}: not installed");
            continue;
        };
        assert!(out.status.success(), "{tool} {args:?}");
        let file = tmp.path.join("x");
        std::fs::write(&file, &out.stdout).unwrap();
        let input = Input::open(&file).unwrap();
        assert_eq!(input.compression(), Some(compression), "{tool} {args:?}");
        assert_eq!(read_all(input).unwrap(), plain, "{tool} {args:?}");
    }
}

#[test]
fn concatenated_streams_read_as_one() {
    // `cat a.zst b.zst`, `cat a.bz2 b.bz2`, `cat a.lz4 b.lz4` decompress to
    // the concatenated contents, as the command-line tools do.
    let (a, b) = (
        b"REDIS0011 first part ".repeat(500),
        b"second part".repeat(700),
    );
    for variant in VARIANTS {
        let mut packed = variant.compress(&a);
        packed.extend_from_slice(&variant.compress(&b));
        let input = Input::from_reader(Trickle::new(packed, 999), "<pipe>").unwrap();
        assert_eq!(
            read_all(input).unwrap(),
            [a.clone(), b.clone()].concat(),
            "{variant:?}"
        );
    }
}

#[test]
fn inputs_can_move_between_threads_and_maps_be_shared() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Input>();
    send::<Source>();
    send::<rdbscope_input::Stream>();
    send::<rdbscope_input::Mapped>();
    sync::<rdbscope_input::Mapped>();
    send::<rdbscope_input::Progress>();
    sync::<rdbscope_input::Progress>();
}

#[test]
fn release_before_reports_progress_on_a_mapped_file() {
    let Some(files) = corpus_sample("input_release") else {
        return;
    };
    let path = &files[0];
    let len = std::fs::metadata(path).unwrap().len();
    let Source::Mapped(m) = Input::open(path).unwrap().into_source() else {
        panic!("mapped")
    };
    let progress = m.progress();
    assert_eq!(progress.total(), Some(len));
    assert_eq!(progress.bytes_read(), 0);
    m.release_before(len / 2);
    assert_eq!(progress.bytes_read(), len / 2);
    m.release_before(u64::MAX);
    assert_eq!(progress.bytes_read(), len);
    assert_eq!(progress.fraction(), Some(1.0));
    // Released or not, the bytes are still there.
    assert_eq!(m.bytes(), std::fs::read(path).unwrap());
}

/// Run as a child by `standard_input_is_read_as_a_pipe_or_as_the_file`: opens
/// `-` and checks it against the plain file named in the environment.
#[test]
fn stdin_child() {
    let Some(plain) = std::env::var_os("RDBSCOPE_INPUT_STDIN_PLAIN") else {
        return;
    };
    let mut input = Input::open(Path::new("-")).unwrap();
    assert_eq!(input.name(), "<stdin>");
    let compression = input.compression().map_or("none", |c| c.name());
    let shape = match input.source() {
        Source::Mapped(_) => "mapped",
        Source::Stream(_) => "stream",
    };
    assert_eq!(read_all(input).unwrap(), std::fs::read(plain).unwrap());
    println!("STDIN-OK {shape} {compression}");
}

#[test]
fn standard_input_is_read_as_a_pipe_or_as_the_file() {
    let Some(files) = corpus_sample("input_stdin") else {
        return;
    };
    let tmp = TempDir::new("input-stdin");
    let plain = &files[files.len() / 3];
    let gz = tmp.path.join("x.gz");
    std::fs::write(
        &gz,
        common::Variant::Gzip.compress(&std::fs::read(plain).unwrap()),
    )
    .unwrap();
    let me = std::env::current_exe().unwrap();
    let run = |stdin: Stdio| {
        let out = Command::new(&me)
            .args(["--exact", "stdin_child", "--nocapture", "--test-threads=1"])
            .env("RDBSCOPE_INPUT_STDIN_PLAIN", plain)
            .stdin(stdin)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    // `- < file`: the file itself, mapped; `- < file.gz`: decoded.
    let text = run(std::fs::File::open(plain).unwrap().into());
    assert!(text.contains("STDIN-OK mapped none"), "{text}");
    let text = run(std::fs::File::open(&gz).unwrap().into());
    assert!(text.contains("STDIN-OK stream gzip"), "{text}");
    // `cat file.gz | ... -`: a real pipe.
    let mut cat = Command::new("cat")
        .arg(&gz)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = run(cat.stdout.take().unwrap().into());
    cat.wait().unwrap();
    assert!(text.contains("STDIN-OK stream gzip"), "{text}");
}
