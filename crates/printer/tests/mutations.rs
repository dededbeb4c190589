//! Every prefix and every single-byte change of small real files: the full
//! dump path (decode every value, render JSON) must return a result or an
//! error, never panic, never hang. With the checksum verified, every change
//! must be reported.

use rdbscope_printer::{JsonPrinter, Layout, PrintError};
use rdbscope_rdb::{Rdb, Scratch};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn corpus() -> Option<PathBuf> {
    rdbscope_testkit::corpus("mutations")
}

/// Small files covering every era: zipmap/ziplist (3.2), stream v1 (5.0),
/// listpacks and stream v2 (7.0), hash field TTLs (7.4), Valkey 8, RDB 13
/// stream IDMP, VALKEY080 HASH_2 and SLOT_IMPORT.
const FILES: &[&str] = &[
    "rdb/redis-3.2.13/small-thresholds.rdb",
    "rdb/redis-5.0.14/nochecksum.rdb",
    "rdb/redis-7.0.15-debian/nochecksum.rdb",
    "rdb/redis-7.4.1/small-thresholds.rdb",
    "rdb/valkey-8.0.1/small-thresholds.rdb",
    "third_party/redis-librdb/stream_v13_idmp.rdb",
    "third_party/HDT3213-rdb/valkey_hash2_with_hfe.rdb",
    "third_party/HDT3213-rdb/valkey_cluster_slot_import.rdb",
];

/// Decodes every record and value, as `rdbscope dump` does.
fn dump(bytes: &[u8], verify: bool) -> Result<(), PrintError> {
    let rdb = Rdb::new(bytes)?.verify_checksum(verify);
    let mut p = JsonPrinter::new(std::io::sink(), Layout::Lines, Scratch::new());
    p.header(&rdb.header())?;
    for r in rdb.records() {
        p.record(&r?)?;
    }
    p.finish()?;
    Ok(())
}

/// Runs one decode and guards against hangs.
fn timed(bytes: &[u8], verify: bool, slowest: &mut Duration) -> Result<(), PrintError> {
    let t = Instant::now();
    let r = dump(bytes, verify);
    *slowest = (*slowest).max(t.elapsed());
    r
}

#[test]
fn every_prefix_is_an_error() {
    let Some(dir) = corpus() else { return };
    let mut slowest = Duration::ZERO;
    for f in FILES {
        let data = std::fs::read(dir.join(f)).expect(f);
        dump(&data, true).unwrap_or_else(|e| panic!("{f} itself fails: {e}"));
        for len in 0..data.len() {
            match timed(&data[..len], true, &mut slowest) {
                Err(PrintError::Rdb(_)) => {}
                other => panic!("{f}: prefix of {len} bytes gave {other:?}, expected an error"),
            }
        }
    }
    assert!(
        slowest < Duration::from_secs(1),
        "slowest decode took {slowest:?}"
    );
}

#[test]
fn every_byte_change_is_survived_and_detected() {
    let Some(dir) = corpus() else { return };
    let mut slowest = Duration::ZERO;
    let mut undetected = Vec::new();
    for f in FILES {
        let data = std::fs::read(dir.join(f)).expect(f);
        let has_crc = {
            let rdb = Rdb::new(&data).unwrap();
            rdb.header().has_checksum() && data[data.len() - 8..] != [0u8; 8]
        };
        let mut m = data.clone();
        for i in 0..data.len() {
            for flip in [0xffu8, 0x01, 0x80] {
                m[i] = data[i] ^ flip;
                // Structure alone: any outcome but a panic or a hang.
                let _ = timed(&m, false, &mut slowest);
                // With the CRC: every change must be caught (CRC-64 detects
                // every burst up to 64 bits). Sampled, the walk is the same.
                if has_crc && i % 5 == 0 && timed(&m, true, &mut slowest).is_ok() {
                    undetected.push(format!("{f}: byte {i} ^ {flip:#x}"));
                }
            }
            m[i] = data[i];
        }
    }
    assert!(
        undetected.is_empty(),
        "changes not detected: {undetected:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "slowest decode took {slowest:?}"
    );
}
