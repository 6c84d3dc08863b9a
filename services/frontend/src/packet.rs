//! The AF_PACKET socket that sends every Router Solicitation on
//! Ethernet-like interfaces (a 6-byte hardware address): from the unspecified
//! address (`::`) at carrier-up, from the link-local address once it is
//! usable.
//!
//! While an interface's link-local address is still tentative, the kernel
//! refuses to send from `::` through any AF_INET6 socket; and once it is
//! usable, a send through the kernel's IPv6 output needs a neighbour entry,
//! which fails with EINVAL while an RA flood from random sources fills the
//! machine-wide neighbour table, exactly when solicitations matter. So this
//! module writes the whole Ethernet frame itself (built by `slaacd-wire`),
//! which needs neither. The socket is opened with protocol 0, which makes it
//! send-only: it must never receive a frame, and it must never be used for
//! anything but solicitations.

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};

use slaacd_wire::SolicitationSource;
use socket2::{Domain, Socket, Type};

/// The EtherType of IPv6, which the frame carries.
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Failures of the packet socket, each naming what failed.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    #[error("packet socket: cannot check the received descriptor: {0}")]
    Inspect(#[source] io::Error),
    #[error("packet socket: the received descriptor is not a send-only AF_PACKET raw socket")]
    WrongSocket,
    #[error("sending the router solicitation from {from} on interface index {if_index}: {source}")]
    Send {
        if_index: u32,
        from: Ipv6Addr,
        #[source]
        source: io::Error,
    },
    #[error(
        "sending the router solicitation from {from} on interface index {if_index}: \
         only {sent} of {length} bytes went out"
    )]
    ShortSend {
        if_index: u32,
        from: Ipv6Addr,
        sent: usize,
        length: usize,
    },
}

/// Opens the send-only packet socket (AF_PACKET, SOCK_RAW, protocol 0,
/// non-blocking, close-on-exec). Needs CAP_NET_RAW: the parent calls it.
pub fn open_packet_socket() -> io::Result<OwnedFd> {
    let socket = Socket::new(Domain::PACKET, Type::RAW.nonblocking().cloexec(), None)?;
    Ok(socket.into())
}

/// The frontend's handle on the packet socket received from the parent.
#[derive(Debug)]
pub struct PacketSocket {
    socket: Socket,
}

impl PacketSocket {
    /// Takes over the descriptor made by [`open_packet_socket`], after
    /// checking that it is that kind of socket (a parent that passes fds in
    /// the wrong order is caught here, not by a strange send error later).
    pub fn new(fd: OwnedFd) -> Result<Self, PacketError> {
        let socket = Socket::from(fd);
        let domain = socket.domain().map_err(PacketError::Inspect)?;
        let kind = socket.r#type().map_err(PacketError::Inspect)?;
        let protocol = socket.protocol().map_err(PacketError::Inspect)?;
        // Protocol 0 reads back as "none": anything else would receive frames.
        if domain != Domain::PACKET || kind != Type::RAW || protocol.is_some() {
            return Err(PacketError::WrongSocket);
        }
        Ok(PacketSocket { socket })
    }

    /// Sends one Router Solicitation from `source` to ff02::2, as an
    /// Ethernet frame from `mac`, out of the interface `if_index`. It
    /// carries `mac` as its source link-layer address option only when the
    /// source allows one (not from `::`, RFC 4861 4.1; not from an
    /// optimistic address, RFC 4429 3.2). Non-blocking: a full transmit
    /// queue is reported as an error, since solicitations are retransmitted
    /// anyway.
    pub fn send_solicitation(
        &self,
        if_index: u32,
        mac: [u8; 6],
        source: SolicitationSource,
    ) -> Result<(), PacketError> {
        let from = source.address();
        let frame = slaacd_wire::router_solicitation_frame(mac, source);
        let sent =
            send_frame(&self.socket, if_index, &frame).map_err(|source| PacketError::Send {
                if_index,
                from,
                source,
            })?;
        if sent != frame.len() {
            return Err(PacketError::ShortSend {
                if_index,
                from,
                sent,
                length: frame.len(),
            });
        }
        Ok(())
    }
}

/// Sends a complete Ethernet frame out of one interface; returns the bytes
/// sent.
fn send_frame(socket: &Socket, if_index: u32, frame: &[u8]) -> io::Result<usize> {
    let if_index = i32::try_from(if_index)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index out of range"))?;
    // SAFETY: sockaddr_ll is a plain C struct for which all-zero bytes are a
    // valid value.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as libc::sa_family_t;
    address.sll_protocol = ETHERTYPE_IPV6.to_be();
    address.sll_ifindex = if_index;
    // With SOCK_RAW the frame carries its own Ethernet header; the kernel
    // only needs the interface from this address.
    let length = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `frame` is valid for `frame.len()` bytes and `address` is a
    // fully initialised sockaddr_ll whose size is passed alongside it; the fd
    // is owned by `socket`, which outlives the call.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            libc::MSG_DONTWAIT,
            (&raw const address).cast(),
            length,
        )
    };
    // A negative count is the error signal; any other value fits usize.
    usize::try_from(sent).map_err(|_| io::Error::last_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_of_another_kind_is_refused() {
        let (one, _other) = std::os::unix::net::UnixStream::pair().expect("socketpair");
        let error = PacketSocket::new(OwnedFd::from(one)).expect_err("a unix socket was accepted");
        assert!(matches!(error, PacketError::WrongSocket), "{error}");
    }
}
