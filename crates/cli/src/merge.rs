//! `rdbscope merge INPUT... -o OUTPUT`: shards side by side, AOFs applied
//! on top of what came before them, written as `convert` writes.

use crate::args::{ConvertArgs, MergeArgs, OnConflictArg};
use crate::report::Outcome;
use crate::source::{open_streaming, Kind, Streamed};
use rdbscope_input::display_name;
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_rdb::{OwnedRecord, Rdb, Record, Scratch};
use rdbscope_replay::{OnConflict, Replayer};
use std::path::Path;

/// Adds one record of a shard.
fn add(
    rep: &mut Replayer,
    r: OwnedRecord,
    policy: OnConflict,
    dropped: &mut u64,
) -> Result<(), String> {
    match r {
        OwnedRecord::Key(k) => *dropped += u64::from(!rep.merge_key(k, policy)?),
        OwnedRecord::Function { code } => rep.put_function(code),
        _ => {}
    }
    Ok(())
}

/// The keys and functions of an RDB shard.
fn rdb_shard(
    rep: &mut Replayer,
    path: &Path,
    a: &MergeArgs,
    policy: OnConflict,
    dropped: &mut u64,
) -> Result<(), String> {
    let input = rdbscope_input::open_whole(path).map_err(|e| e.to_string())?;
    let rdb = Rdb::new(input.bytes()).map_err(|e| e.to_string())?;
    let rdb = rdb.verify_checksum(!a.common.ignore_checksum);
    let mut scratch = Scratch::with_limit(a.common.max_value_size);
    let mut records = rdb.records();
    for r in records.by_ref() {
        let r = r.map_err(|e| e.to_string())?;
        if let Record::Key(_) | Record::Function { .. } = r {
            let owned = r.to_owned(&mut scratch).map_err(|e| e.to_string())?;
            add(rep, owned, policy, dropped)?;
        }
    }
    Ok(())
}

pub fn run(a: &MergeArgs) -> Outcome {
    let policy = match a.on_conflict {
        None => OnConflict::Error,
        Some(OnConflictArg::First) => OnConflict::First,
        Some(OnConflictArg::Last) => OnConflict::Last,
    };
    let opts = match crate::replay::options(&a.replay, &a.common) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rdbscope: {e}");
            return Outcome::Failure;
        }
    };
    let mut rep = Replayer::new(opts);
    let mut dropped = 0u64;
    for path in &a.inputs {
        let name = display_name(path);
        let added = match open_streaming(path) {
            Err(e) => return e.report(&name),
            Ok(Streamed::Other(Kind::Aof(aof))) => {
                if let Err(outcome) = crate::replay::into(&mut rep, &aof, &name) {
                    return outcome;
                }
                Ok(())
            }
            // Replayed as it arrives.
            Ok(Streamed::Aof(s)) => {
                if let Err(outcome) = crate::replay::into_stream(&mut rep, s, &name) {
                    return outcome;
                }
                Ok(())
            }
            Ok(Streamed::Other(Kind::Rdb(_))) => rdb_shard(&mut rep, path, a, policy, &mut dropped),
            Ok(Streamed::Other(Kind::Json(mut input))) => {
                let layout = match input.head() {
                    Ok(h) => sniff(h).unwrap_or(JsonLayout::Lines),
                    Err(e) => {
                        eprintln!("rdbscope: {name}: read error: {e}");
                        return Outcome::Problem;
                    }
                };
                let mut reader = JsonReader::new(crate::source::json_reader(input), layout);
                (|| {
                    while let Some(r) = reader.next_record().map_err(|e| e.to_string())? {
                        add(&mut rep, r, policy, &mut dropped)?;
                    }
                    Ok(())
                })()
            }
        };
        if let Err(e) = added {
            eprintln!("rdbscope: {name}: {e}");
            return Outcome::Problem;
        }
    }
    let replayed = rep.finish();
    crate::replay::report("merge", &replayed, a.quiet);
    if dropped > 0 && !a.quiet {
        eprintln!(
            "rdbscope: merge: {dropped} key(s) held by more than one input kept from the {} one",
            if policy == OnConflict::First {
                "first"
            } else {
                "last"
            }
        );
    }
    let conv = ConvertArgs {
        input: a.inputs[0].clone(),
        output: a.output.clone(),
        to: a.to,
        aof_base: a.aof_base,
        rdb_version: a.rdb_version,
        target: a.target,
        drop: a.drop.clone(),
        no_compression: false,
        salvage: false,
        config: Vec::new(),
        force: a.force,
        quiet: a.quiet,
        jobs: a.jobs,
        replay: a.replay.clone(),
        common: a.common.clone(),
        keys: Default::default(),
    };
    let inputs: Vec<&Path> = a.inputs.iter().map(|p| p.as_path()).collect();
    crate::convert::run_from(&conv, Some(replayed), &inputs)
}
