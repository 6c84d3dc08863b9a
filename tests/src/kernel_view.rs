//! What the kernel of a lab namespace holds, read with `ip -j` and turned
//! into plain structs: the IPv6 addresses of an interface with their flags
//! and lifetimes, and its IPv6 routes with the gateway resolved whether the
//! route names it or points to a nexthop object.
//!
//! It only reads; it must never change anything in a namespace.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv6Addr;

use serde_json::Value;

use crate::netns::Netns;

/// The kernel's "forever" lifetime.
pub const INFINITE: u64 = u32::MAX as u64;

/// One IPv6 address of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelAddress {
    pub address: Ipv6Addr,
    pub prefix_len: u8,
    /// Seconds left; [`INFINITE`] for forever.
    pub valid: u64,
    pub preferred: u64,
    /// The flags `ip` shows as words: dynamic, tentative, dadfailed,
    /// temporary, mngtmpaddr, noprefixroute, deprecated...
    pub flags: BTreeSet<String>,
}

impl KernelAddress {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.contains(flag)
    }

    /// Through DAD: not tentative (optimistic included, RFC 4429) and not a
    /// failed duplicate.
    pub fn is_usable(&self) -> bool {
        !self.has("tentative") && !self.has("optimistic") && !self.has("dadfailed")
    }
}

/// The global IPv6 addresses of `interface` in `netns`.
pub fn global_addresses(netns: &Netns, interface: &str) -> Vec<KernelAddress> {
    let reply = netns.ip_json(&["-6", "addr", "show", "dev", interface, "scope", "global"]);
    reply
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|link| link["addr_info"].as_array().cloned().unwrap_or_default())
        // ip -j prints an empty object after some entries: skip what has no address.
        .filter_map(|info| parse_address(&info))
        .collect()
}

/// The addresses of `interface` in `prefix` (a /64 given by its first four
/// groups), the kernel's temporary addresses left out.
pub fn stable_addresses_in(netns: &Netns, interface: &str, prefix: Ipv6Addr) -> Vec<KernelAddress> {
    global_addresses(netns, interface)
        .into_iter()
        .filter(|address| {
            !address.has("temporary") && address.address.segments()[..4] == prefix.segments()[..4]
        })
        .collect()
}

fn parse_address(info: &Value) -> Option<KernelAddress> {
    let object = info.as_object()?;
    let flags = object
        .iter()
        .filter(|(_, value)| value.as_bool() == Some(true))
        .map(|(name, _)| name.clone())
        .collect();
    Some(KernelAddress {
        address: object.get("local")?.as_str()?.parse().ok()?,
        prefix_len: u8::try_from(object.get("prefixlen")?.as_u64()?).ok()?,
        valid: object.get("valid_life_time")?.as_u64()?,
        preferred: object.get("preferred_life_time")?.as_u64()?,
        flags,
    })
}

/// One IPv6 route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRoute {
    /// "default" or "PREFIX/LEN", as `ip` prints it.
    pub destination: String,
    /// The next hop, from the route itself or from its nexthop object.
    pub gateway: Option<Ipv6Addr>,
    /// The nexthop object the route uses, if any.
    pub nexthop_id: Option<u64>,
    pub protocol: String,
    pub metric: u64,
    /// RFC 4191 preference: "low", "medium" or "high".
    pub preference: Option<String>,
    /// Seconds until the kernel removes the route; None if it never does.
    pub expires: Option<u64>,
    /// Route metrics (RTAX_*) such as "mtu" or "hoplimit".
    pub metrics: BTreeMap<String, u64>,
}

/// The IPv6 routes through `interface` in `netns`.
pub fn routes(netns: &Netns, interface: &str) -> Vec<KernelRoute> {
    let nexthops: BTreeMap<u64, Ipv6Addr> = netns
        .ip_json(&["-6", "nexthop", "show"])
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|nexthop| {
            Some((
                nexthop["id"].as_u64()?,
                nexthop["gateway"].as_str()?.parse().ok()?,
            ))
        })
        .collect();
    netns
        .ip_json(&["-6", "route", "show", "dev", interface])
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|route| parse_route(route, &nexthops))
        .collect()
}

/// The routes through `interface` to `destination` ("default" or
/// "PREFIX/LEN").
pub fn routes_to(netns: &Netns, interface: &str, destination: &str) -> Vec<KernelRoute> {
    routes(netns, interface)
        .into_iter()
        .filter(|route| route.destination == destination)
        .collect()
}

/// The default route through `interface` via `router`, if there is one.
pub fn default_route_via(netns: &Netns, interface: &str, router: Ipv6Addr) -> Option<KernelRoute> {
    routes_to(netns, interface, "default")
        .into_iter()
        .find(|route| route.gateway == Some(router))
}

fn parse_route(route: &Value, nexthops: &BTreeMap<u64, Ipv6Addr>) -> Option<KernelRoute> {
    let nexthop_id = route["nhid"].as_u64();
    let gateway = match route["gateway"].as_str() {
        Some(gateway) => gateway.parse().ok(),
        None => nexthop_id.and_then(|id| nexthops.get(&id).copied()),
    };
    let metrics = route["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flatten()
        .filter_map(|(name, value)| Some((name.clone(), value.as_u64()?)))
        .collect();
    Some(KernelRoute {
        destination: route["dst"].as_str()?.to_owned(),
        gateway,
        nexthop_id,
        protocol: route["protocol"].as_str().unwrap_or("boot").to_owned(),
        metric: route["metric"].as_u64().unwrap_or(0),
        preference: route["pref"].as_str().map(str::to_owned),
        expires: route["expires"].as_u64(),
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_flags_and_lifetimes() {
        let info: Value = serde_json::from_str(
            r#"{"family":"inet6","local":"2001:db8:1::5","prefixlen":64,"scope":"global",
                "dynamic":true,"noprefixroute":true,"valid_life_time":3599,
                "preferred_life_time":1799}"#,
        )
        .unwrap();
        let address = parse_address(&info).unwrap();
        assert_eq!(
            address.address,
            "2001:db8:1::5".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            (address.prefix_len, address.valid, address.preferred),
            (64, 3599, 1799)
        );
        assert!(address.has("noprefixroute") && address.has("dynamic"));
        assert!(!address.has("tentative"));
        assert!(address.is_usable());
        assert!(parse_address(&Value::Object(Default::default())).is_none());
    }

    #[test]
    fn a_route_through_a_nexthop_object_gets_its_gateway() {
        let router: Ipv6Addr = "fe80::1".parse().unwrap();
        let nexthops = BTreeMap::from([(7, router)]);
        let route: Value = serde_json::from_str(
            r#"{"dst":"default","nhid":7,"protocol":"ra","metric":1024,"flags":[],
                "expires":1794,"pref":"high"}"#,
        )
        .unwrap();
        let parsed = parse_route(&route, &nexthops).unwrap();
        assert_eq!(parsed.gateway, Some(router));
        assert_eq!(parsed.nexthop_id, Some(7));
        assert_eq!(parsed.preference.as_deref(), Some("high"));
        assert_eq!(parsed.expires, Some(1794));
    }

    #[test]
    fn a_route_with_its_own_gateway_keeps_it_and_its_metrics() {
        let route: Value = serde_json::from_str(
            r#"{"dst":"default","gateway":"fe80::2","protocol":"ra","metric":1024,
                "flags":[],"expires":1797,"metrics":[{"mtu":1400,"hoplimit":64}],
                "pref":"medium"}"#,
        )
        .unwrap();
        let parsed = parse_route(&route, &BTreeMap::new()).unwrap();
        assert_eq!(parsed.gateway, Some("fe80::2".parse().unwrap()));
        assert_eq!(parsed.nexthop_id, None);
        assert_eq!(parsed.metrics.get("mtu"), Some(&1400));
        assert_eq!(parsed.metrics.get("hoplimit"), Some(&64));
    }
}
