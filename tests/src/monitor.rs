//! `ip monitor` running in a lab namespace for the length of a test step,
//! its output kept: the kernel's own account of what was added, changed and
//! deleted, including what lasted too short a time to be polled.
//!
//! It only listens; the process is stopped by pid.

use std::io::Read;
use std::net::Ipv6Addr;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::netns::Netns;
use crate::process::Guarded;

/// A running `ip -6 monitor OBJECTS`.
pub struct IpMonitor {
    process: Guarded,
}

impl IpMonitor {
    /// How long `ip monitor` takes to subscribe, generously.
    pub const SETTLE: Duration = Duration::from_millis(200);

    /// Starts `ip -6 monitor OBJECTS` (e.g. `["address"]`) in `netns` and
    /// waits [`IpMonitor::SETTLE`] for it to subscribe: the kernel reports
    /// only what happens after that.
    pub fn start(netns: &Netns, objects: &[&str]) -> Self {
        let mut command = netns.command("ip");
        command
            .args(["-6", "monitor"])
            .args(objects)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let process = Guarded::new(command.spawn().expect("running ip monitor"));
        std::thread::sleep(Self::SETTLE);
        Self { process }
    }

    /// Everything it printed, after stopping it.
    pub fn finish(mut self) -> String {
        self.process.signal(Signal::SIGTERM);
        self.process.wait_timeout(Duration::from_secs(5));
        let mut text = String::new();
        if let Some(mut stdout) = self.process.child.stdout.take() {
            let _ = stdout.read_to_string(&mut text);
        }
        text
    }
}

/// The lines of `ip monitor address` output about `address` (the first
/// line of each event, which carries the address and its flags).
pub fn events_about(output: &str, address: Ipv6Addr) -> Vec<&str> {
    let needle = format!(" {address}/");
    output
        .lines()
        .filter(|line| line.contains(&needle))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_about_an_address_are_its_lines_only() {
        let output = "2: h0    inet6 2001:db8:1::5/64 scope global tentative dynamic\n\
                      \x20      valid_lft 3600sec preferred_lft 1800sec\n\
                      Deleted 2: h0    inet6 2001:db8:1::5/64 scope global dadfailed tentative\n\
                      2: h0    inet6 2001:db8:1::55/64 scope global dynamic\n";
        let events = events_about(output, "2001:db8:1::5".parse().unwrap());
        assert_eq!(events.len(), 2);
        assert!(events[1].starts_with("Deleted") && events[1].contains("dadfailed"));
    }
}
