//! `rdbscope info`: a summary without decoding values.

use crate::args::{InfoArgs, InfoFormat};
use crate::options;
use crate::report::{print_error, print_open_error, Outcome};
use rdbscope_printer::info::Summary;
use rdbscope_printer::PrintError;
use rdbscope_rdb::input::{display_name, Input};
use rdbscope_rdb::Rdb;
use rdbscope_select::{KeyFilter, RecordFilter};

pub fn run(a: &InfoArgs) -> Outcome {
    let name = display_name(&a.input);
    let (filter, mut out) = match options::key_filter(&a.keys)
        .and_then(|f| Ok((f, options::open_output(&a.output, &[&a.input])?)))
    {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let input = match Input::open(&a.input) {
        Ok(i) => i,
        Err(e) => return print_open_error(&name, &e),
    };
    let outcome = match summarize(&input, a, filter) {
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

/// Counts the selected keys (every key without filters) and every other
/// record.
fn summarize(input: &Input, a: &InfoArgs, filter: KeyFilter) -> Result<Summary, PrintError> {
    let bytes = input.bytes();
    let rdb = Rdb::new(bytes)?.verify_checksum(!a.common.ignore_checksum);
    let mut summary = Summary::new(rdb.header(), bytes.len() as u64);
    let mut select = RecordFilter::new(filter, true).with_max_key_size(a.common.max_value_size);
    let mut records = rdb.records();
    while let Some(r) = records.next() {
        let db = records.db();
        let r = r?;
        if select.keep(&r)? {
            summary.add(&r, db)?;
        }
        input.release_before(records.settled_offset());
    }
    Ok(summary)
}
