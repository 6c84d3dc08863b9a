//! A client under measurement in a lab's host namespace — slaacd or dhcpcd —
//! with what the throughput and footprint benches read from it: its
//! processes, their resident memory (RSS, PSS, anonymous), their CPU time and their wake-ups.
//!
//! It only starts, observes and stops; it must never judge a figure.

use std::time::Duration;

use slaacd_tests::lab::Lab;
use slaacd_tests::process::cpu_time;
use slaacd_tests::slaacd::Slaacd;

use crate::convergence::{Client, wait_until_ready};
use crate::dhcpcd::Dhcpcd;
use crate::memory::Memory;

/// A running client, stopped when dropped.
pub enum Contender {
    Slaacd(Slaacd),
    Dhcpcd(Dhcpcd),
}

impl Contender {
    /// Starts `client` for h0 of the lab's host and waits until it runs.
    /// Only clients with processes of their own can be measured this way.
    pub fn start(client: Client, lab: &Lab) -> anyhow::Result<Contender> {
        match client {
            Client::Slaacd => {
                let daemon = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
                wait_until_ready(&daemon)?;
                Ok(Contender::Slaacd(daemon))
            }
            Client::Dhcpcd => Ok(Contender::Dhcpcd(Dhcpcd::start(
                &lab.host,
                lab.dir.path(),
                "h0",
            )?)),
            Client::Kernel => anyhow::bail!("the kernel has no processes to measure"),
        }
    }

    pub fn processes(&self) -> Vec<u32> {
        match self {
            Contender::Slaacd(daemon) => daemon.processes(),
            Contender::Dhcpcd(dhcpcd) => dhcpcd.processes(),
        }
    }

    /// Resident memory of all its processes together.
    pub fn memory(&self) -> Memory {
        self.processes().into_iter().filter_map(Memory::of).sum()
    }

    /// CPU time of all its processes together, user and system.
    pub fn cpu_time(&self) -> Duration {
        self.processes().into_iter().filter_map(cpu_time).sum()
    }

    /// Voluntary context switches of all its threads together: each is a
    /// thread going to sleep, so their growth over an idle period counts
    /// its wake-ups.
    pub fn voluntary_switches(&self) -> u64 {
        self.processes()
            .into_iter()
            .map(voluntary_switches_of)
            .sum()
    }

    /// Advertisements slaacd dropped on h0, all reasons together (dhcpcd
    /// counts none).
    pub fn dropped(&self) -> Option<u64> {
        match self {
            Contender::Slaacd(daemon) => Some(daemon.drops("h0").values().sum()),
            Contender::Dhcpcd(_) => None,
        }
    }

    /// The end of its log, for the reader of the bench's output.
    pub fn log_tail(&self) -> String {
        match self {
            Contender::Slaacd(daemon) => {
                let log = daemon.log();
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(5)..].join("\n")
            }
            Contender::Dhcpcd(dhcpcd) => dhcpcd.log_tail(5),
        }
    }

    /// Waits until its CPU time stops growing (the backlog of a burst is
    /// worked off), at most `limit`; returns how long that took.
    pub fn settle(&self, limit: Duration) -> Duration {
        let started = std::time::Instant::now();
        let mut last = self.cpu_time();
        let mut quiet = 0;
        while quiet < 3 && started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.cpu_time();
            quiet = if now == last { quiet + 1 } else { 0 };
            last = now;
        }
        started.elapsed()
    }
}

/// The voluntary context switches of every thread of process `pid` (0 if
/// it has gone).
fn voluntary_switches_of(pid: u32) -> u64 {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    threads
        .filter_map(|thread| {
            let status = std::fs::read_to_string(thread.ok()?.path().join("status")).ok()?;
            status
                .lines()
                .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum()
}
