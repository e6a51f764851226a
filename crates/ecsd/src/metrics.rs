//! Prometheus metrics, served at `/metrics` on `--metrics-listen` (off by default).
//!
//! Requests are counted and timed by the HTTP layer (`request_id::assign`), by route template,
//! method and status. Sagas and their steps are measured from the spans the executor opens
//! around them (`saga`, `step`, `undo`), by a tracing layer: the executor knows nothing of
//! metrics, and a step's duration is its span's life.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::OnceLock;
use std::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Every metric ecsd exports.
pub struct Metrics {
    registry: Registry,
    /// `ecsd_http_requests_total{route, method, status}`.
    pub http_requests: IntCounterVec,
    /// `ecsd_http_request_duration_seconds{route, method}`.
    pub http_seconds: HistogramVec,
    /// `ecsd_saga_step_duration_seconds{saga, step, direction, result}`: `direction` is
    /// `forward` or `undo`, `result` `ok` or `error`.
    pub step_seconds: HistogramVec,
    /// `ecsd_sagas_running`: sagas this process is running now.
    pub sagas_running: IntGauge,
    /// `ecsd_sagas_finished_total{saga, outcome}`: `succeeded`, `failed` or `stuck`.
    pub sagas_finished: IntCounterVec,
    /// `ecsd_jobs_accepted_total{type}`: jobs (and sub-jobs) recorded by accepted requests.
    pub jobs_accepted: IntCounterVec,
    /// `ecsd_jobs_finished_total{type, result}`: `SUCCESS` or `FAIL`.
    pub jobs_finished: IntCounterVec,
    /// `ecsd_store_commit_duration_seconds`: one write transaction, begin to commit.
    pub commit_seconds: Histogram,
    /// `ecsd_store_commit_writes`: the requests one commit held (SQLite's group commit).
    pub commit_writes: Histogram,
    /// `ecsd_driver_call_duration_seconds{verb, result}`: one call of the compute driver.
    pub driver_seconds: HistogramVec,
    /// `ecsd_servers{status}`: servers of every project by status, read at each scrape.
    pub servers: IntGaugeVec,
    /// `ecsd_vms_running`: VMs running as this node's driver sees them, read at each scrape.
    pub vms_running: IntGauge,
}

/// Request latencies from 0.5 ms to 10 s; saga steps from 1 ms to 5 min.
const HTTP_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const STEP_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0];

impl Metrics {
    fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("ecsd_http_requests_total", "API requests answered, by route template, method and status."),
            &["route", "method", "status"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new("ecsd_http_request_duration_seconds", "Time to answer an API request.")
                .buckets(HTTP_BUCKETS.to_vec()),
            &["route", "method"],
        )?;
        let step_seconds = HistogramVec::new(
            HistogramOpts::new("ecsd_saga_step_duration_seconds", "Time a saga step (or its undo) took, each try.")
                .buckets(STEP_BUCKETS.to_vec()),
            &["saga", "step", "direction", "result"],
        )?;
        let sagas_running = IntGauge::new("ecsd_sagas_running", "Sagas this process is running now.")?;
        let sagas_finished = IntCounterVec::new(
            Opts::new("ecsd_sagas_finished_total", "Sagas finished here, by kind and outcome."),
            &["saga", "outcome"],
        )?;
        let jobs_accepted = IntCounterVec::new(
            Opts::new("ecsd_jobs_accepted_total", "Jobs and sub-jobs recorded by accepted requests, by job type."),
            &["type"],
        )?;
        let jobs_finished = IntCounterVec::new(
            Opts::new("ecsd_jobs_finished_total", "Jobs and sub-jobs finished here, by job type and result."),
            &["type", "result"],
        )?;
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new("ecsd_store_commit_duration_seconds", "Time a write transaction of the store took.")
                .buckets(HTTP_BUCKETS.to_vec()),
        )?;
        let commit_writes = Histogram::with_opts(
            HistogramOpts::new("ecsd_store_commit_writes", "Write requests one commit of the store held.")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        let driver_seconds = HistogramVec::new(
            HistogramOpts::new("ecsd_driver_call_duration_seconds", "Time a call of the compute driver took.")
                .buckets(STEP_BUCKETS.to_vec()),
            &["verb", "result"],
        )?;
        let servers = IntGaugeVec::new(Opts::new("ecsd_servers", "Servers of every project, by status."), &["status"])?;
        let vms_running = IntGauge::new("ecsd_vms_running", "VMs running, as this node's compute driver sees them.")?;
        for m in [&http_requests, &sagas_finished, &jobs_accepted, &jobs_finished] {
            registry.register(Box::new(m.clone()))?;
        }
        for m in [&http_seconds, &step_seconds, &driver_seconds] {
            registry.register(Box::new(m.clone()))?;
        }
        registry.register(Box::new(sagas_running.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(commit_writes.clone()))?;
        registry.register(Box::new(servers.clone()))?;
        registry.register(Box::new(vms_running.clone()))?;
        ecs_store::observe::set_commit_observer(|took, writes| {
            let m = metrics();
            m.commit_seconds.observe(took.as_secs_f64());
            m.commit_writes.observe(writes as f64);
        });
        Ok(Metrics {
            registry,
            http_requests,
            http_seconds,
            step_seconds,
            sagas_running,
            sagas_finished,
            jobs_accepted,
            jobs_finished,
            commit_seconds,
            commit_writes,
            driver_seconds,
            servers,
            vms_running,
        })
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into memory fails only on a metric family that cannot be written, which
        // the fixed set above never has.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The process's metrics (registered once, on first use).
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| Metrics::new().expect("the metric names and labels are valid"))
}

/// Measures sagas and steps from their spans.
pub struct SagaMetricsLayer;

/// What a `saga`, `step` or `undo` span carries for the metrics.
struct Measured {
    started: Instant,
    /// The saga's kind (`saga` spans) or the step's name (`step`, `undo`).
    name: String,
    /// A step: whether it logged `step succeeded`.
    ok: bool,
    /// An undo: whether it logged `undo failed`.
    failed: bool,
}

/// Reads one string field of a span.
struct FieldOf<'a>(&'a str, Option<String>);

impl Visit for FieldOf<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.0 {
            self.1 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.0 {
            self.1 = Some(format!("{value:?}").trim_matches('"').to_string());
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SagaMetricsLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let field = match attrs.metadata().name() {
            "saga" => "saga",
            "step" | "undo" => "step",
            _ => return,
        };
        let mut v = FieldOf(field, None);
        attrs.record(&mut v);
        if field == "saga" {
            metrics().sagas_running.inc();
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Measured {
                started: Instant::now(),
                name: v.1.unwrap_or_default(),
                ok: false,
                failed: false,
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut message = FieldOf("message", None);
        event.record(&mut message);
        let Some(span) = ctx.event_span(event) else { return };
        match message.1.as_deref() {
            Some("step succeeded") => {
                if let Some(m) = span.extensions_mut().get_mut::<Measured>() {
                    m.ok = true;
                }
            }
            Some("undo failed") => {
                if let Some(m) = span.extensions_mut().get_mut::<Measured>() {
                    m.failed = true;
                }
            }
            Some("saga finished") => {
                let mut outcome = FieldOf("outcome", None);
                event.record(&mut outcome);
                let kind = span
                    .scope()
                    .find(|s| s.name() == "saga")
                    .and_then(|s| s.extensions().get::<Measured>().map(|m| m.name.clone()))
                    .unwrap_or_default();
                metrics().sagas_finished.with_label_values(&[kind.as_str(), outcome.1.as_deref().unwrap_or("")]).inc();
            }
            _ => {}
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let name = span.name();
        if name == "saga" {
            metrics().sagas_running.dec();
            return;
        }
        if name != "step" && name != "undo" {
            return;
        }
        let Some((seconds, step, ok)) = span
            .extensions()
            .get::<Measured>()
            .map(|m| (m.started.elapsed().as_secs_f64(), m.name.clone(), m.ok || (name == "undo" && !m.failed)))
        else {
            return;
        };
        let saga = span
            .scope()
            .skip(1)
            .find(|s| s.name() == "saga")
            .and_then(|s| s.extensions().get::<Measured>().map(|m| m.name.clone()))
            .unwrap_or_default();
        let direction = if name == "step" { "forward" } else { "undo" };
        // An undo logs no success line: one that did not log its failure is counted as done.
        let result = if ok { "ok" } else { "error" };
        metrics().step_seconds.with_label_values(&[saga.as_str(), step.as_str(), direction, result]).observe(seconds);
    }
}

/// The job type of each saga accepted here and not yet finished, so that its end is counted
/// under the type it was accepted as (the saga log knows only the saga).
fn job_types() -> &'static std::sync::Mutex<std::collections::HashMap<String, String>> {
    static T: OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> = OnceLock::new();
    T.get_or_init(Default::default)
}

/// Counts the jobs an accepted request recorded: those that run a saga (a batch's sub-jobs,
/// not their parent, which only sums them up). `here` says which sagas this process runs (the
/// others end on their host, and are counted there).
pub fn jobs_accepted(
    jobs: &[ecs_model::job::Job],
    sagas: &[ecs_saga::SagaRecord],
    here: impl Fn(&ecs_saga::SagaRecord) -> bool,
) {
    let m = metrics();
    let mut types = job_types().lock().unwrap_or_else(|p| p.into_inner());
    for j in jobs {
        let Some(s) = sagas.iter().find(|s| s.id == j.id) else { continue };
        m.jobs_accepted.with_label_values(&[j.job_type.as_str()]).inc();
        if here(s) {
            types.insert(j.id.clone(), j.job_type.clone());
        }
    }
}

/// Counts a job's end. A saga this process did not accept (resumed after a restart, or
/// adopted from another node) is counted under the type `resumed`.
pub fn job_finished(saga_id: &str, outcome: &ecs_saga::Outcome) {
    let kind = job_types().lock().unwrap_or_else(|p| p.into_inner()).remove(saga_id);
    let result = if matches!(outcome, ecs_saga::Outcome::Succeeded) { "SUCCESS" } else { "FAIL" };
    metrics().jobs_finished.with_label_values(&[kind.as_deref().unwrap_or("resumed"), result]).inc();
}

/// The counter and the histogram one kind of request updates, looked up once per thread.
struct RequestHandles {
    route: Box<str>,
    method: Box<str>,
    count: prometheus::IntCounter,
    seconds: Histogram,
}

/// Handles cached per thread, by the route template's address and the status: a lookup by
/// label values hashes every value and takes the vector's lock, twice for every request.
/// The address alone is not trusted (a dropped router's may be reused): each hit compares
/// the route and method too.
type HandleCache = std::collections::HashMap<(usize, u16), Vec<RequestHandles>>;

/// Entries a thread keeps at most before starting over (routes × methods × statuses is far
/// below this; a process that builds many routers, the tests, can reach it).
const HANDLE_CACHE_MAX: usize = 4096;

thread_local! {
    static REQUEST_HANDLES: std::cell::RefCell<HandleCache> = std::cell::RefCell::new(HandleCache::new());
}

/// Counts and times one answered request.
pub fn request_done(route: &str, method: &str, status: axum::http::StatusCode, seconds: f64) {
    REQUEST_HANDLES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= HANDLE_CACHE_MAX {
            cache.clear();
        }
        let entries = cache.entry((route.as_ptr() as usize, status.as_u16())).or_default();
        let at = match entries.iter().position(|h| &*h.route == route && &*h.method == method) {
            Some(at) => at,
            None => {
                let m = metrics();
                entries.push(RequestHandles {
                    route: route.into(),
                    method: method.into(),
                    count: m.http_requests.with_label_values(&[route, method, status.as_str()]),
                    seconds: m.http_seconds.with_label_values(&[route, method]),
                });
                entries.len() - 1
            }
        };
        entries[at].count.inc();
        entries[at].seconds.observe(seconds);
    });
}
