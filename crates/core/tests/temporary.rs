//! RFC 8981 temporary addresses on the virtual clock: creation limits,
//! desynchronised lifetimes, timer-driven regeneration for days, DAD retries
//! and the address cap.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv6Addr;

use common::*;
use slaacd_core::{AddressProposal, Input, Limits, Output};

fn setup() -> Harness {
    let mut h = Harness::with_temporary_addresses();
    h.interface(1, true);
    h
}

fn temporaries(outputs: &[Output]) -> Vec<AddressProposal> {
    configured_addresses(outputs)
        .into_iter()
        .filter(|p| p.temporary)
        .collect()
}

/// Temporary addresses the kernel holds as preferred at `h.now`.
fn preferred_temporaries(h: &Harness, known: &BTreeSet<Ipv6Addr>) -> usize {
    h.kernel
        .addresses
        .iter()
        .filter(|(address, (_, preferred))| {
            known.contains(address) && preferred.is_none_or(|at| at > h.now)
        })
        .count()
}

#[test]
fn a_temporary_address_comes_with_the_stable_one_within_rfc_8981_lifetimes() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(0, vec![pio(prefix(1), 2_592_000, 604_800)]),
    );
    let addresses = configured_addresses(&outputs);
    assert_eq!(addresses.len(), 2);
    assert!(!addresses[0].temporary);
    let temporary = &addresses[1];
    assert!(temporary.temporary);
    assert_ne!(temporary.address, addresses[0].address);
    assert_eq!(temporary.address.segments()[..4], prefix(1).segments()[..4]);
    assert_eq!(temporary.valid_lifetime, 172_800);
    // TEMP_PREFERRED_LIFETIME - DESYNC_FACTOR, DESYNC_FACTOR <= 0.4 day.
    assert!((51_840..=86_400).contains(&temporary.preferred_lifetime));
    let report = h.report(1);
    assert!(report.temporary);
    assert_eq!(
        report
            .address_proposals
            .iter()
            .filter(|a| a.temporary)
            .count(),
        1
    );
}

#[test]
fn temporary_lifetimes_never_exceed_the_prefix_lifetimes() {
    let mut h = setup();
    let outputs = h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 3600, 1800)]));
    let temporary = &temporaries(&outputs)[0];
    assert_eq!(
        (temporary.valid_lifetime, temporary.preferred_lifetime),
        (3600, 1800)
    );
}

#[test]
fn no_temporary_address_when_the_preferred_lifetime_is_within_regen_advance() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(0, vec![pio(prefix(1), 3600, 5), pio(prefix(2), 3600, 0)]),
    );
    assert_eq!(configured_addresses(&outputs).len(), 2);
    assert!(temporaries(&outputs).is_empty());
    let outputs = h.ra(1, router(1), &advert(0, vec![pio(prefix(1), 3600, 6)]));
    assert_eq!(temporaries(&outputs).len(), 1);
}

#[test]
fn temporary_addresses_are_regenerated_by_timer_for_days_without_advertisements() {
    let mut h = setup();
    h.ra(
        1,
        router(1),
        &advert(0, vec![pio(prefix(1), u32::MAX, u32::MAX)]),
    );
    let mut known: BTreeSet<Ipv6Addr> = BTreeSet::new();
    for hour in 0..(6 * 24) {
        h.advance(secs(3600));
        for (_, output) in &h.log {
            if let Output::ConfigureAddress(p) = output
                && p.temporary
            {
                known.insert(p.address);
            }
        }
        assert_eq!(preferred_temporaries(&h, &known), 1, "hour {hour}");
        assert!(
            h.kernel
                .lapsed(h.now)
                .iter()
                .all(|l| l.ends_with("preferred"))
        );
        // Older ones stay valid but deprecated, two days at most: with the
        // shortest preferred lifetime (0.6 day) four temporaries overlap.
        assert!(
            h.kernel.addresses.len() <= 1 + 4,
            "hour {hour}: {:?}",
            h.kernel.addresses
        );
    }
    // One per (1 day - desync): between 6 and 11 in six days.
    assert!((6..=11).contains(&known.len()), "{}", known.len());
}

#[test]
fn a_week_of_advertisements_every_200_s_keeps_one_preferred_temporary_without_churn() {
    let mut h = setup();
    let ra = advert(1800, vec![pio(prefix(1), 86_400, 14_400)]);
    let mut known = BTreeSet::new();
    for t in (0..7 * 86_400).step_by(200) {
        h.advance_to(h.at(t));
        let outputs = h.ra(1, router(1), &ra);
        known.extend(temporaries(&outputs).iter().map(|p| p.address));
        known.extend(h.log.iter().filter_map(|(_, o)| match o {
            Output::ConfigureAddress(p) if p.temporary => Some(p.address),
            _ => None,
        }));
        assert_eq!(preferred_temporaries(&h, &known), 1, "at {t}");
        assert!(
            h.kernel
                .lapsed(h.now)
                .iter()
                .all(|l| l.ends_with("preferred")),
            "at {t}"
        );
        // Between advertisements too: never a gap.
        h.advance(secs(100));
        known.extend(h.log.iter().filter_map(|(_, o)| match o {
            Output::ConfigureAddress(p) if p.temporary => Some(p.address),
            _ => None,
        }));
        assert!(preferred_temporaries(&h, &known) >= 1, "at {t}+100");
    }
    // One new temporary address about each day (the desync factor makes
    // some days' lifetimes shorter).
    assert!((7..=13).contains(&known.len()), "{}", known.len());
    // Each address is rewritten about every half preferred lifetime (7200 s),
    // not on each of the 3024 advertisements.
    assert!(
        h.kernel.address_writes <= 450,
        "{} address writes",
        h.kernel.address_writes
    );
}

#[test]
fn dad_failure_of_a_temporary_address_replaces_it_at_most_three_times() {
    let mut h = setup();
    let outputs = h.ra(
        1,
        router(1),
        &advert(0, vec![pio(prefix(1), 86_400, 14_400)]),
    );
    let mut address = temporaries(&outputs)[0].address;
    for _ in 0..3 {
        let outputs = h.input(Input::DadFailed { index: 1, address });
        assert_eq!(
            outputs[0],
            Output::WithdrawAddress {
                index: 1,
                address,
                prefix_len: 64
            }
        );
        let next = temporaries(&outputs)[0].address;
        assert_ne!(next, address);
        address = next;
    }
    let outputs = h.input(Input::DadFailed { index: 1, address });
    assert!(temporaries(&outputs).is_empty());
    assert_eq!(
        h.report(1).address_proposals.len(),
        1,
        "only the stable address is left"
    );
}

#[test]
fn temporary_addresses_count_against_the_address_cap() {
    let mut h = setup();
    let prefixes = Limits::default().addresses as u16 / 2;
    let options = (1..=prefixes + 1)
        .map(|n| pio(prefix(n), 86_400, 14_400))
        .collect();
    let outputs = h.ra(1, router(1), &advert(0, options));
    assert_eq!(
        configured_addresses(&outputs).len(),
        Limits::default().addresses
    );
    let report = h.report(1);
    assert_eq!(report.address_proposals.len(), Limits::default().addresses);
    assert_eq!(report.dropped, [("addresses-limit".to_owned(), 1)]);
}
