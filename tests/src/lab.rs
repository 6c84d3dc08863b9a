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
    /// Builds the namespaces and the link, both ends up.
    pub fn new() -> Self {
        require_root();
        let router = Netns::new("r");
        let host = Netns::new("h");
        router.ip(&[
            "link",
            "add",
            "r0",
            "type",
            "veth",
            "peer",
            "name",
            "h0",
            "netns",
            host.name(),
        ]);
        // radvd only advertises with forwarding on.
        let mut forwarding = router.command("sysctl");
        forwarding.args(["-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
        crate::netns::run(&mut forwarding);
        // The router's link-local must be usable at once, not tentative until
        // the peer comes up, or the first solicitation goes unanswered.
        router.sysctl("r0", "accept_dad", "0");
        router.ip(&["link", "set", "r0", "address", "02:00:00:00:00:01", "up"]);
        host.ip(&["link", "set", "h0", "address", "02:00:00:00:00:02"]);
        Self {
            router,
            host,
            dir: tempfile::Builder::new()
                .prefix("slaacd-lab-")
                .tempdir()
                .expect("creating the lab's directory"),
        }
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
