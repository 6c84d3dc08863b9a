//! Turns the daemon's Cap'n Proto `InterfaceReport` list (and the names of
//! the managed interfaces that do not exist now) into the plain model of
//! `report`, and (in `event`) its monitor events into the model of `event`.
//! This is the only place that reads the schema's report structs.
//!
//! It must never trust the daemon to be well-formed: a bad enum value or union
//! tag becomes an error, and text that is not UTF-8 is shown lossily, never a
//! panic.

use capnp::struct_list;
use slaacd_ipc::convert::read_ip6;
use slaacd_ipc::slaacd_capnp::{
    RouterPreference, address_proposal_report, default_route_proposal_report, dnssl_report,
    drop_counter, interface_report, pref64_report, prefix_report, rdnss_report,
    route_information_report, route_key, route_proposal_report, router_report,
};

use crate::report::{
    AddressProposalReport, DefaultRouteProposalReport, DnsslReport, DropCounter, HwAddress,
    InterfaceReport, Pref64Report, Preference, PrefixReport, RdnssReport, RouteInformationReport,
    RouteProposalReport, RouterReport, Via,
};

mod event;

pub use event::batch;

/// Converts a whole `showInterfaces` reply.
pub fn interfaces(
    list: struct_list::Reader<'_, interface_report::Owned>,
) -> capnp::Result<Vec<InterfaceReport>> {
    list.iter().map(interface).collect()
}

/// Converts an `absentInterfaces` reply: the managed names no interface has.
pub fn names(list: capnp::text_list::Reader<'_>) -> capnp::Result<Vec<String>> {
    list.iter().map(|name| name.map(text)).collect()
}

fn interface(r: interface_report::Reader<'_>) -> capnp::Result<InterfaceReport> {
    let hw_address = r.get_hw_address()?;
    Ok(InterfaceReport {
        if_index: r.get_if_index(),
        name: text(r.get_name()?),
        running: r.get_running(),
        temporary: r.get_temporary(),
        hw_address: (!hw_address.is_empty()).then(|| HwAddress(hw_address.to_vec())),
        link_local: match r.get_link_local().which()? {
            interface_report::link_local::None(()) => None,
            interface_report::link_local::Address(address) => Some(read_ip6(address?)),
        },
        routers: r
            .get_routers()?
            .iter()
            .map(router)
            .collect::<Result<_, _>>()?,
        address_proposals: r
            .get_address_proposals()?
            .iter()
            .map(address_proposal)
            .collect::<Result<_, _>>()?,
        default_route_proposals: r
            .get_default_route_proposals()?
            .iter()
            .map(default_route_proposal)
            .collect::<Result<_, _>>()?,
        route_proposals: r
            .get_route_proposals()?
            .iter()
            .map(route_proposal)
            .collect::<Result<_, _>>()?,
        mtu: r.get_mtu(),
        dns_servers: r.get_dns_servers()?.iter().map(read_ip6).collect(),
        search_domains: r
            .get_search_domains()?
            .iter()
            .map(|domain| domain.map(text))
            .collect::<Result<_, _>>()?,
        dropped: r
            .get_dropped()?
            .iter()
            .map(drop_count)
            .collect::<Result<_, _>>()?,
    })
}

fn drop_count(r: drop_counter::Reader<'_>) -> capnp::Result<DropCounter> {
    Ok(DropCounter {
        reason: text(r.get_reason()?),
        count: r.get_count(),
    })
}

fn router(r: router_report::Reader<'_>) -> capnp::Result<RouterReport> {
    Ok(RouterReport {
        source: read_ip6(r.get_source()?),
        received_ago: r.get_received_ago(),
        cur_hop_limit: r.get_cur_hop_limit(),
        managed: r.get_managed(),
        other: r.get_other(),
        router_lifetime: r.get_router_lifetime(),
        preference: preference(r.get_preference()?),
        reachable_time: r.get_reachable_time(),
        retrans_timer: r.get_retrans_timer(),
        mtu: r.get_mtu(),
        prefixes: r
            .get_prefixes()?
            .iter()
            .map(prefix)
            .collect::<Result<_, _>>()?,
        rdnss: r.get_rdnss()?.iter().map(rdnss).collect::<Result<_, _>>()?,
        dnssl: r.get_dnssl()?.iter().map(dnssl).collect::<Result<_, _>>()?,
        routes: r
            .get_routes()?
            .iter()
            .map(route_information)
            .collect::<Result<_, _>>()?,
        pref64: r
            .get_pref64()?
            .iter()
            .map(pref64)
            .collect::<Result<_, _>>()?,
        captive_portal: Some(text(r.get_captive_portal()?)).filter(|uri| !uri.is_empty()),
    })
}

fn dnssl(r: dnssl_report::Reader<'_>) -> capnp::Result<DnsslReport> {
    Ok(DnsslReport {
        domain: text(r.get_domain()?),
        lifetime: r.get_lifetime(),
    })
}

fn route_information(
    r: route_information_report::Reader<'_>,
) -> capnp::Result<RouteInformationReport> {
    Ok(RouteInformationReport {
        prefix: read_ip6(r.get_prefix()?),
        prefix_length: r.get_prefix_length(),
        preference: preference(r.get_preference()?),
        lifetime: r.get_lifetime(),
    })
}

fn pref64(r: pref64_report::Reader<'_>) -> capnp::Result<Pref64Report> {
    Ok(Pref64Report {
        prefix: read_ip6(r.get_prefix()?),
        prefix_length: r.get_prefix_length(),
        lifetime: r.get_lifetime(),
    })
}

fn prefix(r: prefix_report::Reader<'_>) -> capnp::Result<PrefixReport> {
    Ok(PrefixReport {
        prefix: read_ip6(r.get_prefix()?),
        prefix_length: r.get_prefix_length(),
        on_link: r.get_on_link(),
        autonomous: r.get_autonomous(),
        valid_lifetime: r.get_valid_lifetime(),
        preferred_lifetime: r.get_preferred_lifetime(),
    })
}

fn rdnss(r: rdnss_report::Reader<'_>) -> capnp::Result<RdnssReport> {
    Ok(RdnssReport {
        server: read_ip6(r.get_server()?),
        lifetime: r.get_lifetime(),
    })
}

fn address_proposal(
    r: address_proposal_report::Reader<'_>,
) -> capnp::Result<AddressProposalReport> {
    Ok(AddressProposalReport {
        id: r.get_id(),
        state: text(r.get_state()?),
        temporary: r.get_temporary(),
        valid_lifetime: r.get_valid_lifetime(),
        preferred_lifetime: r.get_preferred_lifetime(),
        timeout: match r.get_timeout().which()? {
            address_proposal_report::timeout::None(()) => None,
            address_proposal_report::timeout::Seconds(seconds) => Some(seconds),
        },
        updated_ago: r.get_updated_ago(),
        address: read_ip6(r.get_address()?),
        prefix: read_ip6(r.get_prefix()?),
        prefix_length: r.get_prefix_length(),
    })
}

fn default_route_proposal(
    r: default_route_proposal_report::Reader<'_>,
) -> capnp::Result<DefaultRouteProposalReport> {
    Ok(DefaultRouteProposalReport {
        id: r.get_id(),
        state: text(r.get_state()?),
        router: read_ip6(r.get_router()?),
        router_lifetime: r.get_router_lifetime(),
        preference: preference(r.get_preference()?),
        timeout: match r.get_timeout().which()? {
            default_route_proposal_report::timeout::None(()) => None,
            default_route_proposal_report::timeout::Seconds(seconds) => Some(seconds),
        },
        updated_ago: r.get_updated_ago(),
    })
}

fn route_proposal(r: route_proposal_report::Reader<'_>) -> capnp::Result<RouteProposalReport> {
    let key = r.get_key()?;
    Ok(RouteProposalReport {
        id: r.get_id(),
        state: text(r.get_state()?),
        prefix: read_ip6(key.get_prefix()?),
        prefix_length: key.get_prefix_length(),
        via: match key.get_via().which()? {
            route_key::via::OnLink(()) => Via::OnLink,
            route_key::via::Router(router) => Via::Router(read_ip6(router?)),
        },
        lifetime: r.get_lifetime(),
        preference: preference(r.get_preference()?),
        timeout: match r.get_timeout().which()? {
            route_proposal_report::timeout::None(()) => None,
            route_proposal_report::timeout::Seconds(seconds) => Some(seconds),
        },
        updated_ago: r.get_updated_ago(),
    })
}

/// Text from the daemon; bytes that are not UTF-8 are shown lossily.
fn text(r: capnp::text::Reader<'_>) -> String {
    String::from_utf8_lossy(r.as_bytes()).into_owned()
}

fn preference(p: RouterPreference) -> Preference {
    match p {
        RouterPreference::Low => Preference::Low,
        RouterPreference::Medium => Preference::Medium,
        RouterPreference::High => Preference::High,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use slaacd_ipc::convert::write_ip6;
    use slaacd_ipc::slaacd_capnp::control;

    #[test]
    fn converts_every_field() {
        let mut message = capnp::message::Builder::new_default();
        let results = message.init_root::<control::show_interfaces_results::Builder<'_>>();
        let mut list = results.init_interfaces(1);
        let mut i = list.reborrow().get(0);
        i.set_if_index(3);
        i.set_name("eth0");
        i.set_running(true);
        i.set_temporary(false);
        i.set_hw_address(&[2, 0, 0, 0, 0, 1]);
        write_ip6(
            i.reborrow().get_link_local().init_address(),
            "fe80::1".parse().unwrap(),
        );
        let mut r = i.reborrow().init_routers(1).get(0);
        write_ip6(r.reborrow().init_source(), "fe80::2".parse().unwrap());
        r.set_received_ago(5);
        r.set_cur_hop_limit(64);
        r.set_managed(true);
        r.set_router_lifetime(1800);
        r.set_preference(RouterPreference::High);
        r.set_mtu(1500);
        let mut p = r.reborrow().init_prefixes(1).get(0);
        write_ip6(p.reborrow().init_prefix(), "2001:db8::".parse().unwrap());
        p.set_prefix_length(64);
        p.set_on_link(true);
        p.set_valid_lifetime(u32::MAX);
        let mut d = r.init_rdnss(1).get(0);
        write_ip6(d.reborrow().init_server(), "2001:db8::53".parse().unwrap());
        d.set_lifetime(600);
        let mut a = i.reborrow().init_address_proposals(1).get(0);
        a.set_id(7);
        a.set_state("PROPOSAL_CONFIGURED");
        a.reborrow().get_timeout().set_seconds(30);
        write_ip6(a.reborrow().init_address(), "2001:db8::9".parse().unwrap());
        a.set_prefix_length(64);
        let mut g = i.init_default_route_proposals(1).get(0);
        g.set_id(8);
        g.set_state("PROPOSAL_SENT");
        g.set_preference(RouterPreference::Low);

        let reader = message
            .get_root_as_reader::<control::show_interfaces_results::Reader<'_>>()
            .unwrap();
        let reports = interfaces(reader.get_interfaces().unwrap()).unwrap();
        assert_eq!(reports.len(), 1);
        let report = &reports[0];
        assert_eq!(report.if_index, 3);
        assert_eq!(report.name, "eth0");
        assert!(report.running);
        assert_eq!(report.hw_address, Some(HwAddress(vec![2, 0, 0, 0, 0, 1])));
        assert_eq!(report.link_local, Some("fe80::1".parse().unwrap()));
        let router = &report.routers[0];
        assert_eq!(router.source, "fe80::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(router.received_ago, 5);
        assert!(router.managed && !router.other);
        assert_eq!(router.preference, Preference::High);
        assert_eq!(router.prefixes[0].prefix_length, 64);
        assert_eq!(router.prefixes[0].valid_lifetime, u32::MAX);
        assert_eq!(router.rdnss[0].lifetime, 600);
        assert_eq!(router.captive_portal, None);
        let address = &report.address_proposals[0];
        assert_eq!(address.state, "PROPOSAL_CONFIGURED");
        assert_eq!(address.timeout, Some(30));
        assert_eq!(address.address, "2001:db8::9".parse::<Ipv6Addr>().unwrap());
        let route = &report.default_route_proposals[0];
        assert_eq!((route.id, route.timeout), (8, None));
        assert_eq!(route.preference, Preference::Low);
    }

    #[test]
    fn converts_router_options_routes_dns_and_drops() {
        let mut message = capnp::message::Builder::new_default();
        let results = message.init_root::<control::show_interfaces_results::Builder<'_>>();
        let mut i = results.init_interfaces(1).get(0);
        i.set_mtu(1480);
        let mut servers = i.reborrow().init_dns_servers(2);
        write_ip6(servers.reborrow().get(0), "2001:db8::53".parse().unwrap());
        write_ip6(servers.get(1), "2001:db8::54".parse().unwrap());
        i.reborrow().init_search_domains(1).set(0, "example.org");
        let mut dropped = i.reborrow().init_dropped(1).get(0);
        dropped.set_reason("hop-limit-not-255");
        dropped.set_count(7);
        let mut route = i.reborrow().init_route_proposals(2);
        let mut on_link = route.reborrow().get(0);
        on_link.set_id(4);
        on_link.set_state("PROPOSAL_CONFIGURED");
        let mut key = on_link.reborrow().init_key();
        write_ip6(
            key.reborrow().init_prefix(),
            "2001:db8:1::".parse().unwrap(),
        );
        key.set_prefix_length(64);
        key.init_via().set_on_link(());
        on_link.set_lifetime(u32::MAX);
        on_link.reborrow().get_timeout().set_seconds(9);
        let mut via_router = route.get(1);
        via_router.set_preference(RouterPreference::Low);
        write_ip6(
            via_router.reborrow().init_key().init_via().init_router(),
            "fe80::1".parse().unwrap(),
        );
        let mut r = i.init_routers(1).get(0);
        r.set_captive_portal("https://portal.example/");
        let mut d = r.reborrow().init_dnssl(1).get(0);
        d.set_domain("example.org");
        d.set_lifetime(300);
        let mut rio = r.reborrow().init_routes(1).get(0);
        write_ip6(
            rio.reborrow().init_prefix(),
            "2001:db8:100::".parse().unwrap(),
        );
        rio.set_prefix_length(48);
        rio.set_preference(RouterPreference::High);
        rio.set_lifetime(1800);
        let mut nat64 = r.init_pref64(1).get(0);
        write_ip6(nat64.reborrow().init_prefix(), "64:ff9b::".parse().unwrap());
        nat64.set_prefix_length(96);
        nat64.set_lifetime(600);

        let reader = message
            .get_root_as_reader::<control::show_interfaces_results::Reader<'_>>()
            .unwrap();
        let report = &interfaces(reader.get_interfaces().unwrap()).unwrap()[0];
        assert_eq!(report.mtu, 1480);
        assert_eq!(
            report.dns_servers,
            [
                "2001:db8::53".parse::<Ipv6Addr>().unwrap(),
                "2001:db8::54".parse().unwrap()
            ]
        );
        assert_eq!(report.search_domains, ["example.org"]);
        assert_eq!(
            report.dropped,
            [DropCounter {
                reason: "hop-limit-not-255".into(),
                count: 7
            }]
        );
        let on_link = &report.route_proposals[0];
        assert_eq!((on_link.id, on_link.timeout), (4, Some(9)));
        assert_eq!(on_link.via, Via::OnLink);
        assert_eq!((on_link.prefix_length, on_link.lifetime), (64, u32::MAX));
        let via_router = &report.route_proposals[1];
        assert_eq!(via_router.via, Via::Router("fe80::1".parse().unwrap()));
        assert_eq!(via_router.preference, Preference::Low);
        let router = &report.routers[0];
        assert_eq!(
            router.captive_portal.as_deref(),
            Some("https://portal.example/")
        );
        assert_eq!(router.dnssl[0].domain, "example.org");
        assert_eq!(router.dnssl[0].lifetime, 300);
        assert_eq!(router.routes[0].prefix_length, 48);
        assert_eq!(router.routes[0].preference, Preference::High);
        assert_eq!(
            router.pref64[0].prefix,
            "64:ff9b::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(router.pref64[0].lifetime, 600);
    }

    #[test]
    fn empty_hw_address_and_no_link_local_are_none() {
        let mut message = capnp::message::Builder::new_default();
        let results = message.init_root::<control::show_interfaces_results::Builder<'_>>();
        results.init_interfaces(1).get(0).set_name("tun0");
        let reader = message
            .get_root_as_reader::<control::show_interfaces_results::Reader<'_>>()
            .unwrap();
        let reports = interfaces(reader.get_interfaces().unwrap()).unwrap();
        assert_eq!(reports[0].hw_address, None);
        assert_eq!(reports[0].link_local, None);
        assert!(reports[0].routers.is_empty());
        assert!(reports[0].route_proposals.is_empty());
        assert_eq!(reports[0].mtu, 0);
    }
}
