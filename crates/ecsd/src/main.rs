//! The `ecsd` command: `ecsd serve` runs the Huawei Cloud ECS-compatible service.

use clap::Parser;
use ecsd::config::{Cli, LogFormat};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

// Every request and saga step allocates a few hundred small objects (JSON values, strings,
// boxed futures); in the write-heavy benchmarks glibc's allocator was about 15 % of ecsd's CPU
// (see docs/benchmarks.md). mimalloc's per-thread free lists cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threads for blocking work: store scans (lists), password hashing, QEMU's tools. Far fewer
/// than tokio's default of 512: each thread that ever ran keeps its own allocator pages and,
/// while it reads, its own SQLite connection and page cache, which under 64 concurrent server
/// lists added a few hundred megabytes of resident memory for no gain in throughput.
const BLOCKING_THREADS: usize = 16;

/// How long blocking work may still run once `serve` has returned.
const BLOCKING_WORK_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

fn main() -> std::process::ExitCode {
    let rt =
        match tokio::runtime::Builder::new_multi_thread().max_blocking_threads(BLOCKING_THREADS).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("ecsd: cannot start the runtime: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
    let code = rt.block_on(run());
    // Dropping a runtime waits for every blocking task to end, however long it runs. By now
    // the connections have had their grace; what may be left (a store read, a disk image
    // being written for a saga) is abandoned: the store's writes are transactions and sagas
    // resume on the next start, as after a crash.
    rt.shutdown_timeout(BLOCKING_WORK_GRACE);
    code
}

/// `ECSD_LOG`, else `info`. The PostgreSQL client logs every statement's parameters at debug
/// level, and some of them are secrets (the token secret and the bootstrap account that nodes
/// sharing a database keep in it), so its debug lines are left out unless `ECSD_LOG` names it.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let asked = std::env::var("ECSD_LOG").unwrap_or_default();
    let filter = tracing_subscriber::EnvFilter::try_from_env("ECSD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if asked.contains("tokio_postgres") {
        return filter;
    }
    match "tokio_postgres=info".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    }
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match cli.log_format {
        LogFormat::Text => logs.boxed(),
        // Each line's spans (the request's, the saga step's) come with it, so a collector sees
        // the request id, project and route, or the job, saga and step, without joining lines.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(true).boxed(),
    };
    // The saga metrics read the executor's spans and its debug lines, whatever the log level.
    let saga_metrics = ecsd::metrics::SagaMetricsLayer
        .with_filter(tracing_subscriber::filter::Targets::new().with_target("ecs_saga", tracing::Level::DEBUG));
    tracing_subscriber::registry().with(logs.with_filter(log_filter())).with(saga_metrics).init();
    match ecsd::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecsd: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
