//! One route proposal: a default route through a router (from the router
//! lifetime), a more-specific route through a router (from an RFC 4191 Route
//! Information option) or an on-link prefix route (from a Prefix Information
//! option with the L flag). Created by a non-zero lifetime, refreshed by the
//! rule in `lifetime`, withdrawn by a zero lifetime or when the lifetime runs
//! out. It must never decide whether a route is wanted; its owner does.

use std::net::Ipv6Addr;
use std::time::Instant;

use slaacd_wire::RouterPreference;

use crate::context::Context;
use crate::event::Output;
use crate::interface::resolicit::resolicit_at;
use crate::lifetime::{Expiry, KernelLifetime, seconds_since};
use crate::proposal::{DefaultRouteProposal, RouteProposal, RouteVia};
use crate::report::{DefaultRouteProposalReport, RouteProposalReport};

/// Which route this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    Default {
        router: Ipv6Addr,
    },
    Prefix {
        prefix: Ipv6Addr,
        prefix_len: u8,
        via: RouteVia,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct RouteEntry {
    id: u64,
    kind: RouteKind,
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
        kind: RouteKind,
        lifetime: u32,
        preference: RouterPreference,
    ) -> RouteEntry {
        let expiry = Expiry::after(ctx.now, lifetime);
        let mut entry = RouteEntry {
            id: ctx.new_id(),
            kind,
            preference,
            expiry,
            kernel: KernelLifetime::sent(ctx.now, expiry),
            updated_at: ctx.now,
            resolicit_at: resolicit_at(ctx.now, &[expiry]),
        };
        entry.propose_created(ctx, index);
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

    /// Proposes the route again with what is left of its lifetime: Linux
    /// flushes routes when a link goes down, and tells nobody.
    pub(crate) fn reapply(&mut self, ctx: &mut Context<'_>, index: u32) {
        if !self.expiry.is_over(ctx.now) {
            self.propose_created(ctx, index);
        }
    }

    pub(crate) fn withdraw(&self, ctx: &mut Context<'_>, index: u32) {
        ctx.emit(match self.kind {
            RouteKind::Default { router } => Output::WithdrawDefaultRoute { index, router },
            RouteKind::Prefix {
                prefix,
                prefix_len,
                via,
            } => Output::WithdrawRoute {
                index,
                prefix,
                prefix_len,
                via,
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

    /// The report of a default route; `None` for a prefix route.
    pub(crate) fn default_route_report(&self, now: Instant) -> Option<DefaultRouteProposalReport> {
        let RouteKind::Default { router } = self.kind else {
            return None;
        };
        Some(DefaultRouteProposalReport {
            id: self.id,
            state: "CONFIGURED".to_owned(),
            router,
            router_lifetime: self.expiry.remaining(now),
            preference: self.preference,
            timeout: self.timeout(now),
            updated_ago: seconds_since(now, self.updated_at),
        })
    }

    /// The report of a prefix route; `None` for a default route.
    pub(crate) fn route_report(&self, now: Instant) -> Option<RouteProposalReport> {
        let RouteKind::Prefix {
            prefix,
            prefix_len,
            via,
        } = self.kind
        else {
            return None;
        };
        Some(RouteProposalReport {
            id: self.id,
            state: "CONFIGURED".to_owned(),
            prefix,
            prefix_len,
            via,
            lifetime: self.expiry.remaining(now),
            preference: self.preference,
            timeout: self.timeout(now),
            updated_ago: seconds_since(now, self.updated_at),
        })
    }

    fn timeout(&self, now: Instant) -> Option<u32> {
        self.next_timeout().map(|at| Expiry::At(at).remaining(now))
    }

    /// Proposes a change to a route the kernel has.
    fn propose(&mut self, ctx: &mut Context<'_>, index: u32) {
        let proposal = self.proposal(ctx.now, index);
        ctx.emit(proposal);
        self.kernel = KernelLifetime::sent(ctx.now, self.expiry);
    }

    /// Proposes a route the kernel does not have (new, or flushed with its
    /// link).
    fn propose_created(&mut self, ctx: &mut Context<'_>, index: u32) {
        let proposal = self.proposal(ctx.now, index);
        ctx.emit_created(proposal);
        self.kernel = KernelLifetime::sent(ctx.now, self.expiry);
    }

    fn proposal(&self, now: Instant, index: u32) -> Output {
        let lifetime = self.expiry.remaining(now);
        let preference = self.preference;
        match self.kind {
            RouteKind::Default { router } => Output::ConfigureDefaultRoute(DefaultRouteProposal {
                index,
                router,
                lifetime: lifetime.min(u32::from(u16::MAX)),
                preference,
            }),
            RouteKind::Prefix {
                prefix,
                prefix_len,
                via,
            } => Output::ConfigureRoute(RouteProposal {
                index,
                prefix,
                prefix_len,
                via,
                lifetime,
                preference,
            }),
        }
    }
}
