//! What each `ecsd` subcommand does.

use crate::accounts::Accounts;
use crate::config::{Cli, Command, FileConfig, ServeArgs};
use crate::server::{self, Options};
use std::io::Write;
use std::time::Duration;
use tokio::net::TcpListener;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.data_dir).map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
    let file = match &args.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let accounts = Accounts::load(&args.data_dir, &file, &args.region)?;
    let bootstrap = accounts.bootstrap().cloned().ok_or("no account configured")?;
    let app = server::build(Options {
        data_dir: args.data_dir.clone(),
        sim_step: Duration::from_millis(args.sim_step_ms),
        accounts,
        faults: file.faults.clone(),
        run_steps_twice: false,
    })
    .await?;
    let listener =
        TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let endpoint = format!("http://{addr}");
    // Written with errors ignored: a closed stdout (a supervisor that stopped reading) must not
    // take the service down.
    let banner = banner(&endpoint, &bootstrap, &args);
    let _ = std::io::stdout().write_all(banner.as_bytes());
    let _ = std::io::stdout().flush();
    server::serve(listener, app, shutdown_signal()).await.map_err(|e| e.to_string())
}

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

/// What a client needs, printed at start-up.
fn banner(endpoint: &str, a: &crate::accounts::Account, args: &ServeArgs) -> String {
    format!(
        "ecsd {version} serving the Huawei Cloud ECS API
  endpoint:   {endpoint}
  project_id: {project}
  user_id:    {user}
  ak:         {ak}
  sk:         {sk}
  driver:     {driver:?} ({step} ms per step)
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
        driver = args.driver,
        step = args.sim_step_ms,
        data = args.data_dir.display(),
    )
}
