//! The options of slaacd.conf and of `-o`: their names, where they may be
//! set (everywhere, or only outside interface blocks), and how each value is
//! read and checked.
//!
//! One option, one name and one value syntax, whether it comes from the
//! file, from `-o` or from a flag such as `-u`. Nothing here touches the
//! system: whether a user or group exists is checked later, once.

use std::path::PathBuf;

use slaacd_core::InterfaceIdentifier;

use super::Problem;
use crate::resolver::Backend;

/// The largest value of a cap (`max-*`): far above any real link, small
/// enough that an attacker cannot make the engine grow much.
pub const MAX_CAP: u32 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    User,
    Group,
    Socket,
    KeyFile,
    Resolver,
    Identifier,
    TemporaryAddresses,
    Metric,
    MaxRouters,
    MaxPrefixes,
    MaxAddresses,
    MaxRoutes,
    MaxDnsServers,
    MaxSearchDomains,
}

impl Keyword {
    /// In the order the manual lists them.
    pub(crate) const ALL: [Keyword; 14] = [
        Keyword::User,
        Keyword::Group,
        Keyword::Socket,
        Keyword::KeyFile,
        Keyword::Resolver,
        Keyword::Identifier,
        Keyword::TemporaryAddresses,
        Keyword::Metric,
        Keyword::MaxRouters,
        Keyword::MaxPrefixes,
        Keyword::MaxAddresses,
        Keyword::MaxRoutes,
        Keyword::MaxDnsServers,
        Keyword::MaxSearchDomains,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Keyword::User => "user",
            Keyword::Group => "group",
            Keyword::Socket => "socket",
            Keyword::KeyFile => "key-file",
            Keyword::Resolver => "resolver",
            Keyword::Identifier => "identifier",
            Keyword::TemporaryAddresses => "temporary-addresses",
            Keyword::Metric => "metric",
            Keyword::MaxRouters => "max-routers",
            Keyword::MaxPrefixes => "max-prefixes",
            Keyword::MaxAddresses => "max-addresses",
            Keyword::MaxRoutes => "max-routes",
            Keyword::MaxDnsServers => "max-dns-servers",
            Keyword::MaxSearchDomains => "max-search-domains",
        }
    }

    /// The option called `name`; in an interface block (`per_interface`)
    /// an option that only exists for the whole daemon is a problem too.
    pub(crate) fn find(name: &str, per_interface: bool) -> Result<Keyword, Problem> {
        let keyword = Keyword::ALL
            .into_iter()
            .find(|keyword| keyword.name() == name)
            .ok_or_else(|| {
                let expected: Vec<&str> = Keyword::ALL
                    .into_iter()
                    .filter(|keyword| !per_interface || keyword.per_interface())
                    .map(Keyword::name)
                    .collect();
                Problem::new(format!(
                    "unknown option {name:?}; expected one of {}",
                    expected.join(", ")
                ))
            })?;
        if per_interface && !keyword.per_interface() {
            return Err(Problem::new(format!(
                "{name} applies to the whole daemon, not to one interface; \
                 set it outside interface blocks"
            )));
        }
        Ok(keyword)
    }

    /// Whether the option may differ between interfaces.
    pub(crate) fn per_interface(self) -> bool {
        matches!(
            self,
            Keyword::Identifier
                | Keyword::TemporaryAddresses
                | Keyword::Metric
                | Keyword::MaxRouters
                | Keyword::MaxPrefixes
                | Keyword::MaxAddresses
                | Keyword::MaxRoutes
                | Keyword::MaxDnsServers
                | Keyword::MaxSearchDomains
        )
    }

    /// What a value looks like, for "needs a value" messages.
    fn expects(self) -> String {
        match self {
            Keyword::User => "a user name".to_owned(),
            Keyword::Group => "a group name or number".to_owned(),
            Keyword::Socket | Keyword::KeyFile => "an absolute path".to_owned(),
            Keyword::Resolver => "a resolver backend as -r takes it, e.g. auto".to_owned(),
            Keyword::Identifier => "stable or eui64".to_owned(),
            Keyword::TemporaryAddresses => "yes or no".to_owned(),
            Keyword::Metric => format!("a number from 1 to {}", u32::MAX),
            Keyword::MaxDnsServers | Keyword::MaxSearchDomains => {
                format!("a number from 0 to {MAX_CAP}")
            }
            Keyword::MaxRouters
            | Keyword::MaxPrefixes
            | Keyword::MaxAddresses
            | Keyword::MaxRoutes => format!("a number from 1 to {MAX_CAP}"),
        }
    }

    /// The problem of an option given without a value.
    pub(crate) fn missing_value(self) -> Problem {
        Problem::new(format!("{} needs a value: {}", self.name(), self.expects()))
    }

    fn wrong_value(self, value: &str) -> Problem {
        Problem::new(format!(
            "{} must be {}, not {value:?}",
            self.name(),
            self.expects()
        ))
    }
}

/// A resolver backend and how it was written (`-r` syntax), to print it
/// back the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolverChoice {
    pub(crate) option: String,
    pub(crate) backend: Backend,
}

/// The options set in one scope: the whole daemon, or one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) user: Option<String>,
    pub(crate) group: Option<String>,
    pub(crate) socket: Option<PathBuf>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) resolver: Option<ResolverChoice>,
    pub(crate) identifier: Option<InterfaceIdentifier>,
    pub(crate) temporary_addresses: Option<bool>,
    pub(crate) metric: Option<u32>,
    pub(crate) max_routers: Option<u32>,
    pub(crate) max_prefixes: Option<u32>,
    pub(crate) max_addresses: Option<u32>,
    pub(crate) max_routes: Option<u32>,
    pub(crate) max_dns_servers: Option<u32>,
    pub(crate) max_search_domains: Option<u32>,
}

impl Options {
    /// Reads `value` for `keyword` and sets it; setting an option twice in
    /// one scope is a problem (`first` says where the first one was).
    pub(crate) fn set(
        &mut self,
        keyword: Keyword,
        value: &str,
        first: impl FnOnce() -> String,
    ) -> Result<(), Problem> {
        if self.is_set(keyword) {
            return Err(Problem::new(format!(
                "{} is set twice (first {})",
                keyword.name(),
                first()
            )));
        }
        let wrong = || keyword.wrong_value(value);
        match keyword {
            Keyword::User => self.user = Some(name(keyword, value)?),
            Keyword::Group => self.group = Some(name(keyword, value)?),
            Keyword::Socket => self.socket = Some(absolute_path(keyword, value)?),
            Keyword::KeyFile => self.key_file = Some(absolute_path(keyword, value)?),
            Keyword::Resolver => {
                let backend = value
                    .parse::<Backend>()
                    .map_err(|error| Problem::new(format!("resolver {value:?}: {error}")))?;
                self.resolver = Some(ResolverChoice {
                    option: value.to_owned(),
                    backend,
                });
            }
            Keyword::Identifier => {
                let kinds = [InterfaceIdentifier::Stable, InterfaceIdentifier::Eui64];
                let kind = kinds
                    .into_iter()
                    .find(|&kind| identifier_word(kind) == value);
                self.identifier = Some(kind.ok_or_else(wrong)?);
            }
            Keyword::TemporaryAddresses => {
                let on = [true, false]
                    .into_iter()
                    .find(|&on| switch_word(on) == value);
                self.temporary_addresses = Some(on.ok_or_else(wrong)?);
            }
            Keyword::Metric => {
                self.metric = Some(value.parse().ok().filter(|&n| n >= 1).ok_or_else(wrong)?);
            }
            Keyword::MaxRouters => self.max_routers = Some(cap(keyword, value, 1)?),
            Keyword::MaxPrefixes => self.max_prefixes = Some(cap(keyword, value, 1)?),
            Keyword::MaxAddresses => self.max_addresses = Some(cap(keyword, value, 1)?),
            Keyword::MaxRoutes => self.max_routes = Some(cap(keyword, value, 1)?),
            Keyword::MaxDnsServers => self.max_dns_servers = Some(cap(keyword, value, 0)?),
            Keyword::MaxSearchDomains => self.max_search_domains = Some(cap(keyword, value, 0)?),
        }
        Ok(())
    }

    fn is_set(&self, keyword: Keyword) -> bool {
        match keyword {
            Keyword::User => self.user.is_some(),
            Keyword::Group => self.group.is_some(),
            Keyword::Socket => self.socket.is_some(),
            Keyword::KeyFile => self.key_file.is_some(),
            Keyword::Resolver => self.resolver.is_some(),
            Keyword::Identifier => self.identifier.is_some(),
            Keyword::TemporaryAddresses => self.temporary_addresses.is_some(),
            Keyword::Metric => self.metric.is_some(),
            Keyword::MaxRouters => self.max_routers.is_some(),
            Keyword::MaxPrefixes => self.max_prefixes.is_some(),
            Keyword::MaxAddresses => self.max_addresses.is_some(),
            Keyword::MaxRoutes => self.max_routes.is_some(),
            Keyword::MaxDnsServers => self.max_dns_servers.is_some(),
            Keyword::MaxSearchDomains => self.max_search_domains.is_some(),
        }
    }
}

/// How an identifier kind is written.
pub(crate) fn identifier_word(kind: InterfaceIdentifier) -> &'static str {
    match kind {
        InterfaceIdentifier::Stable => "stable",
        InterfaceIdentifier::Eui64 => "eui64",
    }
}

/// How on and off are written.
pub(crate) fn switch_word(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

fn name(keyword: Keyword, value: &str) -> Result<String, Problem> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(keyword.wrong_value(value));
    }
    Ok(value.to_owned())
}

fn absolute_path(keyword: Keyword, value: &str) -> Result<PathBuf, Problem> {
    if !value.starts_with('/') {
        return Err(keyword.wrong_value(value));
    }
    Ok(PathBuf::from(value))
}

fn cap(keyword: Keyword, value: &str, least: u32) -> Result<u32, Problem> {
    value
        .parse()
        .ok()
        .filter(|n| (least..=MAX_CAP).contains(n))
        .ok_or_else(|| keyword.wrong_value(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keyword: &str, value: &str) -> Result<Options, String> {
        let mut options = Options::default();
        let keyword = Keyword::find(keyword, false).map_err(|p| p.to_string())?;
        options
            .set(keyword, value, || unreachable!())
            .map_err(|p| p.to_string())?;
        Ok(options)
    }

    #[test]
    fn every_option_reads_its_value() {
        let read = |keyword, value| set(keyword, value).unwrap();
        assert_eq!(read("user", "_slaacd").user.as_deref(), Some("_slaacd"));
        assert_eq!(read("group", "100").group.as_deref(), Some("100"));
        assert_eq!(
            read("socket", "/run/s.sock").socket,
            Some(PathBuf::from("/run/s.sock"))
        );
        assert_eq!(read("key-file", "/k").key_file, Some(PathBuf::from("/k")));
        assert_eq!(
            read("resolver", "file=/tmp/r").resolver,
            Some(ResolverChoice {
                option: "file=/tmp/r".to_owned(),
                backend: Backend::File(PathBuf::from("/tmp/r")),
            })
        );
        assert_eq!(
            read("identifier", "eui64").identifier,
            Some(InterfaceIdentifier::Eui64)
        );
        assert_eq!(
            read("identifier", "stable").identifier,
            Some(InterfaceIdentifier::Stable)
        );
        assert_eq!(
            read("temporary-addresses", "no").temporary_addresses,
            Some(false)
        );
        assert_eq!(
            read("temporary-addresses", "yes").temporary_addresses,
            Some(true)
        );
        assert_eq!(read("metric", "4294967295").metric, Some(u32::MAX));
        assert_eq!(read("max-routers", "1").max_routers, Some(1));
        assert_eq!(read("max-prefixes", "1024").max_prefixes, Some(1024));
        assert_eq!(read("max-addresses", "8").max_addresses, Some(8));
        assert_eq!(read("max-routes", "2").max_routes, Some(2));
        assert_eq!(read("max-dns-servers", "0").max_dns_servers, Some(0));
        assert_eq!(read("max-search-domains", "0").max_search_domains, Some(0));
    }

    #[test]
    fn wrong_values_say_what_is_expected() {
        let problem = |keyword, value| set(keyword, value).unwrap_err();
        assert_eq!(
            problem("user", "a b"),
            "user must be a user name, not \"a b\""
        );
        assert_eq!(
            problem("group", ""),
            "group must be a group name or number, not \"\""
        );
        assert_eq!(
            problem("socket", "run/s"),
            "socket must be an absolute path, not \"run/s\""
        );
        assert_eq!(
            problem("key-file", "k"),
            "key-file must be an absolute path, not \"k\""
        );
        // The rest of the message is the resolver's own.
        assert!(
            problem("resolver", "dns").starts_with("resolver \"dns\": unknown resolver \"dns\""),
            "{}",
            problem("resolver", "dns")
        );
        assert_eq!(
            problem("identifier", "eui-64"),
            "identifier must be stable or eui64, not \"eui-64\""
        );
        assert_eq!(
            problem("temporary-addresses", "off"),
            "temporary-addresses must be yes or no, not \"off\""
        );
        assert_eq!(
            problem("metric", "0"),
            "metric must be a number from 1 to 4294967295, not \"0\""
        );
        assert_eq!(
            problem("metric", "4294967296"),
            "metric must be a number from 1 to 4294967295, not \"4294967296\""
        );
        assert_eq!(
            problem("max-routers", "0"),
            "max-routers must be a number from 1 to 1024, not \"0\""
        );
        assert_eq!(
            problem("max-routes", "1025"),
            "max-routes must be a number from 1 to 1024, not \"1025\""
        );
        assert_eq!(
            problem("max-dns-servers", "-1"),
            "max-dns-servers must be a number from 0 to 1024, not \"-1\""
        );
    }

    #[test]
    fn unknown_options_list_the_known_ones() {
        assert_eq!(
            Keyword::find("metrik", false).unwrap_err().to_string(),
            "unknown option \"metrik\"; expected one of user, group, socket, key-file, \
             resolver, identifier, temporary-addresses, metric, max-routers, max-prefixes, \
             max-addresses, max-routes, max-dns-servers, max-search-domains"
        );
        assert_eq!(
            Keyword::find("metrik", true).unwrap_err().to_string(),
            "unknown option \"metrik\"; expected one of identifier, temporary-addresses, metric, \
             max-routers, max-prefixes, max-addresses, max-routes, max-dns-servers, \
             max-search-domains"
        );
    }

    #[test]
    fn daemon_options_are_refused_per_interface() {
        for keyword in ["user", "group", "socket", "key-file", "resolver"] {
            assert_eq!(
                Keyword::find(keyword, true).unwrap_err().to_string(),
                format!(
                    "{keyword} applies to the whole daemon, not to one interface; \
                     set it outside interface blocks"
                )
            );
        }
        assert_eq!(Keyword::find("metric", true).unwrap(), Keyword::Metric);
    }

    #[test]
    fn every_cap_may_be_set_per_interface() {
        let caps = [
            ("max-routers", Keyword::MaxRouters),
            ("max-prefixes", Keyword::MaxPrefixes),
            ("max-addresses", Keyword::MaxAddresses),
            ("max-routes", Keyword::MaxRoutes),
            ("max-dns-servers", Keyword::MaxDnsServers),
            ("max-search-domains", Keyword::MaxSearchDomains),
        ];
        for (name, keyword) in caps {
            assert_eq!(Keyword::find(name, true), Ok(keyword), "{name}");
        }
    }

    #[test]
    fn an_option_set_twice_names_the_first() {
        let mut options = Options::default();
        options
            .set(Keyword::Metric, "5", || unreachable!())
            .unwrap();
        let problem = options
            .set(Keyword::Metric, "6", || "at line 2".to_owned())
            .unwrap_err();
        assert_eq!(problem.to_string(), "metric is set twice (first at line 2)");
        assert_eq!(options.metric, Some(5));
    }
}
