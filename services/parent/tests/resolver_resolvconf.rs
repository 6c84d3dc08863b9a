//! The resolvconf(8) backend of the resolver against a fake `resolvconf`: a
//! shell script written into a private directory beneath /run/resolvconf
//! that records its arguments and keeps each added record as a file, as
//! resolvconf keeps its interface records. It runs in the real resolvconf
//! helper, started from this package's slaacd binary and confined as in the
//! daemon; the tests also look at the helper from outside (/proc) and kill
//! it. The real resolvconf is never run, so the machine's /etc/resolv.conf
//! cannot change (the clearing test checks it anyway).

#[path = "resolver_fakes/resolvconf.rs"]
mod fake_resolvconf;
#[path = "resolver_fakes/support.rs"]
mod support;

use std::fs;
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use fake_resolvconf::FakeResolvconf;
use slaacd_parent::resolver::{Backend, HelperCommand, Resolver, ResolverError};
use slaacd_sandbox::Violation;
use support::{HEADER, domains, machine_resolv_conf, servers};

/// The resolvconf helper as the daemon starts it (confined, violations kill), from the slaacd
/// binary of this package, logging to the test's stderr.
fn helper_command() -> HelperCommand {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "the resolvconf tests need root: the helper drops its capabilities and confines itself"
    );
    HelperCommand {
        executable: env!("CARGO_BIN_EXE_slaacd").into(),
        foreground: true,
        verbose: 0,
        violation: Violation::Kill,
    }
}

async fn resolver_for(program: &Path) -> Resolver {
    Resolver::start(Backend::Resolvconf(program.to_owned()), &helper_command())
        .await
        .unwrap()
}

async fn resolver(fake: &FakeResolvconf) -> Resolver {
    resolver_for(&fake.program()).await
}

#[tokio::test]
async fn each_interface_is_one_record_added_and_deleted() {
    let fake = FakeResolvconf::new("");
    let resolver = resolver(&fake).await;
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
    let resolver = resolver(&fake).await;
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
    fs::write(fake.dir().join("fail"), "").unwrap();
    let resolver = resolver(&fake).await;
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
    fs::remove_file(fake.dir().join("fail")).unwrap();
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    assert!(fake.record("eth0.slaacd").is_some());
}

#[tokio::test]
async fn a_missing_program_is_an_error_naming_it() {
    let fake = FakeResolvconf::new("");
    let missing = fake.dir().join("nonexistent").join("resolvconf");
    let resolver = resolver_for(&missing).await;
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
    let machine_before = machine_resolv_conf();
    let fake = FakeResolvconf::new("");
    let previous = resolver(&fake).await;
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

    let next = resolver(&fake).await;
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
        machine_resolv_conf(),
        machine_before,
        "the machine's /etc/resolv.conf changed"
    );
}

#[tokio::test]
async fn a_failed_clearing_names_the_record_and_the_others_are_still_tried() {
    let fake =
        FakeResolvconf::new("if [ \"$2\" = eth0.slaacd ]; then echo 'locked' >&2; exit 1; fi");
    let resolver = resolver(&fake).await;
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
    let resolver = resolver(&fake).await;
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

/// A field of /proc/PID/status, split on white space.
fn status_field(pid: &str, key: &str) -> Vec<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status:\n{status}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The fake records the helper's pid (its parent) and what the helper's confinement lets it
/// do: read /etc, but not write outside resolvconf's state.
const PROBE: &str = "echo $PPID > \"$(dirname \"$0\")/helper\"; \
     if cat /etc/hostname > /dev/null; then echo read-etc >> \"$(dirname \"$0\")/probe\"; fi; \
     if echo x > /tmp/slaacd-helper-escape-$$ 2> /dev/null; then \
         rm -f /tmp/slaacd-helper-escape-$$; echo wrote-tmp >> \"$(dirname \"$0\")/probe\"; fi";

#[tokio::test]
async fn the_helper_runs_resolvconf_as_root_without_capabilities_and_confined() {
    let fake = FakeResolvconf::new(PROBE);
    let resolver = resolver(&fake).await;
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    // Root-owned files in a root-owned directory: no capability is needed to write them.
    assert!(fake.record("eth0.slaacd").is_some());
    assert_eq!(
        fs::read_to_string(fake.dir().join("probe")).unwrap(),
        "read-etc\n",
        "the helper's Landlock let resolvconf write outside its state"
    );
    let pid = fs::read_to_string(fake.dir().join("helper")).unwrap();
    let pid = pid.trim();
    assert_ne!(
        pid,
        std::process::id().to_string(),
        "resolvconf ran in the test"
    );
    assert_eq!(status_field(pid, "Seccomp"), ["2"]);
    assert_eq!(status_field(pid, "NoNewPrivs"), ["1"]);
    assert_eq!(status_field(pid, "Uid"), ["0", "0", "0", "0"]);
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(status_field(pid, set), ["0000000000000000"], "{set}");
    }
}

#[tokio::test]
async fn a_helper_that_dies_is_reported_and_fails_every_request() {
    let fake = FakeResolvconf::new(PROBE);
    let resolver = resolver(&fake).await;
    resolver
        .configure(2, "eth0", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap();
    let pid: i32 = fs::read_to_string(fake.dir().join("helper"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let exit = tokio::time::timeout(std::time::Duration::from_secs(5), resolver.helper_exited())
        .await
        .expect("the helper's death was not noticed");
    assert_eq!(u32::try_from(pid).unwrap(), exit.pid);
    assert_eq!(
        exit.to_string(),
        format!("the resolvconf helper (pid {pid}) was killed by SIGKILL")
    );
    let error = resolver
        .configure(3, "eth1", &servers(&["2001:db8::53"]), &[])
        .await
        .unwrap_err();
    let message = error.to_string();
    for part in ["eth1", "resolvconf helper", "-a"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
}

#[tokio::test]
async fn a_helper_that_cannot_start_is_reported_at_once() {
    let command = HelperCommand {
        executable: "/nonexistent/slaacd".into(),
        ..helper_command()
    };
    let Err(error) =
        Resolver::start(Backend::Resolvconf("/usr/sbin/resolvconf".into()), &command).await
    else {
        panic!("a helper from a missing executable started");
    };
    assert!(matches!(error, ResolverError::Helper(_)), "{error}");
    assert!(error.to_string().contains("/nonexistent/slaacd"), "{error}");
}

#[tokio::test]
async fn a_caller_that_gives_up_leaves_the_helper_in_step() {
    let fake = FakeResolvconf::new("if [ \"$2\" = eth0.slaacd ]; then sleep 1; fi");
    let resolver = resolver(&fake).await;
    let cut_short = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        resolver.configure(2, "eth0", &servers(&["2001:db8::53"]), &[]),
    )
    .await;
    assert!(cut_short.is_err(), "resolvconf did not take its second");
    // The next request waits for the first answer and then gets its own.
    resolver
        .configure(3, "eth1", &servers(&["2001:db8:1::53"]), &[])
        .await
        .unwrap();
    assert_eq!(fake.calls(), ["-a eth0.slaacd", "-a eth1.slaacd"]);
    assert!(
        fake.record("eth1.slaacd")
            .unwrap()
            .contains("2001:db8:1::53")
    );
}

/// How long the fake resolvconf of the cut-off tests takes to add a record.
const SLOW_ADD: std::time::Duration = std::time::Duration::from_secs(1);

/// Polls `change` for `started`, then forgets it without dropping it, as an
/// engine call is left when the daemon stops: neither resumed nor dropped.
async fn cut_off(change: impl Future<Output = Result<(), ResolverError>>, started: Duration) {
    let mut change = Box::pin(change);
    let ended = tokio::time::timeout(started, &mut change).await;
    assert!(ended.is_err(), "the change ended within {started:?}");
    std::mem::forget(change);
}

#[tokio::test]
async fn a_change_whose_caller_is_cut_off_still_ends_and_the_stop_withdraws_it() {
    let fake = FakeResolvconf::new("if [ \"$1\" = -a ]; then sleep 1; fi");
    let resolver = resolver(&fake).await;
    let dns = servers(&["2001:db8::53"]);
    // It starts, and its caller never comes back to it.
    cut_off(
        resolver.configure(2, "eth0", &dns, &[]),
        Duration::from_millis(100),
    )
    .await;
    let stopping = Instant::now();
    tokio::time::timeout(SLOW_ADD * 5, resolver.withdraw_all())
        .await
        .expect("the withdrawal waited for the change cut off half-way");
    // It waited for the change to end, and no longer than that.
    assert!(
        stopping.elapsed() < SLOW_ADD * 2,
        "{:?}",
        stopping.elapsed()
    );
    assert_eq!(fake.calls(), ["-a eth0.slaacd", "-d eth0.slaacd"]);
    assert_eq!(fake.records(), 0);
}

#[tokio::test]
async fn a_change_cut_off_while_it_waits_for_another_does_not_hold_up_the_stop() {
    let fake = FakeResolvconf::new("if [ \"$1\" = -a ]; then sleep 1; fi");
    let resolver = resolver(&fake).await;
    let (first, second) = (servers(&["2001:db8::53"]), servers(&["2001:db8:1::53"]));
    // The first holds the resolver; the second waits behind it. Neither
    // caller comes back.
    cut_off(
        resolver.configure(2, "eth0", &first, &[]),
        Duration::from_millis(100),
    )
    .await;
    cut_off(
        resolver.configure(3, "eth1", &second, &[]),
        Duration::from_millis(10),
    )
    .await;
    let stopping = Instant::now();
    tokio::time::timeout(SLOW_ADD * 6, resolver.withdraw_all())
        .await
        .expect("the withdrawal waited for a change cut off while waiting");
    assert!(
        stopping.elapsed() < SLOW_ADD * 3,
        "{:?}",
        stopping.elapsed()
    );
    assert_eq!(
        fake.calls(),
        [
            "-a eth0.slaacd",
            "-a eth1.slaacd",
            "-d eth0.slaacd",
            "-d eth1.slaacd"
        ]
    );
    assert_eq!(fake.records(), 0);
}
