//! On-link prefix routes (RFC 4861 6.3.4), Neighbor Discovery parameters,
//! what the report shows of an advertisement, and the configurable parts of
//! the engine (EUI-64 identifiers per interface, caps), on the virtual clock.

mod common;

use std::net::Ipv6Addr;

use common::*;
use slaacd_core::{
    Config, DnsslReport, Input, InterfaceIdentifier, Limits, Output, Pref64Report,
    RouteInformationReport, RouteProposal, RouteVia, RouterPreference,
};
use slaacd_wire::{NdOption, Pref64, PrefixInformation, RouteInformation};

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

fn prefix_info(
    prefix: Ipv6Addr,
    prefix_len: u8,
    on_link: bool,
    autonomous: bool,
    valid: u32,
) -> NdOption {
    NdOption::PrefixInformation(PrefixInformation {
        prefix,
        prefix_len,
        on_link,
        autonomous,
        valid_lifetime: valid,
        preferred_lifetime: valid / 2,
    })
}

fn on_link_routes(outputs: &[Output]) -> Vec<RouteProposal> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::ConfigureRoute(r) if r.via == RouteVia::OnLink => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn on_link_withdrawals(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .filter(|output| {
            matches!(
                output,
                Output::WithdrawRoute {
                    via: RouteVia::OnLink,
                    ..
                }
            )
        })
        .count()
}

#[test]
fn an_l_flag_prefix_becomes_an_on_link_route_for_its_valid_lifetime() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(1800, vec![pio(prefix(1), 3600, 1800)]),
    );
    assert_eq!(
        on_link_routes(&outputs),
        [RouteProposal {
            index: 1,
            prefix: prefix(1),
            prefix_len: 64,
            via: RouteVia::OnLink,
            lifetime: 3600,
            preference: RouterPreference::Medium,
        }]
    );
    // The same advertisement again changes nothing.
    h.advance(secs(10));
    assert!(
        on_link_routes(&h.ra(
            1,
            router(1),
            &advert(1800, vec![pio(prefix(1), 3600, 1800)])
        ))
        .is_empty()
    );
    // The report counts down from the last advertisement.
    h.advance(secs(10));
    let report = h.report(1);
    assert_eq!(report.route_proposals.len(), 1);
    assert_eq!(report.route_proposals[0].via, RouteVia::OnLink);
    assert_eq!(report.route_proposals[0].lifetime, 3590);
    assert_eq!(report.route_proposals[0].state, "CONFIGURED");
}

#[test]
fn on_link_and_autonomous_are_independent() {
    let mut h = setup();
    // L without A: a route, no address. A without L: an address, no route.
    let ra = advert(
        1800,
        vec![
            prefix_info(prefix(1), 64, true, false, 3600),
            prefix_info(prefix(2), 64, false, true, 3600),
        ],
    );
    let outputs = h.ra(1, router(1), &ra);
    let routes = on_link_routes(&outputs);
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].prefix, prefix(1));
    let addresses = configured_addresses(&outputs);
    assert_eq!(addresses.len(), 1);
    assert_eq!(
        addresses[0].address.segments()[..4],
        prefix(2).segments()[..4]
    );
    // L=0 later does not make a known on-link prefix off-link.
    h.advance(secs(60));
    let ra = advert(1800, vec![prefix_info(prefix(1), 64, false, false, 3600)]);
    let outputs = h.ra(1, router(1), &ra);
    assert_eq!(on_link_withdrawals(&outputs), 0);
    assert_eq!(h.kernel.on_link_routes.len(), 1);
}

#[test]
fn a_zero_valid_lifetime_times_the_on_link_prefix_out_at_once() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(1800, vec![pio(prefix(1), 86_400, 14_400)]),
    );
    h.advance(secs(100));
    let outputs = h.ra(1, router(1), &advert(1800, vec![pio(prefix(1), 0, 0)]));
    // No two-hour rule for the on-link route; the address keeps it.
    assert_eq!(
        outputs
            .iter()
            .filter(|o| matches!(o, Output::WithdrawRoute { prefix: p, prefix_len: 64, via: RouteVia::OnLink, index: 1 } if *p == prefix(1)))
            .count(),
        1
    );
    assert!(h.kernel.on_link_routes.is_empty());
    assert_eq!(h.kernel.addresses.len(), 1);
    // A zero lifetime for an unknown prefix creates nothing.
    let outputs = h.ra(1, router(1), &advert(1800, vec![pio(prefix(2), 0, 0)]));
    assert!(on_link_routes(&outputs).is_empty());
}

#[test]
fn the_on_link_route_is_withdrawn_when_its_lifetime_runs_out() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(0, vec![prefix_info(prefix(1), 48, true, false, 600)]),
    );
    let outputs = h.advance(secs(599));
    assert_eq!(on_link_withdrawals(&outputs), 0);
    assert!(h.kernel.lapsed(h.now).is_empty());
    let outputs = h.advance(secs(2));
    assert_eq!(on_link_withdrawals(&outputs), 1);
    assert!(h.kernel.on_link_routes.is_empty());
    assert!(h.report(1).route_proposals.is_empty());
}

#[test]
fn infinite_on_link_lifetimes_stay_infinite() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(0, vec![prefix_info(prefix(1), 56, true, false, u32::MAX)]),
    );
    assert_eq!(on_link_routes(&outputs)[0].lifetime, u32::MAX);
    let outputs = h.advance(secs(30 * 86_400));
    assert!(on_link_routes(&outputs).is_empty());
    assert_eq!(on_link_withdrawals(&outputs), 0);
    assert_eq!(h.kernel.on_link_routes.len(), 1);
}

#[test]
fn any_prefix_length_is_on_link_but_link_local_default_and_multicast_are_not() {
    let mut h = setup();
    let ra = advert(
        0,
        vec![
            prefix_info(prefix(1), 48, true, false, 600),
            prefix_info(prefix(2), 128, true, false, 600),
            prefix_info("fe80::".parse().unwrap(), 64, true, false, 600),
            prefix_info(Ipv6Addr::UNSPECIFIED, 0, true, false, 600),
            prefix_info("ff02::".parse().unwrap(), 16, true, false, 600),
        ],
    );
    let outputs = h.ra(1, router(1), &ra);
    let routes: Vec<(Ipv6Addr, u8)> = on_link_routes(&outputs)
        .iter()
        .map(|r| (r.prefix, r.prefix_len))
        .collect();
    assert_eq!(routes, [(prefix(1), 48), (prefix(2), 128)]);
    assert_eq!(dropped(&h, "on-link-prefix-ignored"), 3);
}

#[test]
fn on_link_prefixes_beyond_the_cap_are_rejected_and_existing_ones_kept() {
    let mut h = setup();
    let cap = Limits::default().prefixes;
    let options = (1..=cap as u16 + 3)
        .map(|n| prefix_info(prefix(n), 64, true, false, 600))
        .collect();
    h.ra(1, router(1), &advert(0, options));
    assert_eq!(h.kernel.on_link_routes.len(), cap);
    assert_eq!(dropped(&h, "on-link-prefixes-limit"), 3);
    // A refresh of a known one is still taken.
    h.advance(secs(400));
    let outputs = h.ra(
        1,
        router(1),
        &advert(0, vec![prefix_info(prefix(1), 64, true, false, 600)]),
    );
    assert_eq!(on_link_routes(&outputs).len(), 1);
}

#[test]
fn an_invalid_prefix_information_length_rejects_the_whole_advertisement() {
    let mut h = setup();
    let mut packet = advert(1800, vec![pio(prefix(1), 3600, 1800)]).emit();
    // The PIO starts right after the 16-byte header; length 3 instead of 4.
    packet[17] = 3;
    packet.truncate(16 + 24);
    let outputs = h.input(Input::RouterAdvertisement {
        index: 1,
        source: router(1),
        packet,
    });
    assert!(outputs.is_empty(), "{outputs:?}");
    assert_eq!(dropped(&h, "prefix-info-length"), 1);
}

#[test]
fn removing_the_interface_withdraws_its_on_link_routes() {
    let mut h = setup();
    h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 3600, 1800)]));
    let outputs = h.input(Input::InterfaceRemoved { index: 1 });
    assert_eq!(on_link_withdrawals(&outputs), 1);
    assert!(h.kernel.on_link_routes.is_empty());
}

fn with_parameters(
    cur_hop_limit: u8,
    reachable_time: u32,
    retrans_timer: u32,
) -> slaacd_wire::RouterAdvert {
    let mut ra = advert(1800, Vec::new());
    ra.cur_hop_limit = cur_hop_limit;
    ra.reachable_time = reachable_time;
    ra.retrans_timer = retrans_timer;
    ra
}

fn parameters(outputs: &[Output]) -> Vec<(u8, u32, u32)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::ConfigureLinkParameters {
                index: 1,
                cur_hop_limit,
                reachable_time,
                retrans_timer,
            } => Some((*cur_hop_limit, *reachable_time, *retrans_timer)),
            _ => None,
        })
        .collect()
}

#[test]
fn link_parameters_are_proposed_when_a_specified_value_changes() {
    let mut h = setup();
    let outputs = h.ra(1, router(1), &with_parameters(64, 30_000, 1_000));
    assert_eq!(parameters(&outputs), [(64, 30_000, 1_000)]);
    // Unchanged: nothing.
    assert!(parameters(&h.ra(1, router(1), &with_parameters(64, 30_000, 1_000))).is_empty());
    // Zero is unspecified, never a change; another router saying 0 neither.
    assert!(parameters(&h.ra(1, router(1), &with_parameters(0, 0, 0))).is_empty());
    assert!(parameters(&h.ra(1, router(2), &with_parameters(0, 0, 0))).is_empty());
    // One value changes: the others stay as last proposed.
    let outputs = h.ra(1, router(1), &with_parameters(255, 0, 0));
    assert_eq!(parameters(&outputs), [(255, 30_000, 1_000)]);
    let outputs = h.ra(1, router(1), &with_parameters(0, 0, 2_000));
    assert_eq!(parameters(&outputs), [(255, 30_000, 2_000)]);
    assert_eq!(h.kernel.link_parameters, Some((255, 30_000, 2_000)));
}

#[test]
fn advertisements_that_never_specify_parameters_propose_none() {
    let mut h = setup();
    let outputs = h.ra(1, router(1), &with_parameters(0, 0, 0));
    assert!(parameters(&outputs).is_empty());
    let outputs = h.ra(1, router(1), &with_parameters(0, 45_000, 0));
    assert_eq!(parameters(&outputs), [(0, 45_000, 0)]);
}

#[test]
fn the_router_report_shows_dnssl_routes_pref64_and_captive_portal() {
    let mut h = setup();
    let ra = advert(
        1800,
        vec![
            NdOption::Dnssl {
                lifetime: 900,
                domains: vec!["example.org".to_owned()],
            },
            NdOption::RouteInformation(RouteInformation {
                prefix: prefix(9),
                prefix_len: 48,
                preference: RouterPreference::Low,
                lifetime: 1200,
            }),
            NdOption::Pref64(Pref64 {
                prefix: "64:ff9b::".parse().unwrap(),
                prefix_len: 96,
                lifetime: 1800,
            }),
            NdOption::CaptivePortal("https://portal.example/".to_owned()),
            NdOption::CaptivePortal("https://second.example/".to_owned()),
        ],
    );
    h.ra(1, router(1), &ra);
    let report = h.report(1);
    let router_report = &report.routers[0];
    assert_eq!(
        router_report.dnssl,
        [DnsslReport {
            domain: "example.org".to_owned(),
            lifetime: 900
        }]
    );
    assert_eq!(
        router_report.routes,
        [RouteInformationReport {
            prefix: prefix(9),
            prefix_len: 48,
            preference: RouterPreference::Low,
            lifetime: 1200,
        }]
    );
    assert_eq!(
        router_report.pref64,
        [Pref64Report {
            prefix: "64:ff9b::".parse().unwrap(),
            prefix_len: 96,
            lifetime: 1800,
        }]
    );
    assert_eq!(
        router_report.captive_portal.as_deref(),
        Some("https://portal.example/")
    );
    assert_eq!(report.route_proposals.len(), 1);
    assert_eq!(report.route_proposals[0].via, RouteVia::Router(router(1)));
    // The next advertisement without them clears them from the report.
    h.ra(1, router(1), &advert(1800, Vec::new()));
    let router_report = &h.report(1).routers[0];
    assert!(router_report.dnssl.is_empty() && router_report.pref64.is_empty());
    assert!(router_report.routes.is_empty());
    assert_eq!(router_report.captive_portal, None);
}

#[test]
fn an_interface_configured_for_eui64_forms_modified_eui64_addresses() {
    let mut config = Config::new(KEY.to_vec(), 7);
    config
        .interface_identifiers
        .insert("eth1".to_owned(), InterfaceIdentifier::Eui64);
    let mut h = Harness::with_config(config);
    h.interface(1, true);
    h.interface(2, true);
    let ra = advert(1800, vec![pio(prefix(1), 3600, 1800)]);
    let eui64 = configured_addresses(&h.ra(1, router(1), &ra));
    // MAC 02:00:00:aa:bb:cc -> 0000:00ff:feaa:bbcc.
    let expected: Ipv6Addr = "2001:db8:1:0:0:ff:feaa:bbcc".parse().unwrap();
    assert_eq!(eui64[0].address, expected);
    let stable = configured_addresses(&h.ra(2, router(1), &ra));
    assert_ne!(stable[0].address, expected);
    // An EUI-64 has no second try: DAD failure gives the prefix up.
    let outputs = h.input(Input::DadFailed {
        index: 1,
        address: expected,
    });
    assert!(configured_addresses(&outputs).is_empty());
    assert_eq!(h.report(1).address_proposals[0].state, "DUPLICATED");
}

#[test]
fn configured_caps_replace_the_defaults() {
    let mut config = Config::new(KEY.to_vec(), 7);
    config.limits = Limits {
        routers: 1,
        dns_servers: 1,
        ..Limits::default()
    };
    let mut h = Harness::with_config(config);
    h.interface(1, true);
    let rdnss = NdOption::Rdnss {
        lifetime: 600,
        servers: vec![prefix(1), prefix(2)],
    };
    h.ra(1, router(1), &advert(1800, vec![rdnss]));
    h.ra(1, router(2), &advert(1800, Vec::new()));
    let report = h.report(1);
    assert_eq!(report.routers.len(), 1);
    assert_eq!(report.dns_servers, [prefix(1)]);
    assert_eq!(dropped(&h, "routers-limit"), 1);
    assert_eq!(dropped(&h, "dns-servers-limit"), 1);
}

#[test]
fn the_address_is_proposed_before_everything_else_an_advertisement_brings() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(1800, vec![NdOption::Mtu(1400), pio(prefix(1), 3600, 1800)]),
    );
    assert!(
        matches!(outputs.first(), Some(Output::ConfigureAddress(_))),
        "{outputs:?}"
    );
    assert!(
        outputs
            .iter()
            .any(|output| matches!(output, Output::ConfigureDefaultRoute(_))),
        "{outputs:?}"
    );
}
