//! Hostile input: the no-panic guarantee of the `rdbscope` binary.
//!
//! Acceptance criteria (issue "Hostile input: ... no-panic guarantee"):
//!
//! 2. Every RDB file of the shared corpus is mutated many ways (truncation,
//!    bit flips, byte overwrites, insertions and deletions, length prefixes
//!    set to huge values, listpack/ziplist/intset/zipmap header fields set to
//!    huge values) and `rdbscope check` and `rdbscope dump` run on the
//!    results as subprocesses: the exit code is 0 or 1, never 2 and never a
//!    signal, no run hangs, and whenever a file is reported as a problem
//!    stderr names it with `offset N`. Dump's stdout is only complete JSON
//!    lines, even when it stops at an error.
//!    -> [`mutated_corpus_files_exit_cleanly`]
//!
//! 3. `rdbscope dump` on small crafted files that claim a 4 GiB LZF string,
//!    a 2^32-element list/set/hash, a 2^32-node quicklist, a listpack header
//!    that lies about its size or count, or a stream with 2^32 listpacks /
//!    groups / PEL entries / consumers runs under a 100 MiB address-space cap
//!    and ends with exit 1 and a clear error naming the offset.
//!    -> [`crafted_lzf_claims`], [`crafted_collection_claims`],
//!    [`crafted_blob_header_claims`], [`crafted_stream_claims`]
//!
//! The mutations are deterministic: a fixed seed (printed; override with
//! `RDBSCOPE_HOSTILE_SEED=N`) mixed with each file's corpus path, so adding
//! a file to the corpus does not change the mutants of the others. Mutants
//! are written to a scratch directory in batches and removed afterwards;
//! any mutant that makes the binary misbehave is kept in
//! `$CARGO_TARGET_TMPDIR/hostile_inputs-failures/` and named in the failure.
//!
//! The corpus is `$RDBSCOPE_CORPUS`, else `shared/corpus` beside the
//! workspace; without it the mutation test prints a notice and passes,
//! unless `REQUIRE_CORPUS=1`. The crafted-file tests need no corpus.

use rdbscope_rdb::cursor::{parse, Cursor};
use rdbscope_rdb::rdb_string::StringEncoding;
use rdbscope_rdb::write;
use rdbscope_rdb::{Encoding, KeyRecord, Rdb, RdbString, Record};
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rdbscope");

/// Default seed of the mutation PRNG.
const DEFAULT_SEED: u64 = 0x5eed_0bad_f11e_2024;
/// Mutated files per `check` invocation.
const BATCH: usize = 200;
/// Mutants to dump (one process each; ~3 per file of the corpus).
const MIN_DUMPS: usize = 640;
/// Fewer dumps than this (a much smaller corpus) prove too little.
const REQUIRED_DUMPS: usize = 300;
/// Wall-clock bound of one `dump` (or single-file `check`) process. Dumping
/// the largest corpus file takes ~10 ms at opt-level 1; 10 s means a loop.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound of one `check` batch (200 files, ~40 MB in the worst batch).
const BATCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Output kept per stream of a child; beyond this it is drained and dropped
/// (a runaway dump must not exhaust the test's memory).
const OUTPUT_CAP: usize = 256 << 20;
/// Address-space cap of the crafted-file runs, in KiB (100 MiB).
///
/// `ulimit -v` caps the virtual size, which bounds the resident size from
/// above, so a run that stays inside it provably peaked under 100 MiB, and
/// one that tries to allocate past it gets a failed allocation (Rust
/// aborts: SIGABRT, reported below as a signal) instead of eating the
/// machine. Measured on the 2-core CI box: `rdbscope dump` of a corpus
/// `all-types.rdb` (137 KB, every type) succeeds down to a cap of 10 MiB
/// and fails at 8 MiB (binary, libc and stack mappings take most of that),
/// so 100 MiB leaves ten times what a normal dump needs, and the crafted
/// files are at most 49 MB (mapped, not copied). Every crafted test first
/// dumps a small valid file under the same cap ([`assert_cap_is_usable`]),
/// so a cap that is too tight shows up as such, not as a bug.
const MEM_CAP_KB: u64 = 100 * 1024;
/// Exit status of the `sh` wrapper when `ulimit -v` itself is refused.
const ULIMIT_REFUSED: i32 = 99;

// ===========================================================================
// Criterion 2: mutated corpus files
// ===========================================================================

#[test]
fn mutated_corpus_files_exit_cleanly() {
    let Some(corpus) = locate_corpus("mutated_corpus_files_exit_cleanly") else {
        return;
    };
    let seed = seed();
    eprintln!("hostile_inputs: seed 0x{seed:016x} (set RDBSCOPE_HOSTILE_SEED to change it)");
    let started = Instant::now();

    let sources = corpus_rdb_files(&corpus);
    assert!(
        sources.len() >= 20,
        "only {} RDB files found under {}/{{rdb,third_party,broken/rdb}}",
        sources.len(),
        corpus.display()
    );
    let mut mutants = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        mutants.extend(mutants_of(i, src, seed));
    }
    pick_dump_sample(&sources, &mut mutants);
    eprintln!(
        "hostile_inputs: {} corpus RDB files, {} mutants, {} to dump",
        sources.len(),
        mutants.len(),
        mutants.iter().filter(|m| m.dump).count()
    );

    for kind in KINDS {
        if let Some(m) = mutants.iter().find(|m| m.kind == kind) {
            eprintln!("  e.g. {:?}: {}", kind, m.label);
        }
    }

    let scratch = TempDir::new("mutants");
    let keep = FailureDir::new();
    let mut failures = Vec::new();
    let mut stats = Stats::default();
    for (b, batch) in mutants.chunks(BATCH).enumerate() {
        let names: Vec<String> = (0..batch.len())
            .map(|i| format!("m{:05}.rdb", b * BATCH + i))
            .collect();
        for (m, name) in batch.iter().zip(&names) {
            std::fs::write(scratch.path.join(name), m.apply(&sources[m.source].bytes))
                .expect("write mutant");
        }
        run_check_batch(
            batch,
            &names,
            &scratch.path,
            &keep,
            &mut stats,
            &mut failures,
        );
        for (m, name) in batch.iter().zip(&names).filter(|(m, _)| m.dump) {
            run_dump(m, name, &scratch.path, &keep, &mut stats, &mut failures);
        }
        for name in &names {
            let _ = std::fs::remove_file(scratch.path.join(name));
        }
    }
    eprintln!("hostile_inputs: {stats}in {:.1?}", started.elapsed());
    assert!(
        stats.dumps >= REQUIRED_DUMPS.min(mutants.len()),
        "only {} dumps ran",
        stats.dumps
    );
    report(failures);
}

/// One corpus file.
struct Source {
    /// Path relative to the corpus, for messages.
    name: String,
    bytes: Vec<u8>,
}

/// Every file under corpus/{rdb,third_party,broken/rdb} that starts with an
/// RDB magic (`REDIS` or `VALKEY`): this skips truth/meta JSON, AOFs and
/// DUMP payloads, and keeps every RDB whatever its extension.
fn corpus_rdb_files(corpus: &Path) -> Vec<Source> {
    let mut paths = Vec::new();
    for dir in ["rdb", "third_party", "broken/rdb"] {
        walk_dir(&corpus.join(dir), &mut paths);
    }
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            if !(bytes.starts_with(b"REDIS") || bytes.starts_with(b"VALKEY")) {
                return None;
            }
            let name = p.strip_prefix(corpus).unwrap_or(&p).display().to_string();
            Some(Source { name, bytes })
        })
        .collect()
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_dir(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Truncate,
    BitFlip,
    Overwrite,
    Insert,
    Delete,
    HugeLength,
    BlobHeader,
}

const KINDS: [Kind; 7] = [
    Kind::Truncate,
    Kind::BitFlip,
    Kind::Overwrite,
    Kind::Insert,
    Kind::Delete,
    Kind::HugeLength,
    Kind::BlobHeader,
];

/// One damaged copy of a corpus file: `remove` bytes at `at` replaced by
/// `insert` (a truncation removes everything from `at`; a bit flip replaces
/// one byte by another).
struct Mutant {
    source: usize,
    kind: Kind,
    at: usize,
    remove: usize,
    insert: Vec<u8>,
    label: String,
    /// Also run `dump` on it.
    dump: bool,
}

impl Mutant {
    fn apply(&self, file: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(file.len() + self.insert.len());
        out.extend_from_slice(&file[..self.at]);
        out.extend_from_slice(&self.insert);
        out.extend_from_slice(&file[self.at + self.remove..]);
        out
    }
}

/// Length prefixes that set a length to something huge (spliced in place
/// of the real prefix, so the bytes that follow stay where the decoder
/// expects the data).
const HUGE_LENGTHS: [(&[u8], &str); 4] = [
    (&[0x80, 0xff, 0xff, 0xff, 0xff], "80 ffffffff (2^32-1)"),
    (
        &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        "81 ff*8 (2^64-1)",
    ),
    (
        &[0x81, 0, 0, 0, 1, 0, 0, 0, 0],
        "81 0000000100000000 (2^32)",
    ),
    (&[0xbf], "bf (invalid length encoding)"),
];

/// Mutants per file, by kind (huge lengths and blob headers only where the
/// file has such sites).
const TRUNCATIONS: usize = 5;
const BIT_FLIPS: usize = 4;
const OVERWRITES: usize = 3;
const INSERTIONS: usize = 2;
const DELETIONS: usize = 2;
const HUGE_PER_FILE: usize = 5;
const BLOB_HEADERS_PER_FILE: usize = 3;

fn mutants_of(index: usize, src: &Source, seed: u64) -> Vec<Mutant> {
    let file = &src.bytes;
    let n = file.len();
    let mut rng = Rng::new(seed ^ fnv1a(src.name.as_bytes()));
    let sites = Sites::find(file);
    let mut out = Vec::new();
    let mut push = |kind, at: usize, remove: usize, insert: Vec<u8>, what: String| {
        out.push(Mutant {
            source: index,
            kind,
            at,
            remove,
            insert,
            label: format!("{}: {what}", src.name),
            dump: false,
        })
    };
    // An offset inside some key's value (where most decoding happens), or
    // anywhere, half and half.
    let target = |rng: &mut Rng, span: usize| -> usize {
        let limit = n.saturating_sub(span);
        if !sites.values.is_empty() && rng.below(2) == 0 {
            let (s, e) = sites.values[rng.below(sites.values.len())];
            (s + rng.below(e.saturating_sub(s).max(1))).min(limit)
        } else {
            rng.below(limit.max(1))
        }
    };

    // Truncations: inside the header, 1 byte short, without the CRC trailer,
    // and at random points.
    let mut cuts = vec![
        rng.below(9.min(n).max(1)),
        n.saturating_sub(1),
        n.saturating_sub(8),
    ];
    while cuts.len() < TRUNCATIONS {
        cuts.push(9 + rng.below(n.saturating_sub(10).max(1)));
    }
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&c| c < n) {
        push(
            Kind::Truncate,
            cut,
            n - cut,
            Vec::new(),
            format!("truncated to {cut} of {n} bytes"),
        );
    }
    if n == 0 {
        return out;
    }
    for _ in 0..BIT_FLIPS {
        let at = target(&mut rng, 1);
        let bit = rng.below(8);
        let b = file[at] ^ (1 << bit);
        push(
            Kind::BitFlip,
            at,
            1,
            vec![b],
            format!(
                "bit {bit} flipped at offset {at} (0x{:02x} -> 0x{b:02x})",
                file[at]
            ),
        );
    }
    for _ in 0..OVERWRITES {
        let len = 1 + rng.below(4);
        let at = target(&mut rng, len);
        let len = len.min(n - at);
        let bytes = rng.bytes(len);
        push(
            Kind::Overwrite,
            at,
            len,
            bytes.clone(),
            format!(
                "{len} byte(s) at offset {at} overwritten with {}",
                hex(&bytes)
            ),
        );
    }
    for _ in 0..INSERTIONS {
        let len = 1 + rng.below(16);
        let at = target(&mut rng, 0);
        let bytes = rng.bytes(len);
        push(
            Kind::Insert,
            at,
            0,
            bytes.clone(),
            format!("{len} byte(s) {} inserted at offset {at}", hex(&bytes)),
        );
    }
    for _ in 0..DELETIONS {
        let len = 1 + rng.below(16);
        let at = target(&mut rng, len);
        let len = len.min(n - at);
        push(
            Kind::Delete,
            at,
            len,
            Vec::new(),
            format!("{len} byte(s) deleted at offset {at}"),
        );
    }
    for site in rng.sample(&sites.lengths, HUGE_PER_FILE) {
        let (bytes, name) = HUGE_LENGTHS[rng.below(HUGE_LENGTHS.len())];
        push(
            Kind::HugeLength,
            site.at,
            site.width,
            bytes.to_vec(),
            format!(
                "length prefix at offset {} ({} byte(s), {}) replaced by {name}",
                site.at, site.width, site.what
            ),
        );
    }
    let headers: Vec<(usize, &'static [u8], String)> = sites
        .blobs
        .iter()
        .flat_map(|b| {
            b.kind
                .header_fields()
                .iter()
                .filter(|f| f.0 + f.1.len() <= b.len)
                .map(move |&(off, bytes, field)| {
                    (
                        b.at + off,
                        bytes,
                        format!(
                            "{} {field} at offset {} ({}, blob at {})",
                            b.kind.name(),
                            b.at + off,
                            b.what,
                            b.at
                        ),
                    )
                })
        })
        .collect();
    for (at, bytes, what) in rng.sample(&headers, BLOB_HEADERS_PER_FILE) {
        push(
            Kind::BlobHeader,
            *at,
            bytes.len(),
            bytes.to_vec(),
            what.clone(),
        );
    }
    out
}

/// Marks mutants to dump: an equal share per file (at least 2), taking
/// the kinds in turn across files so each kind gets a fair part.
fn pick_dump_sample(sources: &[Source], mutants: &mut [Mutant]) {
    let per_file = MIN_DUMPS.div_ceil(sources.len().max(1)).max(2);
    let mut turn = 0;
    let mut start = 0;
    while start < mutants.len() {
        let src = mutants[start].source;
        let end = start
            + mutants[start..]
                .iter()
                .take_while(|m| m.source == src)
                .count();
        let group = &mut mutants[start..end];
        for _ in 0..per_file {
            // The next kind in rotation that this file still has undumped.
            for k in 0..KINDS.len() {
                let kind = KINDS[(turn + k) % KINDS.len()];
                if let Some(m) = group.iter_mut().find(|m| m.kind == kind && !m.dump) {
                    m.dump = true;
                    turn = (turn + k + 1) % KINDS.len();
                    break;
                }
            }
        }
        start = end;
    }
}

// ---------------------------------------------------------------------------
// Where the lengths are: walking the original files with the library
// ---------------------------------------------------------------------------

/// A length prefix in the file.
struct LenSite {
    at: usize,
    width: usize,
    what: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlobKind {
    Listpack,
    Ziplist,
    Intset,
    Zipmap,
}

impl BlobKind {
    fn name(self) -> &'static str {
        match self {
            BlobKind::Listpack => "listpack",
            BlobKind::Ziplist => "ziplist",
            BlobKind::Intset => "intset",
            BlobKind::Zipmap => "zipmap",
        }
    }

    /// (offset in the blob, bytes written there, field name): header
    /// fields set to values far larger than the blob.
    fn header_fields(self) -> &'static [(usize, &'static [u8], &'static str)] {
        const FF4: &[u8] = &[0xff; 4];
        const COUNT: &[u8] = &[0xfe, 0xff];
        match self {
            BlobKind::Listpack => &[
                (0, FF4, "total_bytes=0xffffffff"),
                (4, COUNT, "num_elements=65534"),
            ],
            BlobKind::Ziplist => &[
                (0, FF4, "zlbytes=0xffffffff"),
                (4, FF4, "zltail=0xffffffff"),
                (8, COUNT, "zllen=65534"),
            ],
            BlobKind::Intset => &[
                (0, FF4, "encoding=0xffffffff"),
                (4, FF4, "length=0xffffffff"),
            ],
            BlobKind::Zipmap => &[
                (0, &[0xfd], "zmlen=253"),
                (
                    1,
                    &[0xfe, 0xff, 0xff, 0xff, 0xff],
                    "first key length=0xfe ffffffff",
                ),
            ],
        }
    }
}

/// A compact blob stored raw (not LZF) in an RDB string.
struct BlobSite {
    /// File offset of the blob's first byte.
    at: usize,
    len: usize,
    kind: BlobKind,
    what: String,
}

/// What a file offers to targeted mutations.
#[derive(Default)]
struct Sites {
    lengths: Vec<LenSite>,
    blobs: Vec<BlobSite>,
    /// (start, end) of every key's value.
    values: Vec<(usize, usize)>,
}

/// Elements per collection whose lengths become sites (the rest add
/// nothing new).
const MAX_ELEMS: u64 = 8;

impl Sites {
    /// Walks the records of an unmodified file (as far as they can be read:
    /// broken corpus files stop early) and collects its length prefixes.
    fn find(file: &[u8]) -> Sites {
        let mut s = Sites::default();
        let Ok(rdb) = Rdb::new(file) else {
            return s;
        };
        for r in rdb.records() {
            let Ok(r) = r else { break };
            match r {
                Record::Aux { name, value } => {
                    let aux =
                        String::from_utf8_lossy(&name.to_vec().unwrap_or_default()).into_owned();
                    s.string(file, &name, &format!("AUX name {aux:?}"));
                    s.string(file, &value, &format!("AUX value of {aux:?}"));
                }
                Record::Key(k) => {
                    let key =
                        String::from_utf8_lossy(&k.key.to_vec().unwrap_or_default()).into_owned();
                    let of = format!("key {key:?}, type {}", k.value.type_byte());
                    s.string(file, &k.key, &format!("key length of {of}"));
                    s.values.push((k.value.offset(), k.end as usize));
                    // A walk of a valid file cannot fail; if it does, the
                    // sites found so far are still good.
                    let _ = s.value(file, &k, &of);
                }
                _ => {}
            }
        }
        s
    }

    fn len_site(&mut self, at: usize, width: usize, what: String) {
        self.lengths.push(LenSite { at, width, what });
    }

    /// The length prefixes of a stored string: its length, or the two
    /// lengths of an LZF string (a huge uncompressed length is the "4 GB
    /// LZF string" of a real file).
    fn string(&mut self, file: &[u8], s: &RdbString<'_>, what: &str) {
        let at = s.offset();
        match s.encoding() {
            StringEncoding::Raw => {
                self.len_site(at, s.data_offset() - at, format!("string length: {what}"))
            }
            StringEncoding::Lzf => {
                let clen_at = at + 1;
                if let Some(w1) = prefix_width(file, clen_at) {
                    self.len_site(clen_at, w1, format!("LZF compressed length: {what}"));
                    if let Some(w2) = prefix_width(file, clen_at + w1) {
                        self.len_site(clen_at + w1, w2, format!("LZF uncompressed length: {what}"));
                    }
                }
            }
            StringEncoding::Int => {}
        }
    }

    fn len(&mut self, c: &mut Cursor<'_>, what: &str) -> rdbscope_rdb::Result<u64> {
        let at = c.pos();
        let n = c.len("site")?;
        self.len_site(at, c.pos() - at, what.to_string());
        Ok(n)
    }

    fn str<'a>(
        &mut self,
        file: &[u8],
        c: &mut Cursor<'a>,
        what: &str,
    ) -> rdbscope_rdb::Result<RdbString<'a>> {
        let s = c.rdb_string("site")?;
        self.string(file, &s, what);
        Ok(s)
    }

    fn blob(
        &mut self,
        file: &[u8],
        c: &mut Cursor<'_>,
        kind: BlobKind,
        what: &str,
    ) -> rdbscope_rdb::Result<()> {
        let s = self.str(file, c, what)?;
        if s.encoding() == StringEncoding::Raw {
            self.blobs.push(BlobSite {
                at: s.data_offset(),
                len: s.len() as usize,
                kind,
                what: what.to_string(),
            });
        }
        Ok(())
    }

    /// Follows the value layouts of docs/format.md#object-types (as the decoder's own
    /// skim does) and records every length prefix on the way.
    fn value(&mut self, file: &[u8], k: &KeyRecord<'_>, of: &str) -> rdbscope_rdb::Result<()> {
        use Encoding::*;
        let mut c = Cursor::new(file, 0);
        c.set_pos(k.value.offset());
        let c = &mut c;
        let w = |what: &str| format!("{what} of {of}");
        match k.value.encoding() {
            String => {
                self.str(file, c, &w("string value"))?;
            }
            List | Set | ListQuicklist => {
                let n = self.len(c, &w("element count"))?;
                for _ in 0..n.min(MAX_ELEMS) {
                    if k.value.encoding() == ListQuicklist {
                        self.blob(file, c, BlobKind::Ziplist, &w("quicklist node"))?;
                    } else {
                        self.str(file, c, &w("element"))?;
                    }
                }
            }
            ZSet | ZSet2 => {
                let n = self.len(c, &w("zset size"))?;
                for _ in 0..n.min(MAX_ELEMS) {
                    self.str(file, c, &w("zset member"))?;
                    if k.value.encoding() == ZSet2 {
                        c.take(8, "score")?;
                    } else {
                        let len = c.u8("score")?;
                        if len < 253 {
                            c.take(u64::from(len), "score")?;
                        }
                    }
                }
            }
            Hash | ValkeyHash2 => {
                let n = self.len(c, &w("hash size"))?;
                for _ in 0..n.min(MAX_ELEMS) {
                    self.str(file, c, &w("hash field"))?;
                    self.str(file, c, &w("hash value"))?;
                    if k.value.encoding() == ValkeyHash2 {
                        c.take(8, "field expire")?;
                    }
                }
            }
            HashMetadata | HashMetadataPreGa => {
                if k.value.encoding() == HashMetadata {
                    c.take(8, "min expire")?;
                }
                let n = self.len(c, &w("hash size"))?;
                for _ in 0..n.min(MAX_ELEMS) {
                    self.len(c, &w("hash field TTL"))?;
                    self.str(file, c, &w("hash field"))?;
                    self.str(file, c, &w("hash value"))?;
                }
            }
            ListQuicklist2 => {
                let n = self.len(c, &w("quicklist node count"))?;
                for _ in 0..n.min(MAX_ELEMS) {
                    if self.len(c, &w("quicklist container"))? == 2 {
                        self.blob(file, c, BlobKind::Listpack, &w("quicklist node"))?;
                    } else {
                        self.str(file, c, &w("plain quicklist node"))?;
                    }
                }
            }
            HashListpack | ZSetListpack | SetListpack | HashListpackExPreGa => {
                self.blob(file, c, BlobKind::Listpack, &w("listpack"))?;
            }
            HashListpackEx => {
                c.take(8, "min expire")?;
                self.blob(file, c, BlobKind::Listpack, &w("listpack"))?;
            }
            ListZiplist | ZSetZiplist | HashZiplist => {
                self.blob(file, c, BlobKind::Ziplist, &w("ziplist"))?;
            }
            SetIntset => self.blob(file, c, BlobKind::Intset, &w("intset"))?,
            HashZipmap => self.blob(file, c, BlobKind::Zipmap, &w("zipmap"))?,
            Stream(v) => self.stream(file, c, v, &w)?,
            Module2 | ModulePreGa => {
                self.len(c, &w("module id"))?;
            }
        }
        Ok(())
    }

    /// docs/format.md#streams: listpacks, metadata, groups, PELs, consumers (the
    /// IDMP block of type 26 is left alone).
    fn stream(
        &mut self,
        file: &[u8],
        c: &mut Cursor<'_>,
        v: u8,
        w: &dyn Fn(&str) -> String,
    ) -> rdbscope_rdb::Result<()> {
        let nodes = self.len(c, &w("stream listpack count"))?;
        for i in 0..nodes {
            if i < MAX_ELEMS {
                self.str(file, c, &w("stream master ID"))?;
                self.blob(file, c, BlobKind::Listpack, &w("stream listpack"))?;
            } else {
                c.rdb_string("master ID")?;
                c.rdb_string("listpack")?;
            }
        }
        self.len(c, &w("stream length"))?;
        let ids = if v >= 2 { 7 } else { 2 };
        for _ in 0..ids {
            c.len("stream ID part / entries added")?;
        }
        let groups = self.len(c, &w("stream group count"))?;
        for _ in 0..groups {
            self.str(file, c, &w("consumer group name"))?;
            c.len("group last ID ms")?;
            c.len("group last ID seq")?;
            if v >= 2 {
                c.len("entries read")?;
            }
            let pel = self.len(c, &w("group PEL size"))?;
            for _ in 0..pel {
                c.take(24, "PEL ID and delivery time")?;
                c.len("PEL delivery count")?;
            }
            let consumers = self.len(c, &w("consumer count"))?;
            for _ in 0..consumers {
                self.str(file, c, &w("consumer name"))?;
                c.take(if v >= 3 { 16 } else { 8 }, "consumer times")?;
                let n = self.len(c, &w("consumer PEL size"))?;
                c.take(n.saturating_mul(16), "consumer PEL")?;
            }
        }
        Ok(())
    }
}

/// Width of the RDB length prefix at `at`, if there is one.
fn prefix_width(file: &[u8], at: usize) -> Option<usize> {
    let rest = file.get(at..)?;
    let (after, _) = parse::length(rest).ok()?;
    Some(rest.len() - after.len())
}

// ---------------------------------------------------------------------------
// Running check and dump on mutants, and judging what they did
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    checked: usize,
    check_problem: usize,
    dumps: usize,
    dump_exit1: usize,
    check_invocations: usize,
    by_kind: std::collections::BTreeMap<String, (usize, usize)>,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} mutants checked in {} invocations ({} reported as problems), {} dumped ({} exit 1); \
             by kind (checked, dumped):",
            self.checked, self.check_invocations, self.check_problem, self.dumps, self.dump_exit1
        )?;
        for (k, (c, d)) in &self.by_kind {
            write!(f, " {k} {c}/{d}")?;
        }
        write!(f, "; ")
    }
}

/// Checks one batch; if the invocation as a whole misbehaves (a signal, a
/// hang, exit 2, unreadable output), reruns each file alone to find which.
fn run_check_batch(
    batch: &[Mutant],
    names: &[String],
    dir: &Path,
    keep: &FailureDir,
    stats: &mut Stats,
    failures: &mut Vec<String>,
) {
    let run = check_files(dir, names, BATCH_TIMEOUT);
    stats.check_invocations += 1;
    stats.checked += batch.len();
    for m in batch {
        stats.by_kind.entry(format!("{:?}", m.kind)).or_default().0 += 1;
    }
    match judge_check(&run, names) {
        Ok(verdicts) => {
            for (i, v) in verdicts.into_iter().enumerate() {
                match v {
                    Ok(problem) => stats.check_problem += usize::from(problem),
                    Err(why) => failures.push(failure(
                        &batch[i],
                        &names[i],
                        "check --format json",
                        &why,
                        &run,
                        dir,
                        keep,
                    )),
                }
            }
        }
        Err(batch_why) => {
            let mut found = false;
            for (m, name) in batch.iter().zip(names) {
                let alone = check_files(dir, std::slice::from_ref(name), PROCESS_TIMEOUT);
                stats.check_invocations += 1;
                let why = match judge_check(&alone, std::slice::from_ref(name)) {
                    Err(why) => why,
                    Ok(mut v) => match v.remove(0) {
                        Ok(problem) => {
                            stats.check_problem += usize::from(problem);
                            continue;
                        }
                        Err(why) => why,
                    },
                };
                found = true;
                failures.push(failure(
                    m,
                    name,
                    "check --format json",
                    &why,
                    &alone,
                    dir,
                    keep,
                ));
            }
            if !found {
                failures.push(format!(
                    "a check batch of {} files misbehaved ({batch_why}) but every file passes alone:\n  stderr: {}",
                    names.len(),
                    clip(&String::from_utf8_lossy(&run.stderr), 2000)
                ));
            }
        }
    }
}

fn check_files(dir: &Path, names: &[String], timeout: Duration) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--format", "json"])
        .args(names)
        .current_dir(dir);
    run(cmd, timeout)
}

/// Judges a `check --format json` run over `names`: `Err` when the run as a
/// whole is unusable, else per file `Ok(reported a problem)` or `Err(why
/// that is wrong)`.
fn judge_check(run: &Run, names: &[String]) -> Result<Vec<Result<bool, String>>, String> {
    let code = match run.status {
        Some(s) if matches!(s.code(), Some(0 | 1)) => s.code().unwrap(),
        _ => return Err(run.describe_status()),
    };
    let stdout = String::from_utf8_lossy(&run.stdout);
    let reports: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if reports.len() != names.len()
        || reports
            .iter()
            .zip(names)
            .any(|(r, n)| r["file"] != n.as_str())
    {
        return Err(format!(
            "exit {code}, but stdout does not hold one JSON report per file in argument order \
             ({} reports for {} files)",
            reports.len(),
            names.len()
        ));
    }
    let stderr = String::from_utf8_lossy(&run.stderr);
    let mut any_problem = false;
    let verdicts: Vec<Result<bool, String>> = reports
        .iter()
        .zip(names)
        .map(|(r, name)| match r["verdict"].as_str() {
            Some("ok") => Ok(false),
            Some("problem") => {
                any_problem = true;
                if offset_line(&stderr, name).is_some() {
                    Ok(true)
                } else {
                    Err(format!(
                        "verdict \"problem\" but no stderr line \"rdbscope: {name}: offset N ...\" \
                         (report error: {})",
                        r["error"]
                    ))
                }
            }
            _ => Err(format!("report without a verdict: {r}")),
        })
        .collect();
    if any_problem != (code == 1) {
        return Err(format!(
            "exit {code}, but {} report says \"problem\"",
            if any_problem { "a" } else { "no" }
        ));
    }
    Ok(verdicts)
}

fn run_dump(
    m: &Mutant,
    name: &str,
    dir: &Path,
    keep: &FailureDir,
    stats: &mut Stats,
    failures: &mut Vec<String>,
) {
    let mut cmd = Command::new(BIN);
    cmd.args(["dump", name]).current_dir(dir);
    let run = run(cmd, PROCESS_TIMEOUT);
    stats.dumps += 1;
    stats.by_kind.entry(format!("{:?}", m.kind)).or_default().1 += 1;
    let problems = judge_dump(&run, name);
    if run.status.and_then(|s| s.code()) == Some(1) {
        stats.dump_exit1 += 1;
    }
    if !problems.is_empty() {
        failures.push(failure(
            m,
            name,
            "dump",
            &problems.join("; "),
            &run,
            dir,
            keep,
        ));
    }
}

/// Everything wrong with one `dump` run: its exit, its error line, its
/// output.
fn judge_dump(run: &Run, name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let code = run.status.and_then(|s| s.code());
    match code {
        Some(0 | 1) => {}
        _ => problems.push(run.describe_status()),
    }
    if code == Some(1) && offset_line(&String::from_utf8_lossy(&run.stderr), name).is_none() {
        problems.push(format!(
            "exit 1 but stderr has no line \"rdbscope: {name}: offset N ...\""
        ));
    }
    match json_lines(&run.stdout) {
        Err(why) => problems.push(format!("stdout is not complete JSON lines: {why}")),
        Ok(lines) => {
            // Exit 0 means the file was read to its end: the last record
            // printed is the EOF record.
            if code == Some(0) && lines.last().map(|l| l["record"] != "eof").unwrap_or(true) {
                problems.push("exit 0 but the output does not end with the EOF record".into());
            }
        }
    }
    if run.stdout_clipped {
        problems.push(format!("more than {OUTPUT_CAP} bytes on stdout"));
    }
    problems
}

/// Parses dump's stdout: each line one JSON object, the last one ended by a
/// newline (a record cut in half by an error would break either rule).
fn json_lines(out: &[u8]) -> Result<Vec<Value>, String> {
    if out.is_empty() {
        return Ok(Vec::new());
    }
    if out.last() != Some(&b'\n') {
        let tail = &out[out.len().saturating_sub(120)..];
        return Err(format!(
            "does not end with a newline; ends with {:?}",
            String::from_utf8_lossy(tail)
        ));
    }
    let mut lines = Vec::new();
    for (i, line) in out[..out.len() - 1].split(|&b| b == b'\n').enumerate() {
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v.is_object() => lines.push(v),
            Ok(_) => return Err(format!("line {} is JSON but not an object", i + 1)),
            Err(e) => {
                return Err(format!(
                    "line {} does not parse ({e}): {}",
                    i + 1,
                    clip(&String::from_utf8_lossy(line), 300)
                ))
            }
        }
    }
    Ok(lines)
}

/// The stderr line `rdbscope: NAME: offset N ...` for `name`, if any.
fn offset_line<'s>(stderr: &'s str, name: &str) -> Option<&'s str> {
    let prefix = format!("rdbscope: {name}: offset ");
    stderr.lines().find(|l| {
        l.strip_prefix(&prefix)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// A failure message with everything needed to reproduce it; the mutant is
/// kept on disk.
fn failure(
    m: &Mutant,
    name: &str,
    command: &str,
    why: &str,
    run: &Run,
    dir: &Path,
    keep: &FailureDir,
) -> String {
    let kept = keep.keep(&dir.join(name));
    format!(
        "{} [{:?}]\n  rdbscope {command} {}: {why}\n  stderr: {}",
        m.label,
        m.kind,
        kept.display(),
        clip(String::from_utf8_lossy(&run.stderr).trim(), 1500)
    )
}

/// The judges above must be able to fail: a child killed by a signal, one
/// that hangs, one that stops in the middle of a JSON line, one that exits
/// 1 without naming an offset are all caught (shell stand-ins for a broken
/// `rdbscope`).
#[test]
fn judges_catch_signals_hangs_and_cut_output() {
    let sh = |script: &str, timeout: Duration| {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(script);
        run(cmd, timeout)
    };
    let short = Duration::from_millis(300);
    let good = sh(
        r#"printf '{"record":"header"}\n{"record":"eof"}\n'; exit 0"#,
        PROCESS_TIMEOUT,
    );
    assert_eq!(judge_dump(&good, "x.rdb"), Vec::<String>::new());
    let good_err = sh(
        r#"printf '{"a":1}\n'; echo 'rdbscope: x.rdb: offset 12 (read-type): bad' >&2; exit 1"#,
        PROCESS_TIMEOUT,
    );
    assert_eq!(judge_dump(&good_err, "x.rdb"), Vec::<String>::new());

    let cases = [
        ("kill -SEGV $$", "SIGNAL 11"),
        ("kill -ABRT $$", "SIGNAL 6"),
        ("sleep 5", "HANG"),
        ("exit 2", "exit 2"),
        (
            r#"printf '{"a":1}\n{"b":'; echo 'rdbscope: x.rdb: offset 3 (x): y' >&2; exit 1"#,
            "newline",
        ),
        (
            r#"printf '{"a":1}\n{"b":\n'; echo 'rdbscope: x.rdb: offset 3 (x): y' >&2; exit 1"#,
            "parse",
        ),
        (
            "echo 'rdbscope: x.rdb: something broke' >&2; exit 1",
            "offset N",
        ),
        (r#"printf '{"a":1}\n'; exit 0"#, "EOF record"),
    ];
    for (script, expected) in cases {
        let problems = judge_dump(&sh(script, short), "x.rdb").join("; ");
        assert!(
            problems.contains(expected),
            "{script:?}: expected {expected:?} in {problems:?}"
        );
    }
    // check: a "problem" report needs its stderr line; exit code and
    // verdicts must agree.
    let names = ["a.rdb".to_string(), "b.rdb".to_string()];
    let reports =
        r#"printf '{"file":"a.rdb","verdict":"ok"}\n{"file":"b.rdb","verdict":"problem"}\n'"#;
    let ok = sh(
        &format!("{reports}; echo 'rdbscope: b.rdb: offset 9 (x): y' >&2; exit 1"),
        PROCESS_TIMEOUT,
    );
    assert!(matches!(
        judge_check(&ok, &names).as_deref(),
        Ok([Ok(false), Ok(true)])
    ));
    let no_line = sh(
        &format!("{reports}; echo 'rdbscope: a.rdb: offset 9 (x): y' >&2; exit 1"),
        PROCESS_TIMEOUT,
    );
    assert!(matches!(
        judge_check(&no_line, &names).as_deref(),
        Ok([Ok(false), Err(_)])
    ));
    let wrong_exit = sh(
        &format!("{reports}; echo 'rdbscope: b.rdb: offset 9 (x): y' >&2; exit 0"),
        PROCESS_TIMEOUT,
    );
    assert!(judge_check(&wrong_exit, &names).is_err());
    assert!(judge_check(&sh("kill -SEGV $$", short), &names).is_err());
    assert!(judge_check(&sh("sleep 5", short), &names).is_err());
}

// ===========================================================================
// Criterion 3: crafted files with huge claims, under a memory cap
// ===========================================================================

/// One crafted file and what its error must say.
struct Crafted {
    name: &'static str,
    bytes: Vec<u8>,
    /// The error message must contain all of these (case-insensitive): what
    /// was wrong and where.
    words: &'static [&'static str],
}

/// (a), (b): LZF strings claiming 4 GiB.
#[test]
fn crafted_lzf_claims() {
    // (a) 9 bytes of LZF data (docs/format.md#worked-examples: 100 x "a") claiming 4 GiB.
    let small = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
    // (b) 2 MiB of back references, each 3 bytes (`e0 ff 00`: copy 264
    // bytes from 1 back) after one literal: ~184 MB of real output, far
    // less than the 4 GiB claimed (more than LZF can ever expand 2 MiB to).
    let mut refs = vec![0x00, b'a'];
    while refs.len() + 3 <= 2 << 20 {
        refs.extend_from_slice(&[0xe0, 0xff, 0x00]);
    }
    // (b') the payload is large enough that 4 GiB is *possible* (48.8 MB at
    // 88 bytes out per byte in, the most LZF can do), so no size check
    // alone rejects it; but the data goes wrong after 32 bytes of output (a
    // back reference 8192 bytes back). A decoder must fail there, having
    // used almost nothing, not reserve the 4 GiB it was promised first.
    let four_gib: u64 = 4 << 30;
    let clen = (four_gib - 264).div_ceil(88) as usize + 16;
    let mut bad_early = vec![0x1f];
    bad_early.extend_from_slice(b"0123456789abcdefghijklmnopqrstuv");
    bad_early.extend_from_slice(&[0xff, 0xff, 0xff]);
    bad_early.resize(clen, 0);
    // (b'') the same trick at the scale of a 2 MiB payload: the largest
    // length 2 MiB can justify (~184 MB), data broken after 32 bytes.
    let bad_early_small = bad_early[..2 << 20].to_vec();
    let plausible_small = (bad_early_small.len() as u64) * 88 + 264;

    // Control for (b'): a file as large, whose big value is a plain string
    // that `dump --key k` skips and `check` reads in place, runs fine under
    // the cap, so the mapping of a 49 MB file leaves room for a correct
    // decoder and a failure of (b') is the decoder's, not the cap's.
    let control = rdb_file(
        &[
            &string_key(b"k", b"\x01v")[..],
            &string_key(b"pad", &rdb_str(&vec![b'x'; bad_early.len()])),
        ]
        .concat(),
    );
    assert_runs_under_cap(
        "control-49mb.rdb",
        &control,
        &[&["dump", "--key", "k"], &["check"]],
    );

    let cases = vec![
        Crafted {
            name: "lzf-4gib-from-9-bytes",
            bytes: rdb_file(&string_key(b"big", &lzf_string(&small, four_gib))),
            words: &["LZF", "claims 4294967296"],
        },
        Crafted {
            name: "lzf-4gib-from-2mib-of-backrefs",
            bytes: rdb_file(&string_key(b"big", &lzf_string(&refs, four_gib))),
            words: &["LZF", "claims 4294967296"],
        },
        // Regression (a bug this test found, since fixed): the LZF decoder
        // once sized its buffer to the declared length before decoding a
        // byte, so this 49 MB file made it allocate 4 GiB (SIGABRT under
        // the cap). Expected: exit 1, "invalid LZF data: back reference
        // before the start of output", a few MB.
        Crafted {
            name: "lzf-4gib-plausible-size-broken-data",
            bytes: rdb_file(&string_key(b"big", &lzf_string(&bad_early, four_gib))),
            words: &["LZF"],
        },
        // Regression, same cause: a 2 MiB file made it allocate 184 MB (88x
        // its size) before finding the data broken after 32 bytes.
        Crafted {
            name: "lzf-184mb-plausible-size-broken-data",
            bytes: rdb_file(&string_key(
                b"big",
                &lzf_string(&bad_early_small, plausible_small),
            )),
            words: &["LZF"],
        },
    ];
    run_crafted(&cases);
}

/// (c), (d): collections and quicklists claiming 2^32 (or 2^32-1) items.
#[test]
fn crafted_collection_claims() {
    let two32 = rdb_len(1 << 32);
    let elems = [&[1, b'a'][..], &[1, b'b'], &[1, b'c']].concat();
    let lp = listpack(&[&[0x81, b'a', 0x02], &[0x01, 0x01]], 2);
    let zl = [
        0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
    ]
    .to_vec();
    let cases = vec![
        Crafted {
            name: "list-2^32-elements",
            bytes: rdb_file(&key(1, b"l", &[&two32[..], &elems].concat())),
            words: &["end of input", "element count"],
        },
        Crafted {
            name: "set-2^32-1-members",
            bytes: rdb_file(&key(
                2,
                b"s",
                &[&[0x80, 0xff, 0xff, 0xff, 0xff][..], &elems].concat(),
            )),
            words: &["end of input", "element count"],
        },
        Crafted {
            name: "hash-2^32-pairs",
            bytes: rdb_file(&key(4, b"h", &[&two32[..], &elems, &[1, b'd']].concat())),
            words: &["end of input", "hash size"],
        },
        Crafted {
            name: "zset2-2^64-1-members",
            bytes: rdb_file(&key(
                5,
                b"z",
                &[&[0x81][..], &[0xff; 8], &[1, b'm'], &[0; 8]].concat(),
            )),
            // 2^64-1 is the loader's read-error value (RDB_LENERR): refused
            // as such before any byte count is considered.
            words: &["read-error value", "zset size"],
        },
        Crafted {
            name: "quicklist2-2^32-nodes",
            bytes: rdb_file(&key(18, b"q", &[&two32[..], &[2], &rdb_str(&lp)].concat())),
            words: &["end of input", "quicklist node count"],
        },
        Crafted {
            name: "quicklist1-2^32-nodes",
            bytes: rdb_file(&key(14, b"q", &[&two32[..], &rdb_str(&zl)].concat())),
            words: &["end of input", "count"],
        },
    ];
    run_crafted(&cases);
}

/// (e): compact blobs whose headers claim far more than they hold.
#[test]
fn crafted_blob_header_claims() {
    let pair = [&[0x81, b'a', 0x02][..], &[0x01, 0x01]];
    let mut lp_huge_total = listpack(&pair, 2);
    lp_huge_total[..4].copy_from_slice(&[0xff; 4]);
    // The ziplist of docs/format.md#worked-examples, ["2", "5"], then variants of it.
    let zl = [
        0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
    ];
    let with = |at: usize, bytes: &[u8]| {
        let mut z = zl.to_vec();
        z[at..at + bytes.len()].copy_from_slice(bytes);
        z
    };
    let zl_huge_bytes = with(0, &[0xff; 4]);
    let zl_huge_tail = with(4, &[0xff; 4]);
    let zl_65534 = with(8, &[0xfe, 0xff]);
    // Entry 1 claims a 4 GiB string (`80` + u32 BE) instead of `f3` (2);
    // zlbytes and zltail follow the 4 bytes it grew by.
    let mut zl_huge_entry = zl.to_vec();
    zl_huge_entry.splice(11..12, [0x80, 0xff, 0xff, 0xff, 0xff]);
    let n = zl_huge_entry.len() as u32;
    zl_huge_entry[..4].copy_from_slice(&n.to_le_bytes());
    zl_huge_entry[4..8].copy_from_slice(&(n - 3).to_le_bytes());
    // A listpack entry claiming a 4 GiB string (`f0` + u32 LE).
    let lp_huge_entry = listpack(
        &[&[0xf0, 0xff, 0xff, 0xff, 0xff, b'a', 0x05], &[0x01, 0x01]],
        2,
    );
    let cases = vec![
        Crafted {
            name: "hash-listpack-65534-elements-holds-2",
            bytes: rdb_file(&key(16, b"h", &rdb_str(&listpack(&pair, 65534)))),
            words: &["listpack", "65534"],
        },
        Crafted {
            name: "hash-listpack-total-bytes-4gib",
            bytes: rdb_file(&key(16, b"h", &rdb_str(&lp_huge_total))),
            words: &["listpack", "4294967295"],
        },
        Crafted {
            name: "hash-listpack-entry-4gib-string",
            bytes: rdb_file(&key(16, b"h", &rdb_str(&lp_huge_entry))),
            words: &["listpack string"],
        },
        Crafted {
            name: "set-listpack-65534-elements-holds-2",
            bytes: rdb_file(&key(20, b"s", &rdb_str(&listpack(&pair, 65534)))),
            words: &["listpack", "65534"],
        },
        Crafted {
            name: "list-ziplist-zlbytes-4gib",
            bytes: rdb_file(&key(10, b"l", &rdb_str(&zl_huge_bytes))),
            words: &["zlbytes", "4294967295"],
        },
        Crafted {
            name: "list-ziplist-zltail-4gib",
            bytes: rdb_file(&key(10, b"l", &rdb_str(&zl_huge_tail))),
            words: &["zltail", "4294967295"],
        },
        Crafted {
            name: "hash-ziplist-zllen-65534-holds-2",
            bytes: rdb_file(&key(13, b"h", &rdb_str(&zl_65534))),
            words: &["zllen", "65534"],
        },
        Crafted {
            name: "list-ziplist-entry-4gib-string",
            bytes: rdb_file(&key(10, b"l", &rdb_str(&zl_huge_entry))),
            words: &["ziplist string"],
        },
        Crafted {
            name: "intset-length-4gib",
            bytes: rdb_file(&key(
                11,
                b"i",
                &rdb_str(&[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 2, 0]),
            )),
            words: &["intset", "4294967295"],
        },
    ];
    run_crafted(&cases);
}

/// (f): streams claiming 2^32 listpacks, groups, PEL entries, consumers.
#[test]
fn crafted_stream_claims() {
    let two32 = rdb_len(1 << 32);
    // Stream type 21 (v3) with no listpacks: length 0, last 0-0, first 0-0,
    // max deleted 0-0, entries added 0 (valid: a MKSTREAM stream), then
    // `groups`.
    let empty_meta = [0u8, 0, 0, 0, 0, 0, 0, 0].to_vec();
    let stream = |groups: &[u8]| [&[0u8][..], &empty_meta, groups].concat();
    let group_head = [&[1u8, b'g'][..], &[0, 0, 0]].concat(); // name, last ID, entries read
    let pel_entry = [&[0u8; 16][..], &[0; 8], &[1]].concat();
    let consumer_head = [&[1u8, b'c'][..], &[0; 16]].concat(); // name, seen, active
    let cases = vec![
        Crafted {
            name: "stream-2^32-listpacks",
            bytes: rdb_file(&key(
                21,
                b"st",
                &[
                    &two32[..],
                    &[16],
                    &[0; 16],
                    &rdb_str(&listpack(&[&[0x01, 0x01]], 1)),
                ]
                .concat(),
            )),
            words: &["end of input", "stream listpack count"],
        },
        Crafted {
            name: "stream-2^32-groups",
            bytes: rdb_file(&key(
                21,
                b"st",
                &stream(&[&two32[..], &group_head, &[0, 0]].concat()),
            )),
            words: &["end of input", "group count"],
        },
        Crafted {
            name: "stream-2^32-pel-entries",
            bytes: rdb_file(&key(
                21,
                b"st",
                &stream(&[&[1u8][..], &group_head, &two32, &pel_entry, &[0]].concat()),
            )),
            words: &["end of input", "PEL size"],
        },
        Crafted {
            name: "stream-2^32-consumers",
            bytes: rdb_file(&key(
                21,
                b"st",
                &stream(&[&[1u8][..], &group_head, &[0], &two32, &consumer_head, &[0]].concat()),
            )),
            words: &["end of input", "consumer count"],
        },
        Crafted {
            name: "stream-consumer-2^32-pel-ids",
            bytes: rdb_file(&key(
                21,
                b"st",
                &stream(
                    &[
                        &[1u8][..],
                        &group_head,
                        &[0],
                        &[1],
                        &consumer_head,
                        &two32,
                        &[0; 16],
                    ]
                    .concat(),
                ),
            )),
            words: &["end of input", "consumer PEL"],
        },
    ];
    run_crafted(&cases);
}

/// Runs `dump` and `check` on each crafted file under the memory cap and
/// collects every way they fall short: not exit 1 (a signal is an abort on
/// a failed allocation: the cap was hit), no `offset N` line, a message
/// that does not say what was wrong, an offset outside the file, broken
/// JSON lines.
fn run_crafted(cases: &[Crafted]) {
    assert_cap_is_usable();
    let dir = TempDir::new("crafted");
    let mut failures = Vec::new();
    for case in cases {
        let file = format!("{}.rdb", case.name);
        std::fs::write(dir.path.join(&file), &case.bytes).expect("write crafted file");
        for command in ["dump", "check", "memory"] {
            let started = Instant::now();
            let run = run(capped(&[command, &file], &dir.path), PROCESS_TIMEOUT);
            let mut problems = Vec::new();
            // `memory` reads only what the estimate needs: a string's
            // length, not its compressed bytes (`check` verifies those), so
            // a damaged LZF payload it never opens may pass; whatever it
            // does open must fail cleanly, within the cap.
            if command == "memory" {
                match run.status.and_then(|s| s.code()) {
                    Some(0) => {}
                    Some(1) if offset_line(&String::from_utf8_lossy(&run.stderr), &file).is_some() => {}
                    _ => failures.push(format!(
                        "{} ({} bytes), rdbscope memory under `ulimit -v {MEM_CAP_KB}`: {}\n  stderr: {}",
                        case.name,
                        case.bytes.len(),
                        run.describe_status(),
                        clip(String::from_utf8_lossy(&run.stderr).trim(), 1500)
                    )),
                }
                continue;
            }
            match run.status.and_then(|s| s.code()) {
                Some(1) => {}
                Some(ULIMIT_REFUSED) => panic!("`ulimit -v {MEM_CAP_KB}` was refused by sh"),
                _ => problems.push(format!("expected exit 1, got {}", run.describe_status())),
            }
            let stderr = String::from_utf8_lossy(&run.stderr);
            match offset_line(&stderr, &file) {
                None => problems.push(format!("no stderr line \"rdbscope: {file}: offset N ...\"")),
                Some(line) => {
                    let offset: u64 = line[format!("rdbscope: {file}: offset ").len()..]
                        .split(|c: char| !c.is_ascii_digit())
                        .next()
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(u64::MAX);
                    // The key record starts right after the 14-byte
                    // preamble (header, SELECTDB, RESIZEDB).
                    if !(14..case.bytes.len() as u64).contains(&offset) {
                        problems.push(format!("offset {offset} is not inside the key record"));
                    }
                    let lower = line.to_ascii_lowercase();
                    let missing: Vec<_> = case
                        .words
                        .iter()
                        .filter(|w| !lower.contains(&w.to_ascii_lowercase()))
                        .collect();
                    if !missing.is_empty() {
                        problems.push(format!("the message does not mention {missing:?}"));
                    }
                }
            }
            if command == "dump" {
                if let Err(why) = json_lines(&run.stdout) {
                    problems.push(format!("stdout is not complete JSON lines: {why}"));
                }
            }
            eprintln!(
                "crafted {} ({} bytes): {command} {} in {:.0?}: {}",
                case.name,
                case.bytes.len(),
                run.describe_status(),
                started.elapsed(),
                offset_line(&stderr, &file).unwrap_or(stderr.lines().next().unwrap_or(""))
            );
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({} bytes), rdbscope {command} under `ulimit -v {MEM_CAP_KB}`: {}\n  stderr: {}",
                    case.name,
                    case.bytes.len(),
                    problems.join("; "),
                    clip(stderr.trim(), 1500)
                ));
            }
        }
        let _ = std::fs::remove_file(dir.path.join(&file));
    }
    report(failures);
}

/// The cap must not break normal work: a valid file (docs/format.md#worked-examples:
/// minimal RDB) dumps and checks fine under it.
fn assert_cap_is_usable() {
    let minimal = rdb_file(&string_key(b"k", b"\x01v"));
    assert_runs_under_cap("minimal.rdb", &minimal, &[&["dump"], &["check"]]);
}

/// Runs `rdbscope ARGS FILE` under the cap for each `ARGS` of `commands`
/// on a valid `bytes`, and requires exit 0.
fn assert_runs_under_cap(file: &str, bytes: &[u8], commands: &[&[&str]]) {
    let dir = TempDir::new("cap");
    std::fs::write(dir.path.join(file), bytes).expect("write control file");
    for args in commands {
        let args = [args, &[file][..]].concat();
        let run = run(capped(&args, &dir.path), PROCESS_TIMEOUT);
        assert!(
            run.status.and_then(|s| s.code()) == Some(0),
            "the memory cap of {MEM_CAP_KB} KiB is too tight for this machine: `rdbscope {}` of a \
             valid {}-byte file gave {}: {}",
            args.join(" "),
            bytes.len(),
            run.describe_status(),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

/// `sh -c 'ulimit -v CAP; exec rdbscope ARGS'`: `exec` keeps the pid, so a
/// signal or a timeout kill reaches rdbscope itself.
///
/// `check`, `dump` and `memory` run with `-j1` here: a virtual-size cap also counts
/// what every extra thread merely reserves (its stack, glibc's per-thread
/// malloc arena of 64 MiB), which says nothing about memory used;
/// single-threaded, the cap measures what the decoder allocates.
fn capped(args: &[&str], dir: &Path) -> Command {
    let args: Vec<&str> = match args.split_first() {
        Some((&cmd, rest)) if cmd == "check" || cmd == "dump" || cmd == "memory" => {
            [&[cmd, "-j1"][..], rest].concat()
        }
        _ => args.to_vec(),
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -v {MEM_CAP_KB} || exit {ULIMIT_REFUSED}; exec \"$0\" \"$@\""
        ))
        .arg(BIN)
        .args(&args)
        .current_dir(dir);
    cmd
}

// ---------------------------------------------------------------------------
// Building RDB files by hand (docs/format.md#length-encoding, #worked-examples)
// ---------------------------------------------------------------------------

/// `REDIS0011`, SELECTDB 0, RESIZEDB 1 0, `body`, EOF, CRC-64 (LE) of
/// everything up to and including the EOF byte, by the library's writer.
fn rdb_file(body: &[u8]) -> Vec<u8> {
    let mut w = write::records::Writer::redis(Vec::new(), 11).expect("header");
    w.select_db(0).expect("SELECTDB");
    w.resize_db(1, 0).expect("RESIZEDB");
    w.raw(body).expect("body");
    w.finish().expect("EOF")
}

/// A key record: type byte, key, value bytes.
fn key(type_byte: u8, name: &[u8], value: &[u8]) -> Vec<u8> {
    [&[type_byte][..], &rdb_str(name), value].concat()
}

/// A string key; `value` is a stored RDB string.
fn string_key(name: &[u8], value: &[u8]) -> Vec<u8> {
    key(0, name, value)
}

/// Shortest RDB length encoding.
fn rdb_len(n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    write::cursor::length(&mut v, n);
    v
}

/// A plain RDB string.
fn rdb_str(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    write::rdb_string::string(&mut v, bytes);
    v
}

/// An LZF RDB string: `c3`, compressed length, claimed length, data.
fn lzf_string(data: &[u8], claimed: u64) -> Vec<u8> {
    let mut v = Vec::new();
    write::rdb_string::lzf(&mut v, data, claimed);
    v
}

/// A listpack of already-encoded entries (each with its backlen) whose
/// header says `count` elements: the writer's empty listpack with the
/// entries put before its terminator and its header patched.
fn listpack(entries: &[&[u8]], count: u16) -> Vec<u8> {
    let mut lp = write::listpack::to_vec([]).expect("empty listpack");
    let end = lp.len() - 1;
    lp.splice(end..end, entries.concat());
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
    lp[4..6].copy_from_slice(&count.to_le_bytes());
    lp
}

// ===========================================================================
// Running a child with a time bound
// ===========================================================================

/// What a child did.
struct Run {
    /// `None`: it ran past its time bound and was killed.
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_clipped: bool,
    timeout: Duration,
}

impl Run {
    fn describe_status(&self) -> String {
        match self.status {
            None => format!("HANG: still running after {:?}, killed", self.timeout),
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit {c}"),
                (None, Some(sig)) => format!(
                    "KILLED BY SIGNAL {sig}{}{}",
                    match sig {
                        6 => " (SIGABRT: abort, e.g. a failed allocation)",
                        9 => " (SIGKILL)",
                        11 => " (SIGSEGV)",
                        _ => "",
                    },
                    if s.core_dumped() { ", core dumped" } else { "" }
                ),
                (None, None) => format!("unknown status {s:?}"),
            },
        }
    }
}

/// Runs `cmd` with stdin closed and stdout/stderr captured (by threads, so
/// a chatty child cannot block on a full pipe), polling for its end and
/// killing it after `timeout`.
fn run(mut cmd: Command, timeout: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let out = drain(child.stdout.take().expect("stdout pipe"));
    let err = drain(child.stderr.take().expect("stderr pipe"));
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(500);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => panic!("wait for {cmd:?}: {e}"),
        }
    };
    let (stdout, stdout_clipped) = out.join().expect("stdout reader");
    let (stderr, _) = err.join().expect("stderr reader");
    Run {
        status,
        stdout,
        stderr,
        stdout_clipped,
        timeout,
    }
}

/// Reads a pipe to its end on a thread, keeping at most [`OUTPUT_CAP`]
/// bytes.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut clipped = false;
        let mut buf = vec![0; 64 << 10];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if kept.len() + n <= OUTPUT_CAP {
                        kept.extend_from_slice(&buf[..n]);
                    } else {
                        clipped = true;
                    }
                }
            }
        }
        (kept, clipped)
    })
}

// ===========================================================================
// Small helpers
// ===========================================================================

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Up to `k` distinct items of `items`, in random order.
    fn sample<'a, T>(&mut self, items: &'a [T], k: usize) -> Vec<&'a T> {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        let k = k.min(idx.len());
        for i in 0..k {
            let j = i + self.below(idx.len() - i);
            idx.swap(i, j);
        }
        idx[..k].iter().map(|&i| &items[i]).collect()
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn seed() -> u64 {
    match std::env::var("RDBSCOPE_HOSTILE_SEED") {
        Err(_) => DEFAULT_SEED,
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("RDBSCOPE_HOSTILE_SEED={s:?} is not a number"))
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes in all)", &s[..cut], s.len())
}

fn locate_corpus(test: &str) -> Option<PathBuf> {
    rdbscope_testkit::corpus(test)
}

/// Where mutants that made the binary misbehave are kept for
/// reproduction (emptied at the start of each run).
struct FailureDir {
    path: PathBuf,
}

impl FailureDir {
    fn new() -> FailureDir {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile_inputs-failures");
        let _ = std::fs::remove_dir_all(&path);
        FailureDir { path }
    }

    fn keep(&self, file: &Path) -> PathBuf {
        let to = self.path.join(file.file_name().unwrap_or_default());
        if std::fs::create_dir_all(&self.path)
            .and_then(|_| std::fs::copy(file, &to))
            .is_ok()
        {
            to
        } else {
            file.to_path_buf()
        }
    }
}

/// Fails once, listing every failure (long lists clipped).
fn report(failures: Vec<String>) {
    let text = clip(&failures.join("\n\n"), 60_000);
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{text}",
        failures.len()
    );
}
