//! Router Solicitation builders, with the frames' checksums verified by an
//! independent computation and against a frame the kernel built.

use std::net::Ipv6Addr;

use slaacd_wire::{SolicitationSource, router_solicitation, router_solicitation_frame};

#[test]
fn a_solicitation_without_link_layer_address_is_eight_bytes() {
    assert_eq!(router_solicitation(None), [133, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn a_solicitation_carries_the_source_link_layer_option_padded() {
    let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    assert_eq!(
        router_solicitation(Some(&mac)),
        [
            133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55
        ]
    );
    // An 8-byte address (e.g. IEEE 802.15.4) needs two units.
    let long = router_solicitation(Some(&[9; 8]));
    assert_eq!(long.len(), 24);
    assert_eq!(&long[8..10], &[1, 2]);
    assert_eq!(&long[18..], &[0; 6]);
}

#[test]
fn a_link_without_a_link_layer_address_announces_none() {
    assert_eq!(router_solicitation(Some(&[])), router_solicitation(None));
}

/// RFC 1071 sum written from scratch: pseudo-header and message laid out in
/// one buffer, summed as 32-bit accumulations.
fn independent_checksum(ipv6_header: &[u8], icmp: &[u8]) -> u16 {
    let mut buffer = Vec::new();
    buffer.extend_from_slice(&ipv6_header[8..24]); // source
    buffer.extend_from_slice(&ipv6_header[24..40]); // destination
    buffer.extend_from_slice(&(icmp.len() as u32).to_be_bytes());
    buffer.extend_from_slice(&[0, 0, 0, 58]);
    buffer.extend_from_slice(icmp);
    if buffer.len() % 2 == 1 {
        buffer.push(0);
    }
    let mut sum: u32 = 0;
    for i in (0..buffer.len()).step_by(2) {
        sum += (buffer[i] as u32) << 8 | buffer[i + 1] as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[test]
fn the_frame_has_ethernet_ipv6_and_icmpv6_headers_and_a_correct_checksum() {
    let mac = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];
    let frame = router_solicitation_frame(mac, SolicitationSource::Unspecified);
    assert_eq!(frame.len(), 14 + 40 + 8);
    assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 2]);
    assert_eq!(&frame[6..12], &mac);
    assert_eq!(&frame[12..14], &[0x86, 0xdd]);
    let ip = &frame[14..54];
    assert_eq!(ip[0] >> 4, 6);
    assert_eq!(&ip[4..6], &[0, 8], "payload length");
    assert_eq!(ip[6], 58, "next header");
    assert_eq!(ip[7], 255, "hop limit");
    assert_eq!(&ip[8..24], &[0; 16], "source ::");
    let mut all_routers = [0u8; 16];
    all_routers[0] = 0xff;
    all_routers[1] = 0x02;
    all_routers[15] = 2;
    assert_eq!(&ip[24..40], &all_routers);
    let icmp = &frame[54..];
    assert_eq!(icmp[0], 133);
    assert_eq!(icmp[1], 0);
    let stored = u16::from_be_bytes([icmp[2], icmp[3]]);
    let mut zeroed = icmp.to_vec();
    zeroed[2] = 0;
    zeroed[3] = 0;
    assert_eq!(stored, independent_checksum(ip, &zeroed));
    // By hand: ff02 + 0002 (destination) + 0008 (length) + 003a (next
    // header) + 8500 (type 133, code 0) = 1_8446; folded 8447; inverted 7bb8.
    assert_eq!(stored, 0x7bb8);
}

const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);

/// Checks the Ethernet and IPv6 headers of a frame from `mac` and `source`
/// and its checksum, independently; returns the ICMPv6 message.
fn checked_message(frame: &[u8], mac: [u8; 6], source: Ipv6Addr) -> Vec<u8> {
    assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 2]);
    assert_eq!(&frame[6..12], &mac);
    assert_eq!(&frame[12..14], &[0x86, 0xdd]);
    let ip = &frame[14..54];
    assert_eq!(ip[6], 58, "next header");
    assert_eq!(ip[7], 255, "hop limit");
    assert_eq!(&ip[8..24], &source.octets());
    let icmp = &frame[54..];
    assert_eq!(usize::from(u16::from_be_bytes([ip[4], ip[5]])), icmp.len());
    let mut zeroed = icmp.to_vec();
    zeroed[2] = 0;
    zeroed[3] = 0;
    let stored = u16::from_be_bytes([icmp[2], icmp[3]]);
    assert_eq!(stored, independent_checksum(ip, &zeroed));
    icmp.to_vec()
}

/// The kernel's own solicitation (Linux 6.18) from the EUI-64 link-local of
/// 02:00:00:00:00:02, as tcpdump captured it on the peer of the veth.
const KERNEL_SOLICITATION: [u8; 70] = [
    0x33, 0x33, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xfe, 0x00, 0x00, 0x02, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x85, 0x00, 0x7b, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
];

#[test]
fn a_frame_from_the_link_local_address_is_the_one_the_kernel_sends() {
    let mac = [0x02, 0, 0, 0, 0, 0x02];
    let source = SolicitationSource::LinkLocal {
        address: LINK_LOCAL,
        optimistic: false,
    };
    let frame = router_solicitation_frame(mac, source);
    assert_eq!(frame, KERNEL_SOLICITATION);
    let message = checked_message(&frame, mac, LINK_LOCAL);
    assert_eq!(&message[8..], &[1, 1, 0x02, 0, 0, 0, 0, 0x02], "the option");
}

#[test]
fn a_frame_from_an_optimistic_address_carries_no_option() {
    let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    let source = SolicitationSource::LinkLocal {
        address: LINK_LOCAL,
        optimistic: true,
    };
    let frame = router_solicitation_frame(mac, source);
    let message = checked_message(&frame, mac, LINK_LOCAL);
    assert_eq!(message.len(), 8);
    assert_eq!(message[0], 133);
}

#[test]
fn only_a_usable_link_local_source_may_announce_the_link_layer_address() {
    let usable = SolicitationSource::LinkLocal {
        address: LINK_LOCAL,
        optimistic: false,
    };
    let optimistic = SolicitationSource::LinkLocal {
        address: LINK_LOCAL,
        optimistic: true,
    };
    assert!(usable.may_carry_link_layer_address());
    assert!(!optimistic.may_carry_link_layer_address());
    assert!(!SolicitationSource::Unspecified.may_carry_link_layer_address());
    assert_eq!(optimistic.address(), LINK_LOCAL);
    assert_eq!(
        SolicitationSource::Unspecified.address(),
        Ipv6Addr::UNSPECIFIED
    );
}
