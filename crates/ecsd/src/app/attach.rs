//! Disks after a server is created: attach a volume (`attachvolume`), detach one
//! (`detachvolume/{volume_id}`), and whether a disk goes with its server
//! (`PUT block_device/{volume_id}`).
//!
//! An attach or detach takes the server (its `task_state`) and the volume (its row, marked
//! `attaching` or `detaching` and compared with the row as read) in the transaction that
//! records the job, so that a volume is never attached to two servers: of two requests for
//! one volume, the second finds it changed and is refused.

use super::{begin, internal, server_of};
use crate::caller::Caller;
use crate::context::App;
use crate::sagas::{attach_volume, detach_volume, SagaParams};
use ecs_model::job::{job_type, Job};
use ecs_model::server::Server;
use ecs_model::state::TaskState;
use ecs_model::timefmt::now_ms;
use ecs_model::volume::{self, Volume, MAX_DATA_DISKS, SYSTEM_DEVICE};
use ecs_model::{gates, Error};
use ecs_store::{Begin, ServerRow, VolumeSwap};
use ecs_types::requests::{AttachVolumeBody, UpdateBlockDeviceBody};

/// A volume of the caller's project, for the ECS calls (which answer a missing one `Ecs.0005`,
/// as they do a volume that is not the server's).
async fn volume_of(app: &App, caller: &Caller, id: &str) -> Result<Volume, Error> {
    app.ctx
        .store
        .volume_get(id)
        .await
        .map_err(internal)?
        .filter(|v| v.project_id == caller.project_id)
        .ok_or_else(|| Error::invalid(format!("The volume {id} does not exist.")))
}

/// Refuses a volume another operation holds (being created, attached, detached or deleted).
fn idle(v: &Volume) -> Result<(), Error> {
    match &v.pending {
        Some(what) => Err(Error::invalid(format!("The volume {} is busy ({what}); try again when it is done.", v.id))),
        None => Ok(()),
    }
}

/// The device a volume gets and its boot index: the one asked for (`/dev/sdX` is taken as
/// `/dev/vdX`, as the real service does on KVM servers), or the first free data device.
/// `/dev/vda` is the system disk's place: only a server without one can take it.
fn choose_device(row: &ServerRow, asked: Option<&str>) -> Result<(String, i64), Error> {
    let taken: Vec<&str> = row.volumes.iter().map(|v| v.device.as_str()).collect();
    let data = row.volumes.iter().filter(|v| !v.is_system()).count();
    let asked = asked.filter(|d| !d.is_empty()).map(|d| d.replacen("/dev/sd", "/dev/vd", 1));
    let device = match asked {
        Some(d) => {
            let letter = d.strip_prefix("/dev/vd").filter(|l| l.len() == 1).and_then(|l| l.bytes().next());
            match letter {
                Some(b'a') => {}
                Some(l) if (b'b'..b'b' + MAX_DATA_DISKS as u8).contains(&l) => {}
                _ => {
                    return Err(Error::invalid(format!(
                        "device {d:?} is invalid; use /dev/vdb to {}.",
                        volume::data_device(MAX_DATA_DISKS - 1)
                    )))
                }
            }
            if taken.contains(&d.as_str()) {
                return Err(Error::invalid(format!("device {d} is already used on server {}.", row.server.id)));
            }
            d
        }
        None => (0..MAX_DATA_DISKS)
            .map(volume::data_device)
            .find(|d| !taken.contains(&d.as_str()))
            .ok_or_else(|| too_many(&row.server))?,
    };
    if device == SYSTEM_DEVICE {
        return Ok((device, 0));
    }
    if data >= MAX_DATA_DISKS {
        return Err(too_many(&row.server));
    }
    Ok((device, -1))
}

fn too_many(s: &Server) -> Error {
    Error::invalid(format!("server {} already has {MAX_DATA_DISKS} data disks, the most it can take.", s.id))
}

/// Every check of an attach; returns the server, the volume and where it goes.
async fn check_attach(
    app: &App,
    caller: &Caller,
    server_id: &str,
    body: &AttachVolumeBody,
) -> Result<(ServerRow, Volume, String, i64), Error> {
    let o = body.volume_attachment.as_ref().ok_or_else(|| Error::invalid("volumeAttachment is required."))?;
    let volume_id = o
        .volume_id
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid("volumeAttachment.volumeId is required."))?;
    // SCSI disks are not offered (`free_scsi` is 0).
    if o.hwpassthrough.as_deref().is_some_and(|p| p == "true") {
        return Err(Error::invalid("hw:passthrough \"true\" (a SCSI disk) is not supported; virtio disks only."));
    }
    let row = server_of(app, &caller.project_id, server_id).await?;
    gates::volume_attach_allowed(&row.server)?;
    let v = volume_of(app, caller, volume_id).await?;
    idle(&v)?;
    match &v.server_id {
        Some(s) if s == server_id => {
            return Err(Error::invalid(format!("The volume {volume_id} is already attached to server {server_id}.")))
        }
        Some(s) if !v.multiattach => {
            return Err(Error::invalid(format!(
                "The volume {volume_id} is attached to server {s} and is not shareable (multiattach)."
            )))
        }
        // One volume row names one server: a shared volume on a second server is not modelled.
        Some(s) => {
            return Err(Error::invalid(format!(
                "The shared volume {volume_id} is attached to server {s}; attaching it to a second server is not supported."
            )))
        }
        None => {}
    }
    if let Some(z) = v.availability_zone.as_deref().filter(|z| *z != row.server.availability_zone) {
        return Err(Error::invalid(format!(
            "The volume {volume_id} is in availability zone {z}, the server in {}.",
            row.server.availability_zone
        )));
    }
    let (device, boot_index) = choose_device(&row, o.device.as_deref())?;
    if boot_index == 0 {
        gates::system_disk_attach_allowed(&row.server)?;
    }
    Ok((row, v, device, boot_index))
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/attachvolume`: the job id, or `None` for a
/// `dry_run` that passed every check (nothing is changed).
pub async fn attach(
    app: &App,
    caller: &Caller,
    server_id: &str,
    body: AttachVolumeBody,
) -> Result<Option<String>, Error> {
    let (row, v, device, boot_index) = check_attach(app, caller, server_id, &body).await?;
    if body.dry_run.unwrap_or(false) {
        return Ok(None);
    }
    let now = now_ms();
    let mut s = row.server.clone();
    s.task_state = Some(TaskState::AttachingVolume);
    s.updated_ms = now;
    let mut job = Job::new(&caller.project_id, job_type::ATTACH_VOLUME, None, Some(server_id), now);
    job.volume_id = Some(v.id.clone());
    let to = Volume {
        server_id: Some(server_id.to_string()),
        boot_index: Some(boot_index),
        device: device.clone(),
        pending: Some(volume::ATTACHING.into()),
        ..v.clone()
    };
    let params = attach_volume::Params {
        project_id: caller.project_id.clone(),
        server_id: server_id.to_string(),
        before: v.clone(),
        device,
        boot_index,
    };
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        update_servers: vec![s],
        swap_volumes: vec![VolumeSwap { from: v, to }],
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(Some(job.id))
}

/// `DELETE /v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}`. `delete_flag`
/// "1" (force) is accepted and detaches the same way: the guest is always asked to release the
/// disk first.
pub async fn detach(
    app: &App,
    caller: &Caller,
    server_id: &str,
    volume_id: &str,
    delete_flag: Option<&str>,
) -> Result<String, Error> {
    if let Some(f) = delete_flag.filter(|f| *f != "0" && *f != "1") {
        return Err(Error::invalid(format!("delete_flag {f:?} is invalid; use \"0\" or \"1\".")));
    }
    let row = server_of(app, &caller.project_id, server_id).await?;
    let v = attached(&row, volume_id)?;
    gates::volume_detach_allowed(&row.server, v.is_system())?;
    idle(&v)?;
    let now = now_ms();
    let mut s = row.server.clone();
    s.task_state = Some(TaskState::DetachingVolume);
    s.updated_ms = now;
    let mut job = Job::new(&caller.project_id, job_type::DETACH_VOLUME, None, Some(server_id), now);
    job.volume_id = Some(v.id.clone());
    let to = Volume { pending: Some(volume::DETACHING.into()), ..v.clone() };
    let params = detach_volume::Params {
        project_id: caller.project_id.clone(),
        server_id: server_id.to_string(),
        before: v.clone(),
    };
    let b = Begin {
        sagas: vec![params.record(&job.id)?],
        jobs: vec![job.clone()],
        update_servers: vec![s],
        swap_volumes: vec![VolumeSwap { from: v, to }],
        ..Default::default()
    };
    begin(app, b).await?;
    Ok(job.id)
}

/// The server's volume `volume_id`; `Ecs.0005` when it is not attached to the server.
fn attached(row: &ServerRow, volume_id: &str) -> Result<Volume, Error> {
    row.volumes.iter().find(|v| v.id == volume_id).cloned().ok_or_else(|| {
        Error::invalid(format!("The volume {volume_id} is not attached to the server {}.", row.server.id))
    })
}

/// `PUT /v1/{project_id}/cloudservers/{server_id}/block_device/{volume_id}`: whether the disk
/// is deleted with the server, changed at once. A shared disk's cannot be changed (the SDK's
/// documentation says so).
pub async fn update_block_device(
    app: &App,
    caller: &Caller,
    server_id: &str,
    volume_id: &str,
    body: UpdateBlockDeviceBody,
) -> Result<(), Error> {
    let keep = body
        .block_device
        .and_then(|b| b.delete_on_termination)
        .ok_or_else(|| Error::invalid("block_device.delete_on_termination is required."))?;
    let row = server_of(app, &caller.project_id, server_id).await?;
    gates::update_allowed(&row.server)?;
    let v = attached(&row, volume_id)?;
    if v.multiattach {
        return Err(Error::invalid(format!(
            "The volume {volume_id} is shared (multiattach); whether it is deleted with a server cannot be changed."
        )));
    }
    if v.is_system() && !keep {
        return Err(Error::invalid(format!(
            "The volume {volume_id} is the system disk: it is always deleted with its server."
        )));
    }
    idle(&v)?;
    if v.delete_on_termination == keep {
        return Ok(());
    }
    let to = Volume { delete_on_termination: keep, ..v.clone() };
    begin(app, Begin { swap_volumes: vec![VolumeSwap { from: v, to }], ..Default::default() }).await?;
    Ok(())
}
