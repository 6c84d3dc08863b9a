//! Watching the wire: the ICMPv6 messages that cross one interface of a lab
//! namespace, read from a packet socket opened inside that namespace, so a
//! test can check what a daemon sent (source, destination, hop limit and
//! bytes, as they left).
//!
//! It only reads frames: it must never send one, and never open its socket
//! outside a namespace of the lab.

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

use crate::netns::Netns;
use crate::packet_socket::{
    ETH_P_IPV6, IPV6_HEADER_LEN, NEXT_HEADER_ICMPV6, PacketSocket, PacketSocketError,
};

/// How long one read waits before the deadline is checked again.
const READ_SLICE: Duration = Duration::from_millis(50);

/// An ICMPv6 message seen on the wire, without extension headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedIcmp {
    pub source: Ipv6Addr,
    pub destination: Ipv6Addr,
    pub hop_limit: u8,
    /// From the ICMPv6 type byte on.
    pub message: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Open(#[from] PacketSocketError),
    #[error("binding a capture socket to {interface}: {source}")]
    Bind {
        interface: String,
        source: io::Error,
    },
    #[error("reading frames on {interface}: {source}")]
    Read {
        interface: String,
        source: io::Error,
    },
}

/// A packet socket bound to one interface, seeing the IPv6 packets it sends
/// and receives from the moment it is opened.
pub struct IcmpCapture {
    socket: OwnedFd,
    interface: String,
}

impl IcmpCapture {
    /// Opens the socket inside `netns` (on a thread of its own, so the caller
    /// stays where it is), bound to `interface` there.
    pub fn open(netns: &Netns, interface: &str) -> Result<IcmpCapture, CaptureError> {
        let PacketSocket { socket, index } = PacketSocket::open(netns, interface)?;
        bind_for_reading(&socket, index).map_err(|source| CaptureError::Bind {
            interface: interface.to_string(),
            source,
        })?;
        Ok(IcmpCapture {
            socket,
            interface: interface.to_string(),
        })
    }

    /// The next ICMPv6 message of type `kind` seen within `timeout`; other
    /// packets are skipped. None when none came.
    pub fn next_of_type(
        &self,
        kind: u8,
        timeout: Duration,
    ) -> Result<Option<CapturedIcmp>, CaptureError> {
        let deadline = Instant::now() + timeout;
        let mut buffer = vec![0; 65_536];
        while Instant::now() < deadline {
            let Some(length) = self.read(&mut buffer)? else {
                continue;
            };
            if let Some(message) = parse_icmp(&buffer[..length])
                && message.message.first() == Some(&kind)
            {
                return Ok(Some(message));
            }
        }
        Ok(None)
    }

    /// One read, waiting at most [`READ_SLICE`]; None when nothing came.
    fn read(&self, buffer: &mut [u8]) -> Result<Option<usize>, CaptureError> {
        // SAFETY: the buffer is valid for its length and the fd is an open
        // socket owned by self.
        let received = unsafe {
            libc::recv(
                self.socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        match usize::try_from(received) {
            Ok(length) => Ok(Some(length)),
            Err(_) => {
                let error = io::Error::last_os_error();
                match error.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                    _ => Err(CaptureError::Read {
                        interface: self.interface.clone(),
                        source: error,
                    }),
                }
            }
        }
    }
}

/// The ICMPv6 message an IPv6 packet carries directly, if it does.
fn parse_icmp(packet: &[u8]) -> Option<CapturedIcmp> {
    let header = packet.get(..IPV6_HEADER_LEN)?;
    if header[0] >> 4 != 6 || header[6] != NEXT_HEADER_ICMPV6 {
        return None;
    }
    let payload_length = usize::from(u16::from_be_bytes([header[4], header[5]]));
    let address = |at: usize| -> Option<Ipv6Addr> {
        let bytes: [u8; 16] = header.get(at..at + 16)?.try_into().ok()?;
        Some(Ipv6Addr::from(bytes))
    };
    Some(CapturedIcmp {
        source: address(8)?,
        destination: address(24)?,
        hop_limit: header[7],
        message: packet
            .get(IPV6_HEADER_LEN..IPV6_HEADER_LEN + payload_length)?
            .to_vec(),
    })
}

/// Binds `socket` to the interface with `index`, each read waiting at
/// most [`READ_SLICE`].
fn bind_for_reading(socket: &OwnedFd, index: i32) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = ETH_P_IPV6.to_be();
    address.sll_ifindex = index;
    // SAFETY: the address is valid for the length given and the fd is open.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const address).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if bound < 0 {
        return Err(io::Error::last_os_error());
    }
    let slice = TimeVal::new(0, READ_SLICE.as_micros() as libc::suseconds_t);
    setsockopt(socket, sockopt::ReceiveTimeout, &slice)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_icmp_packet_is_read_field_by_field_and_others_are_not() {
        let source: Ipv6Addr = "fe80::2".parse().unwrap();
        let destination: Ipv6Addr = "ff02::2".parse().unwrap();
        let message = [133, 0, 0x12, 0x34, 0, 0, 0, 0];
        let mut packet = crate::ra_sender::ipv6_packet(source, destination, 255, &message);
        // Trailing Ethernet padding is not part of the message.
        packet.extend_from_slice(&[0; 6]);
        let captured = parse_icmp(&packet).expect("an ICMPv6 packet");
        assert_eq!(captured.source, source);
        assert_eq!(captured.destination, destination);
        assert_eq!(captured.hop_limit, 255);
        assert_eq!(captured.message[0], 133);
        assert_eq!(captured.message.len(), message.len());
        packet[6] = 17;
        assert_eq!(parse_icmp(&packet), None, "a UDP packet");
        assert_eq!(parse_icmp(&packet[..20]), None, "a cut header");
    }
}
