//! Test helpers: pipes whose read end is passed around as the fd under test,
//! so a test can prove which fd arrived and that every copy was closed. Test
//! code only; it must never be compiled into the library proper.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::stat::fstat;

/// The write end of a pipe whose read end the test hands out.
pub(crate) struct PipeProbe {
    write_end: OwnedFd,
    identity: (u64, u64),
}

impl PipeProbe {
    /// A new pipe: the probe keeps the write end, the caller gets the read end.
    pub(crate) fn new() -> (Self, OwnedFd) {
        let (read_end, write_end) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("creating a probe pipe");
        let identity = identity_of(&read_end);
        (
            Self {
                write_end,
                identity,
            },
            read_end,
        )
    }

    /// Whether `fd` is (a duplicate of) this pipe's read end.
    pub(crate) fn is_read_end(&self, fd: &impl AsFd) -> bool {
        identity_of(fd) == self.identity
    }

    /// Whether every copy of the read end, in this process and any other, is
    /// closed: writing then fails with EPIPE (Rust ignores SIGPIPE).
    pub(crate) fn read_ends_all_closed(&self) -> bool {
        match nix::unistd::write(&self.write_end, b"?") {
            Err(Errno::EPIPE) => true,
            Ok(_) => false,
            Err(errno) => panic!("probing a pipe: {errno}"),
        }
    }
}

fn identity_of(fd: &impl AsFd) -> (u64, u64) {
    let stat = fstat(fd.as_fd()).expect("fstat of a probe pipe");
    (stat.st_dev, stat.st_ino)
}

/// Whether `fd` has FD_CLOEXEC set.
pub(crate) fn has_cloexec(fd: &impl AsFd) -> bool {
    let flags = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_GETFD).expect("F_GETFD");
    nix::fcntl::FdFlag::from_bits_truncate(flags).contains(nix::fcntl::FdFlag::FD_CLOEXEC)
}

/// A connected AF_UNIX stream socket pair, close-on-exec.
pub(crate) fn stream_pair() -> (OwnedFd, OwnedFd) {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .expect("socketpair")
}

/// Runs `future` to completion on a current-thread runtime inside a
/// `LocalSet`, as the daemon's processes do.
pub(crate) fn run_local<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}
