//! The `Kernel` capability checks each call's interface by the name it has
//! at the time of the call, not by its index at start: once the managed
//! veth0 is renamed veth0x, a proposal for it is refused with an error naming
//! veth0x, and the interface that then takes the name veth0 is served. Run in
//! a private network namespace (unshare(CLONE_NEWNET) on the test's thread)
//! with a veth pair veth0/veth1. Needs root.

mod common;

use common::{connect, in_private_netns, ip};

use slaacd_ipc::slaacd_capnp::kernel;
use slaacd_parent::kernel::KernelWriter;
use slaacd_parent::kernel_service::KernelService;
use slaacd_parent::resolver::{Backend, Resolver};
use slaacd_parent::sysctl::InterfaceSysctls;

/// `ip link set FROM down; ip link set FROM name TO; ip link set TO up`.
fn rename(from: &str, to: &str) {
    ip(&["link", "set", from, "down"]);
    ip(&["link", "set", from, "name", to]);
    ip(&["link", "set", to, "up"]);
}

async fn set_mtu(kernel: &kernel::Client, index: u32, mtu: u32) -> Result<(), capnp::Error> {
    let mut request = kernel.configure_mtu_request();
    request.get().set_if_index(index);
    request.get().set_mtu(mtu);
    request.send().promise.await.map(drop)
}

fn ipv6_mtu(interface: &str) -> String {
    InterfaceSysctls::new(interface)
        .unwrap()
        .read("mtu")
        .unwrap()
}

#[test]
fn calls_follow_the_managed_name_not_the_index() {
    in_private_netns(async |old_index| {
        tokio::task::LocalSet::new()
            .run_until(async {
                let resolv_conf = std::env::temp_dir().join(format!(
                    "slaacd-kernel-service-rename-{}.conf",
                    std::process::id()
                ));
                let writer = KernelWriter::new(connect(), 1024).unwrap();
                let service = KernelService::with_resolver(
                    writer,
                    vec!["veth0".to_owned()],
                    std::rc::Rc::new(Resolver::new(Backend::File(resolv_conf))),
                );
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
            })
            .await;
    });
}
