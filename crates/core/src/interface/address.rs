//! One address proposal, stable or temporary: its lifetimes, what the kernel
//! was told, and the refresh rule of `lifetime` applied to both lifetimes.
//!
//! Every change the kernel must see goes out as an [`Output`]. This module
//! must never choose addresses or lifetimes; the prefix entry does.

use std::net::Ipv6Addr;
use std::time::Instant;

use crate::context::Context;
use crate::event::Output;
use crate::lifetime::{Expiry, KernelLifetime, seconds_since};
use crate::proposal::AddressProposal;
use crate::report::AddressProposalReport;

/// SLAAC forms addresses only from /64 prefixes (a 64-bit IID).
pub(crate) const PREFIX_LEN: u8 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressState {
    /// Proposed to the kernel.
    Configured,
    /// Removed by someone else; the next advertisement proposes it again.
    Withdrawn,
    /// DAD failed too often: no address until the prefix expires.
    Duplicated,
}

/// What the kernel was last told about the address.
#[derive(Debug, Clone, Copy)]
struct KernelAddress {
    valid: KernelLifetime,
    preferred: KernelLifetime,
}

#[derive(Debug, Clone)]
pub(crate) struct Address {
    pub(crate) id: u64,
    pub(crate) address: Ipv6Addr,
    pub(crate) temporary: bool,
    pub(crate) valid: Expiry,
    pub(crate) preferred: Expiry,
    pub(crate) state: AddressState,
    kernel: Option<KernelAddress>,
    updated_at: Instant,
}

impl Address {
    /// A new address, proposed at once.
    pub(crate) fn new(
        ctx: &mut Context<'_>,
        index: u32,
        address: Ipv6Addr,
        temporary: bool,
        valid: Expiry,
        preferred: Expiry,
    ) -> Address {
        let mut entry = Address {
            id: ctx.new_id(),
            address,
            temporary,
            valid,
            preferred: preferred.min(valid),
            state: AddressState::Configured,
            kernel: None,
            updated_at: ctx.now,
        };
        entry.propose(ctx, index);
        entry
    }

    /// New lifetimes from an advertisement: proposes them if the kernel
    /// needs them, and re-adds the address if someone had deleted it.
    pub(crate) fn set_lifetimes(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        valid: Expiry,
        preferred: Expiry,
    ) {
        self.valid = valid;
        self.preferred = preferred.min(valid);
        self.updated_at = ctx.now;
        match self.state {
            AddressState::Duplicated => {}
            AddressState::Withdrawn => {
                self.state = AddressState::Configured;
                self.propose(ctx, index);
            }
            AddressState::Configured => self.refresh_if_needed(ctx, index),
        }
    }

    /// Replaces the address after a DAD failure (the old one is withdrawn).
    pub(crate) fn replace(&mut self, ctx: &mut Context<'_>, index: u32, address: Ipv6Addr) {
        self.withdraw_unconditionally(ctx, index);
        self.address = address;
        self.id = ctx.new_id();
        self.state = AddressState::Configured;
        self.updated_at = ctx.now;
        self.propose(ctx, index);
    }

    /// Gives up on the address after DAD failed too often.
    pub(crate) fn give_up(&mut self, ctx: &mut Context<'_>, index: u32) {
        self.withdraw_unconditionally(ctx, index);
        self.state = AddressState::Duplicated;
        self.updated_at = ctx.now;
    }

    /// The kernel lost the address without us asking.
    pub(crate) fn deleted(&mut self) {
        self.kernel = None;
        if self.state == AddressState::Configured {
            self.state = AddressState::Withdrawn;
        }
    }

    /// Runs the refresh timer. Returns whether the valid lifetime is over
    /// (the withdrawal is already emitted).
    pub(crate) fn on_timeout(&mut self, ctx: &mut Context<'_>, index: u32) -> bool {
        if self.valid.is_over(ctx.now) {
            self.withdraw(ctx, index);
            return true;
        }
        if self.state == AddressState::Configured {
            self.refresh_if_needed(ctx, index);
        }
        false
    }

    /// Withdraws the address from the kernel if it is there.
    pub(crate) fn withdraw(&mut self, ctx: &mut Context<'_>, index: u32) {
        if self.kernel.is_some() {
            self.withdraw_unconditionally(ctx, index);
        }
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let refresh = self
            .kernel
            .filter(|_| self.state == AddressState::Configured)
            .and_then(|kernel| {
                let valid = kernel.valid.refresh_due(self.valid);
                let preferred = kernel.preferred.refresh_due(self.preferred);
                valid.into_iter().chain(preferred).min()
            });
        [self.valid.instant(), refresh].into_iter().flatten().min()
    }

    /// `timeout` is the prefix entry's next timer for this address, if
    /// earlier than the address's own.
    pub(crate) fn report(
        &self,
        now: Instant,
        prefix: Ipv6Addr,
        timeout: Option<Instant>,
    ) -> AddressProposalReport {
        let state = match self.state {
            AddressState::Configured if self.preferred.is_over(now) => "DEPRECATED",
            AddressState::Configured => "CONFIGURED",
            AddressState::Withdrawn => "WITHDRAWN",
            AddressState::Duplicated => "DUPLICATED",
        };
        let next = self.next_timeout().into_iter().chain(timeout).min();
        AddressProposalReport {
            id: self.id,
            state: state.to_owned(),
            temporary: self.temporary,
            valid_lifetime: self.valid.remaining(now),
            preferred_lifetime: self.preferred.remaining(now),
            timeout: next.map(|at| Expiry::At(at).remaining(now)),
            updated_ago: seconds_since(now, self.updated_at),
            address: self.address,
            prefix,
            prefix_len: PREFIX_LEN,
        }
    }

    fn refresh_if_needed(&mut self, ctx: &mut Context<'_>, index: u32) {
        let stale = match self.kernel {
            None => true,
            Some(kernel) => {
                kernel.valid.needs_update(ctx.now, self.valid)
                    || kernel.preferred.needs_update(ctx.now, self.preferred)
            }
        };
        if stale {
            self.propose(ctx, index);
        }
    }

    fn propose(&mut self, ctx: &mut Context<'_>, index: u32) {
        let proposal = Output::ConfigureAddress(AddressProposal {
            index,
            address: self.address,
            prefix_len: PREFIX_LEN,
            valid_lifetime: self.valid.remaining(ctx.now),
            preferred_lifetime: self.preferred.remaining(ctx.now),
            temporary: self.temporary,
        });
        // Not in the kernel yet: new, re-added or a replacement.
        if self.kernel.is_none() {
            ctx.emit_created(proposal);
        } else {
            ctx.emit(proposal);
        }
        self.kernel = Some(KernelAddress {
            valid: KernelLifetime::sent(ctx.now, self.valid),
            preferred: KernelLifetime::sent(ctx.now, self.preferred),
        });
    }

    /// The kernel keeps even a duplicate (flagged) address: always remove.
    fn withdraw_unconditionally(&mut self, ctx: &mut Context<'_>, index: u32) {
        self.kernel = None;
        ctx.emit(Output::WithdrawAddress {
            index,
            address: self.address,
            prefix_len: PREFIX_LEN,
        });
    }
}
