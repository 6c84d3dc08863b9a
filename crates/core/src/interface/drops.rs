//! Per-interface counters of dropped advertisements and rejected entries, by
//! reason. Keys are static short names, so the map stays as small as the set
//! of reasons; it must never grow with what a packet contains.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub(crate) struct DropCounters {
    counts: BTreeMap<&'static str, u64>,
}

impl DropCounters {
    pub(crate) fn count(&mut self, reason: &'static str) {
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
