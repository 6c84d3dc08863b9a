//! The frontend's own drops (hop limit not 255, engine busy, fragmented,
//! and the rest `interfaces::FrontendDrop` names) told to `slaacctl
//! monitor`, summed up so that a flood cannot multiply the work it causes.
//!
//! The frontend is where floods arrive, so a dropped RA never costs a call
//! of its own. While at least one `slaacctl monitor` holds a subscription
//! through this frontend ([`DropReports::listening`] counts them, which is
//! free: every subscription passes through here), each drop adds one to a
//! pending summary per interface and reason, which keeps the count and the
//! last source: what is pending is bounded by the machine's interfaces
//! (drops on those slaacd does not manage are told too, under index 0 when
//! the kernel did not say which) times the reasons, whatever the flood. One
//! sender passes the summaries on in `Engine.frontendDrops` calls, each with
//! at most [`MAX_ENTRIES`] of them (the rest wait for the next), at most one
//! call unanswered and at most one call every [`REPORT_INTERVAL`]: a flood
//! costs the engine at most ten small calls a second, and the engine makes
//! one monitor event per entry, carrying the count. The first drop after a
//! quiet spell leaves at once.
//! With nobody listening nothing is recorded and nothing is sent (the
//! counters `show interface` prints are kept elsewhere, always).
//!
//! It must never make the receive path wait, never hold more than a summary
//! per interface and reason, and never call the engine per dropped RA.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::Ipv6Addr;
use std::rc::{Rc, Weak};
use std::time::Duration;

use slaacd_ipc::slaacd_capnp::{self, monitor_subscription};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::interfaces::FrontendDrop;

/// Summaries in one call, as the schema fixes it; more wait for the next
/// (the engine refuses a longer list).
pub const MAX_ENTRIES: usize = slaacd_capnp::MAX_FRONTEND_DROPS_PER_CALL as usize;

/// The least time between the starts of two calls.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// RAs dropped on one interface for one reason since the previous call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropSummary {
    pub if_index: u32,
    pub drop: FrontendDrop,
    pub count: u64,
    pub last_source: Ipv6Addr,
}

/// The pending summaries and the count of listeners.
#[derive(Default)]
pub struct DropReports {
    listeners: Cell<usize>,
    pending: RefCell<BTreeMap<(u32, FrontendDrop), (u64, Ipv6Addr)>>,
    recorded: Notify,
}

impl DropReports {
    /// Counts a listener for as long as the returned guard lives.
    pub fn listening(self: &Rc<Self>) -> Listening {
        self.listeners.set(self.listeners.get() + 1);
        Listening {
            reports: Rc::downgrade(self),
        }
    }

    /// Adds a drop to its summary, if anyone listens.
    pub fn record(&self, if_index: u32, drop: FrontendDrop, source: Ipv6Addr) {
        if self.listeners.get() == 0 {
            return;
        }
        let mut pending = self.pending.borrow_mut();
        let (count, last_source) = pending.entry((if_index, drop)).or_insert((0, source));
        *count = count.saturating_add(1);
        *last_source = source;
        self.recorded.notify_one();
    }

    /// Sends the summaries as they come: `send` makes one call with them
    /// and resolves once it is answered or failed. Runs for as long as it
    /// is polled.
    pub async fn run<F, A>(&self, interval: Duration, mut send: F) -> Infallible
    where
        F: FnMut(Vec<DropSummary>) -> A,
        A: Future<Output = ()>,
    {
        loop {
            self.recorded.notified().await;
            loop {
                let summaries = self.take();
                if summaries.is_empty() {
                    break;
                }
                let started = Instant::now();
                send(summaries).await;
                tokio::time::sleep_until(started + interval).await;
            }
        }
    }

    /// Takes at most a call's worth of summaries.
    pub(crate) fn take(&self) -> Vec<DropSummary> {
        let mut pending = self.pending.borrow_mut();
        std::iter::from_fn(|| pending.pop_first())
            .take(MAX_ENTRIES)
            .map(|((if_index, drop), (count, last_source))| DropSummary {
                if_index,
                drop,
                count,
                last_source,
            })
            .collect()
    }
}

/// A listener being counted; the last one gone forgets what is pending.
pub struct Listening {
    reports: Weak<DropReports>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(reports) = self.reports.upgrade() {
            let left = reports.listeners.get().saturating_sub(1);
            reports.listeners.set(left);
            if left == 0 {
                reports.pending.borrow_mut().clear();
            }
        }
    }
}

/// What slaacctl holds instead of the engine's subscription: it holds the
/// engine's, and counts the listener while slaacctl holds it.
pub fn relay_subscription(
    reports: &Rc<DropReports>,
    engine_subscription: monitor_subscription::Client,
) -> monitor_subscription::Client {
    capnp_rpc::new_client(RelayedSubscription {
        _engine: engine_subscription,
        _listening: reports.listening(),
    })
}

struct RelayedSubscription {
    _engine: monitor_subscription::Client,
    _listening: Listening,
}

impl monitor_subscription::Server for RelayedSubscription {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_runtime::run_local;

    fn source(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last)
    }

    #[test]
    fn nothing_is_recorded_while_nobody_listens() {
        let reports = Rc::new(DropReports::default());
        reports.record(2, FrontendDrop::HopLimit, source(1));
        assert!(reports.take().is_empty());
        let listening = reports.listening();
        reports.record(2, FrontendDrop::HopLimit, source(1));
        drop(listening);
        assert!(reports.take().is_empty(), "the last listener gone forgets");
    }

    #[test]
    fn a_burst_sums_up_per_interface_and_reason_with_the_last_source() {
        let reports = Rc::new(DropReports::default());
        let _listening = reports.listening();
        for n in 0..1000 {
            reports.record(2, FrontendDrop::EngineBusy, source(n % 64));
        }
        reports.record(2, FrontendDrop::HopLimit, source(7));
        reports.record(3, FrontendDrop::EngineBusy, source(9));
        assert_eq!(
            reports.take(),
            vec![
                DropSummary {
                    if_index: 2,
                    drop: FrontendDrop::HopLimit,
                    count: 1,
                    last_source: source(7),
                },
                DropSummary {
                    if_index: 2,
                    drop: FrontendDrop::EngineBusy,
                    count: 1000,
                    last_source: source(999 % 64),
                },
                DropSummary {
                    if_index: 3,
                    drop: FrontendDrop::EngineBusy,
                    count: 1,
                    last_source: source(9),
                },
            ]
        );
        assert!(reports.take().is_empty(), "taken means sent");
    }

    #[test]
    fn a_call_carries_at_most_max_entries() {
        let reports = Rc::new(DropReports::default());
        let _listening = reports.listening();
        for index in 0..100 {
            reports.record(index, FrontendDrop::HopLimit, source(1));
        }
        assert_eq!(reports.take().len(), MAX_ENTRIES);
        assert_eq!(reports.take().len(), 100 - MAX_ENTRIES);
    }

    /// When a call started, and what it carried.
    type Call = (Instant, Vec<DropSummary>);

    /// A flood recorded between the sender's turns, with a slow engine:
    /// one call at a time, spaced by the interval, and every drop counted
    /// in exactly one of them.
    #[test]
    fn a_flood_makes_few_spaced_calls_one_at_a_time() {
        run_local(async {
            let interval = Duration::from_millis(30);
            let reports = Rc::new(DropReports::default());
            let _listening = reports.listening();
            let calls: Rc<RefCell<Vec<Call>>> = Rc::default();
            let unanswered = Rc::new(Cell::new(0));
            let sender = {
                let (reports, calls, unanswered) =
                    (reports.clone(), calls.clone(), unanswered.clone());
                tokio::task::spawn_local(async move {
                    reports
                        .run(interval, |summaries| {
                            assert_eq!(unanswered.get(), 0, "a second call while one is out");
                            unanswered.set(1);
                            calls.borrow_mut().push((Instant::now(), summaries));
                            let unanswered = unanswered.clone();
                            async move {
                                tokio::time::sleep(Duration::from_millis(5)).await;
                                unanswered.set(0);
                            }
                        })
                        .await
                })
            };
            let started = Instant::now();
            let mut recorded = 0u64;
            while started.elapsed() < Duration::from_millis(200) {
                for _ in 0..50 {
                    reports.record(2, FrontendDrop::EngineBusy, source(1));
                    recorded += 1;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(interval * 3).await;
            sender.abort();

            let calls = calls.borrow();
            let sent: u64 = calls
                .iter()
                .flat_map(|(_, summaries)| summaries)
                .map(|summary| summary.count)
                .sum();
            assert_eq!(sent, recorded, "every drop told once");
            let most = started.elapsed().as_millis() / interval.as_millis() + 1;
            assert!(
                calls.len() as u128 <= most,
                "{} calls for {recorded} drops, at most {most} expected",
                calls.len()
            );
            for pair in calls.windows(2) {
                assert!(
                    pair[1].0 - pair[0].0 >= interval,
                    "calls closer than the interval"
                );
            }
        });
    }
}
