//! The fd stream's socket and its tokio registration, which asks the kernel
//! about writability only while a write is blocked.
//!
//! tokio's epoll is edge-triggered: a socket registered for writability
//! reports an event each time the peer reads (the kernel announces the freed
//! buffer space), and every such event wakes the sleeping process for
//! nothing. So the socket is registered for reading only; a write is tried
//! at once, and only when it reports EAGAIN is the socket registered again
//! with writability added, until the writer has sent everything it holds.
//! Re-registering never needs a second descriptor (a confined child may not
//! open one). This module must never lose a reader's wake-up across a
//! re-registration and never keep writability registered once the writer
//! says it has nothing left.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::task::{Context, Poll, Waker, ready};

use tokio::io::Interest;
use tokio::io::unix::{AsyncFd, AsyncFdRegisterError};

/// The socket, registered with the current thread's tokio runtime.
pub(super) struct Registration {
    /// None only after a re-registration failed: the socket is then closed.
    socket: RefCell<Option<AsyncFd<OwnedFd>>>,
    /// Whether the registration includes writability.
    watching_writes: Cell<bool>,
    /// The reader's waker while it waits for data, to wake it when its
    /// registration is replaced.
    waiting_reader: RefCell<Option<Waker>>,
}

fn is_retry(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Registers `socket` with the current runtime for `interest`.
fn register(
    socket: OwnedFd,
    interest: Interest,
) -> Result<AsyncFd<OwnedFd>, AsyncFdRegisterError<OwnedFd>> {
    // SAFETY: an OwnedFd keeps its descriptor open, and always returns the
    // same number, until it is dropped: for as long as the AsyncFd owns it.
    unsafe { AsyncFd::register_with_interest(socket, interest) }
}

fn lost() -> io::Error {
    io::Error::other("the channel socket lost its tokio registration")
}

impl Registration {
    /// Registers a non-blocking socket for reading. Must run inside a tokio
    /// runtime.
    pub(super) fn new(socket: OwnedFd) -> io::Result<Self> {
        Ok(Self {
            socket: RefCell::new(Some(
                register(socket, Interest::READABLE).map_err(|failure| failure.into_parts().1)?,
            )),
            watching_writes: Cell::new(false),
            waiting_reader: RefCell::new(None),
        })
    }

    /// Runs `call` on the socket, in a readable state or else once the
    /// kernel says it became readable.
    pub(super) fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut call: impl FnMut(BorrowedFd<'_>) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let socket = self.socket.borrow();
        let socket = socket.as_ref().ok_or_else(lost)?;
        loop {
            let mut guard = match socket.poll_read_ready(cx) {
                Poll::Ready(guard) => {
                    self.waiting_reader.take();
                    guard?
                }
                Poll::Pending => {
                    *self.waiting_reader.borrow_mut() = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            };
            // try_io clears tokio's readiness when the call reports EAGAIN, so
            // the next poll waits for the kernel instead of spinning.
            match guard.try_io(|socket| call(socket.get_ref().as_fd())) {
                Ok(Err(error)) if is_retry(&error) => continue,
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    /// Runs `call` on the socket at once; if it reports EAGAIN, registers
    /// for writability and runs it again each time the kernel says the
    /// socket became writable, until it gets through.
    pub(super) fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut call: impl FnMut(BorrowedFd<'_>) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if !self.watching_writes.get() {
            match self.with_fd(&mut call)? {
                Err(error) if is_retry(&error) => self.reregister(true)?,
                result => return Poll::Ready(result),
            }
        }
        let socket = self.socket.borrow();
        let socket = socket.as_ref().ok_or_else(lost)?;
        loop {
            let mut guard = ready!(socket.poll_write_ready(cx))?;
            match guard.try_io(|socket| call(socket.get_ref().as_fd())) {
                Ok(Err(error)) if is_retry(&error) => continue,
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    /// The writer holds nothing more: writability is no longer of interest.
    pub(super) fn writes_done(&self) -> io::Result<()> {
        if self.watching_writes.get() {
            self.reregister(false)?;
        }
        Ok(())
    }

    /// Runs `call`, which must not block (a shutdown), on the socket.
    pub(super) fn with_fd<R>(&self, call: impl FnOnce(BorrowedFd<'_>) -> R) -> io::Result<R> {
        let socket = self.socket.borrow();
        Ok(call(socket.as_ref().ok_or_else(lost)?.get_ref().as_fd()))
    }

    /// Replaces the registration with one that does or does not include
    /// writability, and wakes the reader so it waits on the new one.
    fn reregister(&self, with_writes: bool) -> io::Result<()> {
        let mut slot = self.socket.borrow_mut();
        let socket = slot.take().ok_or_else(lost)?.into_inner();
        let interest = if with_writes {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let result = match register(socket, interest) {
            Ok(registered) => {
                *slot = Some(registered);
                self.watching_writes.set(with_writes);
                Ok(())
            }
            Err(failure) => {
                let (socket, error) = failure.into_parts();
                // Reading on as before is still worth a try; if even that
                // fails, the socket is closed and both halves report it.
                *slot = register(socket, Interest::READABLE).ok();
                self.watching_writes.set(false);
                Err(error)
            }
        };
        if let Some(reader) = self.waiting_reader.borrow_mut().take() {
            reader.wake();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsRawFd, RawFd};
    use std::pin::pin;

    use futures::io::AsyncWriteExt;
    use futures::poll;

    use super::super::fd_stream;
    use crate::test_support::{run_local, stream_pair};

    const EPOLLOUT: u32 = libc::EPOLLOUT as u32;
    const EPOLLIN: u32 = libc::EPOLLIN as u32;

    /// The event masks under which `fd` sits in this process's epoll
    /// instances, as the kernel lists them in /proc/self/fdinfo.
    fn epoll_masks_of(fd: RawFd) -> Vec<u32> {
        let mut masks = Vec::new();
        for entry in std::fs::read_dir("/proc/self/fd").expect("listing /proc/self/fd") {
            let entry = entry.expect("an fd entry");
            // An fd closed since the listing began has no link left.
            let Ok(target) = std::fs::read_link(entry.path()) else {
                continue;
            };
            if target.as_os_str() != "anon_inode:[eventpoll]" {
                continue;
            }
            let info_path = format!("/proc/self/fdinfo/{}", entry.file_name().display());
            let Ok(info) = std::fs::read_to_string(info_path) else {
                continue;
            };
            // "tfd:        7 events:       19 data: ..."
            for line in info.lines() {
                let mut words = line.split_whitespace();
                if words.next() != Some("tfd:") {
                    continue;
                }
                let target_fd: RawFd = words.next().and_then(|w| w.parse().ok()).expect("tfd");
                if target_fd != fd {
                    continue;
                }
                assert_eq!(words.next(), Some("events:"), "fdinfo line {line}");
                let mask = words
                    .next()
                    .and_then(|w| u32::from_str_radix(w, 16).ok())
                    .expect("an events mask");
                masks.push(mask);
            }
        }
        masks
    }

    /// Whether the epoll registration of `fd` asks for writability. (mio
    /// holds its epoll instance under two fds, so it is listed twice.)
    fn watches_writes(fd: RawFd) -> bool {
        let masks = epoll_masks_of(fd);
        assert!(!masks.is_empty(), "fd {fd} is not registered");
        assert!(
            masks.iter().all(|mask| mask & EPOLLIN != 0),
            "fd {fd} registered as {masks:x?}, not always for reading"
        );
        masks.iter().any(|mask| mask & EPOLLOUT != 0)
    }

    #[test]
    fn a_stream_with_nothing_to_send_is_not_watched_for_writability() {
        run_local(async {
            let (left, right) = stream_pair();
            let left_fd = left.as_raw_fd();
            let (_, mut writer, _) = fd_stream(left).expect("sender stream");
            let (mut reader, _, _) = fd_stream(right).expect("receiver stream");
            assert!(!watches_writes(left_fd), "watched from the start");

            writer.write_all(b"a message").await.expect("write");
            writer.flush().await.expect("flush");
            let mut received = [0; 9];
            futures::io::AsyncReadExt::read_exact(&mut reader, &mut received)
                .await
                .expect("read");
            // The peer's read announced free buffer space on the left socket:
            // with writability watched, that would wake the process.
            assert!(!watches_writes(left_fd), "watched after a send");
        });
    }

    #[test]
    fn writability_is_watched_only_while_a_send_is_blocked() {
        run_local(async {
            let (left, right) = stream_pair();
            let left_fd = left.as_raw_fd();
            let (_, mut writer, _) = fd_stream(left).expect("sender stream");
            let (mut reader, _, _) = fd_stream(right).expect("receiver stream");
            let bytes = vec![7; 4 << 20];

            let mut send = pin!(async {
                writer.write_all(&bytes).await.expect("write");
                writer.flush().await.expect("flush");
            });
            assert!(poll!(&mut send).is_pending(), "4 MiB fit in the socket");
            assert!(watches_writes(left_fd), "a blocked send waits unwatched");

            let mut received = vec![0; bytes.len()];
            let receive = futures::io::AsyncReadExt::read_exact(&mut reader, &mut received);
            let ((), read) = futures::join!(send, receive);
            read.expect("read");
            assert!(received == bytes, "the bytes arrived changed");
            assert!(!watches_writes(left_fd), "still watched after the flush");
        });
    }
}
