//! What every test suite of the workspace needs and should not write again:
//! where the shared corpus is (and whether its absence is a failure),
//! scratch directories that clean up after themselves, and a real
//! `redis-server` ([`redis`]).

#![warn(missing_docs)]

pub mod child;
pub mod client;
pub mod oracle;
pub mod redis;
pub mod truth;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// `bytes` gzip'd (fast level), as a backup is often kept.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// The corpus of real server files: `$RDBSCOPE_CORPUS`, else
/// `../shared/corpus` beside the repository. When it is missing, `test`
/// fails if `REQUIRE_CORPUS=1` (as CI sets) and is skipped otherwise, with
/// a notice on stderr.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("RDBSCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.join("rdb").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("REQUIRE_CORPUS").as_deref() != Ok("1"),
        "{test}: REQUIRE_CORPUS=1 but there is no corpus at {} (set RDBSCOPE_CORPUS)",
        dir.display()
    );
    skipped(&format!(
        "{test}: no corpus at {} (set RDBSCOPE_CORPUS; REQUIRE_CORPUS=1 makes this an error)",
        dir.display()
    ));
    None
}

/// Every `*.rdb` of the corpus's `rdb/<server>/` folders, sorted.
pub fn corpus_rdbs(corpus: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(corpus.join("rdb"))
        .expect("corpus rdb/")
        .flat_map(|d| std::fs::read_dir(d.expect("server dir").path()).expect("server dir"))
        .map(|f| f.expect("corpus file").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdb"))
        .collect();
    out.sort();
    out
}

/// Says that a test skipped, where the person running `cargo test` sees it.
///
/// libtest captures what the `print!` family writes from a test (and shows
/// it only when the test fails), so a skipped test would pass silently and
/// a run that tested nothing real would look complete. A direct write to
/// the stderr handle bypasses that capture.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// A scratch directory, removed on drop (also when a test fails).
pub struct TempDir {
    /// The directory's path.
    pub path: PathBuf,
}

impl TempDir {
    /// A new directory under the system temp dir, named after `what`.
    pub fn new(what: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique_name(what));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    /// The same, in memory (`/dev/shm`) where there is one: for tests that
    /// write and read thousands of small files, which a busy disk would
    /// otherwise dominate.
    pub fn in_memory(what: &str) -> TempDir {
        let path = Path::new("/dev/shm").join(unique_name(what));
        if std::fs::create_dir_all(&path).is_ok() {
            return TempDir { path };
        }
        TempDir::new(what)
    }
}

fn unique_name(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("rdbscope-{what}-{}-{nanos}", std::process::id())
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
