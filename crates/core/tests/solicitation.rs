//! Router Solicitation scenarios on the virtual clock: at creation, backoff,
//! stop on an advertisement, link-up, requests, resolicitation before
//! lifetimes end, and the repetition from the link-local of one sent from ::.

mod common;

use std::net::Ipv6Addr;

use common::*;
use slaacd_core::{Input, InterfaceState, Output};

fn solicitation_times(h: &Harness) -> Vec<f64> {
    h.log
        .iter()
        .filter(|(_, output)| matches!(output, Output::SendSolicitation { .. }))
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn a_running_interface_solicits_at_once_then_backs_off_to_an_hour() {
    let mut h = Harness::new();
    assert_eq!(
        h.interface(1, true),
        [Output::SendSolicitation { index: 1 }]
    );
    h.advance(secs(6 * 3600));
    let times = solicitation_times(&h);
    assert_eq!(times[0], 0.0);
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!((4.0..=4.4).contains(&gaps[0]), "{gaps:?}");
    assert!((7.2..=8.8).contains(&gaps[1]), "{gaps:?}");
    assert!(
        gaps.iter().all(|&gap| (4.0..=3960.0).contains(&gap)),
        "{gaps:?}"
    );
    // 4+8+...+2048 ≈ 4092 s, then about hourly: some 16 in six hours.
    assert!((14..=20).contains(&times.len()), "{times:?}");
    assert!(gaps.last().is_some_and(|&gap| gap >= 3240.0), "{gaps:?}");
}

#[test]
fn an_interface_that_is_not_running_does_not_solicit_until_link_up() {
    let mut h = Harness::new();
    assert!(h.interface(1, false).is_empty());
    assert_eq!(h.engine.poll_timeout(), None);
    h.advance(secs(100));
    assert!(h.log.is_empty());
    assert_eq!(
        h.interface(1, true),
        [Output::SendSolicitation { index: 1 }]
    );
}

#[test]
fn an_advertisement_stops_solicitation() {
    let mut h = Harness::new();
    h.interface(1, true);
    h.advance(secs(5));
    assert_eq!(solicitation_times(&h).len(), 2);
    h.ra(1, router(1), &advert(1800, vec![]));
    h.advance(secs(1000));
    assert_eq!(solicitation_times(&h).len(), 2);
}

#[test]
fn an_invalid_advertisement_does_not_stop_solicitation() {
    let mut h = Harness::new();
    h.interface(1, true);
    let mut bad_code = advert(1800, vec![]).emit();
    bad_code[1] = 1;
    h.input(Input::RouterAdvertisement {
        index: 1,
        source: router(1),
        packet: bad_code,
    });
    h.advance(secs(30));
    assert!(solicitation_times(&h).len() >= 3);
}

#[test]
fn every_link_up_solicits_again_but_never_twice_within_4_s() {
    let mut h = Harness::new();
    h.interface(1, true);
    h.ra(1, router(1), &advert(1800, vec![]));
    h.advance(secs(100));
    h.interface(1, false);
    h.advance(secs(10));
    assert_eq!(solicitations(&h.interface(1, true)), 1);
    // A flap within 4 s waits for the floor.
    h.advance(secs(1));
    h.interface(1, false);
    assert_eq!(solicitations(&h.interface(1, true)), 0);
    h.advance(secs(3));
    assert_eq!(*solicitation_times(&h).last().unwrap(), 114.0);
}

#[test]
fn a_requested_solicitation_is_not_rate_limited() {
    let mut h = Harness::new();
    h.interface(1, true);
    let request = Input::SolicitationRequested { index: 1 };
    assert_eq!(
        h.input(request.clone()),
        [Output::SendSolicitation { index: 1 }]
    );
    assert_eq!(h.input(request), [Output::SendSolicitation { index: 1 }]);
    assert!(
        h.input(Input::SolicitationRequested { index: 9 })
            .is_empty()
    );
}

#[test]
fn it_solicits_again_shortly_before_a_lifetime_ends() {
    let mut h = Harness::new();
    h.interface(1, true);
    h.ra(1, router(1), &advert(600, vec![pio(prefix(1), 3600, 1800)]));
    let before = solicitation_times(&h).len();
    h.advance(secs(587));
    assert_eq!(solicitation_times(&h).len(), before);
    h.advance(secs(2));
    // 12 s before the 600 s router lifetime ends.
    assert_eq!(solicitation_times(&h)[before], 588.0);
    // The router answers: probing stops, nothing lapses.
    h.ra(1, router(1), &advert(600, vec![pio(prefix(1), 3600, 1800)]));
    h.advance(secs(100));
    assert_eq!(solicitation_times(&h).len(), before + 1);
    assert!(h.kernel.lapsed(h.now).is_empty());
}

#[test]
fn link_down_stops_solicitation_and_keeps_state() {
    let mut h = Harness::new();
    h.interface(1, true);
    h.interface(1, false);
    h.advance(secs(600));
    assert_eq!(solicitation_times(&h).len(), 1);
}

#[test]
fn a_link_up_proposes_the_routes_the_kernel_dropped_with_the_link() {
    let mut h = Harness::new();
    h.interface(1, true);
    h.ra(
        1,
        router(1),
        &advert(1800, vec![pio(prefix(1), 3600, 1800)]),
    );
    h.advance(secs(100));
    h.interface(1, false);
    h.advance(secs(10));
    let outputs = h.interface(1, true);
    let default_route = outputs.iter().find_map(|output| match output {
        Output::ConfigureDefaultRoute(route) => Some(route.clone()),
        _ => None,
    });
    let default_route = default_route.expect("the default route again");
    assert_eq!(
        (default_route.router, default_route.lifetime),
        (router(1), 1690)
    );
    let on_link = outputs.iter().find_map(|output| match output {
        Output::ConfigureRoute(route) => Some(route.clone()),
        _ => None,
    });
    let on_link = on_link.expect("the on-link route again");
    assert_eq!(
        (on_link.prefix, on_link.prefix_len, on_link.lifetime),
        (prefix(1), 64, 3490)
    );
}

/// Interface 1, running, with or without a usable link-local address.
fn running_with(link_local: Option<Ipv6Addr>) -> Input {
    Input::InterfaceUpdate(InterfaceState {
        index: 1,
        name: "eth1".into(),
        running: true,
        hw_address: MAC.to_vec(),
        link_local,
    })
}

const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x99);

#[test]
fn an_unanswered_solicitation_from_unspecified_is_repeated_from_the_link_local_once_usable() {
    let mut h = Harness::new();
    assert_eq!(
        h.input(running_with(None)),
        [Output::SendSolicitation { index: 1 }]
    );
    h.advance(secs(1));
    assert_eq!(
        h.input(running_with(Some(LINK_LOCAL))),
        [Output::SendSolicitation { index: 1 }]
    );
    // Once only, and the retransmission keeps the 4 s floor after it.
    assert!(h.input(running_with(Some(LINK_LOCAL))).is_empty());
    h.advance(secs(10));
    let times = solicitation_times(&h);
    assert_eq!(times[..2], [0.0, 1.0]);
    assert!(times[2] >= 5.0, "{times:?}");
}

#[test]
fn an_answered_solicitation_from_unspecified_is_not_repeated() {
    let mut h = Harness::new();
    h.input(running_with(None));
    h.ra(1, router(1), &advert(1800, vec![]));
    assert!(h.input(running_with(Some(LINK_LOCAL))).is_empty());
}

#[test]
fn a_solicitation_from_the_link_local_is_not_repeated_when_the_address_changes() {
    let mut h = Harness::new();
    h.input(running_with(Some(LINK_LOCAL)));
    h.input(running_with(None));
    let other = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x98);
    assert!(h.input(running_with(Some(other))).is_empty());
}
