//! The changes the engine proposes to the kernel, as plain data shared with the
//! parent that applies them.

use std::net::Ipv6Addr;

use slaacd_wire::RouterPreference;

/// An address to add, or to refresh in place when it exists already.
/// Lifetimes are in seconds; `u32::MAX` means infinite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressProposal {
    pub index: u32,
    pub address: Ipv6Addr,
    pub prefix_len: u8,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
    pub temporary: bool,
}

/// A default route via a router's link-local address, with the router
/// lifetime (seconds) as its expiry and the RFC 4191 preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRouteProposal {
    pub index: u32,
    pub router: Ipv6Addr,
    pub lifetime: u32,
    pub preference: RouterPreference,
}

/// How a route's destination is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteVia {
    /// Directly on the link: a Prefix Information option with the L flag
    /// (RFC 4861 6.3.4).
    OnLink,
    /// Through a router's link-local address: an RFC 4191 Route Information
    /// option.
    Router(Ipv6Addr),
}

/// A prefix route on the interface, with its lifetime (seconds; `u32::MAX`
/// is infinite) and preference (medium for on-link prefixes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteProposal {
    pub index: u32,
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub via: RouteVia,
    pub lifetime: u32,
    pub preference: RouterPreference,
}
