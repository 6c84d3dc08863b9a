//! Turns the daemon's Cap'n Proto `InterfaceReport` list into the plain model of
//! `report`. This is the only place that reads the schema's report structs.
//!
//! It must never trust the daemon to be well-formed: a bad enum value or union
//! tag becomes an error, and text that is not UTF-8 is shown lossily, never a
//! panic.

use std::net::Ipv6Addr;

use capnp::struct_list;
use slaacd_ipc::slaacd_capnp::{
    RouterPreference, address_proposal_report, default_route_proposal_report, interface_report,
    ip6, prefix_report, rdnss_report, router_report,
};

use crate::report::{
    AddressProposalReport, DefaultRouteProposalReport, HwAddress, InterfaceReport, Preference,
    PrefixReport, RdnssReport, RouterReport,
};

/// Converts a whole `showInterfaces` reply.
pub fn interfaces(
    list: struct_list::Reader<'_, interface_report::Owned>,
) -> capnp::Result<Vec<InterfaceReport>> {
    list.iter().map(interface).collect()
}

fn interface(r: interface_report::Reader<'_>) -> capnp::Result<InterfaceReport> {
    let hw_address = r.get_hw_address()?;
    Ok(InterfaceReport {
        if_index: r.get_if_index(),
        name: String::from_utf8_lossy(r.get_name()?.as_bytes()).into_owned(),
        running: r.get_running(),
        temporary: r.get_temporary(),
        hw_address: (!hw_address.is_empty()).then(|| HwAddress(hw_address.to_vec())),
        link_local: match r.get_link_local().which()? {
            interface_report::link_local::None(()) => None,
            interface_report::link_local::Address(address) => Some(ip6_addr(address?)),
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
    })
}

fn router(r: router_report::Reader<'_>) -> capnp::Result<RouterReport> {
    Ok(RouterReport {
        source: ip6_addr(r.get_source()?),
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
    })
}

fn prefix(r: prefix_report::Reader<'_>) -> capnp::Result<PrefixReport> {
    Ok(PrefixReport {
        prefix: ip6_addr(r.get_prefix()?),
        prefix_length: r.get_prefix_length(),
        on_link: r.get_on_link(),
        autonomous: r.get_autonomous(),
        valid_lifetime: r.get_valid_lifetime(),
        preferred_lifetime: r.get_preferred_lifetime(),
    })
}

fn rdnss(r: rdnss_report::Reader<'_>) -> capnp::Result<RdnssReport> {
    Ok(RdnssReport {
        server: ip6_addr(r.get_server()?),
        lifetime: r.get_lifetime(),
    })
}

fn address_proposal(
    r: address_proposal_report::Reader<'_>,
) -> capnp::Result<AddressProposalReport> {
    Ok(AddressProposalReport {
        id: r.get_id(),
        state: String::from_utf8_lossy(r.get_state()?.as_bytes()).into_owned(),
        temporary: r.get_temporary(),
        valid_lifetime: r.get_valid_lifetime(),
        preferred_lifetime: r.get_preferred_lifetime(),
        timeout: match r.get_timeout().which()? {
            address_proposal_report::timeout::None(()) => None,
            address_proposal_report::timeout::Seconds(seconds) => Some(seconds),
        },
        updated_ago: r.get_updated_ago(),
        address: ip6_addr(r.get_address()?),
        prefix: ip6_addr(r.get_prefix()?),
        prefix_length: r.get_prefix_length(),
    })
}

fn default_route_proposal(
    r: default_route_proposal_report::Reader<'_>,
) -> capnp::Result<DefaultRouteProposalReport> {
    Ok(DefaultRouteProposalReport {
        id: r.get_id(),
        state: String::from_utf8_lossy(r.get_state()?.as_bytes()).into_owned(),
        router: ip6_addr(r.get_router()?),
        router_lifetime: r.get_router_lifetime(),
        preference: preference(r.get_preference()?),
        timeout: match r.get_timeout().which()? {
            default_route_proposal_report::timeout::None(()) => None,
            default_route_proposal_report::timeout::Seconds(seconds) => Some(seconds),
        },
        updated_ago: r.get_updated_ago(),
    })
}

fn preference(p: RouterPreference) -> Preference {
    match p {
        RouterPreference::Low => Preference::Low,
        RouterPreference::Medium => Preference::Medium,
        RouterPreference::High => Preference::High,
    }
}

fn ip6_addr(r: ip6::Reader<'_>) -> Ipv6Addr {
    Ipv6Addr::from((u128::from(r.get_high()) << 64) | u128::from(r.get_low()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slaacd_ipc::slaacd_capnp::control;

    fn set_ip6(mut b: ip6::Builder<'_>, address: Ipv6Addr) {
        let bits = u128::from(address);
        b.set_high((bits >> 64) as u64);
        b.set_low(bits as u64);
    }

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
        set_ip6(
            i.reborrow().get_link_local().init_address(),
            "fe80::1".parse().unwrap(),
        );
        let mut r = i.reborrow().init_routers(1).get(0);
        set_ip6(r.reborrow().init_source(), "fe80::2".parse().unwrap());
        r.set_received_ago(5);
        r.set_cur_hop_limit(64);
        r.set_managed(true);
        r.set_router_lifetime(1800);
        r.set_preference(RouterPreference::High);
        r.set_mtu(1500);
        let mut p = r.reborrow().init_prefixes(1).get(0);
        set_ip6(p.reborrow().init_prefix(), "2001:db8::".parse().unwrap());
        p.set_prefix_length(64);
        p.set_on_link(true);
        p.set_valid_lifetime(u32::MAX);
        let mut d = r.init_rdnss(1).get(0);
        set_ip6(d.reborrow().init_server(), "2001:db8::53".parse().unwrap());
        d.set_lifetime(600);
        let mut a = i.reborrow().init_address_proposals(1).get(0);
        a.set_id(7);
        a.set_state("PROPOSAL_CONFIGURED");
        a.reborrow().get_timeout().set_seconds(30);
        set_ip6(a.reborrow().init_address(), "2001:db8::9".parse().unwrap());
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
        let address = &report.address_proposals[0];
        assert_eq!(address.state, "PROPOSAL_CONFIGURED");
        assert_eq!(address.timeout, Some(30));
        assert_eq!(address.address, "2001:db8::9".parse::<Ipv6Addr>().unwrap());
        let route = &report.default_route_proposals[0];
        assert_eq!((route.id, route.timeout), (8, None));
        assert_eq!(route.preference, Preference::Low);
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
    }
}
