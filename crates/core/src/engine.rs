//! The engine: routes each input to its interface, runs due timers, queues
//! outputs (and, while monitored, events labelled with the interface of the
//! step) and answers reports. It owns all state and no I/O: time comes in
//! with every call, randomness from the seeded RNG in the [`Config`]. Inputs
//! for unknown interfaces are ignored (an advertisement has no counter to go
//! to before its interface exists).

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::config::Config;
use crate::context::Context;
use crate::event::{Input, Output};
use crate::interface::Interface;
use crate::monitor::{Monitor, MonitorEvent};
use crate::report::InterfaceReport;

#[derive(Debug, Clone)]
pub struct Engine {
    config: Config,
    rng: SmallRng,
    next_id: u64,
    interfaces: BTreeMap<u32, Interface>,
    outputs: VecDeque<Output>,
    monitor: Monitor,
}

impl Engine {
    /// Uses the configuration as given; see [`Config::validate`].
    pub fn new(config: Config) -> Engine {
        Engine {
            rng: SmallRng::seed_from_u64(config.rng_seed),
            config,
            next_id: 0,
            interfaces: BTreeMap::new(),
            outputs: VecDeque::new(),
            monitor: Monitor::default(),
        }
    }

    /// Sets [`Config::temporary_addresses`]. Set it before the first input:
    /// prefixes seen earlier only get them from their next advertisement on.
    pub fn with_temporary_addresses(mut self, enabled: bool) -> Engine {
        self.config.temporary_addresses = enabled;
        self
    }

    pub fn handle(&mut self, now: Instant, input: Input) {
        let index = input.index();
        let (mut ctx, interfaces) = self.step(now);
        match input {
            Input::InterfaceUpdate(state) => match interfaces.get_mut(&state.index) {
                Some(interface) => interface.update(&mut ctx, state),
                None => {
                    let index = state.index;
                    interfaces.insert(index, Interface::new(&mut ctx, state));
                }
            },
            Input::InterfaceRemoved { index } => {
                if let Some(interface) = interfaces.remove(&index) {
                    let name = interface.name().to_owned();
                    interface.remove(&mut ctx);
                    ctx.monitor.label(index, &name);
                }
            }
            Input::RouterAdvertisement {
                index,
                source,
                packet,
            } => {
                if let Some(interface) = interfaces.get_mut(&index) {
                    interface.advertisement(&mut ctx, source, &packet);
                }
            }
            Input::AddressDeleted { index, address } => {
                if let Some(interface) = interfaces.get_mut(&index) {
                    interface.address_deleted(address);
                }
            }
            Input::DadFailed { index, address } => {
                if let Some(interface) = interfaces.get_mut(&index) {
                    interface.dad_failed(&mut ctx, address);
                }
            }
            Input::SolicitationRequested { index } => {
                if let Some(interface) = interfaces.get_mut(&index) {
                    interface.solicit_on_request(&mut ctx);
                }
            }
        }
        if let Some(interface) = interfaces.get(&index) {
            ctx.monitor.label(index, interface.name());
        }
    }

    /// The context of one step at `now`, borrowed apart from the interfaces
    /// so that both can be used at once.
    fn step(&mut self, now: Instant) -> (Context<'_>, &mut BTreeMap<u32, Interface>) {
        let Engine {
            config,
            rng,
            next_id,
            interfaces,
            outputs,
            monitor,
        } = self;
        let ctx = Context {
            now,
            outputs,
            monitor,
            rng,
            next_id,
            config,
        };
        (ctx, interfaces)
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let (mut ctx, interfaces) = self.step(now);
        for (index, interface) in interfaces.iter_mut() {
            if interface.next_timeout().is_some_and(|at| at <= now) {
                interface.handle_timeout(&mut ctx);
                ctx.monitor.label(*index, interface.name());
            }
        }
    }

    /// The next action to carry out, in the order they were decided.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Turns the recording of [`MonitorEvent`]s on or off. While it is on,
    /// drain them with [`Engine::poll_event`] after every step; turning it
    /// off forgets those not drained.
    pub fn set_monitoring(&mut self, enabled: bool) {
        self.monitor.set_enabled(enabled);
    }

    /// The next event, in the order they happened.
    pub fn poll_event(&mut self) -> Option<MonitorEvent> {
        self.monitor.poll()
    }

    /// When [`Engine::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.interfaces
            .values()
            .filter_map(Interface::next_timeout)
            .min()
    }

    pub fn knows_interface(&self, index: u32) -> bool {
        self.interfaces.contains_key(&index)
    }

    /// `None` reports every interface.
    pub fn report(&self, now: Instant, index: Option<u32>) -> Vec<InterfaceReport> {
        self.interfaces
            .iter()
            .filter(|(known, _)| index.is_none_or(|wanted| wanted == **known))
            .map(|(_, interface)| {
                let temporary = self.config.has_temporary_addresses(interface.name());
                interface.report(now, temporary)
            })
            .collect()
    }
}
