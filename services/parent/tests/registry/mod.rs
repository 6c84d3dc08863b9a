//! What the tests of ManagedInterfaces share: an interface's index, a rename
//! made behind the registry's back (no event read), and what the registry
//! holds. Run inside the private network namespace of
//! `common::in_private_netns`.

use slaacd_parent::sysctl::ManagedInterfaces;

use crate::common::ip;

pub fn index_of(interface: &str) -> u32 {
    nix::net::if_::if_nametoindex(interface).unwrap()
}

/// `ip link set FROM down; ip link set FROM name TO`, with no event read.
pub fn rename(from: &str, to: &str) {
    ip(&["link", "set", from, "down"]);
    ip(&["link", "set", from, "name", to]);
}

/// The interfaces `managed` holds, by index and name.
pub fn held(managed: &ManagedInterfaces) -> Vec<(u32, String)> {
    managed
        .held()
        .map(|(index, name)| (index, name.to_owned()))
        .collect()
}
