//! Talks to the daemon's control socket: connects, bootstraps the `Control`
//! capability over Cap'n Proto two-party RPC, makes one call (two, at once,
//! to show every interface) and returns its answer, or the daemon's refusal
//! as a permission error. `monitor` instead serves a `MonitorListener` and
//! hands each batch of events to its caller until interrupted.
//!
//! Each call runs on its own single-threaded runtime and ends the connection
//! when it returns. This module must never print or interpret the answer
//! beyond converting it to the plain model.

use std::cell::RefCell;
use std::future::{self, Future};
use std::path::Path;

use capnp_rpc::{RpcSystem, rpc_twoparty_capnp::Side, twoparty};
use futures::io::BufReader;
use slaacd_ipc::slaacd_capnp::{control, monitor_listener};
use tokio::net::UnixStream;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::convert;
use crate::error::CtlError;
use crate::event::Batch;
use crate::report::{InterfaceReport, ShowReply};

/// Asks for the report of the interface `if_index`.
pub fn show_interface(socket: &Path, if_index: u32) -> Result<ShowReply, CtlError> {
    with_control(socket, async move |control| {
        Ok(ShowReply {
            interfaces: interfaces(&control, if_index).await?,
            absent: Vec::new(),
        })
    })
}

/// Asks for the report of every interface and for the managed names no
/// interface has now.
pub fn show_all(socket: &Path) -> Result<ShowReply, CtlError> {
    with_control(socket, async move |control| {
        let (interfaces, absent) = futures::try_join!(interfaces(&control, 0), absent(&control))?;
        Ok(ShowReply { interfaces, absent })
    })
}

/// The managed names no interface has now.
pub fn absent_interfaces(socket: &Path) -> Result<Vec<String>, CtlError> {
    with_control(socket, async move |control| absent(&control).await)
}

/// The reports of interface `if_index`, or of all when it is 0.
async fn interfaces(
    control: &control::Client,
    if_index: u32,
) -> capnp::Result<Vec<InterfaceReport>> {
    let mut request = control.show_interfaces_request();
    request.get().set_if_index(if_index);
    let response = request.send().promise.await?;
    convert::interfaces(response.get()?.get_interfaces()?)
}

/// The managed names no interface has now; none from a daemon older than
/// the question (it still runs after slaacctl was upgraded), which knows
/// only the interfaces that exist.
async fn absent(control: &control::Client) -> capnp::Result<Vec<String>> {
    match control.absent_interfaces_request().send().promise.await {
        Ok(response) => convert::names(response.get()?.get_names()?),
        Err(error) if error.kind == capnp::ErrorKind::Unimplemented => Ok(Vec::new()),
        Err(error) => Err(error),
    }
}

/// Asks the daemon to send a Router Solicitation; returns whether it manages
/// the interface.
pub fn send_solicitation(socket: &Path, if_index: u32) -> Result<bool, CtlError> {
    with_control(socket, async move |control| {
        let mut request = control.send_solicitation_request();
        request.get().set_if_index(if_index);
        let response = request.send().promise.await?;
        Ok(response.get()?.get_known())
    })
}

/// Asks every daemon process to log at `verbosity` from now on (0 info, 1
/// debug); answered once all three do.
pub fn set_verbosity(socket: &Path, verbosity: u8) -> Result<(), CtlError> {
    with_control(socket, async move |control| {
        let mut request = control.set_verbosity_request();
        request.get().set_verbosity(verbosity);
        request.send().promise.await?;
        Ok(())
    })
}

/// Registers a listener for the events of `if_index` (0: every interface)
/// and gives each batch to `sink` until SIGINT or SIGTERM (then `Ok`), the
/// daemon closes the connection, or `sink` fails (then its error).
pub fn monitor(
    socket: &Path,
    if_index: u32,
    sink: impl FnMut(Batch) -> Result<(), CtlError> + 'static,
) -> Result<(), CtlError> {
    let (stop, stopped) = oneshot::channel();
    let listener: monitor_listener::Client = capnp_rpc::new_client(Listener {
        sink: RefCell::new(Box::new(sink)),
        stop: RefCell::new(Some(stop)),
    });
    run(socket, async move |control, connection| {
        let signals = signal(SignalKind::interrupt())
            .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)));
        let (mut interrupt, mut terminate) =
            signals.map_err(|error| Ended::Sink(CtlError::Runtime(error)))?;
        let mut request = control.monitor_request();
        request.get().set_if_index(if_index);
        request.get().set_listener(listener);
        let reply = request.send().promise.await.map_err(Ended::Request)?;
        // Held until the end: releasing it unregisters the listener.
        let _subscription = reply
            .get()
            .and_then(|reply| reply.get_subscription())
            .map_err(Ended::Request)?;
        tokio::select! {
            _ = interrupt.recv() => Ok(()),
            _ = terminate.recv() => Ok(()),
            failed = stopped => match failed {
                Ok(error) => Err(Ended::Sink(error)),
                // The listener is gone, so is the connection.
                Err(_) => Err(Ended::Closed),
            },
            _ = connection => Err(Ended::Closed),
        }
    })
}

/// What `monitor`'s caller does with each batch.
type Sink = Box<dyn FnMut(Batch) -> Result<(), CtlError>>;

/// slaacctl's `MonitorListener`: converts each batch and gives it to the
/// sink; the first failure of the sink ends the monitor.
struct Listener {
    sink: RefCell<Sink>,
    stop: RefCell<Option<oneshot::Sender<CtlError>>>,
}

impl monitor_listener::Server for Listener {
    fn events(
        self: std::rc::Rc<Self>,
        params: monitor_listener::EventsParams,
        _: monitor_listener::EventsResults,
    ) -> impl Future<Output = Result<(), capnp::Error>> + 'static {
        let result = (|| {
            let params = params.get()?;
            convert::batch(params.get_events()?, params.get_lost())
        })();
        let delivered = result
            .map_err(|source| CtlError::Event { source })
            .and_then(|batch| (self.sink.borrow_mut())(batch));
        if let Err(error) = delivered
            && let Some(stop) = self.stop.borrow_mut().take()
        {
            let _ = stop.send(error);
        }
        future::ready(Ok(()))
    }
}

/// Connects to `socket`, runs `call` with the daemon's `Control` capability and
/// returns its result.
fn with_control<T, F, Fut>(socket: &Path, call: F) -> Result<T, CtlError>
where
    F: FnOnce(control::Client) -> Fut,
    Fut: Future<Output = capnp::Result<T>>,
{
    // The RPC system moves the bytes while `call` waits for its answer; a
    // connection that breaks fails the pending call, so its own result
    // needs no separate handling.
    run(socket, async move |control, _connection| {
        call(control).await.map_err(Ended::Request)
    })
}

/// Why a session with the daemon ended badly.
enum Ended {
    /// A call failed (the daemon refused it, or the connection broke).
    Request(capnp::Error),
    /// The daemon closed the connection.
    Closed,
    /// The caller's sink failed.
    Sink(CtlError),
}

/// Connects to `socket` and runs `session` with the daemon's `Control`
/// capability and a future that ends when the connection does.
fn run<T, F, Fut>(socket: &Path, session: F) -> Result<T, CtlError>
where
    F: FnOnce(control::Client, Connection) -> Fut,
    Fut: Future<Output = Result<T, Ended>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(CtlError::Runtime)?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|source| CtlError::Connect {
                path: socket.to_owned(),
                source,
            })?;
        let (reader, writer) = stream.into_split();
        let network = twoparty::VatNetwork::new(
            BufReader::new(reader.compat()),
            writer.compat_write(),
            Side::Client,
            Default::default(),
        );
        let mut rpc = RpcSystem::new(Box::new(network), None);
        let control: control::Client = rpc.bootstrap(Side::Server);
        let (closed, connection) = oneshot::channel();
        let task = tokio::task::spawn_local(async move {
            let _ = rpc.await;
            let _ = closed.send(());
        });
        let result = session(control, connection).await;
        task.abort();
        result.map_err(|ended| match ended {
            Ended::Request(source) => {
                if let Some(reason) = permission_denied(&source) {
                    CtlError::PermissionDenied(reason.to_owned())
                } else if let Some(limit) = too_many_monitors(&source) {
                    CtlError::TooManyMonitors(limit.to_owned())
                } else {
                    CtlError::Request {
                        path: socket.to_owned(),
                        source,
                    }
                }
            }
            Ended::Closed => CtlError::Closed(socket.to_owned()),
            Ended::Sink(error) => error,
        })
    })
}

/// Ends (with `Err`, its sender dropped) when the connection does.
type Connection = oneshot::Receiver<()>;

/// What the daemon says after "permission denied: " when it refuses a change
/// to this peer (see `Control` in the schema); remote errors arrive as
/// "remote exception: <the daemon's words>".
fn permission_denied(error: &capnp::Error) -> Option<&str> {
    const MARKER: &str = "permission denied: ";
    let at = error.extra.find(MARKER)?;
    Some(&error.extra[at + MARKER.len()..])
}

/// What the engine says after "too many monitors: " when it refuses one
/// more listener.
fn too_many_monitors(error: &capnp::Error) -> Option<&str> {
    const MARKER: &str = "too many monitors: ";
    let at = error.extra.find(MARKER)?;
    Some(&error.extra[at + MARKER.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_a_refused_monitor() {
        let refused = capnp::Error::overloaded(
            "remote exception: remote exception: too many monitors: at most 8 at once".into(),
        );
        assert_eq!(too_many_monitors(&refused), Some("at most 8 at once"));
        let other = capnp::Error::failed("remote exception: engine gone".into());
        assert_eq!(too_many_monitors(&other), None);
    }

    #[test]
    fn recognises_a_refused_change() {
        let refused = capnp::Error::failed(
            "remote exception: permission denied: log needs uid 0 or gid 0 (this is uid 1000 gid 1000)"
                .into(),
        );
        assert_eq!(
            permission_denied(&refused),
            Some("log needs uid 0 or gid 0 (this is uid 1000 gid 1000)")
        );
        let other = capnp::Error::failed("remote exception: engine gone".into());
        assert_eq!(permission_denied(&other), None);
    }
}
