//! Footprint: resident memory of all of a client's processes together, once
//! configured and idle and again after an RA flood; and its CPU time over an
//! idle period and how often its threads woke up in it (what its timers
//! cost), for slaacd and dhcpcd against the same radvd and the same flood.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use slaacd_tests::lab::Lab;
use slaacd_tests::ra_sender::{RaSender, flood_advert};
use slaacd_tests::radvd::{Radvd, single_prefix_config};

use crate::contender::Contender;
use crate::convergence::Client;

/// The flood of the fault tests: random routers and prefixes, in bursts.
const FLOOD_SIZE: usize = 20_000;
const FLOOD_BURST: usize = 250;
const FLOOD_PAUSE: Duration = Duration::from_millis(50);
const FLOOD_SEED: u64 = 0x5eed;

pub struct Footprint {
    pub client: Client,
    pub idle_rss_kib: u64,
    pub idle_cpu: Duration,
    /// Voluntary context switches over the idle period.
    pub idle_wakeups: u64,
    pub idle_period: Duration,
    pub flood_rss_kib: u64,
    /// Global addresses and IPv6 routes in the host namespace after the flood.
    pub addresses_after_flood: usize,
    pub routes_after_flood: usize,
    pub idle_processes: usize,
    pub processes_after_flood: usize,
}

/// How many routes `ip -j -6 route show` lists in the host namespace.
fn routes(lab: &Lab) -> usize {
    lab.host
        .ip_json(&["-6", "route", "show"])
        .as_array()
        .map_or(0, Vec::len)
}

/// How many global addresses h0 has (`ip -j` lists them per link).
fn global_addresses(lab: &Lab) -> usize {
    lab.host
        .ip_json(&["-6", "addr", "show", "dev", "h0", "scope", "global"])
        .as_array()
        .into_iter()
        .flatten()
        .map(|link| link["addr_info"].as_array().map_or(0, Vec::len))
        .sum()
}

fn run_once(client: Client, idle: Duration) -> anyhow::Result<Footprint> {
    let lab = Lab::new();
    let config = single_prefix_config("r0", "2001:db8:1::/64", 3600, 1800, 1800);
    let _radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    let contender = Contender::start(client, &lab)?;
    lab.host.ip(&["link", "set", "h0", "up"]);
    let mut configured = false;
    for _ in 0..150 {
        if global_addresses(&lab) > 0 {
            configured = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::ensure!(
        configured,
        "{} configured no address in 15 s",
        client.label()
    );
    // Past DAD and the first timers.
    std::thread::sleep(Duration::from_secs(3));
    let idle_rss_kib = contender.rss_kib();
    let idle_processes = contender.processes().len();
    let cpu_before = contender.cpu_time();
    let switches_before = contender.voluntary_switches();
    std::thread::sleep(idle);
    let idle_cpu = contender.cpu_time() - cpu_before;
    let idle_wakeups = contender
        .voluntary_switches()
        .saturating_sub(switches_before);

    let sender = RaSender::open(&lab.router, "r0")?;
    let mut rng = SmallRng::seed_from_u64(FLOOD_SEED);
    sender
        .send_paced(FLOOD_SIZE, FLOOD_BURST, FLOOD_PAUSE, |_| {
            flood_advert(&mut rng)
        })
        .context("flooding")?;
    contender.settle(Duration::from_secs(60));
    eprintln!(
        "{} after the flood, end of its log:\n{}",
        client.label(),
        contender.log_tail()
    );
    Ok(Footprint {
        client,
        idle_rss_kib,
        idle_cpu,
        idle_wakeups,
        idle_period: idle,
        flood_rss_kib: contender.rss_kib(),
        addresses_after_flood: global_addresses(&lab),
        routes_after_flood: routes(&lab),
        processes_after_flood: contender.processes().len(),
        idle_processes,
    })
}

/// slaacd, then dhcpcd.
pub fn measure(idle: Duration) -> anyhow::Result<Vec<Footprint>> {
    let witness = crate::dhcpcd::ResolvConfWitness::take()?;
    let results = [Client::Slaacd, Client::Dhcpcd]
        .into_iter()
        .map(|client| {
            run_once(client, idle).with_context(|| format!("footprint of {}", client.label()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    witness.check()?;
    Ok(results)
}

pub fn report(results: &[Footprint]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| client | processes idle | RSS idle | CPU over idle period | wake-ups over idle period | \
         RSS after {FLOOD_SIZE}-RA flood | processes after flood | global addresses after flood | \
         IPv6 routes after flood |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for result in results {
        let _ = writeln!(
            out,
            "| {} | {} | {} KiB | {:.3} s over {} s | {} | {} KiB | {} | {} | {} |",
            result.client.label(),
            result.idle_processes,
            result.idle_rss_kib,
            result.idle_cpu.as_secs_f64(),
            result.idle_period.as_secs(),
            result.idle_wakeups,
            result.flood_rss_kib,
            result.processes_after_flood,
            result.addresses_after_flood,
            result.routes_after_flood,
        );
    }
    out
}
