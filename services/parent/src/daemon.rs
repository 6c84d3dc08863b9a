//! Turning the parent into a daemon: detach from the terminal and the caller's session, and let
//! the starting command exit only once the daemon is up, with status 0, or with status 1 if it
//! failed on the way. It must run while the process has a single thread (before any tokio
//! runtime exists), since only the forking thread survives a fork.
//!
//! The shape: fork; the original process waits on a pipe. The child calls setsid and forks
//! again, so the daemon is not a session leader and can never acquire a controlling terminal.
//! The daemon changes to `/` and reads stdin from /dev/null, but keeps stdout and stderr until
//! it calls `Readiness::started`, so a start-up error still reaches the terminal; `started`
//! then points them at /dev/null and tells the waiting process to exit 0. A daemon that exits
//! or drops its `Readiness` before that closes the pipe, and the waiting process exits 1.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork, setsid};

/// The byte the daemon sends when it has started.
const READY: u8 = b'R';

/// Why the process could not become a daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot daemonize with {0} threads running; daemonize before starting any thread")]
    Threads(usize),
    #[error("cannot count this process's threads in /proc/self/task: {0}")]
    CountThreads(std::io::Error),
    #[error("cannot daemonize: {step}: {source}")]
    Step { step: &'static str, source: Errno },
    #[error("cannot redirect {what} to /dev/null: {source}")]
    DevNull {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("cannot tell the starting process that the daemon is up: {0}")]
    Notify(Errno),
}

fn step(step: &'static str) -> impl FnOnce(Errno) -> DaemonError {
    move |source| DaemonError::Step { step, source }
}

/// The daemon's promise to report that it started; see [`Readiness::started`].
#[derive(Debug)]
pub struct Readiness {
    pipe: OwnedFd,
}

impl Readiness {
    /// Reports that the daemon is up: stdout and stderr go to /dev/null from now on, and the
    /// command that started the daemon exits with status 0.
    pub fn started(self) -> Result<(), DaemonError> {
        redirect_to_dev_null(&[(1, "stdout"), (2, "stderr")])?;
        nix::unistd::write(&self.pipe, &[READY]).map_err(DaemonError::Notify)?;
        Ok(())
    }
}

/// Detaches the process. Returns only in the daemon; the calling process exits when the daemon
/// reports [`Readiness::started`] (status 0) or gives up (status 1).
pub fn daemonize() -> Result<Readiness, DaemonError> {
    let threads = std::fs::read_dir("/proc/self/task")
        .map_err(DaemonError::CountThreads)?
        .count();
    if threads != 1 {
        return Err(DaemonError::Threads(threads));
    }
    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(step("pipe"))?;

    // SAFETY: the process has one thread (checked above), so the child gets a consistent copy
    // of every lock and allocator state.
    match unsafe { fork() }.map_err(step("first fork"))? {
        ForkResult::Parent { child } => {
            drop(write_end);
            // The intermediate child exits at once; reap it so it leaves no zombie.
            let _ = waitpid(child, None);
            std::process::exit(wait_for_daemon(read_end));
        }
        ForkResult::Child => drop(read_end),
    }

    setsid().map_err(step("setsid"))?;
    // SAFETY: still one thread: fork copies only the calling thread.
    match unsafe { fork() }.map_err(step("second fork"))? {
        // SAFETY: _exit ends the intermediate process without running anything else; the
        // original process's buffers and handlers belong to the original, not to it.
        ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
        ForkResult::Child => {}
    }

    nix::unistd::chdir("/").map_err(step("chdir /"))?;
    redirect_to_dev_null(&[(0, "stdin")])?;
    Ok(Readiness { pipe: write_end })
}

/// The exit status for the starting process: 0 once the ready byte arrives, 1 if the pipe
/// closes without it.
fn wait_for_daemon(read_end: OwnedFd) -> i32 {
    let mut byte = [0u8; 1];
    match File::from(read_end).read_exact(&mut byte) {
        Ok(()) if byte[0] == READY => 0,
        _ => 1,
    }
}

fn redirect_to_dev_null(targets: &[(i32, &'static str)]) -> Result<(), DaemonError> {
    for &(fd, what) in targets {
        let null = File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(|source| DaemonError::DevNull { what, source })?;
        // SAFETY: dup2 onto a standard descriptor number; `null` stays open until the call
        // returns and the old descriptor `fd` is owned by the process, not by any Rust object.
        if unsafe { libc::dup2(null.as_fd().as_raw_fd(), fd) } == -1 {
            return Err(DaemonError::DevNull {
                what,
                source: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}
