//! slaacd's engine core: every SLAAC decision, as a sans-IO state machine.
//!
//! It owns no sockets, tasks, clocks or global randomness: the caller feeds it
//! inputs with the current time and drains the outputs it proposes.

mod proposal;

pub use proposal::{AddressProposal, DefaultRouteProposal};
pub use slaacd_wire::RouterPreference;
