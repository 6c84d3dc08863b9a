//! RFC 4861 6.3.4 Neighbor Discovery parameters of one interface: the cur hop
//! limit, reachable time and retrans timer an advertisement carries. A value
//! of 0 is unspecified and leaves the current one alone; a change of any
//! non-zero value is proposed once, with the other values as last proposed.
//! It must never propose the same parameters twice in a row.

use slaacd_wire::RouterAdvert;

use crate::context::Context;
use crate::event::Output;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinkParameters {
    cur_hop_limit: u8,
    /// Milliseconds.
    reachable_time: u32,
    /// Milliseconds.
    retrans_timer: u32,
}

impl LinkParameters {
    pub(crate) fn advertised(&mut self, ctx: &mut Context<'_>, index: u32, ra: &RouterAdvert) {
        let wanted = LinkParameters {
            cur_hop_limit: specified_or(ra.cur_hop_limit, self.cur_hop_limit),
            reachable_time: specified_or(ra.reachable_time, self.reachable_time),
            retrans_timer: specified_or(ra.retrans_timer, self.retrans_timer),
        };
        if wanted == *self {
            return;
        }
        *self = wanted;
        ctx.emit(Output::ConfigureLinkParameters {
            index,
            cur_hop_limit: wanted.cur_hop_limit,
            reachable_time: wanted.reachable_time,
            retrans_timer: wanted.retrans_timer,
        });
    }
}

/// The advertised value, or `current` when it is 0 (unspecified).
fn specified_or<T: Default + PartialEq>(advertised: T, current: T) -> T {
    if advertised == T::default() {
        current
    } else {
        advertised
    }
}
