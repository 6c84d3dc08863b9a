//! What the tests of the `Kernel` capability across a rename share: the
//! service of a daemon managing veth0, renaming an interface as an
//! administrator would, an MTU proposal through the capability, and the IPv6
//! MTU the kernel then has. Run inside the private network namespace of
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
