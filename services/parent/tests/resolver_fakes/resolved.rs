//! A fake systemd-resolved for the resolver's tests: a private dbus-daemon
//! (its socket in a temporary directory), on which the Manager object of
//! org.freedesktop.resolve1 is served with zbus on a thread of its own,
//! recording every call and keeping each link's settings as resolved would.
//! It never touches the system bus.

// Each test binary that includes this uses a part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::Ipv6Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slaacd_parent::resolver::Bus;

use crate::support::TempDir;

pub const SERVICE: &str = "org.freedesktop.resolve1";
pub const AF_INET6: i32 = 10;

/// A dbus-daemon of the test's own, listening on a socket in a private
/// temporary directory; killed by pid and removed when dropped.
pub struct PrivateBus {
    dir: TempDir,
    daemon: Child,
    pub address: String,
}

impl PrivateBus {
    pub fn start() -> Self {
        let dir = TempDir::new("resolved");
        let config = dir.path().join("bus.conf");
        fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig>\n\
                 <type>custom</type>\n\
                 <listen>unix:path={}</listen>\n\
                 <auth>EXTERNAL</auth>\n\
                 <policy context=\"default\">\n\
                 <allow user=\"*\"/>\n\
                 <allow own=\"*\"/>\n\
                 <allow send_destination=\"*\"/>\n\
                 <allow receive_sender=\"*\"/>\n\
                 </policy>\n\
                 </busconfig>\n",
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        // It complains, harmlessly, that it may not raise its fd limit.
        let log = dir.path().join("dbus-daemon.log");
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--print-address")
            .arg("--nofork")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("starting dbus-daemon ({error}): install the Debian package dbus-daemon")
            });
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed no address: {address:?}; its log: {}",
            fs::read_to_string(&log).unwrap_or_default()
        );
        Self {
            dir,
            daemon,
            address,
        }
    }

    pub fn bus(&self) -> Bus {
        Bus::Address(self.address.clone())
    }

    /// The bus's private directory, removed with it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // The directory goes when `dir` is dropped, after the daemon.
    }
}

/// One call the fake systemd-resolved received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    SetLinkDns(i32, Vec<(i32, Vec<u8>)>),
    SetLinkDomains(i32, Vec<(String, bool)>),
    RevertLink(i32),
}

/// A link's settings in the fake: servers and domains.
pub type LinkSettings = (Vec<(i32, Vec<u8>)>, Vec<(String, bool)>);

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    links: BTreeMap<i32, LinkSettings>,
    /// Links whose changes are refused as systemd-networkd's.
    busy: BTreeSet<i32>,
    /// Links that no longer exist.
    gone: BTreeSet<i32>,
}

#[derive(zbus::DBusError, Debug)]
#[zbus(prefix = "org.freedesktop.resolve1")]
enum Fault {
    #[zbus(error)]
    ZBus(zbus::Error),
    NoSuchLink(String),
    LinkBusy(String),
}

struct Manager {
    state: Arc<Mutex<State>>,
}

impl Manager {
    fn record(&self, index: i32, call: Call) -> Result<(), Fault> {
        let mut state = self.state.lock().unwrap();
        state.calls.push(call.clone());
        if state.gone.contains(&index) {
            return Err(Fault::NoSuchLink(format!("Link {index} not known")));
        }
        if state.busy.contains(&index) {
            return Err(Fault::LinkBusy(format!("Link {index} is managed")));
        }
        match call {
            Call::SetLinkDns(_, servers) => state.links.entry(index).or_default().0 = servers,
            Call::SetLinkDomains(_, domains) => state.links.entry(index).or_default().1 = domains,
            Call::RevertLink(_) => {
                state.links.remove(&index);
            }
        }
        Ok(())
    }
}

#[zbus::interface(name = "org.freedesktop.resolve1.Manager")]
impl Manager {
    #[zbus(name = "SetLinkDNS")]
    fn set_link_dns(&self, ifindex: i32, addresses: Vec<(i32, Vec<u8>)>) -> Result<(), Fault> {
        self.record(ifindex, Call::SetLinkDns(ifindex, addresses))
    }

    #[zbus(name = "SetLinkDomains")]
    fn set_link_domains(&self, ifindex: i32, domains: Vec<(String, bool)>) -> Result<(), Fault> {
        self.record(ifindex, Call::SetLinkDomains(ifindex, domains))
    }

    #[zbus(name = "RevertLink")]
    fn revert_link(&self, ifindex: i32) -> Result<(), Fault> {
        self.record(ifindex, Call::RevertLink(ifindex))
    }
}

/// The fake systemd-resolved, owning org.freedesktop.resolve1 on a bus
/// until dropped.
pub struct FakeResolved {
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeResolved {
    pub fn serve(bus: &PrivateBus) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel();
        let address = bus.address.clone();
        let manager = Manager {
            state: state.clone(),
        };
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                // Not the default name, which `connecting_starts_no_thread`
                // looks for.
                .thread_name("fake-resolved")
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let connection = zbus::connection::Builder::address(address.as_str())
                    .unwrap()
                    .name(SERVICE)
                    .unwrap()
                    .serve_at("/org/freedesktop/resolve1", manager)
                    .unwrap()
                    .build()
                    .await
                    .expect("serving the fake systemd-resolved");
                ready.send(()).unwrap();
                let _ = stopped.await;
                drop(connection);
            });
        });
        is_ready
            .recv_timeout(Duration::from_secs(10))
            .expect("the fake systemd-resolved did not start");
        Self {
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn links(&self) -> BTreeMap<i32, LinkSettings> {
        self.state.lock().unwrap().links.clone()
    }

    pub fn set_busy(&self, index: i32, busy: bool) {
        let mut state = self.state.lock().unwrap();
        if busy {
            state.busy.insert(index);
        } else {
            state.busy.remove(&index);
        }
    }

    pub fn set_gone(&self, index: i32) {
        self.state.lock().unwrap().gone.insert(index);
    }
}

impl Drop for FakeResolved {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A server as SetLinkDNS carries it: AF_INET6 and the 16 address bytes.
pub fn wire(server: &str) -> (i32, Vec<u8>) {
    (
        AF_INET6,
        server.parse::<Ipv6Addr>().unwrap().octets().to_vec(),
    )
}

pub fn search(list: &[&str]) -> Vec<(String, bool)> {
    list.iter().map(|s| ((*s).to_owned(), false)).collect()
}
