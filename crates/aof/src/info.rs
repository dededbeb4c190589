//! What the command part of an AOF file holds, counted in one pass without
//! the checker's deep RDB work: commands, annotations, transactions, the
//! databases written to and the `#TS` times (`rdbscope info` of an AOF,
//! and the data-directory health report). The walk stops at the first
//! broken record, keeping the counts before it.

use crate::error::Error;
use crate::resp::{Item, Kind, Reader, Records, Transactions};
use std::collections::BTreeMap;

/// The counts of one file's commands.
#[derive(Debug, Clone, Default)]
pub struct Commands {
    /// Where the commands start (after an RDB preamble or base).
    pub start: u64,
    /// Commands read.
    pub commands: u64,
    /// `#` annotation lines read.
    pub annotations: u64,
    /// MULTI ... EXEC blocks closed.
    pub transactions: u64,
    /// Commands per database (SELECT included, in the database it selects).
    pub dbs: BTreeMap<u64, u64>,
    /// The first `#TS:` time.
    pub first_timestamp: Option<i64>,
    /// The last `#TS:` time.
    pub last_timestamp: Option<i64>,
    /// Where the walk stopped: the end of the file, or the broken record.
    pub end: u64,
    /// What broke the walk, if anything (a transaction rule included; the
    /// end of the file inside a transaction too).
    pub error: Option<Error>,
}

/// Counts the commands of `bytes` (a whole file) from `start`.
pub fn commands(bytes: &[u8], start: usize) -> Commands {
    count(&mut Reader::new(bytes, start))
}

/// [`commands`] of a mapped file, telling `release` every 8 MiB the offset
/// the walk has passed, so that the pages behind it can go (a 1 GB file
/// was otherwise resident whole by the end of the count).
pub fn commands_releasing(bytes: &[u8], start: usize, release: &dyn Fn(u64)) -> Commands {
    count(&mut Releasing {
        reader: Reader::new(bytes, start),
        release,
        next: start as u64 + RELEASE_EVERY,
    })
}

/// How often [`commands_releasing`] reports its progress.
const RELEASE_EVERY: u64 = 8 << 20;

/// A [`Reader`] that reports the offset it has passed.
struct Releasing<'a, 'r> {
    reader: Reader<'a>,
    release: &'r dyn Fn(u64),
    next: u64,
}

impl Records for Releasing<'_, '_> {
    fn read_item(&mut self) -> Option<Result<Item<'_>, Error>> {
        let at = self.reader.offset();
        if at >= self.next {
            (self.release)(at);
            self.next = at + RELEASE_EVERY;
        }
        self.reader.read()
    }

    fn offset(&self) -> u64 {
        self.reader.offset()
    }

    fn db(&self) -> u64 {
        self.reader.db()
    }

    fn lines(&self) -> u64 {
        self.reader.lines()
    }
}

/// Counts the commands `reader` reads, from where it stands to the end of
/// its input (a whole file, or a stream: [`crate::stream::StreamReader`]).
/// A read error of a stream ends the walk as [`Commands::error`].
pub fn count<R: Records>(reader: &mut R) -> Commands {
    let mut c = Commands {
        start: reader.offset(),
        ..Commands::default()
    };
    let mut transactions = Transactions::default();
    while let Some(item) = reader.read_item() {
        match item {
            Ok(Item::Command(cmd)) => {
                if let Err(e) = transactions.see(&cmd) {
                    c.error = Some(e);
                    break;
                }
                c.commands += 1;
                *c.dbs.entry(cmd.db).or_default() += 1;
                if cmd.kind == Kind::Exec {
                    c.transactions += 1;
                }
            }
            Ok(Item::Annotation(a)) => {
                c.annotations += 1;
                if let Some(ts) = a.timestamp() {
                    c.first_timestamp.get_or_insert(ts);
                    c.last_timestamp = Some(ts);
                }
            }
            Err(e) => {
                c.error = Some(e);
                break;
            }
        }
    }
    c.end = match &c.error {
        Some(e) => e.record_offset,
        None => reader.offset(),
    };
    if c.error.is_none() {
        // At the end of the input.
        c.error = transactions.end(c.end as usize).err();
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_stops_at_a_broken_record() {
        let mut b = Vec::new();
        crate::resp::write_command(&mut b, &[b"SET", b"a", b"1"]);
        b.extend_from_slice(b"#TS:100\r\n");
        crate::resp::write_command(&mut b, &[b"SELECT", b"3"]);
        crate::resp::write_command(&mut b, &[b"MULTI"]);
        crate::resp::write_command(&mut b, &[b"INCR", b"n"]);
        crate::resp::write_command(&mut b, &[b"EXEC"]);
        b.extend_from_slice(b"#TS:200\r\n");
        let c = commands(&b, 0);
        assert_eq!((c.commands, c.annotations, c.transactions), (5, 2, 1));
        assert_eq!(c.dbs.get(&0), Some(&1));
        assert_eq!(c.dbs.get(&3), Some(&4));
        assert_eq!(
            (c.first_timestamp, c.last_timestamp),
            (Some(100), Some(200))
        );
        assert!(c.error.is_none());
        assert_eq!(c.end, b.len() as u64);
        b.extend_from_slice(b"*2\r\n$3\r\nGET");
        let c = commands(&b, 0);
        assert_eq!(c.commands, 5);
        assert!(c.error.is_some_and(|e| e.is_truncation()));
    }
}
