//! Servers: create, show, list, update, delete, lock and unlock.

use super::validate;
use super::{begin, internal, server_of, views};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::{delete_server, SagaParams};
use bytes::Bytes;
use ecs_model::job::{job_type, Job};
use ecs_model::state::TaskState;
use ecs_model::timefmt::now_ms;
use ecs_model::{gates, Error};
use ecs_store::{Begin, ServerFilter};
use ecs_types::queries::ServerListQuery;
use ecs_types::requests::{CreateServersBody, DeleteServersBody, UpdateServerBody};
use ecs_types::server::{ServerEnvelope, ServerList};
use ecs_types::server::{UpdatedServer, UpdatedServerAddress, UpdatedServerEnvelope, UpdatedServerFlavor};
use ecs_types::Code;

pub use super::create::{Created, MAX_CREATE};

/// Most servers one batch action or delete may name.
pub const MAX_BATCH: usize = 1000;

/// `POST /v1/{project_id}/cloudservers`: the shared create, fed the `/v1` body.
pub async fn create(app: &App, caller: &Caller, body: CreateServersBody) -> Result<Created, Error> {
    super::create::create(app, caller, body.server, body.dry_run).await
}

/// `GET /v1/{project_id}/cloudservers/{server_id}`, in JSON: the detail kept from the last
/// answer while the store says nothing it was made of has changed (see
/// [`crate::shown_servers`]), else read (the server and its security groups' names in one read
/// of the store), rendered and kept.
pub async fn answer(app: &App, caller: &Caller, id: &str) -> Result<Bytes, Error> {
    shown(app, &caller.project_id, id).await
}

/// `{"server": detail}` of server `id`, kept or rendered.
async fn shown(app: &App, project_id: &str, id: &str) -> Result<Bytes, Error> {
    if let Some(kept) = app.shown_servers.get(&*app.ctx.store, project_id, id) {
        let host_down = app.node.host_down(kept.host.as_deref());
        if host_down == kept.host_down && app.ctx.driver.vm_access(id).await == kept.access {
            return Ok(kept.body.clone());
        }
    }
    let also = ecs_store::AlsoRead { group_names: true, seen: true, ..Default::default() };
    let (row, read) = super::server_with_of(app, project_id, id, also).await?;
    let mut names = read.group_names;
    let detail = detail_with_access(app, &row, &mut names).await;
    let (host_down, access) = (detail.host_status == "DOWN", detail.metadata.get(ACCESS).cloned());
    let body = Bytes::from(
        serde_json::to_vec(&ServerEnvelope { server: detail }).map_err(|e| Error::internal(e.to_string()))?,
    );
    if let Some(seen) = read.seen {
        let shown = crate::shown_servers::Shown {
            project_id: project_id.to_string(),
            seen,
            host: row.server.host.clone(),
            host_down,
            access,
            body: body.clone(),
        };
        app.shown_servers.offer(id, shown);
    }
    Ok(body)
}

/// The metadata key of how to reach the VM.
const ACCESS: &str = "ecsd.access";

/// The server detail, with how to reach the VM (`ecsd.access` in its metadata) when the
/// driver offers a way, e.g. `ssh -p 40022 root@127.0.0.1`.
async fn detail_with_access(
    app: &App,
    row: &ecs_store::ServerRow,
    names: &mut super::security_groups::GroupNames,
) -> ecs_types::server::ServerDetail {
    let mut d = views::server_detail(row);
    if app.node.host_down(row.server.host.as_deref()) {
        d.host_status = "DOWN".into();
    }
    d.security_groups = super::security_groups::refs_with_names(app, &row.server, names).await;
    if let Some(access) = app.ctx.driver.vm_access(&row.server.id).await {
        d.metadata.insert(ACCESS.into(), access);
    }
    d
}

/// The page size and the page number (from 1) of a server list.
pub fn paging(q: &ServerListQuery) -> Result<(usize, usize), Error> {
    let limit = q.limit.unwrap_or(25);
    if limit == 0 || limit > 1000 {
        return Err(Error::invalid(format!("limit must be between 1 and 1000, got {limit}.")));
    }
    // An int32 page number in Huawei's contract; a larger one is refused before the page
    // arithmetic (`(offset - 1) * limit`) can overflow.
    let page = q.offset.unwrap_or(1).max(1);
    if page > i32::MAX as u64 {
        return Err(Error::invalid(format!("Invalid query parameter offset: {page} is larger than {}.", i32::MAX)));
    }
    Ok((limit as usize, page as usize))
}

/// What a server list's query asks for, checked.
fn list_filter(q: &ServerListQuery) -> Result<ServerFilter, Error> {
    let (limit, page) = paging(q)?;
    let opt = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    if let Some(st) = opt(&q.status) {
        if !ecs_model::state::KNOWN_STATUSES.contains(&st.as_str()) {
            return Err(Error::invalid(format!("status {st:?} is not a server status.")));
        }
    }
    Ok(ServerFilter {
        name: opt(&q.name),
        ip: opt(&q.ip),
        ip_eq: opt(&q.ip_eq),
        flavor: opt(&q.flavor),
        status: opt(&q.status),
        tags: super::tags::list_filter(q.tags.as_deref()),
        not_tags: super::tags::list_filter(q.not_tags.as_deref()),
        reservation_id: opt(&q.reservation_id),
        server_ids: opt(&q.server_id).map(|v| v.split(',').map(|s| s.trim().to_string()).collect()),
        limit,
        page,
        marker: opt(&q.marker),
    })
}

/// `GET /v1/{project_id}/cloudservers/detail`, in JSON. Where the store can tell whether a
/// kept detail is current and the list's matches no write can change, the page is its ids, and
/// each server's detail is the one kept from the last answer that showed it (a GET or a list)
/// or is read, rendered and kept; a server deleted between the page's read and its own is left
/// out. Elsewhere, the page is read and rendered from one snapshot.
pub async fn list_answer(app: &App, caller: &Caller, q: &ServerListQuery) -> Result<Bytes, Error> {
    let filter = list_filter(q)?;
    let Some((count, ids)) = app.ctx.store.server_list_ids(&caller.project_id, &filter).await.map_err(internal)? else {
        let list = list_of(app, caller, &filter).await?;
        return Ok(Bytes::from(serde_json::to_vec(&list).map_err(|e| Error::internal(e.to_string()))?));
    };
    let mut out = Vec::with_capacity(64 + ids.len() * 2400);
    out.extend_from_slice(format!("{{\"count\":{count},\"servers\":[").as_bytes());
    let mut first = true;
    for id in &ids {
        let body = match shown(app, &caller.project_id, id).await {
            Ok(body) => body,
            Err(e) if e.code == Code::Ecs0114 => continue,
            Err(e) => return Err(e),
        };
        let Some(detail) = body.strip_prefix(ENVELOPE_START).and_then(|d| d.strip_suffix(b"}")) else {
            return Err(Error::internal(format!("server {id}'s detail is not an envelope")));
        };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(detail);
    }
    out.extend_from_slice(b"]}");
    Ok(Bytes::from(out))
}

/// How `{"server": detail}` starts, serialized: what a list leaves out of a kept answer.
const ENVELOPE_START: &[u8] = b"{\"server\":";

async fn list_of(app: &App, caller: &Caller, filter: &ServerFilter) -> Result<ServerList, Error> {
    let page = app.ctx.store.server_list(&caller.project_id, filter).await.map_err(internal)?;
    let mut servers = Vec::with_capacity(page.servers.len());
    let mut names = super::security_groups::GroupNames::new();
    for row in &page.servers {
        servers.push(detail_with_access(app, row, &mut names).await);
    }
    Ok(ServerList { count: page.count, servers })
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}`: name, description, hostname.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: &str,
    body: UpdateServerBody,
) -> Result<UpdatedServerEnvelope, Error> {
    let u = body.server.ok_or_else(|| Error::invalid("request body is illegal: server is required."))?;
    if let Some(n) = &u.name {
        validate::server_name(n)?;
    }
    if let Some(d) = &u.description {
        validate::description(d)?;
    }
    if let Some(h) = &u.hostname {
        if h.is_empty() || h.len() > 64 || !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Err(Error::invalid("hostname must be 1-64 letters, digits, '-' or '.'."));
        }
    }
    let updated = super::update_gated(app, &caller.project_id, id, gates::update_allowed, |s| {
        if let Some(n) = &u.name {
            s.name = n.clone();
        }
        if let Some(d) = &u.description {
            s.description = d.clone();
        }
        if let Some(h) = &u.hostname {
            s.hostname = h.clone();
        }
    })
    .await?;
    let row = server_of(app, &caller.project_id, &updated.id).await?;
    Ok(UpdatedServerEnvelope { server: updated_view(views::server_detail(&row)) })
}

/// The server as the update answers it: Nova's shorter form of the detail.
fn updated_view(d: ecs_types::server::ServerDetail) -> UpdatedServer {
    let addresses = d
        .addresses
        .into_iter()
        .map(|(net, addrs)| {
            (net, addrs.into_iter().map(|a| UpdatedServerAddress { version: 4, addr: a.addr }).collect())
        })
        .collect();
    UpdatedServer {
        id: d.id,
        name: d.name,
        description: d.description,
        status: d.status,
        tenant_id: d.tenant_id,
        user_id: d.user_id,
        image: d.image.id,
        flavor: UpdatedServerFlavor { id: d.flavor.id, links: vec![] },
        metadata: d.metadata,
        addresses,
        created: d.created,
        updated: d.updated,
        host_id: d.host_id,
        access_ipv4: String::new(),
        access_ipv6: String::new(),
        disk_config: d.disk_config,
        progress: d.progress,
        links: vec![],
        locked: d.locked,
        tags: d.tags,
        user_data: d.user_data,
        hostname: d.hostname,
    }
}

/// Parses the `servers` list of a batch request: present, non-empty, unique ids, bounded.
pub fn batch_ids(servers: Option<Vec<ecs_types::requests::IdRef>>) -> Result<Vec<String>, Error> {
    let servers = servers.ok_or_else(|| Error::invalid("request body is illegal: servers is required."))?;
    if servers.is_empty() {
        return Err(Error::invalid("servers must name at least one server."));
    }
    if servers.len() > MAX_BATCH {
        return Err(Error::new(Code::Ecs0118, format!("At most {MAX_BATCH} servers can be handled in one request.")));
    }
    let mut ids: Vec<String> = Vec::with_capacity(servers.len());
    for s in servers {
        let id = s.id.ok_or_else(|| Error::invalid("servers[].id is required."))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// `POST /v1/{project_id}/cloudservers/delete`.
pub async fn delete(app: &App, caller: &Caller, body: DeleteServersBody) -> Result<String, Error> {
    let ids = batch_ids(body.servers)?;
    let delete_volumes = body.delete_volume.unwrap_or(false);
    let now = now_ms();
    let parent = Job::new(&caller.project_id, job_type::DELETE_SERVER, None, None, now);
    let mut b = Begin { jobs: vec![parent.clone()], ..Default::default() };
    for id in &ids {
        let row = server_of(app, &caller.project_id, id).await?;
        gates::delete_allowed(&row.server)?;
        let mut s = row.server.clone();
        let prior = s.vm_state;
        s.task_state = Some(TaskState::Deleting);
        s.updated_ms = now;
        let child = Job::new(&caller.project_id, job_type::DELETE_SINGLE_SERVER, Some(&parent.id), Some(id), now);
        let params = delete_server::Params {
            project_id: caller.project_id.clone(),
            server_id: id.clone(),
            prior_vm_state: prior,
            disk_ids: row
                .volumes
                .iter()
                .filter(|v| v.boot_index == Some(0) || delete_volumes || v.delete_on_termination)
                .map(|v| v.id.clone())
                .collect(),
        };
        b.sagas.push(params.record(&child.id)?);
        b.jobs.push(child);
        b.update_servers.push(s);
    }
    begin(app, b).await?;
    Ok(parent.id)
}

/// Nova `lock` / `unlock` actions.
pub async fn set_lock(app: &App, caller: &Caller, id: &str, locked: bool) -> Result<(), Error> {
    // Locking and unlocking are allowed in every state: nothing to gate.
    super::update_gated(app, &caller.project_id, id, |_| Ok(()), |s| s.locked = locked).await?;
    Ok(())
}
