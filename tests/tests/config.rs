//! A configuration file, end to end: slaacd started with `-f` on a file that
//! makes h0 use EUI-64 interface identifiers, metric 512 and no temporary
//! addresses, against radvd in network namespaces. The kernel shows the
//! EUI-64 address, routes with metric 512 and no temporary addresses, and
//! slaacctl reports them off.

use std::time::Duration;

use serde_json::Value;
use slaacd_tests::lab::Lab;
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::wait_for;

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
