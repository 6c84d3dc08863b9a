//! The two fuzz targets as plain functions, so that the libFuzzer binaries in
//! `fuzz_targets/` and slaacd-core's corpus replay test (plain `cargo test`,
//! which includes this file) run exactly the same code: [`parse_router_advert`]
//! and [`engine_sequence`], each of which panics when a property breaks.
//!
//! It must never depend on libFuzzer, the system clock or the environment:
//! the same bytes always take the same path.
//!
//! # The engine script format
//!
//! The first byte sets the engine up ([`Setup`]): bit 0 turns temporary
//! addresses on, bit 1 gives interface 2 modified EUI-64 identifiers. Then
//! each step starts with an opcode byte (taken modulo 8) and its operands;
//! a step cut short by the end of the bytes is dropped:
//!
//! | op | step | operands |
//! |----|------|----------|
//! | 0 | interface update | flags: bit 0 index 1/2, bit 1 running, bits 2-3 hardware address length 0/6/8/0, then that many bytes |
//! | 1 | interface removed | index byte (bit 0) |
//! | 2 | router advertisement | flags: bit 0 index, bit 1 non-link-local source; source byte; 2-byte big-endian length; that many packet bytes |
//! | 3 | address deleted | index byte, n: the n-th (mod count) address proposal of the interface |
//! | 4 | DAD failed | as 3 |
//! | 5 | solicitation requested | index byte |
//! | 6 | wait | 3-byte big-endian seconds, running every timer on the way |
//! | 7 | next timer | none: jump to the engine's next deadline and run it |

use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use slaacd_core::{
    Config, Engine, Input, InterfaceIdentifier, InterfaceReport, InterfaceState, Limits, Output,
    RouteVia,
};
use slaacd_wire::RouterAdvert;

/// Timer rounds one wait may take before the engine counts as stuck: far
/// more than any legitimate sequence needs (solicitations back off to an
/// hour, lifetimes are refreshed at half their length).
const MAX_TIMER_ROUNDS: usize = 100_000;

/// Parses any bytes as a Router Advertisement. Properties: no panic; an
/// accepted advertisement emits to bytes that parse to the same advertisement
/// and emit to the same bytes.
pub fn parse_router_advert(data: &[u8]) {
    let Ok(ra) = RouterAdvert::parse(data) else {
        return;
    };
    let emitted = ra.emit();
    let again = RouterAdvert::parse(&emitted)
        .unwrap_or_else(|error| panic!("an emitted advertisement does not parse: {error}"));
    assert_eq!(again.emit(), emitted, "emit is not stable");
    assert_eq!(
        again.options.len(),
        ra.options.len(),
        "options were lost or made up"
    );
}

/// How the engine is configured for one script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    pub temporary_addresses: bool,
    pub eui64_on_interface_2: bool,
}

/// One step of an engine script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    InterfaceUpdate {
        index: u32,
        running: bool,
        hw_address: Vec<u8>,
    },
    InterfaceRemoved {
        index: u32,
    },
    RouterAdvertisement {
        index: u32,
        /// fe80::`source_byte`, or 2001:db8::`source_byte` when not
        /// link-local.
        link_local: bool,
        source_byte: u8,
        packet: Vec<u8>,
    },
    AddressDeleted {
        index: u32,
        nth: u8,
    },
    DadFailed {
        index: u32,
        nth: u8,
    },
    SolicitationRequested {
        index: u32,
    },
    Wait {
        /// At most 2^24 - 1.
        seconds: u32,
    },
    NextTimer,
}

/// Reads an engine script; never fails (see the module documentation).
pub fn decode(data: &[u8]) -> (Setup, Vec<Step>) {
    let mut reader = Reader { data };
    let setup_byte = reader.byte().unwrap_or(0);
    let setup = Setup {
        temporary_addresses: setup_byte & 1 != 0,
        eui64_on_interface_2: setup_byte & 2 != 0,
    };
    let mut steps = Vec::new();
    while let Some(op) = reader.byte() {
        match reader.step(op) {
            Some(step) => steps.push(step),
            None => break,
        }
    }
    (setup, steps)
}

/// Writes an engine script that [`decode`] reads back as `setup` and `steps`
/// (used to build the seed corpus). Values beyond what the format holds are
/// cut: a packet to 65535 bytes, a wait to 2^24 - 1 seconds.
pub fn encode(setup: Setup, steps: &[Step]) -> Vec<u8> {
    let mut out =
        vec![u8::from(setup.temporary_addresses) | u8::from(setup.eui64_on_interface_2) << 1];
    let index_bit = |index: u32| u8::from(index == 2);
    for step in steps {
        match step {
            Step::InterfaceUpdate {
                index,
                running,
                hw_address,
            } => {
                let (code, len) = match hw_address.len() {
                    6 => (1, 6),
                    8 => (2, 8),
                    _ => (0, 0),
                };
                out.push(0);
                out.push(index_bit(*index) | u8::from(*running) << 1 | code << 2);
                out.extend_from_slice(&hw_address[..len]);
            }
            Step::InterfaceRemoved { index } => out.extend_from_slice(&[1, index_bit(*index)]),
            Step::RouterAdvertisement {
                index,
                link_local,
                source_byte,
                packet,
            } => {
                let packet = &packet[..packet.len().min(usize::from(u16::MAX))];
                out.push(2);
                out.push(index_bit(*index) | u8::from(!link_local) << 1);
                out.push(*source_byte);
                out.extend_from_slice(&(packet.len() as u16).to_be_bytes());
                out.extend_from_slice(packet);
            }
            Step::AddressDeleted { index, nth } => {
                out.extend_from_slice(&[3, index_bit(*index), *nth])
            }
            Step::DadFailed { index, nth } => out.extend_from_slice(&[4, index_bit(*index), *nth]),
            Step::SolicitationRequested { index } => out.extend_from_slice(&[5, index_bit(*index)]),
            Step::Wait { seconds } => {
                out.push(6);
                out.extend_from_slice(&seconds.min(&0xff_ffff).to_be_bytes()[1..]);
            }
            Step::NextTimer => out.push(7),
        }
    }
    out
}

struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(first)
    }

    fn bytes(&mut self, count: usize) -> Option<Vec<u8>> {
        let taken = self.data.get(..count)?.to_vec();
        self.data = &self.data[count..];
        Some(taken)
    }

    fn index(&mut self) -> Option<u32> {
        self.byte().map(|byte| 1 + u32::from(byte & 1))
    }

    fn step(&mut self, op: u8) -> Option<Step> {
        Some(match op % 8 {
            0 => {
                let flags = self.byte()?;
                let len = [0, 6, 8, 0][usize::from(flags >> 2 & 3)];
                Step::InterfaceUpdate {
                    index: 1 + u32::from(flags & 1),
                    running: flags & 2 != 0,
                    hw_address: self.bytes(len)?,
                }
            }
            1 => Step::InterfaceRemoved {
                index: self.index()?,
            },
            2 => {
                let flags = self.byte()?;
                let source_byte = self.byte()?;
                let len = u16::from_be_bytes([self.byte()?, self.byte()?]);
                Step::RouterAdvertisement {
                    index: 1 + u32::from(flags & 1),
                    link_local: flags & 2 == 0,
                    source_byte,
                    packet: self.bytes(usize::from(len))?,
                }
            }
            3 => Step::AddressDeleted {
                index: self.index()?,
                nth: self.byte()?,
            },
            4 => Step::DadFailed {
                index: self.index()?,
                nth: self.byte()?,
            },
            5 => Step::SolicitationRequested {
                index: self.index()?,
            },
            6 => Step::Wait {
                seconds: u32::from_be_bytes([0, self.byte()?, self.byte()?, self.byte()?]),
            },
            _ => Step::NextTimer,
        })
    }
}

/// Runs an engine script. Properties: no panic; timers always make progress;
/// every table of every interface stays within its cap; every output is
/// well-formed (see [`check_output`]).
pub fn engine_sequence(data: &[u8]) {
    let (setup, steps) = decode(data);
    let mut run = Run::new(setup);
    for step in steps {
        run.step(step);
    }
}

struct Run {
    engine: Engine,
    limits: Limits,
    now: Instant,
    /// Addresses proposed and not withdrawn, by interface.
    configured: BTreeSet<(u32, Ipv6Addr)>,
}

impl Run {
    fn new(setup: Setup) -> Run {
        let mut config = Config::new(vec![0x5a; 16], 1);
        config.temporary_addresses = setup.temporary_addresses;
        if setup.eui64_on_interface_2 {
            config
                .interface_identifiers
                .insert(interface_name(2), InterfaceIdentifier::Eui64);
        }
        let limits = config.limits;
        Run {
            engine: Engine::new(config),
            limits,
            now: Instant::now(),
            configured: BTreeSet::new(),
        }
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::InterfaceUpdate {
                index,
                running,
                hw_address,
            } => self.input(Input::InterfaceUpdate(InterfaceState {
                index,
                name: interface_name(index),
                running,
                hw_address,
                link_local: None,
            })),
            Step::InterfaceRemoved { index } => self.input(Input::InterfaceRemoved { index }),
            Step::RouterAdvertisement {
                index,
                link_local,
                source_byte,
                packet,
            } => {
                let first = if link_local { 0xfe80 } else { 0x2001 };
                let source = Ipv6Addr::new(first, 0, 0, 0, 0, 0, 0, u16::from(source_byte));
                self.input(Input::RouterAdvertisement {
                    index,
                    source,
                    packet,
                });
            }
            Step::AddressDeleted { index, nth } => {
                if let Some(address) = self.nth_address(index, nth) {
                    self.configured.remove(&(index, address));
                    self.input(Input::AddressDeleted { index, address });
                }
            }
            Step::DadFailed { index, nth } => {
                if let Some(address) = self.nth_address(index, nth) {
                    self.input(Input::DadFailed { index, address });
                }
            }
            Step::SolicitationRequested { index } => {
                self.input(Input::SolicitationRequested { index });
            }
            Step::Wait { seconds } => self.wait(Duration::from_secs(u64::from(seconds))),
            Step::NextTimer => {
                if let Some(deadline) = self.engine.poll_timeout() {
                    self.now = self.now.max(deadline);
                    self.timeout();
                }
            }
        }
        self.check_caps();
    }

    fn input(&mut self, input: Input) {
        self.engine.handle(self.now, input);
        self.drain();
    }

    fn wait(&mut self, by: Duration) {
        let until = self.now + by;
        for _ in 0..MAX_TIMER_ROUNDS {
            match self.engine.poll_timeout() {
                Some(deadline) if deadline <= until => {
                    self.now = self.now.max(deadline);
                    self.timeout();
                }
                _ => {
                    self.now = until;
                    return;
                }
            }
        }
        panic!("timers made no progress in {MAX_TIMER_ROUNDS} rounds");
    }

    /// Runs the timers due now; none may still be due afterwards.
    fn timeout(&mut self) {
        self.engine.handle_timeout(self.now);
        self.drain();
        if let Some(deadline) = self.engine.poll_timeout() {
            assert!(deadline > self.now, "a timer is still due after it ran");
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            check_output(&output);
            match output {
                Output::ConfigureAddress(p) => {
                    self.configured.insert((p.index, p.address));
                }
                Output::WithdrawAddress { index, address, .. } => {
                    self.configured.remove(&(index, address));
                }
                _ => {}
            }
        }
        for index in [1, 2] {
            let held = self.configured.iter().filter(|(i, _)| *i == index).count();
            assert!(
                held <= self.limits.addresses,
                "{held} addresses configured on interface {index}"
            );
        }
    }

    fn nth_address(&self, index: u32, nth: u8) -> Option<Ipv6Addr> {
        let report = self.engine.report(self.now, Some(index)).pop()?;
        let proposals = &report.address_proposals;
        (!proposals.is_empty()).then(|| proposals[usize::from(nth) % proposals.len()].address)
    }

    fn check_caps(&self) {
        for report in self.engine.report(self.now, None) {
            check_report(&report, &self.limits);
        }
    }
}

fn interface_name(index: u32) -> String {
    format!("if{index}")
}

/// What every output must look like, whatever the input.
fn check_output(output: &Output) {
    match output {
        Output::ConfigureAddress(p) => {
            assert_eq!(p.prefix_len, 64, "{output:?}");
            assert!(p.preferred_lifetime <= p.valid_lifetime, "{output:?}");
            assert!(p.valid_lifetime > 0, "{output:?}");
            assert!(!is_link_local(p.address), "{output:?}");
        }
        Output::ConfigureDefaultRoute(r) => {
            assert!(
                r.lifetime > 0 && r.lifetime <= u32::from(u16::MAX),
                "{output:?}"
            );
            assert!(is_link_local(r.router), "{output:?}");
        }
        Output::ConfigureRoute(r) => {
            assert!((1..=128).contains(&r.prefix_len), "{output:?}");
            assert!(r.lifetime > 0, "{output:?}");
            let host_mask = u128::MAX.checked_shr(u32::from(r.prefix_len)).unwrap_or(0);
            let host_bits = u128::from(r.prefix) & host_mask;
            assert_eq!(host_bits, 0, "{output:?}");
            if let RouteVia::Router(router) = r.via {
                assert!(is_link_local(router), "{output:?}");
            }
        }
        Output::ConfigureMtu { mtu, .. } => assert!(*mtu >= 1280, "{output:?}"),
        Output::ConfigureLinkParameters {
            cur_hop_limit,
            reachable_time,
            retrans_timer,
            ..
        } => assert!(
            *cur_hop_limit != 0 || *reachable_time != 0 || *retrans_timer != 0,
            "{output:?}"
        ),
        Output::SendSolicitation { .. }
        | Output::WithdrawAddress { .. }
        | Output::WithdrawDefaultRoute { .. }
        | Output::WithdrawRoute { .. }
        | Output::ConfigureDns { .. } => {}
    }
}

fn check_report(report: &InterfaceReport, limits: &Limits) {
    let index = report.index;
    assert!(report.routers.len() <= limits.routers, "routers on {index}");
    assert!(
        report.address_proposals.len() <= limits.addresses,
        "addresses on {index}"
    );
    assert!(
        report.route_proposals.len() <= limits.routes + limits.prefixes,
        "routes on {index}"
    );
    assert!(
        report.default_route_proposals.len() <= report.routers.len(),
        "default routes on {index}"
    );
    assert!(
        report.dns_servers.len() <= limits.dns_servers,
        "DNS servers on {index}"
    );
    assert!(
        report.search_domains.len() <= limits.search_domains,
        "search domains on {index}"
    );
}

/// fe80::/10.
fn is_link_local(address: Ipv6Addr) -> bool {
    address.segments()[0] & 0xffc0 == 0xfe80
}
