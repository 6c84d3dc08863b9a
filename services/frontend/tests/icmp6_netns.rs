//! The raw ICMPv6 socket against a real kernel, between two network
//! namespaces: what it receives (only Router Advertisements, with interface,
//! source, hop limit and whether they came in fragments) and the Router
//! Solicitations it sends. Needs root.

mod icmp6_peer;
mod netlink_testnet;

use std::net::Ipv6Addr;
use std::time::Duration;

use icmp6_peer::PeerSocket;
use netlink_testnet::{HOST_MAC, Side, TestNet, icmpv6_checksum_ok};
use slaacd_frontend::icmp6::{Icmp6Error, RaSocket, ReceivedRa, open_icmp6_socket};

const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const HOST: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// A minimal Router Advertisement: hop limit 64, router lifetime 1800 s.
const ADVERT: [u8; 16] = [134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
/// An echo request, which the filter must hold back.
const ECHO_REQUEST: [u8; 8] = [128, 0, 0, 0, 0x12, 0x34, 0, 1];

/// Namespaces with the veth up, without the kernel's own link-local
/// addresses (so the tests choose them) or its own solicitations and RA
/// processing on the host (as under slaacd), and the host's ICMPv6 socket.
fn link_up(tag: &str) -> (TestNet, std::os::fd::OwnedFd) {
    let net = TestNet::new(tag);
    net.sysctl(Side::Host, "net.ipv6.conf.h0.accept_ra=0");
    net.ip(Side::Host, "link set h0 addrgenmode none");
    net.ip(Side::Peer, "link set p0 addrgenmode none");
    net.ip(Side::Host, "link set h0 up");
    net.ip(Side::Peer, "link set p0 up");
    net.wait_carrier(Side::Host, "h0");
    net.wait_carrier(Side::Peer, "p0");
    let fd = net
        .within(Side::Host, open_icmp6_socket)
        .expect("open the ICMPv6 socket");
    (net, fd)
}

#[tokio::test]
async fn router_advertisements_arrive_with_interface_source_and_hop_limit_and_nothing_else_does() {
    let (net, fd) = link_up("ra");
    net.ip(Side::Peer, "addr add fe80::1/64 dev p0 nodad");
    net.wait_usable(Side::Peer, "p0", ROUTER);
    let host_index = net.index(Side::Host, "h0");
    let peer_index = net.index(Side::Peer, "p0");
    let socket = RaSocket::new(fd).expect("take over the ICMPv6 socket");
    let router = PeerSocket::open(&net, Side::Peer, "p0");
    router.bind(ROUTER, peer_index);

    // Sent first: were it let through, it would be received first.
    router.send(&ECHO_REQUEST, ALL_NODES, peer_index, 255);
    router.send(&ADVERT, ALL_NODES, peer_index, 255);
    router.send(&ADVERT, ALL_NODES, peer_index, 64);

    for hop_limit in [255, 64] {
        let received = tokio::time::timeout(Duration::from_secs(5), socket.recv())
            .await
            .expect("a router advertisement within 5 s")
            .expect("a complete router advertisement");
        let ReceivedRa {
            if_index,
            source,
            hop_limit: received_hop_limit,
            fragmented,
            packet,
        } = received;
        assert_eq!(if_index, host_index);
        assert_eq!(source, ROUTER);
        assert_eq!(received_hop_limit, hop_limit);
        assert!(!fragmented, "sent whole");
        assert_eq!(packet.len(), ADVERT.len());
        assert_eq!(packet[..2], ADVERT[..2], "type and code");
        assert_eq!(packet[4..], ADVERT[4..], "body");
    }
}

/// RFC 6980: Neighbor Discovery must not come in fragments. An RA larger
/// than the link's MTU leaves the peer's raw socket in fragments; the
/// kernel reassembles it and the socket says so.
#[tokio::test]
async fn a_router_advertisement_that_came_in_fragments_is_marked_as_such() {
    let (net, fd) = link_up("fragments");
    net.ip(Side::Peer, "addr add fe80::1/64 dev p0 nodad");
    net.wait_usable(Side::Peer, "p0", ROUTER);
    let peer_index = net.index(Side::Peer, "p0");
    let socket = RaSocket::new(fd).expect("take over the ICMPv6 socket");
    let router = PeerSocket::open(&net, Side::Peer, "p0");
    router.bind(ROUTER, peer_index);
    // The advertisement and options of an unknown type (253), 2000 bytes
    // in all: more than the veth's 1500.
    let mut large = ADVERT.to_vec();
    for _ in 0..248 {
        large.extend_from_slice(&[253, 1, 0, 0, 0, 0, 0, 0]);
    }

    router.send(&large, ALL_NODES, peer_index, 255);
    router.send(&ADVERT, ALL_NODES, peer_index, 255);

    for (length, in_fragments) in [(large.len(), true), (ADVERT.len(), false)] {
        let received = tokio::time::timeout(Duration::from_secs(5), socket.recv())
            .await
            .expect("a router advertisement within 5 s")
            .expect("a complete router advertisement");
        assert_eq!(received.packet.len(), length);
        assert_eq!(received.fragmented, in_fragments, "{length} bytes");
    }
}

#[tokio::test]
async fn a_solicitation_from_the_link_local_address_carries_the_link_layer_option_when_asked() {
    let (net, fd) = link_up("rs");
    net.ip(Side::Host, "addr add fe80::2/64 dev h0 nodad");
    net.wait_usable(Side::Host, "h0", HOST);
    let host_index = net.index(Side::Host, "h0");
    let socket = RaSocket::new(fd).expect("take over the ICMPv6 socket");
    let router = PeerSocket::open(&net, Side::Peer, "p0");

    socket
        .send_solicitation(host_index, Some(&HOST_MAC))
        .expect("send with the option");
    let with_option = router.receive(133);
    socket
        .send_solicitation(host_index, None)
        .expect("send without the option");
    let without_option = router.receive(133);

    for message in [&with_option, &without_option] {
        assert_eq!(message.source, HOST);
        assert_eq!(message.destination, ALL_ROUTERS);
        assert_eq!(message.hop_limit, 255);
        assert_eq!(message.bytes[1], 0, "code");
        assert!(icmpv6_checksum_ok(HOST, ALL_ROUTERS, &message.bytes));
    }
    let mut option = vec![1, 1];
    option.extend_from_slice(&HOST_MAC);
    assert_eq!(with_option.bytes.len(), 16);
    assert_eq!(with_option.bytes[8..], option[..]);
    assert_eq!(without_option.bytes.len(), 8);
}

#[tokio::test]
async fn a_solicitation_without_a_usable_link_local_address_fails_naming_the_interface() {
    let (net, fd) = link_up("tentative");
    // DAD on: the address stays tentative for a second or more.
    net.ip(Side::Host, "addr add fe80::2/64 dev h0");
    let host_index = net.index(Side::Host, "h0");
    let socket = RaSocket::new(fd).expect("take over the ICMPv6 socket");

    let error = socket
        .send_solicitation(host_index, Some(&HOST_MAC))
        .expect_err("sent from a tentative address");
    match &error {
        Icmp6Error::Send { if_index, source } => {
            assert_eq!(*if_index, host_index);
            assert_eq!(source.raw_os_error(), Some(libc::EADDRNOTAVAIL));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        error
            .to_string()
            .contains(&format!("interface index {host_index}"))
    );
}

#[test]
fn taking_over_the_socket_outside_a_runtime_is_an_error_not_a_panic() {
    let net = TestNet::new("no-runtime");
    let fd = net
        .within(Side::Host, open_icmp6_socket)
        .expect("open the ICMPv6 socket");
    let error = RaSocket::new(fd).expect_err("registered without a runtime");
    assert!(matches!(error, Icmp6Error::Register(_)), "{error}");
}
