//! `GET /v1.1/{project_id}/cloudservers/detail`: the servers in the `CloudServer` shape, paged
//! by marker with a `next` link.

use super::{internal, views};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::Error;
use ecs_store::{ServerFilter, ServerRow};
use ecs_types::cloud_server::*;
use ecs_types::volumes::Link;

/// Default and largest page of the `/v1.1` list.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 1000;

fn csv(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

fn opt(v: &Option<String>) -> Option<String> {
    v.clone().filter(|v| !v.is_empty())
}

/// The filters the store has no column for, applied to each candidate.
fn passes(row: &ServerRow, q: &CloudServerListQuery) -> bool {
    let s = &row.server;
    opt(&q.image_id).is_none_or(|i| s.image_id == i)
        && opt(&q.availability_zone).is_none_or(|z| s.availability_zone.contains(z.as_str()))
        && opt(&q.availability_zone_eq).is_none_or(|z| s.availability_zone == z)
        && opt(&q.key_name).is_none_or(|k| s.key_name.as_deref() == Some(k.as_str()))
        && opt(&q.enterprise_project_id).is_none_or(|e| e == "all_granted_eps" || s.enterprise_project_id == e)
}

/// The `CloudServer` view of a server.
pub fn cloud_server(row: &ServerRow) -> CloudServer {
    let d = views::server_detail(row);
    let s = &row.server;
    let fl = ecs_model::flavor::find(&s.flavor_id);
    CloudServer {
        id: d.id,
        name: d.name,
        status: d.status,
        tenant_id: d.tenant_id,
        user_id: d.user_id,
        market_info: MarketInfo { charge_mode: "postPaid".into(), prepaid_info: None },
        availability_zone: d.availability_zone,
        vm_state: d.vm_state,
        task_state: d.task_state,
        power_state: d.power_state,
        created: d.created,
        updated: d.updated,
        launched_at: d.launched_at,
        in_recycle_bin: false,
        spod_id: String::new(),
        description: d.description,
        key_name: d.key_name,
        locked: d.locked,
        root_device_name: d.root_device_name,
        tenancy: "0".into(),
        dedicated_host_id: String::new(),
        enterprise_project_id: d.enterprise_project_id,
        metadata: d.metadata,
        tags: d.tags,
        addresses: d
            .addresses
            .into_iter()
            .map(|(net, addrs)| {
                let addrs = addrs
                    .into_iter()
                    .map(|a| CloudServerAddress {
                        addr: a.addr,
                        version: 4,
                        port_id: a.port_id,
                        mac_addr: a.mac_addr,
                        ip_type: a.ip_type,
                        primary: a.primary,
                    })
                    .collect();
                (net, addrs)
            })
            .collect(),
        security_groups: d.security_groups,
        volumes_attached: row
            .volumes
            .iter()
            .filter(|v| v.boot_index.is_some())
            .map(|v| CloudServerVolume {
                id: v.id.clone(),
                delete_on_termination: v.delete_on_termination,
                device: v.device.clone(),
                boot_index: v.boot_index.unwrap_or(-1).to_string(),
                size: v.size_gb,
            })
            .collect(),
        image: d.image,
        flavor: CloudServerFlavor {
            id: s.flavor_id.clone(),
            name: s.flavor_id.clone(),
            vcpus: fl.map(|f| f.vcpus).unwrap_or(0),
            ram: fl.map(|f| f.ram_mb).unwrap_or(0),
            disk: fl.map(|f| f.disk_gb).unwrap_or(0),
            gpus: vec![],
            asic_accelerators: vec![],
        },
        fault: d.fault,
    }
}

/// The list, newest first. The store narrows by the filters it has columns for; the rest are
/// applied here, so the marker and the page are taken after every filter.
pub async fn list(
    app: &App,
    caller: &Caller,
    q: &CloudServerListQuery,
    request_id: &str,
) -> Result<CloudServerList, Error> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Error::invalid(format!("limit must be between 1 and {MAX_LIMIT}, got {limit}.")));
    }
    if let Some(st) = opt(&q.status) {
        if !ecs_model::state::KNOWN_STATUSES.contains(&st.as_str()) {
            return Err(Error::invalid(format!("status {st:?} is not a server status.")));
        }
    }
    let none = q.in_recycle_bin.as_deref() == Some("true") || q.charging_mode.as_deref() == Some("prePaid");
    let ids = csv(&q.id);
    let filter = ServerFilter {
        name: opt(&q.name),
        ip: opt(&q.ip),
        flavor: opt(&q.flavor_name),
        status: opt(&q.status),
        tags: super::tags::list_filter(q.tags.as_deref()),
        not_tags: super::tags::list_filter(q.not_tags.as_deref()),
        server_ids: (!ids.is_empty()).then_some(ids),
        limit: usize::MAX,
        page: 1,
        ..Default::default()
    };
    let rows = if none {
        vec![]
    } else {
        app.ctx.store.server_list(&caller.project_id, &filter).await.map_err(internal)?.servers
    };
    let matched: Vec<&ServerRow> = rows.iter().filter(|r| passes(r, q)).collect();
    let start = match opt(&q.marker) {
        Some(m) => matched.iter().position(|r| r.server.id == m).map(|i| i + 1).unwrap_or(matched.len()),
        None => 0,
    };
    let page: Vec<CloudServer> = matched.iter().skip(start).take(limit as usize).map(|r| cloud_server(r)).collect();
    let more = start + page.len() < matched.len();
    let servers_links = match (more, page.last()) {
        (true, Some(last)) => vec![Link {
            href: format!("/v1.1/{}/cloudservers/detail?limit={limit}&marker={}", caller.project_id, last.id),
            rel: "next".into(),
        }],
        _ => vec![],
    };
    Ok(CloudServerList { servers: page, servers_links, request_id: request_id.to_string() })
}
