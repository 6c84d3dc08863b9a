//! What the tests of the `Kernel` capability across a rename share: the
//! service of a daemon managing veth0, renaming an interface as an
//! administrator would, an MTU proposal through the capability, the IPv6
//! MTU the kernel then has, and the two steps of the scenario (veth0 renamed
//! away, veth1 taking its name). Run inside the private network namespace of
//! `common::in_private_netns`.

use std::rc::Rc;

use slaacd_ipc::slaacd_capnp::kernel;
use slaacd_parent::kernel::KernelWriter;
use slaacd_parent::kernel_service::KernelService;
use slaacd_parent::resolver::{Backend, Resolver};
use slaacd_parent::sysctl::InterfaceSysctls;

use crate::common::{connect, ip, wait_operational};

/// The `Kernel` service of a daemon managing veth0, its DNS configuration
/// going to a file in the temporary directory named after `test`. Needs the
/// runtime `in_private_netns` runs the test on.
pub fn service_managing_veth0(test: &str) -> KernelService {
    let resolv_conf =
        std::env::temp_dir().join(format!("slaacd-{test}-{}.conf", std::process::id()));
    let writer = KernelWriter::new(connect(), 1024).unwrap();
    KernelService::with_resolver(
        writer,
        vec!["veth0".to_owned()],
        Rc::new(Resolver::new(Backend::File(resolv_conf))),
    )
}

/// `ip link set FROM down; ip link set FROM name TO; ip link set TO up`, and
/// waits until the kernel's link watch has seen TO's carrier: its late "link
/// up" handling resets the IPv6 MTU, which would otherwise change under the
/// test (1 run in ~20).
pub fn rename(from: &str, to: &str) {
    ip(&["link", "set", from, "down"]);
    ip(&["link", "set", from, "name", to]);
    ip(&["link", "set", to, "up"]);
    wait_operational(to);
}

/// Proposes `mtu` for the interface with `index` through `kernel`.
pub async fn set_mtu(kernel: &kernel::Client, index: u32, mtu: u32) -> Result<(), capnp::Error> {
    let mut request = kernel.configure_mtu_request();
    request.get().set_if_index(index);
    request.get().set_mtu(mtu);
    request.send().promise.await.map(drop)
}

/// `interface`'s IPv6 MTU as its sysctl says.
pub fn ipv6_mtu(interface: &str) -> String {
    InterfaceSysctls::new(interface)
        .unwrap()
        .read("mtu")
        .unwrap()
}

/// Renames veth0 (index `old_index`) to veth0x and expects an MTU proposal
/// for `old_index` to be refused naming veth0x, with veth0x's MTU unchanged.
pub async fn expect_refusal_once_renamed_away(kernel: &kernel::Client, old_index: u32) {
    rename("veth0", "veth0x");
    let unchanged = ipv6_mtu("veth0x");
    let error = set_mtu(kernel, old_index, 1300)
        .await
        .expect_err("a proposal for the renamed veth0x was applied");
    let text = error.to_string();
    assert!(
        text.contains("refused") && text.contains("veth0x"),
        "the refusal does not name veth0x: {text}"
    );
    assert_eq!(ipv6_mtu("veth0x"), unchanged);
}

/// Renames veth1 to veth0 and expects an MTU proposal for it to be applied;
/// returns its index.
pub async fn expect_service_once_named_veth0(kernel: &kernel::Client) -> u32 {
    let newcomer = nix::net::if_::if_nametoindex("veth1").unwrap();
    rename("veth1", "veth0");
    set_mtu(kernel, newcomer, 1300).await.unwrap();
    assert_eq!(ipv6_mtu("veth0"), "1300");
    newcomer
}
