//! Servers: create, show, list, update, delete, lock and unlock.

use super::validate;
use super::{begin, catalog, internal, server_of, views};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::{create_server, delete_server, SagaParams};
use ecs_driver::Injection;
use ecs_model::job::{job_type, Job};
use ecs_model::server::{Server, ServerNic};
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_model::volume::{Volume, SYSTEM_DEVICE, VOLUME_TYPES};
use ecs_model::{gates, Error};
use ecs_store::{Begin, ServerFilter};
use ecs_types::queries::ServerListQuery;
use ecs_types::requests::{CreateServersBody, DeleteServersBody, UpdateServerBody};
use ecs_types::server::{ServerEnvelope, ServerList};
use ecs_types::server::{UpdatedServer, UpdatedServerAddress, UpdatedServerEnvelope, UpdatedServerFlavor};
use ecs_types::Code;
use std::collections::BTreeMap;

/// Most servers one create request may ask for.
pub const MAX_CREATE: i64 = 100;
/// Most servers one batch action or delete may name.
pub const MAX_BATCH: usize = 1000;

/// What a create request asks for, once validated.
pub enum Created {
    /// `dry_run`: everything checked, nothing created.
    DryRun,
    Accepted {
        job_id: String,
        server_ids: Vec<String>,
    },
}

/// `POST /v1/{project_id}/cloudservers`.
pub async fn create(app: &App, caller: &Caller, body: CreateServersBody) -> Result<Created, Error> {
    let req = body.server.ok_or_else(|| Error::invalid("request body is illegal: server is required."))?;
    let name = req.name.as_deref().ok_or_else(|| Error::invalid("server.name is required."))?;
    validate::server_name(name)?;
    let image_ref = req.image_ref.as_deref().ok_or_else(|| Error::invalid("server.imageRef is required."))?;
    let flavor_ref = req.flavor_ref.as_deref().ok_or_else(|| Error::invalid("server.flavorRef is required."))?;
    let vpc_id = req.vpcid.as_deref().ok_or_else(|| Error::invalid("server.vpcid is required."))?;
    if !ecs_model::ids::is_uuid(vpc_id) {
        return Err(Error::invalid(format!("vpc id[{vpc_id}] is not uuid.")));
    }
    let nics = req.nics.as_deref().unwrap_or_default();
    if nics.is_empty() {
        return Err(Error::invalid("server.nics must name one subnet."));
    }
    if nics.len() > 1 {
        return Err(Error::invalid("server.nics: only one NIC per server is supported."));
    }
    let subnet_id =
        nics[0].subnet_id.as_deref().ok_or_else(|| Error::invalid("server.nics[0].subnet_id is required."))?;
    let root = req.root_volume.as_ref().ok_or_else(|| Error::invalid("server.root_volume is required."))?;
    let volume_type =
        root.volumetype.as_deref().ok_or_else(|| Error::invalid("server.root_volume.volumetype is required."))?;
    if !VOLUME_TYPES.contains(&volume_type) {
        return Err(Error::invalid(format!(
            "root_volume.volumetype {volume_type:?} is not one of {}.",
            VOLUME_TYPES.join(", ")
        )));
    }
    if req.data_volumes.as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(Error::invalid("data_volumes are not supported by this service."));
    }
    let count = req.count.unwrap_or(1);
    if !(1..=MAX_CREATE).contains(&count) {
        return Err(Error::invalid(format!("count must be between 1 and {MAX_CREATE}, got {count}.")));
    }
    if let Some(p) = &req.admin_pass {
        validate::admin_password(p)?;
    }
    if let Some(ud) = &req.user_data {
        validate::user_data(ud)?;
    }
    if let Some(d) = &req.description {
        validate::description(d)?;
    }
    let mut user_meta = BTreeMap::new();
    for (k, v) in req.metadata.clone().unwrap_or_default() {
        if k.starts_with("__") || k.len() > 255 || v.len() > 255 {
            return Err(Error::invalid(format!("metadata key {k:?} is reserved or too long.")));
        }
        user_meta.insert(k, v);
    }
    let tags = super::tags::from_create(req.server_tags.clone())?;
    let flavor = ecs_model::flavor::find(flavor_ref)
        .ok_or_else(|| Error::new(Code::Ecs0019, format!("Flavor {flavor_ref} does not exist or is abandoned.")))?;
    let image = catalog::image_for(app, caller, image_ref).await?;
    let size_gb = root.size.unwrap_or(image.min_disk.max(40));
    if size_gb < image.min_disk || size_gb > 1024 {
        return Err(Error::invalid(format!(
            "root_volume.size must be between {} (the image's minimum) and 1024 GB, got {size_gb}.",
            image.min_disk
        )));
    }
    let (vpc, subnet) = app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    if vpc.id != vpc_id {
        return Err(Error::invalid(format!("vpc id[{vpc_id}] does not exist in this project.")));
    }
    if subnet.id != subnet_id {
        return Err(Error::invalid(format!("subnet [{subnet_id}] does not exist in vpc [{vpc_id}].")));
    }
    let groups = req.security_groups.as_deref().unwrap_or_default();
    let security_groups = super::security_groups::resolve_for_create(app, caller, groups).await?;
    let public_key = match &req.key_name {
        Some(k) => Some(
            app.ctx
                .store
                .keypair_get(&caller.project_id, k)
                .await
                .map_err(internal)?
                .ok_or_else(|| Error::new(Code::Ecs0314, format!("The key pair [{k}] does not exist.")))?
                .public_key,
        ),
        None => None,
    };
    if body.dry_run == Some(true) {
        return Ok(Created::DryRun);
    }

    let now = now_ms();
    let password_hash = super::hash_password(req.admin_pass.as_deref()).await?;
    let parent = Job::new(&caller.project_id, job_type::CREATE_SERVER, None, None, now);
    let reservation_id = format!("r-{}", &ecs_model::new_uuid()[..8]);
    let mut b = Begin::default();
    for i in 0..count {
        let server_name = if count > 1 { format!("{name}-{:04}", i + 1) } else { name.to_string() };
        let id = ecs_model::new_uuid();
        let mut metadata = user_meta.clone();
        ecs_model::image::image_metadata(&mut metadata, &image);
        let server = Server {
            id: id.clone(),
            project_id: caller.project_id.clone(),
            user_id: caller.user_id.clone(),
            name: server_name.clone(),
            description: req.description.clone().unwrap_or_default(),
            hostname: server_name.to_lowercase(),
            vm_state: VmState::Building,
            task_state: Some(TaskState::Scheduling),
            image_id: image.id.clone(),
            flavor_id: flavor.id.to_string(),
            key_name: req.key_name.clone(),
            admin_pass_hash: password_hash.clone(),
            pending_password_hash: None,
            user_data: req.user_data.clone(),
            metadata,
            network: ServerNic {
                vpc_id: vpc.id.clone(),
                subnet_id: subnet.id.clone(),
                ip: String::new(),
                mac: String::new(),
                port_id: ecs_model::new_uuid(),
            },
            availability_zone: req.availability_zone.clone().unwrap_or_else(|| subnet.availability_zone.clone()),
            security_groups: security_groups.clone(),
            tags: tags.clone(),
            locked: false,
            created_ms: now,
            updated_ms: now,
            launched_ms: None,
            os_change_failed: false,
            fault: None,
            launch_index: i,
            reservation_id: reservation_id.clone(),
            generation: 1,
        };
        let disk = Volume {
            id: ecs_model::new_uuid(),
            project_id: caller.project_id.clone(),
            server_id: Some(id.clone()),
            boot_index: Some(0),
            image_id: Some(image.id.clone()),
            size_gb,
            volume_type: volume_type.to_string(),
            device: SYSTEM_DEVICE.into(),
            delete_on_termination: true,
            created_ms: now,
        };
        let child = Job::new(&caller.project_id, job_type::CREATE_SINGLE_SERVER, Some(&parent.id), Some(&id), now);
        let params = create_server::Params {
            project_id: caller.project_id.clone(),
            server_id: id.clone(),
            disk_id: disk.id.clone(),
            image_id: image.id.clone(),
            image_file: image.file.clone(),
            size_gb,
            injection: Injection {
                public_key: public_key.clone(),
                password_hash: password_hash.clone(),
                user_data: req.user_data.clone(),
                hostname: Some(server.hostname.clone()),
                via_cloud_init: image.cloud_init,
            },
            vcpus: flavor.vcpus,
            ram_mb: flavor.ram_mb,
        };
        b.sagas.push(params.record(&child.id)?);
        b.jobs.push(child);
        b.insert_servers.push(server);
        b.insert_volumes.push(disk);
    }
    b.jobs.insert(0, parent.clone());
    let inserted = begin(app, b).await?;
    Ok(Created::Accepted { job_id: parent.id, server_ids: inserted.into_iter().map(|s| s.id).collect() })
}

/// `GET /v1/{project_id}/cloudservers/{server_id}`.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<ServerEnvelope, Error> {
    let row = server_of(app, &caller.project_id, id).await?;
    Ok(ServerEnvelope { server: detail_with_access(app, &row).await })
}

/// The server detail, with how to reach the VM (`ecsd.access` in its metadata) when the
/// driver offers a way, e.g. `ssh -p 40022 root@127.0.0.1`.
async fn detail_with_access(app: &App, row: &ecs_store::ServerRow) -> ecs_types::server::ServerDetail {
    let mut d = views::server_detail(row);
    d.security_groups = super::security_groups::refs_for_server(app, &row.server).await;
    if let Some(access) = app.ctx.driver.vm_access(&row.server.id).await {
        d.metadata.insert("ecsd.access".into(), access);
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

/// `GET /v1/{project_id}/cloudservers/detail`.
pub async fn list(app: &App, caller: &Caller, q: &ServerListQuery) -> Result<ServerList, Error> {
    let (limit, page) = paging(q)?;
    let opt = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let list = |v: &Option<String>| {
        v.as_deref().map(|v| v.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()).unwrap_or_default()
    };
    let tag_list = |v: &Option<String>| -> Vec<String> {
        let l: Vec<String> = list(v);
        l.iter().map(|t| super::tags::list_filter_value(t)).collect()
    };
    if let Some(st) = opt(&q.status) {
        if !ecs_model::state::KNOWN_STATUSES.contains(&st.as_str()) {
            return Err(Error::invalid(format!("status {st:?} is not a server status.")));
        }
    }
    let filter = ServerFilter {
        name: opt(&q.name),
        ip: opt(&q.ip),
        ip_eq: opt(&q.ip_eq),
        flavor: opt(&q.flavor),
        status: opt(&q.status),
        tags: tag_list(&q.tags),
        not_tags: tag_list(&q.not_tags),
        reservation_id: opt(&q.reservation_id),
        server_ids: opt(&q.server_id).map(|v| v.split(',').map(|s| s.trim().to_string()).collect()),
        limit,
        page,
        marker: opt(&q.marker),
    };
    let page = app.ctx.store.server_list(&caller.project_id, &filter).await.map_err(internal)?;
    let mut servers = Vec::with_capacity(page.servers.len());
    for row in &page.servers {
        servers.push(detail_with_access(app, row).await);
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
