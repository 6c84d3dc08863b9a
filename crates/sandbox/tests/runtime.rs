//! The services' run-time shape still works under their pledges in Kill mode (any call
//! missing from the allowlist would end the process with SIGSYS): a current-thread tokio
//! runtime with timers, Unix stream I/O, and a descriptor passed with SCM_RIGHTS.

mod child;

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use slaacd_sandbox::{Unveil, Violation, pledge};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

confined_test!(tokio_io_timers_and_fd_passing_survive_stdio_recvfd_kill, {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (passing_end, receiving_end) = std::os::unix::net::UnixStream::pair().unwrap();
    let (mut left, mut right) = runtime
        .block_on(async { tokio::net::UnixStream::pair() })
        .unwrap();
    let (pipe_read, pipe_write) = nix::unistd::pipe().unwrap();

    Unveil::new().lock().unwrap();
    pledge("stdio recvfd sendfd", Violation::Kill).unwrap();

    runtime.block_on(async {
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            left.write_all(b"proposal").await.unwrap();
        });
        let mut buffer = [0u8; 8];
        tokio::time::timeout(Duration::from_secs(5), right.read_exact(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buffer, b"proposal");
        writer.await.unwrap();
    });

    // A descriptor travels with its message, as between the parent and the frontend.
    let fds = [pipe_write.as_raw_fd()];
    let sent = sendmsg::<()>(
        passing_end.as_raw_fd(),
        &[IoSlice::new(b"fd")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .unwrap();
    assert_eq!(sent, 2);
    drop(pipe_write);
    let mut data = [0u8; 2];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut data)];
    let message = recvmsg::<()>(
        receiving_end.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .unwrap();
    let received = message
        .cmsgs()
        .unwrap()
        .find_map(|cmsg| match cmsg {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
        .unwrap();
    // SAFETY: the kernel just installed this descriptor for us; nothing else owns it.
    let received = unsafe { OwnedFd::from_raw_fd(received) };
    nix::unistd::write(&received, b"!").unwrap();
    let mut byte = [0u8; 1];
    nix::unistd::read(&pipe_read, &mut byte).unwrap();
    assert_eq!(&byte, b"!");
});
