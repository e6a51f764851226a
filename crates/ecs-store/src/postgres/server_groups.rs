//! Server groups and their members, and the servers' scheduled deletion times, on PostgreSQL.
//!
//! A join locks the group's row (FOR UPDATE) before it reads the members, so that two servers
//! joining an anti-affinity group at once are checked one after the other: the second sees the
//! first one's host. Once the database knows more than one node, a member's host must hold no
//! other member of an anti-affinity group; with a single node there is only one host, and
//! members are accepted on it.

use super::{decode, encode, execute, get, one, query, query_opt, transaction, PgStore};
use crate::StoreError;
use deadpool_postgres::GenericClient;
use ecs_model::server::Server;
use ecs_model::server_group::{ServerGroup, MAX_MEMBERS};

async fn members_in(c: &impl GenericClient, group_id: &str) -> Result<Vec<String>, StoreError> {
    let rows =
        query(c, "SELECT server_id FROM server_group_members WHERE group_id = $1 ORDER BY ord", &[&group_id]).await?;
    rows.iter().map(|r| get(r, 0)).collect()
}

async fn get_in(
    c: &impl GenericClient,
    project_id: &str,
    id: &str,
    lock: bool,
) -> Result<Option<ServerGroup>, StoreError> {
    let sql = if lock {
        "SELECT body FROM server_groups WHERE id = $1 AND project_id = $2 FOR UPDATE"
    } else {
        "SELECT body FROM server_groups WHERE id = $1 AND project_id = $2"
    };
    let Some(row) = query_opt(c, sql, &[&id, &project_id]).await? else { return Ok(None) };
    let mut g: ServerGroup = decode(get(&row, 0)?)?;
    g.members = members_in(c, id).await?;
    Ok(Some(g))
}

/// What a join refuses an anti-affinity conflict with: a create's placement is chosen again
/// (`HostFull`), an explicit add is refused (`Conflict`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OnSameHost {
    Replace,
    Refuse,
}

/// Makes `server` a member of its project's group `group_id`, in the caller's transaction.
pub(super) async fn join_in(
    c: &impl GenericClient,
    group_id: &str,
    server: &Server,
    on_same_host: OnSameHost,
) -> Result<(), StoreError> {
    let g = get_in(c, &server.project_id, group_id, true)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("server group {group_id}")))?;
    if g.members.len() >= MAX_MEMBERS {
        return Err(StoreError::QuotaExceeded(format!(
            "The server group {group_id} has {MAX_MEMBERS} members, its limit."
        )));
    }
    if g.anti_affinity() {
        if let Some(host) = &server.host {
            let hosts: i64 = get(&one(c, "SELECT COUNT(*) FROM nodes", &[]).await?, 0)?;
            let taken = query_opt(
                c,
                "SELECT m.server_id FROM server_group_members m JOIN servers s ON s.id = m.server_id
                  WHERE m.group_id = $1 AND s.host = $2 AND s.id <> $3 LIMIT 1",
                &[&group_id, host, &server.id],
            )
            .await?;
            if let (true, Some(row)) = (hosts > 1, taken) {
                let other: String = get(&row, 0)?;
                let why =
                    format!("host {host} already runs server {other} of the anti-affinity server group {group_id}");
                return Err(match on_same_host {
                    OnSameHost::Replace => StoreError::HostFull(why),
                    OnSameHost::Refuse => StoreError::Conflict(why),
                });
            }
        }
    }
    let n = execute(
        c,
        "INSERT INTO server_group_members (server_id, group_id) VALUES ($1, $2) ON CONFLICT (server_id) DO NOTHING",
        &[&server.id, &group_id],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("The server {} is a member of a server group already.", server.id)));
    }
    Ok(())
}

/// Takes a deleted server out of its group, in the caller's transaction.
pub(super) async fn leave_in(c: &impl GenericClient, server_id: &str) -> Result<(), StoreError> {
    execute(c, "DELETE FROM server_group_members WHERE server_id = $1", &[&server_id]).await?;
    Ok(())
}

impl PgStore {
    pub(crate) async fn sg_insert(&self, g: ServerGroup, max: i64) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        // The project's row serializes two creates at the quota's edge, as for servers.
        super::catalog::lock_project(&tx, &g.project_id).await?;
        let n: i64 =
            get(&one(&tx, "SELECT COUNT(*) FROM server_groups WHERE project_id = $1", &[&g.project_id]).await?, 0)?;
        if n >= max {
            return Err(StoreError::QuotaExceeded(format!("The project has {n} server groups, its quota.")));
        }
        execute(
            &tx,
            "INSERT INTO server_groups (id, project_id, name, policies, body) VALUES ($1, $2, $3, $4, $5)",
            &[&g.id, &g.project_id, &g.name, &encode(&g.policies)?, &encode(&g)?],
        )
        .await?;
        super::commit(tx).await
    }

    pub(crate) async fn sg_get(&self, project_id: &str, id: &str) -> Result<Option<ServerGroup>, StoreError> {
        let c = self.client().await?;
        get_in(&c, project_id, id, false).await
    }

    pub(crate) async fn sg_list(&self, project_id: &str) -> Result<Vec<ServerGroup>, StoreError> {
        let c = self.client().await?;
        let rows =
            query(&c, "SELECT body FROM server_groups WHERE project_id = $1 ORDER BY ord", &[&project_id]).await?;
        let mut groups = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut g: ServerGroup = decode(get(r, 0)?)?;
            g.members = members_in(&c, &g.id).await?;
            groups.push(g);
        }
        Ok(groups)
    }

    pub(crate) async fn sg_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        // The members' rows go with it (ON DELETE CASCADE).
        let n = execute(&c, "DELETE FROM server_groups WHERE id = $1 AND project_id = $2", &[&id, &project_id]).await?;
        Ok(n > 0)
    }

    pub(crate) async fn sg_add(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        if get_in(&tx, project_id, id, true).await?.is_none() {
            return Err(StoreError::NotFound(format!("server group {id}")));
        }
        for sid in server_ids {
            let row = query_opt(&tx, "SELECT body FROM servers WHERE id = $1 AND project_id = $2", &[sid, &project_id])
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("server {sid}")))?;
            let server: Server = decode(get(&row, 0)?)?;
            join_in(&tx, id, &server, OnSameHost::Refuse).await?;
        }
        super::commit(tx).await
    }

    pub(crate) async fn sg_remove(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        if get_in(&tx, project_id, id, true).await?.is_none() {
            return Err(StoreError::NotFound(format!("server group {id}")));
        }
        for sid in server_ids {
            let n =
                execute(&tx, "DELETE FROM server_group_members WHERE server_id = $1 AND group_id = $2", &[sid, &id])
                    .await?;
            if n == 0 {
                return Err(StoreError::Conflict(format!("The server {sid} is not a member of the server group.")));
            }
        }
        super::commit(tx).await
    }

    pub(crate) async fn srv_deadlines(&self, limit: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
        let c = self.client().await?;
        let rows = query(
            &c,
            "SELECT project_id, id, auto_terminate_ms FROM servers WHERE auto_terminate_ms IS NOT NULL
              ORDER BY auto_terminate_ms LIMIT $1",
            &[&limit],
        )
        .await?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?))).collect()
    }
}
