//! The `ecsd` command: `ecsd serve` runs the Huawei Cloud ECS-compatible service.

use clap::Parser;
use ecsd::config::{Cli, LogFormat};
use tracing_subscriber::filter::{FilterExt, Targets};
use tracing_subscriber::layer::Filter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

// Every request and saga step allocates a few hundred small objects (JSON values, strings,
// boxed futures); in the write-heavy benchmarks glibc's allocator was about 15 % of ecsd's CPU
// (see docs/benchmarks.md). mimalloc's per-thread free lists cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threads for blocking work: password hashing and QEMU's disk work (the SQLite store runs its
/// scans on threads of its own). Far fewer than tokio's default of 512: each thread that ever
/// ran keeps its own allocator pages, which under 64 concurrent server lists (when they ran
/// here) added a few hundred megabytes of resident memory for no gain in throughput.
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
///
/// A filter of targets and levels only (`info`, `ecsd=debug,ecs_store=trace`: what nearly every
/// setting says) is a [`Targets`], decided once per call site. `EnvFilter` reads a lock at
/// every span's creation, entry, exit and close, to support span and field directives
/// (`[request]=debug`); every request paid for that, on every core. It is used only when the
/// setting has such a directive.
fn log_filter<S>() -> Box<dyn Filter<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let asked = std::env::var("ECSD_LOG").unwrap_or_default();
    let quiet_pg = !asked.contains("tokio_postgres");
    let spec = if asked.trim().is_empty() { "info" } else { asked.as_str() };
    if !spec.contains('[') && !spec.contains('{') {
        if let Ok(targets) = spec.parse::<Targets>() {
            return match quiet_pg {
                true => FilterExt::boxed(targets.with_target("tokio_postgres", tracing::Level::INFO)),
                false => FilterExt::boxed(targets),
            };
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("ECSD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if !quiet_pg {
        return FilterExt::boxed(filter);
    }
    match "tokio_postgres=info".parse() {
        Ok(quiet) => FilterExt::boxed(filter.add_directive(quiet)),
        Err(_) => FilterExt::boxed(filter),
    }
}

async fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Colours only for a person at a terminal: a log file or collector gets plain text, and
    // each request's span fields are not wrapped in escape codes that nobody reads.
    use std::io::IsTerminal as _;
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
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
