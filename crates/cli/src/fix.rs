//! `rdbscope fix`: repairs an AOF as `redis-check-aof --fix` would, but
//! never over the user's only copy. The plan (where to cut, or why not)
//! comes from `rdbscope_aof::fix`; this file prints it and writes the
//! repaired copy: to `--output` (a file, or a directory with its manifest),
//! or in place with `--in-place --yes`, keeping a `.bak` of the file cut.
//! Every write goes to a temporary file that is renamed into place.

use crate::args::{FixArgs, InfoFormat};
use crate::report::Outcome;
use crate::source::{open_streaming, AofStream, Kind, Streamed};
use rdbscope_aof::fix::{self, Cut, Mode, Plan};
use rdbscope_aof::resp::{Item, Reader};
use rdbscope_aof::{Aof, Opened};
use rdbscope_input::display_name;
use rdbscope_input::Mapped;
use rdbscope_select::{Output, OutputArgs, ScratchFile};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many removed commands are listed; the rest are counted.
const SHOWN: usize = 20;

/// A test hook: stop for good after writing this many bytes of a repaired
/// file (so a test can kill the process in the middle of a write).
const PAUSE_ENV: &str = "RDBSCOPE_TEST_FIX_PAUSE_AFTER";

pub fn run(a: &FixArgs) -> Outcome {
    let modes = [a.output.is_some(), a.in_place, a.dry_run];
    if modes.iter().filter(|m| **m).count() != 1 {
        eprintln!(
            "rdbscope: fix: choose what to do with the repair: --output PATH (a repaired copy; the input is left as it is), --in-place --yes (the input is replaced, a .bak copy kept) or --dry-run (only say what would be cut)"
        );
        return Outcome::Failure;
    }
    if a.in_place && !a.yes {
        eprintln!("rdbscope: fix: --in-place replaces the input: add --yes to confirm (a .bak copy of the file cut is kept)");
        return Outcome::Failure;
    }
    let name = display_name(&a.input);
    // Kept until the end: the spooled copy of a stream.
    let mut spool = None;
    let aof = match open_streaming(&a.input) {
        Ok(Streamed::Other(Kind::Aof(aof))) => aof,
        Ok(Streamed::Aof(s)) => match spooled(s, a, &name, &mut spool) {
            Ok(aof) => aof,
            Err(outcome) => return outcome,
        },
        Ok(Streamed::Other(Kind::Rdb(_))) => {
            eprintln!(
                "rdbscope: {name}: an RDB file, not an AOF: fix repairs AOFs (`rdbscope check` tells what is wrong with an RDB)"
            );
            return Outcome::Problem;
        }
        Ok(Streamed::Other(Kind::Json(_))) => {
            eprintln!(
                "rdbscope: {name}: a JSON dump, not an AOF: fix repairs AOFs (`rdbscope convert` writes a dump as an AOF)"
            );
            return Outcome::Problem;
        }
        Err(e) => return e.report(&name),
    };
    let mode = match a.truncate_to_timestamp {
        Some(t) => Mode::ToTimestamp(t),
        None => Mode::Fix,
    };
    let report = rdbscope_aof::check(&aof, &name, &rdbscope_aof::Options::default());
    let plan = fix::plan(&aof, &report, mode);
    let mut out = io::stdout().lock();
    let plan = match plan {
        Ok(p) => p,
        Err(refusal) => {
            let _ = print_refusal(&mut out, a, &refusal);
            return Outcome::Problem;
        }
    };
    let removed = match &plan {
        Plan::Cut(cut) => match removed_commands(&aof, cut) {
            Ok(r) => Some(r),
            Err(e) => return crate::report::print_open_error(&cut.path.display().to_string(), &e),
        },
        Plan::Nothing(_) => None,
    };
    let written = if a.dry_run {
        Ok(Written::default())
    } else {
        write_repair(a, &aof, &plan)
    };
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            eprintln!("rdbscope: fix: {e}");
            return Outcome::Failure;
        }
    };
    if let Err(e) = print_plan(&mut out, a, &plan, removed.as_ref(), &written) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("rdbscope: write error: {e}");
            return Outcome::Failure;
        }
    }
    match (&plan, a.dry_run) {
        (Plan::Cut(_), true) => Outcome::Problem,
        _ => Outcome::Ok,
    }
}

/// A single-file AOF arriving as a stream (standard input, a compressed
/// file), copied as it arrives into a scratch file that is then mapped:
/// `fix` reads the AOF twice (the check, then the copy up to the cut),
/// which a stream cannot give, and must not hold it in memory (it read the
/// stream into memory whole). The scratch file goes beside the repaired
/// copy (the disk it is written to anyway), or for `--dry-run` into the
/// temporary directory; it is removed at the end, and by a signal.
fn spooled(
    mut s: AofStream,
    a: &FixArgs,
    name: &str,
    keep: &mut Option<ScratchFile>,
) -> Result<Aof, Outcome> {
    let dir = match a.output.as_deref().and_then(Path::parent) {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => std::env::temp_dir(),
    };
    let mut scratch = ScratchFile::create(&dir, "fix-spool").map_err(|e| {
        eprintln!(
            "rdbscope: fix: cannot copy {name} to {}: {e}",
            dir.display()
        );
        Outcome::Failure
    })?;
    let copied = {
        let mut w = io::BufWriter::with_capacity(1 << 20, scratch.file());
        io::copy(&mut s.stream, &mut w).and_then(|_| w.flush())
    };
    if let Err(e) = copied {
        // The stream broke (a corrupt compressed input), or the disk did.
        eprintln!("rdbscope: {name}: read error: {e}");
        return Err(Outcome::Problem);
    }
    let mapped = rdbscope_input::open_whole(scratch.path()).map_err(|e| {
        eprintln!("rdbscope: fix: {}: {e}", scratch.path().display());
        Outcome::Failure
    })?;
    *keep = Some(scratch);
    match rdbscope_aof::source::classify(mapped, &a.input) {
        Opened::Aof(aof) => Ok(aof),
        Opened::Rdb(_) => {
            eprintln!("rdbscope: {name}: an RDB file, not an AOF: fix repairs AOFs (`rdbscope check` tells what is wrong with an RDB)");
            Err(Outcome::Problem)
        }
    }
}

/// The commands a cut removes: the first [`SHOWN`] as text, how many in
/// all, and the broken tail after the last whole one.
struct Removed {
    shown: Vec<(u64, u64, Vec<Vec<u8>>)>,
    commands: u64,
    annotations: u64,
    /// Where the bytes stop being whole commands, and why.
    broken: Option<(u64, String)>,
}

fn removed_commands(aof: &Aof, cut: &Cut) -> io::Result<Removed> {
    let opened;
    let bytes = match aof {
        Aof::Single { input, .. } => input.bytes(),
        _ => {
            opened = rdbscope_input::open_whole(&cut.path)?;
            opened.bytes()
        }
    };
    let mut r = Removed {
        shown: Vec::new(),
        commands: 0,
        annotations: 0,
        broken: None,
    };
    let mut reader = Reader::new(bytes, cut.at as usize);
    loop {
        let start = reader.offset();
        let Some(item) = reader.read() else { break };
        match item {
            Ok(Item::Command(c)) => {
                r.commands += 1;
                if r.shown.len() < SHOWN {
                    r.shown
                        .push((c.offset, c.db, c.args().map(|a| a.to_vec()).collect()));
                }
            }
            Ok(Item::Annotation(_)) => r.annotations += 1,
            Err(e) => {
                r.broken = Some((start, e.message().to_string()));
                break;
            }
        }
    }
    Ok(r)
}

/// What was written where.
#[derive(Default)]
struct Written {
    output: Option<PathBuf>,
    backup: Option<PathBuf>,
}

fn write_repair(a: &FixArgs, aof: &Aof, plan: &Plan) -> Result<Written, String> {
    let cut = match plan {
        Plan::Cut(c) => Some(c),
        Plan::Nothing(_) => None,
    };
    if a.in_place {
        let Some(cut) = cut else {
            return Ok(Written::default());
        };
        return replace_in_place(a, aof, cut).map_err(|e| format!("{}: {e}", cut.path.display()));
    }
    let target = a.output.as_deref().expect("checked: one mode");
    match aof {
        Aof::Single { input, .. } => {
            let keep = cut.map_or(input.bytes().len(), |c| c.at as usize);
            let args = OutputArgs {
                output: Some(target.to_path_buf()),
                force: a.force,
                quiet: a.quiet,
            };
            let mut out = Output::open(&args, &[a.input.as_path()]).map_err(|e| e.to_string())?;
            write_prefix(&mut out, input, keep)
                .and_then(|()| out.finish())
                .map_err(|e| format!("{}: {e}", target.display()))?;
        }
        Aof::MultiPart {
            manifest_path,
            parts,
            ..
        } => copy_dir(a, manifest_path, parts, cut, target)?,
        Aof::BadManifest { .. } => unreachable!("a refused manifest has no plan"),
    }
    Ok(Written {
        output: Some(target.to_path_buf()),
        backup: None,
    })
}

/// Writes the first `keep` bytes of `input` in steps, giving back the
/// pages behind each step (a repaired copy of a big file held the whole
/// file in memory as it was written: 469 MB of peak RSS for a 474 MB AOF),
/// and stops for good half-way when the test hook asks.
fn write_prefix(out: &mut impl Write, input: &Mapped, keep: usize) -> io::Result<()> {
    const STEP: usize = 8 << 20;
    let pause = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let stop = pause.filter(|&n| n < keep).unwrap_or(keep);
    let bytes = input.bytes();
    let mut at = 0;
    while at < stop {
        let end = (at + STEP).min(stop);
        out.write_all(&bytes[at..end])?;
        at = end;
        input.release_before(at as u64);
    }
    if stop < keep {
        out.flush()?;
        loop {
            std::thread::park();
        }
    }
    Ok(())
}

/// The file cut is rewritten beside itself and renamed over the original;
/// the original stays reachable as `<file>.bak` (a hard link when the file
/// system allows, else a copy).
fn replace_in_place(a: &FixArgs, aof: &Aof, cut: &Cut) -> io::Result<Written> {
    let on_disk = fs::metadata(&cut.path)?.len();
    if on_disk != cut.size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is compressed or not a regular file: it cannot be repaired in place; use --output",
        ));
    }
    let backup = bak_path(&cut.path);
    if fs::symlink_metadata(&backup).is_ok() {
        if !a.force {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists; use --force to replace it", backup.display()),
            ));
        }
        fs::remove_file(&backup)?;
    }
    let opened;
    let input = match aof {
        Aof::Single { input, .. } => input,
        _ => {
            opened = rdbscope_input::open_whole(&cut.path)?;
            &opened
        }
    };
    let mut out = Output::replacing(&cut.path).map_err(io::Error::other)?;
    write_prefix(&mut out, input, cut.at as usize)?;
    // The backup exists before the original's name moves to the new file.
    if fs::hard_link(&cut.path, &backup).is_err() {
        fs::copy(&cut.path, &backup)?;
    }
    out.finish()?;
    Ok(Written {
        output: Some(cut.path.clone()),
        backup: Some(backup),
    })
}

fn bak_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".bak");
    PathBuf::from(s)
}

/// A multi-part AOF goes to a new directory: the manifest and every file
/// it lists, the last one cut. Built in a temporary directory beside the
/// target, renamed into place when whole.
fn copy_dir(
    a: &FixArgs,
    manifest_path: &Path,
    parts: &[rdbscope_aof::Part],
    cut: Option<&Cut>,
    target: &Path,
) -> Result<(), String> {
    let source_dir = manifest_path.parent().unwrap_or(Path::new("."));
    let same = |x: &Path, y: &Path| match (fs::canonicalize(x), fs::canonicalize(y)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    if same(target, source_dir)
        || parts.iter().any(|p| same(target, &p.path))
        || same(target, manifest_path)
    {
        return Err(format!(
            "refusing to write the repair to {}: it is the input",
            target.display()
        ));
    }
    let exists = fs::symlink_metadata(target).is_ok();
    if exists && !a.force {
        return Err(format!(
            "{} exists; use --force to replace it",
            target.display()
        ));
    }
    let name = target
        .file_name()
        .ok_or_else(|| format!("{}: not a directory name", target.display()))?
        .to_string_lossy()
        .into_owned();
    let parent = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp = parent.join(format!(".{name}.rdbscope-tmp-{}", std::process::id()));
    let build = || -> io::Result<()> {
        fs::create_dir(&temp)?;
        let file_name = |p: &Path| p.file_name().map(PathBuf::from).unwrap_or_default();
        fs::copy(manifest_path, temp.join(file_name(manifest_path)))?;
        for (i, p) in parts.iter().enumerate() {
            let to = temp.join(file_name(&p.path));
            match cut.filter(|c| c.file == i) {
                Some(c) => {
                    let src = rdbscope_input::open_whole(&p.path)?;
                    let mut f = io::BufWriter::new(fs::File::create(&to)?);
                    write_prefix(&mut f, &src, c.at as usize)?;
                    f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                }
                None => {
                    fs::copy(&p.path, &to)?;
                }
            }
        }
        Ok(())
    };
    if let Err(e) = build() {
        let _ = fs::remove_dir_all(&temp);
        return Err(format!("{}: {e}", target.display()));
    }
    let result = (|| -> io::Result<()> {
        if exists {
            let old = parent.join(format!(".{name}.rdbscope-old-{}", std::process::id()));
            fs::rename(target, &old)?;
            fs::rename(&temp, target)?;
            if old.is_dir() {
                fs::remove_dir_all(&old)
            } else {
                fs::remove_file(&old)
            }
        } else {
            fs::rename(&temp, target)
        }
    })();
    result.map_err(|e| {
        let _ = fs::remove_dir_all(&temp);
        format!("{}: {e}", target.display())
    })
}

fn mode_word(a: &FixArgs) -> &'static str {
    if a.truncate_to_timestamp.is_some() {
        "truncate-to-timestamp"
    } else {
        "fix"
    }
}

fn print_refusal(o: &mut impl Write, a: &FixArgs, r: &fix::Refusal) -> io::Result<()> {
    if a.format == InfoFormat::Json {
        let mut s = Vec::new();
        s.extend_from_slice(b"{\"input\":");
        rdbscope_json::write::write_bytes(&mut s, a.input.as_os_str().as_encoded_bytes())?;
        write!(
            s,
            ",\"mode\":\"{}\",\"action\":\"refused\",\"file\":",
            mode_word(a)
        )?;
        match &r.file {
            Some(f) => rdbscope_json::write::write_bytes(&mut s, f.as_bytes())?,
            None => s.extend_from_slice(b"null"),
        }
        s.extend_from_slice(b",\"offset\":");
        rdbscope_json::write::write_opt_u64(&mut s, r.offset)?;
        s.extend_from_slice(b",\"message\":");
        rdbscope_json::write::write_bytes(&mut s, r.message.as_bytes())?;
        s.extend_from_slice(b"}\n");
        return o.write_all(&s);
    }
    writeln!(o, "cannot fix {}: {r}", a.input.display())?;
    writeln!(o, "nothing was written")
}

fn print_plan(
    o: &mut impl Write,
    a: &FixArgs,
    plan: &Plan,
    removed: Option<&Removed>,
    w: &Written,
) -> io::Result<()> {
    if a.format == InfoFormat::Json {
        return print_plan_json(o, a, plan, removed, w);
    }
    if a.quiet {
        return Ok(());
    }
    match (plan, removed) {
        (Plan::Cut(c), Some(r)) => {
            writeln!(
                o,
                "{}: cut at offset {} of {} bytes: {} bytes removed ({})",
                c.name,
                c.at,
                c.size,
                c.removed(),
                c.reason
            )?;
            writeln!(o, "removed: bytes {}..{} of {}", c.at, c.size, c.name)?;
            for (offset, db, args) in &r.shown {
                writeln!(o, "  [{offset}] db {db}: {}", render_command(args))?;
            }
            if r.commands > r.shown.len() as u64 {
                writeln!(
                    o,
                    "  ... and {} more commands ({} in all)",
                    r.commands - r.shown.len() as u64,
                    r.commands
                )?;
            }
            if r.annotations > 0 {
                writeln!(o, "  {} annotation lines (#TS:...)", r.annotations)?;
            }
            if let Some((offset, why)) = &r.broken {
                writeln!(
                    o,
                    "  [{offset}] {} bytes that are not a whole command: {why}",
                    c.size.saturating_sub(*offset)
                )?;
            }
        }
        (Plan::Nothing(_), _) | (Plan::Cut(_), None) => {
            let why = match plan {
                Plan::Nothing(w) => w.as_str(),
                _ => "",
            };
            writeln!(o, "{}: nothing to cut: {why}", a.input.display())?;
        }
    }
    if a.dry_run {
        writeln!(o, "dry run: nothing was written")?;
    } else if let Some(out) = &w.output {
        if let Some(b) = &w.backup {
            writeln!(
                o,
                "repaired {} in place; the original is kept as {}",
                out.display(),
                b.display()
            )?;
        } else {
            writeln!(o, "wrote the repaired AOF to {}", out.display())?;
        }
    } else {
        writeln!(o, "nothing was written")?;
    }
    Ok(())
}

fn print_plan_json(
    o: &mut impl Write,
    a: &FixArgs,
    plan: &Plan,
    removed: Option<&Removed>,
    w: &Written,
) -> io::Result<()> {
    use rdbscope_json::write::{write_bytes, write_u64};
    let mut s = Vec::new();
    s.extend_from_slice(b"{\"input\":");
    write_bytes(&mut s, a.input.as_os_str().as_encoded_bytes())?;
    write!(
        s,
        ",\"mode\":\"{}\",\"dry_run\":{}",
        mode_word(a),
        a.dry_run
    )?;
    match (plan, removed) {
        (Plan::Cut(c), Some(r)) => {
            s.extend_from_slice(b",\"action\":\"cut\",\"file\":");
            write_bytes(&mut s, c.name.as_bytes())?;
            write!(
                s,
                ",\"size\":{},\"cut_at\":{},\"removed_bytes\":{},\"removed_commands\":{},\"removed_annotations\":{},\"reason\":",
                c.size,
                c.at,
                c.removed(),
                r.commands,
                r.annotations
            )?;
            write_bytes(&mut s, c.reason.as_bytes())?;
            s.extend_from_slice(b",\"commands\":[");
            for (i, (offset, db, args)) in r.shown.iter().enumerate() {
                if i > 0 {
                    s.push(b',');
                }
                s.extend_from_slice(b"{\"offset\":");
                write_u64(&mut s, *offset)?;
                s.extend_from_slice(b",\"db\":");
                write_u64(&mut s, *db)?;
                s.extend_from_slice(b",\"command\":[");
                for (j, arg) in args.iter().enumerate() {
                    if j > 0 {
                        s.push(b',');
                    }
                    write_bytes(&mut s, arg)?;
                }
                s.extend_from_slice(b"]}");
            }
            s.extend_from_slice(b"],\"broken_tail\":");
            match &r.broken {
                Some((offset, why)) => {
                    write!(s, "{{\"offset\":{offset},\"message\":")?;
                    write_bytes(&mut s, why.as_bytes())?;
                    s.push(b'}');
                }
                None => s.extend_from_slice(b"null"),
            }
        }
        (Plan::Nothing(why), _) => {
            s.extend_from_slice(b",\"action\":\"nothing\",\"reason\":");
            write_bytes(&mut s, why.as_bytes())?;
        }
        (Plan::Cut(_), None) => s.extend_from_slice(b",\"action\":\"cut\""),
    }
    s.extend_from_slice(b",\"output\":");
    match &w.output {
        Some(p) => write_bytes(&mut s, p.as_os_str().as_encoded_bytes())?,
        None => s.extend_from_slice(b"null"),
    }
    s.extend_from_slice(b",\"backup\":");
    match &w.backup {
        Some(p) => write_bytes(&mut s, p.as_os_str().as_encoded_bytes())?,
        None => s.extend_from_slice(b"null"),
    }
    s.extend_from_slice(b"}\n");
    o.write_all(&s)
}

/// A command as one line: arguments quoted as `redis-cli` shows them,
/// long ones shortened.
fn render_command(args: &[Vec<u8>]) -> String {
    const LONG: usize = 64;
    let mut s = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let shown = &arg[..arg.len().min(LONG)];
        let plain = i == 0
            && !shown.is_empty()
            && shown
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b));
        if plain {
            s.push_str(&String::from_utf8_lossy(shown));
        } else {
            s.push('"');
            for &b in shown {
                match b {
                    b'"' => s.push_str("\\\""),
                    b'\\' => s.push_str("\\\\"),
                    b'\n' => s.push_str("\\n"),
                    b'\r' => s.push_str("\\r"),
                    b'\t' => s.push_str("\\t"),
                    0x20..=0x7e => s.push(b as char),
                    _ => s.push_str(&format!("\\x{b:02x}")),
                }
            }
            s.push('"');
        }
        if arg.len() > LONG {
            s.push_str(&format!("...({} bytes)", arg.len()));
        }
    }
    s
}
