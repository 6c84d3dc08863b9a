//! A route proposal through one router: the default route (from the router
//! lifetime) or a more-specific route (from an RFC 4191 Route Information
//! option). Created by a non-zero lifetime, refreshed by the rule in
//! `lifetime`, withdrawn by a zero lifetime or when the lifetime runs out.
//! It must never outlive its router.

use std::net::Ipv6Addr;
use std::time::Instant;

use slaacd_wire::RouterPreference;

use crate::context::Context;
use crate::event::Output;
use crate::interface::resolicit::resolicit_at;
use crate::lifetime::{Expiry, KernelLifetime, seconds_since};
use crate::proposal::{DefaultRouteProposal, RouteProposal};
use crate::report::{DefaultRouteProposalReport, RouteProposalReport};

/// Where the route leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Destination {
    Default,
    Prefix { prefix: Ipv6Addr, prefix_len: u8 },
}

#[derive(Debug, Clone)]
pub(crate) struct RouteEntry {
    id: u64,
    router: Ipv6Addr,
    destination: Destination,
    preference: RouterPreference,
    expiry: Expiry,
    kernel: KernelLifetime,
    updated_at: Instant,
    resolicit_at: Option<Instant>,
}

impl RouteEntry {
    /// Proposes the route; `lifetime` (seconds) is non-zero.
    pub(crate) fn new(
        ctx: &mut Context<'_>,
        index: u32,
        router: Ipv6Addr,
        destination: Destination,
        lifetime: u32,
        preference: RouterPreference,
    ) -> RouteEntry {
        let expiry = Expiry::after(ctx.now, lifetime);
        let mut entry = RouteEntry {
            id: ctx.new_id(),
            router,
            destination,
            preference,
            expiry,
            kernel: KernelLifetime::sent(ctx.now, expiry),
            updated_at: ctx.now,
            resolicit_at: resolicit_at(ctx.now, &[expiry]),
        };
        entry.propose(ctx, index);
        entry
    }

    /// A new advertisement with a non-zero lifetime for this route.
    pub(crate) fn advertised(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        lifetime: u32,
        preference: RouterPreference,
    ) {
        self.expiry = Expiry::after(ctx.now, lifetime);
        self.updated_at = ctx.now;
        self.resolicit_at = resolicit_at(ctx.now, &[self.expiry]);
        if preference != self.preference || self.kernel.needs_update(ctx.now, self.expiry) {
            self.preference = preference;
            self.propose(ctx, index);
        }
    }

    /// Runs the timers due at `ctx.now`. Returns whether the route is over
    /// (the withdrawal is already emitted). Sets `resolicit` when a
    /// solicitation should start.
    pub(crate) fn on_timeout(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        resolicit: &mut bool,
    ) -> bool {
        if self.expiry.is_over(ctx.now) {
            self.withdraw(ctx, index);
            return true;
        }
        if self.resolicit_at.is_some_and(|at| at <= ctx.now) {
            self.resolicit_at = None;
            *resolicit = true;
        }
        if self.kernel.needs_update(ctx.now, self.expiry) {
            self.propose(ctx, index);
        }
        false
    }

    pub(crate) fn withdraw(&self, ctx: &mut Context<'_>, index: u32) {
        let router = self.router;
        ctx.emit(match self.destination {
            Destination::Default => Output::WithdrawDefaultRoute { index, router },
            Destination::Prefix { prefix, prefix_len } => Output::WithdrawRoute {
                index,
                router,
                prefix,
                prefix_len,
            },
        });
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [
            self.expiry.instant(),
            self.resolicit_at,
            self.kernel.refresh_due(self.expiry),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub(crate) fn default_route_report(&self, now: Instant) -> DefaultRouteProposalReport {
        DefaultRouteProposalReport {
            id: self.id,
            state: "CONFIGURED".to_owned(),
            router: self.router,
            router_lifetime: self.expiry.remaining(now),
            preference: self.preference,
            timeout: self.timeout(now),
            updated_ago: seconds_since(now, self.updated_at),
        }
    }

    /// The report of a more-specific route; `None` for the default route.
    pub(crate) fn route_report(&self, now: Instant) -> Option<RouteProposalReport> {
        let Destination::Prefix { prefix, prefix_len } = self.destination else {
            return None;
        };
        Some(RouteProposalReport {
            id: self.id,
            router: self.router,
            prefix,
            prefix_len,
            lifetime: self.expiry.remaining(now),
            preference: self.preference,
            timeout: self.timeout(now),
            updated_ago: seconds_since(now, self.updated_at),
        })
    }

    fn timeout(&self, now: Instant) -> Option<u32> {
        self.next_timeout().map(|at| Expiry::At(at).remaining(now))
    }

    fn propose(&mut self, ctx: &mut Context<'_>, index: u32) {
        let router = self.router;
        let lifetime = self.expiry.remaining(ctx.now);
        let preference = self.preference;
        ctx.emit(match self.destination {
            Destination::Default => Output::ConfigureDefaultRoute(DefaultRouteProposal {
                index,
                router,
                lifetime: lifetime.min(u32::from(u16::MAX)),
                preference,
            }),
            Destination::Prefix { prefix, prefix_len } => Output::ConfigureRoute(RouteProposal {
                index,
                router,
                prefix,
                prefix_len,
                lifetime,
                preference,
            }),
        });
        self.kernel = KernelLifetime::sent(ctx.now, self.expiry);
    }
}
