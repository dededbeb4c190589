//! `rdbscope digest`: what `DEBUG DIGEST` (or, per key, `DEBUG
//! DIGEST-VALUE`) returns on a server holding the data of an RDB or of a
//! JSON dump. The computation is `rdbscope_digest`'s; this file picks the
//! rules, opens the input and prints.

use crate::args::{DigestArgs, InfoFormat};
use crate::options;
use crate::progress::Progress;
use crate::report::Outcome;
use crate::source::{open_streaming, Kind, Streamed};
use rdbscope_digest::{
    hex, writer_from, writer_of, Digested, Digester, Options, RulesFrom, ServerVersion,
};
use rdbscope_input::{display_name, Input};
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_json::write::write_json_str;
use rdbscope_rdb::{Flavor, Header, OwnedRecord};
use std::io::{self, Write};

pub fn run(a: &DigestArgs) -> Outcome {
    let name = display_name(&a.input);
    let mut out = match options::open_output(&a.output, &[&a.input]) {
        Ok(o) => o,
        Err(outcome) => return outcome,
    };
    let server = a.server_version.as_ref();
    let outcome = match open_streaming(&a.input) {
        Ok(Streamed::Other(Kind::Rdb(input))) => rdb(a, input, &name, &mut out),
        Ok(Streamed::Other(Kind::Json(input))) => json(a, input, &name, &mut out),
        Ok(Streamed::Other(Kind::Aof(x))) => {
            let replayed = crate::replay::run(&x, &name, &a.replay, &a.common, server);
            aof(a, replayed, x.is_multi_part(), &name, &mut out)
        }
        // Replayed as it arrives.
        Ok(Streamed::Aof(s)) => {
            let replayed = crate::replay::run_stream(s, &name, &a.replay, &a.common, server);
            aof(a, replayed, false, &name, &mut out)
        }
        Err(e) => e.report(&name),
    };
    options::finish_output(out, outcome, false)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn options(a: &DigestArgs, server: ServerVersion) -> Options {
    Options {
        rules: server.rules(),
        per_key: a.per_key,
        as_loaded: a.as_loaded.map(|t| t.unwrap_or_else(now_ms)),
        max_decompressed: a.common.max_value_size,
    }
}

/// The rules: given, else the writer's.
fn server(a: &DigestArgs, writer: (ServerVersion, RulesFrom)) -> (ServerVersion, RulesFrom) {
    match a.server_version {
        Some(v) => (v, RulesFrom::Given),
        None => writer,
    }
}

fn rdb(
    a: &DigestArgs,
    input: crate::source::RdbInput,
    name: &str,
    out: &mut impl Write,
) -> Outcome {
    // The AUX fields that name the writer come first; a file too broken to
    // have them is reported by the walk.
    let writer = writer_of(input.head()).unwrap_or_else(|| {
        writer_from(
            Header {
                flavor: Flavor::Redis,
                version: 0,
            },
            None,
            None,
        )
    });
    let (server, from) = server(a, writer);
    let opts = options(a, server);
    let engine = crate::options::engine(a.jobs, &a.common);
    let mut progress = Progress::for_input(name, input.size(), input.progress());
    let mut lines = io::BufWriter::with_capacity(1 << 16, &mut *out);
    let (digested, walked, write_error) = input.with_source(|s| {
        rdbscope_digest::digest_rdb(s, &opts, &engine, &mut |o| progress.at(o), &mut |l| {
            lines.write_all(l)
        })
    });
    drop(progress);
    let flushed = lines.flush();
    drop(lines);
    if let Some(e) = write_error.or(flushed.err()) {
        return write_failed(name, e);
    }
    if let Some(e) = &walked.error {
        eprintln!("rdbscope: {name}: {e}");
        return Outcome::Problem;
    }
    finish(a, name, out, &digested, server, &from, &opts)
}

fn json(a: &DigestArgs, mut input: Input, name: &str, out: &mut impl Write) -> Outcome {
    let layout = match input.head() {
        Ok(head) => sniff(head).unwrap_or(JsonLayout::Lines),
        Err(e) => {
            eprintln!("rdbscope: {name}: read error: {e}");
            return Outcome::Problem;
        }
    };
    let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
    records(a, name, out, None, &mut || {
        reader.next_record().map_err(|e| e.to_string())
    })
}

/// The digest of an AOF: its commands replayed (`replayed`; a manifest's
/// files when `multi_part`), the dataset digested.
fn aof(
    a: &DigestArgs,
    replayed: Result<crate::replay::Replayed, Outcome>,
    multi_part: bool,
    name: &str,
    out: &mut impl Write,
) -> Outcome {
    let replayed = match replayed {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    crate::replay::report(name, &replayed, false);
    // An AOF with no RDB part names no server: a single file is what
    // Redis 6.2 and older write, a directory what 7.0 and later do (the
    // replay follows the newest rules for one, see `replay::run`).
    let guess = if replayed.stats.writer.is_some() {
        None
    } else if multi_part {
        Some((
            ServerVersion::parse("redis-7.4").expect("a known server"),
            RulesFrom::Guessed("an appendonlydir with no RDB base names no server: the newest Redis rules, redis-7.4".into()),
        ))
    } else {
        Some((
            ServerVersion::parse("redis-6.2").expect("a known server"),
            RulesFrom::Guessed(
                "a single AOF with no RDB preamble names no server: redis-6.2".into(),
            ),
        ))
    };
    let mut it = replayed.records();
    records(a, name, out, guess, &mut || Ok(it.next()))
}

/// The digest of owned records (a JSON dump's, a replayed AOF's).
fn records(
    a: &DigestArgs,
    name: &str,
    out: &mut impl Write,
    guess: Option<(ServerVersion, RulesFrom)>,
    next: &mut dyn FnMut() -> Result<Option<OwnedRecord>, String>,
) -> Outcome {
    let mut header = None;
    let (mut redis, mut valkey) = (None, None);
    // Settled at the first key: the header and AUX records come before.
    let mut settled: Option<(ServerVersion, RulesFrom, Options, Digester)> = None;
    let mut total = Digested::default();
    let mut lines = io::BufWriter::with_capacity(1 << 16, &mut *out);
    loop {
        let record = match next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                let _ = lines.flush();
                eprintln!("rdbscope: {name}: {e}");
                return Outcome::Problem;
            }
        };
        match record {
            OwnedRecord::Header { magic, version } => {
                header = Some(Header {
                    flavor: if magic == "VALKEY" {
                        Flavor::Valkey
                    } else {
                        Flavor::Redis
                    },
                    version,
                })
            }
            OwnedRecord::Aux { name, value } if settled.is_none() => match name.as_slice() {
                b"redis-ver" => redis = Some(value),
                b"valkey-ver" => valkey = Some(value),
                _ => {}
            },
            OwnedRecord::Key(k) => {
                let (_, _, opts, digester) = settled.get_or_insert_with(|| {
                    let h = header.unwrap_or(Header {
                        flavor: Flavor::Redis,
                        version: 0,
                    });
                    let writer = match (&guess, header, &redis, &valkey) {
                        (Some(g), None, None, None) => g.clone(),
                        _ => writer_from(h, redis.as_deref(), valkey.as_deref()),
                    };
                    let (server, from) = server(a, writer);
                    let opts = options(a, server);
                    let d = Digester::new(opts.rules, opts.max_decompressed);
                    (server, from, opts, d)
                });
                if opts.drops_key(k.expire_at_ms) {
                    total.dropped_keys += 1;
                    continue;
                }
                let before = digester.dropped_fields;
                let d = if opts.per_key {
                    digester.owned_value(&k, opts.field_cutoff())
                } else {
                    digester.owned_key(&k, opts.field_cutoff())
                };
                total.dropped_fields += digester.dropped_fields - before;
                let ok = total.key(opts, k.db, &k.key, d, None);
                if let Err(e) = lines.write_all(&total.lines) {
                    return write_failed(name, e);
                }
                total.lines.clear();
                if !ok {
                    break;
                }
            }
            _ => {}
        }
    }
    if let Err(e) = lines.flush() {
        return write_failed(name, e);
    }
    drop(lines);
    let (server, from, opts) = match settled {
        Some((s, f, o, _)) => (s, f, o),
        None => {
            let h = header.unwrap_or(Header {
                flavor: Flavor::Redis,
                version: 0,
            });
            let writer = match (&guess, header, &redis, &valkey) {
                (Some(g), None, None, None) => g.clone(),
                _ => writer_from(h, redis.as_deref(), valkey.as_deref()),
            };
            let (s, f) = server(a, writer);
            (s, f, options(a, s))
        }
    };
    finish(a, name, out, &total, server, &from, &opts)
}

fn write_failed(name: &str, e: io::Error) -> Outcome {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return Outcome::Ok;
    }
    eprintln!("rdbscope: {name}: write error: {e}");
    Outcome::Failure
}

fn from_text(from: &RulesFrom) -> String {
    match from {
        RulesFrom::Given => "--server-version".to_string(),
        RulesFrom::Aux(s) => format!("the file's {s}"),
        RulesFrom::RdbVersion(v) => {
            format!("guessed from RDB version {v}: the file names no server; give --server-version")
        }
        RulesFrom::Guessed(why) => format!("guessed: {why}; give --server-version"),
    }
}

/// Prints the digest (or, per key, what is left to say) and the note on
/// which rules were used.
fn finish(
    a: &DigestArgs,
    name: &str,
    out: &mut impl Write,
    d: &Digested,
    server: ServerVersion,
    from: &RulesFrom,
    opts: &Options,
) -> Outcome {
    if let Some(e) = &d.error {
        eprintln!("rdbscope: {name}: {e}");
        return Outcome::Problem;
    }
    let digest = hex(&d.dataset.digest());
    let written = if a.per_key {
        Ok(())
    } else {
        match a.format {
            InfoFormat::Text => writeln!(out, "{digest}"),
            InfoFormat::Json => json_summary(out, name, &digest, d, server, from, opts),
        }
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        return write_failed(name, e);
    }
    if !crate::options::quiet() {
        let mut note = format!(
            "rdbscope: {name}: digest by the rules of {server} ({})",
            from_text(from)
        );
        if !a.per_key {
            note.push_str(&format!("; {} keys", d.dataset.keys()));
        }
        if let Some(now) = opts.as_loaded {
            note.push_str(&format!(
                "; as loaded at {now}ms: {} expired keys dropped, {} expired hash fields dropped{}",
                d.dropped_keys,
                d.dropped_fields,
                if d.emptied_hashes > 0 {
                    format!(" ({} hashes left empty, dropped)", d.emptied_hashes)
                } else {
                    String::new()
                }
            ));
        }
        eprintln!("{note}");
    }
    Outcome::Ok
}

fn json_summary(
    out: &mut impl Write,
    name: &str,
    digest: &str,
    d: &Digested,
    server: ServerVersion,
    from: &RulesFrom,
    opts: &Options,
) -> io::Result<()> {
    out.write_all(b"{\"file\":")?;
    write_json_str(out, name)?;
    write!(
        out,
        ",\"digest\":\"{digest}\",\"server_version\":\"{server}\",\"rules_from\":"
    )?;
    match from {
        RulesFrom::Given => out.write_all(b"\"given\"")?,
        RulesFrom::Aux(s) => write_json_str(out, s)?,
        RulesFrom::RdbVersion(v) => write!(out, "\"rdb version {v}\"")?,
        RulesFrom::Guessed(why) => write_json_str(out, &format!("guessed: {why}"))?,
    }
    write!(out, ",\"keys\":{},\"as_loaded\":", d.dataset.keys())?;
    match opts.as_loaded {
        None => out.write_all(b"null")?,
        Some(now) => write!(
            out,
            "{{\"now_ms\":{now},\"dropped_keys\":{},\"dropped_fields\":{},\"emptied_hashes\":{}}}",
            d.dropped_keys, d.dropped_fields, d.emptied_hashes
        )?,
    }
    out.write_all(b"}\n")
}
