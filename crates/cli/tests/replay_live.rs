//! The AOF replay engine against the real servers that wrote the AOFs:
//! Redis 6.2 (one append-only file, with and without an RDB preamble),
//! Redis 7.0 and Valkey 9.1 (`appendonlydir`s with `#TS:` annotations).
//!
//! Each server runs a seeded random workload of every command family
//! (strings, bits, lists with blocking pops, sets, sorted sets, hashes with
//! field TTLs on Valkey, streams with consumer groups, generic key commands
//! across databases, scripts, functions, transactions, short expirations
//! that pass during the run) with `appendonly yes`, `appendfsync always`
//! and a BGREWRITEAOF midway, plus a fixed set of edge cases (database 3)
//! that real servers were seen to handle in ways easy to get wrong. Then:
//!
//! * `rdbscope digest` of the AOF equals the server's `DEBUG DIGEST`, and
//!   `rdbscope convert --to jsonl` of it holds, key by key, what the server
//!   holds, and what a fresh server that loaded the same AOF holds (the
//!   reference where the AOF cannot carry what the live server did: such
//!   differences are listed on stderr, not failed);
//! * `--until-timestamp T` equals what the server loads after the real
//!   `redis-check-aof --truncate-to-timestamp T` (Redis 7.0, Valkey 9.1;
//!   `valkey-check-aof` does not read its own `VALKEY080` RDB base, so
//!   there the AOF is cut by hand where the checker cuts, which the Redis
//!   7.0 runs check against the real checker);
//! * `convert --to aof`/`aof-dir` and `rewrite` write AOFs the server loads
//!   with the live digest, the rewrite smaller than its input.
//!
//! Seeds: `RDBSCOPE_REPLAY_SEED` (the first) and `RDBSCOPE_REPLAY_SEEDS`
//! (how many per server, default 5). On a failure the workload's command
//! log and AOF are kept under `$TMPDIR/rdbscope-replay-live-failures/`
//! (`RDBSCOPE_REPLAY_KEEP=1`: of every run).
//! Skipped without the servers (said so), failed under `REQUIRE_REDIS=1`.

use rdbscope_testkit::oracle::Oracle;
use rdbscope_testkit::redis::RedisServer;
use rdbscope_testkit::workload::Rng;
use rdbscope_testkit::TempDir;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const DEFAULT_SEED: u64 = 0x5EED_A0F0_0000_0001;
/// The databases the workload writes (SELECT, MOVE, COPY DB, SWAPDB).
const DBS: [u32; 4] = [0, 1, 2, 5];
/// No TTL the workload sets lies between these: short ones pass during
/// the run, long ones never while a test runs.
const SHORT_TTL_MAX_MS: u64 = 300;
const LONG_TTL_MIN_MS: i64 = 1_000_000;

// ===========================================================================
// Running things
// ===========================================================================

fn rdbscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(args)
        .output()
        .expect("run rdbscope")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn seeds() -> Vec<u64> {
    let first = std::env::var("RDBSCOPE_REPLAY_SEED")
        .ok()
        .and_then(|s| {
            s.strip_prefix("0x")
                .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or(DEFAULT_SEED);
    let n = std::env::var("RDBSCOPE_REPLAY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5u64);
    (0..n).map(|i| first.wrapping_add(i)).collect()
}

/// A command's arguments, each anything [`Arg`] takes.
macro_rules! a {
    ($($x:expr),* $(,)?) => { { let v: Vec<Vec<u8>> = vec![$(Arg::arg(&$x)),*]; v } };
}

// ===========================================================================
// A RESP2 client that keeps error replies (the testkit's panics on them,
// and the workload makes some on purpose: WRONGTYPE, EXECABORT, ...)
// ===========================================================================

#[derive(Debug, Clone, PartialEq)]
enum R {
    Status(String),
    Err(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Arr(Option<Vec<R>>),
}

impl R {
    fn bytes(&self) -> Vec<u8> {
        match self {
            R::Bulk(Some(b)) => b.clone(),
            R::Status(s) => s.as_bytes().to_vec(),
            R::Int(n) => n.to_string().into_bytes(),
            other => panic!("not a string reply: {other:?}"),
        }
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
    fn int(&self) -> i64 {
        match self {
            R::Int(n) => *n,
            other => panic!("not an integer reply: {other:?}"),
        }
    }
    fn items(&self) -> &[R] {
        match self {
            R::Arr(Some(v)) => v,
            _ => &[],
        }
    }
    fn is_nil(&self) -> bool {
        matches!(self, R::Bulk(None) | R::Arr(None))
    }
    /// A flat [name, value, ...] array as a map.
    fn map(&self) -> BTreeMap<String, R> {
        self.items()
            .chunks(2)
            .map(|p| (p[0].text(), p[1].clone()))
            .collect()
    }
    fn short(&self) -> String {
        let s = match self {
            R::Status(s) => format!("+{s}"),
            R::Err(e) => format!("-{e}"),
            R::Int(n) => format!(":{n}"),
            R::Bulk(None) | R::Arr(None) => "(nil)".into(),
            R::Bulk(Some(b)) => show(b),
            R::Arr(Some(v)) => format!(
                "[{}]",
                v.iter()
                    .take(6)
                    .map(R::short)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        trunc(&s, 120)
    }
}

struct Client(BufReader<TcpStream>);

impl Client {
    fn new(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s.set_nodelay(true).unwrap();
        Client(BufReader::new(s))
    }

    fn call(&mut self, args: &[Vec<u8>]) -> R {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.0.get_mut().write_all(&req).expect("send a command");
        self.read()
    }

    /// [`Client::call`], panicking on an error reply.
    fn ok(&mut self, args: &[Vec<u8>]) -> R {
        let r = self.call(args);
        if let R::Err(e) = &r {
            panic!("{}: {e}", show_cmd(args));
        }
        r
    }

    fn read(&mut self) -> R {
        let mut line = Vec::new();
        self.0.read_until(b'\n', &mut line).expect("read a reply");
        assert!(line.ends_with(b"\r\n"), "connection closed: {line:?}");
        line.truncate(line.len() - 2);
        let rest = String::from_utf8_lossy(&line[1..]).into_owned();
        match line[0] {
            b'+' => R::Status(rest),
            b'-' => R::Err(rest),
            b':' => R::Int(rest.parse().unwrap()),
            b'$' => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return R::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.0.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                R::Bulk(Some(b))
            }
            b'*' => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return R::Arr(None);
                }
                R::Arr(Some((0..n).map(|_| self.read()).collect()))
            }
            other => panic!("bad reply type {:?}", other as char),
        }
    }

    /// Every key of the current database (a full SCAN, which also deletes
    /// the keys whose TTL passed, and propagates their DEL).
    fn scan(&mut self) -> Vec<Vec<u8>> {
        let mut keys = BTreeSet::new();
        let mut cursor = b"0".to_vec();
        loop {
            let r = self.ok(&a!["SCAN", cursor, "COUNT", 1000]);
            cursor = r.items()[0].bytes();
            keys.extend(r.items()[1].items().iter().map(R::bytes));
            if cursor == b"0" {
                return keys.into_iter().collect();
            }
        }
    }
}

/// Command arguments.
trait Arg {
    fn arg(&self) -> Vec<u8>;
}
impl Arg for &str {
    fn arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for String {
    fn arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for Vec<u8> {
    fn arg(&self) -> Vec<u8> {
        self.clone()
    }
}
impl Arg for &Vec<u8> {
    fn arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
impl Arg for &[u8] {
    fn arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
macro_rules! num_arg {
    ($($t:ty),*) => { $(impl Arg for $t { fn arg(&self) -> Vec<u8> { self.to_string().into_bytes() } })* };
}
num_arg!(i64, u64, usize, u32, i32);

fn show(b: &[u8]) -> String {
    let s: String = b
        .iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect();
    trunc(&s, 60)
}

fn trunc(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}...")
}

fn show_cmd(args: &[Vec<u8>]) -> String {
    args.iter().map(|a| show(a)).collect::<Vec<_>>().join(" ")
}

// ===========================================================================
// The workload
// ===========================================================================

/// What the server has.
#[derive(Clone, Copy)]
struct Feat {
    /// Redis 7.0 or Valkey: functions, LMPOP/ZMPOP, EXPIRE NX|XX|GT|LT,
    /// XADD ms-*, ENTRIESREAD, PEXPIRETIME.
    v7: bool,
    /// Valkey 9.1: hash field TTLs (HEXPIRE, HSETEX, HGETEX, ...).
    field_ttl: bool,
    /// No -0 scores: with non-default encoding thresholds a real server
    /// reloading the AOF does not keep them either (Redis 7+ stores an
    /// integral score of a listpack as an integer).
    no_negative_zero: bool,
}

const LIB1: &str = "#!lua name=rdbscope_live\n\
redis.register_function('fset', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n\
redis.register_function('fincr', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)\n\
redis.register_function('fpush', function(keys, args) redis.call('RPUSH', keys[1], args[1]) return redis.call('LPUSH', keys[2], args[1]) end)\n";
const LIB1_V2: &str = "#!lua name=rdbscope_live\n\
redis.register_function('fset', function(keys, args) return redis.call('SET', keys[1], args[1], 'KEEPTTL') end)\n\
redis.register_function('fincr', function(keys, args) return redis.call('INCRBYFLOAT', keys[1], args[1]) end)\n\
redis.register_function('fdel', function(keys, args) return redis.call('DEL', keys[1]) end)\n";
const LIB2: &str = "#!lua name=rdbscope_extra\n\
redis.register_function('fhset', function(keys, args) return redis.call('HSET', keys[1], args[1], args[2]) end)\n";
const SCRIPT_SHA_BODY: &str =
    "redis.call('RPUSH', KEYS[1], ARGV[1]) return redis.call('LTRIM', KEYS[1], 0, 20)";

struct Gen<'a> {
    c: &'a mut Client,
    rng: Rng,
    f: Feat,
    in_multi: bool,
    sent: u64,
    /// Error replies by their first word.
    errors: BTreeMap<String, u64>,
    /// Every command and its reply, for a failure report.
    log: Vec<String>,
    /// Stream IDs the workload saw, by key (some since deleted).
    xids: BTreeMap<Vec<u8>, Vec<String>>,
    sha: String,
}

impl Gen<'_> {
    fn r(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    fn cmd(&mut self, args: Vec<Vec<u8>>) -> R {
        let r = self.c.call(&args);
        self.sent += 1;
        if let R::Err(e) = &r {
            let word = e.split_whitespace().next().unwrap_or("").to_string();
            *self.errors.entry(word).or_default() += 1;
        }
        self.log
            .push(format!("{} -> {}", trunc(&show_cmd(&args), 300), r.short()));
        r
    }

    /// One of six keys of a kind; the sixth is binary.
    fn key(&mut self, prefix: &str) -> Vec<u8> {
        let n = self.r(6);
        let mut k = format!("{prefix}:{n}").into_bytes();
        if n == 5 {
            k.extend_from_slice(b"\xff\x00bin");
        }
        k
    }

    fn any_key(&mut self) -> Vec<u8> {
        let p = ["s", "n", "b", "l", "set", "iset", "z", "h", "x"][self.r(9) as usize];
        self.key(p)
    }

    fn val(&mut self) -> Vec<u8> {
        match self.r(6) {
            0 | 1 => self.rng.bytes(),
            2 => (self.r(2000) as i64 - 1000).to_string().into_bytes(),
            _ => format!("v{}", self.r(50)).into_bytes(),
        }
    }

    fn member(&mut self) -> Vec<u8> {
        match self.r(12) {
            0 => self.rng.bytes(),
            1 | 2 => (self.r(1000) as i64 - 500).to_string().into_bytes(),
            3 => format!("long-member-{}-{}", self.r(20), "x".repeat(70)).into_bytes(),
            _ => format!("m{}", self.r(40)).into_bytes(),
        }
    }

    fn members(&mut self) -> Vec<Vec<u8>> {
        let n = if self.r(25) == 0 {
            100 + self.r(200)
        } else {
            1 + self.r(5)
        };
        (0..n).map(|_| self.member()).collect()
    }

    fn score(&mut self) -> String {
        let s = match self.r(6) {
            0 | 1 => self.rng.score(),
            2 => self.r(20).to_string(),
            3 => format!("{}.5", self.r(10) as i64 - 5),
            4 => ["inf", "-inf", "+inf", "-0", "0", "1e-320"][self.r(6) as usize].to_string(),
            _ => "1".to_string(),
        };
        let negative_zero = s
            .parse::<f64>()
            .is_ok_and(|d| d == 0.0 && d.is_sign_negative());
        if self.f.no_negative_zero && negative_zero {
            return "0".into();
        }
        s
    }

    fn short_ms(&mut self) -> u64 {
        50 + self.r(SHORT_TTL_MAX_MS - 49)
    }

    fn long_ms(&mut self) -> i64 {
        LONG_TTL_MIN_MS + self.r(50_000_000) as i64
    }

    fn long_s(&mut self) -> i64 {
        self.long_ms() / 1000 + 1
    }

    fn db(&mut self) -> u32 {
        DBS[self.r(DBS.len() as u64) as usize]
    }

    /// Sometimes a TTL on the key just written: short (passes during the
    /// run), long, or none again.
    fn maybe_ttl(&mut self, k: &[u8]) {
        match self.r(40) {
            0 | 1 => {
                let ms = self.short_ms();
                self.cmd(a!["PEXPIRE", k, ms]);
            }
            2 => {
                let s = self.long_s();
                self.cmd(a!["EXPIRE", k, s]);
            }
            3 => {
                let at = now_ms() + self.long_ms();
                self.cmd(a!["PEXPIREAT", k, at]);
            }
            4 => {
                let at = now_ms() / 1000 + self.long_s();
                self.cmd(a!["EXPIREAT", k, at]);
            }
            5 => {
                self.cmd(a!["PERSIST", k]);
            }
            _ => {}
        }
    }

    /// Whether a collection has elements (asked outside transactions only:
    /// blocking pops on empty keys would wait for their timeout).
    fn nonempty(&mut self, len_cmd: &str, k: &[u8]) -> bool {
        if self.in_multi {
            return true;
        }
        matches!(self.cmd(a![len_cmd, k]), R::Int(n) if n > 0)
    }

    fn step(&mut self) {
        match self.r(100) {
            0..=15 => self.strings(),
            16..=29 => self.lists(),
            30..=39 => self.sets(),
            40..=53 => self.zsets(),
            54..=65 => self.hashes(),
            66..=79 => self.streams(),
            80..=89 => self.generic(),
            90..=93 => self.scripts(),
            94..=97 => self.multi(),
            _ => {
                let db = self.db();
                self.cmd(a!["SELECT", db]);
            }
        }
    }

    fn strings(&mut self) {
        let k = self.key("s");
        match self.r(24) {
            0..=3 => {
                let v = self.val();
                let mut c = a!["SET", k, v];
                match self.r(9) {
                    0 => c.extend(a!["EX", self.long_s()]),
                    1 => c.extend(a!["PX", self.short_ms()]),
                    2 => c.extend(a!["PX", self.long_ms()]),
                    3 => c.extend(a!["EXAT", now_ms() / 1000 + self.long_s()]),
                    4 => c.extend(a!["PXAT", now_ms() + self.long_ms()]),
                    5 => c.extend(a!["KEEPTTL"]),
                    _ => {}
                }
                match self.r(4) {
                    0 => c.extend(a!["NX"]),
                    1 => c.extend(a!["XX"]),
                    _ => {}
                }
                if self.r(4) == 0 {
                    c.extend(a!["GET"]);
                }
                self.cmd(c);
            }
            4 | 5 => {
                let mut c = a!["GETEX", k];
                match self.r(7) {
                    0 => c.extend(a!["EX", self.long_s()]),
                    1 => c.extend(a!["PX", self.short_ms()]),
                    2 => c.extend(a!["PX", self.long_ms()]),
                    3 => c.extend(a!["EXAT", now_ms() / 1000 + self.long_s()]),
                    4 => c.extend(a!["PXAT", now_ms() + self.long_ms()]),
                    5 => c.extend(a!["PERSIST"]),
                    _ => {}
                }
                self.cmd(c);
            }
            6 => {
                self.cmd(a!["GETDEL", k]);
            }
            7 => {
                let v = self.val();
                self.cmd(a!["GETSET", k, v]);
            }
            8 => {
                let v = self.val();
                self.cmd(a!["SETNX", k, v]);
            }
            9 => {
                let (s, v) = (self.long_s(), self.val());
                self.cmd(a!["SETEX", k, s, v]);
            }
            10 => {
                let (ms, v) = (self.short_ms(), self.val());
                self.cmd(a!["PSETEX", k, ms, v]);
            }
            11 => {
                let mut c = a!["MSET"];
                for _ in 0..1 + self.r(3) {
                    let kk = if self.r(2) == 0 {
                        self.key("s")
                    } else {
                        self.key("n")
                    };
                    c.extend(a![kk, self.val()]);
                }
                self.cmd(c);
            }
            12 => {
                let (k2, v1, v2) = (self.key("s"), self.val(), self.val());
                self.cmd(a!["MSETNX", k, v1, k2, v2]);
            }
            13..=15 => {
                let n = self.key("n");
                let by = self.r(2000) as i64 - 1000;
                match self.r(4) {
                    0 => self.cmd(a!["INCR", n]),
                    1 => self.cmd(a!["DECR", n]),
                    2 => self.cmd(a!["INCRBY", n, by]),
                    _ => self.cmd(a!["DECRBY", n, by]),
                };
            }
            16 => {
                let n = self.key("n");
                let by = ["1.5", "-0.25", "3e2", "0.1", "-7", "1e-3", "10.0", "5.0e3"]
                    [self.r(8) as usize];
                self.cmd(a!["INCRBYFLOAT", n, by]);
            }
            17 => {
                let v = self.val();
                self.cmd(a!["APPEND", k, v]);
            }
            18 => {
                let (off, v) = (self.r(300), self.val());
                self.cmd(a!["SETRANGE", k, off, v]);
            }
            19 => {
                let (b, off, bit) = (self.key("b"), self.r(3000), self.r(2));
                self.cmd(a!["SETBIT", b, off, bit]);
            }
            20 => {
                let (dst, s1, s2) = (self.key("b"), self.key("b"), self.key("b"));
                match self.r(4) {
                    0 => self.cmd(a!["BITOP", "NOT", dst, s1]),
                    1 => self.cmd(a!["BITOP", "AND", dst, s1, s2]),
                    2 => self.cmd(a!["BITOP", "OR", dst, s1, s2]),
                    _ => self.cmd(a!["BITOP", "XOR", dst, s1, s2, k]),
                };
            }
            21 => {
                let b = self.key("b");
                let mut c = a!["BITFIELD", b];
                for _ in 0..1 + self.r(3) {
                    let ty = ["i5", "u8", "i16", "u32", "i64", "u63"][self.r(6) as usize];
                    let off = if self.r(2) == 0 {
                        format!("#{}", self.r(20))
                    } else {
                        self.r(500).to_string()
                    };
                    match self.r(5) {
                        0 => c.extend(a!["OVERFLOW", ["WRAP", "SAT", "FAIL"][self.r(3) as usize]]),
                        1 => c.extend(a!["GET", ty, off]),
                        2 => c.extend(a!["SET", ty, off, self.r(1000) as i64 - 500]),
                        _ => c.extend(a!["INCRBY", ty, off, self.r(300) as i64 - 100]),
                    }
                }
                self.cmd(c);
            }
            22 => {
                let v = self.r(100_000).to_string();
                let n = self.key("n");
                self.cmd(a!["SET", n, v]);
            }
            _ => {
                self.cmd(a!["GET", k]);
            }
        }
        self.maybe_ttl(&k);
    }

    fn elem(&mut self) -> Vec<u8> {
        match self.r(10) {
            0 => self.rng.bytes(),
            1 => self.r(100).to_string().into_bytes(),
            _ => format!("e{}", self.r(16)).into_bytes(),
        }
    }

    fn lists(&mut self) {
        let k = self.key("l");
        let side = |g: &mut Self| ["LEFT", "RIGHT"][g.r(2) as usize];
        match self.r(22) {
            0..=4 => {
                let push = ["RPUSH", "LPUSH"][self.r(2) as usize];
                let n = if self.r(30) == 0 {
                    150 + self.r(200)
                } else {
                    1 + self.r(5)
                };
                let mut c = a![push, k];
                for _ in 0..n {
                    c.push(self.elem());
                }
                self.cmd(c);
            }
            5 => {
                let push = ["RPUSHX", "LPUSHX"][self.r(2) as usize];
                let e = self.elem();
                self.cmd(a![push, k, e]);
            }
            6 | 7 => {
                let pop = ["LPOP", "RPOP"][self.r(2) as usize];
                if self.r(2) == 0 {
                    self.cmd(a![pop, k]);
                } else {
                    let n = 1 + self.r(4);
                    self.cmd(a![pop, k, n]);
                }
            }
            8 => {
                let (pivot, e) = (self.elem(), self.elem());
                let w = ["BEFORE", "AFTER"][self.r(2) as usize];
                self.cmd(a!["LINSERT", k, w, pivot, e]);
            }
            9 => {
                let (i, e) = (self.r(10) as i64 - 5, self.elem());
                self.cmd(a!["LSET", k, i, e]);
            }
            10 => {
                let (n, e) = (self.r(5) as i64 - 2, self.elem());
                self.cmd(a!["LREM", k, n, e]);
            }
            11 => {
                let (s, e) = (self.r(6) as i64 - 2, self.r(40) as i64 - 5);
                self.cmd(a!["LTRIM", k, s, e]);
            }
            12 => {
                let (d, w1, w2) = (self.key("l"), side(self), side(self));
                self.cmd(a!["LMOVE", k, d, w1, w2]);
            }
            13 => {
                let d = self.key("l");
                self.cmd(a!["RPOPLPUSH", k, d]);
            }
            14 | 15 => {
                let k2 = self.key("l");
                let pop = ["BLPOP", "BRPOP"][self.r(2) as usize];
                if self.nonempty("LLEN", &k) {
                    self.cmd(a![pop, k, k2, "0.01"]);
                }
            }
            16 => {
                let (d, w1, w2) = (self.key("l"), side(self), side(self));
                if self.nonempty("LLEN", &k) {
                    self.cmd(a!["BLMOVE", k, d, w1, w2, "0.01"]);
                }
            }
            17 => {
                let d = self.key("l");
                if self.nonempty("LLEN", &k) {
                    self.cmd(a!["BRPOPLPUSH", k, d, "0.01"]);
                }
            }
            18 if self.f.v7 => {
                let (k2, w, n) = (self.key("l"), side(self), 1 + self.r(4));
                if self.r(2) == 0 {
                    self.cmd(a!["LMPOP", 2, k, k2, w, "COUNT", n]);
                } else if self.nonempty("LLEN", &k) {
                    self.cmd(a!["BLMPOP", "0.01", 2, k, k2, w, "COUNT", n]);
                }
            }
            _ => {
                self.cmd(a!["LRANGE", k, 0, 5]);
            }
        }
        self.maybe_ttl(&k);
    }

    fn sets(&mut self) {
        let ints = self.r(3) == 0;
        let k = self.key(if ints { "iset" } else { "set" });
        match self.r(15) {
            0..=4 => {
                let mut c = a!["SADD", k];
                if ints {
                    let n = if self.r(20) == 0 { 600 } else { 1 + self.r(6) };
                    for _ in 0..n {
                        c.push(
                            (self.rng.next() as i64 >> self.r(60))
                                .to_string()
                                .into_bytes(),
                        );
                    }
                    if self.r(15) == 0 {
                        c.push(b"not-an-int".to_vec());
                    }
                } else {
                    c.extend(self.members());
                }
                self.cmd(c);
            }
            5 | 6 => {
                let mut c = a!["SREM", k];
                c.extend(self.members());
                self.cmd(c);
            }
            7 => {
                self.cmd(a!["SPOP", k]);
            }
            8 => {
                let n = 1 + self.r(8);
                self.cmd(a!["SPOP", k, n]);
            }
            9 => {
                let n = self.r(9) as i64 - 3;
                self.cmd(a!["SRANDMEMBER", k, n]);
            }
            10 => {
                let (d, m) = (self.key("set"), self.member());
                self.cmd(a!["SMOVE", k, d, m]);
            }
            11..=13 => {
                let op = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][self.r(3) as usize];
                let (d, k2) = (self.key("set"), self.key("iset"));
                self.cmd(a![op, d, k, k2]);
            }
            _ => {
                self.cmd(a!["SCARD", k]);
            }
        }
        self.maybe_ttl(&k);
    }

    fn zsets(&mut self) {
        let k = self.key("z");
        match self.r(24) {
            0..=4 => {
                let mut c = a!["ZADD", k];
                match self.r(6) {
                    0 => c.extend(a!["NX"]),
                    1 => c.extend(a!["XX"]),
                    2 => c.extend(a!["GT"]),
                    3 => c.extend(a!["LT"]),
                    _ => {}
                }
                if self.r(3) == 0 {
                    c.extend(a!["CH"]);
                }
                for m in self.members() {
                    c.extend(a![self.score(), m]);
                }
                self.cmd(c);
            }
            5 => {
                let mut c = a!["ZADD", k];
                match self.r(5) {
                    0 => c.extend(a!["NX"]),
                    1 => c.extend(a!["XX"]),
                    2 => c.extend(a!["GT"]),
                    3 => c.extend(a!["LT"]),
                    _ => {}
                }
                let (s, m) = (self.score(), self.member());
                c.extend(a!["INCR", s, m]);
                self.cmd(c);
            }
            6 => {
                let (s, m) = (self.score(), self.member());
                self.cmd(a!["ZINCRBY", k, s, m]);
            }
            7 | 8 => {
                let (m1, m2) = (self.member(), self.member());
                self.cmd(a!["ZREM", k, m1, m2]);
            }
            9 => {
                let lo = ["-inf", "(1", "0", "(-5", "2.5"][self.r(5) as usize];
                let hi = ["+inf", "(10", "5", "1", "inf"][self.r(5) as usize];
                self.cmd(a!["ZREMRANGEBYSCORE", k, lo, hi]);
            }
            10 => {
                let (s, e) = (self.r(6) as i64 - 3, self.r(6) as i64 - 3);
                self.cmd(a!["ZREMRANGEBYRANK", k, s, e]);
            }
            11 => self.lex_zsets(),
            12 | 13 => {
                let pop = ["ZPOPMIN", "ZPOPMAX"][self.r(2) as usize];
                if self.r(2) == 0 {
                    self.cmd(a![pop, k]);
                } else {
                    let n = 1 + self.r(4);
                    self.cmd(a![pop, k, n]);
                }
            }
            14 | 15 => {
                let pop = ["BZPOPMIN", "BZPOPMAX"][self.r(2) as usize];
                let k2 = self.key("z");
                if self.nonempty("ZCARD", &k) {
                    self.cmd(a![pop, k, k2, "0.01"]);
                }
            }
            16 | 17 => {
                let op = ["ZUNIONSTORE", "ZINTERSTORE"][self.r(2) as usize];
                let d = self.key("z");
                // A set is a zset with scores of 1 to these.
                let k2 = if self.r(4) == 0 {
                    self.key("set")
                } else {
                    self.key("z")
                };
                let mut c = a![op, d, 2, k, k2];
                if self.r(2) == 0 {
                    // -1 and 0 make -0 scores of 0 and of negative ones.
                    let w: &[&str] = if self.f.no_negative_zero {
                        &["1", "2", "0.5", "inf"]
                    } else {
                        &["1", "2", "0.5", "-1", "0", "inf", "-inf"]
                    };
                    let n = w.len() as u64;
                    c.extend(a!["WEIGHTS", w[self.r(n) as usize], w[self.r(n) as usize]]);
                }
                if self.r(2) == 0 {
                    c.extend(a!["AGGREGATE", ["SUM", "MIN", "MAX"][self.r(3) as usize]]);
                }
                self.cmd(c);
            }
            18 => {
                let (d, k2) = (self.key("z"), self.key("z"));
                self.cmd(a!["ZDIFFSTORE", d, 2, k, k2]);
            }
            19 | 20 => {
                let d = self.key("z");
                let c = match self.r(4) {
                    0 => a!["ZRANGESTORE", d, k, 0, -1],
                    1 => a!["ZRANGESTORE", d, k, "(1", "10", "BYSCORE"],
                    2 => a!["ZRANGESTORE", d, k, 5, 0, "BYSCORE", "REV", "LIMIT", 0, 3],
                    _ => a![
                        "ZRANGESTORE",
                        d,
                        k,
                        "-inf",
                        "+inf",
                        "BYSCORE",
                        "LIMIT",
                        1,
                        2
                    ],
                };
                self.cmd(c);
            }
            21 if self.f.v7 => {
                let (k2, n) = (self.key("z"), 1 + self.r(3));
                let w = ["MIN", "MAX"][self.r(2) as usize];
                if self.r(2) == 0 {
                    self.cmd(a!["ZMPOP", 2, k, k2, w, "COUNT", n]);
                } else if self.nonempty("ZCARD", &k) {
                    self.cmd(a!["BZMPOP", "0.01", 2, k, k2, w, "COUNT", n]);
                }
            }
            _ => {
                self.cmd(a!["ZRANGE", k, 0, 3, "WITHSCORES"]);
            }
        }
        self.maybe_ttl(&k);
    }

    /// Sorted sets whose scores are all 0, for the lex-range commands:
    /// on a zset with other scores their result is unspecified, and on a
    /// skiplist it depends on the nodes' random levels, so a server
    /// loading its own AOF does not get the same result either.
    fn lex_zsets(&mut self) {
        let k = self.key("zl");
        let lo = ["-", "[m1", "(m2", "[1", "(m"][self.r(5) as usize];
        let hi = ["+", "[m3", "(m5", "[m", "(m25"][self.r(5) as usize];
        match self.r(6) {
            0 | 1 => {
                let mut c = a!["ZADD", k];
                for m in self.members() {
                    c.extend(a!["0", m]);
                }
                self.cmd(c);
            }
            2 => {
                let (m1, m2) = (self.member(), self.member());
                self.cmd(a!["ZREM", k, m1, m2]);
            }
            3 | 4 => {
                self.cmd(a!["ZREMRANGEBYLEX", k, lo, hi]);
            }
            _ => {
                let (d, rev) = (self.key("zl"), self.r(2) == 0);
                let mut c = if rev {
                    a!["ZRANGESTORE", d, k, hi, lo, "BYLEX", "REV"]
                } else {
                    a!["ZRANGESTORE", d, k, lo, hi, "BYLEX"]
                };
                if self.r(2) == 0 {
                    c.extend(a!["LIMIT", self.r(3), 1 + self.r(5)]);
                }
                self.cmd(c);
            }
        }
        self.maybe_ttl(&k);
    }

    fn field(&mut self) -> Vec<u8> {
        match self.r(12) {
            0 => self.rng.bytes(),
            1 => format!("long-field-{}", "y".repeat(70)).into_bytes(),
            _ => format!("f{}", self.r(12)).into_bytes(),
        }
    }

    fn fields(&mut self) -> Vec<Vec<u8>> {
        (0..1 + self.r(3)).map(|_| self.field()).collect()
    }

    fn hashes(&mut self) {
        let k = self.key("h");
        let top = if self.f.field_ttl { 22 } else { 14 };
        match self.r(top) {
            0..=3 => {
                let cmd = ["HSET", "HMSET"][usize::from(self.r(5) == 0)];
                let n = if self.r(25) == 0 {
                    150 + self.r(100)
                } else {
                    1 + self.r(4)
                };
                let mut c = a![cmd, k];
                for _ in 0..n {
                    c.extend(a![self.field(), self.val()]);
                }
                self.cmd(c);
            }
            4 => {
                let (f, v) = (self.field(), self.val());
                self.cmd(a!["HSETNX", k, f, v]);
            }
            5 | 6 => {
                let mut c = a!["HDEL", k];
                c.extend(self.fields());
                self.cmd(c);
            }
            7 | 8 => {
                let (f, by) = (format!("c{}", self.r(4)), self.r(200) as i64 - 100);
                self.cmd(a!["HINCRBY", k, f, by]);
            }
            9 => {
                let f = format!("c{}", self.r(4));
                let by = ["0.5", "-1.25", "1e3", "3", "0.1"][self.r(5) as usize];
                self.cmd(a!["HINCRBYFLOAT", k, f, by]);
            }
            // Valkey 9.1: field TTLs.
            10 | 11 if self.f.field_ttl => {
                let fs = self.fields();
                let mut c = match self.r(4) {
                    0 => a!["HEXPIRE", k, self.long_s()],
                    1 | 2 => a!["HPEXPIRE", k, self.short_ms()],
                    _ => a!["HPEXPIREAT", k, now_ms() + self.long_ms()],
                };
                if self.r(4) == 0 {
                    c.extend(a![["NX", "XX", "GT", "LT"][self.r(4) as usize]]);
                }
                c.extend(a!["FIELDS", fs.len()]);
                c.extend(fs);
                self.cmd(c);
            }
            12 if self.f.field_ttl => {
                let fs = self.fields();
                let mut c = a!["HPERSIST", k, "FIELDS", fs.len()];
                c.extend(fs);
                self.cmd(c);
            }
            13 if self.f.field_ttl => {
                let mut c = a!["HSETEX", k];
                match self.r(4) {
                    0 => c.extend(a!["NX"]),
                    1 => c.extend(a!["XX"]),
                    _ => {}
                }
                match self.r(4) {
                    0 => c.extend(a!["FNX"]),
                    1 => c.extend(a!["FXX"]),
                    _ => {}
                }
                match self.r(5) {
                    0 => c.extend(a!["EX", self.long_s()]),
                    1 => c.extend(a!["PX", self.short_ms()]),
                    2 => c.extend(a!["PXAT", now_ms() + self.long_ms()]),
                    3 => c.extend(a!["KEEPTTL"]),
                    _ => {}
                }
                let n = 1 + self.r(3);
                c.extend(a!["FIELDS", n]);
                for _ in 0..n {
                    c.extend(a![self.field(), self.val()]);
                }
                self.cmd(c);
            }
            14 | 15 if self.f.field_ttl => {
                let fs = self.fields();
                let mut c = a!["HGETEX", k];
                match self.r(5) {
                    0 => c.extend(a!["EX", self.long_s()]),
                    1 => c.extend(a!["PX", self.short_ms()]),
                    2 => c.extend(a!["PXAT", now_ms() + self.long_ms()]),
                    3 => c.extend(a!["PERSIST"]),
                    _ => {}
                }
                c.extend(a!["FIELDS", fs.len()]);
                c.extend(fs);
                self.cmd(c);
            }
            _ => {
                self.cmd(a!["HLEN", k]);
            }
        }
        self.maybe_ttl(&k);
    }

    fn new_group(&mut self) -> String {
        format!("g{}", self.r(3))
    }

    /// A group of the stream, mostly one that exists (asked, outside
    /// transactions).
    fn group(&mut self, k: &[u8]) -> String {
        if !self.in_multi && self.r(6) != 0 {
            if let R::Arr(Some(gs)) = self.cmd(a!["XINFO", "GROUPS", k]) {
                if !gs.is_empty() {
                    let g = &gs[self.r(gs.len() as u64) as usize];
                    return g.map()["name"].text();
                }
            }
        }
        self.new_group()
    }

    fn consumer(&mut self) -> String {
        format!("c{}", self.r(4))
    }

    /// Some IDs of the stream: its entries (asked, outside transactions),
    /// else IDs seen before, some of them deleted since.
    fn some_ids(&mut self, k: &[u8], n: u64) -> Vec<String> {
        let mut pool: Vec<String> = Vec::new();
        if !self.in_multi {
            if let R::Arr(Some(es)) = self.cmd(a!["XRANGE", k, "-", "+", "COUNT", 40]) {
                pool.extend(es.iter().map(|e| e.items()[0].text()));
            }
        }
        if pool.is_empty() || self.r(4) == 0 {
            pool.extend(self.xids.get(k).cloned().unwrap_or_default());
        }
        if pool.is_empty() {
            return vec![format!("{}-0", now_ms() - 1000)];
        }
        (0..n)
            .map(|_| pool[self.r(pool.len() as u64) as usize].clone())
            .collect()
    }

    /// IDs pending in a group (asked), else some IDs.
    fn pending_ids(&mut self, k: &[u8], g: &str, n: u64) -> Vec<String> {
        if !self.in_multi {
            if let R::Arr(Some(ps)) = self.cmd(a!["XPENDING", k, g, "-", "+", 20]) {
                if !ps.is_empty() {
                    let mut out: Vec<String> = (0..n)
                        .map(|_| ps[self.r(ps.len() as u64) as usize].items()[0].text())
                        .collect();
                    if self.r(5) == 0 {
                        out.extend(self.some_ids(k, 1));
                    }
                    return out;
                }
            }
        }
        self.some_ids(k, n)
    }

    fn streams(&mut self) {
        let k = self.key("x");
        match self.r(28) {
            0..=6 => {
                let mut c = a!["XADD", k];
                if self.r(10) == 0 {
                    c.extend(a!["NOMKSTREAM"]);
                }
                match self.r(8) {
                    0 => c.extend(a!["MAXLEN", "~", self.r(30)]),
                    1 => c.extend(a!["MAXLEN", self.r(30)]),
                    2 => c.extend(a!["MAXLEN", "=", 5 + self.r(30)]),
                    3 => {
                        let id = self.some_ids(&k, 1).remove(0);
                        c.extend(a!["MINID", "~", id]);
                    }
                    4 => {
                        let id = self.some_ids(&k, 1).remove(0);
                        c.extend(a!["MINID", id]);
                    }
                    _ => {}
                }
                match self.r(10) {
                    0 => c.extend(a![format!("{}-{}", now_ms() + 5000, self.r(3))]),
                    1 if self.f.v7 => c.extend(a![format!("{}-*", now_ms() + 6000)]),
                    _ => c.extend(a!["*"]),
                }
                for _ in 0..1 + self.r(3) {
                    let f = if self.r(4) == 0 {
                        self.field()
                    } else {
                        format!("f{}", self.r(3)).into_bytes()
                    };
                    c.extend(a![f, self.val()]);
                }
                if let R::Bulk(Some(id)) = self.cmd(c) {
                    let ids = self.xids.entry(k.clone()).or_default();
                    ids.push(String::from_utf8(id).unwrap());
                    if ids.len() > 60 {
                        ids.remove(0);
                    }
                }
            }
            7 | 8 => {
                let n = 1 + self.r(3);
                let mut c = a!["XDEL", k];
                c.extend(self.some_ids(&k, n).into_iter().map(String::into_bytes));
                self.cmd(c);
            }
            9 => {
                let mut c = a!["XTRIM", k];
                match self.r(4) {
                    0 => c.extend(a!["MAXLEN", "~", self.r(20)]),
                    1 => c.extend(a!["MAXLEN", self.r(20)]),
                    2 => c.extend(a!["MAXLEN", "~", self.r(10), "LIMIT", 1 + self.r(20)]),
                    _ => {
                        let id = self.some_ids(&k, 1).remove(0);
                        c.extend(a!["MINID", ["~", "="][self.r(2) as usize], id]);
                    }
                }
                self.cmd(c);
            }
            10..=12 => {
                let g = self.new_group();
                let id = match self.r(3) {
                    0 => "$".to_string(),
                    1 => "0".to_string(),
                    _ => self.some_ids(&k, 1).remove(0),
                };
                let mut c = a!["XGROUP", "CREATE", k, g, id];
                if self.r(3) != 0 {
                    c.extend(a!["MKSTREAM"]);
                }
                if self.f.v7 && self.r(3) == 0 {
                    c.extend(a!["ENTRIESREAD", self.r(10)]);
                }
                self.cmd(c);
            }
            13 => {
                let (g, cn) = (self.group(&k), self.consumer());
                self.cmd(a!["XGROUP", "CREATECONSUMER", k, g, cn]);
            }
            14 => {
                let (g, cn) = (self.group(&k), self.consumer());
                self.cmd(a!["XGROUP", "DELCONSUMER", k, g, cn]);
            }
            15 => {
                let g = self.group(&k);
                let id = match self.r(3) {
                    0 => "$".to_string(),
                    1 => "0".to_string(),
                    _ => self.some_ids(&k, 1).remove(0),
                };
                let mut c = a!["XGROUP", "SETID", k, g, id];
                if self.f.v7 && self.r(3) == 0 {
                    c.extend(a!["ENTRIESREAD", self.r(10)]);
                }
                self.cmd(c);
            }
            16 if self.r(4) == 0 => {
                let g = self.group(&k);
                self.cmd(a!["XGROUP", "DESTROY", k, g]);
            }
            16..=19 => {
                let (g, cn) = (self.group(&k), self.consumer());
                let mut c = a!["XREADGROUP", "GROUP", g, cn, "COUNT", 1 + self.r(5)];
                if self.r(4) == 0 {
                    c.extend(a!["NOACK"]);
                }
                let id = if self.r(5) == 0 { "0" } else { ">" };
                if self.r(6) == 0 {
                    let k2 = self.key("x");
                    if k2 != k {
                        c.extend(a!["STREAMS", k, k2, id, ">"]);
                        self.cmd(c);
                        return;
                    }
                }
                c.extend(a!["STREAMS", k, id]);
                self.cmd(c);
            }
            20 | 21 => {
                let g = self.group(&k);
                let n = 1 + self.r(3);
                let mut c = a!["XACK", k, g];
                c.extend(
                    self.pending_ids(&k, &g, n)
                        .into_iter()
                        .map(String::into_bytes),
                );
                self.cmd(c);
            }
            22 | 23 => {
                let (g, cn) = (self.group(&k), self.consumer());
                let n = 1 + self.r(3);
                let mut c = a!["XCLAIM", k, g, cn, self.r(2)];
                c.extend(
                    self.pending_ids(&k, &g, n)
                        .into_iter()
                        .map(String::into_bytes),
                );
                if self.r(4) == 0 {
                    c.extend(a!["IDLE", self.r(100_000)]);
                }
                if self.r(5) == 0 {
                    c.extend(a!["TIME", now_ms() - self.r(100_000) as i64]);
                }
                if self.r(4) == 0 {
                    c.extend(a!["RETRYCOUNT", self.r(10)]);
                }
                if self.r(4) == 0 {
                    c.extend(a!["FORCE"]);
                }
                if self.r(3) == 0 {
                    c.extend(a!["JUSTID"]);
                }
                self.cmd(c);
            }
            24 => {
                let (g, cn) = (self.group(&k), self.consumer());
                let mut c = a!["XAUTOCLAIM", k, g, cn, 0, "0-0", "COUNT", 1 + self.r(5)];
                if self.r(3) == 0 {
                    c.extend(a!["JUSTID"]);
                }
                self.cmd(c);
            }
            25 => {
                let mut c = a!["XSETID", k, format!("{}-{}", now_ms() + 10_000, self.r(5))];
                if self.f.v7 && self.r(3) == 0 {
                    c.extend(a![
                        "ENTRIESADDED",
                        1000 + self.r(100),
                        "MAXDELETEDID",
                        "1-1"
                    ]);
                }
                self.cmd(c);
            }
            _ => {
                self.cmd(a!["XLEN", k]);
            }
        }
        self.maybe_ttl(&k);
    }

    fn generic(&mut self) {
        let k = if self.r(12) == 0 {
            self.key("zl")
        } else {
            self.any_key()
        };
        // Another key of the same kind, mostly (never a lex zset from
        // another kind).
        let same_kind = |g: &mut Self, k: &[u8]| {
            if g.r(10) == 0 {
                return g.any_key();
            }
            let prefix = k.split(|&c| c == b':').next().unwrap().to_vec();
            g.key(std::str::from_utf8(&prefix).unwrap())
        };
        match self.r(24) {
            0 | 1 => {
                let k2 = self.any_key();
                self.cmd(a!["DEL", k, k2]);
            }
            2 => {
                self.cmd(a!["UNLINK", k]);
            }
            3 => {
                let mut c = a!["EXPIRE", k, self.long_s()];
                if self.f.v7 && self.r(2) == 0 {
                    c.extend(a![["NX", "XX", "GT", "LT"][self.r(4) as usize]]);
                }
                self.cmd(c);
            }
            4 => {
                let ms = if self.r(2) == 0 {
                    self.short_ms() as i64
                } else {
                    self.long_ms()
                };
                self.cmd(a!["PEXPIRE", k, ms]);
            }
            5 => {
                let at = now_ms() / 1000 + self.long_s();
                self.cmd(a!["EXPIREAT", k, at]);
            }
            6 => {
                let at = now_ms() + self.short_ms() as i64;
                self.cmd(a!["PEXPIREAT", k, at]);
            }
            7 => {
                self.cmd(a!["PERSIST", k]);
            }
            8 => {
                // In the past: deletes the key.
                if self.r(2) == 0 {
                    self.cmd(a!["EXPIRE", k, -1]);
                } else {
                    self.cmd(a!["PEXPIREAT", k, now_ms() - 1000]);
                }
            }
            9 | 10 => {
                let k2 = same_kind(self, &k);
                self.cmd(a!["RENAME", k, k2]);
            }
            11 => {
                let k2 = same_kind(self, &k);
                self.cmd(a!["RENAMENX", k, k2]);
            }
            12 | 13 => {
                let db = self.db();
                self.cmd(a!["MOVE", k, db]);
            }
            14 | 15 => {
                let k2 = same_kind(self, &k);
                let mut c = a!["COPY", k, k2];
                if self.r(3) == 0 {
                    c.extend(a!["DB", self.db()]);
                }
                if self.r(2) == 0 {
                    c.extend(a!["REPLACE"]);
                }
                self.cmd(c);
            }
            16 if self.r(3) == 0 => {
                let (d1, d2) = (self.db(), self.db());
                self.cmd(a!["SWAPDB", d1, d2]);
            }
            17 if self.r(12) == 0 => {
                let mut c = a!["FLUSHDB"];
                if self.r(2) == 0 {
                    c.extend(a![["ASYNC", "SYNC"][self.r(2) as usize]]);
                }
                self.cmd(c);
            }
            18 | 19 => {
                let k2 = self.any_key();
                self.cmd(a!["EXISTS", k, k2]);
            }
            _ => {
                self.cmd(a!["TYPE", k]);
            }
        }
    }

    fn scripts(&mut self) {
        match self.r(9) {
            0 => {
                let (k, v) = (self.key("s"), self.val());
                self.cmd(a![
                    "EVAL",
                    "return redis.call('SET', KEYS[1], ARGV[1])",
                    1,
                    k,
                    v
                ]);
            }
            1 => {
                let (k, by) = (self.key("n"), self.r(100));
                self.cmd(a![
                    "EVAL",
                    "return redis.call('INCRBY', KEYS[1], ARGV[1])",
                    1,
                    k,
                    by
                ]);
            }
            2 => {
                let (k, e, ms) = (self.key("l"), self.elem(), self.long_ms());
                self.cmd(a![
                    "EVAL",
                    "redis.call('RPUSH', KEYS[1], ARGV[1]) redis.call('PEXPIRE', KEYS[1], ARGV[2]) return redis.call('LLEN', KEYS[1])",
                    1,
                    k,
                    e,
                    ms
                ]);
            }
            3 => {
                let (h, z, f, v) = (self.key("h"), self.key("z"), self.field(), self.val());
                self.cmd(a![
                    "EVAL",
                    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('ZINCRBY', KEYS[2], 1, ARGV[1]) return 1",
                    2,
                    h,
                    z,
                    f,
                    v
                ]);
            }
            4 => {
                // Fails after its first write, which stays (and is propagated).
                let (k, v) = (self.key("s"), format!("text-{}", self.r(9)));
                self.cmd(a![
                    "EVAL",
                    "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[1])",
                    1,
                    k,
                    v
                ]);
            }
            5 => {
                let (k, e) = (self.key("l"), self.elem());
                let sha = self.sha.clone();
                self.cmd(a!["EVALSHA", sha, 1, k, e]);
            }
            _ if self.f.v7 => match self.r(4) {
                0 => {
                    let (k, v) = (self.key("s"), self.val());
                    self.cmd(a!["FCALL", "fset", 1, k, v]);
                }
                1 => {
                    let (k, by) = (self.key("n"), self.r(10));
                    self.cmd(a!["FCALL", "fincr", 1, k, by]);
                }
                2 => {
                    let (k1, k2, e) = (self.key("l"), self.key("l"), self.elem());
                    self.cmd(a!["FCALL", "fpush", 2, k1, k2, e]);
                }
                _ => {
                    let (h, f, v) = (self.key("h"), self.field(), self.val());
                    self.cmd(a!["FCALL", "fhset", 1, h, f, v]);
                }
            },
            _ => {
                let k = self.any_key();
                self.cmd(a!["EVAL_RO", "return redis.call('EXISTS', KEYS[1])", 1, k]);
            }
        }
    }

    fn multi(&mut self) {
        if self.in_multi {
            return;
        }
        self.cmd(a!["MULTI"]);
        self.in_multi = true;
        for _ in 0..1 + self.r(5) {
            match self.r(9) {
                0 => self.strings(),
                1 => self.lists(),
                2 => self.sets(),
                3 => self.zsets(),
                4 => self.hashes(),
                5 => self.streams(),
                6 => self.generic(),
                7 => self.scripts(),
                _ => {
                    let db = self.db();
                    self.cmd(a!["SELECT", db]);
                }
            }
        }
        self.in_multi = false;
        if self.r(10) == 0 {
            self.cmd(a!["DISCARD"]);
        } else {
            self.cmd(a!["EXEC"]);
        }
    }

    /// What runs once, first: the script and function libraries, and the
    /// edge cases that the rewrite midway writes.
    fn setup(&mut self) {
        self.sha = self.c.ok(&a!["SCRIPT", "LOAD", SCRIPT_SHA_BODY]).text();
        self.log.push(format!("SCRIPT LOAD {SCRIPT_SHA_BODY:?}"));
        if self.f.v7 {
            self.cmd(a!["FUNCTION", "LOAD", LIB1]);
            self.cmd(a!["FUNCTION", "LOAD", LIB2]);
        }
        self.edge_cases_for_the_rewrite();
    }

    /// Midway, while the rewrite runs: another script is loaded (Redis
    /// 6.2 writes SCRIPT LOAD to its AOF), functions change, and the edge
    /// cases are written as commands.
    fn midway(&mut self) {
        self.cmd(a!["SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])"]);
        if self.f.v7 {
            self.cmd(a!["FUNCTION", "LOAD", "REPLACE", LIB1_V2]);
            self.cmd(a!["FUNCTION", "DELETE", "rdbscope_extra"]);
        }
        self.edge_cases_as_commands();
    }

    /// Cases every seed has, in database 3 (which the random workload
    /// never selects): what the server's rewrite writes of a pending entry
    /// whose stream entry was deleted (an XCLAIM ... FORCE that Redis 7.0
    /// and 6.2 skip when they load it).
    fn edge_cases_for_the_rewrite(&mut self) {
        self.cmd(a!["SELECT", 3]);
        self.cmd(a!["XADD", "edge:x-rewritten", "1-1", "f", "v"]);
        self.cmd(a!["XADD", "edge:x-rewritten", "1-2", "f", "v"]);
        self.cmd(a!["XGROUP", "CREATE", "edge:x-rewritten", "g", "0"]);
        self.cmd(a![
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            1,
            "STREAMS",
            "edge:x-rewritten",
            ">"
        ]);
        self.cmd(a!["XDEL", "edge:x-rewritten", "1-1"]);
        self.cmd(a!["SELECT", 0]);
    }

    /// Cases every seed has as commands in the AOF, in database 3: -0
    /// scores where a zset is a skiplist (a member longer than 64 bytes)
    /// and where a store command's small result is a listpack (0 from
    /// Redis 7.0); LMOVE and RPOPLPUSH of a one-element list onto itself
    /// (the key and its TTL stay); BITFIELD SAT of a negative value into
    /// an unsigned field (the maximum); XCLAIM of a pending entry whose
    /// stream entry was deleted (6.2 moves it, 7.0 drops it).
    fn edge_cases_as_commands(&mut self) {
        let long = "x".repeat(70);
        let ttl = now_ms() + LONG_TTL_MIN_MS;
        self.cmd(a!["SELECT", 3]);
        self.cmd(a!["ZADD", "edge:z-skiplist", 1, long, "-0", "m"]);
        self.cmd(a!["ZADD", "edge:z", 0, "m"]);
        self.cmd(a![
            "ZUNIONSTORE",
            "edge:z-union",
            1,
            "edge:z",
            "WEIGHTS",
            -1
        ]);
        self.cmd(a![
            "ZINTERSTORE",
            "edge:z-inter",
            1,
            "edge:z",
            "WEIGHTS",
            -1
        ]);
        for (k, mv) in [
            (
                "edge:l-lmove",
                a!["LMOVE", "edge:l-lmove", "edge:l-lmove", "LEFT", "RIGHT"],
            ),
            (
                "edge:l-rpoplpush",
                a!["RPOPLPUSH", "edge:l-rpoplpush", "edge:l-rpoplpush"],
            ),
        ] {
            self.cmd(a!["RPUSH", k, "a"]);
            self.cmd(a!["PEXPIREAT", k, ttl]);
            self.cmd(mv);
        }
        self.cmd(a![
            "BITFIELD", "edge:b", "OVERFLOW", "SAT", "SET", "u8", "#0", -3
        ]);
        self.cmd(a!["XADD", "edge:x-claimed", "1-1", "f", "v"]);
        self.cmd(a!["XADD", "edge:x-claimed", "1-2", "f", "v"]);
        self.cmd(a!["XGROUP", "CREATE", "edge:x-claimed", "g", "0"]);
        self.cmd(a![
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            1,
            "STREAMS",
            "edge:x-claimed",
            ">"
        ]);
        self.cmd(a!["XDEL", "edge:x-claimed", "1-1"]);
        self.cmd(a!["XCLAIM", "edge:x-claimed", "g", "d", 0, "1-1"]);
        self.cmd(a!["SELECT", 0]);
    }
}

// ===========================================================================
// What a server holds, and what the replay's JSON holds
// ===========================================================================

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    /// member -> score bits (-0 and 0 differ).
    ZSet(BTreeMap<Vec<u8>, u64>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Stream(Box<StreamState>),
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, Clone, PartialEq)]
struct StreamState {
    entries: Vec<(String, Fields)>,
    length: u64,
    last_id: String,
    /// Redis 7.0+ only (`None` for 6.2).
    first_id: Option<String>,
    max_deleted_id: Option<String>,
    entries_added: Option<u64>,
    groups: BTreeMap<Vec<u8>, GroupState>,
}

#[derive(Debug, Clone, PartialEq)]
struct GroupState {
    last_delivered_id: String,
    /// Compared with a server that loaded the AOF, not the live one (which
    /// counted reads the AOF does not carry).
    entries_read: Option<i64>,
    /// (id, consumer, delivery time, delivery count), by id.
    pending: Vec<(String, Vec<u8>, i64, i64)>,
    /// consumer -> its pending ids (seen and active times are not
    /// compared: a server loading the AOF sets them to its clock).
    consumers: BTreeMap<Vec<u8>, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
struct KeyState {
    ty: String,
    val: Val,
    expire_ms: Option<i64>,
    /// Valkey hash field TTLs.
    field_expire_ms: BTreeMap<Vec<u8>, i64>,
}

type Snapshot = BTreeMap<(u32, Vec<u8>), KeyState>;

fn id_order(id: &str) -> (u64, u64) {
    let (a, b) = id.split_once('-').unwrap_or((id, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

fn parse_score(s: &str) -> f64 {
    match s {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or_else(|_| panic!("score {s:?}")),
    }
}

/// Everything a server holds, key by key, with its functions' code.
fn server_snapshot(c: &mut Client, o: Oracle) -> (Snapshot, BTreeSet<String>) {
    let mut out = Snapshot::new();
    for db in 0..16u32 {
        c.ok(&a!["SELECT", db]);
        for k in c.scan() {
            let ty = c.ok(&a!["TYPE", k]).text();
            let val = server_value(c, o, &ty, &k);
            let expire_ms = if o == Oracle::Redis62 {
                let t = c.ok(&a!["PTTL", k]).int();
                (t >= 0).then(|| now_ms() + t)
            } else {
                let t = c.ok(&a!["PEXPIRETIME", k]).int();
                (t >= 0).then_some(t)
            };
            let mut field_expire_ms = BTreeMap::new();
            if let (Oracle::Valkey91, Val::Hash(h)) = (o, &val) {
                let fields: Vec<&Vec<u8>> = h.keys().collect();
                let mut cmd = a!["HPEXPIRETIME", k, "FIELDS", fields.len()];
                cmd.extend(fields.iter().map(|f| f.to_vec()));
                for (f, t) in fields.iter().zip(c.ok(&cmd).items()) {
                    if t.int() >= 0 {
                        field_expire_ms.insert(f.to_vec(), t.int());
                    }
                }
            }
            out.insert(
                (db, k),
                KeyState {
                    ty,
                    val,
                    expire_ms,
                    field_expire_ms,
                },
            );
        }
    }
    c.ok(&a!["SELECT", 0]);
    let mut functions = BTreeSet::new();
    if o != Oracle::Redis62 {
        for lib in c.ok(&a!["FUNCTION", "LIST", "WITHCODE"]).items() {
            functions.insert(lib.map()["library_code"].text());
        }
    }
    (out, functions)
}

fn server_value(c: &mut Client, o: Oracle, ty: &str, k: &[u8]) -> Val {
    let list = |r: R| r.items().iter().map(R::bytes).collect::<Vec<_>>();
    match ty {
        "string" => Val::Str(c.ok(&a!["GET", k]).bytes()),
        "list" => Val::List(list(c.ok(&a!["LRANGE", k, 0, -1]))),
        "set" => Val::Set(list(c.ok(&a!["SMEMBERS", k])).into_iter().collect()),
        "zset" => Val::ZSet(
            c.ok(&a!["ZRANGE", k, 0, -1, "WITHSCORES"])
                .items()
                .chunks(2)
                .map(|p| (p[0].bytes(), parse_score(&p[1].text()).to_bits()))
                .collect(),
        ),
        "hash" => Val::Hash(
            c.ok(&a!["HGETALL", k])
                .items()
                .chunks(2)
                .map(|p| (p[0].bytes(), p[1].bytes()))
                .collect(),
        ),
        "stream" => Val::Stream(Box::new(server_stream(c, o, k))),
        other => panic!("type {other}"),
    }
}

fn server_stream(c: &mut Client, o: Oracle, k: &[u8]) -> StreamState {
    let entries = c
        .ok(&a!["XRANGE", k, "-", "+"])
        .items()
        .iter()
        .map(|e| {
            let fields = e.items()[1]
                .items()
                .chunks(2)
                .map(|p| (p[0].bytes(), p[1].bytes()))
                .collect();
            (e.items()[0].text(), fields)
        })
        .collect();
    let info = c.ok(&a!["XINFO", "STREAM", k, "FULL", "COUNT", 0]).map();
    let v7 = o != Oracle::Redis62;
    let opt_id = |r: Option<&R>| r.filter(|r| !r.is_nil()).map(R::text);
    let mut groups = BTreeMap::new();
    for g in info["groups"].items() {
        let g = g.map();
        let mut pending: Vec<(String, Vec<u8>, i64, i64)> = g["pending"]
            .items()
            .iter()
            .map(|p| {
                let p = p.items();
                (p[0].text(), p[1].bytes(), p[2].int(), p[3].int())
            })
            .collect();
        pending.sort_by_key(|p| id_order(&p.0));
        let consumers = g["consumers"]
            .items()
            .iter()
            .map(|cm| {
                let cm = cm.map();
                let mut ids: Vec<String> = cm["pending"]
                    .items()
                    .iter()
                    .map(|p| p.items()[0].text())
                    .collect();
                ids.sort_by_key(|i| id_order(i));
                (cm["name"].bytes(), ids)
            })
            .collect();
        let entries_read = match g.get("entries-read") {
            Some(R::Int(n)) if v7 => Some(*n),
            _ => None,
        };
        groups.insert(
            g["name"].bytes(),
            GroupState {
                last_delivered_id: g["last-delivered-id"].text(),
                entries_read,
                pending,
                consumers,
            },
        );
    }
    StreamState {
        entries,
        length: info["length"].int() as u64,
        last_id: info["last-generated-id"].text(),
        first_id: if v7 {
            opt_id(info.get("recorded-first-entry-id"))
        } else {
            None
        },
        max_deleted_id: if v7 {
            opt_id(info.get("max-deleted-entry-id"))
        } else {
            None
        },
        entries_added: if v7 {
            info.get("entries-added").map(|n| n.int() as u64)
        } else {
            None
        },
        groups,
    }
}

/// A byte string of rdbscope's JSON: a string, or `{"base64": ...}`.
fn jb(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(m) => {
            rdbscope_json::read::decode_base64(m["base64"].as_str().expect("base64"))
                .expect("valid base64")
        }
        other => panic!("not a byte string: {other}"),
    }
}

fn js(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

fn ji(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn jarr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

/// The keys and functions of `rdbscope convert --to jsonl` output.
fn json_snapshot(text: &str, o: Oracle) -> (Snapshot, BTreeSet<String>) {
    let mut out = Snapshot::new();
    let mut functions = BTreeSet::new();
    let v7 = o != Oracle::Redis62;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if let Some(kind) = v.get("record") {
            if kind == "function" {
                functions.insert(js(&v["code"]));
            }
            continue;
        }
        let ty = js(&v["type"]);
        let x = &v["value"];
        let val = match ty.as_str() {
            "string" => Val::Str(jb(x)),
            "list" => Val::List(jarr(x).iter().map(jb).collect()),
            "set" => Val::Set(jarr(x).iter().map(jb).collect()),
            "zset" => Val::ZSet(
                jarr(x)
                    .iter()
                    .map(|p| {
                        let score = match &p[1] {
                            Value::String(s) => parse_score(s),
                            n => n.as_f64().expect("score"),
                        };
                        (jb(&p[0]), score.to_bits())
                    })
                    .collect(),
            ),
            "hash" => Val::Hash(jarr(x).iter().map(|p| (jb(&p[0]), jb(&p[1]))).collect()),
            "stream" => Val::Stream(Box::new(json_stream(x, v7))),
            other => panic!("type {other}"),
        };
        let field_expire_ms = v
            .get("field_expire_at_ms")
            .map(|f| jarr(f).iter().map(|p| (jb(&p[0]), ji(&p[1]))).collect())
            .unwrap_or_default();
        out.insert(
            (ji(&v["db"]) as u32, jb(&v["key"])),
            KeyState {
                ty,
                val,
                expire_ms: v["expire_at_ms"].as_i64(),
                field_expire_ms,
            },
        );
    }
    (out, functions)
}

fn json_stream(x: &Value, v7: bool) -> StreamState {
    let entries = jarr(&x["entries"])
        .iter()
        .map(|e| {
            let fields = jarr(&e[1]).iter().map(|p| (jb(&p[0]), jb(&p[1]))).collect();
            (js(&e[0]), fields)
        })
        .collect();
    let mut groups = BTreeMap::new();
    for g in jarr(&x["groups"]) {
        let mut pending: Vec<(String, Vec<u8>, i64, i64)> = jarr(&g["pending"])
            .iter()
            .map(|p| (js(&p[0]), jb(&p[1]), ji(&p[2]), ji(&p[3])))
            .collect();
        pending.sort_by_key(|p| id_order(&p.0));
        let consumers = jarr(&g["consumers"])
            .iter()
            .map(|cm| {
                let mut ids: Vec<String> = jarr(&cm["pending"]).iter().map(js).collect();
                ids.sort_by_key(|i| id_order(i));
                (jb(&cm["name"]), ids)
            })
            .collect();
        groups.insert(
            jb(&g["name"]),
            GroupState {
                last_delivered_id: js(&g["last_delivered_id"]),
                entries_read: if v7 { g["entries_read"].as_i64() } else { None },
                pending,
                consumers,
            },
        );
    }
    let opt = |k: &str| x.get(k).and_then(Value::as_str).map(str::to_string);
    StreamState {
        entries,
        length: ji(&x["length"]) as u64,
        last_id: js(&x["last_id"]),
        first_id: if v7 { opt("first_id") } else { None },
        max_deleted_id: if v7 { opt("max_deleted_id") } else { None },
        entries_added: if v7 {
            x["entries_added"].as_u64()
        } else {
            None
        },
        groups,
    }
}

/// One difference: where (db, key, aspect), and what.
#[derive(Debug, Clone)]
struct Diff {
    path: String,
    what: String,
}

/// How `got` (the replay) differs from `want` (a server). `entries_read`:
/// compare groups' entries-read; `expire_slack_ms`: how far apart expire
/// times may be (Redis 6.2 gives only the relative PTTL).
fn diff_snapshots(
    want: &Snapshot,
    got: &Snapshot,
    entries_read: bool,
    expire_slack_ms: i64,
) -> Vec<Diff> {
    let mut out = Vec::new();
    let name = |(db, k): &(u32, Vec<u8>)| format!("db{db} {}", show(k));
    for (key, w) in want {
        let Some(g) = got.get(key) else {
            out.push(Diff {
                path: name(key),
                what: format!(
                    "missing from the replay (server: {} {:?})",
                    w.ty,
                    short_val(&w.val)
                ),
            });
            continue;
        };
        let at = name(key);
        let mut d = |aspect: &str, what: String| {
            out.push(Diff {
                path: format!("{at} {aspect}"),
                what,
            })
        };
        if w.ty != g.ty {
            d("type", format!("server {} / replay {}", w.ty, g.ty));
            continue;
        }
        match (w.expire_ms, g.expire_ms) {
            (None, None) => {}
            (Some(a), Some(b)) if (a - b).abs() <= expire_slack_ms => {}
            (a, b) => d("expire", format!("server {a:?} / replay {b:?}")),
        }
        if w.field_expire_ms != g.field_expire_ms {
            d(
                "field TTLs",
                format!(
                    "server {:?} / replay {:?}",
                    w.field_expire_ms, g.field_expire_ms
                ),
            );
        }
        match (&w.val, &g.val) {
            (Val::Stream(ws), Val::Stream(gs)) => diff_stream(ws, gs, entries_read, &mut d),
            (a, b) if a != b => d("value", value_diff(a, b)),
            _ => {}
        }
    }
    for (key, g) in got {
        if !want.contains_key(key) {
            out.push(Diff {
                path: name(key),
                what: format!("only in the replay: {} {}", g.ty, short_val(&g.val)),
            });
        }
    }
    out
}

fn diff_stream(
    w: &StreamState,
    g: &StreamState,
    entries_read: bool,
    d: &mut impl FnMut(&str, String),
) {
    if w.entries != g.entries {
        let wi: Vec<&String> = w.entries.iter().map(|e| &e.0).collect();
        let gi: Vec<&String> = g.entries.iter().map(|e| &e.0).collect();
        d(
            "stream entries",
            format!("server ids {wi:?} / replay ids {gi:?} (or their fields differ)"),
        );
    }
    let meta = |s: &StreamState| {
        (
            s.length,
            s.last_id.clone(),
            s.first_id.clone(),
            s.max_deleted_id.clone(),
            s.entries_added,
        )
    };
    if meta(w) != meta(g) {
        d(
            "stream meta",
            format!(
                "(length, last id, first id, max deleted id, entries added) server {:?} / replay {:?}",
                meta(w),
                meta(g)
            ),
        );
    }
    let wn: Vec<String> = w.groups.keys().map(|n| show(n)).collect();
    let gn: Vec<String> = g.groups.keys().map(|n| show(n)).collect();
    if wn != gn {
        d("groups", format!("server {wn:?} / replay {gn:?}"));
    }
    for (name, wg) in &w.groups {
        let Some(gg) = g.groups.get(name) else {
            continue;
        };
        let gname = show(name);
        if wg.last_delivered_id != gg.last_delivered_id {
            d(
                &format!("group {gname} last-delivered-id"),
                format!(
                    "server {} / replay {}",
                    wg.last_delivered_id, gg.last_delivered_id
                ),
            );
        }
        if entries_read && wg.entries_read != gg.entries_read {
            d(
                &format!("group {gname} entries-read"),
                format!(
                    "server {:?} / replay {:?}",
                    wg.entries_read, gg.entries_read
                ),
            );
        }
        if wg.pending != gg.pending {
            let show_pel = |p: &[(String, Vec<u8>, i64, i64)]| {
                p.iter()
                    .map(|(id, c, t, n)| format!("{id}@{}/t{t}/n{n}", show(c)))
                    .collect::<Vec<_>>()
            };
            d(
                &format!("group {gname} PEL"),
                format!(
                    "server {:?} / replay {:?}",
                    show_pel(&wg.pending),
                    show_pel(&gg.pending)
                ),
            );
        }
        if wg.consumers != gg.consumers {
            let sc = |c: &BTreeMap<Vec<u8>, Vec<String>>| {
                c.iter()
                    .map(|(n, ids)| format!("{}:{ids:?}", show(n)))
                    .collect::<Vec<_>>()
            };
            d(
                &format!("group {gname} consumers"),
                format!(
                    "server {:?} / replay {:?}",
                    sc(&wg.consumers),
                    sc(&gg.consumers)
                ),
            );
        }
    }
}

fn short_val(v: &Val) -> String {
    trunc(&format!("{v:?}"), 200)
}

fn value_diff(w: &Val, g: &Val) -> String {
    match (w, g) {
        (Val::Str(a), Val::Str(b)) => {
            let i = a
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            let from = i.saturating_sub(4);
            format!(
                "lengths {} / {}, first difference at byte {i}: server ..{}.. / replay ..{}..",
                a.len(),
                b.len(),
                show(&a[from.min(a.len())..(i + 8).min(a.len())]),
                show(&b[from.min(b.len())..(i + 8).min(b.len())])
            )
        }
        (Val::List(a), Val::List(b)) => {
            let i = a
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            format!(
                "lengths {} / {}, first difference at index {i}: server {:?} / replay {:?}",
                a.len(),
                b.len(),
                a.get(i).map(|x| show(x)),
                b.get(i).map(|x| show(x))
            )
        }
        (Val::Set(a), Val::Set(b)) => format!(
            "server only {:?}, replay only {:?}",
            a.difference(b).take(8).map(|x| show(x)).collect::<Vec<_>>(),
            b.difference(a).take(8).map(|x| show(x)).collect::<Vec<_>>()
        ),
        (Val::ZSet(a), Val::ZSet(b)) => {
            let mut out = Vec::new();
            for (m, s) in a {
                if b.get(m) != Some(s) {
                    out.push(format!(
                        "{}: server {} / replay {:?}",
                        show(m),
                        f64::from_bits(*s),
                        b.get(m).map(|x| f64::from_bits(*x))
                    ));
                }
            }
            for (m, s) in b {
                if !a.contains_key(m) {
                    out.push(format!(
                        "{}: only in replay ({})",
                        show(m),
                        f64::from_bits(*s)
                    ));
                }
            }
            out.truncate(8);
            out.join("; ")
        }
        (Val::Hash(a), Val::Hash(b)) => {
            let mut out = Vec::new();
            for (f, v) in a {
                if b.get(f) != Some(v) {
                    out.push(format!(
                        "{}: server {} / replay {:?}",
                        show(f),
                        show(v),
                        b.get(f).map(|x| show(x))
                    ));
                }
            }
            for f in b.keys() {
                if !a.contains_key(f) {
                    out.push(format!("{}: only in replay", show(f)));
                }
            }
            out.truncate(8);
            out.join("; ")
        }
        _ => format!("server {} / replay {}", short_val(w), short_val(g)),
    }
}

// ===========================================================================
// A workload run on a server, its AOF kept
// ===========================================================================

/// How a run goes.
#[derive(Clone)]
struct Plan {
    steps: usize,
    /// BGREWRITEAOF before this step.
    rewrite_at: usize,
    /// (step, ms): sleep before that step.
    pauses: Vec<(usize, u64)>,
    /// aof-use-rdb-preamble.
    preamble: bool,
    /// Tiny encoding thresholds.
    small: bool,
}

impl Plan {
    /// A seeded workload of `steps`, pausing now and then so that short
    /// TTLs pass, with a rewrite midway.
    fn seeded(seed: u64, steps: usize) -> Plan {
        let mut rng = Rng(seed ^ 0xA5A5_5A5A_F00D_BEEF);
        let pauses = (1..steps / 250)
            .map(|i| (i * 250, 30 + rng.below(120)))
            .collect();
        Plan {
            steps,
            rewrite_at: steps / 2,
            pauses,
            preamble: seed % 2 == 0,
            small: seed % 3 == 1,
        }
    }
}

struct Run {
    o: Oracle,
    seed: u64,
    plan: Plan,
    config: Vec<(String, String)>,
    /// Holds everything of the run.
    tmp: TempDir,
    /// The AOF as the server left it: `appendonlydir`, or (6.2)
    /// `appendonly.aof`, copied.
    aof: PathBuf,
    digest: String,
    live: Snapshot,
    functions: BTreeSet<String>,
    sent: u64,
    errors: BTreeMap<String, u64>,
    log: Vec<String>,
    elapsed: Duration,
}

impl Run {
    fn what(&self) -> String {
        format!(
            "{} seed {:#x} (preamble {}, small encodings {}, {} commands, errors {:?})",
            self.o.name(),
            self.seed,
            self.plan.preamble,
            self.plan.small,
            self.sent,
            self.errors
        )
    }

    fn config(&self) -> Vec<(&str, &str)> {
        self.config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// A copy of the AOF in a new server directory under the run's.
    fn copy_aof(&self, name: &str) -> PathBuf {
        let dir = self.tmp.path.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        copy_aof(&self.aof, &dir);
        dir
    }

    /// Keeps the AOF and the command log where a person can look at them,
    /// and says where.
    fn keep(&self) -> String {
        let dir = std::env::temp_dir()
            .join("rdbscope-replay-live-failures")
            .join(format!("{}-{:x}", self.o.name(), self.seed));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        copy_aof(&self.aof, &dir);
        std::fs::write(dir.join("commands.log"), self.log.join("\n")).unwrap();
        format!(
            "kept the AOF and the command log in {} (rdbscope digest --server-version {} {})",
            dir.display(),
            self.o.name(),
            dir.join(self.aof.file_name().unwrap()).display()
        )
    }

    /// The last commands that name a key (as [`show`] writes it).
    fn history(&self, shown_key: &str) -> Vec<String> {
        let needle = format!(" {shown_key} ");
        let hits: Vec<&String> = self
            .log
            .iter()
            .filter(|l| l.contains(&needle) || l.ends_with(&needle[..needle.len() - 1]))
            .collect();
        hits[hits.len().saturating_sub(12)..]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// Copies an AOF (directory or file) into `dir` under its own name.
fn copy_aof(aof: &Path, dir: &Path) {
    let to = dir.join(aof.file_name().unwrap());
    if aof.is_dir() {
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(aof).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    } else {
        std::fs::copy(aof, to).unwrap();
    }
}

fn bytes_of(p: &Path) -> u64 {
    if p.is_dir() {
        std::fs::read_dir(p)
            .unwrap()
            .map(|f| f.unwrap().metadata().unwrap().len())
            .sum()
    } else {
        std::fs::metadata(p).unwrap().len()
    }
}

fn wait_rewrite(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = c.ok(&a!["INFO", "persistence"]).text();
        let busy = info
            .lines()
            .any(|l| l == "aof_rewrite_in_progress:1" || l == "aof_rewrite_scheduled:1");
        if !busy {
            assert!(
                info.contains("aof_last_bgrewrite_status:ok"),
                "BGREWRITEAOF failed: {info}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "BGREWRITEAOF never ended: {info}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until nothing holds a short TTL any more: every key and hash
/// field whose TTL passed is deleted (a full SCAN deletes expired keys,
/// the active cycle expired fields, and both propagate the deletion to the
/// AOF), and none is left that would pass within a minute. Then DEBUG
/// DIGEST cannot change before the replay runs, and the replay holds the
/// same deletions.
fn settle(c: &mut Client, o: Oracle) {
    std::thread::sleep(Duration::from_millis(SHORT_TTL_MAX_MS + 50));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut unsettled = Vec::new();
        for db in 0..16u32 {
            c.ok(&a!["SELECT", db]);
            for k in c.scan() {
                let t = c.ok(&a!["PTTL", k]).int();
                if (0..60_000).contains(&t) {
                    unsettled.push(format!("db{db} {} PTTL {t}", show(&k)));
                }
                if o == Oracle::Valkey91 && c.ok(&a!["TYPE", k]).text() == "hash" {
                    let stored = c.ok(&a!["HLEN", k]).int();
                    let all = c.ok(&a!["HGETALL", k]);
                    let fields: Vec<Vec<u8>> =
                        all.items().chunks(2).map(|p| p[0].bytes()).collect();
                    if stored != fields.len() as i64 {
                        unsettled.push(format!("db{db} {} has expired fields", show(&k)));
                    }
                    let mut cmd = a!["HPTTL", k, "FIELDS", fields.len()];
                    cmd.extend(fields);
                    if c.ok(&cmd)
                        .items()
                        .iter()
                        .any(|t| (0..60_000).contains(&t.int()))
                    {
                        unsettled.push(format!("db{db} {} has short field TTLs", show(&k)));
                    }
                }
            }
        }
        c.ok(&a!["SELECT", 0]);
        if unsettled.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "keys or fields keep short TTLs: {unsettled:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn server_config(o: Oracle, plan: &Plan) -> Vec<(String, String)> {
    let mut c: Vec<(&str, &str)> = vec![
        ("appendonly", "yes"),
        ("appendfsync", "always"),
        (
            "aof-use-rdb-preamble",
            if plan.preamble { "yes" } else { "no" },
        ),
    ];
    if o != Oracle::Redis62 {
        c.push(("aof-timestamp-enabled", "yes"));
    }
    if plan.small {
        c.extend([
            ("hash-max-ziplist-entries", "8"),
            ("hash-max-ziplist-value", "16"),
            ("zset-max-ziplist-entries", "8"),
            ("zset-max-ziplist-value", "16"),
            ("set-max-intset-entries", "16"),
            ("list-max-ziplist-size", "4"),
            ("stream-node-max-entries", "4"),
        ]);
    }
    c.into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn aof_name(o: Oracle) -> &'static str {
    if o == Oracle::Redis62 {
        "appendonly.aof"
    } else {
        "appendonlydir"
    }
}

fn run_workload(o: Oracle, bin: &Path, seed: u64, plan: Plan) -> Run {
    let start = Instant::now();
    let tmp = TempDir::in_memory(&format!("replay-live-{}-{seed:x}", o.name()));
    let config = server_config(o, &plan);
    let server_dir = tmp.path.join("server");
    std::fs::create_dir_all(&server_dir).unwrap();
    let refs: Vec<(&str, &str)> = config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let server = RedisServer::start(bin, Some(&server_dir), &refs);
    let mut c = Client::new(server.port);
    let field_ttl =
        o == Oracle::Valkey91 && !c.ok(&a!["COMMAND", "INFO", "hexpire"]).items()[0].is_nil();
    let mut g = Gen {
        c: &mut c,
        // splitmix64 of the seed: neighbouring seeds, unrelated streams.
        rng: Rng({
            let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) | 1
        }),
        f: Feat {
            v7: o != Oracle::Redis62,
            field_ttl,
            no_negative_zero: plan.small,
        },
        in_multi: false,
        sent: 0,
        errors: BTreeMap::new(),
        log: Vec::new(),
        xids: BTreeMap::new(),
        sha: String::new(),
    };
    g.setup();
    for step in 0..plan.steps {
        for &(at, ms) in &plan.pauses {
            if at == step {
                std::thread::sleep(Duration::from_millis(ms));
                // Lazy expiry of what passed (and its DEL in the AOF).
                for _ in 0..5 {
                    let k = g.any_key();
                    g.cmd(a!["EXISTS", k]);
                }
            }
        }
        if step == plan.rewrite_at {
            g.cmd(a!["BGREWRITEAOF"]);
            g.midway();
        }
        g.step();
    }
    let (sent, errors, log) = (
        g.sent,
        std::mem::take(&mut g.errors),
        std::mem::take(&mut g.log),
    );
    wait_rewrite(&mut c);
    settle(&mut c, o);
    wait_rewrite(&mut c);
    let digest = c.ok(&a!["DEBUG", "DIGEST"]).text();
    let (live, functions) = server_snapshot(&mut c, o);
    // appendfsync always: the AOF holds every write acknowledged.
    let aof_dir = tmp.path.join("aof");
    std::fs::create_dir_all(&aof_dir).unwrap();
    copy_aof(&server_dir.join(aof_name(o)), &aof_dir);
    drop(c);
    drop(server);
    Run {
        o,
        seed,
        plan,
        config,
        aof: aof_dir.join(aof_name(o)),
        tmp,
        digest,
        live,
        functions,
        sent,
        errors,
        log,
        elapsed: start.elapsed(),
    }
}

/// A fresh server of the run's version on `dir` (which holds an AOF),
/// with the run's configuration; expired keys deleted (a full SCAN).
fn load(run: &Run, bin: &Path, dir: &Path) -> (RedisServer, Client) {
    let server = RedisServer::start(bin, Some(dir), &run.config());
    let mut c = Client::new(server.port);
    for db in 0..16u32 {
        c.ok(&a!["SELECT", db]);
        c.scan();
    }
    c.ok(&a!["SELECT", 0]);
    (server, c)
}

fn digest_of(c: &mut Client) -> String {
    c.ok(&a!["DEBUG", "DIGEST"]).text()
}

fn stdout_of(out: &Output, what: &str) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8(out.stdout.clone()).unwrap())
    } else {
        Err(format!(
            "{what}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Checks one run's AOF against the live server and a server that loaded
/// it; returns the failures (empty: all good). The digest must be the one
/// a server loading the AOF holds, which is the live one but where the AOF
/// cannot carry what the live server did (said on stderr, with the keys).
fn check_replay(run: &Run, bin: &Path) -> Vec<String> {
    let o = run.o;
    let aof = run.aof.to_str().unwrap();
    let mut failures = Vec::new();

    // A real server that loads the same AOF.
    let reload_dir = run.copy_aof("reload");
    let (server, mut c) = load(run, bin, &reload_dir);
    let reloaded_digest = digest_of(&mut c);
    let (reloaded, _) = server_snapshot(&mut c, o);
    drop(c);
    drop(server);
    if reloaded_digest != run.digest {
        // The AOF does not hold what the live server did (e.g. a -0 score
        // of a skiplist that the rewrite's ZADD puts in a listpack): the
        // replay is held to what a server loading the AOF holds.
        eprintln!(
            "replay_live {}: note: a server loading the AOF holds {reloaded_digest}, not the live {}: {:?}",
            run.what(),
            run.digest,
            diff_snapshots(&run.live, &reloaded, false, 1500)
                .iter()
                .take(5)
                .map(|d| format!("{}: {}", d.path, d.what))
                .collect::<Vec<_>>()
        );
    }

    // The digest.
    let out = rdbscope(&["digest", "--server-version", o.name(), aof]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    match stdout_of(&out, "rdbscope digest") {
        Ok(d) if d.trim() == reloaded_digest => {}
        Ok(d) => failures.push(format!(
            "digest: live server {}, a server loading the AOF {reloaded_digest} / replay {} (rdbscope: {})",
            run.digest,
            d.trim(),
            stderr.trim()
        )),
        Err(e) => failures.push(e),
    }

    // Key by key.
    let json = match stdout_of(
        &rdbscope(&[
            "convert",
            "-q",
            aof,
            "-",
            "--to",
            "jsonl",
            "--target",
            o.name(),
        ]),
        "rdbscope convert --to jsonl",
    ) {
        Ok(j) => j,
        Err(e) => {
            failures.push(e);
            return failures;
        }
    };
    let (ours, our_functions) = json_snapshot(&json, o);
    let slack = if o == Oracle::Redis62 { 1500 } else { 0 };
    let vs_live = diff_snapshots(&run.live, &ours, false, slack);
    let vs_reloaded = diff_snapshots(&reloaded, &ours, true, slack);
    let live_vs_reloaded: BTreeSet<String> = diff_snapshots(&run.live, &reloaded, false, slack)
        .into_iter()
        .map(|d| d.path)
        .collect();
    let mut shown = BTreeSet::new();
    let mut limitations = Vec::new();
    for d in vs_live.iter().chain(&vs_reloaded) {
        if !shown.insert(d.path.clone()) {
            continue;
        }
        let live = vs_live.iter().find(|x| x.path == d.path);
        let loader = vs_reloaded.iter().find(|x| x.path == d.path);
        if loader.is_none() && live_vs_reloaded.contains(&d.path) {
            // The AOF does not carry it: the reloading server agrees with us.
            limitations.push(format!("{}: {}", d.path, d.what));
            continue;
        }
        let key = d.path.split(' ').nth(1).unwrap_or("");
        let history: Vec<String> = run
            .history(key)
            .into_iter()
            .map(|h| format!("      {h}"))
            .collect();
        let versus = |x: Option<&Diff>| x.map_or("the same".to_string(), |x| x.what.clone());
        failures.push(format!(
            "{}: replay vs live server: {}; replay vs a server loading the AOF: {}\n    last commands naming the key:\n{}",
            d.path,
            versus(live),
            versus(loader),
            history.join("\n")
        ));
    }
    if !limitations.is_empty() {
        // E.g. a consumer that XCLAIM or XREADGROUP created without
        // claiming or delivering anything: the server propagates nothing.
        eprintln!(
            "replay_live {}: {} difference(s) from the live server that a server reloading the AOF shares (not in the AOF), e.g. {:?}",
            run.what(),
            limitations.len(),
            &limitations[..limitations.len().min(2)]
        );
    }
    if o != Oracle::Redis62 && our_functions != run.functions {
        failures.push(format!(
            "functions: server {:?} / replay {:?}",
            run.functions, our_functions
        ));
    }
    failures
}

fn report(run: &Run, failures: &[String]) -> String {
    let mut s = format!("{}: {} failure(s)\n", run.what(), failures.len());
    for f in failures.iter().take(25) {
        s.push_str(&format!("  - {f}\n"));
    }
    if failures.len() > 25 {
        s.push_str(&format!("  ... {} more\n", failures.len() - 25));
    }
    s.push_str(&format!("  {}\n", run.keep()));
    s
}

/// Part A for one server: every seed's AOF replays to the live server's
/// DEBUG DIGEST and, key by key, to what it holds.
fn replay_matches(o: Oracle) {
    let test = format!("replay_live {}", o.name());
    let Some(bin) = o.server(&test) else {
        return;
    };
    let started = Instant::now();
    let mut failed = Vec::new();
    let mut keys = 0;
    for seed in seeds() {
        let run = run_workload(o, &bin, seed, Plan::seeded(seed, 2000));
        keys += run.live.len();
        let failures = check_replay(&run, &bin);
        let real: Vec<&String> = failures
            .iter()
            .filter(|f| !f.starts_with("note:"))
            .collect();
        for n in failures.iter().filter(|f| f.starts_with("note:")) {
            eprintln!("{test} seed {seed:#x}: {n}");
        }
        eprintln!(
            "{test}: {} in {:.1}s: {} keys, digest {}, {}",
            run.what(),
            run.elapsed.as_secs_f64(),
            run.live.len(),
            run.digest,
            if real.is_empty() {
                "replay equal"
            } else {
                "REPLAY DIFFERS"
            }
        );
        if !real.is_empty() {
            failed.push(report(&run, &failures));
        } else if std::env::var_os("RDBSCOPE_REPLAY_KEEP").is_some() {
            eprintln!("{test}: {}", run.keep());
        }
    }
    eprintln!(
        "{test}: {} seeds, {keys} keys compared in {:.1}s",
        seeds().len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "{test}:\n{}", failed.join("\n"));
}

/// A seeded workload of every command family on Redis 6.2 (one
/// append-only file, with and without an RDB preamble, rewritten midway):
/// `rdbscope digest` of the file equals the server's DEBUG DIGEST, and its
/// JSON equals, key by key, what the server (and a server reloading the
/// file) holds.
#[test]
fn replay_matches_redis_6_2() {
    replay_matches(Oracle::Redis62);
}

/// The same on Redis 7.0: an `appendonlydir` with `#TS:` annotations, an
/// RDB or AOF base after the midway rewrite, functions and Redis 7
/// commands (LMPOP, ZMPOP, EXPIRE NX/GT, ENTRIESREAD, ...).
#[test]
fn replay_matches_redis_7_0() {
    replay_matches(Oracle::Redis70);
}

/// The same on Valkey 9.1, with hash field TTLs (HEXPIRE, HPEXPIRE,
/// HPERSIST, HSETEX, HGETEX) some of which pass during the run.
#[test]
fn replay_matches_valkey_9_1() {
    replay_matches(Oracle::Valkey91);
}

// ===========================================================================
// Point in time
// ===========================================================================

/// `#TS:` values of the AOF's files, in manifest order: (file, offset of
/// the annotation line, value).
fn annotations(aofdir: &Path) -> Vec<(String, u64, i64)> {
    let mut out = Vec::new();
    for name in manifest_files(aofdir) {
        let data = std::fs::read(aofdir.join(&name)).unwrap();
        if data.starts_with(b"REDIS") || data.starts_with(b"VALKEY") {
            continue;
        }
        let mut pos = 0;
        while pos < data.len() {
            let end = data[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |e| pos + e + 1);
            if data[pos..].starts_with(b"#TS:") {
                let text = String::from_utf8_lossy(&data[pos + 4..end]);
                out.push((name.clone(), pos as u64, text.trim().parse().unwrap()));
            }
            pos = end;
        }
    }
    out
}

/// The manifest's files, base first.
fn manifest_files(aofdir: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    let mut files: Vec<(u8, u64, String)> = manifest
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let get = |k: &str| w.iter().position(|x| *x == k).map(|i| w[i + 1]);
            let ty = get("type")?;
            if ty == "h" {
                return None;
            }
            Some((
                u8::from(ty == "i"),
                get("seq")?.parse().ok()?,
                get("file")?.to_string(),
            ))
        })
        .collect();
    files.sort();
    files.into_iter().map(|f| f.2).collect()
}

/// Up to `n` values of T across the annotations: before the first, each
/// annotation, between annotations, after the last.
fn pick_timestamps(ts: &[i64], n: usize) -> Vec<i64> {
    let (first, last) = (ts[0], ts[ts.len() - 1]);
    let mut all: BTreeSet<i64> = [first - 100, first - 1, last + 1, last + 3600].into();
    for w in ts.windows(2) {
        if w[1] - w[0] > 1 {
            all.insert(w[0] + 1);
            all.insert((w[0] + w[1]) / 2);
        }
    }
    let must: Vec<i64> = all.iter().copied().collect();
    let mut picked: BTreeSet<i64> = must.iter().copied().collect();
    let distinct: Vec<i64> = ts
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let room = n.saturating_sub(picked.len()).max(1);
    for i in 0..room {
        picked.insert(distinct[i * distinct.len() / room]);
    }
    picked.insert(last);
    picked.into_iter().collect()
}

/// What the replay's `--until-timestamp T` claims to keep, and what the
/// checker keeps when it accepts T: the AOF cut at the first annotation
/// later than T, later files emptied (nothing cut when there is none).
fn cut_by_hand(dir: &Path, t: i64) -> String {
    let aofdir = dir.join("appendonlydir");
    let anns = annotations(&aofdir);
    let Some((file, offset, _)) = anns.iter().find(|a| a.2 > t).cloned() else {
        return "nothing cut: no annotation later than T".into();
    };
    let files = manifest_files(&aofdir);
    let at = files.iter().position(|f| *f == file).unwrap();
    for (i, f) in files.iter().enumerate().skip(at) {
        let h = std::fs::OpenOptions::new()
            .write(true)
            .open(aofdir.join(f))
            .unwrap();
        h.set_len(if i == at { offset } else { 0 }).unwrap();
    }
    format!("cut {file} at {offset}")
}

/// The sizes of the files of an `appendonlydir` (the manifest's files).
fn sizes(dir: &Path) -> Vec<(String, u64)> {
    let aofdir = dir.join("appendonlydir");
    manifest_files(&aofdir)
        .into_iter()
        .map(|f| {
            let n = std::fs::metadata(aofdir.join(&f)).unwrap().len();
            (f, n)
        })
        .collect()
}

/// Part B for one run: every T's `--until-timestamp` against the checker.
fn point_in_time(o: Oracle, bin: &Path, check: &Path, seed: u64, preamble: bool) -> Vec<String> {
    let plan = Plan {
        steps: 1100,
        rewrite_at: 150,
        pauses: vec![
            (250, 1100),
            (450, 1100),
            (650, 2300),
            (850, 1100),
            (1000, 1100),
        ],
        preamble,
        small: false,
    };
    let run = run_workload(o, bin, seed, plan);
    let what = run.what();
    let ts: Vec<i64> = annotations(&run.aof).iter().map(|a| a.2).collect();
    let mut failures = Vec::new();
    if ts.len() < 4 {
        failures.push(format!(
            "{what}: only {} #TS: annotations: {ts:?}",
            ts.len()
        ));
        return failures;
    }
    let aof = run.aof.to_str().unwrap();
    // A replay bug shows at every T after the command it gets wrong.
    let full = rdbscope(&["digest", "-q", "--server-version", o.name(), aof]);
    let full = String::from_utf8_lossy(&full.stdout).trim().to_string();
    let hint = if full == run.digest {
        String::new()
    } else {
        format!(
            " [the whole AOF replays to {full}, not the live {}: a replay bug (see replay_matches_*), not one of --until-timestamp]",
            run.digest
        )
    };
    let mut outcomes: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut refusals = BTreeSet::new();
    let picked = pick_timestamps(&ts, 12);
    for &t in &picked {
        let dir = run.copy_aof(&format!("pit-{t}"));
        let manifest = dir.join("appendonlydir/appendonly.aof.manifest");
        let checker = Command::new(check)
            .arg("--truncate-to-timestamp")
            .arg(t.to_string())
            .arg(&manifest)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let checker_says = String::from_utf8_lossy(&checker.stdout).to_string()
            + &String::from_utf8_lossy(&checker.stderr);
        let by_hand = run.copy_aof(&format!("pit-{t}-by-hand"));
        let cut = cut_by_hand(&by_hand, t);
        let (source, dir) = if checker.status.success() {
            // The checker cuts where we think it does.
            if sizes(&dir) != sizes(&by_hand) {
                failures.push(format!(
                    "{what}: T={t}: the checker left {:?}, the test expected {:?} ({cut})",
                    sizes(&dir),
                    sizes(&by_hand)
                ));
            }
            ("checker".to_string(), dir)
        } else {
            // The checker refuses: what does ours do?
            let ours = rdbscope(&[
                "digest",
                "-q",
                "--server-version",
                o.name(),
                "--until-timestamp",
                &t.to_string(),
                aof,
            ]);
            let reason = last_line(&checker_says);
            if !ours.status.success() {
                refusals.insert(format!("T={t}: both refuse (checker: {reason})"));
                continue;
            }
            refusals.insert(format!(
                "T={t}: the checker refuses ({reason}), the replay does not: compared with the AOF {cut}"
            ));
            (format!("{cut}; the checker refused"), by_hand)
        };
        let (server, mut c) = load(&run, bin, &dir);
        let loaded_at = now_ms();
        let want = digest_of(&mut c);
        drop(c);
        let log = server.log();
        drop(server);
        let out = rdbscope(&[
            "digest",
            "--server-version",
            o.name(),
            "--until-timestamp",
            &t.to_string(),
            &format!("--as-loaded={loaded_at}ms"),
            aof,
        ]);
        match stdout_of(&out, "rdbscope digest --until-timestamp") {
            Ok(got) if got.trim() == want => {
                let kind = if source == "checker" {
                    "checker truncated, digests equal"
                } else {
                    "checker refused, the replay cut there, digests equal"
                };
                outcomes.entry(kind).or_default().push(t);
            }
            Ok(got) => failures.push(format!(
                "{what}: T={t} ({source}): server {want} / replay {} ({}); checker: {}; server log tail: {}{hint}",
                got.trim(),
                String::from_utf8_lossy(&out.stderr).trim(),
                last_line(&checker_says),
                last_line(&log)
            )),
            Err(e) => failures.push(format!(
                "{what}: T={t} ({source}; checker: {}): {e}",
                last_line(&checker_says)
            )),
        }
    }
    eprintln!(
        "replay_live point in time: {what}: annotations {}..{} ({} of them), {} values of T: {outcomes:?}; {refusals:#?}",
        ts[0],
        ts[ts.len() - 1],
        ts.len(),
        picked.len()
    );
    if !failures.is_empty() {
        failures.push(run.keep());
    }
    failures
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").to_string()
}

/// Point in time (Redis 7.0 and Valkey 9.1, timestamps on): for T before,
/// at, between and after the AOF's `#TS:` annotations, `rdbscope digest
/// --until-timestamp T` equals DEBUG DIGEST of the server loading what the
/// real `redis-check-aof --truncate-to-timestamp T` (`valkey-check-aof`)
/// left; where the checker refuses, the replay refuses too or equals the
/// server loading the AOF cut where the replay says it stops.
#[test]
fn until_timestamp_matches_check_aof_truncation() {
    let mut jobs = Vec::new();
    for o in [Oracle::Redis70, Oracle::Valkey91] {
        let test = format!("replay_live point in time {}", o.name());
        let (Some(bin), Some(check)) = (o.server(&test), o.check_aof(&test)) else {
            continue;
        };
        for (i, preamble) in [(0u64, true), (1, false)] {
            let (bin, check) = (bin.clone(), check.clone());
            let seed = seeds()[0].wrapping_add(0x100 + i);
            jobs.push(std::thread::spawn(move || {
                point_in_time(o, &bin, &check, seed, preamble)
            }));
        }
    }
    let failures: Vec<String> = jobs
        .into_iter()
        .flat_map(|j| j.join().expect("point-in-time thread"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ===========================================================================
// Writers
// ===========================================================================

/// The writers (issue acceptance 4): for a workload AOF of each server,
/// `rdbscope convert --to aof-dir` (Redis 7.0, Valkey 9.1) or `--to aof`
/// (Redis 6.2) and `rdbscope rewrite` (RDB base, and AOF base) write AOFs
/// that server loads with the live DEBUG DIGEST (that of a server loading
/// the input AOF, where the two differ); the rewrite is smaller than its
/// input.
#[test]
fn converted_and_rewritten_aofs_load_with_the_live_digest() {
    let mut failures = Vec::new();
    for o in Oracle::ALL {
        let test = format!("replay_live writers {}", o.name());
        let Some(bin) = o.server(&test) else {
            continue;
        };
        let seed = seeds()[0].wrapping_add(0x200);
        let run = run_workload(o, &bin, seed, Plan::seeded(seed, 2000));
        let what = run.what();
        let aof = run.aof.to_str().unwrap();
        let input_bytes = bytes_of(&run.aof);
        // What the outputs must load to: the input AOF's own (the live
        // digest, but where the AOF cannot carry it; see check_replay).
        let (server, mut c) = load(&run, &bin, &run.copy_aof("reload"));
        let want = digest_of(&mut c);
        drop(c);
        drop(server);
        if want != run.digest {
            eprintln!(
                "replay_live writers: {what}: note: a server loading the AOF holds {want}, not the live {}",
                run.digest
            );
        }
        let name = aof_name(o);
        let mut outputs: Vec<(String, PathBuf)> = Vec::new();

        let conv = run.tmp.path.join("converted");
        std::fs::create_dir_all(&conv).unwrap();
        let out = conv.join(name);
        let to = if o == Oracle::Redis62 {
            "aof"
        } else {
            "aof-dir"
        };
        let args = [
            "convert",
            aof,
            out.to_str().unwrap(),
            "--to",
            to,
            "--target",
            o.name(),
        ];
        match stdout_of(&rdbscope(&args), &format!("{args:?}")) {
            Ok(_) => outputs.push((format!("convert --to {to}"), conv)),
            Err(e) => failures.push(format!("{what}: {e}")),
        }
        for base in ["rdb", "aof"] {
            let dir = run.tmp.path.join(format!("rewritten-{base}"));
            std::fs::create_dir_all(&dir).unwrap();
            let out = dir.join(name);
            let args = [
                "rewrite",
                aof,
                "--output",
                out.to_str().unwrap(),
                "--target",
                o.name(),
                "--aof-base",
                base,
            ];
            match stdout_of(&rdbscope(&args), &format!("{args:?}")) {
                Ok(_) => {
                    let bytes = bytes_of(&out);
                    if bytes >= input_bytes {
                        failures.push(format!(
                            "{what}: rewrite (base {base}): {bytes} bytes, not smaller than the input's {input_bytes}"
                        ));
                    }
                    eprintln!(
                        "replay_live writers: {what}: rewrite (base {base}) {input_bytes} -> {bytes} bytes"
                    );
                    outputs.push((format!("rewrite --aof-base {base}"), dir));
                }
                Err(e) => failures.push(format!("{what}: {e}")),
            }
        }
        for (how, dir) in outputs {
            let (server, mut c) = load(&run, &bin, &dir);
            let got = digest_of(&mut c);
            drop(c);
            if got != want && how.contains("aof-base aof") {
                // A -0 score in a big zset: the commands rebuild it through
                // a listpack first, which stores 0 (7.0+, Valkey), as a
                // server's own rewrite without an RDB preamble does. Then
                // the server holds what our replay of those commands holds.
                let input_json = rdbscope(&["convert", "-q", aof, "-", "--to", "jsonl"]);
                let has_neg_zero = String::from_utf8_lossy(&input_json.stdout).contains(",-0.0]");
                let output = if dir.join("appendonlydir").is_dir() {
                    dir.join("appendonlydir")
                } else {
                    dir.join("appendonly.aof")
                };
                let ours = rdbscope(&[
                    "digest",
                    "-q",
                    "--server-version",
                    o.name(),
                    output.to_str().unwrap(),
                ]);
                let ours = String::from_utf8_lossy(&ours.stdout).trim().to_string();
                if o != Oracle::Redis62 && has_neg_zero && ours == got {
                    eprintln!(
                        "replay_live writers: {what}: {how}: a -0 zset score became 0 through ZADD, as in the server's own rewrite; the server holds what our replay of the output holds"
                    );
                    continue;
                }
            }
            if got != want {
                let replayed = rdbscope(&["digest", "-q", "--server-version", o.name(), aof]);
                let replayed = String::from_utf8_lossy(&replayed.stdout).trim().to_string();
                let why = if replayed == got {
                    "the output holds what the replay holds: the replay differs (see replay_matches_*)"
                } else {
                    "not what the replay holds either: the writer changed the data, or \
                     the server's loading of its commands did (a -0 score the replay \
                     holds in a small zset becomes 0 through ZADD)"
                };
                failures.push(format!(
                    "{what}: {how}: the server loads {got}, the input AOF {want} (live {}), the replay {replayed}: {why} (server log: {})",
                    run.digest,
                    last_line(&server.log())
                ));
            }
        }
        if !failures.is_empty() {
            failures.push(run.keep());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
