//! Inputs whose bytes are all addressable at once: memory-mapped regular
//! files, and buffers the caller already holds.
//!
//! A map costs no copy, and the kernel pages the file in as the walk
//! reaches it. As a walk moves on, its owner reports the consumed offset
//! through [`Mapped::release_before`], which tells the kernel
//! (`MADV_DONTNEED`) that the pages behind it may go: the resident set then
//! stays flat however large the file is. Pages of a read-only file mapping
//! are simply read again from the file if touched again.
//!
//! A mapped file that another process truncates while we read it would
//! fault (SIGBUS); that is the usual trade-off of mapping, which ripgrep
//! takes too. Read such a file through a pipe (`cat FILE | rdbscope ... -`)
//! to have it streamed instead.

use std::fmt;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::raw::Progress;

/// How far behind the walk to release pages while other threads still
/// read values the walk handed out: more than the work in flight (a few
/// MiB of batches), so a worker never faults a released page back in.
pub const WORKER_LAG: u64 = 8 << 20;

/// Release mapped pages behind the walk in steps of this size.
const RELEASE_STEP: usize = 8 << 20;

/// An input held whole in the address space: a memory map of a regular,
/// uncompressed file, or a buffer from [`Input::from_vec`](crate::Input::from_vec).
/// `Mapped` is `Sync`: threads may share it and read disjoint parts.
pub struct Mapped {
    bytes: Bytes,
    name: String,
    /// Everything before this offset has been released.
    released: AtomicUsize,
    progress: Progress,
}

enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Mapped {
    /// Maps `file`, which must be a regular file that is not empty.
    pub(crate) fn map(file: &File, name: String) -> io::Result<Mapped> {
        // SAFETY: the map is read-only and private to this process; see the
        // module docs for the truncation caveat.
        let map = unsafe { memmap2::Mmap::map(file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        let len = map.len() as u64;
        Ok(Mapped {
            bytes: Bytes::Map(map),
            name,
            released: AtomicUsize::new(0),
            progress: Progress::new(Some(len)),
        })
    }

    pub(crate) fn owned(bytes: Vec<u8>, name: String) -> Mapped {
        let len = bytes.len() as u64;
        Mapped {
            bytes: Bytes::Owned(bytes),
            name,
            released: AtomicUsize::new(0),
            progress: Progress::new(Some(len)),
        }
    }

    /// All the bytes of the input.
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
        }
    }

    /// The name to show in messages (the path, or the name given to
    /// [`Input::from_vec`](crate::Input::from_vec)).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the bytes are a memory map of a file (rather than a buffer
    /// in memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.bytes, Bytes::Map(_))
    }

    /// A handle on how far the walk has come: the offset last passed to
    /// [`release_before`](Mapped::release_before), out of the file size.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Tells the kernel that bytes before `offset` will not be needed soon,
    /// and records `offset` as the progress made. Cheap to call often: it
    /// acts only every 8 MiB. An offset below the last one starts a new
    /// pass over the input (its pages are faulted in again, and released
    /// again as it goes). Callers whose other threads still read behind the
    /// walk pass `offset - WORKER_LAG`.
    pub fn release_before(&self, offset: u64) {
        self.progress.set(offset.min(self.bytes().len() as u64));
        #[cfg(unix)]
        if let Bytes::Map(map) = &self.bytes {
            const PAGE: usize = 4096;
            let upto = usize::try_from(offset).unwrap_or(usize::MAX).min(map.len()) / PAGE * PAGE;
            let mut released = self.released.load(Ordering::Relaxed);
            if upto < released {
                self.released.store(0, Ordering::Relaxed);
                released = 0;
            }
            if upto >= released + RELEASE_STEP
                && self
                    .released
                    .compare_exchange(released, upto, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
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
            }
        }
    }
}

impl fmt::Debug for Mapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapped")
            .field("name", &self.name)
            .field("len", &self.bytes().len())
            .field("is_mapped", &self.is_mapped())
            .finish_non_exhaustive()
    }
}
