//! The job-event stream: a job's log entries and status changes as server-sent events, read
//! back from the store until the job ends (so it follows a saga whichever node runs it).

use crate::app::job_events;
use crate::caller::Caller;
use crate::context::App;
use axum::response::sse::Event;
use futures_util::stream::{self, Stream};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

/// How often the store is read for new entries: a step takes longer than this, and a read of
/// a job's log is a few key lookups.
const POLL: Duration = Duration::from_millis(100);

/// A stream's progress through one job.
pub(super) struct Follow {
    app: App,
    caller: Caller,
    job_id: String,
    /// The last log entry sent, by saga (job) id.
    sent: HashMap<String, i64>,
    /// The last status sent, by job id.
    status: HashMap<String, String>,
    queued: VecDeque<Event>,
    ended: bool,
    first: bool,
}

impl Follow {
    pub(super) fn new(app: App, caller: Caller, job_id: String) -> Self {
        Follow {
            app,
            caller,
            job_id,
            sent: HashMap::new(),
            status: HashMap::new(),
            queued: VecDeque::new(),
            ended: false,
            first: true,
        }
    }

    pub(super) fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> + Send {
        stream::unfold(self, |mut f| async move {
            loop {
                if let Some(e) = f.queued.pop_front() {
                    return Some((Ok(e), f));
                }
                if f.ended {
                    return None;
                }
                if !f.first {
                    tokio::time::sleep(POLL).await;
                }
                f.first = false;
                f.read().await;
            }
        })
    }

    /// Reads the job and its log, and queues what is new; queues the end when it has ended.
    async fn read(&mut self) {
        let (job, children, logged) = match job_events::load(&self.app, &self.caller, &self.job_id).await {
            Ok(r) => r,
            Err(e) => {
                // The job expired (or the store failed) while it was followed.
                let message = if e.log_only { e.code.default_message().to_string() } else { e.message };
                let body = serde_json::json!({ "error": { "code": e.code.as_str(), "message": message } });
                self.queued.push_back(Event::default().event("error").data(body.to_string()));
                self.ended = true;
                return;
            }
        };
        let view = job_events::view(&job, &children, &logged);
        // The log's new entries first, then the statuses they led to: a client never reads a
        // job's SUCCESS before the steps that came before it.
        for e in &logged {
            let last = self.sent.entry(e.saga_id.clone()).or_insert(0);
            if e.seq > *last {
                *last = e.seq;
                let body = serde_json::to_string(&job_events::event_view(e)).unwrap_or_default();
                self.queued.push_back(Event::default().event("step").id(format!("{}/{}", e.saga_id, e.seq)).data(body));
            }
        }
        for j in std::iter::once(&view).chain(view.sub_jobs.iter()) {
            if self.status.get(&j.job_id) != Some(&j.status) {
                self.status.insert(j.job_id.clone(), j.status.clone());
                let body = serde_json::json!({ "job_id": j.job_id, "status": j.status });
                self.queued.push_back(Event::default().event("status").data(body.to_string()));
            }
        }
        if job_events::finished(&view) {
            let body = serde_json::to_string(&view).unwrap_or_default();
            self.queued.push_back(Event::default().event("end").data(body));
            self.ended = true;
        }
    }
}
