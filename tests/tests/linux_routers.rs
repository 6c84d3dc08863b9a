//! Two routers on one link (RFC 4191): a bridge joins a host and two router
//! namespaces, one radvd advertising itself with high preference and one
//! with low. slaacd must install one default route per router with that
//! router's preference and lifetime, the kernel must prefer the high one,
//! and each router's Route Information options must become routes through
//! it with their own preference and lifetime. While both keep advertising,
//! the routes are refreshed in place, never deleted and added again. When
//! the low router shuts down (radvd then advertises router and route
//! lifetimes of 0), only its routes go.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;
use slaacd_tests::kernel_view::{KernelRoute, default_route_via, routes, routes_to};
use slaacd_tests::lab::link_local_of;
use slaacd_tests::monitor::IpMonitor;
use slaacd_tests::netns::Netns;
use slaacd_tests::radvd::Radvd;
use slaacd_tests::segment::Segment;
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::{poll_until, wait_for};

/// How long the routes are watched while both routers advertise: at least
/// two advertisements from each (MaxRtrAdvInterval 4).
const REFRESH_WATCH: Duration = Duration::from_secs(9);
const HIGH_LIFETIME: u64 = 1800;
const LOW_LIFETIME: u64 = 900;

/// radvd.conf of a router: its default preference and lifetime, a prefix
/// of its own, and `routes` as (prefix, preference, lifetime).
fn router_config(
    preference: &str,
    lifetime: u64,
    prefix: &str,
    routes: &[(&str, &str, u64)],
) -> String {
    let routes: String = routes
        .iter()
        .map(|(route, preference, lifetime)| {
            format!(
                "    route {route} {{
        AdvRoutePreference {preference};
        AdvRouteLifetime {lifetime};
    }};
"
            )
        })
        .collect();
    format!(
        "interface r0 {{
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime {lifetime};
    AdvDefaultPreference {preference};
    prefix {prefix} {{
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    }};
{routes}}};
"
    )
}

fn router_link_local(router: &Netns) -> Ipv6Addr {
    wait_for(
        "a router's link-local address",
        Duration::from_secs(5),
        || link_local_of(router, "r0"),
    )
}

/// How far below the advertised lifetime an expiry may be: the kernel
/// counts down from the last update, and the test lasts about 15 s.
const EXPIRY_SLACK: u64 = 30;

/// Checks a route's next hop, preference, protocol and expiry (counting
/// down from `lifetime`, by at most [`EXPIRY_SLACK`]).
fn assert_route(route: &KernelRoute, via: Ipv6Addr, preference: &str, lifetime: u64) {
    assert_eq!(route.gateway, Some(via), "{route:?}");
    assert_eq!(route.preference.as_deref(), Some(preference), "{route:?}");
    assert_eq!(route.protocol, "ra", "{route:?}");
    let expires = route
        .expires
        .unwrap_or_else(|| panic!("no expiry: {route:?}"));
    assert!(
        (lifetime.saturating_sub(EXPIRY_SLACK)..=lifetime).contains(&expires),
        "expiry {expires} s, lifetime {lifetime} s: {route:?}"
    );
}

/// The one route to `destination` through h0, once there is one.
fn route_to(host: &Netns, destination: &str) -> KernelRoute {
    wait_for(
        &format!("the route to {destination}"),
        Duration::from_secs(15),
        || routes_to(host, "h0", destination).into_iter().next(),
    )
}

/// The routers slaacctl shows default route proposals for.
fn proposed_routers(slaacd: &Slaacd) -> Vec<Ipv6Addr> {
    let reply: Value = slaacd.show_json("h0");
    reply["interfaces"][0]["defaultRouteProposals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|proposal| proposal["router"].as_str()?.parse().ok())
        .collect()
}

#[test]
fn two_routers_give_two_default_routes_with_their_preferences() {
    let segment = Segment::new();
    let host = Netns::new("h");
    segment.attach(&host, "h0", "02:00:00:00:00:02");
    let high = segment.add_router("02:00:00:00:00:01");
    let low = segment.add_router("02:00:00:00:00:03");
    let dir = tempfile::Builder::new()
        .prefix("slaacd-routers-")
        .tempdir()
        .expect("creating the test's directory");
    let _high_radvd = Radvd::start(
        &high,
        dir.path(),
        &router_config(
            "high",
            HIGH_LIFETIME,
            "2001:db8:1::/64",
            &[("2001:db8:100::/48", "high", 1200)],
        ),
    );
    let mut low_radvd = Radvd::start(
        &low,
        dir.path(),
        &router_config(
            "low",
            LOW_LIFETIME,
            "2001:db8:2::/64",
            &[
                ("2001:db8:200::/48", "low", 600),
                ("2001:db8:300::/48", "medium", 300),
            ],
        ),
    );
    let mut slaacd = Slaacd::start_with(&host, dir.path(), &["-v", "-T"], &["h0"]);
    slaacd.wait_answering(&["h0"]);
    host.ip(&["link", "set", "h0", "up"]);
    let high_router = router_link_local(&high);
    let low_router = router_link_local(&low);

    // One default route per router, each with its preference and expiry.
    let both = poll_until(Duration::from_secs(20), || {
        Some((
            default_route_via(&host, "h0", high_router)?,
            default_route_via(&host, "h0", low_router)?,
        ))
    });
    let Some((high_route, low_route)) = both else {
        panic!(
            "not two default routes via {high_router} and {low_router}: {:?}\nlog:\n{}",
            routes(&host, "h0"),
            slaacd.log()
        );
    };
    assert_route(&high_route, high_router, "high", HIGH_LIFETIME);
    assert_route(&low_route, low_router, "low", LOW_LIFETIME);
    assert_eq!(
        routes_to(&host, "h0", "default").len(),
        2,
        "{:?}",
        routes(&host, "h0")
    );
    // Through slaacd's own nexthop objects, one per router.
    assert!(high_route.nexthop_id.is_some() && low_route.nexthop_id.is_some());
    assert_ne!(high_route.nexthop_id, low_route.nexthop_id);

    // From here on, every advertisement refreshes these routes: watch that
    // none is deleted and added again.
    let watch = Instant::now();
    let monitor = IpMonitor::start(&host, &["route"]);

    // The kernel sends off-link traffic to the preferred router.
    let lookup = host.ip(&["-6", "route", "get", "2001:db8:ffff::1"]);
    assert!(
        lookup.contains(&format!("via {high_router} ")),
        "traffic does not go to the high-preference router {high_router}: {lookup}"
    );

    // Route Information options: through the router that sent them, with
    // their own preference and lifetime.
    assert_route(
        &route_to(&host, "2001:db8:100::/48"),
        high_router,
        "high",
        1200,
    );
    assert_route(
        &route_to(&host, "2001:db8:200::/48"),
        low_router,
        "low",
        600,
    );
    assert_route(
        &route_to(&host, "2001:db8:300::/48"),
        low_router,
        "medium",
        300,
    );
    let mut shown = proposed_routers(&slaacd);
    shown.sort();
    let mut expected = vec![high_router, low_router];
    expected.sort();
    assert_eq!(shown, expected, "slaacctl's default route proposals");

    // Each router advertises at least twice more.
    std::thread::sleep(REFRESH_WATCH.saturating_sub(watch.elapsed()));
    for (router, before) in [(high_router, &high_route), (low_router, &low_route)] {
        let now = default_route_via(&host, "h0", router).expect("a default route went");
        assert_eq!(now.nexthop_id, before.nexthop_id, "{now:?} {before:?}");
    }

    // The low router shuts down: radvd's last advertisement has a router
    // lifetime of 0 and route lifetimes of 0 (RemoveRoute is on by default).
    low_radvd.process.signal(Signal::SIGTERM);
    low_radvd
        .process
        .wait_timeout(Duration::from_secs(5))
        .expect("radvd did not stop on SIGTERM");
    let gone = poll_until(Duration::from_secs(5), || {
        (default_route_via(&host, "h0", low_router).is_none()
            && routes_to(&host, "h0", "2001:db8:200::/48").is_empty()
            && routes_to(&host, "h0", "2001:db8:300::/48").is_empty())
        .then_some(())
    });
    assert!(
        gone.is_some(),
        "the low router's routes outlived its lifetime-0 advertisement: {:?}\nlog:\n{}",
        routes(&host, "h0"),
        slaacd.log()
    );
    // Only its routes: the high router's stay as they were.
    let kept = default_route_via(&host, "h0", high_router).unwrap_or_else(|| {
        panic!(
            "the high router's default route went too: {:?}",
            routes(&host, "h0")
        )
    });
    assert_route(&kept, high_router, "high", HIGH_LIFETIME);
    assert_eq!(kept.nexthop_id, high_route.nexthop_id);
    assert_route(
        &route_to(&host, "2001:db8:100::/48"),
        high_router,
        "high",
        1200,
    );
    assert_eq!(proposed_routers(&slaacd), vec![high_router]);

    // The kernel's account: in all that time the only routes deleted were
    // the low router's three, once each, at its shutdown.
    let events = monitor.finish();
    let mut deleted: Vec<&str> = events
        .lines()
        .filter(|line| line.starts_with("Deleted"))
        .filter_map(|line| line.split_whitespace().nth(1))
        .collect();
    deleted.sort();
    assert_eq!(
        deleted,
        ["2001:db8:200::/48", "2001:db8:300::/48", "default"],
        "routes deleted:\n{events}"
    );
    assert!(
        events
            .lines()
            .any(|line| line.starts_with("Deleted default")
                && line.contains(&format!("via {low_router} "))),
        "{events}"
    );

    let status = slaacd.stop_with(Signal::SIGTERM);
    assert!(status.success(), "{status}; log:\n{}", slaacd.log());
}
