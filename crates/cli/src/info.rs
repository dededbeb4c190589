//! `rdbscope info`: a summary without decoding values.

use crate::args::{InfoArgs, InfoFormat};
use crate::report::{print_error, print_open_error, Outcome};
use rdbscope_printer::info::Summary;
use rdbscope_printer::PrintError;
use rdbscope_rdb::input::{display_name, Input};
use rdbscope_rdb::Rdb;
use std::io::{self, Write};

pub fn run(a: &InfoArgs) -> Outcome {
    let name = display_name(&a.input);
    let input = match Input::open(&a.input) {
        Ok(i) => i,
        Err(e) => return print_open_error(&name, &e),
    };
    match summarize(&input, a) {
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

fn summarize(input: &Input, a: &InfoArgs) -> Result<Summary, PrintError> {
    let bytes = input.bytes();
    let rdb = Rdb::new(bytes)?.verify_checksum(!a.common.ignore_checksum);
    let mut summary = Summary::new(rdb.header(), bytes.len() as u64);
    let mut records = rdb.records();
    while let Some(r) = records.next() {
        let db = records.db();
        summary.add(&r?, db)?;
        input.release_before(records.settled_offset());
    }
    Ok(summary)
}
