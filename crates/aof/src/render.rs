//! The commands of an AOF file as JSON Lines or as RESP, for `dump`.
//!
//! JSON Lines, one object per command (schema: docs/json-format.md):
//! `{"file":F,"offset":N,"db":D,"command":[S,...]}`, and per annotation
//! `{"record":"annotation","file":F,"offset":N,"text":S,"timestamp":T}`.
//! Arguments are written with the RDB printer's binary-safe strings
//! (a JSON string for UTF-8, `{"base64":...}` otherwise), so a value reads
//! the same whether it came from an RDB or an AOF.
//!
//! RESP passes the commands through byte for byte (annotations are left
//! out: `redis-cli --pipe` would not take them), after a `SELECT 0`,
//! because the server loads every file starting in database 0.
//!
//! JSON is rendered on several threads when asked: one thread walks the
//! file with the validating [`Reader`] and cuts it into batches at command
//! boundaries, noting the database each batch starts in; workers render
//! batches into buffers of their own; the calling thread writes the
//! buffers in file order. The output is byte for byte what one thread
//! writes. The walk is several times faster than rendering, so it costs a
//! fraction of a core and the workers do the rest.

use crate::error::Error;
use crate::resp::{Annotation, Command, Item, Kind, Reader, Records, Transactions};
use crate::stream::StreamReader;
use rdbscope_json::out::OutBuf;
use rdbscope_json::write::{write_bytes, write_u64};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The output format of `dump` for an AOF.
pub enum Format {
    /// One JSON object per command (and per annotation, when asked).
    JsonLines,
    /// The commands themselves, re-encoded the way the server writes them.
    Resp,
}

/// What to print.
#[derive(Clone)]
pub struct Options {
    /// The output format.
    pub format: Format,
    /// Only commands in these databases (empty: all). SELECTs always pass
    /// in RESP, so the receiving connection follows along.
    pub dbs: Vec<u64>,
    /// Print annotation records (JSON only).
    pub annotations: bool,
    /// Rendering threads (JSON); 1 renders on the calling thread.
    pub threads: usize,
    /// Which commands to print, beyond `dbs` (key filters, times); `None`:
    /// every command. When set, annotations are not printed.
    pub select: Option<Select>,
    /// The last `#TS` time of the files before this one (files are loaded
    /// in order, so a command's time may come from an earlier file).
    pub start_ts: Option<i64>,
}

/// A command selector: the command, and the time of the last `#TS`
/// annotation before it. Called on any rendering thread.
pub type Select = std::sync::Arc<dyn Fn(&Command<'_>, Option<i64>) -> bool + Send + Sync>;

/// Where a command stands: after which `#TS` time, inside a transaction
/// or not. Carried from record to record, and into each batch of the
/// parallel walk from the walker, so every command gets the same with any
/// number of threads.
#[derive(Debug, Default, Clone, Copy)]
pub struct Context {
    /// The last `#TS:` time read.
    pub ts: Option<i64>,
    /// Inside MULTI ... EXEC (both included).
    pub multi: bool,
    /// The previous command was EXEC: the transaction is over.
    closing: bool,
}

impl Context {
    /// Moves past `item`; for a command, returns its `multi` flag.
    #[inline]
    pub fn step(&mut self, item: &Item<'_>) -> bool {
        if self.closing {
            self.multi = false;
            self.closing = false;
        }
        match item {
            Item::Annotation(a) => {
                if let Some(t) = a.timestamp() {
                    self.ts = Some(t);
                }
                false
            }
            Item::Command(c) => {
                match c.kind {
                    Kind::Multi => self.multi = true,
                    Kind::Exec => self.closing = true,
                    Kind::Other | Kind::Select => {}
                }
                self.multi
            }
        }
    }
}

/// Why printing stopped.
#[derive(Debug)]
pub enum RenderError {
    /// Writing the output failed.
    Io(io::Error),
    /// The input is broken here; everything before it was written.
    Aof(Error),
}

impl From<io::Error> for RenderError {
    fn from(e: io::Error) -> Self {
        RenderError::Io(e)
    }
}

/// What was printed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Commands printed.
    pub commands: u64,
    /// Annotations printed.
    pub annotations: u64,
    /// The last `#TS` time read (or `Options::start_ts`): the next file's
    /// start.
    pub last_ts: Option<i64>,
}

/// Output goes to the sink in blocks of about this size.
const FLUSH_AT: usize = 256 << 10;

/// Batches of about this many input bytes go to the JSON workers.
const BATCH_BYTES: usize = 1 << 20;

/// The JSON rendering of one file's commands.
pub struct JsonLines {
    /// `{"file":"<name>","offset":`, rendered once.
    command_prefix: Vec<u8>,
    /// `{"record":"annotation","file":"<name>","offset":`
    annotation_prefix: Vec<u8>,
    dbs: Vec<u64>,
    annotations: bool,
    select: Option<Select>,
}

impl JsonLines {
    /// Renders the commands of `file`, keeping those of `dbs` (empty: all)
    /// and annotations when asked.
    pub fn new(file: &str, dbs: &[u64], annotations: bool) -> JsonLines {
        let mut name = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = write_bytes(&mut name, file.as_bytes());
        let mut command_prefix = b"{\"file\":".to_vec();
        command_prefix.extend(&name);
        command_prefix.extend(b",\"offset\":");
        let mut annotation_prefix = b"{\"record\":\"annotation\",\"file\":".to_vec();
        annotation_prefix.extend(&name);
        annotation_prefix.extend(b",\"offset\":");
        JsonLines {
            command_prefix,
            annotation_prefix,
            dbs: dbs.to_vec(),
            annotations,
            select: None,
        }
    }

    /// Prints only the commands `select` accepts (and no annotations).
    pub fn selecting(mut self, select: Option<Select>) -> JsonLines {
        if select.is_some() {
            self.annotations = false;
        }
        self.select = select;
        self
    }

    /// Appends one item's line to `out`, if the filters let it through;
    /// `cx` is where the walk stands, moved past the item.
    #[inline]
    pub fn item(&self, out: &mut OutBuf, item: &Item<'_>, cx: &mut Context) -> bool {
        let ts = cx.ts;
        let multi = cx.step(item);
        match item {
            Item::Command(c) => {
                if !self.dbs.is_empty() && !self.dbs.contains(&c.db) {
                    return false;
                }
                if self.select.as_ref().is_some_and(|s| !s(c, ts)) {
                    return false;
                }
                self.command(out, c, ts, multi);
                true
            }
            Item::Annotation(a) if self.annotations && self.dbs.is_empty() => {
                self.annotation(out, a);
                true
            }
            Item::Annotation(_) => false,
        }
    }

    /// `{"file":F,"offset":N,"db":D,"ts":T,"multi":B,"command":[...]}\n`:
    /// `ts` is the time of the last `#TS` annotation before it (or null),
    /// `multi` whether it is part of a MULTI ... EXEC block.
    #[inline]
    pub fn command(&self, out: &mut OutBuf, c: &Command<'_>, ts: Option<i64>, multi: bool) {
        // Writing to an OutBuf cannot fail.
        out.put(&self.command_prefix);
        let _ = write_u64(out, c.offset);
        out.put(b",\"db\":");
        let _ = write_u64(out, c.db);
        out.put(b",\"ts\":");
        match ts {
            Some(t) => {
                if t < 0 {
                    out.push(b'-');
                }
                let _ = write_u64(out, t.unsigned_abs());
            }
            None => out.put(b"null"),
        }
        out.put(if multi {
            b",\"multi\":true,\"command\":[" as &[u8]
        } else {
            b",\"multi\":false,\"command\":["
        });
        for (i, arg) in c.args().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = write_bytes(out, arg);
        }
        out.put(b"]}\n");
    }

    /// `{"record":"annotation","file":F,"offset":N,"text":S,"timestamp":T}\n`
    pub fn annotation(&self, out: &mut OutBuf, a: &Annotation<'_>) {
        out.put(&self.annotation_prefix);
        let _ = write_u64(out, a.offset);
        out.put(b",\"text\":");
        let _ = write_bytes(out, a.text);
        out.put(b",\"timestamp\":");
        match a.timestamp() {
            Some(t) => {
                if t < 0 {
                    out.push(b'-');
                }
                let _ = write_u64(out, t.unsigned_abs());
            }
            None => out.put(b"null"),
        }
        out.put(b"}\n");
    }
}

/// `SELECT 0`: every file is loaded starting in database 0.
const SELECT_0: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n";

/// Prints the commands of `bytes` (a whole file) from offset `start`, for
/// the file shown as `file`. `on_written(offset)` is called with offsets
/// before which the input is not read again (to release mapped pages).
pub fn print_commands<W: Write>(
    bytes: &[u8],
    start: usize,
    file: &str,
    opts: &Options,
    sink: &mut W,
    on_written: &mut dyn FnMut(u64),
) -> Result<Stats, RenderError> {
    let mut reader = Reader::new(bytes, start);
    match opts.format {
        Format::Resp => print_resp(
            &mut reader,
            Gather::Runs(bytes, None),
            opts,
            sink,
            on_written,
        ),
        Format::JsonLines if opts.threads > 1 && bytes.len() - start > 2 * BATCH_BYTES => {
            print_json_parallel(bytes, start, file, opts, sink, on_written)
        }
        Format::JsonLines => print_json(&mut reader, file, opts, sink, on_written),
    }
}

/// [`print_commands`] for the commands of a stream, read as they arrive
/// through `reader`'s window (on the calling thread: `opts.threads` is not
/// used). The output is byte for byte that of the same bytes as a file. A
/// read error of the stream ends it as a [`RenderError::Aof`] whose error
/// [`is_read_error`](Error::is_read_error).
pub fn print_stream_commands<W: Write>(
    reader: &mut StreamReader<'_>,
    file: &str,
    opts: &Options,
    sink: &mut W,
) -> Result<Stats, RenderError> {
    match opts.format {
        Format::Resp => print_resp(reader, Gather::Block(Vec::new()), opts, sink, &mut |_| {}),
        Format::JsonLines => print_json(reader, file, opts, sink, &mut |_| {}),
    }
}

fn print_json<R: Records, W: Write>(
    reader: &mut R,
    file: &str,
    opts: &Options,
    sink: &mut W,
    on_written: &mut dyn FnMut(u64),
) -> Result<Stats, RenderError> {
    let json = JsonLines::new(file, &opts.dbs, opts.annotations).selecting(opts.select.clone());
    let mut out = OutBuf::with_capacity(FLUSH_AT + (FLUSH_AT >> 2));
    let mut stats = Stats::default();
    let mut result = Ok(());
    let mut transactions = Transactions::default();
    let mut cx = Context {
        ts: opts.start_ts,
        ..Context::default()
    };
    while let Some(item) = reader.read_item() {
        match item {
            Ok(item) => {
                if let Item::Command(c) = &item {
                    if let Err(e) = transactions.see(c) {
                        result = Err(RenderError::Aof(e));
                        break;
                    }
                }
                count(&mut stats, &item);
                json.item(&mut out, &item, &mut cx);
                if out.len() >= FLUSH_AT {
                    sink.write_all(out.as_slice())?;
                    out.clear();
                    on_written(reader.offset());
                }
            }
            Err(e) => {
                result = Err(RenderError::Aof(e));
                break;
            }
        }
    }
    sink.write_all(out.as_slice())?;
    on_written(reader.offset());
    result?;
    // At the end of the input.
    transactions
        .end(reader.offset() as usize)
        .map_err(RenderError::Aof)?;
    stats.last_ts = cx.ts;
    Ok(stats)
}

fn count(stats: &mut Stats, item: &Item<'_>) {
    match item {
        Item::Command(_) => stats.commands += 1,
        Item::Annotation(_) => stats.annotations += 1,
    }
}

/// Where the commands to write gather until they go out in writes of
/// about [`FLUSH_AT`] bytes.
enum Gather<'f> {
    /// A whole file's bytes: adjacent commands are one range of them,
    /// written uncopied (copying cost `dump --format resp` of a mapped
    /// 940 MB AOF 6% more CPU).
    Runs(&'f [u8], Option<(usize, usize)>),
    /// A stream's commands, copied: its window moves on before they go.
    Block(Vec<u8>),
}

impl Gather<'_> {
    /// Adds a command to write; returns whether what was gathered before
    /// it went out.
    fn add<W: Write>(&mut self, c: &Command<'_>, sink: &mut W) -> io::Result<bool> {
        match self {
            Gather::Runs(file, run) => {
                let (a, b) = (c.offset as usize, c.end() as usize);
                match run {
                    Some((ra, rb)) if *rb == a && b - *ra < 4 * FLUSH_AT => {
                        *rb = b;
                        Ok(false)
                    }
                    _ => match run.replace((a, b)) {
                        Some((ra, rb)) => sink.write_all(&file[ra..rb]).map(|()| true),
                        None => Ok(false),
                    },
                }
            }
            Gather::Block(block) => {
                let raw = c.raw();
                if raw.len() >= FLUSH_AT {
                    // That large: on its own, uncopied.
                    sink.write_all(block)?;
                    block.clear();
                    sink.write_all(raw)?;
                    return Ok(true);
                }
                if block.is_empty() {
                    block.reserve(FLUSH_AT + FLUSH_AT / 4);
                }
                block.extend_from_slice(raw);
                if block.len() < FLUSH_AT {
                    return Ok(false);
                }
                sink.write_all(block)?;
                block.clear();
                Ok(true)
            }
        }
    }

    /// Writes what is gathered, then `bytes`.
    fn write_after<W: Write>(&mut self, bytes: &[u8], sink: &mut W) -> io::Result<()> {
        match self {
            Gather::Runs(file, run) => {
                if let Some((a, b)) = run.take() {
                    sink.write_all(&file[a..b])?;
                }
            }
            Gather::Block(block) => {
                sink.write_all(block)?;
                block.clear();
            }
        }
        sink.write_all(bytes)
    }
}

/// Commands byte for byte, gathered (`gather`) into writes of about
/// [`FLUSH_AT`] bytes.
fn print_resp<R: Records, W: Write>(
    reader: &mut R,
    mut gather: Gather<'_>,
    opts: &Options,
    sink: &mut W,
    on_written: &mut dyn FnMut(u64),
) -> Result<Stats, RenderError> {
    let mut stats = Stats::default();
    let mut selected = false;
    let mut result = Ok(());
    let mut transactions = Transactions::default();
    let mut cx = Context {
        ts: opts.start_ts,
        ..Context::default()
    };
    while let Some(item) = reader.read_item() {
        let c = match item {
            Ok(Item::Command(c)) => c,
            Ok(item @ Item::Annotation(_)) => {
                stats.annotations += 1;
                cx.step(&item);
                continue;
            }
            Err(e) => {
                result = Err(RenderError::Aof(e));
                break;
            }
        };
        if let Err(e) = transactions.see(&c) {
            result = Err(RenderError::Aof(e));
            break;
        }
        stats.commands += 1;
        let ts = cx.ts;
        cx.step(&Item::Command(c));
        let keep = c.kind == Kind::Select
            || ((opts.dbs.is_empty() || opts.dbs.contains(&c.db))
                && opts.select.as_ref().is_none_or(|s| s(&c, ts)));
        if !keep {
            continue;
        }
        if !selected {
            selected = true;
            gather.write_after(SELECT_0, sink)?;
        }
        if gather.add(&c, sink)? {
            on_written(c.offset);
        }
    }
    gather.write_after(&[], sink)?;
    on_written(reader.offset());
    result?;
    // At the end of the input.
    transactions
        .end(reader.offset() as usize)
        .map_err(RenderError::Aof)?;
    stats.last_ts = cx.ts;
    Ok(stats)
}

/// One batch of the parallel JSON walk: commands in `start..end`, the
/// first of them in database `db`.
struct Batch {
    index: u64,
    start: usize,
    end: usize,
    db: u64,
    /// Where the walk stood at `start`.
    cx: Context,
}

struct Rendered {
    index: u64,
    end: usize,
    bytes: Vec<u8>,
    stats: Stats,
}

fn print_json_parallel<W: Write>(
    bytes: &[u8],
    start: usize,
    file: &str,
    opts: &Options,
    sink: &mut W,
    on_written: &mut dyn FnMut(u64),
) -> Result<Stats, RenderError> {
    let threads = opts.threads.max(1);
    let json = JsonLines::new(file, &opts.dbs, opts.annotations).selecting(opts.select.clone());
    let (work_tx, work_rx) = mpsc::sync_channel::<Batch>(threads * 2);
    let (done_tx, done_rx) = mpsc::sync_channel::<Rendered>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    // Output buffers go back to the workers once written: fresh ones would
    // cost a page fault per 4 KiB of output.
    let pool: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    // Set when the output fails: the walk stops, the batches in flight are
    // drained without rendering.
    let stop = AtomicBool::new(false);
    // Batches in flight (handed out, not yet written) are bounded by
    // tokens: the walker takes one per batch, the writer gives it back once
    // the batch is written. Without them one slow batch let the others
    // pile up in the reorder buffer (172 MB on a 412 MB AOF).
    let window = threads * 2 + 2;
    let (token_tx, token_rx) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        let _ = token_tx.send(());
    }
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (work_rx, done_tx, json, stop, pool) =
                (&work_rx, done_tx.clone(), &json, &stop, &pool);
            scope.spawn(move || loop {
                let batch = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(b) = batch else { return };
                let mut out = OutBuf::from_vec(
                    pool.lock()
                        .ok()
                        .and_then(|mut p| p.pop())
                        .unwrap_or_else(|| Vec::with_capacity(2 * BATCH_BYTES)),
                );
                let mut stats = Stats::default();
                // The walker validated this range: no error can come up.
                let items = Reader::resume(&bytes[..b.end], b.start, b.db).flatten();
                let mut cx = b.cx;
                for item in items.take_while(|_| !stop.load(Ordering::Relaxed)) {
                    count(&mut stats, &item);
                    json.item(&mut out, &item, &mut cx);
                }
                let done = Rendered {
                    index: b.index,
                    end: b.end,
                    bytes: out.into_vec(),
                    stats,
                };
                if done_tx.send(done).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        // The walker: validates and cuts batches at command boundaries.
        let stop = &stop;
        let walker = scope.spawn(move || {
            let mut reader = Reader::new(bytes, start);
            let mut index = 0;
            let mut batch_start = start;
            let mut batch_db = 0;
            let mut error = None;
            let mut transactions = Transactions::default();
            let mut cx = Context {
                ts: opts.start_ts,
                ..Context::default()
            };
            let mut batch_cx = cx;
            loop {
                let at = reader.offset() as usize;
                if at - batch_start >= BATCH_BYTES {
                    let b = Batch {
                        index,
                        start: batch_start,
                        end: at,
                        db: batch_db,
                        cx: batch_cx,
                    };
                    if stop.load(Ordering::Relaxed)
                        || token_rx.recv().is_err()
                        || work_tx.send(b).is_err()
                    {
                        return (None, cx.ts);
                    }
                    index += 1;
                    batch_start = at;
                    batch_db = reader.db();
                    batch_cx = cx;
                }
                match reader.read() {
                    None => break,
                    Some(Ok(item @ Item::Command(c))) => {
                        if let Err(e) = transactions.see(&c) {
                            error = Some(e);
                            break;
                        }
                        cx.step(&item);
                    }
                    Some(Ok(item @ Item::Annotation(_))) => {
                        cx.step(&item);
                    }
                    Some(Err(e)) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            let end = error
                .as_ref()
                .map_or(reader.offset() as usize, |e| e.record_offset as usize);
            // A file that ends inside a transaction: everything is printed
            // (as the serial walks do), then it is an error.
            if error.is_none() {
                error = transactions.end(bytes.len()).err();
            }
            if end > batch_start {
                let _ = work_tx.send(Batch {
                    index,
                    start: batch_start,
                    end,
                    db: batch_db,
                    cx: batch_cx,
                });
            }
            (error, cx.ts)
        });
        // Write in file order as batches complete.
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut stats = Stats::default();
        let mut io_error = None;
        for done in done_rx {
            pending.insert(done.index, done);
            while let Some(d) = pending.remove(&next) {
                next += 1;
                if io_error.is_none() {
                    match sink.write_all(&d.bytes) {
                        Ok(()) => on_written(d.end as u64),
                        Err(e) => {
                            io_error = Some(e);
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                }
                stats.commands += d.stats.commands;
                stats.annotations += d.stats.annotations;
                if let Ok(mut p) = pool.lock() {
                    p.push(d.bytes);
                }
                // The walker may be gone already: a lost token is fine.
                let _ = token_tx.try_send(());
            }
        }
        let (walk_error, last_ts) = walker.join().unwrap_or((None, None));
        if let Some(e) = io_error {
            return Err(RenderError::Io(e));
        }
        stats.last_ts = last_ts;
        match walk_error {
            Some(e) => Err(RenderError::Aof(e)),
            None => Ok(stats),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aof(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            if i % 1000 == 0 {
                let db = (i / 1000 % 3).to_string();
                v.extend(format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{db}\r\n", db.len()).bytes());
                v.extend(format!("#TS:{}\r\n", 1700000000 + i).bytes());
            }
            let k = format!("key:{i}");
            let val = if i % 7 == 0 {
                "bin\u{0}\"é".to_string()
            } else {
                format!("v{i}")
            };
            v.extend(
                format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{val}\r\n",
                    k.len(),
                    val.len()
                )
                .bytes(),
            );
        }
        v
    }

    fn json(bytes: &[u8], threads: usize, dbs: Vec<u64>) -> (Vec<u8>, Result<Stats, RenderError>) {
        let opts = Options {
            format: Format::JsonLines,
            dbs,
            annotations: true,
            threads,
            select: None,
            start_ts: None,
        };
        let mut out = Vec::new();
        let r = print_commands(bytes, 0, "f.aof", &opts, &mut out, &mut |_| {});
        (out, r)
    }

    #[test]
    fn parallel_json_is_byte_for_byte_the_sequential_one() {
        let f = aof(200_000);
        assert!(f.len() > 4 * BATCH_BYTES);
        let (one, _) = json(&f, 1, vec![]);
        let (many, stats) = json(&f, 3, vec![]);
        assert_eq!(one, many);
        assert_eq!(stats.unwrap().commands, 200_000 + 200);
        let (one, _) = json(&f, 1, vec![2]);
        let (many, _) = json(&f, 2, vec![2]);
        assert_eq!(one, many);
        // A broken tail: everything before it, then the error.
        let mut broken = f.clone();
        broken.truncate(f.len() - 3);
        let (one, e1) = json(&broken, 1, vec![]);
        let (many, e2) = json(&broken, 2, vec![]);
        assert_eq!(one, many);
        assert!(matches!(
            (e1, e2),
            (Err(RenderError::Aof(_)), Err(RenderError::Aof(_)))
        ));
    }

    #[test]
    fn lines_parse_as_json() {
        let f = aof(20);
        let (out, _) = json(&f, 1, vec![]);
        let lines: Vec<serde_json::Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines[1]["timestamp"], 1700000000);
        assert_eq!(
            lines[2]["command"],
            serde_json::json!(["SET", "key:0", "bin\u{0}\"é"])
        );
        assert_eq!(lines[2]["db"], 0);
        assert_eq!(lines[2]["offset"], 23 + 16);
    }

    #[test]
    fn resp_passes_commands_through() {
        let f = aof(3000);
        let opts = Options {
            format: Format::Resp,
            dbs: vec![],
            annotations: true,
            threads: 1,
            select: None,
            start_ts: None,
        };
        let mut out = Vec::new();
        print_commands(&f, 0, "f", &opts, &mut out, &mut |_| {}).unwrap();
        let mut want = SELECT_0.to_vec();
        for item in Reader::new(&f, 0) {
            if let Item::Command(c) = item.unwrap() {
                want.extend(c.raw());
            }
        }
        assert_eq!(out, want);
    }
}
