//! The per-key memory report's rows (`rdbscope memory`): rdbtools' CSV
//! columns, or the same as JSON Lines.

use crate::row::KeyRow;
use rdbscope_json::write::write_bytes;
use std::io::{self, Write};

/// The CSV header: rdbtools' columns, then ours.
pub const MEMORY_COLUMNS: &str = "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry,db_key_overhead,idle,freq";

/// A CSV field, quoted when it holds a comma, quote, CR or LF (quotes
/// doubled); other bytes, binary ones too, go out as they are.
pub fn write_csv_field<W: Write>(o: &mut W, b: &[u8]) -> io::Result<()> {
    if !b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        return o.write_all(b);
    }
    o.write_all(b"\"")?;
    for part in b.split_inclusive(|&c| c == b'"') {
        o.write_all(part)?;
        if part.last() == Some(&b'"') {
            o.write_all(b"\"")?;
        }
    }
    o.write_all(b"\"")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a Unix time in milliseconds.
pub fn write_utc_ms<W: Write>(o: &mut W, ms: i64) -> io::Result<()> {
    rdbscope_select::units::write_utc(o, ms, true)
}

/// One CSV row (with its newline).
pub fn write_memory_csv<W: Write>(o: &mut W, r: &KeyRow<'_>) -> io::Result<()> {
    write!(o, "{},{},", r.db, r.key_type.as_str())?;
    write_csv_field(o, r.key)?;
    write!(
        o,
        ",{},{},{},{},",
        r.memory, r.encoding, r.elements, r.largest
    )?;
    if let Some(t) = r.expire_at_ms {
        write_utc_ms(o, t)?;
    }
    write!(o, ",{},", r.key_overhead)?;
    if let Some(i) = r.idle_s {
        write!(o, "{i}")?;
    }
    o.write_all(b",")?;
    if let Some(f) = r.freq {
        write!(o, "{f}")?;
    }
    o.write_all(b"\n")
}

/// One JSON line: the CSV's columns as fields (`key` a JSON string, or
/// `{"base64": ...}` when not UTF-8; `expiry` in Unix ms and `expiry_utc`;
/// absent values null).
pub fn write_memory_jsonl<W: Write>(o: &mut W, r: &KeyRow<'_>) -> io::Result<()> {
    write!(
        o,
        "{{\"database\":{},\"type\":\"{}\",\"key\":",
        r.db,
        r.key_type.as_str()
    )?;
    write_bytes(o, r.key)?;
    write!(
        o,
        ",\"size_in_bytes\":{},\"encoding\":\"{}\",\"num_elements\":{},\"len_largest_element\":{},\"expiry\":",
        r.memory, r.encoding, r.elements, r.largest
    )?;
    match r.expire_at_ms {
        Some(t) => {
            write!(o, "{t},\"expiry_utc\":\"")?;
            write_utc_ms(o, t)?;
            o.write_all(b"\"")?;
        }
        None => o.write_all(b"null,\"expiry_utc\":null")?,
    }
    write!(o, ",\"db_key_overhead\":{},\"idle\":", r.key_overhead)?;
    match r.idle_s {
        Some(i) => write!(o, "{i}")?,
        None => o.write_all(b"null")?,
    }
    o.write_all(b",\"freq\":")?;
    match r.freq {
        Some(f) => write!(o, "{f}")?,
        None => o.write_all(b"null")?,
    }
    o.write_all(b"}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_and_dates() {
        let mut v = Vec::new();
        write_csv_field(&mut v, b"a,\"b\"\n").unwrap();
        assert_eq!(v, b"\"a,\"\"b\"\"\n\"");
        v.clear();
        write_csv_field(&mut v, b"plain\xff").unwrap();
        assert_eq!(v, b"plain\xff");
        v.clear();
        write_utc_ms(&mut v, 1_700_000_000_123).unwrap();
        assert_eq!(v, b"2023-11-14T22:13:20.123Z");
        v.clear();
        write_utc_ms(&mut v, -1).unwrap();
        assert_eq!(v, b"1969-12-31T23:59:59.999Z");
    }
}
