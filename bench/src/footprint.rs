//! Footprint: resident memory of all of a client's processes together (RSS,
//! PSS and the anonymous part), once configured and idle and again after an
//! RA flood; and its CPU time over an
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
use crate::memory::Memory;

/// The flood of the fault tests: random routers and prefixes, in bursts.
const FLOOD_SIZE: usize = 20_000;
const FLOOD_BURST: usize = 250;
const FLOOD_PAUSE: Duration = Duration::from_millis(50);
const FLOOD_SEED: u64 = 0x5eed;

pub struct Footprint {
    pub client: Client,
    pub idle_memory: Memory,
    pub idle_cpu: Duration,
    /// Voluntary context switches over the idle period.
    pub idle_wakeups: u64,
    /// Packets the router sent over the idle period: mostly its RAs, which
    /// cause most wake-ups (how many varies: radvd picks each interval, and
    /// answers a client's solicitations and neighbour probes).
    pub idle_router_packets: u64,
    pub idle_period: Duration,
    pub idle_processes: usize,
    /// None when the flood was left out.
    pub flood: Option<AfterFlood>,
}

pub struct AfterFlood {
    pub memory: Memory,
    /// Global addresses and IPv6 routes in the host namespace after the flood.
    pub addresses: usize,
    pub routes: usize,
    pub processes: usize,
}

/// How many routes `ip -j -6 route show` lists in the host namespace.
fn routes(lab: &Lab) -> usize {
    lab.host
        .ip_json(&["-6", "route", "show"])
        .as_array()
        .map_or(0, Vec::len)
}

/// Packets r0 of the router has sent so far.
fn router_packets_sent(lab: &Lab) -> u64 {
    lab.router.ip_json(&["-s", "link", "show", "dev", "r0"])[0]["stats64"]["tx"]["packets"]
        .as_u64()
        .unwrap_or(0)
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

fn run_once(client: Client, idle: Duration, with_flood: bool) -> anyhow::Result<Footprint> {
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
        "{} configured no address in 15 s; end of its log:\n{}",
        client.label(),
        contender.log_tail()
    );
    // Past DAD and the first timers.
    std::thread::sleep(Duration::from_secs(3));
    let idle_memory = contender.memory();
    let idle_processes = contender.processes().len();
    let cpu_before = contender.cpu_time();
    let switches_before = contender.voluntary_switches();
    let router_packets_before = router_packets_sent(&lab);
    std::thread::sleep(idle);
    let idle_router_packets = router_packets_sent(&lab).saturating_sub(router_packets_before);
    let idle_cpu = contender.cpu_time() - cpu_before;
    let idle_wakeups = contender
        .voluntary_switches()
        .saturating_sub(switches_before);

    let flood = if with_flood {
        Some(flood(client, &lab, &contender)?)
    } else {
        None
    };
    Ok(Footprint {
        client,
        idle_memory,
        idle_cpu,
        idle_wakeups,
        idle_router_packets,
        idle_period: idle,
        idle_processes,
        flood,
    })
}

/// Floods the client and measures what is left once it has settled.
fn flood(client: Client, lab: &Lab, contender: &Contender) -> anyhow::Result<AfterFlood> {
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
    Ok(AfterFlood {
        memory: contender.memory(),
        addresses: global_addresses(lab),
        routes: routes(lab),
        processes: contender.processes().len(),
    })
}

/// slaacd, then dhcpcd; each flooded after its idle period if `with_flood`.
pub fn measure(idle: Duration, with_flood: bool) -> anyhow::Result<Vec<Footprint>> {
    let witness = crate::dhcpcd::ResolvConfWitness::take()?;
    let results = [Client::Slaacd, Client::Dhcpcd]
        .into_iter()
        .map(|client| {
            run_once(client, idle, with_flood)
                .with_context(|| format!("footprint of {}", client.label()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    witness.check()?;
    Ok(results)
}

pub fn report(results: &[Footprint]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| client | processes idle | RSS idle | PSS idle | anonymous idle | CPU over idle period | \
         wake-ups over idle period | packets the router sent over idle period | \
         RSS after {FLOOD_SIZE}-RA flood | PSS after flood | anonymous after flood | \
         processes after flood | global addresses after flood | IPv6 routes after flood |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for result in results {
        let after_flood = result.flood.as_ref().map_or_else(
            || "| not flooded | | | | | |".to_owned(),
            |flood| {
                format!(
                    "| {} | {} | {} | {} |",
                    memory_columns(flood.memory),
                    flood.processes,
                    flood.addresses,
                    flood.routes
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3} s over {} s | {} | {} {after_flood}",
            result.client.label(),
            result.idle_processes,
            memory_columns(result.idle_memory),
            result.idle_cpu.as_secs_f64(),
            result.idle_period.as_secs(),
            result.idle_wakeups,
            result.idle_router_packets,
        );
    }
    out
}

/// RSS, PSS and anonymous memory as three cells of a table row.
fn memory_columns(memory: Memory) -> String {
    format!(
        "{} KiB | {} KiB | {} KiB",
        memory.rss_kib, memory.pss_kib, memory.anonymous_kib
    )
}
