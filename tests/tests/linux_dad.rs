//! Duplicate address detection against a real squatter: the router's
//! namespace already holds the address slaacd will form on the link, the
//! kernel's DAD on h0 fails (dadfailed), the frontend reports it, the engine
//! forms the next RFC 7217 address (DAD counter 1), and that one completes
//! DAD, carries traffic and is what slaacctl shows. Both ways the kernel
//! reports a failure are covered: an address with lifetimes is deleted
//! with the dadfailed flag, a permanent one (infinite lifetime) is kept
//! with the flag set.
//!
//! The test writes the secret key itself and computes the RFC 7217 addresses
//! on its own (SHA-256 over prefix, MAC, DAD counter and key), so it checks
//! the daemon's choice of address as well as the kernel's verdict. A first
//! run without the squatter shows that the daemon forms exactly the computed
//! counter-0 address.

use std::io::Write;
use std::net::Ipv6Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use sha2::{Digest, Sha256};
use slaacd_tests::kernel_view::{
    INFINITE, KernelAddress, global_addresses, routes, stable_addresses_in,
};
use slaacd_tests::lab::Lab;
use slaacd_tests::monitor::{IpMonitor, events_about};
use slaacd_tests::poll_until;
use slaacd_tests::radvd::Radvd;
use slaacd_tests::reach::udp_round_trip_within;
use slaacd_tests::slaacd::Slaacd;

const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
/// The router's own address in the prefix, the far end of the round trip.
const ROUTER_ADDRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
/// h0's hardware address in the lab: RFC 7217's Net_Iface.
const HOST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// A fixed key, so the addresses are the same on every run.
const SECRET_KEY: [u8; 32] = [
    0x5a, 0x17, 0x3c, 0x9e, 0x01, 0x42, 0x77, 0xd0, 0x88, 0x2b, 0xe4, 0x61, 0x0f, 0xc3, 0x95, 0x3a,
    0x6d, 0x10, 0xab, 0x4e, 0xf2, 0x07, 0x58, 0x99, 0xc1, 0x3d, 0x26, 0x8f, 0x70, 0xbe, 0x14, 0xe5,
];

/// radvd advertising the prefix with these valid and preferred lifetimes
/// (seconds, or "infinity").
fn radvd_config(valid: &str, preferred: &str) -> String {
    format!(
        "interface r0 {{
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 600;
    prefix 2001:db8:1::/64 {{
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime {valid};
        AdvPreferredLifetime {preferred};
    }};
}};
"
    )
}

/// What the kernel does with an address whose DAD failed, which depends
/// on its lifetime, and which the frontend must notice either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KernelVerdict {
    /// An address with lifetimes: the kernel deletes it, and the deletion
    /// carries the dadfailed flag.
    Deleted,
    /// A permanent address (infinite lifetime): the kernel keeps it,
    /// flagged dadfailed, until slaacd removes it.
    KeptFlagged,
}

/// RFC 7217 section 5 as the daemon documents its inputs: the low 64 bits
/// of SHA-256(prefix || Net_Iface || Network_ID (empty) || DAD_Counter ||
/// secret_key), after the /64 prefix.
fn rfc7217_address(prefix: Ipv6Addr, mac: &[u8], dad_counter: u8, key: &[u8]) -> Ipv6Addr {
    let mut hasher = Sha256::new();
    hasher.update(&prefix.octets()[..8]);
    hasher.update(mac);
    hasher.update([dad_counter]);
    hasher.update(key);
    let digest = hasher.finalize();
    let mut octets = prefix.octets();
    octets[8..].copy_from_slice(&digest[24..32]);
    Ipv6Addr::from(octets)
}

/// Writes the key file the daemon reads (-K): 64 hex digits and a newline,
/// readable by root only.
fn write_key(path: &Path) {
    let hex: String = SECRET_KEY
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("creating the key file");
    writeln!(file, "{hex}").expect("writing the key file");
}

/// slaacd for h0 without temporary addresses (only the stable address is
/// at stake), answering on its control socket.
fn start_daemon(lab: &Lab) -> Slaacd {
    let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &["-v", "-T"], &["h0"]);
    slaacd.wait_answering(&["h0"]);
    slaacd
}

fn stop_daemon(mut slaacd: Slaacd) {
    let status = slaacd.stop_with(Signal::SIGTERM);
    assert!(status.success(), "{status}; log:\n{}", slaacd.log());
}

/// h0's one stable address in the prefix once it is usable (DAD over).
fn usable_address(lab: &Lab, slaacd: &Slaacd) -> KernelAddress {
    let found = poll_until(Duration::from_secs(20), || {
        let addresses = stable_addresses_in(&lab.host, "h0", PREFIX);
        match addresses.as_slice() {
            [only] if only.is_usable() => Some(only.clone()),
            _ => None,
        }
    });
    found.unwrap_or_else(|| {
        panic!(
            "no single usable address in {PREFIX}/64 on h0: {:?}\nslaacd's log:\n{}",
            stable_addresses_in(&lab.host, "h0", PREFIX),
            slaacd.log()
        )
    })
}

/// The address proposals slaacctl shows for h0: (address, state).
fn proposals(slaacd: &Slaacd) -> Vec<(Ipv6Addr, String)> {
    let reply: Value = slaacd.show_json("h0");
    reply["interfaces"][0]["addressProposals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|proposal| {
            Some((
                proposal["address"].as_str()?.parse().ok()?,
                proposal["state"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// The whole scenario: a first run forms the counter-0 address, the router
/// takes it, and a second run must end up on the counter-1 address.
fn duplicate_replaced(config: &str, verdict: KernelVerdict, valid_lifetime: impl Fn(u64) -> bool) {
    let lab = Lab::new();
    let key_path = lab.dir.path().join("soii.key");
    write_key(&key_path);
    let first = rfc7217_address(PREFIX, &HOST_MAC, 0, &SECRET_KEY);
    let second = rfc7217_address(PREFIX, &HOST_MAC, 1, &SECRET_KEY);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), config);

    // Without a squatter the daemon forms the counter-0 address.
    let slaacd = start_daemon(&lab);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let formed = usable_address(&lab, &slaacd);
    assert_eq!(
        formed.address, first,
        "the daemon did not form the RFC 7217 address with DAD counter 0"
    );
    stop_daemon(slaacd);

    // The router takes that address (no DAD of its own: it holds it at
    // once) and h0 forgets it, so the next run forms it afresh.
    lab.host
        .ip(&["-6", "addr", "flush", "dev", "h0", "scope", "global"]);
    lab.router
        .ip(&["addr", "add", &format!("{first}/128"), "dev", "r0", "nodad"]);
    lab.router.ip(&[
        "addr",
        "add",
        &format!("{ROUTER_ADDRESS}/64"),
        "dev",
        "r0",
        "nodad",
    ]);

    let monitor = IpMonitor::start(&lab.host, &["address"]);
    let slaacd = start_daemon(&lab);
    let replacement = usable_address(&lab, &slaacd);
    let events = monitor.finish();

    // The kernel tried the first address and found it taken.
    let about_first = events_about(&events, first);
    let deleted = verdict == KernelVerdict::Deleted;
    let reported = about_first
        .iter()
        .any(|line| line.contains("dadfailed") && line.starts_with("Deleted") == deleted);
    assert!(
        reported,
        "the kernel did not report {first} as dadfailed ({verdict:?}):\n{events}\nslaacd's log:\n{}",
        slaacd.log()
    );
    assert!(
        stable_addresses_in(&lab.host, "h0", PREFIX)
            .iter()
            .all(|address| address.address != first),
        "the duplicate {first} is still on h0"
    );

    // The engine moved on to the next DAD counter.
    assert_eq!(
        replacement.address,
        second,
        "after DAD failed for {first} the daemon formed {} instead of the counter-1 address; log:\n{}",
        replacement.address,
        slaacd.log()
    );
    assert_eq!(replacement.prefix_len, 64);
    assert!(replacement.has("noprefixroute"), "{replacement:?}");
    assert!(valid_lifetime(replacement.valid), "{replacement:?}");

    // slaacctl shows the replacement configured and no proposal of the
    // duplicate.
    let shown = poll_until(Duration::from_secs(5), || {
        let shown = proposals(&slaacd);
        shown
            .iter()
            .any(|(address, state)| *address == second && state.ends_with("CONFIGURED"))
            .then_some(shown)
    })
    .unwrap_or_else(|| {
        panic!(
            "slaacctl does not show {second} configured: {:?}",
            proposals(&slaacd)
        )
    });
    assert!(
        shown.iter().all(|(address, _)| *address != first),
        "slaacctl still shows {first}: {shown:?}"
    );
    let text =
        String::from_utf8_lossy(&slaacd.ctl(&["show", "interface", "h0"]).stdout).into_owned();
    assert!(text.contains(&second.to_string()), "{text}");

    // The replacement carries traffic to the router and back.
    udp_round_trip_within(
        Duration::from_secs(5),
        &lab.host,
        second,
        &lab.router,
        ROUTER_ADDRESS,
    )
    .unwrap_or_else(|error| {
        panic!(
            "{second} does not work: {error}\naddresses: {:?}\nroutes: {:?}\nlog:\n{}",
            global_addresses(&lab.host, "h0"),
            routes(&lab.host, "h0"),
            slaacd.log()
        )
    });
    stop_daemon(slaacd);
}

#[test]
fn a_duplicate_address_the_kernel_deletes_is_replaced_by_the_next_rfc7217_address() {
    duplicate_replaced(
        &radvd_config("3600", "1800"),
        KernelVerdict::Deleted,
        |valid| (3500..=3600).contains(&valid),
    );
}

#[test]
fn a_permanent_duplicate_the_kernel_keeps_flagged_is_replaced_too() {
    duplicate_replaced(
        &radvd_config("infinity", "infinity"),
        KernelVerdict::KeptFlagged,
        |valid| valid == INFINITE,
    );
}
