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
//! - `optimistic_dad=1`: the kernel honours the IFA_F_OPTIMISTIC that slaacd
//!   asks for on new addresses (RFC 4429), so an address is usable at once
//!   instead of after DAD, and DAD starts without the random delay of up to
//!   `router_solicitation_delay` (1 s) that RFC 4862 puts before a
//!   non-optimistic address's first probe. It also makes the kernel's own
//!   link-local address optimistic, so its DAD, too, starts at carrier-up.
//!   `use_optimistic` is left alone: at 0 the kernel
//!   treats an optimistic address like a deprecated one in source selection
//!   (usable, never preferred over a finished one), as RFC 4429 3.3 asks.
//!   Kernels built without CONFIG_IPV6_OPTIMISTIC_DAD lack the setting; it
//!   is skipped there.
//!
//! The guard also saves, without writing them, the link parameters slaacd
//! may set from RAs later (`conf/IF/mtu`, `conf/IF/hop_limit`,
//! `neigh/IF/base_reachable_time_ms`, `neigh/IF/retrans_time_ms`), and puts
//! them back first when it restores, while the kernel's own RA processing is
//! still off.
//!
//! [`ManagedInterfaces`] holds one guard per managed interface and follows
//! the interfaces by index: one renamed away from a managed name gets its
//! values back at once, one that takes a managed name is taken over, and a
//! deleted one is forgotten without a write. A managed name that no
//! interface holds at start-up is not an error: the interface that takes it
//! later (a USB or Wi-Fi adapter, a VLAN, a veth, a udev rename) is taken
//! over when its link event comes, before its link is up for a new one. It
//! asks the kernel for each interface's current name where link events may
//! be missing (after an overrun, and at the final restore), so a value is
//! never put back under a name another interface has taken since.
//! [`FollowedInterfaces`] feeds it the link events, and answers the name of
//! a held interface for those who would otherwise ask the kernel. A lookup
//! that fails is not taken for an interface that is gone: the guard is kept
//! (after an overrun, checked again at the next link event; at the final
//! restore, put back under the last name the events gave).

mod followed;

pub use followed::FollowedInterfaces;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tracing::{debug, info, warn};

use crate::interface_names::InterfaceLookupError;

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
fn managed_settings(temporary: TemporaryAddresses) -> [(&'static str, &'static str); 4] {
    [
        ("accept_ra", "0"),
        ("autoconf", "0"),
        ("use_tempaddr", temporary.use_tempaddr()),
        ("optimistic_dad", "1"),
    ]
}

/// Settings of [`managed_settings`] that some kernels do not have (a build
/// option adds them); the guard skips them there.
const OPTIONAL_SETTINGS: [&str; 1] = ["optimistic_dad"];

/// Which directory of sysctls a saved value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `conf/IF/`.
    Conf,
    /// `neigh/IF/`.
    Neighbour,
}

/// The link parameters slaacd may set from RAs ([`LinkSettings`]): saved at
/// take-over, restored first.
const LINK_PARAMETERS: [(Table, &str); 4] = [
    (Table::Conf, "mtu"),
    (Table::Conf, "hop_limit"),
    (Table::Neighbour, "base_reachable_time_ms"),
    (Table::Neighbour, "retrans_time_ms"),
];

#[derive(Debug, thiserror::Error)]
pub enum SysctlError {
    #[error("invalid interface name {0:?}")]
    InvalidInterfaceName(String),
    #[error(transparent)]
    Lookup(#[from] InterfaceLookupError),
    #[error("invalid sysctl name {0:?}")]
    InvalidName(String),
    #[error("IPv6 MTU {mtu} on interface {interface} is below 1280")]
    MtuTooSmall { interface: String, mtu: u32 },
    #[error("IPv6 MTU {mtu} on interface {interface} is above its link MTU {link_mtu}")]
    MtuAboveLink {
        interface: String,
        mtu: u32,
        link_mtu: u32,
    },
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

    /// True when the kernel refused the value itself (EINVAL), e.g. an IPv6
    /// MTU above the link's.
    pub fn is_invalid_value(&self) -> bool {
        matches!(self, Self::Write { source, .. } if source.raw_os_error() == Some(libc::EINVAL))
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

    /// Sets the interface's IPv6 MTU (`conf/IF/mtu`) to `mtu`. An MTU above
    /// `link_mtu`, the device's, is refused and the MTU left as it is, as
    /// RFC 4861 6.3.4 says and the kernel's own RA code does.
    pub fn set_mtu(&self, mtu: u32, link_mtu: u32) -> Result<(), SysctlError> {
        let interface = || self.conf.interface().to_owned();
        if mtu < MIN_IPV6_MTU {
            return Err(SysctlError::MtuTooSmall {
                interface: interface(),
                mtu,
            });
        }
        if mtu > link_mtu {
            return Err(SysctlError::MtuAboveLink {
                interface: interface(),
                mtu,
                link_mtu,
            });
        }
        self.conf.write("mtu", &mtu.to_string())
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

/// One value the guard changed or may change, and what it was before.
#[derive(Debug)]
struct Saved {
    table: Table,
    name: &'static str,
    previous: String,
}

/// Holds the kernel's RA processing off (and optimistic DAD on) on a managed
/// interface, and remembers the link parameters RAs may change; restores all
/// the previous values when dropped or when [`RaTakeover::restore`] is
/// called.
#[derive(Debug)]
pub struct RaTakeover {
    conf: InterfaceSysctls,
    neighbour: InterfaceSysctls,
    /// Previous values, in the order they were saved; restored in reverse.
    saved: Vec<Saved>,
}

impl RaTakeover {
    /// Saves and then sets `accept_ra=0`, `autoconf=0`, `use_tempaddr=2`
    /// (the kernel's temporary addresses) and `optimistic_dad=1` on the
    /// interface, and saves its link parameters.
    pub fn take(interface: &str) -> Result<Self, SysctlError> {
        Self::take_with(interface, TemporaryAddresses::Kernel)
    }

    /// Saves and then sets `accept_ra=0`, `autoconf=0`, the `use_tempaddr`
    /// that `temporary` asks for and `optimistic_dad=1` on the interface,
    /// and saves its link parameters. If one step fails, what was already
    /// changed is put back first.
    pub fn take_with(interface: &str, temporary: TemporaryAddresses) -> Result<Self, SysctlError> {
        let settings = managed_settings(temporary);
        let mut takeover = Self {
            conf: InterfaceSysctls::new(interface)?,
            neighbour: InterfaceSysctls::neighbour(interface)?,
            saved: Vec::with_capacity(settings.len() + LINK_PARAMETERS.len()),
        };
        for (name, value) in settings {
            let previous = match takeover.conf.read(name) {
                Ok(previous) => previous,
                Err(e) if e.is_not_found() && OPTIONAL_SETTINGS.contains(&name) => {
                    debug!(interface, name, "this kernel has no such setting; skipped");
                    continue;
                }
                Err(e) => return Err(e),
            };
            takeover.conf.write(name, value)?;
            debug!(interface, name, previous = %previous, value, "sysctl set");
            takeover.saved.push(Saved {
                table: Table::Conf,
                name,
                previous,
            });
        }
        for (table, name) in LINK_PARAMETERS {
            let previous = takeover.table(table).read(name)?;
            takeover.saved.push(Saved {
                table,
                name,
                previous,
            });
        }
        Ok(takeover)
    }

    pub fn interface(&self) -> &str {
        self.conf.interface()
    }

    /// Follows the interface to its new name `name`.
    fn renamed(&mut self, name: &str) -> Result<(), SysctlError> {
        self.conf = InterfaceSysctls::new(name)?;
        self.neighbour = InterfaceSysctls::neighbour(name)?;
        Ok(())
    }

    /// Drops the saved values without writing them: the interface is gone,
    /// and a new one may take its name.
    fn forget(mut self) {
        self.saved.clear();
    }

    fn table(&self, table: Table) -> &InterfaceSysctls {
        match table {
            Table::Conf => &self.conf,
            Table::Neighbour => &self.neighbour,
        }
    }

    /// Puts the previous values back, link parameters first. An interface
    /// that has gone is not an error, nor an IPv6 MTU the link no longer
    /// allows (the kernel then holds the link's); otherwise every value is
    /// still tried and the first error is returned.
    pub fn restore(mut self) -> Result<(), SysctlError> {
        self.restore_saved()
    }

    fn restore_saved(&mut self) -> Result<(), SysctlError> {
        let mut first_error = None;
        while let Some(Saved {
            table,
            name,
            previous,
        }) = self.saved.pop()
        {
            let interface = self.interface();
            match self.table(table).write(name, &previous) {
                Ok(()) => {
                    debug!(interface, name, value = %previous, "sysctl restored");
                }
                Err(e) if e.is_not_found() => {
                    debug!(interface, name, "interface gone: nothing to restore");
                }
                Err(e) if name == "mtu" && e.is_invalid_value() => {
                    debug!(interface, mtu = %previous, "the link's MTU is now lower: the IPv6 MTU stays at it");
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

/// How many times [`ManagedInterfaces::retry`] tries a step before giving
/// up on it (the caller retries every few tens of milliseconds).
const MAX_ATTEMPTS: u32 = 100;

/// A step that waits for an interface's sysctl directory: after a rename
/// the kernel announces the new name before it has moved the directory.
#[derive(Debug)]
enum Waiting {
    /// Give a renamed, no longer managed interface its values back.
    Release(RaTakeover),
    /// Take over an interface that took a managed name.
    Take(String),
}

/// Where a managed name stood when [`ManagedInterfaces::take_existing`]
/// looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The interface with that index holds the name and was taken over.
    Taken(u32),
    /// The interface with that index holds the name but was made so recently
    /// that its sysctls are not there yet: it waits for
    /// [`ManagedInterfaces::retry`].
    Pending(u32),
    /// No interface holds the name: the one that takes it is taken over from
    /// its link event.
    Absent,
}

/// The interfaces slaacd manages, by name: an [`RaTakeover`] for each
/// interface (by index) that holds a managed name now. Every guard is
/// restored by [`ManagedInterfaces::restore_all`] or when this is dropped.
#[derive(Debug)]
pub struct ManagedInterfaces {
    /// The managed names and what each asks for temporary addresses.
    wanted: Vec<(String, TemporaryAddresses)>,
    held: BTreeMap<u32, RaTakeover>,
    /// Steps waiting for a sysctl directory, with the attempts made.
    waiting: BTreeMap<u32, (Waiting, u32)>,
    /// A [`ManagedInterfaces::reconcile`] could not ask the kernel about
    /// every interface: the next link event runs it again.
    unsettled: bool,
    /// How the kernel is asked for an interface's current name.
    name_of: NameLookup,
}

/// Asks the kernel for the name interface `index` has now: `None` when it is
/// gone, an error when the kernel could not be asked.
type NameLookup = fn(u32) -> Result<Option<String>, InterfaceLookupError>;

/// Whether the kernel shows interface `name`'s IPv6 settings yet.
fn has_sysctls(name: &str) -> bool {
    InterfaceSysctls::new(name)
        .and_then(|sysctls| sysctls.read("accept_ra"))
        .is_ok()
}

impl ManagedInterfaces {
    /// Manages the interfaces named in `wanted`; none is taken over yet.
    pub fn new(wanted: Vec<(String, TemporaryAddresses)>) -> Self {
        Self {
            wanted,
            held: BTreeMap::new(),
            waiting: BTreeMap::new(),
            unsettled: false,
            name_of: crate::interface_names::name_of,
        }
    }

    fn temporary_addresses(&self, name: &str) -> Option<TemporaryAddresses> {
        self.wanted
            .iter()
            .find(|(wanted, _)| wanted == name)
            .map(|(_, temporary)| *temporary)
    }

    fn holds_name(&self, name: &str) -> bool {
        self.held
            .values()
            .any(|takeover| takeover.interface() == name)
    }

    /// Takes over interface `index`, which is named `name`, if that is a
    /// managed name not already held.
    pub fn take(&mut self, index: u32, name: &str) -> Result<(), SysctlError> {
        let Some(temporary) = self.temporary_addresses(name) else {
            return Ok(());
        };
        if self.held.contains_key(&index) || self.holds_name(name) {
            return Ok(());
        }
        let takeover = RaTakeover::take_with(name, temporary)?;
        self.held.insert(index, takeover);
        Ok(())
    }

    /// Takes over the interface that holds each managed name now, and says
    /// for each name where it stood. A name that no interface holds is not
    /// an error; one that cannot be an interface name is.
    pub fn take_existing(&mut self) -> Result<Vec<(String, Presence)>, SysctlError> {
        let names: Vec<String> = self.wanted.iter().map(|(name, _)| name.clone()).collect();
        let mut presence = Vec::with_capacity(names.len());
        for name in names {
            // Before the lookup: the kernel would only say "invalid argument".
            InterfaceSysctls::new(&name)?;
            let Some(index) = crate::interface_names::index_of(&name)? else {
                presence.push((name, Presence::Absent));
                continue;
            };
            let stood = match self.take(index, &name) {
                Ok(()) => Presence::Taken(index),
                Err(e) if e.is_not_found() && !has_sysctls(&name) => {
                    self.link_seen(index, &name);
                    if self.held.contains_key(&index) {
                        Presence::Taken(index)
                    } else {
                        Presence::Pending(index)
                    }
                }
                Err(e) => return Err(e),
            };
            presence.push((name, stood));
        }
        Ok(presence)
    }

    /// Interface `index` exists and is named `name` (a link event): a
    /// guarded interface renamed to a name that is not managed gets its
    /// values back; an unguarded one with a managed name is taken over. A
    /// step whose sysctl directory is not there yet waits for
    /// [`ManagedInterfaces::retry`].
    pub fn link_seen(&mut self, index: u32, name: &str) {
        // A newer event decides afresh what waits for this interface.
        if let Some((Waiting::Release(mut takeover), attempts)) = self.waiting.remove(&index) {
            if takeover.interface() != name
                && let Err(e) = takeover.renamed(name)
            {
                warn!(interface = name, index, error = %e, "cannot follow the rename");
                takeover.forget();
                return;
            }
            if self.temporary_addresses(name).is_some() && !self.holds_name(name) {
                debug!(interface = name, index, "renamed back to a managed name");
                self.held.insert(index, takeover);
            } else {
                self.waiting
                    .insert(index, (Waiting::Release(takeover), attempts));
                self.retry();
            }
            return;
        }
        let Some(takeover) = self.held.get(&index) else {
            if self.temporary_addresses(name).is_some() && !self.holds_name(name) {
                self.waiting
                    .insert(index, (Waiting::Take(name.to_owned()), 0));
                self.retry();
            }
            return;
        };
        if takeover.interface() == name {
            return;
        }
        let previous = takeover.interface().to_owned();
        let still_managed = self.temporary_addresses(name).is_some() && !self.holds_name(name);
        let Some(mut takeover) = self.held.remove(&index) else {
            return;
        };
        if let Err(e) = takeover.renamed(name) {
            warn!(interface = name, index, error = %e, "cannot follow the rename");
            takeover.forget();
            return;
        }
        if still_managed {
            debug!(interface = name, previous, index, "renamed; still managed");
            self.held.insert(index, takeover);
            return;
        }
        debug!(
            interface = name,
            previous, index, "renamed: no longer managed"
        );
        self.waiting.insert(index, (Waiting::Release(takeover), 0));
        self.retry();
    }

    /// Interface `index` is gone: nothing to restore, and nothing must be
    /// written to an interface that takes its name later.
    pub fn link_removed(&mut self, index: u32) {
        if let Some(takeover) = self.held.remove(&index) {
            debug!(interface = takeover.interface(), index, "interface gone");
            takeover.forget();
        }
        if let Some((Waiting::Release(takeover), _)) = self.waiting.remove(&index) {
            takeover.forget();
        }
    }

    /// Whether a step waits for [`ManagedInterfaces::retry`].
    pub fn is_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Carries out the waiting steps whose sysctl directory has appeared;
    /// gives up on one after [`MAX_ATTEMPTS`].
    pub fn retry(&mut self) {
        for (index, (step, attempts)) in std::mem::take(&mut self.waiting) {
            let name = match &step {
                Waiting::Release(takeover) => takeover.interface().to_owned(),
                Waiting::Take(name) => name.clone(),
            };
            if !has_sysctls(&name) {
                if attempts + 1 < MAX_ATTEMPTS {
                    self.waiting.insert(index, (step, attempts + 1));
                } else {
                    warn!(
                        interface = name,
                        index, "its sysctls never appeared; left as they are"
                    );
                    if let Waiting::Release(takeover) = step {
                        takeover.forget();
                    }
                }
                continue;
            }
            match step {
                Waiting::Release(takeover) => match takeover.restore() {
                    Ok(()) => info!(
                        interface = name,
                        index, "no longer managed: sysctls restored"
                    ),
                    Err(e) => {
                        warn!(interface = name, index, error = %e, "could not restore sysctl")
                    }
                },
                Waiting::Take(name) => match self.take(index, &name) {
                    Ok(()) => info!(interface = name, index, "taken over"),
                    Err(e) => warn!(interface = name, index, error = %e, "could not take over"),
                },
            }
        }
    }

    /// Checks every held interface and every managed name against the
    /// kernel, as if a link event had come for each: for when events were
    /// lost (a netlink overrun), so that a renamed interface is let go, a
    /// deleted one forgotten and one that took a managed name taken over.
    /// An interface the kernel could not be asked about keeps its state (a
    /// failed lookup is not a removal, which would forget its guard and never
    /// restore it), and [`ManagedInterfaces::needs_reconcile`] says so until
    /// a later run gets every answer.
    pub fn reconcile(&mut self) {
        self.unsettled = false;
        let followed: Vec<u32> = self
            .held
            .keys()
            .chain(self.waiting.keys())
            .copied()
            .collect();
        for index in followed {
            match (self.name_of)(index) {
                Ok(Some(name)) => self.link_seen(index, &name),
                Ok(None) => self.link_removed(index),
                Err(e) => {
                    warn!(index, error = %e,
                        "cannot check the interface; kept as it was until the next link event");
                    self.unsettled = true;
                }
            }
        }
        let names: Vec<String> = self.wanted.iter().map(|(name, _)| name.clone()).collect();
        for name in names {
            match crate::interface_names::index_of(&name) {
                Ok(Some(index)) => self.link_seen(index, &name),
                Ok(None) => {}
                Err(e) => {
                    warn!(interface = name, error = %e,
                        "cannot check the managed name; checked again at the next link event");
                    self.unsettled = true;
                }
            }
        }
    }

    /// Whether the last [`ManagedInterfaces::reconcile`] could not ask the
    /// kernel about everything, so that it should run again.
    pub fn needs_reconcile(&self) -> bool {
        self.unsettled
    }

    /// Puts every held interface's values back, under the name each has
    /// now: the events of a last rename or removal may not have been read.
    pub fn restore_all(&mut self) {
        let waiting = std::mem::take(&mut self.waiting).into_iter().filter_map(
            |(index, (step, _))| match step {
                Waiting::Release(takeover) => Some((index, takeover)),
                Waiting::Take(_) => None,
            },
        );
        let held = std::mem::take(&mut self.held).into_iter();
        for (index, mut takeover) in held.chain(waiting) {
            let name = match (self.name_of)(index) {
                Ok(Some(name)) => name,
                Ok(None) => {
                    debug!(interface = takeover.interface(), index, "interface gone");
                    takeover.forget();
                    continue;
                }
                // Not forgotten: the name the events gave is the best there is.
                Err(e) => {
                    warn!(interface = takeover.interface(), index, error = %e,
                        "cannot ask the kernel for its current name; restoring under this one");
                    takeover.interface().to_owned()
                }
            };
            if name != takeover.interface()
                && let Err(e) = takeover.renamed(&name)
            {
                warn!(interface = name, index, error = %e, "cannot follow the rename");
                takeover.forget();
                continue;
            }
            if let Err(e) = takeover.restore() {
                warn!(interface = name, index, error = %e, "could not restore sysctl");
            }
        }
    }

    /// The interface names held now, by index.
    pub fn held(&self) -> impl Iterator<Item = (u32, &str)> {
        self.held
            .iter()
            .map(|(index, takeover)| (*index, takeover.interface()))
    }
}

impl Drop for ManagedInterfaces {
    fn drop(&mut self) {
        self.restore_all();
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
    fn an_mtu_below_1280_or_above_the_link_is_refused_before_any_write() {
        // The interface does not exist: a write would fail differently.
        let settings = LinkSettings::new("nosuchif-h10").unwrap();
        let error = settings.set_mtu(1279, 1500).unwrap_err();
        assert!(
            matches!(error, SysctlError::MtuTooSmall { mtu: 1279, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("nosuchif-h10"), "{error}");
        let error = settings.set_mtu(1500, 1400).unwrap_err();
        assert_eq!(
            error.to_string(),
            "IPv6 MTU 1500 on interface nosuchif-h10 is above its link MTU 1400"
        );
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
    fn optimistic_dad_is_on_and_may_be_missing() {
        for temporary in [TemporaryAddresses::Kernel, TemporaryAddresses::Off] {
            assert!(managed_settings(temporary).contains(&("optimistic_dad", "1")));
        }
    }

    /// A guard on `name` whose sysctls live beneath `base` instead of /proc,
    /// having saved `accept_ra` as `previous` (set to 0 now).
    fn guard_under(base: &Path, name: &str, previous: &str) -> RaTakeover {
        let directory = |table: &str| {
            let directory = base.join(table);
            fs::create_dir_all(directory.join(name)).unwrap();
            directory.to_str().unwrap().to_owned()
        };
        let conf = InterfaceSysctls::under(&directory("conf"), name).unwrap();
        let neighbour = InterfaceSysctls::under(&directory("neigh"), name).unwrap();
        conf.write("accept_ra", "0").unwrap();
        RaTakeover {
            conf,
            neighbour,
            saved: vec![Saved {
                table: Table::Conf,
                name: "accept_ra",
                previous: previous.to_owned(),
            }],
        }
    }

    fn unanswered(index: u32) -> Result<Option<String>, InterfaceLookupError> {
        Err(InterfaceLookupError::Request {
            interface: index.to_string(),
            source: nix::errno::Errno::ENOBUFS,
        })
    }

    fn gone(_: u32) -> Result<Option<String>, InterfaceLookupError> {
        Ok(None)
    }

    /// Managing a name no interface has (the kernel answers that without
    /// privileges), holding index 7 as `name` beneath a scratch directory.
    fn holding_index_7(test: &str, name: &str) -> (ManagedInterfaces, PathBuf) {
        let base = std::env::temp_dir().join(format!("slaacd-{test}-{}", std::process::id()));
        let mut managed =
            ManagedInterfaces::new(vec![("slaacd-none0".into(), TemporaryAddresses::Kernel)]);
        managed.held.insert(7, guard_under(&base, name, "2"));
        (managed, base)
    }

    fn held(managed: &ManagedInterfaces) -> Vec<(u32, &str)> {
        managed.held().collect()
    }

    #[test]
    fn a_failed_lookup_keeps_the_guard_until_an_answer_says_it_is_gone() {
        let (mut managed, base) = holding_index_7("reconcile", "h0");
        managed.name_of = unanswered;
        managed.reconcile();
        assert_eq!(held(&managed), [(7, "h0")]);
        assert!(managed.needs_reconcile());

        managed.name_of = gone;
        managed.reconcile();
        let accept_ra = fs::read_to_string(base.join("conf/h0/accept_ra"));
        let _ = fs::remove_dir_all(&base);
        assert_eq!(held(&managed), []);
        assert!(!managed.needs_reconcile());
        // Forgotten, not restored: the interface is gone.
        assert_eq!(accept_ra.unwrap(), "0");
    }

    #[test]
    fn the_final_restore_without_an_answer_uses_the_last_known_name() {
        let (mut managed, base) = holding_index_7("restore", "h1");
        managed.name_of = unanswered;
        managed.restore_all();
        let accept_ra = fs::read_to_string(base.join("conf/h1/accept_ra"));
        let _ = fs::remove_dir_all(&base);
        assert_eq!(held(&managed), []);
        assert_eq!(accept_ra.unwrap(), "2");
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
