//! Writes fuzz seeds cut from every RDB and AOF file under a directory into
//! `OUT/<target>/`, for `cargo fuzz run`: see fuzz/README.md.
//!
//!   cargo run -p rdbscope-harness --example write-seeds -- ../shared/corpus fuzz/corpus

use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, files);
        } else {
            files.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: write-seeds CORPUS_DIR OUT_DIR");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    walk(Path::new(&args[1]), &mut files);
    files.sort();
    let out = Path::new(&args[2]);
    let mut seen = HashSet::new();
    let mut written = 0;
    for f in files {
        let Ok(data) = std::fs::read(&f) else {
            continue;
        };
        if data.len() > 4 << 20 {
            continue;
        }
        let name = f
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        for (target, seed) in rdbscope_harness::seeds::from_file(&name, &data) {
            // Named by content. (Not by the CRC-64 alone: a DUMP payload
            // ends with its own CRC, which makes every payload's CRC zero.)
            // The target's name goes first: CRC-64 is linear, so a suffix
            // would not separate payloads whose own CRC is already zero.
            let mut named = target.as_bytes().to_vec();
            named.extend_from_slice(&seed);
            let name = format!("{:016x}", rdbscope_rdb::crc::crc64(&named));
            if !seen.insert((target, name.clone())) {
                continue;
            }
            let dir = out.join(target);
            std::fs::create_dir_all(&dir).expect("create seed dir");
            std::fs::write(dir.join(name), &seed).expect("write seed");
            written += 1;
        }
    }
    eprintln!("wrote {written} seeds under {}", out.display());
}
