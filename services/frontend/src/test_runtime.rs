//! For the unit tests only: runs a future to its end on a fresh
//! single-threaded tokio runtime inside a `LocalSet`, as the frontend itself
//! runs (Cap'n Proto clients and servers are not `Send`). It must never be
//! compiled into the frontend itself.

use std::future::Future;

/// Runs `future` on a new current-thread runtime with timers and I/O, inside
/// a `LocalSet`, and returns its output.
pub(crate) fn run_local<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}
