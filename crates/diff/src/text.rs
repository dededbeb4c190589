//! The text form of a diff record: one line per key, its kind marked
//! (`-` removed, `+` added, `~` changed, `>` renamed), then one indented
//! line per change, values as compact JSON cut short.

use serde_json::Value;
use std::io::{self, Write};

/// Longest value text before it is cut.
const MAX_TEXT: usize = 120;

fn cut(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Writes one key record as text.
pub fn write_record(o: &mut dyn Write, r: &Value) -> io::Result<()> {
    let mark = match r["change"].as_str() {
        Some("removed") => '-',
        Some("added") => '+',
        Some("renamed") => '>',
        _ => '~',
    };
    let db = &r["db"];
    let key = r["key"].to_string();
    let ty = r["type"].as_str().unwrap_or("?");
    match mark {
        '-' | '+' => {
            write!(o, "{mark} db{db} {key} ({ty}, size {}", r["size"])?;
            if let Some(t) = r["expire_at_ms"].as_i64() {
                write!(o, ", expires at {t} ms")?;
            }
            writeln!(o, ")")
        }
        '>' => writeln!(
            o,
            "> db{db} {key} ({ty}) renamed from db{} {}",
            r["from"]["db"], r["from"]["key"]
        ),
        _ => {
            writeln!(o, "~ db{db} {key} ({ty})")?;
            let Value::Object(m) = r else { return Ok(()) };
            for (name, v) in m {
                if matches!(name.as_str(), "db" | "key" | "change" | "type") {
                    continue;
                }
                match (name.as_str(), v) {
                    ("type_from", t) => {
                        writeln!(o, "    type: {} -> {ty}", t.as_str().unwrap_or("?"))?
                    }
                    (_, Value::Object(parts)) if parts.contains_key("from") => writeln!(
                        o,
                        "    {name}: {} -> {}",
                        cut(&parts["from"]),
                        cut(&parts["to"])
                    )?,
                    (_, Value::Object(parts)) => {
                        for (what, items) in parts {
                            if items.as_array().is_some_and(|a| a.is_empty()) {
                                continue;
                            }
                            writeln!(o, "    {name} {what}: {}", cut(items))?;
                        }
                    }
                    ("list", Value::Array(hunks)) => {
                        for h in hunks {
                            writeln!(
                                o,
                                "    list at {} (now {}): -{} +{}",
                                h["at"],
                                h["to"],
                                cut(&h["removed"]),
                                cut(&h["inserted"])
                            )?;
                        }
                    }
                    _ => writeln!(o, "    {name}: {}", cut(v))?,
                }
            }
            Ok(())
        }
    }
}

/// Writes the summary as text.
pub fn write_summary(o: &mut dyn Write, s: &Value) -> io::Result<()> {
    writeln!(
        o,
        "summary: {} keys in A, {} in B; {} same, {} added, {} removed, {} changed, {} renamed{}",
        s["keys_a"],
        s["keys_b"],
        s["same"],
        s["added"],
        s["removed"],
        s["changed"],
        s["renamed"],
        if s["identical"] == true {
            " (identical)"
        } else {
            ""
        }
    )?;
    if let Value::Object(dbs) = &s["dbs"] {
        for (db, types) in dbs {
            if let Value::Object(types) = types {
                for (t, c) in types {
                    writeln!(
                        o,
                        "  db{db} {t}: {} added, {} removed, {} changed, {} renamed",
                        c["added"], c["removed"], c["changed"], c["renamed"]
                    )?;
                }
            }
        }
    }
    Ok(())
}
