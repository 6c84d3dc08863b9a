//! Advertisement validation beyond the bytes, drop counters, per-interface
//! caps and DAD retries.

mod common;

use common::*;
use slaacd_core::{IDGEN_RETRIES, Input, Limits, Output};

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

#[test]
fn advertisements_from_non_link_local_sources_are_dropped_and_counted() {
    let mut h = setup();
    let ra = advert(1800, vec![pio(prefix(1), 600, 300)]);
    assert!(h.ra(1, "2001:db8::1".parse().unwrap(), &ra).is_empty());
    assert!(h.ra(1, "fec0::1".parse().unwrap(), &ra).is_empty());
    assert_eq!(dropped(&h, "source-not-link-local"), 2);
    assert!(h.report(1).routers.is_empty());
}

#[test]
fn malformed_advertisements_are_dropped_and_counted_by_parse_reason() {
    let mut h = setup();
    let mut zero_length = advert(1800, vec![]).emit();
    zero_length.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
    for _ in 0..3 {
        h.input(Input::RouterAdvertisement {
            index: 1,
            source: router(1),
            packet: zero_length.clone(),
        });
    }
    h.input(Input::RouterAdvertisement {
        index: 1,
        source: router(1),
        packet: vec![134, 0],
    });
    assert_eq!(dropped(&h, "option-length-zero"), 3);
    assert_eq!(dropped(&h, "too-short"), 1);
    assert!(h.report(1).routers.is_empty());
}

#[test]
fn advertisements_for_unknown_interfaces_are_ignored() {
    let mut h = setup();
    assert!(
        h.ra(2, router(1), &advert(1800, vec![pio(prefix(1), 600, 300)]))
            .is_empty()
    );
    assert!(!h.engine.knows_interface(2));
    assert!(h.engine.knows_interface(1));
}

#[test]
fn a_router_beyond_the_cap_is_rejected_and_existing_ones_kept() {
    let mut h = setup();
    for n in 1..=Limits::default().routers as u16 {
        h.ra(1, router(n), &advert(1800, vec![]));
    }
    let extra = h.ra(
        1,
        router(100),
        &advert(1800, vec![pio(prefix(1), 600, 300)]),
    );
    assert!(extra.is_empty());
    assert_eq!(dropped(&h, "routers-limit"), 1);
    let report = h.report(1);
    assert_eq!(report.routers.len(), Limits::default().routers);
    assert!(report.routers.iter().all(|r| r.source != router(100)));
    // A known router is still heard.
    h.advance(secs(5));
    let outputs = h.ra(1, router(1), &advert(1800, vec![pio(prefix(1), 600, 300)]));
    assert_eq!(configured_addresses(&outputs).len(), 1);
    // Once a router goes away, there is room again.
    h.ra(1, router(2), &advert(0, vec![]));
    assert_eq!(h.report(1).routers.len(), Limits::default().routers - 1);
    h.ra(1, router(100), &advert(1800, vec![]));
    assert_eq!(h.report(1).routers.len(), Limits::default().routers);
}

#[test]
fn a_prefix_beyond_the_cap_is_rejected_and_existing_ones_kept() {
    let mut h = setup();
    let options = (1..=Limits::default().prefixes as u16 + 4)
        .map(|n| pio(prefix(n), 86_400, 14_400))
        .collect();
    let outputs = h.ra(1, router(1), &advert(1800, options));
    assert_eq!(
        configured_addresses(&outputs).len(),
        Limits::default().prefixes
    );
    assert_eq!(dropped(&h, "prefixes-limit"), 4);
    let report = h.report(1);
    assert_eq!(report.address_proposals.len(), Limits::default().prefixes);
    assert!(
        report
            .address_proposals
            .iter()
            .all(|a| a.prefix != prefix(17))
    );
    // Another router's new prefix is rejected too; nothing is evicted.
    h.ra(
        1,
        router(2),
        &advert(1800, vec![pio(prefix(999), 86_400, 14_400)]),
    );
    assert_eq!(dropped(&h, "prefixes-limit"), 5);
    assert_eq!(
        h.report(1).address_proposals.len(),
        Limits::default().prefixes
    );
}

#[test]
fn dad_failure_regenerates_with_the_next_counter_then_gives_up() {
    let mut h = setup();
    let ra = advert(0, vec![pio(prefix(1), 86_400, 14_400)]);
    let mut address = configured_addresses(&h.ra(1, router(1), &ra))[0].address;
    let mut seen = vec![address];
    for _ in 0..IDGEN_RETRIES {
        let outputs = h.input(Input::DadFailed { index: 1, address });
        assert_eq!(
            outputs[0],
            Output::WithdrawAddress {
                index: 1,
                address,
                prefix_len: 64
            }
        );
        let next = configured_addresses(&outputs)[0].clone();
        assert!(!seen.contains(&next.address), "a new address each time");
        assert_eq!(next.valid_lifetime, 86_400);
        address = next.address;
        seen.push(address);
    }
    let outputs = h.input(Input::DadFailed { index: 1, address });
    assert_eq!(
        outputs,
        [Output::WithdrawAddress {
            index: 1,
            address,
            prefix_len: 64
        }]
    );
    assert_eq!(h.report(1).address_proposals[0].state, "DUPLICATED");
    // Advertisements keep the entry (so it expires with the prefix) but
    // create nothing.
    h.advance(secs(60));
    assert!(configured_addresses(&h.ra(1, router(1), &ra)).is_empty());
    assert!(h.input(Input::DadFailed { index: 1, address }).is_empty());
    // An unknown address is ignored.
    assert!(
        h.input(Input::DadFailed {
            index: 1,
            address: prefix(7)
        })
        .is_empty()
    );
}
