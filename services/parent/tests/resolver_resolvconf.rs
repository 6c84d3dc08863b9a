//! The resolvconf(8) backend of the resolver against a fake `resolvconf`: a
//! shell script written into a private temporary directory that records its
//! arguments and keeps each added record as a file, as resolvconf keeps its
//! interface records. The real resolvconf is never run, so the machine's
//! /etc/resolv.conf cannot change (the clearing test checks it anyway).

#[path = "resolver_fakes/resolvconf.rs"]
mod fake_resolvconf;

use std::fs;
use std::net::Ipv6Addr;
use std::path::Path;

use fake_resolvconf::FakeResolvconf;
use slaacd_parent::resolver::{Backend, Resolver, ResolverError};

const HEADER: &str = "# Written by slaacd from Router Advertisements (RDNSS, DNSSL).\n";

fn servers(list: &[&str]) -> Vec<Ipv6Addr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn domains(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn resolver(fake: &FakeResolvconf) -> Resolver {
    Resolver::new(Backend::Resolvconf(fake.program()))
}

#[tokio::test]
async fn each_interface_is_one_record_added_and_deleted() {
    let fake = FakeResolvconf::new("");
    let resolver = resolver(&fake);
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(fake.calls(), vec!["-a eth0.slaacd"]);
    assert_eq!(
        fake.record("eth0.slaacd").unwrap(),
        format!("{HEADER}nameserver 2001:db8::53\nnameserver fe80::53%eth0\nsearch example.com\n")
    );

    // The same configuration again runs nothing.
    resolver
        .configure(
            2,
            "eth0",
            &servers(&["2001:db8::53", "fe80::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    assert_eq!(fake.calls().len(), 1);

    resolver
        .configure(3, "eth1", &[], &domains(&["lab.example"]))
        .await
        .unwrap();
    assert_eq!(
        fake.record("eth1.slaacd").unwrap(),
        format!("{HEADER}search lab.example\n")
    );

    // Expiry on eth0: empty lists delete its record only.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(fake.calls().last().unwrap(), "-d eth0.slaacd");
    assert_eq!(fake.record("eth0.slaacd"), None);
    assert!(fake.record("eth1.slaacd").is_some());
    // Nothing to withdraw: nothing runs.
    resolver.configure(2, "eth0", &[], &[]).await.unwrap();
    assert_eq!(fake.calls().len(), 3);

    // The daemon stops: every remaining record is deleted.
    drop(resolver);
    assert_eq!(fake.calls().last().unwrap(), "-d eth1.slaacd");
    assert_eq!(fake.records(), 0);
}

#[tokio::test]
async fn a_renamed_interface_moves_its_record() {
    let fake = FakeResolvconf::new("");
    let resolver = resolver(&fake);
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    resolver
        .configure(2, "lan0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    assert_eq!(
        fake.calls(),
        vec!["-a eth0.slaacd", "-d eth0.slaacd", "-a lan0.slaacd"]
    );
    assert_eq!(fake.records(), 1);
    assert!(fake.record("lan0.slaacd").is_some());
}

#[tokio::test]
async fn a_failing_resolvconf_is_reported_and_retried() {
    let fake = FakeResolvconf::new(
        "if [ -e \"$(dirname \"$0\")/fail\" ]; then echo 'no space left' >&2; exit 3; fi",
    );
    fs::write(fake.dir.join("fail"), "").unwrap();
    let resolver = resolver(&fake);
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(matches!(error, ResolverError::Resolvconf { .. }), "{error}");
    let message = error.to_string();
    for part in ["eth0", "no space left", "-a", "resolvconf"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    // Not recorded as applied: the next identical call tries again.
    fs::remove_file(fake.dir.join("fail")).unwrap();
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    assert!(fake.record("eth0.slaacd").is_some());
}

#[tokio::test]
async fn a_missing_program_is_an_error_naming_it() {
    let resolver = Resolver::new(Backend::Resolvconf(
        Path::new("/nonexistent/resolvconf").into(),
    ));
    let error = resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/resolvconf"),
        "{error}"
    );
}

#[tokio::test]
async fn a_killed_runs_records_are_deleted_at_the_next_start() {
    let machine_before = fs::read("/etc/resolv.conf").ok();
    let fake = FakeResolvconf::new("");
    let previous = resolver(&fake);
    previous
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    previous
        .configure(3, "eth1", &[], &domains(&["lab.example"]))
        .await
        .unwrap();
    // SIGKILL: nothing is withdrawn.
    std::mem::forget(previous);
    assert_eq!(fake.records(), 2);

    let next = resolver(&fake);
    next.clear_stale(&["eth0".to_owned(), "eth1".to_owned(), "eth2".to_owned()])
        .await
        .unwrap();
    // Each managed interface's record, whether or not one is left: `-f`
    // makes a missing one no error.
    assert_eq!(
        fake.calls()[2..],
        [
            "-d eth0.slaacd -f",
            "-d eth1.slaacd -f",
            "-d eth2.slaacd -f"
        ]
    );
    assert_eq!(fake.records(), 0);

    // What this run configured itself is kept by a later clearing.
    next.configure(2, "eth0", &servers(&["2001:db8::1"]), &[])
        .await
        .unwrap();
    next.clear_stale(&["eth0".to_owned()]).await.unwrap();
    assert_eq!(fake.calls().last().unwrap(), "-a eth0.slaacd");
    assert!(fake.record("eth0.slaacd").is_some());
    assert_eq!(
        fs::read("/etc/resolv.conf").ok(),
        machine_before,
        "the machine's /etc/resolv.conf changed"
    );
}

#[tokio::test]
async fn a_failed_clearing_names_the_record_and_the_others_are_still_tried() {
    let fake =
        FakeResolvconf::new("if [ \"$2\" = eth0.slaacd ]; then echo 'locked' >&2; exit 1; fi");
    let resolver = resolver(&fake);
    let error = resolver
        .clear_stale(&["eth0".to_owned(), "eth1".to_owned()])
        .await
        .unwrap_err();
    let message = error.to_string();
    for part in ["eth0.slaacd", "-d", "locked"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    assert_eq!(fake.calls(), vec!["-d eth1.slaacd -f"]);
}

#[tokio::test]
async fn an_orderly_stop_deletes_every_record() {
    let fake = FakeResolvconf::new("");
    let resolver = resolver(&fake);
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    resolver
        .configure(3, "eth1", &servers(&["2001:db8:1::53"]), &[])
        .await
        .unwrap();
    resolver.withdraw_all().await;
    assert_eq!(fake.calls()[2..], ["-d eth0.slaacd", "-d eth1.slaacd"]);
    assert_eq!(fake.records(), 0);
    // Nothing is left for dropping the resolver to delete.
    drop(resolver);
    assert_eq!(fake.calls().len(), 4);
}
