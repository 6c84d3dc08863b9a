//! Watching one interface of a namespace from the outside: give it carrier
//! at a recorded instant (its bridge port goes up, in the bridge's
//! namespace), then poll the kernel of the host namespace (address and route
//! dumps) until the milestones of SLAAC are reached.
//!
//! Polling, not notifications: the kernel sends no RTM_NEWADDR for the
//! tentative addresses it makes itself, nor for an optimistic address while
//! `use_optimistic` is 0, so only a dump sees them in time.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::TryStreamExt;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressScope};
use netlink_packet_route::route::{RouteMessage, RouteType};
use nix::sched::{CloneFlags, setns};
use rtnetlink::{Handle, LinkUnspec, RouteMessageBuilder};

/// How often the kernel is asked (tokio's timer counts whole milliseconds):
/// the figures are good to about a millisecond, and the daemon under test
/// keeps most of a core.
const POLL_INTERVAL: Duration = Duration::from_millis(1);

/// When each milestone was first seen, measured from the link-up request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Milestones {
    /// A global address exists, in whatever DAD state.
    pub present: Option<Duration>,
    /// It can be used as a source: DAD done, or optimistic.
    pub usable: Option<Duration>,
    /// DAD is complete.
    pub dad_complete: Option<Duration>,
    /// A default route exists.
    pub default_route: Option<Duration>,
}

/// The milestones' names, in the order [`Milestones::values`] gives them.
pub const MILESTONE_NAMES: [&str; 4] = [
    "address present",
    "address usable",
    "DAD complete",
    "default route",
];

impl Milestones {
    pub fn values(&self) -> [Option<Duration>; 4] {
        [
            self.present,
            self.usable,
            self.dad_complete,
            self.default_route,
        ]
    }

    fn complete(&self) -> bool {
        self.present.is_some()
            && self.usable.is_some()
            && self.dad_complete.is_some()
            && self.default_route.is_some()
    }
}

/// Runs `body` with the calling thread in the network namespace `name`, then
/// returns the thread to the namespace it came from.
pub fn in_namespace<T>(name: &str, body: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let home: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net")
        .context("opening this thread's network namespace")?
        .into();
    let target: OwnedFd = std::fs::File::open(format!("/run/netns/{name}"))
        .with_context(|| format!("opening network namespace {name}"))?
        .into();
    setns(target.as_fd(), CloneFlags::CLONE_NEWNET).with_context(|| format!("entering {name}"))?;
    let result = body();
    setns(home.as_fd(), CloneFlags::CLONE_NEWNET).context("returning to the first namespace")?;
    result
}

/// Turns carrier on for `interface` of namespace `host` by setting `port`
/// of namespace `bridge` (its veth peer) up, and follows `interface` until
/// every milestone is reached or `timeout` passes.
pub fn carrier_up_and_watch(
    bridge: &str,
    port: &str,
    host: &str,
    interface: &str,
    timeout: Duration,
) -> anyhow::Result<Milestones> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building a runtime")?;
    runtime.block_on(async {
        // Each netlink socket belongs to the namespace it was opened in.
        let switch = in_namespace(bridge, || connect().context("opening netlink"))?;
        let watch = in_namespace(host, || connect().context("opening netlink"))?;
        let port_index = index_of(&switch, port).await?;
        let index = index_of(&watch, interface).await?;
        let start = Instant::now();
        switch
            .link()
            .set(LinkUnspec::new_with_index(port_index).up().build())
            .execute()
            .await
            .with_context(|| format!("setting {port} up"))?;
        let mut seen = Milestones::default();
        while !seen.complete() && start.elapsed() < timeout {
            let now = start.elapsed();
            for flags in global_address_flags(&watch, index).await? {
                seen.present.get_or_insert(now);
                let tentative = flags.contains(AddressFlags::Tentative);
                let optimistic = flags.contains(AddressFlags::Optimistic);
                if !tentative || optimistic {
                    seen.usable.get_or_insert(now);
                }
                if !tentative && !optimistic {
                    seen.dad_complete.get_or_insert(now);
                }
            }
            if seen.default_route.is_none() && has_default_route(&watch).await? {
                seen.default_route = Some(now);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok(seen)
    })
}

/// A netlink handle in the current namespace, its connection spawned on the
/// current runtime.
fn connect() -> std::io::Result<Handle> {
    let (connection, handle, _) = rtnetlink::new_connection()?;
    tokio::spawn(connection);
    Ok(handle)
}

async fn index_of(handle: &Handle, interface: &str) -> anyhow::Result<u32> {
    let mut links = handle
        .link()
        .get()
        .match_name(interface.to_string())
        .execute();
    match links.try_next().await? {
        Some(link) => Ok(link.header.index),
        None => bail!("no interface {interface}"),
    }
}

/// The flags of every global IPv6 address on the interface (slaacd's and
/// the kernel's temporary ones among them).
async fn global_address_flags(handle: &Handle, index: u32) -> anyhow::Result<Vec<AddressFlags>> {
    let mut addresses = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute();
    let mut found = Vec::new();
    while let Some(message) = addresses.try_next().await? {
        if message.header.family != AddressFamily::Inet6
            || message.header.scope != AddressScope::Universe
        {
            continue;
        }
        let flags = message
            .attributes
            .iter()
            .find_map(|attribute| match attribute {
                AddressAttribute::Flags(flags) => Some(*flags),
                _ => None,
            })
            .unwrap_or(AddressFlags::empty());
        found.push(flags);
    }
    Ok(found)
}

/// Whether the namespace has a unicast IPv6 default route: only the watched
/// interface can carry one there.
async fn has_default_route(handle: &Handle) -> anyhow::Result<bool> {
    let query: RouteMessage = RouteMessageBuilder::<std::net::Ipv6Addr>::new().build();
    let mut routes = handle.route().get(query).execute();
    while let Some(route) = routes.try_next().await? {
        if route.header.destination_prefix_length == 0 && route.header.kind == RouteType::Unicast {
            return Ok(true);
        }
    }
    Ok(false)
}
