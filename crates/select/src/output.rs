//! Where a command's output goes: standard output, or a file written
//! atomically. A file is written to a temporary file in the same directory
//! (`.NAME.rdbscope-tmp-<pid>-<n>`), and renamed over the target only when
//! the command succeeded ([`Output::finish`]); on an error, or when the
//! output is dropped unfinished, the temporary file is removed, so a
//! failed run never leaves a partial or damaged file behind.
//!
//! A signal kills a process without running destructors. For that, every
//! temporary file is listed in a process-wide registry while it exists;
//! the program's signal handler calls [`remove_temp_files`] before it
//! exits. (This crate installs no handler and never exits: that is the
//! program's business.)

use clap::Args;
use std::fs::{self, File};
use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Output options shared by every command: `-o/--output`, `--force`,
/// `--quiet`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Write the output to PATH instead of standard output (`-`: standard
    /// output). The file appears only when the command succeeds: it is
    /// written to a temporary file beside it and renamed into place (a
    /// device or named pipe is written directly).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if it exists (never an input file).
    #[arg(long)]
    pub force: bool,
    /// No progress and no notes on standard error (errors are still
    /// reported).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Why an output file cannot be opened.
#[derive(Debug)]
pub enum OutputError {
    /// The path is one of the command's inputs.
    IsInput {
        /// The output path.
        output: PathBuf,
        /// The input it is.
        input: PathBuf,
    },
    /// The file exists and `--force` was not given.
    Exists(PathBuf),
    /// The temporary file cannot be created.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::IsInput { output, input } if output == input => write!(
                f,
                "refusing to write the output over the input {}",
                output.display()
            ),
            OutputError::IsInput { output, input } => write!(
                f,
                "refusing to write the output to {}: it is the input {}",
                output.display(),
                input.display()
            ),
            OutputError::Exists(p) => {
                write!(f, "{} exists; use --force to replace it", p.display())
            }
            OutputError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for OutputError {}

/// Buffer size for output: big writes (the printers write whole blocks)
/// pass straight through.
const BUF: usize = 64 << 10;

/// A command's output: buffered standard output, or an atomically written
/// file.
#[derive(Debug)]
pub struct Output {
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Stdout(BufWriter<Stdout>),
    /// A device or pipe given as the path.
    Direct(BufWriter<File>),
    File {
        file: Option<BufWriter<File>>,
        temp: PathBuf,
        target: PathBuf,
    },
}

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output {
            sink: Sink::Stdout(BufWriter::with_capacity(BUF, io::stdout())),
        }
    }

    /// The output `args` asks for. `inputs` are the paths the command
    /// reads (`-` is standard input, compared through `/dev/stdin`); the
    /// output may be none of them, as a path or as the same file (a hard
    /// or symbolic link to it), nor a file inside an input directory.
    pub fn open(args: &OutputArgs, inputs: &[&Path]) -> Result<Output, OutputError> {
        match args.output.as_deref() {
            None => Ok(Output::stdout()),
            Some(p) if p.as_os_str() == "-" => Ok(Output::stdout()),
            Some(p) => Output::file(p, args.force, inputs),
        }
    }

    /// A file that replaces `target` when finished, though it may be an
    /// input: for a repair in place that the user asked for in so many
    /// words. Written to a temporary file beside it, renamed over it by
    /// [`Output::finish`]; dropped unfinished, the target is untouched.
    pub fn replacing(target: &Path) -> Result<Output, OutputError> {
        Output::file(target, true, &[])
    }

    fn file(target: &Path, force: bool, inputs: &[&Path]) -> Result<Output, OutputError> {
        check_not_input(target, inputs)?;
        match fs::metadata(target) {
            Ok(m) if m.is_dir() => {
                return Err(OutputError::Io(
                    target.to_path_buf(),
                    io::Error::new(io::ErrorKind::InvalidInput, "it is a directory"),
                ))
            }
            // A device, FIFO or socket (`/dev/null`, `/dev/stderr`, a named
            // pipe): there is no file to replace, so it is written
            // directly, as a shell redirection would.
            Ok(m) if !m.is_file() => {
                let f = File::options()
                    .write(true)
                    .open(target)
                    .map_err(|e| OutputError::Io(target.to_path_buf(), e))?;
                return Ok(Output {
                    sink: Sink::Direct(BufWriter::with_capacity(BUF, f)),
                });
            }
            _ => {}
        }
        let link = fs::symlink_metadata(target).ok();
        if !force && link.is_some() {
            return Err(OutputError::Exists(target.to_path_buf()));
        }
        // Through a symbolic link, the file it points to is replaced and
        // the link stays (a dangling link is replaced itself).
        let resolved;
        let target = match link {
            Some(m) if m.file_type().is_symlink() => match fs::canonicalize(target) {
                Ok(p) => {
                    resolved = p;
                    resolved.as_path()
                }
                Err(_) => target,
            },
            _ => target,
        };
        let name = target
            .file_name()
            .ok_or_else(|| {
                OutputError::Io(
                    target.to_path_buf(),
                    io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let (temp, f) =
            create_temp(&dir, &name).map_err(|e| OutputError::Io(target.to_path_buf(), e))?;
        Ok(Output {
            sink: Sink::File {
                file: Some(BufWriter::with_capacity(BUF, f)),
                temp,
                target: target.to_path_buf(),
            },
        })
    }

    /// Refuses, after the fact, an output that is one of `inputs`: for
    /// inputs known only once the first input is open (the files an AOF
    /// manifest lists). Nothing was written to the target yet.
    pub fn check_inputs(&self, inputs: &[&Path]) -> Result<(), OutputError> {
        match &self.sink {
            Sink::Stdout(_) | Sink::Direct(_) => Ok(()),
            Sink::File { target, .. } => check_not_input(target, inputs),
        }
    }

    /// Whether the output is a file written atomically (not standard
    /// output, nor a device or pipe given by its path).
    pub fn is_file(&self) -> bool {
        matches!(self.sink, Sink::File { .. })
    }

    /// Flushes everything and, for a file, moves it into place. Without
    /// this, nothing reaches the target path.
    pub fn finish(mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush(),
            Sink::Direct(w) => w.flush(),
            Sink::File { file, temp, target } => {
                let w = file.take().expect("finish runs once");
                let f = w.into_inner().map_err(|e| e.into_error())?;
                f.sync_all()?;
                drop(f);
                // Under the registry's lock: a signal handler that removes
                // the temporary files either runs before (the rename then
                // fails) or after (the file is complete).
                let mut reg = registry();
                fs::rename(&*temp, &*target)?;
                reg.retain(|p| p != temp);
                temp.clear();
                Ok(())
            }
        }
    }
}

impl Write for Output {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write(buf),
            Sink::Direct(w) => w.write(buf),
            Sink::File { file, .. } => file.as_mut().map_or(Ok(0), |w| w.write(buf)),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::Direct(w) => w.write_all(buf),
            Sink::File { file, .. } => file.as_mut().map_or(Ok(()), |w| w.write_all(buf)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush(),
            Sink::Direct(w) => w.flush(),
            Sink::File { file, .. } => file.as_mut().map_or(Ok(()), |w| w.flush()),
        }
    }
}

impl Drop for Output {
    /// An unfinished file output is thrown away.
    fn drop(&mut self) {
        if let Sink::File { file, temp, .. } = &mut self.sink {
            if temp.as_os_str().is_empty() {
                return;
            }
            drop(file.take().map(|w| w.into_parts()));
            let mut reg = registry();
            let _ = fs::remove_file(&*temp);
            reg.retain(|p| p != temp);
        }
    }
}

/// Creates `.NAME.rdbscope-tmp-<pid>-<n>` in `dir`, new, and lists it in
/// the registry (so a signal removes it).
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut reg = registry();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.rdbscope-tmp-{}-{n}", std::process::id()));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(f) => {
                reg.push(temp.clone());
                return Ok((temp, f));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A scratch file for the length of a command: what a command must read
/// twice but was given once (standard input, a decompressed stream) is
/// spooled here. Named and listed as an output's temporary file is (a
/// signal removes it too), and removed when dropped.
pub struct ScratchFile {
    path: PathBuf,
    file: File,
}

impl ScratchFile {
    /// A new, empty scratch file in `dir` (`NAME` in its name says what it
    /// holds).
    pub fn create(dir: &Path, name: &str) -> io::Result<ScratchFile> {
        let (path, file) = create_temp(dir, name)?;
        Ok(ScratchFile { path, file })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, for writing and reading.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let mut reg = registry();
        let _ = fs::remove_file(&self.path);
        reg.retain(|p| p != &self.path);
    }
}

/// The registry of temporary files that exist now.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn registry() -> MutexGuard<'static, Vec<PathBuf>> {
    TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every temporary output file of this process, for a signal
/// handler that is about to end the process. Returns the lock on the
/// (now empty) registry: hold it until the process ends, so that no
/// output is renamed into place or created after the cleanup.
pub fn remove_temp_files() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut reg = registry();
    for p in reg.drain(..) {
        let _ = fs::remove_file(p);
    }
    reg
}

/// Refuses a target that is one of `inputs`: the same file (device and
/// inode, which also catches hard and symbolic links), the same canonical
/// path, or a path inside an input directory (an appendonlydir).
fn check_not_input(target: &Path, inputs: &[&Path]) -> Result<(), OutputError> {
    let target_meta = fs::metadata(target).ok();
    let target_canon = canonical_target(target);
    for &input in inputs {
        let refuse = || OutputError::IsInput {
            output: target.to_path_buf(),
            input: input.to_path_buf(),
        };
        let input_path = if input.as_os_str() == "-" {
            Path::new("/dev/stdin")
        } else {
            input
        };
        if let (Some(t), Ok(i)) = (&target_meta, fs::metadata(input_path)) {
            if same_file(t, &i) {
                return Err(refuse());
            }
        }
        if input.as_os_str() == "-" {
            continue;
        }
        if let (Some(t), Ok(i)) = (&target_canon, fs::canonicalize(input)) {
            if *t == i || (i.is_dir() && t.starts_with(&i)) {
                return Err(refuse());
            }
        }
    }
    Ok(())
}

/// The same file: device and inode (elsewhere, the canonical path
/// comparison below decides).
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// The canonical path of a target that may not exist yet: its directory's
/// canonical path joined with its name.
fn canonical_target(target: &Path) -> Option<PathBuf> {
    if let Ok(p) = fs::canonicalize(target) {
        return Some(p);
    }
    let name = target.file_name()?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(name))
}
