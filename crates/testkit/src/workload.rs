//! A seeded random workload of every type for tests against real servers:
//! binary keys and values, integer strings, long and short elements (so
//! servers pick every encoding), zset scores from every corner of the
//! double range, key TTLs far in the future, streams with groups and
//! pending entries, and (where the server has them) hash field TTLs,
//! spread over databases 0, 3, 9 and 15.

use crate::client::Conn;

/// 2100-01-01: nothing expires while a test runs.
pub const FAR_FUTURE_MS: i64 = 4_102_444_800_000;

/// xorshift64*.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A value: integers, binary, long, short, UTF-8.
    pub fn bytes(&mut self) -> Vec<u8> {
        match self.below(6) {
            0 => (self.next() as i64 >> self.below(60))
                .to_string()
                .into_bytes(),
            1 => (0..self.below(4)).map(|_| self.next() as u8).collect(),
            2 => (0..100 + self.below(300))
                .map(|i| b'a' + (i % 7) as u8)
                .collect(),
            3 => format!("v{}", self.below(1000)).into_bytes(),
            4 => (0..self.below(80)).map(|_| self.next() as u8).collect(),
            _ => "ünïcødé-".repeat(1 + self.below(3) as usize).into_bytes(),
        }
    }
    /// A score from every corner: integers, short decimals, random bit
    /// patterns, huge and tiny magnitudes, infinities, -0.
    pub fn score(&mut self) -> String {
        match self.below(9) {
            0 => (self.next() as i64 >> self.below(63)).to_string(),
            1 => format!("{}.{}", self.below(1000) as i64 - 500, self.below(100)),
            2 => loop {
                let d = f64::from_bits(self.next());
                if d.is_finite() {
                    break format!("{d:e}");
                }
            },
            3 => ["inf", "-inf", "-0", "0"][self.below(4) as usize].to_string(),
            4 => format!("{}e{}", self.below(99) + 1, self.below(600) as i64 - 300),
            5 => format!("{}", (self.next() >> 11) as f64 / (1u64 << 53) as f64),
            6 => format!("0.{}", self.below(1_000_000_000)),
            7 => format!("{}", self.below(1 << 53) as f64 * 1024.0),
            _ => format!("{}", self.below(100) as f64 / 3.0),
        }
    }
}

/// Writes the workload; returns the number of keys.
pub fn workload(c: &mut Conn, rng: &mut Rng, field_ttls: bool) -> usize {
    let dbs = [0u64, 3, 9, 15];
    let mut n = 0;
    for i in 0..600u64 {
        let db = dbs[(i % 4) as usize];
        c.cmd(&["SELECT", &db.to_string()]);
        let mut key = format!("k:{i}:").into_bytes();
        if i % 37 == 0 {
            key.extend_from_slice(&[0xff, 0x00, 0xfe]);
        }
        let k = key.as_slice();
        let many = |rng: &mut Rng| match rng.below(4) {
            0 => 1 + rng.below(3),
            1 => 1 + rng.below(20),
            2 => 100 + rng.below(200),
            _ => 5 + rng.below(10),
        };
        match i % 7 {
            0 => {
                let v = rng.bytes();
                c.call(&[b"SET", k, &v]);
            }
            1 => {
                for _ in 0..many(rng) {
                    let v = rng.bytes();
                    c.call(&[b"RPUSH", k, &v]);
                }
            }
            2 => {
                let ints = rng.below(2) == 0;
                for _ in 0..many(rng) {
                    let v = if ints {
                        (rng.next() as i64 >> rng.below(63))
                            .to_string()
                            .into_bytes()
                    } else {
                        rng.bytes()
                    };
                    c.call(&[b"SADD", k, &v]);
                }
            }
            3 => {
                for _ in 0..many(rng) {
                    let (s, m) = (rng.score(), rng.bytes());
                    c.call(&[b"ZADD", k, s.as_bytes(), &m]);
                }
            }
            4 => {
                for _ in 0..many(rng) {
                    let (f, v) = (rng.bytes(), rng.bytes());
                    c.call(&[b"HSET", k, &f, &v]);
                    if field_ttls && rng.below(3) == 0 {
                        let t = (FAR_FUTURE_MS + rng.below(1 << 30) as i64).to_string();
                        c.call(&[b"HPEXPIREAT", k, t.as_bytes(), b"FIELDS", b"1", &f]);
                    }
                }
            }
            5 => {
                let entries = many(rng);
                for e in 0..entries {
                    let id = format!("{}-{}", 1_700_000_000_000 + e / 3, e % 3);
                    let mut args: Vec<Vec<u8>> =
                        vec![b"XADD".to_vec(), k.to_vec(), id.into_bytes()];
                    // Same fields often (the master-entry form), sometimes not.
                    for f in 0..1 + rng.below(3) {
                        args.push(if rng.below(4) == 0 {
                            rng.bytes()
                        } else {
                            format!("f{f}").into_bytes()
                        });
                        args.push(rng.bytes());
                    }
                    let a: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                    c.call(&a);
                }
                if rng.below(2) == 0 {
                    c.call(&[b"XGROUP", b"CREATE", k, b"g1", b"0"]);
                    c.call(&[
                        b"XREADGROUP",
                        b"GROUP",
                        b"g1",
                        b"alice",
                        b"COUNT",
                        b"3",
                        b"STREAMS",
                        k,
                        b">",
                    ]);
                }
                if entries > 2 {
                    c.call(&[b"XDEL", k, b"1700000000000-1"]);
                }
            }
            _ => {
                // A counter: an integer-encoded string.
                let v = (rng.next() as i64 >> rng.below(63)).to_string();
                c.call(&[b"SET", k, v.as_bytes()]);
            }
        }
        if rng.below(4) == 0 {
            let t = (FAR_FUTURE_MS + rng.below(1 << 30) as i64).to_string();
            c.call(&[b"PEXPIREAT", k, t.as_bytes()]);
        }
        n += 1;
    }
    c.cmd(&["SELECT", "0"]);
    n
}
