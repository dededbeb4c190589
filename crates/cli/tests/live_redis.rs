//! Live round-trip test against a real `redis-server`.
//!
//! For several rounds (each with a different server configuration, so the
//! server picks different in-memory and on-disk encodings) the test:
//!
//! 1. writes pseudo-random data of every type and encoding, from a fixed seed,
//!    into several databases;
//! 2. runs `SAVE` and copies `dump.rdb`;
//! 3. runs `rdbscope dump --key '*' <copy>`;
//! 4. compares every key the server reports (SCAN over every database) with
//!    the JSON line the dump produced for it, and checks the dump contains no
//!    other keys.
//!
//! It also asks the server (`OBJECT ENCODING`, `DEBUG OBJECT`) which encodings
//! it actually used, so the test fails loudly instead of silently losing
//! coverage if a future Redis changes its thresholds.
//!
//! `redis-server` (7.0 or newer) is `$REDIS_SERVER` if set, else found in
//! `$PATH` or the usual system locations. When it is missing the test prints
//! a notice and passes, unless `REQUIRE_REDIS=1`, in which case it fails.
//! The seed is printed; `RDBSCOPE_LIVE_SEED=<u64>` (decimal or 0x-hex)
//! changes it.
//!
//! Layout (the server process is `rdbscope_testkit::redis`): RESP client,
//! PRNG, data generator, a tiny JSON reader, dump parsing, comparison, and
//! finally the test itself.

use rdbscope_testkit::redis::{redis_server, RedisServer};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use json::Value;

const DEFAULT_SEED: u64 = 0x5EED_0DB5_C0DE_2024;
/// Databases the generator spreads keys over (round-robin).
const DBS: [u32; 4] = [0, 1, 7, 15];
/// Far-future base for PEXPIREAT (2100-01-01T00:00:00Z), so nothing expires
/// while the test runs.
const FAR_FUTURE_MS: i64 = 4_102_444_800_000;

// ===========================================================================
// redis-server process
// ===========================================================================

// ===========================================================================
// Minimal RESP2 client (binary safe)
// ===========================================================================

#[derive(Debug, Clone, PartialEq)]
enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Resp::Bulk(Some(b)) => b.clone(),
            Resp::Simple(s) => s.as_bytes().to_vec(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }
    fn text(&self) -> String {
        String::from_utf8(self.bytes()).expect("UTF-8 reply")
    }
    fn int(&self) -> i64 {
        match self {
            Resp::Int(i) => *i,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }
    fn opt_int(&self) -> Option<i64> {
        match self {
            Resp::Int(i) => Some(*i),
            Resp::Bulk(None) | Resp::Array(None) => None,
            other => panic!("expected an integer or nil reply, got {other:?}"),
        }
    }
    /// Array elements; nil arrays are treated as empty.
    fn items(&self) -> &[Resp] {
        match self {
            Resp::Array(Some(v)) => v,
            Resp::Array(None) => &[],
            other => panic!("expected an array reply, got {other:?}"),
        }
    }
    fn is_nil(&self) -> bool {
        matches!(self, Resp::Bulk(None) | Resp::Array(None))
    }
    /// Flat `[key, value, key, value, ...]` array (XINFO, etc.) as a map.
    fn flat_map(&self) -> BTreeMap<String, Resp> {
        let items = self.items();
        assert!(items.len() % 2 == 0, "odd-length key/value array: {self:?}");
        items
            .chunks(2)
            .map(|kv| (kv[0].text(), kv[1].clone()))
            .collect()
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// Anything usable as a command argument.
trait Arg {
    fn arg(&self) -> Vec<u8>;
}
impl<T: Arg + ?Sized> Arg for &T {
    fn arg(&self) -> Vec<u8> {
        (**self).arg()
    }
}
impl Arg for str {
    fn arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for String {
    fn arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for [u8] {
    fn arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
impl Arg for Vec<u8> {
    fn arg(&self) -> Vec<u8> {
        self.clone()
    }
}
impl<const N: usize> Arg for [u8; N] {
    fn arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
macro_rules! int_arg {
    ($($t:ty),*) => { $(impl Arg for $t { fn arg(&self) -> Vec<u8> { self.to_string().into_bytes() } })* };
}
int_arg!(i32, i64, u32, u64, usize);

/// `cmd!(conn, "SET", key, value)`: run a command, panic on an error reply.
macro_rules! cmd {
    ($c:expr, $($a:expr),+ $(,)?) => { $c.ok(vec![$(Arg::arg(&$a)),+]) };
}
/// Like `cmd!` but returns error replies as `Resp::Error`.
macro_rules! try_cmd {
    ($c:expr, $($a:expr),+ $(,)?) => { $c.call(vec![$(Arg::arg(&$a)),+]).expect("redis I/O") };
}

impl Conn {
    fn connect(port: u16) -> io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    fn call(&mut self, args: Vec<Vec<u8>>) -> io::Result<Resp> {
        let mut buf = Vec::with_capacity(64 + args.iter().map(|a| a.len() + 16).sum::<usize>());
        write!(buf, "*{}\r\n", args.len())?;
        for a in &args {
            write!(buf, "${}\r\n", a.len())?;
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&buf)?;
        self.read_reply()
    }

    /// Runs a command and panics (showing the command) on an error reply.
    fn ok(&mut self, args: Vec<Vec<u8>>) -> Resp {
        let shown: Vec<String> = args.iter().take(6).map(|a| show(a, 40)).collect();
        match self.call(args).expect("redis I/O") {
            Resp::Error(e) => panic!("redis error for {shown:?}: {e}"),
            r => r,
        }
    }

    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\r\n") {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated RESP line",
            ));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }

    fn read_reply(&mut self) -> io::Result<Resp> {
        let line = self.read_line()?;
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let (&tag, rest) = line.split_first().ok_or_else(|| bad("empty RESP line"))?;
        let rest = String::from_utf8_lossy(rest).into_owned();
        let num = |s: &str| s.parse::<i64>().map_err(|_| bad("bad RESP number"));
        Ok(match tag {
            b'+' => Resp::Simple(rest),
            b'-' => Resp::Error(rest),
            b':' => Resp::Int(num(&rest)?),
            b'$' => {
                let n = num(&rest)?;
                if n < 0 {
                    Resp::Bulk(None)
                } else {
                    let mut data = vec![0u8; n as usize + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(n as usize);
                    Resp::Bulk(Some(data))
                }
            }
            b'*' => {
                let n = num(&rest)?;
                if n < 0 {
                    Resp::Array(None)
                } else {
                    let mut v = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        v.push(self.read_reply()?);
                    }
                    Resp::Array(Some(v))
                }
            }
            _ => return Err(bad("unknown RESP type")),
        })
    }
}

// ===========================================================================
// Deterministic PRNG (splitmix64)
// ===========================================================================

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    fn word(&mut self, min: usize, max: usize) -> Vec<u8> {
        let n = self.range(min as i64, max as i64) as usize;
        (0..n).map(|_| b'a' + self.below(26) as u8).collect()
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    /// A random integer drawn from one of the listpack/intset integer widths.
    fn int_of_random_width(&mut self) -> i64 {
        match self.below(6) {
            0 => self.range(0, 127),
            1 => self.range(-4096, 4095),
            2 => self.range(-32768, 32767),
            3 => self.range(-(1 << 23), (1 << 23) - 1),
            4 => self.range(i32::MIN as i64, i32::MAX as i64),
            _ => self.next_u64() as i64,
        }
    }
    /// A random collection element: integers of every width, short and long
    /// words, raw binary, unicode, and the empty string.
    fn element(&mut self) -> Vec<u8> {
        match self.below(10) {
            0..=2 => self.int_of_random_width().to_string().into_bytes(),
            3..=5 => self.word(1, 20),
            6 => self.word(60, 300),
            7 => {
                let n = self.range(1, 40) as usize;
                self.bytes(n)
            }
            8 => format!("ünïcødé-✓-{}", self.below(1000)).into_bytes(),
            _ => {
                if self.chance(1, 3) {
                    Vec::new()
                } else {
                    self.word(1, 3)
                }
            }
        }
    }
    /// A random zset score, as the text sent to the server.
    fn score(&mut self) -> String {
        match self.below(8) {
            0 => self.range(-1000, 1000).to_string(),
            1 => self.int_of_random_width().to_string(),
            2 => format!("{}", self.range(-1_000_000, 1_000_000) as f64 / 64.0),
            3 => format!("{:e}", f64::from_bits(self.next_u64() >> 2)), // wide exponent range, positive
            4 => format!("{}", -(self.range(1, 1 << 40) as f64) / 3.0),
            5 => self
                .pick(&["inf", "-inf", "-0", "0", "1e300", "5e-324", "-1e-300"])
                .to_string(),
            _ => format!("{}", (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64),
        }
    }
}

// ===========================================================================
// Data generator
// ===========================================================================

/// Things to verify with DEBUG OBJECT after generation, proving that the
/// intended quicklist node kinds really exist.
enum Probe {
    /// A list whose inner quicklist nodes should be LZF-compressed in memory
    /// (list-compress-depth > 0).
    Compressed { db: u32, key: Vec<u8> },
    /// A list with elements above the packed threshold: each big element is
    /// a PLAIN node, so the list has at least `min_nodes` nodes.
    Plain {
        db: u32,
        key: Vec<u8>,
        min_nodes: u64,
    },
}

struct Gen<'a> {
    c: &'a mut Conn,
    rng: Rng,
    counter: usize,
    cur_db: u32,
    expired_types: BTreeSet<&'static str>,
    probes: Vec<Probe>,
    /// The round's stream-node-max-entries, restored after temporary changes.
    stream_node_max_entries: String,
    compress_depth: i64,
}

impl<'a> Gen<'a> {
    fn new(c: &'a mut Conn, seed: u64) -> Self {
        let stream_node_max_entries = config_get(c, "stream-node-max-entries");
        let compress_depth = config_get(c, "list-compress-depth").parse().unwrap();
        cmd!(c, "SELECT", 0);
        Gen {
            c,
            rng: Rng(seed),
            counter: 0,
            cur_db: 0,
            expired_types: BTreeSet::new(),
            probes: Vec::new(),
            stream_node_max_entries,
            compress_depth,
        }
    }

    fn run(&mut self) {
        self.special_key_names();
        self.strings();
        self.lists();
        self.sets();
        self.zsets();
        self.hashes();
        self.streams();
        self.random_keys(120);
    }

    /// Random keys of random types, with sizes just below and above every
    /// round's encoding thresholds (4 and 8 in the small round, 128 and 512
    /// by default), for coverage the hand-written cases did not think of.
    fn random_keys(&mut self, n: usize) {
        const SIZES: [usize; 12] = [1, 2, 4, 5, 8, 9, 60, 128, 129, 512, 513, 1000];
        for _ in 0..n {
            let size = *self.rng.pick(&SIZES);
            let ty = *self
                .rng
                .pick(&["string", "list", "set", "zset", "hash", "stream"]);
            let k = self.key(&format!("random:{ty}"));
            // Collections of only integers exercise intsets and listpack ints.
            let only_ints = self.rng.chance(1, 3);
            let elem = |rng: &mut Rng, i: usize| -> Vec<u8> {
                let mut e = if only_ints {
                    rng.int_of_random_width().to_string().into_bytes()
                } else {
                    rng.element()
                };
                if !only_ints && rng.chance(1, 2) {
                    e.extend_from_slice(format!("/{i}").as_bytes()); // mostly distinct
                }
                e
            };
            match ty {
                "string" => {
                    let v = if self.rng.chance(1, 2) {
                        self.rng.element()
                    } else {
                        self.rng.bytes(size * 7)
                    };
                    cmd!(self.c, "SET", k, v);
                }
                "list" => {
                    let v: Vec<Vec<u8>> = (0..size).map(|i| elem(&mut self.rng, i)).collect();
                    self.rpush(&k, &v);
                }
                "set" => {
                    let v: Vec<Vec<u8>> = (0..size).map(|i| elem(&mut self.rng, i)).collect();
                    self.sadd(&k, &v);
                }
                "zset" => {
                    let v: Vec<(String, Vec<u8>)> = (0..size)
                        .map(|i| (self.rng.score(), elem(&mut self.rng, i)))
                        .collect();
                    self.zadd(&k, &v);
                }
                "hash" => {
                    let v: Vec<(Vec<u8>, Vec<u8>)> = (0..size)
                        .map(|i| (elem(&mut self.rng, i), elem(&mut self.rng, i)))
                        .collect();
                    self.hset(&k, &v);
                }
                _ => {
                    let mut ids = Vec::new();
                    for i in 0..size.min(200) {
                        let fields = self.stream_fields();
                        ids.push(self.xadd(
                            &k,
                            &format!("{}-{}", 1 + i as u64 * 2, i % 3),
                            &fields,
                        ));
                    }
                    if self.rng.chance(1, 2) {
                        cmd!(self.c, "XGROUP", "CREATE", k, "g", "0");
                        let count = self.rng.range(1, 20) as u64;
                        self.xreadgroup(&k, b"g", b"c", count, ">");
                    }
                    if ids.len() > 3 && self.rng.chance(1, 2) {
                        let victim = ids[self.rng.below(ids.len() as u64) as usize].clone();
                        cmd!(self.c, "XDEL", k, victim);
                    }
                }
            }
            self.done(ty, &k);
        }
    }

    fn select(&mut self, db: u32) {
        if self.cur_db != db {
            cmd!(self.c, "SELECT", db);
            self.cur_db = db;
        }
    }

    /// Next key, spreading keys over DBS round-robin; selects its db.
    fn key(&mut self, label: &str) -> Vec<u8> {
        let db = DBS[self.counter % DBS.len()];
        self.counter += 1;
        self.select(db);
        format!("{label}:{}", self.counter).into_bytes()
    }

    /// Called after each key is written: gives the first key of every type
    /// an expire and about a quarter of the rest.
    fn done(&mut self, ty: &'static str, key: &[u8]) {
        if self.expired_types.insert(ty) || self.rng.chance(1, 4) {
            let at = if self.rng.chance(1, 10) {
                253_402_300_799_999 // 9999-12-31T23:59:59.999Z
            } else {
                FAR_FUTURE_MS + self.rng.below(100_000_000_000) as i64
            };
            assert_eq!(cmd!(self.c, "PEXPIREAT", key, at).int(), 1);
        }
    }

    fn rpush(&mut self, key: &[u8], elems: &[Vec<u8>]) {
        // Batched so huge lists do not become one giant command.
        for chunk in elems.chunks(500) {
            let mut args = vec![b"RPUSH".to_vec(), key.to_vec()];
            args.extend(chunk.iter().cloned());
            self.c.ok(args);
        }
    }

    /// Keys whose *names* are unusual: empty, binary, invalid UTF-8, unicode.
    fn special_key_names(&mut self) {
        self.select(0);
        cmd!(self.c, "SET", "", "value of the empty key");
        self.done("string", b"");
        self.select(1);
        let bin = b"\x00bin\xffkey\r\n".to_vec();
        cmd!(self.c, "HSET", bin, "f", "v", "\x00", "\u{1F511}");
        self.select(7);
        cmd!(self.c, "ZADD", "ключ-🔑-zset", 1, "a", 2, "b");
        self.done("zset", "ключ-🔑-zset".as_bytes());
        self.select(15);
        let invalid = b"\xc3\x28invalid-utf8\xfe".to_vec();
        cmd!(self.c, "RPUSH", invalid, "x", "y");
        self.done("list", &invalid);
        self.select(0);
        cmd!(self.c, "SADD", "\u{1F600}", "1", "2");
        let sk = b"\xff\xff stream".to_vec();
        cmd!(self.c, "XADD", sk, "1-1", "f", "v");
        self.done("stream", &sk);
    }

    fn strings(&mut self) {
        let mut vals: Vec<Vec<u8>> = Vec::new();
        // Integer-looking values: the server keeps them as "int" objects and
        // the RDB writer uses the INT8/16/32 string encodings where they fit.
        for s in [
            "0",
            "1",
            "-1",
            "-5",
            "-128",
            "127",
            "128",
            "-32768",
            "32767",
            "65535",
            "-2147483648",
            "2147483647",
            "4294967296",
            "12345678901",
            "-100000",
        ] {
            vals.push(s.into());
        }
        vals.push(i64::MIN.to_string().into_bytes());
        vals.push(i64::MAX.to_string().into_bytes());
        for _ in 0..6 {
            vals.push(self.rng.int_of_random_width().to_string().into_bytes());
        }
        // Look like integers but are not canonical: must stay byte-exact.
        for s in [
            "-0",
            "007",
            "+5",
            " 1",
            "1.5",
            "1e3",
            "9223372036854775808",
            "-9223372036854775809",
        ] {
            vals.push(s.into());
        }
        // Short strings (embstr).
        vals.push(b"hello".to_vec());
        for _ in 0..3 {
            vals.push(self.rng.word(1, 20));
        }
        // > 20 bytes and compressible: LZF when rdbcompression is on.
        vals.push(b"x".repeat(21));
        vals.push(b"abc".repeat(30));
        vals.push(b"012345678901234567890".to_vec()); // 21 digits: not an int
        vals.push(b"the quick brown fox jumps over the lazy dog; ".repeat(120));
        // Incompressible random bytes (LZF attempt fails, stored raw).
        vals.push(self.rng.bytes(64));
        vals.push(self.rng.bytes(4000));
        // Binary, invalid UTF-8, unicode, empty.
        vals.push(b"\x00\xff\x00abc\xff\x00".to_vec());
        vals.push(b"\xc3\x28".to_vec());
        vals.push(b"\xff\xfe\xfd".to_vec());
        vals.push(b"ok\x80end".to_vec());
        vals.push(b"\xed\xa0\x80".to_vec()); // UTF-16 surrogate: invalid UTF-8
        vals.push("héllo wörld ✓ 🔑".as_bytes().to_vec());
        vals.push(Vec::new());
        // ~200 KB: a compressible one (words from a small vocabulary) and a
        // 64 KB incompressible one.
        let vocab: Vec<Vec<u8>> = (0..50).map(|_| self.rng.word(2, 9)).collect();
        let mut big = Vec::new();
        while big.len() < 200 * 1024 {
            let w = self.rng.pick(&vocab).clone();
            big.extend_from_slice(&w);
            big.push(b' ');
        }
        vals.push(big);
        vals.push(self.rng.bytes(64 * 1024));

        for v in vals {
            let k = self.key("str");
            cmd!(self.c, "SET", k, v);
            self.done("string", &k);
        }

        // Strings produced by modifying commands (raw encoding, zero padding).
        let k = self.key("str:append");
        cmd!(self.c, "SET", k, "start");
        for _ in 0..5 {
            let w = self.rng.word(3, 10);
            cmd!(self.c, "APPEND", k, w);
        }
        self.done("string", &k);
        let k = self.key("str:setrange");
        cmd!(self.c, "SETRANGE", k, 37, "tail\x00after-nul");
        self.done("string", &k);
        let k = self.key("str:incr");
        cmd!(self.c, "INCRBY", k, -123456);
        self.done("string", &k);
        let k = self.key("str:incrbyfloat");
        cmd!(self.c, "INCRBYFLOAT", k, "3.0e3");
        self.done("string", &k);
        let k = self.key("str:setbit");
        cmd!(self.c, "SETBIT", k, 1001, 1);
        self.done("string", &k);
    }

    fn lists(&mut self) {
        // Small list: a single listpack node.
        let k = self.key("list:small");
        let elems: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            b"1".to_vec(),
            b"-2".to_vec(),
            Vec::new(),
            "héllo".into(),
            b"\x00\xff".to_vec(),
        ];
        self.rpush(&k, &elems);
        self.done("list", &k);

        // Every listpack integer width and string-length header width.
        let mut widths: Vec<Vec<u8>> = Vec::new();
        for i in [
            0i64,
            1,
            63,
            64,
            127,
            128,
            -1,
            -64,
            4095,
            -4096,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            -32769,
            8_388_607,
            -8_388_608,
            8_388_608,
            -8_388_609,
            2_147_483_647,
            -2_147_483_648,
            2_147_483_648,
            -2_147_483_649,
            i64::MAX,
            i64::MIN,
        ] {
            widths.push(i.to_string().into_bytes());
        }
        for n in [63usize, 64, 4095, 4096] {
            widths.push(self.rng.word(n, n));
        }
        for s in ["007", "-0", "+1", "9223372036854775808"] {
            widths.push(s.into());
        }
        let k = self.key("list:widths");
        self.rpush(&k, &widths);
        self.done("list", &k);

        // Built with LPUSH (order reversed) and edited in the middle.
        let k = self.key("list:lpush");
        for i in 0..40 {
            cmd!(self.c, "LPUSH", k, format!("item-{i}"));
        }
        cmd!(self.c, "LINSERT", k, "BEFORE", "item-20", "inserted");
        cmd!(self.c, "LSET", k, 3, "replaced");
        cmd!(self.c, "LREM", k, 0, "item-7");
        self.done("list", &k);

        // Large random list: many quicklist nodes, trimmed at both ends.
        let k = self.key("list:large");
        let elems: Vec<Vec<u8>> = (0..3000).map(|_| self.rng.element()).collect();
        self.rpush(&k, &elems);
        cmd!(self.c, "LTRIM", k, 7, -5);
        self.done("list", &k);

        // Highly compressible elements: with list-compress-depth > 0 the inner
        // nodes are LZF-compressed in memory and saved as LZF blobs.
        let k = self.key("list:compressible");
        let elems: Vec<Vec<u8>> = (0..400)
            .map(|i| format!("compressible-element-{i:04}-{}", "z".repeat(40)).into_bytes())
            .collect();
        self.rpush(&k, &elems);
        self.done("list", &k);
        if self.compress_depth > 0 {
            self.probes.push(Probe::Compressed {
                db: self.cur_db,
                key: k,
            });
        }

        // Elements above the packed threshold become PLAIN quicklist nodes.
        cmd!(self.c, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", 1000);
        let k = self.key("list:plain");
        let rand5000 = self.rng.bytes(5000);
        let rand1001 = self.rng.bytes(1001);
        let elems: Vec<Vec<u8>> = vec![
            b"head".to_vec(),
            b"p".repeat(1500),
            rand5000,
            b"mid".to_vec(),
            rand1001,
            b"q".repeat(3000),
            b"tail".to_vec(),
        ];
        self.rpush(&k, &elems);
        cmd!(self.c, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", 0); // 0 = back to default
        self.done("list", &k);
        // 4 PLAIN nodes, and the small elements around them cannot share them.
        self.probes.push(Probe::Plain {
            db: self.cur_db,
            key: k,
            min_nodes: 7,
        });

        // Binary elements only.
        let k = self.key("list:binary");
        let elems: Vec<Vec<u8>> = (0..20).map(|i| self.rng.bytes(i * 3)).collect();
        self.rpush(&k, &elems);
        self.done("list", &k);
    }

    fn sadd(&mut self, key: &[u8], members: &[Vec<u8>]) {
        for chunk in members.chunks(500) {
            let mut args = vec![b"SADD".to_vec(), key.to_vec()];
            args.extend(chunk.iter().cloned());
            self.c.ok(args);
        }
    }

    fn sets(&mut self) {
        let ints = |xs: &[i64]| -> Vec<Vec<u8>> {
            xs.iter().map(|i| i.to_string().into_bytes()).collect()
        };
        // Intsets of each width, each <= 8 members so they stay intsets even
        // with set-max-intset-entries 8.
        let k = self.key("set:int16");
        self.sadd(&k, &ints(&[1, 2, 3, -5, 1000, 32767, -32768]));
        self.done("set", &k);
        let k = self.key("set:int32");
        self.sadd(&k, &ints(&[1, 100_000, -2_147_483_648, 2_147_483_647, 7]));
        self.done("set", &k);
        let k = self.key("set:int64");
        self.sadd(&k, &ints(&[1, 1 << 40, i64::MIN, i64::MAX, -3]));
        self.done("set", &k);
        let k = self.key("set:int-shrunk");
        self.sadd(&k, &ints(&[10, 20, 30, 1 << 33]));
        cmd!(self.c, "SREM", k, 20);
        self.done("set", &k);
        let k = self.key("set:single");
        self.sadd(&k, &ints(&[42]));
        self.done("set", &k);

        // Strings => hashtable.
        let k = self.key("set:strings");
        let mut m: Vec<Vec<u8>> = (0..12).map(|_| self.rng.word(1, 12)).collect();
        m.extend([
            Vec::new(),
            b"\x00\xff".to_vec(),
            "ünï".into(),
            b"007".to_vec(),
            b"\xc3\x28".to_vec(),
        ]);
        self.sadd(&k, &m);
        self.done("set", &k);
        let k = self.key("set:mixed");
        let m: Vec<Vec<u8>> = (0..30).map(|_| self.rng.element()).collect();
        self.sadd(&k, &m);
        self.done("set", &k);

        // 20 ints: intset by default, hashtable with set-max-intset-entries 8.
        let k = self.key("set:ints20");
        let m: Vec<Vec<u8>> = (0..20)
            .map(|_| self.rng.int_of_random_width().to_string().into_bytes())
            .collect();
        self.sadd(&k, &m);
        self.done("set", &k);
        // > 512 ints => hashtable even with default config.
        let k = self.key("set:ints-big");
        let m: Vec<Vec<u8>> = (0..700)
            .map(|_| self.rng.int_of_random_width().to_string().into_bytes())
            .collect();
        self.sadd(&k, &m);
        self.done("set", &k);
    }

    fn zadd(&mut self, key: &[u8], pairs: &[(String, Vec<u8>)]) {
        for chunk in pairs.chunks(250) {
            let mut args = vec![b"ZADD".to_vec(), key.to_vec()];
            for (s, m) in chunk {
                args.push(s.clone().into_bytes());
                args.push(m.clone());
            }
            self.c.ok(args);
        }
    }

    fn zsets(&mut self) {
        let p = |s: &str, m: &[u8]| (s.to_string(), m.to_vec());
        // Small: listpack in every round (<= 4 members, short members).
        let k = self.key("zset:small");
        self.zadd(&k, &[p("1", b"a"), p("2.5", b"b"), p("-3", b"c")]);
        self.done("zset", &k);
        let k = self.key("zset:special-small");
        self.zadd(
            &k,
            &[
                p("inf", b"pinf"),
                p("-inf", b"ninf"),
                p("-0", b"negzero"),
                p("5e-324", b"denorm"),
            ],
        );
        self.done("zset", &k);

        // Every special score; listpack by default, skiplist with entries 4.
        let k = self.key("zset:special");
        self.zadd(
            &k,
            &[
                p("inf", b"pinf"),
                p("-inf", b"ninf"),
                p("-0", b"negzero"),
                p("0", b"zero"),
                p("1e300", b"huge"),
                p("-1e300", b"neghuge"),
                p("5e-324", b"denorm"),
                p("0.1", b"tenth"),
                p("-1.5e-10", b"tiny-neg"),
                p("3.141592653589793", b"pi"),
                p("42", b"int"),
                p("-7", b"negint"),
                p("9007199254740993", b"2^53+1"),
                p("1e15", b"1e15"),
                p("123456789012", b"int-40bit"),
            ],
        );
        cmd!(self.c, "ZINCRBY", k, "0.25", "int");
        self.done("zset", &k);

        // > 128 members => skiplist.
        let k = self.key("zset:big");
        let pairs: Vec<(String, Vec<u8>)> = (0..300)
            .map(|i| {
                let mut m = self.rng.element();
                m.extend_from_slice(format!("#{i}").as_bytes()); // unique
                (self.rng.score(), m)
            })
            .collect();
        self.zadd(&k, &pairs);
        self.done("zset", &k);

        // A member longer than zset-max-listpack-value (64) => skiplist.
        let k = self.key("zset:long-member");
        let long = self.rng.word(100, 100);
        self.zadd(&k, &[p("1", b"short"), p("2", &long), p("-1.25", b"x")]);
        self.done("zset", &k);

        // Binary / empty / unicode members, random scores.
        let k = self.key("zset:binary");
        let members: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\x00".to_vec(),
            b"\xff\xfe".to_vec(),
            "ünï✓".into(),
            self.rng.bytes(30),
        ];
        let pairs: Vec<(String, Vec<u8>)> =
            members.into_iter().map(|m| (self.rng.score(), m)).collect();
        self.zadd(&k, &pairs);
        self.done("zset", &k);

        let k = self.key("zset:random");
        let pairs: Vec<(String, Vec<u8>)> = (0..40)
            .map(|_| (self.rng.score(), self.rng.element()))
            .collect();
        self.zadd(&k, &pairs);
        self.done("zset", &k);
    }

    fn hset(&mut self, key: &[u8], pairs: &[(Vec<u8>, Vec<u8>)]) {
        for chunk in pairs.chunks(250) {
            let mut args = vec![b"HSET".to_vec(), key.to_vec()];
            for (f, v) in chunk {
                args.push(f.clone());
                args.push(v.clone());
            }
            self.c.ok(args);
        }
    }

    fn hashes(&mut self) {
        let p = |f: &[u8], v: &[u8]| (f.to_vec(), v.to_vec());
        // Small: listpack in every round (<= 4 fields).
        let k = self.key("hash:tiny");
        self.hset(&k, &[p(b"f1", b"v1"), p(b"n", b"123"), p(b"", b"")]);
        self.done("hash", &k);
        // listpack by default, hashtable with hash-max-listpack-entries 4.
        let k = self.key("hash:small");
        self.hset(
            &k,
            &[
                p(b"f1", b"v1"),
                p(b"n", b"123"),
                p(b"neg", b"-5"),
                p(b"", b""),
                p(b"\x00bin\xff", b"\xff"),
                p("ключ".as_bytes(), "значение".as_bytes()),
                p(b"1", b"2"),
                p(b"-100", b"9223372036854775807"),
                p(b"007", b"-0"),
            ],
        );
        cmd!(self.c, "HINCRBY", k, "n", 1000);
        cmd!(self.c, "HDEL", k, "f1");
        self.done("hash", &k);

        // > 512 fields => hashtable.
        let k = self.key("hash:big");
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..700)
            .map(|i| {
                let mut f = self.rng.element();
                f.extend_from_slice(format!("#{i}").as_bytes());
                (f, self.rng.element())
            })
            .collect();
        self.hset(&k, &pairs);
        self.done("hash", &k);

        // A value longer than hash-max-listpack-value (64) => hashtable.
        let k = self.key("hash:long-value");
        let long = self.rng.word(100, 100);
        self.hset(&k, &[p(b"a", b"1"), p(b"long", &long)]);
        self.done("hash", &k);

        // Binary fields and values.
        let k = self.key("hash:binary");
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..4)
            .map(|i| (self.rng.bytes(i + 1), self.rng.bytes(i * 5)))
            .collect();
        self.hset(&k, &pairs);
        self.done("hash", &k);

        let k = self.key("hash:random");
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..60)
            .map(|_| (self.rng.element(), self.rng.element()))
            .collect();
        self.hset(&k, &pairs);
        self.done("hash", &k);
    }

    /// XADD with an explicit id; returns the id the server assigned.
    fn xadd(&mut self, key: &[u8], id: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut args = vec![b"XADD".to_vec(), key.to_vec(), id.as_bytes().to_vec()];
        for (f, v) in fields {
            args.push(f.clone());
            args.push(v.clone());
        }
        self.c.ok(args).bytes()
    }

    /// Random field set: often the same fields as the node's master entry
    /// (the "same fields" compression), sometimes a random subset.
    fn stream_fields(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        if self.rng.chance(1, 2) {
            vec![
                (b"name".to_vec(), self.rng.word(3, 8)),
                (
                    b"age".to_vec(),
                    self.rng.range(0, 120).to_string().into_bytes(),
                ),
                (
                    b"score".to_vec(),
                    self.rng.int_of_random_width().to_string().into_bytes(),
                ),
            ]
        } else {
            let pool: [&[u8]; 7] = [
                b"name",
                b"age",
                b"city",
                b"bin\x00",
                b"n",
                b"\xff",
                b"long-field-name",
            ];
            let n = self.rng.range(1, 4) as usize;
            let mut used = BTreeSet::new();
            let mut out = Vec::new();
            for _ in 0..n {
                let f = *self.rng.pick(&pool);
                if used.insert(f) {
                    out.push((f.to_vec(), self.rng.element()));
                }
            }
            out
        }
    }

    /// XREADGROUP ... COUNT n STREAMS key <from>; returns delivered ids.
    fn xreadgroup(
        &mut self,
        key: &[u8],
        group: &[u8],
        consumer: &[u8],
        count: u64,
        from: &str,
    ) -> Vec<Vec<u8>> {
        let r = cmd!(
            self.c,
            "XREADGROUP",
            "GROUP",
            group,
            consumer,
            "COUNT",
            count,
            "STREAMS",
            key,
            from
        );
        let mut ids = Vec::new();
        for stream in r.items() {
            for entry in stream.items()[1].items() {
                ids.push(entry.items()[0].bytes());
            }
        }
        ids
    }

    fn streams(&mut self) {
        // 1. Basic stream: explicit ids, mixed field sets, deletions
        //    (including the first entry, which moves first_id).
        let k = self.key("stream:basic");
        let mut ids = Vec::new();
        let mut ms = 1000u64;
        for i in 0..30 {
            let fields = self.stream_fields();
            let id = if i % 7 == 3 {
                format!("{ms}-*") // explicit ms, auto sequence
            } else {
                format!("{ms}-{}", self.rng.below(3))
            };
            ids.push(self.xadd(&k, &id, &fields));
            ms += 1 + self.rng.below(1000);
        }
        cmd!(self.c, "XADD", k, format!("{ms}-0"), "empty-value", "");
        cmd!(self.c, "XDEL", k, ids[0], ids[10], ids[11]);
        self.done("stream", &k);

        // 2. Big stream: several listpack nodes, three groups with PELs.
        let k = self.key("stream:groups");
        let mut ids = Vec::new();
        let (mut ms, mut seq) = (1_600_000_000_000u64, 0u64);
        for _ in 0..320 {
            let fields = self.stream_fields();
            ids.push(self.xadd(&k, &format!("{ms}-{seq}"), &fields));
            if self.rng.chance(1, 3) {
                seq += 1;
            } else {
                ms += 1 + self.rng.below(5000);
                seq = 0;
            }
        }
        let mid = String::from_utf8(ids[100].clone()).unwrap();
        cmd!(self.c, "XGROUP", "CREATE", k, "g1", "0");
        cmd!(self.c, "XGROUP", "CREATE", k, "g2", "$");
        cmd!(self.c, "XGROUP", "CREATE", k, "g3-grüppe", mid);
        cmd!(
            self.c,
            "XGROUP",
            "CREATE",
            k,
            "g4-entriesread",
            ids[50],
            "ENTRIESREAD",
            42
        );
        let alice = self.xreadgroup(&k, "g1".as_bytes(), "alice".as_bytes(), 10, ">");
        let _bob = self.xreadgroup(&k, "g1".as_bytes(), "bob".as_bytes(), 7, ">");
        let _carol = self.xreadgroup(&k, "g1".as_bytes(), "cárol-✓".as_bytes(), 3, ">");
        cmd!(self.c, "XACK", k, "g1", alice[0], alice[2], alice[4]);
        // Ownership change and delivery count 2.
        cmd!(self.c, "XCLAIM", k, "g1", "bob", 0, alice[6]);
        // Re-reading one's own PEL bumps delivery counts again.
        self.xreadgroup(&k, "g1".as_bytes(), "alice".as_bytes(), 2, "0");
        cmd!(self.c, "XGROUP", "CREATECONSUMER", k, "g2", "idle-consumer");
        self.xreadgroup(&k, "g3-grüppe".as_bytes(), "dave".as_bytes(), 4, ">");
        self.xreadgroup(&k, "g4-entriesread".as_bytes(), "erin".as_bytes(), 1, ">");
        // Trim the head (some pending entries are now gone from the stream)
        // and delete a few in the middle.
        cmd!(self.c, "XTRIM", k, "MAXLEN", 280);
        cmd!(self.c, "XDEL", k, ids[150], ids[151], ids[200]);
        self.done("stream", &k);

        // 3. Tiny nodes: stream-node-max-entries 5 => many listpack nodes.
        cmd!(self.c, "CONFIG", "SET", "stream-node-max-entries", 5);
        let k = self.key("stream:small-nodes");
        let mut ids = Vec::new();
        for i in 0..37u64 {
            let fields = self.stream_fields();
            ids.push(self.xadd(&k, &format!("{}-{}", 5_000 + i * 3, i % 2), &fields));
        }
        let restore = self.stream_node_max_entries.clone();
        cmd!(self.c, "CONFIG", "SET", "stream-node-max-entries", restore);
        cmd!(self.c, "XDEL", k, ids[5], ids[6], ids[7], ids[8], ids[9], ids[36]);
        cmd!(self.c, "XGROUP", "CREATE", k, "g", "0");
        self.xreadgroup(&k, "g".as_bytes(), "c1".as_bytes(), 12, ">");
        self.done("stream", &k);

        // 4. Empty stream created by XGROUP ... MKSTREAM.
        let k = self.key("stream:mkstream");
        cmd!(self.c, "XGROUP", "CREATE", k, "g", "$", "MKSTREAM");
        self.done("stream", &k);

        // 5. Entries all trimmed away, but a group's PEL still refers to them.
        let k = self.key("stream:trimmed-empty");
        for i in 1..=3 {
            cmd!(self.c, "XADD", k, format!("{i}-0"), "f", i);
        }
        cmd!(self.c, "XGROUP", "CREATE", k, "g", "0");
        self.xreadgroup(&k, "g".as_bytes(), "c".as_bytes(), 2, ">");
        cmd!(self.c, "XTRIM", k, "MAXLEN", 0);
        self.done("stream", &k);

        // 6. XSETID with explicit entries-added / max-deleted-id.
        let k = self.key("stream:setid");
        cmd!(self.c, "XADD", k, "1-1", "a", "b");
        cmd!(
            self.c,
            "XSETID",
            k,
            "5000-0",
            "ENTRIESADDED",
            100,
            "MAXDELETEDID",
            "4000-0"
        );
        self.done("stream", &k);

        // 7. Auto ids, approximate trimming while adding, binary names.
        let k = self.key("stream:auto");
        for _ in 0..150 {
            let v = self.rng.element();
            cmd!(
                self.c,
                "XADD",
                k,
                "MAXLEN",
                "~",
                60,
                "*",
                b"\x00field\xff",
                v
            );
        }
        // Binary group name, unicode consumer name.
        cmd!(self.c, "XGROUP", "CREATE", k, b"\xffgroup", "0");
        self.xreadgroup(&k, b"\xffgroup", "\u{1F600}".as_bytes(), 5, ">");
        self.done("stream", &k);
    }
}

fn config_get(c: &mut Conn, name: &str) -> String {
    let r = cmd!(c, "CONFIG", "GET", name);
    let items = r.items();
    assert_eq!(items.len(), 2, "CONFIG GET {name}: {r:?}");
    items[1].text()
}

// ===========================================================================
// Minimal JSON reader
// ===========================================================================

/// A small strict JSON parser that keeps numbers as their source text.
///
/// serde_json (without its `float_roundtrip` feature) parses 17-digit floats
/// with up to 1 ULP of error, which would make exact zset score comparisons
/// flaky; keeping the text and using `str::parse::<f64>` (correctly rounded)
/// avoids that. It also rejects duplicate object keys.
mod json {
    use std::collections::BTreeMap;
    use std::fmt;

    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        /// Source text, validated against the JSON number grammar.
        Number(String),
        String(String),
        Array(Vec<Value>),
        Object(BTreeMap<String, Value>),
    }

    impl Value {
        pub fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(s) => Some(s),
                _ => None,
            }
        }
        pub fn as_array(&self) -> Option<&Vec<Value>> {
            match self {
                Value::Array(a) => Some(a),
                _ => None,
            }
        }
        pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
            match self {
                Value::Object(o) => Some(o),
                _ => None,
            }
        }
        /// Integers only ("1.0" and "1e3" are not accepted).
        pub fn as_u64(&self) -> Option<u64> {
            match self {
                Value::Number(n) => n.parse().ok(),
                _ => None,
            }
        }
        pub fn as_i64(&self) -> Option<i64> {
            match self {
                Value::Number(n) => n.parse().ok(),
                _ => None,
            }
        }
    }

    impl fmt::Display for Value {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Value::Null => f.write_str("null"),
                Value::Bool(b) => write!(f, "{b}"),
                Value::Number(n) => f.write_str(n),
                Value::String(s) => write!(f, "{s:?}"),
                Value::Array(a) => {
                    f.write_str("[")?;
                    for (i, v) in a.iter().enumerate() {
                        write!(f, "{}{v}", if i > 0 { "," } else { "" })?;
                    }
                    f.write_str("]")
                }
                Value::Object(o) => {
                    f.write_str("{")?;
                    for (i, (k, v)) in o.iter().enumerate() {
                        write!(f, "{}{k:?}:{v}", if i > 0 { "," } else { "" })?;
                    }
                    f.write_str("}")
                }
            }
        }
    }

    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at byte {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn err<T>(&self, what: &str) -> Result<T, String> {
            Err(format!("{what} at byte {}", self.i))
        }
        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> bool {
            self.ws();
            if self.s.get(self.i) == Some(&c) {
                self.i += 1;
                true
            } else {
                false
            }
        }
        fn lit(&mut self, word: &str, v: Value) -> Result<Value, String> {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                self.err("invalid literal")
            }
        }
        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > 64 {
                return self.err("nesting too deep");
            }
            self.ws();
            match self.s.get(self.i) {
                None => self.err("unexpected end"),
                Some(b'n') => self.lit("null", Value::Null),
                Some(b't') => self.lit("true", Value::Bool(true)),
                Some(b'f') => self.lit("false", Value::Bool(false)),
                Some(b'"') => Ok(Value::String(self.string()?)),
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    if self.eat(b']') {
                        return Ok(Value::Array(a));
                    }
                    loop {
                        a.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            return Ok(Value::Array(a));
                        }
                        if !self.eat(b',') {
                            return self.err("expected , or ]");
                        }
                    }
                }
                Some(b'{') => {
                    self.i += 1;
                    let mut o = BTreeMap::new();
                    if self.eat(b'}') {
                        return Ok(Value::Object(o));
                    }
                    loop {
                        self.ws();
                        if self.s.get(self.i) != Some(&b'"') {
                            return self.err("expected object key");
                        }
                        let k = self.string()?;
                        if !self.eat(b':') {
                            return self.err("expected :");
                        }
                        let v = self.value(depth + 1)?;
                        if o.insert(k.clone(), v).is_some() {
                            return self.err(&format!("duplicate key {k:?}"));
                        }
                        if self.eat(b'}') {
                            return Ok(Value::Object(o));
                        }
                        if !self.eat(b',') {
                            return self.err("expected , or }");
                        }
                    }
                }
                Some(b'-' | b'0'..=b'9') => self.number(),
                Some(_) => self.err("unexpected character"),
            }
        }
        fn digits(&mut self) -> usize {
            let start = self.i;
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            self.i - start
        }
        fn number(&mut self) -> Result<Value, String> {
            let start = self.i;
            if self.s[self.i] == b'-' {
                self.i += 1;
            }
            let int_start = self.i;
            let n = self.digits();
            if n == 0 || (n > 1 && self.s[int_start] == b'0') {
                return self.err("bad number");
            }
            if self.s.get(self.i) == Some(&b'.') {
                self.i += 1;
                if self.digits() == 0 {
                    return self.err("bad fraction");
                }
            }
            if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if self.digits() == 0 {
                    return self.err("bad exponent");
                }
            }
            Ok(Value::Number(
                std::str::from_utf8(&self.s[start..self.i])
                    .unwrap()
                    .to_string(),
            ))
        }
        fn hex4(&mut self) -> Result<u32, String> {
            let h = self
                .s
                .get(self.i..self.i + 4)
                .ok_or("truncated \\u escape")?;
            let v = u32::from_str_radix(std::str::from_utf8(h).map_err(|e| e.to_string())?, 16)
                .map_err(|_| format!("bad \\u escape at byte {}", self.i))?;
            self.i += 4;
            Ok(v)
        }
        fn string(&mut self) -> Result<String, String> {
            self.i += 1; // opening quote
            let mut out = String::new();
            loop {
                let start = self.i;
                while let Some(&c) = self.s.get(self.i) {
                    if c == b'"' || c == b'\\' || c < 0x20 {
                        break;
                    }
                    self.i += 1;
                }
                // The input is a &str, so this slice is valid UTF-8.
                out.push_str(std::str::from_utf8(&self.s[start..self.i]).unwrap());
                match self.s.get(self.i) {
                    None => return self.err("unterminated string"),
                    Some(b'"') => {
                        self.i += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        let e = *self.s.get(self.i).ok_or("truncated escape")?;
                        self.i += 1;
                        match e {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let hi = self.hex4()?;
                                let cp = if (0xD800..0xDC00).contains(&hi) {
                                    if !self.s[self.i..].starts_with(b"\\u") {
                                        return self.err("lone high surrogate");
                                    }
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return self.err("bad low surrogate");
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    hi
                                };
                                match char::from_u32(cp) {
                                    Some(ch) => out.push(ch),
                                    None => return self.err("lone low surrogate"),
                                }
                            }
                            _ => return self.err("bad escape"),
                        }
                    }
                    Some(_) => return self.err("raw control character in string"),
                }
            }
        }
    }
}

// ===========================================================================
// Dump parsing
// ===========================================================================

fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    let val = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("invalid base64 character {:?}", c as char)),
        })
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        if chunk.len() == 1 {
            return Err("truncated base64".into());
        }
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        out.push((acc >> 16) as u8);
        if chunk.len() > 2 {
            out.push((acc >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(acc as u8);
        }
    }
    Ok(out)
}

/// Decodes the dump's byte-string representation: a JSON string for valid
/// UTF-8, else `{"base64": "..."}`. Base64 for valid UTF-8 is an error.
fn jbytes(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(m) if m.len() == 1 => {
            let s = m
                .get("base64")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("bad byte string {v}"))?;
            let b = b64_decode(s)?;
            if std::str::from_utf8(&b).is_ok() {
                return Err(format!("valid UTF-8 {:?} encoded as base64", show(&b, 40)));
            }
            Ok(b)
        }
        _ => Err(format!(
            "expected string or {{\"base64\":..}}, got {}",
            trunc(&v.to_string(), 80)
        )),
    }
}

fn jarr(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("expected array, got {}", trunc(&v.to_string(), 80)))
}

fn jpair(v: &Value) -> Result<(&Value, &Value), String> {
    match jarr(v)?.as_slice() {
        [a, b] => Ok((a, b)),
        _ => Err(format!(
            "expected 2-element array, got {}",
            trunc(&v.to_string(), 80)
        )),
    }
}

fn jstr(v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("expected string, got {v}"))
}

fn ju64(v: &Value) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("expected unsigned integer, got {v}"))
}

fn jopt<T>(
    v: Option<&Value>,
    f: impl Fn(&Value) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => f(v).map(Some),
    }
}

fn jscore(v: &Value) -> Result<f64, String> {
    match v {
        // Correctly rounded parse of the number's text.
        Value::Number(n) => n.parse::<f64>().map_err(|e| format!("bad score {n}: {e}")),
        Value::String(s) if s == "inf" => Ok(f64::INFINITY),
        Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        _ => Err(format!("bad score {v}")),
    }
}

// ===========================================================================
// Normalized values (built from both the server and the dump)
// ===========================================================================

#[derive(Debug, PartialEq)]
enum Val {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    /// Sorted.
    Set(Vec<Vec<u8>>),
    ZSet(BTreeMap<Vec<u8>, f64>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Stream(Stream),
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Debug, PartialEq)]
struct Stream {
    entries: Vec<(String, Fields)>,
    length: u64,
    last_id: String,
    first_id: Option<String>,
    max_deleted_id: Option<String>,
    entries_added: Option<u64>,
    /// Sorted by name.
    groups: Vec<Group>,
}

#[derive(Debug, PartialEq)]
struct Group {
    name: Vec<u8>,
    last_delivered_id: String,
    entries_read: Option<u64>,
    /// (id, consumer, delivery_time_ms, delivery_count), sorted by id.
    pending: Vec<(String, Vec<u8>, u64, u64)>,
    /// Sorted by name.
    consumers: Vec<Consumer>,
}

#[derive(Debug, PartialEq)]
struct Consumer {
    name: Vec<u8>,
    seen_time_ms: u64,
    active_time_ms: Option<u64>,
    /// Sorted ids.
    pending: Vec<String>,
}

/// Stream ids sort numerically, not as text.
fn id_key(id: &str) -> (u64, u64) {
    let (a, b) = id.split_once('-').unwrap_or((id, "0"));
    (a.parse().unwrap_or(u64::MAX), b.parse().unwrap_or(u64::MAX))
}

fn parse_f64_reply(b: &[u8]) -> f64 {
    let s = std::str::from_utf8(b).expect("score is text");
    match s {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s
            .parse()
            .unwrap_or_else(|_| panic!("unparsable score {s:?}")),
    }
}

/// The server's view of `key`, of type `ty`.
fn server_value(c: &mut Conn, ty: &str, key: &[u8]) -> Val {
    match ty {
        "string" => Val::Str(cmd!(c, "GET", key).bytes()),
        "list" => Val::List(
            cmd!(c, "LRANGE", key, 0, -1)
                .items()
                .iter()
                .map(Resp::bytes)
                .collect(),
        ),
        "set" => {
            let mut v: Vec<Vec<u8>> = cmd!(c, "SMEMBERS", key)
                .items()
                .iter()
                .map(Resp::bytes)
                .collect();
            v.sort();
            Val::Set(v)
        }
        "zset" => {
            let r = cmd!(c, "ZRANGE", key, 0, -1, "WITHSCORES");
            Val::ZSet(
                r.items()
                    .chunks(2)
                    .map(|p| (p[0].bytes(), parse_f64_reply(&p[1].bytes())))
                    .collect(),
            )
        }
        "hash" => {
            let r = cmd!(c, "HGETALL", key);
            Val::Hash(
                r.items()
                    .chunks(2)
                    .map(|p| (p[0].bytes(), p[1].bytes()))
                    .collect(),
            )
        }
        "stream" => Val::Stream(server_stream(c, key)),
        other => panic!("unexpected type {other}"),
    }
}

fn server_stream(c: &mut Conn, key: &[u8]) -> Stream {
    let entries = cmd!(c, "XRANGE", key, "-", "+")
        .items()
        .iter()
        .map(|e| {
            let e = e.items();
            let fields = e[1]
                .items()
                .chunks(2)
                .map(|p| (p[0].bytes(), p[1].bytes()))
                .collect();
            (e[0].text(), fields)
        })
        .collect();
    // Redis 7.0 shape: flat key/value arrays. COUNT 0 = no limit on the
    // entries/PEL lists (the default is 10).
    let info = cmd!(c, "XINFO", "STREAM", key, "FULL", "COUNT", 0).flat_map();
    let get = |m: &BTreeMap<String, Resp>, k: &str| -> Resp {
        m.get(k)
            .unwrap_or_else(|| panic!("XINFO reply lacks {k:?}: {m:?}"))
            .clone()
    };
    let mut groups: Vec<Group> = get(&info, "groups")
        .items()
        .iter()
        .map(|g| {
            let g = g.flat_map();
            let mut pending: Vec<(String, Vec<u8>, u64, u64)> = get(&g, "pending")
                .items()
                .iter()
                .map(|p| {
                    let p = p.items();
                    (
                        p[0].text(),
                        p[1].bytes(),
                        p[2].int() as u64,
                        p[3].int() as u64,
                    )
                })
                .collect();
            pending.sort_by_key(|p| id_key(&p.0));
            let mut consumers: Vec<Consumer> = get(&g, "consumers")
                .items()
                .iter()
                .map(|cm| {
                    let cm = cm.flat_map();
                    let mut pending: Vec<String> = get(&cm, "pending")
                        .items()
                        .iter()
                        .map(|p| p.items()[0].text())
                        .collect();
                    pending.sort_by_key(|p| id_key(p));
                    Consumer {
                        name: get(&cm, "name").bytes(),
                        seen_time_ms: get(&cm, "seen-time").int() as u64,
                        // Only reported (and stored in the RDB) from Redis 7.2.
                        active_time_ms: cm
                            .get("active-time")
                            .and_then(Resp::opt_int)
                            .map(|t| t as u64),
                        pending,
                    }
                })
                .collect();
            consumers.sort_by(|a, b| a.name.cmp(&b.name));
            Group {
                name: get(&g, "name").bytes(),
                last_delivered_id: get(&g, "last-delivered-id").text(),
                entries_read: get(&g, "entries-read").opt_int().map(|n| n as u64),
                pending,
                consumers,
            }
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let opt_id = |r: Option<&Resp>| r.filter(|r| !r.is_nil()).map(Resp::text);
    Stream {
        entries,
        length: get(&info, "length").int() as u64,
        last_id: get(&info, "last-generated-id").text(),
        first_id: opt_id(info.get("recorded-first-entry-id")),
        max_deleted_id: opt_id(info.get("max-deleted-entry-id")),
        entries_added: info
            .get("entries-added")
            .and_then(Resp::opt_int)
            .map(|n| n as u64),
        groups,
    }
}

/// The dump's view of a value of type `ty`.
fn dump_value(ty: &str, v: &Value) -> Result<Val, String> {
    Ok(match ty {
        "string" => Val::Str(jbytes(v)?),
        "list" => Val::List(jarr(v)?.iter().map(jbytes).collect::<Result<_, _>>()?),
        "set" => {
            let mut s: Vec<Vec<u8>> = jarr(v)?.iter().map(jbytes).collect::<Result<_, _>>()?;
            s.sort();
            Val::Set(s)
        }
        "zset" => {
            let mut m = BTreeMap::new();
            for p in jarr(v)? {
                let (mem, score) = jpair(p)?;
                if m.insert(jbytes(mem)?, jscore(score)?).is_some() {
                    return Err(format!(
                        "duplicate zset member {}",
                        trunc(&mem.to_string(), 60)
                    ));
                }
            }
            Val::ZSet(m)
        }
        "hash" => {
            let mut m = BTreeMap::new();
            for p in jarr(v)? {
                let (f, val) = jpair(p)?;
                if m.insert(jbytes(f)?, jbytes(val)?).is_some() {
                    return Err(format!(
                        "duplicate hash field {}",
                        trunc(&f.to_string(), 60)
                    ));
                }
            }
            Val::Hash(m)
        }
        "stream" => Val::Stream(dump_stream(v)?),
        other => return Err(format!("unexpected type {other}")),
    })
}

fn dump_stream(v: &Value) -> Result<Stream, String> {
    let o = v.as_object().ok_or("stream value is not an object")?;
    let req = |k: &str| o.get(k).ok_or_else(|| format!("stream lacks {k:?}"));
    let mut entries = Vec::new();
    for e in jarr(req("entries")?)? {
        let (id, fields) = jpair(e)?;
        let fields = jarr(fields)?
            .iter()
            .map(|p| jpair(p).and_then(|(f, v)| Ok((jbytes(f)?, jbytes(v)?))))
            .collect::<Result<_, _>>()?;
        entries.push((jstr(id)?, fields));
    }
    let mut groups = Vec::new();
    for g in jarr(req("groups")?)? {
        let g = g.as_object().ok_or("group is not an object")?;
        let greq = |k: &str| g.get(k).ok_or_else(|| format!("group lacks {k:?}"));
        let mut pending = Vec::new();
        for p in jarr(greq("pending")?)? {
            match jarr(p)?.as_slice() {
                [id, consumer, time, count] => {
                    pending.push((jstr(id)?, jbytes(consumer)?, ju64(time)?, ju64(count)?))
                }
                _ => return Err(format!("bad PEL entry {p}")),
            }
        }
        pending.sort_by_key(|p| id_key(&p.0));
        let mut consumers = Vec::new();
        for cm in jarr(greq("consumers")?)? {
            let cm = cm.as_object().ok_or("consumer is not an object")?;
            let creq = |k: &str| cm.get(k).ok_or_else(|| format!("consumer lacks {k:?}"));
            let mut cp: Vec<String> = jarr(creq("pending")?)?
                .iter()
                .map(jstr)
                .collect::<Result<_, _>>()?;
            cp.sort_by_key(|p| id_key(p));
            consumers.push(Consumer {
                name: jbytes(creq("name")?)?,
                seen_time_ms: ju64(creq("seen_time_ms")?)?,
                active_time_ms: jopt(cm.get("active_time_ms"), ju64)?,
                pending: cp,
            });
        }
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        groups.push(Group {
            name: jbytes(greq("name")?)?,
            last_delivered_id: jstr(greq("last_delivered_id")?)?,
            entries_read: jopt(g.get("entries_read"), ju64)?,
            pending,
            consumers,
        });
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Stream {
        entries,
        length: ju64(req("length")?)?,
        last_id: jstr(req("last_id")?)?,
        first_id: jopt(o.get("first_id"), jstr)?,
        max_deleted_id: jopt(o.get("max_deleted_id"), jstr)?,
        entries_added: jopt(o.get("entries_added"), ju64)?,
        groups,
    })
}

// ===========================================================================
// Comparison
// ===========================================================================

fn trunc(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let t: String = s.chars().take(max).collect();
        format!("{t}…")
    }
}

/// Printable, truncated rendering of a byte string.
fn show(b: &[u8], max: usize) -> String {
    let shown = match std::str::from_utf8(b) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("b\"{}\"", b.escape_ascii()),
    };
    let shown = trunc(&shown, max);
    if b.len() > 40 {
        format!("{shown} ({} bytes)", b.len())
    } else {
        shown
    }
}

/// Collects every mismatch so one run reports all of them.
struct Report {
    items: Vec<String>,
}

impl Report {
    fn add(
        &mut self,
        round: &str,
        db: u32,
        key: &[u8],
        field: &str,
        expected: impl std::fmt::Display,
        got: impl std::fmt::Display,
    ) {
        self.items.push(format!(
            "[{round}] db {db} key {} {field}: expected {} got {}",
            show(key, 60),
            trunc(&expected.to_string(), 200),
            trunc(&got.to_string(), 200)
        ));
    }
    fn note(&mut self, round: &str, msg: String) {
        self.items.push(format!("[{round}] {}", trunc(&msg, 2000)));
    }
}

struct Shown<'a>(&'a [u8]);
impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&show(self.0, 80))
    }
}

/// `null` or the value, as in the dump.
fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "null".to_string(), T::to_string)
}

/// Where two sequences first differ, reported as a few focused mismatches.
fn cmp_seq<T: PartialEq>(
    r: &mut Report,
    ctx: (&str, u32, &[u8]),
    field: &str,
    exp: &[T],
    got: &[T],
    fmt: impl Fn(&T) -> String,
) {
    let (round, db, key) = ctx;
    if exp.len() != got.len() {
        r.add(
            round,
            db,
            key,
            &format!("{field} length"),
            exp.len(),
            got.len(),
        );
    }
    if let Some(i) = (0..exp.len().min(got.len())).find(|&i| exp[i] != got[i]) {
        r.add(
            round,
            db,
            key,
            &format!("{field}[{i}] (first difference)"),
            fmt(&exp[i]).as_str(),
            fmt(&got[i]).as_str(),
        );
    }
}

/// Missing / extra / differing entries of two maps (first few of each).
fn cmp_map<K: Ord, V: PartialEq>(
    r: &mut Report,
    ctx: (&str, u32, &[u8]),
    field: &str,
    exp: &BTreeMap<K, V>,
    got: &BTreeMap<K, V>,
    fk: impl Fn(&K) -> String,
    fv: impl Fn(&V) -> String,
) {
    let (round, db, key) = ctx;
    let missing: Vec<String> = exp
        .keys()
        .filter(|k| !got.contains_key(k))
        .map(&fk)
        .collect();
    let extra: Vec<String> = got
        .keys()
        .filter(|k| !exp.contains_key(k))
        .map(&fk)
        .collect();
    if !missing.is_empty() {
        r.add(
            round,
            db,
            key,
            &format!("{field}: {} missing, e.g.", missing.len()),
            missing[..missing.len().min(3)].join(", "),
            "absent",
        );
    }
    if !extra.is_empty() {
        r.add(
            round,
            db,
            key,
            &format!("{field}: {} unexpected, e.g.", extra.len()),
            "absent",
            extra[..extra.len().min(3)].join(", "),
        );
    }
    for (k, v) in exp
        .iter()
        .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
        .take(3)
    {
        r.add(
            round,
            db,
            key,
            &format!("{field}[{}]", fk(k)),
            fv(v).as_str(),
            fv(&got[k]).as_str(),
        );
    }
}

fn cmp_val(r: &mut Report, ctx: (&str, u32, &[u8]), exp: &Val, got: &Val) {
    let sb = |b: &Vec<u8>| show(b, 80);
    match (exp, got) {
        (Val::Str(e), Val::Str(g)) => {
            if e != g {
                r.add(ctx.0, ctx.1, ctx.2, "value", Shown(e), Shown(g));
            }
        }
        (Val::List(e), Val::List(g)) => cmp_seq(r, ctx, "list", e, g, sb),
        (Val::Set(e), Val::Set(g)) => {
            let e: BTreeMap<&Vec<u8>, ()> = e.iter().map(|m| (m, ())).collect();
            let g: BTreeMap<&Vec<u8>, ()> = g.iter().map(|m| (m, ())).collect();
            cmp_map(r, ctx, "set", &e, &g, |m| show(m, 80), |_| String::new());
        }
        // f64 ==: -0 equals 0 (the server prints both as "0").
        (Val::ZSet(e), Val::ZSet(g)) => cmp_map(r, ctx, "zset", e, g, sb, |s| format!("{s:e}")),
        (Val::Hash(e), Val::Hash(g)) => cmp_map(r, ctx, "hash", e, g, sb, sb),
        (Val::Stream(e), Val::Stream(g)) => cmp_stream(r, ctx, e, g),
        _ => r.add(
            ctx.0,
            ctx.1,
            ctx.2,
            "value kind",
            format!("{exp:?}"),
            format!("{got:?}"),
        ),
    }
}

fn cmp_stream(r: &mut Report, ctx: (&str, u32, &[u8]), e: &Stream, g: &Stream) {
    let (round, db, key) = ctx;
    let fmt_entry = |(id, fields): &(String, Fields)| {
        let f: Vec<String> = fields
            .iter()
            .map(|(f, v)| format!("{}={}", show(f, 30), show(v, 30)))
            .collect();
        format!("{id} {}", f.join(" "))
    };
    cmp_seq(r, ctx, "stream entries", &e.entries, &g.entries, fmt_entry);
    if e.length != g.length {
        r.add(round, db, key, "stream length", e.length, g.length);
    }
    if e.last_id != g.last_id {
        r.add(round, db, key, "stream last_id", &e.last_id, &g.last_id);
    }
    // Redis 7 files (RDB 10+) always store these, even as "0-0": the dump
    // may only use null for older files (docs/json-format.md).
    if e.first_id != g.first_id {
        r.add(
            round,
            db,
            key,
            "stream first_id",
            opt(&e.first_id),
            opt(&g.first_id),
        );
    }
    if e.max_deleted_id != g.max_deleted_id {
        r.add(
            round,
            db,
            key,
            "stream max_deleted_id",
            opt(&e.max_deleted_id),
            opt(&g.max_deleted_id),
        );
    }
    if e.entries_added != g.entries_added {
        r.add(
            round,
            db,
            key,
            "stream entries_added",
            opt(&e.entries_added),
            opt(&g.entries_added),
        );
    }
    let eg: BTreeMap<&Vec<u8>, &Group> = e.groups.iter().map(|x| (&x.name, x)).collect();
    let gg: BTreeMap<&Vec<u8>, &Group> = g.groups.iter().map(|x| (&x.name, x)).collect();
    if eg.len() != e.groups.len() || gg.len() != g.groups.len() {
        r.add(
            round,
            db,
            key,
            "stream group count (duplicates?)",
            e.groups.len(),
            g.groups.len(),
        );
    }
    for (name, eg1) in &eg {
        let gname = show(name, 40);
        let Some(gg1) = gg.get(name) else {
            r.add(
                round,
                db,
                key,
                &format!("group {gname}"),
                "present",
                "missing",
            );
            continue;
        };
        if eg1.last_delivered_id != gg1.last_delivered_id {
            r.add(
                round,
                db,
                key,
                &format!("group {gname} last_delivered_id"),
                &eg1.last_delivered_id,
                &gg1.last_delivered_id,
            );
        }
        if eg1.entries_read != gg1.entries_read {
            r.add(
                round,
                db,
                key,
                &format!("group {gname} entries_read"),
                opt(&eg1.entries_read),
                opt(&gg1.entries_read),
            );
        }
        let fmt_pel = |(id, c, t, n): &(String, Vec<u8>, u64, u64)| {
            format!("[{id}, {}, {t}, {n}]", show(c, 30))
        };
        cmp_seq(
            r,
            ctx,
            &format!("group {gname} pending"),
            &eg1.pending,
            &gg1.pending,
            fmt_pel,
        );
        let ec: BTreeMap<&Vec<u8>, &Consumer> =
            eg1.consumers.iter().map(|x| (&x.name, x)).collect();
        let gc: BTreeMap<&Vec<u8>, &Consumer> =
            gg1.consumers.iter().map(|x| (&x.name, x)).collect();
        if gc.len() != gg1.consumers.len() {
            r.add(
                round,
                db,
                key,
                &format!("group {gname} duplicate consumers"),
                ec.len(),
                gg1.consumers.len(),
            );
        }
        for (cname, ec1) in &ec {
            let cname = show(cname, 40);
            let Some(gc1) = gc.get(&ec1.name) else {
                r.add(
                    round,
                    db,
                    key,
                    &format!("group {gname} consumer {cname}"),
                    "present",
                    "missing",
                );
                continue;
            };
            if ec1.seen_time_ms != gc1.seen_time_ms {
                r.add(
                    round,
                    db,
                    key,
                    &format!("group {gname} consumer {cname} seen_time_ms"),
                    ec1.seen_time_ms,
                    gc1.seen_time_ms,
                );
            }
            if ec1.active_time_ms != gc1.active_time_ms {
                r.add(
                    round,
                    db,
                    key,
                    &format!("group {gname} consumer {cname} active_time_ms"),
                    opt(&ec1.active_time_ms),
                    opt(&gc1.active_time_ms),
                );
            }
            cmp_seq(
                r,
                ctx,
                &format!("group {gname} consumer {cname} pending"),
                &ec1.pending,
                &gc1.pending,
                |s| s.clone(),
            );
        }
        for cname in gc.keys().filter(|n| !ec.contains_key(*n)) {
            r.add(
                round,
                db,
                key,
                &format!("group {gname} consumer {}", show(cname, 40)),
                "absent",
                "present",
            );
        }
    }
    for name in gg.keys().filter(|n| !eg.contains_key(*n)) {
        r.add(
            round,
            db,
            key,
            &format!("group {}", show(name, 40)),
            "absent",
            "present",
        );
    }
}

/// One parsed dump line.
struct DumpRecord {
    ty: String,
    encoding: String,
    expire_at_ms: Option<i64>,
    value: Value,
}

/// Parses the JSON Lines output into (db, key) -> record, reporting
/// malformed lines and duplicate keys.
fn parse_dump(r: &mut Report, round: &str, stdout: &[u8]) -> HashMap<(u32, Vec<u8>), DumpRecord> {
    let mut out = HashMap::new();
    let text = match std::str::from_utf8(stdout) {
        Ok(t) => t,
        Err(e) => {
            r.note(round, format!("dump output is not UTF-8: {e}"));
            return out;
        }
    };
    for (lineno, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parsed: Result<(u32, Vec<u8>, DumpRecord), String> = (|| {
            let v: Value = json::parse(line).map_err(|e| format!("invalid JSON: {e}"))?;
            let o = v.as_object().ok_or("not a JSON object")?;
            let req = |k: &str| o.get(k).ok_or_else(|| format!("missing {k:?}"));
            let db = ju64(req("db")?)? as u32;
            let key = jbytes(req("key")?)?;
            let ty = jstr(req("type")?)?;
            let encoding = jstr(req("encoding")?)?;
            let expire_at_ms = match req("expire_at_ms")? {
                Value::Null => None,
                n => Some(n.as_i64().ok_or_else(|| format!("bad expire_at_ms {n}"))?),
            };
            let value = req("value")?.clone();
            Ok((
                db,
                key,
                DumpRecord {
                    ty,
                    encoding,
                    expire_at_ms,
                    value,
                },
            ))
        })();
        match parsed {
            Ok((db, key, rec)) => {
                if out.insert((db, key.clone()), rec).is_some() {
                    r.add(
                        round,
                        db,
                        &key,
                        "dump record",
                        "one line",
                        "duplicate lines",
                    );
                }
            }
            Err(e) => r.note(
                round,
                format!("dump line {}: {e}: {}", lineno + 1, trunc(line, 200)),
            ),
        }
    }
    out
}

/// Every key in every database of the server.
fn scan_all(c: &mut Conn, db: u32) -> Vec<Vec<u8>> {
    cmd!(c, "SELECT", db);
    let mut keys = BTreeSet::new();
    let mut cursor = b"0".to_vec();
    loop {
        let r = cmd!(c, "SCAN", cursor, "COUNT", 1000);
        let items = r.items();
        cursor = items[0].bytes();
        keys.extend(items[1].items().iter().map(Resp::bytes));
        if cursor == b"0" {
            break;
        }
    }
    keys.into_iter().collect()
}

/// What a round's comparison saw, for the coverage checks.
#[derive(Default)]
struct RoundStats {
    compared: usize,
    /// (type, OBJECT ENCODING) on the server.
    server_enc: BTreeSet<(String, String)>,
    /// (type, encoding) in the dump.
    dump_enc: BTreeSet<(String, String)>,
    /// Types with at least one key that has an expire.
    expiring_types: BTreeSet<String>,
    /// Databases holding keys.
    dbs: BTreeSet<u32>,
}

/// The `encoding` the dump should report for a Redis 7 file. Collections
/// are saved in their in-memory encoding, so it equals OBJECT ENCODING,
/// except lists: 7.2+ keeps small lists as a bare listpack in memory but
/// saves every list as a quicklist. Strings are written as RDB integers exactly when their text is the
/// canonical decimal form of a 32-bit integer (rdbTryIntegerEncoding /
/// rdbEncodeInteger), whatever the in-memory encoding (an INCRBYFLOAT result
/// is an embstr "3000" but saved as an integer; i64::MAX is an "int" object
/// but saved as text).
fn expected_dump_encoding(ty: &str, object_encoding: &str, value: &Val) -> String {
    match (ty, value) {
        ("string", Val::Str(b)) => {
            let is_i32 = std::str::from_utf8(b)
                .ok()
                .and_then(|t| t.parse::<i32>().ok().filter(|n| n.to_string() == t))
                .is_some();
            if is_i32 { "int" } else { "raw" }.to_string()
        }
        ("list", _) => "quicklist".to_string(),
        _ => object_encoding.to_string(),
    }
}

/// Compares every key on the server with the dump, and reports dump records
/// for keys the server does not have.
fn compare_round(
    c: &mut Conn,
    r: &mut Report,
    round: &str,
    mut dump: HashMap<(u32, Vec<u8>), DumpRecord>,
) -> RoundStats {
    let databases: u32 = config_get(c, "databases").parse().unwrap();
    let mut st = RoundStats::default();
    for db in 0..databases {
        for key in scan_all(c, db) {
            st.compared += 1;
            st.dbs.insert(db);
            let ty = cmd!(c, "TYPE", key).text();
            let expire = match cmd!(c, "PEXPIRETIME", key).int() {
                -1 => None,
                t => Some(t),
            };
            if expire.is_some() {
                st.expiring_types.insert(ty.clone());
            }
            let object_encoding = cmd!(c, "OBJECT", "ENCODING", key).text();
            st.server_enc.insert((ty.clone(), object_encoding.clone()));
            let Some(rec) = dump.remove(&(db, key.clone())) else {
                r.add(
                    round,
                    db,
                    &key,
                    "presence",
                    format!("{ty} key"),
                    "missing from dump",
                );
                continue;
            };
            st.dump_enc.insert((rec.ty.clone(), rec.encoding.clone()));
            if rec.ty != ty {
                r.add(round, db, &key, "type", &ty, &rec.ty);
                continue;
            }
            if rec.expire_at_ms != expire {
                r.add(
                    round,
                    db,
                    &key,
                    "expire_at_ms",
                    opt(&expire),
                    opt(&rec.expire_at_ms),
                );
            }
            let expected = server_value(c, &ty, &key);
            let want_enc = expected_dump_encoding(&ty, &object_encoding, &expected);
            if rec.encoding != want_enc {
                r.add(round, db, &key, "encoding", want_enc, &rec.encoding);
            }
            match dump_value(&ty, &rec.value) {
                Ok(got) => cmp_val(r, (round, db, &key), &expected, &got),
                Err(e) => r.add(round, db, &key, "value (malformed)", "well-formed", e),
            }
        }
    }
    let mut extra: Vec<_> = dump.into_iter().collect();
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    for ((db, key), rec) in extra {
        r.add(
            round,
            db,
            &key,
            "presence",
            "absent on server",
            format!("{} record in dump", rec.ty),
        );
    }
    st
}

/// Parses `DEBUG OBJECT` output ("k:v k:v ...").
fn debug_object(c: &mut Conn, db: u32, key: &[u8]) -> HashMap<String, String> {
    cmd!(c, "SELECT", db);
    let text = cmd!(c, "DEBUG", "OBJECT", key).text();
    text.split_whitespace()
        .filter_map(|kv| kv.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn check_probes(c: &mut Conn, r: &mut Report, round: &str, probes: &[Probe], rdbcompression: bool) {
    let num = |m: &HashMap<String, String>, k: &str| {
        m.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    for p in probes {
        match p {
            Probe::Compressed { db, key } => {
                let m = debug_object(c, *db, key);
                if m.get("ql_compressed").map(String::as_str) != Some("1")
                    || num(&m, "ql_nodes") < 3
                {
                    r.add(
                        round,
                        *db,
                        key,
                        "coverage: compressed quicklist",
                        "ql_compressed:1, >= 3 nodes",
                        format!("{m:?}"),
                    );
                }
                // With rdbcompression off, only in-memory LZF nodes can make
                // the serialized form smaller than the raw listpacks: this
                // proves the RDB really contains compressed quicklist nodes.
                if !rdbcompression
                    && num(&m, "serializedlength") * 2 >= num(&m, "ql_uncompressed_size")
                {
                    r.add(
                        round,
                        *db,
                        key,
                        "coverage: LZF quicklist nodes in RDB",
                        "serializedlength < half of ql_uncompressed_size",
                        format!("{m:?}"),
                    );
                }
            }
            Probe::Plain { db, key, min_nodes } => {
                let m = debug_object(c, *db, key);
                if num(&m, "ql_nodes") < *min_nodes {
                    r.add(
                        round,
                        *db,
                        key,
                        "coverage: PLAIN quicklist nodes",
                        format!("ql_nodes >= {min_nodes}"),
                        format!("{m:?}"),
                    );
                }
            }
        }
    }
}

// ===========================================================================
// The test
// ===========================================================================

struct Round {
    name: &'static str,
    /// Options that can only be given at startup (e.g. `rdbchecksum` is
    /// immutable in Redis 7): a round with different ones gets a new server.
    startup: &'static [(&'static str, &'static str)],
    /// Applied with CONFIG SET on top of the server's defaults.
    config: &'static [(&'static str, &'static str)],
}

const ROUNDS: &[Round] = &[
    Round {
        name: "defaults",
        startup: &[],
        config: &[],
    },
    Round {
        // Small thresholds: more hashtable/skiplist objects, many small
        // quicklist nodes, LZF-compressed inner nodes, and no RDB string
        // compression (so any LZF in the file comes from quicklist nodes).
        name: "small-thresholds",
        startup: &[],
        config: &[
            ("hash-max-listpack-entries", "4"),
            ("zset-max-listpack-entries", "4"),
            ("list-max-listpack-size", "4"),
            ("list-compress-depth", "1"),
            ("set-max-intset-entries", "8"),
            ("stream-node-max-entries", "5"),
            ("rdbcompression", "no"),
        ],
    },
    Round {
        // No checksum (8 zero bytes in the trailer), compressed lists with
        // size-limited nodes.
        name: "no-checksum",
        startup: &[("rdbchecksum", "no")],
        config: &[
            ("list-compress-depth", "2"),
            ("list-max-listpack-size", "-1"),
        ],
    },
];

/// Encodings every round must produce (type, OBJECT ENCODING).
const REQUIRED_ENCODINGS: &[(&str, &str)] = &[
    ("string", "int"),
    ("string", "embstr"),
    ("string", "raw"),
    ("list", "quicklist"),
    ("set", "intset"),
    ("set", "hashtable"),
    ("zset", "listpack"),
    ("zset", "skiplist"),
    ("hash", "listpack"),
    ("hash", "hashtable"),
    ("stream", "stream"),
];

fn seed() -> u64 {
    match std::env::var("RDBSCOPE_LIVE_SEED") {
        Ok(s) => {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            }
            .expect("RDBSCOPE_LIVE_SEED must be a u64")
        }
        Err(_) => DEFAULT_SEED,
    }
}

/// A started server, a connection to it, and its default values for every
/// option a round changes with CONFIG SET.
struct Session {
    startup: &'static [(&'static str, &'static str)],
    base: Vec<(&'static str, String)>,
    // Field order matters: the connection closes before the server is killed.
    c: Conn,
    server: RedisServer,
}

fn start_session(bin: &Path, startup: &'static [(&'static str, &'static str)]) -> Session {
    let server = RedisServer::start(bin, None, startup);
    let mut c = Conn::connect(server.port).expect("connect to redis-server");
    let info = cmd!(c, "INFO", "server").text();
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    eprintln!(
        "live_redis: server {version} on port {} (startup options {startup:?}, --enable-debug-command {})",
        server.port,
        if server.debug_command { "yes" } else { "not accepted" }
    );
    // PEXPIRETIME, the XINFO FULL fields and the DEBUG switches need Redis 7.
    assert!(
        major >= 7,
        "redis-server {version} is too old: this test needs Redis >= 7.0"
    );
    if let Resp::Error(e) = try_cmd!(c, "DEBUG", "HELP") {
        panic!("DEBUG is not available ({e}); the test needs it to cover PLAIN quicklist nodes");
    }
    let mut tunables: BTreeSet<&'static str> = ROUNDS
        .iter()
        .flat_map(|r| r.config.iter().map(|(k, _)| *k))
        .collect();
    tunables.insert("rdbcompression");
    let base = tunables
        .into_iter()
        .map(|k| (k, config_get(&mut c, k)))
        .collect();
    Session {
        startup,
        base,
        c,
        server,
    }
}

#[test]
fn dump_matches_live_redis() {
    let Some(bin) = redis_server("live_redis") else {
        return;
    };
    let seed = seed();
    eprintln!(
        "live_redis: redis-server {}, seed {seed:#x} (RDBSCOPE_LIVE_SEED to override)",
        bin.display()
    );

    let rdbscope = env!("CARGO_BIN_EXE_rdbscope");
    let mut report = Report { items: Vec::new() };
    let mut session: Option<Session> = None;
    for (i, round) in ROUNDS.iter().enumerate() {
        if session.as_ref().is_none_or(|s| s.startup != round.startup) {
            drop(session.take()); // stop the previous server first
            session = Some(start_session(&bin, round.startup));
        }
        let Session {
            base, c, server, ..
        } = session.as_mut().unwrap();

        cmd!(c, "FLUSHALL");
        for (k, v) in base.iter() {
            cmd!(c, "CONFIG", "SET", k, v);
        }
        for (k, v) in round.config {
            cmd!(c, "CONFIG", "SET", k, v);
        }
        let rdbcompression = config_get(c, "rdbcompression") == "yes";

        let round_seed = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let probes = {
            let mut g = Gen::new(c, round_seed);
            g.run();
            std::mem::take(&mut g.probes)
        };
        check_probes(c, &mut report, round.name, &probes, rdbcompression);

        assert_eq!(cmd!(c, "SAVE"), Resp::Simple("OK".into()));
        // Work on a copy; the server's own file is left alone.
        let rdb = server.dir().join(format!("round-{i}-{}.rdb", round.name));
        std::fs::copy(server.dir().join("dump.rdb"), &rdb).expect("copy dump.rdb");

        let out = Command::new(rdbscope)
            .args(["dump", "--key", "*"])
            .arg(&rdb)
            .output()
            .expect("run rdbscope");
        if !out.status.success() {
            report.note(
                round.name,
                format!(
                    "`rdbscope dump --key *` exited with {}; stderr: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ),
            );
        }
        let dump = parse_dump(&mut report, round.name, &out.stdout);
        let st = compare_round(c, &mut report, round.name, dump);
        eprintln!(
            "live_redis: round {} ({} bytes RDB): {} keys compared\n  server encodings: {:?}\n  dump encodings: {:?}",
            round.name,
            std::fs::metadata(&rdb).map(|m| m.len()).unwrap_or(0),
            st.compared,
            st.server_enc,
            st.dump_enc
        );
        // Coverage: fail if the generator stopped producing what it claims.
        for (ty, enc) in REQUIRED_ENCODINGS {
            if !st.server_enc.contains(&(ty.to_string(), enc.to_string())) {
                report.note(
                    round.name,
                    format!("coverage: no {ty} key with OBJECT ENCODING {enc}"),
                );
            }
        }
        for ty in ["string", "list", "set", "zset", "hash", "stream"] {
            if !st.expiring_types.contains(ty) {
                report.note(round.name, format!("coverage: no {ty} key with an expire"));
            }
        }
        for db in DBS {
            if !st.dbs.contains(&db) {
                report.note(round.name, format!("coverage: no keys in db {db}"));
            }
        }

        // The full dump's last record says how the checksum was handled:
        // verified ("ok"), or stored as zero because of rdbchecksum no.
        let want = if round.startup.contains(&("rdbchecksum", "no")) {
            "disabled"
        } else {
            "ok"
        };
        let full = Command::new(rdbscope)
            .arg("dump")
            .arg(&rdb)
            .output()
            .expect("run rdbscope");
        let eof = String::from_utf8_lossy(&full.stdout)
            .lines()
            .filter_map(|l| json::parse(l).ok())
            .find(|v| {
                v.as_object()
                    .and_then(|o| o.get("record"))
                    .and_then(json::Value::as_str)
                    == Some("eof")
            });
        let got = eof
            .as_ref()
            .and_then(|v| v.as_object()?.get("checksum")?.as_str().map(str::to_owned));
        if !full.status.success() || got.as_deref() != Some(want) {
            report.note(
                round.name,
                format!(
                    "`rdbscope dump` (all records): expected exit 0 and an eof record with checksum {want:?}, got {} and {}",
                    full.status,
                    eof.map_or("no eof record".to_string(), |v| v.to_string())
                ),
            );
        }
    }
    drop(session);

    if !report.items.is_empty() {
        let n = report.items.len();
        let shown: Vec<&str> = report.items.iter().take(150).map(String::as_str).collect();
        panic!(
            "{n} mismatch(es) between redis-server and `rdbscope dump` (seed {seed:#x}){}:\n{}",
            if n > 150 { ", first 150 shown" } else { "" },
            shown.join("\n")
        );
    }
}
