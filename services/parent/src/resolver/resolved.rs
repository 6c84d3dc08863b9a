//! The systemd-resolved backend: each interface's DNS servers and search
//! domains are set on its link in systemd-resolved over D-Bus (the Manager
//! object of org.freedesktop.resolve1: `SetLinkDNS`, `SetLinkDomains`, and
//! `RevertLink` to hand the link back), so that resolved routes queries per
//! link and link-local servers keep their interface.
//!
//! It talks only to org.freedesktop.resolve1 (and to the bus itself, to ask
//! whether resolved runs), only about the links it is given, and never waits
//! longer than [`TIMEOUT`] for the bus or resolved.

use std::future::Future;
use std::io;
use std::net::Ipv6Addr;
use std::sync::Mutex;
use std::time::Duration;

use zbus::export::serde::Serialize;
use zbus::zvariant::DynamicType;

/// How long connecting to the bus, or one call, may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// systemd-resolved's bus name, its Manager object and interface.
const SERVICE: &str = "org.freedesktop.resolve1";
const MANAGER_PATH: &str = "/org/freedesktop/resolve1";
const MANAGER_INTERFACE: &str = "org.freedesktop.resolve1.Manager";

/// resolved's answer about an interface index it does not know: the link is
/// gone, and resolved dropped its settings with it.
const NO_SUCH_LINK: &str = "org.freedesktop.resolve1.NoSuchLink";

/// The address family of each server in `SetLinkDNS`: AF_INET6.
const FAMILY_INET6: i32 = libc::AF_INET6;

/// The bus systemd-resolved is reached on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The system bus, where systemd-resolved runs.
    System,
    /// A D-Bus address such as `unix:path=/run/test/bus`.
    Address(String),
}

impl std::fmt::Display for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::System => f.write_str("the system bus"),
            Self::Address(address) => write!(f, "bus {address}"),
        }
    }
}

/// What went wrong talking to systemd-resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolvedError {
    #[error("connect to {bus}: {source}")]
    Connect { bus: Bus, source: Box<zbus::Error> },
    #[error("connect to {bus}: no answer within {TIMEOUT:?}")]
    ConnectTimedOut { bus: Bus },
    #[error("systemd-resolved {method} for link {index} ({interface}) on {bus}: {source}")]
    Call {
        method: &'static str,
        interface: String,
        index: u32,
        bus: Bus,
        source: Box<zbus::Error>,
    },
    #[error(
        "systemd-resolved {method} for link {index} ({interface}) on {bus}: \
         no answer within {TIMEOUT:?}"
    )]
    CallTimedOut {
        method: &'static str,
        interface: String,
        index: u32,
        bus: Bus,
    },
    #[error("interface {interface} has index {index}, which D-Bus cannot carry")]
    Index { interface: String, index: u32 },
    #[error("talking to {bus} on a thread of its own: {source}")]
    Thread { bus: Bus, source: io::Error },
}

impl ResolvedError {
    /// The D-Bus error resolved, or the bus for it, answered a call with.
    fn refusal(&self) -> Option<&str> {
        match self {
            Self::Call { source, .. } => match &**source {
                zbus::Error::MethodError(name, _, _) => Some(name.as_str()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One link, as resolved knows it (by index) and as the log names it.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub index: u32,
    pub interface: &'a str,
}

/// A connection to systemd-resolved, made at the first call and made again
/// after the bus dropped it.
pub struct Client {
    bus: Bus,
    connection: Mutex<Option<zbus::Connection>>,
}

impl Client {
    pub fn new(bus: Bus) -> Self {
        Self {
            bus,
            connection: Mutex::new(None),
        }
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// `SetLinkDNS(i ifindex, a(iay) addresses)`: `servers` become the
    /// link's DNS servers, in order.
    pub async fn set_link_dns(
        &self,
        link: Link<'_>,
        servers: &[Ipv6Addr],
    ) -> Result<(), ResolvedError> {
        let addresses: Vec<(i32, Vec<u8>)> = servers
            .iter()
            .map(|server| (FAMILY_INET6, server.octets().to_vec()))
            .collect();
        let index = ifindex(link)?;
        self.call("SetLinkDNS", link, &(index, addresses)).await
    }

    /// `SetLinkDomains(i ifindex, a(sb) domains)`: `domains` become the
    /// link's search domains (routing-only false), in order.
    pub async fn set_link_domains(
        &self,
        link: Link<'_>,
        domains: &[String],
    ) -> Result<(), ResolvedError> {
        let domains: Vec<(&str, bool)> = domains
            .iter()
            .map(|domain| (domain.as_str(), false))
            .collect();
        let index = ifindex(link)?;
        self.call("SetLinkDomains", link, &(index, domains)).await
    }

    /// `RevertLink(i ifindex)`: the link's settings go back to resolved's
    /// defaults. A link resolved no longer knows has nothing to revert.
    pub async fn revert_link(&self, link: Link<'_>) -> Result<(), ResolvedError> {
        let index = ifindex(link)?;
        match self.call("RevertLink", link, &(index,)).await {
            Err(error) if error.refusal() == Some(NO_SUCH_LINK) => Ok(()),
            result => result,
        }
    }

    async fn call<B>(
        &self,
        method: &'static str,
        link: Link<'_>,
        body: &B,
    ) -> Result<(), ResolvedError>
    where
        B: Serialize + DynamicType,
    {
        let connection = self.connection().await?;
        let reply = connection.call_method(
            Some(SERVICE),
            MANAGER_PATH,
            Some(MANAGER_INTERFACE),
            method,
            body,
        );
        let result = tokio::time::timeout(TIMEOUT, reply).await;
        let failed = match result {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(source)) => ResolvedError::Call {
                method,
                interface: link.interface.to_owned(),
                index: link.index,
                bus: self.bus.clone(),
                source: Box::new(source),
            },
            Err(_) => ResolvedError::CallTimedOut {
                method,
                interface: link.interface.to_owned(),
                index: link.index,
                bus: self.bus.clone(),
            },
        };
        // Anything but an answer may mean a broken connection: make a new
        // one next time.
        if failed.refusal().is_none() {
            self.forget_connection();
        }
        Err(failed)
    }

    async fn connection(&self) -> Result<zbus::Connection, ResolvedError> {
        if let Some(connection) = self.lock().as_ref() {
            return Ok(connection.clone());
        }
        let connection = connect(&self.bus).await?;
        *self.lock() = Some(connection.clone());
        Ok(connection)
    }

    fn forget_connection(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<zbus::Connection>> {
        // The guarded value is a plain handle: a panic elsewhere cannot
        // leave it half-changed.
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether systemd-resolved runs on `bus`: whether its name has an owner.
/// An unreachable bus means no. Usable with or without a runtime.
pub fn is_running(bus: &Bus) -> bool {
    run_apart(bus, || async {
        let connection = connect(bus).await.ok()?;
        let reply = connection.call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &(SERVICE,),
        );
        let reply = tokio::time::timeout(TIMEOUT, reply).await.ok()?.ok()?;
        reply.body().deserialize::<bool>().ok()
    })
    .ok()
    .flatten()
    .unwrap_or(false)
}

/// `RevertLink` for each of `links`, without the caller's runtime (for
/// shutdown, which may run inside or outside one); one result per link.
pub fn revert_links_blocking(bus: &Bus, links: &[Link<'_>]) -> Vec<Result<(), ResolvedError>> {
    let reverted = run_apart(bus, || async {
        let client = Client::new(bus.clone());
        let mut results = Vec::with_capacity(links.len());
        for link in links {
            results.push(client.revert_link(*link).await);
        }
        results
    });
    reverted.unwrap_or_else(|source| {
        links
            .iter()
            .map(|_| {
                Err(ResolvedError::Thread {
                    bus: bus.clone(),
                    source: io::Error::new(source.kind(), source.to_string()),
                })
            })
            .collect()
    })
}

async fn connect(bus: &Bus) -> Result<zbus::Connection, ResolvedError> {
    let failed = |source| ResolvedError::Connect {
        bus: bus.clone(),
        source: Box::new(source),
    };
    let connecting = async {
        let socket = open_socket(bus).await?;
        zbus::connection::Builder::unix_stream(socket).build().await
    };
    match tokio::time::timeout(TIMEOUT, connecting).await {
        Ok(connection) => connection.map_err(failed),
        Err(_) => Err(ResolvedError::ConnectTimedOut { bus: bus.clone() }),
    }
}

/// The bus's socket, connected on the caller's runtime. zbus would connect
/// it on a tokio blocking thread, and the parent confines itself only while
/// it is the only thread, and may start none once confined.
async fn open_socket(bus: &Bus) -> Result<tokio::net::UnixStream, zbus::Error> {
    use zbus::address::transport::{Transport, UnixSocket};
    let address = match bus {
        Bus::System => zbus::Address::system()?,
        Bus::Address(address) => address.parse::<zbus::Address>()?,
    };
    let unsupported = || {
        zbus::Error::Address(format!(
            "{address}: only unix:path= addresses are supported"
        ))
    };
    let Transport::Unix(unix) = address.transport() else {
        return Err(unsupported());
    };
    let UnixSocket::File(path) = unix.path() else {
        return Err(unsupported());
    };
    Ok(tokio::net::UnixStream::connect(path).await?)
}

fn ifindex(link: Link<'_>) -> Result<i32, ResolvedError> {
    i32::try_from(link.index).map_err(|_| ResolvedError::Index {
        interface: link.interface.to_owned(),
        index: link.index,
    })
}

/// Runs `work` to completion on a thread and a runtime of its own and
/// returns its output: a runtime cannot block on a future inside itself,
/// and no thread is left behind (detection runs before the daemon forks).
fn run_apart<T, F>(bus: &Bus, work: impl FnOnce() -> F + Send) -> Result<T, io::Error>
where
    F: Future<Output = T>,
    T: Send,
{
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("slaacd-dbus".into())
            .spawn_scoped(scope, || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok(runtime.block_on(work()))
            })?;
        thread.join().unwrap_or_else(|_| {
            Err(io::Error::other(format!(
                "the thread talking to {bus} panicked"
            )))
        })
    })
}
