//! `slaacctl show interface` in OpenBSD slaacctl's layout: one block per
//! interface with its routers' last Router Advertisements, then its address
//! and default route proposals. What slaacd knows beyond OpenBSD follows in
//! the same style: the MTU, DNSSL, Route Information, PREF64 and captive
//! portal options, route proposals, the DNS configuration, and the Router
//! Advertisements dropped by reason. The managed interfaces that do not
//! exist now follow, one line each.
//!
//! Ages become local dates through [`WallClock`]. This module must never read
//! the clock itself, so the same model and clock always give the same text.

use std::fmt::{self, Write};
use std::net::Ipv6Addr;

use crate::report::{
    AddressProposalReport, DefaultRouteProposalReport, InterfaceReport, PrefixReport,
    RouteProposalReport, RouterReport, ShowReply, Via,
};
use crate::walltime::WallClock;

/// The lifetime value RFC 4861 defines as infinite.
const INFINITE: u32 = u32::MAX;

/// Formats the reports, a blank line between interfaces, and then a line
/// for each managed interface that does not exist now.
pub fn render(reply: &ShowReply, clock: &WallClock) -> String {
    let mut out = String::new();
    for (i, interface) in reply.interfaces.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Writing into a String cannot fail.
        let _ = write_interface(&mut out, interface, clock);
    }
    if !reply.interfaces.is_empty() && !reply.absent.is_empty() {
        out.push('\n');
    }
    for name in &reply.absent {
        let _ = writeln!(out, "{name}: managed, not present");
    }
    out
}

fn write_interface(out: &mut String, i: &InterfaceReport, clock: &WallClock) -> fmt::Result {
    let name = if i.name.is_empty() {
        "unknown"
    } else {
        &i.name
    };
    writeln!(out, "{name}:")?;
    writeln!(
        out,
        "\t index: {:>3} running: {:>3} temporary: {:>3}",
        i.if_index,
        yes_no(i.running),
        yes_no(i.temporary)
    )?;
    match &i.hw_address {
        Some(hw) => writeln!(out, "\tlladdr: {hw}")?,
        None => writeln!(out, "\tlladdr: none")?,
    }
    match i.link_local {
        Some(ll) => writeln!(out, "\t inet6: {}", Scoped(ll, &i.name))?,
        None => writeln!(out, "\t inet6: none")?,
    }
    if i.mtu != 0 {
        writeln!(out, "\t   mtu: {} bytes", i.mtu)?;
    }
    for router in &i.routers {
        write_router(out, router, &i.name, clock)?;
    }
    if !i.address_proposals.is_empty() {
        writeln!(out, "\tAddress proposals")?;
        for proposal in &i.address_proposals {
            write_address_proposal(out, proposal, &i.name, clock)?;
        }
    }
    if !i.default_route_proposals.is_empty() {
        writeln!(out, "\tDefault router proposals")?;
        for proposal in &i.default_route_proposals {
            write_default_route_proposal(out, proposal, &i.name, clock)?;
        }
    }
    if !i.route_proposals.is_empty() {
        writeln!(out, "\tRoute proposals")?;
        for proposal in &i.route_proposals {
            write_route_proposal(out, proposal, &i.name, clock)?;
        }
    }
    write_dns(out, i)?;
    if !i.dropped.is_empty() {
        writeln!(out, "\tRouter Advertisements dropped")?;
        for counter in &i.dropped {
            writeln!(out, "\t\t{}: {}", counter.reason, counter.count)?;
        }
    }
    Ok(())
}

/// The DNS configuration learnt on the interface, as OpenBSD shows its rDNS
/// proposal: one server or domain a line.
fn write_dns(out: &mut String, i: &InterfaceReport) -> fmt::Result {
    if i.dns_servers.is_empty() && i.search_domains.is_empty() {
        return Ok(());
    }
    writeln!(out, "\tDNS configuration")?;
    if !i.dns_servers.is_empty() {
        writeln!(out, "\t\trdns:")?;
        for server in &i.dns_servers {
            writeln!(out, "\t\t\t{}", Scoped(*server, &i.name))?;
        }
    }
    if !i.search_domains.is_empty() {
        writeln!(out, "\t\tsearch:")?;
        for domain in &i.search_domains {
            writeln!(out, "\t\t\t{domain}")?;
        }
    }
    Ok(())
}

fn write_router(
    out: &mut String,
    r: &RouterReport,
    ifname: &str,
    clock: &WallClock,
) -> fmt::Result {
    writeln!(
        out,
        "\tRouter Advertisement from {}",
        Scoped(r.source, ifname)
    )?;
    writeln!(
        out,
        "\t\treceived: {}; {}s ago",
        clock.before(r.received_ago),
        r.received_ago
    )?;
    writeln!(
        out,
        "\t\tCur Hop Limit: {:>3}, M: {}, O: {}, Router Lifetime: {:>5}s",
        r.cur_hop_limit,
        u8::from(r.managed),
        u8::from(r.other),
        r.router_lifetime
    )?;
    writeln!(out, "\t\tDefault Router Preference: {}", r.preference)?;
    writeln!(
        out,
        "\t\tReachable Time: {:>9}ms, Retrans Timer: {:>9}ms",
        r.reachable_time, r.retrans_timer
    )?;
    if r.mtu != 0 {
        writeln!(out, "\t\tMTU: {} bytes", r.mtu)?;
    }
    for prefix in &r.prefixes {
        write_prefix(out, prefix)?;
    }
    for server in &r.rdnss {
        writeln!(
            out,
            "\t\trdns: {}, lifetime: {}",
            Scoped(server.server, ifname),
            server.lifetime
        )?;
    }
    for domain in &r.dnssl {
        writeln!(
            out,
            "\t\tdnssl: {}, lifetime: {}",
            domain.domain,
            Lifetime(domain.lifetime)
        )?;
    }
    for route in &r.routes {
        writeln!(
            out,
            "\t\troute: {}/{}, Preference: {}, lifetime: {}",
            route.prefix,
            route.prefix_length,
            route.preference,
            Lifetime(route.lifetime)
        )?;
    }
    for nat64 in &r.pref64 {
        writeln!(
            out,
            "\t\tpref64: {}/{}, lifetime: {}",
            nat64.prefix, nat64.prefix_length, nat64.lifetime
        )?;
    }
    if let Some(uri) = &r.captive_portal {
        writeln!(out, "\t\tcaptive portal: {uri}")?;
    }
    Ok(())
}

fn write_prefix(out: &mut String, p: &PrefixReport) -> fmt::Result {
    writeln!(out, "\t\tprefix: {}/{}", p.prefix, p.prefix_length)?;
    writeln!(
        out,
        "\t\t\tOn-link: {}, Autonomous address-configuration: {}",
        u8::from(p.on_link),
        u8::from(p.autonomous)
    )?;
    writeln!(
        out,
        "\t\t\tvltime: {:>10}, pltime: {:>10}",
        Lifetime(p.valid_lifetime),
        Lifetime(p.preferred_lifetime)
    )
}

fn write_address_proposal(
    out: &mut String,
    p: &AddressProposalReport,
    ifname: &str,
    clock: &WallClock,
) -> fmt::Result {
    writeln!(
        out,
        "\t\tid: {:>4}, state: {:>15}, temporary: {}",
        p.id,
        p.state,
        if p.temporary { "y" } else { "n" }
    )?;
    write!(
        out,
        "\t\tvltime: {:>10}, pltime: {:>10}",
        Lifetime(p.valid_lifetime),
        Lifetime(p.preferred_lifetime)
    )?;
    write_timeout(out, p.timeout)?;
    write_updated(out, clock, p.updated_ago)?;
    writeln!(out)?;
    writeln!(
        out,
        "\t\t{}, {}/{}",
        Scoped(p.address, ifname),
        p.prefix,
        p.prefix_length
    )
}

fn write_default_route_proposal(
    out: &mut String,
    p: &DefaultRouteProposalReport,
    ifname: &str,
    clock: &WallClock,
) -> fmt::Result {
    writeln!(out, "\t\tid: {:>4}, state: {:>15}", p.id, p.state)?;
    writeln!(out, "\t\trouter: {}", Scoped(p.router, ifname))?;
    writeln!(out, "\t\trouter lifetime: {:>10}", p.router_lifetime)?;
    writeln!(out, "\t\tPreference: {}", p.preference)?;
    write_updated(out, clock, p.updated_ago)?;
    write_timeout(out, p.timeout)
}

fn write_route_proposal(
    out: &mut String,
    p: &RouteProposalReport,
    ifname: &str,
    clock: &WallClock,
) -> fmt::Result {
    writeln!(out, "\t\tid: {:>4}, state: {:>15}", p.id, p.state)?;
    match p.via {
        Via::OnLink => writeln!(out, "\t\troute: {}/{}, on-link", p.prefix, p.prefix_length)?,
        Via::Router(router) => writeln!(
            out,
            "\t\troute: {}/{}, via: {}",
            p.prefix,
            p.prefix_length,
            Scoped(router, ifname)
        )?,
    }
    writeln!(out, "\t\tlifetime: {:>10}", Lifetime(p.lifetime))?;
    writeln!(out, "\t\tPreference: {}", p.preference)?;
    write_updated(out, clock, p.updated_ago)?;
    write_timeout(out, p.timeout)
}

/// When a proposal was last updated, as a time and an age; the line goes on.
fn write_updated(out: &mut String, clock: &WallClock, ago: u32) -> fmt::Result {
    write!(out, "\t\tupdated: {}; {ago}s ago", clock.before(ago))
}

/// Ends a line with the proposal's timer, if one is armed.
fn write_timeout(out: &mut String, timeout: Option<u32>) -> fmt::Result {
    match timeout {
        Some(seconds) => writeln!(out, ", timeout: {seconds:>10}s"),
        None => writeln!(out),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// A lifetime in seconds, or "infinity"; honours width and alignment.
pub(super) struct Lifetime(pub(super) u32);

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == INFINITE {
            f.pad("infinity")
        } else {
            f.pad(&self.0.to_string())
        }
    }
}

/// An address with its zone (`fe80::1%eth0`) when it is link-local, because a
/// link-local address means nothing without the interface.
pub(super) struct Scoped<'a>(pub(super) Ipv6Addr, pub(super) &'a str);

impl fmt::Display for Scoped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Scoped(address, ifname) = self;
        if address.is_unicast_link_local() && !ifname.is_empty() {
            write!(f, "{address}%{ifname}")
        } else {
            write!(f, "{address}")
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::report::{
        DnsslReport, DropCounter, HwAddress, Pref64Report, Preference, RdnssReport,
        RouteInformationReport,
    };

    fn ip(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    /// Two interfaces: one with a router, two prefixes, every other option,
    /// proposals of every kind, DNS and drops; one bare; and two managed
    /// names that no interface has. Shared with the JSON golden test.
    pub fn sample() -> ShowReply {
        ShowReply {
            interfaces: sample_interfaces(),
            absent: vec!["usb0".into(), "wwan0".into()],
        }
    }

    fn sample_interfaces() -> Vec<InterfaceReport> {
        vec![
            InterfaceReport {
                if_index: 2,
                name: "eth0".into(),
                running: true,
                temporary: true,
                hw_address: Some(HwAddress(vec![0x52, 0x54, 0x00, 0x12, 0x34, 0x56])),
                link_local: Some(ip("fe80::5054:ff:fe12:3456")),
                routers: vec![RouterReport {
                    source: ip("fe80::1"),
                    received_ago: 12,
                    cur_hop_limit: 64,
                    managed: false,
                    other: true,
                    router_lifetime: 1800,
                    preference: Preference::High,
                    reachable_time: 30000,
                    retrans_timer: 1000,
                    mtu: 1500,
                    prefixes: vec![
                        PrefixReport {
                            prefix: ip("2001:db8:1::"),
                            prefix_length: 64,
                            on_link: true,
                            autonomous: true,
                            valid_lifetime: 2_592_000,
                            preferred_lifetime: 604_800,
                        },
                        PrefixReport {
                            prefix: ip("2001:db8:2::"),
                            prefix_length: 48,
                            on_link: true,
                            autonomous: false,
                            valid_lifetime: INFINITE,
                            preferred_lifetime: INFINITE,
                        },
                    ],
                    rdnss: vec![RdnssReport {
                        server: ip("2001:db8:1::53"),
                        lifetime: 600,
                    }],
                    dnssl: vec![DnsslReport {
                        domain: "example.org".into(),
                        lifetime: 600,
                    }],
                    routes: vec![RouteInformationReport {
                        prefix: ip("2001:db8:100::"),
                        prefix_length: 48,
                        preference: Preference::Low,
                        lifetime: 1800,
                    }],
                    pref64: vec![Pref64Report {
                        prefix: ip("64:ff9b::"),
                        prefix_length: 96,
                        lifetime: 1800,
                    }],
                    captive_portal: Some("https://portal.example.org/".into()),
                }],
                address_proposals: vec![
                    AddressProposalReport {
                        id: 1,
                        state: "PROPOSAL_CONFIGURED".into(),
                        temporary: false,
                        valid_lifetime: 2_592_000,
                        preferred_lifetime: 604_800,
                        timeout: Some(1708),
                        updated_ago: 12,
                        address: ip("2001:db8:1::5054:ff:fe12:3456"),
                        prefix: ip("2001:db8:1::"),
                        prefix_length: 64,
                    },
                    AddressProposalReport {
                        id: 2,
                        state: "PROPOSAL_SENT".into(),
                        temporary: true,
                        valid_lifetime: 172_800,
                        preferred_lifetime: 86_400,
                        timeout: None,
                        updated_ago: 3601,
                        address: ip("2001:db8:1::a1b2:c3d4:e5f6:789"),
                        prefix: ip("2001:db8:1::"),
                        prefix_length: 64,
                    },
                ],
                default_route_proposals: vec![DefaultRouteProposalReport {
                    id: 3,
                    state: "PROPOSAL_CONFIGURED".into(),
                    router: ip("fe80::1"),
                    router_lifetime: 1800,
                    preference: Preference::High,
                    timeout: Some(1788),
                    updated_ago: 12,
                }],
                route_proposals: vec![
                    RouteProposalReport {
                        id: 4,
                        state: "PROPOSAL_CONFIGURED".into(),
                        prefix: ip("2001:db8:1::"),
                        prefix_length: 64,
                        via: Via::OnLink,
                        lifetime: 2_592_000,
                        preference: Preference::Medium,
                        timeout: Some(1708),
                        updated_ago: 12,
                    },
                    RouteProposalReport {
                        id: 5,
                        state: "PROPOSAL_CONFIGURED".into(),
                        prefix: ip("2001:db8:100::"),
                        prefix_length: 48,
                        via: Via::Router(ip("fe80::1")),
                        lifetime: 1800,
                        preference: Preference::Low,
                        timeout: None,
                        updated_ago: 12,
                    },
                ],
                mtu: 1500,
                dns_servers: vec![ip("2001:db8:1::53")],
                search_domains: vec!["example.org".into()],
                dropped: vec![
                    DropCounter {
                        reason: "hop-limit-not-255".into(),
                        count: 3,
                    },
                    DropCounter {
                        reason: "engine-busy".into(),
                        count: 0,
                    },
                    DropCounter {
                        reason: "fragmented".into(),
                        count: 1,
                    },
                ],
            },
            InterfaceReport {
                if_index: 3,
                name: String::new(),
                running: false,
                temporary: false,
                hw_address: None,
                link_local: None,
                routers: vec![],
                address_proposals: vec![],
                default_route_proposals: vec![],
                route_proposals: vec![],
                mtu: 0,
                dns_servers: vec![],
                search_domains: vec![],
                dropped: vec![],
            },
        ]
    }

    #[test]
    fn golden_text() {
        // 2026-11-27 21:30:05 UTC.
        let clock = WallClock::fixed_utc(1_795_815_005);
        let expected = include_str!("../../tests/golden/show_interface.txt");
        assert_eq!(render(&sample(), &clock), expected);
    }

    #[test]
    fn no_interfaces_print_nothing() {
        let reply = ShowReply {
            interfaces: vec![],
            absent: vec![],
        };
        assert_eq!(render(&reply, &WallClock::fixed_utc(0)), "");
    }

    #[test]
    fn absent_interfaces_alone_are_a_line_each() {
        let reply = ShowReply {
            interfaces: vec![],
            absent: vec!["usb0".into(), "veth7".into()],
        };
        assert_eq!(
            render(&reply, &WallClock::fixed_utc(0)),
            "usb0: managed, not present\nveth7: managed, not present\n"
        );
    }

    #[test]
    fn lifetimes_pad_like_printf() {
        assert_eq!(format!("{:>10}", Lifetime(INFINITE)), "  infinity");
        assert_eq!(format!("{:>10}", Lifetime(600)), "       600");
    }

    #[test]
    fn only_link_local_addresses_get_a_zone() {
        assert_eq!(Scoped(ip("fe80::1"), "em0").to_string(), "fe80::1%em0");
        assert_eq!(Scoped(ip("2001:db8::1"), "em0").to_string(), "2001:db8::1");
        assert_eq!(Scoped(ip("fe80::1"), "").to_string(), "fe80::1");
    }
}
