//! The convergence lab: a router namespace and a host namespace joined
//! through a bridge in a third namespace, as on a real LAN, with one radvd
//! that runs for the whole bench.
//!
//! ```text
//!   router: r0 ──veth── br-r ┐
//!                            ├ br0 (bridge namespace, no IPv6 of its own)
//!   host:   h0 ──veth── br-h ┘
//! ```
//!
//! Carrier-up of h0 is `br-h` going up while h0 is already admin-up, so the
//! host side sees carrier exactly when the bench says. It must never touch
//! an interface outside its three namespaces.

use std::time::{Duration, Instant};

use anyhow::bail;
use slaacd_tests::netns::{Netns, run};
use slaacd_tests::radvd::Radvd;
use tempfile::TempDir;

/// The prefix radvd advertises.
pub const PREFIX: &str = "2001:db8:1::/64";

/// radvd's multicast replies to solicitations are at least MinDelayBetweenRAs
/// (3 s) apart, counted from any multicast RA: a run starts only after the
/// router has sent nothing for this long, so no run measures that limit.
const ROUTER_QUIET: Duration = Duration::from_millis(3500);

/// The port of the bridge that the host's interface is plugged into.
pub const HOST_PORT: &str = "br-h";

pub struct BridgeLab {
    pub router: Netns,
    pub bridge: Netns,
    pub host: Netns,
    pub dir: TempDir,
    radvd: Option<Radvd>,
}

/// radvd as in the research notes: unsolicited RAs rarely (30-60 s), every
/// other setting radvd's default (solicited RAs answered at once, unicast
/// to a link-local source, multicast to ::).
fn radvd_config() -> String {
    format!(
        "interface r0 {{
    AdvSendAdvert on;
    MinRtrAdvInterval 30;
    MaxRtrAdvInterval 60;
    AdvDefaultLifetime 1800;
    prefix {PREFIX} {{
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    }};
}};
"
    )
}

fn sysctl(netns: &Netns, key_value: &str) {
    let mut command = netns.command("sysctl");
    command.args(["-q", "-w", key_value]);
    run(&mut command);
}

impl BridgeLab {
    /// Builds the three namespaces and the links, starts radvd; h0 stays
    /// down.
    pub fn new() -> anyhow::Result<BridgeLab> {
        slaacd_tests::require_root();
        let router = Netns::new("r");
        let bridge = Netns::new("b");
        let host = Netns::new("h");
        // The bridge forwards frames; it has no address to configure.
        sysctl(&bridge, "net.ipv6.conf.all.disable_ipv6=1");
        sysctl(&bridge, "net.ipv6.conf.default.disable_ipv6=1");
        bridge.ip(&["link", "add", "br0", "type", "bridge"]);
        // No spanning tree (ports forward at once) and no multicast
        // snooping (RAs and solicitations reach every port).
        bridge.ip(&[
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ]);
        for (port, peer, netns) in [("br-r", "r0", &router), (HOST_PORT, "h0", &host)] {
            bridge.ip(&[
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                peer,
                "netns",
                netns.name(),
            ]);
            bridge.ip(&["link", "set", port, "master", "br0"]);
        }
        bridge.ip(&["link", "set", "br0", "up"]);
        bridge.ip(&["link", "set", "br-r", "up"]);
        // radvd only advertises with forwarding on.
        sysctl(&router, "net.ipv6.conf.all.forwarding=1");
        // The router's link-local is usable long before the first run.
        router.sysctl("r0", "accept_dad", "0");
        router.ip(&["link", "set", "r0", "address", "02:00:00:00:00:01", "up"]);
        host.ip(&["link", "set", "h0", "address", "02:00:00:00:00:02"]);
        let dir = tempfile::Builder::new().prefix("slaacd-bench-").tempdir()?;
        let mut lab = BridgeLab {
            router,
            bridge,
            host,
            dir,
            radvd: None,
        };
        lab.radvd = Some(Radvd::start(&lab.router, lab.dir.path(), &radvd_config()));
        Ok(lab)
    }

    /// Takes h0 off the link and back to admin-up without carrier: its
    /// addresses and routes are gone, and the next carrier-up gives it a
    /// fresh link-local address. `sysctls` are set on h0 while it is down.
    pub fn reset_host(&self, sysctls: &[(&str, &str)]) {
        self.bridge.ip(&["link", "set", HOST_PORT, "down"]);
        self.host.ip(&["link", "set", "h0", "down"]);
        for (name, value) in sysctls {
            self.host.sysctl("h0", name, value);
        }
        self.host.ip(&["link", "set", "h0", "up"]);
    }

    /// Waits until the router has sent no Router Advertisement for
    /// [`ROUTER_QUIET`], at most `limit`.
    pub fn wait_for_quiet_router(&self, limit: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last = self.router.snmp6("Icmp6OutType134");
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < ROUTER_QUIET {
            if started.elapsed() > limit {
                bail!("radvd did not fall silent for {ROUTER_QUIET:?} within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
            let now = self.router.snmp6("Icmp6OutType134");
            if now != last {
                last = now;
                quiet_since = Instant::now();
            }
        }
        Ok(())
    }
}

impl Drop for BridgeLab {
    fn drop(&mut self) {
        // radvd goes before its namespace.
        self.radvd = None;
    }
}
