//! Property test: any sequence of inputs and clock steps never panics, timers
//! always make progress, and every per-interface table stays within its cap.

mod common;

use std::net::Ipv6Addr;

use common::*;
use proptest::prelude::*;
use slaacd_core::{Input, InterfaceState, Limits, RouterPreference};
use slaacd_wire::{NdOption, RouteInformation};

#[derive(Debug, Clone)]
enum Step {
    Input(Input),
    /// DAD fails for the address the engine configured last.
    DadFailsLast,
    Wait(u64),
}

fn option() -> impl Strategy<Value = NdOption> {
    let lifetime = prop_oneof![Just(0u32), Just(u32::MAX), 0u32..100_000];
    prop_oneof![
        (
            0u16..40,
            lifetime.clone(),
            lifetime.clone(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(n, valid, preferred, autonomous, on_link)| {
                let mut option = pio(prefix(n), valid, preferred);
                if let NdOption::PrefixInformation(info) = &mut option {
                    info.autonomous = autonomous;
                    info.on_link = on_link;
                }
                option
            }),
        (
            lifetime.clone(),
            proptest::collection::vec(any::<u128>(), 0..12)
        )
            .prop_map(|(lifetime, servers)| {
                NdOption::Rdnss {
                    lifetime,
                    servers: servers.into_iter().map(Ipv6Addr::from).collect(),
                }
            }),
        any::<u32>().prop_map(NdOption::Mtu),
        // The parser clears the bits beyond the prefix length.
        (any::<u128>(), 0u8..=128, lifetime.clone()).prop_map(|(bits, prefix_len, lifetime)| {
            NdOption::RouteInformation(RouteInformation {
                prefix: Ipv6Addr::from(bits),
                prefix_len,
                preference: RouterPreference::Low,
                lifetime,
            })
        }),
        (
            lifetime,
            proptest::collection::vec("[a-z]{1,5}(\\.[a-z]{1,5}){0,2}", 0..12)
        )
            .prop_map(|(lifetime, domains)| NdOption::Dnssl { lifetime, domains }),
    ]
}

fn packet() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (any::<u16>(), proptest::collection::vec(option(), 0..6))
            .prop_map(|(lifetime, options)| advert(lifetime, options).emit()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

fn source() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        9 => (0u16..24).prop_map(router),
        1 => Just(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let index = 1u32..3;
    prop_oneof![
        2 => (index.clone(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(index, running, hw_address)| Step::Input(Input::InterfaceUpdate(InterfaceState {
                index,
                name: format!("if{index}"),
                running,
                hw_address,
                link_local: None,
            }))),
        1 => index.clone().prop_map(|index| Step::Input(Input::InterfaceRemoved { index })),
        8 => (index.clone(), source(), packet()).prop_map(|(index, source, packet)| {
            Step::Input(Input::RouterAdvertisement { index, source, packet })
        }),
        1 => (index.clone(), 0u16..40).prop_map(|(index, n)| Step::Input(Input::AddressDeleted {
            index,
            address: prefix(n),
        })),
        1 => index.clone().prop_map(|index| Step::Input(Input::SolicitationRequested { index })),
        2 => Just(Step::DadFailsLast),
        3 => prop_oneof![0u64..10, 0u64..10_000, 0u64..1_000_000].prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_input_sequence_keeps_the_engine_within_its_caps(
        temporary in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let mut h = if temporary { Harness::with_temporary_addresses() } else { Harness::new() };
        let mut last_configured = None;
        for step in steps {
            let outputs = match step {
                Step::Input(input) => h.input(input),
                Step::DadFailsLast => match last_configured {
                    Some((index, address)) => h.input(Input::DadFailed { index, address }),
                    None => Vec::new(),
                },
                Step::Wait(seconds) => h.advance(secs(seconds)),
            };
            if let Some(p) = configured_addresses(&outputs).last() {
                last_configured = Some((p.index, p.address));
            }
            for report in h.engine.report(h.now, None) {
                prop_assert!(report.routers.len() <= Limits::default().routers);
                prop_assert!(report.address_proposals.len() <= Limits::default().addresses);
                prop_assert!(report.address_proposals.len() <= Limits::default().prefixes);
                prop_assert!(report.default_route_proposals.len() <= report.routers.len());
                // Route Information routes plus on-link prefix routes.
                prop_assert!(
                    report.route_proposals.len()
                        <= Limits::default().routes + Limits::default().prefixes
                );
                prop_assert!(report.dns_servers.len() <= Limits::default().dns_servers);
                prop_assert!(report.search_domains.len() <= Limits::default().search_domains);
            }
            // What the kernel holds never exceeds the caps of both interfaces.
            prop_assert!(h.kernel.addresses.len() <= 2 * Limits::default().addresses);
            prop_assert!(h.kernel.routes.len() <= 2 * Limits::default().routers);
            prop_assert!(h.kernel.specific_routes.len() <= 2 * Limits::default().routes);
            prop_assert!(h.kernel.on_link_routes.len() <= 2 * Limits::default().prefixes);
        }
    }
}
