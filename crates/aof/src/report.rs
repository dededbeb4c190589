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
        if let Some(e) = &self.manifest_error {
            writeln!(o, "Start checking Multi Part AOF")?;
            writeln!(
                o,
                "[manifest {}] {e}",
                self.manifest_path.as_deref().unwrap_or(&self.name)
            )?;
            writeln!(
                o,
                "AOF manifest {} is not valid (the server refuses to start)",
                self.manifest_path.as_deref().unwrap_or(&self.name)
            )?;
            return Ok(());
        }
        if self.multi_part {
            writeln!(o, "Start checking Multi Part AOF")?;
        } else {
            writeln!(o, "Start checking Old-Style AOF")?;
        }
        let mut incr_header = false;
        for f in &self.files {
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
                    if !incr_header {
                        writeln!(o, "Start to check INCR files.")?;
                        incr_header = true;
                    }
                    "INCR AOF"
                }
                None => "AOF",
            };
            f.write_text(o, label)?;
        }
        match self.first_bad() {
            None if self.multi_part => writeln!(o, "All AOF files and manifest are valid")?,
            None => {}
            Some(f) => {
                if f.verdict == Verdict::Truncated && self.server_loads() {
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
        let ts: Vec<i64> = self
            .files
            .iter()
            .flat_map(|f| [f.first_timestamp, f.last_timestamp])
            .flatten()
            .collect();
        writeln!(
            o,
            "[info] {} commands, {} annotations, {} transactions in {} file(s), {} bytes",
            self.commands(),
            self.files.iter().map(|f| f.annotations).sum::<u64>(),
            self.files.iter().map(|f| f.transactions).sum::<u64>(),
            self.files.len(),
            self.size()
        )?;
        if let (Some(first), Some(last)) = (ts.iter().min(), ts.iter().max()) {
            writeln!(o, "[info] timestamp annotations from {first} to {last}")?;
        }
        Ok(())
    }

    /// One JSON object (one line).
    pub fn write_json<W: Write>(&self, o: &mut W) -> io::Result<()> {
        o.write_all(b"{\"file\":")?;
        json_str(o, &self.name)?;
        write!(
            o,
            ",\"format\":\"aof\",\"layout\":\"{}\",\"manifest\":",
            if self.multi_part {
                "multi-part"
            } else {
                "single-file"
            }
        )?;
        opt_str(o, self.manifest_path.as_deref())?;
        write!(
            o,
            ",\"verdict\":\"{}\",\"aof_verdict\":\"{}\",\"server_loads\":{},\"size_bytes\":{},\"commands\":{},\"annotations\":{},\"transactions\":{},\"keys\":{}",
            if self.is_ok() { "ok" } else { "problem" },
            self.verdict.as_str(),
            self.server_loads(),
            self.size(),
            self.commands(),
            self.files.iter().map(|f| f.annotations).sum::<u64>(),
            self.files.iter().map(|f| f.transactions).sum::<u64>(),
            self.files
                .iter()
                .filter_map(|f| f.rdb.as_ref())
                .map(|r| r.keys)
                .sum::<u64>(),
        )?;
        o.write_all(b",\"dbs\":{")?;
        let mut dbs = std::collections::BTreeMap::<u64, u64>::new();
        for f in &self.files {
            for (db, n) in &f.dbs {
                *dbs.entry(*db).or_default() += n;
            }
        }
        for (i, (db, n)) in dbs.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            write!(o, "\"{db}\":{{\"commands\":{n}}}")?;
        }
        let problems = self.files.iter().filter(|f| f.problem.is_some()).count()
            + usize::from(self.manifest_error.is_some());
        write!(o, "}},\"problems\":{problems},\"error\":")?;
        if let Some(e) = &self.manifest_error {
            o.write_all(b"{\"file\":")?;
            opt_str(o, self.manifest_path.as_deref())?;
            write!(
                o,
                ",\"offset\":null,\"ok_up_to\":null,\"line\":{},\"kind\":\"manifest\",\"message\":",
                e.line
            )?;
            json_str(o, &e.to_string())?;
            o.write_all(b"}")?;
        } else {
            match self.first_bad() {
                Some(f) => f.write_json_error(o)?,
                None => o.write_all(b"null")?,
            }
        }
        o.write_all(b",\"files\":[")?;
        for (i, f) in self.files.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            f.write_json(o)?;
        }
        o.write_all(b"]}\n")
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
        json_str(o, &self.part.path.display().to_string())?;
        write!(
            o,
            ",\"offset\":{},\"ok_up_to\":{},\"line\":null,\"kind\":\"{}\",\"message\":",
            p.offset, self.ok_up_to, p.kind
        )?;
        json_str(o, &p.message)?;
        o.write_all(b"}")
    }

    fn write_json<W: Write>(&self, o: &mut W) -> io::Result<()> {
        o.write_all(b"{\"file\":")?;
        json_str(o, &self.part.path.display().to_string())?;
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
