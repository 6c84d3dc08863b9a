//! Test harness: an engine on a virtual clock, advertisement builders and a
//! model of the kernel that applies the engine's outputs with their
//! lifetimes, so tests can check that nothing lapses.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use slaacd_core::{Config, Engine, Input, InterfaceState, Output, RouteVia, RouterPreference};
use slaacd_wire::{NdOption, PrefixInformation, RouterAdvert};

pub const KEY: [u8; 16] = [0x42; 16];
pub const MAC: [u8; 6] = [0x02, 0, 0, 0xaa, 0xbb, 0xcc];

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn router(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n)
}

pub fn prefix(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, n, 0, 0, 0, 0, 0)
}

pub fn pio(prefix: Ipv6Addr, valid: u32, preferred: u32) -> NdOption {
    NdOption::PrefixInformation(PrefixInformation {
        prefix,
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
    })
}

pub fn advert(router_lifetime: u16, options: Vec<NdOption>) -> RouterAdvert {
    RouterAdvert {
        cur_hop_limit: 0,
        managed: false,
        other: false,
        preference: RouterPreference::Medium,
        router_lifetime,
        reachable_time: 0,
        retrans_timer: 0,
        options,
    }
}

/// What the kernel would hold after applying the outputs, with expiries.
#[derive(Debug, Default)]
pub struct Kernel {
    /// address -> (valid until, preferred until); `None` is infinite.
    pub addresses: BTreeMap<Ipv6Addr, (Option<Instant>, Option<Instant>)>,
    /// router -> route until.
    pub routes: BTreeMap<Ipv6Addr, Option<Instant>>,
    /// (router, prefix, length) -> route until.
    pub specific_routes: BTreeMap<(Ipv6Addr, Ipv6Addr, u8), Option<Instant>>,
    /// (prefix, length) -> on-link route until.
    pub on_link_routes: BTreeMap<(Ipv6Addr, u8), Option<Instant>>,
    /// (cur hop limit, reachable time, retrans timer).
    pub link_parameters: Option<(u8, u32, u32)>,
    pub mtu: Option<u32>,
    pub dns_servers: Vec<Ipv6Addr>,
    pub search_domains: Vec<String>,
    pub address_writes: usize,
    /// Default and Route Information route writes.
    pub route_writes: usize,
    pub on_link_writes: usize,
}

fn until(now: Instant, lifetime: u32) -> Option<Instant> {
    (lifetime != u32::MAX).then(|| now + secs(u64::from(lifetime)))
}

impl Kernel {
    pub fn apply(&mut self, now: Instant, output: &Output) {
        match output {
            Output::ConfigureAddress(p) => {
                self.address_writes += 1;
                self.addresses.insert(
                    p.address,
                    (
                        until(now, p.valid_lifetime),
                        until(now, p.preferred_lifetime),
                    ),
                );
            }
            Output::WithdrawAddress { address, .. } => {
                self.addresses.remove(address);
            }
            Output::ConfigureDefaultRoute(r) => {
                self.route_writes += 1;
                self.routes.insert(r.router, until(now, r.lifetime));
            }
            Output::WithdrawDefaultRoute { router, .. } => {
                self.routes.remove(router);
            }
            Output::ConfigureRoute(r) => {
                let lifetime = until(now, r.lifetime);
                match r.via {
                    RouteVia::OnLink => {
                        self.on_link_writes += 1;
                        self.on_link_routes
                            .insert((r.prefix, r.prefix_len), lifetime);
                    }
                    RouteVia::Router(router) => {
                        self.route_writes += 1;
                        self.specific_routes
                            .insert((router, r.prefix, r.prefix_len), lifetime);
                    }
                }
            }
            Output::WithdrawRoute {
                prefix,
                prefix_len,
                via,
                ..
            } => match via {
                RouteVia::OnLink => {
                    self.on_link_routes.remove(&(*prefix, *prefix_len));
                }
                RouteVia::Router(router) => {
                    self.specific_routes
                        .remove(&(*router, *prefix, *prefix_len));
                }
            },
            Output::ConfigureLinkParameters {
                cur_hop_limit,
                reachable_time,
                retrans_timer,
                ..
            } => self.link_parameters = Some((*cur_hop_limit, *reachable_time, *retrans_timer)),
            Output::ConfigureMtu { mtu, .. } => self.mtu = Some(*mtu),
            Output::ConfigureDns {
                servers,
                search_domains,
                ..
            } => {
                self.dns_servers = servers.clone();
                self.search_domains = search_domains.clone();
            }
            Output::SendSolicitation { .. } => {}
        }
    }

    /// Entries the kernel itself would have expired by `now`.
    pub fn lapsed(&self, now: Instant) -> Vec<String> {
        let over = |at: &Option<Instant>| at.is_some_and(|at| at <= now);
        let mut lapsed = Vec::new();
        for (address, (valid, preferred)) in &self.addresses {
            if over(valid) {
                lapsed.push(format!("address {address} valid"));
            }
            if over(preferred) {
                lapsed.push(format!("address {address} preferred"));
            }
        }
        for (router, until) in &self.routes {
            if over(until) {
                lapsed.push(format!("route via {router}"));
            }
        }
        for ((router, prefix, len), until) in &self.specific_routes {
            if over(until) {
                lapsed.push(format!("route to {prefix}/{len} via {router}"));
            }
        }
        for ((prefix, len), until) in &self.on_link_routes {
            if over(until) {
                lapsed.push(format!("on-link route to {prefix}/{len}"));
            }
        }
        lapsed
    }
}

/// An engine on a virtual clock with a log of every output.
pub struct Harness {
    pub engine: Engine,
    pub start: Instant,
    pub now: Instant,
    pub kernel: Kernel,
    /// Every output so far, with the virtual time in seconds since start.
    pub log: Vec<(f64, Output)>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_config(Config::new(KEY.to_vec(), 7))
    }

    pub fn with_config(config: Config) -> Harness {
        let start = Instant::now();
        Harness {
            engine: Engine::new(config),
            start,
            now: start,
            kernel: Kernel::default(),
            log: Vec::new(),
        }
    }

    /// A harness whose engine makes RFC 8981 temporary addresses.
    pub fn with_temporary_addresses() -> Harness {
        let mut h = Harness::new();
        h.engine = h.engine.clone().with_temporary_addresses(true);
        h
    }

    pub fn at(&self, s: u64) -> Instant {
        self.start + secs(s)
    }

    pub fn elapsed(&self) -> f64 {
        (self.now - self.start).as_secs_f64()
    }

    fn drain(&mut self) -> Vec<Output> {
        let mut outputs = Vec::new();
        while let Some(output) = self.engine.poll_output() {
            self.kernel.apply(self.now, &output);
            self.log.push((self.elapsed(), output.clone()));
            outputs.push(output);
        }
        outputs
    }

    pub fn input(&mut self, input: Input) -> Vec<Output> {
        self.engine.handle(self.now, input);
        self.drain()
    }

    /// Runs every timer up to `to`, then sets the clock to `to`.
    pub fn advance_to(&mut self, to: Instant) -> Vec<Output> {
        let mut outputs = Vec::new();
        let mut rounds = 0;
        while let Some(deadline) = self.engine.poll_timeout() {
            if deadline > to {
                break;
            }
            rounds += 1;
            assert!(
                rounds < 100_000,
                "timers do not make progress at {deadline:?}"
            );
            self.now = self.now.max(deadline);
            self.engine.handle_timeout(self.now);
            outputs.extend(self.drain());
        }
        self.now = to;
        outputs
    }

    pub fn advance(&mut self, by: Duration) -> Vec<Output> {
        self.advance_to(self.now + by)
    }

    pub fn interface(&mut self, index: u32, running: bool) -> Vec<Output> {
        self.input(Input::InterfaceUpdate(InterfaceState {
            index,
            name: format!("eth{index}"),
            running,
            hw_address: MAC.to_vec(),
            link_local: Some(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x99)),
        }))
    }

    pub fn ra(&mut self, index: u32, source: Ipv6Addr, ra: &RouterAdvert) -> Vec<Output> {
        self.input(Input::RouterAdvertisement {
            index,
            source,
            packet: ra.emit(),
        })
    }

    pub fn report(&self, index: u32) -> slaacd_core::InterfaceReport {
        self.engine
            .report(self.now, Some(index))
            .pop()
            .expect("the interface is known")
    }
}

pub fn configured_addresses(outputs: &[Output]) -> Vec<slaacd_core::AddressProposal> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::ConfigureAddress(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

pub fn solicitations(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .filter(|output| matches!(output, Output::SendSolicitation { .. }))
        .count()
}
