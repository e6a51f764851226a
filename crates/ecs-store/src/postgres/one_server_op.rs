//! A request that changes one server and records its one job and saga (a reinstall, a stop,
//! a start or a reboot of one server): the whole of [`crate::Store::begin`] in one statement,
//! which PostgreSQL runs as a transaction of its own.
//!
//! The general path is `BEGIN`, the server's compare-and-swap, the job-saga-events insert and
//! `COMMIT`: four statements, each a parse or a bind, a plan and an executor start in the
//! database server, which is what bounds acceptances there. Here the compare-and-swap is the
//! first part of a data-modifying `WITH` and the inserts take their rows from it, so they
//! write nothing when the swap finds the server changed: the statement is all of it or
//! nothing, as the transaction was, with one row lock (the server's) as before.

use super::{get, jobs::saga_owner, one, PgStore};
use crate::{Begin, StoreError};
use ecs_model::job::Job;

/// Whether `b` is one server's update with its one job and saga, and nothing else to check or
/// write (no quota, no fence, no NIC, no volume): what [`write`] can do in one statement.
pub(super) fn fits(b: &Begin) -> bool {
    b.update_servers.len() == 1
        && b.insert_servers.is_empty()
        && b.insert_volumes.is_empty()
        && b.swap_volumes.is_empty()
        && b.quota.is_none()
        && b.fence.is_none()
        && b.attach_nics.is_empty()
        && b.release_nics.is_empty()
        && b.readdress.is_empty()
        && matches!((b.jobs.as_slice(), b.sagas.as_slice()), ([j], [s]) if j.id == s.id)
}

/// Writes a `b` that [`fits`]: `Conflict` when the server's generation no longer matches, and
/// then nothing is written.
pub(super) async fn write(store: &PgStore, mut b: Begin) -> Result<(), StoreError> {
    let (Some(mut s), Some(saga)) = (b.update_servers.pop(), b.sagas.first()) else {
        return Err(StoreError::Backend("a one-server request without its server or saga".into()));
    };
    let job: Job = super::servers::recorded_jobs(&b.jobs, &b.sagas).remove(0);
    let expected = s.generation;
    s.generation += 1;
    let member = store.member();
    let me = member.as_ref().map(|m| m.name.as_str());
    let (owner, incarnation) = saga_owner(saga, member.as_ref());
    let events = saga.events.iter().map(super::encode).collect::<Result<Vec<String>, _>>()?;
    let c = store.client().await?;
    let began = std::time::Instant::now();
    // The inserts' values are cast: in a `SELECT` list a parameter takes no type from the
    // column it lands in.
    let row = one(
        &c,
        "WITH server AS (
             UPDATE servers SET name = $1, status = $2, flavor_id = $3, ip = $4, generation = $5,
                    security_groups = $6, body = $7, auto_terminate_ms = $10
             WHERE id = $8 AND generation = $9
             RETURNING id),
         job AS (
             INSERT INTO jobs (id, project_id, parent_id, status, end_ms, body)
             SELECT $11::text, $12::text, $13::text, $14::text, $15::bigint, $16::text FROM server),
         saga AS (
             INSERT INTO sagas (id, kind, version, params, done, owner_node, owner_incarnation,
                                owner_epoch, host_node)
             SELECT $11::text, $17::text, $18::bigint, $19::text, false, $20::text, $21::bigint,
                    $22::bigint, $23::text FROM server),
         events AS (
             INSERT INTO saga_events (saga_id, seq, body, node, epoch)
             SELECT $11::text, e.seq, e.body, $24::text, $22::bigint
             FROM server, unnest($25::text[]) WITH ORDINALITY AS e(body, seq))
         SELECT count(*) FROM server",
        &[
            &s.name,
            &s.status(),
            &s.flavor_id,
            &s.network.ip,
            &s.generation,
            &s.security_groups,
            &super::encode(&s)?,
            &s.id,
            &expected,
            &s.auto_terminate_ms,
            &job.id,
            &job.project_id,
            &job.parent_id,
            &job.status.as_str(),
            &job.end_ms,
            &super::encode(&job)?,
            &saga.kind,
            &i64::from(saga.version),
            &saga.params.to_string(),
            &owner,
            &incarnation,
            &saga.epoch,
            &saga.host,
            &me,
            &events,
        ],
    )
    .await?;
    if get::<i64>(&row, 0)? == 0 {
        return Err(StoreError::Conflict(format!("server {} changed concurrently", s.id)));
    }
    crate::observe::committed(began.elapsed(), 1);
    Ok(())
}
