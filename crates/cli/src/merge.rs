//! `rdbscope merge INPUT... -o OUTPUT`: shards side by side, AOFs applied
//! on top of what came before them, written as `convert` writes.

use crate::args::{ConvertArgs, MergeArgs, OnConflictArg};
use crate::progress::Progress;
use crate::report::Outcome;
use crate::source::{open_streaming, Kind, RdbInput, Streamed};
use rdbscope_input::display_name;
use rdbscope_json::read::{sniff, JsonLayout, JsonReader};
use rdbscope_rdb::OwnedRecord;
use rdbscope_replay::{OnConflict, Replayer};
use std::path::Path;

/// Adds one record of a shard.
fn add(
    rep: &mut Replayer,
    r: OwnedRecord,
    policy: OnConflict,
    conflicts: &mut u64,
) -> Result<(), String> {
    match r {
        OwnedRecord::Key(k) => *conflicts += u64::from(rep.merge_key(k, policy)?),
        OwnedRecord::Function { code } => rep.put_function(code),
        _ => {}
    }
    Ok(())
}

/// The keys and functions of an RDB shard, as it was opened: a mapped
/// file walked with its pages released, or a stream (standard input, a
/// pipe, a compressed file) read as it arrives, never whole.
fn rdb_shard(
    rep: &mut Replayer,
    input: RdbInput,
    name: &str,
    a: &MergeArgs,
    policy: OnConflict,
    conflicts: &mut u64,
) -> Result<(), String> {
    let mut progress = Progress::for_input(name, input.size(), input.progress());
    let engine = crate::options::engine(a.jobs, &a.common);
    let held = input.with_source(|s| rep.merge_rdb(s, &engine, &mut |o| progress.at(o), policy));
    drop(progress);
    *conflicts += held?;
    Ok(())
}

pub fn run(a: &MergeArgs) -> Outcome {
    let policy = match a.on_conflict {
        None => OnConflict::Error,
        Some(OnConflictArg::First) => OnConflict::First,
        Some(OnConflictArg::Last) => OnConflict::Last,
    };
    if let Err(outcome) = crate::options::stdin_once("merge", &a.inputs) {
        return outcome;
    }
    let opts = match crate::replay::options(&a.replay, &a.common) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rdbscope: {e}");
            return Outcome::Failure;
        }
    };
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
    // What the arguments alone decide is checked before any input is
    // read: a merge of big inputs must not end in a usage error.
    if let Err(e) = crate::convert::settle(&conv) {
        eprintln!("rdbscope: {e}");
        return Outcome::Failure;
    }
    let mut rep = Replayer::new(opts);
    let mut conflicts = 0u64;
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
            Ok(Streamed::Other(Kind::Rdb(input))) => {
                rdb_shard(&mut rep, input, &name, a, policy, &mut conflicts)
            }
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
                        add(&mut rep, r, policy, &mut conflicts)?;
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
    if conflicts > 0 && !a.quiet {
        eprintln!(
            "rdbscope: merge: {conflicts} key(s) held by more than one input kept from the {} one",
            if policy == OnConflict::First {
                "first"
            } else {
                "last"
            }
        );
    }
    let inputs: Vec<&Path> = a.inputs.iter().map(|p| p.as_path()).collect();
    crate::convert::run_from(&conv, Some(replayed), &inputs)
}
