//! When to send Router Solicitations on one interface: RFC 7559 exponential
//! backoff with jitter, and a floor of one solicitation per 4 seconds.
//!
//! Probing starts at interface creation (if running), on every link-up and
//! when a lifetime is about to end; the first solicitation goes out at once
//! (or as soon as the 4 s floor allows), then after about 4, 8, 16 ... seconds
//! up to about an hour, until a Router Advertisement arrives. This module only
//! decides; it must never send anything itself or read a clock.

use std::time::{Duration, Instant};

use rand::RngExt;
use rand::rngs::SmallRng;

/// RFC 4861 RTR_SOLICITATION_INTERVAL; also RFC 7559's IRT, and the minimum
/// spacing of two solicitations that the engine decides on its own.
pub(crate) const SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// RFC 7559 MRT: the backoff stops growing at one hour.
pub(crate) const MAX_SOLICITATION_INTERVAL: Duration = Duration::from_secs(3600);
/// RFC 7559 RAND range, as a fraction of the interval.
const JITTER: f64 = 0.1;

#[derive(Debug, Clone, Default)]
pub(crate) struct Solicitor {
    last_sent: Option<Instant>,
    /// When the next solicitation is due, while probing.
    next: Option<Instant>,
    /// The retransmission time used after the next solicitation.
    interval: Duration,
}

impl Solicitor {
    /// Starts probing from the first interval, even if already probing (a
    /// link-up restarts the backoff). Returns whether to send one now.
    pub(crate) fn start(&mut self, now: Instant) -> bool {
        self.interval = SOLICITATION_INTERVAL;
        self.next = Some(self.earliest_allowed(now));
        self.poll(now, None)
    }

    /// Starts probing unless it already is. Returns whether to send one now.
    pub(crate) fn start_if_idle(&mut self, now: Instant) -> bool {
        if self.next.is_some() {
            return false;
        }
        self.start(now)
    }

    /// A Router Advertisement arrived, or the link went down: stop probing.
    pub(crate) fn stop(&mut self) {
        self.next = None;
    }

    /// An explicit request (slaacctl): send now regardless of the floor; the
    /// probing schedule is left as it is.
    pub(crate) fn sent_on_request(&mut self, now: Instant) {
        self.last_sent = Some(now);
    }

    /// Whether solicitations are being sent (no advertisement yet).
    pub(crate) fn is_probing(&self) -> bool {
        self.next.is_some()
    }

    pub(crate) fn timeout(&self) -> Option<Instant> {
        self.next
    }

    /// Whether a solicitation is due at `now`; if so it counts as sent and
    /// the next one is scheduled with backoff. `rng` gives the jitter; without
    /// one (at start) the interval is taken as is.
    pub(crate) fn poll(&mut self, now: Instant, rng: Option<&mut SmallRng>) -> bool {
        match self.next {
            Some(next) if next <= now => {}
            _ => return false,
        }
        if self.earliest_allowed(now) > now {
            self.next = Some(self.earliest_allowed(now));
            return false;
        }
        let jitter = rng.map_or(0.0, |rng| rng.random_range(-JITTER..=JITTER));
        let wait = self
            .interval
            .mul_f64(1.0 + jitter)
            .max(SOLICITATION_INTERVAL);
        self.next = Some(now + wait);
        // RFC 7559: RT = 2 * RT, and once past MRT, MRT with jitter.
        self.interval = (self.interval * 2).min(MAX_SOLICITATION_INTERVAL);
        self.last_sent = Some(now);
        true
    }

    fn earliest_allowed(&self, now: Instant) -> Instant {
        self.last_sent
            .map_or(now, |last| (last + SOLICITATION_INTERVAL).max(now))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_an_hour_and_never_faster_than_4_s() {
        let start = Instant::now();
        let mut rng = SmallRng::seed_from_u64(1);
        let mut solicitor = Solicitor::default();
        assert!(solicitor.start(start));
        let mut sent = vec![start];
        while sent.len() < 20 {
            let next = solicitor.timeout().unwrap();
            assert!(solicitor.poll(next, Some(&mut rng)));
            sent.push(next);
        }
        let gaps: Vec<f64> = sent
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        assert!((4.0..=4.4).contains(&gaps[0]), "{gaps:?}");
        assert!((7.2..=8.8).contains(&gaps[1]), "{gaps:?}");
        assert!((14.4..=17.6).contains(&gaps[2]), "{gaps:?}");
        assert!(
            gaps.iter().all(|&gap| (4.0..=3960.0).contains(&gap)),
            "{gaps:?}"
        );
        assert!(gaps[19 - 1] >= 3240.0, "{gaps:?}");
    }

    #[test]
    fn an_advertisement_stops_probing_and_link_up_restarts_it_under_the_floor() {
        let start = Instant::now();
        let mut solicitor = Solicitor::default();
        assert!(solicitor.start(start));
        solicitor.stop();
        assert_eq!(solicitor.timeout(), None);
        // A link-up one second later must wait for the 4 s floor.
        assert!(!solicitor.start(start + Duration::from_secs(1)));
        assert_eq!(solicitor.timeout(), Some(start + SOLICITATION_INTERVAL));
        assert!(solicitor.poll(start + SOLICITATION_INTERVAL, None));
    }

    #[test]
    fn a_request_sends_regardless_and_counts_for_the_floor() {
        let start = Instant::now();
        let mut solicitor = Solicitor::default();
        solicitor.sent_on_request(start);
        assert!(!solicitor.start_if_idle(start + Duration::from_secs(2)));
        assert!(solicitor.timeout().is_some());
        assert!(!solicitor.start_if_idle(start + Duration::from_secs(3)));
        assert_eq!(solicitor.timeout(), Some(start + SOLICITATION_INTERVAL));
    }
}
