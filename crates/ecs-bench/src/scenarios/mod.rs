//! The scenarios and the state they share: the running ecsd, what the store holds, the report.

pub mod get_job;
pub mod get_job_1m;
pub mod get_job_create;
pub mod get_server;
pub mod list_servers;
pub mod pgbench;
pub mod reinstall;
pub mod startup;
pub mod vm;

use crate::ecsd_process::{EcsdProcess, Launch};
use crate::load::{GetWorker, Limits, Phase};
use crate::populate::{self, Dataset, Fill};
use crate::report::Report;
use crate::signer::Signer;
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the reinstall scenarios authenticate the new OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Credential {
    /// `adminpass`: ecsd hashes it (SHA-512-crypt) while accepting the request.
    Password,
    /// `keyname` + `userid`: a key pair created once up front.
    Keypair,
}

/// The sizes and limits every scenario reads (from the command line, scaled down by `--smoke`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    pub connections: usize,
    /// Servers of the small dataset (~1k jobs) the GET baselines run on.
    pub small_servers: usize,
    /// Servers in the store for `list-servers` (and the RSS figure).
    pub servers: usize,
    /// Jobs in the store for `get-job-1m` and `startup`.
    pub jobs: u64,
    /// Servers the reinstall scenarios spread their requests over (at least).
    pub reinstall_servers: usize,
    /// Reinstalls kept in flight by `reinstall-e2e`.
    pub in_flight: usize,
    /// How often an in-flight job is polled.
    pub poll: Duration,
    pub fill: Fill,
    /// Concurrent batch stop/start lanes when making jobs.
    pub job_lanes: usize,
    pub credential: Credential,
    /// How long the memory is followed after the held jobs' burst has run (10 s; 1 s in a
    /// smoke run).
    pub settle: Duration,
}

/// Everything a scenario works with.
pub struct Bench {
    pub s: Settings,
    pub launch: Launch,
    pub ecsd: EcsdProcess,
    pub data: Dataset,
    pub report: Report,
    /// `get-job` at the small dataset: the reference `get-job-1m` compares against, and how
    /// many jobs the store held then.
    pub get_job_baseline: Option<(crate::histogram::Summary, u64)>,
    /// On PostgreSQL: where to read its commit count.
    pub pg_stats: Option<crate::pg_stats::PgStats>,
    /// On PostgreSQL: pgbench on the same server.
    pub pgbench: Option<pgbench::Pgbench>,
    /// `ecs-baseline`, which each scenario is measured against right after its own phase
    /// (`None`: `--no-baseline`).
    pub baseline: Option<std::path::PathBuf>,
}

impl Bench {
    pub fn addr(&self) -> SocketAddr {
        self.ecsd.endpoint
    }

    pub fn primary(&self) -> Arc<Signer> {
        self.data.projects[0].signer.clone()
    }

    /// ecsd's resident memory now; a failure to read it is reported, not fatal.
    pub fn rss(&self) -> Option<f64> {
        match self.ecsd.rss_mib() {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("cannot read ecsd's memory: {e:#}");
                None
            }
        }
    }

    /// Makes sure the store holds at least `n` servers (through the API).
    pub async fn ensure_servers(&mut self, n: usize) -> Result<()> {
        let addr = self.addr();
        populate::servers(addr, &mut self.data, n, self.s.fill).await
    }

    /// Makes sure this run has created at least `n` jobs (through the API).
    pub async fn ensure_jobs(&mut self, n: u64) -> Result<()> {
        let missing = n.saturating_sub(self.data.jobs);
        if missing == 0 {
            return Ok(());
        }
        // Batch stop/start needs a group of 1000 servers of the first project per lane; no more
        // lanes than requests, so that a small top-up does not create thousands of servers.
        let requests = missing.div_ceil(1 + populate::ACTION_BATCH as u64);
        let lanes = usize::try_from(requests).unwrap_or(usize::MAX).min(self.s.job_lanes).max(1);
        let want = (lanes * populate::ACTION_BATCH).min(populate::PER_PROJECT);
        let have = self.data.projects[0].servers.len();
        if have < want {
            self.ensure_servers(self.data.servers() + want - have).await?;
        }
        let addr = self.addr();
        let fill = Fill { concurrency: lanes, ..self.s.fill };
        populate::jobs(addr, &mut self.data, n, fill).await
    }

    /// The GET job paths the job scenarios use: the first `n` finished single-server jobs.
    pub fn job_paths(&self, n: usize) -> Arc<Vec<String>> {
        Arc::new(self.data.finished_jobs.iter().take(n).map(|id| format!("/v1/{{p}}/jobs/{id}")).collect())
    }

    /// One signed GET of `path`: the answer a read baseline serves (same bytes, same size).
    pub async fn sample(&self, path: &str) -> Result<bytes::Bytes> {
        let mut conn = crate::conn::Conn::new(self.addr());
        let a = conn.send(self.primary().request(http::Method::GET, path, bytes::Bytes::new())?).await?;
        if a.status != 200 {
            anyhow::bail!("GET {path}: {} {}", a.status, a.text());
        }
        Ok(a.body)
    }

    /// Runs GET workers over `paths` and prints the phase.
    pub async fn get_phase(&mut self, title: &str, paths: Arc<Vec<String>>) -> Result<Phase> {
        self.get_phase_on(title, paths, self.s.connections).await
    }

    /// [`Bench::get_phase`] with `connections` workers.
    pub async fn get_phase_on(&mut self, title: &str, paths: Arc<Vec<String>>, connections: usize) -> Result<Phase> {
        let workers = GetWorker::many(connections, &self.primary(), &paths);
        let phase = crate::load::run(self.addr(), workers, self.s.limits, self.ecsd.pid()).await?;
        let rss = self.rss();
        self.report.phase(title, &phase, rss);
        Ok(phase)
    }
}
