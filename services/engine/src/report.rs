//! Writes the core's interface reports into the schema's `InterfaceReport`
//! list for `slaacctl show interface`. A field-for-field copy, nothing more.

use capnp::struct_list;
use slaacd_core::{
    AddressProposalReport, DefaultRouteProposalReport, InterfaceReport, PrefixReport, RdnssReport,
    RouterReport,
};
use slaacd_ipc::convert::{preference_to_schema, write_ip6};
use slaacd_ipc::slaacd_capnp::{
    address_proposal_report, default_route_proposal_report, interface_report, prefix_report,
    rdnss_report, router_report,
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
    let mut servers = b.init_rdnss(r.rdnss.len() as u32);
    for (i, s) in r.rdnss.iter().enumerate() {
        rdnss(s, servers.reborrow().get(i as u32));
    }
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
