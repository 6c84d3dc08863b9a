//! The raw ICMPv6 socket: receives Router Advertisements, with the interface
//! and hop limit they arrived with, and sends Router Solicitations from the
//! interface's link-local address on links the packet socket cannot frame
//! (no 6-byte hardware address; see `packet`, which sends all the others,
//! since a send through this socket needs a neighbour entry and fails while
//! the machine's neighbour table is full).
//!
//! The kernel filters the socket down to Router Advertisements (ICMP6_FILTER),
//! so nothing else is ever queued (nor anything shorter than an ICMPv6
//! header: the filter cannot read its type). This module only moves bytes:
//! it must never parse or judge an advertisement (it reports the hop limit
//! and whether the kernel reassembled it from fragments; its caller drops
//! what did not arrive with 255 or came in fragments, the engine judges the
//! rest), and it must never pass on a datagram whose length, interface or
//! hop limit it could not read: it says what it could read of such a one,
//! for its caller to count the drop.

use std::cell::Cell;
use std::io::{self, IoSliceMut};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrIn6, recvmsg, setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::interfaces::FrontendDrop;

/// ICMPv6 type of a Router Advertisement (RFC 4861).
const ROUTER_ADVERTISEMENT: u8 = 134;
/// Hop limit of every Neighbor Discovery packet, sent and expected.
const ND_HOP_LIMIT: u32 = 255;
/// ff02::2, all routers on the link.
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// The ICMP6_FILTER socket option (RFC 3542); libc does not name it.
const ICMP6_FILTER: libc::c_int = 1;
/// Larger than any IPv6 payload, so only a datagram that cannot exist is cut.
const RECEIVE_BUFFER_SIZE: usize = 65_536;

/// Failures of the ICMPv6 socket, each naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum Icmp6Error {
    #[error("ICMPv6 socket: cannot check the received descriptor: {0}")]
    Inspect(#[source] io::Error),
    #[error("ICMPv6 socket: the received descriptor is not a raw ICMPv6 socket")]
    WrongSocket,
    #[error("ICMPv6 socket: setting {option}: {source}")]
    Setup {
        option: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("ICMPv6 socket: cannot register with the tokio runtime: {0}")]
    Register(#[source] io::Error),
    #[error("receiving on the ICMPv6 socket: {0}")]
    Receive(#[source] io::Error),
    #[error("router advertisement from {from} dropped: {length} bytes do not fit the buffer")]
    Truncated {
        from: Ipv6Addr,
        /// The interface it arrived on, when the kernel said.
        if_index: Option<u32>,
        length: usize,
    },
    #[error("router advertisement dropped: the datagram came without {missing}")]
    Incomplete {
        missing: &'static str,
        /// What could be read of where it came from.
        if_index: Option<u32>,
        from: Option<Ipv6Addr>,
    },
    #[error("sending the router solicitation on interface index {if_index}: {source}")]
    Send {
        if_index: u32,
        #[source]
        source: io::Error,
    },
    #[error(
        "sending the router solicitation on interface index {if_index}: \
         only {sent} of {length} bytes went out"
    )]
    ShortSend {
        if_index: u32,
        sent: usize,
        length: usize,
    },
}

impl Icmp6Error {
    /// For an error that dropped only one received datagram (the socket
    /// still works: the receive loop counts it and carries on), why and
    /// what could be read of where it came from; `None` for the others.
    pub fn dropped_datagram(&self) -> Option<DroppedDatagram> {
        match *self {
            Icmp6Error::Truncated { from, if_index, .. } => Some(DroppedDatagram {
                drop: FrontendDrop::Truncated,
                if_index,
                source: Some(from),
            }),
            Icmp6Error::Incomplete { if_index, from, .. } => Some(DroppedDatagram {
                drop: FrontendDrop::Incomplete,
                if_index,
                source: from,
            }),
            _ => None,
        }
    }
}

/// A datagram the socket received but could not pass on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DroppedDatagram {
    pub drop: FrontendDrop,
    /// The interface it arrived on, if the kernel said.
    pub if_index: Option<u32>,
    /// Its source, if the kernel said.
    pub source: Option<Ipv6Addr>,
}

/// A Router Advertisement as it came off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRa {
    /// The interface it arrived on.
    pub if_index: u32,
    /// The sender's address (for a valid RA, a link-local address).
    pub source: Ipv6Addr,
    /// The IPv6 hop limit it arrived with (255 unless it was forwarded).
    pub hop_limit: u8,
    /// It came in fragments (or with a fragment header), which the kernel
    /// reassembled; RFC 6980 says to ignore such Neighbor Discovery.
    pub fragmented: bool,
    /// The ICMPv6 message, from its type byte on.
    pub packet: Vec<u8>,
}

/// Opens the raw ICMPv6 socket (non-blocking, close-on-exec) and restricts it
/// to Router Advertisements at once, so nothing else is queued before the
/// frontend takes it over. Needs CAP_NET_RAW: the parent calls it.
pub fn open_icmp6_socket() -> io::Result<OwnedFd> {
    let socket = Socket::new(
        Domain::IPV6,
        Type::RAW.nonblocking().cloexec(),
        Some(Protocol::ICMPV6),
    )?;
    pass_only_router_advertisements(&socket)?;
    Ok(socket.into())
}

/// The frontend's handle on the raw ICMPv6 socket, driven by tokio.
pub struct RaSocket {
    socket: AsyncFd<Socket>,
    /// The receive buffer, kept between calls; a concurrent `recv` finds it
    /// taken and uses a fresh one.
    buffer: Cell<Vec<u8>>,
}

impl std::fmt::Debug for RaSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaSocket")
            .field("fd", &self.socket.as_raw_fd())
            .finish_non_exhaustive()
    }
}

impl RaSocket {
    /// Takes over the descriptor made by [`open_icmp6_socket`]: checks its
    /// kind, sets the filter, the ancillary data to receive and the hop
    /// limits to send with, and registers it with the current tokio runtime
    /// (an error, not a panic, when called outside one).
    pub fn new(fd: OwnedFd) -> Result<Self, Icmp6Error> {
        let socket = Socket::from(fd);
        let domain = socket.domain().map_err(Icmp6Error::Inspect)?;
        let kind = socket.r#type().map_err(Icmp6Error::Inspect)?;
        let protocol = socket.protocol().map_err(Icmp6Error::Inspect)?;
        if domain != Domain::IPV6 || kind != Type::RAW || protocol != Some(Protocol::ICMPV6) {
            return Err(Icmp6Error::WrongSocket);
        }
        configure(&socket)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Icmp6Error::Register(io::Error::other(
                "not inside a tokio runtime",
            )));
        }
        // SAFETY: the Socket owns its descriptor and keeps it open, unchanged,
        // for as long as the AsyncFd holds it.
        let socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(|error| Icmp6Error::Register(error.into_parts().1))?;
        Ok(RaSocket {
            socket,
            buffer: Cell::new(Vec::new()),
        })
    }

    /// Waits for the next Router Advertisement. An error for which
    /// [`Icmp6Error::dropped_datagram`] says what was dropped means just
    /// that one datagram; any other means the socket is unusable.
    /// Cancel-safe: a future dropped before it completes loses no datagram.
    pub async fn recv(&self) -> Result<ReceivedRa, Icmp6Error> {
        let mut buffer = self.buffer.take();
        buffer.resize(RECEIVE_BUFFER_SIZE, 0);
        let received = self
            .socket
            .async_io(Interest::READABLE, |socket| receive(socket, &mut buffer))
            .await
            .map_err(Icmp6Error::Receive);
        let result = received.and_then(|datagram| datagram.into_advertisement(&buffer));
        self.buffer.set(buffer);
        result
    }

    /// Sends a Router Solicitation to ff02::2 on `if_index`, from the
    /// interface's link-local address, which must be usable (the kernel
    /// refuses a tentative one with EADDRNOTAVAIL). `link_layer` is the
    /// source link-layer address option's content; pass `None` while the
    /// link-local address is optimistic (RFC 4429 forbids the option then).
    /// An empty content (a link without link-layer addresses) adds none.
    pub fn send_solicitation(
        &self,
        if_index: u32,
        link_layer: Option<&[u8]>,
    ) -> Result<(), Icmp6Error> {
        let packet = slaacd_wire::router_solicitation(link_layer);
        let destination = SocketAddrV6::new(ALL_ROUTERS, 0, 0, if_index);
        let sent = self
            .socket
            .get_ref()
            .send_to(&packet, &destination.into())
            .map_err(|source| Icmp6Error::Send { if_index, source })?;
        if sent != packet.len() {
            return Err(Icmp6Error::ShortSend {
                if_index,
                sent,
                length: packet.len(),
            });
        }
        Ok(())
    }
}

/// Everything the frontend sets on the socket; none of it needs privilege.
fn configure(socket: &Socket) -> Result<(), Icmp6Error> {
    let setup = |option| move |source| Icmp6Error::Setup { option, source };
    pass_only_router_advertisements(socket).map_err(setup("ICMP6_FILTER"))?;
    setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)
        .map_err(|errno| setup("IPV6_RECVPKTINFO")(errno.into()))?;
    socket
        .set_recv_hoplimit_v6(true)
        .map_err(setup("IPV6_RECVHOPLIMIT"))?;
    // A reassembled datagram then comes with the size of its largest
    // fragment: the only sign of fragments a raw socket gets.
    report_fragments(socket).map_err(setup("IPV6_RECVFRAGSIZE"))?;
    socket
        .set_multicast_hops_v6(ND_HOP_LIMIT)
        .map_err(setup("IPV6_MULTICAST_HOPS"))?;
    socket
        .set_unicast_hops_v6(ND_HOP_LIMIT)
        .map_err(setup("IPV6_UNICAST_HOPS"))?;
    socket
        .set_multicast_loop_v6(false)
        .map_err(setup("IPV6_MULTICAST_LOOP"))?;
    Ok(())
}

/// Sets IPV6_RECVFRAGSIZE (Linux 4.10 and later; nix does not name it).
fn report_fragments(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a valid c_int and the length is its size, as the
    // kernel expects for this boolean option; the fd is owned by `socket`,
    // which outlives the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVFRAGSIZE,
            (&raw const on).cast(),
            std::mem::size_of_val(&on) as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Installs an ICMP6_FILTER that blocks every ICMPv6 type but Router
/// Advertisements. In the filter a set bit blocks its type.
fn pass_only_router_advertisements(socket: &Socket) -> io::Result<()> {
    let filter = router_advertisement_filter();
    let length = std::mem::size_of_val(&filter) as libc::socklen_t;
    // SAFETY: `filter` is a valid, initialised buffer of `length` bytes, the
    // layout the kernel expects for ICMP6_FILTER (eight 32-bit words); the fd
    // is owned by `socket`, which outlives the call.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_ICMPV6,
            ICMP6_FILTER,
            filter.as_ptr().cast(),
            length,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The ICMP6_FILTER words: 256 bits, one per ICMPv6 type, all set (blocked)
/// but the Router Advertisement's.
fn router_advertisement_filter() -> [u32; 8] {
    let mut filter = [u32::MAX; 8];
    let advert = usize::from(ROUTER_ADVERTISEMENT);
    filter[advert / 32] &= !(1 << (advert % 32));
    filter
}

/// What one recvmsg returned, before it is checked.
#[derive(Debug, Default)]
struct Datagram {
    /// Bytes in the datagram; more than were copied when `truncated`.
    length: usize,
    truncated: bool,
    /// The kernel had more ancillary data than fit (MSG_CTRUNC).
    control_truncated: bool,
    source: Option<Ipv6Addr>,
    if_index: Option<u32>,
    hop_limit: Option<i32>,
    /// The kernel reassembled it (it told the largest fragment's size).
    fragmented: bool,
}

impl Datagram {
    /// Checks that everything a Router Advertisement is passed on with was
    /// received, and copies the packet out of `buffer`.
    fn into_advertisement(self, buffer: &[u8]) -> Result<ReceivedRa, Icmp6Error> {
        let incomplete = |missing| Icmp6Error::Incomplete {
            missing,
            if_index: self.if_index,
            from: self.source,
        };
        if self.control_truncated {
            return Err(incomplete("all of its ancillary data"));
        }
        let source = self.source.ok_or(incomplete("a source address"))?;
        if self.truncated {
            return Err(Icmp6Error::Truncated {
                from: source,
                if_index: self.if_index,
                length: self.length,
            });
        }
        let if_index = self.if_index.ok_or(incomplete("packet information"))?;
        let hop_limit = self.hop_limit.ok_or(incomplete("a hop limit"))?;
        let hop_limit = u8::try_from(hop_limit).map_err(|_| incomplete("a valid hop limit"))?;
        let packet = buffer
            .get(..self.length)
            .ok_or(incomplete("a length within the buffer"))?;
        Ok(ReceivedRa {
            if_index,
            source,
            hop_limit,
            fragmented: self.fragmented,
            packet: packet.to_vec(),
        })
    }
}

/// One non-blocking recvmsg into `buffer`, collecting the ancillary data.
fn receive(socket: &Socket, buffer: &mut [u8]) -> io::Result<Datagram> {
    let mut control = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, libc::c_int);
    let mut iov = [IoSliceMut::new(buffer)];
    // MSG_TRUNC makes the kernel return the datagram's real length.
    let message = recvmsg::<SockaddrIn6>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut control),
        MsgFlags::MSG_TRUNC,
    )?;
    let mut datagram = Datagram {
        length: message.bytes,
        truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
        control_truncated: message.flags.contains(MsgFlags::MSG_CTRUNC),
        source: message.address.map(|address| address.ip()),
        ..Datagram::default()
    };
    if let Ok(messages) = message.cmsgs() {
        for control_message in messages {
            match control_message {
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    datagram.if_index = Some(info.ipi6_ifindex);
                }
                ControlMessageOwned::Ipv6HopLimit(limit) => datagram.hop_limit = Some(limit),
                ControlMessageOwned::Unknown(unknown)
                    if unknown.cmsg_header.cmsg_level == libc::IPPROTO_IPV6
                        && unknown.cmsg_header.cmsg_type == libc::IPV6_RECVFRAGSIZE =>
                {
                    datagram.fragmented = true;
                }
                _ => {}
            }
        }
    }
    Ok(datagram)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

    fn complete(length: usize) -> Datagram {
        Datagram {
            length,
            source: Some(SOURCE),
            if_index: Some(7),
            hop_limit: Some(255),
            ..Datagram::default()
        }
    }

    #[test]
    fn a_complete_datagram_becomes_an_advertisement() {
        let buffer = [134, 0, 1, 2, 3, 4, 5, 6, 9, 9];
        let advert = complete(8).into_advertisement(&buffer).expect("complete");
        assert_eq!(
            advert,
            ReceivedRa {
                if_index: 7,
                source: SOURCE,
                hop_limit: 255,
                fragmented: false,
                packet: buffer[..8].to_vec(),
            }
        );
    }

    #[test]
    fn a_reassembled_datagram_is_passed_on_marked_as_fragmented() {
        let datagram = Datagram {
            fragmented: true,
            ..complete(8)
        };
        let advert = datagram.into_advertisement(&[0; 16]).expect("complete");
        assert!(advert.fragmented);
        assert_eq!(advert.if_index, 7);
    }

    #[test]
    fn a_truncated_datagram_is_reported_not_passed_on() {
        let datagram = Datagram {
            truncated: true,
            ..complete(70_000)
        };
        let error = datagram
            .into_advertisement(&[0; 16])
            .expect_err("truncated");
        assert!(matches!(
            error,
            Icmp6Error::Truncated {
                from: SOURCE,
                length: 70_000,
                ..
            }
        ));
        assert_eq!(
            error.dropped_datagram(),
            Some(DroppedDatagram {
                drop: FrontendDrop::Truncated,
                if_index: Some(7),
                source: Some(SOURCE),
            })
        );
    }

    #[test]
    fn missing_ancillary_data_is_an_error() {
        let cases = [
            (
                Datagram {
                    if_index: None,
                    ..complete(8)
                },
                "packet information",
            ),
            (
                Datagram {
                    hop_limit: None,
                    ..complete(8)
                },
                "a hop limit",
            ),
            (
                Datagram {
                    hop_limit: Some(256),
                    ..complete(8)
                },
                "a valid hop limit",
            ),
            (
                Datagram {
                    source: None,
                    ..complete(8)
                },
                "a source address",
            ),
            (
                Datagram {
                    control_truncated: true,
                    ..complete(8)
                },
                "all of its ancillary data",
            ),
        ];
        for (datagram, expected) in cases {
            let if_index = datagram.if_index;
            let source = datagram.source;
            let error = match datagram.into_advertisement(&[0; 16]) {
                Err(error @ Icmp6Error::Incomplete { missing, .. }) if missing == expected => error,
                other => panic!("expected missing {expected}, got {other:?}"),
            };
            // Counted as incomplete, on its interface when it has one.
            assert_eq!(
                error.dropped_datagram(),
                Some(DroppedDatagram {
                    drop: FrontendDrop::Incomplete,
                    if_index,
                    source,
                }),
                "{expected}"
            );
        }
    }

    #[test]
    fn a_socket_error_is_not_a_dropped_datagram() {
        let error = Icmp6Error::Receive(io::Error::from_raw_os_error(libc::EBADF));
        assert_eq!(error.dropped_datagram(), None);
    }

    #[test]
    fn the_filter_blocks_every_type_but_router_advertisements() {
        let filter = router_advertisement_filter();
        let blocked = |kind: usize| filter[kind >> 5] & (1 << (kind & 31)) != 0;
        assert!(!blocked(134));
        assert!((0..=255).filter(|&kind| kind != 134).all(blocked));
    }

    #[test]
    fn a_socket_of_another_kind_is_refused() {
        let (one, _other) = std::os::unix::net::UnixStream::pair().expect("socketpair");
        let error = RaSocket::new(OwnedFd::from(one)).expect_err("a unix socket was accepted");
        assert!(matches!(error, Icmp6Error::WrongSocket), "{error}");
    }
}
