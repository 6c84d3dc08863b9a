//! Delivers the DNS servers and search domains learnt from Router
//! Advertisements (RFC 8106 RDNSS and DNSSL) to the system's resolver.
//!
//! The engine sends an interface's whole DNS configuration each time it
//! changes (empty lists when everything expired or was withdrawn); this
//! module keeps the latest one per interface and hands it to a backend:
//! resolvconf(8) when installed (one record per interface), otherwise a
//! resolv.conf-format file holding every interface's entries. What is still
//! configured is withdrawn when the resolver is dropped, so nothing outlives
//! the daemon. It must never write /etc/resolv.conf itself, and never pass
//! on a value it has not checked (see `render`).

mod file;
mod render;
mod resolvconf;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use tracing::{debug, warn};

pub use file::FileError;
pub use render::InvalidEntry;
pub use resolvconf::ResolvconfError;

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
    /// The resolvconf(8) program at this path.
    Resolvconf(PathBuf),
    /// A resolv.conf-format file at this path, replaced atomically.
    File(PathBuf),
}

impl Backend {
    /// resolvconf(8) when it is installed in a standard location, otherwise
    /// the file [`DEFAULT_RESOLV_CONF`].
    pub fn detect() -> Self {
        Self::detect_in(
            &RESOLVCONF_LOCATIONS.map(Path::new),
            Path::new(DEFAULT_RESOLV_CONF),
        )
    }

    /// The first executable of `candidates`, or else the file `fallback`.
    pub fn detect_in(candidates: &[&Path], fallback: &Path) -> Self {
        candidates
            .iter()
            .find(|path| is_executable(path))
            .map_or_else(
                || Self::File(fallback.to_owned()),
                |path| Self::Resolvconf(path.to_path_buf()),
            )
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    /// The `-r` option: `auto`, `resolvconf`, `resolvconf=PATH`, `file` or
    /// `file=PATH`.
    fn from_str(option: &str) -> Result<Self, String> {
        let (kind, path) = match option.split_once('=') {
            Some((kind, path)) if !path.is_empty() => (kind, Some(PathBuf::from(path))),
            Some((kind, _)) => return Err(format!("{kind}= needs a path")),
            None => (option, None),
        };
        match (kind, path) {
            ("auto", None) => Ok(Self::detect()),
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
                "unknown resolver {option:?}: use auto, resolvconf[=PATH] or file[=PATH]"
            )),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
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
}

/// The DNS configuration applied for one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
struct InterfaceDns {
    /// The name it was applied under (a resolvconf record is named by it).
    name: String,
    servers: Vec<Ipv6Addr>,
    search_domains: Vec<String>,
}

/// Applies each interface's DNS configuration through one backend.
pub struct Resolver {
    backend: Backend,
    /// What is applied, by interface index; held across a backend call so
    /// calls for the same interface apply in order.
    applied: tokio::sync::Mutex<BTreeMap<u32, InterfaceDns>>,
}

impl Resolver {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            applied: tokio::sync::Mutex::new(BTreeMap::new()),
        }
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Makes `servers` and `search_domains` the DNS configuration of
    /// interface `index` (currently named `interface`); empty lists withdraw
    /// it. Nothing is applied if any entry is invalid.
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

        let mut applied = self.applied.lock().await;
        let previous = applied.get(&index).cloned();
        if previous == wanted {
            return Ok(());
        }
        match &self.backend {
            Backend::Resolvconf(program) => {
                apply_resolvconf(program, previous.as_ref(), wanted.as_ref())
                    .await
                    .map_err(|source| ResolverError::Resolvconf {
                        interface: interface.to_owned(),
                        source,
                    })?;
            }
            Backend::File(path) => {
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
        debug!(index, interface, backend = %self.backend, ?servers, "DNS configuration applied");
        match wanted {
            Some(dns) => applied.insert(index, dns),
            None => applied.remove(&index),
        };
        Ok(())
    }

    /// Withdraws everything still applied, without a runtime: the daemon
    /// calls it when it stops, and dropping the resolver does too.
    pub fn withdraw_all(&self) {
        // Nothing else runs at shutdown; a held lock would mean a change is
        // half-applied, which the next start's configuration replaces.
        let Ok(mut applied) = self.applied.try_lock() else {
            warn!("DNS configuration busy at shutdown; left in place");
            return;
        };
        let applied = std::mem::take(&mut *applied);
        if applied.is_empty() {
            return;
        }
        match &self.backend {
            Backend::Resolvconf(program) => {
                for dns in applied.values() {
                    if let Err(error) = resolvconf::delete_blocking(program, &dns.name) {
                        warn!(%error, "could not withdraw DNS configuration");
                    }
                }
            }
            Backend::File(path) => {
                if let Err(error) = file::replace(path, &render_all(&BTreeMap::new())) {
                    warn!(%error, "could not withdraw DNS configuration");
                }
            }
        }
        debug!(backend = %self.backend, "DNS configuration withdrawn");
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        self.withdraw_all();
    }
}

async fn apply_resolvconf(
    program: &Path,
    previous: Option<&InterfaceDns>,
    wanted: Option<&InterfaceDns>,
) -> Result<(), ResolvconfError> {
    // A renamed interface leaves a record under its old name: delete it.
    if let Some(previous) = previous
        && wanted.is_none_or(|wanted| wanted.name != previous.name)
    {
        resolvconf::delete(program, &previous.name).await?;
    }
    if let Some(wanted) = wanted {
        let mut lines = render::ResolvConf::default();
        lines.add(&wanted.name, &wanted.servers, &wanted.search_domains);
        resolvconf::add(program, &wanted.name, &lines.render(COMMENT)).await?;
    }
    Ok(())
}

fn render_all(applied: &BTreeMap<u32, InterfaceDns>) -> String {
    let mut lines = render::ResolvConf::default();
    for dns in applied.values() {
        lines.add(&dns.name, &dns.servers, &dns.search_domains);
    }
    lines.render(COMMENT)
}
