//! Writes the core's interface reports into the schema's `InterfaceReport`
//! list for `slaacctl show interface`. A field-for-field copy, nothing more.

use capnp::struct_list;
use slaacd_core::{
    AddressProposalReport, DefaultRouteProposalReport, DnsslReport, InterfaceReport, Pref64Report,
    PrefixReport, RdnssReport, RouteInformationReport, RouteProposalReport, RouteVia, RouterReport,
};
use slaacd_ipc::convert::{preference_to_schema, write_ip6};
use slaacd_ipc::slaacd_capnp::{
    address_proposal_report, default_route_proposal_report, dnssl_report, interface_report,
    pref64_report, prefix_report, rdnss_report, route_information_report, route_key,
    route_proposal_report, router_report,
};

pub fn write(
    reports: &[InterfaceReport],
    mut list: struct_list::Builder<'_, interface_report::Owned>,
) {
    for (i, report) in reports.iter().enumerate() {
        interface(report, list.reborrow().get(i as u32));
    }
}

fn interface(report: &InterfaceReport, mut b: interface_report::Builder<'_>) {
    b.set_if_index(report.index);
    b.set_name(&report.name);
    b.set_running(report.running);
    b.set_temporary(report.temporary);
    b.set_hw_address(&report.hw_address);
    match report.link_local {
        Some(address) => write_ip6(b.reborrow().init_link_local().init_address(), address),
        None => b.reborrow().init_link_local().set_none(()),
    }
    let mut routers = b.reborrow().init_routers(report.routers.len() as u32);
    for (i, r) in report.routers.iter().enumerate() {
        router(r, routers.reborrow().get(i as u32));
    }
    let mut addresses = b
        .reborrow()
        .init_address_proposals(report.address_proposals.len() as u32);
    for (i, p) in report.address_proposals.iter().enumerate() {
        address_proposal(p, addresses.reborrow().get(i as u32));
    }
    let mut routes = b
        .reborrow()
        .init_default_route_proposals(report.default_route_proposals.len() as u32);
    for (i, p) in report.default_route_proposals.iter().enumerate() {
        default_route_proposal(p, routes.reborrow().get(i as u32));
    }
    let mut routes = b
        .reborrow()
        .init_route_proposals(report.route_proposals.len() as u32);
    for (i, p) in report.route_proposals.iter().enumerate() {
        route_proposal(report.index, p, routes.reborrow().get(i as u32));
    }
    b.set_mtu(report.mtu.unwrap_or(0));
    let mut servers = b
        .reborrow()
        .init_dns_servers(report.dns_servers.len() as u32);
    for (i, server) in report.dns_servers.iter().enumerate() {
        write_ip6(servers.reborrow().get(i as u32), *server);
    }
    let mut domains = b
        .reborrow()
        .init_search_domains(report.search_domains.len() as u32);
    for (i, domain) in report.search_domains.iter().enumerate() {
        domains.set(i as u32, domain);
    }
    let mut dropped = b.init_dropped(report.dropped.len() as u32);
    for (i, (reason, count)) in report.dropped.iter().enumerate() {
        let mut counter = dropped.reborrow().get(i as u32);
        counter.set_reason(reason);
        counter.set_count(*count);
    }
}

fn router(r: &RouterReport, mut b: router_report::Builder<'_>) {
    write_ip6(b.reborrow().init_source(), r.source);
    b.set_received_ago(r.received_ago);
    b.set_cur_hop_limit(r.cur_hop_limit);
    b.set_managed(r.managed);
    b.set_other(r.other);
    b.set_router_lifetime(r.router_lifetime);
    b.set_preference(preference_to_schema(r.preference));
    b.set_reachable_time(r.reachable_time);
    b.set_retrans_timer(r.retrans_timer);
    b.set_mtu(r.mtu);
    let mut prefixes = b.reborrow().init_prefixes(r.prefixes.len() as u32);
    for (i, p) in r.prefixes.iter().enumerate() {
        prefix(p, prefixes.reborrow().get(i as u32));
    }
    let mut servers = b.reborrow().init_rdnss(r.rdnss.len() as u32);
    for (i, s) in r.rdnss.iter().enumerate() {
        rdnss(s, servers.reborrow().get(i as u32));
    }
    let mut domains = b.reborrow().init_dnssl(r.dnssl.len() as u32);
    for (i, d) in r.dnssl.iter().enumerate() {
        dnssl(d, domains.reborrow().get(i as u32));
    }
    let mut routes = b.reborrow().init_routes(r.routes.len() as u32);
    for (i, route) in r.routes.iter().enumerate() {
        route_information(route, routes.reborrow().get(i as u32));
    }
    let mut nat64 = b.reborrow().init_pref64(r.pref64.len() as u32);
    for (i, p) in r.pref64.iter().enumerate() {
        pref64(p, nat64.reborrow().get(i as u32));
    }
    b.set_captive_portal(r.captive_portal.as_deref().unwrap_or(""));
}

fn dnssl(d: &DnsslReport, mut b: dnssl_report::Builder<'_>) {
    b.set_domain(&d.domain);
    b.set_lifetime(d.lifetime);
}

fn route_information(r: &RouteInformationReport, mut b: route_information_report::Builder<'_>) {
    write_ip6(b.reborrow().init_prefix(), r.prefix);
    b.set_prefix_length(r.prefix_len);
    b.set_preference(preference_to_schema(r.preference));
    b.set_lifetime(r.lifetime);
}

fn pref64(p: &Pref64Report, mut b: pref64_report::Builder<'_>) {
    write_ip6(b.reborrow().init_prefix(), p.prefix);
    b.set_prefix_length(p.prefix_len);
    b.set_lifetime(p.lifetime);
}

fn prefix(p: &PrefixReport, mut b: prefix_report::Builder<'_>) {
    write_ip6(b.reborrow().init_prefix(), p.prefix);
    b.set_prefix_length(p.prefix_len);
    b.set_on_link(p.on_link);
    b.set_autonomous(p.autonomous);
    b.set_valid_lifetime(p.valid_lifetime);
    b.set_preferred_lifetime(p.preferred_lifetime);
}

fn rdnss(s: &RdnssReport, mut b: rdnss_report::Builder<'_>) {
    write_ip6(b.reborrow().init_server(), s.server);
    b.set_lifetime(s.lifetime);
}

fn address_proposal(p: &AddressProposalReport, mut b: address_proposal_report::Builder<'_>) {
    b.set_id(p.id);
    b.set_state(&p.state);
    b.set_temporary(p.temporary);
    b.set_valid_lifetime(p.valid_lifetime);
    b.set_preferred_lifetime(p.preferred_lifetime);
    match p.timeout {
        Some(seconds) => b.reborrow().init_timeout().set_seconds(seconds),
        None => b.reborrow().init_timeout().set_none(()),
    }
    b.set_updated_ago(p.updated_ago);
    write_ip6(b.reborrow().init_address(), p.address);
    write_ip6(b.reborrow().init_prefix(), p.prefix);
    b.set_prefix_length(p.prefix_len);
}

fn default_route_proposal(
    p: &DefaultRouteProposalReport,
    mut b: default_route_proposal_report::Builder<'_>,
) {
    b.set_id(p.id);
    b.set_state(&p.state);
    write_ip6(b.reborrow().init_router(), p.router);
    b.set_router_lifetime(p.router_lifetime);
    b.set_preference(preference_to_schema(p.preference));
    match p.timeout {
        Some(seconds) => b.reborrow().init_timeout().set_seconds(seconds),
        None => b.reborrow().init_timeout().set_none(()),
    }
    b.set_updated_ago(p.updated_ago);
}

fn route_proposal(index: u32, p: &RouteProposalReport, mut b: route_proposal_report::Builder<'_>) {
    b.set_id(p.id);
    b.set_state(&p.state);
    write_route_key(index, p, b.reborrow().init_key());
    b.set_lifetime(p.lifetime);
    b.set_preference(preference_to_schema(p.preference));
    match p.timeout {
        Some(seconds) => b.reborrow().init_timeout().set_seconds(seconds),
        None => b.reborrow().init_timeout().set_none(()),
    }
    b.set_updated_ago(p.updated_ago);
}

fn write_route_key(index: u32, p: &RouteProposalReport, mut b: route_key::Builder<'_>) {
    b.set_if_index(index);
    write_ip6(b.reborrow().init_prefix(), p.prefix);
    b.set_prefix_length(p.prefix_len);
    match p.via {
        RouteVia::OnLink => b.init_via().set_on_link(()),
        RouteVia::Router(router) => write_ip6(b.init_via().init_router(), router),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use slaacd_core::RouterPreference;
    use slaacd_ipc::convert::read_ip6;
    use slaacd_ipc::slaacd_capnp::route_key;

    use super::*;

    fn ip(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    fn route(id: u64, prefix: &str, via: RouteVia) -> RouteProposalReport {
        RouteProposalReport {
            id,
            state: "CONFIGURED".to_owned(),
            prefix: ip(prefix),
            prefix_len: 64,
            via,
            lifetime: 600,
            preference: RouterPreference::High,
            timeout: Some(300),
            updated_ago: 2,
        }
    }

    fn sample() -> InterfaceReport {
        InterfaceReport {
            index: 7,
            name: "eth0".to_owned(),
            running: true,
            temporary: false,
            hw_address: vec![2, 0, 0, 0, 0, 1],
            link_local: None,
            routers: vec![RouterReport {
                source: ip("fe80::1"),
                received_ago: 3,
                cur_hop_limit: 64,
                managed: false,
                other: true,
                router_lifetime: 1800,
                preference: RouterPreference::Low,
                reachable_time: 0,
                retrans_timer: 0,
                mtu: 1480,
                prefixes: Vec::new(),
                rdnss: Vec::new(),
                dnssl: vec![DnsslReport {
                    domain: "example.org".to_owned(),
                    lifetime: 900,
                }],
                routes: vec![RouteInformationReport {
                    prefix: ip("2001:db8:5::"),
                    prefix_len: 48,
                    preference: RouterPreference::High,
                    lifetime: 1200,
                }],
                pref64: vec![Pref64Report {
                    prefix: ip("64:ff9b::"),
                    prefix_len: 96,
                    lifetime: 1800,
                }],
                captive_portal: Some("https://portal.example/".to_owned()),
            }],
            address_proposals: Vec::new(),
            default_route_proposals: Vec::new(),
            route_proposals: vec![
                route(1, "2001:db8:1::", RouteVia::OnLink),
                route(2, "2001:db8:2::", RouteVia::Router(ip("fe80::1"))),
            ],
            mtu: Some(1480),
            dns_servers: vec![ip("2001:db8::53")],
            search_domains: vec!["example.org".to_owned()],
            dropped: Vec::new(),
        }
    }

    fn written(report: InterfaceReport) -> capnp::message::Builder<capnp::message::HeapAllocator> {
        let mut message = capnp::message::Builder::new_default();
        let root: capnp::any_pointer::Builder<'_> = message.init_root();
        write(&[report], root.initn_as(1));
        message
    }

    fn first(
        message: &capnp::message::Builder<capnp::message::HeapAllocator>,
    ) -> interface_report::Reader<'_> {
        let root: capnp::any_pointer::Reader<'_> = message.get_root_as_reader().unwrap();
        let list: struct_list::Reader<'_, interface_report::Owned> = root.get_as().unwrap();
        list.get(0)
    }

    fn via(key: route_key::Reader<'_>) -> RouteVia {
        match key.get_via().which().unwrap() {
            route_key::via::OnLink(()) => RouteVia::OnLink,
            route_key::via::Router(router) => RouteVia::Router(read_ip6(router.unwrap())),
        }
    }

    #[test]
    fn every_new_field_reaches_the_schema() {
        let message = written(sample());
        let report = first(&message);
        assert_eq!(report.get_mtu(), 1480);
        let servers = report.get_dns_servers().unwrap();
        assert_eq!(read_ip6(servers.get(0)), ip("2001:db8::53"));
        let domains = report.get_search_domains().unwrap();
        assert_eq!(domains.get(0).unwrap().to_str().unwrap(), "example.org");

        let routes = report.get_route_proposals().unwrap();
        assert_eq!(routes.len(), 2);
        let on_link = routes.get(0);
        assert_eq!(on_link.get_id(), 1);
        assert_eq!(on_link.get_state().unwrap().to_str().unwrap(), "CONFIGURED");
        let key = on_link.get_key().unwrap();
        assert_eq!(key.get_if_index(), 7);
        assert_eq!(read_ip6(key.get_prefix().unwrap()), ip("2001:db8:1::"));
        assert_eq!(key.get_prefix_length(), 64);
        assert_eq!(via(key), RouteVia::OnLink);
        assert_eq!(on_link.get_lifetime(), 600);
        assert_eq!(on_link.get_updated_ago(), 2);
        let through_router = routes.get(1).get_key().unwrap();
        assert_eq!(via(through_router), RouteVia::Router(ip("fe80::1")));

        let router = report.get_routers().unwrap().get(0);
        let dnssl = router.get_dnssl().unwrap().get(0);
        assert_eq!(dnssl.get_domain().unwrap().to_str().unwrap(), "example.org");
        assert_eq!(dnssl.get_lifetime(), 900);
        let rio = router.get_routes().unwrap().get(0);
        assert_eq!(read_ip6(rio.get_prefix().unwrap()), ip("2001:db8:5::"));
        assert_eq!(rio.get_prefix_length(), 48);
        assert_eq!(rio.get_lifetime(), 1200);
        let nat64 = router.get_pref64().unwrap().get(0);
        assert_eq!(read_ip6(nat64.get_prefix().unwrap()), ip("64:ff9b::"));
        assert_eq!(nat64.get_prefix_length(), 96);
        assert_eq!(nat64.get_lifetime(), 1800);
        assert_eq!(
            router.get_captive_portal().unwrap().to_str().unwrap(),
            "https://portal.example/"
        );
    }

    #[test]
    fn absent_values_are_written_as_the_schema_says() {
        let mut sample = sample();
        sample.mtu = None;
        sample.routers[0].captive_portal = None;
        let message = written(sample);
        let report = first(&message);
        assert_eq!(report.get_mtu(), 0);
        let router = report.get_routers().unwrap().get(0);
        assert!(router.get_captive_portal().unwrap().is_empty());
    }
}
