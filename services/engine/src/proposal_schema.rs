//! The core's proposals written into their schema structs, once, for both
//! places that send them: the calls on the parent's `Kernel` and the events
//! of `slaacctl monitor`. A field-for-field copy; it must never decide
//! anything.

use std::net::Ipv6Addr;

use slaacd_core::{AddressProposal, DefaultRouteProposal, RouteProposal, RouteVia};
use slaacd_ipc::convert::{preference_to_schema, write_ip6};
use slaacd_ipc::slaacd_capnp::{
    address_proposal, default_route_proposal, link_parameters, route_key, route_proposal,
};

pub(crate) fn write_address(mut b: address_proposal::Builder<'_>, proposal: &AddressProposal) {
    b.set_if_index(proposal.index);
    write_ip6(b.reborrow().init_address(), proposal.address);
    b.set_prefix_length(proposal.prefix_len);
    b.set_valid_lifetime(proposal.valid_lifetime);
    b.set_preferred_lifetime(proposal.preferred_lifetime);
    b.set_temporary(proposal.temporary);
}

pub(crate) fn write_default_route(
    mut b: default_route_proposal::Builder<'_>,
    route: &DefaultRouteProposal,
) {
    b.set_if_index(route.index);
    write_ip6(b.reborrow().init_router(), route.router);
    b.set_lifetime(route.lifetime);
    b.set_preference(preference_to_schema(route.preference));
}

pub(crate) fn write_route(mut b: route_proposal::Builder<'_>, route: &RouteProposal) {
    write_route_key(
        b.reborrow().init_key(),
        route.index,
        route.prefix,
        route.prefix_len,
        route.via,
    );
    b.set_lifetime(route.lifetime);
    b.set_preference(preference_to_schema(route.preference));
}

pub(crate) fn write_route_key(
    mut key: route_key::Builder<'_>,
    index: u32,
    prefix: Ipv6Addr,
    prefix_len: u8,
    via: RouteVia,
) {
    key.set_if_index(index);
    write_ip6(key.reborrow().init_prefix(), prefix);
    key.set_prefix_length(prefix_len);
    match via {
        RouteVia::OnLink => key.init_via().set_on_link(()),
        RouteVia::Router(router) => write_ip6(key.init_via().init_router(), router),
    }
}

/// The RA's hop limit, reachable time and retransmission timer for an
/// interface (0: unspecified).
pub(crate) fn write_link_parameters(
    mut b: link_parameters::Builder<'_>,
    index: u32,
    cur_hop_limit: u8,
    reachable_time: u32,
    retrans_timer: u32,
) {
    b.set_if_index(index);
    b.set_cur_hop_limit(cur_hop_limit);
    b.set_reachable_time(reachable_time);
    b.set_retrans_timer(retrans_timer);
}
