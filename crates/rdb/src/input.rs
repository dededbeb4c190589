//! How bytes arrive: the one place that decides between a memory map and
//! reading into memory, so nothing above it knows or cares.
//!
//! * Regular files are memory-mapped (`memmap2`): no copy, and the kernel
//!   pages the file in as the walk reaches it. As a walk moves on, callers
//!   report the consumed offset through [`Input::release_before`], which
//!   tells the kernel (`MADV_DONTNEED`) that pages behind it may go: the
//!   resident set then stays flat however large the file is. Pages of a
//!   read-only file mapping are simply re-read if touched again.
//! * Standard input (`-`), pipes and other non-regular files are read into
//!   memory, since they cannot be mapped.
//!
//! A mapped file that another process truncates while we read it would
//! fault (SIGBUS); that is the standard trade-off of mapping, taken by
//! ripgrep too. Use `-` with a pipe for files that may change underneath.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Bytes of one input.
pub struct Input {
    source: Source,
    name: String,
    released: Cell<usize>,
}

enum Source {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

/// How far behind the walk to release pages while other threads still
/// read values the walk handed out: more than the work in flight (a few
/// MiB of batches), so a worker never faults a released page back in.
pub const WORKER_LAG: u64 = 8 << 20;

/// Release mapped pages behind the walk in steps of this size.
const RELEASE_STEP: usize = 8 << 20;

impl Input {
    /// Opens `path`; `-` is standard input.
    pub fn open(path: &Path) -> io::Result<Input> {
        if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            io::stdin().lock().read_to_end(&mut buf)?;
            return Ok(Input::from_vec(buf, "<stdin>"));
        }
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let name = path.display().to_string();
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only and private to this process; see
            // the module docs for the truncation caveat.
            let map = unsafe { memmap2::Mmap::map(&file)? };
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            return Ok(Input {
                source: Source::Mapped(map),
                name,
                released: Cell::new(0),
            });
        }
        let mut buf = Vec::new();
        (&file).read_to_end(&mut buf)?;
        Ok(Input::from_vec(buf, name))
    }

    /// Wraps bytes already in memory.
    pub fn from_vec(bytes: Vec<u8>, name: impl Into<String>) -> Input {
        Input {
            source: Source::Owned(bytes),
            name: name.into(),
            released: Cell::new(0),
        }
    }

    /// The whole input.
    pub fn bytes(&self) -> &[u8] {
        match &self.source {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
        }
    }

    /// The name to show in messages (the path, or `<stdin>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the input is a memory map (a regular file) rather than bytes
    /// read into memory (standard input, pipes).
    pub fn is_mapped(&self) -> bool {
        matches!(self.source, Source::Mapped(_))
    }

    /// Tells the kernel that bytes before `offset` will not be needed soon.
    /// Cheap to call often: it acts only every 8 MiB. An offset below the
    /// last one starts a new pass over the input (its pages are faulted in
    /// again, and released again as it goes).
    pub fn release_before(&self, offset: u64) {
        #[cfg(unix)]
        if let Source::Mapped(map) = &self.source {
            let page = 4096usize;
            let upto = (offset as usize).min(map.len()) / page * page;
            if upto < self.released.get() {
                self.released.set(0);
            }
            let released = self.released.get();
            if upto >= released + RELEASE_STEP {
                // SAFETY: this is a read-only, private file mapping:
                // MADV_DONTNEED drops clean page-cache references only, and
                // any later read of the range faults the same bytes back in
                // from the file. Slices into the range stay valid.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        released,
                        upto - released,
                    )
                };
                self.released.set(upto);
            }
        }
        #[cfg(not(unix))]
        let _ = offset; // nothing to release without madvise
    }
}

/// The display name for a path argument.
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        PathBuf::from(path).display().to_string()
    }
}
