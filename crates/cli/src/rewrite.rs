//! `rdbscope rewrite AOF -o NEW`: an offline `BGREWRITEAOF`. The AOF is
//! replayed and written as `convert --to aof-dir` (or, for a Redis 6.2
//! target, `--to aof`) writes it; this file picks the target and reports
//! the sizes before and after.

use crate::args::{AofBase, ConvertArgs, ConvertTo, RewriteArgs};
use crate::report::Outcome;
use rdbscope_aof::source::{Aof, Opened};
use rdbscope_digest::{RulesFrom, ServerVersion, Vendor};
use rdbscope_input::display_name;
use std::path::Path;

/// The server that wrote the AOF, from the AUX fields of its RDB base or
/// preamble, when it has one.
pub fn writer_of_aof(aof: &Aof) -> Option<ServerVersion> {
    for part in aof.parts() {
        let input = rdbscope_input::open_whole(&part.path).ok()?;
        if rdbscope_aof::source::starts_with_rdb_magic(input.bytes()) {
            let head = &input.bytes()[..input.bytes().len().min(4096)];
            if let Some((v, RulesFrom::Aux(_))) = rdbscope_digest::writer_of(head) {
                return Some(v);
            }
        }
    }
    None
}

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
    let aof = match rdbscope_aof::source::open(&a.input) {
        Ok(Opened::Aof(aof)) => aof,
        Ok(Opened::Rdb(_)) => {
            eprintln!("rdbscope: {name}: is an RDB, not an AOF (convert writes an RDB as an AOF)");
            return Outcome::Failure;
        }
        Err(e) => return crate::report::print_open_error(&name, &e),
    };
    if let Aof::BadManifest { error, .. } = &aof {
        eprintln!("rdbscope: {name}: the server would refuse this manifest: {error}");
        return Outcome::Problem;
    }
    let Some(target) = a.target.or_else(|| writer_of_aof(&aof)) else {
        eprintln!(
            "rdbscope: {name}: names no server (no RDB base or preamble): give --target SERVER (e.g. redis-7.0, valkey-9.1)"
        );
        return Outcome::Failure;
    };
    if a.output.exists() {
        eprintln!(
            "rdbscope: {}: exists; rewrite never writes over a file or directory",
            a.output.display()
        );
        return Outcome::Failure;
    }
    let before = size_of(&aof);
    drop(aof);
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
    let outcome = crate::convert::run(&conv);
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
