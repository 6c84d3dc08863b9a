//! Proof that an address works: one UDP datagram from an address in one lab
//! namespace to an address in another, and the answer back. Each socket is
//! opened by a short-lived thread that enters its namespace (a socket stays
//! in the namespace it was made in), so the caller never moves.
//!
//! Binding fails while an address is tentative or a failed duplicate, so a
//! round trip also proves that duplicate address detection is over.
//!
//! The kernel's neighbour table is one for all namespaces (gc_thresh3
//! entries in all): while a flood test fills it elsewhere on the machine,
//! sending fails with EINVAL until the kernel collects entries, so
//! [`udp_round_trip_within`] retries for a while before it reports failure.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

use crate::netns::Netns;

const PAYLOAD: &[u8] = b"slaacd lab round trip";

#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    #[error("entering network namespace {netns}: {source}")]
    Enter { netns: String, source: io::Error },
    #[error("binding a UDP socket to {address} in {netns}: {source}")]
    Bind {
        address: Ipv6Addr,
        netns: String,
        source: io::Error,
    },
    #[error("sending from {from} to {to}: {source}")]
    Send {
        from: Ipv6Addr,
        to: Ipv6Addr,
        source: io::Error,
    },
    #[error("nothing from {from} reached {to}: {source}")]
    Receive {
        from: Ipv6Addr,
        to: Ipv6Addr,
        source: io::Error,
    },
    #[error("{to} got a datagram from {got} instead of {from}")]
    WrongPeer {
        from: Ipv6Addr,
        to: Ipv6Addr,
        got: SocketAddr,
    },
}

/// A UDP socket bound to `address` (any port) inside `netns`.
pub fn udp_socket_in(netns: &Netns, address: Ipv6Addr) -> Result<UdpSocket, ReachError> {
    let name = netns.name().to_owned();
    let path = format!("/run/netns/{name}");
    std::thread::spawn(move || {
        let namespace = std::fs::File::open(&path).map_err(|source| ReachError::Enter {
            netns: name.clone(),
            source,
        })?;
        // Only this thread enters the namespace, and it ends right after.
        setns(&namespace, CloneFlags::CLONE_NEWNET).map_err(|errno| ReachError::Enter {
            netns: name.clone(),
            source: io::Error::from(errno),
        })?;
        let socket = UdpSocket::bind(SocketAddrV6::new(address, 0, 0, 0)).map_err(|source| {
            ReachError::Bind {
                address,
                netns: name.clone(),
                source,
            }
        })?;
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|source| ReachError::Bind {
                address,
                netns: name,
                source,
            })?;
        Ok(socket)
    })
    .join()
    .expect("the thread opening a socket in a namespace panicked")
}

/// Sends a datagram from `from` (an address in `from_netns`) to `to` (in
/// `to_netns`) and the answer back; each side checks the other's address.
pub fn udp_round_trip(
    from_netns: &Netns,
    from: Ipv6Addr,
    to_netns: &Netns,
    to: Ipv6Addr,
) -> Result<(), ReachError> {
    let client = udp_socket_in(from_netns, from)?;
    let server = udp_socket_in(to_netns, to)?;
    let server_address = server.local_addr().map_err(|source| ReachError::Bind {
        address: to,
        netns: to_netns.name().to_owned(),
        source,
    })?;
    one_way(&client, from, &server, server_address, to)?;
    let client_address = client.local_addr().map_err(|source| ReachError::Bind {
        address: from,
        netns: from_netns.name().to_owned(),
        source,
    })?;
    one_way(&server, to, &client, client_address, from)
}

/// [`udp_round_trip`], tried every 200 ms until it succeeds or `timeout`
/// has passed; the error is the last attempt's.
pub fn udp_round_trip_within(
    timeout: Duration,
    from_netns: &Netns,
    from: Ipv6Addr,
    to_netns: &Netns,
    to: Ipv6Addr,
) -> Result<(), ReachError> {
    let deadline = Instant::now() + timeout;
    loop {
        match udp_round_trip(from_netns, from, to_netns, to) {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn one_way(
    sender: &UdpSocket,
    from: Ipv6Addr,
    receiver: &UdpSocket,
    receiver_address: SocketAddr,
    to: Ipv6Addr,
) -> Result<(), ReachError> {
    sender
        .send_to(PAYLOAD, receiver_address)
        .map_err(|source| ReachError::Send { from, to, source })?;
    let mut buffer = [0; 64];
    let (length, peer) = receiver
        .recv_from(&mut buffer)
        .map_err(|source| ReachError::Receive { from, to, source })?;
    match peer {
        SocketAddr::V6(peer) if *peer.ip() == from && &buffer[..length] == PAYLOAD => Ok(()),
        got => Err(ReachError::WrongPeer { from, to, got }),
    }
}
