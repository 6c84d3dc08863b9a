//! The managed interfaces ([`ManagedInterfaces`]) kept as current as the kernel's own answers:
//! the link announcements waiting are applied before what is known is used, so a caller may
//! take the name of a held interface from here instead of asking the kernel (a socket and a
//! request each time). The kernel queues each announcement before the change returns to
//! whoever made it, so after the announcements are drained the names are those a lookup would
//! give at that moment, renames included.
//!
//! It must never answer from a state it cannot vouch for: after lost announcements that the
//! kernel could not be asked about in full, or once the socket cannot be read, it answers
//! nothing and the caller asks the kernel.

use std::cell::{Cell, RefCell};
use std::io;
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tracing::warn;

use super::ManagedInterfaces;
use crate::interface_names::{LinkEvent, LinkEvents};

/// How soon a takeover step waiting for an interface's sysctls is retried.
const SYSCTL_RETRY: Duration = Duration::from_millis(20);

/// The managed interfaces and the announcements that keep them current.
#[derive(Debug)]
pub struct FollowedInterfaces {
    events: AsyncFd<LinkEvents>,
    managed: RefCell<ManagedInterfaces>,
    /// The socket failed: nothing is vouched for any more.
    broken: Cell<bool>,
}

impl FollowedInterfaces {
    /// Follows `managed` with `events`, subscribed before `managed` took over what exists (so
    /// that no change falls between the two). Needs a tokio runtime.
    pub fn new(events: LinkEvents, managed: ManagedInterfaces) -> io::Result<Self> {
        // SAFETY: `events` owns its socket, which stays open for as long as the AsyncFd,
        // which owns `events`, exists.
        let events = unsafe { AsyncFd::register_with_interest(events, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self {
            events,
            managed: RefCell::new(managed),
            broken: Cell::new(false),
        })
    }

    /// Applies every announcement waiting. After lost ones, checks the managed interfaces
    /// against the kernel; a check the kernel could not fully answer runs again with the next
    /// announcement.
    pub fn catch_up(&self) {
        if self.broken.get() {
            return;
        }
        let mut managed = self.managed.borrow_mut();
        let (mut lost, mut any) = (false, false);
        let read = self.events.get_ref().read_waiting(|event| {
            any = true;
            match event {
                LinkEvent::Seen { index, name } => managed.link_seen(index, &name),
                LinkEvent::Removed { index } => managed.link_removed(index),
                LinkEvent::Lost => lost = true,
            }
        });
        if let Err(errno) = read {
            warn!(error = %errno,
                "cannot read link events: renamed or new interfaces are no longer followed");
            self.broken.set(true);
        }
        if lost {
            warn!("link events were lost; checking the managed interfaces again");
            managed.reconcile();
        } else if any && managed.needs_reconcile() {
            managed.reconcile();
        }
    }

    /// The name interface `index` has now, if it is a held managed interface, from the
    /// announcements once caught up with them; `None` otherwise, and whenever they cannot be
    /// vouched for: the caller then asks the kernel.
    pub fn managed_name(&self, index: u32) -> Option<String> {
        self.catch_up();
        let managed = self.managed.borrow();
        if self.broken.get() || managed.needs_reconcile() {
            return None;
        }
        managed
            .held()
            .find(|(held, _)| *held == index)
            .map(|(_, name)| name.to_owned())
    }

    /// Follows the announcements as they come, and retries the steps waiting for a renamed
    /// interface's sysctls, until the socket fails.
    pub async fn follow(&self) {
        while !self.broken.get() {
            let waiting = self.managed.borrow().is_waiting();
            let ready = if waiting {
                match tokio::time::timeout(SYSCTL_RETRY, self.events.readable()).await {
                    Ok(ready) => ready,
                    Err(_) => {
                        self.managed.borrow_mut().retry();
                        continue;
                    }
                }
            } else {
                self.events.readable().await
            };
            match ready {
                Ok(mut guard) => {
                    // Drained until nothing was left: readiness is cleared only for what
                    // was seen, so an announcement arriving meanwhile wakes this again.
                    self.catch_up();
                    guard.clear_ready();
                }
                Err(error) => {
                    warn!(%error, "cannot wait for link events: \
                        renamed or new interfaces are no longer followed");
                    self.broken.set(true);
                }
            }
        }
    }

    /// Puts every held interface's values back ([`ManagedInterfaces::restore_all`]).
    pub fn restore_all(&self) {
        self.managed.borrow_mut().restore_all();
    }
}
