//! The daemon under test: the real `slaacd` executable started in a host
//! namespace, and `slaacctl` run against it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::netns::Netns;
use crate::process::Guarded;

/// A built executable of this workspace (target/<profile>/NAME).
pub fn binary(name: &str) -> PathBuf {
    let executable = std::env::current_exe().expect("finding the running executable");
    // A test runs from target/<profile>/deps/, a tool such as the bench from
    // target/<profile>/: both find the daemon in target/<profile>/.
    let mut profile_dir = executable.parent().expect("finding the target directory");
    if profile_dir.ends_with("deps") {
        profile_dir = profile_dir.parent().expect("finding the target directory");
    }
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        path.display()
    );
    path
}

/// Fails at once, with the fix, when the unprivileged user is missing.
pub fn require_user() {
    assert!(
        nix::unistd::User::from_name("_slaacd")
            .ok()
            .flatten()
            .is_some(),
        "the _slaacd user is missing: useradd --system --no-create-home \
         --home-dir /nonexistent --shell /usr/sbin/nologin _slaacd"
    );
}

/// A running slaacd, killed by pid if still running when dropped.
pub struct Slaacd {
    pub process: Guarded,
    pub socket: PathBuf,
    log: PathBuf,
    netns: String,
}

impl Slaacd {
    /// Starts `slaacd -d -v` for `interfaces` in `netns`, with its socket,
    /// key and log in `dir`.
    pub fn start(netns: &Netns, dir: &Path, interfaces: &[&str]) -> Self {
        Self::start_with(netns, dir, &["-v"], interfaces)
    }

    /// Starts `slaacd -d OPTIONS` for `interfaces` in `netns`, with its
    /// socket, key, resolv.conf and log in `dir`.
    pub fn start_with(netns: &Netns, dir: &Path, options: &[&str], interfaces: &[&str]) -> Self {
        require_user();
        let socket = dir.join("slaacd.sock");
        let log = dir.join(format!("slaacd-{}.log", netns.name()));
        let mut command = netns.command(binary("slaacd").to_str().expect("a UTF-8 path"));
        command
            .arg("-d")
            .args(options)
            .arg("-s")
            .arg(&socket)
            .arg("-K")
            .arg(dir.join("soii.key"))
            // DNS from RAs goes to the test's own file, never the machine's.
            .arg("-r")
            .arg(format!("file={}", dir.join("resolv.conf").display()))
            .args(interfaces)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("creating slaacd's log"));
        let child = command.spawn().expect("starting slaacd");
        Self {
            process: Guarded::new(child),
            socket,
            log,
            netns: netns.name().to_string(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs `slaacctl -s SOCKET ARGS` in the daemon's namespace.
    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.netns])
            .arg(binary("slaacctl"))
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running slaacctl")
    }

    /// Starts `slaacctl -s SOCKET ARGS` (e.g. `["--json", "monitor"]`) in
    /// the daemon's namespace, its output read line by line on a thread;
    /// the lines end when it exits. Its stderr is piped, for the caller to
    /// read once it ended.
    pub fn ctl_lines(&self, args: &[&str]) -> (Guarded, Receiver<String>) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.netns])
            .arg(binary("slaacctl"))
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting slaacctl");
        let stdout = child.stdout.take().expect("slaacctl's stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        (Guarded::new(child), lines)
    }

    /// Waits (10 s at most) until `slaacctl show interface [INTERFACES]`
    /// succeeds: the request went through the frontend and the engine, and
    /// each interface named is managed. Panics with the daemon's log if it
    /// does not.
    pub fn wait_answering(&self, interfaces: &[&str]) {
        let mut args = vec!["show", "interface"];
        args.extend_from_slice(interfaces);
        let answered = crate::poll_until(Duration::from_secs(10), || {
            self.ctl(&args).status.success().then_some(())
        });
        assert!(
            answered.is_some(),
            "slaacctl {args:?} failed for 10 s; slaacd's log:\n{}",
            self.log()
        );
    }

    /// `slaacctl --json show interface INTERFACE`, parsed; panics with the
    /// daemon's log if slaacctl fails.
    pub fn show_json(&self, interface: &str) -> serde_json::Value {
        let output = self.ctl(&["--json", "show", "interface", interface]);
        assert!(
            output.status.success(),
            "slaacctl show interface {interface}: {}\ndaemon log:\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
        let text = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("slaacctl --json output: {error}: {text}"))
    }

    /// The Router Advertisements (and entries) dropped on `interface`, by
    /// reason, as slaacctl shows them.
    pub fn drops(&self, interface: &str) -> BTreeMap<String, u64> {
        let reply = self.show_json(interface);
        let mut drops = BTreeMap::new();
        let interfaces = reply["interfaces"].as_array().cloned().unwrap_or_default();
        for report in interfaces
            .iter()
            .filter(|report| report["name"] == interface)
        {
            for counter in report["dropped"].as_array().into_iter().flatten() {
                if let (Some(reason), Some(count)) =
                    (counter["reason"].as_str(), counter["count"].as_u64())
                {
                    *drops.entry(reason.to_string()).or_default() += count;
                }
            }
        }
        drops
    }

    /// The parent and its children, by pid.
    pub fn processes(&self) -> Vec<u32> {
        crate::process::with_children(self.pid())
    }

    /// Sends `signal` and waits for the exit status.
    pub fn stop_with(&mut self, signal: Signal) -> ExitStatus {
        self.process.signal(signal);
        self.process
            .wait_timeout(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("slaacd did not exit after {signal}; log:\n{}", self.log()))
    }
}
