//! Delivers the DNS servers and search domains learnt from Router
//! Advertisements (RFC 8106 RDNSS and DNSSL) to the system's resolver.
//!
//! The engine sends an interface's whole DNS configuration each time it
//! changes (empty lists when everything expired or was withdrawn); this
//! module keeps the latest one per interface and hands it to a backend:
//! systemd-resolved over D-Bus where it runs (settings per link),
//! resolvconf(8) when installed (one record per interface, run by a
//! confined helper process so that the parent never executes anything),
//! otherwise a resolv.conf-format file holding every interface's entries.
//! What is still
//! configured is withdrawn when the daemon stops ([`Resolver::withdraw_all`],
//! or when the resolver is dropped), so nothing outlives an orderly stop;
//! what a killed run left is cleared at the next start
//! ([`Resolver::clear_stale`]). Each change runs to its end as a task of its
//! own, the only holder of what is applied while it runs: a caller that is
//! cut off (an engine call the stop abandons) can neither leave that held
//! nor leave a change made but not recorded. It must never write
//! /etc/resolv.conf itself, and never pass on a value it has not checked (see
//! `render`).

mod file;
pub mod helper;
mod render;
mod resolvconf;
mod resolved;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::{debug, warn};

use crate::confine::ResolverNeeds;

pub use file::FileError;
pub use helper::{HelperCommand, HelperError, HelperExit};
pub use render::InvalidEntry;
pub use resolvconf::ResolvconfError;
pub use resolved::{Bus, ResolvedError};

/// Where the file backend writes by default.
pub const DEFAULT_RESOLV_CONF: &str = "/run/slaacd/resolv.conf";

/// Where resolvconf(8) is looked for, in order.
const RESOLVCONF_LOCATIONS: [&str; 4] = [
    "/usr/sbin/resolvconf",
    "/sbin/resolvconf",
    "/usr/bin/resolvconf",
    "/bin/resolvconf",
];

/// The comment at the top of what slaacd writes.
const COMMENT: &str = "Written by slaacd from Router Advertisements (RDNSS, DNSSL).";

/// Where DNS configuration goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// systemd-resolved, reached on this bus.
    Resolved(Bus),
    /// The resolvconf(8) program at this path.
    Resolvconf(PathBuf),
    /// A resolv.conf-format file at this path, replaced atomically.
    File(PathBuf),
}

impl Backend {
    /// systemd-resolved when it runs on the system bus, else resolvconf(8)
    /// when it is installed in a standard location, otherwise the file
    /// [`DEFAULT_RESOLV_CONF`].
    pub fn detect() -> Self {
        Self::detect_in(
            &Bus::System,
            &RESOLVCONF_LOCATIONS.map(Path::new),
            Path::new(DEFAULT_RESOLV_CONF),
        )
    }

    /// systemd-resolved when its name is owned on `bus`, else the first
    /// executable of `candidates`, or else the file `fallback`.
    pub fn detect_in(bus: &Bus, candidates: &[&Path], fallback: &Path) -> Self {
        if resolved::is_running(bus) {
            return Self::Resolved(bus.clone());
        }
        candidates
            .iter()
            .find(|path| is_executable(path))
            .map_or_else(
                || Self::File(fallback.to_owned()),
                |path| Self::Resolvconf(path.to_path_buf()),
            )
    }

    /// What this backend needs once the parent is confined (`crate::confine` grants exactly
    /// this on top of the parent's own needs).
    pub fn confinement_needs(&self) -> ResolverNeeds {
        match self {
            // A D-Bus connection: an AF_UNIX socket, connected by path.
            Self::Resolved(_) => ResolverNeeds {
                promises: "unix",
                ..ResolverNeeds::default()
            },
            // Nothing: the helper, started before the parent confines itself, runs resolvconf
            // under a confinement of its own (`helper::process`); the parent only talks to it
            // over a socket it holds and waits for it ("children", which it has anyway).
            Self::Resolvconf(_) => ResolverNeeds::default(),
            // A temporary file beside it, its mode set, then renamed over it.
            Self::File(path) => ResolverNeeds {
                directories: vec![
                    path.parent()
                        .filter(|parent| !parent.as_os_str().is_empty())
                        .unwrap_or(Path::new("."))
                        .to_owned(),
                ],
                promises: "fattr",
                ..ResolverNeeds::default()
            },
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    /// The `-r` option: `auto`, `resolved`, `resolved=ADDRESS` (a D-Bus
    /// address), `resolvconf`, `resolvconf=PATH`, `file` or `file=PATH`.
    fn from_str(option: &str) -> Result<Self, String> {
        let (kind, path) = match option.split_once('=') {
            Some((kind, path)) if !path.is_empty() => (kind, Some(PathBuf::from(path))),
            Some((kind, _)) => return Err(format!("{kind}= needs a path")),
            None => (option, None),
        };
        match (kind, path) {
            ("auto", None) => Ok(Self::detect()),
            ("resolved", None) => Ok(Self::Resolved(Bus::System)),
            ("resolved", Some(address)) => Ok(Self::Resolved(Bus::Address(
                address.to_string_lossy().into_owned(),
            ))),
            ("resolvconf", Some(path)) => Ok(Self::Resolvconf(path)),
            ("resolvconf", None) => RESOLVCONF_LOCATIONS
                .iter()
                .map(Path::new)
                .find(|path| is_executable(path))
                .map(|path| Self::Resolvconf(path.to_path_buf()))
                .ok_or_else(|| "resolvconf is not installed".to_string()),
            ("file", path) => Ok(Self::File(
                path.unwrap_or_else(|| DEFAULT_RESOLV_CONF.into()),
            )),
            _ => Err(format!(
                "unknown resolver {option:?}: use auto, resolved[=ADDRESS], \
                 resolvconf[=PATH] or file[=PATH]"
            )),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Resolved(bus) => write!(f, "systemd-resolved ({bus})"),
            Self::Resolvconf(program) => write!(f, "resolvconf ({})", program.display()),
            Self::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// Why DNS configuration could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ResolverError {
    #[error("DNS configuration for interface {interface}: {entry}")]
    Invalid {
        interface: String,
        entry: InvalidEntry,
    },
    #[error("DNS configuration for interface {interface}: {source}")]
    Resolvconf {
        interface: String,
        source: ResolvconfError,
    },
    #[error("DNS configuration for interface {interface}: {source}")]
    File {
        interface: String,
        source: FileError,
    },
    #[error("DNS configuration for interface {interface}: {source}")]
    Resolved {
        interface: String,
        source: ResolvedError,
    },
    #[error("DNS through resolvconf: {0}")]
    Helper(#[from] HelperError),
    #[error("DNS configuration left by a previous run in {path}: {source}")]
    StaleFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The task of a change ended before the change did: the runtime is
    /// shutting down, or the task panicked.
    #[error("DNS configuration for interface {interface}: the change did not finish: {reason}")]
    Unfinished { interface: String, reason: String },
}

/// The DNS configuration applied for one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
struct InterfaceDns {
    /// The name it was applied under (a resolvconf record is named by it).
    name: String,
    servers: Vec<Ipv6Addr>,
    search_domains: Vec<String>,
}

/// The backend with what it keeps between calls.
enum Delivery {
    Resolved(resolved::Client),
    Resolvconf(helper::Helper),
    File(PathBuf),
}

/// Applies each interface's DNS configuration through one backend.
pub struct Resolver {
    shared: Arc<Shared>,
}

/// The backend and what is applied through it, shared with the task of each
/// change.
struct Shared {
    backend: Backend,
    delivery: Delivery,
    /// What is applied. Only the resolver's own tasks take it, each for a
    /// whole change (backend call included), so no caller can be left
    /// holding it, and changes apply one at a time in the order their tasks
    /// start: on the daemon's single-threaded runtime, the order they were
    /// asked for.
    applied: tokio::sync::Mutex<Applied>,
}

/// The DNS configuration applied, by interface index.
type Applied = BTreeMap<u32, InterfaceDns>;

impl Resolver {
    /// A resolver for `backend`. For resolvconf its helper is this very executable
    /// ([`HelperCommand::this_executable`]), started now; one that cannot start makes every
    /// call fail, naming why. [`Resolver::start`] says how to start it and reports a failure.
    pub fn new(backend: Backend) -> Self {
        let helper = |program: &Path| {
            HelperCommand::this_executable()
                .map_err(|error| format!("finding slaacd's own executable: {error}"))
                .and_then(|command| {
                    helper::Helper::spawn(program, &command).map_err(|error| error.to_string())
                })
                .unwrap_or_else(|reason| {
                    warn!("{reason}");
                    helper::Helper::unavailable(program, reason)
                })
        };
        let delivery = match &backend {
            Backend::Resolved(bus) => Delivery::Resolved(resolved::Client::new(bus.clone())),
            Backend::Resolvconf(program) => Delivery::Resolvconf(helper(program)),
            Backend::File(path) => Delivery::File(path.clone()),
        };
        Self::with_delivery(backend, delivery)
    }

    /// A resolver for `backend`; for resolvconf, with its helper started as `helper` says and
    /// ready, that is confined. The daemon calls it before it confines itself: the parent may
    /// not start programs afterwards.
    pub async fn start(backend: Backend, helper: &HelperCommand) -> Result<Self, ResolverError> {
        let delivery = match &backend {
            Backend::Resolvconf(program) => {
                let helper = helper::Helper::spawn(program, helper)?;
                helper.ready().await?;
                Delivery::Resolvconf(helper)
            }
            Backend::Resolved(bus) => Delivery::Resolved(resolved::Client::new(bus.clone())),
            Backend::File(path) => Delivery::File(path.clone()),
        };
        Ok(Self::with_delivery(backend, delivery))
    }

    fn with_delivery(backend: Backend, delivery: Delivery) -> Self {
        Self {
            shared: Arc::new(Shared {
                backend,
                delivery,
                applied: tokio::sync::Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Waits until the resolvconf helper ends and says how; never, for the other backends. The
    /// daemon stops when it does, as when a child dies.
    pub async fn helper_exited(&self) -> HelperExit {
        match &self.shared.delivery {
            Delivery::Resolvconf(helper) => helper.exited().await,
            Delivery::Resolved(_) | Delivery::File(_) => std::future::pending().await,
        }
    }

    /// The resolvconf helper's pid; none for the other backends. The confined parent may
    /// signal and wait for it, as for its children.
    pub fn helper_pid(&self) -> Option<u32> {
        match &self.shared.delivery {
            Delivery::Resolvconf(helper) => helper.pid(),
            Delivery::Resolved(_) | Delivery::File(_) => None,
        }
    }

    pub fn backend(&self) -> &Backend {
        &self.shared.backend
    }

    /// Makes `servers` and `search_domains` the DNS configuration of
    /// interface `index` (currently named `interface`); empty lists withdraw
    /// it. Nothing is applied if any entry is invalid. The change runs as a
    /// task of its own: a caller that stops waiting does not stop it, and
    /// what it applied is recorded, to be withdrawn at the stop.
    pub async fn configure(
        &self,
        index: u32,
        interface: &str,
        servers: &[Ipv6Addr],
        search_domains: &[String],
    ) -> Result<(), ResolverError> {
        let invalid = |entry| ResolverError::Invalid {
            interface: interface.to_owned(),
            entry,
        };
        render::check_count("DNS servers", servers.len()).map_err(invalid)?;
        render::check_count("search domains", search_domains.len()).map_err(invalid)?;
        for server in servers {
            render::check_server(*server).map_err(invalid)?;
        }
        let search_domains = search_domains
            .iter()
            .map(|domain| render::normalize_domain(domain))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let wanted = (!servers.is_empty() || !search_domains.is_empty()).then(|| InterfaceDns {
            name: interface.to_owned(),
            servers: servers.to_vec(),
            search_domains,
        });
        let shared = self.shared.clone();
        let name = interface.to_owned();
        let change = tokio::spawn(async move {
            let mut applied = shared.applied.lock().await;
            shared.apply(&mut applied, index, &name, wanted).await
        });
        change.await.map_err(|error| ResolverError::Unfinished {
            interface: interface.to_owned(),
            reason: error.to_string(),
        })?
    }

    /// Clears what a previous run left for `interfaces` because it was
    /// killed before it could withdraw it: the file's entries (the whole file
    /// is slaacd's, as one daemon runs at a time), each interface's
    /// resolvconf record, or each link's settings in systemd-resolved. The
    /// daemon calls it at start, before anything is configured; what this
    /// resolver applied itself stays. Every interface is tried: the first
    /// failure is returned, the others are logged.
    pub async fn clear_stale(&self, interfaces: &[String]) -> Result<(), ResolverError> {
        let shared = self.shared.clone();
        let names = interfaces.to_vec();
        let clearing = tokio::spawn(async move {
            let applied = shared.applied.lock().await;
            shared.clear_stale(&applied, &names).await
        });
        clearing.await.map_err(|error| ResolverError::Unfinished {
            interface: interfaces.join(", "),
            reason: error.to_string(),
        })?
    }

    /// Withdraws everything still applied: the daemon calls it when it
    /// stops. It runs on the caller's runtime, over the connections the
    /// resolver already has (a confined daemon may start no thread), after
    /// any change still running, which ends within its backend's time limit
    /// even if its caller was cut off by the stop.
    pub async fn withdraw_all(&self) {
        let shared = self.shared.clone();
        let withdrawal = tokio::spawn(async move {
            let mut applied = shared.applied.lock().await;
            let names: Vec<(u32, String)> = applied
                .iter()
                .map(|(index, dns)| (*index, dns.name.clone()))
                .collect();
            for (index, name) in names {
                if let Err(error) = shared.apply(&mut applied, index, &name, None).await {
                    warn!(%error, "could not withdraw DNS configuration");
                }
            }
        });
        if let Err(error) = withdrawal.await {
            warn!("withdrawing DNS configuration did not finish: {error}");
        }
    }
}

impl Shared {
    /// Makes `wanted` what is applied for interface `index`, through the
    /// backend, and records it; `None` withdraws. The caller holds `applied`
    /// for the whole change.
    async fn apply(
        &self,
        applied: &mut Applied,
        index: u32,
        interface: &str,
        wanted: Option<InterfaceDns>,
    ) -> Result<(), ResolverError> {
        let previous = applied.get(&index).cloned();
        if previous == wanted {
            return Ok(());
        }
        match &self.delivery {
            Delivery::Resolved(client) => {
                let link = resolved::Link { index, interface };
                apply_resolved(client, link, previous.as_ref(), wanted.as_ref())
                    .await
                    .map_err(|source| ResolverError::Resolved {
                        interface: interface.to_owned(),
                        source,
                    })?;
            }
            Delivery::Resolvconf(helper) => {
                apply_resolvconf(helper, previous.as_ref(), wanted.as_ref())
                    .await
                    .map_err(|source| ResolverError::Resolvconf {
                        interface: interface.to_owned(),
                        source,
                    })?;
            }
            Delivery::File(path) => {
                let mut next = applied.clone();
                match &wanted {
                    Some(dns) => next.insert(index, dns.clone()),
                    None => next.remove(&index),
                };
                file::replace(path, &render_all(&next)).map_err(|source| ResolverError::File {
                    interface: interface.to_owned(),
                    source,
                })?;
            }
        }
        let servers = wanted.as_ref().map(|dns| &dns.servers[..]).unwrap_or(&[]);
        debug!(index, interface, backend = %self.backend, ?servers, "DNS configuration applied");
        match wanted {
            Some(dns) => applied.insert(index, dns),
            None => applied.remove(&index),
        };
        Ok(())
    }

    /// [`Resolver::clear_stale`], with `applied` held.
    async fn clear_stale(
        &self,
        applied: &Applied,
        interfaces: &[String],
    ) -> Result<(), ResolverError> {
        let mut failures = Vec::new();
        match &self.delivery {
            Delivery::Resolved(client) => {
                for interface in interfaces {
                    // An interface that does not exist has no link in resolved.
                    let Ok(index) = nix::net::if_::if_nametoindex(interface.as_str()) else {
                        continue;
                    };
                    if applied.contains_key(&index) {
                        continue;
                    }
                    let link = resolved::Link { index, interface };
                    if let Err(source) = client.revert_link(link).await {
                        failures.push(ResolverError::Resolved {
                            interface: interface.clone(),
                            source,
                        });
                    }
                }
            }
            Delivery::Resolvconf(helper) => {
                for interface in interfaces {
                    if applied.values().any(|dns| &dns.name == interface) {
                        continue;
                    }
                    if let Err(source) = resolvconf::delete_if_present(helper, interface).await {
                        failures.push(ResolverError::Resolvconf {
                            interface: interface.clone(),
                            source,
                        });
                    }
                }
            }
            Delivery::File(path) => {
                if let Err(error) = clear_stale_file(path, &render_all(applied)) {
                    failures.push(error);
                }
            }
        }
        let mut failures = failures.into_iter();
        let first = failures.next();
        for error in failures {
            warn!(%error, "could not clear DNS configuration left by a previous run");
        }
        match first {
            Some(error) => Err(error),
            None => {
                debug!(backend = %self.backend, ?interfaces, "DNS configuration of a previous run cleared");
                Ok(())
            }
        }
    }

    /// Withdraws everything still applied without a runtime, for a resolver
    /// that goes away before [`Resolver::withdraw_all`]; systemd-resolved is
    /// told from a thread and runtime of its own.
    fn withdraw_all_blocking(&self) {
        // The last task of the resolver is gone with its hold on it, unless
        // it was forgotten half-way: then the next start's clearing removes
        // what it left.
        let Ok(mut applied) = self.applied.try_lock() else {
            warn!("DNS configuration busy at shutdown; left in place");
            return;
        };
        let applied = std::mem::take(&mut *applied);
        if applied.is_empty() {
            return;
        }
        match &self.delivery {
            Delivery::Resolved(client) => {
                let links: Vec<resolved::Link<'_>> = applied
                    .iter()
                    .map(|(index, dns)| resolved::Link {
                        index: *index,
                        interface: &dns.name,
                    })
                    .collect();
                for result in resolved::revert_links_blocking(client.bus(), &links) {
                    if let Err(error) = result {
                        warn!(%error, "could not withdraw DNS configuration");
                    }
                }
            }
            Delivery::Resolvconf(helper) => {
                for dns in applied.values() {
                    if let Err(error) = resolvconf::delete_blocking(helper, &dns.name) {
                        warn!(%error, "could not withdraw DNS configuration");
                    }
                }
            }
            Delivery::File(path) => {
                if let Err(error) = file::replace(path, &render_all(&BTreeMap::new())) {
                    warn!(%error, "could not withdraw DNS configuration");
                }
            }
        }
        debug!(backend = %self.backend, "DNS configuration withdrawn");
    }
}

/// When the resolver and the last of its tasks are gone.
impl Drop for Shared {
    fn drop(&mut self) {
        self.withdraw_all_blocking();
    }
}

/// Only the calls that change something: resolved replaces a link's whole
/// server list, or its whole domain list, with each call.
async fn apply_resolved(
    client: &resolved::Client,
    link: resolved::Link<'_>,
    previous: Option<&InterfaceDns>,
    wanted: Option<&InterfaceDns>,
) -> Result<(), ResolvedError> {
    let Some(wanted) = wanted else {
        return client.revert_link(link).await;
    };
    let (servers, domains) = previous.map_or((&[][..], &[][..]), |previous| {
        (&previous.servers[..], &previous.search_domains[..])
    });
    if wanted.servers != servers {
        client.set_link_dns(link, &wanted.servers).await?;
    }
    if wanted.search_domains != domains {
        client
            .set_link_domains(link, &wanted.search_domains)
            .await?;
    }
    Ok(())
}

async fn apply_resolvconf(
    helper: &helper::Helper,
    previous: Option<&InterfaceDns>,
    wanted: Option<&InterfaceDns>,
) -> Result<(), ResolvconfError> {
    // A renamed interface leaves a record under its old name: delete it.
    if let Some(previous) = previous
        && wanted.is_none_or(|wanted| wanted.name != previous.name)
    {
        resolvconf::delete(helper, &previous.name).await?;
    }
    if let Some(wanted) = wanted {
        let mut lines = render::ResolvConf::default();
        lines.add(&wanted.name, &wanted.servers, &wanted.search_domains);
        resolvconf::add(helper, &wanted.name, &lines.render(COMMENT)).await?;
    }
    Ok(())
}

/// Replaces the file with `wanted` if it is one slaacd wrote (it starts with
/// slaacd's comment) and holds anything else; a file someone else wrote is
/// not slaacd's to clear.
fn clear_stale_file(path: &Path, wanted: &str) -> Result<(), ResolverError> {
    let stale = |source| ResolverError::StaleFile {
        path: path.to_owned(),
        source,
    };
    let current = match std::fs::read_to_string(path) {
        Ok(current) => current,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(stale(error)),
    };
    if !current.starts_with(&render::header(COMMENT)) || current == wanted {
        return Ok(());
    }
    file::replace(path, wanted).map_err(|error| ResolverError::StaleFile {
        path: error.path,
        source: error.source,
    })
}

fn render_all(applied: &Applied) -> String {
    let mut lines = render::ResolvConf::default();
    for dns in applied.values() {
        lines.add(&dns.name, &dns.servers, &dns.search_domains);
    }
    lines.render(COMMENT)
}
