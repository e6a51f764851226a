//! A request that changes one server and records its one job and saga (a reinstall, a stop,
//! a start or a reboot of one server): the whole of [`crate::Store::begin`] in one statement,
//! which PostgreSQL runs as a transaction of its own.
//!
//! The general path is `BEGIN`, the server's compare-and-swap, the job-saga-events insert and
//! `COMMIT`: four statements, each a parse or a bind, a plan and an executor start in the
//! database server, which is what bounds acceptances there. Here the compare-and-swap is the
//! first part of a data-modifying `WITH` and the inserts take their rows from it, so they
//! write nothing when the swap finds the server changed: the statement is all of it or
//! nothing, as the transaction was, with one row lock (the server's) as before. Concurrent
//! ones are batched into one transaction by [`super::group_commit`].

use super::{get, jobs::saga_owner, one, PgStore};
use crate::{Begin, StoreError};
use deadpool_postgres::GenericClient;
use ecs_model::job::Job;
use ecs_model::server::Server;

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
        && b.delete_volumes.is_empty()
        && b.log.is_none()
        && matches!((b.jobs.as_slice(), b.sagas.as_slice()), ([j], [s]) if j.id == s.id)
}

/// A [`Begin`] that [`fits`], with every value its statement binds computed: what a batch of
/// them (see [`super::group_commit`]) carries from the requests to the connection.
pub(super) struct OneServerWrite {
    server: Server,
    status: String,
    body: String,
    expected: i64,
    job: Job,
    job_body: String,
    kind: String,
    version: i64,
    params: String,
    owner: Option<String>,
    incarnation: Option<i64>,
    epoch: i64,
    host: Option<String>,
    node: Option<String>,
    events: Vec<String>,
}

impl OneServerWrite {
    /// The server whose compare-and-swap this is (batches take their row locks in its order).
    pub(super) fn server_id(&self) -> &str {
        &self.server.id
    }

    /// What the request is answered when its compare-and-swap loses.
    pub(super) fn lost(&self) -> StoreError {
        StoreError::Conflict(format!("server {} changed concurrently", self.server.id))
    }

    /// Runs the statement on `c` (a connection, or a transaction of a batch): whether the
    /// compare-and-swap won, and with it the inserts.
    pub(super) async fn execute_on(&self, c: &impl GenericClient) -> Result<bool, StoreError> {
        let s = &self.server;
        let j = &self.job;
        // The inserts' values are cast: in a `SELECT` list a parameter takes no type from the
        // column it lands in.
        let row = one(
            c,
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
                &self.status,
                &s.flavor_id,
                &s.network.ip,
                &s.generation,
                &s.security_groups,
                &self.body,
                &s.id,
                &self.expected,
                &s.auto_terminate_ms,
                &j.id,
                &j.project_id,
                &j.parent_id,
                &j.status.as_str(),
                &j.end_ms,
                &self.job_body,
                &self.kind,
                &self.version,
                &self.params,
                &self.owner,
                &self.incarnation,
                &self.epoch,
                &self.host,
                &self.node,
                &self.events,
            ],
        )
        .await?;
        Ok(get::<i64>(&row, 0)? > 0)
    }
}

/// The values of a `b` that [`fits`], as its statement binds them.
pub(super) fn prepare(store: &PgStore, mut b: Begin) -> Result<OneServerWrite, StoreError> {
    let (Some(mut server), Some(saga)) = (b.update_servers.pop(), b.sagas.first()) else {
        return Err(StoreError::Backend("a one-server request without its server or saga".into()));
    };
    let job: Job = super::servers::recorded_jobs(&b.jobs, &b.sagas).remove(0);
    let expected = server.generation;
    server.generation += 1;
    let member = store.member();
    let (owner, incarnation) = saga_owner(saga, member.as_ref());
    Ok(OneServerWrite {
        status: server.status().to_string(),
        body: super::encode(&server)?,
        expected,
        job_body: super::encode(&job)?,
        job,
        kind: saga.kind.clone(),
        version: i64::from(saga.version),
        params: saga.params.to_string(),
        owner: owner.map(str::to_string),
        incarnation,
        epoch: saga.epoch,
        host: saga.host.clone(),
        node: member.map(|m| m.name),
        events: saga.events.iter().map(super::encode).collect::<Result<Vec<String>, _>>()?,
        server,
    })
}

/// Writes a `b` that [`fits`]: `Conflict` when the server's generation no longer matches, and
/// then nothing is written. Concurrent ones share a transaction ([`super::group_commit`]).
pub(super) async fn write(store: &PgStore, b: Begin) -> Result<(), StoreError> {
    let w = prepare(store, b)?;
    store.group_commit().write(w).await
}

/// Runs `w` as a statement of its own, outside any batch: PostgreSQL makes it a transaction.
pub(super) async fn write_alone(c: &impl GenericClient, w: &OneServerWrite) -> Result<(), StoreError> {
    let began = std::time::Instant::now();
    if !w.execute_on(c).await? {
        return Err(w.lost());
    }
    crate::observe::committed(began.elapsed(), 1);
    Ok(())
}
