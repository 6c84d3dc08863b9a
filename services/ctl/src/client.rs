//! Talks to the daemon's control socket: connects, bootstraps the `Control`
//! capability over Cap'n Proto two-party RPC, makes one call and returns its
//! answer, or the daemon's refusal as a permission error.
//!
//! Each call runs on its own single-threaded runtime and ends the connection
//! when it returns. This module must never print or interpret the answer
//! beyond converting it to the plain model.

use std::future::Future;
use std::path::Path;

use capnp_rpc::{RpcSystem, rpc_twoparty_capnp::Side, twoparty};
use futures::io::BufReader;
use slaacd_ipc::slaacd_capnp::control;
use tokio::net::UnixStream;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::convert;
use crate::error::CtlError;
use crate::report::InterfaceReport;

/// Asks for the report of one interface, or of all when `if_index` is 0.
pub fn show_interfaces(socket: &Path, if_index: u32) -> Result<Vec<InterfaceReport>, CtlError> {
    with_control(socket, async move |control| {
        let mut request = control.show_interfaces_request();
        request.get().set_if_index(if_index);
        let response = request.send().promise.await?;
        convert::interfaces(response.get()?.get_interfaces()?)
    })
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

/// Connects to `socket`, runs `call` with the daemon's `Control` capability and
/// returns its result.
fn with_control<T, F, Fut>(socket: &Path, call: F) -> Result<T, CtlError>
where
    F: FnOnce(control::Client) -> Fut,
    Fut: Future<Output = capnp::Result<T>>,
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
        // The RPC system moves the bytes while `call` waits for its answer; a
        // connection that breaks fails the pending call, so its own result
        // needs no separate handling.
        let connection = tokio::task::spawn_local(rpc);
        let result = call(control).await;
        connection.abort();
        result.map_err(|source| match permission_denied(&source) {
            Some(reason) => CtlError::PermissionDenied(reason.to_owned()),
            None => CtlError::Request {
                path: socket.to_owned(),
                source,
            },
        })
    })
}

/// What the daemon says after "permission denied: " when it refuses a change
/// to this peer (see `Control` in the schema); remote errors arrive as
/// "remote exception: <the daemon's words>".
fn permission_denied(error: &capnp::Error) -> Option<&str> {
    const MARKER: &str = "permission denied: ";
    let at = error.extra.find(MARKER)?;
    Some(&error.extra[at + MARKER.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

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
