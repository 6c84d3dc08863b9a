//! Caps per interface: two interfaces of one engine, one with caps of its own
//! (eth1) and one with the engine's (eth2), fed the same advertisements,
//! reject new entries at different counts, and neither cap spills over to
//! the other interface.

mod common;

use std::net::Ipv6Addr;

use common::*;
use slaacd_core::{Config, Input, InterfaceState, Limits};
use slaacd_wire::{NdOption, RouteInformation, RouterAdvert, RouterPreference};

/// eth1's own caps: one of everything (the address cap counts a stable
/// address per prefix).
const ETH1: Limits = Limits {
    routers: 1,
    prefixes: 1,
    addresses: 1,
    routes: 1,
    dns_servers: 1,
    search_domains: 1,
};

/// The engine's caps, which eth2 has.
const GLOBAL: Limits = Limits {
    routers: 3,
    prefixes: 3,
    addresses: 3,
    routes: 3,
    dns_servers: 3,
    search_domains: 3,
};

/// An engine with eth1 (index 1) and eth2 (index 2), both running.
fn two_interfaces() -> Harness {
    let mut config = Config::new(KEY.to_vec(), 7);
    config.limits = GLOBAL;
    config.interface_limits.insert("eth1".to_owned(), ETH1);
    let mut h = Harness::with_config(config);
    h.interface(1, true);
    h.interface(2, true);
    h
}

fn dropped(h: &Harness, index: u32, reason: &str) -> u64 {
    h.report(index)
        .dropped
        .iter()
        .find(|(r, _)| r == reason)
        .map_or(0, |(_, count)| *count)
}

/// Sends `ra` from `source` to both interfaces.
fn to_both(h: &mut Harness, source: Ipv6Addr, ra: &RouterAdvert) {
    h.ra(1, source, ra);
    h.ra(2, source, ra);
}

#[test]
fn routers_are_capped_per_interface() {
    let mut h = two_interfaces();
    for n in 1..=5 {
        to_both(&mut h, router(n), &advert(1800, Vec::new()));
    }
    assert_eq!(h.report(1).routers.len(), 1);
    assert_eq!(dropped(&h, 1, "routers-limit"), 4);
    assert_eq!(h.report(2).routers.len(), 3);
    assert_eq!(dropped(&h, 2, "routers-limit"), 2);
}

#[test]
fn prefixes_and_on_link_prefixes_are_capped_per_interface() {
    let mut config = Config::new(KEY.to_vec(), 7);
    config.limits = GLOBAL;
    // Addresses do not run out first: the prefix cap is the one reached.
    let eth1 = Limits {
        addresses: 16,
        ..ETH1
    };
    config.interface_limits.insert("eth1".to_owned(), eth1);
    let mut h = Harness::with_config(config);
    h.interface(1, true);
    h.interface(2, true);
    let options = (1..=5).map(|n| pio(prefix(n), 86_400, 14_400)).collect();
    to_both(&mut h, router(1), &advert(1800, options));
    assert_eq!(h.report(1).address_proposals.len(), 1);
    assert_eq!(dropped(&h, 1, "prefixes-limit"), 4);
    assert_eq!(dropped(&h, 1, "on-link-prefixes-limit"), 4);
    assert_eq!(h.report(2).address_proposals.len(), 3);
    assert_eq!(dropped(&h, 2, "prefixes-limit"), 2);
    assert_eq!(dropped(&h, 2, "on-link-prefixes-limit"), 2);
}

#[test]
fn addresses_are_capped_per_interface() {
    let mut config = Config::new(KEY.to_vec(), 7);
    config.limits = GLOBAL;
    // Prefixes do not run out first: the address cap is the one reached.
    let eth1 = Limits {
        prefixes: 16,
        ..ETH1
    };
    config.interface_limits.insert("eth1".to_owned(), eth1);
    config.limits.prefixes = 16;
    let mut h = Harness::with_config(config);
    h.interface(1, true);
    h.interface(2, true);
    let options = (1..=5).map(|n| pio(prefix(n), 86_400, 14_400)).collect();
    to_both(&mut h, router(1), &advert(1800, options));
    assert_eq!(h.report(1).address_proposals.len(), 1);
    assert_eq!(dropped(&h, 1, "addresses-limit"), 4);
    assert_eq!(h.report(2).address_proposals.len(), 3);
    assert_eq!(dropped(&h, 2, "addresses-limit"), 2);
}

#[test]
fn routes_are_capped_per_interface_over_every_router() {
    let mut h = two_interfaces();
    let route = |n: u16| {
        NdOption::RouteInformation(RouteInformation {
            prefix: prefix(100 + n),
            prefix_len: 48,
            preference: RouterPreference::Medium,
            lifetime: 1800,
        })
    };
    to_both(
        &mut h,
        router(1),
        &advert(1800, (1..=2).map(route).collect()),
    );
    // A second router on eth1 is over the router cap; on eth2 it is heard,
    // and its routes count against the same cap as the first router's.
    to_both(
        &mut h,
        router(2),
        &advert(1800, (3..=5).map(route).collect()),
    );
    assert_eq!(h.report(1).route_proposals.len(), 1);
    assert_eq!(dropped(&h, 1, "routes-limit"), 1);
    let eth2 = h.report(2).route_proposals;
    // Three Route Information routes; no on-link prefixes were advertised.
    assert_eq!(eth2.len(), 3, "{eth2:?}");
    assert_eq!(dropped(&h, 2, "routes-limit"), 2);
}

#[test]
fn dns_servers_and_search_domains_are_capped_per_interface() {
    let mut h = two_interfaces();
    let servers = (1..=5).map(prefix).collect();
    let domains = (1..=5).map(|n| format!("d{n}.example")).collect();
    let ra = advert(
        1800,
        vec![
            NdOption::Rdnss {
                lifetime: 600,
                servers,
            },
            NdOption::Dnssl {
                lifetime: 600,
                domains,
            },
        ],
    );
    to_both(&mut h, router(1), &ra);
    let eth1 = h.report(1);
    assert_eq!((eth1.dns_servers.len(), eth1.search_domains.len()), (1, 1));
    assert_eq!(dropped(&h, 1, "dns-servers-limit"), 4);
    assert_eq!(dropped(&h, 1, "search-domains-limit"), 4);
    let eth2 = h.report(2);
    assert_eq!((eth2.dns_servers.len(), eth2.search_domains.len()), (3, 3));
    assert_eq!(dropped(&h, 2, "dns-servers-limit"), 2);
    assert_eq!(dropped(&h, 2, "search-domains-limit"), 2);
}

#[test]
fn a_renamed_interface_gets_the_caps_of_its_new_name() {
    let mut config = Config::new(KEY.to_vec(), 7);
    config.limits = GLOBAL;
    config.interface_limits.insert("wan0".to_owned(), ETH1);
    let mut h = Harness::with_config(config);
    h.interface(2, true);
    h.ra(2, router(1), &advert(1800, Vec::new()));
    // eth2 becomes wan0: its next new router meets wan0's cap of one.
    h.input(Input::InterfaceUpdate(InterfaceState {
        index: 2,
        name: "wan0".to_owned(),
        running: true,
        hw_address: MAC.to_vec(),
        link_local: Some(router(0x99)),
    }));
    h.ra(2, router(2), &advert(1800, Vec::new()));
    assert_eq!(h.report(2).routers.len(), 1);
    assert_eq!(dropped(&h, 2, "routers-limit"), 1);
}
