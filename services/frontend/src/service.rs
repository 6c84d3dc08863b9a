//! The frontend's Cap'n Proto face and its relays: `FrontendMain` for the
//! parent, `Frontend` for the engine, and the tasks that carry Router
//! Advertisements and interface events to the engine.
//!
//! The frontend holds no SLAAC state: it filters by managed interface, checks
//! the hop limit and for fragments, bounds what is in flight, and passes the
//! rest on. Every RA it drops, for whatever reason, it counts on its
//! interface for `show` when that is managed, and sums up for `slaacctl
//! monitor` (`drop_report`) in any case: it must never drop one silently.

use std::cell::RefCell;
use std::future::Future;
use std::net::Ipv6Addr;
use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::rc::Rc;

use anyhow::{Context, anyhow};
use futures::future::{self, Either};
use slaacd_ipc::convert::write_ip6;
use slaacd_ipc::slaacd_capnp::{self, engine, frontend, frontend_main};
use slaacd_ipc::{Channel, FdQueues, Side, channel};
use slaacd_log::LogHandle;
use slaacd_wire::SolicitationSource;
use tokio::net::UnixListener;
use tokio::sync::oneshot;

use crate::control::{self, ControlSetup};
use crate::drop_report::{DropReports, DropSummary, REPORT_INTERVAL};
use crate::icmp6::{RaSocket, ReceivedRa};
use crate::interfaces::{Change, FrontendDrop, Interfaces};
use crate::netlink::{InterfaceState, LinkEvent, LinkMonitor};
use crate::packet::PacketSocket;
use crate::relay_queue::{RelayBounds, RelayQueue};

/// Router Advertisements held on their way to the engine. A burst from the
/// routers of a busy link waits for a call instead of being dropped; beyond
/// `most_held` RAs an RA flood is dropped here and counted as engine-busy.
const RA_RELAY: RelayBounds = RelayBounds {
    waiting: 256,
    // Calls not yet answered, pipelined on the channel: enough that the
    // engine always has the next one, few enough that a burst waits and
    // leaves in large calls (each call costs capnp-rpc the same whatever
    // it carries).
    calls: NonZeroUsize::new(4).unwrap(),
    // The engine refuses a longer list.
    per_call: NonZeroUsize::new(slaacd_capnp::MAX_ADVERTISEMENTS_PER_CALL as usize).unwrap(),
};

/// Serves the parent's channel until the parent closes it (an orderly stop) or
/// the engine's channel closes (the engine died: an error).
/// `log` is the frontend's own logging, which `slaacctl log` changes.
pub async fn serve(parent_channel: OwnedFd, log: LogHandle) -> anyhow::Result<()> {
    let (started, started_rx) = oneshot::channel();
    let parent = Channel::open(parent_channel, Side::Server, |queues| {
        let main: frontend_main::Client = capnp_rpc::new_client(FrontendMainImpl {
            queues: queues.clone(),
            started: RefCell::new(Some(started)),
            log,
        });
        Some(main.client)
    })
    .context("setting up the parent's channel")?;

    let running = async move {
        match started_rx.await {
            Ok(running) => running.await,
            Err(_) => future::pending().await,
        }
    };
    match future::select(parent.rpc, Box::pin(running)).await {
        Either::Left((result, _)) => {
            result.context("the parent's channel failed")?;
            tracing::info!("the parent closed its channel; exiting");
            Ok(())
        }
        Either::Right((result, _)) => result,
    }
}

type Running = std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>>>>;

struct FrontendMainImpl {
    queues: Rc<FdQueues>,
    started: RefCell<Option<oneshot::Sender<Running>>>,
    log: LogHandle,
}

impl frontend_main::Server for FrontendMainImpl {
    fn start(
        self: Rc<Self>,
        params: frontend_main::StartParams,
        _: frontend_main::StartResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let started = self.started.borrow_mut().take();
        let result = (|| {
            let started = started
                .ok_or_else(|| capnp::Error::failed("the frontend was started twice".into()))?;
            let params = params.get()?;
            let take = |fd| channel::take_fd(&self.queues, fd);
            // Taken in the order the parent queued them.
            let sockets = Sockets {
                engine: take(params.get_engine_channel()?)?,
                icmp6: take(params.get_icmp6()?)?,
                packet: take(params.get_packet()?)?,
                netlink: take(params.get_netlink()?)?,
                control: take(params.get_control()?)?,
            };
            let mut names = Vec::new();
            for name in params.get_interfaces()? {
                names.push(name?.to_string()?);
            }
            let setup = ControlSetup {
                control_group: params.get_control_group(),
                log: self.log.clone(),
                parent_logging: params.get_logging()?,
            };
            let running = start(sockets, names, setup)
                .map_err(|error| capnp::Error::failed(format!("{error:#}")))?;
            let _ = started.send(running);
            Ok(())
        })();
        future::ready(result)
    }
}

struct Sockets {
    engine: OwnedFd,
    icmp6: OwnedFd,
    packet: OwnedFd,
    netlink: OwnedFd,
    control: OwnedFd,
}

/// Connects to the engine and starts every relay. The returned future ends
/// when the engine's channel closes or a relay fails.
fn start(sockets: Sockets, names: Vec<String>, setup: ControlSetup) -> anyhow::Result<Running> {
    let ra_socket = RaSocket::new(sockets.icmp6).context("setting up the ICMPv6 socket")?;
    let packet_socket =
        PacketSocket::new(sockets.packet).context("setting up the packet socket")?;
    let monitor = LinkMonitor::new(sockets.netlink).context("setting up the netlink socket")?;
    let listener = {
        let listener = std::os::unix::net::UnixListener::from(sockets.control);
        listener
            .set_nonblocking(true)
            .context("setting up the control socket")?;
        UnixListener::from_std(listener).context("setting up the control socket")?
    };
    let interfaces = Rc::new(RefCell::new(Interfaces::new(names)));
    let drop_reports = Rc::new(DropReports::default());
    let ra_socket = Rc::new(ra_socket);

    let solicitor: frontend::Client = capnp_rpc::new_client(FrontendImpl {
        interfaces: interfaces.clone(),
        ra_socket: ra_socket.clone(),
        packet_socket,
    });
    let Channel { mut rpc, .. } =
        Channel::open(sockets.engine, Side::Client, |_| Some(solicitor.client))
            .context("setting up the engine's channel")?;
    let engine: engine::Client = rpc.bootstrap(Side::Server);

    tokio::task::spawn_local(control::serve(
        listener,
        engine.clone(),
        interfaces.clone(),
        drop_reports.clone(),
        setup,
    ));
    let advertisements =
        relay_advertisements(ra_socket, engine.clone(), interfaces.clone(), drop_reports);
    let links = relay_link_events(monitor, engine, interfaces);
    tracing::info!("started");
    Ok(Box::pin(async move {
        tokio::select! {
            result = rpc => match result {
                // The engine exited; the parent tells why.
            Ok(()) => {
                tracing::info!("the engine closed its channel; exiting");
                Ok(())
            }
                Err(error) => Err(anyhow!("the engine's channel failed: {error}")),
            },
            result = advertisements => result,
            result = links => result,
        }
    }))
}

/// Carries Router Advertisements from the raw socket to the engine, and
/// what the frontend drops on the way to the engine's monitors.
async fn relay_advertisements(
    socket: Rc<RaSocket>,
    engine: engine::Client,
    interfaces: Rc<RefCell<Interfaces>>,
    drop_reports: Rc<DropReports>,
) -> anyhow::Result<()> {
    let queue = RelayQueue::new(RA_RELAY);
    let drops = Drops {
        interfaces: &interfaces,
        reports: &drop_reports,
    };
    let receive = receive_advertisements(&socket, &queue, &drops);
    let send = queue.run(|ras| pass_on(&engine, &ras, &drops));
    let report = drop_reports.run(REPORT_INTERVAL, |summaries| {
        let reply = drop_summary_request(&engine, &interfaces.borrow(), &summaries);
        async move {
            if let Err(error) = reply.await {
                tracing::warn!("telling the engine the frontend's drops: {error}");
            }
        }
    });
    tokio::select! {
        result = receive => result,
        never = send => match never {},
        never = report => match never {},
    }
}

/// Where the frontend's drops go: the counters `show` prints, kept for
/// managed interfaces only, and the summaries for the monitors, which also
/// hear of drops on other interfaces (under index 0 when the datagram came
/// without one).
struct Drops<'a> {
    interfaces: &'a RefCell<Interfaces>,
    reports: &'a DropReports,
}

impl Drops<'_> {
    fn count(&self, if_index: Option<u32>, drop: FrontendDrop, source: Option<Ipv6Addr>) {
        let index = if_index.unwrap_or(0);
        self.interfaces.borrow_mut().count_drop(index, drop);
        self.reports
            .record(index, drop, source.unwrap_or(Ipv6Addr::UNSPECIFIED));
    }
}

/// Why the frontend drops `ra` itself, if it does; `None`: the engine
/// judges it. One reason per RA, the first that applies.
fn frontend_drop(ra: &ReceivedRa, managed: bool) -> Option<FrontendDrop> {
    if !managed {
        Some(FrontendDrop::NotManaged)
    } else if ra.hop_limit != 255 {
        Some(FrontendDrop::HopLimit)
    } else if ra.fragmented {
        Some(FrontendDrop::Fragmented)
    } else {
        None
    }
}

/// Reads Router Advertisements, keeps those of managed interfaces with hop
/// limit 255 that came whole and queues them for the engine, counting what
/// it drops.
async fn receive_advertisements(
    socket: &RaSocket,
    queue: &RelayQueue<ReceivedRa>,
    drops: &Drops<'_>,
) -> anyhow::Result<()> {
    loop {
        let ra = match socket.recv().await {
            Ok(ra) => ra,
            Err(error) => match error.dropped_datagram() {
                Some(dropped) => {
                    tracing::debug!(
                        if_index = ?dropped.if_index,
                        "dropping an ICMPv6 datagram: {error}"
                    );
                    drops.count(dropped.if_index, dropped.drop, dropped.source);
                    continue;
                }
                None => return Err(error).context("receiving from the ICMPv6 socket"),
            },
        };
        let managed = drops.interfaces.borrow().is_managed(ra.if_index);
        if let Some(drop) = frontend_drop(&ra, managed) {
            tracing::debug!(
                "dropping an RA from {} on interface {} (hop limit {}): {}",
                ra.source,
                ra.if_index,
                ra.hop_limit,
                drop.reason()
            );
            drops.count(Some(ra.if_index), drop, Some(ra.source));
            continue;
        }
        if let Err(ra) = queue.offer(ra) {
            drops.count(Some(ra.if_index), FrontendDrop::EngineBusy, Some(ra.source));
        }
    }
}

/// Starts the call that carries `ras` to the engine (at once, so calls
/// leave in order); the returned future ends with its answer. Should the
/// call fail, its RAs are lost: each is counted.
fn pass_on<'a>(
    engine: &engine::Client,
    ras: &[ReceivedRa],
    drops: &'a Drops<'_>,
) -> impl Future<Output = ()> + use<'a> {
    let reply = advertisements_request(engine, ras);
    // What counting needs, not the packets: the call holds those.
    let sent: Vec<(u32, Ipv6Addr)> = ras.iter().map(|ra| (ra.if_index, ra.source)).collect();
    async move {
        if let Err(error) = reply.await {
            tracing::warn!("passing {} RAs to the engine: {error}", sent.len());
            for (if_index, source) in sent {
                drops.count(Some(if_index), FrontendDrop::EngineCallFailed, Some(source));
            }
        }
    }
}

/// One call with `ras`, oldest first (at most a batch: the count fits).
fn advertisements_request(
    engine: &engine::Client,
    ras: &[ReceivedRa],
) -> Call<engine::router_advertisements_results::Owned> {
    let mut request = engine.router_advertisements_request();
    let mut list = request.get().init_advertisements(ras.len() as u32);
    for (at, ra) in (0..).zip(ras) {
        let mut entry = list.reborrow().get(at);
        entry.set_if_index(ra.if_index);
        write_ip6(entry.reborrow().init_source(), ra.source);
        entry.set_packet(&ra.packet);
    }
    request.send().promise
}

/// One call with `summaries` (at most a call's worth: the count fits), each
/// with the interface's name if it is still managed.
fn drop_summary_request(
    engine: &engine::Client,
    interfaces: &Interfaces,
    summaries: &[DropSummary],
) -> Call<engine::frontend_drops_results::Owned> {
    let mut request = engine.frontend_drops_request();
    let mut list = request.get().init_drops(summaries.len() as u32);
    for (at, summary) in (0..).zip(summaries) {
        let mut entry = list.reborrow().get(at);
        entry.set_if_index(summary.if_index);
        if let Some(interface) = interfaces.get(summary.if_index) {
            entry.set_if_name(&interface.name);
        }
        entry.set_reason(summary.drop.reason());
        entry.set_count(summary.count);
        write_ip6(entry.reborrow().init_last_source(), summary.last_source);
    }
    request.send().promise
}

/// Carries link and address events for managed interfaces to the engine.
async fn relay_link_events(
    mut monitor: LinkMonitor,
    engine: engine::Client,
    interfaces: Rc<RefCell<Interfaces>>,
) -> anyhow::Result<()> {
    loop {
        let event = monitor
            .next_event()
            .await
            .context("reading netlink events")?;
        match event {
            LinkEvent::Interface(state) => {
                let change = interfaces.borrow_mut().update(state.clone());
                match change {
                    Change::Updated => {
                        tracing::debug!(
                            "interface {} ({}): running {}, link-local {:?}",
                            state.name,
                            state.index,
                            state.running,
                            state.link_local
                        );
                        forward(update_request(&engine, &state))
                    }
                    Change::Removed => forward(remove_request(&engine, state.index)),
                    Change::Ignored => {}
                }
            }
            LinkEvent::Removed { index } => {
                if interfaces.borrow_mut().remove(index) {
                    forward(remove_request(&engine, index));
                }
            }
            LinkEvent::AddressDeleted { index, address } => {
                if interfaces.borrow().is_managed(index) {
                    let mut request = engine.address_deleted_request();
                    request.get().set_if_index(index);
                    write_ip6(request.get().init_address(), address);
                    forward(request.send().promise);
                }
            }
            LinkEvent::DadFailed { index, address } => {
                if interfaces.borrow().is_managed(index) {
                    let mut request = engine.dad_failed_request();
                    request.get().set_if_index(index);
                    write_ip6(request.get().init_address(), address);
                    forward(request.send().promise);
                }
            }
        }
    }
}

type Call<T> = capnp::capability::Promise<capnp::capability::Response<T>, capnp::Error>;

/// Lets a call to the engine complete on its own, logging a failure. Calls on
/// one capability arrive in the order they were sent.
fn forward<T: capnp::traits::Owned + 'static>(call: Call<T>) {
    tokio::task::spawn_local(async move {
        if let Err(error) = call.await {
            tracing::warn!("passing an interface event to the engine: {error}");
        }
    });
}

fn update_request(
    engine: &engine::Client,
    interface: &InterfaceState,
) -> Call<engine::update_interface_results::Owned> {
    let mut request = engine.update_interface_request();
    let mut state = request.get().init_state();
    state.set_if_index(interface.index);
    state.set_name(&interface.name);
    state.set_running(interface.running);
    state.set_hw_address(&interface.hw_address);
    match interface.link_local {
        Some(address) => write_ip6(state.init_link_local().init_address(), address),
        None => state.init_link_local().set_none(()),
    }
    request.send().promise
}

fn remove_request(
    engine: &engine::Client,
    index: u32,
) -> Call<engine::remove_interface_results::Owned> {
    let mut request = engine.remove_interface_request();
    request.get().set_if_index(index);
    request.send().promise
}

/// Sends Router Solicitations when the engine asks.
struct FrontendImpl {
    interfaces: Rc<RefCell<Interfaces>>,
    ra_socket: Rc<RaSocket>,
    packet_socket: PacketSocket,
}

impl frontend::Server for FrontendImpl {
    fn send_solicitation(
        self: Rc<Self>,
        params: frontend::SendSolicitationParams,
        _: frontend::SendSolicitationResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        future::ready((|| {
            let index = params.get()?.get_if_index();
            let interfaces = self.interfaces.borrow();
            let Some(info) = interfaces.get(index) else {
                tracing::debug!("not soliciting on unmanaged interface {index}");
                return Ok(());
            };
            let result = if let Ok(mac) = <[u8; 6]>::try_from(info.hw_address.as_slice()) {
                // The packet socket sends from :: before the link-local
                // address is usable, and needs no neighbour entry after
                // (an RA flood can fill the machine's neighbour table).
                let source = match info.link_local {
                    Some(address) if info.link_local_usable => SolicitationSource::LinkLocal {
                        address,
                        optimistic: info.link_local_optimistic,
                    },
                    _ => SolicitationSource::Unspecified,
                };
                self.packet_socket
                    .send_solicitation(index, mac, source)
                    .map_err(anyhow::Error::from)
            } else if info.link_local_usable {
                // RFC 4429: no link-layer option from an optimistic address.
                let link_layer =
                    (!info.link_local_optimistic).then_some(info.hw_address.as_slice());
                self.ra_socket
                    .send_solicitation(index, link_layer)
                    .map_err(anyhow::Error::from)
            } else {
                tracing::debug!(
                    "interface {} has no usable source for a solicitation yet",
                    info.name
                );
                return Ok(());
            };
            match result {
                Ok(()) => tracing::debug!("sent a router solicitation on {}", info.name),
                Err(error) => {
                    tracing::warn!("sending a router solicitation on {}: {error}", info.name)
                }
            }
            Ok(())
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::InterfaceState;
    use crate::test_runtime::run_local;

    const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

    fn ra(if_index: u32, hop_limit: u8, fragmented: bool) -> ReceivedRa {
        ReceivedRa {
            if_index,
            source: ROUTER,
            hop_limit,
            fragmented,
            packet: vec![134, 0, 0, 0],
        }
    }

    /// eth0 (index 2) managed; index 3 is some other interface.
    fn eth0() -> RefCell<Interfaces> {
        let mut interfaces = Interfaces::new(vec!["eth0".to_string()]);
        interfaces.update(InterfaceState {
            index: 2,
            name: "eth0".to_string(),
            running: true,
            hw_address: vec![2, 0, 0, 0, 0, 1],
            link_local: None,
            link_local_usable: false,
            link_local_optimistic: false,
        });
        RefCell::new(interfaces)
    }

    #[test]
    fn the_frontend_drops_one_reason_per_ra_the_first_that_applies() {
        let drop = |ra: &ReceivedRa, managed| frontend_drop(ra, managed).map(FrontendDrop::reason);
        assert_eq!(drop(&ra(2, 255, false), true), None);
        assert_eq!(drop(&ra(2, 255, true), true), Some("fragmented"));
        assert_eq!(drop(&ra(2, 64, true), true), Some("hop-limit-not-255"));
        assert_eq!(drop(&ra(3, 64, true), false), Some("interface-not-managed"));
    }

    #[test]
    fn drops_count_on_managed_interfaces_and_reach_the_monitors_from_any() {
        let interfaces = eth0();
        let reports = Rc::new(DropReports::default());
        let _listening = reports.listening();
        let drops = Drops {
            interfaces: &interfaces,
            reports: &reports,
        };
        drops.count(Some(2), FrontendDrop::Fragmented, Some(ROUTER));
        drops.count(Some(3), FrontendDrop::NotManaged, Some(ROUTER));
        drops.count(None, FrontendDrop::Incomplete, None);

        let interfaces = interfaces.borrow();
        assert_eq!(interfaces.drops(2).collect::<Vec<_>>(), [("fragmented", 1)]);
        assert_eq!(interfaces.drops(3).count(), 0);
        let told: Vec<_> = reports
            .take()
            .into_iter()
            .map(|summary| (summary.if_index, summary.drop.reason(), summary.last_source))
            .collect();
        assert_eq!(
            told,
            [
                (0, "incomplete", Ipv6Addr::UNSPECIFIED),
                (2, "fragmented", ROUTER),
                (3, "interface-not-managed", ROUTER),
            ]
        );
    }

    /// An engine whose every method fails (none is implemented).
    struct FailingEngine;

    impl engine::Server for FailingEngine {}

    #[test]
    fn the_ras_of_a_failed_call_are_counted_as_lost() {
        run_local(async {
            let engine: engine::Client = capnp_rpc::new_client(FailingEngine);
            let interfaces = eth0();
            let reports = DropReports::default();
            let drops = Drops {
                interfaces: &interfaces,
                reports: &reports,
            };
            pass_on(&engine, &[ra(2, 255, false), ra(2, 255, false)], &drops).await;
            assert_eq!(
                interfaces.borrow().drops(2).collect::<Vec<_>>(),
                [("engine-call-failed", 2)]
            );
        });
    }
}
