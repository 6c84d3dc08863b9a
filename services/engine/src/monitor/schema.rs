//! Writes monitor events into the schema's `MonitorEvent` list: a
//! field-for-field copy of the core's happenings and proposals and of the
//! frontend's drops, nothing more.

use capnp::struct_list;
use slaacd_core::{Happening, Output, ProposalChange, RouterPreference, is_limit};
use slaacd_ipc::convert::{preference_to_schema, write_ip6};
use slaacd_ipc::slaacd_capnp::{self as capnp_schema, monitor_event, monitored_proposal};

use super::{Event, What};
use crate::proposal_schema;

pub(super) fn write_events(
    mut list: struct_list::Builder<'_, monitor_event::Owned>,
    events: &[std::rc::Rc<Event>],
) {
    for (at, event) in (0..).zip(events) {
        write_event(list.reborrow().get(at), event);
    }
}

fn write_event(mut b: monitor_event::Builder<'_>, event: &Event) {
    b.set_time(event.time);
    b.set_if_index(event.index);
    b.set_if_name(&event.name);
    match &event.what {
        What::Core(Happening::AdvertisementReceived {
            source,
            router_lifetime,
            preference,
        }) => {
            let mut a = b.init_advertisement();
            write_ip6(a.reborrow().init_source(), *source);
            a.set_router_lifetime(*router_lifetime);
            a.set_preference(preference_to_schema(*preference));
        }
        What::Core(Happening::AdvertisementDropped { source, reason }) => {
            let mut d = b.init_dropped();
            d.set_reason(reason);
            d.set_limit(is_limit(reason));
            write_ip6(d.init_what().init_advertisement(), *source);
        }
        What::FrontendDrop {
            reason,
            last_source,
            count,
        } => {
            let mut d = b.init_dropped();
            d.set_reason(reason);
            d.set_limit(is_limit(reason));
            d.set_count(*count);
            write_ip6(d.init_what().init_advertisement(), *last_source);
        }
        What::Core(Happening::EntryRejected { reason }) => {
            let mut d = b.init_dropped();
            d.set_reason(reason);
            d.set_limit(is_limit(reason));
            d.init_what().set_entry(());
        }
        // A solicitation is never a proposal; should one come as such, it
        // is still told as what it is.
        What::Core(Happening::Solicitation)
        | What::Core(Happening::Proposal {
            output: Output::SendSolicitation { .. },
            ..
        })
        | What::Applied {
            output: Output::SendSolicitation { .. },
            ..
        }
        | What::Failed {
            output: Output::SendSolicitation { .. },
            ..
        } => b.set_solicitation(()),
        What::Core(Happening::Proposal { change, output }) => {
            write_proposal(b.init_proposed(), *change, output);
        }
        What::Applied { change, output } => write_proposal(b.init_applied(), *change, output),
        What::Failed {
            change,
            output,
            error,
        } => {
            let mut f = b.init_failed();
            f.set_error(error);
            write_proposal(f.init_proposal(), *change, output);
        }
    }
}

/// Writes a proposal; a solicitation (handled before) writes only the change.
fn write_proposal(mut b: monitored_proposal::Builder<'_>, change: ProposalChange, output: &Output) {
    b.set_change(match change {
        ProposalChange::Created => capnp_schema::ProposalChange::Created,
        ProposalChange::Updated => capnp_schema::ProposalChange::Updated,
        ProposalChange::Withdrawn => capnp_schema::ProposalChange::Withdrawn,
    });
    match output {
        Output::ConfigureAddress(proposal) => {
            proposal_schema::write_address(b.init_address(), proposal);
        }
        Output::WithdrawAddress {
            index,
            address,
            prefix_len,
        } => {
            let mut a = b.init_address();
            a.set_if_index(*index);
            write_ip6(a.reborrow().init_address(), *address);
            a.set_prefix_length(*prefix_len);
        }
        Output::ConfigureDefaultRoute(route) => {
            proposal_schema::write_default_route(b.init_default_route(), route);
        }
        Output::WithdrawDefaultRoute { index, router } => {
            let mut r = b.init_default_route();
            r.set_if_index(*index);
            write_ip6(r.reborrow().init_router(), *router);
            r.set_preference(preference_to_schema(RouterPreference::Medium));
        }
        Output::ConfigureRoute(route) => proposal_schema::write_route(b.init_route(), route),
        Output::WithdrawRoute {
            index,
            prefix,
            prefix_len,
            via,
        } => {
            let mut r = b.init_route();
            proposal_schema::write_route_key(
                r.reborrow().init_key(),
                *index,
                *prefix,
                *prefix_len,
                *via,
            );
            r.set_preference(preference_to_schema(RouterPreference::Medium));
        }
        Output::ConfigureMtu { mtu, .. } => b.set_mtu(*mtu),
        Output::ConfigureLinkParameters {
            index,
            cur_hop_limit,
            reachable_time,
            retrans_timer,
        } => proposal_schema::write_link_parameters(
            b.init_link_parameters(),
            *index,
            *cur_hop_limit,
            *reachable_time,
            *retrans_timer,
        ),
        Output::ConfigureDns {
            servers,
            search_domains,
            ..
        } => {
            let mut d = b.init_dns();
            let mut list = d.reborrow().init_servers(servers.len() as u32);
            for (at, server) in (0..).zip(servers) {
                write_ip6(list.reborrow().get(at), *server);
            }
            let mut list = d.init_search_domains(search_domains.len() as u32);
            for (at, domain) in (0..).zip(search_domains) {
                list.set(at, domain.as_str());
            }
        }
        Output::SendSolicitation { .. } => {}
    }
}
