//! `rdbscope rewrite AOF -o NEW`: an offline `BGREWRITEAOF`. The AOF is
//! replayed and written as `convert --to aof-dir` (or, for a Redis 6.2
//! target, `--to aof`) writes it; this file picks the target and reports
//! the sizes before and after.

use crate::args::{AofBase, ConvertArgs, ConvertTo, RewriteArgs};
use crate::report::Outcome;
use crate::source::{open_streaming, Kind, Streamed};
use rdbscope_aof::source::Aof;
use rdbscope_digest::{RulesFrom, ServerVersion, Vendor};
use rdbscope_input::display_name;
use std::path::Path;

/// The server that wrote the AOF, from the AUX fields of its RDB base or
/// preamble, when it has one.
pub fn writer_of_aof(aof: &Aof) -> Option<ServerVersion> {
    aof.parts().iter().find_map(|part| {
        let input = rdbscope_input::open_whole(&part.path).ok()?;
        writer_of_head(input.bytes())
    })
}

/// The server named by the AUX fields of the RDB that `head` (a file's
/// first bytes) starts with, if it is one.
fn writer_of_head(head: &[u8]) -> Option<ServerVersion> {
    if !rdbscope_aof::source::starts_with_rdb_magic(head) {
        return None;
    }
    match rdbscope_digest::writer_of(&head[..head.len().min(HEAD)]) {
        Some((v, RulesFrom::Aux(_))) => Some(v),
        _ => None,
    }
}

/// How much of a file's start holds its header and AUX fields.
const HEAD: usize = 4096;

/// Bytes an AOF's files take (with its manifest).
fn size_of(aof: &Aof) -> u64 {
    let files: u64 = aof
        .parts()
        .iter()
        .filter_map(|p| std::fs::metadata(&p.path).ok())
        .map(|m| m.len())
        .sum();
    let manifest = match aof {
        Aof::MultiPart { manifest_path, .. } => {
            std::fs::metadata(manifest_path).map_or(0, |m| m.len())
        }
        _ => 0,
    };
    files + manifest
}

fn size_of_path(p: &Path) -> u64 {
    match std::fs::read_dir(p) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum(),
        Err(_) => std::fs::metadata(p).map_or(0, |m| m.len()),
    }
}

pub fn run(a: &RewriteArgs) -> Outcome {
    let name = display_name(&a.input);
    if a.output.exists() {
        eprintln!(
            "rdbscope: {}: exists; rewrite never writes over a file or directory",
            a.output.display()
        );
        return Outcome::Failure;
    }
    // Opened once: a file or directory stays where it is; one file on
    // standard input, a pipe or compressed is replayed as it arrives (it
    // was read whole, then looked for again by its path, which standard
    // input cannot give twice).
    let (replayed, before, target) = match open_streaming(&a.input) {
        Err(e) => return e.report(&name),
        Ok(Streamed::Other(Kind::Rdb(_))) => {
            eprintln!("rdbscope: {name}: is an RDB, not an AOF (convert writes an RDB as an AOF)");
            return Outcome::Failure;
        }
        Ok(Streamed::Other(Kind::Json(_))) => {
            eprintln!(
                "rdbscope: {name}: is a JSON dump, not an AOF (convert writes a dump as an AOF)"
            );
            return Outcome::Failure;
        }
        Ok(Streamed::Other(Kind::Aof(aof))) => {
            if let Aof::BadManifest { error, .. } = &aof {
                eprintln!("rdbscope: {name}: the server would refuse this manifest: {error}");
                return Outcome::Problem;
            }
            let Some(target) = a.target.or_else(|| writer_of_aof(&aof)) else {
                return no_server(&name);
            };
            let replayed =
                match crate::replay::run(&aof, &name, &a.replay, &a.common, Some(&target)) {
                    Ok(r) => r,
                    Err(outcome) => return outcome,
                };
            (replayed, size_of(&aof), target)
        }
        Ok(Streamed::Aof(mut s)) => {
            // The server is found as for a file: in the preamble's AUX
            // fields, at the stream's start, before the replay.
            let writer = match s.stream.peek(HEAD) {
                Ok(head) => writer_of_head(head),
                Err(e) => return crate::source::OpenError::Content(e).report(&name),
            };
            let Some(target) = a.target.or(writer) else {
                return no_server(&name);
            };
            let replayed =
                match crate::replay::run_stream(s, &name, &a.replay, &a.common, Some(&target)) {
                    Ok(r) => r,
                    Err(outcome) => return outcome,
                };
            let bytes = replayed.stats.bytes;
            (replayed, bytes, target)
        }
    };
    crate::replay::report(&name, &replayed, true);
    let one_file = target.vendor == Vendor::Redis && target.major < 7;
    let conv = ConvertArgs {
        input: a.input.clone(),
        output: a.output.clone(),
        to: Some(if one_file {
            ConvertTo::Aof
        } else {
            ConvertTo::AofDir
        }),
        aof_base: Some(a.aof_base.unwrap_or(AofBase::Rdb)),
        rdb_version: None,
        target: Some(target),
        drop: a.drop.clone(),
        no_compression: false,
        salvage: false,
        config: Vec::new(),
        force: false,
        quiet: true,
        jobs: a.jobs,
        replay: a.replay.clone(),
        common: a.common.clone(),
        keys: Default::default(),
    };
    let outcome = crate::convert::run_from(&conv, Some(replayed), &[&a.input]);
    if outcome == Outcome::Ok && !a.quiet {
        let after = size_of_path(&a.output);
        let pct = if before > 0 {
            100.0 * after as f64 / before as f64
        } else {
            0.0
        };
        eprintln!(
            "rdbscope: {name}: rewritten for {target} into {}: {before} bytes before, {after} after ({pct:.1}%)",
            a.output.display()
        );
    }
    outcome
}

fn no_server(name: &str) -> Outcome {
    eprintln!(
        "rdbscope: {name}: names no server (no RDB base or preamble): give --target SERVER (e.g. redis-7.0, valkey-9.1)"
    );
    Outcome::Failure
}
