//! Address and default route lifetimes on the virtual clock: proposals,
//! refresh without churn, the two-hour rule, infinite lifetimes and expiry.

mod common;

use common::*;
use slaacd_core::{Input, Output, RouterPreference};

fn setup() -> Harness {
    let mut h = Harness::new();
    h.interface(1, true);
    h
}

#[test]
fn an_advertisement_proposes_an_address_and_a_default_route() {
    let mut h = setup();
    let mut ra = advert(1800, vec![pio(prefix(1), 86_400, 14_400)]);
    ra.preference = RouterPreference::High;
    let outputs = h.ra(1, router(1), &ra);
    let addresses = configured_addresses(&outputs);
    assert_eq!(addresses.len(), 1);
    let address = &addresses[0];
    assert_eq!(address.index, 1);
    assert_eq!(address.prefix_len, 64);
    assert_eq!(address.valid_lifetime, 86_400);
    assert_eq!(address.preferred_lifetime, 14_400);
    assert!(!address.temporary);
    assert_eq!(address.address.segments()[..4], prefix(1).segments()[..4]);
    assert!(outputs.contains(&Output::ConfigureDefaultRoute(
        slaacd_core::DefaultRouteProposal {
            index: 1,
            router: router(1),
            lifetime: 1800,
            preference: RouterPreference::High,
        }
    )));
}

#[test]
fn a_day_of_advertisements_every_200_s_neither_lapses_nor_churns() {
    let mut h = setup();
    let ra = advert(
        1800,
        vec![pio(prefix(1), 3600, 1800), pio(prefix(2), 86_400, 14_400)],
    );
    let day = 86_400;
    for t in (0..day).step_by(200) {
        h.advance_to(h.at(t));
        h.ra(1, router(1), &ra);
        assert!(
            h.kernel.lapsed(h.now).is_empty(),
            "at {t}: {:?}",
            h.kernel.lapsed(h.now)
        );
        h.advance(secs(199));
        assert!(
            h.kernel.lapsed(h.now).is_empty(),
            "at {t}+199: {:?}",
            h.kernel.lapsed(h.now)
        );
    }
    let advertisements = day / 200;
    // Refreshed once about every half lifetime (some 850 s for the 1800 s
    // ones), not once per advertisement (432).
    let writes = (h.kernel.route_writes, h.kernel.address_writes);
    // The on-link routes follow the valid lifetimes: 3600 s (refreshed
    // about every 1800 s) and 86400 s (about twice).
    assert!(
        (46..=54).contains(&h.kernel.on_link_writes),
        "{} on-link writes",
        h.kernel.on_link_writes
    );
    assert!(
        (95..=110).contains(&writes.0),
        "{writes:?} for {advertisements} advertisements"
    );
    // prefix 1 follows its 1800 s preferred lifetime, prefix 2 its 14400 s one.
    assert!(
        (100..=130).contains(&writes.1),
        "{writes:?} for {advertisements} advertisements"
    );
    assert!(
        !h.log
            .iter()
            .any(|(_, o)| matches!(o, Output::WithdrawAddress { .. }))
    );
    assert!(
        !h.log
            .iter()
            .any(|(_, o)| matches!(o, Output::WithdrawDefaultRoute { .. }))
    );
}

#[test]
fn a_repeated_advertisement_soon_after_changes_nothing() {
    let mut h = setup();
    let ra = advert(1800, vec![pio(prefix(1), 86_400, 14_400)]);
    h.ra(1, router(1), &ra);
    h.advance(secs(200));
    assert!(h.ra(1, router(1), &ra).is_empty());
}

#[test]
fn a_changed_preference_is_proposed_at_once() {
    let mut h = setup();
    let mut ra = advert(1800, vec![]);
    h.ra(1, router(1), &ra);
    h.advance(secs(10));
    ra.preference = RouterPreference::Low;
    let outputs = h.ra(1, router(1), &ra);
    assert_eq!(
        outputs,
        [Output::ConfigureDefaultRoute(
            slaacd_core::DefaultRouteProposal {
                index: 1,
                router: router(1),
                lifetime: 1800,
                preference: RouterPreference::Low,
            }
        )]
    );
}

#[test]
fn a_shortened_lifetime_is_proposed_at_once_but_a_small_drift_is_not() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(1800, vec![pio(prefix(1), 86_400, 14_400)]),
    );
    h.advance(secs(10));
    // A router that counts its lifetimes down: same expiry within tolerance.
    assert!(
        h.ra(
            1,
            router(1),
            &advert(1790, vec![pio(prefix(1), 86_390, 14_390)])
        )
        .is_empty()
    );
    h.advance(secs(10));
    let outputs = h.ra(1, router(1), &advert(600, vec![pio(prefix(1), 86_400, 0)]));
    let address = &configured_addresses(&outputs)[0];
    assert_eq!(address.preferred_lifetime, 0, "deprecated at once");
    assert!(outputs.iter().any(|o| matches!(o,
        Output::ConfigureDefaultRoute(r) if r.lifetime == 600)));
}

#[test]
fn the_kernel_is_refreshed_by_timer_when_the_router_falls_silent() {
    let mut h = setup();
    let ra = advert(1800, vec![pio(prefix(1), 3600, 3600)]);
    h.ra(1, router(1), &ra);
    // One more advertisement before the refresh point, then silence.
    h.advance(secs(800));
    assert!(h.ra(1, router(1), &ra).is_empty());
    for _ in 0..2600 {
        h.advance(secs(1));
        assert!(
            h.kernel.lapsed(h.now).is_empty(),
            "{:.0}: {:?}",
            h.elapsed(),
            h.kernel.lapsed(h.now)
        );
    }
}

#[test]
fn the_address_is_withdrawn_when_its_valid_lifetime_ends() {
    let mut h = setup();
    let outputs = h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 300, 100)]));
    let address = configured_addresses(&outputs)[0].address;
    h.advance(secs(299));
    assert!(
        !h.log
            .iter()
            .any(|(_, o)| matches!(o, Output::WithdrawAddress { .. }))
    );
    assert_eq!(h.report(1).address_proposals[0].state, "DEPRECATED");
    let outputs = h.advance(secs(1));
    assert!(outputs.contains(&Output::WithdrawAddress {
        index: 1,
        address,
        prefix_len: 64
    }));
    assert!(h.report(1).address_proposals.is_empty());
    assert!(
        h.report(1).routers.is_empty(),
        "the router is forgotten too"
    );
}

#[test]
fn the_default_route_is_withdrawn_at_lifetime_end_or_lifetime_zero() {
    let mut h = setup();
    h.ra(1, router(1), &advert(100, vec![]));
    h.ra(1, router(2), &advert(1800, vec![]));
    let outputs = h.advance(secs(100));
    assert!(outputs.contains(&Output::WithdrawDefaultRoute {
        index: 1,
        router: router(1)
    }));
    let outputs = h.ra(1, router(2), &advert(0, vec![]));
    assert_eq!(
        outputs,
        [Output::WithdrawDefaultRoute {
            index: 1,
            router: router(2)
        }]
    );
    assert!(h.report(1).default_route_proposals.is_empty());
}

#[test]
fn infinite_lifetimes_stay_infinite_and_are_never_refreshed() {
    let mut h = setup();
    let ra = advert(1800, vec![pio(prefix(1), u32::MAX, u32::MAX)]);
    let outputs = h.ra(1, router(1), &ra);
    let address = &configured_addresses(&outputs)[0];
    assert_eq!(
        (address.valid_lifetime, address.preferred_lifetime),
        (u32::MAX, u32::MAX)
    );
    let writes = h.kernel.address_writes;
    for t in (200..86_400).step_by(200) {
        h.advance_to(h.at(t));
        h.ra(1, router(1), &ra);
    }
    assert_eq!(h.kernel.address_writes, writes);
    assert_eq!(h.report(1).address_proposals[0].valid_lifetime, u32::MAX);
}

#[test]
fn two_hour_rule_caps_a_short_valid_lifetime_on_a_known_prefix() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(0, vec![pio(prefix(1), 2_592_000, 604_800)]),
    );
    h.advance(secs(10));
    let outputs = h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 0, 0)]));
    let address = configured_addresses(&outputs)[0].clone();
    assert_eq!(
        (address.valid_lifetime, address.preferred_lifetime),
        (7200, 0)
    );
    // Under two hours left: a further short lifetime is ignored.
    h.advance(secs(3600));
    assert!(
        configured_addresses(&h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 60, 0)])))
            .is_empty()
    );
    let outputs = h.advance(secs(3600));
    assert!(outputs.contains(&Output::WithdrawAddress {
        index: 1,
        address: address.address,
        prefix_len: 64
    }));
}

#[test]
fn a_longer_valid_lifetime_is_taken_even_when_short() {
    let mut h = setup();
    h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 60, 30)]));
    h.advance(secs(50));
    let outputs = h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 600, 300)]));
    let address = &configured_addresses(&outputs)[0];
    assert_eq!(
        (address.valid_lifetime, address.preferred_lifetime),
        (600, 300)
    );
}

#[test]
fn valid_lifetime_zero_on_an_unknown_prefix_creates_nothing() {
    let mut h = setup();
    let outputs = h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 0, 0)]));
    assert!(configured_addresses(&outputs).is_empty());
    assert!(h.report(1).address_proposals.is_empty());
}

#[test]
fn only_autonomous_64_bit_global_prefixes_with_sane_lifetimes_get_addresses() {
    let mut h = setup();
    let mut not_autonomous = pio(prefix(1), 600, 300);
    if let slaacd_wire::NdOption::PrefixInformation(info) = &mut not_autonomous {
        info.autonomous = false;
    }
    let mut slash_48 = pio(prefix(2), 600, 300);
    if let slaacd_wire::NdOption::PrefixInformation(info) = &mut slash_48 {
        info.prefix_len = 48;
    }
    let link_local = pio("fe80::".parse().unwrap(), 600, 300);
    let preferred_over_valid = pio(prefix(3), 300, 600);
    let ra = advert(
        0,
        vec![not_autonomous, slash_48, link_local, preferred_over_valid],
    );
    assert!(configured_addresses(&h.ra(1, router(1), &ra)).is_empty());
}

#[test]
fn a_deleted_address_is_restored_by_the_next_advertisement() {
    let mut h = setup();
    let ra = advert(0, vec![pio(prefix(1), 86_400, 14_400)]);
    let address = configured_addresses(&h.ra(1, router(1), &ra))[0].address;
    h.input(Input::AddressDeleted { index: 1, address });
    assert_eq!(h.report(1).address_proposals[0].state, "WITHDRAWN");
    h.advance(secs(5));
    let restored = configured_addresses(&h.ra(1, router(1), &ra));
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].address, address);
    assert_eq!(h.report(1).address_proposals[0].state, "CONFIGURED");
}

#[test]
fn removing_the_interface_withdraws_everything() {
    let mut h = setup();
    let ra = advert(
        1800,
        vec![
            pio(prefix(1), 86_400, 14_400),
            pio(prefix(2), 86_400, 14_400),
        ],
    );
    h.ra(1, router(1), &ra);
    let outputs = h.input(Input::InterfaceRemoved { index: 1 });
    assert_eq!(outputs.len(), 5, "{outputs:?}");
    assert!(h.kernel.addresses.is_empty());
    assert!(h.kernel.on_link_routes.is_empty());
    assert!(h.kernel.routes.is_empty());
    assert!(!h.engine.knows_interface(1));
    assert_eq!(h.engine.poll_timeout(), None);
}

#[test]
fn link_down_keeps_proposals_until_they_expire_and_drops_advertisements() {
    let mut h = setup();
    h.ra(1, router(1), &advert(300, vec![pio(prefix(1), 600, 300)]));
    h.interface(1, false);
    h.advance(secs(100));
    assert_eq!(h.report(1).address_proposals.len(), 1);
    assert!(
        h.ra(1, router(1), &advert(300, vec![pio(prefix(1), 600, 300)]))
            .is_empty()
    );
    assert_eq!(
        h.report(1).dropped,
        [("interface-not-running".to_owned(), 1)]
    );
    h.advance(secs(500));
    assert!(h.kernel.addresses.is_empty());
    assert!(h.kernel.routes.is_empty());
    assert!(h.report(1).address_proposals.is_empty());
}

#[test]
fn the_report_shows_routers_proposals_and_ages() {
    let mut h = setup();
    let mut ra = advert(
        1800,
        vec![
            pio(prefix(1), 86_400, 14_400),
            slaacd_wire::NdOption::Mtu(1480),
            slaacd_wire::NdOption::Rdnss {
                lifetime: 600,
                servers: vec!["2001:db8::53".parse().unwrap()],
            },
        ],
    );
    ra.managed = true;
    h.ra(1, router(1), &ra);
    h.advance(secs(30));
    let report = h.report(1);
    assert_eq!(report.name, "eth1");
    assert!(report.running);
    assert_eq!(report.hw_address, MAC);
    let router_report = &report.routers[0];
    assert_eq!(router_report.source, router(1));
    assert_eq!(router_report.received_ago, 30);
    assert!(router_report.managed);
    assert_eq!(router_report.mtu, 1480);
    assert_eq!(router_report.prefixes[0].valid_lifetime, 86_400);
    assert_eq!(router_report.rdnss[0].lifetime, 600);
    let address = &report.address_proposals[0];
    assert_eq!(address.state, "CONFIGURED");
    assert_eq!(address.valid_lifetime, 86_370);
    assert_eq!(address.preferred_lifetime, 14_370);
    assert_eq!(address.updated_ago, 30);
    assert_eq!(address.prefix, prefix(1));
    // The next timer is the resolicitation 12 s before the preferred
    // lifetime ends (no refresh is due while the advertisement is current).
    assert_eq!(address.timeout, Some(14_400 - 12 - 30));
    let route = &report.default_route_proposals[0];
    assert_eq!(
        (route.router_lifetime, route.timeout),
        (1770, Some(1800 - 12 - 30))
    );
    assert_ne!(route.id, address.id);
    assert!(h.engine.report(h.now, Some(2)).is_empty());
    assert_eq!(h.engine.report(h.now, None).len(), 1);
}
