//! Test network for the frontend's socket tests: two network namespaces, a
//! "host" (where the code under test runs) and a "peer", joined by a veth
//! pair `h0` <-> `p0`, plus the peer-side listeners that check what the host
//! sent. Never touches the machine's own namespace: everything lives in the
//! two namespaces, which are deleted when the `TestNet` is dropped.

#![allow(dead_code, reason = "each test crate uses its own part of this module")]

use std::ffi::CString;
use std::fs::File;
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Host side hardware address (h0).
pub const HOST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// Peer side hardware address (p0).
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

static NEXT_NET: AtomicU32 = AtomicU32::new(0);

/// Fails the test with a clear message when not run as root.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test creates network namespaces and raw sockets: run it as root"
    );
}

/// Which of the two namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Host,
    Peer,
}

/// Two namespaces and the veth pair between them.
pub struct TestNet {
    host: String,
    peer: String,
}

impl TestNet {
    /// Creates the namespaces (named `tag`, pid and a counter, so parallel
    /// tests and other users of the machine never collide) and the veth
    /// pair, both ends down, loopbacks up.
    pub fn new(tag: &str) -> TestNet {
        require_root();
        let number = NEXT_NET.fetch_add(1, Ordering::Relaxed);
        let base = format!("fe-{tag}-{}-{number}", std::process::id());
        let net = TestNet {
            host: format!("{base}-h"),
            peer: format!("{base}-p"),
        };
        // `net` exists before the namespaces do, so that whatever part of
        // the set-up fails, Drop removes what was made.
        run(&["ip", "netns", "add", &net.host]);
        run(&["ip", "netns", "add", &net.peer]);
        run(&[
            "ip",
            "-n",
            &net.host,
            "link",
            "add",
            "h0",
            "address",
            &mac_text(HOST_MAC),
            "type",
            "veth",
            "peer",
            "name",
            "p0",
            "netns",
            &net.peer,
            "address",
            &mac_text(PEER_MAC),
        ]);
        net.ip(Side::Host, "link set lo up");
        net.ip(Side::Peer, "link set lo up");
        net
    }

    /// The namespace's name.
    pub fn name(&self, side: Side) -> &str {
        match side {
            Side::Host => &self.host,
            Side::Peer => &self.peer,
        }
    }

    /// Runs `ip -n <namespace> <arguments>` and fails the test if it fails.
    pub fn ip(&self, side: Side, arguments: &str) {
        let mut command = vec!["ip", "-n", self.name(side)];
        command.extend(arguments.split_whitespace());
        run(&command);
    }

    /// Sets a sysctl inside the namespace.
    pub fn sysctl(&self, side: Side, setting: &str) {
        run(&[
            "ip",
            "netns",
            "exec",
            self.name(side),
            "sysctl",
            "-q",
            "-w",
            setting,
        ]);
    }

    /// Runs `work` on a fresh thread that has entered the namespace; sockets
    /// it opens stay in that namespace wherever they are used later.
    pub fn within<T: Send>(&self, side: Side, work: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name(side));
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let namespace = File::open(&path).expect("open the namespace");
                    // nix is built without its `sched` feature here.
                    // SAFETY: setns only reads the descriptor, which is open
                    // for the whole call, and changes this thread alone.
                    let entered = unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(entered, 0, "enter the namespace {path}");
                    work()
                })
                .join()
                .expect("the namespace thread panicked")
        })
    }

    /// The index of an interface in the namespace.
    pub fn index(&self, side: Side, interface: &str) -> u32 {
        let name = CString::new(interface).expect("interface name");
        self.within(side, || nix::net::if_::if_nametoindex(name.as_c_str()))
            .expect("interface index")
    }

    /// Waits until the interface has `address` and DAD is done for it.
    pub fn wait_usable(&self, side: Side, interface: &str, address: Ipv6Addr) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let output = Command::new("ip")
                .args([
                    "-n",
                    self.name(side),
                    "-6",
                    "addr",
                    "show",
                    "dev",
                    interface,
                ])
                .output()
                .expect("run ip");
            let text = String::from_utf8_lossy(&output.stdout);
            let line = text
                .lines()
                .find(|line| line.contains(&format!("inet6 {address}/")));
            if line.is_some_and(|line| !line.contains("tentative")) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{address} on {interface} never became usable:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the interface has carrier and the kernel's link watch
    /// has activated it (operational state UP, a real qdisc): before that
    /// it drops every frame it is given.
    pub fn wait_carrier(&self, side: Side, interface: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let output = Command::new("ip")
                .args(["-n", self.name(side), "link", "show", "dev", interface])
                .output()
                .expect("run ip");
            let text = String::from_utf8_lossy(&output.stdout);
            if text.contains("LOWER_UP")
                && text.contains("state UP")
                && !text.contains("qdisc noop")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{interface} never got carrier:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth, and so the pair.
        for name in [&self.host, &self.peer] {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn run(command: &[&str]) {
    let output = Command::new(command[0])
        .args(&command[1..])
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", command[0]));
    assert!(
        output.status.success(),
        "{} failed: {}",
        command.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|byte| format!("{byte:02x}")).join(":")
}

/// Whether an ICMPv6 message's checksum is right for the addresses it
/// travelled between (RFC 8200 8.1 pseudo-header), computed independently
/// of the code under test.
pub fn icmpv6_checksum_ok(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> bool {
    let length = u32::try_from(message.len()).expect("message length");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&source.octets());
    bytes.extend_from_slice(&destination.octets());
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 58]);
    bytes.extend_from_slice(message);
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}
