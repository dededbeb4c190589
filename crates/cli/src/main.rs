//! The `rdbscope` binary: argument parsing, opening inputs, exit codes.
//! Decoding lives in `rdbscope-rdb` and `rdbscope-aof`, rendering in
//! `rdbscope-printer`.

mod args;
mod check;
mod convert;
mod diff;
mod digest;
mod dump;
mod dump_aof;
mod dump_json;
mod export;
mod fix;
mod info;
mod inspect;
mod inspect_args;
mod inspect_cmds;
mod man;
mod merge;
mod options;
mod progress;
mod replay;
mod report;
mod rewrite;
mod salvage;
mod source;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let fix_output;
    let no_output = rdbscope_select::OutputArgs::default();
    options::setup(match &cli.command {
        args::Command::Memory(a) => &a.shared.output,
        args::Command::Stats(a) => &a.shared.output,
        args::Command::Bigkeys(a) => &a.shared.output,
        args::Command::Prefixes(a) => &a.shared.output,
        args::Command::Report(a) => &a.shared.output,
        args::Command::Export(a) => &a.shared.output,
        args::Command::Completions(_) | args::Command::Man(_) => &no_output,
        args::Command::Dump(a) => &a.output,
        args::Command::Check(a) => &a.output,
        args::Command::Info(a) => &a.output,
        args::Command::Digest(a) => &a.output,
        args::Command::Diff(a) => &a.output,
        args::Command::Convert(a) => {
            fix_output = rdbscope_select::OutputArgs {
                output: Some(a.output.clone()),
                force: a.force,
                quiet: a.quiet,
            };
            &fix_output
        }
        args::Command::Rewrite(a) => {
            fix_output = rdbscope_select::OutputArgs {
                output: Some(a.output.clone()),
                force: false,
                quiet: a.quiet,
            };
            &fix_output
        }
        args::Command::Merge(a) => {
            fix_output = rdbscope_select::OutputArgs {
                output: Some(a.output.clone()),
                force: a.force,
                quiet: a.quiet,
            };
            &fix_output
        }
        args::Command::Fix(a) => {
            fix_output = rdbscope_select::OutputArgs {
                output: a
                    .output
                    .clone()
                    .or_else(|| a.in_place.then(|| a.input.clone())),
                force: a.force,
                quiet: a.quiet,
            };
            &fix_output
        }
    });
    let outcome = match cli.command {
        args::Command::Dump(a) => dump::run(&a),
        args::Command::Check(a) => check::run(&a),
        args::Command::Info(a) => info::run(&a),
        args::Command::Fix(a) => fix::run(&a),
        args::Command::Digest(a) => digest::run(&a),
        args::Command::Diff(a) => diff::run(&a),
        args::Command::Convert(a) => convert::run(&a),
        args::Command::Rewrite(a) => rewrite::run(&a),
        args::Command::Merge(a) => merge::run(&a),
        args::Command::Memory(a) => inspect_cmds::memory(&a),
        args::Command::Stats(a) => inspect_cmds::stats(&a),
        args::Command::Bigkeys(a) => inspect_cmds::bigkeys(&a),
        args::Command::Prefixes(a) => inspect_cmds::prefixes(&a),
        args::Command::Report(a) => inspect_cmds::report(&a),
        args::Command::Export(a) => inspect_cmds::export(&a),
        args::Command::Completions(a) => man::completions(&a),
        args::Command::Man(a) => man::man(&a),
    };
    outcome.exit_code()
}
