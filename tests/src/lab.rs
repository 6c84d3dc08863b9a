//! The basic lab: a router namespace and a host namespace joined by a veth
//! pair (r0 in the router, h0 in the host).

use std::net::Ipv6Addr;

use tempfile::TempDir;

use crate::netns::Netns;
use crate::{require_root, wait_for};
use std::time::Duration;

pub struct Lab {
    pub router: Netns,
    pub host: Netns,
    pub dir: TempDir,
}

impl Lab {
    /// Builds the namespaces and the link r0-h0: r0 up, h0 left down for
    /// the test to bring up when it is ready.
    pub fn new() -> Self {
        require_root();
        let lab = Self::around(router_namespace(), Netns::new("h"));
        lab.add_link("r0", "h0", "02:00:00:00:00:01", "02:00:00:00:00:02");
        lab
    }

    /// A lab of `router` and `host` as they are, with no link between them
    /// yet, and a directory of its own for logs, sockets and keys.
    pub fn around(router: Netns, host: Netns) -> Self {
        Self {
            router,
            host,
            dir: tempfile::Builder::new()
                .prefix("slaacd-lab-")
                .tempdir()
                .expect("creating the lab's directory"),
        }
    }

    /// Another veth pair between the router and the host:
    /// `router_interface` up with hardware address `router_mac`,
    /// `host_interface` left down with `host_mac`.
    pub fn add_link(
        &self,
        router_interface: &str,
        host_interface: &str,
        router_mac: &str,
        host_mac: &str,
    ) {
        self.router.ip(&[
            "link",
            "add",
            router_interface,
            "type",
            "veth",
            "peer",
            "name",
            host_interface,
            "netns",
            self.host.name(),
        ]);
        // The router's link-local must be usable at once, not tentative until
        // the peer comes up, or the first solicitation goes unanswered.
        self.router.sysctl(router_interface, "accept_dad", "0");
        self.router
            .ip(&["link", "set", router_interface, "address", router_mac, "up"]);
        self.host
            .ip(&["link", "set", host_interface, "address", host_mac]);
    }

    /// The link-local address of the router's r0, once it has one.
    pub fn router_link_local(&self) -> Ipv6Addr {
        wait_for(
            "the router's link-local address",
            Duration::from_secs(5),
            || link_local_of(&self.router, "r0"),
        )
    }
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

/// A new router namespace with IPv6 forwarding on, for its interfaces made
/// later too: radvd only advertises with forwarding on.
pub fn router_namespace() -> Netns {
    let router = Netns::new("r");
    let mut forwarding = router.command("sysctl");
    forwarding.args(["-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
    crate::netns::run(&mut forwarding);
    router
}

/// The link-local address of `interface`, if it has a usable one.
pub fn link_local_of(netns: &Netns, interface: &str) -> Option<Ipv6Addr> {
    let addresses = netns.ip_json(&["-6", "addr", "show", "dev", interface, "scope", "link"]);
    addresses[0]["addr_info"]
        .as_array()?
        .iter()
        .find(|info| info.get("tentative").is_none())?["local"]
        .as_str()?
        .parse()
        .ok()
}
