//! Crafted Router Advertisements: whole IPv6 packets built here (source, hop
//! limit and bytes chosen by the test, the checksum computed to match) and
//! sent as frames from a packet socket opened inside a lab namespace, so a
//! test can play any number of routers, or a broken one, without
//! configuring a single address.
//!
//! It must never open its socket outside a namespace of the lab, and never
//! repair what the test asked for: a wrong hop limit or a truncated message
//! goes out exactly as built.

use std::io;
use std::mem::size_of;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use rand::RngExt;
use rand::rngs::SmallRng;
use slaacd_wire::{NdOption, PrefixInformation, RouterAdvert, RouterPreference};

use crate::netns::Netns;
use crate::packet_socket::{
    ETH_P_IPV6, IPV6_HEADER_LEN, NEXT_HEADER_ICMPV6, PacketSocket, PacketSocketError,
};

/// ff02::1, where unsolicited advertisements go.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The hop limit every Neighbor Discovery message must carry.
pub const ND_HOP_LIMIT: u8 = 255;

/// The Ethernet address of ff02::1 (RFC 2464: 33:33 and the group's last 32 bits).
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

/// A packet socket on one interface of a namespace, sending IPv6 packets to
/// the all-nodes Ethernet group.
pub struct RaSender {
    socket: OwnedFd,
    index: i32,
    interface: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error(transparent)]
    Open(#[from] PacketSocketError),
    #[error("sending a frame on {interface}: {source}")]
    Send {
        interface: String,
        source: io::Error,
    },
}

impl RaSender {
    /// Opens the socket inside `netns` (on a thread of its own, so the caller
    /// stays where it is) for `interface` there.
    pub fn open(netns: &Netns, interface: &str) -> Result<RaSender, SenderError> {
        let PacketSocket { socket, index } = PacketSocket::open(netns, interface)?;
        Ok(RaSender {
            socket,
            index,
            interface: interface.to_string(),
        })
    }

    /// Sends one IPv6 packet (header included) as it is.
    pub fn send_packet(&self, packet: &[u8]) -> Result<(), SenderError> {
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = ETH_P_IPV6.to_be();
        address.sll_ifindex = self.index;
        address.sll_halen = ALL_NODES_MAC.len() as u8;
        address.sll_addr[..ALL_NODES_MAC.len()].copy_from_slice(&ALL_NODES_MAC);
        // SAFETY: the buffer and the address are valid for the lengths given,
        // and the fd is an open socket owned by self.
        let sent = unsafe {
            libc::sendto(
                self.socket.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&raw const address).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(SenderError::Send {
                interface: self.interface.clone(),
                source: io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// Sends an ICMPv6 message (checksum field left for this function to
    /// fill) from `source` to all nodes with `hop_limit`.
    pub fn send_icmp(
        &self,
        source: Ipv6Addr,
        hop_limit: u8,
        message: &[u8],
    ) -> Result<(), SenderError> {
        self.send_packet(&ipv6_packet(source, ALL_NODES, hop_limit, message))
    }

    /// Sends `count` advertisements, the `n`th from `next(n)`, in bursts of
    /// `burst` with `pause` after each, so a flood lasts long enough to be
    /// measured without overrunning the link's backlog. Returns how long the
    /// sending took.
    pub fn send_paced(
        &self,
        count: usize,
        burst: usize,
        pause: Duration,
        mut next: impl FnMut(usize) -> (Ipv6Addr, RouterAdvert),
    ) -> Result<Duration, SenderError> {
        let started = Instant::now();
        for n in 0..count {
            let (source, advert) = next(n);
            self.send_advert(source, &advert)?;
            if (n + 1) % burst.max(1) == 0 {
                std::thread::sleep(pause);
            }
        }
        Ok(started.elapsed())
    }

    /// Sends a well-formed advertisement from `source` with hop limit 255.
    pub fn send_advert(&self, source: Ipv6Addr, advert: &RouterAdvert) -> Result<(), SenderError> {
        self.send_icmp(source, ND_HOP_LIMIT, &advert.emit())
    }
}

/// An IPv6 packet carrying `message` as ICMPv6, with the ICMPv6 checksum
/// computed over the pseudo-header (when the message is long enough to
/// hold one).
pub fn ipv6_packet(
    source: Ipv6Addr,
    destination: Ipv6Addr,
    hop_limit: u8,
    message: &[u8],
) -> Vec<u8> {
    let mut packet = Vec::with_capacity(IPV6_HEADER_LEN + message.len());
    packet.extend_from_slice(&[0x60, 0, 0, 0]);
    let payload_len = u16::try_from(message.len()).unwrap_or(u16::MAX);
    packet.extend_from_slice(&payload_len.to_be_bytes());
    packet.push(NEXT_HEADER_ICMPV6);
    packet.push(hop_limit);
    packet.extend_from_slice(&source.octets());
    packet.extend_from_slice(&destination.octets());
    let mut icmp = message.to_vec();
    if icmp.len() >= 4 {
        icmp[2..4].fill(0);
        let checksum = icmpv6_checksum(source, destination, &icmp);
        icmp[2..4].copy_from_slice(&checksum.to_be_bytes());
    }
    packet.extend_from_slice(&icmp);
    packet
}

/// The RFC 4443 2.3 checksum: one's complement sum over the pseudo-header
/// (RFC 8200 8.1) and the message.
pub fn icmpv6_checksum(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> u16 {
    let mut pseudo = Vec::with_capacity(40 + message.len() + 1);
    pseudo.extend_from_slice(&source.octets());
    pseudo.extend_from_slice(&destination.octets());
    pseudo.extend_from_slice(&(message.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, NEXT_HEADER_ICMPV6]);
    pseudo.extend_from_slice(message);
    if pseudo.len() % 2 == 1 {
        pseudo.push(0);
    }
    let mut sum: u32 = pseudo
        .chunks_exact(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A random fe80::/64 address.
pub fn random_link_local(rng: &mut SmallRng) -> Ipv6Addr {
    let iid: u64 = rng.random();
    Ipv6Addr::from((0xfe80_u128 << 112) | u128::from(iid))
}

/// An advertisement of a default router (lifetime 1800 s) with one
/// autonomous, on-link /64: the building block of legitimate traffic and of
/// floods.
pub fn advert_with_prefix(prefix: Ipv6Addr) -> RouterAdvert {
    RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: false,
        preference: RouterPreference::Medium,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_timer: 0,
        options: vec![NdOption::PrefixInformation(PrefixInformation {
            prefix,
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 3600,
            preferred_lifetime: 1800,
        })],
    }
}

/// Flood traffic: the next advertisement drawn from `rng`, from a random link-local source with a random prefix.
pub fn flood_advert(rng: &mut SmallRng) -> (Ipv6Addr, RouterAdvert) {
    let advert = advert_with_prefix(random_prefix(rng));
    (random_link_local(rng), advert)
}

/// A random /64 inside 2001:db8::/32 (never 2001:db8:1::/64, the labs'
/// legitimate prefix).
pub fn random_prefix(rng: &mut SmallRng) -> Ipv6Addr {
    const LAB_SUBNET: u32 = 0x0001_0000;
    let drawn: u32 = rng.random();
    let subnet = if drawn == LAB_SUBNET {
        drawn + 1
    } else {
        drawn
    };
    Ipv6Addr::from((0x2001_0db8_u128 << 96) | (u128::from(subnet) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_a_packet_verifies_to_zero() {
        let source: Ipv6Addr = "fe80::1".parse().unwrap();
        let message = advert_with_prefix("2001:db8:5::".parse().unwrap()).emit();
        let packet = ipv6_packet(source, ALL_NODES, 255, &message);
        let icmp = &packet[IPV6_HEADER_LEN..];
        // Summing a message that holds its own checksum gives 0xffff, whose
        // complement is 0.
        assert_eq!(icmpv6_checksum(source, ALL_NODES, icmp), 0);
        assert_ne!(&icmp[2..4], &[0, 0]);
    }

    #[test]
    fn header_carries_length_hop_limit_and_addresses() {
        let source: Ipv6Addr = "fe80::2".parse().unwrap();
        let packet = ipv6_packet(source, ALL_NODES, 64, &[134, 0, 0, 0, 1, 2]);
        assert_eq!(packet.len(), IPV6_HEADER_LEN + 6);
        assert_eq!(packet[0] >> 4, 6);
        assert_eq!(u16::from_be_bytes([packet[4], packet[5]]), 6);
        assert_eq!((packet[6], packet[7]), (NEXT_HEADER_ICMPV6, 64));
        assert_eq!(&packet[8..24], &source.octets());
        assert_eq!(&packet[24..40], &ALL_NODES.octets());
    }

    #[test]
    fn random_addresses_are_link_local_and_prefixes_avoid_the_lab_prefix() {
        use rand::SeedableRng;
        let mut rng = SmallRng::seed_from_u64(7);
        for _ in 0..1000 {
            let source = random_link_local(&mut rng);
            assert_eq!(source.segments()[..4], [0xfe80, 0, 0, 0]);
            let prefix = random_prefix(&mut rng);
            assert_eq!(prefix.segments()[..2], [0x2001, 0x0db8]);
            assert_ne!(prefix.segments()[2..4], [0, 1]);
            assert_eq!(prefix.segments()[4..], [0, 0, 0, 0]);
        }
    }
}
