//! Router Solicitation builders, with the frame's checksum verified by an
//! independent computation.

use slaacd_wire::{router_solicitation, router_solicitation_frame};

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
    let frame = router_solicitation_frame(mac);
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
    assert_ne!(stored, 0);
}
