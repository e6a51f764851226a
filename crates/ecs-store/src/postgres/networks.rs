//! Ports and security groups: their rows, the default group a project gets with its default
//! network, and the locks that keep a group from being deleted while a write refers to it.

use super::{bodies, commit, decode, encode, execute, get, query, query_opt, transaction, PgStore};
use crate::StoreError;
use deadpool_postgres::GenericClient;
use ecs_model::port::Port;
use ecs_model::security_group::{self as sg, SecurityGroup, SecurityGroupRule};
use ecs_model::server::Server;

async fn group_get_in(c: &impl GenericClient, project_id: &str, id: &str) -> Result<Option<SecurityGroup>, StoreError> {
    let row =
        query_opt(c, "SELECT body FROM security_groups WHERE id = $1 AND project_id = $2", &[&id, &project_id]).await?;
    row.map(|r| get::<&str>(&r, 0).and_then(decode)).transpose()
}

/// Whether the project has group `id`, holding it (FOR SHARE) until the transaction ends: a
/// deletion of the group, which locks it FOR UPDATE, waits for this write to commit and then
/// sees the reference it made; a deletion that got there first leaves nothing to find.
async fn group_held_in(c: &impl GenericClient, project_id: &str, id: &str) -> Result<bool, StoreError> {
    let row =
        query_opt(c, "SELECT 1 FROM security_groups WHERE id = $1 AND project_id = $2 FOR SHARE", &[&id, &project_id])
            .await?;
    Ok(row.is_some())
}

async fn group_insert_in(
    c: &impl GenericClient,
    g: &SecurityGroup,
    rules: &[SecurityGroupRule],
) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO security_groups (id, project_id, name, body) VALUES ($1, $2, $3, $4)",
        &[&g.id, &g.project_id, &g.name, &encode(g)?],
    )
    .await?;
    for r in rules {
        rule_insert_in(c, r).await?;
    }
    Ok(())
}

async fn rule_insert_in(c: &impl GenericClient, r: &SecurityGroupRule) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO security_group_rules (id, project_id, group_id, remote_group_id, body)
         VALUES ($1, $2, $3, $4, $5)",
        &[&r.id, &r.project_id, &r.security_group_id, &r.remote_group_id, &encode(r)?],
    )
    .await?;
    Ok(())
}

/// Creates the project's default group (with its rules) in `vpc_id` unless it has one. The
/// caller holds the project's lock.
pub(super) async fn ensure_default_group_in(
    c: &impl GenericClient,
    project_id: &str,
    vpc_id: &str,
) -> Result<(), StoreError> {
    let existing = query_opt(
        c,
        "SELECT 1 FROM security_groups WHERE project_id = $1 AND name = 'default' LIMIT 1",
        &[&project_id],
    )
    .await?;
    if existing.is_some() {
        return Ok(());
    }
    let now = ecs_model::timefmt::now_ms();
    let g = sg::default_group(project_id, vpc_id, now);
    group_insert_in(c, &g, &sg::default_rules(project_id, &g.id, now)).await
}

/// Writes the port of a new server, in the transaction that inserts the server. Every group
/// the server names must exist in its project at that moment (and is held until the commit):
/// a group deleted since the request checked it makes the create lose, as any other
/// concurrent change would.
pub(super) async fn port_insert_for_server_in(c: &impl GenericClient, s: &Server) -> Result<(), StoreError> {
    for g in &s.security_groups {
        if !group_held_in(c, &s.project_id, g).await? {
            return Err(StoreError::Conflict(format!("security group {g} was deleted meanwhile")));
        }
    }
    let port = Port::for_server(&s.project_id, &s.id, &s.network.port_id);
    execute(
        c,
        "INSERT INTO ports (id, project_id, server_id, body) VALUES ($1, $2, $3, $4)",
        &[&port.id, &port.project_id, &port.server_id, &encode(&port)?],
    )
    .await?;
    Ok(())
}

/// Inserts the port of a NIC added to a server; `Conflict` when the port id is taken.
pub(super) async fn port_insert_in(c: &impl GenericClient, port: &Port) -> Result<(), StoreError> {
    let n = execute(
        c,
        "INSERT INTO ports (id, project_id, server_id, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        &[&port.id, &port.project_id, &port.server_id, &encode(port)?],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("port {} exists", port.id)));
    }
    Ok(())
}

/// Removes the ports of a deleted server.
pub(super) async fn ports_delete_for_server_in(c: &impl GenericClient, server_id: &str) -> Result<(), StoreError> {
    execute(c, "DELETE FROM ports WHERE server_id = $1", &[&server_id]).await?;
    Ok(())
}

/// Why a group may not be deleted, if it may not. The caller holds the group FOR UPDATE.
async fn group_in_use_in(c: &impl GenericClient, g: &SecurityGroup) -> Result<Option<String>, StoreError> {
    if g.name == sg::DEFAULT_NAME {
        return Ok(Some("the default security group cannot be deleted".into()));
    }
    let server = query_opt(
        c,
        "SELECT id FROM servers WHERE project_id = $1 AND $2 = ANY(security_groups) LIMIT 1",
        &[&g.project_id, &g.id],
    )
    .await?;
    if let Some(s) = server {
        return Ok(Some(format!("it is used by the port of server {}", get::<&str>(&s, 0)?)));
    }
    let rule = query_opt(
        c,
        "SELECT group_id FROM security_group_rules WHERE project_id = $1 AND group_id <> $2
           AND remote_group_id = $2 LIMIT 1",
        &[&g.project_id, &g.id],
    )
    .await?;
    match rule {
        Some(r) => Ok(Some(format!("a rule of security group {} refers to it", get::<&str>(&r, 0)?))),
        None => Ok(None),
    }
}

impl PgStore {
    pub(crate) async fn port_by_id(&self, project_id: &str, id: &str) -> Result<Option<Port>, StoreError> {
        let c = self.client().await?;
        let row =
            query_opt(&c, "SELECT body FROM ports WHERE id = $1 AND project_id = $2", &[&id, &project_id]).await?;
        row.map(|r| get::<&str>(&r, 0).and_then(decode)).transpose()
    }

    pub(crate) async fn ports_of_project(&self, project_id: &str) -> Result<Vec<Port>, StoreError> {
        let c = self.client().await?;
        let mut ports: Vec<Port> =
            bodies(&query(&c, "SELECT body FROM ports WHERE project_id = $1", &[&project_id]).await?)?;
        ports.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(ports)
    }

    pub(crate) async fn port_put(&self, port: Port) -> Result<(), StoreError> {
        let c = self.client().await?;
        let n = execute(
            &c,
            "UPDATE ports SET body = $1 WHERE id = $2 AND project_id = $3",
            &[&encode(&port)?, &port.id, &port.project_id],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("port {}", port.id)));
        }
        Ok(())
    }

    pub(crate) async fn server_groups_update(&self, s: Server) -> Result<Server, StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        for g in &s.security_groups {
            if !group_held_in(&tx, &s.project_id, g).await? {
                return Err(StoreError::NotFound(format!("security group {g}")));
            }
        }
        let s = super::servers::update_in(&tx, s).await?;
        commit(tx).await?;
        Ok(s)
    }

    pub(crate) async fn group_insert(&self, g: SecurityGroup, rules: Vec<SecurityGroupRule>) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        group_insert_in(&tx, &g, &rules).await?;
        commit(tx).await
    }

    pub(crate) async fn group_get(&self, project_id: &str, id: &str) -> Result<Option<SecurityGroup>, StoreError> {
        let c = self.client().await?;
        group_get_in(&c, project_id, id).await
    }

    pub(crate) async fn groups_of_project(&self, project_id: &str) -> Result<Vec<SecurityGroup>, StoreError> {
        let c = self.client().await?;
        bodies(&query(&c, "SELECT body FROM security_groups WHERE project_id = $1 ORDER BY ord", &[&project_id]).await?)
    }

    pub(crate) async fn group_delete(&self, project_id: &str, id: &str) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        let row = query_opt(
            &tx,
            "SELECT body FROM security_groups WHERE id = $1 AND project_id = $2 FOR UPDATE",
            &[&id, &project_id],
        )
        .await?;
        let g: SecurityGroup = match row {
            Some(r) => decode(get(&r, 0)?)?,
            None => return Err(StoreError::NotFound(format!("security group {id}"))),
        };
        if let Some(why) = group_in_use_in(&tx, &g).await? {
            return Err(StoreError::Conflict(why));
        }
        execute(&tx, "DELETE FROM security_group_rules WHERE group_id = $1", &[&id]).await?;
        execute(&tx, "DELETE FROM security_groups WHERE id = $1", &[&id]).await?;
        commit(tx).await
    }

    pub(crate) async fn rules_of(
        &self,
        project_id: &str,
        group_id: Option<&str>,
    ) -> Result<Vec<SecurityGroupRule>, StoreError> {
        let c = self.client().await?;
        let rows = match group_id {
            Some(g) => {
                query(
                    &c,
                    "SELECT body FROM security_group_rules WHERE project_id = $1 AND group_id = $2 ORDER BY ord",
                    &[&project_id, &g],
                )
                .await?
            }
            None => {
                query(&c, "SELECT body FROM security_group_rules WHERE project_id = $1 ORDER BY ord", &[&project_id])
                    .await?
            }
        };
        bodies(&rows)
    }

    pub(crate) async fn rule_insert(&self, rule: SecurityGroupRule) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = transaction(&mut c).await?;
        let p = &rule.project_id;
        // FOR UPDATE: two inserts of the same rule into one group queue here, and the second
        // then finds the first among the group's rules.
        let group = query_opt(
            &tx,
            "SELECT 1 FROM security_groups WHERE id = $1 AND project_id = $2 FOR UPDATE",
            &[&rule.security_group_id, p],
        )
        .await?;
        if group.is_none() {
            return Err(StoreError::NotFound(format!("security group {}", rule.security_group_id)));
        }
        if let Some(remote) = &rule.remote_group_id {
            if !group_held_in(&tx, p, remote).await? {
                return Err(StoreError::NotFound(format!("security group {remote}")));
            }
        }
        let existing: Vec<SecurityGroupRule> = bodies(
            &query(&tx, "SELECT body FROM security_group_rules WHERE group_id = $1", &[&rule.security_group_id])
                .await?,
        )?;
        if let Some(same) = existing.iter().find(|r| r.same_traffic(&rule)) {
            return Err(StoreError::Conflict(format!("rule {} already allows this traffic", same.id)));
        }
        rule_insert_in(&tx, &rule).await?;
        commit(tx).await
    }

    pub(crate) async fn rule_delete(&self, project_id: &str, id: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let n = execute(&c, "DELETE FROM security_group_rules WHERE id = $1 AND project_id = $2", &[&id, &project_id])
            .await?;
        Ok(n > 0)
    }
}
