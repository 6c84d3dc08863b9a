//! RFC 8981 temporary addresses: their random interface identifiers and
//! their lifetime constants.
//!
//! The IID is the low 64 bits of SHA-256(secret_key || Prefix (8 bytes) ||
//! 8 random bytes), re-drawn while it is an RFC 5453 reserved IID or equals
//! the stable IID. Hashing with the secret means that even someone who could
//! predict the engine's seeded RNG cannot predict the next address. This
//! module only computes; it must never keep state or see the clock.

use std::net::Ipv6Addr;
use std::time::Duration;

use rand::RngExt;
use rand::rngs::SmallRng;
use sha2::{Digest, Sha256};

use crate::stable_address::is_reserved_iid;

/// RFC 8981 TEMP_VALID_LIFETIME: two days.
pub(crate) const TEMP_VALID_LIFETIME: Duration = Duration::from_secs(2 * 86_400);
/// RFC 8981 TEMP_PREFERRED_LIFETIME: one day.
pub(crate) const TEMP_PREFERRED_LIFETIME: Duration = Duration::from_secs(86_400);
/// RFC 8981 MAX_DESYNC_FACTOR: 0.4 * TEMP_PREFERRED_LIFETIME.
const MAX_DESYNC_FACTOR_SECS: u64 = 34_560;
/// RFC 8981 REGEN_ADVANCE: 2 + TEMP_IDGEN_RETRIES (3) * DupAddrDetectTransmits
/// (1) * RetransTimer (1 s).
pub(crate) const REGEN_ADVANCE: Duration = Duration::from_secs(5);
/// RFC 8981 TEMP_IDGEN_RETRIES.
pub(crate) const TEMP_IDGEN_RETRIES: u8 = 3;

/// Draws fail this often in a row only if SHA-256 is broken.
const MAX_DRAWS: usize = 16;

/// RFC 8981 DESYNC_FACTOR, drawn anew for each temporary address.
pub(crate) fn desync_factor(rng: &mut SmallRng) -> Duration {
    Duration::from_secs(rng.random_range(0..=MAX_DESYNC_FACTOR_SECS))
}

/// A temporary address in the /64 `prefix`, never equal to `avoid`.
pub(crate) fn temporary_address(
    prefix: Ipv6Addr,
    avoid: Ipv6Addr,
    secret_key: &[u8],
    rng: &mut SmallRng,
) -> Option<Ipv6Addr> {
    let prefix_bytes = &prefix.octets()[..8];
    (0..MAX_DRAWS).find_map(|_| {
        let mut hasher = Sha256::new();
        hasher.update(secret_key);
        hasher.update(prefix_bytes);
        hasher.update(rng.random::<u64>().to_be_bytes());
        let digest = hasher.finalize();
        let mut iid = [0u8; 8];
        iid.copy_from_slice(&digest[24..32]);
        if is_reserved_iid(u64::from_be_bytes(iid)) {
            return None;
        }
        let mut address = [0u8; 16];
        address[..8].copy_from_slice(prefix_bytes);
        address[8..].copy_from_slice(&iid);
        Some(Ipv6Addr::from(address)).filter(|&address| address != avoid)
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn temporary_addresses_keep_the_prefix_and_differ_each_time() {
        let mut rng = SmallRng::seed_from_u64(3);
        let prefix: Ipv6Addr = "2001:db8:5::".parse().unwrap();
        let first = temporary_address(prefix, Ipv6Addr::UNSPECIFIED, &[1; 16], &mut rng).unwrap();
        let second = temporary_address(prefix, Ipv6Addr::UNSPECIFIED, &[1; 16], &mut rng).unwrap();
        assert_ne!(first, second);
        assert_eq!(first.segments()[..4], prefix.segments()[..4]);
    }

    #[test]
    fn the_desync_factor_stays_within_its_maximum() {
        let mut rng = SmallRng::seed_from_u64(4);
        assert!((0..1000).all(|_| desync_factor(&mut rng).as_secs() <= MAX_DESYNC_FACTOR_SECS));
    }
}
