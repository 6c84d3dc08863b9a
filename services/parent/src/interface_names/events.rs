//! The kernel's link announcements (the RTNLGRP_LINK group: a link appeared, changed or was
//! renamed, or went away) on a netlink socket of their own, read without ever blocking: a
//! reader drains what is waiting and is then exactly as current as a lookup would be, since
//! the kernel queues each announcement before the change it announces returns to whoever made
//! it. Lost announcements (the socket's buffer overran) are reported as such, never skipped.
//!
//! It only listens: it must never send the kernel anything.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkAttribute;
use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, socket,
};

/// Room for the largest link announcement (with its statistics); a longer one is reported as
/// lost, never read truncated.
const DATAGRAM_BUFFER: usize = 64 * 1024;

/// The length of a netlink message header, and the alignment of each message in a datagram.
const HEADER_LEN: usize = 16;
const ALIGNMENT: usize = 4;

/// One announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Interface `index` exists and is called `name` (new, changed or renamed).
    Seen { index: u32, name: String },
    /// Interface `index` is gone.
    Removed { index: u32 },
    /// Announcements were lost: what is known must be checked against the kernel.
    Lost,
}

/// A socket subscribed to the link announcements, non-blocking.
#[derive(Debug)]
pub struct LinkEvents {
    socket: OwnedFd,
    buffer: RefCell<Vec<u8>>,
}

impl LinkEvents {
    /// Subscribes; every announcement from now on is queued for [`LinkEvents::read_waiting`].
    pub fn subscribe() -> Result<Self, Errno> {
        let socket = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            SockProtocol::NetlinkRoute,
        )?;
        bind(
            socket.as_raw_fd(),
            &NetlinkAddr::new(0, libc::RTMGRP_LINK as u32),
        )?;
        Ok(Self {
            socket,
            buffer: RefCell::new(vec![0; DATAGRAM_BUFFER]),
        })
    }

    /// Hands `each` every announcement waiting, in the kernel's order, and returns once none
    /// is left. An error is one reading the socket (never "nothing waiting").
    pub fn read_waiting(&self, mut each: impl FnMut(LinkEvent)) -> Result<(), Errno> {
        let mut buffer = self.buffer.borrow_mut();
        loop {
            // MSG_TRUNC: the length of the whole datagram, even when it did not fit.
            match recv(
                self.socket.as_raw_fd(),
                &mut buffer,
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC,
            ) {
                Ok(length) if length > buffer.len() => each(LinkEvent::Lost),
                Ok(length) => parse(&buffer[..length], &mut each),
                Err(Errno::EAGAIN) => return Ok(()),
                Err(Errno::ENOBUFS) => each(LinkEvent::Lost),
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(errno),
            }
        }
    }
}

impl AsRawFd for LinkEvents {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

/// The announcements in one datagram; one that cannot be read is reported as lost.
fn parse(mut datagram: &[u8], each: &mut impl FnMut(LinkEvent)) {
    while datagram.len() >= HEADER_LEN {
        let mut length = [0u8; 4];
        length.copy_from_slice(&datagram[..4]);
        let length = u32::from_ne_bytes(length) as usize;
        if length < HEADER_LEN || length > datagram.len() {
            each(LinkEvent::Lost);
            return;
        }
        match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&datagram[..length]) {
            Ok(message) => match message.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                    let name = link
                        .attributes
                        .into_iter()
                        .find_map(|attribute| match attribute {
                            LinkAttribute::IfName(name) => Some(name),
                            _ => None,
                        });
                    if let Some(name) = name {
                        each(LinkEvent::Seen {
                            index: link.header.index,
                            name,
                        });
                    }
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => {
                    each(LinkEvent::Removed {
                        index: link.header.index,
                    });
                }
                _ => {}
            },
            Err(_) => each(LinkEvent::Lost),
        }
        let aligned = length.div_ceil(ALIGNMENT) * ALIGNMENT;
        datagram = datagram.get(aligned..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::NetlinkHeader;
    use netlink_packet_route::link::LinkMessage;

    use super::*;

    fn announcement(message: RouteNetlinkMessage) -> Vec<u8> {
        let mut message = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(message),
        );
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        bytes
    }

    fn new_link(index: u32, name: &str) -> Vec<u8> {
        let mut link = LinkMessage::default();
        link.header.index = index;
        link.attributes.push(LinkAttribute::IfName(name.to_owned()));
        announcement(RouteNetlinkMessage::NewLink(link))
    }

    fn parsed(datagram: &[u8]) -> Vec<LinkEvent> {
        let mut events = Vec::new();
        parse(datagram, &mut |event| events.push(event));
        events
    }

    #[test]
    fn every_announcement_of_a_datagram_in_order() {
        let mut removed = LinkMessage::default();
        removed.header.index = 3;
        let mut datagram = new_link(2, "eth0");
        // Names of 5 bytes pad the message: the next one starts aligned.
        datagram.extend(new_link(3, "veth1"));
        datagram.extend(announcement(RouteNetlinkMessage::DelLink(removed)));
        assert_eq!(
            parsed(&datagram),
            [
                LinkEvent::Seen {
                    index: 2,
                    name: "eth0".into()
                },
                LinkEvent::Seen {
                    index: 3,
                    name: "veth1".into()
                },
                LinkEvent::Removed { index: 3 },
            ]
        );
    }

    #[test]
    fn a_cut_announcement_is_lost_not_skipped() {
        let mut datagram = new_link(2, "eth0");
        let whole = datagram.len();
        datagram.extend(new_link(3, "eth1"));
        datagram.truncate(whole + 20);
        assert_eq!(
            parsed(&datagram),
            [
                LinkEvent::Seen {
                    index: 2,
                    name: "eth0".into()
                },
                LinkEvent::Lost
            ]
        );
    }
}
