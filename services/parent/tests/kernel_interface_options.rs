//! Per-interface options of the kernel writer (slaacd.conf's `metric` and
//! `temporary-addresses`) against the real kernel, in a private network
//! namespace with a veth pair: each interface's routes carry its own metric
//! and are refreshed and withdrawn by it, and only the interface with
//! kernel-made temporary addresses gets IFA_F_MANAGETEMPADDR. Needs root.

mod common;

use common::{connect, in_private_netns, ip};

use slaacd_core::{AddressProposal, DefaultRouteProposal, RouteVia, RouterPreference};
use slaacd_parent::kernel::{InterfaceOptions, KernelWriter, RouteKey};

const DEFAULT_METRIC: u32 = 1024;
const VETH1_METRIC: u32 = 512;

/// The metrics of the routes `ip -6 route show SELECTOR` lists, one route a
/// line ("... metric N ...").
fn route_metrics(selector: &[&str]) -> Vec<u32> {
    let mut args = vec!["-6", "route", "show"];
    args.extend_from_slice(selector);
    ip(&args)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|word| *word == "metric")?;
            words.next()?.parse().ok()
        })
        .collect()
}

fn default_route_metrics(dev: &str) -> Vec<u32> {
    route_metrics(&["default", "dev", dev, "proto", "ra"])
}

fn on_link_route_metrics(dev: &str) -> Vec<u32> {
    route_metrics(&["2001:db8:7::/64", "dev", dev, "proto", "ra"])
}

/// Whether `address` on `dev` carries the mngtmpaddr flag (`ip addr` prints
/// the flags on the address's line).
fn manages_temporary_addresses(dev: &str, address: &str) -> bool {
    let shown = ip(&["-6", "addr", "show", "dev", dev]);
    let line = shown
        .lines()
        .find(|line| line.contains(&format!("inet6 {address}/")))
        .unwrap_or_else(|| panic!("{address} is not on {dev}:\n{shown}"));
    line.contains("mngtmpaddr")
}

#[test]
fn each_interface_gets_its_own_metric_and_temporary_address_choice() {
    in_private_netns(async |veth0| {
        let veth1 = nix::net::if_::if_nametoindex("veth1").expect("index of veth1");
        let writer = KernelWriter::new(connect(), DEFAULT_METRIC)
            .unwrap()
            .with_kernel_temporary_addresses(true)
            .with_interface(
                "veth1",
                InterfaceOptions {
                    route_metric: VETH1_METRIC,
                    kernel_temporary_addresses: false,
                },
            );

        for (index, address) in [(veth0, "2001:db8:7::10"), (veth1, "2001:db8:7::11")] {
            writer
                .configure_address(&AddressProposal {
                    index,
                    address: address.parse().unwrap(),
                    prefix_len: 64,
                    valid_lifetime: 600,
                    preferred_lifetime: 300,
                    temporary: false,
                })
                .await
                .unwrap();
            let route = DefaultRouteProposal {
                index,
                router: "fe80::1".parse().unwrap(),
                lifetime: 600,
                preference: RouterPreference::Medium,
            };
            writer.configure_default_route(&route).await.unwrap();
            // A refresh finds the route by its metric and adds no second one.
            writer.configure_default_route(&route).await.unwrap();
            let on_link = RouteKey {
                index,
                prefix: "2001:db8:7::".parse().unwrap(),
                prefix_len: 64,
                via: RouteVia::OnLink,
            };
            writer
                .configure_route(&on_link, 600, RouterPreference::Medium)
                .await
                .unwrap();
        }

        assert_eq!(default_route_metrics("veth0"), [DEFAULT_METRIC]);
        assert_eq!(default_route_metrics("veth1"), [VETH1_METRIC]);
        assert_eq!(on_link_route_metrics("veth0"), [DEFAULT_METRIC]);
        assert_eq!(on_link_route_metrics("veth1"), [VETH1_METRIC]);
        assert!(manages_temporary_addresses("veth0", "2001:db8:7::10"));
        assert!(!manages_temporary_addresses("veth1", "2001:db8:7::11"));

        // Withdrawing finds the route by the interface's metric.
        writer
            .withdraw_default_route(veth1, "fe80::1".parse().unwrap())
            .await
            .unwrap();
        writer
            .withdraw_route(&RouteKey {
                index: veth1,
                prefix: "2001:db8:7::".parse().unwrap(),
                prefix_len: 64,
                via: RouteVia::OnLink,
            })
            .await
            .unwrap();
        assert_eq!(default_route_metrics("veth1"), Vec::<u32>::new());
        assert_eq!(on_link_route_metrics("veth1"), Vec::<u32>::new());
        assert_eq!(default_route_metrics("veth0"), [DEFAULT_METRIC]);
    });
}
