//! The `Kernel` capability the parent hands the engine: each call applies one
//! proposal through the kernel writer, the link sysctls or the resolver.
//!
//! The engine is unprivileged and reads hostile packets, so nothing it asks
//! for is trusted blindly: a proposal must name a managed interface and a
//! sensible address, prefix, router, MTU, timer or DNS entry, or it is
//! refused with an error.

use std::net::Ipv6Addr;
use std::rc::Rc;

use slaacd_core::{AddressProposal, DefaultRouteProposal, RouteVia};
use slaacd_ipc::convert::{preference_from_schema, read_ip6};
use slaacd_ipc::slaacd_capnp::{kernel, route_key};
use tracing::debug;

use crate::kernel::{InterfaceOptions, KernelWriter, RouteKey};
use crate::resolver::{Backend, Resolver};
use crate::sysctl::{FollowedInterfaces, LinkSettings, MIN_IPV6_MTU};

/// RFC 4861 6.2.1: MAX_REACHABLE_TIME, 3,600,000 ms; also the bound slaacd
/// puts on RetransTimer, so no RA can stretch neighbour probing to days.
const MAX_ND_TIME_MS: u32 = 3_600_000;

/// Serves `Kernel` for the interfaces named on the command line.
pub struct KernelService {
    writer: Rc<KernelWriter>,
    resolver: Rc<Resolver>,
    managed: Vec<String>,
    /// Where a held interface's current name is known without asking the kernel.
    followed: Option<Rc<FollowedInterfaces>>,
}

impl KernelService {
    /// DNS goes to the backend [`Backend::detect`] finds.
    pub fn new(writer: KernelWriter, managed: Vec<String>) -> Self {
        Self::with_resolver(writer, managed, Rc::new(Resolver::new(Backend::detect())))
    }

    /// DNS goes through `resolver` (for a backend chosen on the command line).
    pub fn with_resolver(
        writer: KernelWriter,
        managed: Vec<String>,
        resolver: Rc<Resolver>,
    ) -> Self {
        Self {
            writer: Rc::new(writer),
            resolver,
            managed,
            followed: None,
        }
    }

    /// Takes the names of the interfaces `followed` holds from it (caught up with the link
    /// events, so as current as a lookup) instead of asking the kernel; any other index is
    /// still looked up.
    pub fn following(mut self, followed: Rc<FollowedInterfaces>) -> Self {
        self.followed = Some(followed);
        self
    }

    /// Checks that `index` is one of the managed interfaces, by its current
    /// name, and returns that name. The one name lookup of a call: the
    /// writer is given the options of this name (the `*_as` methods).
    fn check_interface(&self, index: u32) -> Result<String, capnp::Error> {
        if let Some(name) = self
            .followed
            .as_ref()
            .and_then(|followed| followed.managed_name(index))
            && self.managed.contains(&name)
        {
            return Ok(name);
        }
        let Some(name) =
            crate::interface_names::name_of(index).map_err(|error| refuse(error.to_string()))?
        else {
            return Err(refuse(format!("interface {index} does not exist")));
        };
        if self.managed.contains(&name) {
            Ok(name)
        } else {
            Err(refuse(format!(
                "interface {name} ({index}) is not managed by slaacd"
            )))
        }
    }
}

fn refuse(reason: String) -> capnp::Error {
    capnp::Error::failed(format!("refused: {reason}"))
}

fn failed(error: impl std::fmt::Display) -> capnp::Error {
    capnp::Error::failed(error.to_string())
}

/// A global unicast address slaacd may configure.
fn check_address(address: Ipv6Addr, prefix_len: u8) -> Result<(), capnp::Error> {
    let usable = !address.is_unspecified()
        && !address.is_loopback()
        && !address.is_multicast()
        && !address.is_unicast_link_local();
    if usable && prefix_len <= 128 {
        Ok(())
    } else {
        Err(refuse(format!(
            "{address}/{prefix_len} is not an address slaacd configures"
        )))
    }
}

/// Routers are always reached by their link-local address (RFC 4861 4.2).
fn check_router(router: Ipv6Addr) -> Result<(), capnp::Error> {
    if router.is_unicast_link_local() {
        Ok(())
    } else {
        Err(refuse(format!(
            "router {router} is not a link-local address"
        )))
    }
}

/// A prefix slaacd may route: not the default route (that is
/// `configureDefaultRoute`), not link-local or multicast.
fn check_route_prefix(prefix: Ipv6Addr, prefix_len: u8) -> Result<(), capnp::Error> {
    let usable = prefix_len > 0
        && prefix_len <= 128
        && !prefix.is_multicast()
        && !prefix.is_unicast_link_local()
        && !prefix.is_loopback();
    if usable {
        Ok(())
    } else {
        Err(refuse(format!(
            "{prefix}/{prefix_len} is not a prefix slaacd routes"
        )))
    }
}

/// Reads a `RouteKey` and checks the interface, prefix and router; returns
/// the key and its interface's options.
fn read_route_key(
    service: &KernelService,
    key: route_key::Reader<'_>,
) -> Result<(RouteKey, InterfaceOptions), capnp::Error> {
    let via = match key.get_via().which()? {
        route_key::via::OnLink(()) => RouteVia::OnLink,
        route_key::via::Router(router) => {
            let router = read_ip6(router?);
            check_router(router)?;
            RouteVia::Router(router)
        }
    };
    let route = RouteKey {
        index: key.get_if_index(),
        prefix: read_ip6(key.get_prefix()?),
        prefix_len: key.get_prefix_length(),
        via,
    };
    let name = service.check_interface(route.index)?;
    check_route_prefix(route.prefix, route.prefix_len)?;
    Ok((route.canonical(), service.writer.options_named(&name)))
}

fn check_nd_time(what: &str, milliseconds: u32) -> Result<(), capnp::Error> {
    if milliseconds <= MAX_ND_TIME_MS {
        Ok(())
    } else {
        Err(refuse(format!(
            "{what} {milliseconds} ms is above {MAX_ND_TIME_MS} ms"
        )))
    }
}

impl kernel::Server for KernelService {
    async fn configure_address(
        self: Rc<Self>,
        params: kernel::ConfigureAddressParams,
        _: kernel::ConfigureAddressResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?.get_proposal()?;
        let proposal = AddressProposal {
            index: p.get_if_index(),
            address: read_ip6(p.get_address()?),
            prefix_len: p.get_prefix_length(),
            valid_lifetime: p.get_valid_lifetime(),
            preferred_lifetime: p.get_preferred_lifetime(),
            temporary: p.get_temporary(),
        };
        let name = self.check_interface(proposal.index)?;
        check_address(proposal.address, proposal.prefix_len)?;
        self.writer
            .configure_address_as(&proposal, self.writer.options_named(&name))
            .await
            .map_err(failed)
    }

    async fn withdraw_address(
        self: Rc<Self>,
        params: kernel::WithdrawAddressParams,
        _: kernel::WithdrawAddressResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?;
        let (index, address, prefix_len) = (
            p.get_if_index(),
            read_ip6(p.get_address()?),
            p.get_prefix_length(),
        );
        self.check_interface(index)?;
        check_address(address, prefix_len)?;
        self.writer
            .withdraw_address(index, address, prefix_len)
            .await
            .map_err(failed)
    }

    async fn configure_default_route(
        self: Rc<Self>,
        params: kernel::ConfigureDefaultRouteParams,
        _: kernel::ConfigureDefaultRouteResults,
    ) -> Result<(), capnp::Error> {
        let r = params.get()?.get_route()?;
        let route = DefaultRouteProposal {
            index: r.get_if_index(),
            router: read_ip6(r.get_router()?),
            lifetime: r.get_lifetime(),
            preference: preference_from_schema(r.get_preference()?),
        };
        let name = self.check_interface(route.index)?;
        check_router(route.router)?;
        self.writer
            .configure_default_route_as(&route, self.writer.options_named(&name))
            .await
            .map_err(failed)
    }

    async fn withdraw_default_route(
        self: Rc<Self>,
        params: kernel::WithdrawDefaultRouteParams,
        _: kernel::WithdrawDefaultRouteResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?;
        let (index, router) = (p.get_if_index(), read_ip6(p.get_router()?));
        let name = self.check_interface(index)?;
        check_router(router)?;
        self.writer
            .withdraw_default_route_as(index, router, self.writer.options_named(&name))
            .await
            .map_err(failed)
    }

    async fn configure_route(
        self: Rc<Self>,
        params: kernel::ConfigureRouteParams,
        _: kernel::ConfigureRouteResults,
    ) -> Result<(), capnp::Error> {
        let r = params.get()?.get_route()?;
        let (key, options) = read_route_key(&self, r.get_key()?)?;
        let preference = preference_from_schema(r.get_preference()?);
        self.writer
            .configure_route_as(&key, r.get_lifetime(), preference, options)
            .await
            .map_err(failed)
    }

    async fn withdraw_route(
        self: Rc<Self>,
        params: kernel::WithdrawRouteParams,
        _: kernel::WithdrawRouteResults,
    ) -> Result<(), capnp::Error> {
        let (key, options) = read_route_key(&self, params.get()?.get_key()?)?;
        self.writer
            .withdraw_route_as(&key, options)
            .await
            .map_err(failed)
    }

    async fn configure_mtu(
        self: Rc<Self>,
        params: kernel::ConfigureMtuParams,
        _: kernel::ConfigureMtuResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?;
        let (index, mtu) = (p.get_if_index(), p.get_mtu());
        let name = self.check_interface(index)?;
        if mtu < MIN_IPV6_MTU {
            return Err(refuse(format!(
                "MTU {mtu} for interface {name} is below {MIN_IPV6_MTU}"
            )));
        }
        let link_mtu = self.writer.link_mtu(index).await.map_err(failed)?;
        if mtu > link_mtu {
            return Err(refuse(format!(
                "MTU {mtu} for interface {name} is above its link MTU {link_mtu}"
            )));
        }
        LinkSettings::new(&name)
            .and_then(|settings| settings.set_mtu(mtu, link_mtu))
            .map_err(failed)?;
        debug!(interface = %name, mtu, link_mtu, "IPv6 MTU set");
        Ok(())
    }

    async fn configure_link_parameters(
        self: Rc<Self>,
        params: kernel::ConfigureLinkParametersParams,
        _: kernel::ConfigureLinkParametersResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?.get_parameters()?;
        let name = self.check_interface(p.get_if_index())?;
        let (hop_limit, reachable, retrans) = (
            p.get_cur_hop_limit(),
            p.get_reachable_time(),
            p.get_retrans_timer(),
        );
        check_nd_time("reachable time", reachable)?;
        check_nd_time("retrans timer", retrans)?;
        let settings = LinkSettings::new(&name).map_err(failed)?;
        settings.set_hop_limit(hop_limit).map_err(failed)?;
        settings.set_reachable_time(reachable).map_err(failed)?;
        settings.set_retrans_timer(retrans).map_err(failed)?;
        debug!(interface = %name, hop_limit, reachable, retrans, "link parameters set");
        Ok(())
    }

    async fn configure_dns(
        self: Rc<Self>,
        params: kernel::ConfigureDnsParams,
        _: kernel::ConfigureDnsResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?;
        let index = p.get_if_index();
        let servers: Vec<Ipv6Addr> = p.get_servers()?.iter().map(read_ip6).collect();
        let search_domains = p
            .get_search_domains()?
            .iter()
            .map(|domain| {
                domain?
                    .to_string()
                    .map_err(|e| refuse(format!("search domain on interface {index}: {e}")))
            })
            .collect::<Result<Vec<String>, capnp::Error>>()?;
        let name = match self.check_interface(index) {
            Ok(name) => name,
            // The interface is gone, and the engine withdraws what it had:
            // the resolver still holds it, so let the withdrawal through.
            Err(_) if servers.is_empty() && search_domains.is_empty() => {
                format!("#{index} (gone)")
            }
            Err(refused) => return Err(refused),
        };
        self.resolver
            .configure(index, &name, &servers, &search_domains)
            .await
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_global_unicast_addresses_pass() {
        assert!(check_address("2001:db8::1".parse().unwrap(), 64).is_ok());
        for bad in ["::", "::1", "ff02::1", "fe80::1"] {
            assert!(check_address(bad.parse().unwrap(), 64).is_err(), "{bad}");
        }
        assert!(check_address("2001:db8::1".parse().unwrap(), 129).is_err());
    }

    #[test]
    fn route_prefixes_exclude_default_link_local_and_multicast() {
        assert!(check_route_prefix("2001:db8::".parse().unwrap(), 64).is_ok());
        assert!(check_route_prefix("2001:db8::".parse().unwrap(), 128).is_ok());
        assert!(check_route_prefix("::".parse().unwrap(), 0).is_err());
        assert!(check_route_prefix("2001:db8::".parse().unwrap(), 129).is_err());
        assert!(check_route_prefix("fe80::".parse().unwrap(), 64).is_err());
        assert!(check_route_prefix("ff00::".parse().unwrap(), 8).is_err());
    }

    #[test]
    fn nd_times_above_an_hour_are_refused() {
        assert!(check_nd_time("reachable time", 0).is_ok());
        assert!(check_nd_time("reachable time", MAX_ND_TIME_MS).is_ok());
        assert!(check_nd_time("retrans timer", MAX_ND_TIME_MS + 1).is_err());
    }

    #[test]
    fn routers_must_be_link_local() {
        assert!(check_router("fe80::1".parse().unwrap()).is_ok());
        assert!(check_router("2001:db8::1".parse().unwrap()).is_err());
    }
}
