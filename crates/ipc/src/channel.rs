//! Everything a process needs to run Cap'n Proto RPC over an fd-carrying
//! socket: the RPC system on the fd stream, and helpers that put an fd into an
//! `Fd` parameter and take it out again on the other side.
//!
//! A method that receives an fd takes it with [`take_fd`] before its first
//! `.await` (in the synchronous part of the method, outside the returned
//! future): calls are dispatched in arrival order, and taking an fd closes the
//! older unclaimed ones. At most
//! [`MAX_UNCLAIMED_FDS`](crate::fdstream::MAX_UNCLAIMED_FDS) fds may be in flight
//! unclaimed: a sender must not pipeline more fd-carrying calls than that
//! without awaiting replies (the receiver reads ahead of dispatch and treats
//! the excess as a flood). This module must never create sockets or spawn
//! tasks itself; the caller decides where the RPC system runs.

use std::os::fd::OwnedFd;
use std::rc::Rc;

use capnp::message::ReaderOptions;
use capnp_rpc::RpcSystem;
use capnp_rpc::rpc_twoparty_capnp::Side;
use futures::io::BufReader;

use crate::fdstream::{FdQueues, OpenError, fd_stream};
use crate::network::Network;
use crate::slaacd_capnp::fd;

/// One end of an RPC connection: the RPC system to spawn (it resolves when the
/// connection ends) and the fd queues its methods send and take fds through.
pub struct Channel {
    pub rpc: RpcSystem<Side>,
    pub queues: Rc<FdQueues>,
}

impl Channel {
    /// Runs capnp-rpc over `socket`, a connected Unix stream socket.
    ///
    /// `bootstrap` makes the capability this end serves (or `None`); it gets
    /// the queues because a service that receives fds needs them. The peer
    /// reaches it with `rpc.bootstrap(side)`, `side` being this end's side:
    /// [`Side::Server`] on the serving end, [`Side::Client`] on the other
    /// (both ends may serve one). Must run inside a tokio runtime; the RPC
    /// system must be spawned on a `LocalSet` (it is `!Send`).
    pub fn open(
        socket: OwnedFd,
        side: Side,
        bootstrap: impl FnOnce(&Rc<FdQueues>) -> Option<capnp::capability::Client>,
    ) -> Result<Self, OpenError> {
        let (reader, writer, queues) = fd_stream(socket)?;
        let network = Network::new(BufReader::new(reader), writer, side, ReaderOptions::new());
        let rpc = RpcSystem::new(Box::new(network), bootstrap(&queues));
        Ok(Self { rpc, queues })
    }
}

/// Queues `fd` to travel with the call whose `Fd` parameter `param` is. Call
/// it before sending the request.
pub fn send_fd(queues: &FdQueues, fd: OwnedFd, mut param: fd::Builder<'_>) {
    param.set_seq(queues.queue_outgoing(fd));
}

/// Takes the fd a received call's `Fd` parameter names.
pub fn take_fd(queues: &FdQueues, param: fd::Reader<'_>) -> Result<OwnedFd, capnp::Error> {
    queues.take_incoming(param.get_seq()).map_err(|error| {
        capnp::Error::failed(format!("taking a file descriptor from the call: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::future::Future;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    use super::*;
    use crate::slaacd_capnp::engine_main;
    use crate::test_support::{run_local, stream_pair};

    /// An engine stand-in whose `start` writes the first eight bytes of the
    /// secret key through the frontend channel it received.
    struct EchoingEngine {
        queues: Rc<FdQueues>,
        starts: Rc<Cell<usize>>,
    }

    impl engine_main::Server for EchoingEngine {
        fn start(
            self: Rc<Self>,
            params: engine_main::StartParams,
            _results: engine_main::StartResults,
        ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
            // Take the fd now, in dispatch order, not in the future.
            let taken = params.get().and_then(|params| {
                let channel = take_fd(&self.queues, params.get_frontend_channel()?)?;
                Ok((
                    channel,
                    params
                        .get_secret_key()?
                        .get(..8)
                        .unwrap_or_default()
                        .to_vec(),
                ))
            });
            async move {
                let (channel, key_start) = taken?;
                UnixStream::from(channel)
                    .write_all(&key_start)
                    .map_err(|error| {
                        capnp::Error::failed(format!("writing to the frontend channel: {error}"))
                    })?;
                self.starts.set(self.starts.get() + 1);
                Ok(())
            }
        }
    }

    /// Connects a client to an `EchoingEngine` and returns the client, the
    /// client's fd queues and the engine's count of successful starts.
    fn connect() -> (engine_main::Client, Rc<FdQueues>, Rc<Cell<usize>>) {
        let (client_end, server_end) = stream_pair();
        let starts = Rc::new(Cell::new(0));
        let engine_starts = Rc::clone(&starts);
        let server = Channel::open(server_end, Side::Server, |queues| {
            let engine = EchoingEngine {
                queues: Rc::clone(queues),
                starts: engine_starts,
            };
            Some(capnp_rpc::new_client::<engine_main::Client, _>(engine).client)
        })
        .expect("server channel");
        let mut client = Channel::open(client_end, Side::Client, |_| None).expect("client channel");
        let engine: engine_main::Client = client.rpc.bootstrap(Side::Server);
        tokio::task::spawn_local(server.rpc);
        tokio::task::spawn_local(client.rpc);
        (engine, client.queues, starts)
    }

    fn key(index: u64, len: usize) -> Vec<u8> {
        let mut key = index.to_le_bytes().to_vec();
        key.resize(len, 0xa5);
        key
    }

    fn read_index(end: &mut UnixStream) -> u64 {
        let mut bytes = [0; 8];
        end.read_exact(&mut bytes)
            .expect("reading what the engine wrote");
        u64::from_le_bytes(bytes)
    }

    #[test]
    fn start_receives_the_socket_the_client_sent() {
        run_local(async {
            let (engine, queues, starts) = connect();
            let (ours, theirs) = stream_pair();
            let mut request = engine.start_request();
            request.get().set_secret_key(&key(7, 32));
            send_fd(&queues, theirs, request.get().init_frontend_channel());
            request.send().promise.await.expect("start");
            assert_eq!(read_index(&mut UnixStream::from(ours)), 7);
            assert_eq!(starts.get(), 1);
        });
    }

    #[test]
    fn pipelined_calls_with_mib_keys_each_get_their_own_fd() {
        run_local(async {
            let (engine, queues, starts) = connect();
            let mut ours = Vec::new();
            let mut replies = Vec::new();
            for index in 0..24 {
                let (mine, theirs) = stream_pair();
                ours.push(UnixStream::from(mine));
                let mut request = engine.start_request();
                let key_len = if index % 3 == 0 { 2 << 20 } else { 16 };
                request.get().set_secret_key(&key(index, key_len));
                send_fd(&queues, theirs, request.get().init_frontend_channel());
                replies.push(request.send().promise);
            }
            for reply in futures::future::join_all(replies).await {
                reply.expect("start");
            }
            for (index, end) in ours.iter_mut().enumerate() {
                assert_eq!(
                    read_index(end),
                    index as u64,
                    "call {index} got another call's fd"
                );
            }
            assert_eq!(starts.get(), 24);
        });
    }

    #[test]
    fn a_call_without_its_fd_fails_and_the_channel_survives() {
        run_local(async {
            let (engine, queues, starts) = connect();
            let mut bare = engine.start_request();
            bare.get().set_secret_key(&key(1, 8));
            let error = bare
                .send()
                .promise
                .await
                .err()
                .expect("a start without an fd must fail");
            assert!(
                error.to_string().contains("no file descriptor is attached"),
                "unexpected error: {error}"
            );

            let (ours, theirs) = stream_pair();
            let mut request = engine.start_request();
            request.get().set_secret_key(&key(2, 8));
            send_fd(&queues, theirs, request.get().init_frontend_channel());
            request
                .send()
                .promise
                .await
                .expect("start after a failed one");
            assert_eq!(read_index(&mut UnixStream::from(ours)), 2);
            assert_eq!(starts.get(), 1);
        });
    }
}
