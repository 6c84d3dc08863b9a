//! The frontend's view of the interfaces it manages: which ones the parent
//! named, what the kernel last said about each, and the Router Advertisements
//! the frontend itself dropped on them, by reason ([`FrontendDrop`] names
//! every reason the frontend drops one for).
//!
//! It never decides SLAAC policy; it only filters and remembers, and it
//! never keeps counters for an interface it does not manage.

use std::collections::{BTreeMap, HashMap};

use crate::netlink::InterfaceState;

/// Why the frontend dropped a Router Advertisement before the engine saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FrontendDrop {
    /// The hop limit was not 255, so the RA may come from off the link.
    HopLimit,
    /// Too many RAs were already on their way to the engine.
    EngineBusy,
    /// The datagram did not fit the receive buffer.
    Truncated,
    /// The datagram came without the ancillary data an RA is passed on
    /// with (interface, hop limit, source).
    Incomplete,
    /// The RA came in fragments, which RFC 6980 forbids for Neighbor
    /// Discovery (a fragment header hides options from RA-Guard).
    Fragmented,
    /// The engine failed the call that carried it.
    EngineCallFailed,
    /// It arrived on an interface slaacd does not manage (never counted
    /// per interface: only told to `slaacctl monitor`).
    NotManaged,
}

impl FrontendDrop {
    /// The name the reason has in `slaacctl show interface`, in monitor
    /// events and in the `frontendDrops` call.
    pub fn reason(self) -> &'static str {
        match self {
            FrontendDrop::HopLimit => "hop-limit-not-255",
            FrontendDrop::EngineBusy => "engine-busy",
            FrontendDrop::Truncated => "truncated",
            FrontendDrop::Incomplete => "incomplete",
            FrontendDrop::Fragmented => "fragmented",
            FrontendDrop::EngineCallFailed => "engine-call-failed",
            FrontendDrop::NotManaged => "interface-not-managed",
        }
    }
}

/// The managed interfaces, by index.
pub struct Interfaces {
    names: Vec<String>,
    managed: HashMap<u32, InterfaceState>,
    drops: HashMap<u32, BTreeMap<FrontendDrop, u64>>,
}

/// What an interface event means for the engine.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// A managed interface appeared or changed.
    Updated,
    /// A managed interface went away or was renamed out of the managed set.
    Removed,
    /// The interface is not managed; nothing to tell.
    Ignored,
}

impl Interfaces {
    /// Manages the interfaces with these names.
    pub fn new(names: Vec<String>) -> Self {
        Self {
            names,
            managed: HashMap::new(),
            drops: HashMap::new(),
        }
    }

    pub fn get(&self, index: u32) -> Option<&InterfaceState> {
        self.managed.get(&index)
    }

    pub fn is_managed(&self, index: u32) -> bool {
        self.managed.contains_key(&index)
    }

    /// Records what the kernel said about an interface.
    pub fn update(&mut self, info: InterfaceState) -> Change {
        let index = info.index;
        if self.names.contains(&info.name) {
            self.managed.insert(index, info);
            Change::Updated
        } else if self.remove(index) {
            Change::Removed
        } else {
            Change::Ignored
        }
    }

    /// The managed names no interface has now, in the order the parent
    /// gave them.
    pub fn absent(&self) -> impl Iterator<Item = &str> + '_ {
        self.names
            .iter()
            .filter(|name| !self.managed.values().any(|state| &state.name == *name))
            .map(String::as_str)
    }

    /// Forgets an interface; true if it was managed.
    pub fn remove(&mut self, index: u32) -> bool {
        self.drops.remove(&index);
        self.managed.remove(&index).is_some()
    }

    /// Counts a drop on a managed interface; one on any other is not kept.
    pub fn count_drop(&mut self, index: u32, drop: FrontendDrop) {
        if !self.is_managed(index) {
            return;
        }
        *self
            .drops
            .entry(index)
            .or_default()
            .entry(drop)
            .or_default() += 1;
    }

    /// The drops counted on an interface, by reason.
    pub fn drops(&self, index: u32) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.drops
            .get(&index)
            .into_iter()
            .flatten()
            .map(|(drop, count)| (drop.reason(), *count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(index: u32, name: &str) -> InterfaceState {
        InterfaceState {
            index,
            name: name.to_string(),
            running: true,
            hw_address: vec![2, 0, 0, 0, 0, 1],
            link_local: None,
            link_local_usable: false,
            link_local_optimistic: false,
        }
    }

    #[test]
    fn only_named_interfaces_are_managed() {
        let mut interfaces = Interfaces::new(vec!["eth0".to_string()]);
        assert_eq!(interfaces.update(info(2, "eth0")), Change::Updated);
        assert_eq!(interfaces.update(info(3, "eth1")), Change::Ignored);
        assert!(interfaces.is_managed(2));
        assert!(!interfaces.is_managed(3));
    }

    #[test]
    fn renaming_out_of_the_set_removes() {
        let mut interfaces = Interfaces::new(vec!["eth0".to_string()]);
        interfaces.update(info(2, "eth0"));
        assert_eq!(interfaces.update(info(2, "wan")), Change::Removed);
        assert!(!interfaces.is_managed(2));
    }

    #[test]
    fn a_managed_name_is_absent_until_an_interface_has_it() {
        let mut interfaces = Interfaces::new(vec!["eth0".to_string(), "usb0".to_string()]);
        assert_eq!(interfaces.absent().collect::<Vec<_>>(), ["eth0", "usb0"]);
        interfaces.update(info(2, "usb0"));
        assert_eq!(interfaces.absent().collect::<Vec<_>>(), ["eth0"]);
        // Renamed away: the name is free again.
        interfaces.update(info(2, "wan"));
        assert_eq!(interfaces.absent().collect::<Vec<_>>(), ["eth0", "usb0"]);
        interfaces.update(info(3, "eth0"));
        interfaces.remove(3);
        assert_eq!(interfaces.absent().collect::<Vec<_>>(), ["eth0", "usb0"]);
    }

    #[test]
    fn drops_are_counted_per_reason_and_forgotten_with_the_interface() {
        let mut interfaces = Interfaces::new(vec!["eth0".to_string()]);
        interfaces.update(info(2, "eth0"));
        interfaces.count_drop(2, FrontendDrop::HopLimit);
        interfaces.count_drop(2, FrontendDrop::HopLimit);
        interfaces.count_drop(2, FrontendDrop::EngineBusy);
        let drops: Vec<_> = interfaces.drops(2).collect();
        assert_eq!(drops, vec![("hop-limit-not-255", 2), ("engine-busy", 1)]);
        interfaces.remove(2);
        assert_eq!(interfaces.drops(2).count(), 0);
    }

    #[test]
    fn drops_on_an_interface_not_managed_are_not_kept() {
        let mut interfaces = Interfaces::new(vec!["eth0".to_string()]);
        interfaces.update(info(2, "eth0"));
        interfaces.update(info(3, "eth1"));
        interfaces.count_drop(3, FrontendDrop::Truncated);
        interfaces.count_drop(9, FrontendDrop::Truncated);
        assert_eq!(interfaces.drops(3).count(), 0);
        assert_eq!(interfaces.drops(9).count(), 0);
        interfaces.count_drop(2, FrontendDrop::Truncated);
        assert_eq!(interfaces.drops(2).collect::<Vec<_>>(), [("truncated", 1)]);
    }
}
