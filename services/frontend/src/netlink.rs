//! Link and IPv6 address events from the kernel's rtnetlink, as typed
//! [`LinkEvent`]s: interfaces appearing, changing (carrier, name, hardware
//! address, link-local address) and going away, addresses deleted, and
//! duplicate address detection failures.
//!
//! The parent opens the socket, subscribed to the link and IPv6 address
//! groups; the [`LinkMonitor`] first dumps all links and IPv6 addresses on it,
//! then follows the notifications, and dumps again whenever notifications
//! were lost (ENOBUFS), so its picture never silently drifts from the
//! kernel's. It reads only from the kernel and must never ask the kernel to
//! change anything: the only requests it sends are dumps.

mod table;

use std::collections::VecDeque;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NetlinkBuffer, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::sys::socket::{MsgFlags, NetlinkAddr, recvmsg, setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use table::{AddressState, InterfaceTable, Link};

/// What the kernel reports about a network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceState {
    pub index: u32,
    pub name: String,
    /// Administratively up, with carrier, and operationally up (IFF_UP,
    /// IFF_LOWER_UP and IFF_RUNNING): the kernel's IPv6 is ready on it.
    pub running: bool,
    /// Empty when the interface has none.
    pub hw_address: Vec<u8>,
    /// The interface's most usable link-local address, tentative ones
    /// included; None while it has none.
    pub link_local: Option<Ipv6Addr>,
    /// The link-local address can be sent from: DAD is done, or it is
    /// optimistic.
    pub link_local_usable: bool,
    /// The link-local address is optimistic (RFC 4429): usable, but a Router
    /// Solicitation from it must not carry the link-layer address option.
    pub link_local_optimistic: bool,
}

/// One change the kernel reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// An interface appeared, or something this state carries changed.
    Interface(InterfaceState),
    /// An interface that was reported went away.
    Removed { index: u32 },
    /// An IPv6 address was removed (deleted, expired, or flushed when the
    /// link went down).
    AddressDeleted { index: u32, address: Ipv6Addr },
    /// Duplicate address detection failed for an IPv6 address.
    DadFailed { index: u32, address: Ipv6Addr },
}

/// Failures of the link monitor, each naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("netlink socket: cannot check the received descriptor: {0}")]
    Inspect(#[source] io::Error),
    #[error("netlink socket: the received descriptor is not a NETLINK_ROUTE socket")]
    WrongSocket,
    #[error("netlink socket: cannot register with the tokio runtime: {0}")]
    Register(#[source] io::Error),
    #[error("receiving on the netlink socket: {0}")]
    Receive(#[source] io::Error),
    #[error("requesting the dump of {what} on the netlink socket: {source}")]
    Request {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("the kernel refused the dump of {what}: {source}")]
    DumpFailed {
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

/// The multicast groups the monitor needs (RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR).
const GROUPS: u32 = libc::RTMGRP_LINK as u32 | libc::RTMGRP_IPV6_IFADDR as u32;
/// Receive buffer asked for, so that bursts (many interfaces going down at
/// once) rarely overrun it; an overrun still only costs a dump.
const SOCKET_RECEIVE_BUFFER: usize = 1 << 20;
/// Larger than any netlink datagram the kernel builds (dumps fill at most
/// 32 KiB), so truncation cannot happen in practice and is handled as an
/// overrun if it does.
const DATAGRAM_BUFFER: usize = 64 * 1024;

/// Opens the NETLINK_ROUTE socket (non-blocking, close-on-exec) bound to the
/// link and IPv6 address notification groups, with a receive buffer of
/// 1 MiB when the caller may raise it past the system limit (CAP_NET_ADMIN:
/// the parent calls this).
pub fn open_netlink_socket() -> io::Result<OwnedFd> {
    let socket = Socket::new(
        Domain::from(libc::AF_NETLINK),
        Type::RAW.nonblocking().cloexec(),
        Some(Protocol::from(libc::NETLINK_ROUTE)),
    )?;
    if setsockopt(&socket, sockopt::RcvBufForce, &SOCKET_RECEIVE_BUFFER).is_err() {
        // Without CAP_NET_ADMIN (e.g. in a user namespace) the system limit
        // applies; the default buffer is still correct, only smaller.
        socket.set_recv_buffer_size(SOCKET_RECEIVE_BUFFER)?;
    }
    nix::sys::socket::bind(socket.as_raw_fd(), &NetlinkAddr::new(0, GROUPS))?;
    Ok(socket.into())
}

/// The two parts of a full dump, links first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DumpPart {
    Links,
    Addresses,
}

impl DumpPart {
    fn what(self) -> &'static str {
        match self {
            DumpPart::Links => "links",
            DumpPart::Addresses => "IPv6 addresses",
        }
    }

    fn request(self) -> RouteNetlinkMessage {
        match self {
            DumpPart::Links => RouteNetlinkMessage::GetLink(LinkMessage::default()),
            DumpPart::Addresses => {
                let mut message = AddressMessage::default();
                message.header.family = AddressFamily::Inet6;
                RouteNetlinkMessage::GetAddress(message)
            }
        }
    }
}

/// The dump part running, with its request's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dump {
    part: DumpPart,
    sequence: u32,
}

/// Follows the kernel's links and IPv6 addresses on the socket made by
/// [`open_netlink_socket`].
pub struct LinkMonitor {
    socket: AsyncFd<Socket>,
    buffer: Vec<u8>,
    table: InterfaceTable,
    /// None between dumps.
    dump: Option<Dump>,
    /// A (new) full dump must run as soon as the current one ends: at
    /// start-up, after an overrun, after an interrupted dump.
    resync: bool,
    /// The running dump part was marked inconsistent (NLM_F_DUMP_INTR).
    interrupted: bool,
    last_sequence: u32,
    events: VecDeque<LinkEvent>,
}

impl std::fmt::Debug for LinkMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkMonitor")
            .field("fd", &self.socket.as_raw_fd())
            .field("dump", &self.dump)
            .field("resync", &self.resync)
            .finish_non_exhaustive()
    }
}

impl LinkMonitor {
    /// Takes over the descriptor made by [`open_netlink_socket`], checks its
    /// kind and registers it with the current tokio runtime (an error, not a
    /// panic, outside one). The first [`LinkMonitor::next_event`] starts the
    /// dump.
    pub fn new(fd: OwnedFd) -> Result<Self, NetlinkError> {
        let socket = Socket::from(fd);
        let domain = socket.domain().map_err(NetlinkError::Inspect)?;
        let protocol = socket.protocol().map_err(NetlinkError::Inspect)?;
        // NETLINK_ROUTE is protocol 0, which reads back as "none".
        if domain != Domain::from(libc::AF_NETLINK) || protocol.is_some() {
            return Err(NetlinkError::WrongSocket);
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(NetlinkError::Register(io::Error::other(
                "not inside a tokio runtime",
            )));
        }
        // SAFETY: the Socket owns its descriptor and keeps it open, unchanged,
        // for as long as the AsyncFd holds it.
        let socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(|error| NetlinkError::Register(error.into_parts().1))?;
        Ok(LinkMonitor {
            socket,
            buffer: vec![0; DATAGRAM_BUFFER],
            table: InterfaceTable::default(),
            dump: None,
            resync: true,
            interrupted: false,
            last_sequence: 0,
            events: VecDeque::new(),
        })
    }

    /// The current state of one interface, as last reported or about to be.
    pub fn interface(&self, index: u32) -> Option<InterfaceState> {
        self.table.interface(index)
    }

    /// Waits for the next event. Errors mean the socket is unusable.
    /// Cancel-safe: a future dropped before it completes loses no event.
    pub async fn next_event(&mut self) -> Result<LinkEvent, NetlinkError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            if self.dump.is_none() && self.resync {
                self.start_dump()?;
            }
            self.read_datagram().await?;
        }
    }

    /// Starts a full dump with the links; the addresses follow when the
    /// links are done.
    fn start_dump(&mut self) -> Result<(), NetlinkError> {
        self.request_dump(DumpPart::Links)?;
        self.resync = false;
        self.interrupted = false;
        self.table.begin_link_dump();
        Ok(())
    }

    /// Sends the dump request of one part and records it as running.
    fn request_dump(&mut self, part: DumpPart) -> Result<(), NetlinkError> {
        self.last_sequence = self.last_sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = self.last_sequence;
        let payload = NetlinkPayload::InnerMessage(part.request());
        let mut message = NetlinkMessage::new(header, payload);
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        // Unconnected and unaddressed, a netlink datagram goes to the kernel.
        self.socket
            .get_ref()
            .send(&bytes)
            .map_err(|source| NetlinkError::Request {
                what: part.what(),
                source,
            })?;
        self.dump = Some(Dump {
            part,
            sequence: self.last_sequence,
        });
        Ok(())
    }

    /// Reads one datagram and applies every message in it.
    async fn read_datagram(&mut self) -> Result<(), NetlinkError> {
        let buffer = &mut self.buffer;
        let received = self
            .socket
            .async_io(Interest::READABLE, |socket| receive(socket, buffer))
            .await;
        let length = match received {
            Ok(Received::Datagram { length }) => length,
            Ok(Received::NotFromKernel) => return Ok(()),
            Ok(Received::Truncated) => {
                tracing::warn!("netlink datagram truncated; reading links and addresses again");
                self.resync = true;
                return Ok(());
            }
            Err(error) if error.raw_os_error() == Some(libc::ENOBUFS) => {
                tracing::warn!("netlink notifications lost; reading links and addresses again");
                self.resync = true;
                return Ok(());
            }
            Err(error) => return Err(NetlinkError::Receive(error)),
        };
        let buffer = std::mem::take(&mut self.buffer);
        let result = self.apply_datagram(&buffer[..length]);
        self.buffer = buffer;
        result
    }

    /// Applies each netlink message of a datagram in order.
    fn apply_datagram(&mut self, mut datagram: &[u8]) -> Result<(), NetlinkError> {
        while let Ok(framed) = NetlinkBuffer::new_checked(datagram) {
            let length = framed.length() as usize;
            match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&datagram[..length]) {
                Ok(message) => self.apply(message)?,
                Err(error) => tracing::debug!("netlink message skipped: {error}"),
            }
            // Messages are padded to 4 bytes; the last one may not be.
            let next = length.next_multiple_of(4);
            datagram = datagram.get(next..).unwrap_or_default();
        }
        Ok(())
    }

    /// Applies one netlink message: a dump's end or error, or a link or
    /// address message (dumps and notifications alike).
    fn apply(&mut self, message: NetlinkMessage<RouteNetlinkMessage>) -> Result<(), NetlinkError> {
        let header = message.header;
        let running = self
            .dump
            .filter(|dump| dump.sequence == header.sequence_number);
        let Some(dump) = running else {
            if let NetlinkPayload::InnerMessage(inner) = message.payload {
                self.apply_route_message(inner);
            }
            return Ok(());
        };
        if header.flags & NLM_F_DUMP_INTR != 0 {
            self.interrupted = true;
        }
        match message.payload {
            NetlinkPayload::Done(done) if done.code != 0 => Err(dump_failed(dump, done.code)),
            NetlinkPayload::Done(_) => self.dump_part_done(dump),
            NetlinkPayload::Error(error) => match error.code {
                Some(code) => Err(dump_failed(dump, code.get())),
                None => Ok(()),
            },
            NetlinkPayload::InnerMessage(inner) => {
                self.apply_route_message(inner);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A dump part ended: links go on to addresses, addresses end the dump.
    /// A dump that was interrupted or overrun starts over instead.
    fn dump_part_done(&mut self, dump: Dump) -> Result<(), NetlinkError> {
        self.dump = None;
        if self.interrupted {
            self.resync = true;
        }
        if self.resync {
            return Ok(());
        }
        match dump.part {
            DumpPart::Links => {
                self.table.end_link_dump(&mut self.events);
                self.request_dump(DumpPart::Addresses)?;
                self.table.begin_address_dump();
            }
            DumpPart::Addresses => self.table.end_address_dump(&mut self.events),
        }
        Ok(())
    }

    fn apply_route_message(&mut self, message: RouteNetlinkMessage) {
        let events = &mut self.events;
        match message {
            RouteNetlinkMessage::NewLink(link) => {
                if let Some((index, link)) = link_from(&link) {
                    self.table.link_changed(index, link, events);
                }
            }
            // Bridge port messages share the group; their RTM_DELLINK only
            // means the interface left its bridge.
            RouteNetlinkMessage::DelLink(link)
                if link.header.interface_family == AddressFamily::Unspec =>
            {
                self.table.link_removed(link.header.index, events);
            }
            RouteNetlinkMessage::NewAddress(address) => {
                if let Some((index, ip, flags)) = address_from(&address) {
                    self.table
                        .address_changed(index, ip, address_state(flags), events);
                }
            }
            RouteNetlinkMessage::DelAddress(address) => {
                if let Some((index, ip, flags)) = address_from(&address) {
                    let dad_failed = flags.contains(AddressFlags::Dadfailed);
                    self.table.address_removed(index, ip, dad_failed, events);
                }
            }
            _ => {}
        }
    }
}

/// The error for a dump the kernel ended with `code` (a negative errno).
fn dump_failed(dump: Dump, code: i32) -> NetlinkError {
    NetlinkError::DumpFailed {
        what: dump.part.what(),
        source: io::Error::from_raw_os_error(code.saturating_neg()),
    }
}

/// The interface index and what a link message tells about it. Messages of
/// other families (bridge port information, which arrives on the same group
/// and whose RTM_DELLINK does not remove the interface) are not link
/// messages here.
///
/// Running needs IFF_RUNNING, not only IFF_UP and IFF_LOWER_UP: setting a
/// link up is announced at once, with IFF_LOWER_UP when the carrier is
/// already there (a veth whose peer is up), but Linux sets the link up for
/// IPv6 (its ff00::/8 route, its link-local address) only when its link
/// watcher marks it operationally up a few milliseconds later, and announces
/// that with IFF_RUNNING. A solicitation sent in between is answered into a
/// link that drops the answer (Ip6InNoRoutes).
fn link_from(message: &LinkMessage) -> Option<(u32, Link)> {
    if message.header.interface_family != AddressFamily::Unspec {
        return None;
    }
    let flags = message.header.flags;
    let mut link = Link {
        name: String::new(),
        running: flags.contains(LinkFlags::Up | LinkFlags::LowerUp | LinkFlags::Running),
        hw_address: Vec::new(),
    };
    for attribute in &message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => link.name.clone_from(name),
            LinkAttribute::Address(address) => link.hw_address.clone_from(address),
            _ => {}
        }
    }
    Some((message.header.index, link))
}

/// The interface index, IPv6 address and flags of an address message; None
/// for other families.
fn address_from(message: &AddressMessage) -> Option<(u32, Ipv6Addr, AddressFlags)> {
    if message.header.family != AddressFamily::Inet6 {
        return None;
    }
    // The header holds the low 8 flag bits; IFA_FLAGS, when present, all.
    let mut flags = AddressFlags::from_bits_retain(u32::from(message.header.flags.bits()));
    let mut address = None;
    let mut local = None;
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Address(IpAddr::V6(ip)) => address = Some(*ip),
            AddressAttribute::Local(IpAddr::V6(ip)) => local = Some(*ip),
            AddressAttribute::Flags(all) => flags = *all,
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address when a peer is configured.
    let ip = local.or(address)?;
    Some((message.header.index, ip, flags))
}

fn address_state(flags: AddressFlags) -> AddressState {
    if flags.contains(AddressFlags::Dadfailed) {
        AddressState::DadFailed
    } else if flags.contains(AddressFlags::Optimistic) {
        AddressState::Optimistic
    } else if flags.contains(AddressFlags::Tentative) {
        AddressState::Tentative
    } else {
        AddressState::Usable
    }
}

/// What one recvmsg on the netlink socket brought.
enum Received {
    Datagram {
        length: usize,
    },
    /// Longer than the buffer: part of it is lost.
    Truncated,
    /// Sent by a process, not the kernel: ignored.
    NotFromKernel,
}

/// One non-blocking recvmsg into `buffer`.
fn receive(socket: &Socket, buffer: &mut [u8]) -> io::Result<Received> {
    let capacity = buffer.len();
    let mut iov = [IoSliceMut::new(buffer)];
    // MSG_TRUNC makes the kernel return the datagram's real length.
    let message = recvmsg::<NetlinkAddr>(socket.as_raw_fd(), &mut iov, None, MsgFlags::MSG_TRUNC)
        .map_err(io::Error::from)?;
    if message.flags.contains(MsgFlags::MSG_TRUNC) || message.bytes > capacity {
        return Ok(Received::Truncated);
    }
    let from_kernel = message.address.is_some_and(|address| address.pid() == 0);
    if !from_kernel {
        return Ok(Received::NotFromKernel);
    }
    Ok(Received::Datagram {
        length: message.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_flags_give_the_dad_state() {
        let state = |flags| address_state(flags);
        assert_eq!(state(AddressFlags::Permanent), AddressState::Usable);
        assert_eq!(state(AddressFlags::Tentative), AddressState::Tentative);
        assert_eq!(
            state(AddressFlags::Tentative | AddressFlags::Optimistic),
            AddressState::Optimistic
        );
        assert_eq!(
            state(AddressFlags::Tentative | AddressFlags::Dadfailed),
            AddressState::DadFailed
        );
    }

    #[test]
    fn bridge_port_messages_are_not_links() {
        let mut message = LinkMessage::default();
        message.header.index = 4;
        message.header.interface_family = AddressFamily::Bridge;
        assert!(link_from(&message).is_none());
        message.header.interface_family = AddressFamily::Unspec;
        message.header.flags = LinkFlags::Up;
        message.attributes = vec![
            LinkAttribute::IfName("veth0".into()),
            LinkAttribute::Address(vec![2, 0, 0, 0, 0, 7]),
        ];
        let (index, link) = link_from(&message).expect("a link");
        assert_eq!(index, 4);
        assert_eq!(
            link,
            Link {
                name: "veth0".into(),
                running: false,
                hw_address: vec![2, 0, 0, 0, 0, 7],
            }
        );
        message.header.flags = LinkFlags::Up | LinkFlags::LowerUp | LinkFlags::Running;
        assert!(link_from(&message).expect("a link").1.running);
    }

    #[test]
    fn a_link_set_up_is_running_only_once_operationally_up() {
        let mut message = LinkMessage::default();
        message.header.index = 2;
        // What `ip link set h0 up` announces first when the carrier is
        // already there: IPv6 is not set up on the link yet.
        message.header.flags = LinkFlags::Up | LinkFlags::LowerUp;
        assert!(!link_from(&message).expect("a link").1.running);
        // Operationally up, but without carrier: not running either.
        message.header.flags = LinkFlags::Up | LinkFlags::Running;
        assert!(!link_from(&message).expect("a link").1.running);
        message.header.flags = LinkFlags::Up | LinkFlags::LowerUp | LinkFlags::Running;
        assert!(link_from(&message).expect("a link").1.running);
    }

    #[test]
    fn the_flags_attribute_overrides_the_header_flags() {
        let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet6;
        message.header.index = 3;
        message.attributes = vec![
            AddressAttribute::Address(IpAddr::V6(ip)),
            AddressAttribute::Flags(AddressFlags::Tentative | AddressFlags::Optimistic),
        ];
        let (index, address, flags) = address_from(&message).expect("an IPv6 address");
        assert_eq!((index, address), (3, ip));
        assert_eq!(address_state(flags), AddressState::Optimistic);
        message.header.family = AddressFamily::Inet;
        assert!(address_from(&message).is_none());
    }
}
