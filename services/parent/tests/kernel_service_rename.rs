//! The `Kernel` capability checks each call's interface by the name it has
//! at the time of the call, not by its index at start: once the managed
//! veth0 is renamed veth0x, a proposal for it is refused with an error naming
//! veth0x, and the interface that then takes the name veth0 is served. Run in
//! a private network namespace (unshare(CLONE_NEWNET) on the test's thread)
//! with a veth pair veth0/veth1. Needs root.

mod common;
mod renamed_mtu;

use common::in_private_netns;
use renamed_mtu::{ipv6_mtu, rename, service_managing_veth0, set_mtu};

use slaacd_ipc::slaacd_capnp::kernel;

#[test]
fn calls_follow_the_managed_name_not_the_index() {
    in_private_netns(async |old_index| {
        let service = service_managing_veth0("kernel-service-rename");
        let kernel: kernel::Client = capnp_rpc::new_client(service);
        set_mtu(&kernel, old_index, 1400).await.unwrap();
        assert_eq!(ipv6_mtu("veth0"), "1400");

        rename("veth0", "veth0x");
        // The link going down and up resets it to the link's.
        let unchanged = ipv6_mtu("veth0x");
        let error = set_mtu(&kernel, old_index, 1300)
            .await
            .expect_err("a proposal for the renamed veth0x was applied");
        let text = error.to_string();
        assert!(
            text.contains("refused") && text.contains("veth0x"),
            "the refusal does not name veth0x: {text}"
        );
        assert_eq!(ipv6_mtu("veth0x"), unchanged);

        let newcomer = nix::net::if_::if_nametoindex("veth1").unwrap();
        rename("veth1", "veth0");
        set_mtu(&kernel, newcomer, 1300).await.unwrap();
        assert_eq!(ipv6_mtu("veth0"), "1300");
    });
}
