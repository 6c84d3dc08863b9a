//! A shared link for more than two parties: a bridge in a namespace of its
//! own (the switch) that lab namespaces join through veth pairs, so that two
//! routers and a host all see each other's multicast, as on an Ethernet
//! segment.
//!
//! Everything it makes lives in namespaces it created, and goes with them;
//! it never touches the machine's own network configuration.

use std::cell::Cell;

use crate::lab::router_namespace;
use crate::netns::{Netns, run};
use crate::require_root;

/// The switch: a namespace holding the bridge `br0`.
pub struct Segment {
    switch: Netns,
    ports: Cell<u32>,
}

impl Segment {
    /// The switch namespace with its bridge up, forwarding at once (no STP)
    /// and flooding every multicast frame (no snooping).
    pub fn new() -> Self {
        require_root();
        let switch = Netns::new("sw");
        // The switch only forwards frames: no IPv6 of its own on the link.
        for scope in ["all", "default"] {
            let mut command = switch.command("sysctl");
            command.args(["-q", "-w", &format!("net.ipv6.conf.{scope}.disable_ipv6=1")]);
            run(&mut command);
        }
        switch.ip(&[
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ]);
        switch.ip(&["link", "set", "br0", "up"]);
        Self {
            switch,
            ports: Cell::new(0),
        }
    }

    /// Joins `netns` to the link: its new interface `interface` gets the
    /// hardware address `mac` and stays down; the switch's end is up.
    pub fn attach(&self, netns: &Netns, interface: &str, mac: &str) {
        let port = format!("p{}", self.ports.get());
        self.ports.set(self.ports.get() + 1);
        self.switch.ip(&[
            "link",
            "add",
            &port,
            "type",
            "veth",
            "peer",
            "name",
            interface,
            "netns",
            netns.name(),
        ]);
        self.switch
            .ip(&["link", "set", &port, "master", "br0", "up"]);
        netns.ip(&["link", "set", interface, "address", mac]);
    }

    /// A new router namespace on the link through `r0`, with hardware
    /// address `mac`, forwarding on (radvd advertises only then) and `r0` up
    /// with a link-local address usable at once (no DAD), so the first
    /// solicitation is answered.
    pub fn add_router(&self, mac: &str) -> Netns {
        let router = router_namespace();
        self.attach(&router, "r0", mac);
        router.sysctl("r0", "accept_dad", "0");
        router.ip(&["link", "set", "r0", "up"]);
        router
    }
}

impl Default for Segment {
    fn default() -> Self {
        Self::new()
    }
}
