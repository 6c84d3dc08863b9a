//! The `Kernel` capability as the daemon runs it, following the link announcements: the name
//! of a held interface comes from them, caught up with at each call, so it is as current as a
//! lookup. With no task reading the announcements, a call right after veth0 became veth0x is
//! refused naming veth0x (a name taken from the state before the rename would have sent the
//! write to veth0, which no longer exists or is another interface), and the interface that
//! then takes the name veth0 is served and, once taken over, answered from the announcements.
//! Run in a private network namespace (unshare(CLONE_NEWNET) on the test's thread) with a veth
//! pair veth0/veth1. Needs root.

mod common;
mod renamed_mtu;

use std::rc::Rc;
use std::time::{Duration, Instant};

use common::in_private_netns;
use renamed_mtu::{
    expect_refusal_once_renamed_away, expect_service_once_named_veth0, ipv6_mtu,
    service_managing_veth0, set_mtu,
};

use slaacd_ipc::slaacd_capnp::kernel;
use slaacd_parent::interface_names::LinkEvents;
use slaacd_parent::sysctl::{FollowedInterfaces, ManagedInterfaces, TemporaryAddresses};

/// veth0 managed and taken over, followed by announcements subscribed to before.
fn following_veth0(veth0: u32) -> Rc<FollowedInterfaces> {
    let events = LinkEvents::subscribe().unwrap();
    let mut managed = ManagedInterfaces::new(vec![("veth0".into(), TemporaryAddresses::Kernel)]);
    managed.take(veth0, "veth0").unwrap();
    Rc::new(FollowedInterfaces::new(events, managed).unwrap())
}

#[test]
fn a_call_right_after_a_rename_sees_it() {
    in_private_netns(async |old_index| {
        let followed = following_veth0(old_index);
        assert_eq!(followed.managed_name(old_index).as_deref(), Some("veth0"));
        let service = service_managing_veth0("kernel-service-followed").following(followed.clone());
        let kernel: kernel::Client = capnp_rpc::new_client(service);
        set_mtu(&kernel, old_index, 1400).await.unwrap();
        assert_eq!(ipv6_mtu("veth0"), "1400");

        expect_refusal_once_renamed_away(&kernel, old_index).await;
        assert_eq!(followed.managed_name(old_index), None);

        let newcomer = expect_service_once_named_veth0(&kernel).await;

        // Taken over once its sysctls are there (the follower retries that step).
        let following = tokio::task::spawn_local({
            let followed = followed.clone();
            async move { followed.follow().await }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while followed.managed_name(newcomer).as_deref() != Some("veth0") {
            assert!(
                Instant::now() < deadline,
                "the new veth0 was not taken over"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        following.abort();
        followed.restore_all();
    });
}
