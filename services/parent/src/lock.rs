//! One slaacd per network namespace: an exclusive, non-blocking flock on
//! `<dir>/<netns-id>.lock`, held for the life of the process. It must never wait for the lock
//! and never remove the file (removing it would let a second daemon lock a fresh inode).
//!
//! Why per network namespace and not per machine: everything slaacd manages (interfaces,
//! addresses, routes, accept_ra) belongs to a network namespace, so daemons in two namespaces
//! do not compete, and the test suite runs several at once. The namespace is named by the
//! inode of its nsfs file, which the kernel keeps unique while the namespace lives; it is read
//! from `/proc/thread-self`, because a thread may have moved to another namespace than the
//! rest of its process.
//!
//! The file also holds the daemon's pid for operators and init scripts. The lock is taken
//! before slaacd daemonizes and the descriptor survives the forks, so the daemon records its
//! own pid again afterwards ([`DaemonLock::record_pid`]).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Where the daemon keeps its lock files.
pub const DEFAULT_LOCK_DIR: &str = "/run/slaacd";

const NETNS_FILE: &str = "/proc/thread-self/ns/net";

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("slaacd is already running in this network namespace (lock file {} is held)", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("cannot identify the network namespace from {NETNS_FILE}: {source}")]
    Namespace { source: std::io::Error },
    #[error("cannot create lock directory {}: {source}", path.display())]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open lock file {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock {}: {source}", path.display())]
    Lock { path: PathBuf, source: Errno },
    #[error("cannot write the pid into lock file {}: {source}", path.display())]
    WritePid {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or exiting) releases it. The descriptor is close-on-exec, so
/// the children do not inherit it.
#[derive(Debug)]
pub struct DaemonLock {
    file: Flock<File>,
    path: PathBuf,
}

impl DaemonLock {
    /// The lock file, for log messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the pid in the lock file with the calling process's, e.g. the daemon's after
    /// it forked away from the process that took the lock.
    ///
    /// Until it fails it only makes system calls and allocates nothing, so a freshly forked
    /// child of a threaded process may call it.
    pub fn record_pid(&self) -> Result<(), LockError> {
        write_pid(&self.file).map_err(|source| LockError::WritePid {
            path: self.path.clone(),
            source,
        })
    }
}

/// The identity of the calling thread's network namespace.
pub fn netns_id() -> Result<u64, LockError> {
    std::fs::metadata(NETNS_FILE)
        .map(|meta| meta.ino())
        .map_err(|source| LockError::Namespace { source })
}

/// Takes the lock for this network namespace in `dir` (created 0755 if missing), and writes
/// the daemon's pid into it for operators. Fails at once if another process holds it.
pub fn acquire(dir: &Path) -> Result<DaemonLock, LockError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|source| LockError::Directory {
            path: dir.to_owned(),
            source,
        })?;
    let path = dir.join(format!("{}.lock", netns_id()?));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|source| LockError::Open {
            path: path.clone(),
            source,
        })?;
    let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(file) => file,
        Err((_, Errno::EWOULDBLOCK)) => return Err(LockError::AlreadyRunning { path }),
        Err((_, source)) => return Err(LockError::Lock { path, source }),
    };
    let lock = DaemonLock { file, path };
    lock.record_pid()?;
    Ok(lock)
}

/// Longest line written: a 32-bit pid in decimal and a newline.
const PID_LINE_MAX: usize = 11;

/// Writes "<pid>\n" at offset 0, whatever the file offset is, then cuts off what an earlier,
/// longer content left behind. A reader racing the write sees the new pid first, never an
/// empty file.
fn write_pid(file: &File) -> std::io::Result<()> {
    let mut line = [0u8; PID_LINE_MAX];
    let mut cursor = std::io::Cursor::new(&mut line[..]);
    writeln!(cursor, "{}", std::process::id())?;
    let length = cursor.position();
    file.write_all_at(&line[..length as usize], 0)?;
    file.set_len(length)
}
