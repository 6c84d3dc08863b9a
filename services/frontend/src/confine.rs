//! The frontend's confinement: the unprivileged user, no file system (Landlock with nothing
//! unveiled), no new processes, no exec, and no new sockets of any kind: `socket` kills it for
//! every family but AF_UNIX, which fails with EPERM (glibc's syslog reconnect must cost a log
//! line, not the process), and `socketpair` is not in "stdio" on Linux. What it may do to the
//! sockets the parent gives it is listed here call by call: accept on the control socket, and
//! the ICMPv6 options `icmp6::RaSocket` sets. It must never allow `socket`, `socketpair`,
//! `bind` or `connect`.

use slaacd_sandbox::{ChildProfile, Confinement, HeldSocketCall, SandboxError, Violation};

/// ICMP6_FILTER from <netinet/icmp6.h>, an option of level IPPROTO_ICMPV6 (libc lacks it).
const ICMP6_FILTER: i32 = 1;

/// The socket options `icmp6::RaSocket::new` sets on the ICMPv6 socket, and accepting control
/// connections. Receiving and sending (recvmsg, sendto, sendmsg) are part of "stdio".
const HELD_SOCKETS: &[HeldSocketCall] = &[
    HeldSocketCall::Accept,
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_ICMPV6,
        name: ICMP6_FILTER,
    },
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_IPV6,
        name: libc::IPV6_RECVPKTINFO,
    },
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_IPV6,
        name: libc::IPV6_RECVHOPLIMIT,
    },
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_IPV6,
        name: libc::IPV6_RECVFRAGSIZE,
    },
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_IPV6,
        name: libc::IPV6_MULTICAST_HOPS,
    },
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_IPV6,
        name: libc::IPV6_UNICAST_HOPS,
    },
    HeldSocketCall::SetOption {
        level: libc::IPPROTO_IPV6,
        name: libc::IPV6_MULTICAST_LOOP,
    },
];

/// Room for accepted control connections: `control::serve` holds at most 16 at once (it waits
/// for a free slot before it accepts), so twice that never runs out while that stays so.
const CONTROL_CONNECTIONS: u64 = 32;

/// The parent passes five descriptors in `FrontendMain.start`: the engine's channel and the
/// ICMPv6, packet, netlink and control sockets.
const PASSED_BY_PARENT: u64 = 5;

const PROFILE: ChildProfile = ChildProfile {
    promises: "stdio recvfd",
    held_sockets: HELD_SOCKETS,
    descriptors_to_come: PASSED_BY_PARENT + CONTROL_CONNECTIONS,
};

/// Confines the frontend as `user`. Call on the only thread, before serving the parent.
pub fn confine(user: &str, violation: Violation) -> Result<Confinement, SandboxError> {
    slaacd_sandbox::confine_child(&PROFILE, user, violation)
}
