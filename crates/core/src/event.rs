//! What goes into the engine and what comes out of it: plain data, so a test
//! or a fuzzer can replay any sequence. Never holds a handle to the outside.

use std::net::Ipv6Addr;

use crate::proposal::{AddressProposal, DefaultRouteProposal, RouteProposal, RouteVia};

/// What the frontend knows about a network interface from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceState {
    pub index: u32,
    pub name: String,
    /// Administratively up with carrier.
    pub running: bool,
    pub hw_address: Vec<u8>,
    pub link_local: Option<Ipv6Addr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The first one creates the interface; running false->true is a link-up.
    InterfaceUpdate(InterfaceState),
    InterfaceRemoved {
        index: u32,
    },
    /// A Router Advertisement from its ICMPv6 header on; hop limit already
    /// checked.
    RouterAdvertisement {
        index: u32,
        source: Ipv6Addr,
        packet: Vec<u8>,
    },
    /// The kernel removed an address (someone deleted it, or it expired).
    AddressDeleted {
        index: u32,
        address: Ipv6Addr,
    },
    DadFailed {
        index: u32,
        address: Ipv6Addr,
    },
    /// slaacctl "send solicitation": not rate limited.
    SolicitationRequested {
        index: u32,
    },
}

impl Input {
    /// The interface the input is about.
    pub fn index(&self) -> u32 {
        match self {
            Input::InterfaceUpdate(state) => state.index,
            Input::InterfaceRemoved { index }
            | Input::RouterAdvertisement { index, .. }
            | Input::AddressDeleted { index, .. }
            | Input::DadFailed { index, .. }
            | Input::SolicitationRequested { index } => *index,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    SendSolicitation {
        index: u32,
    },
    /// Add, or refresh in place (the same address again).
    ConfigureAddress(AddressProposal),
    WithdrawAddress {
        index: u32,
        address: Ipv6Addr,
        prefix_len: u8,
    },
    ConfigureDefaultRoute(DefaultRouteProposal),
    WithdrawDefaultRoute {
        index: u32,
        router: Ipv6Addr,
    },
    /// Add or refresh an on-link prefix route or a Route Information route.
    ConfigureRoute(RouteProposal),
    WithdrawRoute {
        index: u32,
        prefix: Ipv6Addr,
        prefix_len: u8,
        via: RouteVia,
    },
    /// The interface's IPv6 MTU, from an MTU option (at least 1280); sent
    /// when it differs from the last one sent.
    ConfigureMtu {
        index: u32,
        mtu: u32,
    },
    /// RFC 4861 6.3.4 Neighbor Discovery parameters: the last non-zero value
    /// advertised for each (0 only while none was ever advertised). Sent when
    /// one of them changes; an advertised 0 (unspecified) is never a change.
    ConfigureLinkParameters {
        index: u32,
        cur_hop_limit: u8,
        /// Milliseconds.
        reachable_time: u32,
        /// Milliseconds.
        retrans_timer: u32,
    },
    /// The whole DNS configuration learnt on the interface, in the order the
    /// entries were first advertised; sent when it changes. Empty lists
    /// withdraw everything.
    ConfigureDns {
        index: u32,
        servers: Vec<Ipv6Addr>,
        search_domains: Vec<String>,
    },
}

impl Output {
    /// The interface the output is for.
    pub fn index(&self) -> u32 {
        match self {
            Output::ConfigureAddress(proposal) => proposal.index,
            Output::ConfigureDefaultRoute(route) => route.index,
            Output::ConfigureRoute(route) => route.index,
            Output::SendSolicitation { index }
            | Output::WithdrawAddress { index, .. }
            | Output::WithdrawDefaultRoute { index, .. }
            | Output::WithdrawRoute { index, .. }
            | Output::ConfigureMtu { index, .. }
            | Output::ConfigureLinkParameters { index, .. }
            | Output::ConfigureDns { index, .. } => *index,
        }
    }
}
