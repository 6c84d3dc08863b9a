//! The packet socket against a real kernel, between two network namespaces:
//! the Router Solicitation from `::` sent at carrier-up, while the host's
//! link-local address is still tentative, and those from the link-local
//! address once it is usable, as the peer sees them. Needs root.

mod icmp6_peer;
mod netlink_testnet;

use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::socket::{MsgFlags, recv};
use socket2::{Domain, Protocol, Socket, Type};

use icmp6_peer::{PATIENCE, PeerSocket};
use netlink_testnet::{HOST_MAC, Side, TestNet, icmpv6_checksum_ok};
use slaacd_frontend::packet::{PacketError, PacketSocket, open_packet_socket};
use slaacd_wire::SolicitationSource;

const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
const HOST_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);

/// Ethernet header, then IPv6 header offsets within the frame.
const ETHERNET: usize = 14;
const IPV6: usize = 40;

fn is_solicitation_from_host(frame: &[u8]) -> bool {
    frame.len() >= ETHERNET + IPV6 + 8
        && frame[6..12] == HOST_MAC
        && frame[12..14] == [0x86, 0xdd]
        && frame[ETHERNET + 6] == 58
        && frame[ETHERNET + IPV6] == 133
}

/// An AF_PACKET socket that sees every frame in one namespace (the peer
/// has only `lo` and `p0`).
pub struct Capture {
    socket: Socket,
}

impl Capture {
    pub fn open(net: &TestNet, side: Side) -> Capture {
        let all_protocols = i32::from((libc::ETH_P_ALL as u16).to_be());
        let socket = net.within(side, || {
            Socket::new(
                Domain::PACKET,
                Type::RAW,
                Some(Protocol::from(all_protocols)),
            )
            .expect("packet socket")
        });
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("SO_RCVTIMEO");
        Capture { socket }
    }

    /// The next frame for which `wanted` holds; fails the test after a few
    /// seconds.
    pub fn frame(&self, wanted: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let mut buffer = [0u8; 2048];
            let Ok(length) = recv(self.socket.as_raw_fd(), &mut buffer, MsgFlags::empty()) else {
                continue;
            };
            let frame = &buffer[..length];
            if wanted(frame) {
                return frame.to_vec();
            }
        }
        panic!("the expected frame never arrived");
    }
}

#[test]
fn a_solicitation_from_the_unspecified_address_reaches_the_peer_intact() {
    let net = TestNet::new("pkt");
    net.ip(Side::Peer, "link set p0 up");
    let fd = net
        .within(Side::Host, open_packet_socket)
        .expect("open the packet socket");
    let socket = PacketSocket::new(fd).expect("take over the packet socket");
    let capture = Capture::open(&net, Side::Peer);
    let router = PeerSocket::open(&net, Side::Peer, "p0");
    let host_index = net.index(Side::Host, "h0");

    net.ip(Side::Host, "link set h0 up");
    net.wait_carrier(Side::Host, "h0");
    net.wait_carrier(Side::Peer, "p0");
    let addresses = Command::new("ip")
        .args([
            "-n",
            net.name(Side::Host),
            "-6",
            "addr",
            "show",
            "dev",
            "h0",
        ])
        .output()
        .expect("run ip");
    let addresses = String::from_utf8_lossy(&addresses.stdout);
    assert!(
        addresses.contains("scope link tentative"),
        "the link-local address should still be tentative:\n{addresses}"
    );
    socket
        .send_solicitation(host_index, HOST_MAC, SolicitationSource::Unspecified)
        .expect("send from ::");

    let frame = capture.frame(is_solicitation_from_host);
    assert_eq!(frame[..6], [0x33, 0x33, 0, 0, 0, 2], "Ethernet destination");
    let ip = &frame[ETHERNET..];
    assert_eq!(ip[0] >> 4, 6, "IP version");
    assert_eq!(ip[4..6], [0, 8], "payload length");
    assert_eq!(ip[7], 255, "hop limit");
    assert_eq!(ip[8..24], Ipv6Addr::UNSPECIFIED.octets(), "source");
    assert_eq!(ip[24..40], ALL_ROUTERS.octets(), "destination");
    let message = &ip[IPV6..IPV6 + 8];
    assert_eq!(message[1], 0, "code");
    assert_eq!(message[4..8], [0, 0, 0, 0], "reserved, and no option");
    assert!(icmpv6_checksum_ok(
        Ipv6Addr::UNSPECIFIED,
        ALL_ROUTERS,
        message
    ));

    // The peer's kernel accepted it too (it drops bad checksums).
    let received = router.receive(133);
    assert_eq!(received.source, Ipv6Addr::UNSPECIFIED);
    assert_eq!(received.hop_limit, 255);
    assert_eq!(received.bytes, message);
}

#[test]
fn sending_on_a_missing_interface_fails_naming_it() {
    let net = TestNet::new("pkt-missing");
    let fd = net
        .within(Side::Host, open_packet_socket)
        .expect("open the packet socket");
    let socket = PacketSocket::new(fd).expect("take over the packet socket");
    let error = socket
        .send_solicitation(9999, HOST_MAC, SolicitationSource::Unspecified)
        .expect_err("sent on a missing interface");
    assert!(
        matches!(error, PacketError::Send { if_index: 9999, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("interface index 9999"));
}

/// The host's IPv6 neighbour entries on h0, NOARP ones (multicast) included.
fn host_neighbours(net: &TestNet) -> String {
    let output = Command::new("ip")
        .args([
            "-n",
            net.name(Side::Host),
            "-6",
            "neigh",
            "show",
            "nud",
            "all",
        ])
        .args(["dev", "h0"])
        .output()
        .expect("run ip");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn solicitations_from_the_link_local_address_need_no_neighbour_entry() {
    let net = TestNet::new("pkt-ll");
    // No kernel solicitations or link-local address of its own on h0.
    net.sysctl(Side::Host, "net.ipv6.conf.h0.accept_ra=0");
    net.ip(Side::Host, "link set h0 addrgenmode none");
    net.ip(Side::Peer, "link set p0 addrgenmode none");
    net.ip(Side::Host, "link set h0 up");
    net.ip(Side::Peer, "link set p0 up");
    net.wait_carrier(Side::Host, "h0");
    net.wait_carrier(Side::Peer, "p0");
    net.ip(Side::Host, "addr add fe80::2/64 dev h0 nodad");
    net.wait_usable(Side::Host, "h0", HOST_LINK_LOCAL);
    let fd = net
        .within(Side::Host, open_packet_socket)
        .expect("open the packet socket");
    let socket = PacketSocket::new(fd).expect("take over the packet socket");
    let capture = Capture::open(&net, Side::Peer);
    let router = PeerSocket::open(&net, Side::Peer, "p0");
    let host_index = net.index(Side::Host, "h0");

    let mut option = vec![1, 1];
    option.extend_from_slice(&HOST_MAC);
    for optimistic in [false, true] {
        let source = SolicitationSource::LinkLocal {
            address: HOST_LINK_LOCAL,
            optimistic,
        };
        socket
            .send_solicitation(host_index, HOST_MAC, source)
            .expect("send from the link-local address");
        let frame = capture.frame(is_solicitation_from_host);
        assert_eq!(frame[..6], [0x33, 0x33, 0, 0, 0, 2], "Ethernet destination");
        assert_eq!(frame[ETHERNET + 8..ETHERNET + 24], HOST_LINK_LOCAL.octets());
        // The peer's kernel accepted it (it drops bad checksums).
        let received = router.receive(133);
        assert_eq!(received.source, HOST_LINK_LOCAL);
        assert_eq!(received.destination, ALL_ROUTERS);
        assert_eq!(received.hop_limit, 255);
        assert!(icmpv6_checksum_ok(
            HOST_LINK_LOCAL,
            ALL_ROUTERS,
            &received.bytes
        ));
        if optimistic {
            assert_eq!(
                received.bytes.len(),
                8,
                "no option from an optimistic address"
            );
        } else {
            assert_eq!(
                received.bytes[8..],
                option[..],
                "the source link-layer option"
            );
        }
    }
    // Sent through the kernel's IPv6 output, a solicitation makes an
    // ff02::2 entry; through the packet socket it needs none, so a full
    // neighbour table cannot stop it.
    let neighbours = host_neighbours(&net);
    assert!(
        !neighbours.contains("ff02::2 "),
        "the solicitations made a neighbour entry:\n{neighbours}"
    );
}
