//! Phase 2 options on the virtual clock: MTU, RDNSS/DNSSL and Route
//! Information routes, with their lifetimes, churn rule and caps.

mod common;

use std::net::Ipv6Addr;

use common::*;
use slaacd_core::{Input, Limits, Output, RouteProposal, RouteVia, RouterPreference};
use slaacd_wire::{NdOption, RouteInformation};

fn setup() -> Harness {
    let mut h = Harness::new();
    h.interface(1, true);
    h
}

fn dropped(h: &Harness, reason: &str) -> u64 {
    h.report(1)
        .dropped
        .iter()
        .find(|(r, _)| r == reason)
        .map_or(0, |(_, count)| *count)
}

fn server(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n)
}

fn rdnss(lifetime: u32, servers: &[u16]) -> NdOption {
    NdOption::Rdnss {
        lifetime,
        servers: servers.iter().map(|&n| server(n)).collect(),
    }
}

fn dnssl(lifetime: u32, domains: &[&str]) -> NdOption {
    NdOption::Dnssl {
        lifetime,
        domains: domains.iter().map(|&d| d.to_owned()).collect(),
    }
}

fn rio(prefix: Ipv6Addr, prefix_len: u8, lifetime: u32) -> NdOption {
    NdOption::RouteInformation(RouteInformation {
        prefix,
        prefix_len,
        preference: RouterPreference::High,
        lifetime,
    })
}

#[test]
fn an_mtu_option_is_proposed_once_and_small_ones_are_ignored() {
    let mut h = setup();
    let outputs = h.ra(1, router(1), &advert(1800, vec![NdOption::Mtu(1480)]));
    assert!(outputs.contains(&Output::ConfigureMtu {
        index: 1,
        mtu: 1480
    }));
    h.advance(secs(10));
    assert!(
        h.ra(1, router(1), &advert(1800, vec![NdOption::Mtu(1480)]))
            .is_empty()
    );
    assert!(
        h.ra(1, router(1), &advert(1800, vec![NdOption::Mtu(1279)]))
            .is_empty()
    );
    assert_eq!(dropped(&h, "mtu-too-small"), 1);
    let outputs = h.ra(1, router(1), &advert(1800, vec![NdOption::Mtu(1280)]));
    assert_eq!(
        outputs,
        [Output::ConfigureMtu {
            index: 1,
            mtu: 1280
        }]
    );
    assert_eq!(h.report(1).mtu, Some(1280));
}

#[test]
fn dns_servers_and_domains_are_proposed_as_a_set_when_it_changes() {
    let mut h = setup();
    let ra = advert(
        0,
        vec![
            rdnss(600, &[1, 2]),
            dnssl(600, &["Example.org", "lab.example.org"]),
        ],
    );
    let outputs = h.ra(1, router(1), &ra);
    assert_eq!(
        outputs,
        [Output::ConfigureDns {
            index: 1,
            servers: vec![server(1), server(2)],
            search_domains: vec!["example.org".into(), "lab.example.org".into()],
        }]
    );
    // Repeated: lifetimes move, the set does not: nothing to do.
    h.advance(secs(100));
    assert!(h.ra(1, router(1), &ra).is_empty());
    // A second router adds a server; the order of first appearance is kept.
    let outputs = h.ra(1, router(2), &advert(0, vec![rdnss(600, &[3, 1])]));
    assert_eq!(
        h.kernel.dns_servers,
        [server(1), server(2), server(3)],
        "{outputs:?}"
    );
    assert_eq!(h.report(1).dns_servers, h.kernel.dns_servers);
}

#[test]
fn dns_entries_expire_on_their_own_and_lifetime_zero_removes_at_once() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(
            0,
            vec![
                rdnss(300, &[1]),
                rdnss(900, &[2]),
                dnssl(300, &["a.example"]),
            ],
        ),
    );
    h.advance(secs(299));
    assert_eq!(h.kernel.dns_servers.len(), 2);
    h.advance(secs(1));
    assert_eq!(h.kernel.dns_servers, [server(2)]);
    assert!(h.kernel.search_domains.is_empty());
    let outputs = h.ra(1, router(1), &advert(0, vec![rdnss(0, &[2])]));
    assert_eq!(
        outputs,
        [Output::ConfigureDns {
            index: 1,
            servers: vec![],
            search_domains: vec![],
        }]
    );
}

#[test]
fn dns_caps_reject_new_entries_and_unusable_servers_are_skipped() {
    let mut h = setup();
    let servers: Vec<u16> = (1..=Limits::default().dns_servers as u16 + 2).collect();
    let domains: Vec<String> = (0..Limits::default().search_domains + 1)
        .map(|n| format!("d{n}.example"))
        .collect();
    let domains: Vec<&str> = domains.iter().map(String::as_str).collect();
    let mut options = vec![rdnss(600, &servers), dnssl(600, &domains)];
    options.push(NdOption::Rdnss {
        lifetime: 600,
        servers: vec![
            Ipv6Addr::LOCALHOST,
            "ff02::1".parse().unwrap(),
            Ipv6Addr::UNSPECIFIED,
        ],
    });
    h.ra(1, router(1), &advert(0, options));
    assert_eq!(h.kernel.dns_servers.len(), Limits::default().dns_servers);
    assert_eq!(h.kernel.dns_servers[0], server(1));
    assert_eq!(
        h.kernel.search_domains.len(),
        Limits::default().search_domains
    );
    assert_eq!(dropped(&h, "dns-servers-limit"), 2);
    assert_eq!(dropped(&h, "search-domains-limit"), 1);
    assert_eq!(dropped(&h, "rdnss-unusable-server"), 3);
}

#[test]
fn removing_the_interface_withdraws_dns_and_routes() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(0, vec![rdnss(600, &[1]), rio(prefix(5), 48, 600)]),
    );
    let outputs = h.input(Input::InterfaceRemoved { index: 1 });
    assert!(outputs.contains(&Output::ConfigureDns {
        index: 1,
        servers: vec![],
        search_domains: vec![],
    }));
    assert!(h.kernel.specific_routes.is_empty());
}

#[test]
fn a_route_information_option_proposes_a_route_refreshed_without_churn() {
    let mut h = setup();
    let ra = advert(0, vec![rio(prefix(5), 48, 1800)]);
    let outputs = h.ra(1, router(1), &ra);
    assert_eq!(
        outputs,
        [Output::ConfigureRoute(RouteProposal {
            index: 1,
            via: RouteVia::Router(router(1)),
            prefix: prefix(5),
            prefix_len: 48,
            lifetime: 1800,
            preference: RouterPreference::High,
        })]
    );
    for t in (200..86_400).step_by(200) {
        h.advance_to(h.at(t));
        h.ra(1, router(1), &ra);
        assert!(
            h.kernel.lapsed(h.now).is_empty(),
            "{:?}",
            h.kernel.lapsed(h.now)
        );
    }
    assert!(
        (95..=110).contains(&h.kernel.route_writes),
        "{}",
        h.kernel.route_writes
    );
    let report = h.report(1);
    assert_eq!(report.route_proposals.len(), 1);
    assert_eq!(report.route_proposals[0].prefix_len, 48);
}

#[test]
fn a_route_is_withdrawn_by_lifetime_zero_or_expiry_and_default_rio_is_ignored() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(
            0,
            vec![
                rio(prefix(5), 48, 1800),
                rio(prefix(6), 56, 100),
                rio(Ipv6Addr::UNSPECIFIED, 0, 600),
            ],
        ),
    );
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    let outputs = h.advance(secs(100));
    assert!(outputs.contains(&Output::WithdrawRoute {
        index: 1,
        via: RouteVia::Router(router(1)),
        prefix: prefix(6),
        prefix_len: 56,
    }));
    let outputs = h.ra(1, router(1), &advert(0, vec![rio(prefix(5), 48, 0)]));
    assert_eq!(
        outputs,
        [Output::WithdrawRoute {
            index: 1,
            via: RouteVia::Router(router(1)),
            prefix: prefix(5),
            prefix_len: 48,
        }]
    );
    assert!(h.report(1).routers.is_empty(), "nothing left to remember");
}

#[test]
fn routes_beyond_the_cap_are_rejected_across_routers() {
    let mut h = setup();
    let half = Limits::default().routes as u16 / 2;
    let first: Vec<NdOption> = (0..half).map(|n| rio(prefix(100 + n), 48, 600)).collect();
    let second: Vec<NdOption> = (0..half + 3)
        .map(|n| rio(prefix(300 + n), 48, 600))
        .collect();
    h.ra(1, router(1), &advert(0, first.clone()));
    h.ra(1, router(2), &advert(0, second));
    assert_eq!(h.kernel.specific_routes.len(), Limits::default().routes);
    assert_eq!(dropped(&h, "routes-limit"), 3);
    // Existing routes are still refreshed.
    h.advance(secs(400));
    h.ra(1, router(1), &advert(0, first));
    h.advance(secs(300));
    assert_eq!(h.kernel.specific_routes.len(), half as usize);
}
