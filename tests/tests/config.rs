//! A configuration file, end to end: slaacd started with `-f` on a file that
//! makes h0 use EUI-64 interface identifiers, metric 512 and no temporary
//! addresses, against radvd in network namespaces. The kernel shows the
//! EUI-64 address, routes with metric 512 and no temporary addresses, and
//! slaacctl reports them off. And caps per interface: h0 and h1, capped at
//! two routers and one by `-o` and by the file, hear the same crafted
//! advertisements from four routers each and keep two and one.

use std::net::Ipv6Addr;
use std::time::Duration;

use serde_json::Value;
use slaacd_tests::kernel_view;
use slaacd_tests::lab::Lab;
use slaacd_tests::netns::Netns;
use slaacd_tests::ra_sender::{RaSender, advert_with_prefix};
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::{poll_until, wait_for};

/// The EUI-64 address of h0 (02:00:00:00:00:02, see the lab) in the prefix:
/// the universal/local bit flipped, ff:fe in the middle.
const EUI64_ADDRESS: &str = "2001:db8:1::ff:fe00:2";

const CONFIG: &str = "\
# h0 as a test of slaacd.conf(5)
interface \"h0\" {
\tidentifier eui64
\tmetric 512
\ttemporary-addresses no
}
";

/// h0's global addresses, as `ip -j` shows them (it adds empty objects
/// for the addresses its filter leaves out).
fn global_addresses(lab: &Lab) -> Vec<Value> {
    let addresses = lab
        .host
        .ip_json(&["-6", "addr", "show", "dev", "h0", "scope", "global"]);
    addresses[0]["addr_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|info| info.get("local").is_some())
        .cloned()
        .collect()
}

#[test]
fn a_configuration_file_makes_one_interface_eui64_with_metric_512() {
    let lab = Lab::new();
    let radvd_config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1200);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &radvd_config);
    let config = lab.dir.path().join("slaacd.conf");
    std::fs::write(&config, CONFIG).expect("writing slaacd.conf");
    let config = config.to_str().expect("a UTF-8 path");
    // The interface comes from the file alone.
    let slaacd = Slaacd::start_with(&lab.host, lab.dir.path(), &["-v", "-f", config], &[]);
    // Taken over (accept_ra=0) before it comes up, or the kernel's own
    // SLAAC may configure h0 first (an EUI-64 address and metric 1024).
    slaacd.wait_answering(&["h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let router = lab.router_link_local();

    let address = wait_for("the EUI-64 address", Duration::from_secs(15), || {
        global_addresses(&lab)
            .into_iter()
            .find(|info| info["local"] == EUI64_ADDRESS)
    });
    assert_eq!(address["prefixlen"], 64, "{address}");

    let route = wait_for("the default route", Duration::from_secs(5), || {
        let routes = lab
            .host
            .ip_json(&["-6", "route", "show", "default", "dev", "h0"]);
        routes.as_array()?.first().cloned()
    });
    assert_eq!(route["gateway"], router.to_string(), "{route}");
    assert_eq!(route["protocol"], "ra", "{route}");
    assert_eq!(route["metric"], 512, "{route}");

    // The on-link route of the prefix carries the interface's metric too.
    let on_link = wait_for("the on-link route", Duration::from_secs(5), || {
        let routes = lab.host.ip_json(&[
            "-6",
            "route",
            "show",
            "2001:db8:1::/64",
            "dev",
            "h0",
            "proto",
            "ra",
        ]);
        routes.as_array()?.first().cloned()
    });
    assert_eq!(on_link["metric"], 512, "{on_link}");

    // No temporary addresses: the kernel is told not to make them, and
    // slaacctl says so.
    assert_eq!(lab.host.read_sysctl("h0", "use_tempaddr"), "0");
    let report = slaacd.show_json("h0");
    assert_eq!(report["interfaces"][0]["temporary"], false, "{report}");
    std::thread::sleep(Duration::from_millis(500));
    let addresses = global_addresses(&lab);
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    assert!(addresses[0].get("temporary").is_none(), "{addresses:?}");
    assert!(addresses[0].get("mngtmpaddr").is_none(), "{addresses:?}");
}

/// The daemon's cap of 3 routers for every interface, and h1's own of 1;
/// h0's own (2) comes from the command line.
const CAPS_CONFIG: &str = "\
max-routers 3
interface h1 {
\tmax-routers 1
}
";

/// The link-local sources of the routers crafted on the link of h`link`.
fn crafted_routers(link: u16) -> Vec<Ipv6Addr> {
    (1..=4)
        .map(|n| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, link, n))
        .collect()
}

/// What slaacctl shows of `interface`: its routers and how many
/// advertisements the router cap refused.
fn routers_and_refusals(slaacd: &Slaacd, interface: &str) -> (Vec<Ipv6Addr>, u64) {
    let report = slaacd.show_json(interface);
    let routers = report["interfaces"][0]["routers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|router| router["source"].as_str()?.parse().ok())
        .collect();
    let refused = slaacd
        .drops(interface)
        .get("routers-limit")
        .copied()
        .unwrap_or(0);
    (routers, refused)
}

/// The gateways of `interface`'s default routes in the kernel.
fn default_gateways(host: &Netns, interface: &str) -> Vec<Ipv6Addr> {
    kernel_view::routes_to(host, interface, "default")
        .into_iter()
        .filter_map(|route| route.gateway)
        .collect()
}

#[test]
fn two_interfaces_keep_as_many_routers_as_their_own_caps_allow() {
    let lab = Lab::new();
    lab.add_link("r1", "h1", "02:00:00:00:01:01", "02:00:00:00:01:02");
    let config = lab.dir.path().join("slaacd.conf");
    std::fs::write(&config, CAPS_CONFIG).expect("writing slaacd.conf");
    let config = config.to_str().expect("a UTF-8 path");
    let slaacd = Slaacd::start_with(
        &lab.host,
        lab.dir.path(),
        &["-v", "-f", config, "-o", "h0:max-routers=2"],
        &[],
    );
    // Taken over (accept_ra=0) before they come up: the kernel never
    // hears the crafted routers itself.
    slaacd.wait_answering(&["h0"]);
    slaacd.wait_answering(&["h1"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    lab.host.ip(&["link", "set", "h1", "up"]);
    let links = [("r0", "h0", 2_usize, 0_u16), ("r1", "h1", 1, 1)];
    let senders: Vec<RaSender> = links
        .iter()
        .map(|(router, ..)| RaSender::open(&lab.router, router).expect("opening a sender"))
        .collect();
    // Default routers only: no prefix, so the address caps play no part.
    let mut advert = advert_with_prefix("2001:db8:1::".parse().expect("a prefix"));
    advert.options.clear();

    // Every router of each link advertises until each interface holds its
    // cap and has refused the rest (the first advertisements may come
    // before the engine knows the interface is running).
    let settled = poll_until(Duration::from_secs(10), || {
        for (sender, (.., link)) in senders.iter().zip(links) {
            for source in crafted_routers(link) {
                sender
                    .send_advert(source, &advert)
                    .expect("sending an advertisement");
            }
        }
        std::thread::sleep(Duration::from_millis(100));
        links
            .iter()
            .all(|&(_, interface, cap, _)| {
                let (routers, refused) = routers_and_refusals(&slaacd, interface);
                routers.len() == cap && refused > 0
            })
            .then_some(())
    });
    let shown = |interface| routers_and_refusals(&slaacd, interface);
    assert!(
        settled.is_some(),
        "h0 (cap 2) shows {:?}, h1 (cap 1) shows {:?}; slaacd's log:\n{}",
        shown("h0"),
        shown("h1"),
        slaacd.log()
    );
    for (_, interface, cap, link) in links {
        let (routers, _) = shown(interface);
        assert_eq!(routers.len(), cap, "{interface}: {routers:?}");
        assert!(
            routers
                .iter()
                .all(|router| crafted_routers(link).contains(router)),
            "{interface}: {routers:?}"
        );
        // The kernel holds a default route through each router kept, and
        // none through those refused.
        let gateways = wait_for(
            &format!("{cap} default routes on {interface}"),
            Duration::from_secs(5),
            || {
                let mut gateways = default_gateways(&lab.host, interface);
                gateways.sort();
                (gateways.len() == cap).then_some(gateways)
            },
        );
        let mut kept = routers.clone();
        kept.sort();
        assert_eq!(gateways, kept, "{interface}");
    }
}
