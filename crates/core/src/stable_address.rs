//! RFC 7217 stable, semantically opaque interface identifiers.
//!
//! The exact input to SHA-256, byte for byte (`||` is concatenation):
//!
//! ```text
//! RID = SHA-256( Prefix       8 bytes: the first 64 bits of the /64 prefix
//!             || Net_Iface    the interface's hardware address bytes as the
//!                             kernel reports them (6 for Ethernet); the bytes
//!                             of the interface name if it has none
//!             || Network_ID   empty (0 bytes)
//!             || DAD_Counter  1 byte, starting at 0
//!             || secret_key   the whole key (at least 16 bytes) )
//! IID = the last 8 bytes of the 32-byte RID (its low 64 bits)
//! address = Prefix || IID
//! ```
//!
//! An IID in an RFC 5453 reserved range is never used: the DAD counter is
//! bumped and the hash taken again. This module only computes; it must never
//! keep state or see the clock.

use std::net::Ipv6Addr;

use sha2::{Digest, Sha256};

/// A stable address and the DAD counter that produced it (which is higher
/// than the one asked for when reserved IIDs were skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StableAddress {
    pub(crate) address: Ipv6Addr,
    pub(crate) dad_counter: u8,
}

/// The stable address for a /64 `prefix`, starting at `dad_counter`; `None`
/// only if every counter from there on gives a reserved IID.
pub(crate) fn stable_address(
    prefix: Ipv6Addr,
    net_iface: &[u8],
    dad_counter: u8,
    secret_key: &[u8],
) -> Option<StableAddress> {
    let prefix_bytes = &prefix.octets()[..8];
    (dad_counter..=u8::MAX).find_map(|counter| {
        let mut hasher = Sha256::new();
        hasher.update(prefix_bytes);
        hasher.update(net_iface);
        hasher.update(counter.to_be_bytes());
        hasher.update(secret_key);
        let rid = hasher.finalize();
        let mut iid = [0u8; 8];
        iid.copy_from_slice(&rid[24..32]);
        if is_reserved_iid(u64::from_be_bytes(iid)) {
            return None;
        }
        let mut address = [0u8; 16];
        address[..8].copy_from_slice(prefix_bytes);
        address[8..].copy_from_slice(&iid);
        Some(StableAddress {
            address: Ipv6Addr::from(address),
            dad_counter: counter,
        })
    })
}

/// RFC 5453 (IANA "Reserved IPv6 Interface Identifiers"): the subnet-router
/// anycast IID, the reserved subnet anycast range and the range derived from
/// the IANA Ethernet block (proxy mobile IPv6 included).
pub(crate) fn is_reserved_iid(iid: u64) -> bool {
    const SUBNET_ROUTER_ANYCAST: u64 = 0;
    const SUBNET_ANYCAST: std::ops::RangeInclusive<u64> =
        0xfdff_ffff_ffff_ff80..=0xfdff_ffff_ffff_ffff;
    const IANA_ETHERNET_BLOCK: std::ops::RangeInclusive<u64> =
        0x0200_5eff_fe00_0000..=0x0200_5eff_feff_ffff;
    iid == SUBNET_ROUTER_ANYCAST
        || SUBNET_ANYCAST.contains(&iid)
        || IANA_ETHERNET_BLOCK.contains(&iid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_iids_are_recognised_at_their_edges() {
        assert!(is_reserved_iid(0));
        assert!(!is_reserved_iid(1));
        assert!(is_reserved_iid(0xfdff_ffff_ffff_ff80));
        assert!(!is_reserved_iid(0xfdff_ffff_ffff_ff7f));
        assert!(is_reserved_iid(0x0200_5eff_fe00_5213));
        assert!(is_reserved_iid(0x0200_5eff_feff_ffff));
        assert!(!is_reserved_iid(0x0200_5eff_ff00_0000));
    }

    #[test]
    fn the_address_keeps_the_prefix_and_changes_with_each_input() {
        let prefix: Ipv6Addr = "2001:db8:1:2::".parse().unwrap();
        let key = [7u8; 16];
        let mac = [2, 0, 0, 0, 0, 1];
        let base = stable_address(prefix, &mac, 0, &key).unwrap();
        assert_eq!(base.address.segments()[..4], prefix.segments()[..4]);
        assert_eq!(base, stable_address(prefix, &mac, 0, &key).unwrap());
        let other_prefix = "2001:db8:1:3::".parse().unwrap();
        assert_ne!(
            base.address,
            stable_address(other_prefix, &mac, 0, &key).unwrap().address
        );
        assert_ne!(
            base.address,
            stable_address(prefix, &[2, 0, 0, 0, 0, 2], 0, &key)
                .unwrap()
                .address
        );
        assert_ne!(
            base.address,
            stable_address(prefix, &mac, 1, &key).unwrap().address
        );
        assert_ne!(
            base.address,
            stable_address(prefix, &mac, 0, &[8u8; 16]).unwrap().address
        );
    }
}
