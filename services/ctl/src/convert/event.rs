//! Turns the daemon's Cap'n Proto `events` call into the plain model of
//! `event`. This is the only place that reads the schema's monitor structs.
//!
//! Like the report conversion it must never trust the daemon to be
//! well-formed: a bad enum value or union tag becomes an error, never a panic.

use capnp::struct_list;
use slaacd_ipc::convert::read_ip6;
use slaacd_ipc::slaacd_capnp::{
    ProposalChange, monitor_event, monitored_drop, monitored_proposal, route_key,
};

use super::{preference, text};
use crate::event::{Batch, Change, Event, Item, Proposal, What};
use crate::report::Via;

/// Converts one `events` call.
pub fn batch(
    events: struct_list::Reader<'_, monitor_event::Owned>,
    lost: u64,
) -> capnp::Result<Batch> {
    Ok(Batch {
        lost,
        events: events.iter().map(event).collect::<capnp::Result<_>>()?,
    })
}

fn event(r: monitor_event::Reader<'_>) -> capnp::Result<Event> {
    let what = match r.which()? {
        monitor_event::Advertisement(a) => {
            let a = a?;
            What::Advertisement {
                source: read_ip6(a.get_source()?),
                router_lifetime: a.get_router_lifetime(),
                preference: preference(a.get_preference()?),
            }
        }
        monitor_event::Dropped(d) => {
            let d = d?;
            What::Dropped {
                reason: text(d.get_reason()?),
                limit: d.get_limit(),
                source: match d.get_what().which()? {
                    monitored_drop::what::Advertisement(source) => Some(read_ip6(source?)),
                    monitored_drop::what::Entry(()) => None,
                },
                count: d.get_count(),
            }
        }
        monitor_event::Solicitation(()) => What::Solicitation,
        monitor_event::Proposed(p) => What::Proposed(proposal(p?)?),
        monitor_event::Applied(p) => What::Applied(proposal(p?)?),
        monitor_event::Failed(f) => {
            let f = f?;
            What::Failed {
                proposal: proposal(f.get_proposal()?)?,
                error: text(f.get_error()?),
            }
        }
    };
    Ok(Event {
        time: r.get_time(),
        if_index: r.get_if_index(),
        if_name: text(r.get_if_name()?),
        what,
    })
}

fn proposal(r: monitored_proposal::Reader<'_>) -> capnp::Result<Proposal> {
    let change = match r.get_change()? {
        ProposalChange::Created => Change::Created,
        ProposalChange::Updated => Change::Updated,
        ProposalChange::Withdrawn => Change::Withdrawn,
    };
    let item = match r.which()? {
        monitored_proposal::Address(a) => {
            let a = a?;
            Item::Address {
                address: read_ip6(a.get_address()?),
                prefix_length: a.get_prefix_length(),
                valid_lifetime: a.get_valid_lifetime(),
                preferred_lifetime: a.get_preferred_lifetime(),
                temporary: a.get_temporary(),
            }
        }
        monitored_proposal::DefaultRoute(d) => {
            let d = d?;
            Item::DefaultRoute {
                router: read_ip6(d.get_router()?),
                lifetime: d.get_lifetime(),
                preference: preference(d.get_preference()?),
            }
        }
        monitored_proposal::Route(route) => {
            let route = route?;
            let key = route.get_key()?;
            Item::Route {
                prefix: read_ip6(key.get_prefix()?),
                prefix_length: key.get_prefix_length(),
                via: match key.get_via().which()? {
                    route_key::via::OnLink(()) => Via::OnLink,
                    route_key::via::Router(router) => Via::Router(read_ip6(router?)),
                },
                lifetime: route.get_lifetime(),
                preference: preference(route.get_preference()?),
            }
        }
        monitored_proposal::Mtu(mtu) => Item::Mtu { mtu },
        monitored_proposal::LinkParameters(p) => {
            let p = p?;
            Item::LinkParameters {
                cur_hop_limit: p.get_cur_hop_limit(),
                reachable_time: p.get_reachable_time(),
                retrans_timer: p.get_retrans_timer(),
            }
        }
        monitored_proposal::Dns(d) => {
            let d = d?;
            Item::Dns {
                servers: d.get_servers()?.iter().map(read_ip6).collect(),
                search_domains: d
                    .get_search_domains()?
                    .iter()
                    .map(|domain| domain.map(text))
                    .collect::<capnp::Result<_>>()?,
            }
        }
    };
    Ok(Proposal { change, item })
}
