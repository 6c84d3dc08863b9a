//! Router Solicitations (RFC 4861 4.1): the ICMPv6 message for a raw socket
//! and a complete Ethernet frame for a packet socket.
//!
//! Building only; never reads received bytes. The frame is how every
//! solicitation leaves an Ethernet-like link: at carrier-up the link-local
//! address is still tentative, so it must come from the unspecified address,
//! which only a packet socket can send; and later a packet socket needs no
//! neighbour entry, which an RA flood can exhaust for the whole machine,
//! while the kernel's IPv6 output needs one. Which option a solicitation
//! carries follows from its source here, once: none from `::` (RFC 4861
//! 4.1) or from an optimistic address (RFC 4429 3.2), the source link-layer
//! address otherwise.

use std::net::Ipv6Addr;

use crate::ethernet;
use crate::ipv6;
use crate::option::NdOption;

/// ICMPv6 type of a Router Solicitation.
const ROUTER_SOLICIT: u8 = 133;
/// Type, code, checksum and the reserved word.
const SOLICIT_SIZE: usize = 8;
/// ff02::2, all routers on the link: every solicitation goes there.
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
/// Neighbor Discovery messages must carry hop limit 255.
const ND_HOP_LIMIT: u8 = 255;

/// The address a solicitation frame is sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolicitationSource {
    /// `::`, while the interface has no usable link-local address.
    Unspecified,
    /// The interface's link-local address, usable: DAD is done, or it is
    /// `optimistic` (RFC 4429) and still in DAD.
    LinkLocal { address: Ipv6Addr, optimistic: bool },
}

impl SolicitationSource {
    /// The IPv6 source address.
    pub fn address(self) -> Ipv6Addr {
        match self {
            SolicitationSource::Unspecified => Ipv6Addr::UNSPECIFIED,
            SolicitationSource::LinkLocal { address, .. } => address,
        }
    }

    /// Whether a solicitation from here may carry the source link-layer
    /// address option.
    pub fn may_carry_link_layer_address(self) -> bool {
        matches!(
            self,
            SolicitationSource::LinkLocal {
                optimistic: false,
                ..
            }
        )
    }
}

/// Router Solicitation ICMPv6 message for an AF_INET6 raw socket (checksum 0:
/// the kernel computes it), with a Source Link-Layer Address option when
/// `source_link_layer` is given and not empty (a link without link-layer
/// addresses has none to announce).
pub fn router_solicitation(source_link_layer: Option<&[u8]>) -> Vec<u8> {
    let mut message = vec![0u8; SOLICIT_SIZE];
    message[0] = ROUTER_SOLICIT;
    if let Some(address) = source_link_layer.filter(|address| !address.is_empty()) {
        NdOption::SourceLinkLayerAddress(address.to_vec()).emit(&mut message);
    }
    message
}

/// A complete Ethernet frame for an AF_PACKET socket: to 33:33:00:00:00:02
/// from `source_mac`, an IPv6 header (hop limit 255, from `source`, to
/// ff02::2), and the solicitation with its checksum computed over the
/// pseudo-header; it carries `source_mac` as its source link-layer address
/// option when `source` allows one.
pub fn router_solicitation_frame(source_mac: [u8; 6], source: SolicitationSource) -> Vec<u8> {
    let link_layer = source
        .may_carry_link_layer_address()
        .then_some(source_mac.as_slice());
    let message = router_solicitation(link_layer);
    let mut frame = Vec::with_capacity(ethernet::HEADER_SIZE + ipv6::HEADER_SIZE + message.len());
    ethernet::emit_ipv6_header(&mut frame, ethernet::multicast_mac(ALL_ROUTERS), source_mac);
    ipv6::emit_icmpv6_packet(
        &mut frame,
        source.address(),
        ALL_ROUTERS,
        ND_HOP_LIMIT,
        &message,
    );
    frame
}
