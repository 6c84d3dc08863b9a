//! The engine's events for `slaacctl monitor`: what it saw (advertisements
//! taken in or dropped, entries rejected) and what it decided (every output
//! it queued, as a created, updated or withdrawn proposal), as plain data
//! labelled with the interface they happened on.
//!
//! Recording is off until the caller turns it on, so nothing is built for
//! events nobody watches; while it is on, the caller must drain the events
//! after every step ([`crate::Engine::poll_event`]). This module must never
//! change what the engine decides.

use std::collections::VecDeque;
use std::net::Ipv6Addr;

use slaacd_wire::RouterPreference;

use crate::event::Output;

/// One thing that happened on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorEvent {
    /// The interface's index.
    pub index: u32,
    /// The interface's name, as the frontend last reported it.
    pub name: String,
    pub happening: Happening,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    /// An advertisement passed every check and is being taken in.
    AdvertisementReceived {
        source: Ipv6Addr,
        /// Seconds; 0 means "not a default router".
        router_lifetime: u16,
        preference: RouterPreference,
    },
    /// A whole advertisement was dropped; `reason` is the name it is counted
    /// under in the interface's drop counters.
    AdvertisementDropped {
        source: Ipv6Addr,
        reason: &'static str,
    },
    /// One entry of an advertisement (a prefix, route, DNS server or domain,
    /// the MTU), or an address to be made from one, was rejected; counted
    /// under `reason` too.
    EntryRejected { reason: &'static str },
    /// A Router Solicitation is to be sent.
    Solicitation,
    /// A change proposed to the kernel (any output but a solicitation).
    Proposal {
        change: ProposalChange,
        output: Output,
    },
}

/// What a proposal does to what the kernel has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalChange {
    /// Proposed for the first time, or again after it was lost (deleted by
    /// someone else, or replaced after a DAD failure).
    Created,
    /// Proposed again: a refresh of its lifetimes, a new preference, a new
    /// MTU, DNS set or link parameters.
    Updated,
    /// Taken back; for DNS, an empty set.
    Withdrawn,
}

/// Whether a drop reason means a cap was reached (the new router or entry
/// was refused, nothing evicted): those reasons end in `-limit`.
pub fn is_limit(reason: &str) -> bool {
    reason.ends_with("-limit")
}

/// What the engine records while monitoring is on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Monitor {
    enabled: bool,
    /// What happened during the current step, before the engine labels it
    /// with the interface the step worked on.
    unlabelled: Vec<Happening>,
    events: VecDeque<MonitorEvent>,
}

impl Monitor {
    /// Records a happening; `happening` is only called while monitoring.
    pub(crate) fn record(&mut self, happening: impl FnOnce() -> Happening) {
        if self.enabled {
            self.unlabelled.push(happening());
        }
    }

    /// Records the proposal or solicitation `output` is.
    pub(crate) fn record_output(&mut self, output: &Output, change: ProposalChange) {
        self.record(|| match output {
            Output::SendSolicitation { .. } => Happening::Solicitation,
            output => Happening::Proposal {
                change,
                output: output.clone(),
            },
        });
    }

    /// Gives what was recorded since the last call the interface it
    /// happened on.
    pub(crate) fn label(&mut self, index: u32, name: &str) {
        self.events
            .extend(self.unlabelled.drain(..).map(|happening| MonitorEvent {
                index,
                name: name.to_owned(),
                happening,
            }));
    }

    /// Turning it off forgets what was not drained yet.
    pub(crate) fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if !enabled {
            self.unlabelled.clear();
            self.events.clear();
        }
    }

    pub(crate) fn poll(&mut self) -> Option<MonitorEvent> {
        self.events.pop_front()
    }
}

/// The change a plain (not newly created) output makes.
pub(crate) fn change_of(output: &Output) -> ProposalChange {
    match output {
        Output::WithdrawAddress { .. }
        | Output::WithdrawDefaultRoute { .. }
        | Output::WithdrawRoute { .. } => ProposalChange::Withdrawn,
        Output::ConfigureDns {
            servers,
            search_domains,
            ..
        } if servers.is_empty() && search_domains.is_empty() => ProposalChange::Withdrawn,
        _ => ProposalChange::Updated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_recorded_while_off() {
        let mut monitor = Monitor::default();
        monitor.record(|| Happening::Solicitation);
        monitor.label(1, "eth0");
        assert_eq!(monitor.poll(), None);
    }

    #[test]
    fn events_get_the_interface_of_their_step() {
        let mut monitor = Monitor::default();
        monitor.set_enabled(true);
        monitor.record(|| Happening::Solicitation);
        monitor.label(1, "eth0");
        monitor.record(|| Happening::EntryRejected {
            reason: "routes-limit",
        });
        monitor.label(2, "eth1");
        let first = monitor.poll().unwrap();
        assert_eq!((first.index, first.name.as_str()), (1, "eth0"));
        let second = monitor.poll().unwrap();
        assert_eq!((second.index, second.name.as_str()), (2, "eth1"));
        assert_eq!(monitor.poll(), None);
    }

    #[test]
    fn turning_off_forgets_undrained_events() {
        let mut monitor = Monitor::default();
        monitor.set_enabled(true);
        monitor.record(|| Happening::Solicitation);
        monitor.label(1, "eth0");
        monitor.set_enabled(false);
        monitor.set_enabled(true);
        assert_eq!(monitor.poll(), None);
    }

    #[test]
    fn withdrawals_and_empty_dns_sets_are_withdrawn() {
        let withdraw = Output::WithdrawDefaultRoute {
            index: 1,
            router: "fe80::1".parse().unwrap(),
        };
        assert_eq!(change_of(&withdraw), ProposalChange::Withdrawn);
        let empty = Output::ConfigureDns {
            index: 1,
            servers: vec![],
            search_domains: vec![],
        };
        assert_eq!(change_of(&empty), ProposalChange::Withdrawn);
        let mtu = Output::ConfigureMtu {
            index: 1,
            mtu: 1400,
        };
        assert_eq!(change_of(&mtu), ProposalChange::Updated);
    }

    #[test]
    fn limit_reasons() {
        assert!(is_limit("routers-limit"));
        assert!(is_limit("dns-servers-limit"));
        assert!(!is_limit("source-not-link-local"));
    }
}
