//! Runs the real slaacctl binary against a fake daemon: an in-process Cap'n
//! Proto `Control` server on a temporary Unix socket that answers with canned
//! interface reports and records what it was asked.
//!
//! The canned reports are the ones the unit tests print, so the JSON output must
//! equal the golden file byte for byte, and the text output must equal it apart
//! from the dates (which depend on the wall clock). These tests must never
//! touch the machine's network configuration: they read the loopback
//! interface's index and use sockets under the temporary directory only.

use std::net::Ipv6Addr;
use std::os::unix::net::UnixListener as StdUnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use capnp::capability::Rc;
use capnp_rpc::{RpcSystem, rpc_twoparty_capnp::Side, twoparty};
use futures::channel::oneshot;
use futures::io::BufReader;
use slaacd_ipc::slaacd_capnp::{
    ProposalChange, RouterPreference, control, interface_report, ip6, monitor_event,
    monitor_listener, monitor_subscription, prefix_report, route_proposal_report,
};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

const GOLDEN_TEXT: &str = include_str!("golden/show_interface.txt");
const GOLDEN_JSON: &str = include_str!("golden/show_interface.json");
const INFINITE: u32 = u32::MAX;

/// A request the fake daemon received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    ShowInterfaces(u32),
    SendSolicitation(u32),
    SetVerbosity(u8),
    Monitor(u32),
    AbsentInterfaces,
}

type CallLog = Arc<Mutex<Vec<Call>>>;

/// A socket path no other test (or test run) uses.
fn unique_socket_path(label: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("slaacctl-{label}-{}-{n}.sock", std::process::id()))
}

/// The managed names the fake daemon says no interface has; the golden
/// files end with them.
const ABSENT: [&str; 2] = ["usb0", "wwan0"];

/// The fake daemon: serves `Control` until dropped, then removes its socket.
struct FakeDaemon {
    path: PathBuf,
    calls: CallLog,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeDaemon {
    /// Starts a daemon whose `sendSolicitation` knows only `managed`.
    fn start(managed: Vec<u32>) -> FakeDaemon {
        FakeDaemon::start_as(managed, Peer::Privileged)
    }

    /// Starts a daemon that treats every client as `peer`.
    fn start_as(managed: Vec<u32>, peer: Peer) -> FakeDaemon {
        let absent = Some(ABSENT.map(String::from).to_vec());
        FakeDaemon::start_with(managed, peer, absent)
    }

    /// Starts a daemon that says `absent` are the managed names no
    /// interface has, or, for `None`, does not know the question (a daemon
    /// older than slaacctl).
    fn start_with(managed: Vec<u32>, peer: Peer, absent: Option<Vec<String>>) -> FakeDaemon {
        let path = unique_socket_path("fake");
        // Bound here, before the thread starts, so the socket exists before
        // any client runs.
        let listener =
            StdUnixListener::bind(&path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let calls = CallLog::default();
        let (stop, stopped) = oneshot::channel();
        let service = FakeControl {
            managed,
            absent,
            calls: calls.clone(),
            peer,
        };
        let thread = std::thread::spawn(move || serve(listener, service, stopped));
        FakeDaemon {
            path,
            calls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("call log").clone()
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(listener: StdUnixListener, service: FakeControl, mut stopped: oneshot::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("fake daemon runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::UnixListener::from_std(listener).expect("tokio listener");
        let client: control::Client = capnp_rpc::new_client(service);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { break };
                    let (reader, writer) = stream.into_split();
                    let network = twoparty::VatNetwork::new(
                        BufReader::new(reader.compat()),
                        writer.compat_write(),
                        Side::Server,
                        Default::default(),
                    );
                    let rpc = RpcSystem::new(Box::new(network), Some(client.clone().client));
                    tokio::task::spawn_local(rpc);
                }
            }
        }
    });
}

/// Whether the fake daemon lets its clients change things.
#[derive(Clone, Copy)]
enum Peer {
    Privileged,
    /// Refused as the real daemon refuses a peer outside the control group.
    ShowOnly,
}

struct FakeControl {
    managed: Vec<u32>,
    absent: Option<Vec<String>>,
    calls: CallLog,
    peer: Peer,
}

/// The real daemon's refusal for a peer outside the control group.
const REFUSAL: &str = "permission denied: log needs uid 0 or gid 0 (this is uid 1000 gid 1000)";

impl FakeControl {
    fn record(&self, call: Call) -> Result<(), capnp::Error> {
        self.calls.lock().expect("call log").push(call);
        match self.peer {
            Peer::Privileged => Ok(()),
            Peer::ShowOnly => Err(capnp::Error::failed(REFUSAL.into())),
        }
    }
}

impl control::Server for FakeControl {
    async fn show_interfaces(
        self: Rc<Self>,
        params: control::ShowInterfacesParams,
        mut results: control::ShowInterfacesResults,
    ) -> Result<(), capnp::Error> {
        let if_index = params.get()?.get_if_index();
        self.calls
            .lock()
            .expect("call log")
            .push(Call::ShowInterfaces(if_index));
        let fills: Vec<(u32, fn(interface_report::Builder<'_>))> =
            vec![(2, fill_eth0), (3, fill_nameless)];
        let selected: Vec<_> = fills
            .into_iter()
            .filter(|(index, _)| if_index == 0 || *index == if_index)
            .collect();
        let mut list = results.get().init_interfaces(selected.len() as u32);
        for (i, (_, fill)) in selected.into_iter().enumerate() {
            fill(list.reborrow().get(i as u32));
        }
        Ok(())
    }

    async fn send_solicitation(
        self: Rc<Self>,
        params: control::SendSolicitationParams,
        mut results: control::SendSolicitationResults,
    ) -> Result<(), capnp::Error> {
        let if_index = params.get()?.get_if_index();
        self.record(Call::SendSolicitation(if_index))?;
        results.get().set_known(self.managed.contains(&if_index));
        Ok(())
    }

    async fn set_verbosity(
        self: Rc<Self>,
        params: control::SetVerbosityParams,
        _: control::SetVerbosityResults,
    ) -> Result<(), capnp::Error> {
        self.record(Call::SetVerbosity(params.get()?.get_verbosity()))
    }

    /// Sends two batches of canned events (the second after 5 lost ones)
    /// and hands out a subscription that does nothing.
    async fn monitor(
        self: Rc<Self>,
        params: control::MonitorParams,
        mut results: control::MonitorResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        self.calls
            .lock()
            .expect("call log")
            .push(Call::Monitor(params.get_if_index()));
        let listener = params.get_listener()?;
        // Like the daemon, hold the listener for as long as slaacctl holds
        // its subscription: a listener released early ends slaacctl's
        // monitor as "connection closed", racing the test's SIGINT.
        let subscription: monitor_subscription::Client = capnp_rpc::new_client(FakeSubscription {
            _listener: listener.clone(),
        });
        tokio::task::spawn_local(async move {
            let mut first = listener.events_request();
            fill_first_events(first.get().init_events(2));
            let mut second = listener.events_request();
            second.get().set_lost(5);
            fill_dropped(second.get().init_events(1).get(0));
            // Each call waits for the one before, as the daemon's do.
            if first.send().promise.await.is_ok() {
                let _ = second.send().promise.await;
            }
        });
        results.get().set_subscription(subscription);
        Ok(())
    }

    async fn absent_interfaces(
        self: Rc<Self>,
        _: control::AbsentInterfacesParams,
        mut results: control::AbsentInterfacesResults,
    ) -> Result<(), capnp::Error> {
        self.calls
            .lock()
            .expect("call log")
            .push(Call::AbsentInterfaces);
        let Some(absent) = &self.absent else {
            return Err(capnp::Error::unimplemented("method not implemented".into()));
        };
        let mut names = results.get().init_names(absent.len() as u32);
        for (i, name) in absent.iter().enumerate() {
            names.set(i as u32, name);
        }
        Ok(())
    }
}

struct FakeSubscription {
    _listener: monitor_listener::Client,
}

impl monitor_subscription::Server for FakeSubscription {}

/// 2026-11-27 21:30:05.123456 UTC.
const EVENT_TIME: u64 = 1_795_815_005_123_456;

fn fill_first_events(mut events: capnp::struct_list::Builder<'_, monitor_event::Owned>) {
    let mut e = events.reborrow().get(0);
    e.set_time(EVENT_TIME);
    e.set_if_index(2);
    e.set_if_name("eth0");
    let mut a = e.init_advertisement();
    set_ip6(a.reborrow().init_source(), "fe80::1");
    a.set_router_lifetime(1800);
    a.set_preference(RouterPreference::Medium);
    let mut e = events.get(1);
    e.set_time(EVENT_TIME + 1000);
    e.set_if_index(2);
    e.set_if_name("eth0");
    let mut p = e.init_proposed();
    p.set_change(ProposalChange::Created);
    let mut a = p.init_address();
    a.set_if_index(2);
    set_ip6(a.reborrow().init_address(), "2001:db8:1::a");
    a.set_prefix_length(64);
    a.set_valid_lifetime(600);
    a.set_preferred_lifetime(300);
}

fn fill_dropped(mut e: monitor_event::Builder<'_>) {
    e.set_time(EVENT_TIME + 2000);
    e.set_if_index(2);
    e.set_if_name("eth0");
    let mut d = e.init_dropped();
    d.set_reason("routers-limit");
    d.set_limit(true);
    set_ip6(d.init_what().init_advertisement(), "fe80::2");
}

fn set_ip6(mut builder: ip6::Builder<'_>, text: &str) {
    let bits = u128::from(text.parse::<Ipv6Addr>().expect("test address"));
    builder.set_high((bits >> 64) as u64);
    builder.set_low(bits as u64);
}

fn fill_prefix(
    mut p: prefix_report::Builder<'_>,
    prefix: &str,
    length: u8,
    autonomous: bool,
    lifetimes: (u32, u32),
) {
    set_ip6(p.reborrow().init_prefix(), prefix);
    p.set_prefix_length(length);
    p.set_on_link(true);
    p.set_autonomous(autonomous);
    p.set_valid_lifetime(lifetimes.0);
    p.set_preferred_lifetime(lifetimes.1);
}

/// The same interface as the unit tests' sample `eth0`.
fn fill_eth0(mut i: interface_report::Builder<'_>) {
    i.set_if_index(2);
    i.set_name("eth0");
    i.set_running(true);
    i.set_temporary(true);
    i.set_hw_address(&[0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    set_ip6(
        i.reborrow().get_link_local().init_address(),
        "fe80::5054:ff:fe12:3456",
    );

    let mut r = i.reborrow().init_routers(1).get(0);
    set_ip6(r.reborrow().init_source(), "fe80::1");
    r.set_received_ago(12);
    r.set_cur_hop_limit(64);
    r.set_managed(false);
    r.set_other(true);
    r.set_router_lifetime(1800);
    r.set_preference(RouterPreference::High);
    r.set_reachable_time(30000);
    r.set_retrans_timer(1000);
    r.set_mtu(1500);
    let mut prefixes = r.reborrow().init_prefixes(2);
    fill_prefix(
        prefixes.reborrow().get(0),
        "2001:db8:1::",
        64,
        true,
        (2_592_000, 604_800),
    );
    fill_prefix(
        prefixes.get(1),
        "2001:db8:2::",
        48,
        false,
        (INFINITE, INFINITE),
    );
    let mut dns = r.reborrow().init_rdnss(1).get(0);
    set_ip6(dns.reborrow().init_server(), "2001:db8:1::53");
    dns.set_lifetime(600);
    let mut domain = r.reborrow().init_dnssl(1).get(0);
    domain.set_domain("example.org");
    domain.set_lifetime(600);
    let mut route = r.reborrow().init_routes(1).get(0);
    set_ip6(route.reborrow().init_prefix(), "2001:db8:100::");
    route.set_prefix_length(48);
    route.set_preference(RouterPreference::Low);
    route.set_lifetime(1800);
    let mut nat64 = r.reborrow().init_pref64(1).get(0);
    set_ip6(nat64.reborrow().init_prefix(), "64:ff9b::");
    nat64.set_prefix_length(96);
    nat64.set_lifetime(1800);
    r.set_captive_portal("https://portal.example.org/");

    let mut addresses = i.reborrow().init_address_proposals(2);
    let mut a = addresses.reborrow().get(0);
    a.set_id(1);
    a.set_state("PROPOSAL_CONFIGURED");
    a.set_temporary(false);
    a.set_valid_lifetime(2_592_000);
    a.set_preferred_lifetime(604_800);
    a.reborrow().get_timeout().set_seconds(1708);
    a.set_updated_ago(12);
    set_ip6(a.reborrow().init_address(), "2001:db8:1::5054:ff:fe12:3456");
    set_ip6(a.reborrow().init_prefix(), "2001:db8:1::");
    a.set_prefix_length(64);
    let mut a = addresses.get(1);
    a.set_id(2);
    a.set_state("PROPOSAL_SENT");
    a.set_temporary(true);
    a.set_valid_lifetime(172_800);
    a.set_preferred_lifetime(86_400);
    a.reborrow().get_timeout().set_none(());
    a.set_updated_ago(3601);
    set_ip6(
        a.reborrow().init_address(),
        "2001:db8:1::a1b2:c3d4:e5f6:789",
    );
    set_ip6(a.reborrow().init_prefix(), "2001:db8:1::");
    a.set_prefix_length(64);

    let mut d = i.reborrow().init_default_route_proposals(1).get(0);
    d.set_id(3);
    d.set_state("PROPOSAL_CONFIGURED");
    set_ip6(d.reborrow().init_router(), "fe80::1");
    d.set_router_lifetime(1800);
    d.set_preference(RouterPreference::High);
    d.reborrow().get_timeout().set_seconds(1788);
    d.set_updated_ago(12);

    let mut routes = i.reborrow().init_route_proposals(2);
    fill_route_proposal(
        routes.reborrow().get(0),
        (4, Some(1708)),
        ("2001:db8:1::", 64),
        None,
        (2_592_000, RouterPreference::Medium),
    );
    fill_route_proposal(
        routes.get(1),
        (5, None),
        ("2001:db8:100::", 48),
        Some("fe80::1"),
        (1800, RouterPreference::Low),
    );

    i.set_mtu(1500);
    set_ip6(i.reborrow().init_dns_servers(1).get(0), "2001:db8:1::53");
    i.reborrow().init_search_domains(1).set(0, "example.org");
    let mut dropped = i.init_dropped(3);
    dropped.reborrow().get(0).set_reason("hop-limit-not-255");
    dropped.reborrow().get(0).set_count(3);
    dropped.reborrow().get(1).set_reason("engine-busy");
    dropped.reborrow().get(2).set_reason("fragmented");
    dropped.reborrow().get(2).set_count(1);
}

/// A configured route proposal updated 12 s ago, on-link when `router` is
/// `None`.
fn fill_route_proposal(
    mut p: route_proposal_report::Builder<'_>,
    (id, timeout): (u64, Option<u32>),
    (prefix, length): (&str, u8),
    router: Option<&str>,
    (lifetime, preference): (u32, RouterPreference),
) {
    p.set_id(id);
    match timeout {
        Some(seconds) => p.reborrow().get_timeout().set_seconds(seconds),
        None => p.reborrow().get_timeout().set_none(()),
    }
    p.set_preference(preference);
    p.set_state("PROPOSAL_CONFIGURED");
    let mut key = p.reborrow().init_key();
    key.set_if_index(2);
    set_ip6(key.reborrow().init_prefix(), prefix);
    key.set_prefix_length(length);
    match router {
        Some(router) => set_ip6(key.init_via().init_router(), router),
        None => key.init_via().set_on_link(()),
    }
    p.set_lifetime(lifetime);
    p.set_updated_ago(12);
}

/// The same interface as the unit tests' sample with no name and nothing known.
fn fill_nameless(mut i: interface_report::Builder<'_>) {
    i.set_if_index(3);
    i.set_running(false);
    i.set_temporary(false);
    i.get_link_local().set_none(());
}

fn slaacctl(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slaacctl"))
        .arg("-s")
        .arg(socket)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("run slaacctl")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 standard output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 standard error")
}

/// Replaces the date after "received: " and "updated: " with a placeholder,
/// after checking that it has the `YYYY-MM-DD HH:MM:SS` shape.
fn mask_dates(text: &str) -> String {
    let mut masked = String::new();
    for line in text.lines() {
        let marker = ["received: ", "updated: "]
            .into_iter()
            .find_map(|m| line.find(m).map(|at| at + m.len()));
        match marker {
            Some(at) => {
                let date = &line[at..at + 19];
                let shape: String = date
                    .chars()
                    .map(|c| if c.is_ascii_digit() { 'd' } else { c })
                    .collect();
                assert_eq!(shape, "dddd-dd-dd dd:dd:dd", "date in {line:?}");
                masked.push_str(&line[..at]);
                masked.push_str("<date>");
                masked.push_str(&line[at + 19..]);
            }
            None => masked.push_str(line),
        }
        masked.push('\n');
    }
    masked
}

fn loopback_index() -> u32 {
    nix::net::if_::if_nametoindex("lo").expect("the loopback interface exists")
}

#[test]
fn show_interface_prints_the_text_layout() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["show", "interface"]);
    assert_eq!(stderr(&output), "");
    assert!(output.status.success(), "{:?}", output.status);
    assert_eq!(mask_dates(&stdout(&output)), mask_dates(GOLDEN_TEXT));
    assert_eq!(
        daemon.calls(),
        vec![Call::ShowInterfaces(0), Call::AbsentInterfaces]
    );
}

#[test]
fn show_interface_json_matches_the_golden_file() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["--json", "sh", "int"]);
    assert_eq!(stderr(&output), "");
    assert!(output.status.success(), "{:?}", output.status);
    assert_eq!(stdout(&output), GOLDEN_JSON);
}

#[test]
fn show_one_interface_asks_for_its_index() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["sh", "i", "lo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // The fake knows nothing about lo: like OpenBSD, nothing is printed.
    assert_eq!(stdout(&output), "");
    assert_eq!(daemon.calls(), vec![Call::ShowInterfaces(loopback_index())]);
}

#[test]
fn send_solicitation_to_a_managed_interface() {
    let daemon = FakeDaemon::start(vec![loopback_index()]);
    let output = slaacctl(&daemon.path, &["send", "solicitation", "lo"]);
    assert_eq!(stderr(&output), "");
    assert_eq!(stdout(&output), "");
    assert!(output.status.success(), "{:?}", output.status);
    assert_eq!(
        daemon.calls(),
        vec![Call::SendSolicitation(loopback_index())]
    );
}

#[test]
fn send_solicitation_to_an_unmanaged_interface_fails() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["se", "so", "lo"]);
    assert_eq!(
        stderr(&output),
        "slaacctl: interface lo is not managed by slaacd\n"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn unknown_interface_fails_once_the_daemon_says_it_does_not_manage_it() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["send", "solicitation", "nosuchif0"]);
    assert_eq!(stderr(&output), "slaacctl: unknown interface nosuchif0\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(daemon.calls(), vec![Call::AbsentInterfaces]);
}

#[test]
fn a_managed_interface_that_is_not_there_is_named_as_such() {
    let daemon = FakeDaemon::start(vec![]);
    for args in [
        &["show", "interface", "usb0"][..],
        &["--json", "sh", "int", "usb0"],
        &["send", "solicitation", "usb0"],
        &["monitor", "usb0"],
    ] {
        let output = slaacctl(&daemon.path, args);
        assert_eq!(
            stderr(&output),
            "slaacctl: interface usb0 is managed by slaacd but not present\n",
            "{args:?}"
        );
        assert_eq!(stdout(&output), "", "{args:?}");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
    }
    // Nothing but the question reached the daemon.
    assert_eq!(daemon.calls(), vec![Call::AbsentInterfaces; 4]);
}

#[test]
fn a_daemon_older_than_slaacctl_lists_no_absent_interfaces() {
    let daemon = FakeDaemon::start_with(vec![], Peer::Privileged, None);
    let output = slaacctl(&daemon.path, &["show", "interface"]);
    assert_eq!(stderr(&output), "");
    assert!(output.status.success(), "{:?}", output.status);
    let without_absent = GOLDEN_TEXT
        .split("\nusb0: ")
        .next()
        .expect("the golden text");
    assert_eq!(mask_dates(&stdout(&output)), mask_dates(without_absent));
    let output = slaacctl(&daemon.path, &["--json", "show", "interface"]);
    let reply: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(reply["absent"], serde_json::json!([]));
    assert_eq!(reply["interfaces"].as_array().map(Vec::len), Some(2));
    let output = slaacctl(&daemon.path, &["show", "interface", "usb0"]);
    assert_eq!(stderr(&output), "slaacctl: unknown interface usb0\n");
}

#[test]
fn daemon_not_running_names_the_socket() {
    let path = unique_socket_path("absent");
    let output = slaacctl(&path, &["show", "interface"]);
    assert_eq!(
        stderr(&output),
        format!(
            "slaacctl: connect {}: No such file or directory\n",
            path.display()
        )
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn stale_socket_is_refused() {
    let path = unique_socket_path("stale");
    // Binding and closing leaves the socket file behind with no listener.
    drop(StdUnixListener::bind(&path).expect("bind a socket to leave behind"));
    let output = slaacctl(&path, &["show", "interface"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        stderr(&output),
        format!("slaacctl: connect {}: Connection refused\n", path.display())
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn daemon_hanging_up_is_an_error() {
    let path = unique_socket_path("hangup");
    let listener = StdUnixListener::bind(&path).expect("bind");
    let hang_up = std::thread::spawn(move || {
        // Accept one connection and close it without a word.
        let _ = listener.accept();
    });
    let output = slaacctl(&path, &["show", "interface"]);
    let _ = hang_up.join();
    let _ = std::fs::remove_file(&path);
    let prefix = format!("slaacctl: request to slaacd on {}: ", path.display());
    assert!(stderr(&output).starts_with(&prefix), "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
}

#[test]
fn grammar_errors_do_not_reach_the_daemon() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["show"]);
    assert_eq!(
        stderr(&output),
        "slaacctl: missing argument:\nvalid commands/args:\n  interface\n"
    );
    assert_eq!(output.status.code(), Some(1));
    let output = slaacctl(&daemon.path, &["s"]);
    assert_eq!(
        stderr(&output),
        "slaacctl: ambiguous argument: s\nvalid commands/args:\n  log\n  monitor\n  send\n  show\n"
    );
    let output = slaacctl(&daemon.path, &["show", "interface", "lo", "eth0"]);
    assert_eq!(stderr(&output), "slaacctl: superfluous argument: eth0\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(daemon.calls(), vec![]);
}

#[test]
fn log_verbose_and_brief_set_the_verbosity() {
    let daemon = FakeDaemon::start(vec![]);
    for words in [["log", "verbose"], ["l", "b"]] {
        let output = slaacctl(&daemon.path, &words);
        assert_eq!(stderr(&output), "");
        assert_eq!(stdout(&output), "logging request sent.\n");
        assert!(output.status.success(), "{:?}", output.status);
    }
    assert_eq!(
        daemon.calls(),
        vec![Call::SetVerbosity(1), Call::SetVerbosity(0)]
    );
}

#[test]
fn refused_changes_are_a_permission_error() {
    let daemon = FakeDaemon::start_as(vec![loopback_index()], Peer::ShowOnly);
    for words in [&["log", "verbose"][..], &["send", "solicitation", "lo"]] {
        let output = slaacctl(&daemon.path, words);
        assert_eq!(stderr(&output), format!("slaacctl: {REFUSAL}\n"));
        assert_eq!(stdout(&output), "");
        assert_eq!(output.status.code(), Some(1));
    }
    // Showing needs no privilege.
    let output = slaacctl(&daemon.path, &["show", "interface"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn bad_option_prints_the_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_slaacctl"))
        .args(["-x", "show", "interface"])
        .output()
        .expect("run slaacctl");
    let text = stderr(&output);
    assert!(
        text.ends_with("usage: slaacctl [-s socket] [--json] command [argument ...]\n"),
        "{text}"
    );
    assert!(text.starts_with("slaacctl: "), "{text}");
    assert_eq!(output.status.code(), Some(1));
}

/// Runs `slaacctl monitor` until it printed `lines` lines, then interrupts
/// it; returns its output.
fn monitor_until(socket: &Path, args: &[&str], lines: usize) -> Output {
    use std::io::{BufRead, BufReader as StdBufReader};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_slaacctl"))
        .arg("-s")
        .arg(socket)
        .args(args)
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run slaacctl");
    let mut reader = StdBufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    for _ in 0..lines {
        if reader.read_line(&mut printed).expect("read slaacctl") == 0 {
            break;
        }
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("interrupt slaacctl");
    let mut output = child.wait_with_output().expect("wait for slaacctl");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).expect("read slaacctl");
    printed.push_str(&rest);
    output.stdout = printed.into_bytes();
    output
}

#[test]
fn monitor_prints_events_as_text_until_interrupted() {
    let daemon = FakeDaemon::start(vec![]);
    let output = monitor_until(&daemon.path, &["mon", "lo"], 4);
    assert_eq!(
        stdout(&output),
        "2026-11-27 21:30:05.123 eth0 RA from fe80::1%eth0: router lifetime 1800 s, preference Medium\n\
         2026-11-27 21:30:05.124 eth0 proposed: address 2001:db8:1::a/64 created, valid 600 s, preferred 300 s\n\
         -- 5 events lost --\n\
         2026-11-27 21:30:05.125 eth0 RA from fe80::2%eth0 dropped: routers-limit (limit reached)\n"
    );
    assert_eq!(stderr(&output), "");
    assert_eq!(output.status.code(), Some(0));
    let lo = nix::net::if_::if_nametoindex("lo").expect("lo");
    assert_eq!(daemon.calls(), vec![Call::Monitor(lo)]);
}

#[test]
fn monitor_prints_one_json_object_per_line() {
    let daemon = FakeDaemon::start(vec![]);
    let output = monitor_until(&daemon.path, &["--json", "monitor"], 4);
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 4, "{}", stdout(&output));
    assert_eq!(lines[0]["event"], "advertisement");
    assert_eq!(lines[0]["source"], "fe80::1");
    assert_eq!(lines[0]["time"], EVENT_TIME);
    assert_eq!(lines[1]["event"], "proposed");
    assert_eq!(lines[1]["change"], "created");
    assert_eq!(lines[1]["kind"], "address");
    assert_eq!(lines[1]["address"], "2001:db8:1::a");
    assert_eq!(lines[2], serde_json::json!({"event": "lost", "count": 5}));
    assert_eq!(lines[3]["event"], "dropped");
    assert_eq!(lines[3]["limit"], true);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(daemon.calls(), vec![Call::Monitor(0)]);
}

#[test]
fn monitor_of_an_unknown_interface_is_refused() {
    let daemon = FakeDaemon::start(vec![]);
    let output = slaacctl(&daemon.path, &["monitor", "nosuch0"]);
    assert_eq!(stderr(&output), "slaacctl: unknown interface nosuch0\n");
    assert_eq!(output.status.code(), Some(1));
    // Only the question whether it manages the name.
    assert_eq!(daemon.calls(), vec![Call::AbsentInterfaces]);
}

#[test]
fn monitor_ends_with_an_error_when_the_daemon_goes_away() {
    let daemon = FakeDaemon::start(vec![]);
    let path = daemon.path.clone();
    let child = Command::new(env!("CARGO_BIN_EXE_slaacctl"))
        .arg("-s")
        .arg(&path)
        .arg("monitor")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run slaacctl");
    // Stopping the fake daemon closes every connection once it is served.
    while daemon.calls().is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(daemon);
    let output = child.wait_with_output().expect("wait for slaacctl");
    assert_eq!(
        stderr(&output),
        format!(
            "slaacctl: slaacd closed the connection on {}\n",
            path.display()
        )
    );
    assert_eq!(output.status.code(), Some(1));
}
