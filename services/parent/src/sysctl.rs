//! Per-interface IPv6 sysctls under /proc/sys/net/ipv6/conf/<interface>/ and
//! /proc/sys/net/ipv6/neigh/<interface>/: reading and writing them by name,
//! the guard that turns the kernel's own Router Advertisement processing off
//! on an interface slaacd manages and puts the previous values back
//! afterwards, and the link parameters an RA sets (IPv6 MTU, hop limit,
//! Neighbor Discovery timers).
//!
//! It must never write outside those directories (names with `/` or `..` are
//! refused) and never touch the `all` or `default` entries on its own.
//!
//! What the guard sets, and why:
//! - `accept_ra=0`: the kernel ignores RAs altogether (default route, MTU,
//!   hop limit, timers, route information, prefixes), so it cannot fight
//!   slaacd over what slaacd installs.
//! - `autoconf=0`: redundant while `accept_ra=0` holds, since the kernel only
//!   autoconfigures from RAs it accepts. It is set anyway so that an
//!   administrator or another tool flipping `accept_ra` back on while slaacd
//!   runs does not also make the kernel build its own SLAAC addresses next to
//!   slaacd's, and so that `sysctl` shows plainly that the kernel does not
//!   autoconfigure this interface. It does not affect the link-local address.
//! - `use_tempaddr=2` (the default, [`TemporaryAddresses::Kernel`]): the
//!   kernel makes RFC 8981 temporary addresses from the stable addresses
//!   slaacd adds with IFA_F_MANAGETEMPADDR, and prefers them as source; only
//!   addresses the kernel itself marks temporary can win source selection.
//!   `use_tempaddr=0` ([`TemporaryAddresses::Off`]) when the administrator
//!   wants none, so that `sysctl` shows that too.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tracing::{debug, warn};

/// Where the per-interface IPv6 settings live.
pub const IPV6_CONF_DIR: &str = "/proc/sys/net/ipv6/conf";
/// Where the per-interface Neighbor Discovery settings live.
pub const IPV6_NEIGH_DIR: &str = "/proc/sys/net/ipv6/neigh";

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
const MAX_INTERFACE_NAME: usize = 15;

/// Whether the kernel makes RFC 8981 temporary addresses on a managed
/// interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporaryAddresses {
    /// From slaacd's stable addresses, preferred as source: `use_tempaddr=2`.
    Kernel,
    /// None: `use_tempaddr=0`.
    Off,
}

impl TemporaryAddresses {
    fn use_tempaddr(self) -> &'static str {
        match self {
            Self::Kernel => "2",
            Self::Off => "0",
        }
    }
}

/// What the guard writes on a managed interface, in order.
fn managed_settings(temporary: TemporaryAddresses) -> [(&'static str, &'static str); 3] {
    [
        ("accept_ra", "0"),
        ("autoconf", "0"),
        ("use_tempaddr", temporary.use_tempaddr()),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum SysctlError {
    #[error("invalid interface name {0:?}")]
    InvalidInterfaceName(String),
    #[error("invalid sysctl name {0:?}")]
    InvalidName(String),
    #[error("IPv6 MTU {mtu} on interface {interface} is below 1280")]
    MtuTooSmall { interface: String, mtu: u32 },
    #[error("read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("write {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
}

impl SysctlError {
    /// True when the file does not exist, e.g. the interface has gone.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Read { source, .. } | Self::Write { source, .. } => {
                source.kind() == io::ErrorKind::NotFound
            }
            _ => false,
        }
    }
}

fn is_plain_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The IPv6 sysctls of one interface.
#[derive(Debug, Clone)]
pub struct InterfaceSysctls {
    interface: String,
    dir: PathBuf,
}

impl InterfaceSysctls {
    /// The interface's settings under [`IPV6_CONF_DIR`].
    pub fn new(interface: &str) -> Result<Self, SysctlError> {
        Self::under(IPV6_CONF_DIR, interface)
    }

    /// The interface's Neighbor Discovery settings under [`IPV6_NEIGH_DIR`].
    pub fn neighbour(interface: &str) -> Result<Self, SysctlError> {
        Self::under(IPV6_NEIGH_DIR, interface)
    }

    fn under(base: &str, interface: &str) -> Result<Self, SysctlError> {
        if !is_plain_component(interface) || interface.len() > MAX_INTERFACE_NAME {
            return Err(SysctlError::InvalidInterfaceName(interface.to_owned()));
        }
        Ok(Self {
            interface: interface.to_owned(),
            dir: Path::new(base).join(interface),
        })
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    fn path(&self, name: &str) -> Result<PathBuf, SysctlError> {
        if !is_plain_component(name) {
            return Err(SysctlError::InvalidName(name.to_owned()));
        }
        Ok(self.dir.join(name))
    }

    /// The value of sysctl `name`, without the trailing newline.
    pub fn read(&self, name: &str) -> Result<String, SysctlError> {
        let path = self.path(name)?;
        match fs::read_to_string(&path) {
            Ok(value) => Ok(value.trim_end().to_owned()),
            Err(source) => Err(SysctlError::Read { path, source }),
        }
    }

    pub fn write(&self, name: &str, value: &str) -> Result<(), SysctlError> {
        let path = self.path(name)?;
        fs::write(&path, value).map_err(|source| SysctlError::Write {
            path,
            value: value.to_owned(),
            source,
        })
    }
}

/// The smallest IPv6 MTU (RFC 8200).
pub const MIN_IPV6_MTU: u32 = 1280;
/// The kernel's own floors for RA timers (ndisc.c: HZ/10 and HZ/100), so a
/// router cannot make the host probe neighbours in a busy loop.
const MIN_REACHABLE_TIME_MS: u32 = 100;
const MIN_RETRANS_TIMER_MS: u32 = 10;

/// The link parameters of one interface that a Router Advertisement sets, as
/// the kernel's own RA code would set them.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    conf: InterfaceSysctls,
    neighbour: InterfaceSysctls,
}

impl LinkSettings {
    pub fn new(interface: &str) -> Result<Self, SysctlError> {
        Ok(Self {
            conf: InterfaceSysctls::new(interface)?,
            neighbour: InterfaceSysctls::neighbour(interface)?,
        })
    }

    /// Sets the interface's IPv6 MTU (`conf/IF/mtu`) to `mtu`, lowered to
    /// `link_mtu` when above it (the kernel refuses more than the device's
    /// MTU). Returns the value written.
    pub fn set_mtu(&self, mtu: u32, link_mtu: u32) -> Result<u32, SysctlError> {
        let applied = mtu.min(link_mtu);
        if applied < MIN_IPV6_MTU {
            return Err(SysctlError::MtuTooSmall {
                interface: self.conf.interface().to_owned(),
                mtu: applied,
            });
        }
        self.conf.write("mtu", &applied.to_string())?;
        Ok(applied)
    }

    /// The hop limit of packets the host originates (`conf/IF/hop_limit`);
    /// 0 (unspecified) leaves it as it is.
    pub fn set_hop_limit(&self, hop_limit: u8) -> Result<(), SysctlError> {
        if hop_limit == 0 {
            return Ok(());
        }
        self.conf.write("hop_limit", &hop_limit.to_string())
    }

    /// BaseReachableTime (`neigh/IF/base_reachable_time_ms`); the kernel
    /// draws a new random ReachableTime from it on the write. 0 leaves it.
    pub fn set_reachable_time(&self, milliseconds: u32) -> Result<(), SysctlError> {
        if milliseconds == 0 {
            return Ok(());
        }
        let value = milliseconds.max(MIN_REACHABLE_TIME_MS);
        self.neighbour
            .write("base_reachable_time_ms", &value.to_string())
    }

    /// RetransTimer (`neigh/IF/retrans_time_ms`); 0 leaves it.
    pub fn set_retrans_timer(&self, milliseconds: u32) -> Result<(), SysctlError> {
        if milliseconds == 0 {
            return Ok(());
        }
        let value = milliseconds.max(MIN_RETRANS_TIMER_MS);
        self.neighbour.write("retrans_time_ms", &value.to_string())
    }
}

/// Holds the kernel's RA processing off on a managed interface; restores the
/// previous values when dropped or when [`RaTakeover::restore`] is called.
#[derive(Debug)]
pub struct RaTakeover {
    sysctls: InterfaceSysctls,
    /// (name, previous value), in the order they were written.
    saved: Vec<(&'static str, String)>,
}

impl RaTakeover {
    /// Saves and then sets `accept_ra=0`, `autoconf=0` and `use_tempaddr=2`
    /// (the kernel's temporary addresses) on the interface.
    pub fn take(interface: &str) -> Result<Self, SysctlError> {
        Self::take_with(interface, TemporaryAddresses::Kernel)
    }

    /// Saves and then sets `accept_ra=0`, `autoconf=0` and the
    /// `use_tempaddr` that `temporary` asks for on the interface.
    /// If one write fails, what was already changed is put back first.
    pub fn take_with(interface: &str, temporary: TemporaryAddresses) -> Result<Self, SysctlError> {
        let settings = managed_settings(temporary);
        let mut takeover = Self {
            sysctls: InterfaceSysctls::new(interface)?,
            saved: Vec::with_capacity(settings.len()),
        };
        for (name, value) in settings {
            let previous = takeover.sysctls.read(name)?;
            takeover.sysctls.write(name, value)?;
            debug!(interface, name, previous = %previous, value, "sysctl set");
            takeover.saved.push((name, previous));
        }
        Ok(takeover)
    }

    pub fn interface(&self) -> &str {
        self.sysctls.interface()
    }

    /// Puts the previous values back. An interface that has gone is not an
    /// error; otherwise every value is still tried and the first error is
    /// returned.
    pub fn restore(mut self) -> Result<(), SysctlError> {
        self.restore_saved()
    }

    fn restore_saved(&mut self) -> Result<(), SysctlError> {
        let mut first_error = None;
        while let Some((name, previous)) = self.saved.pop() {
            match self.sysctls.write(name, &previous) {
                Ok(()) => {
                    debug!(interface = self.interface(), name, value = %previous, "sysctl restored");
                }
                Err(e) if e.is_not_found() => {
                    debug!(
                        interface = self.interface(),
                        name, "interface gone: nothing to restore"
                    );
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for RaTakeover {
    fn drop(&mut self) {
        if let Err(e) = self.restore_saved() {
            warn!(interface = self.interface(), error = %e, "could not restore sysctl");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_that_leave_the_directory_are_refused() {
        for bad in ["", ".", "..", "a/b", "../all", "sixteen-chars-xx", "nul\0"] {
            assert!(
                matches!(
                    InterfaceSysctls::new(bad),
                    Err(SysctlError::InvalidInterfaceName(_))
                ),
                "{bad:?} accepted"
            );
        }
        let vlan = InterfaceSysctls::new("eth0.100").unwrap();
        assert_eq!(vlan.interface(), "eth0.100");
    }

    #[test]
    fn sysctl_names_that_leave_the_directory_are_refused() {
        let sysctls = InterfaceSysctls::new("eth0").unwrap();
        for bad in ["", "..", "../../all/forwarding", "a/b"] {
            assert!(matches!(
                sysctls.read(bad),
                Err(SysctlError::InvalidName(_))
            ));
            assert!(matches!(
                sysctls.write(bad, "1"),
                Err(SysctlError::InvalidName(_))
            ));
        }
    }

    #[test]
    fn an_mtu_below_1280_is_refused_before_any_write() {
        // The interface does not exist: a write would fail differently.
        let settings = LinkSettings::new("nosuchif-h10").unwrap();
        let error = settings.set_mtu(1500, 1279).unwrap_err();
        assert!(
            matches!(error, SysctlError::MtuTooSmall { mtu: 1279, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("nosuchif-h10"), "{error}");
        assert!(matches!(
            LinkSettings::new("../all"),
            Err(SysctlError::InvalidInterfaceName(_))
        ));
    }

    #[test]
    fn the_kernel_makes_temporary_addresses_unless_told_not_to() {
        let use_tempaddr = |temporary| {
            managed_settings(temporary)
                .into_iter()
                .find(|(name, _)| *name == "use_tempaddr")
                .map(|(_, value)| value)
        };
        assert_eq!(use_tempaddr(TemporaryAddresses::Kernel), Some("2"));
        assert_eq!(use_tempaddr(TemporaryAddresses::Off), Some("0"));
        // RA processing goes off before anything else changes.
        assert_eq!(
            managed_settings(TemporaryAddresses::Kernel)[0],
            ("accept_ra", "0")
        );
    }

    #[test]
    fn errors_name_the_file() {
        let sysctls = InterfaceSysctls::new("nosuchif-h3").unwrap();
        let error = sysctls.read("accept_ra").unwrap_err();
        assert!(error.is_not_found());
        assert!(
            error
                .to_string()
                .contains("/proc/sys/net/ipv6/conf/nosuchif-h3/accept_ra"),
            "{error}"
        );
        let error = sysctls.write("accept_ra", "0").unwrap_err();
        assert!(
            error.to_string().contains("nosuchif-h3/accept_ra"),
            "{error}"
        );
    }
}
