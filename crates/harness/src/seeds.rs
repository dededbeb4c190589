//! Fuzz seeds cut from real files: every blob, LZF string, stream node and
//! value of an RDB file, each in the input form of its target; AOF files
//! and manifests whole.

use rdbscope_rdb::cursor::Cursor;
use rdbscope_rdb::{Encoding, Rdb, RdbString, Record};

/// (target name, input) pairs found in the file `name` holding `data`:
/// an RDB's parts, an AOF (`*.aof`, which may start with an RDB preamble)
/// whole, a manifest whole.
pub fn from_file(name: &str, data: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    if name.ends_with(".manifest") {
        out.push(("aof_manifest", data.to_vec()));
    } else if name.ends_with(".aof") {
        out.push(("aof_file", data.to_vec()));
    }
    if data.starts_with(b"REDIS") || data.starts_with(b"VALKEY") {
        out.extend(from_rdb(data));
    }
    out
}

/// (target name, input) pairs found in `rdb`.
pub fn from_rdb(data: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![
        ("rdb_file", data.to_vec()),
        ("value_cursors", data.to_vec()),
    ];
    let Ok(rdb) = Rdb::new(data) else {
        return out;
    };
    // What `dump` writes of it, for the JSON reader.
    let mut p = rdbscope_printer::JsonPrinter::new(
        Vec::new(),
        rdbscope_printer::Layout::Lines,
        rdbscope_rdb::Scratch::new(),
    );
    let _ = p.header(&rdb.header());
    for r in rdb.records() {
        match r {
            Ok(r) if p.record(&r).is_ok() => {}
            _ => break,
        }
    }
    if let Ok(json) = p.finish() {
        out.push(("json_dump", json));
    }
    let version = rdb.header().version.min(u32::from(u16::MAX)) as u16;
    for r in rdb.records() {
        let Ok(Record::Key(k)) = r else {
            if r.is_err() {
                break;
            }
            continue;
        };
        let v = k.value;
        // The value as a DUMP payload.
        let mut p = Vec::new();
        rdbscope_rdb::write::payload::payload(&mut p, v.type_byte(), v.raw(), version);
        out.push(("dump_payload", p));
        let mut c = Cursor::new(v.raw(), 0);
        let target = match v.encoding() {
            Encoding::ListZiplist | Encoding::ZSetZiplist | Encoding::HashZiplist => "ziplist",
            Encoding::HashListpack | Encoding::ZSetListpack | Encoding::SetListpack => "listpack",
            Encoding::SetIntset => "intset",
            Encoding::HashZipmap => "zipmap",
            Encoding::String => "lzf",
            Encoding::ListQuicklist | Encoding::ListQuicklist2 => {
                // Nodes: every node string.
                let quicklist2 = v.encoding() == Encoding::ListQuicklist2;
                let Ok(n) = c.len("nodes") else { continue };
                for _ in 0..n {
                    if quicklist2 && c.len("container").is_err() {
                        break;
                    }
                    let Ok(s) = c.rdb_string("node") else { break };
                    push_string(
                        &mut out,
                        &s,
                        if quicklist2 { "listpack" } else { "ziplist" },
                    );
                }
                continue;
            }
            Encoding::Stream(_) => {
                if let Ok(st) = v.stream() {
                    let _ = st.for_each_node(|_, lp| {
                        push_string(&mut out, &lp, "stream_listpack");
                        Ok::<_, rdbscope_rdb::Error>(())
                    });
                }
                continue;
            }
            _ => continue,
        };
        if let Ok(s) = c.rdb_string("blob") {
            push_string(&mut out, &s, target);
        }
    }
    out
}

/// The string's decoded bytes for `target`, and its LZF form (as the `lzf`
/// target's input) when compressed.
fn push_string(out: &mut Vec<(&'static str, Vec<u8>)>, s: &RdbString<'_>, target: &'static str) {
    if let Some((data, len)) = s.lzf_parts() {
        let mut l = (len as u32).to_le_bytes().to_vec();
        l.extend_from_slice(data);
        out.push(("lzf", l));
    }
    if target != "lzf" {
        if let Ok(b) = s.to_vec() {
            out.push((target, b));
        }
    }
}
