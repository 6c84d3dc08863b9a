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
