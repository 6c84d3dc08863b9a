//! Interface names and indexes, asked of the kernel over rtnetlink: one RTM_GETLINK request and
//! its answer, on a socket opened for that lookup and closed after it. The parent uses these
//! instead of glibc's if_indextoname and if_nametoindex, which ask with the SIOCGIFNAME and
//! SIOCGIFINDEX ioctls on an AF_UNIX socket: its confinement ("route") allows rtnetlink
//! sockets but no such ioctl. Answers come from the network namespace the process is in, as
//! the ioctls' did.
//!
//! It only reads: it must never send the kernel anything but a get request, and it never
//! blocks (the kernel answers a get request while it is being sent). The kernel's link
//! announcements, for a reader that follows names instead of asking, are in `events`.

mod events;

pub use events::{LinkEvent, LinkEvents};

use std::os::fd::{AsRawFd, OwnedFd};

use netlink_packet_core::{NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};
use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType};

/// Room for one link message without statistics (those are not asked for); a longer answer
/// is an error, never a silently truncated one.
const ANSWER_BUFFER: usize = 32 * 1024;

/// Why the kernel could not be asked, or its answer not read.
#[derive(Debug, thiserror::Error)]
pub enum InterfaceLookupError {
    #[error("asking the kernel about interface {interface}: {source}")]
    Request { interface: String, source: Errno },
    #[error("the kernel's answer about interface {interface}: {reason}")]
    Answer { interface: String, reason: String },
}

/// The name interface `index` has now; `None` when no interface has that index.
pub fn name_of(index: u32) -> Result<Option<String>, InterfaceLookupError> {
    let mut request = LinkMessage::default();
    request.header.index = index;
    let answer = ask(request, &index.to_string())?;
    Ok(answer.and_then(|link| {
        link.attributes
            .into_iter()
            .find_map(|attribute| match attribute {
                LinkAttribute::IfName(name) => Some(name),
                _ => None,
            })
    }))
}

/// The index of the interface called `name` now; `None` when no interface has that name.
pub fn index_of(name: &str) -> Result<Option<u32>, InterfaceLookupError> {
    let mut request = LinkMessage::default();
    request
        .attributes
        .push(LinkAttribute::IfName(name.to_owned()));
    let answer = ask(request, name)?;
    Ok(answer.map(|link| link.header.index))
}

/// Sends `request` as RTM_GETLINK and returns the link the kernel describes, or `None` when it
/// answers ENODEV. `interface` names the interface asked about, for errors.
fn ask(
    mut request: LinkMessage,
    interface: &str,
) -> Result<Option<LinkMessage>, InterfaceLookupError> {
    let failed = |source| InterfaceLookupError::Request {
        interface: interface.to_owned(),
        source,
    };
    let unreadable = |reason: String| InterfaceLookupError::Answer {
        interface: interface.to_owned(),
        reason,
    };
    request
        .attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST;
    header.sequence_number = 1;
    let mut message = NetlinkMessage::new(
        header,
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::GetLink(request)),
    );
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);

    let socket = open_socket().map_err(failed)?;
    // Unconnected and unaddressed, a netlink datagram goes to the kernel.
    nix::sys::socket::send(socket.as_raw_fd(), &bytes, MsgFlags::empty()).map_err(failed)?;
    let mut answer = vec![0; ANSWER_BUFFER];
    // MSG_TRUNC: the length of the whole datagram, even when it did not fit.
    let length = nix::sys::socket::recv(
        socket.as_raw_fd(),
        &mut answer,
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC,
    )
    .map_err(failed)?;
    if length > answer.len() {
        return Err(unreadable(format!(
            "{length} bytes, more than the {ANSWER_BUFFER} expected"
        )));
    }
    let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&answer[..length])
        .map_err(|error| unreadable(error.to_string()))?;
    match message.payload {
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => Ok(Some(link)),
        NetlinkPayload::Error(error) => match error.code.map(|code| Errno::from_raw(-code.get())) {
            Some(Errno::ENODEV) => Ok(None),
            Some(errno) => Err(failed(errno)),
            None => Err(unreadable("an acknowledgement instead of the link".into())),
        },
        other => Err(unreadable(format!("unexpected {other:?}"))),
    }
}

fn open_socket() -> Result<OwnedFd, Errno> {
    nix::sys::socket::socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Loopback is index 1 in every network namespace.
    #[test]
    fn loopback_by_index_and_by_name() {
        assert_eq!(name_of(1).unwrap().as_deref(), Some("lo"));
        assert_eq!(index_of("lo").unwrap(), Some(1));
    }

    #[test]
    fn a_missing_interface_is_none_not_an_error() {
        assert_eq!(name_of(u32::MAX >> 1).unwrap(), None);
        assert_eq!(index_of("slaacd-none0").unwrap(), None);
    }

    #[test]
    fn the_same_answers_as_the_c_library() {
        let interfaces = nix::net::if_::if_nameindex().unwrap();
        for interface in interfaces.iter() {
            let name = interface.name().to_string_lossy().into_owned();
            assert_eq!(name_of(interface.index()).unwrap(), Some(name.clone()));
            assert_eq!(index_of(&name).unwrap(), Some(interface.index()));
        }
    }

    #[test]
    fn a_name_the_kernel_cannot_take_is_an_error_naming_it() {
        let error = index_of("a-name-longer-than-ifnamsiz").unwrap_err();
        assert!(
            error.to_string().contains("a-name-longer-than-ifnamsiz"),
            "{error}"
        );
    }
}
