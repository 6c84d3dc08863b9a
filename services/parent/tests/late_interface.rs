//! ManagedInterfaces at start-up when a managed name has no interface yet:
//! `take_existing` takes over the interfaces that exist, reports the others
//! absent without an error, and the link event of the interface that takes
//! the name later takes it over (before its link is up) and restores it at
//! the end. A name that cannot be an interface name is still an error. Each
//! test works in a private network namespace (unshare(CLONE_NEWNET) on its
//! own thread) against the real /proc/sys. Needs root.

// Its private network namespace and `ip` only: no netlink handle.
#[allow(dead_code)]
mod common;

use common::{in_private_netns, ip};

use slaacd_parent::sysctl::{
    InterfaceSysctls, ManagedInterfaces, Presence, SysctlError, TemporaryAddresses,
};

fn read(interface: &str, name: &str) -> String {
    InterfaceSysctls::new(interface)
        .unwrap()
        .read(name)
        .unwrap()
}

fn index_of(interface: &str) -> u32 {
    nix::net::if_::if_nametoindex(interface).unwrap()
}

fn managing(names: &[&str]) -> ManagedInterfaces {
    ManagedInterfaces::new(
        names
            .iter()
            .map(|name| (name.to_string(), TemporaryAddresses::Kernel))
            .collect(),
    )
}

fn held(managed: &ManagedInterfaces) -> Vec<String> {
    managed.held().map(|(_, name)| name.to_owned()).collect()
}

#[test]
fn an_absent_name_is_reported_and_the_present_one_taken_over() {
    in_private_netns(async |veth0| {
        let mut managed = managing(&["veth0", "late0"]);
        let presence = managed.take_existing().unwrap();
        assert_eq!(
            presence,
            [
                ("veth0".to_string(), Presence::Taken(veth0)),
                ("late0".to_string(), Presence::Absent),
            ]
        );
        assert_eq!(held(&managed), ["veth0"]);
        assert_eq!(read("veth0", "accept_ra"), "0");
        assert!(!managed.is_waiting(), "nothing to wait for before an event");
    });
}

#[test]
fn the_interface_that_appears_later_is_taken_over_before_it_is_up_and_restored() {
    in_private_netns(async |_| {
        let mut managed = managing(&["late0"]);
        assert_eq!(
            managed.take_existing().unwrap(),
            [("late0".to_string(), Presence::Absent)]
        );
        assert!(held(&managed).is_empty());

        ip(&[
            "link", "add", "late0", "type", "veth", "peer", "name", "late1",
        ]);
        let before = (read("late0", "accept_ra"), read("late0", "autoconf"));
        assert_ne!(before, ("0".into(), "0".into()), "the namespace's defaults");
        // The new link's first event, while it is still down.
        managed.link_seen(index_of("late0"), "late0");
        assert_eq!(held(&managed), ["late0"]);
        assert_eq!(read("late0", "accept_ra"), "0");
        assert_eq!(read("late0", "autoconf"), "0");
        // Later events of the same link (it comes up) change nothing.
        ip(&["link", "set", "late0", "up"]);
        managed.link_seen(index_of("late0"), "late0");
        assert_eq!(held(&managed), ["late0"]);

        managed.restore_all();
        assert_eq!(
            (read("late0", "accept_ra"), read("late0", "autoconf")),
            before
        );
    });
}

#[test]
fn an_interface_with_another_name_does_not_take_the_place_of_an_absent_one() {
    in_private_netns(async |veth0| {
        let mut managed = managing(&["late0"]);
        managed.take_existing().unwrap();
        managed.link_seen(veth0, "veth0");
        assert!(held(&managed).is_empty());
        assert!(!managed.is_waiting());
        assert_ne!(read("veth0", "accept_ra"), "0");
    });
}

#[test]
fn a_name_that_cannot_be_an_interface_is_still_an_error() {
    in_private_netns(async |_| {
        for bad in ["sixteen-chars-xx", "eth/0", ".."] {
            let mut managed = managing(&[bad]);
            let error = managed.take_existing().unwrap_err();
            assert!(
                matches!(error, SysctlError::InvalidInterfaceName(ref name) if name == bad),
                "{bad:?}: {error}"
            );
        }
    });
}
