//! The Internet checksum (RFC 1071) over an ICMPv6 message and its IPv6
//! pseudo-header (RFC 8200 section 8.1).
//!
//! Only used to build frames for packet sockets, where no kernel fills the
//! checksum in; it must never be needed on the receive path (the kernel checks
//! received ICMPv6 checksums).

use std::net::Ipv6Addr;

/// ICMPv6's IPv6 next-header value.
pub(crate) const NEXT_HEADER_ICMPV6: u8 = 58;

/// The checksum to store in an ICMPv6 header whose checksum field is zero.
pub(crate) fn icmpv6_checksum(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> u16 {
    let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
    let mut sum = 0u64;
    sum = add_words(sum, &source.octets());
    sum = add_words(sum, &destination.octets());
    sum = add_words(sum, &length.to_be_bytes());
    sum = add_words(sum, &[0, 0, 0, NEXT_HEADER_ICMPV6]);
    sum = add_words(sum, message);
    !fold(sum)
}

/// Adds big-endian 16-bit words; an odd trailing byte is padded with zero.
fn add_words(mut sum: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        sum += u64::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    sum
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves at most 16 bits.
    u16::try_from(sum).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_its_checksum_sums_to_all_ones() {
        let source = Ipv6Addr::new(0xfe80, 0, 0, 0, 1, 2, 3, 4);
        let destination = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
        let mut message = vec![133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 9];
        let checksum = icmpv6_checksum(source, destination, &message);
        message[2..4].copy_from_slice(&checksum.to_be_bytes());
        assert_eq!(icmpv6_checksum(source, destination, &message), 0);
    }
}
