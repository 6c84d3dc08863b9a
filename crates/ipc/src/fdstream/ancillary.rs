//! The two system calls of the fd stream: `sendmsg` with SCM_RIGHTS attached
//! and `recvmsg` that takes ownership of every fd the kernel installed, even
//! when it reports truncated control data. These functions never block (the
//! socket is non-blocking), never interpret the bytes, and never let a
//! received fd escape without an owner.

use std::io::{self, IoSlice};
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};

use super::MAX_FDS_PER_MESSAGE;

/// Bytes of control buffer for one SCM_RIGHTS message of the largest size the
/// sender uses; a bigger one arrives truncated (MSG_CTRUNC).
// SAFETY: CMSG_SPACE is pure arithmetic on its argument.
const CONTROL_SPACE: usize =
    unsafe { libc::CMSG_SPACE((MAX_FDS_PER_MESSAGE * mem::size_of::<RawFd>()) as u32) } as usize;

/// Control data storage aligned as the kernel and the CMSG macros expect.
#[repr(C)]
union ControlBuffer {
    header: libc::cmsghdr,
    bytes: [u8; CONTROL_SPACE],
}

/// What one `recvmsg` delivered.
pub(super) struct Received {
    pub(super) bytes: usize,
    /// Every fd installed by this call, now owned (and closed when dropped).
    pub(super) fds: Vec<OwnedFd>,
    /// MSG_CTRUNC: the peer attached more than this end has room for.
    pub(super) truncated: bool,
    /// The first control message that was not SCM_RIGHTS, as (level, type).
    pub(super) unexpected: Option<(i32, i32)>,
}

/// Writes `bytes` with `fds` attached as SCM_RIGHTS. Returns how many bytes
/// went out; on success every fd went with the first of them.
pub(super) fn send(socket: BorrowedFd<'_>, bytes: &[u8], fds: &[RawFd]) -> io::Result<usize> {
    let rights = [ControlMessage::ScmRights(fds)];
    let control: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
    let sent = sendmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &[IoSlice::new(bytes)],
        control,
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?;
    Ok(sent)
}

/// Reads into `buf`, receiving fds close-on-exec.
pub(super) fn receive(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Received> {
    let mut control = ControlBuffer {
        bytes: [0; CONTROL_SPACE],
    };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut header: libc::msghdr = unsafe { mem::zeroed() };
    header.msg_iov = &raw mut iov;
    header.msg_iovlen = 1;
    header.msg_control = (&raw mut control).cast();
    header.msg_controllen = CONTROL_SPACE as _;

    // SAFETY: `header` points at `iov` (covering `buf`) and `control`, both
    // valid for writes of the lengths given and alive for the call.
    let result =
        unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut header, libc::MSG_CMSG_CLOEXEC) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    let bytes = result as usize;

    let mut fds = Vec::new();
    let mut unexpected = None;
    // SAFETY: recvmsg filled `header` and set msg_controllen to the control
    // bytes it wrote into `control`, which is still alive and unmoved.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const header) };
    while !cmsg.is_null() {
        // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR only return headers that lie
        // wholly inside the control data the kernel wrote.
        let (level, kind, len) = unsafe {
            (
                (*cmsg).cmsg_level,
                (*cmsg).cmsg_type,
                (*cmsg).cmsg_len as usize,
            )
        };
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            // SAFETY: as above; CMSG_LEN(0) is the header size.
            let data_len = len.saturating_sub(unsafe { libc::CMSG_LEN(0) } as usize);
            // SAFETY: CMSG_DATA points at `data_len` bytes inside `control`.
            let data = unsafe { libc::CMSG_DATA(cmsg) }.cast::<RawFd>();
            for index in 0..data_len / mem::size_of::<RawFd>() {
                // SAFETY: the index stays inside the data; it may be unaligned.
                let raw = unsafe { ptr::read_unaligned(data.add(index)) };
                // SAFETY: the kernel installed this fd in our table for this
                // call alone; nothing else owns it.
                fds.push(unsafe { OwnedFd::from_raw_fd(raw) });
            }
        } else if unexpected.is_none() {
            unexpected = Some((level, kind));
        }
        // SAFETY: `cmsg` is a valid header within `header`'s control data.
        cmsg = unsafe { libc::CMSG_NXTHDR(&raw const header, cmsg) };
    }

    Ok(Received {
        bytes,
        fds,
        truncated: header.msg_flags & libc::MSG_CTRUNC != 0,
        unexpected,
    })
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};

    use super::*;
    use crate::test_support::{PipeProbe, has_cloexec};

    fn pair() -> (OwnedFd, OwnedFd) {
        socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair")
    }

    #[test]
    fn fds_arrive_close_on_exec_with_their_bytes() {
        let (left, right) = pair();
        let (probe, read_end) = PipeProbe::new();
        assert_eq!(
            send(left.as_fd(), b"abc", &[read_end.as_raw_fd()]).expect("send"),
            3
        );
        drop(read_end);

        let mut buf = [0; 16];
        let received = receive(right.as_fd(), &mut buf).expect("receive");
        assert_eq!(&buf[..received.bytes], b"abc");
        assert!(!received.truncated);
        assert_eq!(received.unexpected, None);
        assert_eq!(received.fds.len(), 1);
        assert!(probe.is_read_end(&received.fds[0]));
        assert!(has_cloexec(&received.fds[0]));
    }

    #[test]
    fn a_read_stops_after_the_bytes_that_carried_fds() {
        // The kernel guarantee the fd queue relies on: fds never arrive after
        // the bytes they were sent with, and never merge across two sends.
        let (left, right) = pair();
        let (first, first_read) = PipeProbe::new();
        let (second, second_read) = PipeProbe::new();
        send(left.as_fd(), b"aaaa", &[]).expect("send");
        send(left.as_fd(), b"BBBB", &[first_read.as_raw_fd()]).expect("send");
        send(left.as_fd(), b"cccc", &[]).expect("send");
        send(left.as_fd(), b"DDDD", &[second_read.as_raw_fd()]).expect("send");
        send(left.as_fd(), b"eeee", &[]).expect("send");

        let mut buf = [0; 64];
        let one = receive(right.as_fd(), &mut buf).expect("receive");
        assert_eq!(&buf[..one.bytes], b"aaaaBBBB");
        assert!(one.fds.len() == 1 && first.is_read_end(&one.fds[0]));
        let two = receive(right.as_fd(), &mut buf).expect("receive");
        assert_eq!(&buf[..two.bytes], b"ccccDDDD");
        assert!(two.fds.len() == 1 && second.is_read_end(&two.fds[0]));
        let three = receive(right.as_fd(), &mut buf).expect("receive");
        assert_eq!(&buf[..three.bytes], b"eeee");
        assert!(three.fds.is_empty());
    }

    #[test]
    fn oversized_control_data_is_reported_and_every_installed_fd_owned() {
        let (left, right) = pair();
        let (probes, read_ends): (Vec<_>, Vec<_>) = (0..MAX_FDS_PER_MESSAGE + 5)
            .map(|_| PipeProbe::new())
            .unzip();
        let raws: Vec<RawFd> = read_ends.iter().map(AsRawFd::as_raw_fd).collect();
        send(left.as_fd(), b"x", &raws).expect("send");
        drop(read_ends);

        let mut buf = [0; 4];
        let received = receive(right.as_fd(), &mut buf).expect("receive");
        assert!(received.truncated);
        assert_eq!(received.fds.len(), MAX_FDS_PER_MESSAGE);
        drop(received);
        assert!(probes.iter().all(PipeProbe::read_ends_all_closed));
    }

    #[test]
    fn would_block_is_reported_as_such() {
        let (_left, right) = pair();
        nix::fcntl::fcntl(
            right.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .expect("O_NONBLOCK");
        let mut buf = [0; 4];
        let error = receive(right.as_fd(), &mut buf)
            .err()
            .expect("nothing to read");
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    }
}
