//! `get-job-create`: GET /v1/{p}/jobs/{id} of finished create jobs of one server each, the job
//! an SDK user (or Terraform) polls after every create: the parent with its sub-job in
//! `entities.sub_jobs`.

use super::Bench;
use crate::baseline;
use crate::populate;
use crate::report::{as_ms, Target};
use anyhow::{bail, Result};
use std::sync::Arc;

/// Create jobs the GETs cycle over (made once, one create request per server).
pub const JOBS: usize = 256;

pub async fn run(b: &mut Bench) -> Result<()> {
    b.ensure_servers(b.s.small_servers).await?;
    let want = JOBS.min(b.s.small_servers);
    let missing = want.saturating_sub(b.data.create_jobs.len());
    if missing > 0 {
        let total = b.data.servers() + missing;
        let addr = b.addr();
        populate::servers_by(addr, &mut b.data, total, b.s.fill, 1).await?;
    }
    let paths: Vec<String> = b.data.create_jobs.iter().take(want).map(|id| format!("/v1/{{p}}/jobs/{id}")).collect();
    if paths.is_empty() {
        bail!("no finished create jobs to read");
    }
    let paths = Arc::new(paths);
    let sample = b.sample(&paths[0]).await?;
    let title = format!(
        "get-job-create: GET /v1/{{p}}/jobs/{{id}} over {} finished create jobs (one server, one sub-job; {} bytes), \
         {} jobs in the store, {} connections",
        paths.len(),
        sample.len(),
        b.data.jobs,
        b.s.connections
    );
    let p = b.get_phase(&title, paths.clone()).await?;
    let s = p.rec.latency.summary();
    b.report.add("get-job-create", "throughput", p.rate(p.rec.ok), "req/s", Target::None);
    b.report.add("get-job-create", "p99 latency", as_ms(s.p99), "ms", Target::Below(5.0));
    baseline::read(b, "get-job-create", &p, sample, paths, Target::AtLeast(0.45)).await
}
