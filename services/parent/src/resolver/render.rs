//! Checks DNS servers and search domains and writes them as resolv.conf(5)
//! lines.
//!
//! The values come from Router Advertisements, through the unprivileged
//! engine: nothing is written that could end a line early, start another
//! directive or name something other than a unicast server or a host name.
//! It must never render an unchecked value.

use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// RFC 1035: at most 253 characters in the text form, 63 per label.
const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Why a DNS entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEntry {
    #[error("{0} is not a unicast DNS server address")]
    Server(Ipv6Addr),
    #[error("search domain {0:?} is not a valid domain name")]
    Domain(String),
    #[error("{count} {what} is more than the {MAX_ENTRIES} slaacd accepts")]
    TooMany { what: &'static str, count: usize },
}

/// The most DNS servers, and the most search domains, taken for one
/// interface: far above what a resolver uses, low enough that a confused
/// engine cannot make the parent write megabytes.
pub const MAX_ENTRIES: usize = 64;

/// At most [`MAX_ENTRIES`] entries of one kind.
pub fn check_count(what: &'static str, count: usize) -> Result<(), InvalidEntry> {
    if count <= MAX_ENTRIES {
        Ok(())
    } else {
        Err(InvalidEntry::TooMany { what, count })
    }
}

/// A server a resolver can send queries to.
pub fn check_server(server: Ipv6Addr) -> Result<(), InvalidEntry> {
    if server.is_unspecified() || server.is_multicast() {
        Err(InvalidEntry::Server(server))
    } else {
        Ok(())
    }
}

/// A host name of letters, digits, `-` and `_`, without a trailing dot; what
/// resolv.conf's `search` line can hold.
pub fn normalize_domain(domain: &str) -> Result<String, InvalidEntry> {
    let name = domain.strip_suffix('.').unwrap_or(domain);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN || !name.split('.').all(label_ok) {
        return Err(InvalidEntry::Domain(domain.to_owned()));
    }
    Ok(name.to_ascii_lowercase())
}

/// The text of a `nameserver` line's address: link-local servers need the
/// interface as zone, which glibc and musl accept after `%`.
pub fn server_text(server: Ipv6Addr, interface: &str) -> String {
    if server.is_unicast_link_local() {
        format!("{server}%{interface}")
    } else {
        server.to_string()
    }
}

/// The first line of everything rendered: `comment` as a comment.
pub fn header(comment: &str) -> String {
    format!("# {comment}\n")
}

/// One block of resolv.conf lines: checked values only (see [`check_server`]
/// and [`normalize_domain`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    servers: Vec<String>,
    search: Vec<String>,
}

impl ResolvConf {
    /// Adds one interface's entries; duplicates of earlier ones are skipped.
    pub fn add(&mut self, interface: &str, servers: &[Ipv6Addr], domains: &[String]) {
        for server in servers {
            let text = server_text(*server, interface);
            if !self.servers.contains(&text) {
                self.servers.push(text);
            }
        }
        for domain in domains {
            if !self.search.contains(domain) {
                self.search.push(domain.clone());
            }
        }
    }

    /// The lines, after a comment saying who wrote them.
    pub fn render(&self, comment: &str) -> String {
        let mut text = header(comment);
        for server in &self.servers {
            let _ = writeln!(text, "nameserver {server}");
        }
        // One search line: glibc keeps only the last one.
        if !self.search.is_empty() {
            let _ = writeln!(text, "search {}", self.search.join(" "));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_that_could_inject_lines_are_refused() {
        for bad in [
            "",
            ".",
            "a..b",
            "example.com\nnameserver 192.0.2.1",
            "exa mple.com",
            "ex#ample.com",
            "e\u{e9}.com",
            &"a".repeat(64),
            &format!("{}.com", ["abcdefghi"; 26].join(".")),
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(normalize_domain("Example.COM.").unwrap(), "example.com");
        assert_eq!(
            normalize_domain("_srv.x-y.example").unwrap(),
            "_srv.x-y.example"
        );
    }

    #[test]
    fn counts_are_capped() {
        assert!(check_count("DNS servers", MAX_ENTRIES).is_ok());
        let error = check_count("search domains", MAX_ENTRIES + 1).unwrap_err();
        assert_eq!(
            error.to_string(),
            "65 search domains is more than the 64 slaacd accepts"
        );
    }

    #[test]
    fn servers_must_be_unicast() {
        assert!(check_server("2001:db8::53".parse().unwrap()).is_ok());
        assert!(check_server("fe80::1".parse().unwrap()).is_ok());
        assert!(check_server("::".parse().unwrap()).is_err());
        assert!(check_server("ff02::1".parse().unwrap()).is_err());
    }

    #[test]
    fn link_local_servers_carry_the_interface_and_duplicates_go() {
        let mut conf = ResolvConf::default();
        conf.add(
            "eth0",
            &["fe80::53".parse().unwrap(), "2001:db8::53".parse().unwrap()],
            &["a.example".to_owned()],
        );
        conf.add(
            "eth1",
            &["2001:db8::53".parse().unwrap(), "fe80::53".parse().unwrap()],
            &["a.example".to_owned(), "b.example".to_owned()],
        );
        assert_eq!(
            conf.render("test"),
            "# test\n\
             nameserver fe80::53%eth0\n\
             nameserver 2001:db8::53\n\
             nameserver fe80::53%eth1\n\
             search a.example b.example\n"
        );
        assert_eq!(ResolvConf::default().render("empty"), "# empty\n");
    }
}
