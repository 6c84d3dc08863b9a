//! Prefix routes: on-link prefixes (a PIO with the L flag) as plain routes on
//! the interface, and Route Information routes (RFC 4191) through the nexthop
//! object of the router that advertised them, with the route's preference.
//!
//! Like default routes they carry protocol "ra", slaacd's metric and the
//! lifetime as kernel expiry, and are refreshed in place (RTM_NEWROUTE with
//! NLM_F_CREATE alone updates the expiry of an identical route and answers
//! EEXIST); they are deleted and re-added only when the preference changes or
//! a permanent route must gain an expiry. A router's nexthop object is shared
//! by its default route and its Route Information routes, and is removed only
//! once no route uses it. This module must never delete a route that is not
//! protocol "ra" with slaacd's metric.

use std::net::Ipv6Addr;
use std::sync::PoisonError;

use futures::TryStreamExt;
use netlink_packet_core::NLM_F_CREATE;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol,
};
use rtnetlink::RouteMessageBuilder;
use slaacd_core::{RouteVia, RouterPreference};
use tracing::debug;

use super::{
    INFINITE, InterfaceOptions, KernelError, KernelWriter, MAIN_TABLE, MAX_ROUTE_EXPIRY,
    NetlinkFailure, RouteShape, in_main_table, route_preference, route_shape,
};

/// Which prefix route: the interface, the prefix and how it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteKey {
    pub index: u32,
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    pub via: RouteVia,
}

impl RouteKey {
    /// The same key with the bits after the prefix length cleared, as the
    /// kernel stores it.
    pub fn canonical(self) -> Self {
        let prefix_len = self.prefix_len.min(128);
        let mask = u128::MAX
            .checked_shl(u32::from(128 - prefix_len))
            .unwrap_or(0);
        Self {
            prefix: Ipv6Addr::from(u128::from(self.prefix) & mask),
            prefix_len,
            ..self
        }
    }

    fn router(&self) -> Option<Ipv6Addr> {
        match self.via {
            RouteVia::OnLink => None,
            RouteVia::Router(router) => Some(router),
        }
    }
}

impl std::fmt::Display for RouteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.prefix, self.prefix_len)?;
        match self.via {
            RouteVia::OnLink => write!(f, " on-link"),
            RouteVia::Router(router) => write!(f, " via {router}"),
        }?;
        write!(f, " on interface {}", self.index)
    }
}

/// A prefix route this writer installed or adopted.
#[derive(Debug, Clone, Copy)]
pub(super) struct InstalledPrefixRoute {
    nexthop_id: Option<u32>,
    shape: RouteShape,
}

impl KernelWriter {
    /// Installs the route, or refreshes its expiry in place. A lifetime of 0
    /// withdraws it.
    pub async fn configure_route(
        &self,
        key: &RouteKey,
        lifetime: u32,
        preference: RouterPreference,
    ) -> Result<(), KernelError> {
        let options = self.options(key.index)?;
        self.configure_route_as(key, lifetime, preference, options)
            .await
    }

    /// [`KernelWriter::configure_route`] on an interface with `options`.
    pub(crate) async fn configure_route_as(
        &self,
        key: &RouteKey,
        lifetime: u32,
        preference: RouterPreference,
        options: InterfaceOptions,
    ) -> Result<(), KernelError> {
        let key = key.canonical();
        if lifetime == 0 {
            debug!(route = %key, "route lifetime 0: withdrawing the route");
            return self.withdraw_route_as(&key, options).await;
        }
        self.install_prefix_route(&key, lifetime, preference, options.route_metric)
            .await
            .map_err(|reason| KernelError::ConfigureRoute { route: key, reason })
    }

    async fn install_prefix_route(
        &self,
        key: &RouteKey,
        lifetime: u32,
        preference: RouterPreference,
        metric: u32,
    ) -> Result<(), NetlinkFailure> {
        let wanted = RouteShape {
            preference,
            expires: lifetime != INFINITE,
        };
        let known = self.installed_prefix_route(key);
        let nexthop_id = match (key.router(), known) {
            (None, _) => None,
            (Some(_), Some(installed)) => installed.nexthop_id,
            (Some(router), None) => Some(self.nexthops.ensure(key.index, router).await?),
        };

        let nexthop_id = match self
            .add_prefix_route(key, nexthop_id, lifetime, preference, metric)
            .await
        {
            Ok(()) => nexthop_id,
            Err(e) if e.is_errno(libc::EEXIST) => {
                let current = match known {
                    Some(installed) => Some(installed.shape),
                    None => {
                        self.read_prefix_route_shape(key, nexthop_id, metric)
                            .await?
                    }
                };
                if current.is_some_and(|shape| !shape.refreshes_to(wanted)) {
                    debug!(route = %key, ?current, ?wanted,
                        "route changed preference or gained an expiry: re-adding it");
                    self.delete_prefix_route(key, nexthop_id, metric).await?;
                    self.add_prefix_route(key, nexthop_id, lifetime, preference, metric)
                        .await?;
                }
                nexthop_id
            }
            Err(e) if known.is_some() && key.router().is_some() => {
                // The cached nexthop object may have been flushed with the
                // link; forget it and start over once.
                debug!(route = %key, error = %e,
                    "route add failed with a cached nexthop: recreating it");
                self.forget_prefix_route(key);
                let fresh = match key.router() {
                    Some(router) => Some(self.nexthops.ensure(key.index, router).await?),
                    None => None,
                };
                self.add_prefix_route(key, fresh, lifetime, preference, metric)
                    .await?;
                fresh
            }
            Err(e) => return Err(e),
        };
        self.prefix_routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                *key,
                InstalledPrefixRoute {
                    nexthop_id,
                    shape: wanted,
                },
            );
        debug!(route = %key, lifetime, ?preference, ?nexthop_id, "route configured");
        Ok(())
    }

    /// Removes the route, and the router's nexthop object when nothing else
    /// uses it; a route that is already gone is not an error.
    pub async fn withdraw_route(&self, key: &RouteKey) -> Result<(), KernelError> {
        let options = self.options(key.index)?;
        self.withdraw_route_as(key, options).await
    }

    /// [`KernelWriter::withdraw_route`] on an interface with `options`.
    pub(crate) async fn withdraw_route_as(
        &self,
        key: &RouteKey,
        options: InterfaceOptions,
    ) -> Result<(), KernelError> {
        let key = key.canonical();
        self.remove_prefix_route(&key, options.route_metric)
            .await
            .map_err(|reason| KernelError::WithdrawRoute { route: key, reason })
    }

    async fn remove_prefix_route(&self, key: &RouteKey, metric: u32) -> Result<(), NetlinkFailure> {
        let known = self.installed_prefix_route(key);
        self.forget_prefix_route(key);
        let nexthop_id = match (key.router(), known) {
            (None, _) => None,
            (Some(_), Some(installed)) => installed.nexthop_id,
            (Some(router), None) => match self.nexthops.find(key.index, router).await? {
                Some(id) => Some(id),
                None => {
                    debug!(route = %key, "route to withdraw was already gone (no nexthop)");
                    return Ok(());
                }
            },
        };
        match self.delete_prefix_route(key, nexthop_id, metric).await {
            Ok(()) => debug!(route = %key, "route withdrawn"),
            Err(e) if e.is_errno(libc::ESRCH) || e.is_errno(libc::ENOENT) => {
                debug!(route = %key, "route to withdraw was already gone");
            }
            Err(e) => return Err(e),
        }
        if let Some(id) = nexthop_id {
            self.release_nexthop(id).await?;
        }
        Ok(())
    }

    /// Deletes nexthop object `id` unless a route still uses it. Returns
    /// whether it was removed now.
    pub(super) async fn release_nexthop(&self, id: u32) -> Result<bool, NetlinkFailure> {
        let query = RouteMessageBuilder::<Ipv6Addr>::new().build();
        let mut routes = self.handle.route().get(query).execute();
        while let Some(route) = routes.try_next().await? {
            if route.attributes.contains(&RouteAttribute::NhId(id)) {
                debug!(
                    nexthop_id = id,
                    "nexthop object still used by a route: kept"
                );
                return Ok(false);
            }
        }
        self.nexthops.remove(id).await
    }

    fn prefix_route_message(key: &RouteKey, nexthop_id: Option<u32>, metric: u32) -> RouteMessage {
        let builder = RouteMessageBuilder::<Ipv6Addr>::new()
            .destination_prefix(key.prefix, key.prefix_len)
            .protocol(RouteProtocol::Ra)
            .priority(metric);
        let mut message = match nexthop_id {
            Some(id) => builder.nhid(id).build(),
            None => builder.output_interface(key.index).build(),
        };
        message.header.table = MAIN_TABLE;
        message
    }

    async fn add_prefix_route(
        &self,
        key: &RouteKey,
        nexthop_id: Option<u32>,
        lifetime: u32,
        preference: RouterPreference,
        metric: u32,
    ) -> Result<(), NetlinkFailure> {
        let mut message = Self::prefix_route_message(key, nexthop_id, metric);
        message
            .attributes
            .push(RouteAttribute::Preference(route_preference(preference)));
        if lifetime != INFINITE {
            message
                .attributes
                .push(RouteAttribute::Expires(lifetime.min(MAX_ROUTE_EXPIRY)));
        }
        // NLM_F_CREATE without EXCL or REPLACE: an identical route is
        // refreshed in place (see the module notes).
        self.acknowledged(RouteNetlinkMessage::NewRoute(message), NLM_F_CREATE)
            .await
    }

    async fn delete_prefix_route(
        &self,
        key: &RouteKey,
        nexthop_id: Option<u32>,
        metric: u32,
    ) -> Result<(), NetlinkFailure> {
        let message = Self::prefix_route_message(key, nexthop_id, metric);
        self.acknowledged(RouteNetlinkMessage::DelRoute(message), 0)
            .await
    }

    async fn read_prefix_route_shape(
        &self,
        key: &RouteKey,
        nexthop_id: Option<u32>,
        metric: u32,
    ) -> Result<Option<RouteShape>, NetlinkFailure> {
        let query = RouteMessageBuilder::<Ipv6Addr>::new().build();
        let mut routes = self.handle.route().get(query).execute();
        while let Some(route) = routes.try_next().await? {
            if is_our_prefix_route(&route.header, &route.attributes, key, nexthop_id, metric) {
                return Ok(Some(route_shape(&route.attributes)));
            }
        }
        Ok(None)
    }

    fn installed_prefix_route(&self, key: &RouteKey) -> Option<InstalledPrefixRoute> {
        self.prefix_routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
    }

    fn forget_prefix_route(&self, key: &RouteKey) {
        self.prefix_routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// Whether a dumped route is slaacd's route for `key`: protocol ra, our
/// metric, the main table, and the interface or nexthop object.
fn is_our_prefix_route(
    header: &RouteHeader,
    attributes: &[RouteAttribute],
    key: &RouteKey,
    nexthop_id: Option<u32>,
    metric: u32,
) -> bool {
    let reached = match nexthop_id {
        Some(id) => attributes.contains(&RouteAttribute::NhId(id)),
        None => {
            attributes.contains(&RouteAttribute::Oif(key.index))
                && !attributes
                    .iter()
                    .any(|a| matches!(a, RouteAttribute::Gateway(_) | RouteAttribute::NhId(_)))
        }
    };
    header.destination_prefix_length == key.prefix_len
        && header.protocol == RouteProtocol::Ra
        && in_main_table(header, attributes)
        && attributes.contains(&RouteAttribute::Destination(RouteAddress::Inet6(
            key.prefix,
        )))
        && attributes.contains(&RouteAttribute::Priority(metric))
        && reached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: &str, prefix_len: u8) -> RouteKey {
        RouteKey {
            index: 3,
            prefix: prefix.parse().unwrap(),
            prefix_len,
            via: RouteVia::OnLink,
        }
    }

    #[test]
    fn canonical_clears_host_bits() {
        assert_eq!(
            key("2001:db8:1:2:3::1", 48).canonical().prefix,
            "2001:db8:1::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            key("2001:db8::1", 128).canonical().prefix,
            "2001:db8::1".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            key("2001:db8::1", 0).canonical().prefix,
            Ipv6Addr::UNSPECIFIED
        );
        // Out-of-range lengths cannot make the shift panic.
        assert_eq!(key("2001:db8::1", 200).canonical().prefix_len, 128);
    }

    #[test]
    fn keys_name_prefix_way_and_interface() {
        let mut route = key("2001:db8::", 64);
        assert_eq!(route.to_string(), "2001:db8::/64 on-link on interface 3");
        route.via = RouteVia::Router("fe80::1".parse().unwrap());
        assert_eq!(
            route.to_string(),
            "2001:db8::/64 via fe80::1 on interface 3"
        );
    }

    #[test]
    fn only_our_protocol_metric_and_way_match() {
        let route = key("2001:db8::", 64);
        let mut header = RouteHeader {
            destination_prefix_length: 64,
            protocol: RouteProtocol::Ra,
            table: MAIN_TABLE,
            ..Default::default()
        };
        let ours = vec![
            RouteAttribute::Destination(RouteAddress::Inet6(route.prefix)),
            RouteAttribute::Priority(1024),
            RouteAttribute::Oif(3),
        ];
        assert!(is_our_prefix_route(&header, &ours, &route, None, 1024));
        assert!(!is_our_prefix_route(&header, &ours, &route, None, 256));
        assert!(!is_our_prefix_route(&header, &ours, &route, Some(7), 1024));
        let mut via_gateway = ours.clone();
        via_gateway.push(RouteAttribute::Gateway(RouteAddress::Inet6(
            "fe80::1".parse().unwrap(),
        )));
        assert!(!is_our_prefix_route(
            &header,
            &via_gateway,
            &route,
            None,
            1024
        ));
        header.protocol = RouteProtocol::Kernel;
        assert!(!is_our_prefix_route(&header, &ours, &route, None, 1024));
    }
}
