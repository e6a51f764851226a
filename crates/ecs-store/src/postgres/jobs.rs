//! Jobs and the saga log. A saga's id is its job's id: finishing the one finishes the other in
//! the same transaction, so a job can never say RUNNING for a saga that has ended.
//!
//! Every saga write is one transaction whose first statement is the cluster's fence: it reads
//! the saga's epoch (FOR SHARE, so that a claim cannot bump it until the write commits) and
//! refuses the write when it is not the writer's. Each event records the node and the epoch
//! that wrote it.

use super::{bodies, commit, decode, encode, execute, get, query, query_opt, transaction, PgStore};
use crate::cluster::Member;
use crate::rules::starts_first_step;
use crate::{LoggedEvent, StoreError};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use ecs_model::job::{Job, JobStatus};
use ecs_saga::{LogError, Outcome, SagaLog, SagaRecord, StepEvent};

pub(super) async fn job_insert_in(c: &impl GenericClient, j: &Job) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO jobs (id, project_id, parent_id, status, end_ms, body) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&j.id, &j.project_id, &j.parent_id, &j.status.as_str(), &j.end_ms, &encode(j)?],
    )
    .await?;
    Ok(())
}

/// Inserts a saga record and the events it already carries, held by `member` (the node that
/// accepted the request), or, for a saga that only its host can run, by that host, which has
/// not started it yet.
pub(super) async fn saga_insert_in(
    c: &impl GenericClient,
    s: &SagaRecord,
    member: Option<&Member>,
) -> Result<(), StoreError> {
    let me = member.map(|m| m.name.as_str());
    let (owner, incarnation) = saga_owner(s, member);
    execute(
        c,
        "INSERT INTO sagas (id, kind, version, params, done, owner_node, owner_incarnation, owner_epoch, host_node)
         VALUES ($1, $2, $3, $4, false, $5, $6, $7, $8)",
        &[&s.id, &s.kind, &i64::from(s.version), &s.params.to_string(), &owner, &incarnation, &s.epoch, &s.host],
    )
    .await?;
    events_insert_in(c, &s.id, 0, &s.events, me, s.epoch).await
}

/// A job, its saga and the saga's first events in one statement: what most requests accept
/// (one server, one job). [`job_insert_in`] and [`saga_insert_in`] write the same rows in
/// 2 + n statements; every statement costs the database server a parse, a plan and an executor
/// start, which is what bounds acceptances on it.
pub(super) async fn job_with_saga_insert_in(
    c: &impl GenericClient,
    j: &Job,
    s: &SagaRecord,
    member: Option<&Member>,
) -> Result<(), StoreError> {
    let me = member.map(|m| m.name.as_str());
    let (owner, incarnation) = saga_owner(s, member);
    let events = s.events.iter().map(encode).collect::<Result<Vec<String>, _>>()?;
    execute(
        c,
        "WITH job AS (INSERT INTO jobs (id, project_id, parent_id, status, end_ms, body)
                      VALUES ($1, $2, $3, $4, $5, $6)),
              saga AS (INSERT INTO sagas (id, kind, version, params, done, owner_node, owner_incarnation,
                                          owner_epoch, host_node)
                       VALUES ($7, $8, $9, $10, false, $11, $12, $13, $14))
         INSERT INTO saga_events (saga_id, seq, body, node, epoch)
         SELECT $7, e.seq, e.body, $15, $13 FROM unnest($16::text[]) WITH ORDINALITY AS e(body, seq)",
        &[
            &j.id,
            &j.project_id,
            &j.parent_id,
            &j.status.as_str(),
            &j.end_ms,
            &encode(j)?,
            &s.id,
            &s.kind,
            &i64::from(s.version),
            &s.params.to_string(),
            &owner,
            &incarnation,
            &s.epoch,
            &s.host,
            &me,
            &events,
        ],
    )
    .await?;
    Ok(())
}

/// Who holds a saga recorded now: the node that accepted it, or, for a saga only its host can
/// run, that host (with no incarnation: it has not started it yet).
pub(super) fn saga_owner<'a>(s: &'a SagaRecord, member: Option<&'a Member>) -> (Option<&'a str>, Option<i64>) {
    match (&s.host, member) {
        (Some(host), Some(m)) if *host != m.name => (Some(host.as_str()), None),
        (_, Some(m)) => (Some(m.name.as_str()), Some(m.incarnation)),
        (_, None) => (s.host.as_deref(), None),
    }
}

/// Writes a saga's next events, numbered after the `after` it already has, as written by
/// `node` holding the saga at `epoch`.
async fn events_insert_in(
    c: &impl GenericClient,
    saga_id: &str,
    after: i64,
    events: &[StepEvent],
    node: Option<&str>,
    epoch: i64,
) -> Result<(), StoreError> {
    for (seq, e) in (after + 1..).zip(events) {
        execute(
            c,
            "INSERT INTO saga_events (saga_id, seq, body, node, epoch) VALUES ($1, $2, $3, $4, $5)",
            &[&saga_id, &seq, &encode(e)?, &node, &epoch],
        )
        .await?;
    }
    Ok(())
}

/// Why a saga write was refused.
enum Refused {
    /// The saga is held with another epoch: adopted since the writer claimed it.
    Fenced,
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

/// The fence of an append: the saga's row, locked FOR SHARE (a claim, which locks it FOR
/// UPDATE SKIP LOCKED, passes it by until this commits), must carry the writer's epoch.
/// Returns the number of the saga's last event, read in the same statement: one round trip.
async fn fence_in(c: &impl GenericClient, saga_id: &str, epoch: i64) -> Result<i64, Refused> {
    let row = query_opt(
        c,
        "SELECT s.owner_epoch, (SELECT COALESCE(MAX(seq), 0) FROM saga_events WHERE saga_id = s.id)
           FROM sagas s WHERE s.id = $1 FOR SHARE OF s",
        &[&saga_id],
    )
    .await?;
    // A saga that is not in the log (any more) is nobody's to write: fenced as well, so that
    // the writer drops it rather than retrying for ever.
    match row {
        Some(r) if get::<i64>(&r, 0)? == epoch => Ok(get(&r, 1)?),
        _ => Err(Refused::Fenced),
    }
}

/// The fence of a saga step's other writes (a server's state, its volumes): `Fenced` unless
/// the saga is still held at the step's epoch. The row stays locked FOR SHARE until the write
/// commits, so no claim can adopt the saga in between.
pub(super) async fn fence_write_in(c: &impl GenericClient, hold: &ecs_saga::Hold) -> Result<(), StoreError> {
    match fence_in(c, &hold.saga_id, hold.epoch).await {
        Ok(_) => Ok(()),
        Err(Refused::Fenced) => Err(StoreError::Fenced(hold.saga_id.clone())),
        Err(Refused::Store(e)) => Err(e),
    }
}

/// Appends `events` after the saga's event `last` (which its fence read) and makes its job
/// RUNNING when they start its first step.
async fn append_in(
    c: &impl GenericClient,
    saga_id: &str,
    epoch: i64,
    last: i64,
    events: &[StepEvent],
    me: Option<&str>,
) -> Result<(), Refused> {
    events_insert_in(c, saga_id, last, events, me, epoch).await?;
    if starts_first_step(events) && last == 0 {
        if let Some(mut job) = job_get_in(c, saga_id, true).await? {
            if job.status == JobStatus::Init {
                job.status = JobStatus::Running;
                job_put_in(c, &job).await?;
            }
        }
    }
    Ok(())
}

/// Records the end of a saga held at `epoch` and ends its job.
async fn finish_in(c: &impl GenericClient, saga_id: &str, epoch: i64, outcome: &Outcome) -> Result<(), Refused> {
    // The fence is the update's own condition.
    let n = execute(
        c,
        "UPDATE sagas SET done = true, outcome = $1 WHERE id = $2 AND owner_epoch = $3",
        &[&encode(outcome)?, &saga_id, &epoch],
    )
    .await?;
    if n == 0 {
        // Held with another epoch, or not in the log: either way not this writer's.
        return Err(Refused::Fenced);
    }
    if let Some(mut job) = job_get_in(c, saga_id, true).await? {
        crate::rules::end_job(&mut job, outcome.clone());
        job_put_in(c, &job).await?;
    }
    Ok(())
}

/// The fence of a step's record written with the step's changes ([`crate::Begin::log`]):
/// the saga's row locked FOR SHARE, as [`fence_write_in`] does, first in the transaction;
/// returns the number of its last event, for [`log_write_in`].
pub(super) async fn log_fence_in(c: &impl GenericClient, log: &ecs_saga::LogWrite) -> Result<i64, StoreError> {
    fence_in(c, &log.saga_id, log.epoch).await.map_err(|r| fenced_store(&log.saga_id, r))
}

/// Writes a step's record after its fence ([`log_fence_in`] gave `last`).
pub(super) async fn log_write_in(
    c: &impl GenericClient,
    log: &ecs_saga::LogWrite,
    last: i64,
    me: Option<&str>,
) -> Result<(), StoreError> {
    let id = &log.saga_id;
    append_in(c, id, log.epoch, last, &log.events, me).await.map_err(|r| fenced_store(id, r))?;
    if let Some(outcome) = &log.outcome {
        finish_in(c, id, log.epoch, outcome).await.map_err(|r| fenced_store(id, r))?;
    }
    Ok(())
}

fn fenced_store(saga_id: &str, r: Refused) -> StoreError {
    match r {
        Refused::Fenced => StoreError::Fenced(saga_id.to_string()),
        Refused::Store(e) => e,
    }
}

fn refused(saga_id: &str, r: Refused) -> LogError {
    match r {
        Refused::Fenced => LogError::Fenced(saga_id.to_string()),
        Refused::Store(e) => log_err(e),
    }
}

/// Sagas with their logs, epochs and hosts, chosen by `filter` (a WHERE clause over `s`, the
/// sagas table), in the order they were recorded; one statement, so heads and events agree.
pub(super) async fn records_in(
    c: &impl GenericClient,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<SagaRecord>, StoreError> {
    let sql = format!(
        "SELECT s.id, s.kind, s.version, s.params, s.owner_epoch, s.host_node, e.body
           FROM sagas s LEFT JOIN saga_events e ON e.saga_id = s.id
          {filter} ORDER BY s.ord, e.seq"
    );
    let rows = query(c, &sql, params).await?;
    let mut out: Vec<SagaRecord> = Vec::new();
    for r in &rows {
        let id: &str = get(r, 0)?;
        if out.last().is_none_or(|last| last.id != id) {
            let version: i64 = get(r, 2)?;
            let version =
                u32::try_from(version).map_err(|_| StoreError::Damaged(format!("saga {id} has version {version}")))?;
            let mut rec = SagaRecord::new(id, get(r, 1)?, version, decode(get(r, 3)?)?);
            rec.epoch = get(r, 4)?;
            rec.host = get(r, 5)?;
            out.push(rec);
        }
        if let Some(body) = get::<Option<&str>>(r, 6)? {
            let event: StepEvent = decode(body)?;
            if let Some(last) = out.last_mut() {
                last.events.push(event);
            }
        }
    }
    Ok(out)
}

/// The job `id`, locked (FOR UPDATE) when `lock`: its body is rewritten from what was read.
async fn job_get_in(c: &impl GenericClient, id: &str, lock: bool) -> Result<Option<Job>, StoreError> {
    let sql =
        if lock { "SELECT body FROM jobs WHERE id = $1 FOR UPDATE" } else { "SELECT body FROM jobs WHERE id = $1" };
    let row = query_opt(c, sql, &[&id]).await?;
    row.map(|r| get::<&str>(&r, 0).and_then(decode)).transpose()
}

async fn job_put_in(c: &impl GenericClient, j: &Job) -> Result<(), StoreError> {
    execute(
        c,
        "UPDATE jobs SET status = $1, end_ms = $2, body = $3 WHERE id = $4",
        &[&j.status.as_str(), &j.end_ms, &encode(j)?, &j.id],
    )
    .await?;
    Ok(())
}

fn log_err(e: StoreError) -> LogError {
    LogError::Failed(e.to_string())
}

impl PgStore {
    pub(crate) async fn job_with_children(
        &self,
        project_id: &str,
        id: &str,
    ) -> Result<Option<(Job, Vec<Job>)>, StoreError> {
        let c = self.client().await?;
        let Some(job) = job_get_in(&c, id, false).await? else {
            return Ok(None);
        };
        if job.project_id != project_id {
            return Ok(None);
        }
        if !job.may_have_sub_jobs() {
            return Ok(Some((job, Vec::new())));
        }
        let children = bodies(&query(&c, "SELECT body FROM jobs WHERE parent_id = $1 ORDER BY ord", &[&id]).await?)?;
        Ok(Some((job, children)))
    }

    pub(crate) async fn events_of(&self, saga_ids: &[String]) -> Result<Vec<LoggedEvent>, StoreError> {
        let c = self.client().await?;
        let rows = query(
            &c,
            "SELECT saga_id, seq, (EXTRACT(EPOCH FROM at) * 1000)::bigint, body FROM saga_events
              WHERE saga_id = ANY($1) ORDER BY saga_id, seq",
            &[&saga_ids],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LoggedEvent { saga_id: get(r, 0)?, seq: get(r, 1)?, at_ms: get(r, 2)?, event: decode(get(r, 3)?)? })
            })
            .collect()
    }

    pub(crate) async fn jobs_expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        // Only whole trees: a parent goes with its sub-jobs once every one of them is done.
        execute(
            &tx,
            "DELETE FROM saga_events WHERE saga_id IN (SELECT id FROM jobs WHERE end_ms IS NOT NULL AND end_ms < $1)",
            &[&before_ms],
        )
        .await?;
        execute(
            &tx,
            "DELETE FROM sagas WHERE done AND id IN (SELECT id FROM jobs WHERE end_ms IS NOT NULL AND end_ms < $1)",
            &[&before_ms],
        )
        .await?;
        let n = execute(
            &tx,
            "DELETE FROM jobs WHERE end_ms IS NOT NULL AND end_ms < $1
               AND NOT EXISTS (SELECT 1 FROM jobs ch WHERE ch.parent_id = jobs.id AND (ch.end_ms IS NULL OR ch.end_ms >= $1))",
            &[&before_ms],
        )
        .await?;
        commit(tx).await?;
        Ok(n)
    }

    async fn log_append(&self, saga_id: &str, epoch: i64, events: &[StepEvent]) -> Result<(), Refused> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        // One executor writes a saga's log at a time (the fence sees to it across nodes), so
        // the numbering cannot race; were it to, the primary key refuses the second writer's
        // events.
        let last = fence_in(&tx, saga_id, epoch).await?;
        let me = self.member().map(|m| m.name);
        append_in(&tx, saga_id, epoch, last, events, me.as_deref()).await?;
        Ok(commit(tx).await?)
    }

    async fn log_finish(&self, saga_id: &str, epoch: i64, outcome: &Outcome) -> Result<(), Refused> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        finish_in(&tx, saga_id, epoch, outcome).await?;
        Ok(commit(tx).await?)
    }

    async fn log_append_and_finish(
        &self,
        saga_id: &str,
        epoch: i64,
        events: &[StepEvent],
        outcome: &Outcome,
    ) -> Result<(), Refused> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        let last = fence_in(&tx, saga_id, epoch).await?;
        let me = self.member().map(|m| m.name);
        append_in(&tx, saga_id, epoch, last, events, me.as_deref()).await?;
        finish_in(&tx, saga_id, epoch, outcome).await?;
        Ok(commit(tx).await?)
    }

    async fn log_unfinished(&self) -> Result<Vec<SagaRecord>, StoreError> {
        let c = self.client().await?;
        records_in(&c, "WHERE NOT s.done", &[]).await
    }
}

#[async_trait]
impl SagaLog for PgStore {
    async fn append(&self, saga_id: &str, epoch: i64, events: &[StepEvent]) -> Result<(), LogError> {
        self.log_append(saga_id, epoch, events).await.map_err(|r| refused(saga_id, r))
    }

    async fn finish(&self, saga_id: &str, epoch: i64, outcome: &Outcome) -> Result<(), LogError> {
        self.log_finish(saga_id, epoch, outcome).await.map_err(|r| refused(saga_id, r))
    }

    async fn append_and_finish(
        &self,
        saga_id: &str,
        epoch: i64,
        events: &[StepEvent],
        outcome: &Outcome,
    ) -> Result<(), LogError> {
        self.log_append_and_finish(saga_id, epoch, events, outcome).await.map_err(|r| refused(saga_id, r))
    }

    async fn unfinished(&self) -> Result<Vec<SagaRecord>, LogError> {
        self.log_unfinished().await.map_err(log_err)
    }

    async fn load(&self, saga_id: &str) -> Result<Option<SagaRecord>, LogError> {
        let c = self.client().await.map_err(log_err)?;
        let mut found = records_in(&c, "WHERE s.id = $1 AND NOT s.done", &[&saga_id]).await.map_err(log_err)?;
        Ok(found.pop())
    }
}
