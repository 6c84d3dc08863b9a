//! The two-party Cap'n Proto RPC network of one channel, written for the fd
//! stream: messages the RPC system queues while the writer is busy (a burst
//! of calls, or the returns of a burst) leave together in one write and one
//! flush, so the peer reads them with one system call and one wake-up; and
//! a message starts with a small first segment instead of the RPC system's
//! 8 KiB guess, growing only when its content needs it.
//!
//! It behaves as capnp-rpc's own two-party network does otherwise: one
//! connection, to the peer; messages leave in the order they were sent; a
//! shutdown sends everything queued before it; the network's driver ends once
//! the writer is done and the connection is dropped. It must never reorder
//! messages, never hold a written message back once the queue is empty, and
//! never read more than one message per receive.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use capnp::Error;
use capnp::capability::Promise;
use capnp::message::{Builder, HeapAllocator, ReaderOptions};
use capnp_rpc::rpc_twoparty_capnp::Side;
use futures::channel::{mpsc, oneshot};
use futures::future::Shared;
use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use futures::{FutureExt, StreamExt, TryFutureExt};

/// The most words a message's first segment starts with. Calls and returns
/// between slaacd's processes mostly fit; a larger one (a report) gets more
/// segments as it grows. 512 bytes stays below the size from which glibc's
/// malloc sorts its free lists on every allocation.
pub const FIRST_SEGMENT_WORDS: u32 = 64;

/// The batch buffer the writer keeps between batches; more is given back.
const KEPT_BATCH_BYTES: usize = 64 * 1024;

type Message = Rc<Builder<HeapAllocator>>;

/// What the writer is asked to do, in order.
enum Item {
    Send(Message, oneshot::Sender<()>),
    /// Send what came before, then stop with this result.
    Shutdown(capnp::Result<()>, oneshot::Sender<()>),
}

/// A [`capnp_rpc::VatNetwork`] with one connection, to the peer on the
/// other side of a stream.
pub struct Network<R: AsyncRead + Unpin + 'static> {
    /// Handed out once, by `accept`.
    connection: Option<Connection<R>>,
    /// For `connect`, while the connection lives.
    connection_state: Weak<RefCell<ConnectionState<R>>>,
    driver: Shared<Promise<(), Error>>,
    side: Side,
}

impl<R: AsyncRead + Unpin + 'static> Network<R> {
    /// Reads messages from `input` (buffer it: one message is read at a
    /// time) and writes them to `output` in batches, flushing once per batch.
    /// `side` is this end's side.
    pub fn new<W: AsyncWrite + Unpin + 'static>(
        input: R,
        output: W,
        side: Side,
        options: ReaderOptions,
    ) -> Self {
        let (queue, items) = mpsc::unbounded();
        let (disconnected, on_disconnect) = oneshot::channel();
        let writer = write_batches(output, items);
        // The driver ends when the writer has finished and the connection is
        // gone, with the writer's result.
        let driver =
            Promise::from_future(writer.then(move |result| on_disconnect.map(move |_| result)))
                .shared();
        let state = Rc::new(RefCell::new(ConnectionState {
            input: Rc::new(RefCell::new(Some(input))),
            queue,
            peer: match side {
                Side::Client => Side::Server,
                Side::Server => Side::Client,
            },
            options,
            disconnected: Some(disconnected),
        }));
        Network {
            connection_state: Rc::downgrade(&state),
            connection: Some(Connection { state }),
            driver,
            side,
        }
    }
}

impl<R: AsyncRead + Unpin + 'static> capnp_rpc::VatNetwork<Side> for Network<R> {
    fn connect(&mut self, host_id: Side) -> Option<Box<dyn capnp_rpc::Connection<Side>>> {
        if host_id == self.side {
            return None;
        }
        // Once the connection is gone there is no peer left to reach.
        let state = self.connection_state.upgrade()?;
        Some(Box::new(Connection { state }))
    }

    fn accept(&mut self) -> Promise<Box<dyn capnp_rpc::Connection<Side>>, Error> {
        match self.connection.take() {
            Some(connection) => Promise::ok(Box::new(connection)),
            // Two parties: nobody else ever connects.
            None => Promise::from_future(futures::future::pending()),
        }
    }

    fn drive_until_shutdown(&mut self) -> Promise<(), Error> {
        Promise::from_future(self.driver.clone())
    }
}

struct ConnectionState<R> {
    /// Taken by the receive in progress and put back when it has a message.
    input: Rc<RefCell<Option<R>>>,
    queue: mpsc::UnboundedSender<Item>,
    peer: Side,
    options: ReaderOptions,
    /// Fired when the last handle on the connection goes.
    disconnected: Option<oneshot::Sender<()>>,
}

impl<R> Drop for ConnectionState<R> {
    fn drop(&mut self) {
        if let Some(disconnected) = self.disconnected.take() {
            let _ = disconnected.send(());
        }
    }
}

struct Connection<R> {
    state: Rc<RefCell<ConnectionState<R>>>,
}

impl<R: AsyncRead + Unpin + 'static> capnp_rpc::Connection<Side> for Connection<R> {
    fn get_peer_vat_id(&self) -> Side {
        self.state.borrow().peer
    }

    fn new_outgoing_message(
        &mut self,
        first_segment_word_size: u32,
    ) -> Box<dyn capnp_rpc::OutgoingMessage> {
        let words = first_segment_word_size.clamp(1, FIRST_SEGMENT_WORDS);
        Box::new(OutgoingMessage {
            message: Builder::new(HeapAllocator::new().first_segment_words(words)),
            queue: self.state.borrow().queue.clone(),
        })
    }

    fn receive_incoming_message(
        &mut self,
    ) -> Promise<Option<Box<dyn capnp_rpc::IncomingMessage>>, Error> {
        let state = self.state.borrow();
        let slot = Rc::clone(&state.input);
        let options = state.options;
        let Some(mut input) = slot.borrow_mut().take() else {
            return Promise::err(Error::failed(
                "a second receive started while one was in progress".into(),
            ));
        };
        Promise::from_future(async move {
            let message = capnp_futures::serialize::try_read_message(&mut input, options).await?;
            *slot.borrow_mut() = Some(input);
            Ok(message.map(|message| {
                Box::new(IncomingMessage { message }) as Box<dyn capnp_rpc::IncomingMessage>
            }))
        })
    }

    fn shutdown(&mut self, result: capnp::Result<()>) -> Promise<(), Error> {
        let (done, finished) = oneshot::channel();
        let queued = self
            .state
            .borrow()
            .queue
            .unbounded_send(Item::Shutdown(result, done));
        if queued.is_err() {
            return Promise::ok(());
        }
        Promise::from_future(finished.map_err(|_| writer_gone()))
    }
}

struct OutgoingMessage {
    message: Builder<HeapAllocator>,
    queue: mpsc::UnboundedSender<Item>,
}

impl capnp_rpc::OutgoingMessage for OutgoingMessage {
    fn get_body(&mut self) -> capnp::Result<capnp::any_pointer::Builder<'_>> {
        self.message.get_root()
    }

    fn get_body_as_reader(&self) -> capnp::Result<capnp::any_pointer::Reader<'_>> {
        self.message.get_root_as_reader()
    }

    fn send(self: Box<Self>) -> (Promise<(), Error>, Message) {
        let message = Rc::new(self.message);
        let (done, sent) = oneshot::channel();
        let promise = match self
            .queue
            .unbounded_send(Item::Send(Rc::clone(&message), done))
        {
            Ok(()) => Promise::from_future(sent.map_err(|_| writer_gone())),
            Err(_) => Promise::err(writer_gone()),
        };
        (promise, message)
    }

    fn take(self: Box<Self>) -> Builder<HeapAllocator> {
        self.message
    }

    fn size_in_words(&self) -> usize {
        self.message.size_in_words()
    }
}

struct IncomingMessage {
    message: capnp::message::Reader<capnp::serialize::OwnedSegments>,
}

impl capnp_rpc::IncomingMessage for IncomingMessage {
    fn get_body(&self) -> capnp::Result<capnp::any_pointer::Reader<'_>> {
        self.message.get_root()
    }
}

fn writer_gone() -> Error {
    Error::disconnected("the channel's writer has stopped".into())
}

/// Writes queued messages in order: everything queued by the end of the
/// process's turn in which the first was queued goes out with one flush. Ends when every sender is gone or at a
/// shutdown (with its result), or at the first write error.
async fn write_batches<W: AsyncWrite + Unpin>(
    mut output: W,
    mut items: mpsc::UnboundedReceiver<Item>,
) -> capnp::Result<()> {
    let mut bytes = Vec::new();
    let mut written = Vec::new();
    while let Some(first) = items.next().await {
        // Let the rest of this turn of the process run first: the other
        // answers to a burst of calls are queued then and join this batch.
        tokio::task::yield_now().await;
        let mut shutdown = None;
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Item::Send(message, done) => {
                    capnp::serialize::write_message(&mut bytes, &*message)?;
                    written.push(done);
                    // Whatever else is already queued joins this batch.
                    next = items.try_recv().ok();
                }
                Item::Shutdown(result, done) => shutdown = Some((result, done)),
            }
        }
        if !bytes.is_empty() {
            output.write_all(&bytes).await?;
            output.flush().await?;
            bytes.clear();
            // A rare large batch (a long report) does not stay allocated.
            bytes.shrink_to(KEPT_BATCH_BYTES);
        }
        for done in written.drain(..) {
            let _ = done.send(());
        }
        if let Some((result, done)) = shutdown {
            let _ = done.send(());
            return result;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use capnp_rpc::RpcSystem;
    use futures::io::BufReader;

    use super::*;
    use crate::fdstream::{FdReader, fd_stream};
    use crate::slaacd_capnp::logging;
    use crate::test_support::{run_local, stream_pair};

    /// Records every verbosity it is told, in order.
    struct Recorder {
        seen: Rc<RefCell<Vec<u8>>>,
    }

    impl logging::Server for Recorder {
        fn set_verbosity(
            self: Rc<Self>,
            params: logging::SetVerbosityParams,
            _: logging::SetVerbosityResults,
        ) -> impl Future<Output = Result<(), Error>> + 'static {
            let result = params
                .get()
                .map(|params| self.seen.borrow_mut().push(params.get_verbosity()));
            futures::future::ready(result)
        }
    }

    fn network(socket: std::os::fd::OwnedFd, side: Side) -> Network<BufReader<FdReader>> {
        let (reader, writer, _) = fd_stream(socket).expect("fd stream");
        Network::new(BufReader::new(reader), writer, side, ReaderOptions::new())
    }

    /// An output that keeps what it is given and counts its flushes.
    #[derive(Default)]
    struct Recording {
        bytes: Vec<u8>,
        flushes: usize,
    }

    impl AsyncWrite for Recording {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.bytes.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn text_message(text: &str) -> Builder<HeapAllocator> {
        let mut message = Builder::new_default();
        message
            .set_root::<capnp::text::Owned>(text)
            .expect("setting the root");
        message
    }

    fn serialized(texts: &[&str]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for text in texts {
            capnp::serialize::write_message(&mut bytes, &text_message(text)).expect("serialize");
        }
        bytes
    }

    #[test]
    fn a_burst_of_calls_is_answered_in_order() {
        run_local(async {
            let (client_end, server_end) = stream_pair();
            let seen = Rc::new(RefCell::new(Vec::new()));
            let server: logging::Client = capnp_rpc::new_client(Recorder {
                seen: Rc::clone(&seen),
            });
            let server_rpc = RpcSystem::new(
                Box::new(network(server_end, Side::Server)),
                Some(server.client),
            );
            let mut client_rpc = RpcSystem::new(Box::new(network(client_end, Side::Client)), None);
            let logging: logging::Client = client_rpc.bootstrap(Side::Server);
            tokio::task::spawn_local(server_rpc);
            tokio::task::spawn_local(client_rpc);

            let calls: Vec<_> = (0..200u8)
                .map(|verbosity| {
                    let mut request = logging.set_verbosity_request();
                    request.get().set_verbosity(verbosity);
                    request.send().promise
                })
                .collect();
            for reply in futures::future::join_all(calls).await {
                reply.expect("every call is answered");
            }
            assert_eq!(*seen.borrow(), (0..200).collect::<Vec<u8>>());
        });
    }

    #[test]
    fn messages_queued_together_leave_with_one_flush_in_order() {
        run_local(async {
            let (queue, items) = mpsc::unbounded();
            let mut sent = Vec::new();
            for text in ["one", "two", "three"] {
                let (done, was_sent) = oneshot::channel();
                queue
                    .unbounded_send(Item::Send(Rc::new(text_message(text)), done))
                    .expect("queue");
                sent.push(was_sent);
            }
            drop(queue);
            let mut output = Recording::default();
            write_batches(&mut output, items).await.expect("write");
            assert_eq!(output.flushes, 1, "one batch, one flush");
            assert_eq!(output.bytes, serialized(&["one", "two", "three"]));
            for was_sent in sent {
                was_sent.await.expect("every message is reported sent");
            }
        });
    }

    #[test]
    fn a_shutdown_sends_what_was_queued_before_it_and_ends_the_writer() {
        run_local(async {
            let (queue, items) = mpsc::unbounded();
            let (done, _sent) = oneshot::channel();
            queue
                .unbounded_send(Item::Send(Rc::new(text_message("last")), done))
                .expect("queue");
            let (done, finished) = oneshot::channel();
            queue
                .unbounded_send(Item::Shutdown(Err(Error::failed("stop".into())), done))
                .expect("queue");
            let (late, _) = oneshot::channel();
            queue
                .unbounded_send(Item::Send(Rc::new(text_message("late")), late))
                .expect("queue");
            let mut output = Recording::default();
            let result = write_batches(&mut output, items).await;
            assert!(result.is_err(), "the shutdown's result is the writer's");
            finished.await.expect("the shutdown is confirmed");
            assert_eq!(
                output.bytes,
                serialized(&["last"]),
                "nothing after the shutdown"
            );
        });
    }
}
