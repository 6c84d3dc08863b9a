//! The control socket: serves slaacctl's `Control` capability on every
//! connection and relays each request to the engine, and `log` to the parent
//! too.
//!
//! The frontend answers nothing itself except its own drop counters, which it
//! adds to the engine's report, its own log verbosity, and which managed
//! names no interface has (the engine knows only interfaces that exist).
//! `monitor` hands slaacctl's listener to the engine and the engine's
//! subscription back (wrapped, so the frontend knows someone listens to its
//! own drops, see `drop_report`): Cap'n Proto carries the events through,
//! and the engine bounds them. Each connection's peer is identified when it
//! is accepted: anyone who can connect may `show` and `monitor`, but only a
//! process running as root or as the control group may `send solicitation`
//! or change the logging (see `peer`). This module must never relay a change
//! for any other peer.

mod peer;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use capnp_rpc::RpcSystem;
use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::twoparty::VatNetwork;
use futures::AsyncReadExt;
use slaacd_ipc::slaacd_capnp::{control, engine, interface_report, logging};
use slaacd_log::LogHandle;
use tokio::net::UnixListener;
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::drop_report::{self, DropReports};
use crate::interfaces::Interfaces;
pub use peer::Peer;

/// How many slaacctl connections are served at once; more wait in the backlog.
const MAX_CONNECTIONS: usize = 16;

/// What a refused change says first; slaacctl recognises it.
const PERMISSION_DENIED: &str = "permission denied";

/// Who may change things, and the logging of the three processes.
pub struct ControlSetup {
    /// Besides root, the group a process must run as to change things; its
    /// members may connect (the socket file's group).
    pub control_group: u32,
    /// The frontend's own logging.
    pub log: LogHandle,
    /// The parent's logging.
    pub parent_logging: logging::Client,
}

/// Accepts slaacctl connections until the listener fails.
pub async fn serve(
    listener: UnixListener,
    engine: engine::Client,
    interfaces: Rc<RefCell<Interfaces>>,
    drop_reports: Rc<DropReports>,
    setup: ControlSetup,
) {
    let setup = Rc::new(setup);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!("accepting a control connection: {error}");
                continue;
            }
        };
        let peer = match Peer::of(&stream, setup.control_group) {
            Ok(peer) => peer,
            Err(error) => {
                tracing::warn!("reading the credentials of a control connection: {error}");
                continue;
            }
        };
        tracing::debug!(
            "control connection from pid {} uid {}{}",
            peer.pid,
            peer.uid,
            if peer.privileged { "" } else { " (show only)" }
        );
        let (reader, writer) = stream.compat().split();
        let network = VatNetwork::new(reader, writer, Side::Server, Default::default());
        let control: control::Client = capnp_rpc::new_client(ControlImpl {
            engine: engine.clone(),
            interfaces: interfaces.clone(),
            drop_reports: drop_reports.clone(),
            setup: setup.clone(),
            peer,
        });
        let rpc = RpcSystem::new(Box::new(network), Some(control.client));
        tokio::task::spawn_local(async move {
            if let Err(error) = rpc.await {
                tracing::debug!("control connection: {error}");
            }
            drop(slot);
        });
    }
}

/// The `Control` capability of one connection.
struct ControlImpl {
    engine: engine::Client,
    interfaces: Rc<RefCell<Interfaces>>,
    /// Counts the monitors, which get the frontend's own drops.
    drop_reports: Rc<DropReports>,
    setup: Rc<ControlSetup>,
    peer: Peer,
}

impl ControlImpl {
    /// Refuses `command` unless the peer may change the daemon.
    fn check_privileged(&self, command: &str) -> Result<(), capnp::Error> {
        if self.peer.privileged {
            return Ok(());
        }
        tracing::info!(
            "refused {command} to pid {} uid {} gid {}: not root nor group {}",
            self.peer.pid,
            self.peer.uid,
            self.peer.gid,
            self.setup.control_group
        );
        Err(capnp::Error::failed(format!(
            "{PERMISSION_DENIED}: {command} needs uid 0 or gid {} (this is uid {} gid {})",
            self.setup.control_group, self.peer.uid, self.peer.gid
        )))
    }
}

impl control::Server for ControlImpl {
    fn show_interfaces(
        self: Rc<Self>,
        params: control::ShowInterfacesParams,
        mut results: control::ShowInterfacesResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let mut request = self.engine.show_interfaces_request();
        async move {
            request.get().set_if_index(params.get()?.get_if_index());
            let reply = request.send().promise.await?;
            let reports = reply.get()?.get_interfaces()?;
            let mut out = results.get().init_interfaces(reports.len());
            for (i, report) in reports.iter().enumerate() {
                out.set_with_caveats(i as u32, report)?;
                let target = out.reborrow().get(i as u32);
                add_frontend_drops(report, target, &self.interfaces.borrow())?;
            }
            Ok(())
        }
    }

    fn send_solicitation(
        self: Rc<Self>,
        params: control::SendSolicitationParams,
        mut results: control::SendSolicitationResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let mut request = self.engine.send_solicitation_request();
        async move {
            self.check_privileged("send solicitation")?;
            request.get().set_if_index(params.get()?.get_if_index());
            let reply = request.send().promise.await?;
            results.get().set_known(reply.get()?.get_known());
            Ok(())
        }
    }

    async fn set_verbosity(
        self: Rc<Self>,
        params: control::SetVerbosityParams,
        _: control::SetVerbosityResults,
    ) -> Result<(), capnp::Error> {
        self.check_privileged("log")?;
        let verbosity = params.get()?.get_verbosity();
        self.setup
            .log
            .set_verbosity(verbosity)
            .map_err(|error| capnp::Error::failed(error.to_string()))?;
        tracing::info!(
            "logging at verbosity {verbosity} (asked by pid {} uid {})",
            self.peer.pid,
            self.peer.uid
        );
        let mut engine = self.engine.set_verbosity_request();
        engine.get().set_verbosity(verbosity);
        let mut parent = self.setup.parent_logging.set_verbosity_request();
        parent.get().set_verbosity(verbosity);
        // Answered once all three processes log at the new verbosity.
        futures::try_join!(engine.send().promise, parent.send().promise)?;
        Ok(())
    }

    /// Open to anyone who may `show`: it tells what `show` tells, as it
    /// happens.
    async fn monitor(
        self: Rc<Self>,
        params: control::MonitorParams,
        mut results: control::MonitorResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let mut request = self.engine.monitor_request();
        request.get().set_if_index(params.get_if_index());
        request.get().set_listener(params.get_listener()?);
        let reply = request.send().promise.await?;
        let subscription = reply.get()?.get_subscription()?;
        results
            .get()
            .set_subscription(drop_report::relay_subscription(
                &self.drop_reports,
                subscription,
            ));
        tracing::debug!("monitor for pid {} uid {}", self.peer.pid, self.peer.uid);
        Ok(())
    }

    /// Answered by the frontend alone: which managed names it has seen no
    /// interface take.
    async fn absent_interfaces(
        self: Rc<Self>,
        _: control::AbsentInterfacesParams,
        mut results: control::AbsentInterfacesResults,
    ) -> Result<(), capnp::Error> {
        let interfaces = self.interfaces.borrow();
        let absent: Vec<&str> = interfaces.absent().collect();
        let mut names = results.get().init_names(absent.len() as u32);
        for (i, name) in absent.into_iter().enumerate() {
            names.set(i as u32, name);
        }
        Ok(())
    }
}

/// Appends the frontend's own drop counters to the engine's in a copied
/// report.
fn add_frontend_drops(
    report: interface_report::Reader<'_>,
    target: interface_report::Builder<'_>,
    interfaces: &Interfaces,
) -> capnp::Result<()> {
    let engine_drops = report.get_dropped()?;
    let frontend_drops: Vec<_> = interfaces.drops(report.get_if_index()).collect();
    let mut dropped = target.init_dropped(engine_drops.len() + frontend_drops.len() as u32);
    for (i, counter) in engine_drops.iter().enumerate() {
        let mut entry = dropped.reborrow().get(i as u32);
        entry.set_reason(counter.get_reason()?);
        entry.set_count(counter.get_count());
    }
    for (i, (reason, count)) in frontend_drops.into_iter().enumerate() {
        let mut entry = dropped.reborrow().get(engine_drops.len() + i as u32);
        entry.set_reason(reason);
        entry.set_count(count);
    }
    Ok(())
}
