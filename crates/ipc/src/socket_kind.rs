//! Tells whether a file descriptor is a Unix stream socket, the only kind of
//! fd slaacd runs its RPC channels over. It only inspects the fd: it must
//! never read from it, write to it or change its flags.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, SockaddrLike, SockaddrStorage, getsockname, getsockopt, sockopt,
};

/// `Ok(true)` for an AF_UNIX SOCK_STREAM socket, `Ok(false)` for any other fd
/// (another socket type, a pipe, a file), `Err` if the fd cannot be inspected.
pub(crate) fn is_unix_stream(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let address = match getsockname::<SockaddrStorage>(fd.as_raw_fd()) {
        Ok(address) => address,
        Err(Errno::ENOTSOCK) => return Ok(false),
        Err(errno) => return Err(errno.into()),
    };
    if address.family() != Some(AddressFamily::Unix) {
        return Ok(false);
    }
    let kind = getsockopt(&fd, sockopt::SockType)?;
    Ok(kind == nix::sys::socket::SockType::Stream)
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use nix::sys::socket::{SockFlag, SockType, socket, socketpair};

    use super::*;

    #[test]
    fn only_unix_stream_sockets_qualify() {
        let (stream, _peer) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair");
        assert!(is_unix_stream(stream.as_fd()).expect("inspect stream socket"));

        let (datagram, _peer) = socketpair(
            AddressFamily::Unix,
            SockType::Datagram,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair");
        assert!(!is_unix_stream(datagram.as_fd()).expect("inspect datagram socket"));

        let inet = socket(
            AddressFamily::Inet6,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("IPv6 socket");
        assert!(!is_unix_stream(inet.as_fd()).expect("inspect IPv6 socket"));

        let (pipe_read, _pipe_write) = nix::unistd::pipe().expect("pipe");
        assert!(!is_unix_stream(pipe_read.as_fd()).expect("inspect pipe"));
    }
}
