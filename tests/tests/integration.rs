//! Everything an RA says beyond addresses and the default route reaches the
//! kernel and the resolver: on-link prefix routes, Route Information routes
//! with their preference, the MTU, the hop limit and Neighbor Discovery
//! timers, and RDNSS/DNSSL through the file backend, which forgets servers
//! whose lifetime ended or that the router withdrew (radvd's last
//! advertisement gives them lifetime 0), and is emptied when the daemon
//! stops.
//!
//! radvd is the router; the real daemon runs in the host namespace inside a
//! mount namespace of its own (`ip netns exec` makes one) where the test's
//! directory is bind-mounted over /run/slaacd, so the resolver file lands in
//! the test's directory. The namespace also has /etc/netns/NAME/resolv.conf,
//! which `ip netns exec` mounts over /etc/resolv.conf; the machine's own
//! /etc/resolv.conf is compared byte for byte before and after. The
//! withdrawal test needs no mount: the lab's daemon runner names a file in
//! the test's directory with `-r file=PATH`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use slaacd_tests::lab::Lab;
use slaacd_tests::netns::Netns;
use slaacd_tests::process::Guarded;
use slaacd_tests::radvd::Radvd;
use slaacd_tests::slaacd::{Slaacd, binary, require_user};
use slaacd_tests::wait_for;

const RDNSS_LIFETIME: u32 = 8;

fn radvd_config() -> String {
    format!(
        "interface r0 {{
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 1800;
    AdvLinkMTU 1400;
    AdvCurHopLimit 42;
    AdvReachableTime 45000;
    AdvRetransTimer 2500;
    prefix 2001:db8:1::/64 {{
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    }};
    prefix 2001:db8:2::/64 {{
        AdvOnLink on;
        AdvAutonomous off;
        AdvValidLifetime 7200;
        AdvPreferredLifetime 3600;
    }};
    prefix 2001:db8:3::/64 {{
        AdvOnLink off;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    }};
    route 2001:db8:100::/48 {{
        AdvRoutePreference high;
        AdvRouteLifetime 1200;
    }};
    RDNSS 2001:db8:1::53 2001:db8:1::54 {{
        AdvRDNSSLifetime {RDNSS_LIFETIME};
    }};
    DNSSL lab.example example.com {{
        AdvDNSSLLifetime {RDNSS_LIFETIME};
    }};
}};
"
    )
}

/// /etc/netns/NAME/resolv.conf for the host namespace, removed when dropped.
struct NetnsResolvConf {
    dir: PathBuf,
}

impl NetnsResolvConf {
    fn create(netns: &Netns, contents: &str) -> Self {
        let dir = Path::new("/etc/netns").join(netns.name());
        std::fs::create_dir_all(&dir).expect("creating /etc/netns/NAME");
        std::fs::write(dir.join("resolv.conf"), contents).expect("writing the netns resolv.conf");
        Self { dir }
    }

    fn read(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("resolv.conf")).expect("reading the netns resolv.conf")
    }
}

impl Drop for NetnsResolvConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts slaacd for h0 with `run_dir` mounted over /run/slaacd in its own
/// mount namespace.
fn start_daemon(netns: &Netns, dir: &Path, run_dir: &Path) -> Guarded {
    require_user();
    std::fs::create_dir_all(run_dir).expect("creating the daemon's run directory");
    // The mount point must exist; creating it on the machine is harmless.
    std::fs::create_dir_all("/run/slaacd").expect("creating /run/slaacd");
    let log = std::fs::File::create(dir.join("slaacd-integration.log")).expect("creating the log");
    let mut command = netns.command("sh");
    command
        .arg("-c")
        .arg("mount --bind \"$1\" /run/slaacd && shift && exec \"$@\"")
        .arg("sh")
        .arg(run_dir)
        .arg(binary("slaacd"))
        .args(["-d", "-v", "-s"])
        .arg(dir.join("slaacd.sock"))
        .arg("-K")
        .arg(dir.join("soii.key"))
        // The file backend at its default path (the mount above), never
        // resolvconf or systemd-resolved, which would reach the machine's.
        .args(["-r", "file"])
        .arg("h0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    Guarded::new(command.spawn().expect("starting slaacd"))
}

fn route_to(lab: &Lab, prefix: &str) -> Option<Value> {
    let routes = lab.host.ip_json(&["-6", "route", "show", prefix]);
    routes.as_array()?.first().cloned()
}

fn field<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {value}"))
}

fn neigh_sysctl(netns: &Netns, name: &str) -> String {
    let mut command = netns.command("cat");
    command.arg(format!("/proc/sys/net/ipv6/neigh/h0/{name}"));
    slaacd_tests::netns::run(&mut command).trim().to_owned()
}

fn daemon_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("slaacd-integration.log")).unwrap_or_default()
}

#[test]
fn routes_link_parameters_and_dns_reach_the_kernel_and_the_resolver() {
    let machine_resolv_conf = std::fs::read("/etc/resolv.conf").ok();
    let lab = Lab::new();
    let netns_resolv_conf = NetnsResolvConf::create(&lab.host, "nameserver 2001:db8:ffff::1\n");
    let netns_before = netns_resolv_conf.read();
    let radvd = Radvd::start(&lab.router, lab.dir.path(), &radvd_config());
    let run_dir = lab.dir.path().join("run");
    let resolver_file = run_dir.join("resolv.conf");
    let mut daemon = start_daemon(&lab.host, lab.dir.path(), &run_dir);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let router = lab.router_link_local().to_string();
    let log = || daemon_log(lab.dir.path());

    // On-link prefix routes: one for each PIO with the L flag.
    for prefix in ["2001:db8:1::/64", "2001:db8:2::/64"] {
        let route = wait_for(
            &format!("the on-link route {prefix}"),
            Duration::from_secs(15),
            || route_to(&lab, prefix),
        );
        assert_eq!(field(&route, "dev"), "h0", "{route}");
        assert_eq!(field(&route, "protocol"), "ra", "{route}");
        assert!(route.get("gateway").is_none(), "{route}");
        assert!(field(&route, "expires").as_u64().unwrap() > 3500, "{route}");
    }
    // A prefix without the L flag gets an address but no route.
    assert!(route_to(&lab, "2001:db8:3::/64").is_none(), "{}", log());

    // The Route Information option: via the router, high preference.
    let specific = wait_for(
        "the Route Information route",
        Duration::from_secs(15),
        || route_to(&lab, "2001:db8:100::/48"),
    );
    assert_eq!(field(&specific, "protocol"), "ra", "{specific}");
    assert_eq!(field(&specific, "pref"), "high", "{specific}");
    assert!(specific.get("nhid").is_some(), "{specific}");
    let lookup = lab.host.ip(&["-6", "route", "get", "2001:db8:100::1"]);
    assert!(lookup.contains(&format!("via {router} dev h0")), "{lookup}");
    let expires = field(&specific, "expires").as_u64().unwrap();
    assert!((1100..=1200).contains(&expires), "{specific}");

    // MTU, hop limit and ND timers.
    wait_for("the RA's MTU", Duration::from_secs(15), || {
        (lab.host.read_sysctl("h0", "mtu") == "1400").then_some(())
    });
    assert_eq!(lab.host.read_sysctl("h0", "hop_limit"), "42", "{}", log());
    assert_eq!(neigh_sysctl(&lab.host, "base_reachable_time_ms"), "45000");
    assert_eq!(neigh_sysctl(&lab.host, "retrans_time_ms"), "2500");

    // DNS in the resolver file.
    let dns = wait_for(
        "the DNS servers in the file",
        Duration::from_secs(15),
        || {
            std::fs::read_to_string(&resolver_file)
                .ok()
                .filter(|text| text.contains("nameserver"))
        },
    );
    assert!(dns.contains("nameserver 2001:db8:1::53\n"), "{dns}");
    assert!(dns.contains("nameserver 2001:db8:1::54\n"), "{dns}");
    assert!(dns.contains("search lab.example example.com\n"), "{dns}");

    // The router disappears without a word: once the RDNSS and DNSSL
    // lifetimes end, the entries go.
    drop(radvd);
    let expired = wait_for(
        "the DNS entries to expire",
        Duration::from_secs(u64::from(RDNSS_LIFETIME) + 10),
        || {
            std::fs::read_to_string(&resolver_file)
                .ok()
                .filter(|text| !text.contains("nameserver") && !text.contains("search"))
        },
    );
    assert!(expired.starts_with("# "), "{expired}");

    daemon.signal(Signal::SIGTERM);
    let status = daemon
        .wait_timeout(Duration::from_secs(10))
        .expect("slaacd did not stop on SIGTERM");
    assert!(status.success(), "{status}: {}", log());

    assert_eq!(
        std::fs::read("/etc/resolv.conf").ok(),
        machine_resolv_conf,
        "the machine's /etc/resolv.conf changed"
    );
    assert_eq!(netns_resolv_conf.read(), netns_before);
}

#[test]
fn dns_withdrawn_when_the_daemon_stops() {
    let machine_resolv_conf = std::fs::read("/etc/resolv.conf").ok();
    let lab = Lab::new();
    let _netns_resolv_conf = NetnsResolvConf::create(&lab.host, "nameserver 2001:db8:ffff::1\n");
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &radvd_config());
    let run_dir = lab.dir.path().join("run");
    let resolver_file = run_dir.join("resolv.conf");
    let mut daemon = start_daemon(&lab.host, lab.dir.path(), &run_dir);
    lab.host.ip(&["link", "set", "h0", "up"]);
    wait_for(
        "the DNS servers in the file",
        Duration::from_secs(15),
        || {
            std::fs::read_to_string(&resolver_file)
                .ok()
                .filter(|text| text.contains("nameserver 2001:db8:1::53"))
        },
    );

    daemon.signal(Signal::SIGTERM);
    let status = daemon
        .wait_timeout(Duration::from_secs(10))
        .expect("slaacd did not stop on SIGTERM");
    assert!(status.success(), "{status}: {}", daemon_log(lab.dir.path()));
    let left = std::fs::read_to_string(&resolver_file).unwrap();
    assert!(
        !left.contains("nameserver") && !left.contains("search"),
        "DNS entries outlived the daemon: {left}"
    );
    assert_eq!(
        std::fs::read("/etc/resolv.conf").ok(),
        machine_resolv_conf,
        "the machine's /etc/resolv.conf changed"
    );
}

/// radvd with one RDNSS server and one DNSSL domain, both with a lifetime
/// far longer than the test.
const LONG_LIVED_DNS_CONFIG: &str = "interface r0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix 2001:db8:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
    RDNSS 2001:db8:1::53 {
        AdvRDNSSLifetime 600;
    };
    DNSSL lab.example {
        AdvDNSSLLifetime 600;
    };
};
";

#[test]
fn dns_goes_when_the_router_withdraws_it_with_lifetime_zero() {
    let machine_resolv_conf = std::fs::read("/etc/resolv.conf").ok();
    let lab = Lab::new();
    let mut radvd = Radvd::start(&lab.router, lab.dir.path(), LONG_LIVED_DNS_CONFIG);
    // slaacd's -r file=DIR/resolv.conf (tests/src/slaacd.rs).
    let mut slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    let resolver_file = lab.dir.path().join("resolv.conf");
    lab.host.ip(&["link", "set", "h0", "up"]);
    let dns = wait_for(
        "the DNS server and domain in the file",
        Duration::from_secs(15),
        || {
            std::fs::read_to_string(&resolver_file)
                .ok()
                .filter(|text| text.contains("nameserver") && text.contains("search"))
        },
    );
    assert!(dns.contains("nameserver 2001:db8:1::53\n"), "{dns}");
    assert!(dns.contains("search lab.example\n"), "{dns}");

    // On SIGTERM radvd sends a last advertisement with RDNSS and DNSSL
    // lifetimes of 0 (FlushRDNSS and FlushDNSSL are on by default): the
    // entries go at once, ten minutes before they would expire.
    radvd.process.signal(Signal::SIGTERM);
    radvd
        .process
        .wait_timeout(Duration::from_secs(5))
        .expect("radvd did not stop on SIGTERM");
    let withdrawn = slaacd_tests::poll_until(Duration::from_secs(3), || {
        std::fs::read_to_string(&resolver_file)
            .ok()
            .filter(|text| !text.contains("nameserver") && !text.contains("search"))
    });
    assert!(
        withdrawn.is_some(),
        "the DNS entries outlived their withdrawal: {:?}\nlog:\n{}",
        std::fs::read_to_string(&resolver_file),
        slaacd.log()
    );

    let status = slaacd.stop_with(Signal::SIGTERM);
    assert!(status.success(), "{status}: {}", slaacd.log());
    assert_eq!(
        std::fs::read("/etc/resolv.conf").ok(),
        machine_resolv_conf,
        "the machine's /etc/resolv.conf changed"
    );
}
