//! Turns the daemon's ages ("received 12 s ago") into the local wall-clock time
//! printed by `show interface`, as `YYYY-MM-DD HH:MM:SS`, and the times of
//! `monitor`'s events into the same with milliseconds.
//!
//! The current time is read once, when the reply arrives, so every line of one
//! report uses the same "now". This module must never read the time zone other
//! than through the C library's `localtime_r`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Splits seconds since the epoch into calendar fields, in some time zone.
type Breakdown = fn(i64) -> Option<libc::tm>;

/// A fixed "now" and the time zone to show dates in.
#[derive(Clone, Copy)]
pub struct WallClock {
    now: i64,
    breakdown: Breakdown,
}

impl WallClock {
    /// The current time, shown in the local time zone.
    pub fn local_now() -> Self {
        let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        };
        WallClock {
            now,
            breakdown: local_breakdown,
        }
    }

    /// A fixed time shown in UTC, for output that must not depend on the
    /// machine it runs on.
    #[cfg(test)]
    pub fn fixed_utc(now: i64) -> Self {
        WallClock {
            now,
            breakdown: utc_breakdown,
        }
    }

    /// The date and time `age_seconds` before now. Falls back to seconds since
    /// the epoch if the C library cannot represent it.
    pub fn before(&self, age_seconds: u32) -> String {
        let then = self.now - i64::from(age_seconds);
        match (self.breakdown)(then) {
            Some(tm) => format_tm(&tm),
            None => format!("@{then}"),
        }
    }
}

impl WallClock {
    /// The date and time of an instant given in microseconds since the
    /// epoch, to the millisecond (`YYYY-MM-DD HH:MM:SS.mmm`).
    pub fn at_micros(&self, micros: u64) -> String {
        let seconds = i64::try_from(micros / 1_000_000).unwrap_or(i64::MAX);
        let millis = micros % 1_000_000 / 1000;
        match (self.breakdown)(seconds) {
            Some(tm) => format!("{}.{millis:03}", format_tm(&tm)),
            None => format!("@{seconds}.{millis:03}"),
        }
    }
}

fn format_tm(tm: &libc::tm) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        i64::from(tm.tm_year) + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[allow(
    clippy::useless_conversion,
    reason = "time_t is 64 bits here but 32 bits on some targets"
)]
fn to_time_t(seconds: i64) -> Option<libc::time_t> {
    seconds.try_into().ok()
}

fn local_breakdown(seconds: i64) -> Option<libc::tm> {
    let time = to_time_t(seconds)?;
    // SAFETY: `tm` is plain old data for which all-zero bytes are a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live locals for the duration of the call;
    // localtime_r is the thread-safe variant and keeps no reference to them.
    let result = unsafe { libc::localtime_r(&time, &mut tm) };
    (!result.is_null()).then_some(tm)
}

#[cfg(test)]
fn utc_breakdown(seconds: i64) -> Option<libc::tm> {
    let time = to_time_t(seconds)?;
    // SAFETY: `tm` is plain old data for which all-zero bytes are a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live locals for the duration of the call;
    // gmtime_r keeps no reference to them.
    let result = unsafe { libc::gmtime_r(&time, &mut tm) };
    (!result.is_null()).then_some(tm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(WallClock::fixed_utc(0).before(0), "1970-01-01 00:00:00");
        // 2026-11-27 21:30:05 UTC, 65 s earlier.
        assert_eq!(
            WallClock::fixed_utc(1_795_815_005).before(65),
            "2026-11-27 21:29:00"
        );
    }

    #[test]
    fn formats_instants_to_the_millisecond() {
        let clock = WallClock::fixed_utc(0);
        assert_eq!(
            clock.at_micros(1_795_815_005_123_456),
            "2026-11-27 21:30:05.123"
        );
        assert_eq!(clock.at_micros(999), "1970-01-01 00:00:00.000");
    }

    #[test]
    fn local_time_has_the_same_shape() {
        let text = WallClock::local_now().before(0);
        let shape: String = text
            .chars()
            .map(|c| if c.is_ascii_digit() { 'd' } else { c })
            .collect();
        assert_eq!(shape, "dddd-dd-dd dd:dd:dd", "{text}");
    }
}
