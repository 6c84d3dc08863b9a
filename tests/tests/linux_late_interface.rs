//! A managed interface that does not exist when slaacd starts (a USB or
//! Wi-Fi adapter plugged in later, a VLAN or veth made by other tooling, a
//! name udev gives after boot) is waited for, not refused:
//! - slaacd starts for h0 in a namespace without h0, keeps running, answers
//!   slaacctl and logs that it waits for h0; `slaacctl show interface h0`
//!   says h0 is managed but not present until h0 exists;
//! - once the veth pair r0-h0 is made, h0 is taken over from its first link
//!   event, before it is up: accept_ra=0 and autoconf=0;
//! - brought up with radvd advertising on r0, h0 gets slaacd's address and
//!   default route, and none of the kernel's own SLAAC;
//! - at exit h0 gets back the values it was created with.

use std::net::Ipv6Addr;
use std::time::Duration;

use nix::sys::signal::Signal;
use slaacd_tests::kernel_view::{global_addresses, routes_to};
use slaacd_tests::lab::{Lab, router_namespace};
use slaacd_tests::netns::Netns;
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::{poll_until, wait_for};

const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 5, 0, 0, 0, 0, 0);

/// accept_ra and autoconf of `interface` (or `default`) in the host.
fn ra_sysctls(lab: &Lab, interface: &str) -> (String, String) {
    (
        lab.host.read_sysctl(interface, "accept_ra"),
        lab.host.read_sysctl(interface, "autoconf"),
    )
}

/// Whether `interface` exists in `netns`.
fn exists(netns: &Netns, interface: &str) -> bool {
    let mut command = netns.command("ip");
    command.args(["link", "show", "dev", interface]);
    command
        .output()
        .expect("running ip link show")
        .status
        .success()
}

#[test]
fn a_managed_interface_made_after_the_start_is_waited_for_and_configured() {
    let lab = Lab::around(router_namespace(), Netns::new("h"));
    assert!(!exists(&lab.host, "h0"));
    // What a new interface in the host starts with.
    let created_with = ra_sysctls(&lab, "default");
    assert_ne!(created_with, ("0".into(), "0".into()));

    let mut slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &["-v"], &["h0"]);
    slaacd.wait_answering(&[]);
    wait_for(
        "slaacd's log saying that it waits for h0",
        Duration::from_secs(5),
        || {
            slaacd
                .log()
                .contains("h0 does not exist yet; waiting for it")
                .then_some(())
        },
    );
    let absent = slaacd.ctl(&["show", "interface", "h0"]);
    assert!(!absent.status.success(), "slaacctl: {absent:?}");
    assert_eq!(
        String::from_utf8_lossy(&absent.stderr),
        "slaacctl: interface h0 is managed by slaacd but not present\n"
    );

    // h0 appears, down; slaacd takes it over before it comes up.
    lab.add_link("r0", "h0", "02:00:00:00:00:01", "02:00:00:00:00:02");
    let taken = poll_until(Duration::from_secs(5), || {
        (ra_sysctls(&lab, "h0") == ("0".into(), "0".into())).then_some(())
    });
    assert!(
        taken.is_some(),
        "h0 was not taken over: accept_ra/autoconf {:?}\nlog:\n{}",
        ra_sysctls(&lab, "h0"),
        slaacd.log()
    );
    let state = lab.host.ip_json(&["link", "show", "dev", "h0"]);
    assert_eq!(
        state[0]["operstate"], "DOWN",
        "h0 came up by itself: {state}"
    );

    let _radvd = Radvd::start(
        &lab.router,
        lab.dir.path(),
        &single_prefix_config("r0", "2001:db8:5::/64", 3600, 1800, 600),
    );
    lab.host.ip(&["link", "set", "h0", "up"]);
    let configured = poll_until(Duration::from_secs(20), || {
        let ours = global_addresses(&lab.host, "h0")
            .into_iter()
            .any(|address| {
                address.has("noprefixroute")
                    && address.address.segments()[..4] == PREFIX.segments()[..4]
            });
        let route = routes_to(&lab.host, "h0", "default")
            .into_iter()
            .any(|route| route.nexthop_id.is_some());
        (ours && route).then_some(())
    });
    assert!(
        configured.is_some(),
        "h0 got no address in {PREFIX}/64 and default route from slaacd: {:?} {:?}\nlog:\n{}",
        global_addresses(&lab.host, "h0"),
        routes_to(&lab.host, "h0", "default"),
        slaacd.log()
    );
    // The kernel handles an RA before slaacd hears of it: had it accepted
    // the one slaacd acted on, its own address would be there by now. (The
    // temporary addresses it derives from slaacd's are slaacd's doing.)
    let kernel_made: Vec<_> = global_addresses(&lab.host, "h0")
        .into_iter()
        .filter(|address| !address.has("noprefixroute") && !address.has("temporary"))
        .collect();
    assert!(
        kernel_made.is_empty(),
        "the kernel autoconfigured h0 beside slaacd: {kernel_made:?}"
    );
    assert_eq!(ra_sysctls(&lab, "h0"), ("0".into(), "0".into()));
    let shown = slaacd.show_json("h0");
    assert_eq!(shown["interfaces"][0]["name"], "h0", "{shown}");

    let status = slaacd.stop_with(Signal::SIGTERM);
    assert!(status.success(), "{status}; log:\n{}", slaacd.log());
    assert_eq!(
        ra_sysctls(&lab, "h0"),
        created_with,
        "h0's accept_ra/autoconf at exit"
    );
}
