//! dhcpcd (Debian's dhcpcd-base) as a reference client in a lab's host
//! namespace: IPv6 only, no hook scripts, its state and run directories
//! private to the run.
//!
//! It must never let dhcpcd touch the machine: dhcpcd runs only inside the
//! host namespace, in the private mount namespace `ip netns exec` gives it,
//! where /run is a fresh tmpfs and /var/lib/dhcpcd is the lab's directory;
//! /etc/resolv.conf is shadowed by /etc/netns/NAME/resolv.conf, created
//! before dhcpcd starts and removed after it stops; and the machine's
//! /etc/resolv.conf is compared byte for byte before and after every run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use slaacd_tests::netns::Netns;
use slaacd_tests::process::{Guarded, is_alive, with_descendants};

const MACHINE_RESOLV_CONF: &str = "/etc/resolv.conf";
const NETNS_ETC: &str = "/etc/netns";

/// The machine's /etc/resolv.conf as it was when the run began.
pub struct ResolvConfWitness {
    before: Vec<u8>,
}

impl ResolvConfWitness {
    pub fn take() -> anyhow::Result<ResolvConfWitness> {
        let before = std::fs::read(MACHINE_RESOLV_CONF)
            .with_context(|| format!("reading {MACHINE_RESOLV_CONF}"))?;
        Ok(ResolvConfWitness { before })
    }

    /// Fails if /etc/resolv.conf changed in any byte.
    pub fn check(&self) -> anyhow::Result<()> {
        let after = std::fs::read(MACHINE_RESOLV_CONF)
            .with_context(|| format!("reading {MACHINE_RESOLV_CONF}"))?;
        ensure!(
            after == self.before,
            "{MACHINE_RESOLV_CONF} changed during a dhcpcd run"
        );
        Ok(())
    }
}

/// /etc/netns/NAME/resolv.conf for one namespace, removed when dropped
/// (with the directories this created, if they are empty).
struct NetnsResolvConf {
    file: PathBuf,
    created: Vec<PathBuf>,
}

impl NetnsResolvConf {
    fn create(netns: &Netns) -> anyhow::Result<NetnsResolvConf> {
        let top = PathBuf::from(NETNS_ETC);
        let dir = top.join(netns.name());
        let mut created = Vec::new();
        for path in [&top, &dir] {
            if !path.exists() {
                std::fs::create_dir(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                created.push(path.clone());
            }
        }
        let file = dir.join("resolv.conf");
        let guard = NetnsResolvConf { file, created };
        std::fs::write(
            &guard.file,
            "# slaacd-bench: dhcpcd's private resolv.conf\n",
        )
        .with_context(|| format!("writing {}", guard.file.display()))?;
        Ok(guard)
    }
}

impl Drop for NetnsResolvConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A running dhcpcd, stopped (SIGTERM, then SIGKILL) when dropped, before its
/// private resolv.conf goes.
pub struct Dhcpcd {
    process: Guarded,
    log: PathBuf,
    _resolv_conf: NetnsResolvConf,
}

impl Dhcpcd {
    /// Starts `dhcpcd -M -6` for `interface` alone of `netns`, in the
    /// foreground, with its config, state and log in `dir`.
    pub fn start(netns: &Netns, dir: &Path, interface: &str) -> anyhow::Result<Dhcpcd> {
        ensure!(
            Path::new("/usr/sbin/dhcpcd").is_file(),
            "dhcpcd is missing: apt-get install dhcpcd-base"
        );
        let resolv_conf = NetnsResolvConf::create(netns)?;
        let state = dir.join("dhcpcd-state");
        std::fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;
        let config = dir.join("dhcpcd.conf");
        // RFC 7217 addresses, as slaacd makes by default. `noup` leaves
        // bringing the link up to the bench, which times from it; dhcpcd
        // honours it only in manager mode (-M), hence allowinterfaces.
        let options =
            format!("ipv6only\nnoipv4ll\nnoup\nallowinterfaces {interface}\nslaac private\n");
        std::fs::write(&config, options)
            .with_context(|| format!("writing {}", config.display()))?;
        let log_path = dir.join("dhcpcd.log");
        let log = std::fs::File::create(&log_path).context("creating dhcpcd's log")?;
        // /run and /var/lib/dhcpcd are replaced only in the mount namespace
        // `ip netns exec` made for this command. The hook script is
        // /bin/true: no hook (hostname, NTP, resolv.conf) runs at all.
        let script = "mount -t tmpfs slaacd-bench /run \
                      && mount --bind \"$1\" /var/lib/dhcpcd \
                      && exec dhcpcd -M -6 -B --nohook resolv.conf -c /bin/true -f \"$2\"";
        let mut command = netns.command("sh");
        command
            .args(["-c", script, "dhcpcd-bench"])
            .arg(&state)
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command.spawn().context("starting dhcpcd")?;
        let mut dhcpcd = Dhcpcd {
            process: Guarded::new(child),
            log: log_path,
            _resolv_conf: resolv_conf,
        };
        // dhcpcd is ready once its privilege-separated helpers exist.
        for _ in 0..100 {
            if let Some(status) = dhcpcd.process.wait_timeout(Duration::ZERO) {
                bail!(
                    "dhcpcd exited at once ({status}); see {}",
                    dir.join("dhcpcd.log").display()
                );
            }
            if dhcpcd.processes().len() > 1 {
                return Ok(dhcpcd);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("dhcpcd did not start its helpers within 2 s")
    }

    /// The last `lines` lines dhcpcd logged.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Every dhcpcd process of this run.
    pub fn processes(&self) -> Vec<u32> {
        with_descendants(self.process.pid())
    }
}

impl Drop for Dhcpcd {
    fn drop(&mut self) {
        // Its helpers are re-parented to init if they outlive it: take their
        // pids first, and stop any that are left by pid.
        let helpers = self.processes();
        self.process.signal(Signal::SIGTERM);
        if self.process.wait_timeout(Duration::from_secs(5)).is_none() {
            self.process.signal(Signal::SIGKILL);
            let _ = self.process.wait_timeout(Duration::from_secs(5));
        }
        for pid in helpers.into_iter().skip(1).filter(|pid| is_alive(*pid)) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}
