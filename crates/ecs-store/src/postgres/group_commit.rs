//! Group commit of one-server acceptances: the statements of the requests that arrive while
//! the previous batch commits share one transaction, so one commit (one WAL flush, one wake-up
//! of the backend) serves many requests, as the SQLite store's writer does with its savepoints.
//!
//! Each request's statement ([`OneServerWrite`]) reports whether its compare-and-swap won, so a
//! request that loses is answered `Conflict` while the rest of its batch commits. A statement
//! that fails outright aborts the transaction: nothing of the batch was written, and each of its
//! requests is run again alone, so that only the one at fault gets the error. A failed `COMMIT`
//! is answered to all as it is: the writes may have committed, and running them again could not
//! tell (their compare-and-swaps would lose against themselves).
//!
//! A batch takes its servers' row locks in id order, as every other transaction does (see
//! [`super::PgStore::begin_op`]), so two batches never wait for each other in a circle.

use super::one_server_op::{write_alone, OneServerWrite};
use super::{pg_err, pool_err};
use crate::StoreError;
use deadpool_postgres::Pool;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_postgres::IsolationLevel;

/// Most requests one transaction carries: enough to share a commit among all of a busy node's
/// concurrent acceptances, few enough that a batch's statements fit one pipelined write.
const MAX_BATCH: usize = 64;

/// One request waiting for its batch, with where its answer goes.
type Queued = (OneServerWrite, oneshot::Sender<Result<(), StoreError>>);

/// The queue of one-server writes and the lanes that commit them.
pub(super) struct GroupCommit {
    queue: mpsc::UnboundedSender<Queued>,
}

impl GroupCommit {
    /// Starts `lanes` tasks, each committing one batch at a time on a connection of `pool`:
    /// several lanes let one batch gather while another waits for its commit. They end when
    /// the store (and with it this queue) is dropped.
    pub(super) fn start(pool: Pool, lanes: usize) -> GroupCommit {
        let (queue, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(pool.clone(), rx.clone()));
        }
        GroupCommit { queue }
    }

    /// Writes `w` in the next batch and answers when that batch has committed.
    pub(super) async fn write(&self, w: OneServerWrite) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue.send((w, answer)).map_err(|_| StoreError::Backend("the store is closing".into()))?;
        answered.await.map_err(|_| StoreError::Backend("the store closed before the write was answered".into()))?
    }
}

/// Takes whatever has queued (at least one request, at most [`MAX_BATCH`]) and commits it; the
/// next lane takes what queues meanwhile.
async fn lane(pool: Pool, rx: Arc<Mutex<mpsc::UnboundedReceiver<Queued>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(q) => batch.push(q),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(q) => batch.push(q),
                    Err(_) => break,
                }
            }
        }
        commit_batch(&pool, batch).await;
    }
}

/// How a batch's transaction ended.
enum Ended {
    /// Committed: whether each statement's compare-and-swap won, in the batch's order.
    Committed(Vec<bool>),
    /// A statement failed, so the transaction wrote nothing.
    RolledBack(StoreError),
    /// The commit itself failed (or no connection could be had): answered as it is.
    Unknown(StoreError),
}

async fn commit_batch(pool: &Pool, mut batch: Vec<Queued>) {
    batch.sort_by(|a, b| a.0.server_id().cmp(b.0.server_id()));
    if batch.len() == 1 {
        let (w, answer) = batch.pop().expect("one request");
        let _ = answer.send(alone(pool, &w).await);
        return;
    }
    let began = std::time::Instant::now();
    match run(pool, &batch).await {
        Ended::Committed(won) => {
            crate::observe::committed(began.elapsed(), batch.len());
            for ((w, answer), won) in batch.into_iter().zip(won) {
                let _ = answer.send(if won { Ok(()) } else { Err(w.lost()) });
            }
        }
        Ended::RolledBack(e) => {
            tracing::debug!(error = %e, requests = batch.len(), "a batch's statement failed; running its requests alone");
            for (w, answer) in batch {
                let _ = answer.send(alone(pool, &w).await);
            }
        }
        Ended::Unknown(e) => {
            for (_, answer) in batch {
                let _ = answer.send(Err(e.clone()));
            }
        }
    }
}

/// `BEGIN`, the batch's statements pipelined on one connection, `COMMIT`.
async fn run(pool: &Pool, batch: &[Queued]) -> Ended {
    let mut c = match pool.get().await {
        Ok(c) => c,
        Err(e) => return Ended::Unknown(pool_err(e)),
    };
    let tx = match c.build_transaction().isolation_level(IsolationLevel::ReadCommitted).start().await {
        Ok(tx) => tx,
        Err(e) => return Ended::Unknown(pg_err(e)),
    };
    let won = match futures_util::future::try_join_all(batch.iter().map(|(w, _)| w.execute_on(&tx))).await {
        Ok(won) => won,
        Err(e) => return Ended::RolledBack(e),
    };
    match tx.commit().await {
        Ok(()) => Ended::Committed(won),
        Err(e) => Ended::Unknown(pg_err(e)),
    }
}

/// Runs `w` alone, as a statement (and so a transaction) of its own, on a connection of `pool`.
async fn alone(pool: &Pool, w: &OneServerWrite) -> Result<(), StoreError> {
    write_alone(&pool.get().await.map_err(pool_err)?, w).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::reinstall_of;
    use crate::pg_cluster::Cluster;
    use crate::{Begin, Store};

    /// [`reinstall_of`] with the job (and saga) id `id`.
    fn reinstall_as(server: &ecs_model::server::Server, id: &str) -> Begin {
        let mut b = reinstall_of(server, false);
        (b.jobs[0].id, b.sagas[0].id) = (id.to_string(), id.to_string());
        b
    }

    /// One batch with a statement that fails (a job id already taken in the same batch) and one
    /// whose compare-and-swap loses: the failure costs only its own request, the loser is
    /// `Conflict`, and the others are written.
    #[tokio::test]
    async fn a_failing_statement_costs_only_its_own_request_and_a_lost_swap_only_its_own() {
        let Some(cluster) = Cluster::shared() else { return };
        let st = super::super::PgStore::open(&cluster.fresh_database()).await.unwrap();
        let made = crate::conformance::create(&st, "p1", &["a", "b", "c"]).await;
        let taken = ecs_model::new_uuid();
        let mut stale = made[2].clone();
        stale.generation += 5;
        let begins = [
            reinstall_as(&made[0], &taken),
            reinstall_as(&made[1], &taken),
            reinstall_of(&made[2], false),
            reinstall_of(&stale, false),
        ];
        let job_of = |b: &Begin| b.jobs[0].id.clone();
        let (c_job, stale_job) = (job_of(&begins[2]), job_of(&begins[3]));
        let mut batch = vec![];
        let mut answers = vec![];
        for b in begins {
            let (tx, rx) = oneshot::channel();
            batch.push((super::super::one_server_op::prepare(&st, b).unwrap(), tx));
            answers.push(rx);
        }
        commit_batch(&st.pool, batch).await;
        let mut got = vec![];
        for a in answers {
            got.push(a.await.unwrap());
        }
        let ok = |r: &Result<(), StoreError>| r.is_ok();
        assert!(ok(&got[0]) != ok(&got[1]), "one of the two with the same job id is written: {got:?}");
        assert!(matches!(got[0].as_ref().err().or(got[1].as_ref().err()), Some(StoreError::Conflict(_))), "{got:?}");
        assert!(ok(&got[2]), "{got:?}");
        assert!(matches!(got[3], Err(StoreError::Conflict(_))), "{got:?}");
        let generation = |i: usize| {
            let st = &st;
            let id = made[i].id.clone();
            async move { st.server_only("p1", &id).await.unwrap().unwrap().generation }
        };
        let (g0, g1) = (generation(0).await, generation(1).await);
        assert_eq!(g0 + g1, made[0].generation + made[1].generation + 1, "only the written one's server changed");
        assert_eq!(generation(2).await, made[2].generation + 1);
        assert!(st.job_get("p1", &c_job).await.unwrap().is_some());
        assert!(st.job_get("p1", &stale_job).await.unwrap().is_none());
        assert!(st.job_get("p1", &taken).await.unwrap().is_some());
    }
}
