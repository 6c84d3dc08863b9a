//! What the harness tests share (slaacd-engine or slaacd-frontend started
//! alone, the test playing its peers over Cap'n Proto): starting the child
//! as the parent does, the runtime the fake peers run on, and waiting for a
//! call the fakes recorded.
//!
//! It starts only the one child under test, and only as the unprivileged
//! user; it never starts a whole daemon.

use std::cell::RefCell;
use std::fmt::Debug;
use std::os::fd::OwnedFd;
use std::time::Duration;

use slaacd_tests::process::Guarded;
use slaacd_tests::slaacd::binary;

/// How long a call the test waits for may take to come.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Starts the built `program` (slaacd-engine or slaacd-frontend) in the
/// foreground as `_slaacd`, with the parent's end of its channel returned
/// beside it; the child is killed by pid if the test ends first.
pub fn start_child(program: &str) -> (OwnedFd, Guarded) {
    let (parent_end, child_end) = slaacd_ipc::child::socketpair().unwrap();
    let child = slaacd_ipc::child::spawn_child(
        &binary(program),
        &["-d".into(), "--user".into(), "_slaacd".into()],
        child_end,
    )
    .unwrap_or_else(|error| panic!("starting {program}: {error}"));
    (parent_end, Guarded::new(child))
}

/// A runtime on the current thread, for the fake peers (their capabilities
/// are not Send).
pub fn peer_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Waits until `calls`, after its first `skip` entries, holds a call that
/// `matches` accepts, and returns it; panics with every call after
/// [`PATIENCE`].
pub async fn wait_for_call<C: Clone + Debug>(
    calls: &RefCell<Vec<C>>,
    skip: usize,
    what: &str,
    matches: impl Fn(&C) -> bool,
) -> C {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        let found = calls
            .borrow()
            .iter()
            .skip(skip)
            .find(|call| matches(call))
            .cloned();
        if let Some(found) = found {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} never came; calls: {:#?}", calls.borrow());
}
