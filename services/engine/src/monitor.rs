//! `slaacctl monitor` in the engine: the registered listeners, each with a
//! bounded queue of events and at most one `events` call in flight, fed with
//! the core's events and the parent's answers to proposals.
//!
//! A slow listener loses its oldest events, counted and told with the next
//! call; a vanished one is dropped when a call to it fails or when its
//! subscription is released. Neither may slow the engine down or make it
//! grow: nothing here waits for a listener, and what a listener costs is
//! capped ([`MAX_LISTENERS`], [`QUEUE_LEN`]). This module must never feed
//! anything back into the core.

mod schema;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use slaacd_core::{MonitorEvent, Output, ProposalChange};
use slaacd_ipc::slaacd_capnp::{monitor_listener, monitor_subscription};

/// Listeners registered at once; one more is refused.
pub const MAX_LISTENERS: usize = 8;

/// Events queued for a listener while its previous call is in flight;
/// beyond it the oldest are dropped.
pub const QUEUE_LEN: usize = 256;

/// An event as listeners get it.
#[derive(Debug)]
struct Event {
    /// Microseconds since the Unix epoch.
    time: u64,
    index: u32,
    name: String,
    what: What,
}

#[derive(Debug)]
enum What {
    Core(slaacd_core::Happening),
    /// The parent carried a proposal out.
    Applied {
        change: ProposalChange,
        output: Output,
    },
    /// The parent refused a proposal or failed at it.
    Failed {
        change: ProposalChange,
        output: Output,
        error: String,
    },
}

/// A proposal sent to the parent while someone was listening, to be told
/// as applied or failed when the parent answers.
pub struct Proposal {
    monitors: Weak<Monitors>,
    name: String,
    change: ProposalChange,
    output: Output,
}

impl Proposal {
    pub fn new(
        monitors: &Rc<Monitors>,
        name: String,
        change: ProposalChange,
        output: Output,
    ) -> Proposal {
        Proposal {
            monitors: Rc::downgrade(monitors),
            name,
            change,
            output,
        }
    }

    /// The parent answered: `Err` holds what it said.
    pub fn answered(self, result: Result<(), String>) {
        let Some(monitors) = self.monitors.upgrade() else {
            return;
        };
        let index = self.output.index();
        let what = match result {
            Ok(()) => What::Applied {
                change: self.change,
                output: self.output,
            },
            Err(error) => What::Failed {
                change: self.change,
                output: self.output,
                error,
            },
        };
        monitors.publish(Event {
            time: now_micros(),
            index,
            name: self.name,
            what,
        });
    }
}

/// Every registered listener.
#[derive(Default)]
pub struct Monitors {
    listeners: RefCell<Vec<Rc<Listener>>>,
    next_id: Cell<u64>,
}

struct Listener {
    id: u64,
    /// 0: every interface.
    if_index: u32,
    client: monitor_listener::Client,
    queue: RefCell<VecDeque<Rc<Event>>>,
    /// Dropped from the queue since the last call.
    lost: Cell<u64>,
    /// A delivery task is running for it.
    delivering: Cell<bool>,
}

impl Monitors {
    /// Whether anyone listens: the core records events only then.
    pub fn is_active(&self) -> bool {
        !self.listeners.borrow().is_empty()
    }

    /// Registers a listener for the events of `if_index` (0: every
    /// interface). It stays registered while the returned subscription is
    /// held and its calls succeed.
    pub fn subscribe(
        self: &Rc<Self>,
        if_index: u32,
        client: monitor_listener::Client,
    ) -> Result<monitor_subscription::Client, capnp::Error> {
        let mut listeners = self.listeners.borrow_mut();
        if listeners.len() >= MAX_LISTENERS {
            return Err(capnp::Error::overloaded(format!(
                "too many monitors: at most {MAX_LISTENERS} at once"
            )));
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        listeners.push(Rc::new(Listener {
            id,
            if_index,
            client,
            queue: RefCell::new(VecDeque::new()),
            lost: Cell::new(0),
            delivering: Cell::new(false),
        }));
        tracing::debug!(id, if_index, "monitor listener registered");
        Ok(capnp_rpc::new_client(Subscription {
            monitors: Rc::downgrade(self),
            id,
        }))
    }

    /// Passes the core's events on.
    pub fn core_events(self: &Rc<Self>, events: Vec<MonitorEvent>) {
        let time = now_micros();
        for event in events {
            self.publish(Event {
                time,
                index: event.index,
                name: event.name,
                what: What::Core(event.happening),
            });
        }
    }

    fn publish(self: &Rc<Self>, event: Event) {
        let event = Rc::new(event);
        for listener in self.listeners.borrow().iter() {
            if listener.if_index != 0 && listener.if_index != event.index {
                continue;
            }
            let mut queue = listener.queue.borrow_mut();
            if queue.len() >= QUEUE_LEN {
                queue.pop_front();
                listener.lost.set(listener.lost.get().saturating_add(1));
            }
            queue.push_back(event.clone());
            if !listener.delivering.replace(true) {
                tokio::task::spawn_local(deliver(listener.clone(), Rc::downgrade(self)));
            }
        }
    }

    fn remove(&self, id: u64) {
        let mut listeners = self.listeners.borrow_mut();
        if let Some(at) = listeners.iter().position(|listener| listener.id == id) {
            let listener = listeners.swap_remove(at);
            // A delivery still in flight ends with its call.
            listener.queue.borrow_mut().clear();
            tracing::debug!(id, "monitor listener dropped");
        }
    }
}

/// Sends the listener its queued events, one call at a time, until the
/// queue is empty; drops the listener when a call fails (it is gone).
async fn deliver(listener: Rc<Listener>, monitors: Weak<Monitors>) {
    loop {
        let batch: Vec<Rc<Event>> = listener.queue.borrow_mut().drain(..).collect();
        if batch.is_empty() {
            listener.delivering.set(false);
            return;
        }
        let mut request = listener.client.events_request();
        let mut params = request.get();
        params.set_lost(listener.lost.replace(0));
        schema::write_events(params.init_events(batch.len() as u32), &batch);
        drop(batch);
        if let Err(error) = request.send().promise.await {
            tracing::debug!(id = listener.id, "monitor listener failed: {error}");
            if let Some(monitors) = monitors.upgrade() {
                monitors.remove(listener.id);
            }
            listener.delivering.set(false);
            return;
        }
    }
}

/// Held by slaacctl (through the frontend); released when its connection
/// ends, which unregisters the listener.
struct Subscription {
    monitors: Weak<Monitors>,
    id: u64,
}

impl monitor_subscription::Server for Subscription {}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(monitors) = self.monitors.upgrade() {
            monitors.remove(self.id);
        }
    }
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
        })
}
