//! Process plumbing between the parent and its children: the socketpair of a
//! channel, the parent's clean-up of inherited fds, spawning a child with its
//! channel on fd 3, and the child's taking of fd 3.
//!
//! A child must see exactly fds 0, 1, 2 and its channel on 3; nothing here may
//! leak another fd into it. Code that runs between fork and exec makes only
//! async-signal-safe system calls (no allocation, no locks).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockFlag, SockType};

/// The fd a child finds its channel to the parent on.
pub const CHANNEL_FD: RawFd = 3;

/// Why a child could not take its channel from fd 3.
#[derive(Debug, thiserror::Error)]
pub enum ChannelFdError {
    #[error("fd 3 is not the parent's channel; {program} is started by slaacd")]
    NotAChannel { program: String },
    #[error("fd 3, the parent's channel, was already taken")]
    AlreadyTaken,
    #[error("inspecting fd 3 (the parent's channel): {0}")]
    Inspect(#[source] io::Error),
}

impl From<ChannelFdError> for io::Error {
    fn from(error: ChannelFdError) -> Self {
        let kind = match error {
            ChannelFdError::Inspect(ref inner) => inner.kind(),
            ChannelFdError::NotAChannel { .. } | ChannelFdError::AlreadyTaken => {
                io::ErrorKind::InvalidInput
            }
        };
        io::Error::new(kind, error)
    }
}

/// A connected AF_UNIX stream socket pair, both ends close-on-exec.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let pair = nix::sys::socket::socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok(pair)
}

/// Marks every fd from 3 up close-on-exec, so nothing this process inherited
/// reaches its children. The parent calls it first thing.
pub fn close_inherited_fds() -> io::Result<()> {
    mark_cloexec_from(CHANNEL_FD)
}

/// close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11). Async-signal-safe.
fn mark_cloexec_from(first: RawFd) -> io::Result<()> {
    // SAFETY: close_range only changes fd flags; it touches no memory.
    let result = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Starts `program` with `args` and `channel` on fd 3; the child gets no
/// other fd beyond 0-2. The parent's copy of `channel` is closed on return.
pub fn spawn_child(program: &Path, args: &[OsString], channel: OwnedFd) -> io::Result<Child> {
    let raw = channel.as_raw_fd();
    if raw < CHANNEL_FD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the channel for {} is fd {raw}, a standard stream",
                program.display()
            ),
        ));
    }
    let mut command = Command::new(program);
    command.args(args);
    // SAFETY: the closure runs in the forked child and only makes the
    // async-signal-safe calls fcntl, dup2 and close_range.
    unsafe {
        command.pre_exec(move || place_channel(raw));
    }
    let child = command.spawn().map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("starting {}: {error}", program.display()),
        )
    })?;
    drop(channel);
    Ok(child)
}

/// In the forked child: put the channel on fd 3 without close-on-exec and mark
/// every other fd above it close-on-exec.
fn place_channel(raw: RawFd) -> io::Result<()> {
    if raw == CHANNEL_FD {
        // dup2(3, 3) would do nothing and leave FD_CLOEXEC set.
        // SAFETY: fcntl on an fd number; no memory is touched.
        if unsafe { libc::fcntl(CHANNEL_FD, libc::F_SETFD, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
    } else {
        // SAFETY: dup2 on fd numbers; the new fd 3 has FD_CLOEXEC clear.
        if unsafe { libc::dup2(raw, CHANNEL_FD) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    mark_cloexec_from(CHANNEL_FD + 1)
}

static CHANNEL_TAKEN: AtomicBool = AtomicBool::new(false);

/// In a child: takes fd 3, checks that it is a Unix stream socket (the
/// parent's channel) and makes it close-on-exec. Succeeds once per process.
pub fn take_channel_fd() -> io::Result<OwnedFd> {
    if CHANNEL_TAKEN.load(Ordering::SeqCst) {
        return Err(ChannelFdError::AlreadyTaken.into());
    }
    // SAFETY: F_GETFD only reads fd 3's flags; EBADF if it is closed.
    if unsafe { libc::fcntl(CHANNEL_FD, libc::F_GETFD) } < 0 {
        let error = io::Error::last_os_error();
        return Err(match error.raw_os_error() {
            Some(libc::EBADF) => not_a_channel(),
            _ => ChannelFdError::Inspect(error),
        }
        .into());
    }
    // SAFETY: fd 3 is open (checked above) and not taken yet, so nothing in
    // this process owns it and could close it during the check.
    let borrowed = unsafe { BorrowedFd::borrow_raw(CHANNEL_FD) };
    if !crate::socket_kind::is_unix_stream(borrowed).map_err(ChannelFdError::Inspect)? {
        return Err(not_a_channel().into());
    }
    if CHANNEL_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(ChannelFdError::AlreadyTaken.into());
    }
    // SAFETY: fd 3 is an open socket that nothing else in this process owns:
    // it was inherited, and the swap above lets only one caller get here.
    let channel = unsafe { OwnedFd::from_raw_fd(CHANNEL_FD) };
    fcntl(channel.as_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
        .map_err(|errno| ChannelFdError::Inspect(errno.into()))?;
    Ok(channel)
}

/// In a child: ignores SIGINT and SIGHUP, which a terminal sends the whole
/// process group, and SIGPIPE. The parent decides when its children stop: it
/// closes their channels, and a child exits when its channel ends.
pub fn ignore_terminal_signals() -> io::Result<()> {
    use nix::sys::signal::{SigHandler, Signal, signal};
    for which in [Signal::SIGINT, Signal::SIGHUP, Signal::SIGPIPE] {
        // SAFETY: SIG_IGN installs no handler code, so nothing can run in a
        // signal context.
        unsafe { signal(which, SigHandler::SigIgn) }.map_err(io::Error::from)?;
    }
    Ok(())
}

fn not_a_channel() -> ChannelFdError {
    let program = std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_name)
        .map_or_else(
            || "this program".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
    ChannelFdError::NotAChannel { program }
}
