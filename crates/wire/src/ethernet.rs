//! The Ethernet header (IEEE 802.3, Ethernet II framing) of an IPv6 frame
//! for a packet socket, and the multicast MAC address of an IPv6 multicast
//! group (RFC 2464 7).
//!
//! Building only: it must never read received bytes.

use std::net::Ipv6Addr;

/// Ethernet header offsets.
mod field {
    use std::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
}

/// Bytes in the Ethernet header.
pub(crate) const HEADER_SIZE: usize = 14;
/// The EtherType of IPv6.
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Appends an Ethernet header for an IPv6 payload to `out`.
pub(crate) fn emit_ipv6_header(out: &mut Vec<u8>, destination: [u8; 6], source: [u8; 6]) {
    let start = out.len();
    out.resize(start + HEADER_SIZE, 0);
    let header = &mut out[start..];
    header[field::DESTINATION].copy_from_slice(&destination);
    header[field::SOURCE].copy_from_slice(&source);
    header[field::ETHERTYPE].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
}

/// The MAC address an IPv6 multicast `group` is sent to: 33:33 and the
/// group's last four bytes.
pub(crate) fn multicast_mac(group: Ipv6Addr) -> [u8; 6] {
    let [.., a, b, c, d] = group.octets();
    [0x33, 0x33, a, b, c, d]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multicast_groups_map_to_33_33_and_their_last_four_bytes() {
        let all_routers = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
        assert_eq!(multicast_mac(all_routers), [0x33, 0x33, 0, 0, 0, 2]);
        let solicited_node = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff12, 0x3456);
        assert_eq!(
            multicast_mac(solicited_node),
            [0x33, 0x33, 0xff, 0x12, 0x34, 0x56]
        );
    }

    #[test]
    fn the_header_is_destination_source_and_the_ipv6_ethertype() {
        let mut out = Vec::new();
        emit_ipv6_header(&mut out, [1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd]);
    }
}
