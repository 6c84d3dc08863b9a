//! A managed interface renamed under the running daemon. slaacd manages
//! interfaces by the names on its command line, so after
//! `ip link set h0 down; ip link set h0 name h0x; ip link set h0x up`:
//! - h0x is no longer managed: slaacctl stops showing it and slaacd
//!   configures nothing on it, although radvd keeps advertising there;
//! - an interface that then takes the name h0 is managed: slaacd configures
//!   its address and default route and slaacctl shows it;
//! - the kernel's own RA processing follows the interface, by index: h0x
//!   gets back the accept_ra/autoconf it had before slaacd took it, and the
//!   new h0 is taken over (accept_ra=0), so the kernel does not
//!   autoconfigure it beside slaacd; at exit each interface gets its own
//!   values back, under its current name.
//!
//! The lab has two links from the router: r0-h0 advertising 2001:db8:1::/64
//! and r1-h1 advertising 2001:db8:a::/64; h1 stays down until it becomes h0.

use std::net::Ipv6Addr;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use slaacd_tests::kernel_view::{KernelAddress, global_addresses, routes_to};
use slaacd_tests::lab::{Lab, link_local_of};
use slaacd_tests::radvd::Radvd;
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::{poll_until, wait_for};

const FIRST_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
const SECOND_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xa, 0, 0, 0, 0, 0);
/// More than two of radvd's advertisement intervals: time for anything
/// slaacd (or the kernel) would configure on an interface to appear.
const QUIET_PERIOD: Duration = Duration::from_secs(9);

const RADVD_CONFIG: &str = "interface r0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 600;
    prefix 2001:db8:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    };
};
interface r1 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 600;
    prefix 2001:db8:a::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    };
};
";

/// The lab with its second link, radvd on both, and slaacd managing h0,
/// which is configured from 2001:db8:1::/64. Fields drop in order: the
/// processes before the lab.
struct Renaming {
    slaacd: Slaacd,
    _radvd: Radvd,
    lab: Lab,
    /// h0's accept_ra and autoconf before slaacd started.
    before: (String, String),
}

impl Renaming {
    fn start() -> Self {
        let lab = Lab::new();
        lab.add_link("r1", "h1", "02:00:00:00:00:11", "02:00:00:00:00:12");
        let radvd = Radvd::start(&lab.router, lab.dir.path(), RADVD_CONFIG);
        let before = ra_sysctls(&lab, "h0");
        let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &["-v", "-T"], &["h0"]);
        slaacd.wait_answering(&[]);
        lab.host.ip(&["link", "set", "h0", "up"]);
        let renaming = Self {
            slaacd,
            _radvd: radvd,
            lab,
            before,
        };
        renaming.wait_configured("h0", FIRST_PREFIX);
        renaming
    }

    /// Waits for slaacd's address in `prefix` and a default route on
    /// `interface`.
    fn wait_configured(&self, interface: &str, prefix: Ipv6Addr) {
        let configured = poll_until(Duration::from_secs(20), || {
            let address = slaacd_addresses(&self.lab, interface, prefix);
            let route = routes_to(&self.lab.host, interface, "default");
            (!address.is_empty() && !route.is_empty()).then_some(())
        });
        assert!(
            configured.is_some(),
            "{interface} got no address in {prefix}/64 and default route: {:?}\nlog:\n{}",
            global_addresses(&self.lab.host, interface),
            self.slaacd.log()
        );
    }

    /// `ip link set FROM down; ip link set FROM name TO; ip link set TO up`.
    fn rename(&self, from: &str, to: &str) {
        self.lab.host.ip(&["link", "set", from, "down"]);
        self.lab.host.ip(&["link", "set", from, "name", to]);
        self.lab.host.ip(&["link", "set", to, "up"]);
    }

    /// The names slaacctl shows interfaces for.
    fn shown_interfaces(&self) -> Vec<String> {
        let output = self.slaacd.ctl(&["--json", "show", "interface"]);
        assert!(output.status.success(), "slaacctl: {output:?}");
        let reply: Value = serde_json::from_slice(&output.stdout).expect("slaacctl's JSON");
        reply["interfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|report| Some(report["name"].as_str()?.to_owned()))
            .collect()
    }

    fn stop(mut self) -> Lab {
        let status = self.slaacd.stop_with(Signal::SIGTERM);
        assert!(status.success(), "{status}; log:\n{}", self.slaacd.log());
        self.lab
    }
}

/// accept_ra and autoconf of an interface.
fn ra_sysctls(lab: &Lab, interface: &str) -> (String, String) {
    (
        lab.host.read_sysctl(interface, "accept_ra"),
        lab.host.read_sysctl(interface, "autoconf"),
    )
}

/// The addresses slaacd made on `interface` in `prefix` (it adds them
/// without a kernel prefix route; the kernel's own SLAAC does not).
fn slaacd_addresses(lab: &Lab, interface: &str, prefix: Ipv6Addr) -> Vec<KernelAddress> {
    in_prefix(lab, interface, prefix)
        .into_iter()
        .filter(|address| address.has("noprefixroute"))
        .collect()
}

/// The addresses the kernel's own SLAAC made on `interface` in `prefix`.
fn kernel_addresses(lab: &Lab, interface: &str, prefix: Ipv6Addr) -> Vec<KernelAddress> {
    in_prefix(lab, interface, prefix)
        .into_iter()
        .filter(|address| !address.has("noprefixroute"))
        .collect()
}

fn in_prefix(lab: &Lab, interface: &str, prefix: Ipv6Addr) -> Vec<KernelAddress> {
    global_addresses(&lab.host, interface)
        .into_iter()
        .filter(|address| address.address.segments()[..4] == prefix.segments()[..4])
        .collect()
}

#[test]
fn a_renamed_interface_is_let_go_and_one_taking_its_name_is_managed() {
    let renaming = Renaming::start();
    assert_eq!(renaming.shown_interfaces(), ["h0"]);

    renaming.rename("h0", "h0x");
    // The link came back up and radvd keeps advertising on it, but it is no
    // longer slaacd's: nothing of slaacd's appears on it.
    let router = wait_for("r0's link-local address", Duration::from_secs(5), || {
        link_local_of(&renaming.lab.router, "r0")
    });
    std::thread::sleep(QUIET_PERIOD);
    assert!(
        slaacd_addresses(&renaming.lab, "h0x", FIRST_PREFIX).is_empty(),
        "slaacd configured the renamed h0x: {:?}\nlog:\n{}",
        global_addresses(&renaming.lab.host, "h0x"),
        renaming.slaacd.log()
    );
    let slaacd_routes: Vec<_> = routes_to(&renaming.lab.host, "h0x", "default")
        .into_iter()
        .filter(|route| route.nexthop_id.is_some())
        .collect();
    assert!(
        slaacd_routes.is_empty(),
        "slaacd's default route via {router} on h0x: {slaacd_routes:?}"
    );
    assert!(
        renaming.shown_interfaces().is_empty(),
        "slaacctl still shows {:?}",
        renaming.shown_interfaces()
    );

    // An interface that takes the name is managed from then on.
    renaming.rename("h1", "h0");
    renaming.wait_configured("h0", SECOND_PREFIX);
    assert_eq!(renaming.shown_interfaces(), ["h0"]);
    let reply = renaming.slaacd.show_json("h0");
    let shown = reply["interfaces"][0]["addressProposals"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        shown
            .iter()
            .any(|proposal| proposal["prefix"] == "2001:db8:a::"),
        "slaacctl shows no proposal in 2001:db8:a::/64: {shown:?}"
    );
    renaming.stop();
}

#[test]
fn accept_ra_follows_the_interface_through_a_rename() {
    let renaming = Renaming::start();
    let before = renaming.before.clone();
    assert_eq!(ra_sysctls(&renaming.lab, "h0"), ("0".into(), "0".into()));
    // h1 has the namespace's defaults; the new h0 must get them back at exit.
    let h1_before = ra_sysctls(&renaming.lab, "h1");

    renaming.rename("h0", "h0x");
    let released = poll_until(Duration::from_secs(5), || {
        (ra_sysctls(&renaming.lab, "h0x") == before).then_some(())
    });
    assert!(
        released.is_some(),
        "h0x, no longer managed, has accept_ra/autoconf {:?}, not its own {before:?}",
        ra_sysctls(&renaming.lab, "h0x")
    );

    renaming.rename("h1", "h0");
    renaming.wait_configured("h0", SECOND_PREFIX);
    assert_eq!(
        ra_sysctls(&renaming.lab, "h0"),
        ("0".into(), "0".into()),
        "the new h0 was not taken over"
    );
    std::thread::sleep(QUIET_PERIOD);
    assert!(
        kernel_addresses(&renaming.lab, "h0", SECOND_PREFIX).is_empty(),
        "the kernel autoconfigured the new h0 beside slaacd: {:?}",
        global_addresses(&renaming.lab.host, "h0")
    );

    let lab = renaming.stop();
    assert_eq!(ra_sysctls(&lab, "h0"), h1_before, "the new h0 at exit");
    assert_eq!(ra_sysctls(&lab, "h0x"), before, "h0x at exit");
}
