//! The disk service's writes: create blank volumes (`POST /v2/{project_id}/cloudvolumes`, and
//! `/v2.1`, the path the EVS SDK calls) and delete one (`DELETE .../cloudvolumes/{volume_id}`).
//!
//! EVS v2 is Cinder's API with Huawei's additions, so its refusals are Cinder's: `badRequest`
//! (400) for an invalid request or a volume that is in use, `itemNotFound` (404) for a volume
//! that does not exist or is another project's.

use super::{begin, internal};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::{create_volume, delete_volume, SagaParams};
use ecs_model::job::{job_type, Job};
use ecs_model::timefmt::now_ms;
use ecs_model::volume::{self, Volume, VOLUME_TYPES};
use ecs_model::Error;
use ecs_store::{Begin, VolumeSwap};
use ecs_types::requests::CreateVolumeBody;
use ecs_types::volumes::CreateVolumeAccepted;
use ecs_types::Code;

/// Sizes of a blank data disk, in GB, as the SDK documents them.
const MIN_GB: i64 = 10;
const MAX_GB: i64 = 32768;
/// Most volumes one request creates.
const MAX_COUNT: i64 = 100;
/// Longest name, in bytes (250 when several are created: a suffix is added).
const MAX_NAME: usize = 255;

fn bad(message: impl Into<String>) -> Error {
    Error::new(Code::NovaBadRequest, message)
}

/// `POST /v2/{project_id}/cloudvolumes` (and `/v2.1`).
pub async fn create(app: &App, caller: &Caller, body: CreateVolumeBody) -> Result<CreateVolumeAccepted, Error> {
    let o = body.volume.ok_or_else(|| bad("volume is required."))?;
    if body.server_id.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(bad("server_id is not supported: create the volume, then attach it (AttachServerVolume)."));
    }
    if body.bss_param.as_ref().and_then(|b| b.charging_mode.as_deref()).is_some_and(|m| m != "postPaid") {
        return Err(bad("bssParam.chargingMode must be \"postPaid\": every volume is pay-per-use."));
    }
    for (field, set) in [("imageRef", &o.image_ref), ("snapshot_id", &o.snapshot_id), ("backup_id", &o.backup_id)] {
        if set.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(bad(format!("{field} is not supported: only blank volumes are created.")));
        }
    }
    let zones = super::zones::of(app, caller);
    let zone = o
        .availability_zone
        .as_deref()
        .filter(|z| !z.is_empty())
        .ok_or_else(|| bad("volume.availability_zone is required."))?;
    if !zones.iter().any(|z| z == zone) {
        return Err(bad(format!("availability_zone {zone:?} does not exist; the zones are {}.", zones.join(", "))));
    }
    let volume_type = o.volume_type.as_deref().ok_or_else(|| bad("volume.volume_type is required."))?;
    if !VOLUME_TYPES.contains(&volume_type) {
        return Err(bad(format!("volume_type {volume_type:?} is invalid; use one of {}.", VOLUME_TYPES.join(", "))));
    }
    let size = o.size.ok_or_else(|| bad("volume.size is required."))?;
    if !(MIN_GB..=MAX_GB).contains(&size) {
        return Err(bad(format!("size {size} is invalid: a data volume has {MIN_GB} to {MAX_GB} GB.")));
    }
    let count = o.count.unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(bad(format!("count {count} is invalid; use 1 to {MAX_COUNT}.")));
    }
    let name = o.name.clone().filter(|n| !n.is_empty());
    let longest = if count > 1 { MAX_NAME - 5 } else { MAX_NAME };
    if name.as_ref().is_some_and(|n| n.len() > longest) {
        return Err(bad(format!("name is longer than {longest} bytes.")));
    }
    if o.description.as_ref().is_some_and(|d| d.len() > 255) {
        return Err(bad("description is longer than 255 bytes."));
    }
    let now = now_ms();
    let volumes: Vec<Volume> = (1..=count)
        .map(|n| {
            let id = ecs_model::new_uuid();
            let name = match (&name, count) {
                (Some(base), 1) => base.clone(),
                // Several volumes are told apart as the real service does: `-0001`, `-0002`, ...
                (Some(base), _) => format!("{base}-{n:04}"),
                (None, _) => format!("volume-{}", &id[..8]),
            };
            Volume {
                id,
                project_id: caller.project_id.clone(),
                server_id: None,
                boot_index: None,
                image_id: None,
                size_gb: size,
                volume_type: volume_type.to_string(),
                device: String::new(),
                delete_on_termination: false,
                created_ms: now,
                name: Some(name),
                multiattach: o.multiattach.unwrap_or(false),
                availability_zone: Some(zone.to_string()),
                pending: Some(volume::CREATING.into()),
            }
        })
        .collect();
    let kind = if count == 1 { job_type::CREATE_VOLUME } else { job_type::BATCH_CREATE_VOLUME };
    let mut job = Job::new(&caller.project_id, kind, None, None, now);
    if count == 1 {
        job.volume_id = Some(volumes[0].id.clone());
    }
    let params = create_volume::Params {
        project_id: caller.project_id.clone(),
        volume_ids: volumes.iter().map(|v| v.id.clone()).collect(),
        size_gb: size,
    };
    let volume_ids = params.volume_ids.clone();
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        insert_volumes: volumes,
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(CreateVolumeAccepted { job_id: job.id, volume_ids })
}

/// `DELETE /v2/{project_id}/cloudvolumes/{volume_id}`: refused while the volume is attached or
/// another operation holds it.
pub async fn delete(app: &App, caller: &Caller, volume_id: &str) -> Result<String, Error> {
    let v = app
        .ctx
        .store
        .volume_get(volume_id)
        .await
        .map_err(internal)?
        .filter(|v| v.project_id == caller.project_id)
        .ok_or_else(|| Error::new(Code::NovaNotFound, format!("Volume {volume_id} could not be found.")))?;
    if let Some(s) = &v.server_id {
        return Err(bad(format!(
            "Invalid volume: the volume {volume_id} is in-use (attached to server {s}); detach it first."
        )));
    }
    if let Some(what) = &v.pending {
        return Err(bad(format!("Invalid volume: the volume {volume_id} is {what}; try again when it is done.")));
    }
    let now = now_ms();
    let mut job = Job::new(&caller.project_id, job_type::DELETE_VOLUME, None, None, now);
    job.volume_id = Some(v.id.clone());
    let to = Volume { pending: Some(volume::DELETING.into()), ..v.clone() };
    let params = delete_volume::Params { project_id: caller.project_id.clone(), volume_id: v.id.clone() };
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        swap_volumes: vec![VolumeSwap { from: v, to }],
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(job.id)
}
