//! Temporary addresses (RFC 8981) on Linux, delegated to the kernel: slaacd
//! adds its stable address with IFA_F_MANAGETEMPADDR and sets use_tempaddr=2,
//! the kernel makes, renews and prefers the temporary addresses. Proven
//! against radvd in network namespaces: a temporary address appears beside
//! the stable one, outgoing connections use it as source, its successor
//! takes over before it is deprecated, `-T` turns all of it off, and
//! use_tempaddr is restored at exit.

use std::fs::File;
use std::net::{Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use serde_json::Value;
use slaacd_tests::lab::Lab;
use slaacd_tests::netns::Netns;
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::wait_for;

const PREFIX: &str = "2001:db8:1::/64";
/// Reached through the default route, outside every prefix of the lab.
const REMOTE: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 1);
/// On the link, inside the advertised prefix.
const ON_LINK: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
/// What h0's use_tempaddr is before slaacd starts: neither value slaacd
/// writes, so that restoring it is visible.
const USE_TEMPADDR_BEFORE: &str = "1";

/// One global address of h0 in the lab prefix, as `ip -j addr` shows it.
#[derive(Debug, Clone)]
struct Address {
    address: Ipv6Addr,
    info: Value,
}

impl Address {
    fn flag(&self, name: &str) -> bool {
        self.info[name].as_bool().unwrap_or(false)
    }

    fn is_temporary(&self) -> bool {
        self.flag("temporary")
    }

    /// Past DAD and not deprecated: a candidate source for new connections.
    fn is_preferred(&self) -> bool {
        !self.flag("tentative") && !self.flag("deprecated")
    }

    fn lifetime(&self, name: &str) -> u64 {
        self.info[name]
            .as_u64()
            .unwrap_or_else(|| panic!("no {name} in {}", self.info))
    }
}

/// h0's global addresses in the lab prefix, newest first (the kernel's order).
fn lab_addresses(lab: &Lab) -> Vec<Address> {
    let reply = lab
        .host
        .ip_json(&["-6", "addr", "show", "dev", "h0", "scope", "global"]);
    reply
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|link| link["addr_info"].as_array().cloned().unwrap_or_default())
        .filter_map(|info| {
            let address: Ipv6Addr = info["local"].as_str()?.parse().ok()?;
            (address.segments()[..4] == [0x2001, 0xdb8, 1, 0]).then_some(Address { address, info })
        })
        .collect()
}

fn stable_address(lab: &Lab) -> Option<Address> {
    lab_addresses(lab)
        .into_iter()
        .find(|a| !a.is_temporary() && a.is_preferred())
}

fn preferred_temporary_addresses(lab: &Lab) -> Vec<Address> {
    lab_addresses(lab)
        .into_iter()
        .filter(|a| a.is_temporary() && a.is_preferred())
        .collect()
}

/// The source address the host's kernel picks for a UDP socket connected
/// to `destination` (no packet is sent): what any outgoing connection gets.
fn source_towards(netns: &Netns, destination: Ipv6Addr) -> Ipv6Addr {
    let path = format!("/run/netns/{}", netns.name());
    let local = std::thread::spawn(move || {
        let namespace = File::open(&path).unwrap_or_else(|e| panic!("opening {path}: {e}"));
        // Only this short-lived thread enters the host namespace.
        nix::sched::setns(&namespace, CloneFlags::CLONE_NEWNET)
            .unwrap_or_else(|e| panic!("entering {path}: {e}"));
        let socket = UdpSocket::bind("[::]:0").expect("binding a UDP socket in the host");
        socket
            .connect((destination, 9))
            .unwrap_or_else(|e| panic!("connecting a UDP socket to {destination}: {e}"));
        socket.local_addr().expect("reading the socket's address")
    })
    .join()
    .expect("the thread in the host namespace panicked");
    match local {
        SocketAddr::V6(local) => *local.ip(),
        SocketAddr::V4(local) => panic!("an IPv6 socket got the IPv4 address {local}"),
    }
}

/// The lab with radvd advertising the prefix, h0 prepared with `sysctls`
/// (name, value) and its use_tempaddr at [`USE_TEMPADDR_BEFORE`], and
/// slaacd started with `options`; h0 comes up last.
fn start(options: &[&str], sysctls: &[(&str, &str)]) -> (Lab, Radvd, Slaacd) {
    let lab = Lab::new();
    let config = single_prefix_config("r0", PREFIX, 3600, 1800, 1200);
    let radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    lab.host.sysctl("h0", "use_tempaddr", USE_TEMPADDR_BEFORE);
    for (name, value) in sysctls {
        lab.host.sysctl("h0", name, value);
    }
    let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), options, &["h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    (lab, radvd, slaacd)
}

/// SIGTERM; the daemon must exit 0 and put h0's use_tempaddr back.
/// What `slaacctl show interface h0` prints.
fn shown(slaacd: &Slaacd) -> String {
    String::from_utf8_lossy(&slaacd.ctl(&["show", "interface", "h0"]).stdout).into_owned()
}

fn stop(lab: &Lab, mut slaacd: Slaacd) {
    let status = slaacd.stop_with(Signal::SIGTERM);
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        slaacd.log()
    );
    assert_eq!(
        lab.host.read_sysctl("h0", "use_tempaddr"),
        USE_TEMPADDR_BEFORE,
        "use_tempaddr not restored at exit"
    );
}

#[test]
fn the_kernel_makes_a_temporary_address_that_outgoing_connections_use() {
    let (lab, _radvd, slaacd) = start(&["-v"], &[]);
    let stable = wait_for("the stable address", Duration::from_secs(15), || {
        stable_address(&lab)
    });
    let temporary = wait_for(
        "a preferred temporary address",
        Duration::from_secs(5),
        || preferred_temporary_addresses(&lab).into_iter().next(),
    );

    assert_eq!(lab.host.read_sysctl("h0", "use_tempaddr"), "2");
    assert!(stable.flag("mngtmpaddr"), "{}", stable.info);
    assert!(!temporary.flag("mngtmpaddr"), "{}", temporary.info);
    assert_ne!(temporary.address, stable.address);
    // The kernel caps a temporary address's lifetimes at the stable one's.
    for name in ["valid_life_time", "preferred_life_time"] {
        assert!(
            temporary.lifetime(name) <= stable.lifetime(name),
            "{name}: temporary {} stable {}",
            temporary.info,
            stable.info
        );
    }

    for destination in [REMOTE, ON_LINK] {
        assert_eq!(
            source_towards(&lab.host, destination),
            temporary.address,
            "source towards {destination}; addresses: {:?}",
            lab_addresses(&lab)
        );
    }
    assert!(
        shown(&slaacd).contains("temporary: yes"),
        "{}",
        shown(&slaacd)
    );
    stop(&lab, slaacd);
}

#[test]
fn a_new_temporary_address_takes_over_before_the_old_one_is_deprecated() {
    // Preferred 12 s and valid 20 s, no random desync: the kernel makes the
    // successor a few seconds (regen_advance and more) before the end of
    // the preferred lifetime.
    let (lab, _radvd, slaacd) = start(
        &["-v"],
        &[
            ("temp_prefered_lft", "12"),
            ("temp_valid_lft", "20"),
            ("max_desync_factor", "0"),
        ],
    );
    let first = wait_for(
        "the first temporary address",
        Duration::from_secs(15),
        || preferred_temporary_addresses(&lab).into_iter().next(),
    );
    let first_seen = Instant::now();
    assert_eq!(source_towards(&lab.host, REMOTE), first.address);

    // The successor is usable while the first is still preferred, and new
    // connections move to it then, not when the first is deprecated.
    let (successor, source) = wait_for(
        "a usable successor temporary address",
        Duration::from_secs(15),
        || {
            let usable = preferred_temporary_addresses(&lab);
            let successor = usable.iter().find(|a| a.address != first.address)?.clone();
            let source = source_towards(&lab.host, REMOTE);
            let first_still_preferred = usable.iter().any(|a| a.address == first.address);
            Some((successor, source)).filter(|_| first_still_preferred)
        },
    );
    let takeover = first_seen.elapsed();
    assert_eq!(
        source,
        successor.address,
        "source while both are preferred; addresses: {:?}",
        lab_addresses(&lab)
    );
    assert!(
        successor.lifetime("preferred_life_time") > 5,
        "{}",
        successor.info
    );

    // Then the first is deprecated, still valid, and never used again.
    let deprecated = wait_for(
        "the first temporary address to be deprecated",
        Duration::from_secs(15),
        || {
            lab_addresses(&lab)
                .into_iter()
                .find(|a| a.address == first.address && a.flag("deprecated"))
        },
    );
    assert!(deprecated.lifetime("valid_life_time") > 0);
    assert_eq!(source_towards(&lab.host, REMOTE), successor.address);
    eprintln!(
        "successor took over {takeover:?} after the first temporary address was seen; \
         deprecated {:?} after it",
        first_seen.elapsed()
    );
    stop(&lab, slaacd);
}

#[test]
fn with_t_there_are_no_temporary_addresses() {
    let (lab, _radvd, slaacd) = start(&["-v", "-T"], &[]);
    let stable = wait_for(
        "the stable address past DAD",
        Duration::from_secs(15),
        || stable_address(&lab),
    );
    assert_eq!(lab.host.read_sysctl("h0", "use_tempaddr"), "0");
    assert!(!stable.flag("mngtmpaddr"), "{}", stable.info);
    // The kernel would have made one when the stable address was added.
    let temporaries: Vec<_> = lab_addresses(&lab)
        .into_iter()
        .filter(Address::is_temporary)
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
    assert_eq!(source_towards(&lab.host, REMOTE), stable.address);
    assert!(
        shown(&slaacd).contains("temporary:  no"),
        "{}",
        shown(&slaacd)
    );
    stop(&lab, slaacd);
}

#[test]
fn restarting_with_t_removes_the_kernels_temporary_addresses() {
    let (lab, _radvd, slaacd) = start(&["-v"], &[]);
    let stable = wait_for("the stable address", Duration::from_secs(15), || {
        stable_address(&lab)
    });
    wait_for(
        "a preferred temporary address",
        Duration::from_secs(5),
        || preferred_temporary_addresses(&lab).into_iter().next(),
    );
    stop(&lab, slaacd);

    // The first refresh without IFA_F_MANAGETEMPADDR makes the kernel delete
    // the temporary addresses it made from the stable one.
    let restarted = Slaacd::start_with(&lab.host, lab.dir.path(), &["-v", "-T"], &["h0"]);
    wait_for(
        "the temporary addresses to go",
        Duration::from_secs(15),
        || {
            let addresses = lab_addresses(&lab);
            let refreshed = addresses
                .iter()
                .any(|a| a.address == stable.address && !a.flag("mngtmpaddr"));
            (refreshed && !addresses.iter().any(Address::is_temporary)).then_some(())
        },
    );
    assert_eq!(source_towards(&lab.host, REMOTE), stable.address);
    stop(&lab, restarted);
}
