//! Delete a volume of the disk service: its disk, then its row.
//!
//! The request marks the (detached) volume `deleting`, compared with the row as read, so that
//! no attach can take it meanwhile. Deleting the disk cannot be undone, so both steps are past
//! the point of no return: a failure is retried, never unwound.

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
        Step { name: "delete_disk", forward: |cx| Box::pin(delete_disk(cx)), undo: None },
        Step { name: "remove_record", forward: |cx| Box::pin(remove_record(cx)), undo: None },
    ];
    const NO_RETURN: Option<&'static str> = Some("delete_disk");

    fn operation(_: &Params) -> &'static str {
        ecs_model::job::job_type::DELETE_VOLUME
    }
}
