//! Lifetimes as points in time, and the two rules that turn advertised
//! lifetimes into kernel updates: RFC 4862 5.5.3(e) (the two-hour rule) and
//! the refresh rule that keeps kernel lifetimes from lapsing without churn.
//!
//! The refresh rule. The kernel holds each lifetime as "seconds from when we
//! last sent it"; the engine holds the advertised expiry. A proposal is sent
//! again only when
//! - it is new, or a non-lifetime value changed (e.g. the router preference),
//!   or a lifetime switched between finite and infinite;
//! - an advertised expiry moved *earlier* than the kernel's by more than
//!   [`EXPIRY_TOLERANCE`] (a router shortened a lifetime: apply at once);
//! - an advertised expiry is *later* than the kernel's by more than
//!   [`EXPIRY_TOLERANCE`] and at least half of the lifetime last sent has
//!   elapsed (the refresh point). A timer fires at the refresh point too, so
//!   the kernel is refreshed even when the router falls silent.
//!
//! So RAs every 200 s with an 1800 s lifetime cause one kernel write about
//! every 900 s, and the kernel's lifetime never runs out before the advertised
//! one. Nothing here reads a clock: `now` is always a parameter.

use std::time::{Duration, Instant};

/// RFC 4861: 0xffffffff seconds is infinite.
pub(crate) const INFINITE: u32 = u32::MAX;

/// How far an advertised expiry may drift from the kernel's before it counts
/// as a change. It absorbs routers that advertise decreasing lifetimes and
/// the whole-second rounding of lifetimes.
pub(crate) const EXPIRY_TOLERANCE: Duration = Duration::from_secs(5);

/// RFC 4862 5.5.3(e): two hours, in seconds.
const TWO_HOURS: u32 = 2 * 60 * 60;

/// When a lifetime ends. `At` orders before `Never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Expiry {
    At(Instant),
    Never,
}

impl Expiry {
    /// The expiry of a lifetime of `seconds` that starts at `now`.
    pub(crate) fn after(now: Instant, seconds: u32) -> Expiry {
        if seconds == INFINITE {
            return Expiry::Never;
        }
        now.checked_add(Duration::from_secs(u64::from(seconds)))
            .map_or(Expiry::Never, Expiry::At)
    }

    /// Whole seconds left at `now` (rounded down, 0 once over; `INFINITE` for
    /// never, and at most `INFINITE - 1` otherwise).
    pub(crate) fn remaining(self, now: Instant) -> u32 {
        match self {
            Expiry::Never => INFINITE,
            Expiry::At(at) => {
                let secs = at.saturating_duration_since(now).as_secs();
                u32::try_from(secs)
                    .unwrap_or(INFINITE - 1)
                    .min(INFINITE - 1)
            }
        }
    }

    pub(crate) fn is_over(self, now: Instant) -> bool {
        matches!(self, Expiry::At(at) if at <= now)
    }

    pub(crate) fn instant(self) -> Option<Instant> {
        match self {
            Expiry::At(at) => Some(at),
            Expiry::Never => None,
        }
    }
}

/// The expiry of a lifetime of `seconds` advertised again at `now`. A zero
/// lifetime for something already over keeps its old expiry, so re-advertising
/// "deprecated" does not look like a new, later expiry.
pub(crate) fn renewed(now: Instant, seconds: u32, current: Expiry) -> Expiry {
    if seconds == 0 && current.is_over(now) {
        current
    } else {
        Expiry::after(now, seconds)
    }
}

/// Whole seconds from `since` to `now` (0 if `since` is later).
pub(crate) fn seconds_since(now: Instant, since: Instant) -> u32 {
    u32::try_from(now.saturating_duration_since(since).as_secs()).unwrap_or(u32::MAX)
}

/// RFC 4862 5.5.3(e): the valid lifetime of an existing address after a
/// Prefix Information option advertises `received` seconds. A long or
/// lengthening lifetime is taken as is; a short one may cut the remaining
/// lifetime down to two hours but never below (so a forged RA cannot expire
/// an address quickly); a valid lifetime 0 is just the shortest case.
pub(crate) fn two_hour_rule(now: Instant, received: u32, current: Expiry) -> Expiry {
    let advertised = Expiry::after(now, received);
    if received > TWO_HOURS || advertised > current {
        return advertised;
    }
    if current.remaining(now) <= TWO_HOURS {
        return current;
    }
    Expiry::after(now, TWO_HOURS)
}

/// One lifetime as the kernel holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KernelLifetime {
    pub(crate) sent_at: Instant,
    pub(crate) expiry: Expiry,
}

impl KernelLifetime {
    /// The lifetime just sent as "`expiry` from `now`".
    pub(crate) fn sent(now: Instant, expiry: Expiry) -> KernelLifetime {
        // Store what the kernel really got: whole seconds from now. A lifetime
        // already over keeps its own expiry, so sending "0" again later does
        // not look like a change.
        let expiry = match expiry.remaining(now) {
            0 => expiry,
            remaining => Expiry::after(now, remaining),
        };
        KernelLifetime {
            sent_at: now,
            expiry,
        }
    }

    /// Halfway through the lifetime last sent; `None` if it is infinite.
    fn refresh_point(self) -> Option<Instant> {
        let end = self.expiry.instant()?;
        Some(self.sent_at + end.saturating_duration_since(self.sent_at) / 2)
    }

    /// Whether the kernel must be told `wanted` now (see the module doc).
    pub(crate) fn needs_update(self, now: Instant, wanted: Expiry) -> bool {
        match (self.expiry, wanted) {
            (Expiry::Never, Expiry::Never) => false,
            (Expiry::Never, Expiry::At(_)) | (Expiry::At(_), Expiry::Never) => true,
            (Expiry::At(kernel), Expiry::At(wanted)) => {
                wanted + EXPIRY_TOLERANCE < kernel
                    || (wanted > kernel + EXPIRY_TOLERANCE
                        && self.refresh_point().is_some_and(|point| now >= point))
            }
        }
    }

    /// When [`KernelLifetime::needs_update`] turns true with no new input,
    /// if it will.
    pub(crate) fn refresh_due(self, wanted: Expiry) -> Option<Instant> {
        match (self.expiry, wanted) {
            (Expiry::At(kernel), Expiry::At(wanted)) if wanted > kernel + EXPIRY_TOLERANCE => {
                self.refresh_point()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn infinite_stays_infinite() {
        let now = Instant::now();
        assert_eq!(Expiry::after(now, INFINITE), Expiry::Never);
        assert_eq!(Expiry::Never.remaining(now), INFINITE);
        assert!(!Expiry::Never.is_over(now));
        assert!(Expiry::At(now) < Expiry::Never);
    }

    #[test]
    fn remaining_counts_down_and_stops_at_zero() {
        let now = Instant::now();
        let expiry = Expiry::after(now, 100);
        assert_eq!(expiry.remaining(now + secs(30)), 70);
        assert_eq!(expiry.remaining(now + secs(300)), 0);
        assert!(expiry.is_over(now + secs(100)));
        assert!(!expiry.is_over(now + secs(99)));
    }

    #[test]
    fn a_zero_lifetime_again_keeps_the_old_expiry() {
        let now = Instant::now();
        let over = Expiry::At(now);
        assert_eq!(renewed(now + secs(60), 0, over), over);
        assert_eq!(
            renewed(now + secs(60), 10, over),
            Expiry::after(now + secs(60), 10)
        );
        let running = Expiry::after(now, 100);
        assert_eq!(
            renewed(now + secs(60), 0, running),
            Expiry::At(now + secs(60))
        );
    }

    #[test]
    fn two_hour_rule_takes_long_or_lengthening_lifetimes() {
        let now = Instant::now();
        let current = Expiry::after(now, 600);
        assert_eq!(two_hour_rule(now, 7201, current), Expiry::after(now, 7201));
        assert_eq!(two_hour_rule(now, 900, current), Expiry::after(now, 900));
        assert_eq!(two_hour_rule(now, INFINITE, current), Expiry::Never);
    }

    #[test]
    fn two_hour_rule_ignores_a_short_lifetime_when_under_two_hours_remain() {
        let now = Instant::now();
        let current = Expiry::after(now, 3600);
        assert_eq!(two_hour_rule(now, 0, current), current);
        assert_eq!(two_hour_rule(now, 60, current), current);
    }

    #[test]
    fn two_hour_rule_cuts_a_long_remaining_lifetime_to_two_hours() {
        let now = Instant::now();
        let current = Expiry::after(now, 86_400);
        assert_eq!(two_hour_rule(now, 0, current), Expiry::after(now, 7200));
        assert_eq!(
            two_hour_rule(now, 60, Expiry::Never),
            Expiry::after(now, 7200)
        );
    }

    #[test]
    fn kernel_update_only_past_halfway_or_when_shortened() {
        let start = Instant::now();
        let kernel = KernelLifetime::sent(start, Expiry::after(start, 1800));
        let at = |t| start + secs(t);
        // An RA 200 s later extends the expiry by 200 s: before halfway, no update.
        assert!(!kernel.needs_update(at(200), Expiry::after(at(200), 1800)));
        // Past halfway it is refreshed.
        assert!(kernel.needs_update(at(900), Expiry::after(at(900), 1800)));
        assert_eq!(
            kernel.refresh_due(Expiry::after(at(200), 1800)),
            Some(at(900))
        );
        // A decreasing lifetime that keeps the same expiry never needs one.
        assert!(!kernel.needs_update(at(1000), Expiry::after(at(1000), 802)));
        assert_eq!(kernel.refresh_due(Expiry::after(at(1000), 800)), None);
        // A shortened one is applied at once.
        assert!(kernel.needs_update(at(10), Expiry::after(at(10), 60)));
        // A lifetime sent when already over matches itself later on.
        let deprecated = KernelLifetime::sent(at(100), Expiry::At(at(50)));
        assert!(!deprecated.needs_update(at(5000), Expiry::At(at(50))));
        // Switching to or from infinite is a change.
        assert!(kernel.needs_update(at(10), Expiry::Never));
        let forever = KernelLifetime::sent(start, Expiry::Never);
        assert!(!forever.needs_update(at(10), Expiry::Never));
        assert!(forever.needs_update(at(10), Expiry::after(at(10), 60)));
    }
}
