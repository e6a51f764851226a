//! Disks, read side: a server's block devices and attachments (ECS) and the disk service's
//! view of every volume (EVS v2 `cloudvolumes`).

use super::{internal, server_of};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::timefmt::micro_time;
use ecs_model::volume::{Volume, MAX_DATA_DISKS};
use ecs_model::Error;
use ecs_store::ServerRow;
use ecs_types::volumes::*;
use ecs_types::Code;
use std::collections::BTreeMap;

/// Virtio disks a server can take besides its system disk, as the flavor list advertises
/// (`attachableQuantity.free_blk`); SCSI disks are not offered.
const FREE_BLK: i64 = MAX_DATA_DISKS as i64;

/// The disk service's answer for a volume that does not exist (or is another project's):
/// EVS v2 is Cinder's API, whose "not found" is `itemNotFound`.
fn volume_not_found(id: &str) -> Error {
    Error::new(Code::NovaNotFound, format!("Volume {id} could not be found."))
}

/// The name a volume is shown under: its own, or one derived from its id for records written
/// before names were kept.
fn name_of(v: &Volume) -> String {
    v.name.clone().unwrap_or_else(|| format!("volume-{}", &v.id[..8.min(v.id.len())]))
}

/// A PCI address for each disk, stable per device letter (`/dev/vda` is slot 4, as on the
/// real service's KVM hosts, `/dev/vdb` slot 5, ...).
fn pci_address(device: &str) -> String {
    let letter = device.bytes().last().unwrap_or(b'a');
    format!("0000:02:{:02x}.0", 1 + letter.saturating_sub(b'a'))
}

fn block_device(v: &Volume, server_id: &str) -> BlockDevice {
    BlockDevice {
        boot_index: v.boot_index.unwrap_or(-1),
        pci_address: pci_address(&v.device),
        volume_id: v.id.clone(),
        device: v.device.clone(),
        server_id: server_id.to_string(),
        id: v.id.clone(),
        size: v.size_gb,
        bus: "virtio".into(),
    }
}

fn free_blk(row: &ServerRow) -> i64 {
    let data = row.volumes.iter().filter(|v| !v.is_system()).count() as i64;
    (FREE_BLK - data).max(0)
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/block_device`.
pub async fn block_devices(app: &App, caller: &Caller, server_id: &str) -> Result<BlockDeviceList, Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let free = free_blk(&row);
    Ok(BlockDeviceList {
        attachable_quantity: AttachableQuantity { free_scsi: 0, free_blk: free, free_disk: free },
        volume_attachments: row.volumes.iter().map(|v| block_device(v, &row.server.id)).collect(),
    })
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}`.
pub async fn block_device_of(
    app: &App,
    caller: &Caller,
    server_id: &str,
    volume_id: &str,
) -> Result<BlockDeviceEnvelope, Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let v =
        row.volumes.iter().find(|v| v.id == volume_id).ok_or_else(|| {
            Error::invalid(format!("The volume {volume_id} is not attached to the server {server_id}."))
        })?;
    Ok(BlockDeviceEnvelope { volume_attachment: block_device(v, &row.server.id) })
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/os-volume_attachments`.
pub async fn attachments(app: &App, caller: &Caller, server_id: &str) -> Result<VolumeAttachmentList, Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    Ok(VolumeAttachmentList {
        volume_attachments: row
            .volumes
            .iter()
            .map(|v| ServerVolumeAttachment {
                device: v.device.clone(),
                id: v.id.clone(),
                server_id: row.server.id.clone(),
                volume_id: v.id.clone(),
            })
            .collect(),
    })
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/appendvolumequota`.
pub async fn appendable(app: &App, caller: &Caller, server_id: &str) -> Result<AppendableVolumeQuota, Error> {
    let row = server_of(app, &caller.project_id, server_id).await?;
    let free = free_blk(&row);
    Ok(AppendableVolumeQuota { free_scsi: 0, free_blk: free, count: free })
}

/// The EVS view of a volume; `server` is the server it is attached to, if any.
fn detail(app_link: &str, v: &Volume, server: Option<&ecs_model::server::Server>) -> VolumeDetail {
    let created = micro_time(v.created_ms);
    let attachments = match server {
        Some(s) => vec![VolumeAttachmentInfo {
            server_id: s.id.clone(),
            attachment_id: v.id.clone(),
            attached_at: created.clone(),
            host_name: s.hostname.clone(),
            volume_id: v.id.clone(),
            device: v.device.clone(),
            id: v.id.clone(),
        }],
        None => vec![],
    };
    let mut image_meta = BTreeMap::new();
    if let (true, Some(img)) = (v.is_system(), &v.image_id) {
        image_meta.insert("image_id".to_string(), serde_json::Value::String(img.clone()));
        if let Some(name) = server.and_then(|s| s.metadata.get("image_name")) {
            image_meta.insert("image_name".to_string(), serde_json::Value::String(name.clone()));
        }
    }
    let mut metadata = BTreeMap::new();
    metadata.insert("hw:passthrough".to_string(), serde_json::Value::String("false".into()));
    VolumeDetail {
        id: v.id.clone(),
        links: vec![Link { href: format!("{app_link}/{}", v.id), rel: "self".into() }],
        name: name_of(v),
        status: match (&v.pending, server) {
            (Some(what), _) => what.clone(),
            (None, Some(_)) => "in-use".into(),
            (None, None) => "available".into(),
        },
        attachments,
        availability_zone: v
            .availability_zone
            .clone()
            .or_else(|| server.map(|s| s.availability_zone.clone()))
            .unwrap_or_default(),
        host: "ecsd".into(),
        source_volid: None,
        snapshot_id: None,
        description: String::new(),
        created_at: created.clone(),
        updated_at: created,
        tenant_id: v.project_id.clone(),
        volume_image_metadata: image_meta,
        volume_type: v.volume_type.clone(),
        size: v.size_gb,
        bootable: v.is_system().to_string(),
        metadata,
        encrypted: false,
        replication_status: "disabled".into(),
        consistencygroup_id: None,
        shareable: v.multiattach.to_string(),
        multiattach: v.multiattach,
        user_id: server.map(|s| s.user_id.clone()).unwrap_or_default(),
        service_type: "EVS".into(),
        tags: BTreeMap::new(),
        wwn: format!("688860300{}", v.id.replace('-', "").chars().take(23).collect::<String>()),
        enterprise_project_id: server
            .map(|s| s.enterprise_project_id.clone())
            .unwrap_or_else(|| ecs_model::server::DEFAULT_ENTERPRISE_PROJECT.into()),
        serial_number: v.id.replace('-', "").chars().take(20).collect(),
    }
}

fn self_link(caller: &Caller) -> String {
    format!("/v2/{}/cloudvolumes", caller.project_id)
}

/// The server a volume is attached to, in the caller's project.
async fn server_for(app: &App, caller: &Caller, v: &Volume) -> Result<Option<ecs_model::server::Server>, Error> {
    match &v.server_id {
        Some(id) => app.ctx.store.server_only(&caller.project_id, id).await.map_err(internal),
        None => Ok(None),
    }
}

/// `GET /v2/{project_id}/cloudvolumes/{volume_id}`.
pub async fn show(app: &App, caller: &Caller, volume_id: &str) -> Result<VolumeEnvelope, Error> {
    let v = app
        .ctx
        .store
        .volume_get(volume_id)
        .await
        .map_err(internal)?
        .filter(|v| v.project_id == caller.project_id)
        .ok_or_else(|| volume_not_found(volume_id))?;
    let server = server_for(app, caller, &v).await?;
    Ok(VolumeEnvelope { volume: detail(&self_link(caller), &v, server.as_ref()) })
}

/// The filters of the EVS lists that ecsd applies; others are ignored.
#[derive(Debug, Default)]
pub struct VolumeFilter {
    pub name: Option<String>,
    pub status: Option<String>,
    pub availability_zone: Option<String>,
    pub server_id: Option<String>,
    pub ids: Option<Vec<String>>,
    pub limit: usize,
    pub offset: usize,
    pub marker: Option<String>,
}

/// The caller's volumes that pass `f`, one page of them, and how many passed.
async fn page(app: &App, caller: &Caller, f: &VolumeFilter) -> Result<(i64, Vec<VolumeDetail>), Error> {
    let link = self_link(caller);
    let all = app.ctx.store.volume_list_project(&caller.project_id).await.map_err(internal)?;
    let mut matched = Vec::new();
    for v in all.iter().rev() {
        let server = server_for(app, caller, v).await?;
        let d = detail(&link, v, server.as_ref());
        let ok = f.name.as_ref().is_none_or(|n| d.name.contains(n.as_str()))
            && f.status.as_ref().is_none_or(|s| &d.status == s)
            && f.availability_zone.as_ref().is_none_or(|z| &d.availability_zone == z)
            && f.server_id.as_ref().is_none_or(|s| v.server_id.as_ref() == Some(s))
            && f.ids.as_ref().is_none_or(|ids| ids.contains(&v.id));
        if ok {
            matched.push(d);
        }
    }
    let count = matched.len() as i64;
    let start = match &f.marker {
        Some(m) => matched.iter().position(|d| &d.id == m).map(|i| i + 1).unwrap_or(matched.len()),
        None => f.offset,
    };
    Ok((count, matched.into_iter().skip(start).take(f.limit).collect()))
}

/// `GET /v2/{project_id}/cloudvolumes/detail`.
pub async fn list_detail(app: &App, caller: &Caller, f: &VolumeFilter) -> Result<VolumeDetailList, Error> {
    let (count, volumes) = page(app, caller, f).await?;
    Ok(VolumeDetailList { count, volumes, volumes_links: None })
}

/// `GET /v2/{project_id}/cloudvolumes`.
pub async fn list(app: &App, caller: &Caller, f: &VolumeFilter) -> Result<VolumeSummaryList, Error> {
    let (_, volumes) = page(app, caller, f).await?;
    Ok(VolumeSummaryList {
        volumes: volumes.into_iter().map(|d| VolumeSummary { id: d.id, name: d.name, links: d.links }).collect(),
        volumes_links: None,
    })
}
