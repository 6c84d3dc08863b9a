//! The daemon under test: the real `slaacd` executable started in a host
//! namespace, and `slaacctl` run against it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
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
        require_user();
        let socket = dir.join("slaacd.sock");
        let log = dir.join(format!("slaacd-{}.log", netns.name()));
        let mut command = netns.command(binary("slaacd").to_str().expect("a UTF-8 path"));
        command
            .args(["-d", "-v", "-s"])
            .arg(&socket)
            .arg("-K")
            .arg(dir.join("soii.key"))
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

    /// Sends `signal` and waits for the exit status.
    pub fn stop_with(&mut self, signal: Signal) -> ExitStatus {
        self.process.signal(signal);
        self.process
            .wait_timeout(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("slaacd did not exit after {signal}; log:\n{}", self.log()))
    }
}
