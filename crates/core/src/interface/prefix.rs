//! The addresses formed from one /64 prefix: its stable address (RFC 7217
//! with DAD retries, or the configured modified EUI-64) and its RFC 8981
//! temporary addresses (with desync, timely regeneration and DAD retries),
//! all bounded by the prefix's lifetimes as RFC 4862 5.5.3 (two-hour rule
//! included) sets them.
//!
//! It must never create an address beyond the [`Budget`] the interface
//! grants, and never decide whether the prefix is usable (the interface
//! does).

use std::net::Ipv6Addr;
use std::time::Instant;

use crate::config::IDGEN_RETRIES;
use crate::context::Context;
use crate::interface::address::{Address, AddressState};
use crate::interface::drops::DropCounters;
use crate::interface::resolicit::resolicit_at;
use crate::interface_identifier::IdentifierSource;
use crate::lifetime::{Expiry, renewed, two_hour_rule};
use crate::report::AddressProposalReport;
use crate::temporary_address::{
    REGEN_ADVANCE, TEMP_IDGEN_RETRIES, TEMP_PREFERRED_LIFETIME, TEMP_VALID_LIFETIME, desync_factor,
    temporary_address,
};

/// How many more addresses the interface may add, and whether temporary
/// addresses are wanted at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) free: usize,
    pub(crate) temporary: bool,
}

#[derive(Debug, Clone)]
struct Temporary {
    address: Address,
    /// Its own limits: TEMP_VALID_LIFETIME and TEMP_PREFERRED_LIFETIME -
    /// DESYNC_FACTOR from creation.
    valid_until: Expiry,
    preferred_until: Expiry,
    /// Whether its successor was already asked for.
    regenerated: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct PrefixEntry {
    prefix: Ipv6Addr,
    /// The prefix's lifetimes, as RFC 4862 5.5.3 leaves them.
    valid: Expiry,
    preferred: Expiry,
    stable: Address,
    dad_counter: u8,
    dad_failures: u8,
    /// Oldest first.
    temporaries: Vec<Temporary>,
    temporary_dad_failures: u8,
    resolicit_at: Option<Instant>,
}

impl PrefixEntry {
    /// Proposes the stable address (the caller has checked the budget has
    /// room for it) and, if wanted, a temporary one. `None` only if no DAD
    /// counter gives a usable stable IID.
    #[allow(clippy::too_many_arguments)] // Each is one fact of the new prefix.
    pub(crate) fn new(
        ctx: &mut Context<'_>,
        index: u32,
        prefix: Ipv6Addr,
        source: IdentifierSource<'_>,
        valid_lifetime: u32,
        preferred_lifetime: u32,
        budget: &mut Budget,
        drops: &mut DropCounters,
    ) -> Option<PrefixEntry> {
        let stable = source.address(prefix, 0, &ctx.config.secret_key)?;
        let valid = Expiry::after(ctx.now, valid_lifetime);
        let preferred = Expiry::after(ctx.now, preferred_lifetime).min(valid);
        budget.free = budget.free.saturating_sub(1);
        let mut entry = PrefixEntry {
            prefix,
            valid,
            preferred,
            stable: Address::new(ctx, index, stable.address, false, valid, preferred),
            dad_counter: stable.dad_counter,
            dad_failures: 0,
            temporaries: Vec::new(),
            temporary_dad_failures: 0,
            resolicit_at: resolicit_at(ctx.now, &[preferred, valid]),
        };
        entry.add_temporary(ctx, index, budget, drops);
        Some(entry)
    }

    /// A Prefix Information option for this prefix arrived (A flag set,
    /// preferred <= valid already checked).
    pub(crate) fn advertised(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        valid_lifetime: u32,
        preferred_lifetime: u32,
        budget: &mut Budget,
        drops: &mut DropCounters,
    ) {
        self.valid = two_hour_rule(ctx.now, valid_lifetime, self.valid);
        self.preferred = renewed(ctx.now, preferred_lifetime, self.preferred).min(self.valid);
        self.resolicit_at = resolicit_at(ctx.now, &[self.preferred, self.valid]);
        self.stable
            .set_lifetimes(ctx, index, self.valid, self.preferred);
        for temporary in &mut self.temporaries {
            temporary.address.set_lifetimes(
                ctx,
                index,
                self.valid.min(temporary.valid_until),
                self.preferred.min(temporary.preferred_until),
            );
        }
        // RFC 8981 3.4: a new temporary address when none is preferred
        // beyond REGEN_ADVANCE.
        let current = self
            .temporaries
            .iter()
            .any(|t| t.address.preferred > Expiry::At(ctx.now + REGEN_ADVANCE));
        if !current {
            self.add_temporary(ctx, index, budget, drops);
        }
    }

    /// RFC 8981 3.4 steps 1-5: a new temporary address, unless temporary
    /// addresses are off, its preferred lifetime would not exceed
    /// REGEN_ADVANCE, or the budget is spent (counted).
    fn add_temporary(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        budget: &mut Budget,
        drops: &mut DropCounters,
    ) {
        if !budget.temporary {
            return;
        }
        let desync = desync_factor(ctx.rng);
        let valid_until = Expiry::At(ctx.now + TEMP_VALID_LIFETIME);
        let preferred_until = Expiry::At(ctx.now + (TEMP_PREFERRED_LIFETIME - desync));
        let valid = self.valid.min(valid_until);
        let preferred = self.preferred.min(preferred_until).min(valid);
        if preferred <= Expiry::At(ctx.now + REGEN_ADVANCE) {
            return;
        }
        if budget.free == 0 {
            drops.entry(ctx, "addresses-limit");
            return;
        }
        let Some(address) = temporary_address(
            self.prefix,
            self.stable.address,
            &ctx.config.secret_key,
            ctx.rng,
        ) else {
            return;
        };
        budget.free -= 1;
        self.temporaries.push(Temporary {
            address: Address::new(ctx, index, address, true, valid, preferred),
            valid_until,
            preferred_until,
            regenerated: false,
        });
    }

    /// When the newest temporary address needs its successor: REGEN_ADVANCE
    /// before its preferred lifetime ends, if the prefix stays preferred
    /// longer than it does.
    fn regeneration_due(&self) -> Option<Instant> {
        let newest = self.temporaries.last().filter(|t| !t.regenerated)?;
        if self.preferred <= newest.address.preferred {
            return None;
        }
        let end = newest.address.preferred.instant()?;
        Some(end.checked_sub(REGEN_ADVANCE).unwrap_or(end))
    }

    /// Runs the timers due at `ctx.now`. Returns whether the prefix is over
    /// (its valid lifetime ended; withdrawals already emitted). Sets
    /// `resolicit` when a solicitation should start.
    pub(crate) fn on_timeout(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        budget: &mut Budget,
        drops: &mut DropCounters,
        resolicit: &mut bool,
    ) -> bool {
        if self.stable.on_timeout(ctx, index) {
            self.withdraw(ctx, index);
            return true;
        }
        if self.resolicit_at.is_some_and(|at| at <= ctx.now) {
            self.resolicit_at = None;
            *resolicit = true;
        }
        let before = self.temporaries.len();
        self.temporaries
            .retain_mut(|t| !t.address.on_timeout(ctx, index));
        budget.free += before - self.temporaries.len();
        if self.regeneration_due().is_some_and(|at| at <= ctx.now) {
            if let Some(newest) = self.temporaries.last_mut() {
                newest.regenerated = true;
            }
            self.add_temporary(ctx, index, budget, drops);
        }
        false
    }

    /// DAD failed for `address`, if it is one of this prefix's: the stable
    /// address moves to the next DAD counter (IDGEN_RETRIES times at most),
    /// a temporary one is replaced by a new one (TEMP_IDGEN_RETRIES times).
    pub(crate) fn dad_failed(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        address: Ipv6Addr,
        source: IdentifierSource<'_>,
        budget: &mut Budget,
        drops: &mut DropCounters,
    ) {
        if self.stable.address == address {
            if self.stable.state == AddressState::Duplicated {
                return;
            }
            let next = self
                .dad_counter
                .checked_add(1)
                .and_then(|counter| source.address(self.prefix, counter, &ctx.config.secret_key));
            match next {
                Some(next) if self.dad_failures < IDGEN_RETRIES => {
                    self.dad_failures += 1;
                    self.dad_counter = next.dad_counter;
                    self.stable.replace(ctx, index, next.address);
                }
                _ => self.stable.give_up(ctx, index),
            }
            return;
        }
        let Some(position) = self
            .temporaries
            .iter()
            .position(|t| t.address.address == address)
        else {
            return;
        };
        let mut failed = self.temporaries.remove(position);
        failed.address.give_up(ctx, index);
        budget.free += 1;
        if self.temporary_dad_failures < TEMP_IDGEN_RETRIES {
            self.temporary_dad_failures += 1;
            self.add_temporary(ctx, index, budget, drops);
        }
    }

    /// The kernel lost `address` without us asking, if it is ours.
    pub(crate) fn address_deleted(&mut self, address: Ipv6Addr) {
        self.addresses_mut()
            .filter(|entry| entry.address == address)
            .for_each(Address::deleted);
    }

    /// Withdraws every address of the prefix from the kernel.
    pub(crate) fn withdraw(&mut self, ctx: &mut Context<'_>, index: u32) {
        for entry in self.addresses_mut() {
            entry.withdraw(ctx, index);
        }
    }

    pub(crate) fn address_count(&self) -> usize {
        1 + self.temporaries.len()
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let temporaries = self
            .temporaries
            .iter()
            .filter_map(|t| t.address.next_timeout());
        self.stable
            .next_timeout()
            .into_iter()
            .chain(temporaries)
            .chain(self.resolicit_at)
            .chain(self.regeneration_due())
            .min()
    }

    pub(crate) fn reports(&self, now: Instant) -> impl Iterator<Item = AddressProposalReport> {
        let regeneration = self.regeneration_due();
        let newest = self.temporaries.len().checked_sub(1);
        let stable = self.stable.report(now, self.prefix, self.resolicit_at);
        let temporaries = self.temporaries.iter().enumerate().map(move |(i, t)| {
            let timeout = regeneration.filter(|_| Some(i) == newest);
            t.address.report(now, self.prefix, timeout)
        });
        std::iter::once(stable).chain(temporaries)
    }

    fn addresses_mut(&mut self) -> impl Iterator<Item = &mut Address> {
        std::iter::once(&mut self.stable).chain(self.temporaries.iter_mut().map(|t| &mut t.address))
    }
}
