//! The plain Rust model of a `show interface` reply: what the daemon reported
//! about each interface, its routers and their options, its proposals, the
//! MTU and DNS configuration learnt, and the Router Advertisements dropped;
//! and the managed interfaces that do not exist now.
//!
//! Both printers format this model and nothing else, so they can be tested
//! without Cap'n Proto. It must never hold wall-clock times: the daemon reports
//! ages in seconds, and only the text printer turns them into dates.

use std::fmt;
use std::net::Ipv6Addr;

use serde::{Serialize, Serializer};

/// A whole `show interface` reply: what the daemon reported about each
/// interface, then the names it manages that no interface has now (a USB
/// adapter not plugged in, a veth not made yet). Those have no report: they
/// have no index and no state, so they are names beside the reports, not
/// reports with fields missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShowReply {
    pub interfaces: Vec<InterfaceReport>,
    pub absent: Vec<String>,
}

/// One interface as reported by the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InterfaceReport {
    pub if_index: u32,
    /// The interface name; empty when the daemon does not know it.
    pub name: String,
    /// Administratively up with carrier.
    pub running: bool,
    /// Whether temporary (RFC 8981) addresses are made on it.
    pub temporary: bool,
    /// The link-layer address; `None` when the interface has none.
    pub hw_address: Option<HwAddress>,
    /// The link-local address; `None` while it has none.
    pub link_local: Option<Ipv6Addr>,
    pub routers: Vec<RouterReport>,
    pub address_proposals: Vec<AddressProposalReport>,
    pub default_route_proposals: Vec<DefaultRouteProposalReport>,
    pub route_proposals: Vec<RouteProposalReport>,
    /// The MTU slaacd set from an RA, in bytes; 0 when none.
    pub mtu: u32,
    /// The DNS configuration learnt on the interface.
    pub dns_servers: Vec<Ipv6Addr>,
    pub search_domains: Vec<String>,
    /// Router Advertisements dropped on the interface, by reason.
    pub dropped: Vec<DropCounter>,
}

/// How many Router Advertisements were dropped for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DropCounter {
    pub reason: String,
    pub count: u64,
}

/// A link-layer address, shown as colon-separated hex bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwAddress(pub Vec<u8>);

impl fmt::Display for HwAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for HwAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// RFC 4191 default router preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preference {
    Low,
    Medium,
    High,
}

impl fmt::Display for Preference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preference::Low => "Low",
            Preference::Medium => "Medium",
            Preference::High => "High",
        })
    }
}

/// The last Router Advertisement received from one router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterReport {
    pub source: Ipv6Addr,
    /// Seconds between receiving the RA and making the report.
    pub received_ago: u32,
    pub cur_hop_limit: u8,
    /// The M (managed address configuration) flag.
    pub managed: bool,
    /// The O (other configuration) flag.
    pub other: bool,
    /// Seconds.
    pub router_lifetime: u16,
    pub preference: Preference,
    /// Milliseconds.
    pub reachable_time: u32,
    /// Milliseconds.
    pub retrans_timer: u32,
    /// Bytes; 0 when the RA had no MTU option.
    pub mtu: u32,
    pub prefixes: Vec<PrefixReport>,
    pub rdnss: Vec<RdnssReport>,
    pub dnssl: Vec<DnsslReport>,
    /// RFC 4191 Route Information options.
    pub routes: Vec<RouteInformationReport>,
    /// RFC 8781 NAT64 prefixes.
    pub pref64: Vec<Pref64Report>,
    /// The RFC 8910 captive portal URI; `None` when the RA had none.
    pub captive_portal: Option<String>,
}

/// A Prefix Information option of an RA. Lifetimes in seconds, 0xffffffff is
/// infinite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrefixReport {
    pub prefix: Ipv6Addr,
    pub prefix_length: u8,
    pub on_link: bool,
    pub autonomous: bool,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
}

/// A recursive DNS server from an RDNSS option; lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RdnssReport {
    pub server: Ipv6Addr,
    pub lifetime: u32,
}

/// A search domain from a DNSSL option; lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsslReport {
    pub domain: String,
    pub lifetime: u32,
}

/// A Route Information option (RFC 4191); lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteInformationReport {
    pub prefix: Ipv6Addr,
    pub prefix_length: u8,
    pub preference: Preference,
    pub lifetime: u32,
}

/// A NAT64 prefix from a PREF64 option (RFC 8781); lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pref64Report {
    pub prefix: Ipv6Addr,
    pub prefix_length: u8,
    pub lifetime: u32,
}

/// An address the engine proposed (or configured) on the interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressProposalReport {
    pub id: u64,
    pub state: String,
    pub temporary: bool,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
    /// Seconds until the proposal's next timer, if one is armed.
    pub timeout: Option<u32>,
    pub updated_ago: u32,
    pub address: Ipv6Addr,
    pub prefix: Ipv6Addr,
    pub prefix_length: u8,
}

/// A default route the engine proposed (or configured) on the interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultRouteProposalReport {
    pub id: u64,
    pub state: String,
    pub router: Ipv6Addr,
    pub router_lifetime: u32,
    pub preference: Preference,
    /// Seconds until the proposal's next timer, if one is armed.
    pub timeout: Option<u32>,
    pub updated_ago: u32,
}

/// A route the engine proposed (or configured) on the interface: an on-link
/// prefix, or a Route Information route through a router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteProposalReport {
    pub id: u64,
    pub state: String,
    pub prefix: Ipv6Addr,
    pub prefix_length: u8,
    pub via: Via,
    pub lifetime: u32,
    pub preference: Preference,
    /// Seconds until the proposal's next timer, if one is armed.
    pub timeout: Option<u32>,
    pub updated_ago: u32,
}

/// How a route is reached. Shown, and written in JSON, as `on-link` or as the
/// router's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    OnLink,
    Router(Ipv6Addr),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::OnLink => f.write_str("on-link"),
            Via::Router(address) => write!(f, "{address}"),
        }
    }
}

impl Serialize for Via {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hw_address_is_zero_padded_hex() {
        let mac = HwAddress(vec![0x52, 0x54, 0x00, 0x0a, 0xbc, 0x01]);
        assert_eq!(mac.to_string(), "52:54:00:0a:bc:01");
        assert_eq!(HwAddress(vec![7]).to_string(), "07");
    }

    #[test]
    fn via_reads_as_on_link_or_the_router() {
        assert_eq!(Via::OnLink.to_string(), "on-link");
        let router = Via::Router("fe80::1".parse().unwrap());
        assert_eq!(router.to_string(), "fe80::1");
        assert_eq!(serde_json::to_string(&router).unwrap(), "\"fe80::1\"");
    }
}
