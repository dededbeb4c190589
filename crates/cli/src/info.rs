//! `rdbscope info`: a summary without decoding values.

use crate::args::{InfoArgs, InfoFormat};
use crate::progress::Progress;
use crate::report::{print_error, print_open_error, Outcome};
use crate::source::open_rdb;
use rdbscope_printer::info::summarize;
use rdbscope_printer::PrintError;
use rdbscope_rdb::input::display_name;
use std::io::{self, Write};

pub fn run(a: &InfoArgs) -> Outcome {
    let name = display_name(&a.input);
    let input = match open_rdb(&a.input) {
        Ok(i) => i,
        Err(e) => return print_open_error(&name, &e),
    };
    let opts = rdbscope_engine::Options {
        verify_checksum: !a.common.ignore_checksum,
        ..rdbscope_engine::Options::default()
    };
    let mut progress = Progress::new(&name, input.size().unwrap_or(0));
    let summary = input.with_source(|s| summarize(s, &opts, &mut |o| progress.at(o)));
    drop(progress);
    match summary {
        Ok(summary) => {
            let mut out = io::stdout().lock();
            let written = match a.format {
                InfoFormat::Text => summary.write_text(&mut out, &name),
                InfoFormat::Json => summary.write_json(&mut out, &name),
            }
            .and_then(|_| out.flush());
            match written {
                Ok(()) => Outcome::Ok,
                Err(e) => print_error(&name, &PrintError::Io(e)),
            }
        }
        Err(e) => print_error(&name, &e),
    }
}
