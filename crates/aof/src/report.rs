//! The two renderings of a [`Report`]: text in `redis-check-aof`'s
//! grammar (`AOF analyzed: filename=..., size=..., ok_up_to=...,
//! ok_up_to_line=..., diff=...`, `... is valid`), so its runbooks and grep
//! patterns keep working, with our own `[offset N]` problem lines and
//! `[info]` lines; and one JSON object per input for pipelines, with the
//! top-level fields of the RDB report where they mean the same.

use crate::check::{FileReport, Format, Report, Verdict};
use crate::manifest::FileType;
use rdbscope_json::write::write_json_str as json_str;
use std::io::{self, Write};

impl Report {
    /// The `redis-check-aof` grammar.
    pub fn write_text<W: Write>(&self, o: &mut W) -> io::Result<()> {
        self.write_with(o, ReportWriter::text())
    }

    /// One JSON object (one line).
    pub fn write_json<W: Write>(&self, o: &mut W) -> io::Result<()> {
        self.write_with(o, ReportWriter::json())
    }

    fn write_with<W: Write>(&self, o: &mut W, mut w: ReportWriter) -> io::Result<()> {
        w.head(
            o,
            &self.name,
            self.multi_part,
            self.manifest_path.as_deref(),
        )?;
        for f in &self.files {
            w.file(o, f)?;
        }
        w.tail(o, self)
    }
}

/// Writes a report while the files are checked ([`crate::check::check_each`]):
/// the head, each file's part as it comes, then the end from the
/// [`Report`]'s totals. [`Report::write_text`] and [`Report::write_json`]
/// are the same writer over kept files, so the output is the same.
#[derive(Debug)]
pub struct ReportWriter {
    json: bool,
    files: u64,
    incr_header: bool,
}

impl ReportWriter {
    /// The `redis-check-aof` grammar.
    pub fn text() -> ReportWriter {
        ReportWriter {
            json: false,
            files: 0,
            incr_header: false,
        }
    }

    /// One JSON object per input, on one line.
    pub fn json() -> ReportWriter {
        ReportWriter {
            json: true,
            ..ReportWriter::text()
        }
    }

    /// What comes before the files.
    pub fn head<W: Write>(
        &mut self,
        o: &mut W,
        name: &str,
        multi_part: bool,
        manifest_path: Option<&str>,
    ) -> io::Result<()> {
        if self.json {
            o.write_all(b"{\"file\":")?;
            json_str(o, name)?;
            write!(
                o,
                ",\"format\":\"aof\",\"layout\":\"{}\",\"manifest\":",
                if multi_part {
                    "multi-part"
                } else {
                    "single-file"
                }
            )?;
            opt_str(o, manifest_path)?;
            return o.write_all(b",\"files\":[");
        }
        if multi_part {
            writeln!(o, "Start checking Multi Part AOF")
        } else {
            writeln!(o, "Start checking Old-Style AOF")
        }
    }

    /// One file's part.
    pub fn file<W: Write>(&mut self, o: &mut W, f: &FileReport) -> io::Result<()> {
        self.files += 1;
        if self.json {
            if self.files > 1 {
                o.write_all(b",")?;
            }
            return f.write_json(o);
        }
        let label = match f.part.file_type {
            Some(FileType::Base) => {
                writeln!(
                    o,
                    "Start to check BASE AOF ({} format).",
                    if f.format == Format::Rdb {
                        "RDB"
                    } else {
                        "RESP"
                    }
                )?;
                "BASE AOF"
            }
            Some(_) => {
                if !self.incr_header {
                    writeln!(o, "Start to check INCR files.")?;
                    self.incr_header = true;
                }
                "INCR AOF"
            }
            None => "AOF",
        };
        f.write_text(o, label)
    }

    /// What comes after the files: verdicts and totals.
    pub fn tail<W: Write>(&mut self, o: &mut W, r: &Report) -> io::Result<()> {
        let t = &r.totals;
        if self.json {
            write!(
                o,
                "],\"verdict\":\"{}\",\"aof_verdict\":\"{}\",\"server_loads\":{},\"size_bytes\":{},\"commands\":{},\"annotations\":{},\"transactions\":{},\"keys\":{},\"dbs\":{{",
                if r.is_ok() { "ok" } else { "problem" },
                r.verdict.as_str(),
                r.server_loads(),
                t.size,
                t.commands,
                t.annotations,
                t.transactions,
                t.keys,
            )?;
            for (i, (db, n)) in t.dbs.iter().enumerate() {
                if i > 0 {
                    o.write_all(b",")?;
                }
                write!(o, "\"{db}\":{{\"commands\":{n}}}")?;
            }
            let problems = t.problems + u64::from(r.manifest_error.is_some());
            write!(o, "}},\"problems\":{problems},\"error\":")?;
            if let Some(e) = &r.manifest_error {
                o.write_all(b"{\"file\":")?;
                opt_str(o, r.manifest_path.as_deref())?;
                write!(
                    o,
                    ",\"offset\":null,\"ok_up_to\":null,\"line\":{},\"kind\":\"manifest\",\"rule\":\"{}\",\"message\":",
                    e.line,
                    crate::Rule::Manifest.id()
                )?;
                json_str(o, &e.to_string())?;
                o.write_all(b"}")?;
            } else {
                match r.first_bad() {
                    Some(f) => f.write_json_error(o)?,
                    None => o.write_all(b"null")?,
                }
            }
            return o.write_all(b"}\n");
        }
        if let Some(e) = &r.manifest_error {
            let path = r.manifest_path.as_deref().unwrap_or(&r.name);
            writeln!(o, "[manifest {path}] {e}")?;
            return writeln!(
                o,
                "AOF manifest {path} is not valid (the server refuses to start)"
            );
        }
        match r.first_bad() {
            None if r.multi_part => writeln!(o, "All AOF files and manifest are valid")?,
            None => {}
            Some(f) => {
                if f.verdict == Verdict::Truncated && r.server_loads() {
                    writeln!(
                        o,
                        "[info] the server loads this AOF (aof-load-truncated yes, the default) and drops the last {} bytes of {}",
                        f.diff(),
                        f.part.name
                    )?;
                } else {
                    writeln!(o, "[info] the server refuses to load this AOF")?;
                }
            }
        }
        writeln!(
            o,
            "[info] {} commands, {} annotations, {} transactions in {} file(s), {} bytes",
            t.commands, t.annotations, t.transactions, t.files, t.size
        )?;
        if let (Some(first), Some(last)) = (t.first_timestamp, t.last_timestamp) {
            writeln!(o, "[info] timestamp annotations from {first} to {last}")?;
        }
        Ok(())
    }
}

impl FileReport {
    fn write_text<W: Write>(&self, o: &mut W, label: &str) -> io::Result<()> {
        let name = &self.part.name;
        if let Some(rdb) = &self.rdb {
            rdb.write_text(o)?;
            if self.problem.as_ref().is_some_and(|p| p.kind == "rdb") {
                writeln!(o, "RDB preamble of AOF file is not sane, aborting.")?;
            } else {
                writeln!(o, "RDB preamble is OK, proceeding with AOF tail...")?;
            }
        }
        match self.verdict {
            Verdict::Empty => {
                writeln!(o, "{label} {name} is empty")?;
                for n in &self.notes {
                    writeln!(o, "[info] {n}")?;
                }
                return Ok(());
            }
            Verdict::MissingFile => {
                if let Some(p) = &self.problem {
                    writeln!(o, "[file {name}] {}", p.message)?;
                }
                return writeln!(o, "{label} {name} is missing");
            }
            _ => {}
        }
        if let Some(p) = &self.problem {
            if p.kind == "format" && p.offset == self.ok_up_to {
                // `redis-check-aof` says this when a record starts with
                // neither `*` nor `#`.
                writeln!(o, "AOF {name} format error")?;
            }
            writeln!(o, "[offset {}] {}", p.offset, p.message)?;
        }
        writeln!(
            o,
            "AOF analyzed: filename={name}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
            self.size,
            self.ok_up_to,
            self.ok_up_to_line,
            self.diff()
        )?;
        match self.verdict {
            Verdict::Valid | Verdict::Empty => writeln!(o, "{label} {name} is valid")?,
            v => writeln!(
                o,
                "AOF {name} is not valid ({}; everything before offset {} is whole)",
                v.as_str(),
                self.ok_up_to
            )?,
        }
        for n in &self.notes {
            writeln!(o, "[info] {n}")?;
        }
        Ok(())
    }

    fn write_json_error<W: Write>(&self, o: &mut W) -> io::Result<()> {
        let Some(p) = &self.problem else {
            return o.write_all(b"null");
        };
        o.write_all(b"{\"file\":")?;
        json_str(o, &rdbscope_input::display_name(&self.part.path))?;
        write!(
            o,
            ",\"offset\":{},\"ok_up_to\":{},\"line\":null,\"kind\":\"{}\",\"rule\":\"{}\",\"message\":",
            p.offset,
            self.ok_up_to,
            p.kind,
            p.rule.id()
        )?;
        json_str(o, &p.message)?;
        o.write_all(b"}")
    }

    fn write_json<W: Write>(&self, o: &mut W) -> io::Result<()> {
        o.write_all(b"{\"file\":")?;
        json_str(o, &rdbscope_input::display_name(&self.part.path))?;
        o.write_all(b",\"name\":")?;
        json_str(o, &self.part.name)?;
        o.write_all(b",\"type\":")?;
        opt_str(o, self.part.file_type.map(FileType::as_str))?;
        o.write_all(b",\"seq\":")?;
        match self.part.seq {
            Some(s) => write!(o, "{s}")?,
            None => o.write_all(b"null")?,
        }
        write!(
            o,
            ",\"format\":\"{}\",\"size_bytes\":{},\"resp_start\":{},\"ok_up_to\":{},\"ok_up_to_line\":{},\"diff\":{},\"verdict\":\"{}\",\"commands\":{},\"annotations\":{},\"transactions\":{},\"first_timestamp\":",
            self.format.as_str(),
            self.size,
            self.resp_start,
            self.ok_up_to,
            self.ok_up_to_line,
            self.diff(),
            self.verdict.as_str(),
            self.commands,
            self.annotations,
            self.transactions
        )?;
        opt_i64(o, self.first_timestamp)?;
        o.write_all(b",\"last_timestamp\":")?;
        opt_i64(o, self.last_timestamp)?;
        o.write_all(b",\"dbs\":{")?;
        for (i, (db, n)) in self.dbs.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(o, "\"{db}\":{{\"commands\":{n}}}")?;
        }
        o.write_all(b"},\"rdb\":")?;
        match &self.rdb {
            Some(rdb) => {
                let mut buf = Vec::new();
                rdb.write_json(&mut buf)?;
                while buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                o.write_all(&buf)?;
            }
            None => o.write_all(b"null")?,
        }
        o.write_all(b",\"error\":")?;
        self.write_json_error(o)?;
        o.write_all(b",\"notes\":[")?;
        for (i, n) in self.notes.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            json_str(o, n)?;
        }
        o.write_all(b"]}")
    }
}

fn opt_str<W: Write>(o: &mut W, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => json_str(o, s),
        None => o.write_all(b"null"),
    }
}

fn opt_i64<W: Write>(o: &mut W, v: Option<i64>) -> io::Result<()> {
    match v {
        Some(v) => write!(o, "{v}"),
        None => o.write_all(b"null"),
    }
}
