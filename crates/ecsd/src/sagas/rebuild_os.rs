//! Reinstall or change the OS of one server: stop it if asked, build a new system disk from
//! the image, write the key pair (or password) into it, swap it in, boot, and only then delete
//! the old disk.
//!
//! The old disk is untouched until the last step, past the point of no return, so a failure
//! anywhere before leaves the server on its old disk, in its prior power state, marked so that
//! the same request can be retried without `withStopServer`.

use super::SagaParams;
use crate::context::{driver_step_error, store_step_error, Ctx};
use ecs_driver::{DiskSpec, Injection, VmSpec};
use ecs_model::image::image_metadata;
use ecs_model::image::Image;
use ecs_model::state::{TaskState, VmState};
use ecs_model::timefmt::now_ms;
use ecs_model::volume::Volume;
use ecs_saga::{Saga, Step, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The image to install, as it was when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageInfo {
    pub id: String,
    pub file: Option<String>,
    pub cloud_init: bool,
    /// The full record, for the server's image metadata.
    pub image: Image,
}

impl From<&Image> for ImageInfo {
    fn from(i: &Image) -> Self {
        ImageInfo { id: i.id.clone(), file: i.file.clone(), cloud_init: i.cloud_init, image: i.clone() }
    }
}

/// What the saga needs; everything was decided when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    /// Change OS (a new image) rather than reinstall.
    #[serde(default)]
    pub change_os: bool,
    pub prior_vm_state: VmState,
    pub was_running: bool,
    /// The system disk being replaced.
    pub old_disk: Volume,
    pub image: ImageInfo,
    pub key_name: Option<String>,
    pub injection: Injection,
    /// Called through a `/v2` (Cloud-Init) API.
    pub cloud_init_api: bool,
    /// The server's data disks, in device order: they stay attached, on the old system disk and
    /// on the new one. Absent in logs written before data disks were attached: those servers
    /// had none on a real driver.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_disks: Vec<String>,
    pub vcpus: i64,
    pub ram_mb: i64,
    /// The NICs added to the server, for the boots (absent in logs written before NICs could
    /// be added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<ecs_driver::VmNic>,
}

impl SagaParams for Params {
    type Saga = RebuildOs;
}

/// The reinstall / change-OS saga.
pub struct RebuildOs;

type Cx<'a> = StepCx<'a, RebuildOs>;

/// The id of the new system disk, chosen once and reused on replay.
const NEW_DISK: ecs_saga::Key<String> = ecs_saga::Key::new("new_disk_id");

fn new_volume(p: &Params, id: &str) -> Volume {
    Volume {
        id: id.to_string(),
        project_id: p.project_id.clone(),
        server_id: Some(p.server_id.clone()),
        boot_index: Some(0),
        image_id: Some(p.image.id.clone()),
        size_gb: p.old_disk.size_gb,
        volume_type: p.old_disk.volume_type.clone(),
        device: p.old_disk.device.clone(),
        delete_on_termination: p.old_disk.delete_on_termination,
        created_ms: now_ms(),
        name: p.old_disk.name.clone(),
        multiattach: false,
        availability_zone: p.old_disk.availability_zone.clone(),
        pending: None,
    }
}

fn vm(p: &Params, disk: &str) -> VmSpec {
    VmSpec {
        server_id: p.server_id.clone(),
        boot_disk: disk.to_string(),
        data_disks: p.data_disks.clone(),
        vcpus: p.vcpus,
        ram_mb: p.ram_mb,
        nics: p.nics.clone(),
    }
}

/// The server's new power and task state, written with the step's record.
fn set_task(cx: &Cx<'_>, vm: Option<VmState>, task: TaskState) {
    let p = cx.params;
    cx.write_with_log(cx.ctx.server_write(&p.project_id, &p.server_id, move |s| {
        if let Some(v) = vm {
            s.vm_state = v;
        }
        s.task_state = Some(task);
    }));
}

async fn stop_server(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    if p.was_running {
        cx.ctx.driver.vm_stop(&p.server_id, false).await.map_err(driver_step_error)?;
    }
    set_task(cx, Some(VmState::Stopped), TaskState::Rebuilding);
    Ok(Value::Null)
}

/// Undo of `stop_server`: back to the prior power state on the old disk, and open for a retry.
async fn restore_power(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    let running = if p.was_running { cx.ctx.driver.vm_start(&vm(p, &p.old_disk.id)).await.is_ok() } else { false };
    cx.ctx
        .update_server(&p.project_id, &p.server_id, |s| {
            s.vm_state = if running {
                VmState::Active
            } else if p.prior_vm_state == VmState::Error {
                VmState::Error
            } else {
                VmState::Stopped
            };
            s.task_state = None;
            s.os_change_failed = true;
        })
        .await?;
    Ok(())
}

/// Derived from the saga id, so running this step again (after a crash, or twice in the
/// idempotency test) names the same disk; later steps read it from the log.
async fn new_disk_id(cx: &Cx<'_>) -> Result<Value, StepError> {
    let name = format!("ecsd/rebuild_os/{}/disk", cx.saga_id);
    Ok(Value::String(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()))
}

// The task state tells the user where the rebuild is: `rebuilding` while the new disk is built,
// `rebuild_block_device_mapping` while it is prepared and attached (from the end of
// `create_disk`, with whose record it is written), `rebuild_spawning` while the server boots
// from it.
async fn create_disk(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let spec = DiskSpec::from_image(&cx.outputs.get(&NEW_DISK)?, &p.image.id, p.image.file.clone(), p.old_disk.size_gb);
    cx.ctx.driver.disk_create(&spec).await.map_err(driver_step_error)?;
    set_task(cx, None, TaskState::RebuildBlockDeviceMapping);
    Ok(Value::Null)
}

/// Undo of `create_disk`.
async fn delete_new_disk(cx: &Cx<'_>) -> Result<(), StepError> {
    if let Some(id) = cx.outputs.try_get(&NEW_DISK) {
        cx.ctx.driver.disk_delete(&id).await.map_err(driver_step_error)?;
    }
    Ok(())
}

async fn inject(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let id = cx.outputs.get(&NEW_DISK)?;
    // A /v2 call on an image without Cloud-Init cannot deliver anything, exactly as the real
    // service warns; the disk is still replaced.
    let injection = if p.cloud_init_api && !p.image.cloud_init { Injection::default() } else { p.injection.clone() };
    cx.ctx.driver.disk_inject(&id, &injection).await.map_err(driver_step_error)?;
    Ok(Value::Null)
}

async fn swap_disk(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let id = cx.outputs.get(&NEW_DISK)?;
    let mut old = p.old_disk.clone();
    old.server_id = None;
    old.boot_index = None;
    // One transaction: the old disk detached, the new one at boot index 0, and the task state
    // that says the server now boots from it.
    let volumes = vec![old, new_volume(p, &id)];
    let write = cx.ctx.server_write(&p.project_id, &p.server_id, |s| s.task_state = Some(TaskState::RebuildSpawning));
    cx.write_with_log(write.with_volumes(volumes));
    Ok(Value::Null)
}

/// Undo of `swap_disk`: the old disk is the system disk again.
async fn swap_back(cx: &Cx<'_>) -> Result<(), StepError> {
    if let Some(id) = cx.outputs.try_get(&NEW_DISK) {
        cx.ctx.store.volume_delete(&id).await.map_err(store_step_error)?;
    }
    cx.ctx.store.volume_put(cx.params.old_disk.clone()).await.map_err(store_step_error)
}

async fn boot(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let id = cx.outputs.get(&NEW_DISK)?;
    cx.ctx.driver.vm_start(&vm(p, &id)).await.map_err(driver_step_error)?;
    let (key_name, hash) = (p.key_name.clone(), p.injection.password_hash.clone());
    let (image_id, image) = (p.image.id.clone(), p.image.image.clone());
    let user_data = p.cloud_init_api.then(|| p.injection.user_data.clone());
    cx.write_with_log(cx.ctx.server_write(&p.project_id, &p.server_id, move |s| {
        s.vm_state = VmState::Active;
        s.task_state = None;
        s.os_change_failed = false;
        s.fault = None;
        s.image_id = image_id.clone();
        image_metadata(&mut s.metadata, &image);
        s.key_name = key_name.clone();
        s.admin_pass_hash = hash.clone();
        // The new disk carries the reinstall's credentials: a reset made before it is void.
        s.pending_password_hash = None;
        if let Some(user_data) = &user_data {
            s.user_data = user_data.clone();
        }
        s.launched_ms = Some(now_ms());
    }));
    Ok(Value::Null)
}

/// Undo of `boot`: the VM stops (the undo of `stop_server` starts it again on the old disk).
async fn stop_new(cx: &Cx<'_>) -> Result<(), StepError> {
    cx.ctx.driver.vm_stop(&cx.params.server_id, true).await.map_err(driver_step_error)
}

async fn delete_old_disk(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    cx.ctx.driver.disk_delete(&p.old_disk.id).await.map_err(driver_step_error)?;
    cx.write_with_log(cx.ctx.store_write().deleting_volume(&p.old_disk.id));
    Ok(Value::Null)
}

/// The step names of version 1, which logged them by position.
const LAYOUT_V1: &[&str] =
    &["stop_server", "new_disk_id", "create_disk", "inject", "swap_disk", "boot", "delete_old_disk"];

impl Saga for RebuildOs {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "rebuild_os";
    const VERSION: u32 = 2;
    const STEPS: &'static [Step<Self>] = &[
        Step {
            name: "stop_server",
            forward: |cx| Box::pin(stop_server(cx)),
            undo: Some(|cx| Box::pin(restore_power(cx))),
        },
        Step { name: "new_disk_id", forward: |cx| Box::pin(new_disk_id(cx)), undo: None },
        Step {
            name: "create_disk",
            forward: |cx| Box::pin(create_disk(cx)),
            undo: Some(|cx| Box::pin(delete_new_disk(cx))),
        },
        Step { name: "inject", forward: |cx| Box::pin(inject(cx)), undo: None },
        Step { name: "swap_disk", forward: |cx| Box::pin(swap_disk(cx)), undo: Some(|cx| Box::pin(swap_back(cx))) },
        Step { name: "boot", forward: |cx| Box::pin(boot(cx)), undo: Some(|cx| Box::pin(stop_new(cx))) },
        Step { name: "delete_old_disk", forward: |cx| Box::pin(delete_old_disk(cx)), undo: None },
    ];
    const NO_RETURN: Option<&'static str> = Some("delete_old_disk");

    fn operation(p: &Params) -> &'static str {
        if p.change_os {
            "changeOs"
        } else {
            "reinstallOs"
        }
    }

    fn positional_layout(version: u32) -> Option<&'static [&'static str]> {
        (version == 1).then_some(LAYOUT_V1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn a_reinstall_replaces_the_disk_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        let old = h.server(&id).await.volumes[0].id.clone();
        let job = h.reinstall(&id, true).await;
        h.assert_succeeded(&job).await;
        let row = h.server(&id).await;
        assert_eq!(row.server.status(), "ACTIVE");
        assert_eq!(row.volumes.len(), 1);
        assert_ne!(row.volumes[0].id, old);
        assert_eq!(row.server.key_name.as_deref(), Some("key-b"));
        assert_eq!(h.disk_key(&row.volumes[0].id).await.as_deref(), Some(h.key_b.as_str()));
        assert_eq!(h.vm_boot_disk(&id).await, Some(row.volumes[0].id.clone()));
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn the_data_disks_stay_attached_whether_the_rebuild_fails_or_succeeds() {
        let steps = RebuildOs::STEPS.iter().map(|s| s.name).take_while(|s| Some(*s) != RebuildOs::NO_RETURN);
        for step in steps {
            let h = Harness::new_plain().await;
            let id = h.create_server_with_data_disks().await;
            let data = h.data_disks(&id).await;
            h.fail_next("reinstallOs", step).await;
            h.assert_failed(&h.reinstall(&id, true).await).await;
            assert_eq!(h.data_disks(&id).await, data, "step {step}: the rows are untouched");
            assert_eq!(h.vm_data_disks(&id).await, data, "step {step}: back on the old disk with them");
            assert_eq!(h.vm_running(&id).await, Some(true), "step {step}");
            h.assert_succeeded(&h.reinstall(&id, false).await).await;
            assert_eq!(h.data_disks(&id).await, data, "step {step}");
            assert_eq!(h.vm_data_disks(&id).await, data, "step {step}: the new disk boots with them");
            h.assert_no_orphan_disks().await;
        }
    }

    #[tokio::test]
    async fn a_failure_at_any_step_keeps_the_old_disk_and_allows_a_retry() {
        let steps = RebuildOs::STEPS.iter().map(|s| s.name).take_while(|s| Some(*s) != RebuildOs::NO_RETURN);
        for (i, step) in steps.enumerate() {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            let old = h.server(&id).await.volumes[0].id.clone();
            h.fail_next("reinstallOs", step).await;
            let job = h.reinstall(&id, true).await;
            h.assert_failed(&job).await;
            let row = h.server(&id).await;
            assert_eq!(row.server.status(), "ACTIVE", "step {i} {step}: prior power state restored");
            assert!(row.server.os_change_failed);
            assert_eq!(row.volumes.iter().map(|v| v.id.clone()).collect::<Vec<_>>(), vec![old.clone()], "step {step}");
            assert_eq!(h.vm_boot_disk(&id).await, Some(old.clone()), "step {step}");
            assert_eq!(h.vm_running(&id).await, Some(true), "step {step}");
            h.assert_no_orphan_disks().await;
            // The retry needs no withStopServer and succeeds.
            let job = h.reinstall(&id, false).await;
            h.assert_succeeded(&job).await;
            assert_ne!(h.server(&id).await.volumes[0].id, old);
            h.assert_no_orphan_disks().await;
        }
    }
}
