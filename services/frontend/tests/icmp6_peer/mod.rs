//! The peer's side of the socket tests: a raw ICMPv6 socket that sends
//! crafted packets and receives what the host sent (with its hop limit and
//! destination). Blocking with timeouts; used only inside the test
//! namespaces.

#![allow(dead_code, reason = "each test crate uses its own part of this module")]

use std::io::IoSliceMut;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrIn6, recvmsg, setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::netlink_testnet::{Side, TestNet};

pub const PATIENCE: Duration = Duration::from_secs(5);

/// One ICMPv6 message the peer received.
#[derive(Debug)]
pub struct Message {
    pub source: Ipv6Addr,
    pub destination: Ipv6Addr,
    pub hop_limit: i32,
    pub bytes: Vec<u8>,
}

/// A raw ICMPv6 socket in one namespace.
pub struct PeerSocket {
    socket: Socket,
}

impl PeerSocket {
    /// Opens it in the namespace, bound to `interface`, joined to ff02::2 so
    /// solicitations reach it, reporting hop limit and destination.
    pub fn open(net: &TestNet, side: Side, interface: &str) -> PeerSocket {
        let index = net.index(side, interface);
        let socket = net.within(side, || {
            Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).expect("raw socket")
        });
        socket
            .bind_device(Some(interface.as_bytes()))
            .expect("bind to the interface");
        let all_routers = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
        socket
            .join_multicast_v6(&all_routers, index)
            .expect("join ff02::2");
        socket
            .set_recv_hoplimit_v6(true)
            .expect("IPV6_RECVHOPLIMIT");
        setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true).expect("IPV6_RECVPKTINFO");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("SO_RCVTIMEO");
        PeerSocket { socket }
    }

    /// Binds the source address (`source`, on interface `index`).
    pub fn bind(&self, source: Ipv6Addr, index: u32) {
        let address = SocketAddrV6::new(source, 0, 0, index);
        self.socket.bind(&address.into()).expect("bind the source");
    }

    /// Sends an ICMPv6 message (the kernel fills in the checksum) with the
    /// given hop limit to a multicast group on interface `index`.
    pub fn send(&self, message: &[u8], group: Ipv6Addr, index: u32, hop_limit: u32) {
        self.socket
            .set_multicast_hops_v6(hop_limit)
            .expect("IPV6_MULTICAST_HOPS");
        let destination = SockAddr::from(SocketAddrV6::new(group, 0, 0, index));
        let sent = self.socket.send_to(message, &destination).expect("send");
        assert_eq!(sent, message.len());
    }

    /// The next message of ICMPv6 type `kind`, skipping others (MLD
    /// reports, DAD...); fails the test after a few seconds.
    pub fn receive(&self, kind: u8) -> Message {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(message) = self.receive_one()
                && message.bytes.first() == Some(&kind)
            {
                return message;
            }
        }
        panic!("no ICMPv6 message of type {kind} arrived");
    }

    fn receive_one(&self) -> Option<Message> {
        let mut buffer = [0u8; 2048];
        let mut iov = [IoSliceMut::new(&mut buffer)];
        let mut control = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
        let received = recvmsg::<SockaddrIn6>(
            self.socket.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::empty(),
        )
        .ok()?;
        let mut destination = None;
        let mut hop_limit = None;
        for control_message in received.cmsgs().expect("ancillary data") {
            match control_message {
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    destination = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                }
                ControlMessageOwned::Ipv6HopLimit(limit) => hop_limit = Some(limit),
                _ => {}
            }
        }
        let source = received.address.expect("source address").ip();
        let length = received.bytes;
        Some(Message {
            source,
            destination: destination.expect("packet information"),
            hop_limit: hop_limit.expect("hop limit"),
            bytes: buffer[..length].to_vec(),
        })
    }
}
