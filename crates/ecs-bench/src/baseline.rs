//! The baselines each scenario is reported against: `ecs-baseline` (a child process, like ecsd)
//! measured by the same load generator, with the same requests, right after the scenario's own
//! phase. Absolute figures on a shared machine move by 2x within an hour; the ratio of two
//! phases measured seconds apart moves much less.

use crate::conn::{Answer, Conn};
use crate::load::{self, Phase, Recorder, Worker};
use crate::report::{as_ms, Target};
use crate::scenarios::Bench;
use crate::signer::Signer;
use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::Method;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// What the baseline does per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Answers every GET with a fixed body from memory.
    Read,
    /// Commits one row per POST to SQLite (group commit, `synchronous=FULL`) before answering.
    Write,
}

impl Kind {
    fn arg(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
        }
    }
}

/// A running baseline, stopped (SIGTERM, then SIGKILL) by its PID when dropped.
pub struct BaselineProcess {
    child: Option<Child>,
    pub addr: SocketAddr,
}

/// How long the baseline may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `listening: 127.0.0.1:PORT`, the one line `ecs-baseline` prints.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    line.strip_prefix("listening: ")?.trim().parse().ok()
}

impl BaselineProcess {
    /// Starts `binary` as a `kind` baseline: `input` is the body file (read) or the database's
    /// directory (write).
    pub fn start(binary: &Path, kind: Kind, input: &Path) -> Result<BaselineProcess> {
        if !binary.is_file() {
            bail!("ecs-baseline not found at {} (it is built with ecs-bench)", binary.display());
        }
        let mut cmd = Command::new(binary);
        cmd.args(["--kind", kind.arg()]);
        match kind {
            Kind::Read => cmd.arg("--body"),
            Kind::Write => cmd.arg("--dir"),
        };
        cmd.arg(input).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
        let out = child.stdout.take().ok_or_else(|| anyhow!("ecs-baseline's stdout is not piped"))?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("baseline-stdout".into())
            .spawn(move || {
                for line in BufReader::new(out).lines().map_while(std::io::Result::ok) {
                    let _ = tx.send(line);
                }
            })
            .context("cannot start the baseline's stdout reader")?;
        let mut proc = BaselineProcess { child: Some(child), addr: SocketAddr::from(([127, 0, 0, 1], 0)) };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(a) = parse_listening(&line) {
                        proc.addr = a;
                        break;
                    }
                }
                Err(_) => bail!("ecs-baseline printed no address within {START_TIMEOUT:?} (or exited)"),
            }
        }
        if !proc.addr.ip().is_loopback() {
            bail!("ecs-baseline listens on {}, not on the loopback address", proc.addr);
        }
        Ok(proc)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for BaselineProcess {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        crate::ecsd_process::signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// POSTs `body` to one path after another and expects `200` with a `job_id`: the write
/// baseline's load, the same requests the reinstall scenarios send.
pub struct PostWorker {
    signer: Arc<Signer>,
    body: Bytes,
    paths: Vec<String>,
    next: usize,
}

impl PostWorker {
    /// `n` workers, each over its own slice of `paths`.
    pub fn many(n: usize, signer: &Arc<Signer>, body: &Bytes, paths: &[String]) -> Vec<PostWorker> {
        crate::scenarios::reinstall::slices(paths, n)
            .into_iter()
            .map(|p| PostWorker { signer: signer.clone(), body: body.clone(), paths: p, next: 0 })
            .collect()
    }
}

impl Worker for PostWorker {
    async fn step(&mut self, conn: &mut Conn, rec: &mut Recorder) -> bool {
        let Some(path) = self.paths.get(self.next % self.paths.len().max(1)) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return false;
        };
        self.next = self.next.wrapping_add(1);
        let req = match self.signer.request(Method::POST, path, self.body.clone()) {
            Ok(r) => r,
            Err(e) => {
                rec.error(format!("build request: {e:#}"));
                return false;
            }
        };
        match conn.send(req).await {
            Ok(a) if a.status == 200 && has_job_id(&a) => rec.ok(&a),
            Ok(a) => rec.error(format!("baseline POST: {} {}", a.status, a.text())),
            Err(e) => {
                rec.error(format!("baseline POST: {e:#}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        true
    }
}

fn has_job_id(a: &Answer) -> bool {
    a.json().map(|v| v["job_id"].is_string()).unwrap_or(false)
}

/// Where a baseline's files go: beside ecsd's data directory.
fn work_dir(b: &Bench) -> PathBuf {
    b.launch.data_dir.with_file_name("baseline")
}

/// The read baseline answering `sample` (one of ecsd's answers) to the GETs of `paths`.
async fn measure_read(b: &mut Bench, name: &str, sample: &Bytes, paths: &Arc<Vec<String>>) -> Result<Option<Phase>> {
    let Some(binary) = b.baseline.clone() else { return Ok(None) };
    let dir = work_dir(b);
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, sample)?;
    let proc = tokio::task::spawn_blocking(move || BaselineProcess::start(&binary, Kind::Read, &file)).await??;
    let workers = load::GetWorker::many(b.s.connections, &b.primary(), paths);
    let p = load::run(proc.addr, workers, b.s.limits, proc.pid()).await?;
    drop(proc);
    let title = format!("{name} baseline: a bare axum handler answering the same {}-byte body", sample.len());
    b.report.phase(&title, &p, None);
    Ok(Some(p))
}

/// The write baseline sent the reinstall scenarios' own POSTs over `servers` (each at most once
/// when `once`, as the held scenario sends them).
async fn measure_write(
    b: &mut Bench,
    name: &str,
    servers: &[String],
    body: &Bytes,
    once: bool,
) -> Result<Option<Phase>> {
    let Some(binary) = b.baseline.clone() else { return Ok(None) };
    let dir = work_dir(b).join(name);
    // A fresh database each time: the table must not grow from one phase to the next.
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.clone();
    let proc = tokio::task::spawn_blocking(move || BaselineProcess::start(&binary, Kind::Write, &d)).await??;
    let paths: Vec<String> = servers.iter().map(|s| crate::scenarios::reinstall::path(s)).collect();
    let workers = PostWorker::many(b.s.connections, &b.primary(), body, &paths);
    let mut limits = b.s.limits;
    if once {
        limits.max_requests = limits.max_requests.min(paths.len() as u64);
    }
    let p = load::run(proc.addr, workers, limits, proc.pid()).await?;
    drop(proc);
    let _ = std::fs::remove_dir_all(&dir);
    let title = format!(
        "{name} baseline: a bare axum handler committing one row per request to SQLite (WAL, synchronous=FULL, \
         group commit)"
    );
    b.report.phase(&title, &p, None);
    Ok(Some(p))
}

/// Measures the read baseline with `scenario`'s GETs and `sample` (one of ecsd's answers in it)
/// and adds its throughput and ecsd's phase over it to `scenario`'s figures.
pub async fn read(
    b: &mut Bench,
    scenario: &'static str,
    ecsd: &Phase,
    sample: Bytes,
    paths: Arc<Vec<String>>,
    target: Target,
) -> Result<()> {
    let Some(p) = measure_read(b, scenario, &sample, &paths).await? else { return Ok(()) };
    add_ratio(b, scenario, ecsd.rate(ecsd.rec.ok), &p, target);
    b.report.add(scenario, "baseline p99 latency", as_ms(p.rec.latency.summary().p99), "ms", Target::None);
    Ok(())
}

/// Measures the write baseline with the reinstall scenarios' POSTs and adds its rate and
/// `figure` (per second, of ecsd's phase) over it to `scenario`'s figures.
pub async fn write(
    b: &mut Bench,
    scenario: &'static str,
    figure: f64,
    target: f64,
    servers: &[String],
    body: &Bytes,
    once: bool,
) -> Result<()> {
    let Some(p) = measure_write(b, scenario, servers, body, once).await? else { return Ok(()) };
    add_ratio(b, scenario, figure, &p, Target::AtLeast(target));
    Ok(())
}

/// `--scenario baseline`: the two baselines alone, with a get-job answer and the reinstall
/// request of the small dataset: what this machine gives a bare handler, to compare runs.
pub async fn alone(b: &mut Bench) -> Result<()> {
    b.ensure_servers(b.s.small_servers).await?;
    let user_id = b.ecsd.banner.get("user_id").cloned().unwrap_or_default();
    let body = crate::scenarios::reinstall::body(b.s.credential, &user_id);
    let paths = b.job_paths(crate::scenarios::get_job::PATHS);
    let Some(first) = paths.first() else { bail!("no finished jobs to read") };
    let sample = b.sample(first).await?;
    if let Some(p) = measure_read(b, "baseline-read", &sample, &paths).await? {
        b.report.add("baseline", "read: throughput", p.rate(p.rec.ok), "/s", Target::None);
        b.report.add("baseline", "read: p99 latency", as_ms(p.rec.latency.summary().p99), "ms", Target::None);
    }
    let servers: Vec<String> = b.data.projects[0].servers.iter().take(b.s.small_servers).cloned().collect();
    if let Some(p) = measure_write(b, "baseline-write", &servers, &body, false).await? {
        b.report.add("baseline", "write: durable rows", p.rate(p.rec.ok), "/s", Target::None);
        b.report.add("baseline", "write: p99 latency", as_ms(p.rec.latency.summary().p99), "ms", Target::None);
    }
    Ok(())
}

fn add_ratio(b: &mut Bench, scenario: &'static str, figure: f64, base: &Phase, target: Target) {
    let rate = base.rate(base.rec.ok);
    b.report.add(scenario, "baseline throughput", rate, "/s", Target::None);
    let ratio = if rate > 0.0 { figure / rate } else { 0.0 };
    b.report.add(scenario, "ratio to the baseline", ratio, "x", target);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_line() {
        assert_eq!(parse_listening("listening: 127.0.0.1:4567"), Some("127.0.0.1:4567".parse().unwrap()));
        assert_eq!(parse_listening("listening: nowhere"), None);
        assert_eq!(parse_listening("something else"), None);
    }
}
