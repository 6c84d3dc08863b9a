//! Router Advertisement parse/emit round trips and every rejection reason.

use std::net::Ipv6Addr;

use slaacd_wire::{
    NdOption, ParseError, Pref64, PrefixInformation, RouteInformation, RouterAdvert,
    RouterPreference,
};

fn pio(prefix: &str, prefix_len: u8) -> NdOption {
    NdOption::PrefixInformation(PrefixInformation {
        prefix: prefix.parse().unwrap(),
        prefix_len,
        on_link: true,
        autonomous: true,
        valid_lifetime: 2_592_000,
        preferred_lifetime: 604_800,
    })
}

fn advert(options: Vec<NdOption>) -> RouterAdvert {
    RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: true,
        preference: RouterPreference::High,
        router_lifetime: 1800,
        reachable_time: 30_000,
        retrans_timer: 1000,
        options,
    }
}

/// An RA with one of every option this crate understands, plus an unknown one.
fn every_option() -> RouterAdvert {
    advert(vec![
        NdOption::SourceLinkLayerAddress(vec![0x02, 0, 0, 0, 0, 1]),
        pio("2001:db8:1::", 64),
        pio("2001:db8:2::", 48),
        NdOption::Mtu(1480),
        NdOption::RouteInformation(RouteInformation {
            prefix: Ipv6Addr::UNSPECIFIED,
            prefix_len: 0,
            preference: RouterPreference::Low,
            lifetime: 600,
        }),
        NdOption::RouteInformation(RouteInformation {
            prefix: "2001:db8:100::".parse().unwrap(),
            prefix_len: 56,
            preference: RouterPreference::High,
            lifetime: u32::MAX,
        }),
        NdOption::RouteInformation(RouteInformation {
            prefix: "2001:db8:200::1:0".parse().unwrap(),
            prefix_len: 112,
            preference: RouterPreference::Medium,
            lifetime: 60,
        }),
        NdOption::Rdnss {
            lifetime: 900,
            servers: vec![
                "2001:db8::53".parse().unwrap(),
                "2001:db8::54".parse().unwrap(),
            ],
        },
        NdOption::Dnssl {
            lifetime: 900,
            domains: vec!["example.org".into(), "lab.example.net".into()],
        },
        NdOption::Pref64(Pref64 {
            prefix: "64:ff9b::".parse().unwrap(),
            prefix_len: 96,
            lifetime: 1800,
        }),
        NdOption::CaptivePortal("https://portal.example/".into()),
        NdOption::Unknown {
            kind: 200,
            data: vec![1, 2, 3, 4, 5, 6],
        },
    ])
}

#[test]
fn every_option_round_trips_through_emit_and_parse() {
    let ra = every_option();
    let bytes = ra.emit();
    let parsed = RouterAdvert::parse(&bytes).unwrap();
    assert_eq!(parsed, ra);
    assert_eq!(parsed.emit(), bytes);
}

/// Found by the parse_router_advert fuzz target: a DNSSL option of zeros
/// holds no names, and emitting that must still give a DNSSL option long
/// enough to parse.
#[test]
fn empty_dns_options_emit_at_their_minimum_length() {
    let mut bytes = advert(vec![]).emit();
    bytes.extend_from_slice(&[31, 5]);
    bytes.extend_from_slice(&[0; 38]);
    let parsed = RouterAdvert::parse(&bytes).unwrap();
    assert_eq!(
        parsed.options,
        [NdOption::Dnssl {
            lifetime: 0,
            domains: Vec::new()
        }]
    );
    let emitted = parsed.emit();
    assert_eq!(emitted[16 + 1], 2);
    assert_eq!(RouterAdvert::parse(&emitted).unwrap(), parsed);
    let rdnss = advert(vec![NdOption::Rdnss {
        lifetime: 60,
        servers: Vec::new(),
    }])
    .emit();
    assert_eq!(rdnss[16 + 1], 3);
    assert!(RouterAdvert::parse(&rdnss).is_ok());
}

#[test]
fn header_fields_sit_at_their_rfc_offsets() {
    let mut ra = advert(vec![]);
    ra.managed = true;
    ra.preference = RouterPreference::Low;
    let bytes = ra.emit();
    assert_eq!(
        bytes,
        [
            134,
            0,
            0,
            0,
            64,
            0x80 | 0x40 | 0x18,
            0x07,
            0x08,
            0,
            0,
            0x75,
            0x30,
            0,
            0,
            0x03,
            0xe8
        ]
    );
}

#[test]
fn every_preference_round_trips_and_reserved_reads_as_medium() {
    for preference in [
        RouterPreference::Low,
        RouterPreference::Medium,
        RouterPreference::High,
    ] {
        let mut ra = advert(vec![]);
        ra.preference = preference;
        let bytes = ra.emit();
        assert_eq!(RouterAdvert::parse(&bytes).unwrap().preference, preference);
    }
    let mut bytes = advert(vec![]).emit();
    bytes[5] = 0b10 << 3;
    assert_eq!(
        RouterAdvert::parse(&bytes).unwrap().preference,
        RouterPreference::Medium
    );
}

#[test]
fn prefix_bits_beyond_the_length_are_cleared() {
    let mut bytes = advert(vec![pio("2001:db8:1:2::", 48)]).emit();
    // Set a host bit in the prefix (the prefix field starts 16 bytes into the PIO).
    bytes[16 + 16 + 15] = 1;
    let parsed = RouterAdvert::parse(&bytes).unwrap();
    let NdOption::PrefixInformation(info) = &parsed.options[0] else {
        panic!("expected a PIO, got {:?}", parsed.options[0]);
    };
    assert_eq!(info.prefix, "2001:db8:1::".parse::<Ipv6Addr>().unwrap());
}

#[test]
fn a_route_information_with_the_reserved_preference_is_kept_as_unknown() {
    let mut bytes = advert(vec![NdOption::RouteInformation(RouteInformation {
        prefix: Ipv6Addr::UNSPECIFIED,
        prefix_len: 0,
        preference: RouterPreference::Medium,
        lifetime: 60,
    })])
    .emit();
    bytes[16 + 3] = 0b10 << 3;
    let parsed = RouterAdvert::parse(&bytes).unwrap();
    assert!(matches!(
        parsed.options[0],
        NdOption::Unknown { kind: 24, .. }
    ));
    assert_eq!(parsed.emit(), bytes);
}

#[test]
fn a_captive_portal_that_is_not_utf8_is_kept_as_unknown() {
    let bytes_with_bad_uri = {
        let mut bytes = advert(vec![NdOption::CaptivePortal("abcdef".into())]).emit();
        bytes[16 + 2] = 0xff;
        bytes
    };
    let parsed = RouterAdvert::parse(&bytes_with_bad_uri).unwrap();
    assert!(matches!(
        parsed.options[0],
        NdOption::Unknown { kind: 37, .. }
    ));
}

#[test]
fn a_pref64_with_an_unknown_length_code_is_kept_as_unknown() {
    let mut bytes = advert(vec![NdOption::Pref64(Pref64 {
        prefix: "64:ff9b::".parse().unwrap(),
        prefix_len: 96,
        lifetime: 600,
    })])
    .emit();
    bytes[16 + 3] |= 0b111;
    let parsed = RouterAdvert::parse(&bytes).unwrap();
    assert!(matches!(
        parsed.options[0],
        NdOption::Unknown { kind: 38, .. }
    ));
}

fn reason(bytes: &[u8]) -> &'static str {
    RouterAdvert::parse(bytes).unwrap_err().reason()
}

#[test]
fn short_messages_wrong_type_and_code_are_rejected() {
    let bytes = advert(vec![]).emit();
    assert_eq!(reason(&bytes[..15]), "too-short");
    assert_eq!(reason(&[]), "too-short");
    let mut wrong_type = bytes.clone();
    wrong_type[0] = 133;
    assert_eq!(reason(&wrong_type), "not-router-advert");
    let mut wrong_code = bytes;
    wrong_code[1] = 1;
    assert_eq!(reason(&wrong_code), "bad-code");
}

#[test]
fn option_length_zero_is_rejected() {
    let mut bytes = advert(vec![]).emit();
    bytes.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        RouterAdvert::parse(&bytes),
        Err(ParseError::OptionLengthZero { offset: 16 })
    );
}

#[test]
fn an_option_past_the_end_is_rejected() {
    let mut bytes = advert(vec![pio("2001:db8::", 64)]).emit();
    bytes.truncate(bytes.len() - 1);
    assert_eq!(reason(&bytes), "option-truncated");
    // A lone trailing byte cannot even hold an option header.
    let mut bytes = advert(vec![]).emit();
    bytes.push(1);
    assert_eq!(reason(&bytes), "option-truncated");
}

#[test]
fn more_than_128_options_are_rejected_and_128_accepted() {
    let unknown = NdOption::Unknown {
        kind: 250,
        data: vec![0; 6],
    };
    let at_limit = advert(vec![unknown.clone(); 128]).emit();
    assert_eq!(RouterAdvert::parse(&at_limit).unwrap().options.len(), 128);
    let over = advert(vec![unknown; 129]).emit();
    assert_eq!(reason(&over), "too-many-options");
}

/// Rewrites the length byte of the option at `offset` and resizes the message
/// so the new length still fits, isolating the per-option rule.
fn with_option_length(mut bytes: Vec<u8>, offset: usize, units: u8) -> Vec<u8> {
    let old = usize::from(bytes[offset + 1]) * 8;
    let new = usize::from(units) * 8;
    let tail = bytes.split_off(offset + old);
    bytes.resize(offset + new, 0);
    bytes[offset + 1] = units;
    bytes.extend_from_slice(&tail);
    bytes
}

#[test]
fn per_option_length_rules_reject_the_advert() {
    let cases: Vec<(NdOption, &[u8], &str)> = vec![
        (pio("2001:db8::", 64), &[3, 5], "prefix-info-length"),
        (NdOption::Mtu(1500), &[2], "mtu-length"),
        (
            NdOption::Rdnss {
                lifetime: 1,
                servers: vec![Ipv6Addr::LOCALHOST],
            },
            &[1, 2, 4],
            "rdnss-length",
        ),
        (
            NdOption::Dnssl {
                lifetime: 1,
                domains: vec!["a.b".into()],
            },
            &[1],
            "dnssl-length",
        ),
        (
            NdOption::Pref64(Pref64 {
                prefix: "64:ff9b::".parse().unwrap(),
                prefix_len: 96,
                lifetime: 8,
            }),
            &[1, 3],
            "pref64-length",
        ),
    ];
    for (option, bad_lengths, expected) in cases {
        let bytes = advert(vec![option.clone()]).emit();
        assert!(RouterAdvert::parse(&bytes).is_ok(), "{option:?} must parse");
        for &units in bad_lengths {
            let bad = with_option_length(bytes.clone(), 16, units);
            assert_eq!(reason(&bad), expected, "{option:?} with length {units}");
        }
    }
}

#[test]
fn prefix_length_over_128_is_rejected() {
    let mut bytes = advert(vec![pio("2001:db8::", 64)]).emit();
    bytes[16 + 2] = 129;
    assert_eq!(reason(&bytes), "prefix-length-invalid");
    bytes[16 + 2] = 128;
    assert!(RouterAdvert::parse(&bytes).is_ok());
}

#[test]
fn route_information_length_must_fit_the_prefix_length() {
    let route = |prefix_len| {
        advert(vec![NdOption::RouteInformation(RouteInformation {
            prefix: Ipv6Addr::UNSPECIFIED,
            prefix_len,
            preference: RouterPreference::Medium,
            lifetime: 60,
        })])
        .emit()
    };
    // (prefix length, option length, accepted)
    let cases = [
        (0, 1, true),
        (1, 1, false),
        (64, 2, true),
        (65, 2, false),
        (128, 3, true),
        (0, 3, true),
        (0, 4, false),
    ];
    for (prefix_len, units, accepted) in cases {
        let bytes = with_option_length(route(prefix_len), 16, units);
        let result = RouterAdvert::parse(&bytes);
        if accepted {
            assert!(
                result.is_ok(),
                "/{prefix_len} in length {units}: {result:?}"
            );
        } else {
            assert_eq!(
                result.unwrap_err().reason(),
                "route-info-length",
                "/{prefix_len} in length {units}"
            );
        }
    }
    let mut too_long = with_option_length(route(0), 16, 3);
    too_long[16 + 2] = 129;
    assert_eq!(reason(&too_long), "prefix-length-invalid");
}

#[test]
fn malformed_search_domains_are_rejected() {
    let bytes = advert(vec![NdOption::Dnssl {
        lifetime: 1,
        domains: vec!["example.org".into()],
    }])
    .emit();
    let names = 16 + 8;
    let mut compressed = bytes.clone();
    compressed[names] = 0xc0;
    assert_eq!(reason(&compressed), "dnssl-malformed");
    let mut dotted = bytes.clone();
    dotted[names + 1] = b'.';
    assert_eq!(reason(&dotted), "dnssl-malformed");
    let mut garbage_in_padding = bytes.clone();
    let last = garbage_in_padding.len() - 1;
    garbage_in_padding[last] = 7;
    assert_eq!(reason(&garbage_in_padding), "dnssl-malformed");
    // "example" claims 20 bytes: the label runs past the option.
    let mut overrun = bytes;
    overrun[names] = 20;
    assert_eq!(reason(&overrun), "dnssl-malformed");
}

#[test]
fn every_reason_name_is_distinct() {
    let errors = [
        ParseError::TooShort { length: 0 },
        ParseError::NotRouterAdvert { kind: 0 },
        ParseError::BadCode { code: 1 },
        ParseError::OptionLengthZero { offset: 0 },
        ParseError::OptionTruncated { offset: 0 },
        ParseError::TooManyOptions { limit: 0 },
        ParseError::PrefixInformationLength {
            offset: 0,
            length: 0,
        },
        ParseError::PrefixLength {
            offset: 0,
            prefix_len: 0,
        },
        ParseError::MtuLength {
            offset: 0,
            length: 0,
        },
        ParseError::RdnssLength {
            offset: 0,
            length: 0,
        },
        ParseError::RouteInformationLength {
            offset: 0,
            length: 0,
            prefix_len: 0,
        },
        ParseError::DnsslLength {
            offset: 0,
            length: 0,
        },
        ParseError::DnsslMalformed { offset: 0 },
        ParseError::Pref64Length {
            offset: 0,
            length: 0,
        },
    ];
    let mut reasons: Vec<_> = errors.iter().map(ParseError::reason).collect();
    reasons.sort_unstable();
    reasons.dedup();
    assert_eq!(reasons.len(), errors.len());
}
