//! Who is on the other end of a control connection, read from the kernel
//! (SO_PEERCRED) when the connection is accepted, and whether that process
//! may change the daemon.
//!
//! Two tiers, both decided by the kernel: anyone whom the socket file lets
//! connect (root, and members of the control group, mode 0660) may `show`;
//! changes need a peer that runs as root or *as* the control group (its
//! effective gid, e.g. under `sg GROUP` or a service's `Group=`), which
//! membership alone does not give. The credentials are fixed at connect(2):
//! nothing the peer sends later changes them. This module must never trust
//! anything the peer says about itself.

use std::io;
use std::os::fd::AsFd;

use nix::sys::socket::{getsockopt, sockopt};

/// The connecting process and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub gid: u32,
    pub pid: i32,
    /// Runs as root or as the control group.
    pub privileged: bool,
}

impl Peer {
    /// Reads the credentials of the process connected to `socket` and decides
    /// whether it may change things, given the control group.
    pub fn of(socket: &impl AsFd, control_group: u32) -> io::Result<Peer> {
        let credentials = getsockopt(socket, sockopt::PeerCredentials)?;
        Ok(Peer {
            uid: credentials.uid(),
            gid: credentials.gid(),
            pid: credentials.pid(),
            privileged: may_change(credentials.uid(), credentials.gid(), control_group),
        })
    }
}

/// Root may change anything; so may a process running as the control group.
fn may_change(uid: u32, gid: u32, control_group: u32) -> bool {
    uid == 0 || gid == control_group
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;

    use super::*;

    #[test]
    fn root_and_the_control_group_may_change_things() {
        assert!(may_change(0, 0, 4242));
        assert!(may_change(0, 1000, 4242));
        assert!(may_change(1000, 4242, 4242));
        assert!(!may_change(1000, 1000, 4242));
        // The default group is root's: a plain user is not in it.
        assert!(!may_change(1000, 1000, 0));
    }

    #[test]
    fn reads_the_credentials_of_the_connected_process() {
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let peer = Peer::of(&ours, 4242).unwrap();
        assert_eq!(peer.uid, nix::unistd::geteuid().as_raw());
        assert_eq!(peer.gid, nix::unistd::getegid().as_raw());
        assert_eq!(peer.pid, std::process::id() as i32);
        assert_eq!(peer.privileged, nix::unistd::geteuid().is_root());
    }
}
