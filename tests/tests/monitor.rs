//! `slaacctl monitor` against the real daemon in namespaces: the events of a
//! router coming up (radvd) in text and as JSON lines; dropped advertisements,
//! a proposal the parent refuses and a cap reached (crafted RAs); a listener
//! that stops reading (SIGSTOP) while a flood goes on, which must neither
//! grow the daemon nor delay another client's `show`; killed listeners
//! being dropped (the limit of 8 monitors frees up again); and the
//! frontend's own drops (a forwarded RA, a burst while the engine is
//! stopped), summed up with a count.

use std::net::Ipv6Addr;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::Value;
use slaacd_tests::lab::Lab;
use slaacd_tests::process::{Guarded, name_of, rss_kib};
use slaacd_tests::ra_sender::{RaSender, advert_with_prefix, flood_advert, random_link_local};
use slaacd_tests::radvd::{Radvd, single_prefix_config};
use slaacd_tests::slaacd::Slaacd;
use slaacd_tests::wait_for;

const PREFIX: &str = "2001:db8:1::/64";
const ROUTER_LIFETIME: u32 = 1200;
/// How long an expected event may take to show.
const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `slaacctl monitor`, its output read line by line on a thread.
struct Monitor {
    process: Guarded,
    lines: Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl Monitor {
    /// Starts `slaacctl -s SOCKET ARGS` in the daemon's namespace.
    fn start(slaacd: &Slaacd, args: &[&str]) -> Monitor {
        let (process, lines) = slaacd.ctl_lines(args);
        Monitor {
            process,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `wanted`; panics with what was read
    /// (and the daemon's log) after `EVENT_TIMEOUT`.
    fn expect(&mut self, slaacd: &Slaacd, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no {what} from slaacctl monitor; it printed:\n{}\ndaemon log:\n{}",
                    self.seen.join("\n"),
                    slaacd.log()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let mut stderr = String::new();
                    if let Some(mut pipe) = self.process.child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                    }
                    panic!(
                        "slaacctl monitor ended before {what}: {stderr}\nit printed:\n{}\n\
                         daemon log:\n{}",
                        self.seen.join("\n"),
                        slaacd.log()
                    )
                }
            }
        }
    }

    /// Like `expect`, for `--json` lines: the first object `wanted` accepts.
    fn expect_json(
        &mut self,
        slaacd: &Slaacd,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let line = self.expect(slaacd, what, |line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not a JSON line: {error}: {line}"));
            wanted(&value)
        });
        serde_json::from_str(&line).expect("checked above")
    }

    /// Whether the daemon registered it: asks for solicitations on
    /// `interface` (an event every monitor of it sees, in either format)
    /// until it prints one; false if it exits first (refused).
    fn registered(&mut self, slaacd: &Slaacd, interface: &str) -> bool {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        while Instant::now() < deadline {
            solicit_on(slaacd, interface);
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let seen = line
                        .ends_with(&format!(" {interface} sending a Router Solicitation"))
                        || line.contains(r#""event":"solicitation""#);
                    self.seen.push(line);
                    if seen {
                        return true;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        false
    }

    /// The exit status and standard error, once it exits within `timeout`.
    fn finished(mut self, timeout: Duration) -> Option<(std::process::ExitStatus, String)> {
        let status = self.process.wait_timeout(timeout)?;
        let mut stderr = String::new();
        if let Some(mut pipe) = self.process.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        Some((status, stderr))
    }
}

/// `slaacctl send solicitation h0`.
fn solicit(slaacd: &Slaacd) {
    solicit_on(slaacd, "h0");
}

/// `slaacctl send solicitation INTERFACE`.
fn solicit_on(slaacd: &Slaacd, interface: &str) {
    let output = slaacd.ctl(&["send", "solicitation", interface]);
    assert!(
        output.status.success(),
        "send solicitation: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Starts `slaacctl monitor` with `args` and waits until the daemon has
/// registered it.
fn registered(slaacd: &Slaacd, args: &[&str]) -> Monitor {
    registered_on(slaacd, args, "h0")
}

/// Like `registered`, for a monitor that sees the events of `interface`.
fn registered_on(slaacd: &Slaacd, args: &[&str], interface: &str) -> Monitor {
    let mut monitor = Monitor::start(slaacd, args);
    assert!(
        monitor.registered(slaacd, interface),
        "slaacctl {args:?} was not registered: {:?}\ndaemon log:\n{}",
        monitor.seen,
        slaacd.log()
    );
    monitor
}

fn start_lab() -> (Lab, Radvd, Slaacd) {
    let lab = Lab::new();
    let config = single_prefix_config("r0", PREFIX, 3600, 1800, ROUTER_LIFETIME);
    let radvd = Radvd::start(&lab.router, lab.dir.path(), &config);
    let slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0"]);
    // The control socket appears once the daemon serves it.
    slaacd.wait_answering(&[]);
    (lab, radvd, slaacd)
}

#[test]
fn a_router_coming_up_in_text_and_as_json_lines() {
    let (lab, _radvd, slaacd) = start_lab();
    let mut text = registered(&slaacd, &["monitor", "h0"]);
    let mut json = registered(&slaacd, &["--json", "mon"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let router = lab.router_link_local();

    let line = text.expect(&slaacd, "the RA from radvd", |line| {
        line.contains(&format!(" h0 RA from {router}%h0: "))
    });
    assert!(
        line.contains(&format!(
            "router lifetime {ROUTER_LIFETIME} s, preference Medium"
        )),
        "{line}"
    );
    let line = text.expect(&slaacd, "the address proposal", |line| {
        line.contains(" h0 proposed: address 2001:db8:1:0:") && line.contains(" created, ")
    });
    assert!(line.contains("/64 created, valid "), "{line}");
    let address = line
        .split_whitespace()
        .nth(5)
        .expect("the address word")
        .to_owned();
    // The parent answers in the order its calls finish.
    let mut unapplied = vec![
        format!(" h0 applied: address {address} created"),
        format!(" h0 applied: default route via {router}%h0 created"),
    ];
    while !unapplied.is_empty() {
        let applied = text.expect(&slaacd, "the address and route applied", |line| {
            unapplied.iter().any(|wanted| line.ends_with(wanted))
        });
        unapplied.retain(|wanted| !applied.ends_with(wanted));
    }
    // Each line starts with the local date and time to the millisecond.
    let stamp: String = line
        .chars()
        .take(23)
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(stamp, "dddd-dd-dd dd:dd:dd.ddd", "{line}");

    let ra = json.expect_json(&slaacd, "the RA as JSON", |event| {
        event["event"] == "advertisement"
    });
    assert_eq!(ra["ifName"], "h0", "{ra}");
    assert_eq!(ra["source"], router.to_string(), "{ra}");
    assert_eq!(ra["routerLifetime"], ROUTER_LIFETIME, "{ra}");
    assert!(ra["time"].as_u64().is_some_and(|time| time > 0), "{ra}");
    let proposed = json.expect_json(&slaacd, "the address proposal as JSON", |event| {
        event["event"] == "proposed" && event["kind"] == "address"
    });
    assert_eq!(proposed["change"], "created", "{proposed}");
    assert_eq!(proposed["prefixLength"], 64, "{proposed}");
    let applied = json.expect_json(&slaacd, "the address applied as JSON", |event| {
        event["event"] == "applied" && event["kind"] == "address"
    });
    assert_eq!(applied["address"], proposed["address"], "{applied}");
    // The same address in both formats.
    assert_eq!(
        address,
        format!("{}/64", proposed["address"].as_str().expect("address"))
    );
}

#[test]
fn dropped_advertisements_refused_proposals_and_caps_reached() {
    let (lab, _radvd, slaacd) = start_lab();
    let mut text = registered(&slaacd, &["monitor"]);
    let mut json = registered(&slaacd, &["--json", "monitor", "h0"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let router = lab.router_link_local();
    text.expect(&slaacd, "the RA from radvd", |line| {
        line.contains(&format!(" h0 RA from {router}%h0: "))
    });

    let sender = RaSender::open(&lab.router, "r0").expect("opening the crafted RAs' socket");
    let stranger: Ipv6Addr = "2001:db8:99::1".parse().expect("an address");
    let prefix: Ipv6Addr = "2001:db8:2::".parse().expect("a prefix");
    sender
        .send_advert(stranger, &advert_with_prefix(prefix))
        .expect("sending from a global source");
    text.expect(&slaacd, "the drop of a non-link-local RA", |line| {
        line.ends_with(&format!(
            " h0 RA from {stranger} dropped: source-not-link-local"
        ))
    });
    let drop = json.expect_json(&slaacd, "the drop as JSON", |event| {
        event["event"] == "dropped"
    });
    assert_eq!(drop["reason"], "source-not-link-local", "{drop}");
    assert_eq!(drop["source"], stranger.to_string(), "{drop}");
    assert_eq!(drop["limit"], false, "{drop}");

    // A reachable time above an hour: the engine proposes it, the parent
    // refuses it.
    let mut slow = advert_with_prefix(prefix);
    slow.reachable_time = 4_000_000;
    let slow_router: Ipv6Addr = "fe80::4".parse().expect("an address");
    sender
        .send_advert(slow_router, &slow)
        .expect("sending a long reachable time");
    let line = text.expect(&slaacd, "the refused link parameters", |line| {
        line.contains(" h0 failed: link parameters ")
    });
    assert!(
        line.contains(" h0 failed: link parameters updated: refused: ")
            && line.contains("4000000 ms is above"),
        "{line}"
    );
    let failed = json.expect_json(&slaacd, "the refusal as JSON", |event| {
        event["event"] == "failed"
    });
    assert_eq!(failed["kind"], "linkParameters", "{failed}");
    assert_eq!(failed["reachableTime"], 4_000_000, "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|error| error.starts_with("refused: ")),
        "{failed}"
    );

    // 16 routers are remembered (radvd is one); more are refused.
    let mut rng = SmallRng::seed_from_u64(0x6d6f6e);
    for _ in 0..20 {
        let (source, advert) = flood_advert(&mut rng);
        sender
            .send_advert(source, &advert)
            .expect("sending a router's RA");
    }
    text.expect(&slaacd, "the routers cap reached", |line| {
        line.contains(" dropped: routers-limit (limit reached)")
    });
    let cap = json.expect_json(&slaacd, "the cap as JSON", |event| {
        event["event"] == "dropped" && event["reason"] == "routers-limit"
    });
    assert_eq!(cap["limit"], true, "{cap}");
}

/// The resident set sizes of the daemon's processes, in KiB, by pid.
fn rss(slaacd: &Slaacd) -> Vec<(u32, u64)> {
    slaacd
        .processes()
        .into_iter()
        .filter_map(|pid| Some((pid, rss_kib(pid)?)))
        .collect()
}

/// Sends `count` RAs with random prefixes from a pool of routers four times
/// the routers cap: past the cap each one is a dropped-RA event. A small pool,
/// because every RA source takes an entry in the kernel's neighbour table,
/// which all namespaces on the machine share (1024 entries) and which other
/// tests running meanwhile need.
fn flood(sender: &RaSender, rng: &mut SmallRng, count: usize) {
    let routers: Vec<Ipv6Addr> = (0..64).map(|_| random_link_local(rng)).collect();
    sender
        .send_paced(count, 50, Duration::from_millis(5), |sent| {
            let (_, advert) = flood_advert(rng);
            (routers[sent % routers.len()], advert)
        })
        .unwrap_or_else(|error| panic!("flooding: {error}"));
}

/// How long `slaacctl show interface h0` takes, once it succeeded.
fn show_time(slaacd: &Slaacd) -> Duration {
    let started = Instant::now();
    let output = slaacd.ctl(&["show", "interface", "h0"]);
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "show interface: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    took
}

#[test]
fn a_listener_that_stops_reading_neither_grows_the_daemon_nor_delays_show() {
    let (lab, _radvd, slaacd) = start_lab();
    let mut stopped = registered(&slaacd, &["monitor"]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    let router = lab.router_link_local();
    stopped.expect(&slaacd, "the RA from radvd", |line| {
        line.contains(&format!(" h0 RA from {router}%h0: "))
    });
    stopped.process.signal(Signal::SIGSTOP);
    let sender = RaSender::open(&lab.router, "r0").expect("opening the flood's socket");
    let mut rng = SmallRng::seed_from_u64(0x510b);
    let baseline = show_time(&slaacd);

    // The first flood fills the listener's queue and the sockets on its way;
    // the second may not cost a byte more.
    flood(&sender, &mut rng, 3000);
    std::thread::sleep(Duration::from_millis(500));
    let filled = rss(&slaacd);
    let slowest = std::thread::scope(|scope| {
        let flooding = scope.spawn(|| flood(&sender, &mut rng, 6000));
        let mut slowest = Duration::ZERO;
        while !flooding.is_finished() {
            slowest = slowest.max(show_time(&slaacd));
        }
        flooding.join().expect("the flood thread panicked");
        slowest
    });
    std::thread::sleep(Duration::from_millis(500));
    let after = rss(&slaacd);
    eprintln!(
        "stopped listener: RSS {filled:?} KiB after 3000 RAs, {after:?} KiB after 6000 more; \
         show took {baseline:?} before, at most {slowest:?} during the flood"
    );
    for (pid, before) in &filled {
        let now = after
            .iter()
            .find(|(alive, _)| alive == pid)
            .map(|(_, now)| now)
            .unwrap_or_else(|| panic!("process {pid} died behind a stopped listener"));
        assert!(
            *now <= before + 256,
            "process {pid} grew from {before} KiB to {now} KiB behind a stopped listener"
        );
    }
    assert!(
        slowest < Duration::from_secs(2),
        "show took {slowest:?} behind a stopped listener"
    );

    // Once it reads again it learns what it missed, then new events.
    stopped.process.signal(Signal::SIGCONT);
    let lost = stopped.expect(&slaacd, "the count of lost events", |line| {
        line.starts_with("-- ") && line.ends_with(" events lost --")
    });
    let count: u64 = lost
        .split_whitespace()
        .nth(1)
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no count in {lost}"));
    assert!(
        count >= 1000,
        "only {count} events lost of 9000 RAs: {lost}"
    );
    solicit(&slaacd);
    stopped.expect(&slaacd, "a new event after the lost ones", |line| {
        line.ends_with(" h0 sending a Router Solicitation")
    });
}

#[test]
fn killed_listeners_are_dropped_and_at_most_eight_run_at_once() {
    let (lab, _radvd, slaacd) = start_lab();
    lab.host.ip(&["link", "set", "h0", "up"]);
    let mut monitors: Vec<Monitor> = (0..8)
        .map(|_| registered(&slaacd, &["monitor", "h0"]))
        .collect();

    let ninth = Monitor::start(&slaacd, &["monitor"]);
    let (status, stderr) = ninth
        .finished(Duration::from_secs(10))
        .expect("a ninth monitor is refused");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, "slaacctl: too many monitors: at most 8 at once\n");

    // A killed one frees its place: its connection ends, the engine drops it.
    let killed = monitors.remove(0);
    killed.process.signal(Signal::SIGKILL);
    drop(killed);
    let mut replacement = wait_for(
        "a monitor in the freed place",
        Duration::from_secs(10),
        || {
            let mut candidate = Monitor::start(&slaacd, &["monitor", "h0"]);
            candidate.registered(&slaacd, "h0").then_some(candidate)
        },
    );
    // The others were not disturbed, and the daemon logged the drop.
    solicit(&slaacd);
    for monitor in monitors.iter_mut().chain([&mut replacement]) {
        monitor.expect(&slaacd, "a solicitation after the kill", |line| {
            line.ends_with(" h0 sending a Router Solicitation")
        });
    }
    assert!(
        slaacd.log().contains("monitor listener dropped"),
        "{}",
        slaacd.log()
    );
}

/// Waits until the kernel takes multicast in on `interface` (its ff00::/8
/// route comes once the link is running, up to a second after `up`).
fn wait_receiving(lab: &Lab, interface: &str) {
    wait_for("the link's multicast route", EVENT_TIMEOUT, || {
        lab.host
            .ip(&["-6", "route", "show", "table", "local", "dev", interface])
            .contains("ff00::/8")
            .then_some(())
    });
}

/// Stops a process (SIGSTOP) and lets it go on (SIGCONT) when dropped, so a
/// failing test leaves no stopped daemon behind.
struct Stopped(Pid);

impl Stopped {
    fn new(pid: u32) -> Stopped {
        let pid = Pid::from_raw(i32::try_from(pid).expect("a pid"));
        kill(pid, Signal::SIGSTOP).expect("stopping the process");
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGCONT);
    }
}

/// The count of `reason` drops on `interface`, once `show` gives the same
/// count twice in a row.
fn settled_drops(slaacd: &Slaacd, interface: &str, reason: &str) -> u64 {
    let mut last = None;
    wait_for("the drop count to settle", EVENT_TIMEOUT, || {
        std::thread::sleep(Duration::from_millis(300));
        let now = slaacd.drops(interface).get(reason).copied().unwrap_or(0);
        (last.replace(now) == Some(now)).then_some(now)
    })
}

/// The frontend's own drops reach the monitors with the reason `show`
/// counts them under and the interface: an RA with hop limit 64 as one
/// drop, and a burst that finds the relay queue full (the engine stopped,
/// RAs on h0 filled it) as one summed-up event, not one per RA. The
/// monitors watch h1 only, so the events of the RAs that filled the queue
/// (on h0) cannot crowd them out.
#[test]
fn the_frontends_own_drops_are_summed_up_and_shown() {
    let lab = Lab::new();
    lab.add_link("r1", "h1", "02:00:00:00:01:01", "02:00:00:00:01:02");
    let slaacd = Slaacd::start(&lab.host, lab.dir.path(), &["h0", "h1"]);
    slaacd.wait_answering(&[]);
    lab.host.ip(&["link", "set", "h0", "up"]);
    lab.host.ip(&["link", "set", "h1", "up"]);
    wait_receiving(&lab, "h0");
    wait_receiving(&lab, "h1");
    let mut text = registered_on(&slaacd, &["monitor", "h1"], "h1");
    let mut json = registered_on(&slaacd, &["--json", "monitor", "h1"], "h1");

    let filler = RaSender::open(&lab.router, "r0").expect("opening r0's crafted RAs' socket");
    let sender = RaSender::open(&lab.router, "r1").expect("opening r1's crafted RAs' socket");
    let forwarded: Ipv6Addr = "fe80::64".parse().expect("an address");
    let advert = advert_with_prefix("2001:db8:2::".parse().expect("a prefix"));
    sender
        .send_icmp(forwarded, 64, &advert.emit())
        .expect("sending an RA with hop limit 64");
    text.expect(&slaacd, "the drop of a forwarded RA", |line| {
        line.ends_with(" h1 RA from fe80::64%h1 dropped: hop-limit-not-255")
    });
    let forwarded_drop = json.expect_json(&slaacd, "the forwarded RA's drop as JSON", |event| {
        event["event"] == "dropped"
    });
    assert_eq!(
        forwarded_drop["reason"], "hop-limit-not-255",
        "{forwarded_drop}"
    );
    assert_eq!(forwarded_drop["ifName"], "h1", "{forwarded_drop}");
    assert_eq!(
        forwarded_drop["source"],
        forwarded.to_string(),
        "{forwarded_drop}"
    );
    assert_eq!(forwarded_drop["limit"], false, "{forwarded_drop}");
    assert!(
        forwarded_drop.get("count").is_none(),
        "one drop has no count: {forwarded_drop}"
    );
    assert_eq!(slaacd.drops("h1").get("hop-limit-not-255"), Some(&1));

    // With the engine stopped nothing leaves the relay queue: 600 RAs on h0
    // fill it (it holds 256 waiting and at most 4 calls of 64), then every
    // RA on h1 is dropped as busy.
    let engine = slaacd
        .processes()
        .into_iter()
        .find(|pid| name_of(*pid).as_deref() == Some("slaacd-engine"))
        .expect("the engine's pid");
    let stopped = Stopped::new(engine);
    let mut rng = SmallRng::seed_from_u64(0xb05e);
    let routers: Vec<Ipv6Addr> = (0..64).map(|_| random_link_local(&mut rng)).collect();
    filler
        .send_paced(600, 50, Duration::from_millis(5), |sent| {
            (routers[sent % routers.len()], advert.clone())
        })
        .unwrap_or_else(|error| panic!("filling the relay queue: {error}"));
    const BUSY: u64 = 20;
    let busy_sources = &routers[..BUSY as usize];
    sender
        .send_paced(busy_sources.len(), 50, Duration::ZERO, |sent| {
            (busy_sources[sent], advert.clone())
        })
        .unwrap_or_else(|error| panic!("sending the busy burst: {error}"));
    std::thread::sleep(Duration::from_millis(300));
    drop(stopped);
    assert!(
        settled_drops(&slaacd, "h0", "engine-busy") > 0,
        "600 RAs on h0 did not fill the relay queue"
    );
    assert_eq!(settled_drops(&slaacd, "h1", "engine-busy"), BUSY);

    // Every drop told once, in at most two events (the frontend's first
    // report may have left before the burst on h1), the last one naming the
    // burst's last source.
    let last_source = busy_sources[busy_sources.len() - 1];
    let mut told = 0;
    let mut events = Vec::new();
    while told < BUSY {
        let event = json.expect_json(&slaacd, "the busy drops as JSON", |event| {
            event["event"] == "lost" || event["reason"] == "engine-busy"
        });
        assert_ne!(event["event"], "lost", "h1's monitor lost events");
        assert_eq!(event["ifName"], "h1", "{event}");
        assert_eq!(event["limit"], false, "{event}");
        told += event["count"].as_u64().unwrap_or(1);
        events.push(event);
    }
    eprintln!(
        "{BUSY} busy drops on h1 told in {} events of {:?} drops",
        events.len(),
        events
            .iter()
            .map(|event| event["count"].as_u64().unwrap_or(1))
            .collect::<Vec<_>>()
    );
    assert_eq!(told, BUSY, "{events:?}");
    assert!(events.len() <= 2, "not summed up: {events:?}");
    let last = events.last().expect("an event");
    assert_eq!(last["source"], last_source.to_string(), "{last}");

    // The text monitor prints the same events.
    for event in &events {
        let source = event["source"].as_str().expect("a source");
        let wanted = match event["count"].as_u64() {
            None => format!(" h1 RA from {source}%h1 dropped: engine-busy"),
            Some(count) => {
                format!(" h1 {count} RAs dropped: engine-busy, the last from {source}%h1")
            }
        };
        let line = text.expect(&slaacd, "the busy drops as text", |line| {
            line.contains(" dropped: engine-busy")
        });
        assert!(line.ends_with(&wanted), "{line}\nwanted: {wanted}");
    }
}
