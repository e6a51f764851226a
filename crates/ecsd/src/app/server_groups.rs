//! Server groups (ECS groups): create, list, show, delete, and their members.
//!
//! A group's members are servers of its project; a server is in at most one group. Members
//! join at create (`os:scheduler_hints.group`, in the transaction that inserts the server) or
//! later (`add_member`, `add_members`), and leave by `remove_member(s)`, with their group or
//! with their own deletion. What anti-affinity means on one host and on several: see
//! `docs/wire/server-groups.md`.

use super::internal;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::server_group::{ServerGroup, MAX_GROUPS, POLICIES};
use ecs_model::timefmt::now_ms;
use ecs_model::Error;
use ecs_store::StoreError;
use ecs_types::server_groups::{
    BatchMembersResult, BatchOperateResult, CreateServerGroupBody, ServerGroupEnvelope, ServerGroupList,
    ServerGroupPageInfo, ServerGroupView, ServerGroupsQuery,
};
use ecs_types::Code;

/// The longest group name (Huawei: 1 to 255 characters).
const MAX_NAME: usize = 255;

/// At most this many servers in one batch member change.
const MAX_BATCH: usize = ecs_model::server_group::MAX_MEMBERS;

/// No such group in the caller's project (inferred: 404 with the not-found code of ECS).
pub fn missing(id: &str) -> Error {
    Error::new(Code::Ecs0114, format!("Server group {id} could not be found."))
}

pub fn view(g: &ServerGroup) -> ServerGroupView {
    ServerGroupView {
        id: g.id.clone(),
        name: g.name.clone(),
        policies: g.policies.clone(),
        members: g.members.clone(),
        metadata: Default::default(),
    }
}

/// `POST /v1/{project_id}/cloudservers/os-server-groups`.
pub async fn create(app: &App, caller: &Caller, body: CreateServerGroupBody) -> Result<ServerGroupEnvelope, Error> {
    let o = body.server_group.ok_or_else(|| Error::invalid("request body is illegal: server_group is required."))?;
    let name = o.name.unwrap_or_default();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Error::invalid(format!("server_group.name must be 1 to {MAX_NAME} characters long.")));
    }
    let mut policies = o.policies.unwrap_or_default();
    if policies.is_empty() {
        return Err(Error::invalid("server_group.policies is required (\"anti-affinity\")."));
    }
    if let Some(p) = policies.iter().find(|p| !POLICIES.contains(&p.as_str())) {
        return Err(Error::invalid(format!(
            "server_group.policies: {p:?} is not supported; the only policy is \"anti-affinity\"."
        )));
    }
    policies.dedup();
    let g = ServerGroup {
        id: ecs_model::new_uuid(),
        project_id: caller.project_id.clone(),
        name,
        policies,
        created_ms: now_ms(),
        members: vec![],
    };
    app.ctx.store.server_group_insert(g.clone(), MAX_GROUPS).await.map_err(|e| match e {
        StoreError::QuotaExceeded(why) => Error::new(Code::Ecs0001, format!("Insufficient server group quota: {why}")),
        e => internal(e),
    })?;
    Ok(ServerGroupEnvelope { server_group: view(&g) })
}

/// `GET /v1/{project_id}/cloudservers/os-server-groups`: oldest first, after `marker`, at most
/// `limit`; `page_info.next_marker` is the last one's id when the page is full.
pub async fn list(app: &App, caller: &Caller, q: &ServerGroupsQuery) -> Result<ServerGroupList, Error> {
    let mut groups = app.ctx.store.server_group_list(&caller.project_id).await.map_err(internal)?;
    if let Some(m) = &q.marker {
        let at = groups
            .iter()
            .position(|g| &g.id == m)
            .ok_or_else(|| Error::invalid(format!("marker {m} is not a server group of the project.")))?;
        groups.drain(..=at);
    }
    let mut next_marker = None;
    if let Some(n) = q.limit {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n == 0 || n > 1000 {
            return Err(Error::invalid(format!("limit must be between 1 and 1000, got {n}.")));
        }
        if groups.len() > n {
            groups.truncate(n);
            next_marker = groups.last().map(|g| g.id.clone());
        }
    }
    Ok(ServerGroupList {
        server_groups: groups.iter().map(view).collect(),
        page_info: ServerGroupPageInfo { next_marker },
    })
}

/// A group of the caller's project, or [`missing`].
pub async fn get(app: &App, caller: &Caller, id: &str) -> Result<ServerGroup, Error> {
    if !ecs_model::ids::is_uuid(id) {
        return Err(missing(id));
    }
    app.ctx.store.server_group_get(&caller.project_id, id).await.map_err(internal)?.ok_or_else(|| missing(id))
}

/// `GET .../os-server-groups/{id}`.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<ServerGroupEnvelope, Error> {
    Ok(ServerGroupEnvelope { server_group: view(&get(app, caller, id).await?) })
}

/// `DELETE .../os-server-groups/{id}`: a group with members is deleted too, and its members
/// stay, in no group (as Nova does).
pub async fn delete(app: &App, caller: &Caller, id: &str) -> Result<(), Error> {
    if !ecs_model::ids::is_uuid(id) {
        return Err(missing(id));
    }
    match app.ctx.store.server_group_delete(&caller.project_id, id).await.map_err(internal)? {
        true => Ok(()),
        false => Err(missing(id)),
    }
}

/// The server ids of a member change: each a UUID, none twice, at least one.
fn member_ids(ids: Vec<String>) -> Result<Vec<String>, Error> {
    if ids.is_empty() {
        return Err(Error::invalid("server_ids must name at least one server."));
    }
    if ids.len() > MAX_BATCH {
        return Err(Error::new(Code::Ecs0118, format!("At most {MAX_BATCH} servers can be changed at once.")));
    }
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        if !ecs_model::ids::is_uuid(id) {
            return Err(Error::server_not_found(id));
        }
        if !seen.insert(id.as_str()) {
            return Err(Error::invalid(format!("server {id} is named twice.")));
        }
    }
    Ok(ids)
}

/// What the store's refusals of a member change say.
fn member_error(group_id: &str, e: StoreError) -> Error {
    match e {
        StoreError::NotFound(what) if what.starts_with("server group") => missing(group_id),
        StoreError::NotFound(what) => Error::server_not_found(what.strip_prefix("server ").unwrap_or(&what)),
        // Inferred: Huawei's words for these vary; the request is invalid as made.
        StoreError::Conflict(why) => Error::invalid(format!("{why}.")),
        StoreError::QuotaExceeded(why) => Error::new(Code::Ecs0001, why),
        e => internal(e),
    }
}

/// `add_member` / `add_members`: all of `ids` join, or none.
pub async fn add(app: &App, caller: &Caller, id: &str, ids: Vec<String>) -> Result<BatchMembersResult, Error> {
    get(app, caller, id).await?;
    let ids = member_ids(ids)?;
    app.ctx.store.server_group_add(&caller.project_id, id, &ids).await.map_err(|e| member_error(id, e))?;
    Ok(batch_result(ids))
}

/// `remove_member` / `remove_members`: all of `ids` leave, or none.
pub async fn remove(app: &App, caller: &Caller, id: &str, ids: Vec<String>) -> Result<BatchMembersResult, Error> {
    get(app, caller, id).await?;
    let ids = member_ids(ids)?;
    app.ctx.store.server_group_remove(&caller.project_id, id, &ids).await.map_err(|e| member_error(id, e))?;
    Ok(batch_result(ids))
}

fn batch_result(ids: Vec<String>) -> BatchMembersResult {
    BatchMembersResult {
        status: "success".into(),
        servers: ids
            .into_iter()
            .map(|server_id| BatchOperateResult { server_id, status: "success".into(), fail_reason: None })
            .collect(),
    }
}
