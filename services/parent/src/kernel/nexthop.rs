//! Linux nexthop objects (RTM_NEWNEXTHOP/RTM_DELNEXTHOP/RTM_GETNEXTHOP), one
//! per (interface, router), which the default routes point at by id.
//!
//! Why they exist: the kernel folds two userspace IPv6 routes with the same
//! destination and metric but different gateways into one ECMP route, which
//! ignores RFC 4191 preference and neighbour reachability; a route that names
//! a nexthop object is never merged, so every router keeps its own route, as
//! the kernel's own RA code does. netlink-packet-route has no message type for
//! nexthop objects, so this module encodes the few fields it needs itself and
//! talks over its own netlink socket. It must never touch a nexthop object it
//! did not make: ours carry protocol "ra", and nothing else is adopted or
//! deleted.

use std::collections::HashSet;
use std::io;
use std::net::Ipv6Addr;

use futures::StreamExt;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkDeserializable,
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
};
use rtnetlink::proto::ConnectionHandle;
use rtnetlink::sys::SocketAddr;
use rtnetlink::sys::protocols::NETLINK_ROUTE;

use super::NetlinkFailure;

const RTM_NEWNEXTHOP: u16 = 104;
const RTM_DELNEXTHOP: u16 = 105;
const RTM_GETNEXTHOP: u16 = 106;

const NHA_ID: u16 = 1;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
/// The two top bits of an attribute type are flags (nested, byte order).
const NLA_TYPE_MASK: u16 = 0x3fff;

const AF_INET6: u8 = 10;
/// RTPROT_RA: marks the nexthop objects slaacd owns.
const PROTOCOL_RA: u8 = 9;

/// struct nhmsg: family, scope, protocol, reserved, flags (u32).
const NHMSG_LEN: usize = 8;
const NLA_HEADER_LEN: usize = 4;

/// How many ids to try after the hashed one when others are taken.
const ID_PROBES: u32 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NexthopOperation {
    New,
    Delete,
    Get,
}

impl NexthopOperation {
    fn message_type(self) -> u16 {
        match self {
            Self::New => RTM_NEWNEXTHOP,
            Self::Delete => RTM_DELNEXTHOP,
            Self::Get => RTM_GETNEXTHOP,
        }
    }
}

/// The fields of a nexthop message that slaacd reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NexthopMessage {
    operation: NexthopOperation,
    family: u8,
    protocol: u8,
    id: Option<u32>,
    interface: Option<u32>,
    gateway: Option<Ipv6Addr>,
}

impl NexthopMessage {
    fn request(operation: NexthopOperation) -> Self {
        Self {
            operation,
            family: 0,
            protocol: 0,
            id: None,
            interface: None,
            gateway: None,
        }
    }

    fn is_ours_for(&self, index: u32, router: Ipv6Addr) -> bool {
        self.protocol == PROTOCOL_RA
            && self.family == AF_INET6
            && self.interface == Some(index)
            && self.gateway == Some(router)
    }

    fn attributes_len(&self) -> usize {
        let u32_attr = NLA_HEADER_LEN + 4;
        self.id.map_or(0, |_| u32_attr)
            + self.interface.map_or(0, |_| u32_attr)
            + self.gateway.map_or(0, |_| NLA_HEADER_LEN + 16)
    }
}

fn put_attribute(buffer: &mut [u8], kind: u16, value: &[u8]) -> usize {
    let len = NLA_HEADER_LEN + value.len();
    // Every value written here is 4 or 16 bytes, so no padding is needed.
    buffer[..2].copy_from_slice(&(len as u16).to_ne_bytes());
    buffer[2..4].copy_from_slice(&kind.to_ne_bytes());
    buffer[NLA_HEADER_LEN..len].copy_from_slice(value);
    len
}

impl NetlinkSerializable for NexthopMessage {
    fn message_type(&self) -> u16 {
        self.operation.message_type()
    }

    fn buffer_len(&self) -> usize {
        NHMSG_LEN + self.attributes_len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer[..NHMSG_LEN].fill(0);
        buffer[0] = self.family;
        buffer[2] = self.protocol;
        let mut at = NHMSG_LEN;
        if let Some(id) = self.id {
            at += put_attribute(&mut buffer[at..], NHA_ID, &id.to_ne_bytes());
        }
        if let Some(index) = self.interface {
            at += put_attribute(&mut buffer[at..], NHA_OIF, &index.to_ne_bytes());
        }
        if let Some(gateway) = self.gateway {
            put_attribute(&mut buffer[at..], NHA_GATEWAY, &gateway.octets());
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("malformed nexthop message: {0}")]
pub(crate) struct MalformedNexthop(&'static str);

fn read_u32(value: &[u8]) -> Result<u32, MalformedNexthop> {
    let bytes: [u8; 4] = value
        .try_into()
        .map_err(|_| MalformedNexthop("a 32-bit attribute has the wrong length"))?;
    Ok(u32::from_ne_bytes(bytes))
}

impl NetlinkDeserializable for NexthopMessage {
    type Error = MalformedNexthop;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, Self::Error> {
        let operation = match header.message_type {
            RTM_NEWNEXTHOP => NexthopOperation::New,
            RTM_DELNEXTHOP => NexthopOperation::Delete,
            RTM_GETNEXTHOP => NexthopOperation::Get,
            _ => return Err(MalformedNexthop("not a nexthop message type")),
        };
        if payload.len() < NHMSG_LEN {
            return Err(MalformedNexthop("shorter than struct nhmsg"));
        }
        let mut message = Self::request(operation);
        message.family = payload[0];
        message.protocol = payload[2];
        let mut rest = &payload[NHMSG_LEN..];
        while rest.len() >= NLA_HEADER_LEN {
            let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
            let kind = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
            if len < NLA_HEADER_LEN || len > rest.len() {
                return Err(MalformedNexthop("attribute length out of bounds"));
            }
            let value = &rest[NLA_HEADER_LEN..len];
            match kind {
                NHA_ID => message.id = Some(read_u32(value)?),
                NHA_OIF => message.interface = Some(read_u32(value)?),
                NHA_GATEWAY if message.family == AF_INET6 => {
                    let octets: [u8; 16] = value
                        .try_into()
                        .map_err(|_| MalformedNexthop("IPv6 gateway is not 16 bytes"))?;
                    message.gateway = Some(Ipv6Addr::from(octets));
                }
                _ => {}
            }
            rest = &rest[len.next_multiple_of(4).min(rest.len())..];
        }
        Ok(message)
    }
}

/// The first id tried for a router: a stable hash of (interface, router), so
/// a restarted daemon looks in the same place, never 0 (0 means "none").
fn preferred_id(index: u32, router: Ipv6Addr) -> u32 {
    // FNV-1a: small, stable across builds and platforms.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in index.to_be_bytes().into_iter().chain(router.octets()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash.max(1)
}

fn free_id(index: u32, router: Ipv6Addr, taken: &HashSet<u32>) -> Option<u32> {
    let first = preferred_id(index, router);
    (0..ID_PROBES)
        .map(|step| first.wrapping_add(step).max(1))
        .find(|id| !taken.contains(id))
}

/// slaacd's own netlink socket for nexthop objects.
#[derive(Debug, Clone)]
pub(crate) struct Nexthops {
    connection: ConnectionHandle<NexthopMessage>,
}

impl Nexthops {
    /// Opens the socket and spawns the task that drives it on the current
    /// tokio runtime; fails (never panics) outside a runtime.
    pub(crate) fn open() -> io::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(format!("no tokio runtime to drive the socket: {e}")))?;
        let (connection, handle, _unsolicited) =
            rtnetlink::proto::new_connection::<NexthopMessage>(NETLINK_ROUTE)?;
        runtime.spawn(connection);
        Ok(Self { connection: handle })
    }

    async fn exchange(
        &self,
        message: NexthopMessage,
        flags: u16,
    ) -> Result<Vec<NexthopMessage>, NetlinkFailure> {
        let mut request = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(message),
        );
        request.header.flags = flags;
        let mut replies = self
            .connection
            .request(request, SocketAddr::new(0, 0))
            .map_err(|_| NetlinkFailure::ConnectionClosed)?;
        let mut messages = Vec::new();
        while let Some(reply) = replies.next().await {
            match reply.payload {
                NetlinkPayload::InnerMessage(message) => messages.push(message),
                NetlinkPayload::Error(error) if error.code.is_some() => {
                    return Err(NetlinkFailure::Kernel(error.to_io()));
                }
                _ => {}
            }
        }
        Ok(messages)
    }

    async fn dump(&self) -> Result<Vec<NexthopMessage>, NetlinkFailure> {
        self.exchange(
            NexthopMessage::request(NexthopOperation::Get),
            NLM_F_REQUEST | NLM_F_DUMP,
        )
        .await
    }

    /// The id of slaacd's nexthop object for this router, if there is one.
    pub(crate) async fn find(
        &self,
        index: u32,
        router: Ipv6Addr,
    ) -> Result<Option<u32>, NetlinkFailure> {
        Ok(self
            .dump()
            .await?
            .iter()
            .find(|nexthop| nexthop.is_ours_for(index, router))
            .and_then(|nexthop| nexthop.id))
    }

    /// The id of slaacd's nexthop object for this router, made if missing.
    pub(crate) async fn ensure(&self, index: u32, router: Ipv6Addr) -> Result<u32, NetlinkFailure> {
        // Another program may take the chosen id between the dump and the
        // add; then look again, a few times.
        for _ in 0..3 {
            let existing = self.dump().await?;
            if let Some(id) = existing
                .iter()
                .find(|nexthop| nexthop.is_ours_for(index, router))
                .and_then(|nexthop| nexthop.id)
            {
                return Ok(id);
            }
            let taken: HashSet<u32> = existing.iter().filter_map(|nexthop| nexthop.id).collect();
            let id = free_id(index, router, &taken).ok_or(NetlinkFailure::NoFreeNexthopId)?;
            let message = NexthopMessage {
                operation: NexthopOperation::New,
                family: AF_INET6,
                protocol: PROTOCOL_RA,
                id: Some(id),
                interface: Some(index),
                gateway: Some(router),
            };
            match self
                .exchange(
                    message,
                    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                )
                .await
            {
                Ok(_) => return Ok(id),
                Err(NetlinkFailure::Kernel(e)) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(e),
            }
        }
        Err(NetlinkFailure::NoFreeNexthopId)
    }

    /// Deletes a nexthop object (and with it any route still using it).
    /// Returns false when it was already gone.
    pub(crate) async fn remove(&self, id: u32) -> Result<bool, NetlinkFailure> {
        let mut message = NexthopMessage::request(NexthopOperation::Delete);
        message.id = Some(id);
        match self.exchange(message, NLM_F_REQUEST | NLM_F_ACK).await {
            Ok(_) => Ok(true),
            Err(NetlinkFailure::Kernel(e)) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(message_type: u16) -> NetlinkHeader {
        let mut header = NetlinkHeader::default();
        header.message_type = message_type;
        header
    }

    #[test]
    fn new_message_round_trips() {
        let message = NexthopMessage {
            operation: NexthopOperation::New,
            family: AF_INET6,
            protocol: PROTOCOL_RA,
            id: Some(0x1234_5678),
            interface: Some(7),
            gateway: Some("fe80::1".parse().unwrap()),
        };
        let mut buffer = vec![0xaa; message.buffer_len()];
        message.serialize(&mut buffer);
        assert_eq!(buffer.len(), 8 + 8 + 8 + 20);
        let parsed = NexthopMessage::deserialize(&header(RTM_NEWNEXTHOP), &buffer).unwrap();
        assert_eq!(parsed, message);
        assert!(parsed.is_ours_for(7, "fe80::1".parse().unwrap()));
        assert!(!parsed.is_ours_for(8, "fe80::1".parse().unwrap()));
    }

    #[test]
    fn foreign_protocol_is_not_ours() {
        let mut message = NexthopMessage::request(NexthopOperation::New);
        message.family = AF_INET6;
        message.interface = Some(3);
        message.gateway = Some("fe80::1".parse().unwrap());
        assert!(!message.is_ours_for(3, "fe80::1".parse().unwrap()));
    }

    #[test]
    fn truncated_or_overlong_input_is_rejected_not_panicking() {
        let kind = header(RTM_NEWNEXTHOP);
        assert!(NexthopMessage::deserialize(&kind, &[0; 7]).is_err());
        // Attribute claims 200 bytes but only 4 follow.
        let mut bytes = vec![0u8; 8];
        bytes.extend_from_slice(&200u16.to_ne_bytes());
        bytes.extend_from_slice(&NHA_ID.to_ne_bytes());
        assert!(NexthopMessage::deserialize(&kind, &bytes).is_err());
        // A 32-bit attribute carrying 2 bytes.
        let mut bytes = vec![0u8; 8];
        bytes.extend_from_slice(&6u16.to_ne_bytes());
        bytes.extend_from_slice(&NHA_OIF.to_ne_bytes());
        bytes.extend_from_slice(&[1, 2, 0, 0]);
        assert!(NexthopMessage::deserialize(&kind, &bytes).is_err());
        assert!(NexthopMessage::deserialize(&header(24), &[0; 8]).is_err());
    }

    #[test]
    fn unknown_attributes_are_skipped() {
        let mut bytes = vec![AF_INET6, 0, PROTOCOL_RA, 0, 0, 0, 0, 0];
        // NHA_GROUP (2) with 5 bytes of value, padded to 8.
        bytes.extend_from_slice(&9u16.to_ne_bytes());
        bytes.extend_from_slice(&2u16.to_ne_bytes());
        bytes.extend_from_slice(&[1, 2, 3, 4, 5, 0, 0, 0]);
        bytes.extend_from_slice(&8u16.to_ne_bytes());
        bytes.extend_from_slice(&NHA_ID.to_ne_bytes());
        bytes.extend_from_slice(&42u32.to_ne_bytes());
        let parsed = NexthopMessage::deserialize(&header(RTM_NEWNEXTHOP), &bytes).unwrap();
        assert_eq!(parsed.id, Some(42));
    }

    #[test]
    fn ids_are_stable_nonzero_and_skip_taken_ones() {
        let router: Ipv6Addr = "fe80::1".parse().unwrap();
        let first = preferred_id(2, router);
        assert_eq!(first, preferred_id(2, router));
        assert_ne!(first, preferred_id(3, router));
        assert_ne!(first, 0);
        let taken: HashSet<u32> = [first].into();
        let next = free_id(2, router, &taken).unwrap();
        assert_ne!(next, first);
        assert_ne!(next, 0);
        let everything: HashSet<u32> = (0..ID_PROBES)
            .map(|step| first.wrapping_add(step).max(1))
            .collect();
        assert_eq!(free_id(2, router, &everything), None);
    }
}
