//! The figures that compare across stores and with pgbench, all measured in the same run (the
//! machine's absolute speed moves from hour to hour; ratios within one run do not).

use crate::report::{Report, Target};

/// The label of the comparison rows in the table.
pub const LABEL: &str = "pg vs";

/// The reinstall scenarios whose acceptances are compared with pgbench's transactions.
const ACCEPTS: [&str; 2] = ["reinstall-accept", "reinstall-accept-held"];

/// Adds every comparison the run has both sides of.
pub fn add(all: &mut Report) {
    let mut out = Report::default();
    let pair = |scenario: &str, figure: &str| {
        Some((all.find("postgres", scenario, figure)?, all.find("sqlite", scenario, figure)?))
    };
    if let Some((pg, sq)) = pair("get-job", "p50 latency") {
        out.ratio("get-job", "p50 PostgreSQL / SQLite", &pg, &sq, Target::AtMost(2.0));
    }
    if let Some((pg, sq)) = pair("get-job", "throughput") {
        out.ratio("get-job", "throughput SQLite / PostgreSQL", &sq, &pg, Target::AtMost(2.0));
    }
    // Each acceptance phase with the pgbench run right after it.
    for scenario in ACCEPTS {
        let tps = all.find("postgres", "pgbench", &format!("tps after {scenario} "));
        if let (Some(acc), Some(tps)) = (all.find("postgres", scenario, "durable acceptances"), tps) {
            out.ratio_pairs(scenario, "acceptances / pgbench simple-update TPS", &acc, &tps, Target::AtLeast(0.5));
        }
    }
    for scenario in ACCEPTS {
        if let Some((pg, sq)) = pair(scenario, "durable acceptances") {
            out.ratio(scenario, "acceptances PostgreSQL / SQLite", &pg, &sq, Target::None);
        }
    }
    all.absorb(LABEL, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_what_both_sides_measured() {
        let mut all = Report::default();
        let mut sq = Report::default();
        sq.add("get-job", "throughput (10 jobs)", 40_000.0, "req/s", Target::None);
        sq.add("get-job", "p50 latency", 1.0, "ms", Target::None);
        let mut pg = Report::default();
        pg.add("get-job", "throughput (10 jobs)", 10_000.0, "req/s", Target::None);
        pg.add("get-job", "p50 latency", 1.5, "ms", Target::None);
        pg.add("reinstall-accept-held", "durable acceptances (200)", 600.0, "/s", Target::None);
        pg.add("pgbench", "tps after reinstall-accept-held (-c 64 -j 2 -s 1)", 1000.0, "/s", Target::None);
        all.absorb("sqlite", sq);
        all.absorb("postgres", pg);
        add(&mut all);
        let rows: Vec<(String, f64, Option<bool>)> = all
            .folded()
            .into_iter()
            .filter(|f| f.row.store == LABEL)
            .map(|f| (f.row.figure.clone(), f.median(), f.row.target.met(f.median())))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("p50 PostgreSQL / SQLite".to_string(), 1.5, Some(true)),
                ("throughput SQLite / PostgreSQL".to_string(), 4.0, Some(false)),
                ("acceptances / pgbench simple-update TPS".to_string(), 0.6, Some(true)),
            ]
        );
    }
}
