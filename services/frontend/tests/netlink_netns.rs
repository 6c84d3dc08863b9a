//! The link monitor against a real kernel, in a test namespace joined to a
//! peer: the first dump, carrier changes, a link set up counting as running
//! only once the kernel's IPv6 is ready on it, the link-local address becoming
//! usable, deleted addresses and interfaces, DAD failures of both kinds, and
//! recovery after the kernel dropped notifications. Needs root.

mod netlink_testnet;

use std::net::Ipv6Addr;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use netlink_testnet::{HOST_MAC, Side, TestNet};
use nix::sys::socket::{setsockopt, sockopt};
use slaacd_frontend::netlink::{
    InterfaceState, LinkEvent, LinkMonitor, NetlinkError, open_netlink_socket,
};

const HOST_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);

fn global(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
}

/// Namespaces without the kernel's own link-local addresses, so the tests
/// choose them.
fn testnet(tag: &str) -> TestNet {
    let net = TestNet::new(tag);
    net.ip(Side::Host, "link set h0 addrgenmode none");
    net.ip(Side::Peer, "link set p0 addrgenmode none");
    net
}

fn open_in_host(net: &TestNet) -> OwnedFd {
    net.within(Side::Host, open_netlink_socket)
        .expect("open the netlink socket")
}

/// Reads events until one satisfies `wanted`; returns all of them, the
/// matching one last. Fails the test, listing what came, after `patience`.
async fn until(
    monitor: &mut LinkMonitor,
    patience: Duration,
    wanted: impl Fn(&LinkEvent) -> bool,
) -> Vec<LinkEvent> {
    let mut seen = Vec::new();
    let result = tokio::time::timeout(patience, async {
        loop {
            let event = monitor.next_event().await.expect("the monitor failed");
            let done = wanted(&event);
            seen.push(event);
            if done {
                return;
            }
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "the expected event never came; got {seen:#?}"
    );
    seen
}

/// Every event that arrives within `window`.
async fn collect(monitor: &mut LinkMonitor, window: Duration) -> Vec<LinkEvent> {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(window, async {
        loop {
            seen.push(monitor.next_event().await.expect("the monitor failed"));
        }
    })
    .await;
    seen
}

fn interface_event(event: &LinkEvent, index: u32) -> Option<&InterfaceState> {
    match event {
        LinkEvent::Interface(state) if state.index == index => Some(state),
        _ => None,
    }
}

#[tokio::test]
async fn the_first_dump_reports_each_interface_once_with_its_link_local_address() {
    let net = testnet("nl-dump");
    net.ip(Side::Host, "addr add fe80::2/64 dev h0 nodad");
    net.ip(Side::Host, "link set h0 up");
    net.ip(Side::Peer, "link set p0 up");
    net.wait_carrier(Side::Host, "h0");
    let h0 = net.index(Side::Host, "h0");
    let mut monitor = LinkMonitor::new(open_in_host(&net)).expect("start the monitor");

    let events = collect(&mut monitor, Duration::from_millis(500)).await;
    let reports: Vec<&InterfaceState> = events
        .iter()
        .filter_map(|event| interface_event(event, h0))
        .collect();
    let expected = InterfaceState {
        index: h0,
        name: "h0".into(),
        running: true,
        hw_address: HOST_MAC.to_vec(),
        link_local: Some(HOST_LINK_LOCAL),
        link_local_usable: true,
        link_local_optimistic: false,
    };
    assert_eq!(reports, [&expected], "all events: {events:#?}");
    assert!(
        events
            .iter()
            .any(|event| matches!(event, LinkEvent::Interface(state) if state.name == "lo")),
        "lo is reported too: {events:#?}"
    );
    assert_eq!(monitor.interface(h0), Some(expected));
}

#[tokio::test]
async fn carrier_changes_are_reported_and_changes_to_nothing_carried_are_not() {
    let net = testnet("nl-carrier");
    net.ip(Side::Host, "link set h0 up");
    let h0 = net.index(Side::Host, "h0");
    let mut monitor = LinkMonitor::new(open_in_host(&net)).expect("start the monitor");
    let first = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;
    let running = |events: &[LinkEvent]| interface_event(events.last()?, h0).map(|s| s.running);
    assert_eq!(running(&first), Some(false), "no carrier while p0 is down");

    net.ip(Side::Peer, "link set p0 up");
    let up = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;
    assert_eq!(running(&up), Some(true));

    // A new MTU and a global address change nothing an event carries; the
    // deletion that follows marks the end of what they caused.
    net.ip(Side::Host, "link set h0 mtu 1400");
    net.ip(Side::Host, "addr add 2001:db8::7/64 dev h0 nodad");
    net.ip(Side::Host, "addr del 2001:db8::7/64 dev h0");
    let quiet = until(&mut monitor, Duration::from_secs(5), |event| {
        matches!(event, LinkEvent::AddressDeleted { .. })
    })
    .await;
    assert_eq!(
        quiet,
        [LinkEvent::AddressDeleted {
            index: h0,
            address: global(7)
        }]
    );

    net.ip(Side::Peer, "link set p0 down");
    let down = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;
    assert_eq!(running(&down), Some(false));
}

/// Whether the kernel has set up IPv6 on `interface` of the host: its
/// ff00::/8 route, without which every multicast packet is dropped.
fn ipv6_ready(net: &TestNet, interface: &str) -> bool {
    let output = std::process::Command::new("ip")
        .args(["-n", net.name(Side::Host), "-6", "route", "show"])
        .args(["table", "local", "dev", interface])
        .output()
        .expect("run ip");
    String::from_utf8_lossy(&output.stdout).contains("ff00::/8")
}

#[tokio::test]
async fn a_link_set_up_is_running_only_once_ipv6_is_ready_on_it() {
    let net = TestNet::new("nl-oper");
    // In dormant mode the link stays operationally down after it is set up
    // with carrier, until told otherwise: the moment between the two, which
    // the kernel's link watcher usually closes within milliseconds, lasts.
    net.ip(Side::Peer, "link set p0 up");
    net.ip(Side::Host, "link set h0 mode dormant");
    let h0 = net.index(Side::Host, "h0");
    let mut monitor = LinkMonitor::new(open_in_host(&net)).expect("start the monitor");
    until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;

    net.ip(Side::Host, "link set h0 up");
    let events = collect(&mut monitor, Duration::from_millis(300)).await;
    assert!(
        !ipv6_ready(&net, "h0"),
        "the kernel set IPv6 up on a dormant link"
    );
    let state = monitor.interface(h0).expect("h0 is known");
    assert!(
        !state.running,
        "h0 reported running before IPv6 is ready on it: {events:#?}"
    );

    net.ip(Side::Host, "link set h0 state up");
    let events = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some_and(|state| state.running)
    })
    .await;
    assert!(
        ipv6_ready(&net, "h0"),
        "h0 reported running before IPv6 is ready on it: {events:#?}"
    );
}

#[tokio::test]
async fn a_link_local_address_is_reported_tentative_then_usable() {
    let net = testnet("nl-ll");
    net.ip(Side::Host, "link set h0 up");
    net.ip(Side::Peer, "link set p0 up");
    net.wait_carrier(Side::Host, "h0");
    let h0 = net.index(Side::Host, "h0");
    let mut monitor = LinkMonitor::new(open_in_host(&net)).expect("start the monitor");
    let first = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;
    let state = |events: &[LinkEvent]| interface_event(events.last()?, h0).cloned();
    assert_eq!(state(&first).and_then(|s| s.link_local), None);

    // DAD on: tentative first, usable a second or two later.
    net.ip(Side::Host, "addr add fe80::2/64 dev h0");
    let tentative = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;
    let tentative = state(&tentative).expect("an interface event");
    assert_eq!(tentative.link_local, Some(HOST_LINK_LOCAL));
    assert!(!tentative.link_local_usable);
    let usable = until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;
    let usable = state(&usable).expect("an interface event");
    assert_eq!(usable.link_local, Some(HOST_LINK_LOCAL));
    assert!(usable.link_local_usable);
    assert!(!usable.link_local_optimistic);
}

#[tokio::test]
async fn deleted_addresses_and_removed_interfaces_are_reported() {
    let net = testnet("nl-del");
    net.ip(Side::Host, "link add d0 type veth peer name d0peer");
    let d0 = net.index(Side::Host, "d0");
    let mut monitor = LinkMonitor::new(open_in_host(&net)).expect("start the monitor");
    until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, d0).is_some()
    })
    .await;

    net.ip(Side::Host, "link set d0 up");
    net.ip(Side::Host, "addr add 2001:db8::5/64 dev d0 nodad");
    net.ip(Side::Host, "addr del 2001:db8::5/64 dev d0");
    until(&mut monitor, Duration::from_secs(5), |event| {
        *event
            == LinkEvent::AddressDeleted {
                index: d0,
                address: global(5),
            }
    })
    .await;

    net.ip(Side::Host, "link del d0");
    until(&mut monitor, Duration::from_secs(5), |event| {
        *event == LinkEvent::Removed { index: d0 }
    })
    .await;
}

#[tokio::test]
async fn dad_failures_are_reported_once_for_finite_and_permanent_addresses() {
    let net = testnet("nl-dad");
    net.ip(Side::Peer, "addr add 2001:db8::98/64 dev p0 nodad");
    net.ip(Side::Peer, "addr add 2001:db8::99/64 dev p0 nodad");
    net.ip(Side::Host, "link set h0 up");
    net.ip(Side::Peer, "link set p0 up");
    net.wait_carrier(Side::Host, "h0");
    net.wait_carrier(Side::Peer, "p0");
    // No random delay before DAD: the failures come about a second later.
    net.sysctl(Side::Host, "net.ipv6.conf.h0.router_solicitation_delay=0");
    let h0 = net.index(Side::Host, "h0");
    let mut monitor = LinkMonitor::new(open_in_host(&net)).expect("start the monitor");
    until(&mut monitor, Duration::from_secs(5), |event| {
        interface_event(event, h0).is_some()
    })
    .await;

    // With lifetimes the kernel deletes the address on failure; a permanent
    // one stays, flagged.
    net.ip(
        Side::Host,
        "addr add 2001:db8::99/64 dev h0 valid_lft 3600 preferred_lft 1800",
    );
    net.ip(Side::Host, "addr add 2001:db8::98/64 dev h0");
    let mut events = Vec::new();
    for _ in 0..2 {
        events.extend(
            until(&mut monitor, Duration::from_secs(5), |event| {
                matches!(event, LinkEvent::DadFailed { .. })
            })
            .await,
        );
    }
    for address in [global(0x98), global(0x99)] {
        assert!(
            events.contains(&LinkEvent::DadFailed { index: h0, address }),
            "DAD failure of {address}: {events:#?}"
        );
    }

    // Removing the failed permanent address is a deletion, not a second
    // failure.
    net.ip(Side::Host, "addr del 2001:db8::98/64 dev h0");
    let after = until(&mut monitor, Duration::from_secs(5), |event| {
        matches!(
            event,
            LinkEvent::AddressDeleted { .. } | LinkEvent::DadFailed { .. }
        )
    })
    .await;
    assert_eq!(
        after.last(),
        Some(&LinkEvent::AddressDeleted {
            index: h0,
            address: global(0x98)
        })
    );
}

/// The number of messages the kernel dropped for the netlink socket with
/// this inode, from the namespace's /proc/net/netlink.
fn netlink_drops(net: &TestNet, inode: u64) -> u64 {
    let table = net.within(Side::Host, || {
        std::fs::read_to_string("/proc/thread-self/net/netlink").expect("read /proc/net/netlink")
    });
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|columns| columns.get(9).and_then(|c| c.parse().ok()) == Some(inode))
        .and_then(|columns| columns.get(8)?.parse().ok())
        .expect("the socket in /proc/net/netlink")
}

#[tokio::test]
async fn lost_notifications_are_recovered_by_dumping_again() {
    let net = testnet("nl-lost");
    net.ip(Side::Host, "link add d1 type veth peer name d1peer");
    net.ip(Side::Host, "link set h0 up");
    net.ip(Side::Peer, "link set p0 up");
    net.ip(Side::Host, "addr add 2001:db8::5/64 dev h0 nodad");
    net.wait_carrier(Side::Host, "h0");
    let h0 = net.index(Side::Host, "h0");
    let d1 = net.index(Side::Host, "d1");
    let d1_peer = net.index(Side::Host, "d1peer");
    let fd = open_in_host(&net);
    // The smallest receive buffer the kernel allows: a burst overruns it.
    setsockopt(&fd, sockopt::RcvBuf, &0).expect("shrink the receive buffer");
    let inode = nix::sys::stat::fstat(fd.as_fd())
        .expect("fstat the socket")
        .st_ino;
    let mut monitor = LinkMonitor::new(fd).expect("start the monitor");
    let initial = collect(&mut monitor, Duration::from_millis(500)).await;
    assert!(
        initial
            .iter()
            .any(|event| interface_event(event, h0).is_some_and(|state| state.running)),
        "{initial:#?}"
    );

    // While the monitor does not read: a burst of notifications, then the
    // changes whose notifications are lost with it.
    let batch: String = (1..=64)
        .map(|n| format!("addr add 2001:db8:1::{n:x}/64 dev h0 nodad\n"))
        .collect();
    let batch_file = std::env::temp_dir().join(format!("nl-lost-{}.batch", std::process::id()));
    std::fs::write(&batch_file, batch).expect("write the ip batch");
    net.ip(
        Side::Host,
        &format!("-batch {}", batch_file.to_str().expect("path")),
    );
    let _ = std::fs::remove_file(&batch_file);
    net.ip(Side::Host, "addr del 2001:db8::5/64 dev h0");
    net.ip(Side::Peer, "link set p0 down");
    net.ip(Side::Host, "link del d1");
    assert!(netlink_drops(&net, inode) > 0, "the kernel dropped nothing");

    let mut events = collect(&mut monitor, Duration::from_secs(1)).await;
    let expected = [
        LinkEvent::AddressDeleted {
            index: h0,
            address: global(5),
        },
        LinkEvent::Removed { index: d1 },
        LinkEvent::Removed { index: d1_peer },
    ];
    for event in &expected {
        assert!(events.contains(event), "missing {event:?} in {events:#?}");
    }
    let last_h0 = events
        .iter()
        .rev()
        .find_map(|event| interface_event(event, h0))
        .expect("h0 reported again");
    assert!(!last_h0.running, "{events:#?}");
    // Nothing but the lost changes is reported.
    events.retain(|event| !expected.contains(event) && interface_event(event, h0).is_none());
    assert_eq!(events, []);
}

#[test]
fn taking_over_the_socket_outside_a_runtime_is_an_error_not_a_panic() {
    let net = TestNet::new("nl-no-runtime");
    let error = LinkMonitor::new(open_in_host(&net)).expect_err("registered without a runtime");
    assert!(matches!(error, NetlinkError::Register(_)), "{error}");
}
