//! The IPv6 header (RFC 8200 3) in front of an ICMPv6 message, with the
//! message's checksum filled in over the pseudo-header, for a packet socket,
//! where no kernel writes either.
//!
//! Building only: it must never read received bytes, and it only carries
//! ICMPv6 directly (no extension headers).

use std::net::Ipv6Addr;

use crate::checksum::{NEXT_HEADER_ICMPV6, icmpv6_checksum};

/// IPv6 header offsets.
mod field {
    use std::ops::Range;
    pub const VERSION: usize = 0;
    pub const PAYLOAD_LENGTH: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SOURCE: Range<usize> = 8..24;
    pub const DESTINATION: Range<usize> = 24..40;
}

/// Bytes in the fixed IPv6 header.
pub(crate) const HEADER_SIZE: usize = 40;
/// Version 6 in the top four bits; traffic class and flow label stay zero.
const VERSION_6: u8 = 0x60;
/// The ICMPv6 checksum field, counted from the ICMPv6 type byte.
const ICMPV6_CHECKSUM: std::ops::Range<usize> = 2..4;

/// Appends an IPv6 packet carrying `message` (an ICMPv6 message whose
/// checksum field is zero) to `out`: the header with next header 58 and
/// `hop_limit`, then the message with its checksum stored.
///
/// A message longer than an IPv6 payload can be (65,535 bytes) gets the
/// largest payload length; the callers build messages of a few dozen bytes.
pub(crate) fn emit_icmpv6_packet(
    out: &mut Vec<u8>,
    source: Ipv6Addr,
    destination: Ipv6Addr,
    hop_limit: u8,
    message: &[u8],
) {
    let start = out.len();
    out.resize(start + HEADER_SIZE, 0);
    let header = &mut out[start..];
    header[field::VERSION] = VERSION_6;
    let payload_length = u16::try_from(message.len()).unwrap_or(u16::MAX);
    header[field::PAYLOAD_LENGTH].copy_from_slice(&payload_length.to_be_bytes());
    header[field::NEXT_HEADER] = NEXT_HEADER_ICMPV6;
    header[field::HOP_LIMIT] = hop_limit;
    header[field::SOURCE].copy_from_slice(&source.octets());
    header[field::DESTINATION].copy_from_slice(&destination.octets());

    let message_start = out.len();
    out.extend_from_slice(message);
    let checksum = icmpv6_checksum(source, destination, message);
    let field = message_start + ICMPV6_CHECKSUM.start..message_start + ICMPV6_CHECKSUM.end;
    // A message too short for a checksum field has nowhere to store one.
    if let Some(stored) = out.get_mut(field) {
        stored.copy_from_slice(&checksum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);
    const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

    #[test]
    fn the_header_names_version_length_protocol_hop_limit_and_addresses() {
        let mut out = vec![0xee];
        emit_icmpv6_packet(
            &mut out,
            SOURCE,
            ALL_ROUTERS,
            255,
            &[133, 0, 0, 0, 0, 0, 0, 0],
        );
        assert_eq!(out[0], 0xee, "what was there before is kept");
        let header = &out[1..=HEADER_SIZE];
        assert_eq!(header[..4], [0x60, 0, 0, 0], "version 6, no class, no flow");
        assert_eq!(header[4..6], [0, 8], "payload length");
        assert_eq!(header[6], 58, "next header");
        assert_eq!(header[7], 255, "hop limit");
        assert_eq!(header[8..24], SOURCE.octets());
        assert_eq!(header[24..40], ALL_ROUTERS.octets());
        assert_eq!(out.len(), 1 + HEADER_SIZE + 8);
    }

    /// The kernel's own solicitation from fe80::ff:fe00:2 (Linux 6.18, MAC
    /// 02:00:00:00:00:02), captured with tcpdump: its checksum is 0x7b2a.
    #[test]
    fn the_checksum_matches_one_the_kernel_computed() {
        let message = [133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 2];
        let mut out = Vec::new();
        emit_icmpv6_packet(&mut out, SOURCE, ALL_ROUTERS, 255, &message);
        assert_eq!(out[HEADER_SIZE + 2..HEADER_SIZE + 4], [0x7b, 0x2a]);
    }

    #[test]
    fn a_message_without_room_for_a_checksum_is_carried_unchanged() {
        let mut out = Vec::new();
        emit_icmpv6_packet(&mut out, SOURCE, ALL_ROUTERS, 255, &[133, 0]);
        assert_eq!(out[HEADER_SIZE..], [133, 0]);
        assert_eq!(out[4..6], [0, 2]);
    }
}
