//! `rdbscope info`: a summary without decoding values.

use crate::args::{InfoArgs, InfoFormat};
use crate::dump::Selected;
use crate::options;
use crate::progress::Progress;
use crate::report::{print_error, Outcome};
use crate::source::open_rdb;
use rdbscope_input::display_name;
use rdbscope_printer::info::summarize;
use rdbscope_printer::PrintError;

pub fn run(a: &InfoArgs) -> Outcome {
    let name = display_name(&a.input);
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&a.output, &[&a.input])?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let input = match open_rdb(&a.input) {
        Ok(i) => i,
        Err(e) => {
            let outcome = e.report(&name);
            return options::finish_output(out, outcome, false);
        }
    };
    let filter = options::settle_file_time(filter, input.head());
    // Chunks are summarized on every core and merged in file order, so the
    // summary is the same with any number of threads.
    let opts = rdbscope_engine::Options {
        threads: a
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        verify_checksum: !a.common.ignore_checksum,
        ..rdbscope_engine::Options::default()
    };
    let max = a.common.max_value_size;
    let mut progress = Progress::for_input(&name, input.size(), input.progress());
    // Counts the selected keys (every key without filters) and every other
    // record.
    let summary = input.with_source(|s| {
        summarize(s, &opts, || Selected::new(&filter, max), &mut |o| {
            progress.at(o)
        })
    });
    drop(progress);
    let outcome = match summary {
        Ok(summary) => {
            let written = match a.format {
                InfoFormat::Text => summary.write_text(&mut out, &name),
                InfoFormat::Json => summary.write_json(&mut out, &name),
            };
            match written {
                Ok(()) => Outcome::Ok,
                Err(e) => print_error(&name, &PrintError::Io(e)),
            }
        }
        Err(e) => print_error(&name, &e),
    };
    options::finish_output(out, outcome, false)
}
