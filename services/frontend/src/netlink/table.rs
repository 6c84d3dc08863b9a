//! The link monitor's picture of the kernel's interfaces and their IPv6
//! addresses, and the events each change leads to.
//!
//! Pure state: no sockets and no netlink parsing, so every rule here is unit
//! tested with a virtual kernel. It must never announce an interface state
//! equal to the last one announced for that interface, and never report one
//! DAD failure twice. While a dump is running it holds interface
//! announcements back and, at the end, reconciles: whatever the dump did not
//! show is gone, and is reported so.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv6Addr;

use super::{InterfaceState, LinkEvent};

/// What a link message tells about an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub name: String,
    /// IFF_UP, IFF_LOWER_UP and IFF_RUNNING.
    pub running: bool,
    pub hw_address: Vec<u8>,
}

/// An IPv6 address's duplicate address detection state, from its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum AddressState {
    DadFailed,
    Tentative,
    /// Tentative but usable (RFC 4429).
    Optimistic,
    Usable,
}

#[derive(Debug)]
struct Address {
    state: AddressState,
    /// Shown by the running dump (or by an event during it).
    seen: bool,
}

#[derive(Debug, Default)]
struct Interface {
    /// None while only addresses of the interface have been seen.
    link: Option<Link>,
    /// Shown by the running link dump (or by an event during it).
    link_seen: bool,
    addresses: BTreeMap<Ipv6Addr, Address>,
    /// The last state reported in an `Interface` event.
    announced: Option<InterfaceState>,
}

impl Interface {
    /// The state to announce, once the link itself is known.
    fn state(&self, index: u32) -> Option<InterfaceState> {
        let link = self.link.as_ref()?;
        // The most usable link-local address; among equals the lowest, so
        // the choice does not depend on the order the kernel reported them.
        let link_local = self
            .addresses
            .iter()
            .filter(|(address, entry)| {
                address.is_unicast_link_local() && entry.state != AddressState::DadFailed
            })
            .max_by_key(|&(address, entry)| (entry.state, Reverse(*address)));
        let state = link_local.map(|(_, entry)| entry.state);
        Some(InterfaceState {
            index,
            name: link.name.clone(),
            running: link.running,
            hw_address: link.hw_address.clone(),
            link_local: link_local.map(|(&address, _)| address),
            link_local_usable: matches!(
                state,
                Some(AddressState::Usable | AddressState::Optimistic)
            ),
            link_local_optimistic: state == Some(AddressState::Optimistic),
        })
    }
}

/// Every interface the kernel reported, by index.
#[derive(Debug, Default)]
pub(super) struct InterfaceTable {
    interfaces: BTreeMap<u32, Interface>,
    dumping: bool,
}

impl InterfaceTable {
    /// The current state of one interface, if its link is known.
    pub fn interface(&self, index: u32) -> Option<InterfaceState> {
        self.interfaces.get(&index)?.state(index)
    }

    /// A link dump starts: hold announcements back, forget what was seen.
    pub fn begin_link_dump(&mut self) {
        self.dumping = true;
        for interface in self.interfaces.values_mut() {
            interface.link_seen = false;
        }
    }

    /// The link dump ended: interfaces it did not show are gone.
    pub fn end_link_dump(&mut self, events: &mut VecDeque<LinkEvent>) {
        let gone: Vec<u32> = self
            .interfaces
            .iter()
            .filter(|(_, interface)| !interface.link_seen)
            .map(|(&index, _)| index)
            .collect();
        for index in gone {
            self.forget(index, events);
        }
    }

    /// An address dump starts: forget which addresses were seen.
    pub fn begin_address_dump(&mut self) {
        self.dumping = true;
        for interface in self.interfaces.values_mut() {
            for address in interface.addresses.values_mut() {
                address.seen = false;
            }
        }
    }

    /// The address dump ended, and with it the whole dump: addresses it did
    /// not show are deleted, and every interface whose state changed is
    /// announced.
    pub fn end_address_dump(&mut self, events: &mut VecDeque<LinkEvent>) {
        for (&index, interface) in &mut self.interfaces {
            interface.addresses.retain(|&address, entry| {
                if !entry.seen {
                    events.push_back(LinkEvent::AddressDeleted { index, address });
                }
                entry.seen
            });
        }
        self.dumping = false;
        let indexes: Vec<u32> = self.interfaces.keys().copied().collect();
        for index in indexes {
            self.announce(index, events);
        }
    }

    /// RTM_NEWLINK, from a dump or an event.
    pub fn link_changed(&mut self, index: u32, link: Link, events: &mut VecDeque<LinkEvent>) {
        let interface = self.interfaces.entry(index).or_default();
        interface.link = Some(link);
        interface.link_seen = true;
        self.announce(index, events);
    }

    /// RTM_DELLINK.
    pub fn link_removed(&mut self, index: u32, events: &mut VecDeque<LinkEvent>) {
        self.forget(index, events);
    }

    /// RTM_NEWADDR, from a dump or an event. A DAD failure is reported the
    /// first time it is seen.
    pub fn address_changed(
        &mut self,
        index: u32,
        address: Ipv6Addr,
        state: AddressState,
        events: &mut VecDeque<LinkEvent>,
    ) {
        let interface = self.interfaces.entry(index).or_default();
        let previous = interface
            .addresses
            .insert(address, Address { state, seen: true });
        let was_failed = previous.is_some_and(|entry| entry.state == AddressState::DadFailed);
        if state == AddressState::DadFailed && !was_failed {
            events.push_back(LinkEvent::DadFailed { index, address });
        }
        self.announce(index, events);
    }

    /// RTM_DELADDR. Linux deletes an address with finite lifetimes when its
    /// DAD fails (`dad_failed`): that is the failure, unless it was already
    /// reported while the address stayed; otherwise it is a deletion.
    pub fn address_removed(
        &mut self,
        index: u32,
        address: Ipv6Addr,
        dad_failed: bool,
        events: &mut VecDeque<LinkEvent>,
    ) {
        let previous = self
            .interfaces
            .get_mut(&index)
            .and_then(|interface| interface.addresses.remove(&address));
        let was_failed = previous.is_some_and(|entry| entry.state == AddressState::DadFailed);
        if dad_failed && !was_failed {
            events.push_back(LinkEvent::DadFailed { index, address });
        } else {
            events.push_back(LinkEvent::AddressDeleted { index, address });
        }
        self.announce(index, events);
    }

    /// Drops an interface, reporting its removal if it was ever announced.
    fn forget(&mut self, index: u32, events: &mut VecDeque<LinkEvent>) {
        let announced = self
            .interfaces
            .remove(&index)
            .is_some_and(|interface| interface.announced.is_some());
        if announced {
            events.push_back(LinkEvent::Removed { index });
        }
    }

    /// Reports an interface's state if it differs from the last report;
    /// held back while a dump runs.
    fn announce(&mut self, index: u32, events: &mut VecDeque<LinkEvent>) {
        if self.dumping {
            return;
        }
        let Some(interface) = self.interfaces.get_mut(&index) else {
            return;
        };
        let Some(state) = interface.state(index) else {
            return;
        };
        if interface.announced.as_ref() != Some(&state) {
            interface.announced = Some(state.clone());
            events.push_back(LinkEvent::Interface(state));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 5);
    const OTHER_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9);
    const GLOBAL: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5);

    fn link(running: bool) -> Link {
        Link {
            name: "eth0".into(),
            running,
            hw_address: vec![2, 0, 0, 0, 0, 1],
        }
    }

    fn state(running: bool, link_local: Option<(Ipv6Addr, AddressState)>) -> InterfaceState {
        let address_state = link_local.map(|(_, state)| state);
        InterfaceState {
            index: 2,
            name: "eth0".into(),
            running,
            hw_address: vec![2, 0, 0, 0, 0, 1],
            link_local: link_local.map(|(address, _)| address),
            link_local_usable: matches!(
                address_state,
                Some(AddressState::Usable | AddressState::Optimistic)
            ),
            link_local_optimistic: address_state == Some(AddressState::Optimistic),
        }
    }

    /// A table that has finished its first (empty) dump.
    fn settled() -> (InterfaceTable, VecDeque<LinkEvent>) {
        let mut table = InterfaceTable::default();
        let mut events = VecDeque::new();
        table.begin_link_dump();
        table.end_link_dump(&mut events);
        table.begin_address_dump();
        table.end_address_dump(&mut events);
        assert!(events.is_empty());
        (table, events)
    }

    fn drain(events: &mut VecDeque<LinkEvent>) -> Vec<LinkEvent> {
        events.drain(..).collect()
    }

    #[test]
    fn a_change_nothing_carries_is_not_announced_again() {
        let (mut table, mut events) = settled();
        table.link_changed(2, link(true), &mut events);
        assert_eq!(
            drain(&mut events),
            [LinkEvent::Interface(state(true, None))]
        );
        table.link_changed(2, link(true), &mut events);
        table.address_changed(2, GLOBAL, AddressState::Usable, &mut events);
        table.address_changed(2, GLOBAL, AddressState::Usable, &mut events);
        assert_eq!(drain(&mut events), []);
        table.link_changed(2, link(false), &mut events);
        assert_eq!(
            drain(&mut events),
            [LinkEvent::Interface(state(false, None))]
        );
    }

    #[test]
    fn the_link_local_address_goes_from_tentative_to_usable() {
        let (mut table, mut events) = settled();
        table.link_changed(2, link(true), &mut events);
        events.clear();
        table.address_changed(2, LINK_LOCAL, AddressState::Tentative, &mut events);
        table.address_changed(2, LINK_LOCAL, AddressState::Usable, &mut events);
        assert_eq!(
            drain(&mut events),
            [
                LinkEvent::Interface(state(true, Some((LINK_LOCAL, AddressState::Tentative)))),
                LinkEvent::Interface(state(true, Some((LINK_LOCAL, AddressState::Usable)))),
            ]
        );
    }

    #[test]
    fn the_most_usable_link_local_address_is_chosen() {
        let (mut table, mut events) = settled();
        table.link_changed(2, link(true), &mut events);
        table.address_changed(2, LINK_LOCAL, AddressState::Tentative, &mut events);
        table.address_changed(2, OTHER_LINK_LOCAL, AddressState::Optimistic, &mut events);
        assert_eq!(
            table.interface(2),
            Some(state(
                true,
                Some((OTHER_LINK_LOCAL, AddressState::Optimistic))
            ))
        );
        table.address_changed(2, LINK_LOCAL, AddressState::Usable, &mut events);
        assert_eq!(
            table.interface(2),
            Some(state(true, Some((LINK_LOCAL, AddressState::Usable))))
        );
        table.address_changed(2, LINK_LOCAL, AddressState::DadFailed, &mut events);
        assert_eq!(
            table.interface(2),
            Some(state(
                true,
                Some((OTHER_LINK_LOCAL, AddressState::Optimistic))
            ))
        );
    }

    #[test]
    fn a_dad_failure_is_reported_once_whichever_way_the_kernel_shows_it() {
        let (mut table, mut events) = settled();
        table.link_changed(2, link(true), &mut events);
        events.clear();
        // Permanent address: it stays, flagged, and may be notified again.
        table.address_changed(2, GLOBAL, AddressState::Tentative, &mut events);
        table.address_changed(2, GLOBAL, AddressState::DadFailed, &mut events);
        table.address_changed(2, GLOBAL, AddressState::DadFailed, &mut events);
        // Removing it afterwards is a plain deletion.
        table.address_removed(2, GLOBAL, true, &mut events);
        // Finite lifetimes: the kernel deletes it with the flag set.
        table.address_changed(2, GLOBAL, AddressState::Tentative, &mut events);
        table.address_removed(2, GLOBAL, true, &mut events);
        let address = GLOBAL;
        assert_eq!(
            drain(&mut events),
            [
                LinkEvent::DadFailed { index: 2, address },
                LinkEvent::AddressDeleted { index: 2, address },
                LinkEvent::DadFailed { index: 2, address },
            ]
        );
    }

    #[test]
    fn the_first_dump_announces_each_interface_once_with_its_addresses() {
        let mut table = InterfaceTable::default();
        let mut events = VecDeque::new();
        table.begin_link_dump();
        table.link_changed(2, link(true), &mut events);
        table.end_link_dump(&mut events);
        table.begin_address_dump();
        table.address_changed(2, LINK_LOCAL, AddressState::Usable, &mut events);
        assert_eq!(drain(&mut events), []);
        table.end_address_dump(&mut events);
        assert_eq!(
            drain(&mut events),
            [LinkEvent::Interface(state(
                true,
                Some((LINK_LOCAL, AddressState::Usable))
            ))]
        );
    }

    #[test]
    fn a_dump_after_lost_events_reports_what_disappeared() {
        let (mut table, mut events) = settled();
        table.link_changed(2, link(true), &mut events);
        table.link_changed(3, link(true), &mut events);
        table.address_changed(2, LINK_LOCAL, AddressState::Usable, &mut events);
        table.address_changed(2, GLOBAL, AddressState::Usable, &mut events);
        events.clear();
        // Meanwhile: interface 3 went away, 2 lost carrier and GLOBAL.
        table.begin_link_dump();
        table.link_changed(2, link(false), &mut events);
        table.end_link_dump(&mut events);
        table.begin_address_dump();
        table.address_changed(2, LINK_LOCAL, AddressState::Usable, &mut events);
        table.end_address_dump(&mut events);
        assert_eq!(
            drain(&mut events),
            [
                LinkEvent::Removed { index: 3 },
                LinkEvent::AddressDeleted {
                    index: 2,
                    address: GLOBAL
                },
                LinkEvent::Interface(state(false, Some((LINK_LOCAL, AddressState::Usable)))),
            ]
        );
    }

    #[test]
    fn an_interface_never_announced_is_not_reported_removed() {
        let (mut table, mut events) = settled();
        table.address_changed(4, GLOBAL, AddressState::Usable, &mut events);
        assert_eq!(table.interface(4), None);
        table.link_removed(4, &mut events);
        assert_eq!(drain(&mut events), []);
    }
}
