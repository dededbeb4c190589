//! Third-party RDB files (`corpus/third_party`, see its `SOURCES.md`):
//! acceptance criterion 2.
//!
//! * [`third_party_files_without_truth`]: every third-party RDB without a
//!   `.truth.jsonl` is listed in [`NO_TRUTH`] and marked valid (exit 0, dumped
//!   to the EOF record, plus content checks written from SOURCES.md,
//!   docs/format.md#worked-examples and the bytes) or broken (exit 1, stderr names an offset
//!   and what is wrong). A file on disk that is not in the table fails the
//!   test, so new files cannot slip by. (Not RDB files, so not listed: the
//!   AOF `leonchen83-redis-replicator/appendonly6.aof` and upstash's
//!   `valuedumps/*.bin` DUMP payloads.)
//! * [`third_party_expected_outputs`]: every expected output a third-party
//!   project ships beside its dumps (`*.expected.*`, `*.expected-*`) is listed
//!   in [`EXPECTED`] and compared by meaning (keys, types, values, expiries,
//!   field TTLs, stream entries/groups/IDMP) with our dump, or skipped with
//!   the reason next to it. This covers files with truth too.
//!
//! Expected outputs come in the projects' own shapes; each is turned into a
//! "spec" in the canonical shape of [`canon`] (our dump, with sets, hashes
//! and zsets sorted) and compared field by field: a spec states only what
//! the third-party format says, but what it states must match exactly.
//! Command streams (AOF/RESP/protocol) are replayed into a small keyspace
//! model first; RESTORE payloads are wrapped into one-key RDB files and
//! decoded by rdbscope itself (that checks the third party's re-encoding,
//! e.g. rdb-cli's downgrade to RDB 7, against our reading of the original).
//!
//! Every failure is collected; each test fails once, listing all of them.
//! The corpus is `$RDBSCOPE_CORPUS` or `../../../shared/corpus` from this
//! crate; when it is missing the tests are skipped unless `REQUIRE_CORPUS=1`.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rdbscope");

// =====================================================================
// Table 1: third-party RDB files without truth
// =====================================================================

enum Verdict {
    /// Must exit 0, print a header and end with the EOF record, then pass
    /// the content checks.
    Valid(fn(&mut Chk)),
    /// Deliberately broken: must exit 1 with `offset N` on stderr, N in
    /// `at` (the bytes at fault, found by hand), and one of `words`
    /// (case-insensitive). Partial output is allowed.
    Broken {
        words: &'static [&'static str],
        at: (u64, u64),
    },
    /// Well-formed, but not decodable without the module that wrote it: as
    /// `Broken`, after dumping the `keys_before` keys that precede it.
    Unsupported {
        words: &'static [&'static str],
        at: (u64, u64),
        keys_before: usize,
    },
}

struct NoTruth {
    file: &'static str,
    verdict: Verdict,
    /// Why the file is valid or broken, and what it exercises.
    why: &'static str,
}

const NO_TRUTH: &[NoTruth] = &[
    // ---- HDT3213/rdb: Valkey 9 (VALKEY080) files and one odd zipmap.
    NoTruth {
        file: "HDT3213-rdb/valkey_hash2_with_hfe.rdb",
        verdict: Verdict::Valid(check_valkey_hash2),
        why: "VALKEY080, type 22 = Valkey HASH_2 (per-field TTLs); CRC matches (docs/format.md#worked-examples)",
    },
    NoTruth {
        file: "HDT3213-rdb/valkey_cluster_slot_import.rdb",
        verdict: Verdict::Valid(check_valkey_slot_import),
        why: "VALKEY080, opcode 243 = SLOT_IMPORT, empty keyspace (docs/format.md#worked-examples)",
    },
    NoTruth {
        file: "HDT3213-rdb/valkey_cluster_slot_info.rdb",
        verdict: Verdict::Valid(check_valkey_slot_info),
        why: "VALKEY080 from a real cluster: slot-info AUX + one string key",
    },
    NoTruth {
        file: "HDT3213-rdb/zipmap_big_len.rdb",
        verdict: Verdict::Valid(check_zipmap_big_len),
        why: "zipmap whose count byte is 0xFF. Redis 7.0 rejects it in its zipmap \
              integrity check (count byte neither the real count nor 254), but the \
              count byte is only a hint, the entries and the end marker are intact and \
              HDT3213 ships the decoded hash: valid for dumping",
    },
    // ---- redis/redis
    NoTruth {
        file: "redis-redis/corrupt_ziplist.rdb",
        verdict: Verdict::Broken {
            words: &["ziplist"],
            at: (470, 494),
        },
        why: "Redis test asset: key:000000000091 (type 13 at offset 470) holds a \
              5-byte 'ziplist' (bytes 489-493; a ziplist has at least 11); Redis \
              refuses to load the file",
    },
    // ---- redis-rdb-tools
    NoTruth {
        file: "redis-rdb-tools/redis_40_with_module.rdb",
        verdict: Verdict::Valid(check_rdbtools_40_module),
        why: "RDB 8 with a ReJSON-RL module-2 value; checksum disabled; 40 bytes after the \
              trailer (a diskless-replication EOF mark)",
    },
    NoTruth {
        file: "redis-rdb-tools/redis_60_with_module_aux.rdb",
        verdict: Verdict::Valid(check_rdbtools_60_module_aux),
        why: "RDB 9 MODULE_AUX (test__rdb) only; Redis fails only for lack of the module",
    },
    // ---- leonchen83/redis-replicator
    NoTruth {
        file: "leonchen83-redis-replicator/module.rdb",
        verdict: Verdict::Unsupported {
            words: &["type 6", "pre-ga"],
            at: (1257, 1271),
            keys_before: 17,
        },
        why: "Redis 4.0 RC file: key 'key' (type byte at offset 1257) is a type 6 \
              MODULE_PRE_GA value (hellotype). Type 6 has no opcode tags, so its end \
              cannot be found without the module (docs/format.md#modules; Redis >= 4.0 GA \
              rejects the type too): it must end in a clear 'unsupported' error after \
              the 17 keys before it",
    },
    NoTruth {
        file: "leonchen83-redis-replicator/dump-module-2.rdb",
        verdict: Verdict::Valid(check_replicator_module2),
        why: "RDB 9 module-2 value (hellotype) with an IDLE prefix",
    },
    // ---- leonchen83/redis-rdb-cli
    NoTruth {
        file: "leonchen83-redis-rdb-cli/89.rdb",
        verdict: Verdict::Valid(check_rdbcli_89),
        why: "hand-merged RDB 10: module-2 (hellotype), zipmaps, ziplists, streams, \
              repeated SELECTDB",
    },
    NoTruth {
        file: "leonchen83-redis-rdb-cli/all.rdb",
        verdict: Verdict::Valid(check_rdbcli_all),
        why: "hand-merged RDB 10: module-2, FUNCTION_PRE_GA, 38 SELECTDB sections with \
              duplicate key names (Redis rejects the duplicates, the bytes are sound)",
    },
    // ---- redis/librdb
    NoTruth {
        file: "redis-librdb/future_v19.rdb",
        verdict: Verdict::Broken {
            words: &["version"],
            at: (0, 9),
        },
        why: "header REDIS0099: a future version must be rejected",
    },
    NoTruth {
        file: "redis-librdb/invalid_chksum_v8.rdb",
        verdict: Verdict::Broken {
            words: &["checksum", "crc"],
            at: (200, 209),
        },
        why: "deliberately wrong CRC-64 trailer",
    },
    NoTruth {
        file: "redis-librdb/redis_ent_opcode_ram_lru.rdb",
        verdict: Verdict::Broken {
            words: &["107"],
            at: (280, 280),
        },
        why: "Redis Enterprise-only byte 107 (offset 280) before a key; OSS Redis \
              rejects it, and its payload layout is not public",
    },
    NoTruth {
        file: "redis-librdb/misc_with_stream.rdb",
        verdict: Verdict::Valid(check_librdb_misc_with_stream),
        why: "RDB 9 mix with MODULE_AUX before and after the keyspace and type 15 streams",
    },
    NoTruth {
        file: "redis-librdb/module.rdb",
        verdict: Verdict::Valid(check_librdb_module),
        why: "one module-2 value (test__rdb)",
    },
    NoTruth {
        file: "redis-librdb/module_aux.rdb",
        verdict: Verdict::Valid(check_librdb_module_aux),
        why: "MODULE_AUX before/after the keyspace with empty payloads, key in DB 9",
    },
    NoTruth {
        file: "redis-librdb/module_aux_empty.rdb",
        verdict: Verdict::Valid(check_librdb_module_aux_empty),
        why: "MODULE_AUX (graphdata) only, no keys",
    },
    NoTruth {
        file: "redis-librdb/module_aux_v12.rdb",
        verdict: Verdict::Valid(check_librdb_module_aux_v12),
        why: "RDB 12 MODULE_AUX + module-2 value",
    },
    NoTruth {
        file: "redis-librdb/stream_v13.rdb",
        verdict: Verdict::Valid(check_librdb_stream_v13),
        why: "RDB 13: 49 type-26 streams with IDMP blocks (docs/format.md#stream-idmp-block)",
    },
    NoTruth {
        file: "redis-librdb/stream_v13_idmp.rdb",
        verdict: Verdict::Valid(check_librdb_stream_v13_idmp),
        why: "RDB 13: one type-26 stream with IDMP producers (docs/format.md#worked-examples)",
    },
    // ---- upstash/rdb
    NoTruth {
        file: "upstash-rdb/all-types.rdb",
        verdict: Verdict::Valid(check_upstash_all_types),
        why: "hand-assembled RDB 11 with every type 0-21 (key name = type id)",
    },
    NoTruth {
        file: "upstash-rdb/with-padding.rdb",
        verdict: Verdict::Valid(check_upstash_with_padding),
        why: "all-types.rdb followed by 8 bytes of padding after the trailer",
    },
    NoTruth {
        file: "upstash-rdb/multi-db.rdb",
        verdict: Verdict::Valid(check_upstash_multi_db),
        why: "hand-assembled RDB 11, DBs 0 and 1, all non-stream types",
    },
    NoTruth {
        file: "upstash-rdb/module-aux.rdb",
        verdict: Verdict::Valid(check_upstash_module_aux),
        why: "three MODULE_AUX records (two modules) around a ReJSON-RL value",
    },
    NoTruth {
        file: "upstash-rdb/bad-crc.rdb",
        verdict: Verdict::Broken {
            words: &["checksum", "crc"],
            at: (9, 18),
        },
        why: "empty RDB 10 with a wrong CRC",
    },
    NoTruth {
        file: "upstash-rdb/bad-header.rdb",
        verdict: Verdict::Broken {
            words: &["signature", "magic", "header"],
            at: (0, 9),
        },
        why: "9-byte file 'UPSTASH42'",
    },
    NoTruth {
        file: "upstash-rdb/from-future.rdb",
        verdict: Verdict::Broken {
            words: &["version"],
            at: (0, 9),
        },
        why: "header REDIS0042",
    },
];

// ---- content checks of the valid files ------------------------------

fn check_valkey_hash2(c: &mut Chk) {
    c.header("VALKEY", 80);
    c.aux_is("valkey-ver", "9.0.1");
    c.key_count(1);
    // docs/format.md#worked-examples: F1/V1 2715785640000, F2/V2 2400425640000, F3/V3 -1 (none).
    c.key_is(
        "hash2-hfe",
        spec_hash(
            &[("F1", "V1"), ("F2", "V2"), ("F3", "V3")],
            &[("F1", 2715785640000), ("F2", 2400425640000)],
        ),
    );
    c.eof("ok", 0);
}

fn check_valkey_slot_import(c: &mut Chk) {
    c.header("VALKEY", 80);
    c.key_count(0);
    let d = c.d;
    let imports: Vec<&Value> = d.records_of("slot_import").collect();
    c.eq("slot_import records", 1, imports.len());
    if let Some(r) = imports.first() {
        let job = sbytes(&r["job"]);
        c.eq(
            "job name",
            &b"f7acd40f147a6f3d4a2123d48c25d72ede295b98"[..],
            &job[..],
        );
        c.eq("job name length", 40, job.len());
        c.eq(
            "slot ranges",
            &serde_json::json!([[16383, 16383]]),
            &r["ranges"],
        );
    }
    c.eq("selectdb records", 0, c.d.records_of("selectdb").count());
    c.eof("ok", 0);
}

fn check_valkey_slot_info(c: &mut Chk) {
    c.header("VALKEY", 80);
    c.aux_is("valkey-ver", "9.0.3");
    c.aux_is("slot-info", "16383,1,0,0");
    c.key_count(1);
    c.key_is("{6ZJ}:fixture", spec_string("value"));
    c.eof("ok", 0);
}

fn check_zipmap_big_len(c: &mut Chk) {
    c.header("REDIS", 3);
    c.key_count(1);
    c.key_is(
        "zimap_doesnt_compress",
        spec_hash(&[("MKD1G6", "2"), ("YNNXK", "F7TI")], &[]),
    );
    c.eof("absent", 0);
}

fn check_rdbtools_40_module(c: &mut Chk) {
    c.header("REDIS", 8);
    c.key_count(2);
    c.key_is("simplekey", spec_string("someval"));
    // 35 raw bytes, starting (byte walk) 02 20 02 02 02 40 80 05 04 "name".
    c.module_key(
        "foo",
        "ReJSON-RL",
        0,
        RawIs::Prefix("0220020202408005046e616d65"),
        35,
    );
    c.eof("disabled", 40);
}

fn check_rdbtools_60_module_aux(c: &mut Chk) {
    c.header("REDIS", 9);
    c.key_count(0);
    c.module_aux(&[("test__rdb", 1, 2, "02010507676c6f62616c3200")]);
    c.eof("ok", 0);
}

/// hellotype's value as a module opcode stream (byte walk): UINT 2 (two
/// elements), UINT 0xfffffffffffffbff, UINT 0xfffffffffffffc00, EOF.
const HELLOTYPE_RAW: &str = "02020281fffffffffffffbff0281fffffffffffffc0000";

fn check_replicator_module2(c: &mut Chk) {
    c.header("REDIS", 9);
    c.key_count(1);
    c.module_key("modulekey", "hellotype", 0, RawIs::Exact(HELLOTYPE_RAW), 23);
    if let Some(k) = c.key("modulekey") {
        if k.line.get("idle_s").and_then(Value::as_u64).is_none() {
            c.fail("key modulekey: the IDLE prefix is not shown as idle_s");
        }
    }
    c.eof("ok", 0);
}

fn check_rdbcli_89(c: &mut Chk) {
    c.header("REDIS", 10);
    // SOURCES.md catalogue: hashx1, hash_ziplistx33, hash_zipmapx4, stringx24,
    // set_intsetx4, setx5, module2x1, stream_listpacksx2, list_ziplistx3,
    // list_quicklistx1, listx1, zset_ziplistx6 (85 keys).
    c.type_counts(&[
        ("hash", 38),
        ("string", 24),
        ("set", 9),
        ("module", 1),
        ("stream", 2),
        ("list", 5),
        ("zset", 6),
    ]);
    c.module_key("modulekey", "hellotype", 0, RawIs::Exact(HELLOTYPE_RAW), 23);
    c.eof("ok", 0);
}

fn check_rdbcli_all(c: &mut Chk) {
    c.header("REDIS", 10);
    c.key_count(270);
    c.eq("selectdb records", 38, c.d.records_of("selectdb").count());
    c.module_key("modulekey", "hellotype", 0, RawIs::Exact(HELLOTYPE_RAW), 23);
    type NameEngineDesc = (Bytes, Bytes, Option<Bytes>);
    let fns: Vec<NameEngineDesc> =
        c.d.records_of("function_pre_ga")
            .map(|r| {
                let desc = match &r["description"] {
                    Value::Null => None,
                    d => Some(sbytes(d)),
                };
                (sbytes(&r["name"]), sbytes(&r["engine"]), desc)
            })
            .collect();
    let want = vec![
        (b"lib2".to_vec(), b"LUA".to_vec(), None),
        (
            b"lib1".to_vec(),
            b"LUA".to_vec(),
            Some(b"description function".to_vec()),
        ),
    ];
    c.eq(
        "function_pre_ga records (name, engine, description)",
        &want,
        &fns,
    );
    let d = c.d;
    for r in d.records_of("function_pre_ga") {
        let code = sbytes(&r["code"]);
        if !code.windows(17).any(|w| w == b"register_function") {
            c.fail(format!(
                "function_pre_ga code does not look like Lua: {}",
                show_bytes(&code)
            ));
        }
    }
    c.eof("ok", 0);
}

fn check_librdb_misc_with_stream(c: &mut Chk) {
    c.header("REDIS", 9);
    // Catalogue: stream_listpacksx5, listx1, stringx3, zset2x1, setx1, hashx1.
    c.type_counts(&[
        ("stream", 5),
        ("list", 1),
        ("string", 3),
        ("zset", 1),
        ("set", 1),
        ("hash", 1),
    ]);
    c.module_aux(&[
        ("test__rdb", 0, 1, "0201050a7264626265666f72653100"),
        ("test__rdb", 0, 2, "0201050972646261667465723100"),
    ]);
    c.key_is("list", spec_list(&["element"]));
    c.key_is(
        "hset",
        spec_hash(&[("field", "value"), ("numeric", "1")], &[]),
    );
    c.eof("ok", 0);
}

fn check_librdb_module(c: &mut Chk) {
    c.header("REDIS", 11);
    c.key_count(1);
    // Opcode STRING "value1", EOF (also librdb's module_raw.expected.json).
    c.module_key(
        "key1",
        "test__rdb",
        1,
        RawIs::Exact("050676616c75653100"),
        9,
    );
    c.eof("ok", 0);
}

fn check_librdb_module_aux(c: &mut Chk) {
    c.header("REDIS", 11);
    c.module_aux(&[("test__rdb", 1, 1, "00"), ("test__rdb", 1, 2, "00")]);
    c.key_count(1);
    c.key_in_db(9, "x", spec_string("1"));
    c.eof("ok", 0);
}

fn check_librdb_module_aux_empty(c: &mut Chk) {
    c.header("REDIS", 12);
    c.key_count(0);
    c.module_aux(&[
        ("graphdata", 13, 1, "020000"),
        ("graphdata", 13, 2, "020000"),
    ]);
    c.eof("ok", 0);
}

fn check_librdb_module_aux_v12(c: &mut Chk) {
    c.header("REDIS", 12);
    c.module_aux(&[
        (
            "test__rdb",
            1,
            1,
            "0201051e617578696c696172795f646174615f6265666f72655f6b6579737061636500",
        ),
        (
            "test__rdb",
            1,
            2,
            "0201051d617578696c696172795f646174615f61667465725f6b6579737061636500",
        ),
    ]);
    c.key_count(1);
    c.module_key(
        "mykey",
        "test__rdb",
        1,
        RawIs::Prefix("0201050e736f6d655f746573745f64617461"),
        43,
    );
    c.eof("ok", 0);
}

fn check_librdb_stream_v13(c: &mut Chk) {
    c.header("REDIS", 13);
    c.key_count(49);
    c.type_counts(&[("stream", 49)]);
    // The generator encodes its parameters in the key name
    // `stream_lp1_cg{G}_pel{P}_prod{N}_ent{E}`; the IDMP blocks below were
    // confirmed by an independent byte walk (docs/format.md#stream-idmp-block):
    // G groups of P consumers, 1 + N*E entries, N producers of E IIDs each
    // (none when E = 0), IDMP config 100/100 when N = 0 else 7200 s/1000.
    let d = c.d;
    for k in &d.keys {
        let name = String::from_utf8_lossy(&k.key).into_owned();
        let Some(p) = parse_v13_name(&name) else {
            c.fail(format!("unexpected key {name:?}"));
            continue;
        };
        let (g, pel, n, e) = p;
        let v = canon(k);
        let st = v.get("value").cloned().unwrap_or(J::Null);
        let entries = st.get("entries").and_then(J::arr).map_or(0, |a| a.len());
        c.eq(&format!("{name}: entries"), 1 + n * e, entries);
        c.eq(
            &format!("{name}: length"),
            Some((1 + n * e) as f64),
            st.get("length").and_then(J::num),
        );
        let groups = st
            .get("groups")
            .and_then(J::arr)
            .cloned()
            .unwrap_or_default();
        c.eq(&format!("{name}: groups"), g, groups.len());
        for gr in &groups {
            let cons = gr.get("consumers").and_then(J::arr).map_or(0, |a| a.len());
            c.eq(&format!("{name}: consumers per group"), pel, cons);
            let pending = gr.get("pending").and_then(J::arr).map_or(0, |a| a.len());
            c.eq(
                &format!("{name}: group PEL size"),
                pel.min(1 + n * e),
                pending,
            );
        }
        let ids: BTreeSet<Vec<u8>> = st
            .get("entries")
            .and_then(J::arr)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.arr()
                    .and_then(|a| a.first())
                    .and_then(J::bytes)
                    .map(<[u8]>::to_vec)
            })
            .collect();
        let idmp = st.get("idmp").cloned().unwrap_or(J::Null);
        let (dur, max) = if n == 0 {
            (100.0, 100.0)
        } else {
            (7200.0, 1000.0)
        };
        c.eq(
            &format!("{name}: idmp duration_s"),
            Some(dur),
            idmp.get("duration_s").and_then(J::num),
        );
        c.eq(
            &format!("{name}: idmp maxsize"),
            Some(max),
            idmp.get("maxsize").and_then(J::num),
        );
        let prods = idmp
            .get("producers")
            .and_then(J::arr)
            .cloned()
            .unwrap_or_default();
        let want_prods = if e == 0 { 0 } else { n };
        c.eq(&format!("{name}: idmp producers"), want_prods, prods.len());
        for (i, pr) in prods.iter().enumerate() {
            let pid = format!("producer{}", i + 1);
            c.eq(
                &format!("{name}: producer pid"),
                Some(pid.as_bytes()),
                pr.get("pid").and_then(J::bytes),
            );
            let iids = pr.get("iids").and_then(J::arr).cloned().unwrap_or_default();
            c.eq(&format!("{name}: {pid} IIDs"), e, iids.len());
            for iid in &iids {
                let id = iid
                    .arr()
                    .and_then(|a| a.get(1))
                    .and_then(J::bytes)
                    .unwrap_or(b"?");
                if !ids.contains(id) {
                    c.fail(format!("{name}: {pid} IID {} names no entry", show(iid)));
                }
            }
        }
        c.eq(
            &format!("{name}: iids_added"),
            Some((n * e) as f64),
            idmp.get("iids_added").and_then(J::num),
        );
        c.eq(
            &format!("{name}: iids_duplicates"),
            Some(0.0),
            idmp.get("iids_duplicates").and_then(J::num),
        );
    }
    c.eof("ok", 0);
}

fn parse_v13_name(name: &str) -> Option<(usize, usize, usize, usize)> {
    let rest = name.strip_prefix("stream_lp1_cg")?;
    let (g, rest) = rest.split_once("_pel")?;
    let (p, rest) = rest.split_once("_prod")?;
    let (n, e) = rest.split_once("_ent")?;
    Some((
        g.parse().ok()?,
        p.parse().ok()?,
        n.parse().ok()?,
        e.parse().ok()?,
    ))
}

fn check_librdb_stream_v13_idmp(c: &mut Chk) {
    c.header("REDIS", 13);
    c.aux_is("redis-ver", "255.255.255");
    c.key_count(1);
    // docs/format.md#worked-examples, byte for byte.
    let id = |seq: u32| s(format!("1771945454291-{seq}"));
    let group = |g: &str, consumer: &str| {
        obj(vec![
            ("name", s(g)),
            ("last_delivered_id", id(0)),
            ("entries_read", num(1)),
            (
                "pending",
                arr(vec![obj(vec![
                    ("id", id(0)),
                    ("consumer", s(consumer)),
                    ("delivery_time_ms", num(1771945454291u64)),
                    ("delivery_count", num(1)),
                ])]),
            ),
            (
                "consumers",
                arr(vec![obj(vec![
                    ("name", s(consumer)),
                    ("pending", arr(vec![id(0)])),
                ])]),
            ),
        ])
    };
    let stream = obj(vec![
        (
            "entries",
            arr(vec![
                arr(vec![id(0), arr(vec![pair("field1", "value1")])]),
                arr(vec![id(1), arr(vec![pair("idmp_field", "prod1_ent1")])]),
                arr(vec![id(2), arr(vec![pair("idmp_field", "prod2_ent1")])]),
            ]),
        ),
        ("length", num(3)),
        ("last_id", id(2)),
        ("first_id", id(0)),
        ("max_deleted_id", s("0-0")),
        ("entries_added", num(3)),
        (
            "groups",
            arr(vec![
                group("group1", "consumer1_1"),
                group("group2", "consumer2_1"),
            ]),
        ),
        (
            "idmp",
            obj(vec![
                ("duration_s", num(100)),
                ("maxsize", num(100)),
                (
                    "producers",
                    arr(vec![
                        obj(vec![
                            ("pid", s("producer1")),
                            ("iids", arr(vec![arr(vec![s("iid_p1_e1"), id(1)])])),
                        ]),
                        obj(vec![
                            ("pid", s("producer2")),
                            ("iids", arr(vec![arr(vec![s("iid_p2_e1"), id(2)])])),
                        ]),
                    ]),
                ),
                ("iids_added", num(2)),
                ("iids_duplicates", num(0)),
            ]),
        ),
    ]);
    c.key_is(
        "stream_lp1_cg2_pel1_prod2_ent1",
        obj(vec![
            ("type", s("stream")),
            ("expire_at_ms", J::Null),
            ("value", stream),
        ]),
    );
    c.eof("ok", 0);
}

/// upstash's hand-assembled files name each key after its RDB type id and
/// store "a" (or 0) in it.
fn upstash_type_keys() -> Vec<(&'static str, J)> {
    let one_entry_stream = |v2: bool| {
        let mut f = vec![
            (
                "entries",
                arr(vec![arr(vec![s("0-1"), arr(vec![pair("a", "a")])])]),
            ),
            ("length", num(1)),
            ("last_id", s("0-1")),
        ];
        if v2 {
            f.push(("first_id", s("0-1")));
            f.push(("entries_added", num(1)));
        }
        obj(vec![("type", s("stream")), ("value", obj(f))])
    };
    let module = obj(vec![
        ("type", s("module")),
        (
            "value",
            obj(vec![
                ("module", s("ReJSON-RL")),
                ("encver", num(3)),
                ("raw", J::Str(b"\x05\x07{\"a\":0}\x00".to_vec())),
            ]),
        ),
    ]);
    vec![
        ("00", spec_string("a")),
        ("01", spec_list(&["a"])),
        ("02", spec_set(&["a"])),
        ("03", spec_zset(&[("a", 0.0)])),
        ("04", spec_hash(&[("a", "a")], &[])),
        ("05", spec_zset(&[("a", 0.0)])),
        ("07", module),
        ("09", spec_hash(&[("a", "a")], &[])),
        ("10", spec_list(&["a"])),
        ("11", spec_set(&["0"])),
        ("12", spec_zset(&[("a", 0.0)])),
        ("13", spec_hash(&[("a", "a")], &[])),
        ("14", spec_list(&["a"])),
        ("15", one_entry_stream(false)),
        ("16", spec_hash(&[("a", "a")], &[])),
        ("17", spec_zset(&[("a", 0.0)])),
        ("18", spec_list(&["a"])),
        ("19", one_entry_stream(true)),
        ("20", spec_set(&["a"])),
        ("21", one_entry_stream(true)),
    ]
}

fn check_upstash_all_types(c: &mut Chk) {
    check_upstash_all_types_body(c);
    c.eof("disabled", 0);
}

fn check_upstash_with_padding(c: &mut Chk) {
    check_upstash_all_types_body(c);
    c.eof("disabled", 8);
    // Apart from the padding, the same file as all-types.rdb.
    let other = c.corpus.join("third_party/upstash-rdb/all-types.rdb");
    let run = rdbscope_dump(&other);
    let d = Dump::parse(&run.stdout);
    let ours: Vec<&Value> = c.d.keys.iter().map(|k| &k.line).collect();
    let theirs: Vec<&Value> = d.keys.iter().map(|k| &k.line).collect();
    if ours != theirs {
        c.fail("key records differ from those of upstash-rdb/all-types.rdb");
    }
}

fn check_upstash_all_types_body(c: &mut Chk) {
    c.header("REDIS", 11);
    let keys = upstash_type_keys();
    c.key_count(keys.len());
    for (k, spec) in keys {
        c.key_is(k, spec);
    }
}

fn check_upstash_multi_db(c: &mut Chk) {
    c.header("REDIS", 11);
    c.key_count(18);
    c.key_in_db(0, "00", spec_string("a"));
    // DB 1 holds every non-stream type of all-types.rdb.
    for (k, spec) in upstash_type_keys() {
        if !matches!(k, "15" | "19" | "21") {
            c.key_in_db(1, k, spec);
        }
    }
    c.eof("disabled", 0);
}

fn check_upstash_module_aux(c: &mut Chk) {
    c.header("REDIS", 11);
    c.module_aux(&[
        ("scdtype00", 1, 1, "00"),
        ("ft_index0", 23, 1, "020000"),
        ("scdtype00", 1, 2, "020000"),
    ]);
    c.key_count(1);
    c.module_key(
        "doc",
        "ReJSON-RL",
        3,
        RawIs::Exact("05077b2261223a327d00"),
        10,
    );
    c.eof("ok", 0);
}

// =====================================================================
// Table 2: expected outputs shipped by the third-party projects
// =====================================================================

#[derive(Clone, Copy)]
enum Fmt {
    /// HDT3213/rdb JSON export: an array of `{db, key, type, ...}`.
    HdtJson,
    /// Command streams replayed into a keyspace model: HDT3213's AOF,
    /// librdb's RESP restore streams, rdb-rs's `protocol` formatter.
    Commands,
    /// librdb "data" JSON: `"key": value` pairs (+ `__aux__`, `__func__`,
    /// `__dbsize__`, `__slotinfo__`), or an array of such objects per DB.
    LibrdbData,
    /// librdb data JSON of a filtered run: only some of the keys.
    LibrdbSubset,
    /// librdb data JSON of what a live server holds after librdb restored
    /// the file: already-expired keys are gone.
    LibrdbServer,
    /// librdb "raw" JSON: each key's serialized value (type byte + value).
    LibrdbRaw,
    /// rdb-rs JSON: an array of one `{key: value}` object per DB.
    BadboyJson,
    /// rdb-rs `plain` formatter: `db=N key -> value` lines.
    BadboyPlain,
    /// rdb-cli `rct -f dump`: SELECT + RESTORE commands.
    RctDump,
    Skip(&'static str),
}

const LIBRDB_STRUCT: &str =
    "librdb 'struct' level shows each key's internal nodes (ziplist/listpack \
     blobs, quicklist nodes) as raw bytes, not values: nothing maps to our value output";
const LIBRDB_NO_RDB: &str =
    "its source RDB (librdb test/dumps/quicklist.rdb or ziplist_v3.rdb) is not in the corpus";
const LIBRDB_RAW_ARRAY: &str =
    "librdb's raw output for this set is an array of blob pieces without \
     the type byte and header (not one serialization), so it cannot be decoded on its own";

/// (expected output, the RDB it describes, format)
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, Fmt)] = &[
    // ---- HDT3213/rdb: cases/<name>.json and .aof next to cases/<name>.rdb
    ("HDT3213-rdb/function.expected.json", "HDT3213-rdb/function.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/hash_as_listpack_with_hfe.expected.json", "HDT3213-rdb/hash_as_listpack_with_hfe.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/hash_as_listpack_with_hfe.expected.aof", "HDT3213-rdb/hash_as_listpack_with_hfe.rdb", Fmt::Commands),
    ("HDT3213-rdb/hash_with_hfe.expected.json", "HDT3213-rdb/hash_with_hfe.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/hash_with_hfe.expected.aof", "HDT3213-rdb/hash_with_hfe.rdb", Fmt::Commands),
    ("HDT3213-rdb/issue27.expected.json", "HDT3213-rdb/issue27.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/listpack.expected.json", "HDT3213-rdb/listpack.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/quicklist.expected.json", "HDT3213-rdb/quicklist.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/set_listpack.expected.json", "HDT3213-rdb/set_listpack.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/stream_listoacks_3.expected.json", "HDT3213-rdb/stream_listoacks_3.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/stream_listpacks_1.expected.json", "HDT3213-rdb/stream_listpacks_1.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/stream_listpacks_2.expected.json", "HDT3213-rdb/stream_listpacks_2.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/valkey_cluster_slot_import.expected.json", "HDT3213-rdb/valkey_cluster_slot_import.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/valkey_cluster_slot_import.expected.aof", "HDT3213-rdb/valkey_cluster_slot_import.rdb", Fmt::Commands),
    ("HDT3213-rdb/valkey_cluster_slot_info.expected.json", "HDT3213-rdb/valkey_cluster_slot_info.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/valkey_cluster_slot_info.expected.aof", "HDT3213-rdb/valkey_cluster_slot_info.rdb", Fmt::Commands),
    ("HDT3213-rdb/valkey_hash2_with_hfe.expected.json", "HDT3213-rdb/valkey_hash2_with_hfe.rdb", Fmt::HdtJson),
    ("HDT3213-rdb/valkey_hash2_with_hfe.expected.aof", "HDT3213-rdb/valkey_hash2_with_hfe.rdb", Fmt::Commands),
    ("HDT3213-rdb/zipmap_big_len.expected.json", "HDT3213-rdb/zipmap_big_len.rdb", Fmt::HdtJson),
    // ---- badboy/rdb-rs: tests/dumps/{json,plain,protocol}/<name>.*
    ("badboy-rdb-rs/hash_list_pack.expected.json", "badboy-rdb-rs/hash_list_pack.rdb", Fmt::BadboyJson),
    ("badboy-rdb-rs/hash_list_pack.expected.plain", "badboy-rdb-rs/hash_list_pack.rdb", Fmt::BadboyPlain),
    ("badboy-rdb-rs/hash_list_pack.expected.protocol", "badboy-rdb-rs/hash_list_pack.rdb", Fmt::Commands),
    ("badboy-rdb-rs/multidb-skipping.expected.json", "badboy-rdb-rs/multidb-skipping.rdb", Fmt::BadboyJson),
    ("badboy-rdb-rs/multidb-skipping.expected.plain", "badboy-rdb-rs/multidb-skipping.rdb", Fmt::BadboyPlain),
    ("badboy-rdb-rs/multidb-skipping.expected.protocol", "badboy-rdb-rs/multidb-skipping.rdb", Fmt::Commands),
    ("badboy-rdb-rs/quicklist_with_multiple_nodes.expected.json", "badboy-rdb-rs/quicklist_with_multiple_nodes.rdb", Fmt::BadboyJson),
    ("badboy-rdb-rs/quicklist_with_multiple_nodes.expected.plain", "badboy-rdb-rs/quicklist_with_multiple_nodes.rdb", Fmt::BadboyPlain),
    ("badboy-rdb-rs/quicklist_with_multiple_nodes.expected.protocol", "badboy-rdb-rs/quicklist_with_multiple_nodes.rdb", Fmt::Commands),
    ("badboy-rdb-rs/quicklist_with_one_node.expected.json", "badboy-rdb-rs/quicklist_with_one_node.rdb", Fmt::BadboyJson),
    ("badboy-rdb-rs/quicklist_with_one_node.expected.plain", "badboy-rdb-rs/quicklist_with_one_node.rdb", Fmt::BadboyPlain),
    ("badboy-rdb-rs/quicklist_with_one_node.expected.protocol", "badboy-rdb-rs/quicklist_with_one_node.rdb", Fmt::Commands),
    // ---- leonchen83/redis-rdb-cli: rct -f dump of all.rdb
    ("leonchen83-redis-rdb-cli/all.rdb.expected-dump.resp", "leonchen83-redis-rdb-cli/all.rdb", Fmt::RctDump),
    ("leonchen83-redis-rdb-cli/all.rdb.expected-dump7.resp", "leonchen83-redis-rdb-cli/all.rdb", Fmt::RctDump),
    // ---- redis/librdb: pairs as in librdb's test/test_rdb_to_json.c,
    // test_rdb_to_redis.c and test_rdb_to_resp.c.
    ("redis-librdb/cluster_slot_info.expected.json", "redis-librdb/cluster_slot_info.rdb", Fmt::LibrdbData),
    ("redis-librdb/function2.expected.json", "redis-librdb/function2.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_data.expected.json", "redis-librdb/hash_v3.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_raw.expected.json", "redis-librdb/hash_v3.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/hash_struct.expected.json", "redis-librdb/hash_v3.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    // plain_hash_*.json are byte-identical to hash_data.json (same blob) and
    // referenced by no librdb test; they describe hash_v3.rdb as well.
    ("redis-librdb/plain_hash_data.expected.json", "redis-librdb/hash_v3.rdb", Fmt::LibrdbData),
    ("redis-librdb/plain_hash_struct.expected.json", "redis-librdb/hash_v3.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/hash_ex_v12_data.expected.json", "redis-librdb/hash_with_expire_v12.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_lp_ex_v12_data.expected.json", "redis-librdb/hash_lp_with_hexpire_v12.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_lp_v11_data.expected.json", "redis-librdb/hash_lp_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_lp_v11_raw.expected.json", "redis-librdb/hash_lp_v11.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/hash_lp_v11_struct.expected.json", "redis-librdb/hash_lp_v11.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/hash_zl_v6_data.expected.json", "redis-librdb/hash_zl_v6.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_zl_v6_raw.expected.json", "redis-librdb/hash_zl_v6.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/hash_zl_v6_struct.expected.json", "redis-librdb/hash_zl_v6.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/hash_zm_v2_data.expected.json", "redis-librdb/hash_zm_v2.rdb", Fmt::LibrdbData),
    ("redis-librdb/hash_zm_v2_raw.expected.json", "redis-librdb/hash_zm_v2.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/hash_zm_v2_struct.expected.json", "redis-librdb/hash_zm_v2.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/mem_policy_lfu.expected.json", "redis-librdb/mem_policy_lfu.rdb", Fmt::LibrdbServer),
    ("redis-librdb/mem_policy_lru.expected.json", "redis-librdb/mem_policy_lru.rdb", Fmt::LibrdbServer),
    ("redis-librdb/module_aux_data.expected.json", "redis-librdb/module_aux.rdb", Fmt::LibrdbData),
    ("redis-librdb/module_data.expected.json", "redis-librdb/module.rdb", Fmt::LibrdbData),
    ("redis-librdb/module_raw.expected.json", "redis-librdb/module.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/multiple_dbs_data.expected.json", "redis-librdb/multiple_dbs.rdb", Fmt::LibrdbData),
    ("redis-librdb/multiple_lists_strings_data.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::LibrdbData),
    ("redis-librdb/multiple_lists_strings_no_aux.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::LibrdbData),
    ("redis-librdb/multiple_lists_strings_raw.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/multiple_lists_strings_struct.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/multiple_lists_strings_2filters.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::LibrdbSubset),
    ("redis-librdb/multiple_lists_strings_subset_list.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::LibrdbSubset),
    // test_mixed_levels_registration: strings at the raw level only.
    ("redis-librdb/multiple_lists_strings_subset_str.expected.json", "redis-librdb/multiple_lists_strings.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/plain_list_v6_data.expected.json", "redis-librdb/plain_list_v6.rdb", Fmt::LibrdbData),
    ("redis-librdb/plain_list_v6_raw.expected.json", "redis-librdb/plain_list_v6.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/plain_set_v6_data.expected.json", "redis-librdb/plain_set_v6.rdb", Fmt::LibrdbData),
    ("redis-librdb/plain_set_v6_raw.expected.json", "redis-librdb/plain_set_v6.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/plain_set_v6_struct.expected.json", "redis-librdb/plain_set_v6.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/plain_zset_2_v11_data.expected.json", "redis-librdb/plain_zset_2_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/plain_zset_2_v11_raw.expected.json", "redis-librdb/plain_zset_2_v11.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/plain_zset_2_v11_struct.expected.json", "redis-librdb/plain_zset_2_v11.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/plain_zset_v6_data.expected.json", "redis-librdb/plain_zset_v6.rdb", Fmt::LibrdbData),
    ("redis-librdb/plain_zset_v6_raw.expected.json", "redis-librdb/plain_zset_v6.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/plain_zset_v6_struct.expected.json", "redis-librdb/plain_zset_v6.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/quicklist_data.expected.json", "", Fmt::Skip(LIBRDB_NO_RDB)),
    ("redis-librdb/quicklist_raw.expected.json", "", Fmt::Skip(LIBRDB_NO_RDB)),
    ("redis-librdb/quicklist_struct.expected.json", "", Fmt::Skip(LIBRDB_NO_RDB)),
    ("redis-librdb/set_expired.expected.json", "redis-librdb/set_expired_v11.rdb", Fmt::LibrdbServer),
    ("redis-librdb/set_not_expired.expected.json", "redis-librdb/set_not_expired_v11.rdb", Fmt::LibrdbServer),
    ("redis-librdb/set_is_v11_data.expected.json", "redis-librdb/set_is_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/set_is_v11_raw.expected.json", "redis-librdb/set_is_v11.rdb", Fmt::Skip(LIBRDB_RAW_ARRAY)),
    ("redis-librdb/set_is_v11_struct.expected.json", "redis-librdb/set_is_v11.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/set_lp_v11_data.expected.json", "redis-librdb/set_lp_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/set_lp_v11_raw.expected.json", "redis-librdb/set_lp_v11.rdb", Fmt::Skip(LIBRDB_RAW_ARRAY)),
    ("redis-librdb/set_lp_v11_struct.expected.json", "redis-librdb/set_lp_v11.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/single_key_data.expected.json", "redis-librdb/single_key.rdb", Fmt::LibrdbData),
    ("redis-librdb/single_key_raw.expected.json", "redis-librdb/single_key.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/single_key_struct.expected.json", "redis-librdb/single_key.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/single_list_data.expected.json", "redis-librdb/quicklist2_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/single_list_raw.expected.json", "redis-librdb/quicklist2_v11.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/single_list_struct.expected.json", "redis-librdb/quicklist2_v11.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/stream_data.expected.json", "redis-librdb/stream_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/stream_data_with_meta.expected.json", "redis-librdb/stream_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/stream_v11_target_ver_6.2.expected.resp", "redis-librdb/stream_v11.rdb", Fmt::Commands),
    ("redis-librdb/stream_v11_target_ver_7.2.expected.resp", "redis-librdb/stream_v11.rdb", Fmt::Commands),
    // librdb PR #93 names these after stream_v13 but they describe the key of
    // stream_v13_idmp.rdb (IDs 1771945454291-*; stream_v13.rdb's key of the
    // same name has other IDs and IDMP config 7200/1000).
    ("redis-librdb/stream_v13.expected.json", "redis-librdb/stream_v13_idmp.rdb", Fmt::LibrdbData),
    ("redis-librdb/stream_v13_target_ver_8.4.expected.resp", "redis-librdb/stream_v13_idmp.rdb", Fmt::Commands),
    ("redis-librdb/stream_v13_target_ver_8.6.expected.resp", "redis-librdb/stream_v13_idmp.rdb", Fmt::Commands),
    ("redis-librdb/string_int_encoded.expected.json", "redis-librdb/string_int_encoded.rdb", Fmt::LibrdbData),
    ("redis-librdb/ziplist_data.expected.json", "", Fmt::Skip(LIBRDB_NO_RDB)),
    ("redis-librdb/ziplist_raw.expected.json", "", Fmt::Skip(LIBRDB_NO_RDB)),
    ("redis-librdb/ziplist_struct.expected.json", "", Fmt::Skip(LIBRDB_NO_RDB)),
    ("redis-librdb/zset_lp_v11_data.expected.json", "redis-librdb/zset_lp_v11.rdb", Fmt::LibrdbData),
    ("redis-librdb/zset_lp_v11_raw.expected.json", "redis-librdb/zset_lp_v11.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/zset_lp_v11_struct.expected.json", "redis-librdb/zset_lp_v11.rdb", Fmt::Skip(LIBRDB_STRUCT)),
    ("redis-librdb/zset_zl_v6_data.expected.json", "redis-librdb/zset_zl_v6.rdb", Fmt::LibrdbData),
    ("redis-librdb/zset_zl_v6_raw.expected.json", "redis-librdb/zset_zl_v6.rdb", Fmt::LibrdbRaw),
    ("redis-librdb/zset_zl_v6_struct.expected.json", "redis-librdb/zset_zl_v6.rdb", Fmt::Skip(LIBRDB_STRUCT)),
];

// =====================================================================
// The tests
// =====================================================================

#[test]
fn third_party_files_without_truth() {
    let Some(corpus) = corpus() else { return };
    let tp = corpus.join("third_party");
    let mut fails = Fails::default();

    // The table must list exactly the RDBs without truth.
    let on_disk: BTreeSet<String> = walk_files(&tp)
        .into_iter()
        .filter(|p| p.ends_with(".rdb") && !tp.join(format!("{p}.truth.jsonl")).exists())
        .collect();
    let listed: BTreeSet<String> = NO_TRUTH.iter().map(|c| c.file.to_string()).collect();
    for f in on_disk.difference(&listed) {
        fails.push(
            f,
            "RDB without truth that is not in NO_TRUTH: decide whether it is valid or broken",
        );
    }
    for f in listed.difference(&on_disk) {
        fails.push(
            f,
            "listed in NO_TRUTH but missing, or it has a .truth.jsonl now",
        );
    }

    for case in NO_TRUTH {
        let path = tp.join(case.file);
        if !path.exists() {
            continue;
        }
        let run = rdbscope_dump(&path);
        let ctx = format!("{} ({})", case.file, case.why);
        match &case.verdict {
            Verdict::Valid(check) => {
                let d = Dump::parse(&run.stdout);
                if run.code != Some(0) {
                    fails.push(
                        &ctx,
                        format!(
                            "must dump completely, but exit {:?}: {}",
                            run.code,
                            run.stderr.trim()
                        ),
                    );
                    continue;
                }
                let mut c = Chk {
                    corpus: &corpus,
                    d: &d,
                    out: Vec::new(),
                };
                c.complete(&path);
                check(&mut c);
                for m in c.out {
                    fails.push(case.file, m);
                }
            }
            Verdict::Broken { words, at } => check_failure(&mut fails, &ctx, &run, words, *at),
            Verdict::Unsupported {
                words,
                at,
                keys_before,
            } => {
                check_failure(&mut fails, &ctx, &run, words, *at);
                let d = Dump::parse(&run.stdout);
                if d.keys.len() != *keys_before {
                    fails.push(
                        &ctx,
                        format!("expected the {keys_before} keys before the unsupported value on stdout, got {}", d.keys.len()),
                    );
                }
            }
        }
    }
    fails.finish("third-party files without truth");
}

#[test]
fn third_party_expected_outputs() {
    let Some(corpus) = corpus() else { return };
    let tp = corpus.join("third_party");
    let mut fails = Fails::default();

    // The table must list every expected output on disk.
    let on_disk: BTreeSet<String> = walk_files(&tp)
        .into_iter()
        .filter(|p| p.contains(".expected.") || p.contains(".expected-"))
        .collect();
    let listed: BTreeSet<String> = EXPECTED.iter().map(|e| e.0.to_string()).collect();
    for f in on_disk.difference(&listed) {
        fails.push(
            f,
            "expected output not in EXPECTED: compare it or say why not",
        );
    }
    for f in listed.difference(&on_disk) {
        fails.push(f, "listed in EXPECTED but missing");
    }

    let mut dumps: BTreeMap<&str, Dump> = BTreeMap::new();
    let (mut compared, mut skipped) = (0, 0);
    for &(expected, rdb, fmt) in EXPECTED {
        let exp_path = tp.join(expected);
        if !exp_path.exists() {
            continue;
        }
        if let Fmt::Skip(why) = fmt {
            eprintln!("not compared: {expected}: {why}");
            skipped += 1;
            continue;
        }
        compared += 1;
        if !dumps.contains_key(rdb) {
            let run = rdbscope_dump(&tp.join(rdb));
            if run.code != Some(0) {
                fails.push(
                    expected,
                    format!("{rdb}: rdbscope exit {:?}: {}", run.code, run.stderr.trim()),
                );
            }
            dumps.insert(rdb, Dump::parse(&run.stdout));
        }
        let d = &dumps[rdb];
        let text = std::fs::read(&exp_path).expect("read expected output");
        let mut out = Vec::new();
        let res = match fmt {
            Fmt::HdtJson => cmp_hdt_json(&text, d, &mut out),
            Fmt::Commands => cmp_commands(&text, d, &mut out),
            Fmt::LibrdbData => cmp_librdb_data(&text, d, Extra::Forbidden, &mut out),
            Fmt::LibrdbSubset => cmp_librdb_data(&text, d, Extra::Allowed, &mut out),
            Fmt::LibrdbServer => cmp_librdb_data(&text, d, Extra::ExpiredOnly, &mut out),
            Fmt::LibrdbRaw => cmp_librdb_raw(&text, d, &mut out),
            Fmt::BadboyJson => cmp_badboy_json(&text, d, &mut out),
            Fmt::BadboyPlain => cmp_badboy_plain(&text, d, &mut out),
            Fmt::RctDump => cmp_rct_dump(&text, d, &mut out),
            Fmt::Skip(_) => unreachable!(),
        };
        if let Err(e) = res {
            out.push(format!("cannot map the expected output: {e}"));
        }
        for m in out {
            fails.push(&format!("{expected} vs {rdb}"), m);
        }
    }
    eprintln!("expected outputs: {compared} compared, {skipped} skipped (reasons in EXPECTED)");
    fails.finish("third-party expected outputs");
}

fn check_failure(fails: &mut Fails, ctx: &str, run: &Run, words: &[&str], at: (u64, u64)) {
    if run.code != Some(1) {
        fails.push(
            ctx,
            format!(
                "must fail with exit 1, got {:?} (stderr: {})",
                run.code,
                run.stderr.trim()
            ),
        );
        return;
    }
    let err = run.stderr.to_lowercase();
    if err.contains("panicked") {
        fails.push(ctx, format!("panicked: {}", run.stderr.trim()));
    }
    match offset_in(&run.stderr) {
        None => fails.push(
            ctx,
            format!("stderr names no 'offset N': {}", run.stderr.trim()),
        ),
        Some(n) if n < at.0 || n > at.1 => fails.push(
            ctx,
            format!(
                "the error should point into bytes {}..={}: {}",
                at.0,
                at.1,
                run.stderr.trim()
            ),
        ),
        Some(_) => {}
    }
    if !words.iter().any(|w| err.contains(&w.to_lowercase())) {
        fails.push(
            ctx,
            format!("stderr says none of {words:?}: {}", run.stderr.trim()),
        );
    }
    // Partial output is allowed, including the record being written when
    // the error struck (cut short, without its newline); every complete
    // line must still be JSON.
    let d = Dump::parse(&run.stdout);
    if !d.bad_lines.is_empty() {
        fails.push(
            ctx,
            format!("partial output has non-JSON lines: {:?}", d.bad_lines),
        );
    }
    if d.records_of("eof").next().is_some() {
        fails.push(ctx, "a failed dump printed an EOF record");
    }
}

fn offset_in(stderr: &str) -> Option<u64> {
    let i = stderr.find("offset ")?;
    let digits: String = stderr[i + 7..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

// =====================================================================
// Running rdbscope and reading its output
// =====================================================================

fn corpus() -> Option<PathBuf> {
    rdbscope_testkit::corpus("third_party")
}

/// Every file under `dir`, as a path relative to it with `/` separators.
fn walk_files(dir: &Path) -> Vec<String> {
    fn go(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                go(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out.sort();
    out
}

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn rdbscope_dump(input: &Path) -> Run {
    let out = Command::new(BIN)
        .arg("dump")
        .arg(input)
        .output()
        .expect("run rdbscope");
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `rdbscope dump -` with `bytes` on standard input.
fn rdbscope_dump_bytes(bytes: &[u8]) -> Run {
    let mut child = Command::new(BIN)
        .args(["dump", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rdbscope");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for rdbscope");
    let _ = writer.join();
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Our `dump` output, split into key records and the other records.
struct Dump {
    header: Option<(String, u64)>,
    keys: Vec<Key>,
    /// Non-key records except the header, in order.
    records: Vec<Value>,
    /// Output lines that are not JSON objects (there must be none).
    bad_lines: Vec<String>,
    /// Output after the last newline: a record cut short by an error.
    unterminated: Option<String>,
}

struct Key {
    db: u64,
    key: Vec<u8>,
    typ: String,
    expire: Option<i64>,
    line: Value,
}

impl Dump {
    fn parse(stdout: &[u8]) -> Dump {
        let mut d = Dump {
            header: None,
            keys: Vec::new(),
            records: Vec::new(),
            bad_lines: Vec::new(),
            unterminated: None,
        };
        let mut lines: Vec<&[u8]> = stdout.split(|&b| b == b'\n').collect();
        if let Some(last) = lines.pop() {
            if !last.is_empty() {
                d.unterminated = Some(String::from_utf8_lossy(last).chars().take(200).collect());
            }
        }
        for line in lines.into_iter().filter(|l| !l.is_empty()) {
            let v: Value = match serde_json::from_slice(line) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    d.bad_lines
                        .push(String::from_utf8_lossy(line).chars().take(200).collect());
                    continue;
                }
            };
            match v.get("record").and_then(Value::as_str) {
                Some("header") => {
                    d.header = Some((
                        v["magic"].as_str().unwrap_or("?").to_string(),
                        v["version"].as_u64().unwrap_or(u64::MAX),
                    ))
                }
                Some(_) => d.records.push(v),
                None => d.keys.push(Key {
                    db: v["db"].as_u64().unwrap_or(u64::MAX),
                    key: sbytes(&v["key"]),
                    typ: v["type"].as_str().unwrap_or("?").to_string(),
                    expire: v["expire_at_ms"].as_i64(),
                    line: v,
                }),
            }
        }
        d
    }

    fn records_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.records.iter().filter(move |r| r["record"] == kind)
    }

    fn aux(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.records_of("aux")
            .map(|r| (sbytes(&r["name"]), sbytes(&r["value"])))
            .collect()
    }

    /// Distinct databases holding keys, in order of appearance.
    fn dbs(&self) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::new();
        for k in &self.keys {
            if !v.contains(&k.db) {
                v.push(k.db);
            }
        }
        v
    }
}

/// A binary-safe string of our output: a JSON string, or `{"base64": ...}`.
fn sbytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) if o.len() == 1 => match o
            .get("base64")
            .and_then(Value::as_str)
            .and_then(base64_decode)
        {
            Some(b) => b,
            None => format!("<bad binary string {v}>").into_bytes(),
        },
        _ => format!("<not a binary string: {v}>").into_bytes(),
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let s = s.trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        acc = (acc << 6) | ALPHA.iter().position(|&a| a == c)? as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

// =====================================================================
// Canonical values and their comparison
// =====================================================================

/// A JSON-like value with binary strings and ordered, binary object keys:
/// the canonical form of keys, and what third-party outputs parse into.
#[derive(Clone, Debug, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(Vec<u8>),
    Arr(Vec<J>),
    Obj(Vec<(Vec<u8>, J)>),
}

impl J {
    fn get(&self, k: &str) -> Option<&J> {
        match self {
            J::Obj(f) => f.iter().find(|(n, _)| n == k.as_bytes()).map(|(_, v)| v),
            _ => None,
        }
    }
    fn arr_mut(&mut self) -> Option<&mut Vec<J>> {
        match self {
            J::Arr(a) => Some(a),
            _ => None,
        }
    }
    fn arr(&self) -> Option<&Vec<J>> {
        match self {
            J::Arr(a) => Some(a),
            _ => None,
        }
    }
    fn fields(&self) -> Option<&Vec<(Vec<u8>, J)>> {
        match self {
            J::Obj(f) => Some(f),
            _ => None,
        }
    }
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            J::Str(b) => Some(b),
            _ => None,
        }
    }
    fn num(&self) -> Option<f64> {
        match self {
            J::Num(n) => Some(*n),
            _ => None,
        }
    }
}

fn s(b: impl AsRef<[u8]>) -> J {
    J::Str(b.as_ref().to_vec())
}
fn num(n: impl ToF64) -> J {
    J::Num(n.to_f64())
}
/// Integers and floats for [`num`] (the integers in the corpus fit an f64).
trait ToF64 {
    fn to_f64(self) -> f64;
}
macro_rules! to_f64 {
    ($($t:ty),*) => {$(impl ToF64 for $t { fn to_f64(self) -> f64 { self as f64 } })*};
}
to_f64!(i32, i64, u64, usize, f64);
fn arr(v: Vec<J>) -> J {
    J::Arr(v)
}
fn obj(f: Vec<(&str, J)>) -> J {
    J::Obj(
        f.into_iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v))
            .collect(),
    )
}
fn pair(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> J {
    arr(vec![s(a), s(b)])
}
/// Sorts by the bytes of each element, or of its first element.
fn sorted(mut v: Vec<J>) -> J {
    fn key(j: &J) -> Vec<u8> {
        match j {
            J::Str(b) => b.clone(),
            J::Arr(a) => a.first().map(key).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
    v.sort_by_key(key);
    J::Arr(v)
}
fn score(s: &[u8]) -> Option<f64> {
    match s {
        b"inf" | b"+inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" => Some(f64::NAN),
        _ => std::str::from_utf8(s).ok()?.parse().ok(),
    }
}

fn spec_string(v: &str) -> J {
    obj(vec![
        ("type", s("string")),
        ("expire_at_ms", J::Null),
        ("value", s(v)),
    ])
}
fn spec_list(v: &[&str]) -> J {
    obj(vec![
        ("type", s("list")),
        ("value", arr(v.iter().map(s).collect())),
    ])
}
fn spec_set(v: &[&str]) -> J {
    obj(vec![
        ("type", s("set")),
        ("value", sorted(v.iter().map(s).collect())),
    ])
}
fn spec_zset(v: &[(&str, f64)]) -> J {
    obj(vec![
        ("type", s("zset")),
        (
            "value",
            sorted(v.iter().map(|(m, sc)| arr(vec![s(m), num(*sc)])).collect()),
        ),
    ])
}
fn spec_hash(v: &[(&str, &str)], ttl: &[(&str, i64)]) -> J {
    obj(vec![
        ("type", s("hash")),
        ("expire_at_ms", J::Null),
        ("value", sorted(v.iter().map(|(f, x)| pair(f, x)).collect())),
        (
            "field_ttl",
            sorted(ttl.iter().map(|(f, t)| arr(vec![s(f), num(*t)])).collect()),
        ),
    ])
}

/// Our key in canonical form: `{type, expire_at_ms, value, field_ttl}`,
/// sets/hashes/zsets sorted, stream entry fields sorted, binary strings
/// decoded. Module values also get `serialized_size` (id + raw bytes).
fn canon(k: &Key) -> J {
    let v = &k.line["value"];
    let list = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().map(|e| J::Str(sbytes(e))).collect())
            .unwrap_or_default()
    };
    let pairs = |v: &Value| -> Vec<J> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| arr(vec![J::Str(sbytes(&p[0])), J::Str(sbytes(&p[1]))]))
                    .collect()
            })
            .unwrap_or_default()
    };
    let value = match k.typ.as_str() {
        "string" => J::Str(sbytes(v)),
        "list" => J::Arr(list(v)),
        "set" => sorted(list(v)),
        "zset" => sorted(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| arr(vec![J::Str(sbytes(&p[0])), our_score(&p[1])]))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "hash" => sorted(pairs(v)),
        "stream" => canon_stream(v),
        "module" => {
            let raw = sbytes(&v["raw"]);
            let name = v["module"].as_str().unwrap_or("?");
            let encver = v["encver"].as_u64().unwrap_or(0);
            let id_len = module_id(name, encver).map_or(0, |id| rdb_len(id).len());
            obj(vec![
                ("module", s(name)),
                ("encver", num(encver)),
                ("serialized_size", num((id_len + raw.len()) as u64)),
                ("raw", J::Str(raw)),
            ])
        }
        t => s(format!("<unknown type {t}>")),
    };
    let field_ttl = k.line["field_expire_at_ms"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| arr(vec![J::Str(sbytes(&p[0])), jnum(&p[1])]))
                .collect()
        })
        .unwrap_or_default();
    obj(vec![
        ("type", s(&k.typ)),
        ("expire_at_ms", k.expire.map_or(J::Null, num)),
        ("value", value),
        ("field_ttl", sorted(field_ttl)),
    ])
}

fn our_score(v: &Value) -> J {
    match v {
        Value::Number(n) => J::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(t) => score(t.as_bytes()).map_or_else(|| s(t), J::Num),
        _ => s(v.to_string()),
    }
}

/// A plain JSON scalar (numbers, IDs, null) of our output.
fn jnum(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => J::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(t) => s(t),
        other => s(other.to_string()),
    }
}

fn canon_stream(v: &Value) -> J {
    let entries = v["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let fields = e[1]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| arr(vec![J::Str(sbytes(&p[0])), J::Str(sbytes(&p[1]))]))
                .collect();
            arr(vec![jnum(&e[0]), sorted(fields)])
        })
        .collect();
    let groups = v["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            let pending = g["pending"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    obj(vec![
                        ("id", jnum(&p[0])),
                        (
                            "consumer",
                            if p[1].is_null() {
                                J::Null
                            } else {
                                J::Str(sbytes(&p[1]))
                            },
                        ),
                        ("delivery_time_ms", jnum(&p[2])),
                        ("delivery_count", jnum(&p[3])),
                    ])
                })
                .collect();
            let consumers = g["consumers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    obj(vec![
                        ("name", J::Str(sbytes(&c["name"]))),
                        ("seen_time_ms", jnum(&c["seen_time_ms"])),
                        ("active_time_ms", jnum(&c["active_time_ms"])),
                        (
                            "pending",
                            arr(c["pending"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(jnum)
                                .collect()),
                        ),
                    ])
                })
                .collect();
            obj(vec![
                ("name", J::Str(sbytes(&g["name"]))),
                ("last_delivered_id", jnum(&g["last_delivered_id"])),
                ("entries_read", jnum(&g["entries_read"])),
                ("pending", arr(pending)),
                ("consumers", arr(consumers)),
            ])
        })
        .collect();
    let idmp = match &v["idmp"] {
        Value::Null => J::Null,
        i => obj(vec![
            ("duration_s", jnum(&i["duration_s"])),
            ("maxsize", jnum(&i["maxsize"])),
            (
                "producers",
                arr(i["producers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let iids = p["iids"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|x| arr(vec![J::Str(sbytes(&x[0])), jnum(&x[1])]))
                            .collect();
                        obj(vec![
                            ("pid", J::Str(sbytes(&p["pid"]))),
                            ("iids", arr(iids)),
                        ])
                    })
                    .collect()),
            ),
            ("iids_added", jnum(&i["iids_added"])),
            ("iids_duplicates", jnum(&i["iids_duplicates"])),
        ]),
    };
    obj(vec![
        ("entries", arr(entries)),
        ("length", jnum(&v["length"])),
        ("last_id", jnum(&v["last_id"])),
        ("first_id", jnum(&v["first_id"])),
        ("max_deleted_id", jnum(&v["max_deleted_id"])),
        ("entries_added", jnum(&v["entries_added"])),
        ("groups", arr(groups)),
        ("idmp", idmp),
    ])
}

/// Where `ours` differs from what `spec` states. Objects in a spec state
/// only some fields; arrays and scalars must match exactly.
fn diff(spec: &J, ours: &J) -> Vec<String> {
    fn walk(e: &J, o: &J, path: &str, out: &mut Vec<String>) {
        if out.len() >= 6 {
            return;
        }
        match (e, o) {
            (J::Obj(ef), J::Obj(of)) => {
                for (k, ev) in ef {
                    let p = format!("{path}.{}", String::from_utf8_lossy(k));
                    match of.iter().find(|(ok, _)| ok == k) {
                        Some((_, ov)) => walk(ev, ov, &p, out),
                        None => out.push(format!("{p}: not in our dump (expected {})", show(ev))),
                    }
                }
            }
            (J::Arr(ea), J::Arr(oa)) => {
                if ea.len() != oa.len() {
                    out.push(format!(
                        "{path}: {} elements expected, ours has {}: expected {} ours {}",
                        ea.len(),
                        oa.len(),
                        show(e),
                        show(o)
                    ));
                    return;
                }
                for (i, (x, y)) in ea.iter().zip(oa).enumerate() {
                    walk(x, y, &format!("{path}[{i}]"), out);
                }
            }
            (J::Num(a), J::Num(b)) if a == b || (a.is_nan() && b.is_nan()) => {}
            _ if e == o => {}
            _ => out.push(format!("{path}: expected {} ours {}", show(e), show(o))),
        }
    }
    let mut out = Vec::new();
    walk(spec, ours, "", &mut out);
    out
}

fn show_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(t) => format!("{t:?}"),
        Err(_) => format!("0x{}", hex(b)),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Compact rendering for messages, cut at 240 characters.
fn show(j: &J) -> String {
    fn go(j: &J, o: &mut String) {
        match j {
            J::Null => o.push_str("null"),
            J::Bool(b) => o.push_str(&b.to_string()),
            J::Num(n) => o.push_str(&n.to_string()),
            J::Str(b) => o.push_str(&show_bytes(b)),
            J::Arr(a) => {
                o.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    go(x, o);
                    if o.len() > 300 {
                        break;
                    }
                }
                o.push(']');
            }
            J::Obj(f) => {
                o.push('{');
                for (i, (k, v)) in f.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    o.push_str(&show_bytes(k));
                    o.push(':');
                    go(v, o);
                    if o.len() > 300 {
                        break;
                    }
                }
                o.push('}');
            }
        }
    }
    let mut o = String::new();
    go(j, &mut o);
    if o.len() > 240 {
        let cut = (0..=240)
            .rev()
            .find(|&i| o.is_char_boundary(i))
            .unwrap_or(0);
        o.truncate(cut);
        o.push('…');
    }
    o
}

/// A key an expected output describes: `db` when the output says.
struct ExpKey {
    db: Option<u64>,
    key: Vec<u8>,
    spec: J,
    /// The output holds stream entries as JSON objects and consumers as a
    /// loader sees them: compare with [`loader_view`] of our key.
    loader_view: bool,
}

/// Our stream as a JSON-object exporter that follows Redis's loader shows
/// it: an entry's fields form a map (a repeated field name keeps its last
/// value; Redis itself keeps both, see stream_listpacks_1.rdb's truth),
/// and a consumer without a stored active time (RDB types 15 and 19) gets
/// its seen time, as the loader does (docs/format.md#streams).
fn loader_view(key: &mut J) {
    let Some(J::Obj(f)) = key_value_mut(key) else {
        return;
    };
    for (name, v) in f.iter_mut() {
        match (name.as_slice(), v) {
            (b"entries", J::Arr(entries)) => {
                for e in entries.iter_mut() {
                    if let J::Arr(idf) = e {
                        if let Some(J::Arr(fields)) = idf.get_mut(1) {
                            let mut seen: Vec<J> = Vec::new();
                            for p in fields.drain(..).rev() {
                                let name = p.arr().and_then(|a| a.first()).cloned();
                                if !seen
                                    .iter()
                                    .any(|q| q.arr().and_then(|a| a.first()).cloned() == name)
                                {
                                    seen.push(p);
                                }
                            }
                            seen.reverse();
                            *fields = seen;
                        }
                    }
                }
            }
            (b"groups", J::Arr(groups)) => {
                for g in groups.iter_mut() {
                    let Some(J::Obj(gf)) = Some(g) else { continue };
                    for (gname, cs) in gf.iter_mut() {
                        if gname.as_slice() != b"consumers" {
                            continue;
                        }
                        for c in cs.arr_mut().into_iter().flatten() {
                            let seen = c.get("seen_time_ms").cloned();
                            if let J::Obj(cf) = c {
                                for (n, v) in cf.iter_mut() {
                                    if n.as_slice() == b"active_time_ms" && *v == J::Null {
                                        *v = seen.clone().unwrap_or(J::Null);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn key_value_mut(key: &mut J) -> Option<&mut J> {
    match key {
        J::Obj(f) => f
            .iter_mut()
            .find(|(n, _)| n.as_slice() == b"value")
            .map(|(_, v)| v),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Extra {
    /// Our dump must hold no other keys.
    Forbidden,
    /// The expected output lists only some keys.
    Allowed,
    /// Only keys already expired may be missing from the expected output.
    ExpiredOnly,
}

/// Matches expected keys to ours by (db, key) and compares each.
fn cmp_keyspace(exp: &[ExpKey], d: &Dump, extra: Extra, out: &mut Vec<String>) {
    let mut used = vec![false; d.keys.len()];
    for e in exp {
        let found = d
            .keys
            .iter()
            .enumerate()
            .find(|(i, k)| !used[*i] && k.key == e.key && e.db.is_none_or(|db| db == k.db));
        let name = match e.db {
            Some(db) => format!("db {db} key {}", show_bytes(&e.key)),
            None => format!("key {}", show_bytes(&e.key)),
        };
        match found {
            None => out.push(format!("{name}: not in our dump")),
            Some((i, k)) => {
                used[i] = true;
                let mut ours = canon(k);
                if e.loader_view {
                    loader_view(&mut ours);
                }
                for m in diff(&e.spec, &ours) {
                    out.push(format!("{name}: {m}"));
                }
            }
        }
    }
    let now = now_ms();
    for (k, _) in d.keys.iter().zip(&used).filter(|(_, u)| !**u) {
        let expired = k.expire.is_some_and(|t| t <= now);
        let ok = match extra {
            Extra::Forbidden => false,
            Extra::Allowed => true,
            Extra::ExpiredOnly => expired,
        };
        if !ok {
            out.push(format!(
                "db {} key {}: in our dump but not in the expected output",
                k.db,
                show_bytes(&k.key)
            ));
        }
    }
}

fn check_aux(expected: &[(Vec<u8>, Vec<u8>)], d: &Dump, out: &mut Vec<String>) {
    let ours = d.aux();
    for (n, v) in expected {
        match ours.iter().find(|(on, _)| on == n) {
            None => out.push(format!("aux {}: not in our dump", show_bytes(n))),
            Some((_, ov)) if ov != v => out.push(format!(
                "aux {}: expected {} ours {}",
                show_bytes(n),
                show_bytes(v),
                show_bytes(ov)
            )),
            Some(_) => {}
        }
    }
}

fn check_functions(codes: &[Vec<u8>], d: &Dump, out: &mut Vec<String>) {
    let ours: Vec<Vec<u8>> = d
        .records_of("function")
        .map(|r| sbytes(&r["code"]))
        .collect();
    if ours.len() != codes.len() {
        out.push(format!(
            "{} function libraries expected, ours has {}",
            codes.len(),
            ours.len()
        ));
    }
    for c in codes {
        if !ours.contains(c) {
            out.push(format!(
                "function library not in our dump: {}",
                show_bytes(&c[..c.len().min(80)])
            ));
        }
    }
}

// =====================================================================
// Expected-output formats
// =====================================================================

/// HDT3213/rdb JSON export (`cases/*.json`).
fn cmp_hdt_json(text: &[u8], d: &Dump, out: &mut Vec<String>) -> Result<(), String> {
    let doc = parse_json(text, Esc::Utf8)?;
    let mut keys = Vec::new();
    let mut aux = Vec::new();
    let mut functions = Vec::new();
    for o in doc.arr().ok_or("not an array")? {
        let typ = o
            .get("type")
            .and_then(J::bytes)
            .ok_or("object without type")?;
        let key = o
            .get("key")
            .and_then(J::bytes)
            .ok_or("object without key")?
            .to_vec();
        let db = o.get("db").and_then(J::num).map(|n| n as u64);
        let field = |n: &str| {
            o.get(n)
                .ok_or_else(|| format!("{} without {n}", show_bytes(&key)))
        };
        for (name, _) in o.fields().into_iter().flatten() {
            let known: &[&str] = &[
                "db",
                "key",
                "size",
                "type",
                "encoding",
                "value",
                "values",
                "members",
                "entries",
                "hash",
                "expire",
                "functionsLua",
                "groups",
                "len",
                "lastId",
                "firstId",
                "maxDeletedId",
                "addedEntriesCount",
                "version",
                "isV2",
            ];
            if !known.iter().any(|k| k.as_bytes() == name.as_slice()) {
                return Err(format!("unhandled field {}", show_bytes(name)));
            }
        }
        let (t, value, field_ttl) = match typ {
            b"aux" => {
                let v = field("value")?.bytes().ok_or("aux value")?.to_vec();
                aux.push((key, v));
                continue;
            }
            b"functions" => {
                functions.push(
                    field("functionsLua")?
                        .bytes()
                        .ok_or("functionsLua")?
                        .to_vec(),
                );
                continue;
            }
            b"string" => ("string", field("value")?.clone(), None),
            b"list" => ("list", field("values")?.clone(), None),
            b"set" => (
                "set",
                sorted(field("members")?.arr().ok_or("members")?.clone()),
                None,
            ),
            b"zset" => {
                let mut v = Vec::new();
                for e in field("entries")?.arr().ok_or("entries")? {
                    let m = e.get("member").ok_or("member")?.clone();
                    let sc = e.get("score").and_then(J::num).ok_or("score")?;
                    v.push(arr(vec![m, num(sc)]));
                }
                ("zset", sorted(v), None)
            }
            b"hash" => {
                let h = field("hash")?.fields().ok_or("hash")?;
                let v = h
                    .iter()
                    .map(|(f, x)| arr(vec![J::Str(f.clone()), x.clone()]))
                    .collect();
                let mut ttl = Vec::new();
                // HDT3213 writes "expire" only for hashes with field TTLs,
                // 0 meaning "no TTL".
                if let Some(ex) = o.get("expire") {
                    for (f, t) in ex.fields().ok_or("expire")? {
                        let t = t.num().ok_or("expire value")?;
                        if t != 0.0 {
                            ttl.push(arr(vec![J::Str(f.clone()), num(t)]));
                        }
                    }
                }
                ("hash", sorted(v), Some(sorted(ttl)))
            }
            b"stream" => ("stream", hdt_stream(o)?, None),
            other => return Err(format!("unknown type {}", show_bytes(other))),
        };
        let mut spec = vec![("type", s(t)), ("value", value)];
        if let Some(ttl) = field_ttl {
            spec.push(("field_ttl", ttl));
        }
        keys.push(ExpKey {
            db,
            key,
            spec: obj(spec),
            loader_view: true,
        });
    }
    cmp_keyspace(&keys, d, Extra::Forbidden, out);
    check_aux(&aux, d, out);
    if !functions.is_empty() {
        check_functions(&functions, d, out);
    }
    Ok(())
}

fn hdt_stream(o: &J) -> Result<J, String> {
    let mut entries = Vec::new();
    for node in o.get("entries").and_then(J::arr).ok_or("stream entries")? {
        for m in node.get("msgs").and_then(J::arr).ok_or("msgs")? {
            if m.get("deleted") == Some(&J::Bool(true)) {
                continue;
            }
            let id = m.get("id").ok_or("msg id")?.clone();
            let fields = m.get("fields").and_then(J::fields).ok_or("msg fields")?;
            let f = fields
                .iter()
                .map(|(k, v)| arr(vec![J::Str(k.clone()), v.clone()]))
                .collect();
            entries.push(arr(vec![id, sorted(f)]));
        }
    }
    let mut spec = vec![("entries", arr(entries))];
    for (theirs, ours) in [
        ("len", "length"),
        ("lastId", "last_id"),
        ("firstId", "first_id"),
        ("maxDeletedId", "max_deleted_id"),
        ("addedEntriesCount", "entries_added"),
    ] {
        if let Some(v) = o.get(theirs) {
            spec.push((ours, v.clone()));
        }
    }
    if let Some(gs) = o.get("groups") {
        let mut groups = Vec::new();
        for g in gs.arr().ok_or("groups")? {
            let mut f = vec![
                ("name", g.get("name").ok_or("group name")?.clone()),
                (
                    "last_delivered_id",
                    g.get("lastId").ok_or("group lastId")?.clone(),
                ),
            ];
            if let Some(er) = g.get("entriesRead") {
                f.push(("entries_read", er.clone()));
            }
            let mut pending = Vec::new();
            for p in g.get("pending").and_then(J::arr).into_iter().flatten() {
                pending.push(obj(vec![
                    ("id", p.get("id").ok_or("pending id")?.clone()),
                    (
                        "delivery_time_ms",
                        p.get("deliveryTime").ok_or("deliveryTime")?.clone(),
                    ),
                    (
                        "delivery_count",
                        p.get("deliveryCount").ok_or("deliveryCount")?.clone(),
                    ),
                ]));
            }
            f.push(("pending", arr(pending)));
            let mut consumers = Vec::new();
            for c in g.get("consumers").and_then(J::arr).into_iter().flatten() {
                let mut cf = vec![
                    ("name", c.get("name").ok_or("consumer name")?.clone()),
                    ("seen_time_ms", c.get("seenTime").ok_or("seenTime")?.clone()),
                    ("pending", c.get("pending").cloned().unwrap_or(arr(vec![]))),
                ];
                if let Some(a) = c.get("activeTime") {
                    cf.push(("active_time_ms", a.clone()));
                }
                consumers.push(obj(cf));
            }
            f.push(("consumers", arr(consumers)));
            groups.push(obj(f));
        }
        spec.push(("groups", arr(groups)));
    }
    Ok(obj(spec))
}

/// librdb data-level JSON (`test/dumps/*_data.json` and friends).
fn cmp_librdb_data(
    text: &[u8],
    d: &Dump,
    extra: Extra,
    out: &mut Vec<String>,
) -> Result<(), String> {
    let per_db = librdb_objects(text)?;
    let dbs = d.dbs();
    let mut keys = Vec::new();
    for (i, (multi, o)) in per_db.iter().enumerate() {
        // An array holds one object per non-empty DB, in file order.
        let db = if *multi {
            Some(*dbs.get(i).ok_or("more DB objects than our dump has DBs")?)
        } else {
            None
        };
        for (name, v) in o.fields().ok_or("not an object")? {
            match name.as_slice() {
                b"__aux__" => {
                    let aux: Vec<_> = v
                        .fields()
                        .ok_or("__aux__")?
                        .iter()
                        .map(|(n, x)| (n.clone(), x.bytes().unwrap_or_default().to_vec()))
                        .collect();
                    check_aux(&aux, d, out);
                }
                b"__func__" => {
                    let codes: Vec<_> = v
                        .fields()
                        .ok_or("__func__")?
                        .iter()
                        .map(|(_, c)| c.bytes().unwrap_or_default().to_vec())
                        .collect();
                    check_functions(&codes, d, out);
                }
                b"__dbsize__" => {
                    let (size, exp) = (
                        v.get("size").and_then(J::num),
                        v.get("expires").and_then(J::num),
                    );
                    let found = d
                        .records_of("resizedb")
                        .any(|r| r["keys"].as_f64() == size && r["expires"].as_f64() == exp);
                    if !found {
                        out.push(format!("__dbsize__ {}: no such resizedb record", show(v)));
                    }
                }
                b"__slotinfo__" => {
                    let want = [
                        v.get("slotId"),
                        v.get("slotSize"),
                        v.get("slotSExpiresSize"),
                    ]
                    .map(|x| x.and_then(J::num));
                    let found = d.records_of("slot_info").any(|r| {
                        [
                            r["slot"].as_f64(),
                            r["size"].as_f64(),
                            r["expires_size"].as_f64(),
                        ] == want
                    });
                    if !found {
                        out.push(format!(
                            "__slotinfo__ {}: no such slot_info record",
                            show(v)
                        ));
                    }
                }
                _ => {
                    let ours = d
                        .keys
                        .iter()
                        .find(|k| &k.key == name && db.is_none_or(|db| db == k.db));
                    let typ = ours.map_or("?", |k| k.typ.as_str());
                    keys.push(ExpKey {
                        db,
                        key: name.clone(),
                        spec: obj(vec![("value", librdb_value(v, typ)?)]),
                        loader_view: true,
                    });
                }
            }
        }
    }
    cmp_keyspace(&keys, d, extra, out);
    Ok(())
}

/// The top-level objects of a librdb JSON file: an array of per-DB objects
/// (`true`), or the body of one object without its braces (`false`).
fn librdb_objects(text: &[u8]) -> Result<Vec<(bool, J)>, String> {
    let t = String::from_utf8_lossy(text);
    let t = t.trim();
    if t.is_empty() {
        return Ok(Vec::new());
    }
    if t.starts_with('[') {
        let doc = parse_json(text, Esc::Latin1)?;
        return Ok(doc
            .arr()
            .ok_or("array")?
            .iter()
            .map(|o| (true, o.clone()))
            .collect());
    }
    let mut wrapped = b"{".to_vec();
    wrapped.extend_from_slice(text);
    wrapped.extend_from_slice(b"}");
    Ok(vec![(false, parse_json(&wrapped, Esc::Latin1)?)])
}

/// A librdb data-level value, shaped by our type for it (librdb's arrays
/// serve lists and sets, its objects hashes, zsets and streams).
fn librdb_value(v: &J, typ: &str) -> Result<J, String> {
    Ok(match (typ, v) {
        ("string", J::Str(_)) => v.clone(),
        ("list", J::Arr(_)) => v.clone(),
        ("set", J::Arr(a)) => sorted(a.clone()),
        ("hash", J::Obj(f)) => sorted(
            f.iter()
                .map(|(k, x)| arr(vec![J::Str(k.clone()), x.clone()]))
                .collect(),
        ),
        ("zset", J::Obj(f)) => {
            let mut m = Vec::new();
            for (k, x) in f {
                let sc = x
                    .bytes()
                    .and_then(score)
                    .ok_or_else(|| format!("score {}", show(x)))?;
                m.push(arr(vec![J::Str(k.clone()), num(sc)]));
            }
            sorted(m)
        }
        ("stream", J::Obj(_)) => librdb_stream(v)?,
        ("module", J::Str(t)) => {
            // "<Content of Module 'NAME'. Occupies a serialized size of N bytes>"
            let t = String::from_utf8_lossy(t);
            let name = t.split('\'').nth(1).ok_or("module name")?;
            let size: f64 = t
                .split("size of ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .ok_or("module size")?;
            obj(vec![("module", s(name)), ("serialized_size", num(size))])
        }
        (_, v) => s(format!("<librdb value {} for a {typ} key>", show(v))),
    })
}

fn librdb_stream(v: &J) -> Result<J, String> {
    let mut spec = Vec::new();
    for (k, x) in v.fields().ok_or("stream")? {
        match k.as_slice() {
            b"entries" => {
                let mut entries = Vec::new();
                for e in x.arr().ok_or("entries")? {
                    let items = e.get("items").and_then(J::fields).ok_or("items")?;
                    let f = items
                        .iter()
                        .map(|(a, b)| arr(vec![J::Str(a.clone()), b.clone()]))
                        .collect();
                    entries.push(arr(vec![e.get("id").ok_or("id")?.clone(), sorted(f)]));
                }
                spec.push(("entries", arr(entries)));
            }
            b"length" => spec.push(("length", x.clone())),
            b"entriesAdded" => spec.push(("entries_added", x.clone())),
            b"firstID" => spec.push(("first_id", x.clone())),
            b"lastID" => spec.push(("last_id", x.clone())),
            b"maxDelEntryID" => spec.push(("max_deleted_id", x.clone())),
            b"groups" => {
                let mut groups = Vec::new();
                for g in x.arr().ok_or("groups")? {
                    let mut pending = Vec::new();
                    for p in g.get("pending").and_then(J::arr).into_iter().flatten() {
                        pending.push(obj(vec![
                            ("id", p.get("id").ok_or("pending id")?.clone()),
                            ("delivery_time_ms", p.get("sent").ok_or("sent")?.clone()),
                            ("delivery_count", p.get("count").ok_or("count")?.clone()),
                        ]));
                    }
                    let mut consumers = Vec::new();
                    for c in g.get("consumers").and_then(J::arr).into_iter().flatten() {
                        // librdb leaves "pending" out when it is empty.
                        let pel = c
                            .get("pending")
                            .and_then(J::arr)
                            .into_iter()
                            .flatten()
                            .map(|p| p.get("id").cloned().unwrap_or(J::Null))
                            .collect();
                        consumers.push(obj(vec![
                            ("name", c.get("name").ok_or("consumer name")?.clone()),
                            (
                                "active_time_ms",
                                c.get("activeTime").ok_or("activeTime")?.clone(),
                            ),
                            ("seen_time_ms", c.get("seenTime").ok_or("seenTime")?.clone()),
                            ("pending", arr(pel)),
                        ]));
                    }
                    groups.push(obj(vec![
                        ("name", g.get("name").ok_or("group name")?.clone()),
                        (
                            "last_delivered_id",
                            g.get("lastid").ok_or("lastid")?.clone(),
                        ),
                        (
                            "entries_read",
                            g.get("entriesRead").ok_or("entriesRead")?.clone(),
                        ),
                        ("pending", arr(pending)),
                        ("consumers", arr(consumers)),
                    ]));
                }
                spec.push(("groups", arr(groups)));
            }
            b"idmp" => {
                let mut producers = Vec::new();
                for p in x.get("producers").and_then(J::arr).into_iter().flatten() {
                    let mut iids = Vec::new();
                    for e in p.get("entries").and_then(J::arr).into_iter().flatten() {
                        iids.push(arr(vec![
                            e.get("iid").ok_or("iid")?.clone(),
                            e.get("streamId").ok_or("streamId")?.clone(),
                        ]));
                    }
                    if p.get("numEntries").and_then(J::num) != Some(iids.len() as f64) {
                        return Err("idmp numEntries disagrees with its entries".into());
                    }
                    producers.push(obj(vec![
                        ("pid", p.get("pid").ok_or("pid")?.clone()),
                        ("iids", arr(iids)),
                    ]));
                }
                if x.get("numProducers").and_then(J::num) != Some(producers.len() as f64) {
                    return Err("idmp numProducers disagrees with its producers".into());
                }
                spec.push((
                    "idmp",
                    obj(vec![
                        ("duration_s", x.get("duration").ok_or("duration")?.clone()),
                        ("maxsize", x.get("maxEntries").ok_or("maxEntries")?.clone()),
                        ("producers", arr(producers)),
                    ]),
                ));
            }
            other => return Err(format!("unhandled stream field {}", show_bytes(other))),
        }
    }
    Ok(obj(spec))
}

/// librdb raw-level JSON: each key's value as Redis serializes it (type
/// byte, then the value). Wrapped into a one-key RDB of the same version
/// and dumped, it must give the value we read from the file. Values
/// librdb splits into an array of chunks are not a single serialization
/// and are skipped.
fn cmp_librdb_raw(text: &[u8], d: &Dump, out: &mut Vec<String>) -> Result<(), String> {
    let version = d.header.as_ref().map_or(11, |h| h.1);
    let mut compared = 0;
    for (_, o) in librdb_objects(text)? {
        for (name, v) in o.fields().ok_or("not an object")? {
            if name.starts_with(b"__") {
                continue; // __aux__ etc.: compared in the data-level files
            }
            let Some(raw) = v.bytes() else { continue };
            compared += 1;
            if raw.is_empty() {
                out.push(format!("key {}: empty raw value", show_bytes(name)));
                continue;
            }
            let mut body = vec![0xfe, 0x00, raw[0]];
            body.extend(rdb_str(name));
            body.extend(&raw[1..]);
            let run = rdbscope_dump_bytes(&mini_rdb(version, &body));
            let theirs = Dump::parse(&run.stdout);
            if run.code != Some(0) || theirs.keys.len() != 1 {
                out.push(format!(
                    "key {}: librdb's serialization does not dump as one key (exit {:?}): {}",
                    show_bytes(name),
                    run.code,
                    run.stderr.trim()
                ));
                continue;
            }
            let mut spec = canon(&theirs.keys[0]);
            strip(&mut spec, &["expire_at_ms"]);
            let exp = [ExpKey {
                db: None,
                key: name.clone(),
                spec,
                loader_view: false,
            }];
            cmp_keyspace(&exp, d, Extra::Allowed, out);
        }
    }
    if compared == 0 {
        return Err("no single-string raw values to compare".into());
    }
    Ok(())
}

/// rdb-rs JSON: an array with one `{key: value}` object per DB.
fn cmp_badboy_json(text: &[u8], d: &Dump, out: &mut Vec<String>) -> Result<(), String> {
    let doc = parse_json(text, Esc::ByteEscapes)?;
    let dbs = d.dbs();
    let mut keys = Vec::new();
    for (i, o) in doc.arr().ok_or("not an array")?.iter().enumerate() {
        let db = *dbs.get(i).ok_or("more DB objects than our dump has DBs")?;
        for (name, v) in o.fields().ok_or("not an object")? {
            let ours = d.keys.iter().find(|k| &k.key == name && k.db == db);
            let typ = ours.map_or("?", |k| k.typ.as_str());
            keys.push(ExpKey {
                db: Some(db),
                key: name.clone(),
                spec: obj(vec![("type", s(typ)), ("value", librdb_value(v, typ)?)]),
                loader_view: false,
            });
        }
    }
    cmp_keyspace(&keys, d, Extra::Forbidden, out);
    Ok(())
}

/// rdb-rs `plain`: `aux NAME -> VALUE`, `db=N KEY -> VALUE` (strings),
/// `db=N KEY[i] -> ELEMENT` (lists), `db=N KEY . FIELD -> VALUE` (hashes),
/// `checksum HEX`. Binary values may hold newlines, so the comparison
/// renders our dump the same way and compares the multisets of lines.
/// The checksum line repeats the file's trailer: our EOF record must say
/// "ok", i.e. we computed the same CRC.
fn cmp_badboy_plain(text: &[u8], d: &Dump, out: &mut Vec<String>) -> Result<(), String> {
    let mut ours = Vec::new();
    for (n, v) in d.aux() {
        ours.extend(b"aux ");
        ours.extend(n);
        ours.extend(b" -> ");
        ours.extend(v);
        ours.push(b'\n');
    }
    for k in &d.keys {
        let pre = format!("db={} ", k.db).into_bytes();
        let mut line = |parts: &[&[u8]]| {
            ours.extend(&pre);
            ours.extend(&k.key);
            for p in parts {
                ours.extend(*p);
            }
            ours.push(b'\n');
        };
        let v = &k.line["value"];
        match k.typ.as_str() {
            "string" => line(&[&b" -> "[..], &sbytes(v)[..]]),
            "list" => {
                for (i, e) in v.as_array().into_iter().flatten().enumerate() {
                    line(&[format!("[{i}] -> ").as_bytes(), &sbytes(e)[..]]);
                }
            }
            "hash" => {
                for p in v.as_array().into_iter().flatten() {
                    line(&[
                        &b" . "[..],
                        &sbytes(&p[0])[..],
                        &b" -> "[..],
                        &sbytes(&p[1])[..],
                    ]);
                }
            }
            t => return Err(format!("no plain rendering known for type {t}")),
        }
    }
    let lines = |b: &[u8]| -> BTreeMap<Vec<u8>, usize> {
        let mut m = BTreeMap::new();
        for l in b
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty() && !l.starts_with(b"checksum "))
        {
            *m.entry(l.to_vec()).or_insert(0) += 1;
        }
        m
    };
    let (exp, got) = (lines(text), lines(&ours));
    for (l, n) in &exp {
        if got.get(l) != Some(n) {
            out.push(format!(
                "line {} ({n}x) not in ours ({}x)",
                show_bytes(l),
                got.get(l).unwrap_or(&0)
            ));
        }
    }
    for (l, n) in &got {
        if !exp.contains_key(l) {
            out.push(format!("our line {} ({n}x) not expected", show_bytes(l)));
        }
    }
    if text
        .split(|&c| c == b'\n')
        .any(|l| l.starts_with(b"checksum "))
    {
        let eof = d.records_of("eof").next().map(|r| r["checksum"].clone());
        if eof != Some(Value::from("ok")) {
            out.push(format!(
                "the file has a checksum line, our EOF record says {eof:?}"
            ));
        }
    }
    out.truncate(12);
    Ok(())
}

/// rdb-cli's `rct -f dump`: `select DB`, `restore KEY TTL PAYLOAD` and
/// `function restore PAYLOAD`, in file order. All payloads go into one RDB
/// (same order, a SELECTDB per select) that rdbscope dumps; its keys must
/// equal ours one by one. rct leaves out keys whose TTL had passed when it
/// ran (TTL is 0 everywhere), so our already-expired keys may be missing.
/// The `dump7` variant re-encodes every value for RDB 7 (streams as type
/// 15, so no first_id/max_deleted_id/entries_added/entries_read/active
/// time) and drops the 7.0-RC functions.
fn cmp_rct_dump(text: &[u8], d: &Dump, out: &mut Vec<String>) -> Result<(), String> {
    let cmds = parse_resp(text)?;
    let mut body = Vec::new();
    let (mut version, mut min_version) = (10, u64::MAX);
    for c in &cmds {
        let name = c[0].to_ascii_lowercase();
        let payload = |p: &[u8]| -> Result<(Vec<u8>, u64), String> {
            if p.len() < 11 {
                return Err("short payload".into());
            }
            let ver = u16::from_le_bytes([p[p.len() - 10], p[p.len() - 9]]) as u64;
            Ok((p[..p.len() - 10].to_vec(), ver))
        };
        match (name.as_slice(), c.len()) {
            (b"select", 2) => {
                body.push(0xfe);
                body.extend(rdb_len(parse_u64(&c[1])?));
            }
            (b"restore", 4) => {
                if c[2] != b"0" {
                    return Err(format!("restore with TTL {}", show_bytes(&c[2])));
                }
                let (p, ver) = payload(&c[3])?;
                version = version.max(ver);
                min_version = min_version.min(ver);
                body.push(p[0]);
                body.extend(rdb_str(&c[1]));
                body.extend(&p[1..]);
            }
            (b"function", 3) if c[1].eq_ignore_ascii_case(b"restore") => {
                body.extend(payload(&c[2])?.0);
            }
            _ => return Err(format!("unhandled command {}", show_bytes(&c[0]))),
        }
    }
    let run = rdbscope_dump_bytes(&mini_rdb(version, &body));
    if run.code != Some(0) {
        out.push(format!(
            "the RESTORE payloads do not dump (exit {:?}): {}",
            run.code,
            run.stderr.trim()
        ));
    }
    let theirs = Dump::parse(&run.stdout);
    let downgraded = min_version < 10;
    let now = now_ms();
    let mut j = 0;
    for k in &d.keys {
        let Some(t) = theirs.keys.get(j) else {
            if k.expire.is_none_or(|t| t > now) {
                out.push(format!(
                    "db {} key {}: not in the rct dump",
                    k.db,
                    show_bytes(&k.key)
                ));
            }
            continue;
        };
        if t.key != k.key || t.db != k.db {
            if k.expire.is_some_and(|t| t <= now) {
                continue; // expired: rct skipped it
            }
            out.push(format!(
                "db {} key {}: the rct dump has db {} key {} here",
                k.db,
                show_bytes(&k.key),
                t.db,
                show_bytes(&t.key)
            ));
            return Ok(()); // out of step: the rest would only repeat this
        }
        j += 1;
        let mut spec = canon(t);
        strip(&mut spec, &["expire_at_ms"]);
        if downgraded {
            strip(
                &mut spec,
                &[
                    "first_id",
                    "max_deleted_id",
                    "entries_added",
                    "entries_read",
                    "active_time_ms",
                ],
            );
        }
        for m in diff(&spec, &canon(k)) {
            out.push(format!("db {} key {}: {m}", k.db, show_bytes(&k.key)));
        }
        if out.len() > 20 {
            return Ok(());
        }
    }
    if j < theirs.keys.len() {
        out.push(format!(
            "{} keys of the rct dump left over",
            theirs.keys.len() - j
        ));
    }
    let fns = |d: &Dump| -> Vec<Value> { d.records_of("function_pre_ga").cloned().collect() };
    let fn_cmds = cmds
        .iter()
        .filter(|c| c[0].eq_ignore_ascii_case(b"function"))
        .count();
    if fns(&theirs).len() != fn_cmds {
        out.push(format!(
            "{fn_cmds} FUNCTION RESTOREs gave {} function_pre_ga records",
            fns(&theirs).len()
        ));
    } else if fn_cmds > 0 && fns(&theirs) != fns(d) {
        out.push(format!(
            "functions: rct {:?} ours {:?}",
            fns(&theirs),
            fns(d)
        ));
    }
    eprintln!(
        "rct dump (RDB {min_version} payloads): {j} keys compared, {} of ours absent (expired), {fn_cmds} function payloads",
        d.keys.len() - j
    );
    Ok(())
}

/// Removes the named fields from every object in `j`.
fn strip(j: &mut J, names: &[&str]) {
    match j {
        J::Obj(f) => {
            f.retain(|(k, _)| !names.iter().any(|n| n.as_bytes() == k.as_slice()));
            for (_, v) in f {
                strip(v, names);
            }
        }
        J::Arr(a) => a.iter_mut().for_each(|v| strip(v, names)),
        _ => {}
    }
}

// ---- command streams -------------------------------------------------

/// Replays HDT3213 AOF, librdb RESP and rdb-rs protocol output into a
/// keyspace model and compares it with our dump. Any command the model
/// does not know is an error, so nothing is silently ignored.
fn cmp_commands(text: &[u8], d: &Dump, out: &mut Vec<String>) -> Result<(), String> {
    let cmds = parse_resp(text)?;
    let mut m = Model::default();
    for c in &cmds {
        m.apply(c)
            .map_err(|e| format!("{e} in {}", show_bytes(&c.join(&b' '))))?;
    }
    let keys: Vec<ExpKey> = m.keys.iter().map(MKey::spec).collect();
    cmp_keyspace(&keys, d, Extra::Forbidden, out);
    Ok(())
}

#[derive(Default)]
struct Model {
    db: u64,
    keys: Vec<MKey>,
}

struct MKey {
    db: u64,
    key: Vec<u8>,
    typ: &'static str,
    expire: Option<i64>,
    string: Vec<u8>,
    list: Vec<Vec<u8>>,
    set: BTreeSet<Vec<u8>>,
    zset: BTreeMap<Vec<u8>, f64>,
    hash: BTreeMap<Vec<u8>, Vec<u8>>,
    field_ttl: BTreeMap<Vec<u8>, i64>,
    stream: MStream,
}

type Bytes = Vec<u8>;
/// (id or pid, [(field, value)] or [(iid, id)])
type Pairs = (Bytes, Vec<(Bytes, Bytes)>);

#[derive(Default)]
struct MStream {
    entries: Vec<Pairs>,
    last_id: Option<Bytes>,
    entries_added: Option<u64>,
    max_deleted_id: Option<Bytes>,
    groups: Vec<MGroup>,
    idmp_config: Option<(u64, u64)>,
    producers: Vec<Pairs>,
}

struct MGroup {
    name: Bytes,
    last_id: Bytes,
    entries_read: Option<u64>,
    /// (id, consumer, delivery time, delivery count)
    pel: Vec<(Bytes, Bytes, u64, u64)>,
}

impl Model {
    fn key(&mut self, key: &[u8], typ: &'static str) -> Result<&mut MKey, String> {
        let db = self.db;
        let i = match self.keys.iter().position(|k| k.db == db && k.key == key) {
            Some(i) => i,
            None => {
                self.keys.push(MKey {
                    db,
                    key: key.to_vec(),
                    typ,
                    expire: None,
                    string: Vec::new(),
                    list: Vec::new(),
                    set: BTreeSet::new(),
                    zset: BTreeMap::new(),
                    hash: BTreeMap::new(),
                    field_ttl: BTreeMap::new(),
                    stream: MStream::default(),
                });
                self.keys.len() - 1
            }
        };
        let k = &mut self.keys[i];
        if typ != "any" && k.typ != typ {
            return Err(format!("{} used as {typ} and {}", show_bytes(key), k.typ));
        }
        Ok(k)
    }

    fn apply(&mut self, c: &[Vec<u8>]) -> Result<(), String> {
        let cmd = String::from_utf8_lossy(&c[0]).to_ascii_uppercase();
        let a = &c[1..];
        let need = |n: usize| {
            if a.len() < n {
                Err(format!("{cmd}: too few arguments"))
            } else {
                Ok(())
            }
        };
        match cmd.as_str() {
            "SELECT" => {
                need(1)?;
                self.db = parse_u64(&a[0])?;
            }
            "SET" if a.len() == 2 => self.key(&a[0], "string")?.string = a[1].clone(),
            "RPUSH" => {
                need(2)?;
                self.key(&a[0], "list")?.list.extend(a[1..].iter().cloned());
            }
            "SADD" => {
                need(2)?;
                self.key(&a[0], "set")?.set.extend(a[1..].iter().cloned());
            }
            "ZADD" => {
                need(3)?;
                let k = self.key(&a[0], "zset")?;
                for p in a[1..].chunks(2) {
                    let sc = score(&p[0]).ok_or("ZADD score")?;
                    k.zset.insert(p.get(1).ok_or("ZADD member")?.clone(), sc);
                }
            }
            "HSET" | "HMSET" => {
                need(3)?;
                let k = self.key(&a[0], "hash")?;
                for p in a[1..].chunks(2) {
                    k.hash
                        .insert(p[0].clone(), p.get(1).ok_or("HSET value")?.clone());
                }
            }
            "HPEXPIREAT" | "HPERSIST" => {
                // HPEXPIREAT key ms FIELDS n f...; HPERSIST key FIELDS n f...
                need(3)?;
                let (ms, rest) = if cmd == "HPEXPIREAT" {
                    (Some(parse_i64(&a[1])?), &a[2..])
                } else {
                    (None, &a[1..])
                };
                if !rest
                    .first()
                    .is_some_and(|f| f.eq_ignore_ascii_case(b"FIELDS"))
                {
                    return Err(format!("{cmd} without FIELDS"));
                }
                let n = parse_u64(rest.get(1).ok_or("FIELDS count")?)? as usize;
                let fields = rest.get(2..2 + n).ok_or("FIELDS list")?;
                let k = self.key(&a[0], "hash")?;
                for f in fields {
                    match ms {
                        Some(ms) => k.field_ttl.insert(f.clone(), ms),
                        None => k.field_ttl.remove(f),
                    };
                }
            }
            "PEXPIREAT" | "EXPIREAT" => {
                need(2)?;
                let t = parse_i64(&a[1])?;
                self.key(&a[0], "any")?.expire = Some(if cmd == "EXPIREAT" { t * 1000 } else { t });
            }
            "XADD" => {
                need(4)?;
                let fields = a[2..]
                    .chunks(2)
                    .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default()))
                    .collect();
                self.key(&a[0], "stream")?
                    .stream
                    .entries
                    .push((a[1].clone(), fields));
            }
            "XSETID" => {
                need(2)?;
                let st = &mut self.key(&a[0], "stream")?.stream;
                st.last_id = Some(a[1].clone());
                for o in a[2..].chunks(2) {
                    let v = o.get(1).ok_or("XSETID option value")?;
                    match o[0].to_ascii_uppercase().as_slice() {
                        b"ENTRIESADDED" => st.entries_added = Some(parse_u64(v)?),
                        b"MAXDELETEDID" => st.max_deleted_id = Some(v.clone()),
                        other => return Err(format!("XSETID option {}", show_bytes(other))),
                    }
                }
            }
            "XGROUP" if a.first().is_some_and(|x| x.eq_ignore_ascii_case(b"CREATE")) => {
                need(4)?;
                let mut read = None;
                let mut i = 4;
                while i < a.len() {
                    match a[i].to_ascii_uppercase().as_slice() {
                        b"MKSTREAM" => i += 1,
                        b"ENTRIESREAD" => {
                            read = Some(parse_u64(a.get(i + 1).ok_or("ENTRIESREAD value")?)?);
                            i += 2;
                        }
                        other => return Err(format!("XGROUP CREATE option {}", show_bytes(other))),
                    }
                }
                let st = &mut self.key(&a[1], "stream")?.stream;
                st.groups.push(MGroup {
                    name: a[2].clone(),
                    last_id: a[3].clone(),
                    entries_read: read,
                    pel: Vec::new(),
                });
            }
            "XCLAIM" => {
                // XCLAIM key group consumer min-idle id... [TIME ms] [RETRYCOUNT n] [JUSTID] [FORCE]
                need(5)?;
                let mut ids = Vec::new();
                let (mut time, mut count) = (None, None);
                let mut i = 4;
                while i < a.len() {
                    match a[i].to_ascii_uppercase().as_slice() {
                        b"TIME" => {
                            time = Some(parse_u64(a.get(i + 1).ok_or("TIME value")?)?);
                            i += 2;
                        }
                        b"RETRYCOUNT" => {
                            count = Some(parse_u64(a.get(i + 1).ok_or("RETRYCOUNT value")?)?);
                            i += 2;
                        }
                        b"JUSTID" | b"FORCE" => i += 1,
                        _ => {
                            ids.push(a[i].clone());
                            i += 1;
                        }
                    }
                }
                let (time, count) = (
                    time.ok_or("XCLAIM without TIME")?,
                    count.ok_or("XCLAIM without RETRYCOUNT")?,
                );
                let st = &mut self.key(&a[0], "stream")?.stream;
                let g = st
                    .groups
                    .iter_mut()
                    .find(|g| g.name == a[1])
                    .ok_or("XCLAIM of an unknown group")?;
                for id in ids {
                    g.pel.push((id, a[2].clone(), time, count));
                }
            }
            "XCFGSET" => {
                need(5)?;
                let (mut dur, mut max) = (None, None);
                for o in a[1..].chunks(2) {
                    let v = parse_u64(o.get(1).ok_or("XCFGSET value")?)?;
                    match o[0].to_ascii_uppercase().as_slice() {
                        b"IDMP-DURATION" => dur = Some(v),
                        b"IDMP-MAXSIZE" => max = Some(v),
                        other => return Err(format!("XCFGSET option {}", show_bytes(other))),
                    }
                }
                self.key(&a[0], "stream")?.stream.idmp_config =
                    Some((dur.ok_or("no duration")?, max.ok_or("no maxsize")?));
            }
            "XIDMPRECORD" => {
                need(4)?;
                let st = &mut self.key(&a[0], "stream")?.stream;
                match st.producers.iter_mut().find(|p| p.0 == a[1]) {
                    Some(p) => p.1.push((a[2].clone(), a[3].clone())),
                    None => st
                        .producers
                        .push((a[1].clone(), vec![(a[2].clone(), a[3].clone())])),
                }
            }
            _ => return Err(format!("cannot model command {cmd}")),
        }
        Ok(())
    }
}

impl MKey {
    fn spec(&self) -> ExpKey {
        let value = match self.typ {
            "string" => s(&self.string),
            "list" => arr(self.list.iter().map(s).collect()),
            "set" => sorted(self.set.iter().map(s).collect()),
            "zset" => sorted(
                self.zset
                    .iter()
                    .map(|(m, sc)| arr(vec![s(m), num(*sc)]))
                    .collect(),
            ),
            "hash" => sorted(self.hash.iter().map(|(f, v)| pair(f, v)).collect()),
            "stream" => self.stream.spec(),
            _ => J::Null,
        };
        let mut f = vec![
            ("type", s(self.typ)),
            ("expire_at_ms", self.expire.map_or(J::Null, num)),
            ("value", value),
        ];
        if self.typ == "hash" {
            f.push((
                "field_ttl",
                sorted(
                    self.field_ttl
                        .iter()
                        .map(|(k, t)| arr(vec![s(k), num(*t)]))
                        .collect(),
                ),
            ));
        }
        ExpKey {
            db: Some(self.db),
            key: self.key.clone(),
            spec: obj(f),
            loader_view: false,
        }
    }
}

impl MStream {
    fn spec(&self) -> J {
        let entries = self
            .entries
            .iter()
            .map(|(id, f)| {
                arr(vec![
                    s(id),
                    sorted(f.iter().map(|(a, b)| pair(a, b)).collect()),
                ])
            })
            .collect();
        let mut f = vec![
            ("entries", arr(entries)),
            ("length", num(self.entries.len() as u64)),
        ];
        if let Some(id) = &self.last_id {
            f.push(("last_id", s(id)));
        }
        if let Some(n) = self.entries_added {
            f.push(("entries_added", num(n)));
        }
        if let Some(id) = &self.max_deleted_id {
            f.push(("max_deleted_id", s(id)));
        }
        let groups = self
            .groups
            .iter()
            .map(|gr| {
                let mut g = vec![("name", s(&gr.name)), ("last_delivered_id", s(&gr.last_id))];
                if let Some(r) = gr.entries_read {
                    g.push(("entries_read", num(r)));
                }
                let pel = gr
                    .pel
                    .iter()
                    .map(|(id, c, t, n)| {
                        obj(vec![
                            ("id", s(id)),
                            ("consumer", s(c)),
                            ("delivery_time_ms", num(*t)),
                            ("delivery_count", num(*n)),
                        ])
                    })
                    .collect();
                g.push(("pending", arr(pel)));
                obj(g)
            })
            .collect();
        f.push(("groups", arr(groups)));
        if self.idmp_config.is_some() || !self.producers.is_empty() {
            let mut i = Vec::new();
            if let Some((d, m)) = self.idmp_config {
                i.push(("duration_s", num(d)));
                i.push(("maxsize", num(m)));
            }
            let producers = self
                .producers
                .iter()
                .map(|(pid, iids)| {
                    obj(vec![
                        ("pid", s(pid)),
                        ("iids", arr(iids.iter().map(|(a, b)| pair(a, b)).collect())),
                    ])
                })
                .collect();
            i.push(("producers", arr(producers)));
            f.push(("idmp", obj(i)));
        }
        obj(f)
    }
}

fn parse_u64(b: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("not a number: {}", show_bytes(b)))
}

fn parse_i64(b: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("not a number: {}", show_bytes(b)))
}

/// RESP arrays of bulk strings, back to back.
fn parse_resp(b: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, String> {
    fn line(b: &[u8], i: &mut usize, lead: u8) -> Result<usize, String> {
        if b.get(*i) != Some(&lead) {
            return Err(format!("RESP: expected '{}' at byte {}", lead as char, *i));
        }
        let end = b[*i..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("RESP: no CRLF")?
            + *i;
        let n = std::str::from_utf8(&b[*i + 1..end])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or("RESP: bad length")?;
        *i = end + 2;
        Ok(n)
    }
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let n = line(b, &mut i, b'*')?;
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            let len = line(b, &mut i, b'$')?;
            let arg = b.get(i..i + len).ok_or("RESP: truncated")?.to_vec();
            if b.get(i + len..i + len + 2) != Some(b"\r\n") {
                return Err(format!("RESP: no CRLF after bulk string at byte {i}"));
            }
            i += len + 2;
            args.push(arg);
        }
        if args.is_empty() {
            return Err("RESP: empty command".into());
        }
        cmds.push(args);
    }
    Ok(cmds)
}

// ---- RDB bytes (the library's writer) ------------------------------------

fn rdb_len(n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    rdbscope_rdb::write::cursor::length(&mut v, n);
    v
}

fn rdb_str(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    rdbscope_rdb::write::rdb_string::string(&mut v, b);
    v
}

/// An RDB of `version` around `body`: EOF, and a zero (disabled) checksum
/// from version 5 on.
fn mini_rdb(version: u64, body: &[u8]) -> Vec<u8> {
    let version = u32::try_from(version).expect("RDB version");
    let mut w = rdbscope_rdb::write::records::Writer::redis(Vec::new(), version).expect("header");
    w.raw(body).expect("body");
    w.finish_unchecked().expect("EOF")
}

/// The 64-bit module id of a 9-character name and encoding version
/// (docs/format.md#modules).
fn module_id(name: &str, encver: u64) -> Option<u64> {
    let encver = u32::try_from(encver).ok()?;
    rdbscope_rdb::write::module::module_id(name, encver)
        .ok()
        .map(|id| id.0)
}

// =====================================================================
// A small JSON reader for the third-party files
// =====================================================================

/// How `\u00XX` escapes and non-ASCII text map to bytes. Third-party
/// tools escape binary strings byte by byte.
#[derive(Clone, Copy, PartialEq)]
enum Esc {
    /// Standard JSON: escapes and text are Unicode, stored as UTF-8.
    Utf8,
    /// rdb-rs: `\u00XX` is the byte XX, raw bytes are themselves (it
    /// writes valid UTF-8 strings as text and escapes the rest).
    ByteEscapes,
    /// librdb: every character up to U+00FF is one byte, escaped or not.
    Latin1,
}

fn parse_json(b: &[u8], esc: Esc) -> Result<J, String> {
    let mut p = JsonReader { b, i: 0, esc };
    let v = p.value()?;
    p.ws();
    if p.i != b.len() {
        return Err(format!("JSON: trailing data at byte {}", p.i));
    }
    Ok(v)
}

struct JsonReader<'a> {
    b: &'a [u8],
    i: usize,
    esc: Esc,
}

impl JsonReader<'_> {
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("JSON: {what} at byte {}", self.i))
    }
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Result<J, String> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut f = Vec::new();
                if self.eat(b'}') {
                    return Ok(J::Obj(f));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return self.err("expected ':'");
                    }
                    f.push((k, self.value()?));
                    if self.eat(b'}') {
                        return Ok(J::Obj(f));
                    }
                    if !self.eat(b',') {
                        return self.err("expected ',' or '}'");
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']') {
                    return Ok(J::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    if self.eat(b']') {
                        return Ok(J::Arr(a));
                    }
                    if !self.eat(b',') {
                        return self.err("expected ',' or ']'");
                    }
                }
            }
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b't') if self.b[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(J::Bool(true))
            }
            Some(b'f') if self.b[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(J::Bool(false))
            }
            Some(b'n') if self.b[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(J::Null)
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| b"+-.eE0123456789".contains(c))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
                t.parse().map(J::Num).or_else(|_| self.err("bad number"))
            }
            _ => self.err("unexpected character"),
        }
    }
    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .b
            .get(self.i..self.i + 4)
            .ok_or("JSON: short \\u escape")?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(h).unwrap_or("x"), 16)
            .or_else(|_| self.err("bad \\u escape"))
    }
    fn string(&mut self) -> Result<Vec<u8>, String> {
        if self.b.get(self.i) != Some(&b'"') {
            return self.err("expected a string");
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return self.err("bad escape");
                    };
                    self.i += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return self.err("bad escape"),
                    };
                    if let Some(x) = simple {
                        out.push(x);
                        continue;
                    }
                    let mut cp = self.hex4()?;
                    if (0xd800..0xdc00).contains(&cp) && self.b[self.i..].starts_with(b"\\u") {
                        self.i += 2;
                        let lo = self.hex4()?;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo.wrapping_sub(0xdc00) & 0x3ff);
                    }
                    if self.esc != Esc::Utf8 && cp <= 0xff {
                        out.push(cp as u8);
                    } else {
                        let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                        out.extend(ch.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
                c if c >= 0x80 && self.esc == Esc::Latin1 => {
                    // One UTF-8 character; code points up to U+00FF are bytes.
                    let start = self.i - 1;
                    let len = match c {
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let ch = self
                        .b
                        .get(start..start + len)
                        .and_then(|s| std::str::from_utf8(s).ok())
                        .and_then(|s| s.chars().next());
                    match ch {
                        Some(ch) if (ch as u32) <= 0xff => out.push(ch as u32 as u8),
                        Some(ch) => out.extend(ch.encode_utf8(&mut [0; 4]).as_bytes()),
                        None => return self.err("invalid UTF-8"),
                    }
                    self.i = start + len;
                }
                c => out.push(c),
            }
        }
    }
}

// =====================================================================
// Collecting failures; content checks of one dump
// =====================================================================

#[derive(Default)]
struct Fails(Vec<String>);

impl Fails {
    fn push(&mut self, ctx: &str, msg: impl std::fmt::Display) {
        self.0.push(format!("{ctx}: {msg}"));
    }
    fn finish(self, what: &str) {
        if !self.0.is_empty() {
            let mut m = format!("{what}: {} failure(s)\n", self.0.len());
            for f in &self.0 {
                m.push_str("  - ");
                m.push_str(f);
                m.push('\n');
            }
            panic!("{m}");
        }
    }
}

/// Content checks of one valid file's dump.
struct Chk<'a> {
    corpus: &'a Path,
    d: &'a Dump,
    out: Vec<String>,
}

enum RawIs {
    Exact(&'static str),
    Prefix(&'static str),
}

impl<'a> Chk<'a> {
    fn fail(&mut self, m: impl Into<String>) {
        self.out.push(m.into());
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, expected: T, got: T) {
        if expected != got {
            self.fail(format!("{what}: expected {expected:?}, got {got:?}"));
        }
    }

    /// Checks every valid dump must pass: JSON lines only, the header of
    /// the file's own magic, the EOF record last, well-formed keys.
    fn complete(&mut self, path: &Path) {
        let d = self.d;
        if !d.bad_lines.is_empty() {
            self.fail(format!("non-JSON output lines: {:?}", d.bad_lines));
        }
        if let Some(u) = &d.unterminated {
            self.fail(format!("output does not end with a newline: {u:?}"));
        }
        let head = std::fs::read(path)
            .map(|b| b[..b.len().min(9)].to_vec())
            .unwrap_or_default();
        let want = if head.starts_with(b"VALKEY") {
            ("VALKEY".to_string(), parse_u64(&head[6..]).unwrap_or(0))
        } else {
            (
                "REDIS".to_string(),
                parse_u64(head.get(5..).unwrap_or(b"")).unwrap_or(0),
            )
        };
        self.eq(
            "header record (magic, version)",
            Some(want),
            d.header.clone(),
        );
        match d.records.last() {
            Some(r) if r["record"] == "eof" => {}
            other => self.fail(format!("the last record is not EOF: {other:?}")),
        }
        for k in &d.keys {
            if k.db == u64::MAX || k.typ == "?" || k.line.get("value").is_none() {
                self.fail(format!("malformed key record {}", k.line));
            }
        }
    }

    fn header(&mut self, magic: &str, version: u64) {
        self.eq(
            "header",
            Some((magic.to_string(), version)),
            self.d.header.clone(),
        );
    }

    fn aux_is(&mut self, name: &str, value: &str) {
        let got: Vec<Vec<u8>> = self
            .d
            .aux()
            .into_iter()
            .filter(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v)
            .collect();
        self.eq(&format!("aux {name}"), vec![value.as_bytes().to_vec()], got);
    }

    fn key_count(&mut self, n: usize) {
        self.eq("number of keys", n, self.d.keys.len());
    }

    fn type_counts(&mut self, want: &[(&str, usize)]) {
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for k in &self.d.keys {
            *got.entry(k.typ.clone()).or_default() += 1;
        }
        let want: BTreeMap<String, usize> = want.iter().map(|(t, n)| (t.to_string(), *n)).collect();
        self.eq("keys per type", want, got);
    }

    fn key(&self, name: &str) -> Option<&'a Key> {
        self.d.keys.iter().find(|k| k.key == name.as_bytes())
    }

    fn key_is(&mut self, name: &str, spec: J) {
        match self.key(name) {
            None => self.fail(format!("key {name:?} missing")),
            Some(k) => {
                for m in diff(&spec, &canon(k)) {
                    self.fail(format!("key {name:?}: {m}"));
                }
            }
        }
    }

    fn key_in_db(&mut self, db: u64, name: &str, spec: J) {
        match self
            .d
            .keys
            .iter()
            .find(|k| k.db == db && k.key == name.as_bytes())
        {
            None => self.fail(format!("key {name:?} missing from db {db}")),
            Some(k) => {
                for m in diff(&spec, &canon(k)) {
                    self.fail(format!("db {db} key {name:?}: {m}"));
                }
            }
        }
    }

    fn module_key(&mut self, name: &str, module: &str, encver: u64, raw: RawIs, raw_len: usize) {
        let Some(k) = self.key(name) else {
            self.fail(format!("module key {name:?} missing"));
            return;
        };
        let v = &k.line["value"];
        self.eq(&format!("{name}: type"), "module", k.typ.as_str());
        self.eq(
            &format!("{name}: module name"),
            Some(module),
            v["module"].as_str(),
        );
        self.eq(
            &format!("{name}: encver"),
            Some(encver),
            v["encver"].as_u64(),
        );
        let got = sbytes(&v["raw"]);
        self.eq(&format!("{name}: raw length"), raw_len, got.len());
        let ok = match raw {
            RawIs::Exact(h) => got == unhex(h),
            RawIs::Prefix(h) => got.starts_with(&unhex(h)),
        };
        if !ok {
            self.fail(format!(
                "{name}: raw bytes {} are not as written in the file",
                hex(&got)
            ));
        }
    }

    /// The MODULE_AUX records, in order: (module, encver, when, raw hex).
    fn module_aux(&mut self, want: &[(&str, u64, u64, &str)]) {
        let got: Vec<(String, u64, u64, String)> = self
            .d
            .records_of("module_aux")
            .map(|r| {
                (
                    r["module"].as_str().unwrap_or("?").to_string(),
                    r["encver"].as_u64().unwrap_or(u64::MAX),
                    r["when"].as_u64().unwrap_or(u64::MAX),
                    hex(&sbytes(&r["raw"])),
                )
            })
            .collect();
        let want: Vec<(String, u64, u64, String)> = want
            .iter()
            .map(|(m, e, w, h)| (m.to_string(), *e, *w, h.to_string()))
            .collect();
        self.eq("module_aux records", want, got);
    }

    fn eof(&mut self, checksum: &str, trailing: u64) {
        let eof = self
            .d
            .records_of("eof")
            .next()
            .cloned()
            .unwrap_or(Value::Null);
        self.eq("eof checksum", Some(checksum), eof["checksum"].as_str());
        self.eq(
            "eof trailing_bytes",
            Some(trailing),
            eof["trailing_bytes"].as_u64(),
        );
    }
}
