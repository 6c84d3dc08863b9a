//! Order statistics of samples: median and range, percentiles.

use std::time::Duration;

/// Median, minimum and maximum of the samples, and how many there were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
    pub count: usize,
}

/// Summarizes `samples`; `None` when there are none.
pub fn summarize(samples: &[Duration]) -> Option<Summary> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let count = sorted.len();
    let median = match count {
        0 => return None,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    };
    Some(Summary {
        median,
        min: sorted[0],
        max: sorted[count - 1],
        count,
    })
}

/// The nearest-rank `q` quantile (0 < q <= 1) of `samples`; `None` when
/// there are none.
pub fn percentile(samples: &[Duration], q: f64) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn odd_and_even_counts() {
        let odd = summarize(&ms(&[5, 1, 3])).unwrap();
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.count),
            (ms(&[3])[0], ms(&[1])[0], ms(&[5])[0], 3)
        );
        let even = summarize(&ms(&[4, 1, 2, 3])).unwrap();
        assert_eq!(even.median, Duration::from_micros(2500));
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile(&hundred, 0.5), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&hundred, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&hundred, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&ms(&[7]), 0.99), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
