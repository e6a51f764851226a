//! What each `ecsd` subcommand does.

use crate::accounts::Accounts;
use crate::config::{Cli, Command, DriverKind, FileConfig, ImageCommand, ServeArgs, StoreChoice};
use crate::datadir::{self, DataDir};
use crate::listener::Limits;
use crate::server::{self, DriverChoice, Options};
use ecs_store::Store;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Image(ImageCommand::BuildDemo(a)) => crate::images::build_demo(a).await,
        Command::Image(ImageCommand::Import(a)) => crate::images::import(a).await,
        Command::Check(a) => {
            // `main` turns every error into exit status 1; the check needs three (healthy,
            // damaged, could not run), so it ends the process itself, once its report is out.
            let code = crate::check::run(&a.data_dir);
            let _ = std::io::stdout().flush();
            std::process::exit(code)
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.data_dir).map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
    // Held until the service has stopped: nothing below may touch the directory without it.
    let _lock = DataDir::lock(&args.data_dir)?;
    let file = match &args.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    // The database first: whether the directory is new decides whether a missing account file
    // may be generated.
    let (store, history, store_line): (Arc<dyn Store>, _, _) = match StoreChoice::parse(args.store.as_deref())? {
        StoreChoice::Sqlite => {
            let (s, h) = datadir::open_store(&args.data_dir).await?;
            let line = format!("sqlite ({})", s.path().display());
            (Arc::new(s), h, line)
        }
        StoreChoice::Postgres(url) => {
            let (s, h) = datadir::open_pg_store(&url, args.store_pool, Duration::from_millis(args.lease_ms)).await?;
            let line = s.describe().to_string();
            (Arc::new(s), h, line)
        }
    };
    let accounts = Accounts::load_shared(&args.data_dir, &file, &args.region, history, store.as_ref()).await?;
    let bootstrap = accounts.bootstrap().cloned().ok_or("no account configured")?;
    let (driver, driver_line) = match args.driver {
        DriverKind::Sim => (DriverChoice::Sim, format!("sim ({} ms per step)", args.sim_step_ms)),
        DriverKind::Qemu => {
            let accel: ecs_driver::qemu::Accel = args.accel.parse()?;
            // `auto` also boots a kernel of the images, when there is one (see `probe_kernel`).
            let kernel = ecs_driver::qemu::probe_kernel(&args.data_dir.join("images"));
            let info = tokio::task::spawn_blocking(move || ecs_driver::qemu::check_host_with(accel, kernel.as_deref()))
                .await
                .map_err(|e| e.to_string())??;
            let cfg = ecs_driver::qemu::QemuConfig {
                accel: info.accel,
                stop_timeout: Duration::from_secs(args.qemu_stop_timeout_secs),
            };
            (DriverChoice::Qemu(cfg), format!("qemu, {} ({}; {})", info.accel, info.accel_reason, info.qemu_version))
        }
    };
    // Registered before anything runs: the store's commits are observed from the first.
    crate::metrics::metrics();
    let app = server::build(Options {
        driver,
        data_dir: args.data_dir.clone(),
        sim_step: Duration::from_millis(args.sim_step_ms),
        accounts,
        faults: file.faults.clone(),
        run_steps_twice: false,
        rate_limit: args.rate_limit,
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        store: Some(store),
        quotas: args.quotas(&file)?,
        node_name: args.node_name.clone().unwrap_or_else(crate::cluster::Node::default_name),
        host_vcpus: args.host_vcpus,
        host_memory_mib: args.host_memory_mib,
        sim_shared: args.sim_state.map(|s| s == crate::config::SimState::Shared),
        lease: Duration::from_millis(args.lease_ms),
        heartbeat: Duration::from_millis(args.heartbeat_ms),
        trace_retention: Duration::from_secs(args.trace_retention_days * 24 * 3600),
    })
    .await?;
    let listener =
        TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let endpoint = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let tls = match args.listen_tls.as_str() {
        "off" | "none" | "" => None,
        addr => {
            let cfg = crate::tls::server_config(&args.data_dir, args.tls_cert.as_deref(), args.tls_key.as_deref())?;
            let l = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            Some((l, cfg))
        }
    };
    let tls_endpoint = match &tls {
        Some((l, _)) => format!("https://{}", l.local_addr().map_err(|e| e.to_string())?),
        None => "off".into(),
    };
    // Metrics on a listener of their own: a scraper needs no API credentials, and the API's
    // port exposes nothing unsigned beyond what it must.
    let metrics_line = match args.metrics_listen {
        None => "off".to_string(),
        Some(addr) => {
            let l = TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
            let at = format!("http://{}/metrics", l.local_addr().map_err(|e| e.to_string())?);
            let router =
                axum::Router::new().route("/metrics", axum::routing::get(serve_metrics)).with_state(app.ctx.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(l, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
            at
        }
    };
    if args.heartbeat_ms == 0 || args.heartbeat_ms * 2 > args.lease_ms {
        return Err(format!(
            "--heartbeat-ms ({}) must be above 0 and at most half of --lease-ms ({})",
            args.heartbeat_ms, args.lease_ms
        ));
    }
    let limits = Limits {
        max_connections: args.max_connections,
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        ..Limits::default()
    };
    // Written with errors ignored: a closed stdout (a supervisor that stopped reading) must not
    // take the service down.
    let node_line =
        format!("{} ({} vCPUs, {} MiB)", app.node.name, capacity(app.node.vcpus), capacity(app.node.memory_mib));
    let lines = Banner {
        endpoint: &endpoint,
        tls_endpoint: &tls_endpoint,
        driver: &driver_line,
        store: &store_line,
        node: &node_line,
        metrics: &metrics_line,
    };
    let banner = banner(&lines, &bootstrap, &args);
    let _ = std::io::stdout().write_all(banner.as_bytes());
    let _ = std::io::stdout().flush();
    server::serve(listener, tls, limits, app, shutdown_signal()).await.map_err(|e| e.to_string())
}

/// `GET /metrics`: the Prometheus text exposition. The servers by status are counted now (one
/// grouped scan), so that every node of a cluster reports the same figures; the VMs running
/// are this node's driver's.
async fn serve_metrics(
    axum::extract::State(ctx): axum::extract::State<std::sync::Arc<crate::context::Ctx>>,
) -> impl axum::response::IntoResponse {
    let m = crate::metrics::metrics();
    match ctx.driver.vms_running().await {
        Ok(Some(n)) => m.vms_running.set(i64::try_from(n).unwrap_or(i64::MAX)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot count the running VMs for the metrics"),
    }
    match ctx.store.server_status_counts().await {
        Ok(counts) => {
            m.servers.reset();
            for (status, n) in counts {
                m.servers.with_label_values(&[status.as_str()]).set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot count the servers for the metrics"),
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], m.render())
}

/// Resolves on SIGTERM or SIGINT. Accepting stops at once; requests in flight get the shutdown
/// grace (see [`crate::listener::accept_loop`]); `main` then bounds the blocking work left.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// A capacity as the banner shows it.
fn capacity(n: i64) -> String {
    if n >= crate::cluster::UNLIMITED {
        "unlimited".to_string()
    } else {
        n.to_string()
    }
}

/// The banner's lines about this process: where it listens and what it runs on.
struct Banner<'a> {
    endpoint: &'a str,
    tls_endpoint: &'a str,
    driver: &'a str,
    store: &'a str,
    node: &'a str,
    metrics: &'a str,
}

/// What a client needs, printed at start-up.
fn banner(b: &Banner<'_>, a: &crate::accounts::Account, args: &ServeArgs) -> String {
    let Banner { endpoint, tls_endpoint, driver, store, node, metrics } = *b;
    format!(
        "ecsd {version} serving the Huawei Cloud ECS API
  endpoint:   {endpoint}
  https:      {tls_endpoint}
  project_id: {project}
  user_id:    {user}
  ak:         {ak}
  sk:         {sk}
  driver:     {driver}
  store:      {store}
  node:       {node}
  metrics:    {metrics}
  data dir:   {data}

Python SDK:
  client = (EcsClient.new_builder()
            .with_credentials(BasicCredentials(\"{ak}\", \"<sk>\", \"{project}\"))
            .with_endpoints([\"{endpoint}\"]).build())
",
        version = env!("CARGO_PKG_VERSION"),
        project = a.project_id,
        user = a.user_id,
        ak = a.ak,
        sk = a.sk,
        data = args.data_dir.display(),
    )
}
