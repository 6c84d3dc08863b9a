//! The engine's configuration and its fixed limits.
//!
//! The limits bound what an attacker on the link can make the engine store:
//! when one is reached, new entries are rejected (and counted), existing ones
//! are never evicted. Nothing here may depend on the environment.

use thiserror::Error;

/// RFC 7217 asks for a secret of at least 128 bits.
pub const MIN_SECRET_KEY_LEN: usize = 16;

/// Per-interface caps.
pub mod limits {
    /// Routers (distinct link-local sources) remembered.
    pub const ROUTERS: usize = 16;
    /// Prefixes that addresses are formed from.
    pub const PREFIXES: usize = 16;
    /// Address proposals, stable and temporary together (Linux's
    /// `max_addresses` default is also 16).
    pub const ADDRESSES: usize = 16;
    /// Route Information routes.
    pub const ROUTES: usize = 64;
    /// Recursive DNS servers.
    pub const DNS_SERVERS: usize = 8;
    /// DNS search domains.
    pub const SEARCH_DOMAINS: usize = 8;
}

/// RFC 7217 IDGEN_RETRIES: new stable addresses tried after DAD failures
/// before giving up on a prefix.
pub const IDGEN_RETRIES: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// RFC 7217 secret, at least [`MIN_SECRET_KEY_LEN`] bytes.
    pub secret_key: Vec<u8>,
    /// Seed of the engine's only source of randomness (solicitation jitter).
    pub rng_seed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(
        "the stable address secret key has {length} bytes; at least {MIN_SECRET_KEY_LEN} are needed"
    )]
    SecretKeyTooShort { length: usize },
}

impl Config {
    /// Checks the configuration; [`crate::Engine::new`] uses it as given.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.secret_key.len() < MIN_SECRET_KEY_LEN {
            return Err(ConfigError::SecretKeyTooShort {
                length: self.secret_key.len(),
            });
        }
        Ok(())
    }
}
