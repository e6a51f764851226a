//! Nodes, leases and saga claims on PostgreSQL ([`crate::cluster::Cluster`]), and the check
//! that a host placement still fits, made in the transaction that places.
//!
//! Leases are kept in the database's time: `lease_until = now() + lease`, compared with
//! `now()`, so nodes whose clocks disagree still agree on who is alive.

use super::{execute, get, one, query, query_opt, transaction, PgStore};
use crate::cluster::{Cluster, Member, NodeRow, NodeSpec, Renewal};
use crate::StoreError;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use ecs_model::quota::Usage;
use ecs_model::server::Server;
use ecs_saga::SagaRecord;
use std::collections::BTreeMap;
use std::time::Duration;

/// A lease as a PostgreSQL interval, in whole milliseconds.
fn millis(d: Duration) -> f64 {
    d.as_millis() as f64
}

/// What the servers on `host` take, from the `host` and `flavor_id` columns.
async fn host_usage_in(c: &impl GenericClient, host: &str) -> Result<Usage, StoreError> {
    super::quotas::usage_where(c, "host", host).await
}

/// Refuses placements that no longer fit: for each host that `inserts` are placed on (or
/// whose servers in `updates` change flavor), the host must be live and have room for them.
/// Each host's row is locked (FOR UPDATE, in name order) before its usage is read, so two
/// placements racing for a host's last vCPUs are serialized and the second one counts the
/// first one's servers, as the project row does for quotas.
pub(super) async fn check_hosts_in(
    c: &impl GenericClient,
    inserts: &[Server],
    updates: &[Server],
) -> Result<(), StoreError> {
    let mut asked: BTreeMap<&str, Usage> = BTreeMap::new();
    for s in inserts {
        if let Some(h) = &s.host {
            let u = asked.entry(h).or_default();
            *u = u.plus(super::quotas::usage_of(&s.flavor_id, 1));
        }
    }
    for s in updates {
        let Some(h) = &s.host else { continue };
        let Some(r) = query_opt(c, "SELECT flavor_id FROM servers WHERE id = $1", &[&s.id]).await? else { continue };
        let old: String = get(&r, 0)?;
        if old != s.flavor_id {
            let u = asked.entry(h).or_default();
            *u = u.plus(super::quotas::usage_of(&old, 1).growth_to(super::quotas::usage_of(&s.flavor_id, 1)));
        }
    }
    for (host, want) in asked {
        let row = query_opt(
            c,
            "SELECT vcpus, memory_mib, lease_until > now() FROM nodes WHERE name = $1 FOR UPDATE",
            &[&host],
        )
        .await?
        .ok_or_else(|| StoreError::HostFull(format!("host {host} is not a node of this database")))?;
        let (vcpus, memory_mib, live): (i64, i64, bool) = (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
        if !live {
            return Err(StoreError::HostFull(format!("host {host} is down")));
        }
        let used = host_usage_in(c, host).await?;
        if used.cores + want.cores > vcpus || used.ram_mb + want.ram_mb > memory_mib {
            return Err(StoreError::HostFull(format!(
                "host {host} has {} vCPUs and {} MiB free; {} vCPUs and {} MiB were asked",
                vcpus - used.cores,
                memory_mib - used.ram_mb,
                want.cores,
                want.ram_mb
            )));
        }
    }
    Ok(())
}

impl PgStore {
    /// The member this store writes sagas for, once it has joined.
    pub(crate) fn member(&self) -> Option<Member> {
        self.member.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Cluster for PgStore {
    async fn node_join(&self, node: &NodeSpec, lease: Duration) -> Result<Member, StoreError> {
        let c = self.client().await?;
        let row = one(
            &c,
            "INSERT INTO nodes (name, incarnation, address, started_at, heartbeat_at, lease_until, vcpus, memory_mib)
             VALUES ($1, 1, $2, now(), now(), now() + $3 * interval '1 millisecond', $4, $5)
             ON CONFLICT (name) DO UPDATE SET incarnation = nodes.incarnation + 1, address = excluded.address,
                 started_at = now(), heartbeat_at = now(), lease_until = excluded.lease_until,
                 vcpus = excluded.vcpus, memory_mib = excluded.memory_mib
             RETURNING incarnation",
            &[&node.name, &node.address, &millis(lease), &node.vcpus, &node.memory_mib],
        )
        .await?;
        let member = Member { name: node.name.clone(), incarnation: get(&row, 0)? };
        *self.member.write().unwrap_or_else(|p| p.into_inner()) = Some(member.clone());
        Ok(member)
    }

    async fn node_renew(&self, member: &Member, lease: Duration) -> Result<Renewal, StoreError> {
        let c = self.client().await?;
        let n = execute(
            &c,
            "UPDATE nodes SET heartbeat_at = now(), lease_until = now() + $3 * interval '1 millisecond'
              WHERE name = $1 AND incarnation = $2",
            &[&member.name, &member.incarnation, &millis(lease)],
        )
        .await?;
        Ok(if n == 1 { Renewal::Renewed } else { Renewal::Replaced })
    }

    async fn node_leave(&self, member: &Member) -> Result<(), StoreError> {
        let c = self.client().await?;
        execute(
            &c,
            "UPDATE nodes SET lease_until = now() WHERE name = $1 AND incarnation = $2",
            &[&member.name, &member.incarnation],
        )
        .await?;
        Ok(())
    }

    async fn node_list(&self) -> Result<Vec<NodeRow>, StoreError> {
        let c = self.client().await?;
        let rows = query(
            &c,
            "SELECT name, incarnation, address, lease_until > now(),
                    (EXTRACT(EPOCH FROM now() - heartbeat_at) * 1000)::BIGINT, vcpus, memory_mib
               FROM nodes ORDER BY name",
            &[],
        )
        .await?;
        let used_rows = query(
            &c,
            "SELECT host, flavor_id, COUNT(*) FROM servers WHERE host IS NOT NULL GROUP BY host, flavor_id",
            &[],
        )
        .await?;
        let mut used: BTreeMap<String, Usage> = BTreeMap::new();
        for r in &used_rows {
            let u = used.entry(get::<String>(r, 0)?).or_default();
            *u = u.plus(super::quotas::usage_of(get(r, 1)?, get(r, 2)?));
        }
        rows.iter()
            .map(|r| {
                let name: String = get(r, 0)?;
                let u = used.get(&name).copied().unwrap_or_default();
                Ok(NodeRow {
                    incarnation: get(r, 1)?,
                    address: get(r, 2)?,
                    live: get(r, 3)?,
                    heartbeat_age_ms: get(r, 4)?,
                    vcpus: get(r, 5)?,
                    memory_mib: get(r, 6)?,
                    used_vcpus: u.cores,
                    used_memory_mib: u.ram_mb,
                    name,
                })
            })
            .collect()
    }

    async fn saga_claim(&self, member: &Member, limit: i64) -> Result<Vec<SagaRecord>, StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        // SKIP LOCKED: a saga another node is claiming, or whose log a writer is appending to
        // (it holds the row FOR SHARE), is left for the next round rather than waited for.
        //
        // The holder's liveness is a correlated NOT EXISTS, not a LEFT JOIN on nodes. When a
        // concurrent claim commits first, PostgreSQL re-checks the locked row's new version
        // against the joined row it already had (the dead holder's); the join condition then
        // fails, the LEFT JOIN pads with NULLs, and "no such node" let a second node claim a
        // saga the first had just adopted. The subquery is evaluated again for the new version
        // and finds the adopter alive.
        let rows = query(
            &tx,
            "WITH c AS (
                SELECT s.id FROM sagas s
                 WHERE NOT s.done AND (
                       (s.owner_node = $1 AND (s.owner_incarnation IS NULL OR s.owner_incarnation <> $2))
                    OR ((s.owner_node IS NULL OR (s.owner_node <> $1 AND NOT EXISTS (
                            SELECT 1 FROM nodes n WHERE n.name = s.owner_node AND n.lease_until >= now())))
                        AND (s.host_node IS NULL OR s.host_node = $1)))
                 ORDER BY s.ord LIMIT $3
                 FOR UPDATE OF s SKIP LOCKED)
             UPDATE sagas SET owner_node = $1, owner_incarnation = $2, owner_epoch = sagas.owner_epoch + 1,
                    adopted_at = now()
               FROM c WHERE sagas.id = c.id
             RETURNING sagas.id",
            &[&member.name, &member.incarnation, &limit],
        )
        .await?;
        let ids: Vec<String> = rows.iter().map(|r| get(r, 0)).collect::<Result<_, _>>()?;
        let records = if ids.is_empty() {
            Vec::new()
        } else {
            super::jobs::records_in(&tx, "WHERE s.id = ANY($1)", &[&ids]).await?
        };
        super::commit(tx).await?;
        Ok(records)
    }

    async fn saga_epoch(&self, saga_id: &str) -> Result<Option<(i64, bool)>, StoreError> {
        let c = self.client().await?;
        let row = query_opt(&c, "SELECT owner_epoch, done FROM sagas WHERE id = $1", &[&saga_id]).await?;
        row.map(|r| Ok((get(&r, 0)?, get(&r, 1)?))).transpose()
    }
}
