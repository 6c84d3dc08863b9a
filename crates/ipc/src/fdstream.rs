//! A byte stream over a Unix stream socket that carries file descriptors as
//! SCM_RIGHTS beside the bytes, as futures-io `AsyncRead`/`AsyncWrite` halves
//! for capnp-rpc on a tokio current-thread runtime.
//!
//! The writer gathers the pieces of a message (capnp writes its segment
//! table and its segments separately) and sends them on flush with one
//! `sendmsg`: a message costs one system call and one wake-up of the peer,
//! not two. A send is tried at once; the socket is watched for writability
//! only while a send is blocked, so the peer reading what was sent does not
//! wake this process (fdstream/registration.rs). Fds queued with
//! [`FdQueues::queue_outgoing`] ride on the next `sendmsg`; received fds
//! (close-on-exec) wait in the same [`FdQueues`] until a call takes them by
//! sequence number. A peer that attaches more fds to one message than
//! [`MAX_FDS_PER_MESSAGE`], floods unclaimed fds or sends other control data
//! fails the stream for good. The stream must never leave a
//! received fd without an owner, never attach fds to an empty write (a stream
//! socket drops them), never let a message's bytes go out before its fds, and
//! never keep written bytes back past a flush.

mod ancillary;
mod queues;
mod registration;

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use futures::io::{AsyncRead, AsyncWrite};

use registration::Registration;

pub use queues::{FdQueues, MAX_UNCLAIMED_FDS, ProtocolError, TakeFdError};

/// The most fds one write carries, and so the most one read accepts.
pub const MAX_FDS_PER_MESSAGE: usize = 8;

/// Bytes the writer gathers before it sends them without waiting for a
/// flush; a write at least this large goes to the kernel directly.
pub const WRITE_BUFFER: usize = 64 * 1024;

/// Why a socket could not be made into an fd stream.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("inspecting the channel socket: {0}")]
    Inspect(#[source] io::Error),
    #[error("the channel fd is not a Unix stream socket")]
    NotUnixStream,
    #[error("the channel socket needs a tokio runtime; none is running on this thread")]
    NoRuntime,
    #[error("registering the channel socket with tokio: {0}")]
    Register(#[source] io::Error),
}

/// The reading half: bytes to the caller, fds to the queues.
pub struct FdReader {
    shared: Rc<Shared>,
}

/// The writing half: bytes from the caller, gathered until a flush (or
/// [`WRITE_BUFFER`]) and sent with the queued fds attached.
pub struct FdWriter {
    shared: Rc<Shared>,
    /// Written by the caller, not yet sent; `pending[sent..]` is what is left.
    pending: Vec<u8>,
    sent: usize,
}

struct Shared {
    socket: Registration,
    queues: Rc<FdQueues>,
}

/// Splits a connected Unix stream socket into an fd-carrying reader and
/// writer and the queues they share. Must run inside a tokio runtime.
pub fn fd_stream(socket: OwnedFd) -> Result<(FdReader, FdWriter, Rc<FdQueues>), OpenError> {
    if !crate::socket_kind::is_unix_stream(socket.as_fd()).map_err(OpenError::Inspect)? {
        return Err(OpenError::NotUnixStream);
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(OpenError::NoRuntime);
    }
    let socket = std::os::unix::net::UnixStream::from(socket);
    socket.set_nonblocking(true).map_err(OpenError::Register)?;
    let socket = Registration::new(socket.into()).map_err(OpenError::Register)?;
    let queues = Rc::new(FdQueues::default());
    let shared = Rc::new(Shared {
        socket,
        queues: Rc::clone(&queues),
    });
    Ok((
        FdReader {
            shared: Rc::clone(&shared),
        },
        FdWriter {
            shared,
            pending: Vec::new(),
            sent: 0,
        },
        queues,
    ))
}

fn protocol_error(error: ProtocolError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

impl AsyncRead for FdReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let shared = &*self.shared;
        if let Some(failure) = shared.queues.failure() {
            return Poll::Ready(Err(protocol_error(failure)));
        }
        let received = ready!(
            shared
                .socket
                .poll_read_with(cx, |socket| ancillary::receive(socket, buf))
        )?;
        let verdict = if received.truncated {
            Err(shared.queues.fail(ProtocolError::ControlTruncated))
        } else if let Some((level, kind)) = received.unexpected {
            Err(shared
                .queues
                .fail(ProtocolError::UnexpectedControlMessage { level, kind }))
        } else {
            shared.queues.accept_incoming(received.fds)
        };
        Poll::Ready(verdict.map(|()| received.bytes).map_err(protocol_error))
    }
}

impl FdWriter {
    /// Sends `bytes` with the next batch of queued fds; how many bytes the
    /// kernel took. While more fds wait than one `sendmsg` carries, only one
    /// byte goes with each batch, so the bytes never outrun their fds.
    fn poll_send(&self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        let shared = &*self.shared;
        let (written, fds_sent) = ready!(shared.socket.poll_write_with(cx, |socket| {
            let fds = shared.queues.next_outgoing_batch();
            let bytes = if shared.queues.outgoing_len() > fds.len() {
                &bytes[..1]
            } else {
                bytes
            };
            ancillary::send(socket, bytes, &fds).map(|written| (written, fds.len()))
        }))?;
        // Even a partial write delivered every attached fd.
        shared.queues.mark_sent(fds_sent);
        Poll::Ready(Ok(written))
    }

    /// Sends everything gathered so far; then writability is of no more
    /// interest until a send blocks again.
    fn poll_send_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let written = ready!(self.poll_send(cx, &self.pending[self.sent..]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += written;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(self.shared.socket.writes_done())
    }
}

impl AsyncWrite for FdWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this = &mut *self;
        if this.pending.len() + buf.len() > WRITE_BUFFER {
            ready!(this.poll_send_pending(cx))?;
            if buf.len() >= WRITE_BUFFER {
                return this.poll_send(cx, buf);
            }
        }
        this.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_send_pending(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_pending(cx))?;
        let shutdown = self.shared.socket.with_fd(|socket| {
            nix::sys::socket::shutdown(socket.as_raw_fd(), nix::sys::socket::Shutdown::Write)
        })?;
        Poll::Ready(shutdown.map_err(io::Error::from))
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::RawFd;

    use futures::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::test_support::{PipeProbe, has_cloexec, run_local, stream_pair};

    const MIB: usize = 1 << 20;

    /// A test message: the sequence number of the fd it claims (0: none) and
    /// a body of `len` bytes derived from that number.
    fn frame(seq: u64, len: usize) -> Vec<u8> {
        let mut frame = Vec::with_capacity(16 + len);
        frame.extend_from_slice(&seq.to_le_bytes());
        frame.extend_from_slice(&(len as u64).to_le_bytes());
        frame.extend((0..len).map(|i| (i as u64).wrapping_add(seq) as u8));
        frame
    }

    async fn read_frame(reader: &mut FdReader) -> io::Result<u64> {
        let mut header = [0; 16];
        reader.read_exact(&mut header).await?;
        let seq = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(header[8..].try_into().expect("8 bytes")) as usize;
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await?;
        assert_eq!(
            frame(seq, len)[16..],
            body[..],
            "body of message for fd #{seq}"
        );
        Ok(seq)
    }

    #[test]
    fn fds_keep_their_order_across_mib_messages_and_partial_writes() {
        run_local(async {
            let (left, right) = stream_pair();
            let (_, mut writer, sender_queues) = fd_stream(left).expect("sender stream");
            let (mut reader, _, receiver_queues) = fd_stream(right).expect("receiver stream");
            let mut probes = Vec::new();
            let send = async {
                let mut partial_writes = 0;
                for index in 0..20 {
                    let (probe, read_end) = PipeProbe::new();
                    probes.push(probe);
                    let seq = sender_queues.queue_outgoing(read_end);
                    assert_eq!(seq, index + 1);
                    let message = frame(seq, if index % 2 == 0 { 4 * MIB } else { 100 });
                    let written = writer.write(&message).await.expect("write");
                    if written < message.len() {
                        partial_writes += 1;
                    }
                    writer
                        .write_all(&message[written..])
                        .await
                        .expect("write the rest");
                    writer.flush().await.expect("flush");
                }
                partial_writes
            };
            let receive = async {
                let mut fds = Vec::new();
                for _ in 0..20 {
                    let seq = read_frame(&mut reader).await.expect("read message");
                    fds.push(
                        receiver_queues
                            .take_incoming(seq)
                            .expect("take the message's fd"),
                    );
                }
                fds
            };
            let (partial_writes, fds) = futures::join!(send, receive);
            assert!(
                partial_writes >= 10,
                "every MiB message needs several writes"
            );
            for (index, (probe, fd)) in probes.iter().zip(&fds).enumerate() {
                assert!(
                    probe.is_read_end(fd),
                    "fd #{} arrived out of order",
                    index + 1
                );
                assert!(has_cloexec(fd), "fd #{} lacks FD_CLOEXEC", index + 1);
            }
        });
    }

    #[test]
    fn an_orphaned_fd_does_not_shift_later_ones() {
        run_local(async {
            let (left, right) = stream_pair();
            let (_, mut writer, sender_queues) = fd_stream(left).expect("sender stream");
            let (mut reader, _, receiver_queues) = fd_stream(right).expect("receiver stream");
            let (orphan, orphan_read) = PipeProbe::new();
            let (claimed, claimed_read) = PipeProbe::new();
            // The orphan's message is never written; its fd rides on the next one.
            sender_queues.queue_outgoing(orphan_read);
            let seq = sender_queues.queue_outgoing(claimed_read);
            writer.write_all(&frame(seq, 10)).await.expect("write");
            writer.flush().await.expect("flush");

            let seq = read_frame(&mut reader).await.expect("read");
            let fd = receiver_queues.take_incoming(seq).expect("take");
            assert!(claimed.is_read_end(&fd));
            assert!(
                orphan.read_ends_all_closed(),
                "the orphan must be closed, not kept"
            );
        });
    }

    fn protocol_error_of(error: &io::Error) -> Option<ProtocolError> {
        error.get_ref()?.downcast_ref::<ProtocolError>().copied()
    }

    /// Attaches `count` probe fds to one raw write of `payload` on `socket`.
    fn send_raw(socket: &OwnedFd, payload: &[u8], count: usize) -> Vec<PipeProbe> {
        let (probes, read_ends): (Vec<_>, Vec<_>) = (0..count).map(|_| PipeProbe::new()).unzip();
        let raws: Vec<RawFd> = read_ends.iter().map(AsRawFd::as_raw_fd).collect();
        ancillary::send(socket.as_fd(), payload, &raws).expect("raw send");
        probes
    }

    #[test]
    fn an_fd_flood_fails_the_stream_and_leaks_nothing() {
        run_local(async {
            let (flooder, right) = stream_pair();
            let (mut reader, _, queues) = fd_stream(right).expect("receiver stream");
            let messages = MAX_UNCLAIMED_FDS / MAX_FDS_PER_MESSAGE + 1;
            let probes: Vec<_> = (0..messages)
                .flat_map(|_| send_raw(&flooder, b"f", MAX_FDS_PER_MESSAGE))
                .collect();

            let mut buf = [0; 64];
            let error = loop {
                match reader.read(&mut buf).await {
                    Ok(0) => panic!("end of stream before the flood was noticed"),
                    Ok(_) => continue,
                    Err(error) => break error,
                }
            };
            assert_eq!(
                protocol_error_of(&error),
                Some(ProtocolError::TooManyUnclaimed)
            );
            assert!(
                probes.iter().all(PipeProbe::read_ends_all_closed),
                "an fd leaked"
            );
            let again = reader
                .read(&mut buf)
                .await
                .expect_err("the failure is sticky");
            assert_eq!(
                protocol_error_of(&again),
                Some(ProtocolError::TooManyUnclaimed)
            );
            assert_eq!(
                queues.take_incoming(1).err(),
                Some(TakeFdError::ChannelFailed(ProtocolError::TooManyUnclaimed))
            );
        });
    }

    #[test]
    fn truncated_control_data_fails_the_stream_and_leaks_nothing() {
        run_local(async {
            let (peer, right) = stream_pair();
            let (mut reader, _, _) = fd_stream(right).expect("receiver stream");
            let probes = send_raw(&peer, b"t", MAX_FDS_PER_MESSAGE + 1);
            let mut buf = [0; 8];
            let error = reader
                .read(&mut buf)
                .await
                .expect_err("truncation is an error");
            assert_eq!(
                protocol_error_of(&error),
                Some(ProtocolError::ControlTruncated)
            );
            assert!(
                probes.iter().all(PipeProbe::read_ends_all_closed),
                "an fd leaked"
            );
        });
    }

    /// Receives once from a raw socket without blocking: what one `recvmsg`
    /// got (nothing when no bytes are waiting).
    fn receive_once(socket: &OwnedFd) -> Vec<u8> {
        let mut buf = vec![0; 1 << 16];
        match nix::sys::socket::recv(
            socket.as_raw_fd(),
            &mut buf,
            nix::sys::socket::MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(len) => buf[..len].to_vec(),
            Err(nix::errno::Errno::EAGAIN) => Vec::new(),
            Err(errno) => panic!("receiving from the raw peer: {errno}"),
        }
    }

    #[test]
    fn a_message_written_in_pieces_leaves_in_one_send_at_the_flush() {
        run_local(async {
            let (left, peer) = stream_pair();
            let (_, mut writer, _) = fd_stream(left).expect("sender stream");
            writer.write_all(b"segment table ").await.expect("write");
            writer.write_all(b"segments").await.expect("write");
            assert!(
                receive_once(&peer).is_empty(),
                "bytes left before the flush"
            );
            writer.flush().await.expect("flush");
            assert_eq!(receive_once(&peer), b"segment table segments");
        });
    }

    #[test]
    fn more_fds_than_one_send_carries_arrive_before_their_message_ends() {
        run_local(async {
            let (left, right) = stream_pair();
            let (_, mut writer, sender_queues) = fd_stream(left).expect("sender stream");
            let (mut reader, _, receiver_queues) = fd_stream(right).expect("receiver stream");
            let count = 3 * MAX_FDS_PER_MESSAGE + 1;
            let mut probes = Vec::new();
            let mut last = 0;
            for _ in 0..count {
                let (probe, read_end) = PipeProbe::new();
                probes.push(probe);
                last = sender_queues.queue_outgoing(read_end);
            }
            // Short enough that every byte would fit in the first send.
            writer.write_all(&frame(last, 40)).await.expect("write");
            writer.flush().await.expect("flush");

            assert_eq!(read_frame(&mut reader).await.expect("read"), last);
            for (seq, probe) in (1..).zip(&probes) {
                let fd = receiver_queues
                    .take_incoming(seq)
                    .expect("every fd arrived with the message");
                assert!(probe.is_read_end(&fd), "fd #{seq} is another fd");
            }
        });
    }

    #[test]
    fn closing_the_writer_ends_the_peers_stream() {
        run_local(async {
            let (left, right) = stream_pair();
            let (_, mut writer, _) = fd_stream(left).expect("sender stream");
            let (mut reader, _, _) = fd_stream(right).expect("receiver stream");
            writer.write_all(b"last words").await.expect("write");
            writer.close().await.expect("close");
            let mut everything = Vec::new();
            reader
                .read_to_end(&mut everything)
                .await
                .expect("read to the end");
            assert_eq!(everything, b"last words");
        });
    }

    #[test]
    fn only_unix_stream_sockets_inside_a_runtime_are_accepted() {
        let (read_end, _write_end) = nix::unistd::pipe().expect("pipe");
        run_local(async {
            assert!(matches!(fd_stream(read_end), Err(OpenError::NotUnixStream)));
        });
        let (socket, _peer) = stream_pair();
        assert!(matches!(fd_stream(socket), Err(OpenError::NoRuntime)));
    }
}
