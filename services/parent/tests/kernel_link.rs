//! The link parameters an RA sets (IPv6 MTU, hop limit, Neighbor Discovery
//! timers) through LinkSettings and KernelWriter::link_mtu, against the real
//! kernel: each test in a private network namespace (unshare(CLONE_NEWNET) on
//! its own thread) with a veth pair; values are read back from /proc/sys and
//! from the kernel's neighbour table parameters (`ip ntable`). Needs root.

mod common;

use common::{connect, in_private_netns, ip};

use slaacd_parent::kernel::KernelWriter;
use slaacd_parent::sysctl::{InterfaceSysctls, LinkSettings, SysctlError};

fn conf(name: &str) -> String {
    InterfaceSysctls::new("veth0").unwrap().read(name).unwrap()
}

fn neigh(name: &str) -> String {
    InterfaceSysctls::neighbour("veth0")
        .unwrap()
        .read(name)
        .unwrap()
}

/// A value of veth0's ND table parameters as the kernel reports them.
fn ntable(field: &str) -> u32 {
    let text = ip(&["-6", "ntable", "show", "dev", "veth0"]);
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        if word == field {
            return words.next().and_then(|v| v.parse().ok()).unwrap();
        }
    }
    panic!("no {field} in: {text}");
}

/// The path MTU (IPV6_MTU) of a UDP socket connected to a link-local
/// neighbour on the interface.
fn path_mtu_to_neighbour(index: u32) -> u32 {
    use std::os::fd::AsRawFd;
    let socket = std::net::UdpSocket::bind("[::]:0").unwrap();
    let neighbour = std::net::SocketAddrV6::new("fe80::99".parse().unwrap(), 9, 0, index);
    socket.connect(neighbour).unwrap();
    let mut mtu: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the pointers are to a live c_int and its length.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU,
            (&raw mut mtu).cast(),
            &raw mut len,
        )
    };
    assert_eq!(rc, 0, "IPV6_MTU: {}", std::io::Error::last_os_error());
    u32::try_from(mtu).unwrap()
}

#[test]
fn mtu_is_set_but_never_above_the_link_mtu() {
    in_private_netns(async |index| {
        let writer = KernelWriter::new(connect(), 1024).unwrap();
        assert_eq!(writer.link_mtu(index).await.unwrap(), 1500);
        let settings = LinkSettings::new("veth0").unwrap();

        settings.set_mtu(1400, 1500).unwrap();
        assert_eq!(conf("mtu"), "1400");
        // The kernel uses it: a socket connected to a neighbour sees it.
        ip(&["-6", "addr", "add", "fe80::1/64", "dev", "veth0", "nodad"]);
        assert_eq!(path_mtu_to_neighbour(index), 1400);

        // Above the link MTU: refused, the MTU stays as it was.
        let error = settings.set_mtu(9000, 1500).unwrap_err();
        assert!(
            matches!(
                error,
                SysctlError::MtuAboveLink {
                    mtu: 9000,
                    link_mtu: 1500,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("veth0"), "{error}");
        assert_eq!(conf("mtu"), "1400");

        ip(&["link", "set", "veth0", "mtu", "1300"]);
        assert_eq!(writer.link_mtu(index).await.unwrap(), 1300);

        // Below the IPv6 minimum: refused, the sysctl is left alone.
        let error = settings.set_mtu(1279, 1300).unwrap_err();
        assert!(
            matches!(error, SysctlError::MtuTooSmall { mtu: 1279, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("veth0"), "{error}");
        assert_eq!(conf("mtu"), "1300");
    });
}

#[test]
fn a_link_mtu_change_resets_the_ipv6_mtu() {
    // Kernel behaviour slaacd lives with: NETDEV_CHANGEMTU sets the IPv6 MTU
    // to the new link MTU, so an RA's smaller MTU holds only until the next
    // link MTU change (and the next RA puts it back).
    in_private_netns(async |_| {
        let settings = LinkSettings::new("veth0").unwrap();
        settings.set_mtu(1400, 1500).unwrap();
        ip(&["link", "set", "veth0", "mtu", "1450"]);
        assert_eq!(conf("mtu"), "1450");
    });
}

#[test]
fn hop_limit_is_set_and_zero_leaves_it() {
    in_private_netns(async |_| {
        let settings = LinkSettings::new("veth0").unwrap();
        settings.set_hop_limit(42).unwrap();
        assert_eq!(conf("hop_limit"), "42");
        settings.set_hop_limit(0).unwrap();
        assert_eq!(conf("hop_limit"), "42");
        settings.set_hop_limit(255).unwrap();
        assert_eq!(conf("hop_limit"), "255");
    });
}

#[test]
fn neighbour_timers_are_set_with_the_kernels_floors() {
    in_private_netns(async |_| {
        let settings = LinkSettings::new("veth0").unwrap();
        settings.set_reachable_time(45_000).unwrap();
        assert_eq!(neigh("base_reachable_time_ms"), "45000");
        assert_eq!(ntable("base_reachable"), 45_000);
        // The kernel drew a new ReachableTime in [0.5, 1.5] x the base.
        let reachable = ntable("reachable");
        assert!(
            (22_500..=67_500).contains(&reachable),
            "reachable {reachable}"
        );

        settings.set_retrans_timer(2_500).unwrap();
        assert_eq!(neigh("retrans_time_ms"), "2500");
        assert_eq!(ntable("retrans"), 2_500);

        // 0 is "unspecified": both stay.
        settings.set_reachable_time(0).unwrap();
        settings.set_retrans_timer(0).unwrap();
        assert_eq!(ntable("base_reachable"), 45_000);
        assert_eq!(ntable("retrans"), 2_500);

        // Absurdly small values are raised as the kernel's RA code does
        // (10 ms reads back rounded up to whole jiffies: 12 ms at HZ=250).
        settings.set_reachable_time(1).unwrap();
        settings.set_retrans_timer(1).unwrap();
        assert_eq!(ntable("base_reachable"), 100);
        let retrans = ntable("retrans");
        assert!((10..20).contains(&retrans), "retrans {retrans}");
    });
}

#[test]
fn a_missing_interface_is_named_in_the_error() {
    in_private_netns(async |_| {
        let settings = LinkSettings::new("nosuch0").unwrap();
        let error = settings.set_hop_limit(64).unwrap_err();
        assert!(error.is_not_found(), "{error}");
        assert!(error.to_string().contains("nosuch0/hop_limit"), "{error}");
    });
}
