//! The engine's configuration: the RFC 7217 secret, the random seed, which
//! interface identifiers each interface uses, on which interfaces temporary
//! addresses are made and by whom, and the caps of each interface.
//!
//! The caps bound what an attacker on the link can make the engine store:
//! when one is reached, new entries are rejected (and counted), existing ones
//! are never evicted. Nothing here may depend on the environment.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

/// RFC 7217 asks for a secret of at least 128 bits.
pub const MIN_SECRET_KEY_LEN: usize = 16;

/// RFC 7217 IDGEN_RETRIES: new stable addresses tried after DAD failures
/// before giving up on a prefix.
pub const IDGEN_RETRIES: u8 = 3;

/// Per-interface caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Routers (distinct link-local sources) remembered.
    pub routers: usize,
    /// Prefixes that addresses are formed from; on-link prefixes are capped
    /// by the same number, separately.
    pub prefixes: usize,
    /// Address proposals, stable and temporary together.
    pub addresses: usize,
    /// Route Information routes, over every router of the interface.
    pub routes: usize,
    /// Recursive DNS servers.
    pub dns_servers: usize,
    /// DNS search domains.
    pub search_domains: usize,
}

impl Default for Limits {
    /// Addresses: 16, as Linux's `max_addresses` default.
    fn default() -> Limits {
        Limits {
            routers: 16,
            prefixes: 16,
            addresses: 16,
            routes: 64,
            dns_servers: 8,
            search_domains: 8,
        }
    }
}

/// How the interface identifier of an interface's stable addresses is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InterfaceIdentifier {
    /// RFC 7217 stable, semantically opaque identifiers.
    #[default]
    Stable,
    /// RFC 4291 appendix A modified EUI-64 from the hardware address (6 or 8
    /// bytes); an interface without one forms no addresses. A DAD failure
    /// cannot be retried with another identifier, so it gives the prefix up.
    Eui64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// RFC 7217 secret, at least [`MIN_SECRET_KEY_LEN`] bytes.
    pub secret_key: Vec<u8>,
    /// Seed of the engine's only source of randomness (solicitation jitter,
    /// temporary addresses).
    pub rng_seed: u64,
    /// Identifier choice by interface name; interfaces not named use
    /// [`InterfaceIdentifier::Stable`].
    pub interface_identifiers: BTreeMap<String, InterfaceIdentifier>,
    /// Whether the engine makes RFC 8981 temporary addresses itself.
    pub temporary_addresses: bool,
    /// Whether the kernel makes them from the stable addresses instead (the
    /// Linux way): the engine then only reports them as on.
    pub kernel_temporary_addresses: bool,
    /// Interfaces, by name, that get no temporary addresses at all, whoever
    /// would make them (the kernel is told so by the parent).
    pub without_temporary_addresses: BTreeSet<String>,
    /// The caps of every interface not in `interface_limits`.
    pub limits: Limits,
    /// Caps by interface name, each set whole; interfaces not named use
    /// `limits`.
    pub interface_limits: BTreeMap<String, Limits>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(
        "the stable address secret key has {length} bytes; at least {MIN_SECRET_KEY_LEN} are needed"
    )]
    SecretKeyTooShort { length: usize },
}

impl Config {
    /// Stable identifiers everywhere, no temporary addresses of the engine's
    /// own (on Linux the kernel makes them), default limits.
    pub fn new(secret_key: Vec<u8>, rng_seed: u64) -> Config {
        Config {
            secret_key,
            rng_seed,
            interface_identifiers: BTreeMap::new(),
            temporary_addresses: false,
            kernel_temporary_addresses: false,
            without_temporary_addresses: BTreeSet::new(),
            limits: Limits::default(),
            interface_limits: BTreeMap::new(),
        }
    }

    /// Checks the configuration; [`crate::Engine::new`] uses it as given.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.secret_key.len() < MIN_SECRET_KEY_LEN {
            return Err(ConfigError::SecretKeyTooShort {
                length: self.secret_key.len(),
            });
        }
        Ok(())
    }

    /// The identifier kind for the interface called `name`.
    pub(crate) fn interface_identifier(&self, name: &str) -> InterfaceIdentifier {
        self.interface_identifiers
            .get(name)
            .copied()
            .unwrap_or_default()
    }

    /// The caps of the interface `name`: looked up at each check, so an
    /// interface renamed gets the caps of its new name (as its identifier).
    pub(crate) fn limits(&self, name: &str) -> Limits {
        self.interface_limits
            .get(name)
            .copied()
            .unwrap_or(self.limits)
    }

    /// Whether the engine makes temporary addresses on the interface `name`.
    pub(crate) fn engine_temporary_addresses(&self, name: &str) -> bool {
        self.temporary_addresses && !self.without_temporary_addresses.contains(name)
    }

    /// Whether the interface `name` has temporary addresses, made by the
    /// engine or by the kernel: what reports show.
    pub(crate) fn has_temporary_addresses(&self, name: &str) -> bool {
        (self.temporary_addresses || self.kernel_temporary_addresses)
            && !self.without_temporary_addresses.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_addresses_can_be_turned_off_on_one_interface() {
        let mut config = Config::new(vec![1; 16], 0);
        config.temporary_addresses = true;
        config.without_temporary_addresses.insert("eth1".to_owned());
        assert!(config.engine_temporary_addresses("eth0"));
        assert!(config.has_temporary_addresses("eth0"));
        assert!(!config.engine_temporary_addresses("eth1"));
        assert!(!config.has_temporary_addresses("eth1"));
    }

    #[test]
    fn an_interface_without_caps_of_its_own_has_the_global_ones() {
        let mut config = Config::new(vec![1; 16], 0);
        config.limits.routers = 3;
        let eth1 = Limits {
            routers: 1,
            ..Limits::default()
        };
        config.interface_limits.insert("eth1".to_owned(), eth1);
        assert_eq!(config.limits("eth0").routers, 3);
        assert_eq!(config.limits("eth1"), eth1);
    }

    #[test]
    fn kernel_temporary_addresses_are_reported_but_not_made_by_the_engine() {
        let mut config = Config::new(vec![1; 16], 0);
        config.kernel_temporary_addresses = true;
        config.without_temporary_addresses.insert("eth1".to_owned());
        assert!(!config.engine_temporary_addresses("eth0"));
        assert!(config.has_temporary_addresses("eth0"));
        assert!(!config.has_temporary_addresses("eth1"));
    }
}
