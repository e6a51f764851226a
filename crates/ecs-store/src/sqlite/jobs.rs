//! Jobs and the saga log. A saga's id is its job's id: finishing the one finishes the other in
//! the same transaction, so a job can never say RUNNING for a saga that has ended.

use super::catalog::{decode, encode, query_bodies_in_rowid_order};
use super::{backend, execute_cached, query_row_cached, SqliteStore};
use crate::{LoggedEvent, StoreError};
use async_trait::async_trait;
use ecs_model::job::{Job, JobStatus};
use ecs_saga::{LogError, Outcome, SagaLog, SagaRecord, StepEvent};
use rusqlite::{params, Connection, OptionalExtension};

pub(crate) fn job_insert_in(c: &Connection, j: &Job) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO jobs (id, project_id, parent_id, status, end_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![j.id, j.project_id, j.parent_id, j.status.as_str(), j.end_ms, encode(j).unwrap_or_default()])
    })
    .map_err(backend)?;
    Ok(())
}

/// Inserts a saga record and the events it already carries.
pub(crate) fn saga_insert_in(c: &Connection, s: &SagaRecord) -> Result<(), StoreError> {
    c.prepare_cached("INSERT INTO sagas (id, kind, version, params, done) VALUES (?1, ?2, ?3, ?4, 0)")
        .and_then(|mut st| st.execute(params![s.id, s.kind, s.version, s.params.to_string()]))
        .map_err(backend)?;
    let bodies = s.events.iter().map(|e| serde_json::to_string(e).map_err(backend)).collect::<Result<Vec<_>, _>>()?;
    events_insert_in(c, &s.id, 0, &bodies)
}

/// Writes a saga's next events (JSON bodies), numbered after the `after` it already has and
/// stamped with the time of writing.
fn events_insert_in(c: &Connection, saga_id: &str, after: i64, bodies: &[String]) -> Result<(), StoreError> {
    let now = ecs_model::timefmt::now_ms();
    for (seq, body) in (after + 1..).zip(bodies) {
        execute_cached(
            c,
            "INSERT INTO saga_events (saga_id, seq, body, at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![saga_id, seq, body, now],
        )
        .map_err(backend)?;
    }
    Ok(())
}

pub(crate) use crate::rules::starts_first_step;

fn job_get_in(c: &Connection, id: &str) -> Result<Option<Job>, StoreError> {
    let b: Option<String> = c
        .prepare_cached("SELECT body FROM jobs WHERE id = ?1")
        .and_then(|mut st| st.query_row(params![id], |r| r.get(0)).optional())
        .map_err(backend)?;
    b.map(|b| decode(&b)).transpose()
}

fn job_put_in(c: &Connection, j: &Job) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE jobs SET status = ?1, end_ms = ?2, body = ?3 WHERE id = ?4")
        .and_then(|mut st| st.execute(params![j.status.as_str(), j.end_ms, encode(j).unwrap_or_default(), j.id]))
        .map_err(backend)?;
    Ok(())
}

fn log_err(e: StoreError) -> LogError {
    LogError::Failed(e.to_string())
}

impl SqliteStore {
    pub(crate) async fn job_with_children(
        &self,
        project_id: &str,
        id: &str,
    ) -> Result<Option<(Job, Vec<Job>)>, StoreError> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.read_now(move |c| {
            let Some(job) = job_get_in(c, &id)? else {
                return Ok(None);
            };
            if job.project_id != p {
                return Ok(None);
            }
            if !job.may_have_sub_jobs() {
                return Ok(Some((job, Vec::new())));
            }
            let children: Vec<Job> =
                query_bodies_in_rowid_order(c, "SELECT rowid, body FROM jobs WHERE parent_id = ?1", &id)?;
            Ok(Some((job, children)))
        })
        .await
    }

    pub(crate) async fn events_of(&self, saga_ids: &[String]) -> Result<Vec<LoggedEvent>, StoreError> {
        let ids = saga_ids.to_vec();
        self.read_now(move |c| {
            let mut st = c
                .prepare_cached("SELECT seq, at_ms, body FROM saga_events WHERE saga_id = ?1 ORDER BY seq")
                .map_err(backend)?;
            let mut out = Vec::new();
            for id in ids {
                let rows = st
                    .query_map(params![id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, String>(2)?))
                    })
                    .map_err(backend)?;
                for row in rows {
                    let (seq, at_ms, body) = row.map_err(backend)?;
                    out.push(LoggedEvent { saga_id: id.clone(), seq, at_ms, event: decode(&body)? });
                }
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn jobs_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.write(move |c| {
            // Only whole trees: a parent goes with its sub-jobs once every one of them is done.
            execute_cached(
                c,
                "DELETE FROM saga_events WHERE saga_id IN (SELECT id FROM jobs WHERE end_ms IS NOT NULL AND end_ms < ?1)",
                params![before_ms],
            )
            .map_err(backend)?;
            execute_cached(
                c,
                "DELETE FROM sagas WHERE done = 1 AND id IN (SELECT id FROM jobs WHERE end_ms IS NOT NULL AND end_ms < ?1)",
                params![before_ms],
            )
            .map_err(backend)?;
            let n = c
                .execute(
                    "DELETE FROM jobs WHERE end_ms IS NOT NULL AND end_ms < ?1
                       AND NOT EXISTS (SELECT 1 FROM jobs ch WHERE ch.parent_id = jobs.id AND (ch.end_ms IS NULL OR ch.end_ms >= ?1))",
                    params![before_ms],
                )
                .map_err(backend)?;
            Ok(n as u64)
        })
        .await
    }
}

/// The events' bodies, encoded off the writer thread.
fn bodies_of(events: &[StepEvent]) -> Result<Vec<String>, LogError> {
    events.iter().map(|e| serde_json::to_string(e).map_err(|e| LogError::Failed(e.to_string()))).collect()
}

/// Appends events (encoded: `bodies`) to a saga's log; `starting` when they start its first
/// step, which makes its job RUNNING.
fn append_in(c: &Connection, id: &str, bodies: &[String], starting: bool) -> Result<(), StoreError> {
    // Events are numbered 1, 2, 3... and only ever deleted with their saga, so the count is
    // the last number. Not `MAX(seq)` (nor `ORDER BY seq DESC LIMIT 1`): with the
    // `saga_id = ?1` parameter, SQLite compiles those again on every execution, which was a
    // fifth of the writer thread's time.
    let last: i64 =
        query_row_cached(c, "SELECT COUNT(*) FROM saga_events WHERE saga_id = ?1", params![id], |r| r.get(0))
            .map_err(backend)?;
    events_insert_in(c, id, last, bodies)?;
    if starting && last == 0 {
        if let Some(mut job) = job_get_in(c, id)? {
            if job.status == JobStatus::Init {
                job.status = JobStatus::Running;
                job_put_in(c, &job)?;
            }
        }
    }
    Ok(())
}

/// Records the end of a saga (encoded: `text`) and ends its job.
fn finish_in(c: &Connection, id: &str, outcome: Outcome, text: &str) -> Result<(), StoreError> {
    execute_cached(c, "UPDATE sagas SET done = 1, outcome = ?1 WHERE id = ?2", params![text, id]).map_err(backend)?;
    if let Some(mut job) = job_get_in(c, id)? {
        crate::rules::end_job(&mut job, outcome);
        job_put_in(c, &job)?;
    }
    Ok(())
}

/// A saga step's record ([`crate::Begin::log`]), encoded off the writer thread.
pub(crate) struct EncodedLog {
    id: String,
    bodies: Vec<String>,
    starting: bool,
    outcome: Option<(Outcome, String)>,
}

impl EncodedLog {
    pub(crate) fn new(log: ecs_saga::LogWrite) -> Result<Self, StoreError> {
        let bodies = bodies_of(&log.events).map_err(|e| StoreError::Backend(e.to_string()))?;
        let outcome = log.outcome.map(|o| encode(&o).map(|text| (o, text))).transpose()?;
        Ok(EncodedLog { starting: starts_first_step(&log.events), id: log.saga_id, bodies, outcome })
    }

    /// Writes it, in the caller's transaction.
    pub(crate) fn write_in(self, c: &Connection) -> Result<(), StoreError> {
        append_in(c, &self.id, &self.bodies, self.starting)?;
        match self.outcome {
            Some((outcome, text)) => finish_in(c, &self.id, outcome, &text),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl SagaLog for SqliteStore {
    // The epoch is not checked: one process at a time opens a SQLite store (the data
    // directory's lock), so no other node can have adopted a saga.
    async fn append(&self, saga_id: &str, _epoch: i64, events: &[StepEvent]) -> Result<(), LogError> {
        let id = saga_id.to_string();
        let bodies = bodies_of(events)?;
        let starting = starts_first_step(events);
        self.write(move |c| append_in(c, &id, &bodies, starting)).await.map_err(log_err)
    }

    async fn finish(&self, saga_id: &str, _epoch: i64, outcome: &Outcome) -> Result<(), LogError> {
        let id = saga_id.to_string();
        let outcome = outcome.clone();
        let text = encode(&outcome).map_err(log_err)?;
        self.write(move |c| finish_in(c, &id, outcome, &text)).await.map_err(log_err)
    }

    async fn append_and_finish(
        &self,
        saga_id: &str,
        epoch: i64,
        events: &[StepEvent],
        outcome: &Outcome,
    ) -> Result<(), LogError> {
        let log = ecs_saga::LogWrite {
            saga_id: saga_id.to_string(),
            epoch,
            events: events.to_vec(),
            outcome: Some(outcome.clone()),
        };
        let log = EncodedLog::new(log).map_err(log_err)?;
        self.write(move |c| log.write_in(c)).await.map_err(log_err)
    }

    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT id, kind, version, params FROM sagas WHERE done = 0 ORDER BY rowid")
                .map_err(backend)?;
            let heads: Vec<SagaHead> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            heads.into_iter().map(|head| record_in(c, head)).collect()
        })
        .await
        .map_err(log_err)
    }

    async fn load(&self, saga_id: &str) -> Result<Option<SagaRecord>, LogError> {
        let id = saga_id.to_string();
        self.read_now(move |c| {
            let head: Option<SagaHead> = query_row_cached(
                c,
                "SELECT id, kind, version, params FROM sagas WHERE id = ?1 AND done = 0",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(backend)?;
            head.map(|head| record_in(c, head)).transpose()
        })
        .await
        .map_err(log_err)
    }
}

/// A saga's row: id, kind, version and parameters (JSON text).
type SagaHead = (String, String, u32, String);

/// The record of the saga whose row is `head`, with its events in order.
fn record_in(c: &Connection, (id, kind, version, params): SagaHead) -> Result<SagaRecord, StoreError> {
    let mut ev = c.prepare_cached("SELECT body FROM saga_events WHERE saga_id = ?1 ORDER BY seq").map_err(backend)?;
    let events = ev
        .query_map(params![id], |r| r.get::<_, String>(0))
        .map_err(backend)?
        .map(|b| b.map_err(backend).and_then(|b| decode::<StepEvent>(&b)))
        .collect::<Result<Vec<_>, _>>()?;
    let params = serde_json::from_str(&params).map_err(backend)?;
    Ok(SagaRecord { events, ..SagaRecord::new(id, &kind, version, params) })
}
