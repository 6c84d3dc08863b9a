//! The engine's Cap'n Proto face: `EngineMain` for the parent, `Engine` for
//! the frontend, and the loop that turns the core's outputs into calls on the
//! parent's `Kernel` and the frontend's `Frontend` capabilities, and its
//! events (with the parent's answers) into `slaacctl monitor`'s (see
//! `monitor`).
//!
//! Nothing here decides anything: every input goes to `slaacd_core::Engine`
//! and every output comes from it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::net::Ipv6Addr;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::time::Instant;

use anyhow::{Context, anyhow};
use capnp::capability::Promise;
use futures::future::{self, Either};
use slaacd_core::{Config, Input, InterfaceIdentifier, InterfaceState, Limits, Output};
use slaacd_core::{Happening, MonitorEvent, ProposalChange};
use slaacd_ipc::channel;
use slaacd_ipc::convert::{read_ip6, read_link_local, write_ip6};
use slaacd_ipc::slaacd_capnp::{
    self as schema, engine, engine_config, engine_main, frontend, kernel,
};
use slaacd_ipc::{Channel, FdQueues, Side};
use slaacd_log::LogHandle;
use tokio::sync::{Notify, oneshot};

use crate::monitor::{self, Monitors};
use crate::proposal_schema;

/// The most Router Advertisements one `routerAdvertisements` call may carry
/// (the schema's constant, the frontend's batch). A longer list comes only from a broken frontend; it
/// is refused whole, before any entry is read, so its cost does not grow
/// with its length (taking a part of it would hide the fault and still
/// read the rest), and counted (see [`RefusedBatches`]).
const MAX_ADVERTISEMENTS_PER_CALL: u32 = schema::MAX_ADVERTISEMENTS_PER_CALL;

/// Serves the parent's channel until the parent closes it (an orderly stop) or
/// the frontend's channel closes (the frontend died: an error).
/// `log` is the engine's logging, which `slaacctl log` changes.
pub async fn serve(parent_channel: OwnedFd, log: LogHandle) -> anyhow::Result<()> {
    let (started, frontend_gone) = oneshot::channel();
    let parent = Channel::open(parent_channel, Side::Server, |queues| {
        let main: engine_main::Client = capnp_rpc::new_client(EngineMainImpl {
            queues: queues.clone(),
            started: RefCell::new(Some(started)),
            log,
        });
        Some(main.client)
    })
    .context("setting up the parent's channel")?;

    let frontend_gone = async move {
        match frontend_gone.await {
            Ok(direct_rpc) => direct_rpc.await,
            // The parent left before it started us.
            Err(_) => future::pending().await,
        }
    };
    match future::select(parent.rpc, Box::pin(frontend_gone)).await {
        Either::Left((result, _)) => {
            result.context("the parent's channel failed")?;
            tracing::info!("the parent closed its channel; exiting");
            Ok(())
        }
        Either::Right((result, _)) => match result {
            // The frontend exited; the parent tells why.
            Ok(()) => {
                tracing::info!("the frontend closed its channel; exiting");
                Ok(())
            }
            Err(error) => Err(anyhow!("the frontend's channel failed: {error}")),
        },
    }
}

type DirectRpc = std::pin::Pin<Box<dyn Future<Output = Result<(), capnp::Error>>>>;

struct EngineMainImpl {
    queues: Rc<FdQueues>,
    started: RefCell<Option<oneshot::Sender<DirectRpc>>>,
    log: LogHandle,
}

impl engine_main::Server for EngineMainImpl {
    fn start(
        self: Rc<Self>,
        params: engine_main::StartParams,
        _: engine_main::StartResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let started = self.started.borrow_mut().take();
        let result = (|| {
            let started = started
                .ok_or_else(|| capnp::Error::failed("the engine was started twice".into()))?;
            let params = params.get()?;
            let kernel = params.get_kernel()?;
            let mut config = Config {
                kernel_temporary_addresses: params.get_kernel_temporary_addresses(),
                ..Config::new(params.get_secret_key()?.to_vec(), rand::random())
            };
            if params.has_config() {
                read_engine_config(params.get_config()?, &mut config)?;
            }
            let direct = channel::take_fd(&self.queues, params.get_frontend_channel()?)?;
            // It holds every descriptor it will ever need now: no more.
            crate::confine::narrow_to_stdio()
                .map_err(|error| capnp::Error::failed(format!("narrowing the engine: {error}")))?;
            let direct_rpc = start_engine(kernel, config, direct, self.log.clone())
                .map_err(|error| capnp::Error::failed(format!("{error:#}")))?;
            // The receiver only goes away when the process is exiting anyway.
            let _ = started.send(direct_rpc);
            Ok(())
        })();
        future::ready(result)
    }
}

/// Adds the parent's per-interface settings and caps to `config`. Absent
/// caps are not zero caps: without `limits` the engine keeps its own
/// defaults (those `config` came with), and an interface without its own
/// takes the global ones.
fn read_engine_config(
    from: engine_config::Reader<'_>,
    config: &mut Config,
) -> Result<(), capnp::Error> {
    for interface in from.get_interfaces()? {
        let name = interface.get_name()?.to_string()?;
        let identifier = match interface.get_identifier()? {
            schema::InterfaceIdentifier::Stable => InterfaceIdentifier::Stable,
            schema::InterfaceIdentifier::Eui64 => InterfaceIdentifier::Eui64,
        };
        if !interface.get_temporary_addresses() {
            config.without_temporary_addresses.insert(name.clone());
        }
        if interface.has_limits() {
            let limits = read_limits(interface.get_limits()?);
            config.interface_limits.insert(name.clone(), limits);
        }
        config.interface_identifiers.insert(name, identifier);
    }
    if from.has_limits() {
        config.limits = read_limits(from.get_limits()?);
    }
    Ok(())
}

fn read_limits(limits: schema::limits::Reader<'_>) -> Limits {
    let cap = |value: u32| value as usize;
    Limits {
        routers: cap(limits.get_routers()),
        prefixes: cap(limits.get_prefixes()),
        addresses: cap(limits.get_addresses()),
        routes: cap(limits.get_routes()),
        dns_servers: cap(limits.get_dns_servers()),
        search_domains: cap(limits.get_search_domains()),
    }
}

/// Builds the core and serves the frontend's direct channel with it.
fn start_engine(
    kernel: kernel::Client,
    config: Config,
    direct: OwnedFd,
    log: LogHandle,
) -> anyhow::Result<DirectRpc> {
    config.validate()?;
    let shared = Rc::new(EngineShared {
        core: RefCell::new(slaacd_core::Engine::new(config)),
        kernel,
        frontend: RefCell::new(None),
        timer: Notify::new(),
        timer_deadline: Cell::new(None),
        monitors: Rc::new(Monitors::default()),
    });
    let engine: engine::Client = capnp_rpc::new_client(EngineImpl {
        shared: shared.clone(),
        log,
        refused: RefusedBatches::default(),
    });
    let mut direct = Channel::open(direct, Side::Server, |_| Some(engine.client))
        .context("setting up the frontend's channel")?;
    let frontend: frontend::Client = direct.rpc.bootstrap(Side::Client);
    *shared.frontend.borrow_mut() = Some(frontend);
    tokio::task::spawn_local(run_timers(shared));
    tracing::info!("started");
    // The interfaces arrive from the frontend; nothing to propose before that.
    Ok(Box::pin(direct.rpc))
}

/// The state both the RPC methods and the timer task work on.
struct EngineShared {
    core: RefCell<slaacd_core::Engine>,
    kernel: kernel::Client,
    frontend: RefCell<Option<frontend::Client>>,
    /// Woken whenever the core wants an earlier timeout than the one awaited.
    timer: Notify,
    /// The deadline the timer task sleeps until (`None`: none, or not asleep
    /// yet).
    timer_deadline: Cell<Option<Instant>>,
    /// `slaacctl monitor` listeners.
    monitors: Rc<Monitors>,
}

impl EngineShared {
    fn input(&self, input: Input) {
        self.inputs([input]);
    }

    /// Hands the core every input in order, then sends what they caused
    /// (still in order) at once.
    fn inputs(&self, inputs: impl IntoIterator<Item = Input>) {
        let mut core = self.core.borrow_mut();
        core.set_monitoring(self.monitors.is_active());
        for input in inputs {
            core.handle(Instant::now(), input);
        }
        drop(core);
        self.dispatch();
    }

    fn timeout(&self) {
        let mut core = self.core.borrow_mut();
        core.set_monitoring(self.monitors.is_active());
        core.handle_timeout(Instant::now());
        drop(core);
        self.dispatch();
    }

    /// Passes the step's events to the monitors, sends every pending output
    /// and wakes the timer task if the core needs it earlier.
    fn dispatch(&self) {
        let events: Vec<MonitorEvent> =
            std::iter::from_fn(|| self.core.borrow_mut().poll_event()).collect();
        // While monitored, the core tells every output but a solicitation as
        // one proposal, in order: each output takes its change along, so
        // the parent's answer can be told too.
        let mut changes: VecDeque<(ProposalChange, String)> = events
            .iter()
            .filter_map(|event| match event.happening {
                Happening::Proposal { change, .. } => Some((change, event.name.clone())),
                _ => None,
            })
            .collect();
        if !events.is_empty() {
            self.monitors.core_events(events);
        }
        loop {
            // Bind first so the borrow ends before the output is sent.
            let output = self.core.borrow_mut().poll_output();
            let Some(output) = output else { break };
            let told = match output {
                Output::SendSolicitation { .. } => None,
                _ => changes.pop_front().map(|(change, name)| {
                    monitor::Proposal::new(&self.monitors, name, change, output.clone())
                }),
            };
            self.send(output, told);
        }
        self.rearm_timer();
    }

    /// Wakes the timer task when the core's next deadline is not the one it
    /// sleeps until, later ones too: the task runs in this same turn of the
    /// runtime (no wake-up of the process), whereas sleeping on to a stale
    /// deadline wakes the idle process for an empty `handle_timeout` (several
    /// times: tokio's timer wheel reaches a far deadline in steps).
    fn rearm_timer(&self) {
        let next = self.core.borrow().poll_timeout();
        if next != self.timer_deadline.get() {
            self.timer.notify_one();
        }
    }

    /// Turns one output into a call. Calls on one capability arrive in the
    /// order they were sent, so the kernel sees the proposals in order.
    /// `told` is the output as the monitors saw it, if they did.
    fn send(&self, output: Output, told: Option<monitor::Proposal>) {
        tracing::debug!(?output, "proposal");
        match output {
            Output::SendSolicitation { index } => {
                let Some(frontend) = self.frontend.borrow().clone() else {
                    return;
                };
                let mut request = frontend.send_solicitation_request();
                request.get().set_if_index(index);
                await_answer(
                    format!("sending a solicitation on interface {index}"),
                    request.send().promise,
                    told,
                );
            }
            Output::ConfigureAddress(proposal) => {
                let mut request = self.kernel.configure_address_request();
                proposal_schema::write_address(request.get().init_proposal(), &proposal);
                await_answer(
                    format!(
                        "configuring {} on interface {}",
                        proposal.address, proposal.index
                    ),
                    request.send().promise,
                    told,
                );
            }
            Output::WithdrawAddress {
                index,
                address,
                prefix_len,
            } => {
                let mut request = self.kernel.withdraw_address_request();
                let mut p = request.get();
                p.set_if_index(index);
                write_ip6(p.reborrow().init_address(), address);
                p.set_prefix_length(prefix_len);
                await_answer(
                    format!("withdrawing {address} from interface {index}"),
                    request.send().promise,
                    told,
                );
            }
            Output::ConfigureDefaultRoute(route) => {
                let mut request = self.kernel.configure_default_route_request();
                proposal_schema::write_default_route(request.get().init_route(), &route);
                await_answer(
                    format!(
                        "configuring the default route via {} on interface {}",
                        route.router, route.index
                    ),
                    request.send().promise,
                    told,
                );
            }
            Output::WithdrawDefaultRoute { index, router } => {
                let mut request = self.kernel.withdraw_default_route_request();
                let mut p = request.get();
                p.set_if_index(index);
                write_ip6(p.reborrow().init_router(), router);
                await_answer(
                    format!("withdrawing the default route via {router} on interface {index}"),
                    request.send().promise,
                    told,
                );
            }
            Output::ConfigureRoute(route) => {
                let mut request = self.kernel.configure_route_request();
                proposal_schema::write_route(request.get().init_route(), &route);
                await_answer(
                    format!(
                        "configuring the route to {}/{} on interface {}",
                        route.prefix, route.prefix_len, route.index
                    ),
                    request.send().promise,
                    told,
                );
            }
            Output::WithdrawRoute {
                index,
                prefix,
                prefix_len,
                via,
            } => {
                let mut request = self.kernel.withdraw_route_request();
                proposal_schema::write_route_key(
                    request.get().init_key(),
                    index,
                    prefix,
                    prefix_len,
                    via,
                );
                await_answer(
                    format!("withdrawing the route to {prefix}/{prefix_len} on interface {index}"),
                    request.send().promise,
                    told,
                );
            }
            Output::ConfigureMtu { index, mtu } => {
                let mut request = self.kernel.configure_mtu_request();
                let mut p = request.get();
                p.set_if_index(index);
                p.set_mtu(mtu);
                await_answer(
                    format!("setting MTU {mtu} on interface {index}"),
                    request.send().promise,
                    told,
                );
            }
            Output::ConfigureLinkParameters {
                index,
                cur_hop_limit,
                reachable_time,
                retrans_timer,
            } => {
                let mut request = self.kernel.configure_link_parameters_request();
                proposal_schema::write_link_parameters(
                    request.get().init_parameters(),
                    index,
                    cur_hop_limit,
                    reachable_time,
                    retrans_timer,
                );
                await_answer(
                    format!("setting the link parameters of interface {index}"),
                    request.send().promise,
                    told,
                );
            }
            Output::ConfigureDns {
                index,
                servers,
                search_domains,
            } => {
                let mut request = self.kernel.configure_dns_request();
                let mut p = request.get();
                p.set_if_index(index);
                let Ok(server_count) = u32::try_from(servers.len()) else {
                    tracing::warn!(index, "too many DNS servers to send");
                    return;
                };
                let mut list = p.reborrow().init_servers(server_count);
                for (at, server) in (0..).zip(&servers) {
                    write_ip6(list.reborrow().get(at), *server);
                }
                let Ok(domain_count) = u32::try_from(search_domains.len()) else {
                    tracing::warn!(index, "too many search domains to send");
                    return;
                };
                let mut list = p.init_search_domains(domain_count);
                for (at, domain) in (0..).zip(&search_domains) {
                    list.set(at, domain.as_str());
                }
                await_answer(
                    format!("configuring DNS on interface {index}"),
                    request.send().promise,
                    told,
                );
            }
        }
    }
}

/// Logs the failure of a call whose result nothing waits for, and tells
/// the monitors how the parent answered a proposal they saw.
fn await_answer<T: 'static>(
    what: String,
    call: Promise<T, capnp::Error>,
    told: Option<monitor::Proposal>,
) {
    tokio::task::spawn_local(async move {
        let result = call.await.map(drop).map_err(|error| {
            tracing::warn!("{what}: {error}");
            // The parent's own words.
            match error.extra.strip_prefix("remote exception: ") {
                Some(words) => words.to_owned(),
                None => error.extra,
            }
        });
        if let Some(proposal) = told {
            proposal.answered(result);
        }
    });
}

/// Runs the core's timers: sleeps until its next deadline, or until an input
/// may have moved that deadline.
async fn run_timers(engine: Rc<EngineShared>) {
    loop {
        let deadline = engine.core.borrow().poll_timeout();
        engine.timer_deadline.set(deadline);
        match deadline {
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline.into()) => engine.timeout(),
                    () = engine.timer.notified() => {}
                }
            }
            None => engine.timer.notified().await,
        }
    }
}

struct EngineImpl {
    shared: Rc<EngineShared>,
    log: LogHandle,
    refused: RefusedBatches,
}

/// `routerAdvertisements` calls refused for carrying more than
/// [`MAX_ADVERTISEMENTS_PER_CALL`], and the RAs they carried.
#[derive(Default)]
struct RefusedBatches {
    calls: Cell<u64>,
    advertisements: Cell<u64>,
}

impl RefusedBatches {
    /// Counts a refused call of `length` RAs and says why it was refused.
    fn refuse(&self, length: u32) -> capnp::Error {
        let calls = self.calls.get() + 1;
        let advertisements = self.advertisements.get().saturating_add(length.into());
        self.calls.set(calls);
        self.advertisements.set(advertisements);
        let message = format!(
            "{length} advertisements in one call, at most {MAX_ADVERTISEMENTS_PER_CALL}: \
             refused; refused calls so far: {calls} ({advertisements} advertisements)"
        );
        tracing::warn!("{message}");
        capnp::Error::failed(message)
    }
}

/// Runs `body` and resolves at once: every `Engine` method is synchronous.
fn respond(
    body: impl FnOnce() -> Result<(), capnp::Error>,
) -> future::Ready<Result<(), capnp::Error>> {
    future::ready(body())
}

fn read_address(
    reader: capnp::Result<slaacd_ipc::slaacd_capnp::ip6::Reader<'_>>,
) -> capnp::Result<Ipv6Addr> {
    Ok(read_ip6(reader?))
}

impl engine::Server for EngineImpl {
    fn update_interface(
        self: Rc<Self>,
        params: engine::UpdateInterfaceParams,
        _: engine::UpdateInterfaceResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let state = params.get()?.get_state()?;
            let link_local = read_link_local(state)?;
            self.shared.input(Input::InterfaceUpdate(InterfaceState {
                index: state.get_if_index(),
                name: state.get_name()?.to_string()?,
                running: state.get_running(),
                hw_address: state.get_hw_address()?.to_vec(),
                link_local,
            }));
            Ok(())
        })
    }

    fn remove_interface(
        self: Rc<Self>,
        params: engine::RemoveInterfaceParams,
        _: engine::RemoveInterfaceResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let index = params.get()?.get_if_index();
            self.shared.input(Input::InterfaceRemoved { index });
            Ok(())
        })
    }

    /// Reads the whole list before the core sees any of it: a malformed
    /// entry fails the call and none of its advertisements is taken in,
    /// and so does a list longer than [`MAX_ADVERTISEMENTS_PER_CALL`].
    fn router_advertisements(
        self: Rc<Self>,
        params: engine::RouterAdvertisementsParams,
        _: engine::RouterAdvertisementsResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let advertisements = params.get()?.get_advertisements()?;
            if advertisements.len() > MAX_ADVERTISEMENTS_PER_CALL {
                return Err(self.refused.refuse(advertisements.len()));
            }
            let mut inputs = Vec::with_capacity(advertisements.len() as usize);
            for (at, ra) in advertisements.iter().enumerate() {
                let read = || -> capnp::Result<Input> {
                    Ok(Input::RouterAdvertisement {
                        index: ra.get_if_index(),
                        source: read_address(ra.get_source())?,
                        packet: ra.get_packet()?.to_vec(),
                    })
                };
                inputs.push(read().map_err(|error| {
                    capnp::Error::failed(format!("advertisement {at} of the call: {error}"))
                })?);
            }
            self.shared.inputs(inputs);
            Ok(())
        })
    }

    fn address_deleted(
        self: Rc<Self>,
        params: engine::AddressDeletedParams,
        _: engine::AddressDeletedResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let params = params.get()?;
            self.shared.input(Input::AddressDeleted {
                index: params.get_if_index(),
                address: read_address(params.get_address())?,
            });
            Ok(())
        })
    }

    fn dad_failed(
        self: Rc<Self>,
        params: engine::DadFailedParams,
        _: engine::DadFailedResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let params = params.get()?;
            self.shared.input(Input::DadFailed {
                index: params.get_if_index(),
                address: read_address(params.get_address())?,
            });
            Ok(())
        })
    }

    fn show_interfaces(
        self: Rc<Self>,
        params: engine::ShowInterfacesParams,
        mut results: engine::ShowInterfacesResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let index = params.get()?.get_if_index();
            let reports = self
                .shared
                .core
                .borrow()
                .report(Instant::now(), (index != 0).then_some(index));
            crate::report::write(
                &reports,
                results.get().init_interfaces(reports.len() as u32),
            );
            Ok(())
        })
    }

    fn send_solicitation(
        self: Rc<Self>,
        params: engine::SendSolicitationParams,
        mut results: engine::SendSolicitationResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let index = params.get()?.get_if_index();
            let known = self.shared.core.borrow().knows_interface(index);
            if known {
                self.shared.input(Input::SolicitationRequested { index });
            }
            results.get().set_known(known);
            Ok(())
        })
    }

    fn set_verbosity(
        self: Rc<Self>,
        params: engine::SetVerbosityParams,
        _: engine::SetVerbosityResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let verbosity = params.get()?.get_verbosity();
            self.log
                .set_verbosity(verbosity)
                .map_err(|error| capnp::Error::failed(error.to_string()))?;
            tracing::info!("logging at verbosity {verbosity}");
            Ok(())
        })
    }

    /// Told to the monitors only: the frontend's drops never reach the core
    /// (the frontend counts them itself for `show`).
    fn frontend_drops(
        self: Rc<Self>,
        params: engine::FrontendDropsParams,
        _: engine::FrontendDropsResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let drops = monitor::read_frontend_drops(params.get()?.get_drops()?)?;
            if self.shared.monitors.is_active() {
                self.shared.monitors.frontend_drops(drops);
            }
            Ok(())
        })
    }

    fn monitor(
        self: Rc<Self>,
        params: engine::MonitorParams,
        mut results: engine::MonitorResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        respond(|| {
            let params = params.get()?;
            let subscription = self
                .shared
                .monitors
                .subscribe(params.get_if_index(), params.get_listener()?)?;
            results.get().set_subscription(subscription);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use capnp::message::Builder;

    use super::*;

    fn default_config() -> Config {
        Config::new(vec![7; 32], 1)
    }

    /// `EngineConfig` with one interface, eth0, whose own caps are set only
    /// when `eth0_routers` is given, and global caps only when
    /// `global_routers` is.
    fn read(global_routers: Option<u32>, eth0_routers: Option<u32>) -> Config {
        let mut message = Builder::new_default();
        let mut from = message.init_root::<engine_config::Builder<'_>>();
        if let Some(routers) = global_routers {
            from.reborrow().init_limits().set_routers(routers);
        }
        let mut eth0 = from.init_interfaces(1).get(0);
        eth0.set_name("eth0");
        eth0.set_temporary_addresses(true);
        if let Some(routers) = eth0_routers {
            eth0.init_limits().set_routers(routers);
        }
        let mut config = default_config();
        read_engine_config(message.get_root_as_reader().expect("a root"), &mut config)
            .expect("a valid config");
        config
    }

    #[test]
    fn absent_caps_are_the_engines_defaults_not_zero() {
        let config = read(None, None);
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.limits, default_config().limits);
        assert!(
            config.interface_limits.is_empty(),
            "eth0 without caps of its own takes the global ones"
        );
    }

    #[test]
    fn caps_that_are_given_are_taken_whole() {
        let config = read(Some(3), Some(5));
        let only_routers = |routers| Limits {
            routers,
            prefixes: 0,
            addresses: 0,
            routes: 0,
            dns_servers: 0,
            search_domains: 0,
        };
        assert_eq!(config.limits, only_routers(3));
        assert_eq!(config.interface_limits.get("eth0"), Some(&only_routers(5)));
    }
}
