//! When to solicit again because a lifetime is about to end: a little before
//! the earliest finite expiry still ahead, so the answering advertisement can
//! refresh it in time. Pure computation; it must never send anything.

use std::time::{Duration, Instant};

use crate::lifetime::Expiry;

/// Three solicitations' worth (at the 4 s floor) before the expiry.
const RESOLICIT_LEAD: Duration = Duration::from_secs(12);

/// The resolicitation time for the earliest of `expiries` still ahead of
/// `now`; with less than twice the lead left, halfway there.
pub(crate) fn resolicit_at(now: Instant, expiries: &[Expiry]) -> Option<Instant> {
    let end = expiries
        .iter()
        .filter_map(|expiry| expiry.instant())
        .filter(|&at| at > now)
        .min()?;
    let left = end - now;
    Some(end - RESOLICIT_LEAD.min(left / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolicits_twelve_seconds_before_the_earliest_future_expiry() {
        let now = Instant::now();
        let s = Duration::from_secs;
        let expiries = [
            Expiry::At(now),
            Expiry::At(now + s(600)),
            Expiry::At(now + s(100)),
            Expiry::Never,
        ];
        assert_eq!(resolicit_at(now, &expiries), Some(now + s(88)));
        assert_eq!(
            resolicit_at(now, &[Expiry::At(now + s(10))]),
            Some(now + s(5))
        );
        assert_eq!(resolicit_at(now, &[Expiry::Never, Expiry::At(now)]), None);
    }
}
