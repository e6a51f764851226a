//! Detach a volume from a server: unplug it from the running VM (the guest releases it first),
//! then record it as a disk of its own, with its data.
//!
//! The request marks the server `detaching_volume` and the volume `detaching`, compared with
//! the rows as read. A failure of the unplug plugs the disk back in (if it came out) and leaves
//! the volume attached as it was. The qcow2 file is untouched either way, so what was written
//! to the disk is there when it is attached again.

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
    /// The volume as it was before the request (attached to the server).
    pub before: Volume,
}

impl SagaParams for Params {
    type Saga = DetachVolume;
}

/// The detach saga.
pub struct DetachVolume;

type Cx<'a> = StepCx<'a, DetachVolume>;

fn is_system(p: &Params) -> bool {
    p.before.is_system()
}

/// Hot-unplugs the disk if the VM runs (a system disk is detached from a stopped server only).
async fn unplug(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    if !is_system(p) {
        cx.ctx.driver.disk_detach(&p.server_id, &p.before.id).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `unplug` (and of the request): the disk back in a running VM, the volume attached as
/// it was, the server idle.
async fn replug(cx: &Cx<'_>) -> Result<(), StepError> {
    let p = cx.params;
    if !is_system(p) {
        cx.ctx.driver.disk_attach(&p.server_id, &p.before.id, &p.before.device).await.map_err(driver_step_error)?;
    }
    cx.ctx
        .update_server_and_volumes(&p.project_id, &p.server_id, |s| s.task_state = None, vec![p.before.clone()])
        .await?;
    Ok(())
}

/// The volume is a disk of its own, and the server idle again, in one write.
async fn record(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    let detached = Volume { server_id: None, boot_index: None, pending: None, ..p.before.clone() };
    // With the step's record and the saga's end, in the same transaction.
    let write = cx.ctx.server_write(&p.project_id, &p.server_id, |s| s.task_state = None);
    cx.write_with_log(write.with_volumes(vec![detached]));
    Ok(Value::Null)
}

impl Saga for DetachVolume {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "detach_volume";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "unplug", forward: |cx| Box::pin(unplug(cx)), undo: Some(|cx| Box::pin(replug(cx))) },
        Step { name: "record", forward: |cx| Box::pin(record(cx)), undo: None },
    ];

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::DETACH_VOLUME
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn a_volume_is_unplugged_and_kept_with_every_step_run_twice() {
        let h = Harness::new().await;
        let id = h.create_server_with_data_disks().await;
        let data = h.data_disks(&id).await;
        h.assert_succeeded(&h.detach(&id, &data[0]).await).await;
        assert_eq!(h.vm_data_disks(&id).await, [data[1].clone()], "unplugged");
        let v = h.volume(&data[0]).await.expect("the volume stays");
        assert_eq!((v.server_id, v.boot_index, v.pending), (None, None, None));
        h.assert_no_orphan_disks().await;
        // Attached again, the same disk goes back.
        h.assert_succeeded(&h.attach(&id, &data[0]).await).await;
        assert_eq!(h.data_disks(&id).await.len(), 2);
    }

    #[tokio::test]
    async fn a_failure_at_any_step_leaves_the_volume_attached() {
        for step in DetachVolume::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            let id = h.create_server_with_data_disks().await;
            let data = h.data_disks(&id).await;
            let before = h.volume(&data[0]).await.unwrap();
            h.fail_next("detachVolume", step).await;
            h.assert_failed(&h.detach(&id, &data[0]).await).await;
            assert_eq!(h.volume(&data[0]).await.unwrap(), before, "step {step}");
            let mut plugged = h.vm_data_disks(&id).await;
            plugged.sort();
            let mut want = data.clone();
            want.sort();
            assert_eq!(plugged, want, "step {step}: plugged in again");
            h.assert_no_orphan_disks().await;
            h.assert_succeeded(&h.detach(&id, &data[0]).await).await;
        }
    }
}
