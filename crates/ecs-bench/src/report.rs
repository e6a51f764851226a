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

/// One measurement: a line of the final table, or one repetition of it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The store ecsd ran on (`sqlite`, `postgres`), or what a comparison compares.
    pub store: &'static str,
    pub scenario: &'static str,
    pub figure: String,
    pub value: f64,
    pub unit: &'static str,
    pub target: Target,
    /// For a figure derived from others (a ratio), the range it can take over their
    /// repetitions, shown as its spread.
    pub range: Option<(f64, f64)>,
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
        self.rows.push(Row { store: "", scenario, figure: figure.into(), value, unit, target, range: None });
    }

    /// Takes in the rows of a run on one store, labelled with it.
    pub fn absorb(&mut self, store: &'static str, other: Report) {
        self.errors += other.errors;
        self.rows.extend(other.rows.into_iter().map(|r| Row { store, ..r }));
    }

    /// The figures, each repetition of one folded into one line (in the order they first
    /// appeared).
    pub fn folded(&self) -> Vec<Folded> {
        let mut out: Vec<Folded> = Vec::new();
        for r in &self.rows {
            match out
                .iter_mut()
                .find(|f| f.row.store == r.store && f.row.scenario == r.scenario && f.row.figure == r.figure)
            {
                Some(f) => f.values.push(r.value),
                None => out.push(Folded { row: r.clone(), values: vec![r.value] }),
            }
        }
        out
    }

    /// The repetitions of the figure of `store`'s `scenario` whose name starts with `figure`.
    pub fn find(&self, store: &str, scenario: &str, figure: &str) -> Option<Folded> {
        self.folded()
            .into_iter()
            .find(|f| f.row.store == store && f.row.scenario == scenario && f.row.figure.starts_with(figure))
    }

    /// Adds `a / b` for each pair of repetitions (the i-th of each, measured one after the
    /// other), which the table folds into their median and range.
    pub fn ratio_pairs(&mut self, scenario: &'static str, figure: &str, a: &Folded, b: &Folded, target: Target) {
        for (x, y) in a.values.iter().zip(&b.values) {
            self.add(scenario, figure, x / y, "x", target);
        }
    }

    /// Adds `a / b` (of their medians), with the range it takes over their repetitions
    /// (smallest `a` over largest `b` to largest over smallest).
    pub fn ratio(&mut self, scenario: &'static str, figure: impl Into<String>, a: &Folded, b: &Folded, target: Target) {
        let (a_lo, a_hi) = a.bounds();
        let (b_lo, b_hi) = b.bounds();
        self.rows.push(Row {
            store: "",
            scenario,
            figure: figure.into(),
            value: a.median() / b.median(),
            unit: "x",
            target,
            range: (a.values.len() > 1 || b.values.len() > 1).then(|| (a_lo / b_hi, a_hi / b_lo)),
        });
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

    /// The final table: each figure (the median of its repetitions, and their range), its
    /// target and PASS/MISS (of the median).
    pub fn print_table(&self) {
        println!();
        println!(
            "{:<10} {:<22} {:<50} {:>14}  {:<22} {:<14} result",
            "store", "scenario", "figure", "value", "spread (n)", "target"
        );
        for f in self.folded() {
            let r = Row { value: f.median(), ..f.row.clone() };
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
                "{:<10} {:<22} {:<50} {:>14}  {:<22} {:<14} {verdict}",
                r.store,
                r.scenario,
                r.figure,
                format!("{} {}", num(r.value), r.unit),
                f.spread(),
                target
            );
        }
        println!("failed requests: {}", self.errors);
    }
}

/// The repetitions of one figure.
#[derive(Debug, Clone)]
pub struct Folded {
    /// The first repetition (its value is not the figure's; see [`Folded::median`]).
    pub row: Row,
    pub values: Vec<f64>,
}

impl Folded {
    /// The middle value (the mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    /// The smallest and largest repetition.
    pub fn bounds(&self) -> (f64, f64) {
        let lo = self.values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    /// `min-max (n) ±x%` of the repetitions (half the range over the median), or `-` for one;
    /// a ratio's range as `min-max`.
    pub fn spread(&self) -> String {
        if let Some((lo, hi)) = self.row.range {
            return format!("{}-{}", num(lo), num(hi));
        }
        if self.values.len() < 2 {
            return "-".into();
        }
        let (lo, hi) = self.bounds();
        let m = self.median();
        let pct = if m != 0.0 { (hi - lo) / 2.0 / m.abs() * 100.0 } else { 0.0 };
        format!("{}-{} ({}) ±{pct:.0}%", num(lo), num(hi), self.values.len())
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
    fn repetitions_fold_into_a_median_and_a_range() {
        let mut run = Report::default();
        for v in [10.0, 30.0, 20.0] {
            run.add("get-job", format!("throughput ({} jobs)", 5), v, "req/s", Target::None);
        }
        run.add("get-job", "p50 latency", 1.0, "ms", Target::None);
        let mut all = Report::default();
        all.absorb("sqlite", run);
        let f = all.folded();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].median(), 20.0);
        assert_eq!(f[0].spread(), "10.0-30.0 (3) ±50%");
        assert_eq!(f[1].spread(), "-");
        assert_eq!(all.find("sqlite", "get-job", "throughput").map(|f| f.median()), Some(20.0));
        assert!(all.find("postgres", "get-job", "throughput").is_none());
        let mut cmp = Report::default();
        let one = Folded { row: f[1].row.clone(), values: vec![2.0] };
        cmp.ratio("get-job", "a / b", &f[0], &one, Target::AtMost(2.0));
        let r = &cmp.folded()[0];
        assert_eq!(r.median(), 10.0);
        assert_eq!(r.spread(), "5.00-15.0");
        let mut pairs = Report::default();
        let b = Folded { row: f[1].row.clone(), values: vec![5.0, 10.0, 10.0] };
        pairs.ratio_pairs("x", "a / b", &f[0], &b, Target::None);
        let p = &pairs.folded()[0];
        assert_eq!(p.values, vec![2.0, 3.0, 2.0]);
        assert_eq!(p.median(), 2.0);
        let even = Folded { row: f[1].row.clone(), values: vec![4.0, 1.0, 2.0, 3.0] };
        assert_eq!(even.median(), 2.5);
    }

    #[test]
    fn numbers_round_by_size() {
        assert_eq!(num(41234.6), "41235");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(1.2345), "1.23");
    }
}
