//! What `slaacctl show interface` shows, mirroring the schema's
//! InterfaceReport and its parts field for field. Ages and lifetimes are whole
//! seconds relative to the `now` the report was made at; `u32::MAX` is
//! infinite. Plain data only: building it must never change engine state.

use std::net::Ipv6Addr;

use slaacd_wire::RouterPreference;

use crate::proposal::RouteVia;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceReport {
    pub index: u32,
    pub name: String,
    pub running: bool,
    /// Whether temporary (RFC 8981) addresses are made on this interface.
    pub temporary: bool,
    pub hw_address: Vec<u8>,
    pub link_local: Option<Ipv6Addr>,
    pub routers: Vec<RouterReport>,
    pub address_proposals: Vec<AddressProposalReport>,
    pub default_route_proposals: Vec<DefaultRouteProposalReport>,
    /// On-link prefix routes, then Route Information routes.
    pub route_proposals: Vec<RouteProposalReport>,
    /// The IPv6 MTU last proposed, if any.
    pub mtu: Option<u32>,
    /// The DNS servers and search domains last proposed.
    pub dns_servers: Vec<Ipv6Addr>,
    pub search_domains: Vec<String>,
    /// Dropped advertisements and rejected entries, by reason, sorted by
    /// reason (e.g. "option-length-zero", "source-not-link-local",
    /// "routers-limit").
    pub dropped: Vec<(String, u64)>,
}

/// The last advertisement of one router, as advertised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterReport {
    pub source: Ipv6Addr,
    pub received_ago: u32,
    pub cur_hop_limit: u8,
    pub managed: bool,
    pub other: bool,
    pub router_lifetime: u16,
    pub preference: RouterPreference,
    pub reachable_time: u32,
    pub retrans_timer: u32,
    /// 0 when the advertisement carried no MTU option.
    pub mtu: u32,
    pub prefixes: Vec<PrefixReport>,
    pub rdnss: Vec<RdnssReport>,
    pub dnssl: Vec<DnsslReport>,
    /// RFC 4191 Route Information options.
    pub routes: Vec<RouteInformationReport>,
    /// RFC 8781 NAT64 prefixes.
    pub pref64: Vec<Pref64Report>,
    /// RFC 8910 captive portal URI (the first one, if several).
    pub captive_portal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixReport {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub on_link: bool,
    pub autonomous: bool,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdnssReport {
    pub server: Ipv6Addr,
    pub lifetime: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsslReport {
    pub domain: String,
    pub lifetime: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInformationReport {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub preference: RouterPreference,
    pub lifetime: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pref64Report {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    /// Seconds.
    pub lifetime: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressProposalReport {
    pub id: u64,
    /// "CONFIGURED", "DEPRECATED" (preferred lifetime over), "WITHDRAWN"
    /// (removed from the kernel by someone else; the next advertisement
    /// restores it) or "DUPLICATED" (DAD failed IDGEN_RETRIES times: given up
    /// until the prefix expires).
    pub state: String,
    pub temporary: bool,
    /// Seconds left.
    pub valid_lifetime: u32,
    /// Seconds left.
    pub preferred_lifetime: u32,
    /// Seconds until the proposal's next timer, if one is armed.
    pub timeout: Option<u32>,
    pub updated_ago: u32,
    pub address: Ipv6Addr,
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRouteProposalReport {
    pub id: u64,
    /// "CONFIGURED".
    pub state: String,
    pub router: Ipv6Addr,
    /// Seconds left.
    pub router_lifetime: u32,
    pub preference: RouterPreference,
    pub timeout: Option<u32>,
    pub updated_ago: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteProposalReport {
    pub id: u64,
    /// "CONFIGURED".
    pub state: String,
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub via: RouteVia,
    /// Seconds left.
    pub lifetime: u32,
    pub preference: RouterPreference,
    pub timeout: Option<u32>,
    pub updated_ago: u32,
}
