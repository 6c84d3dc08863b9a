//! slaacd beside the Linux kernel's own SLAAC: two identical labs (same
//! hardware addresses, so the same link-local and EUI-64 addresses) get the
//! same radvd configuration; in one slaacd configures h0, in the other the
//! kernel does (accept_ra=1, autoconf=1, Route Information accepted up to
//! /64). What the RAs say must come out the same: addresses and their
//! lifetimes, the default route (gateway, preference, metric, expiry), the
//! on-link routes (only for prefixes with the L flag), the Route Information
//! routes, and the link parameters (MTU, hop limit, ND timers).
//!
//! Where slaacd differs on purpose, the difference is asserted too:
//! - addresses are RFC 7217 stable by default, EUI-64 only when asked
//!   (`-o IF:identifier=eui64`);
//! - addresses carry noprefixroute: slaacd installs the on-link routes
//!   itself, as proto ra with the RA metric 1024, where the kernel uses proto
//!   kernel and metric 256;
//! - routes through a router use a nexthop object per router, where the
//!   kernel names the gateway in each route;
//! - the kernel copies the RA's MTU and hop limit into its default route's
//!   metrics; slaacd sets them on the interface only (where the kernel sets
//!   them as well), so its routes carry no metrics.

use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::time::Duration;

use nix::sys::signal::Signal;
use slaacd_tests::kernel_view::{KernelAddress, KernelRoute, global_addresses, routes};
use slaacd_tests::lab::Lab;
use slaacd_tests::netns::{Netns, run};
use slaacd_tests::poll_until;
use slaacd_tests::radvd::Radvd;
use slaacd_tests::slaacd::Slaacd;

/// Lifetimes read from two kernels a moment apart, each counting down from
/// its own last update: how far apart they may be, in seconds.
const LIFETIME_TOLERANCE: u64 = 10;

const RADVD_CONFIG: &str = "interface r0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 1800;
    AdvDefaultPreference high;
    AdvLinkMTU 1400;
    AdvCurHopLimit 42;
    AdvReachableTime 45000;
    AdvRetransTimer 2500;
    prefix 2001:db8:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    };
    prefix 2001:db8:2::/64 {
        AdvOnLink on;
        AdvAutonomous off;
        AdvValidLifetime 7200;
        AdvPreferredLifetime 3600;
    };
    prefix 2001:db8:3::/64 {
        AdvOnLink off;
        AdvAutonomous on;
        AdvValidLifetime 2400;
        AdvPreferredLifetime 1200;
    };
    route 2001:db8:100::/48 {
        AdvRoutePreference low;
        AdvRouteLifetime 1200;
    };
};
";

/// The prefixes with the A flag: where each side forms an address.
const AUTONOMOUS: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
    Ipv6Addr::new(0x2001, 0xdb8, 3, 0, 0, 0, 0, 0),
];
/// h0's modified EUI-64 interface identifier (from 02:00:00:00:00:02).
const EUI64_IID: u64 = 0x0000_00ff_fe00_0002;

/// The two labs, both configured from the same RAs. Fields drop in order:
/// the processes before their namespaces.
struct Comparison {
    slaacd: Slaacd,
    _radvds: [Radvd; 2],
    slaacd_lab: Lab,
    kernel_lab: Lab,
}

impl Comparison {
    /// Starts both labs; slaacd runs with `options` (and -T: the kernel
    /// side makes no temporary addresses either). Returns once both hosts
    /// have their addresses in both autonomous prefixes, the default route
    /// and the Route Information route.
    fn start(options: &[&str]) -> Self {
        let slaacd_lab = Lab::new();
        let kernel_lab = Lab::new();
        let radvds = [
            Radvd::start(&slaacd_lab.router, slaacd_lab.dir.path(), RADVD_CONFIG),
            Radvd::start(&kernel_lab.router, kernel_lab.dir.path(), RADVD_CONFIG),
        ];
        for (name, value) in [
            ("accept_ra", "1"),
            ("autoconf", "1"),
            ("accept_ra_rt_info_max_plen", "64"),
            ("use_tempaddr", "0"),
        ] {
            kernel_lab.host.sysctl("h0", name, value);
        }
        let mut all_options = vec!["-v", "-T"];
        all_options.extend_from_slice(options);
        let slaacd = Slaacd::start_with(
            &slaacd_lab.host,
            slaacd_lab.dir.path(),
            &all_options,
            &["h0"],
        );
        slaacd.wait_answering(&["h0"]);
        kernel_lab.host.ip(&["link", "set", "h0", "up"]);
        slaacd_lab.host.ip(&["link", "set", "h0", "up"]);
        let comparison = Self {
            slaacd,
            _radvds: radvds,
            slaacd_lab,
            kernel_lab,
        };
        for (side, host) in comparison.sides() {
            let configured = poll_until(Duration::from_secs(20), || {
                let addresses = stable_addresses(host);
                let complete = AUTONOMOUS.iter().all(|prefix| {
                    addresses
                        .iter()
                        .any(|a| a.is_usable() && same_64(a.address, *prefix))
                });
                let routes = routes(host, "h0");
                let has = |destination: &str| routes.iter().any(|r| r.destination == destination);
                (complete && has("default") && has("2001:db8:100::/48")).then_some(())
            });
            assert!(
                configured.is_some(),
                "{side}: h0 not configured: {:?}, {:?}\nslaacd's log:\n{}",
                stable_addresses(host),
                routes(host, "h0"),
                comparison.slaacd.log()
            );
        }
        comparison
    }

    fn sides(&self) -> [(&'static str, &Netns); 2] {
        [
            ("slaacd", &self.slaacd_lab.host),
            ("kernel", &self.kernel_lab.host),
        ]
    }

    fn stop(mut self) {
        let status = self.slaacd.stop_with(Signal::SIGTERM);
        assert!(status.success(), "{status}; log:\n{}", self.slaacd.log());
    }
}

fn same_64(address: Ipv6Addr, prefix: Ipv6Addr) -> bool {
    address.segments()[..4] == prefix.segments()[..4]
}

/// h0's global addresses that are not temporary.
fn stable_addresses(host: &Netns) -> Vec<KernelAddress> {
    global_addresses(host, "h0")
        .into_iter()
        .filter(|address| !address.has("temporary"))
        .collect()
}

/// The one stable, usable address of `host` in `prefix`.
fn address_in(host: &Netns, prefix: Ipv6Addr) -> KernelAddress {
    let found: Vec<_> = stable_addresses(host)
        .into_iter()
        .filter(|a| a.is_usable() && same_64(a.address, prefix))
        .collect();
    match found.as_slice() {
        [only] => only.clone(),
        other => panic!("not one address in {prefix}/64: {other:?}"),
    }
}

fn iid(address: Ipv6Addr) -> u64 {
    (u128::from(address) & u128::from(u64::MAX)) as u64
}

fn assert_close(what: &str, slaacd: u64, kernel: u64) {
    assert!(
        slaacd.abs_diff(kernel) <= LIFETIME_TOLERANCE,
        "{what}: slaacd {slaacd} s, kernel {kernel} s"
    );
}

/// The route of a side to `destination` (exactly one).
fn route(host: &Netns, destination: &str) -> KernelRoute {
    let found: Vec<_> = routes(host, "h0")
        .into_iter()
        .filter(|route| route.destination == destination)
        .collect();
    match found.as_slice() {
        [only] => only.clone(),
        other => panic!("not one route to {destination}: {other:?}"),
    }
}

/// The route to `destination` of each side (slaacd's, the kernel's), after
/// checking that they agree on gateway, preference and expiry.
fn compare_route(comparison: &Comparison, destination: &str) -> (KernelRoute, KernelRoute) {
    let ours = route(&comparison.slaacd_lab.host, destination);
    let theirs = route(&comparison.kernel_lab.host, destination);
    assert_eq!(
        ours.gateway, theirs.gateway,
        "{destination}: {ours:?} {theirs:?}"
    );
    assert_eq!(
        ours.preference, theirs.preference,
        "{destination}: {ours:?} {theirs:?}"
    );
    let (Some(our_expiry), Some(their_expiry)) = (ours.expires, theirs.expires) else {
        panic!("{destination}: a route without expiry: {ours:?} {theirs:?}");
    };
    assert_close(&format!("{destination} expiry"), our_expiry, their_expiry);
    (ours, theirs)
}

/// A route through the router on both sides, compared as [`compare_route`]
/// does, with `preference` on slaacd's side and on both the same metric and
/// proto ra. Deliberate: slaacd's goes through a nexthop object per router.
fn compare_router_route(
    comparison: &Comparison,
    destination: &str,
    preference: &str,
) -> (KernelRoute, KernelRoute) {
    let (ours, theirs) = compare_route(comparison, destination);
    assert_eq!(ours.preference.as_deref(), Some(preference), "{ours:?}");
    assert_eq!(ours.metric, theirs.metric, "{ours:?} {theirs:?}");
    assert_eq!(
        (ours.protocol.as_str(), theirs.protocol.as_str()),
        ("ra", "ra")
    );
    assert!(ours.nexthop_id.is_some() && theirs.nexthop_id.is_none());
    (ours, theirs)
}

/// The on-link routes (no gateway) of a side, link-local aside.
fn on_link_routes(host: &Netns) -> BTreeSet<String> {
    routes(host, "h0")
        .into_iter()
        .filter(|route| route.gateway.is_none() && !route.destination.starts_with("fe80:"))
        .map(|route| route.destination)
        .collect()
}

fn neighbour_sysctl(host: &Netns, name: &str) -> String {
    let mut command = host.command("cat");
    command.arg(format!("/proc/sys/net/ipv6/neigh/h0/{name}"));
    run(&mut command).trim().to_owned()
}

/// Everything but the interface identifiers: lifetimes, routes and link
/// parameters.
fn assert_same_configuration(comparison: &Comparison) {
    let slaacd_host = &comparison.slaacd_lab.host;
    let kernel_host = &comparison.kernel_lab.host;

    for prefix in AUTONOMOUS {
        let ours = address_in(slaacd_host, prefix);
        let theirs = address_in(kernel_host, prefix);
        assert_eq!(ours.prefix_len, theirs.prefix_len);
        assert_close(&format!("{prefix} valid"), ours.valid, theirs.valid);
        assert_close(
            &format!("{prefix} preferred"),
            ours.preferred,
            theirs.preferred,
        );
        // Deliberate: slaacd installs the on-link route itself.
        assert!(ours.has("noprefixroute"), "{ours:?}");
        assert!(!theirs.has("noprefixroute"), "{theirs:?}");
        assert!(ours.has("dynamic") && theirs.has("dynamic"));
    }

    // The default route: same router, preference, metric and expiry.
    let (ours, theirs) = compare_router_route(comparison, "default", "high");
    // Deliberate: no route metrics.
    assert!(ours.metrics.is_empty(), "{ours:?}");
    assert_eq!(theirs.metrics.get("mtu"), Some(&1400), "{theirs:?}");

    // The Route Information route.
    compare_router_route(comparison, "2001:db8:100::/48", "low");

    // On-link routes for the prefixes with the L flag, none for the other.
    let expected: BTreeSet<String> = ["2001:db8:1::/64", "2001:db8:2::/64"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(on_link_routes(slaacd_host), expected);
    assert_eq!(on_link_routes(kernel_host), expected);
    for destination in &expected {
        let (ours, theirs) = compare_route(comparison, destination);
        // Deliberate: proto ra and the RA metric, not proto kernel 256.
        assert_eq!(
            (ours.protocol.as_str(), ours.metric),
            ("ra", 1024),
            "{ours:?}"
        );
        assert_eq!(
            (theirs.protocol.as_str(), theirs.metric),
            ("kernel", 256),
            "{theirs:?}"
        );
    }

    // Link parameters.
    for (name, value) in [("mtu", "1400"), ("hop_limit", "42")] {
        assert_eq!(slaacd_host.read_sysctl("h0", name), value, "slaacd: {name}");
        assert_eq!(kernel_host.read_sysctl("h0", name), value, "kernel: {name}");
    }
    for (name, value) in [
        ("base_reachable_time_ms", "45000"),
        ("retrans_time_ms", "2500"),
    ] {
        assert_eq!(neighbour_sysctl(slaacd_host, name), value, "slaacd: {name}");
        assert_eq!(neighbour_sysctl(kernel_host, name), value, "kernel: {name}");
    }
}

#[test]
fn with_stable_identifiers_slaacd_configures_what_the_kernel_does_but_the_addresses() {
    let comparison = Comparison::start(&[]);
    assert_same_configuration(&comparison);
    for prefix in AUTONOMOUS {
        let ours = address_in(&comparison.slaacd_lab.host, prefix);
        let theirs = address_in(&comparison.kernel_lab.host, prefix);
        assert_eq!(iid(theirs.address), EUI64_IID, "{theirs:?}");
        // Deliberate: RFC 7217 by default.
        assert_ne!(iid(ours.address), EUI64_IID, "{ours:?}");
    }
    comparison.stop();
}

#[test]
fn in_eui64_mode_slaacd_forms_the_kernels_addresses() {
    let comparison = Comparison::start(&["-o", "h0:identifier=eui64"]);
    assert_same_configuration(&comparison);
    for prefix in AUTONOMOUS {
        let ours = address_in(&comparison.slaacd_lab.host, prefix);
        let theirs = address_in(&comparison.kernel_lab.host, prefix);
        assert_eq!(ours.address, theirs.address);
        assert_eq!(iid(ours.address), EUI64_IID, "{ours:?}");
    }
    comparison.stop();
}
