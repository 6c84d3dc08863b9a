//! The whole path once: radvd advertises a prefix, slaacd's three processes
//! configure the address and the default route in the kernel, slaacctl shows
//! what the engine knows, and the daemon stops cleanly or fails loudly.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use slaacd_tests::lab::Lab;
use slaacd_tests::process::{children_of, gids_of, is_alive, name_of, uids_of};
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::wait_for;

const PREFIX: &str = "2001:db8:1::/64";
const VALID: u64 = 3600;
const PREFERRED: u64 = 1800;
const ROUTER_LIFETIME: u64 = 1200;

/// The global address slaacd configured on h0 in the prefix, once present;
/// not one of the temporary addresses the kernel makes from it.
fn global_address(lab: &Lab) -> Option<Value> {
    let addresses = lab
        .host
        .ip_json(&["-6", "addr", "show", "dev", "h0", "scope", "global"]);
    addresses[0]["addr_info"]
        .as_array()?
        .iter()
        .find(|info| {
            info.get("temporary").is_none()
                && info["local"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("2001:db8:1:0:"))
        })
        .cloned()
}

fn default_route(lab: &Lab) -> Option<Value> {
    let routes = lab
        .host
        .ip_json(&["-6", "route", "show", "default", "dev", "h0"]);
    routes.as_array()?.first().cloned()
}

/// The daemon's two children, by name.
fn children(slaacd: &Slaacd) -> Vec<(u32, String)> {
    children_of(slaacd.pid())
        .into_iter()
        .filter_map(|pid| Some((pid, name_of(pid)?)))
        .collect()
}

fn start_lab() -> (Lab, Radvd) {
    let lab = Lab::new();
    let config = single_prefix_config(
        "r0",
        PREFIX,
        VALID as u32,
        PREFERRED as u32,
        ROUTER_LIFETIME as u32,
    );
    let radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    (lab, radvd)
}

#[test]
fn configures_a_stable_address_and_a_default_route_from_radvd() {
    let (lab, _radvd) = start_lab();
    let accept_ra_before = lab.host.read_sysctl("h0", "accept_ra");
    let mut slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let router = lab.router_link_local();

    let address = wait_for("the SLAAC address", Duration::from_secs(15), || {
        global_address(&lab)
    });
    let lifetime = |name: &str| {
        address[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} in {address}"))
    };
    assert!(
        (VALID - 5..=VALID).contains(&lifetime("valid_life_time")),
        "valid lifetime: {address}"
    );
    assert!(
        (PREFERRED - 5..=PREFERRED).contains(&lifetime("preferred_life_time")),
        "preferred lifetime: {address}"
    );
    assert_eq!(address["prefixlen"], 64);
    // RFC 7217, not the EUI-64 interface identifier of 02:00:00:00:00:02.
    assert_ne!(address["local"], "2001:db8:1::ff:fe00:2");

    let route = wait_for("the default route", Duration::from_secs(5), || {
        default_route(&lab)
    });
    assert_eq!(route["gateway"], router.to_string(), "{route}");
    assert_eq!(route["protocol"], "ra", "{route}");
    let expires = route["expires"]
        .as_u64()
        .unwrap_or_else(|| panic!("no expiry: {route}"));
    assert!(
        (ROUTER_LIFETIME - 5..=ROUTER_LIFETIME).contains(&expires),
        "{route}"
    );

    // The kernel's own RA processing is off while slaacd runs.
    assert_eq!(lab.host.read_sysctl("h0", "accept_ra"), "0");

    // Three processes; the two children are not root.
    let children = children(&slaacd);
    let mut names: Vec<&str> = children.iter().map(|(_, name)| name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["slaacd-engine", "slaacd-frontend"],
        "children: {children:?}"
    );
    for (pid, name) in &children {
        let uids = uids_of(*pid).expect("reading the child's uids");
        let gids = gids_of(*pid).expect("reading the child's gids");
        assert!(
            uids.iter().all(|uid| *uid != 0),
            "{name} runs with uids {uids:?}"
        );
        assert!(
            gids.iter().all(|gid| *gid != 0),
            "{name} runs with gids {gids:?}"
        );
    }

    // slaacctl shows the router and the prefix.
    let shown = slaacd.ctl(&["show", "interface", "h0"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success(),
        "slaacctl failed: {}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(
        text.contains(&format!("Router Advertisement from {router}")),
        "{text}"
    );
    assert!(text.contains("prefix: 2001:db8:1::/64"), "{text}");
    assert!(text.contains(address["local"].as_str().unwrap()), "{text}");

    // SIGTERM: an orderly exit of all three, accept_ra restored, and the
    // address left to its kernel lifetime.
    let status = slaacd.stop_with(Signal::SIGTERM);
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        slaacd.log()
    );
    for (pid, name) in &children {
        assert!(!is_alive(*pid), "{name} ({pid}) outlived the parent");
    }
    assert_eq!(lab.host.read_sysctl("h0", "accept_ra"), accept_ra_before);
    assert!(
        global_address(&lab).is_some(),
        "the address was removed at exit"
    );
}

#[test]
fn killing_the_engine_stops_the_daemon_with_an_error() {
    let (lab, _radvd) = start_lab();
    let mut slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    // Fully started: slaacctl's request went through frontend and engine.
    slaacd.wait_answering(&[]);
    let children = children(&slaacd);
    assert_eq!(children.len(), 2, "children: {children:?}");
    let (engine, _) = children
        .iter()
        .find(|(_, name)| name == "slaacd-engine")
        .expect("the engine is running");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(*engine as i32), Signal::SIGKILL).unwrap();

    let status = slaacd
        .process
        .wait_timeout(Duration::from_secs(10))
        .unwrap_or_else(|| {
            panic!(
                "slaacd kept running without its engine; log:\n{}",
                slaacd.log()
            )
        });
    assert!(
        !status.success(),
        "slaacd exited with {status} after losing its engine"
    );
    for (pid, name) in &children {
        assert!(!is_alive(*pid), "{name} ({pid}) outlived the parent");
    }
    let log = slaacd.log();
    assert!(
        log.contains("slaacd-engine") && log.contains("SIGKILL"),
        "the log does not say who died:\n{log}"
    );
}

#[test]
fn a_second_daemon_in_the_same_namespace_is_refused() {
    let (lab, _radvd) = start_lab();
    let first = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    wait_for(
        "the first daemon's children",
        Duration::from_secs(10),
        || (children(&first).len() == 2).then_some(()),
    );
    let second_dir = tempfile::tempdir().unwrap();
    let mut second = Slaacd::start(&lab.host, second_dir.path(), &["h0"]);
    let status = second
        .process
        .wait_timeout(Duration::from_secs(10))
        .expect("the second daemon kept running");
    assert!(!status.success());
    assert!(second.log().contains("already running"), "{}", second.log());
    assert!(is_alive(first.pid()), "the first daemon died");
}

#[test]
fn refuses_to_run_without_root() {
    use std::os::unix::process::CommandExt;
    let output = std::process::Command::new(slaacd_tests::slaacd::binary("slaacd"))
        .args(["-d", "lo"])
        .uid(65534)
        .gid(65534)
        .output()
        .expect("running slaacd as nobody");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("need root privileges"), "{stderr}");
}
