//! `report`: one self-contained HTML page (inline CSS and SVG, a few lines
//! of script that only check the page), from the aggregates of one walk:
//! the statistics, the big keys, memory by type and database, a prefix
//! flame graph (an icicle: each level's prefixes under their parent, width
//! by memory) and expiry buckets. It holds aggregates and top lists only,
//! so its size does not grow with the number of keys. Every text from the
//! file (key names, aux values) is escaped.

use crate::bigkeys::{BigKey, BigKeys};
use crate::prefixes::{Entry, Prefixes};
use crate::print::printable;
use crate::stats::{human, About, Cell, Stats, TTL_BUCKETS};
use rdbscope_rdb::types::KeyType;
use std::fmt::Write as _;
use std::io::{self, Write};

/// What the page shows.
#[derive(Debug)]
pub struct Report<'a> {
    /// The input and the estimate's server.
    pub about: &'a About<'a>,
    /// The statistics.
    pub stats: &'a Stats,
    /// The big keys.
    pub bigkeys: &'a BigKeys,
    /// The prefixes.
    pub prefixes: &'a Prefixes,
    /// When the page was made (text).
    pub generated_at: String,
}

/// Prefixes drawn per level (the rest are in "other").
pub const PREFIXES_PER_LEVEL: usize = 200;

/// `s` with `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Bytes from the file as page text: `\xNN` for what is not printable
/// UTF-8, then HTML-escaped.
fn text(b: &[u8]) -> String {
    escape(&printable(b))
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}\
th{background:#f6f6f6}td.l,th.l{text-align:left}code{font:12px monospace;word-break:break-all}\
.note{color:#666}svg text{font:11px sans-serif}";

/// Colours per type, in `KeyType::ALL` order.
const COLOURS: [&str; 7] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
];

/// Writes the page.
pub fn write_report<W: Write>(o: &mut W, r: &Report<'_>) -> io::Result<()> {
    let mut h = String::with_capacity(64 << 10);
    let s = r.stats;
    let total = s.total();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>rdbscope report: {}</title><style>{STYLE}</style></head><body>",
        escape(r.about.file)
    );
    let _ = write!(
        h,
        "<h1>rdbscope report: <code>{}</code></h1>",
        escape(r.about.file)
    );
    summary(&mut h, r, &total);
    stats_table(&mut h, s);
    big_keys(&mut h, r.bigkeys);
    memory_charts(&mut h, s);
    flame(&mut h, r.prefixes);
    expiry(&mut h, s, &total);
    let _ = write!(
        h,
        "<p class=\"note\">Made by rdbscope {} at {}. Memory: the estimate of MEMORY USAGE for \
         {} ({}); see docs/memory.md.</p>",
        env!("CARGO_PKG_VERSION"),
        escape(&r.generated_at),
        escape(&r.about.estimated_for),
        r.about.allocator
    );
    // The page needs no script to be read; this only tells a test (or a
    // curious reader with the console open) that every section is there
    // and nothing failed.
    h.push_str(
        "<script>(function(){var errs=[];window.addEventListener('error',function(e){\
         errs.push(String(e.message));document.body.setAttribute('data-errors',errs.join(';'));});\
         var want=['summary','stats','bigkeys','memory','prefixes','expiry'];var ok=[];\
         want.forEach(function(id){var e=document.getElementById(id);\
         if(e&&(id==='summary'||id==='stats'||id==='bigkeys'||e.querySelector('svg')))ok.push(id);});\
         document.body.setAttribute('data-rendered',ok.join(','));})();</script></body></html>\n",
    );
    o.write_all(h.as_bytes())
}

fn summary(h: &mut String, r: &Report<'_>, total: &Cell) {
    let s = r.stats;
    let _ = write!(h, "<section id=\"summary\"><table>");
    let row = |h: &mut String, k: &str, v: String| {
        let _ = write!(
            h,
            "<tr><th class=\"l\">{k}</th><td class=\"l\">{v}</td></tr>"
        );
    };
    row(
        h,
        "file",
        format!(
            "<code>{}</code> ({} bytes)",
            escape(r.about.file),
            r.about.size
        ),
    );
    if let Some(hd) = &s.header {
        row(
            h,
            "format",
            format!("{} version {}", hd.magic(), hd.version),
        );
    }
    for name in [
        &b"redis-ver"[..],
        b"valkey-ver",
        b"ctime",
        b"used-mem",
        b"aof-base",
    ] {
        if let Some(v) = s.aux(name) {
            row(h, &text(name), format!("<code>{}</code>", text(v)));
        }
    }
    row(
        h,
        "keys",
        format!(
            "{} ({} with an expiry, {} expired at {} ms)",
            total.keys,
            total.expires,
            total.expired,
            s.now_ms()
        ),
    );
    row(
        h,
        "memory",
        format!(
            "{} estimated for {} ({})",
            human(total.memory.sum()),
            escape(&r.about.estimated_for),
            r.about.allocator
        ),
    );
    if !s.functions.is_empty() {
        let f: Vec<String> = s
            .functions
            .iter()
            .map(|f| {
                format!(
                    "{} ({}, {} B)",
                    text(&f.name),
                    text(&f.engine),
                    f.code_bytes
                )
            })
            .collect();
        row(h, "functions", f.join(", "));
    }
    h.push_str("</table></section>");
}

fn stats_table(h: &mut String, s: &Stats) {
    h.push_str(
        "<section id=\"stats\"><h2>Keys per database and type</h2><table><tr><th>db</th>\
         <th class=\"l\">type</th><th>keys</th><th>expires</th><th>expired</th><th>memory</th>\
         <th>elements p50/p90/p99/max</th><th>memory per key p50/p90/p99/max</th>\
         <th class=\"l\">encodings</th></tr>",
    );
    for ((db, ty), c) in &s.cells {
        let enc: Vec<String> = c
            .encodings
            .iter()
            .map(|(e, n)| format!("{e}: {n}"))
            .collect();
        let q = |sk: &crate::sketch::Sketch| {
            format!(
                "{} / {} / {} / {}",
                sk.quantile(0.5),
                sk.quantile(0.9),
                sk.quantile(0.99),
                sk.max()
            )
        };
        let _ = write!(
            h,
            "<tr><td>{db}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            ty.as_str(),
            c.keys,
            c.expires,
            c.expired,
            human(c.memory.sum()),
            q(&c.elements),
            q(&c.memory),
            enc.join(", ")
        );
    }
    h.push_str("</table></section>");
}

fn big_table(h: &mut String, title: &str, list: &[BigKey]) {
    let _ = write!(
        h,
        "<h3>{title}</h3><table><tr><th>#</th><th>db</th><th class=\"l\">type</th>\
         <th class=\"l\">encoding</th><th>memory</th><th>elements</th><th>largest</th>\
         <th class=\"l\">key</th></tr>"
    );
    for (i, e) in list.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"l\"><code>{}</code></td></tr>",
            i + 1,
            e.row.db,
            e.row.key_type.as_str(),
            e.row.encoding,
            human(e.row.memory as u128),
            e.row.elements,
            e.row.largest,
            text(&e.key)
        );
    }
    h.push_str("</table>");
}

fn big_keys(h: &mut String, b: &BigKeys) {
    h.push_str("<section id=\"bigkeys\"><h2>Biggest keys</h2>");
    big_table(h, "By memory", &b.by_memory.sorted());
    big_table(h, "By element count", &b.by_elements.sorted());
    for t in KeyType::ALL {
        let l = b.type_by_memory[t.index()].sorted();
        if !l.is_empty() {
            big_table(h, &format!("{} keys by memory", t.as_str()), &l);
        }
    }
    h.push_str("</section>");
}

/// A horizontal bar chart: (label, value, colour).
fn bars(h: &mut String, rows: &[(String, u128, &str)], fmt: fn(u128) -> String) {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = 22 * rows.len().max(1) + 4;
    let _ = write!(
        h,
        "<svg width=\"760\" height=\"{height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, (label, v, colour)) in rows.iter().enumerate() {
        let y = 22 * i + 2;
        let w = ((*v as f64 / max as f64) * 500.0).max(if *v > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"120\" y=\"{y}\" width=\"{w:.1}\" height=\"18\" \
             fill=\"{colour}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{}\">{}</text>",
            y + 14,
            label,
            label,
            fmt(*v),
            126.0 + w,
            y + 14,
            fmt(*v)
        );
    }
    h.push_str("</svg>");
}

fn memory_charts(h: &mut String, s: &Stats) {
    h.push_str("<section id=\"memory\"><h2>Memory by type and database</h2>");
    let by_type: Vec<(String, u128, &str)> = s
        .by_type()
        .iter()
        .map(|(t, c)| {
            (
                t.as_str().to_string(),
                c.memory.sum(),
                COLOURS[t.index() % COLOURS.len()],
            )
        })
        .collect();
    bars(h, &by_type, human);
    let by_db: Vec<(String, u128, &str)> = s
        .by_db()
        .iter()
        .map(|(db, c)| (format!("db {db}"), c.memory.sum(), "#9c755f"))
        .collect();
    bars(h, &by_db, human);
    h.push_str("</section>");
}

/// The icicle: one row per level; a prefix sits under the longest prefix
/// of the level above that starts it.
fn flame(h: &mut String, p: &Prefixes) {
    let _ = write!(
        h,
        "<section id=\"prefixes\"><h2>Memory by key prefix</h2><p class=\"note\">Separator \
         <code>{}</code>; each row is one level, each box a prefix under its parent, its width \
         the prefix's memory. \"other\": prefixes beyond the {PREFIXES_PER_LEVEL} largest of a level{}.</p>",
        text(p.separator()),
        if p.levels.iter().all(|l| l.exact()) {
            ""
        } else {
            " and what the bounded table could not keep (docs/inspect.md)"
        }
    );
    const WIDTH: f64 = 1200.0;
    const ROW: usize = 24;
    let total = p.memory.max(1) as f64;
    let levels = p.levels.len();
    let _ = write!(
        h,
        "<svg width=\"{WIDTH}\" height=\"{}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        ROW * (levels + 1) + 4
    );
    let _ = write!(
        h,
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{}\" fill=\"#bab0ac\"><title>all keys: {} keys, {}</title></rect>\
         <text x=\"4\" y=\"15\">all keys ({})</text>",
        ROW - 2,
        p.keys,
        human(p.memory),
        human(p.memory)
    );
    // (prefix, x, width) of the row above.
    let mut above: Vec<(Vec<u8>, f64, f64)> = vec![(Vec::new(), 0.0, WIDTH)];
    for (d, level) in p.levels.iter().enumerate() {
        let mut rows: Vec<(&[u8], Entry)> = level.sorted();
        let mut other = level.other;
        for (_, e) in rows.drain(PREFIXES_PER_LEVEL.min(rows.len())..) {
            other.memory += e.memory;
            other.keys += e.keys;
        }
        // Next free x inside each parent.
        let mut cursor: Vec<f64> = above.iter().map(|a| a.1).collect();
        let mut placed: Vec<(Vec<u8>, f64, f64)> = Vec::new();
        let y = ROW * (d + 1);
        for (prefix, e) in rows {
            let parent = above
                .iter()
                .enumerate()
                .filter(|(_, a)| prefix.starts_with(&a.0))
                .max_by_key(|(_, a)| a.0.len())
                .map_or(0, |(i, _)| i);
            let w = e.memory as f64 / total * WIDTH;
            let x = cursor[parent];
            cursor[parent] += w;
            let colour = COLOURS[(d + placed.len()) % COLOURS.len()];
            let label = if prefix.is_empty() {
                "(no separator)".to_string()
            } else {
                text(prefix)
            };
            let _ = write!(
                h,
                "<g><rect x=\"{x:.2}\" y=\"{y}\" width=\"{w:.2}\" height=\"{}\" fill=\"{colour}\" \
                 stroke=\"#fff\" stroke-width=\"0.5\"><title>{label}: {} keys, {}</title></rect>",
                ROW - 2,
                e.keys,
                human(e.memory)
            );
            if w > 60.0 {
                let _ = write!(
                    h,
                    "<text x=\"{:.2}\" y=\"{}\" fill=\"#fff\">{}</text>",
                    x + 3.0,
                    y + 15,
                    label.chars().take((w / 7.0) as usize).collect::<String>()
                );
            }
            h.push_str("</g>");
            placed.push((prefix.to_vec(), x, w));
        }
        if other.memory > 0 || other.keys > 0 {
            let w = other.memory as f64 / total * WIDTH;
            let x = WIDTH - w;
            let _ = write!(
                h,
                "<rect x=\"{x:.2}\" y=\"{y}\" width=\"{w:.2}\" height=\"{}\" fill=\"#ddd\">\
                 <title>other: {} keys, {}</title></rect>",
                ROW - 2,
                other.keys,
                human(other.memory)
            );
        }
        above = placed;
        if above.is_empty() {
            above.push((Vec::new(), 0.0, WIDTH));
        }
    }
    h.push_str("</svg></section>");
}

fn expiry(h: &mut String, s: &Stats, total: &Cell) {
    h.push_str("<section id=\"expiry\"><h2>Expiry</h2><p class=\"note\">Keys by time left to live at the file's time (or --now).</p>");
    let rows: Vec<(String, u128, &str)> = TTL_BUCKETS
        .iter()
        .zip(total.ttl)
        .map(|((name, _), n)| (escape(name), n as u128, "#76b7b2"))
        .collect();
    bars(h, &rows, |n| n.to_string());
    let _ = s;
    h.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::KeyRow;

    #[test]
    fn hostile_keys_stay_text() {
        let mut stats = Stats::new(0);
        let mut big = BigKeys::new(5);
        let mut pre = Prefixes::new(b":", 2, 10);
        let key = b"</script><img src=x onerror=alert(1)>:\xff\x00'\"&";
        let row = KeyRow {
            db: 0,
            key,
            key_type: KeyType::Hash,
            encoding: "listpack",
            expire_at_ms: Some(10),
            idle_s: None,
            freq: None,
            memory: 100,
            key_overhead: 10,
            elements: 3,
            largest: 4,
            stored_size: 50,
            offset: 9,
        };
        stats.add_row(&row);
        big.add(&row);
        pre.add(row.key, row.memory);
        let about = About {
            file: "<b>x.rdb</b>",
            size: 1,
            estimated_for: "redis-7.0".into(),
            allocator: "jemalloc",
        };
        let mut out = Vec::new();
        write_report(
            &mut out,
            &Report {
                about: &about,
                stats: &stats,
                bigkeys: &big,
                prefixes: &pre,
                generated_at: "now".into(),
            },
        )
        .unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>x.rdb"));
        assert!(page.contains(
            "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;:\\xff\\x00&#39;&quot;&amp;"
        ));
        assert_eq!(page.matches("<script>").count(), 1);
    }
}
