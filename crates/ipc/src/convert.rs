//! Conversions between the schema's types and the Rust types the services use.
//!
//! `Ip6` holds an address as two big-endian 64-bit halves, so a reader can
//! never see an address of the wrong length.

use std::net::Ipv6Addr;

use slaacd_wire::RouterPreference;

use crate::slaacd_capnp::{self as schema, interface_state, ip6};

/// Reads an `Ip6` into an address.
pub fn read_ip6(reader: ip6::Reader<'_>) -> Ipv6Addr {
    let bits = (u128::from(reader.get_high()) << 64) | u128::from(reader.get_low());
    Ipv6Addr::from(bits)
}

/// The link-local address an `InterfaceState` carries, if any.
pub fn read_link_local(state: interface_state::Reader<'_>) -> capnp::Result<Option<Ipv6Addr>> {
    Ok(match state.get_link_local().which()? {
        interface_state::link_local::None(()) => None,
        interface_state::link_local::Address(address) => Some(read_ip6(address?)),
    })
}

/// Writes an address into an `Ip6` builder.
pub fn write_ip6(mut builder: ip6::Builder<'_>, address: Ipv6Addr) {
    let bits = u128::from(address);
    builder.set_high((bits >> 64) as u64);
    builder.set_low(bits as u64);
}

pub fn preference_to_schema(preference: RouterPreference) -> schema::RouterPreference {
    match preference {
        RouterPreference::Medium => schema::RouterPreference::Medium,
        RouterPreference::High => schema::RouterPreference::High,
        RouterPreference::Low => schema::RouterPreference::Low,
    }
}

pub fn preference_from_schema(preference: schema::RouterPreference) -> RouterPreference {
    match preference {
        schema::RouterPreference::Medium => RouterPreference::Medium,
        schema::RouterPreference::High => RouterPreference::High,
        schema::RouterPreference::Low => RouterPreference::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip6_round_trip_keeps_every_bit() {
        let address: Ipv6Addr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let mut message = capnp::message::Builder::new_default();
        write_ip6(message.init_root::<ip6::Builder>(), address);
        let reader = message.get_root_as_reader::<ip6::Reader>().unwrap();
        assert_eq!(reader.get_high(), 0x2001_0db8_0001_0002);
        assert_eq!(reader.get_low(), 0x0003_0004_0005_0006);
        assert_eq!(read_ip6(reader), address);
    }

    #[test]
    fn preference_round_trips() {
        for preference in [
            RouterPreference::Medium,
            RouterPreference::High,
            RouterPreference::Low,
        ] {
            assert_eq!(
                preference_from_schema(preference_to_schema(preference)),
                preference
            );
        }
    }
}
