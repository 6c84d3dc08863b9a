//! Per-interface counters of dropped advertisements and rejected entries, by
//! reason, each drop also told to the monitor. Keys are static short names
//! (those of caps end in `-limit`, see [`crate::monitor::is_limit`]), so the
//! map stays as small as the set of reasons; it must never grow with what a
//! packet contains.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use crate::context::Context;
use crate::monitor::Happening;

#[derive(Debug, Clone, Default)]
pub(crate) struct DropCounters {
    counts: BTreeMap<&'static str, u64>,
}

impl DropCounters {
    /// A whole advertisement from `source` is dropped.
    pub(crate) fn advertisement(
        &mut self,
        ctx: &mut Context<'_>,
        source: Ipv6Addr,
        reason: &'static str,
    ) {
        self.count(reason);
        ctx.monitor
            .record(|| Happening::AdvertisementDropped { source, reason });
    }

    /// One entry of an advertisement, or an address to be made from one, is
    /// rejected.
    pub(crate) fn entry(&mut self, ctx: &mut Context<'_>, reason: &'static str) {
        self.count(reason);
        ctx.monitor.record(|| Happening::EntryRejected { reason });
    }

    fn count(&mut self, reason: &'static str) {
        let count = self.counts.entry(reason).or_default();
        *count = count.saturating_add(1);
    }

    pub(crate) fn report(&self) -> Vec<(String, u64)> {
        self.counts
            .iter()
            .map(|(&reason, &count)| (reason.to_owned(), count))
            .collect()
    }
}
