//! `startup`: from process start to the first successful request, on the data directory that
//! holds the big job table (ecsd is stopped and started again on it).

use super::Bench;
use crate::conn::Conn;
use crate::ecsd_process::EcsdProcess;
use crate::report::Target;
use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::Method;
use std::time::Duration;

/// Give up waiting for the first answer after this long.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Bytes of the database and its WAL.
fn db_size(dir: &std::path::Path) -> u64 {
    ["ecsd.db", "ecsd.db-wal"].iter().filter_map(|f| std::fs::metadata(dir.join(f)).ok()).map(|m| m.len()).sum()
}

pub async fn run(b: &mut Bench) -> Result<()> {
    if b.data.jobs < b.s.jobs {
        b.ensure_jobs(b.s.jobs).await?;
    }
    let path = b.job_paths(1).first().cloned().ok_or_else(|| anyhow!("no job to request"))?;
    b.ecsd.stop(Duration::from_secs(60)).context("stopping ecsd")?;
    let size = db_size(&b.launch.data_dir);
    let launch = b.launch.clone();
    // Spawning and reading the banner block; keep them off the runtime's worker threads.
    let proc = tokio::task::spawn_blocking(move || EcsdProcess::start(&launch)).await??;
    b.ecsd = proc;
    b.data.set_host(&b.ecsd.endpoint.to_string());
    let signer = b.primary();
    let mut tries = 0u64;
    let up = loop {
        tries += 1;
        let mut conn = Conn::new(b.ecsd.endpoint);
        let req = signer.request(Method::GET, &path, Bytes::new())?;
        if let Ok(a) = conn.send(req).await {
            if a.status == 200 {
                break b.ecsd.spawned.elapsed();
            }
        }
        if b.ecsd.spawned.elapsed() > TIMEOUT {
            bail!("no successful request {TIMEOUT:?} after restarting ecsd");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let jobs = b.data.jobs;
    match &b.launch.store {
        Some(_) => println!("== startup: ecsd restarted on {jobs} jobs (in PostgreSQL)"),
        None => println!("== startup: ecsd restarted on {jobs} jobs ({:.0} MB of database)", size as f64 / 1e6),
    }
    println!(
        "   banner after {:.3} s, first 200 (GET job) after {:.3} s ({tries} tries)",
        b.ecsd.time_to_banner.as_secs_f64(),
        up.as_secs_f64()
    );
    let rss = b.rss();
    if let Some(m) = rss {
        println!("   ecsd RSS {m:.1} MiB");
    }
    b.report.add("startup", format!("start to first 200 ({jobs} jobs)"), up.as_secs_f64(), "s", Target::Below(2.0));
    b.report.add("startup", "start to banner", b.ecsd.time_to_banner.as_secs_f64(), "s", Target::None);
    Ok(())
}
