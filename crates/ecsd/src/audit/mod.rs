//! The audit trail: every write request, and every failed authentication, recorded as a trace
//! the trace service's `ListTraces` reads back, per project, for a configured retention.
//!
//! Requests hand their traces to a recorder task that writes them in batches, so that a
//! burst of writes costs the database one transaction per batch rather than one per request.
//! A reader flushes it first ([`Audit::flush`]), and so does shutdown: what a node answered is
//! in the trail by the time anyone can ask, and a crash loses at most the batch being written.

pub mod operations;
pub mod record;

use ecs_store::{Store, TraceRecord};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long traces are kept by default: a week, as the trace service keeps them.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Traces waiting to be written, at most: past this, requests wait for the recorder (the
/// trail is never dropped to keep up).
const QUEUE: usize = 8192;
/// Traces written in one transaction, at most.
const BATCH: usize = 512;

enum Msg {
    Trace(Box<TraceRecord>),
    /// Answered once every trace sent before it is written.
    Flush(oneshot::Sender<()>),
}

/// The recorder's handle: cheap to clone into every request.
#[derive(Clone)]
pub struct Audit {
    tx: mpsc::Sender<Msg>,
    pub retention: Duration,
    /// What each route's trace names it.
    pub operations: Arc<operations::Operations>,
}

impl Audit {
    /// Starts the recorder, which writes to `store` until every handle is gone.
    pub fn start(store: Arc<dyn Store>, retention: Duration) -> Audit {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(store, rx));
        let operations = operations::Operations::from_document(crate::http::openapi::document());
        Audit { tx, retention, operations: Arc::new(operations) }
    }

    /// Queues a trace (waits only when the queue is full).
    pub async fn record(&self, trace: TraceRecord) {
        if self.tx.send(Msg::Trace(Box::new(trace))).await.is_err() {
            tracing::error!("the audit recorder has stopped; a trace was not recorded");
        }
    }

    /// Queues a trace without waiting, where a request cannot wait (the authentication layer);
    /// when the queue is full, a task waits for room instead.
    pub fn record_now(&self, trace: TraceRecord) {
        if let Err(mpsc::error::TrySendError::Full(m)) = self.tx.try_send(Msg::Trace(Box::new(trace))) {
            let tx = self.tx.clone();
            tokio::spawn(async move { tx.send(m).await });
        }
    }

    /// Resolves once every trace queued before the call is written (or could not be).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// The cut-off of the retention from now, in milliseconds since the epoch.
    pub fn cutoff_ms(&self) -> i64 {
        ecs_model::timefmt::now_ms() - i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX)
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Msg>) {
    let mut msgs = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut msgs, BATCH).await > 0 {
        let mut traces = Vec::new();
        let mut flushes = Vec::new();
        for m in msgs.drain(..) {
            match m {
                Msg::Trace(t) => traces.push(*t),
                Msg::Flush(done) => flushes.push(done),
            }
        }
        if !traces.is_empty() {
            write(store.as_ref(), traces).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes a batch, trying again a few times (a full disk, a database restarting): the trail
/// is what an operator reads after something went wrong, when the database may be unwell too.
async fn write(store: &dyn Store, traces: Vec<TraceRecord>) {
    let mut pause = Duration::from_millis(50);
    for attempt in 1..=5 {
        match store.trace_insert(traces.clone()).await {
            Ok(()) => return,
            Err(e) if attempt == 5 => {
                tracing::error!(error = %e, traces = traces.len(), "could not record traces; they are lost");
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "could not record traces; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
}
