//! `slaacctl monitor` as text: one line per event, starting with its local
//! date and time to the millisecond and the interface, then what happened:
//!
//! ```text
//! 2026-11-27 21:30:05.123 eth0 RA from fe80::1%eth0: router lifetime 1800 s, preference Medium
//! 2026-11-27 21:30:05.123 eth0 proposed: address 2001:db8::a/64 created, valid 600 s, preferred 300 s
//! 2026-11-27 21:30:05.125 eth0 applied: address 2001:db8::a/64 created
//! ```
//!
//! Events the daemon lost show as one `-- N events lost --` line where they
//! were. A drop that stands for several (the frontend sums bursts up) says
//! how many and names the last source:
//!
//! ```text
//! 2026-11-27 21:30:05.140 eth0 37 RAs dropped: engine-busy, the last from fe80::5%eth0
//! ```
//!
//! This module must never read the clock itself.

use std::fmt::{self, Write};

use super::text::{Lifetime, Scoped};
use crate::event::{Batch, Change, Event, Item, Proposal, What};
use crate::walltime::WallClock;

/// Formats one batch, a line per event (and one for lost events).
pub fn render(batch: &Batch, clock: &WallClock) -> String {
    let mut out = String::new();
    if batch.lost > 0 {
        let _ = writeln!(out, "-- {} events lost --", batch.lost);
    }
    for event in &batch.events {
        // Writing into a String cannot fail.
        let _ = write_event(&mut out, event, clock);
    }
    out
}

fn write_event(out: &mut String, event: &Event, clock: &WallClock) -> fmt::Result {
    let ifname = event.if_name.as_str();
    write!(out, "{} ", clock.at_micros(event.time))?;
    if ifname.is_empty() {
        write!(out, "#{} ", event.if_index)?;
    } else {
        write!(out, "{ifname} ")?;
    }
    match &event.what {
        What::Advertisement {
            source,
            router_lifetime,
            preference,
        } => write!(
            out,
            "RA from {}: router lifetime {router_lifetime} s, preference {preference}",
            Scoped(*source, ifname)
        )?,
        What::Dropped {
            reason,
            limit,
            source,
            count,
        } => {
            match (source, count) {
                (Some(source), 1) => write!(out, "RA from {} dropped: ", Scoped(*source, ifname))?,
                (None, 1) => write!(out, "entry dropped: ")?,
                (_, count) if source.is_some() => write!(out, "{count} RAs dropped: ")?,
                (_, count) => write!(out, "{count} entries dropped: ")?,
            }
            write!(out, "{reason}")?;
            if *limit {
                write!(out, " (limit reached)")?;
            }
            if let (Some(source), 2..) = (source, count) {
                write!(out, ", the last from {}", Scoped(*source, ifname))?;
            }
        }
        What::Solicitation => write!(out, "sending a Router Solicitation")?,
        What::Proposed(proposal) => {
            write!(out, "proposed: ")?;
            write_proposal(out, proposal, ifname)?;
            write_details(out, proposal)?;
        }
        What::Applied(proposal) => {
            write!(out, "applied: ")?;
            write_proposal(out, proposal, ifname)?;
        }
        What::Failed { proposal, error } => {
            write!(out, "failed: ")?;
            write_proposal(out, proposal, ifname)?;
            write!(out, ": {error}")?;
        }
    }
    writeln!(out)
}

/// What the proposal is about and its change: `address 2001:db8::a/64 created`.
fn write_proposal(out: &mut String, proposal: &Proposal, ifname: &str) -> fmt::Result {
    match &proposal.item {
        Item::Address {
            address,
            prefix_length,
            ..
        } => write!(out, "address {address}/{prefix_length}")?,
        Item::DefaultRoute { router, .. } => {
            write!(out, "default route via {}", Scoped(*router, ifname))?;
        }
        Item::Route {
            prefix,
            prefix_length,
            via,
            ..
        } => write!(out, "route {prefix}/{prefix_length} via {via}")?,
        Item::Mtu { mtu } => write!(out, "MTU {mtu}")?,
        Item::LinkParameters { .. } => write!(out, "link parameters")?,
        Item::Dns { .. } => write!(out, "DNS")?,
    }
    let change = match proposal.change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Withdrawn => "withdrawn",
    };
    write!(out, " {change}")
}

/// The values a created or updated proposal asks for.
fn write_details(out: &mut String, proposal: &Proposal) -> fmt::Result {
    if proposal.change == Change::Withdrawn {
        return Ok(());
    }
    match &proposal.item {
        Item::Address {
            valid_lifetime,
            preferred_lifetime,
            temporary,
            ..
        } => {
            write!(
                out,
                ", valid {}, preferred {}",
                Seconds(*valid_lifetime),
                Seconds(*preferred_lifetime)
            )?;
            if *temporary {
                write!(out, ", temporary")?;
            }
            Ok(())
        }
        Item::DefaultRoute {
            lifetime,
            preference,
            ..
        }
        | Item::Route {
            lifetime,
            preference,
            ..
        } => write!(
            out,
            ", lifetime {}, preference {preference}",
            Seconds(*lifetime)
        ),
        Item::Mtu { .. } => Ok(()),
        Item::LinkParameters {
            cur_hop_limit,
            reachable_time,
            retrans_timer,
        } => write!(
            out,
            ", hop limit {cur_hop_limit}, reachable time {reachable_time} ms, \
             retrans timer {retrans_timer} ms"
        ),
        Item::Dns {
            servers,
            search_domains,
        } => {
            write!(out, ", servers")?;
            write_list(out, servers)?;
            write!(out, ", search")?;
            write_list(out, search_domains)
        }
    }
}

fn write_list<T: fmt::Display>(out: &mut String, items: &[T]) -> fmt::Result {
    if items.is_empty() {
        return write!(out, " none");
    }
    for item in items {
        write!(out, " {item}")?;
    }
    Ok(())
}

/// A lifetime with its unit: `600 s`, or `infinity`.
struct Seconds(u32);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == u32::MAX {
            write!(f, "{}", Lifetime(self.0))
        } else {
            write!(f, "{} s", self.0)
        }
    }
}

#[cfg(test)]
pub mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::report::{Preference, Via};

    fn ip(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    /// 2026-11-27 21:30:05.123456 UTC.
    const TIME: u64 = 1_795_815_005_123_456;

    fn event(time: u64, what: What) -> Event {
        Event {
            time,
            if_index: 2,
            if_name: "eth0".into(),
            what,
        }
    }

    /// One event of every kind, shared with the JSON printer's golden test.
    pub fn sample() -> Batch {
        let address = Item::Address {
            address: ip("2001:db8:1::a"),
            prefix_length: 64,
            valid_lifetime: 600,
            preferred_lifetime: 300,
            temporary: false,
        };
        Batch {
            lost: 3,
            events: vec![
                event(TIME, What::Solicitation),
                event(
                    TIME,
                    What::Advertisement {
                        source: ip("fe80::1"),
                        router_lifetime: 1800,
                        preference: Preference::High,
                    },
                ),
                event(
                    TIME,
                    What::Proposed(Proposal {
                        change: Change::Created,
                        item: address.clone(),
                    }),
                ),
                event(
                    TIME,
                    What::Proposed(Proposal {
                        change: Change::Updated,
                        item: Item::DefaultRoute {
                            router: ip("fe80::1"),
                            lifetime: 1800,
                            preference: Preference::High,
                        },
                    }),
                ),
                event(
                    TIME,
                    What::Proposed(Proposal {
                        change: Change::Created,
                        item: Item::Route {
                            prefix: ip("2001:db8:2::"),
                            prefix_length: 48,
                            via: Via::Router(ip("fe80::1")),
                            lifetime: u32::MAX,
                            preference: Preference::Low,
                        },
                    }),
                ),
                event(
                    TIME,
                    What::Proposed(Proposal {
                        change: Change::Updated,
                        item: Item::Dns {
                            servers: vec![ip("2001:db8:1::53")],
                            search_domains: vec!["example.org".into()],
                        },
                    }),
                ),
                event(
                    TIME,
                    What::Proposed(Proposal {
                        change: Change::Updated,
                        item: Item::LinkParameters {
                            cur_hop_limit: 64,
                            reachable_time: 30000,
                            retrans_timer: 1000,
                        },
                    }),
                ),
                event(
                    TIME + 2000,
                    What::Applied(Proposal {
                        change: Change::Created,
                        item: address.clone(),
                    }),
                ),
                event(
                    TIME + 2000,
                    What::Failed {
                        proposal: Proposal {
                            change: Change::Updated,
                            item: Item::Mtu { mtu: 9000 },
                        },
                        error: "MTU 9000 is above the link's 1500".into(),
                    },
                ),
                event(
                    TIME + 5000,
                    What::Dropped {
                        reason: "source-not-link-local".into(),
                        limit: false,
                        source: Some(ip("2001:db8::99")),
                        count: 1,
                    },
                ),
                event(
                    TIME + 5000,
                    What::Dropped {
                        reason: "dns-servers-limit".into(),
                        limit: true,
                        source: None,
                        count: 1,
                    },
                ),
                Event {
                    if_index: 7,
                    if_name: String::new(),
                    ..event(
                        TIME + 9000,
                        What::Proposed(Proposal {
                            change: Change::Withdrawn,
                            item: Item::Address {
                                address: ip("2001:db8:1::a"),
                                prefix_length: 64,
                                valid_lifetime: 0,
                                preferred_lifetime: 0,
                                temporary: false,
                            },
                        }),
                    )
                },
                event(
                    TIME + 12000,
                    What::Dropped {
                        reason: "hop-limit-not-255".into(),
                        limit: false,
                        source: Some(ip("fe80::66")),
                        count: 1,
                    },
                ),
                event(
                    TIME + 12000,
                    What::Dropped {
                        reason: "engine-busy".into(),
                        limit: false,
                        source: Some(ip("fe80::5")),
                        count: 37,
                    },
                ),
                event(
                    TIME + 12000,
                    What::Dropped {
                        reason: "fragmented".into(),
                        limit: false,
                        source: Some(ip("fe80::67")),
                        count: 1,
                    },
                ),
                // The frontend tells drops on interfaces it does not manage
                // by index alone.
                Event {
                    if_index: 5,
                    if_name: String::new(),
                    ..event(
                        TIME + 12000,
                        What::Dropped {
                            reason: "interface-not-managed".into(),
                            limit: false,
                            source: Some(ip("fe80::1")),
                            count: 2,
                        },
                    )
                },
            ],
        }
    }

    #[test]
    fn golden_text() {
        let expected = include_str!("../../tests/golden/monitor.txt");
        assert_eq!(render(&sample(), &WallClock::fixed_utc(0)), expected);
    }

    #[test]
    fn nothing_lost_no_line() {
        let batch = Batch {
            lost: 0,
            events: vec![event(TIME, What::Solicitation)],
        };
        assert_eq!(
            render(&batch, &WallClock::fixed_utc(0)),
            "2026-11-27 21:30:05.123 eth0 sending a Router Solicitation\n"
        );
    }
}
