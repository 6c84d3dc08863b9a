//! A packet socket for the IPv6 frames of one interface of a lab namespace
//! (AF_PACKET, SOCK_DGRAM: frames without their link-layer header), opened
//! inside that namespace from a thread of its own, so the caller stays
//! where it is. The capture and the RA sender both start from it.
//!
//! It only opens the socket: it must never send or read on it, and never
//! open one outside a namespace of the lab.

use std::io;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};

use nix::sched::{CloneFlags, setns};

use crate::netns::Netns;

/// The EtherType of IPv6.
pub(crate) const ETH_P_IPV6: u16 = 0x86dd;
pub(crate) const IPV6_HEADER_LEN: usize = 40;
pub(crate) const NEXT_HEADER_ICMPV6: u8 = 58;

#[derive(Debug, thiserror::Error)]
pub enum PacketSocketError {
    #[error("opening network namespace {netns}: {source}")]
    Namespace { netns: String, source: io::Error },
    #[error("entering network namespace {netns}: {source}")]
    Enter { netns: String, source: nix::Error },
    #[error("no interface {interface} in {netns}: {source}")]
    Interface {
        interface: String,
        netns: String,
        source: nix::Error,
    },
    #[error("opening a packet socket for {interface} in {netns}: {source}")]
    Socket {
        interface: String,
        netns: String,
        source: io::Error,
    },
}

/// A packet socket of a lab namespace, not bound yet, and the index of the
/// interface it was opened for.
pub struct PacketSocket {
    pub socket: OwnedFd,
    pub index: i32,
}

impl PacketSocket {
    /// Opens the socket inside `netns`, for `interface` there.
    pub fn open(netns: &Netns, interface: &str) -> Result<PacketSocket, PacketSocketError> {
        let name = netns.name().to_string();
        let wanted = interface.to_string();
        std::thread::scope(|scope| {
            scope
                .spawn(move || open_in(&name, &wanted))
                .join()
                .expect("the thread opening a packet socket panicked")
        })
    }
}

fn open_in(netns: &str, interface: &str) -> Result<PacketSocket, PacketSocketError> {
    let target = std::fs::File::open(format!("/run/netns/{netns}")).map_err(|source| {
        PacketSocketError::Namespace {
            netns: netns.to_string(),
            source,
        }
    })?;
    // This thread ends right after: it never needs to come back.
    setns(target.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|source| PacketSocketError::Enter {
        netns: netns.to_string(),
        source,
    })?;
    let index = nix::net::if_::if_nametoindex(interface).map_err(|source| {
        PacketSocketError::Interface {
            interface: interface.to_string(),
            netns: netns.to_string(),
            source,
        }
    })?;
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            i32::from(ETH_P_IPV6.to_be()),
        )
    };
    if fd < 0 {
        return Err(PacketSocketError::Socket {
            interface: interface.to_string(),
            netns: netns.to_string(),
            source: io::Error::last_os_error(),
        });
    }
    // SAFETY: fd is a fresh socket that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(PacketSocket {
        socket,
        index: index as i32,
    })
}
