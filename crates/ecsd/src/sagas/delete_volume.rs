//! Delete a volume of the disk service: its disk, then its row.
//!
//! The request marks the (detached) volume `deleting`, compared with the row as read, so that
//! no attach can take it meanwhile. Deleting the disk cannot be undone, so it and what follows
//! are past the point of no return: a failure there is retried, never unwound. Before it, the
//! volume is only held, and an unwind gives it back available.

use super::SagaParams;
use crate::context::{driver_step_error, store_step_error, Ctx};
use ecs_saga::{Saga, Step, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub volume_id: String,
}

impl SagaParams for Params {
    type Saga = DeleteVolume;
}

/// The delete saga of the disk service.
pub struct DeleteVolume;

type Cx<'a> = StepCx<'a, DeleteVolume>;

/// The volume is held since the request; nothing more to do before the disk goes.
async fn hold(_cx: &Cx<'_>) -> Result<Value, StepError> {
    Ok(Value::Null)
}

/// Undo of the request: the volume available again, as it was.
async fn release(cx: &Cx<'_>) -> Result<(), StepError> {
    if let Some(mut v) = cx.ctx.store.volume_get(&cx.params.volume_id).await.map_err(store_step_error)? {
        v.pending = None;
        cx.ctx.store.volume_put(v).await.map_err(store_step_error)?;
    }
    Ok(())
}

async fn delete_disk(cx: &Cx<'_>) -> Result<Value, StepError> {
    cx.ctx.driver.disk_delete(&cx.params.volume_id).await.map_err(driver_step_error)?;
    Ok(Value::Null)
}

async fn remove_record(cx: &Cx<'_>) -> Result<Value, StepError> {
    cx.ctx.store.volume_delete(&cx.params.volume_id).await.map_err(store_step_error)?;
    Ok(Value::Null)
}

impl Saga for DeleteVolume {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "delete_volume";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step { name: "hold", forward: |cx| Box::pin(hold(cx)), undo: Some(|cx| Box::pin(release(cx))) },
        Step { name: "delete_disk", forward: |cx| Box::pin(delete_disk(cx)), undo: None },
        Step { name: "remove_record", forward: |cx| Box::pin(remove_record(cx)), undo: None },
    ];
    const NO_RETURN: Option<&'static str> = Some("delete_disk");

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::DELETE_VOLUME
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn a_volume_goes_with_every_step_run_twice() {
        let h = Harness::new().await;
        let (_, vols) = h.create_volumes(1).await;
        h.assert_succeeded(&h.delete_volume(&vols[0]).await).await;
        assert!(h.volume(&vols[0]).await.is_none());
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn a_failure_before_the_disk_goes_leaves_the_volume_available() {
        // The steps from the point of no return on are retried, never unwound (as a reinstall's
        // delete_old_disk); the ones before it can fail.
        let steps = DeleteVolume::STEPS.iter().map(|s| s.name).take_while(|s| Some(*s) != DeleteVolume::NO_RETURN);
        for step in steps {
            let h = Harness::new_plain().await;
            let (_, vols) = h.create_volumes(1).await;
            let before = h.volume(&vols[0]).await.unwrap();
            h.fail_next("deleteVolume", step).await;
            h.assert_failed(&h.delete_volume(&vols[0]).await).await;
            assert_eq!(h.volume(&vols[0]).await.unwrap(), before, "step {step}");
            h.assert_no_orphan_disks().await;
            h.assert_succeeded(&h.delete_volume(&vols[0]).await).await;
        }
    }
}
