//! The escapes a confined process's hidden self-test mode attempts, one system call each: open
//! a file, read /etc/shadow, create a file in /etc, create an IPv4, IPv6, packet or Unix socket
//! or a socket pair, execute a shell, fork, signal a process that is not its child, become
//! traceable, write to /proc, ask an interface's index by ioctl, and receive a descriptor.
//! Tests start the real binaries in that mode and assert that each attempt fails with the errno
//! or the signal the confinement promises.
//!
//! It must never be used outside that mode: in the `log` violation mode the attempts really
//! happen (they are chosen to be harmless then: renaming the own thread, a shell that does
//! nothing, a file in /etc removed at once, a forked copy that exits at once and is waited for,
//! signal 0, which only asks whether the process exists).

use std::fmt;
use std::io::{IoSliceMut, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::str::FromStr;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg, socket, socketpair,
};

use crate::SandboxError;

/// One escape attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Open /etc/passwd for reading.
    OpenFile,
    /// Open /etc/shadow for reading.
    ReadShadow,
    /// Create a file in /etc.
    WriteEtc,
    /// Create an AF_INET datagram socket.
    InetSocket,
    /// Create an AF_INET6 datagram socket.
    Inet6Socket,
    /// Create an AF_PACKET datagram socket.
    PacketSocket,
    /// Create an AF_UNIX datagram socket.
    UnixSocket,
    /// Create a pair of connected AF_UNIX sockets.
    SocketPair,
    /// Execute /bin/sh (with a command that does nothing).
    Exec,
    /// fork(): a new process (which exits at once), not a thread.
    Fork,
    /// kill(2) with signal 0 to the process's own parent, which is never its child.
    SignalOther,
    /// ptrace(PTRACE_TRACEME).
    Ptrace,
    /// Open /proc/self/comm for writing and write to it.
    ProcWrite,
    /// Ask the index of "lo" with the SIOCGIFINDEX ioctl on an AF_UNIX datagram socket, as
    /// glibc's if_nametoindex does (the socket first: a process without it fails there).
    InterfaceIoctl,
    /// Receive a descriptor on the channel (fd 3); the test sends one.
    ReceiveDescriptor,
}

impl Escape {
    /// Every escape, in the order "all" attempts them; receiving a descriptor is last because
    /// it waits for the test to send one.
    pub const ALL: [Escape; 15] = [
        Escape::OpenFile,
        Escape::ReadShadow,
        Escape::WriteEtc,
        Escape::InetSocket,
        Escape::Inet6Socket,
        Escape::PacketSocket,
        Escape::UnixSocket,
        Escape::SocketPair,
        Escape::Exec,
        Escape::Fork,
        Escape::SignalOther,
        Escape::Ptrace,
        Escape::ProcWrite,
        Escape::InterfaceIoctl,
        Escape::ReceiveDescriptor,
    ];

    /// The escape's name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Escape::OpenFile => "open-file",
            Escape::ReadShadow => "open-shadow",
            Escape::WriteEtc => "write-etc",
            Escape::InetSocket => "inet-socket",
            Escape::Inet6Socket => "inet6-socket",
            Escape::PacketSocket => "packet-socket",
            Escape::UnixSocket => "unix-socket",
            Escape::SocketPair => "socket-pair",
            Escape::Exec => "exec",
            Escape::Fork => "fork",
            Escape::SignalOther => "signal-other",
            Escape::Ptrace => "ptrace",
            Escape::ProcWrite => "proc-write",
            Escape::InterfaceIoctl => "interface-ioctl",
            Escape::ReceiveDescriptor => "receive-descriptor",
        }
    }

    /// Makes the attempt. `Err` carries the errno that stopped it; `Ok` means it was allowed.
    /// Receiving a descriptor needs the `channel`; without one it fails with EBADF.
    fn attempt(self, channel: Option<BorrowedFd<'_>>) -> Result<(), Errno> {
        match self {
            Escape::OpenFile => std::fs::File::open("/etc/passwd")
                .map(drop)
                .map_err(io_errno),
            Escape::ReadShadow => std::fs::File::open("/etc/shadow")
                .map(drop)
                .map_err(io_errno),
            Escape::WriteEtc => create_in_etc(),
            Escape::InetSocket => try_socket(AddressFamily::Inet),
            Escape::Inet6Socket => try_socket(AddressFamily::Inet6),
            Escape::PacketSocket => try_socket(AddressFamily::Packet),
            Escape::UnixSocket => try_socket(AddressFamily::Unix),
            Escape::SocketPair => socketpair(
                AddressFamily::Unix,
                SockType::Stream,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .map(drop),
            Escape::Exec => nix::unistd::execv(c"/bin/sh", &[c"sh", c"-c", c":"]).map(drop),
            Escape::Fork => fork_and_reap(),
            Escape::SignalOther => nix::sys::signal::kill(nix::unistd::getppid(), None),
            Escape::Ptrace => nix::sys::ptrace::traceme(),
            Escape::ProcWrite => std::fs::OpenOptions::new()
                .write(true)
                .open("/proc/self/comm")
                .and_then(|mut comm| comm.write_all(b"escaped"))
                .map_err(io_errno),
            Escape::InterfaceIoctl => interface_index_by_ioctl(),
            Escape::ReceiveDescriptor => channel.map_or(Err(Errno::EBADF), receive_descriptor),
        }
    }
}

impl fmt::Display for Escape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Escape {
    type Err = SandboxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Escape::ALL
            .into_iter()
            .find(|escape| escape.name() == text)
            .ok_or_else(|| SandboxError::UnknownEscape(text.to_owned()))
    }
}

/// Parses "all" or a comma-separated list of escape names.
pub fn parse_escapes(text: &str) -> Result<Vec<Escape>, SandboxError> {
    if text == "all" {
        return Ok(Escape::ALL.to_vec());
    }
    text.split(',').map(str::parse).collect()
}

/// Attempts each escape in turn and reports on stdout, one line before ("attempting NAME")
/// and one after ("blocked NAME ERRNO" or "allowed NAME"), so that a test can tell a process
/// killed by the attempt from one that never got there. `channel` is the process's channel,
/// on which the test sends a descriptor for `receive-descriptor`.
pub fn attempt_escapes(escapes: &[Escape], channel: BorrowedFd<'_>) -> std::io::Result<()> {
    attempt_escapes_reporting_to(&mut std::io::stdout().lock(), escapes, Some(channel))
}

/// `attempt_escapes` reporting to `report` (the parent reports on stderr, which is its log in
/// the foreground), with a channel only for a process that has one.
pub fn attempt_escapes_reporting_to(
    report: &mut dyn Write,
    escapes: &[Escape],
    channel: Option<BorrowedFd<'_>>,
) -> std::io::Result<()> {
    for &escape in escapes {
        writeln!(report, "attempting {escape}")?;
        report.flush()?;
        match escape.attempt(channel) {
            Err(errno) => writeln!(report, "blocked {escape} {errno:?}")?,
            Ok(()) => writeln!(report, "allowed {escape}")?,
        }
        report.flush()?;
    }
    Ok(())
}

fn io_errno(error: std::io::Error) -> Errno {
    error
        .raw_os_error()
        .map_or(Errno::UnknownErrno, Errno::from_raw)
}

/// Creates a file in /etc, removing it again at once when that was allowed.
fn create_in_etc() -> Result<(), Errno> {
    const PATH: &str = "/etc/slaacd-confinement-self-test";
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(PATH)
        .map_err(io_errno)?;
    // Allowed: leave nothing behind (a failure here changes nothing about the outcome).
    let _ = std::fs::remove_file(PATH);
    Ok(())
}

/// Forks; the copy exits at once without running anything of the caller's, and is waited for.
fn fork_and_reap() -> Result<(), Errno> {
    // SAFETY: the self-test runs on the process's only thread (the parent confines itself only
    // then; each child is single-threaded), and the copy calls only _exit.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            // SAFETY: _exit ends the copy without unwinding or running any handler.
            unsafe { libc::_exit(0) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            nix::sys::wait::waitpid(child, None)?;
            Ok(())
        }
    }
}

/// SIOCGIFINDEX for "lo" on a new AF_UNIX datagram socket.
fn interface_index_by_ioctl() -> Result<(), Errno> {
    let socket = socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain data, for which all zero bytes are a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: SIOCGIFINDEX reads the NUL-terminated name and writes the index into `request`,
    // which lives across the call; the descriptor is open.
    let result = unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFINDEX, &mut request) };
    Errno::result(result).map(drop)
}

fn try_socket(family: AddressFamily) -> Result<(), Errno> {
    socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None).map(drop)
}

/// Waits for one message on `channel` and says whether a descriptor came with it. A message
/// whose descriptor the kernel had to drop (MSG_CTRUNC: the open-files limit is reached) is
/// reported as EMFILE, which is what installing it would have failed with.
fn receive_descriptor(channel: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut byte = [0u8; 1];
    let mut data = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!(RawFdSpace);
    let message = recvmsg::<()>(
        channel.as_raw_fd(),
        &mut data,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    // Checked first: nix refuses to walk a truncated control buffer.
    if message.flags.contains(MsgFlags::MSG_CTRUNC) {
        return Err(Errno::EMFILE);
    }
    let received = message
        .cmsgs()
        .map_err(|_| Errno::EINVAL)?
        .any(|cmsg| matches!(cmsg, ControlMessageOwned::ScmRights(fds) if !fds.is_empty()));
    if received { Ok(()) } else { Err(Errno::ENOMSG) }
}

/// One descriptor's worth of ancillary space.
type RawFdSpace = [std::os::fd::RawFd; 1];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_lists_and_all() {
        assert_eq!(parse_escapes("all").unwrap(), Escape::ALL.to_vec());
        assert_eq!(
            parse_escapes("exec,proc-write").unwrap(),
            vec![Escape::Exec, Escape::ProcWrite]
        );
        for escape in Escape::ALL {
            assert_eq!(escape.name().parse::<Escape>().unwrap(), escape);
        }
        let error = parse_escapes("open-file,chroot").unwrap_err();
        assert_eq!(error.to_string(), "unknown escape \"chroot\"");
    }
}
