//! Pipeline throughput and cost: the same crafted Router Advertisements (a
//! few routers refreshing their prefixes, as on a busy link) offered to
//! slaacd and to dhcpcd in turn; how many each worked through per second and
//! the CPU time each spent per 10,000.
//!
//! For slaacd "worked through" means read by the frontend and not dropped
//! there for lack of room toward the engine: every such RA crossed
//! frontend -> engine, and each change it carried reached the parent.

use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::time::Duration;

use anyhow::Context;
use slaacd_tests::lab::Lab;
use slaacd_tests::ra_sender::{RaSender, advert_with_prefix};
use slaacd_wire::RouterAdvert;

use crate::contender::Contender;
use crate::convergence::Client;

/// Routers taking turns in the traffic: well under every cap, so nothing is
/// rejected as too many.
const ROUTERS: u16 = 4;
/// Bursts of this many RAs with a pause between set the offered rate.
const BURST: usize = 100;
const PAUSE: Duration = Duration::from_millis(20);

/// What one client did with the traffic.
pub struct Throughput {
    pub client: Client,
    pub sent: usize,
    pub send_time: Duration,
    /// RAs the kernel delivered in the host namespace.
    pub delivered: u64,
    /// RAs lost at the client's full raw socket.
    pub socket_full: u64,
    /// RAs the client itself dropped (slaacd's counters).
    pub dropped: Option<u64>,
    /// Until the client's CPU time stopped growing after the last RA.
    pub busy_time: Duration,
    pub cpu: Duration,
}

impl Throughput {
    fn worked_through(&self) -> u64 {
        self.delivered - self.socket_full.min(self.delivered) - self.dropped.unwrap_or(0)
    }
}

/// Advertisement `n` of the traffic: router n mod ROUTERS with its prefix.
fn refresh_advert(n: usize) -> (Ipv6Addr, RouterAdvert) {
    let router = (n % usize::from(ROUTERS)) as u16 + 1;
    let source = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0xab, router);
    let prefix = Ipv6Addr::new(0x2001, 0xdb8, 0x100 + router, 0, 0, 0, 0, 0);
    (source, advert_with_prefix(prefix))
}

fn run_once(client: Client, count: usize) -> anyhow::Result<Throughput> {
    let lab = Lab::new();
    let contender = Contender::start(client, &lab)?;
    lab.host.ip(&["link", "set", "h0", "up"]);
    lab.router_link_local();
    let sender = RaSender::open(&lab.router, "r0")?;
    // Warm up: the first RAs of each router configure its address and route.
    sender.send_paced(usize::from(ROUTERS) * 4, BURST, PAUSE, refresh_advert)?;
    std::thread::sleep(Duration::from_secs(2));
    contender.settle(Duration::from_secs(10));

    let delivered_before = lab.host.snmp6("Icmp6InType134");
    let socket_full_before = lab.host.raw6_socket_drops();
    let dropped_before = contender.dropped();
    let cpu_before = contender.cpu_time();
    let send_time = sender
        .send_paced(count, BURST, PAUSE, refresh_advert)
        .context("sending the traffic")?;
    let busy_time = send_time + contender.settle(Duration::from_secs(30));
    Ok(Throughput {
        client,
        sent: count,
        send_time,
        delivered: lab.host.snmp6("Icmp6InType134") - delivered_before,
        socket_full: lab.host.raw6_socket_drops() - socket_full_before,
        dropped: contender
            .dropped()
            .zip(dropped_before)
            .map(|(after, before)| after - before),
        busy_time,
        cpu: contender.cpu_time() - cpu_before,
    })
}

/// slaacd and dhcpcd on the same `count` RAs each.
pub fn measure(count: usize) -> anyhow::Result<Vec<Throughput>> {
    let witness = crate::dhcpcd::ResolvConfWitness::take()?;
    let results = [Client::Slaacd, Client::Dhcpcd]
        .into_iter()
        .map(|client| {
            run_once(client, count).with_context(|| format!("throughput of {}", client.label()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    witness.check()?;
    Ok(results)
}

pub fn report(results: &[Throughput]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| client | RAs sent | offered RAs/s | delivered | lost at full socket | dropped by client | \
         worked through | RAs/s worked through | CPU s | CPU s per 10,000 RAs |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for result in results {
        let worked = result.worked_through();
        let offered = result.sent as f64 / result.send_time.as_secs_f64();
        let rate = worked as f64 / result.busy_time.as_secs_f64();
        let per_10k = result.cpu.as_secs_f64() * 10_000.0 / result.delivered.max(1) as f64;
        let dropped = result
            .dropped
            .map_or_else(|| "not counted".to_string(), |count| count.to_string());
        let _ = writeln!(
            out,
            "| {} | {} | {offered:.0} | {} | {} | {dropped} | {worked} | {rate:.0} | {:.3} | {per_10k:.3} |",
            result.client.label(),
            result.sent,
            result.delivered,
            result.socket_full,
            result.cpu.as_secs_f64(),
        );
    }
    out
}
