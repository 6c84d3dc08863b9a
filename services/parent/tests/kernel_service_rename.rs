//! The `Kernel` capability checks each call's interface by the name it has
//! at the time of the call, not by its index at start: once the managed
//! veth0 is renamed veth0x, a proposal for it is refused with an error naming
//! veth0x, and the interface that then takes the name veth0 is served. Run in
//! a private network namespace (unshare(CLONE_NEWNET) on the test's thread)
//! with a veth pair veth0/veth1. Needs root.

mod common;
mod renamed_mtu;

use common::in_private_netns;
use renamed_mtu::{
    expect_refusal_once_renamed_away, expect_service_once_named_veth0, ipv6_mtu,
    service_managing_veth0, set_mtu,
};

use slaacd_ipc::slaacd_capnp::kernel;

#[test]
fn calls_follow_the_managed_name_not_the_index() {
    in_private_netns(async |old_index| {
        let service = service_managing_veth0("kernel-service-rename");
        let kernel: kernel::Client = capnp_rpc::new_client(service);
        set_mtu(&kernel, old_index, 1400).await.unwrap();
        assert_eq!(ipv6_mtu("veth0"), "1400");

        expect_refusal_once_renamed_away(&kernel, old_index).await;
        expect_service_once_named_veth0(&kernel).await;
    });
}
