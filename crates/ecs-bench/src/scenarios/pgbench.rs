//! `pgbench -b simple-update` on the PostgreSQL server ecsd runs on, at the reinstall
//! scenarios' concurrency, right after each of their phases: the reference their acceptances
//! are compared with (`-i` once, before the first run).

use super::Bench;
use crate::pg_stats::PgStats;
use crate::pgbench::{self, Run, Server};
use crate::report::Target;
use anyhow::Result;

/// What a run of pgbench needs.
pub struct Pgbench {
    pub server: Server,
    /// The counts of pgbench's database.
    pub stats: PgStats,
    pub scale: u32,
    pub run: Run,
    /// Whether `pgbench -i` has made the tables.
    pub initialised: bool,
}

/// One run after the phase of `after`, a row of the report with the WAL it wrote per
/// transaction; nothing on SQLite.
pub async fn run(b: &mut Bench, after: &'static str) -> Result<()> {
    let Some(p) = b.pgbench.as_mut() else { return Ok(()) };
    let (scale, run) = (p.scale, p.run);
    // pgbench blocks, for at most `-T` seconds a run; it runs on this worker thread.
    if !p.initialised {
        tokio::task::block_in_place(|| pgbench::init(&p.server, scale))?;
        p.initialised = true;
    }
    let before = p.stats.sample().await;
    let o = tokio::task::block_in_place(|| pgbench::simple_update(&p.server, run))?;
    let wal = match (before, p.stats.sample().await, o.transactions) {
        (Some(b), Some(a), Some(n)) if n > 0 => Some(b.until(a).wal_bytes as f64 / n as f64),
        _ => None,
    };
    let threads = run.threads.min(run.clients);
    println!(
        "== pgbench -b simple-update -c {} -j {threads} -T {} (scale {scale}): {:.0} tps, latency average {}, WAL {} \
         bytes per transaction",
        run.clients,
        run.seconds,
        o.tps,
        o.latency_ms.map_or("?".into(), |l| format!("{l:.2} ms")),
        wal.map_or("?".into(), |w| format!("{w:.0}"))
    );
    let figure = format!("tps after {after} (-c {} -j {threads} -s {scale})", run.clients);
    b.report.add("pgbench", figure, o.tps, "/s", Target::None);
    if let Some(w) = wal {
        b.report.add("pgbench", "WAL bytes per transaction", w, "B", Target::None);
    }
    Ok(())
}
