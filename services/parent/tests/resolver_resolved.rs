//! The systemd-resolved backend of the resolver against a fake
//! systemd-resolved (`resolver_fakes/resolved.rs`): a private dbus-daemon
//! started for each test, on which the test serves the Manager object of
//! org.freedesktop.resolve1, recording every call and keeping each link's
//! settings as resolved would. Neither the system bus nor the machine's
//! resolver is touched, and the machine's /etc/resolv.conf is compared
//! before and after.

#[path = "resolver_fakes/resolved.rs"]
mod fake_resolved;
#[path = "resolver_fakes/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use fake_resolved::{Call, FakeResolved, PrivateBus, search, wire};
use slaacd_parent::resolver::{Backend, Bus, Resolver, ResolverError};
use support::{domains, machine_resolv_conf, servers};

#[tokio::test]
async fn configure_update_withdraw_and_shutdown_make_exactly_these_calls() {
    let before = machine_resolv_conf();
    let bus = PrivateBus::start();
    let fake = FakeResolved::serve(&bus);
    let resolver = Resolver::new(Backend::Resolved(bus.bus()));

    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["Example.COM."]),
        )
        .await
        .unwrap();
    assert_eq!(
        fake.calls(),
        vec![
            Call::SetLinkDns(
                2,
                vec![
                    (
                        10,
                        vec![
                            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53
                        ]
                    ),
                    (
                        10,
                        vec![0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53]
                    ),
                ]
            ),
            Call::SetLinkDomains(2, vec![("example.com".to_owned(), false)]),
        ]
    );

    // The same configuration again calls nothing.
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(fake.calls().len(), 2);

    // A server expired: only the server list is set again.
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(
        fake.calls()[2..],
        [Call::SetLinkDns(2, vec![wire("2001:db8::53")])]
    );
    // A new search domain: only the domain list is set again.
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53"]),
            &domains(&["example.com", "lab.example"]),
        )
        .await
        .unwrap();
    assert_eq!(
        fake.calls()[3..],
        [Call::SetLinkDomains(
            2,
            search(&["example.com", "lab.example"])
        )]
    );

    // A second link with search domains only.
    resolver
        .configure(3, "eth1", &[], &domains(&["lab.example"]))
        .await
        .unwrap();
    assert_eq!(
        fake.calls()[4..],
        [Call::SetLinkDomains(3, search(&["lab.example"]))]
    );

    // Everything on eth0 expired: the link is handed back to resolved.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(fake.calls()[5..], [Call::RevertLink(2)]);
    // Nothing to withdraw: nothing is called.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(fake.calls().len(), 6);
    assert_eq!(
        fake.links(),
        BTreeMap::from([(3, (vec![], search(&["lab.example"])))])
    );

    // The daemon stops: every link still configured is reverted, over the
    // connection the resolver has; dropping it afterwards calls nothing.
    resolver.withdraw_all().await;
    assert_eq!(fake.calls()[6..], [Call::RevertLink(3)]);
    assert!(fake.links().is_empty());
    drop(resolver);
    assert_eq!(fake.calls().len(), 7);
    assert_eq!(machine_resolv_conf(), before, "/etc/resolv.conf changed");
}

#[tokio::test]
async fn a_refusal_names_the_link_and_the_call_and_is_retried() {
    let bus = PrivateBus::start();
    let fake = FakeResolved::serve(&bus);
    fake.set_busy(7, true);
    let resolver = Resolver::new(Backend::Resolved(bus.bus()));

    let error = resolver
        .configure(7, "eth7", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(matches!(error, ResolverError::Resolved { .. }), "{error}");
    let message = error.to_string();
    for part in [
        "eth7",
        "SetLinkDNS",
        "link 7",
        "org.freedesktop.resolve1.LinkBusy",
    ] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }

    // Not recorded as applied: the next identical call tries again.
    fake.set_busy(7, false);
    resolver
        .configure(7, "eth7", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    assert_eq!(
        fake.calls(),
        vec![
            Call::SetLinkDns(7, vec![wire("2001:db8::53")]),
            Call::SetLinkDns(7, vec![wire("2001:db8::53")]),
        ]
    );
}

#[tokio::test]
async fn a_link_resolved_no_longer_knows_is_withdrawn_without_error() {
    let bus = PrivateBus::start();
    let fake = FakeResolved::serve(&bus);
    let resolver = Resolver::new(Backend::Resolved(bus.bus()));
    resolver
        .configure(9, "eth9", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    // The interface is removed: resolved forgets the link, and the engine
    // withdraws what it had.
    fake.set_gone(9);
    resolver.configure(9, "#9 (gone)", &[], &[]).await.unwrap();
    assert_eq!(fake.calls().last(), Some(&Call::RevertLink(9)));
    // Nothing is left to revert at shutdown.
    drop(resolver);
    assert_eq!(fake.calls().len(), 2);
}

#[tokio::test]
async fn an_unreachable_bus_is_an_error_naming_it_and_the_link() {
    let resolver = Resolver::new(Backend::Resolved(Bus::Address(
        "unix:path=/nonexistent/slaacd-test-bus".to_owned(),
    )));
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    let message = error.to_string();
    for part in ["eth0", "/nonexistent/slaacd-test-bus"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
}

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn connecting_starts_no_thread() {
    // The confined daemon may start no thread: the connection must not
    // need tokio's blocking threads (named tokio-rt-worker, or
    // tokio-runtime-worker shortened to 15 bytes by older tokio versions).
    let bus = PrivateBus::start();
    let _fake = FakeResolved::serve(&bus);
    let resolver = Resolver::new(Backend::Resolved(bus.bus()));
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    let names = thread_names();
    assert!(
        !names.iter().any(|name| name.starts_with("tokio-")),
        "{names:?}"
    );
    resolver.withdraw_all().await;
}

#[tokio::test]
async fn only_unix_path_addresses_are_used() {
    // Refused before anything is connected.
    let resolver = Resolver::new(Backend::Resolved(Bus::Address(
        "tcp:host=127.0.0.1,port=9".to_owned(),
    )));
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("only unix:path= addresses"),
        "{error}"
    );
}

#[test]
fn auto_picks_resolved_only_while_its_name_is_owned() {
    let bus = PrivateBus::start();
    let dir = bus.dir().join("detect");
    fs::create_dir_all(&dir).unwrap();
    let fallback = dir.join("resolv.conf");
    let program = dir.join("resolvconf");
    fs::write(&program, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
    let with_resolvconf = [program.as_path()];

    // Nobody owns org.freedesktop.resolve1 yet.
    assert_eq!(
        Backend::detect_in(&bus.bus(), &[], &fallback),
        Backend::File(fallback.clone())
    );
    assert_eq!(
        Backend::detect_in(&bus.bus(), &with_resolvconf, &fallback),
        Backend::Resolvconf(program.clone())
    );

    let _fake = FakeResolved::serve(&bus);
    assert_eq!(
        Backend::detect_in(&bus.bus(), &with_resolvconf, &fallback),
        Backend::Resolved(bus.bus())
    );

    // An unreachable bus is no resolved.
    let nowhere = Bus::Address("unix:path=/nonexistent/slaacd-test-bus".to_owned());
    assert_eq!(
        Backend::detect_in(&nowhere, &[], &fallback),
        Backend::File(fallback)
    );
}

#[tokio::test]
async fn detection_works_inside_a_runtime_too() {
    let bus = PrivateBus::start();
    let _fake = FakeResolved::serve(&bus);
    assert_eq!(
        Backend::detect_in(&bus.bus(), &[], Path::new("/nonexistent/resolv.conf")),
        Backend::Resolved(bus.bus())
    );
}

#[test]
fn the_option_names_resolved_and_its_bus() {
    assert_eq!(
        "resolved".parse::<Backend>().unwrap(),
        Backend::Resolved(Bus::System)
    );
    assert_eq!(
        "resolved=unix:path=/run/test/bus"
            .parse::<Backend>()
            .unwrap(),
        Backend::Resolved(Bus::Address("unix:path=/run/test/bus".to_owned()))
    );
    assert_eq!(
        Backend::Resolved(Bus::System).to_string(),
        "systemd-resolved (the system bus)"
    );
    let unknown = "resolve".parse::<Backend>().unwrap_err();
    assert!(unknown.contains("resolved[=ADDRESS]"), "{unknown}");
}

/// The index of `lo`, which every network namespace has; only read.
fn loopback_index() -> u32 {
    nix::net::if_::if_nametoindex("lo").expect("the index of lo")
}

#[tokio::test]
async fn a_killed_runs_links_are_reverted_at_the_next_start() {
    let before = machine_resolv_conf();
    let bus = PrivateBus::start();
    let fake = FakeResolved::serve(&bus);
    let lo = loopback_index();
    let lo_wire = i32::try_from(lo).unwrap();

    let previous = Resolver::new(Backend::Resolved(bus.bus()));
    previous
        .configure(
            lo,
            "lo",
            &servers(&["2001:db8::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    // SIGKILL: nothing is withdrawn.
    std::mem::forget(previous);
    assert_eq!(fake.links().len(), 1);
    let calls_before = fake.calls().len();

    let next = Resolver::new(Backend::Resolved(bus.bus()));
    next.clear_stale(&["lo".to_owned(), "slaacd-absent0".to_owned()])
        .await
        .unwrap();
    // The interface that does not exist has no link to revert.
    assert_eq!(fake.calls()[calls_before..], [Call::RevertLink(lo_wire)]);
    assert!(fake.links().is_empty());

    // What this run configured itself is not cleared.
    next.configure(lo, "lo", &servers(&["2001:db8::1"]), &[])
        .await
        .unwrap();
    next.clear_stale(&["lo".to_owned()]).await.unwrap();
    assert_eq!(
        fake.calls().last(),
        Some(&Call::SetLinkDns(lo_wire, vec![wire("2001:db8::1")]))
    );
    // Dropped without an orderly stop: the link is still reverted, from a
    // thread and runtime of its own (the caller's runtime is blocked).
    drop(next);
    assert_eq!(fake.calls().last(), Some(&Call::RevertLink(lo_wire)));
    assert_eq!(machine_resolv_conf(), before, "/etc/resolv.conf changed");
}

#[tokio::test]
async fn clearing_with_resolved_unreachable_names_the_interface_and_bus() {
    let resolver = Resolver::new(Backend::Resolved(Bus::Address(
        "unix:path=/nonexistent/slaacd-test-bus".to_owned(),
    )));
    let error = resolver.clear_stale(&["lo".to_owned()]).await.unwrap_err();
    let message = error.to_string();
    for part in ["lo", "/nonexistent/slaacd-test-bus"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
}
