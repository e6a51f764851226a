//! Create blank volumes of the disk service: the disks, then the rows marked available.
//!
//! The request records the rows (marked `creating`) with the job, so the volumes are listed
//! from the start, as the real service lists them while it creates them. A failure deletes
//! the disks made so far and the rows: the job fails and nothing is left.

use super::SagaParams;
use crate::context::{driver_step_error, store_step_error, Ctx};
use ecs_driver::DiskSpec;
use ecs_saga::{Saga, Step, StepCx, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the saga needs; everything was decided when the request was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    pub project_id: String,
    pub volume_ids: Vec<String>,
    pub size_gb: i64,
}

impl SagaParams for Params {
    type Saga = CreateVolume;
}

/// The create saga of the disk service.
pub struct CreateVolume;

type Cx<'a> = StepCx<'a, CreateVolume>;

async fn create_disks(cx: &Cx<'_>) -> Result<Value, StepError> {
    let p = cx.params;
    for id in &p.volume_ids {
        cx.ctx.driver.disk_create(&DiskSpec::blank(id, p.size_gb)).await.map_err(driver_step_error)?;
    }
    Ok(Value::Null)
}

/// Undo of `create_disks` (and of the request): every disk and row gone. Safe for disks that
/// were never made.
async fn delete_disks(cx: &Cx<'_>) -> Result<(), StepError> {
    for id in &cx.params.volume_ids {
        cx.ctx.driver.disk_delete(id).await.map_err(driver_step_error)?;
        cx.ctx.store.volume_delete(id).await.map_err(store_step_error)?;
    }
    Ok(())
}

/// The volumes are available, in one write.
async fn mark_available(cx: &Cx<'_>) -> Result<Value, StepError> {
    let mut done = Vec::with_capacity(cx.params.volume_ids.len());
    for id in &cx.params.volume_ids {
        if let Some(mut v) = cx.ctx.store.volume_get(id).await.map_err(store_step_error)? {
            v.pending = None;
            done.push(v);
        }
    }
    // Fenced on a shared store, as every step's write: a node that stalled past its lease
    // must not write over what the saga's adopter did.
    let fence = ecs_saga::current_hold().filter(|_| cx.ctx.store.cluster().is_some());
    let b = ecs_store::Begin { insert_volumes: done, fence, ..Default::default() };
    cx.ctx.store.begin(b).await.map_err(store_step_error)?;
    Ok(Value::Null)
}

impl Saga for CreateVolume {
    type Ctx = Ctx;
    type Params = Params;
    const KIND: &'static str = "create_volume";
    const VERSION: u32 = 1;
    const STEPS: &'static [Step<Self>] = &[
        Step {
            name: "create_disks",
            forward: |cx| Box::pin(create_disks(cx)),
            undo: Some(|cx| Box::pin(delete_disks(cx))),
        },
        Step { name: "mark_available", forward: |cx| Box::pin(mark_available(cx)), undo: None },
    ];

    fn operation(p: &Params) -> &'static str {
        if p.volume_ids.len() == 1 {
            ecs_model::job::job_type::CREATE_VOLUME
        } else {
            ecs_model::job::job_type::BATCH_CREATE_VOLUME
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagas::testing::Harness;

    #[tokio::test]
    async fn volumes_are_made_with_every_step_run_twice() {
        let h = Harness::new().await;
        let (job, vols) = h.create_volumes(3).await;
        h.assert_succeeded(&job).await;
        for v in &vols {
            let row = h.volume(v).await.unwrap();
            assert_eq!((row.pending, row.server_id, row.size_gb), (None, None, 10));
        }
        h.assert_no_orphan_disks().await;
    }

    #[tokio::test]
    async fn a_failure_at_any_step_leaves_no_volume() {
        for step in CreateVolume::STEPS.iter().map(|s| s.name) {
            let h = Harness::new_plain().await;
            h.fail_next("batchCreateVolume", step).await;
            let (job, vols) = h.create_volumes(2).await;
            h.assert_failed(&job).await;
            for v in &vols {
                assert!(h.volume(v).await.is_none(), "step {step}");
            }
            h.assert_no_orphan_disks().await;
        }
    }
}
