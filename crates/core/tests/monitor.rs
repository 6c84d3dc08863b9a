//! The monitor's events: what the engine records for `slaacctl monitor`
//! while monitoring is on, labelled with the interface, in the order of the
//! outputs they describe.

mod common;

use common::*;
use slaacd_core::{
    Config, Happening, Input, Limits, MonitorEvent, Output, ProposalChange, RouterPreference,
    is_limit,
};
use slaacd_wire::{NdOption, RouteInformation};

fn monitored() -> Harness {
    let mut h = Harness::new();
    h.engine.set_monitoring(true);
    h
}

fn events(h: &mut Harness) -> Vec<MonitorEvent> {
    std::iter::from_fn(|| h.engine.poll_event()).collect()
}

fn happenings(h: &mut Harness) -> Vec<Happening> {
    events(h).into_iter().map(|event| event.happening).collect()
}

/// The proposals among the events, with their change.
fn proposals(happenings: &[Happening]) -> Vec<(ProposalChange, Output)> {
    happenings
        .iter()
        .filter_map(|happening| match happening {
            Happening::Proposal { change, output } => Some((*change, output.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_is_recorded_unless_monitoring() {
    let mut h = Harness::new();
    h.interface(1, true);
    h.ra(1, router(1), &advert(1800, vec![pio(prefix(1), 600, 300)]));
    assert_eq!(h.engine.poll_event(), None);
}

#[test]
fn an_advertisement_and_the_proposals_it_creates() {
    let mut h = monitored();
    h.interface(1, true);
    assert_eq!(
        events(&mut h),
        [MonitorEvent {
            index: 1,
            name: "eth1".into(),
            happening: Happening::Solicitation,
        }]
    );
    let outputs = h.ra(1, router(1), &advert(1800, vec![pio(prefix(1), 600, 300)]));
    let events = events(&mut h);
    assert!(
        events
            .iter()
            .all(|event| event.index == 1 && event.name == "eth1")
    );
    let happenings: Vec<Happening> = events.into_iter().map(|event| event.happening).collect();
    assert_eq!(
        happenings[0],
        Happening::AdvertisementReceived {
            source: router(1),
            router_lifetime: 1800,
            preference: RouterPreference::Medium,
        }
    );
    // Every output is told, in order, and all of them are new.
    let proposals = proposals(&happenings);
    assert_eq!(
        proposals
            .iter()
            .map(|(_, output)| output)
            .collect::<Vec<_>>(),
        outputs.iter().collect::<Vec<_>>()
    );
    assert!(
        proposals
            .iter()
            .all(|(change, _)| *change == ProposalChange::Created)
    );
    assert!(
        outputs
            .iter()
            .any(|output| matches!(output, Output::ConfigureAddress(_)))
    );
    assert!(
        outputs
            .iter()
            .any(|output| matches!(output, Output::ConfigureDefaultRoute(_)))
    );
}

#[test]
fn changes_and_withdrawals() {
    let mut h = monitored();
    h.interface(1, true);
    h.ra(1, router(1), &advert(1800, vec![]));
    events(&mut h);

    let mut high = advert(1800, vec![]);
    high.preference = RouterPreference::High;
    h.ra(1, router(1), &high);
    let changed = proposals(&happenings(&mut h));
    assert!(
        matches!(
            changed.as_slice(),
            [(ProposalChange::Updated, Output::ConfigureDefaultRoute(route))]
                if route.preference == RouterPreference::High
        ),
        "{changed:?}"
    );

    h.ra(1, router(1), &advert(0, vec![]));
    assert_eq!(
        proposals(&happenings(&mut h)),
        [(
            ProposalChange::Withdrawn,
            Output::WithdrawDefaultRoute {
                index: 1,
                router: router(1),
            }
        )]
    );
}

#[test]
fn expiry_on_a_timer_is_labelled_with_its_interface() {
    let mut h = monitored();
    h.interface(1, true);
    h.interface(2, true);
    h.ra(2, router(1), &advert(100, vec![]));
    events(&mut h);
    h.advance(secs(101));
    let expired: Vec<MonitorEvent> = events(&mut h)
        .into_iter()
        .filter(|event| matches!(event.happening, Happening::Proposal { .. }))
        .collect();
    assert_eq!(
        expired,
        [MonitorEvent {
            index: 2,
            name: "eth2".into(),
            happening: Happening::Proposal {
                change: ProposalChange::Withdrawn,
                output: Output::WithdrawDefaultRoute {
                    index: 2,
                    router: router(1),
                },
            },
        }]
    );
}

#[test]
fn a_removed_interface_keeps_its_name_in_its_withdrawals() {
    let mut h = monitored();
    h.interface(1, true);
    h.ra(1, router(1), &advert(1800, vec![pio(prefix(1), 600, 300)]));
    events(&mut h);
    h.input(Input::InterfaceRemoved { index: 1 });
    let events = events(&mut h);
    assert!(!events.is_empty());
    for event in events {
        assert_eq!((event.index, event.name.as_str()), (1, "eth1"));
        assert!(
            matches!(
                event.happening,
                Happening::Proposal {
                    change: ProposalChange::Withdrawn,
                    ..
                }
            ),
            "{event:?}"
        );
    }
}

#[test]
fn routes_flushed_by_a_link_flap_are_created_again() {
    let mut h = monitored();
    h.interface(1, true);
    h.ra(1, router(1), &advert(1800, vec![]));
    h.interface(1, false);
    events(&mut h);
    h.interface(1, true);
    let again = proposals(&happenings(&mut h));
    assert!(
        matches!(
            again.as_slice(),
            [(ProposalChange::Created, Output::ConfigureDefaultRoute(_))]
        ),
        "{again:?}"
    );
}

#[test]
fn dropped_advertisements_say_why_and_from_whom() {
    let mut h = monitored();
    h.interface(1, true);
    events(&mut h);
    let stranger = "2001:db8::1".parse().unwrap();
    h.ra(1, stranger, &advert(1800, vec![]));
    h.input(Input::RouterAdvertisement {
        index: 1,
        source: router(1),
        packet: vec![134, 0],
    });
    assert_eq!(
        happenings(&mut h),
        [
            Happening::AdvertisementDropped {
                source: stranger,
                reason: "source-not-link-local",
            },
            Happening::AdvertisementDropped {
                source: router(1),
                reason: "too-short",
            },
        ]
    );
}

#[test]
fn caps_reached_are_told_as_limits() {
    let mut config = Config::new(KEY.to_vec(), 7);
    config.limits = Limits {
        routers: 1,
        dns_servers: 1,
        ..Limits::default()
    };
    let mut h = Harness::with_config(config);
    h.engine.set_monitoring(true);
    h.interface(1, true);
    h.ra(1, router(1), &advert(1800, vec![]));
    events(&mut h);

    h.ra(1, router(2), &advert(1800, vec![]));
    let rdnss = NdOption::Rdnss {
        lifetime: 600,
        servers: vec![
            "2001:db8::53".parse().unwrap(),
            "2001:db8::54".parse().unwrap(),
        ],
    };
    h.ra(1, router(1), &advert(1800, vec![rdnss]));
    let drops: Vec<&'static str> = happenings(&mut h)
        .into_iter()
        .filter_map(|happening| match happening {
            Happening::AdvertisementDropped { source, reason } => {
                assert_eq!(source, router(2));
                Some(reason)
            }
            Happening::EntryRejected { reason } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(drops, ["routers-limit", "dns-servers-limit"]);
    assert!(drops.iter().all(|reason| is_limit(reason)));
    assert!(!is_limit("source-not-link-local"));
}

#[test]
fn turning_monitoring_off_forgets_and_stops() {
    let mut h = monitored();
    h.interface(1, true);
    h.engine.set_monitoring(false);
    assert_eq!(h.engine.poll_event(), None);
    h.ra(1, router(1), &advert(1800, vec![]));
    assert_eq!(h.engine.poll_event(), None);
}

/// The engine service pairs each output with its proposal event by order:
/// over a day of every kind of change, each output is told exactly once, in
/// order (a solicitation as a solicitation).
#[test]
fn every_output_is_told_once_and_in_order() {
    let mut h = Harness::with_temporary_addresses();
    h.engine.set_monitoring(true);
    let mut outputs = Vec::new();
    let mut happenings = Vec::new();
    let mut step = |h: &mut Harness, produced: Vec<Output>| {
        outputs.extend(produced);
        happenings.extend(std::iter::from_fn(|| h.engine.poll_event()).map(|e| e.happening));
    };
    let full = |lifetime: u32| {
        advert(
            1800,
            vec![
                pio(prefix(1), lifetime, lifetime / 2),
                NdOption::RouteInformation(RouteInformation {
                    prefix: "2001:db8:100::".parse().unwrap(),
                    prefix_len: 48,
                    preference: RouterPreference::Low,
                    lifetime,
                }),
                NdOption::Rdnss {
                    lifetime,
                    servers: vec!["2001:db8:1::53".parse().unwrap()],
                },
                NdOption::Mtu(1400),
            ],
        )
    };
    let produced = h.interface(1, true);
    step(&mut h, produced);
    let produced = h.ra(1, router(1), &full(7200));
    let stable = configured_addresses(&produced)[0].address;
    step(&mut h, produced);
    let produced = h.input(Input::DadFailed {
        index: 1,
        address: stable,
    });
    step(&mut h, produced);
    let produced = h.interface(1, false);
    step(&mut h, produced);
    let produced = h.interface(1, true);
    step(&mut h, produced);
    for hour in 1..=30 {
        let produced = h.advance(secs(3600));
        step(&mut h, produced);
        if hour % 3 == 0 {
            let produced = h.ra(1, router(1), &full(7200));
            step(&mut h, produced);
        }
    }
    let produced = h.ra(1, router(1), &full(0));
    step(&mut h, produced);
    let produced = h.input(Input::InterfaceRemoved { index: 1 });
    step(&mut h, produced);

    let told: Vec<Output> = happenings
        .iter()
        .filter_map(|happening| match happening {
            Happening::Proposal { output, .. } => Some(output.clone()),
            Happening::Solicitation => Some(Output::SendSolicitation { index: 1 }),
            _ => None,
        })
        .collect();
    assert!(outputs.len() > 20, "too quiet a day: {outputs:?}");
    assert_eq!(told, outputs);
    for change in [
        ProposalChange::Created,
        ProposalChange::Updated,
        ProposalChange::Withdrawn,
    ] {
        assert!(
            proposals(&happenings)
                .iter()
                .any(|(told, _)| *told == change),
            "no {change:?} proposal"
        );
    }
}
