//! The real daemon clears, as it starts, the DNS configuration a killed run
//! left for the interface it manages, with each resolver backend: a file in
//! a temporary directory, a fake resolvconf (`resolver_fakes/resolvconf.rs`)
//! and a fake systemd-resolved on a private bus (`resolver_fakes/resolved.rs`).
//! The killed run is played by a resolver that configures veth0 and is then
//! forgotten without withdrawing anything, as SIGKILL leaves it. The daemon
//! runs in a private network namespace with no router, so nothing is
//! configured anew: what changes is the clearing at start. The machine's
//! /etc/resolv.conf is compared before and after.
//!
//! And it withdraws, as it stops, a DNS change that SIGTERM cut off: radvd on
//! veth1 advertises a DNS server, the fake resolvconf takes two seconds to
//! add it, and the daemon is stopped half-way through.
//!
//! It needs root, the `_slaacd` user and the children built next to slaacd
//! (`cargo build --workspace --bins`).

// Only its private network namespace is used here.
#[allow(dead_code)]
mod common;
#[path = "resolver_fakes/resolvconf.rs"]
mod fake_resolvconf;
#[path = "resolver_fakes/resolved.rs"]
mod fake_resolved;
#[path = "resolver_fakes/support.rs"]
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_resolvconf::FakeResolvconf;
use fake_resolved::{Call, FakeResolved, PrivateBus};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use slaacd_parent::resolver::{Backend, HelperCommand, Resolver};
use support::{HEADER, TempDir, domains, machine_resolv_conf, servers};

const PATIENCE: Duration = Duration::from_secs(10);

/// `slaacd -d` managing veth0 in the calling thread's network namespace,
/// with its socket, key and log in `dir`; killed by pid if still running
/// when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, resolver: &str) -> Self {
        let program = Path::new(env!("CARGO_BIN_EXE_slaacd"));
        for child in ["slaacd-frontend", "slaacd-engine"] {
            assert!(
                program.with_file_name(child).exists(),
                "{child} is not built next to slaacd: run `cargo build --workspace --bins` first"
            );
        }
        assert!(
            nix::unistd::User::from_name("_slaacd")
                .ok()
                .flatten()
                .is_some(),
            "the _slaacd user is missing: run scripts/setup"
        );
        let log = dir.join("slaacd.log");
        let child = Command::new(program)
            .arg("-d")
            .arg("-v")
            .arg("-s")
            .arg(dir.join("slaacd.sock"))
            .arg("-K")
            .arg(dir.join("soii.key"))
            .arg("-r")
            .arg(resolver)
            .arg("veth0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting slaacd");
        Self { child, log }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `done` holds; panics with the log if the daemon exits
    /// or it takes too long.
    fn wait_for(&mut self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("slaacd exited ({status}) before {what}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not happen within {PATIENCE:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, and an orderly exit.
    fn stop(mut self) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "slaacd did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "slaacd {status}:\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a run killed while veth0 had DNS configuration leaves behind.
async fn left_by_a_killed_run(backend: Backend, index: u32) {
    // resolvconf's helper is this package's slaacd, as the daemon starts it.
    let helper = HelperCommand {
        executable: env!("CARGO_BIN_EXE_slaacd").into(),
        foreground: true,
        verbose: 0,
        violation: slaacd_sandbox::Violation::Kill,
    };
    let killed = Resolver::start(backend, &helper).await.unwrap();
    killed
        .configure(
            index,
            "veth0",
            &servers(&["2001:db8::53"]),
            &domains(&["example.com"]),
        )
        .await
        .unwrap();
    std::mem::forget(killed);
}

#[test]
fn a_start_clears_the_entries_a_killed_run_left_in_the_file() {
    let machine = machine_resolv_conf();
    common::in_private_netns(async |index| {
        let dir = TempDir::new("resolver-restart");
        let path = dir.path().join("resolv.conf");
        left_by_a_killed_run(Backend::File(path.clone()), index).await;
        assert_ne!(fs::read_to_string(&path).unwrap(), HEADER);

        let mut daemon = Daemon::start(dir.path(), &format!("file={}", path.display()));
        daemon.wait_for("the file is cleared", || {
            fs::read_to_string(&path).is_ok_and(|text| text == HEADER)
        });
        daemon.stop();
        assert_eq!(fs::read_to_string(&path).unwrap(), HEADER);
    });
    assert_eq!(machine_resolv_conf(), machine, "/etc/resolv.conf changed");
}

#[test]
fn a_start_deletes_the_resolvconf_record_a_killed_run_left() {
    let machine = machine_resolv_conf();
    common::in_private_netns(async |index| {
        let dir = TempDir::new("resolver-restart");
        let fake = FakeResolvconf::new("");
        left_by_a_killed_run(Backend::Resolvconf(fake.program()), index).await;
        assert!(fake.record("veth0.slaacd").is_some());

        let mut daemon = Daemon::start(
            dir.path(),
            &format!("resolvconf={}", fake.program().display()),
        );
        daemon.wait_for("the record is deleted", || fake.records() == 0);
        daemon.stop();
        assert_eq!(fake.calls(), vec!["-a veth0.slaacd", "-d veth0.slaacd -f"]);
    });
    assert_eq!(machine_resolv_conf(), machine, "/etc/resolv.conf changed");
}

#[test]
fn a_start_reverts_the_link_a_killed_run_configured_in_resolved() {
    let machine = machine_resolv_conf();
    common::in_private_netns(async |index| {
        let dir = TempDir::new("resolver-restart");
        let bus = PrivateBus::start();
        let fake = FakeResolved::serve(&bus);
        left_by_a_killed_run(Backend::Resolved(bus.bus()), index).await;
        let link = i32::try_from(index).unwrap();
        assert!(fake.links().contains_key(&link));

        let mut daemon = Daemon::start(dir.path(), &format!("resolved={}", bus.address));
        daemon.wait_for("the link is reverted", || fake.links().is_empty());
        daemon.stop();
        assert_eq!(fake.calls().last(), Some(&Call::RevertLink(link)));
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|call| matches!(call, Call::RevertLink(_)))
                .count(),
            1
        );
    });
    assert_eq!(machine_resolv_conf(), machine, "/etc/resolv.conf changed");
}

/// radvd advertising a prefix and a DNS server on veth1, in the calling
/// thread's network namespace; killed by pid when dropped.
struct Radvd(Child);

impl Radvd {
    fn start(dir: &Path) -> Self {
        // radvd advertises only with forwarding on; veth0 stays a host.
        sysctl("net.ipv6.conf.all.forwarding=1");
        sysctl("net.ipv6.conf.veth0.forwarding=0");
        let config = dir.join("radvd.conf");
        fs::write(
            &config,
            "interface veth1 {\n\
             \tAdvSendAdvert on;\n\
             \tMinRtrAdvInterval 3;\n\
             \tMaxRtrAdvInterval 4;\n\
             \tprefix 2001:db8:1::/64 {};\n\
             \tRDNSS 2001:db8:1::53 { AdvRDNSSLifetime 600; };\n\
             };\n",
        )
        .unwrap();
        let child = Command::new("radvd")
            .arg("--nodaemon")
            .arg("--config")
            .arg(&config)
            .arg("--pidfile")
            .arg(dir.join("radvd.pid"))
            .args(["--logmethod", "stderr"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("radvd.log")).unwrap())
            .spawn()
            .expect("starting radvd (apt-get install radvd)");
        Self(child)
    }
}

impl Drop for Radvd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sysctl(setting: &str) {
    let status = Command::new("sysctl")
        .args(["-q", "-w", setting])
        .status()
        .expect("running sysctl");
    assert!(status.success(), "sysctl -w {setting}: {status}");
}

#[test]
fn a_stop_withdraws_a_dns_change_that_sigterm_cut_off() {
    let machine = machine_resolv_conf();
    common::in_private_netns(async |_| {
        let dir = TempDir::new("resolver-stop");
        // The add says it started, then takes its time.
        let fake = FakeResolvconf::new(
            "if [ \"$1\" = -a ]; then touch \"$(dirname \"$0\")/adding\"; sleep 2; fi",
        );
        let _radvd = Radvd::start(dir.path());
        let mut daemon = Daemon::start(
            dir.path(),
            &format!("resolvconf={}", fake.program().display()),
        );
        daemon.wait_for("the DNS server is being added", || {
            fake.dir().join("adding").exists()
        });
        let stopping = Instant::now();
        daemon.stop();
        let stopped_in = stopping.elapsed();
        eprintln!("stopped in {stopped_in:?}");
        // The start's clearing, the add SIGTERM cut off, and its withdrawal.
        assert_eq!(
            fake.calls(),
            ["-d veth0.slaacd -f", "-a veth0.slaacd", "-d veth0.slaacd"]
        );
        assert_eq!(fake.records(), 0);
        // The stop waited for the add (at most its 2 s) and no longer.
        assert!(stopped_in < Duration::from_secs(3), "{stopped_in:?}");
    });
    assert_eq!(machine_resolv_conf(), machine, "/etc/resolv.conf changed");
}

/// The daemon, confined in the default kill mode, hands an RA's DNS server to
/// systemd-resolved and reverts the link when it stops: what the parent keeps
/// once confined ("unix" for the bus, "children" rather than "proc", no
/// interface ioctl) is enough for the D-Bus calls. A forbidden system call
/// would end it with SIGSYS, which `wait_for` and `stop` report.
#[test]
fn a_confined_daemon_sets_and_reverts_dns_in_resolved() {
    let machine = machine_resolv_conf();
    common::in_private_netns(async |index| {
        let dir = TempDir::new("resolver-confined");
        let bus = PrivateBus::start();
        let fake = FakeResolved::serve(&bus);
        let link = i32::try_from(index).unwrap();
        let _radvd = Radvd::start(dir.path());
        let mut daemon = Daemon::start(dir.path(), &format!("resolved={}", bus.address));
        let server = fake_resolved::wire("2001:db8:1::53");
        daemon.wait_for("the DNS server reaches resolved", || {
            fake.links()
                .get(&link)
                .is_some_and(|(servers, _)| servers.contains(&server))
        });
        // Logged once the parent is confined.
        let log = daemon.log.clone();
        daemon.wait_for("the parent is confined", || {
            fs::read_to_string(&log)
                .is_ok_and(|log| log.contains("slaacd: INFO started; managing veth0"))
        });
        daemon.stop();
        assert_eq!(fake.calls().last(), Some(&Call::RevertLink(link)));
        assert!(fake.links().is_empty(), "{:?}", fake.links());
    });
    assert_eq!(machine_resolv_conf(), machine, "/etc/resolv.conf changed");
}
