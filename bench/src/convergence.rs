//! Convergence after carrier-up: how long from bringing the host's interface
//! up until a global address is present, usable, past DAD, and a default
//! route exists — for slaacd, dhcpcd and the Linux kernel's own SLAAC,
//! against the same radvd, in the same run.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::Signal;
use slaacd_tests::lab::Lab;
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;

use crate::dhcpcd::{Dhcpcd, ResolvConfWitness};
use crate::observe::{MILESTONE_NAMES, Milestones, in_namespace, link_up_and_watch};
use crate::stats::{Summary, summarize};

/// radvd sends a solicited multicast RA no sooner than MinDelayBetweenRAs
/// (3 s) after its last one, and it sends one at start-up: wait past that so
/// no run measures radvd's rate limit.
const RADVD_SETTLE: Duration = Duration::from_millis(3500);

/// Longest a run may take before its missing milestones count as not reached.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);

/// Who configures the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Slaacd,
    Dhcpcd,
    Kernel,
}

impl Client {
    pub fn label(self) -> &'static str {
        match self {
            Client::Slaacd => "slaacd",
            Client::Dhcpcd => "dhcpcd",
            Client::Kernel => "Linux kernel SLAAC",
        }
    }
}

/// One run: a fresh lab, the client, radvd, then link-up and watching.
fn run_once(client: Client) -> anyhow::Result<Milestones> {
    let lab = Lab::new();
    let mut daemon = None;
    let mut dhcpcd = None;
    match client {
        Client::Kernel => {}
        Client::Dhcpcd => dhcpcd = Some(Dhcpcd::start(&lab.host, lab.dir.path(), "h0")?),
        Client::Slaacd => {
            let started = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
            wait_until_ready(&started)?;
            daemon = Some(started);
        }
    }
    let config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1800);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    std::thread::sleep(RADVD_SETTLE);
    let milestones = in_namespace(lab.host.name(), || link_up_and_watch("h0", RUN_TIMEOUT))?;
    if let Some(daemon) = daemon.as_mut() {
        daemon.stop_with(Signal::SIGTERM);
    }
    drop(dhcpcd);
    Ok(milestones)
}

/// The daemon is ready once slaacctl gets an answer about h0.
pub fn wait_until_ready(daemon: &Slaacd) -> anyhow::Result<()> {
    for _ in 0..500 {
        if daemon.ctl(&["show", "interface", "h0"]).status.success() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    anyhow::bail!("slaacd did not answer within 5 s; log:\n{}", daemon.log())
}

/// Every client's milestones over `runs` runs each, interleaved so that slow
/// phases of the machine hit both alike.
pub fn measure(runs: usize) -> anyhow::Result<Vec<(Client, Vec<Milestones>)>> {
    let clients = [Client::Slaacd, Client::Dhcpcd, Client::Kernel];
    let mut results: Vec<(Client, Vec<Milestones>)> =
        clients.iter().map(|c| (*c, Vec::new())).collect();
    for run in 0..runs {
        for (client, samples) in results.iter_mut() {
            let witness = ResolvConfWitness::take()?;
            let milestones = run_once(*client)
                .with_context(|| format!("run {} of {}", run + 1, client.label()))?;
            witness.check()?;
            eprintln!("{} run {}: {:?}", client.label(), run + 1, milestones);
            samples.push(milestones);
        }
    }
    Ok(results)
}

/// A markdown table: one row per client and milestone.
pub fn report(results: &[(Client, Vec<Milestones>)], runs: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| client | milestone | median | min | max | reached |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    for (client, samples) in results {
        for (row, name) in MILESTONE_NAMES.iter().enumerate() {
            let values: Vec<Duration> = samples.iter().filter_map(|m| m.values()[row]).collect();
            let cells = match summarize(&values) {
                Some(Summary {
                    median,
                    min,
                    max,
                    count,
                }) => {
                    format!(
                        "{} | {} | {} | {count}/{runs}",
                        ms(median),
                        ms(min),
                        ms(max)
                    )
                }
                None => format!("- | - | - | 0/{runs}"),
            };
            let _ = writeln!(out, "| {} | {name} | {cells} |", client.label());
        }
    }
    out
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
