//! Which server's rules a digest follows. `DEBUG DIGEST` is not one
//! function across versions: the text a zset score is hashed as changed in
//! Redis 7.2, Redis 7.4 added a mark for hash fields with a TTL that Valkey
//! does not have, and servers differ in what they drop while loading a
//! file. Each fact below comes from that version's `debug.c` and `rdb.c`
//! and is checked against live servers (docs/format.md, "Digests").

use crate::score::ScoreText;
use rdbscope_rdb::{Flavor, Header};
use std::fmt;

/// Redis or Valkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vendor {
    /// Redis.
    Redis,
    /// Valkey (forked from Redis 7.2.4).
    Valkey,
}

/// A server version, as much of it as the rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    /// Redis or Valkey.
    pub vendor: Vendor,
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.vendor {
            Vendor::Redis => "redis",
            Vendor::Valkey => "valkey",
        };
        write!(f, "{v}-{}.{}", self.major, self.minor)
    }
}

impl ServerVersion {
    /// Parses `redis-7.0`, `valkey-9.1`, `redis-7.4.1` (the patch level is
    /// accepted and ignored) or a bare `7.2.4` (Redis).
    pub fn parse(s: &str) -> Result<ServerVersion, String> {
        let t = s.trim().to_ascii_lowercase();
        let (vendor, rest) = if let Some(r) = t.strip_prefix("redis-") {
            (Vendor::Redis, r)
        } else if let Some(r) = t.strip_prefix("valkey-") {
            (Vendor::Valkey, r)
        } else {
            (Vendor::Redis, t.as_str())
        };
        let mut parts = rest.split('.');
        let num = |p: Option<&str>| p.and_then(|p| p.parse::<u32>().ok());
        match (num(parts.next()), num(parts.next())) {
            (Some(major), Some(minor)) if parts.all(|p| p.parse::<u32>().is_ok()) => {
                Ok(ServerVersion {
                    vendor,
                    major,
                    minor,
                })
            }
            _ => Err(format!(
                "invalid server version {s:?}: expected redis-X.Y or valkey-X.Y (e.g. redis-7.0, redis-7.4, valkey-9.1)"
            )),
        }
    }

    /// The Redis version whose command semantics this server has: its own
    /// for Redis, 7.2 for Valkey (forked from Redis 7.2.4).
    pub fn redis_equivalent(&self) -> (u32, u32) {
        match self.vendor {
            Vendor::Redis => (self.major, self.minor),
            Vendor::Valkey => (7, 2),
        }
    }

    /// The server that wrote a file, from its `valkey-ver` or `redis-ver`
    /// AUX field (Valkey 8 writes only `valkey-ver`).
    pub fn from_aux(redis_ver: Option<&[u8]>, valkey_ver: Option<&[u8]>) -> Option<ServerVersion> {
        let parse = |v: &[u8], vendor: &str| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|v| ServerVersion::parse(&format!("{vendor}-{v}")).ok())
        };
        valkey_ver
            .and_then(|v| parse(v, "valkey"))
            .or_else(|| redis_ver.and_then(|v| parse(v, "redis")))
    }

    /// The oldest server that writes this RDB version: the guess when a
    /// file names no server.
    pub fn from_header(h: &Header) -> ServerVersion {
        let (vendor, major, minor) = match (h.flavor, h.version) {
            (Flavor::Valkey, _) => (Vendor::Valkey, 9, 0),
            (_, 0..=6) => (Vendor::Redis, 2, 6),
            (_, 7) => (Vendor::Redis, 3, 0),
            (_, 8) => (Vendor::Redis, 4, 0),
            (_, 9) => (Vendor::Redis, 5, 0),
            (_, 10) => (Vendor::Redis, 7, 0),
            (_, 11) => (Vendor::Redis, 7, 2),
            (_, _) => (Vendor::Redis, 7, 4),
        };
        ServerVersion {
            vendor,
            major,
            minor,
        }
    }

    /// The RDB version this server writes (and so the newest it reads):
    /// the other direction of [`ServerVersion::from_header`], from the
    /// same history (docs/format.md, "Writing for a server version").
    pub fn writes(&self) -> Option<Header> {
        let redis = |version| Header {
            flavor: Flavor::Redis,
            version,
        };
        Some(match (self.vendor, self.major, self.minor) {
            (Vendor::Redis, 2, 6) | (Vendor::Redis, 2, 8) => redis(6),
            (Vendor::Redis, 3, _) => redis(7),
            (Vendor::Redis, 4, _) => redis(8),
            (Vendor::Redis, 5, _) | (Vendor::Redis, 6, _) => redis(9),
            (Vendor::Redis, 7, 0) | (Vendor::Redis, 7, 1) => redis(10),
            (Vendor::Redis, 7, 2) | (Vendor::Redis, 7, 3) => redis(11),
            (Vendor::Redis, 7, _) => redis(12),
            (Vendor::Redis, 8, m) if m < 6 => redis(12),
            (Vendor::Redis, 8, _) => redis(13),
            (Vendor::Valkey, 7, 2) | (Vendor::Valkey, 8, _) => redis(11),
            (Vendor::Valkey, m, _) if m >= 9 => Header {
                flavor: Flavor::Valkey,
                version: 80,
            },
            _ => return None,
        })
    }

    /// Whether this server loads a file with header `h`.
    pub fn reads(&self, h: Header) -> bool {
        let Some(newest) = self.writes() else {
            return false;
        };
        match (h.flavor, newest.flavor) {
            (Flavor::Redis, Flavor::Redis) => h.version <= newest.version,
            // Valkey 9 reads RDB 11 and its own format.
            (Flavor::Redis, Flavor::Valkey) => h.version <= 11,
            (Flavor::Valkey, Flavor::Valkey) => h.version <= newest.version,
            (Flavor::Valkey, Flavor::Redis) => false,
        }
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// The digest rules of this server.
    pub fn rules(&self) -> Rules {
        let redis = self.vendor == Vendor::Redis;
        Rules {
            version: *self,
            // debug.c: `snprintf("%.17g")` up to 7.0, `fpconv_dtoa` from
            // 7.2; Valkey forked from 7.2.
            score: if redis && !self.at_least(7, 2) {
                ScoreText::Printf17g
            } else {
                ScoreText::Fpconv
            },
            // debug.c of 7.4: `xorDigest(eledigest, "!!hexpire!!")` for a
            // field with a TTL. Valkey's debug.c has no such mark.
            field_ttl_mark: redis && self.at_least(7, 4),
            // Whether loading drops fields whose TTL has passed (rdb.c):
            // Redis 7.4 loads them and lets them expire later; Valkey 9
            // drops them on load (seen on valkey 9.1.2:
            // crates/cli/tests/digest_live.rs, `as_loaded_...`).
            drops_expired_fields: !redis,
        }
    }
}

/// What a digest depends on, for one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The server these are the rules of.
    pub version: ServerVersion,
    /// How zset scores are written before hashing.
    pub score: ScoreText,
    /// Whether a hash field with a TTL mixes in `!!hexpire!!`.
    pub field_ttl_mark: bool,
    /// Whether loading a file drops hash fields whose TTL has passed.
    pub drops_expired_fields: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let v = ServerVersion::parse("redis-7.4.1").unwrap();
        assert_eq!(v.to_string(), "redis-7.4");
        assert_eq!(
            ServerVersion::parse("7.0.15").unwrap().to_string(),
            "redis-7.0"
        );
        assert_eq!(
            ServerVersion::parse("Valkey-9.1").unwrap().to_string(),
            "valkey-9.1"
        );
        assert!(ServerVersion::parse("redis").is_err());
        assert!(ServerVersion::parse("redis-7.x").is_err());
        assert!(ServerVersion::parse("keydb-6.3").is_err());
    }

    #[test]
    fn rules_by_version() {
        let r = |s: &str| ServerVersion::parse(s).unwrap().rules();
        assert_eq!(r("redis-7.0").score, ScoreText::Printf17g);
        assert_eq!(r("redis-7.2").score, ScoreText::Fpconv);
        assert_eq!(r("valkey-8.0").score, ScoreText::Fpconv);
        assert!(!r("redis-7.2").field_ttl_mark);
        assert!(r("redis-7.4").field_ttl_mark);
        assert!(r("redis-8.0").field_ttl_mark);
        assert!(!r("valkey-9.1").field_ttl_mark);
    }

    #[test]
    fn writes_and_reads() {
        let v = |s: &str| ServerVersion::parse(s).unwrap();
        assert_eq!(v("redis-7.0").writes().map(|h| h.version), Some(10));
        assert_eq!(
            v("valkey-9.1").writes().map(|h| h.flavor),
            Some(Flavor::Valkey)
        );
        assert!(v("valkey-9.1").reads(Header {
            flavor: Flavor::Redis,
            version: 11
        }));
        assert!(!v("redis-7.0").reads(Header {
            flavor: Flavor::Redis,
            version: 11
        }));
        assert!(v("redis-2.4").writes().is_none());
        // The oldest server of each version writes that version.
        for ver in [6, 7, 8, 9, 10, 11, 12] {
            let h = Header {
                flavor: Flavor::Redis,
                version: ver,
            };
            assert_eq!(
                ServerVersion::from_header(&h).writes(),
                Some(h),
                "RDB {ver}"
            );
        }
    }
}
