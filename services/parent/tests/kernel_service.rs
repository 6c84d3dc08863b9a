//! The parent's `Kernel` capability driven alone over Cap'n Proto, as the
//! engine drives it: route, MTU, link-parameter and DNS calls appear in the
//! kernel (a private network namespace made with unshare(CLONE_NEWNET) on the
//! test's thread, with a veth pair) and in a resolver file in a temporary
//! directory; withdrawals remove them; bad proposals are refused with an
//! error naming what was wrong, and change nothing. Needs root.

mod common;

use common::{connect, in_private_netns, ip};
use std::net::Ipv6Addr;
use std::path::PathBuf;

use slaacd_ipc::convert::write_ip6;
use slaacd_ipc::slaacd_capnp::{RouterPreference, kernel, route_key};
use slaacd_parent::kernel::KernelWriter;
use slaacd_parent::kernel_service::KernelService;
use slaacd_parent::resolver::{Backend, Resolver};
use slaacd_parent::sysctl::InterfaceSysctls;

/// Runs `test` with a `Kernel` client for the managed interface veth0 (veth1
/// exists but is not managed), on a fresh thread inside a new network
/// namespace; DNS goes to a file under a temporary directory.
fn with_kernel(test: impl AsyncFnOnce(kernel::Client, u32, PathBuf) + Send + 'static) {
    in_private_netns(async move |index| {
        let dir = RemovedOnDrop(std::env::temp_dir().join(format!(
            "slaacd-kernel-service-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        )));
        let resolv_conf = dir.0.join("resolv.conf");
        let writer = KernelWriter::new(connect(), 1024).unwrap();
        let service = KernelService::with_resolver(
            writer,
            vec!["veth0".to_owned()],
            std::rc::Rc::new(Resolver::new(Backend::File(resolv_conf.clone()))),
        );
        let client: kernel::Client = capnp_rpc::new_client(service);
        test(client, index, resolv_conf).await;
    });
}

/// A temporary directory, removed even when the test fails.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fill_key(
    mut key: route_key::Builder<'_>,
    index: u32,
    prefix: &str,
    prefix_len: u8,
    router: Option<&str>,
) {
    key.set_if_index(index);
    write_ip6(key.reborrow().init_prefix(), prefix.parse().unwrap());
    key.set_prefix_length(prefix_len);
    match router {
        None => key.init_via().set_on_link(()),
        Some(router) => write_ip6(key.init_via().init_router(), router.parse().unwrap()),
    }
}

async fn configure_route(
    kernel: &kernel::Client,
    index: u32,
    prefix: &str,
    prefix_len: u8,
    router: Option<&str>,
) -> Result<(), capnp::Error> {
    let mut request = kernel.configure_route_request();
    let mut route = request.get().init_route();
    fill_key(
        route.reborrow().init_key(),
        index,
        prefix,
        prefix_len,
        router,
    );
    route.set_lifetime(600);
    route.set_preference(RouterPreference::High);
    request.send().promise.await.map(drop)
}

async fn withdraw_route(
    kernel: &kernel::Client,
    index: u32,
    prefix: &str,
    prefix_len: u8,
    router: Option<&str>,
) -> Result<(), capnp::Error> {
    let mut request = kernel.withdraw_route_request();
    fill_key(request.get().init_key(), index, prefix, prefix_len, router);
    request.send().promise.await.map(drop)
}

fn routes_to(prefix: &str) -> String {
    ip(&["-6", "route", "show", prefix])
}

fn refused(result: Result<(), capnp::Error>, mentions: &str) {
    let error = result.expect_err("the call was accepted");
    let text = error.to_string();
    assert!(
        text.contains("refused") && text.contains(mentions),
        "{mentions} missing from: {text}"
    );
}

#[test]
fn routes_are_applied_and_withdrawn() {
    with_kernel(async |kernel, index, _| {
        configure_route(&kernel, index, "2001:db8:1::", 64, None)
            .await
            .unwrap();
        let on_link = routes_to("2001:db8:1::/64");
        assert!(
            on_link.contains("dev veth0 proto ra metric 1024"),
            "{on_link}"
        );
        configure_route(&kernel, index, "2001:db8:100::", 48, Some("fe80::1"))
            .await
            .unwrap();
        let specific = routes_to("2001:db8:100::/48");
        assert!(
            specific.contains("nhid") && specific.contains("pref high"),
            "{specific}"
        );

        withdraw_route(&kernel, index, "2001:db8:1::", 64, None)
            .await
            .unwrap();
        withdraw_route(&kernel, index, "2001:db8:100::", 48, Some("fe80::1"))
            .await
            .unwrap();
        assert_eq!(routes_to("2001:db8:1::/64"), "");
        assert_eq!(routes_to("2001:db8:100::/48"), "");
    });
}

#[test]
fn bad_route_proposals_are_refused() {
    with_kernel(async |kernel, index, _| {
        let unmanaged = nix::net::if_::if_nametoindex("veth1").unwrap();
        refused(
            configure_route(&kernel, unmanaged, "2001:db8:1::", 64, None).await,
            "veth1",
        );
        refused(
            configure_route(&kernel, index, "2001:db8:1::", 64, Some("2001:db8::1")).await,
            "2001:db8::1",
        );
        refused(configure_route(&kernel, index, "::", 0, None).await, "::/0");
        refused(
            configure_route(&kernel, index, "fe80::", 64, None).await,
            "fe80::/64",
        );
        refused(
            configure_route(&kernel, index, "2001:db8::", 129, None).await,
            "/129",
        );
        assert_eq!(ip(&["-6", "route", "show", "proto", "ra"]), "");
    });
}

#[test]
fn mtu_and_link_parameters_are_applied_within_bounds() {
    with_kernel(async |kernel, index, _| {
        let sysctls = InterfaceSysctls::new("veth0").unwrap();
        let neighbour = InterfaceSysctls::neighbour("veth0").unwrap();
        let set_mtu = async |mtu: u32| {
            let mut request = kernel.configure_mtu_request();
            request.get().set_if_index(index);
            request.get().set_mtu(mtu);
            request.send().promise.await.map(drop)
        };
        set_mtu(1400).await.unwrap();
        assert_eq!(sysctls.read("mtu").unwrap(), "1400");
        // Above the link MTU (1500): refused, as the kernel's RA code does.
        refused(set_mtu(9000).await, "above its link MTU 1500");
        assert_eq!(sysctls.read("mtu").unwrap(), "1400");
        refused(set_mtu(1000).await, "1000");
        assert_eq!(sysctls.read("mtu").unwrap(), "1400");

        let set_parameters = async |hop_limit: u8, reachable: u32, retrans: u32| {
            let mut request = kernel.configure_link_parameters_request();
            let mut p = request.get().init_parameters();
            p.set_if_index(index);
            p.set_cur_hop_limit(hop_limit);
            p.set_reachable_time(reachable);
            p.set_retrans_timer(retrans);
            request.send().promise.await.map(drop)
        };
        set_parameters(42, 45_000, 2_500).await.unwrap();
        assert_eq!(sysctls.read("hop_limit").unwrap(), "42");
        assert_eq!(neighbour.read("base_reachable_time_ms").unwrap(), "45000");
        assert_eq!(neighbour.read("retrans_time_ms").unwrap(), "2500");
        // Zeros leave everything as it is.
        set_parameters(0, 0, 0).await.unwrap();
        assert_eq!(sysctls.read("hop_limit").unwrap(), "42");
        assert_eq!(neighbour.read("retrans_time_ms").unwrap(), "2500");
        refused(set_parameters(64, 3_600_001, 0).await, "3600001");
        assert_eq!(sysctls.read("hop_limit").unwrap(), "42");
    });
}

#[test]
fn dns_is_applied_and_withdrawn() {
    with_kernel(async |kernel, index, resolv_conf| {
        let set_dns = async |servers: &[&str], domains: &[&str]| {
            let mut request = kernel.configure_dns_request();
            request.get().set_if_index(index);
            let mut list = request.get().init_servers(servers.len() as u32);
            for (at, server) in (0..).zip(servers) {
                write_ip6(list.reborrow().get(at), server.parse::<Ipv6Addr>().unwrap());
            }
            let mut list = request.get().init_search_domains(domains.len() as u32);
            for (at, domain) in (0..).zip(domains) {
                list.set(at, *domain);
            }
            request.send().promise.await.map(drop)
        };
        set_dns(&["2001:db8::53"], &["lab.example"]).await.unwrap();
        let text = std::fs::read_to_string(&resolv_conf).unwrap();
        assert!(
            text.contains("nameserver 2001:db8::53\nsearch lab.example\n"),
            "{text}"
        );
        let injected = set_dns(&["2001:db8::53"], &["lab.example nameserver"]).await;
        assert!(injected.unwrap_err().to_string().contains("veth0"));
        set_dns(&[], &[]).await.unwrap();
        let text = std::fs::read_to_string(&resolv_conf).unwrap();
        assert!(!text.contains("nameserver"), "{text}");
    });
}

#[test]
fn dns_of_a_removed_interface_can_still_be_withdrawn() {
    with_kernel(async |kernel, index, resolv_conf| {
        let set_dns = async |servers: &[&str]| {
            let mut request = kernel.configure_dns_request();
            request.get().set_if_index(index);
            let mut list = request.get().init_servers(servers.len() as u32);
            for (at, server) in (0..).zip(servers) {
                write_ip6(list.reborrow().get(at), server.parse::<Ipv6Addr>().unwrap());
            }
            request.send().promise.await.map(drop)
        };
        set_dns(&["2001:db8::53"]).await.unwrap();
        ip(&["link", "del", "veth0"]);
        // Nothing new may be configured for it...
        refused(
            set_dns(&["2001:db8::54"]).await,
            &format!("interface {index}"),
        );
        // ...but what it had goes.
        set_dns(&[]).await.unwrap();
        let text = std::fs::read_to_string(&resolv_conf).unwrap();
        assert!(!text.contains("nameserver"), "{text}");
    });
}
