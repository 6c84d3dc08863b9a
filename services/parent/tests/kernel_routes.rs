//! On-link and Route Information routes through KernelWriter against the real
//! kernel, each test in a private network namespace (unshare(CLONE_NEWNET) on
//! its own thread) with a veth pair. Kernel state is read back with netlink
//! dumps (routes and nexthop objects via `ip -j nexthop`); in-place refreshes
//! are proven by listening to route events. Needs root.

mod common;
mod netlink_events;

use common::{connect, in_private_netns, ip};
use netlink_events::{drain, listen};
use std::net::Ipv6Addr;

use futures::TryStreamExt;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RoutePreference, RouteProtocol,
};
use rtnetlink::{MulticastGroup, RouteMessageBuilder};
use slaacd_core::{DefaultRouteProposal, RouteVia, RouterPreference};
use slaacd_parent::kernel::{KernelWriter, RouteKey};

const METRIC: u32 = 1234;
const USER_HZ: u32 = 100;
const ROUTER: &str = "fe80::1";
const OTHER_ROUTER: &str = "fe80::2";

/// The ids of the nexthop objects with protocol ra (`ip nexthop` prints
/// "id N via ADDR dev IF scope link proto ra").
fn ra_nexthop_ids() -> Vec<u32> {
    ip(&["-6", "nexthop", "show"])
        .lines()
        .filter(|line| line.contains(" proto ra"))
        .filter_map(|line| line.strip_prefix("id ")?.split(' ').next()?.parse().ok())
        .collect()
}

fn writer(handle: &rtnetlink::Handle) -> KernelWriter {
    KernelWriter::new(handle.clone(), METRIC).unwrap()
}

/// The route deletions the kernel announced while `change` ran.
async fn deletions_during(change: impl AsyncFnOnce()) -> Vec<RouteNetlinkMessage> {
    let mut events = listen(&[MulticastGroup::Ipv6Route]);
    drain(&mut events).await;
    change().await;
    drain(&mut events)
        .await
        .into_iter()
        .filter(|m| matches!(m, RouteNetlinkMessage::DelRoute(_)))
        .collect()
}

fn key(index: u32, prefix: &str, prefix_len: u8, via: RouteVia) -> RouteKey {
    RouteKey {
        index,
        prefix: prefix.parse().unwrap(),
        prefix_len,
        via,
    }
}

fn router(address: &str) -> RouteVia {
    RouteVia::Router(address.parse().unwrap())
}

#[derive(Debug)]
struct KernelRoute {
    prefix_len: u8,
    protocol: RouteProtocol,
    interface: Option<u32>,
    gateway: Option<Ipv6Addr>,
    nexthop_id: Option<u32>,
    metric: Option<u32>,
    preference: Option<RoutePreference>,
    /// Seconds left, None for a permanent route.
    expires: Option<u32>,
}

fn kernel_route(message: &RouteMessage) -> KernelRoute {
    let mut route = KernelRoute {
        prefix_len: message.header.destination_prefix_length,
        protocol: message.header.protocol,
        interface: None,
        gateway: None,
        nexthop_id: None,
        metric: None,
        preference: None,
        expires: None,
    };
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Oif(index) => route.interface = Some(*index),
            RouteAttribute::Gateway(RouteAddress::Inet6(g)) => route.gateway = Some(*g),
            RouteAttribute::NhId(id) => route.nexthop_id = Some(*id),
            RouteAttribute::Priority(metric) => route.metric = Some(*metric),
            RouteAttribute::Preference(p) => route.preference = Some(*p),
            RouteAttribute::CacheInfo(c) if c.expires != 0 => {
                route.expires = Some(c.expires / USER_HZ)
            }
            _ => {}
        }
    }
    route
}

/// Every main-table route to `prefix` (any length; "::" means the default
/// routes, which the kernel dumps without a destination).
async fn routes_to(handle: &rtnetlink::Handle, prefix: &str) -> Vec<KernelRoute> {
    let prefix: Ipv6Addr = prefix.parse().unwrap();
    let messages: Vec<RouteMessage> = handle
        .route()
        .get(RouteMessageBuilder::<Ipv6Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .unwrap();
    messages
        .iter()
        .filter(|m| {
            let to_prefix = if prefix.is_unspecified() {
                m.header.destination_prefix_length == 0
            } else {
                m.attributes
                    .contains(&RouteAttribute::Destination(RouteAddress::Inet6(prefix)))
            };
            m.header.table == 254 && to_prefix
        })
        .map(kernel_route)
        .collect()
}

async fn only_route_to(handle: &rtnetlink::Handle, prefix: &str) -> KernelRoute {
    let mut routes = routes_to(handle, prefix).await;
    assert_eq!(routes.len(), 1, "routes to {prefix}: {routes:?}");
    routes.remove(0)
}

fn assert_about(actual: Option<u32>, expected: u32, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: no expiry"));
    assert!(
        actual <= expected && actual + 1 >= expected,
        "{what}: {actual}, expected {expected} (within a second)"
    );
}

#[test]
fn on_link_route_is_a_plain_prefix_route_refreshed_in_place() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        let on_link = key(index, "2001:db8:1::", 64, RouteVia::OnLink);
        writer
            .configure_route(&on_link, 600, RouterPreference::Medium)
            .await
            .unwrap();
        let route = only_route_to(&handle, "2001:db8:1::").await;
        assert_eq!(route.prefix_len, 64);
        assert_eq!(route.protocol, RouteProtocol::Ra);
        assert_eq!(route.interface, Some(index));
        assert_eq!(route.gateway, None);
        assert_eq!(route.nexthop_id, None);
        assert_eq!(route.metric, Some(METRIC));
        assert_about(route.expires, 600, "on-link route expiry");
        // The prefix is reachable on the link: the kernel resolves a host
        // in it to veth0 without a gateway.
        let lookup = ip(&["-6", "route", "get", "2001:db8:1::77"]);
        assert!(
            lookup.contains("dev veth0") && !lookup.contains(" via "),
            "{lookup}"
        );

        let deleted = deletions_during(async || {
            writer
                .configure_route(&on_link, 1800, RouterPreference::Medium)
                .await
                .unwrap();
        })
        .await;
        assert!(deleted.is_empty(), "refresh deleted the route: {deleted:?}");
        assert_about(
            only_route_to(&handle, "2001:db8:1::").await.expires,
            1800,
            "refreshed expiry",
        );

        // Infinite lifetime: the expiry goes, in place.
        writer
            .configure_route(&on_link, u32::MAX, RouterPreference::Medium)
            .await
            .unwrap();
        assert_eq!(only_route_to(&handle, "2001:db8:1::").await.expires, None);
        // And a permanent route gains an expiry again (re-added).
        writer
            .configure_route(&on_link, 300, RouterPreference::Medium)
            .await
            .unwrap();
        assert_about(
            only_route_to(&handle, "2001:db8:1::").await.expires,
            300,
            "expiry after permanent",
        );

        // Host bits in the proposal do not make a second route.
        writer
            .configure_route(
                &key(index, "2001:db8:1::99", 64, RouteVia::OnLink),
                300,
                RouterPreference::Medium,
            )
            .await
            .unwrap();
        assert_eq!(routes_to(&handle, "2001:db8:1::").await.len(), 1);

        writer.withdraw_route(&on_link).await.unwrap();
        assert!(routes_to(&handle, "2001:db8:1::").await.is_empty());
        writer.withdraw_route(&on_link).await.unwrap();
        // Lifetime 0 withdraws as well.
        writer
            .configure_route(&on_link, 60, RouterPreference::Medium)
            .await
            .unwrap();
        writer
            .configure_route(&on_link, 0, RouterPreference::Medium)
            .await
            .unwrap();
        assert!(routes_to(&handle, "2001:db8:1::").await.is_empty());
    });
}

#[test]
fn on_link_withdrawal_leaves_other_routes_to_the_prefix_alone() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        // An administrator's route to the same prefix, other protocol.
        ip(&[
            "-6",
            "route",
            "add",
            "2001:db8:5::/64",
            "dev",
            "veth0",
            "metric",
            "1234",
        ]);
        let on_link = key(index, "2001:db8:5::", 64, RouteVia::OnLink);
        writer.withdraw_route(&on_link).await.unwrap();
        let route = only_route_to(&handle, "2001:db8:5::").await;
        assert_eq!(route.protocol, RouteProtocol::Boot);
    });
}

#[test]
fn route_information_goes_via_the_routers_nexthop_with_preference_and_expiry() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        let specific = key(index, "2001:db8:10::", 48, router(ROUTER));
        writer
            .configure_route(&specific, 900, RouterPreference::High)
            .await
            .unwrap();
        let route = only_route_to(&handle, "2001:db8:10::").await;
        assert_eq!(route.prefix_len, 48);
        assert_eq!(route.protocol, RouteProtocol::Ra);
        assert_eq!(route.metric, Some(METRIC));
        assert_eq!(route.preference, Some(RoutePreference::High));
        assert_about(route.expires, 900, "route information expiry");
        let nexthop = route.nexthop_id.expect("route without a nexthop object");
        assert_eq!(ra_nexthop_ids(), vec![nexthop]);
        let lookup = ip(&["-6", "route", "get", "2001:db8:10::5"]);
        assert!(lookup.contains("via fe80::1 dev veth0"), "{lookup}");

        // A preference change re-adds the route with the new preference.
        writer
            .configure_route(&specific, 900, RouterPreference::Low)
            .await
            .unwrap();
        let route = only_route_to(&handle, "2001:db8:10::").await;
        assert_eq!(route.preference, Some(RoutePreference::Low));
        assert_eq!(route.nexthop_id, Some(nexthop));

        // The same lifetime again is an in-place refresh.
        let deleted = deletions_during(async || {
            writer
                .configure_route(&specific, 100, RouterPreference::Low)
                .await
                .unwrap();
        })
        .await;
        assert!(deleted.is_empty(), "refresh deleted the route: {deleted:?}");
        assert_about(
            only_route_to(&handle, "2001:db8:10::").await.expires,
            100,
            "refreshed expiry",
        );

        writer.withdraw_route(&specific).await.unwrap();
        assert!(routes_to(&handle, "2001:db8:10::").await.is_empty());
        assert!(ra_nexthop_ids().is_empty(), "nexthop object left behind");
    });
}

#[test]
fn two_routers_advertising_one_prefix_get_two_routes() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        for (address, preference) in [
            (ROUTER, RouterPreference::High),
            (OTHER_ROUTER, RouterPreference::Low),
        ] {
            writer
                .configure_route(
                    &key(index, "2001:db8:20::", 48, router(address)),
                    600,
                    preference,
                )
                .await
                .unwrap();
        }
        let routes = routes_to(&handle, "2001:db8:20::").await;
        assert_eq!(routes.len(), 2, "merged or missing: {routes:?}");
        let mut preferences: Vec<_> = routes.iter().map(|r| r.preference).collect();
        preferences.sort_by_key(|p| format!("{p:?}"));
        assert_eq!(
            preferences,
            vec![Some(RoutePreference::High), Some(RoutePreference::Low)]
        );
        // The kernel picks the high-preference router.
        let lookup = ip(&["-6", "route", "get", "2001:db8:20::1"]);
        assert!(lookup.contains("via fe80::1 "), "{lookup}");

        writer
            .withdraw_route(&key(index, "2001:db8:20::", 48, router(ROUTER)))
            .await
            .unwrap();
        let left = only_route_to(&handle, "2001:db8:20::").await;
        assert_eq!(left.preference, Some(RoutePreference::Low));
    });
}

#[test]
fn a_routers_nexthop_object_lives_while_any_of_its_routes_does() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        let default_route = DefaultRouteProposal {
            index,
            router: ROUTER.parse().unwrap(),
            lifetime: 1800,
            preference: RouterPreference::Medium,
        };
        let specific = key(index, "2001:db8:30::", 56, router(ROUTER));
        writer
            .configure_default_route(&default_route)
            .await
            .unwrap();
        writer
            .configure_route(&specific, 600, RouterPreference::Medium)
            .await
            .unwrap();
        let shared = ra_nexthop_ids();
        assert_eq!(shared.len(), 1, "one object per router: {shared:?}");
        assert_eq!(
            only_route_to(&handle, "2001:db8:30::").await.nexthop_id,
            Some(shared[0])
        );

        // The router stops being a default router: its Route Information
        // route must survive.
        writer
            .withdraw_default_route(index, default_route.router)
            .await
            .unwrap();
        assert!(routes_to(&handle, "::").await.is_empty());
        assert_eq!(ra_nexthop_ids(), shared);
        let route = only_route_to(&handle, "2001:db8:30::").await;
        assert_about(route.expires, 600, "route information expiry");

        // And the other way round.
        writer
            .configure_default_route(&default_route)
            .await
            .unwrap();
        writer.withdraw_route(&specific).await.unwrap();
        assert_eq!(routes_to(&handle, "::").await.len(), 1);
        assert_eq!(ra_nexthop_ids(), shared);
        writer
            .withdraw_default_route(index, default_route.router)
            .await
            .unwrap();
        assert!(ra_nexthop_ids().is_empty());
    });
}

#[test]
fn a_new_writer_adopts_existing_routes_without_replacing_them() {
    in_private_netns(async |index| {
        let handle = connect();
        let specific = key(index, "2001:db8:40::", 48, router(ROUTER));
        let on_link = key(index, "2001:db8:41::", 64, RouteVia::OnLink);
        {
            let first = writer(&handle);
            first
                .configure_route(&specific, 600, RouterPreference::High)
                .await
                .unwrap();
            first
                .configure_route(&on_link, 600, RouterPreference::Medium)
                .await
                .unwrap();
        }
        // A restarted daemon: nothing cached.
        let second = writer(&handle);
        let deleted = deletions_during(async || {
            second
                .configure_route(&specific, 1200, RouterPreference::High)
                .await
                .unwrap();
            second
                .configure_route(&on_link, 1200, RouterPreference::Medium)
                .await
                .unwrap();
        })
        .await;
        assert!(deleted.is_empty(), "adoption deleted a route: {deleted:?}");
        assert_about(
            only_route_to(&handle, "2001:db8:40::").await.expires,
            1200,
            "adopted route information expiry",
        );
        assert_about(
            only_route_to(&handle, "2001:db8:41::").await.expires,
            1200,
            "adopted on-link expiry",
        );
        // Withdrawal without a cache finds the router's nexthop object.
        let third = writer(&handle);
        third.withdraw_route(&specific).await.unwrap();
        assert!(routes_to(&handle, "2001:db8:40::").await.is_empty());
        assert!(ra_nexthop_ids().is_empty());
    });
}

#[test]
fn routes_come_back_after_the_link_flushed_them() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        let specific = key(index, "2001:db8:50::", 48, router(ROUTER));
        writer
            .configure_route(&specific, 600, RouterPreference::Medium)
            .await
            .unwrap();
        // Admin-down flushes the routes and the nexthop object with them.
        ip(&["link", "set", "veth0", "down"]);
        ip(&["link", "set", "veth0", "up"]);
        assert!(routes_to(&handle, "2001:db8:50::").await.is_empty());
        writer
            .configure_route(&specific, 600, RouterPreference::Medium)
            .await
            .unwrap();
        let route = only_route_to(&handle, "2001:db8:50::").await;
        assert!(route.nexthop_id.is_some());
    });
}
