//! Applies the engine's address, default-route and prefix-route proposals to
//! the Linux kernel with rtnetlink, and withdraws them; reads the link MTU
//! the IPv6 MTU must stay under.
//!
//! Everything carries a kernel lifetime, so what slaacd configured expires on
//! its own if the daemon dies. A proposal for something that exists refreshes
//! it in place; this module never deletes and re-adds an address, and deletes
//! and re-adds a default route only when the router changed what cannot be
//! changed in place (its preference, or an infinite lifetime becoming finite).
//! It decides nothing: no lifetimes are invented, nothing is added that was
//! not proposed.
//!
//! Kernel behaviour this is built on (Linux 6.18, verified by the tests in
//! `tests/kernel_netns.rs`):
//! - Addresses: RTM_NEWADDR with NLM_F_REPLACE on an existing address modifies
//!   it (one RTM_NEWADDR event, no RTM_DELADDR; while the address is still
//!   tentative the kernel sends no event at all). New addresses are asked for
//!   with IFA_F_OPTIMISTIC, which the kernel keeps only where the interface
//!   has `optimistic_dad` on and silently drops elsewhere; refreshes never pass
//!   it, since the kernel would OR it into an address that finished DAD.
//!   IFA_F_NOPREFIXROUTE is always set: RFC 5942 separates on-link prefixes
//!   (the PIO L flag) from addresses built from them (the A flag).
//!   The netlink ack does not mean "usable": the address becomes usable once
//!   the kernel announces it (see research/fast-convergence.md, Q3).
//! - Temporary addresses (RFC 8981) are the kernel's when the writer is told
//!   so: stable /64 addresses then carry IFA_F_MANAGETEMPADDR, and with the
//!   interface's `use_tempaddr` at 2 (see `sysctl::RaTakeover`) the kernel
//!   makes IFA_F_TEMPORARY addresses from them, caps their lifetimes at the
//!   stable address's on every refresh, regenerates them before they are
//!   deprecated, deletes them with the stable address, and prefers them as
//!   source. Only the kernel can set IFA_F_TEMPORARY, and source selection
//!   (RFC 6724 rule 7) prefers only addresses carrying it. The kernel
//!   refuses the flag on prefixes other than /64 (EINVAL), and removing it
//!   in a refresh deletes the kernel's temporary addresses, so every refresh
//!   passes it again (end to end: the workspace's `tests/tests/temporary.rs`).
//! - Default routes: userspace IPv6 routes to ::/0 with the same metric and
//!   different gateways are merged into one ECMP route (losing RFC 4191
//!   preference and reachability-based router choice), and NLM_F_REPLACE
//!   replaces whichever same-metric route comes first, i.e. possibly another
//!   router's. Routes that point at a nexthop object are never merged, so each
//!   router gets a nexthop object (see `nexthop`) and its own route.
//!   RTM_NEWROUTE with NLM_F_CREATE alone on an identical route (same nexthop)
//!   updates its expiry in place, without any event, and answers EEXIST.
//! - RTA_EXPIRES: u32::MAX means no expiry. The kernel accepts any other value
//!   but reports at most 21474836 s (INT_MAX clock ticks at USER_HZ 100) in
//!   dumps, so finite lifetimes are clamped to that (about 248 days); every
//!   real router lifetime (at most 65535 s) is far below it.
//! - Route metrics: every route the writer adds carries the metric of its
//!   interface (`InterfaceOptions`), and only routes with that metric are
//!   taken for its own when refreshing or withdrawing.
//! - Prefix routes (see `route`) behave like default routes: NLM_F_CREATE
//!   alone refreshes an identical route's expiry in place; deleting a nexthop
//!   object silently deletes every route using it, so a router's object is
//!   removed only when no route refers to it any more.

mod nexthop;
mod route;

pub use route::RouteKey;

use std::collections::HashMap;
use std::io;
use std::net::Ipv6Addr;
use std::sync::{Mutex, PoisonError};

use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, CacheInfo};
use netlink_packet_route::link::LinkAttribute;
use netlink_packet_route::route::{
    RouteAttribute, RouteHeader, RouteMessage, RoutePreference, RouteProtocol,
};
use rtnetlink::{AddressMessageBuilder, RouteMessageBuilder};
use slaacd_core::{AddressProposal, DefaultRouteProposal, RouterPreference};
use tracing::debug;

use nexthop::Nexthops;

/// Lifetime value meaning "forever", in proposals and in the kernel.
const INFINITE: u32 = u32::MAX;
/// The largest finite route expiry the kernel reports back unchanged.
pub const MAX_ROUTE_EXPIRY: u32 = 21_474_836;
/// RT_TABLE_MAIN.
const MAIN_TABLE: u8 = 254;

/// Why a netlink request failed.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkFailure {
    #[error("{0}")]
    Kernel(io::Error),
    #[error("the netlink connection is closed")]
    ConnectionClosed,
    #[error("unexpected netlink reply: {0}")]
    UnexpectedReply(String),
    #[error("no free nexthop object id")]
    NoFreeNexthopId,
}

impl NetlinkFailure {
    fn is_errno(&self, errno: i32) -> bool {
        matches!(self, Self::Kernel(e) if e.raw_os_error() == Some(errno))
    }
}

impl From<rtnetlink::Error> for NetlinkFailure {
    fn from(error: rtnetlink::Error) -> Self {
        match error {
            rtnetlink::Error::NetlinkError(message) => Self::Kernel(message.to_io()),
            rtnetlink::Error::RequestFailed => Self::ConnectionClosed,
            other => Self::UnexpectedReply(other.to_string()),
        }
    }
}

/// A kernel change that failed, naming the interface and address or router.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("cannot open the netlink socket for nexthop objects: {0}")]
    NexthopSocket(io::Error),
    #[error("configure address {address}/{prefix_len} on interface {index}: {reason}")]
    ConfigureAddress {
        index: u32,
        address: Ipv6Addr,
        prefix_len: u8,
        reason: NetlinkFailure,
    },
    #[error("withdraw address {address}/{prefix_len} from interface {index}: {reason}")]
    WithdrawAddress {
        index: u32,
        address: Ipv6Addr,
        prefix_len: u8,
        reason: NetlinkFailure,
    },
    #[error("configure default route via {router} on interface {index}: {reason}")]
    ConfigureDefaultRoute {
        index: u32,
        router: Ipv6Addr,
        reason: NetlinkFailure,
    },
    #[error("withdraw default route via {router} on interface {index}: {reason}")]
    WithdrawDefaultRoute {
        index: u32,
        router: Ipv6Addr,
        reason: NetlinkFailure,
    },
    #[error("configure route {route}: {reason}")]
    ConfigureRoute {
        route: RouteKey,
        reason: NetlinkFailure,
    },
    #[error("withdraw route {route}: {reason}")]
    WithdrawRoute {
        route: RouteKey,
        reason: NetlinkFailure,
    },
    #[error("read the link MTU of interface {index}: {reason}")]
    LinkMtu { index: u32, reason: NetlinkFailure },
    /// The interface's name, which its options go by, could not be asked.
    #[error(transparent)]
    InterfaceLookup(#[from] crate::interface_names::InterfaceLookupError),
}

/// What of a default route cannot be changed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RouteShape {
    preference: RouterPreference,
    expires: bool,
}

impl RouteShape {
    /// Whether the kernel's in-place refresh turns `self` into `wanted`:
    /// it rewrites the expiry (or removes it), but cannot add one to a
    /// permanent route, nor change the preference.
    fn refreshes_to(self, wanted: RouteShape) -> bool {
        self.preference == wanted.preference && (self.expires || !wanted.expires)
    }
}

#[derive(Debug, Clone, Copy)]
struct InstalledRoute {
    nexthop_id: u32,
    shape: RouteShape,
}

/// How the writer treats the proposals of one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceOptions {
    /// The metric of every route added on the interface.
    pub route_metric: u32,
    /// Whether its stable /64 addresses carry IFA_F_MANAGETEMPADDR.
    pub kernel_temporary_addresses: bool,
}

/// Applies proposals to the kernel. Cheap to share behind an `Rc`/`Arc`.
pub struct KernelWriter {
    handle: rtnetlink::Handle,
    nexthops: Nexthops,
    /// For interfaces without options of their own.
    defaults: InterfaceOptions,
    /// By interface name, since an interface keeps its name across a
    /// re-creation but not its index.
    interfaces: HashMap<String, InterfaceOptions>,
    /// Default routes this writer installed or adopted, by (interface, router).
    routes: Mutex<HashMap<(u32, Ipv6Addr), InstalledRoute>>,
    /// On-link and Route Information routes installed or adopted.
    prefix_routes: Mutex<HashMap<RouteKey, route::InstalledPrefixRoute>>,
}

impl KernelWriter {
    /// `handle` is an rtnetlink handle whose connection the caller drives.
    /// Must be called inside a tokio runtime: it opens a second netlink socket
    /// for nexthop objects and spawns the task that drives it.
    pub fn new(handle: rtnetlink::Handle, route_metric: u32) -> Result<Self, KernelError> {
        let nexthops = Nexthops::open().map_err(KernelError::NexthopSocket)?;
        Ok(Self {
            handle,
            nexthops,
            defaults: InterfaceOptions {
                route_metric,
                kernel_temporary_addresses: false,
            },
            interfaces: HashMap::new(),
            routes: Mutex::new(HashMap::new()),
            prefix_routes: Mutex::new(HashMap::new()),
        })
    }

    /// Lets the kernel make, renew and prefer RFC 8981 temporary addresses
    /// from the stable /64 addresses this writer adds (IFA_F_MANAGETEMPADDR);
    /// off unless asked for. The interface's `use_tempaddr` must be above 0
    /// for the kernel to act on it, and 2 for it to prefer them as source.
    pub fn with_kernel_temporary_addresses(mut self, enabled: bool) -> Self {
        self.defaults.kernel_temporary_addresses = enabled;
        self
    }

    /// Treats the interface called `name` by `options` instead of the
    /// defaults.
    pub fn with_interface(mut self, name: &str, options: InterfaceOptions) -> Self {
        self.interfaces.insert(name.to_owned(), options);
        self
    }

    /// The options of the interface with this index, by its current name
    /// (asked of the kernel once per call); the defaults for one without
    /// options of its own or gone. A name the kernel could not be asked for
    /// is an error, not the defaults: a route added with a metric that is not
    /// its interface's would never be found again to refresh or withdraw.
    fn options(&self, index: u32) -> Result<InterfaceOptions, KernelError> {
        if self.interfaces.is_empty() {
            return Ok(self.defaults);
        }
        let name = crate::interface_names::name_of(index)?;
        Ok(name.map_or(self.defaults, |name| self.options_named(&name)))
    }

    /// The options of the interface called `name`, for a caller that has
    /// just asked for the name itself (`KernelService`, with the `*_as`
    /// methods): one lookup per call instead of two.
    pub(crate) fn options_named(&self, name: &str) -> InterfaceOptions {
        self.interfaces.get(name).copied().unwrap_or(self.defaults)
    }

    /// The interface's link MTU (IFLA_MTU), the most its IPv6 MTU may be.
    pub async fn link_mtu(&self, index: u32) -> Result<u32, KernelError> {
        let failed = |reason| KernelError::LinkMtu { index, reason };
        let mut links = self.handle.link().get().match_index(index).execute();
        while let Some(link) = links.try_next().await.map_err(|e| failed(e.into()))? {
            if let Some(mtu) = link.attributes.iter().find_map(|a| match a {
                LinkAttribute::Mtu(mtu) => Some(*mtu),
                _ => None,
            }) {
                return Ok(mtu);
            }
        }
        Err(failed(NetlinkFailure::UnexpectedReply(
            "the link dump carries no MTU".to_owned(),
        )))
    }

    /// Adds the address, or refreshes its lifetimes in place if it exists.
    /// A valid lifetime of 0 withdraws it (the kernel refuses 0).
    pub async fn configure_address(&self, proposal: &AddressProposal) -> Result<(), KernelError> {
        let options = self.options(proposal.index)?;
        self.configure_address_as(proposal, options).await
    }

    /// [`KernelWriter::configure_address`] on an interface with `options`.
    pub(crate) async fn configure_address_as(
        &self,
        proposal: &AddressProposal,
        options: InterfaceOptions,
    ) -> Result<(), KernelError> {
        let &AddressProposal {
            index,
            address,
            prefix_len,
            valid_lifetime,
            preferred_lifetime,
            temporary,
        } = proposal;
        if valid_lifetime == 0 {
            debug!(index, %address, prefix_len, "valid lifetime 0: withdrawing the address");
            return self.withdraw_address(index, address, prefix_len).await;
        }
        let mut lifetimes = CacheInfo::default();
        lifetimes.ifa_valid = valid_lifetime;
        // The kernel rejects preferred > valid.
        lifetimes.ifa_preferred = preferred_lifetime.min(valid_lifetime);
        let failed = |reason| KernelError::ConfigureAddress {
            index,
            address,
            prefix_len,
            reason,
        };

        let flags = address_flags(proposal, options.kernel_temporary_addresses);
        let added = self
            .send_address(
                proposal,
                lifetimes,
                flags | AddressFlags::Optimistic,
                NLM_F_CREATE | NLM_F_EXCL,
            )
            .await;
        match added {
            Ok(()) => {
                debug!(index, %address, prefix_len, valid_lifetime, preferred_lifetime, temporary, "address added");
                Ok(())
            }
            Err(e) if e.is_errno(libc::EEXIST) => {
                self.send_address(proposal, lifetimes, flags, NLM_F_REPLACE)
                    .await
                    .map_err(failed)?;
                debug!(index, %address, prefix_len, valid_lifetime, preferred_lifetime, "address refreshed");
                Ok(())
            }
            Err(e) => Err(failed(e)),
        }
    }

    async fn send_address(
        &self,
        proposal: &AddressProposal,
        lifetimes: CacheInfo,
        flags: AddressFlags,
        request_flags: u16,
    ) -> Result<(), NetlinkFailure> {
        let mut message = AddressMessageBuilder::<Ipv6Addr>::new()
            .index(proposal.index)
            .address(proposal.address, proposal.prefix_len)
            .build();
        message
            .attributes
            .push(AddressAttribute::CacheInfo(lifetimes));
        message.attributes.push(AddressAttribute::Flags(flags));
        self.acknowledged(RouteNetlinkMessage::NewAddress(message), request_flags)
            .await
    }

    /// Removes the address; one that is already gone is not an error.
    pub async fn withdraw_address(
        &self,
        index: u32,
        address: Ipv6Addr,
        prefix_len: u8,
    ) -> Result<(), KernelError> {
        let message = AddressMessageBuilder::<Ipv6Addr>::new()
            .index(index)
            .address(address, prefix_len)
            .build();
        match self
            .acknowledged(RouteNetlinkMessage::DelAddress(message), 0)
            .await
        {
            Ok(()) => {
                debug!(index, %address, prefix_len, "address withdrawn");
                Ok(())
            }
            Err(e) if e.is_errno(libc::EADDRNOTAVAIL) || e.is_errno(libc::ENODEV) => {
                debug!(index, %address, prefix_len, "address to withdraw was already gone");
                Ok(())
            }
            Err(reason) => Err(KernelError::WithdrawAddress {
                index,
                address,
                prefix_len,
                reason,
            }),
        }
    }

    /// Installs the default route via the router, or refreshes its expiry in
    /// place. A lifetime of 0 withdraws it (RFC 4861: not a default router).
    pub async fn configure_default_route(
        &self,
        proposal: &DefaultRouteProposal,
    ) -> Result<(), KernelError> {
        let options = self.options(proposal.index)?;
        self.configure_default_route_as(proposal, options).await
    }

    /// [`KernelWriter::configure_default_route`] on an interface with
    /// `options`.
    pub(crate) async fn configure_default_route_as(
        &self,
        proposal: &DefaultRouteProposal,
        options: InterfaceOptions,
    ) -> Result<(), KernelError> {
        if proposal.lifetime == 0 {
            debug!(index = proposal.index, router = %proposal.router, "router lifetime 0: withdrawing the default route");
            return self
                .withdraw_default_route_as(proposal.index, proposal.router, options)
                .await;
        }
        self.install_default_route(proposal, options.route_metric)
            .await
            .map_err(|reason| KernelError::ConfigureDefaultRoute {
                index: proposal.index,
                router: proposal.router,
                reason,
            })
    }

    async fn install_default_route(
        &self,
        proposal: &DefaultRouteProposal,
        metric: u32,
    ) -> Result<(), NetlinkFailure> {
        let key = (proposal.index, proposal.router);
        let wanted = RouteShape {
            preference: proposal.preference,
            expires: proposal.lifetime != INFINITE,
        };
        let known = self.installed(key);
        let nexthop_id = match known {
            Some(installed) => installed.nexthop_id,
            None => {
                self.nexthops
                    .ensure(proposal.index, proposal.router)
                    .await?
            }
        };

        let nexthop_id = match self.add_route(nexthop_id, proposal, metric).await {
            Ok(()) => nexthop_id,
            Err(e) if e.is_errno(libc::EEXIST) => {
                // The kernel refreshed the expiry in place; fix what it cannot.
                let current = match known {
                    Some(installed) => Some(installed.shape),
                    None => self.read_route_shape(nexthop_id, metric).await?,
                };
                if current.is_some_and(|shape| !shape.refreshes_to(wanted)) {
                    debug!(index = proposal.index, router = %proposal.router, ?current, ?wanted,
                        "default route changed preference or gained an expiry: re-adding it");
                    self.delete_route(nexthop_id, metric).await?;
                    self.add_route(nexthop_id, proposal, metric).await?;
                }
                nexthop_id
            }
            Err(e) if known.is_some() => {
                // The cached nexthop object may have been flushed with the
                // link; forget it and start over once.
                debug!(index = proposal.index, router = %proposal.router, error = %e,
                    "default route add failed with a cached nexthop: recreating it");
                self.forget(key);
                let fresh = self
                    .nexthops
                    .ensure(proposal.index, proposal.router)
                    .await?;
                self.add_route(fresh, proposal, metric).await?;
                fresh
            }
            Err(e) => return Err(e),
        };
        self.remember(
            key,
            InstalledRoute {
                nexthop_id,
                shape: wanted,
            },
        );
        debug!(index = proposal.index, router = %proposal.router, lifetime = proposal.lifetime,
            preference = ?proposal.preference, nexthop_id, "default route configured");
        Ok(())
    }

    /// Removes the default route via the router, and its nexthop object
    /// unless a Route Information route still uses it; a route that is
    /// already gone is not an error.
    pub async fn withdraw_default_route(
        &self,
        index: u32,
        router: Ipv6Addr,
    ) -> Result<(), KernelError> {
        let options = self.options(index)?;
        self.withdraw_default_route_as(index, router, options).await
    }

    /// [`KernelWriter::withdraw_default_route`] on an interface with
    /// `options`.
    pub(crate) async fn withdraw_default_route_as(
        &self,
        index: u32,
        router: Ipv6Addr,
        options: InterfaceOptions,
    ) -> Result<(), KernelError> {
        self.remove_default_route(index, router, options.route_metric)
            .await
            .map_err(|reason| KernelError::WithdrawDefaultRoute {
                index,
                router,
                reason,
            })
    }

    async fn remove_default_route(
        &self,
        index: u32,
        router: Ipv6Addr,
        metric: u32,
    ) -> Result<(), NetlinkFailure> {
        let key = (index, router);
        let nexthop_id = match self.installed(key) {
            Some(installed) => Some(installed.nexthop_id),
            None => self.nexthops.find(index, router).await?,
        };
        self.forget(key);
        let Some(nexthop_id) = nexthop_id else {
            debug!(index, %router, "default route to withdraw was already gone");
            return Ok(());
        };
        let route_removed = match self.delete_route(nexthop_id, metric).await {
            Ok(()) => true,
            Err(e) if e.is_errno(libc::ESRCH) || e.is_errno(libc::ENOENT) => false,
            Err(e) => return Err(e),
        };
        // Route Information routes of the same router may still use it.
        let nexthop_removed = self.release_nexthop(nexthop_id).await?;
        if route_removed || nexthop_removed {
            debug!(index, %router, nexthop_id, "default route withdrawn");
        } else {
            debug!(index, %router, "default route to withdraw was already gone");
        }
        Ok(())
    }

    fn default_route_message(nexthop_id: u32, metric: u32) -> RouteMessage {
        let mut message = RouteMessageBuilder::<Ipv6Addr>::new()
            .destination_prefix(Ipv6Addr::UNSPECIFIED, 0)
            .protocol(RouteProtocol::Ra)
            .priority(metric)
            .build();
        message.header.table = MAIN_TABLE;
        message.attributes.push(RouteAttribute::NhId(nexthop_id));
        message
    }

    async fn add_route(
        &self,
        nexthop_id: u32,
        proposal: &DefaultRouteProposal,
        metric: u32,
    ) -> Result<(), NetlinkFailure> {
        let mut message = Self::default_route_message(nexthop_id, metric);
        message
            .attributes
            .push(RouteAttribute::Preference(route_preference(
                proposal.preference,
            )));
        if proposal.lifetime != INFINITE {
            message.attributes.push(RouteAttribute::Expires(
                proposal.lifetime.min(MAX_ROUTE_EXPIRY),
            ));
        }
        // NLM_F_CREATE without EXCL or REPLACE: see the module notes.
        self.acknowledged(RouteNetlinkMessage::NewRoute(message), NLM_F_CREATE)
            .await
    }

    async fn delete_route(&self, nexthop_id: u32, metric: u32) -> Result<(), NetlinkFailure> {
        let message = Self::default_route_message(nexthop_id, metric);
        self.acknowledged(RouteNetlinkMessage::DelRoute(message), 0)
            .await
    }

    /// Reads back the preference and expiry of our default route (with
    /// `metric`) through the given nexthop object, if the kernel has one.
    async fn read_route_shape(
        &self,
        nexthop_id: u32,
        metric: u32,
    ) -> Result<Option<RouteShape>, NetlinkFailure> {
        let query = RouteMessageBuilder::<Ipv6Addr>::new().build();
        let mut routes = self.handle.route().get(query).execute();
        while let Some(route) = routes.try_next().await? {
            if is_our_default_route(&route.header, &route.attributes, nexthop_id, metric) {
                return Ok(Some(route_shape(&route.attributes)));
            }
        }
        Ok(None)
    }

    async fn acknowledged(
        &self,
        message: RouteNetlinkMessage,
        extra_flags: u16,
    ) -> Result<(), NetlinkFailure> {
        let mut request = NetlinkMessage::from(message);
        request.header.flags = NLM_F_REQUEST | NLM_F_ACK | extra_flags;
        let mut replies = self.handle.clone().request(request)?;
        while let Some(reply) = replies.next().await {
            if let NetlinkPayload::Error(error) = reply.payload
                && error.code.is_some()
            {
                return Err(NetlinkFailure::Kernel(error.to_io()));
            }
        }
        Ok(())
    }

    fn installed(&self, key: (u32, Ipv6Addr)) -> Option<InstalledRoute> {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .copied()
    }

    fn remember(&self, key: (u32, Ipv6Addr), route: InstalledRoute) {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, route);
    }

    fn forget(&self, key: (u32, Ipv6Addr)) {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
    }
}

/// The flags every add and refresh of the proposed address carries (a new
/// address also asks for IFA_F_OPTIMISTIC). The kernel makes temporary
/// addresses only from stable /64 ones, never from the engine's own
/// temporary addresses.
fn address_flags(proposal: &AddressProposal, kernel_temporary_addresses: bool) -> AddressFlags {
    let mut flags = AddressFlags::Noprefixroute;
    if kernel_temporary_addresses && !proposal.temporary && proposal.prefix_len == 64 {
        flags |= AddressFlags::Managetempaddr;
    }
    flags
}

fn route_preference(preference: RouterPreference) -> RoutePreference {
    match preference {
        RouterPreference::High => RoutePreference::High,
        RouterPreference::Medium => RoutePreference::Medium,
        RouterPreference::Low => RoutePreference::Low,
    }
}

fn router_preference(preference: &RoutePreference) -> RouterPreference {
    match preference {
        RoutePreference::High => RouterPreference::High,
        RoutePreference::Low => RouterPreference::Low,
        _ => RouterPreference::Medium,
    }
}

fn is_our_default_route(
    header: &RouteHeader,
    attributes: &[RouteAttribute],
    nexthop_id: u32,
    metric: u32,
) -> bool {
    header.destination_prefix_length == 0
        && in_main_table(header, attributes)
        && attributes.contains(&RouteAttribute::NhId(nexthop_id))
        && attributes.contains(&RouteAttribute::Priority(metric))
}

/// Whether a dumped route is in the main table: the header's 8-bit table,
/// unless the RTA_TABLE attribute gives the full 32-bit one.
fn in_main_table(header: &RouteHeader, attributes: &[RouteAttribute]) -> bool {
    let table = attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(table) => Some(*table),
            _ => None,
        })
        .unwrap_or(u32::from(header.table));
    table == u32::from(MAIN_TABLE)
}

fn route_shape(attributes: &[RouteAttribute]) -> RouteShape {
    let preference = attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Preference(p) => Some(router_preference(p)),
            _ => None,
        })
        .unwrap_or_default();
    let expires = attributes
        .iter()
        .any(|a| matches!(a, RouteAttribute::CacheInfo(info) if info.expires != 0));
    RouteShape {
        preference,
        expires,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(preference: RouterPreference, expires: bool) -> RouteShape {
        RouteShape {
            preference,
            expires,
        }
    }

    #[test]
    fn in_place_refresh_covers_expiry_changes_only() {
        use RouterPreference::*;
        assert!(shape(High, true).refreshes_to(shape(High, true)));
        assert!(shape(High, true).refreshes_to(shape(High, false)));
        assert!(shape(Low, false).refreshes_to(shape(Low, false)));
        assert!(!shape(Low, false).refreshes_to(shape(Low, true)));
        assert!(!shape(Medium, true).refreshes_to(shape(High, true)));
    }

    #[test]
    fn only_stable_64_addresses_let_the_kernel_make_temporary_ones() {
        let proposal = |prefix_len, temporary| AddressProposal {
            index: 2,
            address: "2001:db8:1::10".parse().unwrap(),
            prefix_len,
            valid_lifetime: 600,
            preferred_lifetime: 300,
            temporary,
        };
        let managed = AddressFlags::Noprefixroute | AddressFlags::Managetempaddr;
        assert_eq!(address_flags(&proposal(64, false), true), managed);
        assert_eq!(
            address_flags(&proposal(64, true), true),
            AddressFlags::Noprefixroute
        );
        assert_eq!(
            address_flags(&proposal(80, false), true),
            AddressFlags::Noprefixroute
        );
        assert_eq!(
            address_flags(&proposal(64, false), false),
            AddressFlags::Noprefixroute
        );
    }

    #[test]
    fn preferences_map_both_ways() {
        for preference in [
            RouterPreference::High,
            RouterPreference::Medium,
            RouterPreference::Low,
        ] {
            assert_eq!(router_preference(&route_preference(preference)), preference);
        }
        assert_eq!(
            router_preference(&RoutePreference::Invalid),
            RouterPreference::Medium
        );
    }
}
