//! `ecs-bench`: starts ecsd, fills its store through the API and measures it with a closed-loop,
//! signed load generator; prints each figure next to its target.

mod baseline;
mod compare;
mod conn;
mod cpu;
mod ecsd_process;
mod histogram;
mod load;
mod machine;
mod pg;
mod pg_stats;
mod pgbench;
mod populate;
mod report;
mod scenarios;
mod signer;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use ecsd_process::{EcsdProcess, Launch};
use load::Limits;
use pg::{NoServer, PgServer};
use populate::{Dataset, Fill, PER_PROJECT};
use report::Report;
use scenarios::{Bench, Credential, Settings};
use signer::Signer;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The scenarios, in the order `all` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    All,
    /// The read and write baselines alone (every other scenario measures its own as well).
    Baseline,
    GetJob,
    GetJobCreate,
    GetServer,
    ListServers,
    ReinstallAccept,
    ReinstallE2e,
    ReinstallAcceptHeld,
    #[value(name = "get-job-1m")]
    GetJob1m,
    Startup,
    /// Real guests on QEMU: create and reinstall, request to SSH-ready (needs QEMU and ssh).
    Vm,
}

/// Where ecsd keeps its records during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreArg {
    /// SQLite in ecsd's data directory (as shipped).
    Sqlite,
    /// A throwaway PostgreSQL cluster with durable settings, with pgbench on the same server.
    Postgres,
    /// SQLite, then PostgreSQL, with the same population and the ratios between them.
    Both,
}

/// Benchmark ecsd: throughput, latency percentiles and memory per scenario.
#[derive(Debug, Parser)]
#[command(name = "ecs-bench", version, about)]
struct Args {
    /// Scenario to run (repeatable); `all` runs every one in order.
    #[arg(long, value_enum, default_values_t = [Scenario::All])]
    scenario: Vec<Scenario>,
    /// The ecsd binary (default: `ecsd` next to this program).
    #[arg(long)]
    ecsd: Option<PathBuf>,
    /// Seconds each measured phase runs.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Most requests one phase sends.
    #[arg(long, default_value_t = 5_000_000)]
    max_requests: u64,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Servers in the store for list-servers (and the memory figure).
    #[arg(long, default_value_t = 100_000)]
    servers: usize,
    /// Jobs in the store for get-job-1m and startup (made by batch stop/start over 1000 servers).
    #[arg(long, default_value_t = 1_000_000)]
    jobs: u64,
    /// Servers of the small dataset (~1k jobs) the GET scenarios run on first.
    #[arg(long, default_value_t = 1000)]
    small_servers: usize,
    /// Servers the reinstall scenarios spread their requests over (at least).
    #[arg(long, default_value_t = 20_000)]
    reinstall_servers: usize,
    /// Reinstalls reinstall-e2e keeps in flight.
    #[arg(long, default_value_t = 1024)]
    in_flight: usize,
    /// Milliseconds between polls of one in-flight job.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// Create requests (100 servers each) in flight while populating.
    #[arg(long, default_value_t = 8)]
    populate_concurrency: usize,
    /// Batch stop/start lanes (1000 servers each) while making jobs.
    #[arg(long, default_value_t = 8)]
    job_lanes: usize,
    /// How reinstalls set the new OS's credential. Key pairs by default: the usual way to reach
    /// a Linux server, and the one whose cost is ecsd's own; `password` adds a SHA-512-crypt
    /// hash (about 1.5 ms of CPU) to every request (docs/benchmarks.md gives both figures).
    #[arg(long, value_enum, default_value_t = Credential::Keypair)]
    credential: Credential,
    /// Threads of the load generator's runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Keep ecsd's data here instead of a temporary directory (must not hold another run's data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The store(s) to measure ecsd on. Default: `sqlite`; with `--smoke`, `both` where
    /// PostgreSQL is installed (its half is skipped, with the reason printed, elsewhere).
    #[arg(long, value_enum)]
    store: Option<StoreArg>,
    /// On PostgreSQL: the connections of ecsd's pool (`ECSD_STORE_POOL`). Default: ecsd's
    /// own (16), as shipped.
    #[arg(long)]
    store_pool: Option<usize>,
    /// On PostgreSQL: ecsd and pgbench reach the server over its Unix socket rather than
    /// loopback TCP, as clients on the database's own host usually do.
    #[arg(long)]
    pg_socket: bool,
    /// Times each measured phase (and pgbench) runs; the table gives the median and the range.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// `pgbench -i -s`: 100,000 accounts per unit. `simple-update` updates one random account
    /// per transaction and leaves the branch and teller rows alone, so even scale 1 makes two
    /// of 64 clients rarely touch the same row.
    #[arg(long, default_value_t = 1)]
    pgbench_scale: u32,
    /// Every scenario for about a second on small datasets; exits non-zero if a request failed.
    #[arg(long)]
    smoke: bool,
    /// Leave out the baseline phase each scenario is otherwise followed by (its ratio figures
    /// go with it).
    #[arg(long)]
    no_baseline: bool,
    /// The `ecs-baseline` binary (default: next to this program).
    #[arg(long)]
    baseline: Option<PathBuf>,
}

impl Args {
    fn settings(&self) -> Settings {
        let fill = Fill {
            concurrency: self.populate_concurrency.max(1),
            poll: Duration::from_millis(50),
            job_timeout: Duration::from_secs(600),
        };
        let mut s = Settings {
            limits: Limits {
                duration: Duration::from_secs_f64(self.duration.max(0.1)),
                max_requests: self.max_requests,
            },
            connections: self.connections.max(1),
            small_servers: self.small_servers.max(1),
            servers: self.servers,
            jobs: self.jobs,
            reinstall_servers: self.reinstall_servers,
            in_flight: self.in_flight.max(1),
            poll: Duration::from_millis(self.poll_ms.max(1)),
            fill,
            job_lanes: self.job_lanes.max(1),
            credential: self.credential,
            settle: Duration::from_secs(10),
        };
        if self.smoke {
            // Small enough for CI (seconds per scenario), large enough that every code path runs:
            // creates of 100, a batch action of 1000 servers, reinstalls reusing servers.
            s.limits.duration = Duration::from_secs(1);
            s.connections = s.connections.min(16);
            s.small_servers = 200;
            s.servers = 1000;
            s.jobs = 3000;
            s.reinstall_servers = 200;
            s.in_flight = 64;
            s.job_lanes = 1;
            s.settle = Duration::from_secs(1);
        }
        s
    }

    fn wants(&self, sc: Scenario) -> bool {
        self.scenario.contains(&Scenario::All) || self.scenario.contains(&sc)
    }

    /// [`Args::wants`] on one store. The smoke run's PostgreSQL half leaves out the two
    /// scenarios that populate beyond the small dataset (list-servers, get-job-1m): on a
    /// durable cluster they would double the smoke run's time and cover no code of the store
    /// that the others do not.
    fn wants_on(&self, sc: Scenario, postgres: bool) -> bool {
        let big = matches!(sc, Scenario::ListServers | Scenario::GetJob1m);
        self.wants(sc) && !(self.smoke && postgres && big)
    }

    /// Repetitions of each measured phase (one in a smoke run).
    fn repeats(&self) -> usize {
        if self.smoke {
            1
        } else {
            self.repeat.max(1)
        }
    }

    /// `--store`, or its default.
    fn stores(&self) -> StoreArg {
        match self.store {
            Some(s) => s,
            None if self.smoke => StoreArg::Both,
            None => StoreArg::Sqlite,
        }
    }

    /// The pgbench run matching the reinstall scenarios: as many clients as they have
    /// connections, as many threads as the load generator, a phase's length.
    fn pgbench_run(&self) -> pgbench::Run {
        let s = self.settings();
        pgbench::Run {
            clients: s.connections,
            threads: self.client_threads.max(1),
            seconds: s.limits.duration.as_secs_f64().ceil() as u64,
        }
    }
}

/// `ecsd` next to this program (both are built into the same target directory).
fn default_ecsd() -> PathBuf {
    beside_this_program("ecsd")
}

/// The program `name` next to this one (cargo builds ecsd, ecs-bench and ecs-baseline into the
/// same target directory), or `target/release/NAME` when there is none.
pub(crate) fn beside_this_program(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("target/release").join(name))
}

/// Extra accounts for datasets larger than one project's subnet; `None` if one project will do.
fn extra_accounts(servers: usize) -> Vec<Signer> {
    let projects = servers.div_ceil(PER_PROJECT).max(1);
    (1..projects)
        .map(|i| Signer::new(&format!("BENCHEXTRA{i:010}"), &format!("bench-sk-{i}"), &format!("{i:032x}"), ""))
        .collect()
}

fn write_config(path: &Path, extra: &[Signer]) -> Result<()> {
    let mut text = String::from("# Written by ecs-bench: extra projects for datasets larger than one subnet.\n");
    for (i, s) in extra.iter().enumerate() {
        text.push_str(&format!(
            "[[accounts]]\nproject_id = \"{}\"\nuser_id = \"{:032x}\"\nak = \"{}\"\nsk = \"{}\"\n\n",
            s.project,
            0xbe00 + i,
            s.ak,
            s.sk
        ));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Every store asked for, one after the other, then the comparisons between them.
async fn run(args: &Args) -> Result<Report> {
    println!("{}", machine::describe());
    let mut all = Report::default();
    let stores = args.stores();
    if stores != StoreArg::Postgres {
        all.absorb("sqlite", run_on(args, None).await.context("on SQLite")?);
    }
    if stores != StoreArg::Sqlite {
        // initdb and the server's start block for a second or two.
        let socket = args.pg_socket;
        match tokio::task::spawn_blocking(move || PgServer::start(socket)).await? {
            Ok(pg) => {
                println!("{}", pg.describe());
                let r = run_on(args, Some(&pg)).await.context("on PostgreSQL");
                // The cluster is stopped (by its PID) here, whatever the outcome.
                drop(pg);
                all.absorb("postgres", r?);
            }
            Err(NoServer::NotInstalled(why)) if args.store.is_none() => {
                println!("NOTICE: the PostgreSQL half of the smoke run is skipped: {why}");
            }
            Err(NoServer::NotInstalled(why)) => anyhow::bail!("--store needs PostgreSQL: {why}"),
            Err(NoServer::Failed(e)) => return Err(e),
        }
    }
    compare::add(&mut all);
    Ok(all)
}

/// The scenarios on one store: SQLite in the data directory, or the database of `pg`, followed
/// there by pgbench on the same server.
async fn run_on(args: &Args, pg: Option<&PgServer>) -> Result<Report> {
    let s = args.settings();
    let label = if pg.is_some() { "postgres" } else { "sqlite" };
    let (_tmp, root) = match &args.data_dir {
        Some(d) => {
            // One directory per store: each run starts on an empty store and a new account.
            let d = d.join(label);
            std::fs::create_dir_all(&d)?;
            (None, d)
        }
        None => {
            let t = tempfile::Builder::new().prefix("ecs-bench-").tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let biggest = s.servers.max(s.reinstall_servers).max(s.small_servers);
    let extra = extra_accounts(biggest);
    let config = if extra.is_empty() {
        None
    } else {
        let p = root.join("accounts.toml");
        write_config(&p, &extra)?;
        Some(p)
    };
    let launch = Launch {
        binary: args.ecsd.clone().unwrap_or_else(default_ecsd),
        data_dir: root.join("data"),
        store: pg.map(|p| p.ecsd_url.clone()),
        store_pool: pg.and(args.store_pool).map(|n| n.max(1)),
        config,
        log: root.join("ecsd.log"),
        banner_timeout: Duration::from_secs(300),
        driver: "sim",
        extra_args: Vec::new(),
    };
    match launch.store_pool {
        Some(n) => println!("== store: {label} (ecsd's pool: {n} connections)"),
        None => println!("== store: {label}"),
    }
    println!("ecsd: {} (data in {})", launch.binary.display(), launch.data_dir.display());
    let l = launch.clone();
    let ecsd = tokio::task::spawn_blocking(move || EcsdProcess::start(&l)).await??;
    println!("ecsd pid {} listening on {}", ecsd.pid().unwrap_or(0), ecsd.endpoint);
    let host = ecsd.endpoint.to_string();
    let mut signers = vec![Signer::new(ecsd_process::AK, ecsd_process::SK, ecsd_process::PROJECT, &host)];
    signers.extend(extra.into_iter().map(|mut x| {
        x.host = host.clone();
        x
    }));
    let pg_stats = pg.map(|p| p.stats(pg::ECSD_DATABASE));
    let pgbench = pg.map(|p| scenarios::pgbench::Pgbench {
        server: p.pgbench_server(),
        stats: p.stats(pgbench::DATABASE),
        scale: args.pgbench_scale.max(1),
        run: args.pgbench_run(),
        initialised: false,
    });
    let mut b = Bench {
        s,
        launch,
        ecsd,
        data: Dataset::new(signers),
        report: Report::default(),
        get_job_baseline: None,
        pg_stats,
        pgbench,
        baseline: (!args.no_baseline)
            .then(|| args.baseline.clone().unwrap_or_else(|| beside_this_program("ecs-baseline"))),
    };
    let r = scenarios_in_order(args, pg.is_some(), &mut b).await;
    if let Err(e) = b.ecsd.stop(Duration::from_secs(30)) {
        eprintln!("stopping ecsd: {e:#}");
    }
    println!("{}", machine::load_line());
    r?;
    Ok(std::mem::take(&mut b.report))
}

async fn scenarios_in_order(args: &Args, postgres: bool, b: &mut Bench) -> Result<()> {
    let wants = |sc| args.wants_on(sc, postgres);
    // Each measured phase runs `--repeat` times in a row (the population is made once, by the
    // first); the start-up is measured once.
    let n = args.repeats();
    if args.scenario.contains(&Scenario::Baseline) {
        for _ in 0..n {
            baseline::alone(b).await.context("baseline")?;
        }
    }
    // get-job runs first when get-job-1m is asked for: it is the ~1k-job reference.
    if wants(Scenario::GetJob) || wants(Scenario::GetJob1m) {
        for _ in 0..n {
            scenarios::get_job::run(b).await.context("get-job")?;
        }
    }
    if wants(Scenario::GetJobCreate) {
        for _ in 0..n {
            scenarios::get_job_create::run(b).await.context("get-job-create")?;
        }
    }
    if wants(Scenario::GetServer) {
        for _ in 0..n {
            scenarios::get_server::run(b).await.context("get-server")?;
        }
    }
    if wants(Scenario::ListServers) {
        for _ in 0..n {
            scenarios::list_servers::run(b).await.context("list-servers")?;
        }
    }
    // On PostgreSQL each acceptance phase is followed by a pgbench run on the same server
    // (ecsd idle, its jobs drained): each pair measured minutes apart at most, so that the
    // machine's drift (other load, the disk's flush latency) moves both alike.
    if wants(Scenario::ReinstallAccept) {
        for _ in 0..n {
            scenarios::reinstall::accept(b).await.context("reinstall-accept")?;
            scenarios::pgbench::run(b, "reinstall-accept").await.context("pgbench")?;
        }
    }
    if wants(Scenario::ReinstallE2e) {
        for _ in 0..n {
            scenarios::reinstall::e2e(b).await.context("reinstall-e2e")?;
        }
    }
    // After e2e: releasing tens of thousands of held jobs at once leaves a burst of work (and a
    // grown WAL) behind that would colour the next phase.
    if wants(Scenario::ReinstallAcceptHeld) {
        for _ in 0..n {
            scenarios::reinstall::accept_held(b).await.context("reinstall-accept-held")?;
            scenarios::pgbench::run(b, "reinstall-accept-held").await.context("pgbench")?;
        }
    }
    if wants(Scenario::GetJob1m) {
        for _ in 0..n {
            scenarios::get_job_1m::run(b).await.context("get-job-1m")?;
        }
    }
    if wants(Scenario::Startup) {
        scenarios::startup::run(b).await.context("startup")?;
    }
    // Real guests, on the SQLite run only: the store has no part in a guest's boot. `all`
    // leaves them out (and says so) where QEMU is not installed; asked for by name, they fail.
    if wants(Scenario::Vm) && !postgres {
        match scenarios::vm::missing_tools() {
            Some(why) if !args.scenario.contains(&Scenario::Vm) => {
                println!("NOTICE: the vm scenario is skipped: {why}")
            }
            _ => scenarios::vm::run(b, n).await.context("vm")?,
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("ecs-bench")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ecs-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = rt.block_on(async {
        // On ctrl-c or SIGTERM (`timeout`, a CI runner giving up) the run is dropped, and with
        // it the ecsd process, killed by its PID: it must not outlive the bench.
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => return Err(anyhow::anyhow!("cannot watch for SIGTERM: {e}")),
        };
        tokio::select! {
            r = run(&args) => r,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
            _ = term.recv() => Err(anyhow::anyhow!("terminated")),
        }
    });
    // Workers still draining after an error must not keep the process alive.
    rt.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(report) => {
            report.print_table();
            if args.smoke && report.errors > 0 {
                eprintln!("ecs-bench: {} requests failed", report.errors);
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ecs-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_projects_only_beyond_one_subnet() {
        assert!(extra_accounts(1000).is_empty());
        assert!(extra_accounts(PER_PROJECT).is_empty());
        let e = extra_accounts(100_000);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].project.len(), 32);
        assert!(e[0].ak.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(e[0].ak, ecsd_process::AK);
        assert_ne!(e[0].project, ecsd_process::PROJECT);
    }

    #[test]
    fn smoke_shrinks_everything() {
        let a = Args::parse_from(["ecs-bench", "--smoke"]);
        let s = a.settings();
        assert_eq!(s.limits.duration, Duration::from_secs(1));
        assert!(s.servers <= 1000 && s.jobs <= 3000 && s.connections <= 16);
        assert!(a.wants(Scenario::Startup));
        let one = Args::parse_from(["ecs-bench", "--scenario", "get-job-1m"]);
        assert!(one.wants(Scenario::GetJob1m) && !one.wants(Scenario::GetJob));
    }

    #[test]
    fn stores_default_to_sqlite_and_smoke_tries_both() {
        assert_eq!(Args::parse_from(["ecs-bench"]).stores(), StoreArg::Sqlite);
        assert_eq!(Args::parse_from(["ecs-bench", "--smoke"]).stores(), StoreArg::Both);
        let pg = Args::parse_from(["ecs-bench", "--smoke", "--store", "postgres", "--repeat", "3"]);
        assert_eq!(pg.stores(), StoreArg::Postgres);
        assert_eq!(pg.repeats(), 1);
        let run = Args::parse_from(["ecs-bench", "--connections", "32", "--duration", "4.5"]).pgbench_run();
        assert_eq!((run.clients, run.threads, run.seconds), (32, 2, 5));
        let smoke = Args::parse_from(["ecs-bench", "--smoke"]);
        assert!(smoke.wants_on(Scenario::ListServers, false) && !smoke.wants_on(Scenario::ListServers, true));
        assert!(smoke.wants_on(Scenario::ReinstallAcceptHeld, true));
        assert!(Args::parse_from(["ecs-bench"]).wants_on(Scenario::GetJob1m, true));
    }
}
