//! One router of an interface: its last advertisement (kept as parsed, for
//! the report, which is only built when asked for), its default route
//! proposal and its Route Information routes. A router is forgotten when
//! every lifetime it advertised has ended; it must never decide about
//! addresses or DNS.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::Instant;

use slaacd_wire::{NdOption, PrefixInformation, RouteInformation, RouterAdvert, RouterPreference};

use crate::context::Context;
use crate::interface::drops::DropCounters;
use crate::interface::route::{RouteEntry, RouteKind};
use crate::lifetime::{Expiry, seconds_since};
use crate::proposal::RouteVia;
use crate::report::{
    DefaultRouteProposalReport, DnsslReport, Pref64Report, PrefixReport, RdnssReport,
    RouteInformationReport, RouteProposalReport, RouterReport,
};

#[derive(Debug, Clone)]
pub(crate) struct Router {
    source: Ipv6Addr,
    received_at: Instant,
    /// The last advertisement, as parsed: the report reads it.
    last: RouterAdvert,
    /// When the last lifetime this router advertised ends.
    forget_at: Expiry,
    default_route: Option<RouteEntry>,
    /// Route Information routes, by prefix and prefix length.
    routes: BTreeMap<(Ipv6Addr, u8), RouteEntry>,
}

impl Router {
    /// A router that has not advertised anything yet.
    pub(crate) fn new(now: Instant, source: Ipv6Addr) -> Router {
        Router {
            source,
            received_at: now,
            last: RouterAdvert {
                cur_hop_limit: 0,
                managed: false,
                other: false,
                preference: RouterPreference::Medium,
                router_lifetime: 0,
                reachable_time: 0,
                retrans_timer: 0,
                options: Vec::new(),
            },
            forget_at: Expiry::At(now),
            default_route: None,
            routes: BTreeMap::new(),
        }
    }

    /// Takes in a new advertisement from this router: its lifetimes and
    /// routes. `route_room` is how many Route Information routes this router
    /// may hold: the interface's cap less what its other routers hold. Hand the advertisement over with
    /// [`Router::keep`] once the interface is done with it.
    pub(crate) fn advertised(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        ra: &RouterAdvert,
        route_room: usize,
        drops: &mut DropCounters,
    ) {
        self.received_at = ctx.now;
        let mut longest = u32::from(ra.router_lifetime);
        for option in &ra.options {
            match option {
                NdOption::PrefixInformation(info) => longest = longest.max(info.valid_lifetime),
                NdOption::Rdnss { lifetime, .. } | NdOption::Dnssl { lifetime, .. } => {
                    longest = longest.max(*lifetime);
                }
                NdOption::Pref64(pref64) => longest = longest.max(u32::from(pref64.lifetime)),
                NdOption::RouteInformation(route) => {
                    longest = longest.max(route.lifetime);
                    self.route_information(ctx, index, route, route_room, drops);
                }
                _ => {}
            }
        }
        self.forget_at = Expiry::after(ctx.now, longest);
        self.update_default_route(ctx, index, ra);
    }

    /// Keeps `ra`, the advertisement just taken in, for the report.
    pub(crate) fn keep(&mut self, ra: RouterAdvert) {
        self.last = ra;
    }

    fn update_default_route(&mut self, ctx: &mut Context<'_>, index: u32, ra: &RouterAdvert) {
        let lifetime = u32::from(ra.router_lifetime);
        match (&mut self.default_route, lifetime) {
            (Some(route), 0) => {
                route.withdraw(ctx, index);
                self.default_route = None;
            }
            (None, 0) => {}
            (Some(route), lifetime) => route.advertised(ctx, index, lifetime, ra.preference),
            (None, lifetime) => {
                self.default_route = Some(RouteEntry::new(
                    ctx,
                    index,
                    RouteKind::Default {
                        router: self.source,
                    },
                    lifetime,
                    ra.preference,
                ));
            }
        }
    }

    /// RFC 4191 3.1 for one Route Information option. A ::/0 route is left
    /// out: the default route already covers it.
    fn route_information(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        info: &RouteInformation,
        route_room: usize,
        drops: &mut DropCounters,
    ) {
        if info.prefix_len == 0 {
            return;
        }
        let destination = (info.prefix, info.prefix_len);
        let full = self.routes.len() >= route_room;
        match self.routes.get_mut(&destination) {
            Some(route) if info.lifetime == 0 => {
                route.withdraw(ctx, index);
                self.routes.remove(&destination);
            }
            Some(route) => route.advertised(ctx, index, info.lifetime, info.preference),
            None if info.lifetime == 0 => {}
            None if full => drops.entry(ctx, "routes-limit"),
            None => {
                let route = RouteEntry::new(
                    ctx,
                    index,
                    RouteKind::Prefix {
                        prefix: info.prefix,
                        prefix_len: info.prefix_len,
                        via: RouteVia::Router(self.source),
                    },
                    info.lifetime,
                    info.preference,
                );
                self.routes.insert(destination, route);
            }
        }
    }

    pub(crate) fn route_count(&self) -> usize {
        self.routes.len()
    }

    /// Runs the timers due at `ctx.now`. Returns whether the router is to be
    /// forgotten. Sets `resolicit` when a solicitation should start.
    pub(crate) fn on_timeout(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        resolicit: &mut bool,
    ) -> bool {
        if let Some(route) = &mut self.default_route
            && route.on_timeout(ctx, index, resolicit)
        {
            self.default_route = None;
        }
        self.routes
            .retain(|_, route| !route.on_timeout(ctx, index, resolicit));
        self.is_over(ctx.now)
    }

    /// Whether every lifetime it advertised has ended.
    pub(crate) fn is_over(&self, now: Instant) -> bool {
        self.default_route.is_none() && self.routes.is_empty() && self.forget_at.is_over(now)
    }

    /// Proposes its routes again (after a link-up).
    pub(crate) fn reapply(&mut self, ctx: &mut Context<'_>, index: u32) {
        for route in self
            .default_route
            .iter_mut()
            .chain(self.routes.values_mut())
        {
            route.reapply(ctx, index);
        }
    }

    /// Withdraws its routes (the router is being removed).
    pub(crate) fn withdraw(&mut self, ctx: &mut Context<'_>, index: u32) {
        if let Some(route) = self.default_route.take() {
            route.withdraw(ctx, index);
        }
        for route in std::mem::take(&mut self.routes).into_values() {
            route.withdraw(ctx, index);
        }
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let routes = self.routes.values().filter_map(RouteEntry::next_timeout);
        // While routes remain, the router is forgotten when the last one
        // ends (its own timer), not at `forget_at`.
        let has_routes = self.default_route.is_some() || !self.routes.is_empty();
        let forget = self.forget_at.instant().filter(|_| !has_routes);
        self.default_route
            .as_ref()
            .and_then(RouteEntry::next_timeout)
            .into_iter()
            .chain(routes)
            .chain(forget)
            .min()
    }

    pub(crate) fn default_route_report(&self, now: Instant) -> Option<DefaultRouteProposalReport> {
        self.default_route
            .as_ref()
            .and_then(|route| route.default_route_report(now))
    }

    pub(crate) fn route_reports(&self, now: Instant) -> impl Iterator<Item = RouteProposalReport> {
        self.routes
            .values()
            .filter_map(move |route| route.route_report(now))
    }

    pub(crate) fn report(&self, now: Instant) -> RouterReport {
        let ra = &self.last;
        let mut report = RouterReport {
            source: self.source,
            received_ago: seconds_since(now, self.received_at),
            cur_hop_limit: ra.cur_hop_limit,
            managed: ra.managed,
            other: ra.other,
            router_lifetime: ra.router_lifetime,
            preference: ra.preference,
            reachable_time: ra.reachable_time,
            retrans_timer: ra.retrans_timer,
            mtu: 0,
            prefixes: Vec::new(),
            rdnss: Vec::new(),
            dnssl: Vec::new(),
            routes: Vec::new(),
            pref64: Vec::new(),
            captive_portal: None,
        };
        for option in &ra.options {
            match option {
                NdOption::Mtu(mtu) => report.mtu = *mtu,
                NdOption::PrefixInformation(info) => report.prefixes.push(prefix_report(info)),
                NdOption::Rdnss { lifetime, servers } => {
                    report
                        .rdnss
                        .extend(servers.iter().map(|&server| RdnssReport {
                            server,
                            lifetime: *lifetime,
                        }));
                }
                NdOption::Dnssl { lifetime, domains } => {
                    report
                        .dnssl
                        .extend(domains.iter().map(|domain| DnsslReport {
                            domain: domain.clone(),
                            lifetime: *lifetime,
                        }));
                }
                NdOption::Pref64(pref64) => report.pref64.push(Pref64Report {
                    prefix: pref64.prefix,
                    prefix_len: pref64.prefix_len,
                    lifetime: u32::from(pref64.lifetime),
                }),
                NdOption::CaptivePortal(uri) => {
                    report.captive_portal.get_or_insert_with(|| uri.clone());
                }
                NdOption::RouteInformation(route) => {
                    report.routes.push(RouteInformationReport {
                        prefix: route.prefix,
                        prefix_len: route.prefix_len,
                        preference: route.preference,
                        lifetime: route.lifetime,
                    });
                }
                _ => {}
            }
        }
        report
    }
}

fn prefix_report(info: &PrefixInformation) -> PrefixReport {
    PrefixReport {
        prefix: info.prefix,
        prefix_len: info.prefix_len,
        on_link: info.on_link,
        autonomous: info.autonomous,
        valid_lifetime: info.valid_lifetime,
        preferred_lifetime: info.preferred_lifetime,
    }
}
