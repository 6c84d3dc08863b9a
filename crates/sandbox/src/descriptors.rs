//! Which file descriptors the process holds: listed from /proc/self/fd while that is visible,
//! otherwise found by asking the kernel about every number below the soft open-files limit with
//! `fcntl(F_GETFD)`, the one way that still works once Landlock hides /proc and seccomp forbids
//! `open`. It must never report a descriptor as closed when it is open: a number it cannot ask
//! about is an error, not a gap.

use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sys::resource::{Resource, getrlimit};

use crate::SandboxError;

/// Probing stops here even under a larger limit (some containers allow 2^30 descriptors);
/// slaacd's children inherit descriptors 0 to 3 only, far below it.
const PROBE_CEILING: u64 = 1 << 20;

/// Closes every descriptor numbered `first` or higher: what a child inherited without owning
/// it (a leaked pipe of whoever started its parent, say). Call it first thing in `main`, before
/// anything opens a descriptor of its own.
pub fn close_descriptors_from(first: RawFd) -> Result<(), SandboxError> {
    let first =
        libc::c_uint::try_from(first).map_err(|_| SandboxError::Descriptors(Errno::EBADF))?;
    // SAFETY: close_range only closes descriptors; nothing in this process owns one at or
    // above `first` yet, which is the caller's promise.
    let result = unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) };
    if result == 0 {
        Ok(())
    } else {
        Err(SandboxError::Descriptors(Errno::last()))
    }
}

/// The open descriptors, in increasing order. Before confinement only: it tries /proc first,
/// which a confined process may not even attempt (that is a violation, fatal in kill mode).
pub fn open_descriptors() -> Result<Vec<RawFd>, SandboxError> {
    match listed_in_proc() {
        Some(listed) => Ok(listed),
        None => probe_every_number(),
    }
}

/// A few system calls instead of one per possible number; `None` when /proc cannot be read
/// (not mounted, or hidden by confinement).
fn listed_in_proc() -> Option<Vec<RawFd>> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    let mut listed = Vec::new();
    for entry in entries {
        let name = entry.ok()?.file_name();
        listed.push(name.to_str()?.parse::<RawFd>().ok()?);
    }
    // The listing's own descriptor is among them and is closed by now; keep the open ones.
    let mut open = Vec::with_capacity(listed.len());
    for fd in listed {
        if is_open(fd).ok()? {
            open.push(fd);
        }
    }
    open.sort_unstable();
    Some(open)
}

/// The open descriptors, in increasing order, asking only `fcntl`: safe under any pledge.
pub(crate) fn probe_every_number() -> Result<Vec<RawFd>, SandboxError> {
    let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).map_err(SandboxError::Descriptors)?;
    let end = RawFd::try_from(soft.min(PROBE_CEILING)).unwrap_or(RawFd::MAX);
    let mut open = Vec::new();
    for fd in 0..end {
        if is_open(fd).map_err(SandboxError::Descriptors)? {
            open.push(fd);
        }
    }
    Ok(open)
}

fn is_open(fd: RawFd) -> Result<bool, Errno> {
    // SAFETY: F_GETFD only reads the descriptor's flags; no memory is touched.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0 {
        return Ok(true);
    }
    match Errno::last() {
        Errno::EBADF => Ok(false),
        error => Err(error),
    }
}

/// The lowest number above every open descriptor: the open-files limit that keeps all of
/// them and admits nothing new.
pub(crate) fn next_above(open: &[RawFd]) -> u64 {
    open.last()
        .map_or(0, |&highest| u64::try_from(highest).unwrap_or(0) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_new_descriptor_and_forgets_a_closed_one() {
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        let (read_fd, write_fd) = {
            use std::os::fd::AsRawFd;
            (read_end.as_raw_fd(), write_end.as_raw_fd())
        };
        let open = open_descriptors().unwrap();
        assert!(
            open.contains(&read_fd) && open.contains(&write_fd),
            "{open:?}"
        );
        assert!(open.windows(2).all(|pair| pair[0] < pair[1]), "{open:?}");
        let probed = probe_every_number().unwrap();
        assert!(
            probed.contains(&read_fd) && probed.contains(&write_fd),
            "{probed:?}"
        );
        drop(write_end);
        let open = open_descriptors().unwrap();
        assert!(open.contains(&read_fd), "{open:?}");
        // Another test thread may reuse the number at once; only a free number must be absent.
        // SAFETY: F_GETFD only reads flags.
        if unsafe { libc::fcntl(write_fd, libc::F_GETFD) } < 0 {
            assert!(!open.contains(&write_fd), "{open:?}");
        }
    }

    #[test]
    fn closes_from_a_number_up() {
        // Numbers far above what the test harness uses, so no other test's descriptor goes.
        let (read_end, _write_end) = nix::unistd::pipe().unwrap();
        let moved =
            nix::fcntl::fcntl(&read_end, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(900)).unwrap();
        assert!(moved >= 900);
        assert!(is_open(moved).unwrap());
        close_descriptors_from(moved).unwrap();
        assert!(!is_open(moved).unwrap());
    }

    #[test]
    fn the_limit_above_the_highest_descriptor() {
        assert_eq!(next_above(&[]), 0);
        assert_eq!(next_above(&[0, 1, 2, 7]), 8);
    }
}
