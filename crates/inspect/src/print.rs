//! Tables, JSON and CSV for `bigkeys` and `prefixes` (the per-key memory
//! rows are in [`crate::csv`], `stats` prints itself).

use crate::bigkeys::{BigKey, BigKeys};
use crate::csv::{write_csv_field, write_utc_ms};
use crate::prefixes::{Entry, Prefixes};
use crate::stats::human;
use rdbscope_json::write::write_bytes;
use rdbscope_rdb::types::KeyType;
use std::io::{self, Write};

/// Which lists `bigkeys` prints.
#[derive(Debug, Clone, Copy)]
pub struct BigKeysView {
    /// The lists by memory.
    pub by_memory: bool,
    /// The lists by element count.
    pub by_elements: bool,
    /// Per type too.
    pub per_type: bool,
}

/// A key for a table: its bytes as text, non-UTF-8 and control bytes as
/// `\xNN`.
pub fn printable(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                s.push_str(&format!("\\x{:02x}", c as u32));
            } else if c == '\\' {
                s.push_str("\\\\");
            } else {
                s.push(c);
            }
        }
        for &x in chunk.invalid() {
            s.push_str(&format!("\\x{x:02x}"));
        }
    }
    s
}

impl BigKeys {
    /// The lists to print, as (list name, measure, entries).
    pub fn lists(&self, v: BigKeysView) -> Vec<(String, &'static str, Vec<BigKey>)> {
        let mut out = Vec::new();
        if v.by_memory {
            out.push(("all".to_string(), "memory", self.by_memory.sorted()));
        }
        if v.by_elements {
            out.push(("all".to_string(), "elements", self.by_elements.sorted()));
        }
        if v.per_type {
            for t in KeyType::ALL {
                if v.by_memory {
                    let l = self.type_by_memory[t.index()].sorted();
                    if !l.is_empty() {
                        out.push((t.as_str().to_string(), "memory", l));
                    }
                }
                if v.by_elements {
                    let l = self.type_by_elements[t.index()].sorted();
                    if !l.is_empty() {
                        out.push((t.as_str().to_string(), "elements", l));
                    }
                }
            }
        }
        out
    }

    /// Tables for people.
    pub fn write_table<W: Write>(&self, o: &mut W, v: BigKeysView) -> io::Result<()> {
        for (i, (of, by, list)) in self.lists(v).into_iter().enumerate() {
            if i > 0 {
                writeln!(o)?;
            }
            let what = if of == "all" {
                "keys".to_string()
            } else {
                format!("{of} keys")
            };
            writeln!(
                o,
                "biggest {what} by {by} ({} of {} keys)",
                list.len(),
                self.keys
            )?;
            writeln!(
                o,
                "{:>4} {:>4}  {:<7} {:<10} {:>12} {:>10} {:>10}  key",
                "rank", "db", "type", "encoding", "memory", "elements", "largest"
            )?;
            for (r, e) in list.iter().enumerate() {
                writeln!(
                    o,
                    "{:>4} {:>4}  {:<7} {:<10} {:>12} {:>10} {:>10}  {}",
                    r + 1,
                    e.row.db,
                    e.row.key_type.as_str(),
                    e.row.encoding,
                    human(e.row.memory as u128),
                    e.row.elements,
                    e.row.largest,
                    printable(&e.key)
                )?;
            }
        }
        Ok(())
    }

    /// One JSON document: `{"keys": N, "lists": [{"of", "by", "keys": [...]}]}`.
    pub fn write_json<W: Write>(&self, o: &mut W, v: BigKeysView) -> io::Result<()> {
        write!(o, "{{\"keys\":{},\"lists\":[", self.keys)?;
        for (i, (of, by, list)) in self.lists(v).into_iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(o, "{{\"of\":\"{of}\",\"by\":\"{by}\",\"keys\":[")?;
            for (r, e) in list.iter().enumerate() {
                if r > 0 {
                    o.write_all(b",")?;
                }
                write!(o, "{{\"rank\":{},\"db\":{},\"key\":", r + 1, e.row.db)?;
                write_bytes(o, &e.key)?;
                write!(
                    o,
                    ",\"type\":\"{}\",\"encoding\":\"{}\",\"memory\":{},\"elements\":{},\"largest_element\":{},\"expiry\":",
                    e.row.key_type.as_str(),
                    e.row.encoding,
                    e.row.memory,
                    e.row.elements,
                    e.row.largest
                )?;
                match e.row.expire_at_ms {
                    Some(t) => write!(o, "{t}")?,
                    None => o.write_all(b"null")?,
                }
                o.write_all(b"}")?;
            }
            o.write_all(b"]}")?;
        }
        o.write_all(b"]}\n")
    }

    /// CSV: `of,by,rank,db,type,key,encoding,memory,elements,largest_element,expiry`.
    pub fn write_csv<W: Write>(&self, o: &mut W, v: BigKeysView) -> io::Result<()> {
        o.write_all(
            b"of,by,rank,database,type,key,encoding,memory,elements,largest_element,expiry\n",
        )?;
        for (of, by, list) in self.lists(v) {
            for (r, e) in list.iter().enumerate() {
                write!(
                    o,
                    "{of},{by},{},{},{},",
                    r + 1,
                    e.row.db,
                    e.row.key_type.as_str()
                )?;
                write_csv_field(o, &e.key)?;
                write!(
                    o,
                    ",{},{},{},{},",
                    e.row.encoding, e.row.memory, e.row.elements, e.row.largest
                )?;
                if let Some(t) = e.row.expire_at_ms {
                    write_utc_ms(o, t)?;
                }
                o.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

/// One level as printed: (level, listed rows, other, max error, exact).
type LevelRows<'a> = (usize, Vec<(&'a [u8], Entry)>, Entry, u128, bool);

impl Prefixes {
    fn rows(&self, top: usize) -> Vec<LevelRows<'_>> {
        self.levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut rows = l.sorted();
                let mut other = l.other;
                if top > 0 && rows.len() > top {
                    for (_, e) in rows.drain(top..) {
                        other.keys += e.keys;
                        other.memory += e.memory;
                    }
                }
                (i + 1, rows, other, l.max_error, l.exact())
            })
            .collect()
    }

    /// Tables for people: per level, prefixes by memory, then "(other)".
    pub fn write_table<W: Write>(&self, o: &mut W, top: usize) -> io::Result<()> {
        let sep = printable(self.separator());
        writeln!(
            o,
            "{} keys, {} estimated; prefixes end at {sep:?}",
            self.keys,
            human(self.memory)
        )?;
        for (level, rows, other, err, exact) in self.rows(top) {
            writeln!(o)?;
            let note = if exact {
                "exact".to_string()
            } else {
                format!(
                    "bounded: each listed prefix's memory is low by at most {}",
                    human(err)
                )
            };
            writeln!(o, "level {level} ({note})")?;
            writeln!(o, "{:>10} {:>12} {:>7}  prefix", "keys", "memory", "share")?;
            let share = |m: u128| {
                if self.memory == 0 {
                    0.0
                } else {
                    m as f64 * 100.0 / self.memory as f64
                }
            };
            for (p, e) in &rows {
                let shown = if p.is_empty() {
                    "(no separator)".to_string()
                } else {
                    printable(p)
                };
                writeln!(
                    o,
                    "{:>10} {:>12} {:>6.2}%  {shown}",
                    e.keys,
                    human(e.memory),
                    share(e.memory)
                )?;
            }
            if other.keys > 0 || other.memory > 0 {
                writeln!(
                    o,
                    "{:>10} {:>12} {:>6.2}%  (other)",
                    other.keys,
                    human(other.memory),
                    share(other.memory)
                )?;
            }
        }
        Ok(())
    }

    /// One JSON document.
    pub fn write_json<W: Write>(&self, o: &mut W, top: usize) -> io::Result<()> {
        o.write_all(b"{\"separator\":")?;
        write_bytes(o, self.separator())?;
        write!(
            o,
            ",\"keys\":{},\"memory\":{},\"levels\":[",
            self.keys, self.memory
        )?;
        for (i, (level, rows, other, err, exact)) in self.rows(top).into_iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(
                o,
                "{{\"level\":{level},\"exact\":{exact},\"max_error\":{err},\"other\":{{\"keys\":{},\"memory\":{}}},\"prefixes\":[",
                other.keys, other.memory
            )?;
            for (j, (p, e)) in rows.iter().enumerate() {
                if j > 0 {
                    o.write_all(b",")?;
                }
                o.write_all(b"{\"prefix\":")?;
                write_bytes(o, p)?;
                write!(o, ",\"keys\":{},\"memory\":{}}}", e.keys, e.memory)?;
            }
            o.write_all(b"]}")?;
        }
        o.write_all(b"]}\n")
    }

    /// CSV: `level,prefix,keys,memory` with an empty prefix for keys
    /// without a separator and `other` rows flagged in the last column.
    pub fn write_csv<W: Write>(&self, o: &mut W, top: usize) -> io::Result<()> {
        o.write_all(b"level,prefix,keys,memory,other\n")?;
        for (level, rows, other, _, _) in self.rows(top) {
            for (p, e) in rows {
                write!(o, "{level},")?;
                write_csv_field(o, p)?;
                writeln!(o, ",{},{},false", e.keys, e.memory)?;
            }
            if other.keys > 0 || other.memory > 0 {
                writeln!(o, "{level},,{},{},true", other.keys, other.memory)?;
            }
        }
        Ok(())
    }
}
