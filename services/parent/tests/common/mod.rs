//! What the kernel tests of the parent share: a private network namespace
//! with a veth pair to work in, `ip`, and a netlink handle.

use std::process::Command;

/// Runs `test` on a fresh thread inside a new, empty network namespace with
/// `lo` up and a veth pair veth0/veth1 up, passing veth0's index.
pub fn in_private_netns(test: impl AsyncFnOnce(u32) + Send + 'static) {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "these tests need root (network namespaces, netlink and sysctl writes)"
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
        ip(&["link", "set", "lo", "up"]);
        ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ]);
        ip(&["link", "set", "veth1", "up"]);
        ip(&["link", "set", "veth0", "up"]);
        wait_operational("veth0");
        let index = nix::net::if_::if_nametoindex("veth0").expect("index of veth0");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // A LocalSet, so that Cap'n Proto services (not Send) can run too.
        tokio::task::LocalSet::new().block_on(&runtime, test(index));
    })
    .join()
    .expect("test thread panicked");
}

/// Waits until the kernel's link watch has seen `interface`'s carrier. Until
/// then a test races its late "link up" handling, which among other things
/// resets the IPv6 MTU to the link's.
pub fn wait_operational(interface: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !ip(&["-o", "link", "show", "dev", interface]).contains("state UP") {
        assert!(
            std::time::Instant::now() < deadline,
            "{interface} did not come up within 5 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Runs `ip ARGS` in the current namespace; panics with its stderr on failure.
pub fn ip(args: &[&str]) -> String {
    let output = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        output.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A netlink handle whose connection runs on the current runtime.
pub fn connect() -> rtnetlink::Handle {
    let (connection, handle, _) = rtnetlink::new_connection().unwrap();
    tokio::spawn(connection);
    handle
}
