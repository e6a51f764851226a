//! `get-job-1m`: the same GET job as `get-job`, with the store grown to `--jobs` jobs, against
//! the value measured at ~1k jobs.

use super::{get_job, Bench};
use crate::histogram::ms;
use crate::report::{as_ms, Target};
use anyhow::{anyhow, Result};
use std::time::Instant;

pub async fn run(b: &mut Bench) -> Result<()> {
    if b.get_job_baseline.is_none() {
        get_job::run(b).await?;
    }
    let (base, base_jobs) = b.get_job_baseline.ok_or_else(|| anyhow!("no get-job baseline"))?;
    let before = b.data.jobs_filled;
    let t = Instant::now();
    b.ensure_jobs(b.s.jobs).await?;
    let made = b.data.jobs_filled - before;
    if made > 0 {
        let took = t.elapsed().as_secs_f64();
        println!("   made {made} jobs in {took:.1} s ({:.0} jobs/s)", made as f64 / took.max(1e-9));
        b.report.add("get-job-1m", format!("populate {made} jobs"), took, "s", Target::None);
        b.report.add("get-job-1m", "populate rate", made as f64 / took.max(1e-9), "jobs/s", Target::None);
    }
    let jobs = b.data.jobs;
    let paths = b.job_paths(get_job::PATHS);
    let title = format!(
        "get-job-1m: GET /v1/{{p}}/jobs/{{id}} over the same {} jobs, {jobs} jobs in the store, {} connections",
        paths.len(),
        b.s.connections
    );
    let p = b.get_phase(&title, paths).await?;
    let s = p.rec.latency.summary();
    let ratio = s.p99.as_secs_f64() / base.p99.as_secs_f64().max(1e-9);
    println!("   p99 {} at {jobs} jobs vs {} at {base_jobs} jobs: x{ratio:.2}", ms(s.p99), ms(base.p99));
    b.report.add("get-job-1m", format!("throughput ({jobs} jobs)"), p.rate(p.rec.ok), "req/s", Target::None);
    b.report.add("get-job-1m", format!("p99 at {base_jobs} jobs"), as_ms(base.p99), "ms", Target::None);
    b.report.add("get-job-1m", format!("p99 at {jobs} jobs"), as_ms(s.p99), "ms", Target::None);
    b.report.add("get-job-1m", "p99 ratio", ratio, "x", Target::AtMost(2.0));
    Ok(())
}
