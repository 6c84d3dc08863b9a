//! One network interface's SLAAC state: its routers (with their default and
//! Route Information routes), the addresses formed from their prefixes, its
//! on-link prefixes, DNS, MTU, Neighbor Discovery parameters, solicitation and
//! drop counters, and the checks an advertisement must pass before any of it
//! changes.
//!
//! Advertisement checks beyond the bytes: the interface must be running and
//! the source link-local; then the bytes must parse. Every drop is counted
//! by reason. Caps are enforced here and in the parts: a new router, prefix,
//! address, route or DNS entry beyond its cap is rejected and counted, an
//! existing one is never evicted. Nothing here may touch another interface.

mod address;
mod dns;
mod drops;
mod link_parameters;
mod on_link;
mod prefix;
mod resolicit;
mod route;
mod router;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::net::Ipv6Addr;
use std::time::Instant;

use slaacd_wire::{NdOption, PrefixInformation, RouterAdvert};

use crate::context::Context;
use crate::event::{InterfaceState, Output};
use crate::interface_identifier::IdentifierSource;
use crate::monitor::Happening;
use crate::report::InterfaceReport;
use crate::solicit::Solicitor;
use address::PREFIX_LEN;
use dns::Dns;
use drops::DropCounters;
use link_parameters::LinkParameters;
use on_link::OnLinkPrefixes;
use prefix::{Budget, PrefixEntry};
use router::Router;

/// RFC 8200: the smallest MTU IPv6 runs on; smaller MTU options are ignored.
const MIN_MTU: u32 = 1280;

#[derive(Debug, Clone)]
pub(crate) struct Interface {
    state: InterfaceState,
    solicitor: Solicitor,
    /// The last solicitation left from the unspecified address: the
    /// interface had no usable link-local address yet.
    solicited_from_unspecified: bool,
    routers: BTreeMap<Ipv6Addr, Router>,
    /// Address proposals, by /64 prefix.
    prefixes: BTreeMap<Ipv6Addr, PrefixEntry>,
    on_link: OnLinkPrefixes,
    dns: Dns,
    /// The MTU last proposed.
    mtu: Option<u32>,
    link_parameters: LinkParameters,
    drops: DropCounters,
}

impl Interface {
    /// A newly seen interface; solicits at once if it is running.
    pub(crate) fn new(ctx: &mut Context<'_>, state: InterfaceState) -> Interface {
        let mut interface = Interface {
            state,
            solicitor: Solicitor::default(),
            solicited_from_unspecified: false,
            routers: BTreeMap::new(),
            prefixes: BTreeMap::new(),
            on_link: OnLinkPrefixes::default(),
            dns: Dns::default(),
            mtu: None,
            link_parameters: LinkParameters::default(),
            drops: DropCounters::default(),
        };
        if interface.state.running && interface.solicitor.start(ctx.now) {
            interface.solicit(ctx);
        }
        interface
    }

    /// New kernel facts. A link-up restarts solicitation and proposes the
    /// routes again (the kernel dropped them with the link; addresses it
    /// dropped are reported deleted and come back with the next RA); a
    /// link-down stops solicitation but keeps every proposal until it expires.
    pub(crate) fn update(&mut self, ctx: &mut Context<'_>, state: InterfaceState) {
        let was_running = self.state.running;
        let gained_link_local = self.state.link_local.is_none() && state.link_local.is_some();
        self.state = state;
        match (was_running, self.state.running) {
            (false, true) => {
                let index = self.state.index;
                self.on_link.reapply(ctx, index);
                for router in self.routers.values_mut() {
                    router.reapply(ctx, index);
                }
                if self.solicitor.start(ctx.now) {
                    self.solicit(ctx);
                }
            }
            (true, false) => self.solicitor.stop(),
            // Still unanswered, and the solicitation from :: may have met a
            // router's rate limit on multicast answers: one from the newly
            // usable link-local goes now rather than at the retransmission.
            (true, true)
                if gained_link_local
                    && self.solicited_from_unspecified
                    && self.solicitor.is_probing() =>
            {
                self.solicitor.sent_on_request(ctx.now);
                self.solicit(ctx);
            }
            _ => {}
        }
    }

    /// The interface is gone: withdraw everything it had.
    pub(crate) fn remove(mut self, ctx: &mut Context<'_>) {
        let index = self.state.index;
        for entry in self.prefixes.values_mut() {
            entry.withdraw(ctx, index);
        }
        self.on_link.withdraw(ctx, index);
        for router in self.routers.values_mut() {
            router.withdraw(ctx, index);
        }
        self.dns.withdraw(ctx, index);
    }

    pub(crate) fn solicit_on_request(&mut self, ctx: &mut Context<'_>) {
        self.solicitor.sent_on_request(ctx.now);
        self.solicit(ctx);
    }

    pub(crate) fn advertisement(&mut self, ctx: &mut Context<'_>, source: Ipv6Addr, packet: &[u8]) {
        if !self.state.running {
            self.drops
                .advertisement(ctx, source, "interface-not-running");
            return;
        }
        if !is_link_local(source) {
            self.drops
                .advertisement(ctx, source, "source-not-link-local");
            return;
        }
        let ra = match RouterAdvert::parse(packet) {
            Ok(ra) => ra,
            Err(error) => {
                self.drops.advertisement(ctx, source, error.reason());
                return;
            }
        };
        let index = self.state.index;
        let limits = ctx.config.limits(&self.state.name);
        let routers = self.routers.len();
        let routes: usize = self.routers.values().map(Router::route_count).sum();
        let routes_elsewhere = match self.routers.entry(source) {
            Entry::Occupied(known) => routes - known.get().route_count(),
            Entry::Vacant(_) if routers >= limits.routers => {
                self.drops.advertisement(ctx, source, "routers-limit");
                return;
            }
            Entry::Vacant(new) => {
                new.insert(Router::new(ctx.now, source));
                routes
            }
        };
        let route_room = limits.routes.saturating_sub(routes_elsewhere);
        ctx.monitor.record(|| Happening::AdvertisementReceived {
            source,
            router_lifetime: ra.router_lifetime,
            preference: ra.preference,
        });
        self.solicitor.stop();
        // Addresses first: they make the host usable, and under load every
        // proposal ahead of them is one more wait for the parent's turn.
        for option in &ra.options {
            if let NdOption::PrefixInformation(info) = option {
                self.prefix_information(ctx, info);
            }
        }
        if let Some(router) = self.routers.get_mut(&source) {
            router.advertised(ctx, index, &ra, route_room, &mut self.drops);
        }
        self.link_parameters.advertised(ctx, index, &ra);
        for option in &ra.options {
            match option {
                NdOption::PrefixInformation(info) => {
                    let cap = limits.prefixes;
                    self.on_link
                        .advertised(ctx, index, info, cap, &mut self.drops);
                }
                NdOption::Mtu(mtu) => self.mtu_option(ctx, *mtu),
                _ => {}
            }
        }
        self.dns
            .advertised(ctx, index, &ra.options, &limits, &mut self.drops);
        match self.routers.get_mut(&source) {
            Some(router) if router.is_over(ctx.now) => {
                self.routers.remove(&source);
            }
            Some(router) => router.keep(ra),
            None => {}
        }
    }

    /// RFC 4861 6.3.4: an MTU option of at least 1280 sets the link MTU.
    fn mtu_option(&mut self, ctx: &mut Context<'_>, mtu: u32) {
        if mtu < MIN_MTU {
            self.drops.entry(ctx, "mtu-too-small");
            return;
        }
        if self.mtu != Some(mtu) {
            self.mtu = Some(mtu);
            ctx.emit(Output::ConfigureMtu {
                index: self.state.index,
                mtu,
            });
        }
    }

    /// RFC 4862 5.5.3 (address formation) for one Prefix Information option.
    fn prefix_information(&mut self, ctx: &mut Context<'_>, info: &PrefixInformation) {
        let usable = info.autonomous
            && info.prefix_len == PREFIX_LEN
            && !is_link_local(info.prefix)
            && info.preferred_lifetime <= info.valid_lifetime;
        if !usable {
            return;
        }
        let index = self.state.index;
        let mut budget = self.budget(ctx);
        if let Some(entry) = self.prefixes.get_mut(&info.prefix) {
            entry.advertised(
                ctx,
                index,
                info.valid_lifetime,
                info.preferred_lifetime,
                &mut budget,
                &mut self.drops,
            );
            return;
        }
        if info.valid_lifetime == 0 {
            return;
        }
        if self.prefixes.len() >= ctx.config.limits(&self.state.name).prefixes {
            self.drops.entry(ctx, "prefixes-limit");
            return;
        }
        if budget.free == 0 {
            self.drops.entry(ctx, "addresses-limit");
            return;
        }
        let entry = PrefixEntry::new(
            ctx,
            index,
            info.prefix,
            identifier_source(ctx, &self.state),
            info.valid_lifetime,
            info.preferred_lifetime,
            &mut budget,
            &mut self.drops,
        );
        match entry {
            Some(entry) => {
                self.prefixes.insert(info.prefix, entry);
            }
            None => self.drops.entry(ctx, "no-usable-interface-identifier"),
        }
    }

    /// Room for new addresses under the cap, shared by every prefix.
    fn budget(&self, ctx: &Context<'_>) -> Budget {
        let used: usize = self.prefixes.values().map(PrefixEntry::address_count).sum();
        Budget {
            free: ctx
                .config
                .limits(&self.state.name)
                .addresses
                .saturating_sub(used),
            temporary: ctx.config.engine_temporary_addresses(&self.state.name),
        }
    }

    pub(crate) fn address_deleted(&mut self, address: Ipv6Addr) {
        for entry in self.prefixes.values_mut() {
            entry.address_deleted(address);
        }
    }

    pub(crate) fn dad_failed(&mut self, ctx: &mut Context<'_>, address: Ipv6Addr) {
        let index = self.state.index;
        let mut budget = self.budget(ctx);
        let source = identifier_source(ctx, &self.state);
        for entry in self.prefixes.values_mut() {
            entry.dad_failed(ctx, index, address, source, &mut budget, &mut self.drops);
        }
    }

    pub(crate) fn handle_timeout(&mut self, ctx: &mut Context<'_>) {
        let index = self.state.index;
        let mut resolicit = false;
        let mut budget = self.budget(ctx);
        let drops = &mut self.drops;
        self.prefixes.retain(|_, entry| {
            let over = entry.on_timeout(ctx, index, &mut budget, drops, &mut resolicit);
            if over {
                budget.free += entry.address_count();
            }
            !over
        });
        self.on_link.on_timeout(ctx, index, &mut resolicit);
        self.routers
            .retain(|_, router| !router.on_timeout(ctx, index, &mut resolicit));
        self.dns.on_timeout(ctx, index);
        // Probing only makes sense while the link is up.
        let start = resolicit && self.state.running && self.solicitor.start_if_idle(ctx.now);
        if start || self.solicitor.poll(ctx.now, Some(&mut *ctx.rng)) {
            self.solicit(ctx);
        }
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let addresses = self.prefixes.values().filter_map(PrefixEntry::next_timeout);
        let routers = self.routers.values().filter_map(Router::next_timeout);
        addresses
            .chain(routers)
            .chain(self.on_link.next_timeout())
            .chain(self.dns.next_timeout())
            .chain(self.solicitor.timeout())
            .min()
    }

    pub(crate) fn name(&self) -> &str {
        &self.state.name
    }

    pub(crate) fn report(&self, now: Instant, temporary: bool) -> InterfaceReport {
        InterfaceReport {
            index: self.state.index,
            name: self.state.name.clone(),
            running: self.state.running,
            temporary,
            hw_address: self.state.hw_address.clone(),
            link_local: self.state.link_local,
            routers: self
                .routers
                .values()
                .map(|router| router.report(now))
                .collect(),
            address_proposals: self
                .prefixes
                .values()
                .flat_map(|entry| entry.reports(now))
                .collect(),
            default_route_proposals: self
                .routers
                .values()
                .filter_map(|router| router.default_route_report(now))
                .collect(),
            route_proposals: self
                .on_link
                .reports(now)
                .chain(
                    self.routers
                        .values()
                        .flat_map(|router| router.route_reports(now)),
                )
                .collect(),
            mtu: self.mtu,
            dns_servers: self.dns.servers().to_vec(),
            search_domains: self.dns.search_domains().to_vec(),
            dropped: self.drops.report(),
        }
    }

    fn solicit(&mut self, ctx: &mut Context<'_>) {
        self.solicited_from_unspecified = self.state.link_local.is_none();
        ctx.emit(Output::SendSolicitation {
            index: self.state.index,
        });
    }
}

/// Where the interface's stable interface identifiers come from.
fn identifier_source<'a>(ctx: &Context<'_>, state: &'a InterfaceState) -> IdentifierSource<'a> {
    IdentifierSource {
        kind: ctx.config.interface_identifier(&state.name),
        hw_address: &state.hw_address,
        name: &state.name,
    }
}

/// fe80::/10.
fn is_link_local(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfe80
}
