//! The parent's life after start-up: open what the children may not open,
//! start them, connect them, serve the engine's `Kernel` calls, and bring
//! everything down together when a signal arrives or any process dies.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Context;
use capnp_rpc::RpcSystem;
use slaacd_core::{InterfaceIdentifier, Limits};
use slaacd_ipc::slaacd_capnp::{
    self as schema, engine_config, engine_main, frontend_main, kernel, logging,
};
use slaacd_ipc::{Channel, FdQueues, Side, channel};
use tokio::signal::unix::{SignalKind, signal};

use crate::children::{self, ChildOptions, Role, RunningChild};
use crate::config::InterfaceSettings;
use crate::confine::{self, ConfinementOptions};
use crate::control_socket;
use crate::daemon::Readiness;
use crate::interface_names::LinkEvents;
use crate::kernel::{InterfaceOptions, KernelWriter};
use crate::kernel_service::KernelService;
use crate::logging_service::LoggingService;
use crate::resolver::{Backend, HelperCommand, HelperExit, Resolver};
use crate::sysctl::{FollowedInterfaces, ManagedInterfaces, Presence, TemporaryAddresses};

/// How long a child may take to exit after its channel closes.
const EXIT_GRACE: Duration = Duration::from_secs(5);

pub struct Config {
    pub socket: PathBuf,
    /// Where DNS servers and search domains from RAs go.
    pub resolver: Backend,
    pub interfaces: Vec<String>,
    /// The settings of each of `interfaces`, by name.
    pub interface_settings: BTreeMap<String, InterfaceSettings>,
    /// The caps of the whole daemon; each interface's own are in its
    /// settings.
    pub limits: Limits,
    pub user: String,
    pub foreground: bool,
    pub verbose: u8,
    pub secret_key: Vec<u8>,
    /// The control socket's group: its members may connect; running as it
    /// allows changes.
    pub control_group: nix::unistd::Gid,
    /// The parent's logging, which `slaacctl log` changes.
    pub log: slaacd_log::LogHandle,
    /// How the parent's own confinement treats violations, and its self-test.
    pub confinement: ConfinementOptions,
}

impl Config {
    /// The settings of the managed interface `name`.
    fn settings(&self, name: &str) -> InterfaceSettings {
        self.interface_settings
            .get(name)
            .copied()
            .unwrap_or_default()
    }

    /// Whether the kernel makes temporary addresses on the interface `name`.
    fn temporary_addresses(&self, name: &str) -> TemporaryAddresses {
        if self.settings(name).temporary_addresses {
            TemporaryAddresses::Kernel
        } else {
            TemporaryAddresses::Off
        }
    }
}

/// Runs the daemon; returns the exit code: success after an orderly stop,
/// failure when a child died.
/// `readiness` is told once both children run, so that the command that
/// started a daemonized slaacd exits only then.
pub fn run(config: Config, readiness: Option<Readiness>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the runtime")?;
    tokio::task::LocalSet::new().block_on(&runtime, supervise(config, readiness))
}

/// One child and the RPC system that talks to it.
struct Connected<C> {
    child: RunningChild,
    queues: Rc<FdQueues>,
    rpc: RpcSystem<Side>,
    bootstrap: C,
}

fn connect<C: capnp::capability::FromClientHook>(
    role: Role,
    options: &ChildOptions,
) -> anyhow::Result<Connected<C>> {
    let (ours, theirs) = slaacd_ipc::child::socketpair().context("creating a channel")?;
    let child = children::spawn(role, options, theirs)?;
    let Channel { mut rpc, queues } = Channel::open(ours, Side::Client, |_| None)
        .with_context(|| format!("setting up the channel to {}", role.program()))?;
    let bootstrap = rpc.bootstrap(Side::Server);
    Ok(Connected {
        child,
        queues,
        rpc,
        bootstrap,
    })
}

async fn supervise(config: Config, readiness: Option<Readiness>) -> anyhow::Result<ExitCode> {
    let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    let _hangup = signal(SignalKind::hangup()).context("handling SIGHUP")?;
    // Both before anything starts: a bad option or a path the backend needs is reported at once.
    let self_test = config.confinement.self_test()?;
    let confinement = confine::profile(&config.socket, &config.resolver.confinement_needs())?;
    // Before anything is taken over: resolvconf's helper, if that is the backend, starts and
    // confines itself now, since the parent will not be allowed to start it later.
    let helper = HelperCommand {
        executable: std::env::current_exe().context("finding slaacd's own executable")?,
        foreground: config.foreground,
        verbose: config.verbose,
        violation: config.confinement.sandbox_violation,
    };
    let resolver = Rc::new(Resolver::start(config.resolver.clone(), &helper).await?);

    // Turn the kernel's own RA processing off on each managed interface and
    // keep following them (renames, removals, new interfaces taking a
    // managed name); everything is restored at the end. The link events are
    // subscribed to first, so none falls between the two.
    let link_events = LinkEvents::subscribe().context("subscribing to link events")?;
    let mut managed = ManagedInterfaces::new(
        config
            .interfaces
            .iter()
            .map(|name| (name.clone(), config.temporary_addresses(name)))
            .collect(),
    );
    // A managed name no interface holds yet is waited for: the interface
    // that takes it is taken over from its link event.
    let presence = managed
        .take_existing()
        .context("taking over the managed interfaces")?;
    for (name, stood) in presence {
        match stood {
            Presence::Taken(_) => {}
            Presence::Pending(index) => {
                tracing::info!("{name} (index {index}) was just created; taking it over")
            }
            Presence::Absent => tracing::info!("{name} does not exist yet; waiting for it"),
        }
    }
    let followed =
        Rc::new(FollowedInterfaces::new(link_events, managed).context("following link events")?);
    let following = tokio::task::spawn_local({
        let followed = followed.clone();
        async move { followed.follow().await }
    });

    let (control_file, control) = control_socket::bind(&config.socket, config.control_group)?;
    let sockets = FrontendSockets::open()?;
    let (connection, handle, _) =
        rtnetlink::new_connection().context("opening a netlink socket")?;
    tokio::task::spawn_local(connection);
    let mut writer = KernelWriter::new(handle, crate::config::DEFAULT_ROUTE_METRIC)
        .context("setting up the kernel writer")?;
    for name in &config.interfaces {
        let options = InterfaceOptions {
            route_metric: config.settings(name).route_metric,
            kernel_temporary_addresses: config.temporary_addresses(name)
                == TemporaryAddresses::Kernel,
        };
        writer = writer.with_interface(name, options);
    }
    // A run that was killed could not withdraw its DNS configuration: clear
    // it before the engine can configure anything.
    if let Err(error) = resolver.clear_stale(&config.interfaces).await {
        tracing::warn!("{error}");
    }
    let kernel: kernel::Client = capnp_rpc::new_client(
        KernelService::with_resolver(writer, config.interfaces.clone(), resolver.clone())
            .following(followed.clone()),
    );

    let options = ChildOptions {
        foreground: config.foreground,
        verbose: config.verbose,
        user: config.user.clone(),
    };
    let engine = connect::<engine_main::Client>(Role::Engine, &options)?;
    let frontend = connect::<frontend_main::Client>(Role::Frontend, &options)?;
    let Connected {
        child: mut engine_child,
        queues: engine_queues,
        rpc: engine_rpc,
        bootstrap: engine_main,
    } = engine;
    let Connected {
        child: mut frontend_child,
        queues: frontend_queues,
        rpc: frontend_rpc,
        bootstrap: frontend_main,
    } = frontend;
    let mut engine_rpc = Box::pin(engine_rpc);
    let mut frontend_rpc = Box::pin(frontend_rpc);
    // Every process the parent started: once confined it signals and waits for these only.
    let children: Vec<u32> = [engine_child.pid(), frontend_child.pid()]
        .into_iter()
        .chain(resolver.helper_pid())
        .collect();

    let (engine_end, frontend_end) =
        slaacd_ipc::child::socketpair().context("creating the direct channel")?;
    // Starting races against a signal and against either child dying, which
    // its channel shows.
    let started = async {
        start_engine(&engine_main, &engine_queues, kernel, &config, engine_end).await?;
        let sockets = FrontendStart {
            engine: frontend_end,
            sockets,
            control,
            interfaces: &config.interfaces,
            logging: capnp_rpc::new_client(LoggingService::new(config.log.clone())),
            control_group: config.control_group.as_raw(),
        };
        start_frontend(&frontend_main, &frontend_queues, sockets).await
    };
    let outcome = tokio::select! {
        // Both children run and hold what they were handed: nothing more to open.
        result = started => match result
            .and_then(|()| confine::confine(confinement, &children, &config.confinement))
        {
            Ok(()) => {
                tracing::info!("started; managing {}", config.interfaces.join(", "));
                if let Some(Err(error)) = readiness.map(Readiness::started) {
                    tracing::warn!("telling the starting command: {error}");
                }
                if let Some(escapes) = &self_test {
                    if let Err(error) = confine::attempt_escapes(escapes) {
                        tracing::warn!("reporting the confinement self-test: {error}");
                    }
                    Outcome::SelfTested
                } else {
                    tokio::select! {
                        _ = terminate.recv() => Outcome::Signal("SIGTERM"),
                        _ = interrupt.recv() => Outcome::Signal("SIGINT"),
                        _ = &mut engine_rpc => Outcome::ChildGone(Role::Engine),
                        _ = &mut frontend_rpc => Outcome::ChildGone(Role::Frontend),
                        exit = resolver.helper_exited() => Outcome::HelperGone(exit),
                    }
                }
            }
            Err(error) => Outcome::StartFailed(error),
        },
        _ = terminate.recv() => Outcome::Signal("SIGTERM"),
        _ = interrupt.recv() => Outcome::Signal("SIGINT"),
        _ = &mut engine_rpc => Outcome::ChildGone(Role::Engine),
        _ = &mut frontend_rpc => Outcome::ChildGone(Role::Frontend),
        exit = resolver.helper_exited() => Outcome::HelperGone(exit),
    };

    // Closing the channels is what tells each child to exit.
    drop(engine_rpc);
    drop(frontend_rpc);
    drop(engine_main);
    drop(frontend_main);
    let code = match outcome {
        stop @ (Outcome::Signal(_) | Outcome::SelfTested) => {
            match stop {
                Outcome::Signal(name) => tracing::info!("received {name}; stopping"),
                _ => tracing::info!("confinement self-test done; stopping"),
            }
            let engine_status = engine_child.finish(EXIT_GRACE).await;
            let frontend_status = frontend_child.finish(EXIT_GRACE).await;
            for (child, status) in [
                (&engine_child, engine_status),
                (&frontend_child, frontend_status),
            ] {
                if !status.success() {
                    tracing::warn!("{} {}", child.role.program(), children::describe(status));
                }
            }
            ExitCode::SUCCESS
        }
        Outcome::ChildGone(role) => {
            let (first, second) = match role {
                Role::Engine => (&mut engine_child, &mut frontend_child),
                Role::Frontend => (&mut frontend_child, &mut engine_child),
            };
            let first_status = first.finish(EXIT_GRACE).await;
            second.terminate();
            let second_status = second.finish(EXIT_GRACE).await;
            // The child whose channel closed first may only have seen the
            // other die: blame whichever ended abnormally on its own.
            let (culprit, status) = if !first_status.success() {
                (&*first, first_status)
            } else if !second_status.success() && !children::was_terminated(second_status) {
                (&*second, second_status)
            } else {
                (&*first, first_status)
            };
            tracing::error!(
                "{} (pid {}) {}; stopping",
                culprit.role.program(),
                culprit.pid(),
                children::describe(status)
            );
            ExitCode::FAILURE
        }
        Outcome::HelperGone(exit) => {
            engine_child.terminate();
            frontend_child.terminate();
            engine_child.finish(EXIT_GRACE).await;
            frontend_child.finish(EXIT_GRACE).await;
            tracing::error!("{exit}; stopping");
            ExitCode::FAILURE
        }
        Outcome::StartFailed(error) => {
            engine_child.terminate();
            frontend_child.terminate();
            let engine_status = engine_child.finish(EXIT_GRACE).await;
            let frontend_status = frontend_child.finish(EXIT_GRACE).await;
            // A start that failed because a child died says only
            // "disconnected": name the child instead.
            let died = [
                (&engine_child, engine_status),
                (&frontend_child, frontend_status),
            ]
            .into_iter()
            .find(|(_, status)| !status.success() && !children::was_terminated(*status));
            match died {
                Some((child, status)) => tracing::error!(
                    "{} (pid {}) {} while starting; stopping",
                    child.role.program(),
                    child.pid(),
                    children::describe(status)
                ),
                None => tracing::error!("{error:#}; stopping"),
            }
            ExitCode::FAILURE
        }
    };
    // Explicitly: the Kernel capability may outlive the engine's channel
    // inside the RPC system, and the resolver's own clean-up with it.
    resolver.withdraw_all().await;
    drop(control_file);
    following.abort();
    followed.restore_all();
    tracing::info!("terminating");
    Ok(code)
}

/// Hands the engine its kernel capability, the secret key, the interfaces'
/// settings and the caps, and its end of the direct channel. On Linux the
/// kernel makes the temporary addresses of the interfaces that have them.
async fn start_engine(
    engine: &engine_main::Client,
    queues: &FdQueues,
    kernel: kernel::Client,
    config: &Config,
    channel_end: OwnedFd,
) -> anyhow::Result<()> {
    let mut request = engine.start_request();
    let mut params = request.get();
    params.set_kernel(kernel);
    params.set_secret_key(&config.secret_key);
    params.set_kernel_temporary_addresses(true);
    write_engine_config(config, params.reborrow().init_config());
    channel::send_fd(queues, channel_end, params.init_frontend_channel());
    request
        .send()
        .promise
        .await
        .context("starting the engine")?;
    Ok(())
}

fn write_engine_config(config: &Config, mut to: engine_config::Builder<'_>) {
    let mut interfaces = to
        .reborrow()
        .init_interfaces(config.interfaces.len() as u32);
    for (i, name) in config.interfaces.iter().enumerate() {
        let settings = config.settings(name);
        let mut interface = interfaces.reborrow().get(i as u32);
        interface.set_name(name);
        interface.set_identifier(match settings.identifier {
            InterfaceIdentifier::Stable => schema::InterfaceIdentifier::Stable,
            InterfaceIdentifier::Eui64 => schema::InterfaceIdentifier::Eui64,
        });
        interface.set_temporary_addresses(settings.temporary_addresses);
        write_limits(&settings.limits, interface.init_limits());
    }
    write_limits(&config.limits, to.init_limits());
}

fn write_limits(from: &Limits, mut to: schema::limits::Builder<'_>) {
    // The configuration caps them far below u32::MAX.
    let cap = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
    to.set_routers(cap(from.routers));
    to.set_prefixes(cap(from.prefixes));
    to.set_addresses(cap(from.addresses));
    to.set_routes(cap(from.routes));
    to.set_dns_servers(cap(from.dns_servers));
    to.set_search_domains(cap(from.search_domains));
}

/// What the frontend is started with.
struct FrontendStart<'a> {
    engine: OwnedFd,
    sockets: FrontendSockets,
    control: OwnedFd,
    interfaces: &'a [String],
    logging: logging::Client,
    control_group: u32,
}

/// Hands the frontend its end of the direct channel, its sockets and the
/// names of the interfaces to manage.
async fn start_frontend(
    frontend: &frontend_main::Client,
    queues: &FdQueues,
    start: FrontendStart<'_>,
) -> anyhow::Result<()> {
    let mut request = frontend.start_request();
    let mut params = request.get();
    channel::send_fd(
        queues,
        start.engine,
        params.reborrow().init_engine_channel(),
    );
    channel::send_fd(queues, start.sockets.icmp6, params.reborrow().init_icmp6());
    channel::send_fd(
        queues,
        start.sockets.packet,
        params.reborrow().init_packet(),
    );
    channel::send_fd(
        queues,
        start.sockets.netlink,
        params.reborrow().init_netlink(),
    );
    channel::send_fd(queues, start.control, params.reborrow().init_control());
    let mut names = params
        .reborrow()
        .init_interfaces(start.interfaces.len() as u32);
    for (i, name) in start.interfaces.iter().enumerate() {
        names.set(i as u32, name);
    }
    params.set_logging(start.logging);
    params.set_control_group(start.control_group);
    request
        .send()
        .promise
        .await
        .context("starting the frontend")?;
    Ok(())
}

enum Outcome {
    Signal(&'static str),
    /// The confinement self-test made its attempts.
    SelfTested,
    ChildGone(Role),
    /// resolvconf's helper ended.
    HelperGone(HelperExit),
    StartFailed(anyhow::Error),
}

/// The sockets the frontend uses but may not open itself.
struct FrontendSockets {
    icmp6: OwnedFd,
    packet: OwnedFd,
    netlink: OwnedFd,
}

impl FrontendSockets {
    fn open() -> anyhow::Result<Self> {
        use slaacd_frontend::{icmp6, netlink, packet};
        Ok(Self {
            icmp6: icmp6::open_icmp6_socket().context("opening the ICMPv6 socket")?,
            packet: packet::open_packet_socket().context("opening the packet socket")?,
            netlink: netlink::open_netlink_socket().context("opening the netlink event socket")?,
        })
    }
}
