//! `KeyFilter` from its options to its verdicts: a table of option sets
//! and, for each, the keys of a small fixed keyspace it selects; the
//! cheap/expensive split; early stop; the default `--now`; and that
//! matching allocates nothing.

use clap::Parser;
use rdbscope_rdb::{KeyType, Rdb, Record};
use rdbscope_select::{KeyFacts, KeyFilter, KeyFilterArgs, RecordFilter};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts allocations of the threads that ask for it, to show matching
/// makes none (tests run on several threads at once).
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNT_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNT_HERE.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    keys: KeyFilterArgs,
}

fn filter(args: &[&str]) -> Result<KeyFilter, String> {
    let cli = Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    KeyFilter::new(&cli.keys)
}

/// (name, db, key, type, expire_at_ms, stored size)
type Key = (&'static str, u64, &'static [u8], KeyType, Option<i64>, u64);

const NOW: i64 = 1_700_000_000_000;

const KEYS: &[Key] = &[
    ("a", 0, b"user:1", KeyType::Hash, None, 40),
    ("b", 0, b"user:2", KeyType::Hash, Some(NOW - 1), 4000),
    (
        "c",
        0,
        b"session:x",
        KeyType::String,
        Some(NOW + 1),
        1 << 20,
    ),
    ("d", 1, b"user:1", KeyType::String, Some(NOW), 0),
    ("e", 3, b"{user1000}.following", KeyType::Set, None, 1024),
    ("f", 3, b"{user1000}.followers", KeyType::Set, None, 1025),
    ("g", 0, b"", KeyType::String, None, 2),
    ("h", 15, b"bin\x00\xff", KeyType::List, None, 17),
    ("i", 0, b"foo", KeyType::ZSet, None, 100),
];

fn facts(k: &Key) -> KeyFacts<'static> {
    KeyFacts {
        db: k.1,
        key: k.2,
        key_type: k.3,
        expire_at_ms: k.4,
        stored_size: k.5,
    }
}

fn selected(f: &KeyFilter) -> String {
    KEYS.iter()
        .filter(|k| f.matches(&facts(k)))
        .map(|k| k.0)
        .collect()
}

#[test]
fn each_filter_selects_what_it_says() {
    let now = "--now=1700000000000ms";
    let cases: &[(&[&str], &str)] = &[
        (&[], "abcdefghi"),
        (&["--db", "0"], "abcgi"),
        (&["--db", "1", "--db", "15"], "dh"),
        (&["--type", "hash"], "ab"),
        (&["--type", "string", "--type", "zset"], "cdgi"),
        (&["--key", "user:*"], "abd"),
        (&["--key", "user:?", "--key", "foo"], "abdi"),
        (&["--key", ""], "g"),
        (&["--key", "*"], "abcdefghi"),
        (&["--key", "*.follow[e]*"], "f"),
        (&["--key-regex", "^user"], "abd"),
        (&["--key-regex", "1$", "--key-regex", "^s"], "acd"),
        (&["--key-regex", r"(?-u)\x00\xff$"], "h"),
        (&["--key-regex", "^foo", "--key", "session:*"], "ci"),
        (&["--not-key", "user:*"], "cefghi"),
        (&["--not-key", "user:*", "--not-key", "*follow*"], "cghi"),
        (&["--key", "user:*", "--not-key", "*2"], "ad"),
        (&["--expiry"], "bcd"),
        (&["--no-expiry"], "aefghi"),
        // Expired: strictly before now, as the server decides on load.
        (&["--expired", now], "b"),
        (&["--not-expired", now], "acdefghi"),
        (&["--expired", "--now", "1700000000"], "b"),
        (&["--expired", "--now", "2023-11-14T22:13:20.001Z"], "bd"),
        (&["--min-size", "1K"], "bcef"),
        (&["--min-size", "1KB", "--max-size", "1025"], "ef"),
        (&["--max-size", "17"], "dgh"),
        (&["--min-size", "1M"], "c"),
        (&["--min-size", "1MiB", "--max-size", "1m"], "c"),
        (&["--slot", "12182"], "i"),
        (&["--slot", "0"], "g"),
        (&["--slot", "0-16383"], "abcdefghi"),
        (&["--db", "0", "--type", "hash", "--expiry"], "b"),
        (
            &["--db", "3", "--slot", "0-16383", "--not-key", "*ers"],
            "e",
        ),
    ];
    for (args, want) in cases {
        let f = filter(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(selected(&f), *want, "{args:?}");
        assert_eq!(f.is_active(), !args.is_empty(), "{args:?}");
    }
    // Same slot for keys that share a hash tag.
    let f = filter(&["--slot", "0-8000"]).unwrap();
    assert_eq!(f.matches(&facts(&KEYS[4])), f.matches(&facts(&KEYS[5])));
}

#[test]
fn usage_errors() {
    for args in [
        &["--expiry", "--no-expiry"][..],
        &["--expired", "--not-expired"],
        &["--type", "blob"],
        &["--key-regex", "("],
        &["--slot", "16384"],
        &["--slot", "9-1"],
        &["--min-size", "1X"],
        &["--now", "tomorrow", "--expired"],
        &["--min-size", "2K", "--max-size", "1K"],
        &["--db", "-1"],
    ] {
        assert!(filter(args).is_err(), "{args:?}");
    }
}

/// `--now` alone is accepted: it selects nothing by itself (the
/// inspection commands count expired keys and expiry buckets against it).
#[test]
fn now_alone_selects_everything() {
    let f = filter(&["--now", "1700000000"]).unwrap();
    assert_eq!(selected(&f), "abcdefghi");
    assert_eq!(f.now_ms(), 1_700_000_000_000);
}

#[test]
fn cheap_filters_decide_without_the_key() {
    let f = filter(&["--db", "0", "--type", "hash"]).unwrap();
    assert!(!f.needs_key());
    assert!(f.selects_within_db());
    assert!(f.matches_meta(0, KeyType::Hash, None, 1));
    assert!(!f.matches_meta(1, KeyType::Hash, None, 1));
    assert!(!f.uses_stored_size());
    assert!(filter(&["--min-size", "1"]).unwrap().uses_stored_size());
    assert!(filter(&["--max-size", "1G"]).unwrap().uses_stored_size());
    let f = filter(&["--db", "2"]).unwrap();
    assert!(f.is_active() && !f.selects_within_db());
    assert_eq!(f.dbs(), &[2]);
    for args in [
        &["--key", "x"][..],
        &["--key-regex", "x"],
        &["--not-key", "x"],
        &["--slot", "1"],
    ] {
        assert!(filter(args).unwrap().needs_key(), "{args:?}");
    }
}

#[test]
fn a_literal_key_in_one_db_stops_the_walk() {
    let cases: &[(&[&str], bool)] = &[
        (&["--key", "user:1", "--db", "0"], true),
        (&["--key", "user:1", "--db", "0", "--type", "hash"], true),
        (&["--key", "user:1"], false),
        (&["--key", "user:*", "--db", "0"], false),
        (&["--key", "user:[1]", "--db", "0"], false),
        (&["--key", "a", "--key", "b", "--db", "0"], false),
        (&["--key", "user:1", "--db", "0", "--db", "1"], false),
        (&["--key-regex", "^user:1$", "--db", "0"], false),
    ];
    for (args, stops) in cases {
        assert_eq!(
            filter(args).unwrap().stops_after_match(),
            *stops,
            "{args:?}"
        );
    }
}

#[test]
fn now_defaults_to_the_files_ctime() {
    let mut f = filter(&["--expired"]).unwrap();
    let clock = f.now_ms();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((wall - clock).abs() < 60_000, "no ctime: the current time");
    f.set_file_time(1_700_000_000);
    assert_eq!(f.now_ms(), NOW);
    assert_eq!(selected(&f), "b");
    // --now wins over the file's time.
    let mut f = filter(&["--expired", "--now", "1700000000001ms"]).unwrap();
    f.set_file_time(1);
    assert_eq!(selected(&f), "bd");
}

#[test]
fn record_filter_reads_ctime_from_the_file() {
    let Some(dir) = rdbscope_testkit::corpus("record_filter_reads_ctime_from_the_file") else {
        return;
    };
    let bytes = std::fs::read(dir.join("rdb/redis-7.2.6/all-types.rdb")).unwrap();
    let rdb = Rdb::new(&bytes).unwrap();
    let mut select = RecordFilter::new(filter(&["--expired"]).unwrap(), false);
    let mut ctime = None;
    for r in rdb.records() {
        let r = r.unwrap();
        if let Record::Aux { name, value } = &r {
            if name.to_vec().unwrap() == b"ctime" {
                ctime = Some(String::from_utf8(value.to_vec().unwrap()).unwrap());
            }
        }
        select.keep(&r).unwrap();
    }
    let ctime: i64 = ctime.expect("a ctime aux field").parse().unwrap();
    assert_eq!(select.key_filter().now_ms(), ctime * 1000);
}

#[test]
fn matching_allocates_nothing() {
    let f = filter(&[
        "--key",
        "*user*",
        "--key-regex",
        "^s[a-z]+:",
        "--not-key",
        "*2",
        "--slot",
        "0-16000",
        "--min-size",
        "1",
    ])
    .unwrap();
    // Warm up (the regex engine fills its per-thread cache once).
    let want = selected(&f);
    let before = ALLOCS.load(Ordering::Relaxed);
    COUNT_HERE.with(|c| c.set(true));
    let mut n = 0;
    for _ in 0..1000 {
        for k in KEYS {
            n += usize::from(f.matches(&facts(k)));
        }
    }
    COUNT_HERE.with(|c| c.set(false));
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(n, want.len() * 1000);
    assert_eq!(allocs, 0, "allocations while matching");
}
