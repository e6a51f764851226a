//! A node's membership of a shared store: it renews its lease every heartbeat, claims the
//! sagas it may run (those of dead nodes, its own from an earlier incarnation, those recorded
//! for its host by other nodes), and fences itself: while its lease is in doubt it acts for no
//! saga, and after its lease ran out it asks the database, before a saga's next step, whether
//! the saga is still its own.
//!
//! The database's fence on every saga write ([`ecs_saga::LogError::Fenced`]) is what makes a
//! stale node harmless to the log; the fence here is what keeps it from calling drivers for a
//! saga another node now runs.

use crate::context::Ctx;
use async_trait::async_trait;
use ecs_saga::{Executor, Fence, SagaRecord};
use ecs_store::cluster::{Member, NodeSpec, Renewal};
use ecs_store::Store;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sagas claimed in one round at most; a round that claims this many runs again at once.
const CLAIM_BATCH: i64 = 200;

/// How the lease stands, as this process saw it.
struct LeaseState {
    /// When the last renewal succeeded (this process's monotonic clock, which goes on while
    /// the process is stopped).
    renewed_at: Instant,
    /// How many times the lease ran out before it was renewed.
    lapses: u64,
    /// Another process joined under this node's name.
    replaced: bool,
    /// Whether "in doubt" has been said since the last renewal.
    warned: bool,
}

/// This process's membership.
pub struct Membership {
    store: Arc<dyn Store>,
    member: Member,
    lease: Duration,
    heartbeat: Duration,
    state: Mutex<LeaseState>,
    /// Nodes whose lease had run out at the last heartbeat (their servers' hosts are down).
    down: Mutex<std::collections::HashSet<String>>,
}

impl Membership {
    /// Joins the store as `spec`, with a lease of `lease` renewed every `heartbeat`.
    pub async fn join(
        store: Arc<dyn Store>,
        spec: &NodeSpec,
        lease: Duration,
        heartbeat: Duration,
    ) -> Result<Arc<Membership>, String> {
        let cluster = store.cluster().ok_or("the store is not shared")?;
        let member =
            cluster.node_join(spec, lease).await.map_err(|e| format!("cannot join as node {}: {e}", spec.name))?;
        tracing::info!(node = %member.name, incarnation = member.incarnation, lease_ms = lease.as_millis() as u64,
            "joined the nodes of the database");
        Ok(Arc::new(Membership {
            store,
            member,
            lease,
            heartbeat,
            state: Mutex::new(LeaseState { renewed_at: Instant::now(), lapses: 0, replaced: false, warned: false }),
            down: Mutex::new(Default::default()),
        }))
    }

    /// The name and incarnation this process holds.
    pub fn member(&self) -> &Member {
        &self.member
    }

    /// Whether `node`'s lease had run out at the last heartbeat.
    pub fn is_down(&self, node: &str) -> bool {
        self.down.lock().unwrap_or_else(|p| p.into_inner()).contains(node)
    }

    /// Reads which nodes are down, for [`Membership::is_down`].
    async fn refresh_down(&self) {
        let Some(cluster) = self.store.cluster() else { return };
        match cluster.node_list().await {
            Ok(nodes) => {
                let down = nodes.into_iter().filter(|n| !n.live).map(|n| n.name).collect();
                *self.down.lock().unwrap_or_else(|p| p.into_inner()) = down;
            }
            Err(e) => tracing::warn!(error = %e, "could not read the nodes"),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LeaseState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renews the lease; false when it could not (the database is unreachable, or this
    /// process was replaced).
    async fn renew(&self) -> bool {
        let Some(cluster) = self.store.cluster() else { return false };
        let before = Instant::now();
        match cluster.node_renew(&self.member, self.lease).await {
            Ok(Renewal::Renewed) => {
                let mut st = self.state();
                let gap = before.saturating_duration_since(st.renewed_at);
                if gap >= self.lease {
                    st.lapses += 1;
                    tracing::warn!(node = %self.member.name, gap_ms = gap.as_millis() as u64,
                        "this node's lease ran out before it was renewed; other nodes may have adopted its \
                         operations, which are checked before their next step");
                }
                // The lease runs from when the database took the renewal, no earlier than `before`.
                st.renewed_at = before;
                st.warned = false;
                true
            }
            Ok(Renewal::Replaced) => {
                let mut st = self.state();
                if !st.replaced {
                    tracing::error!(node = %self.member.name, incarnation = self.member.incarnation,
                        "another process joined as this node; this one runs no more operations");
                }
                st.replaced = true;
                false
            }
            Err(e) => {
                tracing::warn!(node = %self.member.name, error = %e, "could not renew this node's lease");
                false
            }
        }
    }

    /// Claims what this node may run and starts it. Returns how many sagas were claimed.
    async fn claim(&self, executor: &Executor<Ctx>, waiting: &mut Vec<SagaRecord>) -> usize {
        // A saga claimed while an older run of it is still winding down here (dropped at its
        // next write) starts once that run is gone.
        waiting.retain(|r| !executor.start(r.clone()));
        let Some(cluster) = self.store.cluster() else { return 0 };
        if self.state().replaced {
            return 0;
        }
        let mut claimed = 0;
        loop {
            let batch = match cluster.saga_claim(&self.member, CLAIM_BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim operations");
                    return claimed;
                }
            };
            let n = batch.len();
            claimed += n;
            for r in batch {
                tracing::info!(saga = %r.id, kind = %r.kind, epoch = r.epoch, "adopted an operation");
                if !executor.start(r.clone()) {
                    waiting.push(r);
                }
            }
            if n < CLAIM_BATCH as usize {
                return claimed;
            }
        }
    }

    /// Renews and claims until `stop` says so, then ends the lease so that other nodes take
    /// over at once. Claims run every `poll` (fast enough for sagas recorded for this host by
    /// other nodes), renewals every heartbeat.
    pub async fn run(
        self: Arc<Self>,
        executor: Executor<Ctx>,
        poll: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut waiting = Vec::new();
        let mut last_renewal = Instant::now();
        // The first round at once: what an earlier incarnation left is resumed at start-up.
        self.claim(&executor, &mut waiting).await;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(poll.min(self.heartbeat)) => {}
                _ = stop.changed() => break,
            }
            if last_renewal.elapsed() >= self.heartbeat {
                if self.renew().await {
                    last_renewal = Instant::now();
                }
                self.refresh_down().await;
            }
            self.claim(&executor, &mut waiting).await;
        }
        if let Some(cluster) = self.store.cluster() {
            if let Err(e) = cluster.node_leave(&self.member).await {
                tracing::warn!(error = %e, "could not end this node's lease; other nodes adopt its operations when it runs out");
            }
        }
    }
}

#[async_trait]
impl Fence for Membership {
    async fn may_act(&self, saga_id: &str, epoch: i64, seen: &mut u64) -> bool {
        loop {
            let (age, lapses, replaced) = {
                let st = self.state();
                (st.renewed_at.elapsed(), st.lapses, st.replaced)
            };
            if replaced {
                return false;
            }
            // Two thirds of the term: the last third is the margin for a renewal that is slow
            // to commit, so that the node stops acting before anyone may adopt from it.
            if age < self.lease * 2 / 3 {
                if lapses <= *seen {
                    return true;
                }
                let Some(cluster) = self.store.cluster() else { return true };
                match cluster.saga_epoch(saga_id).await {
                    Ok(Some((held, false))) if held == epoch => {
                        *seen = lapses;
                        return true;
                    }
                    Ok(_) => return false,
                    Err(e) => tracing::warn!(saga = %saga_id, error = %e, "cannot check who holds the operation"),
                }
            } else {
                let mut st = self.state();
                if !st.warned {
                    st.warned = true;
                    tracing::warn!(node = %self.member.name, age_ms = age.as_millis() as u64,
                        "this node's lease is in doubt; its operations wait until it is renewed");
                }
            }
            // Renew here too: the heartbeat loop may itself be what was held up.
            if age >= self.heartbeat {
                self.renew().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
