//! What is printed: one block per phase as it ends, and the figures against their targets.

use crate::load::Phase;
use std::time::Duration;

/// A target: the figure must be at least, or below, a bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
    /// No target; the figure is reported for information.
    None,
}

impl Target {
    pub fn met(self, v: f64) -> Option<bool> {
        match self {
            Target::AtLeast(t) => Some(v >= t),
            Target::Below(t) => Some(v < t),
            Target::AtMost(t) => Some(v <= t),
            Target::None => None,
        }
    }
}

/// One line of the final table.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: &'static str,
    pub figure: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Target,
}

/// Everything measured in this run.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Failed requests over every phase (busy answers are not failures).
    pub errors: u64,
}

/// A number with a sensible number of decimals for its size.
pub fn num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    pub fn add(
        &mut self,
        scenario: &'static str,
        figure: impl Into<String>,
        value: f64,
        unit: &'static str,
        target: Target,
    ) {
        self.rows.push(Row { scenario, figure: figure.into(), value, unit, target });
    }

    /// Prints a phase's block and counts its errors.
    pub fn phase(&mut self, title: &str, p: &Phase, rss_mib: Option<f64>) {
        let r = &p.rec;
        self.errors += r.errors;
        println!("== {title}");
        println!(
            "   {} requests in {:.2} s: ok {} ({}/s), busy {}, errors {}{}",
            r.requests(),
            p.elapsed.as_secs_f64(),
            r.ok,
            num(p.rate(r.ok)),
            r.busy,
            r.errors,
            if r.polls > 0 { format!(", job polls {} ({}/s)", r.polls, num(p.rate(r.polls))) } else { String::new() }
        );
        if !r.latency.is_empty() {
            println!("   latency      {}", r.latency.summary());
        }
        if !r.poll_latency.is_empty() {
            println!("   poll latency {}", r.poll_latency.summary());
        }
        if r.completions > 0 || r.failed_jobs > 0 {
            println!(
                "   completed {} ({}/s), failed jobs {}; request-to-SUCCESS {}",
                r.completions,
                num(p.rate(r.completions)),
                r.failed_jobs,
                r.e2e.summary()
            );
        }
        for e in &r.error_samples {
            println!("   error: {e}");
        }
        if let Some(c) = p.cpu {
            println!("   cpu (cores): ecsd {:.2}, load generator {:.2}", c.ecsd, c.bench);
        }
        if let Some(m) = rss_mib {
            println!("   ecsd RSS {m:.1} MiB");
        }
    }

    /// The final table: each figure, its target and PASS/MISS.
    pub fn print_table(&self) {
        println!();
        println!("{:<18} {:<44} {:>14}  {:<14} result", "scenario", "figure", "value", "target");
        for r in &self.rows {
            let target = match r.target {
                Target::AtLeast(t) => format!(">= {} {}", num(t), r.unit),
                Target::Below(t) => format!("< {} {}", num(t), r.unit),
                Target::AtMost(t) => format!("<= {} {}", num(t), r.unit),
                Target::None => "-".into(),
            };
            let verdict = match r.target.met(r.value) {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "",
            };
            println!(
                "{:<18} {:<44} {:>14}  {:<14} {verdict}",
                r.scenario,
                r.figure,
                format!("{} {}", num(r.value), r.unit),
                target
            );
        }
        println!("failed requests: {}", self.errors);
    }
}

/// Milliseconds as a float, for table rows.
pub fn as_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_the_right_way() {
        assert_eq!(Target::AtLeast(40_000.0).met(40_000.0), Some(true));
        assert_eq!(Target::AtLeast(40_000.0).met(39_999.0), Some(false));
        assert_eq!(Target::Below(5.0).met(4.99), Some(true));
        assert_eq!(Target::Below(5.0).met(5.0), Some(false));
        assert_eq!(Target::AtMost(2.0).met(2.0), Some(true));
        assert_eq!(Target::None.met(1.0), None);
    }

    #[test]
    fn numbers_round_by_size() {
        assert_eq!(num(41234.6), "41235");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(1.2345), "1.23");
    }
}
