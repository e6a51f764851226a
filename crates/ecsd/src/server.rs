//! Assembling the service and serving it on a bound listener (shared by `main` and tests).

use crate::accounts::Accounts;
use crate::context::{App, Ctx};
use crate::faults::{FaultSpec, Faults};
use crate::listener::{accept_loop, Limits};
use crate::sim_records::StoreRecords;
use ecs_driver::sim::SimDriver;
use ecs_driver::ComputeDriver;
use ecs_saga::Executor;
use ecs_store::Store;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Which compute driver runs the servers.
#[derive(Debug, Clone)]
pub enum DriverChoice {
    Sim,
    Qemu(ecs_driver::qemu::QemuConfig),
}

/// How to build the service.
pub struct Options {
    pub driver: DriverChoice,
    pub data_dir: PathBuf,
    pub sim_step: Duration,
    pub accounts: Accounts,
    /// Faults in force from the start (configuration file).
    pub faults: Vec<FaultSpec>,
    /// Run every saga step twice (idempotency tests).
    pub run_steps_twice: bool,
    /// Requests per second per credential (0: unlimited); bursts of twice that are allowed.
    pub rate_limit: u32,
    /// Lifetime of tokens from `POST /v3/auth/tokens`.
    pub token_ttl: Duration,
    /// The store, when the caller has opened it already (`ecsd serve` does, to know whether
    /// the directory is new before it reads the account, and to open the one `--store` names);
    /// otherwise `build` opens the data directory's SQLite database.
    pub store: Option<Arc<dyn Store>>,
    /// Every project's quotas on servers, vCPUs and memory.
    pub quotas: ecs_model::quota::Quotas,
    /// This node's name (default: the machine's host name).
    pub node_name: String,
    /// What this node offers as a compute host; `None`: the machine's defaults for its driver
    /// ([`crate::cluster::Node::default_capacity`]).
    pub host_vcpus: Option<i64>,
    pub host_memory_mib: Option<i64>,
    /// Whether the simulated driver keeps its state in the database (shared by the nodes) or
    /// in the data directory; `None`: in the database when the store is shared.
    pub sim_shared: Option<bool>,
    /// The node's lease on a shared store, and its heartbeat.
    pub lease: Duration,
    pub heartbeat: Duration,
    /// How long the audit trail keeps a trace.
    pub trace_retention: Duration,
}

impl Options {
    /// Defaults for an embedded service (tests): no rate limit, 24-hour tokens.
    pub fn new(data_dir: PathBuf, accounts: Accounts) -> Options {
        Options {
            driver: DriverChoice::Sim,
            data_dir,
            sim_step: Duration::ZERO,
            accounts,
            faults: vec![],
            run_steps_twice: false,
            rate_limit: 0,
            token_ttl: Duration::from_secs(24 * 3600),
            store: None,
            quotas: ecs_model::quota::Quotas::default(),
            node_name: crate::cluster::Node::default_name(),
            host_vcpus: None,
            host_memory_mib: None,
            sim_shared: None,
            lease: crate::cluster::DEFAULT_LEASE,
            heartbeat: crate::cluster::DEFAULT_HEARTBEAT,
            trace_retention: crate::audit::DEFAULT_RETENTION,
        }
    }
}

/// Opens the store and the driver, seeds the image catalog and the projects' networks, and
/// builds the executor. Does not resume sagas yet: [`serve`] does, once it can answer.
pub async fn build(mut opts: Options) -> Result<App, String> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
    let store: Arc<dyn Store> = match opts.store.take() {
        Some(s) => s,
        None => Arc::new(crate::datadir::open_store(&opts.data_dir).await?.0),
    };
    // A store the nodes share keeps what would otherwise be this node's own: the simulated
    // driver's disks and VMs, the faults in force, the token secret (the bootstrap account is
    // shared before, when the caller reads it: `Accounts::load_shared`).
    let shared = store.shared();
    // The simulated VMs live in the database when it is shared, unless asked to stay on this
    // host (`--sim-state local`: they are then this node's only, as QEMU's are).
    let sim_shared = opts.sim_shared.unwrap_or(shared);
    if sim_shared && !shared {
        return Err("--sim-state shared needs a store that several nodes share (PostgreSQL)".into());
    }
    let driver: Arc<dyn ComputeDriver> = match &opts.driver {
        DriverChoice::Sim if sim_shared => Arc::new(SimDriver::over(StoreRecords(store.clone()), opts.sim_step)),
        DriverChoice::Sim => {
            Arc::new(SimDriver::new(opts.data_dir.join("sim"), opts.sim_step).map_err(|e| e.to_string())?)
        }
        DriverChoice::Qemu(cfg) => Arc::new(
            ecs_driver::qemu::QemuDriver::new(opts.data_dir.join("qemu"), cfg.clone()).map_err(|e| e.to_string())?,
        ),
    };
    // The built-in catalog is for the simulated driver: its images have no bytes to boot.
    if matches!(opts.driver, DriverChoice::Sim) {
        let now = ecs_model::timefmt::now_ms();
        for img in ecs_model::image::builtin_images(now) {
            if store.image_get(&img.id).await.map_err(|e| e.to_string())?.is_none() {
                store.image_put(img).await.map_err(|e| e.to_string())?;
            }
        }
    }
    let driver: Arc<dyn ComputeDriver> = Arc::new(crate::metered_driver::MeteredDriver(driver));
    driver.reconcile().await.map_err(|e| format!("cannot take stock of the driver's VMs: {e}"))?;
    for p in opts.accounts.projects() {
        store.network_default(&p).await.map_err(|e| e.to_string())?;
    }
    let ctx = Arc::new(Ctx { store: store.clone(), driver, written: Default::default() });
    let log: Arc<dyn ecs_saga::SagaLog> = Arc::new(StoreLog(store.clone(), ctx.written.clone()));
    let faults = match shared {
        true => Faults::shared(store.clone()).await.map_err(|e| format!("cannot read the shared faults: {e}"))?,
        false => Arc::new(Faults::default()),
    };
    for (i, f) in opts.faults.into_iter().enumerate() {
        f.validate().map_err(|e| format!("fault in configuration: {}", e.message))?;
        faults.add_configured(i, f).await.map_err(|e| format!("cannot add the configured faults: {e}"))?;
    }
    let real_vms = matches!(opts.driver, DriverChoice::Qemu(_));
    let (vcpus, memory_mib) = crate::cluster::Node::default_capacity(real_vms);
    let mut node = crate::cluster::Node::new(
        opts.node_name.clone(),
        opts.host_vcpus.unwrap_or(vcpus),
        opts.host_memory_mib.unwrap_or(memory_mib),
        ctx.driver.host_bound(),
    );
    node.lease = opts.lease;
    node.heartbeat = opts.heartbeat;
    let node = Arc::new(node);
    let executor = crate::sagas::register(Executor::builder(log, ctx.clone()))
        .run_steps_twice(opts.run_steps_twice)
        .hook(faults.clone())
        .fence(node.clone())
        .build();
    let tokens = Arc::new(match shared {
        true => crate::iam::Tokens::load_shared(store.as_ref(), opts.token_ttl).await?,
        false => crate::iam::Tokens::load(&opts.data_dir, opts.token_ttl)?,
    });
    let limiter = std::num::NonZeroU32::new(opts.rate_limit).map(crate::rate_limit::rate_limiter);
    let consoles = Arc::default();
    let audit = crate::audit::Audit::start(store.clone(), opts.trace_retention);
    Ok(App::new(crate::context::AppState {
        ctx,
        executor,
        accounts: Arc::new(opts.accounts),
        faults,
        tokens,
        limiter,
        quotas: opts.quotas,
        node,
        consoles,
        audit,
        finished_jobs: Default::default(),
        shown_servers: Default::default(),
    }))
}

/// The store seen as a saga log (trait upcasting through a newtype keeps one `Arc<dyn Store>`),
/// which also forgets the server a saga that ends kept ([`crate::step_writes::WrittenServers`]).
struct StoreLog(Arc<dyn Store>, Arc<crate::step_writes::WrittenServers>);

#[async_trait::async_trait]
impl ecs_saga::SagaLog for StoreLog {
    async fn append(&self, id: &str, epoch: i64, e: &[ecs_saga::StepEvent]) -> Result<(), ecs_saga::LogError> {
        self.0.append(id, epoch, e).await
    }
    async fn finish(&self, id: &str, epoch: i64, o: &ecs_saga::Outcome) -> Result<(), ecs_saga::LogError> {
        self.0.finish(id, epoch, o).await?;
        self.1.forget(id);
        crate::metrics::job_finished(id, o);
        Ok(())
    }
    async fn append_and_finish(
        &self,
        id: &str,
        epoch: i64,
        e: &[ecs_saga::StepEvent],
        o: &ecs_saga::Outcome,
    ) -> Result<(), ecs_saga::LogError> {
        self.0.append_and_finish(id, epoch, e, o).await?;
        self.1.forget(id);
        crate::metrics::job_finished(id, o);
        Ok(())
    }
    async fn unfinished(&self) -> Result<Vec<ecs_saga::SagaRecord>, ecs_saga::LogError> {
        self.0.unfinished().await
    }
    async fn load(&self, id: &str) -> Result<Option<ecs_saga::SagaRecord>, ecs_saga::LogError> {
        self.0.load(id).await
    }
}

/// After a restart: a server recorded as running whose VM is not (it died while ecsd was
/// away) is shown as stopped, so that the API never claims a VM that does not exist. Servers in
/// the middle of an operation are left to their saga.
///
/// Only the ids of ACTIVE servers are read (one column scan), and only those whose VM the
/// driver does not see running are read whole and changed: with 100,000 servers, reading and
/// decoding every one of them (and its volumes) took seconds before the first request.
pub async fn repair_power_states(app: &App) -> Result<usize, String> {
    use ecs_driver::Power;
    use ecs_model::state::VmState;
    let mut repaired = 0;
    let candidates = app.ctx.store.server_ids_with_status("ACTIVE").await.map_err(|e| e.to_string())?;
    for (project, id) in candidates {
        if app.ctx.driver.vm_power(&id).await.map_err(|e| e.to_string())? == Power::Running {
            continue;
        }
        let changed = std::sync::atomic::AtomicBool::new(false);
        // Another host's VM is not this driver's to see.
        let elsewhere = |s: &ecs_model::server::Server| app.node.host_bound && !app.node.runs_here(s.host.as_deref());
        app.ctx
            .update_server(&project, &id, |s| {
                let stale = s.task_state.is_none() && s.vm_state == VmState::Active && !elsewhere(s);
                if stale {
                    s.vm_state = VmState::Stopped;
                }
                changed.store(stale, std::sync::atomic::Ordering::Relaxed);
            })
            .await
            .map_err(|e| e.message)?;
        if changed.into_inner() {
            tracing::warn!(server = %id, "its VM is not running; marking it SHUTOFF");
            repaired += 1;
        }
    }
    Ok(repaired)
}

/// Resumes unfinished sagas, then serves HTTP on `listener` (and HTTPS on `tls`) until
/// `shutdown` resolves and the connections then open have finished, or had the shutdown grace.
pub async fn serve(
    listener: TcpListener,
    tls: Option<(TcpListener, Arc<rustls::ServerConfig>)>,
    limits: Limits,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match repair_power_states(&app).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(servers = n, "servers whose VM died while ecsd was stopped are now SHUTOFF"),
        Err(e) => tracing::error!(error = %e, "could not check the servers' power states"),
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // On a shared store the node joins, and its membership loop resumes what it may run (its
    // own earlier sagas, those of dead nodes) instead of everything unfinished.
    let membership = match app.ctx.store.cluster() {
        Some(_) => {
            let address = format!("http://{}", listener.local_addr()?);
            let spec = ecs_store::cluster::NodeSpec {
                name: app.node.name.clone(),
                address,
                vcpus: app.node.vcpus,
                memory_mib: app.node.memory_mib,
            };
            let m = crate::cluster::Membership::join(app.ctx.store.clone(), &spec, app.node.lease, app.node.heartbeat)
                .await
                .map_err(std::io::Error::other)?;
            let _ = app.node.membership.set(m.clone());
            // Sagas recorded for this host by other nodes are picked up this often.
            let poll = if app.node.host_bound { Duration::from_millis(200) } else { app.node.heartbeat };
            Some(tokio::spawn(m.run(app.executor.clone(), poll, stop_rx.clone())))
        }
        None => {
            match app.executor.recover().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sagas = n, "resumed unfinished operations"),
                Err(e) => tracing::error!(error = %e, "could not load unfinished operations"),
            }
            None
        }
    };
    let store = app.ctx.store.clone();
    let audit = app.audit.clone();
    let expiry = tokio::spawn(async move {
        loop {
            let cutoff = ecs_model::timefmt::now_ms() - crate::finished_jobs::JOB_RETENTION.as_millis() as i64;
            if let Err(e) = store.job_expire(cutoff).await {
                tracing::warn!(error = %e, "job expiry failed");
            }
            if let Err(e) = store.trace_expire(audit.cutoff_ms()).await {
                tracing::warn!(error = %e, "trace expiry failed");
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    // Scheduled deletions: read at start-up, then at each deadline and after each change.
    let scheduler = tokio::spawn(crate::auto_terminate::run(app.clone(), stop_rx.clone()));
    let audit = app.audit.clone();
    let router = crate::http::router(app);
    let mut loops = vec![tokio::spawn(accept_loop(listener, None, router.clone(), limits.clone(), stop_rx.clone()))];
    if let Some((l, cfg)) = tls {
        loops.push(tokio::spawn(accept_loop(l, Some(cfg), router, limits, stop_rx)));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    if let Some(m) = membership {
        let _ = m.await;
    }
    expiry.abort();
    let _ = scheduler.await;
    // The traces of the last requests answered.
    audit.flush().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::repair_power_states;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn servers_whose_vm_died_are_shown_shutoff_and_the_others_are_left_alone() {
        let h = Harness::new_plain().await;
        let (dead, alive, stopped) = (h.create_server().await, h.create_server().await, h.create_server().await);
        h.assert_succeeded(&h.power(&stopped, "os-stop").await).await;
        // The VM goes away behind ecsd's back (the host rebooted while it was down).
        h.app.ctx.driver.vm_destroy(&dead).await.unwrap();
        assert_eq!(h.server(&dead).await.server.status(), "ACTIVE");
        assert_eq!(repair_power_states(&h.app).await, Ok(1));
        assert_eq!(h.server(&dead).await.server.status(), "SHUTOFF");
        assert_eq!(h.server(&alive).await.server.status(), "ACTIVE");
        assert_eq!(h.server(&stopped).await.server.status(), "SHUTOFF");
        assert_eq!(repair_power_states(&h.app).await, Ok(0), "nothing left to repair");
    }
}
