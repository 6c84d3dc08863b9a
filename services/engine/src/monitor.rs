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
//!
//! The frontend's own drops (hop limit, fragments, engine busy...) arrive
//! already summed up per interface and reason ([`read_frontend_drops`]), at
//! most [`MAX_FRONTEND_DROPS`] entries a call, and become one event each,
//! with the count: the engine never sees those RAs, so they cost it a few
//! calls a second at most, not one per RA. Drops on an interface the
//! frontend does not manage come without a name, and under index 0 when the
//! kernel did not say which interface: only monitors of every interface get
//! those.

mod schema;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::Ipv6Addr;
use std::rc::{Rc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use capnp::struct_list;
use slaacd_core::{MonitorEvent, Output, ProposalChange};
use slaacd_ipc::convert::read_ip6;
use slaacd_ipc::slaacd_capnp::{
    self, frontend_drop_summary, monitor_listener, monitor_subscription,
};

/// Listeners registered at once; one more is refused.
pub const MAX_LISTENERS: usize = 8;

/// Events queued for a listener while its previous call is in flight;
/// beyond it the oldest are dropped.
pub const QUEUE_LEN: usize = 256;

/// Entries in one `frontendDrops` call, as the schema fixes it; a longer
/// list is refused.
pub const MAX_FRONTEND_DROPS: u32 = slaacd_capnp::MAX_FRONTEND_DROPS_PER_CALL;

/// Bytes of an interface name or a reason in a `frontendDrops` entry; a
/// longer one refuses the call (the frontend's are a few words).
const MAX_FRONTEND_TEXT: usize = 64;

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
    /// RAs the frontend dropped before the engine saw them.
    FrontendDrop {
        reason: String,
        last_source: Ipv6Addr,
        count: u64,
    },
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

/// RAs the frontend dropped on one interface for one reason since its
/// previous report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendDrop {
    pub index: u32,
    pub name: String,
    pub reason: String,
    pub count: u64,
    pub last_source: Ipv6Addr,
}

/// Reads a `frontendDrops` list whole, refusing one longer than
/// [`MAX_FRONTEND_DROPS`] before reading any entry, or one with an
/// over-long name or reason.
pub fn read_frontend_drops(
    list: struct_list::Reader<'_, frontend_drop_summary::Owned>,
) -> Result<Vec<FrontendDrop>, capnp::Error> {
    if list.len() > MAX_FRONTEND_DROPS {
        return Err(capnp::Error::failed(format!(
            "{} frontend drop entries in one call: at most {MAX_FRONTEND_DROPS}",
            list.len()
        )));
    }
    let text = |reader: capnp::text::Reader<'_>, what: &str| {
        let text = reader.to_str()?;
        if text.len() > MAX_FRONTEND_TEXT {
            return Err(capnp::Error::failed(format!(
                "a frontend drop's {what} of {} bytes: at most {MAX_FRONTEND_TEXT}",
                text.len()
            )));
        }
        Ok(text.to_owned())
    };
    list.iter()
        .map(|entry| {
            Ok(FrontendDrop {
                index: entry.get_if_index(),
                name: text(entry.get_if_name()?, "interface name")?,
                reason: text(entry.get_reason()?, "reason")?,
                count: entry.get_count(),
                last_source: read_ip6(entry.get_last_source()?),
            })
        })
        .collect()
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

    /// Passes the frontend's drops on, an event per interface and reason.
    pub fn frontend_drops(self: &Rc<Self>, drops: Vec<FrontendDrop>) {
        let time = now_micros();
        for drop in drops {
            self.publish(Event {
                time,
                index: drop.index,
                name: drop.name,
                what: What::FrontendDrop {
                    reason: drop.reason,
                    last_source: drop.last_source,
                    count: drop.count,
                },
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

#[cfg(test)]
mod tests {
    use capnp::message::{Builder, HeapAllocator};
    use slaacd_ipc::convert::write_ip6;

    use super::*;

    /// A message holding `entries` drop summaries on eth0, each with `reason`.
    fn summaries(entries: u32, reason: &str) -> Builder<HeapAllocator> {
        let mut message = Builder::new_default();
        let mut list: struct_list::Builder<'_, frontend_drop_summary::Owned> =
            message.initn_root(entries);
        for at in 0..entries {
            let mut entry = list.reborrow().get(at);
            entry.set_if_index(2);
            entry.set_if_name("eth0");
            entry.set_reason(reason);
            entry.set_count(u64::from(at) + 1);
            write_ip6(entry.init_last_source(), Ipv6Addr::LOCALHOST);
        }
        message
    }

    fn read(message: &Builder<HeapAllocator>) -> Result<Vec<FrontendDrop>, capnp::Error> {
        let list: struct_list::Reader<'_, frontend_drop_summary::Owned> =
            message.get_root_as_reader()?;
        read_frontend_drops(list)
    }

    #[test]
    fn a_call_of_drop_summaries_is_read_whole() {
        let drops = read(&summaries(MAX_FRONTEND_DROPS, "engine-busy")).unwrap();
        assert_eq!(drops.len(), MAX_FRONTEND_DROPS as usize);
        assert_eq!(
            drops[63],
            FrontendDrop {
                index: 2,
                name: "eth0".into(),
                reason: "engine-busy".into(),
                count: 64,
                last_source: Ipv6Addr::LOCALHOST,
            }
        );
    }

    #[test]
    fn too_many_summaries_or_too_long_a_reason_refuse_the_call() {
        let error = read(&summaries(MAX_FRONTEND_DROPS + 1, "engine-busy")).unwrap_err();
        assert!(
            error.to_string().contains("65 frontend drop entries"),
            "{error}"
        );
        let error = read(&summaries(1, &"x".repeat(MAX_FRONTEND_TEXT + 1))).unwrap_err();
        assert!(error.to_string().contains("reason of 65 bytes"), "{error}");
        assert!(read(&summaries(1, &"x".repeat(MAX_FRONTEND_TEXT))).is_ok());
    }
}
