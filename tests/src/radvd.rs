//! radvd as the router of a test lab.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::netns::Netns;
use crate::process::Guarded;

/// A running radvd, killed by pid when dropped.
pub struct Radvd {
    pub process: Guarded,
    log: PathBuf,
}

impl Radvd {
    /// Starts radvd in `netns` with `config` (radvd.conf syntax), keeping its
    /// files in `dir`.
    pub fn start(netns: &Netns, dir: &Path, config: &str) -> Self {
        let config_path = dir.join(format!("radvd-{}.conf", netns.name()));
        std::fs::write(&config_path, config).expect("writing radvd.conf");
        let pid_path = dir.join(format!("radvd-{}.pid", netns.name()));
        let log_path = dir.join(format!("radvd-{}.log", netns.name()));
        let log = std::fs::File::create(&log_path).expect("creating radvd's log");
        let mut command: Command = netns.command("radvd");
        command
            .arg("--nodaemon")
            .arg("--config")
            .arg(&config_path)
            .arg("--pidfile")
            .arg(&pid_path)
            .args(["--logmethod", "stderr"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command
            .spawn()
            .expect("starting radvd (apt-get install radvd)");
        Self {
            process: Guarded::new(child),
            log: log_path,
        }
    }

    /// What radvd has logged so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|error| format!("(no log: {error})"))
    }
}

/// A radvd.conf for one interface advertising one prefix with RDNSS.
pub fn single_prefix_config(
    interface: &str,
    prefix: &str,
    valid: u32,
    preferred: u32,
    router_lifetime: u32,
) -> String {
    format!(
        "interface {interface} {{
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvDefaultLifetime {router_lifetime};
    prefix {prefix} {{
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime {valid};
        AdvPreferredLifetime {preferred};
    }};
    RDNSS 2001:db8:1::53 {{
        AdvRDNSSLifetime 600;
    }};
}};
"
    )
}
