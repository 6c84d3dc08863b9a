//! Router Solicitations (RFC 4861 4.1): the ICMPv6 message for a raw socket
//! and a complete Ethernet frame for a packet socket.
//!
//! Building only; never reads received bytes. The frame variant exists because
//! at carrier-up the link-local address is still tentative, so the solicitation
//! must come from the unspecified address, which a packet socket can send.

use std::net::Ipv6Addr;

use crate::checksum::{NEXT_HEADER_ICMPV6, icmpv6_checksum};
use crate::option::NdOption;

/// ICMPv6 type of a Router Solicitation.
const ROUTER_SOLICIT: u8 = 133;
/// Type, code, checksum and the reserved word.
const SOLICIT_SIZE: usize = 8;
const CHECKSUM: std::ops::Range<usize> = 2..4;

/// Ethernet header offsets.
mod ethernet {
    use std::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const SIZE: usize = 14;
    pub const ETHERTYPE_IPV6: u16 = 0x86dd;
    /// The Ethernet multicast address of ff02::2 (RFC 2464 7).
    pub const ALL_ROUTERS: [u8; 6] = [0x33, 0x33, 0, 0, 0, 2];
}

/// IPv6 header offsets (RFC 8200 3).
mod ipv6 {
    use std::ops::Range;
    pub const VERSION: usize = 0;
    pub const PAYLOAD_LENGTH: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SOURCE: Range<usize> = 8..24;
    pub const DESTINATION: Range<usize> = 24..40;
    pub const SIZE: usize = 40;
    pub const VERSION_6: u8 = 0x60;
    /// Neighbor Discovery messages must carry hop limit 255.
    pub const ND_HOP_LIMIT: u8 = 255;
}

/// Router Solicitation ICMPv6 message for an AF_INET6 raw socket (checksum 0:
/// the kernel computes it), with a Source Link-Layer Address option when
/// `source_link_layer` is given.
pub fn router_solicitation(source_link_layer: Option<&[u8]>) -> Vec<u8> {
    let mut message = vec![0u8; SOLICIT_SIZE];
    message[0] = ROUTER_SOLICIT;
    if let Some(address) = source_link_layer {
        NdOption::SourceLinkLayerAddress(address.to_vec()).emit(&mut message);
    }
    message
}

/// A complete Ethernet frame for an AF_PACKET socket: dst 33:33:00:00:00:02,
/// src `source_mac`, ethertype 0x86dd, IPv6 header (hop limit 255, src ::, dst
/// ff02::2), an RS with NO options (RFC 4861 forbids SLLA with ::), and the
/// ICMPv6 checksum computed over the pseudo-header.
pub fn router_solicitation_frame(source_mac: [u8; 6]) -> Vec<u8> {
    let source = Ipv6Addr::UNSPECIFIED;
    let destination = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    let mut message = router_solicitation(None);
    let checksum = icmpv6_checksum(source, destination, &message);
    message[CHECKSUM].copy_from_slice(&checksum.to_be_bytes());

    let mut frame = vec![0u8; ethernet::SIZE + ipv6::SIZE];
    frame[ethernet::DESTINATION].copy_from_slice(&ethernet::ALL_ROUTERS);
    frame[ethernet::SOURCE].copy_from_slice(&source_mac);
    frame[ethernet::ETHERTYPE].copy_from_slice(&ethernet::ETHERTYPE_IPV6.to_be_bytes());
    let ip = &mut frame[ethernet::SIZE..];
    ip[ipv6::VERSION] = ipv6::VERSION_6;
    let payload_length = u16::try_from(message.len()).unwrap_or(u16::MAX);
    ip[ipv6::PAYLOAD_LENGTH].copy_from_slice(&payload_length.to_be_bytes());
    ip[ipv6::NEXT_HEADER] = NEXT_HEADER_ICMPV6;
    ip[ipv6::HOP_LIMIT] = ipv6::ND_HOP_LIMIT;
    ip[ipv6::SOURCE].copy_from_slice(&source.octets());
    ip[ipv6::DESTINATION].copy_from_slice(&destination.octets());
    frame.extend_from_slice(&message);
    frame
}
