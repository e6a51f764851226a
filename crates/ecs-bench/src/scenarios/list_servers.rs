//! `list-servers`: GET /v1/{p}/cloudservers/detail?limit=100 with the full server count in the
//! store; also the populate time and ecsd's memory with that many servers.

use super::Bench;
use crate::populate::PER_PROJECT;
use crate::report::{as_ms, Target};
use anyhow::Result;
use std::sync::Arc;
use std::time::Instant;

pub async fn run(b: &mut Bench) -> Result<()> {
    let before = b.data.servers();
    let t = Instant::now();
    b.ensure_servers(b.s.servers).await?;
    let took = t.elapsed();
    let added = b.data.servers() - before;
    if added > 0 {
        let rate = added as f64 / took.as_secs_f64().max(1e-9);
        println!("   populated {added} servers in {:.1} s ({rate:.0} servers/s)", took.as_secs_f64());
        b.report.add("list-servers", format!("populate {added} servers"), took.as_secs_f64(), "s", Target::None);
        b.report.add("list-servers", "populate rate", rate, "servers/s", Target::None);
    }
    let rss_full = b.rss();
    if let Some(m) = rss_full {
        println!("   ecsd RSS {m:.1} MiB with {} servers, before the lists", b.data.servers());
    }
    let listed = b.data.projects[0].servers.len();
    let title = format!(
        "list-servers: GET /v1/{{p}}/cloudservers/detail?limit=100, {} servers in the store ({listed} in the \
         listed project; one project's /16 subnet holds at most {PER_PROJECT}), {} connections",
        b.data.servers(),
        b.s.connections
    );
    let paths = Arc::new(vec!["/v1/{p}/cloudservers/detail?limit=100".to_string()]);
    let p = b.get_phase(&title, paths.clone()).await?;
    let s = p.rec.latency.summary();
    let servers = b.data.servers();
    let n = b.s.connections;
    b.report.add("list-servers", "throughput", p.rate(p.rec.ok), "req/s", Target::None);
    b.report.add("list-servers", format!("p99 latency, {n} connections"), as_ms(s.p99), "ms", Target::AtMost(20.0));
    b.report.add("list-servers", format!("p50 latency, {n} connections"), as_ms(s.p50), "ms", Target::None);
    // One client paging alone: the latency of the query and the rendering, without the
    // queue that 64 closed-loop connections build in front of two cores.
    let one = b.get_phase_on(&format!("{title} (one connection)"), paths.clone(), 1).await?;
    let s1 = one.rec.latency.summary();
    b.report.add("list-servers", "p99 latency, one connection", as_ms(s1.p99), "ms", Target::None);
    b.report.add("list-servers", "p50 latency, one connection", as_ms(s1.p50), "ms", Target::None);
    let sample = b.sample(&paths[0]).await?;
    crate::baseline::read(b, "list-servers", &p, sample, paths, Target::None).await?;
    // The larger of the two readings: right after populating, and after the list load.
    let rss = match (rss_full, b.rss()) {
        (Some(a), Some(c)) => Some(a.max(c)),
        (a, c) => a.or(c),
    };
    if let Some(m) = rss {
        // The target is 300 MB (decimal); /proc counts KiB, so compare in MiB: 300 MB = 286.1 MiB.
        let target = 300e6 / (1024.0 * 1024.0);
        b.report.add("list-servers", format!("ecsd RSS, {servers} servers (300 MB)"), m, "MiB", Target::Below(target));
    }
    Ok(())
}
