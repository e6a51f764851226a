//! Latency recording (HdrHistogram, microsecond resolution) and the percentiles we report.

use hdrhistogram::Histogram;
use std::fmt;
use std::time::Duration;

/// Highest latency the histogram can hold; anything slower is clamped to it (and shows up as
/// the max, which is what matters for a figure that slow).
const HIGHEST_US: u64 = 600 * 1_000_000;

/// A latency histogram in microseconds, 3 significant digits (0.1 % relative error).
#[derive(Clone)]
pub struct Latencies {
    h: Histogram<u64>,
}

/// The figures printed per scenario.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    pub count: u64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    pub fn new() -> Self {
        // The bounds are constants within hdrhistogram's documented limits (low >= 1,
        // high >= 2 * low, sigfig <= 5), so construction cannot fail.
        let h = Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("constant histogram bounds are valid");
        Latencies { h }
    }

    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, HIGHEST_US);
        // In range by the clamp above, so this cannot fail.
        self.h.saturating_record(us);
    }

    /// Adds another histogram's samples (one per worker, merged at the end of a phase).
    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so `add` cannot fail; saturate rather than panic anyway.
        if self.h.add(&other.h).is_err() {
            for v in other.h.iter_recorded() {
                self.h.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.h.len()
    }

    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    /// The value at quantile `q` (0.0..=1.0).
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.h.value_at_quantile(q))
    }

    pub fn summary(&self) -> Summary {
        if self.h.is_empty() {
            return Summary::default();
        }
        Summary {
            count: self.h.len(),
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            max: Duration::from_micros(self.h.max()),
        }
    }
}

/// Milliseconds with enough digits for sub-millisecond latencies.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 1000.0 {
        format!("{v:.1} ms")
    } else {
        format!("{:.2} s", v / 1000.0)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p50 {}  p90 {}  p99 {}  max {}", ms(self.p50), ms(self.p90), ms(self.p99), ms(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// Within hdrhistogram's 3-significant-digit bucket of the exact value.
    fn close(a: Duration, b: Duration) -> bool {
        let (a, b) = (a.as_micros() as f64, b.as_micros() as f64);
        (a - b).abs() <= b * 0.001 + 1.0
    }

    #[test]
    fn percentiles_of_a_uniform_range() {
        let mut h = Latencies::new();
        for i in 1..=10_000 {
            h.record(us(i));
        }
        let s = h.summary();
        assert_eq!(s.count, 10_000);
        assert!(close(s.p50, us(5_000)), "{s:?}");
        assert!(close(s.p90, us(9_000)), "{s:?}");
        assert!(close(s.p99, us(9_900)), "{s:?}");
        assert!(close(s.max, us(10_000)), "{s:?}");
    }

    #[test]
    fn a_slow_tail_moves_p99_but_not_p50() {
        let mut h = Latencies::new();
        for _ in 0..980 {
            h.record(us(100));
        }
        for _ in 0..20 {
            h.record(Duration::from_millis(50));
        }
        let s = h.summary();
        assert!(close(s.p50, us(100)));
        assert!(close(s.p90, us(100)));
        assert!(close(s.p99, Duration::from_millis(50)), "{s:?}");
    }

    #[test]
    fn merging_adds_counts_and_keeps_extremes() {
        let (mut a, mut b) = (Latencies::new(), Latencies::new());
        a.record(us(10));
        b.record(us(20));
        b.record(Duration::from_secs(3));
        a.merge(&b);
        assert_eq!(a.len(), 3);
        assert!(close(a.summary().max, Duration::from_secs(3)));
    }

    #[test]
    fn out_of_range_values_are_clamped_not_lost() {
        let mut h = Latencies::new();
        h.record(Duration::ZERO);
        h.record(Duration::from_secs(10_000));
        assert_eq!(h.len(), 2);
        assert!(h.summary().max >= Duration::from_secs(599));
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(Latencies::new().summary(), Summary::default());
    }

    #[test]
    fn millisecond_formatting() {
        assert_eq!(ms(us(1234)), "1.23 ms");
        assert_eq!(ms(Duration::from_millis(42)), "42.0 ms");
        assert_eq!(ms(Duration::from_millis(2500)), "2.50 s");
    }
}
