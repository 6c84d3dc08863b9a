//! The interface identifier of an interface's stable addresses: RFC 7217
//! (see `stable_address`) or the RFC 4291 appendix A modified EUI-64 of its
//! hardware address, as [`InterfaceIdentifier`] chooses. Pure computation;
//! it must never keep state or see the clock.

use std::net::Ipv6Addr;

use crate::config::InterfaceIdentifier;
use crate::stable_address::{StableAddress, is_reserved_iid, stable_address};

/// The universal/local bit, inverted in a modified EUI-64.
const UNIVERSAL_LOCAL: u8 = 0x02;

/// One interface's identifier source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdentifierSource<'a> {
    pub(crate) kind: InterfaceIdentifier,
    /// The hardware address as the kernel reports it (may be empty).
    pub(crate) hw_address: &'a [u8],
    /// The interface name, RFC 7217's Net_Iface when there is no hardware
    /// address.
    pub(crate) name: &'a str,
}

impl IdentifierSource<'_> {
    /// The stable address in the /64 `prefix` for DAD attempt
    /// `dad_counter` or the next usable one; `None` when there is none (an
    /// EUI-64 has no second attempt, and needs a usable hardware address).
    pub(crate) fn address(
        &self,
        prefix: Ipv6Addr,
        dad_counter: u8,
        secret_key: &[u8],
    ) -> Option<StableAddress> {
        match self.kind {
            InterfaceIdentifier::Stable => {
                let net_iface = if self.hw_address.is_empty() {
                    self.name.as_bytes()
                } else {
                    self.hw_address
                };
                stable_address(prefix, net_iface, dad_counter, secret_key)
            }
            InterfaceIdentifier::Eui64 if dad_counter == 0 => {
                let iid = modified_eui64(self.hw_address)?;
                let prefix = u128::from(prefix) & !u128::from(u64::MAX);
                Some(StableAddress {
                    address: Ipv6Addr::from(prefix | u128::from(iid)),
                    dad_counter,
                })
            }
            InterfaceIdentifier::Eui64 => None,
        }
    }
}

/// The modified EUI-64 of a 48-bit MAC (ff:fe inserted in the middle) or of
/// a 64-bit EUI, with the universal/local bit inverted. `None` for other
/// lengths, an all-zero address, or a result that is an RFC 5453 reserved
/// identifier.
fn modified_eui64(hw_address: &[u8]) -> Option<u64> {
    let mut eui = match *hw_address {
        [a, b, c, d, e, f] => [a, b, c, 0xff, 0xfe, d, e, f],
        [a, b, c, d, e, f, g, h] => [a, b, c, d, e, f, g, h],
        _ => return None,
    };
    if hw_address.iter().all(|&byte| byte == 0) {
        return None;
    }
    eui[0] ^= UNIVERSAL_LOCAL;
    let iid = u64::from_be_bytes(eui);
    (!is_reserved_iid(iid)).then_some(iid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(kind: InterfaceIdentifier, hw_address: &[u8]) -> IdentifierSource<'_> {
        IdentifierSource {
            kind,
            hw_address,
            name: "eth0",
        }
    }

    #[test]
    fn eui64_inserts_fffe_and_flips_the_universal_local_bit() {
        // RFC 4291 appendix A: 00:00:5e:10:20:30 gives 0200:5eff:fe10:2030,
        // which RFC 5453 reserves; a plain vendor MAC works.
        let prefix: Ipv6Addr = "2001:db8:1:2::".parse().unwrap();
        let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        let address = source(InterfaceIdentifier::Eui64, &mac)
            .address(prefix, 0, &[0; 16])
            .unwrap();
        assert_eq!(
            address.address,
            "2001:db8:1:2:5054:ff:fe12:3456"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        let eui = [0x02, 1, 2, 3, 4, 5, 6, 7];
        let address = source(InterfaceIdentifier::Eui64, &eui)
            .address(prefix, 0, &[0; 16])
            .unwrap();
        assert_eq!(
            address.address,
            "2001:db8:1:2:1:203:405:607".parse::<Ipv6Addr>().unwrap()
        );
        let reserved = [0x00, 0x00, 0x5e, 0x10, 0x20, 0x30];
        assert!(modified_eui64(&reserved).is_none());
    }

    #[test]
    fn eui64_has_no_second_attempt_and_needs_a_hardware_address() {
        let prefix: Ipv6Addr = "2001:db8::".parse().unwrap();
        let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        let eui64 = source(InterfaceIdentifier::Eui64, &mac);
        assert!(eui64.address(prefix, 1, &[0; 16]).is_none());
        for hw_address in [&[][..], &[0; 6], &[1, 2, 3, 4]] {
            let eui64 = source(InterfaceIdentifier::Eui64, hw_address);
            assert!(eui64.address(prefix, 0, &[0; 16]).is_none());
        }
    }

    #[test]
    fn stable_identifiers_use_the_name_without_a_hardware_address() {
        let prefix: Ipv6Addr = "2001:db8::".parse().unwrap();
        let key = [9; 16];
        let by_name = source(InterfaceIdentifier::Stable, &[]).address(prefix, 0, &key);
        assert_eq!(by_name, stable_address(prefix, b"eth0", 0, &key));
        let mac = [2, 0, 0, 0, 0, 1];
        let by_mac = source(InterfaceIdentifier::Stable, &mac).address(prefix, 2, &key);
        assert_eq!(by_mac, stable_address(prefix, &mac, 2, &key));
    }
}
