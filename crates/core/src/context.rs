//! What every state change needs besides the state itself: the current time,
//! the output queue, the monitor's record, the random source, the proposal id
//! counter and the configuration. Borrowed from the engine for one input or timeout; it must
//! never outlive that call.

use std::collections::VecDeque;
use std::time::Instant;

use rand::rngs::SmallRng;

use crate::config::Config;
use crate::event::Output;
use crate::monitor::{Monitor, ProposalChange, change_of};

pub(crate) struct Context<'a> {
    pub(crate) now: Instant,
    pub(crate) outputs: &'a mut VecDeque<Output>,
    pub(crate) monitor: &'a mut Monitor,
    pub(crate) rng: &'a mut SmallRng,
    pub(crate) next_id: &'a mut u64,
    pub(crate) config: &'a Config,
}

impl Context<'_> {
    /// Queues an output that updates or withdraws what the kernel has (or
    /// a solicitation).
    pub(crate) fn emit(&mut self, output: Output) {
        self.monitor.record_output(&output, change_of(&output));
        self.outputs.push_back(output);
    }

    /// Queues a proposal the kernel does not have yet.
    pub(crate) fn emit_created(&mut self, output: Output) {
        self.monitor.record_output(&output, ProposalChange::Created);
        self.outputs.push_back(output);
    }

    /// A fresh proposal id, shared by every kind of proposal.
    pub(crate) fn new_id(&mut self) -> u64 {
        *self.next_id += 1;
        *self.next_id
    }
}
