//! ManagedInterfaces when link events were lost or not read yet: after a
//! netlink overrun, `reconcile` lets a renamed interface go, forgets a
//! deleted one and takes over one that took a managed name; the final
//! `restore_all` restores each interface under the name it has then, never
//! under a name another interface now holds. Each test renames or deletes
//! links without telling the registry, in a private network namespace
//! (unshare(CLONE_NEWNET) on its own thread) with a veth pair veth0/veth1,
//! against the real /proc/sys. Needs root.

// Its private network namespace and `ip` only: no netlink handle.
#[allow(dead_code)]
mod common;
mod registry;

use common::{in_private_netns, ip};
use registry::{held, index_of, rename};

use slaacd_parent::sysctl::{InterfaceSysctls, ManagedInterfaces, TemporaryAddresses};

fn accept_ra(interface: &str) -> String {
    InterfaceSysctls::new(interface)
        .unwrap()
        .read("accept_ra")
        .unwrap()
}

fn set_accept_ra(interface: &str, value: &str) {
    InterfaceSysctls::new(interface)
        .unwrap()
        .write("accept_ra", value)
        .unwrap();
}

/// slaacd managing veth0, taken over while its accept_ra was 2.
fn managing_veth0() -> ManagedInterfaces {
    set_accept_ra("veth0", "2");
    let mut managed = ManagedInterfaces::new(vec![("veth0".into(), TemporaryAddresses::Kernel)]);
    managed.take(index_of("veth0"), "veth0").unwrap();
    assert_eq!(accept_ra("veth0"), "0");
    managed
}

/// veth1, with accept_ra 1, takes the name veth0 after veth0 became veth0x;
/// returns its index.
fn swap_names() -> u32 {
    let newcomer = index_of("veth1");
    rename("veth0", "veth0x");
    set_accept_ra("veth1", "1");
    rename("veth1", "veth0");
    newcomer
}

#[test]
fn the_final_restore_follows_a_rename_whose_event_was_not_read() {
    in_private_netns(async |_| {
        let mut managed = managing_veth0();
        swap_names();

        managed.restore_all();
        assert_eq!(accept_ra("veth0x"), "2", "the renamed interface");
        assert_eq!(accept_ra("veth0"), "1", "the interface now named veth0");
    });
}

#[test]
fn reconcile_makes_up_for_lost_renames() {
    in_private_netns(async |_| {
        let mut managed = managing_veth0();
        let newcomer = swap_names();

        managed.reconcile();
        assert_eq!(accept_ra("veth0x"), "2", "veth0x was not let go");
        assert_eq!(accept_ra("veth0"), "0", "the new veth0 was not taken over");
        assert_eq!(held(&managed), [(newcomer, "veth0".to_owned())]);
        // Nothing changes when nothing was lost.
        managed.reconcile();
        assert_eq!(held(&managed), [(newcomer, "veth0".to_owned())]);

        managed.restore_all();
        assert_eq!(accept_ra("veth0"), "1");
        assert_eq!(accept_ra("veth0x"), "2");
    });
}

#[test]
fn reconcile_forgets_a_deleted_interface_and_takes_its_successor() {
    in_private_netns(async |index| {
        let mut managed = managing_veth0();
        ip(&["link", "del", "veth0"]);
        managed.reconcile();
        assert!(held(&managed).is_empty(), "{:?}", held(&managed));

        ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ]);
        let successor = index_of("veth0");
        assert_ne!(successor, index);
        set_accept_ra("veth0", "1");
        managed.reconcile();
        assert_eq!(accept_ra("veth0"), "0");
        assert_eq!(held(&managed), [(successor, "veth0".to_owned())]);
        managed.restore_all();
        assert_eq!(accept_ra("veth0"), "1");
    });
}
