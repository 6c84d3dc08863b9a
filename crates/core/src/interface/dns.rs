//! RFC 8106 DNS configuration of one interface: recursive DNS servers and
//! search domains from every router, each with its own lifetime, capped, and
//! proposed as one whole set whenever the set changes (not when only a
//! lifetime moves: resolvers hold no lifetimes, the engine expires entries).
//!
//! A lifetime 0 removes an entry at once. A new entry beyond the cap is
//! rejected and counted; existing ones are never evicted. This module must
//! never decide about addresses or routes.

use std::net::Ipv6Addr;
use std::time::Instant;

use slaacd_wire::NdOption;

use crate::config::Limits;
use crate::context::Context;
use crate::event::Output;
use crate::interface::drops::DropCounters;
use crate::lifetime::Expiry;

/// Entries with lifetimes, in the order they were first advertised.
#[derive(Debug, Clone)]
struct Entries<T> {
    items: Vec<(T, Expiry)>,
    limit_reason: &'static str,
}

impl<T: PartialEq + Clone> Entries<T> {
    fn new(limit_reason: &'static str) -> Entries<T> {
        Entries {
            items: Vec::new(),
            limit_reason,
        }
    }

    /// One advertised entry; a new one is rejected when `cap` are held.
    fn advertised(
        &mut self,
        ctx: &mut Context<'_>,
        item: &T,
        lifetime: u32,
        cap: usize,
        drops: &mut DropCounters,
    ) {
        let now = ctx.now;
        let known = self.items.iter().position(|(known, _)| known == item);
        match known {
            Some(position) if lifetime == 0 => {
                self.items.remove(position);
            }
            Some(position) => self.items[position].1 = Expiry::after(now, lifetime),
            None if lifetime == 0 => {}
            None if self.items.len() >= cap => drops.entry(ctx, self.limit_reason),
            None => self
                .items
                .push((item.clone(), Expiry::after(now, lifetime))),
        }
    }

    fn expire(&mut self, now: Instant) {
        self.items.retain(|(_, expiry)| !expiry.is_over(now));
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.items
            .iter()
            .filter_map(|(_, expiry)| expiry.instant())
            .min()
    }

    /// Whether the entries are exactly `items`, in order.
    fn holds(&self, items: &[T]) -> bool {
        self.items.iter().map(|(item, _)| item).eq(items)
    }

    fn current(&self) -> Vec<T> {
        self.items.iter().map(|(item, _)| item.clone()).collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Dns {
    servers: Entries<Ipv6Addr>,
    domains: Entries<String>,
    proposed_servers: Vec<Ipv6Addr>,
    proposed_domains: Vec<String>,
}

impl Default for Dns {
    fn default() -> Dns {
        Dns {
            servers: Entries::new("dns-servers-limit"),
            domains: Entries::new("search-domains-limit"),
            proposed_servers: Vec::new(),
            proposed_domains: Vec::new(),
        }
    }
}

impl Dns {
    /// Takes in the RDNSS and DNSSL options of one advertisement, under the
    /// interface's `limits`.
    pub(crate) fn advertised(
        &mut self,
        ctx: &mut Context<'_>,
        index: u32,
        options: &[NdOption],
        limits: &Limits,
        drops: &mut DropCounters,
    ) {
        for option in options {
            match option {
                NdOption::Rdnss { lifetime, servers } => {
                    for server in servers {
                        if usable_server(*server) {
                            let cap = limits.dns_servers;
                            self.servers.advertised(ctx, server, *lifetime, cap, drops);
                        } else {
                            drops.entry(ctx, "rdnss-unusable-server");
                        }
                    }
                }
                NdOption::Dnssl { lifetime, domains } => {
                    for domain in domains {
                        let domain = domain.to_ascii_lowercase();
                        let cap = limits.search_domains;
                        self.domains.advertised(ctx, &domain, *lifetime, cap, drops);
                    }
                }
                _ => {}
            }
        }
        self.propose_if_changed(ctx, index);
    }

    pub(crate) fn on_timeout(&mut self, ctx: &mut Context<'_>, index: u32) {
        self.servers.expire(ctx.now);
        self.domains.expire(ctx.now);
        self.propose_if_changed(ctx, index);
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [self.servers.next_timeout(), self.domains.next_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The interface is gone: propose an empty set if anything was proposed.
    pub(crate) fn withdraw(&mut self, ctx: &mut Context<'_>, index: u32) {
        self.servers.items.clear();
        self.domains.items.clear();
        self.propose_if_changed(ctx, index);
    }

    pub(crate) fn servers(&self) -> &[Ipv6Addr] {
        &self.proposed_servers
    }

    pub(crate) fn search_domains(&self) -> &[String] {
        &self.proposed_domains
    }

    fn propose_if_changed(&mut self, ctx: &mut Context<'_>, index: u32) {
        if self.servers.holds(&self.proposed_servers) && self.domains.holds(&self.proposed_domains)
        {
            return;
        }
        let servers = self.servers.current();
        let domains = self.domains.current();
        self.proposed_servers = servers.clone();
        self.proposed_domains = domains.clone();
        ctx.emit(Output::ConfigureDns {
            index,
            servers,
            search_domains: domains,
        });
    }
}

/// A server address a resolver can use: unicast, not unspecified or
/// loopback. Link-local ones are fine (they need the interface's scope).
fn usable_server(address: Ipv6Addr) -> bool {
    !(address.is_unspecified() || address.is_loopback() || address.is_multicast())
}
