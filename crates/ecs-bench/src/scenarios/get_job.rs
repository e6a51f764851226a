//! `get-job`: GET /v1/{p}/jobs/{id} of finished single-server jobs (a batch action's, or a
//! create's sub-jobs), with ~1k jobs in the store.

use super::Bench;
use crate::baseline;
use crate::report::{as_ms, Target};
use anyhow::{bail, Result};

/// Jobs the GETs cycle over (the first project's first single-server jobs).
pub const PATHS: usize = 1000;

pub async fn run(b: &mut Bench) -> Result<()> {
    b.ensure_servers(b.s.small_servers).await?;
    let paths = b.job_paths(PATHS);
    if paths.is_empty() {
        bail!("no finished jobs to read");
    }
    let jobs = b.data.jobs;
    let title = format!(
        "get-job: GET /v1/{{p}}/jobs/{{id}} over {} finished jobs, {} jobs in the store, {} connections",
        paths.len(),
        jobs,
        b.s.connections
    );
    let p = b.get_phase(&title, paths.clone()).await?;
    let s = p.rec.latency.summary();
    b.report.add("get-job", format!("throughput ({jobs} jobs)"), p.rate(p.rec.ok), "req/s", Target::None);
    b.report.add("get-job", "p99 latency", as_ms(s.p99), "ms", Target::Below(5.0));
    b.report.add("get-job", "p50 latency", as_ms(s.p50), "ms", Target::None);
    b.get_job_baseline = Some((s, jobs));
    let sample = b.sample(&paths[0]).await?;
    baseline::read(b, "get-job", &p, sample, paths, Target::AtLeast(0.45)).await
}
