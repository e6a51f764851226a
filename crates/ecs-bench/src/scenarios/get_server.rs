//! `get-server`: GET /v1/{p}/cloudservers/{id} of the small dataset's servers.

use super::Bench;
use crate::baseline;
use crate::report::{as_ms, Target};
use anyhow::Result;
use std::sync::Arc;

pub async fn run(b: &mut Bench) -> Result<()> {
    b.ensure_servers(b.s.small_servers).await?;
    let paths: Vec<String> = b.data.projects[0]
        .servers
        .iter()
        .take(b.s.small_servers)
        .map(|id| format!("/v1/{{p}}/cloudservers/{id}"))
        .collect();
    let title = format!(
        "get-server: GET /v1/{{p}}/cloudservers/{{id}} over {} servers, {} in the store, {} connections",
        paths.len(),
        b.data.servers(),
        b.s.connections
    );
    let paths = Arc::new(paths);
    let p = b.get_phase(&title, paths.clone()).await?;
    let s = p.rec.latency.summary();
    b.report.add("get-server", "throughput", p.rate(p.rec.ok), "req/s", Target::None);
    b.report.add("get-server", "p99 latency", as_ms(s.p99), "ms", Target::Below(5.0));
    let Some(first) = paths.first() else { return Ok(()) };
    let sample = b.sample(first).await?;
    baseline::read(b, "get-server", &p, sample, paths, Target::AtLeast(0.45)).await
}
