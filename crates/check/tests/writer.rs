//! The deep checker on what the library's writer makes, for the types no
//! server at hand loads (Redis 7.4+ hashes with field expiries, stream
//! layouts 3 and 4, module values and records, SLOT_INFO): every rule
//! must pass. The types real servers load are proven against them in
//! `crates/rdb/tests/write_live.rs`.

use rdbscope_check::{check, Options, Report};
use rdbscope_rdb::stream::PelEntry;
use rdbscope_rdb::types::rdb_type::*;
use rdbscope_rdb::write::rdb_string::Strings;
use rdbscope_rdb::write::records::Writer;
use rdbscope_rdb::write::stream::{Consumer, Entry, Group, Idmp, Node, Producer, Stream};
use rdbscope_rdb::write::{listpack, module, rdb_string, stream, value};
use rdbscope_rdb::{Elem, StreamId};

/// 2100-01-01, so that nothing counts as expired.
const LATER: u64 = 4_102_444_800_000;

fn run(bytes: &[u8]) -> Report {
    let opts = Options {
        now_ms: 0,
        ..Options::default()
    };
    check(bytes, "written.rdb", &opts, |_| {})
}

fn build(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    f(&mut v);
    v
}

fn sid(ms: u64, seq: u64) -> StreamId {
    StreamId { ms, seq }
}

fn example_stream() -> Stream {
    let entries = [
        Entry {
            id: sid(1, 1),
            fields: vec![(b"a", b"1"), (b"b", b"x")],
            deleted: false,
        },
        Entry {
            id: sid(1, 2),
            fields: vec![(b"a", b"2"), (b"b", b"y")],
            deleted: true,
        },
        Entry {
            id: sid(5, 0),
            fields: vec![(b"c", b"z")],
            deleted: false,
        },
    ];
    Stream {
        nodes: vec![Node::of(&entries).unwrap()],
        length: 2,
        last_id: sid(5, 0),
        first_id: sid(1, 1),
        max_deleted_id: sid(1, 2),
        entries_added: 3,
        groups: vec![Group {
            name: b"g".to_vec(),
            last_id: sid(5, 0),
            entries_read: 3,
            pel: vec![PelEntry {
                id: sid(1, 1),
                delivery_time_ms: 1_700_000_000_000,
                delivery_count: 1,
            }],
            consumers: vec![Consumer {
                name: b"alice".to_vec(),
                seen_time_ms: 1_700_000_000_000,
                active_time_ms: 1_700_000_000_000,
                pel: vec![sid(1, 1)],
            }],
        }],
        idmp: Idmp::default(),
    }
}

#[test]
fn the_checker_passes_every_type_the_writer_makes() {
    let how = Strings::REDIS;
    let mut w = Writer::redis(Vec::new(), 12).unwrap().with_strings(how);
    w.aux(b"redis-ver", b"8.2.0").unwrap();
    w.function(b"#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        .unwrap();
    let id = module::module_id("writer-ok", 1).unwrap();
    let aux = build(|b| {
        module::uint(b, 7);
        module::eof(b);
    });
    w.module_aux(id, 2, &aux).unwrap();
    w.select_db(0).unwrap();
    w.resize_db(8, 1).unwrap();
    w.slot_info(42, 8, 1).unwrap();

    // Hash with field expiries, both Redis layouts.
    let v = build(|b| {
        let fields: [(u64, &[u8], &[u8]); 2] = [
            (
                value::hash_metadata_ttl(LATER, Some(LATER + 5)),
                b"f1",
                b"v1",
            ),
            (value::hash_metadata_ttl(LATER, None), b"f2", b"22"),
        ];
        value::hash_metadata(b, LATER, &fields, how)
    });
    w.key(HASH_METADATA, b"h:meta", &v).unwrap();
    let v = build(|b| {
        let t = LATER as i64;
        value::hash_listpack_ex(b, LATER, &[(b"f1", b"v1", t), (b"f2", b"2", 0)], how).unwrap()
    });
    w.key(HASH_LISTPACK_EX, b"h:lpex", &v).unwrap();

    // Streams of every layout.
    for version in 1..=4u8 {
        let mut st = example_stream();
        if version == 4 {
            st.idmp = Idmp {
                duration_s: 100,
                maxsize: 10,
                producers: vec![Producer {
                    name: b"p1".to_vec(),
                    iids: vec![(b"iid-1".to_vec(), sid(1, 1))],
                }],
                iids_added: 1,
                duplicates: 0,
            };
        }
        let v = build(|b| stream::stream(b, version, &st, how).unwrap());
        let name = format!("st:v{version}");
        w.key(stream::type_byte(version).unwrap(), name.as_bytes(), &v)
            .unwrap();
    }

    // A module value: id, then its opcode stream.
    let v = build(|b| {
        module::id(b, id);
        module::sint(b, -3);
        module::uint(b, 3);
        module::float(b, 1.5);
        module::double(b, -2.25);
        module::string(b, b"payload");
        module::eof(b);
    });
    w.key(MODULE_2, b"mod", &v).unwrap();

    // A set listpack with an expiry.
    w.expire_ms(LATER as i64).unwrap();
    let lp = listpack::to_vec([Elem::Str(b"a"), Elem::Int(-7)]).unwrap();
    w.key(SET_LISTPACK, b"set", &build(|b| value::blob(b, &lp, how)))
        .unwrap();
    w.idle(10).unwrap();
    w.key(
        STRING,
        b"s",
        &build(|b| rdb_string::encoded(b, &[b'x'; 100], how)),
    )
    .unwrap();
    w.freq(5).unwrap();
    w.key(STRING, b"n", &build(|b| rdb_string::encoded(b, b"12", how)))
        .unwrap();

    let bytes = w.finish().unwrap();
    let r = run(&bytes);
    assert!(
        r.is_ok(),
        "{} problem(s), first: {:?}",
        r.problems,
        r.first_problem
    );
    assert_eq!(r.keys, 10);
    assert_eq!(r.expires, 1);
}
