//! RaTakeover and InterfaceSysctls against the real /proc/sys, each test in a
//! private network namespace (unshare(CLONE_NEWNET) on its own thread) with a
//! veth pair, so the machine's own interfaces are never touched. Needs root.

use std::process::Command;

use slaacd_parent::sysctl::{InterfaceSysctls, RaTakeover};

/// Runs `test` on a fresh thread inside a new network namespace that holds a
/// veth pair veth0/veth1.
fn in_private_netns(test: impl FnOnce() + Send + 'static) {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "these tests need root (network namespaces, sysctl writes)"
    );
    std::thread::spawn(move || {
        // SAFETY: unshare(CLONE_NEWNET) only moves this thread into a new
        // network namespace, which disappears with it.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ]);
        test();
    })
    .join()
    .expect("test thread panicked");
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {args:?} failed");
}

fn prepare(sysctls: &InterfaceSysctls) {
    sysctls.write("accept_ra", "2").unwrap();
    sysctls.write("autoconf", "1").unwrap();
}

fn values(sysctls: &InterfaceSysctls) -> (String, String) {
    (
        sysctls.read("accept_ra").unwrap(),
        sysctls.read("autoconf").unwrap(),
    )
}

fn owned(accept_ra: &str, autoconf: &str) -> (String, String) {
    (accept_ra.to_owned(), autoconf.to_owned())
}

#[test]
fn takeover_turns_ra_processing_off_and_drop_restores_it() {
    in_private_netns(|| {
        let sysctls = InterfaceSysctls::new("veth0").unwrap();
        prepare(&sysctls);
        let takeover = RaTakeover::take("veth0").unwrap();
        assert_eq!(takeover.interface(), "veth0");
        assert_eq!(values(&sysctls), owned("0", "0"));
        drop(takeover);
        assert_eq!(values(&sysctls), owned("2", "1"));
    });
}

#[test]
fn explicit_restore_puts_back_the_previous_values_once() {
    in_private_netns(|| {
        let sysctls = InterfaceSysctls::new("veth0").unwrap();
        sysctls.write("accept_ra", "1").unwrap();
        sysctls.write("autoconf", "0").unwrap();
        let takeover = RaTakeover::take("veth0").unwrap();
        assert_eq!(values(&sysctls), owned("0", "0"));
        takeover.restore().unwrap();
        assert_eq!(values(&sysctls), owned("1", "0"));
    });
}

#[test]
fn restoring_after_the_interface_vanished_is_not_an_error() {
    in_private_netns(|| {
        prepare(&InterfaceSysctls::new("veth0").unwrap());
        let takeover = RaTakeover::take("veth0").unwrap();
        ip(&["link", "del", "veth0"]);
        takeover.restore().unwrap();
    });
}

#[test]
fn taking_over_a_missing_interface_names_the_file() {
    in_private_netns(|| {
        let error = RaTakeover::take("nosuch0").unwrap_err();
        assert!(error.is_not_found());
        assert!(
            error
                .to_string()
                .contains("/proc/sys/net/ipv6/conf/nosuch0/accept_ra"),
            "{error}"
        );
    });
}

#[test]
fn reads_and_writes_other_named_sysctls() {
    in_private_netns(|| {
        let sysctls = InterfaceSysctls::new("veth0").unwrap();
        sysctls.write("hop_limit", "42").unwrap();
        assert_eq!(sysctls.read("hop_limit").unwrap(), "42");
        let error = sysctls.write("hop_limit", "not-a-number").unwrap_err();
        assert!(error.to_string().contains("veth0/hop_limit"), "{error}");
        assert!(!error.is_not_found());
    });
}
