//! Convergence after carrier-up: how long from the host's interface getting
//! carrier until a global address is present, usable, past DAD, and a
//! default route exists — for slaacd, dhcpcd and the Linux kernel's own
//! SLAAC, against the same radvd across a bridge, in the same run, runs
//! interleaved. slaacd also runs with each of its fast-path settings
//! switched off or changed, to show what each one gains.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::Signal;
use slaacd_tests::slaacd::Slaacd;

use crate::bridge_lab::{BridgeLab, HOST_PORT};
use crate::dhcpcd::{Dhcpcd, ResolvConfWitness};
use crate::observe::{MILESTONE_NAMES, Milestones, carrier_up_and_watch};
use crate::stats::{Summary, summarize};

/// Longest a run may take before its missing milestones count as not reached.
const RUN_TIMEOUT: Duration = Duration::from_secs(8);

/// Longest radvd may take to fall silent before a run.
const QUIET_LIMIT: Duration = Duration::from_secs(70);

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

/// h0's settings before each run, the kernel's defaults: the kernel's own
/// SLAAC on, no optimistic DAD, the RFC 4862 random delay before DAD.
/// slaacd and dhcpcd change what they need when they start.
const KERNEL_DEFAULTS: [(&str, &str); 5] = [
    ("accept_ra", "1"),
    ("autoconf", "1"),
    ("optimistic_dad", "0"),
    ("use_optimistic", "0"),
    ("router_solicitation_delay", "1"),
];

/// One row group of the table: a client, and for slaacd the settings
/// written over its own once it runs (before carrier-up).
#[derive(Debug, Clone)]
pub struct Series {
    pub client: Client,
    pub label: String,
    overrides: &'static [(&'static str, &'static str)],
}

impl Series {
    fn plain(client: Client) -> Series {
        Series {
            client,
            label: client.label().to_string(),
            overrides: &[],
        }
    }

    fn slaacd_with(label: &str, overrides: &'static [(&'static str, &'static str)]) -> Series {
        Series {
            client: Client::Slaacd,
            label: format!("slaacd, {label}"),
            overrides,
        }
    }
}

/// slaacd as shipped, dhcpcd, the kernel; with `steps`, slaacd also with
/// optimistic DAD off (what it gains), with the RFC 4862 delay before DAD
/// removed instead (the other way to lose that delay), and with both.
pub fn series(steps: bool) -> Vec<Series> {
    let mut all = vec![Series::plain(Client::Slaacd)];
    if steps {
        all.push(Series::slaacd_with(
            "optimistic_dad=0",
            &[("optimistic_dad", "0")],
        ));
        all.push(Series::slaacd_with(
            "optimistic_dad=0 router_solicitation_delay=0",
            &[("optimistic_dad", "0"), ("router_solicitation_delay", "0")],
        ));
        all.push(Series::slaacd_with(
            "router_solicitation_delay=0",
            &[("router_solicitation_delay", "0")],
        ));
    }
    all.push(Series::plain(Client::Dhcpcd));
    all.push(Series::plain(Client::Kernel));
    all
}

/// A running client, stopped when dropped.
enum Running {
    Slaacd(Slaacd),
    /// Held only to be stopped when dropped.
    Dhcpcd {
        _process: Dhcpcd,
    },
    Kernel,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::Slaacd(daemon) = self {
            daemon.stop_with(Signal::SIGTERM);
        }
    }
}

/// One run: h0 reset, the client started, radvd quiet, then carrier-up and
/// watching.
fn run_once(lab: &BridgeLab, series: &Series, name: &str) -> anyhow::Result<Milestones> {
    lab.reset_host(&KERNEL_DEFAULTS);
    let dir = lab.dir.path().join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let running = match series.client {
        Client::Kernel => Running::Kernel,
        Client::Dhcpcd => Running::Dhcpcd {
            _process: Dhcpcd::start(&lab.host, &dir, "h0")?,
        },
        Client::Slaacd => {
            let daemon = Slaacd::start(&lab.host, &dir, &["h0"]);
            wait_until_ready(&daemon)?;
            for (name, value) in series.overrides {
                lab.host.sysctl("h0", name, value);
            }
            Running::Slaacd(daemon)
        }
    };
    lab.wait_for_quiet_router(QUIET_LIMIT)?;
    let milestones = carrier_up_and_watch(
        lab.bridge.name(),
        HOST_PORT,
        lab.host.name(),
        "h0",
        RUN_TIMEOUT,
    )?;
    if let (Running::Slaacd(daemon), None) = (&running, milestones.present) {
        eprintln!(
            "{}: no address; slaacd's log:\n{}",
            series.label,
            daemon.log()
        );
    }
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

/// Every series' milestones over `runs` runs each, interleaved so that slow
/// phases of the machine hit all alike.
pub fn measure(runs: usize, steps: bool) -> anyhow::Result<Vec<(Series, Vec<Milestones>)>> {
    let lab = BridgeLab::new()?;
    let mut results: Vec<(Series, Vec<Milestones>)> = series(steps)
        .into_iter()
        .map(|series| (series, Vec::new()))
        .collect();
    for run in 0..runs {
        for (index, (series, samples)) in results.iter_mut().enumerate() {
            let witness = ResolvConfWitness::take()?;
            let milestones = run_once(&lab, series, &format!("run-{run}-series-{index}"))
                .with_context(|| format!("run {} of {}", run + 1, series.label))?;
            witness.check()?;
            eprintln!("{} run {}: {}", series.label, run + 1, brief(&milestones));
            samples.push(milestones);
        }
    }
    Ok(results)
}

/// One run's milestones on one line, for progress output.
fn brief(milestones: &Milestones) -> String {
    MILESTONE_NAMES
        .iter()
        .zip(milestones.values())
        .map(|(name, value)| match value {
            Some(value) => format!("{name} {}", ms(value)),
            None => format!("{name} -"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A markdown table: one row per series, one column per milestone, each
/// cell the median and the range over the runs that reached it.
pub fn report(results: &[(Series, Vec<Milestones>)], runs: usize) -> String {
    let mut out = String::new();
    let _ = write!(out, "| client |");
    for name in MILESTONE_NAMES {
        let _ = write!(out, " {name}: median [min-max] |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---:|".repeat(MILESTONE_NAMES.len()));
    for (series, samples) in results {
        let _ = write!(out, "| {} |", series.label);
        for row in 0..MILESTONE_NAMES.len() {
            let values: Vec<Duration> = samples.iter().filter_map(|m| m.values()[row]).collect();
            let cell = match summarize(&values) {
                Some(Summary {
                    median,
                    min,
                    max,
                    count,
                }) => {
                    let missed = if count < runs {
                        format!(" ({count}/{runs} runs)")
                    } else {
                        String::new()
                    };
                    format!("{} [{}-{}]{missed}", ms(median), ms(min), ms(max))
                }
                None => format!("not reached (0/{runs})"),
            };
            let _ = write!(out, " {cell} |");
        }
        let _ = writeln!(out);
    }
    out
}

fn ms(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    if millis < 100.0 {
        format!("{millis:.2} ms")
    } else {
        format!("{millis:.0} ms")
    }
}
