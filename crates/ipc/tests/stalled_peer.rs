//! The fd stream's write path against a peer that stops reading: the writer
//! fills the socket buffer, waits for writability, and once the peer reads
//! again every message arrives, whole, in order, each with its own fd.
//!
//! Each message carries the read end of a new pipe whose write end holds the
//! message's number, so the receiver proves which fd came with which message
//! by reading it. The tests never sleep: "the buffer is full" is the writer
//! reporting Pending while the peer is not polled.

use std::future::Future;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::pin::pin;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::poll;
use slaacd_ipc::fdstream::{FdQueues, FdReader, FdWriter, fd_stream};

/// Enough messages of this size to fill any Unix socket buffer many times.
const MESSAGES: u64 = 256;
const BODY_BYTES: usize = 16 * 1024;

fn run_local<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

fn stream_pair() -> (OwnedFd, OwnedFd) {
    let (left, right) = std::os::unix::net::UnixStream::pair().expect("socketpair");
    (left.into(), right.into())
}

/// The read end of a pipe that yields `number` (the write end is closed).
fn numbered_fd(number: u64) -> OwnedFd {
    let (read_end, write_end) = std::io::pipe().expect("pipe");
    std::io::Write::write_all(&mut &write_end, &number.to_le_bytes()).expect("fill the pipe");
    read_end.into()
}

fn number_in(fd: OwnedFd) -> u64 {
    let mut bytes = [0; 8];
    std::io::PipeReader::from(fd)
        .read_exact(&mut bytes)
        .expect("read the number from the received pipe");
    u64::from_le_bytes(bytes)
}

/// Message `number`: the fd sequence number it claims, then its body.
fn message(seq: u64, number: u64) -> Vec<u8> {
    let mut message = Vec::with_capacity(16 + BODY_BYTES);
    message.extend_from_slice(&seq.to_le_bytes());
    message.extend_from_slice(&number.to_le_bytes());
    message.extend((0..BODY_BYTES).map(|i| (i as u64 ^ number) as u8));
    message
}

/// Writes every message with its fd, each in two pieces and one flush, as
/// capnp writes a segment table and its segments.
async fn send_all(writer: &mut FdWriter, queues: &FdQueues) {
    for number in 0..MESSAGES {
        let seq = queues.queue_outgoing(numbered_fd(number));
        let message = message(seq, number);
        writer
            .write_all(&message[..16])
            .await
            .expect("write header");
        writer.write_all(&message[16..]).await.expect("write body");
        writer.flush().await.expect("flush");
    }
}

/// Reads every message, checks its body and that its fd is its own.
async fn receive_all(reader: &mut FdReader, queues: &FdQueues) {
    for number in 0..MESSAGES {
        let mut header = [0; 16];
        reader.read_exact(&mut header).await.expect("read header");
        let seq = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
        let sent_number = u64::from_le_bytes(header[8..].try_into().expect("8 bytes"));
        assert_eq!(sent_number, number, "messages out of order");
        let mut body = vec![0; BODY_BYTES];
        reader.read_exact(&mut body).await.expect("read body");
        assert_eq!(body, message(seq, number)[16..], "body of message {number}");
        let fd = queues.take_incoming(seq).expect("the message's fd arrived");
        assert_eq!(
            number_in(fd),
            number,
            "message {number} came with another fd"
        );
    }
}

#[test]
fn a_peer_that_stops_reading_until_the_buffer_is_full_then_resumes_gets_everything() {
    run_local(async {
        let (left, right) = stream_pair();
        let (_, mut writer, sender_queues) = fd_stream(left).expect("sender stream");
        let (mut reader, _, receiver_queues) = fd_stream(right).expect("receiver stream");

        let mut send = pin!(send_all(&mut writer, &sender_queues));
        assert!(
            poll!(&mut send).is_pending(),
            "the socket buffer never filled: the test proves nothing"
        );
        // Still full: nothing but the peer reading can let the writer on.
        tokio::task::yield_now().await;
        assert!(
            poll!(&mut send).is_pending(),
            "the writer went on into a full buffer"
        );

        futures::join!(send, receive_all(&mut reader, &receiver_queues));
    });
}

#[test]
fn both_directions_stall_and_resume_independently() {
    run_local(async {
        let (left, right) = stream_pair();
        let (mut left_reader, mut left_writer, left_queues) = fd_stream(left).expect("left");
        let (mut right_reader, mut right_writer, right_queues) = fd_stream(right).expect("right");

        // Both writers fill their buffers while neither side reads; a reader
        // already waiting when its socket's registration changes must still
        // be woken by the data that follows.
        let mut left_to_right = pin!(send_all(&mut left_writer, &left_queues));
        let mut right_to_left = pin!(send_all(&mut right_writer, &right_queues));
        let mut left_receives = pin!(receive_all(&mut left_reader, &left_queues));
        assert!(poll!(&mut left_receives).is_pending());
        assert!(poll!(&mut left_to_right).is_pending(), "left never filled");
        assert!(poll!(&mut right_to_left).is_pending(), "right never filled");

        futures::join!(
            left_to_right,
            right_to_left,
            left_receives,
            receive_all(&mut right_reader, &right_queues)
        );
    });
}
