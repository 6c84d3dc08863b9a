//! Replays the committed fuzz corpus (fuzz/corpus/*/) through both fuzz
//! targets, so plain `cargo test` runs every seed and every input the fuzzer
//! kept, and checks that the seed corpus holds every seed built here: Router
//! Advertisements from the RFC examples, each malformed case of RFC 4861
//! 6.1.2 and of the option length rules, and engine scripts around them.
//!
//! `SLAACD_WRITE_SEEDS=1 cargo test -p slaacd-core --test fuzz_corpus`
//! (re)writes the seeds after a change here.

#[path = "../../../fuzz/src/lib.rs"]
mod targets;

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use slaacd_wire::{
    NdOption, Pref64, PrefixInformation, RouteInformation, RouterAdvert, RouterPreference,
};
use targets::{Setup, Step};

const PARSE_DIR: &str = "parse_router_advert";
const ENGINE_DIR: &str = "engine_sequence";

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn ip(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

fn pio(
    prefix: &str,
    len: u8,
    on_link: bool,
    autonomous: bool,
    valid: u32,
    preferred: u32,
) -> NdOption {
    NdOption::PrefixInformation(PrefixInformation {
        prefix: ip(prefix),
        prefix_len: len,
        on_link,
        autonomous,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
    })
}

fn rio(prefix: &str, len: u8, preference: RouterPreference, lifetime: u32) -> NdOption {
    NdOption::RouteInformation(RouteInformation {
        prefix: ip(prefix),
        prefix_len: len,
        preference,
        lifetime,
    })
}

fn ra(router_lifetime: u16, options: Vec<NdOption>) -> RouterAdvert {
    RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: false,
        preference: RouterPreference::Medium,
        router_lifetime,
        reachable_time: 0,
        retrans_timer: 0,
        options,
    }
}

const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

/// Well-formed advertisements, each after an RFC's example or default values.
fn valid_adverts() -> Vec<(&'static str, Vec<u8>)> {
    let slla = NdOption::SourceLinkLayerAddress(MAC.to_vec());
    let mut parameters = ra(
        1800,
        vec![pio("2001:db8:1::", 64, true, true, 86_400, 14_400)],
    );
    parameters.cur_hop_limit = 255;
    parameters.reachable_time = 30_000;
    parameters.retrans_timer = 1_000;
    parameters.managed = true;
    parameters.other = true;
    let mut high = ra(
        1800,
        vec![
            rio("::", 0, RouterPreference::High, 1800),
            rio("2001:db8:100::", 48, RouterPreference::High, 1800),
            rio("2001:db8:200::1", 128, RouterPreference::Low, 600),
            rio("2001:db8:300::", 64, RouterPreference::Medium, 0),
        ],
    );
    high.preference = RouterPreference::High;
    vec![
        // RFC 4861 10 / radvd defaults: AdvValidLifetime 30 days,
        // AdvPreferredLifetime 7 days.
        (
            "rfc4862-prefix",
            ra(
                1800,
                vec![
                    slla,
                    pio("2001:db8:1::", 64, true, true, 2_592_000, 604_800),
                ],
            )
            .emit(),
        ),
        (
            "rfc4861-infinite-lifetimes",
            ra(
                9000,
                vec![pio("2001:db8:1::", 64, true, true, u32::MAX, u32::MAX)],
            )
            .emit(),
        ),
        (
            "rfc4861-on-link-only",
            ra(0, vec![pio("2001:db8:2::", 48, true, false, 3600, 1800)]).emit(),
        ),
        (
            "rfc4862-autonomous-only",
            ra(1800, vec![pio("2001:db8:3::", 64, false, true, 3600, 1800)]).emit(),
        ),
        (
            "rfc4862-ignored-prefixes",
            ra(
                1800,
                vec![
                    pio("fe80::", 64, true, true, 3600, 1800),
                    pio("2001:db8:4::", 64, true, true, 600, 1200),
                    pio("2001:db8:5::", 56, true, true, 3600, 1800),
                    pio("2001:db8:6::", 64, true, true, 0, 0),
                ],
            )
            .emit(),
        ),
        ("rfc4191-route-information", high.emit()),
        (
            "rfc8106-rdnss-dnssl",
            ra(
                1800,
                vec![
                    pio("2001:db8:1::", 64, true, true, 86_400, 14_400),
                    NdOption::Rdnss {
                        lifetime: 1800,
                        servers: vec![ip("2001:db8::53"), ip("fe80::53")],
                    },
                    NdOption::Dnssl {
                        lifetime: 1800,
                        domains: vec!["example.com".to_owned(), "lab.example.com".to_owned()],
                    },
                ],
            )
            .emit(),
        ),
        (
            "rfc4861-mtu",
            ra(1800, vec![NdOption::Mtu(1480), NdOption::Mtu(1000)]).emit(),
        ),
        (
            "rfc8781-pref64",
            ra(
                1800,
                vec![NdOption::Pref64(Pref64 {
                    prefix: ip("64:ff9b::"),
                    prefix_len: 96,
                    lifetime: 600,
                })],
            )
            .emit(),
        ),
        (
            "rfc8910-captive-portal",
            ra(
                1800,
                vec![NdOption::CaptivePortal(
                    "https://example.org/portal".to_owned(),
                )],
            )
            .emit(),
        ),
        ("rfc4861-parameters-and-flags", parameters.emit()),
        (
            "typical-two-prefixes-rdnss-dnssl",
            ra(
                1800,
                vec![
                    NdOption::SourceLinkLayerAddress(MAC.to_vec()),
                    NdOption::Mtu(1500),
                    pio("2001:db8:1::", 64, true, true, 86_400, 14_400),
                    pio("2001:db8:2::", 64, true, true, 86_400, 14_400),
                    NdOption::Rdnss {
                        lifetime: 1800,
                        servers: vec![ip("2001:db8::53")],
                    },
                    NdOption::Dnssl {
                        lifetime: 1800,
                        domains: vec!["example.com".to_owned()],
                    },
                ],
            )
            .emit(),
        ),
        (
            "unknown-option-kept",
            ra(
                1800,
                vec![NdOption::Unknown {
                    kind: 200,
                    data: vec![1, 2, 3, 4, 5, 6],
                }],
            )
            .emit(),
        ),
    ]
}

/// Offset of the first option.
const OPTIONS: usize = 16;

/// Each RFC 4861 6.1.2 and option-length violation: the parser must reject
/// every one (checked below), the fuzzer starts from them.
fn malformed_adverts() -> Vec<(&'static str, Vec<u8>)> {
    let base = ra(
        1800,
        vec![pio("2001:db8:1::", 64, true, true, 86_400, 14_400)],
    )
    .emit();
    let patched = |at: usize, value: u8| {
        let mut bytes = base.clone();
        bytes[at] = value;
        bytes
    };
    let single = |option: NdOption, length: u8| {
        let mut bytes = ra(1800, vec![option]).emit();
        bytes[OPTIONS + 1] = length;
        bytes
    };
    let mut zero_after_valid = ra(1800, vec![NdOption::Mtu(1500)]).emit();
    zero_after_valid.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
    let too_many = ra(
        1800,
        (0..129)
            .map(|_| NdOption::Unknown {
                kind: 200,
                data: vec![0; 6],
            })
            .collect(),
    )
    .emit();
    let mut rio_too_long_prefix = ra(
        1800,
        vec![rio("2001:db8::", 48, RouterPreference::High, 600)],
    )
    .emit();
    rio_too_long_prefix[OPTIONS + 2] = 129;
    let mut truncated_option = base.clone();
    truncated_option.truncate(base.len() - 8);
    let mut dnssl_pointer = ra(
        1800,
        vec![NdOption::Dnssl {
            lifetime: 600,
            domains: vec!["example".to_owned()],
        }],
    )
    .emit();
    dnssl_pointer[OPTIONS + 8] = 0xc0;
    vec![
        ("malformed-too-short", base[..15].to_vec()),
        ("malformed-not-router-advert", patched(0, 133)),
        ("malformed-code-not-zero", patched(1, 1)),
        ("malformed-option-length-zero", patched(OPTIONS + 1, 0)),
        ("malformed-option-length-zero-after-valid", zero_after_valid),
        ("malformed-option-truncated", truncated_option),
        ("malformed-option-past-end", patched(OPTIONS + 1, 5)),
        ("malformed-too-many-options", too_many),
        (
            "malformed-prefix-info-length",
            single(pio("2001:db8::", 64, true, true, 1, 1), 3),
        ),
        ("malformed-prefix-length-129", patched(OPTIONS + 2, 129)),
        ("malformed-prefix-length-255", patched(OPTIONS + 2, 255)),
        ("malformed-mtu-length", {
            let mut bytes = single(NdOption::Mtu(1500), 2);
            bytes.extend_from_slice(&[0; 8]);
            bytes
        }),
        (
            "malformed-rdnss-even-length",
            single(
                NdOption::Rdnss {
                    lifetime: 600,
                    servers: vec![ip("2001:db8::53"), ip("2001:db8::54")],
                },
                4,
            ),
        ),
        (
            "malformed-rdnss-length-1",
            single(
                NdOption::Rdnss {
                    lifetime: 600,
                    servers: vec![ip("2001:db8::53")],
                },
                1,
            ),
        ),
        (
            "malformed-route-info-length",
            single(rio("2001:db8::", 64, RouterPreference::High, 600), 1),
        ),
        (
            "malformed-route-info-prefix-length-129",
            rio_too_long_prefix,
        ),
        (
            "malformed-dnssl-length",
            single(
                NdOption::Dnssl {
                    lifetime: 600,
                    domains: vec!["example".to_owned()],
                },
                1,
            ),
        ),
        ("malformed-dnssl-compression-pointer", dnssl_pointer),
        ("malformed-pref64-length", {
            let mut bytes = single(
                NdOption::Pref64(Pref64 {
                    prefix: ip("64:ff9b::"),
                    prefix_len: 96,
                    lifetime: 600,
                }),
                3,
            );
            bytes.extend_from_slice(&[0; 8]);
            bytes
        }),
    ]
}

fn up(index: u32) -> Step {
    Step::InterfaceUpdate {
        index,
        running: true,
        hw_address: MAC.to_vec(),
    }
}

fn advert_step(index: u32, packet: Vec<u8>) -> Step {
    Step::RouterAdvertisement {
        index,
        link_local: true,
        source_byte: 1,
        packet,
    }
}

fn engine_seeds() -> Vec<(String, Setup, Vec<Step>)> {
    let temporary = Setup {
        temporary_addresses: true,
        eui64_on_interface_2: false,
    };
    let mut seeds = Vec::new();
    for (name, packet) in valid_adverts().into_iter().chain(malformed_adverts()) {
        let steps = vec![
            up(1),
            advert_step(1, packet.clone()),
            Step::Wait { seconds: 3600 },
            advert_step(1, packet),
            Step::Wait {
                seconds: 3 * 86_400,
            },
        ];
        seeds.push((format!("script-{name}"), temporary, steps));
    }
    let typical = valid_adverts()
        .into_iter()
        .find(|(name, _)| *name == "typical-two-prefixes-rdnss-dnssl")
        .map(|(_, packet)| packet)
        .unwrap();
    let short = ra(1800, vec![pio("2001:db8:1::", 64, true, true, 60, 30)]).emit();
    let zero = ra(0, vec![pio("2001:db8:1::", 64, true, true, 0, 0)]).emit();
    let mut every_half_hour = vec![up(1)];
    for _ in 0..96 {
        every_half_hour.push(advert_step(1, typical.clone()));
        every_half_hour.push(Step::Wait { seconds: 1800 });
    }
    seeds.push((
        "script-two-days-of-advertisements".to_owned(),
        temporary,
        every_half_hour,
    ));
    seeds.push((
        "script-two-hour-rule-and-zero-lifetimes".to_owned(),
        temporary,
        vec![
            up(1),
            advert_step(1, typical.clone()),
            Step::Wait { seconds: 100 },
            advert_step(1, short),
            Step::Wait { seconds: 100 },
            advert_step(1, zero),
            Step::NextTimer,
            Step::Wait { seconds: 8000 },
        ],
    ));
    seeds.push((
        "script-dad-failures".to_owned(),
        temporary,
        vec![
            up(1),
            advert_step(1, typical.clone()),
            Step::DadFailed { index: 1, nth: 0 },
            Step::DadFailed { index: 1, nth: 0 },
            Step::DadFailed { index: 1, nth: 0 },
            Step::DadFailed { index: 1, nth: 0 },
            Step::DadFailed { index: 1, nth: 1 },
            Step::AddressDeleted { index: 1, nth: 2 },
            advert_step(1, typical.clone()),
        ],
    ));
    seeds.push((
        "script-link-down-up-and-removal".to_owned(),
        Setup {
            temporary_addresses: false,
            eui64_on_interface_2: true,
        },
        vec![
            up(1),
            up(2),
            advert_step(1, typical.clone()),
            advert_step(2, typical.clone()),
            Step::InterfaceUpdate {
                index: 1,
                running: false,
                hw_address: MAC.to_vec(),
            },
            advert_step(1, typical.clone()),
            Step::Wait { seconds: 600 },
            up(1),
            Step::SolicitationRequested { index: 1 },
            Step::NextTimer,
            Step::RouterAdvertisement {
                index: 2,
                link_local: false,
                source_byte: 9,
                packet: typical,
            },
            Step::InterfaceRemoved { index: 2 },
            Step::Wait { seconds: 7200 },
        ],
    ));
    seeds
}

fn files(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_replays_through_both_targets() {
    let mut replayed = 0;
    for target in [PARSE_DIR, ENGINE_DIR] {
        let files = files(target);
        assert!(!files.is_empty(), "the {target} corpus is empty");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            targets::parse_router_advert(&data);
            targets::engine_sequence(&data);
            replayed += 1;
        }
    }
    assert!(replayed >= valid_adverts().len() + malformed_adverts().len());
}

#[test]
fn malformed_seeds_are_rejected_and_valid_ones_accepted() {
    for (name, packet) in valid_adverts() {
        assert!(RouterAdvert::parse(&packet).is_ok(), "{name}");
    }
    for (name, packet) in malformed_adverts() {
        assert!(RouterAdvert::parse(&packet).is_err(), "{name}");
    }
}

#[test]
fn engine_scripts_decode_to_what_was_encoded() {
    for (name, setup, steps) in engine_seeds() {
        let bytes = targets::encode(setup, &steps);
        assert_eq!(targets::decode(&bytes), (setup, steps), "{name}");
    }
}

#[test]
fn the_committed_corpus_holds_every_seed() {
    let write = std::env::var_os("SLAACD_WRITE_SEEDS").is_some();
    let adverts = valid_adverts().into_iter().chain(malformed_adverts());
    let scripts = engine_seeds()
        .into_iter()
        .map(|(name, setup, steps)| (name, targets::encode(setup, &steps)));
    let seeds = adverts
        .map(|(name, bytes)| (PARSE_DIR, name.to_owned(), bytes))
        .chain(scripts.map(|(name, bytes)| (ENGINE_DIR, name, bytes)));
    for (target, name, bytes) in seeds {
        let path = corpus_dir(target).join(&name);
        if write {
            std::fs::create_dir_all(corpus_dir(target)).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run with SLAACD_WRITE_SEEDS=1 to write the seeds",
                path.display()
            )
        });
        assert!(
            committed == bytes,
            "{} differs from its seed",
            path.display()
        );
    }
}
