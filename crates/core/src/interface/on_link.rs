//! RFC 4861 6.3.4 on-link prefixes of one interface: a Prefix Information
//! option with the L flag makes its prefix an on-link route for the option's
//! valid lifetime, refreshed by later options, withdrawn by a valid lifetime
//! of 0 or when the lifetime runs out. An option without the L flag says
//! nothing about the prefix (it is not "off-link"), and the two-hour rule of
//! RFC 4862 does not apply here.
//!
//! The interface's addresses are added with IFA_F_NOPREFIXROUTE, so these
//! proposals are the only on-link routes it gets. A new prefix beyond the
//! cap is rejected and counted, never an existing one evicted. This module
//! must never decide about addresses.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::Instant;

use slaacd_wire::{PrefixInformation, RouterPreference};

use crate::context::Context;
use crate::interface::drops::DropCounters;
use crate::interface::route::{RouteEntry, RouteKind};
use crate::proposal::RouteVia;
use crate::report::RouteProposalReport;

#[derive(Debug, Clone, Default)]
pub(crate) struct OnLinkPrefixes {
    /// By prefix and prefix length.
    routes: BTreeMap<(Ipv6Addr, u8), RouteEntry>,
}

impl OnLinkPrefixes {
    /// One Prefix Information option of an accepted advertisement; `cap`
    /// is how many on-link prefixes the interface may hold.
    pub(crate) fn advertised(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        info: &PrefixInformation,
        cap: usize,
        drops: &mut DropCounters,
    ) {
        if !info.on_link {
            return;
        }
        // RFC 4861 6.3.4 ignores link-local prefixes; ::/0 would make every
        // destination on-link and multicast is never a prefix of neighbours.
        if super::is_link_local(info.prefix) || info.prefix_len == 0 || info.prefix.is_multicast() {
            drops.entry(ctx, "on-link-prefix-ignored");
            return;
        }
        let key = (info.prefix, info.prefix_len);
        let full = self.routes.len() >= cap;
        match self.routes.get_mut(&key) {
            Some(route) if info.valid_lifetime == 0 => {
                route.withdraw(ctx, index);
                self.routes.remove(&key);
            }
            Some(route) => {
                route.advertised(ctx, index, info.valid_lifetime, RouterPreference::Medium);
            }
            None if info.valid_lifetime == 0 => {}
            None if full => drops.entry(ctx, "on-link-prefixes-limit"),
            None => {
                let kind = RouteKind::Prefix {
                    prefix: info.prefix,
                    prefix_len: info.prefix_len,
                    via: RouteVia::OnLink,
                };
                let route = RouteEntry::new(
                    ctx,
                    index,
                    kind,
                    info.valid_lifetime,
                    RouterPreference::Medium,
                );
                self.routes.insert(key, route);
            }
        }
    }

    /// Runs the timers due at `ctx.now`; sets `resolicit` when a
    /// solicitation should start.
    pub(crate) fn on_timeout(&mut self, ctx: &mut Context<'_>, index: u32, resolicit: &mut bool) {
        self.routes
            .retain(|_, route| !route.on_timeout(ctx, index, resolicit));
    }

    /// Proposes every on-link route again (after a link-up).
    pub(crate) fn reapply(&mut self, ctx: &mut Context<'_>, index: u32) {
        for route in self.routes.values_mut() {
            route.reapply(ctx, index);
        }
    }

    /// Withdraws every on-link route (the interface is being removed).
    pub(crate) fn withdraw(&mut self, ctx: &mut Context<'_>, index: u32) {
        for route in std::mem::take(&mut self.routes).into_values() {
            route.withdraw(ctx, index);
        }
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.routes
            .values()
            .filter_map(RouteEntry::next_timeout)
            .min()
    }

    pub(crate) fn reports(&self, now: Instant) -> impl Iterator<Item = RouteProposalReport> {
        self.routes
            .values()
            .filter_map(move |route| route.route_report(now))
    }
}
