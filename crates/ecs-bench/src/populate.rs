//! Filling the store through the API: servers by batch creates, jobs by batch stop/start.
//!
//! Everything goes through the public API, signed, so the database looks exactly like one a
//! real client built (sagas, events, sub-jobs, driver state), not like a synthetic import.

use crate::conn::Conn;
use crate::signer::Signer;
use anyhow::{anyhow, bail, Context, Result};
use http::Method;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Servers per create request (ecsd's and Huawei's maximum `count`).
pub const CREATE_BATCH: usize = 100;
/// Servers per batch stop/start (ecsd's maximum): one request makes 1 + 1000 jobs.
pub const ACTION_BATCH: usize = 1000;
/// Servers one project may hold: its default subnet is a /16 (65,533 addresses); larger
/// datasets are spread over more projects.
pub const PER_PROJECT: usize = 65_000;
/// The image (without Cloud-Init, so `/v1` reinstall applies) and flavor every server uses.
pub const IMAGE: &str = "6a6b4b4e-0e3a-4c38-9b64-1f1b2c3d4e02";
pub const FLAVOR: &str = "s6.small.1";

/// One project's credential and what the bench created in it.
pub struct Project {
    pub signer: Arc<Signer>,
    pub servers: Vec<String>,
    network: Option<(String, String)>,
}

/// What the store holds, as far as this run made it.
pub struct Dataset {
    /// `[0]` is the bootstrap account's project; the others come from the extra accounts.
    pub projects: Vec<Project>,
    /// Finished single-server jobs of the first project (sub-jobs of the creates), in order.
    pub finished_jobs: Vec<String>,
    /// Finished create jobs of one server each (a parent with its one sub-job), of the first
    /// project, in order.
    pub create_jobs: Vec<String>,
    /// Jobs this run has had created (parents and sub-jobs, every project).
    pub jobs: u64,
    /// Time spent creating servers, and how many.
    pub server_fill: Duration,
    pub servers_filled: usize,
    pub job_fill: Duration,
    pub jobs_filled: u64,
}

impl Dataset {
    pub fn new(signers: Vec<Signer>) -> Dataset {
        Dataset {
            projects: signers
                .into_iter()
                .map(|s| Project { signer: Arc::new(s), servers: Vec::new(), network: None })
                .collect(),
            finished_jobs: Vec::new(),
            create_jobs: Vec::new(),
            jobs: 0,
            server_fill: Duration::ZERO,
            servers_filled: 0,
            job_fill: Duration::ZERO,
            jobs_filled: 0,
        }
    }

    pub fn servers(&self) -> usize {
        self.projects.iter().map(|p| p.servers.len()).sum()
    }

    /// Points every signer at a new endpoint (after a restart).
    pub fn set_host(&mut self, host: &str) {
        for p in &mut self.projects {
            let mut s = (*p.signer).clone();
            s.host = host.to_string();
            p.signer = Arc::new(s);
        }
    }
}

/// Per-request options of the fill loops.
#[derive(Debug, Clone, Copy)]
pub struct Fill {
    /// Requests in flight at once (each waits for its job before the lane sends the next).
    pub concurrency: usize,
    /// How often a lane polls its job.
    pub poll: Duration,
    /// Give up on one job after this long.
    pub job_timeout: Duration,
}

/// Sends one signed request and expects 200 with a JSON body.
pub async fn call(conn: &mut Conn, signer: &Signer, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
    call_expecting(conn, signer, method, path, body, 200).await
}

/// Sends one signed request and expects `status` with a JSON body.
pub async fn call_expecting(
    conn: &mut Conn,
    signer: &Signer,
    method: Method,
    path: &str,
    body: Option<&Value>,
    status: u16,
) -> Result<Value> {
    let req = match body {
        Some(b) => signer.json(method.clone(), path, b)?,
        None => signer.request(method.clone(), path, bytes::Bytes::new())?,
    };
    let a = conn.send(req).await.with_context(|| format!("{method} {path}"))?;
    if a.status != status {
        bail!("{method} {path}: {} {}", a.status, a.text());
    }
    a.json()
}

/// Longest pause between two polls of one job.
const MAX_POLL: Duration = Duration::from_secs(1);

/// Polls a job until it is `SUCCESS` or `FAIL`; returns its view. The pause starts at `poll`
/// and grows by half each time up to [`MAX_POLL`]: a batch job's view lists every sub-job
/// (a few hundred KB for 1000 servers), and polling it often would load ecsd more than the
/// operations being waited for.
pub async fn wait_job(
    conn: &mut Conn,
    signer: &Signer,
    job_id: &str,
    poll: Duration,
    timeout: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    let path = format!("/v1/{{p}}/jobs/{job_id}");
    let mut pause = poll;
    loop {
        let v = call(conn, signer, Method::GET, &path, None).await?;
        match v["status"].as_str() {
            Some("SUCCESS") | Some("FAIL") => return Ok(v),
            _ if Instant::now() > deadline => bail!("job {job_id} not finished after {timeout:?}: {v}"),
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 3 / 2).min(MAX_POLL);
            }
        }
    }
}

/// The default VPC and subnet of a project.
pub async fn network(conn: &mut Conn, signer: &Signer) -> Result<(String, String)> {
    let v = call(conn, signer, Method::GET, "/v1/{p}/vpcs", None).await?;
    let s = call(conn, signer, Method::GET, "/v1/{p}/subnets", None).await?;
    let vpc = v["vpcs"][0]["id"].as_str().ok_or_else(|| anyhow!("no default VPC: {v}"))?;
    let subnet = s["subnets"][0]["id"].as_str().ok_or_else(|| anyhow!("no default subnet: {s}"))?;
    Ok((vpc.to_string(), subnet.to_string()))
}

/// A create request body, as the SDK sends it.
pub fn create_body(name: &str, vpc: &str, subnet: &str, count: usize) -> Value {
    json!({"server": {
        "name": name, "imageRef": IMAGE, "flavorRef": FLAVOR, "vpcid": vpc,
        "nics": [{"subnet_id": subnet}], "root_volume": {"volumetype": "SSD"}, "count": count,
    }})
}

/// How many servers each project still has to get so that the store holds `total`, filling
/// the first project up to [`PER_PROJECT`] before the next. `None` if there are not enough
/// projects.
pub fn plan_servers(have: &[usize], total: usize) -> Option<Vec<usize>> {
    let mut missing = total.saturating_sub(have.iter().sum());
    let mut plan = Vec::with_capacity(have.len());
    for &h in have {
        let add = PER_PROJECT.saturating_sub(h).min(missing);
        missing -= add;
        plan.push(add);
    }
    (missing == 0).then_some(plan)
}

/// Splits per-project additions into create requests of at most `batch` servers.
pub fn create_requests(plan: &[usize], batch: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (project, &n) in plan.iter().enumerate() {
        let mut left = n;
        while left > 0 {
            let c = left.min(batch.max(1));
            out.push((project, c));
            left -= c;
        }
    }
    out
}

/// A running count printed every few seconds while a fill goes on.
struct Progress {
    what: &'static str,
    target: u64,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(what: &'static str, target: u64) -> Self {
        let now = Instant::now();
        Progress { what, target, start: now, last: now }
    }

    fn tick(&mut self, done: u64) {
        if self.last.elapsed() < Duration::from_secs(10) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = (self.target.saturating_sub(done)) as f64 / rate.max(1e-9);
        println!("     ... {done}/{} {} in {secs:.0} s ({rate:.0}/s, about {eta:.0} s to go)", self.target, self.what);
    }
}

/// Creates servers until the store holds `total`, `fill.concurrency` create requests at a time.
pub async fn servers(addr: SocketAddr, ds: &mut Dataset, total: usize, fill: Fill) -> Result<()> {
    servers_by(addr, ds, total, fill, CREATE_BATCH).await
}

/// [`servers`] with at most `batch` servers per create request.
pub async fn servers_by(addr: SocketAddr, ds: &mut Dataset, total: usize, fill: Fill, batch: usize) -> Result<()> {
    let have: Vec<usize> = ds.projects.iter().map(|p| p.servers.len()).collect();
    let plan = plan_servers(&have, total)
        .ok_or_else(|| anyhow!("{total} servers need more than {} projects of {PER_PROJECT}", ds.projects.len()))?;
    let requests = create_requests(&plan, batch);
    if requests.is_empty() {
        return Ok(());
    }
    let mut conn = Conn::new(addr);
    for (i, p) in ds.projects.iter_mut().enumerate() {
        if plan[i] > 0 && p.network.is_none() {
            p.network = Some(network(&mut conn, &p.signer).await?);
        }
    }
    let started = Instant::now();
    let adding: usize = plan.iter().sum();
    println!(
        "   creating {adding} servers ({} requests of up to {CREATE_BATCH}, {} at a time)",
        requests.len(),
        fill.concurrency
    );

    struct Done {
        project: usize,
        order: usize,
        job: String,
        servers: Vec<String>,
        sub_jobs: Vec<String>,
    }
    // (order, (project, count)): what is left to create, taken by whichever lane is free.
    type Queue = Mutex<VecDeque<(usize, (usize, usize))>>;
    let queue: Arc<Queue> = Arc::new(Mutex::new(requests.into_iter().enumerate().collect()));
    let done: Arc<Mutex<(Vec<Done>, u64)>> = Arc::new(Mutex::new((Vec::new(), 0)));
    let mut lanes = Vec::new();
    for _ in 0..fill.concurrency.max(1) {
        let (queue, done) = (queue.clone(), done.clone());
        let signers: Vec<(Arc<Signer>, (String, String))> =
            ds.projects.iter().map(|p| (p.signer.clone(), p.network.clone().unwrap_or_default())).collect();
        lanes.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            loop {
                let next = queue.lock().map_err(|_| anyhow!("queue poisoned"))?.pop_front();
                let Some((order, (project, count))) = next else { return Ok::<(), anyhow::Error>(()) };
                let (signer, (vpc, subnet)) = &signers[project];
                let body = create_body(&format!("bench-{order}"), vpc, subnet, count);
                let v = call(&mut conn, signer, Method::POST, "/v1/{p}/cloudservers", Some(&body)).await?;
                let job = v["job_id"].as_str().ok_or_else(|| anyhow!("create answered without job_id: {v}"))?;
                let ids: Vec<String> = v["serverIds"]
                    .as_array()
                    .ok_or_else(|| anyhow!("create answered without serverIds: {v}"))?
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect();
                let j = wait_job(&mut conn, signer, job, fill.poll, fill.job_timeout).await?;
                if j["status"] != "SUCCESS" {
                    bail!("create job {job} ended {}: {}", j["status"], j);
                }
                let sub_jobs: Vec<String> = j["entities"]["sub_jobs"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s["job_id"].as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                let mut d = done.lock().map_err(|_| anyhow!("results poisoned"))?;
                d.1 += ids.len() as u64;
                d.0.push(Done { project, order, job: job.to_string(), servers: ids, sub_jobs });
            }
        }));
    }
    // Report progress while the lanes work.
    let mut progress = Progress::new("servers", adding as u64);
    while !lanes.iter().all(|l| l.is_finished()) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = done.lock().map(|d| d.1).unwrap_or(0);
        progress.tick(n);
    }
    let mut first_error = None;
    for l in lanes {
        match l.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(e) => first_error = first_error.or(Some(anyhow!("create lane failed: {e}"))),
        }
    }
    let mut results = std::mem::take(&mut done.lock().map_err(|_| anyhow!("results poisoned"))?.0);
    // Keep creation order, so the first project's first servers and jobs are always the same
    // ones (the small dataset the baselines are measured on).
    results.sort_by_key(|d| d.order);
    for d in results {
        ds.jobs += 1 + d.sub_jobs.len() as u64;
        if d.project == 0 {
            if d.servers.len() == 1 {
                ds.create_jobs.push(d.job);
            }
            ds.finished_jobs.extend(d.sub_jobs);
        }
        ds.projects[d.project].servers.extend(d.servers);
    }
    ds.server_fill += started.elapsed();
    ds.servers_filled += adding;
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(())
}

/// The two bodies a job-making lane alternates between.
pub fn action_body(stop: bool, ids: &[String]) -> Value {
    let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    if stop {
        json!({"os-stop": {"servers": servers, "type": "SOFT"}})
    } else {
        json!({"os-start": {"servers": servers}})
    }
}

/// Makes jobs until this run has created `total`: lanes of [`ACTION_BATCH`] servers of the
/// first project alternate batch stop and start, each waiting for its job.
pub async fn jobs(addr: SocketAddr, ds: &mut Dataset, total: u64, fill: Fill) -> Result<()> {
    if ds.jobs >= total {
        return Ok(());
    }
    let servers = &ds.projects[0].servers;
    let lanes_n = fill.concurrency.min(servers.len() / ACTION_BATCH);
    if lanes_n == 0 {
        bail!("making jobs needs at least {ACTION_BATCH} servers in the first project, it has {}", servers.len());
    }
    let per_request = 1 + ACTION_BATCH as u64;
    let requests = (total - ds.jobs).div_ceil(per_request);
    println!(
        "   making {} jobs: {requests} batch stop/start requests of {ACTION_BATCH} servers, {lanes_n} lanes",
        requests * per_request
    );
    let started = Instant::now();
    let remaining = Arc::new(Mutex::new(requests));
    let made = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let signer = ds.projects[0].signer.clone();
    let mut lanes = Vec::new();
    for lane in 0..lanes_n {
        let group: Vec<String> = servers[lane * ACTION_BATCH..(lane + 1) * ACTION_BATCH].to_vec();
        let (remaining, made, signer) = (remaining.clone(), made.clone(), signer.clone());
        lanes.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let mut stop = true;
            loop {
                {
                    let mut r = remaining.lock().map_err(|_| anyhow!("counter poisoned"))?;
                    if *r == 0 {
                        return Ok::<(), anyhow::Error>(());
                    }
                    *r -= 1;
                }
                let body = action_body(stop, &group);
                let mut refused = 0;
                let job = loop {
                    let req = signer.json(Method::POST, "/v1/{p}/cloudservers/action", &body)?;
                    let a = conn.send(req).await?;
                    if a.status == 200 {
                        break a.json()?["job_id"].as_str().map(str::to_string).ok_or_else(|| anyhow!("no job_id"))?;
                    }
                    // A server of the group still finishing an earlier operation refuses the
                    // whole batch; wait a little and ask again.
                    refused += 1;
                    if !a.is_busy() || refused > 100 {
                        bail!("batch action refused: {} {}", a.status, a.text());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                made.fetch_add(per_request, std::sync::atomic::Ordering::Relaxed);
                let j = wait_job(&mut conn, &signer, &job, fill.poll, fill.job_timeout).await?;
                if j["status"] != "SUCCESS" {
                    bail!("batch job {job} ended {}", j["status"]);
                }
                stop = !stop;
            }
        }));
    }
    let mut progress = Progress::new("jobs", requests * per_request);
    while !lanes.iter().all(|l| l.is_finished()) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        progress.tick(made.load(std::sync::atomic::Ordering::Relaxed));
    }
    let mut first_error = None;
    for l in lanes {
        match l.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(e) => first_error = first_error.or(Some(anyhow!("job lane failed: {e}"))),
        }
    }
    let n = made.load(std::sync::atomic::Ordering::Relaxed);
    ds.jobs += n;
    ds.jobs_filled += n;
    ds.job_fill += started.elapsed();
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_fill_the_first_project_first() {
        assert_eq!(plan_servers(&[0, 0], 1000), Some(vec![1000, 0]));
        assert_eq!(plan_servers(&[0, 0], 100_000), Some(vec![65_000, 35_000]));
        assert_eq!(plan_servers(&[1000, 0], 100_000), Some(vec![64_000, 35_000]));
        assert_eq!(plan_servers(&[65_000, 0], 70_000), Some(vec![0, 5_000]));
        assert_eq!(plan_servers(&[0], 100_000), None);
        assert_eq!(plan_servers(&[500], 300), Some(vec![0]));
    }

    #[test]
    fn requests_are_at_most_a_batch() {
        assert_eq!(create_requests(&[250, 0, 100], CREATE_BATCH), vec![(0, 100), (0, 100), (0, 50), (2, 100)]);
        assert!(create_requests(&[0], CREATE_BATCH).is_empty());
        assert_eq!(create_requests(&[2, 1], 1), vec![(0, 1), (0, 1), (1, 1)]);
    }

    #[test]
    fn action_bodies_name_every_server() {
        let ids = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            action_body(true, &ids),
            json!({"os-stop": {"servers": [{"id": "a"}, {"id": "b"}], "type": "SOFT"}})
        );
        assert_eq!(action_body(false, &ids), json!({"os-start": {"servers": [{"id": "a"}, {"id": "b"}]}}));
    }
}
