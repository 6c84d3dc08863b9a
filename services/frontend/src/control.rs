//! The control socket: serves slaacctl's `Control` capability on every
//! connection and relays each request to the engine.
//!
//! The frontend answers nothing itself except its own drop counters, which it
//! adds to the engine's report.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use capnp_rpc::RpcSystem;
use capnp_rpc::rpc_twoparty_capnp::Side;
use capnp_rpc::twoparty::VatNetwork;
use futures::AsyncReadExt;
use slaacd_ipc::slaacd_capnp::{control, engine, interface_report};
use tokio::net::UnixListener;
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::interfaces::Interfaces;

/// How many slaacctl connections are served at once; more wait in the backlog.
const MAX_CONNECTIONS: usize = 16;

/// Accepts slaacctl connections until the listener fails.
pub async fn serve(
    listener: UnixListener,
    engine: engine::Client,
    interfaces: Rc<RefCell<Interfaces>>,
) {
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
        let (reader, writer) = stream.compat().split();
        let network = VatNetwork::new(reader, writer, Side::Server, Default::default());
        let control: control::Client = capnp_rpc::new_client(ControlImpl {
            engine: engine.clone(),
            interfaces: interfaces.clone(),
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

struct ControlImpl {
    engine: engine::Client,
    interfaces: Rc<RefCell<Interfaces>>,
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
                let mut target = out.reborrow().get(i as u32);
                copy_with_frontend_drops(report, target.reborrow(), &self.interfaces.borrow())?;
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
            request.get().set_if_index(params.get()?.get_if_index());
            let reply = request.send().promise.await?;
            results.get().set_known(reply.get()?.get_known());
            Ok(())
        }
    }
}

/// Copies one interface report and appends the frontend's own drop counters
/// to the engine's.
fn copy_with_frontend_drops(
    report: interface_report::Reader<'_>,
    mut target: interface_report::Builder<'_>,
    interfaces: &Interfaces,
) -> capnp::Result<()> {
    target.set_if_index(report.get_if_index());
    target.set_name(report.get_name()?);
    target.set_running(report.get_running());
    target.set_temporary(report.get_temporary());
    target.set_hw_address(report.get_hw_address()?);
    match report.get_link_local().which()? {
        interface_report::link_local::None(()) => target.reborrow().init_link_local().set_none(()),
        interface_report::link_local::Address(address) => {
            target.reborrow().init_link_local().set_address(address?)?
        }
    }
    target.set_routers(report.get_routers()?)?;
    target.set_address_proposals(report.get_address_proposals()?)?;
    target.set_default_route_proposals(report.get_default_route_proposals()?)?;

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
