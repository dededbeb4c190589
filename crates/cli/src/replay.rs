//! An AOF input turned into a dataset (`rdbscope_replay`) for the commands
//! that take one (`digest`, `convert`, `diff`, `rewrite`, `merge`): the
//! options, and what the replay says on stderr.

use crate::args::{CommonArgs, ReplayArgs};
use crate::report::Outcome;
use crate::source::AofStream;
use rdbscope_aof::source::Aof;
pub use rdbscope_replay::Replayed;
use rdbscope_replay::{Options, Replayer, Until};

/// The replay options from the command line.
pub fn options(r: &ReplayArgs, common: &CommonArgs) -> Result<Options, String> {
    let mut o = Options {
        skip_unsupported: r.skip_unsupported,
        max_decompressed: common.max_value_size,
        ..Options::default()
    };
    if let Some(now) = r.replay_now {
        o.now_ms = now;
    }
    let stops = [
        r.until_timestamp.is_some(),
        r.until_offset.is_some(),
        r.until_file.is_some(),
    ];
    if stops.iter().filter(|&&s| s).count() > 1 {
        return Err("--until-timestamp, --until-offset and --until-file: give one".into());
    }
    if let Some(f) = &r.until_file {
        o.until = Until::File(f.clone());
        return Ok(o);
    }
    o.until = match (&r.until_timestamp, &r.until_offset) {
        (Some(_), Some(_)) => unreachable!("refused above"),
        (Some(t), None) => Until::Timestamp(*t),
        (None, Some(s)) => {
            let (file, off) = match s.rsplit_once(':') {
                Some((f, o)) => (Some(f.to_string()), o),
                None => (None, s.as_str()),
            };
            let off = off
                .parse::<u64>()
                .map_err(|_| format!("--until-offset {s}: expected [FILE:]OFFSET"))?;
            Until::Offset(file, off)
        }
        (None, None) => Until::End,
    };
    Ok(o)
}

/// Replays `aof` into a fresh dataset; errors are printed. `server` is
/// the loading server when the command names one.
pub fn run(
    aof: &Aof,
    name: &str,
    r: &ReplayArgs,
    common: &CommonArgs,
    server: Option<&rdbscope_digest::ServerVersion>,
) -> Result<Replayed, Outcome> {
    if let (Some(file), Aof::MultiPart { parts, .. }) = (&r.until_file, aof) {
        // A name the manifest does not list is a mistake on the command
        // line (exit 2), not a problem of the AOF.
        if !parts.iter().any(|p| *p.name == **file) {
            let names: Vec<&str> = parts.iter().map(|p| &*p.name).collect();
            eprintln!(
                "rdbscope: {name}: --until-file {file}: not a file of this AOF (its manifest names {})",
                names.join(", ")
            );
            return Err(Outcome::Failure);
        }
    }
    let mut rep = replayer(r, common, server, aof.is_multi_part())?;
    into(&mut rep, aof, name)?;
    Ok(rep.finish())
}

/// [`run`] for a single-file AOF arriving as a stream (standard input, a
/// pipe, a compressed file), replayed as it arrives: the stream is never
/// held whole, only the dataset.
pub fn run_stream(
    s: AofStream,
    name: &str,
    r: &ReplayArgs,
    common: &CommonArgs,
    server: Option<&rdbscope_digest::ServerVersion>,
) -> Result<Replayed, Outcome> {
    let mut rep = replayer(r, common, server, false)?;
    into_stream(&mut rep, s, name)?;
    Ok(rep.finish())
}

/// The replayer of the command line's options, with the rules of `server`
/// (or of the input's writer); a bad option is printed.
fn replayer(
    r: &ReplayArgs,
    common: &CommonArgs,
    server: Option<&rdbscope_digest::ServerVersion>,
    multi_part: bool,
) -> Result<Replayer, Outcome> {
    let mut opts = options(r, common).map_err(|e| {
        eprintln!("rdbscope: {e}");
        Outcome::Failure
    })?;
    opts.version_given = server.is_some();
    opts.valkey = server.is_some_and(|v| v.vendor == rdbscope_digest::Vendor::Valkey);
    opts.version = match server {
        Some(v) => Some(v.redis_equivalent()),
        // A single append-only file was written by Redis 6.2 or older
        // (7.0 and Valkey write a directory) unless its preamble says
        // otherwise; a directory's base names its writer or the newest
        // rules apply.
        None if !multi_part => Some((6, 2)),
        None => None,
    };
    Ok(Replayer::new(opts))
}

/// [`into`] for a single-file AOF arriving as a stream.
pub fn into_stream(rep: &mut Replayer, mut s: AofStream, name: &str) -> Result<(), Outcome> {
    let ticker = crate::progress::Ticker::for_stream(name, &s);
    let replayed = rdbscope_replay::replay_stream_into(rep, &mut s.stream, &s.part);
    drop(ticker);
    if let Err(e) = replayed {
        eprintln!("rdbscope: {name}: replay stopped: {e}");
        return Err(Outcome::Problem);
    }
    Ok(())
}

/// Replays `aof` onto what `rep` holds; errors are printed.
pub fn into(rep: &mut Replayer, aof: &Aof, name: &str) -> Result<(), Outcome> {
    let ticker = crate::progress::Ticker::for_aof(name, aof);
    let replayed = rdbscope_replay::replay_into(rep, aof);
    drop(ticker);
    if let Err(e) = replayed {
        eprintln!("rdbscope: {name}: replay stopped: {e}");
        return Err(Outcome::Problem);
    }
    Ok(())
}

/// What a replay did that a user must know, on stderr.
pub fn report(name: &str, r: &Replayed, quiet: bool) {
    let s = &r.stats;
    if let Some(t) = &s.truncated {
        eprintln!("rdbscope: {name}: warning: truncated: {t}");
    }
    if s.open_transactions_dropped > 0 {
        eprintln!(
            "rdbscope: {name}: warning: {} transaction(s) left open where the input ends were not applied (MULTI without EXEC)",
            s.open_transactions_dropped
        );
    }
    if s.refused > 0 {
        eprintln!(
            "rdbscope: {name}: warning: {} command(s) a server would refuse changed nothing; the first: {}",
            s.refused,
            s.first_refused.as_deref().unwrap_or("")
        );
    }
    if !s.unsupported.is_empty() {
        let list: Vec<String> = s
            .unsupported
            .iter()
            .map(|(c, n)| format!("{c} x{n}"))
            .collect();
        eprintln!(
            "rdbscope: {name}: warning: skipped unsupported commands: {} (the first: {})",
            list.join(", "),
            s.first_unsupported.as_deref().unwrap_or("")
        );
    }
    if !quiet {
        if let Some((file, off)) = &s.stopped_at {
            eprintln!("rdbscope: {name}: replay stopped at {file} offset {off} as asked");
        }
    }
}
