//! KernelWriter against the real kernel, each test in a private network
//! namespace (unshare(CLONE_NEWNET) on its own thread) with a veth pair.
//! Kernel state is read back with netlink dumps; in-place refreshes are
//! proven by listening to address and route events while refreshing.
//! Needs root.

mod common;
mod netlink_events;

use common::{connect, in_private_netns, ip};
use netlink_events::{drain, listen};
use std::net::Ipv6Addr;

use futures::TryStreamExt;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RoutePreference, RouteProtocol,
};
use rtnetlink::{MulticastGroup, RouteMessageBuilder};
use slaacd_core::{AddressProposal, DefaultRouteProposal, RouterPreference};
use slaacd_parent::kernel::{KernelWriter, MAX_ROUTE_EXPIRY};

const METRIC: u32 = 1234;
const USER_HZ: u32 = 100;

fn set_sysctl(interface: &str, name: &str, value: &str) {
    let path = format!("/proc/sys/net/ipv6/conf/{interface}/{name}");
    std::fs::write(&path, value).unwrap_or_else(|e| panic!("write {path}: {e}"));
}

fn writer(handle: &rtnetlink::Handle) -> KernelWriter {
    KernelWriter::new(handle.clone(), METRIC).unwrap()
}

fn address_proposal(index: u32, address: &str, valid: u32, preferred: u32) -> AddressProposal {
    AddressProposal {
        index,
        address: address.parse().unwrap(),
        prefix_len: 64,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
        temporary: false,
    }
}

fn route_proposal(
    index: u32,
    router: &str,
    lifetime: u32,
    preference: RouterPreference,
) -> DefaultRouteProposal {
    DefaultRouteProposal {
        index,
        router: router.parse().unwrap(),
        lifetime,
        preference,
    }
}

struct KernelAddress {
    flags: AddressFlags,
    valid: u32,
    preferred: u32,
}

async fn find_address(
    handle: &rtnetlink::Handle,
    index: u32,
    address: &str,
) -> Option<KernelAddress> {
    let address: Ipv6Addr = address.parse().unwrap();
    let messages: Vec<AddressMessage> = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute()
        .try_collect()
        .await
        .unwrap();
    messages.into_iter().find_map(|message| {
        let attrs = &message.attributes;
        attrs
            .contains(&AddressAttribute::Address(address.into()))
            .then(|| {
                let flags = attrs
                    .iter()
                    .find_map(|a| match a {
                        AddressAttribute::Flags(f) => Some(*f),
                        _ => None,
                    })
                    .unwrap_or(AddressFlags::empty());
                let (valid, preferred) = attrs
                    .iter()
                    .find_map(|a| match a {
                        AddressAttribute::CacheInfo(c) => Some((c.ifa_valid, c.ifa_preferred)),
                        _ => None,
                    })
                    .expect("address without IFA_CACHEINFO");
                KernelAddress {
                    flags,
                    valid,
                    preferred,
                }
            })
    })
}

#[derive(Debug)]
struct KernelRoute {
    gateway: Option<Ipv6Addr>,
    interface: Option<u32>,
    protocol: RouteProtocol,
    metric: Option<u32>,
    preference: Option<RoutePreference>,
    /// Seconds left, None for a permanent route.
    expires: Option<u32>,
    has_nexthop_object: bool,
}

async fn routes(handle: &rtnetlink::Handle) -> Vec<RouteMessage> {
    handle
        .route()
        .get(RouteMessageBuilder::<Ipv6Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .unwrap()
}

async fn default_routes(handle: &rtnetlink::Handle) -> Vec<KernelRoute> {
    routes(handle)
        .await
        .into_iter()
        .filter(|r| r.header.destination_prefix_length == 0 && r.header.table == 254)
        .map(|r| {
            let mut route = KernelRoute {
                gateway: None,
                interface: None,
                protocol: r.header.protocol,
                metric: None,
                preference: None,
                expires: None,
                has_nexthop_object: false,
            };
            for attribute in &r.attributes {
                match attribute {
                    RouteAttribute::Gateway(RouteAddress::Inet6(g)) => route.gateway = Some(*g),
                    RouteAttribute::Oif(i) => route.interface = Some(*i),
                    RouteAttribute::Priority(m) => route.metric = Some(*m),
                    RouteAttribute::Preference(p) => route.preference = Some(*p),
                    RouteAttribute::CacheInfo(c) if c.expires != 0 => {
                        route.expires = Some(c.expires / USER_HZ)
                    }
                    RouteAttribute::NhId(_) => route.has_nexthop_object = true,
                    _ => {}
                }
            }
            route
        })
        .collect()
}

fn route_via<'a>(routes: &'a [KernelRoute], router: &str) -> &'a KernelRoute {
    let router: Ipv6Addr = router.parse().unwrap();
    let matching: Vec<&KernelRoute> = routes
        .iter()
        .filter(|r| r.gateway == Some(router))
        .collect();
    assert_eq!(matching.len(), 1, "routes via {router}: {routes:?}");
    matching[0]
}

fn assert_about(actual: u32, expected: u32, what: &str) {
    assert!(
        actual <= expected && actual + 1 >= expected,
        "{what}: {actual}, expected {expected} (within a second)"
    );
}

#[test]
fn address_gets_kernel_lifetimes_and_flags() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 600, 300))
            .await
            .unwrap();
        let address = find_address(&handle, index, "2001:db8:1::10")
            .await
            .unwrap();
        assert_about(address.valid, 600, "valid lifetime");
        assert_about(address.preferred, 300, "preferred lifetime");
        assert!(address.flags.contains(AddressFlags::Noprefixroute));
        assert!(!address.flags.contains(AddressFlags::Permanent));
        assert!(!address.flags.contains(AddressFlags::Managetempaddr));
        // IFA_F_NOPREFIXROUTE: the address brings no on-link route along.
        let prefix: Ipv6Addr = "2001:db8:1::".parse().unwrap();
        assert!(
            !routes(&handle).await.iter().any(|r| r
                .attributes
                .contains(&RouteAttribute::Destination(RouteAddress::Inet6(prefix)))),
            "a prefix route appeared"
        );

        writer
            .configure_address(&address_proposal(
                index,
                "2001:db8:2::10",
                u32::MAX,
                u32::MAX,
            ))
            .await
            .unwrap();
        let forever = find_address(&handle, index, "2001:db8:2::10")
            .await
            .unwrap();
        assert_eq!((forever.valid, forever.preferred), (u32::MAX, u32::MAX));
        assert!(forever.flags.contains(AddressFlags::Permanent));

        // Preferred longer than valid is cut to valid, not refused.
        writer
            .configure_address(&address_proposal(index, "2001:db8:3::10", 100, 200))
            .await
            .unwrap();
        let cut = find_address(&handle, index, "2001:db8:3::10")
            .await
            .unwrap();
        assert_about(cut.preferred, 100, "preferred lifetime");
    });
}

#[test]
fn address_refresh_is_in_place() {
    in_private_netns(async |index| {
        // The kernel announces changes to an address only once it is past
        // DAD, as every address being refreshed by an RA is in practice.
        set_sysctl("veth0", "accept_dad", "0");
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 600, 300))
            .await
            .unwrap();
        let mut events = listen(&[MulticastGroup::Ipv6Ifaddr]);
        drain(&mut events).await;

        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 1200, 0))
            .await
            .unwrap();
        let seen = drain(&mut events).await;
        assert!(
            !seen
                .iter()
                .any(|m| matches!(m, RouteNetlinkMessage::DelAddress(_))),
            "refresh deleted the address: {seen:?}"
        );
        assert!(
            seen.iter()
                .any(|m| matches!(m, RouteNetlinkMessage::NewAddress(_))),
            "refresh sent no RTM_NEWADDR: {seen:?}"
        );
        let address = find_address(&handle, index, "2001:db8:1::10")
            .await
            .unwrap();
        assert_about(address.valid, 1200, "valid lifetime");
        assert_eq!(address.preferred, 0);
        assert!(address.flags.contains(AddressFlags::Deprecated));
        assert!(address.flags.contains(AddressFlags::Noprefixroute));
    });
}

#[test]
fn new_addresses_are_optimistic_only_where_enabled() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 600, 600))
            .await
            .unwrap();
        let plain = find_address(&handle, index, "2001:db8:1::10")
            .await
            .unwrap();
        assert!(plain.flags.contains(AddressFlags::Tentative));
        assert!(!plain.flags.contains(AddressFlags::Optimistic));

        set_sysctl("veth0", "optimistic_dad", "1");
        writer
            .configure_address(&address_proposal(index, "2001:db8:2::10", 600, 600))
            .await
            .unwrap();
        let optimistic = find_address(&handle, index, "2001:db8:2::10")
            .await
            .unwrap();
        assert!(optimistic.flags.contains(AddressFlags::Optimistic));
    });
}

#[test]
fn withdrawing_an_address_twice_is_fine() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        let address: Ipv6Addr = "2001:db8:1::10".parse().unwrap();
        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 600, 300))
            .await
            .unwrap();
        writer.withdraw_address(index, address, 64).await.unwrap();
        assert!(
            find_address(&handle, index, "2001:db8:1::10")
                .await
                .is_none()
        );
        writer.withdraw_address(index, address, 64).await.unwrap();

        // A valid lifetime of 0 withdraws.
        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 600, 300))
            .await
            .unwrap();
        writer
            .configure_address(&address_proposal(index, "2001:db8:1::10", 0, 0))
            .await
            .unwrap();
        assert!(
            find_address(&handle, index, "2001:db8:1::10")
                .await
                .is_none()
        );
    });
}

#[test]
fn default_route_has_protocol_metric_preference_and_expiry() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                1800,
                RouterPreference::High,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        let route = route_via(&routes, "fe80::1");
        assert_eq!(route.interface, Some(index));
        assert_eq!(route.protocol, RouteProtocol::Ra);
        assert_eq!(route.metric, Some(METRIC));
        assert_eq!(route.preference, Some(RoutePreference::High));
        assert_about(route.expires.expect("no expiry"), 1800, "expiry");
        assert!(route.has_nexthop_object);
    });
}

#[test]
fn default_route_refresh_is_in_place() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                600,
                RouterPreference::Medium,
            ))
            .await
            .unwrap();
        let mut events = listen(&[MulticastGroup::Ipv6Route]);
        drain(&mut events).await;

        for lifetime in [1800, 900, 1500] {
            writer
                .configure_default_route(&route_proposal(
                    index,
                    "fe80::1",
                    lifetime,
                    RouterPreference::Medium,
                ))
                .await
                .unwrap();
            let routes = default_routes(&handle).await;
            let route = route_via(&routes, "fe80::1");
            assert_about(route.expires.unwrap(), lifetime, "refreshed expiry");
        }
        let seen = drain(&mut events).await;
        assert!(
            !seen.iter().any(|m| matches!(
                m,
                RouteNetlinkMessage::DelRoute(_) | RouteNetlinkMessage::NewRoute(_)
            )),
            "refresh replaced the route: {seen:?}"
        );
    });
}

#[test]
fn two_routers_get_two_routes() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                600,
                RouterPreference::High,
            ))
            .await
            .unwrap();
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::2",
                900,
                RouterPreference::Low,
            ))
            .await
            .unwrap();
        // Refreshing the second must leave the first alone.
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::2",
                1200,
                RouterPreference::Low,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_eq!(routes.len(), 2, "{routes:?}");
        let first = route_via(&routes, "fe80::1");
        let second = route_via(&routes, "fe80::2");
        assert_eq!(first.preference, Some(RoutePreference::High));
        assert_about(first.expires.unwrap(), 600, "first router expiry");
        assert_eq!(second.preference, Some(RoutePreference::Low));
        assert_about(second.expires.unwrap(), 1200, "second router expiry");
        assert_eq!((first.metric, second.metric), (Some(METRIC), Some(METRIC)));

        let first_router: Ipv6Addr = "fe80::1".parse().unwrap();
        writer
            .withdraw_default_route(index, first_router)
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_eq!(routes.len(), 1, "{routes:?}");
        route_via(&routes, "fe80::2");
        writer
            .withdraw_default_route(index, first_router)
            .await
            .unwrap();

        // Router lifetime 0 withdraws.
        writer
            .configure_default_route(&route_proposal(index, "fe80::2", 0, RouterPreference::Low))
            .await
            .unwrap();
        assert!(default_routes(&handle).await.is_empty());
    });
}

#[test]
fn preference_and_lifetime_kind_changes_are_applied() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                u32::MAX,
                RouterPreference::Medium,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_eq!(route_via(&routes, "fe80::1").expires, None);

        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                300,
                RouterPreference::Medium,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_about(
            route_via(&routes, "fe80::1").expires.unwrap(),
            300,
            "expiry",
        );

        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                300,
                RouterPreference::High,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_eq!(routes.len(), 1, "{routes:?}");
        assert_eq!(
            route_via(&routes, "fe80::1").preference,
            Some(RoutePreference::High)
        );

        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                u32::MAX,
                RouterPreference::High,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_eq!(route_via(&routes, "fe80::1").expires, None);
    });
}

#[test]
fn very_large_lifetimes_are_clamped_to_what_the_kernel_reports() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                u32::MAX - 1,
                RouterPreference::Medium,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_about(
            route_via(&routes, "fe80::1").expires.unwrap(),
            MAX_ROUTE_EXPIRY,
            "clamped expiry",
        );
    });
}

#[test]
fn a_restarted_writer_adopts_existing_routes() {
    in_private_netns(async |index| {
        let handle = connect();
        writer(&handle)
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                600,
                RouterPreference::Low,
            ))
            .await
            .unwrap();

        let restarted = writer(&handle);
        let mut events = listen(&[MulticastGroup::Ipv6Route]);
        drain(&mut events).await;
        restarted
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                900,
                RouterPreference::Low,
            ))
            .await
            .unwrap();
        let seen = drain(&mut events).await;
        assert!(seen.is_empty(), "adoption changed routes: {seen:?}");
        let routes = default_routes(&handle).await;
        assert_eq!(routes.len(), 1, "{routes:?}");
        assert_about(
            route_via(&routes, "fe80::1").expires.unwrap(),
            900,
            "expiry",
        );

        // A fresh writer also sees a preference change it did not install.
        writer(&handle)
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                900,
                RouterPreference::High,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_eq!(
            route_via(&routes, "fe80::1").preference,
            Some(RoutePreference::High)
        );

        writer(&handle)
            .withdraw_default_route(index, "fe80::1".parse().unwrap())
            .await
            .unwrap();
        assert!(default_routes(&handle).await.is_empty());
    });
}

#[test]
fn a_route_comes_back_after_its_link_flapped() {
    in_private_netns(async |index| {
        let handle = connect();
        let writer = writer(&handle);
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                600,
                RouterPreference::Medium,
            ))
            .await
            .unwrap();
        // Link down flushes the route and the nexthop object.
        ip(&["link", "set", "veth0", "down"]);
        ip(&["link", "set", "veth0", "up"]);
        assert!(default_routes(&handle).await.is_empty());
        writer
            .configure_default_route(&route_proposal(
                index,
                "fe80::1",
                600,
                RouterPreference::Medium,
            ))
            .await
            .unwrap();
        let routes = default_routes(&handle).await;
        assert_about(
            route_via(&routes, "fe80::1").expires.unwrap(),
            600,
            "expiry",
        );
    });
}

#[test]
fn errors_name_the_interface_and_the_address_or_router() {
    in_private_netns(async |_| {
        let handle = connect();
        let writer = writer(&handle);
        let error = writer
            .configure_address(&address_proposal(999_999, "2001:db8:1::10", 600, 300))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("interface 999999") && error.contains("2001:db8:1::10/64"),
            "{error}"
        );
        let error = writer
            .configure_default_route(&route_proposal(
                999_999,
                "fe80::1",
                600,
                RouterPreference::Medium,
            ))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("interface 999999") && error.contains("fe80::1"),
            "{error}"
        );
    });
}
