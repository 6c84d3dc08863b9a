//! Neighbor Discovery packets (RFC 4861 and its extensions): parsing Router
//! Advertisements and building Router Solicitations.
//!
//! Each message has two layers: a checked view over the bytes whose accessors
//! read fields at offsets named once, and a plain representation with `parse`
//! and `emit`. This crate does no I/O and must never panic on received bytes:
//! every length is checked before a field is read.

mod checksum;
mod error;
mod ethernet;
mod ipv6;
mod option;
mod preference;
mod router_advert;
mod router_solicit;

pub use error::ParseError;
pub use option::{NdOption, Pref64, PrefixInformation, RouteInformation};
pub use preference::RouterPreference;
pub use router_advert::{MAX_OPTIONS, OptionView, Options, RouterAdvert, RouterAdvertPacket};
pub use router_solicit::{SolicitationSource, router_solicitation, router_solicitation_frame};
