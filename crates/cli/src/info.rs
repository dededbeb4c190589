//! `rdbscope info`: a summary without decoding values, of an RDB (also a
//! damaged one: what was read, then the error), of an AOF (its files and
//! commands, via `rdbscope_health::aof_health`), or the health report of a
//! data directory (`rdbscope_health::inspect`). This file only renders.

use crate::args::{InfoArgs, InfoFormat};
use crate::dump::Selected;
use crate::options;
use crate::progress::Progress;
use crate::report::{print_error, Outcome};
use crate::source::{open_streaming, Kind, OpenError, Streamed};
use rdbscope_health::{AofHealth, RdbHealth, Report};
use rdbscope_input::display_name;
use rdbscope_json::write::write_bytes;
use rdbscope_printer::info::{summarize_partial, Summary};
use rdbscope_printer::PrintError;
use std::io::{self, Write};

pub fn run(a: &InfoArgs) -> Outcome {
    let name = display_name(&a.input);
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&a.output, &[&a.input])?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let health_flags = a.max_age.is_some() || a.min_keys.is_some() || a.deep;
    let is_dir = a.input.as_os_str() != "-" && a.input.is_dir();
    if is_dir || health_flags {
        if a.input.as_os_str() == "-" {
            eprintln!("rdbscope: --max-age, --min-keys and --deep read files: give a path, not -");
            return options::finish_output(out, Outcome::Failure, false);
        }
        let outcome = health(a, &mut out);
        return options::finish_output(out, outcome, false);
    }
    let input = match open_streaming(&a.input) {
        Ok(Streamed::Other(Kind::Rdb(i))) => i,
        // Opened already (a stream read whole cannot be read again).
        Ok(Streamed::Other(Kind::Aof(aof))) => {
            let ticker = crate::progress::Ticker::for_aof(&name, &aof);
            let h = rdbscope_health::aof_health_of(&a.input, &aof, &health_options(a));
            drop(ticker);
            return aof_info(a, &h, &name, out);
        }
        // A stream is read once, here, in bounded memory.
        Ok(Streamed::Aof(mut s)) => {
            let ticker = crate::progress::Ticker::for_stream(&name, &s);
            let h = rdbscope_health::aof_stream_health(
                &a.input,
                &mut s.stream,
                &s.part,
                &health_options(a),
            );
            drop(ticker);
            return match h {
                Ok(h) => aof_info(a, &h, &name, out),
                Err(e) => {
                    let outcome = OpenError::Content(e).report(&name);
                    options::finish_output(out, outcome, false)
                }
            };
        }
        Ok(Streamed::Other(Kind::Json(input))) => {
            let outcome = json_info(input, a, &filter, &name, &mut out);
            return options::finish_output(out, outcome, true);
        }
        Err(e) => {
            let outcome = e.report(&name);
            return options::finish_output(out, outcome, false);
        }
    };
    let filter = options::settle_file_time(filter, input.head());
    // Chunks are summarized on every core and merged in file order, so the
    // summary is the same with any number of threads.
    let opts = rdbscope_engine::Options {
        threads: threads(a),
        verify_checksum: !a.common.ignore_checksum,
        ..rdbscope_engine::Options::default()
    };
    let max = a.common.max_value_size;
    let mut progress = Progress::for_input(&name, input.size(), input.progress());
    // Counts the selected keys (every key without filters) and every other
    // record; on an error, what was read before it.
    let (summary, error) = input.with_source(|s| {
        summarize_partial(s, &opts, || Selected::new(&filter, max), &mut |o| {
            progress.at(o)
        })
    });
    drop(progress);
    if let Some(summary) = &summary {
        let written = match a.format {
            InfoFormat::Text => summary.write_text(&mut out, &name),
            InfoFormat::Json => summary.write_json(&mut out, &name),
        };
        if let Err(e) = written {
            return options::finish_output(out, print_error(&name, &PrintError::Io(e)), false);
        }
    }
    let outcome = match error {
        None => Outcome::Ok,
        Some(e) => print_error(&name, &e),
    };
    // The partial summary is the report of a damaged file: kept.
    options::finish_output(out, outcome, summary.is_some())
}

fn threads(a: &InfoArgs) -> usize {
    crate::options::threads(a.jobs)
}

fn health_options(a: &InfoArgs) -> rdbscope_health::Options {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    rdbscope_health::Options {
        deep: a.deep,
        now,
        max_age: a.max_age,
        min_keys: a.min_keys,
        rewrite_percentage: a.aof_rewrite_percentage,
        rewrite_min_size: a.aof_rewrite_min_size,
        threads: threads(a),
    }
}

fn health(a: &InfoArgs, out: &mut impl Write) -> Outcome {
    let report = match rdbscope_health::inspect(&a.input, &health_options(a)) {
        Ok(r) => r,
        Err(e) => return crate::report::print_open_error(&display_name(&a.input), &e),
    };
    let problems = report.problems();
    let written = match a.format {
        InfoFormat::Text => health_text(out, &report, &problems),
        InfoFormat::Json => health_json(out, &report, &problems),
    };
    if let Err(e) = written {
        return print_error(&display_name(&a.input), &PrintError::Io(e));
    }
    if problems.is_empty() {
        Outcome::Ok
    } else {
        for p in &problems {
            eprintln!("rdbscope: {p}");
        }
        Outcome::Problem
    }
}

/// An AOF's summary written, and how the command ends: the one line on
/// stderr for a problem.
fn aof_info(a: &InfoArgs, h: &AofHealth, name: &str, mut out: rdbscope_select::Output) -> Outcome {
    let written = match a.format {
        InfoFormat::Text => aof_text(&mut out, h),
        InfoFormat::Json => aof_json(&mut out, h).and_then(|()| out.write_all(b"\n")),
    };
    let outcome = match (written, aof_problem(h)) {
        (Err(e), _) => print_error(name, &PrintError::Io(e)),
        (Ok(()), Some(problem)) => {
            eprintln!("rdbscope: {name}: {problem}");
            Outcome::Problem
        }
        (Ok(()), None) => Outcome::Ok,
    };
    options::finish_output(out, outcome, true)
}

/// Why an AOF is not healthy, if it is not.
fn aof_problem(h: &AofHealth) -> Option<String> {
    if let Some(e) = &h.error {
        return Some(e.clone());
    }
    if let Some(b) = h.base.as_ref().and_then(|b| b.error.as_ref()) {
        return Some(format!("the RDB base or preamble: {b}"));
    }
    // A manifest's file is named; a single file is the input, named
    // already.
    h.files.iter().find_map(|f| {
        f.error.as_ref().map(|e| match h.manifest {
            Some(_) => format!("{}: {e}", f.part.name),
            None => e.clone(),
        })
    })
}

fn when(t: Option<i64>, now: i64) -> String {
    match t {
        Some(t) => format!("{} ({} ago)", utc(t), age(now - t)),
        None => "unknown".to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn utc(t: i64) -> String {
    rdbscope_select::units::utc_seconds(t)
}

fn age(s: i64) -> String {
    match s {
        s if s < 0 => format!("{}s in the future", -s),
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn keys_line(s: &Summary) -> String {
    let dbs: Vec<String> = s
        .keyspace
        .dbs
        .iter()
        .map(|(db, c)| format!("db{db}: keys={} expires={}", c.keys, c.expires))
        .collect();
    format!("{} ({})", s.total_keys(), dbs.join(", "))
}

fn rdb_text(o: &mut impl Write, r: &RdbHealth, now: i64) -> io::Result<()> {
    writeln!(o, "rdb {}", r.path.display())?;
    writeln!(
        o,
        "  size:        {} bytes, modified {}",
        r.size,
        when(r.modified, now)
    )?;
    if let Some(e) = &r.error {
        writeln!(o, "  error:       {e}")?;
    }
    if let Some(s) = &r.summary {
        writeln!(
            o,
            "  format:      {} version {} ({}), written by {}",
            s.header.magic(),
            s.header.version,
            r.readable_by(),
            r.server_version()
                .unwrap_or_else(|| "an unknown server".to_string())
        )?;
        writeln!(o, "  last save:   {}", when(r.saved_at(), now))?;
        writeln!(o, "  keys:        {}", keys_line(s))?;
        writeln!(
            o,
            "  checksum:    {}",
            s.checksum.map_or("not reached", |c| c.as_str())
        )?;
        if let Some(e) = &s.error {
            writeln!(o, "  error:       {e}")?;
        }
    }
    if let Some(d) = &r.deep {
        writeln!(o, "  deep check:  {}", d.as_deref().unwrap_or("ok"))?;
    }
    writeln!(o, "  loads:       {}", if r.loads() { "yes" } else { "no" })
}

fn aof_text(o: &mut impl Write, h: &AofHealth) -> io::Result<()> {
    let layout = if h.manifest.is_some() {
        "multi-part"
    } else {
        "single-file"
    };
    writeln!(o, "aof {} ({layout})", display_name(&h.path))?;
    if let Some(m) = &h.manifest {
        writeln!(o, "  manifest:    {}", m.display())?;
    }
    if let Some(e) = &h.error {
        writeln!(o, "  error:       {e}")?;
    }
    let (mut commands, mut transactions, mut first, mut last) = (0, 0, None, None);
    let mut dbs = std::collections::BTreeSet::new();
    for f in &h.files {
        let kind = f.part.file_type.map_or("file", |t| t.as_str());
        let seq = f.part.seq.map_or(String::new(), |s| format!(" seq {s}"));
        write!(
            o,
            "  {kind}{seq}: {} {} bytes {}",
            f.part.name, f.size, f.format
        )?;
        if let Some(c) = &f.commands {
            write!(
                o,
                ", {} commands, {} transactions",
                c.commands, c.transactions
            )?;
            commands += c.commands;
            transactions += c.transactions;
            dbs.extend(c.dbs.keys().copied());
            first = first.or(c.first_timestamp);
            last = c.last_timestamp.or(last);
        }
        writeln!(o)?;
        if let Some(e) = &f.error {
            writeln!(o, "    error: {e}")?;
        }
    }
    let dbs: Vec<String> = dbs.iter().map(u64::to_string).collect();
    writeln!(
        o,
        "  commands:    {commands} ({transactions} transactions), databases {}",
        if dbs.is_empty() {
            "none".to_string()
        } else {
            dbs.join(", ")
        }
    )?;
    if let (Some(f), Some(l)) = (first, last) {
        writeln!(o, "  timestamps:  {} .. {}", utc(f), utc(l))?;
    }
    writeln!(
        o,
        "  size:        {} bytes in all, base {}",
        h.current_size(),
        h.base_size()
            .map_or("unknown".to_string(), |b| format!("{b} bytes"))
    )?;
    if let Some(b) = &h.base {
        writeln!(
            o,
            "  base:        {} version {}, {} keys (the incr files' commands are not counted)",
            b.header.magic(),
            b.header.version,
            keys_line(b)
        )?;
    }
    if let Some(d) = &h.deep {
        writeln!(o, "  deep check:  {}", d.as_deref().unwrap_or("ok"))?;
    }
    writeln!(o, "  loads:       {}", if h.loads() { "yes" } else { "no" })
}

fn health_text(o: &mut impl Write, r: &Report, problems: &[String]) -> io::Result<()> {
    let now = r.options.now;
    writeln!(o, "health of {}", r.dir.display())?;
    for rdb in &r.rdbs {
        rdb_text(o, rdb, now)?;
    }
    for a in &r.aofs {
        aof_text(o, a)?;
        writeln!(o, "  last write:  {}", when(a.last_write(), now))?;
        writeln!(
            o,
            "  rewrite:     {} (growth {} since the last rewrite; due at {}% and {} bytes)",
            if a.rewrite_due(&r.options) {
                "due"
            } else {
                "not due"
            },
            a.growth_percent()
                .map_or("unknown".to_string(), |g| format!("{g}%")),
            r.options.rewrite_percentage,
            r.options.rewrite_min_size
        )?;
    }
    for (p, what) in &r.others {
        writeln!(o, "other {}: {what}", p.display())?;
    }
    if let Some((age_s, p)) = r.newest() {
        writeln!(o, "newest:      {} ({} old)", p.display(), age(age_s))?;
    }
    if problems.is_empty() {
        writeln!(o, "status:      ok")
    } else {
        for p in problems {
            writeln!(o, "problem:     {p}")?;
        }
        Ok(())
    }
}

fn str_or_null(o: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => write_bytes(o, s.as_bytes()),
        None => o.write_all(b"null"),
    }
}

fn num_or_null(o: &mut impl Write, n: Option<impl std::fmt::Display>) -> io::Result<()> {
    match n {
        Some(n) => write!(o, "{n}"),
        None => o.write_all(b"null"),
    }
}

fn rdb_json(o: &mut impl Write, r: &RdbHealth, now: i64) -> io::Result<()> {
    o.write_all(b"{\"file\":")?;
    write_bytes(o, r.path.as_os_str().as_encoded_bytes())?;
    write!(o, ",\"size_bytes\":{},\"modified\":", r.size)?;
    num_or_null(o, r.modified)?;
    o.write_all(b",\"last_save_time\":")?;
    num_or_null(o, r.saved_at())?;
    o.write_all(b",\"age_s\":")?;
    num_or_null(o, r.saved_at().or(r.modified).map(|t| now - t))?;
    o.write_all(b",\"server_version\":")?;
    str_or_null(o, r.server_version().as_deref())?;
    o.write_all(b",\"readable_by\":")?;
    str_or_null(o, Some(r.readable_by()))?;
    write!(o, ",\"keys\":{},\"loads\":{}", r.keys(), r.loads())?;
    o.write_all(b",\"deep_check\":")?;
    match &r.deep {
        None => o.write_all(b"null")?,
        Some(None) => o.write_all(b"\"ok\"")?,
        Some(Some(e)) => write_bytes(o, e.as_bytes())?,
    }
    o.write_all(b",\"error\":")?;
    str_or_null(o, r.error.as_deref())?;
    o.write_all(b",\"summary\":")?;
    match &r.summary {
        Some(s) => s.write_json_object(o, &r.path.display().to_string())?,
        None => o.write_all(b"null")?,
    }
    o.write_all(b"}")
}

fn aof_json(o: &mut impl Write, h: &AofHealth) -> io::Result<()> {
    o.write_all(b"{\"file\":")?;
    // Standard input is named as the RDB reports name it.
    if h.path.as_os_str() == "-" {
        write_bytes(o, b"<stdin>")?;
    } else {
        write_bytes(o, h.path.as_os_str().as_encoded_bytes())?;
    }
    write!(
        o,
        ",\"format\":\"aof\",\"layout\":\"{}\",\"manifest\":",
        if h.manifest.is_some() {
            "multi-part"
        } else {
            "single-file"
        }
    )?;
    str_or_null(
        o,
        h.manifest
            .as_ref()
            .map(|m| m.display().to_string())
            .as_deref(),
    )?;
    o.write_all(b",\"files\":[")?;
    let (mut commands, mut transactions, mut annotations) = (0, 0, 0);
    let (mut first, mut last) = (None, None);
    let mut dbs = std::collections::BTreeSet::new();
    for (i, f) in h.files.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"{\"name\":")?;
        write_bytes(o, f.part.name.as_bytes())?;
        o.write_all(b",\"type\":")?;
        str_or_null(o, f.part.file_type.map(|t| t.as_str()))?;
        o.write_all(b",\"seq\":")?;
        num_or_null(o, f.part.seq)?;
        write!(
            o,
            ",\"size_bytes\":{},\"format\":\"{}\",\"modified\":",
            f.size, f.format
        )?;
        num_or_null(o, f.modified)?;
        if let Some(c) = &f.commands {
            write!(
                o,
                ",\"commands\":{},\"annotations\":{},\"transactions\":{},\"dbs\":{{",
                c.commands, c.annotations, c.transactions
            )?;
            for (j, (db, n)) in c.dbs.iter().enumerate() {
                write!(o, "{}\"{db}\":{n}", if j > 0 { "," } else { "" })?;
            }
            o.write_all(b"},\"first_timestamp\":")?;
            num_or_null(o, c.first_timestamp)?;
            o.write_all(b",\"last_timestamp\":")?;
            num_or_null(o, c.last_timestamp)?;
            commands += c.commands;
            transactions += c.transactions;
            annotations += c.annotations;
            dbs.extend(c.dbs.keys().copied());
            first = first.or(c.first_timestamp);
            last = c.last_timestamp.or(last);
        }
        o.write_all(b",\"error\":")?;
        str_or_null(o, f.error.as_deref())?;
        o.write_all(b"}")?;
    }
    write!(
        o,
        "],\"commands\":{commands},\"annotations\":{annotations},\"transactions\":{transactions},\"dbs\":["
    )?;
    for (i, db) in dbs.iter().enumerate() {
        write!(o, "{}{db}", if i > 0 { "," } else { "" })?;
    }
    o.write_all(b"],\"first_timestamp\":")?;
    num_or_null(o, first)?;
    o.write_all(b",\"last_timestamp\":")?;
    num_or_null(o, last)?;
    write!(o, ",\"current_size\":{},\"base_size\":", h.current_size())?;
    num_or_null(o, h.base_size())?;
    o.write_all(b",\"base\":")?;
    match &h.base {
        Some(s) => s.write_json_object(o, "base")?,
        None => o.write_all(b"null")?,
    }
    write!(
        o,
        ",\"base_keys\":{},\"incr_keys_counted\":false,\"loads\":{}",
        h.base_keys(),
        h.loads()
    )?;
    o.write_all(b",\"deep_check\":")?;
    match &h.deep {
        None => o.write_all(b"null")?,
        Some(None) => o.write_all(b"\"ok\"")?,
        Some(Some(e)) => write_bytes(o, e.as_bytes())?,
    }
    o.write_all(b",\"error\":")?;
    str_or_null(o, aof_problem(h).as_deref())?;
    o.write_all(b"}")
}

fn health_json(o: &mut impl Write, r: &Report, problems: &[String]) -> io::Result<()> {
    let now = r.options.now;
    o.write_all(b"{\"dir\":")?;
    write_bytes(o, r.dir.as_os_str().as_encoded_bytes())?;
    write!(o, ",\"now\":{now},\"rdbs\":[")?;
    for (i, rdb) in r.rdbs.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        rdb_json(o, rdb, now)?;
    }
    o.write_all(b"],\"aofs\":[")?;
    for (i, a) in r.aofs.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        // The AOF object, with the health fields added before its end.
        let mut buf = Vec::new();
        aof_json(&mut buf, a)?;
        buf.pop();
        o.write_all(&buf)?;
        o.write_all(b",\"last_write\":")?;
        num_or_null(o, a.last_write())?;
        o.write_all(b",\"growth_percent\":")?;
        num_or_null(o, a.growth_percent())?;
        write!(o, ",\"rewrite_due\":{}}}", a.rewrite_due(&r.options))?;
    }
    o.write_all(b"],\"others\":[")?;
    for (i, (p, what)) in r.others.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        o.write_all(b"{\"file\":")?;
        write_bytes(o, p.as_os_str().as_encoded_bytes())?;
        o.write_all(b",\"looks_like\":")?;
        write_bytes(o, what.as_bytes())?;
        o.write_all(b"}")?;
    }
    o.write_all(b"],\"newest\":")?;
    match r.newest() {
        Some((age_s, p)) => {
            o.write_all(b"{\"file\":")?;
            write_bytes(o, p.as_os_str().as_encoded_bytes())?;
            write!(o, ",\"age_s\":{age_s}}}")?;
        }
        None => o.write_all(b"null")?,
    }
    o.write_all(b",\"problems\":[")?;
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            o.write_all(b",")?;
        }
        write_bytes(o, p.as_bytes())?;
    }
    writeln!(o, "],\"ok\":{}}}", problems.is_empty())
}

/// `info` of one of our JSON dumps: read record by record (memory holds
/// one), counting what the dump says of the file it came from: header, aux
/// fields, functions, keys per database by type, expires. (No checksum or
/// sizes: a dump does not carry them.) On a read error, what was read,
/// then the error, exit 1.
fn json_info(
    input: rdbscope_input::Input,
    a: &InfoArgs,
    filter: &rdbscope_select::KeyFilter,
    name: &str,
    out: &mut impl Write,
) -> Outcome {
    use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
    use rdbscope_rdb::{KeyType, OwnedRecord};
    use std::collections::BTreeMap;
    if filter.uses_stored_size() {
        eprintln!("rdbscope: {name}: --min-size/--max-size need an RDB or AOF input: a JSON dump does not hold the values' stored sizes");
        return Outcome::Failure;
    }
    let mut input = input;
    let layout = match input.head() {
        Ok(head) => sniff(head).unwrap_or(JsonLayout::Lines),
        Err(e) => {
            eprintln!("rdbscope: {name}: read error: {e}");
            return Outcome::Problem;
        }
    };
    let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
    let mut header: Option<(String, u32)> = None;
    let mut aux: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut functions = 0u64;
    // db -> (keys, expires, keys per type)
    let mut dbs: BTreeMap<u64, (u64, u64, [u64; 7])> = BTreeMap::new();
    let mut filter = filter.clone();
    let mut error = None;
    loop {
        match reader.next_record() {
            Ok(None) => break,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
            Ok(Some(r)) => match r {
                OwnedRecord::Header { magic, version } => {
                    header = Some((magic.to_string(), version))
                }
                OwnedRecord::Aux { name, value } => {
                    if &*name == b"ctime" {
                        if let Some(t) = std::str::from_utf8(&value)
                            .ok()
                            .and_then(|v| v.parse().ok())
                        {
                            filter.set_file_time(t);
                        }
                    }
                    aux.push((name.to_vec(), value.to_vec()));
                }
                OwnedRecord::Function { .. } | OwnedRecord::FunctionPreGa { .. } => functions += 1,
                OwnedRecord::Key(k) => {
                    let ty = k.value.key_type();
                    let selected = filter.matches_owned(&k);
                    if selected {
                        let d = dbs.entry(k.db).or_default();
                        d.0 += 1;
                        d.1 += u64::from(k.expire_at_ms.is_some());
                        d.2[ty.index()] += 1;
                    }
                }
                _ => {}
            },
        }
    }
    let keys: u64 = dbs.values().map(|d| d.0).sum();
    let type_counts = |c: &[u64; 7]| -> Vec<(&'static str, u64)> {
        KeyType::ALL
            .iter()
            .filter(|t| c[t.index()] > 0)
            .map(|t| (t.as_str(), c[t.index()]))
            .collect()
    };
    let written = (|| -> io::Result<()> {
        if a.format == InfoFormat::Json {
            let mut o = Vec::new();
            o.extend_from_slice(b"{\"file\":");
            write_bytes(&mut o, name.as_bytes())?;
            o.extend_from_slice(b",\"format\":\"json-dump\",\"magic\":");
            str_or_null(&mut o, header.as_ref().map(|h| h.0.as_str()))?;
            o.extend_from_slice(b",\"version\":");
            num_or_null(&mut o, header.as_ref().map(|h| h.1))?;
            o.extend_from_slice(b",\"aux\":{");
            for (i, (k, v)) in aux.iter().enumerate() {
                if i > 0 {
                    o.push(b',');
                }
                write_bytes(
                    &mut o,
                    &String::from_utf8_lossy(k).into_owned().into_bytes(),
                )?;
                o.push(b':');
                write_bytes(&mut o, v)?;
            }
            write!(o, "}},\"functions\":{functions},\"keys\":{keys},\"dbs\":{{")?;
            for (i, (db, (k, e, t))) in dbs.iter().enumerate() {
                if i > 0 {
                    o.push(b',');
                }
                write!(o, "\"{db}\":{{\"keys\":{k},\"expires\":{e},\"types\":{{")?;
                for (j, (name, n)) in type_counts(t).iter().enumerate() {
                    write!(o, "{}\"{name}\":{n}", if j > 0 { "," } else { "" })?;
                }
                o.extend_from_slice(b"}}");
            }
            o.extend_from_slice(b"},\"error\":");
            str_or_null(&mut o, error.as_deref())?;
            o.extend_from_slice(b"}\n");
            return out.write_all(&o);
        }
        writeln!(out, "file:      {name} (a JSON dump)")?;
        if let Some((m, v)) = &header {
            writeln!(out, "format:    {m} version {v} (of the dumped file)")?;
        }
        if !aux.is_empty() {
            writeln!(out, "aux:")?;
            for (k, v) in &aux {
                writeln!(
                    out,
                    "  {} = {}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )?;
            }
        }
        if functions > 0 {
            writeln!(out, "functions: {functions}")?;
        }
        writeln!(out, "keys:      {keys} total")?;
        for (db, (k, e, t)) in &dbs {
            let types: Vec<String> = type_counts(t)
                .iter()
                .map(|(n, c)| format!("{n}={c}"))
                .collect();
            writeln!(out, "  db{db}: keys={k} expires={e} {}", types.join(" "))?;
        }
        if let Some(e) = &error {
            writeln!(out, "error:     {e}")?;
            writeln!(
                out,
                "(the summary above holds what was read before the error)"
            )?;
        }
        Ok(())
    })();
    match (written, error) {
        (Err(e), _) => print_error(name, &PrintError::Io(e)),
        (Ok(()), Some(e)) => {
            eprintln!("rdbscope: {name}: {e}");
            Outcome::Problem
        }
        (Ok(()), None) => Outcome::Ok,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
