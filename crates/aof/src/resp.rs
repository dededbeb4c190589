//! The command stream of an AOF: RESP arrays of bulk strings
//! (`*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per argument) and `#`
//! annotation lines, read in place (docs/format.md#aof-command-stream).
//!
//! [`Reader`] is an iterator of [`Item`]s: commands and annotations, each a
//! view into the input. A command's arguments are not collected: the
//! reader validates the whole record once, keeps its bytes, and
//! [`Command::args`] walks them again on demand, so reading allocates
//! nothing however many arguments a command has. Bulk bodies are skipped by
//! their length (the CRLF after each is verified); nothing is checked for
//! UTF-8.
//!
//! Lengths are never trusted for anything but skipping: a length larger
//! than what is left of the input is a truncation, reported with both
//! numbers, and no buffer is ever sized by one.
//!
//! After an `Err` the iterator is finished: like the server's loader, we do
//! not guess where the next command might start.
//!
//! ```
//! use rdbscope_aof::resp::{Item, Reader};
//!
//! let aof = b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
//! let mut seen = Vec::new();
//! for item in Reader::new(aof, 0) {
//!     match item.unwrap() {
//!         Item::Command(c) => seen.push((c.db, c.args().collect::<Vec<_>>())),
//!         Item::Annotation(a) => assert_eq!(a.timestamp(), Some(1700000000)),
//!     }
//! }
//! assert_eq!(seen[1], (3, vec![&b"SET"[..], b"k", b"v"]));
//! ```

use crate::error::{show_byte, Error};
use crate::rule::Rule;
use rdbscope_rdb::rdb_string::int_text;

/// What the server does with a command that matters to the reader: SELECT
/// changes the database of the commands after it, MULTI and EXEC bracket a
/// transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any command but the three below.
    Other,
    /// `SELECT db`.
    Select,
    /// `MULTI`.
    Multi,
    /// `EXEC`.
    Exec,
}

impl Kind {
    /// Classifies a command name (case-insensitive, as Redis looks it up).
    #[inline]
    pub fn of(name: &[u8]) -> Kind {
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"exec") => Kind::Exec,
            5 if name.eq_ignore_ascii_case(b"multi") => Kind::Multi,
            6 if name.eq_ignore_ascii_case(b"select") => Kind::Select,
            _ => Kind::Other,
        }
    }
}

/// One command, a view into the input.
#[derive(Debug, Clone, Copy)]
pub struct Command<'a> {
    /// File offset of the command's `*`.
    pub offset: u64,
    /// The database the command applies to: the one the last SELECT of the
    /// same file chose (every file starts in 0, as the server's loader
    /// does); for a SELECT, the database it selects.
    pub db: u64,
    /// Number of arguments, the command name included (at least 1).
    pub argc: usize,
    /// The first argument: the command name, as written.
    pub name: &'a [u8],
    /// What the command means to the reader.
    pub kind: Kind,
    /// The whole record, `*` to the last CRLF.
    raw: &'a [u8],
    /// Where the first `$` is in `raw`.
    args_at: usize,
}

impl<'a> Command<'a> {
    /// The arguments, name first, each borrowed from the input.
    pub fn args(&self) -> Args<'a> {
        Args {
            raw: self.raw,
            pos: self.args_at,
            left: self.argc,
        }
    }

    /// The record's bytes exactly as in the file (for RESP pass-through).
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// File offset just past the command.
    pub fn end(&self) -> u64 {
        self.offset + self.raw.len() as u64
    }

    /// A copy that outlives the input it was read from (a stream's window
    /// moves on): a transaction's commands wait for its `EXEC`.
    pub fn to_owned_command(&self) -> OwnedCommand {
        OwnedCommand {
            // Its place within its own bytes.
            place: CommandPlace::of(self.raw, self),
            raw: self.raw.to_vec(),
        }
    }
}

/// A [`Command`] copied out of its input; [`OwnedCommand::command`] lends
/// it out again.
#[derive(Debug, Clone)]
pub struct OwnedCommand {
    place: CommandPlace,
    raw: Vec<u8>,
}

impl OwnedCommand {
    /// The command, as it was read.
    pub fn command(&self) -> Command<'_> {
        self.place.command(&self.raw)
    }
}

/// The arguments of a [`Command`]; see [`Command::args`].
#[derive(Debug, Clone)]
pub struct Args<'a> {
    raw: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The record was validated when it was read: `$`, digits, CRLF,
        // body, CRLF. Slicing stays checked all the same.
        let mut i = self.pos + 1;
        let mut len = 0usize;
        while let Some(&c) = self.raw.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            len = len.wrapping_mul(10).wrapping_add(usize::from(c - b'0'));
            i += 1;
        }
        let start = i + 2;
        let arg = self.raw.get(start..start.checked_add(len)?)?;
        self.pos = start + len + 2;
        Some(arg)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Args<'_> {}

/// The loader's transaction rules over the commands of one file, in
/// order: no MULTI inside a transaction, no EXEC without one. Whether a
/// file may end inside a transaction is the caller's to judge (only the
/// last file of an AOF may, with `aof-load-truncated yes`); [`Self::end`]
/// says it does.
#[derive(Debug, Default, Clone, Copy)]
pub struct Transactions {
    open: Option<u64>,
}

impl Transactions {
    /// Takes the next command; the error names the rule it breaks.
    pub fn see(&mut self, c: &Command<'_>) -> Result<(), Error> {
        match c.kind {
            Kind::Multi => match self.open {
                Some(open) => Err(Error::format(
                    Rule::MultiNested,
                    c.offset as usize,
                    c.offset as usize,
                    format!("unexpected MULTI inside the transaction opened at offset {open} (MULTI calls can not be nested)"),
                )),
                None => {
                    self.open = Some(c.offset);
                    Ok(())
                }
            },
            Kind::Exec => match self.open.take() {
                Some(_) => Ok(()),
                None => Err(Error::format(
                    Rule::ExecWithoutMulti,
                    c.offset as usize,
                    c.offset as usize,
                    "unexpected EXEC without MULTI",
                )),
            },
            Kind::Other | Kind::Select => Ok(()),
        }
    }

    /// Where the open transaction started, if one is open.
    pub fn open(&self) -> Option<u64> {
        self.open
    }

    /// The error for a file of `len` bytes that ends here, if a
    /// transaction is open.
    pub fn end(&self, len: usize) -> Result<(), Error> {
        match self.open {
            None => Ok(()),
            Some(open) => {
                let mut e = Error::truncated(
                    len,
                    open as usize,
                    format!("the file ends inside the transaction opened at offset {open} (MULTI without EXEC)"),
                );
                e.rule = Rule::MultiWithoutExec;
                Err(e)
            }
        }
    }
}

/// A `#` line: skipped by the server's loader; Redis 7+ writes
/// `#TS:<unix seconds>` ones with `aof-timestamp-enabled yes`.
#[derive(Debug, Clone, Copy)]
pub struct Annotation<'a> {
    /// File offset of the `#`.
    pub offset: u64,
    /// The line after `#`, without its line end.
    pub text: &'a [u8],
    /// Bytes the line takes in the file.
    pub len: usize,
}

impl Annotation<'_> {
    /// The time of a `#TS:<unix seconds>` annotation.
    pub fn timestamp(&self) -> Option<i64> {
        let digits = self.text.strip_prefix(b"TS:")?;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
}

#[derive(Debug, Clone, Copy)]
/// One record of an AOF's command part.
pub enum Item<'a> {
    /// A RESP command.
    Command(Command<'a>),
    /// A `#` line.
    Annotation(Annotation<'a>),
}

impl Item<'_> {
    /// File offset of the record's first byte.
    pub fn offset(&self) -> u64 {
        match self {
            Item::Command(c) => c.offset,
            Item::Annotation(a) => a.offset,
        }
    }
}

/// The longest annotation line the server reads in one piece: it reads
/// them with `fgets` into a 1024-byte buffer (`AOF_ANNOTATION_LINE_MAX_LEN`),
/// so a longer line goes on as if it were the next record.
pub const ANNOTATION_MAX: usize = 1023;

/// A length has at most this many digits (what fits a u64 for sure).
const MAX_DIGITS: usize = 19;

/// Reads commands from `data` (a whole file; offsets are file offsets),
/// starting at `start` (0, or where an RDB preamble ends).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    /// File offset of `data[0]` (0 for a whole file; a stream's window
    /// starts further on).
    base: u64,
    pos: usize,
    db: u64,
    lines: u64,
    done: bool,
    last_error: Option<Error>,
}

/// Where a length could not be read, for the cold error path.
enum LenError {
    /// The input ended at this offset.
    End(usize),
    /// This byte is not allowed here.
    Byte(usize),
    TooLong(usize),
}

impl<'a> Reader<'a> {
    /// A reader over `data`, starting at offset `start`.
    pub fn new(data: &'a [u8], start: usize) -> Reader<'a> {
        Reader {
            data,
            base: 0,
            pos: start.min(data.len()),
            db: 0,
            lines: 0,
            done: false,
            last_error: None,
        }
    }

    /// Resumes a walk at a command boundary `start` whose database is
    /// known (work split into batches).
    pub fn resume(data: &'a [u8], start: usize, db: u64) -> Reader<'a> {
        let mut r = Reader::new(data, start);
        r.db = db;
        r
    }

    /// A reader over `data`, the bytes of a file from offset `base` on (a
    /// stream's window), starting at `start` in `data`, in database `db`:
    /// every offset it reports, in items and errors, is a file offset.
    pub(crate) fn in_window(data: &'a [u8], base: u64, start: usize, db: u64) -> Reader<'a> {
        let mut r = Reader::resume(data, start, db);
        r.base = base;
        r
    }

    /// The file offset of `data[p]`.
    #[inline]
    fn at(&self, p: usize) -> usize {
        self.base as usize + p
    }

    /// Offset of the next record (after an error: of the broken record).
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The database selected at this point.
    pub fn db(&self) -> u64 {
        self.db
    }

    /// Lines read so far as `redis-check-aof` counts them: each argument
    /// count, length and argument line, including those of a command
    /// broken halfway; annotations do not count. (Its `ok_up_to_line` is
    /// this plus 1.)
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The error that ended the walk, if one did.
    pub fn error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// Reads one record. `None` at the end of the input or after an error.
    #[inline]
    pub fn read(&mut self) -> Option<Result<Item<'a>, Error>> {
        if self.done {
            return None;
        }
        let d = self.data;
        let start = self.pos;
        match d.get(start) {
            None => {
                self.done = true;
                None
            }
            Some(b'*') => match self.command(start) {
                Ok(c) => Some(Ok(Item::Command(c))),
                Err(e) => Some(Err(self.fail(e))),
            },
            Some(b'#') => Some(Ok(Item::Annotation(self.annotation(start)))),
            Some(&b) => {
                let e = Error::format(
                    Rule::CommandStart,
                    self.at(start),
                    self.at(start),
                    format!(
                        "expected '*' (a command) or '#' (an annotation), found {}",
                        show_byte(b)
                    ),
                );
                Some(Err(self.fail(e)))
            }
        }
    }

    #[cold]
    fn fail(&mut self, e: Error) -> Error {
        self.done = true;
        self.last_error = Some(e.clone());
        e
    }

    fn annotation(&mut self, start: usize) -> Annotation<'a> {
        let d = self.data;
        let window = &d[start..d.len().min(start + ANNOTATION_MAX)];
        let len = match window.iter().position(|&b| b == b'\n') {
            Some(nl) => nl + 1,
            None => window.len(),
        };
        let line = &window[1..len];
        let text = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        self.pos = start + len;
        Annotation {
            offset: self.at(start) as u64,
            text,
            len,
        }
    }

    /// Reads the command at `start` (a `*`). The hot path: a tight loop
    /// per argument, `$`, digits, CRLF, skip the body, CRLF.
    #[inline]
    fn command(&mut self, start: usize) -> Result<Command<'a>, Error> {
        let d = self.data;
        let (argc, mut p) = match parse_len(d, start + 1) {
            Ok(v) => v,
            Err(e) => return Err(self.len_error(e, start, "argument count", 0)),
        };
        if argc == 0 {
            self.lines += 1;
            return Err(Error::format(
                Rule::EmptyCommand,
                self.at(start),
                self.at(start),
                "a command needs at least one argument, found '*0' (the server refuses to load this)",
            ));
        }
        let args_at = p - start;
        let mut name: &[u8] = &[];
        let mut arg1: &[u8] = &[];
        let mut i = 0u64;
        while i < argc {
            if d.get(p) != Some(&b'$') {
                return Err(self.arg_error(start, p, i, 0));
            }
            let (len, body) = match parse_len(d, p + 1) {
                Ok(v) => v,
                Err(e) => return Err(self.len_error(e, start, "argument length", 1 + 2 * i)),
            };
            let left = (d.len() - body) as u64;
            if len >= left.saturating_sub(1) {
                return Err(self.body_error(start, body, len, i));
            }
            let end = body + len as usize;
            if d[end] != b'\r' || d[end + 1] != b'\n' {
                return Err(self.body_error(start, body, len, i));
            }
            if i < 2 {
                if i == 0 {
                    name = &d[body..end];
                } else {
                    arg1 = &d[body..end];
                }
            }
            p = end + 2;
            i += 1;
        }
        self.lines += 1 + 2 * argc;
        self.pos = p;
        let kind = Kind::of(name);
        if kind == Kind::Select && argc >= 2 {
            if let Some(db) = parse_db(arg1) {
                self.db = db;
            }
        }
        Ok(Command {
            offset: self.at(start) as u64,
            db: self.db,
            argc: argc as usize,
            name,
            kind,
            raw: &d[start..p],
            args_at,
        })
    }

    /// The `i`th argument does not start with `$`.
    #[cold]
    fn arg_error(&mut self, start: usize, p: usize, i: u64, _: u8) -> Error {
        self.lines += 1 + 2 * i;
        let argc = self.argc_at(start);
        let (start, local, p) = (self.at(start), p, self.at(p));
        match self.data.get(local) {
            None => Error::truncated(
                p,
                start,
                format!(
                    "expected '$' (the length of argument {} of {}) at offset {p}, found the end of the file",
                    i + 1,
                    argc
                ),
            ),
            Some(&b) => Error::format(
                Rule::ArgumentStart,
                p,
                start,
                format!(
                    "expected '$' (the length of argument {} of {}) at offset {p}, found {}",
                    i + 1,
                    argc,
                    show_byte(b)
                ),
            ),
        }
    }

    /// The argument count of the command at `start` (already parsed once).
    fn argc_at(&self, start: usize) -> u64 {
        parse_len(self.data, start + 1).map_or(0, |(n, _)| n)
    }

    #[cold]
    fn len_error(&mut self, e: LenError, start: usize, what: &str, lines: u64) -> Error {
        self.lines += lines;
        let start = self.at(start);
        match e {
            LenError::End(at) => {
                let at = self.at(at);
                Error::truncated(
                at,
                start,
                format!("the file ends at offset {at}, inside the {what} line of the command at offset {start}"),
            )
            }
            LenError::Byte(local) => {
                let at = self.at(local);
                let b = self.data[local];
                let expected = if self.data[local - 1].is_ascii_digit() {
                    "a digit or '\\r\\n'"
                } else if self.data[local - 1] == b'\r' {
                    "'\\n'"
                } else {
                    "a digit"
                };
                Error::format(
                    Rule::LengthLine,
                    at,
                    start,
                    format!(
                        "expected {expected} in the {what} at offset {at}, found {}",
                        show_byte(b)
                    ),
                )
            }
            LenError::TooLong(local) => {
                let at = self.at(local);
                Error::format(
                    Rule::LengthLine,
                    at,
                    start,
                    format!("the {what} at offset {at} has more than {MAX_DIGITS} digits"),
                )
            }
        }
    }

    /// Argument `i`'s body (`len` bytes at `body`) is cut short or not
    /// followed by CRLF.
    #[cold]
    fn body_error(&mut self, start: usize, body: usize, len: u64, i: u64) -> Error {
        // The argument count line, the complete arguments, this length line.
        self.lines += 1 + 2 * i + 1;
        let d = self.data;
        let left = (d.len() - body) as u64;
        let (abs_start, abs_body) = (self.at(start), self.at(body));
        if len > left {
            return Error::truncated(
                abs_body,
                abs_start,
                format!(
                    "bulk length {len} (argument {} at offset {abs_body}) exceeds the remaining {left} bytes",
                    i + 1
                ),
            );
        }
        let end = body + len as usize;
        let found = &d[end..d.len().min(end + 2)];
        let abs_end = self.at(end);
        if found.len() < 2 && found.iter().all(|&b| b == b'\r') {
            return Error::truncated(
                abs_end,
                abs_start,
                format!(
                    "expected '\\r\\n' after the {len}-byte argument {} at offset {abs_end}, found the end of the file",
                    i + 1
                ),
            );
        }
        let at = if found[0] == b'\r' {
            abs_end + 1
        } else {
            abs_end
        };
        Error::format(
            Rule::ArgumentEnd,
            at,
            abs_start,
            format!(
                "expected '\\r\\n' after the {len}-byte argument {} at offset {abs_end}, found {}",
                i + 1,
                found
                    .iter()
                    .map(|&b| show_byte(b))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        )
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Item<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.read()
    }
}

/// The records of an AOF's command part, from a whole file ([`Reader`]) or
/// from a stream ([`crate::stream::StreamReader`]): what the walks of
/// `check`, `info` and `dump` need, so that one walk serves both.
pub trait Records {
    /// The next record: `None` at the end of the input or after an error.
    fn read_item(&mut self) -> Option<Result<Item<'_>, Error>>;
    /// File offset of the next record (after an error: of the broken one).
    fn offset(&self) -> u64;
    /// The database selected at this point.
    fn db(&self) -> u64;
    /// Lines read so far as `redis-check-aof` counts them
    /// ([`Reader::lines`]).
    fn lines(&self) -> u64;
}

impl Records for Reader<'_> {
    #[inline]
    fn read_item(&mut self) -> Option<Result<Item<'_>, Error>> {
        self.read()
    }

    fn offset(&self) -> u64 {
        Reader::offset(self)
    }

    fn db(&self) -> u64 {
        Reader::db(self)
    }

    fn lines(&self) -> u64 {
        Reader::lines(self)
    }
}

/// Where an item's bytes are in the slice it was read from, so that it can
/// be borrowed again from the same slice later (a stream's reader decides
/// whether a record is complete before it lends it out; a transaction's
/// command keeps its own copy, [`OwnedCommand`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place {
    Command(CommandPlace),
    Annotation {
        offset: u64,
        text: (usize, usize),
        len: usize,
    },
}

/// A [`Command`] by where its bytes are in a slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommandPlace {
    offset: u64,
    db: u64,
    argc: usize,
    kind: Kind,
    name: (usize, usize),
    raw: (usize, usize),
    args_at: usize,
}

/// Where `part` (a sub-slice of `data`) is in `data`.
fn span(data: &[u8], part: &[u8]) -> (usize, usize) {
    let from = (part.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
    (from, from + part.len())
}

/// `data[a..b]`, empty when out of range.
fn get(data: &[u8], (a, b): (usize, usize)) -> &[u8] {
    data.get(a..b).unwrap_or_default()
}

impl CommandPlace {
    /// The place of `c`, read from `data`.
    fn of(data: &[u8], c: &Command<'_>) -> CommandPlace {
        CommandPlace {
            offset: c.offset,
            db: c.db,
            argc: c.argc,
            kind: c.kind,
            name: span(data, c.name),
            raw: span(data, c.raw),
            args_at: c.args_at,
        }
    }

    /// The command again, from the same bytes.
    fn command(self, data: &[u8]) -> Command<'_> {
        Command {
            offset: self.offset,
            db: self.db,
            argc: self.argc,
            name: get(data, self.name),
            kind: self.kind,
            raw: get(data, self.raw),
            args_at: self.args_at,
        }
    }
}

impl Place {
    /// The place of `item`, read from `data`.
    pub(crate) fn of(data: &[u8], item: &Item<'_>) -> Place {
        match item {
            Item::Command(c) => Place::Command(CommandPlace::of(data, c)),
            Item::Annotation(a) => Place::Annotation {
                offset: a.offset,
                text: span(data, a.text),
                len: a.len,
            },
        }
    }

    /// The item again, from the same bytes (`data` may have grown after
    /// them, not moved).
    pub(crate) fn item(self, data: &[u8]) -> Item<'_> {
        match self {
            Place::Command(c) => Item::Command(c.command(data)),
            Place::Annotation { offset, text, len } => Item::Annotation(Annotation {
                offset,
                text: get(data, text),
                len,
            }),
        }
    }
}

/// Parses `<digits>\r\n` at `i`: the number and the offset after the LF.
#[inline(always)]
fn parse_len(d: &[u8], i: usize) -> Result<(u64, usize), LenError> {
    let mut n = 0u64;
    let mut j = i;
    loop {
        match d.get(j) {
            Some(&c) if c.is_ascii_digit() => {
                n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                j += 1;
            }
            Some(b'\r') if j > i => break,
            Some(_) => return Err(LenError::Byte(j)),
            None => return Err(LenError::End(j)),
        }
    }
    if j - i > MAX_DIGITS {
        return Err(LenError::TooLong(i));
    }
    match d.get(j + 1) {
        Some(b'\n') => Ok((n, j + 2)),
        Some(_) => Err(LenError::Byte(j + 1)),
        None => Err(LenError::End(j + 1)),
    }
}

/// SELECT's argument as a database number; `None` if it is not one (the
/// server would answer an error and stay in its database).
fn parse_db(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() || arg.len() > MAX_DIGITS || !arg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// Appends `args` as one command the way the server writes it to the AOF
/// (`catAppendOnlyGenericCommand`): `*<argc>` then `$<len>` and the bytes
/// of each argument, every line ended by CRLF.
pub fn write_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    let mut digits = [0u8; 20];
    out.push(b'*');
    out.extend_from_slice(int_text(args.len() as i64, &mut digits));
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        out.extend_from_slice(int_text(a.len() as i64, &mut digits));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(d: &[u8]) -> Vec<Result<Item<'_>, Error>> {
        Reader::new(d, 0).collect()
    }

    fn cmd(args: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        write_command(&mut v, args);
        v
    }

    #[test]
    fn commands_annotations_and_dbs() {
        let mut f = cmd(&[b"SET", b"a", b"1"]);
        f.extend(b"#TS:1700000001\r\n");
        f.extend(cmd(&[b"select", b"7"]));
        f.extend(cmd(&[b"SET", b"bin\x00\r\n", b""]));
        let it = items(&f);
        assert_eq!(it.len(), 4);
        let Ok(Item::Command(c)) = &it[3] else {
            panic!()
        };
        assert_eq!(c.db, 7);
        assert_eq!(
            c.args().collect::<Vec<_>>(),
            [&b"SET"[..], b"bin\x00\r\n", b""]
        );
        assert_eq!(c.raw(), &cmd(&[b"SET", b"bin\x00\r\n", b""])[..]);
        let Ok(Item::Annotation(a)) = &it[1] else {
            panic!()
        };
        assert_eq!(a.timestamp(), Some(1700000001));
        let mut r = Reader::new(&f, 0);
        r.by_ref().for_each(drop);
        assert_eq!(r.lines(), 7 + 5 + 7);
    }

    #[test]
    fn errors_name_offsets() {
        let f = b"*1\r\n$4\r\nPING\r\nGARBAGE";
        let e = items(f).pop().unwrap().unwrap_err();
        assert_eq!(
            (e.offset, e.record_offset, e.is_truncation()),
            (14, 14, false)
        );
        assert!(e.message().contains("found 'G'"), "{e}");

        let f = b"*2\r\n$3\r\nGET\r\n$4294967295\r\nab";
        let e = items(f).pop().unwrap().unwrap_err();
        assert!(e.is_truncation());
        assert!(e.message().contains("exceeds the remaining 2 bytes"), "{e}");

        let f = b"*2\r\n$3\r\nGET\r\n#3\r\nabc\r\n";
        let e = items(f).pop().unwrap().unwrap_err();
        assert_eq!(e.offset, 13);
        assert!(e.message().starts_with("expected '$'"), "{e}");

        let f = b"*1\r\n$4\r\nPINGxx";
        let e = items(f).pop().unwrap().unwrap_err();
        assert!(!e.is_truncation(), "{e}");
        let f = b"*1\r\n$4\r\nPING\r";
        assert!(items(f).pop().unwrap().unwrap_err().is_truncation());
        let f = b"*0\r\n";
        assert!(!items(f).pop().unwrap().unwrap_err().is_truncation());
        let f = b"*99999999999999999999\r\n";
        assert!(!items(f).pop().unwrap().unwrap_err().is_truncation());
    }

    #[test]
    fn every_truncation_is_a_truncation() {
        let mut f = cmd(&[b"SET", b"key", b"value"]);
        f.extend(cmd(&[b"PING"]));
        for cut in 1..f.len() {
            let r: Vec<_> = items(&f[..cut]).into_iter().collect();
            let last = r.last().unwrap();
            if cut == 33 {
                assert!(last.is_ok());
            } else {
                let e = last.as_ref().unwrap_err();
                assert!(e.is_truncation(), "cut {cut}: {e}");
            }
        }
    }

    #[test]
    fn long_annotations_split_like_fgets() {
        let mut f = vec![b'#'; 2000];
        f.extend(b"\r\n");
        let r: Vec<_> = items(&f);
        // 1023 + 977 + 2 bytes: the second piece starts with '#' again.
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|i| i.is_ok()));
    }
}
