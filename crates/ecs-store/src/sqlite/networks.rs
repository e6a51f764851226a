//! Ports and security groups: their rows, the default group a project gets with its default
//! network, and the upgrade that gives servers of older databases their port and group.

use super::catalog::{decode, encode, query_bodies, query_bodies_in_rowid_order};
use super::{backend, execute_cached, query_row_cached, SqliteStore};
use crate::StoreError;
use ecs_model::port::Port;
use ecs_model::security_group::{self as sg, SecurityGroup, SecurityGroupRule};
use ecs_model::server::Server;
use rusqlite::{params, Connection, OptionalExtension};

/// Version 3 tables of this area. A port row holds what of a port can change by itself; its
/// address stays in `ip_alloc` and the server's body.
pub(super) const V3_NETWORKS: &str = r#"
CREATE TABLE IF NOT EXISTS ports (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, server_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ports_project ON ports (project_id);
CREATE INDEX IF NOT EXISTS ports_server ON ports (server_id);
CREATE TABLE IF NOT EXISTS security_groups (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS security_groups_project ON security_groups (project_id);
CREATE TABLE IF NOT EXISTS security_group_rules (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, group_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS security_group_rules_project ON security_group_rules (project_id);
CREATE INDEX IF NOT EXISTS security_group_rules_group ON security_group_rules (group_id);
"#;

fn group_get_in(c: &Connection, project_id: &str, id: &str) -> Result<Option<SecurityGroup>, StoreError> {
    let b: Option<String> = c
        .prepare_cached("SELECT body FROM security_groups WHERE id = ?1 AND project_id = ?2")
        .and_then(|mut st| st.query_row(params![id, project_id], |r| r.get(0)).optional())
        .map_err(backend)?;
    b.map(|b| decode(&b)).transpose()
}

fn group_insert_in(c: &Connection, g: &SecurityGroup, rules: &[SecurityGroupRule]) -> Result<(), StoreError> {
    execute_cached(
        c,
        "INSERT INTO security_groups (id, project_id, name, body) VALUES (?1, ?2, ?3, ?4)",
        params![g.id, g.project_id, g.name, encode(g)?],
    )
    .map_err(backend)?;
    for r in rules {
        rule_insert_in(c, r)?;
    }
    Ok(())
}

fn rule_insert_in(c: &Connection, r: &SecurityGroupRule) -> Result<(), StoreError> {
    execute_cached(
        c,
        "INSERT INTO security_group_rules (id, project_id, group_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![r.id, r.project_id, r.security_group_id, encode(r)?],
    )
    .map_err(backend)?;
    Ok(())
}

/// The default group of a project, if it has one.
fn default_group_in(c: &Connection, project_id: &str) -> Result<Option<SecurityGroup>, StoreError> {
    let groups: Vec<SecurityGroup> = query_bodies_in_rowid_order(
        c,
        "SELECT rowid, body FROM security_groups WHERE project_id = ?1 AND name = 'default'",
        project_id,
    )?;
    Ok(groups.into_iter().next())
}

/// Creates the project's default group (with its rules) in `vpc_id` unless it has one.
pub(crate) fn ensure_default_group_in(c: &Connection, project_id: &str, vpc_id: &str) -> Result<(), StoreError> {
    if default_group_in(c, project_id)?.is_some() {
        return Ok(());
    }
    let now = ecs_model::timefmt::now_ms();
    let g = sg::default_group(project_id, vpc_id, now);
    group_insert_in(c, &g, &sg::default_rules(project_id, &g.id, now))
}

/// Writes the port of a new server, in the transaction that inserts the server. Every group
/// the server names must exist in its project at that moment: a group deleted since the
/// request checked it makes the create lose, as any other concurrent change would.
pub(crate) fn port_insert_for_server_in(c: &Connection, s: &Server) -> Result<(), StoreError> {
    for g in &s.security_groups {
        if group_get_in(c, &s.project_id, g)?.is_none() {
            return Err(StoreError::Conflict(format!("security group {g} was deleted meanwhile")));
        }
    }
    let port = Port::for_server(&s.project_id, &s.id, &s.network.port_id);
    execute_cached(
        c,
        "INSERT INTO ports (id, project_id, server_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![port.id, port.project_id, port.server_id, encode(&port)?],
    )
    .map_err(backend)?;
    Ok(())
}

/// Inserts the port of a NIC added to a server; `Conflict` when the port id is taken.
pub(crate) fn port_insert_in(c: &Connection, port: &Port) -> Result<(), StoreError> {
    execute_cached(
        c,
        "INSERT INTO ports (id, project_id, server_id, body) VALUES (?1, ?2, ?3, ?4)",
        params![port.id, port.project_id, port.server_id, encode(port)?],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!("port {} exists", port.id))
        }
        e => backend(e),
    })?;
    Ok(())
}

/// Removes the ports of a deleted server.
pub(crate) fn ports_delete_for_server_in(c: &Connection, server_id: &str) -> Result<(), StoreError> {
    execute_cached(c, "DELETE FROM ports WHERE server_id = ?1", params![server_id]).map_err(backend)?;
    Ok(())
}

/// Why a group may not be deleted, if it may not.
fn group_in_use_in(c: &Connection, g: &SecurityGroup) -> Result<Option<String>, StoreError> {
    if g.name == sg::DEFAULT_NAME {
        return Ok(Some("the default security group cannot be deleted".into()));
    }
    let server: Option<String> = c
        .prepare_cached(
            "SELECT id FROM servers WHERE project_id = ?1
               AND EXISTS (SELECT 1 FROM json_each(servers.body, '$.security_groups') WHERE value = ?2) LIMIT 1",
        )
        .and_then(|mut st| st.query_row(params![g.project_id, g.id], |r| r.get(0)).optional())
        .map_err(backend)?;
    if let Some(s) = server {
        return Ok(Some(format!("it is used by the port of server {s}")));
    }
    let rule: Option<String> = c
        .prepare_cached(
            "SELECT group_id FROM security_group_rules WHERE project_id = ?1 AND group_id <> ?2
               AND json_extract(body, '$.remote_group_id') = ?2 LIMIT 1",
        )
        .and_then(|mut st| st.query_row(params![g.project_id, g.id], |r| r.get(0)).optional())
        .map_err(backend)?;
    Ok(rule.map(|other| format!("a rule of security group {other} refers to it")))
}

/// The upgrade to version 3 for what SQL alone cannot do: every project that has a network
/// gets its default group, and every server its port row and real groups (ids that name no
/// group, which older versions kept as given, are replaced by the default group).
pub(super) fn upgrade_to_v3(c: &Connection) -> Result<(), StoreError> {
    let mut st = c.prepare("SELECT DISTINCT project_id FROM vpcs").map_err(backend)?;
    let projects: Vec<String> =
        st.query_map([], |r| r.get(0)).map_err(backend)?.collect::<Result<_, _>>().map_err(backend)?;
    drop(st);
    for p in &projects {
        let vpcs: Vec<ecs_model::network::Vpc> =
            query_bodies_in_rowid_order(c, "SELECT rowid, body FROM vpcs WHERE project_id = ?1", p)?;
        if let Some(vpc) = vpcs.first() {
            ensure_default_group_in(c, p, &vpc.id)?;
        }
    }
    let servers: Vec<Server> = query_bodies(c, "SELECT body FROM servers", "")?;
    for mut s in servers {
        let mut groups = Vec::new();
        for g in &s.security_groups {
            if group_get_in(c, &s.project_id, g)?.is_some() && !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        if groups.is_empty() {
            if let Some(d) = default_group_in(c, &s.project_id)? {
                groups.push(d.id);
            }
        }
        if groups != s.security_groups {
            s.security_groups = groups;
            c.execute("UPDATE servers SET body = ?1 WHERE id = ?2", params![encode(&s)?, s.id]).map_err(backend)?;
        }
        let has_port: bool =
            query_row_cached(c, "SELECT EXISTS (SELECT 1 FROM ports WHERE id = ?1)", params![s.network.port_id], |r| {
                r.get(0)
            })
            .map_err(backend)?;
        if !has_port {
            let port = Port::for_server(&s.project_id, &s.id, &s.network.port_id);
            c.execute(
                "INSERT INTO ports (id, project_id, server_id, body) VALUES (?1, ?2, ?3, ?4)",
                params![port.id, port.project_id, port.server_id, encode(&port)?],
            )
            .map_err(backend)?;
        }
    }
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn port_by_id(&self, project_id: &str, id: &str) -> Result<Option<Port>, StoreError> {
        self.read_now(move |c| {
            let b: Option<String> = c
                .prepare_cached("SELECT body FROM ports WHERE id = ?1 AND project_id = ?2")
                .and_then(|mut st| st.query_row(params![id, project_id], |r| r.get(0)).optional())
                .map_err(backend)?;
            b.map(|b| decode(&b)).transpose()
        })
        .await
    }

    pub(crate) async fn ports_of_project(&self, project_id: &str) -> Result<Vec<Port>, StoreError> {
        let p = project_id.to_string();
        self.read(move |c| {
            let mut ports: Vec<Port> = query_bodies(c, "SELECT body FROM ports WHERE project_id = ?1", &p)?;
            ports.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(ports)
        })
        .await
    }

    pub(crate) async fn port_put(&self, port: Port) -> Result<(), StoreError> {
        self.write(move |c| {
            let n = execute_cached(
                c,
                "UPDATE ports SET body = ?1 WHERE id = ?2 AND project_id = ?3",
                params![encode(&port)?, port.id, port.project_id],
            )
            .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("port {}", port.id)));
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn server_groups_update(&self, s: Server) -> Result<Server, StoreError> {
        self.write(move |c| {
            for g in &s.security_groups {
                if group_get_in(c, &s.project_id, g)?.is_none() {
                    return Err(StoreError::NotFound(format!("security group {g}")));
                }
            }
            super::servers::update_in(c, s)
        })
        .await
    }

    pub(crate) async fn group_insert(&self, g: SecurityGroup, rules: Vec<SecurityGroupRule>) -> Result<(), StoreError> {
        self.write(move |c| group_insert_in(c, &g, &rules)).await
    }

    pub(crate) async fn group_get(&self, project_id: &str, id: &str) -> Result<Option<SecurityGroup>, StoreError> {
        self.read_now(move |c| group_get_in(c, project_id, id)).await
    }

    pub(crate) async fn groups_of_project(&self, project_id: &str) -> Result<Vec<SecurityGroup>, StoreError> {
        let p = project_id.to_string();
        self.read(move |c| {
            query_bodies_in_rowid_order(c, "SELECT rowid, body FROM security_groups WHERE project_id = ?1", &p)
        })
        .await
    }

    pub(crate) async fn group_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write(move |c| {
            let g = group_get_in(c, &p, &id)?.ok_or_else(|| StoreError::NotFound(format!("security group {id}")))?;
            if let Some(why) = group_in_use_in(c, &g)? {
                return Err(StoreError::Conflict(why));
            }
            execute_cached(c, "DELETE FROM security_group_rules WHERE group_id = ?1", params![id]).map_err(backend)?;
            execute_cached(c, "DELETE FROM security_groups WHERE id = ?1", params![id]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn rules_of(
        &self,
        project_id: &str,
        group_id: Option<&str>,
    ) -> Result<Vec<SecurityGroupRule>, StoreError> {
        let p = project_id.to_string();
        let g = group_id.map(str::to_string);
        self.read(move |c| {
            let mut rules: Vec<SecurityGroupRule> = query_bodies_in_rowid_order(
                c,
                "SELECT rowid, body FROM security_group_rules WHERE project_id = ?1",
                &p,
            )?;
            if let Some(g) = g {
                rules.retain(|r| r.security_group_id == g);
            }
            Ok(rules)
        })
        .await
    }

    pub(crate) async fn rule_insert(&self, rule: SecurityGroupRule) -> Result<(), StoreError> {
        self.write(move |c| {
            let p = &rule.project_id;
            if group_get_in(c, p, &rule.security_group_id)?.is_none() {
                return Err(StoreError::NotFound(format!("security group {}", rule.security_group_id)));
            }
            if let Some(remote) = &rule.remote_group_id {
                if group_get_in(c, p, remote)?.is_none() {
                    return Err(StoreError::NotFound(format!("security group {remote}")));
                }
            }
            let existing: Vec<SecurityGroupRule> =
                query_bodies(c, "SELECT body FROM security_group_rules WHERE group_id = ?1", &rule.security_group_id)?;
            if let Some(same) = existing.iter().find(|r| r.same_traffic(&rule)) {
                return Err(StoreError::Conflict(format!("rule {} already allows this traffic", same.id)));
            }
            rule_insert_in(c, &rule)
        })
        .await
    }

    pub(crate) async fn rule_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write(move |c| {
            let n =
                execute_cached(c, "DELETE FROM security_group_rules WHERE id = ?1 AND project_id = ?2", params![id, p])
                    .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }
}

#[cfg(test)]
#[path = "networks_tests.rs"]
mod tests;
