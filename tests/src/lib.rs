//! A small lab for end-to-end tests: network namespaces joined by veth
//! pairs, radvd as the router, and slaacd as the host, all started and
//! stopped by pid.
//!
//! Every namespace name is unique to the test process, so tests may run in
//! parallel and beside other users of the machine; nothing here touches the
//! machine's own network configuration.

pub mod capture;
pub mod kernel_view;
pub mod lab;
pub mod monitor;
pub mod netns;
pub mod packet_socket;
pub mod process;
pub mod ra_sender;
pub mod radvd;
pub mod reach;
pub mod segment;
pub mod slaacd;

use std::time::{Duration, Instant};

/// Polls `probe` every 20 ms until it returns something, or panics with
/// `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `probe` every 20 ms until it returns something, or gives up with
/// None after `timeout`, so the caller can say what it found instead.
pub fn poll_until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fails the test at once, with the fix, when it cannot run here.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests create network namespaces and need root"
    );
}
