//! slaacd's engine core: every SLAAC decision, as a sans-IO state machine.
//!
//! It owns no sockets, tasks, clocks or global randomness: the caller feeds it
//! inputs with the current time ([`Engine::handle`], [`Engine::handle_timeout`]),
//! drains the outputs it proposes ([`Engine::poll_output`]) and, while someone
//! watches, the events that explain them ([`Engine::poll_event`]), and asks
//! when to wake it ([`Engine::poll_timeout`]).

mod config;
mod context;
mod engine;
mod event;
mod interface;
mod interface_identifier;
mod lifetime;
mod monitor;
mod proposal;
mod report;
mod solicit;
mod stable_address;
mod temporary_address;

pub use config::{
    Config, ConfigError, IDGEN_RETRIES, InterfaceIdentifier, Limits, MIN_SECRET_KEY_LEN,
};
pub use engine::Engine;
pub use event::{Input, InterfaceState, Output};
pub use monitor::{Happening, MonitorEvent, ProposalChange, is_limit};
pub use proposal::{AddressProposal, DefaultRouteProposal, RouteProposal, RouteVia};
pub use report::{
    AddressProposalReport, DefaultRouteProposalReport, DnsslReport, InterfaceReport, Pref64Report,
    PrefixReport, RdnssReport, RouteInformationReport, RouteProposalReport, RouterReport,
};
pub use slaacd_wire::RouterPreference;
