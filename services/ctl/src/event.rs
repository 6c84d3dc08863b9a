//! The plain Rust model of what `slaacctl monitor` receives: batches of
//! events (advertisements taken in or dropped, solicitations, proposals and
//! the parent's answers to them), with the count of events the daemon lost
//! before each batch.
//!
//! Both monitor printers format this model and nothing else, so they can be
//! tested without Cap'n Proto. Its serde form is the `--json` line format.

use std::net::Ipv6Addr;

use serde::Serialize;

use crate::report::{Preference, Via};

/// One `events` call from the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Events the daemon dropped just before these (its queue for this
    /// listener was full).
    pub lost: u64,
    pub events: Vec<Event>,
}

/// One thing that happened on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Microseconds since the Unix epoch, by the daemon's clock.
    pub time: u64,
    pub if_index: u32,
    /// Empty when the daemon no longer knows the interface.
    pub if_name: String,
    #[serde(flatten)]
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "event",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum What {
    /// An advertisement passed the checks and is taken in.
    Advertisement {
        source: Ipv6Addr,
        router_lifetime: u16,
        preference: Preference,
    },
    /// A whole advertisement (from `source`) or one of its entries (no
    /// source) was dropped, counted under `reason`.
    Dropped {
        reason: String,
        /// A cap was reached.
        limit: bool,
        source: Option<Ipv6Addr>,
        /// How many drops the event stands for: more than one when the
        /// daemon summed a burst up (`source` is then the last one's). Left
        /// out of the JSON line when 1.
        #[serde(skip_serializing_if = "is_one")]
        count: u64,
    },
    /// A Router Solicitation is to be sent.
    Solicitation,
    /// The daemon proposed a change to the kernel.
    Proposed(Proposal),
    /// The daemon's parent carried the proposal out.
    Applied(Proposal),
    /// The daemon's parent could not carry the proposal out.
    Failed {
        #[serde(flatten)]
        proposal: Proposal,
        error: String,
    },
}

fn is_one(count: &u64) -> bool {
    *count == 1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    pub change: Change,
    #[serde(flatten)]
    pub item: Item,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Created,
    Updated,
    Withdrawn,
}

/// What a proposal is about. A withdrawal carries only what names it
/// (lifetimes 0, flags false, preference medium).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Item {
    Address {
        address: Ipv6Addr,
        prefix_length: u8,
        valid_lifetime: u32,
        preferred_lifetime: u32,
        temporary: bool,
    },
    DefaultRoute {
        router: Ipv6Addr,
        lifetime: u32,
        preference: Preference,
    },
    Route {
        prefix: Ipv6Addr,
        prefix_length: u8,
        via: Via,
        lifetime: u32,
        preference: Preference,
    },
    Mtu {
        mtu: u32,
    },
    LinkParameters {
        cur_hop_limit: u8,
        /// Milliseconds.
        reachable_time: u32,
        /// Milliseconds.
        retrans_timer: u32,
    },
    Dns {
        servers: Vec<Ipv6Addr>,
        search_domains: Vec<String>,
    },
}
