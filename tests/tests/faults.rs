//! Fault and abuse tests of the real daemon, each bounded in time and in
//! packets, each inside namespaces it creates: an RA flood from thousands of
//! made-up routers, a corpus of malformed RAs, SIGKILL of each process, the
//! link going down or away under the daemon, and the drops only the
//! frontend can see (RAs in fragments, RAs on an interface not managed).
//!
//! Figures printed here (memory, counts) are for the reader; the assertions
//! hold only generous safety bounds and the accounting of what was dropped.
//!
//! The floods run alone (see [`NEIGHBOUR_TABLE`]): they fill a table that
//! every namespace of the machine shares.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;
use std::process::Stdio;
use std::sync::mpsc::Receiver;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::Value;
use slaacd_tests::kernel_view;
use slaacd_tests::lab::{Lab, link_local_of, router_namespace};
use slaacd_tests::monitor::{IpMonitor, events_about};
use slaacd_tests::netns::Netns;
use slaacd_tests::process::{Guarded, is_alive, name_of, rss_kib};
use slaacd_tests::ra_sender::{
    ALL_NODES, ND_HOP_LIMIT, RaSender, advert_with_prefix, flood_advert, icmpv6_checksum,
};
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::{poll_until, wait_for};
use slaacd_wire::NdOption;

const LAB_PREFIX: &str = "2001:db8:1::/64";
const FLOOD_SIZE: usize = 20_000;
/// The flood goes out in bursts, so it lasts a few seconds rather than
/// overrunning the veth's backlog in one go.
const FLOOD_BURST: usize = 250;
const FLOOD_PAUSE: Duration = Duration::from_millis(50);
/// The engine's default caps (crates/core Limits::default).
const ADDRESS_CAP: usize = 16;
const ROUTER_CAP: usize = 16;
/// A generous bound on the daemon's three processes together.
const RSS_BOUND_KIB: u64 = 64 * 1024;
/// Reasons for which a whole advertisement is dropped (the others count
/// entries of an advertisement that was otherwise used).
const WHOLE_ADVERT_REASONS: [&str; 9] = [
    "hop-limit-not-255",
    "engine-busy",
    "fragmented",
    "truncated",
    "incomplete",
    "engine-call-failed",
    "routers-limit",
    "interface-not-running",
    "source-not-link-local",
];

/// Linux has one IPv6 neighbour table for the whole machine: its limit
/// (gc_thresh3, 1024 entries by default) counts the entries of every
/// namespace, and each RA from a new source makes one, accept_ra=0 or not.
/// A flood from thousands of sources keeps it full for seconds, and
/// meanwhile no namespace can make the entry a packet sent through the IPv6
/// stack needs: such a send fails with EINVAL (ip6_finish_output2), radvd
/// cannot answer, dmesg says "neighbor table overflow". (slaacd's own
/// solicitations leave through a packet socket and need no entry.) So a
/// flood holds this exclusively and every other test here that needs
/// Neighbor Discovery shares it.
static NEIGHBOUR_TABLE: RwLock<()> = RwLock::new(());

/// How often the machine's IPv6 neighbour table was found full so far (the
/// `table_fulls` of /proc/net/stat/ndisc_cache, one line per CPU, in hex).
fn neighbour_table_fulls() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/net/stat/ndisc_cache") else {
        return 0;
    };
    text.lines()
        .skip(1)
        .filter_map(|line| u64::from_str_radix(line.split_whitespace().last()?, 16).ok())
        .sum()
}

/// For a flood: no other test of this file runs meanwhile.
fn neighbour_table_alone() -> RwLockWriteGuard<'static, ()> {
    NEIGHBOUR_TABLE
        .write()
        .unwrap_or_else(PoisonError::into_inner)
}

/// For a test that needs Neighbor Discovery to work: no flood runs meanwhile.
fn neighbour_table_shared() -> RwLockReadGuard<'static, ()> {
    NEIGHBOUR_TABLE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
}

/// A lab with radvd advertising the lab prefix and slaacd managing h0,
/// configured: the legitimate address and default route are in place.
struct Configured {
    lab: Lab,
    radvd: Radvd,
    slaacd: Slaacd,
    address: Ipv6Addr,
    router: Ipv6Addr,
}

impl Configured {
    /// The basic lab, radvd on r0.
    fn start(radvd_config: &str) -> Configured {
        Configured::start_in(Lab::new(), "r0", radvd_config)
    }

    /// `lab`, with radvd on the router's `router_interface`.
    fn start_in(lab: Lab, router_interface: &str, radvd_config: &str) -> Configured {
        let radvd = Radvd::start(&lab.router, lab.dir.path(), radvd_config);
        let slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
        // Until slaacd has taken over (accept_ra=0), the kernel's own SLAAC
        // would configure h0 itself: bring it up only once slaacd answers.
        slaacd.wait_answering(&["h0"]);
        lab.host.ip(&["link", "set", "h0", "up"]);
        let router = wait_for(
            "the router's link-local address",
            Duration::from_secs(5),
            || link_local_of(&lab.router, router_interface),
        );
        // The stable address slaacd proposed (a temporary one, which the
        // kernel may make from it, is not what a restart adopts).
        let configured = poll_until(Duration::from_secs(15), || {
            let address = stable_proposal(&slaacd)?;
            (global_addresses(&lab.host).contains(&address)
                && default_gateways(&lab.host).contains(&router))
            .then_some(address)
        });
        let Some(address) = configured else {
            panic!(
                "h0 got no address in {LAB_PREFIX} and default route via {router}; \
                 slaacd's log:\n{}\nradvd's log:\n{}",
                slaacd.log(),
                std::fs::read_to_string(
                    lab.dir
                        .path()
                        .join(format!("radvd-{}.log", lab.router.name()))
                )
                .unwrap_or_default()
            )
        };
        Configured {
            lab,
            radvd,
            slaacd,
            address,
            router,
        }
    }
}

/// radvd with multicast replies to solicitations allowed at once and
/// unsolicited ones rare: only an RS exchange configures the host quickly.
/// radvd accepts a MinDelayBetweenRAs under 3 s only with its Mobile IPv6
/// extensions, hence the home agent flag, which means nothing to a host.
fn solicited_only_config(interface: &str) -> String {
    format!(
        "interface {interface} {{
    AdvSendAdvert on;
    MinRtrAdvInterval 60;
    MaxRtrAdvInterval 120;
    MinDelayBetweenRAs 0.1;
    AdvHomeAgentFlag on;
    AdvDefaultLifetime 1800;
    prefix {LAB_PREFIX} {{
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 3600;
        AdvPreferredLifetime 1800;
    }};
}};
"
    )
}

/// The global addresses of h0.
fn global_addresses(host: &Netns) -> Vec<Ipv6Addr> {
    kernel_view::global_addresses(host, "h0")
        .into_iter()
        .map(|address| address.address)
        .collect()
}

/// The first stable address slaacd proposes on h0, if slaacctl shows one.
fn stable_proposal(slaacd: &Slaacd) -> Option<Ipv6Addr> {
    let output = slaacd.ctl(&["--json", "show", "interface", "h0"]);
    let reply: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    reply["interfaces"][0]["addressProposals"]
        .as_array()?
        .iter()
        .filter(|proposal| proposal["temporary"] == false)
        .find_map(|proposal| proposal["address"].as_str()?.parse().ok())
}

/// An address of h0 in the lab prefix, if there is one.
fn lab_address(host: &Netns) -> Option<Ipv6Addr> {
    global_addresses(host)
        .into_iter()
        .find(|address| address.segments()[..4] == [0x2001, 0xdb8, 1, 0])
}

/// The gateways of h0's IPv6 default routes, one per route, whether the
/// route names its gateway or a nexthop object does.
fn default_gateways(host: &Netns) -> Vec<Ipv6Addr> {
    kernel_view::routes_to(host, "h0", "default")
        .into_iter()
        .filter_map(|route| route.gateway)
        .collect()
}

fn sum_of(drops: &BTreeMap<String, u64>, reasons: &[&str]) -> u64 {
    reasons
        .iter()
        .map(|reason| drops.get(*reason).copied().unwrap_or(0))
        .sum()
}

/// Runs slaacctl in a child and gives up on it after `timeout`.
fn ctl_answers_within(slaacd: &Slaacd, netns: &Netns, timeout: Duration) -> bool {
    let mut command = netns.command(
        slaacd_tests::slaacd::binary("slaacctl")
            .to_str()
            .expect("a UTF-8 path"),
    );
    command
        .arg("-s")
        .arg(&slaacd.socket)
        .args(["show", "interface", "h0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = Guarded::new(command.spawn().expect("running slaacctl"));
    child
        .wait_timeout(timeout)
        .is_some_and(|status| status.success())
}

/// The daemon's memory: every process's VmRSS, summed, in KiB.
fn total_rss_kib(slaacd: &Slaacd) -> u64 {
    slaacd.processes().into_iter().filter_map(rss_kib).sum()
}

/// Waits until slaacctl's drop counters stop changing: the daemon has caught
/// up with what the kernel delivered.
fn settled_drops(slaacd: &Slaacd) -> BTreeMap<String, u64> {
    let mut last = slaacd.drops("h0");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = slaacd.drops("h0");
        if now == last || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// A configured lab after the flood, and what the flood did.
struct Flooded {
    lab: Configured,
    flood_time: Duration,
    /// slaacctl runs during the flood that answered, and that did not
    /// within 5 s.
    answers: u32,
    timeouts: u32,
    /// Advertisements the daemon's socket received (delivered by the kernel
    /// and not lost to a full socket).
    read_by_daemon: u64,
    /// Those it dropped whole, for any reason it shows.
    whole_adverts_dropped: u64,
    /// Every drop counter that grew, by how much.
    dropped: BTreeMap<String, u64>,
    rss_after_kib: u64,
    /// Last, so it is released once the lab is gone.
    _alone: RwLockWriteGuard<'static, ()>,
}

/// Configures a lab, then sends the flood from random routers while
/// slaacctl asks about h0 again and again, and waits for the daemon to catch
/// up.
fn flooded() -> Flooded {
    let alone = neighbour_table_alone();
    let config = single_prefix_config("r0", LAB_PREFIX, 3600, 1800, 1800);
    let lab = Configured::start(&config);
    let sender = RaSender::open(&lab.lab.router, "r0").expect("opening the flood's socket");
    let rss_before = total_rss_kib(&lab.slaacd);
    let drops_before = lab.slaacd.drops("h0");
    let delivered_before = lab.lab.host.snmp6("Icmp6InType134");
    let socket_drops_before = lab.lab.host.raw6_socket_drops();

    let started = Instant::now();
    let (answers, timeouts) = std::thread::scope(|scope| {
        let flood = scope.spawn(|| {
            let mut rng = SmallRng::seed_from_u64(0x5eed);
            sender
                .send_paced(FLOOD_SIZE, FLOOD_BURST, FLOOD_PAUSE, |_| {
                    flood_advert(&mut rng)
                })
                .unwrap_or_else(|error| panic!("flooding: {error}"))
        });
        let (mut answers, mut timeouts) = (0, 0);
        while !flood.is_finished() {
            if ctl_answers_within(&lab.slaacd, &lab.lab.host, Duration::from_secs(5)) {
                answers += 1;
            } else {
                timeouts += 1;
            }
        }
        flood.join().expect("the flood thread panicked");
        (answers, timeouts)
    });
    let flood_time = started.elapsed();
    let drops_after = settled_drops(&lab.slaacd);
    let delivered = lab.lab.host.snmp6("Icmp6InType134") - delivered_before;
    let socket_drops = lab.lab.host.raw6_socket_drops() - socket_drops_before;
    let rss_after = total_rss_kib(&lab.slaacd);

    let dropped: BTreeMap<String, u64> = drops_after
        .iter()
        .map(|(reason, count)| {
            let before = drops_before.get(reason).copied().unwrap_or(0);
            (reason.clone(), count - before)
        })
        .filter(|(_, count)| *count > 0)
        .collect();
    let whole_adverts_dropped =
        sum_of(&drops_after, &WHOLE_ADVERT_REASONS) - sum_of(&drops_before, &WHOLE_ADVERT_REASONS);
    let read_by_daemon = delivered - socket_drops;
    eprintln!(
        "flood: {FLOOD_SIZE} RAs sent in {flood_time:?}; kernel delivered {delivered}, \
         raw socket full {socket_drops}, read {read_by_daemon}; slaacd dropped {dropped:?}; \
         slaacctl answered {answers} times, timed out {timeouts}; \
         RSS {rss_before} KiB before, {rss_after} KiB after"
    );

    Flooded {
        lab,
        flood_time,
        answers,
        timeouts,
        read_by_daemon,
        whole_adverts_dropped,
        dropped,
        rss_after_kib: rss_after,
        _alone: alone,
    }
}

#[test]
fn ra_flood_keeps_router_caps_memory_and_the_legitimate_router() {
    let flooded = flooded();
    let lab = &flooded.lab;
    for pid in lab.slaacd.processes() {
        assert!(is_alive(pid), "{:?} ({pid}) died", name_of(pid));
    }
    assert_eq!(
        flooded.timeouts, 0,
        "slaacctl went unanswered during the flood"
    );
    assert!(flooded.answers > 0, "slaacctl never ran during the flood");
    let gateways = default_gateways(&lab.lab.host);
    assert!(
        gateways.len() <= ROUTER_CAP,
        "{} default routes",
        gateways.len()
    );
    let unique: BTreeSet<_> = gateways.iter().collect();
    assert_eq!(unique.len(), gateways.len(), "duplicate default routes");
    let addresses = global_addresses(&lab.lab.host);
    assert!(
        addresses.contains(&lab.address),
        "the legitimate address {} is gone: {addresses:?}",
        lab.address
    );
    assert!(
        gateways.contains(&lab.router),
        "the legitimate router {} lost its default route: {gateways:?}",
        lab.router
    );
    // Each advertisement the daemon read was either used (at most one per
    // router slot, plus radvd's own) or dropped for a reason it shows.
    let (read, dropped) = (flooded.read_by_daemon, flooded.whole_adverts_dropped);
    assert!(dropped <= read, "{dropped} dropped of {read} read");
    let unaccounted = read - dropped;
    let radvd_adverts = 5 + flooded.flood_time.as_secs();
    assert!(
        unaccounted <= ROUTER_CAP as u64 + radvd_adverts,
        "{unaccounted} of {read} advertisements read are neither used nor counted as \
         dropped: {:?}",
        flooded.dropped
    );
    assert!(
        flooded.rss_after_kib < RSS_BOUND_KIB,
        "slaacd uses {} KiB after the flood",
        flooded.rss_after_kib
    );
}

#[test]
fn ra_flood_keeps_at_most_16_addresses_of_slaacd_in_the_kernel() {
    let flooded = flooded();
    let host = &flooded.lab.lab.host;
    let shown = || host.ip(&["-6", "addr", "show", "dev", "h0", "scope", "global"]);
    // slaacd's own addresses are capped; on Linux the kernel adds at most one
    // temporary address to each (IFA_F_MANAGETEMPADDR), which it counts
    // against its own max_addresses.
    let stable = global_addresses_flagged(host, false);
    let temporary = global_addresses_flagged(host, true);
    assert!(
        stable.len() <= ADDRESS_CAP,
        "{} addresses of slaacd:\n{}",
        stable.len(),
        shown()
    );
    assert!(
        temporary.len() <= stable.len(),
        "{} temporary addresses:\n{}",
        temporary.len(),
        shown()
    );
    assert!(stable.contains(&flooded.lab.address));
}

/// The global addresses of h0 that are (or are not) kernel temporary addresses.
fn global_addresses_flagged(host: &Netns, temporary: bool) -> Vec<Ipv6Addr> {
    kernel_view::global_addresses(host, "h0")
        .into_iter()
        .filter(|address| address.has("temporary") == temporary)
        .map(|address| address.address)
        .collect()
}

/// One malformed advertisement and the reason it must be counted under.
struct Malformed {
    name: &'static str,
    source: Ipv6Addr,
    hop_limit: u8,
    message: Vec<u8>,
    reason: &'static str,
}

fn malformed_corpus() -> Vec<Malformed> {
    let router: Ipv6Addr = "fe80::bad:1".parse().unwrap();
    let good = advert_with_prefix("2001:db8:77::".parse().unwrap());
    let emitted = good.emit();
    // The prefix length byte of the first (and only) prefix option.
    let prefix_len_at = 16 + 2;
    let with = |change: &dyn Fn(&mut Vec<u8>)| {
        let mut message = emitted.clone();
        change(&mut message);
        message
    };
    let case = |name, message, reason| Malformed {
        name,
        source: router,
        hop_limit: ND_HOP_LIMIT,
        message,
        reason,
    };
    let mut many_dns = good.clone();
    many_dns.options.push(NdOption::Rdnss {
        lifetime: 600,
        servers: (1..=9)
            .map(|n| Ipv6Addr::new(0x2001, 0xdb8, 0x53, 0, 0, 0, 0, n))
            .collect(),
    });
    let mut many_options = good.clone();
    many_options
        .options
        .extend((0..200).map(|_| NdOption::Unknown {
            kind: 253,
            data: vec![0; 6],
        }));
    vec![
        case(
            "zero-length option",
            with(&|m| m.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0])),
            "option-length-zero",
        ),
        case(
            "option past the end",
            with(&|m| m.extend_from_slice(&[3, 4, 64, 0xc0, 0, 0, 0, 0])),
            "option-truncated",
        ),
        case("truncated header", emitted[..12].to_vec(), "too-short"),
        case(
            "prefix length 129",
            with(&|m| m[prefix_len_at] = 129),
            "prefix-length-invalid",
        ),
        case(
            "prefix length 255",
            with(&|m| m[prefix_len_at] = 255),
            "prefix-length-invalid",
        ),
        case(
            "more than 8 DNS servers",
            many_dns.emit(),
            "dns-servers-limit",
        ),
        Malformed {
            hop_limit: 64,
            ..case("wrong hop limit", emitted.clone(), "hop-limit-not-255")
        },
        Malformed {
            source: "2001:db8:1::99".parse().unwrap(),
            ..case(
                "non-link-local source",
                emitted.clone(),
                "source-not-link-local",
            )
        },
        case("code 1", with(&|m| m[1] = 1), "bad-code"),
        case("200 options", many_options.emit(), "too-many-options"),
    ]
}

#[test]
fn malformed_ras_are_dropped_for_their_reason_and_crash_nothing() {
    let _shared = neighbour_table_shared();
    let config = single_prefix_config("r0", LAB_PREFIX, 3600, 1800, 1800);
    let lab = Configured::start(&config);
    // 200 options of 8 bytes do not fit in 1500 bytes: a jumbo link lets
    // that one advertisement go out whole.
    lab.lab.router.ip(&["link", "set", "r0", "mtu", "9000"]);
    lab.lab.host.ip(&["link", "set", "h0", "mtu", "9000"]);
    let sender = RaSender::open(&lab.lab.router, "r0").expect("opening the sender's socket");
    let processes = lab.slaacd.processes();
    const COPIES: u64 = 3;
    for malformed in malformed_corpus() {
        let before = lab.slaacd.drops("h0");
        for _ in 0..COPIES {
            sender
                .send_icmp(malformed.source, malformed.hop_limit, &malformed.message)
                .unwrap_or_else(|error| panic!("sending {}: {error}", malformed.name));
        }
        let counted = |drops: &BTreeMap<String, u64>| {
            drops.get(malformed.reason).copied().unwrap_or(0)
                - before.get(malformed.reason).copied().unwrap_or(0)
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        let after = loop {
            let after = lab.slaacd.drops("h0");
            if counted(&after) >= COPIES || Instant::now() > deadline {
                break after;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for pid in &processes {
            assert!(
                is_alive(*pid),
                "{:?} ({pid}) died after the {}; log:\n{}",
                name_of(*pid),
                malformed.name,
                lab.slaacd.log()
            );
        }
        // An advertisement with too many servers is used; only the servers
        // past the cap are counted, once per server per copy. Every other
        // case drops the whole advertisement: once per copy, exactly.
        let expected = if malformed.reason == "dns-servers-limit" {
            counted(&after) >= COPIES
        } else {
            counted(&after) == COPIES
        };
        assert!(
            expected,
            "{} copies of the {} were not counted as {}: before {before:?}, after {after:?}",
            COPIES, malformed.name, malformed.reason
        );
        eprintln!("{}: counted as {}", malformed.name, malformed.reason);
    }
    assert!(
        global_addresses(&lab.lab.host).contains(&lab.address),
        "the legitimate address is gone"
    );
}

/// The valid lifetime the kernel gives `address` on h0 (seconds; u32::MAX
/// is forever), if h0 has it.
fn valid_lifetime_of(host: &Netns, address: Ipv6Addr) -> Option<u64> {
    kernel_view::global_addresses(host, "h0")
        .into_iter()
        .find(|kernel| kernel.address == address)
        .map(|kernel| kernel.valid)
}

/// Whether `monitor_output` (of `ip monitor address`) shows `address`
/// deleted.
fn deleted(monitor_output: &str, address: Ipv6Addr) -> bool {
    events_about(monitor_output, address)
        .iter()
        .any(|line| line.starts_with("Deleted"))
}

/// Waits until slaacd reports a configured proposal for `address`: it adopted
/// what the kernel had.
fn wait_adopted(slaacd: &Slaacd, address: Ipv6Addr) {
    let wanted = address.to_string();
    let adopted = poll_until(Duration::from_secs(15), || {
        // The control socket appears a moment after the restart.
        let output = slaacd.ctl(&["--json", "show", "interface", "h0"]);
        let reply: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        let proposals = reply["interfaces"][0]["addressProposals"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        proposals
            .iter()
            .any(|proposal| {
                proposal["address"] == wanted.as_str()
                    && proposal["state"]
                        .as_str()
                        .is_some_and(|state| state.ends_with("CONFIGURED"))
            })
            .then_some(())
    });
    assert!(
        adopted.is_some(),
        "the restarted daemon did not adopt {address}; slaacctl show interface:\n{}\nlog:\n{}",
        String::from_utf8_lossy(&slaacd.ctl(&["show", "interface", "h0"]).stdout),
        slaacd.log()
    );
}

#[test]
fn sigkill_of_each_process_stops_the_daemon_and_a_restart_adopts_without_a_flap() {
    let _shared = neighbour_table_shared();
    let config = single_prefix_config("r0", LAB_PREFIX, 3600, 1800, 1800);
    let Configured {
        lab,
        radvd: _radvd,
        mut slaacd,
        address,
        ..
    } = Configured::start(&config);
    for victim in ["slaacd-frontend", "slaacd-engine", "slaacd"] {
        let monitor = IpMonitor::start(&lab.host, &["address"]);
        let processes: Vec<(u32, String)> = slaacd
            .processes()
            .into_iter()
            .filter_map(|pid| Some((pid, name_of(pid)?)))
            .collect();
        assert_eq!(processes.len(), 3, "processes: {processes:?}");
        let (pid, _) = processes
            .iter()
            .find(|(_, name)| name == victim)
            .unwrap_or_else(|| panic!("no {victim} among {processes:?}"));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid as i32), Signal::SIGKILL)
            .unwrap_or_else(|error| panic!("killing {victim}: {error}"));
        let status = slaacd
            .process
            .wait_timeout(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("slaacd kept running without {victim}:\n{}", slaacd.log()));
        assert!(
            !status.success(),
            "slaacd exited with {status} after {victim} died"
        );
        wait_for("every process to exit", Duration::from_secs(10), || {
            processes
                .iter()
                .all(|(pid, _)| !is_alive(*pid))
                .then_some(())
        });
        let log = slaacd.log();
        if victim != "slaacd" {
            let named = log
                .lines()
                .any(|line| line.contains(victim) && line.contains("SIGKILL"));
            assert!(named, "no log line names {victim} killed:\n{log}");
        } else {
            // The parent cannot log its own SIGKILL: a child says it went
            // (the other may first see its peer go, and say that instead).
            let named = log.lines().any(|line| {
                (line.contains(" slaacd-frontend: ") || line.contains(" slaacd-engine: "))
                    && line.contains("the parent")
            });
            assert!(named, "no child logged that the parent went:\n{log}");
        }
        let valid_lifetime = valid_lifetime_of(&lab.host, address)
            .unwrap_or_else(|| panic!("the kernel lost {address} when {victim} was killed"));
        assert!(
            valid_lifetime < u64::from(u32::MAX),
            "{address} has no kernel lifetime: it would outlive the daemon forever"
        );
        slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
        wait_adopted(&slaacd, address);
        let events = monitor.finish();
        assert!(
            !deleted(&events, address),
            "{address} was deleted after {victim} was killed and slaacd restarted:\n{events}"
        );
        eprintln!("{victim}: killed, daemon exited {status}, address kept and adopted");
    }
}

/// How long the link stays configured before a fault: the engine sends at
/// most one solicitation per 4 s (crates/core solicit.rs), and a fault inside
/// that window would measure the floor, not the recovery.
const SOLICITATION_FLOOR: Duration = Duration::from_millis(4500);
/// One RS exchange, generously: the RS, radvd's reply and the netlink writes
/// take milliseconds.
const RECOVERY_BOUND: Duration = Duration::from_secs(3);

/// The gateways of the default routes slaacd made on h0: each goes through
/// a nexthop object (the kernel's own RA processing makes plain ones).
fn slaacd_default_gateways(host: &Netns) -> Vec<Ipv6Addr> {
    kernel_view::routes_to(host, "h0", "default")
        .into_iter()
        .filter(|route| route.nexthop_id.is_some())
        .filter_map(|route| route.gateway)
        .collect()
}

/// Whether h0 has the stable address slaacd proposes and slaacd's default
/// route through `router`: what the kernel might configure by itself does
/// not count.
fn configured(slaacd: &Slaacd, host: &Netns, router: Ipv6Addr) -> bool {
    stable_proposal(slaacd).is_some_and(|address| global_addresses(host).contains(&address))
        && slaacd_default_gateways(host).contains(&router)
}

/// Waits for slaacd's address and default route through `router` after
/// `event`, and says how long they took; on failure, says whether they came
/// back later (and when) or not at all.
fn recovery_time(slaacd: &Slaacd, host: &Netns, router: Ipv6Addr, event: &str) -> Duration {
    let since = Instant::now();
    let fulls_before = neighbour_table_fulls();
    if poll_until(RECOVERY_BOUND, || {
        configured(slaacd, host, router).then_some(())
    })
    .is_some()
    {
        return since.elapsed();
    }
    let state = format!(
        "addresses {:?}, slaacd's default routes via {:?}",
        global_addresses(host),
        slaacd_default_gateways(host)
    );
    let fulls = neighbour_table_fulls().saturating_sub(fulls_before);
    let later = poll_until(Duration::from_secs(10), || {
        configured(slaacd, host, router).then_some(since.elapsed())
    });
    panic!(
        "no address and default route {RECOVERY_BOUND:?} after {event} ({state}); \
         recovered later: {later:?}; meanwhile the machine's IPv6 neighbour table was \
         full {fulls} times (a flood elsewhere on the machine?); slaacctl show \
         interface:\n{}\nslaacd's log:\n{}",
        String::from_utf8_lossy(&slaacd.ctl(&["show", "interface", "h0"]).stdout),
        slaacd.log()
    );
}

/// radvd answers solicitations at once but advertises unsolicited only every
/// minute or two: recovery within [`RECOVERY_BOUND`] takes an RS exchange.
fn solicited_only_lab() -> Configured {
    let lab = Configured::start(&solicited_only_config("r0"));
    std::thread::sleep(SOLICITATION_FLOOR);
    lab
}

/// The interface index of h0 now.
fn h0_index(host: &Netns) -> u64 {
    host.ip_json(&["link", "show", "dev", "h0"])[0]["ifindex"]
        .as_u64()
        .expect("h0 has an interface index")
}

#[test]
fn link_down_up_recovers_within_one_rs_exchange() {
    let _shared = neighbour_table_shared();
    let Configured {
        lab,
        radvd: _radvd,
        slaacd,
        router,
        ..
    } = solicited_only_lab();
    lab.host.ip(&["link", "set", "h0", "down"]);
    wait_for("h0's addresses to go", Duration::from_secs(5), || {
        lab_address(&lab.host).is_none().then_some(())
    });
    lab.host.ip(&["link", "set", "h0", "up"]);
    eprintln!(
        "link down/up: configured again after {:?}",
        recovery_time(&slaacd, &lab.host, router, "h0 went down and up")
    );
    assert_eq!(slaacd.processes().len(), 3, "slaacd lost a process");
}

/// A lab whose router stays up while the host's link is deleted and made
/// again, as a real router does when a host's interface goes: radvd runs on
/// the bridge br0 (the router's address and MAC), whose ports are r0 (h0's
/// peer) and k0, a spare veth that keeps the bridge's carrier.
fn bridged_lab() -> Configured {
    slaacd_tests::require_root();
    let router = router_namespace();
    router.ip(&["link", "add", "br0", "type", "bridge"]);
    router.ip(&["link", "set", "br0", "type", "bridge", "stp_state", "0"]);
    router.ip(&[
        "link",
        "set",
        "br0",
        "type",
        "bridge",
        "mcast_snooping",
        "0",
    ]);
    router.sysctl("br0", "accept_dad", "0");
    router.ip(&["link", "set", "br0", "address", "02:00:00:00:00:01", "up"]);
    router.ip(&["link", "add", "k0", "type", "veth", "peer", "name", "k1"]);
    router.ip(&["link", "set", "k0", "master", "br0", "up"]);
    router.ip(&["link", "set", "k1", "up"]);
    let lab = Lab::around(router, Netns::new("h"));
    connect_host(&lab);
    let configured = Configured::start_in(lab, "br0", &solicited_only_config("br0"));
    std::thread::sleep(SOLICITATION_FLOOR);
    configured
}

/// Makes the veth pair h0 (host, down) - r0 (a port of the router's br0).
fn connect_host(lab: &Lab) {
    lab.router.ip(&[
        "link",
        "add",
        "r0",
        "type",
        "veth",
        "peer",
        "name",
        "h0",
        "netns",
        lab.host.name(),
    ]);
    lab.router.ip(&["link", "set", "r0", "master", "br0", "up"]);
    lab.host
        .ip(&["link", "set", "h0", "address", "02:00:00:00:00:02"]);
}

/// Deletes h0 under the daemon and makes it again (same name and MAC, new
/// interface index), left down; returns its old and new index.
fn recreate_h0(lab: &Lab) -> (u64, u64) {
    let old_index = h0_index(&lab.host);
    lab.router.ip(&["link", "del", "r0"]);
    wait_for("h0 to disappear", Duration::from_secs(5), || {
        let links = lab.host.ip_json(&["link", "show"]);
        let names: Vec<String> = links
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|link| Some(link["ifname"].as_str()?.to_string()))
            .collect();
        (!names.iter().any(|name| name == "h0")).then_some(())
    });
    connect_host(lab);
    (old_index, h0_index(&lab.host))
}

#[test]
fn veth_recreation_recovers_within_one_rs_exchange() {
    let _shared = neighbour_table_shared();
    let Configured {
        lab,
        radvd: _radvd,
        slaacd,
        router,
        ..
    } = bridged_lab();
    let (old_index, new_index) = recreate_h0(&lab);
    assert_ne!(
        old_index, new_index,
        "the new h0 has the old interface index"
    );
    // The pause keeps the solicitation floor out of the measurement.
    std::thread::sleep(SOLICITATION_FLOOR);
    lab.host.ip(&["link", "set", "h0", "up"]);
    eprintln!(
        "veth re-created: configured again after {:?}",
        recovery_time(&slaacd, &lab.host, router, "h0 was deleted and made again")
    );
    let shown = slaacd.show_json("h0");
    assert_eq!(
        shown["interfaces"][0]["ifIndex"].as_u64(),
        Some(new_index),
        "slaacctl does not show h0 with its new index: {shown}"
    );
    assert_eq!(slaacd.processes().len(), 3, "slaacd lost a process");
}

/// How long the take-over test waits for slaacd to configure the re-created
/// h0: a few of slaacd's RS retransmissions.
const TAKEOVER_CHECK_BOUND: Duration = Duration::from_secs(30);

/// The address the kernel's own SLAAC would give h0 (modified EUI-64 of
/// 02:00:00:00:00:02 in the lab prefix).
const KERNEL_SLAAC_ADDRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0xff, 0xfe00, 2);

/// A managed link deleted and made again (same name, new index) is taken
/// over from the kernel like the first one was: accept_ra=0, autoconf=0,
/// and no address of the kernel's own SLAAC beside slaacd's.
#[test]
fn veth_recreation_takes_the_new_link_over_from_the_kernel() {
    let _shared = neighbour_table_shared();
    let Configured {
        lab,
        radvd: _radvd,
        slaacd,
        router,
        ..
    } = bridged_lab();
    recreate_h0(&lab);
    std::thread::sleep(SOLICITATION_FLOOR);
    lab.host.ip(&["link", "set", "h0", "up"]);
    // Only that an RA has reached the new h0 matters here, not how soon
    // (veth_recreation_recovers_within_one_rs_exchange times it): the kernel
    // handles an RA before slaacd reads it, so had the kernel's SLAAC been
    // on, its address would be there by now.
    let configured = poll_until(TAKEOVER_CHECK_BOUND, || {
        configured(&slaacd, &lab.host, router).then_some(())
    });
    assert!(
        configured.is_some(),
        "no address and default route {TAKEOVER_CHECK_BOUND:?} after h0 was made again: {:?}\n\
         slaacd's log:\n{}",
        global_addresses(&lab.host),
        slaacd.log()
    );
    for setting in ["accept_ra", "autoconf"] {
        assert_eq!(
            lab.host.read_sysctl("h0", setting),
            "0",
            "{setting} of the new h0 was not taken over"
        );
    }
    assert!(
        !global_addresses(&lab.host).contains(&KERNEL_SLAAC_ADDRESS),
        "the kernel configured h0 by itself: {:?}",
        global_addresses(&lab.host)
    );
}

#[test]
fn the_flap_check_sees_a_deletion_of_that_address_only() {
    let output = "2: h0    inet6 2001:db8:1::5/64 scope global dynamic\n\
                  Deleted 2: h0    inet6 2001:db8:1::7/64 scope global dynamic\n";
    assert!(deleted(output, "2001:db8:1::7".parse().unwrap()));
    assert!(!deleted(output, "2001:db8:1::5".parse().unwrap()));
}

/// IPv6 next-header values the fragments below use.
const NEXT_HEADER_FRAGMENT: u8 = 44;
const NEXT_HEADER_ICMPV6: u8 = 58;

/// `message` (an ICMPv6 message) from `source` to all nodes as two IPv6
/// fragments, the first carrying its first `split` bytes (a multiple of 8),
/// the checksum computed over the whole message.
fn fragmented_icmp(source: Ipv6Addr, message: &[u8], split: usize, id: u32) -> [Vec<u8>; 2] {
    let mut message = message.to_vec();
    message[2..4].fill(0);
    let checksum = icmpv6_checksum(source, ALL_NODES, &message);
    message[2..4].copy_from_slice(&checksum.to_be_bytes());
    let fragment = |offset: usize, more: bool, data: &[u8]| {
        let mut packet = vec![0x60, 0, 0, 0];
        packet.extend_from_slice(&u16::try_from(8 + data.len()).unwrap().to_be_bytes());
        packet.extend_from_slice(&[NEXT_HEADER_FRAGMENT, ND_HOP_LIMIT]);
        packet.extend_from_slice(&source.octets());
        packet.extend_from_slice(&ALL_NODES.octets());
        let offset_and_more = u16::try_from(offset).unwrap() | u16::from(more);
        packet.extend_from_slice(&[NEXT_HEADER_ICMPV6, 0]);
        packet.extend_from_slice(&offset_and_more.to_be_bytes());
        packet.extend_from_slice(&id.to_be_bytes());
        packet.extend_from_slice(data);
        packet
    };
    [
        fragment(0, true, &message[..split]),
        fragment(split, false, &message[split..]),
    ]
}

/// `slaacctl --json monitor` of every interface, its lines read on a thread.
struct JsonMonitor {
    _process: Guarded,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl JsonMonitor {
    /// Starts it and waits until the daemon has registered it: it prints
    /// the solicitations asked for on `interface`.
    fn registered(slaacd: &Slaacd, interface: &str) -> JsonMonitor {
        let (process, lines) = slaacd.ctl_lines(&["--json", "monitor"]);
        let mut monitor = JsonMonitor {
            _process: process,
            lines,
            seen: Vec::new(),
        };
        let registered = poll_until(Duration::from_secs(15), || {
            slaacd.ctl(&["send", "solicitation", interface]);
            monitor.next_within(Duration::from_millis(200), |event| {
                event["event"] == "solicitation"
            })
        });
        assert!(
            registered.is_some(),
            "slaacctl monitor printed no solicitation: {:?}\ndaemon log:\n{}",
            monitor.seen,
            slaacd.log()
        );
        monitor
    }

    /// The first event `wanted` accepts among those printed within
    /// `timeout`.
    fn next_within(&mut self, timeout: Duration, wanted: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            let event: Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("not a JSON line: {error}: {line}"));
            if wanted(&event) {
                return Some(event);
            }
        }
    }

    /// Like `next_within` for 15 s; panics with what was printed.
    fn expect(&mut self, slaacd: &Slaacd, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        self.next_within(Duration::from_secs(15), wanted)
            .unwrap_or_else(|| {
                panic!(
                    "no {what} from slaacctl monitor; it printed:\n{}\ndaemon log:\n{}",
                    self.seen.join("\n"),
                    slaacd.log()
                )
            })
    }
}

/// Drops only the frontend can see, since only its socket tells: an RA
/// that came in IPv6 fragments (RFC 6980: Neighbor Discovery never does)
/// is counted as "fragmented" on h0 and told to the monitor, and the same
/// RA sent whole is taken in; an RA on h1, which slaacd does not manage, is
/// told to the monitor under h1's index as "interface-not-managed" and
/// counted on no managed interface.
#[test]
fn fragmented_and_unmanaged_ras_are_counted_and_told_by_the_frontend() {
    let _shared = neighbour_table_shared();
    let lab = Lab::new();
    lab.add_link("r1", "h1", "02:00:00:00:01:01", "02:00:00:00:01:02");
    let slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    slaacd.wait_answering(&["h0"]);
    for interface in ["h0", "h1"] {
        lab.host.ip(&["link", "set", interface, "up"]);
        // The kernel takes multicast in once the link's ff00::/8 route is
        // there, up to a second after `up`.
        wait_for(
            "the link's multicast route",
            Duration::from_secs(10),
            || {
                lab.host
                    .ip(&["-6", "route", "show", "table", "local", "dev", interface])
                    .contains("ff00::/8")
                    .then_some(())
            },
        );
    }
    let h1_index = lab.host.ip_json(&["link", "show", "dev", "h1"])[0]["ifindex"]
        .as_u64()
        .expect("h1's index");
    let mut monitor = JsonMonitor::registered(&slaacd, "h0");

    let router: Ipv6Addr = "fe80::f:1".parse().unwrap();
    let advert = advert_with_prefix("2001:db8:f::".parse().unwrap()).emit();
    let taken_in = |slaacd: &Slaacd| slaacd.show_json("h0").to_string().contains("2001:db8:f:");
    let sender = RaSender::open(&lab.router, "r0").expect("opening r0's sender");
    const COPIES: u32 = 3;
    for id in 0..COPIES {
        // The RA header in the first fragment, its prefix option in the
        // second.
        for fragment in fragmented_icmp(router, &advert, 16, 0x5a00 + id) {
            sender
                .send_packet(&fragment)
                .unwrap_or_else(|error| panic!("sending a fragment: {error}"));
        }
    }
    let told = monitor.expect(&slaacd, "the fragmented RA's drop", |event| {
        event["event"] == "dropped" && event["reason"] == "fragmented"
    });
    assert_eq!(told["ifName"], "h0", "{told}");
    assert_eq!(told["source"], router.to_string(), "{told}");
    let counted = poll_until(Duration::from_secs(5), || {
        let fragmented = slaacd.drops("h0").get("fragmented").copied();
        (fragmented == Some(u64::from(COPIES))).then_some(())
    });
    assert!(
        counted.is_some(),
        "{COPIES} fragmented RAs, counted {:?}; log:\n{}",
        slaacd.drops("h0"),
        slaacd.log()
    );
    assert!(!taken_in(&slaacd), "a fragmented RA was taken in");
    sender
        .send_icmp(router, ND_HOP_LIMIT, &advert)
        .expect("sending the RA whole");
    assert!(
        poll_until(Duration::from_secs(5), || taken_in(&slaacd).then_some(())).is_some(),
        "the RA sent whole was not taken in either: {}",
        slaacd.show_json("h0")
    );

    let stranger: Ipv6Addr = "fe80::f:2".parse().unwrap();
    RaSender::open(&lab.router, "r1")
        .expect("opening r1's sender")
        .send_icmp(stranger, ND_HOP_LIMIT, &advert)
        .expect("sending an RA on h1's link");
    let told = monitor.expect(&slaacd, "the drop of an RA on h1", |event| {
        event["event"] == "dropped" && event["reason"] == "interface-not-managed"
    });
    assert_eq!(told["ifIndex"], h1_index, "{told}");
    assert_eq!(told["ifName"], "", "{told}");
    assert_eq!(told["source"], stranger.to_string(), "{told}");
    assert!(
        !slaacd.drops("h0").contains_key("interface-not-managed"),
        "{:?}",
        slaacd.drops("h0")
    );
}
