//! The `Kernel` capability the parent hands the engine: each call applies one
//! proposal through the kernel writer.
//!
//! The engine is unprivileged and reads hostile packets, so nothing it asks
//! for is trusted blindly: a proposal must name a managed interface and a
//! sensible address or router, or it is refused with an error.

use std::net::Ipv6Addr;
use std::rc::Rc;

use slaacd_core::{AddressProposal, DefaultRouteProposal};
use slaacd_ipc::convert::{preference_from_schema, read_ip6};
use slaacd_ipc::slaacd_capnp::kernel;

use crate::kernel::KernelWriter;

/// Serves `Kernel` for the interfaces named on the command line.
pub struct KernelService {
    writer: Rc<KernelWriter>,
    managed: Vec<String>,
}

impl KernelService {
    pub fn new(writer: KernelWriter, managed: Vec<String>) -> Self {
        Self {
            writer: Rc::new(writer),
            managed,
        }
    }

    /// Checks that `index` is one of the managed interfaces, by its current name.
    fn check_interface(&self, index: u32) -> Result<(), capnp::Error> {
        let name = nix::net::if_::if_indextoname(index)
            .map_err(|error| refuse(format!("interface {index}: {error}")))?;
        let name = name.to_string_lossy();
        if self.managed.iter().any(|managed| *managed == name) {
            Ok(())
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
        self.check_interface(proposal.index)?;
        check_address(proposal.address, proposal.prefix_len)?;
        self.writer
            .configure_address(&proposal)
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
        self.check_interface(route.index)?;
        check_router(route.router)?;
        self.writer
            .configure_default_route(&route)
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
        self.check_interface(index)?;
        check_router(router)?;
        self.writer
            .withdraw_default_route(index, router)
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
    fn routers_must_be_link_local() {
        assert!(check_router("fe80::1".parse().unwrap()).is_ok());
        assert!(check_router("2001:db8::1".parse().unwrap()).is_err());
    }
}
