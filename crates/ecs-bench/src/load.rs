//! The closed-loop load generator: N workers, each with its own keep-alive connection, each
//! sending its next request as soon as the previous answer is in, until the phase's deadline
//! or request budget is reached.

use crate::conn::{Answer, Conn};
use crate::cpu::{CpuSample, CpuUse};
use crate::histogram::Latencies;
use crate::signer::Signer;
use anyhow::{anyhow, Result};
use bytes::Bytes;
use http::Method;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a phase may run and how many requests it may send, whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub duration: Duration,
    pub max_requests: u64,
}

/// Error messages kept per phase (the count is always exact).
const ERROR_SAMPLES: usize = 5;

/// What one worker (and, merged, one phase) saw.
#[derive(Default, Clone)]
pub struct Recorder {
    /// Latency of the scenario's own requests (the GETs, or the reinstall POSTs).
    pub latency: Latencies,
    /// Answered as expected.
    pub ok: u64,
    /// `400 Ecs.0100`: the server was busy; expected under load, not an error.
    pub busy: u64,
    /// Anything else: wrong status, transport failure, malformed answer.
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// Job polls (reinstall scenarios), kept apart from the scenario's own requests.
    pub polls: u64,
    pub poll_latency: Latencies,
    /// Operations seen finished end to end, and how long each took from request to `SUCCESS`.
    pub completions: u64,
    pub failed_jobs: u64,
    pub e2e: Latencies,
}

impl Recorder {
    pub fn ok(&mut self, a: &Answer) {
        self.ok += 1;
        self.latency.record(a.latency);
    }

    pub fn busy(&mut self, a: &Answer) {
        self.busy += 1;
        self.latency.record(a.latency);
    }

    pub fn error(&mut self, what: impl Into<String>) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(what.into());
        }
    }

    pub fn poll(&mut self, a: &Answer) {
        self.polls += 1;
        self.poll_latency.record(a.latency);
    }

    pub fn merge(&mut self, o: &Recorder) {
        self.latency.merge(&o.latency);
        self.ok += o.ok;
        self.busy += o.busy;
        self.errors += o.errors;
        for e in &o.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(e.clone());
            }
        }
        self.polls += o.polls;
        self.poll_latency.merge(&o.poll_latency);
        self.completions += o.completions;
        self.failed_jobs += o.failed_jobs;
        self.e2e.merge(&o.e2e);
    }

    /// Requests sent, of every kind.
    pub fn requests(&self) -> u64 {
        self.ok + self.busy + self.errors + self.polls
    }
}

/// One worker's behaviour.
pub trait Worker: Send + 'static {
    /// Sends at most one request and records what came back; returns whether it sent one.
    fn step(&mut self, conn: &mut Conn, rec: &mut Recorder) -> impl Future<Output = bool> + Send;

    /// After the deadline: wait for whatever this worker left running in ecsd (not measured),
    /// so that the next phase starts on a quiet service.
    fn drain(&mut self, _conn: &mut Conn) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
}

/// A finished phase.
pub struct Phase {
    /// From the first worker's start to the last worker's deadline (drain excluded).
    pub elapsed: Duration,
    pub rec: Recorder,
    /// Cores used by ecsd and by the load generator over the measured time.
    pub cpu: Option<CpuUse>,
}

impl Phase {
    /// Per second over the measured time.
    pub fn rate(&self, n: u64) -> f64 {
        n as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `workers` concurrently against `addr`, one connection each, within `limits`; measures
/// the CPU time of `ecsd_pid` and of this process over the same window.
pub async fn run<W: Worker>(addr: SocketAddr, workers: Vec<W>, limits: Limits, ecsd_pid: Option<u32>) -> Result<Phase> {
    let issued = Arc::new(AtomicU64::new(0));
    let n = workers.len();
    println!("   measuring: {n} connections for {:?} ...", limits.duration);
    // Every worker connects first, then all start together: connection set-up is not measured.
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    // The CPU window: opened by the barrier's leader, closed by the last worker to stop.
    let cpu_start: Arc<Mutex<Option<CpuSample>>> = Arc::new(Mutex::new(None));
    let cpu_end: Arc<Mutex<Option<CpuSample>>> = Arc::new(Mutex::new(None));
    let stopped = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(n);
    for mut w in workers {
        let (issued, barrier) = (issued.clone(), barrier.clone());
        let (cpu_start, cpu_end, stopped) = (cpu_start.clone(), cpu_end.clone(), stopped.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let mut rec = Recorder::default();
            let warm = conn.warm().await;
            if barrier.wait().await.is_leader() {
                if let Ok(mut c) = cpu_start.lock() {
                    *c = Some(CpuSample::take(ecsd_pid));
                }
            }
            if let Err(e) = warm {
                rec.error(format!("connect: {e:#}"));
            }
            let start = Instant::now();
            let deadline = start + limits.duration;
            while Instant::now() < deadline && issued.load(Ordering::Relaxed) < limits.max_requests {
                if w.step(&mut conn, &mut rec).await {
                    issued.fetch_add(1, Ordering::Relaxed);
                }
            }
            let end = Instant::now();
            if stopped.fetch_add(1, Ordering::SeqCst) + 1 == n {
                if let Ok(mut c) = cpu_end.lock() {
                    *c = Some(CpuSample::take(ecsd_pid));
                }
            }
            if let Err(e) = w.drain(&mut conn).await {
                rec.error(format!("drain: {e:#}"));
            }
            (start, end, rec)
        }));
    }
    let mut rec = Recorder::default();
    let (mut first, mut last): (Option<Instant>, Option<Instant>) = (None, None);
    for t in tasks {
        let (s, e, r) = t.await.map_err(|e| anyhow!("worker task failed: {e}"))?;
        first = Some(first.map_or(s, |f| f.min(s)));
        last = Some(last.map_or(e, |l| l.max(e)));
        rec.merge(&r);
    }
    let elapsed = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f),
        _ => Duration::ZERO,
    };
    let sample = |m: &Mutex<Option<CpuSample>>| m.lock().ok().and_then(|c| *c);
    let cpu = match (sample(&cpu_start), sample(&cpu_end)) {
        (Some(a), Some(b)) => Some(b.since(&a)),
        _ => None,
    };
    Ok(Phase { elapsed, rec, cpu })
}

/// Sends a GET to one of `paths` after another (each worker starting at its own offset) and
/// expects 200: the read scenarios.
pub struct GetWorker {
    signer: Arc<Signer>,
    paths: Arc<Vec<String>>,
    next: usize,
}

impl GetWorker {
    /// `n` workers spread over `paths`.
    pub fn many(n: usize, signer: &Arc<Signer>, paths: &Arc<Vec<String>>) -> Vec<GetWorker> {
        let len = paths.len().max(1);
        (0..n).map(|i| GetWorker { signer: signer.clone(), paths: paths.clone(), next: i * len / n.max(1) }).collect()
    }
}

impl Worker for GetWorker {
    async fn step(&mut self, conn: &mut Conn, rec: &mut Recorder) -> bool {
        let Some(path) = self.paths.get(self.next % self.paths.len().max(1)) else {
            rec.error("no paths to request");
            tokio::time::sleep(Duration::from_millis(100)).await;
            return false;
        };
        self.next = self.next.wrapping_add(1);
        let req = match self.signer.request(Method::GET, path, Bytes::new()) {
            Ok(r) => r,
            Err(e) => {
                rec.error(format!("build request: {e:#}"));
                return false;
            }
        };
        match conn.send(req).await {
            Ok(a) if a.status == 200 => rec.ok(&a),
            Ok(a) => rec.error(format!("GET {path}: {} {}", a.status, a.text())),
            Err(e) => {
                rec.error(format!("GET {path}: {e:#}"));
                // The service is gone or refusing: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_counts_and_caps_samples() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 0..4 {
            a.error(format!("a{i}"));
            b.error(format!("b{i}"));
        }
        b.ok += 7;
        b.completions = 3;
        a.merge(&b);
        assert_eq!(a.errors, 8);
        assert_eq!(a.ok, 7);
        assert_eq!(a.completions, 3);
        assert_eq!(a.error_samples.len(), ERROR_SAMPLES);
        assert_eq!(a.requests(), 15);
    }

    #[test]
    fn workers_start_spread_over_the_paths() {
        let s = Arc::new(Signer::new("a", "b", "c", "h"));
        let paths = Arc::new((0..100).map(|i| i.to_string()).collect::<Vec<_>>());
        let w = GetWorker::many(4, &s, &paths);
        assert_eq!(w.iter().map(|w| w.next).collect::<Vec<_>>(), vec![0, 25, 50, 75]);
    }

    #[test]
    fn rate_is_per_measured_second() {
        let p = Phase { elapsed: Duration::from_millis(500), rec: Recorder::default(), cpu: None };
        assert_eq!(p.rate(100), 200.0);
    }
}
