//! Attach a volume to a server: plug it into the running VM (a stopped one gets it at its next
//! start, from its volume rows), then record it.
//!
//! The request takes both at once, in the transaction that records the job: the server's
//! `task_state` (`attaching_volume`) and the volume's row, attached to the server under its
//! device and marked `attaching`, compared with the row as it was read, so that of two
//! requests for one volume only one wins. A failure anywhere unplugs the disk (if it went in)
//! and puts both back as they were: the volume detached and available, the server idle.

use super::SagaParams;
use crate::context::{driver_step_error, Ctx};
use ecs_model::volume::Volume;
use ecs_saga::{Saga, Step, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs; everything was decided when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub server_id: String,
    /// The volume as it was before the request (detached): what an unwind puts back.
    pub before: Volume,
    /// Its device on the server (`/dev/vdb`, ...).
    pub device: String,
    /// 0 when it becomes the server's system disk, -1 for a data disk.
    pub boot_index: i64,
}

impl SagaParams for Params {
    type Saga = AttachVolume;
}

/// The attach saga.
pub struct AttachVolume;

type Cx<'a> = StepCx<'a, AttachVolume>;

/// Hot-plugs the disk if the VM runs. A system disk is attached only to a stopped server, so it
/// is never plugged in: the next start boots from it.
async fn plug(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    if p.boot_index != 0 {
        cx.ctx.driver.disk_attach(&p.server_id, &p.before.id, &p.device).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `plug` (and of the request): the disk out of the VM, the volume detached as it was,
/// the server idle. Safe whether or not the plug happened.
async fn unplug_and_release(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    if p.boot_index != 0 {
        cx.ctx.driver.disk_detach(&p.server_id, &p.before.id).await.map_err(driver_step_error)?;
    }
    cx.ctx
        .update_server_and_volumes(&p.project_id, &p.server_id, |s| s.task_state = None, vec![p.before.clone()])
        .await?;
    Ok(())
}

/// The volume is the server's, and the server idle again, in one write.
async fn record(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let attached = Volume {
        server_id: Some(p.server_id.clone()),
        boot_index: Some(p.boot_index),
        device: p.device.clone(),
        pending: None,
        ..p.before.clone()
    };
    // With the step's record and the saga's end, in the same transaction.
    let write = cx.ctx.server_write(&p.project_id, &p.server_id, |s| s.task_state = None);
    cx.write_with_log(write.with_volumes(vec![attached]));
    Ok(Value::Null)
}

impl Saga for AttachVolume {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "attach_volume";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "plug", forward: |cx| Box::pin(plug(cx)), undo: Some(|cx| Box::pin(unplug_and_release(cx))) },
        Step { name: "record", forward: |cx| Box::pin(record(cx)), undo: None },
    ];

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::ATTACH_VOLUME
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn a_volume_is_plugged_into_a_running_vm_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server().await;
        let (_, vols) = h.create_volumes(1).await;
        h.assert_succeeded(&h.attach(&id, &vols[0]).await).await;
        assert_eq!(h.vm_data_disks(&id).await, vols, "hot-plugged");
        assert_eq!(h.data_disks(&id).await, vols);
        let v = h.volume(&vols[0]).await.unwrap();
        assert_eq!((v.device.as_str(), v.pending), ("/dev/vdb", None));
        assert_eq!(h.server(&id).await.server.status(), "ACTIVE");
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn a_failure_at_any_step_leaves_the_volume_detached_and_the_server_idle() {
        for step in AttachVolume::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server().await;
            let (_, vols) = h.create_volumes(1).await;
            let before = h.volume(&vols[0]).await.unwrap();
            h.fail_next("attachVolume", step).await;
            h.assert_failed(&h.attach(&id, &vols[0]).await).await;
            assert_eq!(h.volume(&vols[0]).await.unwrap(), before, "step {step}");
            assert!(h.vm_data_disks(&id).await.is_empty(), "step {step}: unplugged");
            assert!(h.data_disks(&id).await.is_empty(), "step {step}");
            h.assert_no_orphan_disks().await;
            // Nothing is left held: the same attach now succeeds.
            h.assert_succeeded(&h.attach(&id, &vols[0]).await).await;
        }
    }
}
