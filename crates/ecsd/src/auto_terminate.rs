//! The scheduler of scheduled deletions (`auto_terminate_time`): one task per process that
//! sleeps until the earliest deadline in the database, then deletes each server that is due
//! through the normal delete path (`app::servers::delete`: the gate, the compare-and-swap of
//! `Store::begin`, the delete saga). It reads the deadlines again at start-up, after every
//! change made through this process (`wake`), and at least every `POLL` (changes made through
//! other nodes of a shared database).
//!
//! A server that cannot be deleted when it is due (busy with another operation, locked, its
//! host down) keeps its deadline and is tried again `RETRY` later, so a deadline is never
//! lost. With several nodes every node's scheduler tries; `begin`'s compare-and-swap lets one
//! delete start and refuses the others as busy, and their next read finds the server deleting
//! or gone.

use crate::caller::Caller;
use crate::context::App;
use ecs_model::timefmt::now_ms;
use ecs_types::requests::{DeleteServersBody, IdRef};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Notify;

/// Woken by every change of a deadline made through this process. One for the process: a
/// wake-up of another `App` in the same process (tests) only makes a scheduler read again.
static WAKE: Notify = Notify::const_new();

/// How many of the earliest deadlines one round reads.
const BATCH: i64 = 100;

/// A due server that could not be deleted is tried again this much later (ms).
const RETRY_MS: i64 = 1000;

/// Deadlines are read again at least this often, for those set through other nodes.
const POLL_SHARED: Duration = Duration::from_secs(1);
const POLL_LOCAL: Duration = Duration::from_secs(60);

/// A deadline was set, moved or cancelled: read them again now.
pub fn wake() {
    WAKE.notify_one();
}

/// Runs until `stop` turns true.
pub async fn run(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    let poll = if app.ctx.store.shared() { POLL_SHARED } else { POLL_LOCAL };
    // Servers tried and not (yet) gone: when each may be tried again.
    let mut tried: HashMap<String, i64> = HashMap::new();
    loop {
        let next = round(&app, &mut tried).await;
        let now = now_ms();
        let wait = next.map(|n| Duration::from_millis((n - now).max(0) as u64)).unwrap_or(poll).min(poll);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = WAKE.notified() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Deletes what is due; returns when the next deadline (or retry) falls.
async fn round(app: &App, tried: &mut HashMap<String, i64>) -> Option<i64> {
    let due = match app.ctx.store.server_deadlines(BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the scheduled deletions");
            return Some(now_ms() + RETRY_MS);
        }
    };
    tried.retain(|id, _| due.iter().any(|(_, d, _)| d == id));
    let mut next: Option<i64> = None;
    for (project_id, id, at) in due {
        let now = now_ms();
        let when = at.max(tried.get(&id).copied().unwrap_or(i64::MIN));
        if when > now {
            next = Some(next.map_or(when, |n| n.min(when)));
            continue;
        }
        match terminate(app, &project_id, &id).await {
            Ok(job) => tracing::info!(server = %id, job = %job, "scheduled deletion started"),
            Err(e) => tracing::debug!(server = %id, error = %e.message, "scheduled deletion tried again later"),
        }
        let again = now + RETRY_MS;
        tried.insert(id, again);
        next = Some(next.map_or(again, |n| n.min(again)));
    }
    next
}

/// Starts the delete of one server as its own user would.
async fn terminate(app: &App, project_id: &str, id: &str) -> Result<String, ecs_model::Error> {
    let Some(s) = app.ctx.store.server_only(project_id, id).await.map_err(crate::app::internal)? else {
        return Err(ecs_model::Error::server_not_found(id));
    };
    let caller = Caller { user_id: s.user_id.clone(), project_id: project_id.to_string(), ak: String::new() };
    let body = DeleteServersBody {
        servers: Some(vec![IdRef { id: Some(id.to_string()) }]),
        delete_publicip: None,
        delete_volume: None,
    };
    crate::app::servers::delete(app, &caller, body).await
}
