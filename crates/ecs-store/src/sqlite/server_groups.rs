//! Server groups and their members, and the servers' scheduled deletion times. SQLite is one
//! process and so one host: anti-affinity has no second host to ask for, and members are
//! accepted on it (see `docs/wire/server-groups.md`).

use super::catalog::{decode, encode};
use super::{backend, execute_cached, SqliteStore};
use crate::StoreError;
use ecs_model::server::Server;
use ecs_model::server_group::{ServerGroup, MAX_MEMBERS};
use rusqlite::{params, Connection, OptionalExtension};

fn members_in(c: &Connection, group_id: &str) -> Result<Vec<String>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT server_id FROM server_group_members WHERE group_id = ?1 ORDER BY rowid")
        .map_err(backend)?;
    let rows = st.query_map(params![group_id], |r| r.get(0)).map_err(backend)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(backend)
}

fn get_in(c: &Connection, project_id: &str, id: &str) -> Result<Option<ServerGroup>, StoreError> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM server_groups WHERE id = ?1 AND project_id = ?2")
        .and_then(|mut st| st.query_row(params![id, project_id], |r| r.get(0)).optional())
        .map_err(backend)?;
    let Some(body) = body else { return Ok(None) };
    let mut g: ServerGroup = decode(&body)?;
    g.members = members_in(c, id)?;
    Ok(Some(g))
}

/// Makes `server` a member of its project's group `group_id`, in the caller's transaction.
pub(crate) fn join_in(c: &Connection, group_id: &str, server: &Server) -> Result<(), StoreError> {
    let g = get_in(c, &server.project_id, group_id)?
        .ok_or_else(|| StoreError::NotFound(format!("server group {group_id}")))?;
    if g.members.len() >= MAX_MEMBERS {
        return Err(StoreError::QuotaExceeded(format!(
            "The server group {group_id} has {MAX_MEMBERS} members, its limit."
        )));
    }
    let n = execute_cached(
        c,
        "INSERT OR IGNORE INTO server_group_members (server_id, group_id) VALUES (?1, ?2)",
        params![server.id, group_id],
    )
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("The server {} is a member of a server group already.", server.id)));
    }
    Ok(())
}

/// Takes a deleted server out of its group, in the caller's transaction.
pub(crate) fn leave_in(c: &Connection, server_id: &str) -> Result<(), StoreError> {
    execute_cached(c, "DELETE FROM server_group_members WHERE server_id = ?1", params![server_id]).map_err(backend)?;
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn sg_insert(&self, g: ServerGroup, max: i64) -> Result<(), StoreError> {
        self.write(move |c| {
            let n: i64 = c
                .query_row("SELECT COUNT(*) FROM server_groups WHERE project_id = ?1", params![g.project_id], |r| {
                    r.get(0)
                })
                .map_err(backend)?;
            if n >= max {
                return Err(StoreError::QuotaExceeded(format!("The project has {n} server groups, its quota.")));
            }
            c.execute(
                "INSERT INTO server_groups (id, project_id, name, policies, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![g.id, g.project_id, g.name, encode(&g.policies)?, encode(&g)?],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn sg_get(&self, project_id: &str, id: &str) -> Result<Option<ServerGroup>, StoreError> {
        self.read_now(|c| get_in(c, project_id, id)).await
    }

    pub(crate) async fn sg_list(&self, project_id: &str) -> Result<Vec<ServerGroup>, StoreError> {
        let p = project_id.to_string();
        self.read(move |c| {
            let mut st = c
                .prepare_cached("SELECT body FROM server_groups WHERE project_id = ?1 ORDER BY rowid")
                .map_err(backend)?;
            let bodies = st
                .query_map(params![p], |r| r.get::<_, String>(0))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            bodies
                .iter()
                .map(|b| {
                    let mut g: ServerGroup = decode(b)?;
                    g.members = members_in(c, &g.id)?;
                    Ok(g)
                })
                .collect()
        })
        .await
    }

    pub(crate) async fn sg_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write(move |c| {
            let n = execute_cached(c, "DELETE FROM server_groups WHERE id = ?1 AND project_id = ?2", params![id, p])
                .map_err(backend)?;
            if n > 0 {
                execute_cached(c, "DELETE FROM server_group_members WHERE group_id = ?1", params![id])
                    .map_err(backend)?;
            }
            Ok(n > 0)
        })
        .await
    }

    pub(crate) async fn sg_add(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError> {
        let (p, id, ids) = (project_id.to_string(), id.to_string(), server_ids.to_vec());
        self.write(move |c| {
            if get_in(c, &p, &id)?.is_none() {
                return Err(StoreError::NotFound(format!("server group {id}")));
            }
            for sid in &ids {
                let body: Option<String> = c
                    .prepare_cached("SELECT body FROM servers WHERE id = ?1 AND project_id = ?2")
                    .and_then(|mut st| st.query_row(params![sid, p], |r| r.get(0)).optional())
                    .map_err(backend)?;
                let server: Server = decode(&body.ok_or_else(|| StoreError::NotFound(format!("server {sid}")))?)?;
                join_in(c, &id, &server)?;
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn sg_remove(&self, project_id: &str, id: &str, server_ids: &[String]) -> Result<(), StoreError> {
        let (p, id, ids) = (project_id.to_string(), id.to_string(), server_ids.to_vec());
        self.write(move |c| {
            if get_in(c, &p, &id)?.is_none() {
                return Err(StoreError::NotFound(format!("server group {id}")));
            }
            for sid in &ids {
                let n = execute_cached(
                    c,
                    "DELETE FROM server_group_members WHERE server_id = ?1 AND group_id = ?2",
                    params![sid, id],
                )
                .map_err(backend)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("The server {sid} is not a member of the server group.")));
                }
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn srv_deadlines(&self, limit: i64) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.read_now(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT project_id, id, auto_terminate_ms FROM servers WHERE auto_terminate_ms IS NOT NULL
                      ORDER BY auto_terminate_ms LIMIT ?1",
                )
                .map_err(backend)?;
            let rows = st.query_map(params![limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }
}
