//! The Nova server API (`/v2.1/{project_id}/servers`): the same servers as ECS's, in Nova's
//! shapes. A create is translated into an ECS create and goes through the same validation and
//! saga; a delete is an ECS delete of one server. Errors are answered in Nova's shape.

use super::create::{Created, MAX_CREATE};
use super::internal;
use super::views::server_detail;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::Error;
use ecs_store::{ServerFilter, ServerRow};
use ecs_types::codes::Code;
use ecs_types::create::DataVolume;
use ecs_types::nova::*;
use ecs_types::requests::{DeleteServersBody, IdRef, Nic, PostPaidServer, RootVolume};

/// Largest page of a Nova list (Nova's `max_limit` default).
pub const MAX_LIMIT: usize = 1000;

/// The `self` and `bookmark` links of a server.
fn links(project_id: &str, id: &str) -> Vec<NovaLink> {
    vec![
        NovaLink { href: format!("/v2.1/{project_id}/servers/{id}"), rel: "self".into() },
        NovaLink { href: format!("/{project_id}/servers/{id}"), rel: "bookmark".into() },
    ]
}

/// An ECS error in Nova's shape: Nova answers every client error with a fault named for its
/// status (`badRequest`, `itemNotFound`, `conflictingRequest`), whatever the ECS code was.
pub fn nova_error(e: Error) -> Error {
    // A server in the wrong state for the operation (busy, or not in a state it allows) is
    // Nova's 409 ("Cannot 'delete' instance while it is in task_state ..."), where ECS says
    // 400 `Ecs.0100`; so is a locked server (ECS `Ecs.0605`; Nova: "Instance ... is locked").
    if e.code == Code::Ecs0100 || e.code == Code::Ecs0605 {
        return Error { code: Code::NovaConflict, ..e };
    }
    let code = match e.code.http_status() {
        400 => Code::NovaBadRequest,
        404 => Code::NovaNotFound,
        409 => Code::NovaConflict,
        _ => return e,
    };
    if e.code == code {
        return e;
    }
    Error { code, ..e }
}

/// A server in Nova's shape, from the same view ECS shows (so both agree field by field).
async fn nova_server(app: &App, row: &ServerRow) -> NovaServer {
    let d = server_detail(row);
    let s = &row.server;
    let fl = ecs_model::flavor::find(&s.flavor_id);
    let groups = super::security_groups::refs_for_server(app, s).await;
    let host_status = if app.node.host_down(s.host.as_deref()) { "DOWN".to_string() } else { d.host_status.clone() };
    NovaServer {
        id: d.id.clone(),
        name: d.name,
        status: d.status,
        created: d.created,
        updated: d.updated,
        flavor: NovaServerFlavor {
            id: s.flavor_id.clone(),
            links: vec![NovaLink {
                href: format!("/{}/flavors/{}", s.project_id, s.flavor_id),
                rel: "bookmark".into(),
            }],
            vcpus: fl.map(|f| f.vcpus).unwrap_or(0),
            ram: fl.map(|f| f.ram_mb).unwrap_or(0),
            disk: fl.map(|f| f.disk_gb).unwrap_or(0),
            ephemeral: 0,
            swap: 0,
            original_name: s.flavor_id.clone(),
            extra_specs: fl.map(super::views::flavor_extra_specs).unwrap_or_default(),
        },
        image: NovaServerImage {
            id: s.image_id.clone(),
            links: vec![NovaLink { href: format!("/{}/images/{}", s.project_id, s.image_id), rel: "bookmark".into() }],
        },
        tenant_id: d.tenant_id,
        key_name: d.key_name,
        user_id: d.user_id,
        metadata: s.metadata.clone(),
        host_id: d.host_id,
        addresses: d
            .addresses
            .into_iter()
            .map(|(net, addrs)| {
                let addrs = addrs
                    .into_iter()
                    .map(|a| NovaAddress {
                        addr: a.addr,
                        version: a.version.parse().unwrap_or(4),
                        mac_addr: a.mac_addr,
                        ip_type: a.ip_type,
                    })
                    .collect();
                (net, addrs)
            })
            .collect(),
        security_groups: groups.into_iter().map(|g| NovaSecurityGroupName { name: g.name }).collect(),
        links: links(&s.project_id, &s.id),
        disk_config: d.disk_config,
        availability_zone: d.availability_zone,
        host: d.host,
        hypervisor_hostname: d.hypervisor_hostname,
        instance_name: d.instance_name,
        power_state: d.power_state,
        task_state: d.task_state,
        vm_state: d.vm_state,
        launched_at: d.launched_at,
        terminated_at: d.terminated_at,
        volumes_attached: row
            .volumes
            .iter()
            .filter(|v| v.boot_index.is_some())
            .map(|v| NovaServerVolume { id: v.id.clone(), delete_on_termination: v.delete_on_termination })
            .collect(),
        fault: d.fault.map(|f| NovaServerFault {
            code: f.code,
            created: f.created,
            message: f.message,
            details: f.details,
        }),
        description: d.description,
        host_status,
        hostname: d.hostname,
        reservation_id: d.reservation_id,
        launch_index: d.launch_index,
        kernel_id: d.kernel_id,
        ramdisk_id: d.ramdisk_id,
        root_device_name: d.root_device_name,
        user_data: s.user_data.clone(),
        tags: d.tags,
        locked: d.locked,
        access_ipv4: d.access_ipv4,
        access_ipv6: d.access_ipv6,
        config_drive: d.config_drive,
        progress: d.progress.unwrap_or(0),
        scheduler_hints: d.scheduler_hints,
    }
}

/// `GET /v2.1/{project_id}/servers/{server_id}`.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<NovaServerEnvelope, Error> {
    let row = super::server_of(app, &caller.project_id, id)
        .await
        .map_err(|e| {
            if e.code == Code::Ecs0114 {
                Error::new(Code::NovaNotFound, format!("Instance {id} could not be found."))
            } else {
                e
            }
        })
        .map_err(nova_error)?;
    Ok(NovaServerEnvelope { server: nova_server(app, &row).await })
}

/// The servers a Nova list query selects, one page, and the `next` link when there may be more.
async fn select(app: &App, caller: &Caller, q: &NovaListQuery) -> Result<(Vec<ServerRow>, Vec<NovaLink>), Error> {
    // Nova caps a larger limit at its maximum rather than refusing it.
    let limit = q.limit.map_or(MAX_LIMIT, |n| (n as usize).min(MAX_LIMIT));
    let opt = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    if let Some(st) = opt(&q.status) {
        if !ecs_model::state::KNOWN_STATUSES.contains(&st.as_str()) {
            return Err(Error::new(Code::NovaBadRequest, format!("status {st:?} is not a server status.")));
        }
    }
    let since = match opt(&q.changes_since) {
        None => None,
        Some(t) => Some(ecs_model::timefmt::parse_time(&t).ok_or_else(|| {
            Error::new(Code::NovaBadRequest, format!("changes-since {t:?} is not an ISO 8601 time."))
        })?),
    };
    if let Some(k) = opt(&q.sort_key) {
        // Servers are listed newest first, which is Nova's default order (`created_at`).
        if k != "created_at" {
            return Err(Error::new(
                Code::NovaBadRequest,
                format!("sort_key {k:?} is not supported; servers are listed by created_at."),
            ));
        }
    }
    if let Some(m) = opt(&q.marker) {
        if app.ctx.store.server_only(&caller.project_id, &m).await.map_err(internal)?.is_none() {
            return Err(Error::new(Code::NovaBadRequest, format!("marker [{m}] not found")));
        }
    }
    let image = opt(&q.image);
    let host = opt(&q.host);
    let mut filter = ServerFilter {
        name: opt(&q.name),
        ip: opt(&q.ip),
        flavor: opt(&q.flavor),
        status: opt(&q.status),
        tags: super::tags::list_filter(q.tags.as_deref()),
        not_tags: super::tags::list_filter(q.not_tags.as_deref()),
        reservation_id: opt(&q.reservation_id),
        limit: limit.max(1),
        page: 1,
        marker: opt(&q.marker),
        ..Default::default()
    };
    // The filters the store does not express (image, host, changes-since) are applied to the
    // pages it returns, reading on until the page is full or the servers run out.
    let mut out: Vec<ServerRow> = Vec::new();
    while out.len() < limit {
        let page = app.ctx.store.server_list(&caller.project_id, &filter).await.map_err(internal)?;
        let last = page.servers.last().map(|r| r.server.id.clone());
        let got = page.servers.len();
        out.extend(page.servers.into_iter().filter(|r| {
            image.as_ref().is_none_or(|i| &r.server.image_id == i)
                && host.as_ref().is_none_or(|h| r.server.host.as_ref() == Some(h))
                && since.is_none_or(|t| r.server.updated_ms >= t)
        }));
        match last {
            Some(id) if got == filter.limit => filter.marker = Some(id),
            _ => break,
        }
    }
    out.truncate(limit);
    let next = match out.last() {
        Some(r) if limit > 0 && out.len() == limit => vec![NovaLink {
            href: format!("/v2.1/{}/servers?limit={limit}&marker={}", caller.project_id, r.server.id),
            rel: "next".into(),
        }],
        _ => vec![],
    };
    Ok((out, next))
}

/// `GET /v2.1/{project_id}/servers/detail`.
pub async fn list_detail(app: &App, caller: &Caller, q: &NovaListQuery) -> Result<NovaServerDetailList, Error> {
    let (rows, servers_links) = select(app, caller, q).await?;
    let mut servers = Vec::with_capacity(rows.len());
    for row in &rows {
        servers.push(nova_server(app, row).await);
    }
    Ok(NovaServerDetailList { servers, servers_links })
}

/// `GET /v2.1/{project_id}/servers`.
pub async fn list(app: &App, caller: &Caller, q: &NovaListQuery) -> Result<NovaServerList, Error> {
    let (rows, servers_links) = select(app, caller, q).await?;
    let servers = rows
        .iter()
        .map(|r| NovaSimpleServer {
            id: r.server.id.clone(),
            name: r.server.name.clone(),
            links: links(&r.server.project_id, &r.server.id),
        })
        .collect();
    Ok(NovaServerList { servers, servers_links })
}

/// What a Nova create answers.
pub enum NovaCreateAnswer {
    Server(NovaCreatedEnvelope),
    Reservation(NovaReservation),
}

/// `boot_index` as a number, whether the client sent `"0"` or `0`.
fn boot_index(m: &NovaBlockDeviceMapping) -> Result<Option<i64>, Error> {
    match &m.boot_index {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(n.as_i64()),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid(format!("block_device_mapping_v2 boot_index {s:?} is not a number."))),
        Some(v) => Err(Error::invalid(format!("block_device_mapping_v2 boot_index {v} is not a number."))),
    }
}

/// The disks of a Nova create as ECS's `root_volume` and `data_volumes`: the boot disk is an
/// image copied to a volume (`source_type: image`, `destination_type: volume`); the others
/// are blank volumes. Without a mapping the system disk takes the image's defaults.
fn disks(
    maps: &[NovaBlockDeviceMapping],
    image_ref: Option<&str>,
) -> Result<(Option<String>, RootVolume, Vec<DataVolume>), Error> {
    let mut image = image_ref.filter(|i| !i.is_empty()).map(str::to_string);
    let mut root = RootVolume { volumetype: Some("SATA".into()), ..Default::default() };
    let mut data = Vec::new();
    for m in maps {
        let source = m.source_type.as_deref().unwrap_or("");
        let dest = m.destination_type.as_deref().unwrap_or("volume");
        if dest != "volume" {
            return Err(Error::invalid(format!(
                "block_device_mapping_v2 destination_type {dest:?}: only volumes are supported (local disks are not)."
            )));
        }
        match (boot_index(m)?, source) {
            (Some(0), "image") => {
                if let Some(u) = m.uuid.as_deref().filter(|u| !u.is_empty()) {
                    image = Some(u.to_string());
                }
                root.size = m.volume_size;
                if let Some(t) = &m.volume_type {
                    root.volumetype = Some(t.clone());
                }
            }
            (Some(0), other) => {
                return Err(Error::invalid(format!(
                    "block_device_mapping_v2: the boot disk must come from an image (source_type image), not {other:?}."
                )))
            }
            (_, "blank") => data.push(DataVolume {
                volumetype: Some(m.volume_type.clone().unwrap_or_else(|| "SATA".into())),
                size: m.volume_size,
                delete_on_termination: m.delete_on_termination,
                ..Default::default()
            }),
            (_, other) => {
                return Err(Error::invalid(format!(
                "block_device_mapping_v2 source_type {other:?}: data disks must be blank volumes (source_type blank)."
            )))
            }
        }
    }
    Ok((image, root, data))
}

/// The ECS create a Nova create asks for. Nova names security groups by name and networks by
/// subnet (network) id; ECS by ids and VPC plus subnet.
async fn translate(app: &App, caller: &Caller, n: &NovaCreateServer) -> Result<PostPaidServer, Error> {
    let min = n.min_count.unwrap_or(1);
    let max = n.max_count.unwrap_or(min);
    if min < 1 || max < min || max > MAX_CREATE {
        return Err(Error::invalid(format!(
            "min_count ({min}) and max_count ({max}) must satisfy 1 <= min_count <= max_count <= {MAX_CREATE}."
        )));
    }
    let (vpc, subnet) = app.ctx.store.network_default(&caller.project_id).await.map_err(internal)?;
    let nets = n.networks.as_deref().unwrap_or_default();
    if nets.len() > 1 {
        return Err(Error::invalid("networks: a server is created with one network; add more NICs after the create."));
    }
    let net = nets.first().cloned().unwrap_or_default();
    if net.port.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(Error::invalid(
            "networks[0].port: creating a server on an existing port is not supported; give uuid.",
        ));
    }
    let subnet_id = net.uuid.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| subnet.id.clone());
    let (image_ref, root, data) =
        disks(n.block_device_mapping_v2.as_deref().unwrap_or_default(), n.image_ref.as_deref())?;
    let mut groups = Vec::new();
    for g in n.security_groups.as_deref().unwrap_or_default() {
        let found = super::security_groups::nova_group(app, caller, &g.name).await?;
        groups.push(IdRef { id: Some(found.id) });
    }
    let hints: Option<ecs_types::create::SchedulerHints> = match &n.scheduler_hints {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|e| Error::invalid(format!("os:scheduler_hints is illegal: {e}.")))?,
        ),
    };
    Ok(PostPaidServer {
        name: n.name.clone(),
        image_ref,
        flavor_ref: n.flavor_ref.clone(),
        vpcid: Some(vpc.id),
        nics: Some(vec![Nic { subnet_id: Some(subnet_id), ip_address: net.fixed_ip.clone(), ipv6_enable: None }]),
        root_volume: Some(root),
        data_volumes: Some(data),
        availability_zone: n.availability_zone.clone(),
        key_name: n.key_name.clone(),
        admin_pass: n.admin_pass.clone(),
        count: Some(max),
        // Nova names the servers of a batch itself: the ECS rule of `-0001` suffixes holds.
        is_auto_rename: None,
        security_groups: if groups.is_empty() { None } else { Some(groups) },
        user_data: n.user_data.clone(),
        metadata: n.metadata.clone(),
        server_tags: None,
        description: n.description.clone(),
        extendparam: None,
        scheduler_hints: hints,
        publicip: None,
        auto_terminate_time: n.auto_terminate_time.clone(),
    })
}

/// `POST /v2.1/{project_id}/servers`.
pub async fn create(app: &App, caller: &Caller, body: NovaCreateBody) -> Result<NovaCreateAnswer, Error> {
    let run = async {
        let n = body.server.ok_or_else(|| Error::invalid("request body is illegal: server is required."))?;
        let req = translate(app, caller, &n).await?;
        let groups = match &n.security_groups {
            Some(g) if !g.is_empty() => g.clone(),
            _ => vec![NovaSecurityGroupName { name: "default".into() }],
        };
        let input = super::create::validate(app, caller, &req).await?;
        let Created::Accepted { server_ids, .. } = super::create::accept(app, caller, input).await? else {
            return Err(Error::internal("a Nova create was taken for a dry run"));
        };
        let first = server_ids.first().cloned().ok_or_else(|| Error::internal("a create made no server"))?;
        if n.return_reservation_id == Some(true) {
            let row = super::server_of(app, &caller.project_id, &first).await?;
            return Ok(NovaCreateAnswer::Reservation(NovaReservation { reservation_id: row.server.reservation_id }));
        }
        Ok(NovaCreateAnswer::Server(NovaCreatedEnvelope {
            server: NovaCreated {
                links: links(&caller.project_id, &first),
                id: first,
                security_groups: groups,
                disk_config: n.disk_config.clone().unwrap_or_else(|| "MANUAL".into()),
                admin_pass: n.admin_pass.clone(),
            },
        }))
    };
    run.await.map_err(nova_error)
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}`: the server and the disks that go with it
/// (the system disk and data disks marked `delete_on_termination`), as an ECS delete.
pub async fn delete(app: &App, caller: &Caller, id: &str) -> Result<(), Error> {
    let run = async {
        if !ecs_model::ids::is_uuid(id)
            || app.ctx.store.server_only(&caller.project_id, id).await.map_err(internal)?.is_none()
        {
            return Err(Error::new(Code::NovaNotFound, format!("Instance {id} could not be found.")));
        }
        let body = DeleteServersBody {
            servers: Some(vec![IdRef { id: Some(id.to_string()) }]),
            delete_publicip: None,
            delete_volume: Some(false),
        };
        super::servers::delete(app, caller, body).await.map(|_| ())
    };
    run.await.map_err(nova_error)
}

/// `GET /v2.1/{project_id}/flavors/{flavor_id}/os-extra_specs`.
pub fn extra_specs(flavor_id: &str) -> Result<NovaExtraSpecs, Error> {
    let f = ecs_model::flavor::find(flavor_id)
        .ok_or_else(|| Error::new(Code::NovaNotFound, format!("Flavor {flavor_id} could not be found.")))?;
    Ok(NovaExtraSpecs { extra_specs: super::views::flavor_extra_specs(f) })
}

/// The microversions of v2.1 this service answers to [DOC: Huawei's Nova API reference lists
/// 2.1 to 2.60].
pub const MAX_MICROVERSION: &str = "2.60";

/// The API versions of the Nova endpoint: v2.1 (current, with microversions) and v2.0.
fn all_versions() -> Vec<NovaVersion> {
    let media = |v: &str| {
        vec![NovaMediaType {
            base: "application/json".into(),
            kind: format!("application/vnd.openstack.compute+json;version={v}"),
        }]
    };
    vec![
        NovaVersion {
            id: "v2.0".into(),
            links: vec![NovaLink { href: "/v2/".into(), rel: "self".into() }],
            media_types: media("2"),
            min_version: String::new(),
            status: "SUPPORTED".into(),
            updated: "2011-01-21T11:33:21Z".into(),
            version: String::new(),
        },
        NovaVersion {
            id: "v2.1".into(),
            links: vec![NovaLink { href: "/v2.1/".into(), rel: "self".into() }],
            media_types: media("2.1"),
            min_version: "2.1".into(),
            status: "CURRENT".into(),
            updated: "2013-07-23T11:33:21Z".into(),
            version: MAX_MICROVERSION.into(),
        },
    ]
}

/// `GET /`: every version, without media types (as Nova lists them).
pub fn versions() -> NovaVersionList {
    NovaVersionList { versions: all_versions().into_iter().map(|v| NovaVersion { media_types: vec![], ..v }).collect() }
}

/// `GET /{api_version}`: one version (`v2.0`, `v2.1`, or `v2` for v2.0).
pub fn version(api_version: &str) -> Result<NovaVersionEnvelope, Error> {
    let id = if api_version == "v2" { "v2.0" } else { api_version };
    all_versions().into_iter().find(|v| v.id == id).map(|version| NovaVersionEnvelope { version }).ok_or_else(|| {
        Error::new(
            Code::NovaNotFound,
            format!("API version {api_version:?} does not exist; the versions are v2.0 and v2.1."),
        )
    })
}
