//! Named network namespaces (`ip netns`), deleted when dropped.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace of this test process.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `sd<pid>-<n>-<role>` (short: interface-name-like limits apply
    /// to some tools) with its loopback up.
    pub fn new(role: &str) -> Self {
        let name = format!(
            "sd{}-{}-{role}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]));
        let netns = Self { name };
        netns.ip(&["link", "set", "lo", "up"]);
        netns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs inside this namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `ip ARGS` in the namespace; panics with its stderr on failure.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut command = self.command("ip");
        command.args(args);
        run(&mut command)
    }

    /// Runs `ip -j ARGS` in the namespace and parses the JSON.
    pub fn ip_json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["-j"];
        full.extend_from_slice(args);
        let text = self.ip(&full);
        if text.trim().is_empty() {
            return serde_json::Value::Array(Vec::new());
        }
        serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("ip -j {args:?}: {error}: {text}"))
    }

    /// Writes an IPv6 sysctl of an interface in this namespace.
    pub fn sysctl(&self, interface: &str, name: &str, value: &str) {
        let key = format!("net.ipv6.conf.{interface}.{name}={value}");
        let mut command = self.command("sysctl");
        command.args(["-q", "-w", &key]);
        run(&mut command);
    }

    /// Reads an IPv6 sysctl of an interface in this namespace.
    pub fn read_sysctl(&self, interface: &str, name: &str) -> String {
        let key = format!("net.ipv6.conf.{interface}.{name}");
        let mut command = self.command("sysctl");
        command.args(["-n", &key]);
        run(&mut command).trim().to_string()
    }

    /// One counter of the kernel's IPv6 statistics in this namespace
    /// (/proc/net/snmp6 shows the reader's namespace), e.g.
    /// `Icmp6InType134` for Router Advertisements delivered. The kernel
    /// lists a per-type counter only once it is non-zero: absent reads 0.
    pub fn snmp6(&self, counter: &str) -> u64 {
        let mut command = self.command("cat");
        command.arg("/proc/net/snmp6");
        let text = run(&mut command);
        text.lines()
            .find_map(|line| {
                let mut fields = line.split_whitespace();
                (fields.next()? == counter).then(|| fields.next()?.parse().ok())?
            })
            .unwrap_or(0)
    }

    /// Datagrams the kernel dropped at this namespace's raw IPv6 sockets
    /// because they were full (the last column of /proc/net/raw6).
    pub fn raw6_socket_drops(&self) -> u64 {
        let mut command = self.command("cat");
        command.arg("/proc/net/raw6");
        let text = run(&mut command);
        text.lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs a command to completion; panics with its output if it fails.
pub fn run(command: &mut Command) -> String {
    let output: Output = command
        .output()
        .unwrap_or_else(|error| panic!("running {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
