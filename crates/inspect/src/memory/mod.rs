//! What a key costs in a running server, counted as `MEMORY USAGE key
//! SAMPLES 0` counts it (`objectComputeSize` in the server's `object.c`),
//! for the encoding the server holds the value in after loading the file.
//! See docs/memory.md.
//!
//! INTERFACE ONLY: the estimator proper is being written; this body is a
//! placeholder so that the consumers can be built against the interface.

use rdbscope_digest::ServerVersion;
use rdbscope_rdb::value::Scratch;
use rdbscope_rdb::{KeyRecord, Result};

/// The allocator the server was built with: its size classes decide what
/// each allocation really takes (`zmalloc_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// jemalloc (Redis's default build, Debian's redis-server).
    Jemalloc,
    /// glibc malloc (`make MALLOC=libc`, the PyPI wheels).
    Libc,
}

/// One key's memory, and the element facts found on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMemory {
    /// Bytes, as `MEMORY USAGE key SAMPLES 0` reports them.
    pub bytes: u64,
    /// The part of `bytes` that is the key's own cost in the keyspace.
    pub key_overhead: u64,
    /// The in-memory encoding, as `OBJECT ENCODING` names it.
    pub encoding: &'static str,
    /// Number of elements (1 for a string, entries for a stream).
    pub elements: u64,
    /// Bytes of the largest element.
    pub largest: u64,
}

/// Estimates key memory for one server version and allocator.
#[derive(Debug, Clone)]
pub struct Estimator {
    server: ServerVersion,
    allocator: Allocator,
}

impl Estimator {
    /// An estimator for `server` built with `allocator`.
    pub fn new(server: ServerVersion, allocator: Allocator) -> Estimator {
        Estimator { server, allocator }
    }

    /// The server whose rules this follows.
    pub fn server(&self) -> ServerVersion {
        self.server
    }

    /// The allocator whose size classes this follows.
    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    /// The memory of key record `k`, whose key bytes are `key`.
    pub fn key(
        &mut self,
        k: &KeyRecord<'_>,
        key: &[u8],
        scratch: &mut Scratch,
    ) -> Result<KeyMemory> {
        let _ = scratch;
        Ok(KeyMemory {
            bytes: key.len() as u64 + k.value.raw().len() as u64,
            key_overhead: key.len() as u64,
            encoding: "unknown",
            elements: 0,
            largest: 0,
        })
    }
}
